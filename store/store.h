/*
 * store.h - the encrypted secret store (libstore), its one public header.
 *
 * A store is one SQLite database (WAL mode) plus a 32-byte master key file.
 * It holds namespaces and Kubernetes-style secrets: type, labels, annotations,
 * an immutable flag, a creation time, a per-secret generation, and data as
 * key -> bytes.  Every value is sealed with XChaCha20-Poly1305 under a data
 * key from the store's key ring; the data keys are wrapped by the master key.
 * Names (namespaces, secrets, keys, labels) are plaintext; values never are.
 * What readers act on besides the values (sizes, type, immutable, expiry,
 * labels, annotations) is authenticated by a per-secret tag (meta.c).
 *
 * Conventions, for every function here:
 *  - return 0 on success or a negative errno: -EINVAL for a request that breaks
 *    a rule (name syntax, size limit, type change, immutability), -ENOENT for a
 *    missing object, -EEXIST for an existing one, -EBADMSG for a value or a
 *    secret's metadata that fails authentication (a read that meets it, and
 *    a write that would act on it), -EIO for a database failure, -ENOMEM;
 *  - out-parameters are written only on success;
 *  - after a failure store_errmsg() says what failed, naming the object and
 *    the rule, and never containing a value;
 *  - plaintext values live in sodium_malloc() memory and are wiped when freed.
 *
 * A struct store is not thread-safe: give each thread its own handle, or
 * serialise calls.  The library never prints and never exits.
 */
#ifndef SECRETFS_STORE_H
#define SECRETFS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_MASTER_KEY_BYTES 32
#define STORE_MAX_DATA_BYTES   1048576 /* sum of one secret's values */
#define STORE_MAX_NAMESPACE    63      /* DNS-1123 label */
#define STORE_MAX_NAME         253     /* DNS-1123 subdomain */
#define STORE_MAX_KEY          253     /* config-map key */
#define STORE_MAX_LABEL        63      /* a label's value, a qualified name's NAME */
#define STORE_MAX_ANNOTATIONS  262144  /* all of one object's annotations, keys too */
#define STORE_MAX_KEYS         4096    /* data keys of one secret (ours: see README) */
#define STORE_MAX_OBJECT       1572864 /* the whole object: etcd's default request limit */
#define STORE_ERRMSG_MAX       512
#define STORE_DEFAULT_NAMESPACE "default"
#define STORE_TYPE_OPAQUE      "Opaque"

/*
 * kubectl's copy of the last applied manifest.  The store never holds a
 * value in it: every value under data and stringData is STORE_REDACTED,
 * enforced on every write (store_secret_put() redacts, the row writer
 * refuses anything else).  "***" because it is what kubectl diff shows for
 * a value, and because it is not base64: a redacted copy fed back as a
 * manifest fails loudly instead of storing a wrong value.  kubectl's
 * three-way merge needs only which keys the last apply set.
 */
#define STORE_LAST_APPLIED     "kubectl.kubernetes.io/last-applied-configuration"
#define STORE_REDACTED         "***"

struct store;

/* store_open() flags */
#define STORE_RDONLY 0x1 /* never write; what the driver uses */
/* with STORE_RDONLY: read the database file alone, ignoring and never
 * touching its -wal and -shm (SQLite's immutable=1), which may still be
 * those of another file that was at the same path; sees no later commit */
#define STORE_FILE_ONLY 0x2

/* One key of a secret's data.  value is NULL when only metadata was read. */
struct store_item {
	char *key;
	uint8_t *value; /* plaintext in locked memory (store_value_alloc's), or NULL */
	size_t len;
};

/* A label or an annotation. */
struct store_pair {
	char *key;
	char *value;
};

/*
 * A secret, as read from the store or as built for store_secret_put().
 * Arrays are sorted by key.  Free with store_secret_free().
 */
struct store_secret {
	char *namespace;
	char *name;
	char *type;        /* never NULL once stored; "" means Opaque on input */
	char uid[37];      /* set by the store on creation */
	bool immutable;
	int64_t created;   /* unix seconds, set by the store */
	int64_t updated;   /* unix seconds of the last change */
	int64_t generation;/* 1 on creation, +1 on every change */
	int64_t revision;  /* store revision of the last change; on input to
			    * store_secret_put(), 0 or the one the writer read
			    * (a manifest's resourceVersion): the write then
			    * fails with -EAGAIN if the secret has moved since */
	uint32_t key_id;   /* data key that seals the values */
	int64_t expires;   /* unix seconds it stops existing (bootstrap tokens), or 0 */
	/* cluster mode: the etcd revision it was last written at.  Set it on
	 * input to the one read, and cluster_secret_put() refuses if it has
	 * moved since (as a resourceVersion does); 0: whatever is there */
	int64_t etcd_rev;
	struct store_pair *labels;
	size_t nlabels;
	struct store_pair *annotations;
	size_t nannotations;
	struct store_item *items;
	size_t nitems;
};

