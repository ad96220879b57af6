// SPDX-License-Identifier: GPL-2.0
/*
 * pagescan-demo: a workload with a known memory layout, for the pagescan
 * demo (`make run`) and its tests.
 *
 *   pagescan-demo [-s] [-t SECONDS] [-r GIB]
 *   pagescan-demo --track uffd|soft-dirty [-R ROUNDS] [-d MS] [-p PAGES]
 *   pagescan-demo --run-as UID PROGRAM [ARG...]
 *
 * Sizes come from the system: the page size, the PMD THP size
 * (/sys/kernel/mm/transparent_hugepage/hpage_pmd_size) and the hugetlb page
 * size (Hugepagesize in /proc/meminfo), called PMD and HUGE below.  It maps,
 * in this order:
 *   reserve  1 TiB (or -r GIB) PROT_NONE, MAP_NORESERVE, like a sanitizer's
 *            shadow or a GC arena; three 16-page chunks, at 1/1024, 1/4 and
 *            3/4 of it, are made read-write, pages 0-3 of each written and
 *            pages 8-9 only read (the zero page)
 *   heap     1024 pages, MADV_NOHUGEPAGE, every page written; then registered
 *            with userfaultfd for async write-protect (UFFD_FEATURE_WP_ASYNC,
 *            where the kernel has it) and write-protected; pages 512-543 paged
 *            out (MADV_PAGEOUT, to zram swap)
 *   thp      2 PMD, MADV_HUGEPAGE: the first PMD written (a THP), the second
 *            read (the huge zero page); left out without THP
 *   file     256 pages of a tmpfs file, MAP_SHARED, the first 128 written
 *   hugetlb  2 HUGE MAP_HUGETLB, the first hugetlb page written; left out
 *            when there is none
 * then clears its soft-dirty bits (/proc/self/clear_refs) and writes heap
 * pages 16-31.  It prints the layout, "expect" lines (the VMAs and runs
 * `pagescan list` must show for them: "written" only where the heap is
 * registered, as pagescan shows it), and "ready".  Then, unless -s
 * (static), for SECONDS (default 30) it writes the heap in bursts, ten a
 * second, and, once a second, does what Wine's GetWriteWatch with
 * WRITE_WATCH_FLAG_RESET does on its heap (PAGEMAP_SCAN with
 * PM_SCAN_WP_MATCHING on its own pagemap; where there is async uffd-wp),
 * writes a reserve chunk page and pages out 16 heap pages; every other
 * second it maps and writes 16 scratch pages, and unmaps them in between.
 * After each GetWriteWatch it prints a "gww:" line: the heap pages it wrote
 * since the first one, and how many of them its GetWriteWatch missed.
 *
 * --track runs a write tracker alone for the tests: PAGES pages (default
 * 256) tracked with async uffd-wp (armed with WP_UNPOPULATED) or with
 * soft-dirty; it prints "ready" and waits for SIGUSR1; then ROUNDS times
 * (default 10) it writes one page in four, waits MS milliseconds (default
 * 200) and asks its tracker which pages were written (GetWriteWatch with
 * reset, or a soft-dirty scan and clear_refs), and counts the written pages
 * its tracker missed and the pages it reported that were not written.  It
 * exits 69 when the kernel lacks the tracking asked for.
 *
 * --run-as drops to UID (and its GID) and runs PROGRAM: the tests use it to
 * check pagescan's "permission denied".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

#define TiB (1UL << 40)

static long psize;
static unsigned long pmd_size, huge_size;
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

/* len bytes aligned to align, so that a THP or hugetlb page fits. */
static char *map_aligned(size_t len, size_t align, int prot)
{
	char *p = map(len + align, prot, MAP_NORESERVE);
	char *a = (char *)(((unsigned long)p + align - 1) & ~(align - 1));

	if (a > p)
		munmap(p, a - p);
	munmap(a + len, p + align - a);
	return a;
}

