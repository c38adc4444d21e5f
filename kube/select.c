/*
 * select.c - kubectl's label selectors (-l) and field selectors
 * (--field-selector), for secretctl and the API server alike.
 *
 * Label selectors: requirements joined by commas, all of which must hold:
 *   key=value  key==value  key!=value  key  !key  key in (a,b)  key notin (a,b)
 *
 * Field selectors: field=value, field==value, field!=value joined by
 * commas, over the fields the API server indexes for secrets
 * (metadata.name, metadata.namespace, type); any other field is refused
 * with the API server's "field label not supported".
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

enum req_op { R_EQ, R_NE, R_EXISTS, R_NOT_EXISTS, R_IN, R_NOTIN };

struct req {
	enum req_op op;
	char *key;
	char **values;
	size_t nvalues;
};

struct selector {
	struct req *reqs;
	size_t n;
};

static char *trimdup(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

void selector_free(struct selector *sel)
{
	if (!sel)
		return;
	for (size_t i = 0; i < sel->n; i++) {
		free(sel->reqs[i].key);
		for (size_t j = 0; j < sel->reqs[i].nvalues; j++)
			free(sel->reqs[i].values[j]);
		free(sel->reqs[i].values);
	}
	free(sel->reqs);
	free(sel);
}

static int add_value(struct req *r, const char *s, size_t n)
{
	char **v = realloc(r->values, (r->nvalues + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->values = v;
	v[r->nvalues] = trimdup(s, n);
	return v[r->nvalues++] ? 0 : -ENOMEM;
}

/* Parse one requirement of n bytes at s. */
static int parse_req(struct req *r, const char *s, size_t n)
{
	char *text = trimdup(s, n), *p, *sp;
	int ret = 0;

	if (!text)
		return -ENOMEM;
	*r = (struct req){ 0 };
	if (!*text) {
		ret = -EINVAL;
	} else if (text[0] == '!') {
		r->op = R_NOT_EXISTS;
		r->key = trimdup(text + 1, strlen(text + 1));
	} else if ((p = strstr(text, "!="))) {
		r->op = R_NE;
		r->key = trimdup(text, (size_t)(p - text));
		ret = add_value(r, p + 2, strlen(p + 2));
	} else if ((p = strchr(text, '='))) {
		r->op = R_EQ;
		r->key = trimdup(text, (size_t)(p - text));
		p += p[1] == '=' ? 2 : 1;
		ret = add_value(r, p, strlen(p));
	} else if ((sp = strpbrk(text, " \t"))) {
		char *word = sp + strspn(sp, " \t"), *open = strchr(word, '('),
		     *close = strrchr(word, ')');

		r->key = trimdup(text, (size_t)(sp - text));
		if (!strncmp(word, "notin", 5) && isspace((unsigned char)word[5]))
			r->op = R_NOTIN;
		else if (!strncmp(word, "in", 2) && (isspace((unsigned char)word[2]) || word[2] == '('))
			r->op = R_IN;
		else
			ret = -EINVAL;
		if (!ret && (!open || !close || close < open || close[1]))
			ret = -EINVAL;
		for (char *v = ret ? NULL : open + 1; v && v <= close;) {
			char *end = strpbrk(v, ",)");

			if ((ret = add_value(r, v, (size_t)(end - v))))
				break;
			v = end + 1;
		}
	} else {
		r->op = R_EXISTS;
		r->key = strdup(text);
	}
	if (!ret && (!r->key || !*r->key))
		ret = -EINVAL;
	free(text);
	return ret;
}

int selector_parse(struct selector **out, const char *text, char *err, size_t errlen)
{
	struct selector *sel = calloc(1, sizeof(*sel));
	const char *p = text, *start = text;
	int depth = 0, ret = 0;

	if (!sel)
		return -ENOMEM;
	for (;; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		if ((*p == ',' && depth == 0) || *p == '\0') {
			struct req *v = realloc(sel->reqs, (sel->n + 1) * sizeof(*v));

			if (!v) {
				ret = -ENOMEM;
				break;
			}
			sel->reqs = v;
			ret = parse_req(&v[sel->n], start, (size_t)(p - start));
			sel->n++;
			if (ret || *p == '\0')
				break;
			start = p + 1;
		}
	}
	if (ret) {
		snprintf(err, errlen, "unable to parse requirement: found '%s', expected: key, key=value, key!=value, key in (a,b), key notin (a,b), !key",
			 text);
		selector_free(sel);
		return ret;
	}
	/* keys and values are labels' (kubectl's messages): 'a=b=c' would
	 * otherwise look for the value "b=c", which no label can hold, and
	 * answer "No resources found" to a typo */
	for (size_t i = 0; !ret && i < sel->n; i++) {
		char why[STORE_ERRMSG_MAX];

		if (store_check_label_key(sel->reqs[i].key, why)) {
			snprintf(err, errlen, "unable to parse requirement: key: Invalid value: \"%s\": %s",
				 sel->reqs[i].key, why);
			ret = -EINVAL;
		}
		for (size_t j = 0; !ret && j < sel->reqs[i].nvalues; j++) {
			if (store_check_label_value(sel->reqs[i].values[j], why)) {
				snprintf(err, errlen, "unable to parse requirement: values[%zu][%s]: Invalid value: \"%s\": %s",
					 j, sel->reqs[i].key, sel->reqs[i].values[j], why);
				ret = -EINVAL;
			}
		}
	}
	if (ret) {
		selector_free(sel);
		return ret;
	}
	*out = sel;
	return 0;
}

