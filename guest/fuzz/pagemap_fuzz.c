// SPDX-License-Identifier: GPL-2.0
/*
 * pagemap_fuzz: random PAGEMAP_SCAN and userfaultfd calls over a process
 * whose memory is a random, periodically re-made mix of anonymous, THP,
 * hugetlb, shmem, shmem THP, file (tmpfs, ramfs, and where the guest has
 * them ext4 shared/private, file THP and DAX), VM_PFNMAP (/dev/mem),
 * VM_MIXEDMAP (/dev/fb0), swapped, zero-page, PROT_NONE and async-registered
 * ranges. Every call is checked against the contract the series documents in
 * Documentation/admin-guide/mm/pagemap.rst ("PAGEMAP_SCAN ioctl"; its
 * sections are cited below):
 *
 * - the errno of an invalid argument is computed from the input, in the
 *   order "Errors" gives;
 * - on success: regions sorted, non-overlapping, merged, inside
 *   [start, walk_end), within max_pages and vec_len, categories within
 *   return_mask, walk_end in [start, end] and == end iff finished;
 * - when the range lies in the fuzzed arena, the exact result (regions,
 *   return value, walk_end, EPERM, EFAULT) is predicted from a reference
 *   scan taken just before, and a sample of pages is cross-checked with
 *   /proc/self/pagemap; after PM_SCAN_WP_MATCHING the protected pages must
 *   no longer read as written.
 *
 * UFFDIO_API/REGISTER/WRITEPROTECT are fuzzed the same way against the
 * checks of fs/userfaultfd.c. Output is TAP; a breach prints the seed, the
 * iteration and the argument, so "pagemap_fuzz -s SEED" replays it.
 *
 * Usage: pagemap_fuzz [-s SEED] [-n ITERATIONS] [-t SECONDS] [-v]
 */
#include "common.h"
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define NSLOTS		16
/*
 * A slot holds up to 2 huge pages after an offset of up to one, or up to
 * 1535 small pages (set in main()); in the scratch area of the userfaultfd
 * rounds, a mapping of up to 4 huge pages and ranges that reach up to 2
 * more past it stay clear of the PROT_NONE fence that follows.
 */
static uint64_t slot_sz, scratch_sz;
#define SLOT_SZ		slot_sz
#define ARENA_SZ	(NSLOTS * SLOT_SZ)
#define ARENA_PAGES	(ARENA_SZ / PS)
#define NONE_CAT	(~0ULL)		/* page in no VMA */
#define VEC_PAGES	64
#define VEC_CAP		(VEC_PAGES * PS / 24)

enum kind { K_ANON, K_THP, K_HUGETLB, K_SHMEM, K_FILE_PRIV, K_FILE_SHARED,
	    K_PROTNONE, K_SHMEM_THP, K_EXT4_SHARED, K_EXT4_PRIV, K_FILE_THP,
	    K_DAX, K_PFNMAP, K_MIXEDMAP, NKINDS };
static const char *const kind_name[] = { "anon", "thp", "hugetlb", "shmem",
	"file-private(ramfs)", "file-shared(tmpfs)", "prot-none", "shmem-thp",
	"ext4-shared", "ext4-private", "file-thp", "dax", "pfnmap(/dev/mem)",
	"mixedmap(/dev/fb0)" };

/*
 * What the guest offers (-1: not there; those kinds fall back to anon):
 * a file on ext4, a read-only one for file THP, a file on a DAX mount,
 * /dev/mem with the PFN of a page of ours, and the vfb frame buffer.
 */
#define EXT4_DIR	"/mnt/ext4"
#define DAX_DIR		"/mnt/dax"
static int ext4_fd = -1, fthp_fd = -1, dax_fd = -1, mem_fd = -1, fb_fd = -1;
static uint64_t mem_off;

struct slot {
	uint64_t start, len;
	enum kind kind;
	bool used, async;
};

static struct slot slots[NSLOTS];
static char *arena, *scratch, *vecbuf, *vec_ro, *vec_part, *vec_hole;
static int pm_fd, uffd = -1, file_fd, exe_fd;
static uint64_t exe_pages;	/* whole pages of the binary */
static uint64_t limit;		/* highest valid end of a user range */
static uint64_t uffd_all;	/* features UFFDIO_API advertises */
static uint64_t seed, iter;
static bool verbose;
static uint64_t *pc;		/* per-page categories of the arena */
static struct page_region *refvec;
static size_t refcap;

/* statistics */
static uint64_t n_calls, n_ok, n_early, n_late, n_exact, n_xcheck, n_raced,
	n_wpcheck, n_uffd, n_remake, n_errno[8];
static int failures;

static uint64_t untag(uint64_t x)
{
#ifdef __aarch64__
	int64_t s = (int64_t)(x << 8) >> 8;	/* sign-extend from bit 55 */

	return x & (uint64_t)s;
#else
	return x;
#endif
}

/* The arena's VMAs with their flags (smaps "VmFlags", uw = uffd-wp) */
static void dump_vmas(void)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512], range[64] = "";
	unsigned long s, e;
	bool in = false;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = s < A(arena) + ARENA_SZ && e > A(arena);
			snprintf(range, sizeof(range), "%lx-%lx", s, e);
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			printf("#   vma %s %s", range, line);
		}
	}
	fclose(f);
}

static void dump_arg(const char *what, const struct pm_scan_arg *a, long r)
{
	printf("# FAIL seed=%" PRIu64 " iter=%" PRIu64 ": %s\n", seed, iter, what);
	printf("#   arg: size=%llu flags=%#llx start=%#llx end=%#llx walk_end=%#llx vec=%#llx vec_len=%llu max_pages=%llu inv=%#llx mask=%#llx anyof=%#llx ret=%#llx -> %s\n",
	       (unsigned long long)a->size, (unsigned long long)a->flags,
	       (unsigned long long)a->start, (unsigned long long)a->end,
	       (unsigned long long)a->walk_end, (unsigned long long)a->vec,
	       (unsigned long long)a->vec_len, (unsigned long long)a->max_pages,
	       (unsigned long long)a->category_inverted,
	       (unsigned long long)a->category_mask,
	       (unsigned long long)a->category_anyof_mask,
	       (unsigned long long)a->return_mask, errname(r));
	printf("#   arena %p:", arena);
	for (int i = 0; i < NSLOTS; i++)
		if (slots[i].used)
			printf(" [%d %s%s %#llx+%#llx]", i, kind_name[slots[i].kind],
			       slots[i].async ? "/async" : "",
			       (unsigned long long)slots[i].start,
			       (unsigned long long)slots[i].len);
	printf("\n");
	if (!failures)
		dump_vmas();
	fflush(stdout);
	failures++;
}

/* ---------------------------------------------------------------- */
/* The arena */

static struct slot *slot_of(uint64_t addr)
{
	if (addr < A(arena) || addr >= A(arena) + ARENA_SZ)
		return NULL;
	struct slot *s = &slots[(addr - A(arena)) / SLOT_SZ];

	return s->used && addr >= s->start && addr < s->start + s->len ? s : NULL;
}

static void touch_pages(struct slot *s, uint64_t off, uint64_t len, int how)
{
	for (uint64_t a = s->start + off; a < s->start + off + len; a += PS) {
		volatile char *p = (volatile char *)(uintptr_t)a;

		if (how == 1)
			*p = (char)rnd() | 1;
		else
			(void)*p;
	}
}

static void slot_free(int i)
{
	if (slots[i].used)
		munmap((void *)(uintptr_t)slots[i].start, slots[i].len);
	slots[i].used = false;
}

