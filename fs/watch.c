/*
 * watch.c - noticing committed changes and making them visible.
 *
 * One thread, with its own read-only store handle, follows the store's
 * revision.  How it learns of a commit depends on [updates] strategy:
 *
 *   watch  inotify on the database and its WAL, and on their folder for
 *          either appearing anew (nothing else there wakes us, such as an
 *          audit log kept beside the database): a
 *          commit writes the WAL, which wakes us at once.  The writer updates
 *          the WAL index (mmap'd -shm, which raises no event) just after its
 *          last WAL write, so a wake-up that finds no new revision re-checks
 *          after 1, 2, 4 ... 64 ms; and a 1 s timer covers file systems
 *          without inotify.
 *   ttl    every ttl seconds.
 *   poll   every second, only to wake poll()ers: nothing is cached then.
 *
 * For each change since the last revision seen (the store's change log) it
 * works out, under fs->lock, which kernel cache entries of which mount show
 * it, then, with the lock released, tells the kernel to forget them
 * (fuse_lowlevel_notify_inval_*; never from a request handler) and wakes the
 * poll()ers of the secrets that moved.
 *
 * A replaced store.  A backup restored by renaming a file over the store's
 * path leaves our handles on the old, deleted inode; one restored in place
 * (sqlite3's .restore) changes the file under them, and its revisions need
 * not follow ours.  So at each wake-up the watcher compares the path's
 * inode with the one it opened, the database's UUID with the handle's, and
 * the revision with the last one seen (a revision going back is a restore).
 * Any difference reopens the store at the path: two new handles (ours and
 * the one the request handlers' readers open from, swapped under fs->lock
 * with every reader held and closed, the old ones closed once nothing can
 * use them), checked as at mount; then every name, attribute,
 * page and generation snapshot of every mount is dropped, as revision
 * numbers no longer say what changed.  A replacement that does not open
 * (another key, damaged) is logged as an error and shown by 'secretctl
 * status'; the old handles go on serving what they can (the old inode's
 * data after a rename), and it is tried again when the file changes or
 * after RETRY_SECONDS.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"

/* One thing to tell the kernel. */
struct inval {
	struct mount *m;
	struct fuse_session *se;
	fuse_ino_t parent; /* entry: parent + name */
	char *name;        /* NULL: inode attributes of ino */
	fuse_ino_t ino;
	bool data;         /* the inode's cached data too (a symlink's target) */
	bool mode_only;    /* only its mode or owner changed (a view's change) */
};

struct watcher {
	struct fs *fs;
	struct store *st;
	int inotify_fd;
	int event_fd;      /* wakes the thread: stop, or queued work */
	char *db_name;     /* the database's file name, e.g. "store.db" */
	char *dir;         /* its folder */
	int64_t revision;
	dev_t dev;         /* the file our handles have open */
	ino_t ino;
	dev_t shm_dev;     /* and the -shm they mapped (0: unknown) */
	ino_t shm_ino;
	struct stat refused;  /* a replacement that would not open, */
	struct stat refused_aux[2]; /* its -wal and -shm then (st_ino 0: none) */
	time_t refused_at;    /* when (0: none) */
	unsigned long audit_lost, audit_refused; /* as in the status file */
	bool stop;         /* under fs->lock */
	bool reload;       /* SIGHUP came: fs_reload; under fs->lock */
	struct inval *queued;  /* from request handlers; under fs->lock */
	size_t nqueued;
	pthread_t thread;
};

struct batch {
	struct inval *v;
	size_t n, cap;
	struct fuse_pollhandle **ph;
	size_t nph, capph;
};

static void batch_add(struct batch *b, struct mount *m, fuse_ino_t parent,
		      const char *name, fuse_ino_t ino)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct inval *v = realloc(b->v, cap * sizeof(*v));

		if (!v)
			return; /* the caches then expire by themselves */
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n] = (struct inval){ m, m->se, parent, name ? strdup(name) : NULL, ino, false,
				     false };
	if (name && !b->v[b->n].name)
		return;
	b->n++;
}

static void batch_poll(struct batch *b, struct fuse_pollhandle *ph)
{
	if (b->nph == b->capph) {
		size_t cap = b->capph ? b->capph * 2 : 16;
		struct fuse_pollhandle **v = realloc(b->ph, cap * sizeof(*v));

		if (!v) {
			fuse_pollhandle_destroy(ph);
			return;
		}
		b->ph = v;
		b->capph = cap;
	}
	b->ph[b->nph++] = ph;
}

/*
 * Tell the kernel.  Attribute invalidations go first, under fs->lock, each
 * marking its node attr_stale in the same breath: no attribute reply can
 * then slip in between and be taken for the stale one (see "page cache" in
 * ops.c).  Invalidating attributes only bumps the kernel's attribute
 * version; it waits for no request, so it is safe under our lock.  Entry
 * invalidations may wait on a lookup that wants our lock, so they go after
 * it is released, as do poll wake-ups.
 */
