#!/bin/sh
# Usage: scripts/bench-report.sh DIR
# Turn DIR/raw/KERNEL-ROUND.log (pagemap_bench output of each guest) into the
# table (stdout and DIR/results.txt), DIR/results.csv, DIR/results.json, the
# target checks and the plots DIR/sparse.png and DIR/ratios.png. All samples of
# all rounds of a kernel are pooled: median, min and max. Ratios are
# "times faster than ours" figures: mainline/ours and base/ours (> 1: ours is
# faster); "x first" is this row over the first row of its case (same unit) on
# our kernel, i.e. an old interface against PAGEMAP_SCAN / async WP.
set -eu
dir=$1
rm -f "$dir"/*.dat "$dir"/*.dat2 "$dir"/*.png "$dir"/*.gnuplot.log
cat "$dir"/raw/ours-*.log "$dir"/raw/ref-*.log "$dir"/raw/base-*.log 2>/dev/null |
	grep '^# guest:' | sort -u >"$dir/guests.txt" || true
for k in ours ref base; do
	for f in "$dir"/raw/$k-*.log; do
		[ -f "$f" ] || continue
		sed -n "s/^\\([RD]\\) /$k \\1 /p" "$f"
	done
done | awk -v csv="$dir/results.csv" -v json="$dir/results.json" -v sweep="$dir/sparse.dat" \
	-v rat="$dir/ratios.dat" -v targets="$dir/targets.txt" '
function sortn(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
}
function stat(k, key,   n, a, m) {
	if (!((k, key) in s)) { med = "n/a"; lo = hi = ""; return }
	n = split(s[k, key], a, " ")
	sortn(a, n)
	med = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	lo = a[1]; hi = a[n]
}
function fmt(v) { return v == "n/a" || v == "" ? v : v >= 100 ? sprintf("%.0f", v) : v >= 10 ? sprintf("%.1f", v) : v >= 1 ? sprintf("%.2f", v) : sprintf("%.3g", v) }
function ratio(a, b) { return (a == "n/a" || a == "" || b == "n/a" || b == "" || b == 0) ? "n/a" : sprintf("%.2f", a / b) }
function jstr(v) { gsub(/\\/, "\\\\", v); gsub(/"/, "\\\"", v); return "\"" v "\"" }
function jnum(v) { return v == "n/a" || v == "" ? "null" : v }
$2 == "D" { d = $0; sub(/^[^ ]+ D [^ ]+ /, "", d); if (!($3 in descr)) descr[$3] = d; next }
$2 == "R" {
	k = $1; key = $3
	if (!(key in unit)) { order[++nk] = key; unit[key] = $4 }
	if ($5 == "n/a") { why[k, key] = $0; sub(/^[^ ]+ R [^ ]+ [^ ]+ n\/a ?/, "", why[k, key]); next }
	for (i = 5; i <= NF; i++) s[k, key] = s[k, key] " " $i
}
END {
	print "case,unit,ours_median,ours_min,ours_max,mainline_median,mainline_min,mainline_max,base_median,base_min,base_max,mainline_over_ours,base_over_ours,ours_over_first_of_case,description" >csv
	print "[" >json
	printf "%-44s %-6s %-22s %-22s %8s %-22s %8s %8s\n", "case", "unit", "ours med [min-max]", "mainline med [min-max]", "ml/ours", "base med [min-max]", "base/ours", "x first"
	for (i = 1; i <= nk; i++) {
		key = order[i]; u = unit[key]
		grp = key; sub(/\/.*/, "", grp)
		stat("ours", key); om = med; ol = lo; oh = hi
		stat("ref", key); rm = med; rl = lo; rh = hi
		stat("base", key); bm = med; bl = lo; bh = hi
		first = ""
		if ((grp, u) in firstkey) {
			stat("ours", firstkey[grp, u]); first = ratio(om, med)
		} else
			firstkey[grp, u] = key
		rr = ratio(rm, om); br = ratio(bm, om)
		cell_o = om == "n/a" ? "n/a" : fmt(om) " [" fmt(ol) "-" fmt(oh) "]"
		cell_r = rm == "n/a" ? "n/a" : fmt(rm) " [" fmt(rl) "-" fmt(rh) "]"
		cell_b = bm == "n/a" ? "n/a" : fmt(bm) " [" fmt(bl) "-" fmt(bh) "]"
		printf "%-44s %-6s %-22s %-22s %8s %-22s %8s %8s\n", key, u, cell_o, cell_r, rr, cell_b, br, first
		printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,\"%s\"\n", key, u, om, ol, oh, rm, rl, rh, bm, bl, bh, rr, br, first, descr[key] >csv
		printf "%s {\"case\": %s, \"unit\": %s, \"description\": %s,\n  \"ours\": {\"median\": %s, \"min\": %s, \"max\": %s},\n  \"mainline\": {\"median\": %s, \"min\": %s, \"max\": %s},\n  \"base\": {\"median\": %s, \"min\": %s, \"max\": %s},\n  \"mainline_over_ours\": %s, \"base_over_ours\": %s, \"ours_over_first_of_case\": %s}\n", (i > 1 ? "," : ""), jstr(key), jstr(u), jstr(descr[key]), jnum(om), jnum(ol), jnum(oh), jnum(rm), jnum(rl), jnum(rh), jnum(bm), jnum(bl), jnum(bh), jnum(rr), jnum(br), jnum(first) >json
		M[key] = om; R[key] = rm; B[key] = bm
		if (key ~ /^sparse(1024)?-[0-9]+T\/scan$/) { t = key; sub(/^sparse(1024)?-/, "", t); sub(/T.*/, "", t); print t, (om == "n/a" ? "NaN" : om), (rm == "n/a" ? "NaN" : rm) >(key ~ /1024/ ? sweep "2" : sweep) }
		if (rr != "n/a" || br != "n/a") print jstr(key), (rr == "n/a" ? "NaN" : rr), (br == "n/a" ? "NaN" : br) >rat
	}
	print "]" >json
	# The targets of issues 6 and 10, from the medians of this run.
	print "" >targets
	print "targets (medians of this run):" >targets
	miss = ""
	for (i = 1; i <= nk; i++) {
		key = order[i]
		if (key ~ /faults$|pagetables$/ || M[key] == "n/a" || R[key] == "n/a") continue
		if (R[key] / M[key] < 1.0) miss = miss sprintf("\n    %s %.2f", key, R[key] / M[key])
	}
	printf "  ours/mainline >= 1.0 in every case: %s%s\n", miss == "" ? "met" : "MISSED in", miss >targets
	t1(ratio(R["gww-4k-100%/get+wp"], M["gww-4k-100%/get+wp"]), ">=", 1.25, "dense GET+WP (gww-4k-100%) mainline/ours")
	t1(ratio(M["sparse-16T/pagemap-read"], M["sparse-16T/scan"]), ">=", 100, "sparse 16 TiB: pagemap read / PAGEMAP_SCAN")
	t1(ratio(M["gww-4k-1%/softdirty"], M["gww-4k-1%/get+wp"]), ">=", 10, "1 %-written: soft-dirty / GET+WP")
	t1(ratio(M["dense-4k/scan"], M["dense-4k/mincore"]), "<=", 1.5, "dense GET: PAGEMAP_SCAN / mincore")
	t1(ratio(M["sparse1024-64T/scan"], M["sparse1024-1T/scan"]), "<=", 2, "sparse cost 64 TiB / 1 TiB, same 1024 pages")
	t1(ratio(M["sparse-64T/scan"] / 65536, M["sparse-1T/scan"] / 1024), "<=", 2, "sparse 1 page/GiB: cost per page 64 / 1 TiB")
	for (i = 1; i <= nk; i++) {
		key = order[i]
		if (key !~ /^(fault-|mprotect-|uffd-sync)/ || M[key] == "n/a" || B[key] == "n/a") continue
		stat("ours", key); ospread = (hi - lo) / med
		stat("base", key); bspread = (hi - lo) / med
		printf "  %-40s ours/base %.3f (spread ours %.1f%%, base %.1f%%; target within noise, aim <= 1%%)\n", key, M[key] / B[key], 100 * ospread, 100 * bspread >targets
	}
}
function t1(v, op, want, what) {
	ok = v != "n/a" && (op == ">=" ? v + 0 >= want : v + 0 <= want)
	printf "  %-48s %8s (target %s %s) %s\n", what, v, op, want, v == "n/a" ? "n/a" : ok ? "met" : "MISSED" >targets
}' >"$dir/results.txt"
cat "$dir/targets.txt" >>"$dir/results.txt"
{ echo "guests:"; sed 's/^/  /' "$dir/guests.txt"; } >>"$dir/results.txt"
cat "$dir/results.txt"

