/*
 * mirror.c - cluster mode (see cluster.h): records, and the node's store as
 * a mirror of etcd.
 *
 * The rule that keeps a mirror right: meta 'etcd_revision' (W) says that
 * the store holds exactly etcd's prefix as of revision W.  A sync reads the
 * whole prefix at etcd's revision H and applies it with W = H; a watch
 * batch applies only events after W and moves W to its last event.  Both
 * happen in one SQLite transaction that reads W first, so a node's secretfs
 * and a secretctl on the same node can both catch up at once: whoever
 * commits second skips what the first already applied.  Each object also
 * keeps the etcd revision it was last written at (etcd_rev), which a write
 * compares in its etcd transaction.
 *
 * Applied changes go through the store's revision and change log like any
 * local write, so readers (secretfs's watcher) see them the same way.
 *
 * A record that breaks the rules (a name Kubernetes would refuse, a value
 * that is no sealed blob, control characters in a label, another record
 * format) is checked before anything of it is written and skipped, counted
 * and named (cluster_skipped()), so that one bad key under the prefix does
 * not stop the node from following the rest.  Values are not opened here:
 * one that fails authentication fails when read, as in any store.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "etcd.h"
#include "internal.h"

#define RECORD_FORMAT 1

struct cluster {
	struct etcd *etcd;
	char *prefix;
	size_t plen;
	unsigned long skipped;          /* records refused (see above) */
	char skip_why[STORE_ERRMSG_MAX]; /* the last one's reason */
	char err[STORE_ERRMSG_MAX];
};

unsigned long cluster_skipped(const struct cluster *c, const char **why)
{
	if (why)
		*why = c->skip_why;
	return c->skipped;
}

/* A record refused: count it, keep its reason, go on (-EPROTO -> 0). */
static int skip(struct cluster *c, struct store *st, int err)
{
	if (err != -EPROTO)
		return err;
	c->skipped++;
	snprintf(c->skip_why, sizeof(c->skip_why), "%s", store_errmsg(st));
	return 0;
}

static int cfail(struct cluster *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cfail(struct cluster *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return err;
}

/* A store failure, with the store's message. */
static int sfail(struct cluster *c, struct store *st, int err)
{
	snprintf(c->err, sizeof(c->err), "%s", store_errmsg(st));
	return err;
}

int cluster_open(struct cluster **out, const struct cluster_opts *o, char *err)
{
	struct cluster *c = calloc(1, sizeof(*c));
	const char *prefix = o->prefix && *o->prefix ? o->prefix : CLUSTER_DEFAULT_PREFIX;
	int ret;

	if (!c) {
		snprintf(err, STORE_ERRMSG_MAX, "out of memory");
		return -ENOMEM;
	}
	if (prefix[strlen(prefix) - 1] != '/') {
		snprintf(err, STORE_ERRMSG_MAX, "[cluster] prefix: '%s' must end with '/'", prefix);
		free(c);
		return -EINVAL;
	}
	if ((ret = etcd_open(&c->etcd, o, err))) {
		free(c);
		return ret;
	}
	c->prefix = strdup(prefix);
	if (!c->prefix) {
		cluster_close(c);
		snprintf(err, STORE_ERRMSG_MAX, "out of memory");
		return -ENOMEM;
	}
	c->plen = strlen(prefix);
	*out = c;
	return 0;
}

void cluster_close(struct cluster *c)
{
	if (!c)
		return;
	etcd_close(c->etcd);
	free(c->prefix);
	free(c);
}

const char *cluster_errmsg(const struct cluster *c)
{
	return c->err;
}

const char *cluster_endpoint(const struct cluster *c)
{
	return etcd_endpoint(c->etcd);
}

/* --- keys and requests --------------------------------------------------- */

/* PREFIX + a + b + c, malloc'd. */
static char *key_of(const struct cluster *c, const char *a, const char *b, const char *d)
{
	char *k;

	if (asprintf(&k, "%s%s%s%s", c->prefix, a, b ? b : "", d ? d : "") < 0)
		return NULL;
	return k;
}

static char *secret_key(const struct cluster *c, const char *ns, const char *name)
{
	char *k;

	if (asprintf(&k, "%ssecrets/%s/%s", c->prefix, ns, name) < 0)
		return NULL;
	return k;
}

/* A JSON string of the base64 of s; NULL on failure. */
static json_t *b64_str(const char *s)
{
	char *b = etcd_b64(s, strlen(s));
	json_t *j = b ? json_string(b) : NULL;

	free(b);
	return j;
}

static json_t *int_str(int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_string(buf);
}

static int call(struct cluster *c, const char *path, json_t *body, json_t **resp)
{
	int ret;

	if (!body)
		return cfail(c, -ENOMEM, "out of memory");
	ret = etcd_call(c->etcd, path, body, resp, c->err);
	json_decref(body);
	return ret;
}

/* A range request for [key, end) (end NULL: the one key). */
static json_t *range_req(const char *key, const char *end)
{
	json_t *r = json_object();

	if (!r || json_object_set_new(r, "key", b64_str(key)) ||
	    (end && json_object_set_new(r, "range_end", b64_str(end)))) {
		json_decref(r);
		return NULL;
	}
	return r;
}

/* The key of a kv in the answer, decoded, relative to the prefix; NULL if
 * outside it or undecodable.  Frees nothing: *raw is the caller's. */
static const char *kv_key(const struct cluster *c, json_t *kv, unsigned char **raw)
{
	size_t n;
	const char *b = json_string_value(json_object_get(kv, "key"));

	*raw = NULL;
	if (!b || etcd_unb64(b, raw, &n) || n < c->plen ||
	    memcmp(*raw, c->prefix, c->plen) != 0 || strlen((char *)*raw) != n)
		return NULL;
	return (const char *)*raw + c->plen;
}

/* The value of a kv, parsed as a JSON object. */
static json_t *kv_value(json_t *kv)
{
	const char *b = json_string_value(json_object_get(kv, "value"));
	unsigned char *raw;
	size_t n;
	json_t *o;

	if (!b || etcd_unb64(b, &raw, &n))
		return NULL;
	o = json_loadb((const char *)raw, n, 0, NULL);
	free(raw);
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* --- the store side --------------------------------------------------------- */

int store_etcd_revision(struct store *st, int64_t *rev)
{
	sqlite3_stmt *q;
	int err = 0;

	if (db_prep(st, "SELECT value FROM meta WHERE key = 'etcd_revision'", &q))
		return -EIO;
	if (sqlite3_step(q) == SQLITE_ROW)
		*rev = sqlite3_column_int64(q, 0);
	else
		err = db_fail(st, "cannot read the etcd revision");
	sqlite3_finalize(q);
	return err;
}

static int set_etcd_revision(struct store *st, int64_t rev)
{
	sqlite3_stmt *q;

	if (db_prep(st, "UPDATE meta SET value = ?1 WHERE key = 'etcd_revision'", &q))
		return -EIO;
	sqlite3_bind_int64(q, 1, rev);
	return db_step_done(st, q, "cannot record the etcd revision");
}

/* The record of ns/name as the store holds it (sealed values), and the
 * etcd revision it was last written at. */
static json_t *secret_record(struct store *st, const char *ns, const char *name,
			     int64_t *etcd_rev)
{
	json_t *rec = NULL, *data, *labels, *ann;
	sqlite3_stmt *q = NULL;
	int64_t id;
	int rc;

	if (db_prep(st, "SELECT s.id, s.uid, s.type, s.immutable, s.created, s.updated,"
		    " s.generation, s.key_id, s.expires, s.etcd_rev, s.meta_tag" SECRET_JOIN_SQL
		    " WHERE n.name = ?1 AND s.name = ?2", &q))
		return NULL;
	sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW) {
		db_errorf(st, -ENOENT, "secret \"%s\" in namespace \"%s\" not found", name, ns);
		goto out;
	}
	id = sqlite3_column_int64(q, 0);
	*etcd_rev = sqlite3_column_int64(q, 9);
	rec = json_pack("{s:i, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:{}, s:{}, s:{}}",
			"format", RECORD_FORMAT, "namespace", ns, "name", name,
			"uid", (const char *)sqlite3_column_text(q, 1),
			"type", (const char *)sqlite3_column_text(q, 2),
			"immutable", sqlite3_column_int(q, 3),
			"created", (json_int_t)sqlite3_column_int64(q, 4),
			"updated", (json_int_t)sqlite3_column_int64(q, 5),
			"generation", (json_int_t)sqlite3_column_int64(q, 6),
			"key_id", (json_int_t)sqlite3_column_int64(q, 7),
			"expires", (json_int_t)sqlite3_column_int64(q, 8),
			"labels", "annotations", "data");
	if (rec && sqlite3_column_bytes(q, 10) == META_TAG_BYTES) {
		/* the writer's tag: every node stores it as it is, so that
		 * metadata changed in etcd fails like a changed value */
		char *t = etcd_b64(sqlite3_column_blob(q, 10), META_TAG_BYTES);

		if (!t || json_object_set_new(rec, "meta_tag", json_string(t))) {
			free(t);
			sqlite3_finalize(q);
			q = NULL;
			goto nomem;
		}
		free(t);
	}
	sqlite3_finalize(q);
	q = NULL;
	if (!rec)
		goto nomem;
	data = json_object_get(rec, "data");
	labels = json_object_get(rec, "labels");
	ann = json_object_get(rec, "annotations");
	if (db_prep(st, "SELECT key, blob FROM items WHERE secret_id = ?1", &q))
		goto fail;
	sqlite3_bind_int64(q, 1, id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		char *b = etcd_b64(sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1));

		if (!b || json_object_set_new(data, (const char *)sqlite3_column_text(q, 0),
					      json_string(b))) {
			free(b);
			goto nomem;
		}
		free(b);
	}
	sqlite3_finalize(q);
	q = NULL;
	if (rc != SQLITE_DONE || db_prep(st, "SELECT kind, key, value FROM pairs"
					 " WHERE secret_id = ?1", &q))
		goto fail;
	sqlite3_bind_int64(q, 1, id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (json_object_set_new(sqlite3_column_int(q, 0) == PAIR_LABEL ? labels : ann,
					(const char *)sqlite3_column_text(q, 1),
					json_string((const char *)sqlite3_column_text(q, 2))))
			goto nomem;
	if (rc != SQLITE_DONE)
		goto fail;
	goto out;
nomem:
	db_errorf(st, -ENOMEM, "out of memory");
fail:
	json_decref(rec);
	rec = NULL;
out:
	sqlite3_finalize(q);
	return rec;
}

/* The row id, uid and generation of ns/name; -ENOENT if there is none. */
static int secret_row(struct store *st, int64_t nsid, const char *name, int64_t *id,
		      char uid[37], int64_t *gen, int64_t *key_id)
{
	sqlite3_stmt *q;
	int rc, err = 0;

	if (db_prep(st, "SELECT id, uid, generation, key_id FROM secrets"
		    " WHERE ns_id = ?1 AND name = ?2", &q))
		return -EIO;
	sqlite3_bind_int64(q, 1, nsid);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		snprintf(uid, 37, "%s", (const char *)sqlite3_column_text(q, 1));
		*gen = sqlite3_column_int64(q, 2);
		*key_id = sqlite3_column_int64(q, 3);
	} else {
		err = rc == SQLITE_DONE ? -ENOENT : db_fail(st, "cannot find a secret");
	}
	sqlite3_finalize(q);
	return err;
}

