/*
 * secret.c - namespaces and secrets: building, validating, writing, reading
 * and listing them.
 *
 * Writes follow the Kubernetes API server's rules for a Secret: validated
 * names and keys, at most 1 MiB of data, a type that never changes, and an
 * immutable secret whose data never changes and which never becomes mutable.
 * Each write is one transaction that bumps the store revision and logs the
 * change; a secret's generation rises by one on every change, and its values
 * are sealed afresh (bound to the new generation) every time.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"

/* --- building secrets ------------------------------------------------ */

struct store_secret *store_secret_new(const char *ns, const char *name,
				      const char *type)
{
	struct store_secret *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->namespace = strdup(ns ? ns : "");
	s->name = strdup(name ? name : "");
	s->type = strdup(type ? type : "");
	if (!s->namespace || !s->name || !s->type) {
		store_secret_free(s);
		return NULL;
	}
	return s;
}

static void pairs_free(struct store_pair *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

const struct store_item *store_secret_item(const struct store_secret *s, const char *key)
{
	size_t lo = 0, hi = s ? s->nitems : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->items[mid].key, key);

		if (c == 0)
			return &s->items[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void store_secret_free(struct store_secret *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nitems; i++) {
		free(s->items[i].key);
		secbuf_free(s->items[i].value); /* wipes; accepts NULL */
	}
	free(s->items);
	pairs_free(s->labels, s->nlabels);
	pairs_free(s->annotations, s->nannotations);
	free(s->namespace);
	free(s->name);
	free(s->type);
	free(s);
}

void store_secret_list_free(struct store_secret **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_secret_free(v[i]);
	free(v);
}

/* Append an item taking ownership of key and value (either may be NULL). */
static int items_append(struct store_secret *s, char *key, uint8_t *value,
			size_t len)
{
	struct store_item *v;

	v = realloc(s->items, (s->nitems + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->items = v;
	v[s->nitems++] = (struct store_item){ key, value, len };
	return 0;
}

int store_secret_add_item(struct store_secret *s, const char *key,
			  const void *value, size_t len)
{
	uint8_t *copy;
	char *k;

	for (size_t i = 0; i < s->nitems; i++)
		if (strcmp(s->items[i].key, key) == 0)
			return -EEXIST;
	k = strdup(key);
	copy = secbuf_alloc(len + 1);
	if (!k || !copy) {
		free(k);
		secbuf_free(copy);
		return -ENOMEM;
	}
	if (len)
		memcpy(copy, value, len);
	copy[len] = '\0';
	if (items_append(s, k, copy, len) < 0) {
		free(k);
		secbuf_free(copy);
		return -ENOMEM;
	}
	return 0;
}

/* Where key is, or would go, in v sorted by key: *found says which. */
static size_t pairs_find(const struct store_pair *v, size_t n, const char *key,
			 bool *found)
{
	size_t lo = 0, hi = n;

	*found = false;
	/* the common cases, appending in order and a read back from the
	 * store, cost one comparison */
	if (n == 0 || strcmp(v[n - 1].key, key) < 0)
		return n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid].key, key);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * v with room for one more than n.  The capacity is implicit, so that the
 * public struct needs no field for it: 16, then the next power of two, grown
 * when n reaches it, so appends stay amortised O(1).  It only grows, and n
 * only shrinks below it, so it is always at least this rule's for n.
 */
static struct store_pair *pairs_room(struct store_pair *v, size_t n)
{
	size_t cap = 16;

	if (n >= 16 && (n & (n - 1)) != 0)
		return v;
	while (cap < n + 1)
		cap *= 2;
	return realloc(v, cap * sizeof(*v));
}

/*
 * Set key in v, kept sorted by key (invariant: every labels and annotations
 * array of a struct store_secret is), so that a secret with many labels is
 * built in n log n, not n^2: appending in key order is O(1), an insertion
 * elsewhere moves the tail.
 */
static int pairs_set(struct store_pair **v, size_t *n, const char *key,
		     const char *value)
{
	struct store_pair *nv;
	char *k, *val;
	bool found;
	size_t at = pairs_find(*v, *n, key, &found);

	val = strdup(value);
	if (!val)
		return -ENOMEM;
	if (found) {
		free((*v)[at].value);
		(*v)[at].value = val;
		return 0;
	}
	k = strdup(key);
	nv = k ? pairs_room(*v, *n) : NULL;
	if (!nv) {
		free(k);
		free(val);
		return -ENOMEM;
	}
	*v = nv;
	memmove(&nv[at + 1], &nv[at], (*n - at) * sizeof(*nv));
	nv[at] = (struct store_pair){ k, val };
	(*n)++;
	assert(at == 0 || strcmp(nv[at - 1].key, nv[at].key) < 0);
	return 0;
}

/* Drop key from v; false if it was not there. */
static bool pairs_remove(struct store_pair *v, size_t *n, const char *key)
{
	bool found;
	size_t i = pairs_find(v, *n, key, &found);

	if (!found)
		return false;
	free(v[i].key);
	free(v[i].value);
	memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(*v));
	(*n)--;
	return true;
}

int store_secret_set_label(struct store_secret *s, const char *key,
			   const char *value)
{
	return pairs_set(&s->labels, &s->nlabels, key, value);
}

bool store_secret_remove_label(struct store_secret *s, const char *key)
{
	return pairs_remove(s->labels, &s->nlabels, key);
}

bool store_secret_remove_annotation(struct store_secret *s, const char *key)
{
	return pairs_remove(s->annotations, &s->nannotations, key);
}

int store_secret_set_annotation(struct store_secret *s, const char *key,
				const char *value)
{
	return pairs_set(&s->annotations, &s->nannotations, key, value);
}

static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_item *)a)->key,
		      ((const struct store_item *)b)->key);
}

static int pair_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_pair *)a)->key,
		      ((const struct store_pair *)b)->key);
}

/* For assert(): is v sorted by key, each key once, as store.h promises of
 * a secret's arrays? */
static bool items_sorted(const struct store_item *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i - 1].key, v[i].key) >= 0)
			return false;
	return true;
}

static bool pairs_sorted(const struct store_pair *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i - 1].key, v[i].key) >= 0)
			return false;
	return true;
}

/* --- small helpers ---------------------------------------------------- */

