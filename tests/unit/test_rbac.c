/*
 * test_rbac.c - the RBAC authorizer (kube/rbac.c, kube/rbac_valid.c): a
 * table of requests and decisions over one policy covering every rule
 * (verbs, groups, resources and subresources, resourceNames, non-resource
 * URLs, Roles and ClusterRoles through RoleBindings and
 * ClusterRoleBindings, User/Group/ServiceAccount subjects, missing roles,
 * aggregation, system:masters, the bootstrap policy), kube-apiserver's
 * Forbidden and escalation texts, the rules review, validation, and what a
 * decision costs with 1,000 RoleBindings and 100 ClusterRoles.
 *
 * Objects are written with ' for " to keep them readable.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "kube/rbac.h"

static json_t *load(const char *text)
{
	char *s = strdup(text);
	json_error_t e;
	json_t *j;

	assert_non_null(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	j = json_loads(s, 0, &e);
	if (!j)
		fail_msg("fixture: %s at %d: %s", e.text, e.position, s);
	free(s);
	return j;
}

#define RB(ns, name, rkind, rname, subj)                                                       \
	"{'kind':'RoleBinding','metadata':{'name':'" name "','namespace':'" ns "'},"          \
	"'roleRef':{'apiGroup':'rbac.authorization.k8s.io','kind':'" rkind "','name':'" rname \
	"'},'subjects':[" subj "]}"
#define CRB(name, rname, subj)                                                                  \
	"{'kind':'ClusterRoleBinding','metadata':{'name':'" name "'},"                         \
	"'roleRef':{'apiGroup':'rbac.authorization.k8s.io','kind':'ClusterRole','name':'" rname \
	"'},'subjects':[" subj "]}"
#define USER(n) "{'kind':'User','apiGroup':'rbac.authorization.k8s.io','name':'" n "'}"
#define GROUP(n) "{'kind':'Group','apiGroup':'rbac.authorization.k8s.io','name':'" n "'}"

static const char policy_text[] =
	"["
	"{'kind':'ClusterRole','metadata':{'name':'secret-reader'},"
	" 'rules':[{'apiGroups':[''],'resources':['secrets'],'verbs':['get','list','watch']}]},"
	"{'kind':'ClusterRole','metadata':{'name':'named'},"
	" 'rules':[{'apiGroups':[''],'resources':['secrets'],'resourceNames':['s1'],'verbs':['get','delete']}]},"
	"{'kind':'ClusterRole','metadata':{'name':'sub'},"
	" 'rules':[{'apiGroups':[''],'resources':['*/status','pods/log'],'verbs':['get']}]},"
	"{'kind':'ClusterRole','metadata':{'name':'urls'},"
	" 'rules':[{'nonResourceURLs':['/metrics','/logs/*'],'verbs':['get']}]},"
	"{'kind':'ClusterRole','metadata':{'name':'star-verbs'},"
	" 'rules':[{'apiGroups':['apps'],'resources':['*'],'verbs':['*']}]},"
	"{'kind':'ClusterRole','metadata':{'name':'agg'},"
	" 'aggregationRule':{'clusterRoleSelectors':[{'matchLabels':{'x':'y'}},"
	"   {'matchExpressions':[{'key':'tier','operator':'In','values':['gold']}]}]},"
	" 'rules':[{'apiGroups':['*'],'resources':['*'],'verbs':['*']}]},"
	"{'kind':'ClusterRole','metadata':{'name':'part1','labels':{'x':'y'}},"
	" 'rules':[{'apiGroups':[''],'resources':['configmaps'],'verbs':['get']}]},"
	"{'kind':'ClusterRole','metadata':{'name':'part2','labels':{'tier':'gold'}},"
	" 'rules':[{'apiGroups':[''],'resources':['services'],'verbs':['list']}]},"
	"{'kind':'ClusterRole','metadata':{'name':'part3','labels':{'tier':'silver','x':'z'}},"
	" 'rules':[{'apiGroups':[''],'resources':['nodes'],'verbs':['list']}]},"
	"{'kind':'Role','metadata':{'name':'a-writer','namespace':'a'},"
	" 'rules':[{'apiGroups':[''],'resources':['secrets'],'verbs':['create','get','list']}]},"
	"{'kind':'Role','metadata':{'name':'escalator','namespace':'a'},"
	" 'rules':[{'apiGroups':['rbac.authorization.k8s.io'],'resources':['roles'],'verbs':['escalate']},"
	"  {'apiGroups':['rbac.authorization.k8s.io'],'resources':['clusterroles'],'verbs':['bind'],'resourceNames':['admin']}]},"
	RB("a", "bob-a", "Role", "a-writer", USER("bob")) ","
	RB("a", "team-read", "ClusterRole", "secret-reader", GROUP("team")) ","
	RB("b", "carol-named", "ClusterRole", "named", USER("carol")) ","
	RB("a", "robot", "ClusterRole", "secret-reader", "{'kind':'ServiceAccount','name':'robot'}") ","
	RB("a", "frank", "Role", "nope", USER("frank")) ","
	RB("b", "hank", "Role", "a-writer", USER("hank")) ","
	RB("a", "viewer", "ClusterRole", "view", USER("viewer")) ","
	RB("a", "editor", "ClusterRole", "edit", USER("editor")) ","
	RB("a", "adm", "ClusterRole", "admin", USER("adm")) ","
	RB("a", "esc", "Role", "escalator", USER("esc")) ","
	RB("a", "node-reader", "ClusterRole", "urls", USER("nina")) ","
	CRB("dave-urls", "urls", USER("dave")) ","
	CRB("erin-sub", "sub", USER("erin")) ","
	CRB("bot", "named", "{'kind':'ServiceAccount','name':'bot','namespace':'x'}") ","
	CRB("bot-nons", "secret-reader", "{'kind':'ServiceAccount','name':'bot'}") ","
	CRB("gina", "star-verbs", USER("gina")) ","
	CRB("ivan", "agg", USER("ivan")) ","
	CRB("frank-too", "gone", USER("frank"))
	"]";

static struct rbac_policy *policy;

static int setup(void **state)
{
	json_t *objs = load(policy_text), *boot = rbac_bootstrap();

	(void)state;
	assert_non_null(boot);
	assert_int_equal(json_array_extend(objs, boot), 0);
	json_decref(boot);
	assert_int_equal(rbac_policy_new(&policy, objs), 0);
	json_decref(objs);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rbac_policy_free(policy);
	return 0;
}

