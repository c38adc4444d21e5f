/*
 * audit.c - the record of opens: one JSON object per line, appended to
 * [audit] path (default /var/log/secretfs/audit.log, mode 0600):
 *
 *   {"time":"2026-11-29T05:40:01.123Z","view":"signer","mount":"/run/...",
 *    "pid":4242,"uid":0,"cgroup":"/secretfs-test/signer",
 *    "namespace":"shop","secret":"hmac","key":"key","generation":3,
 *    "allowed":true}
 *
 * Never a value.  Each record is a single write() to an O_APPEND file, under
 * audit_lock, so records do not interleave, and a record cut short (a full
 * disk) is truncated away rather than left half a line.
 *
 * Rotation, by the daemon itself (no signal: SIGHUP stops it): a record
 * that would take the file past [audit] max_size first renames
 * audit.log.N-1 to audit.log.N ... audit.log to audit.log.1, dropping what
 * was audit.log.<max_files>, and starts a new audit.log.  If another daemon
 * writing the same file rotated it already, we only reopen the path.
 *
 * A record that cannot be written (disk full, file gone and not creatable)
 * is counted (audit_counts(), shown by 'secretctl status') and logged at
 * most once every LOG_EVERY seconds; audit_record() says so, and the view's
 * audit_failure decides whether the open goes on (ops.c).  A log that could
 * not be opened is tried again at the next record.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "fs.h"

#define LOG_EVERY 10 /* seconds between two messages about lost records */

static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;
/* protected by audit_lock */
static int audit_fd = -1;
static char *audit_path;     /* NULL: no audit log in this daemon */
static uint64_t max_size;    /* 0: never rotate */
static unsigned max_files;
static time_t last_warned;
static unsigned long unreported;
/* read by the watcher for the status file */
static atomic_ulong lost, refused;

/* mkdir -p of path's folder, mode 0700 for what it creates. */
static void make_parents(const char *path)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0700);
		*p = '/';
	}
}

/* (Re)open the path; under audit_lock.  0 or -errno. */
static int open_log(void)
{
	int fd;

	make_parents(audit_path);
	fd = open(audit_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = fd;
	return 0;
}

int audit_open(const struct config *c)
{
	int err;

	pthread_mutex_lock(&audit_lock);
	audit_path = strdup(c->audit_path);
	max_size = c->audit_max_size;
	max_files = c->audit_max_files;
	err = audit_path ? open_log() : -ENOMEM;
	pthread_mutex_unlock(&audit_lock);
	if (err)
		log_msg(LOG_LEVEL_ERROR, "cannot open audit log '%s': %s (trying again at each open)",
			c->audit_path, strerror(-err));
	return err;
}

void audit_close(void)
{
	pthread_mutex_lock(&audit_lock);
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = -1;
	free(audit_path);
	audit_path = NULL;
	pthread_mutex_unlock(&audit_lock);
}

/* Make room for len more bytes; under audit_lock, audit_fd open. */
static void rotate_if_full(const struct stat *have, size_t len)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct stat now;
	int err;

	if (!max_size || have->st_size == 0 || (uint64_t)have->st_size + len <= max_size)
		return;
	if (stat(audit_path, &now) == 0 &&
	    (now.st_dev != have->st_dev || now.st_ino != have->st_ino)) {
		open_log(); /* another daemon rotated it: follow */
		return;
	}
	for (unsigned i = max_files; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%u", audit_path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", audit_path, i);
		if (rename(from, to) != 0 && errno != ENOENT)
			log_msg(LOG_LEVEL_WARNING, "cannot rotate the audit log: rename '%s': %s",
				from, strerror(errno));
	}
	snprintf(to, sizeof(to), "%s.1", audit_path);
	if (rename(audit_path, to) != 0)
		log_msg(LOG_LEVEL_WARNING, "cannot rotate the audit log '%s': %s", audit_path,
			strerror(errno));
	else if ((err = open_log()) != 0)
		log_msg(LOG_LEVEL_WARNING, "cannot start a new audit log '%s': %s (still writing to '%s')",
			audit_path, strerror(-err), to);
}

/* Write one line; under audit_lock.  0 or -errno. */
static int append(char *line, size_t len)
{
	struct stat st;
	ssize_t n;
	int err;

	if (audit_fd < 0 && (err = open_log()) != 0)
		return err;
	if (fstat(audit_fd, &st) != 0)
		return -errno;
	rotate_if_full(&st, len);
	if (fstat(audit_fd, &st) != 0)
		return -errno;
	n = write(audit_fd, line, len);
	if (n == (ssize_t)len)
		return 0;
	err = n < 0 ? -errno : -ENOSPC;
	if (n > 0 && ftruncate(audit_fd, st.st_size) != 0)
		log_msg(LOG_LEVEL_WARNING, "cannot remove a partial audit record: %s", strerror(errno));
	return err;
}

int audit_record(const struct audit_event *ev)
{
	char ts[64];
	struct timespec now;
	struct tm tm;
	json_t *obj;
	char *line;
	size_t n;
	int err;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000);
	obj = json_pack("{s:s, s:s?, s:s, s:i, s:i, s:s?, s:s, s:s?, s:s?, s:I, s:b}",
			"time", ts, "view", ev->view, "mount", ev->mount,
			"pid", (int)ev->pid, "uid", (int)ev->uid, "cgroup", ev->cgroup,
			"namespace", ev->ns, "secret", ev->secret, "key", ev->key,
			"generation", (json_int_t)ev->generation, "allowed", ev->allowed);
	line = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	pthread_mutex_lock(&audit_lock);
	if (!audit_path) {
		err = 0; /* no mount of this daemon audits */
	} else if (!line) {
		err = -ENOMEM;
	} else {
		size_t len = strlen(line);

		line[len] = '\n'; /* replaces the NUL: write len + 1 bytes */
		err = append(line, len + 1);
	}
	if (err) {
		atomic_fetch_add(&lost, 1);
		unreported++;
		if (time(NULL) - last_warned >= LOG_EVERY) {
			log_msg(LOG_LEVEL_ERROR, "cannot write the audit log '%s': %s (%lu record%s lost since the last message)",
				audit_path, strerror(-err), unreported, unreported == 1 ? "" : "s");
			last_warned = time(NULL);
			unreported = 0;
		}
	}
	pthread_mutex_unlock(&audit_lock);
	free(line);
	return err;
}

void audit_count_refused(void)
{
	atomic_fetch_add(&refused, 1);
}

void audit_counts(unsigned long *lost_out, unsigned long *refused_out)
{
	*lost_out = atomic_load(&lost);
	*refused_out = atomic_load(&refused);
}

bool audit_enabled(void)
{
	bool on;

	pthread_mutex_lock(&audit_lock);
	on = audit_path != NULL;
	pthread_mutex_unlock(&audit_lock);
	return on;
}
