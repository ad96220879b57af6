#!/bin/sh
# The Debian packages only make bench needs (not make check): mainline's
# source as the reference kernel, and gnuplot for the plots.
set -eu
pkgs="linux-source-6.12 gnuplot-nox"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
missing=
for p in $pkgs; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "bench-deps: installing$missing"
	$sudo apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
