/*
 * cluster.h - cluster mode: etcd is the source of truth, each node's store
 * its mirror.  The public part of store/cluster/ (the daemon's follower,
 * secretctl's sync, join and status, [cluster] options); front ends write
 * through store_writer_open() (store.h), never through cluster_secret_put()
 * and its siblings directly.
 *
 * Under a prefix P (default "/secretfs/") etcd holds:
 *
 *   P keyring                  the store's UUID and its data keys, wrapped
 *                              by the master key every node holds
 *   P namespaces/NS            one namespace
 *   P secrets/NS/NAME          one secret as one record: metadata in clear,
 *                              every value already sealed in the store's own
 *                              format (AEAD bound to store UUID, key id,
 *                              namespace, name, uid, generation, key name)
 *
 * Records are JSON; keys and values travel base64-encoded through etcd's v3
 * JSON gateway (libcurl).  etcd never sees a plaintext value.
 *
 * A node's store is an ordinary store (store.h) with the cluster's UUID and
 * key ring.  It mirrors P: cluster_sync() reads all of P at etcd's current
 * revision and applies it, and the last applied revision, in one SQLite
 * transaction; cluster_follow() then watches from the next revision and
 * applies each batch of changes the same way.  Every applied change goes
 * through the store's revision and change log, so a running secretfs makes
 * it visible as it does any local write.
 *
 * Writes (store_writer_*() in cluster mode) are validated and sealed by the local store inside a
 * transaction that is then rolled back; the sealed record goes to etcd in a
 * transaction that compares the object's etcd revision with the one the
 * node had seen, so two writers never silently overwrite each other; the
 * node then catches up to its own write.
 *
 * Like struct store, a struct cluster is for one thread at a time.
 */
#ifndef SECRETFS_CLUSTER_H
#define SECRETFS_CLUSTER_H

#include <stdatomic.h>
#include <stdint.h>

#include "store.h"

#define CLUSTER_DEFAULT_PREFIX "/secretfs/"
#define CLUSTER_DEFAULT_TIMEOUT_MS 5000

/* [cluster] in the configuration. */
struct cluster_opts {
	char *endpoints;     /* comma-separated URLs; NULL: no cluster */
	char *prefix;        /* every key under it */
	char *cacert;        /* TLS: CA bundle to verify etcd with */
	char *cert;          /* TLS: client certificate ... */
	char *key;           /* ... and its key */
	char *username;      /* etcd authentication */
	char *password_file; /* its password: the file's first line */
	unsigned timeout_ms; /* one request (a watch has none) */
};

struct cluster;

/* Connect nothing yet: check the options, read the password.  On failure
 * err (STORE_ERRMSG_MAX bytes) says why. */
int cluster_open(struct cluster **out, const struct cluster_opts *o, char *err)
	__attribute__((warn_unused_result));
void cluster_close(struct cluster *c);
/* The last failure's message; never holds a value. */
const char *cluster_errmsg(const struct cluster *c);
/* The endpoint the last request went to. */
const char *cluster_endpoint(const struct cluster *c);

/*
 * Make st, a new store with no secrets, a member: adopt the cluster's UUID
 * and key ring (which must open with st's master key), or, if etcd holds
 * none yet, publish st's.  *founded says which.
 */
int cluster_join(struct cluster *c, struct store *st, bool *founded);

/* Bring st to etcd's current revision (read through the leader).  *rev
 * (may be NULL): the revision applied. */
int cluster_sync(struct cluster *c, struct store *st, int64_t *rev);

/*
 * Watch etcd from st's revision onwards, applying each batch of changes in
 * one transaction and calling applied(ctx, revision) after each, until
 * *stop becomes nonzero (returns 0) or the watch ends: -ESTALE when etcd
 * has compacted past st's revision (cluster_sync() again), another error
 * when the endpoint failed or lost its leader.
 */
int cluster_follow(struct cluster *c, struct store *st, const atomic_int *stop,
		   void (*applied)(void *ctx, int64_t rev), void *ctx);

/* Apply one line of a watch's stream ({"result": ...}) as cluster_follow()
 * applies each: all of it in one transaction, or none.  For tests and
 * fuzzing: nothing is asked of etcd. */
int cluster_apply_response(struct cluster *c, struct store *st, const char *text,
			   size_t len);

/* --- the follower: a thread keeping a node's store current (follow.c) ---- */

enum cluster_log { CLUSTER_LOG_DEBUG, CLUSTER_LOG_INFO, CLUSTER_LOG_WARNING };
/* How a follower reports: msg never holds a value. */
typedef void (*cluster_log_fn)(void *ctx, enum cluster_log level, const char *msg);
struct cluster_follower;