static int ns_ensure(struct store *st, const char *ns, int64_t created, int64_t etcd_rev,
		     int64_t *nsid)
{
	if (db_ns_id(st, ns, nsid) == 0)
		return etcd_rev ? rows_etcd_rev(st, true, *nsid, etcd_rev) : 0;
	return rows_ns_insert(st, ns, created, etcd_rev, nsid);
}

static int ns_remove(struct store *st, const char *ns)
{
	int64_t id;

	if (db_ns_id(st, ns, &id))
		return 0; /* not here: nothing to do */
	return rows_ns_delete(st, id, ns);
}

static int secret_remove(struct store *st, const char *ns, const char *name)
{
	char uid[37];
	int64_t nsid, id, gen, key_id;

	if (db_ns_id(st, ns, &nsid) || secret_row(st, nsid, name, &id, uid, &gen, &key_id))
		return 0;
	return rows_secret_delete(st, id, ns, name, gen);
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Labels or annotations: strings without control characters. */
static bool pairs_ok(json_t *o)
{
	const char *k;
	json_t *v;

	if (o && !json_is_object(o))
		return false;
	json_object_foreach(o, k, v)
		if (!json_is_string(v) || !printable(k) || !printable(json_string_value(v)))
			return false;
	return true;
}

/* Do a record's labels or annotations break Kubernetes' rules?  (The
 * store's message then says which.)  Both are objects of strings. */
static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Set o's pairs in s in key order (a secret keeps them sorted: in order,
 * each is an append, whatever order the record has). */
