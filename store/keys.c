/*
 * keys.c - the data-key ring: rotating to a new data key, re-sealing the
 * secrets under it in batches, listing the ring and retiring old keys.
 *
 * Re-sealing changes no secret: the same values, the same generation and
 * revision, sealed again under the active key (the key id is part of the
 * associated data).  Each batch is one transaction, so readers in other
 * processes see every secret either wholly under its old key or wholly
 * under the new one; a reader that meets a key it has not loaded yet reads
 * the ring again (keyring_key()).
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h"

int store_key_rotate(struct store *st, uint32_t *new_id)
{
	unsigned char *dk = NULL, *wrapped = NULL;
	size_t wrappedlen;
	sqlite3_stmt *q = NULL;
	int64_t id = 0;
	int err;

	if ((err = db_begin(st, true)))
		return err;
	if (sqlite3_prepare_v2(st->db, "SELECT coalesce(max(id), 0) + 1 FROM keyring", -1,
			       &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
		err = db_fail(st, "cannot read the key ring");
		goto out;
	}
	id = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	dk = sodium_malloc(SEAL_KEY_BYTES);
	if (!dk) {
		err = db_errorf(st, -ENOMEM, "out of memory");
		goto out;
	}
	randombytes_buf(dk, SEAL_KEY_BYTES);
	sodium_mprotect_readonly(st->master);
	err = seal_wrap_key(&wrapped, &wrappedlen, st->master, st->uuid, (uint32_t)id, dk);
	sodium_mprotect_noaccess(st->master);
	if (err)
		goto out;
	if (sqlite3_prepare_v2(st->db, "INSERT INTO keyring(id, created, wrapped) VALUES (?1, ?2, ?3)",
			       -1, &q, NULL) != SQLITE_OK) {
		err = db_fail(st, "cannot add a data key");
		goto out;
	}
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, db_now());
	sqlite3_bind_blob(q, 3, wrapped, (int)wrappedlen, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE) {
		err = db_fail(st, "cannot add a data key");
		goto out;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(st->db, "UPDATE meta SET value = ?1 WHERE key = 'active_key'",
			       -1, &q, NULL) != SQLITE_OK) {
		err = db_fail(st, "cannot activate the data key");
		goto out;
	}
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) != SQLITE_DONE) {
		err = db_fail(st, "cannot activate the data key");
		goto out;
	}
	sqlite3_finalize(q);
	q = NULL;
	if ((err = db_commit(st)))
		goto out;
	err = keyring_load(st);
	if (!err && new_id)
		*new_id = (uint32_t)id;
out:
	sqlite3_finalize(q);
	if (err)
		db_rollback(st);
	sodium_free(dk);
	free(wrapped);
	return err;
}

int reseal_left(struct store *st, uint64_t *n)
{
	sqlite3_stmt *q;
	int err = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM secrets WHERE key_id != ?1", -1,
			       &q, NULL) != SQLITE_OK)
		return db_fail(st, "cannot count secrets");
	sqlite3_bind_int64(q, 1, st->active_key);
	if (sqlite3_step(q) == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(q, 0);
	else
		err = db_fail(st, "cannot count secrets");
	sqlite3_finalize(q);
	return err;
}

int reseal_batch(struct store *st, size_t batch, size_t *done, reseal_fn each, void *ctx)
{
	struct store_secret **v = NULL;
	sqlite3_stmt *q = NULL;
	size_t n = 0;
	int rc, err = 0;

	*done = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT n.name, s.name" SECRET_JOIN_SQL
			       " WHERE s.key_id != ?1 LIMIT ?2", -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, "cannot list secrets to re-seal");
	sqlite3_bind_int64(q, 1, st->active_key);
	sqlite3_bind_int64(q, 2, (int64_t)batch);
	v = calloc(batch ? batch : 1, sizeof(*v));
	if (!v) {
		err = db_errorf(st, -ENOMEM, "out of memory");
		goto out;
	}
	/* names first: the writes below change the rows the query walks */
	while (n < batch && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		v[n] = store_secret_new((const char *)sqlite3_column_text(q, 0),
					(const char *)sqlite3_column_text(q, 1), NULL);
		if (!v[n]) {
			err = db_errorf(st, -ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	sqlite3_finalize(q);
	q = NULL;
	for (size_t i = 0; i < n; i++) {
		struct store_secret *s;
		int64_t id;

		/* read under the old key, write under the active one: the
		 * write path seals with st->active_key and bumps nothing */
		if ((err = reseal_one(st, v[i]->namespace, v[i]->name, &s, &id)))
			goto out;
		store_secret_free(s);
		if (each && (err = each(ctx, v[i]->namespace, v[i]->name)))
			goto out;
	}
	*done = n;
out:
	sqlite3_finalize(q);
	store_secret_list_free(v, n);
	return err;
}

int store_reseal(struct store *st, size_t batch, size_t *done, uint64_t *left)
{
	size_t n = 0;
	int err;

	*done = 0;
	if ((err = db_begin(st, true)))
		return err;
	if ((err = reseal_batch(st, batch, &n, NULL, NULL))) {
		db_rollback(st);
		return err;
	}
	if ((err = db_commit(st)))
		return err;
	*done = n;
	return reseal_left(st, left);
}

int store_keyring_each(struct store *st, store_keyring_fn fn, void *ctx)
{
	sqlite3_stmt *q;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT k.id, k.created, (SELECT count(*) FROM secrets s WHERE s.key_id = k.id)"
			       " FROM keyring k ORDER BY k.id", -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, "cannot read the key ring");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_keyinfo k = {
			.id = (uint32_t)sqlite3_column_int64(q, 0),
			.created = sqlite3_column_int64(q, 1),
			.secrets = (uint64_t)sqlite3_column_int64(q, 2),
		};

		k.active = k.id == st->active_key;
		if ((ret = fn(ctx, &k)))
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_fail(st, "cannot read the key ring");
	sqlite3_finalize(q);
	return ret;
}

int store_key_retire(struct store *st, uint32_t id)
{
	sqlite3_stmt *q;
	int64_t used = -1;
	int err;

	if ((err = db_begin(st, true)))
		return err;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT (SELECT count(*) FROM keyring WHERE id = ?1),"
			       " (SELECT count(*) FROM secrets WHERE key_id = ?1)", -1, &q, NULL) != SQLITE_OK ||
	    (sqlite3_bind_int64(q, 1, id), sqlite3_step(q)) != SQLITE_ROW) {
		err = db_fail(st, "cannot read the key ring");
		sqlite3_finalize(q);
		goto fail;
	}
	if (sqlite3_column_int64(q, 0) == 0)
		err = db_errorf(st, -ENOENT, "data key %u not found", id);
	used = sqlite3_column_int64(q, 1);
	sqlite3_finalize(q);
	if (err)
		goto fail;
	if (id == st->active_key) {
		err = db_errorf(st, -EBUSY, "data key %u is the active key: rotate first", id);
		goto fail;
	}
	if (used > 0) {
		err = db_errorf(st, -EBUSY,
				"data key %u still seals %lld secrets: finish 'secretctl rotate-key' first",
				id, (long long)used);
		goto fail;
	}
	if (sqlite3_prepare_v2(st->db, "DELETE FROM keyring WHERE id = ?1", -1, &q, NULL) != SQLITE_OK) {
		err = db_fail(st, "cannot retire a data key");
		goto fail;
	}
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) != SQLITE_DONE)
		err = db_fail(st, "cannot retire a data key");
	sqlite3_finalize(q);
	if (err)
		goto fail;
	if ((err = db_commit(st)))
		return err;
	return keyring_load(st);
