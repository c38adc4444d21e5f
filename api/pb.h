/*
 * pb.h - kubectl's protobuf request bodies (application/vnd.kubernetes.protobuf)
 * as the JSON objects the same requests carry in JSON.
 *
 * kubectl >= 1.32 sends protobuf for `create secret generic|tls|docker-registry`,
 * `create namespace`, `auth can-i` (SelfSubjectAccessReview), `auth can-i
 * --list` (SelfSubjectRulesReview) and `auth whoami` (SelfSubjectReview), and
 * does not fall back to JSON on a 415.  The server decodes such a body here
 * and goes on exactly as with a JSON body: one code path after this call.
 *
 * Decoded kinds (apiVersion as kubectl writes it): v1 Secret, v1 Namespace,
 * v1 and meta.k8s.io/v1 DeleteOptions, authorization.k8s.io/v1
 * SelfSubjectAccessReview and SelfSubjectRulesReview, authentication.k8s.io/v1
 * SelfSubjectReview, rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding
 * and ClusterRoleBinding.  The messages and their field numbers are in
 * api/k8s.proto.
 */
#ifndef SECRETFS_API_PB_H
#define SECRETFS_API_PB_H

#include <stddef.h>

#include <jansson.h>

/* the apiserver's request body limit, which the decoder enforces too */
#define API_PB_MAX_BODY (3u * 1024 * 1024)

/*
 * Decode one protobuf request body: the 4 bytes "k8s\0", then a
 * runtime.Unknown whose typeMeta names the kind and whose raw holds it.
 *
 * Returns a new JSON object (the caller json_decref()s it) equal to what the
 * same request carries in JSON, as Go's encoding/json writes Kubernetes'
 * types: "apiVersion" and "kind" from the envelope; a field only when Go
 * would write it (omitempty fields only when not empty; pointer fields when
 * set, e.g. "immutable"); "data" values base64 (standard alphabet, padded),
 * "stringData" and every other map as a JSON object of strings; a Time as
 * RFC 3339 in UTC to the second, the zero Time as null (so a new object's
 * metadata carries "creationTimestamp": null, as kubectl's JSON does).
 * Strings keep every byte, NUL included ("\u0000" in JSON).
 *
 * On failure returns NULL and writes a one-line reason, lowercase where the
 * apiserver has no words of its own, to err (errlen bytes, always
 * terminated when errlen > 0): a body over API_PB_MAX_BODY, no "k8s\0"
 * prefix, a malformed or truncated envelope or object, a content encoding,
 * a kind not listed above, an unknown field anywhere (protobuf has no strict
 * mode, and a field dropped could change what is asked, e.g. a narrower
 * can-i: refused as "strict decoding error"), a key given twice in a map,
 * invalid UTF-8 in a string, a Time out of range, decoding past a memory
 * bound.  The reason never contains a value.  The function never logs.
 *
 * Secret values pass through here: every buffer the protobuf decoder
 * allocates is wiped before it is freed, and so is the base64 scratch.  The
 * body stays the caller's (and theirs to wipe); so does the returned object,
 * whose "data" holds the values in base64.
 */
json_t *api_pb_decode(const void *body, size_t len, char *err, size_t errlen);

#endif
