// SPDX-License-Identifier: GPL-2.0
/*
 * pagescan-demo: a workload with a known memory layout, for the pagescan
 * demo (`make run`) and its tests.
 *
 *   pagescan-demo [-s] [-t SECONDS] [-r GIB]
 *   pagescan-demo --run-as UID PROGRAM [ARG...]
 *
 * It maps, in this order:
 *   reserve  1 TiB (or -r GIB) PROT_NONE, MAP_NORESERVE, like a sanitizer's
 *            shadow or a GC arena; three 16-page chunks, at 1/1024, 1/4 and
 *            3/4 of it, are made read-write, pages 0-3 of each written and
 *            pages 8-9 only read (the zero page)
 *   heap     4 MiB, MADV_NOHUGEPAGE, every page written; then registered
 *            with userfaultfd for async write-protect (UFFD_FEATURE_WP_ASYNC,
 *            where the kernel has it) and write-protected; pages 512-543 paged
 *            out (MADV_PAGEOUT, to zram swap)
 *   thp      4 MiB, MADV_HUGEPAGE: the first 2 MiB written (a THP), the
 *            second 2 MiB read (the huge zero page)
 *   file     1 MiB of a tmpfs file, MAP_SHARED, the first 128 pages written
 *   hugetlb  4 MiB MAP_HUGETLB, the first 2 MiB page written
 * then clears its soft-dirty bits (/proc/self/clear_refs) and writes heap
 * pages 16-31.  It prints the layout, "expect" lines (the VMAs and runs of
 * populated pages `pagescan list` must report), and "ready".  Then, unless
 * -s (static), it writes the heap in bursts (and a reserve chunk now and then)
 * for SECONDS (default 30); with --static it just waits that long.
 *
 * --run-as drops to UID (and its GID) and runs PROGRAM: the tests use it to
 * check pagescan's "permission denied".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/fs.h>
#include <linux/userfaultfd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define MiB (1UL << 20)
#define TiB (1UL << 40)
#define HUGE (2 * MiB)

static long psize;
static bool uffd_async, soft_dirty;

static void die(const char *what)
{
	fprintf(stderr, "pagescan-demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *map(size_t len, int prot, int flags)
{
	char *p = mmap(NULL, len, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* len bytes aligned to 2 MiB, so that a THP or hugetlb page fits. */
static char *map_aligned(size_t len, int prot)
{
	char *p = map(len + HUGE, prot, MAP_NORESERVE);
	char *a = (char *)(((unsigned long)p + HUGE - 1) & ~(HUGE - 1));

	if (a > p)
		munmap(p, a - p);
	munmap(a + len, p + HUGE - a);
	return a;
}

static void region(const char *name, char *p, size_t len, const char *what)
{
	printf("  %-8s %012lx-%012lx %6luK  %s\n", name, (unsigned long)p,
	       (unsigned long)p + len, len >> 10, what);
}

/*
 * Expected output of `pagescan list` for a VMA and its runs; adjacent runs
 * with the same categories are one run, as the kernel reports them.
 */
static char *run_start, *run_end;
static char run_cats[64];

static void flush_run(void)
{
	if (run_start)
		printf("expect-run %lx %lx %lu %s\n", (unsigned long)run_start,
		       (unsigned long)run_end, (run_end - run_start) / psize, run_cats);
	run_start = NULL;
}

static void expect_vma(char *p, size_t len, const char *perms, const char *name, bool async)
{
	flush_run();
	printf("expect-vma %lx %lx %s %s %s\n", (unsigned long)p, (unsigned long)p + len,
	       perms, async ? "true" : "false", name);
}

static void expect_run(char *p, size_t len, const char *cats)
{
	if (run_start && run_end == p && !strcmp(run_cats, cats)) {
		run_end += len;
		return;
	}
	flush_run();
	run_start = p;
	run_end = p + len;
	snprintf(run_cats, sizeof(run_cats), "%s", cats);
}

/* A written page: "present,written", or without "written" where protected. */
static const char *cats(const char *base, bool protected)
{
	static char buf[8][64];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s%s", base,
		 protected ? "" : ",written");
	return buf[i];
}

