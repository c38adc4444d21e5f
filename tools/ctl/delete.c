/*
 * delete.c - delete secret, by name or by label selector.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

/*
 * As kubectl lets a secret a running pod uses be deleted, so do we; but say
 * which running views require it (from the daemons' status files): they
 * keep running without it.  On stderr, once it is deleted.
 */
static void warn_required(const struct ctx *c, const char *ns, const char *name)
{
	char *views = status_views_requiring(c, ns, name);

	if (views)
		fprintf(stderr, "Warning: secret \"%s\" in namespace \"%s\" was required by running view%s %s\n",
			name, ns, strchr(views, ',') ? "s" : "", views);
	free(views);
}

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
			if (write_delete(c, v[i]->namespace, v[i]->name)) {
				ret = die_msg("%s", write_errmsg(c));
				continue;
			}
			warn_required(c, v[i]->namespace, v[i]->name);
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
		if (write_delete(c, ns_of(c), c->args[i])) {
			ret = die_msg("%s", write_errmsg(c));
			continue;
		}
		warn_required(c, ns_of(c), c->args[i]);
		printf("secret \"%s\" deleted\n", c->args[i]);
	}
	return ret;
}
