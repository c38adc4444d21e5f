/*
 * test_seal.c - the sealing layer on its own: what the associated data
 * binds.  A value sealed for one place opens there and nowhere else: not in
 * another store (a row transplanted between stores that share a master
 * key), not under another key id, secret, uid, generation or key name.
 * And the pool of buffers values are opened into (secbuf.c): a value ends at
 * a guard page, a buffer comes back wiped, a damaged header stops the
 * process, and thousands of values stay within a bound on mappings.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "store/internal.h"

static unsigned char key[SEAL_KEY_BYTES], uuid_a[SEAL_UUID_BYTES], uuid_b[SEAL_UUID_BYTES];

static struct seal_ctx place(void)
{
	return (struct seal_ctx){
		.store_uuid = uuid_a, .key_id = 1, .namespace = "prod", .name = "db",
		.uid = "11111111-2222-4333-8444-555555555555", .generation = 7, .key = "password",
	};
}

static void expect_bad(const struct seal_ctx *c, const unsigned char *blob, size_t len)
{
	uint8_t *plain = (uint8_t *)"untouched";
	size_t n = 99;

	assert_int_equal(seal_open_value(&plain, &n, key, c, blob, len), -EBADMSG);
	assert_string_equal((char *)plain, "untouched");
	assert_int_equal(n, 99);
}

static void test_binding(void **state)
{
	static const char value[] = "s3cr3t-value";
	unsigned char blob[128];
	size_t len = seal_blob_len(sizeof(value) - 1);
	struct seal_ctx c = place(), other;
	uint8_t *plain;
	size_t n;

	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	randombytes_buf(key, sizeof(key));
	randombytes_buf(uuid_a, sizeof(uuid_a));
	randombytes_buf(uuid_b, sizeof(uuid_b));
	assert_int_equal(seal_value(blob, key, &c, (const uint8_t *)value, sizeof(value) - 1), 0);
	assert_int_equal(seal_open_value(&plain, &n, key, &c, blob, len), 0);
	assert_int_equal(n, sizeof(value) - 1);
	assert_memory_equal(plain, value, n);
	sodium_free(plain);

	other = c; other.store_uuid = uuid_b;      /* another store, same master */
	expect_bad(&other, blob, len);
	other = c; other.key_id = 2;
	expect_bad(&other, blob, len);
	other = c; other.namespace = "prod2";
	expect_bad(&other, blob, len);
	other = c; other.name = "db2";
	expect_bad(&other, blob, len);
	other = c; other.uid = "11111111-2222-4333-8444-555555555556"; /* re-created */
	expect_bad(&other, blob, len);
	other = c; other.generation = 6;            /* rolled back */
	expect_bad(&other, blob, len);
	other = c; other.key = "username";
	expect_bad(&other, blob, len);
	/* length-prefixed fields: ("prod", "db") is not ("prodd", "b") */
	other = c; other.namespace = "prodd"; other.name = "b";
	expect_bad(&other, blob, len);
	/* and a data key wrapped for one store does not unwrap for another */
	{
		unsigned char *wrapped, dk[SEAL_KEY_BYTES];
		size_t wl;
		int format = 0;

		assert_int_equal(seal_wrap_key(&wrapped, &wl, key, uuid_a, 1, key), 0);
		assert_int_equal(seal_unwrap_key(dk, &format, key, uuid_a, 1, wrapped, wl), 0);
		assert_memory_equal(dk, key, sizeof(dk));
		assert_int_equal(seal_unwrap_key(dk, &format, key, uuid_b, 1, wrapped, wl), -EBADMSG);
		assert_int_equal(seal_unwrap_key(dk, &format, key, uuid_a, 2, wrapped, wl), -EBADMSG);
		/* a key wrapped in the tagged format cannot pass as an older
		 * one (which would have the store tag its secrets afresh) */
		assert_int_equal(format, SEAL_RING_FORMAT);
		wrapped[0] = 1;
		assert_int_equal(seal_unwrap_key(dk, &format, key, uuid_a, 1, wrapped, wl), -EBADMSG);
		free(wrapped);
	}
}

/* Run fn in a child; the signal that ended it, or 0 if it exited. */
static int dies_of(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL); /* not cmocka's, which would carry on */
		signal(SIGABRT, SIG_DFL);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void overrun(void)
{
	volatile uint8_t *p = secbuf_alloc(10);

	p[9] = 1;  /* the last byte is ours */
	p[10] = 1; /* the next is the guard page's */
}

static void damage_header(void)
{
	uint8_t *p = secbuf_alloc(10);

	memset(p - 32, 0x55, 32);
	secbuf_free(p);
}

static void test_secbuf(void **state)
{
	static const size_t sizes[] = { 0, 1, 100, 4000, 4096, 5000, 65000, 70000, 300000 };
	uint8_t *p, *q;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		p = secbuf_alloc(sizes[i]);
		assert_non_null(p);
		memset(p, 0xaa, sizes[i]); /* all of it is writable */
		secbuf_free(p);
	}
	/* a buffer comes back for the next value of its size, wiped */
	p = secbuf_alloc(100);
	memset(p, 0xaa, 100);
	secbuf_free(p);
	q = secbuf_alloc(200);
	assert_ptr_equal(q, p - 100); /* the same region, the value moved down */
	for (size_t i = 0; i < 200; i++)
		assert_int_equal(q[i], 0);
	secbuf_free(q);
	secbuf_free(NULL);
	assert_int_equal(dies_of(overrun), SIGSEGV);
	assert_int_equal(dies_of(damage_header), SIGABRT);
}

static size_t map_count(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	size_t n = 0;
	int c;

	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Past 1,024 guarded regions, values are packed into slabs: 5,000 values
 * held at once take a bounded number of mappings, and every byte of each
 * stays its own. */
static void test_secbuf_bounded(void **state)
{
	enum { N = 5000 };
	static uint8_t *v[N];
	size_t before = map_count(), during;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		size_t len = i % 500 == 0 ? 100000 : (i * 37) % 9000 + 1;

		v[i] = secbuf_alloc(len);
		assert_non_null(v[i]);
		memset(v[i], (int)(i & 0xff), len);
	}
	during = map_count();
	/* about 4 per guarded region, one per 64 KiB slab or big value */
	assert_true(during - before < 4 * 1024 + 600);
	for (size_t pass = 0; pass < 2; pass++) /* odd ones, then even ones */
		for (size_t i = pass ? 0 : 1; i < N; i += 2) {
			size_t len = i % 500 == 0 ? 100000 : (i * 37) % 9000 + 1;

			for (size_t j = 0; j < len; j += 997)
				assert_int_equal(v[i][j], i & 0xff);
			assert_int_equal(v[i][len - 1], i & 0xff);
			secbuf_free(v[i]);
		}
	/* slabs are unmapped once empty; guarded regions return to the pool */
	assert_true(map_count() <= before + 4 * 5 * 64 + 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binding),
		cmocka_unit_test(test_secbuf),
		cmocka_unit_test(test_secbuf_bounded),
	};

	return cmocka_run_group_tests_name("seal", tests, NULL, NULL);
}
