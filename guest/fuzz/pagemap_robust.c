// SPDX-License-Identifier: GPL-2.0
/*
 * pagemap_robust: deterministic regression tests for the bug classes
 * mainline's PAGEMAP_SCAN had after its merge (which a fuzzer finds only
 * slowly), permission tests across users, and a reproducer for the hugetlb
 * VMA split lock assertion of the base. Run as root in the guest. TAP.
 */
#include "common.h"
#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif

#define T_PASS	0
#define T_FAIL	1
#define T_SKIP	2

static int pm_fd, uffd = -1;
static const char *why;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		printf("#   %s:%d: ", __func__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		return T_FAIL;						\
	}								\
} while (0)

static char *map_anon(size_t len, size_t align)
{
	char *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	if (!align)
		return p;
	a = ((uintptr_t)p + align - 1) & ~(align - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	munmap((char *)a + len, (uintptr_t)p + align - a);
	return (char *)a;
}

static void touch(char *p, size_t len)
{
	for (size_t i = 0; i < len; i += PS)
		p[i] = 1;
}

/* categories of one page */
static uint64_t cats(char *p)
{
	struct page_region r;
	uint64_t we;

	if (scan_simple(pm_fd, A(p), A(p) + PS, 0, &r, 1, 0, 0, ALL_CATS, &we) != 1)
		return ~0ULL;
	return r.categories;
}

static long smaps_kb(void *addr, const char *field)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	bool in = false;
	long val = -1;

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)addr >= s && (uintptr_t)addr < e;
			continue;
		}
		if (in && !strncmp(line, field, strlen(field))) {
			val = strtol(line + strlen(field), NULL, 10);
			break;
		}
	}
	if (f)
		fclose(f);
	return val;
}

static char *async_area(size_t len, size_t align)
{
	char *p = map_anon(len, align);

	if (!p || uffd_reg(uffd, A(p), len, UFFDIO_REGISTER_MODE_WP))
		return NULL;
	return p;
}

/* ---- bug classes ---- */

/* WP on a VMA that is not registered async: nothing happens / EPERM */
static int t_wp_unregistered(void)
{
	char *p = map_anon(16 * PS, 0), *q = map_anon(16 * PS, 0);
	struct page_region v[4];
	uint64_t we;
	long r;
	int sync_fd;

	touch(p, 16 * PS);
	r = scan_simple(pm_fd, A(p), A(p) + 16 * PS, PM_SCAN_WP_MATCHING, v, 4,
			0, 0, ALL_CATS, &we);
	CHECK(r == 0 && we == A(p) + 16 * PS, "WP on unregistered: %ld, walk_end %#llx", r,
	      (unsigned long long)we);
	CHECK(cats(p) & PAGE_IS_WRITTEN, "unregistered page lost WRITTEN: %#llx",
	      (unsigned long long)cats(p));
	r = scan_simple(pm_fd, A(p), A(p) + 16 * PS,
			PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, v, 4, 0, 0,
			ALL_CATS, &we);
	CHECK(r == -EPERM && we == A(p), "CHECK_WPASYNC: %s walk_end %#llx", errname(r),
	      (unsigned long long)we);
	/* registered write-protect, but with a synchronous context */
	sync_fd = uffd_new(0, NULL);
	CHECK(sync_fd >= 0, "sync uffd: %s", errname(sync_fd));
	touch(q, 16 * PS);
	CHECK(!uffd_reg(sync_fd, A(q), 16 * PS, UFFDIO_REGISTER_MODE_WP), "register sync");
	r = scan_simple(pm_fd, A(q), A(q) + 16 * PS, PM_SCAN_WP_MATCHING, v, 4,
			0, 0, ALL_CATS, &we);
	CHECK(r == 0 && we == A(q) + 16 * PS, "WP on sync-registered: %ld", r);
	CHECK(cats(q) & PAGE_IS_WRITTEN, "sync-registered page was protected");
	r = scan_simple(pm_fd, A(q), A(q) + 16 * PS, PM_SCAN_CHECK_WPASYNC, v, 4,
			0, 0, ALL_CATS, &we);
	CHECK(r == -EPERM && we == A(q), "CHECK on sync-registered: %s", errname(r));
	close(sync_fd);
	munmap(p, 16 * PS);
	munmap(q, 16 * PS);
	return T_PASS;
}

/* A scan without PM_SCAN_WP_MATCHING protects nothing */
static int t_no_wp_without_flag(void)
{
	char *p = async_area(64 * PS, 0);
	struct page_region v[8];
	uint64_t we, e[64];

	CHECK(p, "async area");
	touch(p, 64 * PS);
	for (int i = 0; i < 3; i++) {
		long r = scan_simple(pm_fd, A(p), A(p) + 64 * PS,
				     i == 2 ? PM_SCAN_CHECK_WPASYNC : 0, v, 8,
				     PAGE_IS_WRITTEN, 0, ALL_CATS, &we);

		CHECK(r == 1 && v[0].start == A(p) && v[0].end == A(p) + 64 * PS,
		      "GET %d: %ld regions", i, r);
	}
	CHECK(pagemap_read(pm_fd, A(p), e, 64), "pagemap");
	for (int i = 0; i < 64; i++)
		CHECK(!(e[i] & PM_UFFD_WP), "page %d uffd-wp after GET", i);
	munmap(p, 64 * PS);
	return T_PASS;
}

