/*
 * fs.h - what the files of the driver share.
 *
 * The tree is /<namespace>/<secret>/<key>.  A node is the driver's record of
 * a name the kernel holds a reference to (a lookup it has not forgotten);
 * nodes are created by lookup and freed by forget, and the store, not the
 * node table, is the truth about what exists.
 */
#ifndef SECRETFS_FS_H
#define SECRETFS_FS_H

#define FUSE_USE_VERSION 314

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include <fuse_lowlevel.h>

#include "config.h"
#include "store/store.h"

/*
 * For assert() only: is m held?  By some thread, that is: a pthread mutex
 * does not say by whom, so this catches a caller that forgot the lock
 * whenever no other thread happens to hold it (every single-reader test).
 */
static inline bool fs_lock_held(pthread_mutex_t *m)
{
	if (pthread_mutex_trylock(m) != 0)
		return true;
	pthread_mutex_unlock(m);
	return false;
}

/*
 * What a node is.  The plain layout has ROOT, NS, SECRET and KEY (a file).
 * The kubelet layout adds, inside a SECRET: DATA ("..data", a symlink to the
 * current generation's folder), GEN ("..rev-N", one generation, immutable)
 * holding GEN_KEY files; its KEY names are symlinks to "..data/KEY".
 */
enum node_kind {
	NODE_ROOT, NODE_NS, NODE_SECRET, NODE_KEY, NODE_DATA, NODE_GEN, NODE_GEN_KEY
};

#define DATA_NAME  "..data"
#define DATA_RECENT 4
#define GEN_PREFIX "..rev-"

struct node {
	fuse_ino_t ino;
	enum node_kind kind;
	char *name;            /* "" for the root */
	/* the view whose tree this node is in: a per-caller mount keeps one
	 * tree per view under the shared root, so that every inode has one
	 * meaning (key, size, owner, mode, cached pages) whoever holds it;
	 * elsewhere the mount's view for every node (set anew on each, with
	 * m->view, when a reload changes the view in place).  Under fs->lock */
	const struct view *view;
	struct node *parent;   /* holds one ref on the parent */
	uint64_t nlookup;      /* the kernel's references */
	uint64_t refs;         /* children pointing here */
	struct node *next_ino; /* hash chains */
	struct node *next_name;
	struct node *children; /* first child; siblings below */
	struct node *next_sibling, *prev_sibling;
	/* NODE_KEY in the plain layout: what the kernel's page cache holds
	 * (see "page cache" in ops.c) */
	int64_t cache_gen;     /* revision of the secret the cached pages hold */
	uint64_t cache_size;   /* its size, reported while it has users */
	unsigned cache_users;  /* open handles reading through the cache */
	bool cache_primed;     /* a READ of cache_gen came through the cache
				* since it last changed: the kernel has then
				* dropped the older pages (see cache_policy) */
	int64_t attr_gen;      /* revision of the sizes told the kernel since */
	uint64_t attr_size;    /* its size, lowered to any shorter value opened
				* since (a short read shrinks the kernel's) */
	bool attr_stale;       /* ... its attributes were last invalidated */
	bool attr_mixed;       /* sizes of several revisions told since then */
	bool attr_deferred;    /* an invalidation waits for cache_users == 0 */
	unsigned nopen;        /* open handles, cached or not */
	unsigned shrinking;    /* opens pushed a size that a short read may
				* still have to shrink: no invalidation before
				* their first READ is answered (push_size()) */
	uint64_t open_size;    /* size and revision of the newest of them, for */
	int64_t open_rev;      /* fstat() of a file whose secret has gone */
	/* NODE_GEN: that generation of the secret, with its values */
	struct store_secret *snap;
	/* NODE_DATA: the newest generations readlink pointed readers at, or
	 * whose "..rev-N" the kernel let go, that no lookup has taken since
	 * (see readlink in ops.c) */
	struct store_secret *recent[DATA_RECENT];
};

/*
 * An open file: one generation of one value (fi->fh).  Reference-counted:
 * open holds one reference, and read holds another while it replies (the
 * kernel may send RELEASE before the replying thread is back from writev).
 */