void uid_new(char out[37])
{
	unsigned char u[16];

	randombytes_buf(u, sizeof(u));
	u[6] = (u[6] & 0x0f) | 0x40; /* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

static char *col_strdup(sqlite3_stmt *q, int col)
{
	const unsigned char *t = sqlite3_column_text(q, col);

	return strdup(t ? (const char *)t : "");
}

/* Look up a namespace id inside the current transaction. */
int db_ns_id(struct store *st, const char *ns, int64_t *id)
{
	sqlite3_stmt *q = db_stmt(st, Q_NS_ID);
	int rc, err = 0;

	if (!q)
		return -EIO;
	sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(q, 0);
	else if (rc == SQLITE_DONE)
		err = db_errorf(st, -ENOENT, "namespace \"%s\" not found", ns);
	else
		err = db_fail(st, "cannot look up a namespace");
	sqlite3_reset(q);
	return err;
}

/* Prepare a one-off statement, recording a failure. */
int db_prep(struct store *st, const char *sql, sqlite3_stmt **q)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, q, NULL) != SQLITE_OK)
		return db_fail(st, "database error");
	return 0;
}

/* Step a one-off write statement to completion and finalize it. */
int db_step_done(struct store *st, sqlite3_stmt *q, const char *what)
{
	int err = 0;

	if (sqlite3_step(q) != SQLITE_DONE)
		err = db_fail(st, what);
	sqlite3_finalize(q);
	return err;
}

/* Run a one-off write statement whose only parameter is a row id. */
int db_exec_id(struct store *st, const char *sql, int64_t id)
{
	sqlite3_stmt *q;
	int err;

	if ((err = db_prep(st, sql, &q)))
		return err;
	sqlite3_bind_int64(q, 1, id);
	return db_step_done(st, q, "cannot write to the store");
}

/* --- namespaces ------------------------------------------------------ */

int store_ns_create(struct store *st, const char *ns)
{
	char why[STORE_ERRMSG_MAX];
	int64_t id;
	int err;

	if (store_check_namespace(ns, why))
		return db_errorf(st, -EINVAL, "namespace \"%s\": %s", ns, why);
	if ((err = db_begin(st, true)))
		return err;
	if (db_ns_id(st, ns, &id) == 0) {
		err = db_errorf(st, -EEXIST, "namespace \"%s\" already exists", ns);
		goto fail;
	}
	if ((err = rows_ns_insert(st, ns, 0, 0, &id)))
		goto fail;
	return db_commit(st);
fail:
	db_rollback(st);
	return err;
}

int store_ns_delete(struct store *st, const char *ns)
{
	int64_t id;
	int err;

	if (strcmp(ns, STORE_DEFAULT_NAMESPACE) == 0)
		return db_errorf(st, -EPERM,
				 "namespace \"default\" may not be deleted");
	if ((err = db_begin(st, true)))
		return err;
	if ((err = db_ns_id(st, ns, &id)) || (err = rows_ns_delete(st, id, ns)))
		goto fail;
	return db_commit(st);
fail:
	db_rollback(st);
	return err;
}

int store_ns_stat(struct store *st, const char *ns, struct store_stat *out)
{
	sqlite3_stmt *q = db_stmt(st, Q_NS_STAT);
	int rc, err = 0;

	if (!q)
		return -EIO;
	sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*out = (struct store_stat){
			.created = sqlite3_column_int64(q, 0),
			.updated = sqlite3_column_int64(q, 0),
			.count = (uint64_t)sqlite3_column_int64(q, 1),
		};
	else if (rc == SQLITE_DONE)
		err = db_errorf(st, -ENOENT, "namespace \"%s\" not found", ns);
	else
		err = db_fail(st, "cannot read a namespace");
	sqlite3_reset(q);
	return err;
}

int store_ns_each(struct store *st, store_each_fn fn, void *ctx)
{
	sqlite3_stmt *q = db_stmt(st, Q_NS_EACH);
	int rc, ret = 0;

	if (!q)
		return -EIO;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_stat s = {
			.created = sqlite3_column_int64(q, 1),
			.updated = sqlite3_column_int64(q, 1),
			.count = (uint64_t)sqlite3_column_int64(q, 2),
		};

		if ((ret = fn(ctx, (const char *)sqlite3_column_text(q, 0), &s)))
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_fail(st, "cannot list namespaces");
	sqlite3_reset(q);
	return ret;
}

/* --- validation of a whole secret ------------------------------------- */

/* Labels and annotations, as the API server checks an object's metadata. */
int secret_pairs_validate(struct store *st, const struct store_secret *s)
{
	char why[STORE_ERRMSG_MAX], q[96];
	uint64_t total = 0;

	for (size_t i = 0; i < s->nlabels; i++) {
		const struct store_pair *p = &s->labels[i];

		if (store_check_label_key(p->key, why))
			return db_errorf(st, -EINVAL,
					 "Secret \"%s\" is invalid: metadata.labels: Invalid value: %s: %s",
					 s->name, store_quote(q, sizeof(q), p->key, strlen(p->key)), why);
		if (store_check_label_value(p->value, why))
			return db_errorf(st, -EINVAL,
					 "Secret \"%s\" is invalid: metadata.labels: Invalid value: %s: %s",
					 s->name, store_quote(q, sizeof(q), p->value, strlen(p->value)), why);
	}
	for (size_t i = 0; i < s->nannotations; i++) {
		const struct store_pair *p = &s->annotations[i];
		char lower[STORE_MAX_NAME + STORE_MAX_LABEL + 8];
		size_t n = strlen(p->key);

		/* Kubernetes checks the key lower-cased: the prefix may have
		 * capitals in an annotation.  A key too long to copy fails on
		 * a length, whatever its case. */
		for (size_t k = 0; n < sizeof(lower) && k <= n; k++)
			lower[k] = (p->key[k] >= 'A' && p->key[k] <= 'Z') ?
					   (char)(p->key[k] - 'A' + 'a') : p->key[k];
		if (store_check_label_key(n < sizeof(lower) ? lower : p->key, why))
			return db_errorf(st, -EINVAL,
					 "Secret \"%s\" is invalid: metadata.annotations: Invalid value: %s: %s",
					 s->name, store_quote(q, sizeof(q), p->key, strlen(p->key)), why);
		total += n + strlen(p->value);
	}
	if (total > STORE_MAX_ANNOTATIONS)
		return db_errorf(st, -EINVAL,
				 "Secret \"%s\" is invalid: metadata.annotations: Too long: must have at most %d bytes",
				 s->name, STORE_MAX_ANNOTATIONS);
	return 0;
}

