// SPDX-License-Identifier: GPL-2.0
/*
 * mmap_verify: a fio-like verify workload on shared file mappings, tracked
 * by async uffd-wp and PAGEMAP_SCAN, as a write-tracking program (a live
 * migration or checkpoint tool) would run beside a real application.
 *
 * What fio's mmap engine with verify= does: each job lays out a file on a
 * page-cache file system (-d DIR), maps it MAP_SHARED and writes random
 * blocks through the mapping; every block carries a header (offset,
 * sequence number, job) and a checksum of its payload, so the file can be
 * verified afterwards. Meanwhile a tracker registers the mappings for async
 * write-protection and runs GET+WP scans in a loop: every write that ended
 * before a scan round began must have been reported by one of the rounds
 * since it began (no lost write). Now and then the tracker msync()s part of
 * a file (cleaning pages, so that the next write must go through
 * ->page_mkwrite again) and closes its userfaultfd and starts over with a
 * new one (dropping all protection).
 *
 * Without async uffd-wp (arm64 on 6.1) the tracker runs GET scans instead
 * and only the data is checked.
 *
 * At the end: fsync, then every block must verify (its last write, intact)
 * through an O_DIRECT read of the disk and through a read after the page
 * cache was dropped.
 *
 * Usage: mmap_verify [-d DIR] [-t SECONDS] [-s SEED] [-j JOBS] [-S MIB]
 *                    [-b BLOCK-SIZE]
 * fio itself is not used: Debian's fio links librados, librbd, libgfapi,
 * librdmacm and more, which every initramfs would have to carry, and fio
 * cannot check what a tracker reports.
 */
#include "common.h"
#include <pthread.h>
#include <stdatomic.h>

#define MAXJOBS		4
#define MAGIC		0x6d6d61705f766572ULL	/* "mmap_ver" */

struct hdr {
	uint64_t magic;
	uint64_t offset;
	uint64_t seq;
	uint32_t job;
	uint32_t sum;		/* FNV-1a of the payload */
};

struct job {
	int n, fd;
	char path[256];
	char *map;
	uint64_t nblocks;
	uint64_t *seq;			/* last sequence number written per block */
	_Atomic uint64_t *wrec;		/* per page: epoch begun << 32 | ended */
	uint32_t *last_rep;		/* per page: last round that reported it */
	uint64_t writes;
};

static struct job jobs[MAXJOBS];
static int njobs = 2, pm_fd, uffd = -1;
static bool track;			/* async uffd-wp: GET+WP, else GET */
static uint64_t bs, fsize = 8 << 20, seed;	/* bs: PS unless -b */
static _Atomic uint32_t epoch = 1;
static atomic_bool stop;
static uint64_t n_rounds, n_lost, n_rearm, n_msync, n_bad;

