/*
 * test_objects.c - RBAC objects in the store (store/objects.c): writes and
 * reads, the modes and the resourceVersion precondition, what the store
 * owns in metadata, the tag (a changed row fails with -EBADMSG, a list
 * fails whole), the change log (their own; the secrets' log does not show
 * them), a namespace's deletion, the writer, and the 4 -> 5 migration.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "store/store.h"

#include "store_fixture.h"

#define ROLE(ns, name, verbs)                                                                  \
	"{\"kind\":\"Role\",\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"metadata\":{\"name\":\"" \
	name "\",\"namespace\":\"" ns "\"},\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"secrets\"]," \
	"\"verbs\":[" verbs "]}]}"
#define CROLE(name) \
	"{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"" name "\"},\"rules\":[]}"
#define RB(ns, name) \
	"{\"kind\":\"RoleBinding\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" ns "\"}," \
	"\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Role\",\"name\":\"r\"}," \
	"\"subjects\":[{\"kind\":\"User\",\"apiGroup\":\"rbac.authorization.k8s.io\",\"name\":\"bob\"}]}"

static const char *meta_str(const char *body, const char *key, char *buf, size_t len)
{
	json_t *j = json_loads(body, 0, NULL);
	const char *s = json_string_value(json_object_get(json_object_get(j, "metadata"), key));

	snprintf(buf, len, "%s", s ? s : "(none)");
	json_decref(j);
	return buf;
}

static void test_put_get_list(void **state)
{
	struct fixture *f = *state;
	struct store_object *o = NULL, **v = NULL;
	enum store_put_result res;
	char buf[64], rv[32];
	int64_t rev0, rev1;
	size_t n;

	assert_int_equal(store_revision(f->st, &rev0), 0);
	assert_int_equal(store_object_put(f->st, ROLE("default", "r", "\"get\""), STORE_PUT_CREATE, &res, &o), 0);
	assert_int_equal(res, STORE_CREATED);
	assert_string_equal(o->kind, "Role");
	assert_string_equal(o->namespace, "default");
	assert_string_equal(o->name, "r");
	assert_int_equal(o->generation, 1);
	assert_int_equal(strlen(o->uid), 36);
	assert_string_equal(meta_str(o->body, "uid", buf, sizeof(buf)), o->uid);
	assert_int_equal(strlen(meta_str(o->body, "creationTimestamp", buf, sizeof(buf))), 20);
	assert_int_equal(store_revision(f->st, &rev1), 0);
	assert_int_equal(rev1, rev0 + 1);
	snprintf(rv, sizeof(rv), "%lld", (long long)rev1);
	assert_string_equal(meta_str(o->body, "resourceVersion", buf, sizeof(buf)), rv);
	store_object_free(o);

	assert_int_equal(store_object_put(f->st, CROLE("c"), STORE_PUT_CREATE, NULL, NULL), 0);
	/* the cluster kinds ignore the namespace asked for */
	assert_int_equal(store_object_get(f->st, "ClusterRole", "whatever", "c", &o), 0);
	assert_string_equal(o->namespace, "");
	store_object_free(o);
	assert_int_equal(store_object_get(f->st, "Role", "default", "nope", &o), -ENOENT);
	assert_string_equal(store_errmsg(f->st), "roles.rbac.authorization.k8s.io \"nope\" not found");
	assert_int_equal(store_object_get(f->st, "Secret", "default", "r", &o), -EINVAL);

	assert_int_equal(store_object_list(f->st, NULL, NULL, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->kind, "ClusterRole");
	assert_string_equal(v[1]->kind, "Role");
	store_object_list_free(v, n);
	assert_int_equal(store_object_list(f->st, "Role", "kube-system", &v, &n), 0);
	assert_int_equal(n, 0);
	store_object_list_free(v, n);
}

