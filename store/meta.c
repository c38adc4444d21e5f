/*
 * meta.c - the metadata tag: what authenticates a secret's row, its list of
 * keys and sizes, and its labels and annotations.
 *
 * A value's seal binds where it belongs (seal.c), but the mount and the
 * rules also act on what is next to it: the size of each key (what the
 * kernel is told), the type, the immutable flag, the expiry (an expired
 * secret is gone everywhere), labels and annotations (selectors choose what
 * 'exec' and views act on).  Each secret therefore carries a tag in
 * secrets.meta_tag:
 *
 *   BLAKE2b-256 keyed with a subkey of its data key (crypto_kdf, context
 *   "sfs-meta") over a length-prefixed encoding of: the store's UUID, the
 *   key id, namespace, name, uid, type, immutable, expires, generation; each
 *   item's key and size, sorted; each label, then each annotation, sorted.
 *
 * Every write computes it from the rows it wrote (meta_write()); every read
 * that decides what is served or what a rule allows checks it first, and a
 * mismatch is -EBADMSG, as for a value that fails to open.  Not covered:
 * created and updated (shown, never acted on), revision and etcd_rev (each
 * node's own counters: a wrong one makes a reader look again or refuse,
 * never serve other bytes), the change log, events and the namespaces
 * table (a namespace is bound by name).
 *
 * A full check reads every item and pair of the secret.  The driver asks
 * about the same secret on every lookup and open, so a handle remembers,
 * per secret, what it last verified (meta_check()): a copy of the row and
 * tag, each key's verified size, and SQLite's data version.  A later read in the same data version whose row (and, where it
 * uses them, key and size) matches that is as good as verified; anything
 * else is checked in full again.  So any commit to the file, by secretctl
 * or by the sqlite3 shell, has every secret verified again on its next
 * read; and what a read returns is compared with what was verified even
 * then (the file edited under SQLite's feet changes no data version).
 *
 * A key's size must also be its sealed blob's length less the seal's
 * overhead: a read of that key that finds otherwise fails as for a value
 * that does not open (that key only, as the value's own check would).
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define META_FORMAT 1
#define META_SLOTS  1024 /* secrets a handle remembers (direct-mapped by id) */

struct meta_key_size {
	uint64_t kh;   /* the key's keyed short hash */
	uint64_t size; /* its verified size */
};

struct meta_seen {
	int64_t id;                           /* 0: empty */
	unsigned char *row;                   /* row_encode() of row and tag */
	size_t rowlen;
	unsigned dv;                          /* SQLite's data version then */
	uint64_t count, total;                /* keys, sum of their sizes */
	struct meta_key_size *keys;           /* sorted by kh */
};

void tag_hash_bytes(crypto_generichash_state *h, const void *p, size_t n)
{
	if (n)
		crypto_generichash_update(h, p, n);
}

void tag_hash_u64(crypto_generichash_state *h, uint64_t v)
{
	unsigned char b[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = v & 0xff;
	tag_hash_bytes(h, b, sizeof(b));
}

/* Length-prefixed, so that no two different lists encode alike. */
void tag_hash_str(crypto_generichash_state *h, const char *s, size_t n)
{
	tag_hash_u64(h, n);
	tag_hash_bytes(h, s, n);
}

void tag_hash_cstr(crypto_generichash_state *h, const char *s)
{
	tag_hash_str(h, s ? s : "", s ? strlen(s) : 0);
}

static void h_row(crypto_generichash_state *h, const struct store *st,
		  const struct meta_row *r)
{
	static const char tag[] = "secretfs-meta";
	unsigned char format = META_FORMAT, imm = r->immutable;

	tag_hash_bytes(h, tag, sizeof(tag));
	tag_hash_bytes(h, &format, 1);
	tag_hash_bytes(h, st->uuid, SEAL_UUID_BYTES);
	tag_hash_u64(h, r->key_id);
	tag_hash_cstr(h, r->ns);
	tag_hash_cstr(h, r->name);
	tag_hash_cstr(h, r->uid);
	tag_hash_cstr(h, r->type);
	tag_hash_bytes(h, &imm, 1);
	tag_hash_u64(h, (uint64_t)r->expires);
	tag_hash_u64(h, (uint64_t)r->generation);
}

/* Fill r from 8 columns of q starting at col (META_COLS). */
int64_t meta_row_of(sqlite3_stmt *q, int col, const char *ns, const char *name,
		    struct meta_row *r)
{
	*r = (struct meta_row){
		.ns = ns,
		.name = name,
		.uid = (const char *)sqlite3_column_text(q, col + 1),
		.type = (const char *)sqlite3_column_text(q, col + 2),
		.immutable = sqlite3_column_int(q, col + 3) != 0,
		.expires = sqlite3_column_int64(q, col + 4),
		.generation = sqlite3_column_int64(q, col + 5),
		.key_id = (uint32_t)sqlite3_column_int64(q, col + 6),
		.tag = sqlite3_column_blob(q, col + 7),
		.taglen = (size_t)sqlite3_column_bytes(q, col + 7),
	};
	return sqlite3_column_int64(q, col);
}

static int meta_fail(struct store *st, const struct meta_row *r, const char *why)
{
	return db_errorf(st, -EBADMSG,
			 "secret \"%s\" in namespace \"%s\": metadata failed authentication (tampered or corrupt): %s",
			 r->name, r->ns, why);
}

static uint64_t key_hash(const struct store *st, const char *key)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t v = 0;

	crypto_shorthash(out, (const unsigned char *)key, strlen(key), st->seen_key);
	for (size_t i = 0; i < sizeof(out); i++)
		v = v << 8 | out[i];
	return v;
}