/* The PMD THP size, or 0 without THP. */
static unsigned long thp_size(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r");
	unsigned long v = 0;

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* The default hugetlb page size, or 0. */
static unsigned long hugetlb_size(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long v = 0;
	char line[128];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %lu kB", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v << 10;
}

static const char *size_str(unsigned long bytes)
{
	static char buf[4][32];
	static int i;

	i = (i + 1) % 4;
	if (bytes >= (1UL << 20) && !(bytes & ((1UL << 20) - 1)))
		snprintf(buf[i], sizeof(buf[i]), "%lu MiB", bytes >> 20);
	else
		snprintf(buf[i], sizeof(buf[i]), "%lu KiB", bytes >> 10);
	return buf[i];
}

static void region(const char *name, char *p, size_t len, const char *what)
{
	printf("  %-8s %012lx-%012lx %7zuK  %s\n", name, (unsigned long)p,
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

/* Categories as pagescan shows them: "written" only in a registered VMA. */
static const char *cats(const char *base, bool written, bool sd)
{
	static char buf[8][64];
	static int i;
	const char *rest = strchr(base, ',');

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%.*s%s%s%s", rest ? (int)(rest - base) : (int)strlen(base),
		 base, written ? ",written" : "", rest ? rest : "", sd ? ",soft-dirty" : "");
	return buf[i];
}

static void clear_refs(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);

	if (fd < 0 || write(fd, "4", 1) != 1)
		die("/proc/self/clear_refs");
	close(fd);
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

/*
 * A write tracker over pages [0, pages) of p: the pages written since the
 * last check, and what the check (uffd-wp or soft-dirty) reported.
 */
struct tracker {
	char *p;
	unsigned long pages;
	bool uffd;
	int pagemap;
	unsigned char *wrote, *seen;
	unsigned long checks, written, reported, missed, extra;
};

static void track_init(struct tracker *t, char *p, unsigned long pages, bool uffd)
{
	memset(t, 0, sizeof(*t));
	t->p = p;
	t->pages = pages;
	t->uffd = uffd;
	t->pagemap = open("/proc/self/pagemap", O_RDONLY);
	t->wrote = calloc(pages, 1);
	t->seen = calloc(pages, 1);
	if (t->pagemap < 0 || !t->wrote || !t->seen)
		die("tracker");
}

static void track_write(struct tracker *t, unsigned long first, unsigned long n, int val)
{
	memset(t->p + first * psize, val, n * psize);
	memset(t->wrote + first, 1, n);
}

/*
 * Which pages were written since the last check: with uffd-wp what Wine's
 * GetWriteWatch(WRITE_WATCH_FLAG_RESET) does, the written pages reported and
 * write-protected again in one call; with soft-dirty what a CRIU pre-dump
 * does, the soft-dirty pages, then clear_refs.  Counts the pages written
 * but not reported (missed) and reported but not written (extra).
 */
static void track_check(struct tracker *t)
{
	struct page_region r[64];
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.vec = (unsigned long)r,
		.vec_len = 64,
	};
	unsigned long addr = (unsigned long)t->p, end = addr + t->pages * psize, i, k;
	long n;

	if (t->uffd) {
		arg.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC;
		arg.category_mask = PAGE_IS_WRITTEN;
		arg.return_mask = PAGE_IS_WRITTEN;
	} else {
		arg.category_mask = PAGE_IS_SOFT_DIRTY;
		arg.return_mask = PAGE_IS_SOFT_DIRTY;
	}
	while (addr < end) {
		arg.start = addr;
		arg.end = end;
		n = ioctl(t->pagemap, PAGEMAP_SCAN, &arg);
		if (n < 0)
			die("PAGEMAP_SCAN of the tracked pages");
		for (i = 0; i < (unsigned long)n; i++)
			for (k = r[i].start; k < r[i].end; k += psize)
				t->seen[(k - (unsigned long)t->p) / psize] = 1;
		addr = arg.walk_end;
	}
	if (!t->uffd)
		clear_refs();
	for (i = 0; i < t->pages; i++) {
		t->written += t->wrote[i];
		t->reported += t->seen[i];
		t->missed += t->wrote[i] && !t->seen[i];
		t->extra += t->seen[i] && !t->wrote[i];
	}
	memset(t->wrote, 0, t->pages);
	memset(t->seen, 0, t->pages);
	t->checks++;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };

	nanosleep(&ts, NULL);
}

