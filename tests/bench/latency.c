/*
 * latency - commit-to-visible latency: commit an update of NS/NAME (key
 * "v") through libstore, exactly as secretctl commits, then read FILE (the
 * same key through a secretfs mount) in a loop until it shows the new
 * value.  Repeats COUNT times; prints p50, p99 and max in microseconds as
 * JSON.
 *
 * With [cluster] in CONFIG the update goes to etcd as secretctl sends it
 * (cluster_secret_put), and FILE may be another node's mount: the time
 * then runs from the start of the write, etcd's commit included, since the
 * other node may see it before the writer has heard back.
 *
 *   latency CONFIG NS NAME FILE COUNT
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "store/cluster.h"
#include "store/store.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char err[STORE_ERRMSG_MAX], want[64], got[64];
	struct conf cfg;
	struct store *st;
	struct cluster *cl = NULL;
	double *lat;
	long count;

	if (argc != 6) {
		fprintf(stderr, "usage: latency CONFIG NS NAME FILE COUNT\n");
		return 2;
	}
	count = atol(argv[5]);
	if (count < 1 || conf_load(&cfg, argv[1], NULL, err) ||
	    store_open(&st, cfg.store_path, cfg.key_file, 0, err)) {
		fprintf(stderr, "latency: %s\n", count < 1 ? "bad COUNT" : err);
		return 1;
	}
	if (cfg.cluster.endpoints && cluster_open(&cl, &cfg.cluster, err)) {
		fprintf(stderr, "latency: %s\n", err);
		return 1;
	}
	lat = calloc((size_t)count, sizeof(*lat));
	for (long i = 0; i < count; i++) {
		struct store_secret *s = store_secret_new(argv[2], argv[3], "");
		double t0, deadline;
		int n = snprintf(want, sizeof(want), "value-%ld-%d", i, getpid());

		store_secret_add_item(s, "v", want, (size_t)n);
		t0 = now_us();
		if (cl ? cluster_secret_put(cl, st, s, STORE_PUT_APPLY, NULL) :
		    store_secret_put(st, s, STORE_PUT_APPLY, NULL)) {
			fprintf(stderr, "latency: %s\n", cl ? cluster_errmsg(cl) : store_errmsg(st));
			return 1;
		}
		store_secret_free(s);
		if (!cl)
			t0 = now_us();
		deadline = t0 + 10e6;
		for (;;) {
			int fd = open(argv[4], O_RDONLY);
			ssize_t r = fd >= 0 ? read(fd, got, sizeof(got)) : -1;

			if (fd >= 0)
				close(fd);
			if (r == n && memcmp(got, want, (size_t)n) == 0)
				break;
			if (now_us() > deadline) {
				fprintf(stderr, "latency: update %ld not visible after 10 s\n", i);
				return 1;
			}
		}
		lat[i] = now_us() - t0;
		usleep(2000); /* let the previous commit's wake-ups settle */
	}
	qsort(lat, (size_t)count, sizeof(*lat), cmp);
	printf("{\"count\": %ld, \"p50_us\": %.0f, \"p99_us\": %.0f, \"max_us\": %.0f}\n",
	       count, lat[count / 2], lat[(count * 99) / 100 < count ? (count * 99) / 100 : count - 1],
	       lat[count - 1]);
	cluster_close(cl);
	store_close(st);
	conf_release(&cfg);
	free(lat);
	return 0;
}