static int ks_cmp(const void *a, const void *b)
{
	const struct meta_key_size *x = a, *y = b;

	return x->kh < y->kh ? -1 : x->kh > y->kh;
}

/* A bounded writer for row_encode(). */
struct enc {
	unsigned char *buf;
	size_t cap, len;
};

static void e_bytes(struct enc *e, const void *p, size_t n)
{
	if (n && e->len + n <= e->cap)
		memcpy(e->buf + e->len, p, n);
	e->len += n;
}

static void e_str(struct enc *e, const void *p, size_t n)
{
	uint32_t l = (uint32_t)n;

	e_bytes(e, &l, sizeof(l));
	e_bytes(e, p, n);
}

static void e_cstr(struct enc *e, const char *s)
{
	e_str(e, s, s ? strlen(s) : 0);
}

/*
 * What a handle remembers of a row to know it again: every field the tag
 * covers and the tag, length-prefixed (so no two rows encode alike).
 * Cheaper than a digest, and a copy is as good as one: it is compared with
 * the rows read later, never trusted alone.  Returns the length it needs;
 * it wrote it if that is at most cap.
 */
static size_t row_encode(const struct meta_row *r, unsigned char *buf, size_t cap)
{
	struct enc e = { buf, cap, 0 };
	unsigned char imm = r->immutable;

	e_cstr(&e, r->ns);
	e_cstr(&e, r->name);
	e_cstr(&e, r->uid);
	e_cstr(&e, r->type);
	e_bytes(&e, &imm, 1);
	e_bytes(&e, &r->expires, sizeof(r->expires));
	e_bytes(&e, &r->generation, sizeof(r->generation));
	e_bytes(&e, &r->key_id, sizeof(r->key_id));
	e_str(&e, r->tag, r->taglen);
	return e.len;
}

/*
 * The tag of secret row id as its rows are now, from r and its items and
 * pairs.  When seen is given, also fill it (its keys malloc'd); 1 if it
 * cannot be (two keys with one short hash: nothing is remembered).
 * -EBADMSG if an item's size is not its blob's or no data key has its id
 * (nothing can vouch for it then).
 */
