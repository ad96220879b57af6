# Sourced by the gate scripts scripts/matrix-{builds,warnings,bisect}.sh
# (make matrix; make check runs each), from the top directory: the 0-day
# style gates for the series in build/linux, against the base in build/base.
# Each gate writes one "PASS|FAIL|SKIP name" line per cell to
# build/logs/matrix-GATE.results, its table to stdout and
# build/logs/matrix-GATE.txt, build logs to build/logs/matrix/.
# A cell also fails on a warning in a file the series changes that the base,
# built the same way, does not have.
set -u
top=$(pwd)
tree=build/linux
base=build/base
mlog=build/logs/matrix
mkdir -p "$mlog" build/out/matrix-frags
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

# gate NAME FUNCTION: run a gate, its table on stdout and in
# build/logs/matrix-NAME.txt; exit 1 when a cell failed.
gate() {
	[ -d "$tree/.git" ] && [ -d "$base" ] ||
		{ echo "matrix: needs build/linux and build/base (make tree)" >&2; exit 1; }
	res=build/logs/matrix-$1.results
	: >"$res"
	t0=$(date +%s)
	echo "matrix: $1"
	"$2" | tee "build/logs/matrix-$1.txt"
	echo "matrix: $1 took $(($(date +%s) - t0)) s"
	! grep -q '^FAIL' "$res"
}
