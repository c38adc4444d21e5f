/*
 * get.c - get secrets, describe secret and get events: read-only views of
 * the store, in kubectl's columns or as objects.
 */
#include <ctype.h>
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

int cmd_get_secrets(struct ctx *c)
{
	bool jsonpath = c->output && !strncmp(c->output, "jsonpath=", 9);
	bool structured = output_is(c, "json") || output_is(c, "yaml") || jsonpath;
	struct store_secret **v = NULL;
	size_t n = 0;
	int missing, ret = 0;
	int64_t now = time(NULL);

	if (check_output(c, "json,yaml,name,wide,jsonpath=...") || open_store(c))
		return 1;
	if (load_secrets(c, &v, &n, &missing))
		return 1;
	if (structured) {
		json_t *items = json_array(), *obj;

		/* values one secret at a time: each lives in locked memory */
		for (size_t i = 0; items && i < n && !ret; i++) {
			struct store_secret *full;

			if (store_secret_get(c->st, v[i]->namespace, v[i]->name, STORE_WITH_VALUES,
					     &full)) {
				ret = die_msg("%s", store_errmsg(c->st));
				break;
			}
			json_array_append_new(items, secret_to_json(full));
			store_secret_free(full);
		}
		obj = ret ? NULL : c->nargs == 1 && n == 1 ? json_incref(json_array_get(items, 0)) :
		      !missing ? list_to_json(json_incref(items)) : NULL;
		if (obj && jsonpath) {
			char err[STORE_ERRMSG_MAX];

			if (jsonpath_print(obj, c->output + 9, err, sizeof(err)))
				ret = die_msg("%s", err);
			json_decref(obj);
		} else if (obj) {
			ret = print_object(c, obj);
		}
		json_decref(items);
	} else if (output_is(c, "name")) {
		for (size_t i = 0; i < n; i++)
			printf("secret/%s\n", v[i]->name);
	} else if (n == 0 && !missing) {
		if (c->all_ns)
			fprintf(stderr, "No resources found\n");
		else
			fprintf(stderr, "No resources found in %s namespace.\n", ns_of(c));
	} else if (n) {
		struct table t;
		char age[32];

		table_init(&t, (c->all_ns ? 5 : 4) + c->nlabel_cols + c->show_labels);
		if (c->all_ns)
			table_add(&t, "NAMESPACE");
		table_add(&t, "NAME");
		table_add(&t, "TYPE");
		table_add(&t, "DATA");
		table_add(&t, "AGE");
		for (size_t j = 0; j < c->nlabel_cols; j++) { /* kubectl: the name part, in capitals */
			const char *slash = strrchr(c->label_cols[j], '/');
			char head[STORE_MAX_LABEL + 1];

			snprintf(head, sizeof(head), "%s", slash ? slash + 1 : c->label_cols[j]);
			for (char *h = head; *h; h++)
				*h = (char)toupper((unsigned char)*h);
			table_add(&t, head);
		}
		if (c->show_labels)
			table_add(&t, "LABELS");
		for (size_t i = 0; i < n; i++) {
			if (c->all_ns)
				table_add(&t, v[i]->namespace);
			table_add(&t, v[i]->name);
			table_add(&t, v[i]->type);
			table_addf(&t, "%zu", v[i]->nitems);
			human_age(age, sizeof(age), v[i]->created, now);
			table_add(&t, age);
			for (size_t j = 0; j < c->nlabel_cols; j++) {
				const char *val = pair_value(v[i], &label_kind, c->label_cols[j]);

				table_add(&t, val ? val : "");
			}
			if (c->show_labels)
				show_labels(&t, v[i]);
		}
		table_print(&t);
		table_release(&t);
	}
	store_secret_list_free(v, n);
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
