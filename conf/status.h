/*
 * status.h - the status file a running secretfs keeps for 'secretctl
 * status': where it is and the JSON keys in it, spelled once for the
 * writer (fs/status.c, which documents the format) and the reader
 * (secretctl's status command).
 *
 * One file per daemon, STATUS_DIR/<pid>.json, mode 0600 in a 0700 folder;
 * names and numbers only, never a value.
 */
#ifndef SECRETFS_STATUS_H
#define SECRETFS_STATUS_H

#define STATUS_RUN_DIR  "/run/secretfs"
#define STATUS_DIR      STATUS_RUN_DIR "/status"
#define STATUS_SUFFIX   ".json"          /* STATUS_DIR/<pid>.json */
#define STATUS_FILE_FMT STATUS_DIR "/%d" STATUS_SUFFIX

/* the top-level object */
#define STATUS_PID       "pid"       /* integer: the daemon's process id */
#define STATUS_STORE     "store"     /* string: the store file it serves */
#define STATUS_REVISION  "revision"  /* integer: the store revision served */
#define STATUS_STARTED   "started"   /* integer: Unix time it started */
#define STATUS_UUID      "uuid"      /* string: the store's UUID */
#define STATUS_ERROR     "error"     /* string, while the store cannot be served */
#define STATUS_CONFIG_ERROR "config_error" /* string: why the last reload
					     * (SIGHUP) changed nothing */
#define STATUS_MOUNTS    "mounts"    /* array of the objects below */
#define STATUS_AUDIT     "audit"     /* object, with an audit log */
#define STATUS_ETCD      "etcd"      /* object, in cluster mode */
#define STATUS_VIEWS     "views"     /* array: every view it serves, below */

/* each of "mounts" */
#define STATUS_MOUNTPOINT "mountpoint" /* string */
#define STATUS_VIEW       "view"       /* string, or absent for the full tree */
#define STATUS_MODE       "mode"       /* "view", "per-caller" or "full" */

/* each of "views" */
#define STATUS_VIEW_NAME     "name"     /* string */
#define STATUS_VIEW_REQUIRES "requires" /* array of "NS/NAME": the secrets it
					 * requires (not its optional ones) */
#define STATUS_VIEW_PENDING  "pending"  /* boolean: waiting for what it requires */
#define STATUS_VIEW_MISSING  "missing"  /* string, while pending: "NS/NAME, NS/NAME/KEY, NS/ *" */

/* "audit" */
#define STATUS_AUDIT_LOST    "lost"    /* records that could not be written */
#define STATUS_AUDIT_REFUSED "refused" /* opens refused for it */

/* "etcd" (STATUS_REVISION is the etcd revision applied) */
#define STATUS_ETCD_ENDPOINT "endpoint" /* string: the member it watches */
#define STATUS_ETCD_WATCHING "watching" /* boolean: whether the watch is up */

#endif
