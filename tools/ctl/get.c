/*
 * get.c - get secrets, describe secret and get events: read-only views of
 * the store, in kubectl's columns or as objects.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

static void show_labels(struct table *t, const struct store_secret *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		table_add(t, "?");
		return;
	}
	for (size_t i = 0; i < s->nlabels; i++)
		fprintf(f, "%s%s=%s", i ? "," : "", s->labels[i].key, s->labels[i].value);
	fclose(f);
	table_add(t, s->nlabels ? buf : "<none>");
	free(buf);
}

/* The columns of get secrets: EVENT (with --output-watch-events), then
 * custom-columns, or NAMESPACE (with -A) NAME TYPE DATA AGE and the label
 * columns. */
static size_t secret_ncols(const struct ctx *c, const struct printer *p)
{
	size_t n = p->kind == PRINT_COLUMNS ? p->ncols :
		   (c->all_ns ? 5 : 4) + c->nlabel_cols + c->show_labels;

	return n + (c->watch_events && (c->watch || c->watch_only));
}

static void secret_head(const struct ctx *c, const struct printer *p, struct table *t)
{
	if (c->watch_events && (c->watch || c->watch_only))
		table_add(t, "EVENT");
	if (p->kind == PRINT_COLUMNS) {
		printer_columns_head(p, t);
		return;
	}
	if (c->all_ns)
		table_add(t, "NAMESPACE");
	table_add(t, "NAME");
	table_add(t, "TYPE");
	table_add(t, "DATA");
	table_add(t, "AGE");
	for (size_t j = 0; j < c->nlabel_cols; j++) { /* kubectl: the name part, in capitals */
		const char *slash = strrchr(c->label_cols[j], '/');
		char head[STORE_MAX_LABEL + 1];

		snprintf(head, sizeof(head), "%s", slash ? slash + 1 : c->label_cols[j]);
		for (char *h = head; *h; h++)
			*h = (char)toupper((unsigned char)*h);
		table_add(t, head);
	}
	if (c->show_labels)
		table_add(t, "LABELS");
}

static int secret_row(const struct ctx *c, const struct printer *p, struct table *t,
		      const struct store_secret *s, const json_t *obj, const char *event)
{
	char age[32];

	if (c->watch_events && (c->watch || c->watch_only))
		table_add(t, event);
	if (p->kind == PRINT_COLUMNS)
		return printer_columns_row(p, obj, t);
	if (c->all_ns)
		table_add(t, s->namespace);
	table_add(t, s->name);
	table_add(t, s->type);
	table_addf(t, "%zu", s->nitems);
	human_age(age, sizeof(age), s->created, time(NULL));
	table_add(t, age);
	for (size_t j = 0; j < c->nlabel_cols; j++) {
		const char *val = pair_value(s, &label_kind, c->label_cols[j]);

		table_add(t, val ? val : "");
	}
	if (c->show_labels)
		show_labels(t, s);
	return 0;
}

/* The object of s, values included (read one secret at a time: each
 * lives in locked memory until it is JSON), or NULL after saying why. */
static json_t *secret_object(struct ctx *c, const struct store_secret *s)
{
	struct store_secret *full;
	json_t *obj;

	if (store_secret_get(c->st, s->namespace, s->name, STORE_WITH_VALUES, &full)) {
		die_msg("%s", store_errmsg(c->st));
		return NULL;
	}
	obj = secret_to_json(full);
	store_secret_free(full);
	if (!obj)
		die_msg("out of memory");
	return obj;
}

/* --- get -w: the secrets seen, so that a deletion prints the last state -------- */

struct seen {
	struct store_secret *s;
	json_t *obj;
};

struct get_watch {
	struct ctx *c;
	const struct printer *p;
	struct selector *sel;
	const struct field_selector *fs;
	struct seen *seen;
	size_t nseen;
	struct tw tw;
	size_t printed;            /* objects printed so far (headers, "---") */
};

static struct seen *seen_find(struct get_watch *w, const char *ns, const char *name)
{
	for (size_t i = 0; i < w->nseen; i++)
		if (!strcmp(w->seen[i].s->namespace, ns) && !strcmp(w->seen[i].s->name, name))
			return &w->seen[i];
	return NULL;
}

