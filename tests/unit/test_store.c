/*
 * test_store.c - the store library through its public API, against real
 * SQLite files in a temporary folder: create/open and key-file checks,
 * CRUD, Kubernetes update rules, revisions and the change log, and sealing
 * (round trip; a flipped byte, a moved ciphertext and a rolled-back one all
 * fail with -EBADMSG and return nothing).  Tampering goes through SQLite
 * directly, as an attacker with the database file would.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "store/cluster.h"
#include "store/store.h"

#include "store_fixture.h"

/* Put a secret with the given key=value pairs (NULL-terminated). */
static int put(struct store *st, const char *ns, const char *name,
	       const char *type, enum store_put_mode mode, ...)
{
	struct store_secret *s = store_secret_new(ns, name, type);
	const char *k, *v;
	va_list ap;
	int ret;

	assert_non_null(s);
	va_start(ap, mode);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		assert_int_equal(store_secret_add_item(s, k, v, strlen(v)), 0);
	}
	va_end(ap);
	ret = store_secret_put(st, s, mode, NULL);
	store_secret_free(s);
	return ret;
}

static int64_t revision(struct store *st)
{
	int64_t r = -1;

	assert_int_equal(store_revision(st, &r), 0);
	return r;
}

static void check_value(struct store *st, const char *ns, const char *name,
			 const char *key, const char *want)
{
	uint8_t *v = NULL;
	size_t len = 0;
	struct store_stat s;

	assert_int_equal(store_value_get(st, ns, name, key, &v, &len, &s), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(v, want, len);
	store_value_free(v);
}

static void test_create_refuses_existing(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRMSG_MAX], other[160];

	assert_int_equal(store_create(f->db, f->key, err), -EEXIST);
	assert_non_null(strstr(err, "already exists"));
	snprintf(other, sizeof(other), "%s/other.db", f->dir);
	assert_int_equal(store_create(other, f->key, err), -EEXIST);
	assert_non_null(strstr(err, "key file"));
	assert_int_equal(access(other, F_OK), -1); /* nothing left behind */
}

static void test_key_file_checks(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRMSG_MAX], other[160], okey[160];
	struct store *st = NULL;
	struct stat sb;

	assert_int_equal(stat(f->key, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0400);
	assert_int_equal(sb.st_size, 32);

	assert_int_equal(chmod(f->key, 0440), 0);
	assert_int_equal(store_open(&st, f->db, f->key, 0, err), -EPERM);
	assert_non_null(strstr(err, "accessible by group or others"));
	assert_null(st);
	assert_int_equal(chmod(f->key, 0404), 0);
	assert_int_equal(store_open(&st, f->db, f->key, 0, err), -EPERM);
	assert_int_equal(chmod(f->key, 0400), 0);

	/* a key from another store does not unlock this one */
	snprintf(other, sizeof(other), "%s/o.db", f->dir);
	snprintf(okey, sizeof(okey), "%s/o.key", f->dir);
	assert_int_equal(store_create(other, okey, err), 0);
	assert_int_equal(store_open(&st, f->db, okey, 0, err), -EKEYREJECTED);
	assert_non_null(strstr(err, "wrong key file"));

	/* a missing store says how to make one */
	snprintf(other, sizeof(other), "%s/missing.db", f->dir);
	assert_int_equal(store_open(&st, other, f->key, 0, err), -ENOENT);
	assert_non_null(strstr(err, "secretctl init"));
}

static void test_crud_and_changes(void **state)
{
	struct fixture *f = *state;
	struct store_secret *s = NULL, **list = NULL;
	enum store_put_result res;
	struct store_stat st;
	size_t n;
	int64_t r0 = revision(f->st);

	assert_int_equal(store_ns_create(f->st, "prod"), 0);
	assert_int_equal(store_ns_create(f->st, "prod"), -EEXIST);
	assert_int_equal(put(f->st, "prod", "db", "", STORE_PUT_CREATE,
			     "username", "admin", "password", "s3cr3t", NULL), 0);
	assert_int_equal(put(f->st, "prod", "db", "", STORE_PUT_CREATE, NULL), -EEXIST);
	assert_int_equal(put(f->st, "nope", "db", "", STORE_PUT_CREATE, NULL), -ENOENT);
	assert_string_equal(store_errmsg(f->st), "namespace \"nope\" not found");
	assert_int_equal(revision(f->st), r0 + 2);

	assert_int_equal(store_secret_get(f->st, "prod", "db", STORE_WITH_VALUES, &s), 0);
	assert_string_equal(s->type, "Opaque");
	assert_int_equal(s->generation, 1);
	assert_int_equal(s->nitems, 2);
	assert_string_equal(s->items[0].key, "password"); /* sorted */
	assert_memory_equal(s->items[0].value, "s3cr3t", 6);
	store_secret_free(s);

	/* an update bumps the generation; an identical one changes nothing */
	assert_int_equal(put(f->st, "prod", "db", "Opaque", STORE_PUT_APPLY,
			     "username", "admin", "password", "n3w", NULL), 0);
	check_value(f->st, "prod", "db", "password", "n3w");
	assert_int_equal(store_secret_stat(f->st, "prod", "db", &st), 0);
	assert_int_equal(st.generation, 2);
	assert_int_equal(st.count, 2);
	assert_int_equal(st.size, 8);
	{
		struct store_secret *same = store_secret_new("prod", "db", "Opaque");

		store_secret_add_item(same, "username", "admin", 5);
		store_secret_add_item(same, "password", "n3w", 3);
		assert_int_equal(store_secret_put(f->st, same, STORE_PUT_APPLY, &res), 0);
		assert_int_equal(res, STORE_UNCHANGED);
		assert_int_equal(same->generation, 2);
		store_secret_free(same);
	}
	assert_int_equal(put(f->st, "prod", "gone", "", STORE_PUT_REPLACE, NULL), -ENOENT);

	assert_int_equal(store_secret_list(f->st, NULL, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0]->namespace, "prod");
	assert_null(list[0]->items[0].value); /* metadata only */
	assert_int_equal(list[0]->items[0].len, 3);
	store_secret_list_free(list, n);

	assert_int_equal(store_secret_delete(f->st, "prod", "db"), 0);
	assert_int_equal(store_secret_delete(f->st, "prod", "db"), -ENOENT);
	assert_int_equal(store_secret_get(f->st, "prod", "db", 0, &s), -ENOENT);
	assert_int_equal(revision(f->st), r0 + 4);
}

struct log {
	int n;
	enum store_op ops[16];
	char names[16][32];
};