static void test_modes_and_versions(void **state)
{
	struct fixture *f = *state;
	struct store_object *o = NULL;
	enum store_put_result res;
	char json[512], uid[37];
	int64_t rev;

	assert_int_equal(store_object_put(f->st, ROLE("default", "r", "\"get\""), STORE_PUT_REPLACE, NULL, NULL), -ENOENT);
	assert_int_equal(store_object_put(f->st, ROLE("default", "r", "\"get\""), STORE_PUT_CREATE, NULL, &o), 0);
	snprintf(uid, sizeof(uid), "%s", o->uid);
	store_object_free(o);
	assert_int_equal(store_object_put(f->st, ROLE("default", "r", "\"get\""), STORE_PUT_CREATE, NULL, NULL), -EEXIST);
	assert_string_equal(store_errmsg(f->st), "roles.rbac.authorization.k8s.io \"r\" already exists");
	/* the same object again: nothing changes, no revision is taken */
	assert_int_equal(store_revision(f->st, &rev), 0);
	assert_int_equal(store_object_put(f->st, ROLE("default", "r", "\"get\""), STORE_PUT_APPLY, &res, NULL), 0);
	assert_int_equal(res, STORE_UNCHANGED);
	{
		int64_t now;

		assert_int_equal(store_revision(f->st, &now), 0);
		assert_int_equal(now, rev);
	}
	/* a change: same uid, next generation */
	assert_int_equal(store_object_put(f->st, ROLE("default", "r", "\"get\",\"list\""), STORE_PUT_REPLACE, &res, &o), 0);
	assert_int_equal(res, STORE_UPDATED);
	assert_string_equal(o->uid, uid);
	assert_int_equal(o->generation, 2);
	assert_int_equal(o->revision, rev + 1);
	store_object_free(o);
	/* resourceVersion: the one read, or a conflict */
	snprintf(json, sizeof(json),
		 "{\"kind\":\"Role\",\"metadata\":{\"name\":\"r\",\"namespace\":\"default\",\"resourceVersion\":\"%lld\",\"uid\":\"forged\"},\"rules\":[]}",
		 (long long)rev);
	assert_int_equal(store_object_put(f->st, json, STORE_PUT_REPLACE, NULL, NULL), -EAGAIN);
	assert_string_equal(store_errmsg(f->st),
			    "Operation cannot be fulfilled on roles.rbac.authorization.k8s.io \"r\": the object has been modified; please apply your changes to the latest version and try again");
	snprintf(json, sizeof(json),
		 "{\"kind\":\"Role\",\"metadata\":{\"name\":\"r\",\"namespace\":\"default\",\"resourceVersion\":\"%lld\",\"uid\":\"forged\"},\"rules\":[]}",
		 (long long)rev + 1);
	assert_int_equal(store_object_put(f->st, json, STORE_PUT_REPLACE, NULL, &o), 0);
	assert_string_equal(o->uid, uid); /* the store's, never the writer's */
	store_object_free(o);
	assert_int_equal(store_object_put(f->st,
					  "{\"kind\":\"Role\",\"metadata\":{\"name\":\"new\",\"namespace\":\"default\",\"resourceVersion\":\"5\"}}",
					  STORE_PUT_CREATE, NULL, NULL), -EINVAL);
}

