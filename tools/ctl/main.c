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
#include <ctype.h>
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
	  "joins it.",
	  "  # A new store and key file where the configuration says\n"
	  "  secretctl init\n\n"
	  "  # ... or for a store of its own\n"
	  "  secretctl -c ./secretfs.ini init" },
	{ "create namespace", cmd_create_namespace, CMD_CREATE_NAMESPACE, ARGS_ANY,
	  "secretctl create namespace NAME", "Create a namespace.",
	  "  # Create a namespace named shop\n"
	  "  secretctl create namespace shop" },
	{ "create secret generic", cmd_create_secret_generic, CMD_CREATE_GENERIC, ARGS_ONE,
	  "secretctl create secret generic NAME [--type=TYPE] [--immutable]\n"
	  "        [--from-literal=KEY=VALUE]... [--from-file=[KEY=]PATH]... [--from-env-file=PATH]... [-n NS]",
	  "Create a secret from files, folders, env files or literal values.",
	  "  # Create a new secret named my-secret with keys for each file in folder bar\n"
	  "  secretctl create secret generic my-secret --from-file=path/to/bar\n\n"
	  "  # Create a new secret named my-secret with specified keys instead of names on disk\n"
	  "  secretctl create secret generic my-secret --from-file=ssh-privatekey=path/to/id_rsa\n\n"
	  "  # Create a new secret named my-secret with key1=supersecret and key2=topsecret\n"
	  "  secretctl create secret generic my-secret --from-literal=key1=supersecret --from-literal=key2=topsecret\n\n"
	  "  # Create a new secret named my-secret from env files, in namespace shop\n"
	  "  secretctl create secret generic my-secret -n shop --from-env-file=path/to/foo.env\n\n"
	  "  # Print the object kubectl would send, and create nothing\n"
	  "  secretctl create secret generic my-secret --from-literal=k=v --dry-run=client -o yaml" },
	{ "create secret tls", cmd_create_secret_tls, CMD_CREATE_TLS, ARGS_ONE,
	  "secretctl create secret tls NAME --cert=PATH --key=PATH [-n NS] [--dry-run=client -o yaml|json]",
	  "Create a kubernetes.io/tls secret from a PEM certificate and its PEM private\n"
	  "key; they are checked to belong together.",
	  "  # Create a new TLS secret named tls-secret with the given key pair\n"
	  "  secretctl create secret tls tls-secret --cert=path/to/tls.crt --key=path/to/tls.key" },
	{ "create secret docker-registry", cmd_create_secret_docker_registry, CMD_CREATE_DOCKER, ARGS_ONE,
	  "secretctl create secret docker-registry NAME --docker-username=U --docker-password=P\n"
	  "        [--docker-server=URL] [--docker-email=E] [-n NS] | --from-file=.dockerconfigjson=PATH",
	  "Create a kubernetes.io/dockerconfigjson secret holding the same document\n"
	  "kubectl writes (auth included).  --docker-server defaults to\n"
	  "https://index.docker.io/v1/.  The password is visible in the process list:\n"
	  "prefer --from-file.",
	  "  # Create a new secret for use with registry credentials from a file\n"
	  "  secretctl create secret docker-registry my-secret --from-file=.dockerconfigjson=path/to/.docker/config.json\n\n"
	  "  # ... or from the flags (the password shows in the process list)\n"
	  "  secretctl create secret docker-registry my-secret --docker-server=registry.example.com \\\n"
	  "      --docker-username=user --docker-password=pass --docker-email=user@example.com" },
	{ "get namespaces", cmd_get_namespaces, CMD_GET_NAMESPACES, ARGS_ANY,
	  "secretctl get namespaces [NAME...] [-o FORMAT] [--sort-by=PATH] [--no-headers] [-w]",
	  "List namespaces, with the printers of get secrets.",
	  "  # List all namespaces\n"
	  "  secretctl get namespaces\n\n"
	  "  # Their names only\n"
	  "  secretctl get ns -o name\n\n"
	  "  # Chosen columns\n"
	  "  secretctl get namespaces -o custom-columns=NAME:.metadata.name,CREATED:.metadata.creationTimestamp\n\n"
	  "  # Each change as it happens, with its event\n"
	  "  secretctl get namespaces --watch-only --output-watch-events" },
	{ "get secrets", cmd_get_secrets, CMD_GET_SECRETS, ARGS_ANY,
	  "secretctl get secrets [NAME...] [-n NS | -A] [-l SELECTOR] [--field-selector F] [-o FORMAT]\n"
	  "        [--sort-by=PATH] [--no-headers] [--ignore-not-found] [-w | --watch-only [--output-watch-events]]\n"
	  "        [--show-labels] [-L KEY,...]",
	  "List secrets (NAME TYPE DATA AGE), or print them as Kubernetes objects with\n"
	  "base64 values (-o json, -o yaml).  --show-labels adds a LABELS column, -L a\n"
	  "column for each label key given.  -o jsonpath= is kubectl's JSONPath, and\n"
	  "-w prints each change after the listing, as kubectl get does.",
	  "  # List the secrets of the default namespace, and of every namespace\n"
	  "  secretctl get secrets\n"
	  "  secretctl get secrets -A\n\n"
	  "  # One secret as YAML, values in base64\n"
	  "  secretctl get secret db -n shop -o yaml\n\n"
	  "  # One value, decoded\n"
	  "  secretctl get secret db -o jsonpath='{.data.password}' | base64 -d\n"
	  "  secretctl get secret tls -o jsonpath='{.data.tls\\.crt}'\n\n"
	  "  # The names of the TLS secrets; a name and type per line\n"
	  "  secretctl get secrets -o jsonpath='{.items[?(@.type==\"kubernetes.io/tls\")].metadata.name}'\n"
	  "  secretctl get secrets -o jsonpath='{range .items[*]}{.metadata.name}{\"\\t\"}{.type}{\"\\n\"}{end}'\n\n"
	  "  # Chosen columns; sorted and filtered\n"
	  "  secretctl get secrets -o custom-columns=NAME:.metadata.name,TEAM:.metadata.labels.team\n"
	  "  secretctl get secrets -A --sort-by=.metadata.creationTimestamp --field-selector type=Opaque\n\n"
	  "  # The secrets labelled app=web, with their labels\n"
	  "  secretctl get secrets -l app=web --show-labels\n\n"
	  "  # Each change after the listing, with its event\n"
	  "  secretctl get secrets -w --output-watch-events" },
	{ "describe secrets", cmd_describe_secret, CMD_DESCRIBE, ARGS_ANY,
	  "secretctl describe secret [NAME...] [-n NS]",
	  "Show secrets' metadata and the size of each value, never the values.",
	  "  # Show a secret's metadata and the size of each value\n"
	  "  secretctl describe secret db -n shop\n\n"
	  "  # Every secret labelled app=web\n"
	  "  secretctl describe secrets -l app=web" },
	{ "delete namespaces", cmd_delete_namespace, CMD_DELETE_NAMESPACES, ARGS_ANY,
	  "secretctl delete namespace NAME...",
	  "Delete namespaces and every secret in them (\"default\" cannot be deleted).",
	  "  # Delete namespace shop and every secret in it\n"
	  "  secretctl delete namespace shop" },
	{ "delete secrets", cmd_delete_secret, CMD_DELETE_SECRETS, ARGS_ANY,
	  "secretctl delete secret NAME... [-n NS] [--ignore-not-found] | -l SELECTOR | --field-selector F | --all [-A]",
	  "Delete secrets, by name, by label, by field, or all of a namespace (of all\n"
	  "with -A); prints secret \"NAME\" deleted for each, as kubectl.",
	  "  # Delete secrets by name\n"
	  "  secretctl delete secret db api -n shop\n\n"
	  "  # No error if it is gone already\n"
	  "  secretctl delete secret old --ignore-not-found\n\n"
	  "  # Delete the secrets labelled app=web; every secret of a namespace\n"
	  "  secretctl delete secrets -l app=web\n"
	  "  secretctl delete secrets --all -n staging\n\n"
	  "  # By field and label, in every namespace\n"
	  "  secretctl delete secrets -A --field-selector type=kubernetes.io/tls -l env=test" },
	{ "label secrets", cmd_label, CMD_LABEL, ARGS_ANY,
	  "secretctl label secret NAME... KEY=VALUE... KEY-... [--overwrite] [-n NS]\n"
	  "        | -l SELECTOR | --all [-A]   [--list] [--resource-version=V] [--dry-run=client] [-o json|yaml|name]",
	  "Add, change (--overwrite) or remove (KEY-) labels of secrets, as kubectl label:\n"
	  "keys are qualified names (example.com/name), values up to 63 characters of\n"
	  "[A-Za-z0-9._-].  A value already set is changed only with --overwrite.\n"
	  "Prints labeled, unlabeled or not labeled; --list prints the labels instead.\n"
	  "Nothing is written when nothing changes.  An immutable secret's labels may\n"
	  "change; its data never does.",
	  "  # Label secret db with app=web\n"
	  "  secretctl label secret db app=web\n\n"
	  "  # Change it, which needs --overwrite\n"
	  "  secretctl label secret db app=api --overwrite\n\n"
	  "  # Remove label app from every secret of the namespace\n"
	  "  secretctl label secrets --all app-" },
	{ "annotate secrets", cmd_annotate, CMD_ANNOTATE, ARGS_ANY,
	  "secretctl annotate secret NAME... KEY=VALUE... KEY-... [--overwrite] [-n NS]\n"
	  "        | -l SELECTOR | --all [-A]   [--list] [--resource-version=V] [--dry-run=client] [-o json|yaml|name]",
	  "Add, change (--overwrite) or remove (KEY-) annotations of secrets, as kubectl\n"
	  "annotate: keys are qualified names, values any text; all of a secret's\n"
	  "annotations together at most 256 KiB.",
	  "  # Annotate secret db with its owner\n"
	  "  secretctl annotate secret db example.com/owner='team a'\n\n"
	  "  # List its annotations\n"
	  "  secretctl annotate secret db --list\n\n"
	  "  # Remove the annotation\n"
	  "  secretctl annotate secret db example.com/owner-" },
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
	  "--dry-run prints what would result (-o yaml|json) and writes nothing.",
	  "  # Apply the secrets in secret.yaml\n"
	  "  secretctl apply -f ./secret.yaml\n\n"
	  "  # Every manifest of a folder, or from stdin\n"
	  "  secretctl apply -f ./manifests/\n"
	  "  kubectl create secret generic db --from-literal=k=v --dry-run=client -o yaml | secretctl apply -f -\n\n"
	  "  # What the store would hold, checked by its rules, nothing written\n"
	  "  secretctl apply -f db.yaml --dry-run=server -o yaml" },
	{ "patch secrets", cmd_patch, CMD_PATCH, ARGS_ONE,
	  "secretctl patch secret NAME -p PATCH | --patch-file FILE [--type=strategic|merge|json]\n"
	  "        [-n NS] [--dry-run=client|server] [-o yaml|json|name]",
	  "Change a secret with a patch, as kubectl patch: a strategic merge patch (the\n"
	  "default; for a Secret a JSON merge patch plus the directives $patch,\n"
	  "$retainKeys, $setElementOrder and $deleteFromPrimitiveList on finalizers and\n"
	  "ownerReferences), a JSON merge patch (RFC 7386) or a JSON patch (RFC 6902).\n"
	  "The result is checked by the same rules as any write.  Prints patched, or\n"
	  "patched (no change).",
	  "  # Add a key (values are base64, as in a manifest)\n"
	  "  secretctl patch secret db -p '{\"data\":{\"port\":\"NTQzMg==\"}}'\n\n"
	  "  # Remove a label\n"
	  "  secretctl patch secret db --type=merge -p '{\"metadata\":{\"labels\":{\"tier\":null}}}'\n\n"
	  "  # A JSON patch, guarded by a test\n"
	  "  secretctl patch secret db --type=json -p '[{\"op\":\"test\",\"path\":\"/type\",\"value\":\"Opaque\"},\n"
	  "      {\"op\":\"remove\",\"path\":\"/data/old\"}]'\n\n"
	  "  # A patch holding a value: from a file, not the command line\n"
	  "  secretctl patch secret db --patch-file new-password.yaml" },
	{ "diff", cmd_diff, CMD_DIFF, ARGS_NONE,
	  "secretctl diff -f FILE|DIR|- [-n NS]",
	  "Show what 'apply -f' would change, as kubectl diff: a unified diff of each\n"
	  "live Secret and the result of applying its manifest (checked by the store's\n"
	  "rules, nothing written), values shown as *** (*** (before) and *** (after)\n"
	  "where a value changes).  $KUBECTL_EXTERNAL_DIFF, if set, is the diff program\n"
	  "and its flags (default \"diff -u -N\"); it is given two folders, LIVE and\n"
	  "MERGED, of masked files.  Exit status: 0 no differences, 1 differences,\n"
	  "above 1 an error.",
	  "  # What applying db.yaml would change\n"
	  "  secretctl diff -f db.yaml\n\n"
	  "  # In a script: apply only if something would change\n"
	  "  secretctl diff -f manifests/ >/dev/null; [ $? -eq 1 ] && secretctl apply -f manifests/" },
	{ "create", cmd_create_f, CMD_CREATE_F, ARGS_ANY,
	  "secretctl create -f FILE|DIR|- [-n NS]", "Create the Secrets of manifests; none may exist.",
	  "  # Create the secrets of secret.yaml (none may exist)\n"
	  "  secretctl create -f ./secret.yaml\n\n"
	  "  # From stdin, into namespace shop\n"
	  "  cat secret.json | secretctl create -f - -n shop" },
	{ "replace", cmd_replace, CMD_REPLACE, ARGS_ANY,
	  "secretctl replace -f FILE|DIR|- [-n NS]", "Replace existing Secrets from manifests.",
	  "  # Replace secrets with the ones of secret.yaml (they must exist)\n"
	  "  secretctl replace -f ./secret.yaml\n\n"
	  "  # Change a secret's value from its own YAML\n"
	  "  secretctl get secret db -o yaml | sed 's/^  password: .*/  password: bmV3/' | secretctl replace -f -" },
	{ "delete", cmd_delete_f, CMD_DELETE_F, ARGS_ANY,
	  "secretctl delete -f FILE|DIR|- [-n NS]", "Delete the Secrets named by manifests.",
	  "  # Delete the secrets that secret.yaml names\n"
	  "  secretctl delete -f ./secret.yaml" },
	{ "exec", cmd_exec, CMD_EXEC, ARGS_ANY,
	  "secretctl exec [-n NS] --from SECRET... [--prefix P] -- COMMAND [ARGS...]",
	  "Run COMMAND with the secrets' keys as environment variables (a later --from\n"
	  "wins on a shared name).  Keys that are not valid variable names are skipped\n"
	  "with a warning and an InvalidEnvironmentVariableNames event.",
	  "  # Run app with the keys of secret db as variables\n"
	  "  secretctl exec --from db -- ./app --serve\n\n"
	  "  # Two secrets (the later wins on a shared key), each variable prefixed APP_\n"
	  "  secretctl exec -n shop --from db --from api --prefix APP_ -- env" },
	{ "env", cmd_env, CMD_ENV, ARGS_NONE,
	  "secretctl env [-n NS] --from SECRET... [--prefix P]",
	  "Print the secrets' keys as 'export NAME='VALUE'' lines for a shell to eval;\n"
	  "every value is single-quoted, so any bytes but NUL come back as they are,\n"
	  "in bash and dash alike.  Keys that are not shell variable names\n"
	  "([A-Za-z_][A-Za-z0-9_]*: not api-url, not with.dot) are skipped with the\n"
	  "warning and event exec gives.",
	  "  # Set the keys of secret db as variables of this shell\n"
	  "  eval \"$(secretctl env --from db)\"\n\n"
	  "  # Prefixed, from namespace shop\n"
	  "  eval \"$(secretctl env -n shop --from db --prefix DB_)\"" },
	{ "edit secrets", cmd_edit_secret, CMD_EDIT, ARGS_ONE,
	  "secretctl edit secret NAME [-n NS]",
	  "Edit a secret in $VISUAL or $EDITOR (values in base64, or add stringData).\n"
	  "It is checked on save; on an error the file reopens with the error on top.\n"
	  "Nothing changes unless the edit is valid.  The file is kept in a tmpfs that\n"
	  "only secretctl and the editor see, mode 0600, wiped afterwards and on any\n"
	  "fatal signal; it goes with them even on SIGKILL.",
	  "  # Edit secret db in vi\n"
	  "  EDITOR=vi secretctl edit secret db\n\n"
	  "  # In namespace shop, with $VISUAL\n"
	  "  secretctl edit secret/db -n shop" },
	{ "status", cmd_status, CMD_STATUS, ARGS_ANY, "secretctl status",
	  "Show the store (path, revision, namespace and secret counts, key ring) and\n"
	  "every running secretfs serving it: each mount, its view, the revision it\n"
	  "serves and how far it lags behind the store.  In cluster mode, also etcd's\n"
	  "revision and how far this node's store is behind it.",
	  "  # The store and every running secretfs serving it\n"
	  "  secretctl status" },
	{ "rotate-key", cmd_rotate_key, CMD_ROTATE_KEY, ARGS_NONE, "secretctl rotate-key",
	  "Add a new data key, make it the one that seals, and re-seal every secret\n"
	  "under it in batches of 500 (one transaction each); readers keep reading.\n"
	  "Then retire the old key with 'secretctl delete key ID'.",
	  "  # Seal everything under a new data key, then retire the old one\n"
	  "  secretctl rotate-key\n"
	  "  secretctl get keys\n"
	  "  secretctl delete key 1" },
	{ "rekey", cmd_rekey, CMD_REKEY, ARGS_NONE, "secretctl rekey [--to-passphrase [--new-passphrase-fd N]]",
	  "Replace the master key, wrapping only the data keys again (values are not\n"
	  "touched): by a new random key file in the configured key file's place, or\n"
	  "with --to-passphrase by a key derived from a passphrase (Argon2id), read from\n"
	  "the terminal or --new-passphrase-fd N, never from the command line.  A store\n"
	  "with a passphrase opens with --passphrase-fd N or asks on a terminal.  An\n"
	  "interrupted key-file rekey is finished by the next open.",
	  "  # A new random master key file\n"
	  "  secretctl rekey\n\n"
	  "  # A master key derived from a passphrase, read from fd 3\n"
	  "  secretctl rekey --to-passphrase --new-passphrase-fd 3 3<passphrase.txt" },
	{ "get keys", cmd_get_keys, CMD_GET_KEYS, ARGS_ANY, "secretctl get keys",
	  "List the data-key ring: ID, STATE (active or retiring), how many secrets\n"
	  "each key still seals, AGE.",
	  "  # List the data keys and how many secrets each still seals\n"
	  "  secretctl get keys" },
	{ "delete keys", cmd_delete_key, CMD_DELETE_KEYS, ARGS_ANY, "secretctl delete key ID",
	  "Retire a data key that seals no secret any more.",
	  "  # Retire data key 1 once it seals nothing\n"
	  "  secretctl delete key 1" },
	{ "get events", cmd_get_events, CMD_GET_EVENTS, ARGS_NONE,
	  "secretctl get events [-n NS | -A]",
	  "List events: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE.",
	  "  # Events of the default namespace, and of every namespace\n"
	  "  secretctl get events\n"
	  "  secretctl get events -A" },
	{ "watch", cmd_watch, CMD_WATCH, ARGS_ANY,
	  "secretctl watch [NAME] [-n NS | -A]",
	  "Print each change to secrets (and namespaces) as it is committed, one line\n"
	  "each: revision, ADDED/MODIFIED/DELETED, namespace, secret, generation.\n"
	  "Runs until interrupted.  An app can reload on each line about its secret.",
	  "  # Print each change to secret db as it is committed\n"
	  "  secretctl watch db\n\n"
	  "  # Every change in every namespace\n"
	  "  secretctl watch -A" },
	{ "kubeconfig", cmd_kubeconfig, CMD_KUBECONFIG, ARGS_ONE,
	  "secretctl kubeconfig USER [--group G]... [--server URL] [--ttl DURATION] [--context NAME]",
	  "Issue a client certificate for USER (CN USER, an O per --group) signed by the\n"
	  "API's CA, and print a kubeconfig holding it, its key and the CA for\n"
	  "secretfs-apiserver.  The key exists nowhere else: keep the output private.\n"
	  "Creates the CA and the server's certificate first if 'init' has not.",
	  "  # An administrator's kubeconfig\n"
	  "  secretctl kubeconfig admin --group system:masters > admin.conf\n"
	  "  kubectl --kubeconfig admin.conf get secrets\n\n"
	  "  # A team member's, for 90 days, naming the server\n"
	  "  secretctl kubeconfig bob --group team-a --ttl 90d --server https://node1:6443 > bob.conf" },
	{ "pki init", cmd_pki_init, CMD_PKI_INIT, ARGS_NONE, "secretctl pki init [--san NAME|IP]...",
	  "Create what is missing of the API's certificates in pki/ beside the master key\n"
	  "file (mode 0700): the CA (ca.crt, ca.key) and the server's certificate\n"
	  "(server.crt, server.key; SANs localhost, 127.0.0.1, ::1, the host name and\n"
	  "each --san).  Never overwrites a file; refuses a folder or key file looser\n"
	  "than 0700/0400.  'init' does this for a new store.",
	  "  # The certificates, with the names clients will use\n"
	  "  secretctl pki init --san node1.example.com --san 10.0.0.5\n\n"
	  "  # New SANs: remove the server's pair first\n"
	  "  rm /etc/secretfs/pki/server.*; secretctl pki init --san new-name" },
	{ "api-resources", cmd_api_resources, CMD_API_RESOURCES, ARGS_NONE, "secretctl api-resources",
	  "List the resources secretctl serves: their names, short names, whether they\n"
	  "live in a namespace, and the verbs that take them.",
	  "  # What 'secretctl get' and the other verbs take\n"
	  "  secretctl api-resources" },
	{ "podman-driver", cmd_podman_driver, CMD_PODMAN, ARGS_ONE,
	  "secretctl podman-driver list|lookup|store|delete [-n NS]",
	  "The commands of Podman's shell secret driver: Podman's secret $SECRET_ID is\n"
	  "the secret ID in namespace \"podman\" (or -n NS), its value the key \"value\".\n"
	  "store reads the value on stdin, lookup writes it to stdout, list prints the\n"
	  "IDs, delete removes one.  See etc/containers/secretfs.conf.",
	  "  # Podman's secrets in the store, for one command\n"
	  "  CONTAINERS_CONF=/etc/containers/secretfs.conf podman secret create db ./pw.txt\n\n"
	  "  # What Podman's driver runs to read one\n"
	  "  SECRET_ID=0123456789abcdef012345678 secretctl podman-driver lookup" },
	{ "version", cmd_version, CMD_VERSION, ARGS_NONE,
	  "secretctl version [--client] [-o json|yaml]",
	  "Print secretctl's version and the store's schema version (kubectl's\n"
	  "\"Client Version\" and \"Server Version\"); --client leaves the store\n"
	  "alone.",
	  "  # secretctl's version and the store's\n"
	  "  secretctl version\n\n"
	  "  # secretctl's alone, as JSON\n"
	  "  secretctl version --client -o json" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Each command has a CMD_* bit of its own, and every bit a command: the
 * flag table's "which commands take it" relies on both. */
static void commands_check(void)
{
	cmd_mask seen = 0;

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

/* 'secretctl CMD --help': what it does, kubectl's Examples, its usage, its
 * flags. */
static void command_help(const struct command *cmd)
{
	assert(cmd->examples);
	printf("%s\n\nExamples:\n%s\n\nUsage:\n  %s\n", cmd->help, cmd->examples, cmd->usage);
	flags_help(stdout, cmd);
}

/*
 * The resources, as kubectl's api-resources lists them: the one place that
 * knows their singular, plural and short names.  KEYS are the store's data
 * keys (not a Kubernetes kind).
 */
static const struct resource {
	const char *plural, *singular, *shortname, *apiversion, *kind;
	bool namespaced;
} resources[] = {
	{ "events", "event", "ev", "v1", "Event", true },
	{ "keys", "key", NULL, "secretfs/v1", "DataKey", false },
	{ "namespaces", "namespace", "ns", "v1", "Namespace", false },
	{ "secrets", "secret", NULL, "v1", "Secret", true },
};

#define NRESOURCES (sizeof(resources) / sizeof(resources[0]))

/* Canonical resource word: kubectl's singular, plural and short names. */
static const char *resource_word(const char *w)
{
	for (size_t i = 0; i < NRESOURCES; i++)
		if (!strcmp(w, resources[i].plural) || !strcmp(w, resources[i].singular) ||
		    (resources[i].shortname && !strcmp(w, resources[i].shortname)))
			return resources[i].plural;
	return w;
}

/* Is w one of the resources? */
static bool is_resource(const char *w)
{
	const char *r = resource_word(w);

	for (size_t i = 0; i < NRESOURCES; i++)
		if (r == resources[i].plural)
			return true;
	return false;
}

/* The commands' verbs that take a resource as their second word, as
 * kubectl's get and delete do (create's second word is a subcommand). */
static bool resource_verb(const char *verb)
{
	static const char *const verbs[] = { "get", "describe", "delete", "edit", "label",
					     "annotate" };

	for (size_t i = 0; i < sizeof(verbs) / sizeof(*verbs); i++)
		if (strcmp(verb, verbs[i]) == 0)
			return true;
	return false;
}

/* Does command cmd take resource r (a plural) as its second word, in any
 * of its names ("create namespace", "create secret generic")?  Its verb's
 * length in *vlen if so. */
static bool command_on(const struct command *cmd, const char *r, size_t *vlen)
{
	char second[32];
	const char *sp = strchr(cmd->words, ' ');

	if (!sp)
		return false;
	snprintf(second, sizeof(second), "%.*s", (int)strcspn(sp + 1, " "), sp + 1);
	*vlen = (size_t)(sp - cmd->words);
	return resource_word(second) == r;
}

/* "create,get,delete": the verbs of the commands on resource r, once each. */
static void verbs_of(char *out, size_t len, const char *r)
{
	size_t used = 0, vlen, wlen;

	out[0] = '\0';
	for (size_t i = 0; i < NCOMMANDS && used < len; i++) {
		bool seen = false;

		if (!command_on(&commands[i], r, &vlen))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = command_on(&commands[j], r, &wlen) && wlen == vlen &&
			       !strncmp(commands[j].words, commands[i].words, vlen);
		if (!seen)
			used += (size_t)snprintf(out + used, len - used, "%s%.*s", used ? "," : "",
						 (int)vlen, commands[i].words);
	}
}

/* kubectl's columns, through the table every listing uses (its widths are
 * kubectl's tabwriter's: the longest cell and 3 spaces). */
int cmd_api_resources(struct ctx *c)
{
	static const char *const head[] = { "NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED",
					    "KIND", "VERBS" };
	char verbs[128];
	struct table t;

	(void)c;
	table_init(&t, sizeof(head) / sizeof(*head));
	for (size_t j = 0; j < sizeof(head) / sizeof(*head); j++)
		table_add(&t, head[j]);
	for (size_t i = 0; i < NRESOURCES; i++) {
		verbs_of(verbs, sizeof(verbs), resources[i].plural);
		table_add(&t, resources[i].plural);
		table_add(&t, resources[i].shortname ? resources[i].shortname : "");
		table_add(&t, resources[i].apiversion);
		table_add(&t, resources[i].namespaced ? "true" : "false");
		table_add(&t, resources[i].kind);
		table_addf(&t, "[%s]", verbs);
	}
	table_print(&t);
	table_release(&t);
	return 0;
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

/*
 * The words of the commands that the n leading args begin but do not
 * finish ("create secret" of "create secret generic"): how many args such
 * a longer command matched, or 0.
 */
static int group_words(char **args, int nargs)
{
	int best = 0;

	for (size_t i = 0; i < NCOMMANDS; i++) {
		char words[64], *w, *save;
		int k = 0;

		snprintf(words, sizeof(words), "%s", commands[i].words);
		for (w = strtok_r(words, " ", &save); w && k < nargs;
		     w = strtok_r(NULL, " ", &save), k++)
			if (strcmp(w, args[k]) != 0 && strcmp(w, resource_word(args[k])) != 0)
				break;
		if (w && k > best)
			best = k;
	}
	return best;
}

/* The table's spelling of the first n args, when a command longer than n
 * words starts with them ("create secrets" -> "create secret"). */
static void group_name(char *out, size_t len, char **args, int n)
{
	out[0] = '\0';
	for (size_t i = 0; i < NCOMMANDS; i++) {
		char words[64], *w, *save;
		size_t used = 0;
		int k = 0;

		snprintf(words, sizeof(words), "%s", commands[i].words);
		for (w = strtok_r(words, " ", &save); w && k < n; w = strtok_r(NULL, " ", &save), k++) {
			if (strcmp(w, args[k]) != 0 && strcmp(resource_word(w), resource_word(args[k])) != 0)
				break;
			used += (size_t)snprintf(out + used, len - used, "%s%s", k ? " " : "", w);
		}
		if (k == n && w)
			return;
		out[0] = '\0';
	}
}

/* Does a command of more words start with group's? */
static bool has_subcommands(const char *group)
{
	size_t glen = strlen(group);

	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strncmp(commands[i].words, group, glen) && commands[i].words[glen] == ' ')
			return true;
	return false;
}

/* The commands under a group ("create secret"), as kubectl's "Available
 * Commands", with their first help line. */
static void group_help(FILE *f, const char *group)
{
	size_t glen = strlen(group);
	int any = 0;

	fprintf(f, "The commands of 'secretctl %s':\n\nAvailable Commands:\n", group);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const char *sub = commands[i].words + glen;

		if (strncmp(commands[i].words, group, glen) != 0 || *sub != ' ')
			continue;
		fprintf(f, "  %-18s", sub + 1);
		/* its first sentence, on one line */
		for (const char *h = commands[i].help; *h && !(h[0] == '.' && (!h[1] || isspace((unsigned char)h[1]))); h++)
			fputc(*h == '\n' ? ' ' : *h, f);
		fputc('\n', f);
	}
	fprintf(f, "\nUsage:\n  secretctl %s (", group);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const char *sub = commands[i].words + glen;

		if (strncmp(commands[i].words, group, glen) == 0 && *sub == ' ')
			fprintf(f, "%s%s", any++ ? " | " : "", sub + 1);
	}
	fprintf(f, ") [flags]\n\nUse \"secretctl %s <command> --help\" for more information about a given command.\n",
		group);
}