/* Protection keeps the hardware accessed/dirty bits (smaps counts them) */
static int t_ad_bits(void)
{
	const size_t len = 2 * HPS;
	char *p = async_area(len, HPS);
	long dirty0, ref0, dirty1, ref1;
	uint64_t we;

	CHECK(p, "async area");
	madvise(p, HPS, MADV_NOHUGEPAGE);	/* first half PTEs, second may be THP */
	touch(p, len);
	dirty0 = smaps_kb(p, "Private_Dirty:") + smaps_kb(p + HPS, "Private_Dirty:");
	ref0 = smaps_kb(p, "Referenced:") + smaps_kb(p + HPS, "Referenced:");
	CHECK(scan_simple(pm_fd, A(p), A(p) + len, PM_SCAN_WP_MATCHING, NULL, 0, 0, 0, 0,
			  &we) == 0 && we == A(p) + len, "reset");
	CHECK(!(cats(p) & PAGE_IS_WRITTEN), "not protected");
	dirty1 = smaps_kb(p, "Private_Dirty:") + smaps_kb(p + HPS, "Private_Dirty:");
	ref1 = smaps_kb(p, "Referenced:") + smaps_kb(p + HPS, "Referenced:");
	note("Private_Dirty %ld -> %ld kB, Referenced %ld -> %ld kB", dirty0, dirty1, ref0, ref1);
	CHECK(dirty0 == (long)(len >> 10) && dirty1 == dirty0, "dirty bits lost: %ld -> %ld kB",
	      dirty0, dirty1);
	CHECK(ref1 == ref0, "accessed bits lost: %ld -> %ld kB", ref0, ref1);
	munmap(p, len);
	return T_PASS;
}

/* Swap entries: protected as swap entries, not as if present */
static int t_swap_entries(void)
{
	char *p = async_area(32 * PS, 0);
	uint64_t e, we, c;

	CHECK(p, "async area");
	touch(p, 32 * PS);
	madvise(p, 32 * PS, MADV_PAGEOUT);
	CHECK(pagemap_read(pm_fd, A(p), &e, 1), "pagemap");
	if (!(e & PM_SWAP)) {
		why = "MADV_PAGEOUT did not swap";
		return T_SKIP;
	}
	c = cats(p);
	CHECK((c & (PAGE_IS_SWAPPED | PAGE_IS_WRITTEN | PAGE_IS_PRESENT)) ==
	      (PAGE_IS_SWAPPED | PAGE_IS_WRITTEN), "swapped: %#llx", (unsigned long long)c);
	CHECK(scan_simple(pm_fd, A(p), A(p) + 32 * PS, PM_SCAN_WP_MATCHING, NULL, 0,
			  0, 0, 0, &we) == 0, "reset");
	CHECK(pagemap_read(pm_fd, A(p), &e, 1) && (e & PM_SWAP) && (e & PM_UFFD_WP),
	      "swap entry not uffd-wp: %#llx", (unsigned long long)e);
	CHECK((cats(p) & (PAGE_IS_SWAPPED | PAGE_IS_WRITTEN)) == PAGE_IS_SWAPPED, "after WP");
	(void)*(volatile char *)p;		/* swap in by a read: still protected */
	c = cats(p);
	CHECK((c & PAGE_IS_PRESENT) && !(c & PAGE_IS_WRITTEN), "read in: %#llx",
	      (unsigned long long)c);
	p[0] = 2;				/* a write resolves it */
	CHECK(cats(p) & PAGE_IS_WRITTEN, "written after swap-in");
	CHECK(*(volatile char *)(p + PS) == 1, "data lost");
	munmap(p, 32 * PS);
	return T_PASS;
}

/*
 * Writes to protected pages whose accessed bit MADV_COLD cleared: the async
 * fault must resolve an old entry too (on arm64 without hardware access
 * flag management that fault is the access flag fault itself).
 */
static int t_wp_old_pte(void)
{
	char *p = async_area(16 * PS, 0);
	uint64_t we;

	CHECK(p, "async area");
	touch(p, 16 * PS);
	CHECK(scan_simple(pm_fd, A(p), A(p) + 16 * PS, PM_SCAN_WP_MATCHING, NULL, 0, 0, 0, 0,
			  &we) == 0 && we == A(p) + 16 * PS, "reset");
	CHECK(!madvise(p, 16 * PS, MADV_COLD), "MADV_COLD: %s", strerror(errno));
	for (int i = 0; i < 16; i++)
		p[i * PS] = 2;
	for (int i = 0; i < 16; i++)
		CHECK((cats(p + i * PS) & PAGE_IS_WRITTEN) && p[i * PS] == 2, "page %d", i);
	munmap(p, 16 * PS);
	return T_PASS;
}

