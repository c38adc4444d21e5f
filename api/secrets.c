/*
 * secrets.c - /api/v1/namespaces/NS/secrets[/NAME] and /api/v1/secrets:
 * get, list (labelSelector, fieldSelector, Table or JSON), create
 * (generateName, stringData merged into data), replace (resourceVersion
 * precondition), patch (the three types of kube/patch.c), delete, and
 * watch (watch.c).  Objects are built by
 * kube/object.c and parsed by kube/manifest.c, as secretctl's are; every
 * write goes through this thread's store writer, as secretctl's do.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api/api.h"

/* The fields a Secret may carry: anything else is an unknown field for
 * fieldValidation.  ObjectMeta's fields are known even where the store
 * keeps none of them (the apiserver would not call them unknown). */
static const char *const secret_fields[] = {
	"apiVersion", "kind", "data", "data.*", "stringData", "stringData.*", "type", "immutable",
	"metadata", "metadata.name", "metadata.generateName", "metadata.namespace",
	"metadata.labels", "metadata.labels.*", "metadata.annotations", "metadata.annotations.*",
	"metadata.resourceVersion", "metadata.uid", "metadata.creationTimestamp",
	"metadata.generation", "metadata.managedFields", "metadata.finalizers",
	"metadata.ownerReferences", "metadata.selfLink", "metadata.deletionTimestamp",
	"metadata.deletionGracePeriodSeconds", NULL
};

static char *rv_string(char *buf, size_t len, int64_t rev)
{
	snprintf(buf, len, "%lld", (long long)rev);
	return buf;
}

static enum MHD_Result reply_object(struct api_req *r, unsigned code, json_t *obj,
				    const char *warning)
{
	if (r->table && obj) {
		json_t *one = json_pack("[O]", obj);
		const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"),
								   "resourceVersion"));
		json_t *t = one ? api_table_secrets(one, rv, (int64_t)time(NULL)) : NULL;

		json_decref(one);
		json_decref(obj);
		obj = t;
	}
	return api_reply_warn(r, code, obj, warning);
}

static enum MHD_Result get_one(struct api_req *r, const char *ns, const char *name)
{
	struct store_secret *s = NULL;
	enum MHD_Result ret;
	int err;

	err = store_secret_get(r->db->st, ns, name, STORE_WITH_VALUES, &s);
	if (err)
		return api_store_error(r, err, store_errmsg(r->db->st), "secrets", "Secret", name);
	ret = reply_object(r, 200, secret_to_json(s), NULL);
	store_secret_free(s);
	return ret;
}

/* A continue token: base64 of ["NS","NAME"], the last item served.
 * malloc'd, or NULL. */
static char *continue_token(const struct store_secret *last)
{
	json_t *k = json_pack("[s, s]", last->namespace, last->name);
	char *text = k ? json_dumps(k, JSON_COMPACT) : NULL, *out = NULL;
	size_t n;

	json_decref(k);
	if (text) {
		n = sodium_base64_encoded_len(strlen(text), sodium_base64_VARIANT_URLSAFE);
		out = malloc(n);
		if (out)
			sodium_bin2base64(out, n, (const unsigned char *)text, strlen(text),
					  sodium_base64_VARIANT_URLSAFE);
	}
	free(text);
	return out;
}

/* Parse a continue token into ns and name: 0, or -EINVAL. */
static int continue_parse(const char *token, char *ns, size_t nslen, char *name, size_t namelen)
{
	unsigned char bin[1024];
	size_t n;
	json_t *k;
	int ret = -EINVAL;

	if (sodium_base642bin(bin, sizeof(bin) - 1, token, strlen(token), NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE))
		return -EINVAL;
	k = json_loadb((const char *)bin, n, 0, NULL);
	if (json_is_array(k) && json_array_size(k) == 2 &&
	    json_is_string(json_array_get(k, 0)) && json_is_string(json_array_get(k, 1))) {
		snprintf(ns, nslen, "%s", json_string_value(json_array_get(k, 0)));
		snprintf(name, namelen, "%s", json_string_value(json_array_get(k, 1)));
		ret = 0;
	}
	json_decref(k);
	return ret;
}