static int collect(void *ctx, const struct store_change *c)
{
	struct log *l = ctx;

	if (l->n < 16) {
		l->ops[l->n] = c->op;
		snprintf(l->names[l->n], 32, "%s/%s", c->namespace, c->name ? c->name : "");
		l->n++;
	}
	return 0;
}

static void test_change_log(void **state)
{
	struct fixture *f = *state;
	struct log l = { 0 };
	int64_t r0 = revision(f->st);

	assert_int_equal(store_ns_create(f->st, "team"), 0);
	assert_int_equal(put(f->st, "team", "a", "", STORE_PUT_CREATE, "k", "v", NULL), 0);
	assert_int_equal(put(f->st, "team", "b", "", STORE_PUT_CREATE, "k", "v", NULL), 0);
	assert_int_equal(put(f->st, "team", "a", "", STORE_PUT_APPLY, "k", "w", NULL), 0);
	assert_int_equal(store_ns_delete(f->st, "team"), 0); /* takes a and b along */
	assert_int_equal(store_ns_delete(f->st, "default"), -EPERM);
	assert_int_equal(store_changes(f->st, r0, collect, &l), 0);
	assert_int_equal(l.n, 7);
	assert_int_equal(l.ops[0], STORE_OP_NS_CREATE);
	assert_int_equal(l.ops[1], STORE_OP_CREATE);
	assert_string_equal(l.names[1], "team/a");
	assert_int_equal(l.ops[3], STORE_OP_UPDATE);
	assert_int_equal(l.ops[4], STORE_OP_DELETE);
	assert_int_equal(l.ops[5], STORE_OP_DELETE);
	assert_int_equal(l.ops[6], STORE_OP_NS_DELETE);
	assert_int_equal(revision(f->st), r0 + 5);
	/* the secrets went with their namespace */
	assert_int_equal(store_secret_stat(f->st, "team", "a", &(struct store_stat){ 0 }),
			 -ENOENT);
	l.n = 0;
	assert_int_equal(store_changes(f->st, r0 + 4, collect, &l), 0);
	assert_int_equal(l.n, 3); /* only what revision r0+5 did */
}

/*
 * The writer a front end gets when there is no [cluster]: the store's own
 * write path, the same rules and change log; a batch is all or nothing.
 */
static void test_local_writer(void **state)
{
	struct fixture *f = *state;
	struct cluster_opts none = { .endpoints = NULL };
	struct store_secret *v[2];
	enum store_put_result res[2];
	struct store_writer *w = NULL;
	char err[STORE_ERRMSG_MAX];
	size_t done = 9;
	uint64_t left = 9;
	uint32_t id = 0;

	assert_int_equal(store_writer_open(&w, f->st, &none, err), 0);
	assert_null(store_writer_cluster(w));
	store_writer_free(w);
	assert_int_equal(store_writer_open(&w, f->st, NULL, err), 0);
	assert_null(store_writer_cluster(w));

	assert_int_equal(store_writer_ns_create(w, "team"), 0);
	assert_int_equal(store_writer_ns_create(w, "team"), -EEXIST);
	assert_non_null(strstr(store_writer_errmsg(w), "namespace \"team\" already exists"));
	for (int i = 0; i < 2; i++) {
		v[i] = store_secret_new("team", i ? "b" : "a", NULL);
		assert_non_null(v[i]);
		assert_int_equal(store_secret_add_item(v[i], "k", "v", 1), 0);
	}
	/* b breaks a rule: a is not written either */
	v[1]->revision = 7;
	assert_int_equal(store_writer_put_batch(w, v, 2, STORE_PUT_APPLY, res), -EINVAL);
	assert_non_null(strstr(store_writer_errmsg(w), "resourceVersion should not be set"));
	assert_int_equal(store_secret_stat(f->st, "team", "a", &(struct store_stat){ 0 }),
			 -ENOENT);
	/* a put fills in what it wrote, even when the batch then failed */
	v[0]->revision = v[1]->revision = 0;
	assert_int_equal(store_writer_put_batch(w, v, 2, STORE_PUT_APPLY, res), 0);
	assert_int_equal(res[0], STORE_CREATED);
	assert_int_equal(res[1], STORE_CREATED);
	check_value(f->st, "team", "b", "k", "v");
	/* a stale version: kubectl's words */
	v[0]->revision = 1;
	assert_int_equal(store_writer_put(w, v[0], STORE_PUT_REPLACE, NULL), -EAGAIN);
	assert_non_null(strstr(store_writer_errmsg(w), "Operation cannot be fulfilled on secrets \"a\""));
	store_secret_free(v[0]);
	store_secret_free(v[1]);

	assert_int_equal(store_writer_key_rotate(w, &id), 0);
	assert_int_equal(id, 2);
	assert_int_equal(store_writer_key_retire(w, 1), -EBUSY);
	assert_int_equal(store_writer_reseal(w, 1, &done, &left), 0);
	assert_int_equal(done, 1);
	assert_int_equal(left, 1);
	assert_int_equal(store_writer_reseal(w, 10, &done, &left), 0);
	assert_int_equal(done, 1);
	assert_int_equal(left, 0);
	check_value(f->st, "team", "a", "k", "v");
	assert_int_equal(store_writer_key_retire(w, 1), 0);

	assert_int_equal(store_writer_delete(w, "team", "a"), 0);
	assert_int_equal(store_writer_delete(w, "team", "a"), -ENOENT);
	assert_int_equal(store_writer_ns_delete(w, "team"), 0);
	assert_int_equal(store_secret_stat(f->st, "team", "b", &(struct store_stat){ 0 }),
			 -ENOENT);
	store_writer_free(w);
	store_writer_free(NULL);
}

/* A cluster writer's options are checked when it is opened, before etcd
 * is asked anything. */
static void test_cluster_writer_opts(void **state)
{
	struct fixture *f = *state;
	struct cluster_opts o = { .endpoints = "http://127.0.0.1:1", .prefix = "nope" };
	struct store_writer *w = NULL;
	char err[STORE_ERRMSG_MAX] = "";

	assert_int_not_equal(store_writer_open(&w, f->st, &o, err), 0);
	assert_null(w);
	assert_non_null(strstr(err, "prefix"));
	o.prefix = NULL;
	assert_int_equal(store_writer_open(&w, f->st, &o, err), 0);
	assert_non_null(store_writer_cluster(w));
	store_writer_free(w);
}

