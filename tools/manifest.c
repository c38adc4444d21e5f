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

#include "ctl.h"

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
	char *key; /* a mapping's pending key */
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
		return fail(b->err, b->errlen, "line %zu: out of memory", line);
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
		if (!json_is_string(v)) {
			json_decref(v);
			return fail(b->err, b->errlen, "line %zu: a mapping key must be a string", line);
		}
		top->key = strdup(json_string_value(v));
		json_decref(v);
		return top->key ? 0 : -ENOMEM;
	}
	json_object_set_new(top->node, top->key, v);
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
	b->stack[b->depth++] = (struct frame){ v, NULL };
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
		return fail(err, errlen, "out of memory");
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
			json_t *node = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
						(!tag || strcmp(tag, YAML_STR_TAG) != 0) ?
					       yaml_plain_scalar(v) : json_string(v);

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
				return fail(err, errlen, "out of memory");
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

int manifest_parse(const unsigned char *buf, size_t len, const char *path, json_t *docs,
		   char *err, size_t errlen)
{
	size_t i = 0;
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
					       JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &jerr);

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
			return 0;
		}
		json_decref(json);
	}
	{
		char msg[STORE_ERRMSG_MAX];

		ret = yaml_docs(buf, len, docs, msg, sizeof(msg));
		if (ret)
			fail(err, errlen, "%s: %s", path, msg);
	}
	return ret;
}

/* --- objects to secrets ---------------------------------------------------- */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int string_map(const json_t *m, const char *what, const char *name,
		      int (*set)(struct store_secret *, const char *, const char *),
		      struct store_secret *s, char *err, size_t errlen)
{
	const char *k, **keys;
	size_t n = 0;
	json_t *v;
	int ret = 0;

	if (!m || json_is_null(m))
		return 0;
	if (!json_is_object(m))
		return fail(err, errlen, "Secret \"%s\" is invalid: %s: Invalid value: must be a map of strings",
			    name, what);
	/* in key order: the secret keeps them sorted, and appending in order
	 * is what keeps 200,000 labels linear */
	keys = malloc((json_object_size(m) + 1) * sizeof(*keys));
	if (!keys)
		return fail(err, errlen, "out of memory");
	json_object_foreach((json_t *)m, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), str_cmp);
	for (size_t i = 0; i < n && !ret; i++) {
		v = json_object_get(m, keys[i]);
		if (!json_is_string(v))
			ret = fail(err, errlen, "Secret \"%s\" is invalid: %s[%s]: Invalid value: must be a string",
				   name, what, keys[i]);
		else if (set(s, keys[i], json_string_value(v)))
			ret = fail(err, errlen, "out of memory");
	}
	free(keys);
	return ret;
}

int manifest_secret(const json_t *obj, const char *ns, bool ns_given,
		    struct store_secret **out, char *err, size_t errlen)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const json_t *data = json_object_get(obj, "data");
	const json_t *sdata = json_object_get(obj, "stringData");
	const json_t *type = json_object_get(obj, "type");
	const json_t *imm = json_object_get(obj, "immutable");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *mns = json_string_value(json_object_get(meta, "namespace"));
	struct store_secret *s;
	const char *k;
	json_t *v;
	int ret = 0;

	if (!json_is_object(meta) || !name || !*name)
		return fail(err, errlen, "a Secret has no metadata.name: resource name may not be empty");
	if (mns && ns_given && strcmp(mns, ns) != 0)
		return fail(err, errlen,
			    "the namespace from the provided object \"%s\" does not match the namespace \"%s\". You must pass '--namespace=%s' to perform this operation.",
			    mns, ns, mns);
	if (type && !json_is_string(type))
		return fail(err, errlen, "Secret \"%s\" is invalid: type: Invalid value: must be a string", name);
	if (imm && !json_is_boolean(imm) && !json_is_null(imm))
		return fail(err, errlen, "Secret \"%s\" is invalid: immutable: Invalid value: must be true or false", name);
	s = store_secret_new(mns ? mns : ns, name, type ? json_string_value(type) : "");
	if (!s)
		return fail(err, errlen, "out of memory");
	s->immutable = json_is_true(imm);
	{
		/* the version it was read at, as kubectl's: a precondition */
		const json_t *rv = json_object_get(meta, "resourceVersion");
		const char *t = json_string_value(rv);
		char *end = NULL;

		if (t && *t)
			s->revision = strtoll(t, &end, 10);
		if ((rv && !json_is_null(rv) && !t) || (t && *t && (*end || s->revision <= 0))) {
			ret = fail(err, errlen,
				   "Secret \"%s\" is invalid: metadata.resourceVersion: Invalid value: must be a positive decimal number in a string",
				   name);
			goto out;
		}
	}
	if ((ret = string_map(json_object_get(meta, "labels"), "metadata.labels", name,
			      store_secret_set_label, s, err, errlen)) ||
	    (ret = string_map(json_object_get(meta, "annotations"), "metadata.annotations", name,
			      store_secret_set_annotation, s, err, errlen)))
		goto out;
	if (data && !json_is_null(data) && !json_is_object(data)) {
		ret = fail(err, errlen, "Secret \"%s\" is invalid: data: Invalid value: must be a map", name);
		goto out;
	}
	if (sdata && !json_is_null(sdata) && !json_is_object(sdata)) {
		ret = fail(err, errlen, "Secret \"%s\" is invalid: stringData: Invalid value: must be a map", name);
		goto out;
	}
	/* stringData first: it wins over data on a shared key */
	json_object_foreach((json_t *)sdata, k, v) {
		if (!json_is_string(v)) {
			ret = fail(err, errlen, "Secret \"%s\" is invalid: stringData[%s]: Invalid value: must be a string",
				   name, k);
			goto out;
		}
		if (store_secret_add_item(s, k, json_string_value(v), json_string_length(v))) {
			ret = fail(err, errlen, "out of memory");
			goto out;
		}
	}
	json_object_foreach((json_t *)data, k, v) {
		const char *b64 = json_is_string(v) ? json_string_value(v) : "";
		size_t b64len = json_is_string(v) ? json_string_length(v) : 0, n;
		unsigned char *bin;

		if (!json_is_string(v) && !json_is_null(v)) {
			ret = fail(err, errlen, "Secret \"%s\" is invalid: data[%s]: Invalid value: must be a base64 string",
				   name, k);
			goto out;
		}
		bin = sodium_malloc(b64len + 1);
		if (!bin) {
			ret = fail(err, errlen, "out of memory");
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
			ret = fail(err, errlen, "out of memory");
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
