/*
 * audit.c - [api] audit_path: one JSON line per request, in the shape of
 * kube-apiserver's audit.k8s.io/v1 Event at level Metadata and stage
 * ResponseComplete: who (user, groups, source address, user agent), what
 * (verb, requestURI, objectRef) and the answer's code, with the times the
 * request arrived and completed.
 *
 * What never goes in: a value, a request or response body, a header but
 * the user agent, a token, a certificate.  The request URI carries only
 * the path and the query (names, selectors, watch arguments), which
 * clients never put values in.
 *
 * Each line is one write(2) on an O_APPEND descriptor: lines from the pool
 * threads never interleave, and a reader (or a log shipper) sees whole
 * lines.  A write that fails or falls short (a full disk) is counted, and
 * said in the server's log at most once a minute with the count; the
 * request is never held for it.  The file is created 0600, opened
 * O_NOFOLLOW and non-blocking, and must be a regular file: a FIFO in its
 * place is refused at start instead of hanging the server.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>

#include "api/api.h"

#define AUDIT_REPORT_SECONDS 60

struct api_audit {
	int fd;
	char *path;
	atomic_ulong lost;            /* lines not written, in all */
	pthread_mutex_t lock;
	time_t reported_at;           /* protected by lock */
};

int api_audit_open(struct api_audit **out, const char *path, char *err, size_t errlen)
{
	struct api_audit *a;
	struct stat sb;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the audit log '%s': %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "cannot use the audit log '%s': not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a || !(a->path = strdup(path))) {
		free(a);
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	a->fd = fd;
	pthread_mutex_init(&a->lock, NULL);
	*out = a;
	return 0;
}

void api_audit_free(struct api_audit *a)
{
	if (!a)
		return;
	close(a->fd);
	pthread_mutex_destroy(&a->lock);
	free(a->path);
	free(a);
}

/* "2026-12-02T03:25:16.123456Z", as the apiserver's MicroTime */
static void micro_time(const struct timespec *ts, char *out, size_t len)
{
	struct tm tm;
	char day[32];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%06ldZ", day, ts->tv_nsec / 1000);
}

/* A random (version 4) UUID. */
static void new_uuid(char out[37])
{
	unsigned char b[16];

	randombytes_buf(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

/* Percent-encode s onto the end of out (a query argument). */
static void url_escape(char *out, size_t len, const char *s)
{
	size_t n = strlen(out);

	for (; s && *s && n + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c))
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, len - n, "%%%02X", c);
	}
	out[n] = '\0';
}

struct query {
	char *buf;
	size_t len;
	bool first;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct query *q = cls;
	size_t n = strlen(q->buf);

	(void)kind;
	if (n + 2 >= q->len)
		return MHD_NO;
	q->buf[n++] = q->first ? '?' : '&';
	q->buf[n] = '\0';
	q->first = false;
	url_escape(q->buf, q->len, key);
	if (value) {
		n = strlen(q->buf);
		if (n + 2 < q->len) {
			q->buf[n++] = '=';
			q->buf[n] = '\0';
		}
		url_escape(q->buf, q->len, value);
	}
	return MHD_YES;
}

/*
 * What the request acted on, as kube-apiserver's RequestInfo tells it:
 * /api/v1/... or /apis/GROUP/VERSION/..., then [namespaces/NS/]RESOURCE
 * [/NAME[/SUBRESOURCE]]; /api/v1/namespaces/NS is the namespace NS (in
 * itself).  NULL for a path that is no resource (discovery, health).
 */
static json_t *object_ref(const char *url, const char *method, bool watch, const char **verb)
{
	char path[1024], *seg[10], *p, *save = NULL;
	const char *group = "", *version, *resource, *ns = NULL, *name = NULL, *sub = NULL;
	int n = 0, i;
	json_t *ref;

	snprintf(path, sizeof(path), "%s", url);
	for (p = strtok_r(path, "/", &save); p && n < 10; p = strtok_r(NULL, "/", &save))
		seg[n++] = p;
	if (n >= 3 && !strcmp(seg[0], "api")) {
		version = seg[1];
		i = 2;
	} else if (n >= 4 && !strcmp(seg[0], "apis")) {
		group = seg[1];
		version = seg[2];
		i = 3;
	} else {
		return NULL;
	}
	if (n - i >= 3 && !strcmp(seg[i], "namespaces")) {
		ns = seg[i + 1];
		i += 2;
	}
	resource = seg[i];
	if (n - i >= 2)
		name = seg[i + 1];
	if (n - i >= 3)
		sub = seg[i + 2];
	if (!ns && !strcmp(resource, "namespaces") && name && !sub)
		ns = name;
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		*verb = watch ? "watch" : name ? "get" : "list";
	else if (!strcmp(method, "POST"))
		*verb = "create";
	else if (!strcmp(method, "PUT"))
		*verb = "update";
	else if (!strcmp(method, "PATCH"))
		*verb = "patch";
	else if (!strcmp(method, "DELETE"))
		*verb = name ? "delete" : "deletecollection";
	ref = json_pack("{s:s, s:s, s:s}", "resource", resource, "apiGroup", group, "apiVersion",
			version);
	if (ref && ns)
		json_object_set_new(ref, "namespace", json_string(ns));
	if (ref && name)
		json_object_set_new(ref, "name", json_string(name));
	if (ref && sub)
		json_object_set_new(ref, "subresource", json_string(sub));
	return ref;
}

