#!/bin/sh
# TAP tests of tools/vm/pagescan against pagescan-demo's known layout: the
# table and the JSON of `pagescan list`, --compare-pagemap, `pagescan watch`
# with each source, and its answers to bad arguments.
set -u
tmp=/tmp/pagescan-test
mkdir -p $tmp
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# expect_fail DESC STATUS MESSAGE CMD...: CMD exits with STATUS, MESSAGE on stderr.
expect_fail() {
	desc=$1 want=$2 msg=$3
	shift 3
	"$@" >$tmp/out 2>$tmp/err
	rc=$?
	if [ $rc -eq "$want" ] && grep -q "$msg" $tmp/err && [ ! -s $tmp/out ]; then
		ok "$desc"
	else
		echo "# $*: exit $rc (want $want), stderr:"
		sed 's/^/#   /' $tmp/err
		notok "$desc"
	fi
}
# start_demo ARGS...: pagescan-demo in the background, $demo its PID once ready.
start_demo() {
	pagescan-demo "$@" >$tmp/demo 2>&1 &
	demo=$!
	i=0
	while ! grep -q '^ready$' $tmp/demo; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 $demo 2>/dev/null; then
			sed 's/^/# demo: /' $tmp/demo
			return 1
		fi
		sleep 0.1
	done
}
stop_demo() { kill $demo 2>/dev/null; wait $demo 2>/dev/null; }

echo "1..19"

# 1-4: list, against the layout the demo reports in its expect-* lines.
if start_demo -s -t 120 -r 64; then
	ok "pagescan-demo sets up its layout"
else
	notok "pagescan-demo sets up its layout"
fi
grep -v '^expect-' $tmp/demo | sed 's/^/# /'

pagescan list --json $demo >$tmp/json 2>$tmp/err
rc=$?
if [ $rc -eq 0 ] && head -n 1 $tmp/json | grep -q "^{\"pid\": $demo, \"page_size\": [0-9]*, \"vmas\": \[$" &&
	[ "$(tail -n 1 $tmp/json)" = "]}" ] &&
	[ "$(sed '1d;$d' $tmp/json | grep -vc '^{"start": "0x[0-9a-f]*", "end": "0x[0-9a-f]*", "perms": "[-rwxsp]\{4\}", .*, "runs": \[.*\]},\{0,1\}$')" = 0 ] &&
	[ "$(sed '1d;$d' $tmp/json | wc -l)" = "$(grep -c . /proc/$demo/maps)" ]; then
	ok "list --json: one JSON document, one line per VMA of /proc/PID/maps"
else
	echo "# exit $rc"; sed 's/^/# /' $tmp/err
	notok "list --json: one JSON document, one line per VMA of /proc/PID/maps"
fi

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
while IFS= read -r line; do
	grep -qxF "$line" $tmp/json || grep -qxF "$line," $tmp/json ||
		{ miss=$((miss + 1)); echo "# missing: $line"; }
done <$tmp/want-json
if [ -s $tmp/want-json ] && [ $miss = 0 ]; then
	ok "list --json: the $(wc -l <$tmp/want-json) VMAs of the layout with exactly their runs"
else
	notok "list --json: the $(wc -l <$tmp/want-json) VMAs of the layout with exactly their runs ($miss wrong)"
fi

# The table: each VMA of the layout, its size, and exactly its runs with
# their pages, sizes and categories.
pagescan list $demo >$tmp/table 2>$tmp/err
rc=$?
page=$(sed -n 's/.*page size \([0-9]*\),.*/\1/p' $tmp/demo)
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
if [ $rc -eq 0 ] && [ $same -eq 0 ]; then
	ok "list: the table shows the VMAs of the layout with exactly their runs, sizes and categories"
else
	cat $tmp/diff
	notok "list: the table shows the VMAs of the layout with exactly their runs, sizes and categories"
fi

# 5: one region per call, resuming from walk_end each time: the same JSON.
pagescan list --json --vec-len 1 $demo >$tmp/json1 2>$tmp/err
if cmp -s $tmp/json $tmp/json1; then
	ok "list --json --vec-len 1: resumed from walk_end after every region, same output"
else
	diff $tmp/json $tmp/json1 | head -n 20 | sed 's/^/# /'
	notok "list --json --vec-len 1: resumed from walk_end after every region, same output"
fi

