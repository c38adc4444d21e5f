/* fuzz_rbac - the RBAC authorizer on any policy and request: a JSON
 * document {"objects": [...], "request": {"user", "groups", "verb",
 * "apiGroup", "resource", "subresource", "namespace", "name", "path"}}.
 * Builds the policy (with the bootstrap objects), decides, writes the
 * Forbidden text and the rules review, checks escalation and validation of
 * every object; system:masters must always be allowed. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/rbac.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	json_t *objs, *boot, *req, *o, *g, *st, *causes;
	const char *groups[9];
	struct rbac_policy *p = NULL;
	struct rbac_attrs a;
	char why[RBAC_MSG_MAX], msg[RBAC_MSG_MAX];
	size_t i;

	if (!doc)
		return 0;
	objs = json_array();
	boot = rbac_bootstrap();
	if (!objs || !boot)
		abort();
	if (json_is_array(json_object_get(doc, "objects")))
		json_array_extend(objs, json_object_get(doc, "objects"));
	json_array_extend(objs, boot);
	if (rbac_policy_new(&p, objs))
		abort();
	req = json_object_get(doc, "request");
	memset(&a, 0, sizeof(a));
	a.user = str(req, "user");
	json_array_foreach(json_object_get(req, "groups"), i, g)
		if (a.ngroups < 8 && json_string_value(g))
			groups[a.ngroups++] = json_string_value(g);
	a.groups = groups;
	a.verb = str(req, "verb");
	a.api_group = str(req, "apiGroup");
	a.resource = str(req, "resource");
	a.subresource = str(req, "subresource");
	a.namespace = str(req, "namespace");
	a.name = str(req, "name");
	a.path = str(req, "path");
	a.resource_request = !a.path;
	if (rbac_authorize(p, &a, why, sizeof(why)) == 0)
		rbac_forbidden_message(msg, sizeof(msg), &a, why);
	st = rbac_rules_for(p, a.user, a.groups, a.ngroups, a.namespace);
	if (!st)
		abort();
	json_decref(st);
	json_array_foreach(json_object_get(doc, "objects"), i, o) {
		int r = rbac_validate(o, NULL, &causes, msg, sizeof(msg));

		if (r == -EINVAL) {
			if (!json_array_size(causes))
				abort();
			json_decref(causes);
		} else if (r) {
			abort();
		}
		r = rbac_confirm_no_escalation(p, &a, o, msg, sizeof(msg));
		if (r && r != -EACCES && r != -ENOENT && r != -EINVAL)
			abort();
	}
	/* system:masters is allowed everything, whatever the policy */
	groups[a.ngroups++] = RBAC_MASTERS;
	if (a.verb && rbac_authorize(p, &a, why, sizeof(why)) != 1)
		abort();
	rbac_policy_free(p);
	json_decref(objs);
	json_decref(boot);
	json_decref(doc);
	return 0;
}
