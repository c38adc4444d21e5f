/*
 * cmd.h - what secretctl's command files share: the parsed command line
 * (struct ctx), the command and flag tables, and the helpers every
 * command uses (opening the store, writing, printing, reporting).
 *
 * Layout, as git's builtin/: main.c dispatches, flags.c declares every
 * flag once, common.c holds the helpers below, and each command family
 * has its file (create.c, get.c, delete.c, namespace.c, label.c, apply.c,
 * edit.c, exec.c, keys.c, status.c, watch.c, patch.c, diff.c).  The libraries they call
 * (output, input, manifests, selectors) are declared in ../ctl.h.
 */
#ifndef SECRETFS_CTL_CMD_H
#define SECRETFS_CTL_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "../ctl.h"
#include "conf/conf.h"
#include "store/cluster.h"

/* The commands, as bits, so that a flag's row can say which take it. */
enum {
	CMD_INIT = 1u << 0,
	CMD_CREATE_NAMESPACE = 1u << 1,
	CMD_CREATE_GENERIC = 1u << 2,
	CMD_CREATE_TLS = 1u << 3,
	CMD_CREATE_DOCKER = 1u << 4,
	CMD_GET_NAMESPACES = 1u << 5,
	CMD_GET_SECRETS = 1u << 6,
	CMD_DESCRIBE = 1u << 7,
	CMD_DELETE_NAMESPACES = 1u << 8,
	CMD_DELETE_SECRETS = 1u << 9,
	CMD_LABEL = 1u << 10,
	CMD_ANNOTATE = 1u << 11,
	CMD_APPLY = 1u << 12,
	CMD_CREATE_F = 1u << 13,
	CMD_REPLACE = 1u << 14,
	CMD_DELETE_F = 1u << 15,
	CMD_EXEC = 1u << 16,
	CMD_ENV = 1u << 17,
	CMD_EDIT = 1u << 18,
	CMD_STATUS = 1u << 19,
	CMD_ROTATE_KEY = 1u << 20,
	CMD_REKEY = 1u << 21,
	CMD_GET_KEYS = 1u << 22,
	CMD_DELETE_KEYS = 1u << 23,
	CMD_GET_EVENTS = 1u << 24,
	CMD_WATCH = 1u << 25,
	CMD_PATCH = 1u << 26,
	CMD_DIFF = 1u << 27,
	CMD_ANY = (1u << 28) - 1,
	/* families, for the flag table */
	CMD_CREATE_SECRET = CMD_CREATE_GENERIC | CMD_CREATE_TLS | CMD_CREATE_DOCKER,
	CMD_PAIRS = CMD_LABEL | CMD_ANNOTATE,
	CMD_MANIFESTS = CMD_APPLY | CMD_CREATE_F | CMD_REPLACE | CMD_DELETE_F,
	CMD_ENVIRONMENT = CMD_EXEC | CMD_ENV,
};

/* The command line, parsed: what every flag set, and the store once a
 * command has opened it. */
struct ctx {
	const char *config_path;
	const char *ns;
	bool all_ns;
	const char *output;
	const char *type;
	bool immutable;
	bool dry_run, append_hash;
	bool dry_run_server; /* --dry-run=server: the store's rules, nothing written */
	const char *patch, *patch_file; /* patch -p, --patch-file */
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
	bool help;
	uint64_t given;      /* bit i: flags[i] (flags.c) is on the command line */
	char **args;         /* positional arguments after the command words */
	int nargs;
	struct conf cfg;
	bool have_cfg;
	struct store *st;
	struct store_writer *w; /* every write: to the store, or to etcd */
	struct cluster *cl;  /* [cluster]: w's, for reading etcd */
	bool no_sync;        /* cluster mode: show the node's copy as it is */
};

struct command {
	const char *words;   /* "create secret generic" */
	int (*fn)(struct ctx *);
	unsigned id;         /* its CMD_* bit */
	enum { ARGS_ANY, ARGS_NONE, ARGS_ONE } args; /* positional arguments */
	const char *usage;
	const char *help;    /* what it does; its flags come from flags.c */
};

/* --- flags.c: every flag, declared once ------------------------------------ */

/* Parse argv's flags into c (positional arguments stay in argv, permuted
 * to the end from optind on, as getopt_long leaves them).  0, or 1 after
 * printing why. */