static void seen_drop(struct get_watch *w, struct seen *e)
{
	store_secret_free(e->s);
	json_decref(e->obj);
	*e = w->seen[--w->nseen];
}

/* Print one object of a watch, as kubectl does: a table row (the header
 * before the first), the object alone, or {"type":..,"object":..}. */
static int watch_emit(struct get_watch *w, const struct store_secret *s, const json_t *obj,
		      const char *event)
{
	const struct ctx *c = w->c;
	const struct printer *p = w->p;
	int ret = 0;

	if (p->kind == PRINT_NAME) {
		printf("secret/%s\n", s->name);
	} else if (p->kind == PRINT_TABLE || p->kind == PRINT_WIDE || p->kind == PRINT_COLUMNS) {
		struct table t;
		bool head = !w->printed && !c->no_headers;

		table_init(&t, secret_ncols(c, p));
		if (head)
			secret_head(c, p, &t);
		ret = secret_row(c, p, &t, s, obj, event);
		if (!ret)
			tw_print(&w->tw, &t, 0);
		table_release(&t);
	} else {
		json_t *ev = c->watch_events ? json_pack("{s:s, s:O}", "type", event, "object", obj) :
				json_incref((json_t *)obj);

		if (!ev)
			return die_msg("out of memory");
		if (w->printed && p->kind == PRINT_YAML)
			fputs("---\n", stdout);
		ret = printer_object(p, ev);
		json_decref(ev);
	}
	w->printed++;
	fflush(stdout);
	return ret;
}

/*
 * One change of the store's log.  As a watch with a selector does, a
 * secret that starts matching is ADDED and one that stops is DELETED.  The
 * secret is read as it is now: changes committed together show its latest
 * state.
 */
static int watch_change(void *arg, const struct store_change *ch)
{
	struct get_watch *w = arg;
	struct ctx *c = w->c;
	struct store_secret *s = NULL;
	struct seen *e;
	json_t *obj = NULL;
	bool match = false;
	int err;

	if (!ch->name || (!c->all_ns && strcmp(ch->namespace, ns_of(c)) != 0) ||
	    (c->nargs && strcmp(ch->name, c->args[0]) != 0))
		return 0;
	e = seen_find(w, ch->namespace, ch->name);
	if (ch->op != STORE_OP_DELETE) {
		err = store_secret_get(c->st, ch->namespace, ch->name, 0, &s);
		if (err && err != -ENOENT)
			return die_msg("%s", store_errmsg(c->st));
		match = s && selector_match(w->sel, s) &&
			field_selector_match(w->fs, s->namespace, s->name, s->type);
	}
	if (match) {
		obj = printer_needs_objects(w->p) ? secret_object(c, s) : NULL;
		if (printer_needs_objects(w->p) && !obj) {
			store_secret_free(s);
			return 1;
		}
		err = watch_emit(w, s, obj, e ? "MODIFIED" : "ADDED");
		if (!e) {
			struct seen *v = realloc(w->seen, (w->nseen + 1) * sizeof(*v));

			if (!v) {
				store_secret_free(s);
				json_decref(obj);
				return die_msg("out of memory");
			}
			w->seen = v;
			e = &v[w->nseen++];
		} else {
			store_secret_free(e->s);
			json_decref(e->obj);
		}
		e->s = s;
		e->obj = obj;
		return err;
	}
	store_secret_free(s);
	if (!e)
		return 0;
	err = watch_emit(w, e->s, e->obj, "DELETED");
	seen_drop(w, e);
	return err;
}

