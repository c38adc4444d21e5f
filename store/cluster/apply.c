/*
 * apply.c - the node's store as a mirror of etcd: applying records, sync
 * and follow (the rule that keeps a mirror right: mirror.h).
 *
 * Applied changes are written by rows.c, as every local write is, so they
 * go through the store's revision and change log and readers (secretfs's
 * watcher) see them the same way.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror.h"

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

/* Move W to rev, and mark that the store's revision now holds etcd as of
 * rev (in the same transaction as what was applied). */
static int set_etcd_revision(struct store *st, int64_t rev)
{
	sqlite3_stmt *q;
	int err;

	if (db_prep(st, "UPDATE meta SET value = ?1 WHERE key = 'etcd_revision'", &q))
		return -EIO;
	sqlite3_bind_int64(q, 1, rev);
	if ((err = db_step_done(st, q, "cannot record the etcd revision")))
		return err;
	if (db_prep(st, "INSERT OR REPLACE INTO etcd_marks(etcd_rev, revision)"
		    " SELECT ?1, value FROM meta WHERE key = 'revision'", &q))
		return -EIO;
	sqlite3_bind_int64(q, 1, rev);
	return db_step_done(st, q, "cannot record the etcd revision");
}

int store_etcd_since(struct store *st, int64_t etcd_rev, int64_t *rev)
{
	sqlite3_stmt *q;
	int rc, err = 0;

	if (db_prep(st, "SELECT revision FROM etcd_marks WHERE etcd_rev <= ?1"
		    " ORDER BY etcd_rev DESC LIMIT 1", &q))
		return -EIO;
	sqlite3_bind_int64(q, 1, etcd_rev);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*rev = sqlite3_column_int64(q, 0);
	else if (rc == SQLITE_DONE)
		err = -ESTALE;
	else
		err = db_fail(st, "cannot read the etcd revisions");
	sqlite3_finalize(q);
	return err;
}

int store_etcd_at(struct store *st, int64_t rev, int64_t *etcd_rev)
{
	sqlite3_stmt *q;
	int rc, err = 0;

	if (db_prep(st, "SELECT etcd_rev FROM etcd_marks WHERE revision >= ?1"
		    " ORDER BY revision, etcd_rev LIMIT 1", &q))
		return -EIO;
	sqlite3_bind_int64(q, 1, rev);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*etcd_rev = sqlite3_column_int64(q, 0);
	else if (rc == SQLITE_DONE)
		err = -ENOENT;
	else
		err = db_fail(st, "cannot read the etcd revisions");
	sqlite3_finalize(q);
	return err;
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

	if ((err = cl_record_check(st, ns, name, rec)) ||
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
int cl_keyring_apply(struct store *st, json_t *rec)
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
int cl_apply_one(struct store *st, const char *rel, json_t *rec, int64_t etcd_rev)
{
	char ns[STORE_MAX_NAMESPACE + 2], name[STORE_MAX_NAME + 2];

	if (strcmp(rel, "keyring") == 0)
		return rec ? cl_keyring_apply(st, rec) : 0;
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
	if (strncmp(rel, "rbac/", 5) == 0)
		return cl_object_apply(st, rel, rec, etcd_rev);
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
		    " SELECT 'secrets/' || n.name || '/' || s.name" SECRET_JOIN_SQL " UNION ALL"
		    " SELECT 'rbac/' || CASE kind WHEN 'Role' THEN 'roles/' || namespace || '/'"
		    " WHEN 'RoleBinding' THEN 'rolebindings/' || namespace || '/'"
		    " WHEN 'ClusterRole' THEN 'clusterroles/' ELSE 'clusterrolebindings/' END || name"
		    " FROM objects", &q))
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
	/* secrets and RBAC objects first: a namespace's removal logs theirs */
	for (size_t i = ngone; !err && i-- > 0;)
		if (strncmp(gone[i], "namespaces/", 11) != 0)
			err = cl_apply_one(st, gone[i], NULL, 0);
	for (size_t i = 0; !err && i < ngone; i++)
		if (strncmp(gone[i], "namespaces/", 11) == 0)
			err = cl_apply_one(st, gone[i], NULL, 0);
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
		const char *rel = cl_kv_key(c, kv, &raw);
		json_t *rec;
		int err;

		if (!rel || apply_rank(rel) != r) {
			free(raw);
			continue;
		}
		rec = cl_kv_value(kv);
		err = rec ? cl_apply_one(st, rel, rec, etcd_int(kv, "mod_revision")) :
		      db_errorf(st, -EPROTO, "etcd key '%s%s' holds no JSON record", c->prefix, rel);
		json_decref(rec);
		free(raw);
		if ((err = cl_skip(c, st, err)))
			return err;
	}
	return 0;
}

