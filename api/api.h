/*
 * api.h - secretfs-apiserver: the Kubernetes core/v1 API for Secrets,
 * Namespaces and Events, rbac.authorization.k8s.io/v1 and the self-reviews,
 * over HTTPS (libmicrohttpd with GnuTLS), for real kubectl and the client
 * libraries.
 *
 * A request goes: http.c (limits, body, routing) -> authn.c (client
 * certificate, bearer token or anonymous) -> discovery.c, secrets.c,
 * namespaces.c, events.c, roles.c, reviews.c or watch.c, each of which
 * asks authz.c (RBAC, kube/rbac.h) before anything else, and which read
 * through this thread's store handle (db.c) and write through its store
 * writer, the one secretctl uses.  Replies are JSON;
 * errors are the apiserver's Status objects (status.c).  No value and no
 * token is ever logged.
 */
#ifndef SECRETFS_API_H
#define SECRETFS_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "conf/conf.h"
#include "kube/kube.h"
#include "store/store.h"

#define API_MAX_BODY      (3u << 20) /* the apiserver's request body limit */
#define API_MAX_GROUPS    64
#define API_NAME_MAX      256

struct api_tokens;
struct api_hub;
struct api_audit;
struct cluster_follower;

/* The server: read-only once listening, shared by every thread. */
struct api_server {
	struct conf cfg;
	struct MHD_Daemon *daemon;
	struct api_tokens *tokens; /* NULL without a token_file */
	struct api_hub *hub;       /* the watchers */
	char *ca_pem;              /* the client CA, or NULL: no certificates */
	struct api_audit *audit;   /* [api] audit_path, or NULL */
	struct cluster_follower *follower; /* cluster mode: following etcd */
};

/* Who is asking. */
struct api_user {
	char name[API_NAME_MAX];
	char *groups[API_MAX_GROUPS];
	size_t ngroups;
	bool authenticated;
};

/* One TLS connection: its client certificate is checked once (an ECDSA
 * verification costs more than the rest of a request), not per request.
 * Made and freed by http.c's connection callback; used by one request at
 * a time (HTTP/1.1). */
struct api_conn {
	bool checked;         /* cert_ret and cert_user hold the result */
	int cert_ret;         /* from_certificate()'s: 1 none, 0 ok, -EACCES */
	struct api_user cert_user;
};

/* One request: what the access handler keeps between its calls. */
struct api_req {
	struct api_server *srv;
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	char *body;             /* ordinary memory, wiped when freed */
	size_t len, cap;
	bool too_big;
	bool table;             /* Accept asks for a meta.k8s.io/v1 Table */
	struct api_user user;
	struct api_db *db;      /* this thread's store handle */
	struct timespec received; /* when its headers arrived (the audit's) */
	unsigned code;          /* the status replied, 0 before */
};

/* --- db.c: a store handle and writer per thread -------------------------- */

struct rbac_policy;

struct api_db {
	struct store *st;
	struct store_writer *w;
	/* authz.c's policy, built from the store at revision policy_rev */
	struct rbac_policy *policy;
	json_t *policy_objects; /* the objects policy refers to */
	int64_t policy_rev;
	bool policy_loaded;
};

/* This thread's handle (opened on first use): 0, or -errno with err. */
int api_db_get(struct api_server *srv, struct api_db **out, char *err, size_t errlen);
/* Close every handle opened (after the daemon stopped). */
void api_db_close_all(void);
/* The resourceVersion of the whole store: etcd's revision in cluster
 * mode, as secretctl prints it, else the store's. */
int api_db_revision(struct api_db *db, int64_t *out);

/* --- http.c: the listener and replies -------------------------------------- */

/* Listen on addr with TLS (cert and key: PEM text) and threads pool
 * threads: 0, or -EIO with err. */
int api_http_start(struct api_server *srv, const struct sockaddr *addr, const char *cert,
		   const char *key, unsigned threads, char *err, size_t errlen);

/* Reply obj (stolen) as JSON with code.  Returns MHD's result. */
enum MHD_Result api_reply(struct api_req *r, unsigned code, json_t *obj);
/* Same, with a Warning header ("299 - text") unless warning is NULL. */
enum MHD_Result api_reply_warn(struct api_req *r, unsigned code, json_t *obj,
			       const char *warning);
/* Append n bytes at p to *buf (*len used of *cap), growing it; the old
 * buffer is wiped when it moves (bodies and watch queues hold values).
 * 0 or -ENOMEM (then *buf is as it was). */
int api_buf_append(char **buf, size_t *len, size_t *cap, const void *p, size_t n);
/* A streamed item: 1 with *item (new, the stream's to free), 0 at the end,
 * -errno on a failure (the reply is then broken off). */
typedef int (*api_stream_next_fn)(void *ctx, json_t **item);
/* Reply 200 with envelope (stolen; its last member an empty array) with
 * next()'s items streamed into that array, one at a time, chunked; the
 * reply owns ctx from here (ctx_free, may be NULL, frees it, on every
 * path). */
/* Queue resp (a chunked JSON body of unknown length) as the 200 reply,
 * uncached; the response is the connection's from then on. */
