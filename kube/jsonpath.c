/*
 * jsonpath.c - kubectl's JSONPath (-o jsonpath=, custom-columns, --sort-by),
 * as client-go's util/jsonpath parses and evaluates it, rule for rule.
 *
 * A template is text and {actions}.  An action is a path (.field, ['name'],
 * [N], [start:end:step], [*], .*, ..name, [a,b] unions, [?(@.x OP y)] and
 * [?(@.x)] filters), a quoted string ({"\t"}), a number, true/false, or the
 * words range and end.  The parser is a port of client-go's parser.go,
 * quirks included (['a.b'] is the path .a.b, ["a"] is an invalid index,
 * [N] past the end is an error, not a miss), so that a template means here
 * what it means to kubectl.  What client-go would only reject at evaluation
 * time and that we do not implement (an unknown filter operator such as
 * "=") is refused when parsing, with the column.
 *
 * Values are jansson references.  Results of one action are joined by a
 * space; strings print raw, numbers and booleans as Go's fmt prints them,
 * maps and arrays as Go's json.Marshal (sorted keys, <>& escaped).  One
 * difference, by necessity: Go visits a map in random order (.*, ..), we in
 * key order.  The whole output is built before anything is written, so an
 * error prints nothing; errors name the construct and never a value.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

enum jp_kind {
	JP_LIST, JP_TEXT, JP_FIELD, JP_ARRAY, JP_FILTER, JP_INT, JP_FLOAT, JP_BOOL,
	JP_WILDCARD, JP_RECURSIVE, JP_UNION, JP_IDENT,
};

struct jp_param {
	bool known, derived;
	long long value;
};

struct jp_node {
	enum jp_kind kind;
	char *text;              /* TEXT (len bytes, may hold NUL), FIELD, IDENT */
	size_t len;
	long long i;             /* INT */
	double f;                /* FLOAT */
	bool b;                  /* BOOL */
	struct jp_param params[3]; /* ARRAY */
	struct jp_node **nodes;  /* LIST: its nodes; UNION: its LISTs */
	size_t n;
	struct jp_node *left, *right; /* FILTER: LISTs */
	char op[4];              /* FILTER: "==", ..., "exists" is "" */
};

struct jsonpath {
	struct jp_node *root;    /* a LIST of TEXTs and LISTs (the actions) */
	char *tmpl;
};

/* --- nodes ------------------------------------------------------------------ */

static void node_free(struct jp_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->nodes[i]);
	free(n->nodes);
	node_free(n->left);
	node_free(n->right);
	free(n->text);
	free(n);
}

static struct jp_node *node_new(enum jp_kind kind)
{
	struct jp_node *n = calloc(1, sizeof(*n));

	if (n)
		n->kind = kind;
	return n;
}

/* Append child to list (taking it, freeing it on failure). */
static int node_append(struct jp_node *list, struct jp_node *child)
{
	struct jp_node **v;

	if (!child)
		return -ENOMEM;
	v = realloc(list->nodes, (list->n + 1) * sizeof(*v));
	if (!v) {
		node_free(child);
		return -ENOMEM;
	}
	list->nodes = v;
	v[list->n++] = child;
	return 0;
}

static struct jp_node *node_text(enum jp_kind kind, const char *s, size_t len)
{
	struct jp_node *n = node_new(kind);

	if (!n)
		return NULL;
	n->text = malloc(len + 1);
	if (!n->text) {
		free(n);
		return NULL;
	}
	memcpy(n->text, s, len);
	n->text[len] = '\0';
	n->len = len;
	return n;
}

/* --- the parser (client-go's parser.go) ---------------------------------------- */

struct parser {
	const char *in;
	size_t len, pos, start;
	size_t base;             /* where in the user's template in[0] sits, for messages */
	struct jp_node *root;
	char *err;
	size_t errlen;
};

static int perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(struct parser *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* in[] may be a sub-template "{...}" we built: its '{' is not the user's */
	snprintf(p->err, p->errlen, "%s at column %zu", msg,
		 p->base + (p->pos ? p->pos : 1));
	return -EINVAL;
}

static bool is_terminator(int c)
{
	return c == -1 || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '.' ||
	       c == ',' || c == '[' || c == ']' || c == '$' || c == '@' || c == '{' || c == '}';
}

/* Go's unicode.IsLetter/IsDigit, for ASCII; every byte >= 0x80 starts a
 * letter in our reading (client-go accepts any Unicode letter). */
static bool is_alnum(int c)
{
	return c == '_' || (c >= 0 && (isalnum(c) || c >= 0x80));
}

static int peekc(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->in[p->pos] : -1;
}

static int nextc(struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->in[p->pos++] : -1;
}

static bool has_prefix(const struct parser *p, const char *s)
{
	size_t n = strlen(s);

	return p->len - p->pos >= n && memcmp(p->in + p->pos, s, n) == 0;
}

static int parse_text(struct parser *p, struct jp_node *cur);
static int parse_inside(struct parser *p, struct jp_node *cur);

/* Parse a whole template of len bytes into a new root LIST. */
static int parse_all(struct jp_node **out, const char *in, size_t len, size_t base, char *err,
		     size_t errlen)
{
	struct parser p = { .in = in, .len = len, .base = base, .err = err, .errlen = errlen };
	int ret;

	p.root = node_new(JP_LIST);
	if (!p.root)
		return -ENOMEM;
	ret = parse_text(&p, p.root);
	if (ret) {
		node_free(p.root);
		return ret;
	}
	*out = p.root;
	return 0;
}

/* client-go's parseAction: text as the inside of one action, its LIST. */
static int parse_action(struct parser *p, const char *text, size_t len, size_t at,
			struct jp_node **out)
{
	char *buf = malloc(len + 3);
	struct jp_node *root = NULL;
	int ret;

	if (!buf)
		return -ENOMEM;
	buf[0] = '{';
	memcpy(buf + 1, text, len);
	buf[len + 1] = '}';
	ret = parse_all(&root, buf, len + 2, at ? at - 1 : 0, p->err, p->errlen);
	free(buf);
	if (ret)
		return ret;
	assert(root->n >= 1 && root->nodes[0]->kind == JP_LIST);
	*out = root->nodes[0];
	root->nodes[0] = NULL;
	node_free(root);
	return 0;
}

