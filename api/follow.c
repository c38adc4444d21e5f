/*
 * follow.c - cluster mode: the API server follows etcd itself (the thread
 * is store/cluster/follow.c's, the one secretfs runs), so that its watches,
 * which read this node's change log, see a write made on any node even
 * when no secretfs runs on this one.  A secretfs beside it follows too;
 * the two never apply a batch twice (store/cluster/mirror.h).
 */
#include <errno.h>
#include <stdio.h>

#include "api/api.h"
#include "store/cluster.h"

static void on_log(void *ctx, enum cluster_log level, const char *msg)
{
	(void)ctx;
	if (level != CLUSTER_LOG_DEBUG)
		fprintf(stderr, "secretfs-apiserver: %s\n", msg);
}

int api_follow_start(struct api_server *srv, char *err, size_t errlen)
{
	char why[STORE_ERRMSG_MAX];
	struct store *st;

	if (!srv->cfg.cluster.endpoints || !*srv->cfg.cluster.endpoints)
		return 0;
	if (store_open(&st, srv->cfg.store_path, srv->cfg.key_file, 0, why)) {
		snprintf(err, errlen, "%s", why);
		return -EIO;
	}
	if (cluster_follower_new(&srv->follower, st, &srv->cfg.cluster, on_log, NULL, why)) {
		snprintf(err, errlen, "%s", why);
		store_close(st);
		return -EINVAL;
	}
	/* current before the first list, if etcd answers now */
	cluster_follower_catch_up(srv->follower);
	if (cluster_follower_start(srv->follower, "apiserver-etcd")) {
		snprintf(err, errlen, "cannot start the cluster thread");
		cluster_follower_free(srv->follower);
		srv->follower = NULL;
		return -EAGAIN;
	}
	return 0;
}

void api_follow_stop(struct api_server *srv)
{
	cluster_follower_free(srv->follower);
	srv->follower = NULL;
}