static int pairs_fill(struct store_secret *s, json_t *o,
		      int (*set)(struct store_secret *, const char *, const char *))
{
	const char **keys = malloc((json_object_size(o) + 1) * sizeof(*keys));
	const char *k;
	size_t n = 0;
	json_t *v;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	json_object_foreach(o, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (size_t i = 0; i < n && !err; i++)
		err = set(s, keys[i], json_string_value(json_object_get(o, keys[i])));
	free(keys);
	return err;
}

static bool pairs_invalid(struct store *st, const char *ns, const char *name, json_t *rec)
{
	struct store_secret *s = store_secret_new(ns, name, "");
	bool bad = !s ||
		   pairs_fill(s, json_object_get(rec, "labels"), store_secret_set_label) ||
		   pairs_fill(s, json_object_get(rec, "annotations"), store_secret_set_annotation);

	if (!bad)
		bad = secret_pairs_validate(st, s) != 0;
	else
		db_errorf(st, -ENOMEM, "out of memory");
	store_secret_free(s);
	return bad;
}

/* Check what a record says before any of it is written: -EPROTO if it
 * breaks a rule. */
static int record_check(struct store *st, const char *ns, const char *name, json_t *rec)
{
	char why[STORE_ERRMSG_MAX];
	const char *uid = json_string_value(json_object_get(rec, "uid"));
	const char *type = json_string_value(json_object_get(rec, "type"));
	const char *k;
	json_t *v;

	if (store_check_namespace(ns, why) || store_check_name(name, why))
		return db_errorf(st, -EPROTO, "etcd record for \"%s/%s\": %s", ns, name, why);
	if (json_integer_value(json_object_get(rec, "format")) != RECORD_FORMAT ||
	    !uid || strlen(uid) != 36 || !printable(uid) || !type || !*type || !printable(type) ||
	    json_integer_value(json_object_get(rec, "generation")) < 1 ||
	    !json_is_object(json_object_get(rec, "data")) ||
	    !pairs_ok(json_object_get(rec, "labels")) ||
	    !pairs_ok(json_object_get(rec, "annotations")))
		return db_errorf(st, -EPROTO, "etcd record for secret \"%s\" in namespace \"%s\" is malformed",
				 name, ns);
	{
		json_t *t = json_object_get(rec, "meta_tag");
		unsigned char *raw = NULL;
		size_t n = 0;
		bool ok = !t || (json_is_string(t) &&
				 etcd_unb64(json_string_value(t), &raw, &n) == 0 &&
				 n == META_TAG_BYTES);

		free(raw);
		if (!ok)
			return db_errorf(st, -EPROTO, "etcd record for secret \"%s\" in namespace \"%s\": meta_tag: not a tag",
					 name, ns);
	}
	if (pairs_invalid(st, ns, name, rec))
		return db_errorf(st, -EPROTO, "etcd record for secret \"%s\" in namespace \"%s\": %s",
				 name, ns, store_errmsg(st));
	json_object_foreach(json_object_get(rec, "data"), k, v) {
		unsigned char *blob = NULL;
		size_t n = 0;
		bool sealed = json_is_string(v) &&
			      etcd_unb64(json_string_value(v), &blob, &n) == 0 &&
			      n >= seal_blob_len(0) && blob[0] == SEAL_FORMAT;

		free(blob);
		if (store_check_key(k, why) || !sealed)
			return db_errorf(st, -EPROTO,
					 "etcd record for secret \"%s\" in namespace \"%s\": key \"%s\": %s",
					 name, ns, k, sealed ? why : "not a sealed value");
	}
	return 0;
}

static int write_pairs(struct store *st, int64_t id, json_t *o, int kind)
{
	const char *k;
	json_t *v;
	int err;

	json_object_foreach(o, k, v)
		if (json_is_string(v) &&
		    (err = rows_pair_add(st, id, kind, k, json_string_value(v))))
			return err;
	return 0;
}

/*
 * The tag of a record just written as row id: the writer's, as it is (a
 * node never vouches for what etcd says: metadata changed there fails when
 * read); or, for a record from before tags, one this node computes from
 * the record as it finds it.
 */
static int record_tag(struct store *st, int64_t id, json_t *t)
{
	unsigned char *raw;
	size_t n;
	int err;

	if (!t)
		return meta_write(st, id);
	if (etcd_unb64(json_string_value(t), &raw, &n)) /* checked: memory */
		return db_errorf(st, -ENOMEM, "out of memory");
	err = rows_secret_tag(st, id, raw, n);
	free(raw);
	return err;
}

/* Put a secret record into the store, as etcd had it at etcd_rev. */
static int secret_apply(struct store *st, const char *ns, const char *name, json_t *rec,
			int64_t etcd_rev)
{
	const char *uid = json_string_value(json_object_get(rec, "uid"));
	int64_t gen = json_integer_value(json_object_get(rec, "generation"));
	struct rows_secret row;
	char have_uid[37];
	int64_t nsid, id, have_gen, have_key, rev;
	const char *k;
	json_t *v;
	bool exists;
	int err;

	if ((err = record_check(st, ns, name, rec)) ||
	    (err = ns_ensure(st, ns, 0, 0, &nsid)))
		return err;
	err = secret_row(st, nsid, name, &id, have_uid, &have_gen, &have_key);
	if (err && err != -ENOENT)
		return err;
	exists = !err;
	if (exists && strcmp(have_uid, uid) == 0 && have_gen == gen &&
	    have_key == json_integer_value(json_object_get(rec, "key_id")))
		/* this node already has it (its own write); a re-seal keeps the
		 * generation but changes the key */
		return rows_etcd_rev(st, false, id, etcd_rev);
	if ((err = db_next_revision(st, &rev)))
		return err;
	row = (struct rows_secret){
		.ns_id = nsid, .ns = ns, .name = name, .uid = uid,
		.type = json_string_value(json_object_get(rec, "type")),
		.immutable = json_is_true(json_object_get(rec, "immutable")),
		.created = json_integer_value(json_object_get(rec, "created")),
		.updated = json_integer_value(json_object_get(rec, "updated")),
		.generation = gen, .revision = rev,
		.key_id = json_integer_value(json_object_get(rec, "key_id")),
		.expires = json_integer_value(json_object_get(rec, "expires")),
		.etcd_rev = etcd_rev,
	};
	if (!exists)
		id = 0;
	if ((err = rows_secret_write(st, &row, exists && strcmp(have_uid, uid) == 0 ?
				     STORE_OP_UPDATE : STORE_OP_CREATE, &id)))
		return err;
	json_object_foreach(json_object_get(rec, "data"), k, v) {
		unsigned char *blob;
		size_t n;

		if (etcd_unb64(json_string_value(v), &blob, &n)) /* checked: memory */
			return db_errorf(st, -ENOMEM, "out of memory");
		err = rows_item_add(st, id, k, n - seal_blob_len(0), blob, n);
		free(blob);
		if (err)
			return err;
	}
	if ((err = write_pairs(st, id, json_object_get(rec, "labels"), PAIR_LABEL)) ||
	    (err = write_pairs(st, id, json_object_get(rec, "annotations"), PAIR_ANNOTATION)))
		return err;
	return record_tag(st, id, json_object_get(rec, "meta_tag"));
}

/* Drop the keys the cluster retired (those no secret here still uses:
 * the re-seals that freed them came first in etcd's order). */
static int keyring_prune(struct store *st, json_t *keys)
{
	sqlite3_stmt *q;
	int64_t *gone = NULL;
	size_t n = 0;
	int rc, err = 0;

	if (db_prep(st, "SELECT id FROM keyring WHERE id NOT IN (SELECT key_id FROM secrets)", &q))
		return -EIO;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(q, 0), *v;
		bool kept = false;
		size_t i;
		json_t *k;

		json_array_foreach(keys, i, k)
			kept |= json_integer_value(json_object_get(k, "id")) == id;
		if (kept)
			continue;
		if (!(v = realloc(gone, (n + 1) * sizeof(*gone)))) {
			err = db_errorf(st, -ENOMEM, "out of memory");
			break;
		}
		gone = v;
		gone[n++] = id;
	}
	sqlite3_finalize(q);
	for (size_t i = 0; !err && i < n; i++)
		err = db_exec_id(st, "DELETE FROM keyring WHERE id = ?1", gone[i]);
	free(gone);
	return err;
}

/* The cluster's key ring: the same store UUID, and every key it has. */
static int keyring_apply(struct store *st, json_t *rec)
{
	const char *u = json_string_value(json_object_get(rec, "uuid"));
	unsigned char *uuid = NULL;
	json_t *k;
	size_t n, i;
	int err = 0;

	if (!u || etcd_unb64(u, &uuid, &n) || n != SEAL_UUID_BYTES)
		err = db_errorf(st, -EINVAL, "the cluster's key ring record is malformed");
	else if (memcmp(uuid, st->uuid, SEAL_UUID_BYTES) != 0)
		err = db_errorf(st, -EXDEV,
				"this node's store is not a member of the cluster (another store UUID): create it with 'secretctl init' while [cluster] is configured");
	free(uuid);
	if (err)
		return err;
	json_array_foreach(json_object_get(rec, "keys"), i, k) {
		const char *w = json_string_value(json_object_get(k, "wrapped"));
		unsigned char *wrapped;
		sqlite3_stmt *q;

		if (!w || etcd_unb64(w, &wrapped, &n))
			return db_errorf(st, -EINVAL, "the cluster's key ring record is malformed");
		if (db_prep(st, "INSERT OR IGNORE INTO keyring(id, created, wrapped) VALUES (?1, ?2, ?3)",
			    &q)) {
			free(wrapped);
			return -EIO;
		}
		sqlite3_bind_int64(q, 1, json_integer_value(json_object_get(k, "id")));
		sqlite3_bind_int64(q, 2, json_integer_value(json_object_get(k, "created")));
		sqlite3_bind_blob(q, 3, wrapped, (int)n, SQLITE_TRANSIENT);
		free(wrapped);
		if ((err = db_step_done(st, q, "cannot write the key ring")))
			return err;
	}
	{
		sqlite3_stmt *q;

		if (db_prep(st, "UPDATE meta SET value = ?1 WHERE key = 'active_key'", &q))
			return -EIO;
		sqlite3_bind_int64(q, 1, json_integer_value(json_object_get(rec, "active_key")));
		if ((err = db_step_done(st, q, "cannot write the key ring")))
			return err;
	}
	if ((err = keyring_prune(st, json_object_get(rec, "keys"))))
		return err;
	return keyring_load(st); /* every key must open with our master key */
}