struct open_file {
	atomic_int refs;
	struct fs_value *value;  /* the plaintext, shared (value.c) */
	const uint8_t *data;     /* value's bytes */
	size_t len;
	int64_t generation;
	int64_t revision;        /* the secret's revision at open */
	const struct view *view; /* the view it was opened through */
	struct mount *mount;
	struct node *node;       /* pinned by the kernel while open */
	bool cached;             /* counted in node->cache_users */
	atomic_bool priming;     /* cached, opened before cache_primed */
	bool counted;            /* counted in node->nopen */
	atomic_bool shrinking;   /* counted in node->shrinking */
	char *ns, *secret;       /* for poll notifications */
	char *key;               /* the store key (plain layout) */
	struct fuse_pollhandle *ph; /* protected by fs->lock */
	struct open_file *next_poller, *prev_poller; /* in fs->pollers */
	struct open_file *next_file, *prev_file;     /* every open file (ops.c) */
	bool listed;                                 /* in that list */
};

struct node_table {
	pthread_mutex_t *lock; /* fs->lock, which guards the table (for assert) */
	struct node **by_ino;
	struct node **by_name;
	size_t nbuckets;
	size_t count;
	fuse_ino_t next_ino;
	struct node root;
};

struct fs;

/*
 * One read-only store handle for request handlers (reader.c); a handler
 * holds it, not fs->lock, across its SQLite reads and decryption.
 */
#define FS_READERS 8
struct fs_reader {
	pthread_mutex_t lock; /* held by the one thread reading through st */
	struct store *st;     /* under lock; NULL until first needed */
	uint64_t epoch;       /* fs->st_epoch when st was opened */
};

/*
 * One FUSE connection: the full tree, one view, or (per_caller) the view of
 * whoever asks.  Its node table is its own; the store handle is shared.
 */
struct mount {
	struct fs *fs;
	/* NULL: the full tree (unless per_caller).  A reload changes it in
	 * place (watcher_change_view): so it is written by the watcher thread
	 * alone, under fs->lock, and read under fs->lock (mount_view(), which
	 * asserts it) or on the watcher thread (fs_reload, the change
	 * detection, the status file).  Never freed before exit: a request, a
	 * node or an open file may still hold the one it replaced. */
	const struct view *view;
	bool per_caller;          /* pick the view from the caller's cgroup */
	bool audit;               /* record opens */
	char *mountpoint;
	struct fuse_session *se;
	struct node_table nodes;  /* protected by fs->lock */
	double timeout;           /* entry and attribute cache time, seconds
				   * (a per-caller mount: attributes only) */
	enum layout layout;       /* the mount's view's, or [mount]'s */
	/* The kernel answers opens and reads from its caches alone: no OPEN
	 * reaches the daemon (no_open) and symlink targets are cached.  Only
	 * the kubelet layout without audit, whose files never change. */
	bool kernel_only;
	bool direct_io;           /* plaintext never enters the page cache */
	struct volume_tree *vtree; /* a pod view's mount: its inodes (volume.c) */
	pthread_t thread;         /* runs this session's loop */
	bool running;             /* thread to join (the main thread's) */
	bool alive;               /* thread not yet returned (loops_lock) */
	int loop_result;
	/* Taken down by a reload (its view removed or changed): its loop
	 * joined and the kernel's mount detached; se moved to gone_se
	 * (destroyed at exit, as open files may still point at it) so that
	 * everything testing se skips the mount.  The slot is never reused:
	 * nodes and open files of the old view keep pointing at it. */
	bool removed;
	struct fuse_session *gone_se;
};

/*
 * A view that waits, as a pod does, for what it requires (a secret, a
 * projected key, a namespace) to exist: --views mounts it, the per-caller
 * mount lets its callers see it, as soon as all of it exists (main.c,
 * fs_pending_check, called by the watcher after each catch-up).  Once up
 * it stays up.  Changed by the watcher thread alone after start.
 */
