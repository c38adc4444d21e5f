/*
 * scratch.c - the private folder where `secretctl edit` puts the object
 * (values in base64) for the editor, and how nothing of it outlives the edit.
 *
 * Three layers, each for what the one before cannot cover:
 *
 *  1. The folder is a tmpfs mounted in a mount namespace of our own
 *     (unshare(CLONE_NEWNS); without CAP_SYS_ADMIN, inside a user namespace
 *     that maps only our own uid and gid).  Only secretctl and the editor it
 *     starts are in that namespace; the folder other processes see stays
 *     empty.  The namespace, its tmpfs and the file go when the last process
 *     in it exits: that holds even on SIGKILL, which no handler sees.  The
 *     editor gets SIGHUP when secretctl dies (PR_SET_PDEATHSIG), so it does
 *     not keep the namespace alive for long.  On the way out the tmpfs is
 *     unmounted and the folder under it wiped too: a process outside (an
 *     editor's server) may have written there.
 *  2. Every catchable signal that would end secretctl (HUP, INT, QUIT, TERM,
 *     PIPE, ALRM, USR1, USR2, the crash signals...) first overwrites every
 *     file in the folder with zeros and removes it, then ends the process by
 *     the same signal.  The handler uses only async-signal-safe calls
 *     (getdents64 on a descriptor opened beforehand, openat, write, unlinkat).
 *     A signal ignored when secretctl started (nohup) stays ignored.
 *  3. Where no namespace can be had (user namespaces disabled, a chroot, or
 *     threads already running), the folder is an ordinary mode-0700 folder
 *     named secretctl-edit-PID-XXXXXX; the next edit by the same user wipes
 *     and removes any such folder whose PID is gone (and the empty one a
 *     SIGKILL leaves in case 1).  A SIGKILL then leaves the
 *     file (mode 0600, in a 0700 folder) until that next edit: secretctl
 *     says so when it falls back.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctl.h"

/* What the signal handler needs, set before any handler is installed. */
static struct {
	char dir[96];
	int dirfd;
	bool private_ns;
	pid_t owner; /* the editor's child, between fork and exec, is not it */
} scratch = { .dirfd = -1 };

static const int fatal_signals[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2,
	SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGSEGV, SIGBUS, SIGFPE, SIGILL,
	SIGABRT, SIGSYS, SIGTRAP,
};

/* Overwrite the file name in folder dirfd with zeros and remove it.
 * Async-signal-safe. */
static void wipe_at(int dirfd, const char *name)
{
	static const char zeros[4096];
	struct stat sb;
	int fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
		for (off_t done = 0; done < sb.st_size;) {
			size_t n = (size_t)(sb.st_size - done) < sizeof(zeros) ?
					   (size_t)(sb.st_size - done) : sizeof(zeros);
			ssize_t w = write(fd, zeros, n);

			if (w <= 0)
				break;
			done += w;
		}
		fdatasync(fd);
	}
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, name, 0);
}

/* Wipe every file of the folder dirfd.  Async-signal-safe: getdents64
 * allocates nothing, as readdir may. */
static void wipe_all(int dirfd)
{
	char buf[4096] __attribute__((aligned(8)));

	for (int pass = 0; pass < 4; pass++) { /* unlinking moves entries */
		long n;
		bool any = false;

		if (lseek(dirfd, 0, SEEK_SET) < 0)
			return;
		while ((n = syscall(SYS_getdents64, dirfd, buf, sizeof(buf))) > 0) {
			for (long off = 0; off < n;) {
				/* struct linux_dirent64: ino, off, reclen, type, name */
				unsigned short reclen;
				const char *name = buf + off + 19;

				memcpy(&reclen, buf + off + 16, sizeof(reclen));
				if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
					wipe_at(dirfd, name);
					any = true;
				}
				off += reclen;
			}
		}
		if (!any)
			return;
	}
}

