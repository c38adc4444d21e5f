/*
 * write.c - writes through etcd.  The store validates and seals each
 * object inside a transaction it then rolls back (the same write path as
 * a local write); the record goes to etcd in a transaction that compares
 * the object's etcd revision with the one this node had seen, so two
 * writers never silently overwrite each other; the node then catches up
 * to its own write (apply.c).
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror.h"

/* A compare of key's create_revision: absent (result "EQUAL" to 0) or
 * present ("GREATER"). */
json_t *cl_cmp_exists(const char *key, bool exists)
{
	return json_pack("{s:o, s:s, s:s, s:o}", "key", cl_b64_str(key), "target", "CREATE",
			 "result", exists ? "GREATER" : "EQUAL", "create_revision", cl_int_str(0));
}

/* A compare of key's mod_revision: still rev, as this node last saw it. */
json_t *cl_cmp_mod(const char *key, int64_t rev)
{
	return json_pack("{s:o, s:s, s:s, s:o}", "key", cl_b64_str(key), "target", "MOD",
			 "result", "EQUAL", "mod_revision", cl_int_str(rev));
}

/*
 * Did a transaction whose compares failed land all the same?  A request
 * that times out (a loaded member, a slow disk) is sent again to the next
 * endpoint, and the first may have committed: its retry then finds the
 * keys already moved and fails its compares, and the writer would report a
 * conflict with itself.  When every operation is a put and every key holds
 * exactly the bytes we put (a secret's record carries fresh nonces, so no
 * other writer produces them), the transaction was ours: *rev is its
 * revision.  Deletes cannot be told apart this way and are left as they are.
 */
static bool landed(struct cluster *c, json_t *success, int64_t *rev)
{
	size_t i;
	json_t *op;
	int64_t at = 0;

	json_array_foreach(success, i, op) {
		json_t *put = json_object_get(op, "request_put"), *resp = NULL, *kv;
		const char *key = json_string_value(json_object_get(put, "key"));
		const char *want = json_string_value(json_object_get(put, "value"));
		const char *have;
		bool same;

		if (!key || !want)
			return false;
		if (cl_call(c, "/v3/kv/range", json_pack("{s:s}", "key", key), &resp))
			return false;
		kv = json_array_get(json_object_get(resp, "kvs"), 0);
		have = json_string_value(json_object_get(kv, "value"));
		same = have && strcmp(have, want) == 0 && (!at || etcd_int(kv, "mod_revision") == at);
		if (same)
			at = etcd_int(kv, "mod_revision");
		json_decref(resp);
		if (!same)
			return false;
	}
	*rev = at;
	return at != 0;
}

/* Run a transaction; *ok: whether its compares held, *rev: its revision. */
int cl_txn(struct cluster *c, json_t *compare, json_t *success, bool *ok, int64_t *rev)
{
	json_t *resp = NULL;
	int err;

	if (!compare || !success) {
		json_decref(compare);
		json_decref(success);
		return cl_fail(c, -ENOMEM, "out of memory");
	}
	json_incref(success); /* kept for landed() */
	err = cl_call(c, "/v3/kv/txn", json_pack("{s:o, s:o}", "compare", compare,
					       "success", success), &resp);
	if (!err) {
		*ok = json_is_true(json_object_get(resp, "succeeded"));
		*rev = etcd_int(json_object_get(resp, "header"), "revision");
		if (!*ok && landed(c, success, rev))
			*ok = true;
	}
	json_decref(resp);
	json_decref(success);
	return err;
}

json_t *cl_put_op(const char *key, json_t *rec)
{
	char *text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	char *b = text ? etcd_b64(text, strlen(text)) : NULL;
	json_t *op = b ? json_pack("{s:{s:o, s:s}}", "request_put", "key", cl_b64_str(key),
				   "value", b) : NULL;

	if (text)
		etcd_json_free(text);
	free(b);
	return op;
}

static json_t *delete_op(const char *key, const char *end)
{
	json_t *r = cl_range_req(key, end);

	return r ? json_pack("{s:o}", "request_delete_range", r) : NULL;
}