/* Text up to each '{', then the action up to its '}', to the end.  Every
 * parse_* below consumes one token and returns: loops, not recursion, so
 * that a long template cannot exhaust the stack. */
static int parse_text(struct parser *p, struct jp_node *cur)
{
	for (;;) {
		if (has_prefix(p, "{")) {
			struct jp_node *action;
			int ret;

			if (p->pos > p->start &&
			    node_append(cur, node_text(JP_TEXT, p->in + p->start, p->pos - p->start)))
				return -ENOMEM;
			action = node_new(JP_LIST);
			p->pos++;
			p->start = p->pos;
			if (node_append(cur, action))
				return -ENOMEM;
			if ((ret = parse_inside(p, action)))
				return ret;
			continue;
		}
		if (nextc(p) == -1)
			break;
	}
	if (p->pos > p->start &&
	    node_append(cur, node_text(JP_TEXT, p->in + p->start, p->pos - p->start)))
		return -ENOMEM;
	return 0;
}

static int parse_field(struct parser *p, struct jp_node *cur);

/* range, end, true, false (and any other word, an error when evaluated) */
static int parse_identifier(struct parser *p, struct jp_node *cur)
{
	struct jp_node *n;

	while (!is_terminator(peekc(p)))
		p->pos++;
	if (p->pos - p->start == 4 && !memcmp(p->in + p->start, "true", 4)) {
		n = node_new(JP_BOOL);
		if (n)
			n->b = true;
	} else if (p->pos - p->start == 5 && !memcmp(p->in + p->start, "false", 5)) {
		n = node_new(JP_BOOL);
	} else {
		n = node_text(JP_IDENT, p->in + p->start, p->pos - p->start);
	}
	p->start = p->pos;
	if (node_append(cur, n))
		return -ENOMEM;
	return 0;
}

static int parse_number(struct parser *p, struct jp_node *cur)
{
	char buf[64], *end;
	size_t len;
	struct jp_node *n;

	if (peekc(p) == '+' || peekc(p) == '-')
		p->pos++;
	while (peekc(p) == '.' || (peekc(p) >= '0' && peekc(p) <= '9'))
		p->pos++;
	len = p->pos - p->start;
	if (len >= sizeof(buf))
		return perr(p, "cannot parse number %.*s", (int)len, p->in + p->start);
	memcpy(buf, p->in + p->start, len);
	buf[len] = '\0';
	p->start = p->pos;
	errno = 0;
	long long i = strtoll(buf, &end, 10);

	if (!*end && end != buf && errno == 0 && buf[len - 1] != '+' && buf[len - 1] != '-') {
		n = node_new(JP_INT);
		if (n)
			n->i = i;
	} else {
		/* Go's ParseFloat: digits and at most one dot, some digit */
		double d = strtod(buf, &end);

		if (*end || !strpbrk(buf, "0123456789"))
			return perr(p, "cannot parse number %s", buf);
		n = node_new(JP_FLOAT);
		if (n)
			n->f = d;
	}
	if (node_append(cur, n))
		return -ENOMEM;
	return 0;
}

