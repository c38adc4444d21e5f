/*
 * types.c - the built-in Secret types, validated as the Kubernetes API
 * server validates them (pkg/apis/core/validation ValidateSecret), with its
 * error wording:
 *
 *   Opaque, ""                             anything
 *   kubernetes.io/service-account-token    annotation
 *                                          kubernetes.io/service-account.name
 *   kubernetes.io/dockercfg                data[.dockercfg], a JSON object
 *   kubernetes.io/dockerconfigjson         data[.dockerconfigjson], a JSON object
 *   kubernetes.io/basic-auth               data[username] or data[password]
 *   kubernetes.io/ssh-auth                 a non-empty data[ssh-privatekey]
 *   kubernetes.io/tls                      data[tls.crt] and data[tls.key]
 *   bootstrap.kubernetes.io/token          the bootstrap-token conventions
 *
 * Any other non-empty type is accepted as it is.  Messages quote no value.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "internal.h"

struct errs {
	char *buf;
	size_t len, used;
	int n;
};

static void add(struct errs *e, const char *fmt, const char *a)
{
	int w;

	if (e->used < e->len) {
		w = snprintf(e->buf + e->used, e->len - e->used, "%s", e->n ? ", " : "");
		e->used += w > 0 ? (size_t)w : 0;
	}
	if (e->used < e->len) {
		w = snprintf(e->buf + e->used, e->len - e->used, fmt, a);
		e->used += w > 0 ? (size_t)w : 0;
	}
	e->n++;
}

static const struct store_item *item(const struct store_secret *s, const char *key)
{
	for (size_t i = 0; i < s->nitems; i++)
		if (strcmp(s->items[i].key, key) == 0)
			return &s->items[i];
	return NULL;
}

static const char *annotation(const struct store_secret *s, const char *key)
{
	for (size_t i = 0; i < s->nannotations; i++)
		if (strcmp(s->annotations[i].key, key) == 0)
			return s->annotations[i].value;
	return NULL;
}

/* data[key] must hold a JSON object. */
static void json_object_required(struct errs *e, const struct store_secret *s,
				 const char *key)
{
	const struct store_item *it = item(s, key);
	json_error_t jerr;
	json_t *v;

	if (!it) {
		add(e, "data[%s]: Required value", key);
		return;
	}
	v = json_loadb((const char *)it->value, it->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v || !json_is_object(v)) {
		char msg[256];

		snprintf(msg, sizeof(msg), "data[%s]: Invalid value: \"<secret contents redacted>\": %s",
			 key, v ? "not a JSON object" : "not valid JSON");
		add(e, "%s", msg);
	}
	json_decref(v);
}

static bool all_of(const uint8_t *p, size_t n, size_t want, const char *set)
{
	if (n != want)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr(set, p[i]) || !p[i])
			return false;
	return true;
}

/* "2026-01-02T15:04:05Z" or with a numeric offset; *t in unix seconds. */
int types_parse_rfc3339(const char *v, size_t n, int64_t *t)
{
	char buf[64], *rest;
	struct tm tm = { 0 };
	long off = 0;

	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v, n);
	buf[n] = '\0';
	rest = strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return -EINVAL;
	if (*rest == '.') /* fractional seconds */
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			;
	if (*rest == 'Z' && rest[1] == '\0') {
		off = 0;
	} else if ((*rest == '+' || *rest == '-') && strlen(rest) == 6 && rest[3] == ':') {
		int hh, mm;

		if (sscanf(rest + 1, "%2d:%2d", &hh, &mm) != 2)
			return -EINVAL;
		off = (hh * 60 + mm) * 60L * (*rest == '-' ? -1 : 1);
	} else {
		return -EINVAL;
	}
	*t = (int64_t)timegm(&tm) - off;
	return 0;
}

static void bootstrap_token(struct errs *e, const struct store_secret *s)
{
	static const char lower_digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	const struct store_item *id = item(s, "token-id"), *sec = item(s, "token-secret");
	const struct store_item *exp = item(s, "expiration");
	int64_t t;

	if (!id)
		add(e, "data[%s]: Required value", "token-id");
	else if (!all_of(id->value, id->len, 6, lower_digits))
		add(e, "data[%s]: Invalid value: must be 6 characters of [a-z0-9]", "token-id");
	else if (strncmp(s->name, "bootstrap-token-", 16) != 0 ||
		 strlen(s->name) != 22 || memcmp(s->name + 16, id->value, 6) != 0)
		add(e, "metadata.name: Invalid value: \"%s\": must be bootstrap-token-<token-id>",
		    s->name);
	if (!sec)
		add(e, "data[%s]: Required value", "token-secret");
	else if (!all_of(sec->value, sec->len, 16, lower_digits))
		add(e, "data[%s]: Invalid value: must be 16 characters of [a-z0-9]", "token-secret");
	if (exp && types_parse_rfc3339((const char *)exp->value, exp->len, &t))
		add(e, "data[%s]: Invalid value: must be an RFC 3339 time", "expiration");
}

int types_validate(const struct store_secret *s, char *buf, size_t len)
{
	struct errs e = { buf, len, 0, 0 };
	const char *type = s->type;

	buf[0] = '\0';
	if (!strcmp(type, "kubernetes.io/service-account-token")) {
		const char *sa = annotation(s, "kubernetes.io/service-account.name");

		if (!sa || !*sa)
			add(&e, "metadata.annotations[%s]: Required value",
			    "kubernetes.io/service-account.name");
	} else if (!strcmp(type, "kubernetes.io/dockercfg")) {
		json_object_required(&e, s, ".dockercfg");
	} else if (!strcmp(type, "kubernetes.io/dockerconfigjson")) {
		json_object_required(&e, s, ".dockerconfigjson");
	} else if (!strcmp(type, "kubernetes.io/basic-auth")) {
		if (!item(s, "username") && !item(s, "password")) {
			add(&e, "data[%s]: Required value", "username");
			add(&e, "data[%s]: Required value", "password");
		}
	} else if (!strcmp(type, "kubernetes.io/ssh-auth")) {
		const struct store_item *k = item(s, "ssh-privatekey");

		if (!k || k->len == 0)
			add(&e, "data[%s]: Required value", "ssh-privatekey");
	} else if (!strcmp(type, "kubernetes.io/tls")) {
		if (!item(s, "tls.crt"))
			add(&e, "data[%s]: Required value", "tls.crt");
		if (!item(s, "tls.key"))
			add(&e, "data[%s]: Required value", "tls.key");
	} else if (!strcmp(type, "bootstrap.kubernetes.io/token")) {
		bootstrap_token(&e, s);
	}
	return e.n;
}
