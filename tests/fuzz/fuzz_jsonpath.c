/* fuzz_jsonpath - kubectl's JSONPath (kube/jsonpath.c) and the field
 * selector parser on any input: the input up to its first NUL is a
 * template, evaluated over a List of two secrets (or over what follows the
 * NUL, when that is JSON); and the whole input is a field selector.
 * Nothing may crash, leak or read out of bounds; a template that parses
 * evaluates to an answer or an error, never both. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char list[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"\"},\"items\":["
	"{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"app\",\"namespace\":\"default\","
	"\"labels\":{\"team\":\"web\",\"app.kubernetes.io/name\":\"x\"}},\"type\":\"Opaque\","
	"\"data\":{\"password\":\"czNjcjN0\",\"n\":\"MTA=\"},\"immutable\":true,\"count\":3,\"ratio\":0.5,\"none\":null},"
	"{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"tls\",\"namespace\":\"prod\"},"
	"\"type\":\"kubernetes.io/tls\",\"data\":{\"tls.crt\":\"Qw==\",\"tls.key\":\"Sw==\"},\"count\":12,"
	"\"list\":[1,\"a\",[true,false],{\"k\":1e300}]}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	char err[512], *s = malloc(size + 1), *relaxed = NULL;
	size_t tlen;
	struct jsonpath *jp = NULL;
	struct field_selector *fs = NULL;
	json_t *obj = NULL, *groups = NULL;

	if (!s)
		abort();
	if (!sink && !(sink = fopen("/dev/null", "w")))
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	tlen = strlen(s);
	if (tlen + 1 < size)
		obj = json_loadb(s + tlen + 1, size - tlen - 1, JSON_DECODE_ANY, NULL);
	if (!obj)
		obj = json_loads(list, 0, NULL);
	if (!obj)
		abort();
	if (jsonpath_parse(&jp, s, err, sizeof(err)) == 0) {
		int a = jsonpath_exec(jp, obj, sink, false, err, sizeof(err));
		int b = jsonpath_exec(jp, obj, sink, true, err, sizeof(err));

		/* one evaluation: the same answer whatever the printer */
		if ((a == 0) != (b == 0))
			abort();
		if (jsonpath_find(jp, obj, &groups, err, sizeof(err)) == 0) {
			if (!json_is_array(groups) || a != 0)
				abort();
			json_decref(groups);
		}
		jsonpath_free(jp);
	}
	if (jsonpath_relaxed(&relaxed, s, err, sizeof(err)) == 0 && *s && relaxed[0] != '{')
		abort();
	free(relaxed);
	if (field_selector_parse(&fs, s, err, sizeof(err)) == 0) {
		field_selector_match(fs, "default", "app", "Opaque");
		field_selector_free(fs);
	}
	json_decref(obj);
	free(s);
	return 0;
}
