/*
 * apply.c - apply, create, replace and delete with -f: manifests from files,
 * folders or stdin, every object checked before any is written.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"

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
		       struct store_secret **out, json_t **docp)
{
	char err[STORE_ERRMSG_MAX];

	*out = NULL;
	*docp = NULL;
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
		/* kubectl's copy of the whole object holds its values in clear:
		 * the store keeps it redacted (store_last_applied_redact()) */
		(*i)++;
		*out = s;
		*docp = doc;
		return 0;
	}
	return 0;
}

/*
 * kubectl's apply of doc (read as *sp, which is replaced): the live secret
 * read with its values, the three-way merge of kube_apply(), and the
 * result read back as the secret to write.  *live_out (may be NULL) gets
 * the live object as JSON (NULL if there is none), *result_out the merged
 * object.  0, or 1 after printing why.
 */
static int apply_merge(struct ctx *c, const json_t *doc, struct store_secret **sp,
		       json_t **live_out, json_t **result_out)
{
	struct store_secret *s = *sp, *live = NULL, *merged = NULL;
	json_t *manifest = json_deep_copy(doc), *cur = NULL, *res = NULL, *meta;
	char err[STORE_ERRMSG_MAX];
	int ret = 1, e;

	if (!manifest)
		goto nomem;
	/* what the manifest says stays in the result: refused by the store's
	 * rules now, before a merge of a (maybe 100 MiB) object */
	if (store_secret_check(c->st, s)) {
		die_msg("%s", store_errmsg(c->st));
		goto out;
	}
	/* kubectl records the namespace it applied to */
	meta = json_object_get(manifest, "metadata");
	if (!json_is_object(meta) ||
	    json_object_set_new(meta, "namespace", json_string(s->namespace)))
		goto nomem;
	e = store_secret_get(c->st, s->namespace, s->name, STORE_WITH_VALUES, &live);
	if (e && e != -ENOENT) {
		die_msg("%s", store_errmsg(c->st));
		goto out;
	}
	if (live && !(cur = secret_to_json(live)))
		goto nomem;
	if ((e = kube_apply(&res, manifest, cur, err, sizeof(err)))) {
		die_msg("secret \"%s\": %s", s->name, err);
		goto out;
	}
	if (manifest_secret(res, ns_of(c), c->ns != NULL, &merged, err, sizeof(err))) {
		die_msg("%s", err);
		goto out;
	}
	store_secret_free(s);
	*sp = merged;
	if (result_out) {
		*result_out = res;
		res = NULL;
	}
	if (live_out) {
		*live_out = cur;
		cur = NULL;
	}
	ret = 0;
	goto out;
nomem:
	die_msg("out of memory");
out:
	store_secret_free(live);
	json_decref(manifest);
	json_decref(cur);
	json_decref(res);
	return ret;
}

/* The object to print for s: as stored, or for a client dry run the
 * merged object's metadata where the store has not filled s in. */
static json_t *result_object(const struct store_secret *s, const json_t *merged)
{
	json_t *obj = secret_to_json(s), *meta = json_object_get(obj, "metadata");
	const json_t *mm = json_object_get(merged, "metadata");
	static const char *const filled[] = { "uid", "creationTimestamp", "resourceVersion" };

	if (!obj || s->created)
		return obj;
	for (size_t i = 0; i < sizeof(filled) / sizeof(*filled); i++) {
		json_t *v = json_object_get(mm, filled[i]);

		if (v)
			json_object_set(meta, filled[i], v);
		else
			json_object_del(meta, filled[i]);
	}
	return obj;
}

/*
 * apply --dry-run: what apply would do with each object, nothing written.
 * Client: the merge alone; server: the store's rules too, in a
 * transaction rolled back (as the cluster writer checks its writes).
 */
static int apply_dry_run(struct ctx *c, json_t *docs)
{
	static const char *const done[] = { "created", "configured", "unchanged" };
	json_t *objs = json_array();
	size_t i = 0, lists = 0;
	int ret = 1;

	if (!objs)
		return die_msg("out of memory");
	for (;;) {
		enum store_put_result res;
		struct store_secret *s;
		json_t *doc, *live = NULL, *merged = NULL, *obj;

		if (next_secret(c, docs, &i, &lists, &s, &doc))
			goto out;
		if (!s)
			break;
		if (apply_merge(c, doc, &s, &live, &merged)) {
			store_secret_free(s);
			goto out;
		}
		res = !live ? STORE_CREATED : json_equal(live, merged) ? STORE_UNCHANGED : STORE_UPDATED;
		if (c->dry_run_server) {
			int err = store_batch_begin(c->st);

			if (!err)
				err = store_secret_put(c->st, s, STORE_PUT_APPLY, &res);
			if (err) {
				die_msg("%s", store_errmsg(c->st));
				if (err != -EBUSY)
					store_batch_rollback(c->st);
			} else {
				store_batch_rollback(c->st);
			}
			if (err) {
				json_decref(live);
				json_decref(merged);
				store_secret_free(s);
				goto out;
			}
		}
		if (output_is(c, "json") || output_is(c, "yaml"))
			obj = result_object(s, merged);
		else
			obj = output_is(c, "name") ? json_sprintf("secret/%s", s->name) :
			      json_sprintf("secret/%s %s%s", s->name, done[res], dry_run_note(c));
		json_decref(live);
		json_decref(merged);
		store_secret_free(s);
		if (!obj || json_array_append_new(objs, obj)) {
			die_msg("out of memory");
			goto out;
		}
	}
	ret = 0;
	if (output_is(c, "json") || output_is(c, "yaml")) {
		ret = print_object(c, json_array_size(objs) == 1 ?
				   json_incref(json_array_get(objs, 0)) :
				   list_to_json(json_incref(objs)));
	} else {
		json_t *line;

		json_array_foreach(objs, i, line)
			puts(json_string_value(line));
	}
out:
	json_decref(objs);
	return ret;
}

