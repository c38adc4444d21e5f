/*
 * writer.c - the store's writer: one ops table per backend, chosen once in
 * store_writer_open().
 *
 * The local backend is the store's own write path (secret.c, keys.c); the
 * cluster backend validates and seals through that same path inside a
 * transaction it rolls back, and sends the result to etcd (store/cluster/).
 * Callers never ask which one they hold.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cluster.h"
#include "internal.h"

struct store_writer_ops {
	const char *(*errmsg)(const struct store_writer *w);
	int (*put)(struct store_writer *w, struct store_secret *s, enum store_put_mode mode,
		   enum store_put_result *result);
	int (*put_batch)(struct store_writer *w, struct store_secret **v, size_t n,
			 enum store_put_mode mode, enum store_put_result *results);
	int (*del)(struct store_writer *w, const char *ns, const char *name);
	int (*ns_create)(struct store_writer *w, const char *ns);
	int (*ns_delete)(struct store_writer *w, const char *ns);
	int (*key_rotate)(struct store_writer *w, uint32_t *new_id);
	int (*reseal)(struct store_writer *w, size_t batch, size_t *done, uint64_t *left);
	int (*key_retire)(struct store_writer *w, uint32_t id);
	int (*object_put)(struct store_writer *w, const char *json, enum store_put_mode mode,
			  enum store_put_result *result);
	int (*object_delete)(struct store_writer *w, const char *kind, const char *ns,
			     const char *name);
};

struct store_writer {
	const struct store_writer_ops *ops;
	struct store *st;   /* not owned */
	struct cluster *cl; /* owned; NULL for the local backend */
};

/* --- local ------------------------------------------------------------------ */

static const char *local_errmsg(const struct store_writer *w)
{
	return store_errmsg(w->st);
}

static int local_put(struct store_writer *w, struct store_secret *s, enum store_put_mode mode,
		     enum store_put_result *result)
{
	return store_secret_put(w->st, s, mode, result);
}

static int local_put_batch(struct store_writer *w, struct store_secret **v, size_t n,
			   enum store_put_mode mode, enum store_put_result *results)
{
	int err;

	if ((err = store_batch_begin(w->st)))
		return err;
	for (size_t i = 0; i < n; i++)
		if ((err = store_secret_put(w->st, v[i], mode, &results[i]))) {
			store_batch_rollback(w->st);
			return err;
		}
	return store_batch_commit(w->st);
}

static int local_delete(struct store_writer *w, const char *ns, const char *name)
{
	return store_secret_delete(w->st, ns, name);
}

static int local_ns_create(struct store_writer *w, const char *ns)
{
	return store_ns_create(w->st, ns);
}

static int local_ns_delete(struct store_writer *w, const char *ns)
{
	return store_ns_delete(w->st, ns);
}

static int local_key_rotate(struct store_writer *w, uint32_t *new_id)
{
	return store_key_rotate(w->st, new_id);
}

static int local_reseal(struct store_writer *w, size_t batch, size_t *done, uint64_t *left)
{
	return store_reseal(w->st, batch, done, left);
}

static int local_key_retire(struct store_writer *w, uint32_t id)
{
	return store_key_retire(w->st, id);
}

static int local_object_put(struct store_writer *w, const char *json, enum store_put_mode mode,
			    enum store_put_result *result)
{
	return store_object_put(w->st, json, mode, result, NULL);
}

static int local_object_delete(struct store_writer *w, const char *kind, const char *ns,
			       const char *name)
{
	return store_object_delete(w->st, kind, ns, name);
}

static const struct store_writer_ops local_ops = {
	.errmsg = local_errmsg,
	.put = local_put,
	.put_batch = local_put_batch,
	.del = local_delete,
	.ns_create = local_ns_create,
	.ns_delete = local_ns_delete,
	.key_rotate = local_key_rotate,
	.reseal = local_reseal,
	.key_retire = local_key_retire,
	.object_put = local_object_put,
	.object_delete = local_object_delete,
};

/* --- cluster ---------------------------------------------------------------- */

static const char *cl_errmsg(const struct store_writer *w)
{
	return cluster_errmsg(w->cl);
}

static int cl_put(struct store_writer *w, struct store_secret *s, enum store_put_mode mode,
		  enum store_put_result *result)
{
	return cluster_secret_put(w->cl, w->st, s, mode, result);
}

static int cl_put_batch(struct store_writer *w, struct store_secret **v, size_t n,
			enum store_put_mode mode, enum store_put_result *results)
{
	return cluster_secret_put_batch(w->cl, w->st, v, n, mode, results);
}

