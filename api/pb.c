/*
 * pb.c - kubectl's protobuf request bodies as JSON (see pb.h for the contract).
 *
 * protobuf-c does the wire decoding, with the C that protoc-c makes from
 * api/k8s.proto; this file walks the unpacked message through its
 * descriptors and writes the JSON, so the field names are the .proto's (the
 * JSON names) and one table (pb_rules) holds where Go's encoding/json of a
 * Kubernetes type differs from the default "omit when empty".
 *
 * Invariants:
 *  - every allocation protobuf-c makes goes through pb_arena: counted
 *    against PB_ARENA_LIMIT and wiped when freed, so a value held in an
 *    unpacked buffer is wiped on every path, a failed unpack included;
 *  - nothing here logs, and no error message contains a value (paths and
 *    field numbers only);
 *  - unknown fields are refused, never dropped (pb_message).
 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <protobuf-c/protobuf-c.h>
#include <sodium.h>

#include "api/pb.h"
#include "k8s.pb-c.h"

/* What protobuf-c may allocate for one body: about 20 times the largest body
 * (a body of empty map entries costs that much in C structs), so a hostile
 * body is refused instead of growing the server. */
#define PB_ARENA_LIMIT ((size_t)64 * 1024 * 1024)

/* deepest field path k8s.proto allows is 6 (metadata.managedFields[i].fieldsV1) */
#define PB_DEPTH_MAX 16

static const unsigned char pb_magic[4] = { 'k', '8', 's', 0 };

/* ---- the allocator -------------------------------------------------------- */

struct pb_arena {
	size_t used;      /* bytes handed out and not yet freed, headers included */
	bool exhausted;   /* an allocation was refused: the failure is the bound */
};

/* each block starts with its size, so that free can wipe it */
union pb_block {
	size_t size;
	max_align_t align;
};

static void *pb_arena_alloc(void *data, size_t size)
{
	struct pb_arena *a = data;
	union pb_block *b;
	size_t total;

	if (size > PB_ARENA_LIMIT - sizeof(*b) || a->used > PB_ARENA_LIMIT - sizeof(*b) - size) {
		a->exhausted = true;
		return NULL;
	}
	total = sizeof(*b) + size;
	b = malloc(total);
	if (!b)
		return NULL;
	b->size = size;
	a->used += total;
	return b + 1;
}

static void pb_arena_free(void *data, void *p)
{
	struct pb_arena *a = data;
	union pb_block *b;

	if (!p)
		return;
	b = (union pb_block *)p - 1;
	assert(a->used >= sizeof(*b) + b->size);
	a->used -= sizeof(*b) + b->size;
	sodium_memzero(p, b->size);
	free(b);
}

/* ---- where Go's JSON differs from "omit when empty" ----------------------- */

enum pb_rule {
	PB_OMITEMPTY = 0, /* `json:",omitempty"` on a value: omitted when zero */
	PB_KEEP,          /* a pointer, or no omitempty: written whenever on the
	                   * wire (gogo writes every non-pointer field, a pointer
	                   * only when set); an empty list is null, as a nil slice */
	PB_BASE64,        /* map<string, []byte>: values base64 */
};

