/*
 * secbuf.c - a pool of guarded, locked buffers for plaintext values.
 *
 * sodium_malloc gives each value its own mapping: a guard page on either
 * side, mlock, MADV_DONTDUMP, and a canary.  Making and unmaking one costs
 * mmap, two mprotects, mlock, madvise, then munlock, madvise, two mprotects
 * and munmap — and every mprotect and munmap in a multi-threaded process
 * flushes the TLB of every CPU the process ran on.  The daemon opens a
 * value on every open(2) of a plain file, so this was most of its system
 * time.
 *
 * Freed buffers of up to POOL_MAX_BYTES are kept instead, wiped, for the
 * next value of their size class.  A buffer keeps every property of its
 * sodium_malloc region but the canary: it stays locked, out of core dumps,
 * and its value still ends where the guard page begins, so an overrun
 * faults.  The few bytes just before the value say which region and class
 * it belongs to; they are checked on free, and a damaged header aborts as
 * a damaged canary would.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"

#define POOL_CLASSES   5     /* 1, 2, 4, 8 and 16 pages */
#define POOL_MAX_BYTES (16 * 4096)
#define POOL_KEEP      64    /* free buffers kept per class */
#define SECBUF_MAGIC   0x5ecb0f5ecb0f5ecbULL
#define SODIUM_CANARY  16    /* bytes sodium_malloc puts before a value */

struct secbuf_hdr {
	uint64_t magic;
	void *region;   /* what sodium_malloc returned */
	size_t cap;     /* bytes usable before the guard page, header included */
	int cls;        /* size class, -1 if not pooled */
};

static struct {
	pthread_mutex_t lock;
	void *free[POOL_CLASSES][POOL_KEEP]; /* regions, wiped */
	size_t nfree[POOL_CLASSES];
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

uint8_t *secbuf_alloc(size_t n)
{
	size_t need = n + sizeof(struct secbuf_hdr), cap;
	struct secbuf_hdr h = { .magic = SECBUF_MAGIC, .region = NULL };
	int c;

	if (need < n)
		return NULL;
	c = need <= POOL_MAX_BYTES ? class_for(need) : -1;
	cap = c >= 0 ? class_cap(c) : need;
	if (c >= 0) {
		pthread_mutex_lock(&pool.lock);
		if (pool.nfree[c] > 0)
			h.region = pool.free[c][--pool.nfree[c]];
		pthread_mutex_unlock(&pool.lock);
	}
	if (!h.region && !(h.region = sodium_malloc(cap)))
		return NULL;
	h.cap = cap;
	h.cls = c;
	/* the value ends at the guard page; its header sits just before it */
	uint8_t *p = (uint8_t *)h.region + cap - n;

	memcpy(p - sizeof(h), &h, sizeof(h));
	return p;
}

void secbuf_free(uint8_t *p)
{
	struct secbuf_hdr h;

	if (!p)
		return;
	memcpy(&h, p - sizeof(h), sizeof(h));
	if (h.magic != SECBUF_MAGIC || !h.region || (uint8_t *)h.region > p ||
	    p > (uint8_t *)h.region + h.cap || h.cls >= POOL_CLASSES)
		abort(); /* a damaged header: as sodium_free does on a bad canary */
	if (h.cls >= 0) {
		sodium_memzero(h.region, h.cap);
		pthread_mutex_lock(&pool.lock);
		if (pool.nfree[h.cls] < POOL_KEEP) {
			pool.free[h.cls][pool.nfree[h.cls]++] = h.region;
			h.region = NULL;
		}
		pthread_mutex_unlock(&pool.lock);
	}
	if (h.region)
		sodium_free(h.region); /* wipes */
}
