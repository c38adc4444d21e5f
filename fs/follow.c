/*
 * follow.c - cluster mode: the driver's follower of etcd (the thread is
 * store/cluster/follow.c's, shared with secretfs-apiserver), so that the
 * mounts serve what etcd holds, milliseconds after a write on any node;
 * the watcher (watch.c) then sees its commits as it sees any and
 * invalidates what the kernel caches.  This file opens it with the
 * driver's unlocked master key, logs through the driver's log, and answers
 * the status's questions.
 */
#include <stdio.h>

#include "fs.h"

static struct cluster_follower *follower;

static void on_log(void *ctx, enum cluster_log level, const char *msg)
{
	(void)ctx;
	log_msg(level == CLUSTER_LOG_WARNING ? LOG_LEVEL_WARNING :
		level == CLUSTER_LOG_INFO ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG, "%s", msg);
}

int64_t follow_revision(bool *up)
{
	if (!follower) {
		if (up)
			*up = false;
		return 0;
	}
	return cluster_follower_revision(follower, up);
}

bool follow_endpoint(char *out, size_t len)
{
	if (!follower) {
		out[0] = '\0';
		return false;
	}
	return cluster_follower_endpoint(follower, out, len);
}

int follow_open(struct fs *fs, char *err, size_t len)
{
	char serr[STORE_ERRMSG_MAX];
	struct store *st;

	if (store_open_with(&st, fs->cfg->conf.store_path, &fs->unlock, 0, serr)) {
		snprintf(err, len, "%s", serr);
		return -1;
	}
	if (cluster_follower_new(&follower, st, &fs->cfg->conf.cluster, on_log, NULL, serr)) {
		snprintf(err, len, "%s", serr);
		store_close(st);
		return -1;
	}
	/* the views are checked against the store next: let it be current,
	 * if etcd can be reached now */
	if (cluster_follower_catch_up(follower) == 0)
		log_msg(LOG_LEVEL_INFO, "cluster: caught up with etcd at %s, revision %lld",
			(follow_endpoint(serr, sizeof(serr)), serr), (long long)follow_revision(NULL));
	return 0;
}

int follow_start(char *err, size_t len)
{
	if (!follower)
		return 0;
	if (cluster_follower_start(follower, "secretfs-etcd")) {
		snprintf(err, len, "cannot start the cluster thread");
		return -1;
	}
	return 0;
}

void follow_stop(void)
{
	cluster_follower_free(follower);
	follower = NULL;
}