int cmd_get_secrets(struct ctx *c)
{
	struct printer p;
	struct field_selector *fs = NULL;
	struct selector *sel = NULL;
	struct store_secret **v = NULL;
	json_t **objs = NULL;
	size_t n = 0, kept = 0, *order = NULL;
	int missing = 0, ret = 1;
	int64_t since = 0;
	bool watching = c->watch || c->watch_only;
	char err[STORE_ERRMSG_MAX];

	if (printer_init(&p, c))
		return 1;
	if (c->field_selector && field_selector_parse(&fs, c->field_selector, err, sizeof(err))) {
		die_msg("%s", err);
		goto out;
	}
	if (watching && c->nargs > 1) {
		die_msg("watch is only supported on individual resources and resource collections, but %d resources were found",
			c->nargs);
		goto out;
	}
	if (open_store(c))
		goto out;
	/* the revision first: a change committed while we list is printed again, never lost */
	if (watching && store_revision(c->st, &since)) {
		die_msg("%s", store_errmsg(c->st));
		goto out;
	}
	if (load_secrets(c, &v, &n, &missing))
		goto out;
	if (c->ignore_not_found)
		missing = 0;
	if (watching && missing)
		goto out; /* kubectl does not watch what is not there */
	for (size_t i = 0; i < n; i++) {
		if (field_selector_match(fs, v[i]->namespace, v[i]->name, v[i]->type))
			v[kept++] = v[i];
		else
			store_secret_free(v[i]);
	}
	n = kept;
	objs = calloc(n + 1, sizeof(*objs));
	order = calloc(n + 1, sizeof(*order));
	if (!objs || !order) {
		die_msg("out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		order[i] = i;
		if (printer_needs_objects(&p) && !(objs[i] = secret_object(c, v[i])))
			goto out;
	}
	if (p.sort && printer_sort(&p, objs, n, order))
		goto out;
	ret = 0;
	if (watching) {
		struct get_watch w = { .c = c, .p = &p, .fs = fs };

		if (c->selector && selector_parse(&sel, c->selector, err, sizeof(err))) {
			ret = die_msg("%s", err);
			goto out;
		}
		w.sel = sel;
		w.seen = calloc(n + 1, sizeof(*w.seen));
		if (!w.seen) {
			ret = die_msg("out of memory");
			goto out;
		}
		if (!c->watch_only && n && (p.kind == PRINT_TABLE || p.kind == PRINT_WIDE ||
					    p.kind == PRINT_COLUMNS)) {
			/* the listing as one table; the changes' rows keep its widths */
			struct table t;

			table_init(&t, secret_ncols(c, &p));
			if (!c->no_headers)
				secret_head(c, &p, &t);
			for (size_t i = 0; i < n && !ret; i++)
				ret = secret_row(c, &p, &t, v[order[i]], objs[order[i]], "ADDED");
			if (!ret)
				tw_print(&w.tw, &t, 0);
			table_release(&t);
			w.printed = n;
		}
		for (size_t i = 0; i < n && !ret; i++) {
			size_t k = order[i];

			if (!c->watch_only && !w.printed)
				ret = watch_emit(&w, v[k], objs[k], "ADDED");
			w.seen[w.nseen++] = (struct seen){ v[k], objs[k] };
			v[k] = NULL;
			objs[k] = NULL;
		}
		if (!ret)
			ret = watch_follow(c, since, watch_change, &w);
		for (size_t i = 0; i < w.nseen; i++) {
			store_secret_free(w.seen[i].s);
			json_decref(w.seen[i].obj);
		}
		free(w.seen);
		goto out;
	}
	if (p.kind == PRINT_NAME) {
		for (size_t i = 0; i < n; i++)
			printf("secret/%s\n", v[order[i]]->name);
	} else if (n == 0 && p.kind != PRINT_TABLE && p.kind != PRINT_WIDE &&
		   (c->ignore_not_found || c->nargs == 1)) {
		/* kubectl's printGeneric: nothing found and nothing to list */
	} else if (printer_needs_objects(&p) && p.kind != PRINT_TABLE && p.kind != PRINT_WIDE &&
		   p.kind != PRINT_COLUMNS) {
		/* one object when one NAME was asked for, else a List of those
		 * found (kubectl's printGeneric); the missing ones' errors said so */
		json_t *items = json_array(), *obj = NULL;

		for (size_t i = 0; items && i < n; i++)
			json_array_append(items, objs[order[i]]);
		if (!items)
			ret = die_msg("out of memory");
		else if (c->nargs == 1 && n == 1)
			obj = json_incref(json_array_get(items, 0));
		else if (c->nargs != 1)
			obj = list_to_json(json_incref(items));
		if (obj)
			ret = printer_object(&p, obj);
		json_decref(obj);
		json_decref(items);
	} else if (n == 0 && !missing && !c->ignore_not_found && p.kind != PRINT_COLUMNS) {
		if (c->all_ns)
			fprintf(stderr, "No resources found\n");
		else
			fprintf(stderr, "No resources found in %s namespace.\n", ns_of(c));
	} else if (n || p.kind == PRINT_COLUMNS) {
		struct table t;
		struct tw tw = { { 0 } };

		table_init(&t, secret_ncols(c, &p));
		if (!c->no_headers)
			secret_head(c, &p, &t);
		for (size_t i = 0; i < n && !ret; i++)
			ret = secret_row(c, &p, &t, v[order[i]], objs[order[i]], "ADDED");
		if (!ret && t.ncells)
			tw_print(&tw, &t, 0);
		table_release(&t);
	}
out:
	for (size_t i = 0; objs && i < n; i++)
		json_decref(objs[i]);
	free(objs);
	free(order);
	store_secret_list_free(v, n);
	selector_free(sel);
	field_selector_free(fs);
	printer_release(&p);
	return ret || missing;
}

/* kubectl describe leaves out its own last-applied annotation (a copy of
 * the object), and so do we. */
static void describe_pairs(const char *title, const struct store_pair *p, size_t n)
{
	bool first = true;

	printf("%-14s", title);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(p[i].key, KUBE_LAST_APPLIED))
			continue;
		printf("%s%s=%s\n", first ? "" : "              ", p[i].key, p[i].value);
		first = false;
	}
	if (first)
		printf("<none>\n");
}

