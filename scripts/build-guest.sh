#!/bin/sh
# Usage: [NAME=variant] scripts/build-guest.sh ARCH [TREE [OUT]]
# Build the static selftests that guest/tests.list (or $TESTS_LIST) names for
# ARCH (or for the variant NAME, e.g. x86_64-debug) from TREE's
# tools/testing/selftests/vm against OUT/usr/include (the headers
# build-kernel.sh installed), and pack them with busybox and guest/init into
# OUT/initramfs.cpio. A BINARY with a source guest/fuzz/BINARY.c or
# bench/BINARY.c (make bench's list) is built from that file instead.
set -eu
arch=$1
tree=${2:-build/linux}
out=${3:-build/out/$arch}
list=${TESTS_LIST:-guest/tests.list}
variant=${NAME:-$arch}
case $arch in
x86_64) cross= busybox=/bin/busybox ;;
arm64) cross=aarch64-linux-gnu- busybox=build/busybox-arm64/bin/busybox ;;
*) echo "build-guest: unknown arch '$arch'" >&2; exit 2 ;;
esac
[ -x "$busybox" ] || { echo "build-guest: no $busybox; run 'make deps'" >&2; exit 1; }
[ -d "$out/usr/include" ] || { echo "build-guest: no headers in $out; build the kernel first" >&2; exit 1; }
out=$(cd "$out" && pwd)
root=$out/initramfs
rm -rf "$root"
mkdir -p "$root/bin" "$root/tests" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" \
	"$out/selftests" "$out/selftests-32"

# The tests for this arch or variant, without the ARCHES column.
grep -v '^[[:space:]]*\(#\|$\)' "$list" | while read -r arches rest; do
	case ",$arches," in
	*,"!$variant",*) ;;
	,all,*|*,"$arch",*|*,"$variant",*) echo "$rest" ;;
	esac
done >"$root/tests/list"

# BINARY.32 is the 32-bit (i686) build of BINARY, for x86_64 guests.
selftests() { # CROSS_COMPILE OUTPUT-DIR BINARY...
	c=$1 o=$2
	shift 2
	[ $# -gt 0 ] || return 0
	targets=
	for b in "$@"; do targets="$targets $o/$b"; done
	make -s -C "$tree/tools/testing/selftests/vm" ARCH="$arch" CROSS_COMPILE="$c" \
		OUTPUT="$o" KHDR_INCLUDES="-isystem $out/usr/include" LDFLAGS=-static $targets
}
# The pagescan tool of TREE's tools/vm (when the tree has it), built static in
# the tree (there is no OUTPUT= there, hence -B and the move), its demo
# workload, tests and demo.
if [ -f "$tree/tools/vm/pagescan.c" ]; then
	make -s -B -C "$tree/tools/vm" CC="${cross}gcc" LDFLAGS=-static \
		KHDR_INCLUDES="-isystem $out/usr/include" pagescan
	mv "$tree/tools/vm/pagescan" "$root/tests/"
	"${cross}gcc" -static -O2 -Wall -isystem "$out/usr/include" \
		-o "$root/tests/pagescan-demo" guest/demo/pagescan-demo.c
	cp guest/demo/*.sh "$root/tests/"
fi
bins=$(awk '$3 !~ /\.32$/ {print $3}' "$root/tests/list" | sort -u | sed '/^pagescan/d; /\.sh$/d')
# The project's own guest programs (guest/fuzz, bench), one static binary
# each; the rest are selftests.
selfs=
for b in $bins; do
	src=
	for d in guest/fuzz bench; do [ -f "$d/$b.c" ] && src=$d/$b.c; done
	if [ -z "$src" ]; then
		selfs="$selfs $b"
		continue
	fi
	"${cross}gcc" -O2 -Wall -static -pthread -isystem "$out/usr/include" \
		-o "$root/tests/$b" "$src"
done
bins=$selfs
bins32=$(awk '$3 ~ /\.32$/ {sub(/\.32$/, "", $3); print $3}' "$root/tests/list" | sort -u)
selftests "$cross" "$out/selftests" $bins
selftests i686-linux-gnu- "$out/selftests-32" $bins32
for b in $bins; do cp "$out/selftests/$b" "$root/tests/"; done
for b in $bins32; do cp "$out/selftests-32/$b" "$root/tests/$b.32"; done

# Workload scripts (guest/workloads); stress-ng, when the list names its
# script, is Debian's dynamic binary: copy it with its libraries (x86_64,
# the host's own; about 33 MB).
cp guest/workloads/*.sh "$root/tests/"
if grep -q 'stress-ng' "$root/tests/list" && [ "$arch" = x86_64 ]; then
	sng=$(command -v stress-ng) ||
		{ echo "build-guest: no stress-ng; run 'make deps'" >&2; exit 1; }
	cp "$sng" "$root/bin/"
	ldd "$sng" | awk '$(NF - 1) ~ /^\// { print $(NF - 1) } $1 ~ /^\// { print $1 }' |
		while read -r lib; do
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
fi

# guest/workloads/vmtests.sh (make vmtests) runs the tree's run_vmtests.sh:
# bash (static) and the selftests it calls, with their run_vmtests.sh
# helpers. Not built: hmm-tests (needs the test_hmm module) and
# protection_keys (no PKU in the guest kernels); vmtests.sh reports what is
# missing as skipped.
if grep -q ' vmtests\.sh' "$root/tests/list"; then
	bash=$(command -v bash-static || true)
	[ "$arch" = x86_64 ] || bash=build/bash-static-$arch/bin/bash-static
	[ -x "$bash" ] || { echo "build-guest: no $arch bash-static; run 'sh scripts/deps.sh $arch vmtests'" >&2; exit 1; }
	vt="hugepage-mmap hugepage-shm map_hugetlb hugepage-mremap hugepage-vmemmap hugetlb-madvise
		map_fixed_noreplace gup_test userfaultfd uffd_wp_async pagemap_ioctl pagemap_memtypes
		compaction_test on-fault-limit map_populate mlock-random-test mlock2-tests mrelease_test
		mremap_test thuge-gen virtual_address_range mremap_dontunmap madv_populate memfd_secret
		ksm_tests soft-dirty"
	selftests "$cross" "$out/selftests" $vt
	for b in $vt; do cp "$out/selftests/$b" "$root/tests/"; done
	v=$tree/tools/testing/selftests/vm
	cp "$v/run_vmtests.sh" "$v/va_128TBswitch.sh" "$v/test_vmalloc.sh" "$v/test_hmm.sh" "$root/tests/"
	cp "$bash" "$root/bin/bash"
fi

# An empty ext4 file system for /init to put on a zram disk (and on pmem for
# DAX): 128 MiB, 4 KiB blocks, allocations aligned to 2 MiB (stripe) so that
# DAX can map PMDs; gzip keeps the initramfs small.
img=$out/ext4.img
rm -f "$img"
PATH=$PATH:/sbin:/usr/sbin mkfs.ext4 -q -F -b 4096 -m 0 -J size=4 -E stride=512,stripe_width=512 "$img" 128M >/dev/null
gzip -9 -c "$img" >"$root/tests/ext4.img.gz"
rm -f "$img"

cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp guest/init "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$out/initramfs.cpio"
