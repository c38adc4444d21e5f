/*
 * rbac_valid.c - the four RBAC kinds on write: kube-apiserver's validation
 * (pkg/apis/rbac/validation: ValidateRole, ValidateClusterRole,
 * ValidateRoleBinding, ValidateClusterRoleBinding and their updates) with
 * its field errors, and the bootstrap policy.
 *
 * Field errors are built as field.Error does: "<field>: <body>", the body
 * "Required value: <detail>", "Invalid value: <value>: <detail>" or
 * "Unsupported value: <value>: supported values: ..."; a Status cause
 * carries the body as its message.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kube/rbac.h"
#include "store/store.h"

struct verr {
	json_t *causes;
	bool oom;
};

static const char *jstr(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static void add_cause(struct verr *v, const char *reason, const char *field, const char *body)
{
	json_t *c = json_pack("{s:s, s:s, s:s}", "reason", reason, "message", body, "field", field);

	if (!c || json_array_append_new(v->causes, c))
		v->oom = true;
}

static void required(struct verr *v, const char *field, const char *detail)
{
	char body[1024];

	snprintf(body, sizeof(body), "Required value%s%s", *detail ? ": " : "", detail);
	add_cause(v, "FieldValueRequired", field, body);
}

static void forbidden(struct verr *v, const char *field, const char *detail)
{
	char body[1024];

	snprintf(body, sizeof(body), "Forbidden: %s", detail);
	add_cause(v, "FieldValueForbidden", field, body);
}

/* value is already printed as Go would (%q for a string, %#v else) */
static void invalid(struct verr *v, const char *field, const char *value, const char *detail)
{
	char body[2048];

	snprintf(body, sizeof(body), "Invalid value: %s%s%s", value, *detail ? ": " : "", detail);
	add_cause(v, "FieldValueInvalid", field, body);
}

static void not_supported(struct verr *v, const char *field, const char *value,
			  const char *supported)
{
	char body[1024];

	snprintf(body, sizeof(body), "Unsupported value: \"%s\": supported values: %s", value,
		 supported);
	add_cause(v, "FieldValueNotSupported", field, body);
}

/* ValidateRBACName: path.IsValidPathSegmentName's messages */
static const char *rbac_name_problem(const char *name)
{
	if (!strcmp(name, "."))
		return "may not be '.'";
	if (!strcmp(name, ".."))
		return "may not be '..'";
	if (strchr(name, '/'))
		return "may not contain '/'";
	if (strchr(name, '%'))
		return "may not contain '%'";
	return NULL;
}

static void quoted(char *buf, size_t len, const char *s)
{
	size_t off = 0;

	if (len < 3) {
		*buf = '\0';
		return;
	}
	buf[off++] = '"';
	for (; *s && off + 5 < len; s++) {
		if (*s == '"' || *s == '\\')
			buf[off++] = '\\';
		buf[off++] = *s;
	}
	buf[off++] = '"';
	buf[off] = '\0';
}

static void validate_meta(struct verr *v, const json_t *obj, bool namespaced)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const char *name = jstr(meta, "name"), *ns = jstr(meta, "namespace");
	char why[STORE_ERRMSG_MAX], q[600];
	const char *problem;

	if (!name || !*name) {
		required(v, "metadata.name", "name or generateName is required");
	} else if ((problem = rbac_name_problem(name))) {
		quoted(q, sizeof(q), name);
		invalid(v, "metadata.name", q, problem);
	}
	if (namespaced) {
		if (!ns || !*ns) {
			required(v, "metadata.namespace", "");
		} else if (store_check_namespace(ns, why)) {
			quoted(q, sizeof(q), ns);
			invalid(v, "metadata.namespace", q, why);
		}
	} else if (ns && *ns) {
		forbidden(v, "metadata.namespace", "not allowed on this type");
	}
	/* labels and annotations, as ValidateObjectMeta (the store's rules are
	 * Kubernetes') */
	const char *k;
	const json_t *val;

	json_object_foreach(json_object_get(meta, "labels"), k, val) {
		const char *sv = json_string_value(val);

		if (store_check_label_key(k, why)) {
			quoted(q, sizeof(q), k);
			invalid(v, "metadata.labels", q, why);
		} else if (!sv || store_check_label_value(sv, why)) {
			quoted(q, sizeof(q), sv ? sv : "");
			invalid(v, "metadata.labels", q, sv ? why : "must be a string");
		}
	}
	json_object_foreach(json_object_get(meta, "annotations"), k, val) {
		if (store_check_label_key(k, why)) {
			quoted(q, sizeof(q), k);
			invalid(v, "metadata.annotations", q, why);
		} else if (!json_is_string(val)) {
			quoted(q, sizeof(q), k);
			invalid(v, "metadata.annotations", q, "must be a string");
		}
	}
}