/*
 * Apply one key of the prefix (rel, relative to it) as etcd has it: value
 * rec, or deleted (rec NULL).  Records that break the rules are refused:
 * the whole batch fails, and the node stays where it was.
 */
static int apply_one(struct store *st, const char *rel, json_t *rec, int64_t etcd_rev)
{
	char ns[STORE_MAX_NAMESPACE + 2], name[STORE_MAX_NAME + 2];

	if (strcmp(rel, "keyring") == 0)
		return rec ? keyring_apply(st, rec) : 0;
	if (strncmp(rel, "namespaces/", 11) == 0) {
		char why[STORE_ERRMSG_MAX];
		int64_t id;

		if (store_check_namespace(rel + 11, why))
			return rec ? db_errorf(st, -EPROTO, "etcd key for namespace \"%s\": %s",
					       rel + 11, why) : 0;
		if (!rec)
			return ns_remove(st, rel + 11);
		return ns_ensure(st, rel + 11, json_integer_value(json_object_get(rec, "created")),
				 etcd_rev, &id);
	}
	if (strncmp(rel, "secrets/", 8) == 0) {
		const char *slash = strchr(rel + 8, '/');

		if (!slash || (size_t)(slash - rel - 8) > STORE_MAX_NAMESPACE ||
		    strlen(slash + 1) > STORE_MAX_NAME || strchr(slash + 1, '/'))
			return rec ? db_errorf(st, -EPROTO, "etcd key '%s' is not secrets/NAMESPACE/NAME",
					       rel) : 0;
		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - rel - 8), rel + 8);
		snprintf(name, sizeof(name), "%s", slash + 1);
		if (!rec)
			return secret_remove(st, ns, name);
		return secret_apply(st, ns, name, rec, etcd_rev);
	}
	return 0; /* something else under the prefix: not ours */
}

/* Sort order for the keys of a sync's listing. */
static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool listed(char **keys, size_t n, const char *k)
{
	return bsearch(&k, keys, n, sizeof(*keys), str_cmp) != NULL;
}

/* Remove what the store has and etcd's listing does not. */
static int sweep(struct store *st, char **keys, size_t n)
{
	sqlite3_stmt *q;
	char **gone = NULL, *k;
	size_t ngone = 0;
	int rc, err = 0;

	if (db_prep(st, "SELECT 'namespaces/' || name FROM namespaces UNION ALL"
		    " SELECT 'secrets/' || n.name || '/' || s.name" SECRET_JOIN_SQL, &q))
		return -EIO;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *rel = (const char *)sqlite3_column_text(q, 0);
		char **v;

		if (listed(keys, n, rel))
			continue;
		v = realloc(gone, (ngone + 1) * sizeof(*gone));
		if (!v || !(k = strdup(rel))) {
			if (v)
				gone = v;
			err = db_errorf(st, -ENOMEM, "out of memory");
			break;
		}
		gone = v;
		gone[ngone++] = k;
	}
	if (!err && rc != SQLITE_DONE)
		err = db_fail(st, "cannot list the store");
	sqlite3_finalize(q);
	/* secrets first: a namespace's removal logs its secrets' */
	for (size_t i = ngone; !err && i-- > 0;)
		if (strncmp(gone[i], "secrets/", 8) == 0)
			err = apply_one(st, gone[i], NULL, 0);
	for (size_t i = 0; !err && i < ngone; i++)
		if (strncmp(gone[i], "namespaces/", 11) == 0)
			err = apply_one(st, gone[i], NULL, 0);
	for (size_t i = 0; i < ngone; i++)
		free(gone[i]);
	free(gone);
	return err;
}

/* The order a listing is applied in: the key ring, namespaces, secrets. */
static int apply_rank(const char *rel)
{
	return strcmp(rel, "keyring") == 0 ? 0 : strncmp(rel, "namespaces/", 11) == 0 ? 1 : 2;
}

/* Apply the kvs of a listing whose keys rank r. */
static int apply_kvs(struct cluster *c, struct store *st, json_t *kvs, int r)
{
	size_t i;
	json_t *kv;

	json_array_foreach(kvs, i, kv) {
		unsigned char *raw;
		const char *rel = kv_key(c, kv, &raw);
		json_t *rec;
		int err;

		if (!rel || apply_rank(rel) != r) {
			free(raw);
			continue;
		}
		rec = kv_value(kv);
		err = rec ? apply_one(st, rel, rec, etcd_int(kv, "mod_revision")) :
		      db_errorf(st, -EPROTO, "etcd key '%s%s' holds no JSON record", c->prefix, rel);
		json_decref(rec);
		free(raw);
		if ((err = skip(c, st, err)))
			return err;
	}
	return 0;
}

int cluster_head(struct cluster *c, int64_t *head)
{
	char *k = key_of(c, "keyring", NULL, NULL);
	json_t *req = k ? range_req(k, NULL) : NULL, *resp = NULL;
	int err;

	free(k);
	if (req)
		json_object_set_new(req, "count_only", json_true());
	if ((err = call(c, "/v3/kv/range", req, &resp)))
		return err;
	*head = etcd_int(json_object_get(resp, "header"), "revision");
	json_decref(resp);
	return 0;
}

/* Another process on this node (its secretfs, say) may have applied a new
 * key ring: take it, so that this handle seals with the active key. */
static int ring_refresh(struct store *st)
{
	sqlite3_stmt *q;
	int64_t active = 0;

	if (db_prep(st, "SELECT value FROM meta WHERE key = 'active_key'", &q))
		return -EIO;
	if (sqlite3_step(q) == SQLITE_ROW)
		active = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return active == st->active_key ? 0 : keyring_load(st);
}

