/*
 * ops.c - the FUSE low-level operations: one small handler per operation,
 * each replying exactly once.
 *
 * Views.  Every request is answered for one view: the mount's own, or in the
 * per-caller mount the view the caller's cgroup selects (none: an empty
 * root).  Whatever the view does not grant behaves exactly as a name that
 * does not exist (ENOENT), in lookup, getattr, opendir, readlink, open and
 * read alike.  Names that break the Kubernetes rules cannot exist, so they
 * get ENOENT without a trip to the database.  The mount is read-only:
 * anything that would change it gets EROFS.
 *
 * Snapshots.  An open reads and authenticates the whole value once and keeps
 * it in the handle, so a reader sees one generation for as long as it holds
 * the file open, whatever changes meanwhile.  A value that fails
 * authentication gives EIO and a log line naming the secret, never a byte.
 *
 * Page cache (plain layout).  A key keeps one inode for as long as the
 * kernel remembers it, so a file bind-mounted on its own stays live.  Its
 * page cache must then never mix generations: node->cache_gen says which
 * generation the cached pages hold and cache_users how many open handles
 * read through them.  An open of that generation (or of any, when there are
 * no users) reads through the cache, flushing it first (keep_cache = 0) if
 * it held another generation.  An open of a newer generation while older
 * handles still read through the cache uses direct I/O: it reads its own
 * snapshot from the daemon and leaves the old pages to their readers.  While
 * there are users, st_size is the cached generation's, so their reads are
 * not cut short.  And a cached read trusts the size the kernel holds, so an
 * open reads through the cache only if that size is known to be this
 * generation's (node->attr_gen, see attr_told()) or has been invalidated
 * since (attr_stale: the kernel will ask before using it); otherwise it
 * reads directly and has the size invalidated for the next open.  That
 * asking is a GETATTR (or LOOKUP) whose reply the kernel drops if the
 * attributes were invalidated while it was on its way; the reader that
 * sent it then reads its pages against the size held before, another
 * generation's.  So a key's attributes are never invalidated while handles
 * read its cached pages (watch.c defers it to the last release): from the
 * first cached open on, every reply the kernel may act on tells the cached
 * generation's size.  Change detection (watch.c) invalidates only
 * attributes and names; the next open decides about the pages.
 * sendfile() and splice() read through the pages up to the size the kernel
 * holds without asking for it (on 6.18 even for a direct_io open): an open
 * whose value's size the kernel may not hold gives it that size before it
 * is answered (push_size()), and a direct handle's page fill, while older
 * handles read cached pages, gets their bytes (read_for_cache()).
 *
 * The kubelet layout (layout = kubelet): a secret's folder holds "..data",
 * a symlink to "..rev-N", the folder of the generation written at store
 * revision N (a name never reused, even if the secret is re-created), whose files never
 * change (inode per generation, cached freely), and each key as a symlink to
 * "..data/KEY".  Looking up "..rev-N" takes a snapshot of generation N (one
 * transaction) that lives as long as the kernel keeps that folder, so
 * everything read through one resolution of "..data" is of one generation.
 *
 * Locking.  fs->lock guards the node tables, the page-cache bookkeeping,
 * the poll list and each mount's view (a reload changes a view in place,
 * see req_view()); it is held briefly, never across a reply, a store read
 * or a decryption.  Those go through one of a small pool of read-only store
 * handles (reader.c), each behind its own lock, so that workers reading
 * different secrets (or the same) do not queue behind one another.  A
 * handler holding fs->lock lets it go for a store read (read_unlocked()):
 * the nodes its request names stay, as the kernel holds them until it is
 * answered, but anything else about the tables is looked at again after.
 * Shared plaintext (value.c) has a lock of its own, and the decryption is
 * done before it is taken: two opens decrypting the same revision at once
 * keep the first one shared and drop the other.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "fs.h"

#define CGROUP_MAX   4096
#define FOREVER      86400.0 /* "never changes": a day, then asked again */
/* A view served from the kernel's caches alone asks the daemon nothing
 * until a name times out: a daemon killed outright is noticed (ENOTCONN)
 * only then.  Names that lead to the current generation (the namespace,
 * the secret, ..data, each KEY link) are trusted this long; ..rev-N and
 * its files, which never change, for FOREVER. */
#define KERNEL_ONLY_LIVE 2.0
#define LINK_MAX_LEN (STORE_MAX_KEY + 16)

/* An open folder: its entries, rendered once at opendir. */
struct dir_buf {
	atomic_int refs;
	char *buf;
	size_t size;
};

/* The view a request is answered for. */
struct req_view {
	const struct view *view; /* NULL and !none: the full tree */
	bool none;               /* per-caller mount, no view matches */
	enum layout layout;
	pid_t pid;
	uid_t uid;
	char cgroup[CGROUP_MAX];
};

/* What a name is, for one request. */
struct target {
	enum node_kind kind;
	const char *key;     /* the store key a KEY or GEN_KEY stands for */
	mode_t mode;         /* S_IF* | permission bits */
	uint64_t size;
	int64_t generation;
	int64_t revision;    /* the secret's last change: never repeats */
	int64_t updated;
	int64_t expires;     /* when it stops existing (bootstrap tokens), or 0 */
	bool immutable;      /* content never changes: cache it for long */
	struct store_secret *snap; /* GEN: a new snapshot, for the node */
};

static void dir_buf_put(struct dir_buf *db)
{
	if (atomic_fetch_sub(&db->refs, 1) == 1) {
		free(db->buf);
		free(db);
	}
}

/*
 * Every open file the kernel holds.  A RELEASE the kernel had queued when
 * a mount went away under an open file (a lazy unmount, a killed reader at
 * shutdown) never comes: ops_free_open_files() frees what is left at exit,
 * so that no handle (and no plaintext it shares) outlives the daemon's
 * teardown unnoticed.
 */
static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;
static struct open_file *files;

static void file_listed(struct open_file *of)
{
	pthread_mutex_lock(&files_lock);
	of->prev_file = NULL;
	of->next_file = files;
	if (files)
		files->prev_file = of;
	files = of;
	of->listed = true;
	pthread_mutex_unlock(&files_lock);
}

static void file_free(struct open_file *of)
{
	value_put(of->value); /* the last handle wipes the plaintext */
	free(of->ns);
	free(of->secret);
	free(of->key);
	free(of);
}

static void open_file_put(struct open_file *of)
{
	if (atomic_fetch_sub(&of->refs, 1) != 1)
		return;
	if (of->listed) {
		pthread_mutex_lock(&files_lock);
		if (of->prev_file)
			of->prev_file->next_file = of->next_file;
		else
			files = of->next_file;
		if (of->next_file)
			of->next_file->prev_file = of->prev_file;
		pthread_mutex_unlock(&files_lock);
	}
	file_free(of);
}

void ops_free_open_files(void)
{
	pthread_mutex_lock(&files_lock);
	while (files) {
		struct open_file *of = files;

		files = of->next_file;
		file_free(of);
	}
	pthread_mutex_unlock(&files_lock);
}

static struct mount *mount_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static bool view_disabled(const struct caller_views *set, const struct view *v)
{
	/* the watcher clears a slot when its view comes up (main.c) */
	for (size_t i = 0; i < set->ndisabled; i++)
		if (__atomic_load_n(&set->disabled[i], __ATOMIC_ACQUIRE) == v)
			return true;
	return false;
}

/*
 * The view a request is answered for, in two steps: req_view() before
 * fs->lock (the per-caller mount's cgroup look-up reads /proc), then
 * req_view_lock(), which takes fs->lock and reads the mount's own view
 * under it, as a reload may change that view in place (struct mount).  A
 * request keeps the view it began with; lookup, the one that adds nodes,
 * starts again if the view changed while it read the store
 * (view_moved()), so that no node of the old view lands in the table.
 */
static void req_view(fuse_req_t req, const struct mount *m, struct req_view *rv)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	const struct caller_views *set;
	const struct view *v;

	rv->view = NULL; /* a per-view mount's: req_view_lock() */
	rv->none = false;
	rv->layout = m->layout;
	rv->pid = ctx->pid;
	rv->uid = ctx->uid;
	rv->cgroup[0] = '\0';
	if (!m->per_caller)
		return;
	if (caller_cgroup_cached(ctx->pid, rv->cgroup, sizeof(rv->cgroup), &rv->pid) != 0) {
		rv->none = true; /* a caller we cannot pin down sees nothing */
		return;
	}
	/* one set for the whole request: a reload swaps it whole */
	set = __atomic_load_n(&m->fs->callers, __ATOMIC_ACQUIRE);
	v = config_view_for_cgroup(set->cfg, rv->cgroup);
	if (v)
		v = set->use[v - set->cfg->views];
	rv->view = v;
	rv->none = !v || view_disabled(set, v);
}

