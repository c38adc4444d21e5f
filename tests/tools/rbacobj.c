/*
 * rbacobj - a test client of the store's RBAC objects (store/objects.c),
 * through the writer as the API server will write them: with [cluster] in
 * CONFIG writes go through etcd; reads are this node's store.
 *
 *   rbacobj CONFIG put FILE            the object (JSON) in FILE, created or updated
 *   rbacobj CONFIG get KIND NS NAME    its body as stored (NS "" for the cluster kinds)
 *   rbacobj CONFIG delete KIND NS NAME
 *   rbacobj CONFIG list                KIND NS/NAME, one a line
 *
 * Exits 1 with the store's message on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "store/cluster.h"
#include "store/store.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	char err[STORE_ERRMSG_MAX];
	struct conf cfg;
	struct store *st = NULL;
	struct store_writer *w = NULL;
	int ret = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: rbacobj CONFIG put FILE | get|delete KIND NS NAME | list\n");
		return 2;
	}
	if (conf_load(&cfg, argv[1], NULL, err) ||
	    store_open(&st, cfg.store_path, cfg.key_file, 0, err) ||
	    store_writer_open(&w, st, &cfg.cluster, err)) {
		fprintf(stderr, "rbacobj: %s\n", err);
		return 1;
	}
	if (!strcmp(argv[2], "put") && argc == 4) {
		static const char *const said[] = { "created", "configured", "unchanged" };
		enum store_put_result res;
		char *json = slurp(argv[3]);

		if (!json || store_writer_object_put(w, json, STORE_PUT_APPLY, &res))
			fprintf(stderr, "rbacobj: %s\n", json ? store_writer_errmsg(w) : "cannot read the file");
		else {
			printf("%s\n", said[res]);
			ret = 0;
		}
		free(json);
	} else if (!strcmp(argv[2], "get") && argc == 6) {
		struct store_object *o;

		if (store_object_get(st, argv[3], argv[4], argv[5], &o))
			fprintf(stderr, "rbacobj: %s\n", store_errmsg(st));
		else {
			printf("%s\n", o->body);
			store_object_free(o);
			ret = 0;
		}
	} else if (!strcmp(argv[2], "delete") && argc == 6) {
		if (store_writer_object_delete(w, argv[3], argv[4], argv[5]))
			fprintf(stderr, "rbacobj: %s\n", store_writer_errmsg(w));
		else
			ret = 0;
	} else if (!strcmp(argv[2], "list") && argc == 3) {
		struct store_object **v;
		size_t n;

		if (store_object_list(st, NULL, NULL, &v, &n))
			fprintf(stderr, "rbacobj: %s\n", store_errmsg(st));
		else {
			for (size_t i = 0; i < n; i++)
				printf("%s %s/%s\n", v[i]->kind, v[i]->namespace, v[i]->name);
			store_object_list_free(v, n);
			ret = 0;
		}
	} else {
		fprintf(stderr, "usage: rbacobj CONFIG put FILE | get|delete KIND NS NAME | list\n");
		ret = 2;
	}
	store_writer_free(w);
	store_close(st);
	conf_release(&cfg);
	return ret;
}