/* A secret's place in the store's list order (namespace, then name). */
struct list_key {
	char ns[STORE_MAX_NAMESPACE + 1];
	char name[STORE_MAX_NAME + 1];
};

static void key_set(struct list_key *k, const char *ns, const char *name)
{
	snprintf(k->ns, sizeof(k->ns), "%s", ns);
	snprintf(k->name, sizeof(k->name), "%s", name);
}

/* Is s after k in the store's list order? */
static bool after_key(const struct store_secret *s, const struct list_key *k)
{
	int c = strcmp(s->namespace, k->ns);

	return c > 0 || (c == 0 && strcmp(s->name, k->name) > 0);
}

/*
 * A list being streamed, through two walks of the store, each holding one
 * secret at a time: the first (metadata, before the reply) counts what the
 * filter selects after the continue key and finds the page's last item;
 * the second sends the page, one item per store_secret_walk() resumed
 * after the last row seen (`last`), up to the page's last item, each
 * item's values read when the walk found it.  A secret deleted between the walks is left out
 * (the watch says so), one created before the page's end is in.
 */
struct list_stream {
	struct store *st;          /* the handle of the thread that owns the
				    * connection: MHD calls the reader there */
	pthread_t thread;
	char *ns;                  /* NULL: every namespace */
	struct api_filter f;
	struct list_key last;      /* the walk resumes after it */
	bool started;              /* last is set */
	struct list_key end;       /* the page's last item ... */
	bool has_end;              /* ... when more follow */
	bool done;
	bool table;
	int64_t now;
	json_t *item;              /* the item the walk found */
	/* the first walk's: matched, past the limit */
	unsigned long long limit, picked, remaining;
};

static void list_stream_free(void *cls)
{
	struct list_stream *ls = cls;

	if (!ls)
		return;
	api_filter_release(&ls->f);
	json_decref(ls->item);
	free(ls->ns);
	free(ls);
}

/* The first walk: count, and find the page's end. */
static int list_count(void *ctx, const struct store_secret *s)
{
	struct list_stream *ls = ctx;

	if (!api_filter_match(&ls->f, s))
		return 0;
	if (ls->limit && ls->picked == ls->limit) {
		ls->remaining++;
		return 0;
	}
	if (++ls->picked == ls->limit)
		key_set(&ls->end, s->namespace, s->name);
	return 0;
}

#define LIST_FOUND 1 /* list_pick() found the next item: ls->last */
#define LIST_END   2 /* past the page's end */

/* The second walk's visitor (metadata only): the next item's key, and
 * for a Table its row (a Table shows no value). */
static int list_pick(void *ctx, const struct store_secret *s)
{
	struct list_stream *ls = ctx;
	json_t *o;

	if (ls->has_end && after_key(s, &ls->end))
		return LIST_END;
	key_set(&ls->last, s->namespace, s->name);
	ls->started = true;
	if (!api_filter_match(&ls->f, s))
		return 0;
	if (!ls->table)
		return LIST_FOUND;
	o = secret_to_json(s);
	ls->item = o ? api_table_secret_row(o, ls->now) : NULL;
	json_decref(o);
	return ls->item ? LIST_FOUND : -ENOMEM;
}

/* The next item (a Secret with its values, read once the walk found it:
 * only selected ones are decrypted, or a Table row): a secret deleted
 * since is left out (the watch says so); any other read failure breaks
 * the reply off. */
static int list_stream_next(void *cls, json_t **item)
{
	struct list_stream *ls = cls;
	struct store_secret *s = NULL;
	int err;

	assert(pthread_equal(ls->thread, pthread_self()));
	while (!ls->done) {
		err = store_secret_walk(ls->st, ls->ns, ls->started ? ls->last.ns : NULL,
					ls->started ? ls->last.name : NULL, 0, list_pick, ls);
		if (err != LIST_FOUND) {
			ls->done = true;
			if (err == 0 || err == LIST_END)
				return 0;
			fprintf(stderr, "secretfs-apiserver: list of secrets: %s\n",
				err == -ENOMEM ? "out of memory" : store_errmsg(ls->st));
			return err;
		}
		if (ls->table) {
			*item = ls->item;
			ls->item = NULL;
			return 1;
		}
		err = store_secret_get(ls->st, ls->last.ns, ls->last.name, STORE_WITH_VALUES, &s);
		if (err == -ENOENT)
			continue;
		if (err) {
			ls->done = true;
			fprintf(stderr, "secretfs-apiserver: list of secrets: cannot read '%s/%s': %s\n",
				ls->last.ns, ls->last.name, store_errmsg(ls->st));
			return err;
		}
		*item = secret_to_json(s);
		store_secret_free(s);
		return *item ? 1 : -ENOMEM;
	}
	return 0;
}

