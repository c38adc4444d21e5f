/*
 * flags.c - every flag of secretctl, declared once.
 *
 * One row per flag, as git's OPT_BOOL('f', "force", &force, N_("...")): its
 * long name, short form, argument, the field of struct ctx it sets, the
 * commands that take it and its help.  getopt's tables, the check that a
 * command takes the flags given, and the "Flags:" section of every --help
 * are all made from these rows; adding a flag is adding a row (and, if it
 * needs one, a field in struct ctx).
 *
 * Flags stand anywhere on the line, as with kubectl: they are parsed before
 * the command is known, and checked against it afterwards.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

enum flag_kind {
	FLAG_BOOL,     /* sets a bool */
	FLAG_STRING,   /* sets a const char *; the last one given wins */
	FLAG_LIST,     /* appends to a const char ** and its count */
	FLAG_CALLBACK, /* its own parser */
};

struct flag {
	const char *name;   /* long form, without "--" */
	int short_name;     /* 'n', or 0 */
	const char *arg;    /* the argument in help ("NS"), NULL: takes none */
	int has_arg;        /* getopt's no_argument, required_argument, ... */
	cmd_mask cmds;      /* the CMD_* that take it */
	bool global;        /* listed under 'secretctl --help's global flags */
	enum flag_kind kind;
	size_t off, count_off; /* the field of struct ctx (and its count) */
	int (*parse)(struct ctx *c, const struct flag *f, const char *arg);
	const char *help;
};

#define FIELD(field) offsetof(struct ctx, field)
#define OPT_BOOL(s, name, field, cmds, help) \
	{ name, s, NULL, no_argument, cmds, false, FLAG_BOOL, FIELD(field), 0, NULL, help }
#define OPT_STRING(s, name, arg, field, cmds, help) \
	{ name, s, arg, required_argument, cmds, false, FLAG_STRING, FIELD(field), 0, NULL, help }
