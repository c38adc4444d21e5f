/*
 * patch.c - the three patch types of the Kubernetes API, on jansson values,
 * shared by secretctl (patch, apply) and the API server (PATCH):
 *
 *   KUBE_PATCH_MERGE      JSON merge patch, RFC 7386 (kubectl label/annotate)
 *   KUBE_PATCH_JSON       JSON patch, RFC 6902, with RFC 6901 pointers
 *   KUBE_PATCH_STRATEGIC  strategic merge patch as kube-apiserver applies it
 *                         to a core/v1 Secret (apply, edit, patch's default)
 *
 * For a Secret the strategic merge patch is a merge patch except for the
 * directives ($patch: replace|delete in a map or a list element,
 * $retainKeys, $setElementOrder/LIST, $deleteFromPrimitiveList/LIST) and two
 * lists that merge instead of being replaced: metadata.finalizers (a set
 * of strings) and metadata.ownerReferences (maps merged on "uid"), as the
 * patchStrategy tags of ObjectMeta say.  Written after apimachinery's
 * pkg/util/strategicpatch (mergeMap, mergeSlice, normalizeElementOrder),
 * including its list order; where that code lets a nonsense patch through
 * (an unknown "$" key stored as a field, a deletion list stored as the list
 * it should delete from) we refuse or ignore it instead.
 *
 * Errors are the apiserver's (evanphx/json-patch's and strategicpatch's)
 * where one exists.  A message never quotes a value of the document or of
 * the patch: both may hold a secret's data; it names paths and keys only.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

static int perr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* --- parsing ------------------------------------------------------------ */

int kube_patch_type_parse(const char *name, enum kube_patch_type *out)
{
	static const char *const names[] = {
		[KUBE_PATCH_JSON] = "json", [KUBE_PATCH_MERGE] = "merge",
		[KUBE_PATCH_STRATEGIC] = "strategic",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i])) {
			*out = (enum kube_patch_type)i;
			return 0;
		}
	return -EINVAL;
}

int kube_patch_parse(json_t **out, const char *text, size_t len, enum kube_patch_type type,
		     char *err, size_t errlen)
{
	json_error_t je;
	json_t *p;

	/* RFC 6902 A.13: a member given twice makes the document invalid */
	p = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!p) {
		char why[JSON_ERROR_TEXT_LENGTH + 64];

		store_json_error(why, sizeof(why), je.text, je.line, je.column);
		return perr(err, errlen, "invalid JSON in the patch: %s", why);
	}
	if (type == KUBE_PATCH_JSON && !json_is_array(p)) {
		perr(err, errlen, "json: cannot unmarshal %s into Go value of type jsonpatch.Patch",
		     json_is_object(p) ? "object" : "value");
		json_decref(p);
		return -EINVAL;
	}
	if (type != KUBE_PATCH_JSON && !json_is_object(p)) {
		perr(err, errlen, "json: cannot unmarshal %s into Go value of type map[string]interface {}",
		     json_is_array(p) ? "array" : "value");
		json_decref(p);
		return -EINVAL;
	}
	*out = p;
	return 0;
}

/* --- RFC 7386 ------------------------------------------------------------ */

json_t *kube_merge_patch(json_t *target, const json_t *patch)
{
	const char *k;
	json_t *v;

	if (!json_is_object(patch)) {
		json_decref(target);
		return json_deep_copy(patch);
	}
	if (!json_is_object(target)) {
		json_decref(target);
		target = json_object();
		if (!target)
			return NULL;
	}
	json_object_foreach((json_t *)patch, k, v) {
		json_t *sub;

		if (json_is_null(v)) {
			json_object_del(target, k);
			continue;
		}
		sub = kube_merge_patch(json_incref(json_object_get(target, k)), v);
		if (!sub || json_object_set_new(target, k, sub)) {
			json_decref(target);
			return NULL;
		}
	}
	return target;
}

/* --- RFC 6901 pointers and RFC 6902 ---------------------------------------- */