/* Apply a watch line putting namespace ns at etcd revision rev. */
static void apply_ns(struct cluster *c, struct store *st, const char *ns, int64_t rev)
{
	char key[128], k64[192], line[512];
	static const char val[] = "eyJjcmVhdGVkIjogMTc2NDQwMDAwMH0="; /* {"created": 1764400000} */

	snprintf(key, sizeof(key), "/secretfs/namespaces/%s", ns);
	sodium_bin2base64(k64, sizeof(k64), (const unsigned char *)key, strlen(key),
			  sodium_base64_VARIANT_ORIGINAL);
	snprintf(line, sizeof(line), "{\"result\": {\"header\": {\"revision\": \"%lld\"}, \"events\":"
		 " [{\"kv\": {\"key\": \"%s\", \"value\": \"%s\", \"mod_revision\": \"%lld\"}}]}}",
		 (long long)rev, k64, val, (long long)rev);
	assert_int_equal(cluster_apply_response(c, st, line, strlen(line)), 0);
}

/* Cluster mode: each applied etcd revision marks the store revision that
 * holds it, so that a watch from an etcd resourceVersion reads the change
 * log from the right place, and a change's etcd revision can be told. */
static void test_etcd_marks(void **state)
{
	struct fixture *f = *state;
	struct cluster_opts o = { .endpoints = "http://127.0.0.1:1" };
	struct cluster *c = NULL;
	char err[STORE_ERRMSG_MAX];
	struct log got = { 0 };
	int64_t r10, r12, v;

	assert_int_equal(cluster_open(&c, &o, err), 0);
	apply_ns(c, f->st, "ten", 10);
	r10 = revision(f->st);
	apply_ns(c, f->st, "twelve", 12);
	r12 = revision(f->st);
	assert_true(r12 > r10);
	/* before the mirror began: the client must list again */
	assert_int_equal(store_etcd_since(f->st, 9, &v), -ESTALE);
	assert_int_equal(store_etcd_since(f->st, 10, &v), 0);
	assert_int_equal(v, r10);
	assert_int_equal(store_etcd_since(f->st, 11, &v), 0); /* no change of ours at 11 */
	assert_int_equal(v, r10);
	assert_int_equal(store_etcd_since(f->st, 12, &v), 0);
	assert_int_equal(v, r12);
	assert_int_equal(store_etcd_since(f->st, 99, &v), 0);
	assert_int_equal(v, r12);
	/* from etcd revision 11: exactly the change made at 12 */
	assert_int_equal(store_etcd_since(f->st, 11, &v), 0);
	assert_int_equal(store_changes(f->st, v, collect, &got), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.ops[0], STORE_OP_NS_CREATE);
	assert_string_equal(got.names[0], "twelve/");
	assert_int_equal(store_etcd_at(f->st, r10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(store_etcd_at(f->st, r12, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(store_etcd_at(f->st, r12 + 1, &v), -ENOENT);
	cluster_close(c);
}

static void test_update_rules(void **state)
{
	struct fixture *f = *state;
	struct store_secret *s;
	int64_t r;

	assert_int_equal(put(f->st, "default", "tls", "kubernetes.io/tls", STORE_PUT_CREATE,
			     "tls.crt", "C", "tls.key", "K", NULL), 0);
	r = revision(f->st);
	assert_int_equal(put(f->st, "default", "tls", "Opaque", STORE_PUT_APPLY,
			     "tls.crt", "C", "tls.key", "K", NULL), -EINVAL);
	assert_string_equal(store_errmsg(f->st),
			    "secret \"tls\" in namespace \"default\": type: Invalid value: \"Opaque\": field is immutable");

	s = store_secret_new("default", "frozen", "");
	s->immutable = true;
	store_secret_add_item(s, "k", "v1", 2);
	assert_int_equal(store_secret_put(f->st, s, STORE_PUT_CREATE, NULL), 0);
	store_secret_free(s);
	r = revision(f->st);

	/* data cannot change */
	s = store_secret_new("default", "frozen", "");
	s->immutable = true;
	store_secret_add_item(s, "k", "v2", 2);
	assert_int_equal(store_secret_put(f->st, s, STORE_PUT_APPLY, NULL), -EINVAL);
	assert_non_null(strstr(store_errmsg(f->st), "data: Forbidden: field is immutable"));
	store_secret_free(s);
	/* nor can it become mutable */
	s = store_secret_new("default", "frozen", "");
	store_secret_add_item(s, "k", "v1", 2);
	assert_int_equal(store_secret_put(f->st, s, STORE_PUT_APPLY, NULL), -EINVAL);
	assert_non_null(strstr(store_errmsg(f->st), "immutable: Forbidden"));
	store_secret_free(s);
	/* labels may still change */
	s = store_secret_new("default", "frozen", "");
	s->immutable = true;
	store_secret_add_item(s, "k", "v1", 2);
	store_secret_set_label(s, "app", "web");
	assert_int_equal(store_secret_put(f->st, s, STORE_PUT_APPLY, NULL), 0);
	store_secret_free(s);
	assert_int_equal(revision(f->st), r + 1);
	check_value(f->st, "default", "frozen", "k", "v1");
}

/* kubectl's last-applied annotation, written through the store's own API
 * (as any front end would): kept with its key names only; not JSON,
 * refused with nothing written. */
static void test_last_applied_redacted(void **state)
{
	struct fixture *f = *state;
	struct store_secret *s = store_secret_new("default", "la", NULL), *got = NULL;
	int64_t rev;

	assert_non_null(s);
	assert_int_equal(store_secret_add_item(s, "k", "canary", 6), 0);
	assert_int_equal(store_secret_set_annotation(s, STORE_LAST_APPLIED,
		"{\"data\":{\"k\":\"Y2FuYXJ5\"},\"stringData\":{\"s\":\"canary\"},\"kind\":\"Secret\"}\n"), 0);
	assert_int_equal(store_secret_put(f->st, s, STORE_PUT_CREATE, NULL), 0);
	assert_int_equal(store_secret_get(f->st, "default", "la", 0, &got), 0);
	assert_int_equal(got->nannotations, 1);
	assert_string_equal(got->annotations[0].value,
		"{\"data\":{\"k\":\"***\"},\"kind\":\"Secret\",\"stringData\":{\"s\":\"***\"}}\n");
	store_secret_free(got);
	rev = revision(f->st);
	assert_int_equal(store_secret_set_annotation(s, STORE_LAST_APPLIED, "canary"), 0);
	assert_int_equal(store_secret_put(f->st, s, STORE_PUT_APPLY, NULL), -EINVAL);
	assert_non_null(strstr(store_errmsg(f->st), "must be kubectl's JSON object"));
	assert_null(strstr(store_errmsg(f->st), "canary"));
	assert_int_equal(revision(f->st), rev);
	store_secret_free(s);
}

static void test_validation_messages(void **state)
{
	struct fixture *f = *state;
	struct store_secret *s;
	uint8_t *big;
	int64_t r = revision(f->st);

	assert_int_equal(store_ns_create(f->st, "prod"), 0);
	r = revision(f->st);
	assert_int_equal(put(f->st, "prod", "db", "", STORE_PUT_CREATE, "a/b", "x", NULL),
			 -EINVAL);
	assert_string_equal(store_errmsg(f->st),
			    "secret \"db\" in namespace \"prod\": key \"a/b\": must consist of alphanumeric characters, '-', '_' or '.'");
	assert_int_equal(put(f->st, "prod", "Db", "", STORE_PUT_CREATE, NULL), -EINVAL);
	assert_int_equal(put(f->st, "Prod", "db", "", STORE_PUT_CREATE, NULL), -EINVAL);
	assert_int_equal(store_ns_create(f->st, "no_pe"), -EINVAL);

	/* exactly 1 MiB across keys is fine; one byte more is not */
	big = calloc(1, STORE_MAX_DATA_BYTES + 1);
	s = store_secret_new("prod", "big", "");
	store_secret_add_item(s, "a", big, STORE_MAX_DATA_BYTES - 10);
	store_secret_add_item(s, "b", big, 11);
	assert_int_equal(store_secret_put(f->st, s, STORE_PUT_CREATE, NULL), -EINVAL);
	assert_non_null(strstr(store_errmsg(f->st), "data: Too long"));
	store_secret_free(s);
	assert_int_equal(revision(f->st), r); /* nothing was written */
	s = store_secret_new("prod", "big", "");
	store_secret_add_item(s, "a", big, STORE_MAX_DATA_BYTES - 10);
	store_secret_add_item(s, "b", big, 10);
	assert_int_equal(store_secret_put(f->st, s, STORE_PUT_CREATE, NULL), 0);
	store_secret_free(s);
	free(big);

	/* at most STORE_MAX_KEYS keys, whoever builds the secret */
	r = revision(f->st);
	s = store_secret_new("prod", "many", "");
	for (int i = 0; i <= STORE_MAX_KEYS; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%d", i);
		assert_int_equal(store_secret_add_item(s, k, "", 0), 0);
	}
	assert_int_equal(store_secret_put(f->st, s, STORE_PUT_CREATE, NULL), -EINVAL);
	assert_string_equal(store_errmsg(f->st),
			    "secret \"many\" in namespace \"prod\": data: Too many: 4097: must have at most 4096 keys");
	assert_int_equal(revision(f->st), r);
	store_secret_free(s);
}

static void expect_bad(struct store *st, const char *ns, const char *name,
		       const char *key)
{
	uint8_t *v = (uint8_t *)"untouched";
	size_t len = 12345;
	struct store_secret *s = NULL;

	assert_int_equal(store_value_get(st, ns, name, key, &v, &len, NULL), -EBADMSG);
	assert_string_equal((const char *)v, "untouched"); /* nothing handed out */
	assert_int_equal(len, 12345);
	assert_non_null(strstr(store_errmsg(st), "failed authentication"));
	assert_int_equal(store_secret_get(st, ns, name, STORE_WITH_VALUES, &s), -EBADMSG);
	assert_null(s);
}

/* Change the byte at pos (1-based, SQL expression) of secret name's blobs. */
static void flip(const struct fixture *f, const char *name, const char *pos)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "UPDATE items SET blob = substr(blob, 1, (%s) - 1) ||"
		 " CASE WHEN substr(blob, %s, 1) = X'00' THEN X'01' ELSE X'00' END ||"
		 " substr(blob, (%s) + 1)"
		 " WHERE secret_id = (SELECT id FROM secrets WHERE name = '%s')",
		 pos, pos, pos, name);
	raw_sql(f, sql);
}

static void test_tamper_flip(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(put(f->st, "default", "a", "", STORE_PUT_CREATE, "k", "alpha-value", NULL), 0);
	assert_int_equal(put(f->st, "default", "b", "", STORE_PUT_CREATE, "k", "bravo-value", NULL), 0);
	check_value(f->st, "default", "a", "k", "alpha-value");
	flip(f, "a", "30"); /* format(1) + nonce(24): byte 30 is ciphertext */
	expect_bad(f->st, "default", "a", "k");
	check_value(f->st, "default", "b", "k", "bravo-value"); /* others still read */
}

static void test_tamper_nonce_tag_length(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(put(f->st, "default", "n", "", STORE_PUT_CREATE, "k", "value", NULL), 0);
	flip(f, "n", "2"); /* nonce */
	expect_bad(f->st, "default", "n", "k");
	assert_int_equal(put(f->st, "default", "t", "", STORE_PUT_CREATE, "k", "value", NULL), 0);
	flip(f, "t", "length(blob)"); /* tag */
	expect_bad(f->st, "default", "t", "k");
	assert_int_equal(put(f->st, "default", "v", "", STORE_PUT_CREATE, "k", "value", NULL), 0);
	flip(f, "v", "1"); /* format byte */
	expect_bad(f->st, "default", "v", "k");
	assert_int_equal(put(f->st, "default", "u", "", STORE_PUT_CREATE, "k", "value", NULL), 0);
	raw_sql(f, "UPDATE items SET blob = substr(blob, 1, 10)"
		   " WHERE secret_id = (SELECT id FROM secrets WHERE name = 'u')");
	expect_bad(f->st, "default", "u", "k"); /* truncated */
	assert_int_equal(put(f->st, "default", "w", "", STORE_PUT_CREATE, "k", "value", NULL), 0);
	raw_sql(f, "UPDATE items SET blob = blob || zeroblob(16)"
		   " WHERE secret_id = (SELECT id FROM secrets WHERE name = 'w')");
	expect_bad(f->st, "default", "w", "k"); /* oversized */
}

static void test_tamper_moved(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(put(f->st, "default", "a", "", STORE_PUT_CREATE, "k", "alpha", NULL), 0);
	assert_int_equal(put(f->st, "default", "b", "", STORE_PUT_CREATE, "k", "bravo", "j", "juliet", NULL), 0);
	/* a's ciphertext copied over b's: a valid blob in the wrong place */
	raw_sql(f, "UPDATE items SET blob = (SELECT i.blob FROM items i JOIN secrets s"
		   " ON s.id = i.secret_id WHERE s.name = 'a' AND i.key = 'k')"
		   " WHERE key = 'k' AND secret_id = (SELECT id FROM secrets WHERE name = 'b')");
	expect_bad(f->st, "default", "b", "k");
	check_value(f->st, "default", "a", "k", "alpha");
}

/* A reader opened from a handle: its file and master key, its own
 * connection; sees later commits and keys, checks every value, never writes. */
static void test_open_reader(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRMSG_MAX];
	struct store *r = NULL;
	uint32_t id = 0;

	assert_int_equal(put(f->st, "default", "a", "", STORE_PUT_CREATE, "k", "alpha", NULL), 0);
	assert_int_equal(store_open_reader(&r, f->st, err), 0);
	check_value(r, "default", "a", "k", "alpha");
	/* a key rotated and used after the reader opened is unwrapped on use */
	assert_int_equal(store_key_rotate(f->st, &id), 0);
	assert_int_equal(put(f->st, "default", "b", "", STORE_PUT_CREATE, "k", "bravo", NULL), 0);
	check_value(r, "default", "b", "k", "bravo");
	assert_int_equal(revision(r), revision(f->st));
	flip(f, "b", "30");
	expect_bad(r, "default", "b", "k");
	assert_int_not_equal(put(r, "default", "c", "", STORE_PUT_CREATE, "k", "c", NULL), 0);
	store_close(r);
	check_value(f->st, "default", "a", "k", "alpha"); /* the original is untouched */
}

static void test_tamper_rollback(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(put(f->st, "default", "r", "", STORE_PUT_CREATE, "k", "old-value", NULL), 0);
	raw_sql(f, "CREATE TABLE saved AS SELECT i.blob FROM items i JOIN secrets s"
		   " ON s.id = i.secret_id WHERE s.name = 'r'");
	assert_int_equal(put(f->st, "default", "r", "", STORE_PUT_APPLY, "k", "new-value", NULL), 0);
	check_value(f->st, "default", "r", "k", "new-value");
	/* put generation 1's ciphertext back under generation 2 */
	raw_sql(f, "UPDATE items SET blob = (SELECT blob FROM saved)"
		   " WHERE secret_id = (SELECT id FROM secrets WHERE name = 'r')");
	expect_bad(f->st, "default", "r", "k");
}

/* Put a secret with one label and one annotation. */
static void put_labelled(struct store *st, const char *name, bool immutable)
{
	struct store_secret *s = store_secret_new("default", name, "");

	assert_non_null(s);
	assert_int_equal(store_secret_add_item(s, "k", "value-k", 7), 0);
	assert_int_equal(store_secret_add_item(s, "j", "value-j", 7), 0);
	assert_int_equal(store_secret_set_label(s, "tier", "web"), 0);
	assert_int_equal(store_secret_set_annotation(s, "note", "n"), 0);
	s->immutable = immutable;
	assert_int_equal(store_secret_put(st, s, STORE_PUT_CREATE, NULL), 0);
	store_secret_free(s);
}

static void expect_meta_bad(struct store *st, const char *name)
{
	struct store_secret *s = NULL, **v = NULL;
	struct store_stat stat;
	uint8_t *val = NULL;
	size_t len = 0, n = 0;

	assert_int_equal(store_secret_get(st, "default", name, 0, &s), -EBADMSG);
	assert_null(s);
	assert_non_null(strstr(store_errmsg(st), "failed authentication"));
	assert_non_null(strstr(store_errmsg(st), name));
	assert_int_equal(store_secret_stat(st, "default", name, &stat), -EBADMSG);
	assert_int_equal(store_key_stat(st, "default", name, "k", &stat), -EBADMSG);
	assert_int_equal(store_value_get(st, "default", name, "k", &val, &len, &stat), -EBADMSG);
	assert_null(val);
	assert_int_equal(store_secret_list(st, "default", &v, &n), -EBADMSG);
}

/* What the mount and the rules act on, changed in the file, fails as a
 * changed value does; a handle that verified the secret before notices. */
static void test_tamper_metadata(void **state)
{
	static const char *const cases[][2] = {
		{ "size", "UPDATE items SET size = 3 WHERE key = 'k' AND secret_id = %s" },
		{ "mutable", "UPDATE secrets SET immutable = 0 WHERE id = %s" },
		{ "type", "UPDATE secrets SET type = 'x.io/y' WHERE id = %s" },
		{ "expires", "UPDATE secrets SET expires = 1 WHERE id = %s" },
		{ "generation", "UPDATE secrets SET generation = generation + 1 WHERE id = %s" },
		{ "label", "UPDATE pairs SET value = 'db' WHERE kind = 0 AND secret_id = %s" },
		{ "label-added", "INSERT INTO pairs VALUES (%s, 0, 'extra', '')" },
		{ "annotation", "DELETE FROM pairs WHERE kind = 1 AND secret_id = %s" },
		{ "key-gone", "DELETE FROM items WHERE key = 'j' AND secret_id = %s" },
		{ "untagged", "UPDATE secrets SET meta_tag = NULL WHERE id = %s" },
	};
	struct fixture *f = *state;
	char sql[256], id[96];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct store_secret *s = NULL;
		struct store_stat stat;

		put_labelled(f->st, cases[i][0], strcmp(cases[i][0], "mutable") == 0);
		/* read once: the handle remembers it verified */
		check_value(f->st, "default", cases[i][0], "k", "value-k");
		assert_int_equal(store_key_stat(f->st, "default", cases[i][0], "k", &stat), 0);
		assert_int_equal(stat.size, 7);
		snprintf(id, sizeof(id), "(SELECT id FROM secrets WHERE name = '%s')", cases[i][0]);
		snprintf(sql, sizeof(sql), cases[i][1], id);
		raw_sql(f, sql);
		expect_meta_bad(f->st, cases[i][0]);
		/* nor does a write act on it */
		assert_int_equal(put(f->st, "default", cases[i][0], "", STORE_PUT_APPLY,
				     "k", "other", NULL), -EBADMSG);
		assert_int_equal(store_secret_delete(f->st, "default", cases[i][0]), 0);
		assert_int_equal(store_secret_get(f->st, "default", cases[i][0], 0, &s), -ENOENT);
	}
}

