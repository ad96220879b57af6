#!/bin/sh
# Usage: [VARIANT=x86_64-debug] [SEED=n] [ITER=n] [SECONDS=n] scripts/robust.sh fuzz|stress|vmtests
# make fuzz / make stress: build the kernel VARIANT (default the debug one,
# x86_64 for the plain kernel) and boot it with only pagemap_fuzz (SEED,
# ITER iterations, default a random seed and 1000000) or pagemap_stress
# (SECONDS, default 600). make vmtests: the same with the tree's own
# run_vmtests.sh (guest/workloads/vmtests.sh; VARIANT default x86_64).
# Logs: build/logs/VARIANT-fuzz.log (or -stress, -vmtests).
set -eu
what=$1
seed=${SEED:-$(date +%s)}
# per mode: the default VARIANT, the test's name and command, its time limit
# and the packages it needs beyond the arch's
variant=${VARIANT:-x86_64-debug} name=pagemap_$what-long pkgs=
case $what in
fuzz)
	iter=${ITER:-1000000}
	limit=${LIMIT:-36000}
	cmd="pagemap_fuzz -s $seed -n $iter -t $limit -v" ;;
stress)
	secs=${SECONDS:-600}
	limit=$((secs + 300))
	cmd="pagemap_stress -s $seed -t $secs" ;;
vmtests)
	variant=${VARIANT:-x86_64} name=run_vmtests pkgs=vmtests
	limit=3000
	cmd="vmtests.sh" ;;
*) echo "robust: fuzz, stress or vmtests" >&2; exit 2 ;;
esac
arch=${variant%%-*}
extra=
[ "$variant" = "$arch" ] || extra=config/${variant#*-}.config
out=build/out/$variant
sh scripts/deps.sh "$arch" $pkgs
mkdir -p build
list=build/$what.list
echo "all $name $((limit + 60)) $cmd" >"$list"
echo "robust: $variant: $cmd"
EXTRA_CONFIG="$extra" sh scripts/build-kernel.sh "$arch" build/linux "$out"
TESTS_LIST=$list NAME=$variant sh scripts/build-guest.sh "$arch" build/linux "$out"
GUEST_TIMEOUT=$((limit + 600)) NAME=$variant-$what sh scripts/run-guest.sh "$arch" "$out"