/* Metadata of a namespace, a secret or one key, without any value. */
struct store_stat {
	int64_t generation; /* secret's generation (0 for a namespace) */
	int64_t revision;   /* store revision of the secret's last change: unlike
			     * the generation, never repeats for a name, even
			     * across delete and re-create */
	int64_t created;
	int64_t updated;
	uint64_t size;      /* key: value length; secret: sum of values */
	uint64_t count;     /* namespace: secrets; secret: keys; key: 1 */
	bool immutable;
	int64_t expires;    /* secret or key: when it stops existing, or 0 */
};

/* What one write did to a secret. */
enum store_put_result {
	STORE_CREATED,
	STORE_UPDATED,
	STORE_UNCHANGED,
};

enum store_put_mode {
	STORE_PUT_CREATE,  /* fail with -EEXIST if it exists */
	STORE_PUT_REPLACE, /* fail with -ENOENT if it does not */
	STORE_PUT_APPLY,   /* create or update */
};

enum store_op {
	STORE_OP_NS_CREATE = 1,
	STORE_OP_NS_DELETE,
	STORE_OP_CREATE,
	STORE_OP_UPDATE,
	STORE_OP_DELETE,
};

/* One entry of the change log: what changed at a revision. */
struct store_change {
	int64_t revision;
	enum store_op op;
	const char *namespace;
	const char *name;   /* NULL for namespace changes */
	int64_t generation; /* the secret's generation after the change */
	int64_t time;       /* unix seconds */
};

/* Visitor for the *_each functions: return 0 to go on, anything else stops
 * the walk and is returned. */
typedef int (*store_each_fn)(void *ctx, const char *name,
			     const struct store_stat *stat);
typedef int (*store_change_fn)(void *ctx, const struct store_change *change);

/* --- lifecycle ------------------------------------------------------- */

/*
 * Create a new store at db_path with a new random master key written to
 * key_path (mode 0400, created exclusively) and the "default" namespace.
 * Refuses (-EEXIST) if either file exists.  Missing parent folders of either
 * path are created with mode 0700.  On failure nothing is left behind and err
 * (STORE_ERRMSG_MAX bytes) says why.
 */
int store_create(const char *db_path, const char *key_path, char *err)
	__attribute__((warn_unused_result));

/* The same, sealed under the master key already in key_path (existing_key),
 * e.g. a copy of the one every node of a cluster holds. */
int store_create_with(const char *db_path, const char *key_path, bool existing_key,
		      char *err) __attribute__((warn_unused_result));

/*
 * Open an existing store.  The key file must be a regular file of exactly 32
 * bytes, owned by the effective user and not accessible by group or others.
 * A wrong master key fails with -EKEYREJECTED.  On success *out owns the
 * handle (close with store_close); on failure err says why.
 */
int store_open(struct store **out, const char *db_path, const char *key_path,
	       int flags, char *err) __attribute__((warn_unused_result));

/* How to unlock a store: its key file, or, for a store rekeyed to a
 * passphrase, the passphrase (never from argv: a terminal or a fd). */
struct store_unlock {
	const char *key_file;
	const char *passphrase; /* NULL if none was given */
	size_t passlen;
};

/* store_open() with a passphrase as well: -ENOKEY when the store needs one
 * and none was given, -EKEYREJECTED for a wrong one. */
int store_open_with(struct store **out, const char *db_path, const struct store_unlock *u,
		    int flags, char *err) __attribute__((warn_unused_result));

/*
 * Another read-only handle on the store from is open on (the same file,
 * the same flags), unlocked with from's master key: no key file read, no
 * passphrase derived again.  For a process that reads from several threads
 * at once, one handle each (a handle is not thread-safe), with a smaller
 * page cache than store_open()'s (256 KiB).  from must not be
 * in use by another thread meanwhile.  On success *out owns the handle
 * (store_close); on failure err says why.
 */
int store_open_reader(struct store **out, struct store *from, char *err)
	__attribute__((warn_unused_result));

