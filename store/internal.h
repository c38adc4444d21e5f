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
/* Format of a wrapped data key: 1, before metadata tags; 2, in a store
 * whose secrets all carry one (meta.c) */
#define SEAL_RING_FORMAT 2
#define META_TAG_BYTES   32

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

#define SECRET_JOIN_SQL \
	" FROM secrets s JOIN namespaces n ON n.id = s.ns_id"

/* The columns of a secret's row that its tag covers (meta.c), in the
 * order meta_row_of() reads them. */
#define META_COLS "s.id, s.uid, s.type, s.immutable, s.expires, s.generation," \
		  " s.key_id, s.meta_tag"

/* A value's length in bytes, without reading it; -1 for what is not a
 * blob (length() of text counts characters) */
#define BLOB_LEN_SQL(c) "CASE typeof(" c ") WHEN 'blob' THEN length(" c ") ELSE -1 END"

/* What kubectl prints when a write loses a race, or names a version of an
 * object that does not exist yet: spelled here once, for both writers
 * (secret.c, cluster/). */
#define MSG_CONFLICT "Operation cannot be fulfilled on secrets \"%s\": the object has been" \
	" modified; please apply your changes to the latest version and try again"
#define MSG_VERSION_ON_CREATE "secret \"%s\" in namespace \"%s\": resourceVersion should" \
	" not be set on objects to be created"
/* The same for an RBAC object, given objects_resource() and its name; and
 * the apiserver's "not found" for one (objects.c, cluster/objects.c). */
#define MSG_OBJECT_CONFLICT "Operation cannot be fulfilled on %s.rbac.authorization.k8s.io" \
	" \"%s\": the object has been modified; please apply your changes to the latest" \
	" version and try again"
#define MSG_OBJECT_NOT_FOUND "%s.rbac.authorization.k8s.io \"%s\" not found"

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
	Q_SECRET_AFTER,
	Q_NS_AFTER,
	Q_KEY_EACH,
	Q_KEY_STAT,
	Q_VALUE,
	Q_ITEMS,
	Q_PAIRS,
	Q_META_ITEMS,
	Q_META_ROW,
	Q_ITEM_ADD,
	Q_PAIR_ADD,
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
	bool ring_untagged;                  /* a data key wrapped before tags */
	struct meta_seen *seen;              /* what meta_check() verified */
	unsigned char seen_key[32];          /* this handle's, random */
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
/* a change to an RBAC object (objects.c): kind set in the change log */
int db_log_object(struct store *st, int64_t rev, enum store_op op, const char *kind,
		  const char *ns, const char *name, int64_t generation);

/*
 * rows.c: every row write to namespaces, secrets, items and pairs, and the
 * change log entry it makes; inside the caller's transaction, failures
 * recorded on st.  Nothing here checks a rule.
 */
/* A secret's row as both writers put it. */
struct rows_secret {
	int64_t ns_id;
	const char *ns, *name, *uid, *type;
	bool immutable;
	int64_t created, updated, generation;
	int64_t revision;  /* the store revision the change takes */
	int64_t key_id;
	int64_t expires;   /* 0: none */
	int64_t etcd_rev;  /* the etcd revision it mirrors (0: a local write, kept) */
};
int rows_ns_insert(struct store *st, const char *ns, int64_t created, int64_t etcd_rev,
		   int64_t *id);
/* The namespace, its secrets, and a change for each. */
int rows_ns_delete(struct store *st, int64_t id, const char *ns);
/* Insert (*id == 0) or replace (*id: that row, its items and pairs
 * removed) a secret's row and log op at r->revision; *id: the row.  Items,
 * pairs and the tag follow (rows_item_add(), rows_pair_add(),
 * meta_write() or rows_secret_tag()). */
int rows_secret_write(struct store *st, const struct rows_secret *r, enum store_op op,
		      int64_t *id);
int rows_secret_clear(struct store *st, int64_t id);
int rows_item_add(struct store *st, int64_t id, const char *key, uint64_t size,
		  const void *blob, size_t bloblen);
