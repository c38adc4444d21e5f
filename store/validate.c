/*
 * validate.c - names and keys, checked exactly as the Kubernetes API server
 * checks them (k8s.io/apimachinery/pkg/util/validation):
 *
 *   namespace  DNS-1123 label      [a-z0-9]([-a-z0-9]*[a-z0-9])?        <= 63
 *   name       DNS-1123 subdomain  labels of that shape joined by '.'   <= 253
 *   key        config-map key      [-._a-zA-Z0-9]+, not '.', '..' or '..*' <= 253
 *   label key  qualified name      [PREFIX/]NAME: PREFIX a DNS-1123 subdomain
 *              (also annotation    <= 253, NAME ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
 *              keys)               <= 63
 *   label value                    empty, or shaped as NAME above      <= 63
 *
 * The reasons are Kubernetes' own wording, so that an operator who knows the
 * API server's errors recognises ours.
 */
#include <assert.h>
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

/* Qualified names' NAME part (and label values): alphanumeric at both
 * ends, '-', '_' and '.' between. */
static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool qualified_ok(const char *s, size_t n)
{
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

#define QUALIFIED_MSG "must consist of alphanumeric characters, '-', '_' or '.', and must start " \
	"and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', " \
	"regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

int store_check_label_key(const char *key, char *why)
{
	const char *slash = strchr(key, '/'), *name = slash ? slash + 1 : key;
	size_t n = strlen(name);

	if (slash && strchr(name, '/'))
		return fail(why, "a qualified name " QUALIFIED_MSG
			    " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
	if (slash) {
		char prefix[STORE_MAX_NAME + 2], pwhy[STORE_ERRMSG_MAX];
		size_t plen = (size_t)(slash - key);

		if (plen == 0)
			return fail(why, "prefix part must be non-empty");
		if (plen > STORE_MAX_NAME)
			return fail(why, "prefix part must be no more than 253 characters");
		snprintf(prefix, sizeof(prefix), "%.*s", (int)plen, key);
		if (store_check_name(prefix, pwhy)) {
			snprintf(why, STORE_ERRMSG_MAX, "prefix part %s", pwhy);
			return -EINVAL;
		}
	}
	if (n == 0)
		return fail(why, "name part must be non-empty");
	if (n > STORE_MAX_LABEL)
		return fail(why, "name part must be no more than 63 characters");
	if (!qualified_ok(name, n))
		return fail(why, "name part " QUALIFIED_MSG);
	return 0;
}

int store_check_label_value(const char *value, char *why)
{
	size_t n = strlen(value);

	if (n > STORE_MAX_LABEL)
		return fail(why, "must be no more than 63 characters");
	if (n && !qualified_ok(value, n))
		return fail(why,
			    "a valid label must be an empty string or consist of alphanumeric characters, "
			    "'-', '_' or '.', and must start and end with an alphanumeric character "
			    "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
			    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
	return 0;
}

char *store_quote(char *out, size_t len, const char *s, size_t n)
{
	size_t o = 0, i;

	assert(len >= 16);
	out[o++] = '"';
	for (i = 0; i < n && i < 64 && o + 8 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, len - o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	snprintf(out + o, len - o, "%s\"", i < n ? "..." : "");
	return out;
}

void store_json_error(char *buf, size_t len, const char *text, int line, int column)
{
	const char *near = strstr(text, " near ");
	int n = near ? (int)(near - text) : (int)strlen(text);

	snprintf(buf, len, "%.*s at line %d, column %d", n, text, line, column);
}