# has FILE COLUMN: some row of FILE has a number in COLUMN (a kernel left out
# of BENCH_KERNELS leaves its column all NaN, which gnuplot refuses to plot)
has() { [ -s "$1" ] && awk -v c="$2" '$c != "" && $c != "NaN" { f = 1 } END { exit !f }' "$1"; }
# plot NAME COMMANDS CURVES: DIR/NAME.png from gnuplot COMMANDS and the plot
# CURVES (comma separated; none: no plot); says what came out.
plot() {
	if [ -z "$3" ]; then
		echo "bench-report: no $1.png (no kernel of this run has data for it)"
		return 0
	fi
	if printf '%s\nset output "%s"\nplot %s\n' "$2" "$dir/$1.png" "$3" |
		gnuplot >"$dir/$1.gnuplot.log" 2>&1 && [ -s "$dir/$1.png" ]; then
		echo "bench-report: plot $dir/$1.png"
	else
		rm -f "$dir/$1.png"
		echo "bench-report: gnuplot did not make $1.png:" >&2
		sed 's/^/  /' "$dir/$1.gnuplot.log" >&2
	fi
}
# curve FILE COLUMN SPEC: ", FILE using SPEC title ..." when COLUMN has data
curve() { has "$1" "$2" && printf ', "%s" using %s' "$1" "$3"; return 0; }

