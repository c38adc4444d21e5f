/*
 * rows.c - every write to the rows of namespaces, secrets, items and pairs,
 * with the change log entry each one makes.
 *
 * Both writers come here: the store's own (secret.c: rules, sealing,
 * quota; keys.c: re-sealing) and the cluster mirror (cluster/apply.c),
 * which writes what etcd holds.  A schema change to those tables is a
 * change to this file.  Every function runs inside the caller's
 * transaction and records its failure on st; none decides whether a write
 * is allowed: that is the caller's job, done before.
 *
 * Invariant: every change a reader may see takes a new revision
 * (db_next_revision()) and a change-log row at it, in the same
 * transaction, so a running secretfs sees every writer's changes the same
 * way.  Only etcd bookkeeping (rows_etcd_rev()) and a secret's tag, which
 * always comes with a logged change or a re-seal, take none.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int rows_ns_insert(struct store *st, const char *ns, int64_t created, int64_t etcd_rev,
		   int64_t *id)
{
	sqlite3_stmt *q;
	int64_t rev;
	int err;

	if ((err = db_prep(st, "INSERT INTO namespaces(name, created, etcd_rev) VALUES (?1, ?2, ?3)"
			   " RETURNING id", &q)))
		return err;
	sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, created ? created : db_now());
	sqlite3_bind_int64(q, 3, etcd_rev);
	if (sqlite3_step(q) != SQLITE_ROW) {
		err = db_fail(st, "cannot create a namespace");
		sqlite3_finalize(q);
		return err;
	}
	*id = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if ((err = db_next_revision(st, &rev)))
		return err;
	return db_log_change(st, rev, STORE_OP_NS_CREATE, ns, NULL, 0);
}

int rows_ns_delete(struct store *st, int64_t id, const char *ns)
{
	sqlite3_stmt *q;
	int64_t rev;
	int rc, err;

	if ((err = db_next_revision(st, &rev)) ||
	    (err = db_prep(st, "SELECT name, generation FROM secrets WHERE ns_id = ?1"
			   " ORDER BY name", &q)))
		return err;
	/* a delete for every secret of the namespace, before they go */
	sqlite3_bind_int64(q, 1, id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if ((err = db_log_change(st, rev, STORE_OP_DELETE, ns,
					 (const char *)sqlite3_column_text(q, 0),
					 sqlite3_column_int64(q, 1) + 1)))
			break;
	if (!err && rc != SQLITE_DONE)
		err = db_fail(st, "cannot list a namespace's secrets");
	sqlite3_finalize(q);
	if (err)
		return err;
	/* its Roles and RoleBindings go with it, as in Kubernetes */
	if ((err = db_prep(st, "DELETE FROM objects WHERE namespace = ?1 AND namespace != ''"
			   " RETURNING kind, name, generation", &q)))
		return err;
	sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if ((err = db_log_object(st, rev, STORE_OP_DELETE,
					 (const char *)sqlite3_column_text(q, 0), ns,
					 (const char *)sqlite3_column_text(q, 1),
					 sqlite3_column_int64(q, 2) + 1)))
			break;
	if (!err && rc != SQLITE_DONE)
		err = db_fail(st, "cannot delete a namespace's RBAC objects");
	sqlite3_finalize(q);
	if (err)
		return err;
	if ((err = db_exec_id(st, "DELETE FROM secrets WHERE ns_id = ?1", id)) ||
	    (err = db_exec_id(st, "DELETE FROM namespaces WHERE id = ?1", id)))
		return err;
	return db_log_change(st, rev, STORE_OP_NS_DELETE, ns, NULL, 0);
}