static int cl_delete(struct store_writer *w, const char *ns, const char *name)
{
	return cluster_secret_delete(w->cl, w->st, ns, name);
}

static int cl_ns_create(struct store_writer *w, const char *ns)
{
	return cluster_ns_create(w->cl, w->st, ns);
}

static int cl_ns_delete(struct store_writer *w, const char *ns)
{
	return cluster_ns_delete(w->cl, w->st, ns);
}

static int cl_key_rotate(struct store_writer *w, uint32_t *new_id)
{
	return cluster_key_rotate(w->cl, w->st, new_id);
}

static int cl_reseal(struct store_writer *w, size_t batch, size_t *done, uint64_t *left)
{
	return cluster_reseal(w->cl, w->st, batch, done, left);
}

static int cl_key_retire(struct store_writer *w, uint32_t id)
{
	return cluster_key_retire(w->cl, w->st, id);
}

static int cl_object_put(struct store_writer *w, const char *json, enum store_put_mode mode,
			 enum store_put_result *result)
{
	return cluster_object_put(w->cl, w->st, json, mode, result);
}

static int cl_object_delete(struct store_writer *w, const char *kind, const char *ns,
			    const char *name)
{
	return cluster_object_delete(w->cl, w->st, kind, ns, name);
}

static const struct store_writer_ops cluster_ops = {
	.errmsg = cl_errmsg,
	.put = cl_put,
	.put_batch = cl_put_batch,
	.del = cl_delete,
	.ns_create = cl_ns_create,
	.ns_delete = cl_ns_delete,
	.key_rotate = cl_key_rotate,
	.reseal = cl_reseal,
	.key_retire = cl_key_retire,
	.object_put = cl_object_put,
	.object_delete = cl_object_delete,
};

/* --- the interface ---------------------------------------------------------- */

int store_writer_open(struct store_writer **out, struct store *st,
		      const struct cluster_opts *co, char *err)
{
	struct store_writer *w = calloc(1, sizeof(*w));
	int ret;

	if (!w) {
		snprintf(err, STORE_ERRMSG_MAX, "out of memory");
		return -ENOMEM;
	}
	w->st = st;
	w->ops = &local_ops;
	if (co && co->endpoints) {
		if ((ret = cluster_open(&w->cl, co, err))) {
			free(w);
			return ret;
		}
		w->ops = &cluster_ops;
	}
	*out = w;
	return 0;
}

void store_writer_free(struct store_writer *w)
{
	if (!w)
		return;
	cluster_close(w->cl);
	free(w);
}

const char *store_writer_errmsg(const struct store_writer *w)
{
	return w->ops->errmsg(w);
}

struct cluster *store_writer_cluster(const struct store_writer *w)
{
	return w->cl;
}

int store_writer_put(struct store_writer *w, struct store_secret *s,
		     enum store_put_mode mode, enum store_put_result *result)
{
	return w->ops->put(w, s, mode, result);
}

int store_writer_put_batch(struct store_writer *w, struct store_secret **v, size_t n,
			   enum store_put_mode mode, enum store_put_result *results)
{
	assert(n == 0 || (v && results));
	return w->ops->put_batch(w, v, n, mode, results);
}

int store_writer_delete(struct store_writer *w, const char *ns, const char *name)
{
	return w->ops->del(w, ns, name);
}

int store_writer_ns_create(struct store_writer *w, const char *ns)
{
	return w->ops->ns_create(w, ns);
}

int store_writer_ns_delete(struct store_writer *w, const char *ns)
{
	return w->ops->ns_delete(w, ns);
}

int store_writer_key_rotate(struct store_writer *w, uint32_t *new_id)
{
	return w->ops->key_rotate(w, new_id);
}

int store_writer_reseal(struct store_writer *w, size_t batch, size_t *done, uint64_t *left)
{
	return w->ops->reseal(w, batch, done, left);
}

int store_writer_key_retire(struct store_writer *w, uint32_t id)
{
	return w->ops->key_retire(w, id);
}

int store_writer_object_put(struct store_writer *w, const char *json, enum store_put_mode mode,
			    enum store_put_result *result)
{
	return w->ops->object_put(w, json, mode, result);
}

int store_writer_object_delete(struct store_writer *w, const char *kind, const char *ns,
			       const char *name)
{
	return w->ops->object_delete(w, kind, ns, name);
}
