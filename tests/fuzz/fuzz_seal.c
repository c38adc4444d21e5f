/* fuzz_seal - the sealed-blob decoder: any bytes under a fixed key and
 * place must fail to open (-EBADMSG), except the one blob sealed here,
 * which must open to its value. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char key[SEAL_KEY_BYTES], uuid[SEAL_UUID_BYTES];
	static const struct seal_ctx ctx = {
		.store_uuid = uuid, .key_id = 1, .namespace = "default", .name = "db",
		.uid = "00000000-0000-4000-8000-000000000000", .generation = 3, .key = "password",
	};
	unsigned char blob[128];
	uint8_t *plain = NULL;
	size_t len = 0;

	if (sodium_init() < 0)
		abort();
	if (seal_open_value(&plain, &len, key, &ctx, data, size) == 0) {
		/* only a real seal opens: forging one would be a break */
		abort();
	}
	/* and a real seal of these bytes (if small) opens to them */
	if (size <= sizeof(blob) - seal_blob_len(0)) {
		if (seal_value(blob, key, &ctx, data, size) != 0 ||
		    seal_open_value(&plain, &len, key, &ctx, blob, seal_blob_len(size)) != 0 ||
		    len != size || (size && memcmp(plain, data, size) != 0))
			abort();
		sodium_free(plain);
	}
	return 0;
}