static const struct pb_rule_entry {
	const ProtobufCMessageDescriptor *msg;
	const char *field;
	enum pb_rule rule;
} pb_rules[] = {
	{ &k8s__secret__descriptor, "data", PB_BASE64 },
	{ &k8s__secret__descriptor, "immutable", PB_KEEP },
	{ &k8s__object_meta__descriptor, "deletionGracePeriodSeconds", PB_KEEP },
	{ &k8s__owner_reference__descriptor, "apiVersion", PB_KEEP },
	{ &k8s__owner_reference__descriptor, "kind", PB_KEEP },
	{ &k8s__owner_reference__descriptor, "name", PB_KEEP },
	{ &k8s__owner_reference__descriptor, "uid", PB_KEEP },
	{ &k8s__owner_reference__descriptor, "controller", PB_KEEP },
	{ &k8s__owner_reference__descriptor, "blockOwnerDeletion", PB_KEEP },
	{ &k8s__preconditions__descriptor, "uid", PB_KEEP },
	{ &k8s__preconditions__descriptor, "resourceVersion", PB_KEEP },
	{ &k8s__delete_options__descriptor, "gracePeriodSeconds", PB_KEEP },
	{ &k8s__delete_options__descriptor, "orphanDependents", PB_KEEP },
	{ &k8s__delete_options__descriptor, "propagationPolicy", PB_KEEP },
	{ &k8s__delete_options__descriptor, "ignoreStoreReadErrorWithClusterBreakingPotential", PB_KEEP },
	{ &k8s__label_selector_requirement__descriptor, "key", PB_KEEP },
	{ &k8s__label_selector_requirement__descriptor, "operator", PB_KEEP },
	{ &k8s__field_selector_requirement__descriptor, "key", PB_KEEP },
	{ &k8s__field_selector_requirement__descriptor, "operator", PB_KEEP },
	{ &k8s__namespace_condition__descriptor, "type", PB_KEEP },
	{ &k8s__namespace_condition__descriptor, "status", PB_KEEP },
	{ &k8s__subject_access_review_status__descriptor, "allowed", PB_KEEP },
	{ &k8s__subject_rules_review_status__descriptor, "resourceRules", PB_KEEP },
	{ &k8s__subject_rules_review_status__descriptor, "nonResourceRules", PB_KEEP },
	{ &k8s__subject_rules_review_status__descriptor, "incomplete", PB_KEEP },
	{ &k8s__resource_rule__descriptor, "verbs", PB_KEEP },
	{ &k8s__non_resource_rule__descriptor, "verbs", PB_KEEP },
	{ &k8s__policy_rule__descriptor, "verbs", PB_KEEP },
	{ &k8s__subject__descriptor, "kind", PB_KEEP },
	{ &k8s__subject__descriptor, "name", PB_KEEP },
	{ &k8s__role_ref__descriptor, "apiGroup", PB_KEEP },
	{ &k8s__role_ref__descriptor, "kind", PB_KEEP },
	{ &k8s__role_ref__descriptor, "name", PB_KEEP },
};

static enum pb_rule pb_rule_of(const ProtobufCMessageDescriptor *msg, const char *field)
{
	for (size_t i = 0; i < sizeof(pb_rules) / sizeof(pb_rules[0]); i++)
		if (pb_rules[i].msg == msg && strcmp(pb_rules[i].field, field) == 0)
			return pb_rules[i].rule;
	return PB_OMITEMPTY;
}

/* ---- the kinds decoded ---------------------------------------------------- */