/* Unescape one reference token (len bytes) into tok; -EINVAL on a bad ~. */
static int pointer_token(char *tok, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '~') {
			tok[o++] = s[i];
			continue;
		}
		if (i + 1 == len || (s[i + 1] != '0' && s[i + 1] != '1'))
			return -EINVAL;
		tok[o++] = s[++i] == '0' ? '~' : '/';
	}
	tok[o] = '\0';
	return 0;
}

/* An array index token: digits without a leading zero; -1 if not one. */
static long array_index(const char *tok)
{
	char *end;
	long n;

	if (!tok[0] || (tok[0] == '0' && tok[1]) || tok[0] < '0' || tok[0] > '9')
		return -1;
	n = strtol(tok, &end, 10);
	return *end || n < 0 || n > 1 << 30 ? -1 : n;
}

/*
 * Resolve path in doc to its parent container and the last token: *parent
 * (borrowed) and last (a copy, caller frees).  path "" has no parent:
 * *parent NULL, *last NULL.  -ENOENT when a container on the way is
 * missing, -EINVAL for a malformed pointer, -ENOMEM.
 */
static int pointer_parent(json_t *doc, const char *path, json_t **parent, char **last)
{
	size_t n = strlen(path);
	char *tok = malloc(n + 1);
	const char *p = path;
	json_t *cur = doc;
	int ret = 0;

	*parent = NULL;
	*last = NULL;
	if (!tok)
		return -ENOMEM;
	if (!*path)
		goto out;
	if (*path != '/') {
		ret = -EINVAL;
		goto out;
	}
	for (;;) {
		const char *next = strchr(p + 1, '/');
		size_t len = next ? (size_t)(next - p - 1) : strlen(p + 1);

		if (pointer_token(tok, p + 1, len)) {
			ret = -EINVAL;
			goto out;
		}
		if (!next) {
			*parent = cur;
			*last = tok;
			tok = NULL;
			goto out;
		}
		if (json_is_object(cur)) {
			cur = json_object_get(cur, tok);
		} else if (json_is_array(cur)) {
			long i = array_index(tok);

			cur = i < 0 ? NULL : json_array_get(cur, (size_t)i);
		} else {
			cur = NULL;
		}
		if (!cur) {
			ret = -ENOENT;
			goto out;
		}
		p = next;
	}
out:
	free(tok);
	return ret;
}

/* The value at path (borrowed), or NULL. */
static json_t *pointer_get(json_t *doc, const char *path, int *ret)
{
	json_t *parent, *v = NULL;
	char *last;

	*ret = pointer_parent(doc, path, &parent, &last);
	if (*ret)
		return NULL;
	if (!parent)
		return doc;
	if (json_is_object(parent)) {
		v = json_object_get(parent, last);
	} else if (json_is_array(parent)) {
		long i = array_index(last);

		v = i < 0 ? NULL : json_array_get(parent, (size_t)i);
	}
	free(last);
	if (!v)
		*ret = -ENOENT;
	return v;
}

/* Numbers compare by value (RFC 6902 4.6), the rest as jansson does. */
static bool json_same(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!json_same(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	}
	if (json_is_object(a) && json_is_object(b)) {
		const char *k;
		json_t *v;

		if (json_object_size(a) != json_object_size(b))
			return false;
		json_object_foreach((json_t *)a, k, v)
			if (!json_same(v, json_object_get(b, k)))
				return false;
		return true;
	}
	return json_equal((json_t *)a, (json_t *)b);
}

