/*
 * main.c - secretfs, the FUSE driver: parse the command line, read the
 * configuration, check the store and the views, mount, daemonize once every
 * mount is ready, and serve until unmounted or signalled.
 *
 *   secretfs [OPTIONS] MOUNTPOINT                 the operator's full tree
 *   secretfs [OPTIONS] --view NAME MOUNTPOINT     one view
 *   secretfs [OPTIONS] --views DIR                every view, at DIR/NAME
 *   secretfs [OPTIONS] --per-caller MOUNTPOINT    one mount, view per caller
 *   secretfs [OPTIONS] --pod FILE MOUNTPOINT      a Pod's secret volumes
 *
 * Each mount is its own FUSE session with its own loop thread.  Signals
 * (INT, TERM, HUP) are taken by one thread with sigwait(); it stops every
 * loop by marking its session exited and poking its thread with SIGUSR1 so
 * the loop notices.  A mount unmounted from outside (fusermount3 -u) ends
 * its loop alone; the daemon exits when no loop is left.
 *
 * The store is opened (read-only) after daemonizing so that no SQLite
 * connection crosses a fork; it is opened before as well, so that a bad
 * store, key or view is reported on the terminal and nothing is mounted.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "fs.h"
#include "conf/passphrase.h"
#include "conf/privdir.h"
#include "kube/kube.h"

/* How long the kernel may trust a name or an attribute: under the watch
 * strategy, until told otherwise (a day, then it asks anyway). */
#define WATCH_CACHE_SECONDS 86400.0

struct options {
	const char *config_path;
	const char *view;
	const char *views_dir;
	const char *pod;            /* --pod FILE */
	bool per_caller;
	bool foreground;
	bool debug;
	int log_level;              /* -1: from the configuration */
	const char *mountpoint;
	int passphrase_fd;          /* -1: none */
	struct fuse_args user_opts; /* -o ... */
};

static void usage(FILE *f)
{
	fputs("Usage: secretfs [OPTIONS] MOUNTPOINT\n"
	      "       secretfs [OPTIONS] --view NAME MOUNTPOINT\n"
	      "       secretfs [OPTIONS] --views DIR\n"
	      "       secretfs [OPTIONS] --per-caller MOUNTPOINT\n"
	      "       secretfs [OPTIONS] --pod POD.yaml MOUNTPOINT\n\n"
	      "Serve the secrets of a secretfs store as a read-only file tree,\n"
	      "MOUNTPOINT/<namespace>/<secret>/<key>: the whole store (for the user who\n"
	      "mounts it), one view, every view, or the view of each caller's cgroup.\n\n"
	      "  -c, --config FILE   configuration (default $SECRETFS_CONFIG, else "
	      CONF_DEFAULT_PATH ")\n"
	      "      --view NAME     serve only what [view NAME] grants (allow_other)\n"
	      "      --views DIR     serve every configured view at DIR/NAME, one daemon\n"
	      "      --per-caller    one shared mount (allow_other); each request sees the\n"
	      "                      view whose 'match = cgroup:PATH' selects the caller's cgroup\n"
	      "      --pod FILE      serve the secret and projected volumes of the Pod in FILE\n"
	      "                      as MOUNTPOINT/VOLUME/PATH, as the kubelet lays them out\n"
	      "      --passphrase-fd N  read the passphrase of a store locked with one from\n"
	      "                      file descriptor N (a store with a key file needs none)\n"
	      "  -f, --foreground    stay in the foreground and log to stderr\n"
	      "                      (default: daemonize once mounted, log to syslog)\n"
	      "  -d, --debug         foreground, debug log and FUSE request tracing\n"
	      "  -o OPTIONS          more FUSE mount options, and our own:\n"
	      "                      debug (log level debug, stays a daemon),\n"
	      "                      log_level=error|warning|info|debug\n"
	      "  -h, --help          this help\n"
	      "  -V, --version       print the version\n\n"
	      "Unmount with 'fusermount3 -u MOUNTPOINT', or stop the daemon with SIGTERM.\n", f);
}

/* No core file and no ptrace or /proc/PID/mem for other users: this
 * process holds the data keys and plaintext. */