fail:
	db_rollback(st);
	return err;
}

/*
 * Replace the master key: a new random key is written to KEY_FILE.new
 * (0400, exclusively), every data key is wrapped again under it in one
 * transaction, then KEY_FILE.new replaces KEY_FILE.  Values are untouched.
 * If this stops between the commit and the rename, the next open finds the
 * new key in KEY_FILE.new and finishes (rekey_recover()).
 */
/* Inside a transaction: wrap every data key again under master. */
int keyring_rewrap(struct store *st, const unsigned char *master)
{
	sqlite3_stmt *q;
	int ret = 0;

	if (sqlite3_prepare_v2(st->db, "UPDATE keyring SET wrapped = ?2 WHERE id = ?1", -1, &q,
			       NULL) != SQLITE_OK)
		return db_fail(st, "cannot re-wrap the data keys");
	for (size_t i = 0; !ret && i < st->nkeys; i++) {
		unsigned char *wrapped;
		size_t len;

		if ((ret = seal_wrap_key(&wrapped, &len, master, st->uuid, st->keys[i].id,
					 st->keys[i].key)))
			break;
		sqlite3_bind_int64(q, 1, st->keys[i].id);
		sqlite3_bind_blob(q, 2, wrapped, (int)len, SQLITE_TRANSIENT);
		free(wrapped);
		if (sqlite3_step(q) != SQLITE_DONE)
			ret = db_fail(st, "cannot re-wrap the data keys");
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	return ret;
}

static int exec_sql(struct store *st, const char *sql)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 :
	       db_fail(st, "cannot change the store's key settings");
}

