/*
 * secretctl - the admin tool for a secretfs store, shaped after kubectl.
 *
 *   secretctl init
 *   secretctl create namespace NAME
 *   secretctl create secret generic NAME [--from-literal=K=V] [--from-file=[K=]PATH]
 *                                        [--from-env-file=PATH] [--type=T] [--immutable]
 *   secretctl get namespaces|secrets [NAME...] [-n NS | -A] [-o json|yaml|name|wide]
 *   secretctl describe secret [NAME...]
 *   secretctl delete namespace|secret NAME...
 *
 * Flags may stand anywhere, as with kubectl.  Every command has --help.
 * Every failure prints "error: ..." naming the object and the reason, exits
 * 1, and leaves the store as it was (each write is one transaction).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <sys/resource.h>
#include <time.h>

#include <sodium.h>

#include "ctl.h"
#include "conf/conf.h"
#include "store/cluster.h"
#include "conf/passphrase.h"
#include "conf/status.h"

/* Flags, as bits, so each command can say which it takes. */
enum {
	F_NAMESPACE = 1 << 0,
	F_ALL_NS = 1 << 1,
	F_OUTPUT = 1 << 2,
	F_LITERAL = 1 << 3,
	F_FILE = 1 << 4,
	F_ENV_FILE = 1 << 5,
	F_TYPE = 1 << 6,
	F_IMMUTABLE = 1 << 7,
	F_FILENAME = 1 << 8,
	F_DRYRUN = 1 << 9,
	F_HASH = 1 << 10,
	F_TLS = 1 << 11,
	F_DOCKER = 1 << 12,
	F_FROM = 1 << 13,
	F_PREFIX = 1 << 14,
	F_SELECTOR = 1 << 15,
	F_REKEY = 1 << 16,
	F_OVERWRITE = 1 << 17,
	F_LIST = 1 << 18,
	F_ALL = 1 << 19,
	F_RESOURCE_VERSION = 1 << 20,
	F_SHOW_LABELS = 1 << 21,
	F_LABEL_COLUMNS = 1 << 22,
	F_LAST = F_LABEL_COLUMNS,
};

struct ctx {
	const char *config_path;
	const char *ns;
	bool all_ns;
	const char *output;
	const char *type;
	bool immutable;
	bool dry_run, append_hash;
	const char *cert, *key;
	const char *docker_server, *docker_user, *docker_password, *docker_email;
	const char **from;
	size_t nfrom;
	const char *prefix;
	const char *selector;
	int passphrase_fd, new_passphrase_fd;
	bool to_passphrase;
	bool overwrite, list, all, show_labels;
	const char **label_cols; /* -L KEY,KEY: each key */
	size_t nlabel_cols;
	const char *resource_version;
	char *passphrase;
	const char **literals, **files, **env_files, **manifests;
	size_t nliterals, nfiles, nenv_files, nmanifests;
	unsigned given;      /* F_* flags on the command line */
	char **args;         /* positional arguments after the command words */
	int nargs;
	struct conf cfg;
	bool have_cfg;
	struct store *st;
	struct cluster *cl;  /* [cluster]: writes go to etcd */
	bool no_sync;        /* cluster mode: show the node's copy as it is */
};

struct command {
	const char *words;   /* "create secret generic" */
	int (*fn)(struct ctx *);
	unsigned flags;      /* F_* it accepts */
	const char *usage;
	const char *help;
};

/*
 * jansson's allocator: the objects we print hold base64 values, so every
 * block remembers its size and is wiped when jansson frees it.
 */
static void *wiping_malloc(size_t n)
{
	size_t *p = malloc(sizeof(size_t) + n);

	if (!p)
		return NULL;
	*p = n;
	return p + 1;
}

static void wiping_free(void *ptr)
{
	size_t *p = ptr;

	if (!p)
		return;
	p--;
	sodium_memzero(p + 1, *p);
	free(p);
}

/* No core file and no ptrace by other users: this process holds keys. */
static void harden_process(void)
{
	struct rlimit none = { 0, 0 };

	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static int die_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int die_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static const char *ns_of(const struct ctx *c)
{
	return c->ns ? c->ns : STORE_DEFAULT_NAMESPACE;
}

static int load_config(struct ctx *c)
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

static int open_store(struct ctx *c)
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
	return c->cfg.cluster.endpoints ? open_cluster(c) : 0;
}

/*
 * In cluster mode, read what etcd has now: bring this node's store up to
 * etcd's revision first.  If etcd cannot be reached, say so and go on with
 * the node's copy (what its secretfs serves too).
 */
static int open_cluster(struct ctx *c)
{
	char err[STORE_ERRMSG_MAX];
	const char *why;
	int64_t rev = 0;

	if (cluster_open(&c->cl, &c->cfg.cluster, err))
		return die_msg("%s", err);
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

static const char *write_errmsg(const struct ctx *c)
{
	return c->cl ? cluster_errmsg(c->cl) : store_errmsg(c->st);
}

static int write_secret(struct ctx *c, struct store_secret *s, enum store_put_mode mode,
			enum store_put_result *res)
{
	return c->cl ? cluster_secret_put(c->cl, c->st, s, mode, res) :
		       store_secret_put(c->st, s, mode, res);
}

static int write_delete(struct ctx *c, const char *ns, const char *name)
{
	return c->cl ? cluster_secret_delete(c->cl, c->st, ns, name) :
		       store_secret_delete(c->st, ns, name);
}

/* Operations on the key ring that cluster mode does not offer yet. */
static int not_in_cluster(const struct ctx *c, const char *what)
{
	if (!c->cl)
		return 0;
	return die_msg("%s is not available in cluster mode yet: every node holds the master key, and each would need the new one at once",
		       what);
}

static int check_output(const struct ctx *c, const char *allowed)
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

static bool output_is(const struct ctx *c, const char *fmt)
{
	return c->output && strcmp(c->output, fmt) == 0;
}

static int print_object(const struct ctx *c, json_t *obj)
{
	int err;

	if (!obj)
		return die_msg("out of memory");
	err = output_is(c, "json") ? print_json(obj) : print_yaml(obj);
	json_decref(obj);
	return err ? die_msg("cannot write the output") : 0;
}

/* --- init ------------------------------------------------------------- */

static int init_cluster(struct ctx *c);

static int cmd_init(struct ctx *c)
{
	char err[STORE_ERRMSG_MAX];

	if (c->nargs)
		return die_msg("init takes no arguments");
	if (load_config(c))
		return 1;
	if (c->cfg.cluster.endpoints)
		return init_cluster(c);
	if (store_create(c->cfg.store_path, c->cfg.key_file, err))
		return die_msg("%s", err);
	printf("store '%s' created, master key in '%s' (mode 0400): keep a copy of it somewhere safe\n",
	       c->cfg.store_path, c->cfg.key_file);
	return 0;
}

/* Remove a store init just made (and its key, if init made that too). */
static void init_undo(const struct ctx *c, bool made_key)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(suffix) / sizeof(*suffix); i++) {
		snprintf(path, sizeof(path), "%s%s", c->cfg.store_path, suffix[i]);
		unlink(path);
	}
	if (made_key)
		unlink(c->cfg.key_file);
}

/*
 * init with [cluster]: a new store for this node that founds the cluster
 * (etcd holds none under the prefix yet: a new master key) or joins it
 * (with a copy of the cluster's master key already in key_file).
 */
static int init_cluster(struct ctx *c)
{
	char err[STORE_ERRMSG_MAX];
	struct store_unlock u = { .key_file = c->cfg.key_file };
	struct stat sb;
	bool have_key = lstat(c->cfg.key_file, &sb) == 0, founded = false;
	int64_t rev = 0;

	if (store_create_with(c->cfg.store_path, c->cfg.key_file, have_key, err))
		return die_msg("%s", err);
	if (store_open_with(&c->st, c->cfg.store_path, &u, 0, err)) {
		init_undo(c, !have_key);
		return die_msg("%s", err);
	}
	if (cluster_open(&c->cl, &c->cfg.cluster, err) ||
	    cluster_join(c->cl, c->st, &founded)) {
		if (c->cl)
			snprintf(err, sizeof(err), "%s", cluster_errmsg(c->cl));
		store_close(c->st);
		c->st = NULL;
		init_undo(c, !have_key);
		return die_msg("%s", err);
	}
	store_etcd_revision(c->st, &rev);
	if (founded)
		printf("store '%s' created; it founded the cluster at %s%s (etcd revision %lld)\n"
		       "master key in '%s' (mode 0400): copy it to every other node before 'secretctl init' there\n",
		       c->cfg.store_path, cluster_endpoint(c->cl),
		       c->cfg.cluster.prefix ? c->cfg.cluster.prefix : CLUSTER_DEFAULT_PREFIX,
		       (long long)rev, c->cfg.key_file);
	else
		printf("store '%s' created and joined the cluster at %s%s (etcd revision %lld)\n",
		       c->cfg.store_path, cluster_endpoint(c->cl),
		       c->cfg.cluster.prefix ? c->cfg.cluster.prefix : CLUSTER_DEFAULT_PREFIX,
		       (long long)rev);
	return 0;
}

/* --- namespaces ------------------------------------------------------- */

static int cmd_create_namespace(struct ctx *c)
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

static int cmd_get_namespaces(struct ctx *c)
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

static int cmd_delete_namespace(struct ctx *c)
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

/* --- secrets ---------------------------------------------------------- */

/*
 * What every create secret subcommand does last: --append-hash renames,
 * --dry-run=client prints the object kubectl would send and writes
 * nothing; otherwise the secret is created.  Takes s.
 */
