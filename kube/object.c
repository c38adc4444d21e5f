/*
 * object.c - secrets and namespaces as the Kubernetes objects kubectl and
 * the API's clients read: built once as jansson values, so every printer
 * and every reply carries the same fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

#include "kube/kube.h"

void rfc3339(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* --- objects ------------------------------------------------------------ */

static json_t *pairs_to_json(const struct store_pair *p, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < n; i++)
		json_object_set_new(o, p[i].key, json_string(p[i].value));
	return o;
}

json_t *secret_data_json(const struct store_secret *s)
{
	json_t *data = json_object();

	for (size_t i = 0; data && i < s->nitems; i++) {
		const struct store_item *it = &s->items[i];
		size_t n = sodium_base64_ENCODED_LEN(it->len, sodium_base64_VARIANT_ORIGINAL);
		char *b64 = malloc(n);

		if (!b64) {
			json_decref(data);
			return NULL;
		}
		sodium_bin2base64(b64, n, it->value ? it->value : (const unsigned char *)"",
				  it->value ? it->len : 0, sodium_base64_VARIANT_ORIGINAL);
		json_object_set_new(data, it->key, json_string(b64));
		sodium_memzero(b64, n);
		free(b64);
	}
	return data;
}

json_t *secret_to_json(const struct store_secret *s)
{
	json_t *obj = json_object(), *meta = json_object(), *data = NULL;
	char ts[32], rv[32];

	if (!obj || !meta)
		goto fail;
	rfc3339(ts, sizeof(ts), s->created);
	/* in cluster mode, etcd's revision of it, the same on every node, as
	 * Kubernetes' resourceVersion is */
	snprintf(rv, sizeof(rv), "%lld", (long long)(s->etcd_rev ? s->etcd_rev : s->revision));
	json_object_set_new(meta, "name", json_string(s->name));
	json_object_set_new(meta, "namespace", json_string(s->namespace));
	json_object_set_new(meta, "creationTimestamp", json_string(ts));
	json_object_set_new(meta, "resourceVersion", json_string(rv));
	if (s->uid[0])
		json_object_set_new(meta, "uid", json_string(s->uid));
	if (s->nlabels)
		json_object_set_new(meta, "labels", pairs_to_json(s->labels, s->nlabels));
	if (s->nannotations)
		json_object_set_new(meta, "annotations",
				    pairs_to_json(s->annotations, s->nannotations));
	if (s->nitems) {
		data = secret_data_json(s);
		if (!data)
			goto fail;
		json_object_set_new(obj, "data", data);
		data = NULL;
	}
	json_object_set_new(obj, "apiVersion", json_string("v1"));
	json_object_set_new(obj, "kind", json_string("Secret"));
	json_object_set_new(obj, "metadata", meta);
	json_object_set_new(obj, "type", json_string(s->type));
	if (s->immutable)
		json_object_set_new(obj, "immutable", json_true());
	return obj;
fail:
	json_decref(data);
	json_decref(meta);
	json_decref(obj);
	return NULL;
}

json_t *namespace_to_json(const char *name, int64_t created)
{
	char ts[32];

	rfc3339(ts, sizeof(ts), created);
	return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{}, s:{s:s}}",
			 "apiVersion", "v1", "kind", "Namespace",
			 "metadata", "name", name, "creationTimestamp", ts,
			 "spec", "status", "phase", "Active");
}

json_t *list_to_json(json_t *items)
{
	return json_pack("{s:s, s:o, s:s, s:{s:s}}", "apiVersion", "v1",
			 "items", items, "kind", "List", "metadata",
			 "resourceVersion", "");
}