int store_rekey_passphrase(struct store *st, const char *pass, size_t len)
{
	unsigned char salt[crypto_pwhash_SALTBYTES];
	unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	unsigned char *master = sodium_malloc(STORE_MASTER_KEY_BYTES);
	sqlite3_stmt *q = NULL;
	int ret;

	if (!master)
		return db_errorf(st, -ENOMEM, "out of memory");
	if (len < 8) {
		sodium_free(master);
		return db_errorf(st, -EINVAL, "a passphrase needs at least 8 characters");
	}
	randombytes_buf(salt, sizeof(salt));
	if (kdf_derive(master, pass, len, salt, ops, mem)) {
		sodium_free(master);
		return db_errorf(st, -ENOMEM, "not enough memory to derive the key from the passphrase");
	}
	if ((ret = db_begin(st, true)))
		goto fail;
	if ((ret = keyring_rewrap(st, master)) ||
	    (ret = exec_sql(st, "DELETE FROM meta WHERE key IN ('kdf_salt', 'kdf_ops', 'kdf_mem')")))
		goto fail;
	if (sqlite3_prepare_v2(st->db, "INSERT INTO meta(key, value) VALUES ('kdf_salt', ?1),"
			       " ('kdf_ops', ?2), ('kdf_mem', ?3)", -1, &q, NULL) != SQLITE_OK) {
		ret = db_fail(st, "cannot store the passphrase parameters");
		goto fail;
	}
	sqlite3_bind_blob(q, 1, salt, sizeof(salt), SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)ops);
	sqlite3_bind_int64(q, 3, (int64_t)mem);
	if (sqlite3_step(q) != SQLITE_DONE) {
		ret = db_fail(st, "cannot store the passphrase parameters");
		goto fail;
	}
	sqlite3_finalize(q);
	q = NULL;
	if ((ret = db_commit(st)))
		goto fail;
	sodium_free(st->master);
	st->master = master;
	sodium_mprotect_noaccess(st->master);
	st->passphrase = true; /* no key file to re-read from now on */
	return 0;
fail:
	sqlite3_finalize(q);
	db_rollback(st);
	sodium_free(master);
	return ret;
}

int store_rekey(struct store *st)
{
	char next[4096], err[STORE_ERRMSG_MAX], *dir, *slash;
	unsigned char *master;
	int ret, fd;

	if (!st->key_path)
		return db_errorf(st, -EINVAL, "no key file to write: the configuration names none");
	master = sodium_malloc(STORE_MASTER_KEY_BYTES);
	if (!master)
		return db_errorf(st, -ENOMEM, "out of memory");
	snprintf(next, sizeof(next), "%s.new", st->key_path);
	if ((ret = seal_keyfile_create(next, master, err))) {
		sodium_free(master);
		return db_errorf(st, ret, "%s%s", err, ret == -EEXIST ?
				 " (left by an interrupted rekey? open the store once to finish it, or remove it)" : "");
	}
	if ((ret = db_begin(st, true)))
		goto fail;
	if ((ret = keyring_rewrap(st, master)) ||
	    (ret = exec_sql(st, "DELETE FROM meta WHERE key IN ('kdf_salt', 'kdf_ops', 'kdf_mem')")))
		goto fail;
	if ((ret = db_commit(st)))
		goto fail;
	if (rename(next, st->key_path) != 0) {
		ret = db_errorf(st, -errno, "the store now opens with '%s' only: cannot rename it to '%s': %s",
				next, st->key_path, strerror(errno));
		sodium_free(master);
		return ret;
	}
	dir = strdup(st->key_path);
	if (dir) {
		slash = strrchr(dir, '/');
		if (slash)
			slash[slash == dir ? 1 : 0] = '\0';
		fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
		free(dir);
	}
	sodium_free(st->master);
	st->master = master;
	sodium_mprotect_noaccess(st->master);
	st->passphrase = false;
	return 0;
fail:
	db_rollback(st);
	unlink(next);
	sodium_free(master);
	return ret;
}