static int meta_compute(struct store *st, int64_t id, const struct meta_row *r,
			unsigned char tag[META_TAG_BYTES], struct meta_seen *seen)
{
	const unsigned char *dk = keyring_key(st, r->key_id);
	unsigned char sub[crypto_generichash_KEYBYTES];
	crypto_generichash_state h;
	struct meta_key_size *keys = NULL;
	size_t n = 0, cap = 0;
	uint64_t total = 0;
	sqlite3_stmt *q;
	int rc, err = 0;

	if (!dk)
		return meta_fail(st, r, "no data key by its key id");
	crypto_kdf_derive_from_key(sub, sizeof(sub), 1, "sfs-meta", dk);
	crypto_generichash_init(&h, sub, sizeof(sub), META_TAG_BYTES);
	sodium_memzero(sub, sizeof(sub));
	h_row(&h, st, r);

	if (!(q = db_stmt(st, Q_META_ITEMS)))
		return -EIO;
	sqlite3_bind_int64(q, 1, id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(q, 0);
		int64_t size = sqlite3_column_int64(q, 1);
		int64_t blob = sqlite3_column_int64(q, 2);

		(void)blob; /* each key's own reads compare it (meta_check) */
		if (size < 0) {
			err = meta_fail(st, r, "a key's size is negative");
			break;
		}
		tag_hash_u64(&h, 1);
		tag_hash_cstr(&h, key);
		tag_hash_u64(&h, (uint64_t)size);
		total += (uint64_t)size;
		if (seen) {
			if (n == cap) {
				struct meta_key_size *nk;

				cap = cap ? 2 * cap : 8;
				nk = realloc(keys, cap * sizeof(*keys));
				if (!nk) {
					err = db_errorf(st, -ENOMEM, "out of memory");
					break;
				}
				keys = nk;
			}
			keys[n].kh = key_hash(st, key);
			keys[n].size = (uint64_t)size;
		}
		n++;
	}
	if (!err && rc != SQLITE_DONE)
		err = db_fail(st, "cannot read a secret's data");
	sqlite3_reset(q);
	tag_hash_u64(&h, 0);
	if (!err && !(q = db_stmt(st, Q_PAIRS)))
		err = -EIO;
	if (!err) {
		sqlite3_bind_int64(q, 1, id);
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			unsigned char kind = (unsigned char)sqlite3_column_int(q, 0);

			tag_hash_u64(&h, 1);
			tag_hash_bytes(&h, &kind, 1);
			tag_hash_str(&h, (const char *)sqlite3_column_text(q, 1),
			      (size_t)sqlite3_column_bytes(q, 1));
			tag_hash_str(&h, (const char *)sqlite3_column_text(q, 2),
			      (size_t)sqlite3_column_bytes(q, 2));
		}
		if (rc != SQLITE_DONE)
			err = db_fail(st, "cannot read a secret's metadata");
		sqlite3_reset(q);
	}
	tag_hash_u64(&h, 0);
	crypto_generichash_final(&h, tag, META_TAG_BYTES);
	if (err) {
		free(keys);
		return err;
	}
	if (seen) {
		if (n > 1)
			qsort(keys, n, sizeof(*keys), ks_cmp);
		for (size_t i = 1; i < n; i++)
			if (keys[i].kh == keys[i - 1].kh) {
				/* two keys, one hash: remember nothing */
				free(keys);
				return 1;
			}
		seen->id = id;
		seen->count = n;
		seen->total = total;
		seen->keys = keys;
	}
	return 0;
}

static struct meta_seen *slot(struct store *st, int64_t id)
{
	if (!st->seen) {
		st->seen = calloc(META_SLOTS, sizeof(*st->seen));
		if (!st->seen)
			return NULL;
	}
	return &st->seen[(uint64_t)id % META_SLOTS];
}

/* SQLite's data version: it moves whenever another connection commits to
 * the file (an edit with the sqlite3 shell too), which ends what was
 * remembered.  Read while a statement holds the snapshot. */
static unsigned data_version(struct store *st)
{
	unsigned v = 0;

	sqlite3_file_control(st->db, "main", SQLITE_FCNTL_DATA_VERSION, &v);
	return v;
}

static void seen_clear(struct meta_seen *e)
{
	free(e->keys);
	free(e->row);
	memset(e, 0, sizeof(*e));
}

void meta_forget(struct store *st)
{
	for (size_t i = 0; st->seen && i < META_SLOTS; i++)
		seen_clear(&st->seen[i]);
	free(st->seen);
	st->seen = NULL;
}

int meta_verify(struct store *st, int64_t id, const struct meta_row *r)
{
	unsigned char tag[META_TAG_BYTES];
	struct meta_seen fresh = { 0 }, *e = slot(st, id);
	int err;

	err = meta_compute(st, id, r, tag, e ? &fresh : NULL);
	if (err < 0)
		return err;
	if (r->taglen != META_TAG_BYTES || sodium_memcmp(tag, r->tag, META_TAG_BYTES) != 0) {
		free(fresh.keys);
		return meta_fail(st, r, r->taglen ? "its tag does not match" : "it has no tag");
	}
	if (e && err == 0) {
		size_t n = row_encode(r, NULL, 0);

		seen_clear(e);
		fresh.row = malloc(n);
		if (!fresh.row) {
			free(fresh.keys);
			return 0; /* verified; not remembered */
		}
		row_encode(r, fresh.row, n);
		fresh.rowlen = n;
		fresh.dv = data_version(st);
		*e = fresh;
	}
	return 0;
}

/* What this handle verified of secret id, if r is still that row. */
static const struct meta_seen *seen_of(struct store *st, int64_t id, const struct meta_row *r)
{
	unsigned char buf[1024];
	const struct meta_seen *e = st->seen ? &st->seen[(uint64_t)id % META_SLOTS] : NULL;
	size_t n;

	if (!e || e->id != id || e->dv != data_version(st))
		return NULL;
	n = row_encode(r, buf, sizeof(buf));
	if (n != e->rowlen || n > sizeof(buf)) /* a longer one is verified each time */
		return NULL;
	return memcmp(buf, e->row, n) == 0 ? e : NULL;
}

