/*
 * http.c - the access handler libmicrohttpd calls for every request: it
 * gathers the body (at most API_MAX_BODY bytes, the apiserver's limit),
 * authenticates, routes the path to its handler and replies.  Every
 * request gets exactly one reply; a request that fails a check changes
 * nothing.
 *
 * Paths served:
 *   /version /healthz /livez /readyz          anyone (as clusters do)
 *   /api /api/v1 /apis /openapi/v3...         authenticated users
 *   /api/v1/secrets                           list and watch, all namespaces
 *   /api/v1/namespaces[/NS]                   namespaces
 *   /api/v1/namespaces/NS/secrets[/NAME]      secrets
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api/api.h"

const char *api_arg(const struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool api_arg_true(const struct api_req *r, const char *name)
{
	const char *v = api_arg(r, name);

	return v && (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "True") ||
		     !strcmp(v, "TRUE") || !strcmp(v, "t") || !strcmp(v, "T"));
}

enum MHD_Result api_reply_warn(struct api_req *r, unsigned code, json_t *obj,
			       const char *warning)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text;

	text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (!text) {
		static const char oom[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
			"\"status\":\"Failure\",\"message\":\"out of memory\","
			"\"reason\":\"InternalError\",\"code\":500}";

		resp = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom,
						       MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_INTERNAL_SERVER_ERROR;
	} else {
		/* MHD copies: the reply may hold values, so wipe ours now */
		resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
		sodium_memzero(text, strlen(text));
		free(text);
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
	/* warning: one header per line */
	for (const char *w = warning; w && *w;) {
		size_t n = strcspn(w, "\n");
		char *one = strndup(w, n);

		if (one)
			MHD_add_response_header(resp, "Warning", one);
		free(one);
		w += n + (w[n] == '\n');
	}
	ret = MHD_queue_response(r->conn, code, resp);
	MHD_destroy_response(resp);
	r->code = code;
	return ret;
}

enum MHD_Result api_reply(struct api_req *r, unsigned code, json_t *obj)
{
	return api_reply_warn(r, code, obj, NULL);
}

/* Make room for want bytes in *buf (len used of *cap), wiping the old
 * buffer when it moves: 0 or -ENOMEM (then *buf is as it was). */
static int buf_reserve(char **buf, size_t len, size_t *cap, size_t want)
{
	size_t c = *cap ? *cap : 4096;
	char *nb;

	if (want <= *cap)
		return 0;
	while (c < want)
		c *= 2;
	nb = malloc(c);
	if (!nb)
		return -ENOMEM;
	if (*buf) {
		memcpy(nb, *buf, len);
		sodium_memzero(*buf, *cap);
		free(*buf);
	}
	*buf = nb;
	*cap = c;
	return 0;
}

int api_buf_append(char **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (buf_reserve(buf, *len, cap, *len + n))
		return -ENOMEM;
	memcpy(*buf + *len, p, n);
	*len += n;
	return 0;
}

/*
 * A streamed reply (api_reply_stream): head, the items next() yields
 * joined by ",", then tail, in chunks as MHD's socket buffer takes them.
 * The one item held at a time is dumped into buf, which is wiped before
 * it is reused or freed: items carry values.
 */
struct api_stream {
	char *head;                /* the envelope up to the items' "[" */
	const char *tail;          /* static: "]}" */
	api_stream_next_fn next;
	void (*ctx_free)(void *ctx);
	void *ctx;
	char *buf;                 /* the piece being sent: buf[off..len) */
	size_t len, off, cap;
	unsigned phase;            /* 0 head, 1 items, 2 tail, 3 done */
	bool first, failed;
};

static void stream_free(void *cls)
{
	struct api_stream *s = cls;

	if (s->buf) {
		sodium_memzero(s->buf, s->cap);
		free(s->buf);
	}
	free(s->head);
	if (s->ctx_free)
		s->ctx_free(s->ctx);
	free(s);
}

/* The next piece into s->buf: 1, 0 at the end, -errno on a failure. */
static int stream_fill(struct api_stream *s)
{
	json_t *item = NULL;
	size_t need;
	int err;

	s->len = s->off = 0;
	switch (s->phase) {
	case 0:
		s->phase = 1;
		return api_buf_append(&s->buf, &s->len, &s->cap, s->head, strlen(s->head)) ?
		       -ENOMEM : 1;
	case 1:
		if ((err = s->next(s->ctx, &item)) < 0)
			return err;
		if (!err) {
			s->phase = 2;
			return stream_fill(s);
		}
		assert(item);
		/* the "," first, then the item after it in the same buffer */
		if (!s->first && api_buf_append(&s->buf, &s->len, &s->cap, ",", 1)) {
			json_decref(item);
			return -ENOMEM;
		}
		/* into the room there is (most items fit: one dump), else
		 * again after growing; what a short dump wrote is wiped by
		 * buf_reserve or overwritten */
		if (buf_reserve(&s->buf, s->len, &s->cap, s->len + 1)) {
			json_decref(item);
			return -ENOMEM;
		}
		need = json_dumpb(item, s->buf + s->len, s->cap - s->len, JSON_COMPACT);
		if (need > s->cap - s->len &&
		    (buf_reserve(&s->buf, s->len, &s->cap, s->len + need) ||
		     json_dumpb(item, s->buf + s->len, s->cap - s->len, JSON_COMPACT) != need))
			need = 0;
		json_decref(item);
		if (!need)
			return -ENOMEM;
		s->len += need;
		s->first = false;
		return 1;
	case 2:
		s->phase = 3;
		return api_buf_append(&s->buf, &s->len, &s->cap, s->tail, strlen(s->tail)) ?
		       -ENOMEM : 1;
	default:
		return 0;
	}
}

