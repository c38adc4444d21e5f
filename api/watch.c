/*
 * watch.c - watch=true: a chunked stream of JSON lines
 * {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":...}, one per
 * change, from the store's change log, so that a change made by secretctl
 * (or by another API server on the same store) reaches every watcher.
 *
 * One hub thread follows the log (inotify on the store's folder, as
 * secretctl watch does, with a one-second timer besides) and appends each
 * change to the queue of every watcher it matches; a watcher's connection
 * is suspended in MHD while its queue is empty and resumed by the hub.
 * A new watcher catches up on the request's own thread, under the hub's
 * lock, from its resourceVersion through the log; without one it starts
 * with a synthetic ADDED per object, secrets made one at a time as the
 * client reads them (initial_read(), no lock held), before what the hub
 * queues meanwhile.  From its start the hub delivers every change after
 * w->since.  So no change is missed; one that races the start may come
 * twice (ADDED, then MODIFIED with the same object).
 *
 * Bounds: a watcher's initial list holds one secret's event at a time; a
 * catch-up from a resourceVersion queues one event per secret changed
 * since (a secret changed many times comes once, at its last change), as
 * large as a list; past that at most WATCH_QUEUE_MAX more bytes wait
 * (always at least one event).  A client
 * that does not read meets that bound, its queue is dropped and its stream
 * ends, as the apiserver ends a watcher that lags, and the client watches
 * again from its last resourceVersion.  A watch lasts
 * timeoutSeconds, or at most WATCH_MAX_SECONDS.  Queued events may hold
 * values (base64): wiped once sent or dropped.
 *
 * Secrets and namespaces come from store_changes(); Events and the four
 * RBAC kinds each from a source of their own (see "other sources" below:
 * store_events_since() and store_object_changes()), all in the store's one
 * revision sequence.  Each round the hub reads the store's revision R
 * first, then every source up to R, and delivers; a watcher takes every
 * change of its kind in (since, R], and since becomes R once the round is
 * delivered (a revision may hold several changes: a namespace's deletion
 * deletes its secrets and Roles at one revision).
 *
 * Lock order: hub->lock, then a watcher's lock.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "api/api.h"
#include "store/cluster.h"

#define WATCH_QUEUE_MAX   (4u << 20)
#define WATCH_MAX_SECONDS 1800
#define WATCH_BOOKMARK_SECONDS 60

/* What a watcher follows. */
enum watch_res { WATCH_SECRETS, WATCH_NAMESPACES, WATCH_EVENTS, WATCH_OBJECTS };

struct watcher {
	struct watcher *next;       /* protected by hub->lock */
	struct api_hub *hub;
	struct MHD_Connection *conn;
	/* fixed once the watcher is in the hub's list */
	enum watch_res res;
	bool secrets;               /* res == WATCH_SECRETS */
	const char *kind;           /* WATCH_OBJECTS: Role, ClusterRole... */
	bool bindings;              /* WATCH_OBJECTS: a binding kind */
	char *ns;                   /* NULL: every namespace */
	struct api_filter f;
	bool table;
	bool bookmarks;
	int64_t deadline;           /* monotonic ms */
	int64_t since;              /* protected by hub->lock: delivered through */
	int64_t bookmark_at;        /* protected by hub->lock */
	pthread_mutex_t lock;
	/* protected by lock */
	char *buf;
	size_t len, off, cap;       /* buf[off..len) waits to be sent */
	size_t limit;               /* bytes that may wait; 0 while it starts */
	bool ended;                 /* nothing more will be queued */
	bool cut;                   /* nor sent: the queue went, or the server stops */
	bool suspended;
	/* The initial list (a watch without a resourceVersion): its ADDED
	 * events are made one at a time as the client reads them, by
	 * store_secret_walk() resumed after the last secret seen, and go out
	 * before anything queued.  Only the connection's thread (the reader)
	 * touches these. */
	bool initial;
	bool initial_started;       /* initial_ns/name: the last seen */
	char initial_ns[STORE_MAX_NAMESPACE + 1];
	char initial_name[STORE_MAX_NAME + 1];
	char *line;                 /* the event being sent, wiped once sent */
	size_t line_len, line_off;
};

struct api_hub {
	struct api_server *srv;
	struct store *st;           /* the hub thread's own handle */
	pthread_t thread;
	bool running;
	int wake[2];                /* a byte ends the hub thread */
	int poke;                   /* eventfd: this server wrote (api_hub_poke) */
	int inotify;
	pthread_mutex_t lock;
	struct watcher *list;       /* protected by lock */
	int64_t last;               /* protected by lock: log read through */
	/* protected by lock: "ns/name" -> {"obj": the secret without data,
	 * "n": its number of keys}, for every secret, so that a DELETED event
	 * carries the object as it last was (the store has it no more) */
	json_t *known;
	/* protected by lock: "Kind/ns/name" -> the RBAC object's JSON text,
	 * for their DELETED events (other sources, below) */
	json_t *objknown;
};

/* --- a watcher's queue ------------------------------------------------------ */

/* Drop what is queued (wiped): with lock held. */
static void drop_queue(struct watcher *w)
{
	if (w->buf) {
		sodium_memzero(w->buf, w->cap);
		free(w->buf);
	}
	w->buf = NULL;
	w->len = w->off = w->cap = 0;
}

/*
 * Queue one event (a whole line).  Past the bound the watcher lags: what
 * is queued is dropped and the stream ends at once, so its memory goes
 * now; the client watches again from the last resourceVersion it read and
 * is sent the dropped events again from the log.
 */
