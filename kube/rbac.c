/*
 * rbac.c - Kubernetes RBAC: the authorizer over Roles, ClusterRoles,
 * RoleBindings and ClusterRoleBindings (see rbac.h for the semantics).
 *
 * A policy is built once from the objects and then only read, so any number
 * of request threads may share it.  Every subject of every binding becomes
 * one grant, indexed by who it names: "U:<user>" or "G:<group>" for
 * ClusterRoleBindings, "<ns>\x1fU:<user>" / "<ns>\x1fG:<group>" for
 * RoleBindings (a ServiceAccount subject is the user
 * "system:serviceaccount:NS:NAME", NS defaulting to the binding's).  A
 * decision then looks at the grants of the user and its groups only: its
 * cost does not grow with the number of bindings naming others.
 *
 * Invariants: every string a rule, role or grant points at belongs to the
 * objects array the policy holds a reference to (or to the grant itself);
 * role indices in grants are -1 (missing role) or < nroles; rule indices in
 * roles are < nrules.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/rbac.h"
#include "store/store.h"

struct sv {
	const char *const *v;
	size_t n;
};

struct rule {
	struct sv verbs, groups, resources, names, urls;
};

struct role {
	const char *ns; /* NULL for a ClusterRole */
	const char *name;
	const json_t *labels;
	const json_t *selectors; /* aggregationRule.clusterRoleSelectors, or NULL */
	size_t *rules;
	size_t nrules, cap;
};

struct grant {
	size_t binding;	     /* which binding: grants of one binding share it */
	const char *bname;   /* the binding's name */
	const char *ns;	     /* a RoleBinding's namespace; NULL for a ClusterRoleBinding */
	const char *ref_kind, *ref_name;
	char *subject;	     /* 'User "bob"', as kube-apiserver describes it */
	long role;	     /* index into roles, -1 when the role is missing */
};

struct rbac_policy {
	json_t *objects;
	struct rule *rules;
	size_t nrules, rules_cap;
	struct role *roles;
	size_t nroles;
	json_t *role_index;    /* "<ns>\x1f<name>" (ns "" for ClusterRoles) -> index */
	struct grant *grants;
	size_t ngrants, grants_cap;
	json_t *cluster_index; /* "U:user" / "G:group" -> [grant index...] */
	json_t *ns_index;      /* "<ns>\x1fU:user" ... -> [grant index...] */
};

/* the rules full authority takes, as kube-apiserver's fullAuthority */
static const char *star[] = { "*" };
static const struct rule full_authority[] = {
	{ .verbs = { star, 1 }, .groups = { star, 1 }, .resources = { star, 1 } },
	{ .verbs = { star, 1 }, .urls = { star, 1 } },
};

static const char *jstr(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static const char *meta_str(const json_t *obj, const char *key)
{
	return jstr(json_object_get(obj, "metadata"), key);
}

static bool empty(const char *s)
{
	return !s || !*s;
}

/* The strings of a JSON array (non-strings skipped); v NULL when none. */
static int sv_from(struct sv *out, const json_t *arr)
{
	size_t i, n = json_array_size(arr);
	const char **v;

	out->v = NULL;
	out->n = 0;
	if (!n)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));

		if (s)
			v[out->n++] = s;
	}
	out->v = v;
	return 0;
}

static bool sv_has(const struct sv *s, const char *x)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], x))
			return true;
	return false;
}

static bool sv_has_all(const struct sv *set, const struct sv *x)
{
	for (size_t i = 0; i < x->n; i++)
		if (!sv_has(set, x->v[i]))
			return false;
	return true;
}

static void rule_release(struct rule *r)
{
	free((void *)r->verbs.v);
	free((void *)r->groups.v);
	free((void *)r->resources.v);
	free((void *)r->names.v);
	free((void *)r->urls.v);
}

static int rule_parse(struct rule *r, const json_t *j)
{
	memset(r, 0, sizeof(*r));
	if (sv_from(&r->verbs, json_object_get(j, "verbs")) ||
	    sv_from(&r->groups, json_object_get(j, "apiGroups")) ||
	    sv_from(&r->resources, json_object_get(j, "resources")) ||
	    sv_from(&r->names, json_object_get(j, "resourceNames")) ||
	    sv_from(&r->urls, json_object_get(j, "nonResourceURLs"))) {
		rule_release(r);
		return -ENOMEM;
	}
	return 0;
}

/* The rules of a JSON array of PolicyRules, in *out (free each with
 * rule_release, then the array). */
