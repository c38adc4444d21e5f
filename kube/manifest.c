/*
 * manifest.c - reading Kubernetes manifests: YAML through libyaml (block and
 * flow style, comments, quoted keys, anchors and aliases, several documents
 * separated by ---) and JSON through jansson, into jansson values; and
 * turning a Secret object into a store_secret.
 *
 * YAML scalars resolve as Kubernetes' YAML reader resolves them (YAML 1.1:
 * null and ~, true/false/yes/no/on/off, integers, floats; quoted scalars are
 * strings).  Input is bounded: nesting deeper than MAX_DEPTH or more than
 * MAX_NODES values is refused rather than followed.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <yaml.h>

#include "kube/kube.h"

#define MAX_DEPTH 256
#define MAX_NODES 4000000
#define MANIFEST_MAX (256u << 20) /* 256 MiB of manifests */

static int fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The same for running out of memory: -ENOMEM, not a bad manifest. */
#define nomem(err, len, ...) (fail((err), (len), __VA_ARGS__), -ENOMEM)

/* What Go's JSON decoder calls a value that is not the string it wanted. */
static const char *json_kind(const json_t *v)
{
	return json_is_number(v) ? "number" : json_is_boolean(v) ? "bool" :
	       json_is_array(v) ? "array" : json_is_object(v) ? "object" : "null";
}

/* A store_quote() string without its quotes, for a field path: data[a\x00b]. */
static const char *bare(char *q)
{
	q[strlen(q) - 1] = '\0';
	return q + 1;
}

/* --- YAML ------------------------------------------------------------------ */

static bool word_in(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

json_t *yaml_plain_scalar(const char *s)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
					     "on", "On", "ON", "y", "Y", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", "no", "No", "NO",
					      "off", "Off", "OFF", "n", "N", NULL };
	char *end;

	if (word_in(s, nulls))
		return json_null();
	if (word_in(s, trues))
		return json_true();
	if (word_in(s, falses))
		return json_false();
	if (*s && (isdigit((unsigned char)*s) || ((*s == '-' || *s == '+') && isdigit((unsigned char)s[1])))) {
		long long n;
		double d;

		errno = 0;
		n = strtoll(s, &end, 0);
		if (!*end && !errno)
			return json_integer(n);
		d = strtod(s, &end);
		if (!*end && !errno)
			return json_real(d);
	}
	return json_string(s);
}

struct frame {
	json_t *node;
	char *key; /* a mapping's pending key (it may hold NUL bytes) */
	size_t keylen;
};

struct builder {
	struct frame stack[MAX_DEPTH];
	int depth;
	json_t *root;
	struct { char *name; json_t *node; } *anchors;
	size_t nanchors;
	size_t nodes;
	char *err;
	size_t errlen;
};

static int anchor_add(struct builder *b, const yaml_char_t *name, json_t *node)
{
	void *v;

	if (!name)
		return 0;
	v = realloc(b->anchors, (b->nanchors + 1) * sizeof(*b->anchors));
	if (!v)
		return -ENOMEM;
	b->anchors = v;
	b->anchors[b->nanchors].name = strdup((const char *)name);
	b->anchors[b->nanchors].node = json_incref(node);
	b->nanchors++;
	return 0;
}