/* MHD's content reader: as much as fits in max.  A failure after the
 * status went out can only break the reply: END_WITH_ERROR closes the
 * connection without the terminating chunk, so a client sees a broken
 * reply, never a short list that looks whole. */
static ssize_t stream_reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct api_stream *s = cls;
	size_t done = 0;
	int err;

	(void)pos;
	if (s->failed)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	while (done < max) {
		if (s->off == s->len) {
			if (s->buf)
				sodium_memzero(s->buf, s->len);
			err = stream_fill(s);
			if (err < 0) {
				fprintf(stderr, "secretfs-apiserver: list reply broken off: %s\n",
					strerror(-err));
				s->failed = true;
				break;
			}
			if (!err)
				break;
		}
		{
			size_t n = s->len - s->off < max - done ? s->len - s->off : max - done;

			memcpy(out + done, s->buf + s->off, n);
			s->off += n;
			done += n;
		}
	}
	if (done)
		return (ssize_t)done;
	return s->failed ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
}

enum MHD_Result api_reply_stream(struct api_req *r, json_t *envelope, api_stream_next_fn next,
				 void *ctx, void (*ctx_free)(void *ctx))
{
	struct api_stream *s = calloc(1, sizeof(*s));
	struct MHD_Response *resp;
	size_t n;

	if (!s || !envelope || !(s->head = json_dumps(envelope, JSON_COMPACT))) {
		json_decref(envelope);
		if (s)
			free(s);
		if (ctx_free)
			ctx_free(ctx);
		return api_status(r, 500, "InternalError", NULL, "out of memory");
	}
	json_decref(envelope);
	/* the envelope's last member is its empty item array: "...[]}" */
	n = strlen(s->head);
	assert(n >= 3 && !strcmp(s->head + n - 3, "[]}"));
	s->head[n - 2] = '\0';
	s->tail = "]}";
	s->next = next;
	s->ctx = ctx;
	s->ctx_free = ctx_free;
	s->first = true;
	/* the response owns s (and ctx) from here: stream_free() on every path */
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_reader, s,
						 stream_free);
	if (!resp) {
		stream_free(s);
		return MHD_NO;
	}
	return api_queue_stream(r, resp);
}

enum MHD_Result api_queue_stream(struct api_req *r, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
	ret = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	r->code = 200;
	return ret;
}

/* Accept: application/json;as=Table;v=v1;g=meta.k8s.io,... */
static bool wants_table(const char *accept)
{
	return accept && strstr(accept, "as=Table") && strstr(accept, "g=meta.k8s.io");
}

/* Split "/api/v1/namespaces/NS/secrets/NAME" into at most n segments;
 * returns the count, or -1 for more or for an empty segment. */
static int split_path(char *path, char **seg, int n)
{
	int count = 0;
	char *p = path;

	if (*p != '/')
		return -1;
	p++;
	if (!*p)
		return 0;
	while (p) {
		char *slash = strchr(p, '/');

		if (slash)
			*slash = '\0';
		if (!*p) /* a trailing slash: kube-apiserver ignores it */
			return slash ? -1 : count;
		if (count == n)
			return -1;
		seg[count++] = p;
		p = slash ? slash + 1 : NULL;
	}
	return count;
}

static enum MHD_Result route(struct api_req *r)
{
	char path[1024], *seg[7];
	enum MHD_Result ret;
	int n;

