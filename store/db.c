/*
 * db.c - the SQLite side of the store: creating and opening a store, the
 * versioned schema and its migrations, prepared statements, transactions,
 * revisions and the change log.
 *
 * The database runs in WAL mode (readers never block the writer), with a busy
 * timeout (two writers wait for each other instead of failing), foreign keys
 * (deleting a namespace deletes its secrets) and secure_delete (freed pages
 * are zeroed; they only ever held ciphertext, but no need to keep it).
 *
 * Invariant: every write runs in one BEGIN IMMEDIATE transaction that also
 * bumps the store revision and appends to the change log, so a reader that
 * sees a revision sees every change up to it and nothing of a later one.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h"

#define BUSY_TIMEOUT_MS 10000

/*
 * The schema, one entry per version: migrations[i] takes a store from
 * user_version i to i + 1.  Append; never edit a released entry.
 */
static const char *const migrations[] = {
	/* 0 -> 1: the first schema */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value BLOB NOT NULL"
	");"
	"CREATE TABLE keyring ("
	"  id INTEGER PRIMARY KEY,"
	"  created INTEGER NOT NULL,"
	"  wrapped BLOB NOT NULL"
	");"
	"CREATE TABLE namespaces ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL"
	");"
	"CREATE TABLE secrets ("
	"  id INTEGER PRIMARY KEY,"
	"  ns_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  uid TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  immutable INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  generation INTEGER NOT NULL,"
	"  revision INTEGER NOT NULL,"
	"  key_id INTEGER NOT NULL REFERENCES keyring(id),"
	"  UNIQUE (ns_id, name)"
	");"
	/* one row per key; size is the plaintext length, blob the sealed value */
	"CREATE TABLE items ("
	"  id INTEGER PRIMARY KEY,"
	"  secret_id INTEGER NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,"
	"  key TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  blob BLOB NOT NULL,"
	"  UNIQUE (secret_id, key)"
	");"
	/* labels (kind 0) and annotations (kind 1) */
	"CREATE TABLE pairs ("
	"  secret_id INTEGER NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,"
	"  kind INTEGER NOT NULL,"
	"  key TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  PRIMARY KEY (secret_id, kind, key)"
	") WITHOUT ROWID;"
	"CREATE TABLE changes ("
	"  revision INTEGER NOT NULL,"
	"  op INTEGER NOT NULL,"
	"  namespace TEXT NOT NULL,"
	"  name TEXT,"
	"  generation INTEGER NOT NULL,"
	"  time INTEGER NOT NULL"
	");"
	"CREATE INDEX changes_by_revision ON changes(revision);"
	"INSERT INTO meta(key, value) VALUES ('revision', 0);",
	/* 1 -> 2: events, and when a secret stops existing (bootstrap tokens) */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  time INTEGER NOT NULL,"
	"  type TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  namespace TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  message TEXT NOT NULL"
	");"
	"CREATE INDEX events_by_namespace ON events(namespace, time);"
	"ALTER TABLE secrets ADD COLUMN expires INTEGER;",
	/* 2 -> 3: cluster mode (store/cluster/): the etcd revision each object was
	 * last written at, and the one the whole store has caught up to */
	"ALTER TABLE secrets ADD COLUMN etcd_rev INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE namespaces ADD COLUMN etcd_rev INTEGER NOT NULL DEFAULT 0;"
	"INSERT INTO meta(key, value) VALUES ('etcd_revision', 0);",
	/* 3 -> 4: each secret's metadata tag (meta.c); filled in, once the
	 * key is at hand, by meta_upgrade() */
	"ALTER TABLE secrets ADD COLUMN meta_tag BLOB;",
	/* 4 -> 5: the RBAC objects (objects.c), each with its tag, and their
	 * changes in the change log (kind set; NULL for secrets and
	 * namespaces) */
	"CREATE TABLE objects ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  namespace TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  uid TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  generation INTEGER NOT NULL,"
	"  revision INTEGER NOT NULL,"
	"  key_id INTEGER NOT NULL,"
	"  etcd_rev INTEGER NOT NULL DEFAULT 0,"
	"  tag BLOB NOT NULL,"
	"  UNIQUE (kind, namespace, name)"
	");"
	"ALTER TABLE changes ADD COLUMN kind TEXT;",
	/* 5 -> 6: cluster mode: which store revision held etcd's prefix as of
	 * each etcd revision applied (a watch from an etcd resourceVersion
	 * reads the change log after it); a mirror starts at where it is */
	"CREATE TABLE etcd_marks ("
	"  etcd_rev INTEGER PRIMARY KEY,"
	"  revision INTEGER NOT NULL"
	");"
	"CREATE INDEX etcd_marks_by_revision ON etcd_marks(revision);"
	"INSERT INTO etcd_marks(etcd_rev, revision)"
	" SELECT e.value, r.value FROM meta e, meta r"
	" WHERE e.key = 'etcd_revision' AND r.key = 'revision' AND e.value > 0;",
	/* 6 -> 7: each event takes a store revision (events.c), so that a
	 * watch follows them from a resourceVersion; those recorded before
	 * have 0: older than any resourceVersion */
	"ALTER TABLE events ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX events_by_revision ON events(revision);",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char *const stmt_sql[Q_COUNT] = {
	[Q_REVISION] = "SELECT value FROM meta WHERE key = 'revision'",
	[Q_NS_ID] = "SELECT id FROM namespaces WHERE name = ?1",
	[Q_NS_STAT] = "SELECT n.created,"
		      " (SELECT count(*) FROM secrets s WHERE s.ns_id = n.id)"
		      " FROM namespaces n WHERE n.name = ?1",
	[Q_NS_EACH] = "SELECT n.name, n.created,"
		      " (SELECT count(*) FROM secrets s WHERE s.ns_id = n.id)"
		      " FROM namespaces n ORDER BY n.name",
	[Q_SECRET_ROW] = "SELECT s.id, s.uid, s.type, s.immutable, s.created,"
			 " s.updated, s.generation, s.revision, s.key_id, s.expires, s.etcd_rev, s.meta_tag"
			 SECRET_JOIN_SQL " WHERE n.name = ?1 AND s.name = ?2",
	[Q_SECRET_STAT] = "SELECT s.generation, s.created, s.updated, s.immutable, s.revision, s.expires,"
			  " (SELECT count(*) FROM items i WHERE i.secret_id = s.id),"
			  " (SELECT total(i.size) FROM items i WHERE i.secret_id = s.id), " META_COLS
			  SECRET_JOIN_SQL " WHERE n.name = ?1 AND s.name = ?2",
	/* expired secrets too: whether one really is has to be verified */
	[Q_SECRET_EACH] = "SELECT s.name, s.generation, s.created, s.updated, s.immutable, s.revision, s.expires,"
			  " (SELECT count(*) FROM items i WHERE i.secret_id = s.id),"
			  " (SELECT total(i.size) FROM items i WHERE i.secret_id = s.id), " META_COLS
			  SECRET_JOIN_SQL " WHERE n.name = ?1 ORDER BY s.name",
	/* store_secret_walk(): a namespace's secrets after a name, by the
	 * (ns_id, name) index (a seek, not a scan: a walk resumes often), and
	 * the namespace after one; expired secrets too, as above */
	[Q_SECRET_AFTER] = "SELECT s.id, s.uid, s.type, s.immutable, s.created, s.updated,"
			   " s.generation, s.revision, s.key_id, s.expires, s.etcd_rev, s.name"
			   SECRET_JOIN_SQL " WHERE n.name = ?1 AND s.name > ?2 ORDER BY s.name",
	[Q_NS_AFTER] = "SELECT name FROM namespaces WHERE name > ?1 ORDER BY name LIMIT 1",
	[Q_KEY_EACH] = "SELECT key, size, " BLOB_LEN_SQL("blob") " FROM items WHERE secret_id = ?1 ORDER BY key",
	[Q_KEY_STAT] = "SELECT i.key, i.size, s.generation, s.created, s.updated,"
		       " s.immutable, s.revision, s.expires, " BLOB_LEN_SQL("i.blob") ", " META_COLS
		       " FROM items i JOIN secrets s ON s.id = i.secret_id"
		       " JOIN namespaces n ON n.id = s.ns_id"
		       " WHERE n.name = ?1 AND s.name = ?2 AND i.key = ?3",
	[Q_VALUE] = "SELECT s.uid, s.generation, s.key_id, s.created, s.updated,"
		    " s.immutable, i.blob, s.revision, s.expires, i.size, " META_COLS
		    " FROM items i JOIN secrets s ON s.id = i.secret_id"
		    " JOIN namespaces n ON n.id = s.ns_id"
		    " WHERE n.name = ?1 AND s.name = ?2 AND i.key = ?3",
	[Q_ITEMS] = "SELECT key, size, blob FROM items WHERE secret_id = ?1"
		    " ORDER BY key",
	[Q_PAIRS] = "SELECT kind, key, value FROM pairs WHERE secret_id = ?1"
		    " ORDER BY kind, key",
	[Q_ITEM_ADD] = "INSERT INTO items(secret_id, key, size, blob) VALUES (?1, ?2, ?3, ?4)",
	[Q_PAIR_ADD] = "INSERT INTO pairs(secret_id, kind, key, value) VALUES (?1, ?2, ?3, ?4)",
	[Q_META_ROW] = "SELECT n.name, s.name, " META_COLS SECRET_JOIN_SQL " WHERE s.id = ?1",
	[Q_META_ITEMS] = "SELECT key, size, " BLOB_LEN_SQL("blob") " FROM items WHERE secret_id = ?1"
			 " ORDER BY key",
};

int64_t db_now(void)
{
	return (int64_t)time(NULL);
}

/* Map an SQLite result code to a negative errno. */
static int sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	default:
		return -EIO;
	}
}