/* Go's strconv.UnquoteChar loop over a quoted string (quotes included). */
static int unquote(const char *s, size_t n, char **out, size_t *outlen)
{
	char quote = s[0], *buf;
	size_t o = 0;

	if (n < 2 || s[n - 1] != quote)
		return -EINVAL;
	buf = malloc(n * 4 + 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 1; i < n - 1;) {
		unsigned char c = (unsigned char)s[i];
		unsigned long v = 0;
		int digits = 0;

		if (c == (unsigned char)quote)
			goto bad;
		if (c != '\\') {
			buf[o++] = (char)c;
			i++;
			continue;
		}
		if (++i >= n - 1)
			goto bad;
		c = (unsigned char)s[i++];
		switch (c) {
		case 'a': buf[o++] = '\a'; continue;
		case 'b': buf[o++] = '\b'; continue;
		case 'f': buf[o++] = '\f'; continue;
		case 'n': buf[o++] = '\n'; continue;
		case 'r': buf[o++] = '\r'; continue;
		case 't': buf[o++] = '\t'; continue;
		case 'v': buf[o++] = '\v'; continue;
		case '\\': buf[o++] = '\\'; continue;
		case '\'': case '"':
			if (c != (unsigned char)quote)
				goto bad;
			buf[o++] = (char)c;
			continue;
		case 'x': digits = 2; break;
		case 'u': digits = 4; break;
		case 'U': digits = 8; break;
		case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
			v = c - '0';
			for (int k = 0; k < 2; k++, i++) {
				if (i >= n - 1 || s[i] < '0' || s[i] > '7')
					goto bad;
				v = v * 8 + (unsigned long)(s[i] - '0');
			}
			if (v > 255)
				goto bad;
			buf[o++] = (char)v;
			continue;
		default:
			goto bad;
		}
		for (int k = 0; k < digits; k++, i++) {
			if (i >= n - 1 || !isxdigit((unsigned char)s[i]))
				goto bad;
			v = v * 16 + (unsigned long)(isdigit((unsigned char)s[i]) ? s[i] - '0' :
						     (tolower((unsigned char)s[i]) - 'a' + 10));
		}
		if (c == 'x') {
			buf[o++] = (char)v;
			continue;
		}
		if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			goto bad;
		if (v < 0x80) {
			buf[o++] = (char)v;
		} else if (v < 0x800) {
			buf[o++] = (char)(0xC0 | (v >> 6));
			buf[o++] = (char)(0x80 | (v & 0x3F));
		} else if (v < 0x10000) {
			buf[o++] = (char)(0xE0 | (v >> 12));
			buf[o++] = (char)(0x80 | ((v >> 6) & 0x3F));
			buf[o++] = (char)(0x80 | (v & 0x3F));
		} else {
			buf[o++] = (char)(0xF0 | (v >> 18));
			buf[o++] = (char)(0x80 | ((v >> 12) & 0x3F));
			buf[o++] = (char)(0x80 | ((v >> 6) & 0x3F));
			buf[o++] = (char)(0x80 | (v & 0x3F));
		}
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return 0;
bad:
	free(buf);
	return -EINVAL;
}

static int parse_quote(struct parser *p, struct jp_node *cur, int end)
{
	struct jp_node *n;
	char *s;
	size_t len;

	for (;;) {
		int c = nextc(p);

		if (c == -1 || c == '\n')
			return perr(p, "unterminated quoted string");
		/* client-go's test: the byte before is not a backslash (so "\\" is open) */
		if (c == end && p->in[p->pos - 2] != '\\')
			break;
	}
	if (unquote(p->in + p->start, p->pos - p->start, &s, &len))
		return perr(p, "unquote string %.*s error invalid syntax",
			    (int)(p->pos - p->start), p->in + p->start);
	n = node_new(JP_TEXT);
	if (!n) {
		free(s);
		return -ENOMEM;
	}
	n->text = s;
	n->len = len;
	p->start = p->pos;
	if (node_append(cur, n))
		return -ENOMEM;
	return 0;
}

/* client-go's sliceOperatorRex ^(-?\d*)(:-?\d*)?(:-?\d*)?$ and what it
 * makes of the three parts. */
static int parse_slice(struct parser *p, const char *t, size_t len, struct jp_param params[3])
{
	const char *part[3] = { NULL, NULL, NULL };
	size_t plen[3] = { 0, 0, 0 }, i = 0;

	for (int k = 0; k < 3; k++) {
		size_t s = i;

		if (k > 0) {
			if (i >= len || t[i] != ':')
				break;
			i++;
		}
		if (i < len && t[i] == '-')
			i++;
		while (i < len && t[i] >= '0' && t[i] <= '9')
			i++;
		part[k] = t + s;
		plen[k] = i - s;
	}
	if (i != len)
		return perr(p, "invalid array index %.*s", (int)len, t);
	for (int k = 0; k < 3; k++) {
		const char *v = part[k];
		size_t vl = plen[k];

		if (vl && k > 0) {
			v++;
			vl--;
			if (!vl) {
				params[k].known = false;
				continue;
			}
		}
		if (plen[k]) {
			char buf[32], *end;

			if (vl >= sizeof(buf))
				return perr(p, "array index %.*s is not a number", (int)vl, v);
			memcpy(buf, v, vl);
			buf[vl] = '\0';
			errno = 0;
			params[k].value = strtoll(buf, &end, 10);
			if (*end || end == buf || errno || !strcmp(buf, "-"))
				return perr(p, "array index %s is not a number", buf);
			params[k].known = true;
		} else if (k == 1) {
			params[1].known = true;
			params[1].value = params[0].value + 1;
			params[1].derived = true;
		} else {
			params[k].known = false;
			params[k].value = 0;
		}
	}
	return 0;
}

static int parse_array(struct parser *p, struct jp_node *cur)
{
	size_t open = p->start, tlen;
	const char *text;
	struct jp_node *n;
	int ret;

	for (;;) {
		int c = nextc(p);

		if (c == -1 || c == '\n')
			return perr(p, "unterminated array");
		if (c == ']')
			break;
	}
	text = p->in + p->start + 1;
	tlen = p->pos - p->start - 2;
	p->start = p->pos;
	if (tlen == 1 && text[0] == '*')
		text = ":";
	if (memchr(text, ',', tlen)) { /* a union: each part is an action [part] */
		n = node_new(JP_UNION);
		if (!n)
			return -ENOMEM;
		for (const char *s = text, *end = text + tlen; s <= end;) {
			const char *comma = memchr(s, ',', (size_t)(end - s));
			const char *e = comma ? comma : end, *b = s;
			struct jp_node *list = NULL;
			char *sub;

			while (b < e && *b == ' ')
				b++;
			while (e > b && e[-1] == ' ')
				e--;
			sub = malloc((size_t)(e - b) + 3);
			if (!sub) {
				node_free(n);
				return -ENOMEM;
			}
			sprintf(sub, "[%.*s]", (int)(e - b), b);
			ret = parse_action(p, sub, (size_t)(e - b) + 2,
					   p->base + open + 1 + (size_t)(b - text), &list);
			free(sub);
			if (ret || (ret = node_append(n, list))) {
				node_free(n);
				return ret;
			}
			if (!comma)
				break;
			s = comma + 1;
		}
		if (node_append(cur, n))
			return -ENOMEM;
		return 0;
	}
	if (tlen >= 2 && text[0] == '\'' && text[tlen - 1] == '\'' &&
	    !memchr(text + 1, '\'', tlen - 2)) { /* ['name']: the path .name */
		struct jp_node *list = NULL;
		char *sub = malloc(tlen);

		if (!sub)
			return -ENOMEM;
		sub[0] = '.';
		memcpy(sub + 1, text + 1, tlen - 2);
		ret = parse_action(p, sub, tlen - 1, p->base + open + 1, &list);
		free(sub);
		if (ret)
			return ret;
		for (size_t i = 0; i < list->n; i++) {
			if (node_append(cur, list->nodes[i])) {
				list->nodes[i] = NULL;
				node_free(list);
				return -ENOMEM;
			}
			list->nodes[i] = NULL;
		}
		node_free(list);
		return 0;
	}
	n = node_new(JP_ARRAY);
	if (!n)
		return -ENOMEM;
	if ((ret = parse_slice(p, text, tlen, n->params))) {
		node_free(n);
		return ret;
	}
	if (node_append(cur, n))
		return -ENOMEM;
	return 0;
}

static bool is_op_char(char c)
{
	return c == '!' || c == '<' || c == '>' || c == '=';
}

/* [?(LEFT OP RIGHT)] or [?(PATH)] */
static int parse_filter(struct parser *p, struct jp_node *cur)
{
	bool begin = false, end = false;
	int pair = 0, ret;
	size_t at, tlen, left_end = 0, oplen = 0;
	const char *text;
	struct jp_node *n;

	p->pos += 3;
	p->start = p->pos;
	at = p->base + p->pos;
	for (;;) {
		int c = nextc(p);

		if (c == -1 || c == '\n')
			return perr(p, "unterminated filter");
		if (c == '"' || c == '\'') {
			if (!begin) {
				begin = true;
				pair = c;
				continue;
			}
			if (p->in[p->pos - 2] != '\\' && c == pair)
				end = true;
		} else if (c == ')' && begin == end) {
			break;
		}
	}
	if (nextc(p) != ']')
		return perr(p, "unclosed array expect ]");
	text = p->in + p->start;
	tlen = p->pos - p->start - 2;
	p->start = p->pos;
	/* client-go's ^([^!<>=]+)([!<>=]+)(.+?)$, backtracking as RE2 does */
	size_t first = 0;

	while (first < tlen && !is_op_char(text[first]))
		first++;
	for (size_t l = first; l >= 1 && l < tlen && !oplen; l--) {
		size_t run = 0;

		while (l + run < tlen && is_op_char(text[l + run]))
			run++;
		for (size_t k = run; k >= 1; k--) {
			if (l + k < tlen) {
				left_end = l;
				oplen = k;
				break;
			}
		}
	}
	n = node_new(JP_FILTER);
	if (!n)
		return -ENOMEM;
	if (!oplen) {
		ret = parse_action(p, text, tlen, at, &n->left);
		if (!ret)
			n->right = node_new(JP_LIST);
		if (!ret && !n->right)
			ret = -ENOMEM;
	} else {
		static const char *const ops[] = { "<", ">", "==", "!=", "<=", ">=" };
		bool known = false;

		for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++)
			known |= strlen(ops[i]) == oplen && !memcmp(ops[i], text + left_end, oplen);
		memcpy(n->op, text + left_end, oplen < 3 ? oplen : 3);
		ret = parse_action(p, text, left_end, at, &n->left);
		if (!ret)
			ret = parse_action(p, text + left_end + oplen, tlen - left_end - oplen,
					   at + left_end + oplen, &n->right);
		/* client-go fails on it only once it compares: refuse it now */
		if (!ret && !known) {
			p->pos = at - p->base + left_end + 1;
			node_free(n);
			return perr(p, "unrecognized filter operator %.*s (there are ==; !=; <; <=; >; >=)",
				    (int)oplen, text + left_end);
		}
	}
	if (ret) {
		node_free(n);
		return ret;
	}
	if (node_append(cur, n))
		return -ENOMEM;
	return 0;
}

