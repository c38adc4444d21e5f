/* fuzz_mirror - what a node takes from etcd: any line of a watch's stream
 * (keys and records base64, records JSON) applied to a real store, as the
 * follower applies it.  Anyone who can write under the prefix can send one,
 * so besides never crashing:
 *   - a response that fails leaves the store exactly as it was (its
 *     revision and its etcd revision);
 *   - whatever was applied obeys the Kubernetes naming rules, labels too.
 * The store is made afresh every few thousand inputs, so it stays small. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/cluster.h"
#include "store/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/dev/shm/fuzz-mirror.XXXXXX";
static char db[64], key[64];
static struct store *st;
static struct cluster *cl;
static unsigned long runs;

static void die(const char *what, const char *why)
{
	fprintf(stderr, "fuzz_mirror: %s: %s\n", what, why);
	abort();
}

static void remove_store(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char f[80];

	store_close(st);
	st = NULL;
	for (size_t i = 0; i < sizeof(suffix) / sizeof(*suffix); i++) {
		snprintf(f, sizeof(f), "%s%s", db, suffix[i]);
		unlink(f);
	}
	unlink(key);
}

static void cleanup(void)
{
	remove_store();
	cluster_close(cl);
	rmdir(dir);
}

static void fresh_store(void)
{
	char err[STORE_ERRMSG_MAX];

	remove_store();
	if (store_create(db, key, err) || store_open(&st, db, key, 0, err))
		die("store", err);
}

static int64_t revision(int64_t *etcd)
{
	int64_t r;

	if (store_revision(st, &r) || store_etcd_revision(st, etcd))
		die("revision", store_errmsg(st));
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_secret **v = NULL;
	char why[STORE_ERRMSG_MAX];
	int64_t r0, e0, r1, e1;
	size_t n = 0;
	int err;

	if (!cl) {
		struct cluster_opts o = { .endpoints = "http://127.0.0.1:9" };

		if (!mkdtemp(dir))
			die("mkdtemp", dir);
		snprintf(db, sizeof(db), "%s/store.db", dir);
		snprintf(key, sizeof(key), "%s/master.key", dir);
		if (cluster_open(&cl, &o, why))
			die("cluster", why);
		atexit(cleanup);
	}
	if (runs++ % 4096 == 0)
		fresh_store();
	/* every input starts from etcd revision 0, so none is skipped as old */
	if (sqlite3_exec(st->db, "UPDATE meta SET value = 0 WHERE key = 'etcd_revision'",
			 NULL, NULL, NULL) != SQLITE_OK)
		die("reset", sqlite3_errmsg(st->db));
	r0 = revision(&e0);
	err = cluster_apply_response(cl, st, (const char *)data, size);
	r1 = revision(&e1);
	if (err && (r1 != r0 || e1 != e0))
		die("a failed response changed the store", cluster_errmsg(cl));
	if (store_secret_list(st, NULL, &v, &n))
		die("list", store_errmsg(st));
	for (size_t i = 0; i < n; i++) {
		if (store_check_namespace(v[i]->namespace, why) ||
		    store_check_name(v[i]->name, why))
			die("a name Kubernetes refuses was applied", why);
		for (size_t l = 0; l < v[i]->nlabels; l++)
			if (store_check_label_key(v[i]->labels[l].key, why) ||
			    store_check_label_value(v[i]->labels[l].value, why))
				die("a label Kubernetes refuses was applied", why);
	}
	store_secret_list_free(v, n);
	return 0;
}