/* A missing tag is never filled in again: a store upgraded once (its key
 * ring says so) refuses, whoever opens it next. */
static void test_tag_not_recomputed(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRMSG_MAX];
	struct store *st = NULL;

	put_labelled(f->st, "a", false);
	raw_sql(f, "UPDATE secrets SET meta_tag = NULL, immutable = 1 WHERE name = 'a'");
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(&st, f->db, f->key, 0, err), 0);
	f->st = st;
	expect_meta_bad(f->st, "a");
}

/* Labels and annotations are kept sorted whatever order they come in, and
 * the last value set wins. */
static void test_pairs_sorted(void **state)
{
	static const char *const keys[] = { "m", "c", "x", "a", "c", "z", "b" };
	struct store_secret *s = store_secret_new("default", "p", ""), *got = NULL;
	struct fixture *f = *state;

	(void)f;
	assert_non_null(s);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(store_secret_set_label(s, keys[i], keys[i][0] == 'c' && i == 4 ?
							"second" : "first"), 0);
	assert_int_equal(s->nlabels, 6);
	for (size_t i = 1; i < s->nlabels; i++)
		assert_true(strcmp(s->labels[i - 1].key, s->labels[i].key) < 0);
	assert_string_equal(s->labels[2].value, "second");
	assert_true(store_secret_remove_label(s, "m"));
	assert_false(store_secret_remove_label(s, "m"));
	assert_int_equal(s->nlabels, 5);
	assert_int_equal(store_secret_put(f->st, s, STORE_PUT_CREATE, NULL), 0);
	assert_int_equal(store_secret_get(f->st, "default", "p", 0, &got), 0);
	assert_int_equal(got->nlabels, 5);
	assert_string_equal(got->labels[0].key, "a");
	assert_string_equal(got->labels[4].key, "z");
	store_secret_free(got);
	store_secret_free(s);
}

