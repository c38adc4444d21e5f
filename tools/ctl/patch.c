/*
 * patch.c - patch secret NAME -p PATCH | --patch-file FILE, as kubectl
 * patch: the live object as the API shows it, the patch applied by
 * kube/patch.c (the engine the API server shares), the result read back as
 * a manifest and written with the live version as a precondition, so a
 * change made meanwhile fails instead of being overwritten.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cmd.h"

/* The patch text: -p, or --patch-file in sodium memory (it may hold
 * values).  *buf is what to free with sodium_free (NULL for -p). */
static int patch_text(const struct ctx *c, const char **text, size_t *len,
		      unsigned char **buf)
{
	char err[STORE_ERRMSG_MAX];

	*buf = NULL;
	if (c->patch && c->patch_file)
		return die_msg("--patch and --patch-file are mutually exclusive");
	if (!c->patch && !c->patch_file)
		return die_msg("must specify --patch or --patch-file containing the contents of the patch");
	if (c->patch) {
		*text = c->patch;
		*len = strlen(c->patch);
		return 0;
	}
	if (read_whole(c->patch_file, buf, len, err, sizeof(err)))
		return die_msg("%s", err);
	*text = (const char *)*buf;
	return 0;
}

/* The patch as JSON, or as YAML (kubectl turns a YAML patch into JSON
 * before sending it; so do we).  0, or 1 after printing why. */
static int patch_load(const char *text, size_t len, enum kube_patch_type type, json_t **out)
{
	char err[STORE_ERRMSG_MAX], yerr[STORE_ERRMSG_MAX];
	const char *p = text;
	json_t *docs;

	if (!kube_patch_parse(out, text, len, type, err, sizeof(err)))
		return 0;
	while (p < text + len && strchr(" \t\r\n", *p))
		p++;
	if (p < text + len && (*p == '{' || *p == '['))
		return die_msg("unable to parse the patch: %s", err);
	docs = json_array();
	if (!docs)
		return die_msg("out of memory");
	if (manifest_parse((const unsigned char *)text, len, "the patch", docs, yerr, sizeof(yerr)) ||
	    json_array_size(docs) != 1) {
		json_decref(docs);
		return die_msg("unable to parse the patch: %s", err);
	}
	*out = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	if (type == KUBE_PATCH_JSON ? !json_is_array(*out) : !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return die_msg("unable to parse the patch: %s", type == KUBE_PATCH_JSON ?
			       "a JSON patch is a list of operations" : "a merge patch is a map");
	}
	return 0;
}

int cmd_patch(struct ctx *c)
{
	enum kube_patch_type type = KUBE_PATCH_STRATEGIC;
	enum store_put_result res = STORE_UNCHANGED;
	struct store_secret *live = NULL, *s = NULL;
	json_t *patch = NULL, *cur = NULL, *obj = NULL, *out;
	const char *name = c->args[0], *text = NULL, *mname, *mns;
	char err[STORE_ERRMSG_MAX];
	unsigned char *buf = NULL;
	size_t len = 0;
	int ret = 1, e;

	if (c->type && kube_patch_type_parse(c->type, &type))
		return die_msg("--type must be one of [json merge strategic], not \"%s\"", c->type);
	if (check_output(c, "json,yaml,name") || patch_text(c, &text, &len, &buf))
		return 1;
	e = patch_load(text, len, type, &patch);
	sodium_free(buf);
	if (e || open_store(c))
		goto out;
	if (store_secret_get(c->st, ns_of(c), name, STORE_WITH_VALUES, &live)) {
		die_msg("%s", store_errmsg(c->st));
		goto out;
	}
	cur = secret_to_json(live);
	obj = cur ? json_deep_copy(cur) : NULL;
	if (!obj) {
		die_msg("out of memory");
		goto out;
	}
	if ((e = kube_patch(&obj, patch, type, err, sizeof(err)))) {
		die_msg("secret \"%s\": %s", name, e == -ENOMEM ? "out of memory" : err);
		goto out;
	}
	/* the API server patches the object its URL names, and no other */
	mname = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	mns = json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
	if (!mname || strcmp(mname, name) || (mns && strcmp(mns, live->namespace))) {
		die_msg("secret \"%s\": metadata.name and metadata.namespace cannot change in a patch", name);
		goto out;
	}
	if (manifest_secret(obj, live->namespace, true, &s, err, sizeof(err))) {
		die_msg("%s", err);
		goto out;
	}
	if (c->dry_run && !c->dry_run_server) {
		res = json_equal(cur, obj) ? STORE_UNCHANGED : STORE_UPDATED;
	} else if (c->dry_run_server) {
		/* the store's rules, in a transaction rolled back */
		if (!(e = store_batch_begin(c->st))) {
			e = store_secret_put(c->st, s, STORE_PUT_REPLACE, &res);
			store_batch_rollback(c->st);
		}
		if (e) {
			die_msg("%s", store_errmsg(c->st));
			goto out;
		}
	} else if (write_secret(c, s, STORE_PUT_REPLACE, &res)) {
		die_msg("%s", write_errmsg(c));
		goto out;
	}
	if (output_is(c, "json") || output_is(c, "yaml")) {
		if (c->dry_run && !c->dry_run_server) { /* s has no store fields yet */
			s->created = live->created;
			memcpy(s->uid, live->uid, sizeof(s->uid));
		}
		out = secret_to_json(s);
		ret = print_object(c, out);
		goto out;
	}
	if (output_is(c, "name"))
		printf("secret/%s\n", name);
	else
		printf("secret/%s patched%s%s\n", name, res == STORE_UNCHANGED ? " (no change)" : "",
		       dry_run_note(c));
	ret = 0;
out:
	store_secret_free(s);
	store_secret_free(live);
	json_decref(patch);
	json_decref(cur);
	json_decref(obj);
	return ret;
}
