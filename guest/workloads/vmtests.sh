#!/bin/sh
# The kernel's tools/testing/selftests/vm/run_vmtests.sh, run once in the
# guest as the kselftest runner would, turned into TAP: its output as TAP
# comments, then one line per run_test ([PASS] ok, [SKIP] skip, [FAIL] not
# ok), and the plan. A test the guest does not have (not built, see
# scripts/build-guest.sh, or sudo) is a skip saying so; one that fails on
# the unpatched base too is a TODO with the reason (TAP: not a failure).
# /init has reserved the hugetlb pages already, so run_vmtests.sh keeps them
# all through (it puts back the number it found). make vmtests runs it (x86_64;
# about 10 CPU-minutes, too long for make check's budget).
cd /tests || exit 1
bash ./run_vmtests.sh 2>&1 | awk '
	# Failures that are not the series: the reason, or "".
	function known(cmd) {
		if (cmd ~ /^\.\/hugetlb-madvise /)
			return "fails on the unpatched base too (its free huge page count after MADV_DONTNEED of an unaligned length)"
		if (cmd ~ /^\.\/map_populate/)
			return "socketpair() needs CONFIG_NET, which the guest kernels leave out"
		if (cmd ~ /^\.\/va_128TBswitch/)
			return "reads the kernel config from /proc/config.gz, which the guest kernels leave out"
		return ""
	}
	function missing(cmd,   w) {
		split(cmd, w, " ")
		if (w[1] ~ /^\.\//)
			return system("test -x " w[1]) != 0 ? w[1] " is not in the guest" : ""
		return system("command -v " w[1] " >/dev/null") != 0 ? w[1] " is not in the guest" : ""
	}
	function result(v,   why) {
		n++
		why = v == "FAIL" ? missing(cmd) : ""
		if (why != "")
			printf "ok %d - %s # SKIP %s\n", n, cmd, why
		else if (v == "FAIL" && known(cmd) != "") {
			printf "not ok %d - %s # TODO %s\n", n, cmd, known(cmd)
		} else if (v == "FAIL") {
			printf "not ok %d - %s\n", n, cmd
			bad++
		} else
			printf "ok %d - %s%s\n", n, cmd, v == "SKIP" ? " # SKIP" : ""
		cmd = ""
	}
	BEGIN { print "TAP version 13" }
	# run_test prints "running CMD" between two separator lines (which
	# busybox tr garbles), then the output of CMD, then its verdict.
	cmd == "" && /^running / { cmd = substr($0, 9) }
	{ print "# " $0 }
	cmd != "" && /^\[(PASS|SKIP|FAIL)\]$/ { result(substr($0, 2, 4)) }
	END { printf "1..%d\n", n; exit bad > 0 }'