/* Place a value (a new reference, stolen) where the stack says. */
static int place(struct builder *b, json_t *v, size_t line)
{
	struct frame *top;

	if (!v)
		return nomem(b->err, b->errlen, "line %zu: out of memory", line);
	if (++b->nodes > MAX_NODES) {
		json_decref(v);
		return fail(b->err, b->errlen, "line %zu: more than %d values: refusing the manifest",
			    line, MAX_NODES);
	}
	if (b->depth == 0) {
		b->root = v;
		return 0;
	}
	top = &b->stack[b->depth - 1];
	if (json_is_array(top->node))
		return json_array_append_new(top->node, v) ? -ENOMEM : 0;
	if (!top->key) {
		size_t n;

		if (!json_is_string(v)) {
			json_decref(v);
			return fail(b->err, b->errlen, "line %zu: a mapping key must be a string", line);
		}
		/* as kubectl's YAML reader: a key given twice is an error,
		 * not "the last one wins" (a second password: would hide the
		 * first from a reviewer) */
		n = json_string_length(v);
		if (json_object_getn(top->node, json_string_value(v), n)) {
			char q[96];

			store_quote(q, sizeof(q), json_string_value(v), n);
			json_decref(v);
			return fail(b->err, b->errlen, "line %zu: key %s already set in map", line, q);
		}
		top->key = malloc(n + 1);
		if (top->key) {
			memcpy(top->key, json_string_value(v), n + 1);
			top->keylen = n;
		}
		json_decref(v);
		return top->key ? 0 : -ENOMEM;
	}
	if (json_object_setn_new(top->node, top->key, top->keylen, v))
		return -ENOMEM;
	free(top->key);
	top->key = NULL;
	return 0;
}

static int push(struct builder *b, json_t *v, const yaml_char_t *anchor, size_t line)
{
	int err;

	if (b->depth == MAX_DEPTH) {
		json_decref(v);
		return fail(b->err, b->errlen, "line %zu: nesting deeper than %d: refusing the manifest",
			    line, MAX_DEPTH);
	}
	json_incref(v);
	if ((err = place(b, v, line)) || (err = anchor_add(b, anchor, v))) {
		json_decref(v);
		return err;
	}
	b->stack[b->depth++] = (struct frame){ v, NULL, 0 };
	return 0;
}

static void builder_reset(struct builder *b)
{
	while (b->depth > 0) {
		b->depth--;
		json_decref(b->stack[b->depth].node);
		free(b->stack[b->depth].key);
	}
	for (size_t i = 0; i < b->nanchors; i++) {
		free(b->anchors[i].name);
		json_decref(b->anchors[i].node);
	}
	free(b->anchors);
	b->anchors = NULL;
	b->nanchors = 0;
	json_decref(b->root);
	b->root = NULL;
}