static int rules_parse(struct rule **out, size_t *n, const json_t *arr)
{
	size_t i, m = json_array_size(arr);
	struct rule *r = calloc(m ? m : 1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	for (i = 0; i < m; i++)
		if (rule_parse(&r[i], json_array_get(arr, i))) {
			while (i--)
				rule_release(&r[i]);
			free(r);
			return -ENOMEM;
		}
	*out = r;
	*n = m;
	return 0;
}

static void rules_free(struct rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rule_release(&r[i]);
	free(r);
}

/* --- matching (rbac.go's RuleAllows and rbacv1helpers) --- */

static bool resource_matches(const struct rule *r, const char *combined, const char *sub)
{
	size_t sl = sub ? strlen(sub) : 0;

	for (size_t i = 0; i < r->resources.n; i++) {
		const char *x = r->resources.v[i];

		if (!strcmp(x, "*") || !strcmp(x, combined))
			return true;
		/* "*" + "/" + subresource */
		if (sl && strlen(x) == sl + 2 && !strncmp(x, "*/", 2) && !strcmp(x + 2, sub))
			return true;
	}
	return false;
}

/* A rule with resourceNames matches only requests that name an object:
 * never list, create or deletecollection (name ""), as Kubernetes. */
static bool name_matches(const struct rule *r, const char *name)
{
	if (!r->names.n)
		return true;
	return !empty(name) && sv_has(&r->names, name);
}

static bool url_matches(const struct rule *r, const char *path)
{
	for (size_t i = 0; i < r->urls.n; i++) {
		const char *u = r->urls.v[i];
		size_t ul = strlen(u);

		if (!strcmp(u, "*") || !strcmp(u, path))
			return true;
		if (ul && u[ul - 1] == '*') {
			while (ul && u[ul - 1] == '*')
				ul--;
			if (!strncmp(path, u, ul))
				return true;
		}
	}
	return false;
}

static bool rule_allows(const struct rule *r, const struct rbac_attrs *a, const char *combined)
{
	if (!sv_has(&r->verbs, "*") && !sv_has(&r->verbs, a->verb))
		return false;
	if (!a->resource_request)
		return url_matches(r, a->path ? a->path : "");
	if (!sv_has(&r->groups, "*") && !sv_has(&r->groups, a->api_group ? a->api_group : ""))
		return false;
	return resource_matches(r, combined, a->subresource) && name_matches(r, a->name);
}

/* --- building --- */

/* prefix "\x1f" kind ":" name, in buf when it fits, else allocated (the
 * caller frees a result that is not buf); NULL on allocation failure */
static char *index_key(char *buf, size_t len, const char *ns, char kind, const char *name)
{
	/* memcpy, not snprintf: this runs several times per decision */
	size_t nl = ns ? strlen(ns) : 0, ml = strlen(name), need = nl + (ns ? 1 : 0) + 2 + ml + 1;
	char *p = need <= len ? buf : malloc(need), *q = p;

	if (!p)
		return NULL;
	if (ns) {
		memcpy(q, ns, nl);
		q += nl;
		*q++ = '\x1f';
	}
	*q++ = kind;
	*q++ = ':';
	memcpy(q, name, ml + 1);
	return p;
}

static int index_add(json_t *index, const char *key, size_t grant)
{
	json_t *arr = json_object_get(index, key);

	if (!arr) {
		arr = json_array();
		if (!arr || json_object_set_new(index, key, arr))
			return -ENOMEM;
	}
	return json_array_append_new(arr, json_integer((json_int_t)grant)) ? -ENOMEM : 0;
}

static long role_find(const struct rbac_policy *p, const char *ns, const char *name)
{
	char buf[600], *k;
	json_t *v;

	k = index_key(buf, sizeof(buf), ns ? ns : "", 'R', name);
	if (!k)
		return -1;
	v = json_object_get(p->role_index, k);
	if (k != buf)
		free(k);
	return v ? (long)json_integer_value(v) : -1;
}

static int role_add_rule(struct role *r, size_t rule)
{
	for (size_t i = 0; i < r->nrules; i++)
		if (r->rules[i] == rule)
			return 0;
	if (r->nrules == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 4;
		size_t *v = realloc(r->rules, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->rules = v;
		r->cap = cap;
	}
	r->rules[r->nrules++] = rule;
	return 0;
}

static int policy_add_rule(struct rbac_policy *p, const json_t *j, size_t *out)
{
	if (p->nrules == p->rules_cap) {
		size_t cap = p->rules_cap ? 2 * p->rules_cap : 16;
		struct rule *v = realloc(p->rules, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->rules = v;
		p->rules_cap = cap;
	}
	if (rule_parse(&p->rules[p->nrules], j))
		return -ENOMEM;
	*out = p->nrules++;
	return 0;
}

/* metav1.LabelSelector against labels: matchLabels and matchExpressions
 * (In, NotIn, Exists, DoesNotExist); an empty selector matches all. */
static bool label_selector_matches(const json_t *sel, const json_t *labels)
{
	const char *k;
	json_t *v, *e;
	size_t i, j;

	json_object_foreach(json_object_get(sel, "matchLabels"), k, v) {
		const char *have = jstr(labels, k);

		if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)))
			return false;
	}
	json_array_foreach(json_object_get(sel, "matchExpressions"), i, e) {
		const char *key = jstr(e, "key"), *op = jstr(e, "operator");
		const char *have = key ? jstr(labels, key) : NULL;
		json_t *vals = json_object_get(e, "values"), *x;
		bool in = false;

		if (!key || !op)
			return false;
		json_array_foreach(vals, j, x)
			if (have && json_is_string(x) && !strcmp(have, json_string_value(x)))
				in = true;
		if (!strcmp(op, "In") ? !in : !strcmp(op, "NotIn") ? in :
		    !strcmp(op, "Exists") ? !have : !strcmp(op, "DoesNotExist") ? !!have : true)
			return false;
	}
	return true;
}

/* The aggregation controller's work, to a fixed point: an aggregated
 * ClusterRole holds the rules of every other ClusterRole a selector of it
 * matches (and aggregated roles may aggregate aggregated ones). */
static int policy_aggregate(struct rbac_policy *p)
{
	bool changed = true;

	for (size_t pass = 0; changed && pass <= p->nroles; pass++) {
		changed = false;
		for (size_t i = 0; i < p->nroles; i++) {
			struct role *agg = &p->roles[i];
			const json_t *sel;
			size_t s;

			if (agg->ns || !agg->selectors)
				continue;
			json_array_foreach(agg->selectors, s, sel) {
				for (size_t j = 0; j < p->nroles; j++) {
					struct role *src = &p->roles[j];
					size_t before = agg->nrules;

					if (j == i || src->ns ||
					    !label_selector_matches(sel, src->labels))
						continue;
					for (size_t r = 0; r < src->nrules; r++)
						if (role_add_rule(agg, src->rules[r]))
							return -ENOMEM;
					changed |= agg->nrules != before;
				}
			}
		}
	}
	return 0;
}

