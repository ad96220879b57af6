#!/bin/sh
# TAP tests of tools/vm/pagescan against pagescan-demo's known layout: the
# table and the JSON of `pagescan list`, its range, filter, max-pages and
# summary options (exact output), --compare-pagemap and its cap, `pagescan
# watch` by default and in the two modes that change the target, a write
# tracker in the target (Wine's GetWriteWatch, a soft-dirty pre-dump) that
# loses no write to the default watch and loses writes to the others, and
# the answers to bad arguments.  Nothing here assumes the page, THP or
# hugetlb size; what the kernel lacks (uffd-wp, soft-dirty on arm64 6.1,
# hugetlb pages) changes the expected output or skips, and says so.
set -u
tmp=/tmp/pagescan-test
mkdir -p $tmp
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# check DESC: ok if the last command list succeeded, else not ok.
check() { if [ $? -eq 0 ]; then ok "$1"; else notok "$1"; fi; }
# expect_fail DESC STATUS MESSAGE CMD...: CMD exits with STATUS, MESSAGE on stderr.
expect_fail() {
	desc=$1 want=$2 msg=$3
	shift 3
	"$@" >$tmp/out 2>$tmp/err
	rc=$?
	if [ $rc -eq "$want" ] && grep -qF -- "$msg" $tmp/err && [ ! -s $tmp/out ]; then
		ok "$desc"
	else
		echo "# $*: exit $rc (want $want, and '$msg' on stderr), stderr:"
		sed 's/^/#   /' $tmp/err
		notok "$desc"
	fi
}
# start_demo ARGS...: pagescan-demo in the background, $demo its PID once ready.
start_demo() {
	rm -f $tmp/demo
	pagescan-demo "$@" >$tmp/demo 2>&1 &
	demo=$!
	wait_ready $tmp/demo $demo
}
wait_ready() { # FILE PID
	i=0
	while ! grep -q '^ready$' "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$2" 2>/dev/null; then
			sed 's/^/# demo: /' "$1"
			return 1
		fi
		sleep 0.1
	done
}
stop_demo() { kill $demo 2>/dev/null; wait $demo 2>/dev/null; }

# Expected `pagescan list` tables.  Addresses are numbers; vma and run print
# a line as pagescan does; runs that touch with equal categories are joined,
# as the kernel joins them.
sz() { # BYTES: pagescan's size format
	awk -v b="$1" 'BEGIN {
		if (b < 1024) { printf "%dB\n", b; exit }
		v = b / 1024; u = "KMGTPE"; i = 1
		while (v >= 1024 && i < 6) { v /= 1024; i++ }
		if (v == int(v)) printf "%d%s\n", v, substr(u, i, 1)
		else printf "%.1f%s\n", v, substr(u, i, 1)
	}'
}
pend=
flush() {
	[ -n "$pend" ] && printf '  %012x-%012x %8d %7s  %s\n' $pend_s $pend_e \
		$(((pend_e - pend_s) / page)) "$(sz $((pend_e - pend_s)))" "$pend_c"
	pend=
}
vma() { # START END PERM-AND-NAME
	flush
	printf '%012x-%012x %10d %7s  %s\n' $1 $2 $((($2 - $1) / page)) "$(sz $(($2 - $1)))" "$3"
}
run() { # START END CATEGORIES
	if [ -n "$pend" ] && [ $pend_e -eq $1 ] && [ "$pend_c" = "$3" ]; then
		pend_e=$2
		return
	fi
	flush
	pend=1 pend_s=$1 pend_e=$2 pend_c=$3
}
line() { flush; echo "$*"; }
head_lines() { # NR-VMAS MAPPED-BYTES CALLS
	line "PID $demo: $1 VMAs, $(sz $2) mapped in the range; $3 PAGEMAP_SCAN calls took T ms"
	line "VMA / RUN OF PAGES             PAGES    SIZE  PERM MAPPING / CATEGORIES"
}
# block ADDR FUNCTION: what FUNCTION prints, put in address order by blocks.
block() { "$2" >$tmp/blk.$1; flush >>$tmp/blk.$1; }
blocks() {
	for f in $(ls $tmp/blk.* | sort -t. -k2 -n); do cat $f; done
	rm -f $tmp/blk.*
}
hidden="(written is shown only in uffd-wp-async VMAs: in the others every page counts as written)"
hex() { printf '%x' $1; }
# same DESC CMD...: CMD's output, timing aside, is $tmp/want exactly.
same() {
	desc=$1
	shift
	flush
	"$@" >$tmp/got 2>$tmp/err
	rc=$?
	sed -i 's/ took [0-9.]* ms$/ took T ms/' $tmp/got
	if [ $rc -eq 0 ] && [ ! -s $tmp/err ] && cmp -s $tmp/want $tmp/got; then
		ok "$desc"
	else
		echo "# $*: exit $rc; stderr:"
		sed 's/^/#   /' $tmp/err
		diff $tmp/want $tmp/got | sed 's/^/# /'
		notok "$desc"
	fi
}