/*
 * The whole object.  Kubernetes sets no limit on labels (only on the sum of
 * annotations), but every object lives in etcd, whose default request limit
 * (--max-request-bytes, 1.5 MiB) the API server meets as "etcdserver:
 * request is too large".  Counted here as the bytes of the names, the type,
 * every data key and value and every label and annotation key and value: a
 * lower bound of the object's size in etcd, so whatever passes here also
 * has to pass there (within etcd's per-field overhead).
 */
static int secret_size_validate(struct store *st, const struct store_secret *s)
{
	uint64_t total = strlen(s->namespace) + strlen(s->name) + strlen(s->type);

	for (size_t i = 0; i < s->nitems; i++)
		total += strlen(s->items[i].key) + s->items[i].len;
	for (size_t i = 0; i < s->nlabels; i++)
		total += strlen(s->labels[i].key) + strlen(s->labels[i].value);
	for (size_t i = 0; i < s->nannotations; i++)
		total += strlen(s->annotations[i].key) + strlen(s->annotations[i].value);
	if (total <= STORE_MAX_OBJECT)
		return 0;
	return db_errorf(st, -EINVAL,
			 "secret \"%s\" in namespace \"%s\": etcdserver: request is too large: its names, data, labels and annotations hold %llu bytes, at most %d per object",
			 s->name, s->namespace, (unsigned long long)total, STORE_MAX_OBJECT);
}

static int secret_validate(struct store *st, const struct store_secret *s)
{
	char why[STORE_ERRMSG_MAX];
	uint64_t total = 0;
	int err;

	if (store_check_namespace(s->namespace, why))
		return db_errorf(st, -EINVAL, "namespace \"%s\": %s",
				 s->namespace, why);
	if (store_check_name(s->name, why))
		return db_errorf(st, -EINVAL,
				 "secret \"%s\" in namespace \"%s\": metadata.name: %s",
				 s->name, s->namespace, why);
	if (s->nitems > STORE_MAX_KEYS)
		return db_errorf(st, -EINVAL,
				 "secret \"%s\" in namespace \"%s\": data: Too many: %zu: must have at most %d keys",
				 s->name, s->namespace, s->nitems, STORE_MAX_KEYS);
	for (size_t i = 0; i < s->nitems; i++) {
		if (store_check_key(s->items[i].key, why))
			return db_errorf(st, -EINVAL,
					 "secret \"%s\" in namespace \"%s\": key \"%s\": %s",
					 s->name, s->namespace, s->items[i].key, why);
		if (i > 0 && strcmp(s->items[i - 1].key, s->items[i].key) == 0)
			return db_errorf(st, -EINVAL,
					 "secret \"%s\" in namespace \"%s\": key \"%s\": Duplicate value",
					 s->name, s->namespace, s->items[i].key);
		total += s->items[i].len;
	}
	if (total > STORE_MAX_DATA_BYTES)
		return db_errorf(st, -EINVAL,
				 "secret \"%s\" in namespace \"%s\": data: Too long: must have at most %d bytes (has %llu)",
				 s->name, s->namespace, STORE_MAX_DATA_BYTES,
				 (unsigned long long)total);
	if (secret_pairs_validate(st, s))
		return -EINVAL;
	if ((err = secret_size_validate(st, s)))
		return err;
	{
		char errs[STORE_ERRMSG_MAX - 64];
		int n = types_validate(s, errs, sizeof(errs));

		if (n == 1)
			return db_errorf(st, -EINVAL, "Secret \"%s\" is invalid: %s", s->name, errs);
		if (n > 1)
			return db_errorf(st, -EINVAL, "Secret \"%s\" is invalid: [%s]", s->name, errs);
	}
	return 0;
}

int store_secret_check(struct store *st, const struct store_secret *s)
{
	return secret_validate(st, s);
}

/*
 * A service-account token secret gets its "token" key from the token
 * controller in Kubernetes; here the store fills it in when it is absent:
 * the one it had, else a new random token.
 */
static int sa_token_fill(struct store *st, struct store_secret *s,
			 const struct store_secret *old)
{
	unsigned char raw[32];
	char token[64];

	if (strcmp(s->type, "kubernetes.io/service-account-token") != 0)
		return 0;
	for (size_t i = 0; i < s->nitems; i++)
		if (strcmp(s->items[i].key, "token") == 0)
			return 0;
	for (size_t i = 0; old && i < old->nitems; i++)
		if (strcmp(old->items[i].key, "token") == 0 && old->items[i].value)
			return store_secret_add_item(s, "token", old->items[i].value,
						     old->items[i].len) ?
				       db_errorf(st, -ENOMEM, "out of memory") : 0;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token, sizeof(token), raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	if (store_secret_add_item(s, "token", token, strlen(token))) {
		sodium_memzero(token, sizeof(token));
		return db_errorf(st, -ENOMEM, "out of memory");
	}
	sodium_memzero(token, sizeof(token));
	return 0;
}

/* --- reading secrets --------------------------------------------------- */

/* Fill s's row fields from a Q_SECRET_ROW result; returns the row id. */
static int64_t secret_row_read(sqlite3_stmt *q, struct store_secret *s)
{
	const unsigned char *uid = sqlite3_column_text(q, 1);

	snprintf(s->uid, sizeof(s->uid), "%s", uid ? (const char *)uid : "");
	free(s->type);
	s->type = col_strdup(q, 2);
	s->immutable = sqlite3_column_int(q, 3) != 0;
	s->created = sqlite3_column_int64(q, 4);
	s->updated = sqlite3_column_int64(q, 5);
	s->generation = sqlite3_column_int64(q, 6);
	s->revision = sqlite3_column_int64(q, 7);
	s->key_id = (uint32_t)sqlite3_column_int64(q, 8);
	s->expires = sqlite3_column_int64(q, 9);
	s->etcd_rev = sqlite3_column_int64(q, 10);
	return sqlite3_column_int64(q, 0);
}