static void batch_run(struct fs *fs, struct batch *b)
{
	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; i < b->n; i++) {
		struct inval *x = &b->v[i];
		struct node *n;

		if (x->name)
			continue;
		n = node_get(&x->m->nodes, x->ino);
		/* a plain key's pages need no invalidation: the next cached
		 * open of another revision drops them (keep_cache = 0), and a
		 * data invalidation, sent after our lock is let go, could
		 * land on a reader's GETATTR as below */
		if (n && n->kind == NODE_KEY && x->m->layout != LAYOUT_KUBELET)
			x->data = false;
		if (n && n->kind == NODE_KEY && n->shrinking > 0) {
			/* see push_size() in ops.c */
			n->attr_deferred = true;
			continue;
		}
		if (n && n->kind == NODE_KEY && n->cache_users > 0 &&
		    !(x->mode_only && !n->attr_stale && !n->attr_mixed &&
		      n->attr_gen == n->cache_gen)) {
			/* not while handles read its cached pages: any
			 * invalidation of the inode makes the kernel drop the
			 * reply of a GETATTR already on its way, and the reader
			 * that sent it then reads against the size held before
			 * (see "page cache" in ops.c).  What we tell meanwhile
			 * is their size anyway; the last release invalidates.
			 * Unless only the mode or owner changed and the size
			 * the kernel holds is known to be theirs: a reply
			 * dropped then would have told that same size. */
			n->attr_deferred = true;
			continue;
		}
		if (x->data)
			continue;
		/* an inode the kernel does not hold (-ENOENT) may be on its
		 * way in, with a reply told before: nothing was invalidated */
		if (fuse_lowlevel_notify_inval_inode(x->se, x->ino, -1, 0) != 0)
			continue;
		if (n) {
			n->attr_stale = true;
			n->attr_mixed = false;
			n->attr_deferred = false;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	for (size_t i = 0; i < b->n; i++) {
		struct inval *x = &b->v[i];

		if (x->name)
			fuse_lowlevel_notify_inval_entry(x->se, x->parent, x->name,
							 strlen(x->name));
		else if (x->data)
			fuse_lowlevel_notify_inval_inode(x->se, x->ino, 0, 0);
		free(x->name);
	}
	for (size_t i = 0; i < b->nph; i++) {
		fuse_lowlevel_notify_poll(b->ph[i]);
		fuse_pollhandle_destroy(b->ph[i]);
	}
	free(b->v);
	free(b->ph);
	memset(b, 0, sizeof(*b));
}

/* Everything one mount caches for one secret: its entry, and its children. */
static void inval_secret(struct batch *b, struct mount *m, const char *ns,
			 const char *name)
{
	struct node *nsn = node_find(&m->nodes, &m->nodes.root, ns, m->view), *sn;

	if (!nsn)
		return; /* the kernel has not looked the namespace up */
	batch_add(b, m, nsn->ino, name, 0);
	batch_add(b, m, 0, NULL, nsn->ino);
	sn = node_find(&m->nodes, nsn, name, m->view);
	if (!sn)
		return;
	batch_add(b, m, 0, NULL, sn->ino);
	for (struct node *c = sn->children; c; c = c->next_sibling) {
		/* keys may have gone or come; an old ..rev-N folder must go */
		if (c->kind != NODE_DATA)
			batch_add(b, m, sn->ino, c->name, 0);
		if (c->kind == NODE_KEY)
			batch_add(b, m, 0, NULL, c->ino);
		if (c->kind == NODE_DATA) {
			size_t before = b->n;

			batch_add(b, m, 0, NULL, c->ino); /* ..data's cached target */
			if (b->n > before)
				b->v[before].data = true;
		}
	}
}

/*
 * A per-caller mount caches no names, only the attributes of each view's
 * tree: those of the secret's folder and keys, in every view that has
 * looked them up.
 */
static void inval_secret_attrs(struct batch *b, struct mount *m, const char *ns,
			       const char *name)
{
	for (struct node *nsn = m->nodes.root.children; nsn; nsn = nsn->next_sibling) {
		if (strcmp(nsn->name, ns) != 0)
			continue;
		batch_add(b, m, 0, NULL, nsn->ino);
		for (struct node *sn = nsn->children; sn; sn = sn->next_sibling) {
			if (name && strcmp(sn->name, name) != 0)
				continue;
			batch_add(b, m, 0, NULL, sn->ino);
			for (struct node *k = sn->children; k; k = k->next_sibling)
				batch_add(b, m, 0, NULL, k->ino);
		}
	}
}

static int collect(void *ctx, const struct store_change *c)
{
	struct batch *b = ((void **)ctx)[0];
	struct fs *fs = ((void **)ctx)[1];

	for (size_t i = 0; i < fs->nmounts; i++) {
		struct mount *m = &fs->mounts[i];

		if (!m->se)
			continue;
		if (m->per_caller) {
			inval_secret_attrs(b, m, c->namespace, c->name);
			continue;
		}
		if (!view_ns_visible(m->view, c->namespace))
			continue;
		if (!c->name) {
			batch_add(b, m, FUSE_ROOT_ID, c->namespace, 0);
			batch_add(b, m, 0, NULL, FUSE_ROOT_ID);
			continue;
		}
		if (!view_grant_for(m->view, c->namespace, c->name))
			continue;
		inval_secret(b, m, c->namespace, c->name);
	}
	/* wake whoever poll()s a handle of this secret */
	for (struct open_file *of = fs->pollers, *next; of; of = next) {
		next = of->next_poller;
		if (strcmp(of->ns, c->namespace) != 0 ||
		    (c->name && strcmp(of->secret, c->name) != 0))
			continue;
		batch_poll(b, of->ph);
		of->ph = NULL;
		if (of->prev_poller)
			of->prev_poller->next_poller = of->next_poller;
		else
			fs->pollers = of->next_poller;
		if (of->next_poller)
			of->next_poller->prev_poller = of->prev_poller;
		of->next_poller = of->prev_poller = NULL;
	}
	return 0;
}

static void watch_files(struct watcher *w);

/* How long a replacement that would not open waits for another try, if
 * its file does not change meanwhile. */
#define RETRY_SECONDS 10

/* Everything a mount caches of one node, for a replaced store. */
static void inval_node(struct node *n, void *ctx)
{
	struct batch *b = ((void **)ctx)[0];
	struct mount *m = ((void **)ctx)[1];

	if (n->kind != NODE_ROOT && !m->per_caller) /* per caller: no names cached */
		batch_add(b, m, n->parent->ino, n->name, 0);
	batch_add(b, m, 0, NULL, n->ino);
	if (n->kind == NODE_KEY || n->kind == NODE_GEN_KEY || n->kind == NODE_DATA) {
		size_t before = b->n;

		batch_add(b, m, 0, NULL, n->ino); /* its pages, or a link's target */
		if (b->n > before)
			b->v[before].data = true;
	}
	/* the new file may reuse a revision for other bytes: the pages of
	 * open readers are theirs alone, and the next open starts afresh */
	n->cache_gen = n->cache_users ? -1 : 0;
	n->attr_gen = 0;
	if (n->kind == NODE_GEN || n->kind == NODE_DATA) {
		store_secret_free(n->snap); /* "..rev-N" may be another generation now */
		n->snap = NULL;
	}
}

/* The stat() of the store's -wal and -shm; st_ino 0 for one that is not
 * there.  Their removal lets a refused file be tried again at once. */
static void aux_stat(const struct watcher *w, struct stat st[2])
{
	static const char *const suffix[] = { "-wal", "-shm" };
	char path[PATH_MAX];

	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s%s", w->fs->cfg->conf.store_path, suffix[i]);
		if (stat(path, &st[i]) != 0)
			memset(&st[i], 0, sizeof(st[i]));
	}
}