static int parse_recursive(struct parser *p, struct jp_node *cur)
{
	if (cur->n && cur->nodes[cur->n - 1]->kind == JP_RECURSIVE)
		return perr(p, "invalid multiple recursive descent");
	p->pos += 2;
	p->start = p->pos;
	if (node_append(cur, node_new(JP_RECURSIVE)))
		return -ENOMEM;
	if (is_alnum(peekc(p)))
		return parse_field(p, cur);
	return 0;
}

/* .name (a backslash escapes the next byte, and is dropped) or .* */
static int parse_field(struct parser *p, struct jp_node *cur)
{
	struct jp_node *n;
	size_t o = 0;

	p->start = p->pos;
	for (;;) {
		int c = nextc(p);

		if (c == '\\') {
			nextc(p);
		} else if (is_terminator(c)) {
			if (c != -1)
				p->pos--;
			break;
		}
	}
	if (p->pos - p->start == 1 && p->in[p->start] == '*') {
		n = node_new(JP_WILDCARD);
	} else {
		n = node_text(JP_FIELD, p->in + p->start, p->pos - p->start);
		for (size_t i = 0; n && i < n->len; i++)
			if (n->text[i] != '\\')
				n->text[o++] = n->text[i];
		if (n) {
			n->text[o] = '\0';
			n->len = o;
		}
	}
	p->start = p->pos;
	if (node_append(cur, n))
		return -ENOMEM;
	return 0;
}

/* The tokens of one action, up to and with its '}'. */
static int parse_inside(struct parser *p, struct jp_node *cur)
{
	int c, ret = 0;

	while (!ret) {
		if (has_prefix(p, "}")) {
			p->pos++;
			p->start = p->pos;
			return 0;
		}
		if (has_prefix(p, "[?(")) {
			ret = parse_filter(p, cur);
			continue;
		}
		if (has_prefix(p, "..")) {
			ret = parse_recursive(p, cur);
			continue;
		}
		c = nextc(p);
		if (c == -1 || c == '\r' || c == '\n')
			return perr(p, "unclosed action");
		if (c == ' ' || c == '@' || c == '$') { /* @ and $: the current object */
			p->start = p->pos;
		} else if (c == '[') {
			ret = parse_array(p, cur);
		} else if (c == '"' || c == '\'') {
			ret = parse_quote(p, cur, c);
		} else if (c == '.') {
			ret = parse_field(p, cur);
		} else if (c == '+' || c == '-' || (c >= '0' && c <= '9')) {
			p->pos--;
			ret = parse_number(p, cur);
		} else if (is_alnum(c)) {
			p->pos--;
			ret = parse_identifier(p, cur);
		} else if (c >= 0x20 && c < 0x7f) {
			return perr(p, "unrecognized character in action: U+%04X '%c'", c, c);
		} else {
			return perr(p, "unrecognized character in action: byte 0x%02X", c);
		}
	}
	return ret;
}

int jsonpath_parse(struct jsonpath **out, const char *tmpl, char *err, size_t errlen)
{
	struct jsonpath *jp = calloc(1, sizeof(*jp));
	char msg[256];
	int ret;

	if (!jp)
		return -ENOMEM;
	jp->tmpl = strdup(tmpl);
	if (!jp->tmpl) {
		free(jp);
		return -ENOMEM;
	}
	ret = parse_all(&jp->root, tmpl, strlen(tmpl), 0, msg, sizeof(msg));
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(msg, sizeof(msg), "out of memory");
		snprintf(err, errlen, "error parsing jsonpath %s, %s", tmpl, msg);
		jsonpath_free(jp);
		return ret;
	}
	*out = jp;
	return 0;
}

void jsonpath_free(struct jsonpath *jp)
{
	if (!jp)
		return;
	node_free(jp->root);
	free(jp->tmpl);
	free(jp);
}

/* --- values ------------------------------------------------------------------- */

/* A list of values, each a reference we hold; NULL stands for "no value
 * at all" (client-go's invalid reflect.Value, the data of an empty range). */
struct vals {
	json_t **v;
	size_t n, cap;
};

static int vals_push(struct vals *vs, json_t *v) /* takes the reference */
{
	if (vs->n == vs->cap) {
		size_t cap = vs->cap ? vs->cap * 2 : 8;
		json_t **nv = realloc(vs->v, cap * sizeof(*nv));

		if (!nv) {
			json_decref(v);
			return -ENOMEM;
		}
		vs->v = nv;
		vs->cap = cap;
	}
	vs->v[vs->n++] = v;
	return 0;
}