static void req_view_lock(struct mount *m, struct req_view *rv)
{
	pthread_mutex_lock(&m->fs->lock);
	if (!m->per_caller)
		rv->view = mount_view(m);
}

/* Did a reload change the mount's view since rv was taken?  Then rv is
 * the new one.  Under fs->lock. */
static bool view_moved(struct mount *m, struct req_view *rv)
{
	if (m->per_caller || rv->view == mount_view(m))
		return false;
	rv->view = mount_view(m);
	return true;
}

/*
 * Is view a (a handle's) of the line of view b (the caller's now)?  A
 * reload that changes a view makes a new object of the same name; a
 * handle opened through the old one reads on, as it would through an
 * unchanged view: an open file is a snapshot of what was granted at open
 * (as for a key deleted meanwhile, see "Snapshots" above).
 */
static bool same_view_line(const struct view *a, const struct view *b)
{
	return a == b || (a && b && strcmp(a->name, b->name) == 0);
}

/* Folders are listable where files are readable: r implies x. */
static mode_t dir_mode(mode_t file_mode)
{
	return file_mode | ((file_mode & 0444) >> 2);
}

static mode_t view_mode(const struct mount *m, const struct req_view *rv)
{
	return rv->view ? rv->view->mode : m->fs->cfg->mode;
}

/* A folder's mode: x where r, on the union of what its files grant (see
 * view_folder_mode()); the root's for ns NULL, a namespace's for name NULL. */
static mode_t folder_mode(const struct mount *m, const struct req_view *rv,
			  const char *ns, const char *name)
{
	return dir_mode(view_folder_mode(rv->view, ns, name, m->fs->cfg->mode));
}

static void fill_attr(const struct mount *m, const struct req_view *rv,
		      fuse_ino_t ino, const struct target *t, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = rv->view ? rv->view->uid : m->fs->cfg->uid;
	st->st_gid = rv->view ? rv->view->gid : m->fs->cfg->gid;
	st->st_mode = t->mode;
	st->st_nlink = S_ISDIR(t->mode) ? 2 : 1;
	st->st_size = (off_t)t->size;
	st->st_blocks = (blkcnt_t)((t->size + 511) / 512);
	st->st_blksize = 4096;
	st->st_mtime = st->st_ctime = st->st_atime = t->updated;
}

/*
 * The per-caller mount is mounted without default_permissions: the mode
 * bits a caller's view gives (owner, group or other, as the kernel would
 * check them) are checked here, at lookup (x on the folder), opendir (r)
 * and open (r).  uid 0 passes, as root with CAP_DAC_OVERRIDE would.  The
 * group class counts the caller's supplementary groups too (Kubernetes'
 * fsGroup is one), read from /proc only when the answer depends on them.
 */
static bool in_groups(fuse_req_t req, gid_t gid)
{
	gid_t few[32], *list = few;
	int n = fuse_req_getgroups(req, 32, few);
	bool found = false;

	if (n > 32) { /* fuse_req_getgroups() said how many there are */
		int max = n;

		list = calloc((size_t)max, sizeof(*list));
		n = list ? fuse_req_getgroups(req, max, list) : -ENOMEM;
		if (n > max)
			n = max;
	}
	for (int i = 0; i < n && !found; i++)
		found = list[i] == gid;
	if (list != few)
		free(list);
	return found; /* none readable: the "other" class, as for a stranger */
}

static bool may(fuse_req_t req, const struct mount *m, const struct req_view *rv,
		mode_t mode, unsigned want)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	uid_t uid = rv->view ? rv->view->uid : m->fs->cfg->uid;
	gid_t gid = rv->view ? rv->view->gid : m->fs->cfg->gid;
	unsigned bits;

	if (!m->per_caller || ctx->uid == 0)
		return true;
	if (ctx->uid == uid)
		bits = mode >> 6;
	else if (ctx->gid == gid || ((((mode >> 3) ^ mode) & want) && in_groups(req, gid)))
		bits = mode >> 3;
	else
		bits = mode;
	return (bits & want) == want;
}

/*
 * How long the kernel may trust what it was told about t.  A per-caller
 * mount's names are asked for every time (the kernel's dentries are shared
 * by callers who see different trees), and so are the attributes of its
 * root, the one folder all views share; every other inode there belongs to
 * one view's tree, and its attributes are cached as on a per-view mount.
 */
static double timeout_for(const struct mount *m, const struct target *t, bool entry)
{
	double limit = t->immutable ? FOREVER : m->timeout;

	if (m->per_caller && (entry || t->kind == NODE_ROOT))
		return 0.0;
	if (m->kernel_only && t->kind != NODE_GEN && t->kind != NODE_GEN_KEY &&
	    limit > KERNEL_ONLY_LIVE)
		limit = KERNEL_ONLY_LIVE;
	if (t->expires) { /* no cached name outlives its secret */
		double left = (double)(t->expires - time(NULL));

		limit = left < 0 ? 0.0 : left < limit ? left : limit;
	}
	return limit;
}

/* Could a child of a kind-node named name exist at all? */
static int name_check(enum node_kind parent, const char *name)
{
	char why[STORE_ERRMSG_MAX];

	if (strlen(name) > STORE_MAX_NAME)
		return -ENAMETOOLONG;
	switch (parent) {
	case NODE_ROOT:
		return store_check_namespace(name, why) ? -ENOENT : 0;
	case NODE_NS:
		return store_check_name(name, why) ? -ENOENT : 0;
	case NODE_SECRET:
		if (strcmp(name, DATA_NAME) == 0 || strncmp(name, GEN_PREFIX, 6) == 0)
			return 0; /* checked against the layout later */
		return store_check_key(name, why) ? -ENOENT : 0;
	case NODE_GEN:
		return store_check_key(name, why) ? -ENOENT : 0;
	default:
		return -ENOTDIR;
	}
}

/* The message of this thread's last failed store read (read_put()). */
static __thread char read_errmsg[STORE_ERRMSG_MAX];

/* Take a reader for a store read, fs->lock not held.  0, or a negative
 * errno with read_errmsg saying why. */
static int read_get(struct fs *fs, struct fs_reader **r)
{
	int err = reader_get(fs, r, read_errmsg);

	return err && err != -ENOMEM ? -EIO : err; /* the store, not the name */
}

/* Give r back after a read that returned err (returned). */
static int read_put(struct fs_reader *r, int err)
{
	if (err)
		snprintf(read_errmsg, sizeof(read_errmsg), "%s", store_errmsg(r->st));
	reader_put(r);
	return err;
}

/*
 * CALL, a store read through the handle ST names, with fs->lock (held)
 * let go meanwhile and held again after: see "Locking" above.
 */
#define read_unlocked(fs, st, call) __extension__ ({			\
	struct fs_reader *r_;						\
	int e_;								\
	assert(fs_lock_held(&(fs)->lock));				\
	pthread_mutex_unlock(&(fs)->lock);				\
	e_ = read_get((fs), &r_);					\
	if (!e_) {							\
		struct store *st = r_->st;				\
		e_ = read_put(r_, (call));				\
	}								\
	pthread_mutex_lock(&(fs)->lock);				\
	e_;								\
})

/*
 * Turn a store error into the errno to reply, logging what is not ENOENT.
 * Readers in a loop repeat a failure thousands of times a second: a message
 * the same as the last one logged is counted instead, and the count logged
 * with the next message or after STORE_ERR_QUIET seconds.  Under fs->lock.
 */
#define STORE_ERR_QUIET 10
static int store_err(struct fs *fs, int err)
{
	static char last[STORE_ERRMSG_MAX];
	static time_t last_time;
	static unsigned long repeats;
	const char *msg;
	time_t now;

	assert(fs_lock_held(&fs->lock)); /* last, last_time, repeats */
	if (err == -ENOENT || err == -ENOTDIR || err == -ENAMETOOLONG || err == -EINVAL)
		return -err;
	msg = read_errmsg;
	now = time(NULL);
	if (strcmp(msg, last) == 0 && now - last_time < STORE_ERR_QUIET) {
		repeats++;
	} else {
		if (repeats)
			log_msg(LOG_LEVEL_WARNING, "the last message repeated %lu more times",
				repeats);
		log_msg(err == -EBADMSG ? LOG_LEVEL_ERROR : LOG_LEVEL_WARNING, "%s", msg);
		snprintf(last, sizeof(last), "%s", msg);
		last_time = now;
		repeats = 0;
	}
	return err == -ENOMEM ? ENOMEM : EIO;
}