static void queue_line(struct watcher *w, const char *line, size_t n)
{
	pthread_mutex_lock(&w->lock);
	if (w->ended)
		goto out;
	if (w->limit && w->len - w->off && w->len - w->off + n > w->limit) {
		drop_queue(w);
		w->ended = w->cut = true;
		goto resume;
	}
	if (w->off) {
		/* what was sent goes, so the buffer holds only what waits */
		memmove(w->buf, w->buf + w->off, w->len - w->off);
		sodium_memzero(w->buf + w->len - w->off, w->off);
		w->len -= w->off;
		w->off = 0;
	}
	if (api_buf_append(&w->buf, &w->len, &w->cap, line, n)) {
		drop_queue(w);
		w->ended = w->cut = true;
	}
resume:
	if (w->suspended) {
		w->suspended = false;
		MHD_resume_connection(w->conn);
	}
out:
	pthread_mutex_unlock(&w->lock);
}

static void end_watcher(struct watcher *w)
{
	pthread_mutex_lock(&w->lock);
	w->ended = true;
	if (w->suspended) {
		w->suspended = false;
		MHD_resume_connection(w->conn);
	}
	pthread_mutex_unlock(&w->lock);
}

static ssize_t initial_read(struct watcher *w, char *out, size_t max);

/* MHD's content reader: the initial list while it lasts, then what is
 * queued, else suspend until the hub has more (suspending here is what
 * MHD allows). */
static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct watcher *w = cls;
	ssize_t n = 0;

	(void)pos;
	if (w->initial && (n = initial_read(w, out, max)) > 0)
		return n;
	pthread_mutex_lock(&w->lock);
	if (w->len > w->off) {
		size_t k = w->len - w->off < max ? w->len - w->off : max;

		memcpy(out, w->buf + w->off, k);
		sodium_memzero(w->buf + w->off, k);
		w->off += k;
		if (w->off == w->len)
			w->off = w->len = 0;
		n = (ssize_t)k;
	} else if (w->ended) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		w->suspended = true;
		MHD_suspend_connection(w->conn);
	}
	pthread_mutex_unlock(&w->lock);
	return n;
}

/* MHD frees the response: the stream is over, for whatever reason. */
static void watcher_free(void *cls)
{
	struct watcher *w = cls, **p;
	struct api_hub *hub = w->hub;

	pthread_mutex_lock(&hub->lock);
	for (p = &hub->list; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	pthread_mutex_unlock(&hub->lock);
	drop_queue(w);
	if (w->line) {
		sodium_memzero(w->line, w->line_len);
		free(w->line);
	}
	api_filter_release(&w->f);
	free(w->ns);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* --- events ------------------------------------------------------------------- */

/* In cluster mode (set before the hub starts, read-only after) a
 * resourceVersion is etcd's revision, as secretctl prints it, the same on
 * every node; watchers still follow this node's change log, and
 * store_etcd_since()/store_etcd_at() translate. */
static bool cluster_mode;

/* The resourceVersion of the change at store revision rev. */
static void event_rv(struct store *st, int64_t rev, char *out, size_t len)
{
	int64_t e;

	if (cluster_mode && store_etcd_at(st, rev, &e) == 0)
		rev = e;
	else if (cluster_mode && store_etcd_revision(st, &e) == 0 && e > 0)
		rev = e; /* newer than the last mark: a local write, not applied yet */
	snprintf(out, len, "%lld", (long long)rev);
}

/* One change as the object a watcher receives (a new reference) and, for
 * a secret, the secret itself for the filters (*sec, may stay NULL for a
 * deletion); NULL when there is nothing to send (a later change covers it). */
static json_t *change_object(struct store *st, const struct store_change *ch, bool secrets,
			     const json_t *gone, struct store_secret **sec)
{
	char rv[32];
	json_t *obj;

	*sec = NULL;
	event_rv(st, ch->revision, rv, sizeof(rv));
	if (secrets) {
		if (!ch->name)
			return NULL;
		if (ch->op == STORE_OP_DELETE && gone) {
			obj = json_deep_copy(json_object_get(gone, "obj"));
			if (obj)
				json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion",
						    json_string(rv));
			return obj;
		}
		if (ch->op == STORE_OP_DELETE)
			return json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "apiVersion", "v1", "kind",
					 "Secret", "metadata", "name", ch->name, "namespace",
					 ch->namespace, "resourceVersion", rv);
		if (store_secret_get(st, ch->namespace, ch->name, STORE_WITH_VALUES, sec))
			return NULL; /* gone since: its DELETED follows */
		if ((*sec)->revision > ch->revision) {
			/* changed again since: that later change, further in
			 * the log, sends it (once, however often it changed) */
			store_secret_free(*sec);
			*sec = NULL;
			return NULL;
		}
		return secret_to_json(*sec);
	}
	if (ch->name || (ch->op != STORE_OP_NS_CREATE && ch->op != STORE_OP_NS_DELETE))
		return NULL;
	{
		struct store_stat s = { 0 };

		if (ch->op == STORE_OP_NS_CREATE && store_ns_stat(st, ch->namespace, &s))
			return NULL;
		obj = namespace_to_json(ch->namespace, ch->op == STORE_OP_NS_CREATE ? s.created :
					ch->time);
		if (obj)
			json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion",
					    json_string(rv));
		return obj;
	}
}

/* Does w want the change to ns/name (sec: the secret, NULL for a
 * deletion, whose type is that of obj, the object as it last was)? */
static bool watcher_matches(const struct watcher *w, const char *ns, const char *name,
			    const struct store_secret *sec, const json_t *obj)
{
	if (w->ns && strcmp(w->ns, ns))
		return false;
	if (!w->secrets)
		return api_filter_match_ns(&w->f, name);
	if (sec)
		return api_filter_match(&w->f, sec);
	/* a deletion: the fieldSelector still tells (a label selector
	 * cannot: the watcher has it) */
	return api_filter_match_fields(&w->f, ns, name,
				       json_string_value(json_object_get(obj, "type")));
}

