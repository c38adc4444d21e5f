/*
 * populate - fill a store quickly for benchmarks: COUNT secrets of one
 * 1 KiB key each, spread over NAMESPACES namespaces (ns-0000 ...), written
 * in batches of 5,000 per transaction.
 *
 *   populate CONFIG COUNT NAMESPACES [PREFIX]
 *
 * Secret i lives in namespace PREFIX-(i % NAMESPACES) (PREFIX defaults to
 * "ns") and is named s-<i>.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "store/store.h"

int main(int argc, char **argv)
{
	char err[STORE_ERRMSG_MAX], ns[32], name[32], value[1024];
	struct conf cfg;
	struct store *st;
	long count, nns;

	const char *prefix = argc == 5 ? argv[4] : "ns";

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: populate CONFIG COUNT NAMESPACES [PREFIX]\n");
		return 2;
	}
	count = atol(argv[2]);
	nns = atol(argv[3]);
	if (count < 0 || nns < 1) {
		fprintf(stderr, "populate: bad COUNT or NAMESPACES\n");
		return 2;
	}
	if (conf_load(&cfg, argv[1], NULL, err) ||
	    store_open(&st, cfg.store_path, cfg.key_file, 0, err)) {
		fprintf(stderr, "populate: %s\n", err);
		return 1;
	}
	memset(value, 'x', sizeof(value));
	if (store_batch_begin(st))
		goto fail;
	for (long i = 0; i < nns && i < count; i++) {
		snprintf(ns, sizeof(ns), "%.16s-%04ld", prefix, i);
		if (store_ns_create(st, ns))
			goto fail;
	}
	for (long i = 0; i < count; i++) {
		struct store_secret *s;

		snprintf(ns, sizeof(ns), "%.16s-%04ld", prefix, i % nns);
		snprintf(name, sizeof(name), "s-%ld", i);
		s = store_secret_new(ns, name, "");
		snprintf(value, sizeof(value), "%ld", i); /* then 'x' padding */
		value[strlen(value)] = 'x';
		store_secret_add_item(s, "value", value, sizeof(value));
		if (store_secret_put(st, s, STORE_PUT_CREATE, NULL)) {
			store_secret_free(s);
			goto fail;
		}
		store_secret_free(s);
		if (i % 5000 == 4999 && (store_batch_commit(st) || store_batch_begin(st)))
			goto fail;
	}
	if (store_batch_commit(st))
		goto fail;
	store_close(st);
	conf_release(&cfg);
	return 0;
fail:
	fprintf(stderr, "populate: %s\n", store_errmsg(st));
	return 1;
}