static void seal_ctx_of(struct seal_ctx *c, const struct store *st,
			const struct store_secret *s, const char *key)
{
	*c = (struct seal_ctx){
		.store_uuid = st->uuid,
		.key_id = s->key_id,
		.namespace = s->namespace,
		.name = s->name,
		.uid = s->uid,
		.generation = s->generation,
		.key = key,
	};
}

/* Load items (and, with values, open them) and pairs of secret row id. */
static int secret_load(struct store *st, int64_t id, struct store_secret *s,
		       bool values)
{
	sqlite3_stmt *q = db_stmt(st, Q_ITEMS);
	int rc, err = 0;

	if (!q)
		return -EIO;
	sqlite3_bind_int64(q, 1, id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		char *key = col_strdup(q, 0);
		uint8_t *plain = NULL;
		size_t len = (size_t)sqlite3_column_int64(q, 1);

		if (!key) {
			err = db_errorf(st, -ENOMEM, "out of memory");
			break;
		}
		if (values) {
			struct seal_ctx c;

			seal_ctx_of(&c, st, s, key);
			err = seal_open_value_pooled(&plain, &len,
					      keyring_key(st, s->key_id), &c,
					      sqlite3_column_blob(q, 2),
					      (size_t)sqlite3_column_bytes(q, 2));
			if (err) {
				db_errorf(st, err,
					  "secret \"%s\" in namespace \"%s\": key \"%s\": %s",
					  s->name, s->namespace, key,
					  err == -EBADMSG ? "value failed authentication (tampered or corrupt)" :
					  "out of memory");
				free(key);
				break;
			}
		}
		if (items_append(s, key, plain, len) < 0) {
			free(key);
			secbuf_free(plain);
			err = db_errorf(st, -ENOMEM, "out of memory");
			break;
		}
	}
	if (!err && rc != SQLITE_DONE)
		err = db_fail(st, "cannot read a secret's data");
	sqlite3_reset(q);
	if (err)
		return err;

	q = db_stmt(st, Q_PAIRS);
	if (!q)
		return -EIO;
	sqlite3_bind_int64(q, 1, id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(q, 1);
		const char *v = (const char *)sqlite3_column_text(q, 2);

		err = sqlite3_column_int(q, 0) == PAIR_LABEL ?
			      store_secret_set_label(s, k, v) :
			      store_secret_set_annotation(s, k, v);
		if (err) {
			db_errorf(st, err, "out of memory");
			break;
		}
	}
	if (!err && rc != SQLITE_DONE)
		err = db_fail(st, "cannot read a secret's metadata");
	sqlite3_reset(q);
	return err;
}

/* Find a secret's row inside the current transaction; -ENOENT if absent. */
static int secret_find(struct store *st, struct store_secret *s, int64_t *id)
{
	sqlite3_stmt *q = db_stmt(st, Q_SECRET_ROW);
	int rc, err = 0;

	if (!q)
		return -EIO;
	sqlite3_bind_text(q, 1, s->namespace, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, s->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*id = secret_row_read(q, s);
	else if (rc == SQLITE_DONE)
		err = db_errorf(st, -ENOENT,
				"secret \"%s\" in namespace \"%s\" not found",
				s->name, s->namespace);
	else
		err = db_fail(st, "cannot read a secret");
	sqlite3_reset(q);
	return err;
}

int store_secret_get(struct store *st, const char *ns, const char *name,
		     unsigned flags, struct store_secret **out)
{
	struct store_secret *s;
	int64_t id;
	int err;

	s = store_secret_new(ns, name, NULL);
	if (!s)
		return db_errorf(st, -ENOMEM, "out of memory");
	if ((err = db_begin(st, false)))
		goto out;
	if (!(err = secret_find(st, s, &id)) && !(err = meta_verify_id(st, id)) &&
	    s->expires && s->expires <= db_now())
		err = db_errorf(st, -ENOENT, "secret \"%s\" in namespace \"%s\" not found",
				name, ns);
	if (!err)
		err = secret_load(st, id, s, flags & STORE_WITH_VALUES);
	db_rollback(st); /* read-only: ends the snapshot */
out:
	if (err) {
		store_secret_free(s);
		return err;
	}
	*out = s;
	return 0;
}

/*
 * The walk behind store_secret_walk() and store_secret_list(): fn is given
 * each secret to keep (it sets *s to NULL and owns it) or to leave (it is
 * freed, its values wiped, when fn returns).  Inside the caller's read
 * transaction.
 */
typedef int (*walk_fn)(void *ctx, struct store_secret **s);

/* The secrets of namespace ns named after after ("": all). */
static int walk_ns(struct store *st, const char *ns, const char *after, bool values,
		   walk_fn fn, void *ctx)
{
	sqlite3_stmt *q = db_stmt(st, Q_SECRET_AFTER);
	int rc, err = 0;

	if (!q)
		return -EIO;
	sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, after, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_secret *s = store_secret_new(ns, (const char *)sqlite3_column_text(q, 11),
							  NULL);
		int64_t id;

		if (!s) {
			err = db_errorf(st, -ENOMEM, "out of memory");
			break;
		}
		id = secret_row_read(q, s);
		/* the tag first: nothing of a row is acted on, not even its
		 * expiry, before it authenticates */
		if (!(err = meta_verify_id(st, id)) && !(s->expires && s->expires <= db_now()) &&
		    !(err = secret_load(st, id, s, values)))
			err = fn(ctx, &s);
		store_secret_free(s);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = db_fail(st, "cannot list secrets");
	sqlite3_reset(q);
	return err;
}

/* The namespace after after ("": the first) into out: 0, 1 when there is
 * none, or an error. */
static int ns_after(struct store *st, const char *after, char out[STORE_MAX_NAMESPACE + 1])
{
	sqlite3_stmt *q = db_stmt(st, Q_NS_AFTER);
	int rc, ret = 1;

	if (!q)
		return -EIO;
	sqlite3_bind_text(q, 1, after, -1, SQLITE_TRANSIENT); /* out may be after */
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		snprintf(out, STORE_MAX_NAMESPACE + 1, "%s", (const char *)sqlite3_column_text(q, 0));
		ret = 0;
	} else if (rc != SQLITE_DONE) {
		ret = db_fail(st, "cannot list namespaces");
	}
	sqlite3_reset(q);
	return ret;
}

