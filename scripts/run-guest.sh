#!/bin/sh
# Usage: [NAME=name] scripts/run-guest.sh ARCH [OUT [TEST...]]
# Boot OUT/boot-image with OUT/initramfs.cpio under QEMU (TCG), run the tests
# (all, or the named ones), keep the console in build/logs/NAME.log and print
# one TAP stream, a line per test case, to stdout and build/logs/NAME.tap
# (prove reads it). The verdicts also go to build/logs/NAME.results
# ("PASS|FAIL|SKIP name"). NAME (default ARCH) names the files and prefixes
# the test names, for variants such as a debug kernel; LOGS=DIR puts the
# files elsewhere. A kernel splat anywhere in the console,
# a guest that does not finish in GUEST_TIMEOUT seconds, or a test that exits
# non-zero without reporting its failures counts as a failed case.
# INITRD: another initramfs (make bench boots one with three kernels);
# CPUS: vCPUs (default 2); ICOUNT=1: -icount shift=0, where the guest clock
# advances 1 ns per guest instruction (make bench counts instructions so).
# Exit status: 0 when nothing failed.
set -eu
arch=$1
out=${2:-build/out/$arch}
[ $# -ge 2 ] && shift 2 || shift $#
limit=${GUEST_TIMEOUT:-1800}
logs=${LOGS:-build/logs}
mkdir -p "$logs"
name=${NAME:-$arch}
log=$logs/$name.log
results=$logs/$name.results

append=
[ $# -gt 0 ] && append="guest.only=$(echo "$@" | tr ' ' ,)"
[ -n "${GUEST_SHELL:-}" ] && append="$append guest.shell"
# DEMO=1: run the pagescan demo instead of the tests, print its output.
[ -n "${DEMO:-}" ] && append="$append guest.demo"
# Every guest: one 1 GiB hugetlb page reserved at boot (the 1 GiB cases), a
# virtual frame buffer (/dev/fb0, a VM_MIXEDMAP mapping); x86_64 also 256 MiB
# of legacy pmem (/dev/pmem0, for DAX) at 2.5 GiB. -M pc maps 3 GiB low and
# the rest from 4 GiB; a gigantic page needs a free, aligned GiB at boot, and
# the only one is at 4 GiB (the initrd sits below 2 GiB, pmem in the third,
# early allocations at the top), hence 5G.
mem=5G
append="hugepagesz=1G hugepages=1 video=vfb: $append"
case $arch in
x86_64)
	qemu="qemu-system-x86_64 -M pc -cpu max"
	append="console=ttyS0 memmap=256M!2560M $append" ;;
arm64)
	qemu="qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on"
	append="console=ttyAMA0 $append" ;;
*) echo "run-guest: unknown arch '$arch'" >&2; exit 2 ;;
esac
# -nic none: no network, so no option ROM (ipxe-qemu is only recommended).
set -- $qemu -smp "${CPUS:-2}" -m $mem -nographic -no-reboot -nic none -kernel "$out/boot-image" \
	-initrd "${INITRD:-$out/initramfs.cpio}" -append "panic=-1 $append"
[ -z "${ICOUNT:-}" ] || set -- "$@" -icount shift=0

if [ -n "${GUEST_SHELL:-}" ]; then
	exec "$@"
fi
rc=0
timeout "$limit" "$@" </dev/null >"$log" 2>&1 || rc=$?
tr -d '\r' <"$log" >"$log.tmp" && mv "$log.tmp" "$log"
[ $rc -eq 124 ] && echo "# guest killed after ${limit}s" >>"$log"

# Verdicts: per test its TAP lines, or its exit status when it printed none.
awk -v arch="$name" -v logfile="$log" '
	function verdict(v, what) { print v " " arch "/" what }
	/^# === begin / { name = $4; n = 0; bad = 0; plan = -1; next }
	/^# === end / {
		rc = substr($5, 4)
		if (n == 0)
			verdict(rc == 0 ? "PASS" : rc == 4 ? "SKIP" : "FAIL", name (rc == 0 || rc == 4 ? "" : " (exit " rc ")"))
		else if (plan >= 0 && n != plan)
			verdict("FAIL", name " (planned " plan " cases, reported " n ")")
		else if (rc != 0 && rc != 4 && bad == 0)
			verdict("FAIL", name " (exit " rc " after reporting no failure)")
		name = ""; next
	}
	/^# === guest done/ { done = 1; next }
	name != "" && /^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; next }
	name != "" && /^(not )?ok [0-9]+/ {
		n++
		line = $0; sub(/^(not )?ok [0-9]+ *(- )?/, "", line)
		# TAP: a TODO failure (a known failure that is not ours) is not one
		if ($0 ~ /# *(SKIP|TODO)/) verdict("SKIP", name ": " line)
		else if ($1 == "not") { bad++; verdict("FAIL", name ": " line) }
		else verdict("PASS", name ": " line)
	}
	/BUG:|WARNING:|Oops|KASAN|UBSAN|possible circular locking|possible recursive locking|inconsistent lock state|Kernel panic|Call Trace:|soft lockup|hung_task/ {
		verdict("FAIL", "kernel splat: " $0)
	}
	END {
		if (name != "") verdict("FAIL", name " (did not finish)")
		if (!done) verdict("FAIL", "guest did not finish: see " logfile)
	}' "$log" >"$results"

if [ -n "${DEMO:-}" ]; then
	sed -n '/^# === demo begin/,/^# === demo end/{/^# === demo /!p}' "$log"
	grep -q '^# === demo end rc=0' "$log" || echo "FAIL $name/demo (see $log)" >>"$results"
	grep '^FAIL' "$results" || true
	! grep -q '^FAIL' "$results"
	exit
fi
# The verdicts as one TAP stream (prove, other TAP readers): NAME.tap.
# A known failure that is not ours stays "not ok ... # TODO" (no failure).
awk 'BEGIN { print "TAP version 13" }
	{ v = $1; $1 = ""; sub(/^ /, "")
	  todo = v == "SKIP" && /# *TODO/
	  printf "%s %d %s%s\n", v == "FAIL" || todo ? "not ok" : "ok", NR, $0,
		v == "SKIP" && !todo && !/# *SKIP/ ? " # SKIP" : "" }
	END { print "1.." NR }' "$results" >"$logs/$name.tap"
cat "$logs/$name.tap"
! grep -q '^FAIL' "$results"