static void harden_process(void)
{
	struct rlimit none = { 0, 0 };

	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static void on_wake(int sig)
{
	(void)sig; /* only interrupts a loop's wait; see stop_all() */
}

/* Split a -o list: 'debug' and 'log_level=' are ours (FUSE's own debug
 * would also trace every request and keep us in the foreground; -d does
 * that), the rest goes to FUSE as given. */
static int take_own_options(struct options *o, const char *list)
{
	char *copy = strdup(list), *save = NULL, *opt;
	char rest[4096] = "";
	size_t used = 0;
	int ret = 0;

	if (!copy)
		return -1;
	for (opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		enum log_level level;

		if (strcmp(opt, "debug") == 0) {
			o->log_level = LOG_LEVEL_DEBUG;
		} else if (strncmp(opt, "log_level=", 10) == 0) {
			if (config_parse_level(opt + 10, &level)) {
				fprintf(stderr, "secretfs: -o %s: not one of error, warning, info, "
					"debug\n", opt);
				ret = -1;
				break;
			}
			o->log_level = (int)level;
		} else {
			int n = snprintf(rest + used, sizeof(rest) - used, "%s%s",
					 used ? "," : "", opt);

			if (n < 0 || (size_t)n >= sizeof(rest) - used) {
				fprintf(stderr, "secretfs: -o: option list too long\n");
				ret = -1;
				break;
			}
			used += (size_t)n;
		}
	}
	free(copy);
	if (ret == 0 && used && (fuse_opt_add_arg(&o->user_opts, "-o") ||
				 fuse_opt_add_arg(&o->user_opts, rest)))
		ret = -1;
	return ret;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "view", required_argument, NULL, 'v' },
		{ "views", required_argument, NULL, 'W' },
		{ "per-caller", no_argument, NULL, 'P' },
		{ "pod", required_argument, NULL, 'p' },
		{ "passphrase-fd", required_argument, NULL, 'F' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, modes;

	while ((opt = getopt_long(argc, argv, "c:fdo:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': o->config_path = optarg; break;
		case 'v': o->view = optarg; break;
		case 'W': o->views_dir = optarg; break;
		case 'P': o->per_caller = true; break;
		case 'p': o->pod = optarg; break;
		case 'F': {
			char *end;
			long fd = strtol(optarg, &end, 10);

			if (!*optarg || *end || fd < 0 || fd > 1000000) {
				fprintf(stderr, "secretfs: --passphrase-fd: '%s' is not a file descriptor\n",
					optarg);
				return 2;
			}
			o->passphrase_fd = (int)fd;
			break;
		}
		case 'f': o->foreground = true; break;
		case 'd': o->foreground = o->debug = true; break;
		case 'o':
			if (take_own_options(o, optarg))
				return 2;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("secretfs %s (libfuse %s)\n", SECRETFS_VERSION, fuse_pkgversion());
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	modes = !!o->view + !!o->views_dir + o->per_caller + !!o->pod;
	if (modes > 1) {
		fprintf(stderr, "secretfs: --view, --views, --per-caller and --pod exclude each other\n");
		return 2;
	}
	if (o->views_dir) {
		if (optind != argc) {
			fprintf(stderr, "secretfs: --views DIR takes no MOUNTPOINT\n");
			return 2;
		}
		return 0;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "secretfs: %s\n", optind == argc ? "missing MOUNTPOINT" :
			"too many arguments");
		usage(stderr);
		return 2;
	}
	o->mountpoint = argv[optind];
	return 0;
}

/*
 * Guards each mount's se, running and alive, and stopping: the signal
 * thread wakes a loop thread only while it has not returned (never one
 * already joined), and a pending view is mounted only while the daemon is
 * not stopping.  loops_cond tells serve() that a loop ended, started, or
 * the daemon is stopping.
 */
static pthread_mutex_t loops_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t loops_cond = PTHREAD_COND_INITIALIZER;
static bool stopping;
static bool reloading; /* fs_reload between taking down and bringing up */
/* for mounting pending views later (fs_pending_check) and reloaded
 * ones (fs_reload) */
static const struct options *mount_options;
/* --views: mount slots kept for the views reloads add (see struct fs) */
#define RELOAD_SPARE_MOUNTS 256

static int add_mount(struct fs *fs, const struct view *v, bool per_caller,
		     const char *mountpoint)
{
	struct mount *m = fs->mounts;

	if (fs->nmounts == fs->mounts_cap) {
		if (fs->watcher) /* serving: loop threads hold pointers into it */
			return -ENOSPC;
		m = realloc(fs->mounts, (fs->nmounts + 1) * sizeof(*m));
		if (!m)
			return -ENOMEM;
		fs->mounts = m;
		fs->mounts_cap = fs->nmounts + 1;
	}
	m += fs->nmounts;
	*m = (struct mount){
		.fs = fs,
		.view = v,
		.per_caller = per_caller,
		.audit = per_caller || (v && v->audit),
		/* let the kernel cache for as long as the strategy allows (a
		 * per-caller mount: attributes only, see timeout_for()) */
		.timeout = fs->cfg->strategy == UPDATE_WATCH ? WATCH_CACHE_SECONDS :
			   fs->cfg->strategy == UPDATE_TTL ? (double)fs->cfg->ttl : 0.0,
		.layout = per_caller ? LAYOUT_PLAIN : v ? v->layout : fs->cfg->layout,
		.mountpoint = realpath(mountpoint, NULL),
	};
	if (!m->mountpoint) {
		fprintf(stderr, "secretfs: mount point '%s': %s\n", mountpoint, strerror(errno));
		return -1;
	}
	m->direct_io = v ? v->direct_io : fs->cfg->direct_io; /* per caller: the view's */
	m->kernel_only = m->layout == LAYOUT_KUBELET && !m->audit && !per_caller &&
			 !m->direct_io && fs->cfg->strategy != UPDATE_POLL && !(v && v->pod);
	if (node_table_init(&m->nodes, &fs->lock)) {
		free(m->mountpoint);
		return -ENOMEM;
	}
	if (v && v->pod && volume_tree_init(m)) {
		volume_tree_free(m);
		node_table_release(&m->nodes);
		free(m->mountpoint);
		return -ENOMEM;
	}
	/* visible to the signal thread and serve() (loops_lock) and to
	 * request handlers (fs->lock) only once complete */
	pthread_mutex_lock(&loops_lock);
	pthread_mutex_lock(&fs->lock);
	fs->nmounts++;
	pthread_mutex_unlock(&fs->lock);
	pthread_mutex_unlock(&loops_lock);
	return 0;
}

/*
 * Note a view that waits for what it requires: index is its mount's in
 * fs->mounts (--views: the pointer is set once fs->mounts stops moving) or
 * its slot in a set's disabled[] (per caller, set by the caller).
 */
static void caller_views_free(struct caller_views *set)
{
	if (!set)
		return;
	free(set->use);
	free(set->disabled);
	free(set);
}

static int pending_add(struct fs *fs, const struct view *v, size_t index, struct store *st)
{
	struct pending_view *p = realloc(fs->pending, (fs->npending + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	fs->pending = p;
	p += fs->npending++;
	*p = (struct pending_view){ .view = v, .index = index, .waiting = true };
	view_missing(v, st, p->missing, sizeof(p->missing));
	return 0;
}

/* A line for the log, or for stderr before the daemon serves. */
#define say(at_start, level, ...) \
	((at_start) ? (fprintf(stderr, "secretfs: " __VA_ARGS__), fputc('\n', stderr)) : \
		      (log_msg(level, __VA_ARGS__), 0))

/*
 * The per-caller set for c (see struct caller_views): each view's object
 * (prev's when unchanged), and its pending views noted in fs->pending.
 * 0, -EINVAL (a pod view: not served per caller; said), -ENOMEM.  On
 * failure nothing is left in fs->pending.
 */
static int caller_views_make(struct fs *fs, const struct config *c,
			     const struct caller_views *prev, struct store *st, bool at_start,
			     struct caller_views **out)
{
	struct caller_views *set = calloc(1, sizeof(*set));
	char err[STORE_ERRMSG_MAX];
	size_t npending = fs->npending;
	int ret = -ENOMEM;

	if (!set || !(set->use = calloc(c->nviews + 1, sizeof(*set->use))) ||
	    !(set->disabled = calloc(c->nviews + 1, sizeof(*set->disabled))))
		goto out;
	set->cfg = c;
	ret = 0;
	for (size_t i = 0; !ret && i < c->nviews; i++) {
		const struct view *v = &c->views[i], *old;

		if (v->pod) {
			say(at_start, LOG_LEVEL_ERROR, "view \"%s\": a pod's volumes are served by --view or --views, not --per-caller",
			    v->name);
			ret = -EINVAL;
			break;
		}
		if (v->layout == LAYOUT_KUBELET)
			say(at_start, LOG_LEVEL_WARNING, "view \"%s\": layout = kubelet is served as plain through --per-caller",
			    v->name);
		/* unchanged: its callers keep their inodes */
		old = prev ? config_view(prev->cfg, v->name) : NULL;
		set->use[i] = old && config_view_equal(old, v) ?
			      prev->use[old - prev->cfg->views] : v;
		if (!view_check_required(set->use[i], st, err, sizeof(err)))
			continue;
		say(at_start, LOG_LEVEL_WARNING, "%s: pending, its callers see nothing until it exists", err);
		set->disabled[set->ndisabled] = set->use[i];
		pthread_mutex_lock(&loops_lock);
		ret = pending_add(fs, set->use[i], 0, st);
		if (!ret)
			fs->pending[fs->npending - 1].slot = &set->disabled[set->ndisabled];
		pthread_mutex_unlock(&loops_lock);
		set->ndisabled++;
	}
out:
	if (ret) {
		pthread_mutex_lock(&loops_lock);
		fs->npending = npending;
		pthread_mutex_unlock(&loops_lock);
		caller_views_free(set);
		return ret;
	}
	*out = set;
	return 0;
}

/*
 * Decide what to mount, checking views against the store as the kubelet
 * checks a pod's volumes: a view whose required secret is missing does not
 * come up.  For --views the others still do; --view fails outright.
 */
/*
 * Exit statuses, so that a supervisor can tell why the daemon would not
 * start: 1 anything else, 2 usage, 3 the key does not open the store,
 * 4 the database is damaged.
 */
#define EXIT_BAD_KEY 3
#define EXIT_DAMAGED 4

static int plan_mounts(struct fs *fs, const struct options *o)
{
	char err[STORE_ERRMSG_MAX], path[4096];
	struct store *st;
	int ret = 0;

	ret = store_open_with(&st, fs->cfg->conf.store_path, &fs->unlock, STORE_RDONLY, err);
	if (ret) {
		fprintf(stderr, "secretfs: %s\n", err);
		return ret == -EKEYREJECTED ? -EXIT_BAD_KEY :
		       ret == -EUCLEAN || ret == -EIO ? -EXIT_DAMAGED : -1;
	}
	if (store_check_integrity(st)) {
		fprintf(stderr, "secretfs: store '%s': %s\n", fs->cfg->conf.store_path, store_errmsg(st));
		store_close(st);
		return -EXIT_DAMAGED;
	}
	if (o->pod) {
		const struct view *v = fs->pod_view;

		assert(v && v->pod);
		for (size_t i = 0; i < v->pod->nignored; i++)
			fprintf(stderr, "secretfs: pod \"%s\": volume \"%s\" is not a secret or projected volume: the container runtime mounts it, not secretfs\n",
				v->pod->name, v->pod->ignored[i]);
		for (size_t i = 0; i < v->pod->nvolumes; i++)
			if (v->pod->volumes[i].ignored_sources)
				fprintf(stderr, "secretfs: pod \"%s\": volume \"%s\": %zu projected source%s not a secret: not served\n",
					v->pod->name, v->pod->volumes[i].name, v->pod->volumes[i].ignored_sources,
					v->pod->volumes[i].ignored_sources == 1 ? " is" : "s are");
		ret = add_mount(fs, v, false, o->mountpoint);
		if (!ret && view_check_required(v, st, err, sizeof(err))) {
			fprintf(stderr, "secretfs: %s: pending, mounted once it exists\n", err);
			ret = pending_add(fs, v, 0, st);
			if (!ret)
				fs->pending[0].mount = &fs->mounts[0];
		}
	} else if (o->view) {
		const struct view *v = config_view(fs->cfg, o->view);

		if (!v) {
			fprintf(stderr, "secretfs: no [view %s] in %s\n", o->view,
				fs->cfg->conf.path ? fs->cfg->conf.path : "the configuration");
			ret = -1;
		} else if (view_check_required(v, st, err, sizeof(err))) {
			fprintf(stderr, "secretfs: %s\n", err);
			ret = -1;
		} else {
			ret = add_mount(fs, v, false, o->mountpoint);
		}
	} else if (o->views_dir) {
		if (fs->cfg->nviews == 0) {
			fprintf(stderr, "secretfs: --views: no [view NAME] in %s\n",
				fs->cfg->conf.path ? fs->cfg->conf.path : "the configuration");
			ret = -1;
		}
		if (!ret) {
			int r = privdir_make(o->views_dir, err, sizeof(err));

			if (r)
				fprintf(stderr, "secretfs: %s--views: %s\n",
					r > 0 ? "warning: " : "", err);
			ret = r < 0 ? -1 : 0;
		}
		if (!ret) {
			fs->mounts = calloc(fs->cfg->nviews + RELOAD_SPARE_MOUNTS, sizeof(*fs->mounts));
			if (!fs->mounts)
				ret = -ENOMEM;
			else
				fs->mounts_cap = fs->cfg->nviews + RELOAD_SPARE_MOUNTS;
		}
		for (size_t i = 0; !ret && i < fs->cfg->nviews; i++) {
			const struct view *v = &fs->cfg->views[i];
			bool waits = view_check_required(v, st, err, sizeof(err)) != 0;

			if (waits)
				fprintf(stderr, "secretfs: %s: pending, mounted once it exists\n", err);
			snprintf(path, sizeof(path), "%s/%s", o->views_dir, v->name);
			if (mkdir(path, 0755) < 0 && errno != EEXIST) {
				fprintf(stderr, "secretfs: cannot create '%s': %s\n", path,
					strerror(errno));
				continue;
			}
			ret = add_mount(fs, v, false, path);
			if (!ret && waits)
				ret = pending_add(fs, v, fs->nmounts - 1, st);
		}
		/* fs->mounts moves no more: point the pending views at theirs */
		for (size_t i = 0; !ret && i < fs->npending; i++)
			fs->pending[i].mount = &fs->mounts[fs->pending[i].index];
		if (!ret && fs->nmounts == 0)
			ret = -1;
	} else if (o->per_caller) {
		ret = caller_views_make(fs, fs->cfg, NULL, st, true, &fs->callers);
		if (!ret)
			ret = add_mount(fs, NULL, true, o->mountpoint);
	} else {
		ret = add_mount(fs, NULL, false, o->mountpoint);
	}
	store_close(st);
	return ret;
}

/* Create and mount one session; errors go to stderr (still a terminal). */
static int mount_one(struct mount *m, const struct options *o)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	char fixed[512];
	int ret = -1;

	/* the per-caller mount checks modes itself, with the caller's view
	 * (its attributes are never cached, so the kernel would ask for them
	 * at every step of every path) */
	snprintf(fixed, sizeof(fixed),
		 "ro%s,fsname=secretfs%s%s,subtype=secretfs%s",
		 m->per_caller ? "" : ",default_permissions",
		 m->view ? ":" : "", m->view ? m->view->name : "",
		 m->view || m->per_caller ? ",allow_other" : "");
	if (fuse_opt_add_arg(&args, "secretfs") || fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, fixed) || (o->debug && fuse_opt_add_arg(&args, "-d")))
		goto out;
	for (int i = 0; i < o->user_opts.argc; i++)
		if (fuse_opt_add_arg(&args, o->user_opts.argv[i]))
			goto out;
	m->se = fuse_session_new(&args, m->vtree ? &volume_ops : &fs_ops, sizeof(fs_ops), m);
	if (!m->se)
		goto out;
	if (fuse_session_mount(m->se, m->mountpoint)) {
		fuse_session_destroy(m->se);
		m->se = NULL;
		goto out;
	}
	ret = 0;
out:
	fuse_opt_free_args(&args);
	return ret;
}


static void *loop_thread(void *arg)
{
	struct mount *m = arg;
	struct fuse_loop_config *loop = fuse_loop_cfg_create();

	if (!loop) {
		m->loop_result = -ENOMEM;
	} else {
		fuse_loop_cfg_set_max_threads(loop, 16);
		fuse_loop_cfg_set_idle_threads(loop, 4);
		m->loop_result = fuse_session_loop_mt(m->se, loop);
		fuse_loop_cfg_destroy(loop);
	}
	pthread_mutex_lock(&loops_lock);
	m->alive = false;
	pthread_cond_broadcast(&loops_cond);
	pthread_mutex_unlock(&loops_lock);
	return NULL;
}

/* Start m's loop thread, under loops_lock.  It takes SIGUSR1 (to notice
 * the signal thread's fuse_session_exit), nothing else: every other thread
 * blocks it, so it is unblocked here for the new thread to inherit. */
static int loop_start(struct mount *m)
{
	sigset_t usr1, mask;

	assert(fs_lock_held(&loops_lock));
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &usr1, &mask);
	m->running = m->alive = pthread_create(&m->thread, NULL, loop_thread, m) == 0;
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	pthread_cond_broadcast(&loops_cond);
	return m->running ? 0 : -1;
}

/* Waits for INT or TERM and stops every loop; HUP asks for a reload. */
static void *signal_thread(void *arg)
{
	struct fs *fs = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			return NULL;
		if (sig != SIGHUP)
			break;
		log_msg(LOG_LEVEL_INFO, "reloading the configuration on SIGHUP");
		watcher_request_reload(fs);
	}
	log_msg(LOG_LEVEL_INFO, "stopping on signal %d", sig);
	pthread_mutex_lock(&loops_lock);
	stopping = true;
	for (size_t i = 0; i < fs->nmounts; i++) {
		if (!fs->mounts[i].se) /* a pending view, never mounted (or removed) */
			continue;
		fuse_session_exit(fs->mounts[i].se);
		if (fs->mounts[i].alive)
			pthread_kill(fs->mounts[i].thread, SIGUSR1);
	}
	pthread_cond_broadcast(&loops_cond);
	pthread_mutex_unlock(&loops_lock);
	return NULL;
}

void fs_pending_check(struct fs *fs, struct store *st)
{
	for (size_t i = 0; i < fs->npending; i++) {
		struct pending_view *p = &fs->pending[i];
		size_t missing;

		if (!p->waiting)
			continue;
		/* st and p->missing are the watcher thread's alone (status_write
		 * reads it there): fs->lock is not held across the store reads */
		missing = view_missing(p->view, st, p->missing, sizeof(p->missing));
		if (missing)
			continue;
		if (!p->mount) {
			/* per caller: its callers see it from their next request */
			__atomic_store_n(p->slot, NULL, __ATOMIC_RELEASE);
			p->waiting = false;
			log_msg(LOG_LEVEL_INFO, "view \"%s\": what it requires exists: its callers see it",
				p->view->name);
			continue;
		}
		pthread_mutex_lock(&loops_lock);
		if (!stopping) {
			if (mount_one(p->mount, mount_options) || loop_start(p->mount))
				log_msg(LOG_LEVEL_ERROR, "view \"%s\": cannot mount it at '%s'",
					p->view->name, p->mount->mountpoint);
			else
				log_msg(LOG_LEVEL_INFO, "view \"%s\": what it requires exists: serving it at '%s'",
					p->view->name, p->mount->mountpoint);
			p->waiting = false; /* mounted, or given up on (logged) */
		}
		pthread_mutex_unlock(&loops_lock);
	}
}

/*
 * Reload (SIGHUP).  Views are immutable: a reload loads a whole new
 * configuration and compares each view with the running one of its name
 * (config_view_equal).  An unchanged view keeps its mount, its view object
 * (of the configuration it was first loaded from) and so every inode and
 * open file: its readers never notice.  A removed view's mount is taken
 * down as at shutdown.  A changed view is changed in place
 * (watcher_change_view): same mount, same session, same inodes for the
 * names it still grants, open files reading on; the kernel forgets what
 * now differs.  Only what the kernel was told when the mount was made
 * cannot change so (the layout; audit and direct_io, which decide whether
 * opens reach the daemon at all), nor a pod's volumes (their own inode
 * tree) or a view that would now wait for what it requires: such a view's
 * mount is taken down and mounted again from the new view at the same
 * path, or pending (its readers see the mount go).  A new view is mounted
 * as at start, or pending if what it requires is missing.
 *
 * Lifetime: a view object is never freed before exit.  Nodes and open
 * files of a taken-down mount still point at its view (the kernel may
 * never send their FORGET or RELEASE), and the mounts that stay point at
 * views of older configurations, so every configuration a reload used is
 * kept in fs->reloaded until exit: a few kilobytes per reload that changed
 * something.  That is simpler and safer than reference counts on views for
 * what is a rare, operator-driven event.
 */

/* Take m down: stop its loop, wait for it (no request of it runs after),
 * detach the kernel's mount.  The watcher thread's, like every reload. */
static void take_down(struct fs *fs, struct mount *m)
{
	bool running;

	pthread_mutex_lock(&loops_lock);
	m->removed = true;
	if (m->se) {
		fuse_session_exit(m->se);
		if (m->alive)
			pthread_kill(m->thread, SIGUSR1);
	}
	for (size_t i = 0; i < fs->npending; i++)
		if (fs->pending[i].mount == m)
			fs->pending[i].waiting = false; /* nothing to wait for */
	running = m->running;
	m->running = false; /* ours to join, not serve()'s */
	pthread_cond_broadcast(&loops_cond);
	pthread_mutex_unlock(&loops_lock);
	if (running)
		pthread_join(m->thread, NULL);
	pthread_mutex_lock(&loops_lock);
	pthread_mutex_lock(&fs->lock);
	watcher_forget_mount(fs, m);
	m->gone_se = m->se;
	m->se = NULL;
	pthread_mutex_unlock(&fs->lock);
	pthread_mutex_unlock(&loops_lock);
	if (m->gone_se)
		fuse_session_unmount(m->gone_se);
	/* the folder --views made for it; kept if someone put files there */
	if (rmdir(m->mountpoint) < 0 && errno != ENOENT && errno != ENOTEMPTY)
		log_msg(LOG_LEVEL_DEBUG, "reload: cannot remove '%s': %s", m->mountpoint,
			strerror(errno));
	log_msg(LOG_LEVEL_INFO, "view \"%s\": unmounted from '%s'", m->view->name,
		m->mountpoint);
}

/* Can m's view become v in place (see above)?  The watcher thread's. */
static bool changes_in_place(const struct mount *m, const struct view *v, struct store *st)
{
	const struct view *old = m->view;
	char err[STORE_ERRMSG_MAX];
	bool serving;

	/* one unmounted from outside is mounted again, as before */
	pthread_mutex_lock(&loops_lock);
	serving = m->se && m->alive;
	pthread_mutex_unlock(&loops_lock);
	return serving && !m->vtree && !old->pod && !v->pod && old->layout == v->layout &&
	       old->audit == v->audit && old->direct_io == v->direct_io &&
	       view_check_required(v, st, err, sizeof(err)) == 0;
}

/* Bring up view v at DIR/NAME, as at start: mounted, or pending. */
static int bring_up(struct fs *fs, const struct view *v, struct store *st)
{
	char err[STORE_ERRMSG_MAX], path[4096];
	struct mount *m;
	bool waits;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", mount_options->views_dir, v->name);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		log_msg(LOG_LEVEL_ERROR, "view \"%s\": cannot create '%s': %s", v->name, path,
			strerror(errno));
		return -errno;
	}
	if ((ret = add_mount(fs, v, false, path))) {
		log_msg(LOG_LEVEL_ERROR, "view \"%s\": cannot add it: %s", v->name,
			ret == -ENOSPC ? "this daemon added its most views since it started: restart it" :
			strerror(-ret));
		return ret;
	}
	m = &fs->mounts[fs->nmounts - 1];
	waits = view_check_required(v, st, err, sizeof(err)) != 0;
	pthread_mutex_lock(&loops_lock);
	if (stopping) {
		ret = -ECANCELED;
	} else if (waits) {
		log_msg(LOG_LEVEL_WARNING, "%s: pending, mounted once it exists", err);
		if (!(ret = pending_add(fs, v, fs->nmounts - 1, st)))
			fs->pending[fs->npending - 1].mount = m;
		pthread_cond_broadcast(&loops_cond); /* serve() waits for it now */
	} else if (mount_one(m, mount_options) || loop_start(m)) {
		log_msg(LOG_LEVEL_ERROR, "view \"%s\": cannot mount it at '%s'", v->name,
			m->mountpoint);
		ret = -EIO;
	} else {
		log_msg(LOG_LEVEL_INFO, "serving view \"%s\" at '%s'", v->name, m->mountpoint);
	}
	pthread_mutex_unlock(&loops_lock);
	return ret;
}