int rows_secret_write(struct store *st, const struct rows_secret *r, enum store_op op,
		      int64_t *id)
{
	sqlite3_stmt *q;
	int err;

	assert(r->revision > 0 && r->generation > 0);
	assert(op == STORE_OP_CREATE || op == STORE_OP_UPDATE);
	if (*id && ((err = rows_secret_clear(st, *id))))
		return err;
	if ((err = db_prep(st, *id ?
			   "UPDATE secrets SET uid = ?2, type = ?3, immutable = ?4, created = ?5,"
			   " updated = ?6, generation = ?7, revision = ?8, key_id = ?9, expires = ?10,"
			   " etcd_rev = coalesce(?11, etcd_rev) WHERE id = ?1 RETURNING id" :
			   "INSERT INTO secrets(ns_id, uid, type, immutable, created, updated,"
			   " generation, revision, key_id, expires, etcd_rev, name)"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, coalesce(?11, 0), ?12)"
			   " RETURNING id",
			   &q)))
		return err;
	sqlite3_bind_int64(q, 1, *id ? *id : r->ns_id);
	sqlite3_bind_text(q, 2, r->uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, r->type, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 4, r->immutable);
	sqlite3_bind_int64(q, 5, r->created);
	sqlite3_bind_int64(q, 6, r->updated);
	sqlite3_bind_int64(q, 7, r->generation);
	sqlite3_bind_int64(q, 8, r->revision);
	sqlite3_bind_int64(q, 9, r->key_id);
	if (r->expires)
		sqlite3_bind_int64(q, 10, r->expires);
	if (r->etcd_rev) /* a local write keeps what the row mirrors */
		sqlite3_bind_int64(q, 11, r->etcd_rev);
	if (!*id)
		sqlite3_bind_text(q, 12, r->name, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW) {
		err = db_fail(st, *id ? "cannot update a secret" : "cannot create a secret");
		sqlite3_finalize(q);
		return err;
	}
	*id = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return db_log_change(st, r->revision, op, r->ns, r->name, r->generation);
}

int rows_secret_clear(struct store *st, int64_t id)
{
	int err;

	if ((err = db_exec_id(st, "DELETE FROM items WHERE secret_id = ?1", id)) ||
	    (err = db_exec_id(st, "DELETE FROM pairs WHERE secret_id = ?1", id)))
		return err;
	return 0;
}

int rows_item_add(struct store *st, int64_t id, const char *key, uint64_t size,
		  const void *blob, size_t bloblen)
{
	sqlite3_stmt *q = db_stmt(st, Q_ITEM_ADD);
	int err = 0;

	if (!q)
		return -EIO;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, (int64_t)size);
	sqlite3_bind_blob(q, 4, blob, (int)bloblen, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		err = db_fail(st, "cannot write a secret's data");
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return err;
}

int rows_pair_add(struct store *st, int64_t id, int kind, const char *key, const char *value)
{
	sqlite3_stmt *q = db_stmt(st, Q_PAIR_ADD);
	int err = 0;

	assert(kind == PAIR_LABEL || kind == PAIR_ANNOTATION);
	/* the last line of defence of lastapplied.c: whatever the writer,
	 * that annotation never reaches the disk holding a value */
	if (kind == PAIR_ANNOTATION && !strcmp(key, STORE_LAST_APPLIED)) {
		int bad = last_applied_check(value);

		if (bad)
			return db_errorf(st, bad,
					 "refusing to store annotation %s: it would hold a secret's values",
					 STORE_LAST_APPLIED);
	}
	if (!q)
		return -EIO;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int(q, 2, kind);
	sqlite3_bind_text(q, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, value, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		err = db_fail(st, "cannot write a secret's metadata");
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return err;
}

int rows_secret_rekeyed(struct store *st, int64_t id, uint32_t key_id)
{
	sqlite3_stmt *q;
	int err;

	if ((err = db_prep(st, "UPDATE secrets SET key_id = ?2 WHERE id = ?1", &q)))
		return err;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, key_id);
	return db_step_done(st, q, "cannot re-seal a secret");
}

int rows_secret_tag(struct store *st, int64_t id, const void *tag, size_t len)
{
	sqlite3_stmt *q;
	int err;

	if ((err = db_prep(st, "UPDATE secrets SET meta_tag = ?2 WHERE id = ?1", &q)))
		return err;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_blob(q, 2, tag, (int)len, SQLITE_TRANSIENT);
	return db_step_done(st, q, "cannot write a secret's tag");
}

int rows_secret_delete(struct store *st, int64_t id, const char *ns, const char *name,
		       int64_t generation)
{
	int64_t rev;
	int err;

	if ((err = db_next_revision(st, &rev)) ||
	    (err = db_exec_id(st, "DELETE FROM secrets WHERE id = ?1", id)))
		return err;
	return db_log_change(st, rev, STORE_OP_DELETE, ns, name, generation + 1);
}

int rows_etcd_rev(struct store *st, bool ns, int64_t id, int64_t etcd_rev)
{
	sqlite3_stmt *q;
	int err;

	if ((err = db_prep(st, ns ? "UPDATE namespaces SET etcd_rev = ?2 WHERE id = ?1" :
			   "UPDATE secrets SET etcd_rev = ?2 WHERE id = ?1", &q)))
		return err;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, etcd_rev);
	return db_step_done(st, q, ns ? "cannot update a namespace" : "cannot update a secret");
}
