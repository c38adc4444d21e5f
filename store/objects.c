/*
 * objects.c - the RBAC objects (Role, ClusterRole, RoleBinding,
 * ClusterRoleBinding) kept in the store as JSON, for the API server's
 * authorizer (kube/rbac.h).
 *
 * They hold no value, but the whole of authorization rests on them, so each
 * row carries a tag as a secret's metadata does (meta.c):
 *
 *   BLAKE2b-256 keyed with subkey 2 of its data key (crypto_kdf, context
 *   "sfs-meta"; a secret's tag uses subkey 1) over a length-prefixed
 *   encoding of: "secretfs-object", the format, the store's UUID, the key
 *   id, kind, namespace, name, uid, created, generation and the body.
 *
 * Every read checks it; a row whose tag fails is -EBADMSG (the reader gets
 * EIO), and a list with one such row fails whole: a policy is not built
 * from what is left.  Not covered: revision and etcd_rev (each node's own
 * counters, as for secrets).  In cluster mode every node stores the
 * writer's tag as it is (the nodes share the UUID and data keys).
 *
 * The body is stored canonical (sorted keys, compact) without what the
 * store owns (metadata.uid, creationTimestamp, resourceVersion,
 * generation, managedFields, selfLink), which reads put back.  Every
 * change takes a store revision and a change-log row whose kind column
 * names the object's kind: store_changes() (the secrets' log, which the
 * driver follows) skips those rows, store_object_changes() visits only
 * them.  A namespace's deletion removes its Roles and RoleBindings
 * (rows_ns_delete()).
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "internal.h"

#define OBJECT_FORMAT 1
#define OBJ_COLS "id, kind, namespace, name, uid, body, created, generation, revision, key_id," \
		 " etcd_rev, tag"

static const char *const kinds[] = { "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding" };
static const char *const resources[] = { "roles", "clusterroles", "rolebindings",
					 "clusterrolebindings" };

static int kind_index(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return (int)i;
	return -1;
}

bool objects_kind_valid(const char *kind)
{
	return kind_index(kind) >= 0;
}

bool objects_kind_namespaced(const char *kind)
{
	int k = kind_index(kind);

	return k == 0 || k == 2;
}

const char *objects_resource(const char *kind)
{
	int k = kind_index(kind);

	return k < 0 ? "objects" : resources[k];
}

const char *objects_kind_of_path(const char *path, size_t *len)
{
	for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
		size_t l = strlen(resources[i]);

		if (strncmp(path, resources[i], l) == 0 && path[l] == '/') {
			*len = l + 1;
			return kinds[i];
		}
	}
	return NULL;
}

int objects_tag(struct store *st, const struct objects_row *r, unsigned char tag[META_TAG_BYTES])
{
	static const char what[] = "secretfs-object";
	const unsigned char *dk = keyring_key(st, r->key_id);
	unsigned char sub[crypto_generichash_KEYBYTES], format = OBJECT_FORMAT;
	crypto_generichash_state h;

	if (!dk)
		return db_errorf(st, -EBADMSG, "%s \"%s\" fails authentication: no data key by its key id",
				 objects_resource(r->kind), r->name);
	crypto_kdf_derive_from_key(sub, sizeof(sub), 2, "sfs-meta", dk);
	crypto_generichash_init(&h, sub, sizeof(sub), META_TAG_BYTES);
	sodium_memzero(sub, sizeof(sub));
	tag_hash_bytes(&h, what, sizeof(what));
	tag_hash_bytes(&h, &format, 1);
	tag_hash_bytes(&h, st->uuid, SEAL_UUID_BYTES);
	tag_hash_u64(&h, r->key_id);
	tag_hash_cstr(&h, r->kind);
	tag_hash_cstr(&h, r->ns);
	tag_hash_cstr(&h, r->name);
	tag_hash_cstr(&h, r->uid);
	tag_hash_u64(&h, (uint64_t)r->created);
	tag_hash_u64(&h, (uint64_t)r->generation);
	tag_hash_cstr(&h, r->body);
	crypto_generichash_final(&h, tag, META_TAG_BYTES);
	return 0;
}

/* Check r's tag: 0 or -EBADMSG with the message naming the object. */
static int objects_verify(struct store *st, const struct objects_row *r)
{
	unsigned char want[META_TAG_BYTES];
	int err;

	if ((err = objects_tag(st, r, want)))
		return err;
	if (r->taglen != META_TAG_BYTES || sodium_memcmp(want, r->tag, META_TAG_BYTES) != 0)
		return db_errorf(st, -EBADMSG,
				 "%s \"%s\"%s%s fails authentication: its row was changed outside the store",
				 objects_resource(r->kind), r->name, *r->ns ? " in namespace " : "",
				 r->ns);
	return 0;
}

