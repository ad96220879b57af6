#!/bin/sh
# Usage: scripts/matrix-warnings.sh   (make matrix STEPS=warnings; part of make check)
# The touched objects with W=1 (gcc and LLVM=1 clang: x86_64, i386), sparse
# (C=2) and coccinelle (coccicheck MODE=report) on x86_64: no warning the
# base has not. (Nothing is linked here: the builds gate links with gcc.)
# scripts/matrix-lib.sh has what the gates share.
. scripts/matrix-lib.sh

# wcell NAME ARCH ARGS: the touched objects with ARGS (W=1, LLVM=1, C=2) in
# the series and, when that has warnings, in the base, same config; FAIL on a
# new warning.
wcell() {
	n=$1 a=$2 args=$3
	if late; then
		verdict SKIP "$n" "$LATE"
		printf '%-34s skip  (%s)\n' "$n" "$LATE"
		return
	fi
	r=PASS
	for t in linux base; do
		case $t in linux) src=$tree ;; *) src=$base ;; esac
		out=build/out/matrix-$a
		[ $t = linux ] || out=build/out/matrix-base-$a
		cc=
		case $args in *LLVM=1*) out=$out-llvm cc=clang ;; esac
		export CROSS_CC="$cc"
		EXTRA_CONFIG= TARGETS=syncconfig KMAKE_ARGS=$args sh scripts/build-kernel.sh "$a" "$src" "$out" \
			>"$mlog/$t-$n.log" 2>&1 || { r=FAIL; continue; }
		targets=$(tobjs "$out")
		# coccinelle does not follow the changed headers: only the changed
		# .c files can get a new report (it is the slow one).
		case $args in *coccicheck*)
			targets=$(for o in $targets; do echo "$changed" | grep -qx "${o%.o}.c" && echo "$o"; done) ;;
		esac
		for o in $targets; do rm -f "$out/$o"; done
		kbuild "$t-$n" "$a" "$src" "$out" "" "$targets" "$args" || r=FAIL
		# No warning on the series side: none can be new, the base side
		# (coccicheck's is the slowest step of the gate) is not needed.
		if [ $t = linux ] && [ $r = PASS ] && [ ! -s "$mlog/linux-$n.warn" ]; then
			echo "(not run: the series side has no warning)" >"$mlog/base-$n.log"
			: >"$mlog/base-$n.warn"
			break
		fi
	done
	unset CROSS_CC
	if [ $r = FAIL ]; then
		verdict FAIL "$n" "build, see build/logs/matrix/linux-$n.log"
	elif ! newwarn "linux-$n" "base-$n"; then
		r=FAIL
		verdict FAIL "$n" "new: $(tr '\n' ' ' <"$mlog/linux-$n.new")"
	else
		verdict PASS "$n" "$(wc -l <"$mlog/linux-$n.warn") warnings, as in base"
	fi
	bw=$(wc -l <"$mlog/base-$n.warn" 2>/dev/null || echo ?)
	grep -q '^(not run' "$mlog/base-$n.log" 2>/dev/null && bw="not run"
	printf '%-34s %-5s %s warnings (base %s), %s new\n' "$n" "$r" \
		"$(wc -l <"$mlog/linux-$n.warn")" "$bw" "$(cat "$mlog/linux-$n.new" 2>/dev/null | wc -l)"
}

step_warnings() {
	echo "gate (touched objects, series vs base)  result"
	for g in ${MATRIX_GATES:-w1-gcc-x86_64 w1-gcc-i386 w1-llvm-x86_64 w1-llvm-i386 sparse-x86_64 coccicheck-x86_64}; do
		case $g in
		w1-gcc-*) wcell "$g" "${g#w1-gcc-}" "W=1" ;;
		w1-llvm-*) wcell "$g" "${g#w1-llvm-}" "LLVM=1 W=1" ;;
		sparse-*) wcell "$g" "${g#sparse-}" "C=2" ;;
		# Every semantic patch of scripts/coccinelle on each touched file.
		coccicheck-*) wcell "$g" "${g#coccicheck-}" "C=2 CHECK=$top/$base/scripts/coccicheck MODE=report" ;;
		esac
	done
}

gate warnings step_warnings
