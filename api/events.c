/*
 * events.c - core/v1 Events: the store's events (store/events.c: what
 * `secretctl get events` shows, e.g. a skipped environment variable name
 * or a value that failed to authenticate) as Event objects, get and list
 * (/api/v1/namespaces/NS/events, /api/v1/events), with kubectl's Table
 * (LAST SEEN TYPE REASON OBJECT MESSAGE).
 *
 * The store keeps events without a name; each gets the apiserver's form of
 * one, OBJECT.HEX, HEX being the event's time in nanoseconds plus its place
 * among its namespace's events (oldest first, the store only appends), so
 * the same event has the same name at every read, in a list or a watch.
 * Each event takes a store revision (store/events.c), so watch.c follows
 * them from a list's resourceVersion.  An event never holds a
 * value (the store's rule), so nothing here does either.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"

struct collect {
	json_t *items;
	const char *want; /* a name to find, or NULL: all */
	const struct api_filter *f; /* a list's selectors */
	int err;
};

/* "secret/db" -> kind Secret, name db; "namespace/x" -> Namespace */
static void involved(const char *object, char *kind, size_t klen, const char **name)
{
	const char *slash = strchr(object, '/');
	size_t n = slash ? (size_t)(slash - object) : 0;

	*name = slash ? slash + 1 : object;
	snprintf(kind, klen, "%.*s", (int)n, object);
	if (kind[0] >= 'a' && kind[0] <= 'z')
		kind[0] = (char)(kind[0] - 32);
}

/* The event's name, OBJECT.HEX (see the top). */
static void event_name(const struct store_event *ev, char *out, size_t len)
{
	char kind[64];
	const char *oname;

	involved(ev->object ? ev->object : "", kind, sizeof(kind), &oname);
	snprintf(out, len, "%s.%llx", oname,
		 (unsigned long long)(ev->time * 1000000000LL + ev->seq));
}

json_t *api_event_json(const struct store_event *ev, const char *rv)
{
	char kind[64], ts[32], name[320];
	const char *oname;
	json_t *o;

	involved(ev->object ? ev->object : "", kind, sizeof(kind), &oname);
	event_name(ev, name, sizeof(name));
	rfc3339(ts, sizeof(ts), ev->time);
	o = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:i, "
		      "s:s, s:s, s:{s:s}, s:s}",
		      "apiVersion", "v1", "kind", "Event",
		      "metadata", "name", name, "namespace", ev->namespace ? ev->namespace : "",
		      "creationTimestamp", ts,
		      "involvedObject", "apiVersion", "v1", "kind", kind, "name", oname,
		      "namespace", ev->namespace ? ev->namespace : "",
		      "reason", ev->reason ? ev->reason : "", "message", ev->message ? ev->message : "",
		      "type", ev->type ? ev->type : "Normal", "count", 1,
		      "firstTimestamp", ts, "lastTimestamp", ts,
		      "source", "component", "secretfs", "reportingComponent", "secretfs");
	if (o && rv)
		json_object_set_new(json_object_get(o, "metadata"), "resourceVersion", json_string(rv));
	return o;
}

static int collect_one(void *ctx, const struct store_event *ev)
{
	struct collect *c = ctx;
	char name[320];
	json_t *o;

	if (c->want) {
		event_name(ev, name, sizeof(name));
		if (strcmp(c->want, name))
			return 0;
	}
	o = api_event_json(ev, NULL);
	if (o && !c->want &&
	    !api_filter_match_object(c->f, ev->namespace,
				     json_string_value(json_object_get(json_object_get(o, "metadata"),
								       "name")), o)) {
		json_decref(o);
		return 0;
	}
	if (!o || json_array_append_new(c->items, o)) {
		c->err = -ENOMEM;
		return -ENOMEM;
	}
	return 0;
}

/* The Table kubectl prints for events; Last Seen as the apiserver's
 * interval ("5s", or "<unknown>"). */
