/*
 * reviews.c - the reviews a client asks about itself: `kubectl auth whoami`
 * (authentication.k8s.io/v1 SelfSubjectReview), `kubectl auth can-i`
 * (authorization.k8s.io/v1 SelfSubjectAccessReview) and `auth can-i --list`
 * (SelfSubjectRulesReview).  Each is a POST that stores nothing: the body
 * (JSON, or the protobuf kubectl 1.32+ sends, decoded by api/pb.c) comes
 * back 201 with its status filled in, as from kube-apiserver.
 *
 * The answers come from the same authorizer every request meets (authz.c,
 * Kubernetes RBAC on the store's objects), so can-i never
 * says yes to what the request itself would be refused.  A denied review
 * carries no reason: RBAC gives none, and kubectl prints "no" alone.
 */
#include <errno.h>
#include <string.h>

#include "api/api.h"

/* s as a string of obj, or "" (a field protobuf or JSON left out) */
static const char *field(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

static json_t *user_info(const struct api_user *u)
{
	json_t *groups = json_array();

	for (size_t i = 0; groups && i < u->ngroups; i++)
		json_array_append_new(groups, json_string(u->groups[i]));
	return json_pack("{s:s, s:o}", "username", u->name, "groups", groups);
}

/* spec.resourceAttributes or spec.nonResourceAttributes: 1 allowed, 0
 * not, -errno when the policy cannot be read; -EINVAL with a 400 replied
 * when the spec names neither. */
static int access_allowed(struct api_req *r, const json_t *spec, enum MHD_Result *ret)
{
	const json_t *ra = json_object_get(spec, "resourceAttributes");
	const json_t *na = json_object_get(spec, "nonResourceAttributes");

	if (json_is_object(ra))
		return api_authz_check(r, field(ra, "verb"), field(ra, "group"), field(ra, "resource"),
				       field(ra, "subresource"), field(ra, "namespace"),
				       field(ra, "name"), NULL, NULL, 0);
	if (json_is_object(na))
		return api_authz_check(r, field(na, "verb"), NULL, NULL, NULL, NULL, NULL,
				       field(na, "path"), NULL, 0);
	*ret = api_status(r, 400, "BadRequest", NULL,
			  "SelfSubjectAccessReview: spec: Invalid value: exactly one of "
			  "nonResourceAttributes or resourceAttributes must be specified");
	return -EINVAL;
}

enum MHD_Result api_review(struct api_req *r, const char *group, const char *resource)
{
	static const struct { const char *group, *resource, *kind; } kinds[] = {
		{ "authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview" },
		{ "authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview" },
		{ "authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview" },
	};
	const char *kind = NULL;
	enum MHD_Result ret;
	json_t *obj, *status = NULL, *spec;
	char api_version[64];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
		if (!strcmp(group, kinds[i].group) && !strcmp(resource, kinds[i].resource))
			kind = kinds[i].kind;
	if (!kind)
		return api_status(r, 404, "NotFound", NULL,
				  "the server could not find the requested resource");
	if (strcmp(r->method, "POST"))
		return api_method_not_allowed(r);
	if (!api_allowed(r, "create", group, resource, NULL, NULL, &ret))
		return ret;
	obj = api_body_object(r, &ret);
	if (!obj)
		return ret;
	snprintf(api_version, sizeof(api_version), "%s/v1", group);
	if (strcmp(field(obj, "kind"), kind) || strcmp(field(obj, "apiVersion"), api_version)) {
		ret = api_status(r, 400, "BadRequest", NULL,
				 "the body of the request is not a %s of %s", kind, api_version);
		goto out;
	}
	spec = json_object_get(obj, "spec");
	if (!strcmp(kind, "SelfSubjectReview")) {
		status = json_pack("{s:o}", "userInfo", user_info(&r->user));
	} else if (!strcmp(kind, "SelfSubjectAccessReview")) {
		int allowed = access_allowed(r, spec, &ret);

		if (allowed == -EINVAL)
			goto out;
		if (allowed < 0) {
			ret = api_status(r, 503, "ServiceUnavailable", NULL,
					 "the RBAC policy cannot be read from the store");
			goto out;
		}
		status = json_pack("{s:b}", "allowed", allowed);
	} else {
		const char *ns = field(spec, "namespace");

		status = api_authz_rules(r, *ns ? ns : NULL);
	}
	if (!status || json_object_set_new(obj, "status", status)) {
		ret = api_status(r, 500, "InternalError", NULL, "Internal error occurred: out of memory");
		goto out;
	}
	ret = api_reply(r, 201, obj);
	obj = NULL;
out:
	json_decref(obj);
	return ret;
}
