/*
 * log.c - the driver's log: stderr in the foreground, syslog (and so the
 * journal) once daemonized.  Messages name objects and reasons; callers
 * never pass a secret value.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "fs.h"

static enum log_level max_level = LOG_LEVEL_INFO;
static bool use_syslog;

void log_init(enum log_level level, bool to_syslog)
{
	max_level = level;
	use_syslog = to_syslog;
	if (to_syslog)
		openlog("secretfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const name[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(prio[level], fmt, ap);
	} else {
		fprintf(stderr, "secretfs: %s: ", name[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