static bool have_soft_dirty(void)
{
	struct page_region r = { 0 };
	struct pm_scan_arg arg = { .size = sizeof(arg) };
	char *p = map(psize, PROT_READ | PROT_WRITE, 0);
	int fd = open("/proc/self/pagemap", O_RDONLY);
	bool ret;

	*p = 1;
	arg.start = (unsigned long)p;
	arg.end = arg.start + psize;
	arg.vec = (unsigned long)&r;
	arg.vec_len = 1;
	arg.return_mask = PAGE_IS_SOFT_DIRTY;
	ret = fd >= 0 && ioctl(fd, PAGEMAP_SCAN, &arg) == 1 && r.categories;
	close(fd);
	munmap(p, psize);
	return ret;
}

/* Register [p, p + len) for async write-protect and protect it. */
static bool register_async(char *p, size_t len)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED,
	};
	struct uffdio_register reg = {
		.range = { (unsigned long)p, len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = {
		.range = { (unsigned long)p, len },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return false;
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return false;	/* e.g. arm64 6.1: no uffd-wp at all */
	}
	if (ioctl(fd, UFFDIO_REGISTER, &reg) || ioctl(fd, UFFDIO_WRITEPROTECT, &wp))
		die("userfaultfd register/write-protect");
	return true;	/* the fd stays open: closing it would drop the tracking */
}

static void run_as(int argc, char **argv)
{
	uid_t uid;

	if (argc < 4) {
		fprintf(stderr, "usage: pagescan-demo --run-as UID PROGRAM [ARG...]\n");
		exit(64);
	}
	uid = atoi(argv[2]);
	if (setgid(uid) || setuid(uid))
		die("setuid");
	execvp(argv[3], argv + 3);
	die(argv[3]);
}

int main(int argc, char **argv)
{
	size_t chunk = 16, heap_len = 4 * MiB, thp_len = 4 * MiB, file_len = MiB;
	size_t huge_len = 4 * MiB;
	unsigned long reserve_len = TiB, off[3];
	char *reserve, *heap, *thp, *file, *huge, *c;
	bool is_static = false;
	double seconds = 30;
	struct timespec ts;
	volatile char sink;
	unsigned long i, k;
	int fd, opt;

	if (argc > 1 && !strcmp(argv[1], "--run-as"))
		run_as(argc, argv);
	while ((opt = getopt(argc, argv, "st:r:")) != -1) {
		if (opt == 's')
			is_static = true;
		else if (opt == 't')
			seconds = atof(optarg);
		else if (opt == 'r' && atol(optarg) >= 1)
			reserve_len = atol(optarg) << 30;
		else
			exit(64);
	}
	off[0] = reserve_len / 1024;
	off[1] = reserve_len / 4;
	off[2] = reserve_len / 4 * 3;
	psize = sysconf(_SC_PAGESIZE);
	chunk *= psize;
	soft_dirty = have_soft_dirty();

	reserve = map(reserve_len, PROT_NONE, MAP_NORESERVE);
	for (k = 0; k < 3; k++) {
		c = reserve + off[k];
		if (mprotect(c, chunk, PROT_READ | PROT_WRITE))
			die("mprotect");
		memset(c, 1, 4 * psize);
		sink = c[8 * psize] + c[9 * psize];
	}

	heap = map(heap_len, PROT_READ | PROT_WRITE, 0);
	madvise(heap, heap_len, MADV_NOHUGEPAGE);
	memset(heap, 1, heap_len);
	uffd_async = register_async(heap, heap_len);
	if (madvise(heap + 512 * psize, 32 * psize, MADV_PAGEOUT))
		die("madvise(MADV_PAGEOUT)");

	thp = map_aligned(thp_len, PROT_READ | PROT_WRITE);
	madvise(thp, thp_len, MADV_HUGEPAGE);
	memset(thp, 1, HUGE);
	sink = thp[HUGE];

	fd = open("/tmp/pagescan-demo.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, file_len))
		die("/tmp/pagescan-demo.dat");
	file = mmap(NULL, file_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (file == MAP_FAILED)
		die("mmap /tmp/pagescan-demo.dat");
	memset(file, 1, 128 * psize);

	huge = mmap(NULL, huge_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (huge == MAP_FAILED)
		huge = NULL;	/* no hugetlb pages reserved */
	else
		memset(huge, 1, HUGE);

	/* Soft-dirty from here on, then the writes the table shows as such. */
	fd = open("/proc/self/clear_refs", O_WRONLY);
	if (fd < 0 || write(fd, "4", 1) != 1)
		die("/proc/self/clear_refs");
	close(fd);
	memset(heap + 16 * psize, 2, 16 * psize);
	(void)sink;

	printf("pagescan-demo: PID %d, page size %ld, reservation %lu GiB, async uffd-wp: %s, soft-dirty: %s\n",
	       getpid(), psize, reserve_len >> 30, uffd_async ? "yes" : "no (kernel has no uffd-wp here)",
	       soft_dirty ? "yes" : "no");
	for (k = 0; k < 3; k++) {
		region(k ? "" : "reserve", reserve + off[k], chunk,
		       k ? "(another chunk)" :
		       "a 16-page read-write chunk of a PROT_NONE reservation: 4 pages written, 2 read (zero page)");
	}
	region("heap", heap, heap_len, uffd_async ?
	       "written whole, write-protected (uffd async), pages 16-31 written again, 512-543 paged out" :
	       "written whole, pages 512-543 paged out");
	region("thp", thp, thp_len, "MADV_HUGEPAGE: 2 MiB written (THP), 2 MiB read (huge zero page)");
	region("file", file, file_len, "tmpfs file, MAP_SHARED, 128 pages written");
	if (huge)
		region("hugetlb", huge, huge_len, "MAP_HUGETLB, one 2 MiB page written");

	/* The reservation around the chunks stays PROT_NONE and empty. */
	expect_vma(reserve, off[0], "---p", "", false);
	for (k = 0; k < 3; k++) {
		c = reserve + off[k];
		expect_vma(c, chunk, "rw-p", "", false);
		expect_run(c, 4 * psize, "present,written");
		expect_run(c + 8 * psize, 2 * psize, "present,written,zero-page");
	}
	expect_vma(heap, heap_len, "rw-p", "", uffd_async);
	expect_run(heap, 16 * psize, cats("present", uffd_async));
	expect_run(heap + 16 * psize, 16 * psize,
		   soft_dirty ? "present,written,soft-dirty" : "present,written");
	expect_run(heap + 32 * psize, 480 * psize, cats("present", uffd_async));
	expect_run(heap + 512 * psize, 32 * psize, cats("swapped", uffd_async));
	expect_run(heap + 544 * psize, 480 * psize, cats("present", uffd_async));
	expect_vma(thp, thp_len, "rw-p", "", false);
	expect_run(thp, HUGE, "present,written,huge");
	expect_run(thp + HUGE, HUGE, "present,written,huge,zero-page");
	expect_vma(file, file_len, "rw-s", "/tmp/pagescan-demo.dat", false);
	expect_run(file, 128 * psize, "present,written,file");
	if (huge) {
		/*
		 * clear_refs does not clear the soft-dirty bit of hugetlb
		 * entries (6.1, as mainline): the page stays soft-dirty.
		 */
		expect_vma(huge, huge_len, "rw-p", "/anon_hugepage (deleted)", false);
		expect_run(huge, HUGE, soft_dirty ? "present,written,huge,soft-dirty" :
			   "present,written,huge");
	}
	flush_run();
	printf("ready\n");
	fflush(stdout);

	/* Bursts: 10 per second, 8 to 64 consecutive heap pages each. */
	ts.tv_sec = 0;
	ts.tv_nsec = 100 * 1000 * 1000;
	for (i = 0; i < seconds * 10; i++) {
		if (!is_static) {
			unsigned long n = 8 << (i % 4), first = (i * 97) % (1024 - n);

			memset(heap + first * psize, 3, n * psize);
			if (i % 10 == 0)
				reserve[off[1] + (i / 10 % 4) * psize] = 4;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}
