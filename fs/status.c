/*
 * status.c - what a running daemon tells 'secretctl status': one JSON file
 * per daemon, STATUS_DIR/<pid>.json (mode 0600 in a 0700 folder; the path
 * and keys are spelled in conf/status.h), rewritten
 * whenever it has caught up with a new store revision and removed when it
 * stops:
 *
 *   {"pid": 4242, "store": "/var/lib/secretfs/store.db", "revision": 17,
 *    "started": 1795929781, "mounts": [{"mountpoint": "/run/secretfs/views/a",
 *    "view": "a", "mode": "view"}, ...], "uuid": "<the store served>"}
 *
 * "views": [{"name": "a", "requires": ["shop/hmac"], "pending": false}, ...]:
 * each view it serves (a per-caller mount: every view), the secrets it
 * requires (for 'secretctl delete's warning), and while it waits for them
 * "pending": true, "missing": "shop/hmac, ..." (see struct pending_view);
 *
 * and "error": "..." while a replaced store file cannot be served (watch.c);
 * with an audit log, "audit": {"lost": N, "refused": M}: records that could
 * not be written, and opens refused for it (audit.c).
 *
 * and in cluster mode "etcd": {"endpoint": URL, "revision": N, "watching":
 * true} (the etcd revision applied, and whether the watch is up).
 *
 * Written to a temporary name and renamed, so a reader never sees half a
 * file.  Names and numbers only, never a value.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "conf/status.h"
#include "fs.h"

/* Files of daemons that are gone (killed without a chance to remove
 * their own): swept by the next daemon that starts. */
static void sweep_dead(void)
{
	DIR *d = opendir(STATUS_DIR);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (pid <= 0 || (strcmp(end, STATUS_SUFFIX) != 0 && strcmp(end, STATUS_SUFFIX ".tmp") != 0))
			continue;
		if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

/* One view's entry in "views": what it requires, and whether it waits. */
static json_t *view_status(const struct fs *fs, const struct view *v)
{
	json_t *o = json_object(), *req = json_array();

	if (!o || !req) {
		json_decref(o);
		json_decref(req);
		return NULL;
	}
	for (size_t i = 0; i < v->ngrants; i++) {
		const struct view_grant *g = &v->grants[i];
		char ref[STORE_MAX_NAMESPACE + STORE_MAX_NAME + 2];

		if (g->optional || !g->name)
			continue;
		snprintf(ref, sizeof(ref), "%s/%s", g->ns, g->name);
		json_array_append_new(req, json_string(ref));
	}
	json_object_set_new(o, STATUS_VIEW_NAME, json_string(v->name));
	json_object_set_new(o, STATUS_VIEW_REQUIRES, req);
	for (size_t i = 0; i < fs->npending; i++) {
		const struct pending_view *p = &fs->pending[i];

		if (p->view != v || !p->waiting)
			continue;
		json_object_set_new(o, STATUS_VIEW_PENDING, json_true());
		json_object_set_new(o, STATUS_VIEW_MISSING, json_string(p->missing));
		return o;
	}
	json_object_set_new(o, STATUS_VIEW_PENDING, json_false());
	return o;
}

/* Every view this daemon serves: a per-caller mount's are all of them. */
static json_t *views_status(const struct fs *fs)
{
	json_t *views = json_array();
	bool all = false;

	for (size_t i = 0; i < fs->nmounts; i++)
		all |= fs->mounts[i].per_caller;
	for (size_t i = 0; views && all && fs->callers && i < fs->callers->cfg->nviews; i++)
		json_array_append_new(views, view_status(fs, fs->callers->use[i]));
	for (size_t i = 0; views && !all && i < fs->nmounts; i++)
		if (fs->mounts[i].view && !fs->mounts[i].removed)
			json_array_append_new(views, view_status(fs, fs->mounts[i].view));
	return views;
}

void status_write(const struct fs *fs, int64_t revision)
{
	static bool swept;
	char path[256], tmp[300], endpoint[256];
	json_t *mounts = json_array(), *doc;
	int fd;

	mkdir(STATUS_RUN_DIR, 0755);
	mkdir(STATUS_DIR, 0700);
	if (!swept) {
		sweep_dead();
		swept = true;
	}
	for (size_t i = 0; mounts && i < fs->nmounts; i++) {
		const struct mount *m = &fs->mounts[i];

		if (!m->se) /* a pending view's: under "views" */
			continue;
		json_array_append_new(mounts, json_pack("{s:s, s:s?, s:s}",
			STATUS_MOUNTPOINT, m->mountpoint, STATUS_VIEW, m->view ? m->view->name : NULL,
			STATUS_MODE, m->per_caller ? "per-caller" : m->view ? "view" : "full"));
	}
	doc = json_pack("{s:i, s:s, s:I, s:I, s:o}", STATUS_PID, (int)getpid(),
			STATUS_STORE, fs->cfg->conf.store_path, STATUS_REVISION, (json_int_t)revision,
			STATUS_STARTED, (json_int_t)fs->started, STATUS_MOUNTS, mounts);
	if (!doc)
		return;
	json_object_set_new(doc, STATUS_UUID, json_string(fs->uuid));
	json_object_set_new(doc, STATUS_VIEWS, views_status(fs));
	if (audit_enabled()) {
		unsigned long lost, refused;

		audit_counts(&lost, &refused);
		json_object_set_new(doc, STATUS_AUDIT,
				    json_pack("{s:I, s:I}", STATUS_AUDIT_LOST, (json_int_t)lost,
					      STATUS_AUDIT_REFUSED, (json_int_t)refused));
	}
	if (fs->store_error[0])
		json_object_set_new(doc, STATUS_ERROR, json_string(fs->store_error));
	if (fs->config_error[0])
		json_object_set_new(doc, STATUS_CONFIG_ERROR, json_string(fs->config_error));
	if (follow_endpoint(endpoint, sizeof(endpoint))) {
		bool up;
		int64_t rev = follow_revision(&up);

		json_object_set_new(doc, STATUS_ETCD,
				    json_pack("{s:s, s:I, s:b}", STATUS_ETCD_ENDPOINT, endpoint,
					      STATUS_REVISION, (json_int_t)rev,
					      STATUS_ETCD_WATCHING, up));
	}
	snprintf(path, sizeof(path), STATUS_FILE_FMT, (int)getpid());
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		bool written = json_dumpfd(doc, fd, JSON_COMPACT) == 0;

		if (close(fd) == 0 && written)
			rename(tmp, path);
		else
			unlink(tmp);
	}
	json_decref(doc);
}

void status_remove(void)
{
	char path[256];

	snprintf(path, sizeof(path), STATUS_FILE_FMT, (int)getpid());
	unlink(path);
}