int rows_pair_add(struct store *st, int64_t id, int kind, const char *key, const char *value);
/* A re-seal: the same secret, its items (written again) under key_id. */
int rows_secret_rekeyed(struct store *st, int64_t id, uint32_t key_id);
int rows_secret_tag(struct store *st, int64_t id, const void *tag, size_t len);
/* Delete row id (ns/name at generation) and log it. */
int rows_secret_delete(struct store *st, int64_t id, const char *ns, const char *name,
		       int64_t generation);
/* Which etcd revision a namespace's (ns) or secret's row mirrors. */
int rows_etcd_rev(struct store *st, bool ns, int64_t id, int64_t etcd_rev);

/* types.c: the number of rule violations of s's type (0: valid), listed
 * in buf as Kubernetes prints them, comma-separated */
int types_validate(const struct store_secret *s, char *buf, size_t len);
int types_parse_rfc3339(const char *v, size_t n, int64_t *t);

/* secret.c: s's labels and annotations against Kubernetes' rules: -EINVAL,
 * and the handle's message says why. */
int secret_pairs_validate(struct store *st, const struct store_secret *s);
/* 0 if value, kubectl's last-applied annotation, holds no value (is as
 * store_last_applied_redact() leaves it); -EINVAL if it holds one or is no
 * JSON object, -ENOMEM.  The one check of rows_pair_add() and of a
 * cluster record (cl_record_check()). */
int last_applied_check(const char *value);

/* secret.c: one-off statements inside the caller's transaction, failures
 * recorded on st */
int db_prep(struct store *st, const char *sql, sqlite3_stmt **q);
int db_step_done(struct store *st, sqlite3_stmt *q, const char *what); /* finalizes q */
int db_exec_id(struct store *st, const char *sql, int64_t id);
int db_ns_id(struct store *st, const char *ns, int64_t *id);

/* secret.c: a new random (version 4) UUID */
void uid_new(char out[37]);

/* objects.c: the RBAC objects.  A row as both writers put it (strings
 * not owned); ns is "" for the cluster kinds. */
struct objects_row {
	const char *kind, *ns, *name, *uid, *body;
	int64_t created, generation, revision, etcd_rev;
	uint32_t key_id;
	const void *tag;
	size_t taglen;
};
/* An object a writer gave, parsed and checked (names, namespace, size),
 * its body canonical without what the store owns (owned strings). */
struct objects_input {
	char *kind, *ns, *name, *body;
	int64_t expect_rev; /* metadata.resourceVersion given, or 0 */
};
bool objects_kind_valid(const char *kind);
bool objects_kind_namespaced(const char *kind);
const char *objects_resource(const char *kind); /* "roles", ... */
/* The kind whose resource and a '/' begin path ("roles/ns/x": "Role"), *len
 * the length of that prefix; NULL (and *len untouched) if none does. */
const char *objects_kind_of_path(const char *path, size_t *len);
int objects_prepare(struct store *st, const char *json, struct objects_input *in);
void objects_input_release(struct objects_input *in);
/* The local write of a prepared object (its own transaction, or a
 * savepoint of the batch). */
int objects_put_prepared(struct store *st, const struct objects_input *in,
			 enum store_put_mode mode, enum store_put_result *result);
/* r's tag under its key_id's data key */
int objects_tag(struct store *st, const struct objects_row *r, unsigned char tag[META_TAG_BYTES]);
/* Insert or replace an object's row and log op at r->revision (rows of the
 * caller's transaction, as rows.c's). */
int rows_object_write(struct store *st, const struct objects_row *r, enum store_op op);
/* Which etcd revision an object's row mirrors (no change logged). */
int rows_object_etcd_rev(struct store *st, const char *kind, const char *ns, const char *name,
			 int64_t etcd_rev);
/* Delete one (at generation) and log it at a new revision. */
int rows_object_delete(struct store *st, const char *kind, const char *ns, const char *name,
		       int64_t generation);

/* secret.c, for keys.c */
int reseal_one(struct store *st, const char *ns, const char *name,
	       struct store_secret **out, int64_t *id);

