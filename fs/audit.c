/*
 * audit.c - the record of opens: one JSON object per line, appended to
 * [audit] path (default /var/log/secretfs/audit.log, mode 0600):
 *
 *   {"time":"2026-11-29T05:40:01.123Z","view":"signer","mount":"/run/...",
 *    "pid":4242,"uid":0,"cgroup":"/secretfs-test/signer",
 *    "namespace":"shop","secret":"hmac","key":"key","generation":3,
 *    "allowed":true}
 *
 * Never a value.  Each record is a single write() to an O_APPEND file, so
 * records from concurrent requests do not interleave.  A failure to write is
 * logged once and does not fail the read it records.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "fs.h"

static int audit_fd = -1;
static bool audit_warned;

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

int audit_open(const char *path)
{
	make_parents(path);
	audit_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			0600);
	if (audit_fd < 0) {
		int err = -errno;

		log_msg(LOG_LEVEL_ERROR, "cannot open audit log '%s': %s", path,
			strerror(errno));
		return err;
	}
	return 0;
}

void audit_close(void)
{
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = -1;
}

void audit_record(const struct audit_event *ev)
{
	char ts[64];
	struct timespec now;
	struct tm tm;
	json_t *obj;
	char *line;
	size_t n;

	if (audit_fd < 0)
		return;
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
	if (line) {
		size_t len = strlen(line);

		line[len] = '\n'; /* replaces the NUL: write len + 1 bytes */
		if (write(audit_fd, line, len + 1) != (ssize_t)(len + 1) && !audit_warned) {
			audit_warned = true;
			log_msg(LOG_LEVEL_ERROR, "cannot write the audit log: %s",
				strerror(errno));
		}
		free(line);
	}
}
