/*
 * roles.c - rbac.authorization.k8s.io/v1: Roles and RoleBindings (in a
 * namespace), ClusterRoles and ClusterRoleBindings: get, list, create,
 * update (PUT), patch (kube/patch.c's three types: kubectl apply, edit),
 * delete, watch (watch.c), with kubectl's Tables (NAME CREATED AT; NAME ROLE
 * AGE, and USERS GROUPS SERVICEACCOUNTS with -o wide).
 *
 * Every write is checked as kube-apiserver checks it, before the store
 * sees it: the apiserver's validation (rbac_validate, 422 with causes),
 * then escalation prevention (rbac_confirm_no_escalation: a user may grant
 * only what it holds, or with verb escalate / bind), then the store writer
 * (local, or etcd in cluster mode), which keeps the object tagged.  The
 * objects hold names and rules only, never a value.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "kube/rbac.h"

static const struct rbac_kind {
	const char *resource, *kind, *qualified;
	bool namespaced, binding;
} kinds[] = {
	{ "roles", "Role", "roles.rbac.authorization.k8s.io", true, false },
	{ "rolebindings", "RoleBinding", "rolebindings.rbac.authorization.k8s.io", true, true },
	{ "clusterroles", "ClusterRole", "clusterroles.rbac.authorization.k8s.io", false, false },
	{ "clusterrolebindings", "ClusterRoleBinding",
	  "clusterrolebindings.rbac.authorization.k8s.io", false, true },
};

/* the fields of the four kinds (fieldValidation) */
static const char *const rbac_fields[] = {
	"apiVersion", "kind", "metadata", "metadata.*", "rules", "aggregationRule",
	"aggregationRule.*", "subjects", "roleRef", "roleRef.*", NULL,
};

/* obj's JSON from a stored object (new), or NULL */
static json_t *object_json(const struct store_object *o)
{
	return json_loads(o->body, 0, NULL);
}

static enum MHD_Result reply_list(struct api_req *r, const struct rbac_kind *k, const char *ns)
{
	struct store_object **v = NULL;
	struct api_filter f;
	size_t n = 0;
	json_t *items = NULL;
	int64_t rev;
	char rv[32];
	int err;
	enum MHD_Result ret;

	/* labelSelector and fieldSelector (metadata.name, metadata.namespace)
	 * applied; any other field refused, never ignored */
	if (api_filter_parse(r, &f, k->qualified, &ret))
		return ret;
	if (api_db_revision(r->db, &rev))
		rev = 0;
	snprintf(rv, sizeof(rv), "%lld", (long long)rev);
	err = store_object_list(r->db->st, k->kind, k->namespaced ? ns : NULL, &v, &n);
	if (err) {
		api_filter_release(&f);
		return api_store_error(r, err, store_errmsg(r->db->st), k->qualified, k->kind, "");
	}
	items = json_array();
	for (size_t i = 0; items && i < n; i++) {
		json_t *o = object_json(v[i]);

		if (o && api_filter_match_object(&f, v[i]->namespace, v[i]->name, o))
			json_array_append_new(items, o);
		else
			json_decref(o);
	}
	store_object_list_free(v, n);
	api_filter_release(&f);
	if (!items)
		return api_status(r, 500, "InternalError", NULL, "Internal error occurred: out of memory");
	if (r->table) {
		ret = api_reply(r, 200, api_table_rbac(items, rv, time(NULL), k->binding));
		json_decref(items);
		return ret;
	}
	{
		char list_kind[64];

		snprintf(list_kind, sizeof(list_kind), "%sList", k->kind);
		return api_reply(r, 200, json_pack("{s:s, s:s, s:{s:s}, s:o}", "kind", list_kind,
						   "apiVersion", RBAC_GROUP "/v1", "metadata",
						   "resourceVersion", rv, "items", items));
	}
}

static enum MHD_Result reply_one(struct api_req *r, const struct rbac_kind *k, const char *ns,
				 const char *name, unsigned code)
{
	struct store_object *o = NULL;
	json_t *obj;
	int err = store_object_get(r->db->st, k->kind, ns, name, &o);

	if (err)
		return api_store_error(r, err, store_errmsg(r->db->st), k->qualified, k->kind, name);
	obj = object_json(o);
	store_object_free(o);
	if (!obj)
		return api_status(r, 500, "InternalError", NULL, "Internal error occurred: out of memory");
	if (r->table && code == 200) {
		json_t *one = json_pack("[o]", obj);
		enum MHD_Result ret = api_reply(r, 200, api_table_rbac(one, "", time(NULL), k->binding));

		json_decref(one);
		return ret;
	}
	return api_reply(r, code, obj);
}

/* The stored object path_name with the request's patch applied (new), or
 * NULL after a reply.  The stored resourceVersion stays in it: a write
 * between the read and ours is then a 409 Conflict. */