int cmd_describe_secret(struct ctx *c)
{
	struct store_secret **v = NULL;
	size_t n = 0;
	int missing;

	if (open_store(c))
		return 1;
	if (load_secrets(c, &v, &n, &missing))
		return 1;
	for (size_t i = 0; i < n; i++) {
		const struct store_secret *s = v[i];

		if (i)
			printf("\n\n");
		printf("%-14s%s\n", "Name:", s->name);
		printf("%-14s%s\n", "Namespace:", s->namespace);
		describe_pairs("Labels:", s->labels, s->nlabels);
		describe_pairs("Annotations:", s->annotations, s->nannotations);
		printf("\nType:  %s\n", s->type);
		if (s->immutable)
			printf("Immutable:  true\n");
		printf("\nData\n====\n");
		int width = 0;

		for (size_t j = 0; j < s->nitems; j++)
			if ((int)strlen(s->items[j].key) > width)
				width = (int)strlen(s->items[j].key);
		for (size_t j = 0; j < s->nitems; j++)
			printf("%s:%*s%zu bytes\n", s->items[j].key,
			       width - (int)strlen(s->items[j].key) + 2, "",
			       s->items[j].len);
	}
	if (n == 0 && !missing && c->nargs == 0)
		fprintf(stderr, "No resources found in %s namespace.\n", ns_of(c));
	store_secret_list_free(v, n);
	return missing ? 1 : 0;
}

struct event_rows {
	const struct ctx *c;
	struct table t;
	int64_t now;
	size_t n;
};

static int event_row(void *arg, const struct store_event *ev)
{
	struct event_rows *r = arg;
	char age[32];

	human_age(age, sizeof(age), ev->time, r->now);
	if (r->c->all_ns)
		table_add(&r->t, ev->namespace);
	table_add(&r->t, age);
	table_add(&r->t, ev->type);
	table_add(&r->t, ev->reason);
	table_add(&r->t, ev->object);
	table_add(&r->t, ev->message);
	r->n++;
	return 0;
}

int cmd_get_events(struct ctx *c)
{
	struct event_rows r = { .c = c, .now = time(NULL) };

	if (open_store(c))
		return 1;
	table_init(&r.t, c->all_ns ? 6 : 5);
	if (c->all_ns)
		table_add(&r.t, "NAMESPACE");
	table_add(&r.t, "LAST SEEN");
	table_add(&r.t, "TYPE");
	table_add(&r.t, "REASON");
	table_add(&r.t, "OBJECT");
	table_add(&r.t, "MESSAGE");
	if (store_events(c->st, c->all_ns ? NULL : ns_of(c), event_row, &r)) {
		table_release(&r.t);
		return die_msg("%s", store_errmsg(c->st));
	}
	if (r.n)
		table_print(&r.t);
	else if (c->all_ns)
		fprintf(stderr, "No resources found\n");
	else
		fprintf(stderr, "No resources found in %s namespace.\n", ns_of(c));
	table_release(&r.t);
	return 0;
}