/* vec_len * 24 that wraps around 2^64 */
static int t_vec_len_overflow(void)
{
	char *p = map_anon(PS, 0);
	struct pm_scan_arg a = {
		.size = sizeof(a), .start = A(p), .end = A(p) + PS, .vec = A(p),
		.return_mask = ALL_CATS,
	};
	const uint64_t lens[] = { 768614336404564651ULL /* *24 = 2^64 + 8 */,
				  ~0ULL / 24 + 1, ~0ULL, 1ULL << 63 };

	for (unsigned int i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		long r;

		a.vec_len = lens[i];
		a.walk_end = 0x1234;
		r = scan_fd(pm_fd, &a);
		CHECK(r == -EFAULT && a.walk_end == 0x1234, "vec_len %#llx: %s",
		      (unsigned long long)lens[i], errname(r));
	}
	munmap(p, PS);
	return T_PASS;
}

/* WP without an output buffer over part of a THP and of a hugetlb page */
static int t_wp_no_output_partial_huge(void)
{
	char *t = async_area(HPS, HPS), *h;
	uint64_t we;
	long r;

	CHECK(t, "async area");
	madvise(t, HPS, MADV_HUGEPAGE);
	touch(t, HPS);
	r = scan_simple(pm_fd, A(t) + 16 * PS, A(t) + 48 * PS, PM_SCAN_WP_MATCHING,
			NULL, 0, 0, 0, 0, &we);
	CHECK(r == 0 && we == A(t) + 48 * PS, "partial THP: %ld walk_end %#llx", r,
	      (unsigned long long)we);
	CHECK(cats(t + 16 * PS) == (PAGE_IS_WPALLOWED | PAGE_IS_PRESENT) ||
	      (cats(t + 16 * PS) & ~PAGE_IS_SOFT_DIRTY) == (PAGE_IS_WPALLOWED | PAGE_IS_PRESENT),
	      "inside: %#llx", (unsigned long long)cats(t + 16 * PS));
	CHECK(cats(t) & PAGE_IS_WRITTEN, "outside got protected");
	munmap(t, HPS);

	h = mmap(NULL, HPS, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (h == MAP_FAILED) {
		why = "no hugetlb page";
		return T_SKIP;
	}
	CHECK(!uffd_reg(uffd, A(h), HPS, UFFDIO_REGISTER_MODE_WP), "register hugetlb");
	h[0] = 1;
	/* Starting inside it: the page is skipped, the walk goes on to the end */
	r = scan_simple(pm_fd, A(h) + 16 * PS, A(h) + 48 * PS, PM_SCAN_WP_MATCHING,
			NULL, 0, 0, 0, 0, &we);
	CHECK(r == 0 && we == A(h) + 48 * PS, "hugetlb, start inside: %ld walk_end %#llx", r,
	      (unsigned long long)we);
	CHECK(cats(h) & PAGE_IS_WRITTEN, "hugetlb, start inside: got protected");
	/* Ending inside it: not protected, the walk stops at its start */
	r = scan_simple(pm_fd, A(h), A(h) + 48 * PS, PM_SCAN_WP_MATCHING,
			NULL, 0, 0, 0, 0, &we);
	CHECK(r == 0 && we == A(h), "hugetlb, end inside: %ld walk_end %#llx", r,
	      (unsigned long long)we);
	CHECK(cats(h) & PAGE_IS_WRITTEN, "hugetlb, end inside: got protected");
	r = scan_simple(pm_fd, A(h), A(h) + HPS, PM_SCAN_WP_MATCHING, NULL, 0, 0, 0, 0, &we);
	CHECK(r == 0 && we == A(h) + HPS && !(cats(h) & PAGE_IS_WRITTEN), "whole hugetlb");
	munmap(h, HPS);
	return T_PASS;
}

/* An empty PTE and a PMD with no page table read the same, and merge */
static int t_empty_pte_vs_pmd(void)
{
	char *p = async_area(2 * HPS, HPS);
	struct page_region v[8];
	uint64_t we;
	long r;

	CHECK(p, "async area");
	madvise(p, 2 * HPS, MADV_NOHUGEPAGE);
	touch(p, 8 * PS);
	madvise(p, 8 * PS, MADV_DONTNEED);	/* a PTE table with empty PTEs */
	/* p + HPS .. p + 2 HPS: no page table at all */
	r = scan_simple(pm_fd, A(p), A(p) + 2 * HPS, 0, v, 8, 0, 0, ALL_CATS & ~PAGE_IS_SOFT_DIRTY, &we);
	CHECK(r == 1 && v[0].start == A(p) && v[0].end == A(p) + 2 * HPS &&
	      v[0].categories == (PAGE_IS_WPALLOWED | PAGE_IS_WRITTEN),
	      "%ld regions, first %#llx-%#llx/%#llx", r, (unsigned long long)v[0].start,
	      (unsigned long long)v[0].end, (unsigned long long)v[0].categories);
	r = scan_simple(pm_fd, A(p), A(p) + 2 * HPS, PM_SCAN_WP_MATCHING, v, 8,
			PAGE_IS_WRITTEN, 0, PAGE_IS_WRITTEN, &we);
	CHECK(r == 1 && v[0].end - v[0].start == 2 * HPS, "GET+WP: %ld", r);
	r = scan_simple(pm_fd, A(p), A(p) + 2 * HPS, 0, v, 8, 0, 0,
			ALL_CATS & ~PAGE_IS_SOFT_DIRTY, &we);
	CHECK(r == 1 && v[0].categories == (PAGE_IS_WPALLOWED | PAGE_IS_SWAPPED),
	      "after WP: %ld regions, %#llx", r, (unsigned long long)v[0].categories);
	munmap(p, 2 * HPS);
	return T_PASS;
}

/* 1 GiB hugetlb pages are handled by their own size, not the PMD size */
static int t_gigantic(void)
{
	const size_t g = 1UL << 30;
	char *h;
	uint64_t we;
	struct page_region v[2];
	long r;

	h = mmap(NULL, g, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (30 << MAP_HUGE_SHIFT), -1, 0);
	if (h == MAP_FAILED) {
		why = "no 1 GiB hugetlb page (the guest reserves none)";
		return T_SKIP;
	}
	CHECK(!uffd_reg(uffd, A(h), g, UFFDIO_REGISTER_MODE_WP), "register");
	h[0] = 1;
	r = scan_simple(pm_fd, A(h), A(h) + g, 0, v, 2, 0, 0, PAGE_IS_HUGE | PAGE_IS_PRESENT, &we);
	CHECK(r == 1 && v[0].end - v[0].start == g, "%ld", r);
	r = scan_simple(pm_fd, A(h), A(h) + HPS, PM_SCAN_WP_MATCHING, NULL, 0, 0, 0, 0, &we);
	CHECK(r == 0 && we == A(h) && (cats(h) & PAGE_IS_WRITTEN), "2 MiB of 1 GiB protected");
	munmap(h, g);
	return T_PASS;
}

/* walk_end after several buffer flushes is exact */
static int t_walk_end_flushes(void)
{
	const int n = 3000;
	char *p = async_area(n * PS, 0);
	static struct page_region v[3000];
	uint64_t we;
	long r;

	CHECK(p, "async area");
	touch(p, n * PS);
	/* every other page protected: n regions of one page */
	for (int i = 1; i < n; i += 2)
		CHECK(!uffd_wp(uffd, A(p) + i * PS, PS, UFFDIO_WRITEPROTECT_MODE_WP), "wp");
	for (int len = 1; len <= n; len = len * 3 + 7) {
		r = scan_simple(pm_fd, A(p), A(p) + n * PS, 0, v, len, 0, 0,
				PAGE_IS_WRITTEN, &we);
		CHECK(r == (len < n ? len : n), "vec_len %d: %ld", len, r);
		CHECK(we == (len < n ? A(p) + len * PS : A(p) + n * PS),
		      "vec_len %d: walk_end %#llx, want %#llx", len, (unsigned long long)we,
		      (unsigned long long)(A(p) + len * PS));
		for (int i = 0; i < r; i++)
			CHECK(v[i].start == A(p) + i * PS && v[i].end == v[i].start + PS &&
			      v[i].categories == (i % 2 ? 0 : PAGE_IS_WRITTEN), "region %d", i);
	}
	munmap(p, n * PS);
	return T_PASS;
}

/*
 * max_pages of 1 after a one-page region: the next matching region, found
 * by the THP or the no-page-table path, ends the call (a kernel that sizes
 * its buffer by max_pages must not wait there for room that never comes).
 */
static int max1_scan(char *p, char *next, uint64_t inverted, const char *what)
{
	struct pm_scan_arg a = {
		.size = sizeof(a), .start = A(p), .end = A(p) + 2 * HPS,
		.vec_len = 8, .max_pages = 1, .category_mask = PAGE_IS_PRESENT,
		.category_inverted = inverted, .return_mask = PAGE_IS_PRESENT,
	};
	struct page_region v[8];
	long r;

	a.vec = A(v);
	alarm(30);	/* a hang is a failure, not a stuck guest */
	r = scan_fd(pm_fd, &a);
	alarm(0);
	CHECK(r == 1 && v[0].start == A(p) && v[0].end == A(p) + PS,
	      "%s: %ld regions, first %#llx-%#llx", what, r,
	      (unsigned long long)v[0].start, (unsigned long long)v[0].end);
	CHECK(a.walk_end >= A(p) + PS && a.walk_end <= A(next),
	      "%s: walk_end %#llx", what, (unsigned long long)a.walk_end);
	return T_PASS;
}

static int t_max_pages_one(void)
{
	char *p = map_anon(2 * HPS, HPS);
	int ret;

	CHECK(p, "map");
	/* One present page, then a THP */
	madvise(p, HPS, MADV_NOHUGEPAGE);
	madvise(p + HPS, HPS, MADV_HUGEPAGE);
	p[0] = 1;
	touch(p + HPS, HPS);
	if (cats(p + HPS) & PAGE_IS_HUGE) {
		ret = max1_scan(p, p + HPS, 0, "THP");
		if (ret)
			return ret;
	}
	/* One empty page, then a range without a page table */
	munmap(p, 2 * HPS);
	p = map_anon(2 * HPS, HPS);
	CHECK(p, "map");
	madvise(p, 2 * HPS, MADV_NOHUGEPAGE);
	touch(p + PS, HPS - PS);
	ret = max1_scan(p, p + HPS, PAGE_IS_PRESENT, "no page table");
	munmap(p, 2 * HPS);
	return ret;
}

/* Errors never claim walk_end == end; results before walk_end are written */
static int t_walk_end_errors(void)
{
	const int n = 1200;
	char *p = async_area(n * PS, 0), *q = map_anon(4 * PS, 0), *vec;
	uint64_t we;
	long r;

	CHECK(p && q, "areas");
	touch(p, n * PS);
	for (int i = 1; i < n; i += 2)
		uffd_wp(uffd, A(p) + i * PS, PS, UFFDIO_WRITEPROTECT_MODE_WP);
	/* room for 700 regions, then an unmapped page */
	vec = map_anon(2 * PS * 24, 0);
	munmap(vec + PS * 24, PS * 24);
	vec = vec + PS * 24 - 700 * 24;
	r = scan_simple(pm_fd, A(p), A(p) + n * PS, 0, (struct page_region *)vec, n,
			0, 0, PAGE_IS_WRITTEN, &we);
	CHECK(r == -EFAULT, "partly mapped vec: %s", errname(r));
	CHECK(we >= A(p) && we <= A(p) + 700 * PS, "walk_end %#llx beyond what was written",
	      (unsigned long long)we);
	for (uint64_t a = A(p); a < we; a += PS) {
		struct page_region *v = (struct page_region *)vec + (a - A(p)) / PS;

		CHECK(v->start == a, "region before walk_end not written");
	}
	/* EPERM: walk_end is the first VMA that is not async */
	r = scan_simple(pm_fd, A(p), A(q) > A(p) ? A(q) + 4 * PS : A(p) + n * PS,
			PM_SCAN_CHECK_WPASYNC, (struct page_region *)vec, 10, 0, 0,
			PAGE_IS_WRITTEN, &we);
	if (A(q) > A(p))
		CHECK((r == -EPERM && we >= A(p) + n * PS && we <= A(q)) || r == 10,
		      "EPERM: %s walk_end %#llx", errname(r), (unsigned long long)we);
	munmap(p, n * PS);
	munmap(q, 4 * PS);
	return T_PASS;
}

/* Nothing but regions and walk_end is written; no stale kernel data */
static int t_no_leak(void)
{
	char *p = async_area(64 * PS, 0);
	struct page_region v[64];
	struct pm_scan_arg a = {
		.size = sizeof(a), .start = 0xffff888000000000ULL,
		.end = 0xffff888000100000ULL, .vec = A(v), .vec_len = 64,
		.return_mask = ALL_CATS,
	};
	long r;

	CHECK(p, "async area");
	touch(p, 32 * PS);
	memset(v, 0xa5, sizeof(v));
	a.walk_end = 0x5a5a;
	r = scan_fd(pm_fd, &a);
	CHECK(r == -EFAULT && a.walk_end == 0x5a5a, "kernel range: %s walk_end %#llx",
	      errname(r), (unsigned long long)a.walk_end);
	for (size_t i = 0; i < sizeof(v); i++)
		CHECK(((unsigned char *)v)[i] == 0xa5, "vec written on EFAULT");
	a.start = A(p);
	a.end = A(p) + 64 * PS;
	r = scan_fd(pm_fd, &a);
	CHECK(r == 1 || r == 2, "scan: %ld", r);
	for (size_t i = r * sizeof(v[0]); i < sizeof(v); i++)
		CHECK(((unsigned char *)v)[i] == 0xa5, "vec written past the regions");
	munmap(p, 64 * PS);
	return T_PASS;
}

/*
 * Two hugetlb pages of size @sz (reserved for the case): uffd-wp markers on
 * the empty entries, a write through a marker, protection of a present page,
 * and a zap that leaves a marker. On arm64 the contiguous sizes (CONT_PTE,
 * CONT_PMD) write and read several entries per page.
 */
static int hugetlb_size_case(uint64_t sz)
{
	char path[96], old[32] = "";
	uint64_t we, c0, c1, e0, e1;
	int fd, n;
	char *p;

	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%llukB/nr_hugepages",
		 (unsigned long long)(sz >> 10));
	fd = open(path, O_RDWR);
	CHECK(fd >= 0 && pread(fd, old, sizeof(old) - 1, 0) > 0, "%s", path);
	n = atoi(old);
	snprintf(old, sizeof(old), "%d", n + 2);
	if (pwrite(fd, old, strlen(old), 0) <= 0) {	/* gigantic: no CMA */
		note("%llu kB: cannot reserve (%s)", (unsigned long long)(sz >> 10),
		     strerror(errno));
		close(fd);
		return T_SKIP;
	}
	p = mmap(NULL, 2 * sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_HUGETLB | (__builtin_ctzll(sz) << MAP_HUGE_SHIFT), -1, 0);
	snprintf(old, sizeof(old), "%d", n);	/* what to restore */
	if (p == MAP_FAILED) {
		note("%llu kB: no 2 pages (%s)", (unsigned long long)(sz >> 10), strerror(errno));
		pwrite(fd, old, strlen(old), 0);
		close(fd);
		return T_SKIP;
	}
	CHECK(!uffd_reg(uffd, A(p), 2 * sz, UFFDIO_REGISTER_MODE_WP), "register");
	CHECK(!uffd_wp(uffd, A(p), 2 * sz, UFFDIO_WRITEPROTECT_MODE_WP), "protect");
	c0 = cats(p);
	c1 = cats(p + sz);
	CHECK(!(c0 & (PAGE_IS_WRITTEN | PAGE_IS_PRESENT)) && c1 == c0,
	      "markers: %#llx %#llx", (unsigned long long)c0, (unsigned long long)c1);
	CHECK(pagemap_read(pm_fd, A(p), &e0, 1) && pagemap_read(pm_fd, A(p) + sz, &e1, 1) &&
	      (e0 & (PM_UFFD_WP | PM_PRESENT)) == PM_UFFD_WP && e1 == e0,
	      "markers in pagemap: %#llx %#llx", (unsigned long long)e0, (unsigned long long)e1);
	p[sz / 2] = 1;				/* through the marker */
	c0 = cats(p);
	c1 = cats(p + sz);
	CHECK((c0 & PAGE_IS_PRESENT) && (c0 & PAGE_IS_WRITTEN) && !(c1 & PAGE_IS_WRITTEN),
	      "written: %#llx %#llx", (unsigned long long)c0, (unsigned long long)c1);
	CHECK(p[0] == 0 && p[sz / 2] == 1 && p[sz - 1] == 0, "data");
	CHECK(scan_simple(pm_fd, A(p), A(p) + 2 * sz, PM_SCAN_WP_MATCHING, NULL, 0, 0, 0, 0,
			  &we) == 0 && we == A(p) + 2 * sz, "reset");
	c0 = cats(p);
	CHECK((c0 & PAGE_IS_PRESENT) && !(c0 & PAGE_IS_WRITTEN), "reset: %#llx",
	      (unsigned long long)c0);
	CHECK(!madvise(p, sz, MADV_DONTNEED), "MADV_DONTNEED");	/* leaves a marker */
	c0 = cats(p);
	CHECK(!(c0 & (PAGE_IS_WRITTEN | PAGE_IS_PRESENT)), "zapped: %#llx",
	      (unsigned long long)c0);
	CHECK(pagemap_read(pm_fd, A(p), &e0, 1) && (e0 & (PM_UFFD_WP | PM_PRESENT)) == PM_UFFD_WP,
	      "no marker after the zap: %#llx", (unsigned long long)e0);
	p[sz - 1] = 2;
	c0 = cats(p);
	CHECK((c0 & PAGE_IS_WRITTEN) && p[sz / 2] == 0 && !(cats(p + sz) & PAGE_IS_WRITTEN),
	      "written again: %#llx", (unsigned long long)c0);
	munmap(p, 2 * sz);
	pwrite(fd, old, strlen(old), 0);
	close(fd);
	return T_PASS;
}

