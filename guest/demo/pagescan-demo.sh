#!/bin/sh
# The `make run` demo: start pagescan-demo, show `pagescan list` of it with
# the same query timed through /proc/PID/pagemap reads, its summary, a range
# through a filter, then `pagescan watch`: by default, which only reads,
# and with --rearm-uffd-wp, which takes writes from the demo's own
# GetWriteWatch, as the demo's count of missed writes then shows.
pagescan-demo -t 120 >/tmp/demo.out 2>&1 &
demo=$!
i=0
while ! grep -q '^ready$' /tmp/demo.out; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 $demo 2>/dev/null; then
		cat /tmp/demo.out
		echo "pagescan demo: the workload did not start"
		exit 1
	fi
	sleep 0.1
done
rc=0
# show COMMAND...: print it as typed, run it, remember a failure.
show() {
	echo
	echo "\$ $*"
	"$@" 2>&1 || rc=$?
}
gww() {
	echo "(pagescan-demo's own GetWriteWatch so far: $(grep '^gww:' /tmp/demo.out | tail -n 1 | cut -c6-))"
}
echo "\$ pagescan-demo &    # the workload: a known layout, then a heap written in bursts"
grep -v '^expect-\|^ready$\|^gww:' /tmp/demo.out
heap=$(awk '$1 == "heap" { print $2 }' /tmp/demo.out)

echo
echo "\$ pagescan list --compare-pagemap $demo"
pagescan list --compare-pagemap $demo >/tmp/list.out 2>&1 || rc=$?
grep -v '^ffffffffff600000' /tmp/list.out
show pagescan list --summary $demo
# The heap pages the demo's own GetWriteWatch would not report now; where
# there is no uffd-wp, the heap pages in swap.
if grep -q 'async uffd-wp: yes' /tmp/demo.out; then
	show pagescan list -a ${heap%-*},${heap#*-} -b '~written' $demo
else
	show pagescan list -a ${heap%-*},${heap#*-} -b swapped $demo
fi
show pagescan watch -n 3 $demo
if grep -q 'async uffd-wp: yes' /tmp/demo.out; then
	sleep 1.2
	gww
	show pagescan watch -n 2 --rearm-uffd-wp $demo
	sleep 1.2
	gww
fi
kill $demo
wait $demo 2>/dev/null
exit $rc
