/*
 * apply.c - kubectl's client-side apply for a Secret: the last-applied
 * annotation without values, and the three-way merge patch.
 *
 * As kubectl (apply.go, strategicpatch.CreateThreeWayMergePatch with
 * overwrite): original is the last apply (KUBE_LAST_APPLIED), modified the
 * manifest with its new annotation, current the live object.  The patch is
 * the deletions (what original set and modified lacks: keys only, so a
 * redacted original serves) merged with the changes (modified against
 * current, deletions ignored: what was never applied stays).  Applied with
 * our strategic merge patch, it gives what kube-apiserver would store.
 * One format for secretctl and the API server: real kubectl reading our
 * annotation merges the same way, because values in original are never
 * looked at.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

#define DIFF_NO_DELETIONS 0x1 /* IgnoreDeletions */
#define DIFF_NO_CHANGES   0x2 /* IgnoreChangesAndAdditions */

/* obj's metadata.annotations, made (as empty maps) where missing or not a
 * map; borrowed from obj.  NULL: out of memory. */
static json_t *annotations_of(json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata"), *ann;

	if (!json_is_object(meta) &&
	    (!(meta = json_object()) || json_object_set_new(obj, "metadata", meta)))
		return NULL;
	ann = json_object_get(meta, "annotations");
	if (!json_is_object(ann) &&
	    (!(ann = json_object()) || json_object_set_new(meta, "annotations", ann)))
		return NULL;
	return ann;
}

char *kube_last_applied(const json_t *manifest)
{
	json_t *copy = json_deep_copy(manifest), *ann;
	char *text = NULL, *clean = NULL, *nl = NULL;

	if (!copy)
		return NULL;
	/* kubectl drops its own annotation and leaves the map, even empty */
	if (!(ann = annotations_of(copy)))
		goto out;
	json_object_del(ann, KUBE_LAST_APPLIED);
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		goto out;
	/* kubectl's encoder ends it with a newline */
	if (asprintf(&nl, "%s\n", text) < 0)
		nl = NULL;
	else if (store_last_applied_redact(nl, &clean))
		clean = NULL;
out:
	if (nl) { /* it held the values */
		explicit_bzero(nl, strlen(nl));
		free(nl);
	}
	if (text) {
		json_malloc_t m;
		json_free_t f;

		json_get_alloc_funcs(&m, &f);
		f(text);
	}
	json_decref(copy);
	return clean;
}

/* Is the list under key of a map at depth (0: the object, 1: metadata)
 * one that merges (ObjectMeta's finalizers and ownerReferences)? */
static bool merging_list(bool in_meta, const char *key, const char **mergekey)
{
	*mergekey = NULL;
	if (!in_meta)
		return false;
	if (!strcmp(key, "ownerReferences"))
		*mergekey = "uid";
	return *mergekey || !strcmp(key, "finalizers");
}

static bool in_list(const json_t *l, const json_t *v, const char *mergekey)
{
	size_t i;
	json_t *e;

	json_array_foreach(l, i, e)
		if (mergekey ? json_equal(json_object_get(e, mergekey), json_object_get(v, mergekey)) :
			       json_equal(e, (json_t *)v))
			return true;
	return false;
}

/* The element of l with v's merge key, or NULL. */
static json_t *list_find(const json_t *l, const json_t *v, const char *mergekey)
{
	size_t i;
	json_t *e;

	json_array_foreach(l, i, e)
		if (json_equal(json_object_get(e, mergekey), json_object_get(v, mergekey)))
			return e;
	return NULL;
}

/* diffLists for the two lists that merge, into out under key. */
static int diff_list(json_t *out, const char *key, const json_t *from, const json_t *to,
		     const char *mergekey, int opts)
{
	json_t *add = json_array(), *del = json_array();
	char name[128];
	size_t i;
	json_t *v;
	int ret = -ENOMEM;

	if (!add || !del)
		goto out;
	json_array_foreach(to, i, v) {
		json_t *was = mergekey ? list_find(from, v, mergekey) : NULL;

		if (opts & DIFF_NO_CHANGES)
			break;
		if ((mergekey ? was && json_equal(was, v) : in_list(from, v, NULL)))
			continue;
		if (json_array_append(add, v))
			goto out;
	}
	json_array_foreach(from, i, v) {
		if ((opts & DIFF_NO_DELETIONS) || in_list(to, v, mergekey))
			continue;
		if (json_array_append_new(del, mergekey ?
				json_pack("{s:s, s:O}", "$patch", "delete", mergekey,
					  json_object_get(v, mergekey)) : json_incref(v)))
			goto out;
	}
	if (mergekey) { /* deletions are $patch: delete elements of the list */
		if (json_array_extend(add, del))
			goto out;
	} else if (json_array_size(del)) {
		snprintf(name, sizeof(name), "$deleteFromPrimitiveList/%s", key);
		if (json_object_set(out, name, del))
			goto out;
	}
	if (json_array_size(add) && json_object_set(out, key, add))
		goto out;
	if (json_array_size(add) || json_array_size(del)) {
		json_t *order = json_array();

		snprintf(name, sizeof(name), "$setElementOrder/%s", key);
		if (!order)
			goto out;
		json_array_foreach(to, i, v)
			json_array_append_new(order, mergekey ?
				json_pack("{s:O}", mergekey, json_object_get(v, mergekey)) :
				json_incref(v));
		if (json_object_set_new(out, name, order))
			goto out;
	}
	ret = 0;
out:
	json_decref(add);
	json_decref(del);
	return ret;
}

