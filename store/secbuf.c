/*
 * secbuf.c - locked memory for plaintext values, bounded in mappings.
 *
 * sodium_malloc gives each value its own mapping: a guard page on either
 * side, mlock, MADV_DONTDUMP, and a canary.  Making and unmaking one costs
 * mmap, two mprotects, mlock, madvise, then munlock, madvise, two mprotects
 * and munmap — and every mprotect and munmap in a multi-threaded process
 * flushes the TLB of every CPU the process ran on.  And each region is
 * three or four entries in the process's memory map, of which the kernel
 * allows vm.max_map_count (65,530): a daemon holding one region per value
 * (a 15,000-key secret, or thousands of opens) runs out of mappings, and
 * then every allocation of the process fails, thread stacks included.
 *
 * So there are two kinds of buffer, both locked and out of core dumps:
 *
 * - Guarded: a sodium_malloc region whose value ends where the guard page
 *   begins, so an overrun faults.  Freed ones of up to POOL_MAX_BYTES are
 *   kept, wiped, for the next value of their size class.  At most
 *   GUARDED_MAX regions exist at once, free ones in the pool included:
 *   no more than about 4 * GUARDED_MAX mappings.
 * - Packed, once GUARDED_MAX regions are out: slots of a size class carved
 *   from SLAB_BYTES slabs (one mapping each, mlocked, MADV_DONTDUMP), or a
 *   mapping of its own for a value too big for a slab.  No guard page
 *   between values: the price of a bound on mappings.  A slab is unmapped
 *   when its last slot is freed; a slot is wiped when freed.
 *
 * The few bytes just before a value say which kind, region and class it
 * belongs to; they are checked on free, and a damaged header aborts as a
 * damaged canary would.
 */
#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <sodium.h>

#include "internal.h"

#define POOL_CLASSES   5     /* 1, 2, 4, 8 and 16 pages */
#define POOL_MAX_BYTES (16 * 4096)
#define POOL_KEEP      64    /* free buffers kept per class */
#define GUARDED_MAX    1024  /* guarded regions at once, pooled included */
#define SLAB_BYTES     (64 * 1024)
#define SLAB_MIN_SHIFT 6     /* slots of 64, 128, ... 32,768 bytes */
#define SLAB_CLASSES   10
#define SECBUF_MAGIC   0x5ecb0f5ecb0f5ecbULL
#define SODIUM_CANARY  16    /* bytes sodium_malloc puts before a value */

enum secbuf_kind { KIND_GUARDED, KIND_SLAB, KIND_OWN };

struct slab {
	uint8_t *mem;            /* SLAB_BYTES, mlocked */
	int cls;
	unsigned nslots, nfree;
	uint16_t *free;          /* indexes of free slots (a stack) */
	struct slab *next, *prev;/* in slabs[cls] while it has a free slot */
};

struct secbuf_hdr {
	uint64_t magic;
	void *region;   /* guarded: what sodium_malloc returned; slab: the
			 * struct slab; own: the mapping */
	size_t cap;     /* bytes usable from region (slot), header included */
	int cls;        /* size class, -1 if not pooled */
	int kind;       /* enum secbuf_kind */
};

static struct {
	pthread_mutex_t lock;
	void *free[POOL_CLASSES][POOL_KEEP]; /* regions, wiped */
	size_t nfree[POOL_CLASSES];
	size_t guarded;                      /* regions that exist, pooled too */
	struct slab *slabs[SLAB_CLASSES];    /* slabs with a free slot */
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Bytes of class c, header included: whole pages, less sodium's canary. */
static size_t class_cap(int c)
{
	return ((size_t)4096 << c) - SODIUM_CANARY;
}

static int class_for(size_t need)
{
	for (int c = 0; c < POOL_CLASSES; c++)
		if (need <= class_cap(c))
			return c;
	return -1;
}

static size_t slot_size(int c)
{
	return (size_t)1 << (SLAB_MIN_SHIFT + c);
}

/* Locked, dump-excluded anonymous memory of len bytes, or NULL. */
static void *locked_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* as sodium_malloc: locking may fail under RLIMIT_MEMLOCK, and the
	 * value is still better served than refused */
	(void)mlock(p, len);
	(void)madvise(p, len, MADV_DONTDUMP);
	return p;
}

static void locked_unmap(void *p, size_t len)
{
	sodium_memzero(p, len);
	(void)munlock(p, len);
	munmap(p, len);
}

/* A slot of class c from a slab, under pool.lock; NULL if out of memory. */
static uint8_t *slab_take(int c, struct slab **from)
{
	struct slab *s = pool.slabs[c];

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		s->cls = c;
		s->nslots = SLAB_BYTES / (unsigned)slot_size(c);
		s->free = malloc(s->nslots * sizeof(*s->free));
		s->mem = s->free ? locked_map(SLAB_BYTES) : NULL;
		if (!s->mem) {
			free(s->free);
			free(s);
			return NULL;
		}
		for (unsigned i = 0; i < s->nslots; i++)
			s->free[i] = (uint16_t)(s->nslots - 1 - i);
		s->nfree = s->nslots;
		s->next = NULL;
		s->prev = NULL;
		pool.slabs[c] = s;
	}
	assert(s->nfree > 0);
	*from = s;
	uint8_t *slot = s->mem + (size_t)s->free[--s->nfree] * slot_size(c);

	if (s->nfree == 0) { /* full: off the list until a slot comes back */
		pool.slabs[c] = s->next;
		if (s->next)
			s->next->prev = NULL;
		s->next = s->prev = NULL;
	}
	return slot;
}