static void vals_release(struct vals *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		json_decref(vs->v[i]);
	free(vs->v);
	*vs = (struct vals){ 0 };
}

/* Go's type name of a value, for messages that must not show the value. */
static const char *go_type(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT: return "map[string]interface {}";
	case JSON_ARRAY: return "[]interface {}";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "int64";
	case JSON_REAL: return "float64";
	case JSON_TRUE: case JSON_FALSE: return "bool";
	default: return "<nil>";
	}
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every child of v in order: an object's values by key, an array's
 * elements, a string's bytes (as Go's reflect indexes a string). */
static int children(const json_t *v, struct vals *out)
{
	if (json_is_object(v)) {
		size_t n = json_object_size(v), i = 0;
		const char **keys = malloc((n ? n : 1) * sizeof(*keys));
		const char *k;
		json_t *x;

		if (!keys)
			return -ENOMEM;
		json_object_foreach((json_t *)v, k, x)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), cmp_keys);
		for (i = 0; i < n; i++)
			if (vals_push(out, json_incref(json_object_get(v, keys[i])))) {
				free(keys);
				return -ENOMEM;
			}
		free(keys);
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			if (vals_push(out, json_incref(json_array_get(v, i))))
				return -ENOMEM;
	} else if (json_is_string(v)) {
		const unsigned char *s = (const unsigned char *)json_string_value(v);

		for (size_t i = 0; i < json_string_length(v); i++)
			if (vals_push(out, json_integer(s[i])))
				return -ENOMEM;
	}
	return 0;
}

/* --- evaluation (client-go's jsonpath.go) --------------------------------------- */

struct exec {
	const struct jsonpath *jp;
	int begin_range, in_range, end_range;
	size_t last_end;         /* the root index of the last {end} met */
	bool has_last_end;
	char *err;
	size_t errlen;
};

static int xerr(struct exec *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int xerr(struct exec *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int walk(struct exec *x, const struct vals *in, const struct jp_node *node,
		struct vals *out);

/* client-go's evalList: on an error, out holds what the failing node was
 * given (client-go returns its input), which a [?(@.x)] test still counts. */
static int eval_list(struct exec *x, const struct vals *in, const struct jp_node *list,
		     struct vals *out)
{
	struct vals cur = { 0 };
	int ret = 0;

	for (size_t i = 0; i < in->n && !ret; i++)
		ret = vals_push(&cur, json_incref(in->v[i]));
	for (size_t i = 0; i < list->n && !ret; i++) {
		struct vals next = { 0 };

		ret = walk(x, &cur, list->nodes[i], &next);
		if (ret) {
			vals_release(&next);
			break;
		}
		vals_release(&cur);
		cur = next;
	}
	*out = cur;
	return ret;
}

static int eval_field(struct exec *x, const struct vals *in, const struct jp_node *node,
		      struct vals *out)
{
	(void)x;
	for (size_t i = 0; i < in->n; i++) {
		json_t *r;

		if (!json_is_object(in->v[i]) || memchr(node->text, '\0', node->len))
			continue;
		r = json_object_get(in->v[i], node->text);
		if (r && vals_push(out, json_incref(r)))
			return -ENOMEM;
	}
	/* kubectl's get, custom-columns and sort-by allow missing keys: a miss
	 * is no result, not an error */
	return 0;
}

static int eval_array(struct exec *x, const struct vals *in, const struct jp_node *node,
		      struct vals *out)
{
	for (size_t i = 0; i < in->n; i++) {
		const json_t *v = in->v[i];
		struct jp_param p[3];
		long long len, step = 1;

		if (!v || json_is_null(v))
			continue;
		if (!json_is_array(v))
			return xerr(x, "%s is not array or slice", go_type(v));
		memcpy(p, node->params, sizeof(p));
		len = (long long)json_array_size(v);
		if (!p[0].known)
			p[0].value = 0;
		if (p[0].value < 0)
			p[0].value += len;
		if (!p[1].known)
			p[1].value = len;
		if (p[1].value < 0 || (p[1].value == 0 && p[1].derived))
			p[1].value += len;
		if (p[1].value == p[0].value)
			return 0; /* client-go: zero elements asked, none given, stop */
		if (p[0].value >= len || p[0].value < 0)
			return xerr(x, "array index out of bounds: index %lld, length %lld",
				    p[0].value, len);
		if (p[1].value > len || p[1].value < 0)
			return xerr(x, "array index out of bounds: index %lld, length %lld",
				    p[1].value - 1, len);
		if (p[0].value > p[1].value)
			return xerr(x, "starting index %lld is greater than ending index %lld",
				    p[0].value, p[1].value);
		if (p[2].known) {
			if (p[2].value <= 0)
				return xerr(x, "step must be > 0");
			step = p[2].value;
		}
		for (long long k = p[0].value; k < p[1].value; k += step)
			if (vals_push(out, json_incref(json_array_get(v, (size_t)k))))
				return -ENOMEM;
	}
	return 0;
}

enum basic { B_INVALID, B_BOOL, B_INT, B_FLOAT, B_STRING };

static enum basic basic_kind(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_TRUE: case JSON_FALSE: return B_BOOL;
	case JSON_INTEGER: return B_INT;
	case JSON_REAL: return B_FLOAT;
	case JSON_STRING: return B_STRING;
	default: return B_INVALID;
	}
}

static int bytes_cmp(const json_t *a, const json_t *b)
{
	size_t la = json_string_length(a), lb = json_string_length(b);
	int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);

	return c ? c : la < lb ? -1 : la > lb;
}

/* Go text/template's eq and lt, as client-go's fork has them. */
static int go_equal(struct exec *x, const json_t *a, const json_t *b, bool *res)
{
	enum basic ka = basic_kind(a), kb = basic_kind(b);

	if (ka == B_INVALID || kb == B_INVALID)
		return xerr(x, "invalid type for comparison");
	if (ka != kb)
		return xerr(x, "incompatible types for comparison");
	switch (ka) {
	case B_BOOL: *res = json_is_true(a) == json_is_true(b); break;
	case B_INT: *res = json_integer_value(a) == json_integer_value(b); break;
	case B_FLOAT: *res = json_real_value(a) == json_real_value(b); break;
	default: *res = bytes_cmp(a, b) == 0; break;
	}
	return 0;
}

