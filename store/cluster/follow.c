/*
 * follow.c - cluster mode: a thread that keeps this node's store a copy of
 * etcd's prefix, for every program that serves it: secretfs (its mounts)
 * and secretfs-apiserver (its watches, which read the change log).
 *
 * It catches up (cluster_sync: everything changed since the store's etcd
 * revision, read through the leader), then watches from the next revision
 * (cluster_follow), each batch one SQLite transaction.  When the watch ends
 * (an endpoint died, lost its leader, or etcd compacted past us) it catches
 * up again, from the next endpoint; while no endpoint answers, the node's
 * copy goes on being served and the thread retries, 100 ms doubling to 2 s
 * apart.  Two followers on one node (a secretfs and an API server) are
 * safe: each batch applies only what the store has not (see mirror.h).
 *
 * The store handle and the cluster handle are the thread's alone once it
 * runs; what others may ask (the revision applied, whether etcd answers,
 * the endpoint) is kept in atomics or under endpoint_lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirror.h"

#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS   2000

struct cluster_follower {
	struct store *st;       /* its own read-write handle */
	struct cluster *cl;
	cluster_log_fn log;
	void *ctx;
	atomic_int stop;
	pthread_t thread;
	bool running;
	bool down;              /* the thread's: in an outage */
	unsigned long told;     /* the thread's: skipped records reported */
	_Atomic int64_t applied;
	atomic_bool connected;
	pthread_mutex_t endpoint_lock;
	char endpoint[256];     /* protected by endpoint_lock */
};

static void say(struct cluster_follower *f, enum cluster_log level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct cluster_follower *f, enum cluster_log level, const char *fmt, ...)
{
	char msg[STORE_ERRMSG_MAX + 256];
	va_list ap;

	if (!f->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f->log(f->ctx, level, msg);
}

int64_t cluster_follower_revision(struct cluster_follower *f, bool *up)
{
	if (up)
		*up = atomic_load(&f->connected);
	return atomic_load(&f->applied);
}

bool cluster_follower_endpoint(struct cluster_follower *f, char *out, size_t len)
{
	pthread_mutex_lock(&f->endpoint_lock);
	snprintf(out, len, "%s", f->endpoint);
	pthread_mutex_unlock(&f->endpoint_lock);
	return out[0] != '\0';
}

/* From the follower's own thread (or before it starts). */
static void publish_endpoint(struct cluster_follower *f)
{
	pthread_mutex_lock(&f->endpoint_lock);
	snprintf(f->endpoint, sizeof(f->endpoint), "%s", cluster_endpoint(f->cl));
	pthread_mutex_unlock(&f->endpoint_lock);
}

static void nap(struct cluster_follower *f, int ms)
{
	for (int slept = 0; slept < ms && !f->stop; slept += 50) {
		struct timespec ts = { 0, 50 * 1000000L };

		nanosleep(&ts, NULL);
	}
}

/* Say when records were skipped since the last time (see record.c). */
static void report_skipped(struct cluster_follower *f)
{
	const char *why;
	unsigned long n = cluster_skipped(f->cl, &why);

	if (n > f->told)
		say(f, CLUSTER_LOG_WARNING, "cluster: skipped %lu record%s that break the rules: %s",
		    n - f->told, n - f->told == 1 ? "" : "s", why);
	f->told = n;
}

static void on_applied(void *ctx, int64_t rev)
{
	struct cluster_follower *f = ctx;

	atomic_store(&f->applied, rev);
	publish_endpoint(f);
	report_skipped(f);
	say(f, CLUSTER_LOG_DEBUG, "cluster: applied etcd revision %lld", (long long)rev);
}

int cluster_follower_catch_up(struct cluster_follower *f)
{
	int64_t rev = 0;

	if (cluster_sync(f->cl, f->st, &rev)) {
		if (!f->down) {
			store_etcd_revision(f->st, &rev);
			say(f, CLUSTER_LOG_WARNING,
			    "cluster: %s: serving this node's copy (etcd revision %lld) and retrying",
			    cluster_errmsg(f->cl), (long long)rev);
		}
		f->down = true;
		atomic_store(&f->connected, false);
		return -1;
	}
	atomic_store(&f->applied, rev);
	atomic_store(&f->connected, true);
	publish_endpoint(f);
	report_skipped(f);
	say(f, f->down ? CLUSTER_LOG_WARNING : CLUSTER_LOG_DEBUG,
	    "cluster: caught up with etcd at %s, revision %lld", cluster_endpoint(f->cl),
	    (long long)rev);
	f->down = false;
	return 0;
}

static void *follow_thread(void *arg)
{
	struct cluster_follower *f = arg;
	int wait = RETRY_FIRST_MS, err;

	while (!f->stop) {
		if (cluster_follower_catch_up(f)) {
			nap(f, wait);
			wait = wait * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : wait * 2;
			continue;
		}
		wait = RETRY_FIRST_MS;
		err = cluster_follow(f->cl, f->st, &f->stop, on_applied, f);
		if (f->stop)
			break;
		atomic_store(&f->connected, false);
		publish_endpoint(f);
		if (err == -ESTALE)
			say(f, CLUSTER_LOG_INFO, "cluster: %s: listing again", cluster_errmsg(f->cl));
		else
			say(f, CLUSTER_LOG_WARNING, "cluster: %s: catching up again",
			    cluster_errmsg(f->cl));
		nap(f, RETRY_FIRST_MS);
	}
	return NULL;
}

int cluster_follower_new(struct cluster_follower **out, struct store *st,
			 const struct cluster_opts *o, cluster_log_fn log, void *ctx, char *err)
{
	struct cluster_follower *f = calloc(1, sizeof(*f));
	int ret;

	if (!f) {
		snprintf(err, STORE_ERRMSG_MAX, "out of memory");
		return -ENOMEM;
	}
	if ((ret = cluster_open(&f->cl, o, err))) {
		free(f);
		return ret;
	}
	f->st = st;
	f->log = log;
	f->ctx = ctx;
	pthread_mutex_init(&f->endpoint_lock, NULL);
	publish_endpoint(f); /* so that a status names one even while etcd is away */
	*out = f;
	return 0;
}

int cluster_follower_start(struct cluster_follower *f, const char *thread_name)
{
	if (pthread_create(&f->thread, NULL, follow_thread, f) != 0)
		return -EAGAIN;
	pthread_setname_np(f->thread, thread_name);
	f->running = true;
	return 0;
}

void cluster_follower_free(struct cluster_follower *f)
{
	if (!f)
		return;
	f->stop = 1;
	if (f->running)
		pthread_join(f->thread, NULL);
	cluster_close(f->cl);
	store_close(f->st);
	pthread_mutex_destroy(&f->endpoint_lock);
	free(f);
}
