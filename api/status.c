/*
 * status.c - errors as the apiserver's Status objects, worded as its
 * messages are (kubectl prints them as they come, and builds "The Secret
 * "x" is invalid: ..." from details.causes).  Messages name objects, never
 * a value.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

enum MHD_Result api_status(struct api_req *r, unsigned code, const char *reason,
			   json_t *details, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *st;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
		       "metadata", "status", "Failure", "message", msg, "reason", reason,
		       "code", (int)code);
	if (st && details)
		json_object_set(st, "details", details);
	json_decref(details);
	return api_reply(r, code, st);
}

static json_t *details(const char *name, const char *kind)
{
	json_t *d = json_object();

	if (d && name)
		json_object_set_new(d, "name", json_string(name));
	if (d && kind)
		json_object_set_new(d, "kind", json_string(kind));
	return d;
}

enum MHD_Result api_not_found(struct api_req *r, const char *resource, const char *name)
{
	return api_status(r, 404, "NotFound", details(name, resource), "%s \"%s\" not found",
			  resource, name);
}

enum MHD_Result api_unauthorized(struct api_req *r)
{
	return api_status(r, 401, "Unauthorized", NULL, "Unauthorized");
}

enum MHD_Result api_method_not_allowed(struct api_req *r)
{
	return api_status(r, 405, "MethodNotAllowed", NULL,
			  "the server does not allow this method on the requested resource");
}

enum MHD_Result api_unsupported_media(struct api_req *r, const char *type)
{
	return api_status(r, 415, "UnsupportedMediaType", NULL,
			  "the body of the request was in an unknown format - accepted media types include: application/json%s",
			  type ? type : "");
}

enum MHD_Result api_namespace_mismatch(struct api_req *r)
{
	return api_status(r, 400, "BadRequest", NULL,
			  "the namespace of the provided object does not match the namespace sent on the request");
}

enum MHD_Result api_name_mismatch(struct api_req *r, const char *body_name, const char *url_name)
{
	return api_status(r, 400, "BadRequest", NULL,
			  "the name of the object (%s) does not match the name on the URL (%s)",
			  body_name ? body_name : "", url_name);
}

enum MHD_Result api_name_required(struct api_req *r, const char *kind)
{
	static const char why[] = "Required value: name or generateName is required";

	return api_status(r, 422, "Invalid",
			  json_pack("{s:s, s:s, s:[{s:s, s:s, s:s}]}", "name", "", "kind", kind,
				    "causes", "reason", "FieldValueRequired", "message", why,
				    "field", "metadata.name"),
			  "%s \"\" is invalid: metadata.name: %s", kind, why);
}

/*
 * "Secret "x" is invalid: data[k]: Invalid value: ..." (the store's and
 * manifest.c's words, one or "[a, b]" several) as details.causes:
 * {reason, field, message} each, the reason from kube's FieldValueX
 * words.  Anything else is one cause without a field.
 */
static json_t *causes_of(const char *msg)
{
	static const struct { const char *words, *reason; } reasons[] = {
		{ "Required value", "FieldValueRequired" },
		{ "Invalid value", "FieldValueInvalid" },
		{ "Forbidden", "FieldValueForbidden" },
		{ "Too long", "FieldValueTooLong" },
		{ "Too many", "FieldValueTooMany" },
		{ "Duplicate value", "FieldValueDuplicate" },
		{ "Unsupported value", "FieldValueNotSupported" },
	};
	const char *p = strstr(msg, " is invalid: ");
	json_t *causes = json_array();
	char *text, *item, *save = NULL;

	if (!causes)
		return NULL;
	text = strdup(p ? p + 13 : msg);
	if (!text)
		return causes;
	/* several: "[a: x, b: y]"; one may hold commas of its own */
	bool several = text[0] == '[' && text[strlen(text) - 1] == ']';

	if (several) {
		memmove(text, text + 1, strlen(text));
		text[strlen(text) - 1] = '\0';
	}
	for (item = several ? strtok_r(text, ",", &save) : text; item;
	     item = several ? strtok_r(NULL, ",", &save) : NULL) {
		const char *reason = "FieldValueInvalid", *field = "";
		char *colon, *message;

		while (*item == ' ')
			item++;
		message = item;
		colon = strstr(item, ": ");
		/* a field path holds no space: "data[tls.key]: Required value" */
		if (colon && !memchr(item, ' ', (size_t)(colon - item))) {
			*colon = '\0';
			field = item;
			message = colon + 2;
		}
		for (size_t i = 0; i < sizeof(reasons) / sizeof(*reasons); i++)
			if (!strncmp(message, reasons[i].words, strlen(reasons[i].words)))
				reason = reasons[i].reason;
		json_array_append_new(causes, json_pack("{s:s, s:s, s:s}", "reason", reason,
							"message", message, "field", field));
	}
	free(text);
	return causes;
}

enum MHD_Result api_store_error(struct api_req *r, int ret, const char *msg,
				const char *resource, const char *kind, const char *name)
{
	json_t *d;

	switch (ret) {
	case -ENOENT:
		return api_not_found(r, resource, name);
	case -EEXIST:
		return api_status(r, 409, "AlreadyExists", details(name, resource),
				  "%s \"%s\" already exists", resource, name);
	case -EAGAIN:
		return api_status(r, 409, "Conflict", details(name, resource),
				  "Operation cannot be fulfilled on %s \"%s\": the object has been modified; please apply your changes to the latest version and try again",
				  resource, name);
	case -EDQUOT:
		/* the store words it as kube-apiserver's quota admission does
		 * ("secrets "x" is forbidden: exceeded quota ..."), a 403 */
		return api_status(r, 403, "Forbidden", details(name, resource), "%s", msg);
	case -EINVAL: {
		/* the store names the object first ("secret "x" in namespace
		 * "y": type: ..."); the apiserver's message names it once */
		const char *in = strstr(msg, "\" in namespace \""), *rest;

		rest = in ? strstr(in + 16, "\": ") : NULL;
		if (rest && !strstr(msg, " is invalid: "))
			msg = rest + 3;
		d = details(name, kind);
		if (d)
			json_object_set_new(d, "causes", causes_of(msg));
		if (strstr(msg, " is invalid: "))
			return api_status(r, 422, "Invalid", d, "%s", msg);
		return api_status(r, 422, "Invalid", d, "%s \"%s\" is invalid: %s", kind, name, msg);
	}
	case -EBUSY:
		return api_status(r, 409, "Conflict", details(name, resource), "%s", msg);
	default:
		/* -EBADMSG among them: a sealed value or its metadata failed
		 * to authenticate; say so, never serve it */
		return api_status(r, 500, "InternalError", details(name, resource),
				  "Internal error occurred: %s", msg);
	}
}