/* meta.c: the keyed-hash encoders every tag uses (the secrets' metadata
 * tag here, the RBAC objects' in objects.c): integers as 8 big-endian
 * bytes, strings length-prefixed, so that no two inputs encode alike */
void tag_hash_bytes(crypto_generichash_state *h, const void *p, size_t n);
void tag_hash_u64(crypto_generichash_state *h, uint64_t v);
void tag_hash_str(crypto_generichash_state *h, const char *s, size_t n);
void tag_hash_cstr(crypto_generichash_state *h, const char *s); /* NULL: "" */

/* meta.c: the metadata tag of a secret */
struct meta_row {
	const char *ns, *name, *uid, *type;
	bool immutable;
	int64_t expires, generation;
	uint32_t key_id;
	const void *tag;
	size_t taglen;
};

/* What a read found besides the row, for meta_check() to compare with what
 * was verified. */
struct meta_key_state {
	bool whole;           /* count and total are the secret's keys and sizes */
	uint64_t count, total;
	const char *key;      /* one key (NULL: none): */
	bool present;         /* whether its row is there, */
	uint64_t size;        /* its size column */
	int64_t bloblen;      /* and its blob's length (-1: not read) */
};

/* r from META_COLS at column col of q; returns the row id.  r points into
 * q's row: valid until q moves. */
int64_t meta_row_of(sqlite3_stmt *q, int col, const char *ns, const char *name,
		    struct meta_row *r);
/* Check r's tag against its rows in full: 0 or -EBADMSG (message set). */
int meta_verify(struct store *st, int64_t id, const struct meta_row *r)
	__attribute__((warn_unused_result));
int meta_verify_id(struct store *st, int64_t id) __attribute__((warn_unused_result));
/* The same, answered from what this handle verified when r is that row,
 * comparing want (may be NULL) with it. */
int meta_check(struct store *st, int64_t id, const struct meta_row *r,
	       const struct meta_key_state *want) __attribute__((warn_unused_result));
/* Inside a write: compute row id's tag from its rows and store it
 * (rows_secret_tag() stores a record's, in cluster mode). */
int meta_write(struct store *st, int64_t id);
int meta_upgrade(struct store *st);
void meta_forget(struct store *st);
/*
 * keys.c: the one re-seal loop.  Inside the caller's transaction, re-seal
 * up to batch secrets that another key than the active one seals, calling
 * each(ctx, ns, name) (may be NULL) after each; *done: how many.  Both
 * store_reseal() and the cluster's (which sends what it re-sealed to etcd,
 * then rolls back) run it.
 */
typedef int (*reseal_fn)(void *ctx, const char *ns, const char *name);
int reseal_batch(struct store *st, size_t batch, size_t *done, reseal_fn each, void *ctx);
/* How many secrets another key than the active one still seals. */
int reseal_left(struct store *st, uint64_t *n);
/* keys.c: wrap every data key again under master (inside a transaction) */
int keyring_rewrap(struct store *st, const unsigned char *master);

/* seal.c */
int seal_keyfile_read(const char *path, unsigned char *key, char *err);
int seal_keyfile_create(const char *path, unsigned char *key, char *err);
int seal_wrap_key(unsigned char **out, size_t *outlen,
		  const unsigned char *master, const unsigned char *uuid,
		  uint32_t id, const unsigned char *dk);
int seal_unwrap_key(unsigned char *dk, int *format, const unsigned char *master,
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

/* db.c: the key ring.  The data key with this id, re-reading the ring
 * once if it is new (a rotation by another process); NULL if the ring has
 * no such key. */
const unsigned char *keyring_key(struct store *st, uint32_t id);
int keyring_load(struct store *st);
int rekey_recover(struct store *st);
int kdf_derive(unsigned char *master, const char *pass, size_t len,
	       const unsigned char *salt, unsigned long long ops, size_t mem);

/* Locked, guarded buffers for values, reused (secbuf.c). */
uint8_t *secbuf_alloc(size_t n);
void secbuf_free(uint8_t *p);

#endif