echo "1..53"

# 1-6: list of the whole process, against the layout the demo reports in
# its expect-* lines.  A reservation of 2^28 pages, for the pagemap cap.
page=$(($(awk '/^KernelPageSize:/ { print $2 * 1024; exit }' /proc/self/smaps)))
if start_demo -s -t 600 -r $((page / 4)); then
	ok "pagescan-demo sets up its layout"
else
	notok "pagescan-demo sets up its layout"
fi
grep -v '^expect-' $tmp/demo | sed 's/^/# /'
page=$(sed -n 's/.*page size \([0-9]*\),.*/\1/p' $tmp/demo)
async=$(grep -c 'async uffd-wp: yes' $tmp/demo)
sd=$(grep -c 'soft-dirty: yes' $tmp/demo)
addr() { # REGION [N]: the start of chunk N (default 0) of a region of the layout
	a=$(awk -v r="$1" -v k="${2:-0}" '
		$1 == r { split($2, x, "-"); if (k == 0) { print x[1]; exit }; want = 1; i = 0; next }
		want && $1 ~ /^[0-9a-f]+-[0-9a-f]+$/ { if (++i == k) { split($1, x, "-"); print x[1]; exit }; next }
		{ want = 0 }' $tmp/demo)
	[ -n "$a" ] && echo $((0x$a))
}
heap=$(addr heap)
chunk0=$(addr reserve 0)
chunk1=$(addr reserve 1)
thp=$(addr thp)
file=$(addr file)
huge=$(addr hugetlb)
pmd=$(cat /sys/kernel/mm/transparent_hugepage/hpage_pmd_size 2>/dev/null)
pmd=${pmd:-0}
hsize=$(awk '/^Hugepagesize:/ { print $2 * 1024 }' /proc/meminfo)
hsize=${hsize:-0}
echo "# page $page, PMD $pmd, hugetlb page $hsize; async uffd-wp $async, soft-dirty $sd"

pagescan list --json $demo >$tmp/json 2>$tmp/err
rc=$?
[ $rc -eq 0 ] && head -n 1 $tmp/json | grep -q "^{\"pid\": $demo, \"page_size\": $page, \"vmas\": \[$" &&
	[ "$(tail -n 1 $tmp/json)" = '], "stopped_at": null}' ] &&
	[ "$(sed '1d;$d' $tmp/json | grep -vc '^{"start": "0x[0-9a-f]*", "end": "0x[0-9a-f]*", "perms": "[-rwxsp]\{4\}", .*, "runs": \[.*\]},\{0,1\}$')" = 0 ] &&
	[ "$(sed '1d;$d' $tmp/json | wc -l)" = "$(grep -c . /proc/$demo/maps)" ]
check "list --json: one JSON document, one line per VMA of /proc/PID/maps"

# The expected JSON line of each VMA of the layout, runs and all.
awk '
	function jcats(c,   a, k, i, s) {
		k = split(c, a, ","); s = ""
		for (i = 1; i <= k; i++) s = s (i > 1 ? ", " : "") "\"" a[i] "\""
		return s
	}
	function flush() { if (cur != "") print cur "]}"; cur = "" }
	$1 == "expect-vma" {
		flush(); name = ""
		for (i = 6; i <= NF; i++) name = name (i > 6 ? " " : "") $i
		cur = sprintf("{\"start\": \"0x%s\", \"end\": \"0x%s\", \"perms\": \"%s\", \"name\": \"%s\", \"uffd_wp_async\": %s, \"runs\": [", $2, $3, $4, name, $5)
		nr = 0
	}
	$1 == "expect-run" {
		cur = cur (nr++ ? ", " : "") sprintf("{\"start\": \"0x%s\", \"end\": \"0x%s\", \"pages\": %s, \"categories\": [%s]}", $2, $3, $4, jcats($5))
	}
	END { flush() }' $tmp/demo >$tmp/want-json
miss=0
while IFS= read -r l; do
	grep -qxF "$l" $tmp/json || grep -qxF "$l," $tmp/json ||
		{ miss=$((miss + 1)); echo "# missing: $l"; }
done <$tmp/want-json
[ -s $tmp/want-json ] && [ $miss = 0 ]
check "list --json: the $(wc -l <$tmp/want-json) VMAs of the layout with exactly their runs ($miss wrong)"

# The table: each VMA of the layout, its size, and exactly its runs with
# their pages, sizes and categories ("written" only where registered).
pagescan list $demo >$tmp/table 2>$tmp/err
rc=$?
awk -v page="$page" '
	function pad(s) { while (length(s) < 12) s = "0" s; return s }
	function size(pages,   b, u, i) {
		b = pages * page / 1024; u = "KMGTPE"; i = 1
		while (b >= 1024 && i < 6) { b /= 1024; i++ }
		return (b == int(b) ? sprintf("%d", b) : sprintf("%.1f", b)) substr(u, i, 1)
	}
	FNR == 1 { file++ }
	file == 1 && $1 == "expect-vma" {
		v = pad($2) "-" pad($3); order[++nv] = v; want[v] = ""
		name = ""
		for (i = 6; i <= NF; i++) name = name (i > 6 ? " " : "") $i
		head[v] = sprintf("%s %s%s", $4, name == "" ? "[anon]" : name, $5 == "true" ? " uffd-wp-async" : "")
	}
	file == 1 && $1 == "expect-run" {
		c = $5; gsub(",", " ", c)
		want[v] = want[v] sprintf("|%s-%s %d %s  %s", pad($2), pad($3), $4, size($4), c)
	}
	file == 2 && /^[0-9a-f]+-[0-9a-f]+ / {
		cur = $1; h = $0; sub(/^[0-9a-f]+-[0-9a-f]+ +[0-9]+ +[^ ]+  /, "", h)
		got_head[cur] = h; got[cur] = ""
	}
	file == 2 && /^  [0-9a-f]+-/ {
		c = $0; sub(/^  [0-9a-f]+-[0-9a-f]+ +[0-9]+ +[^ ]+  /, "", c)
		got[cur] = got[cur] sprintf("|%s %d %s  %s", $1, $2, $3, c)
	}
	END {
		bad = 0
		for (i = 1; i <= nv; i++) {
			v = order[i]
			if (got[v] != want[v] || got_head[v] != head[v]) {
				bad++
				print "# VMA " v ": want " head[v] want[v]
				print "#   got " got_head[v] got[v]
			}
		}
		exit bad != 0 || nv == 0
	}' $tmp/demo $tmp/table >$tmp/diff
same=$?
cat $tmp/diff
[ $rc -eq 0 ] && [ $same -eq 0 ] && grep -qxF "$hidden" $tmp/table
check "list: the VMAs of the layout with exactly their runs, sizes and categories, and the note on written"

pagescan list --json --vec-len 1 $demo >$tmp/json1 2>$tmp/err
cmp -s $tmp/json $tmp/json1 || diff $tmp/json $tmp/json1 | head -n 20 | sed 's/^/# /'
cmp -s $tmp/json $tmp/json1
check "list --json --vec-len 1: resumed from walk_end after every region, same output"

# The pagemap comparison: the VMAs hold more than 2^27 pages, so it warns
# and reads only the first 2^27 entries; both ways count the same pages.
pagescan list --compare-pagemap $demo >$tmp/cmp 2>$tmp/err
rc=$?
l=$(tail -n 1 $tmp/cmp)
echo "# $l"
sed 's/^/# stderr: /' $tmp/err
a=$(echo "$l" | sed -n 's/^same query via .* ms for 134217728 entries (1G read, capped; the VMAs hold [0-9.]*[KMGTPE]), \([0-9]*\) populated pages; PAGEMAP_SCAN: [0-9.]* ms, \([0-9]*\) populated pages (.*)$/\1 \2/p')
[ $rc -eq 0 ] && [ -n "$a" ] && [ "${a% *}" = "${a#* }" ] && [ "${a% *}" -gt 0 ] &&
	grep -q "^pagescan: --compare-pagemap: the VMAs hold [0-9]* pages; comparing over the first 134217728 only (1G of pagemap entries)$" $tmp/err
check "list --compare-pagemap: warns, reads only 2^27 entries; both ways find the same ${a% *} populated pages"

# 7-18: the range, filter, max-pages and summary options, exact output.
U= W= S=
[ "$async" = 1 ] && U=" uffd-wp-async" W=" written"
[ "$sd" = 1 ] && S=" soft-dirty"
# Heap pages 16-31, written since the demo write-protected the heap and
# cleared soft-dirty: written where registered, soft-dirty where tracked.
hw=$((16 * async)) hs=$((16 * sd))
note() { [ "$1" = 1 ] || line "$hidden"; }

# Unaligned bounds, rounded out: heap pages 8 to 39.
{
	head_lines 1 $((32 * page)) 1
	vma $((heap + 8 * page)) $((heap + 40 * page)) "rw-p [anon]$U"
	run $((heap + 8 * page)) $((heap + 16 * page)) "present"
	run $((heap + 16 * page)) $((heap + 32 * page)) "present$W$S"
	run $((heap + 32 * page)) $((heap + 40 * page)) "present"
	line "total: 32 populated pages ($(sz $((32 * page)))), present 32, swapped 0, written $hw, file 0, huge 0, zero-page 0, soft-dirty $hs"
	note $async
} >$tmp/want
same "list -a ADDR,END: the pages of the range only, bounds rounded out to pages" \
	pagescan list -a $(hex $((heap + 8 * page + 5))),$(hex $((heap + 39 * page + 7))) $demo

# A byte range across a page boundary: both pages.
{
	head_lines 1 $((2 * page)) 1
	vma $((heap + 15 * page)) $((heap + 17 * page)) "rw-p [anon]$U"
	run $((heap + 15 * page)) $((heap + 16 * page)) "present"
	run $((heap + 16 * page)) $((heap + 17 * page)) "present$W$S"
	line "total: 2 populated pages ($(sz $((2 * page)))), present 2, swapped 0, written $((hw / 16)), file 0, huge 0, zero-page 0, soft-dirty $((hs / 16))"
	note $async
} >$tmp/want
same "list -a ADDR+SIZE: 2 bytes across a page boundary are 2 pages" \
	pagescan list -a $(hex $((heap + 16 * page - 1)))+2 $demo

# The heap pages the demo's own write tracking counts as not written.
{
	head_lines 1 $((1024 * page)) 1
	if [ "$async" = 1 ]; then
		vma $heap $((heap + 1024 * page)) "rw-p [anon]$U"
		run $heap $((heap + 16 * page)) "present"
		run $((heap + 32 * page)) $((heap + 512 * page)) "present"
		run $((heap + 512 * page)) $((heap + 544 * page)) "swapped"
		run $((heap + 544 * page)) $((heap + 1024 * page)) "present"
		line "total: 1008 pages ($(sz $((1008 * page)))) matching -b ~written, present 976, swapped 32, written 0, file 0, huge 0, zero-page 0, soft-dirty 0"
	else
		line "total: 0 pages (0B) matching -b ~written, present 0, swapped 0, written 0, file 0, huge 0, zero-page 0, soft-dirty 0"
	fi
} >$tmp/want
same "list -b ~written: the protected heap pages (none without async uffd-wp)" \
	pagescan list -a $(hex $heap),$(hex $((heap + 1024 * page))) -b '~written' $demo

# -b huge over the THP and hugetlb regions: an empty hugetlb entry is huge.
thp_block() {
	vma $thp $((thp + 2 * pmd)) "rw-p [anon]"
	run $thp $((thp + pmd)) "present huge"
	run $((thp + pmd)) $((thp + 2 * pmd)) "present huge zero-page"
}
huge_block() {
	vma $huge $((huge + 2 * hsize)) "rw-p /anon_hugepage (deleted)"
	run $huge $((huge + hsize)) "present huge$S"
	run $((huge + hsize)) $((huge + 2 * hsize)) "huge"
}
if [ -n "$thp" ] && [ -n "$huge" ]; then
	{
		head_lines 2 $((2 * pmd + 2 * hsize)) 2
		block $thp thp_block
		block $huge huge_block
		blocks
		h=$(((2 * pmd + 2 * hsize) / page))
		line "total: $h pages ($(sz $((h * page)))) matching -b huge, present $(((2 * pmd + hsize) / page)), swapped 0, written 0, file 0, huge $h, zero-page $((pmd / page)), soft-dirty $((hs ? hsize / page : 0))"
		line "$hidden"
	} >$tmp/want
	same "list -b huge over a THP and a hugetlb mapping: both, and the empty hugetlb entry" \
		pagescan list -a $(hex $thp),$(hex $((thp + 2 * pmd))) \
		-a $(hex $huge)+$((2 * hsize)) -b huge $demo
else
	skip "list -b huge over a THP and a hugetlb mapping" "no THP or no hugetlb page here"
fi

# Any of file, zero-page: the chunk's zero pages and the file's pages.
file_block() {
	vma $file $((file + 256 * page)) "rw-s /tmp/pagescan-demo.dat"
	run $file $((file + 128 * page)) "present file"
}
zero_block() {
	vma $chunk0 $((chunk0 + 16 * page)) "rw-p [anon]"
	run $((chunk0 + 8 * page)) $((chunk0 + 10 * page)) "present zero-page"
}
{
	head_lines 2 $((16 * page + 256 * page)) 2
	block $file file_block
	block $chunk0 zero_block
	blocks
	line "total: 130 pages ($(sz $((130 * page)))) matching -b file,zero-page, present 130, swapped 0, written 0, file 128, huge 0, zero-page 2, soft-dirty 0"
	line "$hidden"
} >$tmp/want
same "list -b file,zero-page: pages in any of the categories (category_anyof_mask)" \
	pagescan list -a $(hex $chunk0)+$((16 * page)) -a $(hex $file)+$((256 * page)) \
	-b file,zero-page $demo

# All of present and not zero-page, and any of huge, file: three masks.
thp_huge_block() {
	vma $thp $((thp + 2 * pmd)) "rw-p [anon]"
	run $thp $((thp + pmd)) "present huge"
}
tp=0
[ -n "$thp" ] && tp=$pmd
{
	if [ -n "$thp" ]; then
		head_lines 3 $((16 * page + 256 * page + 2 * pmd)) 3
		block $thp thp_huge_block
	else
		head_lines 2 $((16 * page + 256 * page)) 2
	fi
	block $file file_block
	blocks
	t=$((128 + tp / page))
	line "total: $t pages ($(sz $((t * page)))) matching -b present,~zero-page -b huge,file, present $t, swapped 0, written 0, file 128, huge $((tp / page)), zero-page 0, soft-dirty 0"
	line "$hidden"
} >$tmp/want
thp_range=
[ -n "$thp" ] && thp_range="-a $(hex $thp),$(hex $((thp + 2 * pmd)))"
same "list -b present,~zero-page -b huge,file: category_mask, _inverted and _anyof_mask together" \
	pagescan list -a $(hex $chunk0)+$((16 * page)) -a $(hex $file)+$((256 * page)) $thp_range \
	-b present,~zero-page -b huge,file $demo

# --max-pages: cut inside a run, and across VMAs.
{
	head_lines 1 $((1024 * page)) 1
	vma $heap $((heap + 1024 * page)) "rw-p [anon]$U"
	run $heap $((heap + 16 * page)) "present"
	run $((heap + 16 * page)) $((heap + 20 * page)) "present$W$S"
	line "total: 20 populated pages ($(sz $((20 * page)))), present 20, swapped 0, written $((hw / 4)), file 0, huge 0, zero-page 0, soft-dirty $((hs / 4))"
	note $async
	line "stopped at --max-pages 20: pages from $(hex $((heap + 20 * page))) on were not scanned"
} >$tmp/want
same "list -m 20: the first 20 pages, and where it stopped" \
	pagescan list -a $(hex $heap),$(hex $((heap + 1024 * page))) -m 20 $demo
{
	head_lines 2 $((32 * page)) 2
	vma $chunk0 $((chunk0 + 16 * page)) "rw-p [anon]"
	run $chunk0 $((chunk0 + 4 * page)) "present"
	run $((chunk0 + 8 * page)) $((chunk0 + 10 * page)) "present zero-page"
	vma $chunk1 $((chunk1 + 16 * page)) "rw-p [anon]"
	run $chunk1 $((chunk1 + 2 * page)) "present"
	line "total: 8 populated pages ($(sz $((8 * page)))), present 8, swapped 0, written 0, file 0, huge 0, zero-page 2, soft-dirty 0"
	line "$hidden"
	line "stopped at --max-pages 8: pages from $(hex $((chunk1 + 2 * page))) on were not scanned"
} >$tmp/want
same "list --max-pages 8 over two chunks of 6 pages: one and a third of the next" \
	pagescan list -a $(hex $chunk1)+$((16 * page)) -a $(hex $chunk0)+$((16 * page)) \
	--max-pages 8 $demo

{
	head_lines 1 $((16 * page)) 1
	vma $chunk0 $((chunk0 + 16 * page)) "rw-p [anon]"
	run $chunk0 $((chunk0 + 4 * page)) "present"
	run $((chunk0 + 8 * page)) $((chunk0 + 10 * page)) "present zero-page"
	line "total: 6 populated pages ($(sz $((6 * page)))), present 6, swapped 0, written 0, file 0, huge 0, zero-page 2, soft-dirty 0"
	line "$hidden"
} >$tmp/want
same "list --max-pages 6 over a chunk of 6 pages: all of them, and no stop" \
	pagescan list -a $(hex $chunk0)+$((16 * page)) --max-pages 6 $demo

# --summary: pages per combination of categories, in the order of their bits.
{
	line "PID $demo: 2 VMAs, $(sz $((1040 * page))) mapped in the range; 2 PAGEMAP_SCAN calls took T ms"
	line "     PAGES     SIZE  CATEGORIES"
	row() { printf '%10d %8s  %s\n' $1 "$(sz $(($1 * page)))" "$2"; }
	if [ "$async" = 1 ]; then
		row 4 "present"
		row 976 "present wp-allowed"
		[ "$sd" = 1 ] || row 16 "present written wp-allowed"
		row 32 "swapped wp-allowed"
		row 2 "present zero-page"
		[ "$sd" = 1 ] && row 16 "present written soft-dirty wp-allowed"
	else
		row $((996 - hs)) "present"
		row 32 "swapped"
		row 2 "present zero-page"
		[ "$sd" = 1 ] && row 16 "present soft-dirty"
	fi
	line "total: 1030 populated pages ($(sz $((1030 * page)))), present 998, swapped 32, written $hw, file 0, huge 0, zero-page 2, soft-dirty $hs, wp-allowed $((1024 * async))"
	line "$hidden"
} >$tmp/want
same "list --summary: pages per set of categories, ordered by their bits" \
	pagescan list -s -a $(hex $heap)+$((1024 * page)) -a $(hex $chunk0)+$((16 * page)) $demo

# JSON with a filter, and the JSON summary with a stop.
{
	line "{\"pid\": $demo, \"page_size\": $page, \"vmas\": ["
	line "{\"start\": \"0x$(hex $heap)\", \"end\": \"0x$(hex $((heap + 1024 * page)))\", \"perms\": \"rw-p\", \"name\": \"\", \"uffd_wp_async\": $([ "$async" = 1 ] && echo true || echo false), \"runs\": [{\"start\": \"0x$(hex $((heap + 512 * page)))\", \"end\": \"0x$(hex $((heap + 544 * page)))\", \"pages\": 32, \"categories\": [\"swapped\"]}]}"
	line '], "stopped_at": null}'
} >$tmp/want
same "list --json -b swapped: the heap's swapped run only" \
	pagescan list --json -a $(hex $heap),$(hex $((heap + 1024 * page))) -b swapped $demo
{
	line "{\"pid\": $demo, \"page_size\": $page, \"summary\": ["
	line '{"categories": ["present"], "pages": 4},'
	line '{"categories": ["present", "zero-page"], "pages": 1}'
	line "], \"stopped_at\": \"0x$(hex $((chunk0 + 9 * page)))\"}"
} >$tmp/want
same "list --json --summary -m 5: the summary of the first 5 pages, and where it stopped" \
	pagescan list --json --summary -m 5 -a $(hex $chunk0)+$((16 * page)) $demo
stop_demo

# 19-24: watch, on the demo writing its heap in bursts, tracking its own
# writes (GetWriteWatch with reset) where it can, paging out and mapping.
start_demo -t 120 -r 64 || true
heap=$(addr heap)
hr="$(printf '%012x-%012x' $heap $((heap + 1024 * page))) \[anon\]"
pagescan watch -n 6 -i 0.5 $demo >$tmp/watch 2>$tmp/err
rc=$?
sed 's/^/# /' $tmp/watch $tmp/err
[ $rc -eq 0 ] && [ ! -s $tmp/err ] &&
	grep -qx "watching PID $demo every 0.5s by snapshots of its populated pages (read-only)" $tmp/watch &&
	[ "$(grep -c '^ *[0-9.]*s [0-9]* new, [0-9]* freed, [0-9]* swapped out, [0-9]* swapped in, [0-9]* written, [0-9]* write-protected$' $tmp/watch)" = 6 ] &&
	scratch=$(sed -n 's/^    \([0-9a-f]*-[0-9a-f]*\) .*: new 16 pages.*/\1/p' $tmp/watch | head -n 1) &&
	[ -n "$scratch" ] &&
	# The freed pages of that range: labelled "(unmapped)" when the maps
	# read of the snapshot was after the demo's munmap, not when the munmap
	# fell between that read and the scan (both are right).
	grep -q "^    $scratch .*: freed 16 pages" $tmp/watch &&
	grep -q "^    $hr: swapped out [0-9]* pages" $tmp/watch
check "watch: snapshots show pages mapped, unmapped and swapped out"
if [ "$async" = 1 ]; then
	grep -q "^    $hr: written [0-9]* pages" $tmp/watch &&
		grep -q "^    $hr: write-protected [0-9]* pages" $tmp/watch &&
		sleep 1.2 && tail -n 1 $tmp/demo | grep -q '^gww: [0-9]* calls, [0-9]* heap pages written, 0 of them missed$'
	check "watch: heap pages written and write-protected by the demo itself, who missed none"
else
	skip "watch: heap pages written and write-protected by the demo itself" "no async uffd-wp"
fi

pagescan watch -n 4 -i 0.5 -a $(hex $heap)+$((1024 * page)) $demo >$tmp/watch 2>$tmp/err
rc=$?
sed 's/^/# /' $tmp/watch $tmp/err
[ $rc -eq 0 ] && grep -qx "watching PID $demo every 0.5s by snapshots of its populated pages in the range (read-only)" $tmp/watch &&
	[ "$(grep '^    ' $tmp/watch | grep -vc "^    $hr: ")" = 0 ] && grep -q "^    $hr: " $tmp/watch
check "watch -a: changes in the range only"

# watch_written MODE-ARGS: four intervals of a mode that counts written
# pages, one line each; the heap's writes in at least one of them. (The demo
# writes ten bursts a second, but on the debug kernel its once-a-second
# GetWriteWatch and page-out can hold it up for a whole 0.5 s interval.)
watch_written() {
	pagescan watch -n 4 -i 0.5 "$@" $demo >$tmp/watch 2>$tmp/err
	rc=$?
	sed 's/^/# /' $tmp/watch $tmp/err
	[ $rc -eq 0 ] && [ "$(grep -c '^ *[0-9.]*s  *[0-9]* pages written, *[0-9.]* pages/s$' $tmp/watch)" = 4 ] &&
		grep -q "^    $hr: [1-9][0-9]* pages" $tmp/watch
}
if [ "$async" = 1 ]; then
	watch_written --rearm-uffd-wp &&
		grep -qx "watching PID $demo every 0.5s by write-protecting again what it writes in its 1 uffd-wp-async VMAs (CHANGES PID: its own tracking misses these writes)" $tmp/watch &&
		[ "$(grep -c '^    ' $tmp/watch)" = "$(grep -c "^    $hr: " $tmp/watch)" ]
	check "watch --rearm-uffd-wp: the heap's writes, and nothing else"
	sleep 60 &
	expect_fail "watch --rearm-uffd-wp of a process without async registration: exit 69" 69 \
		"--rearm-uffd-wp: PID $! has no memory registered for async write-protect" \
		pagescan watch --rearm-uffd-wp -n 1 $!
	kill $!
else
	expect_fail "watch --rearm-uffd-wp without async uffd-wp: exit 69, says why" 69 \
		"--rearm-uffd-wp: PID $demo has no memory registered for async write-protect" \
		pagescan watch --rearm-uffd-wp -n 1 $demo
	skip "watch --rearm-uffd-wp of a process without async registration" "no async uffd-wp"
fi
if [ "$sd" = 1 ]; then
	watch_written --clear-soft-dirty &&
		grep -qx "watching PID $demo every 0.5s by soft-dirty and clear_refs (CHANGES PID: soft-dirty tracking by or for it misses these writes)" $tmp/watch
	check "watch --clear-soft-dirty: the heap's writes"
else
	expect_fail "watch --clear-soft-dirty without soft-dirty: exit 69, says why" 69 \
		"--clear-soft-dirty: this kernel has no soft-dirty tracking" \
		pagescan watch --clear-soft-dirty -n 1 $demo
fi
stop_demo

# 25-28: a write tracker in the target while pagescan watch runs against it.
# The default watch takes nothing from it; the modes that reset tracking do.
# track KIND MODE-ARGS...: $tr (the tracker's totals), $lines (watch's
# interval lines while it ran), $alive (watch ran until the target ended).
track() {
	kind=$1
	shift
	rm -f $tmp/track $tmp/twatch
	pagescan-demo --track $kind -R 10 -d 200 >$tmp/track 2>&1 &
	tpid=$!
	if ! wait_ready $tmp/track $tpid; then
		wait $tpid
		trc=$?
		return 1
	fi
	pagescan watch -i 0.05 "$@" $tpid >$tmp/twatch 2>&1 &
	wpid=$!
	i=0
	while ! grep -q '^watching' $tmp/twatch 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -USR1 $tpid
	wait $tpid
	trc=$?
	lines=$(grep -c '^ *[0-9.]*s ' $tmp/twatch)
	# Still running, or ended because the target did.
	alive=no
	kill -0 $wpid 2>/dev/null && alive=yes
	kill $wpid 2>/dev/null
	wait $wpid 2>/dev/null
	[ "$(tail -n 1 $tmp/twatch)" = "PID $tpid exited" ] && alive=yes
	tr=$(sed -n 's/^track: rounds \([0-9]*\), written \([0-9]*\), reported [0-9]*, missed \([0-9]*\), extra \([0-9]*\)$/\1 \2 \3 \4/p' $tmp/track)
	sed 's/^/# /' $tmp/track
	echo "# watch: $lines intervals, ran until the target ended: $alive; $(head -n 1 $tmp/twatch)"
	return 0
}
# The tracker's totals: rounds, written, missed, extra.
tr_rounds() { echo $tr | cut -d' ' -f1; }
tr_written() { echo $tr | cut -d' ' -f2; }
tr_missed() { echo $tr | cut -d' ' -f3; }
tr_extra() { echo $tr | cut -d' ' -f4; }
for kind in uffd soft-dirty; do
	if [ $kind = uffd ]; then mode=--rearm-uffd-wp; what="GetWriteWatch with reset"; else mode=--clear-soft-dirty; what="a soft-dirty pre-dump"; fi
	if ! track $kind; then
		if [ "$trc" = 69 ]; then
			skip "$what in the target sees all its writes while pagescan watch runs" "$(head -n 1 $tmp/track)"
			skip "$what in the target misses writes while pagescan watch $mode runs" "$(head -n 1 $tmp/track)"
			continue
		fi
		notok "$what in the target sees all its writes while pagescan watch runs (tracker exit $trc)"
		notok "$what in the target misses writes while pagescan watch $mode runs"
		continue
	fi
	[ $trc -eq 0 ] && [ -n "$tr" ] && [ "$(tr_rounds)" = 10 ] && [ "$(tr_written)" -gt 0 ] &&
		[ "$(tr_missed)" = 0 ] && [ "$(tr_extra)" = 0 ] && [ $alive = yes ] && [ $lines -ge 10 ] &&
		if [ $kind = uffd ]; then
			grep -q '^    [0-9a-f-]* \[anon\]: written [0-9]* pages' $tmp/twatch &&
				grep -q '^    [0-9a-f-]* \[anon\]: write-protected [0-9]* pages' $tmp/twatch
		fi
	if [ $kind = uffd ]; then also="watch sees them too"; else also="watch ran throughout"; fi
	check "$what in the target sees all its writes while pagescan watch runs ($also)"
	track $kind $mode
	[ $trc -eq 0 ] && [ -n "$tr" ] && [ "$(tr_rounds)" = 10 ] && [ "$(tr_written)" -gt 0 ] &&
		[ "$(tr_missed)" -gt 0 ] && [ "$(tr_extra)" = 0 ] && [ $alive = yes ] &&
		grep -q '^ *[0-9.]*s  *[1-9][0-9]* pages written' $tmp/twatch
	check "$what in the target misses $(tr_missed) of its $(tr_written) writes while pagescan watch $mode runs"
done

# 29-53: bad arguments and help.
expect_fail "no arguments: exit 64" 64 "no mode given" pagescan
expect_fail "unknown mode: exit 64" 64 "unknown mode 'lst'" pagescan lst 1
expect_fail "list without PID: exit 64" 64 "list: expected one PID, got 0 arguments" pagescan list
expect_fail "list with a bad PID: exit 64" 64 "invalid PID '12x'" pagescan list 12x
expect_fail "list with two PIDs: exit 64" 64 "expected one PID, got 2" pagescan list 1 1
expect_fail "list --bogus: exit 64" 64 "list: unknown option '--bogus'" pagescan list --bogus 1
expect_fail "list -x: exit 64" 64 "list: unknown option '-x'" pagescan list -x 1
expect_fail "list -a without its argument: exit 64" 64 "list: option '-a' needs an argument" pagescan list -a
expect_fail "list -a zz: exit 64" 64 "invalid address in range 'zz'" pagescan list -a zz 1
expect_fail "list -a 2000,1000: exit 64" 64 "empty range '2000,1000'" pagescan list -a 2000,1000 1
expect_fail "list -a 1000+1Q: exit 64" 64 "invalid size in range '1000+1Q'" pagescan list -a 1000+1Q 1
expect_fail "list -a 1000x: exit 64" 64 "invalid range '1000x'" pagescan list -a 1000x 1
expect_fail "list -b bogus: exit 64" 64 "unknown category 'bogus' in 'present,bogus'" pagescan list -b present,bogus 1
expect_fail "list -b written,~written: exit 64" 64 "'written' is both required and excluded" \
	pagescan list -b written,~written 1
expect_fail "list with two any-of lists: exit 64" 64 "more than one -b list without ~" \
	pagescan list -b present,swapped -b file,huge 1
expect_fail "list -b ~written -b written,file: exit 64" 64 \
	"'written' is excluded and in the list of which any must match" \
	pagescan list -b '~written' -b written,file 1
expect_fail "list -m 0: exit 64" 64 "invalid --max-pages '0'" pagescan list -m 0 1
expect_fail "list -m -5: exit 64" 64 "invalid --max-pages '-5'" pagescan list -m -5 1
expect_fail "list --vec-len 0: exit 64" 64 "invalid --vec-len '0'" pagescan list --vec-len 0 1
expect_fail "watch -i 0: exit 64" 64 "invalid interval '0'" pagescan watch -i 0 1
expect_fail "watch --rearm-uffd-wp --clear-soft-dirty: exit 64" 64 \
	"--rearm-uffd-wp and --clear-soft-dirty exclude each other" \
	pagescan watch --rearm-uffd-wp --clear-soft-dirty 1
expect_fail "watch -s uffd, the old way to change the target: exit 64" 64 \
	"watch: unknown option '-s'" pagescan watch -s uffd 1
pid=99999
while [ -d /proc/$pid ]; do pid=$((pid + 1)); done
expect_fail "list of a nonexistent PID: exit 66" 66 "no process with PID $pid" pagescan list $pid
expect_fail "list of PID 1 as an unprivileged user: exit 77" 77 \
	"/proc/PID/pagemap of PID 1: Permission denied" pagescan-demo --run-as 65534 pagescan list 1

pagescan -h >$tmp/help 2>$tmp/err
rc=$?
bad=
for o in -a,\ --addr -b,\ --bits -m,\ --max-pages -s,\ --summary -j,\ --json \
	-c,\ --compare-pagemap -L,\ --vec-len -i,\ --interval -n,\ --count \
	"    --rearm-uffd-wp     CHANGES PID" "    --clear-soft-dirty  CHANGES PID" -h,\ --help; do
	grep -qF -- "  $o" $tmp/help || bad="$bad '$o'"
done
[ $rc -eq 0 ] && [ ! -s $tmp/err ] && [ -z "$bad" ] && [ "$(pagescan list -h)" = "$(cat $tmp/help)" ]
check "-h: exit 0, every option explained, the two that change PID marked${bad:+; missing$bad}"

[ $n = 53 ] || echo "# ran $n tests, planned 53"
[ $failed = 0 ]
