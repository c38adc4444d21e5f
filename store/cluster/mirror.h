/*
 * mirror.h - what the files of the cluster mode (store/cluster/) share; not
 * for use outside them.  The public part is store/cluster.h.
 *
 * The rule that keeps a mirror right: meta 'etcd_revision' (W) says that
 * the store holds exactly etcd's prefix as of revision W.  A sync reads the
 * whole prefix at etcd's revision H and applies it with W = H; a watch
 * batch applies only events after W and moves W to its last event.  Both
 * happen in one SQLite transaction that reads W first, so a node's secretfs
 * and a secretctl on the same node can both catch up at once: whoever
 * commits second skips what the first already applied.  Each object also
 * keeps the etcd revision it was last written at (etcd_rev), which a write
 * compares in its etcd transaction.
 *
 * The files, by job:
 *   cluster.c  the handle, its errors, etcd keys and requests
 *   record.c   the record format: a secret or the key ring as etcd holds
 *              it, and the checks a record must pass before it is applied
 *   apply.c    applying records to the node's store (through rows.c, as any
 *              write), sync and follow
 *   write.c    writes through etcd: compare-and-put transactions
 *   keyring.c  the key ring through etcd (rotate, retire) and joining
 *   objects.c  the RBAC objects: records, writes, applying them
 *   etcd.c     etcd's v3 JSON gateway over libcurl
 */
#ifndef SECRETFS_CLUSTER_MIRROR_H
#define SECRETFS_CLUSTER_MIRROR_H

#include <jansson.h>

#include "../cluster.h"
#include "../internal.h"
#include "etcd.h"

#define RECORD_FORMAT 1

struct cluster {
	struct etcd *etcd;
	char *prefix;
	size_t plen;
	unsigned long skipped;          /* records refused (see record.c) */
	char skip_why[STORE_ERRMSG_MAX]; /* the last one's reason */
	char err[STORE_ERRMSG_MAX];
};

/* cluster.c: failures, recorded on c (cl_store_fail: st's message); a
 * record refused (-EPROTO) is counted and its reason kept, and 0 returned */
int cl_fail(struct cluster *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int cl_skip(struct cluster *c, struct store *st, int err);
int cl_store_fail(struct cluster *c, struct store *st, int err);
/* cluster.c: etcd keys (malloc'd) and requests */
char *cl_key_of(const struct cluster *c, const char *a, const char *b, const char *d);
char *cl_secret_key(const struct cluster *c, const char *ns, const char *name);
json_t *cl_b64_str(const char *s);
json_t *cl_int_str(int64_t v);
int cl_call(struct cluster *c, const char *path, json_t *body, json_t **resp);
json_t *cl_range_req(const char *key, const char *end);
const char *cl_kv_key(const struct cluster *c, json_t *kv, unsigned char **raw);
json_t *cl_kv_value(json_t *kv);

/* record.c: the record of ns/name (or the key ring) as this node's store
 * has it, *etcd_rev the revision it mirrors; a record's check (-EPROTO
 * and st's message when it breaks a rule) */
json_t *cl_secret_record(struct store *st, const char *ns, const char *name,
			 int64_t *etcd_rev);
int cl_record_check(struct store *st, const char *ns, const char *name, json_t *rec);
json_t *cl_keyring_record(struct store *st);

/* apply.c: apply one record (rel: its key under the prefix), the key ring;
 * catch this node up to its own write at rev */
int cl_keyring_apply(struct store *st, json_t *rec);
int cl_apply_one(struct store *st, const char *rel, json_t *rec, int64_t etcd_rev);
int cl_catch_up_n(struct cluster *c, struct store *st, int64_t rev, char **rels,
		  json_t **recs, size_t n);
int cl_catch_up(struct cluster *c, struct store *st, int64_t rev, char *rel, json_t *rec);

/* objects.c: apply an RBAC object's key (rel starts "rbac/") */
int cl_object_apply(struct store *st, const char *rel, json_t *rec, int64_t etcd_rev);

/* write.c: etcd transactions */
json_t *cl_cmp_exists(const char *key, bool exists);
json_t *cl_cmp_mod(const char *key, int64_t rev);
int cl_txn(struct cluster *c, json_t *compare, json_t *success, bool *ok, int64_t *rev);
json_t *cl_put_op(const char *key, json_t *rec);
int cl_mod_revision_now(struct cluster *c, const char *key, int64_t *rev);

#endif