static const struct pb_kind {
	const char *api_version;
	const char *kind;
	const ProtobufCMessageDescriptor *desc;
} pb_kinds[] = {
	{ "v1", "Secret", &k8s__secret__descriptor },
	{ "v1", "Namespace", &k8s__namespace__descriptor },
	{ "v1", "DeleteOptions", &k8s__delete_options__descriptor },
	{ "meta.k8s.io/v1", "DeleteOptions", &k8s__delete_options__descriptor },
	{ "authorization.k8s.io/v1", "SelfSubjectAccessReview", &k8s__self_subject_access_review__descriptor },
	{ "authorization.k8s.io/v1", "SelfSubjectRulesReview", &k8s__self_subject_rules_review__descriptor },
	{ "authentication.k8s.io/v1", "SelfSubjectReview", &k8s__self_subject_review__descriptor },
	{ "rbac.authorization.k8s.io/v1", "Role", &k8s__role__descriptor },
	{ "rbac.authorization.k8s.io/v1", "ClusterRole", &k8s__cluster_role__descriptor },
	{ "rbac.authorization.k8s.io/v1", "RoleBinding", &k8s__role_binding__descriptor },
	{ "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &k8s__cluster_role_binding__descriptor },
};

/* ---- the walk ------------------------------------------------------------- */

struct pb_walk {
	const char *kind;   /* the kind decoded, for error messages */
	char *err;
	size_t errlen;
	/* the field being written, for error messages: a field name, or an
	 * element's index when name is NULL; rendered only on failure */
	struct { const char *name; size_t index; } path[PB_DEPTH_MAX];
	size_t depth;
	char *scratch;          /* base64 of values: wiped before it is freed */
	size_t scratch_len;
};

static void pb_scratch_free(struct pb_walk *w)
{
	if (w->scratch) {
		sodium_memzero(w->scratch, w->scratch_len);
		free(w->scratch);
	}
	w->scratch = NULL;
	w->scratch_len = 0;
}

static void pb_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void pb_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* "what in \"metadata.labels\" of Secret", or "what in Secret" at the top */
static void pb_fail_at(struct pb_walk *w, const char *what)
{
	char path[256];
	size_t n = 0;

	path[0] = '\0';
	for (size_t i = 0; i < w->depth && n < sizeof(path); i++) {
		int k = w->path[i].name
			? snprintf(path + n, sizeof(path) - n, "%s%s", i ? "." : "", w->path[i].name)
			: snprintf(path + n, sizeof(path) - n, "[%zu]", w->path[i].index);

		if (k < 0)
			break;
		n += (size_t)k;
	}
	if (w->depth)
		pb_fail(w->err, w->errlen, "%s in \"%s\" of %s", what, path, w->kind);
	else
		pb_fail(w->err, w->errlen, "%s in %s", what, w->kind);
}

static void pb_path_push(struct pb_walk *w, const char *name, size_t index)
{
	assert(w->depth < PB_DEPTH_MAX);
	w->path[w->depth].name = name;
	w->path[w->depth].index = index;
	w->depth++;
}

static void pb_path_pop(struct pb_walk *w)
{
	assert(w->depth > 0);
	w->depth--;
}

/* a JSON string of exactly these bytes; NULL (err written) if not UTF-8 */
static json_t *pb_string(struct pb_walk *w, const ProtobufCBinaryData *b)
{
	json_t *s = json_stringn(b->len ? (const char *)b->data : "", b->len);

	if (!s)
		pb_fail_at(w, "invalid UTF-8");
	return s;
}

/* base64 of a value (Kubernetes' JSON for []byte), written in the walk's
 * scratch: one buffer per decode, grown as needed and wiped whenever it is
 * let go (a guarded sodium_malloc per value cost 0.1 ms each: half a second
 * for a Secret of 4,096 keys) */
static json_t *pb_base64(struct pb_walk *w, const ProtobufCBinaryData *b)
{
	size_t n = sodium_base64_ENCODED_LEN(b->len, sodium_base64_VARIANT_ORIGINAL);
	json_t *j;

	if (n > w->scratch_len) {
		char *s = malloc(n);

		if (!s) {
			pb_fail_at(w, "out of memory");
			return NULL;
		}
		pb_scratch_free(w);
		w->scratch = s;
		w->scratch_len = n;
	}
	sodium_bin2base64(w->scratch, n, b->len ? b->data : (const unsigned char *)"", b->len,
			  sodium_base64_VARIANT_ORIGINAL);
	j = json_stringn(w->scratch, n - 1);
	if (!j)
		pb_fail_at(w, "out of memory");
	return j;
}

/* metav1.Time's JSON: RFC 3339 in UTC to the second, the zero Time null */
static json_t *pb_time(struct pb_walk *w, const K8s__Time *t)
{
	/* 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, Timestamp's range */
	const int64_t min = -62135596800LL, max = 253402300799LL;
	int64_t sec = t->has_seconds ? t->seconds : 0;
	int32_t nanos = t->has_nanos ? t->nanos : 0;
	time_t tt;
	struct tm tm;
	char buf[32];

	if (sec == 0 && nanos == 0)
		return json_null();
	if (sec < min || sec > max || nanos < 0 || nanos > 999999999) {
		pb_fail_at(w, "time out of range");
		return NULL;
	}
	tt = (time_t)sec;
	if (!gmtime_r(&tt, &tm)) {
		pb_fail_at(w, "time out of range");
		return NULL;
	}
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return json_string(buf);
}

static json_t *pb_message(struct pb_walk *w, const ProtobufCMessage *m);

/* repeated Entry / ExtraEntry as a JSON object; a key twice is refused, as
 * strict JSON decoding refuses a duplicate field */
static json_t *pb_map(struct pb_walk *w, const ProtobufCMessageDescriptor *entry,
		      void *const *items, size_t n, enum pb_rule rule)
{
	json_t *obj = json_object(), *key = NULL, *val = NULL, *ret = NULL;

	if (!obj) {
		pb_fail_at(w, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const ProtobufCBinaryData *k;

		if (entry == &k8s__entry__descriptor) {
			const K8s__Entry *e = items[i];
			static const ProtobufCBinaryData none = { 0, NULL };

			if (e->base.n_unknown_fields) {
				pb_fail_at(w, "strict decoding error: unknown field in a map entry");
				goto out;
			}
			k = &e->key;
			val = rule == PB_BASE64 ? pb_base64(w, e->has_value ? &e->value : &none)
						: pb_string(w, e->has_value ? &e->value : &none);
		} else {
			const K8s__ExtraEntry *e = items[i];

			assert(entry == &k8s__extra_entry__descriptor);
			if (e->base.n_unknown_fields) {
				pb_fail_at(w, "strict decoding error: unknown field in a map entry");
				goto out;
			}
			k = &e->key;
			val = e->value ? pb_message(w, &e->value->base) : json_null();
		}
		if (!val)
			goto out;
		key = pb_string(w, k);
		if (!key)
			goto out;
		if (json_object_getn(obj, json_string_value(key), json_string_length(key))) {
			pb_fail_at(w, "strict decoding error: duplicate key");
			goto out;
		}
		if (json_object_setn_new(obj, json_string_value(key), json_string_length(key), val) != 0) {
			val = NULL;
			pb_fail_at(w, "out of memory");
			goto out;
		}
		val = NULL;
		json_decref(key);
		key = NULL;
	}
	ret = obj;
	obj = NULL;
out:
	json_decref(key);
	json_decref(val);
	json_decref(obj);
	return ret;
}

/* one value of field f at p (an element of a repeated field, or the field) */
static json_t *pb_value(struct pb_walk *w, const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_BYTES:
		return pb_string(w, p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_INT64:
		return json_integer(*(const int64_t *)p);
	case PROTOBUF_C_TYPE_MESSAGE:
		return pb_message(w, *(const ProtobufCMessage *const *)p);
	default:
		/* k8s.proto declares no other type */
		assert(!"field type not in k8s.proto");
		pb_fail_at(w, "unexpected field type");
		return NULL;
	}
}

/* whether an optional scalar holds its zero value */
static bool pb_zero(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_BOOL:
		return !*(const protobuf_c_boolean *)p;
	case PROTOBUF_C_TYPE_INT64:
		return *(const int64_t *)p == 0;
	default:
		return false;
	}
}

/* one field of m into obj, or nothing when Go's JSON leaves it out */
static int pb_field(struct pb_walk *w, json_t *obj, const ProtobufCMessage *m,
		    const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;
	const void *p = base + f->offset;
	enum pb_rule rule = pb_rule_of(m->descriptor, f->name);
	json_t *v = NULL;
	int ret = -1;

	pb_path_push(w, f->name, 0);

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = *(const size_t *)(base + f->quantifier_offset);
		void *const *items = *(void *const *const *)p;
		const ProtobufCMessageDescriptor *d = f->descriptor;

		if (n == 0) {
			if (rule == PB_KEEP)
				v = json_null();
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
			   (d == &k8s__entry__descriptor || d == &k8s__extra_entry__descriptor)) {
			v = pb_map(w, d, items, n, rule);
			if (!v)
				goto out;
		} else {
			size_t size = f->type == PROTOBUF_C_TYPE_BYTES ? sizeof(ProtobufCBinaryData)
				    : f->type == PROTOBUF_C_TYPE_MESSAGE ? sizeof(void *) : 0;

			assert(size);
			v = json_array();
			if (!v) {
				pb_fail_at(w, "out of memory");
				goto out;
			}
			for (size_t i = 0; i < n; i++) {
				json_t *e;

				pb_path_push(w, NULL, i);
				e = pb_value(w, f, (const char *)items + i * size);
				pb_path_pop(w);
				if (!e)
					goto out;
				if (json_array_append_new(v, e) != 0) {
					pb_fail_at(w, "out of memory");
					goto out;
				}
			}
		}
	} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		/* a struct (always on the wire) or a set pointer: present is written */
		if (*(const ProtobufCMessage *const *)p) {
			v = pb_value(w, f, p);
			if (!v)
				goto out;
		}
	} else {
		bool has = *(const protobuf_c_boolean *)(base + f->quantifier_offset);

		assert(f->label == PROTOBUF_C_LABEL_OPTIONAL);
		if (has && (rule == PB_KEEP || !pb_zero(f, p))) {
			v = pb_value(w, f, p);
			if (!v)
				goto out;
		}
	}
	if (v && json_object_set_new(obj, f->name, v) != 0) {
		v = NULL;
		pb_fail_at(w, "out of memory");
		goto out;
	}
	v = NULL;
	ret = 0;