/* Record an SQLite failure on the handle; returns the mapped errno. */
int db_fail(struct store *st, const char *what)
{
	int rc = sqlite3_extended_errcode(st->db);

	snprintf(st->err, sizeof(st->err), "%s: %s", what, sqlite3_errmsg(st->db));
	return sqlite_errno(rc);
}

int db_errorf(struct store *st, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
	return err;
}

/* A cached, reset statement.  The caller resets it after use. */
sqlite3_stmt *db_stmt(struct store *st, enum stmt_id id)
{
	if (!st->stmt[id] &&
	    sqlite3_prepare_v3(st->db, stmt_sql[id], -1,
			       SQLITE_PREPARE_PERSISTENT, &st->stmt[id],
			       NULL) != SQLITE_OK) {
		db_fail(st, "cannot prepare a query");
		return NULL;
	}
	return st->stmt[id];
}

int db_exec(struct store *st, const char *sql)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(st, "database error");
	return 0;
}

/* Inside a batch each operation is a savepoint of the batch's transaction,
 * so it still succeeds or fails whole. */
int db_begin(struct store *st, bool write)
{
	const char *sql = st->batch ? "SAVEPOINT op" : write ? "BEGIN IMMEDIATE" : "BEGIN";

	if (write && (st->flags & STORE_RDONLY))
		return db_errorf(st, -EROFS, "store is open read-only");
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(st, "cannot start a transaction");
	return 0;
}

