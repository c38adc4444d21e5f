/*
 * stamp - a test writer: update one secret COUNT times through libstore,
 * each value stamped with its generation so readers can prove they never
 * see a torn value or a mix of generations.
 *
 *   stamp CONFIG NAMESPACE NAME COUNT [BIGKEY]
 *
 * Keys a, b and c hold "gen=<i> key=<k> " followed by a pattern whose
 * length varies with i (so sizes change between generations); BIGKEY, if
 * given, is a fourth key of 8-12 KiB (several pages).  With [cluster] in
 * CONFIG each update goes through etcd, as secretctl sends it.  Prints
 * nothing; exits 1 with the store's message on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "store/cluster.h"
#include "store/store.h"

/* The value of key k at generation i: readers rebuild it to check. */
static size_t stamp_value(char *buf, size_t cap, long i, const char *k, bool big)
{
	size_t n = (size_t)snprintf(buf, cap, "gen=%ld key=%s ", i, k);
	size_t len = (big ? 8192 : 64) + (size_t)(i % 97) * (big ? 41 : 7);

	for (size_t j = 0; n < len && n < cap; j++)
		buf[n++] = (char)('a' + (i + (long)j) % 26);
	return n;
}

int main(int argc, char **argv)
{
	char err[STORE_ERRMSG_MAX], buf[16384];
	static const char *const keys[] = { "a", "b", "c" };
	struct conf cfg;
	struct store *st;
	struct store_writer *w = NULL;
	long count;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: stamp CONFIG NAMESPACE NAME COUNT [BIGKEY]\n");
		return 2;
	}
	count = atol(argv[4]);
	if (conf_load(&cfg, argv[1], NULL, err) ||
	    store_open(&st, cfg.store_path, cfg.key_file, 0, err)) {
		fprintf(stderr, "stamp: %s\n", err);
		return 1;
	}
	if (store_writer_open(&w, st, &cfg.cluster, err)) {
		fprintf(stderr, "stamp: %s\n", err);
		return 1;
	}
	for (long i = 1; i <= count; i++) {
		struct store_secret *s = store_secret_new(argv[2], argv[3], "");

		for (int k = 0; k < 3; k++) {
			size_t n = stamp_value(buf, sizeof(buf), i, keys[k], false);

			store_secret_add_item(s, keys[k], buf, n);
		}
		if (argc == 6) {
			size_t n = stamp_value(buf, sizeof(buf), i, argv[5], true);

			store_secret_add_item(s, argv[5], buf, n);
		}
		if (store_writer_put(w, s, STORE_PUT_APPLY, NULL)) {
			fprintf(stderr, "stamp: %s\n", store_writer_errmsg(w));
			return 1;
		}
		store_secret_free(s);
	}
	store_writer_free(w);
	store_close(st);
	conf_release(&cfg);
	return 0;
}
