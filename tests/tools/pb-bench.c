/* pb-bench - the time api_pb_decode() takes, per body:
 *
 *   pb-bench FILE ITERATIONS       a body from a file (e.g. a fixture)
 *   pb-bench --keys N ITERATIONS   a Secret of N keys of 256 bytes each
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/pb.h"

static size_t put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

/* field f, length-delimited, of len bytes at src (src may be NULL: reserve) */
static size_t put_ld(unsigned char *p, unsigned f, const void *src, size_t len)
{
	size_t n = put_varint(p, (uint64_t)f << 3 | 2);

	n += put_varint(p + n, len);
	if (src)
		memmove(p + n, src, len);
	return n + len;
}

static unsigned char *secret_of(size_t keys, size_t *len)
{
	size_t cap = 64 + keys * 300;
	unsigned char *sec = malloc(cap), *env = malloc(cap + 64), *out = malloc(cap + 128);
	unsigned char ent[300], val[256], key[16], tm[32];
	size_t n = 0, m;

	if (!sec || !env || !out)
		exit(1);
	n += put_ld(sec + n, 1, "\x0a\x03" "big", 5);
	for (size_t i = 0; i < keys; i++) {
		size_t e = 0;

		memset(val, (int)(i & 0xff), sizeof(val));
		snprintf((char *)key, sizeof(key), "key%05zu", i);
		e += put_ld(ent + e, 1, key, strlen((char *)key));
		e += put_ld(ent + e, 2, val, sizeof(val));
		n += put_ld(sec + n, 2, ent, e);
	}
	m = put_ld(tm, 1, "v1", 2);
	m += put_ld(tm + m, 2, "Secret", 6);
	*len = put_ld(env, 1, tm, m);
	*len += put_ld(env + *len, 2, sec, n);
	memcpy(out, "k8s", 4);
	memcpy(out + 4, env, *len);
	*len += 4;
	free(sec);
	free(env);
	return out;
}

int main(int argc, char **argv)
{
	unsigned char *body;
	size_t len = 0;
	long iters;
	char err[256];
	struct timespec a, b;

	if (argc == 4 && strcmp(argv[1], "--keys") == 0) {
		body = secret_of(strtoul(argv[2], NULL, 10), &len);
	} else if (argc == 3) {
		FILE *f = fopen(argv[1], "rb");

		body = malloc(API_PB_MAX_BODY + 1);
		if (!f || !body) {
			fprintf(stderr, "pb-bench: cannot read '%s'\n", argv[1]);
			return 1;
		}
		len = fread(body, 1, API_PB_MAX_BODY + 1, f);
		fclose(f);
	} else {
		fprintf(stderr, "usage: pb-bench FILE ITERATIONS | pb-bench --keys N ITERATIONS\n");
		return 2;
	}
	iters = strtol(argv[argc - 1], NULL, 10);
	if (iters < 1)
		iters = 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < iters; i++) {
		json_t *j = api_pb_decode(body, len, err, sizeof(err));

		if (!j) {
			fprintf(stderr, "pb-bench: %s\n", err);
			return 1;
		}
		json_decref(j);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%zu bytes: %.1f us per decode (%ld decodes)\n", len,
	       ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)iters / 1e3,
	       iters);
	free(body);
	return 0;
}