/* 'secretctl get --help': every command whose words start with prefix's
 * (cmd's own first, if there is one). */
static void help_prefix(const struct command *cmd, const char *prefix)
{
	size_t len = strlen(prefix), shown = 0;

	if (cmd) {
		command_help(cmd);
		shown++;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (&commands[i] == cmd || strncmp(commands[i].words, prefix, len) != 0 ||
		    (commands[i].words[len] != ' ' && commands[i].words[len]))
			continue;
		if (shown++)
			putchar('\n');
		command_help(&commands[i]);
	}
	if (!shown)
		usage_all(stdout);
}

/* Under "Did you mean this?", the next words of group's commands that are
 * near word by cobra's rule (SuggestionsMinimumDistance 2: within 2 edits,
 * or word a prefix of them), each once. */
static void suggest_words(const char *word, const char *group)
{
	size_t glen = strlen(group);
	char shown[256] = " ";

	for (size_t i = 0; i < NCOMMANDS; i++) {
		const char *sub = commands[i].words + glen;
		char cand[34];

		if (glen && (strncmp(commands[i].words, group, glen) != 0 || *sub++ != ' '))
			continue;
		snprintf(cand, sizeof(cand), " %.*s ", (int)strcspn(sub, " "), sub);
		if (strstr(shown, cand))
			continue;
		cand[strlen(cand) - 1] = '\0';
		if (edit_distance(word, cand + 1) > 2 && strncmp(cand + 1, word, strlen(word)) != 0)
			continue;
		if (!shown[1])
			fputs("\nDid you mean this?\n", stderr);
		fprintf(stderr, "\t%s\n", cand + 1);
		snprintf(shown + strlen(shown), sizeof(shown) - strlen(shown), "%s ", cand + 1);
	}
	if (shown[1])
		fputc('\n', stderr);
}