struct req {
	const char *user, *groups; /* groups comma-separated */
	const char *verb, *group, *resource, *sub, *ns, *name, *path;
	int allowed;
};

#define AUTHN "system:authenticated"

static const struct req table[] = {
	/* a Role through a RoleBinding: its namespace only */
	{ "bob", AUTHN, "get", "", "secrets", NULL, "a", "s", NULL, 1 },
	{ "bob", AUTHN, "create", "", "secrets", NULL, "a", NULL, NULL, 1 },
	{ "bob", AUTHN, "list", "", "secrets", NULL, "a", NULL, NULL, 1 },
	{ "bob", AUTHN, "delete", "", "secrets", NULL, "a", "s", NULL, 0 },
	{ "bob", AUTHN, "get", "", "secrets", NULL, "b", "s", NULL, 0 },
	{ "bob", AUTHN, "list", "", "secrets", NULL, NULL, NULL, NULL, 0 },
	{ "bob", AUTHN, "get", "apps", "secrets", NULL, "a", "s", NULL, 0 },
	{ "bob", AUTHN, "get", "", "secrets", "status", "a", "s", NULL, 0 },
	{ "bob", AUTHN, "get", "", "configmaps", NULL, "a", "s", NULL, 0 },
	/* a group through a RoleBinding of a ClusterRole */
	{ "zed", "team," AUTHN, "list", "", "secrets", NULL, "a", NULL, NULL, 1 },
	{ "zed", "team", "watch", "", "secrets", NULL, "a", NULL, NULL, 1 },
	{ "zed", "team", "create", "", "secrets", NULL, "a", NULL, NULL, 0 },
	{ "zed", "team", "list", "", "secrets", NULL, "b", NULL, NULL, 0 },
	{ "team", "", "list", "", "secrets", NULL, "a", NULL, NULL, 0 }, /* a user named like the group */
	/* resourceNames: a request without a name never matches */
	{ "carol", "", "get", "", "secrets", NULL, "b", "s1", NULL, 1 },
	{ "carol", "", "delete", "", "secrets", NULL, "b", "s1", NULL, 1 },
	{ "carol", "", "get", "", "secrets", NULL, "b", "s2", NULL, 0 },
	{ "carol", "", "get", "", "secrets", NULL, "b", NULL, NULL, 0 },
	{ "carol", "", "delete", "", "secrets", NULL, "b", "", NULL, 0 },
	{ "carol", "", "get", "", "secrets", NULL, "a", "s1", NULL, 0 },
	/* non-resource URLs: exact, and a trailing * as a prefix */
	{ "dave", "", "get", NULL, NULL, NULL, NULL, NULL, "/metrics", 1 },
	{ "dave", "", "get", NULL, NULL, NULL, NULL, NULL, "/logs/kube", 1 },
	{ "dave", "", "get", NULL, NULL, NULL, NULL, NULL, "/logs/", 1 },
	{ "dave", "", "get", NULL, NULL, NULL, NULL, NULL, "/logs", 0 },
	{ "dave", "", "post", NULL, NULL, NULL, NULL, NULL, "/metrics", 0 },
	{ "dave", "", "get", NULL, NULL, NULL, NULL, NULL, "/metricsx", 0 },
	/* ...never through a RoleBinding */
	{ "nina", "", "get", NULL, NULL, NULL, NULL, NULL, "/metrics", 0 },
	/* subresources: */
	{ "erin", "", "get", "", "pods", "status", "q", "p", NULL, 1 },
	{ "erin", "", "get", "", "deployments", "status", NULL, "p", NULL, 1 },
	{ "erin", "", "get", "", "pods", "log", "q", "p", NULL, 1 },
	{ "erin", "", "get", "", "pods", NULL, "q", "p", NULL, 0 },
	{ "erin", "", "get", "", "pods", "exec", "q", "p", NULL, 0 },
	{ "erin", "", "get", "", "status", NULL, "q", "p", NULL, 0 },
	/* service accounts: the binding's namespace by default */
	{ "system:serviceaccount:a:robot", "system:serviceaccounts,system:serviceaccounts:a",
	  "get", "", "secrets", NULL, "a", "s", NULL, 1 },
	{ "system:serviceaccount:a:robot", "", "get", "", "secrets", NULL, "b", "s", NULL, 0 },
	{ "system:serviceaccount:b:robot", "", "get", "", "secrets", NULL, "a", "s", NULL, 0 },
	{ "robot", "", "get", "", "secrets", NULL, "a", "s", NULL, 0 },
	{ "system:serviceaccount:x:bot", "", "get", "", "secrets", NULL, "zz", "s1", NULL, 1 },
	{ "system:serviceaccount:x:bot", "", "get", "", "secrets", NULL, NULL, "s1", NULL, 1 },
	{ "system:serviceaccount:x:bot", "", "list", "", "secrets", NULL, "zz", NULL, NULL, 0 },
	/* a missing role grants nothing */
	{ "frank", "", "get", "", "secrets", NULL, "a", "s", NULL, 0 },
	/* a RoleBinding's Role is looked up in the binding's namespace */
	{ "hank", "", "get", "", "secrets", NULL, "b", "s", NULL, 0 },
	/* verb and resource * */
	{ "gina", "", "delete", "apps", "deployments", NULL, "q", "d", NULL, 1 },
	{ "gina", "", "escalate", "apps", "deployments", "scale", NULL, NULL, NULL, 1 },
	{ "gina", "", "get", "", "secrets", NULL, "q", "s", NULL, 0 },
	/* aggregation: matchLabels and matchExpressions, own rules ignored */
	{ "ivan", "", "get", "", "configmaps", NULL, "q", "c", NULL, 1 },
	{ "ivan", "", "list", "", "services", NULL, "q", NULL, NULL, 1 },
	{ "ivan", "", "list", "", "nodes", NULL, NULL, NULL, NULL, 0 },
	{ "ivan", "", "get", "", "secrets", NULL, "q", "s", NULL, 0 },
	/* system:masters: everything */
	{ "root", "system:masters", "delete", "", "secrets", NULL, "q", "s", NULL, 1 },
	{ "root", "x,system:masters", "get", NULL, NULL, NULL, NULL, NULL, "/anything", 1 },
	{ "system:masters", "", "get", "", "secrets", NULL, "q", "s", NULL, 0 },
	/* the bootstrap policy */
	{ "system:anonymous", "system:unauthenticated", "get", NULL, NULL, NULL, NULL, NULL, "/version", 1 },
	{ "system:anonymous", "system:unauthenticated", "get", NULL, NULL, NULL, NULL, NULL, "/healthz", 1 },
	{ "system:anonymous", "system:unauthenticated", "get", NULL, NULL, NULL, NULL, NULL, "/api", 0 },
	{ "system:anonymous", "system:unauthenticated", "list", "", "secrets", NULL, "a", NULL, NULL, 0 },
	{ "system:anonymous", "system:unauthenticated", "create", "authorization.k8s.io",
	  "selfsubjectaccessreviews", NULL, NULL, NULL, NULL, 0 },
	{ "u", AUTHN, "get", NULL, NULL, NULL, NULL, NULL, "/api", 1 },
	{ "u", AUTHN, "get", NULL, NULL, NULL, NULL, NULL, "/apis/rbac.authorization.k8s.io/v1", 1 },
	{ "u", AUTHN, "get", NULL, NULL, NULL, NULL, NULL, "/openapi/v3/api/v1", 1 },
	{ "u", AUTHN, "get", NULL, NULL, NULL, NULL, NULL, "/metrics", 0 },
	{ "u", AUTHN, "create", "authorization.k8s.io", "selfsubjectaccessreviews", NULL, NULL, NULL, NULL, 1 },
	{ "u", AUTHN, "create", "authorization.k8s.io", "selfsubjectrulesreviews", NULL, NULL, NULL, NULL, 1 },
	{ "u", AUTHN, "create", "authentication.k8s.io", "selfsubjectreviews", NULL, NULL, NULL, NULL, 1 },
	{ "u", AUTHN, "create", "authorization.k8s.io", "subjectaccessreviews", NULL, NULL, NULL, NULL, 0 },
	{ "u", AUTHN, "get", "", "secrets", NULL, "a", "s", NULL, 0 },
	/* view holds no secrets; edit and admin do */
	{ "viewer", AUTHN, "get", "", "secrets", NULL, "a", "s", NULL, 0 },
	{ "viewer", AUTHN, "list", "", "secrets", NULL, "a", NULL, NULL, 0 },
	{ "viewer", AUTHN, "list", "", "events", NULL, "a", NULL, NULL, 1 },
	{ "viewer", AUTHN, "create", "", "events", NULL, "a", NULL, NULL, 0 },
	{ "editor", AUTHN, "get", "", "secrets", NULL, "a", "s", NULL, 1 },
	{ "editor", AUTHN, "deletecollection", "", "secrets", NULL, "a", NULL, NULL, 1 },
	{ "editor", AUTHN, "list", "", "events", NULL, "a", NULL, NULL, 1 },
	{ "editor", AUTHN, "create", "rbac.authorization.k8s.io", "roles", NULL, "a", NULL, NULL, 0 },
	{ "editor", AUTHN, "get", "", "secrets", NULL, "b", "s", NULL, 0 },
	{ "adm", AUTHN, "create", "rbac.authorization.k8s.io", "rolebindings", NULL, "a", NULL, NULL, 1 },
	{ "adm", AUTHN, "update", "", "secrets", NULL, "a", "s", NULL, 1 },
	{ "adm", AUTHN, "get", "", "namespaces", NULL, "a", "a", NULL, 1 },
	{ "adm", AUTHN, "list", "", "namespaces", NULL, NULL, NULL, NULL, 0 },
	{ "adm", AUTHN, "create", "rbac.authorization.k8s.io", "clusterroles", NULL, NULL, NULL, NULL, 0 },
};

