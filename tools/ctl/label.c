/*
 * label.c - label and annotate: one command on either map, with kubectl's
 * rules for --overwrite, KEY- removals, --list and its messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

/* How big the map would be in the object's JSON: kubectl says "unlabeled"
 * when a change without --overwrite made it smaller. */
static size_t pairs_weight(const struct store_secret *s, const struct pair_kind *k)
{
	size_t n, w = 0;
	const struct store_pair *p = pairs_of(s, k, &n);

	for (size_t i = 0; i < n; i++)
		w += strlen(p[i].key) + strlen(p[i].value) + 6;
	return w;
}

/* One change on the command line: KEY=VALUE sets, KEY- removes. */
struct pair_change {
	char *key;
	const char *value; /* NULL: remove */
};

/*
 * Split the arguments as kubectl does: a word with '=' or a trailing '-'
 * is a change, any other a secret's name (names have neither).  The
 * changes go to *ch (later ones win), the names stay at the front of
 * c->args.  1 after an error was printed.
 */
static int parse_changes(struct ctx *c, const struct pair_kind *k,
			 struct pair_change **ch, size_t *nch)
{
	char why[STORE_ERRMSG_MAX];
	int names = 0;

	*ch = calloc((size_t)c->nargs + 1, sizeof(**ch));
	*nch = 0;
	if (!*ch)
		return die_msg("out of memory");
	for (int i = 0; i < c->nargs; i++) {
		const char *a = c->args[i], *eq = strchr(a, '=');
		size_t len = strlen(a);
		struct pair_change x;

		if (!eq && (len < 2 || a[len - 1] != '-')) {
			c->args[names++] = c->args[i];
			continue;
		}
		x.key = eq ? strndup(a, (size_t)(eq - a)) : strndup(a, len - 1);
		x.value = eq ? eq + 1 : NULL;
		if (!x.key)
			return die_msg("out of memory");
		if (k->labels && x.value && store_check_label_value(x.value, why)) {
			free(x.key);
			return die_msg("invalid label value: \"%s\": %s", a, why);
		}
		for (size_t j = 0; j < *nch; j++) {
			if (strcmp((*ch)[j].key, x.key) != 0)
				continue;
			if (!(*ch)[j].value != !x.value) {
				if (k->labels)
					die_msg("can not both modify and remove a label in the same command");
				else
					die_msg("can not both modify and remove the following annotation(s) in the same command: %s",
						x.key);
				free(x.key);
				return 1;
			}
			free((*ch)[j].key);
			(*ch)[j] = (*ch)[--*nch]; /* the later one wins */
			break;
		}
		(*ch)[(*nch)++] = x;
	}
	c->nargs = names;
	if (*nch == 0 && !c->list)
		return die_msg("at least one %s update is required", k->noun);
	return 0;
}

static void changes_free(struct pair_change *ch, size_t n)
{
	for (size_t i = 0; ch && i < n; i++)
		free(ch[i].key);
	free(ch);
}

/* kubectl refuses, without --overwrite, to change a value already there. */
static int no_overwrites(const struct ctx *c, const struct pair_kind *k,
			 const struct store_secret *s, const struct pair_change *ch, size_t nch,
			 char *msg, size_t len)
{
	size_t used = 0;

	if (c->overwrite)
		return 0;
	for (size_t i = 0; i < nch; i++) {
		const char *now = ch[i].value ? pair_value(s, k, ch[i].key) : NULL;

		if (!now || strcmp(now, ch[i].value) == 0 ||
		    (!k->labels && strcmp(ch[i].key, "kubernetes.io/change-cause") == 0))
			continue;
		if (k->labels)
			used += (size_t)snprintf(msg + used, used < len ? len - used : 0,
						 "%s'%s' already has a value (%s), and --overwrite is false",
						 used ? ", " : "", ch[i].key, now);
		else
			used += (size_t)snprintf(msg + used, used < len ? len - used : 0,
						 "%s'%s' already has a value (%s)",
						 used ? "; " : "--overwrite is false but found the following declared annotation(s): ",
						 ch[i].key, now);
	}
	return used > 0;
}

/* Print a secret's labels (or annotations) as KEY=VALUE lines. */
static void list_pairs(const struct store_secret *s, const struct pair_kind *k)
{
	size_t n;
	const struct store_pair *p = pairs_of(s, k, &n);

	for (size_t i = 0; i < n; i++)
		printf("%s=%s\n", p[i].key, p[i].value);
}

/*
 * Change one secret's labels or annotations: read it whole, change the map,
 * write it back unless nothing changed, on condition that it has not moved
 * since it was read (or since --resource-version).  *msg gets a refusal.
 */
