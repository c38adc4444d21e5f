/*
 * body.c - what every write reads from its request: the object in the body
 * (JSON, or protobuf through api/pb.c), fieldValidation's unknown-field
 * check, dryRun, and the list filters (labelSelector, fieldSelector: kube/select.c's,
 * which secretctl's -l and --field-selector use).
 * A body that fails here has changed nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/pb.h"

#define PROTOBUF_TYPE "application/vnd.kubernetes.protobuf"

/*
 * A protobuf body (kubectl 1.32+ sends them for create secret/namespace):
 * api/pb.c makes it the JSON object the same request carries, and from
 * here on it goes the JSON path (fields, dry run, the store's rules).  A
 * body it cannot read is 400 with its reason (never a value).
 */
static json_t *protobuf_object(struct api_req *r, enum MHD_Result *ret)
{
	char err[256];
	json_t *obj;

	if (!r->body || !r->len) {
		*ret = api_status(r, 400, "BadRequest", NULL, "the request has no body");
		return NULL;
	}
	obj = api_pb_decode(r->body, r->len, err, sizeof(err));
	if (!obj) {
		*ret = api_status(r, 400, "BadRequest", NULL, "%s", err);
		return NULL;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		*ret = api_status(r, 400, "BadRequest", NULL, "the body of the request is not an object");
		return NULL;
	}
	return obj;
}

json_t *api_body_object(struct api_req *r, enum MHD_Result *ret)
{
	const char *type = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_CONTENT_TYPE);
	json_error_t jerr;
	json_t *obj;

	if (type && !strncmp(type, PROTOBUF_TYPE, strlen(PROTOBUF_TYPE)))
		return protobuf_object(r, ret);
	if (type && strncmp(type, "application/json", 16) != 0) {
		char t[160];

		snprintf(t, sizeof(t), " (not %.*s)", (int)strcspn(type, ";"), type);
		*ret = api_unsupported_media(r, t);
		return NULL;
	}
	if (!r->body || !r->len) {
		*ret = api_status(r, 400, "BadRequest", NULL, "the request has no body");
		return NULL;
	}
	obj = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		char why[JSON_ERROR_TEXT_LENGTH + 64];

		/* jerr.text quotes the input where it failed: a value's bytes */
		store_json_error(why, sizeof(why), jerr.text, jerr.line, jerr.column);
		*ret = api_status(r, 400, "BadRequest", NULL,
				  "the body of the request is not valid JSON: %s", why);
		return NULL;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		*ret = api_status(r, 400, "BadRequest", NULL,
				  "the body of the request is not a JSON object");
		return NULL;
	}
	return obj;
}

/* Is path (dotted) or a prefix ending in ".*" in allowed? */
static bool allowed_field(const char *path, const char *const *allowed)
{
	for (; *allowed; allowed++) {
		size_t n = strlen(*allowed);

		if (!strcmp(path, *allowed))
			return true;
		if (n > 2 && !strcmp(*allowed + n - 2, ".*") && !strncmp(path, *allowed, n - 1))
			return true;
	}
	return false;
}

/* Append each key of obj under prefix that is not allowed to out as
 * fmt (with %s the field's path) joined by sep; an allowed object is
 * walked into when its children are listed.  For a header, a path's
 * control bytes, quotes and backslashes become '?': a key is the
 * client's text, and must not end a header or its quoted string. */
static void unknown_fields(const json_t *obj, const char *prefix, const char *const *allowed,
			   const char *fmt, const char *sep, bool header, char *out, size_t len,
			   size_t *count)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		char path[512], child[520];

		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k);
		if (!allowed_field(path, allowed)) {
			size_t used = strlen(out);

			if (header)
				for (char *c = path; *c; c++)
					if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '"' || *c == '\\')
						*c = '?';
			if (*count < 16) {
				if (*count)
					used += (size_t)snprintf(out + used, len - used, "%s", sep);
				if (used < len)
					snprintf(out + used, len - used, fmt, path);
			}
			(*count)++;
			continue;
		}
		snprintf(child, sizeof(child), "%s.", path);
		if (json_is_object(v)) {
			bool walk = false;

			for (const char *const *a = allowed; *a; a++)
				if (!strncmp(*a, child, strlen(child)))
					walk = true;
			if (walk)
				unknown_fields(v, path, allowed, fmt, sep, header, out, len, count);
		}
	}
}

