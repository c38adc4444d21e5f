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
#include <stdio.h>

#include <jansson.h>

#include "store/store.h"

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

/* --- select.c: label and field selectors --- */

struct selector;
int selector_parse(struct selector **out, const char *text, char *err, size_t errlen);
bool selector_match(const struct selector *sel, const struct store_secret *s);
void selector_free(struct selector *sel);

/* kubectl's --field-selector over a secret's metadata.name,
 * metadata.namespace and type (=, ==, !=, comma-joined; an empty selector
 * matches all).  Any other field: -EINVAL, err "field label not supported:
 * X".  Free with field_selector_free (NULL is fine). */
struct field_selector;
int field_selector_parse(struct field_selector **out, const char *text, char *err,
			 size_t errlen);
bool field_selector_match(const struct field_selector *fs, const char *ns, const char *name,
			  const char *type);
void field_selector_free(struct field_selector *fs);

/* --- jsonpath.c: kubectl's JSONPath (client-go's util/jsonpath) --- */

struct jsonpath;
/* Parse a template; -EINVAL with err "error parsing jsonpath T, WHY at
 * column N" (what we do not implement is refused so, never guessed). */
int jsonpath_parse(struct jsonpath **out, const char *tmpl, char *err, size_t errlen);
void jsonpath_free(struct jsonpath *jp);
/* Evaluate over obj, missing keys allowed (kubectl get's default): a new
 * array with one array of results per text or action of the template. */
int jsonpath_find(const struct jsonpath *jp, const json_t *obj, json_t **groups, char *err,
		  size_t errlen);
/* Write the evaluation to out as kubectl -o jsonpath (results of an action
 * joined by a space, strings raw, maps and arrays as compact JSON) or, with
 * as_json, -o jsonpath-as-json.  Nothing is written on an error; messages
 * never hold a value. */
int jsonpath_exec(const struct jsonpath *jp, const json_t *obj, FILE *out, bool as_json,
		  char *err, size_t errlen);
/* One result as kubectl prints it: as_go_v, as custom-columns does (Go's
 * %v: map[k:v], [a b]), else as -o jsonpath does. */
int jsonpath_value_print(FILE *f, const json_t *v, bool as_go_v);
/* Parse and print tmpl applied to obj on stdout. */
int jsonpath_print(const json_t *obj, const char *tmpl, char *err, size_t errlen);
/* kubectl's relaxed form for custom-columns and --sort-by: "a.b", ".a.b",
 * "{a.b}" or "{.a.b}" as "{.a.b}" (a new string). */
int jsonpath_relaxed(char **out, const char *expr, char *err, size_t errlen);

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

/* --- pod.c: a Pod's secret volumes, as the kubelet mounts them --- */

struct kube_item {
	char *key;   /* the secret's key */
	char *path;  /* where in the volume, cleaned (kube_volume_path) */
	int mode;    /* 0 to 0777, or -1: the volume's defaultMode */
};

/* A secret volume's secret, or one secret source of a projected volume. */
struct kube_source {
	char *secret;
	bool optional;
	struct kube_item *items; /* none: every key, at its own name */
	size_t nitems;
};

/* A `secret` volume (one source) or a `projected` one. */
struct kube_volume {
	char *name;
	struct kube_source *sources;
	size_t nsources;
	int default_mode;        /* 0644 unless given */
	size_t ignored_sources;  /* projected sources not secrets (not ours) */
};

struct kube_mount {           /* a container's volumeMounts[] */
	char *volume;
	char *path;               /* mountPath, absolute */
	char *sub_path;           /* subPath, or NULL */
	bool read_only;
};

struct kube_container {
	char *name;
	struct kube_mount *mounts;
	size_t nmounts;
};

struct kube_pod {
	char *name;
	char *namespace;          /* metadata.namespace, default "default" */
	struct kube_volume *volumes; /* its secret and projected volumes */
	size_t nvolumes;
	char **ignored;           /* the names of its other volumes */
	size_t nignored;
	struct kube_container *containers; /* containers, then initContainers */
	size_t ncontainers;
};

