/*
 * test_validate.c - names, keys, label keys and values against the Kubernetes
 * rules, with the boundary lengths on both sides.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"

struct row {
	const char *in;
	bool ok;
};

static char *rep(char c, size_t n)
{
	static char bufs[8][600];
	static int next;
	char *b = bufs[next++ % 8];

	memset(b, c, n);
	b[n] = '\0';
	return b;
}

/* Four labels, the last of length last (61: 253 in all), then suffix. */
static void subdomain(char *buf, size_t len, size_t last, const char *suffix)
{
	snprintf(buf, len, "%s.%s.%s.%s%s", rep('a', 63), rep('b', 63), rep('c', 63),
		 rep('d', last), suffix);
}

static void check_table(int (*fn)(const char *, char *), const struct row *rows,
			size_t n)
{
	char why[STORE_ERRMSG_MAX];

	for (size_t i = 0; i < n; i++) {
		int r = fn(rows[i].in, why);

		if ((r == 0) != rows[i].ok)
			fail_msg("'%s' (length %zu): expected %s, got %s", rows[i].in,
				 strlen(rows[i].in), rows[i].ok ? "valid" : "invalid",
				 r == 0 ? "valid" : why);
		if (r)
			assert_int_equal(r, -EINVAL);
	}
}

static void test_namespace(void **state)
{
	const struct row rows[] = {
		{ "a", true }, { "0", true }, { "a-b", true }, { "a--b", true },
		{ "prod-1", true }, { rep('a', 63), true }, { rep('a', 64), false },
		{ "", false }, { "-a", false }, { "a-", false }, { "A", false },
		{ "a.b", false }, { "a_b", false }, { "a b", false },
		{ "a/b", false }, { "é", false }, { "a\nb", false },
	};

	(void)state;
	check_table(store_check_namespace, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_name(void **state)
{
	char max[254], over[255];
	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	subdomain(max, sizeof(max), 61, "");
	subdomain(over, sizeof(over), 62, "");
	const struct row rows[] = {
		{ "db", true }, { "a.b", true }, { "tls-cert.example.com", true },
		{ max, true }, { over, false }, { rep('a', 63), true },
		{ rep('a', 64), true }, /* Kubernetes checks no label length here */
		{ rep('a', 253), true },
		{ "", false }, { ".a", false }, { "a.", false }, { "a..b", false },
		{ "A", false }, { "a_b", false }, { "-a", false }, { "a-.b", false },
		{ "a/b", false },
	};

	(void)state;
	assert_int_equal(strlen(max), 253);
	check_table(store_check_name, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_key(void **state)
{
	const struct row rows[] = {
		{ "password", true }, { ".dotfile", true }, { "tls.crt", true },
		{ "KEY_name-1.x", true }, { "a..b", true }, { "_", true }, { "-", true },
		{ rep('k', 253), true }, { rep('k', 254), false }, { "", false },
		{ ".", false }, { "..", false }, { "..a", false }, { "...", false },
		{ "a/b", false }, { "a b", false }, { "a:b", false }, { "é", false },
		{ "a\nb", false },
	};

	(void)state;
	check_table(store_check_key, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_label_key(void **state)
{
	char max_prefix[320], over_prefix[320];

	subdomain(max_prefix, sizeof(max_prefix), 61, "/x");
	subdomain(over_prefix, sizeof(over_prefix), 62, "/x");
	const struct row rows[] = {
		{ "app", true }, { "App.Name_1-x", true }, { "a", true }, { "0", true },
		{ "example.com/app", true }, { "app.kubernetes.io/name", true },
		{ rep('n', 63), true }, { rep('n', 64), false }, { max_prefix, true },
		{ over_prefix, false },
		{ "", false }, { "/", false }, { "/app", false }, { "app/", false },
		{ "a/b/c", false }, { "Example.com/app", false }, { "-app", false },
		{ "app_", false }, { "a b", false }, { "a:b", false }, { "é", false },
		{ "a\nb", false }, { "exa_mple.com/app", false },
	};

	(void)state;
	assert_int_equal(strlen(max_prefix), 255);
	check_table(store_check_label_key, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_label_value(void **state)
{
	const struct row rows[] = {
		{ "", true }, { "web", true }, { "V1.2_3-rc", true }, { "0", true },
		{ rep('v', 63), true }, { rep('v', 64), false },
		{ "-web", false }, { "web.", false }, { "a b", false }, { "a/b", false },
		{ "é", false }, { "a\tb", false },
	};

	(void)state;
	check_table(store_check_label_value, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_messages(void **state)
{
	char why[STORE_ERRMSG_MAX];

	(void)state;
	assert_int_equal(store_check_key("a/b", why), -EINVAL);
	assert_string_equal(why, "must consist of alphanumeric characters, '-', '_' or '.'");
	store_check_key("..x", why);
	assert_string_equal(why, "must not start with '..'");
	store_check_namespace(rep('a', 64), why);
	assert_string_equal(why, "must be no more than 63 characters");
	store_check_name(rep('a', 254), why);
	assert_string_equal(why, "must be no more than 253 characters");
	store_check_name("Db", why);
	assert_non_null(strstr(why, "RFC 1123 subdomain"));
	/* the API server's wording, part by part */
	store_check_label_key("/x", why);
	assert_string_equal(why, "prefix part must be non-empty");
	store_check_label_key("x/", why);
	assert_string_equal(why, "name part must be non-empty");
	store_check_label_key(rep('n', 64), why);
	assert_string_equal(why, "name part must be no more than 63 characters");
	store_check_label_key("bad key", why);
	assert_string_equal(why, "name part must consist of alphanumeric characters, '-', '_' or '.', "
			    "and must start and end with an alphanumeric character (e.g. 'MyName',  "
			    "or 'my.name',  or '123-abc', regex used for validation is "
			    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
	store_check_label_key("A.b/x", why);
	assert_non_null(strstr(why, "prefix part a lowercase RFC 1123 subdomain"));
	store_check_label_value("bad value", why);
	assert_string_equal(why, "a valid label must be an empty string or consist of alphanumeric "
			    "characters, '-', '_' or '.', and must start and end with an alphanumeric "
			    "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
			    "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_namespace),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_label_key),
		cmocka_unit_test(test_label_value),
		cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
