/*
 * delete.c - delete secret: by name, or every secret a label selector, a
 * field selector or --all picks (in the namespace, or with -A in all), with
 * kubectl's messages and its --ignore-not-found.
 */
#include <errno.h>
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

/* Every secret that -l, --field-selector or --all picks. */
static int delete_selected(struct ctx *c)
{
	struct field_selector *fs = NULL;
	struct store_secret **v = NULL;
	char why[STORE_ERRMSG_MAX];
	size_t n = 0, done = 0;
	int missing, ret = 0;

	if (c->field_selector && field_selector_parse(&fs, c->field_selector, why, sizeof(why)))
		return die_msg("%s", why);
	if (open_store(c) || load_secrets(c, &v, &n, &missing)) {
		field_selector_free(fs);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!field_selector_match(fs, v[i]->namespace, v[i]->name, v[i]->type))
			continue;
		done++;
		int err = write_delete(c, v[i]->namespace, v[i]->name);

		/* deleted meanwhile by someone else: what we were asked for holds */
		if (err == -ENOENT)
			continue;
		if (err) {
			ret = die_msg("%s", write_errmsg(c));
			continue;
		}
		warn_required(c, v[i]->namespace, v[i]->name);
		printf("secret \"%s\" deleted\n", v[i]->name);
	}
	if (done == 0)
		fprintf(stderr, "No resources found\n");
	store_secret_list_free(v, n);
	field_selector_free(fs);
	return ret;
}

int cmd_delete_secret(struct ctx *c)
{
	int ret = 0;

	/* kubectl's words */
	if (c->all && c->selector)
		return die_msg("cannot set --all and --selector at the same time");
	if (c->all && c->field_selector)
		return die_msg("cannot set --all and --field-selector at the same time");
	if (c->all && c->nargs)
		return die_msg("--all cannot be combined with NAMEs");
	if (c->all || c->selector || c->field_selector)
		return delete_selected(c);
	if (c->all_ns)
		return die_msg("a resource cannot be retrieved by name across all namespaces");
	if (c->nargs < 1)
		return die_msg("at least one NAME (or -l SELECTOR, --field-selector or --all) is required");
	if (open_store(c))
		return 1;
	for (int i = 0; i < c->nargs; i++) {
		int err = write_delete(c, ns_of(c), c->args[i]);

		if (err == -ENOENT && c->ignore_not_found)
			continue;
		if (err) {
			ret = die_msg("%s", write_errmsg(c));
			continue;
		}
		warn_required(c, ns_of(c), c->args[i]);
		printf("secret \"%s\" deleted\n", c->args[i]);
	}
	return ret;
}