/* What kubectl says when a verb lacks its resource, or names one it does
 * not serve; 1. */
static int resource_error(struct ctx *c)
{
	const char *verb = c->args[0];

	if (c->nargs < 2) {
		fprintf(stderr, "You must specify the type of resource to %s. Use \"secretctl api-resources\" "
			"for a complete list of supported resources.\nsecretctl %s serves:", verb, verb);
		for (size_t i = 0; i < NCOMMANDS; i++) {
			const char *sp = strchr(commands[i].words, ' ');

			if (sp && !strncmp(commands[i].words, verb, (size_t)(sp - commands[i].words)) &&
			    !verb[sp - commands[i].words] && is_resource(sp + 1))
				fprintf(stderr, " %s", sp + 1);
		}
		fputs("\n\n", stderr);
		die_msg("Required resource not specified.");
		fprintf(stderr, "See 'secretctl %s --help' for help and examples.\n", verb);
		return 1;
	}
	if (!is_resource(c->args[1]))
		return die_msg("the server doesn't have a resource type \"%s\"", c->args[1]);
	die_msg("secretctl %s does not take %s", verb, resource_word(c->args[1]));
	fprintf(stderr, "See 'secretctl %s --help' for what it takes.\n", verb);
	return 1;
}

/* Find the command, answer --help or run it with c's arguments past its
 * words; its exit status. */
