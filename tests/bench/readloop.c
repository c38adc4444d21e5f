/*
 * readloop - time open + read + close of one file in a tight loop.
 *
 *   readloop [-r ROUNDS] [-n OPS] [-t THREADS] [-C DIR] PATH...
 *
 * With -C the loop runs in DIR, so a relative PATH costs only its own
 * components (e.g. the key alone, from its secret's folder).  With several
 * PATHs, reader i reads PATH number i modulo their count: readers of
 * distinct files (distinct secrets) rather than of one.
 *
 * Prints the median over ROUNDS of the nanoseconds one open+read+close
 * takes (with THREADS readers at once, each doing OPS per round; THREADS *
 * 1e9 / that is the operations per second of all readers together), and
 * checks every read returned as many bytes as its file's first read, so a
 * broken mount cannot pass for a fast one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define READERS_MAX 64

static char **paths;
static int npaths;
static long ops = 20000;
static ssize_t expect[READERS_MAX]; /* bytes in paths[i] */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *reader(void *arg)
{
	int which = (int)(long)arg % npaths;
	const char *path = paths[which];
	char buf[65536];

	for (long i = 0; i < ops; i++) {
		int fd = open(path, O_RDONLY);
		ssize_t n;

		if (fd < 0) {
			fprintf(stderr, "readloop: open %s: %s\n", path, strerror(errno));
			exit(1);
		}
		n = read(fd, buf, sizeof(buf));
		if (n != expect[which]) {
			fprintf(stderr, "readloop: read %zd bytes of %s, expected %zd\n", n, path,
				expect[which]);
			exit(1);
		}
		close(fd);
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int rounds = 7, threads = 1, opt;
	double *t;
	char buf[65536];

	while ((opt = getopt(argc, argv, "r:n:t:C:")) != -1) {
		switch (opt) {
		case 'C':
			if (chdir(optarg) < 0) {
				fprintf(stderr, "readloop: cd %s: %s\n", optarg, strerror(errno));
				return 1;
			}
			break;
		case 'r': rounds = atoi(optarg); break;
		case 'n': ops = atol(optarg); break;
		case 't': threads = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: readloop [-r ROUNDS] [-n OPS] [-t THREADS] [-C DIR] PATH...\n");
			return 2;
		}
	}
	npaths = argc - optind;
	if (npaths < 1 || npaths > READERS_MAX || rounds < 1 || ops < 1 || threads < 1 ||
	    threads > READERS_MAX) {
		fprintf(stderr, "usage: readloop [-r ROUNDS] [-n OPS] [-t THREADS] [-C DIR] PATH...\n");
		return 2;
	}
	paths = argv + optind;
	for (int i = 0; i < npaths; i++) {
		int fd = open(paths[i], O_RDONLY);

		if (fd < 0) {
			fprintf(stderr, "readloop: open %s: %s\n", paths[i], strerror(errno));
			return 1;
		}
		expect[i] = read(fd, buf, sizeof(buf));
		close(fd);
	}
	t = calloc((size_t)rounds, sizeof(*t));
	for (int r = 0; r < rounds; r++) {
		pthread_t th[READERS_MAX];
		double start = now_ns();

		for (int i = 0; i < threads; i++)
			pthread_create(&th[i], NULL, reader, (void *)(long)i);
		for (int i = 0; i < threads; i++)
			pthread_join(th[i], NULL);
		/* per operation, as one reader sees it */
		t[r] = (now_ns() - start) / (double)ops;
	}
	qsort(t, (size_t)rounds, sizeof(*t), cmp);
	printf("%.0f\n", t[rounds / 2]);
	free(t);
	return 0;
}