json_t *api_table_events(const json_t *items, const char *rv, int64_t now)
{
	json_t *rows = json_array(), *e, *cols;
	size_t i;

	json_array_foreach(items, i, e) {
		const json_t *io = json_object_get(e, "involvedObject");
		const char *ts = json_string_value(json_object_get(e, "lastTimestamp"));
		char last[32], object[400], kind[64];
		struct tm tm = { 0 };

		snprintf(kind, sizeof(kind), "%s", json_string_value(json_object_get(io, "kind")));
		for (char *p = kind; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		snprintf(object, sizeof(object), "%s/%s", kind,
			 json_string_value(json_object_get(io, "name")));
		if (ts && strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm))
			human_age(last, sizeof(last), (int64_t)timegm(&tm), now);
		else
			snprintf(last, sizeof(last), "<unknown>");
		json_array_append_new(rows, json_pack("{s:[s, s, s, s, s, s, s, s, i, s], s:{s:s, s:s, s:O}}",
			"cells", last, json_string_value(json_object_get(e, "type")),
			json_string_value(json_object_get(e, "reason")), object, "", "secretfs",
			json_string_value(json_object_get(e, "message")), last, 1,
			json_string_value(json_object_get(json_object_get(e, "metadata"), "name")),
			"object", "kind", "PartialObjectMetadata", "apiVersion", "meta.k8s.io/v1",
			"metadata", json_object_get(e, "metadata")));
	}
	cols = json_pack("[{s:s, s:s, s:s, s:s, s:i}, {s:s, s:s, s:s, s:s, s:i}, "
			 "{s:s, s:s, s:s, s:s, s:i}, {s:s, s:s, s:s, s:s, s:i}, "
			 "{s:s, s:s, s:s, s:s, s:i}, {s:s, s:s, s:s, s:s, s:i}, "
			 "{s:s, s:s, s:s, s:s, s:i}, {s:s, s:s, s:s, s:s, s:i}, "
			 "{s:s, s:s, s:s, s:s, s:i}, {s:s, s:s, s:s, s:s, s:i}]",
			 "name", "Last Seen", "type", "string", "format", "", "description", "Time when this Event was last observed.", "priority", 0,
			 "name", "Type", "type", "string", "format", "", "description", "Type of this event (Normal, Warning).", "priority", 0,
			 "name", "Reason", "type", "string", "format", "", "description", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.", "priority", 0,
			 "name", "Object", "type", "string", "format", "", "description", "The object that this event is about.", "priority", 0,
			 "name", "Subobject", "type", "string", "format", "", "description", "The subobject that this event is about.", "priority", 1,
			 "name", "Source", "type", "string", "format", "", "description", "The component reporting this event.", "priority", 1,
			 "name", "Message", "type", "string", "format", "", "description", "A human-readable description of the status of this operation.", "priority", 0,
			 "name", "First Seen", "type", "string", "format", "", "description", "The time at which the event was first recorded.", "priority", 1,
			 "name", "Count", "type", "integer", "format", "", "description", "The number of times this event has occurred.", "priority", 1,
			 "name", "Name", "type", "string", "format", "name", "description", "Name of the event.", "priority", 1);
	return json_pack("{s:s, s:s, s:{s:s}, s:o, s:o}", "kind", "Table", "apiVersion",
			 "meta.k8s.io/v1", "metadata", "resourceVersion", rv, "columnDefinitions",
			 cols, "rows", rows);
}

enum MHD_Result api_events(struct api_req *r, const char *ns, const char *name)
{
	struct collect c = { .want = name };
	struct api_filter f = { 0 };
	enum MHD_Result ret;
	const char *verb;
	int64_t rev;
	char rv[32];
	int err;

	if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
		return api_method_not_allowed(r);
	verb = name ? "get" : api_arg_true(r, "watch") ? "watch" : "list";
	if (!api_allowed(r, verb, "", "events", ns, name, &ret))
		return ret;
	if (!strcmp(verb, "watch"))
		return api_watch(r, "events", ns);
	/* labelSelector (an event has no labels) and fieldSelector
	 * (metadata.name, metadata.namespace) applied; any other field, as
	 * involvedObject.name, refused, never ignored */
	if (!name && api_filter_parse(r, &f, "events", &ret))
		return ret;
	c.f = &f;
	c.items = json_array();
	if (!c.items) {
		api_filter_release(&f);
		return api_status(r, 500, "InternalError", NULL, "out of memory");
	}
	if ((err = api_db_revision(r->db, &rev)) ||
	    (err = store_events(r->db->st, ns, collect_one, &c)) || (err = c.err)) {
		ret = api_store_error(r, err, store_errmsg(r->db->st), "events", "Event", name ? name : "");
		goto out;
	}
	snprintf(rv, sizeof(rv), "%lld", (long long)rev);
	if (name) {
		json_t *e = json_array_get(c.items, 0);

		if (!e) {
			ret = api_not_found(r, "events", name);
			goto out;
		}
		if (r->table) {
			ret = api_reply(r, 200, api_table_events(c.items, rv, time(NULL)));
			goto out;
		}
		ret = api_reply(r, 200, json_incref(e));
		goto out;
	}
	if (r->table)
		ret = api_reply(r, 200, api_table_events(c.items, rv, time(NULL)));
	else
		ret = api_reply(r, 200, json_pack("{s:s, s:s, s:{s:s}, s:O}", "kind", "EventList",
						  "apiVersion", "v1", "metadata", "resourceVersion",
						  rv, "items", c.items));
out:
	api_filter_release(&f);
	json_decref(c.items);
	return ret;
}