int flags_parse(struct ctx *c, int argc, char **argv);
/* 0 if cmd takes every flag given, else 1 after naming the first that it
 * does not take. */
int flags_check(const struct ctx *c, const struct command *cmd);
/* The "Flags:" section of cmd's help (nothing if it takes none), or with
 * cmd NULL the global flags of 'secretctl --help'. */
void flags_help(FILE *f, const struct command *cmd);
/* Free what the list flags collected. */
void flags_release(struct ctx *c);

/* --- common.c: helpers every command uses ---------------------------------- */

/* "error: " and the message on stderr; returns 1, the exit status. */
int die_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* -n, or "default". */
const char *ns_of(const struct ctx *c);
/* Read the configuration once (0, or 1 after printing why). */
int load_config(struct ctx *c);
/* Open the store (asking for its passphrase on a terminal), and in cluster
 * mode catch up with etcd.  0, or 1 after printing why. */
int open_store(struct ctx *c);
const char *write_errmsg(const struct ctx *c);
int write_secret(struct ctx *c, struct store_secret *s, enum store_put_mode mode,
		 enum store_put_result *res);
int write_delete(struct ctx *c, const char *ns, const char *name);
/* 0 outside cluster mode, else 1 after saying what is missing there. */
int not_in_cluster(const struct ctx *c, const char *what);
/* Is -o one of allowed ("json,yaml,name"; "jsonpath" admits jsonpath=)? */
int check_output(const struct ctx *c, const char *allowed);
bool output_is(const struct ctx *c, const char *fmt);
/* Print obj as -o json or yaml asks, and drop the reference. */
int print_object(const struct ctx *c, json_t *obj);
/* The secrets named on the command line (or all of the namespace, or of
 * every namespace with -A) that the -l selector matches, without values;
 * missing counts the names not found (each reported).  Free with
 * store_secret_list_free(). */
int load_secrets(struct ctx *c, struct store_secret ***out, size_t *n, int *missing);

/* label and annotate: the same command on one of the two maps. */
struct pair_kind {
	const char *noun;  /* "label" */
	const char *done;  /* "labeled" */
	bool labels;
};

extern const struct pair_kind label_kind, annotation_kind;
const struct store_pair *pairs_of(const struct store_secret *s,
				  const struct pair_kind *k, size_t *n);
/* The value of key in s's labels or annotations, or NULL. */
const char *pair_value(const struct store_secret *s, const struct pair_kind *k,
		       const char *key);

/* --- the commands, one file per family -------------------------------------- */

int cmd_init(struct ctx *c);			/* keys.c */
int cmd_rotate_key(struct ctx *c);
int cmd_get_keys(struct ctx *c);
int cmd_delete_key(struct ctx *c);
int cmd_rekey(struct ctx *c);
int cmd_create_namespace(struct ctx *c);	/* namespace.c */
int cmd_get_namespaces(struct ctx *c);
int cmd_delete_namespace(struct ctx *c);
int cmd_create_secret_generic(struct ctx *c);	/* create.c */
int cmd_create_secret_tls(struct ctx *c);
int cmd_create_secret_docker_registry(struct ctx *c);
int cmd_get_secrets(struct ctx *c);		/* get.c */
int cmd_describe_secret(struct ctx *c);
int cmd_get_events(struct ctx *c);
int cmd_delete_secret(struct ctx *c);		/* delete.c */
int cmd_label(struct ctx *c);			/* label.c */
int cmd_annotate(struct ctx *c);
int cmd_apply(struct ctx *c);			/* apply.c */
int cmd_create_f(struct ctx *c);
int cmd_replace(struct ctx *c);
int cmd_delete_f(struct ctx *c);
/* What apply would make of each Secret of the -f manifests, for diff:
 * fn(live or NULL, result, ctx) per object, result checked by the store's
 * rules and nothing written.  0, or 1 after printing why. */
int apply_each(struct ctx *c, int (*fn)(const json_t *live, const json_t *result, void *arg),
	       void *arg);
int cmd_edit_secret(struct ctx *c);		/* edit.c */
int cmd_exec(struct ctx *c);			/* exec.c */
int cmd_env(struct ctx *c);
int cmd_status(struct ctx *c);			/* status.c */
int cmd_watch(struct ctx *c);			/* watch.c */
int cmd_patch(struct ctx *c);			/* patch.c */
int cmd_diff(struct ctx *c);			/* diff.c */

#endif
