/*
 * namespace.c - create namespace, get namespaces, delete namespace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

int cmd_create_namespace(struct ctx *c)
{
	if (c->nargs != 1)
		return die_msg("exactly one NAME is required, got %d", c->nargs);
	if (open_store(c))
		return 1;
	if (store_writer_ns_create(c->w, c->args[0]))
		return die_msg("%s", write_errmsg(c));
	printf("namespace/%s created\n", c->args[0]);
	return 0;
}

struct ns_list {
	char **names;
	int64_t *created;
	size_t n;
};

static int ns_collect(void *arg, const char *name, const struct store_stat *s)
{
	struct ns_list *l = arg;
	char **names = realloc(l->names, (l->n + 1) * sizeof(*names));
	int64_t *created;

	if (!names)
		return -ENOMEM;
	l->names = names;
	created = realloc(l->created, (l->n + 1) * sizeof(*created));
	if (!created)
		return -ENOMEM;
	l->created = created;
	if (!(names[l->n] = strdup(name)))
		return -ENOMEM;
	created[l->n++] = s->created;
	return 0;
}

static void ns_list_release(struct ns_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->created);
}

/* NAME STATUS AGE (EVENT first in a watch with --output-watch-events), or
 * custom-columns. */
static void ns_row(const struct ctx *c, const struct printer *p, struct table *t, bool head,
		   const char *name, int64_t created, const json_t *obj, const char *event)
{
	bool events = c->watch_events && (c->watch || c->watch_only);
	char age[32];

	if (head) {
		if (events)
			table_add(t, "EVENT");
		if (p->kind == PRINT_COLUMNS) {
			printer_columns_head(p, t);
		} else {
			table_add(t, "NAME");
			table_add(t, "STATUS");
			table_add(t, "AGE");
		}
	}
	if (!name)
		return;
	if (events)
		table_add(t, event);
	if (p->kind == PRINT_COLUMNS) {
		printer_columns_row(p, obj, t);
		return;
	}
	human_age(age, sizeof(age), created, time(NULL));
	table_add(t, name);
	table_add(t, "Active");
	table_add(t, age);
}

struct ns_watch {
	struct ctx *c;
	const struct printer *p;
	struct ns_list seen;
	struct tw tw;
	size_t printed;
};

static int ns_emit(struct ns_watch *w, const char *name, int64_t created, const char *event)
{
	const struct printer *p = w->p;
	json_t *obj = namespace_to_json(name, created), *ev;
	int ret = 0;

	if (!obj)
		return die_msg("out of memory");
	if (p->kind == PRINT_NAME) {
		printf("namespace/%s\n", name);
	} else if (p->kind == PRINT_TABLE || p->kind == PRINT_WIDE || p->kind == PRINT_COLUMNS) {
		struct table t;

		table_init(&t, (p->kind == PRINT_COLUMNS ? p->ncols : 3) +
				       (w->c->watch_events ? 1 : 0));
		ns_row(w->c, p, &t, !w->printed && !w->c->no_headers, name, created, obj, event);
		tw_print(&w->tw, &t, 0);
		table_release(&t);
	} else {
		ev = w->c->watch_events ? json_pack("{s:s, s:O}", "type", event, "object", obj) :
					  json_incref(obj);
		if (w->printed && p->kind == PRINT_YAML)
			fputs("---\n", stdout);
		ret = ev ? printer_object(p, ev) : die_msg("out of memory");
		json_decref(ev);
	}
	json_decref(obj);
	w->printed++;
	fflush(stdout);
	return ret;
}

static int ns_change(void *arg, const struct store_change *ch)
{
	struct ns_watch *w = arg;
	size_t i;

	if (ch->name || (w->c->nargs && strcmp(ch->namespace, w->c->args[0]) != 0))
		return 0;
	for (i = 0; i < w->seen.n && strcmp(w->seen.names[i], ch->namespace); i++)
		;
	if (ch->op == STORE_OP_NS_CREATE) {
		if (i < w->seen.n)
			return 0;
		if (ns_collect(&w->seen, ch->namespace, &(struct store_stat){ .created = ch->time }))
			return die_msg("out of memory");
		return ns_emit(w, ch->namespace, ch->time, "ADDED");
	}
	if (ch->op != STORE_OP_NS_DELETE || i == w->seen.n)
		return 0;
	int ret = ns_emit(w, ch->namespace, w->seen.created[i], "DELETED");

	free(w->seen.names[i]);
	w->seen.names[i] = w->seen.names[--w->seen.n];
	w->seen.created[i] = w->seen.created[w->seen.n];
	return ret;
}