/* add: value's reference is taken. */
static int op_add(json_t **doc, const char *path, json_t *value, char *err, size_t errlen)
{
	json_t *parent;
	char *last;
	int ret = pointer_parent(*doc, path, &parent, &last);

	if (ret == -ENOMEM)
		goto out;
	if (ret) {
		ret = perr(err, errlen, "add operation does not apply: doc is missing path: \"%s\": missing value", path);
		goto out;
	}
	if (!parent) { /* the whole document */
		json_decref(*doc);
		*doc = value;
		value = NULL;
	} else if (json_is_object(parent)) {
		ret = json_object_set(parent, last, value) ? -ENOMEM : 0;
	} else if (json_is_array(parent)) {
		long i = strcmp(last, "-") ? array_index(last) : (long)json_array_size(parent);

		if (i < 0 || (size_t)i > json_array_size(parent))
			ret = perr(err, errlen, "Unable to access invalid index: %s: invalid index referenced", last);
		else
			ret = json_array_insert(parent, (size_t)i, value) ? -ENOMEM : 0;
	} else {
		ret = perr(err, errlen, "add operation does not apply: doc is missing path: \"%s\": missing value", path);
	}
out:
	json_decref(value);
	free(last);
	return ret;
}

/* remove (and the first half of move): the removed value in *taken if asked. */
static int op_remove(json_t *doc, const char *path, json_t **taken, const char *opname,
		     char *err, size_t errlen)
{
	json_t *parent;
	char *last;
	int ret = pointer_parent(doc, path, &parent, &last);

	if (ret == -ENOMEM)
		goto out;
	if (ret || !parent) {
		ret = perr(err, errlen, "%s operation does not apply: doc is missing path: \"%s\": missing value",
			   opname, path);
		goto out;
	}
	if (json_is_object(parent)) {
		json_t *v = json_object_get(parent, last);

		if (!v) {
			ret = perr(err, errlen, "error in %s for path: '%s': Unable to remove nonexistent key: %s: missing value",
				   opname, !strcmp(opname, "move") ? last : path, last);
			goto out;
		}
		if (taken)
			*taken = json_incref(v);
		json_object_del(parent, last);
	} else if (json_is_array(parent)) {
		long i = array_index(last);

		if (i < 0 || (size_t)i >= json_array_size(parent)) {
			ret = perr(err, errlen, "Unable to access invalid index: %s: invalid index referenced", last);
			goto out;
		}
		if (taken)
			*taken = json_incref(json_array_get(parent, (size_t)i));
		json_array_remove(parent, (size_t)i);
	} else {
		ret = perr(err, errlen, "%s operation does not apply: doc is missing path: \"%s\": missing value",
			   opname, path);
	}
out:
	free(last);
	return ret;
}