int rows_object_write(struct store *st, const struct objects_row *r, enum store_op op)
{
	sqlite3_stmt *q;
	int err;

	assert(r->revision > 0 && r->generation > 0 && r->taglen == META_TAG_BYTES);
	assert(op == STORE_OP_CREATE || op == STORE_OP_UPDATE);
	if ((err = db_prep(st, "INSERT INTO objects(kind, namespace, name, uid, body, created,"
			   " generation, revision, key_id, etcd_rev, tag)"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, coalesce(?10, 0), ?11)"
			   " ON CONFLICT (kind, namespace, name) DO UPDATE SET uid = ?4, body = ?5,"
			   " created = ?6, generation = ?7, revision = ?8, key_id = ?9,"
			   " etcd_rev = coalesce(?10, etcd_rev), tag = ?11", &q)))
		return err;
	sqlite3_bind_text(q, 1, r->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, r->ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, r->uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, r->body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, r->created);
	sqlite3_bind_int64(q, 7, r->generation);
	sqlite3_bind_int64(q, 8, r->revision);
	sqlite3_bind_int64(q, 9, r->key_id);
	if (r->etcd_rev) /* a local write keeps what the row mirrors */
		sqlite3_bind_int64(q, 10, r->etcd_rev);
	sqlite3_bind_blob(q, 11, r->tag, (int)r->taglen, SQLITE_STATIC);
	if ((err = db_step_done(st, q, "cannot write an RBAC object")))
		return err;
	return db_log_object(st, r->revision, op, r->kind, r->ns, r->name, r->generation);
}

int rows_object_delete(struct store *st, const char *kind, const char *ns, const char *name,
		       int64_t generation)
{
	sqlite3_stmt *q;
	int64_t rev;
	int err;

	if ((err = db_next_revision(st, &rev)) ||
	    (err = db_prep(st, "DELETE FROM objects WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
			   &q)))
		return err;
	sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, name, -1, SQLITE_STATIC);
	if ((err = db_step_done(st, q, "cannot delete an RBAC object")))
		return err;
	return db_log_object(st, rev, STORE_OP_DELETE, kind, ns, name, generation + 1);
}

int rows_object_etcd_rev(struct store *st, const char *kind, const char *ns, const char *name,
			 int64_t etcd_rev)
{
	sqlite3_stmt *q;
	int err;

	if ((err = db_prep(st, "UPDATE objects SET etcd_rev = ?4 WHERE kind = ?1 AND namespace = ?2"
			   " AND name = ?3", &q)))
		return err;
	sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, etcd_rev);
	return db_step_done(st, q, "cannot update an RBAC object");
}

