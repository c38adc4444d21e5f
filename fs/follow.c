/*
 * follow.c - cluster mode: the thread that keeps this node's store a copy
 * of etcd's prefix (store/cluster.h), so that the mounts serve what etcd
 * holds, milliseconds after a write on any node.
 *
 * It catches up (cluster_sync: everything changed since the store's etcd
 * revision, read through the leader), then watches from the next revision
 * (cluster_follow), each batch one SQLite transaction; the watcher
 * (watch.c) then sees those commits as it sees any and invalidates what the
 * kernel caches.  When the watch ends (an endpoint died, lost its leader,
 * or etcd compacted past us) it catches up again, from the next endpoint;
 * while no endpoint answers, the mounts go on serving the node's copy and
 * the thread retries, 100 ms doubling to 2 s apart.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs.h"

#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS   2000

struct follower {
	struct fs *fs;
	struct store *st;       /* its own read-write handle */
	struct cluster *cl;
	atomic_int stop;
	pthread_t thread;
	bool running;
};

static struct follower follower;
static _Atomic int64_t applied_rev;
static atomic_bool connected;
/* the endpoint in use, as the follower thread last saw it (the cluster
 * handle is that thread's alone) */
static pthread_mutex_t endpoint_lock = PTHREAD_MUTEX_INITIALIZER;
static char endpoint[256];

int64_t follow_revision(bool *up)
{
	if (up)
		*up = atomic_load(&connected);
	return atomic_load(&applied_rev);
}

bool follow_endpoint(char *out, size_t len)
{
	pthread_mutex_lock(&endpoint_lock);
	snprintf(out, len, "%s", endpoint);
	pthread_mutex_unlock(&endpoint_lock);
	return out[0] != '\0';
}

/* From the follower's own thread (or before it starts). */
static void publish_endpoint(void)
{
	pthread_mutex_lock(&endpoint_lock);
	snprintf(endpoint, sizeof(endpoint), "%s", cluster_endpoint(follower.cl));
	pthread_mutex_unlock(&endpoint_lock);
}

static void nap(int ms)
{
	for (int slept = 0; slept < ms && !follower.stop; slept += 50) {
		struct timespec ts = { 0, 50 * 1000000L };

		nanosleep(&ts, NULL);
	}
}

/* Say when records were skipped since the last time (see store/cluster/record.c). */
static void report_skipped(void)
{
	static unsigned long told;
	const char *why;
	unsigned long n = cluster_skipped(follower.cl, &why);

	if (n > told)
		log_msg(LOG_LEVEL_WARNING, "cluster: skipped %lu record%s that break the rules: %s",
			n - told, n - told == 1 ? "" : "s", why);
	told = n;
}

static void on_applied(void *ctx, int64_t rev)
{
	(void)ctx;
	atomic_store(&applied_rev, rev);
	publish_endpoint();
	report_skipped();
	log_msg(LOG_LEVEL_DEBUG, "cluster: applied etcd revision %lld", (long long)rev);
}

/* Catch up once; log the first failure of an outage and its end. */
static int catch_up(bool *down)
{
	int64_t rev = 0;

	if (cluster_sync(follower.cl, follower.st, &rev)) {
		if (!*down) {
			store_etcd_revision(follower.st, &rev);
			log_msg(LOG_LEVEL_WARNING,
				"cluster: %s: serving this node's copy (etcd revision %lld) and retrying",
				cluster_errmsg(follower.cl), (long long)rev);
		}
		*down = true;
		atomic_store(&connected, false);
		return -1;
	}
	atomic_store(&applied_rev, rev);
	atomic_store(&connected, true);
	publish_endpoint();
	report_skipped();
	log_msg(*down ? LOG_LEVEL_WARNING : LOG_LEVEL_DEBUG,
		"cluster: caught up with etcd at %s, revision %lld", cluster_endpoint(follower.cl),
		(long long)rev);
	*down = false;
	return 0;
}

static void *follow_thread(void *arg)
{
	bool down = false;
	int wait = RETRY_FIRST_MS, err;

	(void)arg;
	while (!follower.stop) {
		if (catch_up(&down)) {
			nap(wait);
			wait = wait * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : wait * 2;
			continue;
		}
		wait = RETRY_FIRST_MS;
		err = cluster_follow(follower.cl, follower.st, &follower.stop, on_applied, NULL);
		if (follower.stop)
			break;
		atomic_store(&connected, false);
		publish_endpoint();
		if (err == -ESTALE)
			log_msg(LOG_LEVEL_INFO, "cluster: %s: listing again", cluster_errmsg(follower.cl));
		else
			log_msg(LOG_LEVEL_WARNING, "cluster: %s: catching up again",
				cluster_errmsg(follower.cl));
		nap(RETRY_FIRST_MS);
	}
	return NULL;
}

int follow_open(struct fs *fs, char *err, size_t len)
{
	char serr[STORE_ERRMSG_MAX];
	bool down = false;

	follower.fs = fs;
	if (store_open_with(&follower.st, fs->cfg->conf.store_path, &fs->unlock, 0, serr)) {
		snprintf(err, len, "%s", serr);
		return -1;
	}
	if (cluster_open(&follower.cl, &fs->cfg->conf.cluster, serr)) {
		snprintf(err, len, "%s", serr);
		store_close(follower.st);
		follower.st = NULL;
		return -1;
	}
	/* the views are checked against the store next: let it be current,
	 * if etcd can be reached now */
	publish_endpoint(); /* so that the status names one even while etcd is away */
	if (catch_up(&down) == 0)
		log_msg(LOG_LEVEL_INFO, "cluster: caught up with etcd at %s, revision %lld",
			cluster_endpoint(follower.cl), (long long)follow_revision(NULL));
	return 0;
}

int follow_start(char *err, size_t len)
{
	if (!follower.cl)
		return 0;
	if (pthread_create(&follower.thread, NULL, follow_thread, NULL) != 0) {
		snprintf(err, len, "cannot start the cluster thread");
		return -1;
	}
	pthread_setname_np(follower.thread, "secretfs-etcd");
	follower.running = true;
	return 0;
}

void follow_stop(void)
{
	follower.stop = 1;
	if (follower.running)
		pthread_join(follower.thread, NULL);
	follower.running = false;
	cluster_close(follower.cl);
	follower.cl = NULL;
	store_close(follower.st);
	follower.st = NULL;
}