/* Close a handle and wipe its keys.  Accepts NULL. */
void store_close(struct store *st);

/* The message of the last failure on this handle ("" if none). */
const char *store_errmsg(const struct store *st);

/* SQLite's quick_check: 0, or -EUCLEAN with what is wrong. */
int store_check_integrity(struct store *st);

/* The store-wide revision: increases on every committed write. */
int store_revision(struct store *st, int64_t *out);
/* The schema version of every store this library opens (opening migrates
 * an older one, and refuses a newer one). */
int store_schema_version(void);

/* Refuse (-EDQUOT) to create a secret in a namespace holding max secrets
 * already; 0 lifts the limit.  For this handle's writes. */
void store_set_max_per_namespace(struct store *st, uint64_t max);
/* SQLite's page cache of this handle, in KiB (its default is 2 MiB): a
 * process that holds one handle per thread keeps each small, the kernel's
 * page cache doing the rest.  0, or -EIO. */
int store_set_cache_kib(struct store *st, int kib);

/* Is the database still the store this handle opened?  0 if so; -ESTALE
 * if its UUID is another's (a backup of another store restored in place,
 * e.g. by sqlite3's .restore): reopen it.  -EIO if it cannot be read. */
int store_check_identity(struct store *st);

/* The store's UUID as 36 characters plus NUL. */
void store_uuid(const struct store *st, char out[37]);

/* --- validation (Kubernetes rules) ------------------------------------
 * Each returns 0 or -EINVAL and, on failure, writes the reason (without the
 * object's prefix) to why (STORE_ERRMSG_MAX bytes). */
int store_check_namespace(const char *ns, char *why);
int store_check_name(const char *name, char *why);
int store_check_key(const char *key, char *why);
/* A label's or an annotation's key (a qualified name), a label's value. */
int store_check_label_key(const char *key, char *why);
int store_check_label_value(const char *value, char *why);
/* jansson's error (json_error_t's text, line, column) for input that may
 * hold values (a body, a patch, a manifest): what went wrong and where, into buf (len bytes), without the
 * input jansson quotes after "near" (it would print a value's bytes). */
void store_json_error(char *buf, size_t len, const char *text, int line, int column);
/* s (n bytes, NUL bytes included) between double quotes for a message, as
 * Go's %q shows it: '"' and '\' escaped, control bytes as \xNN, cut after 64
 * bytes with "...".  Never give it a secret value.  Returns out (len >= 16). */
char *store_quote(char *out, size_t len, const char *s, size_t n);

/* --- namespaces ------------------------------------------------------ */

int store_ns_create(struct store *st, const char *ns);
/* Deletes the namespace and every secret in it.  "default" cannot go. */
int store_ns_delete(struct store *st, const char *ns);
int store_ns_stat(struct store *st, const char *ns, struct store_stat *out);
/* Visit every namespace, sorted by name. */
int store_ns_each(struct store *st, store_each_fn fn, void *ctx);

/* --- secrets --------------------------------------------------------- */

/* Allocate an empty secret to fill and pass to store_secret_put(). */
struct store_secret *store_secret_new(const char *ns, const char *name,
				      const char *type);
/* Free a secret, wiping every value.  Accepts NULL. */
void store_secret_free(struct store_secret *s);
/* The item of s named key, or NULL (items are sorted by key: a binary search). */
const struct store_item *store_secret_item(const struct store_secret *s, const char *key);
/* Free an array from store_secret_list().  Accepts NULL. */
void store_secret_list_free(struct store_secret **v, size_t n);

/* Add a data item, copying the value into sodium_malloc memory.
 * -EEXIST if the key is already there, -ENOMEM. */
int store_secret_add_item(struct store_secret *s, const char *key,
			  const void *value, size_t len);
/* Set (or replace) a label or an annotation. */
int store_secret_set_label(struct store_secret *s, const char *key,
			   const char *value);
int store_secret_set_annotation(struct store_secret *s, const char *key,
				const char *value);
/* Remove one; false if s had none by that key. */
bool store_secret_remove_label(struct store_secret *s, const char *key);
bool store_secret_remove_annotation(struct store_secret *s, const char *key);

/*
 * The last-applied annotation's value in, with every value under data and
 * stringData replaced by STORE_REDACTED, kubectl's format kept (compact
 * JSON, sorted keys, the trailing newline if in had one).  *out is
 * malloc'd.  -EINVAL if in is not a JSON object (it cannot be checked to
 * hold no value), -ENOMEM.
 */
