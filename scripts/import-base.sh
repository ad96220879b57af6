#!/bin/sh
# Import the pinned Debian 6.1 source as a one-commit git repository,
# build/base (tag "base"). Every kernel tree of the project is cloned from it.
#
# The package is downloaded (apt-get download) and unpacked into build/, not
# installed, so no installed package is changed or downgraded. Policy for
# Debian's security revisions (6.1.192-N, every few weeks): base.conf pins one
# and its tarball's sha256; when the archive no longer serves it, the newest
# revision of the same upstream release is used instead, with a warning on
# the console and in build/base.version (make check prints it again at the
# end). A different upstream release is never taken silently: it fails.
# Moving the pin is an edit of base.conf (version and sha256) in a commit.
set -eu
. ./base.conf
dest=build/base
info=build/base.version # "VERSION pinned" or "VERSION FALLBACK (pinned ...)"

if git -C "$dest" rev-parse -q --verify base >/dev/null 2>&1 && [ -s "$info" ]; then
	exit 0
fi
mkdir -p build/debs
upstream=${BASE_VERSION%-*}
status=pinned
deb=build/debs/${BASE_PKG}_${BASE_VERSION}_all.deb
if [ ! -s "$deb" ]; then
	(cd build/debs && apt-get download -q "$BASE_PKG=$BASE_VERSION" 2>../debs.err >/dev/null) ||
		{ apt-get update -q >/dev/null 2>&1 || true
		  (cd build/debs && apt-get download -q "$BASE_PKG=$BASE_VERSION" 2>../debs.err >/dev/null); } ||
		status=missing
fi
version=$BASE_VERSION
if [ $status = missing ]; then
	# The newest revision of the same upstream release the archive has.
	version=$(apt-cache madison "$BASE_PKG" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' |
		grep "^$upstream-" | sort -V | tail -n 1)
	if [ -z "$version" ]; then
		echo "import-base: ERROR: the archive serves neither the pinned $BASE_PKG $BASE_VERSION" >&2
		echo "import-base: nor any other $upstream-N revision:" >&2
		sed 's/^/  /' build/debs.err >&2
		exit 1
	fi
	deb=build/debs/${BASE_PKG}_${version}_all.deb
	[ -s "$deb" ] || (cd build/debs && apt-get download -q "$BASE_PKG=$version" >/dev/null)
	status="FALLBACK (pinned $BASE_VERSION is not in the archive)"
	cat >&2 <<MSG
##########################################################################
# WARNING: the pinned base $BASE_PKG $BASE_VERSION is not in the archive.
# WARNING: using $BASE_PKG $version, the newest revision of $upstream.
# WARNING: pin it in base.conf (version and sha256) if the series moves.
##########################################################################
MSG
fi

rm -rf "$dest" "$dest.tmp" build/debs/x
dpkg-deb -x "$deb" build/debs/x
tarball=build/debs/x$BASE_TARBALL
sum=$(sha256sum "$tarball" | cut -d' ' -f1)
if [ "$status" = pinned ] && [ "$sum" != "$BASE_SHA256" ]; then
	echo "import-base: ERROR: $BASE_PKG $BASE_VERSION tarball has sha256 $sum, base.conf pins $BASE_SHA256" >&2
	exit 1
fi
echo "import-base: extracting $BASE_PKG $version ($status) into $dest"
mkdir -p "$dest.tmp"
tar -xJf "$tarball" -C "$dest.tmp" --strip-components=1
rm -rf build/debs/x
cd "$dest.tmp"
git init -q -b base-import
git config core.abbrev 12
git add -A -f
GIT_AUTHOR_NAME="Debian $BASE_PKG" GIT_AUTHOR_EMAIL="none@debian.invalid" \
GIT_COMMITTER_NAME="Debian $BASE_PKG" GIT_COMMITTER_EMAIL="none@debian.invalid" \
GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
	git commit -q -m "Linux $(make -s kernelversion) from Debian $BASE_PKG $version"
git tag base
cd - >/dev/null
mv "$dest.tmp" "$dest"
echo "$version $status" >"$info"
echo "import-base: base is $BASE_PKG $version ($status), commit $(git -C "$dest" rev-parse --short=12 base)"
