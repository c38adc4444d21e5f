/* fuzz_manifest - the manifest reader (YAML and JSON) and the Secret
 * conversion behind apply -f must never crash, whatever the bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kube/kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[STORE_ERRMSG_MAX];
	unsigned char *buf = malloc(size + 1);
	json_t *docs = json_array(), *doc;
	size_t i;

	if (!buf || !docs || sodium_init() < 0)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (manifest_parse(buf, size, "fuzz", docs, err, sizeof(err)) == 0) {
		json_array_foreach(docs, i, doc) {
			struct store_secret *s = NULL;

			if (manifest_secret(doc, "default", false, &s, err, sizeof(err)) == 0)
				store_secret_free(s);
		}
	}
	json_decref(docs);
	free(buf);
	return 0;
}