/* Every hugetlb size with room for two pages in free memory */
static int t_hugetlb_sizes(void)
{
	DIR *d = opendir("/sys/kernel/mm/hugepages");
	char done[128] = "";
	struct dirent *e;
	int r = T_SKIP;

	while (d && (e = readdir(d))) {
		unsigned long long kb;

		if (sscanf(e->d_name, "hugepages-%llukB", &kb) != 1)
			continue;
		if (kb << 10 > meminfo_bytes("MemFree:") / 4) {
			note("%llu kB: skipped, more than a quarter of free memory", kb);
			continue;
		}
		switch (hugetlb_size_case(kb << 10)) {
		case T_FAIL:
			closedir(d);
			return T_FAIL;
		case T_PASS:
			r = T_PASS;
			snprintf(done + strlen(done), sizeof(done) - strlen(done), " %llukB", kb);
			break;
		}
	}
	if (d)
		closedir(d);
	if (r == T_SKIP)
		why = "no hugetlb size with two free pages";
	else
		note("hugetlb sizes checked:%s", done);
	return r;
}

/* Base bug: splitting a hugetlb VMA asserted the rmap lock before taking it */
static int t_hugetlb_split(void)
{
	char *h = mmap(NULL, 4 * HPS, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	int fd;

	if (h == MAP_FAILED) {
		why = "no hugetlb pages";
		return T_SKIP;
	}
	touch(h, 4 * HPS);
	CHECK(!mprotect(h + HPS, HPS, PROT_READ), "mprotect");
	fd = uffd_new(0, NULL);
	CHECK(fd >= 0, "uffd");
	CHECK(!uffd_reg(fd, A(h) + 2 * HPS, HPS, UFFDIO_REGISTER_MODE_MISSING), "register");
	close(fd);
	CHECK(!munmap(h + 3 * HPS, HPS), "munmap");
	munmap(h, 3 * HPS);
	return T_PASS;	/* a splat in the console fails the run */
}

/* ---- permissions ---- */

struct target {
	pid_t pid;
	int pipe_rd;
};

/* A child of uid @uid with a written anon area and an async-registered one */
static pid_t spawn_target(uid_t uid, char **plain, char **reg, int *ready)
{
	int fds[2], go[2];
	pid_t pid;
	char c;

	*plain = map_anon(16 * PS, 0);
	*reg = map_anon(16 * PS, 0);
	if (pipe(fds) || pipe(go))
		return -1;
	pid = fork();
	if (pid == 0) {
		int u;

		close(fds[0]);
		close(go[1]);
		/*
		 * Registered while root: unprivileged userfaultfd is off.  Without
		 * async uffd-wp (arm64 on 6.1) the area stays unregistered; only
		 * the tests that need it (skipped then) look at it.
		 */
		u = uffd >= 0 ? uffd_async() : -1;
		if (uffd >= 0 &&
		    (u < 0 || uffd_reg(u, A(*reg), 16 * PS, UFFDIO_REGISTER_MODE_WP)))
			_exit(4);
		if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
			_exit(3);
		prctl(PR_SET_DUMPABLE, 1);
		touch(*plain, 16 * PS);
		touch(*reg, 16 * PS);
		if (write(fds[1], "r", 1) != 1)
			_exit(5);
		(void)!read(go[0], &c, 1);	/* until the parent is done */
		/* report what the scans left: 'W' if both areas still written */
		{
			int pm = open("/proc/self/pagemap", O_RDONLY);
			struct page_region v[4];
			uint64_t we;
			long a = scan_simple(pm, A(*plain), A(*plain) + 16 * PS, 0, v, 4,
					     PAGE_IS_WRITTEN, 0, 0, &we);
			long b = scan_simple(pm, A(*reg), A(*reg) + 16 * PS, 0, v, 4,
					     PAGE_IS_WRITTEN, 0, 0, &we);

			_exit(a == 1 && v[0].end - v[0].start == 16 * PS ? (b == 0 ? 0 : 6) : 7);
		}
	}
	close(fds[1]);
	close(go[0]);
	if (read(fds[0], &c, 1) != 1)
		return -1;
	close(fds[0]);
	*ready = go[1];
	return pid;
}

/* Run @fn as uid @uid in a child; its exit status is the verdict */
static int as_user(uid_t uid, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
			_exit(T_FAIL);
		_exit(fn(arg));
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : T_FAIL;
}

struct perm_arg {
	pid_t pid;
	char *plain, *reg;
};

static int open_other(void *x)
{
	struct perm_arg *a = x;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", a->pid);
	fd = open(path, O_RDONLY);
	CHECK(fd < 0 && (errno == EACCES || errno == EPERM),
	      "uid %d opened %s (fd %d, %s)", getuid(), path, fd, strerror(errno));
	fd = open("/proc/1/pagemap", O_RDONLY);
	CHECK(fd < 0 && (errno == EACCES || errno == EPERM), "opened init's pagemap");
	return T_PASS;
}

static int wp_other(void *x)
{
	struct perm_arg *a = x;
	struct page_region v[4];
	char path[64];
	uint64_t we;
	long r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", a->pid);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0, "same uid cannot open %s: %s", path, strerror(errno));
	/* reading is allowed */
	r = scan_simple(fd, A(a->plain), A(a->plain) + 16 * PS, 0, v, 4,
			0, 0, ALL_CATS & ~PAGE_IS_SOFT_DIRTY, &we);
	CHECK(r == 1 && v[0].categories == (PAGE_IS_WRITTEN | PAGE_IS_PRESENT),
	      "GET: %ld %#llx", r, (unsigned long long)v[0].categories);
	/* not registered async: WP is ignored, CHECK_WPASYNC says EPERM */
	r = scan_simple(fd, A(a->plain), A(a->plain) + 16 * PS, PM_SCAN_WP_MATCHING, v, 4,
			0, 0, ALL_CATS, &we);
	CHECK(r == 0 && we == A(a->plain) + 16 * PS, "WP: %ld", r);
	r = scan_simple(fd, A(a->plain), A(a->plain) + 16 * PS,
			PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, v, 4, 0, 0, ALL_CATS, &we);
	CHECK(r == -EPERM && we == A(a->plain), "CHECK_WPASYNC: %s", errname(r));
	r = scan_simple(fd, A(a->plain), A(a->plain) + 16 * PS, PM_SCAN_WP_MATCHING, NULL, 0,
			0, 0, 0, &we);
	CHECK(r == 0, "reset: %ld", r);
	/* the target's own async registration allows it (pagemap.rst, "Write-protection") */
	r = scan_simple(fd, A(a->reg), A(a->reg) + 16 * PS, PM_SCAN_WP_MATCHING, v, 4,
			PAGE_IS_WRITTEN, 0, PAGE_IS_WRITTEN, &we);
	CHECK(r == 1, "WP of the async area: %ld", r);
	close(fd);
	return T_PASS;
}

static int t_perm_other_user(void)
{
	struct perm_arg a;
	int go, st;

	a.pid = spawn_target(2000, &a.plain, &a.reg, &go);
	CHECK(a.pid > 0, "target");
	CHECK(as_user(1000, open_other, &a) == T_PASS, "uid 1000 vs uid 2000");
	close(go);
	waitpid(a.pid, &st, 0);
	return T_PASS;
}

static int t_perm_wp_ptrace_read(void)
{
	struct perm_arg a;
	int go, st, r;

	a.pid = spawn_target(2000, &a.plain, &a.reg, &go);
	CHECK(a.pid > 0, "target");
	r = as_user(2000, wp_other, &a);
	close(go);
	waitpid(a.pid, &st, 0);
	CHECK(r == T_PASS, "scanner failed");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "target's memory after the scans: exit %d (6: async area not protected, 7: plain area changed)",
	      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return T_PASS;
}

/* An fd of a process that is gone: ESRCH, walk_end at start, vec untouched */
static int t_perm_gone(void)
{
	pid_t pid = fork();
	char path[64];
	struct page_region v[2];
	struct pm_scan_arg a = {
		.size = sizeof(a), .start = 1ULL << 20, .end = 1ULL << 30, .vec = A(v),
		.vec_len = 2, .walk_end = 77, .return_mask = ALL_CATS,
	};
	int fd;
	long r;

	if (pid == 0) {
		pause();
		_exit(0);
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	CHECK(fd >= 0, "open");
	memset(v, 0xa5, sizeof(v));
	r = scan_fd(fd, &a);
	CHECK(r == -ESRCH && a.walk_end == 1ULL << 20, "%s walk_end %#llx", errname(r),
	      (unsigned long long)a.walk_end);
	for (size_t i = 0; i < sizeof(v); i++)
		CHECK(((unsigned char *)v)[i] == 0xa5, "vec written");
	close(fd);
	return T_PASS;
}

static const struct {
	const char *name;
	int (*fn)(void);
	bool wp;
} tests[] = {
	{ "bug class: WP on a VMA not registered async", t_wp_unregistered, true },
	{ "bug class: no write-protection without PM_SCAN_WP_MATCHING", t_no_wp_without_flag, true },
	{ "bug class: accessed/dirty bits kept by write-protection", t_ad_bits, true },
	{ "bug class: swap entries protected as swap entries", t_swap_entries, true },
	{ "async fault on entries MADV_COLD made old", t_wp_old_pte, true },
	{ "bug class: vec_len * 24 overflow", t_vec_len_overflow, false },
	{ "bug class: WP with no output over part of a THP / hugetlb page", t_wp_no_output_partial_huge, true },
	{ "bug class: empty PTE and empty PMD read the same", t_empty_pte_vs_pmd, true },
	{ "bug class: 1 GiB hugetlb against the PMD size", t_gigantic, true },
	{ "hugetlb: markers, faults, protection and zaps on every hugetlb size", t_hugetlb_sizes, true },
	{ "bug class: walk_end exact after several buffer flushes", t_walk_end_flushes, true },
	{ "bug class: walk_end on errors", t_walk_end_errors, true },
	{ "bug class: max_pages 1 and a second region", t_max_pages_one, false },
	{ "leak: only regions and walk_end are written", t_no_leak, true },
	{ "base: split of a hugetlb VMA (rmap lock)", t_hugetlb_split, false },
	{ "perm: another user's pagemap cannot be opened", t_perm_other_user, false },
	{ "perm: ptrace-read WP leaves VMAs not registered async alone", t_perm_wp_ptrace_read, true },
	{ "perm: pagemap of an exited process: ESRCH, walk_end at start", t_perm_gone, false },
};

int main(void)
{
	int n = sizeof(tests) / sizeof(tests[0]);
	bool scan;

	sizes_init();
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_plan(n);
	pm_fd = open("/proc/self/pagemap", O_RDONLY);
	scan = pm_fd >= 0 && scan_simple(pm_fd, 0, 0, 0, NULL, 0, 0, 0, 0, NULL) == 0;
	uffd = uffd_async();
	for (int i = 0; i < n; i++) {
		int r;

		why = NULL;
		if (!scan) {
			tap_skip("%s (no PAGEMAP_SCAN)", tests[i].name);
			continue;
		}
		if (tests[i].wp && uffd < 0) {
			tap_skip("%s (no async uffd-wp: %s)", tests[i].name, errname(uffd));
			continue;
		}
		r = tests[i].fn();
		if (r == T_SKIP)
			tap_skip("%s (%s)", tests[i].name, why);
		else
			tap_result(r == T_PASS, "%s", tests[i].name);
	}
	return tap_exit();
}