int store_last_applied_redact(const char *in, char **out);

/* The rules store_secret_put() checks of s itself (names, keys, sizes,
 * labels, annotations), without writing or reading anything: 0, or
 * -EINVAL with store_errmsg() saying why.  For a front end that would
 * otherwise do costly work (a three-way merge) on an object the store will
 * refuse anyway. */
int store_secret_check(struct store *st, const struct store_secret *s);
/*
 * Write a secret, validating it first as the Kubernetes API server does:
 * names and keys, the 1 MiB data limit, type never changing, an immutable
 * secret's data never changing and it never becoming mutable again.  All or
 * nothing: on failure the store is exactly as it was.  On success the store
 * fills in s's uid, created, updated, generation, revision and key_id, and
 * *result (may be NULL) says what happened.
 */
int store_secret_put(struct store *st, struct store_secret *s,
		     enum store_put_mode mode, enum store_put_result *result)
	__attribute__((warn_unused_result));

/* Read flags */
#define STORE_WITH_VALUES 0x1 /* decrypt the values too */

/*
 * Read one secret.  Without STORE_WITH_VALUES the items carry keys and
 * lengths only.  A value that fails to authenticate fails the whole read with
 * -EBADMSG.  On success *out is the caller's to free with store_secret_free.
 */
int store_secret_get(struct store *st, const char *ns, const char *name,
		     unsigned flags, struct store_secret **out)
	__attribute__((warn_unused_result));

/*
 * Read the metadata (no values) of every secret in ns, or in every namespace
 * when ns is NULL, sorted by namespace then name.  *out is an array of *n
 * secrets, freed with store_secret_list_free.
 */
int store_secret_list(struct store *st, const char *ns,
		      struct store_secret ***out, size_t *n);

/* Visitor for store_secret_walk(): s is lent for the call only (its
 * values, if read, are wiped when it returns); return 0 to go on, anything
 * else stops the walk and is returned. */
typedef int (*store_secret_fn)(void *ctx, const struct store_secret *s);

/*
 * Visit the secrets store_secret_list() would return (ns, or every
 * namespace when ns is NULL; each row's tag verified before anything of it
 * is used; expired ones left out), in its order, in one read transaction,
 * one secret in memory at a time: with its values (decrypted as its turn
 * comes) when flags has STORE_WITH_VALUES.  When after_ns is not NULL the
 * walk starts after (after_ns, after_name) in that order (both or neither),
 * so a caller that stops it resumes after the last secret it was given,
 * in a new transaction (what changed meanwhile is seen).  fn must not use
 * st.  A row or value that fails authentication stops the walk with
 * -EBADMSG; what fn had been given stays given.
 */
int store_secret_walk(struct store *st, const char *ns, const char *after_ns,
		      const char *after_name, unsigned flags, store_secret_fn fn, void *ctx);

int store_secret_delete(struct store *st, const char *ns, const char *name);

int store_secret_stat(struct store *st, const char *ns, const char *name,
		      struct store_stat *out);
/* Visit the secrets of a namespace, sorted by name. */
int store_secret_each(struct store *st, const char *ns, store_each_fn fn,
		      void *ctx);
/* Visit the keys of one secret, all from one generation, sorted. */
int store_key_each(struct store *st, const char *ns, const char *name,
		   store_each_fn fn, void *ctx);
int store_key_stat(struct store *st, const char *ns, const char *name,
		   const char *key, struct store_stat *out);

/*
 * Read and open one value.  On success *value (locked and guarded memory,
 * free with store_value_free) holds *len bytes, and *stat the metadata of that
 * generation.  -EBADMSG if it fails authentication: no byte is returned.
 */
int store_value_get(struct store *st, const char *ns, const char *name,
		    const char *key, uint8_t **value, size_t *len,
		    struct store_stat *stat) __attribute__((warn_unused_result));
/* Locked, guarded memory for n bytes of a value, as store_value_get's. */
uint8_t *store_value_alloc(size_t n);
/* Wipe and free a value from store_value_get or store_value_alloc.
 * Accepts NULL. */
void store_value_free(uint8_t *value);

/* --- batches ----------------------------------------------------------
 * Group many writes into one transaction (one sync to disk instead of one
 * per write): store_batch_begin(), the writes, store_batch_commit().  Each
 * write in a batch still succeeds or fails whole; nothing is visible to
 * readers until the commit; store_batch_rollback() undoes them all. */
