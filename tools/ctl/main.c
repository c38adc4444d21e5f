/*
 * main.c - secretctl, the admin tool for a secretfs store, shaped after
 * kubectl: the command table and the dispatch.
 *
 * A command is found by its leading words ("create secret generic"; kubectl's
 * singular, plural and short resource names and its TYPE/NAME form
 * accepted), after every flag has been parsed wherever it stands
 * (flags.c); 'secretctl --help' lists every command, and each has --help.
 * Every failure prints "error: ..." naming the object and the reason, exits
 * 1, and leaves the store as it was (each write is one transaction).
 */
#include <assert.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <sodium.h>

#include "cmd.h"
#include "conf/passphrase.h"

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

/* --- the command table ------------------------------------------------ */

static const struct command commands[] = {
	{ "init", cmd_init, CMD_INIT, ARGS_NONE, "secretctl init",
	  "Create a new store and a new random master key file (mode 0400), with the\n"
	  "\"default\" namespace.  Paths come from [store] in the configuration.\n"
	  "Refuses to overwrite an existing store or key file.\n"
	  "With [cluster] configured, the first node founds the cluster in etcd; on\n"
	  "the others, with a copy of its master key file in place, the new store\n"
	  "joins it." },
	{ "create namespace", cmd_create_namespace, CMD_CREATE_NAMESPACE, ARGS_ANY,
	  "secretctl create namespace NAME", "Create a namespace." },
	{ "create secret generic", cmd_create_secret_generic, CMD_CREATE_GENERIC, ARGS_ONE,
	  "secretctl create secret generic NAME [--type=TYPE] [--immutable]\n"
	  "        [--from-literal=KEY=VALUE]... [--from-file=[KEY=]PATH]... [--from-env-file=PATH]... [-n NS]",
	  "Create a secret from files, folders, env files or literal values." },
	{ "create secret tls", cmd_create_secret_tls, CMD_CREATE_TLS, ARGS_ONE,
	  "secretctl create secret tls NAME --cert=PATH --key=PATH [-n NS] [--dry-run=client -o yaml|json]",
	  "Create a kubernetes.io/tls secret from a PEM certificate and its PEM private\n"
	  "key; they are checked to belong together." },
	{ "create secret docker-registry", cmd_create_secret_docker_registry, CMD_CREATE_DOCKER, ARGS_ONE,
	  "secretctl create secret docker-registry NAME --docker-username=U --docker-password=P\n"
	  "        [--docker-server=URL] [--docker-email=E] [-n NS] | --from-file=.dockerconfigjson=PATH",
	  "Create a kubernetes.io/dockerconfigjson secret holding the same document\n"
	  "kubectl writes (auth included).  --docker-server defaults to\n"
	  "https://index.docker.io/v1/.  The password is visible in the process list:\n"
	  "prefer --from-file." },
	{ "get namespaces", cmd_get_namespaces, CMD_GET_NAMESPACES, ARGS_ANY,
	  "secretctl get namespaces [NAME...] [-o json|yaml|name]", "List namespaces." },
	{ "get secrets", cmd_get_secrets, CMD_GET_SECRETS, ARGS_ANY,
	  "secretctl get secrets [NAME...] [-n NS | -A] [-l SELECTOR] [-o json|yaml|name|wide|jsonpath=TEMPLATE]\n"
	  "        [--show-labels] [-L KEY,...]",
	  "List secrets (NAME TYPE DATA AGE), or print them as Kubernetes objects with\n"
	  "base64 values (-o json, -o yaml).  --show-labels adds a LABELS column, -L a\n"
	  "column for each label key given." },
	{ "describe secrets", cmd_describe_secret, CMD_DESCRIBE, ARGS_ANY,
	  "secretctl describe secret [NAME...] [-n NS]",
	  "Show secrets' metadata and the size of each value, never the values." },
	{ "delete namespaces", cmd_delete_namespace, CMD_DELETE_NAMESPACES, ARGS_ANY,
	  "secretctl delete namespace NAME...",
	  "Delete namespaces and every secret in them (\"default\" cannot be deleted)." },
	{ "delete secrets", cmd_delete_secret, CMD_DELETE_SECRETS, ARGS_ANY,
	  "secretctl delete secret NAME... [-n NS] | -l SELECTOR", "Delete secrets, by name or by label." },
	{ "label secrets", cmd_label, CMD_LABEL, ARGS_ANY,
	  "secretctl label secret NAME... KEY=VALUE... KEY-... [--overwrite] [-n NS]\n"
	  "        | -l SELECTOR | --all [-A]   [--list] [--resource-version=V] [--dry-run=client] [-o json|yaml|name]",
	  "Add, change (--overwrite) or remove (KEY-) labels of secrets, as kubectl label:\n"
	  "keys are qualified names (example.com/name), values up to 63 characters of\n"
	  "[A-Za-z0-9._-].  A value already set is changed only with --overwrite.\n"
	  "Prints labeled, unlabeled or not labeled; --list prints the labels instead.\n"
	  "Nothing is written when nothing changes.  An immutable secret's labels may\n"
	  "change; its data never does." },
	{ "annotate secrets", cmd_annotate, CMD_ANNOTATE, ARGS_ANY,
	  "secretctl annotate secret NAME... KEY=VALUE... KEY-... [--overwrite] [-n NS]\n"
	  "        | -l SELECTOR | --all [-A]   [--list] [--resource-version=V] [--dry-run=client] [-o json|yaml|name]",
	  "Add, change (--overwrite) or remove (KEY-) annotations of secrets, as kubectl\n"
	  "annotate: keys are qualified names, values any text; all of a secret's\n"
	  "annotations together at most 256 KiB." },
	{ "apply", cmd_apply, CMD_APPLY, ARGS_ANY,
	  "secretctl apply -f FILE|DIR|- [-n NS] [--dry-run=client|server] [-o yaml|json|name]",
	  "Create or update the Secrets of manifests (YAML or JSON; several documents,\n"
	  "kind: List; a folder's .yaml, .yml and .json files).  Other kinds are skipped\n"
	  "with a notice.  As with kubectl, a key given twice, an apiVersion other than\n"
	  "v1 and a number where a string belongs are refused, and so is a NUL byte in a\n"
	  "name or key; a secret has at most 4096 keys.  All objects are checked first\n"
	  "and written in one transaction: one bad object changes nothing.  Prints\n"
	  "created, configured or unchanged.\n"
	  "Updates are kubectl's three-way merge: what the manifest says wins; a key,\n"
	  "label or annotation the previous apply set and the manifest no longer has\n"
	  "is removed; what was never applied (create, label, annotate, edit, patch)\n"
	  "stays.  The previous apply is kept in kubectl's annotation\n"
	  "kubectl.kubernetes.io/last-applied-configuration, every value under data\n"
	  "and stringData replaced by ***: the merge needs only the key names.\n"
	  "--dry-run prints what would result (-o yaml|json) and writes nothing.\n"
	  "\n"
	  "Examples:\n"
	  "  secretctl apply -f db.yaml\n"
	  "  # what the store would hold, checked by its rules, nothing written\n"
	  "  secretctl apply -f db.yaml --dry-run=server -o yaml\n"
	  "  kubectl create secret generic db --from-file=password --dry-run=client -o yaml | secretctl apply -f -" },
	{ "patch secrets", cmd_patch, CMD_PATCH, ARGS_ONE,
	  "secretctl patch secret NAME -p PATCH | --patch-file FILE [--type=strategic|merge|json]\n"
	  "        [-n NS] [--dry-run=client|server] [-o yaml|json|name]",
	  "Change a secret with a patch, as kubectl patch: a strategic merge patch (the\n"
	  "default; for a Secret a JSON merge patch plus the directives $patch,\n"
	  "$retainKeys, $setElementOrder and $deleteFromPrimitiveList on finalizers and\n"
	  "ownerReferences), a JSON merge patch (RFC 7386) or a JSON patch (RFC 6902).\n"
	  "The result is checked by the same rules as any write.  Prints patched, or\n"
	  "patched (no change).\n"
	  "\n"
	  "Examples:\n"
	  "  # add a key (values are base64, as in a manifest)\n"
	  "  secretctl patch secret db -p '{\"data\":{\"port\":\"NTQzMg==\"}}'\n"
	  "  # remove a label\n"
	  "  secretctl patch secret db --type=merge -p '{\"metadata\":{\"labels\":{\"tier\":null}}}'\n"
	  "  # a JSON patch, guarded by a test\n"
	  "  secretctl patch secret db --type=json -p '[{\"op\":\"test\",\"path\":\"/type\",\"value\":\"Opaque\"},\n"
	  "      {\"op\":\"remove\",\"path\":\"/data/old\"}]'\n"
	  "  # a patch holding a value: from a file, not the command line\n"
	  "  secretctl patch secret db --patch-file new-password.yaml" },
	{ "diff", cmd_diff, CMD_DIFF, ARGS_NONE,
	  "secretctl diff -f FILE|DIR|- [-n NS]",
	  "Show what 'apply -f' would change, as kubectl diff: a unified diff of each\n"
	  "live Secret and the result of applying its manifest (checked by the store's\n"
	  "rules, nothing written), values shown as *** (*** (before) and *** (after)\n"
	  "where a value changes).  $KUBECTL_EXTERNAL_DIFF, if set, is the diff program\n"
	  "and its flags (default \"diff -u -N\"); it is given two folders, LIVE and\n"
	  "MERGED, of masked files.  Exit status: 0 no differences, 1 differences,\n"
	  "above 1 an error.\n"
	  "\n"
	  "Examples:\n"
	  "  secretctl diff -f db.yaml\n"
	  "  # in a script: apply only if something would change\n"
	  "  secretctl diff -f manifests/ >/dev/null; [ $? -eq 1 ] && secretctl apply -f manifests/" },
	{ "create", cmd_create_f, CMD_CREATE_F, ARGS_ANY,
	  "secretctl create -f FILE|DIR|- [-n NS]", "Create the Secrets of manifests; none may exist." },
	{ "replace", cmd_replace, CMD_REPLACE, ARGS_ANY,
	  "secretctl replace -f FILE|DIR|- [-n NS]", "Replace existing Secrets from manifests." },
	{ "delete", cmd_delete_f, CMD_DELETE_F, ARGS_ANY,
	  "secretctl delete -f FILE|DIR|- [-n NS]", "Delete the Secrets named by manifests." },
	{ "exec", cmd_exec, CMD_EXEC, ARGS_ANY,
	  "secretctl exec [-n NS] --from SECRET... [--prefix P] -- COMMAND [ARGS...]",
	  "Run COMMAND with the secrets' keys as environment variables (a later --from\n"
	  "wins on a shared name).  Keys that are not valid variable names are skipped\n"
	  "with a warning and an InvalidEnvironmentVariableNames event." },
	{ "env", cmd_env, CMD_ENV, ARGS_NONE,
	  "secretctl env [-n NS] --from SECRET... [--prefix P]",
	  "Print the secrets' keys as 'export NAME=VALUE' lines for a shell:\n"
	  "  eval \"$(secretctl env --from db)\"" },
	{ "edit secrets", cmd_edit_secret, CMD_EDIT, ARGS_ONE,
	  "secretctl edit secret NAME [-n NS]",
	  "Edit a secret in $VISUAL or $EDITOR (values in base64, or add stringData).\n"
	  "It is checked on save; on an error the file reopens with the error on top.\n"
	  "Nothing changes unless the edit is valid.  The file is kept in a tmpfs that\n"
	  "only secretctl and the editor see, mode 0600, wiped afterwards and on any\n"
	  "fatal signal; it goes with them even on SIGKILL." },
	{ "status", cmd_status, CMD_STATUS, ARGS_ANY, "secretctl status",
	  "Show the store (path, revision, namespace and secret counts, key ring) and\n"
	  "every running secretfs serving it: each mount, its view, the revision it\n"
	  "serves and how far it lags behind the store.  In cluster mode, also etcd's\n"
	  "revision and how far this node's store is behind it." },
	{ "rotate-key", cmd_rotate_key, CMD_ROTATE_KEY, ARGS_NONE, "secretctl rotate-key",
	  "Add a new data key, make it the one that seals, and re-seal every secret\n"
	  "under it in batches of 500 (one transaction each); readers keep reading.\n"
	  "Then retire the old key with 'secretctl delete key ID'." },
	{ "rekey", cmd_rekey, CMD_REKEY, ARGS_NONE, "secretctl rekey [--to-passphrase [--new-passphrase-fd N]]",
	  "Replace the master key, wrapping only the data keys again (values are not\n"
	  "touched): by a new random key file in the configured key file's place, or\n"
	  "with --to-passphrase by a key derived from a passphrase (Argon2id), read from\n"
	  "the terminal or --new-passphrase-fd N, never from the command line.  A store\n"
	  "with a passphrase opens with --passphrase-fd N or asks on a terminal.  An\n"
	  "interrupted key-file rekey is finished by the next open." },
	{ "get keys", cmd_get_keys, CMD_GET_KEYS, ARGS_ANY, "secretctl get keys",
	  "List the data-key ring: ID, STATE (active or retiring), how many secrets\n"
	  "each key still seals, AGE." },
	{ "delete keys", cmd_delete_key, CMD_DELETE_KEYS, ARGS_ANY, "secretctl delete key ID",
	  "Retire a data key that seals no secret any more." },
	{ "get events", cmd_get_events, CMD_GET_EVENTS, ARGS_NONE,
	  "secretctl get events [-n NS | -A]",
	  "List events: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE." },
	{ "watch", cmd_watch, CMD_WATCH, ARGS_ANY,
	  "secretctl watch [NAME] [-n NS | -A]",
	  "Print each change to secrets (and namespaces) as it is committed, one line\n"
	  "each: revision, ADDED/MODIFIED/DELETED, namespace, secret, generation.\n"
	  "Runs until interrupted.  An app can reload on each line about its secret." },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Each command has a CMD_* bit of its own, and every bit a command: the
 * flag table's "which commands take it" relies on both. */
static void commands_check(void)
{
	unsigned seen = 0;

	for (size_t i = 0; i < NCOMMANDS; i++) {
		assert(commands[i].id && !(commands[i].id & (commands[i].id - 1)));
		assert(!(seen & commands[i].id));
		seen |= commands[i].id;
	}
	assert(seen == CMD_ANY);
	(void)seen;
}

static void usage_all(FILE *f)
{
	fputs("secretctl - manage the secrets that secretfs serves, the way kubectl does\n\n"
	      "Usage:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].usage);
	flags_help(f, NULL);
}

/* 'secretctl CMD --help': what it does, its usage, its flags. */
static void command_help(const struct command *cmd)
{
	printf("%s\n\nUsage:\n  %s\n", cmd->help, cmd->usage);
	flags_help(stdout, cmd);
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

/* Find the command, answer --help or run it with c's arguments past its
 * words; its exit status. */
static int dispatch(struct ctx *c)
{
	const struct command *cmd;
	int used = 0;

	if (type_slash_name(c))
		return 1;
	if (c->nargs == 0) {
		usage_all(c->help ? stdout : stderr);
		return c->help ? 0 : 1;
	}
	cmd = find_command(c->args, c->nargs, &used);
	if (!cmd) {
		if (c->help) { /* "label --help": every command that starts so */
			size_t len = strlen(c->args[0]), shown = 0;

			for (size_t i = 0; i < NCOMMANDS; i++) {
				if (strncmp(commands[i].words, c->args[0], len) != 0 ||
				    (commands[i].words[len] != ' ' && commands[i].words[len]))
					continue;
				if (shown++)
					putchar('\n');
				command_help(&commands[i]);
			}
			if (!shown)
				usage_all(stdout);
			return 0;
		}
		die_msg("unknown command \"%s\"", c->args[0]);
		fputs("Run 'secretctl --help' for usage.\n", stderr);
		return 1;
	}
	if (c->help) {
		command_help(cmd);
		return 0;
	}
	if (flags_check(c, cmd))
		return 1;
	if (c->all_ns && c->ns)
		return die_msg("--namespace and --all-namespaces cannot be used together");
	c->args += used;
	c->nargs -= used;
	if (cmd->args == ARGS_NONE && c->nargs)
		return die_msg("%s takes no arguments", cmd->words);
	if (cmd->args == ARGS_ONE && c->nargs != 1)
		return die_msg("exactly one NAME is required, got %d", c->nargs);
	return cmd->fn(c);
}

int main(int argc, char **argv)
{
	struct ctx c = { .passphrase_fd = -1, .new_passphrase_fd = -1 };
	int ret;

	harden_process();
	commands_check();
	if (sodium_init() < 0)
		return die_msg("cannot initialise libsodium");
	json_set_alloc_funcs(wiping_malloc, wiping_free);
	if (flags_parse(&c, argc, argv)) {
		flags_release(&c);
		return 1;
	}
	c.args = argv + optind;
	c.nargs = argc - optind;
	ret = dispatch(&c);
	store_writer_free(c.w);
	store_close(c.st);
	if (c.have_cfg)
		conf_release(&c.cfg);
	flags_release(&c);
	passphrase_free(c.passphrase);
	return ret;
}