/* Walk ns (NULL: every namespace, one after the other) after (after_ns,
 * after_name) in (namespace, name) order, in one read transaction. */
static int walk(struct store *st, const char *ns, const char *after_ns, const char *after_name,
		bool values, walk_fn fn, void *ctx)
{
	char cur[STORE_MAX_NAMESPACE + 1];
	int err, next;

	assert(!after_ns == !after_name);
	if ((err = db_begin(st, false)))
		return err;
	if (ns) {
		int c = after_ns ? strcmp(after_ns, ns) : -1;

		if (c <= 0)
			err = walk_ns(st, ns, c == 0 ? after_name : "", values, fn, ctx);
		goto out;
	}
	snprintf(cur, sizeof(cur), "%s", after_ns ? after_ns : "");
	if (after_ns && (err = walk_ns(st, after_ns, after_name, values, fn, ctx)))
		goto out;
	while (!err && !(next = ns_after(st, cur, cur)))
		err = walk_ns(st, cur, "", values, fn, ctx);
	if (!err && next < 0)
		err = next;
out:
	db_rollback(st); /* read-only: ends the snapshot */
	return err;
}

struct lend {
	store_secret_fn fn;
	void *ctx;
};

static int lend_one(void *ctx, struct store_secret **s)
{
	struct lend *l = ctx;

	return l->fn(l->ctx, *s);
}

int store_secret_walk(struct store *st, const char *ns, const char *after_ns,
		      const char *after_name, unsigned flags, store_secret_fn fn, void *ctx)
{
	struct lend l = { fn, ctx };

	return walk(st, ns, after_ns, after_name, flags & STORE_WITH_VALUES, lend_one, &l);
}

struct collect {
	struct store *st;
	struct store_secret **v;
	size_t n;
};

static int collect_one(void *ctx, struct store_secret **s)
{
	struct collect *c = ctx;
	struct store_secret **nv = realloc(c->v, (c->n + 1) * sizeof(*nv));

	if (!nv)
		return db_errorf(c->st, -ENOMEM, "out of memory");
	c->v = nv;
	c->v[c->n++] = *s;
	*s = NULL;
	return 0;
}

int store_secret_list(struct store *st, const char *ns,
		      struct store_secret ***out, size_t *n)
{
	struct collect c = { st, NULL, 0 };
	int err;

	if ((err = walk(st, ns, NULL, NULL, false, collect_one, &c))) {
		store_secret_list_free(c.v, c.n);
		return err;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

/* --- writing secrets --------------------------------------------------- */

void store_set_max_per_namespace(struct store *st, uint64_t max)
{
	st->max_per_ns = max;
}

/* [limits] max_secrets_per_namespace, worded as a Kubernetes quota refusal. */
static int check_quota(struct store *st, const struct store_secret *s, int64_t nsid)
{
	sqlite3_stmt *q;
	int64_t used = 0;
	int err;

	if ((err = db_prep(st, "SELECT count(*) FROM secrets WHERE ns_id = ?1", &q)))
		return err;
	sqlite3_bind_int64(q, 1, nsid);
	if (sqlite3_step(q) == SQLITE_ROW)
		used = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if ((uint64_t)used < st->max_per_ns)
		return 0;
	return db_errorf(st, -EDQUOT,
			 "secrets \"%s\" is forbidden: exceeded quota in namespace \"%s\": max_secrets_per_namespace=%llu, used: %lld, requested: 1",
			 s->name, s->namespace, (unsigned long long)st->max_per_ns, (long long)used);
}

/* When a secret stops existing: a bootstrap token's expiration, else 0. */
static int64_t secret_expiry(const struct store_secret *s)
{
	int64_t t;

	if (strcmp(s->type, "bootstrap.kubernetes.io/token") != 0)
		return 0;
	for (size_t i = 0; i < s->nitems; i++)
		if (strcmp(s->items[i].key, "expiration") == 0 &&
		    types_parse_rfc3339((const char *)s->items[i].value, s->items[i].len, &t) == 0)
			return t;
	return 0;
}

/* Do two sorted item arrays hold the same keys and values? */
static bool items_equal(const struct store_secret *a,
			const struct store_secret *b)
{
	/* compared index by index: a key out of order would read as a change */
	assert(items_sorted(a->items, a->nitems) && items_sorted(b->items, b->nitems));
	if (a->nitems != b->nitems)
		return false;
	for (size_t i = 0; i < a->nitems; i++) {
		const struct store_item *x = &a->items[i], *y = &b->items[i];

		if (strcmp(x->key, y->key) != 0 || x->len != y->len)
			return false;
		if (x->len && sodium_memcmp(x->value, y->value, x->len) != 0)
			return false;
	}
	return true;
}

static bool pairs_equal(const struct store_pair *a, size_t na,
			const struct store_pair *b, size_t nb)
{
	assert(pairs_sorted(a, na) && pairs_sorted(b, nb));
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i].key, b[i].key) || strcmp(a[i].value, b[i].value))
			return false;
	return true;
}

/*
 * kubectl's last-applied annotation, in place, without a value (see
 * lastapplied.c): whoever wrote it, only the key names stay.
 */
static int secret_redact(struct store *st, struct store_secret *s)
{
	bool found;
	size_t i = pairs_find(s->annotations, s->nannotations, STORE_LAST_APPLIED, &found);
	char *clean = NULL;
	int err;

	if (!found)
		return 0;
	err = store_last_applied_redact(s->annotations[i].value, &clean);
	if (err == -EINVAL)
		return db_errorf(st, err,
				 "Secret \"%s\" is invalid: metadata.annotations[%s]: Invalid value: must be kubectl's JSON object (the store keeps it without values)",
				 s->name, STORE_LAST_APPLIED);
	if (err)
		return db_errorf(st, err, "out of memory");
	err = store_secret_set_annotation(s, STORE_LAST_APPLIED, clean);
	free(clean);
	return err ? db_errorf(st, err, "out of memory") : 0;
}

