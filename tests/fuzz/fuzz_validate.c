/* fuzz_validate - the Kubernetes name and key rules, and the label
 * selector parser, on any string; a valid name must also be a valid key's
 * shape where the rules say so. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[STORE_ERRMSG_MAX], *s = malloc(size + 1);
	struct selector *sel;

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	/* a namespace is also a valid secret name and a valid key */
	if (store_check_namespace(s, why) == 0 &&
	    (store_check_name(s, why) != 0 || store_check_key(s, why) != 0))
		abort();
	store_check_key(s, why);
	if (selector_parse(&sel, s, why, sizeof(why)) == 0)
		selector_free(sel);
	free(s);
	return 0;
}