/* The whole object is limited as etcd limits it: 1.5 MiB. */
static void test_object_size_limit(void **state)
{
	struct fixture *f = *state;
	struct store_secret *s = store_secret_new("default", "big", "");
	char key[32];
	int64_t before = revision(f->st);

	assert_non_null(s);
	/* 20 bytes a label: 80,000 of them pass the per-label rules and no
	 * annotations limit, but not the object's */
	for (int i = 0; i < 80000; i++) {
		snprintf(key, sizeof(key), "k%09d", i);
		assert_int_equal(store_secret_set_label(s, key, "value-0123"), 0);
	}
	assert_int_equal(store_secret_put(f->st, s, STORE_PUT_CREATE, NULL), -EINVAL);
	assert_non_null(strstr(store_errmsg(f->st), "secret \"big\" in namespace \"default\": etcdserver: request is too large"));
	assert_int_equal(revision(f->st), before);
	/* and just under it does */
	for (int i = 0; i < 8000; i++) {
		snprintf(key, sizeof(key), "k%09d", i);
		assert_true(store_secret_remove_label(s, key));
	}
	assert_int_equal(store_secret_put(f->st, s, STORE_PUT_CREATE, NULL), 0);
	store_secret_free(s);
}

static void test_no_plaintext_in_file(void **state)
{
	struct fixture *f = *state;
	const char *canary = "CANARY-7f3a9c-plaintext-must-not-leak";
	char path[160];
	FILE *fp;
	char *buf;
	long n;

	assert_int_equal(put(f->st, "default", "c", "", STORE_PUT_CREATE, "k", canary, NULL), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s%s", f->db, i ? "-wal" : "");
		fp = fopen(path, "rb");
		if (!fp)
			continue;
		fseek(fp, 0, SEEK_END);
		n = ftell(fp);
		rewind(fp);
		buf = malloc((size_t)n + 1);
		assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
		fclose(fp);
		assert_null(memmem(buf, (size_t)n, canary, strlen(canary)));
		free(buf);
	}
}

