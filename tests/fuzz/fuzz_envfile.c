/* fuzz_envfile - kubectl's env-file rules on any text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tools/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[STORE_ERRMSG_MAX];
	uint8_t *buf = malloc(size + 1);
	struct store_secret *s = store_secret_new("default", "fuzz", "");

	if (!buf || !s || sodium_init() < 0)
		abort();
	memcpy(buf, data, size);
	input_env_text(s, "fuzz.env", buf, size, err, sizeof(err));
	store_secret_free(s);
	free(buf);
	return 0;
}