/* Write s's sealed items and pairs for secret row id, at s->generation. */
static int secret_write_data(struct store *st, int64_t id,
			     const struct store_secret *s)
{
	const unsigned char *key = seal_key_find(st, s->key_id);
	unsigned char *blob = NULL;
	int err = 0;

	for (size_t i = 0; i < s->nitems; i++) {
		const struct store_item *it = &s->items[i];
		size_t bloblen = seal_blob_len(it->len);
		struct seal_ctx c;

		blob = malloc(bloblen); /* holds ciphertext only */
		if (!blob) {
			err = db_errorf(st, -ENOMEM, "out of memory");
			goto out;
		}
		seal_ctx_of(&c, st, s, it->key);
		if ((err = seal_value(blob, key, &c, it->value, it->len))) {
			db_errorf(st, err, "secret \"%s\" in namespace \"%s\": cannot seal key \"%s\"",
				  s->name, s->namespace, it->key);
			goto out;
		}
		if ((err = rows_item_add(st, id, it->key, it->len, blob, bloblen)))
			goto out;
		free(blob);
		blob = NULL;
	}
	for (int kind = PAIR_LABEL; kind <= PAIR_ANNOTATION; kind++) {
		const struct store_pair *p = kind == PAIR_LABEL ? s->labels : s->annotations;
		size_t n = kind == PAIR_LABEL ? s->nlabels : s->nannotations;

		for (size_t i = 0; i < n; i++)
			if ((err = rows_pair_add(st, id, kind, p[i].key, p[i].value)))
				goto out;
	}
out:
	free(blob);
	return err;
}

/*
 * Check an update of old into s against Kubernetes' update rules and say
 * whether anything changes.  old carries its values.
 */
static int secret_check_update(struct store *st, const struct store_secret *old,
			       const struct store_secret *s, bool *changed)
{
	bool data_same = items_equal(old, s);

	if (strcmp(old->type, s->type) != 0)
		return db_errorf(st, -EINVAL,
				 "secret \"%s\" in namespace \"%s\": type: Invalid value: \"%s\": field is immutable",
				 s->name, s->namespace, s->type);
	if (old->immutable && !s->immutable)
		return db_errorf(st, -EINVAL,
				 "secret \"%s\" in namespace \"%s\": immutable: Forbidden: field is immutable when `immutable` is set",
				 s->name, s->namespace);
	if (old->immutable && !data_same)
		return db_errorf(st, -EINVAL,
				 "secret \"%s\" in namespace \"%s\": data: Forbidden: field is immutable when `immutable` is set",
				 s->name, s->namespace);
	*changed = !data_same || old->immutable != s->immutable ||
		   !pairs_equal(old->labels, old->nlabels, s->labels, s->nlabels) ||
		   !pairs_equal(old->annotations, old->nannotations,
				s->annotations, s->nannotations);
	return 0;
}

int store_secret_put(struct store *st, struct store_secret *s,
		     enum store_put_mode mode, enum store_put_result *result)
{
	struct store_secret *old = NULL;
	enum store_put_result what;
	struct rows_secret row;
	int64_t nsid, id = 0, rev, now = db_now();
	bool changed = true;
	int err;

	if (!s->type[0]) {
		free(s->type);
		s->type = strdup(STORE_TYPE_OPAQUE);
		if (!s->type)
			return db_errorf(st, -ENOMEM, "out of memory");
	}
	if (s->nitems > 1)
		qsort(s->items, s->nitems, sizeof(*s->items), item_cmp);
	if (s->nlabels > 1)
		qsort(s->labels, s->nlabels, sizeof(*s->labels), pair_cmp);
	if (s->nannotations > 1)
		qsort(s->annotations, s->nannotations, sizeof(*s->annotations), pair_cmp);
	if ((err = secret_redact(st, s)) || (err = secret_validate(st, s)))
		return err;
	if ((err = db_begin(st, true)))
		return err;
	if ((err = db_ns_id(st, s->namespace, &nsid)))
		goto fail;
	old = store_secret_new(s->namespace, s->name, NULL);
	if (!old) {
		err = db_errorf(st, -ENOMEM, "out of memory");
		goto fail;
	}
	err = secret_find(st, old, &id);
	if (err && err != -ENOENT)
		goto fail;
	what = err ? STORE_CREATED : STORE_UPDATED;
	if (what == STORE_UPDATED && mode == STORE_PUT_CREATE) {
		err = db_errorf(st, -EEXIST,
				"secret \"%s\" in namespace \"%s\" already exists",
				s->name, s->namespace);
		goto fail;
	}
	if (what == STORE_CREATED && mode == STORE_PUT_REPLACE)
		goto fail; /* secret_find said "not found" */
	if (what == STORE_CREATED && s->revision) {
		err = db_errorf(st, -EINVAL,
				MSG_VERSION_ON_CREATE,
				s->name, s->namespace);
		goto fail;
	}
	if (what == STORE_CREATED && st->max_per_ns && (err = check_quota(st, s, nsid)))
		goto fail;
	/* the rules below act on what the store says: it must be its own */
	if (what == STORE_UPDATED &&
	    ((err = meta_verify_id(st, id)) || (err = secret_load(st, id, old, true))))
		goto fail;
	if (what == STORE_UPDATED && s->revision && s->revision != old->revision) {
		err = db_errorf(st, -EAGAIN,
				MSG_CONFLICT,
				s->name);
		goto fail;
	}
	if ((err = sa_token_fill(st, s, what == STORE_UPDATED ? old : NULL)))
		goto fail;
	if (s->nitems > 1)
		qsort(s->items, s->nitems, sizeof(*s->items), item_cmp);
	if (what == STORE_UPDATED) {
		if ((err = secret_check_update(st, old, s, &changed)))
			goto fail;
		if (!changed) {
			db_rollback(st);
			memcpy(s->uid, old->uid, sizeof(s->uid));
			s->created = old->created;
			s->updated = old->updated;
			s->generation = old->generation;
			s->revision = old->revision;
			s->key_id = old->key_id;
			what = STORE_UNCHANGED;
			goto done;
		}
	}
	if ((err = db_next_revision(st, &rev)))
		goto fail;
	s->expires = secret_expiry(s);
	s->key_id = st->active_key;
	s->revision = rev;
	s->updated = now;
	if (what == STORE_CREATED) {
		uid_new(s->uid);
		s->created = now;
		s->generation = 1;
	} else {
		memcpy(s->uid, old->uid, sizeof(s->uid));
		s->created = old->created;
		s->generation = old->generation + 1;
	}
	row = (struct rows_secret){
		.ns_id = nsid, .ns = s->namespace, .name = s->name, .uid = s->uid,
		.type = s->type, .immutable = s->immutable, .created = s->created,
		.updated = now, .generation = s->generation, .revision = rev,
		.key_id = s->key_id, .expires = s->expires, .etcd_rev = 0,
	};
	if ((err = rows_secret_write(st, &row, what == STORE_CREATED ? STORE_OP_CREATE :
				     STORE_OP_UPDATE, &id)) ||
	    (err = secret_write_data(st, id, s)) || (err = meta_write(st, id)) ||
	    (err = db_commit(st)))
		goto fail;
done:
	if (result)
		*result = what;
	store_secret_free(old);
	return 0;
fail:
	db_rollback(st);
	store_secret_free(old);
	return err;
}