static int finish_create(struct ctx *c, struct store_secret *s, const char *type)
{
	char why[STORE_ERRMSG_MAX];
	int ret = 0;

	if (c->append_hash) {
		char hash[11], *name = NULL;

		if (secret_hash(hash, s, type, c->immutable) ||
		    asprintf(&name, "%s-%s", s->name, hash) < 0) {
			ret = die_msg("out of memory");
			goto out;
		}
		free(s->name);
		s->name = name;
	}
	if (c->dry_run) {
		json_t *obj;

		if (store_check_name(s->name, why)) {
			ret = die_msg("secret \"%s\": metadata.name: %s", s->name, why);
			goto out;
		}
		for (size_t i = 0; i < s->nitems; i++) {
			if (store_check_key(s->items[i].key, why)) {
				ret = die_msg("secret \"%s\": key \"%s\": %s", s->name,
					      s->items[i].key, why);
				goto out;
			}
		}
		if (!output_is(c, "json") && !output_is(c, "yaml")) {
			printf(output_is(c, "name") ? "secret/%s\n" : "secret/%s created (dry run)\n",
			       s->name);
			goto out;
		}
		obj = dry_run_object(s, c->ns != NULL, type);
		if (!obj) {
			ret = die_msg("out of memory");
		} else if (output_is(c, "json")) {
			/* kubectl prints this one in its own field order */
			if (json_dumpf(obj, stdout, JSON_INDENT(4)) < 0)
				ret = die_msg("cannot write the output");
			putchar('\n');
			json_decref(obj);
		} else {
			ret = print_object(c, obj);
		}
		goto out;
	}
	if (open_store(c)) {
		ret = 1;
		goto out;
	}
	if (write_secret(c, s, STORE_PUT_CREATE, NULL)) {
		ret = die_msg("%s", write_errmsg(c));
		goto out;
	}
	printf(output_is(c, "name") ? "secret/%s\n" : "secret/%s created\n", s->name);
out:
	store_secret_free(s);
	return ret;
}

/* The data flags kubectl's create secret takes: files, literals, env files,
 * in kubectl's order. */
static int add_sources(struct ctx *c, struct store_secret *s)
{
	char err[STORE_ERRMSG_MAX];
	int ret = 0;

	for (size_t i = 0; !ret && i < c->nfiles; i++)
		ret = input_file(s, c->files[i], err, sizeof(err));
	for (size_t i = 0; !ret && i < c->nliterals; i++)
		ret = input_literal(s, c->literals[i], err, sizeof(err));
	for (size_t i = 0; !ret && i < c->nenv_files; i++)
		ret = input_env_file(s, c->env_files[i], err, sizeof(err));
	return ret ? die_msg("secret \"%s\": %s", s->name, err) : 0;
}

static int check_output_create(const struct ctx *c)
{
	if (c->output && !c->dry_run && !output_is(c, "name"))
		return die_msg("-o %s needs --dry-run=client (a created secret prints only its name)",
			       c->output);
	return check_output(c, "json,yaml,name");
}

/* The secret a create secret subcommand fills: one NAME, an output
 * format create accepts, --immutable applied.  1 after an error was printed. */
static int new_secret_to_create(const struct ctx *c, const char *type, struct store_secret **out)
{
	if (c->nargs != 1)
		return die_msg("exactly one NAME is required, got %d", c->nargs);
	if (check_output_create(c))
		return 1;
	*out = store_secret_new(ns_of(c), c->args[0], type);
	if (!*out)
		return die_msg("out of memory");
	(*out)->immutable = c->immutable;
	return 0;
}

static int cmd_create_secret_generic(struct ctx *c)
{
	struct store_secret *s;

	if (new_secret_to_create(c, c->type ? c->type : "", &s))
		return 1;
	if (add_sources(c, s)) {
		store_secret_free(s);
		return 1;
	}
	return finish_create(c, s, c->type ? c->type : "");
}

static int cmd_create_secret_tls(struct ctx *c)
{
	static const char type[] = "kubernetes.io/tls";
	char err[STORE_ERRMSG_MAX], *arg = NULL;
	struct store_secret *s;
	int ret = 0;

	if (c->nargs == 1 && (!c->cert || !c->key))
		return die_msg("secret \"%s\": --cert and --key are both required", c->args[0]);
	if (new_secret_to_create(c, type, &s))
		return 1;
	if (asprintf(&arg, "tls.crt=%s", c->cert) < 0 ||
	    (ret = input_file(s, arg, err, sizeof(err))))
		goto fail;
	free(arg);
	if (asprintf(&arg, "tls.key=%s", c->key) < 0 ||
	    (ret = input_file(s, arg, err, sizeof(err))))
		goto fail;
	free(arg);
	arg = NULL;
	/* tls.crt sorts first */
	if (tls_check_pair(s->items[0].value, s->items[0].len, s->items[1].value,
			   s->items[1].len, err, sizeof(err))) {
		ret = die_msg("secret \"%s\": failed to load key pair: %s", c->args[0], err);
		store_secret_free(s);
		return ret;
	}
	return finish_create(c, s, type);
fail:
	free(arg);
	store_secret_free(s);
	return die_msg("secret \"%s\": %s", c->args[0], ret ? err : "out of memory");
}

static int cmd_create_secret_docker_registry(struct ctx *c)
{
	static const char type[] = "kubernetes.io/dockerconfigjson";
	struct store_secret *s;
	char *json;
	size_t len;

	if (new_secret_to_create(c, type, &s))
		return 1;
	if (c->nfiles) { /* --from-file=.dockerconfigjson=PATH, as kubectl allows */
		if (add_sources(c, s)) {
			store_secret_free(s);
			return 1;
		}
		return finish_create(c, s, type);
	}
	if (!c->docker_user || !c->docker_password) {
		store_secret_free(s);
		return die_msg("secret \"%s\": --docker-username and --docker-password are required", c->args[0]);
	}
	if (docker_config_json(&json, &len, c->docker_server ? c->docker_server :
			       "https://index.docker.io/v1/", c->docker_user,
			       c->docker_password, c->docker_email)) {
		store_secret_free(s);
		return die_msg("out of memory");
	}
	if (store_secret_add_item(s, ".dockerconfigjson", json, len)) {
		sodium_memzero(json, len);
		free(json);
		store_secret_free(s);
		return die_msg("out of memory");
	}
	sodium_memzero(json, len);
	free(json);
	return finish_create(c, s, type);
}

/* Read the secrets named on the command line, or all of the namespace (or
 * every namespace with -A). */
static int load_secrets_all(struct ctx *c, struct store_secret ***out, size_t *n,
			    int *missing);

/* load_secrets_all(), then only those the -l selector matches. */
static int load_secrets(struct ctx *c, struct store_secret ***out, size_t *n, int *missing)
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

/* label and annotate: the same command on one of the two maps. */
struct pair_kind {
	const char *noun;  /* "label" */
	const char *done;  /* "labeled" */
	bool labels;
};

static const struct pair_kind label_kind = { "label", "labeled", true };
static const struct pair_kind annotation_kind = { "annotation", "annotated", false };

static const struct store_pair *pairs_of(const struct store_secret *s,
					 const struct pair_kind *k, size_t *n)
{
	*n = k->labels ? s->nlabels : s->nannotations;
	return k->labels ? s->labels : s->annotations;
}