/*
 * The one write the driver makes: an event saying which secret failed
 * authentication, for 'secretctl get events'.  Through a connection of its
 * own, opened when first needed; never a value; a secret read in a loop
 * gives one event a second.
 */
void fs_tamper_event(struct fs *fs, const char *ns, const char *secret)
{
	char err[STORE_ERRMSG_MAX], object[STORE_MAX_NAME + 16], which[sizeof(fs->last_event_of)];
	time_t now = time(NULL);

	snprintf(which, sizeof(which), "%s/%s", ns, secret);
	pthread_mutex_lock(&fs->events_lock);
	if (now == fs->last_event && strcmp(which, fs->last_event_of) == 0)
		goto out;
	fs->last_event = now;
	memcpy(fs->last_event_of, which, sizeof(which));
	if (!fs->events && store_open_with(&fs->events, fs->cfg->conf.store_path, &fs->unlock, 0, err)) {
		log_msg(LOG_LEVEL_WARNING, "cannot record an event: %s", err);
		goto out;
	}
	snprintf(object, sizeof(object), "secret/%s", secret);
	if (store_event_add(fs->events, "Warning", "AuthenticationFailed", ns, object,
			    "a value or its metadata failed authentication (tampered or corrupt): not served"))
		log_msg(LOG_LEVEL_WARNING, "cannot record an event: %s", store_errmsg(fs->events));
out:
	pthread_mutex_unlock(&fs->events_lock);
}

/* err, from reading ns/secret; one that failed authentication (a value,
 * or the metadata the store checks first) is also an event. */
static int tamper_check(struct fs *fs, int err, const char *ns, const char *secret)
{
	if (err == -EBADMSG)
		fs_tamper_event(fs, ns, secret);
	return err;
}

static void target_of_stat(struct target *t, enum node_kind kind, mode_t mode,
			   const struct store_stat *s)
{
	t->kind = kind;
	t->mode = mode;
	t->size = s->size;
	t->generation = s->generation;
	t->revision = s->revision;
	t->updated = s->updated;
	t->expires = s->expires;
	t->immutable = s->immutable && kind != NODE_NS;
}

static void link_target(char *buf, size_t len, const struct node *parent_secret,
			const char *name, enum node_kind kind, int64_t gen)
{
	(void)parent_secret;
	if (kind == NODE_DATA)
		snprintf(buf, len, GEN_PREFIX "%" PRId64, gen);
	else
		snprintf(buf, len, DATA_NAME "/%s", name);
}

/* A generation's folder name, "..rev-N", as N; -1 if it is not one. */
static int64_t gen_of_name(const char *name)
{
	const char *p = name + strlen(GEN_PREFIX);
	char *end;
	long long n;

	if (strncmp(name, GEN_PREFIX, strlen(GEN_PREFIX)) != 0 || *p < '1' || *p > '9')
		return -1;
	errno = 0;
	n = strtoll(p, &end, 10);
	return *end || errno ? -1 : n;
}

/* The snapshot of revision rev kept by a ..data node (node_keep_recent),
 * taken off it; NULL if none. */
static struct store_secret *recent_take(struct node *data, int64_t rev)
{
	for (int i = 0; i < DATA_RECENT; i++) {
		struct store_secret *s = data->recent[i];

		if (s && s->revision == rev) {
			memmove(&data->recent[i], &data->recent[i + 1],
				(DATA_RECENT - 1 - (size_t)i) * sizeof(*data->recent));
			data->recent[DATA_RECENT - 1] = NULL;
			return s;
		}
	}
	return NULL;
}

/* Whether a snapshot of revision rev is there for a lookup of its
 * "..rev-N" under secret node sn: one kept by its folder, or by ..data. */
static bool snap_ready(struct mount *m, struct node *sn, struct node *data,
		       const struct view *v, int64_t rev)
{
	char name[32];
	struct node *gen;

	snprintf(name, sizeof(name), GEN_PREFIX "%" PRId64, rev);
	gen = node_find(&m->nodes, sn, name, v);
	if (gen && gen->snap)
		return true;
	for (int i = 0; i < DATA_RECENT; i++)
		if (data->recent[i] && data->recent[i]->revision == rev)
			return true;
	return false;
}

/*
 * What the child name of parent is for this request: -ENOENT if the view
 * does not grant it or the store lacks it; else t describes it.  For a
 * generation folder not yet known as a node, t->snap is a new snapshot that
 * the caller must keep or free.
 */
static int resolve(struct mount *m, const struct req_view *rv, struct node *parent,
		   const char *name, struct target *t)
{
	struct fs *fs = m->fs;
	const struct view_grant *g;
	const char *ns, *secret, *unused;
	struct store_stat s;
	mode_t mode;
	int err;

	assert(fs_lock_held(&fs->lock));
	memset(t, 0, sizeof(*t));
	if (rv->none)
		return -ENOENT;
	if ((err = name_check(parent->kind, name)))
		return err;
	node_path(parent, &ns, &secret, &unused);
	switch (parent->kind) {
	case NODE_ROOT:
		if (!view_ns_visible(rv->view, name))
			return -ENOENT;
		if ((err = read_unlocked(fs, st, store_ns_stat(st, name, &s))))
			return err;
		target_of_stat(t, NODE_NS, S_IFDIR | folder_mode(m, rv, name, NULL), &s);
		t->size = 0;
		return 0;
	case NODE_NS:
		if (!view_grant_for(rv->view, ns, name))
			return -ENOENT;
		if ((err = tamper_check(fs, read_unlocked(fs, st, store_secret_stat(st, ns, name, &s)),
					ns, name)))
			return err;
		target_of_stat(t, NODE_SECRET, S_IFDIR | folder_mode(m, rv, ns, name), &s);
		t->size = 0;
		return 0;
	case NODE_SECRET:
		g = view_grant_for(rv->view, ns, secret);
		if (!g)
			return -ENOENT;
		if (rv->layout == LAYOUT_KUBELET && strcmp(name, DATA_NAME) == 0) {
			char link[LINK_MAX_LEN];

			if ((err = tamper_check(fs, read_unlocked(fs, st,
						store_secret_stat(st, ns, secret, &s)), ns, secret)))
				return err;
			target_of_stat(t, NODE_DATA, S_IFLNK | 0777, &s);
			t->immutable = false; /* the link moves, whatever the data */
			link_target(link, sizeof(link), parent, name, NODE_DATA, s.revision);
			t->size = strlen(link);
			return 0;
		}
		if (rv->layout == LAYOUT_KUBELET && gen_of_name(name) > 0) {
			int64_t want = gen_of_name(name);
			struct node *have = node_find(&m->nodes, parent, name, rv->view), *data;
			const struct store_secret *snap = have ? have->snap : NULL;

			if (!snap) {
				/* a snapshot readlink(..data) took, or a new one */
				data = node_find(&m->nodes, parent, DATA_NAME, rv->view);
				t->snap = data ? recent_take(data, want) : NULL;
				if (!t->snap && (err = read_unlocked(fs, st, store_secret_get(st,
						ns, secret, STORE_WITH_VALUES, &t->snap)))) {
					if (err == -EBADMSG)
						fs_tamper_event(fs, ns, secret);
					return err;
				}
				if (t->snap->revision != want) {
					store_secret_free(t->snap);
					t->snap = NULL;
					return -ENOENT; /* that generation is gone */
				}
				snap = t->snap;
			}
			t->kind = NODE_GEN;
			t->mode = S_IFDIR | folder_mode(m, rv, ns, secret);
			t->generation = snap->generation;
			t->revision = snap->revision;
			t->updated = snap->updated;
			t->expires = snap->expires;
			t->immutable = true;
			return 0;
		}
		if (name[0] == '.' && name[1] == '.')
			return -ENOENT;
		t->key = view_file_key(rv->view, g, name, m->fs->cfg->mode, &mode);
		if (!t->key)
			return -ENOENT;
		if ((err = tamper_check(fs, read_unlocked(fs, st,
					store_key_stat(st, ns, secret, t->key, &s)), ns, secret)))
			return err;
		if (rv->layout == LAYOUT_KUBELET) {
			target_of_stat(t, NODE_KEY, S_IFLNK | 0777, &s);
			t->size = strlen(DATA_NAME) + 1 + strlen(name);
			t->immutable = false;
			return 0;
		}
		target_of_stat(t, NODE_KEY, S_IFREG | mode, &s);
		{
			/* while handles read cached pages, report their size */
			struct node *n = node_find(&m->nodes, parent, name, rv->view);

			if (n && n->cache_users > 0) {
				t->size = n->cache_size;
				t->revision = n->cache_gen;
				t->immutable = false;
			}
		}
		return 0;
	case NODE_GEN: {
		const struct store_item *it;

		g = view_grant_for(rv->view, ns, secret);
		if (!g)
			return -ENOENT;
		t->key = view_file_key(rv->view, g, name, m->fs->cfg->mode, &mode);
		it = t->key ? store_secret_item(parent->snap, t->key) : NULL;
		if (!it)
			return -ENOENT;
		t->kind = NODE_GEN_KEY;
		t->mode = S_IFREG | mode;
		t->size = it->len;
		t->generation = parent->snap->generation;
		t->revision = parent->snap->revision;
		t->updated = parent->snap->updated;
		t->expires = parent->snap->expires;
		t->immutable = true; /* a generation never changes */
		return 0;
	}
	default:
		return -ENOTDIR;
	}
}