static int change_pairs(struct ctx *c, const struct pair_kind *k, const char *ns,
			const char *name, const struct pair_change *ch, size_t nch,
			char *msg, size_t len)
{
	struct store_secret *s = NULL;
	size_t before;
	bool changed = false;
	int ret = 0;

	if (store_secret_get(c->st, ns, name, STORE_WITH_VALUES, &s)) {
		snprintf(msg, len, "%s", store_errmsg(c->st));
		return 1;
	}
	if (no_overwrites(c, k, s, ch, nch, msg, len)) {
		store_secret_free(s);
		return 1;
	}
	before = pairs_weight(s, k);
	for (size_t i = 0; i < nch; i++) {
		const char *now = pair_value(s, k, ch[i].key);

		if (!ch[i].value) {
			changed |= k->labels ? store_secret_remove_label(s, ch[i].key) :
					       store_secret_remove_annotation(s, ch[i].key);
		} else if (!now || strcmp(now, ch[i].value) != 0) {
			changed = true;
			if ((k->labels ? store_secret_set_label : store_secret_set_annotation)(
				    s, ch[i].key, ch[i].value)) {
				store_secret_free(s);
				snprintf(msg, len, "out of memory");
				return 1;
			}
		}
	}
	/* the version read is a precondition, as kubectl's resourceVersion:
	 * in cluster mode etcd's */
	if (c->resource_version) {
		char *end;

		s->revision = strtoll(c->resource_version, &end, 10);
		s->etcd_rev = 0;
		if (!*c->resource_version || *end || s->revision <= 0) {
			snprintf(msg, len, "--resource-version: '%s' is not a resource version",
				 c->resource_version);
			store_secret_free(s);
			return 1;
		}
	} else if (c->cl) {
		s->revision = 0; /* s->etcd_rev stays the one read */
	}
	if ((changed || c->resource_version) && !c->dry_run &&
	    write_secret(c, s, STORE_PUT_REPLACE, NULL)) {
		snprintf(msg, len, "%s", write_errmsg(c));
		ret = 1;
	} else if (c->list) {
		list_pairs(s, k);
	} else if (output_is(c, "json") || output_is(c, "yaml")) {
		ret = print_object(c, secret_to_json(s)) ? -1 : 0;
	} else if (output_is(c, "name")) {
		printf("secret/%s\n", name);
	} else {
		const char *what = k->done;

		if (k->labels && !changed)
			what = "not labeled";
		else if (k->labels && !c->overwrite && pairs_weight(s, k) < before)
			what = "unlabeled";
		printf("secret/%s %s%s\n", name, what, dry_run_note(c));
	}
	store_secret_free(s);
	return ret;
}

static int run_pairs(struct ctx *c, const struct pair_kind *k)
{
	struct store_secret **v = NULL;
	struct pair_change *ch = NULL;
	size_t n = 0, nch = 0, failed = 0;
	char (*msgs)[STORE_ERRMSG_MAX] = NULL;
	int missing = 0, ret = 1;

	if (check_output(c, "json,yaml,name") || parse_changes(c, k, &ch, &nch))
		goto out;
	if (c->dry_run_server) {
		die_msg("--dry-run=server: %s checks nothing a client dry run does not; use --dry-run=client",
			k->noun);
		goto out;
	}
	if (c->all && (c->nargs || c->selector)) {
		die_msg("--all cannot be combined with NAMEs or a selector");
		goto out;
	}
	if (!c->nargs && !c->selector && !c->all) {
		die_msg("one or more secret NAMEs, -l SELECTOR or --all is required");
		goto out;
	}
	if (c->all_ns && c->nargs) {
		die_msg("a resource cannot be retrieved by name across all namespaces");
		goto out;
	}
	if (c->resource_version && c->nargs + (c->selector || c->all) != 1) {
		die_msg("--resource-version may only be used with a single secret");
		goto out;
	}
	if (open_store(c) || load_secrets(c, &v, &n, &missing))
		goto out;
	msgs = calloc(n + 1, sizeof(*msgs));
	if (!msgs) {
		die_msg("out of memory");
		goto out;
	}
	if (n == 0 && !missing)
		fprintf(stderr, "No resources found\n");
	for (size_t i = 0; i < n; i++) {
		int r = change_pairs(c, k, v[i]->namespace, v[i]->name, ch, nch,
				     msgs[failed], sizeof(msgs[failed]));

		if (r > 0)
			failed++;
		else if (r < 0)
			goto out;
	}
	/* as kubectl: one refusal as an error, several one per line */
	for (size_t i = 0; i < failed; i++)
		fprintf(stderr, "%s%s\n", failed == 1 ? "error: " : "", msgs[i]);
	ret = failed || missing;
out:
	store_secret_list_free(v, n);
	changes_free(ch, nch);
	free(msgs);
	return ret;
}

int cmd_label(struct ctx *c) { return run_pairs(c, &label_kind); }
int cmd_annotate(struct ctx *c) { return run_pairs(c, &annotation_kind); }