static int go_less(struct exec *x, const json_t *a, const json_t *b, bool *res)
{
	enum basic ka = basic_kind(a), kb = basic_kind(b);

	if (ka == B_INVALID || kb == B_INVALID)
		return xerr(x, "invalid type for comparison");
	if (ka != kb)
		return xerr(x, "incompatible types for comparison");
	switch (ka) {
	case B_BOOL: return xerr(x, "invalid type for comparison");
	case B_INT: *res = json_integer_value(a) < json_integer_value(b); break;
	case B_FLOAT: *res = json_real_value(a) < json_real_value(b); break;
	default: *res = bytes_cmp(a, b) < 0; break;
	}
	return 0;
}

static int compare(struct exec *x, const char *op, const json_t *a, const json_t *b, bool *pass)
{
	bool lt = false, eq = false;
	int ret;

	if (!strcmp(op, "==") || !strcmp(op, "!=")) {
		ret = go_equal(x, a, b, &eq);
		*pass = op[0] == '=' ? eq : !eq;
		return ret;
	}
	if ((ret = go_less(x, a, b, &lt)))
		return ret;
	if (!strcmp(op, "<")) {
		*pass = lt;
	} else if (!strcmp(op, ">=")) {
		*pass = !lt;
	} else {
		/* <= is lt or eq; > is its negation */
		if (!lt && (ret = go_equal(x, a, b, &eq)))
			return ret;
		*pass = !strcmp(op, "<=") ? lt || eq : !(lt || eq);
	}
	return 0;
}

static int eval_filter(struct exec *x, const struct vals *in, const struct jp_node *node,
		       struct vals *out)
{
	for (size_t i = 0; i < in->n; i++) {
		const json_t *v = in->v[i];

		if (!v)
			continue;
		if (!json_is_array(v))
			return xerr(x, "%s is not array or slice and cannot be filtered",
				    json_is_null(v) ? "<nil>" : go_type(v));
		for (size_t k = 0; k < json_array_size(v); k++) {
			json_t *e = json_array_get(v, k);
			struct vals one = { 0 }, lefts = { 0 }, rights = { 0 };
			bool pass = false;
			int ret;

			if ((ret = vals_push(&one, json_incref(e))))
				return ret;
			ret = eval_list(x, &one, node->left, &lefts);
			if (!node->op[0]) { /* existence: as client-go, whatever the error */
				pass = lefts.n > 0;
				ret = ret == -ENOMEM ? ret : 0;
			} else if (!ret && lefts.n == 1) {
				ret = eval_list(x, &one, node->right, &rights);
				if (!ret && rights.n > 1)
					ret = xerr(x, "can only compare one element at a time");
				else if (!ret && rights.n == 1)
					ret = compare(x, node->op, lefts.v[0], rights.v[0], &pass);
			} else if (!ret && lefts.n > 1) {
				ret = xerr(x, "can only compare one element at a time");
			}
			vals_release(&one);
			vals_release(&lefts);
			vals_release(&rights);
			if (ret)
				return ret;
			if (pass && vals_push(out, json_incref(e)))
				return -ENOMEM;
		}
	}
	return 0;
}

static int eval_recursive(struct exec *x, const struct vals *in, struct vals *out)
{
	for (size_t i = 0; i < in->n; i++) {
		struct vals kids = { 0 };
		int ret;

		if (!in->v[i] || json_is_null(in->v[i]))
			continue;
		if ((ret = children(in->v[i], &kids))) {
			vals_release(&kids);
			return ret;
		}
		if (kids.n) {
			ret = vals_push(out, json_incref(in->v[i]));
			if (!ret)
				ret = eval_recursive(x, &kids, out);
		}
		vals_release(&kids);
		if (ret)
			return ret;
	}
	return 0;
}

static int walk(struct exec *x, const struct vals *in, const struct jp_node *node,
		struct vals *out)
{
	switch (node->kind) {
	case JP_LIST:
		return eval_list(x, in, node, out);
	case JP_TEXT:
		return vals_push(out, json_stringn_nocheck(node->text, node->len));
	case JP_FIELD:
		return eval_field(x, in, node, out);
	case JP_ARRAY:
		return eval_array(x, in, node, out);
	case JP_FILTER:
		return eval_filter(x, in, node, out);
	case JP_INT: case JP_FLOAT: case JP_BOOL:
		for (size_t i = 0; i < in->n; i++) {
			json_t *v = node->kind == JP_INT ? json_integer(node->i) :
				    node->kind == JP_FLOAT ? json_real(node->f) : json_boolean(node->b);

			if (!v || vals_push(out, v))
				return -ENOMEM;
		}
		return 0;
	case JP_WILDCARD:
		for (size_t i = 0; i < in->n; i++)
			if (in->v[i] && children(in->v[i], out))
				return -ENOMEM;
		return 0;
	case JP_RECURSIVE:
		return eval_recursive(x, in, out);
	case JP_UNION:
		for (size_t i = 0; i < node->n; i++) {
			struct vals part = { 0 };
			int ret = eval_list(x, in, node->nodes[i], &part);

			for (size_t k = 0; !ret && k < part.n; k++) {
				ret = vals_push(out, part.v[k]);
				part.v[k] = NULL;
			}
			vals_release(&part);
			if (ret)
				return ret;
		}
		return 0;
	case JP_IDENT:
		if (!strcmp(node->text, "range")) {
			x->begin_range++;
			for (size_t i = 0; i < in->n; i++)
				if (vals_push(out, json_incref(in->v[i])))
					return -ENOMEM;
			return 0;
		}
		if (!strcmp(node->text, "end")) {
			if (x->in_range <= 0)
				return xerr(x, "not in range, nothing to end");
			x->end_range++;
			return 0;
		}
		return xerr(x, "unrecognized identifier %s", node->text);
	}
	return xerr(x, "unexpected node");
}

/* Each result group (one per text or action) as a JSON array, appended to
 * groups.  client-go's FindResults, its range bookkeeping included. */