static size_t split(const char *s, char *buf, size_t len, const char **out, size_t max)
{
	size_t n = 0;

	snprintf(buf, len, "%s", s ? s : "");
	for (char *tok = strtok(buf, ","); tok && n < max; tok = strtok(NULL, ","))
		out[n++] = tok;
	return n;
}

static struct rbac_attrs attrs_of(const struct req *r, const char **groups, char *buf, size_t len)
{
	struct rbac_attrs a = {
		.user = r->user, .groups = groups, .verb = r->verb, .api_group = r->group,
		.resource = r->resource, .subresource = r->sub, .namespace = r->ns,
		.name = r->name, .path = r->path, .resource_request = !r->path,
	};

	a.ngroups = split(r->groups, buf, len, groups, 8);
	return a;
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const char *groups[8];
		char buf[256], why[RBAC_MSG_MAX];
		struct rbac_attrs a = attrs_of(&table[i], groups, buf, sizeof(buf));
		int got = rbac_authorize(policy, &a, why, sizeof(why));

		if (got != table[i].allowed)
			fail_msg("row %zu: %s %s %s/%s in '%s' name '%s' path '%s': expected %s, got %s (%s)",
				 i, table[i].user, table[i].verb, table[i].resource ? table[i].resource : "",
				 table[i].sub ? table[i].sub : "", table[i].ns ? table[i].ns : "",
				 table[i].name ? table[i].name : "", table[i].path ? table[i].path : "",
				 table[i].allowed ? "allowed" : "denied", got ? "allowed" : "denied", why);
	}
}

/* A policy of its own and requests against it: "+" must pass, "-" fail.
 * A request is "user|groups|verb|group|resource|sub|ns" or "user|groups|verb|/path". */
