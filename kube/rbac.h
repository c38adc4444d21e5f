/*
 * rbac.h - Kubernetes RBAC (rbac.authorization.k8s.io/v1) for the API
 * server: the authorizer, the Forbidden texts, SelfSubjectRulesReview,
 * escalation prevention, validation of the four kinds on write, and the
 * bootstrap policy.  Pure code on jansson values: no I/O, no store.
 *
 * The semantics are kube-apiserver's (plugin/pkg/auth/authorizer/rbac,
 * pkg/registry/rbac/validation, pkg/apis/rbac/validation):
 *   - a request is allowed when any rule reached through a binding that
 *     names the user (User), one of its groups (Group) or, as a
 *     ServiceAccount subject, the user "system:serviceaccount:NS:NAME"
 *     allows it; ClusterRoleBindings grant everywhere, RoleBindings only in
 *     their own namespace (a cluster-scoped or non-resource request is never
 *     granted by a RoleBinding);
 *   - group "system:masters" is allowed everything, as kube-apiserver's
 *     privileged-group authorizer;
 *   - the groups are the authenticator's: it adds "system:authenticated" (or
 *     "system:unauthenticated" for system:anonymous) and, for service
 *     accounts, "system:serviceaccounts" and "system:serviceaccounts:NS".
 * Nothing here knows a value: the objects hold names and rules only.
 */
#ifndef SECRETFS_KUBE_RBAC_H
#define SECRETFS_KUBE_RBAC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define RBAC_GROUP "rbac.authorization.k8s.io"
#define RBAC_MASTERS "system:masters"
/* enough for any message below with names of Kubernetes' lengths */
#define RBAC_MSG_MAX 4096

/* One request, as the server's handler knows it after authentication.
 * Resource requests: verb (get, list, watch, create, update, patch, delete,
 * deletecollection, or escalate/bind/impersonate), api_group ("" for
 * core), resource ("secrets"), subresource (NULL or ""), namespace (NULL
 * or "" for cluster scope), name (NULL or "" for list, create,
 * deletecollection).  Non-resource requests: verb (the lowercased HTTP
 * method: get, post, ...) and path. */
struct rbac_attrs {
	const char *user;
	const char *const *groups;
	size_t ngroups;
	const char *verb;
	const char *api_group;
	const char *resource;
	const char *subresource;
	const char *namespace;
	const char *name;
	const char *path;
	bool resource_request;
};

struct rbac_policy;

/* A policy from objects (a JSON array of Role, ClusterRole, RoleBinding and
 * ClusterRoleBinding objects; other kinds and malformed fields are ignored:
 * they were validated on write).  ClusterRoles with an aggregationRule get
 * the rules of every ClusterRole its selectors match, to a fixed point, as
 * the aggregation controller would have written them.  The policy keeps a
 * reference to objects and never changes it: do not change objects while
 * the policy lives.  Returns 0 or -ENOMEM; free with rbac_policy_free. */
int rbac_policy_new(struct rbac_policy **out, json_t *objects);
void rbac_policy_free(struct rbac_policy *p);

/* Is the request allowed?  1 allowed (reason: what allowed it, e.g.
 * 'RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User
 * "bob"', for the audit log), 0 denied (reason: "" or "RBAC: " and the
 * bindings whose role is missing, as kube-apiserver appends to its 403).
 * p may be NULL (no objects: only system:masters is allowed). */
int rbac_authorize(const struct rbac_policy *p, const struct rbac_attrs *a, char *reason,
		   size_t len);

/* kube-apiserver's 403 message for a denied request (a Status's message):
 *   secrets "x" is forbidden: User "bob" cannot delete resource "secrets" in API group "" in the namespace "foo"
 *   secrets is forbidden: User "bob" cannot list resource "secrets" in API group "" at the cluster scope
 *   forbidden: User "bob" cannot get path "/metrics"
 * reason (from rbac_authorize, may be NULL or "") is appended after ": ". */
void rbac_forbidden_message(char *buf, size_t len, const struct rbac_attrs *a,
			    const char *reason);

/* A SelfSubjectRulesReview's status for the user in namespace ns (NULL or
 * "": cluster-wide bindings only): {"resourceRules": [...],
 * "nonResourceRules": [...], "incomplete": false} (incomplete true and
 * "evaluationError" when a binding's role is missing).  New reference, or
 * NULL on allocation failure. */
json_t *rbac_rules_for(const struct rbac_policy *p, const char *user,
		       const char *const *groups, size_t ngroups, const char *ns);

/* May the requester (a->user, a->groups, a->namespace: the object's
 * namespace, "" for the cluster kinds) create or update obj, a Role,
 * ClusterRole, RoleBinding or ClusterRoleBinding, without escalating?  As
 * kube-apiserver: system:masters may; a role only if the user already holds
 * every rule in it or has verb "escalate" on roles/clusterroles (an
 * aggregationRule needs full authority); a binding only if the user holds
 * every rule of the role it references (in the binding's namespace) or has
 * verb "bind" on that role.  Returns 0 allowed; -EACCES with msg set to the
 * apiserver's Forbidden message ('roles.rbac.authorization.k8s.io "x" is
 * forbidden: user "bob" (groups=["g"]) is attempting to grant RBAC
 * permissions not currently held:\n{APIGroups:[""], ...}'); -ENOENT when a
 * binding's role does not exist (msg: the apiserver's NotFound text);
 * -EINVAL for an object of another kind; -ENOMEM. */
int rbac_confirm_no_escalation(const struct rbac_policy *p, const struct rbac_attrs *a,
			       const json_t *obj, char *msg, size_t len);

/* Validate obj (one of the four kinds) for create (old NULL) or update (old:
 * the stored object), as the apiserver's ValidateRole/ValidateRoleBinding...:
 * 0 valid; -EINVAL with *causes a new array of Status causes ({"reason":
 * "FieldValueRequired", "message": "Required value: ...", "field":
 * "roleRef.name"}) and msg the 422 message ('RoleBinding.rbac.
 * authorization.k8s.io "x" is invalid: roleRef.kind: Unsupported value:
 * ...'); -ENOMEM.  An aggregationRule is accepted on ClusterRoles only. */
int rbac_validate(const json_t *obj, const json_t *old, json_t **causes, char *msg, size_t len);

/* The kind's plural resource name ("roles", ...) or NULL for another. */
const char *rbac_kind_resource(const char *kind);
/* Is obj's kind namespaced (Role, RoleBinding)? */
bool rbac_kind_namespaced(const char *kind);

/* The bootstrap policy the server starts with, kube-apiserver's reduced to
 * what we serve: ClusterRoles cluster-admin, admin, edit, view (aggregated
 * from system:aggregate-to-{admin,edit,view}; view holds no secrets),
 * system:basic-user, system:discovery, system:public-info-viewer, and their
 * ClusterRoleBindings.  A new array, or NULL on allocation failure. */
json_t *rbac_bootstrap(void);
/* What the server writes at start so that the defaults hold, as
 * kube-apiserver's post-start hook reconciles them, given the objects that
 * exist (an array): every bootstrap object missing (a deleted default comes
 * back on the next start), and every existing default whose
 * rbac.authorization.kubernetes.io/autoupdate annotation is not "false" but
 * lacks some of the default's rules, aggregation selectors or subjects, with
 * those added (nothing removed; its resourceVersion kept, so a change
 * meanwhile conflicts).  New array, or NULL on allocation failure. */
json_t *rbac_bootstrap_missing(const json_t *existing);

#endif