static void test_refused(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"[]", "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"x\"}}",
		"{\"kind\":\"Role\",\"metadata\":{\"name\":\"x\"}}",
		"{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"x\",\"namespace\":\"default\"}}",
		"{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"a/b\"}}",
		"{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"..\"}}",
		"{\"kind\":\"ClusterRole\",\"metadata\":{}}",
		"{\"kind\":\"ClusterRole\",\"kind\":\"Role\",\"metadata\":{\"name\":\"x\"}}",
		"{\"kind\":\"Role\",\"metadata\":{\"name\":\"x\",\"namespace\":\"Not_A_Namespace\"}}",
		"{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"abc\"}}",
		"not json",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (store_object_put(f->st, bad[i], STORE_PUT_APPLY, NULL, NULL) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	/* a Role's namespace must exist */
	assert_int_equal(store_object_put(f->st, ROLE("nowhere", "r", "\"get\""), STORE_PUT_CREATE, NULL, NULL), -ENOENT);
	assert_string_equal(store_errmsg(f->st), "namespace \"nowhere\" not found");
}

static void test_tampered(void **state)
{
	struct fixture *f = *state;
	struct store_object *o = NULL, **v = NULL;
	size_t n;

	assert_int_equal(store_object_put(f->st, ROLE("default", "r", "\"get\""), STORE_PUT_CREATE, NULL, NULL), 0);
	assert_int_equal(store_object_put(f->st, CROLE("c"), STORE_PUT_CREATE, NULL, NULL), 0);
	/* more verbs, written past the store */
	raw_sql(f, "UPDATE objects SET body = replace(body, '\"get\"', '\"get\",\"delete\"') WHERE name = 'r'");
	assert_int_equal(store_object_get(f->st, "Role", "default", "r", &o), -EBADMSG);
	assert_string_equal(store_errmsg(f->st),
			    "roles \"r\" in namespace default fails authentication: its row was changed outside the store");
	assert_int_equal(store_object_list(f->st, NULL, NULL, &v, &n), -EBADMSG);
	/* nor may it be replaced as if it were sound */
	assert_int_equal(store_object_put(f->st, ROLE("default", "r", "\"list\""), STORE_PUT_APPLY, NULL, NULL), -EBADMSG);
	assert_int_equal(store_object_get(f->st, "ClusterRole", NULL, "c", &o), 0);
	store_object_free(o);
	/* moved to another name, another namespace's, or untagged */
	raw_sql(f, "UPDATE objects SET name = 'c2' WHERE name = 'c'");
	assert_int_equal(store_object_get(f->st, "ClusterRole", NULL, "c2", &o), -EBADMSG);
	raw_sql(f, "UPDATE objects SET name = 'c', tag = x'00' WHERE name = 'c2'");
	assert_int_equal(store_object_get(f->st, "ClusterRole", NULL, "c", &o), -EBADMSG);
	raw_sql(f, "UPDATE objects SET kind = 'ClusterRoleBinding' WHERE name = 'c'");
	assert_int_equal(store_object_get(f->st, "ClusterRoleBinding", NULL, "c", &o), -EBADMSG);
	/* deleting is still possible */
	assert_int_equal(store_object_delete(f->st, "ClusterRoleBinding", NULL, "c"), 0);
}

struct seen {
	char log[1024];
};

static int on_change(void *ctx, const struct store_object_change *c)
{
	struct seen *s = ctx;
	size_t off = strlen(s->log);

	snprintf(s->log + off, sizeof(s->log) - off, "%d %s %s/%s %lld;", (int)c->op, c->kind,
		 c->namespace, c->name, (long long)c->generation);
	return 0;
}

static int on_secret_change(void *ctx, const struct store_change *c)
{
	(void)c;
	(*(int *)ctx)++;
	return 0;
}

static void test_change_log(void **state)
{
	struct fixture *f = *state;
	struct seen s = { "" };
	int64_t rev0, rev1;
	int secret_changes = 0;

	assert_int_equal(store_revision(f->st, &rev0), 0);
	assert_int_equal(store_ns_create(f->st, "team"), 0);
	assert_int_equal(store_object_put(f->st, ROLE("team", "r", "\"get\""), STORE_PUT_CREATE, NULL, NULL), 0);
	assert_int_equal(store_object_put(f->st, ROLE("team", "r", "\"list\""), STORE_PUT_APPLY, NULL, NULL), 0);
	assert_int_equal(store_object_put(f->st, RB("team", "b"), STORE_PUT_CREATE, NULL, NULL), 0);
	assert_int_equal(store_object_put(f->st, CROLE("c"), STORE_PUT_CREATE, NULL, NULL), 0);
	assert_int_equal(store_object_delete(f->st, "ClusterRole", NULL, "c"), 0);
	assert_int_equal(store_object_delete(f->st, "ClusterRole", NULL, "c"), -ENOENT);
	/* the namespace takes its Role and RoleBinding with it */
	assert_int_equal(store_ns_delete(f->st, "team"), 0);
	assert_int_equal(store_object_changes(f->st, rev0, on_change, &s), 0);
	assert_string_equal(s.log,
			    "3 Role team/r 1;4 Role team/r 2;3 RoleBinding team/b 1;3 ClusterRole /c 1;"
			    "5 ClusterRole /c 2;5 Role team/r 3;5 RoleBinding team/b 2;");
	assert_int_equal(store_revision(f->st, &rev1), 0);
	assert_int_equal(rev1, rev0 + 7);
	/* the secrets' log (what the driver follows) has the namespace only */
	assert_int_equal(store_changes(f->st, rev0, on_secret_change, &secret_changes), 0);
	assert_int_equal(secret_changes, 2);
}

static void test_writer(void **state)
{
	struct fixture *f = *state;
	struct store_writer *w = NULL;
	struct store_object *o = NULL;
	enum store_put_result res;
	char err[STORE_ERRMSG_MAX];

	assert_int_equal(store_writer_open(&w, f->st, NULL, err), 0);
	assert_int_equal(store_writer_object_put(w, RB("default", "b"), STORE_PUT_CREATE, &res), 0);
	assert_int_equal(res, STORE_CREATED);
	assert_int_equal(store_object_get(f->st, "RoleBinding", "default", "b", &o), 0);
	store_object_free(o);
	assert_int_equal(store_writer_object_put(w, RB("default", "b"), STORE_PUT_CREATE, &res), -EEXIST);
	assert_non_null(strstr(store_writer_errmsg(w), "already exists"));
	assert_int_equal(store_writer_object_delete(w, "RoleBinding", "default", "b"), 0);
	assert_int_equal(store_object_get(f->st, "RoleBinding", "default", "b", &o), -ENOENT);
	store_writer_free(w);
}

/* A store of schema 4 (before RBAC objects and etcd_marks) is brought to
 * the current schema on open. */
static void test_migration(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRMSG_MAX];

	store_close(f->st);
	f->st = NULL;
	raw_sql(f, "DROP TABLE objects; DROP TABLE etcd_marks; ALTER TABLE changes DROP COLUMN kind;"
		   " DROP INDEX events_by_revision; ALTER TABLE events DROP COLUMN revision;"
		   " PRAGMA user_version = 4;");
	assert_int_equal(store_open(&f->st, f->db, f->key, 0, err), 0);
	assert_int_equal(store_object_put(f->st, CROLE("c"), STORE_PUT_CREATE, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes_and_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