static void check_case(const char *objects, const char *const *reqs)
{
	json_t *objs = load(objects);
	struct rbac_policy *p;

	assert_int_equal(rbac_policy_new(&p, objs), 0);
	json_decref(objs);
	for (size_t i = 0; reqs[i]; i++) {
		char buf[256], gbuf[128], why[RBAC_MSG_MAX], *f[8] = { 0 };
		const char *groups[8];
		size_t n = 0;
		struct rbac_attrs a = { 0 };
		char *save = NULL;

		snprintf(buf, sizeof(buf), "%s", reqs[i] + 1);
		for (char *t = buf, *bar; n < 8; t = bar + 1) {
			f[n++] = t;
			if (!(bar = strchr(t, '|')))
				break;
			*bar = '\0';
		}
		a.user = f[0];
		snprintf(gbuf, sizeof(gbuf), "%s", f[1] ? f[1] : "");
		for (char *g = strtok_r(gbuf, ",", &save); g && a.ngroups < 8; g = strtok_r(NULL, ",", &save))
			groups[a.ngroups++] = g;
		a.groups = groups;
		a.verb = f[2];
		if (f[3] && f[3][0] == '/') {
			a.path = f[3];
		} else {
			a.resource_request = true;
			a.api_group = f[3];
			a.resource = f[4];
			a.subresource = f[5];
			a.namespace = f[6];
		}
		if (rbac_authorize(p, &a, why, sizeof(why)) != (reqs[i][0] == '+'))
			fail_msg("%s: expected %s", reqs[i], reqs[i][0] == '+' ? "allowed" : "denied");
	}
	rbac_policy_free(p);
}

/* Kubernetes' own cases (plugin/pkg/auth/authorizer/rbac/rbac_test.go,
 * TestAuthorizer and TestRuleMatches), written as our objects. */
static void test_kubernetes_cases(void **state)
{
	(void)state;
	check_case("[{'kind':'ClusterRole','metadata':{'name':'admin'},'rules':[{'verbs':['*'],'apiGroups':['*'],'resources':['*']}]},"
		   RB("ns1", "b", "ClusterRole", "admin", USER("admin") "," GROUP("admins")) "]",
		   (const char *const[]){ "+admin||get||Pods||ns1", "+admin||watch||Pods||ns1",
					  "+admin|group1|watch||Foobar||ns1", "+joe|admins|watch||Foobar||ns1",
					  "+joe|group1,admins|watch||Foobar||ns1",
					  "-admin||GET||Pods||ns2", "-admin||GET||Nodes||",
					  "-admin|admins|GET||Pods||ns2", "-admin|admins|GET||Nodes||", NULL });
	check_case("[{'kind':'ClusterRole','metadata':{'name':'getter'},'rules':[{'verbs':['get'],'nonResourceURLs':['/apis']}]},"
		   "{'kind':'ClusterRole','metadata':{'name':'any'},'rules':[{'verbs':['*'],'nonResourceURLs':['/apis']}]},"
		   "{'kind':'ClusterRole','metadata':{'name':'prefix'},'rules':[{'verbs':['get'],'nonResourceURLs':['/apis/*']}]},"
		   CRB("1", "getter", USER("foo") "," GROUP("bar")) "," CRB("2", "any", USER("admin") "," GROUP("admin")) ","
		   CRB("3", "prefix", USER("prefixed") "," GROUP("prefixed")) "]",
		   (const char *const[]){ "+foo||get|/apis", "+|bar|get|/apis", "+admin||get|/apis", "+|admin|get|/apis",
					  "+admin||watch|/apis", "+|admin|watch|/apis", "+prefixed||get|/apis/v1",
					  "+|prefixed|get|/apis/v1", "+prefixed||get|/apis/v1/foobar",
					  "-foo||watch|/apis", "-|bar|watch|/apis", "-foo||get|/api/v1", "-|bar|get|/api/v1",
					  "-admin||get|/api/v1", "-|admin|get|/api/v1", "-prefixed||get|/api/v1",
					  "-|prefixed|get|/api/v1", NULL });
	check_case("[{'kind':'ClusterRole','metadata':{'name':'admin'},'rules':[{'verbs':['*'],'apiGroups':['*'],'resources':['pods']}]},"
		   RB("ns1", "b", "ClusterRole", "admin", USER("admin")) "]",
		   (const char *const[]){ "+admin||get||pods||ns1", "-admin||get||pods|status|ns1", NULL });
	check_case("[{'kind':'ClusterRole','metadata':{'name':'admin'},'rules':[{'verbs':['*'],'apiGroups':['*'],'resources':['pods/status']}]},"
		   RB("ns1", "b", "ClusterRole", "admin", USER("admin")) "]",
		   (const char *const[]){ "+admin||get||pods|status|ns1", "-admin||get||pods||ns1", NULL });
	/* TestRuleMatches: tuple expansion, star nonresource */
	check_case("[{'kind':'ClusterRole','metadata':{'name':'r'},'rules':[{'verbs':['verb1','verb2'],'apiGroups':['group1','group2'],'resources':['resource1','resource2']},"
		   "{'verbs':['verb1'],'nonResourceURLs':['*']}]}," CRB("b", "r", USER("u")) "]",
		   (const char *const[]){ "+u||verb1|group1|resource1||", "+u||verb2|group2|resource2||ns",
					  "-u||verb3|group1|resource1||", "+u||verb1|/foo/bar/one", "-u||verb2|/foo", NULL });
}

/* no objects at all: only system:masters */
static void test_empty_policy(void **state)
{
	const char *masters[] = { "system:masters" }, *none[] = { AUTHN };
	struct rbac_attrs a = { .user = "u", .groups = none, .ngroups = 1, .verb = "get",
				.path = "/version" };
	char why[256];

	(void)state;
	assert_int_equal(rbac_authorize(NULL, &a, why, sizeof(why)), 0);
	a.groups = masters;
	assert_int_equal(rbac_authorize(NULL, &a, why, sizeof(why)), 1);
}

static void check_reason(const char *user, const char *verb, const char *res, const char *ns,
			 const char *name, int allowed, const char *want)
{
	const char *groups[] = { AUTHN };
	struct rbac_attrs a = { .user = user, .groups = groups, .ngroups = 1, .verb = verb,
				.api_group = "", .resource = res, .namespace = ns, .name = name,
				.resource_request = true };
	char why[RBAC_MSG_MAX];

	assert_int_equal(rbac_authorize(policy, &a, why, sizeof(why)), allowed);
	assert_string_equal(why, want);
}