int cluster_head(struct cluster *c, int64_t *head)
{
	char *k = cl_key_of(c, "keyring", NULL, NULL);
	json_t *req = k ? cl_range_req(k, NULL) : NULL, *resp = NULL;
	int err;

	free(k);
	if (req)
		json_object_set_new(req, "count_only", json_true());
	if ((err = cl_call(c, "/v3/kv/range", req, &resp)))
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
		return cl_fail(c, -ENOMEM, "out of memory");
	if ((err = store_etcd_revision(st, &have)))
		goto store_fail;
	/* one key's worth of asking first: most of the time nothing changed */
	if ((err = cluster_head(c, &head)))
		goto out;
	if (head <= have)
		goto done;
	/* every key at head, without values: what exists */
	req = cl_range_req(c->prefix, end);
	if (req && (json_object_set_new(req, "keys_only", json_true()) ||
		    json_object_set_new(req, "revision", cl_int_str(head)))) {
		json_decref(req);
		req = NULL;
	}
	if ((err = cl_call(c, "/v3/kv/range", req, &listing)))
		goto out;
	/* the values of what changed since this node's revision, at head */
	req = cl_range_req(c->prefix, end);
	if (req && (json_object_set_new(req, "revision", cl_int_str(head)) ||
		    json_object_set_new(req, "min_mod_revision", cl_int_str(have + 1)))) {
		json_decref(req);
		req = NULL;
	}
	if ((err = cl_call(c, "/v3/kv/range", req, &changed)))
		goto out;
	keys = calloc(json_array_size(json_object_get(listing, "kvs")) + 1, sizeof(*keys));
	if (!keys) {
		err = cl_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(json_object_get(listing, "kvs"), i, kv) {
		unsigned char *raw;
		const char *rel = cl_kv_key(c, kv, &raw);

		if (rel && !(keys[n++] = strdup(rel))) {
			free(raw);
			err = cl_fail(c, -ENOMEM, "out of memory");
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
	cl_store_fail(c, st, err);
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
			return cl_fail(c, -ESTALE, "etcd compacted past revision %lld",
				     (long long)compact);
		return cl_fail(c, -ECONNRESET, "etcd cancelled the watch: %s", why ? why : "no reason given");
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
		rel = cl_kv_key(c, kv, &raw);
		if (rel && !del && !(rec = cl_kv_value(kv)))
			err = db_errorf(st, -EPROTO, "etcd key '%s%s' holds no JSON record", c->prefix, rel);
		if (rel && !err)
			err = cl_apply_one(st, rel, rec, rev);
		json_decref(rec);
		free(raw);
		if ((err = cl_skip(c, st, err)))
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
	return cl_store_fail(c, st, err);
}

int cluster_follow(struct cluster *c, struct store *st, const atomic_int *stop,
		   void (*applied)(void *ctx, int64_t rev), void *ctx)
{
	struct follow f = { c, st, applied, ctx };
	char *end = etcd_prefix_end(c->prefix);
	json_t *req = end ? cl_range_req(c->prefix, end) : NULL;
	int64_t have;
	int err;

	free(end);
	if (!req)
		return cl_fail(c, -ENOMEM, "out of memory");
	if ((err = store_etcd_revision(st, &have))) {
		json_decref(req);
		return cl_store_fail(c, st, err);
	}
	if (json_object_set_new(req, "start_revision", cl_int_str(have + 1)) ||
	    json_object_set_new(req, "progress_notify", json_true())) {
		json_decref(req);
		return cl_fail(c, -ENOMEM, "out of memory");
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
	      cl_fail(c, -EPROTO, "not a watch response");
	json_decref(o);
	return err;
}

/*
 * After this node's own write committed at etcd revision rev: if the store
 * was at rev - 1, that write is all that happened, and applying it (the n
 * keys rels[i] with records recs[i]; NULL rels are skipped) brings the
 * store to rev; otherwise catch up with a sync.
 */
int cl_catch_up_n(struct cluster *c, struct store *st, int64_t rev, char **rels,
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
		if (rels[i] && (err = cl_apply_one(st, rels[i], recs[i], rev)))
			goto fail;
	if ((err = set_etcd_revision(st, rev)))
		goto fail;
	if ((err = store_batch_commit(st)))
		return cl_store_fail(c, st, err);
	return 0;
fail:
	store_batch_rollback(st);
	return cl_store_fail(c, st, err);
}

int cl_catch_up(struct cluster *c, struct store *st, int64_t rev, char *rel, json_t *rec)
{
	return cl_catch_up_n(c, st, rev, &rel, &rec, 1);
}