static int policy_add_roles(struct rbac_policy *p)
{
	size_t i, count = 0;
	const json_t *o;

	json_array_foreach(p->objects, i, o) {
		const char *kind = jstr(o, "kind");

		if (kind && (!strcmp(kind, "Role") || !strcmp(kind, "ClusterRole")))
			count++;
	}
	p->roles = calloc(count ? count : 1, sizeof(*p->roles));
	if (!p->roles)
		return -ENOMEM;
	json_array_foreach(p->objects, i, o) {
		const char *kind = jstr(o, "kind"), *name = meta_str(o, "name");
		const char *ns = meta_str(o, "namespace");
		bool cluster;
		struct role *r;
		const json_t *rj;
		size_t k, idx;
		char buf[600], *key;

		if (!kind || !name)
			continue;
		cluster = !strcmp(kind, "ClusterRole");
		if (!cluster && (strcmp(kind, "Role") || empty(ns)))
			continue;
		r = &p->roles[p->nroles];
		r->ns = cluster ? NULL : ns;
		r->name = name;
		r->labels = json_object_get(json_object_get(o, "metadata"), "labels");
		if (cluster && json_is_object(json_object_get(o, "aggregationRule")))
			r->selectors = json_object_get(json_object_get(o, "aggregationRule"),
						       "clusterRoleSelectors");
		/* an aggregated role's own rules are the controller's to
		 * write: it gets only what its selectors gather */
		if (!r->selectors)
			json_array_foreach(json_object_get(o, "rules"), k, rj) {
				if (policy_add_rule(p, rj, &idx) || role_add_rule(r, idx))
					return -ENOMEM;
			}
		key = index_key(buf, sizeof(buf), cluster ? "" : ns, 'R', name);
		if (!key)
			return -ENOMEM;
		if (json_object_set_new(p->role_index, key, json_integer((json_int_t)p->nroles))) {
			if (key != buf)
				free(key);
			return -ENOMEM;
		}
		if (key != buf)
			free(key);
		p->nroles++;
	}
	return policy_aggregate(p);
}

static int policy_add_grant(struct rbac_policy *p, size_t binding, const json_t *b,
			    const json_t *subj, bool cluster)
{
	const char *kind = jstr(subj, "kind"), *name = jstr(subj, "name");
	const char *bns = meta_str(b, "namespace"), *sns = jstr(subj, "namespace");
	const json_t *ref = json_object_get(b, "roleRef");
	struct grant *g;
	char *who = NULL, buf[600], *key;
	char k;
	int ret = -ENOMEM;

	if (!kind || empty(name))
		return 0;
	if (!strcmp(kind, "User") || !strcmp(kind, "Group")) {
		k = kind[0];
		who = strdup(name);
	} else if (!strcmp(kind, "ServiceAccount")) {
		/* defaults to the binding's namespace; a ClusterRoleBinding's
		 * subject without one never applies */
		if (empty(sns))
			sns = cluster ? NULL : bns;
		if (empty(sns))
			return 0;
		k = 'U';
		if (asprintf(&who, "system:serviceaccount:%s:%s", sns, name) < 0)
			who = NULL;
	} else {
		return 0;
	}
	if (!who)
		return -ENOMEM;
	if (p->ngrants == p->grants_cap) {
		size_t cap = p->grants_cap ? 2 * p->grants_cap : 16;
		struct grant *v = realloc(p->grants, cap * sizeof(*v));

		if (!v)
			goto out;
		p->grants = v;
		p->grants_cap = cap;
	}
	g = &p->grants[p->ngrants];
	memset(g, 0, sizeof(*g));
	g->binding = binding;
	g->bname = meta_str(b, "name");
	g->ns = cluster ? NULL : bns;
	g->ref_kind = jstr(ref, "kind");
	g->ref_name = jstr(ref, "name");
	if (!g->bname || !g->ref_kind || !g->ref_name) {
		ret = 0;
		goto out;
	}
	if (!strcmp(kind, "ServiceAccount")) {
		if (asprintf(&g->subject, "ServiceAccount \"%s/%s\"", name, sns) < 0)
			g->subject = NULL;
	} else if (asprintf(&g->subject, "%s \"%s\"", kind, name) < 0) {
		g->subject = NULL;
	}
	if (!g->subject)
		goto out;
	if (!strcmp(g->ref_kind, "ClusterRole"))
		g->role = role_find(p, "", g->ref_name);
	else if (!strcmp(g->ref_kind, "Role") && !cluster)
		g->role = role_find(p, bns, g->ref_name);
	else
		g->role = -1;
	key = index_key(buf, sizeof(buf), cluster ? NULL : bns, k, who);
	if (!key) {
		free(g->subject);
		goto out;
	}
	ret = index_add(cluster ? p->cluster_index : p->ns_index, key, p->ngrants);
	if (key != buf)
		free(key);
	if (ret) {
		free(g->subject);
		goto out;
	}
	p->ngrants++;
out:
	free(who);
	return ret;
}

static int policy_add_bindings(struct rbac_policy *p)
{
	size_t i, s;
	const json_t *o, *subj;

	json_array_foreach(p->objects, i, o) {
		const char *kind = jstr(o, "kind");
		bool cluster;

		if (!kind || !meta_str(o, "name"))
			continue;
		cluster = !strcmp(kind, "ClusterRoleBinding");
		if (!cluster && (strcmp(kind, "RoleBinding") || empty(meta_str(o, "namespace"))))
			continue;
		json_array_foreach(json_object_get(o, "subjects"), s, subj)
			if (policy_add_grant(p, i, o, subj, cluster))
				return -ENOMEM;
	}
	return 0;
}

