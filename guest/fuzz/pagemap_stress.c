// SPDX-License-Identifier: GPL-2.0
/*
 * pagemap_stress: PAGEMAP_SCAN under concurrent mutation.
 *
 * An area of NCHUNK 2 MiB chunks, each its own mapping registered with an
 * async write-protect userfaultfd, of four kinds in turn: anonymous, a memfd
 * with MADV_HUGEPAGE (shmem THP where the guest allows it), and a shared and
 * a private mapping of a file on a page-cache file system (-d DIR, default
 * /mnt/ext4 when it exists, else /tmp). Threads:
 * - writers write runs of pages and record, per page, the scan rounds
 *   (epochs) in which the write began and ended;
 * - a mutator does MADV_DONTNEED/PAGEOUT/HUGEPAGE/NOHUGEPAGE/COLLAPSE,
 *   mprotect RO and back, mremap away and back, munmap + mmap, and fork;
 * - one GET+WP scanner: starts round r (epoch = r), then scans the whole
 *   area with PM_SCAN_WP_MATCHING (in random pieces, resuming at walk_end).
 *   A write that began in round e0 and had completed before round r began
 *   must have been reported by one of the rounds e0..r: otherwise it is
 *   lost. A page whose chunk was unmapped or moved since e0 is exempt;
 *   nothing else is (DONTNEED'd pages read as written, swapped and
 *   mprotected pages keep their state);
 * - GET scanners check the shape of every result (sorted, merged, in range,
 *   walk_end rules);
 * - a child process scans the parent from outside through
 *   /proc/PPID/pagemap (GET only) and reads pagemap entries.
 * Bounded by seconds. Prints TAP.
 *
 * Usage: pagemap_stress [-t SECONDS] [-s SEED] [-d DIR]
 */
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#define NCHUNK		8
#define CHUNK		HPS
#define AREA		(NCHUNK * CHUNK)
#define NPAGES		(AREA / PS)
#define CPAGES		(CHUNK / PS)

static char *area;
static int pm_fd, uffd;
enum { C_ANON, C_SHMEM_THP, C_FILE_SHARED, C_FILE_PRIVATE, NCKIND };
static const char *const ckind_name[NCKIND] = { "anon", "memfd-thp",
	"file-shared", "file-private" };
static int chunk_fd[NCHUNK];		/* the memfd or file of a chunk, or -1 */
static const char *file_dir;
static pthread_rwlock_t lock[NCHUNK];
static _Atomic uint64_t *wrec;		/* per page, last write: epoch begun << 32 | ended */
static _Atomic uint32_t epoch = 1;	/* the GET+WP round in progress */
static _Atomic uint32_t remap_epoch[NCHUNK];	/* last unmap/move of a chunk */
static atomic_bool stop;
static uint64_t seed;
static double deadline;
static unsigned int mut_mask = ~0u;	/* -m: which mutations (bits of op / 2) */

static _Atomic uint64_t n_writes, n_wp_scans, n_wp_calls, n_get_scans, n_lost,
	n_exempt, n_bad, n_mut[10], n_checked;
static const char *const mut_name[10] = { "dontneed", "pageout", "hugepage",
	"nohugepage", "collapse", "mprotect", "mremap", "remap", "fork", "collapse-einval" };

/* Per-thread PRNG */
static uint64_t trnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void bad(const char *fmt, ...)
{
	va_list ap;

	printf("# FAIL seed=%" PRIu64 ": ", seed);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	n_bad++;
}

/* A "Field: N kB" line of the smaps entry of the VMA at @addr, or -1 */
static long smaps_field_kb(void *addr, const char *field)
{
	char line[256], range[32], perms[5];
	unsigned long lo, hi;
	long kb = -1;
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	snprintf(range, sizeof(range), "%lx-", (unsigned long)addr);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, range, strlen(range)))
			in = true;
		else if (in && sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3)
			break;
		else if (in && !strncmp(line, field, strlen(field)) &&
			 line[strlen(field)] == ':')
			kb = strtol(line + strlen(field) + 1, NULL, 10);
	}
	fclose(f);
	return kb;
}

/* The backing of chunk @c: a memfd, or a file of @file_dir */
static bool chunk_open(int c)
{
	char path[256];

	chunk_fd[c] = -1;
	if (c % NCKIND == C_ANON)
		return true;
	if (c % NCKIND == C_SHMEM_THP) {
		chunk_fd[c] = memfd_create("pagemap_stress", 0);
	} else {
		snprintf(path, sizeof(path), "%s/pagemap_stress.%d", file_dir, c);
		chunk_fd[c] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		unlink(path);
	}
	if (chunk_fd[c] < 0 || ftruncate(chunk_fd[c], CHUNK)) {
		bad("chunk %d (%s): %s", c, ckind_name[c % NCKIND], strerror(errno));
		return false;
	}
	return true;
}