/*
 * Inside the caller's transaction: seal ns/name again under the active data
 * key, same values, same generation and revision.  On success *out holds
 * the secret (with values; the caller frees it).
 */
int reseal_one(struct store *st, const char *ns, const char *name,
	       struct store_secret **out, int64_t *id)
{
	struct store_secret *s = store_secret_new(ns, name, NULL);
	int err;

	if (!s)
		return db_errorf(st, -ENOMEM, "out of memory");
	/* never tag afresh what is not the store's own */
	if ((err = secret_find(st, s, id)) || (err = meta_verify_id(st, *id)) ||
	    (err = secret_load(st, *id, s, true)))
		goto fail;
	s->key_id = st->active_key;
	if ((err = rows_secret_clear(st, *id)) || (err = secret_write_data(st, *id, s)) ||
	    (err = rows_secret_rekeyed(st, *id, s->key_id)) || (err = meta_write(st, *id)))
		goto fail;
	*out = s;
	return 0;
fail:
	store_secret_free(s);
	return err;
}

int store_secret_delete(struct store *st, const char *ns, const char *name)
{
	struct store_secret *s;
	int64_t id;
	int err;

	s = store_secret_new(ns, name, NULL);
	if (!s)
		return db_errorf(st, -ENOMEM, "out of memory");
	if ((err = db_begin(st, true)))
		goto out;
	if ((err = db_ns_id(st, ns, &id)) || (err = secret_find(st, s, &id)) ||
	    (err = rows_secret_delete(st, id, ns, name, s->generation)) ||
	    (err = db_commit(st)))
		goto fail;
	goto out;
fail:
	db_rollback(st);
out:
	store_secret_free(s);
	return err;
}

/* --- metadata for the driver ------------------------------------------ *
 * Each read checks the secret's metadata tag (meta.c) before it answers,
 * from what the handle already verified when the row is the same. */

static void stat_of_row(sqlite3_stmt *q, int col, struct store_stat *out)
{
	out->generation = sqlite3_column_int64(q, col);
	out->created = sqlite3_column_int64(q, col + 1);
	out->updated = sqlite3_column_int64(q, col + 2);
	out->immutable = sqlite3_column_int(q, col + 3) != 0;
	out->revision = sqlite3_column_int64(q, col + 4);
	out->expires = sqlite3_column_int64(q, col + 5);
}

/* An expired secret (a bootstrap token) no longer exists for readers, as
 * Kubernetes' token cleaner would have removed it; that the expiry is real
 * is for the caller to have verified. */
static bool expired(int64_t expires)
{
	return expires > 0 && expires <= db_now();
}

static int secret_not_found(struct store *st, const char *ns, const char *name)
{
	return db_errorf(st, -ENOENT, "secret \"%s\" in namespace \"%s\" not found", name, ns);
}

/* Q_SECRET_STAT, stepped onto ns/name's row and checked: 0 with q on the
 * row (the caller resets it), or an error with q reset. */
static int secret_stat_row(struct store *st, const char *ns, const char *name,
			   sqlite3_stmt **qp, struct meta_row *r, int64_t *id)
{
	sqlite3_stmt *q = db_stmt(st, Q_SECRET_STAT);
	struct meta_key_state want = { .whole = true };
	int rc, err;

	if (!q)
		return -EIO;
	sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		err = rc == SQLITE_DONE ? secret_not_found(st, ns, name) :
					  db_fail(st, "cannot read a secret");
		sqlite3_reset(q);
		return err;
	}
	*id = meta_row_of(q, 8, ns, name, r);
	want.count = (uint64_t)sqlite3_column_int64(q, 6);
	want.total = (uint64_t)sqlite3_column_int64(q, 7);
	if ((err = meta_check(st, *id, r, &want)) ||
	    (expired(r->expires) && (err = secret_not_found(st, ns, name)))) {
		sqlite3_reset(q);
		return err;
	}
	*qp = q;
	return 0;
}

int store_secret_stat(struct store *st, const char *ns, const char *name,
		      struct store_stat *out)
{
	struct meta_row r;
	sqlite3_stmt *q;
	int64_t id;
	int err;

	if ((err = secret_stat_row(st, ns, name, &q, &r, &id)))
		return err;
	stat_of_row(q, 0, out);
	out->count = (uint64_t)sqlite3_column_int64(q, 6);
	out->size = (uint64_t)sqlite3_column_int64(q, 7);
	sqlite3_reset(q);
	return 0;
}

/*
 * The names of a namespace's secrets.  A listing serves nothing: each
 * secret is checked when it is looked up.  But one that would be left out
 * as expired is checked here, so that an expiry written into the file
 * cannot hide a secret: if it fails, it is listed, and its lookup fails.
 */
int store_secret_each(struct store *st, const char *ns, store_each_fn fn,
		      void *ctx)
{
	sqlite3_stmt *q = db_stmt(st, Q_SECRET_EACH);
	int rc, ret = 0;

	if (!q)
		return -EIO;
	sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		struct store_stat s;
		struct meta_row r;
		int64_t id = meta_row_of(q, 9, ns, name, &r);

		if (expired(r.expires) && meta_verify(st, id, &r) == 0)
			continue;
		stat_of_row(q, 1, &s);
		s.count = (uint64_t)sqlite3_column_int64(q, 7);
		s.size = (uint64_t)sqlite3_column_int64(q, 8);
		if ((ret = fn(ctx, name, &s)))
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_fail(st, "cannot list secrets");
	sqlite3_reset(q);
	return ret;
}