int cmd_get_namespaces(struct ctx *c)
{
	struct printer p;
	struct ns_list all = { 0 }, l = { 0 };
	json_t **objs = NULL;
	size_t *order = NULL;
	int64_t since = 0;
	bool watching = c->watch || c->watch_only;
	int ret = 1, missing = 0;

	if (printer_init(&p, c))
		return 1;
	if (watching && c->nargs > 1) {
		die_msg("watch is only supported on individual resources and resource collections, but %d resources were found",
			c->nargs);
		goto out;
	}
	if (open_store(c))
		goto out;
	if (watching && store_revision(c->st, &since)) {
		die_msg("%s", store_errmsg(c->st));
		goto out;
	}
	if (store_ns_each(c->st, ns_collect, &all)) {
		die_msg("%s", store_errmsg(c->st));
		goto out;
	}
	/* the names asked for, in their order, else all */
	for (int k = 0; k < (c->nargs ? c->nargs : 1); k++) {
		for (size_t i = 0; i < all.n; i++) {
			if (c->nargs && strcmp(all.names[i], c->args[k]))
				continue;
			if (ns_collect(&l, all.names[i], &(struct store_stat){ .created = all.created[i] })) {
				die_msg("out of memory");
				goto out;
			}
			if (c->nargs)
				break;
		}
		if (c->nargs && (!l.n || strcmp(l.names[l.n - 1], c->args[k]))) {
			missing++;
			if (!c->ignore_not_found)
				die_msg("namespace \"%s\" not found", c->args[k]);
		}
	}
	if (c->ignore_not_found)
		missing = 0;
	if (watching && missing)
		goto out; /* kubectl does not watch what is not there */
	objs = calloc(l.n + 1, sizeof(*objs));
	order = calloc(l.n + 1, sizeof(*order));
	if (!objs || !order) {
		die_msg("out of memory");
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		order[i] = i;
		if (!(objs[i] = namespace_to_json(l.names[i], l.created[i]))) {
			die_msg("out of memory");
			goto out;
		}
	}
	if (p.sort && printer_sort(&p, objs, l.n, order))
		goto out;
	ret = 0;
	if (watching) {
		struct ns_watch w = { .c = c, .p = &p };

		if (!c->watch_only && l.n && (p.kind == PRINT_TABLE || p.kind == PRINT_WIDE ||
					      p.kind == PRINT_COLUMNS)) {
			/* the listing as one table; the changes' rows keep its widths */
			struct table t;

			table_init(&t, (p.kind == PRINT_COLUMNS ? p.ncols : 3) + (c->watch_events ? 1 : 0));
			for (size_t i = 0; i < l.n; i++)
				ns_row(c, &p, &t, i == 0 && !c->no_headers, l.names[order[i]],
				       l.created[order[i]], objs[order[i]], "ADDED");
			tw_print(&w.tw, &t, 0);
			table_release(&t);
			w.printed = l.n;
		}
		for (size_t i = 0; i < l.n && !ret; i++) {
			size_t k = order[i];

			if (!c->watch_only && !w.printed)
				ret = ns_emit(&w, l.names[k], l.created[k], "ADDED");
			if (!ret && ns_collect(&w.seen, l.names[k], &(struct store_stat){ .created = l.created[k] }))
				ret = die_msg("out of memory");
		}
		if (!ret)
			ret = watch_follow(c, since, ns_change, &w);
		ns_list_release(&w.seen);
		goto out;
	}
	if (p.kind == PRINT_NAME) {
		for (size_t i = 0; i < l.n; i++)
			printf("namespace/%s\n", l.names[order[i]]);
	} else if (l.n == 0 && p.kind != PRINT_TABLE && p.kind != PRINT_WIDE &&
		   (c->ignore_not_found || c->nargs == 1)) {
		/* kubectl's printGeneric: nothing found and nothing to list */
	} else if (p.kind != PRINT_TABLE && p.kind != PRINT_WIDE && p.kind != PRINT_COLUMNS) {
		json_t *items = json_array(), *obj = NULL;

		for (size_t i = 0; items && i < l.n; i++)
			json_array_append(items, objs[order[i]]);
		if (!items)
			ret = die_msg("out of memory");
		else if (c->nargs == 1 && l.n == 1)
			obj = json_incref(json_array_get(items, 0));
		else
			obj = list_to_json(json_incref(items));
		if (obj)
			ret = printer_object(&p, obj);
		json_decref(obj);
		json_decref(items);
	} else if (l.n || p.kind == PRINT_COLUMNS) {
		struct table t;
		struct tw tw = { { 0 } };

		table_init(&t, p.kind == PRINT_COLUMNS ? p.ncols : 3);
		if (!c->no_headers)
			ns_row(c, &p, &t, true, NULL, 0, NULL, NULL);
		for (size_t i = 0; i < l.n; i++)
			ns_row(c, &p, &t, false, l.names[order[i]], l.created[order[i]], objs[order[i]],
			       "ADDED");
		if (t.ncells)
			tw_print(&tw, &t, 0);
		table_release(&t);
	} else if (!missing && !c->ignore_not_found) {
		fprintf(stderr, "No resources found\n");
	}
out:
	for (size_t i = 0; objs && i < l.n; i++)
		json_decref(objs[i]);
	free(objs);
	free(order);
	ns_list_release(&all);
	ns_list_release(&l);
	printer_release(&p);
	return ret || missing;
}

int cmd_delete_namespace(struct ctx *c)
{
	int ret = 0;

	if (c->nargs < 1)
		return die_msg("at least one NAME is required");
	if (open_store(c))
		return 1;
	for (int i = 0; i < c->nargs; i++) {
		int err = store_writer_ns_delete(c->w, c->args[i]);

		if (err == -ENOENT && c->ignore_not_found)
			continue;
		if (err)
			ret = die_msg("%s", write_errmsg(c));
		else
			printf("namespace \"%s\" deleted\n", c->args[i]);
	}
	return ret;
}