/* resolve() for an existing node; the root is always there. */
static int resolve_node(struct mount *m, const struct req_view *rv, struct node *n,
			struct target *t)
{
	int err;

	if (n->view != rv->view && n->kind != NODE_ROOT)
		return -ENOENT; /* a per-caller mount's node of another view */
	if (n->kind == NODE_ROOT) {
		memset(t, 0, sizeof(*t));
		t->kind = NODE_ROOT;
		t->mode = S_IFDIR | folder_mode(m, rv, NULL, NULL);
		t->updated = m->fs->started;
		return 0;
	}
	err = resolve(m, rv, n->parent, n->name, t);
	if (!err && t->kind != n->kind)
		err = -ENOENT; /* e.g. a per-caller view with another layout */
	store_secret_free(t->snap);
	t->snap = NULL;
	return err;
}

/*
 * Record an open (allowed) or a refusal, if the mount or view audits.
 * -EIO when an allowed open's record was lost and its view says
 * audit_failure = closed: the open must then be refused; else 0 (a lost
 * record of a fail-open view is counted and logged by audit.c).
 */
static int audit(const struct mount *m, const struct req_view *rv,
		 const char *ns, const char *secret, const char *key,
		 int64_t generation, bool allowed)
{
	char cgroup[CGROUP_MAX] = "";
	struct audit_event ev = {
		.view = rv->view ? rv->view->name : NULL,
		.mount = m->mountpoint,
		.pid = rv->pid,
		.uid = rv->uid,
		.cgroup = rv->cgroup[0] ? rv->cgroup : NULL,
		.ns = ns,
		.secret = secret,
		.key = key,
		.generation = generation,
		.allowed = allowed,
	};

	if (!(m->audit || (rv->view && rv->view->audit)))
		return 0;
	/* per-view mounts resolve no cgroup for access; the record wants one */
	if (!ev.cgroup && caller_cgroup(rv->pid, cgroup, sizeof(cgroup), NULL) == 0)
		ev.cgroup = cgroup;
	if (audit_record(&ev) == 0 || !allowed || !rv->view || !rv->view->audit_fail_closed)
		return 0;
	audit_count_refused();
	return -EIO;
}

/* A lookup the view refused: record it if the object really exists, so an
 * auditor sees probing for secrets without the log filling with typos. */
static void audit_denied(struct mount *m, const struct req_view *rv,
			 const struct node *parent, const char *name)
{
	const char *ns, *secret, *unused, *file = NULL;
	const struct view_grant *g;
	struct store_stat s;
	struct fs *fs = m->fs;
	mode_t mode;

	if (!(m->audit || (rv->view && rv->view->audit)))
		return;
	node_path(parent, &ns, &secret, &unused);
	switch (parent->kind) {
	case NODE_ROOT:
		if ((!rv->none && view_ns_visible(rv->view, name)) ||
		    read_unlocked(fs, st, store_ns_stat(st, name, &s)) != 0)
			return;
		(void)audit(m, rv, name, NULL, NULL, 0, false);
		return;
	case NODE_NS:
		secret = name;
		break;
	case NODE_SECRET:
		file = name;
		break;
	default:
		return;
	}
	g = rv->none ? NULL : view_grant_for(rv->view, ns, secret);
	if (g && (!file || view_file_key(rv->view, g, file, 0, &mode)))
		return; /* granted, merely missing: not a denial */
	if (read_unlocked(fs, st, store_secret_stat(st, ns, secret, &s)) != 0)
		return;
	(void)audit(m, rv, ns, secret, file, s.generation, false);
}

/*
 * Note the size of revision rev being told the kernel for a plain key.  The
 * kernel applies attribute replies in an order we do not control (and drops
 * those older than its last invalidation), so the size it holds is known
 * only while every reply since the last invalidation told the same
 * revision; otherwise it is mixed until the next invalidation, which we ask
 * for.
 */
static void attr_told(struct mount *m, struct node *n, int64_t rev, uint64_t size)
{
	if (n->kind != NODE_KEY)
		return;

	if (n->attr_stale || n->attr_gen == 0) {
		n->attr_gen = rev;
		n->attr_size = size;
		n->attr_stale = false;
		n->attr_mixed = false;
	} else if (n->attr_gen != rev && !n->attr_mixed) {
		n->attr_mixed = true;
		watcher_queue_attr(m->fs, m, n->ino);
	}
}

static void fs_op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct mount *m = userdata;

	if (m->kernel_only && (conn->capable & FUSE_CAP_CACHE_SYMLINKS))
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	/* files that never change need no attribute check on every read;
	 * nor do a per-caller mount's: the LOOKUP of every open (names are
	 * asked each time) already brings their attributes, and their pages
	 * are kept or dropped at every open (see "page cache" above) */
	if (m->kernel_only || m->per_caller)
		conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
	if (m->kernel_only && !(conn->capable & FUSE_CAP_NO_OPEN_SUPPORT))
		log_msg(LOG_LEVEL_WARNING, "%s: the kernel cannot skip opens: each open costs a round trip",
			m->mountpoint);
}

static void fs_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct mount *m = mount_of(req);
	struct fs *fs = m->fs;
	struct fuse_entry_param e = { 0 };
	struct req_view rv;
	struct target t;
	struct node *p, *n = NULL;
	const char *pns, *psecret, *unused;
	int err;

	req_view(req, m, &rv);
	req_view_lock(m, &rv);
again:
	p = node_get(&m->nodes, parent);
	if (!p || (p->view != rv.view && p->kind != NODE_ROOT)) {
		err = ENOENT; /* gone, or a per-caller mount's of another view */
		goto out;
	}
	node_path(p, &pns, &psecret, &unused);
	if (!may(req, m, &rv, folder_mode(m, &rv, pns, psecret), 1)) {
		err = EACCES;
		goto out;
	}
	err = resolve(m, &rv, p, name, &t);
	if (view_moved(m, &rv)) {
		/* answered for the view it replaced: ask again */
		store_secret_free(t.snap);
		goto again;
	}
	if (err == -ENOENT)
		audit_denied(m, &rv, p, name);
	if (err) {
		err = store_err(fs, err);
		goto out;
	}
	n = node_lookup(&m->nodes, p, name, rv.view, t.kind);
	if (!n || n->kind != t.kind) {
		if (n)
			node_forget(&m->nodes, n, 1);
		store_secret_free(t.snap);
		err = n ? ENOENT : ENOMEM;
		goto out;
	}
	if (t.snap && !n->snap)
		n->snap = t.snap;
	else
		store_secret_free(t.snap);
	e.ino = n->ino;
	e.entry_timeout = timeout_for(m, &t, true);
	e.attr_timeout = timeout_for(m, &t, false);
	fill_attr(m, &rv, n->ino, &t, &e.attr);
	attr_told(m, n, t.revision, t.size);
out:
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

static void fs_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct mount *m = mount_of(req);
	struct node *n;

	pthread_mutex_lock(&m->fs->lock);
	n = node_get(&m->nodes, ino);
	if (n)
		node_forget(&m->nodes, n, nlookup);
	pthread_mutex_unlock(&m->fs->lock);
	fuse_reply_none(req);
}

static void fs_op_forget_multi(fuse_req_t req, size_t count,
			       struct fuse_forget_data *forgets)
{
	struct mount *m = mount_of(req);

