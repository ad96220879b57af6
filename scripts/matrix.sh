#!/bin/sh
# Usage: scripts/matrix.sh [STEP...]   (make matrix; make check runs each STEP)
# 0-day style gates for the series in build/linux, against the base in
# build/base. One "PASS|FAIL name" line per cell in build/logs/matrix-STEP.results,
# logs in build/logs/matrix/, a table on stdout (and in build/logs/matrix-STEP.txt).
#   builds    every arch of $MATRIX_ARCHES with our fragment (common + ARCH),
#             vmlinux linked (arc, powerpc, sparc64: the touched objects);
#             then with USERFAULTFD, TRANSPARENT_HUGEPAGE, HUGETLBFS,
#             MEM_SOFT_DIRTY, PROC_PAGE_MONITOR off one at a time and all
#             together, compiling the objects the series touches.
#   warnings  the touched objects with W=1 (gcc and LLVM=1 clang: x86_64,
#             i386), sparse (C=2) and coccinelle (coccicheck MODE=report) on
#             x86_64: no warning the base has not. (Nothing is linked here:
#             the builds gate links with gcc.)
#   bisect    every prefix of the series builds (x86_64, our fragment, one
#             incremental out dir); at a prefix whose kernel differs from the
#             whole series', the series' own tests that exist there run in a guest.
# A build cell also fails on a warning in a file the series changes that the
# base, built the same way, does not have.
set -u
top=$(pwd)
tree=build/linux
base=build/base
mlog=build/logs/matrix
mkdir -p "$mlog" build/out/matrix-frags
arches=${MATRIX_ARCHES:-x86_64 i386 arm64 arm riscv64 powerpc64le s390x arc powerpc sparc64}
# Arches with the single-option-off cells (the others: full and all-off only,
# to stay in the CI budget): x86_64 has every option the series touches,
# arm64 gets uffd-wp from the series, arm is 32-bit with THP only under LPAE,
# arc defines HPAGE_SIZE only with THP (the build break of the review this
# series grew from).
single=${MATRIX_SINGLE-x86_64 arm64 arm arc}
# Arches whose full cell links vmlinux; on the others (arc, 32-bit big-endian
# powerpc, sparc64) it compiles the touched objects, as the option-off cells
# do, which is what can break there and costs a fraction of a link.
linked=${MATRIX_LINKED-x86_64 i386 arm64 arm riscv64 powerpc64le s390x}
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"

# The objects the series touches: each kernel .c file it changes, plus the
# main users of the helpers it changes in include/linux/userfaultfd_k.h.
objects() {
	{
		git -C "$tree" diff --name-only base..HEAD -- '*.c' | grep -v '^tools/' | sed 's/\.c$/.o/'
		echo mm/huge_memory.o
		echo mm/shmem.o
	} | sort -u
}
# Files the series changes (warnings located there are ours).
changed=$(git -C "$tree" diff --name-only base..HEAD | grep -v '^tools/\|^Documentation/')