struct pending_view {
	const struct view *view;
	struct mount *mount;  /* --views: its mount (se NULL until mounted) */
	size_t index;         /* --views: mount's in fs->mounts */
	const struct view **slot; /* per caller: its slot in a set's disabled[] */
	bool waiting;         /* something is still missing */
	char missing[512];    /* what: "shop/hmac, shop/tls/tls.pem, ns/ *" */
};

/*
 * The per-caller mount's views: cfg's, matched by their cgroups, where
 * use[i] is the view object served for cfg->views[i] — the running one's
 * when a reload found it unchanged, so that its callers keep their tree of
 * inodes (node->view) — and disabled[] the pending ones (a slot is set to
 * NULL, with __atomic_store_n, when its view comes up; read without
 * fs->lock).  Never changed otherwise, never freed before exit: a request
 * may hold the set it loaded.
 */
struct caller_views {
	const struct config *cfg;
	const struct view **use;
	const struct view **disabled;
	size_t ndisabled;
};

/* The daemon: every mount it serves, and the one store behind them. */
struct fs {
	const struct config *cfg;
	struct store_unlock unlock;   /* the key file, or a passphrase */
	/* the handle the readers are opened from, swapped by the watcher
	 * (protected by lock); requests read through readers[] */
	struct store *st;
	/* guards st, every mount's node table and page-cache bookkeeping and
	 * the poll list; held briefly, never across a store read (reader.c) */
	pthread_mutex_t lock;
	uint64_t st_epoch;    /* under lock: st replaced this many times */
	struct fs_reader readers[FS_READERS];
	pthread_mutex_t events_lock;  /* events, last_event, last_event_of */
	time_t started;
	/* --views: slots for the views reloads add are reserved up front
	 * (mounts_cap), so that a mount never moves under its loop thread;
	 * nmounts grows under fs->lock and loops_lock, by the watcher */
	struct mount *mounts;
	size_t nmounts, mounts_cap;
	/* configurations reloads loaded (SIGHUP, main.c): their views are
	 * pointed at by mounts, nodes and open files, so all are kept until
	 * exit; a reload that changes nothing frees its own at once */
	struct config **reloaded;
	size_t nreloaded;
	char config_error[512]; /* why the last reload was refused ("": none) */
	/* per-caller: the views callers are matched against, swapped whole
	 * by a reload (__atomic_store_n; requests load it once, without
	 * fs->lock); every set is kept until exit (see struct caller_views) */
	struct caller_views *callers;
	struct caller_views **old_callers;
	size_t nold_callers;
	const struct view *pod_view;  /* --pod: the view made of the pod */
	struct pending_view *pending; /* views waiting, or that waited */
	size_t npending;
	struct open_file *pollers;    /* handles waiting in poll(); under lock */
	struct watcher *watcher;
	/* for the status file, written by the watcher thread alone: the
	 * UUID of the store served, and why a replacement of its file is
	 * not served ("" if nothing is wrong) */
	char uuid[37];
	char store_error[512];
	struct store *events;         /* opened on the first event; under events_lock */
	time_t last_event;            /* at most one a second per secret */
	char last_event_of[STORE_MAX_NAMESPACE + STORE_MAX_NAME + 2];
};

/* A mount's view, fs->lock held (see struct mount). */
static inline const struct view *mount_view(const struct mount *m)
{
	assert(fs_lock_held(&m->fs->lock));
	return m->view;
}

/* An open, recorded by audit.c. */
struct audit_event {
	const char *view;
	const char *mount;
	pid_t pid;
	uid_t uid;
	const char *cgroup;
	const char *ns, *secret, *key;
	int64_t generation;
	bool allowed;
};

/* node.c - all callers hold fs->lock */
int node_table_init(struct node_table *t, pthread_mutex_t *lock);
void node_table_release(struct node_table *t);
struct node *node_get(struct node_table *t, fuse_ino_t ino);
/* Find or create the child of parent named name, taking one kernel
 * reference on it.  NULL on allocation failure. */
struct node *node_lookup(struct node_table *t, struct node *parent,
			 const char *name, const struct view *view,
			 enum node_kind kind);