/* Wipe the folder and remove it (its mount first).  Async-signal-safe. */
static void scratch_scrub(void)
{
	if (scratch.dirfd < 0)
		return;
	wipe_all(scratch.dirfd);
	close(scratch.dirfd);
	scratch.dirfd = -1;
	if (scratch.private_ns && umount2(scratch.dir, MNT_DETACH) == 0) {
		/* what a process outside wrote into the folder under our
		 * tmpfs (an editor's server, code --wait, sees only that) */
		int fd = open(scratch.dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (fd >= 0) {
			wipe_all(fd);
			close(fd);
		}
	}
	rmdir(scratch.dir);
}

static void on_fatal_signal(int sig)
{
	int saved = errno;

	if (getpid() == scratch.owner)
		scratch_scrub();
	errno = saved;
	/* SA_RESETHAND and SA_NODEFER: this ends the process by sig, with
	 * the status a caller expects */
	raise(sig);
}

static void handlers_install(void)
{
	struct sigaction sa = { .sa_handler = on_fatal_signal,
				.sa_flags = SA_RESETHAND | SA_NODEFER };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(*fatal_signals); i++) {
		struct sigaction old;

		if (sigaction(fatal_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue; /* nohup: the caller wants it ignored */
		sigaction(fatal_signals[i], &sa, NULL);
	}
}

static void handlers_remove(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(*fatal_signals); i++) {
		struct sigaction old;

		if (sigaction(fatal_signals[i], NULL, &old) == 0 &&
		    old.sa_handler == on_fatal_signal)
			sigaction(fatal_signals[i], &sa, NULL);
	}
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A mount namespace of our own: directly with CAP_SYS_ADMIN, else inside a
 * user namespace mapping only our uid and gid (so the editor runs as the
 * same user, with no more rights).  0 or -errno. */
static int own_mount_namespace(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	char map[64];
	int ret;

	if (unshare(CLONE_NEWNS) == 0)
		return 0;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
		return -errno;
	/* a process that is not dumpable cannot write its own maps (its
	 * /proc files are root's): dumpable for these three writes only,
	 * which is why the edit makes its folder before the store is open */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	ret = write_text("/proc/self/setgroups", "deny") || write_text("/proc/self/uid_map", map);
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	ret = ret || write_text("/proc/self/gid_map", map);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return ret ? -EPERM : 0;
}

/* Our folders whose process is gone: wipe and remove them (layer 3). */
static void sweep_stale(const char *parent)
{
	DIR *d = opendir(parent);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		struct stat sb;
		long pid;
		char *end;
		int fd;

		if (strncmp(e->d_name, "secretctl-edit-", 15) != 0)
			continue;
		pid = strtol(e->d_name + 15, &end, 10);
		if (end == e->d_name + 15 || *end != '-' || pid <= 0 ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &sb) == 0 && sb.st_uid == getuid()) {
			wipe_all(fd);
			rmdir(path);
		}
		close(fd);
	}
	closedir(d);
}

int scratch_open(char *dir, size_t dirlen, char *err, size_t errlen)
{
	static const char *const parents[] = { "/dev/shm", "/tmp" };
	int ns_err = 0;

	assert(scratch.dirfd < 0);
	scratch.owner = getpid();
	scratch.dir[0] = '\0';
	for (size_t i = 0; i < 2; i++)
		sweep_stale(parents[i]);
	for (size_t i = 0; i < 2 && !scratch.dir[0]; i++) {
		snprintf(scratch.dir, sizeof(scratch.dir), "%s/secretctl-edit-%ld-XXXXXX",
			 parents[i], (long)getpid());
		if (!mkdtemp(scratch.dir))
			scratch.dir[0] = '\0';
	}
	if (!scratch.dir[0]) {
		snprintf(err, errlen, "cannot create a folder for the edit: %s", strerror(errno));
		return -EIO;
	}
	/* private propagation first: our tmpfs must not show in the
	 * namespace we came from */
	if ((ns_err = own_mount_namespace()) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
	    mount("secretctl-edit", scratch.dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0700,size=64m,nr_inodes=1024") == 0)
		scratch.private_ns = true;
	else if (!ns_err)
		ns_err = -errno;
	scratch.dirfd = open(scratch.dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (scratch.dirfd < 0) {
		int e = errno;

		if (scratch.private_ns)
			umount2(scratch.dir, MNT_DETACH);
		rmdir(scratch.dir);
		snprintf(err, errlen, "cannot open the folder for the edit '%s': %s", scratch.dir,
			 strerror(e));
		return -e;
	}
	if (!scratch.private_ns)
		fprintf(stderr,
			"warning: no private mount namespace for the edit (%s): if secretctl is killed with SIGKILL, its file stays in %s until your next edit\n",
			strerror(-ns_err), scratch.dir);
	handlers_install();
	snprintf(dir, dirlen, "%s", scratch.dir);
	return 0;
}

void scratch_close(void)
{
	scratch_scrub();
	handlers_remove();
}

void scratch_editor_child(pid_t parent)
{
	/* the editor must not outlive us holding the namespace, and a
	 * signal before its exec is not ours to clean up after */
	prctl(PR_SET_PDEATHSIG, SIGHUP, 0, 0, 0);
	if (getppid() != parent)
		_exit(127);
}