int rbac_policy_new(struct rbac_policy **out, json_t *objects)
{
	struct rbac_policy *p = calloc(1, sizeof(*p));
	int ret = -ENOMEM;

	if (!p)
		return -ENOMEM;
	p->objects = json_incref(objects);
	p->role_index = json_object();
	p->cluster_index = json_object();
	p->ns_index = json_object();
	if (!p->role_index || !p->cluster_index || !p->ns_index)
		goto out;
	if (json_is_array(objects) && (policy_add_roles(p) || policy_add_bindings(p)))
		goto out;
	*out = p;
	p = NULL;
	ret = 0;
out:
	rbac_policy_free(p);
	return ret;
}

void rbac_policy_free(struct rbac_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nrules; i++)
		rule_release(&p->rules[i]);
	free(p->rules);
	for (size_t i = 0; i < p->nroles; i++)
		free(p->roles[i].rules);
	free(p->roles);
	for (size_t i = 0; i < p->ngrants; i++)
		free(p->grants[i].subject);
	free(p->grants);
	json_decref(p->role_index);
	json_decref(p->cluster_index);
	json_decref(p->ns_index);
	json_decref(p->objects);
	free(p);
}

/* --- visiting the grants of a user (rule.go's VisitRulesFor) --- */

/* Called with each grant that applies (rules NULL, err set when its role is
 * missing); returns false to stop. */
typedef bool (*visit_fn)(void *ctx, const struct rbac_policy *p, const struct grant *g);

static bool visit_key(const struct rbac_policy *p, const json_t *index, const char *ns, char kind,
		      const char *name, visit_fn fn, void *ctx)
{
	char buf[600], *key = index_key(buf, sizeof(buf), ns, kind, name);
	const json_t *arr, *v;
	bool go = true;
	size_t i;

	if (!key)
		return false;
	arr = json_object_get(index, key);
	json_array_foreach(arr, i, v) {
		size_t g = (size_t)json_integer_value(v);

		assert(g < p->ngrants);
		if (!(go = fn(ctx, p, &p->grants[g])))
			break;
	}
	if (key != buf)
		free(key);
	return go;
}

static void visit_rules_for(const struct rbac_policy *p, const char *user,
			    const char *const *groups, size_t ngroups, const char *ns,
			    visit_fn fn, void *ctx)
{
	if (!p)
		return;
	if (!visit_key(p, p->cluster_index, NULL, 'U', user ? user : "", fn, ctx))
		return;
	for (size_t i = 0; i < ngroups; i++)
		if (!visit_key(p, p->cluster_index, NULL, 'G', groups[i], fn, ctx))
			return;
	if (empty(ns))
		return;
	if (!visit_key(p, p->ns_index, ns, 'U', user ? user : "", fn, ctx))
		return;
	for (size_t i = 0; i < ngroups; i++)
		if (!visit_key(p, p->ns_index, ns, 'G', groups[i], fn, ctx))
			return;
}

static bool in_masters(const char *const *groups, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (groups[i] && !strcmp(groups[i], RBAC_MASTERS))
			return true;
	return false;
}

/* kube-apiserver's NotFound text for a grant's missing role */
static void missing_role(char *buf, size_t len, const struct grant *g)
{
	if (!strcmp(g->ref_kind, "ClusterRole"))
		snprintf(buf, len, "clusterroles." RBAC_GROUP " \"%s\" not found", g->ref_name);
	else if (!strcmp(g->ref_kind, "Role") && g->ns)
		snprintf(buf, len, "roles." RBAC_GROUP " \"%s\" not found", g->ref_name);
	else
		snprintf(buf, len, "unsupported role reference kind: \"%s\"", g->ref_kind);
}

struct authz {
	const struct rbac_attrs *a;
	const char *combined;
	const struct grant *by;
	json_t *errors; /* missing roles' texts, each once; made on the first */
};

static bool authz_visit(void *ctx, const struct rbac_policy *p, const struct grant *g)
{
	struct authz *z = ctx;

	if (g->role < 0) {
		char e[1024];
		json_t *s;
		size_t i;

		missing_role(e, sizeof(e), g);
		if (!z->errors && !(z->errors = json_array()))
			return true; /* out of memory: the reason is only shorter */
		json_array_foreach(z->errors, i, s)
			if (!strcmp(json_string_value(s), e))
				return true;
		json_array_append_new(z->errors, json_string(e));
		return true;
	}
	assert((size_t)g->role < p->nroles);
	const struct role *r = &p->roles[g->role];

	for (size_t i = 0; i < r->nrules; i++)
		if (rule_allows(&p->rules[r->rules[i]], z->a, z->combined)) {
			z->by = g;
			return false;
		}
	return true;
}

int rbac_authorize(const struct rbac_policy *p, const struct rbac_attrs *a, char *reason,
		   size_t len)
{
	struct authz z = { .a = a };
	char buf[600];
	const char *combined = buf;
	char *owned = NULL; /* combined when allocated */
	int ret = 0;

	if (len)
		*reason = '\0';
	if (in_masters(a->groups, a->ngroups)) {
		snprintf(reason, len, "allowed by group \"%s\"", RBAC_MASTERS);
		return 1;
	}
	if (!a->verb)
		return 0;
	if (a->resource_request) {
		const char *res = a->resource ? a->resource : "";

		if (!empty(a->subresource)) {
			int n = snprintf(buf, sizeof(buf), "%s/%s", res, a->subresource);

			if (n < 0 || (size_t)n >= sizeof(buf)) {
				if (asprintf(&owned, "%s/%s", res, a->subresource) < 0)
					return 0; /* out of memory: deny */
				combined = owned;
			}
		} else {
			combined = res;
		}
	}
	z.combined = combined;
	visit_rules_for(p, a->user, a->groups, a->ngroups,
			a->resource_request ? a->namespace : NULL, authz_visit, &z);
	if (z.by) {
		const struct grant *g = z.by;

		if (g->ns)
			snprintf(reason, len, "RBAC: allowed by RoleBinding \"%s/%s\" of %s \"%s\" to %s",
				 g->bname, g->ns, g->ref_kind, g->ref_name, g->subject);
		else
			snprintf(reason, len, "RBAC: allowed by ClusterRoleBinding \"%s\" of %s \"%s\" to %s",
				 g->bname, g->ref_kind, g->ref_name, g->subject);
		ret = 1;
	} else if (json_array_size(z.errors)) {
		/* utilerrors.NewAggregate: one error alone, more in brackets */
		size_t n = json_array_size(z.errors), off;
		int w = snprintf(reason, len, "RBAC: %s", n > 1 ? "[" : "");

		off = w > 0 ? (size_t)w : 0;
		for (size_t i = 0; i < n && off < len; i++) {
			w = snprintf(reason + off, len - off, "%s%s", i ? ", " : "",
				     json_string_value(json_array_get(z.errors, i)));
			off += w > 0 ? (size_t)w : 0;
		}
		if (n > 1 && off < len)
			snprintf(reason + off, len - off, "]");
	}
	json_decref(z.errors);
	free(owned);
	return ret;
}