static int track_main(int argc, char **argv)
{
	unsigned long rounds = 10, delay = 200, pages = 256, i, r;
	struct tracker t;
	sigset_t usr1;
	bool uffd;
	char *p;
	int opt, sig;

	if (argc < 3 || (strcmp(argv[2], "uffd") && strcmp(argv[2], "soft-dirty"))) {
		fprintf(stderr, "usage: pagescan-demo --track uffd|soft-dirty [-R ROUNDS] [-d MS] [-p PAGES]\n");
		return 64;
	}
	uffd = !strcmp(argv[2], "uffd");
	optind = 3;
	while ((opt = getopt(argc, argv, "R:d:p:")) != -1) {
		if (opt == 'R')
			rounds = strtoul(optarg, NULL, 10);
		else if (opt == 'd')
			delay = strtoul(optarg, NULL, 10);
		else if (opt == 'p' && strtoul(optarg, NULL, 10) >= 1)
			pages = strtoul(optarg, NULL, 10);
		else
			return 64;
	}
	p = map(pages * psize, PROT_READ | PROT_WRITE, 0);
	madvise(p, pages * psize, MADV_NOHUGEPAGE);
	if (uffd && !register_async(p, pages * psize)) {
		printf("track: this kernel has no async uffd-wp\n");
		return 69;
	}
	if (!uffd) {
		if (!have_soft_dirty()) {
			printf("track: this kernel has no soft-dirty tracking\n");
			return 69;
		}
		memset(p, 1, pages * psize);
		clear_refs();
	}
	track_init(&t, p, pages, uffd);

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	printf("track: PID %d, page size %ld, %s, pages %lx-%lx\nready\n", getpid(), psize,
	       uffd ? "async uffd-wp (GetWriteWatch with reset)" : "soft-dirty (scan, clear_refs)",
	       (unsigned long)p, (unsigned long)p + pages * psize);
	fflush(stdout);
	sigwait(&usr1, &sig);

	for (r = 0; r < rounds; r++) {
		unsigned long missed = t.missed, extra = t.extra, written = t.written;

		for (i = 0; i < pages; i++)
			if (((i * 2654435761UL + r * 40503UL) >> 7) % 4 == 0)
				track_write(&t, i, 1, r + 2);
		sleep_ms(delay);
		track_check(&t);
		printf("round %lu: written %lu, missed %lu, extra %lu\n", r + 1,
		       t.written - written, t.missed - missed, t.extra - extra);
	}
	printf("track: rounds %lu, written %lu, reported %lu, missed %lu, extra %lu\n",
	       t.checks, t.written, t.reported, t.missed, t.extra);
	return 0;
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
	size_t chunk = 16, heap_pages = 1024, file_len;
	unsigned long reserve_len = TiB, off[3], align, thp_len, huge_len;
	char *reserve, *heap, *thp = NULL, *file, *huge = NULL, *c, *scratch = NULL;
	bool is_static = false;
	struct tracker gww;
	double seconds = 30;
	volatile char sink;
	unsigned long i, k;
	int fd, opt;
	char what[160];

	psize = sysconf(_SC_PAGESIZE);
	if (argc > 1 && !strcmp(argv[1], "--run-as"))
		run_as(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "--track"))
		return track_main(argc, argv);
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
	chunk *= psize;
	file_len = 256 * psize;
	pmd_size = thp_size();
	huge_size = hugetlb_size();
	align = pmd_size > huge_size ? pmd_size : huge_size;
	align = align > (unsigned long)psize ? align : (unsigned long)psize;
	thp_len = 2 * pmd_size;
	huge_len = 2 * huge_size;
	soft_dirty = have_soft_dirty();

	reserve = map(reserve_len, PROT_NONE, MAP_NORESERVE);
	for (k = 0; k < 3; k++) {
		c = reserve + off[k];
		if (mprotect(c, chunk, PROT_READ | PROT_WRITE))
			die("mprotect");
		memset(c, 1, 4 * psize);
		sink = c[8 * psize] + c[9 * psize];
	}

	heap = map(heap_pages * psize, PROT_READ | PROT_WRITE, 0);
	madvise(heap, heap_pages * psize, MADV_NOHUGEPAGE);
	memset(heap, 1, heap_pages * psize);
	uffd_async = register_async(heap, heap_pages * psize);
	if (madvise(heap + 512 * psize, 32 * psize, MADV_PAGEOUT))
		die("madvise(MADV_PAGEOUT)");

	if (pmd_size) {
		thp = map_aligned(thp_len, align, PROT_READ | PROT_WRITE);
		madvise(thp, thp_len, MADV_HUGEPAGE);
		memset(thp, 1, pmd_size);
		sink = thp[pmd_size];
	}

	fd = open("/tmp/pagescan-demo.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, file_len))
		die("/tmp/pagescan-demo.dat");
	file = mmap(NULL, file_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (file == MAP_FAILED)
		die("mmap /tmp/pagescan-demo.dat");
	memset(file, 1, 128 * psize);

	if (huge_size) {
		huge = mmap(NULL, huge_len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (huge == MAP_FAILED)
			huge = NULL;	/* no hugetlb pages reserved */
		else
			memset(huge, 1, huge_size);
	}

	/* Soft-dirty from here on, then the writes the table shows as such. */
	clear_refs();
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
	region("heap", heap, heap_pages * psize, uffd_async ?
	       "1024 pages written, write-protected (uffd async), pages 16-31 written again, 512-543 paged out" :
	       "1024 pages written, pages 512-543 paged out");
	if (thp) {
		snprintf(what, sizeof(what), "MADV_HUGEPAGE: %s written (THP), %s read (huge zero page)",
			 size_str(pmd_size), size_str(pmd_size));
		region("thp", thp, thp_len, what);
	}
	region("file", file, file_len, "tmpfs file, MAP_SHARED, 128 pages written");
	if (huge) {
		snprintf(what, sizeof(what), "MAP_HUGETLB, one %s page written", size_str(huge_size));
		region("hugetlb", huge, huge_len, what);
	}
	if (!is_static)
		printf("  then every second: GetWriteWatch with reset on the heap%s, 16 heap pages paged out, 16 scratch pages mapped and written or unmapped\n",
		       uffd_async ? "" : " (not here: no async uffd-wp)");

	/* The reservation around the chunks stays PROT_NONE and empty. */
	expect_vma(reserve, off[0], "---p", "", false);
	for (k = 0; k < 3; k++) {
		c = reserve + off[k];
		expect_vma(c, chunk, "rw-p", "", false);
		expect_run(c, 4 * psize, "present");
		expect_run(c + 8 * psize, 2 * psize, "present,zero-page");
	}
	/* Written whole, then protected where registered; 16-31 written again. */
	expect_vma(heap, heap_pages * psize, "rw-p", "", uffd_async);
	expect_run(heap, 16 * psize, "present");
	expect_run(heap + 16 * psize, 16 * psize, cats("present", uffd_async, soft_dirty));
	expect_run(heap + 32 * psize, 480 * psize, "present");
	expect_run(heap + 512 * psize, 32 * psize, "swapped");
	expect_run(heap + 544 * psize, 480 * psize, "present");
	if (thp) {
		expect_vma(thp, thp_len, "rw-p", "", false);
		expect_run(thp, pmd_size, "present,huge");
		expect_run(thp + pmd_size, pmd_size, "present,huge,zero-page");
	}
	expect_vma(file, file_len, "rw-s", "/tmp/pagescan-demo.dat", false);
	expect_run(file, 128 * psize, "present,file");
	if (huge) {
		/*
		 * clear_refs does not clear the soft-dirty bit of hugetlb
		 * entries (6.1, as mainline): the page stays soft-dirty.
		 */
		expect_vma(huge, huge_len, "rw-p", "/anon_hugepage (deleted)", false);
		expect_run(huge, huge_size, cats("present,huge", false, soft_dirty));
	}
	flush_run();
	printf("ready\n");
	fflush(stdout);
	if (is_static) {
		sleep_ms(seconds * 1000);
		return 0;
	}

	/*
	 * Bursts, 10 a second, of 8 to 64 consecutive heap pages; once a
	 * second the rest.
	 */
	track_init(&gww, heap, heap_pages, true);
	for (i = 0; i < seconds * 10; i++) {
		unsigned long n = 8 << (i % 4), first = (i * 97) % (heap_pages - n);

		track_write(&gww, first, n, 3);
		switch (i % 10) {
		case 0:
			reserve[off[1] + (i / 10 % 4) * psize] = 4;
			break;
		case 3:
			madvise(heap + (i * 37 % (heap_pages - 16)) * psize, 16 * psize,
				MADV_PAGEOUT);
			break;
		case 5:
			/* one second mapped, the next not */
			if (i % 20 == 5) {
				scratch = map(16 * psize, PROT_READ | PROT_WRITE, 0);
				memset(scratch, 5, 16 * psize);
			} else {
				munmap(scratch, 16 * psize);
			}
			break;
		case 9:
			if (!uffd_async)
				break;
			track_check(&gww);
			printf("gww: %lu calls, %lu heap pages written, %lu of them missed\n",
			       gww.checks, gww.written, gww.missed);
			fflush(stdout);
			break;
		}
		sleep_ms(100);
	}
	return 0;
}
