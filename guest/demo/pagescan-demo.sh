#!/bin/sh
# The `make run` demo: start pagescan-demo, show `pagescan list` of it, the
# same query timed through /proc/PID/pagemap reads, and a few seconds of
# `pagescan watch`.
pagescan-demo -t 60 >/tmp/demo.out 2>&1 &
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
echo "\$ pagescan-demo &    # the workload: a known layout, then heap writes in bursts"
grep -v '^expect-\|^ready$' /tmp/demo.out
echo
echo "\$ pagescan list --compare-pagemap $demo"
pagescan list --compare-pagemap $demo | grep -v '^ffffffffff600000'
echo
echo "\$ pagescan watch -n 3 $demo"
pagescan watch -n 3 $demo
rc=$?
if [ $rc = 69 ] && grep -q 'async uffd-wp: no' /tmp/demo.out && ! grep -q 'soft-dirty: yes' /tmp/demo.out; then
	echo "(as expected here: this kernel has neither uffd-wp nor soft-dirty; list works)"
	rc=0
fi
if grep -q 'soft-dirty: yes' /tmp/demo.out; then
	echo
	echo "\$ pagescan watch -n 2 -s soft-dirty $demo"
	pagescan watch -n 2 -s soft-dirty $demo
fi
kill $demo
wait $demo 2>/dev/null
exit $rc
