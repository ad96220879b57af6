#!/bin/sh
# stress-ng's userfaultfd and mmap stressors (Debian's binary, copied into
# the initramfs with its libraries by build-guest.sh) with --verify, their
# file mappings on ext4, while pagescan lists every stress-ng process from
# outside (PAGEMAP_SCAN over their userfaultfd-registered, file, THP and
# hugetlb VMAs). TAP: stress-ng's verdict, then the scans'.
# Usage: stress-ng.sh [SECONDS]
secs=${1:-60}
dir=/mnt/ext4
[ -d $dir ] || dir=/tmp
echo "TAP version 13"
echo "1..2"
if ! command -v stress-ng >/dev/null; then
	echo "ok 1 # SKIP stress-ng (not in this initramfs)"
	echo "ok 2 # SKIP pagescan of stress-ng (not in this initramfs)"
	exit 0
fi
stress-ng --userfaultfd 2 --mmap 2 --mmap-file --mmap-async --mmaphuge 1 \
	--madvise 1 --mremap 1 --verify --temp-path $dir --timeout "${secs}s" \
	--metrics-brief >/tmp/stress-ng.out 2>&1 &
pid=$!
scans=0 bad=0 gone=0

# PID is gone, a zombie or exiting within 5 s
exiting() {
	i=0
	while [ $i -lt 50 ]; do
		state=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' /proc/$1/status 2>/dev/null)
		case "$state" in
		'' | Z | X) return 0 ;;
		esac
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
while kill -0 $pid 2>/dev/null; do
	for p in $(pidof stress-ng); do
		[ "$p" = "$pid" ] && continue
		out=$(pagescan list "$p" 2>&1)
		rc=$?
		# A worker may exit under the scan: pagescan then exits 66 ("no
		# process with PID", "process N exited": ESRCH from the ioctl
		# once its mm is gone, while /proc/N stays until it is reaped).
		# 66 is fine only if the worker is on its way out.
		if [ $rc -eq 66 ] && exiting "$p"; then
			echo "# pagescan list $p: exit 66, the worker exited: $(echo "$out" | tail -n 1)"
			gone=$((gone + 1))
			rc=0
		fi
		if [ $rc -ne 0 ]; then
			echo "# pagescan list $p: exit $rc: $(echo "$out" | tail -n 1)"
			bad=$((bad + 1))
		fi
		scans=$((scans + 1))
	done
	sleep 1
done
wait $pid
rc=$?
sed 's/^/# /' /tmp/stress-ng.out
if [ $rc -eq 0 ]; then
	echo "ok 1 stress-ng userfaultfd, mmap (ext4 file), mmaphuge, madvise, mremap --verify ${secs}s"
else
	echo "not ok 1 stress-ng userfaultfd, mmap (ext4 file), mmaphuge, madvise, mremap --verify ${secs}s (exit $rc)"
fi
if [ $bad -eq 0 ] && [ $scans -gt 0 ]; then
	echo "ok 2 pagescan list of the stress-ng workers, $scans scans ($gone of a worker exiting)"
else
	echo "not ok 2 pagescan list of the stress-ng workers: $bad of $scans failed"
fi
[ $rc -eq 0 ] && [ $bad -eq 0 ]
