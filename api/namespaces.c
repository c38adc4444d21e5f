/*
 * namespaces.c - /api/v1/namespaces[/NS]: get, list, create, delete and
 * watch.  The store's rules hold, not Kubernetes' finalizing: deleting a
 * namespace removes it and every secret in it at once (one transaction),
 * where the apiserver would mark it Terminating and empty it in the
 * background; the reply is the namespace as Terminating, as the apiserver
 * answers, and a GET right after is 404.  "default" cannot be deleted.
 * Namespaces carry no labels or annotations in the store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"

static const char *const namespace_fields[] = {
	"apiVersion", "kind", "metadata", "metadata.name", "metadata.generateName",
	"metadata.labels", "metadata.labels.*", "metadata.annotations", "metadata.annotations.*",
	"metadata.resourceVersion", "metadata.uid", "metadata.creationTimestamp",
	"metadata.managedFields", "metadata.finalizers", "metadata.ownerReferences",
	"spec", "spec.finalizers", "status", "status.phase", "status.conditions", NULL
};

static enum MHD_Result reply_namespace(struct api_req *r, unsigned code, json_t *obj)
{
	if (r->table && obj) {
		json_t *one = json_pack("[O]", obj);
		json_t *t = one ? api_table_namespaces(one, "", (int64_t)time(NULL)) : NULL;

		json_decref(one);
		json_decref(obj);
		obj = t;
	}
	return api_reply(r, code, obj);
}

static enum MHD_Result get_one(struct api_req *r, const char *name)
{
	struct store_stat st;
	int err = store_ns_stat(r->db->st, name, &st);

	if (err)
		return api_store_error(r, err, store_errmsg(r->db->st), "namespaces", "Namespace",
				       name);
	return reply_namespace(r, 200, namespace_to_json(name, st.created));
}

struct ns_list {
	struct api_filter *f;
	json_t *items;
};

static int ns_visit(void *ctx, const char *name, const struct store_stat *st)
{
	struct ns_list *l = ctx;

	if (api_filter_match_ns(l->f, name))
		json_array_append_new(l->items, namespace_to_json(name, st->created));
	return 0;
}

static enum MHD_Result list(struct api_req *r)
{
	struct api_filter f;
	struct ns_list l = { .f = &f, .items = json_array() };
	enum MHD_Result ret;
	int64_t rev;
	char rv[32];
	int err;

	if (api_filter_parse(r, &f, "namespaces", &ret)) {
		json_decref(l.items);
		return ret;
	}
	if ((err = api_db_revision(r->db, &rev)) ||
	    (err = store_ns_each(r->db->st, ns_visit, &l))) {
		ret = api_store_error(r, err, store_errmsg(r->db->st), "namespaces", "Namespace", "");
		goto out;
	}
	snprintf(rv, sizeof(rv), "%lld", (long long)rev);
	if (r->table)
		ret = api_reply(r, 200, api_table_namespaces(l.items, rv, (int64_t)time(NULL)));
	else
		ret = api_reply(r, 200, json_pack("{s:s, s:s, s:{s:s}, s:O}", "kind", "NamespaceList",
						  "apiVersion", "v1", "metadata", "resourceVersion",
						  rv, "items", l.items));
out:
	json_decref(l.items);
	api_filter_release(&f);
	return ret;
}

static enum MHD_Result create(struct api_req *r)
{
	enum MHD_Result ret;
	struct store_stat st;
	const char *name, *kind;
	char *warning = NULL, why[STORE_ERRMSG_MAX];
	json_t *obj, *meta;
	int dry, err;

	if ((dry = api_dry_run(r, &ret)) < 0 || !(obj = api_body_object(r, &ret)))
		return ret;
	if (!api_check_fields(r, obj, namespace_fields, &warning, &ret))
		goto out;
	meta = json_object_get(obj, "metadata");
	name = json_string_value(json_object_get(meta, "name"));
	kind = json_string_value(json_object_get(obj, "kind"));
	if (kind && strcmp(kind, "Namespace")) {
		ret = api_status(r, 400, "BadRequest", NULL, "the object provided is a %s, not a Namespace",
				 kind);
		goto out;
	}
	if (!name || !*name) {
		ret = api_name_required(r, "Namespace");
		goto out;
	}
	if (store_check_namespace(name, why)) {
		char msg[STORE_ERRMSG_MAX + 64];

		snprintf(msg, sizeof(msg), "metadata.name: Invalid value: \"%s\": %s", name, why);
		ret = api_store_error(r, -EINVAL, msg, "namespaces", "Namespace", name);
		goto out;
	}
	if (dry) {
		err = store_ns_stat(r->db->st, name, &st) == 0 ? -EEXIST : 0;
	} else {
		err = store_writer_ns_create(r->db->w, name);
		if (err == 0 && store_ns_stat(r->db->st, name, &st))
			st.created = time(NULL); /* cluster mode: not mirrored yet */
	}
	if (err)
		ret = api_store_error(r, err, store_writer_errmsg(r->db->w), "namespaces",
				      "Namespace", name);
	else
		ret = api_reply_warn(r, 201, namespace_to_json(name, dry ? time(NULL) : st.created),
				     warning);
out:
	free(warning);
	json_decref(obj);
	return ret;
}

static enum MHD_Result delete(struct api_req *r, const char *name)
{
	enum MHD_Result ret;
	struct store_stat st;
	char ts[32];
	json_t *obj;
	int dry, err;

	if ((dry = api_dry_run(r, &ret)) < 0)
		return ret;
	if ((err = store_ns_stat(r->db->st, name, &st)))
		return api_store_error(r, err, store_errmsg(r->db->st), "namespaces", "Namespace",
				       name);
	if (!strcmp(name, STORE_DEFAULT_NAMESPACE))
		return api_status(r, 403, "Forbidden",
				  json_pack("{s:s, s:s}", "name", name, "kind", "namespaces"),
				  "namespaces \"%s\" is forbidden: this namespace may not be deleted",
				  name);
	if (!dry && (err = store_writer_ns_delete(r->db->w, name)))
		return api_store_error(r, err, store_writer_errmsg(r->db->w), "namespaces",
				       "Namespace", name);
	obj = namespace_to_json(name, st.created);
	rfc3339(ts, sizeof(ts), time(NULL));
	if (obj) {
		json_object_set_new(json_object_get(obj, "metadata"), "deletionTimestamp",
				    json_string(ts));
		json_object_set_new(json_object_get(obj, "status"), "phase",
				    json_string("Terminating"));
	}
	return api_reply(r, 200, obj);
}

enum MHD_Result api_namespaces(struct api_req *r, const char *name)
{
	const char *m = r->method;
	const char *verb;
	enum MHD_Result ret;

	if (!strcmp(m, "GET") || !strcmp(m, "HEAD"))
		verb = name ? "get" : api_arg_true(r, "watch") ? "watch" : "list";
	else if (!strcmp(m, "POST") && !name)
		verb = "create";
	else if (!strcmp(m, "DELETE") && name)
		verb = "delete";
	else
		return api_method_not_allowed(r);
	if (!api_allowed(r, verb, "", "namespaces", NULL, name, &ret))
		return ret;
	if (!strcmp(verb, "get"))
		return get_one(r, name);
	if (!strcmp(verb, "watch"))
		return api_watch(r, "namespaces", NULL);
	if (!strcmp(verb, "list"))
		return list(r);
	if (!strcmp(verb, "create"))
		return create(r);
	return delete(r, name);
}