/* The etcd mod revision of key now (0: absent). */
int cl_mod_revision_now(struct cluster *c, const char *key, int64_t *rev)
{
	json_t *resp = NULL;
	int err;

	if ((err = cl_call(c, "/v3/kv/range", cl_range_req(key, NULL), &resp)))
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
		nkey = cl_key_of(c, "namespaces/", v[i]->namespace, NULL);
		skey = cl_secret_key(c, v[i]->namespace, v[i]->name);
		err = !nkey || !skey ? cl_fail(c, -ENOMEM, "out of memory") :
		      cl_mod_revision_now(c, nkey, &ns);
		if (!err)
			err = cl_mod_revision_now(c, skey, &now);
		free(nkey);
		free(skey);
		if (err)
			return err;
		if (!ns)
			return cl_fail(c, -ENOENT, "namespaces \"%s\" not found", v[i]->namespace);
		if (now == prev[i])
			continue;
		if (now && mode == STORE_PUT_CREATE && !prev[i])
			return cl_fail(c, -EEXIST, "secrets \"%s\" already exists", v[i]->name);
		if (!now && mode == STORE_PUT_REPLACE)
			return cl_fail(c, -ENOENT, "secrets \"%s\" not found", v[i]->name);
		return cl_fail(c, -EAGAIN,
			     MSG_CONFLICT,
			     v[i]->name);
	}
	return cl_fail(c, -EAGAIN, "etcd changed while these secrets were written; please try again");
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
		err = cl_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	if (n > CLUSTER_MAX_BATCH) {
		err = cl_fail(c, -E2BIG, "at most %d secrets in one etcd transaction", CLUSTER_MAX_BATCH);
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
			err = cl_fail(c, -EINVAL,
				    MSG_VERSION_ON_CREATE,
				    v[i]->name, v[i]->namespace);
			goto out;
		}
		if (had != v[i]->etcd_rev) {
			err = cl_fail(c, -EAGAIN,
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
		if (!(recs[i] = cl_secret_record(st, v[i]->namespace, v[i]->name, &prev[i])) ||
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
		skey = cl_secret_key(c, v[i]->namespace, v[i]->name);
		nkey = cl_key_of(c, "namespaces/", v[i]->namespace, NULL);
		if (!skey || !nkey ||
		    json_array_append_new(cmp, prev[i] ? cl_cmp_mod(skey, prev[i]) :
						   cl_cmp_exists(skey, false)) ||
		    (!ns_seen && json_array_append_new(cmp, cl_cmp_exists(nkey, true))) ||
		    json_array_append_new(ops, cl_put_op(skey, recs[i])))
			err = cl_fail(c, -ENOMEM, "out of memory");
		free(skey);
		free(nkey);
		if (err)
			goto out;
		changed++;
	}
	if (!changed)
		goto out;
	err = cl_txn(c, cmp, ops, &ok, &rev);
	cmp = ops = NULL; /* txn took them */
	if (err)
		goto out;
	if (!ok) {
		err = why_refused(c, v, n, prev, recs, mode);
		goto out;
	}
	err = cl_catch_up_n(c, st, rev, rels, recs, n);
	goto out;
store_fail:
	cl_store_fail(c, st, err);
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
 * change here (rel and rec, as cl_apply_one() takes them).  0, 1 if key was
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
	if ((err = cl_txn(c, json_pack("[o]", cl_cmp_exists(key, exists)), ops, &ok, &rev)))
		return err;
	return ok ? cl_catch_up(c, st, rev, rel, rec) : 1;
}

int cluster_secret_delete(struct cluster *c, struct store *st, const char *ns,
			  const char *name)
{
	char *skey = cl_secret_key(c, ns, name), *rel = NULL;
	int err;

	if (!skey || asprintf(&rel, "secrets/%s/%s", ns, name) < 0) {
		free(skey);
		return cl_fail(c, -ENOMEM, "out of memory");
	}
	err = write_if(c, st, skey, true, json_pack("[o]", delete_op(skey, NULL)), rel, NULL);
	if (err == 1)
		err = cl_fail(c, -ENOENT, "secrets \"%s\" not found", name);
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
		return cl_fail(c, -EINVAL, "namespace \"%s\": %s", ns, why);
	nkey = cl_key_of(c, "namespaces/", ns, NULL);
	rec = json_pack("{s:i, s:I}", "format", RECORD_FORMAT, "created", (json_int_t)db_now());
	if (!nkey || !rec || asprintf(&rel, "namespaces/%s", ns) < 0) {
		free(nkey);
		json_decref(rec);
		return cl_fail(c, -ENOMEM, "out of memory");
	}
	err = write_if(c, st, nkey, false, json_pack("[o]", cl_put_op(nkey, rec)), rel, rec);
	if (err == 1)
		err = cl_fail(c, -EEXIST, "namespaces \"%s\" already exists", ns);
	json_decref(rec);
	free(nkey);
	free(rel);
	return err;
}

int cluster_ns_delete(struct cluster *c, struct store *st, const char *ns)
{
	char *nkey, *sprefix, *send, *rprefix, *rend, *bprefix, *bend, *rel = NULL;
	int err;

	if (strcmp(ns, STORE_DEFAULT_NAMESPACE) == 0)
		return cl_fail(c, -EINVAL, "namespace \"%s\" cannot be deleted", ns);
	nkey = cl_key_of(c, "namespaces/", ns, NULL);
	sprefix = cl_key_of(c, "secrets/", ns, "/");
	send = sprefix ? etcd_prefix_end(sprefix) : NULL;
	rprefix = cl_key_of(c, "rbac/roles/", ns, "/");
	rend = rprefix ? etcd_prefix_end(rprefix) : NULL;
	bprefix = cl_key_of(c, "rbac/rolebindings/", ns, "/");
	bend = bprefix ? etcd_prefix_end(bprefix) : NULL;
	if (!nkey || !send || !rend || !bend || asprintf(&rel, "namespaces/%s", ns) < 0) {
		rel = NULL;
		err = cl_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	/* the namespace, every secret, Role and RoleBinding in it, at one
	 * revision */
	err = write_if(c, st, nkey, true,
		       json_pack("[o, o, o, o]", delete_op(nkey, NULL), delete_op(sprefix, send),
				 delete_op(rprefix, rend), delete_op(bprefix, bend)), rel, NULL);
	if (err == 1)
		err = cl_fail(c, -ENOENT, "namespaces \"%s\" not found", ns);
out:
	free(nkey);
	free(sprefix);
	free(send);
	free(rprefix);
	free(rend);
	free(bprefix);
	free(bend);
	free(rel);
	return err;
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
	if (!(r->recs[r->n] = cl_secret_record(r->st, ns, name, &prev)) ||
	    asprintf(&r->rels[r->n], "secrets/%s/%s", ns, name) < 0) {
		r->rels[r->n] = NULL;
		r->n++;
		return db_errorf(r->st, -ENOMEM, "out of memory");
	}
	skey = cl_secret_key(r->c, ns, name);
	if (!skey ||
	    json_array_append_new(r->cmp, cl_cmp_mod(skey, prev)) ||
	    json_array_append_new(r->ops, cl_put_op(skey, r->recs[r->n])))
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
		err = cl_fail(c, -ENOMEM, "out of memory");
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
		err = cl_txn(c, r.cmp, r.ops, &ok, &rev);
		r.cmp = r.ops = NULL;
		if (err)
			goto out;
		if (!ok) { /* written meanwhile: those are sealed afresh anyway */
			err = cl_fail(c, -EAGAIN, "secrets changed in etcd meanwhile: try again");
			goto out;
		}
		if ((err = cl_catch_up_n(c, st, rev, r.rels, r.recs, n)))
			goto out;
	}
	*done = n;
	if (left && (err = reseal_left(st, left)))
		goto store_fail;
	goto out;
store_fail:
	cl_store_fail(c, st, err);
out:
	for (size_t i = 0; i < r.n; i++) {
		json_decref(r.recs[i]);
		free(r.rels[i]);
	}
	json_decref(r.cmp);
	json_decref(r.ops);
	return err;
}
