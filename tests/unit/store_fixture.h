/*
 * store_fixture.h - the cmocka fixture of the store's unit tests: a new
 * store (store_create + store_open) in its own folder under /tmp, removed
 * with everything in it by the teardown; raw_sql() runs SQL on the file
 * directly, as an attacker with the database would.  Included by one test
 * file each (the functions are static), after cmocka.h and store/store.h.
 */
#ifndef SECRETFS_TESTS_STORE_FIXTURE_H
#define SECRETFS_TESTS_STORE_FIXTURE_H

#include <sqlite3.h>

struct fixture {
	char dir[64], db[128], key[128];
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[STORE_ERRMSG_MAX];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/secretfs-unit-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/store.db", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/master.key", f->dir);
	if (store_create(f->db, f->key, err) || store_open(&f->st, f->db, f->key, 0, err)) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void raw_sql(const struct fixture *f, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("sql failed: %s: %s", sql, msg);
	sqlite3_close(db);
}

#endif
