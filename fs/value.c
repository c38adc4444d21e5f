/*
 * value.c - plaintext values shared by every open of the same generation.
 *
 * An open keeps one generation of one value for as long as the handle
 * lives, and the kernel sends RELEASE asynchronously, so handles outlive
 * their close(2) by as long as the daemon takes to catch up.  A copy per
 * open made memory grow with readers: 100 readers of one small key held
 * tens of thousands of locked regions.  A value is the same bytes for every
 * open of (namespace, secret, key, revision) — a revision never repeats for
 * a name — so all those opens, in every mount of the daemon, share one
 * reference-counted copy, freed (wiped) with the last handle.  Plaintext
 * held for opens is then one copy per distinct value open, whatever the
 * number of opens.
 *
 * Invariant: an entry is in the table exactly while refs > 0; refs and the
 * table are protected by table.lock (never held across a store call or a
 * reply; taken alone or under fs->lock, never the other way round).  The
 * value is decrypted before the lock is taken: two opens that decrypted the
 * same revision at once share the first copy in, and the other is wiped.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

#define VALUE_BUCKETS 4096

struct fs_value {
	unsigned refs;           /* protected by table.lock */
	uint64_t hash;
	int64_t revision;
	char *name;              /* "ns\0secret\0key\0", not secret */
	size_t name_len;
	const uint8_t *data;     /* store_value_alloc'd, owned */
	size_t len;
	struct fs_value *next;   /* hash chain */
};

static struct {
	pthread_mutex_t lock;
	struct fs_value *bucket[VALUE_BUCKETS];
} table = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* FNV-1a of the names and the revision. */
static uint64_t value_hash(const char *name, size_t len, int64_t revision)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 0x100000001b3ULL;
	for (int i = 0; i < 8; i++)
		h = (h ^ ((uint64_t)revision >> (8 * i) & 0xff)) * 0x100000001b3ULL;
	return h;
}

/* "ns\0secret\0key\0" in a new allocation, its length in *len. */
static char *value_name(const char *ns, const char *secret, const char *key,
			size_t *len)
{
	size_t a = strlen(ns) + 1, b = strlen(secret) + 1, c = strlen(key) + 1;
	char *p = malloc(a + b + c);

	if (!p)
		return NULL;
	memcpy(p, ns, a);
	memcpy(p + a, secret, b);
	memcpy(p + a + b, key, c);
	*len = a + b + c;
	return p;
}

static struct fs_value *find(const char *name, size_t len, uint64_t h,
			     int64_t revision)
{
	for (struct fs_value *v = table.bucket[h % VALUE_BUCKETS]; v; v = v->next)
		if (v->hash == h && v->revision == revision && v->name_len == len &&
		    memcmp(v->name, name, len) == 0)
			return v;
	return NULL;
}

struct fs_value *value_find(const char *ns, const char *secret, const char *key,
			    int64_t revision)
{
	struct fs_value *v;
	size_t len;
	char *name = value_name(ns, secret, key, &len);

	if (!name)
		return NULL;
	pthread_mutex_lock(&table.lock);
	v = find(name, len, value_hash(name, len, revision), revision);
	if (v)
		v->refs++;
	pthread_mutex_unlock(&table.lock);
	free(name);
	return v;
}

int value_share(struct fs_value **out, const char *ns, const char *secret,
		const char *key, int64_t revision, uint8_t *data, size_t len)
{
	struct fs_value *v = calloc(1, sizeof(*v)), *have;

	if (v)
		v->name = value_name(ns, secret, key, &v->name_len);
	if (!v || !v->name) {
		if (v)
			free(v->name);
		free(v);
		store_value_free(data);
		return -ENOMEM;
	}
	v->hash = value_hash(v->name, v->name_len, revision);
	v->revision = revision;
	v->data = data;
	v->len = len;
	v->refs = 1;
	pthread_mutex_lock(&table.lock);
	have = find(v->name, v->name_len, v->hash, revision);
	if (have) {
		have->refs++;
	} else {
		v->next = table.bucket[v->hash % VALUE_BUCKETS];
		table.bucket[v->hash % VALUE_BUCKETS] = v;
	}
	pthread_mutex_unlock(&table.lock);
	if (have) {
		/* the same authenticated bytes: keep one copy */
		assert(have->len == len);
		store_value_free(data);
		free(v->name);
		free(v);
		v = have;
	}
	*out = v;
	return 0;
}

const uint8_t *value_data(const struct fs_value *v, size_t *len)
{
	*len = v->len;
	return v->data;
}

void value_put(struct fs_value *v)
{
	struct fs_value **pp;

	if (!v)
		return;
	pthread_mutex_lock(&table.lock);
	assert(v->refs > 0);
	if (--v->refs > 0) {
		pthread_mutex_unlock(&table.lock);
		return;
	}
	for (pp = &table.bucket[v->hash % VALUE_BUCKETS]; *pp != v; pp = &(*pp)->next)
		assert(*pp);
	*pp = v->next;
	pthread_mutex_unlock(&table.lock);
	store_value_free((uint8_t *)v->data); /* wipes */
	free(v->name);
	free(v);
}
