#!/bin/sh
# Usage: scripts/step.sh NAME WHAT COMMAND...
# Run one step of the make flow with a progress line before ("NAME: WHAT")
# and after ("NAME: done in N s"); while it runs, a line every 30 s, with
# the count of object files in $PROGRESS_OBJS (a kernel out dir) if set.
set -u
name=$1 what=$2
shift 2
echo "$name: $what"
s=$(date +%s)
"$@" &
pid=$!
t=0
while kill -0 $pid 2>/dev/null; do
	sleep 1
	t=$((t + 1))
	[ $((t % 30)) -eq 0 ] && kill -0 $pid 2>/dev/null || continue
	objs=
	[ -n "${PROGRESS_OBJS:-}" ] && [ -d "$PROGRESS_OBJS" ] &&
		objs=", $(find "$PROGRESS_OBJS" -name '*.o' | wc -l) objects built"
	echo "$name: still working ($t s$objs)"
done
wait $pid
rc=$?
if [ $rc -eq 0 ]; then
	echo "$name: done in $(($(date +%s) - s)) s"
else
	echo "$name: FAILED after $(($(date +%s) - s)) s (exit $rc)"
fi
exit $rc
