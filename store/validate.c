/*
 * validate.c - names and keys, checked exactly as the Kubernetes API server
 * checks them (k8s.io/apimachinery/pkg/util/validation):
 *
 *   namespace  DNS-1123 label      [a-z0-9]([-a-z0-9]*[a-z0-9])?        <= 63
 *   name       DNS-1123 subdomain  labels of that shape joined by '.'   <= 253
 *   key        config-map key      [-._a-zA-Z0-9]+, not '.', '..' or '..*' <= 253
 *
 * The reasons are Kubernetes' own wording, so that an operator who knows the
 * API server's errors recognises ours.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store.h"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* One DNS-1123 label of length n starting at s (not NUL-terminated). */
static bool dns_label_ok(const char *s, size_t n)
{
	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

static int fail(char *why, const char *msg)
{
	snprintf(why, STORE_ERRMSG_MAX, "%s", msg);
	return -EINVAL;
}

int store_check_namespace(const char *ns, char *why)
{
	size_t n = ns ? strlen(ns) : 0;

	if (n == 0)
		return fail(why, "must not be empty");
	if (n > STORE_MAX_NAMESPACE)
		return fail(why, "must be no more than 63 characters");
	if (!dns_label_ok(ns, n))
		return fail(why,
			    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
			    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
			    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
	return 0;
}

int store_check_name(const char *name, char *why)
{
	size_t n = name ? strlen(name) : 0;
	const char *p, *dot;

	if (n == 0)
		return fail(why, "must not be empty");
	if (n > STORE_MAX_NAME)
		return fail(why, "must be no more than 253 characters");
	for (p = name;; p = dot + 1) {
		dot = strchr(p, '.');
		if (!dns_label_ok(p, dot ? (size_t)(dot - p) : strlen(p)))
			return fail(why,
				    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
				    "and must start and end with an alphanumeric character (e.g. 'example.com', "
				    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
		if (!dot)
			break;
	}
	return 0;
}

int store_check_key(const char *key, char *why)
{
	size_t n = key ? strlen(key) : 0;

	if (n == 0)
		return fail(why, "must not be empty");
	if (n > STORE_MAX_KEY)
		return fail(why, "must be no more than 253 characters");
	for (size_t i = 0; i < n; i++)
		if (!is_key_char(key[i]))
			return fail(why,
				    "must consist of alphanumeric characters, '-', '_' or '.'");
	if (strcmp(key, ".") == 0)
		return fail(why, "must not be '.'");
	if (strcmp(key, "..") == 0)
		return fail(why, "must not be '..'");
	if (strncmp(key, "..", 2) == 0)
		return fail(why, "must not start with '..'");
	return 0;
}
