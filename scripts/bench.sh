#!/bin/sh
# make bench: build three x86_64 kernels from the same config fragments -- ours
# (build/linux), mainline's reference (Debian linux-source-6.12, unmodified, in
# build/ref) and the unpatched base (build/base) -- boot each as make check
# does (scripts/build-guest.sh packs guest/init, scripts/run-guest.sh boots)
# with bench/pagemap_bench as the only program, BENCH_ROUNDS times
# interleaved (ours, ref, base, ours, ...), and report: table on stdout,
# build/bench/results.{csv,json,txt}, *.png.
# BENCH_REPS: repetitions per case in each guest; BENCH_CASES: case prefixes;
# BENCH_ICOUNT: case prefixes also counted in guest instructions ("" skips).
# Benchmarks report; a number never fails this script.
set -eu
top=$(pwd)
dir=build/bench
rounds=${BENCH_ROUNDS:-1}
reps=${BENCH_REPS:-5}
cases=${BENCH_CASES:-}
kernels=${BENCH_KERNELS:-ours ref base}
limit=${GUEST_TIMEOUT:-1800}
start=$(date +%s)
mkdir -p "$dir/raw"

# The x86_64 guest's packages, and what only make bench needs: the reference
# kernel's source and gnuplot.
sh scripts/deps.sh x86_64 linux-source-6.12 gnuplot-nox

# Mainline's reference: the Debian package's tarball as it is.
ref=build/ref
reftar=/usr/src/linux-source-6.12.tar.xz
if [ ! -f "$ref/.bench-ref" ] || [ "$(cat "$ref/.bench-ref")" != "$(ls -l "$reftar")" ]; then
	echo "bench: extracting $reftar into $ref"
	rm -rf "$ref" "$ref.tmp"
	mkdir -p "$ref.tmp"
	tar -xJf "$reftar" -C "$ref.tmp" --strip-components=1
	ls -l "$reftar" >"$ref.tmp/.bench-ref"
	mv "$ref.tmp" "$ref"
fi

tree_of() {
	case $1 in ours) echo build/linux ;; ref) echo "$ref" ;; base) echo build/base ;; esac
}
# Out dirs of their own: config/bench.config (-O2, SLUB) on top of the guest
# fragments, and make check's build/out/x86_64 stays as it is.
out_of() {
	echo "build/out/bench-$1"
}
for k in $kernels; do
	echo "bench: building the $k kernel ($(tree_of $k) -> $(out_of $k))"
	t0=$(date +%s)
	EXTRA_CONFIG=config/bench.config sh scripts/build-kernel.sh x86_64 "$(tree_of $k)" "$(out_of $k)"
	echo "bench: $k kernel built in $(($(date +%s) - t0)) s: $(cat "$(out_of $k)/include/config/kernel.release")"
done

# The cases, timed and counted (below), as two entries of a test list:
# every PAGEMAP_SCAN case but the 16 TiB pagemap read and mincore, which are
# the long baselines of the timed rows, are counted by default.
scan_cases="sparse1024 sparse-1T/scan sparse-4T/scan sparse-16T/scan sparse-64T/scan dense gww maxpages"
icases=${BENCH_ICOUNT-$scan_cases fault mprotect wp-first-write uffd-sync-wp}
list=$dir/tests.list
{
	echo "all bench $limit pagemap_bench -r $reps $cases"
	echo "all bench-icount $limit pagemap_bench -r $reps $icases"
} >"$list"
# One initramfs for all three kernels, pagemap_bench built against the
# newest UAPI headers (6.12's); it finds out at run time what each kernel has.
hk=ref
[ -f "$(out_of ref)/usr/include/linux/fs.h" ] || hk=ours
TESTS_LIST=$list NAME=bench sh scripts/build-guest.sh x86_64 "$(tree_of $hk)" "$(out_of $hk)" >/dev/null
cp "$(out_of $hk)/initramfs.cpio" "$dir/initramfs.cpio"

# bench_guest KERNEL LOGS NAME ENTRY [RUN-GUEST SETTINGS]: boot KERNEL for
# the list entry ENTRY; its console is LOGS/NAME.log, a failure (a splat, a
# guest that did not finish) is said here and does not stop the bench.
bench_guest() {
	k=$1 l=$2 n=$3 e=$4
	shift 4
	t0=$(date +%s)
	env LOGS="$l" NAME="$n" INITRD="$dir/initramfs.cpio" GUEST_TIMEOUT=$((limit + 300)) "$@" \
		sh scripts/run-guest.sh x86_64 "$(out_of "$k")" "$e" >/dev/null ||
		echo "bench: $k guest:" $(grep -v '^PASS' "$l/$n.results")
	echo "bench: $k guest took $(($(date +%s) - t0)) s"
}

rm -rf "$dir"/raw/*
r=1
while [ $r -le "$rounds" ]; do
	for k in $kernels; do
		echo "bench: round $r/$rounds, $k kernel"
		bench_guest "$k" "$dir/raw" "$k-$r" bench
	done
	r=$((r + 1))
done

# Instruction counts: once more per kernel with one vCPU and -icount shift=0,
# where the guest clock advances 1 ns per guest instruction. The same cases
# then report instructions (rows KEY@insn; ns, us, ms -> insn, kinsn, Minsn), which
# host load and TCG's translation costs do not move.
if [ -n "$icases" ]; then
	mkdir -p "$dir/raw/icount"
	for k in $kernels; do
		echo "bench: instruction counts, $k kernel"
		bench_guest "$k" "$dir/raw/icount" "$k" bench-icount CPUS=1 ICOUNT=1
		sed -e '/^R [^ ]* faults /d' -e 's#^\([RD]\) \([^ ]*\)#\1 \2@insn#' \
			-e 's#^\(R [^ ]*\) ns #\1 insn #' -e 's#^\(R [^ ]*\) us #\1 kinsn #' \
			-e 's#^\(R [^ ]*\) ms #\1 Minsn #' "$dir/raw/icount/$k.log" >"$dir/raw/$k-icount.log"
	done
fi

python3 scripts/bench-report.py "$dir"
echo "bench: make bench took $(($(date +%s) - start)) s"
