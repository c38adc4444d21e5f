/*
 * authz.c - every request's authorization: the user and groups from
 * authn.c, the verb, API group, resource, namespace and name from the
 * handler (or the path, for discovery), decided by Kubernetes RBAC
 * (kube/rbac.h) on the Roles, ClusterRoles and bindings in the store.
 *
 * Each thread keeps the policy it built with its store handle (api_db) and
 * the store revision it was built at; any commit (secretctl, the mirror,
 * another thread or server) moves the revision, and the next request
 * rebuilds it, so a binding written anywhere holds from the next request
 * on.  A policy that cannot be read refuses (503), never allows.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "api/api.h"
#include "kube/rbac.h"

void api_authz_release(struct api_db *db)
{
	rbac_policy_free(db->policy);
	json_decref(db->policy_objects);
	db->policy = NULL;
	db->policy_objects = NULL;
	db->policy_loaded = false;
}

/* This thread's policy, rebuilt when the store moved: 0, or -errno. */
static int policy_get(struct api_req *r, const struct rbac_policy **out)
{
	struct api_db *db = r->db;
	struct store_object **v = NULL;
	struct rbac_policy *p = NULL;
	json_t *objs = NULL;
	size_t n = 0;
	int64_t rev;
	int ret;

	assert(db);
	if (store_revision(db->st, &rev))
		return -EIO;
	if (db->policy_loaded && rev == db->policy_rev) {
		*out = db->policy;
		return 0;
	}
	ret = store_object_list(db->st, NULL, NULL, &v, &n);
	if (ret)
		goto out;
	objs = json_array();
	if (!objs) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_loads(v[i]->body, 0, NULL);

		/* the store wrote it as canonical JSON: one it cannot parse
		 * grants nothing */
		if (o && json_array_append_new(objs, o)) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = rbac_policy_new(&p, objs);
	if (ret)
		goto out;
	api_authz_release(db);
	db->policy = p;
	db->policy_objects = objs;
	db->policy_rev = rev;
	db->policy_loaded = true;
	objs = NULL;
	*out = p;
out:
	json_decref(objs);
	store_object_list_free(v, n);
	return ret;
}

static void attrs_of(const struct api_req *r, struct rbac_attrs *a)
{
	memset(a, 0, sizeof(*a));
	a->user = r->user.name;
	a->groups = (const char *const *)r->user.groups;
	a->ngroups = r->user.ngroups;
}

int api_authz_check(struct api_req *r, const char *verb, const char *group, const char *resource,
		    const char *sub, const char *ns, const char *name, const char *path,
		    char *msg, size_t len)
{
	const struct rbac_policy *p;
	struct rbac_attrs a;
	char reason[RBAC_MSG_MAX];
	int ret = policy_get(r, &p);

	if (ret)
		return ret;
	attrs_of(r, &a);
	a.verb = verb;
	a.resource_request = !path;
	a.path = path;
	a.api_group = group;
	a.resource = resource;
	a.subresource = sub;
	a.namespace = ns;
	a.name = name;
	ret = rbac_authorize(p, &a, reason, sizeof(reason));
	if (ret == 0 && msg)
		rbac_forbidden_message(msg, len, &a, reason);
	return ret;
}

bool api_allowed(struct api_req *r, const char *verb, const char *group, const char *resource,
		 const char *ns, const char *name, enum MHD_Result *ret)
{
	char msg[RBAC_MSG_MAX];
	int ok = api_authz_check(r, verb, group, resource, NULL, ns, name, NULL, msg, sizeof(msg));
	json_t *d;

	if (ok > 0)
		return true;
	if (ok < 0) {
		*ret = api_status(r, 503, "ServiceUnavailable", NULL,
				  "the RBAC policy cannot be read from the store");
		return false;
	}
	d = json_pack("{s:s}", "kind", resource);
	if (d && name)
		json_object_set_new(d, "name", json_string(name));
	if (d && *group)
		json_object_set_new(d, "group", json_string(group));
	*ret = api_status(r, 403, "Forbidden", d, "%s", msg);
	return false;
}