static const char *pair_value(const struct store_secret *s, const struct pair_kind *k,
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

static int cmd_get_secrets(struct ctx *c)
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

static void describe_pairs(const char *title, const struct store_pair *p, size_t n)
{
	printf("%-14s", title);
	if (!n)
		printf("<none>\n");
	for (size_t i = 0; i < n; i++)
		printf("%s%s=%s\n", i ? "              " : "", p[i].key, p[i].value);
}

static int cmd_describe_secret(struct ctx *c)
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

static int cmd_delete_secret(struct ctx *c)
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

/* --- labels and annotations ---------------------------------------------- */

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
		printf("secret/%s %s%s\n", name, what, c->dry_run ? " (dry run)" : "");
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

static int cmd_label(struct ctx *c) { return run_pairs(c, &label_kind); }
static int cmd_annotate(struct ctx *c) { return run_pairs(c, &annotation_kind); }

/* --- manifests ----------------------------------------------------------- */

enum manifest_mode { M_APPLY, M_CREATE, M_REPLACE, M_DELETE };

static int manifest_ext(const struct dirent *d)
{
	const char *dot = strrchr(d->d_name, '.');

	return d->d_name[0] != '.' && dot &&
	       (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml") || !strcmp(dot, ".json"));
}

/* Load -f FILE, DIR (its .yaml, .yml and .json files) or - into docs. */
static int load_manifests(const struct ctx *c, json_t *docs)
{
	char err[STORE_ERRMSG_MAX];

	for (size_t i = 0; i < c->nmanifests; i++) {
		const char *path = c->manifests[i];
		struct dirent **list;
		struct stat sb;
		int n;

		if (strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			n = scandir(path, &list, manifest_ext, alphasort);
			if (n < 0)
				return die_msg("cannot list '%s': %s", path, strerror(errno));
			for (int j = 0; j < n; j++) {
				char *file = NULL;
				int ret = asprintf(&file, "%s/%s", path, list[j]->d_name) < 0 ? -ENOMEM :
					  manifest_load(file, docs, err, sizeof(err));

				free(file);
				if (ret) {
					while (j < n)
						free(list[j++]);
					free(list);
					return die_msg("%s", ret == -ENOMEM ? "out of memory" : err);
				}
				free(list[j]);
			}
			free(list);
		} else if (manifest_load(path, docs, err, sizeof(err))) {
			return die_msg("%s", err);
		}
	}
	return 0;
}

/*
 * The next Secret among docs from *i on, converted (lists are flattened as
 * they are met; other kinds are skipped with a notice).  0 with *out set,
 * 0 with *out NULL at the end, or 1 after an error was printed; *lists
 * counts the List wrappers passed.  One secret at a time: a file of 10,000
 * secrets never holds 10,000 secrets' values in locked memory at once.
 */
static int next_secret(const struct ctx *c, json_t *docs, size_t *i, size_t *lists,
		       struct store_secret **out)
{
	static const char last_applied[] = "kubectl.kubernetes.io/last-applied-configuration";
	char err[STORE_ERRMSG_MAX];

	*out = NULL;
	for (; *i < json_array_size(docs); (*i)++) {
		json_t *doc = json_array_get(docs, *i);
		const char *kind = json_string_value(json_object_get(doc, "kind"));
		const char *name = json_string_value(json_object_get(json_object_get(doc, "metadata"), "name"));
		struct store_secret *s;

		if (!json_is_object(doc))
			return die_msg("a manifest document is not an object");
		if (kind && strlen(kind) >= 4 && !strcmp(kind + strlen(kind) - 4, "List")) {
			json_t *items = json_object_get(doc, "items");

			if (items && !json_is_array(items))
				return die_msg("%s: items must be a list", kind);
			json_array_extend(docs, items); /* met later in this walk */
			(*lists)++;
			continue;
		}
		if (!manifest_kind_is(doc, "Secret")) {
			fprintf(stderr, "skipping %s \"%s\": secretctl manages Secrets only\n",
				kind ? kind : "an object without a kind", name ? name : "");
			continue;
		}
		if (manifest_secret(doc, ns_of(c), c->ns != NULL, &s, err, sizeof(err)))
			return die_msg("%s", err);
		/* kubectl's copy of the whole object: values in clear */
		if (store_secret_remove_annotation(s, last_applied))
			fprintf(stderr, "warning: secret \"%s\": dropping annotation %s: it holds the secret's values\n",
				s->name, last_applied);
		(*i)++;
		*out = s;
		return 0;
	}
	return 0;
}

/*
 * apply, create, replace and delete -f: every object is written in one
 * transaction, rolled back whole at the first bad one, so that one bad
 * object leaves the store exactly as it was.  What was done is printed
 * once it is committed.
 */
/* What kubectl prints for each enum store_put_result. */
static const char *const put_done[] = { "created", "configured", "unchanged" };

/*
 * Cluster mode: secrets waiting to go to etcd together, in one transaction
 * (cluster_secret_put_batch()), within its count and a byte budget well
 * under etcd's request limit.
 */
#define BATCH_BYTES (512 * 1024)

struct pending {
	struct store_secret *v[CLUSTER_MAX_BATCH];
	size_t n, bytes;
};

static size_t secret_bytes(const struct store_secret *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nitems; i++)
		n += s->items[i].len;
	return n;
}

/* Must what is pending go before s may join? */
static bool pending_full(const struct pending *p, const struct store_secret *s)
{
	if (!p->n)
		return false;
	if (p->n == CLUSTER_MAX_BATCH || p->bytes + secret_bytes(s) > BATCH_BYTES)
		return true;
	for (size_t i = 0; i < p->n; i++) /* one transaction names a key once */
		if (!strcmp(p->v[i]->name, s->name) && !strcmp(p->v[i]->namespace, s->namespace))
			return true;
	return false;
}

/* Write what is pending and put down what was done; frees it. */
static int pending_flush(struct ctx *c, struct pending *p, enum store_put_mode mode,
			 json_t *report)
{
	enum store_put_result res[CLUSTER_MAX_BATCH];
	int err = p->n ? cluster_secret_put_batch(c->cl, c->st, p->v, p->n, mode, res) : 0;

	for (size_t i = 0; i < p->n; i++) {
		if (!err)
			json_array_append_new(report, mode == STORE_PUT_REPLACE ?
				json_sprintf("secret/%s replaced", p->v[i]->name) :
				json_sprintf("secret/%s %s", p->v[i]->name, put_done[res[i]]));
		store_secret_free(p->v[i]);
	}
	p->n = p->bytes = 0;
	return err;
}

static int run_manifests(struct ctx *c, enum manifest_mode mode)
{
	static const char *const verb[] = { "applying", "creating", "replacing", "deleting" };
	json_t *docs = json_array(), *report = json_array();
	enum store_put_mode put = mode == M_APPLY ? STORE_PUT_APPLY :
				  mode == M_CREATE ? STORE_PUT_CREATE : STORE_PUT_REPLACE;
	struct pending pend = { .n = 0 };
	struct progress bar;
	size_t i = 0, lists = 0, k;
	json_t *line;
	int ret = 1;

	if (c->nargs)
		return die_msg("unexpected argument \"%s\": objects come from -f", c->args[0]);
	if (!c->nmanifests)
		return die_msg("must specify one of -f and -k");
	if (!docs || !report || load_manifests(c, docs) || open_store(c))
		goto out;
	/* one transaction for the lot; in cluster mode, one per batch of
	 * CLUSTER_MAX_BATCH secrets or BATCH_BYTES of values */
	if (!c->cl && store_batch_begin(c->st)) {
		die_msg("%s", store_errmsg(c->st));
		goto out;
	}
	progress_begin(&bar, verb[mode]);
	for (;;) {
		enum store_put_result res = STORE_CREATED;
		struct store_secret *s;
		char text[STORE_MAX_NAME + 32];
		int err;

		if (next_secret(c, docs, &i, &lists, &s)) {
			progress_end(&bar);
			if (!c->cl)
				store_batch_rollback(c->st);
			goto out;
		}
		if (!s)
			break;
		if (c->cl && mode != M_DELETE) {
			err = pending_full(&pend, s) ? pending_flush(c, &pend, put, report) : 0;
			pend.v[pend.n++] = s;
			pend.bytes += secret_bytes(s);
			if (err)
				goto failed;
			progress_update(&bar, i - lists, json_array_size(docs) - lists);
			continue;
		}
		err = mode == M_DELETE ? write_delete(c, s->namespace, s->name) :
		      write_secret(c, s, put, &res);
		if (mode == M_DELETE)
			snprintf(text, sizeof(text), "secret \"%s\" deleted", s->name);
		else if (mode == M_REPLACE)
			snprintf(text, sizeof(text), "secret/%s replaced", s->name);
		else
			snprintf(text, sizeof(text), "secret/%s %s", s->name, put_done[res]);
		store_secret_free(s);
		if (err)
			goto failed;
		json_array_append_new(report, json_string(text));
		/* lists are flattened as they are met: the total may grow */
		progress_update(&bar, i - lists, json_array_size(docs) - lists);
	}
	if (c->cl && pending_flush(c, &pend, put, report))
		goto failed;
	progress_end(&bar);
	if (!c->cl && store_batch_commit(c->st)) {
		die_msg("%s", store_errmsg(c->st));
		goto out;
	}
	json_array_foreach(report, k, line)
		puts(json_string_value(line));
	ret = 0;
	goto out;
failed:
	progress_end(&bar);
	die_msg("%s", write_errmsg(c));
	if (!c->cl)
		store_batch_rollback(c->st);
	else /* what went before is in etcd: say so */
		json_array_foreach(report, k, line)
			puts(json_string_value(line));
out:
	for (size_t j = 0; j < pend.n; j++)
		store_secret_free(pend.v[j]);
	json_decref(report);
	json_decref(docs);
	return ret;
}

static int cmd_apply(struct ctx *c) { return run_manifests(c, M_APPLY); }
static int cmd_create_f(struct ctx *c) { return run_manifests(c, M_CREATE); }
static int cmd_replace(struct ctx *c) { return run_manifests(c, M_REPLACE); }
static int cmd_delete_f(struct ctx *c) { return run_manifests(c, M_DELETE); }

/* --- the key ring ----------------------------------------------------------- */

#define RESEAL_BATCH 500

/*
 * rotate-key: a new data key becomes the active one, then every secret is
 * sealed again under it, RESEAL_BATCH secrets per transaction, so readers
 * (the driver included) keep reading throughout.  A progress line on a
 * terminal, nothing otherwise.
 */
static int cmd_rotate_key(struct ctx *c)
{
	uint64_t left = 0, total = 0;
	size_t done = 0, sum = 0;
	struct progress bar;
	uint32_t id;

	if (c->nargs)
		return die_msg("rotate-key takes no arguments");
	if (open_store(c))
		return 1;
	if (c->cl ? cluster_key_rotate(c->cl, c->st, &id) : store_key_rotate(c->st, &id))
		return die_msg("%s", write_errmsg(c));
	progress_begin(&bar, "re-sealing");
	do {
		/* in cluster mode, CLUSTER_MAX_BATCH to an etcd transaction; one
		 * that met a concurrent write is tried again */
		int err = 0;

		for (int tries = 0; tries < 10; tries++) {
			err = c->cl ? cluster_reseal(c->cl, c->st, CLUSTER_MAX_BATCH, &done, &left) :
			      store_reseal(c->st, RESEAL_BATCH, &done, &left);
			if (err != -EAGAIN)
				break;
		}
		if (err) {
			progress_end(&bar);
			return die_msg("%s (data key %u is active; run rotate-key again to finish)",
				       write_errmsg(c), id);
		}
		sum += done;
		if (!total)
			total = sum + left;
		progress_update(&bar, sum, (size_t)total);
	} while (left > 0 && done > 0);
	progress_end(&bar);
	printf("data key %u is active; %zu secrets re-sealed under it\n", id, sum);
	printf("retire the old keys with 'secretctl delete key ID' (see 'secretctl get keys')\n");
	return 0;
}

struct key_rows {
	struct table t;
	int64_t now;
};

static int key_row(void *arg, const struct store_keyinfo *k)
{
	struct key_rows *r = arg;
	char age[32];

	human_age(age, sizeof(age), k->created, r->now);
	table_addf(&r->t, "%u", k->id);
	table_add(&r->t, k->active ? "active" : "retiring");
	table_addf(&r->t, "%llu", (unsigned long long)k->secrets);
	table_add(&r->t, age);
	return 0;
}

static int cmd_get_keys(struct ctx *c)
{
	struct key_rows r = { .now = time(NULL) };

	if (open_store(c))
		return 1;
	table_init(&r.t, 4);
	table_add(&r.t, "ID");
	table_add(&r.t, "STATE");
	table_add(&r.t, "SECRETS");
	table_add(&r.t, "AGE");
	if (store_keyring_each(c->st, key_row, &r)) {
		table_release(&r.t);
		return die_msg("%s", store_errmsg(c->st));
	}
	table_print(&r.t);
	table_release(&r.t);
	return 0;
}

static int cmd_delete_key(struct ctx *c)
{
	char *end;
	unsigned long id;

	if (c->nargs != 1)
		return die_msg("exactly one key ID is required");
	errno = 0;
	id = strtoul(c->args[0], &end, 10);
	if (!*c->args[0] || *end || errno || id > UINT32_MAX)
		return die_msg("'%s' is not a key ID (see 'secretctl get keys')", c->args[0]);
	if (open_store(c))
		return 1;
	if (c->cl ? cluster_key_retire(c->cl, c->st, (uint32_t)id) :
	    store_key_retire(c->st, (uint32_t)id))
		return die_msg("%s", write_errmsg(c));
	printf("data key %lu deleted\n", id);
	return 0;
}

static int cmd_rekey(struct ctx *c)
{
	char err[STORE_ERRMSG_MAX], *pass = NULL, *again = NULL;
	size_t len = 0, len2 = 0;
	int ret;

	if (c->nargs)
		return die_msg("rekey takes no arguments");
	if (open_store(c) || not_in_cluster(c, "rekey"))
		return 1;
	if (c->to_passphrase) {
		if (passphrase_read(&pass, &len, c->new_passphrase_fd, "New passphrase: ", err,
				    sizeof(err)))
			return die_msg("%s", err);
		if (c->new_passphrase_fd < 0 &&
		    passphrase_read(&again, &len2, -1, "The same again: ", err, sizeof(err))) {
			passphrase_free(pass);
			return die_msg("%s", err);
		}
		if (again && (len != len2 || sodium_memcmp(pass, again, len) != 0)) {
			passphrase_free(pass);
			passphrase_free(again);
			return die_msg("the passphrases differ; nothing was changed");
		}
		ret = store_rekey_passphrase(c->st, pass, len);
		passphrase_free(pass);
		passphrase_free(again);
		if (ret)
			return die_msg("%s", store_errmsg(c->st));
		printf("master key replaced: the store now opens with its passphrase (Argon2id);\n"
		       "the key file '%s' no longer opens it and can be removed\n", c->cfg.key_file);
		return 0;
	}
	if (store_rekey(c->st))
		return die_msg("%s", store_errmsg(c->st));
	printf("master key replaced: '%s' holds the new key (mode 0400); keep a copy of it,\n"
	       "the old key no longer opens the store\n", c->cfg.key_file);
	return 0;
}

/* --- status ------------------------------------------------------------- */

static int count_ns(void *ctx, const char *name, const struct store_stat *st)
{
	uint64_t *n = ctx;

	(void)name;
	n[0]++;
	n[1] += st->count;
	return 0;
}

static int count_keys(void *ctx, const struct store_keyinfo *k)
{
	uint32_t *v = ctx;

	v[0]++;
	if (k->active)
		v[1] = k->id;
	return 0;
}

/* Is pid a live secretfs (and not a process that reused a dead one's pid)? */
static bool is_secretfs(int pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return strcmp(comm, "secretfs\n") == 0;
}

/*
 * status: the store (path, revision, counts, key ring) and every running
 * daemon serving it, from the files daemons keep in STATUS_DIR:
 * each mount, what it serves, and how far behind the store it is.
 */
/* Cluster mode: how far this node's copy is behind etcd. */
static void print_cluster(struct ctx *c)
{
	int64_t head = 0, have = 0;

	store_etcd_revision(c->st, &have);
	printf("Cluster:     etcd %s, prefix %s\n", c->cfg.cluster.endpoints,
	       c->cfg.cluster.prefix ? c->cfg.cluster.prefix : CLUSTER_DEFAULT_PREFIX);
	if (cluster_head(c->cl, &head) == 0)
		printf("  etcd:      revision %lld (at %s)\n", (long long)head, cluster_endpoint(c->cl));
	else
		printf("  etcd:      unreachable: %s\n", cluster_errmsg(c->cl));
	printf("  this node: revision %lld", (long long)have);
	if (head)
		printf(" (lag: %lld revision%s)", (long long)(head - have),
		       head - have == 1 ? "" : "s");
	putchar('\n');
}

/* What a running daemon says of its watch on etcd. */
static void daemon_etcd(int pid, json_t *e)
{
	printf("  secretfs %d: etcd revision %lld applied, %s %s\n", pid,
	       (long long)json_integer_value(json_object_get(e, STATUS_REVISION)),
	       json_is_true(json_object_get(e, STATUS_ETCD_WATCHING)) ? "watching" : "reconnecting to",
	       json_string_value(json_object_get(e, STATUS_ETCD_ENDPOINT)) ?: "?");
}

/* Append "  secretfs PID: error: MSG\n" to list (malloc'd; NULL at first):
 * printed under the mounts, so that a daemon in trouble is not missed. */
static char *add_daemon_error(char *list, int pid, const char *msg)
{
	size_t have = list ? strlen(list) : 0, more = strlen(msg) + 48;
	char *l = realloc(list, have + more);

	if (!l)
		return list;
	snprintf(l + have, more, "  secretfs %d: error: %s\n", pid, msg);
	return l;
}

static int cmd_status(struct ctx *c)
{
	uint64_t counts[2] = { 0, 0 };
	uint32_t ring[2] = { 0, 0 };
	struct dirent **list;
	struct table t;
	char uuid[37], *errors = NULL;
	const char *served_uuid;
	bool broken = false;
	int64_t rev;
	int n, rows = 0;

	if (c->nargs)
		return die_msg("status takes no arguments");
	c->no_sync = true; /* how far behind this node is, not etcd */
	/* a store that will not open (replaced by one our key does not
	 * open, say) still has daemons to show: the error, then them */
	if (open_store(c)) {
		if (!c->have_cfg || c->st)
			return 1;
		broken = true;
		rev = 0;
		uuid[0] = '\0';
		printf("Store:       %s (cannot be opened, see above)\n", c->cfg.store_path);
	} else {
		if (store_revision(c->st, &rev) || store_ns_each(c->st, count_ns, counts) ||
		    store_keyring_each(c->st, count_keys, ring))
			return die_msg("%s", store_errmsg(c->st));
		store_uuid(c->st, uuid);
		printf("Store:       %s\n", c->cfg.store_path);
		printf("Revision:    %lld\n", (long long)rev);
		printf("Namespaces:  %llu\n", (unsigned long long)counts[0]);
		printf("Secrets:     %llu\n", (unsigned long long)counts[1]);
		printf("Key ring:    %u data key%s, key %u seals new values\n", ring[0],
		       ring[0] == 1 ? "" : "s", ring[1]);
	}
	if (c->cl)
		print_cluster(c);
	printf("\nMounts:\n");
	table_init(&t, 6);
	table_add(&t, "  MOUNTPOINT");
	table_add(&t, "VIEW");
	table_add(&t, "MODE");
	table_add(&t, "PID");
	table_add(&t, "REVISION");
	table_add(&t, "LAG");
	n = scandir(STATUS_DIR, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		char path[512];
		json_error_t jerr;
		json_t *doc, *m, *audit;
		size_t j;
		int pid;

		if (!strstr(list[i]->d_name, STATUS_SUFFIX) || strstr(list[i]->d_name, ".tmp")) {
			free(list[i]);
			continue;
		}
		snprintf(path, sizeof(path), STATUS_DIR "/%s", list[i]->d_name);
		free(list[i]);
		doc = json_load_file(path, 0, &jerr);
		pid = (int)json_integer_value(json_object_get(doc, STATUS_PID));
		if (!doc || pid <= 0 || !is_secretfs(pid)) {
			json_decref(doc); /* a daemon that is gone */
			continue;
		}
		if (strcmp(json_string_value(json_object_get(doc, STATUS_STORE)) ?: "", c->cfg.store_path) != 0) {
			json_decref(doc); /* another store's */
			continue;
		}
		if (json_object_get(doc, STATUS_ETCD))
			daemon_etcd(pid, json_object_get(doc, STATUS_ETCD));
		served_uuid = json_string_value(json_object_get(doc, STATUS_UUID));
		if (json_string_value(json_object_get(doc, STATUS_ERROR)))
			errors = add_daemon_error(errors, pid,
						  json_string_value(json_object_get(doc, STATUS_ERROR)));
		audit = json_object_get(doc, STATUS_AUDIT);
		if (json_integer_value(json_object_get(audit, STATUS_AUDIT_LOST))) {
			char msg[128];

			snprintf(msg, sizeof(msg), "%lld audit records could not be written, %lld opens refused for it",
				 (long long)json_integer_value(json_object_get(audit, STATUS_AUDIT_LOST)),
				 (long long)json_integer_value(json_object_get(audit, STATUS_AUDIT_REFUSED)));
			errors = add_daemon_error(errors, pid, msg);
		}
		json_array_foreach(json_object_get(doc, STATUS_MOUNTS), j, m) {
			json_int_t served = json_integer_value(json_object_get(doc, STATUS_REVISION));
			const char *view = json_string_value(json_object_get(m, STATUS_VIEW));

			table_addf(&t, "  %s", json_string_value(json_object_get(m, STATUS_MOUNTPOINT)) ?: "?");
			table_add(&t, view ? view : "-");
			table_add(&t, json_string_value(json_object_get(m, STATUS_MODE)) ?: "?");
			table_addf(&t, "%d", pid);
			table_addf(&t, "%lld", (long long)served);
			/* a daemon still on a store replaced under it has no lag
			 * to speak of: it serves another store */
			if (broken)
				table_add(&t, "?");
			else if (served_uuid && strcmp(served_uuid, uuid) != 0)
				table_add(&t, "other store");
			else
				table_addf(&t, "%lld", (long long)(rev - served));
			rows++;
		}
		json_decref(doc);
	}
	if (n > 0)
		free(list);
	if (rows)
		table_print(&t);
	else
		printf("  none running\n");
	table_release(&t);
	if (errors) {
		fputs(errors, stdout);
		free(errors);
	}
	return broken ? 1 : 0;
}

/* --- edit --------------------------------------------------------------- */

static const char edit_header[] =
	"# Please edit the object below. Lines beginning with a '#' will be ignored,\n"
	"# and an empty file will abort the edit. If an error occurs while saving this file will be\n"
	"# reopened with the relevant failures.\n"
	"#\n";

/* Write header, an error block (or none) and body to path, mode 0600. */
static int edit_write(const char *path, const char *error, const json_t *obj, const char *body)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ret = 0;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	fputs(edit_header, f);
	if (error)
		fprintf(f, "# %s\n#\n", error);
	if (obj)
		ret = print_yaml_file(f, obj);
	else
		fputs(body, f);
	if (fclose(f) != 0 && !ret)
		ret = -EIO;
	return ret;
}