/* r from OBJ_COLS of q (pointing into q's row); returns the row id */
static int64_t row_of(sqlite3_stmt *q, struct objects_row *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = (const char *)sqlite3_column_text(q, 1);
	r->ns = (const char *)sqlite3_column_text(q, 2);
	r->name = (const char *)sqlite3_column_text(q, 3);
	r->uid = (const char *)sqlite3_column_text(q, 4);
	r->body = (const char *)sqlite3_column_text(q, 5);
	r->created = sqlite3_column_int64(q, 6);
	r->generation = sqlite3_column_int64(q, 7);
	r->revision = sqlite3_column_int64(q, 8);
	r->key_id = (uint32_t)sqlite3_column_int64(q, 9);
	r->etcd_rev = sqlite3_column_int64(q, 10);
	r->tag = sqlite3_column_blob(q, 11);
	r->taglen = (size_t)sqlite3_column_bytes(q, 11);
	if (!r->kind)
		r->kind = "";
	if (!r->ns)
		r->ns = "";
	if (!r->name)
		r->name = "";
	if (!r->uid)
		r->uid = "";
	if (!r->body)
		r->body = "";
	return sqlite3_column_int64(q, 0);
}

void store_object_free(struct store_object *o)
{
	if (!o)
		return;
	free(o->kind);
	free(o->namespace);
	free(o->name);
	free(o->body);
	free(o);
}

void store_object_list_free(struct store_object **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		store_object_free(v[i]);
	free(v);
}

/* The object a reader gets: r's body with what the store owns put back. */
static int object_out(struct store *st, const struct objects_row *r, struct store_object **out)
{
	struct store_object *o = calloc(1, sizeof(*o));
	json_t *body = json_loads(r->body, 0, NULL), *meta;
	char ts[32], rv[32];
	struct tm tm;
	time_t t = (time_t)r->created;
	int err = -ENOMEM;

	if (!o)
		goto out;
	if (!body || !(meta = json_object_get(body, "metadata")) || !json_is_object(meta)) {
		err = db_errorf(st, -EBADMSG, "%s \"%s\": its stored body is not an object",
				objects_resource(r->kind), r->name);
		goto out;
	}
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(rv, sizeof(rv), "%" PRId64, r->etcd_rev ? r->etcd_rev : r->revision);
	if (json_object_set_new(meta, "uid", json_string(r->uid)) ||
	    json_object_set_new(meta, "creationTimestamp", json_string(ts)) ||
	    json_object_set_new(meta, "resourceVersion", json_string(rv)))
		goto out;
	o->kind = strdup(r->kind);
	o->namespace = strdup(r->ns);
	o->name = strdup(r->name);
	o->body = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	if (!o->kind || !o->namespace || !o->name || !o->body)
		goto out;
	snprintf(o->uid, sizeof(o->uid), "%s", r->uid);
	o->created = r->created;
	o->generation = r->generation;
	o->revision = r->revision;
	o->etcd_rev = r->etcd_rev;
	*out = o;
	o = NULL;
	err = 0;
out:
	if (err == -ENOMEM)
		db_errorf(st, -ENOMEM, "out of memory");
	json_decref(body);
	store_object_free(o);
	return err;
}

/* Find kind/ns/name inside the caller's transaction: 0 and *q on its row
 * (finalize it), -ENOENT (message set), or another error. */
static int object_row(struct store *st, const char *kind, const char *ns, const char *name,
		      sqlite3_stmt **qp, struct objects_row *r, int64_t *id)
{
	sqlite3_stmt *q;
	int rc, err;

	if ((err = db_prep(st, "SELECT " OBJ_COLS " FROM objects WHERE kind = ?1 AND namespace = ?2"
			   " AND name = ?3", &q)))
		return err;
	sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		int64_t i = row_of(q, r);

		if (id)
			*id = i;
		*qp = q;
		return 0;
	}
	err = rc == SQLITE_DONE ?
	      db_errorf(st, -ENOENT, MSG_OBJECT_NOT_FOUND,
			objects_resource(kind), name) :
	      db_fail(st, "cannot read an RBAC object");
	sqlite3_finalize(q);
	return err;
}

static const char *ns_of(const char *kind, const char *ns)
{
	return objects_kind_namespaced(kind) && ns ? ns : "";
}

int store_object_get(struct store *st, const char *kind, const char *ns, const char *name,
		     struct store_object **out)
{
	struct objects_row r;
	sqlite3_stmt *q = NULL;
	int err;

