/*
 * cmd.h - what secretctl's command files share: the parsed command line
 * (struct ctx), the command and flag tables, and the helpers every
 * command uses (opening the store, writing, printing, reporting).
 *
 * Layout, as git's builtin/: main.c dispatches, flags.c declares every
 * flag once, common.c holds the helpers below, and each command family
 * has its file (create.c, get.c, delete.c, namespace.c, label.c, apply.c,
 * edit.c, exec.c, keys.c, status.c, watch.c, kubeconfig.c, patch.c, diff.c).  The libraries they call
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

/* The commands, as bits, so that a flag's row can say which take it (64 of
 * them at most: cmd_mask). */
typedef uint64_t cmd_mask;
#define CMD_BIT(n) ((cmd_mask)1 << (n))
#define CMD_INIT              CMD_BIT(0)
#define CMD_CREATE_NAMESPACE  CMD_BIT(1)
#define CMD_CREATE_GENERIC    CMD_BIT(2)
#define CMD_CREATE_TLS        CMD_BIT(3)
#define CMD_CREATE_DOCKER     CMD_BIT(4)
#define CMD_GET_NAMESPACES    CMD_BIT(5)
#define CMD_GET_SECRETS       CMD_BIT(6)
#define CMD_DESCRIBE          CMD_BIT(7)
#define CMD_DELETE_NAMESPACES CMD_BIT(8)
#define CMD_DELETE_SECRETS    CMD_BIT(9)
#define CMD_LABEL             CMD_BIT(10)
#define CMD_ANNOTATE          CMD_BIT(11)
#define CMD_APPLY             CMD_BIT(12)
#define CMD_CREATE_F          CMD_BIT(13)
#define CMD_REPLACE           CMD_BIT(14)
#define CMD_DELETE_F          CMD_BIT(15)
#define CMD_EXEC              CMD_BIT(16)
#define CMD_ENV               CMD_BIT(17)
#define CMD_EDIT              CMD_BIT(18)
#define CMD_STATUS            CMD_BIT(19)
#define CMD_ROTATE_KEY        CMD_BIT(20)
#define CMD_REKEY             CMD_BIT(21)
#define CMD_GET_KEYS          CMD_BIT(22)
#define CMD_DELETE_KEYS       CMD_BIT(23)
#define CMD_GET_EVENTS        CMD_BIT(24)
#define CMD_WATCH             CMD_BIT(25)
#define CMD_KUBECONFIG        CMD_BIT(26)
#define CMD_PKI_INIT          CMD_BIT(27)
#define CMD_API_RESOURCES     CMD_BIT(28)
#define CMD_PODMAN            CMD_BIT(29)
#define CMD_VERSION           CMD_BIT(30)
#define CMD_PATCH             CMD_BIT(31)
#define CMD_DIFF              CMD_BIT(32)
/* every command's bit: the next free one, less one */
#define CMD_ANY (CMD_BIT(33) - 1)
/* families, for the flag table */
#define CMD_CREATE_SECRET (CMD_CREATE_GENERIC | CMD_CREATE_TLS | CMD_CREATE_DOCKER)
#define CMD_PAIRS (CMD_LABEL | CMD_ANNOTATE)
#define CMD_MANIFESTS (CMD_APPLY | CMD_CREATE_F | CMD_REPLACE | CMD_DELETE_F)
#define CMD_ENVIRONMENT (CMD_EXEC | CMD_ENV)

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
	const char *sort_by, *field_selector; /* get: --sort-by, --field-selector */
	bool no_headers, ignore_not_found;
	bool watch, watch_only, watch_events; /* get -w, --watch-only, --output-watch-events */
	bool client_only;    /* version --client */
	char *passphrase;
	const char **literals, **files, **env_files, **manifests;
	size_t nliterals, nfiles, nenv_files, nmanifests;
	bool help;
	char bad_flag[96];   /* "unknown flag: --x": the first refused, reported by flags_check */
	uint64_t given;      /* bit i: flags[i] (flags.c) is on the command line */
	char **args;         /* positional arguments after the command words */
	int nargs;
	struct conf cfg;
	bool have_cfg;
	struct store *st;
	struct store_writer *w; /* every write: to the store, or to etcd */
	struct cluster *cl;  /* [cluster]: w's, for reading etcd */
	bool no_sync;        /* cluster mode: show the node's copy as it is */
	const char **groups, **sans; /* kubeconfig --group, init --san */
	size_t ngroups, nsans;
	const char *server, *ttl, *context_name; /* kubeconfig */
};