static int dispatch(struct ctx *c)
{
	const struct command *cmd = NULL;
	char words[64];
	int used = 0, group;

	if (type_slash_name(c))
		return 1;
	if (c->nargs == 0) {
		if (c->bad_flag[0])
			return flags_check(c, NULL);
		usage_all(c->help ? stdout : stderr);
		return c->help ? 0 : 1;
	}
	cmd = find_command(c->args, c->nargs, &used);
	group = group_words(c->args, c->nargs);
	group_name(words, sizeof(words), c->args, group);
	/* "create secret": the group beats "create -f", as kubectl's
	 * subcommands do; "delete" alone is "delete -f" only with -f */
	if (group > used && !(cmd && c->nmanifests))
		cmd = NULL;
	if (!cmd && c->bad_flag[0])
		return flags_check(c, NULL);
	if (c->help && group > 1 && !cmd) { /* "create secret --help" */
		group_help(stdout, words);
		return 0;
	}
	if (c->help && (!cmd || has_subcommands(cmd->words))) { /* "get --help", "create --help" */
		help_prefix(cmd, cmd ? cmd->words : c->args[0]);
		return 0;
	}
	if (!cmd && group > 1 && c->nargs == group) { /* "create secret": its types */
		group_help(stderr, words);
		return 1;
	}
	/* "create secrt", "create secret generc": unknown under a group */
	if ((!cmd && group > 1) || (cmd && cmd->id == CMD_CREATE_F && c->nargs > 1 && !c->nmanifests)) {
		if (cmd) {
			group = 1;
			snprintf(words, sizeof(words), "%s", cmd->words);
		}
		die_msg("unknown command \"%s\" for \"secretctl %s\"", c->args[group], words);
		suggest_words(c->args[group], words);
		fprintf(stderr, "Run 'secretctl %s --help' for usage.\n", words);
		return 1;
	}
	if (resource_verb(c->args[0]) && (!cmd || (used == 1 && !c->nmanifests)))
		return resource_error(c);
	if (!cmd) {
		die_msg("unknown command \"%s\" for \"secretctl\"", c->args[0]);
		suggest_words(c->args[0], "");
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
