/*
 * internal.h - what the files of libstore share; not for use outside store/.
 */
#ifndef SECRETFS_STORE_INTERNAL_H
#define SECRETFS_STORE_INTERNAL_H

#include <sqlite3.h>
#include <sodium.h>

#include "store.h"

#define SEAL_FORMAT      1  /* first byte of every sealed blob */
#define SEAL_UUID_BYTES  16
#define SEAL_KEY_BYTES   32
#define SEAL_MAX_KEYS    64 /* data keys in the ring */

/* A data key of the ring, unwrapped; key points into sodium_malloc memory. */
struct seal_key {
	uint32_t id;
	unsigned char *key;
};

/* Where a value belongs; all of it is bound into the AEAD associated data. */
struct seal_ctx {
	const unsigned char *store_uuid; /* SEAL_UUID_BYTES */
	uint32_t key_id;
	const char *namespace;
	const char *name;
	const char *uid;
	int64_t generation;
	const char *key;
};

/* A secret past its expiry (an expired bootstrap token) no longer exists
 * for readers, as Kubernetes' token cleaner would have removed it. */
#define LIVE_SQL " AND (s.expires IS NULL OR s.expires > unixepoch())"

#define SECRET_JOIN_SQL \
	" FROM secrets s JOIN namespaces n ON n.id = s.ns_id"

/* pairs.kind */
#define PAIR_LABEL      0
#define PAIR_ANNOTATION 1

/* Prepared statements, kept for the life of the handle. */
enum stmt_id {
	Q_REVISION,
	Q_NS_ID,
	Q_NS_STAT,
	Q_NS_EACH,
	Q_SECRET_ROW,
	Q_SECRET_STAT,
	Q_SECRET_EACH,
	Q_KEY_EACH,
	Q_KEY_STAT,
	Q_VALUE,
	Q_ITEMS,
	Q_PAIRS,
	Q_COUNT
};

struct store {
	sqlite3 *db;
	int flags;
	unsigned char uuid[SEAL_UUID_BYTES];
	unsigned char *master;               /* sodium_malloc'd, no access when idle */
	char *key_path;                      /* the configured key file */
	bool passphrase;                     /* unlocked with a passphrase instead */
	struct seal_key keys[SEAL_MAX_KEYS]; /* the unwrapped key ring */
	size_t nkeys;
	uint32_t active_key;                 /* id of the key that seals */
	sqlite3_stmt *stmt[Q_COUNT];
	bool batch;                          /* inside store_batch_begin() */
	uint64_t max_per_ns;                 /* 0: no limit */
	char err[STORE_ERRMSG_MAX];
};

/* db.c */
int db_fail(struct store *st, const char *what);
int db_errorf(struct store *st, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
sqlite3_stmt *db_stmt(struct store *st, enum stmt_id id);
int db_exec(struct store *st, const char *sql);
int db_begin(struct store *st, bool write);
int db_commit(struct store *st);
void db_rollback(struct store *st);
int db_next_revision(struct store *st, int64_t *rev);
int db_log_change(struct store *st, int64_t rev, enum store_op op,
		  const char *ns, const char *name, int64_t generation);
int64_t db_now(void);

/* types.c: the number of rule violations of s's type (0: valid), listed
 * in buf as Kubernetes prints them, comma-separated */
int types_validate(const struct store_secret *s, char *buf, size_t len);
/* s's labels and annotations against Kubernetes' rules: -EINVAL, and the
 * handle's message says why. */
int secret_pairs_validate(struct store *st, const struct store_secret *s);
int types_parse_rfc3339(const char *v, size_t n, int64_t *t);

/* secret.c: one-off statements inside the caller's transaction, failures
 * recorded on st */
int db_prep(struct store *st, const char *sql, sqlite3_stmt **q);
int db_step_done(struct store *st, sqlite3_stmt *q, const char *what); /* finalizes q */
int db_exec_id(struct store *st, const char *sql, int64_t id);
int db_ns_id(struct store *st, const char *ns, int64_t *id);

/* secret.c, for keys.c */
int reseal_one(struct store *st, const char *ns, const char *name,
	       struct store_secret **out, int64_t *id);

/* seal.c */
int seal_keyfile_read(const char *path, unsigned char *key, char *err);
int seal_keyfile_create(const char *path, unsigned char *key, char *err);
int seal_wrap_key(unsigned char **out, size_t *outlen,
		  const unsigned char *master, const unsigned char *uuid,
		  uint32_t id, const unsigned char *dk);
int seal_unwrap_key(unsigned char *dk, const unsigned char *master,
		    const unsigned char *uuid, uint32_t id,
		    const unsigned char *wrapped, size_t wrappedlen)
	__attribute__((warn_unused_result));
size_t seal_blob_len(size_t plainlen);
int seal_value(unsigned char *blob, const unsigned char *key,
	       const struct seal_ctx *ctx, const uint8_t *plain, size_t len);
int seal_open_value(uint8_t **plain, size_t *len, const unsigned char *key,
		    const struct seal_ctx *ctx, const unsigned char *blob,
		    size_t bloblen) __attribute__((warn_unused_result));
/* The same, into a buffer from the pool (secbuf.c): free with secbuf_free. */
int seal_open_value_pooled(uint8_t **plain, size_t *len, const unsigned char *key,
		    const struct seal_ctx *ctx, const unsigned char *blob,
		    size_t bloblen) __attribute__((warn_unused_result));
const unsigned char *seal_key_find(const struct store *st, uint32_t id);
/* The data key with this id, re-reading the ring once if it is new (a
 * rotation by another process); NULL if the ring has no such key. */
const unsigned char *keyring_key(struct store *st, uint32_t id);
int keyring_load(struct store *st);
int rekey_recover(struct store *st);
int kdf_derive(unsigned char *master, const char *pass, size_t len,
	       const unsigned char *salt, unsigned long long ops, size_t mem);

/* Locked, guarded buffers for values, reused (secbuf.c). */
uint8_t *secbuf_alloc(size_t n);
void secbuf_free(uint8_t *p);

#endif
