/*
 * discovery.c - what a client asks before anything else: /version, the
 * health checks, the legacy discovery documents (/api, /api/v1, /apis)
 * and a minimal OpenAPI v3 that tells kubectl the server validates fields
 * itself (fieldValidation=Strict), so create -f, replace and apply do not
 * stop at "failed to download openapi".
 *
 * The version reported is the Kubernetes API level served (1.32: what the
 * tests run kubectl 1.32 and 1.33 against), with our own version as its
 * build metadata: v1.32.0+secretfs.VERSION.  kubectl's dispatcher picks
 * its kubectl by that minor.
 */
#include <string.h>

#include "api/api.h"

#define API_LEVEL_MAJOR "1"
#define API_LEVEL_MINOR "32"

bool api_discovery_public(const char *path)
{
	return !strcmp(path, "/version") || !strcmp(path, "/healthz") ||
	       !strcmp(path, "/livez") || !strcmp(path, "/readyz");
}

static enum MHD_Result reply_text(struct api_req *r, const char *text)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	r->code = MHD_HTTP_OK;
	return ret;
}

static json_t *resource(const char *name, const char *singular, bool namespaced,
			const char *kind, const char *verbs, const char *shortname)
{
	json_t *v = json_array(), *res;
	char buf[128], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", verbs);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		json_array_append_new(v, json_string(tok));
	res = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "singularName", singular,
			"namespaced", namespaced, "kind", kind, "verbs", v);
	if (res && shortname)
		json_object_set_new(res, "shortNames", json_pack("[s]", shortname));
	return res;
}

/* The verbs each resource serves. */
#define SECRET_VERBS    "create,delete,deletecollection,get,list,patch,update,watch"
#define NAMESPACE_VERBS "create,delete,get,list,watch"
#define RBAC_VERBS      "create,delete,get,list,patch,update"

/* The API groups served, besides core: each with version v1 and its
 * resources (name, kind, namespaced, verbs). */
static const struct api_group {
	const char *name;
	struct { const char *name, *kind; bool namespaced; const char *verbs; } res[4];
} api_groups[] = {
	{ "authentication.k8s.io", {
		{ "selfsubjectreviews", "SelfSubjectReview", false, "create" } } },
	{ "authorization.k8s.io", {
		{ "selfsubjectaccessreviews", "SelfSubjectAccessReview", false, "create" },
		{ "selfsubjectrulesreviews", "SelfSubjectRulesReview", false, "create" } } },
	{ "rbac.authorization.k8s.io", {
		{ "clusterrolebindings", "ClusterRoleBinding", false, RBAC_VERBS },
		{ "clusterroles", "ClusterRole", false, RBAC_VERBS },
		{ "rolebindings", "RoleBinding", true, RBAC_VERBS },
		{ "roles", "Role", true, RBAC_VERBS } } },
};

static json_t *group_version(const char *group)
{
	char gv[128];

	snprintf(gv, sizeof(gv), "%s/v1", group);
	return json_pack("{s:s, s:s}", "groupVersion", gv, "version", "v1");
}

static json_t *group_object(const struct api_group *g)
{
	return json_pack("{s:s, s:[o], s:o}", "name", g->name, "versions", group_version(g->name),
			 "preferredVersion", group_version(g->name));
}

/* /apis/GROUP or /apis/GROUP/v1: its group, or NULL (*v1 says which) */
static const struct api_group *group_path(const char *path, bool *v1)
{
	if (strncmp(path, "/apis/", 6))
		return NULL;
	path += 6;
	for (size_t i = 0; i < sizeof(api_groups) / sizeof(*api_groups); i++) {
		size_t n = strlen(api_groups[i].name);

		if (strncmp(path, api_groups[i].name, n))
			continue;
		*v1 = !strcmp(path + n, "/v1") || !strcmp(path + n, "/v1/");
		if (*v1 || !strcmp(path + n, "") || !strcmp(path + n, "/"))
			return &api_groups[i];
	}
	return NULL;
}

static json_t *group_list(void)
{
	json_t *groups = json_array();

	for (size_t i = 0; groups && i < sizeof(api_groups) / sizeof(*api_groups); i++)
		json_array_append_new(groups, group_object(&api_groups[i]));
	return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1",
			 "groups", groups);
}

static json_t *group_resources(const struct api_group *g)
{
	json_t *res = json_array();
	char gv[128];

	for (size_t i = 0; res && i < sizeof(g->res) / sizeof(*g->res) && g->res[i].name; i++)
		json_array_append_new(res, resource(g->res[i].name, "", g->res[i].namespaced,
						    g->res[i].kind, g->res[i].verbs, NULL));
	snprintf(gv, sizeof(gv), "%s/v1", g->name);
	return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
			 "groupVersion", gv, "resources", res);
}

/* An operation that says: kind takes fieldValidation (and so the server
 * checks fields itself). */