/* The child of parent named name in view's tree, or NULL; takes no
 * reference. */
struct node *node_find(struct node_table *t, const struct node *parent,
		       const char *name, const struct view *view);
/* The d_ino to list for a name (readers skip entries whose d_ino is 0). */
fuse_ino_t node_dirent_ino(struct node_table *t, const struct node *parent,
			   const char *name, const struct view *view);
/* Drop n kernel references; frees the node (and unreferenced ancestors)
 * once nothing holds it. */
void node_forget(struct node_table *t, struct node *n, uint64_t count);
/* Call fn on every node, the root first; fn must not add or free nodes. */
void node_table_each(struct node_table *t, void (*fn)(struct node *n, void *ctx),
		     void *ctx);
/* Keep snap (taken over) among the DATA_RECENT newest of a ..data node, or
 * free it if all kept are newer. */
void node_keep_recent(struct node *data, struct store_secret *snap);
/* The namespace, secret and key names along n's path (NULL where absent). */
void node_path(const struct node *n, const char **ns, const char **secret,
	       const char **key);

/* ops.c */
extern const struct fuse_lowlevel_ops fs_ops;
/* Free the open files the kernel never released (their mount went away
 * under them); at exit, once every session has ended. */
void ops_free_open_files(void);

/* volume.c: a pod view's mount (view->pod), MOUNTPOINT/VOLUME/PATH as the
 * kubelet lays its secret and projected volumes out; its own inode table,
 * made by volume_tree_init and freed by volume_tree_free (accepts none). */
struct volume_tree;
extern const struct fuse_lowlevel_ops volume_ops;
int volume_tree_init(struct mount *m);
void volume_tree_free(struct mount *m);

/* value.c: one reference-counted copy of a value per (namespace, secret,
 * key, revision), shared by every open of it in the daemon. */
struct fs_value;
/* Share data (store_value_alloc'd, len bytes, of that revision): takes
 * ownership of data, and *out holds a reference to it or to an equal value
 * already shared (data is then freed).  -ENOMEM (data freed). */
int value_share(struct fs_value **out, const char *ns, const char *secret,
		const char *key, int64_t revision, uint8_t *data, size_t len);
/* The shared value of that revision with a new reference, or NULL. */
struct fs_value *value_find(const char *ns, const char *secret, const char *key,
			    int64_t revision);
const uint8_t *value_data(const struct fs_value *v, size_t *len);
/* Drop a reference; the last one wipes and frees.  Accepts NULL. */
void value_put(struct fs_value *v);

/* view.c */
bool view_ns_visible(const struct view *v, const char *ns);
/* The grant through which v sees ns/name, or NULL; for v NULL, a grant of
 * everything. */
const struct view_grant *view_grant_for(const struct view *v, const char *ns,
					const char *name);
/* The key a file name stands for under grant g (NULL if none), and its mode
 * (dflt for the full view). */
const char *view_file_key(const struct view *v, const struct view_grant *g,
			  const char *file, mode_t dflt, mode_t *mode);
/* The file name key appears as under grant g, or NULL if not projected. */
const char *view_key_file(const struct view *v, const struct view_grant *g,
			  const char *key);
/* The permission bits a folder's files may carry together (no x added):
 * the root's (ns NULL), a namespace's (name NULL) or a secret's, so that a
 * folder lets through whatever one of its files grants, as the kubelet's
 * volumes do.  dflt for the full view. */
mode_t view_folder_mode(const struct view *v, const char *ns, const char *name,
			mode_t dflt);
int view_check_required(const struct view *v, struct store *st, char *err,
			size_t len);
/* What v requires that st lacks, as "NS/NAME, NS/NAME/KEY, NS/ *" in out
 * (cut short to len); how many.  0: v can come up. */
size_t view_missing(const struct view *v, struct store *st, char *out, size_t len);

/* main.c: bring up the pending views whose requirements now exist in st
 * (the watcher's handle); the watcher thread calls it after a catch-up. */
