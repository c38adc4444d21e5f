/*
 * kube.h - the Kubernetes side of a secret, shared by every front end
 * (secretctl, the API server, the fuzzers): the objects as JSON, label
 * selectors and JSONPath, manifests.  Nothing here knows a command line or
 * a socket.
 */
#ifndef SECRETFS_KUBE_H
#define SECRETFS_KUBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store/store.h"

/* kubectl's copy of the whole object it applied: for a Secret, every
 * value in clear.  No front end stores it as sent. */
#define KUBE_LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

/* --- object.c: the objects --- */

/* RFC 3339 UTC, as Kubernetes prints creationTimestamp. */
void rfc3339(char *buf, size_t len, int64_t t);
/* now - then as kubectl prints an AGE: 5s, 3m20s, 4h, 12d, <invalid>. */
void human_age(char *buf, size_t len, int64_t then, int64_t now);

/* The Kubernetes object for a secret (values base64 when present).
 * Returns a new reference, or NULL on allocation failure. */
json_t *secret_to_json(const struct store_secret *s);
/* Its data alone: key -> base64 (values must have been read). */
json_t *secret_data_json(const struct store_secret *s);
json_t *namespace_to_json(const char *name, int64_t created);
/* A "kind: List" of items (steals the references). */
json_t *list_to_json(json_t *items);

/* --- select.c: label selectors and JSONPath --- */

struct selector;
int selector_parse(struct selector **out, const char *text, char *err, size_t errlen);
bool selector_match(const struct selector *sel, const struct store_secret *s);
void selector_free(struct selector *sel);
/* Print tmpl (kubectl's -o jsonpath= template) applied to obj. */
int jsonpath_print(const json_t *obj, const char *tmpl, char *err, size_t errlen);

/* --- manifest.c: Kubernetes manifests --- */

/* What a plain (unquoted) YAML scalar reads as: null, a boolean, a number
 * or a string (a new reference). */
json_t *yaml_plain_scalar(const char *s);
/* A whole file ("-": stdin) in sodium memory, NUL-terminated; free with
 * sodium_free. */
int read_whole(const char *path, unsigned char **out, size_t *len, char *err, size_t errlen);
/* Append every document of buf (len bytes, NUL-terminated), YAML or JSON,
 * to docs; name is for messages.  A key given twice in a map, or a Secret
 * (or List) whose apiVersion is not v1, fails the whole file. */
int manifest_parse(const unsigned char *buf, size_t len, const char *name, json_t *docs,
		   char *err, size_t errlen);
/* Append every document of a YAML or JSON file ("-": stdin) to docs. */
int manifest_load(const char *path, json_t *docs, char *err, size_t errlen);
/* Is doc's kind exactly kind (a kind with a NUL byte is none)? */
bool manifest_kind_is(const json_t *doc, const char *kind);
/* A Secret object as a store secret in ns (the object's own namespace wins
 * unless ns_given names another: an error). */
int manifest_secret(const json_t *obj, const char *ns, bool ns_given,
		    struct store_secret **out, char *err, size_t errlen);

#endif