static json_t *user_info(const struct api_req *r)
{
	json_t *u = json_object(), *g;

	if (!u || r->code == 401) /* not authenticated: no user (as the apiserver) */
		return u;
	if (!r->user.name[0]) { /* /version, /healthz: never authenticated */
		json_object_set_new(u, "username", json_string("system:anonymous"));
		json_object_set_new(u, "groups", json_pack("[s]", "system:unauthenticated"));
		return u;
	}
	json_object_set_new(u, "username", json_string(r->user.name));
	g = json_array();
	for (size_t i = 0; g && i < r->user.ngroups; i++)
		json_array_append_new(g, json_string(r->user.groups[i]));
	json_object_set_new(u, "groups", g);
	return u;
}

static void source_ip(struct MHD_Connection *conn, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	out[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  (socklen_t)len);
}

/* A line not written: count it; say so at most once a minute. */
static void lost_one(struct api_audit *a, int err)
{
	unsigned long lost = atomic_fetch_add(&a->lost, 1) + 1;
	time_t now = time(NULL);

	pthread_mutex_lock(&a->lock);
	if (!a->reported_at || now - a->reported_at >= AUDIT_REPORT_SECONDS) {
		fprintf(stderr, "secretfs-apiserver: cannot write the audit log '%s': %s "
			"(%lu request%s not recorded since the start)\n", a->path, strerror(err),
			lost, lost == 1 ? "" : "s");
		a->reported_at = now;
	}
	pthread_mutex_unlock(&a->lock);
}

void api_audit_request(struct api_audit *a, const struct api_req *r)
{
	char uri[2048], ip[INET6_ADDRSTRLEN], id[37], rcv[40], done[40];
	struct query q = { uri, sizeof(uri), true };
	const char *verb, *ua;
	struct timespec now;
	json_t *ev, *ref;
	char *line;
	size_t len;
	ssize_t n;

	if (!a)
		return;
	snprintf(uri, sizeof(uri), "%s", r->url);
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_arg, &q);
	/* a non-resource path's verb is the method, lowercase */
	verb = !strcmp(r->method, "GET") ? "get" : !strcmp(r->method, "POST") ? "post" :
	       !strcmp(r->method, "PUT") ? "put" : !strcmp(r->method, "DELETE") ? "delete" :
	       !strcmp(r->method, "PATCH") ? "patch" : !strcmp(r->method, "HEAD") ? "head" :
	       "unknown";
	ref = object_ref(r->url, r->method, api_arg_true(r, "watch"), &verb);
	source_ip(r->conn, ip, sizeof(ip));
	ua = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
	new_uuid(id);
	clock_gettime(CLOCK_REALTIME, &now);
	micro_time(&r->received, rcv, sizeof(rcv));
	micro_time(&now, done, sizeof(done));
	ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:[s], s:{s:i}, s:s, s:s}",
		       "kind", "Event", "apiVersion", "audit.k8s.io/v1", "level", "Metadata",
		       "auditID", id, "stage", "ResponseComplete", "requestURI", uri, "verb", verb,
		       "user", user_info(r), "sourceIPs", ip, "responseStatus", "code",
		       (int)(r->code ? r->code : 500), "requestReceivedTimestamp", rcv,
		       "stageTimestamp", done);
	if (ev && ua)
		json_object_set_new(ev, "userAgent", json_string(ua));
	if (ev && ref)
		json_object_set(ev, "objectRef", ref);
	json_decref(ref);
	line = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	json_decref(ev);
	if (!line) {
		lost_one(a, ENOMEM);
		return;
	}
	len = strlen(line);
	line[len] = '\n'; /* json_dumps's NUL: the line's end, written at once */
	n = write(a->fd, line, len + 1);
	if (n != (ssize_t)(len + 1))
		lost_one(a, n < 0 ? errno : ENOSPC);
	free(line);
}