/* Reload the per-caller mount: a new set, swapped whole (c taken over). */
static void reload_callers(struct fs *fs, struct config *c, struct store *st)
{
	struct caller_views *set, *old = fs->callers, **kept;
	struct config **cfgs;
	size_t npending = fs->npending, same = 0;

	kept = realloc(fs->old_callers, (fs->nold_callers + 1) * sizeof(*kept));
	if (kept)
		fs->old_callers = kept;
	if (!kept || caller_views_make(fs, c, old, st, false, &set)) {
		log_msg(LOG_LEVEL_ERROR, "reload: the views cannot be served per caller: nothing changed");
		snprintf(fs->config_error, sizeof(fs->config_error),
			 "%s: a view cannot be served per caller (see the log)",
			 c->conf.path ? c->conf.path : "the configuration");
		config_release(c);
		free(c);
		return;
	}
	cfgs = realloc(fs->reloaded, (fs->nreloaded + 1) * sizeof(*cfgs));
	if (!cfgs) { /* set points into c: lose it rather than free it */
		log_msg(LOG_LEVEL_ERROR, "reload: out of memory");
	} else {
		fs->reloaded = cfgs;
		fs->reloaded[fs->nreloaded++] = c;
	}
	/* the old set's pending views are the new set's business now */
	pthread_mutex_lock(&loops_lock);
	for (size_t i = 0; i < npending; i++)
		if (fs->pending[i].slot)
			fs->pending[i].waiting = false;
	pthread_mutex_unlock(&loops_lock);
	/* requests in flight keep the old set they loaded: kept until exit */
	fs->old_callers[fs->nold_callers++] = old;
	__atomic_store_n(&fs->callers, set, __ATOMIC_RELEASE);
	for (size_t i = 0; i < c->nviews; i++)
		same += set->use[i] != &c->views[i];
	log_msg(LOG_LEVEL_INFO, "reload: %zu view%s unchanged, %zu new or changed, for each caller from its next request",
		same, same == 1 ? "" : "s", c->nviews - same);
}