struct command {
	const char *words;   /* "create secret generic" */
	int (*fn)(struct ctx *);
	cmd_mask id;         /* its CMD_* bit */
	enum { ARGS_ANY, ARGS_NONE, ARGS_ONE } args; /* positional arguments */
	const char *usage;
	const char *help;    /* what it does; its flags come from flags.c */
	const char *examples; /* kubectl's "Examples:" section: "# why\ncommand\n\n..." */
};

/* --- flags.c: every flag, declared once ------------------------------------ */

/* Parse argv's flags into c (positional arguments stay in argv, permuted
 * to the end from optind on, as getopt_long leaves them).  0, or 1 after
 * printing why. */
int flags_parse(struct ctx *c, int argc, char **argv);
/* 0 if cmd takes every flag given and getopt refused none, else 1 after
 * naming the first bad one as kubectl does ("unknown flag: --x", "See
 * 'secretctl CMD --help' for usage.", and a flag one edit away if cmd takes
 * one).  cmd NULL: only the refused ones, pointing at 'secretctl --help'. */
int flags_check(const struct ctx *c, const struct command *cmd);
/* The optimal-string-alignment (Damerau-Levenshtein) distance of a and b;
 * SIZE_MAX for words over 64 bytes. */
size_t edit_distance(const char *a, const char *b);
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
/* What kubectl adds to "secret/NAME created" and the like for --dry-run:
 * "", " (dry run)" or " (server dry run)". */
const char *dry_run_note(const struct ctx *c);
/* Print obj as -o json or yaml asks, and drop the reference. */
int print_object(const struct ctx *c, json_t *obj);
/* The secrets named on the command line (or all of the namespace, or of
 * every namespace with -A) that the -l selector matches, without values;
 * missing counts the names not found (each reported).  Free with
 * store_secret_list_free(). */
int load_secrets(struct ctx *c, struct store_secret ***out, size_t *n, int *missing);

/* --- printer.c: kubectl get's printers ---------------------------------------- */

enum printer_kind {
	PRINT_TABLE, PRINT_WIDE, PRINT_JSON, PRINT_YAML, PRINT_NAME, PRINT_JSONPATH,
	PRINT_JSONPATH_JSON, PRINT_COLUMNS,
};

/* -o and --sort-by, parsed once before anything is read. */
struct printer {
	enum printer_kind kind;
	struct jsonpath *jp;       /* jsonpath=, jsonpath-as-json=, jsonpath-file= */
	char **heads;              /* custom-columns: headers and their paths */
	struct jsonpath **cols;
	size_t ncols;
	struct jsonpath *sort;     /* --sort-by, or NULL */
	const char *sort_spec;
};

/* 0, or 1 after saying what is wrong with -o or --sort-by. */
int printer_init(struct printer *p, const struct ctx *c);
void printer_release(struct printer *p);
/* Does printing (or sorting) need the objects, values included? */
bool printer_needs_objects(const struct printer *p);
/* order[0..n): objs' indexes as --sort-by sorts them (stable).  0, or 1
 * after saying why (no object has the field; values that do not sort). */
int printer_sort(const struct printer *p, json_t *const *objs, size_t n, size_t *order);
void printer_columns_head(const struct printer *p, struct table *t);
int printer_columns_row(const struct printer *p, const json_t *obj, struct table *t);
/* -o json, yaml, jsonpath...: one object (or a List). */
int printer_object(const struct printer *p, const json_t *obj);

/* kubectl's tabwriter: columns as wide as their widest cell plus 3 (at
 * least 6), remembered from one print to the next (a watch's rows). */
#define TW_MAX_COLS 32
struct tw {
	size_t width[TW_MAX_COLS];
};
/* Print t from row `from` on (0: with its header). */
void tw_print(struct tw *tw, const struct table *t, size_t from);

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
/* The views of running daemons (of c's store) that require ns/name, as
 * '"view" (secretfs PID), ...' (malloc'd), or NULL if none. */
char *status_views_requiring(const struct ctx *c, const char *ns, const char *name);
int cmd_watch(struct ctx *c);			/* watch.c */
int cmd_kubeconfig(struct ctx *c);		/* kubeconfig.c */
int cmd_pki_init(struct ctx *c);
/* init's part: the PKI beside the new store's key file (0, or 1 after
 * printing why). */
int pki_init_for_store(struct ctx *c);
int cmd_api_resources(struct ctx *c);		/* main.c: the resource table is there */
int cmd_podman_driver(struct ctx *c);		/* podman.c */
/* Call fn for each change after revision since as it is committed, until
 * fn returns nonzero (returned); 1 after saying why if the store fails. */
int watch_follow(struct ctx *c, int64_t since, store_change_fn fn, void *arg);
int cmd_version(struct ctx *c);			/* version.c */
int cmd_patch(struct ctx *c);			/* patch.c */
int cmd_diff(struct ctx *c);			/* diff.c */

#endif
