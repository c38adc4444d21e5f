/*
 * keyring.c - the key ring through etcd (rotate, retire: every node takes
 * the new ring as it comes) and joining a cluster (founding it, or
 * adopting its UUID and ring).
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror.h"

/*
 * Change the key ring as op does in a store alone (it checks, and it
 * chooses), in a transaction then rolled back; then in etcd, if nobody
 * changed it meanwhile; then here.
 */
static int keyring_change(struct cluster *c, struct store *st,
			  int (*op)(struct store *st, void *arg), void *arg)
{
	char *kkey = cl_key_of(c, "keyring", NULL, NULL), rel[] = "keyring";
	json_t *rec = NULL;
	int64_t m = 0, rev;
	bool ok;
	int err;

	if (!kkey)
		return cl_fail(c, -ENOMEM, "out of memory");
	if ((err = cluster_sync(c, st, NULL)) || (err = cl_mod_revision_now(c, kkey, &m)))
		goto out;
	if ((err = store_batch_begin(st))) {
		cl_store_fail(c, st, err);
		goto out;
	}
	err = op(st, arg);
	if (!err && !(rec = cl_keyring_record(st)))
		err = db_errorf(st, -ENOMEM, "out of memory");
	store_batch_rollback(st);
	keyring_load(st); /* the ring as it is, not as the forgotten change had it */
	if (err) {
		cl_store_fail(c, st, err);
		goto out;
	}
	if ((err = cl_txn(c, json_pack("[o]", cl_cmp_mod(kkey, m)), json_pack("[o]", cl_put_op(kkey, rec)),
		       &ok, &rev)))
		goto out;
	err = ok ? cl_catch_up(c, st, rev, rel, rec) :
	      cl_fail(c, -EAGAIN, "the key ring changed in etcd meanwhile: try again");
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
		return cl_fail(c, -EINVAL, "the cluster's key ring record is malformed");
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
	if ((err = cl_keyring_apply(st, rec))) {
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
	return cl_store_fail(c, st, err);
}

int cluster_join(struct cluster *c, struct store *st, bool *founded)
{
	char *kkey = cl_key_of(c, "keyring", NULL, NULL);
	char *dkey = cl_key_of(c, "namespaces/", STORE_DEFAULT_NAMESPACE, NULL);
	json_t *resp = NULL, *rec = NULL, *kv;
	int64_t rev;
	bool ok = false;
	int err;

	*founded = false;
	if (!kkey || !dkey) {
		err = cl_fail(c, -ENOMEM, "out of memory");
		goto out;
	}
	if ((err = cl_call(c, "/v3/kv/range", cl_range_req(kkey, NULL), &resp)))
		goto out;
	kv = json_array_get(json_object_get(resp, "kvs"), 0);
	if (!kv) { /* the first node: this store's identity becomes the cluster's */
		json_t *ns = json_pack("{s:i, s:I}", "format", RECORD_FORMAT,
				       "created", (json_int_t)db_now());

		rec = cl_keyring_record(st);
		if (!rec || !ns) {
			json_decref(ns);
			err = cl_fail(c, -ENOMEM, "out of memory");
			goto out;
		}
		err = cl_txn(c, json_pack("[o]", cl_cmp_exists(kkey, false)),
			  json_pack("[o, o]", cl_put_op(kkey, rec), cl_put_op(dkey, ns)), &ok, &rev);
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
		if ((err = cl_call(c, "/v3/kv/range", cl_range_req(kkey, NULL), &resp)))
			goto out;
		kv = json_array_get(json_object_get(resp, "kvs"), 0);
	}
	json_decref(rec);
	rec = kv ? cl_kv_value(kv) : NULL;
	if (!rec) {
		err = cl_fail(c, -EINVAL, "the cluster's key ring record is malformed");
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