static int json_patch_one(json_t **doc, const json_t *op, size_t idx, char *err, size_t errlen)
{
	const char *kind = json_string_value(json_object_get(op, "op"));
	const char *path = json_string_value(json_object_get(op, "path"));
	const char *from = json_string_value(json_object_get(op, "from"));
	json_t *value = json_object_get(op, "value"), *v;
	int ret;

	if (!json_is_object(op))
		return perr(err, errlen, "json: cannot unmarshal value into Go value of type jsonpatch.Operation (operation %zu)", idx);
	if (!kind)
		return perr(err, errlen, "Unexpected kind: unknown (operation %zu has no \"op\")", idx);
	if (!path)
		return perr(err, errlen, "%s operation: operation missing path field", kind);
	if (!strcmp(kind, "add") || !strcmp(kind, "replace") || !strcmp(kind, "test")) {
		if (!value)
			return perr(err, errlen, "%s operation: operation missing value field: missing value", kind);
	}
	if (!strcmp(kind, "add"))
		return op_add(doc, path, json_deep_copy(value), err, errlen);
	if (!strcmp(kind, "remove"))
		return op_remove(*doc, path, NULL, "remove", err, errlen);
	if (!strcmp(kind, "replace")) {
		v = pointer_get(*doc, path, &ret);
		if (ret == -ENOMEM)
			return ret;
		if (!v)
			return perr(err, errlen, "replace operation does not apply: doc is missing key: %s: missing value", path);
		if (!*path) {
			json_decref(*doc);
			*doc = json_deep_copy(value);
			return *doc ? 0 : -ENOMEM;
		}
		if ((ret = op_remove(*doc, path, NULL, "replace", err, errlen)))
			return ret;
		return op_add(doc, path, json_deep_copy(value), err, errlen);
	}
	if (!strcmp(kind, "move") || !strcmp(kind, "copy")) {
		size_t n;

		if (!from)
			return perr(err, errlen, "%s operation: operation missing from field", kind);
		v = pointer_get(*doc, from, &ret);
		if (ret == -ENOMEM)
			return ret;
		if (!v && !strcmp(kind, "move")) { /* as evanphx/json-patch words it */
			json_t *parent;
			char *last;

			ret = pointer_parent(*doc, from, &parent, &last);
			free(last);
			if (ret == -ENOMEM)
				return ret;
			if (!ret && json_is_object(parent))
				return op_remove(*doc, from, NULL, "move", err, errlen);
		}
		if (!v)
			return perr(err, errlen, "%s operation does not apply: doc is missing from path: %s: missing value",
				    kind, from);
		if (!strcmp(kind, "copy"))
			return op_add(doc, path, json_deep_copy(v), err, errlen);
		n = strlen(from);
		/* RFC 6902 4.4: from cannot be a proper prefix of path */
		if (!strncmp(from, path, n) && path[n] == '/')
			return perr(err, errlen, "move operation does not apply: from path %s is a prefix of path %s",
				    from, path);
		v = NULL;
		if ((ret = op_remove(*doc, from, &v, "move", err, errlen)))
			return ret;
		return op_add(doc, path, v, err, errlen);
	}
	if (!strcmp(kind, "test")) {
		v = pointer_get(*doc, path, &ret);
		if (ret == -ENOMEM)
			return ret;
		if (!v && !json_is_null(value))
			return perr(err, errlen, "testing value %s failed: test failed", path);
		if (v && !json_same(v, value))
			return perr(err, errlen, "testing value %s failed: test failed", path);
		return 0;
	}
	return perr(err, errlen, "Unexpected kind: %s", kind);
}

/* --- strategic merge patch, for a Secret ----------------------------------- */

#define SMP_PATCH "$patch"
#define SMP_RETAIN "$retainKeys"
#define SMP_ORDER "$setElementOrder/"
#define SMP_DELETE_FROM "$deleteFromPrimitiveList/"

/* Where in the object a map is: only ObjectMeta has lists that merge. */
enum smp_where { SMP_TOP, SMP_META, SMP_OTHER };

/* How the list under key of a map at where merges: NULL mergekey and false:
 * replaced; true with NULL: a set of scalars; with "uid": maps by uid. */
static bool smp_list_merges(enum smp_where where, const char *key, const char **mergekey)
{
	*mergekey = NULL;
	if (where != SMP_META)
		return false;
	if (!strcmp(key, "finalizers"))
		return true;
	if (!strcmp(key, "ownerReferences")) {
		*mergekey = "uid";
		return true;
	}
	return false;
}

/* Item i's identity in a merging list: itself, or its merge key's value. */
static const json_t *smp_ident(const json_t *item, const char *mergekey)
{
	return mergekey ? json_object_get(item, mergekey) : item;
}

/* The index of the item in l whose identity is that of v, or -1. */
static long smp_index(const json_t *l, const json_t *v, const char *mergekey)
{
	const json_t *id = smp_ident(v, mergekey);

	if (!id)
		return -1;
	for (size_t i = 0; i < json_array_size(l); i++) {
		const json_t *o = smp_ident(json_array_get(l, i), mergekey);

		if (o && json_equal((json_t *)o, (json_t *)id))
			return (long)i;
	}
	return -1;
}

/*
 * Sort l (in place) by the position of each item in order, as Go's
 * sort.SliceStable does with strategicpatch's comparison (insertion sort;
 * an item not in order compares "less" than anything): the same lists come
 * out in the same order as from kube-apiserver.
 */
