/*
 * kpatch - kube/patch.c from the command line, for the end-to-end tests
 * that hold it against kubectl patch --local (the same patch on the same
 * file must give the same object):
 *
 *   kpatch strategic|merge|json FILE.json PATCH
 *
 * prints the patched object as compact JSON with sorted keys, or the error
 * on stderr and exits 1.
 */
#include <stdio.h>
#include <string.h>

#include "kube/kube.h"

int main(int argc, char **argv)
{
	enum kube_patch_type type;
	json_t *doc, *patch = NULL;
	char err[512];

	if (argc != 4 || kube_patch_type_parse(argv[1], &type)) {
		fprintf(stderr, "usage: kpatch strategic|merge|json FILE.json PATCH\n");
		return 2;
	}
	doc = json_load_file(argv[2], 0, NULL);
	if (!doc) {
		fprintf(stderr, "kpatch: cannot read %s\n", argv[2]);
		return 2;
	}
	if (kube_patch_parse(&patch, argv[3], strlen(argv[3]), type, err, sizeof(err)) ||
	    kube_patch(&doc, patch, type, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		json_decref(patch);
		json_decref(doc);
		return 1;
	}
	json_dumpf(doc, stdout, JSON_COMPACT | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(patch);
	json_decref(doc);
	return 0;
}