# 6: the pagemap comparison counts the same populated pages both ways.
line=$(pagescan list --compare-pagemap $demo | tail -n 1)
echo "# $line"
a=$(echo "$line" | sed -n 's/.* read), \([0-9]*\) populated pages; PAGEMAP_SCAN: .* ms, \([0-9]*\) populated pages .*/\1 \2/p')
if [ -n "$a" ] && [ "${a% *}" = "${a#* }" ] && [ "${a% *}" -gt 0 ]; then
	ok "list --compare-pagemap: pagemap reads and PAGEMAP_SCAN find the same ${a% *} populated pages"
else
	notok "list --compare-pagemap: pagemap reads and PAGEMAP_SCAN find the same populated pages"
fi
stop_demo

# 7-9: watch, on the demo writing its heap in bursts.
start_demo -t 60 -r 64 || true
heap=$(awk '$1 == "heap" { print $2 }' $tmp/demo)
soft_dirty=$(grep -c 'soft-dirty: yes' $tmp/demo)
async=$(grep -c 'async uffd-wp: yes' $tmp/demo)
# watch_ok SOURCE ARGS...: two intervals; the heap and only what SOURCE tracks.
watch_ok() {
	src=$1
	shift
	pagescan watch -n 2 -i 0.5 "$@" $demo >$tmp/watch 2>$tmp/err
	rc=$?
	sed 's/^/# /' $tmp/watch $tmp/err
	[ $rc -eq 0 ] && grep -q "^watching PID $demo every 0.5s via $src" $tmp/watch &&
		[ "$(grep -c '^ *[0-9.]*s  *[0-9]* pages written, *[0-9.]* pages/s$' $tmp/watch)" = 2 ] &&
		[ "$(grep -c "^    $heap \[anon\]: [1-9][0-9]* pages" $tmp/watch)" = 2 ]
}
if [ "$async" = 1 ]; then
	if watch_ok "uffd-wp async (1 registered VMAs)" && [ "$(grep -c '^    ' $tmp/watch)" = 2 ]; then
		ok "watch: uffd-wp async source, the heap's writes and nothing else"
	else
		notok "watch: uffd-wp async source, the heap's writes and nothing else"
	fi
	sleep 60 &
	expect_fail "watch -s uffd of a process without async registration: exit 69" 69 \
		"has no memory registered for async write-protect" pagescan watch -s uffd -n 1 $!
	kill $!
else
	expect_fail "watch without async uffd-wp and soft-dirty: exit 69, says why" 69 \
		"no soft-dirty tracking" pagescan watch -n 1 $demo
	expect_fail "watch -s uffd without async uffd-wp: exit 69" 69 \
		"has no memory registered for async write-protect" pagescan watch -s uffd -n 1 $demo
fi
if [ "$soft_dirty" = 1 ]; then
	if watch_ok "soft-dirty" -s soft-dirty; then
		ok "watch -s soft-dirty: the heap's writes"
	else
		notok "watch -s soft-dirty: the heap's writes"
	fi
else
	expect_fail "watch -s soft-dirty without soft-dirty: exit 69, says why" 69 \
		"no soft-dirty tracking" pagescan watch -s soft-dirty -n 1 $demo
fi
stop_demo

# 10-19: bad arguments.
expect_fail "no arguments: usage, exit 64" 64 "no mode given" pagescan
expect_fail "unknown mode: exit 64" 64 "unknown mode 'lst'" pagescan lst 1
expect_fail "list without PID: exit 64" 64 "expected one PID" pagescan list
expect_fail "list with a bad PID: exit 64" 64 "invalid PID '12x'" pagescan list 12x
expect_fail "list with two PIDs: exit 64" 64 "expected one PID, got 2" pagescan list 1 1
expect_fail "list with an unknown option: exit 64" 64 "Usage:" pagescan list --bogus 1
expect_fail "watch -i 0: exit 64" 64 "invalid interval '0'" pagescan watch -i 0 1
expect_fail "watch -s nonsense: exit 64" 64 "unknown source 'nonsense'" pagescan watch -s nonsense 1
pid=99999
while [ -d /proc/$pid ]; do pid=$((pid + 1)); done
expect_fail "list of a nonexistent PID: exit 66" 66 "no process with PID $pid" pagescan list $pid
expect_fail "list of PID 1 as an unprivileged user: exit 77" 77 \
	"/proc/PID/pagemap of PID 1: Permission denied" pagescan-demo --run-as 65534 pagescan list 1

[ $n = 19 ] || echo "# ran $n tests, planned 19"
[ $failed = 0 ]