static void smp_sort(json_t *l, const json_t *order, const char *mergekey)
{
	size_t n = json_array_size(l);

	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			long a = smp_index(order, json_array_get(l, j), mergekey);
			long b = smp_index(order, json_array_get(l, j - 1), mergekey);
			json_t *t;

			if (a >= 0 && b >= 0 && a >= b)
				break;
			t = json_incref(json_array_get(l, j));
			json_array_set(l, j, json_array_get(l, j - 1));
			json_array_set_new(l, j - 1, t);
		}
}

/*
 * normalizeElementOrder: merged split into the items in patch_order (sorted
 * by it) and the server's own (sorted by server_order), then interleaved by
 * the server's order.  Returns a new list.
 */
static json_t *smp_order(const json_t *merged, const json_t *patch_order,
			 const json_t *server_order, const char *mergekey)
{
	json_t *mine = json_array(), *server = json_array(), *all = json_array();
	size_t i = 0, j = 0;

	if (!mine || !server || !all)
		goto fail;
	for (size_t k = 0; k < json_array_size(merged); k++) {
		json_t *v = json_array_get(merged, k);

		if (json_array_append(smp_index(patch_order, v, mergekey) >= 0 ? mine : server, v))
			goto fail;
	}
	smp_sort(mine, patch_order, mergekey);
	smp_sort(server, server_order, mergekey);
	while (i < json_array_size(server) || j < json_array_size(mine)) {
		json_t *take;

		if (i >= json_array_size(server)) {
			take = json_array_get(mine, j++);
		} else if (j >= json_array_size(mine)) {
			take = json_array_get(server, i++);
		} else {
			long a = smp_index(server_order, json_array_get(server, i), mergekey);
			long b = smp_index(server_order, json_array_get(mine, j), mergekey);

			take = a >= 0 && b >= 0 && a < b ? json_array_get(server, i++) :
							   json_array_get(mine, j++);
		}
		if (json_array_append(all, take))
			goto fail;
	}
	json_decref(mine);
	json_decref(server);
	return all;
fail:
	json_decref(mine);
	json_decref(server);
	json_decref(all);
	return NULL;
}

static json_t *smp_map(json_t *orig, json_t *patch, enum smp_where where, const char *path,
		       char *err, size_t errlen, int *ret);

/*
 * mergeSlice: orig (taken) and patch (borrowed) of a merging list; a new
 * reference, or NULL with *ret set.
 */