/* ValidateLabelSelector on aggregationRule.clusterRoleSelectors[idx], then
 * what LabelSelectorAsSelector adds when the selector does not convert (it
 * fails exactly where the checks above do).  Without it, a selector the
 * API server refuses would be stored and quietly match no ClusterRole. */
static void validate_selector(struct verr *v, const json_t *sel, size_t idx)
{
	char at[128], f[160], why[STORE_ERRMSG_MAX], q[600];
	size_t before = json_array_size(v->causes), i, j;
	const json_t *val, *e;
	const char *k;

	snprintf(f, sizeof(f), "aggregationRule.clusterRoleSelectors[%zu].matchLabels", idx);
	json_object_foreach(json_object_get(sel, "matchLabels"), k, val) {
		const char *sv = json_string_value(val);

		if (store_check_label_key(k, why)) {
			quoted(q, sizeof(q), k);
			invalid(v, f, q, why);
		}
		if (!sv || store_check_label_value(sv, why)) {
			quoted(q, sizeof(q), sv ? sv : "");
			invalid(v, f, q, sv ? why : "must be a string");
		}
	}
	json_array_foreach(json_object_get(sel, "matchExpressions"), i, e) {
		const char *op = jstr(e, "operator"), *key = jstr(e, "key");
		const json_t *vals = json_object_get(e, "values");
		bool in = op && (!strcmp(op, "In") || !strcmp(op, "NotIn"));
		bool exists = op && (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist"));

		snprintf(at, sizeof(at), "aggregationRule.clusterRoleSelectors[%zu].matchExpressions[%zu]",
			 idx, i);
		if (in && !json_array_size(vals)) {
			snprintf(f, sizeof(f), "%s.values", at);
			required(v, f, "must be specified when `operator` is 'In' or 'NotIn'");
		} else if (exists && json_array_size(vals)) {
			snprintf(f, sizeof(f), "%s.values", at);
			forbidden(v, f, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
		} else if (!in && !exists) {
			snprintf(f, sizeof(f), "%s.operator", at);
			quoted(q, sizeof(q), op ? op : "");
			invalid(v, f, q, "not a valid selector operator");
		}
		if (!key || store_check_label_key(key, why)) {
			snprintf(f, sizeof(f), "%s.key", at);
			quoted(q, sizeof(q), key ? key : "");
			invalid(v, f, q, key ? why : "must be a string");
		}
		json_array_foreach(vals, j, val) {
			const char *sv = json_string_value(val);

			if (sv && !store_check_label_value(sv, why))
				continue;
			snprintf(f, sizeof(f), "%s.values[%zu]", at, j);
			quoted(q, sizeof(q), sv ? sv : "");
			invalid(v, f, q, sv ? why : "must be a string");
		}
	}
	if (json_array_size(v->causes) > before) {
		snprintf(f, sizeof(f), "aggregationRule.clusterRoleSelectors[%zu]", idx);
		invalid(v, f, "\"null\"", "invalid label selector.");
	}
}

/* []string{"a", "b"}, as Go's %#v */
static void go_strings(char *buf, size_t len, const json_t *arr)
{
	size_t i, off;
	const json_t *s;

	snprintf(buf, len, "[]string{");
	json_array_foreach(arr, i, s) {
		char q[600];

		quoted(q, sizeof(q), json_string_value(s) ? json_string_value(s) : "");
		off = strlen(buf);
		snprintf(buf + off, len - off, "%s%s", i ? ", " : "", q);
	}
	off = strlen(buf);
	snprintf(buf + off, len - off, "}");
}

static bool strings_only(const json_t *arr)
{
	size_t i;
	const json_t *s;

	if (arr && !json_is_array(arr))
		return false;
	json_array_foreach(arr, i, s)
		if (!json_is_string(s))
			return false;
	return true;
}

static void validate_rule(struct verr *v, const json_t *rule, size_t idx, bool namespaced)
{
	const json_t *verbs = json_object_get(rule, "verbs"), *urls = json_object_get(rule, "nonResourceURLs");
	const json_t *groups = json_object_get(rule, "apiGroups"), *res = json_object_get(rule, "resources");
	const json_t *names = json_object_get(rule, "resourceNames");
	const char *keys[] = { "verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs" };
	char f[64], val[2048];

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (!strings_only(json_object_get(rule, keys[k]))) {
			snprintf(f, sizeof(f), "rules[%zu].%s", idx, keys[k]);
			invalid(v, f, "null", "must be a list of strings");
			return;
		}
	if (!json_array_size(verbs)) {
		snprintf(f, sizeof(f), "rules[%zu].verbs", idx);
		required(v, f, "verbs must contain at least one value");
	}
	if (json_array_size(urls)) {
		snprintf(f, sizeof(f), "rules[%zu].nonResourceURLs", idx);
		go_strings(val, sizeof(val), urls);
		if (namespaced)
			invalid(v, f, val, "namespaced rules cannot apply to non-resource URLs");
		if (json_array_size(groups) || json_array_size(res) || json_array_size(names))
			invalid(v, f, val, "rules cannot apply to both regular resources and non-resource URLs");
		return;
	}
	if (!json_array_size(groups)) {
		snprintf(f, sizeof(f), "rules[%zu].apiGroups", idx);
		required(v, f, "resource rules must supply at least one api group");
	}
	if (!json_array_size(res)) {
		snprintf(f, sizeof(f), "rules[%zu].resources", idx);
		required(v, f, "resource rules must supply at least one resource");
	}
}

static void validate_subject(struct verr *v, const json_t *s, size_t idx, bool namespaced)
{
	const char *kind = jstr(s, "kind"), *name = jstr(s, "name"), *group = jstr(s, "apiGroup");
	const char *ns = jstr(s, "namespace");
	char f[64], why[STORE_ERRMSG_MAX], q[600];

	if (!name || !*name) {
		snprintf(f, sizeof(f), "subjects[%zu].name", idx);
		required(v, f, "");
	}
	if (kind && !strcmp(kind, "ServiceAccount")) {
		if (name && *name && store_check_name(name, why)) {
			snprintf(f, sizeof(f), "subjects[%zu].name", idx);
			quoted(q, sizeof(q), name);
			invalid(v, f, q, why);
		}
		if (group && *group) {
			snprintf(f, sizeof(f), "subjects[%zu].apiGroup", idx);
			not_supported(v, f, group, "\"\"");
		}
		if (!namespaced && (!ns || !*ns)) {
			snprintf(f, sizeof(f), "subjects[%zu].namespace", idx);
			required(v, f, "");
		}
	} else if (kind && (!strcmp(kind, "User") || !strcmp(kind, "Group"))) {
		if (!group || strcmp(group, RBAC_GROUP)) {
			snprintf(f, sizeof(f), "subjects[%zu].apiGroup", idx);
			not_supported(v, f, group ? group : "", "\"" RBAC_GROUP "\"");
		}
	} else {
		snprintf(f, sizeof(f), "subjects[%zu].kind", idx);
		not_supported(v, f, kind ? kind : "", "\"ServiceAccount\", \"User\", \"Group\"");
	}
}

static void roleref_go(char *buf, size_t len, const json_t *ref)
{
	char g[300], k[300], n[300];

	quoted(g, sizeof(g), jstr(ref, "apiGroup") ? jstr(ref, "apiGroup") : "");
	quoted(k, sizeof(k), jstr(ref, "kind") ? jstr(ref, "kind") : "");
	quoted(n, sizeof(n), jstr(ref, "name") ? jstr(ref, "name") : "");
	snprintf(buf, len, "rbac.RoleRef{APIGroup:%s, Kind:%s, Name:%s}", g, k, n);
}

static void validate_binding(struct verr *v, const json_t *obj, const json_t *old, bool namespaced)
{
	const json_t *ref = json_object_get(obj, "roleRef"), *s;
	const char *group = jstr(ref, "apiGroup"), *kind = jstr(ref, "kind"), *name = jstr(ref, "name");
	const char *problem;
	char q[600];
	size_t i;

	if (!group || strcmp(group, RBAC_GROUP))
		not_supported(v, "roleRef.apiGroup", group ? group : "", "\"" RBAC_GROUP "\"");
	if (!kind || (strcmp(kind, "ClusterRole") && (!namespaced || strcmp(kind, "Role"))))
		not_supported(v, "roleRef.kind", kind ? kind : "",
			      namespaced ? "\"Role\", \"ClusterRole\"" : "\"ClusterRole\"");
	if (!name || !*name) {
		required(v, "roleRef.name", "");
	} else if ((problem = rbac_name_problem(name))) {
		quoted(q, sizeof(q), name);
		invalid(v, "roleRef.name", q, problem);
	}
	if (json_object_get(obj, "subjects") && !json_is_array(json_object_get(obj, "subjects")))
		invalid(v, "subjects", "null", "must be a list of subjects");
	json_array_foreach(json_object_get(obj, "subjects"), i, s)
		validate_subject(v, s, i, namespaced);
	if (old && !json_equal(json_object_get(old, "roleRef"), (json_t *)ref)) {
		char val[1024];

		roleref_go(val, sizeof(val), ref);
		invalid(v, "roleRef", val, "cannot change roleRef");
	}
}

int rbac_validate(const json_t *obj, const json_t *old, json_t **causes, char *msg, size_t len)
{
	const char *kind = jstr(obj, "kind"), *name = jstr(json_object_get(obj, "metadata"), "name");
	struct verr v = { .causes = json_array() };
	bool namespaced = rbac_kind_namespaced(kind), role;
	const json_t *r;
	size_t i, n, off;
	int ret = -ENOMEM;

	if (len)
		*msg = '\0';
	if (!v.causes)
		return -ENOMEM;
	if (!rbac_kind_resource(kind)) {
		snprintf(msg, len, "object of kind '%s' is not an RBAC role or binding",
			 kind ? kind : "");
		add_cause(&v, "FieldValueNotSupported", "kind", "Unsupported value");
		ret = -EINVAL;
		goto fail;
	}
	role = !strcmp(kind, "Role") || !strcmp(kind, "ClusterRole");
	validate_meta(&v, obj, namespaced);
	if (role) {
		const json_t *rules = json_object_get(obj, "rules");
		const json_t *agg = json_object_get(obj, "aggregationRule");
		const json_t *sels = json_object_get(agg, "clusterRoleSelectors");

		if (rules && !json_is_array(rules))
			invalid(&v, "rules", "null", "must be a list of rules");
		json_array_foreach(rules, i, r)
			validate_rule(&v, r, i, namespaced);
		if (agg && strcmp(kind, "ClusterRole")) {
			forbidden(&v, "aggregationRule", "not allowed on this type");
		} else if (agg) {
			if (!json_array_size(sels))
				required(&v, "aggregationRule.clusterRoleSelectors",
					 "at least one clusterRoleSelector required if aggregationRule is non-nil");
			json_array_foreach(sels, i, r)
				validate_selector(&v, r, i);
		}
	} else {
		validate_binding(&v, obj, old, namespaced);
	}
	if (v.oom)
		goto fail;
	n = json_array_size(v.causes);
	if (!n) {
		json_decref(v.causes);
		return 0;
	}
	/* "<Kind>.rbac.authorization.k8s.io "x" is invalid: " and one error,
	 * or several in brackets (field.ErrorList.ToAggregate) */
	snprintf(msg, len, "%s." RBAC_GROUP " \"%s\" is invalid: %s", kind, name ? name : "",
		 n > 1 ? "[" : "");
	json_array_foreach(v.causes, i, r) {
		off = strlen(msg);
		snprintf(msg + off, len - off, "%s%s: %s", i ? ", " : "", jstr(r, "field"),
			 jstr(r, "message"));
	}
	if (n > 1) {
		off = strlen(msg);
		snprintf(msg + off, len - off, "]");
	}
	ret = -EINVAL;
fail:
	if (ret == -EINVAL) {
		*causes = v.causes;
		return ret;
	}
	json_decref(v.causes);
	return ret;
}

/* --- the bootstrap policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy),
 * reduced to what we serve: secrets, namespaces, events, the RBAC kinds and
 * the self reviews --- */

static const char bootstrap_json[] =
	"["
	/* cluster-admin: everything */
	"{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRole\","
	" \"metadata\": {\"name\": \"cluster-admin\", \"labels\": {\"kubernetes.io/bootstrapping\": \"rbac-defaults\"},"
	"  \"annotations\": {\"rbac.authorization.kubernetes.io/autoupdate\": \"true\"}},"
	" \"rules\": [{\"apiGroups\": [\"*\"], \"resources\": [\"*\"], \"verbs\": [\"*\"]},"
	"  {\"nonResourceURLs\": [\"*\"], \"verbs\": [\"*\"]}]},"
	/* admin, edit, view: aggregated, as in Kubernetes */
	"{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRole\","
	" \"metadata\": {\"name\": \"admin\", \"labels\": {\"kubernetes.io/bootstrapping\": \"rbac-defaults\"},"
	"  \"annotations\": {\"rbac.authorization.kubernetes.io/autoupdate\": \"true\"}},"
	" \"aggregationRule\": {\"clusterRoleSelectors\": [{\"matchLabels\": {\"rbac.authorization.k8s.io/aggregate-to-admin\": \"true\"}}]},"
	" \"rules\": []},"
	"{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRole\","
	" \"metadata\": {\"name\": \"edit\", \"labels\": {\"kubernetes.io/bootstrapping\": \"rbac-defaults\","
	"  \"rbac.authorization.k8s.io/aggregate-to-admin\": \"true\"},"
	"  \"annotations\": {\"rbac.authorization.kubernetes.io/autoupdate\": \"true\"}},"
	" \"aggregationRule\": {\"clusterRoleSelectors\": [{\"matchLabels\": {\"rbac.authorization.k8s.io/aggregate-to-edit\": \"true\"}}]},"
	" \"rules\": []},"
	"{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRole\","
	" \"metadata\": {\"name\": \"view\", \"labels\": {\"kubernetes.io/bootstrapping\": \"rbac-defaults\","
	"  \"rbac.authorization.k8s.io/aggregate-to-edit\": \"true\"},"
	"  \"annotations\": {\"rbac.authorization.kubernetes.io/autoupdate\": \"true\"}},"
	" \"aggregationRule\": {\"clusterRoleSelectors\": [{\"matchLabels\": {\"rbac.authorization.k8s.io/aggregate-to-view\": \"true\"}}]},"
	" \"rules\": []},"
	"{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRole\","
	" \"metadata\": {\"name\": \"system:aggregate-to-admin\", \"labels\": {\"kubernetes.io/bootstrapping\": \"rbac-defaults\","
	"  \"rbac.authorization.k8s.io/aggregate-to-admin\": \"true\"},"
	"  \"annotations\": {\"rbac.authorization.kubernetes.io/autoupdate\": \"true\"}},"
	" \"rules\": [{\"apiGroups\": [\"rbac.authorization.k8s.io\"], \"resources\": [\"rolebindings\", \"roles\"],"
	"   \"verbs\": [\"create\", \"delete\", \"deletecollection\", \"get\", \"list\", \"patch\", \"update\", \"watch\"]},"
	"  {\"apiGroups\": [\"authorization.k8s.io\"], \"resources\": [\"localsubjectaccessreviews\"], \"verbs\": [\"create\"]}]},"
	"{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRole\","
	" \"metadata\": {\"name\": \"system:aggregate-to-edit\", \"labels\": {\"kubernetes.io/bootstrapping\": \"rbac-defaults\","
	"  \"rbac.authorization.k8s.io/aggregate-to-edit\": \"true\"},"
	"  \"annotations\": {\"rbac.authorization.kubernetes.io/autoupdate\": \"true\"}},"
	" \"rules\": [{\"apiGroups\": [\"\"], \"resources\": [\"secrets\"],"
	"   \"verbs\": [\"create\", \"delete\", \"deletecollection\", \"patch\", \"update\", \"get\", \"list\", \"watch\"]},"
	"  {\"apiGroups\": [\"\"], \"resources\": [\"events\"],"
	"   \"verbs\": [\"create\", \"delete\", \"deletecollection\", \"patch\", \"update\"]}]},"
	"{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRole\","
	" \"metadata\": {\"name\": \"system:aggregate-to-view\", \"labels\": {\"kubernetes.io/bootstrapping\": \"rbac-defaults\","
	"  \"rbac.authorization.k8s.io/aggregate-to-view\": \"true\"},"
	"  \"annotations\": {\"rbac.authorization.kubernetes.io/autoupdate\": \"true\"}},"
	" \"rules\": [{\"apiGroups\": [\"\"], \"resources\": [\"events\", \"namespaces\", \"namespaces/status\"],"
	"   \"verbs\": [\"get\", \"list\", \"watch\"]}]},"
	"{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRole\","
	" \"metadata\": {\"name\": \"system:basic-user\", \"labels\": {\"kubernetes.io/bootstrapping\": \"rbac-defaults\"},"
	"  \"annotations\": {\"rbac.authorization.kubernetes.io/autoupdate\": \"true\"}},"
	" \"rules\": [{\"apiGroups\": [\"authorization.k8s.io\"], \"resources\": [\"selfsubjectaccessreviews\", \"selfsubjectrulesreviews\"], \"verbs\": [\"create\"]},"
	"  {\"apiGroups\": [\"authentication.k8s.io\"], \"resources\": [\"selfsubjectreviews\"], \"verbs\": [\"create\"]}]},"
	"{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRole\","
	" \"metadata\": {\"name\": \"system:discovery\", \"labels\": {\"kubernetes.io/bootstrapping\": \"rbac-defaults\"},"
	"  \"annotations\": {\"rbac.authorization.kubernetes.io/autoupdate\": \"true\"}},"
	" \"rules\": [{\"nonResourceURLs\": [\"/api\", \"/api/*\", \"/apis\", \"/apis/*\", \"/healthz\", \"/livez\","
	"   \"/openapi\", \"/openapi/*\", \"/readyz\", \"/version\", \"/version/\"], \"verbs\": [\"get\"]}]},"
	"{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRole\","
	" \"metadata\": {\"name\": \"system:public-info-viewer\", \"labels\": {\"kubernetes.io/bootstrapping\": \"rbac-defaults\"},"
	"  \"annotations\": {\"rbac.authorization.kubernetes.io/autoupdate\": \"true\"}},"
	" \"rules\": [{\"nonResourceURLs\": [\"/healthz\", \"/livez\", \"/readyz\", \"/version\", \"/version/\"], \"verbs\": [\"get\"]}]},"
	/* the bindings */
	"{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRoleBinding\","
	" \"metadata\": {\"name\": \"cluster-admin\", \"labels\": {\"kubernetes.io/bootstrapping\": \"rbac-defaults\"},"
	"  \"annotations\": {\"rbac.authorization.kubernetes.io/autoupdate\": \"true\"}},"
	" \"roleRef\": {\"apiGroup\": \"rbac.authorization.k8s.io\", \"kind\": \"ClusterRole\", \"name\": \"cluster-admin\"},"
	" \"subjects\": [{\"apiGroup\": \"rbac.authorization.k8s.io\", \"kind\": \"Group\", \"name\": \"system:masters\"}]},"
	"{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRoleBinding\","
	" \"metadata\": {\"name\": \"system:basic-user\", \"labels\": {\"kubernetes.io/bootstrapping\": \"rbac-defaults\"},"
	"  \"annotations\": {\"rbac.authorization.kubernetes.io/autoupdate\": \"true\"}},"
	" \"roleRef\": {\"apiGroup\": \"rbac.authorization.k8s.io\", \"kind\": \"ClusterRole\", \"name\": \"system:basic-user\"},"
	" \"subjects\": [{\"apiGroup\": \"rbac.authorization.k8s.io\", \"kind\": \"Group\", \"name\": \"system:authenticated\"}]},"
	"{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRoleBinding\","
	" \"metadata\": {\"name\": \"system:discovery\", \"labels\": {\"kubernetes.io/bootstrapping\": \"rbac-defaults\"},"
	"  \"annotations\": {\"rbac.authorization.kubernetes.io/autoupdate\": \"true\"}},"
	" \"roleRef\": {\"apiGroup\": \"rbac.authorization.k8s.io\", \"kind\": \"ClusterRole\", \"name\": \"system:discovery\"},"
	" \"subjects\": [{\"apiGroup\": \"rbac.authorization.k8s.io\", \"kind\": \"Group\", \"name\": \"system:authenticated\"}]},"
	"{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRoleBinding\","
	" \"metadata\": {\"name\": \"system:public-info-viewer\", \"labels\": {\"kubernetes.io/bootstrapping\": \"rbac-defaults\"},"
	"  \"annotations\": {\"rbac.authorization.kubernetes.io/autoupdate\": \"true\"}},"
	" \"roleRef\": {\"apiGroup\": \"rbac.authorization.k8s.io\", \"kind\": \"ClusterRole\", \"name\": \"system:public-info-viewer\"},"
	" \"subjects\": [{\"apiGroup\": \"rbac.authorization.k8s.io\", \"kind\": \"Group\", \"name\": \"system:authenticated\"},"
	"  {\"apiGroup\": \"rbac.authorization.k8s.io\", \"kind\": \"Group\", \"name\": \"system:unauthenticated\"}]}"
	"]";

json_t *rbac_bootstrap(void)
{
	return json_loads(bootstrap_json, 0, NULL);
}

/* Append to *arr (of have, made on demand) every item of want it lacks;
 * 1 if any was added, 0 if none, -1 on allocation failure. */
static int add_missing(json_t *have, const char *key, const json_t *want)
{
	json_t *arr = json_object_get(have, key), *w, *h;
	size_t i, j;
	int added = 0;

	if (!json_is_array(arr)) {
		if (json_object_set_new(have, key, json_array()))
			return -1;
		arr = json_object_get(have, key);
	}
	json_array_foreach(want, i, w) {
		bool found = false;

		json_array_foreach(arr, j, h)
			if (json_equal(h, w)) {
				found = true;
				break;
			}
		if (!found) {
			if (json_array_append(arr, w))
				return -1;
			added = 1;
		}
	}
	return added;
}

/* kube-apiserver's reconciliation of one default that exists: unless its
 * autoupdate annotation is "false", the default's rules (ClusterRoles) or
 * subjects (bindings) it lacks are added back, nothing is removed.  A new
 * object to write (keeping its resourceVersion, so that a change meanwhile
 * conflicts), or NULL when nothing is missing (or on allocation failure:
 * *oom set). */
static json_t *reconcile(const json_t *have, const json_t *want, bool *oom)
{
	const char *kind = jstr(want, "kind");
	const char *au = jstr(json_object_get(json_object_get(have, "metadata"), "annotations"),
			      "rbac.authorization.kubernetes.io/autoupdate");
	json_t *out;
	int r;

	if (au && !strcmp(au, "false"))
		return NULL;
	if (!(out = json_deep_copy(have))) {
		*oom = true;
		return NULL;
	}
	if (!strcmp(kind, "ClusterRole")) {
		json_t *agg = json_object_get(want, "aggregationRule");

		r = add_missing(out, "rules", json_object_get(want, "rules"));
		if (r >= 0 && agg) {
			json_t *oagg = json_object_get(out, "aggregationRule");

			if (!json_is_object(oagg)) {
				if (json_object_set_new(out, "aggregationRule", json_object()))
					r = -1;
				oagg = json_object_get(out, "aggregationRule");
			}
			if (r >= 0) {
				int a = add_missing(oagg, "clusterRoleSelectors",
						    json_object_get(agg, "clusterRoleSelectors"));

				r = a < 0 ? -1 : (r | a);
			}
		}
	} else {
		r = add_missing(out, "subjects", json_object_get(want, "subjects"));
	}
	if (r <= 0) {
		*oom |= r < 0;
		json_decref(out);
		return NULL;
	}
	return out;
}

json_t *rbac_bootstrap_missing(const json_t *existing)
{
	json_t *all = rbac_bootstrap(), *out = json_array(), *b;
	size_t i, j;
	const json_t *e;
	bool oom = false;

	if (!all || !out)
		goto fail;
	json_array_foreach(all, i, b) {
		const char *kind = jstr(b, "kind");
		const char *name = jstr(json_object_get(b, "metadata"), "name");
		const json_t *found = NULL;
		json_t *fix;

		json_array_foreach(existing, j, e) {
			const char *ek = jstr(e, "kind"), *en = jstr(json_object_get(e, "metadata"), "name");

			if (ek && en && !strcmp(ek, kind) && !strcmp(en, name)) {
				found = e;
				break;
			}
		}
		if (!found) {
			if (json_array_append(out, b))
				goto fail;
			continue;
		}
		fix = reconcile(found, b, &oom);
		if (oom || (fix && json_array_append_new(out, fix)))
			goto fail;
	}
	json_decref(all);
	return out;
fail:
	json_decref(all);
	json_decref(out);
	return NULL;
}