	pthread_mutex_lock(&m->fs->lock);
	for (size_t i = 0; i < count; i++) {
		struct node *n = node_get(&m->nodes, forgets[i].ino);

		if (n)
			node_forget(&m->nodes, n, forgets[i].nlookup);
	}
	pthread_mutex_unlock(&m->fs->lock);
	fuse_reply_none(req);
}

static void fs_op_getattr(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	const struct open_file *of = NULL;
	struct req_view rv;
	struct target t;
	struct stat st;
	struct node *n;
	int err;

	req_view(req, m, &rv);
	req_view_lock(m, &rv);
	n = node_get(&m->nodes, ino);
	err = n ? resolve_node(m, &rv, n, &t) : -ENOENT;
	if (n && (n->kind == NODE_KEY || n->kind == NODE_GEN_KEY) && fi && fi->fh)
		of = (const struct open_file *)(uintptr_t)fi->fh;
	if (err == -ENOENT && (of || (n && n->kind == NODE_KEY && n->nopen)) &&
	    (!m->per_caller || (!rv.none && same_view_line(of ? of->view : n->view, rv.view)))) {
		/* an open file whose secret has gone (fstat(), or a read past
		 * the size the kernel holds), or whose view's grant changed
		 * since: as on any file system, the open file is still there,
		 * with its generation's size (per caller: for its view's
		 * callers alone) */
		memset(&t, 0, sizeof(t));
		t.mode = S_IFREG | view_mode(m, &rv);
		t.updated = m->fs->started;
		t.size = of ? of->len : n->open_size;
		t.revision = of ? of->revision : n->open_rev;
		err = 0;
	} else if (!err && of) {
		/* asked through an open file: that handle's generation */
		t.size = of->len;
		t.revision = of->revision;
	}
	if (!err && n->kind == NODE_KEY && n->cache_users > 0) {
		/* cached pages are read against this size (see above) */
		t.size = n->cache_size;
		t.revision = n->cache_gen;
	}
	if (err) {
		err = store_err(m->fs, err);
	} else {
		fill_attr(m, &rv, ino, &t, &st);
		attr_told(m, n, t.revision, t.size);
	}
	pthread_mutex_unlock(&m->fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, timeout_for(m, &t, false));
}

static void fs_op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct mount *m = mount_of(req);
	char link[LINK_MAX_LEN];
	struct req_view rv;
	struct target t;
	struct node *n;
	int err;

	req_view(req, m, &rv);
	req_view_lock(m, &rv);
	n = node_get(&m->nodes, ino);
	err = n ? resolve_node(m, &rv, n, &t) : -ENOENT;
	if (!err && !S_ISLNK(t.mode))
		err = -EINVAL;
	if (!err && n->kind == NODE_DATA && !snap_ready(m, n->parent, n, rv.view, t.revision)) {
		/* take the snapshot now: the ..rev-N lookup that follows
		 * then finds this very generation, even if newer ones land
		 * in between (up to DATA_RECENT of them while many readers
		 * resolve ..data at once; past that, a reader that waited
		 * that long gets ENOENT and resolves ..data again).  One
		 * snapshot per generation, shared by every reader. */
		const char *ns, *secret, *unused;
		struct store_secret *snap;

		node_path(n, &ns, &secret, &unused);
		err = read_unlocked(m->fs, st, store_secret_get(st, ns, secret,
							       STORE_WITH_VALUES, &snap));
		if (err == -EBADMSG)
			fs_tamper_event(m->fs, ns, secret);
		if (!err && snap_ready(m, n->parent, n, rv.view, snap->revision)) {
			t.revision = snap->revision; /* moved on, to one kept */
			store_secret_free(snap);
		} else if (!err) {
			t.revision = snap->revision;
			node_keep_recent(n, snap);
		}
	}
	if (!err)
		link_target(link, sizeof(link), n->parent, n->name, n->kind, t.revision);
	else
		err = store_err(m->fs, err);
	pthread_mutex_unlock(&m->fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_readlink(req, link);
}

/* --- folders ----------------------------------------------------------- */

struct dir_fill {
	fuse_req_t req;
	struct mount *m;
	const struct req_view *rv;
	struct node *dir;
	const char *ns;          /* of the folder listed, or NULL */
	const char *secret;
	const struct view_grant *grant; /* for a secret's folder */
	int64_t revision;        /* of the keys listed */
	struct dir_buf *db;
	bool unlocked;           /* listing from the store, fs->lock let go */
};

static int dir_add(struct dir_buf *db, fuse_req_t req, const char *name,
		   mode_t type, fuse_ino_t ino)
{
	struct stat st = { .st_mode = type, .st_ino = ino };
	size_t need = fuse_add_direntry(req, NULL, 0, name, NULL, 0);
	char *nb;

	nb = realloc(db->buf, db->size + need);
	if (!nb)
		return -ENOMEM;
	db->buf = nb;
	fuse_add_direntry(req, db->buf + db->size, need, name, &st,
			  (off_t)(db->size + need));
	db->size += need;
	return 0;
}

static int dir_child(struct dir_fill *f, const char *name, mode_t type)
{
	fuse_ino_t ino;

	if (f->unlocked)
		pthread_mutex_lock(&f->m->fs->lock);
	ino = node_dirent_ino(&f->m->nodes, f->dir, name, f->rv->view);
	if (f->unlocked)
		pthread_mutex_unlock(&f->m->fs->lock);
	return dir_add(f->db, f->req, name, type, ino);
}

static int dir_each(void *ctx, const char *name, const struct store_stat *s)
{
	struct dir_fill *f = ctx;
	const struct view *v = f->rv->view;

	switch (f->dir->kind) {
	case NODE_ROOT:
		return view_ns_visible(v, name) ? dir_child(f, name, S_IFDIR) : 0;
	case NODE_NS:
		return view_grant_for(v, f->ns, name) ? dir_child(f, name, S_IFDIR) : 0;
	case NODE_SECRET:
		f->revision = s->revision;
		name = view_key_file(v, f->grant, name);
		if (!name)
			return 0;
		return dir_child(f, name, f->rv->layout == LAYOUT_KUBELET ? S_IFLNK : S_IFREG);
	default:
		return -ENOTDIR;
	}
}

/* A folder's entries from the store: each listing is one statement, so one
 * snapshot of the store, read with fs->lock let go (its entries take it one
 * by one, in dir_child()). */
static int dir_list(struct fs *fs, struct dir_fill *f)
{
	int err;

	f->unlocked = true;
	if (f->dir->kind == NODE_ROOT)
		err = read_unlocked(fs, st, store_ns_each(st, dir_each, f));
	else if (f->dir->kind == NODE_NS)
		err = read_unlocked(fs, st, store_secret_each(st, f->ns, dir_each, f));
	else
		err = read_unlocked(fs, st, store_key_each(st, f->ns, f->secret, dir_each, f));
	f->unlocked = false;
	return err;
}

static void fs_op_opendir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct fs *fs = m->fs;
	struct dir_fill f = { .req = req, .m = m };
	const char *unused;
	struct req_view rv;
	struct target t;
	struct dir_buf *db;
	struct node *n;
	int err = 0;

	db = calloc(1, sizeof(*db));
	if (!db) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	atomic_init(&db->refs, 1);
	req_view(req, m, &rv);
	f.db = db;
	f.rv = &rv;
	req_view_lock(m, &rv);
	n = node_get(&m->nodes, ino);
	if (!n) {
		err = -ENOENT;
		goto unlock;
	}
	f.dir = n;
	node_path(n, &f.ns, &f.secret, &unused);
	if (n->kind == NODE_GEN)
		f.secret = n->parent->name;
	/* a folder that is gone, or not granted, lists as gone, not as empty */
	if ((err = resolve_node(m, &rv, n, &t)))
		goto unlock;
	if (!S_ISDIR(t.mode)) {
		err = -ENOTDIR;
		goto unlock;
	}
	if (!may(req, m, &rv, t.mode, 4)) {
		err = -EACCES;
		goto unlock;
	}
	if (n->kind == NODE_SECRET || n->kind == NODE_GEN)
		f.grant = view_grant_for(rv.view, f.ns, f.secret);
	if (dir_add(db, req, ".", S_IFDIR, n->ino) ||
	    dir_add(db, req, "..", S_IFDIR, n->parent ? n->parent->ino : n->ino)) {
		err = -ENOMEM;
		goto unlock;
	}
	switch (n->kind) {
	case NODE_ROOT:
		if (!rv.none)
			err = dir_list(fs, &f);
		break;
	case NODE_NS:
		err = dir_list(fs, &f);
		break;
	case NODE_SECRET:
		f.revision = t.revision;
		err = tamper_check(fs, dir_list(fs, &f), f.ns, f.secret);
		if (!err && rv.layout == LAYOUT_KUBELET) {
			char gen[32];

			snprintf(gen, sizeof(gen), GEN_PREFIX "%" PRId64, f.revision);
			err = dir_child(&f, DATA_NAME, S_IFLNK);
			if (!err)
				err = dir_child(&f, gen, S_IFDIR);
		}
		break;
	case NODE_GEN:
		for (size_t i = 0; !err && n->snap && i < n->snap->nitems; i++) {
			const char *file = view_key_file(rv.view, f.grant, n->snap->items[i].key);

			if (file)
				err = dir_child(&f, file, S_IFREG);
		}
		break;
	default:
		err = -ENOTDIR;
		break;
	}