#define OPT_LIST(s, name, arg, field, cmds, help)                                       \
	{ name, s, arg, required_argument, cmds, false, FLAG_LIST, FIELD(field),          \
	  FIELD(n##field), NULL, help }
#define OPT_CALLBACK(s, name, arg, has_arg, fn, cmds, help) \
	{ name, s, arg, has_arg, cmds, false, FLAG_CALLBACK, 0, 0, fn, help }

static int parse_dry_run(struct ctx *c, const struct flag *f, const char *arg);
static int parse_fd(struct ctx *c, const struct flag *f, const char *arg);
static int parse_label_columns(struct ctx *c, const struct flag *f, const char *arg);

static const struct flag flags[] = {
	{ "config", 'c', "FILE", required_argument, CMD_ANY, true, FLAG_STRING,
	  FIELD(config_path), 0, NULL,
	  "configuration (default $SECRETFS_CONFIG, else " CONF_DEFAULT_PATH ")" },
	{ "namespace", 'n', "NS", required_argument,
	  CMD_CREATE_SECRET | CMD_GET_SECRETS | CMD_DESCRIBE | CMD_DELETE_SECRETS | CMD_PAIRS |
	  CMD_MANIFESTS | CMD_ENVIRONMENT | CMD_EDIT | CMD_GET_EVENTS | CMD_WATCH | CMD_PODMAN |
	  CMD_PATCH | CMD_DIFF,
	  true, FLAG_STRING, FIELD(ns), 0, NULL, "namespace (default \"default\")" },
	OPT_BOOL('A', "all-namespaces", all_ns,
		 CMD_GET_SECRETS | CMD_PAIRS | CMD_GET_EVENTS | CMD_WATCH | CMD_DELETE_SECRETS,
		 "every namespace"),
	OPT_STRING('o', "output", "FORMAT", output,
		   CMD_CREATE_SECRET | CMD_GET_NAMESPACES | CMD_GET_SECRETS | CMD_PAIRS | CMD_VERSION |
		   CMD_APPLY | CMD_PATCH,
		   "json, yaml or name (get: also wide, jsonpath=TEMPLATE,\n"
		   "jsonpath-as-json=TEMPLATE, jsonpath-file=FILE,\n"
		   "custom-columns=HEADER:PATH,..., custom-columns-file=FILE)"),
	OPT_LIST(0, "from-literal", "KEY=VALUE", literals, CMD_CREATE_GENERIC,
		 "a literal value (beware: visible in the process list\n"
		 "and shell history; prefer --from-file)"),
	OPT_LIST(0, "from-file", "[KEY=]PATH", files, CMD_CREATE_GENERIC | CMD_CREATE_DOCKER,
		 "a file's content as KEY (default: the file's name);\n"
		 "a folder adds each regular file (a name that is no valid\n"
		 "key is an error, as with kubectl)"),
	OPT_LIST(0, "from-env-file", "PATH", env_files, CMD_CREATE_GENERIC,
		 "KEY=VALUE lines, as kubectl reads them"),
	OPT_STRING(0, "type", "TYPE", type, CMD_CREATE_GENERIC | CMD_PATCH,
		   "create: the secret's type (default Opaque); patch: strategic\n"
		   "(default), merge (RFC 7386) or json (RFC 6902)"),
	OPT_STRING('p', "patch", "PATCH", patch, CMD_PATCH,
		   "the patch, JSON or YAML (beware: visible in the process\n"
		   "list; prefer --patch-file)"),
	OPT_STRING(0, "patch-file", "FILE", patch_file, CMD_PATCH,
		   "the patch, from a file (\"-\": stdin)"),
	OPT_BOOL(0, "immutable", immutable, CMD_CREATE_SECRET,
		 "its data can never change afterwards"),
	OPT_LIST('f', "filename", "FILE|DIR|-", manifests, CMD_MANIFESTS | CMD_DIFF,
		 "manifests: a file, a folder's .yaml, .yml and .json files, or stdin"),
	OPT_CALLBACK(0, "dry-run", "[=client|server]", optional_argument, parse_dry_run,
		     CMD_CREATE_SECRET | CMD_PAIRS | CMD_APPLY | CMD_PATCH,
		     "print the object (-o yaml|json) and write nothing; server\n"
		     "(create secret, apply, patch): checked by the store's rules first"),
	OPT_BOOL(0, "append-hash", append_hash, CMD_CREATE_SECRET,
		 "append kubectl's hash of the content to NAME"),
	OPT_STRING(0, "cert", "PATH", cert, CMD_CREATE_TLS, "the PEM certificate"),
	OPT_STRING(0, "key", "PATH", key, CMD_CREATE_TLS, "its PEM private key"),
	OPT_STRING(0, "docker-server", "URL", docker_server, CMD_CREATE_DOCKER,
		   "the registry (default https://index.docker.io/v1/)"),
	OPT_STRING(0, "docker-username", "U", docker_user, CMD_CREATE_DOCKER,
		   "the user name"),
	OPT_STRING(0, "docker-password", "P", docker_password, CMD_CREATE_DOCKER,
		   "the password (visible in the process list)"),
	OPT_STRING(0, "docker-email", "E", docker_email, CMD_CREATE_DOCKER, "the e-mail address"),
	OPT_LIST(0, "from", "SECRET", from, CMD_ENVIRONMENT,
		 "a secret whose keys become variables (repeatable)"),
	OPT_STRING(0, "prefix", "P", prefix, CMD_ENVIRONMENT, "put P before each variable's name"),
	OPT_STRING('l', "selector", "SELECTOR", selector,
		   CMD_GET_SECRETS | CMD_DESCRIBE | CMD_DELETE_SECRETS | CMD_PAIRS,
		   "only the secrets whose labels match (k=v, k!=v, k, !k,\n"
		   "k in (a,b), k notin (a,b))"),
	{ "passphrase-fd", 0, "N", required_argument, CMD_ANY, true, FLAG_CALLBACK, 0, 0, parse_fd,
	  "the passphrase of a store locked with one, from fd N\n"
	  "(on a terminal it is asked for)" },
	OPT_CALLBACK(0, "new-passphrase-fd", "N", required_argument, parse_fd, CMD_REKEY,
		     "the new passphrase, from fd N (else asked on the terminal)"),
	OPT_BOOL(0, "to-passphrase", to_passphrase, CMD_REKEY,
		 "a master key derived from a passphrase instead of a key file"),
	OPT_BOOL(0, "overwrite", overwrite, CMD_PAIRS, "change values already set"),
	OPT_BOOL(0, "list", list, CMD_PAIRS, "print them instead of changing them"),
	OPT_BOOL(0, "all", all, CMD_PAIRS | CMD_DELETE_SECRETS,
		 "every secret of the namespace (with -A: of all)"),
	OPT_STRING(0, "resource-version", "V", resource_version, CMD_PAIRS,
		   "change only if the secret is still at this version"),
	OPT_BOOL(0, "show-labels", show_labels, CMD_GET_SECRETS, "add a LABELS column"),
	OPT_CALLBACK('L', "label-columns", "KEY,...", required_argument, parse_label_columns,
		     CMD_GET_SECRETS, "a column for each label key"),
	OPT_LIST(0, "group", "G", groups, CMD_KUBECONFIG,
		 "a group the user is in (an O of the certificate; repeatable)"),
	OPT_STRING(0, "server", "URL", server, CMD_KUBECONFIG,
		   "the API server (default https:// and [api] listen)"),
	OPT_STRING(0, "ttl", "DURATION", ttl, CMD_KUBECONFIG,
		   "how long the certificate is valid: 8760h, 90d, 1h30m\n(default 365d)"),
	OPT_STRING(0, "context", "NAME", context_name, CMD_KUBECONFIG,
		   "the context's name (default USER@secretfs)"),
	OPT_LIST(0, "san", "NAME|IP", sans, CMD_INIT | CMD_PKI_INIT,
		 "another name or address for a new server certificate\n(repeatable)"),
	OPT_STRING(0, "sort-by", "JSONPATH", sort_by, CMD_GET_SECRETS | CMD_GET_NAMESPACES,
		   "sort by this field ('{.metadata.name}', '.type'):\n"
		   "numbers numerically, strings bytewise, objects\n"
		   "without it first"),
	OPT_BOOL(0, "no-headers", no_headers, CMD_GET_SECRETS | CMD_GET_NAMESPACES,
		 "no header row (tables and custom-columns)"),
	OPT_STRING(0, "field-selector", "SELECTOR", field_selector, CMD_GET_SECRETS | CMD_DELETE_SECRETS,
		   "only the secrets whose fields match: metadata.name,\n"
		   "metadata.namespace or type with =, == or !=, comma-joined"),
	OPT_BOOL(0, "ignore-not-found", ignore_not_found,
		 CMD_GET_SECRETS | CMD_GET_NAMESPACES | CMD_DELETE_SECRETS | CMD_DELETE_NAMESPACES,
		 "a NAME that does not exist is no error"),
	OPT_BOOL('w', "watch", watch, CMD_GET_SECRETS | CMD_GET_NAMESPACES,
		 "after the listing, print each change as it is committed"),
	OPT_BOOL(0, "watch-only", watch_only, CMD_GET_SECRETS | CMD_GET_NAMESPACES,
		 "print each change, without the listing first"),
	OPT_BOOL(0, "output-watch-events", watch_events, CMD_GET_SECRETS | CMD_GET_NAMESPACES,
		 "with -w: an EVENT column (ADDED, MODIFIED, DELETED),\n"
		 "or {\"type\":...,\"object\":...} with -o json|yaml"),
	OPT_BOOL(0, "client", client_only, CMD_VERSION, "the client version alone"),
	{ "help", 'h', NULL, no_argument, CMD_ANY, true, FLAG_BOOL, FIELD(help), 0, NULL,
	  "help for any command, e.g. 'secretctl get secrets --help'" },
};

#define NFLAGS (sizeof(flags) / sizeof(flags[0]))
/* ctx.given has a bit per row */
_Static_assert(NFLAGS <= 64, "struct ctx's given has 64 bits");

/* getopt's value for row i: its short form, else past every char. */
static int flag_val(size_t i)
{
	return flags[i].short_name ? flags[i].short_name : 256 + (int)i;
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

static int parse_dry_run(struct ctx *c, const struct flag *f, const char *arg)
{
	(void)f;
	if (arg && strcmp(arg, "client") != 0 && strcmp(arg, "server") != 0 &&
	    strcmp(arg, "none") != 0)
		return die_msg("Invalid dry-run value (%s). Must be \"none\", \"server\", or \"client\".", arg);
	c->dry_run = !arg || strcmp(arg, "none") != 0;
	c->dry_run_server = arg && !strcmp(arg, "server");
	return 0;
}

/* --passphrase-fd, --new-passphrase-fd */
static int parse_fd(struct ctx *c, const struct flag *f, const char *arg)
{
	char *end;
	long fd = strtol(arg, &end, 10);

	if (!*arg || *end || fd < 0 || fd > 1000000)
		return die_msg("--%s: '%s' is not a file descriptor", f->name, arg);
	if (strcmp(f->name, "passphrase-fd") == 0)
		c->passphrase_fd = (int)fd;
	else
		c->new_passphrase_fd = (int)fd;
	return 0;
}

/* -L KEY,KEY: each key (arg is argv's, so strtok_r may cut it) */
static int parse_label_columns(struct ctx *c, const struct flag *f, const char *arg)
{
	char *save, *key, *text = (char *)arg;

	(void)f;
	for (key = strtok_r(text, ",", &save); key; key = strtok_r(NULL, ",", &save))
		if (push(&c->label_cols, &c->nlabel_cols, key))
			return die_msg("out of memory");
	return 0;
}

static int flag_set(struct ctx *c, const struct flag *f, const char *arg)
{
	char *field = (char *)c + f->off;

	switch (f->kind) {
	case FLAG_BOOL:
		*(bool *)field = true;
		return 0;
	case FLAG_STRING:
		*(const char **)field = arg;
		return 0;
	case FLAG_LIST:
		if (push((const char ***)field, (size_t *)((char *)c + f->count_off), arg))
			return die_msg("out of memory");
		return 0;
	case FLAG_CALLBACK:
		return f->parse(c, f, arg);
	}
	return die_msg("--%s: unknown kind of flag", f->name);
}

/* Remember the first flag getopt refused, as the user wrote it up to any
 * '=' (what follows may be a value); it is reported once the command is
 * known, for its "See 'secretctl CMD --help'" line. */
static void flag_refused(struct ctx *c, char **argv, int opt)
{
	const char *word = argv[optind - 1];

	if (c->bad_flag[0])
		return;
	if (opt == ':' && word[0] == '-' && word[1] == '-')
		snprintf(c->bad_flag, sizeof(c->bad_flag), "flag needs an argument: %.*s",
			 (int)strcspn(word, "="), word);
	else if (opt == ':')
		snprintf(c->bad_flag, sizeof(c->bad_flag), "flag needs an argument: '%c' in -%c",
			 optopt, optopt);
	else if (optopt)
		snprintf(c->bad_flag, sizeof(c->bad_flag), "unknown shorthand flag: '%c' in -%c",
			 optopt, optopt);
	else
		snprintf(c->bad_flag, sizeof(c->bad_flag), "unknown flag: %.*s",
			 (int)strcspn(word, "="), word);
}

int flags_parse(struct ctx *c, int argc, char **argv)
{
	struct option longs[NFLAGS + 1];
	char shorts[3 * NFLAGS + 2];
	size_t ns = 0;
	int opt;

	/* ':' first: a missing argument is ':' apart from an unknown flag */
	shorts[ns++] = ':';
	for (size_t i = 0; i < NFLAGS; i++) {
		longs[i] = (struct option){ flags[i].name, flags[i].has_arg, NULL, flag_val(i) };
		if (!flags[i].short_name)
			continue;
		shorts[ns++] = (char)flags[i].short_name;
		if (flags[i].has_arg != no_argument)
			shorts[ns++] = ':';
		if (flags[i].has_arg == optional_argument)
			shorts[ns++] = ':';
	}
	longs[NFLAGS] = (struct option){ NULL, 0, NULL, 0 };
	shorts[ns] = '\0';
	opterr = 0; /* refusals are ours, worded as kubectl's */
	while ((opt = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		size_t i = 0;

		while (i < NFLAGS && flag_val(i) != opt)
			i++;
		if (i == NFLAGS) {
			flag_refused(c, argv, opt);
			continue;
		}
		if (flag_set(c, &flags[i], optarg))
			return 1;
		c->given |= UINT64_C(1) << i;
	}
	return 0;
}

/*
 * Optimal string alignment distance (Damerau-Levenshtein with adjacent
 * transpositions, each substring edited once): "form" is one edit from
 * "from".  Long words are not compared (SIZE_MAX).
 */
size_t edit_distance(const char *a, const char *b)
{
	enum { MAX = 64 };
	size_t la = strlen(a), lb = strlen(b), d[MAX + 1][MAX + 1];

	if (la > MAX || lb > MAX)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* The flag cmd takes that is one edit from "--name" (kubectl suggests no
 * flags; cobra suggests commands within 2 edits, too loose for flags such
 * as --key/--type), or NULL. */
static const char *flag_suggestion(const char *word, const struct command *cmd)
{
	const char *name = word + strspn(word, "-");

	if (strncmp(word, "--", 2) != 0)
		return NULL;
	for (size_t i = 0; cmd && i < NFLAGS; i++)
		if ((flags[i].cmds & cmd->id) && edit_distance(name, flags[i].name) == 1)
			return flags[i].name;
	return NULL;
}

/* "error: unknown flag: --x", the usage line, and a suggestion. */
static int flag_error(const char *msg, const char *word, const struct command *cmd)
{
	const char *near = flag_suggestion(word, cmd);

	die_msg("%s", msg);
	if (near)
		fprintf(stderr, "did you mean --%s?\n", near);
	if (cmd)
		fprintf(stderr, "See 'secretctl %s --help' for usage.\n", cmd->words);
	else
		fputs("See 'secretctl --help' for usage.\n", stderr);
	return 1;
}

int flags_check(const struct ctx *c, const struct command *cmd)
{
	char msg[sizeof(c->bad_flag) + 8];

	if (c->bad_flag[0]) {
		const char *word = strstr(c->bad_flag, ": ") + 2;

		return flag_error(c->bad_flag, word, cmd);
	}
	for (size_t i = 0; cmd && i < NFLAGS; i++) {
		if ((c->given >> i & 1) && !(flags[i].cmds & cmd->id)) {
			snprintf(msg, sizeof(msg), "unknown flag: --%s", flags[i].name);
			return flag_error(msg, msg + strlen("unknown flag: "), cmd);
		}
	}
	return 0;
}

/* "  -n, --namespace NS", padded to the help's column; help's later lines
 * are indented to it too. */
static void flag_line(FILE *f, const struct flag *fl)
{
	enum { COLUMN = 32 };
	char left[64];
	const char *h, *nl;
	int len;

	len = snprintf(left, sizeof(left), "  %c%c%s--%s%s%s", fl->short_name ? '-' : ' ',
		       fl->short_name ? fl->short_name : ' ', fl->short_name ? ", " : "  ",
		       fl->name, fl->arg && fl->has_arg != optional_argument ? " " : "",
		       fl->arg ? fl->arg : "");
	fputs(left, f);
	if (len >= COLUMN - 1) {
		fputc('\n', f);
		len = 0;
	}
	for (h = fl->help; h; h = nl ? nl + 1 : NULL) {
		nl = strchr(h, '\n');
		fprintf(f, "%*s%.*s\n", COLUMN - len, "", nl ? (int)(nl - h) : (int)strlen(h), h);
		len = 0;
	}
}

void flags_help(FILE *f, const struct command *cmd)
{
	bool any = false;

	for (size_t i = 0; i < NFLAGS; i++) {
		const struct flag *fl = &flags[i];

		if (cmd ? !(fl->cmds & cmd->id) || fl->cmds == CMD_ANY : !fl->global)
			continue;
		if (!any)
			fputs(cmd ? "\nFlags:\n" : "\nGlobal flags:\n", f);
		any = true;
		flag_line(f, fl);
	}
	assert(cmd || any);
}

void flags_release(struct ctx *c)
{
	for (size_t i = 0; i < NFLAGS; i++)
		if (flags[i].kind == FLAG_LIST)
			free(*(const char ***)((char *)c + flags[i].off));
	free(c->label_cols);
}
