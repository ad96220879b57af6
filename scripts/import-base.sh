#!/bin/sh
# Import the pinned Debian 6.1 source as a one-commit git repository,
# build/base (tag "base"). Every kernel tree of the project is cloned from it.
set -eu
. ./base.conf
dest=build/base

if git -C "$dest" rev-parse -q --verify base >/dev/null 2>&1; then
	exit 0
fi

have=$(dpkg-query -W -f '${Version}' "$BASE_PKG" 2>/dev/null || true)
if [ "$have" != "$BASE_VERSION" ]; then
	sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get install -y -q "$BASE_PKG=$BASE_VERSION" >/dev/null 2>&1 || true
	have=$(dpkg-query -W -f '${Version}' "$BASE_PKG" 2>/dev/null || true)
fi
if [ -z "$have" ]; then
	echo "import-base: $BASE_PKG is not installed; run 'make deps'" >&2
	exit 1
fi
if [ "$have" != "$BASE_VERSION" ]; then
	cat >&2 <<MSG
##########################################################################
# WARNING: pinned base $BASE_PKG $BASE_VERSION is not available.
# WARNING: falling back to the installed $BASE_PKG $have.
# WARNING: results are NOT from the pinned base; update base.conf if the
# WARNING: series is moved to this version on purpose.
##########################################################################
MSG
else
	sum=$(sha256sum "$BASE_TARBALL" | cut -d' ' -f1)
	if [ "$sum" != "$BASE_SHA256" ]; then
		echo "import-base: $BASE_TARBALL sha256 $sum, expected $BASE_SHA256" >&2
		exit 1
	fi
fi

echo "import-base: extracting $BASE_PKG $have into $dest"
rm -rf "$dest" "$dest.tmp"
mkdir -p "$dest.tmp"
tar -xJf "$BASE_TARBALL" -C "$dest.tmp" --strip-components=1
cd "$dest.tmp"
git init -q -b base-import
git config core.abbrev 12
git add -A -f
GIT_AUTHOR_NAME="Debian $BASE_PKG" GIT_AUTHOR_EMAIL="none@debian.invalid" \
GIT_COMMITTER_NAME="Debian $BASE_PKG" GIT_COMMITTER_EMAIL="none@debian.invalid" \
GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
	git commit -q -m "Linux $(make -s kernelversion) from Debian $BASE_PKG $have"
git tag base
cd - >/dev/null
mv "$dest.tmp" "$dest"
echo "import-base: base is $(git -C "$dest" rev-parse --short=12 base)"
