#!/bin/sh
# make check: every gate in order, a progress line with the duration of each
# step, and one closing line "N passed, N failed" over all test cases of all
# steps (build/logs/*.results). Exits non-zero if anything failed.
set -u
# A variant is ARCH or ARCH-NAME: the kernel of ARCH with config/NAME.config
# on top (x86_64-debug: KASAN, lockdep, DEBUG_VM, UBSAN, ...; arm64-16k:
# 16K pages, 32 MiB PMDs).
variants=${VARIANTS:-x86_64 arm64 arm64-16k x86_64-debug}
mkdir -p build/logs
rm -f build/logs/*.results build/logs/*.log build/logs/*.tap
t0=$(date +%s)

# step NAME COMMAND...: run a step, log its output, print its duration.
step() {
	name=$1
	shift
	s=$(date +%s)
	if "$@" >"build/logs/step-$name.log" 2>&1; then r=ok; else r=FAILED; fi
	echo "check: $name: $r ($(($(date +%s) - s)) s)"
	[ $r = ok ] || { tail -n 30 "build/logs/step-$name.log" | sed 's/^/  | /'; return 1; }
}
# result FILE VERDICT NAME: record one test case outside the guests.
result() { echo "$2 $3" >>"build/logs/$1.results"; }

# The guests run in the background, one at a time, each once its kernel is
# built: a TCG guest keeps about one of the two cores busy (the debug one
# for 20 minutes), and the next builds and the matrix gates use the other.
# Those run at nice 10, so that a guest's time-bound tests keep their pace.
# guest_start VARIANT ARCH OUT: start VARIANT's guest after the previous one.
gpid=
guest_start() {
	guest_wait
	gv=$1
	(
		s=$(date +%s)
		NAME=$1 sh scripts/run-guest.sh "$2" "$3" >"build/logs/step-guest-$1.log" 2>&1
		echo $(($(date +%s) - s)) >"build/logs/step-guest-$1.time"
	) &
	gpid=$!
}
# guest_wait: wait for the running guest, print its counts.
guest_wait() {
	[ -n "$gpid" ] || return 0
	wait "$gpid"
	gpid=
	echo "check: guest-$gv: $(grep -c '^PASS' "build/logs/$gv.results") passed," \
		"$(grep -c '^SKIP' "build/logs/$gv.results") skipped," \
		"$(grep -c '^FAIL' "build/logs/$gv.results") failed ($(cat "build/logs/step-guest-$gv.time") s)"
}

# matrix_gate GATE: run scripts/matrix-GATE.sh as a step, print its table.
matrix_gate() {
	step "matrix-$1" nice -n 10 sh "scripts/matrix-$1.sh" ||
		grep -q '^FAIL' "build/logs/matrix-$1.results" 2>/dev/null ||
		result matrix FAIL "matrix $1 ran"
	sed 's/^/  /' "build/logs/matrix-$1.txt" 2>/dev/null
}

step deps sh scripts/deps.sh check || exit 1
step import sh scripts/import-base.sh || exit 1
# "VERSION pinned" or "VERSION FALLBACK (pinned ...)": said now and at the end
base="linux-source-6.1 $(cat build/base.version)"
echo "check: base: $base"
# build/linux as make run finds it: made anew from patches/ when missing or
# older than patches/; with unexported work, tested as it is.
if step apply sh scripts/tree.sh update; then
	grep -h 'NOTE\|anew' build/logs/step-apply.log | sed 's/^make tree:/check: apply:/'
	result series PASS "series applies on base"
else
	result series FAIL "series applies on base"
fi

if [ -d build/linux/.git ]; then
	sh scripts/checkpatch.sh >build/logs/step-checkpatch.log 2>&1
	grep '^\(PASS\|FAIL\) ' build/logs/step-checkpatch.log >>build/logs/series.results
	echo "check: checkpatch: $(grep -c '^PASS' build/logs/step-checkpatch.log) clean," \
		"$(grep -c '^FAIL' build/logs/step-checkpatch.log) not"
	for v in $variants; do
		arch=${v%%-*}
		extra=
		[ "$v" = "$arch" ] || extra=config/${v#*-}.config
		out=build/out/$v
		if step "build-$v" nice -n 10 env EXTRA_CONFIG="$extra" sh scripts/build-kernel.sh "$arch" build/linux "$out" &&
			step "tests-$v" nice -n 10 env NAME="$v" sh scripts/build-guest.sh "$arch" build/linux "$out"; then
			result "build-$v" PASS "$v/kernel and tests build"
			guest_start "$v" "$arch" "$out"
		else
			result "build-$v" FAIL "$v/kernel and tests build"
		fi
	done
	# 0-day style gates (scripts/matrix-GATE.sh), each cell a result line. A
	# cell, gate or bisect step that would start after CHECK_BUDGET seconds
	# (default 75 min: what can start late is a build cell or a bisect step,
	# under 2 min on a cold ccache, so a cold CI run ends within its 90 on
	# 2 cores) is recorded as SKIP, not run; `make matrix` runs it. The
	# warnings gate (W=1, sparse, coccicheck: the series' standards) comes
	# first; the build cells the budget can cut are the last arches'.
	export CHECK_DEADLINE=$((t0 + ${CHECK_BUDGET:-4500}))
	# The bisect gate (a whole kernel build first on a cold ccache, then
	# short incremental ones) runs in the background beside the others:
	# each lane's serial steps (configuring, linking) leave a core to the
	# other, and the long build does not start near the deadline.
	steps=${MATRIX_STEPS-warnings builds bisect}
	bpid=
	case " $steps " in *" bisect "*)
		matrix_gate bisect >build/logs/check-matrix-bisect.out 2>&1 &
		bpid=$!
		;;
	esac
	for ms in $steps; do
		[ "$ms" = bisect ] || matrix_gate "$ms"
	done
	if [ -n "$bpid" ]; then
		wait "$bpid"
		cat build/logs/check-matrix-bisect.out
	fi
	guest_wait
fi

echo "check: results (all in build/logs/):"
cat build/logs/*.results | grep -v '^PASS' | sed 's/^/  /'
pass=$(cat build/logs/*.results | grep -c '^PASS')
fail=$(cat build/logs/*.results | grep -c '^FAIL')
skip=$(cat build/logs/*.results | grep -c '^SKIP')
echo "check: total $(($(date +%s) - t0)) s"
echo "check: base: $base"
case $base in *FALLBACK*) echo "check: WARNING: this run did not use the base pinned in base.conf" ;; esac
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
