/*
 * podman.c - podman-driver list|lookup|store|delete: the four commands of
 * Podman's "shell" secret driver (containers/common pkg/secrets/shelldriver),
 * so that Podman keeps its secrets' values in the store instead of its own
 * files.
 *
 * Podman names each secret by an ID of its own (25 hex digits) and keeps
 * the name -> ID map and the driver's options in its storage; the driver
 * keeps the value.  Here Podman secret ID is the secret PODMAN_NS/ID (the
 * namespace "podman" unless -n gives another) with one key, "value",
 * holding the bytes Podman gave, unchanged.  The commands get the ID in
 * $SECRET_ID; store reads the value on stdin, lookup writes it on stdout,
 * list prints one ID per line.  A failing command exits 1 with a message
 * naming the secret, never a byte of the value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cmd.h"
#include "kube/kube.h"

#define PODMAN_NS  "podman"
#define PODMAN_KEY "value"
#define PODMAN_MANAGED_BY "app.kubernetes.io/managed-by"

static const char *podman_ns(const struct ctx *c)
{
	return c->ns ? c->ns : PODMAN_NS;
}

/* $SECRET_ID, checked as a secret name (Podman's IDs are hex digits); NULL
 * after saying why. */
static const char *podman_id(void)
{
	const char *id = getenv("SECRET_ID");
	char why[STORE_ERRMSG_MAX], q[96];

	if (!id || !*id) {
		die_msg("podman-driver: $SECRET_ID is not set (Podman's shell secret driver sets it)");
		return NULL;
	}
	if (store_check_name(id, why)) {
		die_msg("podman-driver: secret ID %s: %s", store_quote(q, sizeof(q), id, strlen(id)),
			why);
		return NULL;
	}
	return id;
}

static int podman_list(struct ctx *c)
{
	struct store_secret **v = NULL;
	size_t n = 0;
	int err;

	err = store_secret_list(c->st, podman_ns(c), &v, &n);
	if (err == -ENOENT)
		return 0; /* no namespace yet: no secret either */
	if (err)
		return die_msg("podman-driver list: namespace \"%s\": %s", podman_ns(c),
			       store_errmsg(c->st));
	for (size_t i = 0; i < n; i++)
		printf("%s\n", v[i]->name);
	store_secret_list_free(v, n);
	return 0;
}

static int podman_lookup(struct ctx *c, const char *id)
{
	struct store_secret *s = NULL;
	const struct store_item *it;
	int ret = 0, err;

	err = store_secret_get(c->st, podman_ns(c), id, STORE_WITH_VALUES, &s);
	if (err)
		return die_msg("podman-driver lookup: secret \"%s\" in namespace \"%s\": %s", id,
			       podman_ns(c), err == -ENOENT ? "not found" : store_errmsg(c->st));
	it = store_secret_item(s, PODMAN_KEY);
	if (!it)
		ret = die_msg("podman-driver lookup: secret \"%s\" in namespace \"%s\" has no key \"%s\"",
			      id, podman_ns(c), PODMAN_KEY);
	else if (fwrite(it->value, 1, it->len, stdout) != it->len || fflush(stdout))
		ret = die_msg("podman-driver lookup: secret \"%s\": cannot write the value: %s", id,
			      strerror(errno));
	store_secret_free(s);
	return ret;
}

static int podman_store(struct ctx *c, const char *id)
{
	struct store_secret *s = NULL;
	unsigned char *buf = NULL;
	char err[STORE_ERRMSG_MAX];
	size_t len = 0;
	int ret = 0, r;

	if (read_whole("-", &buf, &len, err, sizeof(err))) {
		ret = die_msg("podman-driver store: secret \"%s\": the value on stdin: %s", id, err);
		goto out;
	}
	s = store_secret_new(podman_ns(c), id, STORE_TYPE_OPAQUE);
	if (!s || store_secret_add_item(s, PODMAN_KEY, buf, len) ||
	    store_secret_set_label(s, PODMAN_MANAGED_BY, "podman")) {
		ret = die_msg("out of memory");
		goto out;
	}
	/* the namespace is made on first use; one that exists is fine */
	r = store_writer_ns_create(c->w, podman_ns(c));
	if (r && r != -EEXIST) {
		ret = die_msg("podman-driver store: namespace \"%s\": %s", podman_ns(c),
			      write_errmsg(c));
		goto out;
	}
	if (write_secret(c, s, STORE_PUT_CREATE, NULL))
		ret = die_msg("podman-driver store: %s", write_errmsg(c));
out:
	store_secret_free(s);
	if (buf) {
		sodium_memzero(buf, len);
		sodium_free(buf);
	}
	return ret;
}

int cmd_podman_driver(struct ctx *c)
{
	const char *action = c->args[0], *id = NULL;

	if (strcmp(action, "list") && strcmp(action, "lookup") && strcmp(action, "store") &&
	    strcmp(action, "delete"))
		return die_msg("podman-driver: unknown action \"%s\": list, lookup, store or delete",
			       action);
	if (strcmp(action, "list") && !(id = podman_id()))
		return 1;
	if (open_store(c))
		return 1;
	if (!strcmp(action, "list"))
		return podman_list(c);
	if (!strcmp(action, "lookup"))
		return podman_lookup(c, id);
	if (!strcmp(action, "store"))
		return podman_store(c, id);
	if (write_delete(c, podman_ns(c), id))
		return die_msg("podman-driver delete: %s", write_errmsg(c));
	return 0;
}