void fs_pending_check(struct fs *fs, struct store *st);
/* main.c: re-read the configuration (SIGHUP) and apply what changed in
 * the views; the watcher thread's, like fs_pending_check.  A file that
 * does not load changes nothing: the error is logged and kept in
 * fs->config_error for the status file. */
void fs_reload(struct fs *fs, struct store *st);

/* caller.c: the cgroup of the process behind thread tid, checked against
 * pid reuse through a pidfd.  0, or a negative errno. */
int caller_cgroup(pid_t tid, char *out, size_t len, pid_t *pid);
/* The same, remembered per process for a second (see caller.c). */
int caller_cgroup_cached(pid_t tid, char *out, size_t len, pid_t *pid);

/* audit.c: the audit log ([audit] in the configuration), rotated by size.
 * audit_open logs and returns -errno if the file cannot be opened (it is
 * tried again at each record).  audit_record returns 0, or -errno when the
 * record could not be written (it is then counted as lost and logged, at
 * most every few seconds).  Both thread-safe. */
int audit_open(const struct config *c);
void audit_close(void);
int audit_record(const struct audit_event *ev);
/* an open refused because its record was lost (audit_failure = closed) */
void audit_count_refused(void);
/* records lost and opens refused since the daemon started */
void audit_counts(unsigned long *lost, unsigned long *refused);
bool audit_enabled(void);

/* watch.c: notices committed changes and invalidates what the kernel
 * caches, wakes poll()ers, in every mount. */
int watcher_start(struct fs *fs, char *err, size_t len);
void watcher_stop(struct fs *fs);
/* Ask the watcher to invalidate a node's attributes (callable from request
 * handlers, which must not notify the kernel themselves).  Under fs->lock. */
void watcher_queue_attr(struct fs *fs, struct mount *m, fuse_ino_t ino);
/* Ask the watcher thread to run fs_reload (the signal thread, on SIGHUP). */
void watcher_request_reload(struct fs *fs);
/* Drop what is queued for m (fs->lock held): it is being taken down. */
void watcher_forget_mount(struct fs *fs, struct mount *m);
/* Change the view of m (a mounted per-view mount, not a pod's) to v in
 * place, the watcher thread's (fs_reload): every node moves to v under
 * fs->lock, then the kernel forgets the names v no longer grants and the
 * attributes (and a changed file's cached pages) that differ under v.
 * Nodes keep their inode numbers, open files their snapshot. */
void watcher_change_view(struct fs *fs, struct mount *m, const struct view *v);

/* ops.c: record (once a second at most per secret) that a value of ns/secret failed
 * authentication, as an event in the store.  Takes fs->events_lock. */
void fs_tamper_event(struct fs *fs, const char *ns, const char *secret);

/* reader.c: the pool of read-only store handles (see there for the lock
 * order).  reader_get takes one, opening it from fs->st if need be (a
 * negative errno, err saying why); reader_put gives it back.
 * reader_suspend closes them all and holds them until reader_resume: the
 * watcher's, around replacing fs->st, before it takes fs->lock. */
int reader_init(struct fs *fs);
void reader_release_all(struct fs *fs);
int reader_get(struct fs *fs, struct fs_reader **out, char *err);
void reader_put(struct fs_reader *r);
void reader_suspend(struct fs *fs);
void reader_resume(struct fs *fs);

/* follow.c: cluster mode, this node's store following etcd.  follow_open
 * catches up once (if etcd answers) before the views are checked;
 * follow_start starts the thread (after any fork); follow_stop stops it. */
int follow_open(struct fs *fs, char *err, size_t len);
int follow_start(char *err, size_t len);
void follow_stop(void);
/* The etcd revision applied, whether the watch is up, and the endpoint in
 * use (false outside cluster mode). */
int64_t follow_revision(bool *up);
bool follow_endpoint(char *out, size_t len);

/* status.c: STATUS_DIR/<pid>.json for 'secretctl status' (conf/status.h) */
void status_write(const struct fs *fs, int64_t revision);
void status_remove(void);

/* log.c - never pass a secret value */
void log_init(enum log_level level, bool to_syslog);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