int db_commit(struct store *st)
{
	if (sqlite3_exec(st->db, st->batch ? "RELEASE op" : "COMMIT", NULL, NULL,
			 NULL) != SQLITE_OK) {
		int err = db_fail(st, "cannot commit");

		db_rollback(st);
		return err;
	}
	return 0;
}

void db_rollback(struct store *st)
{
	if (st->batch)
		sqlite3_exec(st->db, "ROLLBACK TO op; RELEASE op", NULL, NULL, NULL);
	else if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_batch_begin(struct store *st)
{
	if (st->batch)
		return db_errorf(st, -EBUSY, "a batch is already open");
	if (st->flags & STORE_RDONLY)
		return db_errorf(st, -EROFS, "store is open read-only");
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(st, "cannot start a transaction");
	st->batch = true;
	return 0;
}

int store_batch_commit(struct store *st)
{
	int err = 0;

	if (!st->batch)
		return db_errorf(st, -EINVAL, "no batch is open");
	st->batch = false;
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		err = db_fail(st, "cannot commit");
		db_rollback(st);
	}
	return err;
}

void store_batch_rollback(struct store *st)
{
	if (!st->batch)
		return;
	st->batch = false;
	db_rollback(st);
}

/* Bump the store revision inside the current write transaction. */
int db_next_revision(struct store *st, int64_t *rev)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(st->db,
			       "UPDATE meta SET value = value + 1 WHERE key = 'revision'"
			       " RETURNING value", -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, "cannot update the revision");
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		int err = db_fail(st, "cannot update the revision");

		sqlite3_finalize(q);
		return err;
	}
	*rev = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return 0;
}