# built OUT OBJ: whether OUT's .config builds OBJ (from its directory's
# Makefile); an object under arch/ only for its own arch ($a, the cell's).
built() {
	case $2 in arch/*)
		case $a in x86_64 | i386) d=x86 ;; riscv64) d=riscv ;; powerpc64le) d=powerpc ;;
		s390x) d=s390 ;; sparc64) d=sparc ;; *) d=$a ;; esac
		case $2 in arch/"$d"/*) ;; *) return 1 ;; esac ;;
	esac
	b=${2##*/}
	opt=$(grep "[[:space:]]${b%.o}\.o" "$tree/${2%/*}/Makefile" |
		sed -n 's/^[a-z-]*-\$(\(CONFIG_[A-Z0-9_]*\)).*/\1/p' | head -n 1)
	[ -z "$opt" ] || grep -q "^$opt=y" "$1/.config"
}
# Warning lines, normalized to "file: message" (no tree prefix, no line).
norm() {
	grep -E '^[^ :]+\.[chS]:[0-9]+(:[0-9]+(-[0-9]+)?)?: ' | grep -v ': note: ' |
		sed -E 's#^(\.\./)*##; s#^/[^:]*/build/#build/#; s#^(build/)?(bisect/)?(linux|base)/##;
			s#^([^:]*):[0-9]+(:[0-9]+(-[0-9]+)?)?:#\1:#' | LC_ALL=C sort -u
}
# Of those, the ones in files the series changes.
ours() {
	for f in $changed; do grep "^$f: " "$1"; done | LC_ALL=C sort -u
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
# kbuild NAME ARCH TREE OUT EXTRA TARGETS ARGS: one build, logged in
# $mlog/NAME.log, its normalized warnings in $mlog/NAME.warn.
kbuild() {
	kn=$1
	ks=$(date +%s)
	EXTRA_CONFIG=$5 TARGETS=$6 KMAKE_ARGS=$7 sh scripts/build-kernel.sh "$2" "$3" "$4" \
		>"$mlog/$kn.log" 2>&1
	kr=$?
	norm <"$mlog/$kn.log" >"$mlog/$kn.warn"
	echo "$kn: exit $kr, $(wc -l <"$mlog/$kn.warn") warnings, $(($(date +%s) - ks)) s" >>"$mlog/times"
	return $kr
}
# tobjs OUT: the touched objects OUT's config builds.
tobjs() {
	for o in $(objects); do built "$1" "$o" && echo "$o"; done
}
# newwarn NAME BASENAME: warnings of NAME that BASENAME lacks, into NAME.new.
# Those listed in config/matrix-allowed.txt (with their reason) do not count.
newwarn() {
	grep -v '^#' config/matrix-allowed.txt | LC_ALL=C sort -u >"$mlog/allowed"
	LC_ALL=C comm -23 "$mlog/$1.warn" "$mlog/$2.warn" | LC_ALL=C comm -23 - "$mlog/allowed" >"$mlog/$1.new"
	[ ! -s "$mlog/$1.new" ]
}
res=
verdict() { # VERDICT NAME [NOTE]
	echo "$1 $2${3:+ ($3)}" >>"$res"
}

# late: make check's deadline for starting work (CHECK_DEADLINE, seconds
# since the epoch) has passed; what is not started then is recorded as SKIP.
late() {
	[ -n "${CHECK_DEADLINE:-}" ] && [ "$(date +%s)" -ge "$CHECK_DEADLINE" ]
}
LATE="not started: over make check's time budget; make matrix runs it"

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
		EXTRA_CONFIG=$extra TARGETS=olddefconfig sh scripts/build-kernel.sh "$a" "$tree" "$out" \
			>"$mlog/$n.log" 2>&1 || { verdict FAIL "matrix $n" "config"; echo FAIL; return; }
		targets=$(tobjs "$out")
		for o in $targets; do rm -f "$out/$o"; done
	fi
	if ! kbuild "$n" "$a" "$tree" "$out" "$extra" "$targets" ""; then
		verdict FAIL "matrix $n" "build, see build/logs/matrix/$n.log"
		echo FAIL
		return
	fi
	ours "$mlog/$n.warn" >"$mlog/$n.ours"
	if [ -s "$mlog/$n.ours" ]; then
		# Same config and objects on the base; only new warnings count.
		bout=build/out/matrix-base-$a
		EXTRA_CONFIG=$extra TARGETS=olddefconfig sh scripts/build-kernel.sh "$a" "$base" "$bout" \
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
	echo " the others: that option off, or all"
	echo " of them (all), compiling the touched objects: $(objects | tr '\n' ' ');"
	echo " n/a: the arch has no such option; -: not built, to stay in the CI budget)"
}

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
		EXTRA_CONFIG= TARGETS=olddefconfig KMAKE_ARGS=$args sh scripts/build-kernel.sh "$a" "$src" "$out" \
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

