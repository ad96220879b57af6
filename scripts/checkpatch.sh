#!/bin/sh
# checkpatch.pl --strict over every patch of patches/series, using the
# script of the base tree. One line per patch: "PASS|FAIL checkpatch: FILE".
set -u
for p in $(grep -v '^[[:space:]]*\(#\|$\)' patches/series); do
	case $p in *cover-letter*) continue ;; esac
	if (cd build/base && perl scripts/checkpatch.pl --strict -q --no-color "../../patches/$p") >/tmp/checkpatch.$$ 2>&1; then
		echo "PASS checkpatch: $p"
	else
		echo "FAIL checkpatch: $p: $(grep '^total:' /tmp/checkpatch.$$)"
		sed 's/^/    /' /tmp/checkpatch.$$ >&2
	fi
done
rm -f /tmp/checkpatch.$$