static int log_row(struct store *st, int64_t rev, enum store_op op, const char *kind,
		   const char *ns, const char *name, int64_t generation)
{
	sqlite3_stmt *q;
	int err = 0;

	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO changes(revision, op, namespace, name,"
			       " generation, time, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			       -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, "cannot record a change");
	sqlite3_bind_int64(q, 1, rev);
	sqlite3_bind_int(q, 2, op);
	sqlite3_bind_text(q, 3, ns, -1, SQLITE_STATIC);
	if (name)
		sqlite3_bind_text(q, 4, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, generation);
	sqlite3_bind_int64(q, 6, db_now());
	if (kind)
		sqlite3_bind_text(q, 7, kind, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		err = db_fail(st, "cannot record a change");
	sqlite3_finalize(q);
	return err;
}

int db_log_change(struct store *st, int64_t rev, enum store_op op,
		  const char *ns, const char *name, int64_t generation)
{
	return log_row(st, rev, op, NULL, ns, name, generation);
}

int db_log_object(struct store *st, int64_t rev, enum store_op op, const char *kind,
		  const char *ns, const char *name, int64_t generation)
{
	assert(kind);
	return log_row(st, rev, op, kind, ns, name, generation);
}

int store_revision(struct store *st, int64_t *out)
{
	sqlite3_stmt *q = db_stmt(st, Q_REVISION);
	int err = 0;

	if (!q)
		return -EIO;
	if (sqlite3_step(q) == SQLITE_ROW)
		*out = sqlite3_column_int64(q, 0);
	else
		err = db_fail(st, "cannot read the revision");
	sqlite3_reset(q);
	return err;
}

int store_changes(struct store *st, int64_t since, store_change_fn fn,
		  void *ctx)
{
	sqlite3_stmt *q;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT revision, op, namespace, name, generation, time"
			       " FROM changes WHERE revision > ?1 AND kind IS NULL"
			       " ORDER BY revision",
			       -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, "cannot read the change log");
	sqlite3_bind_int64(q, 1, since);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_change c = {
			.revision = sqlite3_column_int64(q, 0),
			.op = (enum store_op)sqlite3_column_int(q, 1),
			.namespace = (const char *)sqlite3_column_text(q, 2),
			.name = (const char *)sqlite3_column_text(q, 3),
			.generation = sqlite3_column_int64(q, 4),
			.time = sqlite3_column_int64(q, 5),
		};

		ret = fn(ctx, &c);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_fail(st, "cannot read the change log");
	sqlite3_finalize(q);
	return ret;
}

int store_check_integrity(struct store *st)
{
	sqlite3_stmt *q;
	const char *res;
	int err = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check", -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, "cannot check the database");
	if (sqlite3_step(q) != SQLITE_ROW)
		err = db_fail(st, "cannot check the database");
	else if ((res = (const char *)sqlite3_column_text(q, 0)) && strcmp(res, "ok") != 0)
		err = db_errorf(st, -EUCLEAN, "the database fails its integrity check: %s", res);
	sqlite3_finalize(q);
	return err;
}

const char *store_errmsg(const struct store *st)
{
	return st ? st->err : "out of memory";
}

void store_uuid(const struct store *st, char out[37])
{
	const unsigned char *u = st->uuid;

	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

int store_check_identity(struct store *st)
{
	sqlite3_stmt *q;
	int err = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = 'uuid'", -1, &q,
			       NULL) != SQLITE_OK)
		return db_fail(st, "cannot read the store's identity");
	if (sqlite3_step(q) != SQLITE_ROW)
		err = db_fail(st, "cannot read the store's identity");
	else if (sqlite3_column_bytes(q, 0) != SEAL_UUID_BYTES ||
		 memcmp(sqlite3_column_blob(q, 0), st->uuid, SEAL_UUID_BYTES) != 0)
		err = db_errorf(st, -ESTALE, "the database is another store's now (its UUID changed)");
	sqlite3_finalize(q);
	return err;
}

int store_schema_version(void)
{
	return SCHEMA_VERSION;
}

/* Bring the schema to SCHEMA_VERSION, all in one transaction. */
static int db_migrate(struct store *st, const char *path)
{
	sqlite3_stmt *q;
	int version, err;

	if ((err = db_begin(st, true)))
		return err;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) !=
	    SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
		err = db_fail(st, "cannot read the schema version");
		sqlite3_finalize(q);
		goto fail;
	}
	version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (version > SCHEMA_VERSION) {
		err = db_errorf(st, -EPROTO,
				"store '%s' has schema version %d; this program knows up to %d: upgrade secretfs",
				path, version, SCHEMA_VERSION);
		goto fail;
	}
	for (; version < SCHEMA_VERSION; version++) {
		char pragma[64];

		if ((err = db_exec(st, migrations[version])))
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
			 version + 1);
		if ((err = db_exec(st, pragma)))
			goto fail;
	}
	return db_commit(st);
fail:
	db_rollback(st);
	return err;
}

static int db_schema_version(struct store *st, int *version)
{
	sqlite3_stmt *q;
	int err = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) !=
	    SQLITE_OK || sqlite3_step(q) != SQLITE_ROW)
		err = db_fail(st, "cannot read the schema version");
	else
		*version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return err;
}

/*
 * (Re)read the store's identity and key ring, unwrapping every data key
 * with the master key.  The ring lives in one sodium_malloc region, read-only
 * between loads; a new ring replaces the old one whole.
 */
