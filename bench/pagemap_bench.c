// SPDX-License-Identifier: GPL-2.0
/*
 * pagemap_bench: the benchmark `make bench` runs in each guest kernel.
 *
 * Times PAGEMAP_SCAN, userfaultfd async write-protect and the interfaces they
 * replace (pagemap read, mincore, clear_refs soft-dirty, sync uffd-wp,
 * mprotect + SIGSEGV), and the plain fault paths the series touches, with
 * clock_gettime(CLOCK_MONOTONIC). Features are detected at run time: a case
 * the kernel cannot run prints "n/a".
 *
 * Output, one line per case:
 *   R KEY UNIT SAMPLE...      every repetition's value (lower is better)
 *   R KEY UNIT n/a REASON
 *   D KEY TEXT                 what the case measures, with its sizes
 * Usage: pagemap_bench [-r REPS] [-s SCALE] [CASE-PREFIX...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/fs.h>
#include <linux/userfaultfd.h>

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)
#define PS 4096ULL
#define HPS (2 * MiB)
#define MAXS 256
#define PM_SOFT_DIRTY (1ULL << 55)
#define PM_UFFD_WP (1ULL << 57)
#define PM_PRESENT (1ULL << 63)

static int reps = 5;
static uint64_t t_start;
static uint64_t hugetlb_len;
static int pagemap_fd = -1;
static int have_scan, have_async;
static const char *no_scan = "no PAGEMAP_SCAN";
static const char *no_async = "no UFFD_FEATURE_WP_ASYNC";
static int nfilters;
static char **filters;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* CPU time of the calling thread: 7 writers on 2 vCPUs preempt the caller */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int want(const char *key)
{
	int i;

	if (!nfilters)
		return 1;
	for (i = 0; i < nfilters; i++)
		if (!strncmp(key, filters[i], strlen(filters[i])))
			return 1;
	return 0;
}

/* One result line: the samples or n/a. */
static void result(const char *key, const char *unit, const double *s, int n)
{
	int i;

	printf("R %s %s", key, unit);
	for (i = 0; i < n; i++)
		printf(" %.6g", s[i]);
	printf("\n");
	fflush(stdout);
}

static void na(const char *key, const char *unit, const char *why)
{
	printf("R %s %s n/a %s\n", key, unit, why);
	fflush(stdout);
}