unlock:
	if (err)
		err = err == -ENOMEM ? ENOMEM : err == -EACCES ? EACCES : store_err(fs, err);
	pthread_mutex_unlock(&fs->lock);
	if (err) {
		dir_buf_put(db);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)db;
	fi->cache_readdir = 0;
	if (fuse_reply_open(req, fi) == -ENOENT) /* interrupted */
		dir_buf_put(db);
}

static void fs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			  off_t off, struct fuse_file_info *fi)
{
	struct dir_buf *db = (struct dir_buf *)(uintptr_t)fi->fh;

	(void)ino;
	atomic_fetch_add(&db->refs, 1);
	if (off < 0 || (size_t)off >= db->size)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, db->buf + off,
			       db->size - (size_t)off < size ? db->size - (size_t)off : size);
	dir_buf_put(db);
}

static void fs_op_releasedir(fuse_req_t req, fuse_ino_t ino,
			     struct fuse_file_info *fi)
{
	(void)ino;
	dir_buf_put((struct dir_buf *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* --- files ------------------------------------------------------------- */

enum push { PUSH_NONE, PUSH_VALUE, PUSH_SIZE };

/*
 * Invalidate a plain key's attributes now, from an open that pushes its
 * size: not from the watcher, whose invalidation could land while a READ
 * of this open is on its way and have the kernel ignore the short read
 * that shrinks its size (the value would be padded with NULs).  Attributes
 * only: that waits for no request, so it is safe under fs->lock (see
 * batch_run() in watch.c).
 */
static void attr_invalidate_now(struct mount *m, struct node *n)
{
	if (fuse_lowlevel_notify_inval_inode(m->se, n->ino, -1, 0) == 0) {
		n->attr_stale = true;
		n->attr_mixed = false;
		n->attr_deferred = false;
	}
}

/*
 * Decide how an open of a plain key reads (see "page cache" above), and
 * whether the size the kernel holds must be raised to this value's before
 * the open is answered, and how (see push_size()).
 */
static enum push cache_policy(struct mount *m, struct node *n, struct open_file *of,
			 bool direct, struct fuse_file_info *fi)
{
	/* the kernel may hold a size other than this value's, or one it could
	 * shrink below it: sendfile() would cut the value there */
	bool push = n->attr_gen == 0 || n->attr_mixed || n->attr_gen != of->revision ||
		    n->attr_size < of->len;

	if (of->len < n->attr_size)
		n->attr_size = of->len; /* its reads may shrink the kernel's size */
	if (direct) {
		/* asked for: no plaintext in the page cache at all (sendfile
		 * may still put some there on 6.18, see push_size()) */
		fi->direct_io = 1;
		if (push && n->cache_users == 0) {
			attr_invalidate_now(m, n);
			return PUSH_SIZE;
		}
		return PUSH_NONE;
	}
	if (n->cache_users > 0 && n->cache_gen != of->revision) {
		/* the cached pages belong to older readers, and so does the
		 * size the kernel holds: a sendfile() of this open is read
		 * against them on 6.18 (README, "Updates") */
		fi->direct_io = 1;
		fi->keep_cache = 1; /* theirs: not dropped for this open */
		return PUSH_NONE;
	}
	if (!n->attr_stale && (n->attr_mixed || n->attr_gen != of->revision)) {
		/* the kernel may still hold another generation's size, which
		 * would cut or pad cached reads: read directly this time, and
		 * have the size refreshed for the next open */
		fi->direct_io = 1;
		if (push && n->cache_users == 0) {
			attr_invalidate_now(m, n);
			return PUSH_VALUE;
		}
		watcher_queue_attr(m->fs, m, n->ino);
		return PUSH_NONE;
	}
	/*
	 * The kernel drops a file's pages when it gets an open reply without
	 * keep_cache, but another open of the same generation may read
	 * before that reply is processed, and would then read the older
	 * generation's pages against this one's size.  So every open keeps
	 * keep_cache off until a READ of this generation has come through
	 * the cache: that reader's open, processed before its read, has
	 * dropped the older pages by then.
	 */
	if (n->cache_gen != of->revision)
		n->cache_primed = false;
	fi->keep_cache = n->cache_primed;
	atomic_store(&of->priming, !n->cache_primed);
	n->cache_gen = of->revision;
	n->cache_size = of->len;
	push = push && n->cache_users == 0;
	n->cache_users++;
	of->cached = true;
	return push ? PUSH_VALUE : PUSH_NONE;
}

/*
 * Raise the size the kernel holds for a plain key to this open's value
 * before the open is answered.  sendfile() and splice() (busybox cat) read
 * through the page cache and stop at that size without asking for it, as
 * read() does past it; on 6.18 even for a direct_io open (filemap_splice_read;
 * fixed upstream in 2026 by copy_splice_read).  A value grown since the
 * size the kernel last took (a ttl not yet out, an invalidation deferred or
 * on its way) would be cut to it.  Storing the value at offset 0 extends
 * the size as a write would, and bumps the kernel's attribute version, so a
 * reply telling the old size that was on its way is dropped.  The pages
 * are dropped first, so no older bytes stay past a shorter value; reading
 * that one is a short read, which shrinks the size to it.  Only when no
 * handle reads cached pages (cache_policy): theirs are read against the
 * size they hold.  Without fs->lock: the kernel may wait for a folio locked
 * by a reader whose READ another worker answers, and READ takes the lock.
 * The plaintext stored is this open's, put where its reads put it anyway.
 */
/*
 * The first READ of a pushed open is being answered (or the open is gone):
 * the kernel takes the short read with the reply, so invalidations may go
 * again.  From a READ, before its reply (the node is the kernel's to free
 * once answered), and without queueing what was deferred: the watcher could
 * send it before the kernel has the reply; the release does (requeue).
 */
static void shrink_done(struct open_file *of, bool requeue)
{
	struct node *n = of->node;
	struct fs *fs = of->mount->fs;

	if (!atomic_exchange(&of->shrinking, false))
		return;
	pthread_mutex_lock(&fs->lock);
	assert(n->shrinking > 0);
	if (--n->shrinking == 0 && requeue && n->attr_deferred && n->cache_users == 0)
		watcher_queue_attr(fs, of->mount, n->ino);
	pthread_mutex_unlock(&fs->lock);
}

static void push_size(struct mount *m, fuse_ino_t ino, const struct open_file *of,
		      enum push how)
{
	static const char nul;
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(of->len);
	int err;

	bv.buf[0].mem = (void *)of->data;
	err = fuse_lowlevel_notify_inval_inode(m->se, ino, 0, 0);
	if (!err && of->len > 0 && how == PUSH_SIZE) {
		/* direct_io: no plaintext in the pages, so one NUL byte
		 * where the value ends (a page that is not up to date, as
		 * not stored from its start), dropped at once */
		bv = (struct fuse_bufvec)FUSE_BUFVEC_INIT(1);
		bv.buf[0].mem = (void *)&nul;
		err = fuse_lowlevel_notify_store(m->se, ino, (off_t)of->len - 1, &bv, 0);
		if (!err)
			err = fuse_lowlevel_notify_inval_inode(m->se, ino, 0, 0);
	} else if (!err && of->len > 0) {
		err = fuse_lowlevel_notify_store(m->se, ino, 0, &bv, 0);
	}
	/* -ENOENT: the kernel let the inode go meanwhile; its next one asks.
	 * Opens in a loop could repeat any other failure thousands of times
	 * a second: one line per STORE_ERR_QUIET seconds, with a count. */
	if (err && err != -ENOENT) {
		static _Atomic time_t last;
		static atomic_ulong quiet;
		time_t now = time(NULL), was = atomic_load(&last);

		if (now - was < STORE_ERR_QUIET || !atomic_compare_exchange_strong(&last, &was, now)) {
			atomic_fetch_add(&quiet, 1);
			return;
		}
		log_msg(LOG_LEVEL_WARNING, "%s: cannot give the kernel the size of %s/%s/%s: %s "
			"(%lu more such failures not logged)", m->mountpoint, of->ns, of->secret,
			of->key, strerror(-err), atomic_exchange(&quiet, 0));
	}
}

static void fs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct fs *fs = m->fs;
	const char *ns = NULL, *secret = NULL, *file;
	struct open_file *of;
	struct req_view rv;
	struct store_stat s;
	struct target t;
	struct node *n;
	bool unaudited = false; /* refused: its audit record was lost */
	enum push push = PUSH_NONE;
	int err = 0;

	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (m->kernel_only) {
		/* the files of this mount never change: let the kernel open
		 * them without asking, from now on (FUSE no_open) */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	of = calloc(1, sizeof(*of));
	if (!of) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	atomic_init(&of->refs, 1);
	atomic_init(&of->priming, false);
	req_view(req, m, &rv);
	req_view_lock(m, &rv);
	n = node_get(&m->nodes, ino);
	if (!n)
		err = -ENOENT;
	else if (n->kind != NODE_KEY && n->kind != NODE_GEN_KEY)
		err = -EISDIR;
	if (!err) {
		node_path(n, &ns, &secret, &file);
		err = resolve_node(m, &rv, n, &t);
		if (err == -ENOENT)
			audit_denied(m, &rv, n->kind == NODE_GEN_KEY ? n->parent->parent :
				     n->parent, n->kind == NODE_GEN_KEY ? n->parent->name : file);
		else if (!err && !S_ISREG(t.mode))
			err = -ELOOP;
		else if (!err && !may(req, m, &rv, t.mode, 4))
			err = -EACCES;
	}
	if (!err) {
		of->ns = strdup(ns);
		of->secret = strdup(secret);
		of->key = strdup(t.key);
		of->mount = m;
		of->node = n;
		of->view = rv.view;
		if (!of->ns || !of->secret || !of->key)
			err = -ENOMEM;
	}
	if (!err && n->kind == NODE_GEN_KEY) {
		/* a generation's file: its bytes never change, and every open
		 * of it shares one copy */
		const struct store_item *it = store_secret_item(n->parent->snap, t.key);
		uint8_t *copy;

		of->value = value_find(ns, secret, t.key, t.revision);
		if (!of->value && (copy = store_value_alloc(it->len + 1))) {
			memcpy(copy, it->value, it->len);
			err = value_share(&of->value, ns, secret, t.key, t.revision,
					  copy, it->len);
		} else if (!of->value) {
			err = -ENOMEM;
		}
		if (!err) {
			of->data = value_data(of->value, &of->len);
			of->generation = t.generation;
			of->revision = t.revision;
			fi->keep_cache = !m->direct_io;
			fi->direct_io = m->direct_io;
			err = audit(m, &rv, ns, secret, t.key, t.generation, true);
			unaudited = err != 0;
		}
	} else if (!err) {
		struct fs_reader *r;
		uint64_t epoch = 0;
		uint8_t *plain;
		size_t len;

		/* authenticated at every open (a tampered row is EIO at once),
		 * then shared with the opens of the same revision; read and
		 * decrypted with fs->lock let go (the names are n's and the
		 * view's, which stay) */
		pthread_mutex_unlock(&fs->lock);
		if (!(err = read_get(fs, &r))) {
			epoch = r->epoch;
			err = read_put(r, store_value_get(r->st, ns, secret, t.key, &plain,
							  &len, &s));
		}
		if (err == -EBADMSG)
			fs_tamper_event(fs, ns, secret);
		if (!err)
			err = value_share(&of->value, ns, secret, t.key, s.revision,
					  plain, len);
		if (!err) /* before the page-cache bookkeeping: it may refuse */
			unaudited = (err = audit(m, &rv, ns, secret, t.key, s.generation, true)) != 0;
		pthread_mutex_lock(&fs->lock);
		if (!err) {
			of->data = value_data(of->value, &of->len);
			of->generation = s.generation;
			of->revision = s.revision;
			/* per caller, each view's tree has its own inodes,
			 * so its own page cache; a value read from a store
			 * replaced since may share a revision with other bytes
			 * of the new one: kept out of the cache */
			push = cache_policy(m, n, of, epoch != fs->st_epoch ||
					    (m->per_caller ? rv.view->direct_io : m->direct_io), fi);
			if (push != PUSH_NONE) {
				n->shrinking++;
				atomic_store(&of->shrinking, true);
			}
			n->nopen++;
			of->counted = true;
			n->open_size = of->len;
			n->open_rev = of->revision;
		}
	}
	if (err)
		err = err == -EISDIR ? EISDIR : err == -ELOOP ? ELOOP : err == -EACCES ? EACCES :
		      unaudited ? EIO : store_err(fs, err);
	pthread_mutex_unlock(&fs->lock);
	if (err) {
		open_file_put(of);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)of;
	fi->noflush = 1;
	file_listed(of);
	if (push != PUSH_NONE)
		push_size(m, ino, of, push);
	if (fuse_reply_open(req, fi) == -ENOENT) { /* interrupted: no release */
		pthread_mutex_lock(&fs->lock);
		if (of->cached && --n->cache_users == 0 &&
		    (n->attr_deferred || n->attr_mixed))
			watcher_queue_attr(fs, m, n->ino);
		if (of->counted)
			n->nopen--;
		pthread_mutex_unlock(&fs->lock);
		shrink_done(of, true);
		open_file_put(of);
	}
}

/*
 * A read without an open (kernel_only mounts): the file is one
 * generation's, kept by its folder's node, which the kernel holds for as
 * long as it holds the file, so the bytes can be replied without a copy.
 */
static void read_unopened(fuse_req_t req, struct mount *m, fuse_ino_t ino,
			  size_t size, off_t off)
{
	const struct store_item *it = NULL;
	const char *ns, *secret, *file, *key;
	const struct view_grant *g;
	struct node *n;
	mode_t mode;
	uint8_t *copy = NULL;
	size_t len = 0;

	pthread_mutex_lock(&m->fs->lock);
	n = node_get(&m->nodes, ino);
	if (n && n->kind == NODE_GEN_KEY) {
		node_path(n, &ns, &secret, &file);
		g = view_grant_for(mount_view(m), ns, secret);
		key = g ? view_file_key(mount_view(m), g, file, m->fs->cfg->mode, &mode) : NULL;
		it = key ? store_secret_item(n->parent->snap, key) : NULL;
	}
	/* the reply goes out after the lock is let go, when the snapshot
	 * may be gone: send a copy (locked, wiped when freed) */
	if (it && off >= 0 && (size_t)off < it->len) {
		len = it->len - (size_t)off < size ? it->len - (size_t)off : size;
		copy = store_value_alloc(len);
		if (copy)
			memcpy(copy, (const char *)it->value + off, len);
	}
	pthread_mutex_unlock(&m->fs->lock);
	if (!it)
		fuse_reply_err(req, EIO);
	else if (!len)
		fuse_reply_buf(req, NULL, 0);
	else if (!copy)
		fuse_reply_err(req, ENOMEM);
	else
		fuse_reply_buf(req, (const char *)copy, len);
	store_value_free(copy);
}

/*
 * A READ of a direct handle that fills the page cache: the kernel sends a
 * lock owner with every direct read, none with a page-cache fill, which a
 * direct handle still does for sendfile(), splice() (on 6.18, see
 * push_size()) and a private mmap.  While handles read cached pages of
 * another generation, those pages are theirs, read against their size: a
 * fill gets their bytes, so that they stay one generation for everyone (a
 * sendfile() of this handle then gets that older generation, whole; its
 * read() gets its own).  False when there is nothing to do so: the caller
 * serves the handle's own bytes.
 */
static bool read_for_cache(fuse_req_t req, struct open_file *of, size_t size, off_t off)
{
	struct fs *fs = of->mount->fs;
	struct fs_value *v = NULL;
	const uint8_t *data;
	int64_t gen = 0;
	size_t len;

	pthread_mutex_lock(&fs->lock);
	if (of->node->cache_users > 0 && of->node->cache_gen != of->revision)
		gen = of->node->cache_gen;
	pthread_mutex_unlock(&fs->lock);
	/* -1: a replaced store's revisions say nothing of the bytes */
	if (gen <= 0 || !(v = value_find(of->ns, of->secret, of->key, gen)))
		return false;
	data = value_data(v, &len);
	if (off < 0 || (size_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, (const char *)data + off,
			       len - (size_t)off < size ? len - (size_t)off : size);
	value_put(v);
	return true;
}

static void fs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
	struct mount *m = mount_of(req);

	if (!of) {
		read_unopened(req, m, ino, size, off);
		return;
	}
	if (m->per_caller) {
		/* a handle passed to another process reads only for the view
		 * that opened it */
		struct req_view rv;

		req_view(req, m, &rv);
		if (rv.none || !same_view_line(of->view, rv.view)) {
			fuse_reply_err(req, EACCES);
			return;
		}
	}
	if (!of->cached && fi->lock_owner == 0 && of->node->kind == NODE_KEY &&
	    read_for_cache(req, of, size, off))
		return;
	if (atomic_exchange(&of->priming, false)) {
		struct node *n = of->node;

		pthread_mutex_lock(&m->fs->lock);
		if (n->cache_gen == of->revision)
			n->cache_primed = true; /* see cache_policy */
		pthread_mutex_unlock(&m->fs->lock);
	}
	atomic_fetch_add(&of->refs, 1);
	shrink_done(of, false);
	if (off < 0 || (size_t)off >= of->len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, (const char *)of->data + off,
			       of->len - (size_t)off < size ? of->len - (size_t)off : size);
	open_file_put(of);
}

static void poller_remove(struct fs *fs, struct open_file *of)
{
	if (of->prev_poller)
		of->prev_poller->next_poller = of->next_poller;
	else if (fs->pollers == of)
		fs->pollers = of->next_poller;
	if (of->next_poller)
		of->next_poller->prev_poller = of->prev_poller;
	of->next_poller = of->prev_poller = NULL;
	if (of->ph)
		fuse_pollhandle_destroy(of->ph);
	of->ph = NULL;
}

static void fs_op_release(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
	struct fs *fs = of->mount->fs;
	struct node *n = of->node;
	bool last;

	(void)ino;
	shrink_done(of, true);
	pthread_mutex_lock(&fs->lock);
	poller_remove(fs, of);
	if (of->counted)
		n->nopen--;
	last = of->cached && --n->cache_users == 0;
	if (!of->cached && n->attr_deferred && n->shrinking == 0 && n->cache_users == 0)
		watcher_queue_attr(fs, of->mount, n->ino); /* held back by shrink_done() */
	pthread_mutex_unlock(&fs->lock);
	if (last) {
		/* the key's row, not the secret's (whose sizes are summed
		 * over all its keys): a release is as cheap as an open; n
		 * stays, as the kernel holds the inode until we reply */
		struct store_stat s;
		struct fs_reader *r;
		int err = read_get(fs, &r);

		if (!err)
			err = read_put(r, store_key_stat(r->st, of->ns, of->secret, of->key, &s));
		/* the size the kernel holds was the old readers'; now the
		 * newest generation's may show (should an open have come
		 * meanwhile, the invalidation waits for its release) */
		pthread_mutex_lock(&fs->lock);
		if (err || s.revision != n->cache_gen || n->attr_deferred || n->attr_mixed)
			watcher_queue_attr(fs, of->mount, n->ino);
		pthread_mutex_unlock(&fs->lock);
	}
	open_file_put(of);
	fuse_reply_err(req, 0);
}

/*
 * poll(), select() and epoll on an open secret wake up once the secret has
 * moved past the generation this handle opened (or is gone); until then
 * there is nothing to report.  Then reopen the file to read the new value.
 */
static void fs_op_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		       struct fuse_pollhandle *ph)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
	struct fs_reader *r;
	struct fs *fs;
	struct store_stat s;
	bool moved;

	(void)ino;
	if (!of) {
		/* a kernel_only mount's files never change: nothing to wait
		 * for (watch ..data with secretctl watch instead) */
		if (ph)
			fuse_pollhandle_destroy(ph);
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fs = of->mount->fs;
	/* the check and the registration under fs->lock at once, as the
	 * watcher wakes pollers under it: a commit it has not woken this
	 * handle for is seen here (the one store read made under fs->lock,
	 * the reader taken first, as reader.c orders them) */
	if (read_get(fs, &r)) {
		if (ph)
			fuse_pollhandle_destroy(ph);
		fuse_reply_poll(req, POLLIN | POLLRDNORM | POLLPRI); /* as a failed check below */
		return;
	}
	pthread_mutex_lock(&fs->lock);
	moved = read_put(r, store_secret_stat(r->st, of->ns, of->secret, &s)) != 0 ||
		s.revision != of->revision;
	if (ph && moved) {
		fuse_pollhandle_destroy(ph);
	} else if (ph) {
		if (of->ph)
			fuse_pollhandle_destroy(of->ph);
		of->ph = ph;
		if (!of->prev_poller && fs->pollers != of) {
			of->next_poller = fs->pollers;
			if (fs->pollers)
				fs->pollers->prev_poller = of;
			fs->pollers = of;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_poll(req, moved ? POLLIN | POLLRDNORM | POLLPRI : 0);
}

static void fs_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv = { .f_bsize = 4096, .f_frsize = 4096,
			      .f_namemax = STORE_MAX_NAME };

	(void)ino;
	fuse_reply_statfs(req, &sv);
}

/* --- everything that would write: EROFS ------------------------------- */

static void fs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			  int to_set, struct fuse_file_info *fi)
{
	(void)ino; (void)attr; (void)to_set; (void)fi;
	fuse_reply_err(req, EROFS);
}

static void fs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode, dev_t rdev)
{
	(void)parent; (void)name; (void)mode; (void)rdev;
	fuse_reply_err(req, EROFS);
}

static void fs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode)
{
	(void)parent; (void)name; (void)mode;
	fuse_reply_err(req, EROFS);
}