if ! command -v gnuplot >/dev/null; then
	echo "bench-report: no gnuplot, no plots"
	exit 0
fi
c=$(curve "$dir/sparse.dat" 2 '1:2 with linespoints title "ours, 1 page/GiB"')
c=$c$(curve "$dir/sparse.dat" 3 '1:3 with linespoints title "mainline 6.12, 1 page/GiB"')
c=$c$(curve "$dir/sparse.dat2" 2 '1:2 with linespoints title "ours, 1024 pages"')
c=$c$(curve "$dir/sparse.dat2" 3 '1:3 with linespoints title "mainline 6.12, 1024 pages"')
plot sparse 'set terminal png size 800,500
set title "PAGEMAP_SCAN(PRESENT) over a sparse mapping" noenhanced
set logscale xy
set xlabel "mapping size (TiB)"
set ylabel "ms per call (median)"
set key left top
set xtics (1, 4, 16, 64)' "${c#, }"
c=$(curve "$dir/ratios.dat" 2 '2:xtic(1) title "mainline 6.12 / ours"')
c=$c$(curve "$dir/ratios.dat" 3 '3:xtic(1) title "base 6.1 / ours"')
[ -z "$c" ] || c="$c, 1 with lines lc rgb \"black\" notitle"
plot ratios 'set terminal png size 1600,800
set logscale y
set title "times slower than ours (median; > 1: ours is faster)"
set ylabel "ratio"
set xtics rotate by -60 font ",8" noenhanced
set bmargin 18
set style data histograms
set style fill solid 0.8
set key right top
set yrange [0.1:*]' "${c#, }"