static json_t *smp_list(json_t *orig, const json_t *patch, const char *mergekey,
			const char *path, char *err, size_t errlen, int *ret)
{
	json_t *merged = NULL, *plain = json_array(), *out = NULL;
	size_t i;
	json_t *v;

	if (!plain)
		goto nomem;
	if (!mergekey) { /* a set of strings: union, first one kept */
		merged = json_array();
		if (!merged)
			goto nomem;
		json_array_foreach(orig, i, v)
			if (smp_index(merged, v, NULL) < 0 && json_array_append(merged, v))
				goto nomem;
		json_array_foreach(patch, i, v) {
			if (json_is_object(v) || json_is_array(v)) {
				*ret = perr(err, errlen, "%s: elements must be strings", path);
				goto fail;
			}
			if (smp_index(merged, v, NULL) < 0 && json_array_append(merged, v))
				goto nomem;
			if (json_array_append(plain, v))
				goto nomem;
		}
	} else {
		bool replace = false;

		merged = json_deep_copy(orig);
		if (!merged)
			goto nomem;
		/* mergeSliceWithSpecialElements: $patch in an element */
		json_array_foreach(patch, i, v) {
			const json_t *d = json_object_get(v, SMP_PATCH);
			const char *dir = json_string_value(d);

			if (!json_is_object(v)) {
				*ret = perr(err, errlen, "%s: value for key %zu is not a map.", path, i);
				goto fail;
			}
			if (!d) {
				if (json_array_append(plain, v))
					goto nomem;
			} else if (dir && !strcmp(dir, "delete")) {
				long k;

				if (!json_object_get(v, mergekey)) {
					*ret = perr(err, errlen, "%s: map does not contain declared merge key: %s", path, mergekey);
					goto fail;
				}
				while ((k = smp_index(merged, v, mergekey)) >= 0)
					json_array_remove(merged, (size_t)k);
			} else if (dir && !strcmp(dir, "replace")) {
				replace = true;
			} else if (dir && !strcmp(dir, "merge")) {
				*ret = perr(err, errlen, "%s: merging lists cannot yet be specified in the patch", path);
				goto fail;
			} else {
				*ret = perr(err, errlen, "%s: unknown patch type: %s in map", path,
					    dir ? dir : "(not a string)");
				goto fail;
			}
		}
		if (replace) {
			json_decref(orig);
			json_decref(merged);
			orig = json_array();
			merged = json_array();
			if (!orig || !merged)
				goto nomem;
			json_array_foreach(plain, i, v) {
				json_t *m = smp_map(NULL, v, SMP_OTHER, path, err, errlen, ret);

				if (!m || json_array_append_new(merged, m))
					goto fail_or_nomem;
			}
			json_decref(plain);
			plain = json_array();
			if (!plain)
				goto nomem;
		}
		json_array_foreach(plain, i, v) {
			long k;

			if (!json_object_get(v, mergekey)) {
				*ret = perr(err, errlen, "%s: map does not contain declared merge key: %s", path, mergekey);
				goto fail;
			}
			k = smp_index(merged, v, mergekey);
			if (k >= 0) {
				json_t *m = smp_map(json_incref(json_array_get(merged, (size_t)k)),
						    v, SMP_OTHER, path, err, errlen, ret);

				if (!m || json_array_set_new(merged, (size_t)k, m))
					goto fail_or_nomem;
			} else {
				json_t *m = smp_map(NULL, v, SMP_OTHER, path, err, errlen, ret);

				if (!m || json_array_append_new(merged, m))
					goto fail_or_nomem;
			}
		}
	}
	out = smp_order(merged, plain, orig, mergekey);
	if (!out)
		goto nomem;
	goto done;
fail_or_nomem:
	if (*ret)
		goto fail;
nomem:
	*ret = -ENOMEM;
fail:
done:
	json_decref(orig);
	json_decref(merged);
	json_decref(plain);
	return out;
}

/* $deleteFromPrimitiveList/key: orig (taken) without the items of del. */
static json_t *smp_delete_from(json_t *orig, const json_t *del, int *ret)
{
	json_t *out = json_array();
	size_t i;
	json_t *v;

	if (!out) {
		*ret = -ENOMEM;
		json_decref(orig);
		return NULL;
	}
	json_array_foreach(orig, i, v)
		if (smp_index(del, v, NULL) < 0 && json_array_append(out, v)) {
			*ret = -ENOMEM;
			json_decref(out);
			out = NULL;
			break;
		}
	json_decref(orig);
	return out;
}

/* Is key a directive mergeMap knows?  *list: the list it names, if any. */
static bool smp_directive(const char *key, const char **list)
{
	*list = NULL;
	if (!strcmp(key, SMP_PATCH) || !strcmp(key, SMP_RETAIN))
		return true;
	if (!strncmp(key, SMP_ORDER, strlen(SMP_ORDER)))
		*list = key + strlen(SMP_ORDER);
	else if (!strncmp(key, SMP_DELETE_FROM, strlen(SMP_DELETE_FROM)))
		*list = key + strlen(SMP_DELETE_FROM);
	return *list && **list;
}

/*
 * mergeMap: patch (borrowed) merged into orig (taken; NULL: an empty map).
 * where says which lists merge; path names the map in messages.  A new
 * reference, or NULL with *ret set.
 */
