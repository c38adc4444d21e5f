/*
 * objects.c - the RBAC objects (store/objects.c) through etcd: their
 * records, writes and how a node applies them.
 *
 * An object is one record under the prefix, at
 *   rbac/roles/NS/NAME, rbac/rolebindings/NS/NAME,
 *   rbac/clusterroles/NAME, rbac/clusterrolebindings/NAME
 * holding {format, kind, namespace, name, uid, created, generation, key_id,
 * body, tag}: the body as the store keeps it, and the writer's tag, which
 * every node stores as it is (they share the UUID and the data keys), so an
 * object changed in etcd fails its check when read on any node, as a
 * secret's metadata does.  Writes go as secrets' do (write.c): the store
 * checks and tags the object in a transaction it rolls back, the record
 * goes to etcd in a transaction comparing the object's etcd revision (and
 * that its namespace exists), and the node catches up to its own write; the
 * mirror applies every other node's on every node, so a binding written
 * through one node's API server authorizes on all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror.h"

/* "rbac/<resource>/[NS/]NAME", malloc'd */
static char *object_rel(const char *kind, const char *ns, const char *name)
{
	char *rel;
	int n = objects_kind_namespaced(kind) ?
		asprintf(&rel, "rbac/%s/%s/%s", objects_resource(kind), ns, name) :
		asprintf(&rel, "rbac/%s/%s", objects_resource(kind), name);

	return n < 0 ? NULL : rel;
}

/* The record of an object as this node's store has it; *etcd_rev the etcd
 * revision it mirrors (0: not yet in etcd). */
static json_t *object_record(struct store *st, const char *kind, const char *ns, const char *name,
			     int64_t *etcd_rev)
{
	sqlite3_stmt *q;
	json_t *rec = NULL;
	char *tag = NULL;

	if (db_prep(st, "SELECT uid, created, generation, key_id, body, tag, etcd_rev FROM objects"
		    " WHERE kind = ?1 AND namespace = ?2 AND name = ?3", &q))
		return NULL;
	sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, name, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW) {
		db_errorf(st, -ENOENT, MSG_OBJECT_NOT_FOUND,
			  objects_resource(kind), name);
		goto out;
	}
	tag = etcd_b64(sqlite3_column_blob(q, 5), (size_t)sqlite3_column_bytes(q, 5));
	*etcd_rev = sqlite3_column_int64(q, 6);
	if (tag)
		rec = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s}",
				"format", RECORD_FORMAT, "kind", kind, "namespace", ns, "name", name,
				"uid", (const char *)sqlite3_column_text(q, 0),
				"created", (json_int_t)sqlite3_column_int64(q, 1),
				"generation", (json_int_t)sqlite3_column_int64(q, 2),
				"key_id", (json_int_t)sqlite3_column_int64(q, 3),
				"body", (const char *)sqlite3_column_text(q, 4), "tag", tag);
	if (!rec)
		db_errorf(st, -ENOMEM, "out of memory");
out:
	free(tag);
	sqlite3_finalize(q);
	return rec;
}

/* Apply rel (under "rbac/") as etcd has it: rec, or deleted (NULL). */
int cl_object_apply(struct store *st, const char *rel, json_t *rec, int64_t etcd_rev)
{
	const char *kind = NULL, *rest = rel + 5, *slash;
	char ns[STORE_MAX_NAMESPACE + 2] = "", name[STORE_MAX_NAME + 2];
	const char *uid, *body, *tag;
	unsigned char *raw = NULL;
	struct objects_row r;
	sqlite3_stmt *q = NULL;
	size_t n;
	int64_t gen, rev;
	bool exists, same;
	int rc, err;

	kind = objects_kind_of_path(rest, &n);
	if (!kind)
		return rec ? db_errorf(st, -EPROTO, "etcd key '%s' is not an RBAC object's", rel) : 0;
	rest += n;
	if (objects_kind_namespaced(kind)) {
		slash = strchr(rest, '/');
		char why[STORE_ERRMSG_MAX];

		if (!slash || (size_t)(slash - rest) > STORE_MAX_NAMESPACE)
			return rec ? db_errorf(st, -EPROTO, "etcd key '%s' names no namespace", rel) : 0;
		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - rest), rest);
		if (store_check_namespace(ns, why))
			return rec ? db_errorf(st, -EPROTO, "etcd key '%s': %s", rel, why) : 0;
		rest = slash + 1;
	}
	if (!*rest || strlen(rest) > STORE_MAX_NAME || strchr(rest, '/') || strchr(rest, '%') ||
	    !strcmp(rest, ".") || !strcmp(rest, ".."))
		return rec ? db_errorf(st, -EPROTO, "etcd key '%s' names no object", rel) : 0;
	snprintf(name, sizeof(name), "%s", rest);

	if (db_prep(st, "SELECT uid, generation, body, tag FROM objects WHERE kind = ?1"
		    " AND namespace = ?2 AND name = ?3", &q))
		return -EIO;
	sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	exists = rc == SQLITE_ROW;
	if (!exists && rc != SQLITE_DONE) {
		err = db_fail(st, "cannot read an RBAC object");
		goto out;
	}
	if (!rec) {
		err = exists ? rows_object_delete(st, kind, ns, name, sqlite3_column_int64(q, 1)) : 0;
		goto out;
	}
	uid = json_string_value(json_object_get(rec, "uid"));
	body = json_string_value(json_object_get(rec, "body"));
	tag = json_string_value(json_object_get(rec, "tag"));
	gen = json_integer_value(json_object_get(rec, "generation"));
	if (json_integer_value(json_object_get(rec, "format")) != RECORD_FORMAT || !uid ||
	    strlen(uid) != 36 || !body || !tag || gen < 1 ||
	    !json_is_integer(json_object_get(rec, "key_id")) ||
	    !json_string_value(json_object_get(rec, "kind")) ||
	    strcmp(json_string_value(json_object_get(rec, "kind")), kind) ||
	    etcd_unb64(tag, &raw, &n) || n != META_TAG_BYTES) {
		err = db_errorf(st, -EPROTO, "etcd record '%s' is not an RBAC object's record", rel);
		goto out;
	}
	if (*ns) {
		int64_t nsid;

		if (db_ns_id(st, ns, &nsid)) {
			err = db_errorf(st, -EPROTO, "etcd record '%s': namespace \"%s\" not found", rel, ns);
			goto out;
		}
	}
	same = exists && !strcmp((const char *)sqlite3_column_text(q, 0), uid) &&
	       sqlite3_column_int64(q, 1) == gen &&
	       !strcmp((const char *)sqlite3_column_text(q, 2), body) &&
	       sqlite3_column_bytes(q, 3) == META_TAG_BYTES &&
	       !memcmp(sqlite3_column_blob(q, 3), raw, META_TAG_BYTES);
	if (same) { /* this node's own write: only the etcd revision is new */
		err = rows_object_etcd_rev(st, kind, ns, name, etcd_rev);
		goto out;
	}
	if ((err = db_next_revision(st, &rev)))
		goto out;
	r = (struct objects_row){
		.kind = kind, .ns = ns, .name = name, .uid = uid, .body = body,
		.created = json_integer_value(json_object_get(rec, "created")),
		.generation = gen, .revision = rev, .etcd_rev = etcd_rev,
		.key_id = (uint32_t)json_integer_value(json_object_get(rec, "key_id")),
		.tag = raw, .taglen = n,
	};
	err = rows_object_write(st, &r, exists ? STORE_OP_UPDATE : STORE_OP_CREATE);
