/*
 * view.c - what a view grants: which namespaces, secrets and keys are
 * visible, under which file names and modes (which view a caller's cgroup
 * selects is config_view_for_cgroup's).
 *
 * A view of NULL is the operator's full view: everything, every key under its
 * own name, with [mount]'s mode.  A named grant (NS/NAME) takes precedence
 * over a namespace grant (NS/ *) for the same secret.  Anything not granted
 * does not exist for the view.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fs.h"

bool view_ns_visible(const struct view *v, const char *ns)
{
	if (!v)
		return true;
	for (size_t i = 0; i < v->ngrants; i++)
		if (strcmp(v->grants[i].ns, ns) == 0)
			return true;
	return false;
}

const struct view_grant *view_grant_for(const struct view *v, const char *ns,
					const char *name)
{
	static const struct view_grant everything = { 0 };
	const struct view_grant *wild = NULL;

	if (!v)
		return &everything;
	for (size_t i = 0; i < v->ngrants; i++) {
		const struct view_grant *g = &v->grants[i];

		if (strcmp(g->ns, ns) != 0)
			continue;
		if (!g->name)
			wild = g;
		else if (strcmp(g->name, name) == 0)
			return g;
	}
	return wild;
}

static mode_t item_mode(const struct view *v, const struct view_item *it,
			mode_t dflt)
{
	if (it && it->has_mode)
		return it->mode;
	return v ? v->mode : dflt;
}

const char *view_file_key(const struct view *v, const struct view_grant *g,
			  const char *file, mode_t dflt, mode_t *mode)
{
	if (!g->nitems) {
		*mode = item_mode(v, NULL, dflt);
		return file;
	}
	for (size_t i = 0; i < g->nitems; i++) {
		if (strcmp(g->items[i].file, file) == 0) {
			*mode = item_mode(v, &g->items[i], dflt);
			return g->items[i].key;
		}
	}
	return NULL;
}

const char *view_key_file(const struct view *v, const struct view_grant *g,
			  const char *key)
{
	if (!g->nitems)
		return key;
	(void)v;
	for (size_t i = 0; i < g->nitems; i++)
		if (strcmp(g->items[i].key, key) == 0)
			return g->items[i].file;
	return NULL;
}

/* What a grant's files may carry: the union of their modes. */
static mode_t grant_mode(const struct view *v, const struct view_grant *g)
{
	mode_t mode = 0;

	if (!g->nitems)
		return v->mode;
	for (size_t i = 0; i < g->nitems; i++)
		mode |= item_mode(v, &g->items[i], 0);
	return mode;
}

mode_t view_folder_mode(const struct view *v, const char *ns, const char *name,
			mode_t dflt)
{
	const struct view_grant *g;
	mode_t mode = 0;

	if (!v)
		return dflt;
	if (ns && name) {
		g = view_grant_for(v, ns, name);
		return g ? grant_mode(v, g) : v->mode;
	}
	for (size_t i = 0; i < v->ngrants; i++)
		if (!ns || strcmp(v->grants[i].ns, ns) == 0)
			mode |= grant_mode(v, &v->grants[i]);
	return v->ngrants ? mode : v->mode;
}

/*
 * Check that every required grant of v can be served: its namespace exists,
 * a named secret exists, and each projected key exists.  As the kubelet
 * keeps a pod from starting, a view that fails this does not come up.
 */
int view_check_required(const struct view *v, struct store *st, char *err,
			size_t len)
{
	struct store_stat s;

	for (size_t i = 0; i < v->ngrants; i++) {
		const struct view_grant *g = &v->grants[i];

		if (g->optional)
			continue;
		if (!g->name) {
			if (store_ns_stat(st, g->ns, &s) == 0)
				continue;
			snprintf(err, len,
				 "view \"%s\": namespace \"%s\" not found (granted by 'secret = %s/*'; use 'optional =' to come up without it)",
				 v->name, g->ns, g->ns);
			return -ENOENT;
		}
		if (store_secret_stat(st, g->ns, g->name, &s) != 0) {
			snprintf(err, len,
				 "view \"%s\": secret \"%s\" in namespace \"%s\" not found (required; use 'optional = %s/%s' to come up without it)",
				 v->name, g->name, g->ns, g->ns, g->name);
			return -ENOENT;
		}
		for (size_t j = 0; j < g->nitems; j++) {
			if (store_key_stat(st, g->ns, g->name, g->items[j].key, &s) == 0)
				continue;
			snprintf(err, len,
				 "view \"%s\": secret \"%s\" in namespace \"%s\" has no key \"%s\" (projected as \"%s\")",
				 v->name, g->name, g->ns, g->items[j].key, g->items[j].file);
			return -ENOENT;
		}
	}
	return 0;
}

/* Append an item to out's comma-separated list; stops once out is full. */
static void missing_add(char *out, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void missing_add(char *out, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= len)
		return;
	if (*used) {
		n = snprintf(out + *used, len - *used, ", ");
		*used += n > 0 ? (size_t)n : 0;
		if (*used >= len)
			return;
	}
	va_start(ap, fmt);
	n = vsnprintf(out + *used, len - *used, fmt, ap);
	va_end(ap);
	*used += n > 0 ? (size_t)n : 0;
}

size_t view_missing(const struct view *v, struct store *st, char *out, size_t len)
{
	struct store_stat s;
	size_t n = 0, used = 0;

	assert(len > 0);
	out[0] = '\0';
	for (size_t i = 0; i < v->ngrants; i++) {
		const struct view_grant *g = &v->grants[i];

		if (g->optional)
			continue;
		if (!g->name) {
			if (store_ns_stat(st, g->ns, &s) != 0) {
				missing_add(out, len, &used, "%s/*", g->ns);
				n++;
			}
			continue;
		}
		if (store_secret_stat(st, g->ns, g->name, &s) != 0) {
			missing_add(out, len, &used, "%s/%s", g->ns, g->name);
			n++;
			continue;
		}
		for (size_t j = 0; j < g->nitems; j++) {
			if (store_key_stat(st, g->ns, g->name, g->items[j].key, &s) == 0)
				continue;
			missing_add(out, len, &used, "%s/%s/%s", g->ns, g->name, g->items[j].key);
			n++;
		}
	}
	if (used >= len && len > 4)
		memcpy(out + len - 4, "...", 4);
	return n;
}