static json_t *patched(struct api_req *r, const struct rbac_kind *k, const char *ns,
		       const char *path_name, enum kube_patch_type type, enum MHD_Result *ret)
{
	struct store_object *o = NULL;
	json_t *p = NULL, *obj = NULL;
	char err_text[RBAC_MSG_MAX];
	int err;

	if (kube_patch_parse(&p, r->body ? r->body : "", r->len, type, err_text, sizeof(err_text))) {
		*ret = api_status(r, 400, "BadRequest", NULL, "%s", err_text);
		return NULL;
	}
	err = store_object_get(r->db->st, k->kind, ns, path_name, &o);
	if (err) {
		*ret = api_store_error(r, err, store_errmsg(r->db->st), k->qualified, k->kind,
				       path_name);
		goto out;
	}
	obj = object_json(o);
	if (!obj) {
		*ret = api_status(r, 500, "InternalError", NULL, "out of memory");
		goto out;
	}
	err = kube_patch(&obj, p, type, err_text, sizeof(err_text));
	if (err) {
		json_decref(obj);
		obj = NULL;
		*ret = err == -EINVAL ?
		       api_status(r, type == KUBE_PATCH_JSON ? 422 : 400,
				  type == KUBE_PATCH_JSON ? "Invalid" : "BadRequest", NULL, "%s", err_text) :
		       api_status(r, 500, "InternalError", NULL, "out of memory");
	}
out:
	json_decref(p);
	store_object_free(o);
	return obj;
}

/* POST (path_name NULL), PUT, or PATCH (patch_type not NULL): check, then
 * write through the writer. */
static enum MHD_Result write_object(struct api_req *r, const struct rbac_kind *k, const char *ns,
				    const char *path_name, const enum kube_patch_type *patch_type)
{
	struct store_object *old_o = NULL;
	json_t *obj, *meta, *old = NULL, *causes = NULL;
	const char *name, *kind, *api_version, *obj_ns;
	char msg[RBAC_MSG_MAX], *warning = NULL, *text = NULL;
	const struct rbac_policy *p;
	struct rbac_attrs a;
	enum MHD_Result ret;
	int dry, err;

	if ((dry = api_dry_run(r, &ret)) < 0)
		return ret;
	if (patch_type) {
		if (!(obj = patched(r, k, ns, path_name, *patch_type, &ret)))
			return ret;
	} else if (!(obj = api_body_object(r, &ret))) {
		return ret;
	}
	if (!api_check_fields(r, obj, rbac_fields, &warning, &ret))
		goto out;
	kind = json_string_value(json_object_get(obj, "kind"));
	api_version = json_string_value(json_object_get(obj, "apiVersion"));
	if ((kind && strcmp(kind, k->kind)) ||
	    (api_version && strcmp(api_version, RBAC_GROUP "/v1"))) {
		ret = api_status(r, 400, "BadRequest", NULL, "the object provided is not a %s of %s/v1",
				 k->kind, RBAC_GROUP);
		goto out;
	}
	json_object_set_new(obj, "kind", json_string(k->kind));
	json_object_set_new(obj, "apiVersion", json_string(RBAC_GROUP "/v1"));
	meta = json_object_get(obj, "metadata");
	if (!json_is_object(meta)) {
		meta = json_object();
		json_object_set_new(obj, "metadata", meta);
	}
	name = json_string_value(json_object_get(meta, "name"));
	obj_ns = json_string_value(json_object_get(meta, "namespace"));
	if (k->namespaced && obj_ns && *obj_ns && strcmp(obj_ns, ns)) {
		ret = api_namespace_mismatch(r);
		goto out;
	}
	if (k->namespaced)
		json_object_set_new(meta, "namespace", json_string(ns));
	if (path_name && (!name || strcmp(name, path_name))) {
		ret = api_name_mismatch(r, name, path_name);
		goto out;
	}
	if (path_name) {
		err = store_object_get(r->db->st, k->kind, ns, path_name, &old_o);
		if (err) {
			ret = api_store_error(r, err, store_errmsg(r->db->st), k->qualified, k->kind,
					      path_name);
			goto out;
		}
		old = object_json(old_o);
	}
	err = rbac_validate(obj, old, &causes, msg, sizeof(msg));
	if (err == -EINVAL) {
		ret = api_status(r, 422, "Invalid",
				 json_pack("{s:s, s:s, s:s, s:o}", "name", name ? name : "", "group",
					   RBAC_GROUP, "kind", k->kind, "causes",
					   causes ? causes : json_array()),
				 "%s", msg);
		causes = NULL;
		goto out;
	}
	if (err) {
		ret = api_status(r, 500, "InternalError", NULL, "Internal error occurred: out of memory");
		goto out;
	}
	if (!(p = api_authz_policy(r))) {
		ret = api_status(r, 503, "ServiceUnavailable", NULL,
				 "the RBAC policy cannot be read from the store");
		goto out;
	}
	memset(&a, 0, sizeof(a));
	a.user = r->user.name;
	a.groups = (const char *const *)r->user.groups;
	a.ngroups = r->user.ngroups;
	a.namespace = k->namespaced ? ns : "";
	err = rbac_confirm_no_escalation(p, &a, obj, msg, sizeof(msg));
	if (err == -EACCES) {
		ret = api_status(r, 403, "Forbidden",
				 json_pack("{s:s, s:s, s:s}", "name", name, "group", RBAC_GROUP,
					   "kind", k->resource),
				 "%s", msg);
		goto out;
	}
	if (err == -ENOENT) {
		ret = api_status(r, 404, "NotFound", NULL, "%s", msg);
		goto out;
	}
	if (err) {
		ret = api_status(r, 500, "InternalError", NULL, "Internal error occurred: out of memory");
		goto out;
	}
	if (dry) {
		ret = api_reply_warn(r, path_name ? 200 : 201, obj, warning);
		obj = NULL;
		goto out;
	}
	text = json_dumps(obj, JSON_COMPACT);
	err = text ? store_writer_object_put(r->db->w, text, path_name ? STORE_PUT_REPLACE :
					     STORE_PUT_CREATE, NULL) : -ENOMEM;
	if (err) {
		ret = api_store_error(r, err, store_writer_errmsg(r->db->w), k->qualified, k->kind,
				      name);
		goto out;
	}
	ret = reply_one(r, k, ns, name, path_name ? 200 : 201);
out:
	free(text);
	free(warning);
	json_decref(causes);
	json_decref(old);
	json_decref(obj);
	store_object_free(old_o);
	return ret;
}