/* A follower of etcd (options o) for st, a read-write handle it owns from
 * now on (closed by cluster_follower_free(), and on failure by the
 * caller); log (may be NULL) with ctx hears of outages and their ends.
 * Nothing is asked of etcd yet.  0, or -errno with err. */
int cluster_follower_new(struct cluster_follower **out, struct store *st,
			 const struct cluster_opts *o, cluster_log_fn log, void *ctx, char *err)
	__attribute__((warn_unused_result));
/* Catch up once, before the thread starts (so that what is checked against
 * the store next sees it current): 0, or -1 (etcd away: said, and the
 * thread retries). */
int cluster_follower_catch_up(struct cluster_follower *f);
/* Follow in a thread named thread_name (after any fork): 0 or -EAGAIN. */
int cluster_follower_start(struct cluster_follower *f, const char *thread_name);
/* Stop and join the thread, close both handles (NULL accepted). */
void cluster_follower_free(struct cluster_follower *f);
/* The etcd revision applied last, and (*up) whether etcd answered last. */
int64_t cluster_follower_revision(struct cluster_follower *f, bool *up);
/* The endpoint in use, as the thread last saw it: false if none. */
bool cluster_follower_endpoint(struct cluster_follower *f, char *out, size_t len);

/* How many records this handle has skipped because they break the rules
 * (names, sealed values, labels, format), and *why the last one was. */
unsigned long cluster_skipped(const struct cluster *c, const char **why);

/* etcd's current revision (*head), for how far behind a node is. */
int cluster_head(struct cluster *c, int64_t *head);
/* The etcd revision st has applied (0: none yet). */
int store_etcd_revision(struct store *st, int64_t *rev);
/* The store revision after which st's change log holds every change etcd
 * made after etcd_rev (the store's revision when it had applied the last
 * etcd revision at or before it): 0, or -ESTALE when st never held so old a
 * revision (a client must list again). */
int store_etcd_since(struct store *st, int64_t etcd_rev, int64_t *rev);
/* The etcd revision of the change at store revision rev (the first etcd
 * revision applied at or after it): 0, or -ENOENT (a local write). */
int store_etcd_at(struct store *st, int64_t rev, int64_t *etcd_rev);

/* Writes, as store_secret_put(), store_secret_delete(), store_ns_create()
 * and store_ns_delete(), but to etcd; -EAGAIN if the object changed in etcd
 * since this node read it (the message says so, as kubectl does). */
int cluster_secret_put(struct cluster *c, struct store *st, struct store_secret *s,
		       enum store_put_mode mode, enum store_put_result *result)
	__attribute__((warn_unused_result));
/*
 * Several secrets (apply -f): each checked and sealed as above, seeing the
 * ones before it, then all committed in one etcd transaction, or none.  At
 * most CLUSTER_MAX_BATCH, each named once, and within etcd's request limit
 * (1.5 MiB by default) all together; results[i] says what happened to v[i].
 */
#define CLUSTER_MAX_BATCH 64
int cluster_secret_put_batch(struct cluster *c, struct store *st, struct store_secret **v,
			     size_t n, enum store_put_mode mode, enum store_put_result *results)
	__attribute__((warn_unused_result));
int cluster_secret_delete(struct cluster *c, struct store *st, const char *ns,
			  const char *name);
int cluster_ns_create(struct cluster *c, struct store *st, const char *ns);
/* The key ring, as store_key_rotate(), store_reseal() (at most
 * CLUSTER_MAX_BATCH secrets a call, one etcd transaction) and
 * store_key_retire(), through etcd: every node takes the new ring, and the
 * re-sealed records, as they come. */
int cluster_key_rotate(struct cluster *c, struct store *st, uint32_t *new_id);
int cluster_reseal(struct cluster *c, struct store *st, size_t batch, size_t *done,
		   uint64_t *left);
int cluster_key_retire(struct cluster *c, struct store *st, uint32_t id);
int cluster_ns_delete(struct cluster *c, struct store *st, const char *ns);
/* RBAC objects, as store_object_put() and store_object_delete(), through
 * etcd (store/cluster/objects.c). */
int cluster_object_put(struct cluster *c, struct store *st, const char *json,
		       enum store_put_mode mode, enum store_put_result *result)
	__attribute__((warn_unused_result));
int cluster_object_delete(struct cluster *c, struct store *st, const char *kind, const char *ns,
			  const char *name);

#endif
