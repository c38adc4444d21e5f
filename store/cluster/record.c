/*
 * record.c - the record format: a secret, or the key ring, as one JSON
 * record under the prefix; metadata in clear, every value already sealed
 * in the store's own format.
 *
 * A record that breaks the rules (a name Kubernetes would refuse, a value
 * that is no sealed blob, control characters in a label, another record
 * format) is checked here before anything of it is written and skipped,
 * counted and named (cluster_skipped()), so that one bad key under the
 * prefix does not stop the node from following the rest.  Values are not
 * opened here: one that fails authentication fails when read, as in any
 * store.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror.h"

/* The record of ns/name as the store holds it (sealed values), and the
 * etcd revision it was last written at. */
json_t *cl_secret_record(struct store *st, const char *ns, const char *name,
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

static bool printable(const char *s, bool text)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && !(text && (*s == '\n' || *s == '\t'))) || *s == 0x7f)
			return false;
	return true;
}

/* Labels or annotations: strings without control characters, but for the
 * lines and tabs an annotation's value may hold (kubectl's last-applied
 * configuration ends in a newline). */
static bool pairs_ok(json_t *o, bool annotations)
{
	const char *k;
	json_t *v;

	if (o && !json_is_object(o))
		return false;
	json_object_foreach(o, k, v)
		if (!json_is_string(v) || !printable(k, false) ||
		    !printable(json_string_value(v), annotations))
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
int cl_record_check(struct store *st, const char *ns, const char *name, json_t *rec)
{
	char why[STORE_ERRMSG_MAX];
	const char *uid = json_string_value(json_object_get(rec, "uid"));
	const char *type = json_string_value(json_object_get(rec, "type"));
	const char *k;
	json_int_t kid;
	json_t *v;

	if (store_check_namespace(ns, why) || store_check_name(name, why))
		return db_errorf(st, -EPROTO, "etcd record for \"%s/%s\": %s", ns, name, why);
	if (json_integer_value(json_object_get(rec, "format")) != RECORD_FORMAT ||
	    !uid || strlen(uid) != 36 || !printable(uid, false) || !type || !*type || !printable(type, false) ||
	    json_integer_value(json_object_get(rec, "generation")) < 1 ||
	    !json_is_integer(json_object_get(rec, "key_id")) ||
	    !json_is_object(json_object_get(rec, "data")) ||
	    !pairs_ok(json_object_get(rec, "labels"), false) ||
	    !pairs_ok(json_object_get(rec, "annotations"), true))
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
	/* the row's key_id references the key ring: a key the ring lacks
	 * would fail that constraint mid-apply */
	kid = json_integer_value(json_object_get(rec, "key_id"));
	if (kid < 1 || kid > UINT32_MAX || !keyring_key(st, (uint32_t)kid))
		return db_errorf(st, -EPROTO,
				 "etcd record for secret \"%s\" in namespace \"%s\": key_id %lld: no such data key",
				 name, ns, (long long)kid);
	{
		const char *la = json_string_value(json_object_get(json_object_get(rec, "annotations"),
								   STORE_LAST_APPLIED));
		int bad = la ? last_applied_check(la) : 0;

		if (bad == -ENOMEM)
			return db_errorf(st, bad, "out of memory");
		/* rows_pair_add() would refuse it mid-write: skipped here */
		if (bad)
			return db_errorf(st, -EPROTO,
					 "etcd record for secret \"%s\" in namespace \"%s\": annotation %s holds values",
					 name, ns, STORE_LAST_APPLIED);
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

/* The store's UUID and key ring, as the keyring record. */
json_t *cl_keyring_record(struct store *st)
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