static int find_results(struct exec *x, json_t *data, size_t start, json_t *groups)
{
	const struct jp_node *root = x->jp->root;
	struct vals cur = { 0 };
	int ret = vals_push(&cur, json_incref(data));

	for (size_t i = start; i < root->n && !ret; i++) {
		struct vals results = { 0 };

		if ((ret = walk(x, &cur, root->nodes[i], &results))) {
			vals_release(&results);
			break;
		}
		if (x->end_range > 0 && x->end_range <= x->in_range) {
			x->end_range--;
			x->last_end = i;
			x->has_last_end = true;
			vals_release(&results);
			break;
		}
		if (x->begin_range > 0) {
			x->begin_range--;
			x->in_range++;
			if (results.n) {
				for (size_t k = 0; k < results.n && !ret; k++)
					ret = find_results(x, results.v[k], i + 1, groups);
			} else {
				/* still walk the body, to find its {end} */
				json_t *discard = json_array();

				ret = discard ? find_results(x, NULL, i + 1, discard) : -ENOMEM;
				json_decref(discard);
			}
			x->in_range--;
			for (size_t k = i + 1; k < root->n; k++) {
				if (x->has_last_end && k == x->last_end) {
					i = k;
					break;
				}
			}
			vals_release(&results);
			continue;
		}
		json_t *group = json_array();

		for (size_t k = 0; group && k < results.n; k++)
			if (json_array_append(group, results.v[k] ? results.v[k] : json_null()))
				json_decref(group), group = NULL;
		if (!group || json_array_append_new(groups, group))
			ret = -ENOMEM;
		vals_release(&results);
	}
	vals_release(&cur);
	return ret;
}

int jsonpath_find(const struct jsonpath *jp, const json_t *obj, json_t **groups, char *err,
		  size_t errlen)
{
	struct exec x = { .jp = jp, .err = err, .errlen = errlen };
	json_t *g = json_array();
	int ret;

	if (!g)
		return -ENOMEM;
	ret = find_results(&x, (json_t *)obj, 0, g);
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		json_decref(g);
		return ret;
	}
	*groups = g;
	return 0;
}

/* --- output: Go's fmt and encoding/json ------------------------------------------ */

/* The shortest digits that read back as d, and the decimal exponent:
 * d = 0.DIGITS * 10^exp10. */
static void shortest(double d, char *digits, size_t len, int *exp10)
{
	char buf[40];

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	/* buf: [-]D.DDDDe[+-]XX */
	char *p = buf + (buf[0] == '-'), *e = strchr(p, 'e');
	size_t n = 0;

	for (char *q = p; q < e && n + 1 < len; q++)
		if (*q != '.')
			digits[n++] = *q;
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
	*exp10 = atoi(e + 1) + 1;
}

/* Go's strconv.FormatFloat(d, fmt, -1, 64) for fmt 'e' or 'f'. */
static void go_float_fmt(FILE *f, double d, char fmt)
{
	char digits[32];
	int exp10;
	size_t n;

	if (d == 0) {
		fputs(signbit(d) ? (fmt == 'e' ? "-0e+00" : "-0") : (fmt == 'e' ? "0e+00" : "0"), f);
		return;
	}
	if (d < 0)
		fputc('-', f);
	shortest(fabs(d), digits, sizeof(digits), &exp10);
	n = strlen(digits);
	if (fmt == 'e') {
		int e = exp10 - 1;

		fputc(digits[0], f);
		if (n > 1)
			fprintf(f, ".%s", digits + 1);
		fprintf(f, "e%c%02d", e < 0 ? '-' : '+', abs(e));
		return;
	}
	if (exp10 <= 0) {
		fputs("0.", f);
		for (int i = 0; i < -exp10; i++)
			fputc('0', f);
		fputs(digits, f);
		return;
	}
	for (int i = 0; i < exp10; i++)
		fputc((size_t)i < n ? digits[i] : '0', f);
	if ((size_t)exp10 < n)
		fprintf(f, ".%s", digits + exp10);
}

/* fmt.Print of a float64 (%v, strconv's shortest 'g'): %e below 1e-4 and
 * from 1e6 on ("1e+06", "1.5e-05"). */
static void go_float_v(FILE *f, double d)
{
	char digits[32];
	int exp10 = 0;

	if (d != 0)
		shortest(fabs(d), digits, sizeof(digits), &exp10);
	go_float_fmt(f, d, d != 0 && (exp10 - 1 < -4 || exp10 - 1 >= 6) ? 'e' : 'f');
}

/* encoding/json's float64: %e below 1e-6 and from 1e21 on, "e-07" as "e-7". */
static void go_float_json(FILE *f, double d)
{
	double a = fabs(d);

	if (a != 0 && (a < 1e-6 || a >= 1e21)) {
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);

		if (!m)
			return;
		go_float_fmt(m, d, 'e');
		fclose(m);
		if (len >= 4 && buf[len - 4] == 'e' && buf[len - 3] == '-' && buf[len - 2] == '0') {
			buf[len - 2] = buf[len - 1];
			buf[--len] = '\0';
		}
		fwrite(buf, 1, len, f);
		free(buf);
		return;
	}
	go_float_fmt(f, d, 'f');
}

/* Length of the valid UTF-8 sequence at s (of n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned long v;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, v = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, v = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, v = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3F);
	}
	if ((len == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
	    (len == 4 && (v < 0x10000 || v > 0x10FFFF)))
		return 0;
	return len;
}

static void go_json_string(FILE *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t l;

		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			fprintf(f, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc(c, f);
		} else if (!(l = utf8_len(s + i, n - i))) {
			fputs("\\ufffd", f);
		} else {
			/* U+2028 and U+2029 escaped, as Go does for JavaScript */
			if (l == 3 && c == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
				fprintf(f, "\\u202%c", s[i + 2] == 0xA8 ? '8' : '9');
			else
				fwrite(s + i, 1, l, f);
			i += l;
			continue;
		}
		i++;
	}
	fputc('"', f);
}

