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

/* The verbs each resource serves now (PATCH and deletecollection come
 * with the patch engine). */
#define SECRET_VERBS    "create,delete,get,list,update,watch"
#define NAMESPACE_VERBS "create,delete,get,list,watch"

/* An operation that says: kind takes fieldValidation (and so the server
 * checks fields itself). */
static json_t *openapi_op(const char *kind)
{
	return json_pack("{s:{s:s, s:s, s:s}, s:[{s:s, s:s}]}",
			 "x-kubernetes-group-version-kind", "group", "", "version", "v1", "kind", kind,
			 "parameters", "name", "fieldValidation", "in", "query");
}

bool api_discovery(struct api_req *r, const char *path, enum MHD_Result *ret)
{
	bool get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");

	if (!api_discovery_public(path) && strcmp(path, "/api") && strcmp(path, "/api/") &&
	    strcmp(path, "/api/v1") && strcmp(path, "/api/v1/") && strcmp(path, "/apis") &&
	    strcmp(path, "/apis/") && strncmp(path, "/openapi/", 9))
		return false;
	if (!api_discovery_public(path) && !r->user.authenticated) {
		/* as the apiserver: discovery is for authenticated users */
		*ret = api_status(r, 403, "Forbidden", json_object(),
				  "forbidden: User \"%s\" cannot get path \"%s\"", r->user.name, path);
		return true;
	}
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
		*ret = api_reply(r, 200, json_pack("{s:s, s:s, s:[]}", "kind", "APIGroupList",
						   "apiVersion", "v1", "groups"));
	} else if (!strcmp(path, "/api/v1") || !strcmp(path, "/api/v1/")) {
		*ret = api_reply(r, 200, json_pack("{s:s, s:s, s:[o, o]}", "kind", "APIResourceList",
			"groupVersion", "v1", "resources",
			resource("namespaces", "namespace", false, "Namespace", NAMESPACE_VERBS, "ns"),
			resource("secrets", "secret", true, "Secret", SECRET_VERBS, NULL)));
	} else if (!strcmp(path, "/openapi/v3")) {
		*ret = api_reply(r, 200, json_pack("{s:{s:{s:s}}}", "paths", "api/v1",
						   "serverRelativeURL", "/openapi/v3/api/v1"));
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
