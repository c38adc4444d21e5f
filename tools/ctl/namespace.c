/*
 * namespace.c - create namespace, get namespaces, delete namespace.
 */
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
	if (c->cl ? cluster_ns_create(c->cl, c->st, c->args[0]) : store_ns_create(c->st, c->args[0]))
		return die_msg("%s", write_errmsg(c));
	printf("namespace/%s created\n", c->args[0]);
	return 0;
}

struct ns_rows {
	const struct ctx *c;
	struct table t;
	json_t *items;
	char **want;
	int nwant;
	bool *found;
	int64_t now;
	size_t count;
};

static int ns_row(void *arg, const char *name, const struct store_stat *s)
{
	struct ns_rows *r = arg;
	char age[32];
	int i;

	for (i = 0; i < r->nwant; i++)
		if (strcmp(r->want[i], name) == 0)
			break;
	if (r->nwant && i == r->nwant)
		return 0;
	if (r->nwant)
		r->found[i] = true;
	r->count++;
	if (output_is(r->c, "json") || output_is(r->c, "yaml")) {
		json_array_append_new(r->items, namespace_to_json(name, s->created));
	} else if (output_is(r->c, "name")) {
		printf("namespace/%s\n", name);
	} else {
		human_age(age, sizeof(age), s->created, r->now);
		table_add(&r->t, name);
		table_add(&r->t, "Active");
		table_add(&r->t, age);
	}
	return 0;
}

int cmd_get_namespaces(struct ctx *c)
{
	struct ns_rows r = { .c = c, .want = c->args, .nwant = c->nargs,
			     .now = time(NULL) };
	int ret = 0;

	if (check_output(c, "json,yaml,name,wide") || open_store(c))
		return 1;
	r.found = calloc((size_t)c->nargs + 1, sizeof(bool));
	r.items = json_array();
	if (!r.found || !r.items)
		return die_msg("out of memory");
	table_init(&r.t, 3);
	table_add(&r.t, "NAME");
	table_add(&r.t, "STATUS");
	table_add(&r.t, "AGE");
	if (store_ns_each(c->st, ns_row, &r)) {
		ret = die_msg("%s", store_errmsg(c->st));
		goto out;
	}
	for (int i = 0; i < c->nargs; i++)
		if (!r.found[i])
			ret = die_msg("namespace \"%s\" not found", c->args[i]);
	if (output_is(c, "json") || output_is(c, "yaml")) {
		if (c->nargs == 1 && r.count == 1) {
			json_t *one = json_incref(json_array_get(r.items, 0));

			ret |= print_object(c, one);
		} else if (!ret) {
			ret = print_object(c, list_to_json(json_incref(r.items)));
		}
	} else if (!output_is(c, "name") && r.count) {
		table_print(&r.t);
	}
out:
	table_release(&r.t);
	json_decref(r.items);
	free(r.found);
	return ret;
}

int cmd_delete_namespace(struct ctx *c)
{
	int ret = 0;

	if (c->nargs < 1)
		return die_msg("at least one NAME is required");
	if (open_store(c))
		return 1;
	for (int i = 0; i < c->nargs; i++) {
		if (c->cl ? cluster_ns_delete(c->cl, c->st, c->args[i]) :
		    store_ns_delete(c->st, c->args[i]))
			ret = die_msg("%s", write_errmsg(c));
		else
			printf("namespace \"%s\" deleted\n", c->args[i]);
	}
	return ret;
}