static enum MHD_Result delete_object(struct api_req *r, const struct rbac_kind *k, const char *ns,
				     const char *name)
{
	struct store_object *o = NULL;
	enum MHD_Result ret;
	int dry, err;

	if ((dry = api_dry_run(r, &ret)) < 0)
		return ret;
	err = store_object_get(r->db->st, k->kind, ns, name, &o);
	if (err)
		return api_store_error(r, err, store_errmsg(r->db->st), k->qualified, k->kind, name);
	if (!dry && (err = store_writer_object_delete(r->db->w, k->kind, ns, name))) {
		ret = api_store_error(r, err, store_writer_errmsg(r->db->w), k->qualified, k->kind,
				      name);
		goto out;
	}
	ret = api_reply(r, 200, json_pack("{s:s, s:s, s:{}, s:s, s:{s:s, s:s, s:s, s:s}}",
					  "kind", "Status", "apiVersion", "v1", "metadata",
					  "status", "Success", "details", "name", name,
					  "group", RBAC_GROUP, "kind", k->resource, "uid", o->uid));
out:
	store_object_free(o);
	return ret;
}

enum MHD_Result api_rbac(struct api_req *r, const char *ns, const char *resource,
			 const char *name)
{
	const struct rbac_kind *k = NULL;
	const char *m = r->method, *verb;
	char why[STORE_ERRMSG_MAX];
	enum MHD_Result ret;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
		if (!strcmp(resource, kinds[i].resource))
			k = &kinds[i];
	/* a cluster kind under a namespace, or a namespaced one by name
	 * without one, is no path of the API */
	if (!k || (ns && !k->namespaced) || (!ns && k->namespaced && name))
		return api_status(r, 404, "NotFound", NULL,
				  "the server could not find the requested resource");
	if (ns && store_check_namespace(ns, why))
		return api_not_found(r, "namespaces", ns);
	/* a GET by name with watch=true is a get, as in kube-apiserver */
	if ((!strcmp(m, "GET") || !strcmp(m, "HEAD")) && (name || !api_arg_true(r, "watch")))
		verb = name ? "get" : "list";
	else if (!strcmp(m, "GET"))
		verb = "watch";
	else if (!strcmp(m, "POST") && !name && (ns || !k->namespaced))
		verb = "create";
	else if (!strcmp(m, "PUT") && name)
		verb = "update";
	else if (!strcmp(m, "DELETE") && name)
		verb = "delete";
	else if (!strcmp(m, "PATCH") && name)
		verb = "patch";
	else
		return api_method_not_allowed(r);
	if (!api_allowed(r, verb, RBAC_GROUP, k->resource, ns, name, &ret))
		return ret;
	if (!strcmp(verb, "watch"))
		return api_watch(r, k->resource, ns);
	if (!ns)
		ns = k->namespaced ? NULL : "";
	if (!strcmp(verb, "get"))
		return reply_one(r, k, ns, name, 200);
	if (!strcmp(verb, "list"))
		return reply_list(r, k, ns);
	if (!strcmp(verb, "create"))
		return write_object(r, k, ns, NULL, NULL);
	if (!strcmp(verb, "update"))
		return write_object(r, k, ns, name, NULL);
	if (!strcmp(verb, "patch")) {
		enum kube_patch_type type;

		if (api_patch_type(r, &type, &ret))
			return ret;
		return write_object(r, k, ns, name, &type);
	}
	return delete_object(r, k, ns, name);
}
