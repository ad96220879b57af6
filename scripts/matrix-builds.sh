#!/bin/sh
# Usage: scripts/matrix-builds.sh   (make matrix STEPS=builds; part of make check)
# Every arch of $MATRIX_ARCHES with our fragment (common + ARCH): x86_64 and
# arm64 link vmlinux (make check's guest kernels), the others compile the
# objects the series touches; then with USERFAULTFD, TRANSPARENT_HUGEPAGE,
# HUGETLBFS, MEM_SOFT_DIRTY, PROC_PAGE_MONITOR off one at a time and all
# together, compiling the touched objects. On the 32-bit arches whose kernel
# has no libgcc (i386, arm, powerpc) a touched object that calls a 64-bit
# division helper fails the cell: that is the link error a 32-bit link finds.
# scripts/matrix-lib.sh has what the gates share.
. scripts/matrix-lib.sh
# In order of what they add: the guests' arches, arc (HPAGE_SIZE only with
# THP), the 32-bit ones (64-bit division, 32-bit big-endian powerpc),
# sparc64, then the other 64-bit ones.
arches=${MATRIX_ARCHES:-x86_64 arm64 arc i386 arm powerpc sparc64 riscv64 powerpc64le s390x}
# Arches with the single-option-off cells (the others: full and all-off only,
# to stay in the CI budget): x86_64 has every option the series touches,
# arm64 gets uffd-wp from the series, arm is 32-bit with THP only under LPAE,
# arc defines HPAGE_SIZE only with THP (the build break of the review this
# series grew from).
single=${MATRIX_SINGLE-x86_64 arm64 arm arc}
# Arches whose full cell links vmlinux. x86_64 and arm64 link in make
# check's out dirs, where only the touched objects are rebuilt. On the other
# arches the full cell compiles the touched objects, as the option-off cells
# do: what can break there, and on a cold ccache a tenth of a link (a cross
# vmlinux took 234-844 s; MATRIX_LINKED="x86_64 i386 arm64 arm riscv64
# powerpc64le s390x" links them all).
linked=${MATRIX_LINKED-x86_64 arm64}

# divcheck ARCH OUT OBJS: the objects OBJS of OUT that call libgcc's 64-bit
# division (u64 / u64 without div64_u64()), on the 32-bit arches whose
# kernel does not provide it; prints "OBJ: SYMBOL" lines.
divcheck() {
	case $1 in
	i386) nm=nm ;;
	arm) nm=arm-linux-gnueabihf-nm ;;
	powerpc) nm=powerpc-linux-gnu-nm ;;
	*) return 0 ;;
	esac
	dout=$2
	shift 2
	for o in "$@"; do
		case $o in *.o) ;; *) continue ;; esac
		u=$("$nm" -u "$dout/$o") || { echo "$o: $nm failed"; continue; }
		echo "$u" | awk -v o="$o" \
			'$NF ~ /^(__u?(div|mod)di3|__u?divmoddi4|__aeabi_u?ldivmod)$/ { print o ": " $NF }'
	done
}

# off NAME: the fragment that switches option group NAME off.
off() {
	case $1 in
	uffd) o="USERFAULTFD PTE_MARKER_UFFD_WP" ;;
	# READ_ONLY_THP_FOR_FS (common.config) depends on THP: off with it.
	thp) o="TRANSPARENT_HUGEPAGE TRANSPARENT_HUGEPAGE_MADVISE READ_ONLY_THP_FOR_FS" ;;
	hugetlbfs) o="HUGETLBFS HUGETLB_PAGE" ;;
	softdirty) o="MEM_SOFT_DIRTY" ;;
	pagemon) o="PROC_PAGE_MONITOR MEM_SOFT_DIRTY" ;;
	all) o="USERFAULTFD PTE_MARKER_UFFD_WP TRANSPARENT_HUGEPAGE TRANSPARENT_HUGEPAGE_MADVISE
		READ_ONLY_THP_FOR_FS HUGETLBFS HUGETLB_PAGE MEM_SOFT_DIRTY PROC_PAGE_MONITOR" ;;
	esac
	f=build/out/matrix-frags/off-$1.config
	for x in $o; do echo "# CONFIG_$x is not set"; done >"$f"
	echo "$f"
}