static int run_editor(const char *path)
{
	const char *ed = getenv("VISUAL");
	pid_t pid, self = getpid();
	int status;

	if (!ed || !*ed)
		ed = getenv("EDITOR");
	if (!ed || !*ed)
		ed = "vi";
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		scratch_editor_child(self);
		/* like kubectl: the editor variable may hold arguments */
		execl("/bin/sh", "sh", "-c", "exec $0 \"$1\"", ed, path, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

/* The file without its comment lines, as a new string. */
static char *strip_comments(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;

	if (!out)
		return NULL;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
		const char *q = p;

		while (q < p + n && (*q == ' ' || *q == '\t'))
			q++;
		if (*q != '#') {
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	*o = '\0';
	return out;
}

/*
 * edit secret NAME: the object, values in base64, in $VISUAL or $EDITOR; on
 * save it is checked and stored; on an error the file reopens with the error
 * on top, as kubectl does; nothing changes unless the edit is valid.  The
 * file lives in a private folder (scratch.c: a tmpfs only this process and
 * its editor see), mode 0600, and is overwritten with zeros before it is
 * removed, on a fatal signal too.
 */
static int cmd_edit_secret(struct ctx *c)
{
	char dir[128], path[512], err[STORE_ERRMSG_MAX], msg[STORE_ERRMSG_MAX + 64];
	struct store_secret *old = NULL, *s = NULL, **v = NULL;
	char *last = NULL, *now = NULL, *body = NULL;
	json_t *obj = NULL, *docs = NULL;
	bool had_error = false;
	size_t n = 0;
	int ret = 1;

	if (c->nargs != 1)
		return die_msg("exactly one NAME is required, got %d", c->nargs);
	/* the folder before the store: its namespace is made before any key
	 * is in memory (see own_mount_namespace()); the configuration before
	 * the folder: in a user namespace root's files are nobody's, and the
	 * configuration's owner is checked */
	if (load_config(c))
		return 1;
	if (scratch_open(dir, sizeof(dir), err, sizeof(err)))
		return die_msg("%s", err);
	if (open_store(c)) {
		scratch_close();
		return 1;
	}
	if (store_secret_get(c->st, ns_of(c), c->args[0], STORE_WITH_VALUES, &old)) {
		scratch_close();
		return die_msg("%s", store_errmsg(c->st));
	}
	snprintf(path, sizeof(path), "%s/%s.yaml", dir, old->name);
	obj = secret_to_json(old);
	if (!obj || edit_write(path, NULL, obj, NULL)) {
		die_msg("cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		unsigned char *buf;
		size_t len;

		free(last);
		last = NULL;
		if (read_whole(path, &buf, &len, err, sizeof(err)) == 0) {
			last = strip_comments((char *)buf);
			sodium_free(buf);
		}
		if (run_editor(path)) {
			die_msg("the editor failed; nothing was changed");
			goto out;
		}
		if (read_whole(path, &buf, &len, err, sizeof(err))) {
			die_msg("%s", err);
			goto out;
		}
		free(now);
		now = strip_comments((char *)buf);
		sodium_free(buf);
		if (!now || !last) {
			die_msg("out of memory");
			goto out;
		}
		if (strspn(now, " \t\n") == strlen(now)) {
			die_msg("Edit cancelled, saved file was empty.");
			goto out;
		}
		if (strcmp(now, last) == 0) {
			if (had_error) {
				die_msg("Edit cancelled, no valid changes were saved.");
				goto out;
			}
			printf("Edit cancelled, no changes made.\n");
			ret = 0;
			goto out;
		}
		json_decref(docs);
		docs = json_array();
		store_secret_list_free(v, n);
		v = NULL;
		n = 0;
		err[0] = '\0';
		if (!docs || manifest_load(path, docs, err, sizeof(err)) ||
		    json_array_size(docs) != 1 ||
		    manifest_secret(json_array_get(docs, 0), ns_of(c), true, &s, err, sizeof(err))) {
			if (!err[0])
				snprintf(err, sizeof(err), "the file must hold exactly one Secret");
		} else if (strcmp(s->name, old->name) != 0) {
			snprintf(err, sizeof(err), "the name of a secret cannot be changed in an edit");
			store_secret_free(s);
		} else {
			int werr;

			/* in cluster mode, as kubectl's resourceVersion: someone
			 * else's change since the edit began is not overwritten */
			s->etcd_rev = old->etcd_rev;
			werr = write_secret(c, s, STORE_PUT_REPLACE, NULL);
			store_secret_free(s);
			if (!werr) {
				printf("secret/%s edited\n", old->name);
				ret = 0;
				goto out;
			}
			if (werr == -EAGAIN) { /* editing again would not help */
				die_msg("%s", write_errmsg(c));
				goto out;
			}
			snprintf(err, sizeof(err), "%s", write_errmsg(c));
		}
		/* reopen with the error on top, as kubectl does */
		snprintf(msg, sizeof(msg), "secrets \"%s\" was not valid:\n# * %s", old->name, err);
		body = now;
		if (edit_write(path, msg, NULL, body)) {
			die_msg("cannot write '%s': %s", path, strerror(errno));
			goto out;
		}
		fprintf(stderr, "error: %s\n", err);
		had_error = true;
	}
out:
	scratch_close();
	if (last)
		sodium_memzero(last, strlen(last));
	if (now)
		sodium_memzero(now, strlen(now));
	free(last);
	free(now);
	json_decref(obj);
	json_decref(docs);
	store_secret_list_free(v, n);
	store_secret_free(old);
	return ret;
}

/* --- secrets as environment variables ---------------------------------- */

/* Kubernetes' IsEnvVarName: [-._a-zA-Z][-._a-zA-Z0-9]*, not '.', '..' or
 * starting with '..' */
static bool env_name_ok(const char *k)
{
	if (!*k || (*k >= '0' && *k <= '9') || !strcmp(k, ".") || !strncmp(k, "..", 2))
		return false;
	for (; *k; k++)
		if (!strchr("-._", *k) && !(*k >= 'a' && *k <= 'z') &&
		    !(*k >= 'A' && *k <= 'Z') && !(*k >= '0' && *k <= '9'))
			return false;
	return true;
}

/*
 * Visit the variables the --from secrets give, in order (a later secret
 * wins on a shared name, as with envFrom).  Keys that are not valid
 * variable names are skipped with a warning and an event, as the kubelet
 * does; values holding a NUL byte cannot be variables and are skipped too.
 */
static int env_each(struct ctx *c, int (*fn)(struct ctx *, const char *, const uint8_t *, size_t))
{
	if (!c->nfrom)
		return die_msg("at least one --from SECRET is required");
	if (open_store(c))
		return 1;
	for (size_t i = 0; i < c->nfrom; i++) {
		struct store_secret *s;
		char skipped[STORE_ERRMSG_MAX] = "", object[300];
		size_t used = 0;

		if (store_secret_get(c->st, ns_of(c), c->from[i], STORE_WITH_VALUES, &s))
			return die_msg("%s", store_errmsg(c->st));
		for (size_t j = 0; j < s->nitems; j++) {
			char *name = NULL;
			int ret = 0;

			if (asprintf(&name, "%s%s", c->prefix ? c->prefix : "", s->items[j].key) < 0) {
				store_secret_free(s);
				return die_msg("out of memory");
			}
			if (!env_name_ok(name)) {
				/* once the list is full, it stays cut where it was */
				if (used < sizeof(skipped))
					used += (size_t)snprintf(skipped + used, sizeof(skipped) - used,
								 "%s%s", used ? ", " : "", name);
			} else if (memchr(s->items[j].value, '\0', s->items[j].len)) {
				fprintf(stderr, "warning: secret \"%s\": key \"%s\" holds a NUL byte: not a variable\n",
					s->name, s->items[j].key);
			} else {
				ret = fn(c, name, s->items[j].value, s->items[j].len);
			}
			free(name);
			if (ret) {
				store_secret_free(s);
				return ret;
			}
		}
		if (used) {
			char msg[STORE_ERRMSG_MAX + 200];

			snprintf(msg, sizeof(msg),
				 "Keys [%s] from the EnvFrom secret %s/%s were skipped since they are considered invalid environment variable names.",
				 skipped, s->namespace, s->name);
			fprintf(stderr, "warning: %s\n", msg);
			snprintf(object, sizeof(object), "secret/%s", s->name);
			if (store_event_add(c->st, "Warning", "InvalidEnvironmentVariableNames",
					    s->namespace, object, msg))
				fprintf(stderr, "warning: %s\n", store_errmsg(c->st));
		}
		store_secret_free(s);
	}
	return 0;
}

static int env_set(struct ctx *c, const char *name, const uint8_t *v, size_t len)
{
	(void)c;
	(void)len;
	return setenv(name, (const char *)v, 1) ? die_msg("cannot set %s: %s", name, strerror(errno)) : 0;
}

static int env_print(struct ctx *c, const char *name, const uint8_t *v, size_t len)
{
	(void)c;
	printf("export %s='", name);
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\'')
			fputs("'\\''", stdout);
		else
			putchar(v[i]);
	}
	puts("'");
	return 0;
}

static int cmd_exec(struct ctx *c)
{
	int ret;

	if (c->nargs < 1)
		return die_msg("a command is required: secretctl exec --from SECRET -- COMMAND [ARGS...]");
	if ((ret = env_each(c, env_set)))
		return ret;
	store_close(c->st);
	c->st = NULL;
	execvp(c->args[0], c->args);
	return die_msg("cannot run '%s': %s", c->args[0], strerror(errno));
}

static int cmd_env(struct ctx *c)
{
	if (c->nargs)
		return die_msg("env takes no arguments");
	return env_each(c, env_print);
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

static int cmd_get_events(struct ctx *c)
{
	struct event_rows r = { .c = c, .now = time(NULL) };

	if (c->nargs)
		return die_msg("get events takes no NAME");
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

/* --- watch ------------------------------------------------------------- */

struct watch_ctx {
	const struct ctx *c;
	int64_t last;
};

static int watch_print(void *arg, const struct store_change *ch)
{
	struct watch_ctx *w = arg;
	const struct ctx *c = w->c;
	static const char *const events[] = {
		[STORE_OP_NS_CREATE] = "ADDED", [STORE_OP_NS_DELETE] = "DELETED",
		[STORE_OP_CREATE] = "ADDED", [STORE_OP_UPDATE] = "MODIFIED",
		[STORE_OP_DELETE] = "DELETED",
	};

	w->last = ch->revision;
	if (!c->all_ns && strcmp(ch->namespace, ns_of(c)) != 0)
		return 0;
	if (c->nargs && (!ch->name || strcmp(ch->name, c->args[0]) != 0))
		return 0;
	if (ch->op < STORE_OP_NS_CREATE || ch->op > STORE_OP_DELETE)
		return 0;
	if (ch->name)
		printf("%-10lld %-10s %-16s secret/%-24s %lld\n", (long long)ch->revision,
		       events[ch->op], ch->namespace, ch->name, (long long)ch->generation);
	else
		printf("%-10lld %-10s %-16s namespace/%-21s -\n", (long long)ch->revision,
		       events[ch->op], ch->namespace, ch->namespace);
	fflush(stdout);
	return 0;
}

/*
 * Print every change as it is committed.  inotify on the store's folder
 * wakes us when a commit writes the WAL; as the WAL index may be published
 * a moment after that write, an empty wake-up looks again shortly, and a
 * one-second timer covers file systems without inotify.
 */
static int cmd_watch(struct ctx *c)
{
	struct watch_ctx w = { .c = c };
	char *dir;
	int fd, backoff = 0;

	if (c->nargs > 1)
		return die_msg("watch takes at most one secret NAME");
	if (open_store(c))
		return 1;
	if (store_revision(c->st, &w.last))
		return die_msg("%s", store_errmsg(c->st));
	dir = strdup(c->cfg.store_path);
	if (!dir)
		return die_msg("out of memory");
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	fd = inotify_init1(IN_CLOEXEC);
	if (fd >= 0 && inotify_add_watch(fd, *dir ? dir : "/", IN_MODIFY | IN_CLOSE_WRITE) < 0) {
		close(fd);
		fd = -1;
	}
	free(dir);
	printf("%-10s %-10s %-16s %-31s %s\n", "REVISION", "EVENT", "NAMESPACE", "OBJECT",
	       "GENERATION");
	fflush(stdout);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t before = w.last;
		char buf[4096];
		int n = poll(&p, fd >= 0 ? 1 : 0, backoff ? backoff : 1000);

		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && read(fd, buf, sizeof(buf)) < 0)
			break;
		if (store_changes(c->st, w.last, watch_print, &w))
			return die_msg("%s", store_errmsg(c->st));
		if (w.last != before || (n <= 0 && backoff >= 64))
			backoff = 0;
		else if (n > 0 || backoff)
			backoff = backoff ? backoff * 2 : 1;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

/* --- the command table ------------------------------------------------ */

static const struct command commands[] = {
	{ "init", cmd_init, 0, "secretctl init",
	  "Create a new store and a new random master key file (mode 0400), with the\n"
	  "\"default\" namespace.  Paths come from [store] in the configuration.\n"
	  "Refuses to overwrite an existing store or key file.\n"
	  "With [cluster] configured, the first node founds the cluster in etcd; on\n"
	  "the others, with a copy of its master key file in place, the new store\n"
	  "joins it." },
	{ "create namespace", cmd_create_namespace, 0,
	  "secretctl create namespace NAME", "Create a namespace." },
	{ "create secret generic", cmd_create_secret_generic,
	  F_NAMESPACE | F_LITERAL | F_FILE | F_ENV_FILE | F_TYPE | F_IMMUTABLE | F_DRYRUN |
	  F_HASH | F_OUTPUT,
	  "secretctl create secret generic NAME [--type=TYPE] [--immutable]\n"
	  "        [--from-literal=KEY=VALUE]... [--from-file=[KEY=]PATH]... [--from-env-file=PATH]... [-n NS]",
	  "Create a secret from files, folders, env files or literal values.\n\n"
	  "  --from-file=[KEY=]PATH  a file's content as KEY (default: the file's name);\n"
	  "                          a folder adds each regular file with a valid key name\n"
	  "  --from-literal=KEY=VALUE  a literal value (beware: visible in the process list\n"
	  "                          and shell history; prefer --from-file)\n"
	  "  --from-env-file=PATH    KEY=VALUE lines, as kubectl reads them\n"
	  "  --type=TYPE             the secret's type (default Opaque)\n"
	  "  --immutable             its data can never change afterwards\n"
	  "  --append-hash           append kubectl's hash of the content to NAME\n"
	  "  --dry-run=client        print the object (-o yaml|json) and create nothing" },
	{ "create secret tls", cmd_create_secret_tls,
	  F_NAMESPACE | F_TLS | F_IMMUTABLE | F_DRYRUN | F_HASH | F_OUTPUT,
	  "secretctl create secret tls NAME --cert=PATH --key=PATH [-n NS] [--dry-run=client -o yaml|json]",
	  "Create a kubernetes.io/tls secret from a PEM certificate and its PEM private\n"
	  "key; they are checked to belong together." },
	{ "create secret docker-registry", cmd_create_secret_docker_registry,
	  F_NAMESPACE | F_DOCKER | F_FILE | F_IMMUTABLE | F_DRYRUN | F_HASH | F_OUTPUT,
	  "secretctl create secret docker-registry NAME --docker-username=U --docker-password=P\n"
	  "        [--docker-server=URL] [--docker-email=E] [-n NS] | --from-file=.dockerconfigjson=PATH",
	  "Create a kubernetes.io/dockerconfigjson secret holding the same document\n"
	  "kubectl writes (auth included).  --docker-server defaults to\n"
	  "https://index.docker.io/v1/.  The password is visible in the process list:\n"
	  "prefer --from-file." },
	{ "get namespaces", cmd_get_namespaces, F_OUTPUT,
	  "secretctl get namespaces [NAME...] [-o json|yaml|name]", "List namespaces." },
	{ "get secrets", cmd_get_secrets,
	  F_NAMESPACE | F_ALL_NS | F_OUTPUT | F_SELECTOR | F_SHOW_LABELS | F_LABEL_COLUMNS,
	  "secretctl get secrets [NAME...] [-n NS | -A] [-l SELECTOR] [-o json|yaml|name|wide|jsonpath=TEMPLATE]\n"
	  "        [--show-labels] [-L KEY,...]",
	  "List secrets (NAME TYPE DATA AGE), or print them as Kubernetes objects with\n"
	  "base64 values (-o json, -o yaml).  --show-labels adds a LABELS column, -L a\n"
	  "column for each label key given." },
	{ "describe secrets", cmd_describe_secret, F_NAMESPACE | F_SELECTOR,
	  "secretctl describe secret [NAME...] [-n NS]",
	  "Show secrets' metadata and the size of each value, never the values." },
	{ "delete namespaces", cmd_delete_namespace, 0,
	  "secretctl delete namespace NAME...",
	  "Delete namespaces and every secret in them (\"default\" cannot be deleted)." },
	{ "delete secrets", cmd_delete_secret, F_NAMESPACE | F_SELECTOR,
	  "secretctl delete secret NAME... [-n NS] | -l SELECTOR", "Delete secrets, by name or by label." },
	{ "label secrets", cmd_label,
	  F_NAMESPACE | F_ALL_NS | F_SELECTOR | F_OUTPUT | F_DRYRUN | F_OVERWRITE | F_LIST | F_ALL |
	  F_RESOURCE_VERSION,
	  "secretctl label secret NAME... KEY=VALUE... KEY-... [--overwrite] [-n NS]\n"
	  "        | -l SELECTOR | --all [-A]   [--list] [--resource-version=V] [--dry-run=client] [-o json|yaml|name]",
	  "Add, change (--overwrite) or remove (KEY-) labels of secrets, as kubectl label:\n"
	  "keys are qualified names (example.com/name), values up to 63 characters of\n"
	  "[A-Za-z0-9._-].  A value already set is changed only with --overwrite.\n"
	  "Prints labeled, unlabeled or not labeled; --list prints the labels instead.\n"
	  "Nothing is written when nothing changes.  An immutable secret's labels may\n"
	  "change; its data never does." },
	{ "annotate secrets", cmd_annotate,
	  F_NAMESPACE | F_ALL_NS | F_SELECTOR | F_OUTPUT | F_DRYRUN | F_OVERWRITE | F_LIST | F_ALL |
	  F_RESOURCE_VERSION,
	  "secretctl annotate secret NAME... KEY=VALUE... KEY-... [--overwrite] [-n NS]\n"
	  "        | -l SELECTOR | --all [-A]   [--list] [--resource-version=V] [--dry-run=client] [-o json|yaml|name]",
	  "Add, change (--overwrite) or remove (KEY-) annotations of secrets, as kubectl\n"
	  "annotate: keys are qualified names, values any text; all of a secret's\n"
	  "annotations together at most 256 KiB." },
	{ "apply", cmd_apply, F_NAMESPACE | F_FILENAME,
	  "secretctl apply -f FILE|DIR|- [-n NS]",
	  "Create or update the Secrets of manifests (YAML or JSON; several documents,\n"
	  "kind: List; a folder's .yaml, .yml and .json files).  Other kinds are skipped\n"
	  "with a notice.  As with kubectl, a key given twice, an apiVersion other than\n"
	  "v1 and a number where a string belongs are refused, and so is a NUL byte in a\n"
	  "name or key; a secret has at most 4096 keys.  All objects are checked first\n"
	  "and written in one transaction: one bad object changes nothing.  Prints\n"
	  "created, configured or unchanged." },
	{ "create", cmd_create_f, F_NAMESPACE | F_FILENAME,
	  "secretctl create -f FILE|DIR|- [-n NS]", "Create the Secrets of manifests; none may exist." },
	{ "replace", cmd_replace, F_NAMESPACE | F_FILENAME,
	  "secretctl replace -f FILE|DIR|- [-n NS]", "Replace existing Secrets from manifests." },
	{ "delete", cmd_delete_f, F_NAMESPACE | F_FILENAME,
	  "secretctl delete -f FILE|DIR|- [-n NS]", "Delete the Secrets named by manifests." },
	{ "exec", cmd_exec, F_NAMESPACE | F_FROM | F_PREFIX,
	  "secretctl exec [-n NS] --from SECRET... [--prefix P] -- COMMAND [ARGS...]",
	  "Run COMMAND with the secrets' keys as environment variables (a later --from\n"
	  "wins on a shared name).  Keys that are not valid variable names are skipped\n"
	  "with a warning and an InvalidEnvironmentVariableNames event." },
	{ "env", cmd_env, F_NAMESPACE | F_FROM | F_PREFIX,
	  "secretctl env [-n NS] --from SECRET... [--prefix P]",
	  "Print the secrets' keys as 'export NAME=VALUE' lines for a shell:\n"
	  "  eval \"$(secretctl env --from db)\"" },
	{ "edit secrets", cmd_edit_secret, F_NAMESPACE,
	  "secretctl edit secret NAME [-n NS]",
	  "Edit a secret in $VISUAL or $EDITOR (values in base64, or add stringData).\n"
	  "It is checked on save; on an error the file reopens with the error on top.\n"
	  "Nothing changes unless the edit is valid.  The file is kept in a tmpfs that\n"
	  "only secretctl and the editor see, mode 0600, wiped afterwards and on any\n"
	  "fatal signal; it goes with them even on SIGKILL." },
	{ "status", cmd_status, 0, "secretctl status",
	  "Show the store (path, revision, namespace and secret counts, key ring) and\n"
	  "every running secretfs serving it: each mount, its view, the revision it\n"
	  "serves and how far it lags behind the store.  In cluster mode, also etcd's\n"
	  "revision and how far this node's store is behind it." },
	{ "rotate-key", cmd_rotate_key, 0, "secretctl rotate-key",
	  "Add a new data key, make it the one that seals, and re-seal every secret\n"
	  "under it in batches of 500 (one transaction each); readers keep reading.\n"
	  "Then retire the old key with 'secretctl delete key ID'." },
	{ "rekey", cmd_rekey, F_REKEY, "secretctl rekey [--to-passphrase [--new-passphrase-fd N]]",
	  "Replace the master key, wrapping only the data keys again (values are not\n"
	  "touched): by a new random key file in the configured key file's place, or\n"
	  "with --to-passphrase by a key derived from a passphrase (Argon2id), read from\n"
	  "the terminal or --new-passphrase-fd N, never from the command line.  A store\n"
	  "with a passphrase opens with --passphrase-fd N or asks on a terminal.  An\n"
	  "interrupted key-file rekey is finished by the next open." },
	{ "get keys", cmd_get_keys, 0, "secretctl get keys",
	  "List the data-key ring: ID, STATE (active or retiring), how many secrets\n"
	  "each key still seals, AGE." },
	{ "delete keys", cmd_delete_key, 0, "secretctl delete key ID",
	  "Retire a data key that seals no secret any more." },
	{ "get events", cmd_get_events, F_NAMESPACE | F_ALL_NS,
	  "secretctl get events [-n NS | -A]",
	  "List events: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE." },
	{ "watch", cmd_watch, F_NAMESPACE | F_ALL_NS,
	  "secretctl watch [NAME] [-n NS | -A]",
	  "Print each change to secrets (and namespaces) as it is committed, one line\n"
	  "each: revision, ADDED/MODIFIED/DELETED, namespace, secret, generation.\n"
	  "Runs until interrupted.  An app can reload on each line about its secret." },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage_all(FILE *f)
{
	fputs("secretctl - manage the secrets that secretfs serves, the way kubectl does\n\n"
	      "Usage:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fputs("\nGlobal flags:\n"
	      "  -c, --config FILE      configuration (default $SECRETFS_CONFIG, else "
	      CONF_DEFAULT_PATH ")\n"
	      "  -n, --namespace NS     namespace (default \"default\")\n"
	      "      --passphrase-fd N  the passphrase of a store locked with one, from fd N\n"
	      "                         (on a terminal it is asked for)\n"
	      "  -h, --help             help for any command, e.g. 'secretctl get secrets --help'\n",
	      f);
}

/* Canonical resource word: kubectl's singular, plural and short names. */
static const char *resource_word(const char *w)
{
	if (!strcmp(w, "secret") || !strcmp(w, "secrets"))
		return "secrets";
	if (!strcmp(w, "namespace") || !strcmp(w, "namespaces") || !strcmp(w, "ns"))
		return "namespaces";
	if (!strcmp(w, "event") || !strcmp(w, "events") || !strcmp(w, "ev"))
		return "events";
	if (!strcmp(w, "key") || !strcmp(w, "keys"))
		return "keys";
	return w;
}

/* Match the leading positional words against the table: the command with
 * the most words that all match ("delete key" before "delete -f").  Returns
 * it and how many words it took, or NULL. */
static const struct command *find_command(char **args, int nargs, int *used)
{
	const struct command *best = NULL;

	for (size_t i = 0; i < NCOMMANDS; i++) {
		char words[64], *w, *save;
		int k = 0;
		bool ok = true;

		snprintf(words, sizeof(words), "%s", commands[i].words);
		for (w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save), k++) {
			const char *a = k < nargs ? args[k] : NULL;

			if (!a || (strcmp(w, a) != 0 &&
				   strcmp(w, resource_word(a)) != 0 &&
				   !(k == 1 && strcmp(resource_word(w), resource_word(a)) == 0))) {
				ok = false;
				break;
			}
		}
		if (ok && (!best || k > *used)) {
			best = &commands[i];
			*used = k;
		}
	}
	return best;
}

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "namespace", required_argument, NULL, 'n' },
	{ "all-namespaces", no_argument, NULL, 'A' },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "from-literal", required_argument, NULL, 15 },
	{ "from-file", required_argument, NULL, 'F' },
	{ "from-env-file", required_argument, NULL, 'E' },
	{ "type", required_argument, NULL, 'T' },
	{ "immutable", no_argument, NULL, 'I' },
	{ "filename", required_argument, NULL, 'f' },
	{ "dry-run", optional_argument, NULL, 'D' },
	{ "append-hash", no_argument, NULL, 'H' },
	{ "cert", required_argument, NULL, 'C' },
	{ "key", required_argument, NULL, 'K' },
	{ "docker-server", required_argument, NULL, 1 },
	{ "docker-username", required_argument, NULL, 2 },
	{ "docker-password", required_argument, NULL, 3 },
	{ "docker-email", required_argument, NULL, 4 },
	{ "from", required_argument, NULL, 5 },
	{ "selector", required_argument, NULL, 'l' },
	{ "passphrase-fd", required_argument, NULL, 7 },
	{ "new-passphrase-fd", required_argument, NULL, 8 },
	{ "to-passphrase", no_argument, NULL, 9 },
	{ "prefix", required_argument, NULL, 6 },
	{ "overwrite", no_argument, NULL, 10 },
	{ "list", no_argument, NULL, 11 },
	{ "all", no_argument, NULL, 12 },
	{ "resource-version", required_argument, NULL, 13 },
	{ "show-labels", no_argument, NULL, 14 },
	{ "label-columns", required_argument, NULL, 'L' },
	{ NULL, 0, NULL, 0 },
};

static const char *flag_name(unsigned f)
{
	switch (f) {
	case F_NAMESPACE: return "--namespace";
	case F_ALL_NS: return "--all-namespaces";
	case F_OUTPUT: return "--output";
	case F_LITERAL: return "--from-literal";
	case F_FILE: return "--from-file";
	case F_ENV_FILE: return "--from-env-file";
	case F_TYPE: return "--type";
	case F_IMMUTABLE: return "--immutable";
	case F_FILENAME: return "--filename";
	case F_DRYRUN: return "--dry-run";
	case F_HASH: return "--append-hash";
	case F_TLS: return "--cert/--key";
	case F_DOCKER: return "--docker-*";
	case F_FROM: return "--from";
	case F_PREFIX: return "--prefix";
	case F_SELECTOR: return "--selector";
	case F_REKEY: return "--to-passphrase/--new-passphrase-fd";
	case F_OVERWRITE: return "--overwrite";
	case F_LIST: return "--list";
	case F_ALL: return "--all";
	case F_RESOURCE_VERSION: return "--resource-version";
	case F_SHOW_LABELS: return "--show-labels";
	case F_LABEL_COLUMNS: return "--label-columns";
	}
	return "?";
}

static char **split_args; /* type_slash_name()'s, freed at exit */

static void split_args_free(void)
{
	free(split_args);
}

/* The resource type of a TYPE/NAME word ("secrets", "namespaces"), or
 * NULL.  A label change ("example.com/k=v", "ns/k-") is never one: names
 * hold no '=' and end in no '-'. */
static const char *slash_type(const char *a)
{
	const char *slash = strchr(a, '/'), *type;
	char word[16];
	size_t len = strlen(a);

	if (!slash || slash == a || (size_t)(slash - a) >= sizeof(word) || strchr(a, '=') ||
	    a[len - 1] == '-')
		return NULL;
	snprintf(word, sizeof(word), "%.*s", (int)(slash - a), a);
	type = resource_word(word);
	return strcmp(type, "secrets") == 0 || strcmp(type, "namespaces") == 0 ? type : NULL;
}

/*
 * kubectl's TYPE/NAME form ("get secret/db", "delete secret/a secret/b"):
 * each such word becomes NAME, with TYPE put after the verb once.  One
 * type per command.
 */
static int type_slash_name(struct ctx *c)
{
	static const char *const verbs[] = { "get", "describe", "delete", "edit", "label",
					     "annotate" };
	const char *type = NULL;
	bool verb = false;
	char **v;
	int n = 0;

	/* only where kubectl takes resources (never in exec's command) */
	for (size_t i = 0; c->nargs && i < sizeof(verbs) / sizeof(*verbs); i++)
		verb |= strcmp(c->args[0], verbs[i]) == 0;
	if (!verb)
		return 0;
	for (int i = 1; i < c->nargs; i++) {
		const char *t = slash_type(c->args[i]);

		if (t && type && strcmp(type, t) != 0)
			return die_msg("one resource type at a time: %s and %s", type, t);
		if (t)
			type = t;
	}
	if (!type)
		return 0;
	v = calloc((size_t)c->nargs + 2, sizeof(*v));
	if (!v)
		return die_msg("out of memory");
	split_args = v;
	atexit(split_args_free);
	v[n++] = c->args[0];
	if (c->nargs < 2 || strcmp(resource_word(c->args[1]), type) != 0)
		v[n++] = (char *)type;
	for (int i = 1; i < c->nargs; i++)
		v[n++] = slash_type(c->args[i]) ? strchr(c->args[i], '/') + 1 : c->args[i];
	c->args = v;
	c->nargs = n;
	return 0;
}

static int push(const char ***v, size_t *n, const char *s)
{
	const char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

int main(int argc, char **argv)
{
	struct ctx c = { .passphrase_fd = -1, .new_passphrase_fd = -1 };
	const struct command *cmd;
	bool help = false;
	int opt, used = 0, ret;

	harden_process();
	if (sodium_init() < 0)
		return die_msg("cannot initialise libsodium");
	json_set_alloc_funcs(wiping_malloc, wiping_free);
	while ((opt = getopt_long(argc, argv, "c:n:Ao:hf:l:L:", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'c': c.config_path = optarg; break;
		case 'n': c.ns = optarg; c.given |= F_NAMESPACE; break;
		case 'A': c.all_ns = true; c.given |= F_ALL_NS; break;
		case 'o': c.output = optarg; c.given |= F_OUTPUT; break;
		case 'h': help = true; break;
		case 15:
			if (push(&c.literals, &c.nliterals, optarg))
				return die_msg("out of memory");
			c.given |= F_LITERAL;
			break;
		case 'F':
			if (push(&c.files, &c.nfiles, optarg))
				return die_msg("out of memory");
			c.given |= F_FILE;
			break;
		case 'E':
			if (push(&c.env_files, &c.nenv_files, optarg))
				return die_msg("out of memory");
			c.given |= F_ENV_FILE;
			break;
		case 'T': c.type = optarg; c.given |= F_TYPE; break;
		case 'I': c.immutable = true; c.given |= F_IMMUTABLE; break;
		case 'D':
			if (optarg && strcmp(optarg, "client") != 0 && strcmp(optarg, "none") != 0)
				return die_msg("--dry-run=%s: only client or none (there is no server)", optarg);
			c.dry_run = !optarg || !strcmp(optarg, "client");
			c.given |= F_DRYRUN;
			break;
		case 'H': c.append_hash = true; c.given |= F_HASH; break;
		case 'C': c.cert = optarg; c.given |= F_TLS; break;
		case 'K': c.key = optarg; c.given |= F_TLS; break;
		case 1: c.docker_server = optarg; c.given |= F_DOCKER; break;
		case 2: c.docker_user = optarg; c.given |= F_DOCKER; break;
		case 3: c.docker_password = optarg; c.given |= F_DOCKER; break;
		case 4: c.docker_email = optarg; c.given |= F_DOCKER; break;
		case 5:
			if (push(&c.from, &c.nfrom, optarg))
				return die_msg("out of memory");
			c.given |= F_FROM;
			break;
		case 6: c.prefix = optarg; c.given |= F_PREFIX; break;
		case 'l': c.selector = optarg; c.given |= F_SELECTOR; break;
		case 7:
		case 8: {
			char *end;
			long fd = strtol(optarg, &end, 10);

			if (!*optarg || *end || fd < 0 || fd > 1000000)
				return die_msg("--%spassphrase-fd: '%s' is not a file descriptor",
					       opt == 8 ? "new-" : "", optarg);
			if (opt == 7) {
				c.passphrase_fd = (int)fd;
			} else {
				c.new_passphrase_fd = (int)fd;
				c.given |= F_REKEY;
			}
			break;
		}
		case 9: c.to_passphrase = true; c.given |= F_REKEY; break;
		case 10: c.overwrite = true; c.given |= F_OVERWRITE; break;
		case 11: c.list = true; c.given |= F_LIST; break;
		case 12: c.all = true; c.given |= F_ALL; break;
		case 13: c.resource_version = optarg; c.given |= F_RESOURCE_VERSION; break;
		case 14: c.show_labels = true; c.given |= F_SHOW_LABELS; break;
		case 'L': {
			char *save, *key;

			for (key = strtok_r(optarg, ",", &save); key; key = strtok_r(NULL, ",", &save))
				if (push(&c.label_cols, &c.nlabel_cols, key))
					return die_msg("out of memory");
			c.given |= F_LABEL_COLUMNS;
			break;
		}
		case 'f':
			if (push(&c.manifests, &c.nmanifests, optarg))
				return die_msg("out of memory");
			c.given |= F_FILENAME;
			break;
		default:
			fputs("Run 'secretctl --help' for usage.\n", stderr);
			return 1;
		}
	}
	c.args = argv + optind;
	c.nargs = argc - optind;
	if (type_slash_name(&c))
		return 1;
	if (c.nargs == 0) {
		usage_all(help ? stdout : stderr);
		return help ? 0 : 1;
	}
	cmd = find_command(c.args, c.nargs, &used);
	if (!cmd) {
		if (help) { /* "label --help": every command that starts so */
			size_t len = strlen(c.args[0]), shown = 0;

			for (size_t i = 0; i < NCOMMANDS; i++) {
				if (strncmp(commands[i].words, c.args[0], len) != 0 ||
				    (commands[i].words[len] != ' ' && commands[i].words[len]))
					continue;
				printf("%s%s\n\nUsage:\n  %s\n", shown++ ? "\n" : "",
				       commands[i].help, commands[i].usage);
			}
			if (!shown)
				usage_all(stdout);
			return 0;
		}
		die_msg("unknown command \"%s\"", c.args[0]);
		fputs("Run 'secretctl --help' for usage.\n", stderr);
		return 1;
	}
	if (help) {
		printf("%s\n\nUsage:\n  %s\n", cmd->help, cmd->usage);
		return 0;
	}
	for (unsigned f = 1; f <= F_LAST; f <<= 1)
		if ((c.given & f) && !(cmd->flags & f))
			return die_msg("unknown flag: %s for \"secretctl %s\"", flag_name(f),
				       cmd->words);
	if (c.all_ns && c.ns)
		return die_msg("--namespace and --all-namespaces cannot be used together");
	c.args += used;
	c.nargs -= used;
	ret = cmd->fn(&c);
	cluster_close(c.cl);
	store_close(c.st);
	if (c.have_cfg)
		conf_release(&c.cfg);
	free(c.literals);
	free(c.files);
	free(c.env_files);
	free(c.manifests);
	free(c.from);
	free(c.label_cols);
	passphrase_free(c.passphrase);
	return ret;
}
