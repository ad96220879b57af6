#!/bin/sh
# Usage: scripts/deps.sh [SET|PACKAGE]...
# Install the Debian packages a target needs (idempotent, quiet when all are
# there; --no-install-recommends). Every target gets the kernel build tools;
# the SETs add:
#   x86_64   (make run, the default ARCH) QEMU for x86_64 and the i686
#            compiler of the 32-bit tests
#   arm64    (ARCH=arm64) QEMU for arm64, the aarch64 compiler, and arm64
#            busybox-static, unpacked into build/busybox-arm64 (arm64 is
#            added as a dpkg foreign architecture only for this)
#   vmtests  (make vmtests) bash-static and the static libraries of the
#            selftests run_vmtests.sh calls; with arm64, the arm64
#            libraries and bash-static:arm64, unpacked into
#            build/bash-static-arm64
#   check    (make check, make matrix) x86_64 and arm64, the matrix's cross
#            compilers, clang/LLVM, sparse, coccinelle (and ocaml-nox: its
#            semantic patches with OCaml scripts need the compiler, which
#            coccinelle only recommends), checkpatch's Python modules and
#            stress-ng (the debug guest's workload)
# Any other argument is a package (make bench: the reference kernel's
# source and gnuplot).
set -eu
pkgs="build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils kmod
git perl python3 ccache busybox-static e2fsprogs rsync"
x86_64="qemu-system-x86 gcc-i686-linux-gnu libc6-dev-i386-cross"
arm64="qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
check="$x86_64 $arm64 python3-ply python3-git stress-ng sparse clang lld llvm coccinelle ocaml-nox
gcc-arm-linux-gnueabihf gcc-riscv64-linux-gnu gcc-powerpc64le-linux-gnu gcc-s390x-linux-gnu
gcc-arc-linux-gnu gcc-powerpc-linux-gnu gcc-sparc64-linux-gnu"
need_arm64= vmtests=
for a in "$@"; do
	case $a in
	x86_64) pkgs="$pkgs $x86_64" ;;
	arm64) pkgs="$pkgs $arm64" need_arm64=1 ;;
	vmtests) pkgs="$pkgs bash-static libcap-dev libnuma-dev" vmtests=1 ;;
	check) pkgs="$pkgs $check" need_arm64=1 ;;
	*) pkgs="$pkgs $a" ;;
	esac
done
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo

# apt-get update once per run, when something is to be downloaded
updated=
update() {
	[ -n "$updated" ] && return 0
	updated=1
	$sudo apt-get update -q >build/apt-update.log 2>&1 ||
		{ echo "deps: apt-get update failed:" >&2; tail -n 5 build/apt-update.log >&2; return 1; }
}

# arm64's static libraries install beside the host's (multiarch); arm64
# must be a foreign architecture first.
add_arm64() {
	dpkg --print-foreign-architectures | grep -qx arm64 && return 0
	echo "deps: adding arm64 as a dpkg foreign architecture (for arm64 guest programs)"
	$sudo dpkg --add-architecture arm64
	updated=
}
[ -z "$need_arm64" ] || [ -z "$vmtests" ] || { add_arm64; pkgs="$pkgs libcap-dev:arm64 libnuma-dev:arm64"; }

mkdir -p build
missing=
for p in $pkgs; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	update
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing \
		>build/apt-install.log 2>&1 ||
		{ echo "deps: apt-get install failed:" >&2; tail -n 10 build/apt-install.log >&2; exit 1; }
fi

# unpack PACKAGE FILE DIR: FILE of the arm64 build of PACKAGE (a static
# binary, which cannot be installed beside the host's) into DIR/FILE.
unpack() {
	[ -x "$3/$2" ] && return 0
	add_arm64
	tmp=$(mktemp -d)
	chmod 777 "$tmp"
	(cd "$tmp" && apt-get download -q "$1:arm64" >/dev/null 2>&1) ||
		{ update && (cd "$tmp" && apt-get download -q "$1:arm64" >"$tmp/err" 2>&1); } ||
		{ echo "deps: cannot download $1:arm64:" >&2; cat "$tmp/err" >&2; exit 1; }
	dpkg-deb -x "$tmp/$1"_*_arm64.deb "$tmp/x"
	mkdir -p "$3/${2%/*}"
	cp "$tmp/x/$2" "$3/$2"
	rm -rf "$tmp"
}
if [ -n "$need_arm64" ]; then
	unpack busybox-static bin/busybox build/busybox-arm64
	[ -z "$vmtests" ] || unpack bash-static bin/bash-static build/bash-static-arm64
fi