	if (!objects_kind_valid(kind))
		return db_errorf(st, -EINVAL, "kind \"%s\" is not an RBAC kind", kind ? kind : "");
	if ((err = db_begin(st, false)))
		return err;
	if (!(err = object_row(st, kind, ns_of(kind, ns), name, &q, &r, NULL)) &&
	    !(err = objects_verify(st, &r)))
		err = object_out(st, &r, out);
	sqlite3_finalize(q);
	db_rollback(st);
	return err;
}

int store_object_list(struct store *st, const char *kind, const char *ns,
		      struct store_object ***out, size_t *n)
{
	struct store_object **v = NULL;
	size_t cnt = 0, cap = 0;
	sqlite3_stmt *q = NULL;
	int rc, err;

	if (kind && !objects_kind_valid(kind))
		return db_errorf(st, -EINVAL, "kind \"%s\" is not an RBAC kind", kind);
	if ((err = db_begin(st, false)))
		return err;
	if ((err = db_prep(st, "SELECT " OBJ_COLS " FROM objects WHERE (?1 IS NULL OR kind = ?1)"
			   " AND (?2 IS NULL OR namespace = ?2) ORDER BY kind, namespace, name", &q)))
		goto out;
	if (kind)
		sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
	if (ns)
		sqlite3_bind_text(q, 2, ns, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct objects_row r;

		row_of(q, &r);
		if ((err = objects_verify(st, &r)))
			goto out;
		if (cnt == cap) {
			size_t nc = cap ? 2 * cap : 16;
			struct store_object **x = realloc(v, nc * sizeof(*x));

			if (!x) {
				err = db_errorf(st, -ENOMEM, "out of memory");
				goto out;
			}
			v = x;
			cap = nc;
		}
		if ((err = object_out(st, &r, &v[cnt])))
			goto out;
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		err = db_fail(st, "cannot list RBAC objects");
		goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
out:
	sqlite3_finalize(q);
	db_rollback(st);
	store_object_list_free(v, cnt);
	return err;
}

/* What the store owns in metadata: never taken from a writer. */
static void strip_owned(json_t *meta)
{
	static const char *const owned[] = { "uid", "creationTimestamp", "resourceVersion",
					     "generation", "managedFields", "selfLink" };

	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		json_object_del(meta, owned[i]);
}

/* ValidateRBACName: a path segment */
static int check_rbac_name(struct store *st, const char *kind, const char *name)
{
	if (!name || !*name)
		return db_errorf(st, -EINVAL, "%s: metadata.name: Required value: name or generateName is required",
				 kind);
	if (strlen(name) > STORE_MAX_NAME)
		return db_errorf(st, -EINVAL, "%s \"%.64s...\": the name is longer than %d bytes",
				 kind, name, STORE_MAX_NAME);
	if (!strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/') || strchr(name, '%'))
		return db_errorf(st, -EINVAL, "%s \"%s\": metadata.name may not be '.' or '..' and may not contain '/' or '%%'",
				 kind, name);
	return 0;
}

static int parse_rv(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int objects_prepare(struct store *st, const char *json, struct objects_input *in)
{
	json_error_t je;
	json_t *obj, *meta;
	const char *kind, *ns, *name, *rv;
	char why[STORE_ERRMSG_MAX];
	int err;

	memset(in, 0, sizeof(*in));
	if (!json || strlen(json) > STORE_MAX_OBJECT)
		return db_errorf(st, -EINVAL, "an RBAC object is at most %d bytes", STORE_MAX_OBJECT);
	obj = json_loads(json, JSON_REJECT_DUPLICATES, &je);
	if (!obj || !json_is_object(obj)) {
		json_decref(obj);
		if (!obj)
			store_json_error(why, sizeof(why), je.text, je.line, je.column);
		return db_errorf(st, -EINVAL, "an RBAC object must be a JSON object%s%s",
				 obj ? "" : ": ", obj ? "" : why);
	}
	kind = json_string_value(json_object_get(obj, "kind"));
	meta = json_object_get(obj, "metadata");
	if (!objects_kind_valid(kind)) {
		err = db_errorf(st, -EINVAL, "kind \"%s\" is not Role, ClusterRole, RoleBinding or ClusterRoleBinding",
				kind ? kind : "");
		goto fail;
	}
	if (!json_is_object(meta)) {
		err = db_errorf(st, -EINVAL, "%s: metadata must be an object", kind);
		goto fail;
	}
	name = json_string_value(json_object_get(meta, "name"));
	ns = json_string_value(json_object_get(meta, "namespace"));
	if ((err = check_rbac_name(st, kind, name)))
		goto fail;
	if (objects_kind_namespaced(kind)) {
		if (!ns || !*ns) {
			err = db_errorf(st, -EINVAL, "%s \"%s\": metadata.namespace: Required value", kind, name);
			goto fail;
		}
		if (store_check_namespace(ns, why)) {
			err = db_errorf(st, -EINVAL, "%s \"%s\": namespace \"%s\": %s", kind, name, ns, why);
			goto fail;
		}
	} else if (ns && *ns) {
		err = db_errorf(st, -EINVAL, "%s \"%s\": metadata.namespace: Forbidden: not allowed on this type",
				kind, name);
		goto fail;
	} else {
		json_object_del(meta, "namespace");
		ns = "";
	}
	rv = json_string_value(json_object_get(meta, "resourceVersion"));
	if (rv && *rv && parse_rv(rv, &in->expect_rev)) {
		err = db_errorf(st, -EINVAL, "%s \"%s\": metadata.resourceVersion \"%.32s\" is not a version",
				kind, name, rv);
		goto fail;
	}
	if (!json_object_get(obj, "apiVersion") &&
	    json_object_set_new(obj, "apiVersion", json_string("rbac.authorization.k8s.io/v1")))
		goto oom;
	in->kind = strdup(kind);
	in->ns = strdup(ns);
	in->name = strdup(name);
	strip_owned(meta);
	in->body = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	if (!in->kind || !in->ns || !in->name || !in->body)
		goto oom;
	json_decref(obj);
	return 0;
oom:
	err = db_errorf(st, -ENOMEM, "out of memory");
fail:
	json_decref(obj);
	objects_input_release(in);
	return err;
}

void objects_input_release(struct objects_input *in)
{
	free(in->kind);
	free(in->ns);
	free(in->name);
	free(in->body);
	memset(in, 0, sizeof(*in));
}

/* The local write, inside the caller's transaction. */
static int object_put_locked(struct store *st, const struct objects_input *in,
			     enum store_put_mode mode, enum store_put_result *result)
{
	struct objects_row old, r;
	sqlite3_stmt *q = NULL;
	unsigned char tag[META_TAG_BYTES];
	char uid[37];
	int64_t nsid;
	bool exists;
	int err;

	if (objects_kind_namespaced(in->kind) && (err = db_ns_id(st, in->ns, &nsid)))
		return err;
	err = object_row(st, in->kind, in->ns, in->name, &q, &old, NULL);
	if (err && err != -ENOENT)
		return err;
	exists = err == 0;
	if (exists && (err = objects_verify(st, &old)))
		goto out;
	err = 0;
	if (exists && mode == STORE_PUT_CREATE) {
		err = db_errorf(st, -EEXIST, "%s.rbac.authorization.k8s.io \"%s\" already exists",
				objects_resource(in->kind), in->name);
		goto out;
	}
	if (!exists && mode == STORE_PUT_REPLACE) {
		err = db_errorf(st, -ENOENT, MSG_OBJECT_NOT_FOUND,
				objects_resource(in->kind), in->name);
		goto out;
	}
	if (in->expect_rev && !exists) {
		err = db_errorf(st, -EINVAL, "%s \"%s\": resourceVersion should not be set on objects to be created",
				objects_resource(in->kind), in->name);
		goto out;
	}
	if (in->expect_rev && in->expect_rev != (old.etcd_rev ? old.etcd_rev : old.revision)) {
		err = db_errorf(st, -EAGAIN,
				MSG_OBJECT_CONFLICT,
				objects_resource(in->kind), in->name);
		goto out;
	}
	if (exists && strcmp(old.body, in->body) == 0) {
		if (result)
			*result = STORE_UNCHANGED;
		goto out;
	}
	memset(&r, 0, sizeof(r));
	r.kind = in->kind;
	r.ns = in->ns;
	r.name = in->name;
	r.body = in->body;
	if (exists) {
		r.uid = old.uid;
		r.created = old.created;
		r.generation = old.generation + 1;
	} else {
		uid_new(uid);
		r.uid = uid;
		r.created = db_now();
		r.generation = 1;
	}
	r.key_id = st->active_key;
	if ((err = objects_tag(st, &r, tag)) || (err = db_next_revision(st, &r.revision)))
		goto out;
	r.tag = tag;
	r.taglen = sizeof(tag);
	err = rows_object_write(st, &r, exists ? STORE_OP_UPDATE : STORE_OP_CREATE);
	if (!err && result)
		*result = exists ? STORE_UPDATED : STORE_CREATED;
out:
	sqlite3_finalize(q);
	return err;
}

int objects_put_prepared(struct store *st, const struct objects_input *in,
			 enum store_put_mode mode, enum store_put_result *result)
{
	int err;

	if ((err = db_begin(st, true)))
		return err;
	if ((err = object_put_locked(st, in, mode, result)) || (err = db_commit(st))) {
		db_rollback(st);
		return err;
	}
	return 0;
}

int store_object_put(struct store *st, const char *json, enum store_put_mode mode,
		     enum store_put_result *result, struct store_object **out)
{
	struct objects_input in;
	enum store_put_result res = STORE_UNCHANGED;
	int err;

	if ((err = objects_prepare(st, json, &in)))
		return err;
	err = objects_put_prepared(st, &in, mode, &res);
	if (!err && out)
		err = store_object_get(st, in.kind, in.ns, in.name, out);
	if (!err && result)
		*result = res;
	objects_input_release(&in);
	return err;
}

int store_object_delete(struct store *st, const char *kind, const char *ns, const char *name)
{
	struct objects_row r;
	sqlite3_stmt *q = NULL;
	int err;

	if (!objects_kind_valid(kind))
		return db_errorf(st, -EINVAL, "kind \"%s\" is not an RBAC kind", kind ? kind : "");
	if ((err = db_begin(st, true)))
		return err;
	if (!(err = object_row(st, kind, ns_of(kind, ns), name, &q, &r, NULL)))
		err = rows_object_delete(st, kind, ns_of(kind, ns), name, r.generation);
	sqlite3_finalize(q);
	if (err || (err = db_commit(st))) {
		db_rollback(st);
		return err;
	}
	return 0;
}

int store_object_changes(struct store *st, int64_t since, store_object_change_fn fn, void *ctx)
{
	sqlite3_stmt *q;
	int rc, ret = 0;

	if (db_prep(st, "SELECT revision, op, kind, namespace, name, generation, time FROM changes"
		    " WHERE revision > ?1 AND kind IS NOT NULL ORDER BY revision", &q))
		return -EIO;
	sqlite3_bind_int64(q, 1, since);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_object_change c = {
			.revision = sqlite3_column_int64(q, 0),
			.op = (enum store_op)sqlite3_column_int(q, 1),
			.kind = (const char *)sqlite3_column_text(q, 2),
			.namespace = (const char *)sqlite3_column_text(q, 3),
			.name = (const char *)sqlite3_column_text(q, 4),
			.generation = sqlite3_column_int64(q, 5),
			.time = sqlite3_column_int64(q, 6),
		};

		if ((ret = fn(ctx, &c)))
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_fail(st, "cannot read the change log");
	sqlite3_finalize(q);
	return ret;
}