/* json.Marshal (indent NULL) or json.MarshalIndent(v, "", indent). */
static int go_json(FILE *f, const json_t *v, const char *indent, int depth)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		const char **keys = malloc((n ? n : 1) * sizeof(*keys));
		const char *k;
		json_t *x;

		if (!keys)
			return -ENOMEM;
		json_object_foreach((json_t *)v, k, x)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), cmp_keys);
		fputc('{', f);
		for (i = 0; i < n; i++) {
			if (i)
				fputc(',', f);
			if (indent)
				fprintf(f, "\n%*s", (depth + 1) * (int)strlen(indent), "");
			go_json_string(f, keys[i], strlen(keys[i]));
			fputs(indent ? ": " : ":", f);
			if (go_json(f, json_object_get(v, keys[i]), indent, depth + 1)) {
				free(keys);
				return -ENOMEM;
			}
		}
		if (indent && n)
			fprintf(f, "\n%*s", depth * (int)strlen(indent), "");
		fputc('}', f);
		free(keys);
		return 0;
	}
	case JSON_ARRAY:
		fputc('[', f);
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				fputc(',', f);
			if (indent)
				fprintf(f, "\n%*s", (depth + 1) * (int)strlen(indent), "");
			if (go_json(f, json_array_get(v, i), indent, depth + 1))
				return -ENOMEM;
		}
		if (indent && json_array_size(v))
			fprintf(f, "\n%*s", depth * (int)strlen(indent), "");
		fputc(']', f);
		return 0;
	case JSON_STRING:
		go_json_string(f, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		fprintf(f, "%lld", (long long)json_integer_value(v));
		return 0;
	case JSON_REAL:
		go_float_json(f, json_real_value(v));
		return 0;
	case JSON_TRUE:
		fputs("true", f);
		return 0;
	case JSON_FALSE:
		fputs("false", f);
		return 0;
	default:
		fputs("null", f);
		return 0;
	}
}

/* fmt.Print of a value: strings raw, numbers and booleans as Go prints
 * them, null as <nil>; with as_go_v, maps and arrays as %v does
 * (map[k:v] and [a b], for custom-columns), else as JSON. */
static int print_value(FILE *f, const json_t *v, bool as_go_v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		fwrite(json_string_value(v), 1, json_string_length(v), f);
		return 0;
	case JSON_INTEGER:
		fprintf(f, "%lld", (long long)json_integer_value(v));
		return 0;
	case JSON_REAL:
		go_float_v(f, json_real_value(v));
		return 0;
	case JSON_TRUE:
		fputs("true", f);
		return 0;
	case JSON_FALSE:
		fputs("false", f);
		return 0;
	case JSON_NULL:
		fputs("<nil>", f);
		return 0;
	case JSON_OBJECT:
		if (as_go_v) {
			size_t n = json_object_size(v), i = 0;
			const char **keys = malloc((n ? n : 1) * sizeof(*keys));
			const char *k;
			json_t *x;

			if (!keys)
				return -ENOMEM;
			json_object_foreach((json_t *)v, k, x)
				keys[i++] = k;
			qsort(keys, n, sizeof(*keys), cmp_keys);
			fputs("map[", f);
			for (i = 0; i < n; i++) {
				fprintf(f, "%s%s:", i ? " " : "", keys[i]);
				print_value(f, json_object_get(v, keys[i]), true);
			}
			fputc(']', f);
			free(keys);
			return 0;
		}
		return go_json(f, v, NULL, 0);
	case JSON_ARRAY:
		if (as_go_v) {
			fputc('[', f);
			for (size_t i = 0; i < json_array_size(v); i++) {
				if (i)
					fputc(' ', f);
				print_value(f, json_array_get(v, i), true);
			}
			fputc(']', f);
			return 0;
		}
		return go_json(f, v, NULL, 0);
	}
	return 0;
}

int jsonpath_value_print(FILE *f, const json_t *v, bool as_go_v)
{
	return print_value(f, v, as_go_v);
}

int jsonpath_exec(const struct jsonpath *jp, const json_t *obj, FILE *out, bool as_json,
		  char *err, size_t errlen)
{
	char *buf = NULL, msg[256];
	size_t len = 0;
	json_t *groups = NULL;
	FILE *m;
	int ret = jsonpath_find(jp, obj, &groups, msg, sizeof(msg));

	if (ret) {
		snprintf(err, errlen, "error executing jsonpath \"%s\": %s", jp->tmpl, msg);
		return ret;
	}
	m = open_memstream(&buf, &len);
	if (!m) {
		json_decref(groups);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t g = 0; g < json_array_size(groups) && !ret; g++) {
		const json_t *group = json_array_get(groups, g);

		if (as_json) { /* kubectl -o jsonpath-as-json: each group an indented array */
			ret = go_json(m, group, "    ", 0);
			fputc('\n', m);
			continue;
		}
		for (size_t i = 0; i < json_array_size(group) && !ret; i++) {
			if (i)
				fputc(' ', m);
			ret = print_value(m, json_array_get(group, i), false);
		}
	}
	json_decref(groups);
	if (fclose(m) || ret) {
		free(buf);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (len && fwrite(buf, 1, len, out) != len)
		ret = -EIO;
	free(buf);
	if (ret)
		snprintf(err, errlen, "cannot write the output");
	return ret;
}

int jsonpath_print(const json_t *obj, const char *tmpl, char *err, size_t errlen)
{
	struct jsonpath *jp = NULL;
	int ret = jsonpath_parse(&jp, tmpl, err, errlen);

	if (ret)
		return ret;
	ret = jsonpath_exec(jp, obj, stdout, false, err, errlen);
	jsonpath_free(jp);
	return ret;
}

int jsonpath_relaxed(char **out, const char *expr, char *err, size_t errlen)
{
	size_t n = strlen(expr);
	const char *s = expr;
	char *r;

	/* kubectl's RelaxedJSONPathExpression: ^\{\.?([^{}]+)\}$ or ^\.?([^{}]+)$ */
	if (n == 0) {
		*out = strdup("");
		return *out ? 0 : -ENOMEM;
	}
	if (s[0] == '{' && s[n - 1] == '}' && n >= 2) {
		s++;
		n -= 2;
	}
	if (n > 1 && s[0] == '.') { /* "." alone is the field spec "." */
		s++;
		n--;
	}
	if (n == 0 || memchr(s, '{', n) || memchr(s, '}', n)) {
		snprintf(err, errlen, "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'");
		return -EINVAL;
	}
	r = malloc(n + 4);
	if (!r)
		return -ENOMEM;
	sprintf(r, "{.%.*s}", (int)n, s);
	*out = r;
	return 0;
}