static void test_batch(void **state)
{
	struct fixture *f = *state;
	struct store_stat st;
	int64_t r0 = revision(f->st);

	assert_int_equal(store_batch_begin(f->st), 0);
	assert_int_equal(store_batch_begin(f->st), -EBUSY);
	assert_int_equal(put(f->st, "default", "a", "", STORE_PUT_CREATE, "k", "1", NULL), 0);
	/* a failing write in a batch fails alone */
	assert_int_equal(put(f->st, "default", "a", "", STORE_PUT_CREATE, "k", "2", NULL), -EEXIST);
	assert_int_equal(put(f->st, "default", "b", "", STORE_PUT_CREATE, "k", "3", NULL), 0);
	store_batch_rollback(f->st);
	assert_int_equal(store_secret_stat(f->st, "default", "a", &st), -ENOENT);
	assert_int_equal(revision(f->st), r0);

	assert_int_equal(store_batch_begin(f->st), 0);
	assert_int_equal(put(f->st, "default", "a", "", STORE_PUT_CREATE, "k", "1", NULL), 0);
	assert_int_equal(put(f->st, "default", "a", "", STORE_PUT_CREATE, "k", "2", NULL), -EEXIST);
	assert_int_equal(put(f->st, "default", "b", "", STORE_PUT_CREATE, "k", "3", NULL), 0);
	assert_int_equal(store_batch_commit(f->st), 0);
	check_value(f->st, "default", "a", "k", "1");
	check_value(f->st, "default", "b", "k", "3");
	assert_int_equal(revision(f->st), r0 + 2);
	assert_int_equal(store_batch_commit(f->st), -EINVAL);
}

static int count_change(void *ctx, const struct store_change *c)
{
	(void)c;
	++*(int64_t *)ctx;
	return 0;
}

struct seen_events {
	int64_t rev[8], seq[8];
	char ns[8][16];
	size_t n;
};

static int seen_event(void *ctx, const struct store_event *ev)
{
	struct seen_events *s = ctx;

	assert_true(s->n < 8);
	s->rev[s->n] = ev->revision;
	s->seq[s->n] = ev->seq;
	snprintf(s->ns[s->n], sizeof(s->ns[0]), "%s", ev->namespace);
	s->n++;
	return 0;
}

/* Each event takes a store revision (schema 7) that a watch follows with
 * store_events_since(); seq is its place in its namespace; the secrets'
 * change log does not show events. */