static json_t *smp_map(json_t *orig, json_t *patch, enum smp_where where, const char *path,
		       char *err, size_t errlen, int *ret)
{
	const json_t *d = json_object_get(patch, SMP_PATCH);
	const json_t *retain = json_object_get(patch, SMP_RETAIN);
	const char *k, *list;
	json_t *v, *out = NULL;
	char sub[256];

	*ret = 0;
	if (!orig || !json_is_object(orig)) {
		json_decref(orig);
		orig = json_object();
		if (!orig)
			goto nomem;
	}
	/* every "$" key must be one we know: anything else would be stored
	 * as a field, or silently ignored */
	json_object_foreach(patch, k, v)
		if (k[0] == '$' && !smp_directive(k, &list)) {
			*ret = perr(err, errlen, "%s: unknown patch directive: %s", path, k);
			goto fail;
		}
	if (d) { /* handleDirectiveInMergeMap */
		const char *dir = json_string_value(d);

		if (dir && !strcmp(dir, "delete")) {
			out = json_object();
			goto done_nomem_check;
		}
		if (!dir || strcmp(dir, "replace")) {
			*ret = perr(err, errlen, "%s: unknown patch type: %s in map", path,
				    dir ? dir : "(not a string)");
			goto fail;
		}
		/* the patch as it is, its own directives applied to nothing */
		json_decref(orig);
		orig = NULL;
		patch = json_deep_copy(patch);
		if (!patch)
			goto nomem;
		json_object_del(patch, SMP_PATCH);
		out = smp_map(NULL, patch, where, path, err, errlen, ret);
		json_decref(patch);
		return out;
	}
	if (retain) { /* applyRetainKeysDirective */
		void *tmp;

		if (!json_is_array(retain)) {
			*ret = perr(err, errlen, "%s: invalid patch: $retainKeys must be a list of strings", path);
			goto fail;
		}
		json_object_foreach(patch, k, v) {
			bool found = false;
			size_t i;
			json_t *r;

			if (json_is_null(v) || k[0] == '$')
				continue;
			json_array_foreach(retain, i, r)
				found |= json_is_string(r) && !strcmp(json_string_value(r), k);
			if (!found) {
				*ret = perr(err, errlen, "%s: doesn't satisfy strategic merge patch format: $retainKeys does not name %s", path, k);
				goto fail;
			}
		}
		json_object_foreach_safe(orig, tmp, k, v) {
			bool found = false;
			size_t i;
			json_t *r;

			json_array_foreach(retain, i, r)
				found |= json_is_string(r) && !strcmp(json_string_value(r), k);
			if (!found)
				json_object_del(orig, k);
		}
	}
	/* the fields, then the deletion lists, then the order directives */
	for (int pass = 0; pass < 3; pass++) {
		json_object_foreach(patch, k, v) {
			const char *mk = NULL;
			json_t *cur = json_object_get(orig, k), *m;
			bool directive = k[0] == '$';

			if (pass == 0 && directive)
				continue;
			if (pass > 0 && (!directive || !smp_directive(k, &list) || !list))
				continue;
			if (pass == 1 && strncmp(k, SMP_DELETE_FROM, strlen(SMP_DELETE_FROM)))
				continue;
			if (pass == 2 && strncmp(k, SMP_ORDER, strlen(SMP_ORDER)))
				continue;
			snprintf(sub, sizeof(sub), "%s.%s", path, pass ? list : k);
			if (pass == 1) {
				json_t *l = json_object_get(orig, list);

				if (!json_is_array(v) || !smp_list_merges(where, list, &mk) || mk) {
					*ret = perr(err, errlen, "%s: invalid patch: $deleteFromPrimitiveList applies to a list of strings that merges", sub);
					goto fail;
				}
				if (!json_is_array(l))
					continue; /* nothing to delete from */
				m = smp_delete_from(json_incref(l), v, ret);
				if (!m || json_object_set_new(orig, list, m))
					goto fail_or_nomem;
				continue;
			}
			if (pass == 2) {
				json_t *l = json_object_get(orig, list);

				if (!json_is_array(v)) {
					*ret = perr(err, errlen, "%s: invalid patch: $setElementOrder must be a list", sub);
					goto fail;
				}
				if (!json_is_array(l) || !smp_list_merges(where, list, &mk))
					continue; /* a replaced list is in the patch's order already */
				m = smp_order(l, v, l, mk);
				if (!m || json_object_set_new(orig, list, m))
					goto nomem;
				continue;
			}
			if (json_is_null(v)) {
				json_object_del(orig, k);
				continue;
			}
			if (json_is_object(v)) {
				enum smp_where w = where == SMP_TOP && !strcmp(k, "metadata") ? SMP_META : SMP_OTHER;

				m = smp_map(json_is_object(cur) ? json_incref(cur) : NULL, v, w, sub,
					    err, errlen, ret);
				if (!m || json_object_set_new(orig, k, m))
					goto fail_or_nomem;
				continue;
			}
			if (json_is_array(v) && json_is_array(cur) && smp_list_merges(where, k, &mk)) {
				m = smp_list(json_incref(cur), v, mk, sub, err, errlen, ret);
				if (!m || json_object_set_new(orig, k, m))
					goto fail_or_nomem;
				continue;
			}
			if (json_is_array(v)) { /* replaced: directives in its maps still apply */
				size_t i;
				json_t *e;

				m = json_array();
				if (!m)
					goto nomem;
				json_array_foreach(v, i, e) {
					json_t *c = json_is_object(e) ?
						smp_map(NULL, e, SMP_OTHER, sub, err, errlen, ret) :
						json_incref(e);

					if (!c || json_array_append_new(m, c)) {
						json_decref(m);
						goto fail_or_nomem;
					}
				}
				if (json_object_set_new(orig, k, m))
					goto nomem;
				continue;
			}
			if (json_object_set(orig, k, v))
				goto nomem;
		}
	}
	return orig;
done_nomem_check:
	json_decref(orig);
	if (!out)
		*ret = -ENOMEM;
	return out;
fail_or_nomem:
	if (*ret)
		goto fail;
nomem:
	*ret = -ENOMEM;
fail:
	json_decref(orig);
	return NULL;
}

