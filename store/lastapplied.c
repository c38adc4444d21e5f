/*
 * lastapplied.c - kubectl's last-applied-configuration annotation, kept
 * without a value.
 *
 * kubectl stores the whole manifest it applied in that annotation, every
 * value in clear (kubernetes/kubernetes#23564); its three-way merge only
 * needs to know which keys the last apply set.  So every value under data
 * and stringData becomes STORE_REDACTED, here, on the store's one write
 * path: store_secret_put() redacts what any front end hands it (secretctl,
 * the API server, a hand-made annotate), and rows_pair_add() refuses an
 * annotation that would still hold a value, so that no writer, present or
 * future, can store one, sealed or not.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"

static int redact_map(json_t *obj, const char *field)
{
	json_t *m = json_object_get(obj, field), *v;
	const char *k;

	if (!m || json_is_null(m))
		return 0;
	if (!json_is_object(m)) /* a value in another shape: none kept */
		return json_object_set_new(obj, field, json_object()) ? -ENOMEM : 0;
	json_object_foreach(m, k, v)
		if (!json_is_string(v) || strcmp(json_string_value(v), STORE_REDACTED))
			if (json_object_set_new(m, k, json_string(STORE_REDACTED)))
				return -ENOMEM;
	return 0;
}

/* json_dumps()'s text goes back to jansson's allocator (secretctl's wipes). */
static void json_text_free(char *text)
{
	json_malloc_t m;
	json_free_t f;

	if (!text)
		return;
	json_get_alloc_funcs(&m, &f);
	f(text);
}

int store_last_applied_redact(const char *in, char **out)
{
	size_t n = strlen(in);
	json_t *obj = json_loads(in, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	char *text = NULL, *res = NULL;
	int err = 0;

	if (!json_is_object(obj)) {
		err = -EINVAL;
		goto out;
	}
	if ((err = redact_map(obj, "data")) || (err = redact_map(obj, "stringData")))
		goto out;
	/* kubectl's encoding: compact, keys sorted, a newline at the end */
	text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text || asprintf(&res, "%s%s", text, n && in[n - 1] == '\n' ? "\n" : "") < 0) {
		res = NULL;
		err = -ENOMEM;
		goto out;
	}
	*out = res;
out:
	json_text_free(text);
	json_decref(obj);
	return err;
}

int last_applied_check(const char *value)
{
	char *clean = NULL;
	int err = store_last_applied_redact(value, &clean);

	if (!err && strcmp(clean, value) != 0)
		err = -EINVAL;
	free(clean);
	return err;
}
