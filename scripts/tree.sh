#!/bin/sh
# make tree: create build/linux, a git tree whose commit tagged "base" is the
# pristine base and whose later commits are patches/series, one commit each.
# Refuses to replace a build/linux holding work that `make export` has not
# written back to patches/.
# scripts/tree.sh update (make run, make check, every target that builds):
# the same, but only where build/linux is missing, or holds no unexported
# work and differs from patches/ (e.g. after a git pull), by the patch-ids of
# its commits and of the series; a build/linux with unexported work is used
# as it is, with a note.
set -eu
tree=build/linux
stamp=build/linux.exported # HEAD of build/linux when last created or exported

# build/linux holds commits not exported, or uncommitted changes
unexported() {
	[ -n "$(git -C "$tree" status --porcelain 2>/dev/null)" ] ||
		[ "$(git -C "$tree" rev-parse HEAD 2>/dev/null)" != "$(cat "$stamp" 2>/dev/null)" ]
}
# patch-id of each patch: of patches/series (series) or of build/linux (tree).
ids() {
	if [ "$1" = series ]; then
		for p in $(grep -v '^[[:space:]]*\(#\|$\)' patches/series); do
			git patch-id --stable <"patches/$p"
		done
	else
		for c in $(git -C "$tree" rev-list --reverse base..HEAD); do
			git -C "$tree" show "$c" | git patch-id --stable
		done
	fi | cut -d' ' -f1
}

if [ "${1:-}" = update ] && [ -d "$tree/.git" ]; then
	if unexported; then
		echo "make tree: NOTE: using $tree as it is: it holds work not exported to patches/"
		exit 0
	fi
	[ "$(ids tree)" = "$(ids series)" ] && exit 0
	echo "make tree: $tree is older than patches/; making it anew"
fi

if [ -e "$tree" ]; then
	if unexported; then
		echo "make tree: $tree holds work not exported to patches/; commit it and 'make export', or remove $tree" >&2
		exit 1
	fi
fi

sh scripts/import-base.sh
rm -rf "$tree" "$stamp"
git clone -q build/base "$tree"
git -C "$tree" checkout -q -b series base
git -C "$tree" config core.abbrev 12
git -C "$tree" remote remove origin
# quiltimport records a committer; fall back to a neutral one where none is configured.
git -C "$tree" config user.email >/dev/null || git -C "$tree" config user.email "build@localhost"
git -C "$tree" config user.name >/dev/null || git -C "$tree" config user.name "build"

# patches/series is a quilt series (the cover letter is beside it, not in
# it); git quiltimport makes one commit of each patch, as git am would.
if ! git -C "$tree" quiltimport --patches "$(pwd)/patches" >build/quiltimport.log 2>&1; then
	echo "make tree: the series does not apply on base $(git -C "$tree" describe --always base);" \
		"patch $(grep '\.patch$' build/quiltimport.log | tail -n 1) fails:" >&2
	grep -E '^(error|fatal)' build/quiltimport.log >&2 || true
	exit 1
fi
git -C "$tree" rev-parse HEAD >"$stamp"
echo "make tree: $tree has $(git -C "$tree" rev-list --count base..HEAD) patches on base"