enum MHD_Result api_queue_stream(struct api_req *r, struct MHD_Response *resp);
enum MHD_Result api_reply_stream(struct api_req *r, json_t *envelope, api_stream_next_fn next,
				 void *ctx, void (*ctx_free)(void *ctx));
/* A query argument, or NULL. */
const char *api_arg(const struct api_req *r, const char *name);
/* Is argument name one of "true", "1", "True" (Go's strconv.ParseBool)? */
bool api_arg_true(const struct api_req *r, const char *name);

/* --- status.c: Status errors ------------------------------------------------ */

/* A Status reply: code, reason (NotFound...), message; details (stolen,
 * may be NULL). */
enum MHD_Result api_status(struct api_req *r, unsigned code, const char *reason,
			   json_t *details, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The Status for a failed store or writer call (ret a negative errno and
 * msg its message) on resource ("secrets"/"namespaces") named name. */
enum MHD_Result api_store_error(struct api_req *r, int ret, const char *msg,
				const char *resource, const char *kind, const char *name);
enum MHD_Result api_not_found(struct api_req *r, const char *resource, const char *name);
enum MHD_Result api_unauthorized(struct api_req *r);
/* 400: the body's metadata.namespace, or its metadata.name (body_name,
 * may be NULL), is not the URL's. */
enum MHD_Result api_namespace_mismatch(struct api_req *r);
enum MHD_Result api_name_mismatch(struct api_req *r, const char *body_name, const char *url_name);
/* 422: the body names no metadata.name (nor generateName), for kind
 * ("Secret", "Namespace"), with its cause as the apiserver gives it. */
enum MHD_Result api_name_required(struct api_req *r, const char *kind);
/* 405: the verb is not served on this path. */
enum MHD_Result api_method_not_allowed(struct api_req *r);
/* 415: the body's content type is not one we read; more (may be "")
 * follows the list of accepted types. */
enum MHD_Result api_unsupported_media(struct api_req *r, const char *type);

/* --- authn.c: who is asking ------------------------------------------------- */

/* Load the token file (kube-apiserver's --token-auth-file CSV). */
int api_tokens_load(struct api_tokens **out, const char *path, char *err, size_t errlen);
void api_tokens_free(struct api_tokens *t);
/* Fill r->user from the client certificate, else the bearer token, else
 * anonymous: 0, or -EACCES for a certificate or token that does not
 * authenticate (401). */
int api_authenticate(struct api_req *r);
void api_user_release(struct api_user *u);
/* Free a connection's state (NULL accepted). */
void api_conn_free(struct api_conn *c);

/* --- authz.c: RBAC on every request ---------------------------------------- */

/* May the request's user do verb on resource of group ("" core) in ns
 * (NULL: cluster scope) named name (may be NULL)?  If not, the
 * apiserver's 403 (or 503 when the policy cannot be read) is replied and
 * *ret set. */
bool api_allowed(struct api_req *r, const char *verb, const char *group, const char *resource,
		 const char *ns, const char *name, enum MHD_Result *ret);
/* Same for a non-resource path (/api, /version): the verb is the method. */
bool api_allowed_path(struct api_req *r, const char *path, enum MHD_Result *ret);
/* The decision alone (a resource request, or path's when path is not
 * NULL): 1 allowed, 0 denied (msg: the 403 text, when msg is not NULL),
 * -errno when the policy cannot be read. */
int api_authz_check(struct api_req *r, const char *verb, const char *group, const char *resource,
		    const char *sub, const char *ns, const char *name, const char *path,
		    char *msg, size_t len);
/* A SelfSubjectRulesReview's status for the user in ns (new), or NULL. */
json_t *api_authz_rules(struct api_req *r, const char *ns);
/* This thread's policy (for escalation checks), or NULL when unreadable. */
const struct rbac_policy *api_authz_policy(struct api_req *r);
/* Free db's policy. */
void api_authz_release(struct api_db *db);
/* Write the bootstrap policy's missing defaults: 0, or -errno with err. */
int api_authz_bootstrap(struct api_db *db, char *err, size_t errlen);

/* --- roles.c: rbac.authorization.k8s.io/v1 --------------------------------- */

/* Serve resource ("roles", "clusterrolebindings"...) in ns (NULL: cluster
 * scope, or every namespace for a list), named name (may be NULL). */
enum MHD_Result api_rbac(struct api_req *r, const char *ns, const char *resource,
			 const char *name);

/* --- reviews.c: whoami and can-i -------------------------------------------- */

/* POST of a SelfSubjectReview (group authentication.k8s.io) or a
 * SelfSubjectAccessReview or SelfSubjectRulesReview (authorization.k8s.io):
 * the object back with its status, 201. */
enum MHD_Result api_review(struct api_req *r, const char *group, const char *resource);

/* --- audit.c: [api] audit_path ----------------------------------------------- */

/* Open (creating it 0600) the audit log at path: 0, or -errno with err. */
int api_audit_open(struct api_audit **out, const char *path, char *err, size_t errlen);
void api_audit_free(struct api_audit *a);
/* Append r's line (a NULL: nothing); a failure is counted, never waited on. */
void api_audit_request(struct api_audit *a, const struct api_req *r);

/* --- follow.c: cluster mode ------------------------------------------------- */

/* In cluster mode, follow etcd into this node's store (after any fork):
 * 0, or -errno with err; api_follow_stop() stops it. */
int api_follow_start(struct api_server *srv, char *err, size_t errlen);
void api_follow_stop(struct api_server *srv);

/* --- discovery.c ------------------------------------------------------------ */

/* Serve path if it is a discovery, health or OpenAPI path: true if it
 * was (*ret set). */
bool api_discovery(struct api_req *r, const char *path, enum MHD_Result *ret);
/* Is path open to anyone, before authentication (/version, health)? */
bool api_discovery_public(const char *path);

/* --- secrets.c, namespaces.c ------------------------------------------------ */

enum MHD_Result api_secrets(struct api_req *r, const char *ns, const char *name);
enum MHD_Result api_namespaces(struct api_req *r, const char *name);
/* events.c: core/v1 Events of ns (NULL: all), one by name (may be NULL) */
enum MHD_Result api_events(struct api_req *r, const char *ns, const char *name);
/* One store event as a core/v1 Event (new), with metadata.resourceVersion
 * rv unless NULL; NULL when out of memory. */
json_t *api_event_json(const struct store_event *ev, const char *rv);
/* kubectl's Table of Events (items: their JSON objects); steals nothing. */
json_t *api_table_events(const json_t *items, const char *rv, int64_t now);
/* The JSON object of a request body (or its protobuf decoding): NULL
 * after replying a Status (*ret set). */
json_t *api_body_object(struct api_req *r, enum MHD_Result *ret);
/* fieldValidation: unknown fields of obj against allowed (NULL-ended
 * dotted paths); Strict: 400 (returns false, *ret set); Warn: *warning
 * (malloc'd) names them; Ignore: nothing. */
bool api_check_fields(struct api_req *r, const json_t *obj, const char *const *allowed,
		      char **warning, enum MHD_Result *ret);
/* The patch type of a PATCH's Content-Type (secrets.c): 0, or -1 with a
 * 415 replied (server-side apply among them: kubectl prints it). */
int api_patch_type(struct api_req *r, enum kube_patch_type *type, enum MHD_Result *ret);
/* dryRun=All asked (any other dryRun value: 400, returns -1, *ret set). */
int api_dry_run(struct api_req *r, enum MHD_Result *ret);

/* --- table.c: server-side printing ------------------------------------------ */

/* A meta.k8s.io/v1 Table of secrets (objs: their JSON objects) or
 * namespaces; steals nothing. */
json_t *api_table_secrets(const json_t *objs, const char *rv, int64_t now);
json_t *api_table_namespaces(const json_t *objs, const char *rv, int64_t now);
/* Roles and ClusterRoles, or (bindings) RoleBindings and ClusterRoleBindings */
/* One secret's row (obj: its JSON object), for a streamed Table */
json_t *api_table_secret_row(const json_t *obj, int64_t now);
json_t *api_table_rbac(const json_t *objs, const char *rv, int64_t now, bool bindings);

/* --- watch.c: watch=true ----------------------------------------------------- */

int api_hub_start(struct api_server *srv, char *err, size_t errlen);
/* A write this server answered has committed: the hub reads the change
 * log now rather than at inotify's next retry. */
void api_hub_poke(struct api_server *srv);
/* End every watch and the hub thread (before MHD stops: no connection may
 * stay suspended); api_hub_free() after MHD stopped. */
void api_hub_stop(struct api_server *srv);
void api_hub_free(struct api_server *srv);
/* Answer a watch on resource ("secrets", "namespaces", "events", or an
 * RBAC kind's: "roles", "clusterrolebindings"...) in ns (NULL: all);
 * one object is watched by fieldSelector=metadata.name=NAME, as kubectl
 * does (a GET by name with watch=true is a get, as in kube-apiserver). */
enum MHD_Result api_watch(struct api_req *r, const char *resource, const char *ns);

/* --- select: list filters --------------------------------------------------- */

struct api_filter {
	struct selector *labels;        /* labelSelector, or NULL */
	struct field_selector *fields;  /* fieldSelector (kube/select.c), or NULL */
};

/* Parse labelSelector and fieldSelector: 0, or a 400 replied (-1, *ret). */
int api_filter_parse(struct api_req *r, struct api_filter *f, const char *resource,
		     enum MHD_Result *ret);
bool api_filter_match(const struct api_filter *f, const struct store_secret *s);
/* The fieldSelector alone, for a deleted secret (its labels are gone). */
bool api_filter_match_fields(const struct api_filter *f, const char *ns, const char *name,
			     const char *type);
bool api_filter_match_ns(const struct api_filter *f, const char *name);
/* An Event or RBAC object (JSON): labels from its metadata, fields
 * metadata.name and metadata.namespace. */
bool api_filter_match_object(const struct api_filter *f, const char *ns, const char *name,
			     const json_t *obj);
void api_filter_release(struct api_filter *f);

#endif
