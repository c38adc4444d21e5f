/* fuzz_patch - the patch engine (kube/patch.c) and the three-way apply
 * (kube/apply.c) on any document and any patch, as the API server will
 * meet them in request bodies.  Input: one byte choosing the patch type,
 * then the document and the patch separated by a NUL byte.  Invariants: a
 * failed patch leaves the document exactly as it was; a successful one
 * leaves an object; the last-applied annotation apply writes never holds a
 * value under data or stringData. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_redacted(const json_t *obj)
{
	const char *last = json_string_value(json_object_get(
		json_object_get(json_object_get(obj, "metadata"), "annotations"), KUBE_LAST_APPLIED));
	json_t *l, *v;
	const char *k;

	if (!last)
		abort();
	l = json_loads(last, 0, NULL);
	if (!l)
		abort();
	json_object_foreach(json_object_get(l, "data"), k, v)
		if (strcmp(json_string_value(v) ? json_string_value(v) : "", KUBE_REDACTED))
			abort();
	json_object_foreach(json_object_get(l, "stringData"), k, v)
		if (strcmp(json_string_value(v) ? json_string_value(v) : "", KUBE_REDACTED))
			abort();
	json_decref(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep;
	json_t *doc, *before, *patch = NULL, *res = NULL;
	char err[256];
	enum kube_patch_type type;

	if (size < 2)
		return 0;
	type = (enum kube_patch_type)(data[0] % 3);
	data++;
	size--;
	sep = memchr(data, 0, size);
	if (!sep)
		return 0;
	doc = json_loadb((const char *)data, (size_t)(sep - data), 0, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return 0;
	}
	before = json_deep_copy(doc);
	if (kube_patch_parse(&patch, (const char *)sep + 1, size - (size_t)(sep - data) - 1, type,
			     err, sizeof(err)) == 0) {
		if (kube_patch(&doc, patch, type, err, sizeof(err)) == 0) {
			if (!json_is_object(doc))
				abort();
		} else if (!json_equal(doc, before)) {
			abort(); /* all or nothing */
		}
		/* the patch as a manifest applied onto the document as live */
		if (json_is_object(patch) && kube_apply(&res, patch, before, err, sizeof(err)) == 0) {
			check_redacted(res);
			json_decref(res);
		}
	}
	json_decref(patch);
	json_decref(before);
	json_decref(doc);
	return 0;
}