static void slot_make(int i)
{
	struct slot *s = &slots[i];
	int prot = PROT_READ | PROT_WRITE, flags = MAP_FIXED;
	/* at most HPS + 2 HPS, or HPS + 1535 PS: never into the next slot */
	uint64_t base = A(arena) + i * SLOT_SZ + rn(2) * HPS, pages, off;
	void *p = MAP_FAILED;

	slot_free(i);
	s->kind = rn(NKINDS);
	s->async = false;
	pages = 1 + rn(one_in(3) ? 1024 : 64);
	switch (s->kind) {
	case K_THP:
		s->len = (1 + rn(2)) * HPS;
		p = mmap((void *)base, s->len, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		madvise(p, s->len, MADV_HUGEPAGE);
		break;
	case K_HUGETLB:
		s->len = (1 + rn(2)) * HPS;
		p = mmap((void *)base, s->len, prot,
			 flags | MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p != MAP_FAILED)
			break;
		s->kind = K_ANON;	/* no huge pages left: plain anon */
		/* fall through */
	case K_ANON:
	case K_PROTNONE:
		base += rn(512) * PS;
		s->len = pages * PS;
		p = mmap((void *)base, s->len, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case K_SHMEM:
		base += rn(512) * PS;
		s->len = pages * PS;
		p = mmap((void *)base, s->len, prot, flags | MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		break;
	case K_SHMEM_THP:	/* a memfd, MADV_HUGEPAGE */
		s->len = (1 + rn(2)) * HPS;
		{
			int fd = memfd_create("pagemap_fuzz", 0);

			if (fd >= 0 && !ftruncate(fd, s->len))
				p = mmap((void *)base, s->len, prot,
					 flags | MAP_SHARED, fd, 0);
			if (fd >= 0)
				close(fd);
		}
		if (p != MAP_FAILED)
			madvise(p, s->len, MADV_HUGEPAGE);
		break;
	case K_FILE_THP:	/* a read-only ext4 file, collapsed */
	case K_DAX:
		s->len = 2 * HPS;
		if ((s->kind == K_DAX ? dax_fd : fthp_fd) >= 0)
			p = mmap((void *)base, s->len,
				 prot | (s->kind == K_FILE_THP ? PROT_EXEC : 0),
				 flags | (s->kind == K_DAX ? MAP_SHARED : MAP_PRIVATE),
				 s->kind == K_DAX ? dax_fd : fthp_fd, 0);
		if (p != MAP_FAILED && s->kind == K_FILE_THP) {
			for (off = 0; off < s->len; off += PS)
				(void)*(volatile char *)((char *)p + off);
			madvise(p, s->len, MADV_COLLAPSE);
		}
		break;
	case K_PFNMAP:
		s->len = PS;
		if (mem_fd >= 0)
			p = mmap((void *)base, s->len, prot, flags | MAP_SHARED,
				 mem_fd, mem_off);
		break;
	case K_EXT4_SHARED:
	case K_EXT4_PRIV:
	case K_MIXEDMAP:
		base += rn(512) * PS;
		off = rn(64);
		s->len = (1 + rn(64 - off)) * PS;
		if ((s->kind == K_MIXEDMAP ? fb_fd : ext4_fd) >= 0)
			p = mmap((void *)base, s->len, prot,
				 flags | (s->kind == K_EXT4_PRIV ? MAP_PRIVATE : MAP_SHARED),
				 s->kind == K_MIXEDMAP ? fb_fd : ext4_fd, off * PS);
		break;
	case K_FILE_PRIV:	/* the binary itself: a non-shmem file */
	case K_FILE_SHARED:	/* a tmpfs file */
		base += rn(512) * PS;
		pages = s->kind == K_FILE_PRIV ? exe_pages : 64;
		off = rn(pages);
		s->len = (1 + rn(pages - off)) * PS;
		p = mmap((void *)base, s->len, prot,
			 flags | (s->kind == K_FILE_PRIV ? MAP_PRIVATE : MAP_SHARED),
			 s->kind == K_FILE_PRIV ? exe_fd : file_fd, off * PS);
		break;
	default:
		break;
	}
	if (p == MAP_FAILED && s->kind >= K_SHMEM_THP) {
		/* not in this guest: plain anon */
		s->kind = K_ANON;
		s->len = pages * PS;
		p = mmap((void *)(base & ~(HPS - 1)), s->len, prot,
			 flags | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (p == MAP_FAILED) {
		note("slot %d: mmap %s: %s", i, kind_name[s->kind], strerror(errno));
		return;
	}
	s->start = A(p);
	s->used = true;
	n_remake++;

	/* Populate: write, read (zero page), leave empty */
	if (s->kind == K_FILE_THP) {
		/* writes would COW the THP away: read it (done above) */
	} else if (s->kind == K_THP || s->kind == K_HUGETLB || s->kind == K_SHMEM_THP) {
		for (off = 0; off < s->len; off += HPS)
			if (!one_in(4))
				touch_pages(s, off, HPS, one_in(3) ? 0 : 1);
	} else {
		for (off = 0; off < s->len; off += PS) {
			int r = rn(4);

			if (r)
				touch_pages(s, off, PS, r == 1);
		}
	}
	if (uffd >= 0 && one_in(2)) {
		int e = uffd_reg(uffd, s->start, s->len, UFFDIO_REGISTER_MODE_WP);

		/* [ours] DAX, VM_PFNMAP and VM_MIXEDMAP are refused */
		bool refused = s->kind == K_DAX || s->kind == K_PFNMAP ||
			       s->kind == K_MIXEDMAP;

		if (refused && e != -EINVAL) {
			printf("# FAIL seed=%" PRIu64 " iter=%" PRIu64 ": register %s: %s, want EINVAL\n",
			       seed, iter, kind_name[s->kind], errname(e));
			failures++;
		} else if (e && !refused) {
			note("slot %d: register %s: %s", i, kind_name[s->kind], errname(e));
		}
		if (!e)
			s->async = true;
		if (s->async && one_in(2))
			uffd_wp(uffd, s->start, s->len, UFFDIO_WRITEPROTECT_MODE_WP);
	}
	if (one_in(2) && s->kind != K_HUGETLB) {
		off = rn(s->len / PS) * PS;
		madvise((void *)(uintptr_t)(s->start + off), s->len - off, MADV_PAGEOUT);
	}
	if (s->kind == K_PROTNONE)
		mprotect((void *)(uintptr_t)s->start, s->len, PROT_NONE);
}

/* A random change to the memory of a slot between scans */
static void mutate(void)
{
	struct slot *s = &slots[rn(NSLOTS)];
	uint64_t unit = s->kind == K_HUGETLB ? HPS : PS, n, off, len;

	if (!s->used || one_in(100)) {
		slot_make(s - slots);
		return;
	}
	n = s->len / unit;
	off = rn(n) * unit;
	len = (1 + rn(n - off / unit)) * unit;
	if (unit == PS && len > 64 * PS && !one_in(8))
		len = 64 * PS;
	switch (rn(6)) {
	case 0:
	case 1:
		if (s->kind != K_PROTNONE)
			touch_pages(s, off, len, rn(3) ? 1 : 0);
		break;
	case 2:
		/*
		 * vfb maps its buffer once at mmap time and has no fault
		 * handler: zapped pages would not come back (SIGBUS).
		 */
		if (s->kind != K_MIXEDMAP)
			madvise((void *)(uintptr_t)(s->start + off), len, MADV_DONTNEED);
		break;
	case 3:
		madvise((void *)(uintptr_t)(s->start + off), len, MADV_PAGEOUT);
		break;
	default:
		if (s->async)
			uffd_wp(uffd, s->start + off, len,
				one_in(4) ? 0 : UFFDIO_WRITEPROTECT_MODE_WP);
		break;
	}
}

/* ---------------------------------------------------------------- */
/* PAGEMAP_SCAN: argument generation */

enum vkind { V_VALID, V_NULL, V_RO, V_UNMAPPED, V_PARTIAL, V_MISALIGNED,
	     V_OVERLAP, V_KERNEL, NVKINDS };

struct call {
	struct pm_scan_arg a;
	enum vkind vk;
	uint64_t vec_cap;	/* regions that can be written at vec */
};

static uint64_t rand_mask(void)
{
	uint64_t m = 0;

	switch (rn(5)) {
	case 0:
		return 0;
	case 1:
		m = 1ULL << rn(8);
		break;
	default:
		m = rnd() & rnd() & ALL_CATS;
		break;
	}
	if (one_in(60))
		m |= 1ULL << (8 + rn(56));	/* invalid */
	return m;
}

static uint64_t rand_count(uint64_t cap)
{
	switch (rn(10)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return 2;
	case 3: return rn(8);
	case 4: return rn(600);
	case 5: return cap;
	case 6:
		switch (rn(5)) {
		case 0: return ~0ULL;
		case 1: return 1ULL << 63;
		case 2: return ~0ULL / 24 + 1;
		case 3: return 1ULL << (20 + rn(40));
		default: return cap + 1 + rn(1000);
		}
	default:
		return 1 + rn(64);
	}
}

static void gen_range(struct pm_scan_arg *a)
{
	uint64_t start, end, pages;

	switch (rn(40)) {
	case 0:		/* kernel address */
		start = 0xffff888000000000ULL + rn(1 << 20) * PS;
		end = start + rn(1 << 10) * PS;
		break;
	case 1:		/* the whole user address space */
		start = 0;
		end = limit;
		break;
	case 2:		/* around the top of the user address space */
		start = limit - rn(16) * PS;
		end = limit + (rn(3) - 1) * PS + rn(2);
		break;
	case 3:		/* wrapping */
		start = A(arena) + rn(ARENA_PAGES) * PS;
		end = start + (~0ULL - rn(1 << 20));
		break;
	case 4:		/* reversed */
		start = A(arena) + rn(ARENA_PAGES) * PS;
		end = start - 1 - rn(1 << 20);
		break;
	case 5:		/* empty */
		start = A(arena) + rn(ARENA_PAGES) * PS;
		end = start;
		break;
	case 6:		/* huge, from low addresses */
		start = rn(1 << 20) * PS;
		end = start + rnd() % limit;
		break;
	default:	/* inside the arena */
		start = A(arena) + rn(ARENA_PAGES) * PS;
		pages = ARENA_PAGES - (start - A(arena)) / PS;
		switch (rn(8)) {
		case 0: pages = 1 + rn(pages < 2 ? pages : 2); break;
		case 1: case 2: case 3:
			pages = 1 + rn(pages < 64 ? pages : 64); break;
		case 4: case 5:
			pages = 1 + rn(pages < 2048 ? pages : 2048); break;
		case 6: pages = 1 + rn(pages < 8192 ? pages : 8192); break;
		default: pages = one_in(2) ? 1 + rn(pages) : pages; break;
		}
		end = start + pages * PS;
		break;
	}
	if (one_in(25))
		start += 1 + rn(PS - 1);	/* unaligned start */
	if (one_in(10))
		end -= 1 + rn(PS - 1);		/* unaligned end: rounded up */
#ifdef __aarch64__
	if (one_in(40)) {			/* tagged pointers */
		uint64_t tag = (1 + rn(255)) << 56;

		start |= tag;
		end |= tag;
	}
#endif
	a->start = start;
	a->end = end;
}

static void gen_call(struct call *c)
{
	struct pm_scan_arg *a = &c->a;
	uint64_t k;

	memset(c, 0, sizeof(*c));
	a->size = one_in(80) ? (one_in(2) ? rn(200) : sizeof(*a) + 8) : sizeof(*a);
	a->flags = rn(4);
	if (one_in(80))
		a->flags |= 1ULL << (2 + rn(62));
	gen_range(a);
	a->category_inverted = one_in(3) ? rand_mask() : 0;
	a->category_mask = rand_mask();
	a->category_anyof_mask = one_in(2) ? rand_mask() : 0;
	a->return_mask = one_in(3) ? ALL_CATS : rand_mask();
	a->max_pages = one_in(2) ? 0 : rand_count(1000);
	a->walk_end = rnd();

	c->vk = rn(3) ? V_VALID : rn(NVKINDS);
	/* vec inside the scanned range only where that range is the arena */
	if (c->vk == V_OVERLAP &&
	    (untag(a->start) < A(arena) || untag(a->end) > A(arena) + ARENA_SZ ||
	     untag(a->end) <= untag(a->start) + 64))
		c->vk = V_VALID;
	switch (c->vk) {
	case V_VALID:
		a->vec = A(vecbuf);
		c->vec_cap = VEC_CAP;
		break;
	case V_NULL:
		a->vec = 0;
		break;
	case V_RO:
		a->vec = A(vec_ro);
		break;
	case V_UNMAPPED:
		a->vec = A(vec_hole) + rn(16) * 8;
		break;
	case V_PARTIAL:		/* k regions fit before an unmapped page */
		k = rn(PS / 24 + 1);
		a->vec = A(vec_part) + PS - 24 * k - rn(2) * 8;
		c->vec_cap = k;
		break;
	case V_MISALIGNED:
		k = 1 + rn(23);
		a->vec = A(vecbuf) + k;
		c->vec_cap = (VEC_PAGES * PS - k) / 24;
		break;
	case V_OVERLAP:		/* inside the range being scanned */
		a->vec = (untag(a->start) & ~7ULL) +
			 ((untag(a->end) > untag(a->start) ?
			   rn(untag(a->end) - untag(a->start)) : 0) & ~7ULL);
		break;
	case V_KERNEL:
		a->vec = 0xffff888000000000ULL + rn(1 << 20) * 8;
		break;
	default:
		break;
	}
	a->vec_len = rand_count(c->vec_cap ? c->vec_cap : 16);
	if (c->vk == V_NULL && one_in(3))
		a->vec_len = 0;
}

/* The errno pagemap.rst "Errors" gives for the argument, 0 when it passes the checks */
static long expect_args(const struct pm_scan_arg *a)
{
	uint64_t start = untag(a->start), end = untag(a->end), vec = untag(a->vec);
	uint64_t masks = a->category_inverted | a->category_mask |
			 a->category_anyof_mask | a->return_mask;

	if (a->size != sizeof(*a))
		return -EINVAL;
	if (a->flags & ~(uint64_t)(PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC))
		return -EINVAL;
	if (masks & ~ALL_CATS)
		return -EINVAL;
	if (start & (PS - 1))
		return -EINVAL;
	if (end < start || end > limit)
		return -EFAULT;
	if (!vec && a->vec_len)
		return -EINVAL;
	if (vec) {
		if (a->vec_len > ~0ULL / 24)
			return -EFAULT;
		if (a->vec_len * 24 > limit || vec > limit - a->vec_len * 24)
			return -EFAULT;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* The exact model: pagemap.rst "Categories" to "Write-protection" applied to a reference scan */

static bool match(const struct pm_scan_arg *a, uint64_t cat)
{
	uint64_t c = cat ^ a->category_inverted;

	if ((c & a->category_mask) != a->category_mask)
		return false;
	return !a->category_anyof_mask || (c & a->category_anyof_mask);
}

struct expect {
	long ret;		/* regions, or -errno */
	uint64_t walk_end;
	uint64_t n;
	struct page_region *r;	/* ARENA_PAGES + 1 of them */
};

static struct expect ex;

/*
 * Per-page categories of [start, end) (inside the arena) into pc[], from one
 * scan with no masks: every page of every VMA matches. Returns false if the
 * reference scan itself misbehaved.
 */
static bool reference(uint64_t start, uint64_t end)
{
	uint64_t we, i, first = (start - A(arena)) / PS, n = (end - start) / PS;
	long r;

	for (i = 0; i < n; i++)
		pc[first + i] = NONE_CAT;
	r = scan_simple(pm_fd, start, end, 0, refvec, refcap, 0, 0, ALL_CATS, &we);
	if (r < 0 || we != end) {
		printf("# FAIL seed=%" PRIu64 " iter=%" PRIu64 ": reference scan %#llx-%#llx: %s walk_end %#llx\n",
		       seed, iter, (unsigned long long)start,
		       (unsigned long long)end, errname(r), (unsigned long long)we);
		failures++;
		return false;
	}
	for (long j = 0; j < r; j++)
		for (uint64_t p = refvec[j].start; p < refvec[j].end; p += PS)
			pc[(p - A(arena)) / PS] = refvec[j].categories;
	return true;
}

static uint64_t cat_at(uint64_t addr)
{
	return pc[(addr - A(arena)) / PS];
}

/* Fill ex with what the call must give (args already valid) */
static void predict(const struct call *c, uint64_t start, uint64_t end)
{
	const struct pm_scan_arg *a = &c->a;
	bool wp = a->flags & PM_SCAN_WP_MATCHING;
	bool check = a->flags & PM_SCAN_CHECK_WPASYNC;
	bool out = a->vec && a->vec_len;
	uint64_t total = 0, addr, cat, rc, prev_vma_cat = NONE_CAT;
	struct page_region *last;

	ex.n = 0;
	ex.ret = 0;
	for (addr = start; addr < end; addr += PS) {
		struct slot *s = slot_of(addr);

		cat = cat_at(addr);
		/*
		 * A VM_PFNMAP VMA reports nothing (pagemap.rst, "Matching and output"), but it is not
		 * WP-allowed either: CHECK_WPASYNC fails on it first.
		 */
		if (check && s && s->kind == K_PFNMAP) {
			ex.ret = -EPERM;
			ex.walk_end = addr;
			return;
		}
		if (cat == NONE_CAT)
			continue;
		if (!(cat & PAGE_IS_WPALLOWED)) {
			if (check) {
				ex.ret = -EPERM;
				ex.walk_end = addr;
				return;
			}
			if (wp)
				continue;
		}
		(void)prev_vma_cat;
		if (s && s->kind == K_HUGETLB && wp) {
			/* a hugetlb page is handled whole or stops the walk */
			uint64_t hs = addr & ~(HPS - 1), he = hs + HPS, g, room;

			if (he > end)
				he = end;
			/* the range starts inside it: skipped, the walk goes on */
			if (addr & (HPS - 1)) {
				addr = he - PS;
				continue;
			}
			g = (he - addr) / PS;
			if (!match(a, cat)) {
				addr = he - PS;
				continue;
			}
			room = g;
			rc = cat & a->return_mask;
			last = ex.n ? &ex.r[ex.n - 1] : NULL;
			if (out) {
				if (!(last && last->end == addr && last->categories == rc) &&
				    ex.n == a->vec_len)
					room = 0;
				else if (a->max_pages && room > a->max_pages - total)
					room = a->max_pages - total;
			}
			if (room != HPS / PS) {
				ex.walk_end = addr;
				ex.ret = ex.n;
				return;
			}
			if (out) {
				if (last && last->end == addr && last->categories == rc) {
					last->end = he;
				} else {
					ex.r[ex.n].start = addr;
					ex.r[ex.n].end = he;
					ex.r[ex.n].categories = rc;
					ex.n++;
				}
				total += g;
			}
			addr = he - PS;
			continue;
		}
		if (!match(a, cat) || !out)
			continue;
		rc = cat & a->return_mask;
		last = ex.n ? &ex.r[ex.n - 1] : NULL;
		if (!(last && last->end == addr && last->categories == rc)) {
			if (ex.n == a->vec_len) {
				ex.walk_end = addr;
				ex.ret = ex.n;
				return;
			}
		}
		if (a->max_pages && total == a->max_pages) {
			ex.walk_end = addr;
			ex.ret = ex.n;
			return;
		}
		if (last && last->end == addr && last->categories == rc) {
			last->end += PS;
		} else {
			ex.r[ex.n].start = addr;
			ex.r[ex.n].end = addr + PS;
			ex.r[ex.n].categories = rc;
			ex.n++;
		}
		total++;
	}
	ex.walk_end = end;
	ex.ret = ex.n;
}

/* ---------------------------------------------------------------- */
/* Checks */

/* Categories /proc/self/pagemap implies for the entry (see pagemap_ioctl.c) */
static uint64_t pagemap_cats(uint64_t e, bool hugetlb)
{
	uint64_t c = 0;

	if (e & PM_PRESENT) {
		c |= PAGE_IS_PRESENT;
		if (!(e & PM_UFFD_WP))
			c |= PAGE_IS_WRITTEN;
		if (e & PM_FILE)
			c |= PAGE_IS_FILE;
	} else if (e & PM_SWAP) {
		c |= PAGE_IS_SWAPPED;
		if (!(e & PM_UFFD_WP))
			c |= PAGE_IS_WRITTEN;
		if (e & PM_FILE)
			c |= PAGE_IS_FILE;
	} else if (hugetlb) {
		if (e & PM_UFFD_WP)
			c |= PAGE_IS_SWAPPED;
	} else {
		c |= PAGE_IS_WRITTEN;
	}
	return c;
}

/*
 * Cross-check the reference categories of a few pages of [start, end) with
 * /proc/self/pagemap. A page whose state changed meanwhile (reclaim,
 * compaction) is looked at again; only a stable disagreement fails.
 */
static void crosscheck(uint64_t start, uint64_t end)
{
	for (int k = 0; k < 4; k++) {
		uint64_t addr = start + rn((end - start) / PS) * PS, cat, e, m;
		struct slot *s = slot_of(addr);
		bool huge;

		cat = cat_at(addr);
		if (cat == NONE_CAT || !s)
			continue;
		huge = s->kind == K_HUGETLB;
		for (int tries = 0; ; tries++) {
			uint64_t got, c2, we;
			struct page_region r;

			if (!pagemap_read(pm_fd, addr, &e, 1))
				break;
			m = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_WRITTEN;
			/* pagemap calls the huge zero page a file page */
			if (!(cat & PAGE_IS_PFNZERO))
				m |= PAGE_IS_FILE;
			got = pagemap_cats(e, huge);
			n_xcheck++;
			if ((got & m) == (cat & m))
				break;
			if (tries == 2) {
				printf("# FAIL seed=%" PRIu64 " iter=%" PRIu64 ": page %#llx (%s%s): scan says %#llx, pagemap entry %#llx says %#llx\n",
				       seed, iter, (unsigned long long)addr,
				       kind_name[s->kind], s->async ? "/async" : "",
				       (unsigned long long)cat, (unsigned long long)e,
				       (unsigned long long)got);
				failures++;
				break;
			}
			/* look again, single page */
			n_raced++;
			if (scan_simple(pm_fd, addr, addr + PS, 0, &r, 1, 0, 0,
					ALL_CATS, &we) != 1)
				break;
			c2 = r.categories;
			cat = c2;
		}
	}
}

static bool regions_equal(long r, const struct page_region *v)
{
	if (r != ex.ret)
		return false;
	for (long i = 0; i < r; i++)
		if (v[i].start != ex.r[i].start || v[i].end != ex.r[i].end ||
		    v[i].categories != ex.r[i].categories)
			return false;
	return true;
}

static void print_regions(const char *who, long n, const struct page_region *v)
{
	printf("#   %s: %ld regions:", who, n);
	for (long i = 0; i < n && i < 12; i++)
		printf(" %#llx-%#llx/%#llx", (unsigned long long)v[i].start,
		       (unsigned long long)v[i].end, (unsigned long long)v[i].categories);
	printf("%s\n", n > 12 ? " ..." : "");
}

/* Generic invariants of a successful call ("Matching and output", "Where the scan stops") */
static bool check_success(const struct call *c, long r, uint64_t start,
			  uint64_t end)
{
	const struct pm_scan_arg *a = &c->a;
	const struct page_region *v = (const struct page_region *)(uintptr_t)a->vec;
	bool out = a->vec && a->vec_len;
	uint64_t total = 0, we = a->walk_end;

	if (!out) {
		struct slot *s = slot_of(we);

		/* WP stops at a hugetlb page it cannot handle whole ("Write-protection") */
		if (we != end && (a->flags & PM_SCAN_WP_MATCHING) && s &&
		    s->kind == K_HUGETLB && we >= start)
			we = end;
		if (r != 0 || we != end) {
			dump_arg("no output asked: must return 0 with walk_end == end", a, r);
			return false;
		}
		return true;
	}
	if ((uint64_t)r > a->vec_len) {
		dump_arg("more regions than vec_len", a, r);
		return false;
	}
	if (we < start || we > end || (we & (PS - 1))) {
		dump_arg("walk_end outside [start, end]", a, r);
		return false;
	}
	if (c->vk == V_OVERLAP)	/* the regions may have been overwritten */
		return true;
	for (long i = 0; i < r; i++) {
		const struct page_region *p = &v[i];
		struct slot *s;

		if (p->start >= p->end || (p->start | p->end) & (PS - 1) ||
		    p->start < start || p->end > we) {
			dump_arg("region not page aligned, empty or outside [start, walk_end)", a, r);
			print_regions("got", r, v);
			return false;
		}
		if (i && (p->start < v[i - 1].end ||
			  (p->start == v[i - 1].end &&
			   p->categories == v[i - 1].categories))) {
			dump_arg("regions unsorted, overlapping or not merged", a, r);
			print_regions("got", r, v);
			return false;
		}
		if (p->categories & ~a->return_mask) {
			dump_arg("categories outside return_mask", a, r);
			return false;
		}
		total += (p->end - p->start) / PS;
		if (p->start >= A(arena) && p->end <= A(arena) + ARENA_SZ) {
			s = slot_of(p->start);
			if (!s || p->end > s->start + s->len) {
				/* may span adjacent slots only if both are mapped */
				for (uint64_t q = p->start; q < p->end; q += PS)
					if (!slot_of(q)) {
						dump_arg("region covers an unmapped gap", a, r);
						print_regions("got", r, v);
						return false;
					}
			}
			if ((a->flags & PM_SCAN_WP_MATCHING) && s && !s->async) {
				dump_arg("WP_MATCHING reported a VMA that is not WP-allowed", a, r);
				return false;
			}
			if ((a->return_mask & PAGE_IS_WPALLOWED) && s &&
			    !!(p->categories & PAGE_IS_WPALLOWED) != s->async) {
				dump_arg("WPALLOWED does not match the registration", a, r);
				return false;
			}
		}
	}
	if (a->max_pages && total > a->max_pages) {
		dump_arg("more pages than max_pages", a, r);
		return false;
	}
	if (we != end) {
		struct slot *s = slot_of(we);
		bool hugetlb_stop = (a->flags & PM_SCAN_WP_MATCHING) && s &&
				    s->kind == K_HUGETLB;

		if ((uint64_t)r != a->vec_len && !(a->max_pages && total == a->max_pages) &&
		    !hugetlb_stop && we >= A(arena) && we < A(arena) + ARENA_SZ) {
			dump_arg("stopped before end with room in vec and max_pages", a, r);
			print_regions("got", r, v);
			return false;
		}
	}
	return true;
}

/* After WP_MATCHING: the written pages it reported are now protected */
static void check_protected(const struct call *c, long r)
{
	const struct page_region *v = (const struct page_region *)(uintptr_t)c->a.vec;

	for (long i = 0; i < r && i < 4; i++) {
		uint64_t addr = v[i].start + rn((v[i].end - v[i].start) / PS) * PS;
		struct page_region got;
		uint64_t we;

		if (!slot_of(addr))
			continue;
		if ((cat_at(addr) & (PAGE_IS_WRITTEN | PAGE_IS_WPALLOWED)) !=
		    (PAGE_IS_WRITTEN | PAGE_IS_WPALLOWED))
			continue;
		if (scan_simple(pm_fd, addr, addr + PS, 0, &got, 1, 0, 0,
				ALL_CATS, &we) != 1)
			continue;
		n_wpcheck++;
		if (got.categories & PAGE_IS_WRITTEN) {
			printf("#   page %#llx reported written (%#llx) and protected, still written (%#llx)\n",
			       (unsigned long long)addr,
			       (unsigned long long)cat_at(addr),
			       (unsigned long long)got.categories);
			dump_arg("WP_MATCHING left a reported written page unprotected", &c->a, r);
			return;
		}
	}
}

static void fuzz_scan_one(void)
{
	struct call c;
	struct pm_scan_arg before;
	long r, want;
	uint64_t start, end;
	bool exact = false, hugeish = false;

	gen_call(&c);
	before = c.a;
	want = expect_args(&c.a);
	start = untag(c.a.start);
	end = (untag(c.a.end) + PS - 1) & ~(PS - 1);

	/* the model costs a reference scan: every small range, some big ones */
	if (!want && start >= A(arena) && end <= A(arena) + ARENA_SZ &&
	    c.vk != V_OVERLAP && start < end &&
	    (end - start <= 512 * PS || one_in(6))) {
		if (!reference(start, end))
			return;
		crosscheck(start, end);
		for (uint64_t p = start; p < end; p += PS) {
			struct slot *s = slot_of(p);

			if (s && s->kind != K_HUGETLB && (cat_at(p) & PAGE_IS_HUGE))
				hugeish = true;
		}
		/* a partly covered THP is split under WP: HUGE then drops */
		exact = !(hugeish && (c.a.flags & PM_SCAN_WP_MATCHING));
		if (exact)
			predict(&c, start, end);
	}

	r = scan_fd(pm_fd, &c.a);
	n_calls++;

	/* Only walk_end is ever written back */
	before.walk_end = c.a.walk_end;
	if (memcmp(&before, &c.a, sizeof(before))) {
		dump_arg("the kernel changed a field other than walk_end", &c.a, r);
		return;
	}
	if (want) {
		n_early++;
		if (r != want) {
			char buf[96];

			snprintf(buf, sizeof(buf), "invalid argument: want %s", errname(want));
			dump_arg(buf, &c.a, r);
		}
		return;
	}
	if (r < 0) {
		bool ok = false;

		n_late++;
		switch (-r) {
		case EPERM:
			ok = c.a.flags & PM_SCAN_CHECK_WPASYNC;
			break;
		case EFAULT:	/* only when regions do not fit at vec */
			ok = c.vk != V_NULL &&
			     ((c.vk != V_VALID && c.vk != V_MISALIGNED) ||
			      c.a.vec_len > c.vec_cap);
			break;
		case ENOMEM:
			ok = true;
			note("ENOMEM at iteration %" PRIu64, iter);
			break;
		}
		if (!ok) {
			dump_arg("errno pagemap.rst does not allow for this argument", &c.a, r);
			return;
		}
		n_errno[-r & 7]++;
		if (start < end && (c.a.walk_end < start || c.a.walk_end >= end)) {
			dump_arg("walk_end of a failed call not in [start, end)", &c.a, r);
			return;
		}
		if (exact) {
			/*
			 * Regions that could not be written at vec move
			 * walk_end back to the first of them.
			 */
			uint64_t we = ex.walk_end;

			if (ex.n > c.vec_cap && ex.r[c.vec_cap].start < we)
				we = ex.r[c.vec_cap].start;
			if (-r == EPERM && (ex.ret != -EPERM ||
					    (c.a.walk_end != we &&
					     !(we != ex.walk_end && c.a.walk_end < we)))) {
				printf("#   model: %s walk_end %#llx\n", errname(ex.ret),
				       (unsigned long long)ex.walk_end);
				dump_arg("EPERM where the model does not expect it", &c.a, r);
			}
			if (-r == EFAULT) {
				/* results before walk_end are complete */
				if (ex.n <= c.vec_cap) {
					printf("#   model: %s, vec holds %llu\n", errname(ex.ret),
					       (unsigned long long)c.vec_cap);
					dump_arg("EFAULT although every region fits", &c.a, r);
				} else if (ex.ret == -EPERM) {
					dump_arg("EFAULT where the model expects EPERM", &c.a, r);
				} else if (c.a.walk_end > ex.r[c.vec_cap].start) {
					dump_arg("EFAULT: walk_end claims regions that were not written", &c.a, r);
				}
			}
		}
		return;
	}
	n_ok++;
	if (!check_success(&c, r, start, end))
		return;
	if (exact) {
		n_exact++;
		if (ex.ret < 0 || (uint64_t)ex.ret > c.vec_cap ||
		    !regions_equal(r, (struct page_region *)(uintptr_t)c.a.vec) ||
		    c.a.walk_end != ex.walk_end) {
			/* without WP nothing changed: ask again to rule out a race */
			if (!(c.a.flags & PM_SCAN_WP_MATCHING)) {
				struct call c2 = c;

				n_raced++;
				c2.a.walk_end = 0;
				reference(start, end);
				predict(&c2, start, end);
				r = scan_fd(pm_fd, &c2.a);
				if (ex.ret >= 0 && (uint64_t)ex.ret <= c.vec_cap &&
				    regions_equal(r, (struct page_region *)(uintptr_t)c2.a.vec) &&
				    c2.a.walk_end == ex.walk_end)
					goto wp;
				c = c2;
			}
			printf("#   model: %s walk_end %#llx\n", errname(ex.ret),
			       (unsigned long long)ex.walk_end);
			if (ex.ret > 0)
				print_regions("want", ex.ret, ex.r);
			print_regions("got", r, (struct page_region *)(uintptr_t)c.a.vec);
			dump_arg("result differs from pagemap.rst applied to the reference scan", &c.a, r);
			return;
		}
	}
wp:
	if (exact && (c.a.flags & PM_SCAN_WP_MATCHING) && c.vk == V_VALID)
		check_protected(&c, r);
}

/* ---------------------------------------------------------------- */
/* userfaultfd: API, REGISTER, WRITEPROTECT */

enum ukind { U_ANON, U_SHMEM, U_TMPFILE, U_EXE_PRIV, U_EXE_SHARED_RO, U_HUGETLB,
	     U_EXT4_SHARED, U_DAX, U_PFNMAP, U_MIXEDMAP, NUKINDS };
static const char *const ukind_name[] = { "anon", "shmem", "tmpfile-shared",
	"ramfs-private", "ramfs-shared-ro", "hugetlb", "ext4-shared", "dax",
	"pfnmap(/dev/mem)", "mixedmap(/dev/fb0)" };

static void ufail(const char *what, uint64_t x, uint64_t y, uint64_t z, long got,
		  long want)
{
	printf("# FAIL seed=%" PRIu64 " iter=%" PRIu64 ": %s (%#llx %#llx %#llx): got %s",
	       seed, iter, what, (unsigned long long)x, (unsigned long long)y,
	       (unsigned long long)z, errname(got));
	printf(", want %s\n", errname(want));
	failures++;
}

static bool can_userfault(enum ukind k, uint64_t mode, bool async)
{
	bool shmem = k == U_SHMEM || k == U_TMPFILE;

	if ((mode & UFFDIO_REGISTER_MODE_MINOR) && !shmem && k != U_HUGETLB)
		return false;
	/* [ours] never: their fault handlers cannot resolve a marker */
	if (k == U_DAX || k == U_PFNMAP || k == U_MIXEDMAP)
		return false;
	if (async && mode == UFFDIO_REGISTER_MODE_WP)
		return true;
	return k == U_ANON || k == U_HUGETLB || shmem;
}

static void fuzz_uffd_one(void)
{
	struct uffdio_api api;
	uint64_t feats, mode, start, len, base = A(scratch), maplen, unit;
	uint64_t rstart = 0, rend = 0;
	long want, r;
	int fd, fd2;
	enum ukind k;
	bool async, wp_ok = uffd_all & UFFD_FEATURE_PAGEFAULT_FLAG_WP;
	void *p = MAP_FAILED;

	n_uffd++;
	fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		ufail("userfaultfd()", 0, 0, 0, -errno, 0);
		return;
	}
	/* UFFDIO_API */
	memset(&api, 0, sizeof(api));
	api.api = one_in(10) ? rnd() & 0xff : UFFD_API;
	feats = rnd() & uffd_all;
	if (one_in(4))
		feats |= one_in(2) ? 1ULL << 14 : 1ULL << rn(64);
	api.features = feats;
	want = api.api != UFFD_API ? -EINVAL : (feats & ~uffd_all) ? -EINVAL : 0;
	r = ioctl(fd, UFFDIO_API, &api) ? -errno : 0;
	if (r != want)
		ufail("UFFDIO_API api/features", api.api, feats, 0, r, want);
	if (r && (api.api || api.features || api.ioctls))
		ufail("UFFDIO_API failure did not zero the reply", api.api,
		      api.features, api.ioctls, r, want);
	if (!r && (api.features != uffd_all ||
		   api.ioctls != (1ULL << _UFFDIO_REGISTER | 1ULL << _UFFDIO_UNREGISTER |
				  1ULL << _UFFDIO_API)))
		ufail("UFFDIO_API reply", api.features, api.ioctls, 0, r, 0);
	if (r) {	/* a failed call leaves the context unconfigured */
		feats = rnd() & uffd_all;
		api.api = UFFD_API;
		api.features = feats;
		r = ioctl(fd, UFFDIO_API, &api) ? -errno : 0;
		if (r)
			ufail("UFFDIO_API after a failed one", feats, 0, 0, r, 0);
	}
	api.api = UFFD_API;
	api.features = 0;
	r = ioctl(fd, UFFDIO_API, &api) ? -errno : 0;
	if (r != -EINVAL)
		ufail("second UFFDIO_API", 0, 0, 0, r, -EINVAL);
	async = feats & UFFD_FEATURE_WP_ASYNC;

	/* A VMA of a random kind at the start of the scratch area */
	k = rn(NUKINDS);
	unit = k == U_HUGETLB ? HPS : PS;
	maplen = (1 + rn(4)) * unit;
	switch (k) {
	case U_ANON:
		p = mmap((void *)base, maplen, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case U_SHMEM:
		p = mmap((void *)base, maplen, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		break;
	case U_TMPFILE:
		p = mmap((void *)base, maplen, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_SHARED, file_fd, 0);
		break;
	case U_EXE_PRIV:
		p = mmap((void *)base, maplen, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_PRIVATE, exe_fd, 0);
		break;
	case U_EXE_SHARED_RO:
		p = mmap((void *)base, maplen, PROT_READ, MAP_FIXED | MAP_SHARED,
			 exe_fd, 0);
		break;
	case U_HUGETLB:
		p = mmap((void *)base, maplen, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		break;
	case U_EXT4_SHARED:
	case U_DAX:
	case U_MIXEDMAP:
		fd2 = k == U_EXT4_SHARED ? ext4_fd : k == U_DAX ? dax_fd : fb_fd;
		if (fd2 >= 0)
			p = mmap((void *)base, maplen, PROT_READ | PROT_WRITE,
				 MAP_FIXED | MAP_SHARED, fd2, 0);
		break;
	case U_PFNMAP:
		maplen = PS;
		if (mem_fd >= 0)
			p = mmap((void *)base, maplen, PROT_READ | PROT_WRITE,
				 MAP_FIXED | MAP_SHARED, mem_fd, mem_off);
		break;
	default:
		break;
	}
	if (p == MAP_FAILED && k >= U_EXT4_SHARED) {
		k = U_ANON;	/* not in this guest */
		p = mmap((void *)base, maplen, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (p == MAP_FAILED)
		goto out;
	for (uint64_t o = 0; o < maplen; o += unit) {
		int how = rn(3);

		if (how == 1 && k != U_EXE_SHARED_RO)
			*(volatile char *)(uintptr_t)(base + o) = 1;
		else if (how == 2)
			(void)*(volatile char *)(uintptr_t)(base + o);
	}

	/* UFFDIO_REGISTER */
	mode = rn(8);
	if (one_in(15))
		mode |= 1ULL << rn(64);
	start = base + rn(maplen / unit) * unit;
	len = (1 + rn((base + maplen - start) / unit + 2)) * unit;
	if (one_in(8))
		start += PS;
	if (one_in(10))
		len = 0;
	if (one_in(10))
		len += 1 + rn(PS - 1);
	if (one_in(20))
		start = limit + rn(4) * PS;
	if (one_in(20))
		len = ~0ULL & ~(PS - 1);

	if (!mode || (mode & ~7ULL) ||
	    ((mode & UFFDIO_REGISTER_MODE_WP) && !wp_ok) ||
	    ((mode & UFFDIO_REGISTER_MODE_MINOR) &&
	     !(uffd_all & UFFD_FEATURE_MINOR_SHMEM)))
		want = -EINVAL;
	else if ((start | len) & (PS - 1) || !len || start >= limit || len > limit - start)
		want = -EINVAL;
	else if (start >= base + maplen)
		want = -EINVAL;		/* the next VMA (the fence) starts past end */
	else if (k == U_HUGETLB && (start & (HPS - 1)))
		want = -EINVAL;
	else if (!can_userfault(k, mode, async))
		want = -EINVAL;
	else if (k == U_EXE_SHARED_RO)
		want = -EPERM;
	else if (k == U_HUGETLB && start + len <= base + maplen && ((start + len) & (HPS - 1)))
		want = -EINVAL;
	else
		want = 0;
	r = uffd_reg(fd, start, len, mode);
	if (r != want) {
		printf("#   register %s, context %s\n", ukind_name[k], async ? "async" : "sync");
		ufail("UFFDIO_REGISTER start/len/mode", start, len, mode, r, want);
		goto out;
	}
	if (r)
		goto out;
	rstart = start;
	rend = start + len < base + maplen ? start + len : base + maplen;

	/* The same range on another context is busy */
	if (one_in(5)) {
		fd2 = uffd_new(feats, NULL);
		if (fd2 >= 0) {
			r = uffd_reg(fd2, start, len, mode);
			if (r != -EBUSY)
				ufail("UFFDIO_REGISTER on another context's range",
				      start, len, mode, r, -EBUSY);
			close(fd2);
		}
	}

	/* UFFDIO_WRITEPROTECT, a few times */
	for (int j = 0; j < 3; j++) {
		uint64_t wmode = rn(4), ws, wl;

		if (one_in(15))
			wmode |= 1ULL << rn(64);
		ws = base + rn(maplen / unit + 1) * unit;
		wl = (1 + rn(maplen / unit)) * unit;
		if (one_in(8))
			ws += PS;
		if (one_in(10))
			wl = 0;
		if (one_in(10))
			wl += 8;
		if ((ws | wl) & (PS - 1) || !wl || ws >= limit || wl > limit - ws)
			want = -EINVAL;
		else if ((wmode & ~3ULL) || wmode == 3)
			want = -EINVAL;
		else if (ws < rstart || ws + wl > rend ||
			 !(mode & UFFDIO_REGISTER_MODE_WP))
			want = -ENOENT;
		else if (k == U_HUGETLB && ((ws | wl) & (HPS - 1)))
			want = -EINVAL;
		else
			want = 0;
		r = uffd_wp(fd, ws, wl, wmode);
		if (r != want) {
			printf("#   %s registered %#llx-%#llx mode %#llx, context %s\n",
			       ukind_name[k], (unsigned long long)rstart,
			       (unsigned long long)rend, (unsigned long long)mode,
			       async ? "async" : "sync");
			ufail("UFFDIO_WRITEPROTECT start/len/mode", ws, wl, wmode, r, want);
			continue;
		}
		/* async protection: nothing in the range reads as written */
		if (!r && async && (wmode & UFFDIO_WRITEPROTECT_MODE_WP)) {
			struct page_region v[8];
			uint64_t we;
			long n = scan_simple(pm_fd, ws, ws + wl, 0, v, 8,
					     PAGE_IS_WRITTEN, 0, ALL_CATS, &we);

			if (n != 0 || we != ws + wl)
				ufail("written pages after async UFFDIO_WRITEPROTECT",
				      ws, wl, n > 0 ? v[0].categories : 0, n, 0);
			n = scan_simple(pm_fd, ws, ws + wl, 0, v, 8, 0,
					0, PAGE_IS_WPALLOWED, &we);
			if (n != 1 || v[0].categories != PAGE_IS_WPALLOWED)
				ufail("async-registered range not WPALLOWED", ws, wl,
				      n > 0 ? v[0].categories : 0, n, 1);
		}
	}
out:
	close(fd);
	if (p != MAP_FAILED)
		munmap(p, maplen);
}

/* ---------------------------------------------------------------- */

/*
 * A file that is not shmem, for private file mappings: the guest's rootfs
 * and /tmp are tmpfs, so mount a ramfs.
 */
static const char ramfs_dir[] = "/tmp/pagemap_fuzz_ramfs";

static int open_ramfs_file(void)
{
	char path[64], page[PS];
	int fd;

	mkdir(ramfs_dir, 0700);
	if (mount("ramfs", ramfs_dir, "ramfs", 0, NULL))
		note("mount ramfs: %s (private file mappings are then shmem)",
		     strerror(errno));
	snprintf(path, sizeof(path), "%s/file", ramfs_dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror(path);
		return -1;
	}
	memset(page, 0x5a, sizeof(page));
	for (int i = 0; i < 128; i++)
		if (write(fd, page, PS) != PS) {
			perror("write");
			return -1;
		}
	close(fd);
	/* read-only: MAP_SHARED of it has no VM_MAYWRITE */
	return open(path, O_RDONLY);
}

/* A file of @len bytes in @dir, written; opened read-only if @ro */
static int open_dir_file(const char *dir, const char *name, uint64_t len, bool ro)
{
	char path[128], page[PS];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	memset(page, 0x3c, sizeof(page));
	for (uint64_t o = 0; o < len; o += PS)
		if (pwrite(fd, page, PS, o) != PS) {
			close(fd);
			return -1;
		}
	fsync(fd);
	if (ro) {
		close(fd);
		fd = open(path, O_RDONLY);
	}
	unlink(path);
	return fd;
}

/* The memory types the guest may offer (see ext4_fd and the others) */
static void open_memtypes(void)
{
	static char *pinned;
	uint64_t e = 0;

	if (!access(EXT4_DIR, W_OK)) {
		ext4_fd = open_dir_file(EXT4_DIR, "pagemap_fuzz.shared", 64 * PS, false);
		fthp_fd = open_dir_file(EXT4_DIR, "pagemap_fuzz.thp", 2 * HPS, true);
	}
	if (!access(DAX_DIR, W_OK))
		dax_fd = open_dir_file(DAX_DIR, "pagemap_fuzz.dax", 2 * HPS, false);
	/* /dev/mem over a locked page of ours: the PFN pagemap shows root */
	pinned = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (pinned != MAP_FAILED) {
		pinned[0] = 1;
		mlock(pinned, PS);
		pagemap_read(pm_fd, A(pinned), &e, 1);
	}
	if (e & PM_PFN_MASK) {
		mem_fd = open("/dev/mem", O_RDWR | O_SYNC);
		mem_off = (e & PM_PFN_MASK) * PS;
	}
	fb_fd = open("/dev/fb0", O_RDWR);
	note("memory types: ext4 %s, file THP %s, DAX %s, /dev/mem %s, /dev/fb0 %s",
	     ext4_fd >= 0 ? "yes" : "no", fthp_fd >= 0 ? "yes" : "no",
	     dax_fd >= 0 ? "yes" : "no", mem_fd >= 0 ? "yes" : "no",
	     fb_fd >= 0 ? "yes" : "no");
}

static uint64_t probe_limit(void)
{
	uint64_t best = 0;

	for (int b = 32; b < 64; b++) {
		uint64_t cand[2] = { (1ULL << b) - PS, 1ULL << b };

		for (int i = 0; i < 2; i++)
			if (scan_simple(pm_fd, cand[i] - PS, cand[i], 0, NULL, 0,
					0, 0, 0, NULL) == 0)
				best = cand[i];
	}
	return best;
}

static char *reserve(size_t len, size_t align)
{
	char *p = mmap(NULL, len + align, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + align - 1) & ~(align - 1);
	munmap(p, a - (uintptr_t)p);
	munmap((char *)a + len, (uintptr_t)p + len + align - a - len);
	return (char *)a;
}

/* khugepaged and proactive compaction change pages behind our back */
static char old_sleep[32], old_proactive[32];

static void sysfs_rw(const char *path, char *save, const char *val)
{
	int fd = open(path, O_RDWR);

	if (fd < 0)
		return;
	if (save) {
		ssize_t n = read(fd, save, 31);

		save[n > 0 ? n : 0] = 0;
	}
	if (write(fd, val, strlen(val)) < 0)
		note("write %s: %s", path, strerror(errno));
	close(fd);
}

#define KHUGEPAGED_SLEEP "/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs"
#define PROACTIVE "/proc/sys/vm/compaction_proactiveness"

static const char *phase = "setup";

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	printf("# FAIL seed=%" PRIu64 " iter=%" PRIu64 ": signal %d at %p during %s\n",
	       seed, iter, sig, si->si_addr, phase);
	{
		struct slot *sl = slot_of(A(si->si_addr));

		if (sl)
			printf("#   in slot %d %s%s %#llx+%#llx\n", (int)(sl - slots),
			       kind_name[sl->kind], sl->async ? "/async" : "",
			       (unsigned long long)sl->start, (unsigned long long)sl->len);
		dump_vmas();
	}
	fflush(stdout);
	_exit(1);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO };

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	uint64_t iters = 20000;
	double seconds = 0, t0;
	int opt, nuffd_tests;
	char tmpl[] = "/tmp/pagemap_fuzz_XXXXXX";
	bool have_uffd_wp;

	sizes_init();
	seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	while ((opt = getopt(argc, argv, "s:n:t:v")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'n': iters = strtoull(optarg, NULL, 0); break;
		case 't': seconds = strtod(optarg, NULL); break;
		case 'v': verbose = true; break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-n ITERATIONS] [-t SECONDS] [-v]\n",
				argv[0]);
			return 2;
		}
	}
	rng_state = seed;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# pagemap_fuzz: seed %" PRIu64 ", %" PRIu64 " iterations, %g s limit (replay: pagemap_fuzz -s %" PRIu64 " -n %" PRIu64 ")\n",
	       seed, iters, seconds, seed, iters);

	nuffd_tests = 1;
	tap_plan(2 + nuffd_tests);
	pm_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pm_fd < 0 || scan_simple(pm_fd, 0, 0, 0, NULL, 0, 0, 0, 0, NULL) < 0) {
		tap_skip("PAGEMAP_SCAN fuzz (no PAGEMAP_SCAN)");
		tap_skip("PAGEMAP_SCAN fuzz: exact results");
		tap_skip("userfaultfd API/REGISTER/WRITEPROTECT fuzz");
		return tap_exit();
	}
	limit = probe_limit();
	note("user address limit %#llx", (unsigned long long)limit);
	{
		uint64_t got = 0;
		int fd = uffd_new(0, &got);

		if (fd >= 0)
			close(fd);
		uffd_all = got;
	}
	uffd = uffd_async();
	have_uffd_wp = uffd >= 0;
	note("UFFDIO_API features %#llx; async write-protect %s", (unsigned long long)uffd_all,
	     have_uffd_wp ? "available" : errname(uffd));
	if (uffd_all & (1ULL << 14))
		printf("# FAIL: UFFDIO_API advertises bit 14\n"), failures++;

	sysfs_rw(KHUGEPAGED_SLEEP, old_sleep, "3600000");
	sysfs_rw(PROACTIVE, old_proactive, "0");

	file_fd = mkstemp(tmpl);
	unlink(tmpl);
	if (file_fd < 0 || ftruncate(file_fd, 64 * PS)) {
		perror("tmpfile");
		return 1;
	}
	exe_fd = open_ramfs_file();
	exe_pages = 128;
	open_memtypes();
	if (exe_fd < 0)
		return 1;
	slot_sz = 4 * HPS > 2048 * PS ? 4 * HPS : 2048 * PS;
	scratch_sz = 8 * HPS > (16 << 20) ? 8 * HPS : 16 << 20;
	arena = reserve(ARENA_SZ, HPS);
	scratch = reserve(2 * scratch_sz, HPS);
	vecbuf = reserve((VEC_PAGES + 1) * PS, PS);
	vec_ro = reserve(2 * PS, PS);
	vec_part = reserve(2 * PS, PS);
	vec_hole = reserve(PS, PS);
	pc = malloc(ARENA_PAGES * sizeof(*pc));
	ex.r = malloc((ARENA_PAGES + 1) * sizeof(*ex.r));
	refcap = ARENA_PAGES + 1;
	refvec = malloc(refcap * sizeof(*refvec));
	if (!arena || !scratch || !vecbuf || !vec_ro || !vec_part || !vec_hole ||
	    !pc || !ex.r || !refvec || exe_fd < 0) {
		perror("setup");
		return 1;
	}
	/* vec buffers: valid with an unmapped guard page, read-only, partial */
	mmap(vecbuf, VEC_PAGES * PS, PROT_READ | PROT_WRITE,
	     MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mmap(vec_ro, PS, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mmap(vec_part, PS, PROT_READ | PROT_WRITE,
	     MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* a PROT_NONE fence ends the scratch area's first half */
	mmap(scratch + scratch_sz, scratch_sz, PROT_NONE,
	     MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	/* the arena and the scratch area are holes, apart from what is made there */
	munmap(arena, ARENA_SZ);
	munmap(scratch, scratch_sz);
	for (int i = 0; i < NSLOTS; i++)
		if (!one_in(4))
			slot_make(i);

	t0 = now();
	for (iter = 0; iter < iters; iter++) {
		if (seconds && now() - t0 > seconds) {
			note("time limit reached after %" PRIu64 " iterations", iter);
			break;
		}
		phase = "mutate";
		if (one_in(5))
			mutate();
		if (one_in(40)) {
			phase = "uffd";
			fuzz_uffd_one();
		} else {
			phase = "scan";
			fuzz_scan_one();
		}
		if (failures > 20) {
			note("too many failures, stopping");
			break;
		}
		if (verbose && iter % 10000 == 0)
			note("iteration %" PRIu64 ": %" PRIu64 " calls, %.1f s",
			     iter, n_calls, now() - t0);
	}
	sysfs_rw(KHUGEPAGED_SLEEP, NULL, old_sleep);
	sysfs_rw(PROACTIVE, NULL, old_proactive);
	for (int i = 0; i < NSLOTS; i++)
		slot_free(i);
	close(exe_fd);
	umount2(ramfs_dir, MNT_DETACH);
	rmdir(ramfs_dir);

	note("%" PRIu64 " PAGEMAP_SCAN calls in %.1f s: %" PRIu64 " ok, %" PRIu64 " invalid-argument errors, %" PRIu64 " later errors (EPERM %" PRIu64 ", EFAULT %" PRIu64 ")",
	     n_calls, now() - t0, n_ok, n_early, n_late, n_errno[EPERM & 7],
	     n_errno[EFAULT & 7]);
	note("%" PRIu64 " results compared exactly with the model, %" PRIu64 " pagemap cross-checks, %" PRIu64 " protection checks, %" PRIu64 " retries after races, %" PRIu64 " slot re-makes, %" PRIu64 " userfaultfd rounds",
	     n_exact, n_xcheck, n_wpcheck, n_raced, n_remake, n_uffd);
	tap_result(failures == 0, "fuzz: %" PRIu64 " PAGEMAP_SCAN calls (seed %" PRIu64 "), every result as pagemap.rst allows",
		   n_calls, seed);
	tap_result(failures == 0 && n_exact > n_calls / 20,
		   "fuzz: %" PRIu64 " results exactly as predicted from a reference scan", n_exact);
	if (have_uffd_wp || uffd_all)
		tap_result(failures == 0, "fuzz: %" PRIu64 " userfaultfd API/REGISTER/WRITEPROTECT rounds, errnos as expected",
			   n_uffd);
	else
		tap_skip("userfaultfd fuzz (no userfaultfd)");
	return tap_exit();
}
