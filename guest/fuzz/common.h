/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the guest robustness programs (pagemap_fuzz,
 * pagemap_stress, pagemap_robust): TAP output, a seeded PRNG, PAGEMAP_SCAN
 * and userfaultfd wrappers, /proc/PID/pagemap decoding. Header-only so each
 * program stays one static binary built from one .c file.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
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

#ifndef MADV_COLD
#define MADV_COLD	20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define A(p)		((uint64_t)(uintptr_t)(p))
#define ALL_CATS	0xffULL

/*
 * The machine's page size and PMD size (a THP, and the default hugetlb
 * page: the programs map hugetlb memory in units of HPS), read by
 * sizes_init() before anything else: 4K/2M on x86_64, but 16K/32M or
 * 64K/512M on arm64 too.
 */
static uint64_t page_size_, pmd_size_;
#define PS		page_size_
#define HPS		pmd_size_

/* A "Key:  N kB" line of /proc/meminfo, in bytes; 0 when absent */
static inline uint64_t meminfo_bytes(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;
	char line[128];

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) &&
		    sscanf(line + strlen(key), " %llu", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb << 10;
}

static inline void sizes_init(void)
{
	unsigned long long v = 0;
	uint64_t htlb;
	FILE *f;

	page_size_ = sysconf(_SC_PAGESIZE);
	f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r");
	if (f && fscanf(f, "%llu", &v) == 1)
		pmd_size_ = v;
	if (f)
		fclose(f);
	htlb = meminfo_bytes("Hugepagesize:");
	if (!pmd_size_)		/* no THP: the PMD size is a page table's reach */
		pmd_size_ = htlb ? htlb : page_size_ / 8 * page_size_;
	if (htlb && htlb != pmd_size_) {
		printf("Bail out! default hugetlb page %llu != PMD size %llu\n",
		       (unsigned long long)htlb, (unsigned long long)pmd_size_);
		exit(1);
	}
}

/* /proc/PID/pagemap entry bits */
#define PM_PRESENT	(1ULL << 63)
#define PM_SWAP		(1ULL << 62)
#define PM_FILE		(1ULL << 61)
#define PM_UFFD_WP	(1ULL << 57)
#define PM_SOFT_DIRTY	(1ULL << 55)
#define PM_PFN_MASK	((1ULL << 55) - 1)

/* ---- TAP ---- */
static int tap_n, tap_failed;

static inline void tap_plan(int n)
{
	printf("TAP version 13\n1..%d\n", n);
	fflush(stdout);
}

static inline void tap_result(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d ", ok ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		tap_failed++;
}

static inline void tap_skip(const char *fmt, ...)
{
	va_list ap;

	printf("ok %d ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP\n");
	fflush(stdout);
}

static inline void note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline int tap_exit(void)
{
	printf("# Totals: pass:%d fail:%d\n", tap_n - tap_failed, tap_failed);
	return tap_failed ? 1 : 0;
}

/* ---- PRNG (splitmix64): the whole run follows from the seed ---- */
static uint64_t rng_state;

static inline uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [0, n) (n > 0) */
static inline uint64_t rn(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* true with probability 1/n */
static inline bool one_in(uint64_t n)
{
	return rn(n) == 0;
}

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- PAGEMAP_SCAN ---- */
static inline long scan_fd(int fd, struct pm_scan_arg *arg)
{
	long r = ioctl(fd, PAGEMAP_SCAN, arg);

	return r < 0 ? -errno : r;
}

/* A plain scan: regions of [start, end) with the given masks. */
static inline long scan_simple(int fd, uint64_t start, uint64_t end, uint64_t flags,
			struct page_region *vec, uint64_t vec_len,
			uint64_t mask, uint64_t anyof, uint64_t retm,
			uint64_t *walk_end)
{
	struct pm_scan_arg a = {
		.size = sizeof(a), .flags = flags, .start = start, .end = end,
		.vec = A(vec), .vec_len = vec_len, .category_mask = mask,
		.category_anyof_mask = anyof, .return_mask = retm,
	};
	long r = scan_fd(fd, &a);

	if (walk_end)
		*walk_end = a.walk_end;
	return r;
}

/* ---- userfaultfd ---- */
static inline int uffd_new(uint64_t features, uint64_t *got)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	int fd, e;

	fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api)) {
		e = errno;
		close(fd);
		return -e;
	}
	if (got)
		*got = api.features;
	return fd;
}

static inline int uffd_reg(int fd, uint64_t start, uint64_t len, uint64_t mode)
{
	struct uffdio_register r = {
		.range = { .start = start, .len = len }, .mode = mode,
	};

	return ioctl(fd, UFFDIO_REGISTER, &r) ? -errno : 0;
}

static inline int uffd_wp(int fd, uint64_t start, uint64_t len, uint64_t mode)
{
	struct uffdio_writeprotect w = {
		.range = { .start = start, .len = len }, .mode = mode,
	};

	return ioctl(fd, UFFDIO_WRITEPROTECT, &w) ? -errno : 0;
}

/* The async write-protect context, or a negative errno where unsupported */
static inline int uffd_async(void)
{
	return uffd_new(UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED,
			NULL);
}

/* ---- /proc/PID/pagemap ---- */
static inline bool pagemap_read(int fd, uint64_t addr, uint64_t *e, size_t n)
{
	ssize_t want = n * 8;

	return pread(fd, e, want, (addr / PS) * 8) == want;
}

static inline const char *errname(long e)
{
	static char buf[32];

	if (e >= 0) {
		snprintf(buf, sizeof(buf), "%ld", e);
		return buf;
	}
	switch (-e) {
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case EPERM: return "EPERM";
	case ENOMEM: return "ENOMEM";
	case EINTR: return "EINTR";
	case ESRCH: return "ESRCH";
	case ENOENT: return "ENOENT";
	case EBUSY: return "EBUSY";
	case EAGAIN: return "EAGAIN";
	case EACCES: return "EACCES";
	}
	snprintf(buf, sizeof(buf), "errno %ld", -e);
	return buf;
}

#endif /* FUZZ_COMMON_H */