bool api_allowed_path(struct api_req *r, const char *path, enum MHD_Result *ret)
{
	char msg[RBAC_MSG_MAX], verb[16];
	int ok;

	/* a non-resource request's verb is the method, lowercased */
	snprintf(verb, sizeof(verb), "%s", r->method);
	for (char *c = verb; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
	ok = api_authz_check(r, verb, NULL, NULL, NULL, NULL, NULL, path, msg, sizeof(msg));
	if (ok > 0)
		return true;
	if (ok < 0)
		*ret = api_status(r, 503, "ServiceUnavailable", NULL,
				  "the RBAC policy cannot be read from the store");
	else
		*ret = api_status(r, 403, "Forbidden", json_object(), "%s", msg);
	return false;
}

json_t *api_authz_rules(struct api_req *r, const char *ns)
{
	const struct rbac_policy *p;

	if (policy_get(r, &p))
		return NULL;
	return rbac_rules_for(p, r->user.name, (const char *const *)r->user.groups,
			      r->user.ngroups, ns);
}

const struct rbac_policy *api_authz_policy(struct api_req *r)
{
	const struct rbac_policy *p;

	return policy_get(r, &p) ? NULL : p;
}

/* How often the bootstrap starts again after another writer came between
 * its read and its write. */
#define BOOTSTRAP_ROUNDS 5

/*
 * One round of the bootstrap: read what exists, write what is missing or
 * incomplete.  What it reads may be behind (in cluster mode, this node's
 * mirror lags etcd), so no write may rest on it alone: a missing default
 * is created only if it is still missing where the writer writes (in
 * etcd), an incomplete one is updated only if still at the
 * resourceVersion read.  -EEXIST or -EAGAIN then: the writer has caught
 * this node up, and the next round reads again.
 */
static int bootstrap_round(struct api_db *db, char *err, size_t errlen)
{
	struct store_object **v = NULL;
	json_t *objs = json_array(), *missing = NULL, *o;
	size_t n = 0, i;
	int ret;

	if (!objs)
		return -ENOMEM;
	ret = store_object_list(db->st, NULL, NULL, &v, &n);
	if (ret) {
		snprintf(err, errlen, "cannot read the RBAC objects: %s", store_errmsg(db->st));
		goto out;
	}
	for (i = 0; i < n; i++) {
		o = json_loads(v[i]->body, 0, NULL);
		if (o)
			json_array_append_new(objs, o);
	}
	missing = rbac_bootstrap_missing(objs);
	if (!missing) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory making the bootstrap RBAC policy");
		goto out;
	}
	json_array_foreach(missing, i, o) {
		/* an incomplete default keeps its resourceVersion (a
		 * precondition); a missing one has none */
		bool exists = json_object_get(json_object_get(o, "metadata"), "resourceVersion");
		char *text = json_dumps(o, JSON_COMPACT);

		ret = text ? store_writer_object_put(db->w, text, exists ? STORE_PUT_APPLY :
						     STORE_PUT_CREATE, NULL) : -ENOMEM;
		free(text);
		if (ret) {
			snprintf(err, errlen, "cannot write the bootstrap %s \"%s\": %s",
				 json_string_value(json_object_get(o, "kind")),
				 json_string_value(json_object_get(json_object_get(o, "metadata"), "name")),
				 ret == -ENOMEM ? "out of memory" : store_writer_errmsg(db->w));
			goto out;
		}
	}
out:
	json_decref(missing);
	json_decref(objs);
	store_object_list_free(v, n);
	return ret;
}

/*
 * Write the bootstrap policy's missing or incomplete defaults, as
 * kube-apiserver's post-start hook does: 0, or -errno with err.
 */
int api_authz_bootstrap(struct api_db *db, char *err, size_t errlen)
{
	int ret = -EAGAIN;

	for (int round = 0; round < BOOTSTRAP_ROUNDS; round++) {
		ret = bootstrap_round(db, err, errlen);
		if (ret != -EEXIST && ret != -EAGAIN)
			break;
	}
	return ret;
}