static void fs_op_remove(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent; (void)name;
	fuse_reply_err(req, EROFS);
}

static void fs_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
			  const char *name)
{
	(void)link; (void)parent; (void)name;
	fuse_reply_err(req, EROFS);
}

static void fs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			 fuse_ino_t newparent, const char *newname,
			 unsigned int flags)
{
	(void)parent; (void)name; (void)newparent; (void)newname; (void)flags;
	fuse_reply_err(req, EROFS);
}

static void fs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		       const char *newname)
{
	(void)ino; (void)newparent; (void)newname;
	fuse_reply_err(req, EROFS);
}

static void fs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
			size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino; (void)buf; (void)size; (void)off; (void)fi;
	fuse_reply_err(req, EROFS);
}

static void fs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
			 mode_t mode, struct fuse_file_info *fi)
{
	(void)parent; (void)name; (void)mode; (void)fi;
	fuse_reply_err(req, EROFS);
}

static void fs_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			   const char *value, size_t size, int flags)
{
	(void)ino; (void)name; (void)value; (void)size; (void)flags;
	fuse_reply_err(req, EROFS);
}

static void fs_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino; (void)name;
	fuse_reply_err(req, EROFS);
}

static void fs_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			    off_t offset, off_t length, struct fuse_file_info *fi)
{
	(void)ino; (void)mode; (void)offset; (void)length; (void)fi;
	fuse_reply_err(req, EROFS);
}

const struct fuse_lowlevel_ops fs_ops = {
	.init = fs_op_init,
	.lookup = fs_op_lookup,
	.forget = fs_op_forget,
	.forget_multi = fs_op_forget_multi,
	.getattr = fs_op_getattr,
	.readlink = fs_op_readlink,
	.opendir = fs_op_opendir,
	.readdir = fs_op_readdir,
	.releasedir = fs_op_releasedir,
	.open = fs_op_open,
	.read = fs_op_read,
	.release = fs_op_release,
	.poll = fs_op_poll,
	.statfs = fs_op_statfs,
	.setattr = fs_op_setattr,
	.mknod = fs_op_mknod,
	.mkdir = fs_op_mkdir,
	.unlink = fs_op_remove,
	.rmdir = fs_op_remove,
	.symlink = fs_op_symlink,
	.rename = fs_op_rename,
	.link = fs_op_link,
	.write = fs_op_write,
	.create = fs_op_create,
	.setxattr = fs_op_setxattr,
	.removexattr = fs_op_removexattr,
	.fallocate = fs_op_fallocate,
};