int keyring_load(struct store *st)
{
	sqlite3_stmt *q = NULL;
	unsigned char *keys;
	struct seal_key ring[SEAL_MAX_KEYS];
	size_t n = 0;
	uint32_t active;
	bool untagged = false;
	int rc, format, err = 0;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT (SELECT value FROM meta WHERE key = 'uuid'),"
			       " (SELECT value FROM meta WHERE key = 'active_key')",
			       -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		err = db_fail(st, "cannot read the store's identity");
		sqlite3_finalize(q);
		return err;
	}
	if (sqlite3_column_bytes(q, 0) != SEAL_UUID_BYTES) {
		sqlite3_finalize(q);
		return db_errorf(st, -EIO, "the store has no valid UUID");
	}
	memcpy(st->uuid, sqlite3_column_blob(q, 0), SEAL_UUID_BYTES);
	active = (uint32_t)sqlite3_column_int64(q, 1);
	sqlite3_finalize(q);
	q = NULL;

	keys = sodium_malloc(SEAL_MAX_KEYS * SEAL_KEY_BYTES);
	if (!keys)
		return db_errorf(st, -ENOMEM, "out of memory");
	if (sqlite3_prepare_v2(st->db, "SELECT id, wrapped FROM keyring ORDER BY id", -1,
			       &q, NULL) != SQLITE_OK) {
		err = db_fail(st, "cannot read the key ring");
		goto out;
	}
	sodium_mprotect_readonly(st->master);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		uint32_t id = (uint32_t)sqlite3_column_int64(q, 0);
		unsigned char *dk = keys + n * SEAL_KEY_BYTES;

		if (n == SEAL_MAX_KEYS) {
			err = db_errorf(st, -EIO, "the store has more than %d data keys",
					SEAL_MAX_KEYS);
			break;
		}
		if (seal_unwrap_key(dk, &format, st->master, st->uuid, id, sqlite3_column_blob(q, 1),
				    (size_t)sqlite3_column_bytes(q, 1)) != 0) {
			err = db_errorf(st, -EKEYREJECTED,
					"cannot unlock the store: data key %u does not open with this master key (wrong key file?)",
					id);
			break;
		}
		ring[n].id = id;
		ring[n].key = dk;
		n++;
		untagged |= format != SEAL_RING_FORMAT;
	}
	sodium_mprotect_noaccess(st->master);
	if (!err && rc != SQLITE_DONE)
		err = db_fail(st, "cannot read the key ring");
	if (!err) {
		bool found = false;

		for (size_t i = 0; i < n; i++)
			found |= ring[i].id == active;
		if (!found)
			err = db_errorf(st, -EIO, "the active data key %u is missing", active);
	}
out:
	sqlite3_finalize(q);
	if (err) {
		sodium_free(keys);
		return err;
	}
	sodium_mprotect_readonly(keys);
	if (st->keys[0].key)
		sodium_free(st->keys[0].key); /* the old ring's region */
	memcpy(st->keys, ring, n * sizeof(ring[0]));
	st->nkeys = n;
	st->active_key = active;
	st->ring_untagged = untagged;
	return 0;
}

/* Read the master key again from its file (after a rekey by another
 * process). */
static int master_reload(struct store *st)
{
	int err;

	sodium_mprotect_readwrite(st->master);
	err = seal_keyfile_read(st->key_path, st->master, st->err);
	sodium_mprotect_noaccess(st->master);
	return err;
}

const unsigned char *keyring_key(struct store *st, uint32_t id)
{
	const unsigned char *k = seal_key_find(st, id);
	int err;

	if (k)
		return k;
	err = keyring_load(st);
	if (err == -EKEYREJECTED && st->key_path && !st->passphrase && master_reload(st) == 0)
		err = keyring_load(st);
	return err ? NULL : seal_key_find(st, id);
}

/*
 * A rekey that stopped between its commit and putting the new key file in
 * place leaves the new key in KEY_FILE.new: if that opens the ring, finish
 * the job.
 */
int rekey_recover(struct store *st)
{
	char next[4096], err[STORE_ERRMSG_MAX];
	int ret;

	snprintf(next, sizeof(next), "%s.new", st->key_path);
	sodium_mprotect_readwrite(st->master);
	ret = seal_keyfile_read(next, st->master, err);
	sodium_mprotect_noaccess(st->master);
	if (ret || (ret = keyring_load(st)))
		return ret ? ret : -EKEYREJECTED;
	if (!(st->flags & STORE_RDONLY) && rename(next, st->key_path) != 0)
		return db_errorf(st, -errno, "cannot finish an interrupted rekey: rename '%s': %s",
				 next, strerror(errno));
	return 0;
}

/* "file:PATH?immutable=1", PATH percent-encoded where a URI needs it;
 * sqlite3_free() it.  NULL when out of memory. */
static char *file_only_uri(const char *path)
{
	size_t len = strlen(path);
	char *uri = sqlite3_malloc64(len * 3 + 32), *p;

	if (!uri)
		return NULL;
	p = uri + sprintf(uri, "file:");
	for (const unsigned char *c = (const unsigned char *)path; *c; c++)
		p += (*c == '%' || *c == '?' || *c == '#' || *c < 0x21 || *c > 0x7e) ?
		     sprintf(p, "%%%02X", *c) : sprintf(p, "%c", *c);
	strcpy(p, "?immutable=1");
	return uri;
}