out:
	free(raw);
	sqlite3_finalize(q);
	return err;
}

int cluster_object_put(struct cluster *c, struct store *st, const char *json,
		       enum store_put_mode mode, enum store_put_result *result)
{
	struct objects_input in;
	enum store_put_result res = STORE_UNCHANGED;
	json_t *rec = NULL, *cmp = NULL, *ops = NULL;
	char *rel = NULL, *key = NULL, *nskey = NULL;
	int64_t prev = 0, rev;
	bool ok;
	int err;

	if ((err = objects_prepare(st, json, &in)))
		return cl_store_fail(c, st, err);
	if ((err = cluster_sync(c, st, NULL)))
		goto out;
	/* the store checks and tags it, in a transaction it then forgets */
	if ((err = store_batch_begin(st)))
		goto store_fail;
	err = objects_put_prepared(st, &in, mode, &res);
	if (!err && res != STORE_UNCHANGED)
		rec = object_record(st, in.kind, in.ns, in.name, &prev);
	if (!err && res != STORE_UNCHANGED && !rec)
		err = -ENOMEM;
	store_batch_rollback(st);
	if (err)
		goto store_fail;
	if (res == STORE_UNCHANGED)
		goto done;
	rel = object_rel(in.kind, in.ns, in.name);
	key = rel ? cl_key_of(c, rel, NULL, NULL) : NULL;
	nskey = *in.ns ? cl_key_of(c, "namespaces/", in.ns, NULL) : NULL;
	cmp = json_array();
	ops = json_array();
	if (!key || (*in.ns && !nskey) || !cmp || !ops ||
	    json_array_append_new(cmp, prev ? cl_cmp_mod(key, prev) : cl_cmp_exists(key, false)) ||
	    (nskey && json_array_append_new(cmp, cl_cmp_exists(nskey, true))) ||
	    json_array_append_new(ops, cl_put_op(key, rec))) {
		err = cl_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	err = cl_txn(c, cmp, ops, &ok, &rev);
	cmp = ops = NULL; /* the transaction took them */
	if (err)
		goto out;
	if (!ok) {
		err = cl_fail(c, -EAGAIN,
			      MSG_OBJECT_CONFLICT,
			      objects_resource(in.kind), in.name);
		goto out;
	}
	if ((err = cl_catch_up(c, st, rev, rel, rec)))
		goto out;
done:
	if (result)
		*result = res;
	goto out;
store_fail:
	cl_store_fail(c, st, err);
out:
	json_decref(rec);
	json_decref(cmp);
	json_decref(ops);
	free(rel);
	free(key);
	free(nskey);
	objects_input_release(&in);
	return err;
}

int cluster_object_delete(struct cluster *c, struct store *st, const char *kind, const char *ns,
			  const char *name)
{
	char *rel = NULL, *key = NULL;
	int64_t rev;
	bool ok;
	int err;

	if (!objects_kind_valid(kind))
		return cl_fail(c, -EINVAL, "kind \"%s\" is not an RBAC kind", kind ? kind : "");
	if (!objects_kind_namespaced(kind))
		ns = "";
	if (!ns || !(rel = object_rel(kind, ns, name)) || !(key = cl_key_of(c, rel, NULL, NULL))) {
		err = cl_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	if ((err = cluster_sync(c, st, NULL)))
		goto out;
	if ((err = cl_txn(c, json_pack("[o]", cl_cmp_exists(key, true)),
			  json_pack("[{s:o}]", "request_delete_range", cl_range_req(key, NULL)),
			  &ok, &rev)))
		goto out;
	if (!ok) {
		err = cl_fail(c, -ENOENT, MSG_OBJECT_NOT_FOUND,
			      objects_resource(kind), name);
		goto out;
	}
	err = cl_catch_up(c, st, rev, rel, NULL);
out:
	free(rel);
	free(key);
	return err;
}