# Every prefix of the series, in a worktree laid out like build/linux and
# build/out/x86_64 so that ccache hits what make check built.
step_bisect() {
	wt=build/bisect/linux
	out=build/bisect/out/x86_64
	# A worktree of an earlier build/linux (make tree makes it anew) is stale.
	{ [ -f "$wt/.git" ] && git -C "$wt" rev-parse -q --verify HEAD >/dev/null 2>&1; } || rm -rf "$wt"
	if [ ! -d "$wt" ]; then
		mkdir -p build/bisect
		git -C "$tree" worktree prune
		git -C "$tree" worktree add -q --detach "$top/$wt" base || return 1
	fi
	added=$(git -C "$tree" diff --name-only --diff-filter=A base..HEAD -- 'tools/testing/selftests/vm/*.c' |
		sed 's#.*/##; s#\.c$##')
	head=$(git -C "$tree" rev-parse HEAD)
	k=0
	for c in $(git -C "$tree" rev-list --reverse base..HEAD); do
		k=$((k + 1))
		subj=$(git -C "$tree" log -1 --format=%s "$c")
		if late; then
			verdict SKIP "bisect $k builds" "$subj: $LATE"
			printf '%2d  %-60s skip\n' "$k" "$subj"
			continue
		fi
		git -C "$wt" checkout -q --detach "$c"
		n=bisect-$k
		if ! kbuild "$n" x86_64 "$wt" "$out" "" "" ""; then
			verdict FAIL "bisect $k builds" "$subj"
			printf '%2d  %-60s build FAIL\n' "$k" "$subj"
			continue
		fi
		ours "$mlog/$n.warn" >"$mlog/$n.ours"
		verdict PASS "bisect $k builds" "$subj"
		tests=-
		# Boot only where the kernel differs from the whole series' kernel
		# (make check boots that one) and the series has tests already.
		if ! late && ! git -C "$tree" diff --quiet "$c" "$head" -- . ':!tools' ':!Documentation' ':!MAINTAINERS'; then
			list=build/bisect/tests.list
			grep -v '^[[:space:]]*\(#\|$\)' guest/tests.list | while read -r ar nm tmo bin rest; do
				b=${bin%.32}
				case ",$ar," in ,all,|*,x86_64,*) ;; *) continue ;; esac
				for t in $added; do
					[ "$b" = "$t" ] && [ -f "$wt/tools/testing/selftests/vm/$t.c" ] &&
						echo "$ar $nm $tmo $bin $rest"
				done
			done >"$list"
			if [ -s "$list" ]; then
				if TESTS_LIST=$list sh scripts/build-guest.sh x86_64 "$wt" "$out" >"$mlog/$n-guest.log" 2>&1; then
					NAME=$n sh scripts/run-guest.sh x86_64 "$out" >>"$mlog/$n-guest.log" 2>&1
					tests="$(grep -c '^PASS' "build/logs/$n.results") passed, $(grep -c '^FAIL' "build/logs/$n.results") failed"
				else
					verdict FAIL "bisect $k tests build"
					tests="tests do not build"
				fi
			fi
		fi
		printf '%2d  %-60s build PASS, tests: %s\n' "$k" "$subj" "$tests"
	done
}

[ -d "$tree/.git" ] && [ -d "$base" ] || { echo "matrix: needs build/linux and build/base (make tree)" >&2; exit 1; }
steps=${*:-builds warnings bisect}
fail=0
for s in $steps; do
	res=build/logs/matrix-$s.results
	: >"$res"
	t0=$(date +%s)
	echo "matrix: $s"
	"step_$s" | tee "build/logs/matrix-$s.txt"
	echo "matrix: $s took $(($(date +%s) - t0)) s"
	grep -q '^FAIL' "$res" && fail=1
done
exit $fail
