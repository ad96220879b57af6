#!/bin/sh
# make tree: create build/linux, a git tree whose commit tagged "base" is the
# pristine base and whose later commits are patches/series, one commit each.
# Refuses to replace a build/linux holding work that `make export` has not
# written back to patches/.
set -eu
tree=build/linux
stamp=build/linux.exported # HEAD of build/linux when last created or exported

if [ -e "$tree" ]; then
	if [ -n "$(git -C "$tree" status --porcelain 2>/dev/null)" ]; then
		echo "make tree: $tree has uncommitted changes; commit them and 'make export', or remove $tree" >&2
		exit 1
	fi
	if [ "$(git -C "$tree" rev-parse HEAD 2>/dev/null)" != "$(cat "$stamp" 2>/dev/null)" ]; then
		echo "make tree: $tree has commits not exported to patches/; run 'make export', or remove $tree" >&2
		exit 1
	fi
fi

sh scripts/import-base.sh
rm -rf "$tree" "$stamp"
git clone -q build/base "$tree"
git -C "$tree" checkout -q -b series base
git -C "$tree" config core.abbrev 12
git -C "$tree" remote remove origin
# git am records a committer; fall back to a neutral one where none is configured.
git -C "$tree" config user.email >/dev/null || git -C "$tree" config user.email "build@localhost"
git -C "$tree" config user.name >/dev/null || git -C "$tree" config user.name "build"

for p in $(grep -v '^[[:space:]]*\(#\|$\)' patches/series); do
	case $p in *cover-letter*) continue ;; esac
	if ! git -C "$tree" am -q --keep-cr "$(pwd)/patches/$p" >/dev/null 2>&1; then
		git -C "$tree" am --abort
		echo "make tree: patch $p does not apply on base $(git -C "$tree" describe --always base):" >&2
		git -C "$tree" apply --check -v "$(pwd)/patches/$p" 2>&1 | grep -E '^(error|Checking|Hunk)' >&2 || true
		exit 1
	fi
done
git -C "$tree" rev-parse HEAD >"$stamp"
echo "make tree: $tree has $(git -C "$tree" rev-list --count base..HEAD) patches on base"