void fs_reload(struct fs *fs, struct store *st)
{
	char err[CONF_ERR_MAX];
	struct config *c = calloc(1, sizeof(*c));
	struct config **kept;
	size_t up = 0, down = 0, same = 0, tried = 0, changed = 0;

	if (!c) {
		log_msg(LOG_LEVEL_ERROR, "reload: out of memory: nothing changed");
		return;
	}
	/* the absolute path resolved at start: the daemon has left the
	 * folder a relative -c was given in (fuse_daemonize chdirs to /) */
	if (config_load(c, fs->cfg->conf.path ? fs->cfg->conf.path : mount_options->config_path,
			err)) {
		/* as at start, but the running views stay as they are */
		log_msg(LOG_LEVEL_ERROR, "reload: %s: nothing changed", err);
		snprintf(fs->config_error, sizeof(fs->config_error), "%s", err);
		free(c);
		return;
	}
	fs->config_error[0] = '\0';
	if (mount_options->per_caller) {
		reload_callers(fs, c, st);
		return;
	}
	if (!mount_options->views_dir) {
		/* --view and --pod serve what the command line named, the full
		 * tree has no views */
		log_msg(LOG_LEVEL_WARNING, "reload: the configuration loads; only --views applies its views without a restart");
		config_release(c);
		free(c);
		return;
	}
	/* serve() must not end while no loop runs between the two phases */
	pthread_mutex_lock(&loops_lock);
	reloading = true;
	pthread_mutex_unlock(&loops_lock);
	/* first down, so that a changed view's folder is free for its new mount */
	for (size_t i = 0, n = fs->nmounts; i < n; i++) {
		struct mount *m = &fs->mounts[i];
		const struct view *nv;

		if (m->removed || !m->view)
			continue;
		nv = config_view(c, m->view->name);
		if (nv && config_view_equal(m->view, nv)) {
			same++;
			continue;
		}
		if (nv && changes_in_place(m, nv, st)) {
			watcher_change_view(fs, m, nv);
			changed++;
			continue;
		}
		take_down(fs, m);
		down++;
	}
	for (size_t i = 0; i < c->nviews; i++) {
		const struct view *v = &c->views[i];
		bool running = false;

		for (size_t j = 0; j < fs->nmounts && !running; j++)
			running = !fs->mounts[j].removed && fs->mounts[j].view &&
				  strcmp(fs->mounts[j].view->name, v->name) == 0;
		if (running)
			continue;
		tried++; /* a mount may point at v even when it failed */
		if (bring_up(fs, v, st) == 0)
			up++;
	}
	pthread_mutex_lock(&loops_lock);
	reloading = false;
	pthread_cond_broadcast(&loops_cond);
	pthread_mutex_unlock(&loops_lock);
	log_msg(LOG_LEVEL_INFO, "reload: %zu view%s unchanged, %zu changed in place, %zu taken down, %zu brought up",
		same, same == 1 ? "" : "s", changed, down, up);
	if (!tried && !changed) { /* none of its views is used: nothing points into it */
		config_release(c);
		free(c);
		return;
	}
	kept = realloc(fs->reloaded, (fs->nreloaded + 1) * sizeof(*kept));
	if (!kept) { /* used, so it cannot be freed: lose it rather than crash */
		log_msg(LOG_LEVEL_ERROR, "reload: out of memory");
		return;
	}
	fs->reloaded = kept;
	kept[fs->nreloaded++] = c;
}