/* The line {"type":type,"object":obj}\n (obj as a Table row when asked):
 * malloc'd (may hold values: wipe it), *n its length; NULL without memory. */
static char *event_line(const struct watcher *w, const char *type, const json_t *obj,
			json_int_t ndata, size_t *n)
{
	json_t *ev, *o = NULL;
	char *line;

	if (w->table && strcmp(type, "ERROR") && strcmp(type, "BOOKMARK")) {
		json_t *one = json_pack("[O]", obj);
		const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"),
								   "resourceVersion"));

		o = !one ? NULL :
		    w->res == WATCH_SECRETS ? api_table_secrets(one, rv, time(NULL)) :
		    w->res == WATCH_NAMESPACES ? api_table_namespaces(one, rv, time(NULL)) :
		    w->res == WATCH_EVENTS ? api_table_events(one, rv, time(NULL)) :
		    api_table_rbac(one, rv, time(NULL), w->bindings);
		json_decref(one);
		/* a deleted secret's row: its DATA as it last was */
		if (o && ndata >= 0)
			json_array_set_new(json_object_get(json_array_get(json_object_get(o, "rows"), 0),
							   "cells"), 2, json_integer(ndata));
	}
	ev = json_pack("{s:s, s:O}", "type", type, "object", o ? o : obj);
	json_decref(o);
	line = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	json_decref(ev);
	if (line) {
		*n = strlen(line) + 1;
		line[*n - 1] = '\n'; /* json_dumps' NUL: the line's end */
	}
	return line;
}

/* Queue {"type":type,"object":obj} (obj as a Table row when asked). */
static void send_event(struct watcher *w, const char *type, const json_t *obj, json_int_t ndata)
{
	size_t n;
	char *line = event_line(w, type, obj, ndata, &n);

	if (!line) {
		end_watcher(w);
		return;
	}
	queue_line(w, line, n);
	sodium_memzero(line, n);
	free(line);
}

static const char *event_type(enum store_op op)
{
	return op == STORE_OP_CREATE || op == STORE_OP_NS_CREATE ? "ADDED" :
	       op == STORE_OP_UPDATE ? "MODIFIED" : "DELETED";
}

/* Deliver one change to the watchers of list that have not had it.
 * Called with hub->lock held (or, for a watcher not yet listed, by its
 * own request). */
static void deliver(struct store *st, struct watcher *list, bool only_one,
		    const struct store_change *ch, const json_t *gone)
{
	json_int_t ndata = gone ? json_integer_value(json_object_get(gone, "n")) : -1;

	json_t *obj[2] = { NULL, NULL };
	struct store_secret *sec[2] = { NULL, NULL };
	bool made[2] = { false, false };

	for (struct watcher *w = list; w; w = only_one ? NULL : w->next) {
		int k = w->secrets ? 1 : 0;

		/* since moves once a round is delivered (the top) */
		if (ch->revision <= w->since || w->res > WATCH_NAMESPACES)
			continue;
		if (!made[k]) {
			obj[k] = change_object(st, ch, w->secrets, gone, &sec[k]);
			made[k] = true;
		}
		if (obj[k] && watcher_matches(w, ch->namespace, ch->name ? ch->name : ch->namespace,
					      sec[k], obj[k]))
			send_event(w, event_type(ch->op), obj[k],
				   w->secrets && ch->op == STORE_OP_DELETE ? ndata : -1);
	}
	for (int k = 0; k < 2; k++) {
		json_decref(obj[k]);
		store_secret_free(sec[k]);
	}
}

/* Remember s (metadata only) in hub->known, as the compact text of
 * {"obj": ..., "n": items}: a string costs a tenth of the tree of jansson
 * objects it would parse into (10,000 secrets: about 4 MiB, not 30). */
static void known_put(struct api_hub *hub, const struct store_secret *s)
{
	json_t *obj = secret_to_json(s), *e;
	char key[STORE_MAX_NAMESPACE + STORE_MAX_NAME + 2], *text;

	if (!obj)
		return;
	snprintf(key, sizeof(key), "%s/%s", s->namespace, s->name);
	json_object_del(obj, "data");
	e = json_pack("{s:o, s:I}", "obj", obj, "n", (json_int_t)s->nitems);
	text = e ? json_dumps(e, JSON_COMPACT) : NULL;
	json_decref(e);
	if (text)
		json_object_set_new(hub->known, key, json_string(text));
	free(text);
}

static int known_walk(void *ctx, const struct store_secret *s)
{
	known_put(ctx, s);
	return 0;
}

/* Follow one change in hub->known; for a deletion, hand back what was
 * known (a new reference, or NULL). */
static json_t *known_follow(struct api_hub *hub, const struct store_change *ch)
{
	char key[STORE_MAX_NAMESPACE + STORE_MAX_NAME + 2];
	struct store_secret *s = NULL;
	json_t *gone;

	if (!ch->name)
		return NULL;
	snprintf(key, sizeof(key), "%s/%s", ch->namespace, ch->name);
	if (ch->op == STORE_OP_DELETE) {
		const char *text = json_string_value(json_object_get(hub->known, key));

		gone = text ? json_loads(text, 0, NULL) : NULL;
		json_object_del(hub->known, key);
		return gone;
	}
	if (store_secret_get(hub->st, ch->namespace, ch->name, 0, &s) == 0)
		known_put(hub, s);
	store_secret_free(s);
	return NULL;
}