static const char *label(const struct store_secret *s, const char *key)
{
	for (size_t i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i].key, key) == 0)
			return s->labels[i].value;
	return NULL;
}

static bool in_values(const struct req *r, const char *v)
{
	for (size_t i = 0; v && i < r->nvalues; i++)
		if (strcmp(r->values[i], v) == 0)
			return true;
	return false;
}

bool selector_match(const struct selector *sel, const struct store_secret *s)
{
	for (size_t i = 0; sel && i < sel->n; i++) {
		const struct req *r = &sel->reqs[i];
		const char *v = label(s, r->key);
		bool ok;

		switch (r->op) {
		case R_EQ: ok = v && !strcmp(v, r->values[0]); break;
		case R_NE: ok = !v || strcmp(v, r->values[0]); break;
		case R_EXISTS: ok = v != NULL; break;
		case R_NOT_EXISTS: ok = v == NULL; break;
		case R_IN: ok = in_values(r, v); break;
		case R_NOTIN: ok = !in_values(r, v); break;
		default: ok = false; break;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* --- field selectors ----------------------------------------------------------- */

enum field { F_NAME, F_NAMESPACE, F_TYPE };

struct field_req {
	enum field field;
	bool negate;
	char *value;
};

struct field_selector {
	struct field_req *reqs;
	size_t n;
};

void field_selector_free(struct field_selector *fs)
{
	if (!fs)
		return;
	for (size_t i = 0; i < fs->n; i++)
		free(fs->reqs[i].value);
	free(fs->reqs);
	free(fs);
}

/* One term of n bytes at s ("lhs=rhs", "lhs==rhs", "lhs!=rhs"), its
 * backslash escapes (\, \= \\) undone, as the API server's fields package
 * reads it. */
static int field_term(struct field_selector *fs, const char *s, size_t n, char *err,
		      size_t errlen)
{
	char *lhs = NULL, *rhs = NULL;
	size_t op = n, oplen = 0, l = 0, r = 0;
	bool negate = false;
	struct field_req *v;
	int ret = -EINVAL;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] == '!' && i + 1 < n && s[i + 1] == '=') {
			op = i, oplen = 2, negate = true;
			break;
		}
		if (s[i] == '=') {
			op = i, oplen = i + 1 < n && s[i + 1] == '=' ? 2 : 1;
			break;
		}
	}
	if (op == n) {
		snprintf(err, errlen, "invalid selector: '%.*s'; can't understand '%.*s'", (int)n, s,
			 (int)n, s);
		return -EINVAL;
	}
	lhs = malloc(op + 1);
	rhs = malloc(n - op - oplen + 1);
	if (!lhs || !rhs) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < op; i++)
		lhs[l++] = s[i] == '\\' && i + 1 < op ? s[++i] : s[i];
	lhs[l] = '\0';
	for (size_t i = op + oplen; i < n; i++)
		rhs[r++] = s[i] == '\\' && i + 1 < n ? s[++i] : s[i];
	rhs[r] = '\0';
	enum field f;

	if (!strcmp(lhs, "metadata.name")) {
		f = F_NAME;
	} else if (!strcmp(lhs, "metadata.namespace")) {
		f = F_NAMESPACE;
	} else if (!strcmp(lhs, "type")) {
		f = F_TYPE;
	} else {
		snprintf(err, errlen, "field label not supported: %s", lhs);
		goto out;
	}
	v = realloc(fs->reqs, (fs->n + 1) * sizeof(*v));
	if (!v) {
		ret = -ENOMEM;
		goto out;
	}
	fs->reqs = v;
	v[fs->n++] = (struct field_req){ f, negate, rhs };
	rhs = NULL;
	ret = 0;
out:
	free(lhs);
	free(rhs);
	return ret;
}

int field_selector_parse(struct field_selector **out, const char *text, char *err,
			 size_t errlen)
{
	struct field_selector *fs = calloc(1, sizeof(*fs));
	const char *start = text;
	int ret = 0;

	if (!fs)
		return -ENOMEM;
	for (const char *p = text;; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p != ',' && *p)
			continue;
		if (p > start && (ret = field_term(fs, start, (size_t)(p - start), err, errlen)))
			break;
		if (!*p)
			break;
		start = p + 1;
	}
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		field_selector_free(fs);
		return ret;
	}
	*out = fs;
	return 0;
}

bool field_selector_match(const struct field_selector *fs, const char *ns, const char *name,
			  const char *type)
{
	for (size_t i = 0; fs && i < fs->n; i++) {
		const struct field_req *r = &fs->reqs[i];
		const char *v = r->field == F_NAME ? name : r->field == F_NAMESPACE ? ns : type;

		if ((strcmp(v ? v : "", r->value) == 0) == r->negate)
			return false;
	}
	return true;
}