static void quote_append(char *out, size_t len, const char *s);

/* out += s, as far as it fits */
static void str_append(char *out, size_t len, const char *s)
{
	size_t off = strlen(out);

	if (off + 1 < len)
		snprintf(out + off, len - off, "%s", s);
}

/* forbidden.go's sanitizer: nothing in the message may look like HTML */
static void html_sanitize(char *out, size_t len, const char *s)
{
	size_t off = 0;

	for (; *s && off + 6 < len; s++) {
		const char *rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;

		if (rep) {
			memcpy(out + off, rep, strlen(rep));
			off += strlen(rep);
		} else {
			out[off++] = *s;
		}
	}
	out[off] = '\0';
}

void rbac_forbidden_message(char *buf, size_t len, const struct rbac_attrs *a,
			    const char *reason)
{
	const char *group = a->api_group ? a->api_group : "";
	const char *res = a->resource ? a->resource : "";
	char msg[RBAC_MSG_MAX] = "User ", safe[RBAC_MSG_MAX], what[600];

	if (!len)
		return;
	/* forbiddenMessage(): every name as Go's %q */
	quote_append(msg, sizeof(msg), a->user ? a->user : "");
	str_append(msg, sizeof(msg), " cannot ");
	str_append(msg, sizeof(msg), a->verb ? a->verb : "");
	if (!a->resource_request) {
		str_append(msg, sizeof(msg), " path ");
		quote_append(msg, sizeof(msg), a->path ? a->path : "");
	} else {
		snprintf(what, sizeof(what), "%s%s%s", res, empty(a->subresource) ? "" : "/",
			 empty(a->subresource) ? "" : a->subresource);
		str_append(msg, sizeof(msg), " resource ");
		quote_append(msg, sizeof(msg), what);
		str_append(msg, sizeof(msg), " in API group ");
		quote_append(msg, sizeof(msg), group);
		if (!empty(a->namespace)) {
			str_append(msg, sizeof(msg), " in the namespace ");
			quote_append(msg, sizeof(msg), a->namespace);
		} else {
			str_append(msg, sizeof(msg), " at the cluster scope");
		}
	}
	html_sanitize(safe, sizeof(safe), msg);
	/* apierrors.NewForbidden(GroupResource, name, msg[: reason]) */
	buf[0] = '\0';
	if (!a->resource_request || (!*res && !*group)) {
		str_append(buf, len, "forbidden: ");
	} else {
		snprintf(what, sizeof(what), "%s%s%s", res, *group ? "." : "", group);
		str_append(buf, len, what);
		if (!empty(a->name)) {
			str_append(buf, len, " ");
			quote_append(buf, len, a->name);
		}
		str_append(buf, len, " is forbidden: ");
	}
	str_append(buf, len, safe);
	if (!empty(reason)) {
		str_append(buf, len, ": ");
		str_append(buf, len, reason);
	}
}

/* --- rules of a user (RulesFor) --- */

struct collect {
	const struct rule **rules;
	size_t n, cap;
	unsigned char *seen; /* one bit per binding visited */
	json_t *errors;
	bool oom;
};

static int collect_add(struct collect *c, const struct rule *r)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		const struct rule **v = realloc(c->rules, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->rules = v;
		c->cap = cap;
	}
	c->rules[c->n++] = r;
	return 0;
}

static bool collect_visit(void *ctx, const struct rbac_policy *p, const struct grant *g)
{
	struct collect *c = ctx;

	/* a binding naming the user and a group of it counts once */
	if (c->seen[g->binding / 8] & (1u << (g->binding % 8)))
		return true;
	c->seen[g->binding / 8] |= (unsigned char)(1u << (g->binding % 8));
	if (g->role < 0) {
		char e[1024];

		missing_role(e, sizeof(e), g);
		if (json_array_append_new(c->errors, json_string(e)))
			c->oom = true;
		return true;
	}
	const struct role *r = &p->roles[g->role];

	for (size_t i = 0; i < r->nrules; i++)
		if (collect_add(c, &p->rules[r->rules[i]])) {
			c->oom = true;
			return false;
		}
	return true;
}

static void collect_release(struct collect *c)
{
	free(c->rules);
	free(c->seen);
	json_decref(c->errors);
}

/* The rules the user holds in ns (rule pointers into p, or full_authority
 * for system:masters). */