/* --- other sources: Events and the RBAC kinds ----------------------------------
 * Events are only appended (store_events_since(): ADDED); the RBAC objects
 * have change-log rows of their own (store_object_changes()).  A round's
 * changes are read outside the hub's lock into a list of struct other,
 * each with the object to send, and delivered under it. */

static const struct {
	const char *resource, *kind;
	bool bindings;
} rbac_kinds[] = {
	{ "roles", "Role", false },
	{ "clusterroles", "ClusterRole", false },
	{ "rolebindings", "RoleBinding", true },
	{ "clusterrolebindings", "ClusterRoleBinding", true },
};

struct other {
	int64_t revision;
	enum watch_res res;    /* WATCH_EVENTS or WATCH_OBJECTS */
	enum store_op op;
	char *kind, *ns, *name; /* kind: WATCH_OBJECTS only; ns "" for cluster kinds */
	json_t *obj;           /* NULL: a deletion (objknown tells), or nothing to send */
};

struct others {
	struct store *st;
	int64_t upto;          /* changes after it wait for the next round */
	struct other *v;
	size_t n;
};

static void others_free(struct others *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].kind);
		free(c->v[i].ns);
		free(c->v[i].name);
		json_decref(c->v[i].obj);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

/* A new entry (zeroed but for what is given), or NULL. */
static struct other *other_new(struct others *c, int64_t rev, enum watch_res res,
			       enum store_op op, const char *kind, const char *ns, const char *name)
{
	struct other *v = realloc(c->v, (c->n + 1) * sizeof(*v)), *x;

	if (!v)
		return NULL;
	c->v = v;
	x = &v[c->n];
	*x = (struct other){ .revision = rev, .res = res, .op = op };
	x->kind = kind ? strdup(kind) : NULL;
	x->ns = strdup(ns ? ns : "");
	x->name = strdup(name ? name : "");
	c->n++;
	if ((kind && !x->kind) || !x->ns || !x->name)
		return NULL; /* others_free() frees what was made */
	return x;
}

static int other_event(void *ctx, const struct store_event *ev)
{
	struct others *c = ctx;
	struct other *x;
	char rv[32];

	if (ev->revision > c->upto)
		return 0;
	event_rv(c->st, ev->revision, rv, sizeof(rv));
	x = other_new(c, ev->revision, WATCH_EVENTS, STORE_OP_CREATE, NULL, ev->namespace, NULL);
	if (!x || !(x->obj = api_event_json(ev, rv)))
		return -ENOMEM;
	free(x->name);
	x->name = strdup(json_string_value(json_object_get(json_object_get(x->obj, "metadata"),
							   "name")));
	return x->name ? 0 : -ENOMEM;
}

static int other_object(void *ctx, const struct store_object_change *ch)
{
	struct others *c = ctx;
	struct store_object *o = NULL;
	struct other *x;

	if (ch->revision > c->upto)
		return 0;
	x = other_new(c, ch->revision, WATCH_OBJECTS, ch->op, ch->kind, ch->namespace, ch->name);
	if (!x)
		return -ENOMEM;
	/* as it is now, unless gone or changed again since: that later
	 * change, further in the log, sends it */
	if (ch->op != STORE_OP_DELETE &&
	    store_object_get(c->st, ch->kind, ch->namespace, ch->name, &o) == 0 &&
	    o->revision <= ch->revision)
		x->obj = json_loads(o->body, 0, NULL);
	store_object_free(o);
	return 0;
}

/* Read Events and RBAC changes in (since, upto] into c. */
static int others_read(struct store *st, int64_t since, int64_t upto, struct others *c)
{
	int err;

	c->st = st;
	c->upto = upto;
	if ((err = store_events_since(st, since, other_event, c)))
		return err;
	return store_object_changes(st, since, other_object, c);
}

static void objknown_key(char *out, size_t len, const char *kind, const char *ns, const char *name)
{
	snprintf(out, len, "%s/%s/%s", kind, ns, name);
}

/* Deliver c to the watchers of list (one, if only_one) that have not had
 * each; follow: keep hub->objknown (the hub's own rounds).  Called with
 * hub->lock held. */
static void others_deliver(struct api_hub *hub, struct store *st, struct watcher *list,
			   bool only_one, bool follow, const struct others *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct other *x = &c->v[i];
		json_t *obj = x->obj, *gone = NULL;

		if (x->res == WATCH_OBJECTS) {
			char key[STORE_MAX_NAMESPACE + 2 * STORE_MAX_NAME + 4], rv[32];
			const char *text;

			objknown_key(key, sizeof(key), x->kind, x->ns, x->name);
			if (x->op == STORE_OP_DELETE) {
				/* the object as it last was, at the deletion's
				 * resourceVersion */
				text = json_string_value(json_object_get(hub->objknown, key));
				event_rv(st, x->revision, rv, sizeof(rv));
				gone = text ? json_loads(text, 0, NULL) :
				       json_pack("{s:s, s:s, s:{s:s}}", "apiVersion",
						 "rbac.authorization.k8s.io/v1", "kind", x->kind,
						 "metadata", "name", x->name);
				if (gone && *x->ns)
					json_object_set_new(json_object_get(gone, "metadata"), "namespace",
							    json_string(x->ns));
				if (gone)
					json_object_set_new(json_object_get(gone, "metadata"),
							    "resourceVersion", json_string(rv));
				if (follow)
					json_object_del(hub->objknown, key);
				obj = gone;
			} else if (obj && follow) {
				char *t = json_dumps(obj, JSON_COMPACT);

				if (t)
					json_object_set_new(hub->objknown, key, json_string(t));
				free(t);
			}
		}
		for (struct watcher *w = list; obj && w; w = only_one ? NULL : w->next) {
			if (x->revision <= w->since || w->res != x->res ||
			    (x->res == WATCH_OBJECTS && strcmp(w->kind, x->kind)) ||
			    (w->ns && strcmp(w->ns, x->ns)) ||
			    !api_filter_match_object(&w->f, x->ns, x->name, obj))
				continue;
			send_event(w, event_type(x->op), obj, -1);
		}
		json_decref(gone);
	}
}

