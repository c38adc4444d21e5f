/*
 * common.c - the helpers every secretctl command uses: reporting an error,
 * opening the store (and in cluster mode catching up with etcd), writing
 * through the local store or etcd, printing objects, and loading the
 * secrets a command names.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "conf/passphrase.h"

int die_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

const char *ns_of(const struct ctx *c)
{
	return c->ns ? c->ns : STORE_DEFAULT_NAMESPACE;
}

int load_config(struct ctx *c)
{
	char err[CONF_ERR_MAX];

	if (c->have_cfg)
		return 0;
	if (conf_load(&c->cfg, c->config_path, NULL, err))
		return die_msg("%s", err);
	c->have_cfg = true;
	return 0;
}

static int open_cluster(struct ctx *c);

int open_store(struct ctx *c)
{
	char err[STORE_ERRMSG_MAX];

	if (load_config(c))
		return 1;
	struct store_unlock u = { .key_file = c->cfg.key_file };
	int ret;

	if (c->passphrase_fd >= 0 && !c->passphrase &&
	    passphrase_read(&c->passphrase, &u.passlen, c->passphrase_fd, "", err, sizeof(err)))
		return die_msg("%s", err);
	if (c->passphrase) {
		u.passphrase = c->passphrase;
		u.passlen = strlen(c->passphrase);
	}
	ret = store_open_with(&c->st, c->cfg.store_path, &u, 0, err);
	if (ret == -ENOKEY && isatty(STDIN_FILENO)) {
		char prompt[512];

		snprintf(prompt, sizeof(prompt), "Passphrase for store '%s': ", c->cfg.store_path);
		if (passphrase_read(&c->passphrase, &u.passlen, -1, prompt, err, sizeof(err)))
			return die_msg("%s", err);
		u.passphrase = c->passphrase;
		ret = store_open_with(&c->st, c->cfg.store_path, &u, 0, err);
	}
	if (ret)
		return die_msg("%s", err);
	store_set_max_per_namespace(c->st, c->cfg.max_secrets_per_namespace);
	if (store_writer_open(&c->w, c->st, &c->cfg.cluster, err))
		return die_msg("%s", err);
	c->cl = store_writer_cluster(c->w);
	return c->cl ? open_cluster(c) : 0;
}

/*
 * In cluster mode, read what etcd has now: bring this node's store up to
 * etcd's revision first.  If etcd cannot be reached, say so and go on with
 * the node's copy (what its secretfs serves too).
 */
static int open_cluster(struct ctx *c)
{
	const char *why;
	int64_t rev = 0;

	if (!c->no_sync && cluster_sync(c->cl, c->st, NULL)) {
		store_etcd_revision(c->st, &rev);
		fprintf(stderr, "secretctl: warning: %s: showing this node's copy (etcd revision %lld)\n",
			cluster_errmsg(c->cl), (long long)rev);
	}
	if (cluster_skipped(c->cl, &why))
		fprintf(stderr, "secretctl: warning: skipped %lu etcd record%s that break the rules: %s\n",
			cluster_skipped(c->cl, NULL), cluster_skipped(c->cl, NULL) == 1 ? "" : "s", why);
	return 0;
}

/* --- writes: to etcd in cluster mode, else to the store ---------------------- */

const char *write_errmsg(const struct ctx *c)
{
	return store_writer_errmsg(c->w);
}

int write_secret(struct ctx *c, struct store_secret *s, enum store_put_mode mode,
			enum store_put_result *res)
{
	return store_writer_put(c->w, s, mode, res);
}

int write_delete(struct ctx *c, const char *ns, const char *name)
{
	return store_writer_delete(c->w, ns, name);
}

/* Operations on the key ring that cluster mode does not offer yet. */
int not_in_cluster(const struct ctx *c, const char *what)
{
	if (!c->cl)
		return 0;
	return die_msg("%s is not available in cluster mode yet: every node holds the master key, and each would need the new one at once",
		       what);
}