int cluster_sync(struct cluster *c, struct store *st, int64_t *out)
{
	char *end = etcd_prefix_end(c->prefix), **keys = NULL;
	json_t *req, *listing = NULL, *changed = NULL, *kv;
	int64_t head, have;
	size_t n = 0, i;
	int err;

	if (!end)
		return cfail(c, -ENOMEM, "out of memory");
	if ((err = store_etcd_revision(st, &have)))
		goto store_fail;
	/* one key's worth of asking first: most of the time nothing changed */
	if ((err = cluster_head(c, &head)))
		goto out;
	if (head <= have)
		goto done;
	/* every key at head, without values: what exists */
	req = range_req(c->prefix, end);
	if (req && (json_object_set_new(req, "keys_only", json_true()) ||
		    json_object_set_new(req, "revision", int_str(head)))) {
		json_decref(req);
		req = NULL;
	}
	if ((err = call(c, "/v3/kv/range", req, &listing)))
		goto out;
	/* the values of what changed since this node's revision, at head */
	req = range_req(c->prefix, end);
	if (req && (json_object_set_new(req, "revision", int_str(head)) ||
		    json_object_set_new(req, "min_mod_revision", int_str(have + 1)))) {
		json_decref(req);
		req = NULL;
	}
	if ((err = call(c, "/v3/kv/range", req, &changed)))
		goto out;
	keys = calloc(json_array_size(json_object_get(listing, "kvs")) + 1, sizeof(*keys));
	if (!keys) {
		err = cfail(c, -ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(json_object_get(listing, "kvs"), i, kv) {
		unsigned char *raw;
		const char *rel = kv_key(c, kv, &raw);

		if (rel && !(keys[n++] = strdup(rel))) {
			free(raw);
			err = cfail(c, -ENOMEM, "out of memory");
			goto out;
		}
		free(raw);
	}
	qsort(keys, n, sizeof(*keys), str_cmp);
	if ((err = store_batch_begin(st)))
		goto store_fail;
	if ((err = store_etcd_revision(st, &have)))
		goto rollback;
	if (head <= have) { /* someone else on this node caught up first */
		store_batch_rollback(st);
		goto done;
	}
	for (int r = 0; r < 3 && !err; r++)
		err = apply_kvs(c, st, json_object_get(changed, "kvs"), r);
	if (!err && listed(keys, n, "keyring"))
		err = sweep(st, keys, n);
	if (!err && !listed(keys, n, "keyring"))
		err = db_errorf(st, -ENOENT, "etcd has no cluster under '%s' (no keyring): run 'secretctl init' with [cluster] configured",
				c->prefix);
	if (err || (err = set_etcd_revision(st, head)))
		goto rollback;
	if ((err = store_batch_commit(st)))
		goto store_fail;
	have = head;
done:
	if ((err = ring_refresh(st)))
		goto store_fail;
	if (out)
		*out = have;
	goto out;
rollback:
	store_batch_rollback(st);
	keyring_load(st); /* whatever the failed batch loaded */
store_fail:
	sfail(c, st, err);
out:
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	json_decref(listing);
	json_decref(changed);
	free(end);
	return err;
}

/* --- following ------------------------------------------------------------ */

struct follow {
	struct cluster *c;
	struct store *st;
	void (*applied)(void *ctx, int64_t rev);
	void *ctx;
};

/* One watch response: its events, all in one transaction. */
static int on_watch(void *arg, json_t *result)
{
	struct follow *f = arg;
	struct cluster *c = f->c;
	struct store *st = f->st;
	json_t *events = json_object_get(result, "events"), *ev;
	int64_t have, last = 0;
	size_t i;
	int err;

	if (json_is_true(json_object_get(result, "canceled"))) {
		int64_t compact = etcd_int(result, "compact_revision");
		const char *why = json_string_value(json_object_get(result, "cancel_reason"));

		if (compact)
			return cfail(c, -ESTALE, "etcd compacted past revision %lld",
				     (long long)compact);
		return cfail(c, -ECONNRESET, "etcd cancelled the watch: %s", why ? why : "no reason given");
	}
	if (json_is_true(json_object_get(result, "created")))
		return 0;
	if (!json_array_size(events)) /* progress: nothing before this revision is left */
		last = etcd_int(json_object_get(result, "header"), "revision");
	if ((err = store_batch_begin(st)) || (err = store_etcd_revision(st, &have)))
		goto fail;
	json_array_foreach(events, i, ev) {
		json_t *kv = json_object_get(ev, "kv"), *rec = NULL;
		int64_t rev = etcd_int(kv, "mod_revision");
		bool del = json_is_string(json_object_get(ev, "type")) &&
			   strcmp(json_string_value(json_object_get(ev, "type")), "DELETE") == 0;
		unsigned char *raw;
		const char *rel;

		if (rev > last)
			last = rev;
		if (rev <= have)
			continue; /* a sync on this node got there first */
		rel = kv_key(c, kv, &raw);
		if (rel && !del && !(rec = kv_value(kv)))
			err = db_errorf(st, -EPROTO, "etcd key '%s%s' holds no JSON record", c->prefix, rel);
		if (rel && !err)
			err = apply_one(st, rel, rec, rev);
		json_decref(rec);
		free(raw);
		if ((err = skip(c, st, err)))
			goto fail;
	}
	if (last > have && (err = set_etcd_revision(st, last)))
		goto fail;
	if ((err = store_batch_commit(st)))
		goto failed;
	if (last > have && f->applied)
		f->applied(f->ctx, last);
	return 0;
fail:
	store_batch_rollback(st);
	keyring_load(st);
failed:
	return sfail(c, st, err);
}

int cluster_follow(struct cluster *c, struct store *st, const atomic_int *stop,
		   void (*applied)(void *ctx, int64_t rev), void *ctx)
{
	struct follow f = { c, st, applied, ctx };
	char *end = etcd_prefix_end(c->prefix);
	json_t *req = end ? range_req(c->prefix, end) : NULL;
	int64_t have;
	int err;

	free(end);
	if (!req)
		return cfail(c, -ENOMEM, "out of memory");
	if ((err = store_etcd_revision(st, &have))) {
		json_decref(req);
		return sfail(c, st, err);
	}
	if (json_object_set_new(req, "start_revision", int_str(have + 1)) ||
	    json_object_set_new(req, "progress_notify", json_true())) {
		json_decref(req);
		return cfail(c, -ENOMEM, "out of memory");
	}
	err = etcd_watch(c->etcd, req, on_watch, &f, stop, c->err);
	json_decref(req);
	return err;
}

int cluster_apply_response(struct cluster *c, struct store *st, const char *text, size_t len)
{
	struct follow f = { c, st, NULL, NULL };
	json_t *o = json_loadb(text, len, 0, NULL);
	json_t *result = json_object_get(o, "result");
	int err;

	err = json_is_object(result) ? on_watch(&f, result) :
	      cfail(c, -EPROTO, "not a watch response");
	json_decref(o);
	return err;
}

/* --- writes --------------------------------------------------------------- */

/*
 * After this node's own write committed at etcd revision rev: if the store
 * was at rev - 1, that write is all that happened, and applying it (the n
 * keys rels[i] with records recs[i]; NULL rels are skipped) brings the
 * store to rev; otherwise catch up with a sync.
 */
static int catch_up_n(struct cluster *c, struct store *st, int64_t rev, char **rels,
		      json_t **recs, size_t n)
{
	int64_t have;
	int err;

	if ((err = store_batch_begin(st)) || (err = store_etcd_revision(st, &have)))
		goto fail;
	if (have != rev - 1) {
		store_batch_rollback(st);
		return have >= rev ? 0 : cluster_sync(c, st, NULL);
	}
	for (size_t i = 0; i < n; i++)
		if (rels[i] && (err = apply_one(st, rels[i], recs[i], rev)))
			goto fail;
	if ((err = set_etcd_revision(st, rev)))
		goto fail;
	if ((err = store_batch_commit(st)))
		return sfail(c, st, err);
	return 0;
fail:
	store_batch_rollback(st);
	return sfail(c, st, err);
}

static int catch_up(struct cluster *c, struct store *st, int64_t rev, char *rel, json_t *rec)
{
	return catch_up_n(c, st, rev, &rel, &rec, 1);
}

/* A compare of key's create_revision: absent (result "EQUAL" to 0) or
 * present ("GREATER"). */
static json_t *cmp_exists(const char *key, bool exists)
{
	return json_pack("{s:o, s:s, s:s, s:o}", "key", b64_str(key), "target", "CREATE",
			 "result", exists ? "GREATER" : "EQUAL", "create_revision", int_str(0));
}

/* A compare of key's mod_revision: still rev, as this node last saw it. */
static json_t *cmp_mod(const char *key, int64_t rev)
{
	return json_pack("{s:o, s:s, s:s, s:o}", "key", b64_str(key), "target", "MOD",
			 "result", "EQUAL", "mod_revision", int_str(rev));
}

/* Run a transaction; *ok: whether its compares held, *rev: its revision. */
static int txn(struct cluster *c, json_t *compare, json_t *success, bool *ok, int64_t *rev)
{
	json_t *resp = NULL;
	int err;

	if (!compare || !success) {
		json_decref(compare);
		json_decref(success);
		return cfail(c, -ENOMEM, "out of memory");
	}
	err = call(c, "/v3/kv/txn", json_pack("{s:o, s:o}", "compare", compare,
					       "success", success), &resp);
	if (err)
		return err;
	*ok = json_is_true(json_object_get(resp, "succeeded"));
	*rev = etcd_int(json_object_get(resp, "header"), "revision");
	json_decref(resp);
	return 0;
}

static json_t *put_op(const char *key, json_t *rec)
{
	char *text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	char *b = text ? etcd_b64(text, strlen(text)) : NULL;
	json_t *op = b ? json_pack("{s:{s:o, s:s}}", "request_put", "key", b64_str(key),
				   "value", b) : NULL;

	if (text)
		etcd_json_free(text);
	free(b);
	return op;
}

static json_t *delete_op(const char *key, const char *end)
{
	json_t *r = range_req(key, end);

	return r ? json_pack("{s:o}", "request_delete_range", r) : NULL;
}

/* The etcd mod revision of key now (0: absent). */
static int mod_revision_now(struct cluster *c, const char *key, int64_t *rev)
{
	json_t *resp = NULL;
	int err;

	if ((err = call(c, "/v3/kv/range", range_req(key, NULL), &resp)))
		return err;
	*rev = etcd_int(json_array_get(json_object_get(resp, "kvs"), 0), "mod_revision");
	json_decref(resp);
	return 0;
}

/* A batch's transaction failed its compares: say which object, and why. */
static int why_refused(struct cluster *c, struct store_secret **v, size_t n,
		       const int64_t *prev, json_t **recs, enum store_put_mode mode)
{
	for (size_t i = 0; i < n; i++) {
		char *nkey, *skey;
		int64_t now = 0, ns = 0;
		int err;

		if (!recs[i])
			continue;
		nkey = key_of(c, "namespaces/", v[i]->namespace, NULL);
		skey = secret_key(c, v[i]->namespace, v[i]->name);
		err = !nkey || !skey ? cfail(c, -ENOMEM, "out of memory") :
		      mod_revision_now(c, nkey, &ns);
		if (!err)
			err = mod_revision_now(c, skey, &now);
		free(nkey);
		free(skey);
		if (err)
			return err;
		if (!ns)
			return cfail(c, -ENOENT, "namespaces \"%s\" not found", v[i]->namespace);
		if (now == prev[i])
			continue;
		if (now && mode == STORE_PUT_CREATE && !prev[i])
			return cfail(c, -EEXIST, "secrets \"%s\" already exists", v[i]->name);
		if (!now && mode == STORE_PUT_REPLACE)
			return cfail(c, -ENOENT, "secrets \"%s\" not found", v[i]->name);
		return cfail(c, -EAGAIN,
			     MSG_CONFLICT,
			     v[i]->name);
	}
	return cfail(c, -EAGAIN, "etcd changed while these secrets were written; please try again");
}

int cluster_secret_put_batch(struct cluster *c, struct store *st, struct store_secret **v,
			     size_t n, enum store_put_mode mode, enum store_put_result *results)
{
	json_t **recs = calloc(n, sizeof(*recs)), *cmp = json_array(), *ops = json_array();
	int64_t *prev = calloc(n, sizeof(*prev)), rev;
	char **rels = calloc(n, sizeof(*rels));
	size_t changed = 0;
	bool ok;
	int err;

	if (!recs || !prev || !rels || !cmp || !ops) {
		err = cfail(c, -ENOMEM, "out of memory");
		goto out;
	}
	if (n > CLUSTER_MAX_BATCH) {
		err = cfail(c, -E2BIG, "at most %d secrets in one etcd transaction", CLUSTER_MAX_BATCH);
		goto out;
	}
	if ((err = cluster_sync(c, st, NULL)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct store_secret *now = NULL;
		int64_t had = 0;

		/* a resourceVersion read in cluster mode is etcd's (see output) */
		if (v[i]->revision) {
			v[i]->etcd_rev = v[i]->revision;
			v[i]->revision = 0;
		}
		if (!v[i]->etcd_rev)
			continue;
		/* the caller read one version: it must still be there */
		if (store_secret_get(st, v[i]->namespace, v[i]->name, 0, &now) == 0) {
			had = now->etcd_rev;
			store_secret_free(now);
		} else {
			err = cfail(c, -EINVAL,
				    MSG_VERSION_ON_CREATE,
				    v[i]->name, v[i]->namespace);
			goto out;
		}
		if (had != v[i]->etcd_rev) {
			err = cfail(c, -EAGAIN,
				    MSG_CONFLICT,
				    v[i]->name);
			goto out;
		}
	}
	/* the store validates and seals, in a transaction it then forgets;
	 * each object sees the ones before it */
	if ((err = store_batch_begin(st)))
		goto store_fail;
	for (size_t i = 0; i < n && !err; i++) {
		if ((err = store_secret_put(st, v[i], mode, &results[i])))
			break;
		if (results[i] == STORE_UNCHANGED)
			continue;
		if (!(recs[i] = secret_record(st, v[i]->namespace, v[i]->name, &prev[i])) ||
		    asprintf(&rels[i], "secrets/%s/%s", v[i]->namespace, v[i]->name) < 0) {
			rels[i] = NULL;
			err = db_errorf(st, -ENOMEM, "out of memory");
		}
	}
	store_batch_rollback(st);
	if (err)
		goto store_fail;
	for (size_t i = 0; i < n; i++) {
		char *skey, *nkey;
		bool ns_seen = false;

		if (!recs[i])
			continue;
		for (size_t j = 0; j < i; j++)
			ns_seen |= recs[j] && strcmp(v[j]->namespace, v[i]->namespace) == 0;
		skey = secret_key(c, v[i]->namespace, v[i]->name);
		nkey = key_of(c, "namespaces/", v[i]->namespace, NULL);
		if (!skey || !nkey ||
		    json_array_append_new(cmp, prev[i] ? cmp_mod(skey, prev[i]) :
						   cmp_exists(skey, false)) ||
		    (!ns_seen && json_array_append_new(cmp, cmp_exists(nkey, true))) ||
		    json_array_append_new(ops, put_op(skey, recs[i])))
			err = cfail(c, -ENOMEM, "out of memory");
		free(skey);
		free(nkey);
		if (err)
			goto out;
		changed++;
	}
	if (!changed)
		goto out;
	err = txn(c, cmp, ops, &ok, &rev);
	cmp = ops = NULL; /* txn took them */
	if (err)
		goto out;
	if (!ok) {
		err = why_refused(c, v, n, prev, recs, mode);
		goto out;
	}
	err = catch_up_n(c, st, rev, rels, recs, n);
	goto out;
store_fail:
	sfail(c, st, err);
out:
	for (size_t i = 0; recs && i < n; i++)
		json_decref(recs[i]);
	for (size_t i = 0; rels && i < n; i++)
		free(rels[i]);
	free(recs);
	free(rels);
	free(prev);
	json_decref(cmp);
	json_decref(ops);
	return err;
}

int cluster_secret_put(struct cluster *c, struct store *st, struct store_secret *s,
		       enum store_put_mode mode, enum store_put_result *result)
{
	enum store_put_result r = STORE_UNCHANGED;
	int err = cluster_secret_put_batch(c, st, &s, 1, mode, &r);

	if (!err && result)
		*result = r;
	return err;
}

/*
 * The shape of the simple writes: catch up, commit ops (taken) in one etcd
 * transaction if key exists (or, !exists, if it does not), then apply the
 * change here (rel and rec, as apply_one() takes them).  0, 1 if key was
 * not as required (nothing written), or an error.
 */
static int write_if(struct cluster *c, struct store *st, const char *key, bool exists,
		    json_t *ops, char *rel, json_t *rec)
{
	int64_t rev;
	bool ok;
	int err;

	if ((err = cluster_sync(c, st, NULL))) {
		json_decref(ops);
		return err;
	}
	if ((err = txn(c, json_pack("[o]", cmp_exists(key, exists)), ops, &ok, &rev)))
		return err;
	return ok ? catch_up(c, st, rev, rel, rec) : 1;
}

int cluster_secret_delete(struct cluster *c, struct store *st, const char *ns,
			  const char *name)
{
	char *skey = secret_key(c, ns, name), *rel = NULL;
	int err;

	if (!skey || asprintf(&rel, "secrets/%s/%s", ns, name) < 0) {
		free(skey);
		return cfail(c, -ENOMEM, "out of memory");
	}
	err = write_if(c, st, skey, true, json_pack("[o]", delete_op(skey, NULL)), rel, NULL);
	if (err == 1)
		err = cfail(c, -ENOENT, "secrets \"%s\" not found", name);
	free(skey);
	free(rel);
	return err;
}

int cluster_ns_create(struct cluster *c, struct store *st, const char *ns)
{
	char why[STORE_ERRMSG_MAX], *nkey, *rel = NULL;
	json_t *rec;
	int err;

	if (store_check_namespace(ns, why))
		return cfail(c, -EINVAL, "namespace \"%s\": %s", ns, why);
	nkey = key_of(c, "namespaces/", ns, NULL);
	rec = json_pack("{s:i, s:I}", "format", RECORD_FORMAT, "created", (json_int_t)db_now());
	if (!nkey || !rec || asprintf(&rel, "namespaces/%s", ns) < 0) {
		free(nkey);
		json_decref(rec);
		return cfail(c, -ENOMEM, "out of memory");
	}
	err = write_if(c, st, nkey, false, json_pack("[o]", put_op(nkey, rec)), rel, rec);
	if (err == 1)
		err = cfail(c, -EEXIST, "namespaces \"%s\" already exists", ns);
	json_decref(rec);
	free(nkey);
	free(rel);
	return err;
}

int cluster_ns_delete(struct cluster *c, struct store *st, const char *ns)
{
	char *nkey, *sprefix, *send, *rel = NULL;
	int err;

	if (strcmp(ns, STORE_DEFAULT_NAMESPACE) == 0)
		return cfail(c, -EINVAL, "namespace \"%s\" cannot be deleted", ns);
	nkey = key_of(c, "namespaces/", ns, NULL);
	sprefix = key_of(c, "secrets/", ns, "/");
	send = sprefix ? etcd_prefix_end(sprefix) : NULL;
	if (!nkey || !send || asprintf(&rel, "namespaces/%s", ns) < 0) {
		rel = NULL;
		err = cfail(c, -ENOMEM, "out of memory");
		goto out;
	}
	/* the namespace and every secret in it, at one revision */
	err = write_if(c, st, nkey, true,
		       json_pack("[o, o]", delete_op(nkey, NULL), delete_op(sprefix, send)), rel, NULL);
	if (err == 1)
		err = cfail(c, -ENOENT, "namespaces \"%s\" not found", ns);
out:
	free(nkey);
	free(sprefix);
	free(send);
	free(rel);
	return err;
}

/* --- the key ring ----------------------------------------------------------- */

static json_t *keyring_record(struct store *st);

/*
 * Change the key ring as op does in a store alone (it checks, and it
 * chooses), in a transaction then rolled back; then in etcd, if nobody
 * changed it meanwhile; then here.
 */
static int keyring_change(struct cluster *c, struct store *st,
			  int (*op)(struct store *st, void *arg), void *arg)
{
	char *kkey = key_of(c, "keyring", NULL, NULL), rel[] = "keyring";
	json_t *rec = NULL;
	int64_t m = 0, rev;
	bool ok;
	int err;

	if (!kkey)
		return cfail(c, -ENOMEM, "out of memory");
	if ((err = cluster_sync(c, st, NULL)) || (err = mod_revision_now(c, kkey, &m)))
		goto out;
	if ((err = store_batch_begin(st))) {
		sfail(c, st, err);
		goto out;
	}
	err = op(st, arg);
	if (!err && !(rec = keyring_record(st)))
		err = db_errorf(st, -ENOMEM, "out of memory");
	store_batch_rollback(st);
	keyring_load(st); /* the ring as it is, not as the forgotten change had it */
	if (err) {
		sfail(c, st, err);
		goto out;
	}
	if ((err = txn(c, json_pack("[o]", cmp_mod(kkey, m)), json_pack("[o]", put_op(kkey, rec)),
		       &ok, &rev)))
		goto out;
	err = ok ? catch_up(c, st, rev, rel, rec) :
	      cfail(c, -EAGAIN, "the key ring changed in etcd meanwhile: try again");
out:
	json_decref(rec);
	free(kkey);
	return err;
}

static int rotate_op(struct store *st, void *arg)
{
	return store_key_rotate(st, arg);
}

static int retire_op(struct store *st, void *arg)
{
	return store_key_retire(st, *(uint32_t *)arg);
}

int cluster_key_rotate(struct cluster *c, struct store *st, uint32_t *new_id)
{
	uint32_t id = 0;
	int err = keyring_change(c, st, rotate_op, &id);

	if (!err && new_id)
		*new_id = id;
	return err;
}

int cluster_key_retire(struct cluster *c, struct store *st, uint32_t id)
{
	return keyring_change(c, st, retire_op, &id);
}

/* What cluster_reseal() gathers from each secret the store re-sealed. */
struct reseal_out {
	struct cluster *c;
	struct store *st;
	json_t *cmp, *ops, *recs[CLUSTER_MAX_BATCH];
	char *rels[CLUSTER_MAX_BATCH];
	size_t n;
};

/* reseal_batch()'s callback: the re-sealed record, and the etcd compare
 * and put that send it. */
static int reseal_record(void *arg, const char *ns, const char *name)
{
	struct reseal_out *r = arg;
	int64_t prev;
	char *skey;
	int err = 0;

	assert(r->n < CLUSTER_MAX_BATCH);
	if (!(r->recs[r->n] = secret_record(r->st, ns, name, &prev)) ||
	    asprintf(&r->rels[r->n], "secrets/%s/%s", ns, name) < 0) {
		r->rels[r->n] = NULL;
		r->n++;
		return db_errorf(r->st, -ENOMEM, "out of memory");
	}
	skey = secret_key(r->c, ns, name);
	if (!skey ||
	    json_array_append_new(r->cmp, cmp_mod(skey, prev)) ||
	    json_array_append_new(r->ops, put_op(skey, r->recs[r->n])))
		err = db_errorf(r->st, -ENOMEM, "out of memory");
	free(skey);
	r->n++;
	return err;
}

int cluster_reseal(struct cluster *c, struct store *st, size_t batch, size_t *done,
		   uint64_t *left)
{
	struct reseal_out r = { .c = c, .st = st, .cmp = json_array(), .ops = json_array() };
	size_t n = 0;
	int64_t rev;
	bool ok;
	int err;

	*done = 0;
	if (batch > CLUSTER_MAX_BATCH)
		batch = CLUSTER_MAX_BATCH;
	if (!r.cmp || !r.ops) {
		err = cfail(c, -ENOMEM, "out of memory");
		goto out;
	}
	if ((err = cluster_sync(c, st, NULL)))
		goto out;
	/* re-sealed by the store, in a transaction it then forgets: same
	 * values, uid and generation, the active key */
	if ((err = store_batch_begin(st)))
		goto store_fail;
	err = reseal_batch(st, batch, &n, reseal_record, &r);
	store_batch_rollback(st);
	keyring_load(st);
	if (err)
		goto store_fail;
	if (n) {
		err = txn(c, r.cmp, r.ops, &ok, &rev);
		r.cmp = r.ops = NULL;
		if (err)
			goto out;
		if (!ok) { /* written meanwhile: those are sealed afresh anyway */
			err = cfail(c, -EAGAIN, "secrets changed in etcd meanwhile: try again");
			goto out;
		}
		if ((err = catch_up_n(c, st, rev, r.rels, r.recs, n)))
			goto out;
	}
	*done = n;
	if (left && (err = reseal_left(st, left)))
		goto store_fail;
	goto out;
store_fail:
	sfail(c, st, err);
out:
	for (size_t i = 0; i < r.n; i++) {
		json_decref(r.recs[i]);
		free(r.rels[i]);
	}
	json_decref(r.cmp);
	json_decref(r.ops);
	return err;
}

/* --- joining --------------------------------------------------------------- */

/* The store's UUID and key ring, as the keyring record. */
static json_t *keyring_record(struct store *st)
{
	json_t *keys = json_array(), *rec;
	char *uuid = etcd_b64(st->uuid, SEAL_UUID_BYTES);
	sqlite3_stmt *q;
	int rc;

	if (!keys || !uuid || db_prep(st, "SELECT id, created, wrapped FROM keyring ORDER BY id", &q)) {
		json_decref(keys);
		free(uuid);
		return NULL;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		char *w = etcd_b64(sqlite3_column_blob(q, 2), (size_t)sqlite3_column_bytes(q, 2));

		json_array_append_new(keys, json_pack("{s:I, s:I, s:s}",
						      "id", (json_int_t)sqlite3_column_int64(q, 0),
						      "created", (json_int_t)sqlite3_column_int64(q, 1),
						      "wrapped", w ? w : ""));
		free(w);
	}
	sqlite3_finalize(q);
	rec = rc == SQLITE_DONE ? json_pack("{s:i, s:s, s:I, s:o}", "format", RECORD_FORMAT,
					    "uuid", uuid, "active_key",
					    (json_int_t)st->active_key, "keys", keys) : NULL;
	if (!rec && rc != SQLITE_DONE)
		json_decref(keys);
	free(uuid);
	return rec;
}

/* Make st's identity and key ring the cluster's (st holds no secrets). */
static int adopt(struct cluster *c, struct store *st, json_t *rec)
{
	const char *u = json_string_value(json_object_get(rec, "uuid"));
	unsigned char *uuid = NULL;
	sqlite3_stmt *q;
	size_t n;
	int err;

	if (!u || etcd_unb64(u, &uuid, &n) || n != SEAL_UUID_BYTES) {
		free(uuid);
		return cfail(c, -EINVAL, "the cluster's key ring record is malformed");
	}
	if ((err = store_batch_begin(st)))
		goto failed;
	if ((err = db_prep(st, "SELECT count(*) FROM secrets", &q)))
		goto fail;
	if (sqlite3_step(q) != SQLITE_ROW || sqlite3_column_int64(q, 0) != 0) {
		sqlite3_finalize(q);
		err = db_errorf(st, -ENOTEMPTY,
				"this node's store already holds secrets: a node joins a cluster with a new store");
		goto fail;
	}
	sqlite3_finalize(q);
	if ((err = db_exec(st, "DELETE FROM keyring")) ||
	    (err = db_prep(st, "UPDATE meta SET value = ?1 WHERE key = 'uuid'", &q)))
		goto fail;
	sqlite3_bind_blob(q, 1, uuid, SEAL_UUID_BYTES, SQLITE_TRANSIENT);
	if ((err = db_step_done(st, q, "cannot write the store's identity")))
		goto fail;
	memcpy(st->uuid, uuid, SEAL_UUID_BYTES);
	if ((err = keyring_apply(st, rec))) {
		if (err == -EKEYREJECTED)
			err = db_errorf(st, err,
					"the master key file does not open the cluster's data keys: every node needs a copy of the same master key");
		goto fail;
	}
	if ((err = store_batch_commit(st)))
		goto failed;
	free(uuid);
	return 0;
fail:
	store_batch_rollback(st);
	keyring_load(st);
failed:
	free(uuid);
	return sfail(c, st, err);
}

int cluster_join(struct cluster *c, struct store *st, bool *founded)
{
	char *kkey = key_of(c, "keyring", NULL, NULL);
	char *dkey = key_of(c, "namespaces/", STORE_DEFAULT_NAMESPACE, NULL);
	json_t *resp = NULL, *rec = NULL, *kv;
	int64_t rev;
	bool ok = false;
	int err;

	*founded = false;
	if (!kkey || !dkey) {
		err = cfail(c, -ENOMEM, "out of memory");
		goto out;
	}
	if ((err = call(c, "/v3/kv/range", range_req(kkey, NULL), &resp)))
		goto out;
	kv = json_array_get(json_object_get(resp, "kvs"), 0);
	if (!kv) { /* the first node: this store's identity becomes the cluster's */
		json_t *ns = json_pack("{s:i, s:I}", "format", RECORD_FORMAT,
				       "created", (json_int_t)db_now());

		rec = keyring_record(st);
		if (!rec || !ns) {
			json_decref(ns);
			err = cfail(c, -ENOMEM, "out of memory");
			goto out;
		}
		err = txn(c, json_pack("[o]", cmp_exists(kkey, false)),
			  json_pack("[o, o]", put_op(kkey, rec), put_op(dkey, ns)), &ok, &rev);
		json_decref(ns);
		if (err)
			goto out;
		if (ok) {
			*founded = true;
			err = cluster_sync(c, st, NULL);
			goto out;
		}
		/* another node founded it meanwhile: join that one */
		json_decref(resp);
		resp = NULL;
		if ((err = call(c, "/v3/kv/range", range_req(kkey, NULL), &resp)))
			goto out;
		kv = json_array_get(json_object_get(resp, "kvs"), 0);
	}
	json_decref(rec);
	rec = kv ? kv_value(kv) : NULL;
	if (!rec) {
		err = cfail(c, -EINVAL, "the cluster's key ring record is malformed");
		goto out;
	}
	if ((err = adopt(c, st, rec)))
		goto out;
	err = cluster_sync(c, st, NULL);
out:
	json_decref(resp);
	json_decref(rec);
	free(kkey);
	free(dkey);
	return err;
}