/* Give back a slot (already wiped), under pool.lock. */
static void slab_give(struct slab *s, uint8_t *slot)
{
	size_t off = (size_t)(slot - s->mem);

	assert(off % slot_size(s->cls) == 0 && off < SLAB_BYTES);
	assert(s->nfree < s->nslots);
	if (s->nfree == 0) { /* it was full: back on the list */
		s->next = pool.slabs[s->cls];
		s->prev = NULL;
		if (s->next)
			s->next->prev = s;
		pool.slabs[s->cls] = s;
	}
	s->free[s->nfree++] = (uint16_t)(off / slot_size(s->cls));
	if (s->nfree == s->nslots) { /* empty: unmap it */
		if (s->prev)
			s->prev->next = s->next;
		else
			pool.slabs[s->cls] = s->next;
		if (s->next)
			s->next->prev = s->prev;
		locked_unmap(s->mem, SLAB_BYTES);
		free(s->free);
		free(s);
	}
}

/* A packed buffer for need bytes (header included), under pool.lock. */
static uint8_t *packed_alloc(size_t need, struct secbuf_hdr *h)
{
	for (int c = 0; c < SLAB_CLASSES; c++) {
		if (need > slot_size(c))
			continue;
		struct slab *s;
		uint8_t *slot = slab_take(c, &s);

		if (!slot)
			return NULL;
		h->kind = KIND_SLAB;
		h->region = s;
		h->cap = slot_size(c);
		h->cls = c;
		return slot;
	}
	size_t len = (need + 4095) & ~(size_t)4095;
	uint8_t *p = len >= need ? locked_map(len) : NULL;

	if (!p)
		return NULL;
	h->kind = KIND_OWN;
	h->region = p;
	h->cap = len;
	h->cls = -1;
	return p;
}

uint8_t *secbuf_alloc(size_t n)
{
	size_t need = n + sizeof(struct secbuf_hdr), cap;
	struct secbuf_hdr h = { .magic = SECBUF_MAGIC, .region = NULL, .kind = KIND_GUARDED };
	uint8_t *p = NULL;
	int c;

	if (need < n)
		return NULL;
	c = need <= POOL_MAX_BYTES ? class_for(need) : -1;
	cap = c >= 0 ? class_cap(c) : need;
	pthread_mutex_lock(&pool.lock);
	if (c >= 0 && pool.nfree[c] > 0) {
		h.region = pool.free[c][--pool.nfree[c]];
	} else if (pool.guarded < GUARDED_MAX) {
		pool.guarded++; /* reserved; made below, outside the lock */
	} else {
		/* the value still goes into locked memory, packed */
		uint8_t *slot = packed_alloc(need, &h);

		pthread_mutex_unlock(&pool.lock);
		if (!slot)
			return NULL;
		p = slot + sizeof(h); /* the value right after its header */
		memcpy(p - sizeof(h), &h, sizeof(h));
		return p;
	}
	pthread_mutex_unlock(&pool.lock);
	if (!h.region && !(h.region = sodium_malloc(cap))) {
		pthread_mutex_lock(&pool.lock);
		pool.guarded--;
		pthread_mutex_unlock(&pool.lock);
		return NULL;
	}
	h.cap = cap;
	h.cls = c;
	/* the value ends at the guard page; its header sits just before it */
	p = (uint8_t *)h.region + cap - n;
	memcpy(p - sizeof(h), &h, sizeof(h));
	return p;
}

void secbuf_free(uint8_t *p)
{
	struct secbuf_hdr h;
	uint8_t *start;

	if (!p)
		return;
	memcpy(&h, p - sizeof(h), sizeof(h));
	start = h.kind == KIND_SLAB ? p - sizeof(h) : (uint8_t *)h.region;
	if (h.magic != SECBUF_MAGIC || !h.region || (h.kind == KIND_GUARDED &&
	    ((uint8_t *)h.region > p || p > (uint8_t *)h.region + h.cap ||
	     h.cls >= POOL_CLASSES)) || h.kind < KIND_GUARDED || h.kind > KIND_OWN ||
	    (h.kind == KIND_SLAB && (h.cls < 0 || h.cls >= SLAB_CLASSES ||
	     h.cap != slot_size(h.cls))) ||
	    (h.kind == KIND_OWN && p != start + sizeof(h)))
		abort(); /* a damaged header: as sodium_free does on a bad canary */
	if (h.kind == KIND_SLAB) {
		sodium_memzero(start, h.cap);
		pthread_mutex_lock(&pool.lock);
		slab_give(h.region, start);
		pthread_mutex_unlock(&pool.lock);
		return;
	}
	if (h.kind == KIND_OWN) {
		locked_unmap(start, h.cap); /* wipes */
		return;
	}
	if (h.cls >= 0) {
		sodium_memzero(h.region, h.cap);
		pthread_mutex_lock(&pool.lock);
		if (pool.nfree[h.cls] < POOL_KEEP) {
			pool.free[h.cls][pool.nfree[h.cls]++] = h.region;
			h.region = NULL;
		}
		pthread_mutex_unlock(&pool.lock);
	}
	if (h.region) {
		sodium_free(h.region); /* wipes */
		pthread_mutex_lock(&pool.lock);
		assert(pool.guarded > 0);
		pool.guarded--;
		pthread_mutex_unlock(&pool.lock);
	}
}