/* Parse every YAML document in buf into docs (an array). */
static int yaml_docs(const unsigned char *buf, size_t len, json_t *docs, char *err,
		     size_t errlen)
{
	struct builder b = { .err = err, .errlen = errlen };
	yaml_parser_t p;
	yaml_event_t ev;
	int ret = 0;
	bool done = false;

	if (!yaml_parser_initialize(&p))
		return nomem(err, errlen, "out of memory");
	yaml_parser_set_input_string(&p, buf, len);
	while (!done && !ret) {
		size_t line;

		if (!yaml_parser_parse(&p, &ev)) {
			ret = fail(err, errlen, "line %zu: %s%s%s", p.problem_mark.line + 1,
				   p.problem ? p.problem : "invalid YAML",
				   p.context ? " " : "", p.context ? p.context : "");
			break;
		}
		line = ev.start_mark.line + 1;
		switch (ev.type) {
		case YAML_SCALAR_EVENT: {
			const char *v = (const char *)ev.data.scalar.value;
			const char *tag = (const char *)ev.data.scalar.tag;
			/* with its length: a quoted scalar may hold "\0", which
			 * must neither cut a value nor hide a name's tail */
			json_t *node = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
						(!tag || strcmp(tag, YAML_STR_TAG) != 0) ?
					       yaml_plain_scalar(v) :
					       json_stringn(v, ev.data.scalar.length);

			if (node && (ret = anchor_add(&b, ev.data.scalar.anchor, node)) == 0)
				ret = place(&b, node, line);
			else if (node)
				json_decref(node);
			break;
		}
		case YAML_SEQUENCE_START_EVENT:
			ret = push(&b, json_array(), ev.data.sequence_start.anchor, line);
			break;
		case YAML_MAPPING_START_EVENT:
			ret = push(&b, json_object(), ev.data.mapping_start.anchor, line);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			b.depth--;
			json_decref(b.stack[b.depth].node);
			free(b.stack[b.depth].key);
			break;
		case YAML_ALIAS_EVENT: {
			size_t i;

			for (i = b.nanchors; i > 0; i--)
				if (!strcmp(b.anchors[i - 1].name, (const char *)ev.data.alias.anchor))
					break;
			if (i == 0) {
				ret = fail(err, errlen, "line %zu: unknown alias *%s", line,
					   ev.data.alias.anchor);
				break;
			}
			for (int d = 0; d < b.depth; d++)
				if (b.stack[d].node == b.anchors[i - 1].node)
					ret = fail(err, errlen, "line %zu: alias *%s refers to itself",
						   line, ev.data.alias.anchor);
			if (!ret)
				ret = place(&b, json_incref(b.anchors[i - 1].node), line);
			break;
		}
		case YAML_DOCUMENT_END_EVENT:
			if (b.root && !json_is_null(b.root))
				json_array_append(docs, b.root);
			builder_reset(&b);
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	builder_reset(&b);
	yaml_parser_delete(&p);
	return ret;
}

/* --- reading ------------------------------------------------------------- */

/* Read a file (or "-": stdin) whole into sodium memory: manifests hold
 * values. */
static int slurp(const char *path, unsigned char **out, size_t *len, char *err,
		 size_t errlen)
{
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = sodium_malloc(cap + 1), *nb;
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf) {
		int e = errno ? errno : ENOMEM;

		if (buf)
			sodium_free(buf);
		if (fd > 0)
			close(fd);
		fail(err, errlen, "cannot read '%s': %s", path, strerror(e));
		return -e;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= MANIFEST_MAX) {
				sodium_free(buf);
				if (fd > 0)
					close(fd);
				return fail(err, errlen, "'%s' is larger than %u MiB", path,
					    MANIFEST_MAX >> 20);
			}
			nb = sodium_malloc(cap * 2 + 1);
			if (!nb) {
				sodium_free(buf);
				if (fd > 0)
					close(fd);
				return nomem(err, errlen, "out of memory");
			}
			memcpy(nb, buf, n);
			sodium_free(buf);
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			sodium_free(buf);
			if (fd > 0)
				close(fd);
			return fail(err, errlen, "cannot read '%s': %s", path, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (fd > 0)
		close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int read_whole(const char *path, unsigned char **out, size_t *len, char *err, size_t errlen)
{
	return slurp(path, out, len, err, errlen);
}

int manifest_load(const char *path, json_t *docs, char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int ret;

	if ((ret = slurp(path, &buf, &len, err, errlen)))
		return ret;
	ret = manifest_parse(buf, len, path, docs, err, errlen);
	sodium_free(buf);
	return ret;
}

bool manifest_kind_is(const json_t *doc, const char *kind)
{
	const json_t *k = json_object_get(doc, "kind");

	return json_is_string(k) && json_string_length(k) == strlen(kind) &&
	       strcmp(json_string_value(k), kind) == 0;
}

/*
 * kubectl maps each object to a resource by apiVersion and kind before it
 * sends anything: a Secret (or a List) without apiVersion, or in any version
 * but v1, is refused with kubectl's words, and the file with it.
 */
static int version_check(const json_t *doc, const char *path, char *err, size_t errlen)
{
	const json_t *meta = json_object_get(doc, "metadata"), *v = json_object_get(doc, "apiVersion");
	const json_t *name = json_object_get(meta, "name"), *ns = json_object_get(meta, "namespace");
	const json_t *kind = json_object_get(doc, "kind");
	char qv[96], qn[96], qns[96], qk[96];
	bool list = manifest_kind_is(doc, "List");

	if (json_is_string(kind) && strlen(json_string_value(kind)) != json_string_length(kind)) {
		/* "Secret\0" must not pass for a Secret, nor be skipped as
		 * another kind under its head's name */
		store_quote(qk, sizeof(qk), json_string_value(kind), json_string_length(kind));
		return fail(err, errlen, "%s: no matches for kind %s", path, qk);
	}
	if (!list && !manifest_kind_is(doc, "Secret"))
		return 0;
	if (!v || json_is_null(v))
		return fail(err, errlen,
			    "error validating \"%s\": error validating data: apiVersion not set", path);
	if (json_is_string(v) && json_string_length(v) == 2 && strcmp(json_string_value(v), "v1") == 0)
		return 0;
	if (!json_is_string(v))
		return fail(err, errlen,
			    "error validating \"%s\": error validating data: apiVersion must be a string (json: cannot unmarshal %s into Go struct field TypeMeta.apiVersion of type string)",
			    path, json_kind(v));
	store_quote(qv, sizeof(qv), json_string_value(v), json_string_length(v));
	store_quote(qn, sizeof(qn), json_is_string(name) ? json_string_value(name) : "",
	       json_is_string(name) ? json_string_length(name) : 0);
	store_quote(qns, sizeof(qns), json_is_string(ns) ? json_string_value(ns) : "",
	       json_is_string(ns) ? json_string_length(ns) : 0);
	return fail(err, errlen,
		    "resource mapping not found for name: %s namespace: %s from \"%s\": no matches for kind \"%s\" in version %s\nensure CRDs are installed first",
		    qn, qns, path, list ? "List" : "Secret", qv);
}

/* version_check() on docs from index i on, and on the items of their Lists. */
static int versions_check(const json_t *docs, size_t i, const char *path, char *err,
			  size_t errlen)
{
	int ret = 0;

	for (; !ret && i < json_array_size(docs); i++) {
		const json_t *doc = json_array_get(docs, i), *items = json_object_get(doc, "items");

		ret = version_check(doc, path, err, errlen);
		if (manifest_kind_is(doc, "List") && json_is_array(items))
			for (size_t j = 0; !ret && j < json_array_size(items); j++)
				ret = version_check(json_array_get(items, j), path, err, errlen);
	}
	return ret;
}

int manifest_parse(const unsigned char *buf, size_t len, const char *path, json_t *docs,
		   char *err, size_t errlen)
{
	size_t i = 0, first = json_array_size(docs);
	int ret = 0;

	while (i < len && isspace(buf[i]))
		i++;
	if (i < len && (buf[i] == '{' || buf[i] == '[')) {
		/* JSON: one value, or several one after another; YAML's flow
		 * style starts the same way, so on a JSON error try YAML */
		json_t *json = json_array();

		while (!ret && json && i < len) {
			json_error_t jerr;
			json_t *v = json_loadb((const char *)buf + i, len - i,
					       JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES |
						       JSON_ALLOW_NUL, &jerr);

			if (!v) {
				ret = -EINVAL;
				break;
			}
			json_array_append_new(json, v);
			i += jerr.position;
			while (i < len && isspace(buf[i]))
				i++;
		}
		if (!ret && json) {
			json_array_extend(docs, json);
			json_decref(json);
			return versions_check(docs, first, path, err, errlen);
		}
		json_decref(json);
	}
	{
		char msg[STORE_ERRMSG_MAX];

		ret = yaml_docs(buf, len, docs, msg, sizeof(msg));
		if (ret)
			fail(err, errlen, "%s: %s", path, msg);
	}
	return ret ? ret : versions_check(docs, first, path, err, errlen);
}

/* --- objects to secrets ---------------------------------------------------- */

/*
 * A name, key, label, annotation key, namespace or type that holds a NUL
 * byte: C strings (and the store's) would end at it, so "db\0evil" would
 * become "db".  The API server refuses each of these because NUL is in no
 * alphabet of its rules; check() gives the rule's reason by seeing the
 * string with each NUL as DEL, which no rule admits either.  0 when s has no
 * NUL; -EINVAL with the reason in why otherwise.
 */
static int nul_check(const char *s, size_t n, int (*check)(const char *, char *), char *why)
{
	char *copy;
	int ret;

	if (strlen(s) == n)
		return 0;
	if (!check) {
		snprintf(why, STORE_ERRMSG_MAX, "must not contain a NUL byte");
		return -EINVAL;
	}
	copy = malloc(n + 1);
	if (!copy) {
		snprintf(why, STORE_ERRMSG_MAX, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		copy[i] = s[i] ? s[i] : '\x7f';
	copy[n] = '\0';
	ret = check(copy, why);
	free(copy);
	assert(ret != 0);
	return ret ? ret : -EINVAL;
}

/* A string field of the object: NULL when absent or null; a non-string is
 * refused with Go's words, a NUL byte with the field's rule. */
static int string_field(const json_t *v, const char *secret, const char *field,
			const char *gofield, int (*check)(const char *, char *),
			const char **out, char *err, size_t errlen)
{
	char why[STORE_ERRMSG_MAX], q[96];

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return fail(err, errlen,
			    "%s%s%s is invalid: %s: Invalid value: must be a string (json: cannot unmarshal %s into Go struct field %s of type string)",
			    secret ? "Secret \"" : "a Secret", secret ? secret : "", secret ? "\"" : "",
			    field, json_kind(v), gofield);
	if (nul_check(json_string_value(v), json_string_length(v), check, why)) {
		store_quote(q, sizeof(q), json_string_value(v), json_string_length(v));
		/* a name with a NUL byte is shown whole, not as its head */
		return fail(err, errlen, "Secret %s%s%s is invalid: %s: Invalid value: %s: %s",
			    secret ? "\"" : "", secret ? secret : q, secret ? "\"" : "", field, q,
			    why);
	}
	*out = json_string_value(v);
	return 0;
}

/* Labels or annotations: a map of strings, no NUL byte in a key (or in a
 * label's value: the rule's reason; an annotation's value: the store keeps
 * annotations as text, so one with a NUL byte is refused, not cut). */
/* one member of a JSON object, its key with its length (it may hold NUL) */
struct member {
	const char *key;
	size_t len;
	json_t *value;
};

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int string_map(const json_t *m, const char *what, const char *gofield, const char *name,
		      int (*set)(struct store_secret *, const char *, const char *),
		      int (*check_value)(const char *, char *),
		      struct store_secret *s, char *err, size_t errlen)
{
	char why[STORE_ERRMSG_MAX], q[96];
	struct member *mem;
	const char *k;
	size_t klen, n = 0;
	json_t *v;
	int ret = 0;

	if (!m || json_is_null(m))
		return 0;
	if (!json_is_object(m))
		return fail(err, errlen, "Secret \"%s\" is invalid: %s: Invalid value: must be a map of strings",
			    name, what);
	/* in key order: the secret keeps them sorted, and appending in order
	 * is what keeps 200,000 labels linear */
	mem = malloc((json_object_size(m) + 1) * sizeof(*mem));
	if (!mem)
		return nomem(err, errlen, "secret \"%s\": out of memory", name);
	json_object_keylen_foreach((json_t *)m, k, klen, v)
		mem[n++] = (struct member){ k, klen, v };
	qsort(mem, n, sizeof(*mem), member_cmp);
	for (size_t i = 0; i < n && !ret; i++) {
		k = mem[i].key;
		klen = mem[i].len;
		v = mem[i].value;
		if (!json_is_string(v))
			ret = fail(err, errlen,
				   "Secret \"%s\" is invalid: %s[%s]: Invalid value: must be a string (json: cannot unmarshal %s into Go struct field %s of type string)",
				   name, what, bare(store_quote(q, sizeof(q), k, klen)), json_kind(v), gofield);
		else if (nul_check(k, klen, store_check_label_key, why))
			ret = fail(err, errlen, "Secret \"%s\" is invalid: %s: Invalid value: %s: %s",
				   name, what, store_quote(q, sizeof(q), k, klen), why);
		else if (!check_value && strlen(json_string_value(v)) != json_string_length(v))
			ret = fail(err, errlen,
				   "Secret \"%s\" is invalid: %s[%s]: Invalid value: must not contain a NUL byte (annotations are kept as text)",
				   name, what, k);
		else if (nul_check(json_string_value(v), json_string_length(v), check_value, why))
			ret = fail(err, errlen, "Secret \"%s\" is invalid: %s: Invalid value: %s: %s",
				   name, what,
				   store_quote(q, sizeof(q), json_string_value(v), json_string_length(v)), why);
		else if (set(s, k, json_string_value(v)))
			ret = nomem(err, errlen, "secret \"%s\": out of memory", name);
	}
	free(mem);
	return ret;
}

/* A data or stringData key holding a NUL byte, refused as the API server
 * refuses a key outside its alphabet. */
static int key_check(const char *name, const char *k, size_t klen, char *err, size_t errlen)
{
	char why[STORE_ERRMSG_MAX], q[96];

	if (!nul_check(k, klen, store_check_key, why))
		return 0;
	char key[96];

	store_quote(q, sizeof(q), k, klen);
	store_quote(key, sizeof(key), k, klen);
	return fail(err, errlen, "Secret \"%s\" is invalid: data[%s]: Invalid value: %s: %s", name,
		    bare(key), q, why);
}

/*
 * data and stringData before anything is allocated: maps, no key with a
 * NUL byte, and at most STORE_MAX_KEYS keys together (a key in both counts
 * once), so that a manifest of 100,000 keys is refused by its rule rather
 * than by running out of locked memory.
 */
static int secret_keys_check(const char *name, const json_t *data, const json_t *sdata,
			     char *err, size_t errlen)
{
	size_t nkeys = 0, klen;
	const char *k;
	json_t *v;
	int ret;

	if (data && !json_is_null(data) && !json_is_object(data))
		return fail(err, errlen, "Secret \"%s\" is invalid: data: Invalid value: must be a map", name);
	if (sdata && !json_is_null(sdata) && !json_is_object(sdata))
		return fail(err, errlen, "Secret \"%s\" is invalid: stringData: Invalid value: must be a map", name);
	json_object_keylen_foreach((json_t *)sdata, k, klen, v) {
		if ((ret = key_check(name, k, klen, err, errlen)))
			return ret;
		nkeys++;
	}
	json_object_keylen_foreach((json_t *)data, k, klen, v) {
		if ((ret = key_check(name, k, klen, err, errlen)))
			return ret;
		if (!json_object_getn(sdata, k, klen))
			nkeys++;
	}
	if (nkeys > STORE_MAX_KEYS)
		return fail(err, errlen, "Secret \"%s\" is invalid: data: Too many: %zu: must have at most %d keys",
			    name, nkeys, STORE_MAX_KEYS);
	return 0;
}

int manifest_secret(const json_t *obj, const char *ns, bool ns_given,
		    struct store_secret **out, char *err, size_t errlen)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const json_t *data = json_object_get(obj, "data");
	const json_t *sdata = json_object_get(obj, "stringData");
	const json_t *imm = json_object_get(obj, "immutable");
	const json_t *jname = json_object_get(meta, "name");
	const char *name = json_string_value(jname), *mns = NULL, *type = NULL;
	struct store_secret *s;
	const char *k;
	size_t klen;
	json_t *v;
	int ret = 0;

	if (!json_is_object(meta) || !jname || json_is_null(jname) || (name && !*name))
		return fail(err, errlen, "a Secret has no metadata.name: resource name may not be empty");
	if ((ret = string_field(jname, NULL, "metadata.name", "ObjectMeta.metadata.name",
				store_check_name, &name, err, errlen)) ||
	    (ret = string_field(json_object_get(meta, "namespace"), name, "metadata.namespace",
				"ObjectMeta.metadata.namespace", store_check_namespace, &mns, err,
				errlen)) ||
	    (ret = string_field(json_object_get(obj, "type"), name, "type", "Secret.type", NULL,
				&type, err, errlen)))
		return ret;
	if (mns && ns_given && strcmp(mns, ns) != 0)
		return fail(err, errlen,
			    "the namespace from the provided object \"%s\" does not match the namespace \"%s\". You must pass '--namespace=%s' to perform this operation.",
			    mns, ns, mns);
	if (imm && !json_is_boolean(imm) && !json_is_null(imm))
		return fail(err, errlen, "Secret \"%s\" is invalid: immutable: Invalid value: must be true or false", name);
	if ((ret = secret_keys_check(name, data, sdata, err, errlen)))
		return ret;
	s = store_secret_new(mns ? mns : ns, name, type ? type : "");
	if (!s)
		return nomem(err, errlen, "secret \"%s\": out of memory", name);
	s->immutable = json_is_true(imm);
	{
		/* the version it was read at, as kubectl's: a precondition */
		const json_t *rv = json_object_get(meta, "resourceVersion");
		const char *t = json_string_value(rv);
		char *end = NULL;

		if (t && *t)
			s->revision = strtoll(t, &end, 10);
		if ((rv && !json_is_null(rv) && !t) || (t && *t && (*end || s->revision <= 0)) ||
		    (t && strlen(t) != json_string_length(rv))) { /* "5\0x" is not 5 */
			ret = fail(err, errlen,
				   "Secret \"%s\" is invalid: metadata.resourceVersion: Invalid value: must be a positive decimal number in a string",
				   name);
			goto out;
		}
	}
	if ((ret = string_map(json_object_get(meta, "labels"), "metadata.labels",
			      "ObjectMeta.metadata.labels", name, store_secret_set_label,
			      store_check_label_value, s, err, errlen)) ||
	    (ret = string_map(json_object_get(meta, "annotations"), "metadata.annotations",
			      "ObjectMeta.metadata.annotations", name, store_secret_set_annotation,
			      NULL, s, err, errlen)))
		goto out;
	/* stringData first: it wins over data on a shared key */
	json_object_keylen_foreach((json_t *)sdata, k, klen, v) {
		char q[96];

		if (!json_is_string(v)) {
			ret = fail(err, errlen,
				   "Secret \"%s\" is invalid: stringData[%s]: Invalid value: must be a string (json: cannot unmarshal %s into Go struct field Secret.stringData of type string)",
				   name, bare(store_quote(q, sizeof(q), k, klen)), json_kind(v));
			goto out;
		}
		if (store_secret_add_item(s, k, json_string_value(v), json_string_length(v))) {
			ret = nomem(err, errlen, "secret \"%s\": out of memory", name);
			goto out;
		}
	}
	json_object_keylen_foreach((json_t *)data, k, klen, v) {
		const char *b64 = json_is_string(v) ? json_string_value(v) : "";
		size_t b64len = json_is_string(v) ? json_string_length(v) : 0, n;
		unsigned char *bin;
		char q[96];

		if (!json_is_string(v) && !json_is_null(v)) {
			ret = fail(err, errlen,
				   "Secret \"%s\" is invalid: data[%s]: Invalid value: must be a base64 string (json: cannot unmarshal %s into Go struct field Secret.data of type []uint8)",
				   name, bare(store_quote(q, sizeof(q), k, klen)), json_kind(v));
			goto out;
		}
		bin = sodium_malloc(b64len + 1);
		if (!bin) {
			ret = nomem(err, errlen, "secret \"%s\": out of memory", name);
			goto out;
		}
		/* strict: the standard alphabet with padding; line breaks are
		 * skipped, as Go's decoder skips them */
		if (sodium_base642bin(bin, b64len + 1, b64, b64len, "\r\n", &n, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0) {
			sodium_free(bin);
			ret = fail(err, errlen, "Secret \"%s\" is invalid: data[%s]: Invalid value: illegal base64 data",
				   name, k);
			goto out;
		}
		ret = store_secret_add_item(s, k, bin, n);
		sodium_free(bin);
		if (ret == -EEXIST)
			ret = 0; /* stringData has it */
		else if (ret) {
			ret = nomem(err, errlen, "secret \"%s\": out of memory", name);
			goto out;
		}
	}
out:
	if (ret) {
		store_secret_free(s);
		return ret;
	}
	*out = s;
	return 0;
}