int store_batch_begin(struct store *st);
int store_batch_commit(struct store *st) __attribute__((warn_unused_result));
void store_batch_rollback(struct store *st);

/* --- the data-key ring ------------------------------------------------------ */

struct store_keyinfo {
	uint32_t id;
	int64_t created;
	uint64_t secrets; /* how many secrets it seals */
	bool active;      /* the key new values are sealed with */
};

typedef int (*store_keyring_fn)(void *ctx, const struct store_keyinfo *k);

/* Add a new random data key, wrapped by the master key, and make it the
 * one that seals.  Existing values stay under their keys until re-sealed. */
int store_key_rotate(struct store *st, uint32_t *new_id);
/*
 * Re-seal up to batch secrets not sealed by the active key (one
 * transaction; no secret changes: same values, generation and revision).
 * *done says how many, *left how many remain.
 */
int store_reseal(struct store *st, size_t batch, size_t *done, uint64_t *left);
int store_keyring_each(struct store *st, store_keyring_fn fn, void *ctx);
/* Remove a data key no secret uses any more (-EBUSY if one does, or if it
 * is the active key). */
int store_key_retire(struct store *st, uint32_t id);

/*
 * Replace the master key: a new random one in the key file (the old file is
 * replaced; keep a copy of the new one), every data key wrapped again under
 * it.  Values are untouched.  Crash-safe: see keys.c.
 */
int store_rekey(struct store *st);
/* Replace the master key with one derived from a passphrase (Argon2id,
 * crypto_pwhash's interactive limits, parameters stored in the store); the
 * key file no longer plays a part.  store_rekey() goes back to a key file. */
int store_rekey_passphrase(struct store *st, const char *pass, size_t len);

/* --- the writer: local, or the cluster through etcd -------------------------
 * Every change a front end (secretctl, later an API server) makes goes
 * through a writer, chosen once when it is opened: to the store itself, or,
 * when [cluster] names endpoints, to etcd, which this node's store then
 * mirrors (store/cluster/).  The calls mean what the store_ ones of the same
 * name do; in cluster mode a write that lost a race with another node
 * fails with -EAGAIN and kubectl's words.  After a failure
 * store_writer_errmsg() says why. */

struct store_writer;
struct cluster_opts; /* store/cluster.h: [cluster] */
struct cluster;

/* A writer for st (which must outlive it): through etcd when co is not
 * NULL and names endpoints, else local.  Nothing is asked of etcd yet.  On
 * failure err (STORE_ERRMSG_MAX bytes) says why; free with
 * store_writer_free() (accepts NULL). */
int store_writer_open(struct store_writer **out, struct store *st,
		      const struct cluster_opts *co, char *err)
	__attribute__((warn_unused_result));
void store_writer_free(struct store_writer *w);
const char *store_writer_errmsg(const struct store_writer *w);
/* The cluster handle a cluster writer writes through (for reading etcd:
 * sync, status, join), owned by w; NULL for a local writer. */
struct cluster *store_writer_cluster(const struct store_writer *w);

int store_writer_put(struct store_writer *w, struct store_secret *s,
		     enum store_put_mode mode, enum store_put_result *result)
	__attribute__((warn_unused_result));
/* n secrets, each seeing the ones before it, all written or none;
 * results[i] says what happened to v[i].  In cluster mode one etcd
 * transaction: at most CLUSTER_MAX_BATCH, each named once.  Not inside a
 * store_batch_begin().  Each v[i] written is filled in (uid, revision, ...)
 * as by store_secret_put(), even when a later one then fails. */
int store_writer_put_batch(struct store_writer *w, struct store_secret **v, size_t n,
			   enum store_put_mode mode, enum store_put_result *results)
	__attribute__((warn_unused_result));
int store_writer_delete(struct store_writer *w, const char *ns, const char *name);
int store_writer_ns_create(struct store_writer *w, const char *ns);
int store_writer_ns_delete(struct store_writer *w, const char *ns);
int store_writer_key_rotate(struct store_writer *w, uint32_t *new_id);
/* As store_reseal(); in cluster mode at most CLUSTER_MAX_BATCH a call. */
int store_writer_reseal(struct store_writer *w, size_t batch, size_t *done, uint64_t *left);
int store_writer_key_retire(struct store_writer *w, uint32_t id);

/* RBAC objects, through the writer (local, or etcd in cluster mode): as
 * store_object_put() and store_object_delete() below. */
int store_writer_object_put(struct store_writer *w, const char *json, enum store_put_mode mode,
			    enum store_put_result *result) __attribute__((warn_unused_result));
