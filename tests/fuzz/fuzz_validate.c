/* fuzz_validate - the Kubernetes name, key and label rules, and the label
 * selector parser, on any string; what one rule accepts must pass another
 * where the rules say so. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

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
	/* a label value is also a label key (no prefix), and a valid label
	 * key is no longer than prefix, '/' and name */
	if (store_check_label_value(s, why) == 0 && *s && store_check_label_key(s, why) != 0)
		abort();
	if (store_check_label_key(s, why) == 0 &&
	    strlen(s) > STORE_MAX_NAME + 1 + STORE_MAX_LABEL)
		abort();
	if (selector_parse(&sel, s, why, sizeof(why)) == 0)
		selector_free(sel);
	free(s);
	return 0;
}