bool api_check_fields(struct api_req *r, const json_t *obj, const char *const *allowed,
		      char **warning, enum MHD_Result *ret)
{
	const char *mode = api_arg(r, "fieldValidation");
	char found[2048] = "";
	size_t count = 0;

	*warning = NULL;
	if (mode && strcmp(mode, "Strict") && strcmp(mode, "Warn") && strcmp(mode, "Ignore")) {
		*ret = api_status(r, 400, "BadRequest", NULL,
				  "fieldValidation must be one of \"Ignore\", \"Warn\" or \"Strict\"");
		return false;
	}
	/* the apiserver's default, when a client names none, is Warn */
	if (mode && !strcmp(mode, "Ignore"))
		return true;
	if (mode && !strcmp(mode, "Strict")) {
		unknown_fields(obj, "", allowed, "unknown field \"%s\"", ", ", false, found, sizeof(found),
			       &count);
		if (!count)
			return true;
		*ret = api_status(r, 400, "BadRequest", NULL, "strict decoding error: %s", found);
		return false;
	}
	/* Warn: one Warning header per field, as the apiserver sends them
	 * (RFC 7234's quoted text; api_reply_warn splits the lines) */
	unknown_fields(obj, "", allowed, "299 - \"unknown field \\\"%s\\\"\"", "\n", true, found,
		       sizeof(found), &count);
	if (count && !(*warning = strdup(found)))
		return true; /* the write goes on without its warning */
	return true;
}

int api_dry_run(struct api_req *r, enum MHD_Result *ret)
{
	const char *v = api_arg(r, "dryRun");

	if (!v)
		return 0;
	if (!strcmp(v, "All"))
		return 1;
	*ret = api_status(r, 400, "BadRequest", NULL,
			  "dryRun: Unsupported value: \"%s\": supported values: \"All\"", v);
	return -1;
}

/* --- list filters ------------------------------------------------------------ */

void api_filter_release(struct api_filter *f)
{
	selector_free(f->labels);
	field_selector_free(f->fields);
	*f = (struct api_filter){ 0 };
}

/* A namespace has no type: a fieldSelector term on it is refused as the
 * apiserver refuses a field it does not index.  Terms are split as
 * kube/select.c splits them; a field name holds no comma or backslash. */
static bool ns_fields_ok(const char *text, char *err, size_t errlen)
{
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, ","), lhs = strcspn(p, "!=");

		if (lhs < n && lhs == 4 && !strncmp(p, "type", 4)) {
			snprintf(err, errlen, "field label not supported: type");
			return false;
		}
		p += n + (p[n] == ',');
	}
	return true;
}

/* labelSelector (kube/select.c's selector) and fieldSelector (its
 * field_selector: metadata.name, metadata.namespace, and for secrets
 * type), as secretctl's -l and --field-selector read them. */
int api_filter_parse(struct api_req *r, struct api_filter *f, const char *resource,
		     enum MHD_Result *ret)
{
	const char *labels = api_arg(r, "labelSelector"), *fields = api_arg(r, "fieldSelector");
	char err[STORE_ERRMSG_MAX];

	*f = (struct api_filter){ 0 };
	if (labels && *labels && selector_parse(&f->labels, labels, err, sizeof(err)))
		goto bad;
	if (fields && *fields && strcmp(resource, "secrets") &&
	    !ns_fields_ok(fields, err, sizeof(err)))
		goto bad;
	if (fields && *fields && field_selector_parse(&f->fields, fields, err, sizeof(err)))
		goto bad;
	return 0;
bad:
	api_filter_release(f);
	*ret = api_status(r, 400, "BadRequest", NULL, "%s", err);
	return -1;
}

bool api_filter_match_fields(const struct api_filter *f, const char *ns, const char *name,
			     const char *type)
{
	return field_selector_match(f->fields, ns, name, type);
}

bool api_filter_match(const struct api_filter *f, const struct store_secret *s)
{
	return (!f->labels || selector_match(f->labels, s)) &&
	       field_selector_match(f->fields, s->namespace, s->name, s->type);
}

bool api_filter_match_object(const struct api_filter *f, const char *ns, const char *name,
			     const json_t *obj)
{
	if (f->labels) {
		const json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
		struct store_secret *s = store_secret_new(ns ? ns : "", name ? name : "", "");
		const char *k;
		json_t *v;
		bool m = s != NULL;

		json_object_foreach((json_t *)labels, k, v)
			if (m && json_is_string(v) && store_secret_set_label(s, k, json_string_value(v)))
				m = false;
		m = m && selector_match(f->labels, s);
		store_secret_free(s);
		if (!m)
			return false;
	}
	return field_selector_match(f->fields, ns ? ns : "", name, NULL);
}

bool api_filter_match_ns(const struct api_filter *f, const char *name)
{
	/* a namespace has no labels in the store: a selector that needs
	 * one matches none, as it would match no unlabelled namespace */
	if (f->labels) {
		struct store_secret *s = store_secret_new(name, name, "");
		bool m = s && selector_match(f->labels, s);

		store_secret_free(s);
		if (!m)
			return false;
	}
	/* a namespace's metadata.namespace is "" */
	return field_selector_match(f->fields, "", name, NULL);
}