static int db_connect(struct store *st, const char *path, int flags)
{
	int oflags = (flags & STORE_RDONLY) ? SQLITE_OPEN_READONLY :
					       SQLITE_OPEN_READWRITE;
	char *uri = NULL;
	int rc;

	assert(!(flags & STORE_FILE_ONLY) || (flags & STORE_RDONLY));
	if (flags & STORE_FILE_ONLY) {
		if (!(uri = file_only_uri(path)))
			return db_errorf(st, -ENOMEM, "out of memory");
		oflags |= SQLITE_OPEN_URI;
	}
	rc = sqlite3_open_v2(uri ? uri : path, &st->db, oflags | SQLITE_OPEN_NOMUTEX |
			     SQLITE_OPEN_NOFOLLOW, NULL);
	sqlite3_free(uri);
	if (rc != SQLITE_OK) {
		if (!st->db)
			return db_errorf(st, -ENOMEM, "out of memory");
		return db_errorf(st, sqlite_errno(sqlite3_errcode(st->db)),
				 "cannot open store '%s': %s", path,
				 sqlite3_errmsg(st->db));
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	if (db_exec(st, "PRAGMA foreign_keys = ON;"
			"PRAGMA secure_delete = ON;"
			"PRAGMA temp_store = MEMORY;"
			"PRAGMA synchronous = FULL;"))
		return db_errorf(st, -EIO, "cannot open store '%s': %s", path,
				 sqlite3_errmsg(st->db));
	if (!(flags & STORE_RDONLY) &&
	    db_exec(st, "PRAGMA journal_mode = WAL"))
		return db_errorf(st, -EIO, "cannot open store '%s': %s", path,
				 sqlite3_errmsg(st->db));
	return 0;
}

static struct store *store_alloc(void)
{
	struct store *st;

	if (sodium_init() < 0)
		return NULL;
	st = calloc(1, sizeof(*st));
	if (st)
		randombytes_buf(st->seen_key, sizeof(st->seen_key));
	return st;
}

int store_open(struct store **out, const char *db_path, const char *key_path,
	       int flags, char *err)
{
	struct store_unlock u = { .key_file = key_path };

	return store_open_with(out, db_path, &u, flags, err);
}

/* The store's passphrase parameters, if it is locked with one: 1 and the
 * salt and limits; 0 if it uses a key file. */
static int kdf_params(struct store *st, unsigned char salt[crypto_pwhash_SALTBYTES],
		      unsigned long long *ops, size_t *mem)
{
	sqlite3_stmt *q;
	int ret = 0;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT (SELECT value FROM meta WHERE key = 'kdf_salt'),"
			       " (SELECT value FROM meta WHERE key = 'kdf_ops'),"
			       " (SELECT value FROM meta WHERE key = 'kdf_mem')", -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, "cannot read the store's key settings");
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) == SQLITE_BLOB &&
	    sqlite3_column_bytes(q, 0) == crypto_pwhash_SALTBYTES) {
		memcpy(salt, sqlite3_column_blob(q, 0), crypto_pwhash_SALTBYTES);
		*ops = (unsigned long long)sqlite3_column_int64(q, 1);
		*mem = (size_t)sqlite3_column_int64(q, 2);
		ret = 1;
	}
	sqlite3_finalize(q);
	return ret;
}

