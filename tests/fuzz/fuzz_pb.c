/* fuzz_pb - the decoder of kubectl's protobuf request bodies (api/pb.c):
 * any bytes decode to an object carrying kind and apiVersion, or fail with
 * a reason; never a crash, a leak or a read past the body.  Inputs without
 * the "k8s\0" prefix are tried with it too, so that mutations of the
 * envelope and the object are reached as often as the prefix check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t size)
{
	char err[256];
	json_t *j;

	err[0] = 'x';
	j = api_pb_decode(data, size, err, sizeof(err));
	if (j) {
		char *s;

		if (!json_is_object(j) || !json_is_string(json_object_get(j, "kind")) ||
		    !json_is_string(json_object_get(j, "apiVersion")))
			abort();
		/* what the server will do with it next */
		s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!s)
			abort();
		free(s);
		json_decref(j);
	} else if (err[0] == '\0' || !memchr(err, '\0', sizeof(err))) {
		abort(); /* a failure always says why */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p;

	check(data, size);
	if (size >= 4 && memcmp(data, "k8s", 4) == 0)
		return 0;
	p = malloc(size + 4);
	if (!p)
		return 0;
	memcpy(p, "k8s", 4);
	memcpy(p + 4, data, size);
	check(p, size + 4);
	free(p);
	return 0;
}