/* Note which -shm our handles mapped (just after opening them). */
static void shm_record(struct watcher *w)
{
	struct stat aux[2];

	aux_stat(w, aux);
	w->shm_dev = aux[1].st_dev;
	w->shm_ino = aux[1].st_ino;
}

/*
 * Is the -shm at the path another file than the one our handles mapped?
 * (Removed, with the -wal, after a rename over the store, and created anew
 * by a writer: our handles would never see its commits.)  One that is
 * missing is not yet replaced; SQLite itself never removes it under us.
 * None when we opened (shm_ino 0): removed in between, or our handles
 * read without one; either way, one that appears is not theirs.
 */
static bool shm_replaced(const struct watcher *w)
{
	struct stat aux[2];

	aux_stat(w, aux);
	return aux[1].st_ino && (aux[1].st_dev != w->shm_dev || aux[1].st_ino != w->shm_ino);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Say why a replaced file is not (fully) served: logged once per reason,
 * kept for the status file; retried later (see reopen()). */
static void refuse(struct watcher *w, const struct stat *now, const char *why,
		   const char *err, const char *serving)
{
	struct fs *fs = w->fs;
	char msg[sizeof(fs->store_error)];

	snprintf(msg, sizeof(msg), "store '%s' was replaced (%s) but cannot be served: %s",
		 fs->cfg->conf.store_path, why, err);
	log_msg(strcmp(msg, fs->store_error) ? LOG_LEVEL_ERROR : LOG_LEVEL_DEBUG, "%s; %s",
		msg, serving);
	if (strcmp(msg, fs->store_error)) {
		memcpy(fs->store_error, msg, sizeof(msg));
		status_write(fs, w->revision);
	}
	w->refused = *now;
	w->refused_at = time(NULL);
	aux_stat(w, w->refused_aux);
}

/*
 * The store's file was replaced (why says how): serve the file now at the
 * path, or say why not (see the top of the file).  Returns true if it is
 * served now.  now is the path's stat() taken before opening it: if it is
 * replaced again meanwhile, the next check sees another inode and comes back.
 *
 * Another inode at the path is checked through its database file alone
 * (STORE_FILE_ONLY): the -wal and -shm at the path are still those of the
 * old file, which our handles have mapped, and an SQLite connection of this
 * process opening them for another inode would take itself for their only
 * user (POSIX locks never conflict within a process) and reset the shared
 * memory under the old handles (SIGBUS).  So once the file has passed, the
 * old handles are closed, under fs->lock, before the new ones open.
 */
static bool reopen(struct watcher *w, const struct stat *now, const char *why)
{
	struct fs *fs = w->fs;
	const char *path = fs->cfg->conf.store_path;
	/* another file at the path, or under our handles' SQLite shared
	 * memory: both want the old handles closed before new ones open */
	bool renamed = !w->st || now->st_dev != w->dev || now->st_ino != w->ino;
	bool other_inode = renamed || shm_replaced(w);
	struct store *check = NULL, *watch = NULL, *serve = NULL, *old_serve = NULL,
		     *old_events = NULL;
	char err[STORE_ERRMSG_MAX], uuid[37], watch_uuid[37], serving[128];
	struct batch b = { 0 };
	int64_t rev = 0, check_rev = -1;
	struct stat aux[2];
	int ret;

	aux_stat(w, aux);
	if (w->refused_at && same_file(&w->refused, now) && same_file(&w->refused_aux[0], &aux[0]) &&
	    same_file(&w->refused_aux[1], &aux[1]) && time(NULL) - w->refused_at < RETRY_SECONDS)
		return false;
	if (fs->cfg->conf.cluster.endpoints) {
		/* the follower writes through a handle of its own on the old
		 * file, which a connection to the new one must not meet (see
		 * above); and etcd, not the file, is the truth to restore */
		snprintf(serving, sizeof(serving), "still serving store %s", fs->uuid);
		refuse(w, now, why, "in cluster mode the node's store follows etcd: restart the daemon",
		       serving);
		return false;
	}
	ret = store_open_with(&check, path, &fs->unlock,
			      STORE_RDONLY | (other_inode ? STORE_FILE_ONLY : 0), err);
	if (!ret && (ret = store_check_integrity(check)))
		snprintf(err, sizeof(err), "%s", store_errmsg(check));
	if (ret) {
		snprintf(serving, sizeof(serving), "still serving store %s at revision %lld",
			 fs->uuid, (long long)w->revision);
		refuse(w, now, why, err, serving);
		store_close(check);
		return false;
	}
	store_uuid(check, uuid);
	/* the request handlers' readers too: closed before any new handle
	 * opens (see above), opened again from the new fs->st when next used */
	reader_suspend(fs);
	pthread_mutex_lock(&fs->lock);
	pthread_mutex_lock(&fs->events_lock);
	fs->st_epoch++; /* what was read before is of another file */
	if (other_inode) {
		store_close(fs->st);
		store_close(fs->events);
		store_close(w->st); /* this thread's own */
		fs->st = fs->events = w->st = NULL;
	} else {
		old_serve = fs->st;
		old_events = fs->events;
		fs->events = NULL; /* reopened on the next event, on the new file */
	}
	ret = store_open_with(&watch, path, &fs->unlock, STORE_RDONLY, err);
	if (!ret && (ret = store_revision(watch, &rev)))
		snprintf(err, sizeof(err), "%s", store_errmsg(watch));
	if (!ret)
		store_uuid(watch, watch_uuid);
	if (!ret && renamed && (store_revision(check, &check_rev) != 0 || check_rev != rev ||
				    strcmp(watch_uuid, uuid) != 0)) {
		/* SQLite applied the WAL at the path, the old file's commits,
		 * to the new file: so would every writer, damaging it */
		snprintf(err, sizeof(err),
			 "the WAL beside it ('%s-wal') holds the commits of the file it replaced (revision %lld over the file's %lld): stop every writer and remove '%s-wal' and '%s-shm', or restore with sqlite3's .restore instead of a rename",
			 path, (long long)rev, (long long)check_rev, path, path);
		ret = -ESTALE;
	}
	if (!ret)
		ret = store_open_with(&serve, path, &fs->unlock, STORE_RDONLY, err);
	if (ret && other_inode) {
		/* the old handles are gone: serve the file as checked, without
		 * the commits that follow, until a retry opens it properly */
		fs->st = check;
		check = NULL;
		store_close(watch);
		watch = NULL;
	} else if (ret) {
		fs->st = old_serve; /* in place: the same file as before */
		fs->events = old_events;
		old_serve = old_events = NULL;
	} else {
		fs->st = serve;
	}
	for (size_t i = 0; (!ret || other_inode) && i < fs->nmounts; i++) {
		void *ctx[2] = { &b, &fs->mounts[i] };

		if (fs->mounts[i].se)
			node_table_each(&fs->mounts[i].nodes, inval_node, ctx);
	}
	for (struct open_file *of = fs->pollers, *next; (!ret || other_inode) && of; of = next) {
		next = of->next_poller;
		batch_poll(&b, of->ph);
		of->ph = NULL;
		of->next_poller = of->prev_poller = NULL;
	}
	if (!ret || other_inode) {
		fs->pollers = NULL;
		w->nqueued = 0; /* queued attributes are in the batch anyway */
	}
	pthread_mutex_unlock(&fs->events_lock);
	pthread_mutex_unlock(&fs->lock);
	reader_resume(fs);
	/* no request handler can reach them now: readers open from fs->st,
	 * under the lock */
	store_close(old_serve);
	store_close(old_events);
	store_close(check);
	if (ret) {
		store_close(watch);
		store_close(serve);
		snprintf(serving, sizeof(serving), other_inode ?
			 "serving it as it was when checked, without later commits" :
			 "still serving store %s", fs->uuid);
		refuse(w, now, why, err, serving);
		batch_run(fs, &b);
		return other_inode;
	}
	log_msg(LOG_LEVEL_WARNING,
		"store '%s' was replaced (%s): now serving store %s at revision %lld (was %s at %lld); every cached name and value is dropped",
		path, why, uuid, (long long)rev, fs->uuid, (long long)w->revision);
	store_close(w->st);
	w->st = watch;
	w->revision = rev;
	w->dev = now->st_dev;
	w->ino = now->st_ino;
	w->refused_at = 0;
	memcpy(fs->uuid, uuid, sizeof(uuid));
	fs->store_error[0] = '\0';
	if (w->inotify_fd >= 0)
		watch_files(w); /* the WAL may be another file too */
	shm_record(w);
	batch_run(fs, &b);
	status_write(fs, rev);
	return true;
}

/* Has the store's file been replaced?  Says how in why. */
static bool replaced(struct watcher *w, int64_t rev, struct stat *now, char *why,
		     size_t len)
{
	if (stat(w->fs->cfg->conf.store_path, now) != 0)
		return false; /* between an unlink and a rename: look again later */
	if (now->st_dev != w->dev || now->st_ino != w->ino) {
		snprintf(why, len, "another file at its path");
		return true;
	}
	if (shm_replaced(w)) {
		snprintf(why, len, "another -shm file beside it");
		return true;
	}
	if (rev < w->revision) {
		snprintf(why, len, "its revision went back from %lld to %lld",
			 (long long)w->revision, (long long)rev);
		return true;
	}
	if (store_check_identity(w->st) == -ESTALE) {
		snprintf(why, len, "in place, by another store");
		return true;
	}
	return false;
}

/* Catch up with the store; returns true if the revision moved. */
static bool catch_up(struct watcher *w)
{
	struct fs *fs = w->fs;
	struct batch b = { 0 };
	void *ctx[2] = { &b, fs };
	struct stat now;
	char why[128];
	int64_t rev;
	bool moved = false;

	if (!w->st) { /* a reopening that failed half-way: try again */
		if (stat(fs->cfg->conf.store_path, &now) != 0)
			return false;
		return reopen(w, &now, "its last reopening failed");
	}
	if (store_revision(w->st, &rev) != 0) {
		log_msg(LOG_LEVEL_WARNING, "watch: %s", store_errmsg(w->st));
		rev = w->revision; /* the file may be another's: look at it */
	}
	/* a revision that went back is no change to follow by the log */
	if (rev < w->revision && replaced(w, rev, &now, why, sizeof(why)))
		return reopen(w, &now, why);
	pthread_mutex_lock(&fs->lock);
	if (rev != w->revision) {
		if (store_changes(w->st, w->revision, collect, ctx) != 0)
			log_msg(LOG_LEVEL_WARNING, "watch: %s", store_errmsg(w->st));
		log_msg(LOG_LEVEL_DEBUG, "revision %lld -> %lld: %zu invalidations",
			(long long)w->revision, (long long)rev, b.n);
		w->revision = rev;
		moved = true;
	}
	for (size_t i = 0; i < w->nqueued; i++)
		batch_add(&b, w->queued[i].m, 0, NULL, w->queued[i].ino);
	w->nqueued = 0;
	pthread_mutex_unlock(&fs->lock);
	batch_run(fs, &b);
	/* after the invalidations, outside the lock: a file write must not
	 * hold up readers or the change reaching them */
	if (moved) {
		fs_pending_check(fs, w->st); /* a view's secret may be there now */
		status_write(fs, rev);
	}
	/* the other signs of a replaced file cost a stat() and a query: after
	 * the invalidations, so that they do not delay an ordinary commit */
	if (replaced(w, rev, &now, why, sizeof(why)))
		return reopen(w, &now, why) || moved;
	if (w->refused_at) { /* the file we serve is back at the path */
		w->refused_at = 0;
		fs->store_error[0] = '\0';
		status_write(fs, rev);
	}
	return moved;
}

void watcher_queue_attr(struct fs *fs, struct mount *m, fuse_ino_t ino)
{
	struct watcher *w = fs->watcher;
	struct inval *v;
	uint64_t one = 1;

	if (!w || !m->se)
		return;
	v = realloc(w->queued, (w->nqueued + 1) * sizeof(*v));
	if (!v)
		return;
	w->queued = v;
	v[w->nqueued++] = (struct inval){ .m = m, .se = m->se, .ino = ino };
	if (write(w->event_fd, &one, sizeof(one)) < 0)
		log_msg(LOG_LEVEL_DEBUG, "watch: cannot wake the watcher: %s", strerror(errno));
}

void watcher_request_reload(struct fs *fs)
{
	struct watcher *w = fs->watcher;
	uint64_t one = 1;

	if (!w)
		return;
	pthread_mutex_lock(&fs->lock);
	w->reload = true;
	pthread_mutex_unlock(&fs->lock);
	if (write(w->event_fd, &one, sizeof(one)) < 0)
		log_msg(LOG_LEVEL_WARNING, "reload: cannot wake the watcher: %s", strerror(errno));
}

void watcher_forget_mount(struct fs *fs, struct mount *m)
{
	struct watcher *w = fs->watcher;
	size_t kept = 0;

	assert(fs_lock_held(&fs->lock));
	if (!w)
		return;
	for (size_t i = 0; i < w->nqueued; i++)
		if (w->queued[i].m != m)
			w->queued[kept++] = w->queued[i];
	w->nqueued = kept;
}

/*
 * A view changed in place (fs_reload).  Each node the kernel holds is
 * looked at under the old view and the new one, from the configuration
 * alone (no store read): a name the new view does not grant any more, or
 * that now stands for another key, has its entry invalidated (ENOENT, or
 * the other key, at the next lookup: a name never granted is not cached,
 * as a lookup's ENOENT reaches the kernel as an error, which it does not
 * keep); a node whose owner or mode differs has its attributes
 * invalidated, as for a secret update (batch_run), at once even while
 * handles read a plain key's cached pages, as long as the size the kernel
 * holds is known to be theirs (see there).  A name that stands for
 * another key keeps its inode, but its cached pages are another value's:
 * a plain key's are dropped by its next open (cache_gen, as after a
 * replaced store), a generation's file's at once.
 */
struct view_change {
	struct batch *b;
	struct mount *m;
	const struct view *from, *to;
	mode_t dflt;
	size_t names, attrs; /* invalidated, for the log */
};

static void change_node(struct node *n, void *ctx)
{
	struct view_change *vc = ctx;
	const struct view *a = vc->from, *b = vc->to;
	const char *ns, *secret, *file;
	bool gone = false, other = false, attrs;

	assert(fs_lock_held(&vc->m->fs->lock));
	if (n->kind != NODE_ROOT) {
		assert(n->view == a);
		n->view = b;
	}
	node_path(n, &ns, &secret, &file);
	attrs = a->uid != b->uid || a->gid != b->gid;
	switch (n->kind) {
	case NODE_ROOT:
		attrs |= view_folder_mode(a, NULL, NULL, vc->dflt) !=
			 view_folder_mode(b, NULL, NULL, vc->dflt);
		break;
	case NODE_NS:
		gone = !view_ns_visible(b, ns);
		attrs |= view_folder_mode(a, ns, NULL, vc->dflt) !=
			 view_folder_mode(b, ns, NULL, vc->dflt);
		break;
	case NODE_SECRET:
	case NODE_GEN:
	case NODE_DATA:
		gone = !view_grant_for(b, ns, secret);
		attrs |= n->kind != NODE_DATA && view_folder_mode(a, ns, secret, vc->dflt) !=
						 view_folder_mode(b, ns, secret, vc->dflt);
		break;
	case NODE_KEY:
	case NODE_GEN_KEY: {
		const struct view_grant *ga = view_grant_for(a, ns, secret);
		const struct view_grant *gb = view_grant_for(b, ns, secret);
		mode_t ma = 0, mb = 0;
		const char *ka = ga ? view_file_key(a, ga, file, vc->dflt, &ma) : NULL;
		const char *kb = gb ? view_file_key(b, gb, file, vc->dflt, &mb) : NULL;

		gone = !kb;
		other = kb && (!ka || strcmp(ka, kb) != 0);
		attrs |= ma != mb || other;
		break;
	}
	}
	if (n->kind != NODE_ROOT && (gone || other)) {
		batch_add(vc->b, vc->m, n->parent->ino, n->name, 0);
		vc->names++;
	}
	if (gone)
		return; /* looked up again, if ever, as a new name */
	if (other && n->kind == NODE_KEY) {
		n->cache_gen = n->cache_users ? -1 : 0;
		n->attr_gen = 0;
	}
	if (attrs) {
		size_t before = vc->b->n;

		batch_add(vc->b, vc->m, 0, NULL, n->ino);
		if (vc->b->n > before && other && n->kind == NODE_GEN_KEY)
			vc->b->v[before].data = true;
		if (vc->b->n > before)
			vc->b->v[before].mode_only = !other;
		vc->attrs++;
	}
}

void watcher_change_view(struct fs *fs, struct mount *m, const struct view *v)
{
	struct batch b = { 0 };
	struct view_change vc = { .b = &b, .m = m, .from = m->view, .to = v,
				  .dflt = fs->cfg->mode };

	assert(m->se && !m->per_caller && !m->vtree && m->view && v);
	assert(strcmp(m->view->name, v->name) == 0 && m->view->layout == v->layout);
	pthread_mutex_lock(&fs->lock);
	node_table_each(&m->nodes, change_node, &vc);
	m->view = v;
	pthread_mutex_unlock(&fs->lock);
	/* after the swap: a lookup answered for the old view holds its
	 * folder's lock in the kernel until its reply is in, and the entry
	 * invalidation waits for that lock; a GETATTR sent before an
	 * attribute invalidation has its reply dropped */
	batch_run(fs, &b);
	log_msg(LOG_LEVEL_INFO, "view \"%s\": changed in place at '%s' (%zu name%s and %zu attribute%s invalidated)",
		v->name, m->mountpoint, vc.names, vc.names == 1 ? "" : "s", vc.attrs,
		vc.attrs == 1 ? "" : "s");
}

/* Watch the database and its WAL for writes, those of them that exist
 * (again: a file that appeared anew is another inode). */
static void watch_files(struct watcher *w)
{
	static const char *const suffix[] = { "", "-wal" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(suffix) / sizeof(*suffix); i++) {
		snprintf(path, sizeof(path), "%s/%s%s", w->dir, w->db_name, suffix[i]);
		if (inotify_add_watch(w->inotify_fd, path, IN_MODIFY | IN_CLOSE_WRITE) < 0 &&
		    errno != ENOENT)
			log_msg(LOG_LEVEL_WARNING, "watch: no inotify on '%s': %s", path,
				strerror(errno));
	}
}

/* Did this inotify batch touch the database or its WAL?  Events without a
 * name come from the watches on those two files; the folder's (with a
 * name) say a file appeared. */
static bool drain_inotify(struct watcher *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	size_t dblen = strlen(w->db_name);
	bool hit = false, rewatch = false;
	ssize_t n;

	while ((n = read(w->inotify_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (!ev->len || (ev->mask & IN_Q_OVERFLOW))
				hit = true;
			else if (strncmp(ev->name, w->db_name, dblen) == 0 &&
				 (ev->name[dblen] == '\0' || strcmp(ev->name + dblen, "-wal") == 0))
				hit = rewatch = true; /* appeared */
			if (ev->mask & (IN_IGNORED | IN_Q_OVERFLOW))
				rewatch = true; /* a watched file went */
			p += sizeof(*ev) + ev->len;
		}
	}
	if (rewatch)
		watch_files(w);
	return hit;
}

static void *watcher_thread(void *arg)
{
	struct watcher *w = arg;
	struct fs *fs = w->fs;
	int base = fs->cfg->strategy == UPDATE_TTL ? (int)fs->cfg->ttl * 1000 : 1000;
	int timeout = base, backoff = 0;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = w->event_fd, .events = POLLIN },
			{ .fd = w->inotify_fd, .events = POLLIN },
		};
		int n = poll(p, w->inotify_fd >= 0 ? 2 : 1, timeout);
		bool stop, reload, woke = false;
		unsigned long lost, refused;

		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && (p[0].revents & POLLIN)) {
			uint64_t x;

			if (read(w->event_fd, &x, sizeof(x)) < 0)
				x = 0;
		}
		if (n > 0 && w->inotify_fd >= 0 && (p[1].revents & POLLIN))
			woke = drain_inotify(w);
		pthread_mutex_lock(&fs->lock);
		stop = w->stop;
		reload = w->reload;
		w->reload = false;
		pthread_mutex_unlock(&fs->lock);
		if (stop)
			break;
		if (reload) {
			/* here, so that pending checks, invalidations and status
			 * writes never see the mounts change under them */
			fs_reload(fs, w->st);
			status_write(fs, w->revision);
		}
		audit_counts(&lost, &refused);
		if (lost != w->audit_lost || refused != w->audit_refused) {
			w->audit_lost = lost;
			w->audit_refused = refused;
			status_write(fs, w->revision);
		}
		if (catch_up(w)) {
			backoff = 0;
			timeout = base;
		} else if (woke || backoff) {
			/* a commit's WAL write woke us before its index was
			 * published: look again shortly */
			backoff = backoff ? backoff * 2 : 1;
			if (backoff > 64)
				backoff = 0;
			timeout = backoff ? backoff : base;
		} else {
			timeout = base;
		}
	}
	return NULL;
}

