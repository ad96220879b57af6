#!/bin/sh
# Install every Debian package the project needs (idempotent, quiet when all
# are there), and unpack arm64 busybox-static into build/busybox-arm64.
# Arguments name extra packages for one target (make bench: the reference
# kernel's source and gnuplot).
set -eu
pkgs="build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils kmod
git perl python3 python3-ply python3-git ccache sparse qemu-system-x86 qemu-system-arm
gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-i686-linux-gnu libc6-dev-i386-cross
busybox-static e2fsprogs stress-ng
gcc-arm-linux-gnueabihf gcc-riscv64-linux-gnu gcc-powerpc64le-linux-gnu gcc-s390x-linux-gnu
clang lld llvm coccinelle $*"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo

missing=
for p in $pkgs; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	$sudo dpkg --add-architecture arm64
	missing="$missing busybox-static:arm64"
fi
if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	$sudo apt-get update -q >/dev/null
	missing=$(echo "$missing" | sed 's/ busybox-static:arm64//')
	[ -z "$missing" ] || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing >/dev/null
fi

if [ ! -x build/busybox-arm64/bin/busybox ]; then
	tmp=$(mktemp -d)
	chmod 777 "$tmp"
	(cd "$tmp" && apt-get download -q busybox-static:arm64 >/dev/null 2>&1) ||
		{ $sudo apt-get update -q >/dev/null; (cd "$tmp" && apt-get download -q busybox-static:arm64 >/dev/null 2>&1); }
	dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$tmp/x"
	mkdir -p build/busybox-arm64/bin
	cp "$tmp/x/bin/busybox" build/busybox-arm64/bin/
	rm -rf "$tmp"
fi