/*
 * Reply the list of ns's secrets (NULL: all) that f selects, after cont
 * when not NULL, at most limit (0: all), streamed: the envelope, with
 * metadata.continue and remainingItemCount from the first walk, goes out
 * first, then one item at a time (the peak is one secret, not the list).
 * Takes *f (the reply owns it).  Without a reply, 0 with *ret set;
 * -errno (a store failure) when nothing was replied.
 */
static int list_streamed(struct api_req *r, const char *ns, struct api_filter *f,
			 int64_t rev, unsigned long long limit, const struct list_key *cont,
			 enum MHD_Result *ret)
{
	struct list_stream *ls = calloc(1, sizeof(*ls));
	char rv[32], *token = NULL;
	json_t *out;
	int err;

	if (!ls || (ns && !(ls->ns = strdup(ns)))) {
		free(ls);
		*ret = api_status(r, 500, "InternalError", NULL, "out of memory");
		return 0;
	}
	ls->st = r->db->st;
	ls->thread = pthread_self();
	ls->f = *f;
	*f = (struct api_filter){ 0 };
	ls->table = r->table;
	ls->now = (int64_t)time(NULL);
	ls->limit = limit;
	if (cont) {
		ls->last = *cont;
		ls->started = true;
	}
	/* every row of the list checked (its tag) before any is sent: a
	 * list meeting a tampered row fails whole, as store_secret_list */
	err = store_secret_walk(ls->st, ls->ns, cont ? cont->ns : NULL, cont ? cont->name : NULL,
				0, list_count, ls);
	if (err) {
		list_stream_free(ls);
		return err;
	}
	if (ls->remaining) {
		struct store_secret k = { .namespace = ls->end.ns, .name = ls->end.name };

		ls->has_end = true;
		if (!(token = continue_token(&k))) {
			list_stream_free(ls);
			*ret = api_status(r, 500, "InternalError", NULL, "out of memory");
			return 0;
		}
	}
	rv_string(rv, sizeof(rv), rev);
	if (r->table) {
		json_t *none = json_array();

		out = none ? api_table_secrets(none, rv, ls->now) : NULL;
		json_decref(none);
	} else {
		out = json_pack("{s:s, s:s, s:{s:s}, s:[]}", "kind", "SecretList", "apiVersion",
				"v1", "metadata", "resourceVersion", rv, "items");
	}
	if (out && token) {
		json_t *meta = json_object_get(out, "metadata");

		json_object_set_new(meta, "continue", json_string(token));
		json_object_set_new(meta, "remainingItemCount",
				    json_integer((json_int_t)ls->remaining));
	}
	free(token);
	*ret = api_reply_stream(r, out, list_stream_next, ls, list_stream_free);
	return 0;
}

/*
 * A list, or with `limit` one page of it: metadata.continue (and
 * remainingItemCount) when more follow.  Each page is read when asked, at
 * the store's revision then (no snapshot across pages): an item added or
 * removed meanwhile before the page's start is not seen, one after it is.
 * deletecollection (delete) lists the same way and deletes what matched.
 */
static enum MHD_Result list(struct api_req *r, const char *ns, bool delete)
{
	struct store_secret **v = NULL;
	struct api_filter f;
	enum MHD_Result ret;
	json_t *items = json_array(), *out;
	const char *limit_arg = api_arg(r, "limit"), *cont = api_arg(r, "continue");
	struct list_key cont_key = { "", "" };
	char *end;
	size_t n = 0;
	unsigned long long limit = 0;
	int64_t rev;
	char rv[32];
	int err, dry = 0;

