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

/* The age of a thing created at then, as kubectl and the API server print
 * it (apimachinery's duration.HumanDuration). */
void human_age(char *buf, size_t len, int64_t then, int64_t now)
{
	int64_t s = now - then, m = s / 60, h = s / 3600, d = h / 24;

	if (s < -1)
		snprintf(buf, len, "<invalid>");
	else if (s < 0)
		snprintf(buf, len, "0s");
	else if (s < 120)
		snprintf(buf, len, "%llds", (long long)s);
	else if (m < 10)
		snprintf(buf, len, s % 60 ? "%lldm%llds" : "%lldm", (long long)m,
			 (long long)(s % 60));
	else if (m < 180)
		snprintf(buf, len, "%lldm", (long long)m);
	else if (h < 8)
		snprintf(buf, len, m % 60 ? "%lldh%lldm" : "%lldh", (long long)h,
			 (long long)(m % 60));
	else if (h < 48)
		snprintf(buf, len, "%lldh", (long long)h);
	else if (h < 24 * 8)
		snprintf(buf, len, h % 24 ? "%lldd%lldh" : "%lldd", (long long)d,
			 (long long)(h % 24));
	else if (h < 24 * 365 * 2)
		snprintf(buf, len, "%lldd", (long long)d);
	else if (h < 24 * 365 * 8)
		snprintf(buf, len, d % 365 ? "%lldy%lldd" : "%lldy",
			 (long long)(d / 365), (long long)(d % 365));
	else
		snprintf(buf, len, "%lldy", (long long)(d / 365));
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

