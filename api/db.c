/*
 * db.c - a store handle and a store writer per thread: a struct store is
 * not thread-safe, and MHD's pool threads each serve many connections, so
 * each thread opens its own on first use (SQLite in WAL mode lets them read
 * at once; the writer serialises writes as it does for secretctl).  The
 * handles are kept in a list so that the server closes them, wiping their
 * keys, after its threads stopped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "store/cluster.h"

static pthread_mutex_t dbs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct api_db_node {
	struct api_db db;
	struct api_db_node *next;
} *dbs; /* protected by dbs_lock */

static __thread struct api_db *mine;

int api_db_get(struct api_server *srv, struct api_db **out, char *err, size_t errlen)
{
	struct api_db_node *n;
	char why[STORE_ERRMSG_MAX];

	if (mine) {
		*out = mine;
		return 0;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	if (store_open(&n->db.st, srv->cfg.store_path, srv->cfg.key_file, 0, why)) {
		snprintf(err, errlen, "the store is not available: %s", why);
		free(n);
		return -EIO;
	}
	store_set_max_per_namespace(n->db.st, srv->cfg.max_secrets_per_namespace);
	/* one handle per server thread: a walk of 10,000 secrets would fill
	 * SQLite's default 2 MiB in each (the bound is 32 MiB) */
	store_set_cache_kib(n->db.st, 256);
	if (store_writer_open(&n->db.w, n->db.st, &srv->cfg.cluster, why)) {
		snprintf(err, errlen, "the store is not available: %s", why);
		store_close(n->db.st);
		free(n);
		return -EIO;
	}
	pthread_mutex_lock(&dbs_lock);
	n->next = dbs;
	dbs = n;
	pthread_mutex_unlock(&dbs_lock);
	mine = &n->db;
	*out = mine;
	return 0;
}

void api_db_close_all(void)
{
	pthread_mutex_lock(&dbs_lock);
	while (dbs) {
		struct api_db_node *n = dbs;

		dbs = n->next;
		api_authz_release(&n->db);
		store_writer_free(n->db.w);
		store_close(n->db.st);
		free(n);
	}
	pthread_mutex_unlock(&dbs_lock);
}

int api_db_revision(struct api_db *db, int64_t *out)
{
	int64_t rev = 0;

	if (store_writer_cluster(db->w) && store_etcd_revision(db->st, &rev) == 0 && rev > 0) {
		*out = rev;
		return 0;
	}
	return store_revision(db->st, out);
}
