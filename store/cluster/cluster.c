/*
 * cluster.c - cluster mode (see store/cluster.h): the handle, its errors,
 * etcd's keys under the prefix and the requests every other file sends.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror.h"

unsigned long cluster_skipped(const struct cluster *c, const char **why)
{
	if (why)
		*why = c->skip_why;
	return c->skipped;
}

/* A record refused: count it, keep its reason, go on (-EPROTO -> 0). */
int cl_skip(struct cluster *c, struct store *st, int err)
{
	if (err != -EPROTO)
		return err;
	c->skipped++;
	snprintf(c->skip_why, sizeof(c->skip_why), "%s", store_errmsg(st));
	return 0;
}

int cl_fail(struct cluster *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return err;
}

/* A store failure, with the store's message. */
int cl_store_fail(struct cluster *c, struct store *st, int err)
{
	snprintf(c->err, sizeof(c->err), "%s", store_errmsg(st));
	return err;
}

int cluster_open(struct cluster **out, const struct cluster_opts *o, char *err)
{
	struct cluster *c = calloc(1, sizeof(*c));
	const char *prefix = o->prefix && *o->prefix ? o->prefix : CLUSTER_DEFAULT_PREFIX;
	int ret;

	if (!c) {
		snprintf(err, STORE_ERRMSG_MAX, "out of memory");
		return -ENOMEM;
	}
	if (prefix[strlen(prefix) - 1] != '/') {
		snprintf(err, STORE_ERRMSG_MAX, "[cluster] prefix: '%s' must end with '/'", prefix);
		free(c);
		return -EINVAL;
	}
	if ((ret = etcd_open(&c->etcd, o, err))) {
		free(c);
		return ret;
	}
	c->prefix = strdup(prefix);
	if (!c->prefix) {
		cluster_close(c);
		snprintf(err, STORE_ERRMSG_MAX, "out of memory");
		return -ENOMEM;
	}
	c->plen = strlen(prefix);
	*out = c;
	return 0;
}

void cluster_close(struct cluster *c)
{
	if (!c)
		return;
	etcd_close(c->etcd);
	free(c->prefix);
	free(c);
}

const char *cluster_errmsg(const struct cluster *c)
{
	return c->err;
}

const char *cluster_endpoint(const struct cluster *c)
{
	return etcd_endpoint(c->etcd);
}

/* PREFIX + a + b + c, malloc'd. */
char *cl_key_of(const struct cluster *c, const char *a, const char *b, const char *d)
{
	char *k;

	if (asprintf(&k, "%s%s%s%s", c->prefix, a, b ? b : "", d ? d : "") < 0)
		return NULL;
	return k;
}

char *cl_secret_key(const struct cluster *c, const char *ns, const char *name)
{
	char *k;

	if (asprintf(&k, "%ssecrets/%s/%s", c->prefix, ns, name) < 0)
		return NULL;
	return k;
}

/* A JSON string of the base64 of s; NULL on failure. */
json_t *cl_b64_str(const char *s)
{
	char *b = etcd_b64(s, strlen(s));
	json_t *j = b ? json_string(b) : NULL;

	free(b);
	return j;
}

json_t *cl_int_str(int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_string(buf);
}

int cl_call(struct cluster *c, const char *path, json_t *body, json_t **resp)
{
	int ret;

	if (!body)
		return cl_fail(c, -ENOMEM, "out of memory");
	ret = etcd_call(c->etcd, path, body, resp, c->err);
	json_decref(body);
	return ret;
}

/* A range request for [key, end) (end NULL: the one key). */
json_t *cl_range_req(const char *key, const char *end)
{
	json_t *r = json_object();

	if (!r || json_object_set_new(r, "key", cl_b64_str(key)) ||
	    (end && json_object_set_new(r, "range_end", cl_b64_str(end)))) {
		json_decref(r);
		return NULL;
	}
	return r;
}

/* The key of a kv in the answer, decoded, relative to the prefix; NULL if
 * outside it or undecodable.  Frees nothing: *raw is the caller's. */
const char *cl_kv_key(const struct cluster *c, json_t *kv, unsigned char **raw)
{
	size_t n;
	const char *b = json_string_value(json_object_get(kv, "key"));

	*raw = NULL;
	if (!b || etcd_unb64(b, raw, &n) || n < c->plen ||
	    memcmp(*raw, c->prefix, c->plen) != 0 || strlen((char *)*raw) != n)
		return NULL;
	return (const char *)*raw + c->plen;
}

/* The value of a kv, parsed as a JSON object. */
json_t *cl_kv_value(json_t *kv)
{
	const char *b = json_string_value(json_object_get(kv, "value"));
	unsigned char *raw;
	size_t n;
	json_t *o;

	if (!b || etcd_unb64(b, &raw, &n))
		return NULL;
	o = json_loadb((const char *)raw, n, 0, NULL);
	free(raw);
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}