static json_t *openapi_op_group(const char *group, const char *kind)
{
	return json_pack("{s:{s:s, s:s, s:s}, s:[{s:s, s:s}]}",
			 "x-kubernetes-group-version-kind", "group", group, "version", "v1", "kind", kind,
			 "parameters", "name", "fieldValidation", "in", "query");
}

static json_t *openapi_op(const char *kind)
{
	return openapi_op_group("", kind);
}

#define RBAC_V1 "/apis/rbac.authorization.k8s.io/v1"

bool api_discovery(struct api_req *r, const char *path, enum MHD_Result *ret)
{
	bool get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD"), v1 = false;
	const struct api_group *g = group_path(path, &v1);

	if (!api_discovery_public(path) && strcmp(path, "/api") && strcmp(path, "/api/") &&
	    strcmp(path, "/api/v1") && strcmp(path, "/api/v1/") && strcmp(path, "/apis") &&
	    strcmp(path, "/apis/") && strncmp(path, "/openapi/", 9) && !g)
		return false;
	/* the public paths are answered before authentication (as the
	 * bootstrap policy's system:public-info-viewer allows anyone) */
	if (!api_discovery_public(path) && !api_allowed_path(r, path, ret))
		return true;
	if (!get) {
		*ret = api_method_not_allowed(r);
		return true;
	}
	if (!strcmp(path, "/version")) {
		*ret = api_reply(r, 200, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			"major", API_LEVEL_MAJOR, "minor", API_LEVEL_MINOR,
			"gitVersion", "v" API_LEVEL_MAJOR "." API_LEVEL_MINOR ".0+secretfs." SECRETFS_VERSION,
			"gitCommit", "", "gitTreeState", "", "buildDate", "",
			"goVersion", "", "compiler", "", "platform", "linux/amd64"));
	} else if (api_discovery_public(path)) {
		*ret = reply_text(r, "ok");
	} else if (!strcmp(path, "/api") || !strcmp(path, "/api/")) {
		*ret = api_reply(r, 200, json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions",
			"versions", "v1", "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0",
			"serverAddress", r->srv->cfg.api.listen));
	} else if (!strcmp(path, "/apis") || !strcmp(path, "/apis/")) {
		*ret = api_reply(r, 200, group_list());
	} else if (g) {
		json_t *o = v1 ? group_resources(g) : group_object(g);

		if (o && !v1) {
			json_object_set_new(o, "kind", json_string("APIGroup"));
			json_object_set_new(o, "apiVersion", json_string("v1"));
		}
		*ret = api_reply(r, 200, o);
	} else if (!strcmp(path, "/api/v1") || !strcmp(path, "/api/v1/")) {
		*ret = api_reply(r, 200, json_pack("{s:s, s:s, s:[o, o, o]}", "kind", "APIResourceList",
			"groupVersion", "v1", "resources",
			resource("events", "event", true, "Event", "get,list", "ev"),
			resource("namespaces", "namespace", false, "Namespace", NAMESPACE_VERBS, "ns"),
			resource("secrets", "secret", true, "Secret", SECRET_VERBS, NULL)));
	} else if (!strcmp(path, "/openapi/v3")) {
		*ret = api_reply(r, 200, json_pack("{s:{s:{s:s}, s:{s:s}}}", "paths", "api/v1",
						   "serverRelativeURL", "/openapi/v3/api/v1",
						   "apis/rbac.authorization.k8s.io/v1", "serverRelativeURL",
						   "/openapi/v3" RBAC_V1));
	} else if (!strcmp(path, "/openapi/v3" RBAC_V1)) {
		const char *rg = "rbac.authorization.k8s.io";

		*ret = api_reply(r, 200, json_pack("{s:{s:{s:o}, s:{s:o}, s:{s:o}, s:{s:o}}}", "paths",
			RBAC_V1 "/namespaces/{namespace}/roles/{name}", "patch", openapi_op_group(rg, "Role"),
			RBAC_V1 "/namespaces/{namespace}/rolebindings/{name}", "patch",
			openapi_op_group(rg, "RoleBinding"),
			RBAC_V1 "/clusterroles/{name}", "patch", openapi_op_group(rg, "ClusterRole"),
			RBAC_V1 "/clusterrolebindings/{name}", "patch",
			openapi_op_group(rg, "ClusterRoleBinding")));
	} else if (!strcmp(path, "/openapi/v3/api/v1")) {
		/* only what makes kubectl leave field validation to us: no
		 * schemas, so it looks for none */
		*ret = api_reply(r, 200, json_pack("{s:{s:{s:o}, s:{s:o}}}", "paths",
			"/api/v1/namespaces/{namespace}/secrets/{name}", "patch", openapi_op("Secret"),
			"/api/v1/namespaces/{name}", "patch", openapi_op("Namespace")));
	} else {
		*ret = api_status(r, 404, "NotFound", NULL, "the server could not find the requested resource");
	}
	return true;
}