	if (strlen(r->url) >= sizeof(path))
		return api_status(r, 404, "NotFound", NULL, "the server could not find the requested resource");
	if (api_discovery(r, r->url, &ret))
		return ret;
	snprintf(path, sizeof(path), "%s", r->url);
	n = split_path(path, seg, 7);
	if (n >= 4 && !strcmp(seg[0], "apis") && !strcmp(seg[1], "rbac.authorization.k8s.io") &&
	    !strcmp(seg[2], "v1")) {
		if (n <= 5)
			return api_rbac(r, NULL, seg[3], n == 5 ? seg[4] : NULL);
		if (!strcmp(seg[3], "namespaces"))
			return api_rbac(r, seg[4], seg[5], n == 7 ? seg[6] : NULL);
	}
	if (n == 4 && !strcmp(seg[0], "apis") && !strcmp(seg[2], "v1"))
		return api_review(r, seg[1], seg[3]);
	if (n < 3 || strcmp(seg[0], "api") || strcmp(seg[1], "v1"))
		return api_status(r, 404, "NotFound", NULL, "the server could not find the requested resource");
	if (n == 3 && !strcmp(seg[2], "secrets"))
		return api_secrets(r, NULL, NULL);
	if (n == 3 && !strcmp(seg[2], "events"))
		return api_events(r, NULL, NULL);
	if (n >= 5 && n <= 6 && !strcmp(seg[2], "namespaces") && !strcmp(seg[4], "events"))
		return api_events(r, seg[3], n == 6 ? seg[5] : NULL);
	if (strcmp(seg[2], "namespaces"))
		return api_status(r, 404, "NotFound", NULL, "the server could not find the requested resource");
	if (n == 3)
		return api_namespaces(r, NULL);
	if (n == 4)
		return api_namespaces(r, seg[3]);
	if (!strcmp(seg[4], "secrets") && n == 5)
		return api_secrets(r, seg[3], NULL);
	if (!strcmp(seg[4], "secrets") && n == 6)
		return api_secrets(r, seg[3], seg[5]);
	return api_status(r, 404, "NotFound", NULL, "the server could not find the requested resource");
}

static enum MHD_Result serve(struct api_req *r)
{
	char err[STORE_ERRMSG_MAX];

	r->table = wants_table(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
							   MHD_HTTP_HEADER_ACCEPT));
	if (api_discovery_public(r->url)) {
		enum MHD_Result ret;

		if (api_discovery(r, r->url, &ret))
			return ret;
	}
	if (api_authenticate(r))
		return api_unauthorized(r);
	if (r->too_big)
		return api_status(r, 413, "RequestEntityTooLarge", NULL,
				  "Request entity too large: limit is %u", API_MAX_BODY);
	if (api_db_get(r->srv, &r->db, err, sizeof(err)))
		return api_status(r, 503, "ServiceUnavailable", NULL, "%s", err);
	return route(r);
}

/* MHD's access handler: called first with the headers, then with each
 * piece of the body, then once more to reply. */
static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload, size_t *upload_size, void **con_cls)
{
	struct api_req *r = *con_cls;

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->srv = cls;
		r->conn = conn;
		r->method = method;
		r->url = url;
		clock_gettime(CLOCK_REALTIME, &r->received);
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;

		*upload_size = 0;
		if (r->too_big || n > API_MAX_BODY - r->len) {
			r->too_big = true; /* read and dropped, then 413 */
			return MHD_YES;
		}
		/* NUL-terminated for the JSON reader's messages */
		if (api_buf_append(&r->body, &r->len, &r->cap, upload, n) ||
		    api_buf_append(&r->body, &r->len, &r->cap, "", 1))
			return MHD_NO;
		r->len--;
		return MHD_YES;
	}
	return serve(r);
}

/* MHD's request-completed callback: the one place a request is freed. */
static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct api_req *r = *con_cls;

	(void)cls, (void)conn, (void)toe;
	if (!r)
		return;
	api_audit_request(r->srv->audit, r);
	if (r->code >= 200 && r->code < 300 && strcmp(r->method, "GET"))
		api_hub_poke(r->srv);
	if (r->body) {
		sodium_memzero(r->body, r->cap);
		free(r->body);
	}
	api_user_release(&r->user);
	free(r);
	*con_cls = NULL;
}

/* MHD's connection callback: each connection's state (api_conn) lives
 * from its start to its close. */
static void connection_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			      enum MHD_ConnectionNotificationCode code)
{
	(void)cls, (void)conn;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = calloc(1, sizeof(struct api_conn));
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		api_conn_free(*socket_context);
		*socket_context = NULL;
	}
}

/* libmicrohttpd's own messages (bad TLS handshakes and the like): they
 * never hold a body or a header value. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("secretfs-apiserver: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/*
 * Listen on addr with TLS (cert and key PEM text): a thread pool, at most
 * 1024 connections (256 per address), a 60 s idle timeout per connection,
 * 64 KiB of headers.  A client certificate is asked for, never required
 * (token clients must still get in), and checked by authn.c.
 */
int api_http_start(struct api_server *srv, const struct sockaddr *addr, const char *cert,
		   const char *key, unsigned threads, char *err, size_t errlen)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opts[16];
	size_t n = 0;

	if (addr->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* first, or MHD logs the options before it to stderr itself */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, (void *)addr };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cert };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)key };
	if (srv->ca_pem)
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, srv->ca_pem };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, threads, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, 1024, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT, 256, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)connection_notify,
					     NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	assert(n <= sizeof(opts) / sizeof(*opts));
	srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, access_handler, srv,
				       MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!srv->daemon) {
		snprintf(err, errlen, "cannot listen on %s: %s", srv->cfg.api.listen,
			 errno ? strerror(errno) : "libmicrohttpd refused the settings");
		return -EIO;
	}
	return 0;
}
