/*
 * select.c - kubectl's label selectors (-l) and the JSONPath subset of
 * -o jsonpath= that people use with secrets.
 *
 * Selectors: requirements joined by commas, all of which must hold:
 *   key=value  key==value  key!=value  key  !key  key in (a,b)  key notin (a,b)
 *
 * JSONPath: text outside braces is printed as it is; inside braces either a
 * quoted string ({"\n"}) or a path: .field, .field\.with\.dots, ['field'],
 * .* (every value of an object), [*] (every element), [N].  Several results
 * are separated by spaces; strings print raw, other values as JSON.
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

/* --- JSONPath -------------------------------------------------------------- */

static void emit_value(const json_t *v, bool *first)
{
	if (!*first)
		putchar(' ');
	*first = false;
	if (json_is_string(v)) {
		fwrite(json_string_value(v), 1, json_string_length(v), stdout);
	} else {
		json_dumpf(v, stdout, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	}
}

/* Walk path (at p, up to end) from v, emitting every match. */
static int walk(const json_t *v, const char *p, const char *end, bool *first)
{
	char name[512];
	size_t n = 0;

	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p >= end) {
		emit_value(v, first);
		return 0;
	}
	if (*p == '.' && p + 1 < end && p[1] == '*') {
		const char *k;
		json_t *x;

		json_object_foreach((json_t *)v, k, x)
			walk(x, p + 2, end, first);
		return 0;
	}
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));
		size_t i;
		json_t *x;

		if (!close)
			return -EINVAL;
		if (p[1] == '*') {
			json_array_foreach(v, i, x)
				walk(x, close + 1, end, first);
			return 0;
		}
		if (p[1] == '\'' || p[1] == '"') {
			size_t len = (size_t)(close - p) - 3;

			if (len >= sizeof(name) || close[-1] != p[1])
				return -EINVAL;
			memcpy(name, p + 2, len);
			name[len] = '\0';
			x = json_object_get(v, name);
			return x ? walk(x, close + 1, end, first) : 0;
		}
		x = json_array_get(v, (size_t)strtoul(p + 1, NULL, 10));
		return x ? walk(x, close + 1, end, first) : 0;
	}
	if (*p != '.')
		return -EINVAL;
	for (p++; p < end && *p != '.' && *p != '['; p++) {
		if (*p == '\\' && p + 1 < end)
			p++; /* \. is a dot inside the name */
		if (n + 1 >= sizeof(name))
			return -EINVAL;
		name[n++] = *p;
	}
	name[n] = '\0';
	if (n == 0)
		return walk(v, p, end, first); /* "{.}" */
	v = json_object_get(v, name);
	return v ? walk(v, p, end, first) : 0;
}

int jsonpath_print(const json_t *obj, const char *tmpl, char *err, size_t errlen)
{
	for (const char *p = tmpl; *p;) {
		const char *open = strchr(p, '{'), *close;
		bool first = true;

		if (!open) {
			fputs(p, stdout);
			break;
		}
		fwrite(p, 1, (size_t)(open - p), stdout);
		close = strchr(open, '}');
		if (!close) {
			snprintf(err, errlen, "jsonpath: unclosed '{' in %s", tmpl);
			return -EINVAL;
		}
		if (open[1] == '"') { /* {"text"}, with \n and \t */
			for (const char *q = open + 2; q < close - 1; q++) {
				if (*q == '\\' && q + 1 < close - 1) {
					q++;
					putchar(*q == 'n' ? '\n' : *q == 't' ? '\t' : *q);
				} else {
					putchar(*q);
				}
			}
		} else if (walk(obj, open + 1, close, &first)) {
			snprintf(err, errlen, "jsonpath: cannot read the expression '%.*s'",
				 (int)(close - open - 1), open + 1);
			return -EINVAL;
		}
		p = close + 1;
	}
	return 0;
}
