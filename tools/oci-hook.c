/*
 * secretfs-oci-hook - an OCI runtime hook that mounts a secretfs view into a
 * container, chosen by the container's annotations:
 *
 *   io.secretfs.view    the [view NAME] to mount (no annotation: do nothing)
 *   io.secretfs.target  where, inside the container (default /run/secrets)
 *
 * As a createRuntime hook (runtime namespace, after the container's mount
 * namespace exists, before pivot_root) it starts 'secretfs --view NAME' on a
 * host folder (STATE_DIR/ID), clones that mount (open_tree), enters the
 * container's mount namespace and attaches the clone at ROOTFS/TARGET
 * (move_mount).  The target is walked one component at a time below the
 * root file system without following symbolic links, so an image cannot
 * redirect the mount outside its root.  A missing view or required secret
 * makes secretfs fail, and so the hook, and so the container's creation,
 * with secretfs's message.
 *
 * Whoever may set annotations does not thereby choose the view: the hook
 * mounts a view only into a container whose cgroup selects it, by the
 * view's 'match = cgroup:...' lines and the rule of the per-caller mount
 * (config_view_for_cgroup).  The cgroup is read from the container's init
 * process, where the runtime put it, not from anything the container's
 * configuration says.  So the view follows whoever chooses the container's
 * cgroup (root running runc, podman's --cgroup-parent, a systemd unit).
 *
 * A Pod's volumes instead (io.secretfs.pod = the Pod manifest's path, and
 * io.secretfs.container = which of its containers, unless it has one):
 * the view the container's cgroup selects must be that pod's ('pod = FILE'
 * naming the same file), and each of the container's volumeMounts naming
 * a secret or projected volume gets that volume at its mountPath, as the
 * kubelet would mount it (its other volumes are the runtime's).
 *
 * As a poststop hook it unmounts the host folder, which ends that daemon.
 * The OCI state arrives on standard input as JSON (id, pid, bundle, status,
 * annotations).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "fs/config.h"
#include "fs/fs.h"
#include "conf/privdir.h"
#include "kube/kube.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

#define DEFAULT_STATE_DIR "/run/secretfs/oci"
#define DEFAULT_TARGET    "/run/secrets"
#define STATE_MAX         (1 << 20)

struct hook {
	const char *config;    /* passed to secretfs -c */
	const char *secretfs;  /* the driver binary */
	const char *state_dir;
	const char *stage;     /* createRuntime, poststop, or NULL: from status */
	const char *id;
	const char *bundle;
	const char *status;
	const char *view;
	const char *target;
	const char *pod;       /* io.secretfs.pod: a Pod manifest's path */
	const char *container; /* io.secretfs.container: which of its containers */
	char pod_view[VIEW_NAME_MAX + 1]; /* the view serving that pod */
	struct { char *volume, *path; } *mounts; /* the container's volumeMounts */
	size_t nmounts;
	int pid;
	char hostdir[PATH_MAX];
};