static bool chunk_map(int c)
{
	int k = c % NCKIND;
	char *p = mmap(area + c * CHUNK, CHUNK, PROT_READ | PROT_WRITE,
		       MAP_FIXED | (k == C_ANON ? MAP_PRIVATE | MAP_ANONYMOUS :
				    k == C_FILE_PRIVATE ? MAP_PRIVATE : MAP_SHARED),
		       chunk_fd[c], 0);
	int e;

	if (p == MAP_FAILED) {
		bad("mmap chunk %d: %s", c, strerror(errno));
		return false;
	}
	if (k == C_SHMEM_THP)
		madvise(p, CHUNK, MADV_HUGEPAGE);
	e = uffd_reg(uffd, A(p), CHUNK, UFFDIO_REGISTER_MODE_WP);
	if (e) {
		bad("register chunk %d: %s", c, errname(e));
		return false;
	}
	return true;
}

static void *writer(void *arg)
{
	uint64_t s = seed ^ (uintptr_t)arg * 0x1234567;

	while (!stop) {
		int c = trnd(&s) % NCHUNK;
		uint64_t first = trnd(&s) % CPAGES, n = 1 + trnd(&s) % 16;

		pthread_rwlock_rdlock(&lock[c]);
		for (uint64_t i = first; i < first + n && i < CPAGES; i++) {
			uint64_t pg = c * CPAGES + i;
			uint32_t e0 = atomic_load(&epoch), e1;

			*(volatile uint64_t *)(area + pg * PS + (trnd(&s) % 512) * 8) = s;
			atomic_thread_fence(memory_order_seq_cst);
			e1 = atomic_load(&epoch);
			atomic_store(&wrec[pg], (uint64_t)e0 << 32 | e1);
			n_writes++;
		}
		pthread_rwlock_unlock(&lock[c]);
	}
	return NULL;
}

