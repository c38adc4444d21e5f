/*
 * loadread - many concurrent readers: open + read + close in a loop.
 *
 *   loadread [-p PROCS] [-t THREADS] [-s SECONDS] [-u USEC] PATH...
 *
 * Starts PROCS processes (default 1) of THREADS threads each (default 10);
 * every thread opens, reads whole and closes the PATHs in turn (starting at
 * a different one per thread) for SECONDS (default 5), sleeping USEC
 * microseconds (default 0) between files.  A value written by
 * tests/tools/stamp ("gen=<i> key=<k> " then a pattern) is checked byte by
 * byte against its generation.  Prints "opens N errors N bad N" (the sum of
 * every process) and, for errors, the first few errno names; exits 1 if any
 * open or read failed or any value was wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct totals {
	atomic_long opens, errors, bad;
	atomic_int errnos[8];
};

#define BUF_BYTES 65536

static struct totals *tot; /* shared between the processes */
static char **paths;
static int npaths, seconds = 5, usec;
static double stop_at;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void record_errno(int e)
{
	for (int i = 0; i < 8; i++) {
		int z = 0;

		if (atomic_load(&tot->errnos[i]) == e ||
		    atomic_compare_exchange_strong(&tot->errnos[i], &z, e))
			return;
	}
}

/* A stamped value of generation i is its prefix, then 'a' + (i + j) % 26
 * up to 64 + (i % 97) * 7 bytes (tests/tools/stamp.c, small keys). */
static int stamped_ok(const char *buf, ssize_t n)
{
	long i;
	int pre = 0;
	char key[64];

	if (n < 4 || memcmp(buf, "gen=", 4) != 0)
		return 1; /* not a stamped value: nothing to check */
	if (sscanf(buf, "gen=%ld key=%63s %n", &i, key, &pre) != 2 || pre == 0)
		return 0;
	if (strlen(key) != 1) /* the big key has its own lengths */
		return 1;
	if (n != (ssize_t)(pre > 64 + (i % 97) * 7 ? pre : 64 + (i % 97) * 7))
		return 0;
	for (ssize_t j = pre; j < n; j++)
		if (buf[j] != (char)('a' + (i + (long)(j - pre)) % 26))
			return 0;
	return 1;
}

static void *reader(void *arg)
{
	char *buf = malloc(BUF_BYTES), scratch[4096];
	long k = (long)(intptr_t)arg;

	if (!buf)
		return NULL;
	while (now() < stop_at) {
		const char *p = paths[k++ % npaths];
		int fd = open(p, O_RDONLY);
		ssize_t n = 0, r;

		if (fd < 0) {
			atomic_fetch_add(&tot->errors, 1);
			record_errno(errno);
			continue;
		}
		/* a value past the buffer is read to its end, unchecked */
		while ((r = n < BUF_BYTES ? read(fd, buf + n, BUF_BYTES - (size_t)n) :
			    read(fd, scratch, sizeof(scratch))) > 0)
			n += r;
		if (r < 0) {
			atomic_fetch_add(&tot->errors, 1);
			record_errno(errno);
		} else if (!stamped_ok(buf, n)) {
			/* test values, not secrets: say what was wrong */
			if (atomic_fetch_add(&tot->bad, 1) < 3)
				fprintf(stderr, "loadread: %s: %zd bytes: %.*s\n", p, n,
					(int)(n < 40 ? n : 40), buf);
		}
		close(fd);
		atomic_fetch_add(&tot->opens, 1);
		if (usec)
			usleep((useconds_t)usec);
	}
	free(buf);
	return NULL;
}

static int run_threads(int nthreads, int base)
{
	pthread_t *t = calloc((size_t)nthreads, sizeof(*t));
	pthread_attr_t attr;
	int started = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (int i = 0; t && i < nthreads; i++) {
		if (pthread_create(&t[i], &attr, reader, (void *)(intptr_t)(base + i)) != 0) {
			fprintf(stderr, "loadread: cannot start thread %d\n", i);
			break;
		}
		started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	free(t);
	return started == nthreads ? 0 : 1;
}

int main(int argc, char **argv)
{
	int procs = 1, threads = 10, opt, rc = 0;

	while ((opt = getopt(argc, argv, "p:t:s:u:")) != -1) {
		switch (opt) {
		case 'p': procs = atoi(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 's': seconds = atoi(optarg); break;
		case 'u': usec = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: loadread [-p PROCS] [-t THREADS] [-s SECONDS] [-u USEC] PATH...\n");
			return 2;
		}
	}
	if (optind >= argc || procs < 1 || threads < 1) {
		fprintf(stderr, "usage: loadread [-p PROCS] [-t THREADS] [-s SECONDS] [-u USEC] PATH...\n");
		return 2;
	}
	paths = argv + optind;
	npaths = argc - optind;
	tot = mmap(NULL, sizeof(*tot), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tot == MAP_FAILED) {
		perror("loadread: mmap");
		return 1;
	}
	stop_at = now() + seconds;
	for (int p = 0; p < procs; p++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("loadread: fork");
			rc = 1;
			break;
		}
		if (pid == 0)
			_exit(run_threads(threads, p * threads));
	}
	for (;;) {
		int st;
		pid_t pid = wait(&st);

		if (pid < 0)
			break;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rc = 1;
	}
	printf("opens %ld errors %ld bad %ld\n", atomic_load(&tot->opens),
	       atomic_load(&tot->errors), atomic_load(&tot->bad));
	for (int i = 0; i < 8 && atomic_load(&tot->errnos[i]); i++)
		printf("error: %s\n", strerror(atomic_load(&tot->errnos[i])));
	if (atomic_load(&tot->errors) || atomic_load(&tot->bad) || !atomic_load(&tot->opens))
		rc = 1;
	return rc;
}