static int collect_rules(struct collect *c, const struct rbac_policy *p, const char *user,
			 const char *const *groups, size_t ngroups, const char *ns)
{
	size_t nobj = p ? json_array_size(p->objects) : 0;

	memset(c, 0, sizeof(*c));
	c->seen = calloc(nobj / 8 + 1, 1);
	c->errors = json_array();
	if (!c->seen || !c->errors)
		return -ENOMEM;
	if (in_masters(groups, ngroups))
		for (size_t i = 0; i < 2; i++)
			if (collect_add(c, &full_authority[i]))
				return -ENOMEM;
	visit_rules_for(p, user, groups, ngroups, ns, collect_visit, c);
	return c->oom ? -ENOMEM : 0;
}

static json_t *sv_json(const struct sv *s)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < s->n; i++)
		if (json_array_append_new(a, json_string(s->v[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* set key to the strings of s unless s is empty (omitempty) */
static int set_sv(json_t *o, const char *key, const struct sv *s, bool always)
{
	if (!s->n && !always)
		return 0;
	return json_object_set_new(o, key, sv_json(s)) ? -ENOMEM : 0;
}

json_t *rbac_rules_for(const struct rbac_policy *p, const char *user,
		       const char *const *groups, size_t ngroups, const char *ns)
{
	struct collect c;
	json_t *st = NULL, *res, *nonres;

	if (collect_rules(&c, p, user, groups, ngroups, ns))
		goto out;
	st = json_pack("{s:[], s:[], s:b}", "resourceRules", "nonResourceRules", "incomplete",
		       json_array_size(c.errors) > 0);
	if (!st)
		goto out;
	res = json_object_get(st, "resourceRules");
	nonres = json_object_get(st, "nonResourceRules");
	for (size_t i = 0; i < c.n; i++) {
		const struct rule *r = c.rules[i];
		json_t *o;

		if (r->resources.n) {
			o = json_object();
			if (!o || json_array_append_new(res, o) || set_sv(o, "verbs", &r->verbs, true) ||
			    set_sv(o, "apiGroups", &r->groups, false) ||
			    set_sv(o, "resources", &r->resources, false) ||
			    set_sv(o, "resourceNames", &r->names, false))
				goto fail;
		}
		if (r->urls.n) {
			o = json_object();
			if (!o || json_array_append_new(nonres, o) ||
			    set_sv(o, "verbs", &r->verbs, true) ||
			    set_sv(o, "nonResourceURLs", &r->urls, false))
				goto fail;
		}
	}
	if (json_array_size(c.errors)) {
		char e[RBAC_MSG_MAX];
		size_t off = 0, n = json_array_size(c.errors);

		e[0] = '\0';
		for (size_t i = 0; i < n && off < sizeof(e); i++) {
			int w = snprintf(e + off, sizeof(e) - off, "%s%s", i ? ", " : (n > 1 ? "[" : ""),
					 json_string_value(json_array_get(c.errors, i)));
			off += w > 0 ? (size_t)w : 0;
		}
		if (n > 1 && off < sizeof(e))
			snprintf(e + off, sizeof(e) - off, "]");
		if (json_object_set_new(st, "evaluationError", json_string(e)))
			goto fail;
	}
	goto out;
fail:
	json_decref(st);
	st = NULL;
out:
	collect_release(&c);
	return st;
}

/* --- escalation (validation/rule.go's Covers and ConfirmNoEscalation) --- */

/* Owner rule covers a broken-down subrule (one group, resource and verb, or
 * one URL and verb, perhaps one name). */
static bool rule_covers(const struct rule *o, const struct rule *s)
{
	if (!sv_has(&o->verbs, "*") && !sv_has_all(&o->verbs, &s->verbs))
		return false;
	if (!sv_has(&o->groups, "*") && !sv_has_all(&o->groups, &s->groups))
		return false;
	/* resourceCoversAll */
	if (!sv_has(&o->resources, "*") && !sv_has_all(&o->resources, &s->resources)) {
		for (size_t i = 0; i < s->resources.n; i++) {
			const char *slash = strchr(s->resources.v[i], '/');
			bool hit = false;

			if (!slash)
				return false;
			for (size_t j = 0; j < o->resources.n && !hit; j++)
				hit = !strncmp(o->resources.v[j], "*/", 2) &&
				      !strcmp(o->resources.v[j] + 2, slash + 1);
			if (!hit)
				return false;
		}
	}
	/* nonResourceURLsCoversAll */
	for (size_t i = 0; i < s->urls.n; i++) {
		const char *sub = s->urls.v[i];
		bool hit = false;

		for (size_t j = 0; j < o->urls.n && !hit; j++) {
			const char *u = o->urls.v[j];
			size_t ul = strlen(u);

			if (!strcmp(u, sub))
				hit = true;
			else if (ul && u[ul - 1] == '*') {
				while (ul && u[ul - 1] == '*')
					ul--;
				hit = !strncmp(sub, u, ul);
			}
		}
		if (!hit)
			return false;
	}
	if (!s->names.n)
		return o->names.n == 0;
	return o->names.n == 0 || sv_has_all(&o->names, &s->names);
}

/* One subrule of BreakdownRule: single strings, pointing into the rule. */
struct subrule {
	const char *verb, *group, *resource, *name, *url;
};

static bool subrule_covered(const struct collect *c, const struct subrule *s)
{
	struct rule r;

	memset(&r, 0, sizeof(r));
	r.verbs = (struct sv){ &s->verb, 1 };
	if (s->url) {
		r.urls = (struct sv){ &s->url, 1 };
	} else {
		r.groups = (struct sv){ &s->group, 1 };
		r.resources = (struct sv){ &s->resource, 1 };
		if (s->name)
			r.names = (struct sv){ &s->name, 1 };
	}
	for (size_t i = 0; i < c->n; i++)
		if (rule_covers(c->rules[i], &r))
			return true;
	return false;
}

/* Go's %q of a string, into out (appending). */
static void quote_append(char *out, size_t len, const char *s)
{
	size_t off = strlen(out);

	if (off + 1 >= len)
		return;
	out[off++] = '"';
	for (; *s && off + 5 < len; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			out[off++] = '\\';
			out[off++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			off += (size_t)snprintf(out + off, len - off, "\\x%02x", ch);
		} else {
			out[off++] = (char)ch;
		}
	}
	if (off + 1 < len)
		out[off++] = '"';
	out[off] = '\0';
}

/* Go's %q of a []string: ["a" "b"] */
static void quote_list_append(char *out, size_t len, const char *const *v, size_t n)
{
	size_t off = strlen(out);

	if (off + 1 < len)
		strcat(out, "[");
	for (size_t i = 0; i < n; i++) {
		if (i && strlen(out) + 1 < len)
			strcat(out, " ");
		quote_append(out, len, v[i]);
	}
	if (strlen(out) + 1 < len)
		strcat(out, "]");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The missing subrules, compacted as CompactRules does (simple resource
 * rules of one group and resource merge their verbs), described as
 * CompactString does, sorted and each once, joined by newlines. */
static int describe_missing(char *out, size_t len, const struct subrule *m, size_t n)
{
	char **lines = calloc(n ? n : 1, sizeof(*lines));
	bool *used = calloc(n ? n : 1, sizeof(*used));
	const char **verbs = calloc(n ? n : 1, sizeof(*verbs));
	size_t nl = 0;
	int ret = -ENOMEM;

	if (!lines || !used || !verbs)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char line[RBAC_MSG_MAX] = "{";
		size_t nv = 0;

		if (used[i])
			continue;
		used[i] = true;
		verbs[nv++] = m[i].verb;
		if (!m[i].url && !m[i].name)
			for (size_t j = i + 1; j < n; j++)
				if (!used[j] && !m[j].url && !m[j].name &&
				    !strcmp(m[j].group, m[i].group) &&
				    !strcmp(m[j].resource, m[i].resource)) {
					bool dup = false;

					used[j] = true;
					for (size_t k = 0; k < nv; k++)
						dup |= !strcmp(verbs[k], m[j].verb);
					if (!dup)
						verbs[nv++] = m[j].verb;
				}
		if (m[i].url) {
			strcat(line, "NonResourceURLs:");
			quote_list_append(line, sizeof(line), &m[i].url, 1);
		} else {
			strcat(line, "APIGroups:");
			quote_list_append(line, sizeof(line), &m[i].group, 1);
			strncat(line, ", Resources:", sizeof(line) - strlen(line) - 1);
			quote_list_append(line, sizeof(line), &m[i].resource, 1);
			if (m[i].name) {
				strncat(line, ", ResourceNames:", sizeof(line) - strlen(line) - 1);
				quote_list_append(line, sizeof(line), &m[i].name, 1);
			}
		}
		strncat(line, ", Verbs:", sizeof(line) - strlen(line) - 1);
		quote_list_append(line, sizeof(line), verbs, nv);
		strncat(line, "}", sizeof(line) - strlen(line) - 1);
		if (!(lines[nl++] = strdup(line)))
			goto out;
	}
	qsort(lines, nl, sizeof(*lines), cmp_str);
	for (size_t i = 0; i < nl; i++) {
		if (i && !strcmp(lines[i], lines[i - 1]))
			continue;
		if (i)
			strncat(out, "\n", len - strlen(out) - 1);
		strncat(out, lines[i], len - strlen(out) - 1);
	}
	ret = 0;
out:
	for (size_t i = 0; lines && i < nl; i++)
		free(lines[i]);
	free(lines);
	free(used);
	free(verbs);
	return ret;
}

/* s appended to miss (*n of *cap) unless c covers it; 0 or -ENOMEM. */
static int missing_add(struct subrule **miss, size_t *n, size_t *cap, const struct collect *c,
		       struct subrule s)
{
	if (subrule_covered(c, &s))
		return 0;
	if (*n == *cap) {
		size_t nc = *cap ? 2 * *cap : 16;
		struct subrule *x = realloc(*miss, nc * sizeof(*x));

		if (!x)
			return -ENOMEM;
		*miss = x;
		*cap = nc;
	}
	(*miss)[(*n)++] = s;
	return 0;
}

/* Does the user hold every rule of rules (in a->namespace)?  0 yes;
 * -EACCES with msg "user \"bob\" (groups=[...]) is attempting to grant RBAC
 * permissions not currently held:\n..." (after prefix). */
static int confirm_covers(const struct rbac_policy *p, const struct rbac_attrs *a,
			  const struct rule *const *rules, size_t nrules, const char *prefix,
			  char *msg, size_t len)
{
	struct collect c;
	struct subrule *miss = NULL;
	size_t nmiss = 0, cap = 0;
	int ret;

	ret = collect_rules(&c, p, a->user, a->groups, a->ngroups, a->namespace);
	if (ret)
		goto out;
	for (size_t i = 0; i < nrules; i++) {
		const struct rule *r = rules[i];

		/* BreakdownRule: every group x resource x verb (x name), then
		 * every URL x verb */
		for (size_t g = 0; g < r->groups.n; g++)
			for (size_t k = 0; k < r->resources.n; k++)
				for (size_t v = 0; v < r->verbs.n; v++)
					for (size_t nm = 0; nm < (r->names.n ? r->names.n : 1); nm++)
						if ((ret = missing_add(&miss, &nmiss, &cap, &c,
								       (struct subrule){ r->verbs.v[v], r->groups.v[g],
											 r->resources.v[k],
											 r->names.n ? r->names.v[nm] : NULL,
											 NULL })))
							goto out;
		for (size_t u = 0; u < r->urls.n; u++)
			for (size_t v = 0; v < r->verbs.n; v++)
				if ((ret = missing_add(&miss, &nmiss, &cap, &c,
						       (struct subrule){ r->verbs.v[v], NULL, NULL, NULL,
									 r->urls.v[u] })))
					goto out;
	}
	if (!nmiss)
		goto out;
	snprintf(msg, len, "%suser ", prefix);
	quote_append(msg, len, a->user ? a->user : "");
	strncat(msg, " (groups=", len - strlen(msg) - 1);
	quote_list_append(msg, len, a->groups, a->ngroups);
	strncat(msg, ") is attempting to grant RBAC permissions not currently held:\n",
		len - strlen(msg) - 1);
	ret = describe_missing(msg, len, miss, nmiss);
	if (!ret && json_array_size(c.errors)) {
		size_t off = strlen(msg);

		snprintf(msg + off, len - off, "; resolution errors: [");
		for (size_t i = 0; i < json_array_size(c.errors); i++) {
			off = strlen(msg);
			snprintf(msg + off, len - off, "%s%s", i ? " " : "",
				 json_string_value(json_array_get(c.errors, i)));
		}
		off = strlen(msg);
		snprintf(msg + off, len - off, "]");
	}
	if (!ret)
		ret = -EACCES;
out:
	free(miss);
	collect_release(&c);
	return ret;
}

const char *rbac_kind_resource(const char *kind)
{
	if (!kind)
		return NULL;
	if (!strcmp(kind, "Role"))
		return "roles";
	if (!strcmp(kind, "ClusterRole"))
		return "clusterroles";
	if (!strcmp(kind, "RoleBinding"))
		return "rolebindings";
	if (!strcmp(kind, "ClusterRoleBinding"))
		return "clusterrolebindings";
	return NULL;
}

bool rbac_kind_namespaced(const char *kind)
{
	return kind && (!strcmp(kind, "Role") || !strcmp(kind, "RoleBinding"));
}

static bool may(const struct rbac_policy *p, const struct rbac_attrs *who, const char *verb,
		const char *resource, const char *name)
{
	struct rbac_attrs q = *who;
	char why[RBAC_MSG_MAX];

	q.verb = verb;
	q.api_group = RBAC_GROUP;
	q.resource = resource;
	q.subresource = NULL;
	q.name = name;
	q.path = NULL;
	q.resource_request = true;
	return rbac_authorize(p, &q, why, sizeof(why)) == 1;
}

int rbac_confirm_no_escalation(const struct rbac_policy *p, const struct rbac_attrs *a,
			       const json_t *obj, char *msg, size_t len)
{
	const char *kind = jstr(obj, "kind"), *name = meta_str(obj, "name");
	const char *res = rbac_kind_resource(kind);
	struct rbac_attrs who = *a;
	char prefix[700];
	int ret;

	if (len)
		*msg = '\0';
	if (!res || !name) {
		snprintf(msg, len, "object of kind '%s' is not an RBAC role or binding",
			 kind ? kind : "");
		return -EINVAL;
	}
	/* the object's own namespace decides, never the caller's */
	who.namespace = rbac_kind_namespaced(kind) ? meta_str(obj, "namespace") : NULL;
	if (in_masters(a->groups, a->ngroups))
		return 0;
	snprintf(prefix, sizeof(prefix), "%s." RBAC_GROUP " \"%s\" is forbidden: ", res, name);
	if (!strcmp(kind, "Role") || !strcmp(kind, "ClusterRole")) {
		struct rule *rules = NULL;
		const struct rule **ptrs = NULL;
		size_t n = 0;

		if (may(p, &who, "escalate", res, name))
			return 0;
		if (rules_parse(&rules, &n, json_object_get(obj, "rules")))
			return -ENOMEM;
		ptrs = calloc(n ? n : 1, sizeof(*ptrs));
		if (!ptrs) {
			rules_free(rules, n);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++)
			ptrs[i] = &rules[i];
		ret = confirm_covers(p, &who, ptrs, n, prefix, msg, len);
		free(ptrs);
		rules_free(rules, n);
		if (ret || strcmp(kind, "ClusterRole") ||
		    !json_object_get(obj, "aggregationRule"))
			return ret;
		/* an aggregationRule can gather anything: it needs * on *.* */
		const struct rule *full[] = { &full_authority[0], &full_authority[1] };
		char scratch[RBAC_MSG_MAX];

		ret = confirm_covers(p, &who, full, 2, "", scratch, sizeof(scratch));
		if (ret == -EACCES)
			snprintf(msg, len, "%smust have cluster-admin privileges to use the aggregationRule",
				 prefix);
		return ret;
	}
	/* a binding */
	const json_t *ref = json_object_get(obj, "roleRef");
	const char *rkind = jstr(ref, "kind"), *rname = jstr(ref, "name");
	const char *rres = rbac_kind_resource(rkind);
	long role;

	if (!rname || !rres || (strcmp(rkind, "Role") && strcmp(rkind, "ClusterRole")) ||
	    (!strcmp(rkind, "Role") && empty(who.namespace))) {
		snprintf(msg, len, "%sunsupported role reference kind: \"%s\"", prefix,
			 rkind ? rkind : "");
		return -EINVAL;
	}
	if (may(p, &who, "bind", rres, rname))
		return 0;
	role = p ? role_find(p, !strcmp(rkind, "Role") ? who.namespace : "", rname) : -1;
	if (role < 0) {
		snprintf(msg, len, "%s." RBAC_GROUP " \"%s\" not found", rres, rname);
		return -ENOENT;
	}
	const struct role *r = &p->roles[role];
	const struct rule **ptrs = calloc(r->nrules ? r->nrules : 1, sizeof(*ptrs));

	if (!ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < r->nrules; i++)
		ptrs[i] = &p->rules[r->rules[i]];
	ret = confirm_covers(p, &who, ptrs, r->nrules, prefix, msg, len);
	free(ptrs);
	return ret;
}
