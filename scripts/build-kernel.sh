#!/bin/sh
# Usage: scripts/build-kernel.sh ARCH [TREE [OUT]]
# Configure (tinyconfig + config/common.config + config/ARCH.config [+
# config/guest.config on x86_64 and arm64] [+ EXTRA_CONFIG fragments]) and
# build the kernel in TREE (default build/linux) out of tree in OUT
# (default build/out/ARCH). Fails, naming them, if options the fragments ask
# for did not come out as asked. Leaves OUT/boot-image and the UAPI headers in OUT/usr.
# TARGETS="vmlinux mm/memory.o ..." builds only those (no image, no headers),
# TARGETS=syncconfig only configures;
# KMAKE_ARGS (e.g. "W=1", "LLVM=1", "C=2") are passed to every make.
set -eu
arch=$1
top=$(pwd)
tree=${2:-build/linux}
out=${3:-build/out/$arch}
case $arch in
x86_64) karch=x86_64 cross= image=arch/x86/boot/bzImage ;;
arm64) karch=arm64 cross=aarch64-linux-gnu- image=arch/arm64/boot/Image ;;
# Build matrix only (scripts/matrix-*.sh): no guests for these.
i386) karch=i386 cross= image= ;;
arm) karch=arm cross=arm-linux-gnueabihf- image= ;;
riscv64) karch=riscv cross=riscv64-linux-gnu- image= ;;
powerpc64le) karch=powerpc cross=powerpc64le-linux-gnu- image= ;;
s390x) karch=s390 cross=s390x-linux-gnu- image= ;;
arc) karch=arc cross=arc-linux-gnu- image= ;;
powerpc) karch=powerpc cross=powerpc-linux-gnu- image= ;;
sparc64) karch=sparc cross=sparc64-linux-gnu- image= ;;
*) echo "build-kernel: unknown arch '$arch' (x86_64, arm64, i386, arm, riscv64, powerpc64le, s390x, arc, powerpc, sparc64)" >&2; exit 2 ;;
esac
frags="$top/config/common.config $top/config/$arch.config"
# The arches that boot guests get the guest-only options too.
case $arch in x86_64 | arm64) frags="$frags $top/config/guest.config" ;; esac
for f in ${EXTRA_CONFIG:-}; do frags="$frags $top/$f"; done

cc=${CROSS_CC:-${cross}gcc}
hostcc=gcc
case ${KMAKE_ARGS:-} in *LLVM=1*) hostcc=clang ;; esac
if command -v ccache >/dev/null; then
	# The host programs (kconfig, fixdep, objtool, ...) too: every out
	# dir builds its own.
	cc="ccache $cc" hostcc="ccache $hostcc"
	# Relative paths in the cache keys: hits across out dirs and clones.
	export CCACHE_BASEDIR="$top" CCACHE_NOHASHDIR=1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
jobs=$(($(nproc) + 1))
kmake() {
	make -s -C "$tree" O="$out" ARCH="$karch" CROSS_COMPILE="$cross" CC="$cc" HOSTCC="$hostcc" ${KMAKE_ARGS:-} \
		KBUILD_BUILD_TIMESTAMP=0 KBUILD_BUILD_USER=build KBUILD_BUILD_HOST=build "$@"
}

# Regenerate .config only when a fragment or the tree's Kconfig changed.
# syncconfig (olddefconfig that also writes include/config/auto.conf) leaves
# nothing for the build's own syncconfig to redo.
cat $frags >"$out/fragments.new"
if ! cmp -s "$out/fragments.new" "$out/fragments" || [ ! -f "$out/.config" ]; then
	kmake tinyconfig >/dev/null
	"$tree/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" $frags >/dev/null
	kmake syncconfig >/dev/null
	mv "$out/fragments.new" "$out/fragments"
else
	rm -f "$out/fragments.new"
	kmake syncconfig >/dev/null
fi

# The value each option was last given in the fragments, as merge_config uses it.
missing=$(cat $frags | sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(.*\)$/\1=\2/p; s/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1=n/p' |
	awk -F= '{ v[$1] = $2; if (!($1 in seen)) { seen[$1] = 1; order[n++] = $1 } }
		END { for (i = 0; i < n; i++) print order[i] "=" v[order[i]] }' |
	while IFS== read -r opt val; do
		got=$(sed -n "s/^$opt=//p" "$out/.config")
		[ -n "$got" ] || got=n
		[ "$got" != "$val" ] || continue
		# An option this tree does not have at all (make bench's 6.12
		# reference has no BASE_FULL) is noted, not lost.
		if ! grep -rqs --include='Kconfig*' "^[[:space:]]*\(menu\)\{0,1\}config ${opt#CONFIG_}\$" "$tree"; then
			echo "build-kernel: NOTE: $tree has no $opt" >&2
			continue
		fi
		echo "  $opt: asked $val, got $got"
	done)
if [ -n "$missing" ]; then
	echo "build-kernel: $arch config lost options the fragments ask for:" >&2
	echo "$missing" >&2
	rm -f "$out/fragments"
	exit 1
fi

case ${TARGETS:-} in
'') ;;
syncconfig) exit 0 ;;
*) kmake -j"$jobs" $TARGETS; exit 0 ;;
esac
kmake -j"$jobs"
kmake headers_install INSTALL_HDR_PATH="$out/usr" >/dev/null
cp "$out/$image" "$out/boot-image"