out:
	json_decref(v);
	pb_path_pop(w);
	return ret;
}

/* m as a JSON value (an object, or what Time and FieldsV1 are in JSON) */
static json_t *pb_message(struct pb_walk *w, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	json_t *obj = NULL, *ret = NULL;

	if (m->n_unknown_fields) {
		/* protobuf has no strict mode and the apiserver drops these; but a
		 * field dropped here could change what is asked (a can-i narrowed
		 * by a selector we do not know): refuse, as strict JSON would */
		char what[64];

		snprintf(what, sizeof(what), "strict decoding error: unknown field #%" PRIu32,
			 m->unknown_fields[0].tag);
		pb_fail_at(w, what);
		return NULL;
	}
	if (d == &k8s__time__descriptor)
		return pb_time(w, (const K8s__Time *)m);
	if (d == &k8s__fields_v1__descriptor) {
		const K8s__FieldsV1 *f = (const K8s__FieldsV1 *)m;

		if (!f->has_raw || f->raw.len == 0)
			return json_null();
		ret = json_loadb((const char *)f->raw.data, f->raw.len, JSON_DECODE_ANY, NULL);
		if (!ret)
			pb_fail_at(w, "invalid JSON");
		return ret;
	}
	if (d == &k8s__extra_value__descriptor) {
		/* ExtraValue is a []string in JSON */
		const K8s__ExtraValue *e = (const K8s__ExtraValue *)m;

		if (e->n_items == 0)
			return json_null();
		ret = json_array();
		for (size_t i = 0; ret && i < e->n_items; i++) {
			json_t *s = pb_string(w, &e->items[i]);

			if (!s || json_array_append_new(ret, s) != 0) {
				json_decref(ret);
				return NULL;
			}
		}
		if (!ret)
			pb_fail_at(w, "out of memory");
		return ret;
	}
	obj = json_object();
	if (!obj) {
		pb_fail_at(w, "out of memory");
		return NULL;
	}
	for (unsigned i = 0; i < d->n_fields; i++)
		if (pb_field(w, obj, m, &d->fields[i]) != 0)
			goto out;
	ret = obj;
	obj = NULL;
out:
	json_decref(obj);
	return ret;
}