	if (api_filter_parse(r, &f, "secrets", &ret)) {
		json_decref(items);
		return ret;
	}
	if (limit_arg && *limit_arg) {
		errno = 0;
		limit = strtoull(limit_arg, &end, 10);
		if (errno || *end || limit_arg[0] == '-') {
			ret = api_status(r, 400, "BadRequest", NULL, "limit: invalid value \"%s\"",
					 limit_arg);
			goto out;
		}
	}
	if (delete && (dry = api_dry_run(r, &ret)) < 0)
		goto out;
	if (delete)
		limit = 0;
	if (cont && *cont && continue_parse(cont, cont_key.ns, sizeof(cont_key.ns), cont_key.name,
					    sizeof(cont_key.name))) {
		ret = api_status(r, 400, "BadRequest", NULL,
				 "continue key is not valid: it was not made by this server");
		goto out;
	}
	/* the revision first: a change racing the list is then replayed
	 * by a watch from rv, never missed */
	if ((err = api_db_revision(r->db, &rev)) ||
	    (!delete && (err = list_streamed(r, ns, &f, rev, limit, *cont_key.ns ? &cont_key : NULL,
					     &ret))) ||
	    (delete && (err = store_secret_list(r->db->st, ns, &v, &n)))) {
		ret = api_store_error(r, err, store_errmsg(r->db->st), "secrets", "Secret", "");
		goto out;
	}
	if (!delete)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!api_filter_match(&f, v[i]) || (*cont_key.ns && !after_key(v[i], &cont_key)))
			continue;
		if (!dry) {
			err = store_writer_delete(r->db->w, v[i]->namespace, v[i]->name);
			if (err == -ENOENT)
				continue; /* deleted meanwhile */
			if (err) {
				ret = api_store_error(r, err, store_writer_errmsg(r->db->w), "secrets",
						      "Secret", v[i]->name);
				goto out;
			}
		}
		{
			/* a deletecollection's reply carries no value: say
			 * none, not empty ones */
			json_t *o = secret_to_json(v[i]);

			if (o)
				json_object_del(o, "data");
			json_array_append_new(items, o);
		}
	}
	rv_string(rv, sizeof(rv), rev);
	if (r->table)
		out = api_table_secrets(items, rv, (int64_t)time(NULL));
	else
		out = json_pack("{s:s, s:s, s:{s:s}, s:O}", "kind", "SecretList", "apiVersion", "v1",
				"metadata", "resourceVersion", rv, "items", items);
	ret = api_reply(r, 200, out);
out:
	json_decref(items);
	store_secret_list_free(v, n);
	api_filter_release(&f);
	return ret;
}

/* Does namespace ns exist?  If not, reply its 404 (*ret) and say false. */
static bool ns_exists(struct api_req *r, const char *ns, enum MHD_Result *ret)
{
	struct store_stat st;

	if (store_ns_stat(r->db->st, ns, &st) == 0)
		return true;
	*ret = api_not_found(r, "namespaces", ns);
	return false;
}

/* Write s (create or replace) through the writer, or with dryRun only
 * check it: every rule the store applies, in a transaction rolled back. */
static int write_secret(struct api_req *r, struct store_secret *s, enum store_put_mode mode,
			bool dry, const char **msg)
{
	int err;

	if (!dry) {
		err = store_writer_put(r->db->w, s, mode, NULL);
		*msg = store_writer_errmsg(r->db->w);
		return err;
	}
	if ((err = store_batch_begin(r->db->st))) {
		*msg = store_errmsg(r->db->st);
		return err;
	}
	err = store_secret_put(r->db->st, s, mode, NULL);
	*msg = store_errmsg(r->db->st);
	store_batch_rollback(r->db->st);
	return err;
}

/* metadata.generateName + 5 characters, as the apiserver's names. */
static int generate_name(json_t *obj, char *out, size_t len)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	json_t *meta = json_object_get(obj, "metadata");
	const char *prefix = json_string_value(json_object_get(meta, "generateName"));
	size_t n;

	if (!prefix || json_string_value(json_object_get(meta, "name")))
		return 0;
	n = strlen(prefix);
	if (n > 253 - 5)
		n = 253 - 5;
	if (n + 6 > len)
		return -EINVAL;
	memcpy(out, prefix, n);
	for (size_t i = 0; i < 5; i++)
		out[n + i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	out[n + 5] = '\0';
	return json_object_set_new(meta, "name", json_string(out)) ? -ENOMEM : 1;
}