static int fail(const struct hook *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(const struct hook *h, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "secretfs-oci-hook: container %s: ", h->id ? h->id : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static void usage(FILE *f)
{
	fputs("Usage: secretfs-oci-hook [-c CONFIG] [--secretfs PATH] [--state-dir DIR] [STAGE]\n\n"
	      "An OCI runtime hook: reads the container state (JSON) on stdin and, if the\n"
	      "container has the annotation io.secretfs.view=NAME, mounts that view at\n"
	      "io.secretfs.target (default " DEFAULT_TARGET ") inside it (stage createRuntime),\n"
	      "or unmounts it again (stage poststop).  With io.secretfs.pod=FILE (and\n"
	      "io.secretfs.container=NAME) instead, it mounts the Pod's secret volumes at\n"
	      "that container's volumeMounts.  Without STAGE the state's status\n"
	      "decides: \"stopped\" means poststop.  The view must be the one the\n"
	      "container's cgroup selects by the views' 'match = cgroup:...' lines.\n\n"
	      "  -c, --config FILE    secretfs configuration (default: secretfs's default)\n"
	      "      --secretfs PATH  the secretfs binary (default: beside this hook)\n"
	      "      --state-dir DIR  host folder for the mounts (default " DEFAULT_STATE_DIR ")\n", f);
}

/* runc container ids: letters, digits, '_', '-', '.'; never a path. */
static bool id_ok(const char *id)
{
	if (!id || !*id || strlen(id) > 1024 || id[0] == '.')
		return false;
	for (const char *p = id; *p; p++)
		if (!strchr("_-.", *p) && !(*p >= 'a' && *p <= 'z') &&
		    !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9'))
			return false;
	return true;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Run secretfs --view VIEW HOSTDIR; it returns once mounted, or fails
 * having said why on our stderr. */
static int start_secretfs(const struct hook *h)
{
	const char *argv[8];
	int n = 0, status;
	pid_t child;

	argv[n++] = h->secretfs;
	if (h->config) {
		argv[n++] = "-c";
		argv[n++] = h->config;
	}
	argv[n++] = "--view";
	argv[n++] = h->view;
	argv[n++] = h->hostdir;
	argv[n] = NULL;
	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO); /* runc shows a hook's stderr */
		execv(h->secretfs, (char *const *)argv);
		fprintf(stderr, "secretfs-oci-hook: cannot run '%s': %s\n", h->secretfs,
			strerror(errno));
		_exit(127);
	}
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* The container's root file system, from BUNDLE/config.json. */
static int rootfs_path(const struct hook *h, char *out, size_t len)
{
	char path[PATH_MAX];
	json_error_t jerr;
	const char *root;
	json_t *cfg;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/config.json", h->bundle);
	cfg = json_load_file(path, 0, &jerr);
	if (!cfg)
		return fail(h, "cannot read '%s': %s", path, jerr.text), -EINVAL;
	root = json_string_value(json_object_get(json_object_get(cfg, "root"), "path"));
	if (!root)
		ret = -EINVAL;
	else if (root[0] == '/')
		snprintf(out, len, "%s", root);
	else
		snprintf(out, len, "%s/%s", h->bundle, root);
	json_decref(cfg);
	if (ret)
		fail(h, "'%s' has no root.path", path);
	return ret;
}

/*
 * Open (creating as needed) TARGET below the directory rootfd, one component
 * at a time, refusing '.', '..' and symbolic links.  Returns an O_PATH fd.
 */
static int open_target(const struct hook *h, int rootfd, const char *target)
{
	char buf[PATH_MAX], *save, *comp;
	int fd = dup(rootfd);

	snprintf(buf, sizeof(buf), "%s", target);
	for (comp = strtok_r(buf, "/", &save); fd >= 0 && comp;
	     comp = strtok_r(NULL, "/", &save)) {
		int next;

		if (!strcmp(comp, ".") || !strcmp(comp, "..")) {
			close(fd);
			fail(h, "target '%s' may not contain '.' or '..'", target);
			return -1;
		}
		if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
			fail(h, "cannot create '%s' in the container: %s", target,
			     strerror(errno));
			close(fd);
			return -1;
		}
		next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			fail(h, "target '%s' in the container: '%s' is %s", target, comp,
			     errno == ELOOP || errno == ENOTDIR ?
			     "a symbolic link or not a folder" : strerror(errno));
		close(fd);
		fd = next;
	}
	return fd;
}

/* The state folder holds the views' mounts: private, see conf/privdir.h. */
static int state_dir_private(const struct hook *h)
{
	char err[PATH_MAX + 200];
	int r = privdir_make(h->state_dir, err, sizeof(err));

	if (r > 0)
		fprintf(stderr, "secretfs-oci-hook: warning: --state-dir: %s\n", err);
	return r < 0 ? fail(h, "--state-dir: %s", err) : 0;
}

/*
 * May this container have the view it asks for?  Only if its cgroup — the
 * init process's, as the runtime placed it — selects that view.  Returns
 * 0, or 1 having said why.
 */
static int check_view(struct hook *h)
{
	char err[CONF_ERR_MAX], cgroup[4096];
	const struct view *v, *sel;
	struct config cfg;
	int ret = 1;

	if (config_load(&cfg, h->config, err))
		return fail(h, "%s", err);
	v = config_view(&cfg, h->view);
	if (!v) {
		fail(h, "no [view %s] in %s", h->view, cfg.conf.path ? cfg.conf.path : "the configuration");
		goto out;
	}
	if (caller_cgroup(h->pid, cgroup, sizeof(cgroup), NULL)) {
		fail(h, "cannot read the cgroup of the container's process %d", h->pid);
		goto out;
	}
	sel = config_view_for_cgroup(&cfg, cgroup);
	if (sel != v) {
		fail(h, "view \"%s\" is not for this container: its cgroup '%s' selects %s%s%s (a view's 'match = cgroup:...' lines name the containers it may be given to)",
		     h->view, cgroup, sel ? "view \"" : "no view", sel ? sel->name : "",
		     sel ? "\"" : "");
		goto out;
	}
	ret = 0;
out:
	config_release(&cfg);
	return ret;
}

/*
 * io.secretfs.pod: the view the container's cgroup selects must serve that
 * very manifest; note its name, and the container's volumeMounts of the
 * pod's secret and projected volumes.  0, or 1 having said why.
 */
static int check_pod(struct hook *h)
{
	char err[CONF_ERR_MAX], cgroup[4096], want[PATH_MAX], have[PATH_MAX];
	const struct kube_container *c = NULL;
	const struct view *sel;
	struct config cfg;
	int ret = 1;

	if (config_load(&cfg, h->config, err))
		return fail(h, "%s", err);
	if (caller_cgroup(h->pid, cgroup, sizeof(cgroup), NULL)) {
		fail(h, "cannot read the cgroup of the container's process %d", h->pid);
		goto out;
	}
	sel = config_view_for_cgroup(&cfg, cgroup);
	if (!realpath(h->pod, want)) {
		fail(h, "io.secretfs.pod '%s': %s", h->pod, strerror(errno));
		goto out;
	}
	if (!sel || !sel->pod || !realpath(sel->pod_path, have) || strcmp(want, have) != 0) {
		fail(h, "pod '%s' is not for this container: its cgroup '%s' selects %s%s%s%s (a view with 'pod = FILE' and 'match = cgroup:...' names the containers a pod's volumes may be given to)",
		     h->pod, cgroup, sel ? "view \"" : "no view", sel ? sel->name : "",
		     sel ? "\"" : "", sel && !sel->pod ? ", which is no pod's" : "");
		goto out;
	}
	snprintf(h->pod_view, sizeof(h->pod_view), "%s", sel->name);
	h->view = h->pod_view;
	for (size_t i = 0; i < sel->pod->ncontainers; i++) {
		const struct kube_container *k = &sel->pod->containers[i];

		if (h->container ? !strcmp(k->name, h->container) : sel->pod->ncontainers == 1)
			c = k;
	}
	if (!c) {
		fail(h, h->container ? "pod \"%s\" has no container \"%s\"" :
		     "pod \"%s\" has several containers: say which with io.secretfs.container%s",
		     sel->pod->name, h->container ? h->container : "");
		goto out;
	}
	h->mounts = calloc(c->nmounts ? c->nmounts : 1, sizeof(*h->mounts));
	if (!h->mounts) {
		fail(h, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c->nmounts; i++) {
		const struct kube_mount *m = &c->mounts[i];

		if (!kube_pod_volume(sel->pod, m->volume))
			continue; /* not a secret volume: the runtime's */
		if (m->sub_path) {
			fail(h, "container \"%s\": volumeMounts[%zu]: subPath is not supported (the kubelet never updates a subPath either: mount the volume)",
			     c->name, i);
			goto out;
		}
		h->mounts[h->nmounts].volume = strdup(m->volume);
		h->mounts[h->nmounts].path = strdup(m->path);
		if (!h->mounts[h->nmounts].volume || !h->mounts[h->nmounts].path) {
			fail(h, "out of memory");
			goto out;
		}
		h->nmounts++;
	}
	ret = 0;
out:
	config_release(&cfg);
	return ret;
}

/* Attach a clone of the mount at source (host side, opened before we
 * entered the container's namespace: tree) at target below rootfd. */
static int attach(const struct hook *h, int tree, int rootfd, const char *target, const char *what)
{
	int fd = open_target(h, rootfd, target), ret = 0;

	if (fd < 0)
		return -1;
	if (syscall(SYS_move_mount, tree, "", fd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		ret = -fail(h, "cannot mount %s at '%s': %s", what, target, strerror(errno));
	close(fd);
	return ret;
}

/* The pod's volumes at the container's mountPaths: each a clone of
 * HOSTDIR/VOLUME, taken on the host before entering the container. */
static int stage_create_pod(struct hook *h, const char *rootfs)
{
	char src[PATH_MAX], nspath[64], what[128];
	int *trees = calloc(h->nmounts ? h->nmounts : 1, sizeof(*trees));
	int ns = -1, rootfd = -1, ret = 1;
	size_t i;

	if (!trees)
		return fail(h, "out of memory");
	for (i = 0; i < h->nmounts; i++) {
		snprintf(src, sizeof(src), "%s/%s", h->hostdir, h->mounts[i].volume);
		trees[i] = (int)syscall(SYS_open_tree, AT_FDCWD, src,
					OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
		if (trees[i] < 0) {
			fail(h, "cannot clone volume \"%s\" at '%s': %s", h->mounts[i].volume, src,
			     strerror(errno));
			goto out;
		}
	}
	snprintf(nspath, sizeof(nspath), "/proc/%d/ns/mnt", h->pid);
	ns = open(nspath, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || setns(ns, CLONE_NEWNS) < 0) {
		fail(h, "cannot enter the mount namespace of pid %d: %s", h->pid, strerror(errno));
		goto out;
	}
	rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		fail(h, "cannot open the root file system '%s': %s", rootfs, strerror(errno));
		goto out;
	}
	for (i = 0; i < h->nmounts; i++) {
		snprintf(what, sizeof(what), "volume \"%s\"", h->mounts[i].volume);
		if (attach(h, trees[i], rootfd, h->mounts[i].path, what))
			goto out;
	}
	ret = 0;
out:
	for (size_t j = 0; j < h->nmounts; j++) /* calloc'd: 0 for none opened */
		if (trees[j] > 0)
			close(trees[j]);
	free(trees);
	if (rootfd >= 0)
		close(rootfd);
	if (ns >= 0)
		close(ns);
	return ret;
}

static int stage_create(struct hook *h)
{
	char rootfs[PATH_MAX], nspath[64];
	int tree = -1, ns = -1, rootfd = -1, target = -1, ret = 1;

	if (h->target[0] != '/')
		return fail(h, "io.secretfs.target '%s' must be an absolute path", h->target);
	if (h->pid <= 0)
		return fail(h, "the state has no pid: run this hook at createRuntime");
	if (h->pod ? check_pod(h) : check_view(h))
		return 1;
	if (rootfs_path(h, rootfs, sizeof(rootfs)))
		return 1;
	if (state_dir_private(h))
		return 1;
	if (mkdir_p(h->hostdir, 0700) < 0)
		return fail(h, "cannot create '%s': %s", h->hostdir, strerror(errno));
	if (start_secretfs(h) < 0) {
		rmdir(h->hostdir);
		return fail(h, "cannot mount view \"%s\" (see above)", h->view);
	}
	if (h->pod) {
		ret = stage_create_pod(h, rootfs);
		goto out;
	}
	tree = (int)syscall(SYS_open_tree, AT_FDCWD, h->hostdir,
			    OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
	if (tree < 0) {
		fail(h, "cannot clone the mount at '%s': %s", h->hostdir, strerror(errno));
		goto out;
	}
	snprintf(nspath, sizeof(nspath), "/proc/%d/ns/mnt", h->pid);
	ns = open(nspath, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || setns(ns, CLONE_NEWNS) < 0) {
		fail(h, "cannot enter the mount namespace of pid %d: %s", h->pid,
		     strerror(errno));
		goto out;
	}
	rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		fail(h, "cannot open the root file system '%s': %s", rootfs, strerror(errno));
		goto out;
	}
	target = open_target(h, rootfd, h->target);
	if (target < 0)
		goto out;
	if (syscall(SYS_move_mount, tree, "", target, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		fail(h, "cannot mount view \"%s\" at '%s': %s", h->view, h->target,
		     strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (target >= 0)
		close(target);
	if (rootfd >= 0)
		close(rootfd);
	if (ns >= 0)
		close(ns);
	if (tree >= 0)
		close(tree);
	if (ret) /* the view's daemon ends with its host mount */
		umount2(h->hostdir, MNT_DETACH);
	return ret;
}

static int stage_poststop(struct hook *h)
{
	if (umount2(h->hostdir, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return fail(h, "cannot unmount '%s': %s", h->hostdir, strerror(errno));
	if (rmdir(h->hostdir) < 0 && errno != ENOENT)
		return fail(h, "cannot remove '%s': %s", h->hostdir, strerror(errno));
	return 0;
}

/* secretfs beside this binary. */
static const char *default_secretfs(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 16);
	char *slash;

	if (n <= 0)
		return "secretfs";
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash + 1, "secretfs");
	return path;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "secretfs", required_argument, NULL, 'S' },
		{ "state-dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hook h = { .state_dir = DEFAULT_STATE_DIR };
	json_t *state = NULL, *ann;
	json_error_t jerr;
	int opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': h.config = optarg; break;
		case 'S': h.secretfs = optarg; break;
		case 'D': h.state_dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		h.stage = argv[optind];
	if (sodium_init() < 0) /* a pod manifest is read into sodium memory */
		return fail(&h, "cannot initialise libsodium");
	if (!h.secretfs)
		h.secretfs = default_secretfs();
	state = json_loadf(stdin, JSON_DISABLE_EOF_CHECK, &jerr);
	if (!state || !json_is_object(state)) {
		fail(&h, "cannot read the OCI state on stdin: %s", state ? "not an object" : jerr.text);
		goto out;
	}
	ann = json_object_get(state, "annotations");
	h.view = json_string_value(json_object_get(ann, "io.secretfs.view"));
	h.pod = json_string_value(json_object_get(ann, "io.secretfs.pod"));
	h.container = json_string_value(json_object_get(ann, "io.secretfs.container"));
	if (h.view && h.pod) {
		fail(&h, "io.secretfs.view and io.secretfs.pod exclude each other");
		goto out;
	}
	if (!h.view && !h.pod) {
		ret = 0; /* not ours */
		goto out;
	}
	h.target = json_string_value(json_object_get(ann, "io.secretfs.target"));
	if (!h.target)
		h.target = DEFAULT_TARGET;
	h.id = json_string_value(json_object_get(state, "id"));
	h.bundle = json_string_value(json_object_get(state, "bundle"));
	h.status = json_string_value(json_object_get(state, "status"));
	h.pid = (int)json_integer_value(json_object_get(state, "pid"));
	if (!id_ok(h.id) || !h.bundle) {
		fail(&h, "the OCI state lacks a valid id or bundle");
		goto out;
	}
	snprintf(h.hostdir, sizeof(h.hostdir), "%s/%s", h.state_dir, h.id);
	if (!h.stage)
		h.stage = h.status && !strcmp(h.status, "stopped") ? "poststop" : "createRuntime";
	if (!strcmp(h.stage, "createRuntime") || !strcmp(h.stage, "prestart"))
		ret = stage_create(&h);
	else if (!strcmp(h.stage, "poststop"))
		ret = stage_poststop(&h);
	else
		ret = fail(&h, "unknown stage '%s' (createRuntime or poststop)", h.stage);
out:
	for (size_t i = 0; i < h.nmounts; i++) {
		free(h.mounts[i].volume);
		free(h.mounts[i].path);
	}
	free(h.mounts);
	json_decref(state);
	return ret;
}