static void test_event_revisions(void **state)
{
	struct fixture *f = *state;
	struct seen_events s = { 0 };
	int64_t r0, r1, n = 0;

	assert_int_equal(store_revision(f->st, &r0), 0);
	assert_int_equal(store_event_add(f->st, "Normal", "A", "default", "secret/a", "one"), 0);
	assert_int_equal(store_event_add(f->st, "Warning", "B", "other", "secret/b", "two"), 0);
	assert_int_equal(store_event_add(f->st, "Normal", "C", "default", "secret/c", "three"), 0);
	assert_int_equal(store_revision(f->st, &r1), 0);
	assert_int_equal(r1, r0 + 3);
	assert_int_equal(store_events_since(f->st, r0 + 1, seen_event, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.rev[0], r0 + 2);
	assert_string_equal(s.ns[0], "other");
	assert_int_equal(s.seq[0], 0);
	assert_int_equal(s.rev[1], r0 + 3);
	assert_string_equal(s.ns[1], "default");
	assert_int_equal(s.seq[1], 1); /* the second in default */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_events(f->st, NULL, seen_event, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.seq[0] + s.seq[1] + s.seq[2], 1); /* 0, 0, 1 */
	assert_int_equal(store_changes(f->st, r0, count_change, &n), 0);
	assert_int_equal(n, 0);
}

/* A store of schema 6 (events without revisions) is brought to 7: its
 * events keep revision 0, older than any resourceVersion. */
static void test_event_migration(void **state)
{
	struct fixture *f = *state;
	struct seen_events s = { 0 };
	char err[STORE_ERRMSG_MAX];

	store_close(f->st);
	f->st = NULL;
	raw_sql(f, "DROP INDEX events_by_revision; ALTER TABLE events DROP COLUMN revision;"
		   " INSERT INTO events(time, type, reason, namespace, object, message)"
		   " VALUES (1, 'Normal', 'Old', 'default', 'secret/x', 'old');"
		   " PRAGMA user_version = 6;");
	assert_int_equal(store_open(&f->st, f->db, f->key, 0, err), 0);
	assert_int_equal(store_events_since(f->st, 0, seen_event, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(store_events(f->st, "default", seen_event, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.rev[0], 0);
	assert_int_equal(store_event_add(f->st, "Normal", "New", "default", "secret/x", "new"), 0);
	assert_int_equal(store_events_since(f->st, 0, seen_event, &s), 0);
	assert_int_equal(s.n, 2);
	assert_true(s.rev[1] > 0);
	assert_int_equal(s.seq[1], 1);
}

static void test_revision_never_repeats(void **state)
{
	struct fixture *f = *state;
	struct store_stat a, b;

	assert_int_equal(put(f->st, "default", "x", "", STORE_PUT_CREATE, "k", "1", NULL), 0);
	assert_int_equal(store_secret_stat(f->st, "default", "x", &a), 0);
	assert_int_equal(store_secret_delete(f->st, "default", "x"), 0);
	assert_int_equal(put(f->st, "default", "x", "", STORE_PUT_CREATE, "k", "2", NULL), 0);
	assert_int_equal(store_secret_stat(f->st, "default", "x", &b), 0);
	assert_int_equal(a.generation, b.generation); /* both 1 */
	assert_true(b.revision > a.revision);
}

/* One row of the type table: a secret of TYPE with pairs "k=v" (or
 * "@annotation=v"), and the error expected ("" for none). */
struct type_case {
	const char *name, *type;
	const char *pairs[4];
	const char *want;
};

static void test_types(void **state)
{
	struct fixture *f = *state;
	static const struct type_case cases[] = {
		{ "o1", "", { "k=v" }, "" },
		{ "o2", "example.com/anything", { NULL }, "" },
		{ "t1", "kubernetes.io/tls", { "tls.crt=C", "tls.key=K" }, "" },
		{ "t2", "kubernetes.io/tls", { "tls.crt=C" },
		  "Secret \"t2\" is invalid: data[tls.key]: Required value" },
		{ "t3", "kubernetes.io/tls", { NULL },
		  "Secret \"t3\" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]" },
		{ "b1", "kubernetes.io/basic-auth", { "password=" }, "" },
		{ "b2", "kubernetes.io/basic-auth", { "user=x" },
		  "Secret \"b2\" is invalid: [data[username]: Required value, data[password]: Required value]" },
		{ "s1", "kubernetes.io/ssh-auth", { "ssh-privatekey=K" }, "" },
		{ "s2", "kubernetes.io/ssh-auth", { "ssh-privatekey=" },
		  "Secret \"s2\" is invalid: data[ssh-privatekey]: Required value" },
		{ "d1", "kubernetes.io/dockerconfigjson", { ".dockerconfigjson={\"auths\":{}}" }, "" },
		{ "d2", "kubernetes.io/dockerconfigjson", { ".dockerconfigjson=[1]" },
		  "Secret \"d2\" is invalid: data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": not a JSON object" },
		{ "d3", "kubernetes.io/dockercfg", { ".dockercfg={nope" },
		  "Secret \"d3\" is invalid: data[.dockercfg]: Invalid value: \"<secret contents redacted>\": not valid JSON" },
		{ "d4", "kubernetes.io/dockercfg", { NULL },
		  "Secret \"d4\" is invalid: data[.dockercfg]: Required value" },
		{ "a1", "kubernetes.io/service-account-token", { "@kubernetes.io/service-account.name=builder" }, "" },
		{ "a2", "kubernetes.io/service-account-token", { NULL },
		  "Secret \"a2\" is invalid: metadata.annotations[kubernetes.io/service-account.name]: Required value" },
		{ "bootstrap-token-abc123", "bootstrap.kubernetes.io/token",
		  { "token-id=abc123", "token-secret=0123456789abcdef", "expiration=2030-01-02T03:04:05Z" }, "" },
		{ "bootstrap-token-abc124", "bootstrap.kubernetes.io/token",
		  { "token-id=abc123", "token-secret=0123456789ABCDEF", "expiration=tomorrow" },
		  "Secret \"bootstrap-token-abc124\" is invalid: [metadata.name: Invalid value: \"bootstrap-token-abc124\": must be bootstrap-token-<token-id>, data[token-secret]: Invalid value: must be 16 characters of [a-z0-9], data[expiration]: Invalid value: must be an RFC 3339 time]" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct type_case *c = &cases[i];
		struct store_secret *s = store_secret_new("default", c->name, c->type);
		int ret;

		for (int j = 0; j < 4 && c->pairs[j]; j++) {
			const char *eq = strchr(c->pairs[j], '=');
			char key[64];

			snprintf(key, sizeof(key), "%.*s", (int)(eq - c->pairs[j]), c->pairs[j]);
			if (key[0] == '@')
				store_secret_set_annotation(s, key + 1, eq + 1);
			else
				store_secret_add_item(s, key, eq + 1, strlen(eq + 1));
		}
		ret = store_secret_put(f->st, s, STORE_PUT_CREATE, NULL);
		if (c->want[0] == '\0' && ret != 0)
			fail_msg("%s: %s", c->name, store_errmsg(f->st));
		if (c->want[0] != '\0') {
			assert_int_equal(ret, -EINVAL);
			if (strcmp(store_errmsg(f->st), c->want) != 0)
				fail_msg("%s:\n got  %s\n want %s", c->name, store_errmsg(f->st), c->want);
		}
		store_secret_free(s);
	}
	/* the service-account token got its token, which stays on update */
	{
		struct store_secret *s = NULL, *u;
		char token[128];

		assert_int_equal(store_secret_get(f->st, "default", "a1", STORE_WITH_VALUES, &s), 0);
		assert_int_equal(s->nitems, 1);
		assert_string_equal(s->items[0].key, "token");
		assert_true(s->items[0].len >= 40);
		snprintf(token, sizeof(token), "%.*s", (int)s->items[0].len, s->items[0].value);
		store_secret_free(s);
		u = store_secret_new("default", "a1", "kubernetes.io/service-account-token");
		store_secret_set_annotation(u, "kubernetes.io/service-account.name", "builder");
		store_secret_set_label(u, "new", "label");
		assert_int_equal(store_secret_put(f->st, u, STORE_PUT_APPLY, NULL), 0);
		store_secret_free(u);
		check_value(f->st, "default", "a1", "token", token);
	}
}

/* A database whose UUID changed under an open handle (another store
 * restored in place) is told apart from the one the handle opened. */
static void test_check_identity(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;

	assert_int_equal(store_check_identity(f->st), 0);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = randomblob(16) WHERE key = 'uuid'",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_check_identity(f->st), -ESTALE);
	assert_non_null(strstr(store_errmsg(f->st), "another store's"));
}

/* What a walk's visitor saw, as "ns/name=value ..." (value "-" when none
 * was read); it stops the walk (returning stop_with) after stop_after. */
struct walked {
	char seen[512];
	int n, stop_after, stop_with;
	char last_ns[64], last_name[256];
};

static int walk_one(void *ctx, const struct store_secret *s)
{
	struct walked *w = ctx;
	size_t len = strlen(w->seen);

	assert_int_equal(s->nitems, 1);
	snprintf(w->seen + len, sizeof(w->seen) - len, "%s%s/%s=%.*s", len ? " " : "",
		 s->namespace, s->name, s->items[0].value ? (int)s->items[0].len : 1,
		 s->items[0].value ? (const char *)s->items[0].value : "-");
	snprintf(w->last_ns, sizeof(w->last_ns), "%s", s->namespace);
	snprintf(w->last_name, sizeof(w->last_name), "%s", s->name);
	return ++w->n == w->stop_after ? w->stop_with : 0;
}

static const char *walked(struct store *st, const char *ns, const char *after_ns,
			  const char *after_name, unsigned flags, int want)
{
	static struct walked w;

	w = (struct walked){ .stop_with = 0 };
	assert_int_equal(store_secret_walk(st, ns, after_ns, after_name, flags, walk_one, &w), want);
	return w.seen;
}

/* store_secret_walk: list order across namespaces, resumed after any key
 * (one that no longer exists too), values only when asked, stopped by the
 * visitor, and every row's tag checked as a list checks it. */
static void test_secret_walk(void **state)
{
	struct fixture *f = *state;
	struct walked w = { .stop_after = 1, .stop_with = 7 };
	char all[512] = "";

	assert_int_equal(store_ns_create(f->st, "a"), 0);
	assert_int_equal(store_ns_create(f->st, "c"), 0);
	assert_int_equal(put(f->st, "c", "p", "", STORE_PUT_CREATE, "k", "vp", NULL), 0);
	assert_int_equal(put(f->st, "a", "y", "", STORE_PUT_CREATE, "k", "vy", NULL), 0);
	assert_int_equal(put(f->st, "default", "d2", "", STORE_PUT_CREATE, "k", "v2", NULL), 0);
	assert_int_equal(put(f->st, "a", "x", "", STORE_PUT_CREATE, "k", "vx", NULL), 0);
	assert_int_equal(put(f->st, "default", "d1", "", STORE_PUT_CREATE, "k", "v1", NULL), 0);

	assert_string_equal(walked(f->st, NULL, NULL, NULL, STORE_WITH_VALUES, 0),
			    "a/x=vx a/y=vy c/p=vp default/d1=v1 default/d2=v2");
	assert_string_equal(walked(f->st, NULL, NULL, NULL, 0, 0),
			    "a/x=- a/y=- c/p=- default/d1=- default/d2=-");
	assert_string_equal(walked(f->st, NULL, "a", "x", 0, 0),
			    "a/y=- c/p=- default/d1=- default/d2=-");
	assert_string_equal(walked(f->st, NULL, "a", "y", 0, 0), "c/p=- default/d1=- default/d2=-");
	/* a key of a namespace or a secret that is not there */
	assert_string_equal(walked(f->st, NULL, "b", "zz", 0, 0), "c/p=- default/d1=- default/d2=-");
	assert_string_equal(walked(f->st, NULL, "default", "d0", 0, 0), "default/d1=- default/d2=-");
	assert_string_equal(walked(f->st, NULL, "default", "d2", 0, 0), "");
	/* one namespace: a key before it, in it, after it */
	assert_string_equal(walked(f->st, "default", NULL, NULL, STORE_WITH_VALUES, 0),
			    "default/d1=v1 default/d2=v2");
	assert_string_equal(walked(f->st, "default", "a", "x", 0, 0), "default/d1=- default/d2=-");
	assert_string_equal(walked(f->st, "default", "default", "d1", 0, 0), "default/d2=-");
	assert_string_equal(walked(f->st, "a", "c", "a", 0, 0), "");
	assert_string_equal(walked(f->st, "gone", NULL, NULL, 0, 0), "");

	/* stopped after each secret and resumed after it: the whole list */
	assert_int_equal(store_secret_walk(f->st, NULL, NULL, NULL, STORE_WITH_VALUES, walk_one, &w), 7);
	for (;;) {
		size_t len = strlen(all);
		int ret;

		snprintf(all + len, sizeof(all) - len, "%s%s", len ? " " : "", w.seen);
		w.seen[0] = '\0';
		w.n = 0;
		ret = store_secret_walk(f->st, NULL, w.last_ns, w.last_name, STORE_WITH_VALUES,
					walk_one, &w);
		if (!ret)
			break;
		assert_int_equal(ret, 7);
	}
	assert_string_equal(all, "a/x=vx a/y=vy c/p=vp default/d1=v1 default/d2=v2");

	/* a row whose tag fails stops the walk there, before its visit */
	raw_sql(f, "UPDATE secrets SET type = 'kubernetes.io/tls' WHERE name = 'p'");
	assert_string_equal(walked(f->st, NULL, NULL, NULL, 0, -EBADMSG), "a/x=- a/y=-");
	assert_non_null(strstr(store_errmsg(f->st), "failed authentication"));
	assert_string_equal(walked(f->st, NULL, "c", "p", 0, 0), "default/d1=- default/d2=-");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_refuses_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_file_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crud_and_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cluster_writer_opts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_etcd_marks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_applied_redacted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validation_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_flip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_nonce_tag_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tag_not_recomputed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pairs_sorted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_object_size_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_plaintext_in_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revision_never_repeats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_revisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_migration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_walk, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