static void test_reasons(void **state)
{
	(void)state;
	check_reason("bob", "get", "secrets", "a", "s", 1,
		     "RBAC: allowed by RoleBinding \"bob-a/a\" of Role \"a-writer\" to User \"bob\"");
	check_reason("system:serviceaccount:x:bot", "get", "secrets", "q", "s1", 1,
		     "RBAC: allowed by ClusterRoleBinding \"bot\" of ClusterRole \"named\" to ServiceAccount \"bot/x\"");
	check_reason("system:serviceaccount:a:robot", "get", "secrets", "a", "s1", 1,
		     "RBAC: allowed by RoleBinding \"robot/a\" of ClusterRole \"secret-reader\" to ServiceAccount \"robot/a\"");
	check_reason("bob", "delete", "secrets", "a", "s", 0, "");
	/* missing roles, as kube-apiserver appends them to its 403 */
	check_reason("frank", "get", "secrets", "b", "s", 0,
		     "RBAC: clusterroles.rbac.authorization.k8s.io \"gone\" not found");
	check_reason("frank", "get", "secrets", "a", "s", 0,
		     "RBAC: [clusterroles.rbac.authorization.k8s.io \"gone\" not found, roles.rbac.authorization.k8s.io \"nope\" not found]");
}

static void check_forbidden(const struct rbac_attrs *a, const char *reason, const char *want)
{
	char msg[RBAC_MSG_MAX];

	rbac_forbidden_message(msg, sizeof(msg), a, reason);
	assert_string_equal(msg, want);
}

static void test_forbidden_texts(void **state)
{
	struct rbac_attrs a = { .user = "bob", .verb = "delete", .api_group = "",
				.resource = "secrets", .namespace = "foo", .name = "x",
				.resource_request = true };

	(void)state;
	check_forbidden(&a, NULL,
			"secrets \"x\" is forbidden: User \"bob\" cannot delete resource \"secrets\" in API group \"\" in the namespace \"foo\"");
	a.name = NULL;
	a.verb = "list";
	check_forbidden(&a, "",
			"secrets is forbidden: User \"bob\" cannot list resource \"secrets\" in API group \"\" in the namespace \"foo\"");
	a.namespace = NULL;
	check_forbidden(&a, NULL,
			"secrets is forbidden: User \"bob\" cannot list resource \"secrets\" in API group \"\" at the cluster scope");
	a.api_group = "rbac.authorization.k8s.io";
	a.resource = "clusterroles";
	a.name = "admin";
	a.verb = "bind";
	check_forbidden(&a, "RBAC: clusterroles.rbac.authorization.k8s.io \"gone\" not found",
			"clusterroles.rbac.authorization.k8s.io \"admin\" is forbidden: User \"bob\" cannot bind resource \"clusterroles\" in API group \"rbac.authorization.k8s.io\" at the cluster scope: RBAC: clusterroles.rbac.authorization.k8s.io \"gone\" not found");
	a = (struct rbac_attrs){ .user = "system:anonymous", .verb = "get", .api_group = "",
				 .resource = "secrets", .subresource = "status", .namespace = "n",
				 .name = "s", .resource_request = true };
	check_forbidden(&a, NULL,
			"secrets \"s\" is forbidden: User \"system:anonymous\" cannot get resource \"secrets/status\" in API group \"\" in the namespace \"n\"");
	a = (struct rbac_attrs){ .user = "bob", .verb = "get", .path = "/metrics" };
	check_forbidden(&a, NULL, "forbidden: User \"bob\" cannot get path \"/metrics\"");
	/* names as Go's %q, and nothing that looks like HTML (forbidden.go's
	 * sanitizer) */
	a = (struct rbac_attrs){ .user = "<b>\"o\"&", .verb = "get", .api_group = "",
				 .resource = "secrets", .namespace = "n", .name = "x\"y",
				 .resource_request = true };
	check_forbidden(&a, NULL,
			"secrets \"x\\\"y\" is forbidden: User \"&lt;b&gt;\\\"o\\\"&amp;\" cannot get resource \"secrets\" in API group \"\" in the namespace \"n\"");
}

static void test_rules_review(void **state)
{
	const char *groups[] = { AUTHN };
	json_t *st, *want;

	(void)state;
	st = rbac_rules_for(policy, "bob", groups, 1, "a");
	assert_non_null(st);
	want = load("{'resourceRules':["
		    "{'verbs':['create'],'apiGroups':['authorization.k8s.io'],'resources':['selfsubjectaccessreviews','selfsubjectrulesreviews']},"
		    "{'verbs':['create'],'apiGroups':['authentication.k8s.io'],'resources':['selfsubjectreviews']},"
		    "{'verbs':['create','get','list'],'apiGroups':[''],'resources':['secrets']}],"
		    "'nonResourceRules':["
		    "{'verbs':['get'],'nonResourceURLs':['/api','/api/*','/apis','/apis/*','/healthz','/livez','/openapi','/openapi/*','/readyz','/version','/version/']},"
		    "{'verbs':['get'],'nonResourceURLs':['/healthz','/livez','/readyz','/version','/version/']}],"
		    "'incomplete':false}");
	if (!json_equal(st, want)) {
		char *s = json_dumps(st, JSON_SORT_KEYS);

		fail_msg("rules review: %s", s);
	}
	json_decref(st);
	json_decref(want);

	/* resourceNames are kept; a missing role makes it incomplete */
	st = rbac_rules_for(policy, "frank", NULL, 0, "a");
	assert_non_null(st);
	assert_true(json_is_true(json_object_get(st, "incomplete")));
	assert_string_equal(json_string_value(json_object_get(st, "evaluationError")),
			    "[clusterroles.rbac.authorization.k8s.io \"gone\" not found, roles.rbac.authorization.k8s.io \"nope\" not found]");
	json_decref(st);
	st = rbac_rules_for(policy, "carol", NULL, 0, "b");
	want = load("{'resourceRules':[{'verbs':['get','delete'],'apiGroups':[''],'resources':['secrets'],'resourceNames':['s1']}],"
		    "'nonResourceRules':[],'incomplete':false}");
	assert_true(json_equal(st, want));
	json_decref(st);
	json_decref(want);
	/* system:masters: everything, as the privileged-group authorizer */
	const char *masters[] = { "system:masters" };

	st = rbac_rules_for(NULL, "root", masters, 1, NULL);
	want = load("{'resourceRules':[{'verbs':['*'],'apiGroups':['*'],'resources':['*']}],"
		    "'nonResourceRules':[{'verbs':['*'],'nonResourceURLs':['*']}],'incomplete':false}");
	assert_true(json_equal(st, want));
	json_decref(st);
	json_decref(want);
}