int apply_each(struct ctx *c, int (*fn)(const json_t *live, const json_t *result, void *arg),
	       void *arg)
{
	json_t *docs = json_array();
	size_t i = 0, lists = 0;
	int ret = 1;

	if (!docs || load_manifests(c, docs) || open_store(c))
		goto out;
	for (;;) {
		enum store_put_result res;
		struct store_secret *s;
		json_t *doc, *live = NULL, *merged = NULL, *obj = NULL;
		int err;

		if (next_secret(c, docs, &i, &lists, &s, &doc))
			goto out;
		if (!s)
			break;
		if (apply_merge(c, doc, &s, &live, &merged)) {
			store_secret_free(s);
			goto out;
		}
		/* as --dry-run=server: the store's rules, then forgotten */
		err = store_batch_begin(c->st);
		if (!err) {
			err = store_secret_put(c->st, s, STORE_PUT_APPLY, &res);
			store_batch_rollback(c->st);
		}
		if (err)
			die_msg("%s", store_errmsg(c->st));
		else if (!(obj = result_object(s, merged)))
			err = die_msg("out of memory");
		else
			err = fn(live, obj, arg);
		json_decref(obj);
		json_decref(live);
		json_decref(merged);
		store_secret_free(s);
		if (err)
			goto out;
	}
	ret = 0;
out:
	json_decref(docs);
	return ret;
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

/* What is reported of s once written: kubectl's line, or with -o json|yaml
 * the object as stored (a JSON value in report). */
static json_t *report_line(const struct ctx *c, const struct store_secret *s,
			   enum store_put_mode mode, enum store_put_result res)
{
	if (output_is(c, "json") || output_is(c, "yaml"))
		return secret_to_json(s);
	if (output_is(c, "name"))
		return json_sprintf("secret/%s", s->name);
	return mode == STORE_PUT_REPLACE ? json_sprintf("secret/%s replaced", s->name) :
	       json_sprintf("secret/%s %s", s->name, put_done[res]);
}

/* Print what report holds: lines, or the objects as one (a List if several). */
static int report_print(const struct ctx *c, json_t *report)
{
	size_t k;
	json_t *line;

	if (output_is(c, "json") || output_is(c, "yaml"))
		return json_array_size(report) ? print_object(c, json_array_size(report) == 1 ?
				json_incref(json_array_get(report, 0)) :
				list_to_json(json_incref(report))) : 0;
	json_array_foreach(report, k, line)
		puts(json_string_value(line));
	return 0;
}

/* Write what is pending and put down what was done; frees it. */
static int pending_flush(const struct ctx *c, struct pending *p, enum store_put_mode mode,
			 json_t *report)
{
	enum store_put_result res[CLUSTER_MAX_BATCH];
	int err = p->n ? store_writer_put_batch(c->w, p->v, p->n, mode, res) : 0;

	for (size_t i = 0; i < p->n; i++) {
		if (!err)
			json_array_append_new(report, report_line(c, p->v[i], mode, res[i]));
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
	size_t i = 0, lists = 0;
	int ret = 1;

	if (c->nargs)
		return die_msg("unexpected argument \"%s\": objects come from -f", c->args[0]);
	if (!c->nmanifests)
		return die_msg("must specify -f FILE|DIR|- (the manifests to read)");
	if (mode == M_APPLY && check_output(c, "json,yaml,name"))
		goto out;
	if (!docs || !report || load_manifests(c, docs) || open_store(c))
		goto out;
	if (mode == M_APPLY && c->dry_run) {
		ret = apply_dry_run(c, docs);
		goto out;
	}
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
		json_t *doc, *line;
		int err;

		if (next_secret(c, docs, &i, &lists, &s, &doc) ||
		    (s && mode == M_APPLY && apply_merge(c, doc, &s, NULL, NULL))) {
			store_secret_free(s);
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
		line = err ? NULL : mode == M_DELETE ?
		       json_sprintf("secret \"%s\" deleted", s->name) :
		       report_line(c, s, put, res);
		store_secret_free(s);
		if (err)
			goto failed;
		json_array_append_new(report, line);
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
	ret = report_print(c, report);
	goto out;
failed:
	progress_end(&bar);
	die_msg("%s", write_errmsg(c));
	if (!c->cl)
		store_batch_rollback(c->st);
	else /* what went before is in etcd: say so */
		report_print(c, report);
out:
	for (size_t j = 0; j < pend.n; j++)
		store_secret_free(pend.v[j]);
	json_decref(report);
	json_decref(docs);
	return ret;
}

int cmd_apply(struct ctx *c) { return run_manifests(c, M_APPLY); }
int cmd_create_f(struct ctx *c) { return run_manifests(c, M_CREATE); }
int cmd_replace(struct ctx *c) { return run_manifests(c, M_REPLACE); }
int cmd_delete_f(struct ctx *c) { return run_manifests(c, M_DELETE); }