/*
 * Block the stop signals (and the loops' wake-up) before any thread exists,
 * so that every thread inherits the mask and only signal_thread takes them
 * with sigwait(): a SIGTERM landing on another thread would otherwise kill
 * the process with its mounts still in place.
 */
static void block_signals(void)
{
	struct sigaction wake = { .sa_handler = on_wake }; /* no SA_RESTART */
	sigset_t stop;

	sigaction(SIGUSR1, &wake, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
}

/* Run every mount's loop until all have ended, and no pending view is
 * left to mount (unless the daemon is stopping). */
static int serve(struct fs *fs)
{
	pthread_t sigthread;
	int ret = 0;

	if (pthread_create(&sigthread, NULL, signal_thread, fs) != 0)
		return -1;
	pthread_mutex_lock(&loops_lock);
	for (size_t i = 0; i < fs->nmounts; i++)
		/* (the watcher may have mounted a pending view already) */
		if (fs->mounts[i].se && !fs->mounts[i].running && loop_start(&fs->mounts[i]))
			ret = -1;
	for (;;) {
		size_t alive = 0, waiting = 0;

		for (size_t i = 0; i < fs->nmounts; i++)
			alive += fs->mounts[i].alive;
		for (size_t i = 0; i < fs->npending; i++)
			waiting += fs->pending[i].mount && fs->pending[i].waiting;
		if (!alive && !reloading && (stopping || !waiting))
			break;
		pthread_cond_wait(&loops_cond, &loops_lock);
	}
	stopping = true; /* no pending view mounts from now on */
	pthread_mutex_unlock(&loops_lock);
	for (size_t i = 0;; i++) {
		struct mount *m;
		bool running;

		/* a reload may still be adding a mount (never started now: we
		 * are stopping) or joining one (take_down): one of us joins */
		pthread_mutex_lock(&loops_lock);
		if (i >= fs->nmounts) {
			pthread_mutex_unlock(&loops_lock);
			break;
		}
		m = &fs->mounts[i];
		running = m->running;
		m->running = false;
		pthread_mutex_unlock(&loops_lock);
		if (!running)
			continue;
		pthread_join(m->thread, NULL);
		if (m->loop_result < 0)
			ret = -1;
		log_msg(LOG_LEVEL_INFO, "unmounting '%s'", m->mountpoint);
	}
	pthread_cancel(sigthread);
	pthread_join(sigthread, NULL);
	return ret;
}

int main(int argc, char **argv)
{
	struct options o = { .user_opts = FUSE_ARGS_INIT(0, NULL), .passphrase_fd = -1,
			     .log_level = -1 };
	char *passphrase = NULL;
	struct fs fs = { 0 };
	char err[CONF_ERR_MAX];
	struct config cfg;
	struct view pod_view = { 0 };
	bool have_cfg = false, have_pod = false, locked = false;
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret)
		goto out;
	ret = 1;
	harden_process();
	if (sodium_init() < 0) {
		fprintf(stderr, "secretfs: cannot initialise libsodium\n");
		goto out;
	}
	if (config_load(&cfg, o.config_path, err)) {
		fprintf(stderr, "secretfs: %s\n", err);
		goto out;
	}
	have_cfg = true;
	if (o.debug)
		o.log_level = LOG_LEVEL_DEBUG;
	if (o.log_level >= 0)
		cfg.log_level = (enum log_level)o.log_level;
	log_init(cfg.log_level, false);
	fs.cfg = &cfg;
	fs.started = time(NULL);
	fs.unlock.key_file = cfg.conf.key_file;
	if (o.passphrase_fd >= 0) {
		if (passphrase_read(&passphrase, &fs.unlock.passlen, o.passphrase_fd, "", err,
				    sizeof(err))) {
			fprintf(stderr, "secretfs: %s\n", err);
			goto out;
		}
		fs.unlock.passphrase = passphrase;
	}
	if (pthread_mutex_init(&fs.lock, NULL))
		goto out;
	if (pthread_mutex_init(&fs.events_lock, NULL)) {
		pthread_mutex_destroy(&fs.lock);
		goto out;
	}
	if (reader_init(&fs)) {
		pthread_mutex_destroy(&fs.events_lock);
		pthread_mutex_destroy(&fs.lock);
		goto out;
	}
	locked = true;
	if (cfg.conf.cluster.endpoints && follow_open(&fs, err, sizeof(err))) {
		fprintf(stderr, "secretfs: %s\n", err);
		goto out;
	}
	if (o.pod) {
		/* the pod's volumes, owned and mode as [mount] says */
		pod_view = (struct view){ .uid = cfg.uid, .gid = cfg.gid, .mode = cfg.mode,
					  .layout = cfg.layout };
		have_pod = true;
		if (config_pod_view(&pod_view, o.pod, err, sizeof(err)) ||
		    !(pod_view.name = strdup(pod_view.pod->name))) {
			fprintf(stderr, "secretfs: %s\n", pod_view.pod ? "out of memory" : err);
			goto out;
		}
		fs.pod_view = &pod_view;
	}
	if ((ret = plan_mounts(&fs, &o))) {
		ret = ret < -1 ? -ret : 1;
		goto out;
	}
	ret = 1;
	mount_options = &o;
	for (size_t i = 0; i < fs.nmounts; i++) {
		bool waits = false;

		for (size_t j = 0; j < fs.npending; j++)
			waits |= fs.pending[j].mount == &fs.mounts[i];
		if (!waits && mount_one(&fs.mounts[i], &o))
			goto out;
	}
	if (fuse_daemonize(o.foreground))
		goto out;
	if (!o.foreground)
		log_init(cfg.log_level, true);
	if (store_open_with(&fs.st, cfg.conf.store_path, &fs.unlock, STORE_RDONLY, err)) {
		log_msg(LOG_LEVEL_ERROR, "%s", err);
		goto out;
	}
	for (size_t i = 0; i < fs.nmounts; i++) {
		if (fs.mounts[i].audit) {
			audit_open(&cfg);
			break;
		}
	}
	/* before the watcher starts: it may mount a pending view (se) */
	for (size_t i = 0; i < fs.nmounts; i++)
		if (fs.mounts[i].se)
			log_msg(LOG_LEVEL_INFO, "serving %s%s%s at '%s'",
				fs.mounts[i].per_caller ? "each caller's view" :
				fs.mounts[i].view ? "view \"" : "the whole store",
				fs.mounts[i].view ? fs.mounts[i].view->name : "",
				fs.mounts[i].view ? "\"" : "", fs.mounts[i].mountpoint);
	block_signals();
	if (watcher_start(&fs, err, sizeof(err)) || follow_start(err, sizeof(err))) {
		log_msg(LOG_LEVEL_ERROR, "%s", err);
		goto out;
	}
	ret = serve(&fs) ? 1 : 0;
out:
	watcher_stop(&fs); /* first: it reads the follower's state for the status */
	follow_stop();
	for (size_t i = 0; i < fs.nmounts; i++) {
		struct mount *m = &fs.mounts[i];

		if (m->se) {
			fuse_session_unmount(m->se);
			fuse_session_destroy(m->se);
		}
		if (m->gone_se) /* unmounted by the reload that removed it */
			fuse_session_destroy(m->gone_se);
		node_table_release(&m->nodes);
		volume_tree_free(m);
		free(m->mountpoint);
	}
	ops_free_open_files(); /* after the sessions: no request runs */
	free(fs.mounts);
	caller_views_free(fs.callers);
	for (size_t i = 0; i < fs.nold_callers; i++)
		caller_views_free(fs.old_callers[i]);
	free(fs.old_callers);
	free(fs.pending);
	audit_close();
	if (locked) {
		reader_release_all(&fs); /* the sessions, their only users, are gone */
		pthread_mutex_destroy(&fs.events_lock);
		pthread_mutex_destroy(&fs.lock);
	}
	store_close(fs.st);
	store_close(fs.events);
	fuse_opt_free_args(&o.user_opts);
	passphrase_free(passphrase);
	if (have_pod)
		config_view_release(&pod_view);
	for (size_t i = 0; i < fs.nreloaded; i++) {
		config_release(fs.reloaded[i]);
		free(fs.reloaded[i]);
	}
	free(fs.reloaded);
	if (have_cfg)
		config_release(&cfg);
	return ret;
}