/* Fill hub->objknown with every RBAC object (at the hub's start).  One
 * that fails its tag fails the list: then the DELETED events carry only
 * kind, name and namespace. */
static void objknown_init(struct api_hub *hub)
{
	struct store_object **v = NULL;
	size_t n = 0;

	if (!hub->objknown || store_object_list(hub->st, NULL, NULL, &v, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		char key[STORE_MAX_NAMESPACE + 2 * STORE_MAX_NAME + 4];

		objknown_key(key, sizeof(key), v[i]->kind, v[i]->namespace, v[i]->name);
		json_object_set_new(hub->objknown, key, json_string(v[i]->body));
	}
	store_object_list_free(v, n);
}

struct initial_other {
	struct watcher *w;
	struct store *st;
	const char *rv;      /* for events recorded before they took revisions */
};

static int initial_event(void *ctx, const struct store_event *ev)
{
	struct initial_other *in = ctx;
	char rv[32];
	json_t *obj;

	if (ev->revision > 0)
		event_rv(in->st, ev->revision, rv, sizeof(rv));
	else
		snprintf(rv, sizeof(rv), "%s", in->rv);
	obj = api_event_json(ev, rv);
	if (!obj)
		return -ENOMEM;
	if (api_filter_match_object(&in->w->f, ev->namespace,
				    json_string_value(json_object_get(json_object_get(obj, "metadata"),
								      "name")), obj))
		send_event(in->w, "ADDED", obj, -1);
	json_decref(obj);
	return 0;
}

/* Synthetic ADDED events for the Events or RBAC objects that exist now
 * (the store revision now_rev). */
static int others_initial(struct store *st, struct watcher *w, int64_t now_rev)
{
	struct store_object **v = NULL;
	size_t n = 0;
	char rv[32];
	int err;

	event_rv(st, now_rev, rv, sizeof(rv));
	if (w->res == WATCH_EVENTS) {
		struct initial_other in = { w, st, rv };

		return store_events(st, w->ns, initial_event, &in);
	}
	if ((err = store_object_list(st, w->kind, w->ns, &v, &n)))
		return err;
	for (size_t i = 0; i < n; i++) {
		json_t *obj;

		if (!(obj = json_loads(v[i]->body, 0, NULL)))
			continue;
		if (api_filter_match_object(&w->f, v[i]->namespace, v[i]->name, obj))
			send_event(w, "ADDED", obj, -1);
		json_decref(obj);
	}
	store_object_list_free(v, n);
	return 0;
}

/* --- the hub thread ------------------------------------------------------------- */

struct collected {
	struct store_change *v;
	size_t n;
};

static int collect(void *ctx, const struct store_change *ch)
{
	struct collected *c = ctx;
	struct store_change *v = realloc(c->v, (c->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->v = v;
	v[c->n] = *ch;
	v[c->n].namespace = strdup(ch->namespace);
	v[c->n].name = ch->name ? strdup(ch->name) : NULL;
	c->n++;
	return 0;
}

static void collected_free(struct collected *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free((char *)c->v[i].namespace);
		free((char *)c->v[i].name);
	}
	free(c->v);
	*c = (struct collected){ 0 };
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* About once a second: end the watchers past their time, bookmark the
 * others. */
static void tick(struct api_hub *hub)
{
	int64_t now = time(NULL), ms = now_ms();

	pthread_mutex_lock(&hub->lock);
	for (struct watcher *w = hub->list; w; w = w->next) {
		if (ms >= w->deadline) {
			end_watcher(w);
		} else if (w->bookmarks && now >= w->bookmark_at) {
			char rv[32];
			json_t *o;

			w->bookmark_at = now + WATCH_BOOKMARK_SECONDS;
			event_rv(hub->st, w->since > hub->last ? w->since : hub->last, rv, sizeof(rv));
			o = json_pack("{s:s, s:s, s:{s:s}}", "kind",
				      w->res == WATCH_SECRETS ? "Secret" :
				      w->res == WATCH_NAMESPACES ? "Namespace" :
				      w->res == WATCH_EVENTS ? "Event" : w->kind,
				      "apiVersion", w->res == WATCH_OBJECTS ? "rbac.authorization.k8s.io/v1" : "v1",
				      "metadata", "resourceVersion", rv);
			if (o)
				send_event(w, "BOOKMARK", o, -1);
			json_decref(o);
		}
	}
	pthread_mutex_unlock(&hub->lock);
}

static void *hub_main(void *arg)
{
	struct api_hub *hub = arg;
	int backoff = 0;
	int64_t last_tick = 0;

	for (;;) {
		/* a negative fd (no inotify, no eventfd) is ignored by poll */
		struct pollfd p[3] = { { .fd = hub->wake[0], .events = POLLIN },
				       { .fd = hub->inotify, .events = POLLIN },
				       { .fd = hub->poke, .events = POLLIN } };
		struct collected c = { 0 };
		struct others o = { 0 };
		char buf[4096];
		uint64_t pokes;
		int64_t since, upto = 0;
		bool moved = false;
		int n = poll(p, 3, backoff ? backoff : 1000);

		if (n > 0 && (p[0].revents & POLLIN))
			break;
		if (n > 0 && (p[1].revents & POLLIN) && read(hub->inotify, buf, sizeof(buf)) < 0)
			n = 0;
		if (n > 0 && (p[2].revents & POLLIN) && read(hub->poke, &pokes, sizeof(pokes)) < 0)
			n = 0;
		pthread_mutex_lock(&hub->lock);
		since = hub->last;
		pthread_mutex_unlock(&hub->lock);
		/* read outside the lock, every source up to the revision
		 * read first; deliver under it (see the top) */
		if (store_revision(hub->st, &upto) == 0 && upto > since &&
		    store_changes(hub->st, since, collect, &c) == 0 &&
		    others_read(hub->st, since, upto, &o) == 0) {
			pthread_mutex_lock(&hub->lock);
			for (size_t i = 0; i < c.n && c.v[i].revision <= upto; i++) {
				json_t *gone = known_follow(hub, &c.v[i]);

				deliver(hub->st, hub->list, false, &c.v[i], gone);
				json_decref(gone);
			}
			others_deliver(hub, hub->st, hub->list, false, true, &o);
			for (struct watcher *w = hub->list; w; w = w->next)
				if (w->since < upto)
					w->since = upto;
			hub->last = upto;
			pthread_mutex_unlock(&hub->lock);
			moved = true;
		}
		/* the WAL index may be published a moment after the write
		 * that woke us: look again after 1, 2, 4 ... 64 ms, then
		 * back to the one-second timer */
		if (moved || (n <= 0 && backoff >= 64))
			backoff = 0;
		else if (n > 0 || backoff)
			backoff = !backoff ? 1 : backoff < 64 ? backoff * 2 : 64;
		collected_free(&c);
		others_free(&o);
		if (time(NULL) != last_tick) {
			last_tick = time(NULL);
			tick(hub);
		}
	}
	return NULL;
}

int api_hub_start(struct api_server *srv, char *err, size_t errlen)
{
	struct api_hub *hub = calloc(1, sizeof(*hub));
	char why[STORE_ERRMSG_MAX], *dir = NULL;

	if (!hub)
		return -ENOMEM;
	hub->srv = srv;
	cluster_mode = srv->cfg.cluster.endpoints && *srv->cfg.cluster.endpoints;
	hub->inotify = -1;
	hub->wake[0] = hub->wake[1] = -1;
	/* without one, inotify and the timer still find every change */
	hub->poke = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&hub->lock, NULL);
	srv->hub = hub;
	if (store_open(&hub->st, srv->cfg.store_path, srv->cfg.key_file, STORE_RDONLY, why)) {
		snprintf(err, errlen, "%s", why);
		return -EIO;
	}
	hub->known = json_object();
	hub->objknown = json_object();
	/* the revision before the list: a change racing it is followed */
	if (store_revision(hub->st, &hub->last)) {
		snprintf(err, errlen, "cannot start the watch hub: %s", store_errmsg(hub->st));
		return -EIO;
	}
	/* one secret at a time: the store's list would hold every one's
	 * metadata at once, besides what hub->known keeps of it */
	if (!hub->known || store_secret_walk(hub->st, NULL, NULL, NULL, 0, known_walk, hub)) {
		snprintf(err, errlen, "cannot start the watch hub: %s", store_errmsg(hub->st));
		return -EIO;
	}
	objknown_init(hub);
	if (pipe2(hub->wake, O_CLOEXEC)) {
		snprintf(err, errlen, "cannot start the watch hub: %s", strerror(errno));
		return -EIO;
	}
	dir = strdup(srv->cfg.store_path);
	if (dir && strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	hub->inotify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (hub->inotify >= 0 && (!dir || inotify_add_watch(hub->inotify, *dir ? dir : "/",
							     IN_MODIFY | IN_CLOSE_WRITE) < 0)) {
		close(hub->inotify);
		hub->inotify = -1; /* the one-second timer alone */
	}
	free(dir);
	if (pthread_create(&hub->thread, NULL, hub_main, hub)) {
		snprintf(err, errlen, "cannot start the watch hub thread");
		return -EAGAIN;
	}
	hub->running = true;
	return 0;
}

/* inotify wakes the hub when the WAL is written, which may be before the
 * commit is visible (then it looks again 1, 2, 4 ... ms later); a write
 * this server answered is committed: look now. */
void api_hub_poke(struct api_server *srv)
{
	uint64_t one = 1;

	if (srv->hub && srv->hub->poke >= 0 && write(srv->hub->poke, &one, sizeof(one)) < 0) {
		/* the counter is full: the hub has pokes waiting anyway */
	}
}

void api_hub_stop(struct api_server *srv)
{
	struct api_hub *hub = srv->hub;

	if (!hub)
		return;
	if (hub->running) {
		if (write(hub->wake[1], "", 1) != 1)
			abort(); /* a pipe of ours: cannot fail */
		pthread_join(hub->thread, NULL);
		hub->running = false;
	}
	/* every stream ends (an initial list too): MHD must not stop with a
	 * connection suspended */
	pthread_mutex_lock(&hub->lock);
	for (struct watcher *w = hub->list; w; w = w->next) {
		pthread_mutex_lock(&w->lock);
		w->cut = true;
		pthread_mutex_unlock(&w->lock);
		end_watcher(w);
	}
	pthread_mutex_unlock(&hub->lock);
}

void api_hub_free(struct api_server *srv)
{
	struct api_hub *hub = srv->hub;

	if (!hub)
		return;
	assert(!hub->running && !hub->list);
	store_close(hub->st);
	json_decref(hub->known);
	json_decref(hub->objknown);
	if (hub->inotify >= 0)
		close(hub->inotify);
	if (hub->poke >= 0)
		close(hub->poke);
	if (hub->wake[0] >= 0)
		close(hub->wake[0]);
	if (hub->wake[1] >= 0)
		close(hub->wake[1]);
	pthread_mutex_destroy(&hub->lock);
	free(hub);
	srv->hub = NULL;
}

/* --- a watch request -------------------------------------------------------------- */

struct catch_up {
	struct store *st;
	struct watcher *w;
	int64_t upto;       /* the hub delivers what comes after */
};

static int catch_up_one(void *ctx, const struct store_change *ch)
{
	struct catch_up *c = ctx;

	if (ch->revision <= c->upto)
		deliver(c->st, c->w, true, ch, NULL);
	return 0;
}

/* The changes of the other sources in (w->since, upto], to w alone. */
static int others_catch_up(struct api_hub *hub, struct store *st, struct watcher *w,
			   int64_t upto)
{
	struct others c = { 0 };
	int err = others_read(st, w->since, upto, &c);

	if (!err)
		others_deliver(hub, st, w, true, false, &c);
	others_free(&c);
	return err;
}

struct initial {
	struct watcher *w;
	struct store *st;
};

static int initial_ns(void *ctx, const char *name, const struct store_stat *st)
{
	struct initial *in = ctx;
	json_t *obj;

	if (!api_filter_match_ns(&in->w->f, name))
		return 0;
	obj = namespace_to_json(name, st->created);
	if (obj)
		send_event(in->w, "ADDED", obj, -1);
	json_decref(obj);
	return 0;
}

/* Synthetic ADDED events for the namespaces that exist now (a few: all
 * queued at the start). */
static int initial_namespaces(struct store *st, struct watcher *w)
{
	struct initial in = { w, st };

	return store_ns_each(st, initial_ns, &in);
}

#define INITIAL_FOUND 1 /* initial_pick() found the next secret */

/* store_secret_walk()'s visitor (metadata only): the next secret w
 * selects; for a Table its line (a row shows no value). */
static int initial_pick(void *ctx, const struct store_secret *s)
{
	struct watcher *w = ctx;
	json_t *obj;

	snprintf(w->initial_ns, sizeof(w->initial_ns), "%s", s->namespace);
	snprintf(w->initial_name, sizeof(w->initial_name), "%s", s->name);
	w->initial_started = true;
	if (!api_filter_match(&w->f, s))
		return 0;
	if (!w->table)
		return INITIAL_FOUND;
	obj = secret_to_json(s);
	w->line = obj ? event_line(w, "ADDED", obj, -1, &w->line_len) : NULL;
	json_decref(obj);
	return w->line ? INITIAL_FOUND : -ENOMEM;
}

/* The next secret's event into w->line: INITIAL_FOUND, 0 at the end, or
 * -errno.  The values are read once the walk found it: only the selected
 * ones are decrypted; one deleted meanwhile is left out. */
static int initial_next(struct watcher *w, struct store *st)
{
	struct store_secret *s = NULL;
	json_t *obj;
	int err;

	for (;;) {
		err = store_secret_walk(st, w->ns, w->initial_started ? w->initial_ns : NULL,
					w->initial_started ? w->initial_name : NULL, 0, initial_pick, w);
		if (err != INITIAL_FOUND || w->table)
			return err;
		err = store_secret_get(st, w->initial_ns, w->initial_name, STORE_WITH_VALUES, &s);
		if (err != -ENOENT)
			break;
	}
	if (err)
		return err;
	obj = secret_to_json(s);
	store_secret_free(s);
	w->line = obj ? event_line(w, "ADDED", obj, -1, &w->line_len) : NULL;
	json_decref(obj);
	return w->line ? INITIAL_FOUND : -ENOMEM;
}

/*
 * The initial list's next bytes into out (at most max): > 0, or 0 once
 * it is over (the queue follows).  One secret's event in memory at a
 * time, per watcher, read on the connection's thread with its store
 * handle and no lock held (the hub queues meanwhile: the changes after
 * w->since, sent after the list).  As a list, it reads each secret as
 * its turn comes: one that changes meanwhile may come twice (ADDED, then
 * MODIFIED with the same object), one created after the start too.
 */
static ssize_t initial_read(struct watcher *w, char *out, size_t max)
{
	char why[STORE_ERRMSG_MAX] = "out of memory";
	struct api_db *db = NULL;
	bool cut;
	size_t k;
	int err = INITIAL_FOUND; /* w->line may hold the rest of one */

	/* a watch whose time is up still sends its whole start, as a list
	 * would be (the queue then follows, then the end) */
	pthread_mutex_lock(&w->lock);
	cut = w->cut;
	pthread_mutex_unlock(&w->lock);
	while (!cut && w->line_off == w->line_len) {
		if (w->line) {
			free(w->line); /* wiped as it was sent */
			w->line = NULL;
			w->line_len = w->line_off = 0;
		}
		w->line_off = 0;
		err = api_db_get(w->hub->srv, &db, why, sizeof(why));
		if (!err)
			err = initial_next(w, db->st);
		if (err != INITIAL_FOUND)
			break;
	}
	if (cut || err != INITIAL_FOUND) {
		w->initial = false;
		if (err < 0) {
			/* the stream ends at once: the client lists again */
			fprintf(stderr, "secretfs-apiserver: watch of secrets: initial list: %s\n",
				!db ? why : err == -ENOMEM ? "out of memory" : store_errmsg(db->st));
			pthread_mutex_lock(&w->lock);
			drop_queue(w);
			w->ended = w->cut = true;
			pthread_mutex_unlock(&w->lock);
		}
		return 0;
	}
	k = w->line_len - w->line_off < max ? w->line_len - w->line_off : max;
	memcpy(out, w->line + w->line_off, k);
	sodium_memzero(w->line + w->line_off, k);
	w->line_off += k;
	return (ssize_t)k;
}

enum MHD_Result api_watch(struct api_req *r, const char *resource, const char *ns)
{
	struct api_hub *hub = r->srv->hub;
	const char *rvs = api_arg(r, "resourceVersion"), *ts = api_arg(r, "timeoutSeconds");
	struct MHD_Response *resp;
	struct watcher *w;
	enum MHD_Result ret;
	int64_t rv = 0, now_rev, from, timeout = WATCH_MAX_SECONDS;
	bool too_old;
	char *end;
	int err;

	if (rvs && *rvs) {
		errno = 0;
		rv = strtoll(rvs, &end, 10);
		if (*end || errno || rv < 0)
			return api_status(r, 400, "BadRequest", NULL,
					  "resourceVersion: Invalid value: \"%s\": must be a decimal number",
					  rvs);
	}
	if (ts && *ts) {
		errno = 0;
		timeout = strtoll(ts, &end, 10);
		if (*end || errno || timeout < 0)
			return api_status(r, 400, "BadRequest", NULL,
					  "timeoutSeconds: Invalid value: \"%s\": must be a number of seconds",
					  ts);
		if (timeout == 0 || timeout > WATCH_MAX_SECONDS)
			timeout = WATCH_MAX_SECONDS;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return api_status(r, 500, "InternalError", NULL, "out of memory");
	pthread_mutex_init(&w->lock, NULL);
	w->hub = hub;
	w->conn = r->conn;
	w->res = !strcmp(resource, "secrets") ? WATCH_SECRETS :
		 !strcmp(resource, "namespaces") ? WATCH_NAMESPACES :
		 !strcmp(resource, "events") ? WATCH_EVENTS : WATCH_OBJECTS;
	w->secrets = w->res == WATCH_SECRETS;
	for (size_t i = 0; i < sizeof(rbac_kinds) / sizeof(*rbac_kinds); i++)
		if (!strcmp(resource, rbac_kinds[i].resource)) {
			w->kind = rbac_kinds[i].kind;
			w->bindings = rbac_kinds[i].bindings;
		}
	assert(w->res != WATCH_OBJECTS || w->kind);
	w->table = r->table;
	w->bookmarks = api_arg_true(r, "allowWatchBookmarks") && !r->table;
	w->deadline = now_ms() + timeout * 1000;
	w->bookmark_at = time(NULL) + WATCH_BOOKMARK_SECONDS;
	if ((ns && !(w->ns = strdup(ns))) || api_filter_parse(r, &w->f, resource, &ret)) {
		if (ns && !w->ns)
			ret = api_status(r, 500, "InternalError", NULL, "out of memory");
		free(w->ns);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return ret;
	}
	/* the response owns w from here: watcher_free() on every path */
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, reader, w,
						 watcher_free);
	if (!resp) {
		api_filter_release(&w->f);
		free(w->ns);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return MHD_NO;
	}
	pthread_mutex_lock(&hub->lock);
	err = store_revision(r->db->st, &now_rev);
	from = rv;
	too_old = !err && rv > now_rev;
	if (!err && rv > 0 && cluster_mode) {
		/* etcd's revision: the change log after the store revision
		 * that held it; one this node has not applied yet is its
		 * present (what it has not applied comes when it does).  The
		 * head too is read from its mark, not from now: this node's
		 * own events since then (they never go to etcd) come, where
		 * from now one recorded between a list and its watch was
		 * lost (one before the list may come twice) */
		int64_t head = 0;

		from = now_rev;
		err = store_etcd_revision(r->db->st, &head);
		if (!err && rv <= head)
			err = store_etcd_since(r->db->st, rv, &from);
		too_old = err == -ESTALE;
		if (too_old)
			err = 0;
	}
	if (too_old) {
		/* a resourceVersion this store never had (another store's, or
		 * one restored over), or in cluster mode one from before this
		 * node's mirror began: the client must list again */
		char msg[128];
		json_t *st;

		snprintf(msg, sizeof(msg), "too old resource version: %lld (%lld)", (long long)rv,
			 (long long)now_rev);
		st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status",
			       "apiVersion", "v1", "metadata", "status", "Failure", "message", msg,
			       "reason", "Expired", "code", 410);
		send_event(w, "ERROR", st, -1);
		json_decref(st);
		w->ended = true;
	} else if (!err && rv > 0) {
		struct catch_up c = { r->db->st, w, now_rev };

		w->since = from;
		err = w->res > WATCH_NAMESPACES ? others_catch_up(hub, r->db->st, w, now_rev) :
		      store_changes(r->db->st, from, catch_up_one, &c);
		if (w->since < now_rev)
			w->since = now_rev;
	} else if (!err) {
		w->since = now_rev;
		if (w->res > WATCH_NAMESPACES)
			err = others_initial(r->db->st, w, now_rev);
		else if (w->secrets)
			w->initial = true; /* made as it is read: initial_read() */
		else
			err = initial_namespaces(r->db->st, w);
	}
	if (!err && !w->ended) {
		/* a catch-up from a resourceVersion may be as large as a
		 * list is; from now on at most WATCH_QUEUE_MAX more may wait
		 * (the changes during an initial list included) */
		pthread_mutex_lock(&w->lock);
		w->limit = w->len - w->off + WATCH_QUEUE_MAX;
		pthread_mutex_unlock(&w->lock);
		w->next = hub->list;
		hub->list = w;
	}
	pthread_mutex_unlock(&hub->lock);
	if (err)
		w->ended = true; /* the stream ends at once: the client retries */
	/* MHD's idle timeout stays: a suspended watch (nothing to send) never
	 * times out, a streaming one is active, and one whose client stopped
	 * reading is closed 60 s after its last byte went out */
	return api_queue_stream(r, resp);
}