/* Read the first Pod of a YAML or JSON file, checked as the API server and
 * the kubelet check its volumes (see pod.c).  0 and *out (free with
 * kube_pod_free), or -EINVAL with err naming the file and the field, or
 * -ENOMEM. */
int kube_pod_load(const char *path, struct kube_pod **out, char *err, size_t len);
void kube_pod_free(struct kube_pod *p);
/* The volume of that name, or NULL (also for a volume not ours). */
const struct kube_volume *kube_pod_volume(const struct kube_pod *p, const char *name);
/* Check an item's path by the kubelet's rules and write it cleaned
 * ("a//./b" -> "a/b") to clean (len bytes); -EINVAL with why. */
int kube_volume_path(const char *path, char *clean, size_t len, char *why, size_t whylen);

/* --- patch.c: the API's three patch types ---------------------------------- */

enum kube_patch_type {
	KUBE_PATCH_JSON,      /* RFC 6902, application/json-patch+json */
	KUBE_PATCH_MERGE,     /* RFC 7386, application/merge-patch+json */
	KUBE_PATCH_STRATEGIC, /* application/strategic-merge-patch+json, for a Secret */
};

/* RFC 7386's MergePatch(target, patch) on any JSON values: target's
 * reference is taken, a new one returned (NULL: out of memory). */
json_t *kube_merge_patch(json_t *target, const json_t *patch);
/* "json", "merge" or "strategic" (kubectl patch --type); -EINVAL else. */
int kube_patch_type_parse(const char *name, enum kube_patch_type *out);
/* A patch body (JSON; a member given twice is refused, RFC 6902 A.13):
 * *out a new reference, an array for KUBE_PATCH_JSON, else an object.
 * -EINVAL with err set. */
int kube_patch_parse(json_t **out, const char *text, size_t len, enum kube_patch_type type,
		     char *err, size_t errlen);
/*
 * Apply patch to *obj, all or nothing: on success *obj is replaced by the
 * patched object (the old reference dropped); on failure it is untouched.
 * 0, -EINVAL (a bad patch, or one that does not apply: err says why in
 * the apiserver's words, never quoting a value), -ENOMEM.  kube-apiserver
 * answers a body kube_patch_parse() refuses with 400 BadRequest, a JSON
 * patch that does not apply with 422, a merge or strategic patch that
 * does not apply with 400; the object the patch leaves is then decoded
 * and validated as any write (422 Invalid).
 */
int kube_patch(json_t **obj, const json_t *patch, enum kube_patch_type type, char *err,
	       size_t errlen);

/* --- apply.c: kubectl's client-side apply ------------------------------------ */

/* The annotation (STORE_LAST_APPLIED) and its placeholder for a value. */
#define KUBE_LAST_APPLIED STORE_LAST_APPLIED
#define KUBE_REDACTED STORE_REDACTED

/* What apply keeps of manifest in KUBE_LAST_APPLIED: kubectl's encoding of
 * it (without that annotation) with every data and stringData value
 * KUBE_REDACTED.  malloc'd, or NULL on allocation failure. */
char *kube_last_applied(const json_t *manifest);
/*
 * kubectl's CreateThreeWayMergePatch for a Secret: *patch (a new reference,
 * a strategic merge patch) that makes current what modified says, removing
 * what original (the last apply; NULL if none) set and modified no longer
 * does, keeping what neither set.  0, -EINVAL, -ENOMEM.
 */
int kube_three_way(json_t **patch, const json_t *original, const json_t *modified,
		   const json_t *current, char *err, size_t errlen);
/*
 * kubectl apply of manifest (its metadata.namespace set) onto current (the
 * live object, NULL if none): *result is the object to write (a new
 * reference), carrying the new KUBE_LAST_APPLIED.  0, -EINVAL, -ENOMEM.
 */
int kube_apply(json_t **result, const json_t *manifest, const json_t *current,
	       char *err, size_t errlen);

#endif
