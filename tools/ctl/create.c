/*
 * create.c - create secret generic, tls and docker-registry: the data from
 * the command line, --append-hash, --dry-run=client|server and -o.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cmd.h"

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
	if (c->dry_run && !c->dry_run_server) {
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
			printf(output_is(c, "name") ? "secret/%s\n" : "secret/%s created%s\n",
			       s->name, dry_run_note(c));
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
	if (c->dry_run_server) { /* the store's rules, in a transaction rolled back */
		int err = store_batch_begin(c->st);

		if (!err) {
			err = store_secret_put(c->st, s, STORE_PUT_CREATE, NULL);
			store_batch_rollback(c->st);
		}
		if (err) {
			ret = die_msg("%s", store_errmsg(c->st));
			goto out;
		}
	} else if (write_secret(c, s, STORE_PUT_CREATE, NULL)) {
		ret = die_msg("%s", write_errmsg(c));
		goto out;
	}
	/* as kubectl: -o json|yaml prints the object as created (the store
	 * filled in its uid, creation time and version) */
	if (output_is(c, "json") || output_is(c, "yaml"))
		ret = print_object(c, secret_to_json(s));
	else if (output_is(c, "name"))
		printf("secret/%s\n", s->name);
	else
		printf("secret/%s created%s\n", s->name, dry_run_note(c));
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
	return check_output(c, "json,yaml,name");
}

/* The secret a create secret subcommand fills: its NAME, an output
 * format create accepts, --immutable applied.  1 after an error was printed. */
static int new_secret_to_create(const struct ctx *c, const char *type, struct store_secret **out)
{
	if (check_output_create(c))
		return 1;
	*out = store_secret_new(ns_of(c), c->args[0], type);
	if (!*out)
		return die_msg("out of memory");
	(*out)->immutable = c->immutable;
	return 0;
}

int cmd_create_secret_generic(struct ctx *c)
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

int cmd_create_secret_tls(struct ctx *c)
{
	static const char type[] = "kubernetes.io/tls";
	char err[STORE_ERRMSG_MAX], *arg = NULL;
	struct store_secret *s;
	int ret = 0;

	if (!c->cert || !c->key)
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

int cmd_create_secret_docker_registry(struct ctx *c)
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