static int escalation(const char *user, const char *obj_text, char *msg, size_t len)
{
	const char *groups[] = { AUTHN, "system:masters" };
	struct rbac_attrs a = { .user = user, .groups = groups, .ngroups = 1 };
	json_t *obj = load(obj_text);
	int r;

	if (!strcmp(user, "root"))
		a.ngroups = 2;
	r = rbac_confirm_no_escalation(policy, &a, obj, msg, len);
	json_decref(obj);
	return r;
}

#define ROLE(ns, name, rules) \
	"{'kind':'Role','metadata':{'name':'" name "','namespace':'" ns "'},'rules':[" rules "]}"

static void test_escalation(void **state)
{
	char msg[RBAC_MSG_MAX];

	(void)state;
	/* what bob holds, in a, he may grant there */
	assert_int_equal(escalation("bob", ROLE("a", "r", "{'apiGroups':[''],'resources':['secrets'],'verbs':['get','list']}"),
				    msg, sizeof(msg)), 0);
	assert_int_equal(escalation("bob", ROLE("a", "r", "{'apiGroups':[''],'resources':['secrets'],'verbs':['get'],'resourceNames':['x']}"),
				    msg, sizeof(msg)), 0);
	/* not more */
	assert_int_equal(escalation("bob", ROLE("a", "r", "{'apiGroups':[''],'resources':['secrets'],'verbs':['get','delete','update']}"),
				    msg, sizeof(msg)), -EACCES);
	assert_string_equal(msg, "roles.rbac.authorization.k8s.io \"r\" is forbidden: user \"bob\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n"
				 "{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"delete\" \"update\"]}");
	/* not elsewhere */
	assert_int_equal(escalation("bob", ROLE("b", "r", "{'apiGroups':[''],'resources':['secrets'],'verbs':['get']}"),
				    msg, sizeof(msg)), -EACCES);
	assert_int_equal(escalation("bob", ROLE("a", "r", "{'apiGroups':['*'],'resources':['secrets'],'verbs':['get']}"),
				    msg, sizeof(msg)), -EACCES);
	assert_string_equal(msg, "roles.rbac.authorization.k8s.io \"r\" is forbidden: user \"bob\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n"
				 "{APIGroups:[\"*\"], Resources:[\"secrets\"], Verbs:[\"get\"]}");
	/* a ClusterRole's rules are held cluster-wide or not at all */
	assert_int_equal(escalation("bob", "{'kind':'ClusterRole','metadata':{'name':'c'},'rules':[{'apiGroups':[''],'resources':['secrets'],'verbs':['get']},{'nonResourceURLs':['/metrics'],'verbs':['get']}]}",
				    msg, sizeof(msg)), -EACCES);
	assert_string_equal(msg, "clusterroles.rbac.authorization.k8s.io \"c\" is forbidden: user \"bob\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n"
				 "{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}\n{NonResourceURLs:[\"/metrics\"], Verbs:[\"get\"]}");
	/* covering: * / subresource, URL prefixes (rule.go's Covers) */
	assert_int_equal(escalation("erin", "{'kind':'ClusterRole','metadata':{'name':'c'},'rules':[{'apiGroups':[''],'resources':['foo/status'],'verbs':['get']}]}",
				    msg, sizeof(msg)), 0);
	assert_int_equal(escalation("dave", "{'kind':'ClusterRole','metadata':{'name':'c'},'rules':[{'nonResourceURLs':['/logs/a/*','/metrics'],'verbs':['get']}]}",
				    msg, sizeof(msg)), 0);
	/* escalate on roles lets esc write any Role in a */
	assert_int_equal(escalation("esc", ROLE("a", "r", "{'apiGroups':['*'],'resources':['*'],'verbs':['*']}"),
				    msg, sizeof(msg)), 0);
	assert_int_equal(escalation("esc", ROLE("b", "r", "{'apiGroups':['*'],'resources':['*'],'verbs':['*']}"),
				    msg, sizeof(msg)), -EACCES);
	/* an aggregationRule needs full authority */
	assert_int_equal(escalation("bob", "{'kind':'ClusterRole','metadata':{'name':'c'},'aggregationRule':{'clusterRoleSelectors':[]},'rules':[]}",
				    msg, sizeof(msg)), -EACCES);
	assert_string_equal(msg, "clusterroles.rbac.authorization.k8s.io \"c\" is forbidden: must have cluster-admin privileges to use the aggregationRule");
	assert_int_equal(escalation("root", "{'kind':'ClusterRole','metadata':{'name':'c'},'aggregationRule':{'clusterRoleSelectors':[]},'rules':[]}",
				    msg, sizeof(msg)), 0);
	/* bindings: hold every rule of the role, or have bind on it */
	assert_int_equal(escalation("bob", RB("a", "x", "Role", "a-writer", USER("eve")), msg, sizeof(msg)), 0);
	assert_int_equal(escalation("bob", RB("a", "x", "ClusterRole", "edit", USER("eve")), msg, sizeof(msg)), -EACCES);
	assert_non_null(strstr(msg, "rolebindings.rbac.authorization.k8s.io \"x\" is forbidden: user \"bob\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"events\"], Verbs:["));
	assert_int_equal(escalation("esc", RB("a", "x", "ClusterRole", "admin", USER("eve")), msg, sizeof(msg)), 0);
	assert_int_equal(escalation("esc", RB("a", "x", "ClusterRole", "edit", USER("eve")), msg, sizeof(msg)), -EACCES);
	assert_int_equal(escalation("bob", CRB("x", "secret-reader", USER("eve")), msg, sizeof(msg)), -EACCES);
	assert_int_equal(escalation("root", CRB("x", "cluster-admin", USER("eve")), msg, sizeof(msg)), 0);
	assert_int_equal(escalation("adm", RB("a", "x", "ClusterRole", "view", USER("eve")), msg, sizeof(msg)), 0);
	assert_int_equal(escalation("bob", RB("a", "x", "Role", "none", USER("eve")), msg, sizeof(msg)), -ENOENT);
	assert_string_equal(msg, "roles.rbac.authorization.k8s.io \"none\" not found");
	assert_int_equal(escalation("bob", "{'kind':'Secret','metadata':{'name':'x'}}", msg, sizeof(msg)), -EINVAL);
}