/*
 * The reply's copy of kubectl's last-applied annotation as the store keeps
 * it: the store redacts the one it writes (store_last_applied_redact, on
 * its one write path), and a reply, dryRun's included, says what was kept.
 */
static int redact_last_applied(struct store_secret *s)
{
	const char *v = NULL;
	char *clean = NULL;
	int err;

	for (size_t i = 0; i < s->nannotations; i++)
		if (!strcmp(s->annotations[i].key, KUBE_LAST_APPLIED))
			v = s->annotations[i].value;
	if (!v)
		return 0;
	err = store_last_applied_redact(v, &clean);
	if (err == -EINVAL) /* the store refuses it: the write fails first */
		return 0;
	if (!err)
		err = store_secret_set_annotation(s, KUBE_LAST_APPLIED, clean);
	free(clean);
	return err;
}

/* The reply to a create, replace or patch whose write returned err (msg
 * its message): the Status, or s as kept (redact_last_applied) with code. */
static enum MHD_Result reply_written(struct api_req *r, struct store_secret *s, int err,
				     const char *msg, const char *name, unsigned code,
				     const char *warning)
{
	if (!err && (err = redact_last_applied(s)))
		msg = "out of memory";
	if (err)
		return api_store_error(r, err, msg, "secrets", "Secret", name);
	return reply_object(r, code, secret_to_json(s), warning);
}

/* Parse body obj as a secret for ns (URL) and name (URL, or NULL on
 * create): NULL after a reply. */
