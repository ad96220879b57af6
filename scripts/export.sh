#!/bin/sh
# make export: write build/linux's base..HEAD back to patches/ as git
# format-patch files plus patches/series. Output is stable: zeroed commit ids,
# no version signature, fixed numbering; re-exporting an unchanged tree
# changes no file. The cover letter keeps its subject and text; its shortlog,
# diffstat and base-commit are regenerated. It is not in the series (quilt and
# git quiltimport take every entry there as a patch).
set -eu
tree=build/linux
stamp=build/linux.exported
cover=patches/0000-cover-letter.patch

if [ -n "$(git -C "$tree" status --porcelain)" ]; then
	echo "make export: $tree has uncommitted changes; commit them first" >&2
	exit 1
fi
if [ "$(git -C "$tree" rev-list --count base..HEAD)" -eq 0 ]; then
	echo "# The series, in order; 'make tree' applies it on the base of base.conf." >patches/series
	git -C "$tree" rev-parse HEAD >"$stamp"
	echo "make export: no patches on base"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$tree" -c core.abbrev=12 -c diff.noprefix=false -c diff.mnemonicPrefix=false \
	format-patch -q -o "$tmp" --cover-letter --numbered --zero-commit \
	--no-signature --no-thread --base=base base..HEAD

# Put our subject and text into the generated cover letter and give it the
# date of the newest patch, so that it only changes when the series does.
new=$(ls "$tmp"/0000-*)
date=$(git -C "$tree" log -1 --format='Date: %aD' HEAD)
subject=$(sed -n 's/^Subject: \[PATCH [0-9]*\/[0-9]*\] //p' "$cover" 2>/dev/null || true)
[ -n "$subject" ] || subject="*** SUBJECT HERE ***"
awk 'body && /^[^ ].* \([0-9]+\):$/ { exit } body { print } /^$/ { body = 1 }' "$cover" 2>/dev/null >"$tmp/blurb" || true
[ -s "$tmp/blurb" ] || printf '*** BLURB HERE ***\n\n' >"$tmp/blurb"
awk -v date="$date" -v subject="$subject" -v blurb="$tmp/blurb" '
	/^Date: / && !hdr { print date; next }
	/^Subject: / && !hdr { sub(/\*\*\* SUBJECT HERE \*\*\*/, subject); print; next }
	/^\*\*\* BLURB HERE \*\*\*$/ { while ((getline l < blurb) > 0) print l; skip = 1; next }
	skip && /^$/ { skip = 0; next }
	/^$/ { hdr = 1 }
	{ print }' "$new" >"$tmp/cover"
mv "$tmp/cover" "$new"

rm -f patches/0*.patch
cp "$tmp"/0*.patch patches/
{
	echo "# The series, in order; 'make tree' applies it on the base of base.conf."
	(cd "$tmp" && ls 0*.patch | grep -v '^0000-cover-letter')
} >patches/series
git -C "$tree" rev-parse HEAD >"$stamp"
echo "make export: $(git -C "$tree" rev-list --count base..HEAD) patches written to patches/"