static void check_invalid(const char *obj_text, const char *old_text, const char *want)
{
	json_t *obj = load(obj_text), *old = old_text ? load(old_text) : NULL, *causes = NULL;
	char msg[RBAC_MSG_MAX];
	int r = rbac_validate(obj, old, &causes, msg, sizeof(msg));

	if (!want) {
		if (r)
			fail_msg("%s: expected valid, got %s", obj_text, msg);
	} else {
		assert_int_equal(r, -EINVAL);
		assert_string_equal(msg, want);
		assert_true(json_array_size(causes) > 0);
		json_decref(causes);
	}
	json_decref(obj);
	json_decref(old);
}

static void test_validate(void **state)
{
	json_t *boot = rbac_bootstrap(), *o, *causes;
	char msg[RBAC_MSG_MAX];
	size_t i;

	(void)state;
	json_array_foreach(boot, i, o)
		if (rbac_validate(o, NULL, &causes, msg, sizeof(msg)))
			fail_msg("bootstrap object %zu: %s", i, msg);
	json_decref(boot);
	check_invalid(ROLE("a", "r", "{'apiGroups':[''],'resources':['secrets'],'verbs':['get']}"), NULL, NULL);
	check_invalid(ROLE("a", "r", "{'apiGroups':[''],'resources':['secrets']}"), NULL,
		      "Role.rbac.authorization.k8s.io \"r\" is invalid: rules[0].verbs: Required value: verbs must contain at least one value");
	check_invalid(ROLE("a", "r", "{'nonResourceURLs':['/x'],'verbs':['get']}"), NULL,
		      "Role.rbac.authorization.k8s.io \"r\" is invalid: rules[0].nonResourceURLs: Invalid value: []string{\"/x\"}: namespaced rules cannot apply to non-resource URLs");
	check_invalid("{'kind':'ClusterRole','metadata':{'name':'c'},'rules':[{'nonResourceURLs':['/x'],'resources':['s'],'verbs':['get']}]}", NULL,
		      "ClusterRole.rbac.authorization.k8s.io \"c\" is invalid: rules[0].nonResourceURLs: Invalid value: []string{\"/x\"}: rules cannot apply to both regular resources and non-resource URLs");
	check_invalid("{'kind':'ClusterRole','metadata':{'name':'c'},'rules':[{'verbs':['get']}]}", NULL,
		      "ClusterRole.rbac.authorization.k8s.io \"c\" is invalid: [rules[0].apiGroups: Required value: resource rules must supply at least one api group, rules[0].resources: Required value: resource rules must supply at least one resource]");
	check_invalid("{'kind':'Role','metadata':{'name':'a/b'},'rules':[]}", NULL,
		      "Role.rbac.authorization.k8s.io \"a/b\" is invalid: [metadata.name: Invalid value: \"a/b\": may not contain '/', metadata.namespace: Required value]");
	check_invalid("{'kind':'ClusterRole','metadata':{'name':'c','namespace':'a'}}", NULL,
		      "ClusterRole.rbac.authorization.k8s.io \"c\" is invalid: metadata.namespace: Forbidden: not allowed on this type");
	check_invalid("{'kind':'ClusterRole','metadata':{'name':'c'},'aggregationRule':{'clusterRoleSelectors':[]}}", NULL,
		      "ClusterRole.rbac.authorization.k8s.io \"c\" is invalid: aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil");
	/* a selector the API server refuses would match no role: refused */
	check_invalid("{'kind':'ClusterRole','metadata':{'name':'c'},'aggregationRule':{'clusterRoleSelectors':[{'matchExpressions':[{'key':'k','operator':'Exists'},{'key':'k','operator':'In','values':['a']}]}]}}", NULL, NULL);
	check_invalid("{'kind':'ClusterRole','metadata':{'name':'c'},'aggregationRule':{'clusterRoleSelectors':[{'matchLabels':{'a':'b'}},{'matchExpressions':[{'key':'k','operator':'in','values':['a']}]}]}}", NULL,
		      "ClusterRole.rbac.authorization.k8s.io \"c\" is invalid: [aggregationRule.clusterRoleSelectors[1].matchExpressions[0].operator: Invalid value: \"in\": not a valid selector operator, aggregationRule.clusterRoleSelectors[1]: Invalid value: \"null\": invalid label selector.]");
	check_invalid("{'kind':'ClusterRole','metadata':{'name':'c'},'aggregationRule':{'clusterRoleSelectors':[{'matchExpressions':[{'key':'k','operator':'NotIn'},{'key':'k','operator':'Exists','values':['a']}]}]}}", NULL,
		      "ClusterRole.rbac.authorization.k8s.io \"c\" is invalid: [aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn', aggregationRule.clusterRoleSelectors[0].matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist', aggregationRule.clusterRoleSelectors[0]: Invalid value: \"null\": invalid label selector.]");
	check_invalid("{'kind':'ClusterRole','metadata':{'name':'c','labels':{'a b':'x','ok':'y z'}}}", NULL,
		      "ClusterRole.rbac.authorization.k8s.io \"c\" is invalid: [metadata.labels: Invalid value: \"a b\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'), metadata.labels: Invalid value: \"y z\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')]");
	check_invalid(RB("a", "x", "Role", "r", USER("u")), NULL, NULL);
	check_invalid(RB("a", "x", "Rolle", "r", USER("u")), NULL,
		      "RoleBinding.rbac.authorization.k8s.io \"x\" is invalid: roleRef.kind: Unsupported value: \"Rolle\": supported values: \"Role\", \"ClusterRole\"");
	check_invalid("{'kind':'ClusterRoleBinding','metadata':{'name':'x'},'roleRef':{'apiGroup':'rbac.authorization.k8s.io','kind':'Role','name':'r'},'subjects':[{'kind':'ServiceAccount','name':'s'}]}", NULL,
		      "ClusterRoleBinding.rbac.authorization.k8s.io \"x\" is invalid: [roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\", subjects[0].namespace: Required value]");
	check_invalid(RB("a", "x", "Role", "", "{'kind':'Robot','name':'u'}," USER("")), NULL,
		      "RoleBinding.rbac.authorization.k8s.io \"x\" is invalid: [roleRef.name: Required value, subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\", subjects[1].name: Required value]");
	check_invalid(RB("a", "x", "Role", "r", "{'kind':'User','name':'u'}"), NULL,
		      "RoleBinding.rbac.authorization.k8s.io \"x\" is invalid: subjects[0].apiGroup: Unsupported value: \"\": supported values: \"rbac.authorization.k8s.io\"");
	/* roleRef never changes */
	check_invalid(RB("a", "x", "ClusterRole", "r", USER("u")), RB("a", "x", "Role", "r", USER("u")),
		      "RoleBinding.rbac.authorization.k8s.io \"x\" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"ClusterRole\", Name:\"r\"}: cannot change roleRef");
	check_invalid(RB("a", "x", "Role", "r", USER("v")), RB("a", "x", "Role", "r", USER("u")), NULL);
}