static struct store_secret *secret_of(struct api_req *r, json_t *obj, const char *ns,
				      const char *name, enum MHD_Result *ret)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const char *bns = json_string_value(json_object_get(meta, "namespace"));
	const char *bname = json_string_value(json_object_get(meta, "name"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *version = json_string_value(json_object_get(obj, "apiVersion"));
	struct store_secret *s = NULL;
	char err[STORE_ERRMSG_MAX];
	int rc;

	if ((kind && strcmp(kind, "Secret")) || (version && strcmp(version, "v1"))) {
		*ret = api_status(r, 400, "BadRequest", NULL,
				  "the object provided is %s/%s, not v1/Secret",
				  version ? version : "", kind ? kind : "");
		return NULL;
	}
	if (bns && *bns && strcmp(bns, ns)) {
		*ret = api_namespace_mismatch(r);
		return NULL;
	}
	if (name && bname && strcmp(bname, name)) {
		*ret = api_name_mismatch(r, bname, name);
		return NULL;
	}
	rc = manifest_secret(obj, ns, true, &s, err, sizeof(err));
	if (rc == -EINVAL && !bname && !name) {
		*ret = api_name_required(r, "Secret");
		return NULL;
	}
	if (rc) {
		*ret = api_store_error(r, rc, err, "secrets", "Secret", bname ? bname : name);
		return NULL;
	}
	return s;
}

static enum MHD_Result create(struct api_req *r, const char *ns)
{
	struct store_secret *s = NULL;
	enum MHD_Result ret;
	char *warning = NULL, gen[256];
	const char *msg = "";
	json_t *obj;
	int dry, err, generated = 0;

	if ((dry = api_dry_run(r, &ret)) < 0 || !(obj = api_body_object(r, &ret)))
		return ret;
	if (!api_check_fields(r, obj, secret_fields, &warning, &ret) || !ns_exists(r, ns, &ret))
		goto out;
	for (int tries = 0; tries < 5; tries++) {
		if ((generated = generate_name(obj, gen, sizeof(gen))) < 0) {
			ret = api_status(r, 500, "InternalError", NULL, "out of memory");
			goto out;
		}
		store_secret_free(s);
		if (!(s = secret_of(r, obj, ns, NULL, &ret)))
			goto out;
		err = write_secret(r, s, STORE_PUT_CREATE, dry == 1, &msg);
		if (err != -EEXIST || !generated)
			break;
		json_object_del(json_object_get(obj, "metadata"), "name");
	}
	ret = reply_written(r, s, err, msg, s->name, 201, warning);
out:
	free(warning);
	store_secret_free(s);
	json_decref(obj);
	return ret;
}

static enum MHD_Result replace(struct api_req *r, const char *ns, const char *name)
{
	struct store_secret *s = NULL;
	enum MHD_Result ret;
	char *warning = NULL;
	const char *msg = "";
	json_t *obj;
	int dry, err;

	if ((dry = api_dry_run(r, &ret)) < 0 || !(obj = api_body_object(r, &ret)))
		return ret;
	if (!api_check_fields(r, obj, secret_fields, &warning, &ret))
		goto out;
	if (!json_object_get(json_object_get(obj, "metadata"), "name")) {
		json_t *meta = json_object_get(obj, "metadata");

		if (json_is_object(meta))
			json_object_set_new(meta, "name", json_string(name));
	}
	if (!(s = secret_of(r, obj, ns, name, &ret)))
		goto out;
	err = write_secret(r, s, STORE_PUT_REPLACE, dry == 1, &msg);
	ret = reply_written(r, s, err, msg, name, 200, warning);
out:
	free(warning);
	store_secret_free(s);
	json_decref(obj);
	return ret;
}

int api_patch_type(struct api_req *r, enum kube_patch_type *type, enum MHD_Result *ret)
{
	static const struct { const char *media; enum kube_patch_type type; } types[] = {
		{ "application/json-patch+json", KUBE_PATCH_JSON },
		{ "application/merge-patch+json", KUBE_PATCH_MERGE },
		{ "application/strategic-merge-patch+json", KUBE_PATCH_STRATEGIC },
	};
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = ct ? strcspn(ct, ";") : 0;

	for (size_t i = 0; ct && i < sizeof(types) / sizeof(*types); i++)
		if (strlen(types[i].media) == n && !strncmp(ct, types[i].media, n)) {
			*type = types[i].type;
			return 0;
		}
	/* kube-apiserver's words for a patch type it does not take */
	*ret = api_status(r, 415, "UnsupportedMediaType", NULL,
			  "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json%s",
			  ct && !strncmp(ct, "application/apply-patch", 23) ?
			  " (server-side apply is not served: use kubectl apply without --server-side)" : "");
	return -1;
}

/* Does the patch itself carry metadata.resourceVersion (a precondition:
 * no retry on conflict)? */
static bool patch_sets_rv(const json_t *patch, enum kube_patch_type type)
{
	const json_t *op;
	size_t i;

	if (type != KUBE_PATCH_JSON)
		return json_object_get(json_object_get(patch, "metadata"), "resourceVersion");
	json_array_foreach(patch, i, op) {
		const char *path = json_string_value(json_object_get(op, "path"));

		if (path && !strcmp(path, "/metadata/resourceVersion"))
			return true;
	}
	return false;
}

/*
 * PATCH: the three types of kube/patch.c on the secret as stored, then
 * the same checks and write as a PUT.  As kube-apiserver, a patch that
 * sets no resourceVersion is applied again to the new object when another
 * write came between (up to 5 times); one that sets it is a precondition
 * (409 Conflict when it is not the current one).
 */
static enum MHD_Result patch(struct api_req *r, const char *ns, const char *name)
{
	struct store_secret *cur = NULL, *s = NULL;
	enum kube_patch_type type;
	enum MHD_Result ret;
	json_t *p = NULL, *obj = NULL;
	char *warning = NULL, err_text[STORE_ERRMSG_MAX];
	const char *msg = "";
	int dry, err = 0;
	bool precondition;

	if ((dry = api_dry_run(r, &ret)) < 0 || api_patch_type(r, &type, &ret))
		return ret;
	if (kube_patch_parse(&p, r->body ? r->body : "", r->len, type, err_text, sizeof(err_text)))
		return api_status(r, 400, "BadRequest", NULL, "%s", err_text);
	precondition = patch_sets_rv(p, type);
	for (int tries = 0; tries < 5; tries++) {
		store_secret_free(cur);
		store_secret_free(s);
		cur = s = NULL;
		json_decref(obj);
		free(warning);
		warning = NULL;
		err = store_secret_get(r->db->st, ns, name, STORE_WITH_VALUES, &cur);
		if (err) {
			ret = api_store_error(r, err, store_errmsg(r->db->st), "secrets", "Secret", name);
			goto out;
		}
		obj = secret_to_json(cur);
		if (!obj) {
			ret = api_status(r, 500, "InternalError", NULL, "out of memory");
			goto out;
		}
		err = kube_patch(&obj, p, type, err_text, sizeof(err_text));
		if (err == -EINVAL) {
			ret = type == KUBE_PATCH_JSON ?
			      api_status(r, 422, "Invalid",
					 json_pack("{s:s, s:s, s:[{s:s, s:s, s:s}]}", "name", name, "kind",
						   "Secret", "causes", "reason", "FieldValueInvalid",
						   "message", err_text, "field", "patch"),
					 "Secret \"%s\" is invalid: patch: %s", name, err_text) :
			      api_status(r, 400, "BadRequest", NULL, "%s", err_text);
			goto out;
		}
		if (err) {
			ret = api_status(r, 500, "InternalError", NULL, "out of memory");
			goto out;
		}
		if (!api_check_fields(r, obj, secret_fields, &warning, &ret))
			goto out;
		if (!(s = secret_of(r, obj, ns, name, &ret)))
			goto out;
		err = write_secret(r, s, STORE_PUT_REPLACE, dry == 1, &msg);
		if (err != -EAGAIN || precondition)
			break;
	}
	ret = reply_written(r, s, err, msg, name, 200, warning);
out:
	free(warning);
	json_decref(p);
	json_decref(obj);
	store_secret_free(cur);
	store_secret_free(s);
	return ret;
}

static enum MHD_Result delete(struct api_req *r, const char *ns, const char *name)
{
	struct store_secret *s = NULL;
	enum MHD_Result ret;
	int dry, err;

	if ((dry = api_dry_run(r, &ret)) < 0)
		return ret;
	/* the body is DeleteOptions (propagationPolicy...): nothing in it
	 * applies to a secret, which owns nothing */
	err = store_secret_get(r->db->st, ns, name, 0, &s);
	if (err)
		return api_store_error(r, err, store_errmsg(r->db->st), "secrets", "Secret", name);
	if (!dry && (err = store_writer_delete(r->db->w, ns, name))) {
		ret = api_store_error(r, err, store_writer_errmsg(r->db->w), "secrets", "Secret",
				      name);
		goto out;
	}
	ret = api_reply(r, 200, json_pack("{s:s, s:s, s:{}, s:s, s:{s:s, s:s, s:s}}",
					  "kind", "Status", "apiVersion", "v1", "metadata",
					  "status", "Success", "details", "name", name,
					  "kind", "secrets", "uid", s->uid));
out:
	store_secret_free(s);
	return ret;
}

enum MHD_Result api_secrets(struct api_req *r, const char *ns, const char *name)
{
	const char *m = r->method;
	const char *verb;
	char why[STORE_ERRMSG_MAX];
	enum MHD_Result ret;

	if (ns && store_check_namespace(ns, why))
		return api_not_found(r, "namespaces", ns);
	if (!strcmp(m, "GET") || !strcmp(m, "HEAD"))
		verb = name ? "get" : api_arg_true(r, "watch") ? "watch" : "list";
	else if (!strcmp(m, "POST") && !name && ns)
		verb = "create";
	else if (!strcmp(m, "PUT") && name)
		verb = "update";
	else if (!strcmp(m, "DELETE") && name)
		verb = "delete";
	else if (!strcmp(m, "DELETE") && ns)
		verb = "deletecollection";
	else if (!strcmp(m, "PATCH") && name)
		verb = "patch";
	else
		return api_method_not_allowed(r);
	if (!api_allowed(r, verb, "", "secrets", ns, name, &ret))
		return ret;
	if (!strcmp(verb, "get"))
		return get_one(r, ns, name);
	if (!strcmp(verb, "watch"))
		return api_watch(r, "secrets", ns);
	if (!strcmp(verb, "list"))
		return list(r, ns, false);
	if (!strcmp(verb, "deletecollection"))
		return list(r, ns, true);
	if (!strcmp(verb, "create"))
		return create(r, ns);
	if (!strcmp(verb, "update"))
		return replace(r, ns, name);
	if (!strcmp(verb, "delete"))
		return delete(r, ns, name);
	return patch(r, ns, name);
}
