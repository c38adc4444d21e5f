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
		       struct store_secret **out)
{
	static const char last_applied[] = "kubectl.kubernetes.io/last-applied-configuration";
	char err[STORE_ERRMSG_MAX];

	*out = NULL;
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
		/* kubectl's copy of the whole object: values in clear */
		if (store_secret_remove_annotation(s, last_applied))
			fprintf(stderr, "warning: secret \"%s\": dropping annotation %s: it holds the secret's values\n",
				s->name, last_applied);
		(*i)++;
		*out = s;
		return 0;
	}
	return 0;
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

/* Write what is pending and put down what was done; frees it. */
static int pending_flush(struct ctx *c, struct pending *p, enum store_put_mode mode,
			 json_t *report)
{
	enum store_put_result res[CLUSTER_MAX_BATCH];
	int err = p->n ? store_writer_put_batch(c->w, p->v, p->n, mode, res) : 0;

	for (size_t i = 0; i < p->n; i++) {
		if (!err)
			json_array_append_new(report, mode == STORE_PUT_REPLACE ?
				json_sprintf("secret/%s replaced", p->v[i]->name) :
				json_sprintf("secret/%s %s", p->v[i]->name, put_done[res[i]]));
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
	size_t i = 0, lists = 0, k;
	json_t *line;
	int ret = 1;

	if (c->nargs)
		return die_msg("unexpected argument \"%s\": objects come from -f", c->args[0]);
	if (!c->nmanifests)
		return die_msg("must specify -f FILE|DIR|- (the manifests to read)");
	if (!docs || !report || load_manifests(c, docs) || open_store(c))
		goto out;
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
		char text[STORE_MAX_NAME + 32];
		int err;

		if (next_secret(c, docs, &i, &lists, &s)) {
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
		if (mode == M_DELETE)
			snprintf(text, sizeof(text), "secret \"%s\" deleted", s->name);
		else if (mode == M_REPLACE)
			snprintf(text, sizeof(text), "secret/%s replaced", s->name);
		else
			snprintf(text, sizeof(text), "secret/%s %s", s->name, put_done[res]);
		store_secret_free(s);
		if (err)
			goto failed;
		json_array_append_new(report, json_string(text));
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
	json_array_foreach(report, k, line)
		puts(json_string_value(line));
	ret = 0;
	goto out;
failed:
	progress_end(&bar);
	die_msg("%s", write_errmsg(c));
	if (!c->cl)
		store_batch_rollback(c->st);
	else /* what went before is in etcd: say so */
		json_array_foreach(report, k, line)
			puts(json_string_value(line));
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