static uint64_t rnd64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t fnv(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* The content of block @b of job @j at sequence @seq (0: laid out) */
static void fill(unsigned char *buf, struct job *j, uint64_t b, uint64_t seq)
{
	struct hdr h = { MAGIC, b * bs, seq, j->n, 0 };
	uint64_t s = seed ^ (b * bs) ^ (seq << 40) ^ j->n;

	for (size_t i = sizeof(h); i < bs; i += 8) {
		uint64_t v = rnd64(&s);

		memcpy(buf + i, &v, bs - i < 8 ? bs - i : 8);
	}
	h.sum = fnv(buf + sizeof(h), bs - sizeof(h));
	memcpy(buf, &h, sizeof(h));
}

/* Block @b as read back must be sequence @seq, intact */
static bool verify_block(const unsigned char *buf, struct job *j, uint64_t b,
			 uint64_t seq, const char *how)
{
	struct hdr h;

	memcpy(&h, buf, sizeof(h));
	if (h.magic != MAGIC || h.offset != b * bs || h.job != (uint32_t)j->n ||
	    h.seq != seq || h.sum != fnv(buf + sizeof(h), bs - sizeof(h))) {
		if (n_bad++ < 8)
			printf("# FAIL seed=%" PRIu64 ": %s: job %d block %" PRIu64
			       " (offset %#" PRIx64 "): magic %#" PRIx64 " offset %#" PRIx64
			       " seq %" PRIu64 " (last written %" PRIu64 ") sum %s\n",
			       seed, how, j->n, b, b * bs, h.magic, h.offset, h.seq, seq,
			       h.sum == fnv(buf + sizeof(h), bs - sizeof(h)) ? "ok" : "bad");
		return false;
	}
	return true;
}

static bool job_open(struct job *j, const char *dir)
{
	unsigned char *buf = malloc(bs);

	snprintf(j->path, sizeof(j->path), "%s/mmap_verify.%d", dir, j->n);
	j->fd = open(j->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	j->nblocks = fsize / bs;
	j->seq = calloc(j->nblocks, sizeof(*j->seq));
	j->wrec = calloc(fsize / PS, sizeof(*j->wrec));
	j->last_rep = calloc(fsize / PS, sizeof(*j->last_rep));
	if (j->fd < 0 || !buf || !j->seq || !j->wrec || !j->last_rep) {
		printf("# %s: %s\n", j->path, strerror(errno));
		return false;
	}
	/* lay out the file, as fio does, then map it */
	for (uint64_t b = 0; b < j->nblocks; b++) {
		fill(buf, j, b, 0);
		if (pwrite(j->fd, buf, bs, b * bs) != (ssize_t)bs) {
			printf("# write %s: %s\n", j->path, strerror(errno));
			return false;
		}
	}
	free(buf);
	fsync(j->fd);
	j->map = mmap(NULL, fsize, PROT_READ | PROT_WRITE, MAP_SHARED, j->fd, 0);
	if (j->map == MAP_FAILED) {
		printf("# mmap %s: %s\n", j->path, strerror(errno));
		return false;
	}
	return true;
}

static void *writer(void *arg)
{
	struct job *j = arg;
	uint64_t s = seed ^ (0x1234567ULL * (j->n + 1));
	unsigned char *buf = malloc(bs);

	while (!stop) {
		uint64_t b = rnd64(&s) % j->nblocks, seq = j->seq[b] + 1;
		uint32_t e0 = atomic_load(&epoch), e1;

		fill(buf, j, b, seq);
		memcpy(j->map + b * bs, buf, bs);	/* the mmap engine's write */
		atomic_thread_fence(memory_order_seq_cst);
		e1 = atomic_load(&epoch);
		j->seq[b] = seq;
		for (uint64_t p = b * bs / PS; p < (b + 1) * bs / PS; p++)
			atomic_store(&j->wrec[p], (uint64_t)e0 << 32 | e1);
		j->writes++;
	}
	free(buf);
	return NULL;
}

static bool rearm(void)
{
	if (!track)
		return true;
	if (uffd >= 0)
		close(uffd);
	uffd = uffd_async();
	if (uffd < 0)
		return false;
	for (int i = 0; i < njobs; i++) {
		int e = uffd_reg(uffd, A(jobs[i].map), fsize, UFFDIO_REGISTER_MODE_WP);

		if (e) {
			printf("# FAIL: register %s: %s\n", jobs[i].path, errname(e));
			n_bad++;
			return false;
		}
	}
	return true;
}

/* One GET+WP round over every job, then the lost-write check */
static void round_once(struct page_region *vec, uint64_t cap)
{
	uint32_t r = atomic_fetch_add(&epoch, 1) + 1;

	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		uint64_t addr = A(j->map), end = addr + fsize, we;

		while (addr < end) {
			long n = scan_simple(pm_fd, addr, end,
					     track ? PM_SCAN_WP_MATCHING : 0, vec,
					     cap, 0, PAGE_IS_WRITTEN, PAGE_IS_WRITTEN,
					     &we);

			if (n < 0 || we <= addr) {
				printf("# FAIL: GET+WP %#" PRIx64 ": %s, walk_end %#" PRIx64 "\n",
				       addr, errname(n), we);
				n_bad++;
				return;
			}
			for (long k = 0; k < n; k++)
				for (uint64_t p = vec[k].start; p < vec[k].end; p += PS)
					j->last_rep[(p - A(j->map)) / PS] = r;
			addr = we;
		}
		for (uint64_t p = 0; track && p < fsize / PS; p++) {
			uint64_t w = atomic_load(&j->wrec[p]);
			uint32_t e0 = w >> 32, e1 = (uint32_t)w;

			if (!w || e1 >= r || j->last_rep[p] >= e0)
				continue;
			if (n_lost++ < 4)
				printf("# FAIL seed=%" PRIu64 ": lost write: job %d page %" PRIu64
				       " written in rounds %u-%u, not reported by rounds %u-%u (last %u)\n",
				       seed, j->n, p, e0, e1, e0, r, j->last_rep[p]);
			atomic_compare_exchange_strong(&j->wrec[p], &w, 0);
		}
	}
	n_rounds++;
}

static bool verify_file(struct job *j, bool direct, const char *how)
{
	int fd = open(j->path, O_RDONLY | (direct ? O_DIRECT : 0));
	unsigned char *buf = NULL;
	uint64_t bad0 = n_bad;

	if (fd < 0 || posix_memalign((void **)&buf, PS, bs)) {
		printf("# FAIL: %s: open %s: %s\n", how, j->path, strerror(errno));
		n_bad++;
		return false;
	}
	for (uint64_t b = 0; b < j->nblocks; b++) {
		if (pread(fd, buf, bs, b * bs) != (ssize_t)bs) {
			printf("# FAIL: %s: read %s: %s\n", how, j->path, strerror(errno));
			n_bad++;
			break;
		}
		verify_block(buf, j, b, j->seq[b], how);
	}
	free(buf);
	close(fd);
	return n_bad == bad0;
}

int main(int argc, char **argv)
{
	const char *dir = "/mnt/ext4";
	double seconds = 20, t0;
	pthread_t th[MAXJOBS];
	struct page_region *vec;
	uint64_t s, writes = 0;
	bool ok_direct = true, ok_cached = true;
	int opt, fd;

	sizes_init();
	bs = PS;
	seed = (uint64_t)time(NULL);
	while ((opt = getopt(argc, argv, "d:t:s:j:S:b:")) != -1) {
		switch (opt) {
		case 'd': dir = optarg; break;
		case 't': seconds = strtod(optarg, NULL); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'j': njobs = atoi(optarg); break;
		case 'S': fsize = strtoull(optarg, NULL, 0) << 20; break;
		case 'b': bs = strtoull(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: %s [-d DIR] [-t SECONDS] [-s SEED] [-j JOBS] [-S MIB] [-b BLOCK-SIZE]\n",
				argv[0]);
			return 2;
		}
	}
	if (njobs < 1 || njobs > MAXJOBS || bs < PS || bs % PS || fsize % bs) {
		fprintf(stderr, "mmap_verify: 1-%d jobs, a block size that is a multiple of %lu dividing the file size\n",
			MAXJOBS, PS);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# mmap_verify: seed %" PRIu64 ", %g s, %d jobs x %" PRIu64 " MiB in %s, block %" PRIu64 "\n",
	       seed, seconds, njobs, fsize >> 20, dir, bs);
	tap_plan(3);
	pm_fd = open("/proc/self/pagemap", O_RDONLY);
	if (access(dir, W_OK) || pm_fd < 0 ||
	    scan_simple(pm_fd, 0, 0, 0, NULL, 0, 0, 0, 0, NULL) < 0) {
		tap_skip("mmap_verify: no lost write (no %s or no PAGEMAP_SCAN)", dir);
		tap_skip("mmap_verify: data verifies (O_DIRECT)");
		tap_skip("mmap_verify: data verifies (after drop_caches)");
		return tap_exit();
	}
	uffd = uffd_async();
	track = uffd >= 0;
	if (track)
		close(uffd);
	else
		note("no async uffd-wp (%s): GET scans only, data checks", errname(uffd));
	uffd = -1;
	for (int i = 0; i < njobs; i++) {
		jobs[i].n = i;
		if (!job_open(&jobs[i], dir))
			return 1;
	}
	if (!rearm())
		return 1;
	vec = malloc((fsize / PS + 1) * sizeof(*vec));
	s = seed ^ 0x5151;
	t0 = now();
	for (int i = 0; i < njobs; i++)
		pthread_create(&th[i], NULL, writer, &jobs[i]);
	while (now() - t0 < seconds && !n_lost && n_bad < 8) {
		uint64_t x = rnd64(&s);

		/* a small vec now and then: many calls resuming at walk_end */
		struct job *j = &jobs[(x >> 8) % njobs];

		round_once(vec, x % 4 ? fsize / PS + 1 : 1 + x % 16);
		if (x % 3 == 0) {
			uint64_t off = ((x >> 16) % (fsize / PS)) * PS;

			msync(j->map + off, fsize - off, (x >> 40) % 2 ? MS_SYNC : MS_ASYNC);
			n_msync++;
		}
		if (x % 4 == 1) {
			/*
			 * Clean a whole file (its ptes read-only for
			 * write-notify), then drop every protection: later
			 * writes must still dirty their pages through
			 * ->page_mkwrite, or fsync misses them. The next
			 * round reports every page.
			 */
			msync(j->map, fsize, MS_SYNC);
			if (!rearm())
				break;
			n_rearm++;
		}
		usleep((x >> 32) % 5000);
	}
	stop = true;
	for (int i = 0; i < njobs; i++) {
		pthread_join(th[i], NULL);
		writes += jobs[i].writes;
	}
	round_once(vec, fsize / PS + 1);
	note("%.1f s: %" PRIu64 " writes, %" PRIu64 " GET+WP rounds, %" PRIu64 " msync, %" PRIu64 " re-registrations",
	     now() - t0, writes, n_rounds, n_msync, n_rearm);
	if (track)
		tap_result(!n_lost && !n_bad && n_rounds > 1,
			   "mmap_verify: no lost write in %" PRIu64 " GET+WP rounds over %" PRIu64 " writes (seed %" PRIu64 ")",
			   n_rounds, writes, seed);
	else
		tap_skip("mmap_verify: lost writes (no async uffd-wp; %" PRIu64 " GET rounds, %" PRIu64 " writes)",
			 n_rounds, writes);

	/* the disk: fsync, O_DIRECT; then the page cache dropped */
	for (int i = 0; i < njobs; i++) {
		if (msync(jobs[i].map, fsize, MS_SYNC) || fsync(jobs[i].fd))
			printf("# FAIL: msync/fsync %s: %s\n", jobs[i].path, strerror(errno)), n_bad++;
		munmap(jobs[i].map, fsize);
	}
	if (uffd >= 0)
		close(uffd);
	for (int i = 0; i < njobs; i++)
		ok_direct &= verify_file(&jobs[i], true, "O_DIRECT after fsync");
	tap_result(ok_direct, "mmap_verify: %" PRIu64 " blocks verify through O_DIRECT after fsync",
		   jobs[0].nblocks * njobs);
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0 || write(fd, "3", 1) != 1)
		printf("# FAIL: drop_caches: %s\n", strerror(errno)), ok_cached = false;
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < njobs; i++) {
		ok_cached &= verify_file(&jobs[i], false, "read after drop_caches");
		close(jobs[i].fd);
		unlink(jobs[i].path);
	}
	tap_result(ok_cached, "mmap_verify: %" PRIu64 " blocks verify after drop_caches",
		   jobs[0].nblocks * njobs);
	return tap_exit();
}
