/*
 * caller.c - who is asking: the cgroup of the process behind a FUSE request,
 * for the per-caller mount.
 *
 * The kernel gives us the requesting thread's id.  We pin that thread with
 * a pidfd (or, on kernels before 6.9, its process), find its process
 * (Tgid), read /proc/PID/cgroup, and then ask the pidfd whether the thread
 * is still alive.  If it is, what we read belonged to it, not to a later
 * one that reused the id.  If the requester died before we pinned it and
 * its id was reused, we may resolve the newcomer instead, but the answer
 * then goes to no one: the kernel drops replies to dead requesters, and the
 * per-caller mount caches no name, so nothing of it stays for anyone else.
 *
 * Which cgroup path: the unified hierarchy's ("0::"), unless it is "/" on a
 * hybrid system, then name=systemd's, then the first controller's that is
 * not "/".  runc, Docker, Podman and the kubelet put a container in the same
 * path in every hierarchy, so any of them names the container.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9: a pidfd for one thread */
#endif

static int pidfd_open_(pid_t pid, unsigned flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static int pidfd_alive(int pidfd)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0);
}

/* The process (thread group) a thread belongs to; -1 if gone. */
static pid_t thread_group(pid_t tid)
{
	char path[64], line[256];
	pid_t tgid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

/* Pick the cgroup path out of /proc/PID/cgroup's lines. */
static int pick_cgroup(FILE *f, char *out, size_t len)
{
	char line[4096], unified[4096] = "", systemd[4096] = "", other[4096] = "";

	while (fgets(line, sizeof(line), f)) {
		char *ctl = strchr(line, ':'), *path;

		if (!ctl || !(path = strchr(ctl + 1, ':')))
			continue;
		path++;
		path[strcspn(path, "\n")] = '\0';
		if (strncmp(line, "0::", 3) == 0)
			snprintf(unified, sizeof(unified), "%s", path);
		else if (strncmp(ctl, ":name=systemd:", 14) == 0)
			snprintf(systemd, sizeof(systemd), "%s", path);
		else if (!other[0] && strcmp(path, "/") != 0)
			snprintf(other, sizeof(other), "%s", path);
	}
	if (unified[0] && (strcmp(unified, "/") != 0 || (!systemd[0] && !other[0])))
		snprintf(out, len, "%s", unified);
	else if (systemd[0] && strcmp(systemd, "/") != 0)
		snprintf(out, len, "%s", systemd);
	else if (other[0])
		snprintf(out, len, "%s", other);
	else if (unified[0] || systemd[0])
		snprintf(out, len, "/");
	else
		return -ENOENT;
	return 0;
}

/*
 * Resolve thread tid to its process and cgroup.  The pidfd that vouches for
 * what was read is left in *pidfd_out if asked for: a pidfd for the thread
 * itself where the kernel has them (Linux 6.9), else one for the process if
 * tid is its main thread, else none (-1).  While a thread lives its id is
 * not reused, and it stays in its process; while a process lives, likewise
 * its id.
 */
static int resolve(pid_t tid, char *out, size_t len, pid_t *pid_out, int *pidfd_out)
{
	char path[64];
	pid_t pid;
	FILE *f;
	int pidfd, ret;

	int thread_fd = 1;

	pidfd = pidfd_open_(tid, PIDFD_THREAD);
	if (pidfd < 0 && errno != EINVAL)
		return -errno;
	pid = thread_group(tid);
	if (pid <= 0) {
		ret = -ESRCH;
		goto out;
	}
	if (pidfd < 0) {
		thread_fd = 0;
		if ((pidfd = pidfd_open_(pid, 0)) < 0)
			return -errno;
	}
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		goto out;
	}
	ret = pick_cgroup(f, out, len);
	fclose(f);
	if (ret == 0 && pidfd_alive(pidfd) != 0)
		ret = -ESRCH; /* the id may have been reused: trust nothing read */
	if (ret == 0 && pid_out)
		*pid_out = pid;
	if (ret == 0 && pidfd_out) {
		*pidfd_out = -1;
		if (thread_fd || pid == tid) {
			*pidfd_out = pidfd; /* vouches for tid: the caller keeps it */
			return 0;
		}
	}
out:
	if (pidfd >= 0)
		close(pidfd);
	return ret;
}

int caller_cgroup(pid_t tid, char *out, size_t len, pid_t *pid_out)
{
	return resolve(tid, out, len, pid_out, NULL);
}

/*
 * The per-caller mount asks on every request, so the answer for a thread
 * is remembered, with the pidfd that pins it: while that pidfd says the
 * thread (or, without thread pidfds, the process asking from its main
 * thread) lives, its id cannot have been reused nor its process changed.
 * An entry is resolved again after CACHE_NS, in case the process was moved
 * to another cgroup.
 */
#define CACHE_SLOTS 256
#define CACHE_NS    1000000000LL

struct cached_caller {
	pid_t tid, pid;
	int pidfd;
	int64_t when;
	char *cgroup;
};

static struct cached_caller cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void slot_clear(struct cached_caller *c)
{
	if (c->pidfd > 0)
		close(c->pidfd);
	free(c->cgroup);
	memset(c, 0, sizeof(*c));
}

int caller_cgroup_cached(pid_t tid, char *out, size_t len, pid_t *pid_out)
{
	struct cached_caller *c = &cache[(unsigned)tid % CACHE_SLOTS];
	int64_t now = mono_ns();
	int pidfd = -1, ret;
	pid_t pid;

	pthread_mutex_lock(&cache_lock);
	if (c->tid == tid && c->cgroup && now - c->when < CACHE_NS &&
	    pidfd_alive(c->pidfd) == 0) {
		snprintf(out, len, "%s", c->cgroup);
		if (pid_out)
			*pid_out = c->pid;
		pthread_mutex_unlock(&cache_lock);
		return 0;
	}
	pthread_mutex_unlock(&cache_lock);
	ret = resolve(tid, out, len, &pid, &pidfd);
	if (ret)
		return ret;
	if (pid_out)
		*pid_out = pid;
	if (pidfd < 0)
		return 0; /* nothing vouches for tid later: not remembered */
	pthread_mutex_lock(&cache_lock);
	slot_clear(c);
	c->cgroup = strdup(out);
	if (c->cgroup) {
		c->tid = tid;
		c->pid = pid;
		c->pidfd = pidfd;
		c->when = now;
	} else {
		close(pidfd);
	}
	pthread_mutex_unlock(&cache_lock);
	return 0;
}