static void test_bootstrap_missing(void **state)
{
	json_t *all = rbac_bootstrap(), *missing;
	size_t n = json_array_size(all);

	(void)state;
	missing = rbac_bootstrap_missing(all);
	assert_int_equal(json_array_size(missing), 0);
	json_decref(missing);
	assert_int_equal(json_array_remove(all, 0), 0); /* cluster-admin deleted */
	missing = rbac_bootstrap_missing(all);
	assert_int_equal(json_array_size(missing), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(missing, 0), "metadata"), "name")),
			    "cluster-admin");
	assert_true(n > 10);
	json_decref(missing);
	/* an edited default gets back what it lost, and keeps what it gained,
	 * unless autoupdate is "false" */
	json_t *view = NULL, *crb = NULL, *o;
	size_t i;

	json_array_foreach(all, i, o) {
		const char *name = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));

		if (!strcmp(name, "system:aggregate-to-view"))
			view = o;
		if (!strcmp(name, "system:basic-user") &&
		    !strcmp(json_string_value(json_object_get(o, "kind")), "ClusterRoleBinding"))
			crb = o;
	}
	assert_non_null(view);
	assert_non_null(crb);
	json_array_clear(json_object_get(view, "rules"));
	json_array_append_new(json_object_get(view, "rules"),
			      load("{'apiGroups':[''],'resources':['configmaps'],'verbs':['get']}"));
	json_object_set_new(json_object_get(view, "metadata"), "resourceVersion", json_string("42"));
	json_array_clear(json_object_get(crb, "subjects"));
	missing = rbac_bootstrap_missing(all);
	assert_int_equal(json_array_size(missing), 3);
	o = json_array_get(missing, 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "metadata"), "name")),
			    "system:aggregate-to-view");
	assert_int_equal(json_array_size(json_object_get(o, "rules")), 2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion")), "42");
	assert_int_equal(json_array_size(json_object_get(json_array_get(missing, 2), "subjects")), 1);
	json_decref(missing);
	json_object_set_new(json_object_get(json_object_get(view, "metadata"), "annotations"),
			    "rbac.authorization.kubernetes.io/autoupdate", json_string("false"));
	missing = rbac_bootstrap_missing(all);
	assert_int_equal(json_array_size(missing), 2);
	json_decref(missing);
	json_decref(all);
}

/* 1,000 RoleBindings in 100 namespaces and 100 ClusterRoles (and their
 * ClusterRoleBindings): a decision costs what the user's own bindings cost.
 * RBAC_BENCH_N decisions (default 100,000); the figure goes to stdout. */
static void test_scale(void **state)
{
	json_t *objs = json_array();
	struct rbac_policy *p;
	const char *groups[] = { AUTHN, "team-7" };
	struct timespec t0, t1;
	const char *env = getenv("RBAC_BENCH_N");
	long n = env ? atol(env) : 100000, allowed = 0;
	char buf[512], why[RBAC_MSG_MAX], ns[32], name[32];

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(buf, sizeof(buf),
			 "{'kind':'ClusterRole','metadata':{'name':'cr%d'},'rules':[{'apiGroups':[''],'resources':['secrets'],'resourceNames':['s%d'],'verbs':['get']},{'apiGroups':['g%d'],'resources':['*'],'verbs':['list']}]}",
			 i, i, i);
		json_array_append_new(objs, load(buf));
		snprintf(buf, sizeof(buf),
			 "{'kind':'ClusterRoleBinding','metadata':{'name':'crb%d'},'roleRef':{'apiGroup':'rbac.authorization.k8s.io','kind':'ClusterRole','name':'cr%d'},'subjects':[{'kind':'User','apiGroup':'rbac.authorization.k8s.io','name':'u%d'}]}",
			 i, i, i);
		json_array_append_new(objs, load(buf));
	}
	for (int i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf),
			 "{'kind':'RoleBinding','metadata':{'name':'rb%d','namespace':'ns%d'},'roleRef':{'apiGroup':'rbac.authorization.k8s.io','kind':'ClusterRole','name':'cr%d'},'subjects':[{'kind':'User','apiGroup':'rbac.authorization.k8s.io','name':'u%d'},{'kind':'Group','apiGroup':'rbac.authorization.k8s.io','name':'team-%d'}]}",
			 i, i % 100, i % 100, i, i % 50);
		json_array_append_new(objs, load(buf));
	}
	assert_int_equal(rbac_policy_new(&p, objs), 0);
	json_decref(objs);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0); /* CPU time: the machine may be shared */
	for (long i = 0; i < n; i++) {
		struct rbac_attrs a = { .user = "u7", .groups = groups, .ngroups = 2, .verb = "get",
					.api_group = "", .resource = "secrets", .namespace = ns,
					.name = name, .resource_request = true };

		snprintf(ns, sizeof(ns), "ns%ld", i % 100);
		snprintf(name, sizeof(name), "s%ld", i % 100);
		allowed += rbac_authorize(p, &a, why, sizeof(why));
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	/* u7 holds s7 everywhere (cr7); team-7 holds cr(i%100) in ns(i%100)
	 * for i%50 == 7: cr7 in ns7, cr57 in ns57 */
	if (n % 100 == 0)
		assert_int_equal(allowed, n / 100 * 2);
	printf("rbac: %.0f ns (CPU) per decision (1,000 RoleBindings, 100 ClusterRoles, %ld decisions)\n",
	       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / (double)n, n);
	rbac_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_kubernetes_cases),
		cmocka_unit_test(test_empty_policy),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_forbidden_texts),
		cmocka_unit_test(test_rules_review),
		cmocka_unit_test(test_escalation),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_bootstrap_missing),
		cmocka_unit_test(test_scale),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
