#!/bin/sh
# Usage: scripts/matrix-bisect.sh   (make matrix STEPS=bisect; part of make check)
# Every prefix of the series builds (x86_64, our fragment, one incremental
# out dir); at a prefix whose kernel differs from the whole series', the
# series' own tests that exist there run in a guest.
# scripts/matrix-lib.sh has what the gates share.
. scripts/matrix-lib.sh

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

gate bisect step_bisect