int watcher_start(struct fs *fs, char *err, size_t len)
{
	struct watcher *w = calloc(1, sizeof(*w));
	char serr[STORE_ERRMSG_MAX], *dir = NULL, *slash;
	struct stat now;

	err[0] = '\0';
	if (!w) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	w->fs = fs;
	w->inotify_fd = -1;
	w->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->event_fd < 0) {
		snprintf(err, len, "cannot create an eventfd: %s", strerror(errno));
		goto fail;
	}
	/* before opening: if the file is replaced in between, the first
	 * check sees another inode and reopens */
	if (stat(fs->cfg->conf.store_path, &now) != 0) {
		snprintf(err, len, "cannot open store '%s': %s", fs->cfg->conf.store_path,
			 strerror(errno));
		goto fail;
	}
	w->dev = now.st_dev;
	w->ino = now.st_ino;
	if (store_open_with(&w->st, fs->cfg->conf.store_path, &fs->unlock, STORE_RDONLY, serr)) {
		snprintf(err, len, "%s", serr);
		goto fail;
	}
	store_uuid(w->st, fs->uuid);
	shm_record(w);
	if (store_revision(w->st, &w->revision)) {
		snprintf(err, len, "%s", store_errmsg(w->st));
		goto fail;
	}
	dir = strdup(fs->cfg->conf.store_path);
	if (!dir)
		goto fail;
	slash = strrchr(dir, '/');
	w->db_name = strdup(slash ? slash + 1 : dir);
	if (!w->db_name)
		goto fail;
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	w->dir = strdup(slash ? dir : ".");
	if (!w->dir)
		goto fail;
	if (fs->cfg->strategy == UPDATE_WATCH) {
		w->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (w->inotify_fd < 0 ||
		    inotify_add_watch(w->inotify_fd, w->dir, IN_MOVED_TO | IN_CREATE) < 0) {
			log_msg(LOG_LEVEL_WARNING,
				"watch: no inotify on '%s' (%s): checking every second instead",
				dir, strerror(errno));
			if (w->inotify_fd >= 0)
				close(w->inotify_fd);
			w->inotify_fd = -1;
		} else {
			watch_files(w);
		}
	}
	free(dir);
	dir = NULL;
	fs->watcher = w;
	/* what was created since the views were checked has no change left
	 * for catch_up() to see */
	fs_pending_check(fs, w->st);
	status_write(fs, w->revision);
	if (pthread_create(&w->thread, NULL, watcher_thread, w) != 0) {
		fs->watcher = NULL;
		snprintf(err, len, "cannot start the watcher thread");
		goto fail;
	}
	pthread_setname_np(w->thread, "secretfs-watch"); /* for ps -L, top -H */
	return 0;
fail:
	if (!err[0])
		snprintf(err, len, "out of memory");
	free(dir);
	free(w->dir);
	free(w->db_name);
	store_close(w->st);
	if (w->event_fd >= 0)
		close(w->event_fd);
	free(w);
	return -1;
}

void watcher_stop(struct fs *fs)
{
	struct watcher *w = fs->watcher;
	uint64_t one = 1;

	if (!w)
		return;
	pthread_mutex_lock(&fs->lock);
	w->stop = true;
	pthread_mutex_unlock(&fs->lock);
	if (write(w->event_fd, &one, sizeof(one)) < 0)
		pthread_cancel(w->thread);
	pthread_join(w->thread, NULL);
	fs->watcher = NULL;
	status_remove();
	if (w->inotify_fd >= 0)
		close(w->inotify_fd);
	close(w->event_fd);
	store_close(w->st);
	free(w->queued);
	free(w->dir);
	free(w->db_name);
	free(w);
}