int store_writer_object_delete(struct store_writer *w, const char *kind, const char *ns,
			       const char *name);

/* --- RBAC objects ------------------------------------------------------------
 * Roles, ClusterRoles, RoleBindings and ClusterRoleBindings, kept as JSON for
 * the API server's authorizer (kube/rbac.h), each authenticated by a tag as a
 * secret's metadata is (objects.c): a read that meets a row whose tag fails
 * is -EBADMSG, and a list fails whole.  Front ends write them through the
 * writer (store_writer_object_put); store_object_put is its local path. */

struct store_object {
	char *kind;      /* Role, ClusterRole, RoleBinding, ClusterRoleBinding */
	char *namespace; /* "" for the cluster kinds */
	char *name;
	/* the object as JSON text, with metadata.uid, creationTimestamp and
	 * resourceVersion (the etcd revision in cluster mode, else the store
	 * revision) filled in by the store */
	char *body;
	char uid[37];
	int64_t created, generation, revision, etcd_rev;
};

/* One change to an RBAC object (store_object_changes). */
struct store_object_change {
	int64_t revision;
	enum store_op op; /* STORE_OP_CREATE, _UPDATE or _DELETE */
	const char *kind, *namespace, *name;
	int64_t generation;
	int64_t time;
};
typedef int (*store_object_change_fn)(void *ctx, const struct store_object_change *change);

/*
 * Write an object given as JSON text (kind and metadata.name, and
 * metadata.namespace for Role and RoleBinding, whose namespace must exist;
 * at most STORE_MAX_OBJECT bytes).  The store checks names and shape only:
 * RBAC's own rules (kube/rbac.h: rbac_validate, rbac_confirm_no_escalation)
 * are the caller's, before.  A metadata.resourceVersion given must still be
 * the object's (else -EAGAIN with kubectl's words).  On success *result
 * (may be NULL) says what happened and *out (may be NULL) is the object as
 * now stored (free with store_object_free).
 */
int store_object_put(struct store *st, const char *json, enum store_put_mode mode,
		     enum store_put_result *result, struct store_object **out)
	__attribute__((warn_unused_result));
/* ns is ignored for the cluster kinds. */
int store_object_get(struct store *st, const char *kind, const char *ns, const char *name,
		     struct store_object **out) __attribute__((warn_unused_result));
/* Every object of kind (NULL: the four) in ns (NULL: everywhere, the
 * cluster kinds too), sorted by kind, namespace, name; free with
 * store_object_list_free. */
int store_object_list(struct store *st, const char *kind, const char *ns,
		      struct store_object ***out, size_t *n) __attribute__((warn_unused_result));
int store_object_delete(struct store *st, const char *kind, const char *ns, const char *name);
void store_object_free(struct store_object *o);
void store_object_list_free(struct store_object **v, size_t n);
/* Visit every change to an RBAC object after revision since, oldest first
 * (store_changes() visits those of secrets and namespaces only; both share
 * the store's revisions). */
int store_object_changes(struct store *st, int64_t since, store_object_change_fn fn, void *ctx);

/* --- events -------------------------------------------------------------- */

struct store_event {
	int64_t id;         /* the row's: increases with each event */
	int64_t revision;   /* the store revision it took (0: before schema 7) */
	int64_t seq;        /* its place among its namespace's events, oldest
			     * (by time, then id) first, from 0 */
	int64_t time;
	const char *type;   /* Normal or Warning */
	const char *reason; /* e.g. InvalidEnvironmentVariableNames */
	const char *namespace;
	const char *object; /* e.g. secret/db */
	const char *message;
};

typedef int (*store_event_fn)(void *ctx, const struct store_event *ev);

/* Record an event (its own transaction).  Never put a value in it. */
int store_event_add(struct store *st, const char *type, const char *reason,
		    const char *ns, const char *object, const char *message);
/* Visit the events of ns (NULL: all), oldest first. */
int store_events(struct store *st, const char *ns, store_event_fn fn, void *ctx);
/* Visit every event recorded after store revision since, in revision
 * order (each event takes a revision of its own, as a change does; events
 * are never changed or deleted, so this table is their change log). */
int store_events_since(struct store *st, int64_t since, store_event_fn fn, void *ctx);

/* --- change log ------------------------------------------------------ */

/* Visit every change after revision since, oldest first. */
int store_changes(struct store *st, int64_t since, store_change_fn fn,
		  void *ctx);

#endif
