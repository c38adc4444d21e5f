/*
 * events.c - Kubernetes-style events: what happened to an object, as a
 * type (Normal or Warning), a reason and a message.  secretctl records them
 * (e.g. InvalidEnvironmentVariableNames), as does the driver (a value that
 * fails to authenticate); 'secretctl get events' lists them.
 * Messages name objects and keys, never values.
 *
 * Each event takes a store revision of its own (schema 7), in the same
 * sequence as the change log's, so that the API server's watch follows
 * events from the resourceVersion its list returned (the store's revision).
 * Events are only ever appended, so the table itself is their log: no
 * change-log row (the secrets' log, which the driver follows, stays as it
 * was).  Events recorded before schema 7 have revision 0.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* What a visitor gets: seq, the place among its namespace's events by
 * (time, id), is the API server's name for an event (api/events.c). */
#define EVENT_COLS "id, revision, time, type, reason, namespace, object, message"

int store_event_add(struct store *st, const char *type, const char *reason,
		    const char *ns, const char *object, const char *message)
{
	sqlite3_stmt *q = NULL;
	int64_t rev;
	int err;

	if ((err = db_begin(st, true)))
		return err;
	if ((err = db_next_revision(st, &rev)))
		goto out;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO events(time, type, reason, namespace, object, message,"
			       " revision) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &q,
			       NULL) != SQLITE_OK) {
		err = db_fail(st, "cannot record an event");
		goto out;
	}
	sqlite3_bind_int64(q, 1, db_now());
	sqlite3_bind_text(q, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, object, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, message, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 7, rev);
	if (sqlite3_step(q) != SQLITE_DONE)
		err = db_fail(st, "cannot record an event");
out:
	sqlite3_finalize(q);
	if (err) {
		db_rollback(st);
		return err;
	}
	return db_commit(st);
}

/* Visit q's rows (EVENT_COLS, then seq). */
static int visit(struct store *st, sqlite3_stmt *q, store_event_fn fn, void *ctx)
{
	int rc, ret = 0;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_event ev = {
			.id = sqlite3_column_int64(q, 0),
			.revision = sqlite3_column_int64(q, 1),
			.time = sqlite3_column_int64(q, 2),
			.type = (const char *)sqlite3_column_text(q, 3),
			.reason = (const char *)sqlite3_column_text(q, 4),
			.namespace = (const char *)sqlite3_column_text(q, 5),
			.object = (const char *)sqlite3_column_text(q, 6),
			.message = (const char *)sqlite3_column_text(q, 7),
			.seq = sqlite3_column_int64(q, 8),
		};

		if ((ret = fn(ctx, &ev)))
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_fail(st, "cannot read events");
	sqlite3_finalize(q);
	return ret;
}

int store_events(struct store *st, const char *ns, store_event_fn fn, void *ctx)
{
	sqlite3_stmt *q;

	if (db_prep(st, ns ?
		    "SELECT " EVENT_COLS ", row_number() OVER (ORDER BY time, id) - 1 FROM events"
		    " WHERE namespace = ?1 ORDER BY time, id" :
		    "SELECT " EVENT_COLS ", row_number() OVER (PARTITION BY namespace"
		    " ORDER BY time, id) - 1 FROM events ORDER BY time, id", &q))
		return -EIO;
	if (ns)
		sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC);
	return visit(st, q, fn, ctx);
}

int store_events_since(struct store *st, int64_t since, store_event_fn fn, void *ctx)
{
	sqlite3_stmt *q;

	/* the index on revision finds the new ones; the one on (namespace,
	 * time) counts those before each */
	if (db_prep(st, "SELECT " EVENT_COLS ", (SELECT count(*) FROM events o"
		    " WHERE o.namespace = e.namespace AND (o.time < e.time OR"
		    " (o.time = e.time AND o.id < e.id))) FROM events e"
		    " WHERE revision > ?1 ORDER BY revision, id", &q))
		return -EIO;
	sqlite3_bind_int64(q, 1, since);
	return visit(st, q, fn, ctx);
}
