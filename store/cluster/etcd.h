/*
 * etcd.h - a small client for etcd's v3 JSON gateway; for store/ only.
 *
 * Requests are POSTs of JSON (jansson) with keys and values base64-encoded
 * and 64-bit numbers as strings, as the gateway wants them.  A request that
 * cannot reach its endpoint, or reaches a member without a leader, goes to
 * the next endpoint; the one that answered is used first next time.
 */
#ifndef SECRETFS_STORE_ETCD_H
#define SECRETFS_STORE_ETCD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../cluster.h"

struct etcd;

int etcd_open(struct etcd **out, const struct cluster_opts *o, char *err);
void etcd_close(struct etcd *e);
const char *etcd_endpoint(const struct etcd *e);

/*
 * POST body (not consumed) to path ("/v3/kv/range") and parse the answer
 * into *resp.  0, or: -ESTALE (revision compacted), -EACCES (denied),
 * -ECONNREFUSED (no endpoint answered, or none has a leader), -ETIMEDOUT,
 * -EIO (anything else); err (STORE_ERRMSG_MAX) says which.  While members
 * answer that the cluster has no leader, tries again for up to
 * ETCD_ELECTION_WAIT_MS.
 */
#define ETCD_ELECTION_WAIT_MS 5000
int etcd_call(struct etcd *e, const char *path, json_t *body, json_t **resp,
	      char *err);

/*
 * Open a watch with create_request (the object under "create_request") on
 * the current endpoint, asking for a leader, and call fn with each
 * response's "result".  Returns what fn returned if nonzero, 0 when *stop
 * was set, or an error as etcd_call.
 */
int etcd_watch(struct etcd *e, json_t *create_request,
	       int (*fn)(void *ctx, json_t *result), void *ctx,
	       const atomic_int *stop, char *err);

/* Free what json_dumps() returned (jansson's allocator may be the
 * program's own). */
void etcd_json_free(char *text);
/* base64 (etcd's encoding of bytes): NULL on allocation failure. */
char *etcd_b64(const void *p, size_t n);
/* Decode into a malloc'd buffer (one extra NUL byte); -EINVAL if bad. */
int etcd_unb64(const char *s, unsigned char **out, size_t *n);
/* A JSON int64 as the gateway writes it (a string) or a number; 0 if absent. */
int64_t etcd_int(json_t *o, const char *field);
/* The end of the range of every key with prefix p (p with its last byte
 * incremented), malloc'd. */
char *etcd_prefix_end(const char *p);

#endif