/* Argon2id: the master key from a passphrase and the store's parameters. */
int kdf_derive(unsigned char *master, const char *pass, size_t len,
	       const unsigned char *salt, unsigned long long ops, size_t mem)
{
	if (crypto_pwhash(master, STORE_MASTER_KEY_BYTES, pass, len, salt, ops, mem,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -ENOMEM;
	return 0;
}

int store_open_with(struct store **out, const char *db_path, const struct store_unlock *u,
		    int flags, char *err)
{
	const char *key_path = u->key_file;
	unsigned char salt[crypto_pwhash_SALTBYTES];
	unsigned long long ops = 0;
	size_t mem = 0;
	bool passphrase = false;
	unsigned char *master = NULL;
	struct store *st;
	struct stat sb;
	int version = 0, ret;

	st = store_alloc();
	if (!st) {
		snprintf(err, STORE_ERRMSG_MAX, "out of memory");
		return -ENOMEM;
	}
	st->flags = flags;
	if (stat(db_path, &sb) < 0) {
		ret = -errno;
		if (errno == ENOENT)
			snprintf(st->err, sizeof(st->err),
				 "store '%s' does not exist (create it with 'secretctl init')",
				 db_path);
		else
			snprintf(st->err, sizeof(st->err),
				 "cannot open store '%s': %s", db_path,
				 strerror(errno));
		goto fail;
	}
	if ((ret = db_connect(st, db_path, flags)))
		goto fail;
	if (!(flags & STORE_RDONLY) && (ret = db_migrate(st, db_path))) {
		if (sqlite3_extended_errcode(st->db) == SQLITE_NOTADB ||
		    sqlite3_extended_errcode(st->db) == SQLITE_CORRUPT)
			ret = -EUCLEAN;
		goto fail;
	}
	if ((ret = db_schema_version(st, &version)))
		goto fail;
	if (version != SCHEMA_VERSION) {
		ret = db_errorf(st, -EPROTO,
				"store '%s' has schema version %d, not %d: open it once with secretctl to upgrade it",
				db_path, version, SCHEMA_VERSION);
		goto fail;
	}
	/* the master key stays, without access but while unwrapping: a
	 * rotation by another process adds data keys to unwrap */
	st->master = master = sodium_malloc(STORE_MASTER_KEY_BYTES);
	if (!master) {
		ret = db_errorf(st, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((ret = kdf_params(st, salt, &ops, &mem)) < 0)
		goto fail;
	passphrase = ret == 1;
	st->key_path = key_path ? strdup(key_path) : NULL;
	st->passphrase = passphrase;
	if (passphrase) {
		/* locked with a passphrase (Argon2id): the key file plays no part */
		if (!u->passphrase) {
			ret = db_errorf(st, -ENOKEY,
					"store '%s' is locked with a passphrase: give it on a terminal or with --passphrase-fd N",
					db_path);
			goto fail;
		}
		if ((ret = kdf_derive(master, u->passphrase, u->passlen, salt, ops, mem))) {
			db_errorf(st, ret, "not enough memory to derive the key from the passphrase");
			goto fail;
		}
	} else {
		if (!st->key_path) {
			ret = db_errorf(st, -ENOMEM, "out of memory");
			goto fail;
		}
		if ((ret = seal_keyfile_read(key_path, master, st->err)))
			goto fail;
	}
	sodium_mprotect_noaccess(master);
	ret = keyring_load(st);
	if (ret == -EKEYREJECTED && !passphrase && rekey_recover(st) == 0)
		ret = 0;
	/* a store from before metadata tags gets them now, once (meta.c) */
	if (!ret && st->ring_untagged && !(flags & STORE_RDONLY))
		ret = meta_upgrade(st);
	if (ret) {
		if (ret == -EKEYREJECTED && passphrase)
			db_errorf(st, ret, "cannot unlock store '%s': wrong passphrase", db_path);
		else if (ret == -EKEYREJECTED)
			db_errorf(st, ret, "cannot unlock store '%s' with key file '%s': it does not open the store's data keys (wrong key file?)",
				  db_path, key_path);
		goto fail;
	}
	*out = st;
	return 0;
fail:
	snprintf(err, STORE_ERRMSG_MAX, "%s", st->err);
	store_close(st);
	return ret;
}

int store_set_cache_kib(struct store *st, int kib)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", kib);
	return db_exec(st, sql) ? -EIO : 0;
}

int store_open_reader(struct store **out, struct store *from, char *err)
{
	/* the file from has open, whatever path it was opened by */
	const char *path = sqlite3_db_filename(from->db, "main");
	struct store *st;
	int ret;

	assert(from->master);
	st = store_alloc();
	if (!st) {
		snprintf(err, STORE_ERRMSG_MAX, "out of memory");
		return -ENOMEM;
	}
	st->flags = from->flags | STORE_RDONLY;
	st->passphrase = from->passphrase;
	if (!path || !*path) {
		ret = db_errorf(st, -EINVAL, "the store handle has no file to open again");
		goto fail;
	}
	if ((ret = db_connect(st, path, st->flags)))
		goto fail;
	/* a process holds several: each with an eighth of SQLite's default
	 * page cache (2 MiB), the kernel's page cache doing the rest */
	if (store_set_cache_kib(st, 256)) {
		ret = db_errorf(st, -EIO, "cannot open store '%s': %s", path,
				sqlite3_errmsg(st->db));
		goto fail;
	}
	st->master = sodium_malloc(STORE_MASTER_KEY_BYTES);
	st->key_path = from->key_path ? strdup(from->key_path) : NULL;
	if (!st->master || (from->key_path && !st->key_path)) {
		ret = db_errorf(st, -ENOMEM, "out of memory");
		goto fail;
	}
	sodium_mprotect_readonly(from->master);
	memcpy(st->master, from->master, STORE_MASTER_KEY_BYTES);
	sodium_mprotect_noaccess(from->master);
	sodium_mprotect_noaccess(st->master);
	/* the ring as the file holds it now, unwrapped again for this handle;
	 * wrapped by a new master key if another process rekeyed since from
	 * read its own: then read the key file, as keyring_key() does */
	ret = keyring_load(st);
	if (ret == -EKEYREJECTED && st->key_path && !st->passphrase && master_reload(st) == 0)
		ret = keyring_load(st);
	if (ret)
		goto fail;
	*out = st;
	return 0;
fail:
	snprintf(err, STORE_ERRMSG_MAX, "%s", st->err);
	store_close(st);
	return ret;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	meta_forget(st);
	sqlite3_close(st->db);
	if (st->keys[0].key)
		sodium_free(st->keys[0].key);
	if (st->master)
		sodium_free(st->master);
	free(st->key_path);
	sodium_memzero(st, sizeof(*st));
	free(st);
}

/* mkdir -p for the parent folder of path, mode 0700. */
static int make_parent(const char *path, char *err)
{
	char *copy = strdup(path), *dir, *p;
	int ret = 0;

	if (!copy) {
		snprintf(err, STORE_ERRMSG_MAX, "out of memory");
		return -ENOMEM;
	}
	dir = dirname(copy);
	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			ret = -errno;
			snprintf(err, STORE_ERRMSG_MAX,
				 "cannot create folder '%s': %s", dir,
				 strerror(errno));
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(copy);
	return ret;
}

static void remove_store_files(const char *db_path)
{
	char buf[4096];

	unlink(db_path);
	snprintf(buf, sizeof(buf), "%s-wal", db_path);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s-shm", db_path);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s-journal", db_path);
	unlink(buf);
}

/* Fill a new store: identity, first data key, the default namespace. */
static int store_seed(struct store *st, const unsigned char *master)
{
	unsigned char *dk = NULL, *wrapped = NULL;
	size_t wrappedlen;
	sqlite3_stmt *q = NULL;
	int64_t now = db_now(), rev;
	int err;

	if ((err = db_begin(st, true)))
		return err;
	randombytes_buf(st->uuid, sizeof(st->uuid));
	dk = sodium_malloc(SEAL_KEY_BYTES);
	if (!dk) {
		err = db_errorf(st, -ENOMEM, "out of memory");
		goto out;
	}
	randombytes_buf(dk, SEAL_KEY_BYTES);
	if ((err = seal_wrap_key(&wrapped, &wrappedlen, master, st->uuid, 1, dk)))
		goto out;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO meta(key, value) VALUES ('uuid', ?1),"
			       " ('active_key', 1), ('created', ?2);"
			       , -1, &q, NULL) != SQLITE_OK) {
		err = db_fail(st, "cannot initialise the store");
		goto out;
	}
	sqlite3_bind_blob(q, 1, st->uuid, sizeof(st->uuid), SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	if (sqlite3_step(q) != SQLITE_DONE) {
		err = db_fail(st, "cannot initialise the store");
		goto out;
	}
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO keyring(id, created, wrapped) VALUES (1, ?1, ?2)",
			       -1, &q, NULL) != SQLITE_OK) {
		err = db_fail(st, "cannot initialise the key ring");
		goto out;
	}
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_blob(q, 2, wrapped, (int)wrappedlen, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE) {
		err = db_fail(st, "cannot initialise the key ring");
		goto out;
	}
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO namespaces(name, created) VALUES (?1, ?2)",
			       -1, &q, NULL) != SQLITE_OK) {
		err = db_fail(st, "cannot create the default namespace");
		goto out;
	}
	sqlite3_bind_text(q, 1, STORE_DEFAULT_NAMESPACE, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	if (sqlite3_step(q) != SQLITE_DONE) {
		err = db_fail(st, "cannot create the default namespace");
		goto out;
	}
	if ((err = db_next_revision(st, &rev)) ||
	    (err = db_log_change(st, rev, STORE_OP_NS_CREATE,
				 STORE_DEFAULT_NAMESPACE, NULL, 0)))
		goto out;
	err = db_commit(st);
out:
	if (err)
		db_rollback(st);
	sqlite3_finalize(q);
	free(wrapped);
	sodium_free(dk);
	return err;
}

