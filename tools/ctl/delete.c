/*
 * delete.c - delete secret, by name or by label selector.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

int cmd_delete_secret(struct ctx *c)
{
	int ret = 0;

	if (c->selector) {
		struct store_secret **v = NULL;
		size_t n = 0;
		int missing;

		if (open_store(c) || load_secrets(c, &v, &n, &missing))
			return 1;
		if (n == 0)
			fprintf(stderr, "No resources found\n");
		for (size_t i = 0; i < n; i++) {
			if (write_delete(c, v[i]->namespace, v[i]->name))
				ret = die_msg("%s", write_errmsg(c));
			else
				printf("secret \"%s\" deleted\n", v[i]->name);
		}
		store_secret_list_free(v, n);
		return ret;
	}
	if (c->nargs < 1)
		return die_msg("at least one NAME (or -l SELECTOR) is required");
	if (open_store(c))
		return 1;
	for (int i = 0; i < c->nargs; i++) {
		if (write_delete(c, ns_of(c), c->args[i]))
			ret = die_msg("%s", write_errmsg(c));
		else
			printf("secret \"%s\" deleted\n", c->args[i]);
	}
	return ret;
}