int store_key_each(struct store *st, const char *ns, const char *name,
		   store_each_fn fn, void *ctx)
{
	sqlite3_stmt *sq = NULL, *q;
	struct store_stat s;
	struct meta_row r;
	char *prev = NULL;
	int64_t id;
	int rc, ret;

	/* the row and its keys from one snapshot */
	if ((ret = db_begin(st, false)))
		return ret;
	if ((ret = secret_stat_row(st, ns, name, &sq, &r, &id)))
		goto out;
	stat_of_row(sq, 0, &s);
	s.count = 1;
	if (!(q = db_stmt(st, Q_KEY_EACH))) {
		ret = -EIO;
		goto out;
	}
	sqlite3_bind_int64(q, 1, id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(q, 0);
		struct meta_key_state want = {
			.key = key,
			.present = true,
			.size = (uint64_t)sqlite3_column_int64(q, 1),
			.bloblen = -1, /* a listing serves no value: its open checks */
		};

		/* each key verified, none twice: the keys it was written with */
		if ((ret = meta_check(st, id, &r, &want)))
			break;
		if (prev && strcmp(prev, key) >= 0) {
			ret = db_errorf(st, -EBADMSG,
					"secret \"%s\" in namespace \"%s\": metadata failed authentication (tampered or corrupt): key \"%s\" twice",
					name, ns, key);
			break;
		}
		free(prev);
		if (!(prev = strdup(key))) {
			ret = db_errorf(st, -ENOMEM, "out of memory");
			break;
		}
		s.size = want.size;
		if ((ret = fn(ctx, key, &s)))
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_fail(st, "cannot list a secret's keys");
	sqlite3_reset(q);
out:
	if (sq)
		sqlite3_reset(sq);
	free(prev);
	db_rollback(st); /* read-only: ends the snapshot */
	return ret;
}

/*
 * ns/name has no row for key: -ENOENT, unless the secret was written with
 * that key (its row was removed from the file): -EBADMSG.
 */
static int key_missing(struct store *st, const char *ns, const char *name,
		       const char *key)
{
	struct meta_key_state want = { .key = key, .present = false, .bloblen = -1 };
	struct meta_row r;
	sqlite3_stmt *q;
	int64_t id;
	int err;

	if ((err = secret_stat_row(st, ns, name, &q, &r, &id)))
		return err;
	err = meta_check(st, id, &r, &want);
	sqlite3_reset(q);
	if (err)
		return err;
	return db_errorf(st, -ENOENT, "secret \"%s\" in namespace \"%s\": key \"%s\" not found",
			 name, ns, key);
}

int store_key_stat(struct store *st, const char *ns, const char *name,
		   const char *key, struct store_stat *out)
{
	sqlite3_stmt *q = db_stmt(st, Q_KEY_STAT);
	struct meta_key_state want = { .key = key, .present = true };
	struct meta_row r;
	int64_t id;
	int rc, err = 0;

	if (!q)
		return -EIO;
	sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		id = meta_row_of(q, 9, ns, name, &r);
		want.size = (uint64_t)sqlite3_column_int64(q, 1);
		want.bloblen = sqlite3_column_int64(q, 8);
		if (!(err = meta_check(st, id, &r, &want)) && expired(r.expires))
			err = secret_not_found(st, ns, name);
		if (!err) {
			stat_of_row(q, 2, out);
			out->size = want.size;
			out->count = 1;
		}
	} else if (rc == SQLITE_DONE) {
		sqlite3_reset(q);
		return key_missing(st, ns, name, key);
	} else {
		err = db_fail(st, "cannot read a secret's key");
	}
	sqlite3_reset(q);
	return err;
}

int store_value_get(struct store *st, const char *ns, const char *name,
		    const char *key, uint8_t **value, size_t *len,
		    struct store_stat *stat)
{
	sqlite3_stmt *q = db_stmt(st, Q_VALUE);
	struct meta_key_state want = { .key = key, .present = true };
	struct meta_row r;
	struct seal_ctx c;
	uint8_t *plain;
	int64_t id;
	size_t n;
	int rc, err = 0;

	if (!q)
		return -EIO;
	sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(q);
		return key_missing(st, ns, name, key);
	}
	if (rc != SQLITE_ROW) {
		err = db_fail(st, "cannot read a value");
		goto out;
	}
	id = meta_row_of(q, 10, ns, name, &r);
	want.size = (uint64_t)sqlite3_column_int64(q, 9);
	want.bloblen = sqlite3_column_bytes(q, 6);
	c = (struct seal_ctx){
		.store_uuid = st->uuid,
		.key_id = (uint32_t)sqlite3_column_int64(q, 2),
		.namespace = ns,
		.name = name,
		.uid = (const char *)sqlite3_column_text(q, 0),
		.generation = sqlite3_column_int64(q, 1),
		.key = key,
	};
	err = seal_open_value_pooled(&plain, &n, keyring_key(st, c.key_id), &c,
				     sqlite3_column_blob(q, 6),
				     (size_t)sqlite3_column_bytes(q, 6));
	if (err) {
		db_errorf(st, err, "secret \"%s\" in namespace \"%s\": key \"%s\": %s",
			  name, ns, key,
			  err == -EBADMSG ? "value failed authentication (tampered or corrupt)" :
			  "out of memory");
		goto out;
	}
	/* the value first, for the more precise message; nothing is returned
	 * unless both hold */
	if ((err = meta_check(st, id, &r, &want)) ||
	    (expired(r.expires) && (err = secret_not_found(st, ns, name)))) {
		secbuf_free(plain);
		goto out;
	}
	assert(n == want.size); /* the blob's length was checked against it */
	if (stat)
		*stat = (struct store_stat){
			.generation = c.generation,
			.created = sqlite3_column_int64(q, 3),
			.updated = sqlite3_column_int64(q, 4),
			.immutable = sqlite3_column_int(q, 5) != 0,
			.revision = sqlite3_column_int64(q, 7),
			.expires = sqlite3_column_int64(q, 8),
			.size = n,
			.count = 1,
		};
	*value = plain;
	*len = n;
out:
	sqlite3_reset(q);
	return err;
}