int store_create(const char *db_path, const char *key_path, char *err)
{
	return store_create_with(db_path, key_path, false, err);
}

int store_create_with(const char *db_path, const char *key_path, bool existing_key,
		      char *err)
{
	unsigned char *master = NULL;
	struct store *st = NULL;
	bool made_db = false, made_key = false;
	struct stat sb;
	int fd, ret;

	if (stat(db_path, &sb) == 0) {
		snprintf(err, STORE_ERRMSG_MAX,
			 "store '%s' already exists; refusing to overwrite it",
			 db_path);
		return -EEXIST;
	}
	if (!existing_key && lstat(key_path, &sb) == 0) {
		snprintf(err, STORE_ERRMSG_MAX,
			 "key file '%s' already exists; refusing to overwrite it",
			 key_path);
		return -EEXIST;
	}
	st = store_alloc();
	master = st ? sodium_malloc(STORE_MASTER_KEY_BYTES) : NULL;
	if (!master) {
		snprintf(err, STORE_ERRMSG_MAX, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	if (existing_key && (ret = seal_keyfile_read(key_path, master, err)))
		goto out;
	if ((ret = make_parent(db_path, err)) || (ret = make_parent(key_path, err)))
		goto out;
	fd = open(db_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, STORE_ERRMSG_MAX, "cannot create store '%s': %s",
			 db_path, strerror(errno));
		goto out;
	}
	close(fd);
	made_db = true;
	if (!existing_key) {
		if ((ret = seal_keyfile_create(key_path, master, err)))
			goto out;
		made_key = true;
	}
	if ((ret = db_connect(st, db_path, 0)) || (ret = db_migrate(st, db_path)) ||
	    (ret = store_seed(st, master))) {
		snprintf(err, STORE_ERRMSG_MAX, "cannot create store '%s': %s",
			 db_path, st->err);
		goto out;
	}
out:
	store_close(st);
	if (ret && made_db)
		remove_store_files(db_path);
	if (ret && made_key)
		unlink(key_path);
	sodium_free(master);
	return ret;
}
