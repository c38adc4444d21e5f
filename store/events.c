/*
 * events.c - Kubernetes-style events: what happened to an object, as a
 * type (Normal or Warning), a reason and a message.  secretctl records them
 * (e.g. InvalidEnvironmentVariableNames); 'secretctl get events' lists them.
 * Messages name objects and keys, never values.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

int store_event_add(struct store *st, const char *type, const char *reason,
		    const char *ns, const char *object, const char *message)
{
	sqlite3_stmt *q;
	int err;

	if ((err = db_begin(st, true)))
		return err;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO events(time, type, reason, namespace, object, message)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &q, NULL) != SQLITE_OK) {
		err = db_fail(st, "cannot record an event");
		db_rollback(st);
		return err;
	}
	sqlite3_bind_int64(q, 1, db_now());
	sqlite3_bind_text(q, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, object, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, message, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		err = db_fail(st, "cannot record an event");
	sqlite3_finalize(q);
	if (err) {
		db_rollback(st);
		return err;
	}
	return db_commit(st);
}

int store_events(struct store *st, const char *ns, store_event_fn fn, void *ctx)
{
	sqlite3_stmt *q;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(st->db, ns ?
			       "SELECT time, type, reason, namespace, object, message FROM events"
			       " WHERE namespace = ?1 ORDER BY time, id" :
			       "SELECT time, type, reason, namespace, object, message FROM events"
			       " ORDER BY time, id", -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, "cannot read events");
	if (ns)
		sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_event ev = {
			.time = sqlite3_column_int64(q, 0),
			.type = (const char *)sqlite3_column_text(q, 1),
			.reason = (const char *)sqlite3_column_text(q, 2),
			.namespace = (const char *)sqlite3_column_text(q, 3),
			.object = (const char *)sqlite3_column_text(q, 4),
			.message = (const char *)sqlite3_column_text(q, 5),
		};

		if ((ret = fn(ctx, &ev)))
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_fail(st, "cannot read events");
	sqlite3_finalize(q);
	return ret;
}