int meta_check(struct store *st, int64_t id, const struct meta_row *r,
	       const struct meta_key_state *want)
{
	const struct meta_seen *e = seen_of(st, id, r);
	int err;

	if (!e) {
		if ((err = meta_verify(st, id, r)))
			return err;
		e = seen_of(st, id, r);
	}
	/* a blob whose length is not its verified size's cannot open: fail it
	 * as the value it is, before the kernel is told a wrong size */
	if (want && want->key && want->present && want->bloblen >= 0 &&
	    (uint64_t)want->bloblen != seal_blob_len(want->size))
		return db_errorf(st, -EBADMSG,
				 "secret \"%s\" in namespace \"%s\": key \"%s\": value failed authentication (tampered or corrupt)",
				 r->name, r->ns, want->key);
	if (!e)
		return 0; /* verified in this snapshot, but not remembered */
	assert(e->id == id && (e->count == 0 || e->keys));
	if (want && want->whole && (want->count != e->count || want->total != e->total))
		return meta_fail(st, r, "its keys are not the ones it was written with");
	if (want && want->key) {
		struct meta_key_size k = { .kh = key_hash(st, want->key) };
		const struct meta_key_size *have =
			bsearch(&k, e->keys, e->count, sizeof(k), ks_cmp);

		if (!have && want->present)
			return meta_fail(st, r, "it has a key it was not written with");
		if (have && !want->present)
			return meta_fail(st, r, "a key it was written with is missing");
		if (have && have->size != want->size)
			return meta_fail(st, r, "a key's size is not the one it was written with");
	}
	return 0;
}

/* Q_META_ROW stepped onto secret row id, r read from it: 0 (the caller
 * resets q), or an error with q reset. */
static int row_by_id(struct store *st, int64_t id, sqlite3_stmt **qp, struct meta_row *r)
{
	sqlite3_stmt *q = db_stmt(st, Q_META_ROW);
	int err;

	if (!q)
		return -EIO;
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) != SQLITE_ROW) {
		err = db_fail(st, "cannot read a secret");
		sqlite3_reset(q);
		return err;
	}
	meta_row_of(q, 2, (const char *)sqlite3_column_text(q, 0),
		    (const char *)sqlite3_column_text(q, 1), r);
	*qp = q;
	return 0;
}

int meta_verify_id(struct store *st, int64_t id)
{
	struct meta_row r;
	sqlite3_stmt *q;
	int err;

	if ((err = row_by_id(st, id, &q, &r)))
		return err;
	err = meta_verify(st, id, &r);
	sqlite3_reset(q);
	return err;
}

int meta_write(struct store *st, int64_t id)
{
	unsigned char tag[META_TAG_BYTES];
	struct meta_row r;
	sqlite3_stmt *q;
	int err;

	if ((err = row_by_id(st, id, &q, &r)))
		return err;
	err = meta_compute(st, id, &r, tag, NULL);
	sqlite3_reset(q);
	if (err)
		return err;
	return rows_secret_tag(st, id, tag, sizeof(tag));
}

/*
 * A store from before tags: tag every secret as it stands, and wrap every
 * data key again in the keyring format that says "its secrets carry tags"
 * (seal.c), in one transaction.  The wrapping is what makes this happen
 * once: without the master key nobody can make a ring look untagged again
 * (short of putting back an old wrapped key: a rollback, see README).
 */
int meta_upgrade(struct store *st)
{
	sqlite3_stmt *q = NULL;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc, err;

	if ((err = db_begin(st, true)))
		return err;
	if ((err = db_prep(st, "SELECT id FROM secrets", &q)))
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n == cap) {
			int64_t *v = realloc(ids, (cap = cap ? 2 * cap : 64) * sizeof(*ids));

			if (!v) {
				err = db_errorf(st, -ENOMEM, "out of memory");
				goto out;
			}
			ids = v;
		}
		ids[n++] = sqlite3_column_int64(q, 0);
	}
	if (rc != SQLITE_DONE) {
		err = db_fail(st, "cannot list secrets");
		goto out;
	}
	for (size_t i = 0; i < n && !err; i++)
		err = meta_write(st, ids[i]);
	if (!err) {
		sodium_mprotect_readonly(st->master);
		err = keyring_rewrap(st, st->master);
		sodium_mprotect_noaccess(st->master);
	}
	if (!err)
		err = db_commit(st);
out:
	sqlite3_finalize(q);
	free(ids);
	if (err) {
		db_rollback(st);
		return err;
	}
	return keyring_load(st);
}
