#!/bin/sh
# checkpatch.pl --strict over every patch of patches/series, using the
# script of the base tree. One line per patch: "PASS|FAIL checkpatch: FILE".
# 6.1's checkpatch asks "does MAINTAINERS need updating?" for every new file;
# instead of that warning, each new file must fall in a MAINTAINERS section
# (other than THE REST) of build/linux.
set -u
# checkpatch runs scripts/spdxcheck.py with the python3 on PATH; Debian's
# has the ply and git modules it needs (scripts/deps.sh), a pyenv one may not.
PATH=/usr/bin:$PATH
export PATH
tmp=$(mktemp)
for p in $(grep -v '^[[:space:]]*\(#\|$\)' patches/series); do
	ok=1
	(cd build/base && perl scripts/checkpatch.pl --strict -q --no-color \
		--ignore FILE_PATH_CHANGES "../../patches/$p") >"$tmp" 2>&1 || ok=0
	for f in $(sed -n 's/^ create mode [0-9]* //p' "patches/$p"); do
		s=$(cd build/linux && perl scripts/get_maintainer.pl --no-git --no-git-fallback \
			--sections -f "$f" 2>&1 | head -n 1)
		case $s in "" | "THE REST" | *"not found"*)
			ok=0
			echo "$f: no MAINTAINERS section covers it" >>"$tmp" ;;
		esac
	done
	if [ $ok = 1 ]; then
		echo "PASS checkpatch: $p"
	else
		echo "FAIL checkpatch: $p: $(grep '^total:' "$tmp")"
		sed 's/^/    /' "$tmp" >&2
	fi
done
rm -f "$tmp"