/* diffMaps: what turns from into to, into out (an object). */
static int diff_maps(json_t *out, const json_t *from, const json_t *to, int opts, int depth)
{
	const char *k, *mk;
	json_t *tv, *fv;
	int ret;

	json_object_foreach((json_t *)to, k, tv) {
		fv = json_object_get(from, k);
		if (!fv) {
			if (!(opts & DIFF_NO_CHANGES) && json_object_set(out, k, tv))
				return -ENOMEM;
			continue;
		}
		if (json_is_object(fv) && json_is_object(tv)) {
			json_t *sub = json_object();

			if (!sub)
				return -ENOMEM;
			ret = diff_maps(sub, fv, tv, opts,
					depth == 0 && !strcmp(k, "metadata") ? 1 : 2);
			if (!ret && json_object_size(sub))
				ret = json_object_set(out, k, sub) ? -ENOMEM : 0;
			json_decref(sub);
			if (ret)
				return ret;
			continue;
		}
		if (json_is_array(fv) && json_is_array(tv) && merging_list(depth == 1, k, &mk)) {
			if ((ret = diff_list(out, k, fv, tv, mk, opts)))
				return ret;
			continue;
		}
		if (!(opts & DIFF_NO_CHANGES) && !json_equal(fv, tv) && json_object_set(out, k, tv))
			return -ENOMEM;
	}
	if (opts & DIFF_NO_DELETIONS)
		return 0;
	json_object_foreach((json_t *)from, k, fv)
		if (!json_object_get(to, k) && json_object_set_new(out, k, json_null()))
			return -ENOMEM;
	return 0;
}

/* The changes merged into the deletions (they never share a scalar). */
static int merge_into(json_t *into, const json_t *from)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)from, k, v) {
		json_t *cur = json_object_get(into, k);
		int ret;

		if (json_is_object(cur) && json_is_object(v)) {
			if ((ret = merge_into(cur, v)))
				return ret;
		} else if (json_object_set(into, k, v)) {
			return -ENOMEM;
		}
	}
	return 0;
}

int kube_three_way(json_t **patch, const json_t *original, const json_t *modified,
		   const json_t *current, char *err, size_t errlen)
{
	json_t *deletions = json_object(), *changes = json_object();
	int ret = -ENOMEM;

	if (!json_is_object(modified) || !json_is_object(current)) {
		snprintf(err, errlen, "apply: the manifest and the live object must be objects");
		ret = -EINVAL;
		goto out;
	}
	if (!deletions || !changes)
		goto out;
	if ((ret = diff_maps(changes, current, modified, DIFF_NO_DELETIONS, 0)))
		goto out;
	if (json_is_object(original) &&
	    (ret = diff_maps(deletions, original, modified, DIFF_NO_CHANGES, 0)))
		goto out;
	if ((ret = merge_into(deletions, changes)))
		goto out;
	*patch = deletions;
	deletions = NULL;
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	json_decref(deletions);
	json_decref(changes);
	return ret;
}

int kube_apply(json_t **result, const json_t *manifest, const json_t *current,
	       char *err, size_t errlen)
{
	json_t *modified = json_deep_copy(manifest), *ann, *original = NULL;
	json_t *patch = NULL, *obj = NULL;
	const char *last;
	char *text = NULL;
	int ret = -ENOMEM;

	if (!modified || !(text = kube_last_applied(manifest)))
		goto out;
	if (!(ann = annotations_of(modified)) ||
	    json_object_set_new(ann, KUBE_LAST_APPLIED, json_string(text)))
		goto out;
	if (!current) {
		*result = modified;
		modified = NULL;
		ret = 0;
		goto out;
	}
	last = json_string_value(json_object_get(json_object_get(json_object_get(current, "metadata"),
								 "annotations"), KUBE_LAST_APPLIED));
	if (last) /* unreadable: as kubectl, as if never applied */
		original = json_loads(last, JSON_ALLOW_NUL, NULL);
	if ((ret = kube_three_way(&patch, original, modified, current, err, errlen)))
		goto out;
	obj = json_deep_copy(current);
	if (!obj) {
		ret = -ENOMEM;
		goto out;
	}
	if ((ret = kube_patch(&obj, patch, KUBE_PATCH_STRATEGIC, err, errlen)))
		goto out;
	*result = obj;
	obj = NULL;
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	free(text);
	json_decref(obj);
	json_decref(patch);
	json_decref(original);
	json_decref(modified);
	return ret;
}