static void mutate_one(uint64_t *s)
{
	int c = trnd(s) % NCHUNK, op = trnd(s) % 20;
	uint64_t off = (trnd(s) % CPAGES) * PS, len = (1 + trnd(s) % (CPAGES - off / PS)) * PS;
	char *p = area + c * CHUNK + off;

	if (!(mut_mask & (1u << (op / 2))))
		return;

	if (op < 4) {
		pthread_rwlock_rdlock(&lock[c]);
		madvise(p, len, MADV_DONTNEED);
		pthread_rwlock_unlock(&lock[c]);
		n_mut[0]++;
	} else if (op < 7) {
		pthread_rwlock_rdlock(&lock[c]);
		madvise(p, len, MADV_PAGEOUT);
		pthread_rwlock_unlock(&lock[c]);
		n_mut[1]++;
	} else if (op < 9) {
		pthread_rwlock_rdlock(&lock[c]);
		madvise(area + c * CHUNK, CHUNK, op == 7 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
		pthread_rwlock_unlock(&lock[c]);
		n_mut[op == 7 ? 2 : 3]++;
	} else if (op < 11) {
		int r;

		pthread_rwlock_rdlock(&lock[c]);
		r = madvise(area + c * CHUNK, CHUNK, MADV_COLLAPSE);
		pthread_rwlock_unlock(&lock[c]);
		/* 6.1 has no MADV_COLLAPSE: EINVAL */
		n_mut[r && errno == EINVAL ? 9 : 4]++;
	} else if (op < 13) {
		pthread_rwlock_wrlock(&lock[c]);
		mprotect(p, len, PROT_READ);
		mprotect(p, len, PROT_READ | PROT_WRITE);
		pthread_rwlock_unlock(&lock[c]);
		n_mut[5]++;
	} else if (op < 15) {
		/* move the chunk away and back: its registration is lost */
		static char *tmp;

		if (!tmp)
			tmp = mmap(NULL, CHUNK, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		pthread_rwlock_wrlock(&lock[c]);
		remap_epoch[c] = atomic_load(&epoch);
		if (mremap(area + c * CHUNK, CHUNK, CHUNK, MREMAP_MAYMOVE | MREMAP_FIXED,
			   tmp) == MAP_FAILED ||
		    mremap(tmp, CHUNK, CHUNK, MREMAP_MAYMOVE | MREMAP_FIXED,
			   area + c * CHUNK) == MAP_FAILED) {
			bad("mremap: %s", strerror(errno));
			chunk_map(c);
		} else {
			int e = uffd_reg(uffd, A(area + c * CHUNK), CHUNK,
					 UFFDIO_REGISTER_MODE_WP);

			if (e)
				bad("register after mremap: %s", errname(e));
			tmp = mmap(NULL, CHUNK, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		}
		remap_epoch[c] = atomic_load(&epoch);
		pthread_rwlock_unlock(&lock[c]);
		n_mut[6]++;
	} else if (op < 17) {
		pthread_rwlock_wrlock(&lock[c]);
		remap_epoch[c] = atomic_load(&epoch);
		munmap(area + c * CHUNK, CHUNK);
		chunk_map(c);
		remap_epoch[c] = atomic_load(&epoch);
		pthread_rwlock_unlock(&lock[c]);
		n_mut[7]++;
	} else {
		pid_t pid = fork();

		if (pid == 0) {
			/* the child's copy is not registered: write some of it */
			for (int i = 0; i < 16; i++)
				area[(trnd(s) % NPAGES) * PS]++;
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		n_mut[8]++;
	}
}

static void *mutator(void *arg)
{
	uint64_t s = seed ^ 0xabcdef ^ (uintptr_t)arg;

	while (!stop) {
		mutate_one(&s);
		usleep(trnd(&s) % 2000);
	}
	return NULL;
}

/* Shape of a result: pagemap.rst, "Matching and output", "Where the scan stops" */
static bool shape_ok(const struct pm_scan_arg *a, long r, const char *who)
{
	const struct page_region *v = (const struct page_region *)(uintptr_t)a->vec;
	uint64_t total = 0;

	if (r < 0) {
		bad("%s: scan %#llx-%#llx: %s", who, (unsigned long long)a->start,
		    (unsigned long long)a->end, errname(r));
		return false;
	}
	if ((uint64_t)r > a->vec_len || a->walk_end < a->start || a->walk_end > a->end) {
		bad("%s: %ld regions (vec_len %llu), walk_end %#llx outside [%#llx, %#llx]",
		    who, r, (unsigned long long)a->vec_len,
		    (unsigned long long)a->walk_end, (unsigned long long)a->start,
		    (unsigned long long)a->end);
		return false;
	}
	for (long i = 0; i < r; i++) {
		if (v[i].start >= v[i].end || v[i].start < a->start ||
		    v[i].end > a->walk_end || (v[i].categories & ~a->return_mask) ||
		    (i && (v[i].start < v[i - 1].end ||
			   (v[i].start == v[i - 1].end &&
			    v[i].categories == v[i - 1].categories)))) {
			bad("%s: bad region %ld %#llx-%#llx/%#llx", who, i,
			    (unsigned long long)v[i].start, (unsigned long long)v[i].end,
			    (unsigned long long)v[i].categories);
			return false;
		}
		total += (v[i].end - v[i].start) / PS;
	}
	if (a->max_pages && total > a->max_pages) {
		bad("%s: %llu pages > max_pages %llu", who, (unsigned long long)total,
		    (unsigned long long)a->max_pages);
		return false;
	}
	if (a->walk_end != a->end && (uint64_t)r != a->vec_len &&
	    !(a->max_pages && total == a->max_pages)) {
		bad("%s: stopped at %#llx before %#llx with room left", who,
		    (unsigned long long)a->walk_end, (unsigned long long)a->end);
		return false;
	}
	return true;
}

static void *wp_scanner(void *arg)
{
	uint32_t *last_rep = calloc(NPAGES, sizeof(*last_rep));	/* last round that reported the page */
	struct page_region *vec = calloc(NPAGES, sizeof(*vec));
	uint64_t s = seed ^ 0x5555;
	uint32_t aborted = 0;			/* last round that did not finish */

	(void)arg;
	while (!stop) {
		uint64_t addr = A(area), end = A(area) + AREA;
		uint32_t r = atomic_fetch_add(&epoch, 1) + 1;

		/* scan in random pieces, resuming at walk_end */
		while (addr < end) {
			struct pm_scan_arg a = {
				.size = sizeof(a), .flags = PM_SCAN_WP_MATCHING,
				.start = addr, .end = end, .vec = A(vec),
				.vec_len = trnd(&s) % 4 ? NPAGES : 1 + trnd(&s) % 8,
				.max_pages = trnd(&s) % 4 ? 0 : 1 + trnd(&s) % 600,
				.category_mask = PAGE_IS_WRITTEN,
				.return_mask = PAGE_IS_WRITTEN,
			};
			long n = scan_fd(pm_fd, &a);

			n_wp_calls++;
			if (!shape_ok(&a, n, "GET+WP"))
				goto next;
			for (long i = 0; i < n; i++)
				for (uint64_t p = vec[i].start; p < vec[i].end; p += PS)
					last_rep[(p - A(area)) / PS] = r;
			if (a.walk_end <= addr && a.walk_end != end) {
				bad("GET+WP made no progress at %#llx", (unsigned long long)addr);
				goto next;
			}
			addr = a.walk_end;
		}
		/* every write completed before round r began is reported by now */
		for (uint64_t i = 0; i < NPAGES; i++) {
			uint64_t w = atomic_load(&wrec[i]);
			uint32_t e0 = w >> 32, e1 = (uint32_t)w;

			if (!w || e1 >= r || last_rep[i] >= e0)
				continue;
			if (remap_epoch[i / CPAGES] >= e0 || aborted >= e0) {
				n_exempt++;
				atomic_compare_exchange_strong(&wrec[i], &w, 0);
				continue;
			}
			n_lost++;
			atomic_compare_exchange_strong(&wrec[i], &w, 0);
			if (n_lost <= 4) {
				struct page_region pr = { 0 };
				uint64_t e = 0, we;

				scan_simple(pm_fd, A(area + i * PS), A(area + i * PS) + PS, 0,
					    &pr, 1, 0, 0, ALL_CATS, &we);
				pagemap_read(pm_fd, A(area + i * PS), &e, 1);
				bad("lost write: page %" PRIu64 " (%p) written in rounds %u-%u, not reported by rounds %u-%u (last %u); now %#llx, pagemap %#llx",
				    i, area + i * PS, e0, e1, e0, r, last_rep[i],
				    (unsigned long long)pr.categories, (unsigned long long)e);
			}
		}
		n_checked++;
		n_wp_scans++;
		usleep(trnd(&s) % 3000);
		continue;
next:
		aborted = r;
		n_wp_scans++;
	}
	free(last_rep);
	free(vec);
	return NULL;
}

static void *get_scanner(void *arg)
{
	static __thread struct page_region vec[1024];
	uint64_t s = seed ^ 0x7777 ^ (uintptr_t)arg;

	while (!stop) {
		uint64_t st = A(area) + (trnd(&s) % NPAGES) * PS;
		struct pm_scan_arg a = {
			.size = sizeof(a), .start = st,
			.end = st + (1 + trnd(&s) % (NPAGES - (st - A(area)) / PS)) * PS,
			.vec = A(vec), .vec_len = 1 + trnd(&s) % 1024,
			.max_pages = trnd(&s) % 3 ? 0 : 1 + trnd(&s) % 1000,
			.category_anyof_mask = trnd(&s) % 2 ? 0 : trnd(&s) & ALL_CATS,
			.return_mask = ALL_CATS,
		};
		long r = scan_fd(pm_fd, &a);

		shape_ok(&a, r, "GET");
		n_get_scans++;
	}
	return NULL;
}

/* The outside scanner: GET scans and pagemap reads of the parent */
struct shared {
	atomic_bool stop;
	_Atomic uint64_t calls, reads, bad;
};

static void outside(struct shared *sh, pid_t parent)
{
	static struct page_region vec[512];
	char path[64];
	uint64_t s = seed ^ 0x9999, e[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", parent);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("# FAIL: open %s: %s\n", path, strerror(errno));
		sh->bad++;
		_exit(1);
	}
	while (!sh->stop) {
		uint64_t st = A(area) + (trnd(&s) % NPAGES) * PS;
		struct pm_scan_arg a = {
			.size = sizeof(a), .start = st, .end = A(area) + AREA,
			.vec = A(vec), .vec_len = 1 + trnd(&s) % 512,
			.max_pages = trnd(&s) % 2 ? 0 : 1 + trnd(&s) % 1000,
			.category_mask = trnd(&s) % 2 ? 0 : PAGE_IS_WRITTEN,
			.return_mask = ALL_CATS,
		};
		long r = scan_fd(fd, &a);

		/* PM_SCAN_CHECK_WPASYNC from outside: every chunk is async or gone */
		if (!shape_ok(&a, r, "outside GET"))
			sh->bad++;
		sh->calls++;
		if (pread(fd, e, sizeof(e), (st / PS) * 8) < 0) {
			printf("# FAIL: pread %s: %s\n", path, strerror(errno));
			sh->bad++;
		}
		sh->reads++;
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	double seconds = 30, t0;
	pthread_t th[8];
	int opt, nth = 0;
	struct shared *sh;
	pid_t child;

	sizes_init();
	wrec = calloc(NPAGES, sizeof(*wrec));
	seed = (uint64_t)time(NULL);
	file_dir = access("/mnt/ext4", W_OK) ? "/tmp" : "/mnt/ext4";
	while ((opt = getopt(argc, argv, "t:s:m:d:")) != -1) {
		switch (opt) {
		case 'd': file_dir = optarg; break;
		case 'm': mut_mask = strtoul(optarg, NULL, 0); break;
		case 't': seconds = strtod(optarg, NULL); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: %s [-t SECONDS] [-s SEED] [-d DIR]\n", argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# pagemap_stress: seed %" PRIu64 ", %g s, files in %s\n", seed, seconds,
	       file_dir);
	tap_plan(3);
	pm_fd = open("/proc/self/pagemap", O_RDONLY);
	uffd = uffd_async();
	if (pm_fd < 0 || scan_simple(pm_fd, 0, 0, 0, NULL, 0, 0, 0, 0, NULL) < 0 ||
	    uffd < 0) {
		tap_skip("stress: no lost write (no PAGEMAP_SCAN or async uffd-wp: %s)",
			 errname(uffd));
		tap_skip("stress: result shapes");
		tap_skip("stress: outside scanner");
		return tap_exit();
	}
	{
		char *p = mmap(NULL, AREA + CHUNK, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		area = (char *)(((uintptr_t)p + CHUNK - 1) & ~(CHUNK - 1));
		munmap(p, AREA + CHUNK);
	}
	for (int c = 0; c < NCHUNK; c++) {
		pthread_rwlock_init(&lock[c], NULL);
		if (!chunk_open(c) || !chunk_map(c))
			return tap_exit();
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	child = fork();
	if (child == 0)
		outside(sh, getppid());

	t0 = now();
	deadline = t0 + seconds;
	pthread_create(&th[nth++], NULL, writer, (void *)1);
	pthread_create(&th[nth++], NULL, writer, (void *)2);
	pthread_create(&th[nth++], NULL, mutator, (void *)3);
	pthread_create(&th[nth++], NULL, wp_scanner, NULL);
	pthread_create(&th[nth++], NULL, get_scanner, (void *)5);
	while (now() < deadline && !n_lost && n_bad < 20)
		usleep(200000);
	stop = true;
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	sh->stop = true;
	waitpid(child, NULL, 0);

	note("%.1f s: %" PRIu64 " writes, %" PRIu64 " GET+WP rounds (%" PRIu64 " checked, %" PRIu64 " calls), %" PRIu64 " GET scans, outside: %" PRIu64 " scans %" PRIu64 " pagemap reads",
	     now() - t0, (uint64_t)n_writes, (uint64_t)n_wp_scans,
	     (uint64_t)n_checked, (uint64_t)n_wp_calls, (uint64_t)n_get_scans,
	     (uint64_t)sh->calls, (uint64_t)sh->reads);
	printf("# mutations:");
	for (int i = 0; i < 10; i++)
		printf(" %s %" PRIu64, mut_name[i], (uint64_t)n_mut[i]);
	printf("\n# chunks:");
	for (int c = 0; c < NCHUNK; c++) {
		const char *f = c % NCKIND == C_ANON ? "AnonHugePages" :
				c % NCKIND == C_SHMEM_THP ? "ShmemPmdMapped" : "Rss";

		printf(" %s(%s %ld kB)", ckind_name[c % NCKIND], f,
		       smaps_field_kb(area + c * CHUNK, f));
	}
	printf("\n# lost writes %" PRIu64 ", exempt (chunk unmapped or moved) %" PRIu64 "\n",
	       (uint64_t)n_lost, (uint64_t)n_exempt);
	tap_result(n_lost == 0 && n_checked > 0,
		   "stress: no lost write in %" PRIu64 " GET+WP rounds over %" PRIu64 " writes (seed %" PRIu64 ")",
		   (uint64_t)n_checked, (uint64_t)n_writes, seed);
	tap_result(n_bad == n_lost && n_get_scans > 0, "stress: %" PRIu64 " GET scans, every result well formed",
		   (uint64_t)n_get_scans);
	tap_result(sh->bad == 0 && sh->calls > 0, "stress: outside scanner, %" PRIu64 " scans of /proc/PID/pagemap",
		   (uint64_t)sh->calls);
	return tap_exit();
}
