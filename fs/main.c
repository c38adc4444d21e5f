/*
 * main.c - secretfs, the FUSE driver: parse the command line, read the
 * configuration, check the store opens, mount read-only, daemonize once the
 * mount is ready, and serve until unmounted or signalled.
 *
 *   secretfs [-c CONFIG] [-f] [-d] [-o OPTIONS] MOUNTPOINT
 *
 * The store is opened (read-only) after daemonizing so that no SQLite
 * connection crosses a fork; it is opened once before as well, so that a
 * bad store or key is reported on the terminal and nothing gets mounted.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "fs.h"

/* How long the kernel may trust a name or an attribute before asking again;
 * a change made with secretctl shows within about this time. */
#define CACHE_SECONDS 1.0

static void usage(FILE *f)
{
	fputs("Usage: secretfs [-c CONFIG] [-f] [-d] [-o OPTIONS] MOUNTPOINT\n\n"
	      "Serve the secrets of a secretfs store as a read-only file tree:\n"
	      "MOUNTPOINT/<namespace>/<secret>/<key>.\n\n"
	      "  -c, --config FILE   configuration (default $SECRETFS_CONFIG, else "
	      CONFIG_DEFAULT_PATH ")\n"
	      "  -f, --foreground    stay in the foreground and log to stderr\n"
	      "                      (default: daemonize once mounted, log to syslog)\n"
	      "  -d, --debug         foreground, debug log and FUSE request tracing\n"
	      "  -o OPTIONS          FUSE mount options, e.g. -o allow_other\n"
	      "  -h, --help          this help\n"
	      "  -V, --version       print the version\n\n"
	      "Unmount with 'fusermount3 -u MOUNTPOINT'.\n", f);
}

/* No core file and no ptrace or /proc/PID/mem for other users: this
 * process holds the data keys and plaintext. */
static void harden_process(void)
{
	struct rlimit none = { 0, 0 };

	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static int check_store(const struct config *cfg)
{
	char err[STORE_ERRMSG_MAX];
	struct store *st;

	if (store_open(&st, cfg->store_path, cfg->key_file, STORE_RDONLY, err)) {
		fprintf(stderr, "secretfs: %s\n", err);
		return -1;
	}
	store_close(st);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *loop = NULL;
	struct fuse_session *se = NULL;
	struct fs fs = { .timeout = CACHE_SECONDS };
	const char *config_path = NULL, *mountpoint;
	char err[CONFIG_ERR_MAX];
	struct config cfg;
	bool foreground = false, debug = false, have_cfg = false, mounted = false;
	bool locked = false;
	int opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "c:fdo:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'd':
			foreground = debug = true;
			break;
		case 'o':
			if (fuse_opt_add_arg(&args, "-o") || fuse_opt_add_arg(&args, optarg))
				goto out;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("secretfs %s (libfuse %s)\n", SECRETFS_VERSION, fuse_pkgversion());
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "secretfs: %s\n", optind == argc ? "missing MOUNTPOINT" :
			"too many arguments");
		usage(stderr);
		return 2;
	}
	mountpoint = argv[optind];
	harden_process();
	if (sodium_init() < 0) {
		fprintf(stderr, "secretfs: cannot initialise libsodium\n");
		return 1;
	}
	if (config_load(&cfg, config_path, err)) {
		fprintf(stderr, "secretfs: %s\n", err);
		return 1;
	}
	have_cfg = true;
	log_init(debug ? LOG_LEVEL_DEBUG : cfg.log_level, false);
	if (check_store(&cfg))
		goto out;

	/* argv[0], our fixed options, then the user's -o options */
	if (fuse_opt_insert_arg(&args, 0, "secretfs") ||
	    fuse_opt_insert_arg(&args, 1, "-o") ||
	    fuse_opt_insert_arg(&args, 2, "ro,default_permissions,fsname=secretfs,subtype=secretfs") ||
	    (debug && fuse_opt_add_arg(&args, "-d")))
		goto out;
	fs.cfg = &cfg;
	fs.mounted = time(NULL);
	if (pthread_mutex_init(&fs.lock, NULL) || node_table_init(&fs.nodes))
		goto out;
	locked = true;
	se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), &fs);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se))
		goto out;
	if (fuse_session_mount(se, mountpoint))
		goto out;
	mounted = true;
	if (fuse_daemonize(foreground))
		goto out;
	if (!foreground)
		log_init(cfg.log_level, true);
	if (store_open(&fs.st, cfg.store_path, cfg.key_file, STORE_RDONLY, err)) {
		log_msg(LOG_LEVEL_ERROR, "%s", err);
		goto out;
	}
	log_msg(LOG_LEVEL_INFO, "serving store '%s' at '%s'", cfg.store_path, mountpoint);
	loop = fuse_loop_cfg_create();
	if (!loop)
		goto out;
	fuse_loop_cfg_set_max_threads(loop, 16);
	fuse_loop_cfg_set_idle_threads(loop, 4);
	/* a positive result is the signal that stopped us: a clean stop */
	ret = fuse_session_loop_mt(se, loop) < 0 ? 1 : 0;
	log_msg(LOG_LEVEL_INFO, "unmounting '%s'", mountpoint);
out:
	if (loop)
		fuse_loop_cfg_destroy(loop);
	if (mounted)
		fuse_session_unmount(se);
	if (se) {
		fuse_remove_signal_handlers(se);
		fuse_session_destroy(se);
	}
	store_close(fs.st);
	if (locked) {
		node_table_release(&fs.nodes);
		pthread_mutex_destroy(&fs.lock);
	}
	fuse_opt_free_args(&args);
	if (have_cfg)
		config_release(&cfg);
	return ret;
}