# cell ARCH VARIANT: one build cell; prints PASS, FAIL, skip or n/a.
cell() {
	a=$1 v=$2
	n=$a-$v
	if late; then
		verdict SKIP "matrix $n" "$LATE"
		echo skip
		return
	fi
	# x86_64 and arm64 link in make check's out dirs; everything else in
	# build/out/matrix-ARCH (at the same depth: ccache keys are relative).
	out=build/out/matrix-$a
	case $a-$v in x86_64-full | arm64-full) out=build/out/$a ;; esac
	extra=
	if [ "$v" != full ]; then
		# An option the arch does not have cannot be switched off.
		case $v in softdirty) opt=MEM_SOFT_DIRTY ;; *) opt= ;; esac
		if [ -n "$opt" ] && ! grep -q "^CONFIG_$opt=y" "$out/.config" 2>/dev/null &&
			! grep -q "^CONFIG_$opt=y" "build/out/matrix-$a/.config" "build/out/$a/.config" 2>/dev/null; then
			echo n/a
			return
		fi
		extra=$(off "$v")
	fi
	if [ "$v" = full ] && case " $linked " in *" $a "*) true ;; *) false ;; esac; then
		# Recompile the touched objects (ccache replays their warnings), link.
		for o in $(objects); do rm -f "$out/$o"; done
		targets=vmlinux
	else
		# Configure first, to know which touched objects this config builds.
		EXTRA_CONFIG=$extra TARGETS=syncconfig sh scripts/build-kernel.sh "$a" "$tree" "$out" \
			>"$mlog/$n.log" 2>&1 || { verdict FAIL "matrix $n" "config"; echo FAIL; return; }
		targets=$(tobjs "$out")
		for o in $targets; do rm -f "$out/$o"; done
	fi
	if ! kbuild "$n" "$a" "$tree" "$out" "$extra" "$targets" ""; then
		verdict FAIL "matrix $n" "build, see build/logs/matrix/$n.log"
		echo FAIL
		return
	fi
	divcheck "$a" "$out" $targets >"$mlog/$n.div"
	if [ -s "$mlog/$n.div" ]; then
		verdict FAIL "matrix $n" "calls a 64-bit division helper the kernel lacks (a link fails): $(tr '\n' ' ' <"$mlog/$n.div")"
		echo FAIL
		return
	fi
	ours "$mlog/$n.warn" >"$mlog/$n.ours"
	if [ -s "$mlog/$n.ours" ]; then
		# Same config and objects on the base; only new warnings count.
		bout=build/out/matrix-base-$a
		EXTRA_CONFIG=$extra TARGETS=syncconfig sh scripts/build-kernel.sh "$a" "$base" "$bout" \
			>/dev/null 2>&1
		bt=$(tobjs "$bout")
		for o in $bt; do rm -f "$bout/$o"; done
		kbuild "base-$n" "$a" "$base" "$bout" "$extra" "$bt" "" || true
		cp "$mlog/$n.ours" "$mlog/$n.warn"
		if ! newwarn "$n" "base-$n"; then
			verdict FAIL "matrix $n" "new warnings: $(tr '\n' ' ' <"$mlog/$n.new")"
			echo FAIL
			return
		fi
	fi
	verdict PASS "matrix $n"
	echo PASS
}

step_builds() {
	variants="full uffd thp hugetlbfs softdirty pagemon all"
	printf '%-12s' arch
	for v in $variants; do printf ' %-9s' "$v"; done
	echo
	for a in $arches; do
		printf '%-12s' "$a"
		for v in $variants; do
			case " full all $single " in
			*" $v "* | *" $a "*) printf ' %-9s' "$(cell "$a" "$v")" ;;
			*) printf ' %-9s' - ;;
			esac
		done
		echo
	done
	unlinked=$(for a in $arches; do case " $linked " in *" $a "*) ;; *) printf '%s ' "$a" ;; esac; done)
	echo "(full: our fragment, vmlinux linked${unlinked:+ (${unlinked% }: the touched objects)};"
	echo " i386, arm, powerpc: no touched object calls a 64-bit division helper;"
	echo " the others: that option off, or all"
	echo " of them (all), compiling the touched objects: $(objects | tr '\n' ' ');"
	echo " n/a: the arch has no such option; -: not built, to stay in the CI budget)"
}

gate builds step_builds