static void desc(const char *key, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void desc(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("D %s ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void die(const char *what)
{
	printf("# pagemap_bench: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(1);
}

static char *map(uint64_t len, int prot, int flags, int thp)
{
	char *p = mmap(NULL, len + (thp ? HPS : 0), prot,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | flags, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	if (thp) {
		/* 2 MiB aligned, the tail unmapped. */
		char *a = (char *)(((uintptr_t)p + HPS - 1) & ~(HPS - 1));

		if (a > p)
			munmap(p, a - p);
		munmap(a + len, p + HPS - a);
		p = a;
	}
	madvise(p, len, thp > 0 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return p;
}

static char *map_hugetlb(uint64_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void touch(char *p, uint64_t len, uint64_t step)
{
	uint64_t o;

	for (o = 0; o < len; o += step)
		p[o] = 1;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static long meminfo_kb(const char *field)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = atol(line + strlen(field));
	fclose(f);
	return v;
}

/* ---- PAGEMAP_SCAN ---- */

static struct page_region *vec;
static uint64_t vec_len = 1 << 17;

static long scan(void *start, uint64_t len, uint64_t flags, uint64_t mask,
		 uint64_t max_pages, struct page_region *v, uint64_t vlen,
		 uint64_t *walk_end)
{
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.flags = flags,
		.start = (uintptr_t)start,
		.end = (uintptr_t)start + len,
		.vec = (uintptr_t)v,
		.vec_len = v ? vlen : 0,
		.max_pages = max_pages,
		.category_mask = mask,
		.return_mask = mask,
	};
	long r = ioctl(pagemap_fd, PAGEMAP_SCAN, &a);

	if (walk_end)
		*walk_end = a.walk_end;
	return r;
}

static long scan_all(void *p, uint64_t len, uint64_t flags, uint64_t mask)
{
	long r = scan(p, len, flags, mask, 0, vec, vec_len, NULL);

	if (r < 0)
		die("PAGEMAP_SCAN");
	return r;
}

/* GET+WP of the written pages, as GetWriteWatch(WRITE_WATCH_FLAG_RESET). */
static long get_wp(void *p, uint64_t len)
{
	return scan_all(p, len, PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
			PAGE_IS_WRITTEN);
}

/* ---- userfaultfd ---- */

static int uffd_open(uint64_t features, int nonblock)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));

	if (fd < 0)
		return -1;
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void uffd_register(int fd, void *p, uint64_t len)
{
	struct uffdio_register r = {
		.range = { (uintptr_t)p, len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};

	if (ioctl(fd, UFFDIO_REGISTER, &r))
		die("UFFDIO_REGISTER");
}

static int uffd_wp(int fd, void *p, uint64_t len, int on)
{
	struct uffdio_writeprotect w = {
		.range = { (uintptr_t)p, len },
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(fd, UFFDIO_WRITEPROTECT, &w);
}

/* An async-WP registered range, write-protected. */
static int async_setup(void *p, uint64_t len)
{
	int fd = uffd_open(UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED, 0);

	if (fd < 0)
		die("userfaultfd async");
	uffd_register(fd, p, len);
	if (uffd_wp(fd, p, len, 1))
		die("UFFDIO_WRITEPROTECT");
	return fd;
}

/* Sync uffd-wp: a thread resolves every write fault by un-protecting its page. */
struct handler {
	int uffd;
	int stop[2];
	long faults;
	pthread_t t;
};

static void *handler_main(void *arg)
{
	struct handler *h = arg;
	struct uffd_msg msg;

	for (;;) {
		struct pollfd pfd[2] = { { h->uffd, POLLIN, 0 }, { h->stop[0], POLLIN, 0 } };

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[1].revents)
			return NULL;
		if (read(h->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		uffd_wp(h->uffd, (void *)(uintptr_t)(msg.arg.pagefault.address & ~(PS - 1)), PS, 0);
		h->faults++;
	}
}

static int handler_start(struct handler *h, void *p, uint64_t len)
{
	h->uffd = uffd_open(0, 1);
	if (h->uffd < 0)
		return -1;
	uffd_register(h->uffd, p, len);
	if (pipe(h->stop))
		die("pipe");
	h->faults = 0;
	pthread_create(&h->t, NULL, handler_main, h);
	return 0;
}

static void handler_stop(struct handler *h)
{
	if (write(h->stop[1], "x", 1) != 1)
		die("write");
	pthread_join(h->t, NULL);
	close(h->stop[0]);
	close(h->stop[1]);
	close(h->uffd);
}

/* ---- old interfaces ---- */

static uint64_t *pmbuf;
#define PMBUF_ENTRIES (128 * 1024)

/* Read /proc/self/pagemap for [p, p+len); count entries with any of bits set/clear. */
static uint64_t pagemap_count(void *p, uint64_t len, uint64_t bits, int set)
{
	uint64_t first = (uintptr_t)p / PS, n = len / PS, done = 0, hit = 0, i;

	while (done < n) {
		uint64_t chunk = n - done < PMBUF_ENTRIES ? n - done : PMBUF_ENTRIES;
		ssize_t r = pread(pagemap_fd, pmbuf, chunk * 8, (first + done) * 8);

		if (r != (ssize_t)(chunk * 8))
			die("pagemap read");
		for (i = 0; i < chunk; i++)
			hit += !!(pmbuf[i] & bits) == set;
		done += chunk;
	}
	return hit;
}

static unsigned char *mcvec;
#define MCVEC (4 * MiB)

static uint64_t mincore_count(void *p, uint64_t len)
{
	uint64_t done = 0, hit = 0, i;

	while (done < len) {
		uint64_t chunk = len - done < MCVEC * PS ? len - done : MCVEC * PS;

		if (mincore((char *)p + done, chunk, mcvec))
			die("mincore");
		for (i = 0; i < chunk / PS; i++)
			hit += mcvec[i] & 1;
		done += chunk;
	}
	return hit;
}

static void clear_refs(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);

	if (fd < 0 || write(fd, "4", 1) != 1)
		die("clear_refs");
	close(fd);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ---- 1. sparse ---- */

/* pagemap read and mincore over @len at @p, timed over a window and scaled. */
static void sparse_baselines(char *p, uint64_t len)
{
	const uint64_t window = 16 * GiB;
	double s[MAXS];
	int i;

	desc("sparse-16T/pagemap-read",
	     "read /proc/self/pagemap for the same 16 TiB: timed over a %llu GiB window, scaled x%llu (cost is linear: one entry per page)",
	     (unsigned long long)(window / GiB), (unsigned long long)(len / window));
	for (i = 0; i < reps; i++) {
		uint64_t t0 = now_ns();

		pagemap_count(p, window, PM_PRESENT, 1);
		s[i] = (now_ns() - t0) / 1e6 * (len / window);
	}
	result("sparse-16T/pagemap-read", "ms", s, reps);
	desc("sparse-16T/mincore",
	     "mincore() for the same 16 TiB: timed over a %llu GiB window, scaled x%llu (linear)",
	     (unsigned long long)(window / GiB), (unsigned long long)(len / window));
	for (i = 0; i < reps; i++) {
		uint64_t t0 = now_ns();

		mincore_count(p, window);
		s[i] = (now_ns() - t0) / 1e6 * (len / window);
	}
	result("sparse-16T/mincore", "ms", s, reps);
}

/*
 * PAGEMAP_SCAN(PRESENT) over growing MAP_NORESERVE reservations with single
 * 4K pages written: @per_gib 0 keeps the same 1024 pages spread ever thinner
 * (what holes cost), 1 writes one page per GiB (cost per page as it grows).
 */
static void sparse_sweep(int per_gib)
{
	static const int tib[] = { 1, 4, 16, 64 };
	double s[MAXS];
	char key[64];
	int t, i, n;

	for (t = 0; t < 4; t++) {
		uint64_t len = tib[t] * TiB;
		long pages = per_gib ? tib[t] * 1024L : 1024;
		char *p;

		snprintf(key, sizeof(key), per_gib ? "sparse-%dT/scan" : "sparse1024-%dT/scan", tib[t]);
		if (!want(key))
			continue;
		desc(key, "PAGEMAP_SCAN(PRESENT) over a %d TiB MAP_NORESERVE mapping, %ld 4K pages written, one per %llu GiB",
		     tib[t], pages, (unsigned long long)(len / pages / GiB));
		if (!have_scan) {
			na(key, "ms", no_scan);
			continue;
		}
		p = map(len, PROT_READ | PROT_WRITE, 0, 0);
		touch(p, len, len / pages);
		n = per_gib && tib[t] == 64 && reps > 3 ? 3 : reps;
		for (i = 0; i < n; i++) {
			uint64_t t0 = now_ns();
			long r = scan_all(p, len, 0, PAGE_IS_PRESENT);

			s[i] = (now_ns() - t0) / 1e6;
			if (r != pages)
				printf("# %s: %ld regions, expected %ld\n", key, r, pages);
		}
		result(key, "ms", s, n);
		if (per_gib && tib[t] == 16)
			sparse_baselines(p, len);
		munmap(p, len);
	}
}

static void case_sparse(void)
{
	sparse_sweep(0);
	sparse_sweep(1);
}

/* ---- 2./4. GetWriteWatch-style tracking ---- */

enum backing { B_4K, B_THP, B_HUGETLB };
static const char *const bname[] = { "4k", "thp", "hugetlb" };

static char *gww_map(enum backing b, uint64_t len)
{
	char *p;

	if (b == B_HUGETLB) {
		p = len ? map_hugetlb(len) : NULL;
		if (p)
			touch(p, len, HPS);
		return p;
	}
	p = map(len, PROT_READ | PROT_WRITE, 0, b == B_THP);
	touch(p, len, PS);
	return p;
}

static void gww_unmap(enum backing b, char *p, uint64_t len)
{
	munmap(p, len);
	(void)b;
}

/* Write pct % of the write units, spread evenly (each its own region). */
static void write_pct(char *p, uint64_t len, uint64_t unit, int pct)
{
	uint64_t n = len / unit, i, step = 100 / pct;

	for (i = 0; i < n; i += step)
		p[i * unit] += 1;
}

static void unprotect_pct(int uffd, char *p, uint64_t len, uint64_t unit, int pct)
{
	uint64_t n = len / unit, i, step = 100 / pct;

	for (i = 0; i < n; i += step)
		uffd_wp(uffd, p + i * unit, unit, 0);
}

static void case_gww(enum backing b)
{
	static const int pcts[] = { 1, 10, 100 };
	uint64_t len = b == B_HUGETLB ? hugetlb_len : 512 * MiB;
	uint64_t unit = b == B_HUGETLB ? HPS : PS;
	const char *sz = b == B_HUGETLB ? (hugetlb_len == 512 * MiB ? "512 MiB hugetlb (256 x 2 MiB pages; writes per 2 MiB page)" : "256 MiB hugetlb (128 x 2 MiB pages; writes per 2 MiB page)") :
			 b == B_THP ? "512 MiB THP-backed (MADV_HUGEPAGE; the first write to a protected THP splits it)" :
			 "512 MiB 4K pages";
	double s[MAXS];
	char key[80];
	int pi, i, fd;
	char *p;

	for (pi = 0; pi < 3; pi++) {
		int pct = pcts[pi];

		snprintf(key, sizeof(key), "gww-%s-%d%%/get+wp", bname[b], pct);
		if (want(key)) {
			desc(key, "PAGEMAP_SCAN(WRITTEN, WP_MATCHING|CHECK_WPASYNC) after writing %d%% of %s, uffd async-WP registered", pct, sz);
			if (!have_scan || !have_async) {
				na(key, "ms", !have_scan ? no_scan : no_async);
			} else if (!(p = gww_map(b, len))) {
				na(key, "ms", "no hugetlb pages");
			} else {
				fd = async_setup(p, len);
				for (i = 0; i < reps; i++) {
					uint64_t t0;

					write_pct(p, len, unit, pct);
					t0 = now_ns();
					get_wp(p, len);
					s[i] = (now_ns() - t0) / 1e6;
				}
				result(key, "ms", s, reps);
				close(fd);
				gww_unmap(b, p, len);
			}
		}

		if (b == B_HUGETLB)
			continue;
		snprintf(key, sizeof(key), "gww-%s-%d%%/softdirty", bname[b], pct);
		if (want(key)) {
			desc(key, "clear_refs(4) + read pagemap for soft-dirty after writing %d%% of %s", pct, sz);
			p = gww_map(b, len);
			clear_refs();
			for (i = 0; i < reps; i++) {
				uint64_t t0;

				write_pct(p, len, unit, pct);
				t0 = now_ns();
				pagemap_count(p, len, PM_SOFT_DIRTY, 1);
				clear_refs();
				s[i] = (now_ns() - t0) / 1e6;
			}
			result(key, "ms", s, reps);
			gww_unmap(b, p, len);
		}

		snprintf(key, sizeof(key), "gww-%s-%d%%/sync-uffd", bname[b], pct);
		if (want(key)) {
			struct handler h;

			desc(key, "read pagemap for uffd-wp clear + UFFDIO_WRITEPROTECT of the range after writing %d%% of %s, sync uffd-wp (the written pages are un-protected by UFFDIO_WRITEPROTECT first, as a fault handler would)", pct, sz);
			p = gww_map(b, len);
			if (handler_start(&h, p, len)) {
				na(key, "ms", "no userfaultfd");
			} else {
				uffd_wp(h.uffd, p, len, 1);
				for (i = 0; i < reps; i++) {
					uint64_t t0;

					/*
					 * Resolve the write faults up front, as the handler would:
					 * 10^5 round trips through a thread take minutes under TCG.
					 */
					unprotect_pct(h.uffd, p, len, unit, pct);
					write_pct(p, len, unit, pct);
					t0 = now_ns();
					pagemap_count(p, len, PM_UFFD_WP, 0);
					uffd_wp(h.uffd, p, len, 1);
					s[i] = (now_ns() - t0) / 1e6;
				}
				result(key, "ms", s, reps);
				handler_stop(&h);
			}
			gww_unmap(b, p, len);
		}
	}

	snprintf(key, sizeof(key), "gww-%s-10%%/reset-only", bname[b]);
	if (want(key)) {
		desc(key, "PAGEMAP_SCAN(WRITTEN, WP_MATCHING) without output (ResetWriteWatch) after writing 10%% of %s", sz);
		if (!have_scan || !have_async) {
			na(key, "ms", !have_scan ? no_scan : no_async);
		} else if (!(p = gww_map(b, len))) {
			na(key, "ms", "no hugetlb pages");
		} else {
			fd = async_setup(p, len);
			for (i = 0; i < reps; i++) {
				uint64_t t0;

				write_pct(p, len, unit, 10);
				t0 = now_ns();
				if (scan(p, len, PM_SCAN_WP_MATCHING, PAGE_IS_WRITTEN, 0, NULL, 0, NULL) < 0)
					die("PAGEMAP_SCAN reset");
				s[i] = (now_ns() - t0) / 1e6;
			}
			result(key, "ms", s, reps);
			close(fd);
			gww_unmap(b, p, len);
		}
	}
}

/* ---- 3./4. dense GET ---- */

/* Reserve n 2 MiB hugetlb pages (n < 0: just read); returns how many there are. */
static long hugepages(long n)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r+");
	long got = -1;

	if (!f)
		return -1;
	if (n >= 0) {
		fprintf(f, "%ld\n", n);
		fflush(f);
		rewind(f);
	}
	if (fscanf(f, "%ld", &got) != 1)
		got = -1;
	fclose(f);
	return got;
}

static void case_dense(enum backing b)
{
	uint64_t len = b == B_HUGETLB ? hugetlb_len : 512 * MiB;
	const char *sz = b == B_HUGETLB ? (hugetlb_len == 512 * MiB ? "512 MiB hugetlb" : "256 MiB hugetlb") : b == B_THP ? "512 MiB THP" : "512 MiB 4K";
	double s[MAXS];
	char key[80];
	int i, m, fd = -1;
	char *p;

	for (m = 0; m < 3; m++) {
		snprintf(key, sizeof(key), "dense-%s/%s", bname[b], m == 0 ? "scan" : m == 1 ? "pagemap-read" : "mincore");
		if (want(key))
			break;
	}
	if (m == 3)
		return;
	p = gww_map(b, len);
	if (!p) {
		na(key, "ms", "no hugetlb pages");
		return;
	}
	if (have_async) {
		/* Registered and written: every page WRITTEN, the case GetWriteWatch hits. */
		fd = async_setup(p, len);
		touch(p, len, b == B_HUGETLB ? HPS : PS);
	}
	for (m = 0; m < 3; m++) {
		static const char *const mn[] = { "scan", "pagemap-read", "mincore" };

		snprintf(key, sizeof(key), "dense-%s/%s", bname[b], mn[m]);
		if (!want(key))
			continue;
		desc(key, "%s over %s, every page populated and written", m == 0 ? "PAGEMAP_SCAN(WRITTEN) GET only" :
		     m == 1 ? "read /proc/self/pagemap" : "mincore()", sz);
		if (m == 0 && !have_scan) {
			na(key, "ms", no_scan);
			continue;
		}
		for (i = 0; i < reps; i++) {
			uint64_t t0 = now_ns();

			if (m == 0)
				scan_all(p, len, 0, PAGE_IS_WRITTEN);
			else if (m == 1)
				pagemap_count(p, len, PM_PRESENT, 1);
			else
				mincore_count(p, len);
			s[i] = (now_ns() - t0) / 1e6;
		}
		result(key, "ms", s, reps);
	}
	if (fd >= 0)
		close(fd);
	gww_unmap(b, p, len);
}

/* ---- 5. max_pages loops ---- */

static void case_maxpages(void)
{
	const uint64_t len = 1 * GiB;
	const char *key = "maxpages64-1G-10%/get+wp";
	double s[MAXS];
	int i, fd;
	char *p;

	if (!want(key))
		return;
	desc(key, "drain 1 GiB (4K, populated, async WP) with 10%% of pages written by PAGEMAP_SCAN GET+WP calls of max_pages=64, resuming at walk_end");
	if (!have_scan || !have_async) {
		na(key, "ms", !have_scan ? no_scan : no_async);
		return;
	}
	p = gww_map(B_4K, len);
	fd = async_setup(p, len);
	for (i = 0; i < reps; i++) {
		uint64_t t0, at = (uintptr_t)p, end = (uintptr_t)p + len, calls = 0;

		write_pct(p, len, PS, 10);
		t0 = now_ns();
		while (at < end) {
			uint64_t we;

			if (scan((void *)at, end - at, PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
				 PAGE_IS_WRITTEN, 64, vec, vec_len, &we) < 0)
				die("PAGEMAP_SCAN max_pages");
			at = we;
			calls++;
		}
		s[i] = (now_ns() - t0) / 1e6;
		if (i == 0)
			printf("# %s: %llu calls\n", key, (unsigned long long)calls);
	}
	result(key, "ms", s, reps);
	close(fd);
	munmap(p, len);
}

/* ---- 6. Wine writer model ---- */

struct wine {
	char *p;
	uint64_t pages;
	volatile int stop;
	long writes[16];
	double cpu_ns[16];
};

static struct wine wine;

static void *writer(void *arg)
{
	long id = (long)arg, n = 0;
	uint64_t x = 0x9e3779b97f4a7c15ULL * (id + 1);
	struct timespec a, b;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	while (!wine.stop) {
		int k;

		for (k = 0; k < 64; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			wine.p[(x % wine.pages) * PS + (x >> 40) % PS] += 1;
		}
		n += 64;
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	wine.writes[id] = n;
	wine.cpu_ns[id] = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
	return NULL;
}

static void case_wine(void)
{
	static const int sizes[] = { 1080, 8192 };
	const int threads = 7;
	const double secs = 0.5;
	double calls[4096], wr[MAXS];
	char key[80], key2[80];
	int si, i, r;

	for (si = 0; si < 2; si++) {
		int nc = 0;

		snprintf(key, sizeof(key), "wine-%d/gww-call", sizes[si]);
		snprintf(key2, sizeof(key2), "wine-%d/page-write", sizes[si]);
		if (!want(key) && !want(key2))
			continue;
		desc(key, "CPU time (CLOCK_THREAD_CPUTIME_ID; wall time is dominated by preemption) of GetWriteWatch(RESET) = PAGEMAP_SCAN GET+WP every 1-3 ms on %d pages while %d threads write random pages (%.1f s per repetition, every call a sample)",
		     sizes[si], threads, secs);
		desc(key2, "CPU time per random byte write of %d writer threads on %d async-WP pages reset every 1-3 ms (includes the WP faults)",
		     threads, sizes[si]);
		if (!have_scan || !have_async) {
			na(key, "us", !have_scan ? no_scan : no_async);
			na(key2, "ns", !have_scan ? no_scan : no_async);
			continue;
		}
		for (r = 0; r < reps; r++) {
			pthread_t t[16];
			uint64_t end, x = 12345;
			long writes = 0;
			double cpu = 0;
			int fd;

			wine.pages = sizes[si];
			wine.p = map(wine.pages * PS, PROT_READ | PROT_WRITE, 0, 0);
			touch(wine.p, wine.pages * PS, PS);
			fd = async_setup(wine.p, wine.pages * PS);
			wine.stop = 0;
			for (i = 0; i < threads; i++)
				pthread_create(&t[i], NULL, writer, (void *)(long)i);
			end = now_ns() + secs * 1e9;
			while (now_ns() < end) {
				struct timespec d = { 0, 1000000 + (x % 2000000) };
				uint64_t t0;

				x = x * 6364136223846793005ULL + 1;
				nanosleep(&d, NULL);
				t0 = cpu_ns();
				get_wp(wine.p, wine.pages * PS);
				if (nc < 4096)
					calls[nc++] = (cpu_ns() - t0) / 1e3;
			}
			wine.stop = 1;
			for (i = 0; i < threads; i++) {
				pthread_join(t[i], NULL);
				writes += wine.writes[i];
				cpu += wine.cpu_ns[i];
			}
			wr[r] = writes ? cpu / writes : 0;
			close(fd);
			munmap(wine.p, wine.pages * PS);
		}
		/* Every call of every repetition is a sample. */
		result(key, "us", calls, nc > MAXS ? MAXS : nc);
		result(key2, "ns", wr, reps);
	}
}

/* ---- issue 10: fault paths ---- */

static void fault_case(const char *key, const char *what, int kind)
{
	const uint64_t len = kind == 1 ? 256 * MiB : 64 * MiB;
	double s[MAXS];
	int i, fd;

	if (!want(key))
		return;
	desc(key, "%s", what);
	for (i = 0; i < reps; i++) {
		uint64_t t0, n = 0;
		char *p, *q;
		int pfd[2];

		switch (kind) {
		case 0: /* anon 4K first touch */
			p = map(len, PROT_READ | PROT_WRITE, 0, 0);
			t0 = now_ns();
			touch(p, len, PS);
			s[i] = (double)(now_ns() - t0) / (len / PS);
			munmap(p, len);
			break;
		case 1: /* anon THP first touch */
			p = map(len, PROT_READ | PROT_WRITE, 0, 1);
			t0 = now_ns();
			touch(p, len, HPS);
			s[i] = (double)(now_ns() - t0) / 1e3 / (len / HPS);
			munmap(p, len);
			break;
		case 2: /* CoW after fork, timed in the child */
			p = map(len, PROT_READ | PROT_WRITE, 0, 0);
			touch(p, len, PS);
			if (pipe(pfd))
				die("pipe");
			if (!fork()) {
				double v;

				t0 = now_ns();
				touch(p, len, PS);
				v = (double)(now_ns() - t0) / (len / PS);
				if (write(pfd[1], &v, sizeof(v)) != sizeof(v))
					_exit(1);
				_exit(0);
			}
			if (read(pfd[0], &s[i], sizeof(s[i])) != sizeof(s[i]))
				die("read");
			wait(NULL);
			close(pfd[0]);
			close(pfd[1]);
			munmap(p, len);
			break;
		case 3: /* shmem first touch */
			fd = memfd_create("bench", 0);
			if (fd < 0 || ftruncate(fd, len))
				die("memfd");
			p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (p == MAP_FAILED)
				die("mmap shmem");
			t0 = now_ns();
			touch(p, len, PS);
			s[i] = (double)(now_ns() - t0) / (len / PS);
			munmap(p, len);
			close(fd);
			break;
		case 4: /* file read faults: page cache pages of a tmpfs file */
			fd = open("/tmp/bench-file", O_RDWR | O_CREAT, 0600);
			if (fd < 0 || ftruncate(fd, len))
				die("file");
			q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			touch(q, len, PS);
			munmap(q, len);
			p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
			t0 = now_ns();
			for (q = p; q < p + len; q += PS)
				n += *(volatile char *)q;
			s[i] = (double)(now_ns() - t0) / (len / PS);
			munmap(p, len);
			close(fd);
			break;
		case 5: /* mprotect RO->RW cycle over 64 MiB populated */
			p = map(len, PROT_READ | PROT_WRITE, 0, 0);
			touch(p, len, PS);
			t0 = now_ns();
			for (n = 0; n < 10; n++) {
				mprotect(p, len, PROT_READ);
				mprotect(p, len, PROT_READ | PROT_WRITE);
			}
			s[i] = (double)(now_ns() - t0) / 1e3 / 10;
			munmap(p, len);
			break;
		}
	}
	unlink("/tmp/bench-file");
	result(key, kind == 1 || kind == 5 ? "us" : "ns", s, reps);
}

static void case_faults(void)
{
	fault_case("fault-anon-4k/first-touch", "first-touch write fault, anonymous 4K (64 MiB), per fault", 0);
	fault_case("fault-anon-thp/first-touch", "first-touch write fault, anonymous THP (256 MiB = 128 THPs), per 2 MiB fault", 1);
	fault_case("fault-cow/after-fork", "CoW write fault in the child after fork, 64 MiB 4K, per fault", 2);
	fault_case("fault-shmem/first-touch", "first-touch write fault, memfd shmem 64 MiB, per page", 3);
	fault_case("fault-file/read", "read fault of a MAP_PRIVATE cached tmpfs file 64 MiB (fault-around), per page", 4);
	fault_case("mprotect-64M/ro-rw", "mprotect RO then RW of 64 MiB populated 4K anon, per RO+RW pair", 5);
}

static void case_sync_rt(void)
{
	const char *key = "uffd-sync-wp/round-trip";
	const uint64_t len = 2 * MiB;
	struct handler h;
	double s[MAXS];
	int i;
	char *p;

	if (!want(key))
		return;
	desc(key, "sync uffd-wp: write fault -> message -> UFFDIO_WRITEPROTECT(clear) by a handler thread, 2 MiB (512 pages) 4K, per write");
	p = map(len, PROT_READ | PROT_WRITE, 0, 0);
	touch(p, len, PS);
	if (handler_start(&h, p, len)) {
		na(key, "us", "no userfaultfd");
		munmap(p, len);
		return;
	}
	for (i = 0; i < reps; i++) {
		uint64_t t0;

		if (uffd_wp(h.uffd, p, len, 1))
			die("UFFDIO_WRITEPROTECT");
		t0 = now_ns();
		touch(p, len, PS);
		s[i] = (now_ns() - t0) / 1e3 / (len / PS);
	}
	result(key, "us", s, reps);
	handler_stop(&h);
	munmap(p, len);
}

/* mprotect + SIGSEGV emulation of write watches. */
static void segv(int sig, siginfo_t *si, void *uc)
{
	char *a = (char *)((uintptr_t)si->si_addr & ~(PS - 1));

	(void)sig;
	(void)uc;
	if (mprotect(a, PS, PROT_READ | PROT_WRITE))
		_exit(3);
}

static void async_first_write(int thp, int populated, int emulate)
{
	const uint64_t len = 64 * MiB;
	double s[MAXS], f[MAXS];
	char key[80], fkey[96];
	int i, fd;

	snprintf(key, sizeof(key), "wp-first-write-%s-%s/%s", thp ? "thp" : "4k",
		 populated ? "present" : "unpopulated", emulate ? "mprotect+sigsegv" : "uffd-async");
	snprintf(fkey, sizeof(fkey), "%s-faults", key);
	if (!want(key))
		return;
	desc(key, "first write to each 4K page of a protected 64 MiB %s %s range: %s, per 4K page",
	     thp ? "THP-backed" : "4K", populated ? "populated" : "never-touched",
	     emulate ? "PROT_READ + SIGSEGV handler mprotect(RW) of the page (Wine's fallback)" :
	     "uffd async WP (markers for unpopulated)");
	desc(fkey, "minor faults (getrusage) per 4K page for %s", key);
	if (!emulate && !have_async) {
		na(key, "ns", no_async);
		na(fkey, "faults", no_async);
		return;
	}
	for (i = 0; i < reps; i++) {
		char *p = map(len, PROT_READ | PROT_WRITE, 0, thp);
		uint64_t t0;
		long m0;

		fd = -1;
		if (populated)
			touch(p, len, PS);
		if (emulate)
			mprotect(p, len, PROT_READ);
		else
			fd = async_setup(p, len);
		m0 = minflt();
		t0 = now_ns();
		touch(p, len, PS);
		s[i] = (double)(now_ns() - t0) / (len / PS);
		f[i] = (double)(minflt() - m0) / (len / PS);
		if (fd >= 0)
			close(fd);
		munmap(p, len);
	}
	result(key, "ns", s, reps);
	result(fkey, "faults", f, reps);
}

static void case_first_write(void)
{
	struct sigaction sa = { .sa_sigaction = segv, .sa_flags = SA_SIGINFO };
	int thp, pop;

	sigaction(SIGSEGV, &sa, NULL);
	for (thp = 0; thp < 2; thp++)
		for (pop = 1; pop >= 0; pop--) {
			async_first_write(thp, pop, 0);
			async_first_write(thp, pop, 1);
		}
}

static void case_wp_range(void)
{
	static const int gib[] = { 1, 64 };
	double s[MAXS], pt[MAXS];
	char key[64], pkey[80];
	int g, i;

	for (g = 0; g < 2; g++) {
		uint64_t len = gib[g] * GiB;

		snprintf(key, sizeof(key), "uffd-wp-range-%dG/time", gib[g]);
		snprintf(pkey, sizeof(pkey), "uffd-wp-range-%dG/pagetables", gib[g]);
		if (!want(key))
			continue;
		desc(key, "UFFDIO_WRITEPROTECT over %d GiB anon (4K, one page per 64 MiB written) with WP_UNPOPULATED", gib[g]);
		desc(pkey, "PageTables growth (/proc/meminfo) from that UFFDIO_WRITEPROTECT, %d GiB", gib[g]);
		if (!have_async) {
			na(key, "ms", no_async);
			na(pkey, "KiB", no_async);
			continue;
		}
		for (i = 0; i < reps; i++) {
			char *p = map(len, PROT_READ | PROT_WRITE, 0, 0);
			int fd = uffd_open(UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED, 0);
			uint64_t t0;
			long k0;

			if (fd < 0)
				die("userfaultfd");
			touch(p, len, 64 * MiB);
			uffd_register(fd, p, len);
			usleep(200000);	/* let freed page tables of the last round go */
			k0 = meminfo_kb("PageTables:");
			t0 = now_ns();
			if (uffd_wp(fd, p, len, 1))
				die("UFFDIO_WRITEPROTECT");
			s[i] = (now_ns() - t0) / 1e6;
			pt[i] = meminfo_kb("PageTables:") - k0;
			close(fd);
			munmap(p, len);
		}
		result(key, "ms", s, reps);
		result(pkey, "KiB", pt, reps);
	}
}

int main(int argc, char **argv)
{
	struct pm_scan_arg a = { .size = sizeof(a) };
	int fd, c;

	while ((c = getopt(argc, argv, "r:")) != -1)
		if (c == 'r')
			reps = atoi(optarg);
	if (reps < 1 || reps > MAXS)
		reps = 5;
	filters = argv + optind;
	nfilters = argc - optind;
	setvbuf(stdout, NULL, _IOLBF, 0);

	t_start = now_ns();
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pagemap_fd < 0)
		die("open pagemap");
	have_scan = ioctl(pagemap_fd, PAGEMAP_SCAN, &a) == 0;
	fd = uffd_open(UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED, 0);
	have_async = fd >= 0;
	if (fd >= 0)
		close(fd);
	printf("# pagemap_bench: reps %d, PAGEMAP_SCAN %s, WP_ASYNC %s\n", reps,
	       have_scan ? "yes" : "no", have_async ? "yes" : "no");

	vec = malloc(vec_len * sizeof(*vec));
	pmbuf = malloc(PMBUF_ENTRIES * 8);
	mcvec = malloc(MCVEC);
	if (!vec || !pmbuf || !mcvec)
		die("malloc");

	/* Hugetlb first, before memory fragments: 256 x 2 MiB, given back after. */
	if (want("dense-hugetlb") || want("gww-hugetlb")) {
		long had = hugepages(-1);

		hugetlb_len = hugepages(256);
		printf("# hugetlb pages: %lld\n", (long long)hugetlb_len);
		hugetlb_len = hugetlb_len >= 256 ? 512 * MiB : hugetlb_len >= 128 ? 256 * MiB : 0;
		case_dense(B_HUGETLB);
		case_gww(B_HUGETLB);
		hugepages(had);
	}

	printf("# %.1f s: %s\n", (now_ns() - t_start) / 1e9, "sparse");
	case_sparse();
	printf("# %.1f s: %s\n", (now_ns() - t_start) / 1e9, "dense");
	case_dense(B_4K);
	case_dense(B_THP);
	printf("# %.1f s: %s\n", (now_ns() - t_start) / 1e9, "gww");
	case_gww(B_4K);
	printf("# %.1f s: %s\n", (now_ns() - t_start) / 1e9, "gww");
	case_gww(B_THP);
	printf("# %.1f s: %s\n", (now_ns() - t_start) / 1e9, "maxpages");
	case_maxpages();
	printf("# %.1f s: %s\n", (now_ns() - t_start) / 1e9, "wine");
	case_wine();
	printf("# %.1f s: %s\n", (now_ns() - t_start) / 1e9, "faults");
	case_faults();
	printf("# %.1f s: %s\n", (now_ns() - t_start) / 1e9, "sync_rt");
	case_sync_rt();
	printf("# %.1f s: %s\n", (now_ns() - t_start) / 1e9, "first_write");
	case_first_write();
	printf("# %.1f s: %s\n", (now_ns() - t_start) / 1e9, "wp_range");
	case_wp_range();
	(void)cmp_double;
	printf("# pagemap_bench: done in %.1f s\n", (now_ns() - t_start) / 1e9);
	return 0;
}