/* --- the interface ----------------------------------------------------------- */

int kube_patch(json_t **obj, const json_t *patch, enum kube_patch_type type, char *err,
	       size_t errlen)
{
	json_t *doc = NULL;
	int ret = 0;

	assert(obj && *obj && patch);
	switch (type) {
	case KUBE_PATCH_MERGE:
		if (!json_is_object(patch))
			return perr(err, errlen, "json: cannot unmarshal %s into Go value of type map[string]interface {}",
				    json_is_array(patch) ? "array" : "value");
		doc = kube_merge_patch(json_deep_copy(*obj), patch);
		if (!doc)
			return -ENOMEM;
		break;
	case KUBE_PATCH_JSON: {
		size_t i;
		json_t *op;

		if (!json_is_array(patch))
			return perr(err, errlen, "json: cannot unmarshal %s into Go value of type jsonpatch.Patch",
				    json_is_object(patch) ? "object" : "value");
		doc = json_deep_copy(*obj);
		if (!doc)
			return -ENOMEM;
		json_array_foreach(patch, i, op)
			if ((ret = json_patch_one(&doc, op, i, err, errlen)))
				goto out;
		break;
	}
	case KUBE_PATCH_STRATEGIC:
		if (!json_is_object(patch))
			return perr(err, errlen, "json: cannot unmarshal %s into Go value of type map[string]interface {}",
				    json_is_array(patch) ? "array" : "value");
		doc = smp_map(json_deep_copy(*obj), (json_t *)patch, SMP_TOP, "", err, errlen, &ret);
		if (!doc)
			return ret ? ret : -ENOMEM;
		break;
	default:
		return perr(err, errlen, "unknown patch type");
	}
	if (!json_is_object(doc)) {
		ret = perr(err, errlen, "the patch does not leave an object");
		goto out;
	}
	json_decref(*obj);
	*obj = doc;
	doc = NULL;
out:
	json_decref(doc);
	return ret;
}