/* ---- the entry point ------------------------------------------------------ */

static bool pb_bytes_is(const ProtobufCBinaryData *b, bool has, const char *s)
{
	size_t n = strlen(s);

	if (!has)
		return n == 0;
	return b->len == n && (n == 0 || memcmp(b->data, s, n) == 0);
}

json_t *api_pb_decode(const void *body, size_t len, char *err, size_t errlen)
{
	struct pb_arena arena = { 0, false };
	ProtobufCAllocator alloc = { pb_arena_alloc, pb_arena_free, &arena };
	const unsigned char *in = body;
	K8s__Unknown *env = NULL;
	ProtobufCMessage *obj = NULL;
	const struct pb_kind *kind = NULL;
	struct pb_walk w = { .err = err, .errlen = errlen };
	json_t *out = NULL, *ret = NULL;

	if (errlen)
		err[0] = '\0';
	/* idempotent and thread-safe: the decoder stands alone (libsodium's
	 * functions want it called first) */
	if (sodium_init() < 0) {
		pb_fail(err, errlen, "cannot initialise libsodium");
		goto out;
	}
	if (len > API_PB_MAX_BODY) {
		pb_fail(err, errlen, "Request entity too large: limit is %u", API_PB_MAX_BODY);
		goto out;
	}
	if (len < sizeof(pb_magic) || !in || memcmp(in, pb_magic, sizeof(pb_magic)) != 0) {
		/* the apiserver's words */
		pb_fail(err, errlen, "provided data does not appear to be a protobuf message, "
			"expected prefix [107 56 115 0]");
		goto out;
	}
	env = k8s__unknown__unpack(&alloc, len - sizeof(pb_magic), in + sizeof(pb_magic));
	if (!env) {
		if (arena.exhausted)
			pb_fail(err, errlen, "the protobuf envelope (runtime.Unknown) needs more than %zu MiB to decode",
				PB_ARENA_LIMIT >> 20);
		else
			pb_fail(err, errlen, "cannot decode the protobuf envelope (runtime.Unknown): truncated or malformed");
		goto out;
	}
	if (env->base.n_unknown_fields || (env->typemeta && env->typemeta->base.n_unknown_fields)) {
		pb_fail(err, errlen, "strict decoding error: unknown field in the protobuf envelope (runtime.Unknown)");
		goto out;
	}
	if (!pb_bytes_is(&env->contentencoding, env->has_contentencoding, "")) {
		pb_fail(err, errlen, "unsupported contentEncoding in the protobuf envelope: only none is decoded");
		goto out;
	}
	if (!pb_bytes_is(&env->contenttype, env->has_contenttype, "") &&
	    !pb_bytes_is(&env->contenttype, env->has_contenttype, "application/vnd.kubernetes.protobuf")) {
		pb_fail(err, errlen, "unsupported contentType in the protobuf envelope: only application/vnd.kubernetes.protobuf is decoded");
		goto out;
	}
	if (!env->typemeta || !env->typemeta->has_kind || env->typemeta->kind.len == 0) {
		pb_fail(err, errlen, "Object 'Kind' is missing in the protobuf envelope");
		goto out;
	}
	for (size_t i = 0; i < sizeof(pb_kinds) / sizeof(pb_kinds[0]); i++)
		if (pb_bytes_is(&env->typemeta->kind, true, pb_kinds[i].kind) &&
		    pb_bytes_is(&env->typemeta->apiversion, env->typemeta->has_apiversion,
				pb_kinds[i].api_version))
			kind = &pb_kinds[i];
	if (!kind) {
		/* the apiserver's words, without its scheme's file name; the
		 * names are shown only when printable, and never more than 63 bytes */
		const ProtobufCBinaryData *k = &env->typemeta->kind, *v = &env->typemeta->apiversion;
		bool show = k->len < 64 && v->len < 64;

		for (size_t i = 0; show && i < k->len; i++)
			show = k->data[i] >= 0x20 && k->data[i] < 0x7f && k->data[i] != '"';
		for (size_t i = 0; show && env->typemeta->has_apiversion && i < v->len; i++)
			show = v->data[i] >= 0x20 && v->data[i] < 0x7f && v->data[i] != '"';
		if (show)
			pb_fail(err, errlen, "no kind \"%.*s\" is registered for version \"%.*s\"",
				(int)k->len, (const char *)k->data,
				env->typemeta->has_apiversion ? (int)v->len : 0,
				env->typemeta->has_apiversion ? (const char *)v->data : "");
		else
			pb_fail(err, errlen, "no kind of that name is registered for that version "
				"(unprintable apiVersion or kind in the protobuf envelope)");
		goto out;
	}
	w.kind = kind->kind;
	obj = protobuf_c_message_unpack(kind->desc, &alloc, env->has_raw ? env->raw.len : 0,
					env->has_raw ? env->raw.data : (const uint8_t *)"");
	if (!obj) {
		if (arena.exhausted)
			pb_fail(err, errlen, "the %s in the protobuf body needs more than %zu MiB to decode",
				kind->kind, PB_ARENA_LIMIT >> 20);
		else
			pb_fail(err, errlen, "cannot decode the %s in the protobuf body: truncated or malformed",
				kind->kind);
		goto out;
	}
	out = pb_message(&w, obj);
	if (!out)
		goto out;
	if (json_object_set_new(out, "kind", json_string(kind->kind)) != 0 ||
	    json_object_set_new(out, "apiVersion", json_string(kind->api_version)) != 0) {
		pb_fail(err, errlen, "out of memory decoding the %s", kind->kind);
		goto out;
	}
	ret = out;
	out = NULL;
out:
	json_decref(out);
	pb_scratch_free(&w);
	if (obj)
		protobuf_c_message_free_unpacked(obj, &alloc);
	if (env)
		k8s__unknown__free_unpacked(env, &alloc);
	assert(arena.used == 0);
	return ret;
}