int check_output(const struct ctx *c, const char *allowed)
{
	char list[64], *tok, *save;

	if (!c->output)
		return 0;
	if (!strncmp(c->output, "jsonpath=", 9) && strstr(allowed, "jsonpath"))
		return 0;
	snprintf(list, sizeof(list), "%s", allowed);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (strcmp(tok, c->output) == 0)
			return 0;
	return die_msg("unable to match a printer suitable for the output format \"%s\", allowed formats are: %s",
		       c->output, allowed);
}

bool output_is(const struct ctx *c, const char *fmt)
{
	return c->output && strcmp(c->output, fmt) == 0;
}

const char *dry_run_note(const struct ctx *c)
{
	return !c->dry_run ? "" : c->dry_run_server ? " (server dry run)" : " (dry run)";
}

int print_object(const struct ctx *c, json_t *obj)
{
	int err;

	if (!obj)
		return die_msg("out of memory");
	err = output_is(c, "json") ? print_json(obj) : print_yaml(obj);
	json_decref(obj);
	return err ? die_msg("cannot write the output") : 0;
}

/* --- the secrets a command names ------------------------------------------- */

static int load_secrets_all(struct ctx *c, struct store_secret ***out, size_t *n,
			    int *missing);

/* load_secrets_all(), then only those the -l selector matches. */
int load_secrets(struct ctx *c, struct store_secret ***out, size_t *n, int *missing)
{
	struct selector *sel = NULL;
	char err[STORE_ERRMSG_MAX];
	size_t kept = 0;

	if (c->selector && c->nargs)
		return die_msg("name cannot be provided when a selector is specified");
	if (c->selector && selector_parse(&sel, c->selector, err, sizeof(err)))
		return die_msg("%s", err);
	if (load_secrets_all(c, out, n, missing)) {
		selector_free(sel);
		return 1;
	}
	if (!sel)
		return 0;
	for (size_t i = 0; i < *n; i++) {
		if (selector_match(sel, (*out)[i]))
			(*out)[kept++] = (*out)[i];
		else
			store_secret_free((*out)[i]);
	}
	*n = kept;
	selector_free(sel);
	return 0;
}

/* The named secrets' metadata, or all of the namespace (or of every
 * namespace with -A); values are read later, one secret at a time. */
static int load_secrets_all(struct ctx *c, struct store_secret ***out, size_t *n,
			    int *missing)
{
	struct store_secret **v;

	*missing = 0;
	if (c->nargs == 0) {
		if (store_secret_list(c->st, c->all_ns ? NULL : ns_of(c), out, n))
			return die_msg("%s", store_errmsg(c->st));
		return 0;
	}
	if (c->all_ns)
		return die_msg("a resource cannot be retrieved by name across all namespaces");
	v = calloc((size_t)c->nargs, sizeof(*v));
	if (!v)
		return die_msg("out of memory");
	*n = 0;
	for (int i = 0; i < c->nargs; i++) {
		int err = store_secret_get(c->st, ns_of(c), c->args[i], 0, &v[*n]);

		if (err == -ENOENT) {
			if (!c->ignore_not_found)
				die_msg("%s", store_errmsg(c->st));
			(*missing)++;
		} else if (err) {
			store_secret_list_free(v, *n);
			return die_msg("%s", store_errmsg(c->st));
		} else {
			(*n)++;
		}
	}
	*out = v;
	return 0;
}

const struct pair_kind label_kind = { "label", "labeled", true };
const struct pair_kind annotation_kind = { "annotation", "annotated", false };

const struct store_pair *pairs_of(const struct store_secret *s,
					 const struct pair_kind *k, size_t *n)
{
	*n = k->labels ? s->nlabels : s->nannotations;
	return k->labels ? s->labels : s->annotations;
}

const char *pair_value(const struct store_secret *s, const struct pair_kind *k,
			      const char *key)
{
	size_t n;
	const struct store_pair *p = pairs_of(s, k, &n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(p[i].key, key) == 0)
			return p[i].value;
	return NULL;
}

/* --show-labels: k=v,k=v (sorted, as stored), or <none>. */
