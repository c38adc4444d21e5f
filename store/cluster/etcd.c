/*
 * etcd.c - a small client for etcd's v3 JSON gateway (see etcd.h).
 *
 * One curl handle per struct etcd, for unary requests; a watch gets its own
 * for as long as it streams.  Failing over: a request that cannot connect,
 * times out, or meets a member without a leader ("etcdserver: no leader",
 * gRPC Unavailable) is sent to the next endpoint, each endpoint once.  The
 * watch asks for a leader too (gRPC metadata hasleader=true, which the
 * gateway takes from a Grpc-Metadata-* header): a member cut off from the
 * others then ends the watch instead of leaving us silently stale.
 *
 * Nothing here ever sees a plaintext value; the password of etcd's own
 * authentication is held in sodium_malloc memory and wiped.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <dlfcn.h>
#include <sodium.h>

#include "etcd.h"

#define MAX_ENDPOINTS  16
#define MAX_REPLY      (256u << 20) /* a whole prefix listed at once */
#define CONNECT_MS     1000L

struct etcd {
	char *endpoints[MAX_ENDPOINTS];
	size_t n, cur;
	CURL *curl;
	char *cacert, *cert, *key;
	char *username;
	char *password;      /* sodium_malloc'd, or NULL */
	char *token;         /* from /v3/auth/authenticate */
	long timeout_ms;
};

struct buf {
	char *p;
	size_t len, cap;
	bool overflow;
};

/*
 * libcurl is loaded when cluster mode is first used, not linked: it brings
 * some thirty libraries whose loading would add milliseconds to every
 * secretctl and secretfs start, cluster or not.
 */
static struct {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_reset)(CURL *h);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode code);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
	bool loaded;
} curl;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_load(void)
{
	void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	struct { void **fn; const char *name; } sym[] = {
		{ (void **)&curl.global_init, "curl_global_init" },
		{ (void **)&curl.easy_init, "curl_easy_init" },
		{ (void **)&curl.easy_setopt, "curl_easy_setopt" },
		{ (void **)&curl.easy_perform, "curl_easy_perform" },
		{ (void **)&curl.easy_getinfo, "curl_easy_getinfo" },
		{ (void **)&curl.easy_reset, "curl_easy_reset" },
		{ (void **)&curl.easy_cleanup, "curl_easy_cleanup" },
		{ (void **)&curl.easy_strerror, "curl_easy_strerror" },
		{ (void **)&curl.slist_append, "curl_slist_append" },
		{ (void **)&curl.slist_free_all, "curl_slist_free_all" },
	};

	if (!lib)
		return;
	for (size_t i = 0; i < sizeof(sym) / sizeof(*sym); i++)
		if (!(*sym[i].fn = dlsym(lib, sym[i].name)))
			return;
	curl.loaded = curl.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static size_t buf_write(char *data, size_t size, size_t n, void *user)
{
	struct buf *b = user;
	size_t add = size * n;

	if (b->len + add + 1 > MAX_REPLY) {
		b->overflow = true;
		return 0;
	}
	if (b->len + add + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + add + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, add);
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

void etcd_json_free(char *text)
{
	json_malloc_t m;
	json_free_t f;

	json_get_alloc_funcs(&m, &f);
	f(text);
}

char *etcd_b64(const void *p, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(len);

	if (s)
		sodium_bin2base64(s, len, p, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

int etcd_unb64(const char *s, unsigned char **out, size_t *n)
{
	size_t len = strlen(s), got;
	unsigned char *p = malloc(len / 4 * 3 + 4);

	if (!p)
		return -ENOMEM;
	if (sodium_base642bin(p, len / 4 * 3 + 3, s, len, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(p);
		return -EINVAL;
	}
	p[got] = '\0';
	*out = p;
	*n = got;
	return 0;
}

int64_t etcd_int(json_t *o, const char *field)
{
	json_t *v = json_object_get(o, field);

	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return 0;
}

char *etcd_prefix_end(const char *p)
{
	char *end = strdup(p);
	size_t n = end ? strlen(end) : 0;

	if (!end)
		return NULL;
	while (n > 0 && (unsigned char)end[n - 1] == 0xff)
		end[--n] = '\0';
	if (n > 0)
		end[n - 1]++;
	return end;
}

static int read_password(const char *path, char **out, char *err)
{
	char *pw = sodium_malloc(1024);
	struct stat sb;
	FILE *f;
	size_t n;
	int fd;

	if (!pw)
		return -ENOMEM;
	/* O_NONBLOCK: a FIFO would block open() until a writer came */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		snprintf(err, STORE_ERRMSG_MAX, "[cluster] password_file '%s': %s", path,
			 e == ELOOP ? "is a symbolic link" : strerror(e));
		sodium_free(pw);
		return -e;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, STORE_ERRMSG_MAX, "[cluster] password_file '%s' is not a regular file",
			 path);
		fclose(f);
		sodium_free(pw);
		return -EINVAL;
	}
	/* a credential, held as the key file is: by its owner alone */
	if (sb.st_mode & 077) {
		snprintf(err, STORE_ERRMSG_MAX,
			 "[cluster] password_file '%s' is accessible by group or others (mode %04o): run 'chmod 600 %s'",
			 path, (unsigned)(sb.st_mode & 07777), path);
		fclose(f);
		sodium_free(pw);
		return -EPERM;
	}
	if (!fgets(pw, 1024, f))
		pw[0] = '\0';
	fclose(f);
	n = strcspn(pw, "\r\n");
	pw[n] = '\0';
	if (!n) {
		snprintf(err, STORE_ERRMSG_MAX, "[cluster] password_file '%s' is empty", path);
		sodium_free(pw);
		return -EINVAL;
	}
	*out = pw;
	return 0;
}

/*
 * curl opens [cluster] cacert, cert and key itself, blocking: a FIFO there
 * would hang every command.  Check each is a regular file first, without
 * blocking (symbolic links are fine: certificate stores are made of them).
 */
static int check_tls_file(const char *opt, const char *path, char *err)
{
	struct stat sb;
	int fd, ret = 0;

	if (!path)
		return 0;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, STORE_ERRMSG_MAX, "[cluster] %s '%s': %s", opt, path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, STORE_ERRMSG_MAX, "[cluster] %s '%s' is not a regular file", opt, path);
		ret = -EINVAL;
	}
	close(fd);
	return ret;
}

static int dup_opt(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int etcd_open(struct etcd **out, const struct cluster_opts *o, char *err)
{
	struct etcd *e = calloc(1, sizeof(*e));
	const char *s;
	int ret = -ENOMEM;

	pthread_once(&curl_once, curl_load);
	if (!curl.loaded) {
		snprintf(err, STORE_ERRMSG_MAX,
			 "cluster mode needs libcurl (libcurl.so.4, Debian's libcurl4): %s",
			 dlerror() ?: "cannot initialise it");
		free(e);
		return -ENOSYS;
	}
	if (!e)
		goto nomem;
	e->timeout_ms = o->timeout_ms ? (long)o->timeout_ms : CLUSTER_DEFAULT_TIMEOUT_MS;
	for (s = o->endpoints; s && *s;) {
		size_t len;

		while (*s == ',' || isspace((unsigned char)*s))
			s++;
		len = strcspn(s, ",");
		while (len && isspace((unsigned char)s[len - 1]))
			len--;
		if (!len)
			continue;
		if (e->n == MAX_ENDPOINTS) {
			snprintf(err, STORE_ERRMSG_MAX, "[cluster] endpoints: more than %d",
				 MAX_ENDPOINTS);
			ret = -EINVAL;
			goto fail;
		}
		if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) {
			snprintf(err, STORE_ERRMSG_MAX,
				 "[cluster] endpoints: '%.*s' is not an http:// or https:// URL",
				 (int)len, s);
			ret = -EINVAL;
			goto fail;
		}
		while (len && s[len - 1] == '/')
			len--;
		e->endpoints[e->n] = strndup(s, len);
		if (!e->endpoints[e->n])
			goto nomem;
		e->n++;
		s += strcspn(s, ",");
	}
	if (!e->n) {
		snprintf(err, STORE_ERRMSG_MAX, "[cluster] endpoints: none given");
		ret = -EINVAL;
		goto fail;
	}
	if (dup_opt(&e->cacert, o->cacert) || dup_opt(&e->cert, o->cert) ||
	    dup_opt(&e->key, o->key) || dup_opt(&e->username, o->username))
		goto nomem;
	if ((ret = check_tls_file("cacert", o->cacert, err)) ||
	    (ret = check_tls_file("cert", o->cert, err)) ||
	    (ret = check_tls_file("key", o->key, err)))
		goto fail;
	if (o->username && !o->password_file) {
		snprintf(err, STORE_ERRMSG_MAX, "[cluster] username needs password_file");
		ret = -EINVAL;
		goto fail;
	}
	for (size_t i = 0; o->username && i < e->n; i++) {
		if (strncmp(e->endpoints[i], "http://", 7) == 0) {
			snprintf(err, STORE_ERRMSG_MAX,
				 "[cluster] username: the password would cross '%s' in clear; use https:// endpoints",
				 e->endpoints[i]);
			ret = -EINVAL;
			goto fail;
		}
	}
	if (o->password_file && (ret = read_password(o->password_file, &e->password, err)))
		goto fail;
	e->curl = curl.easy_init();
	if (!e->curl)
		goto nomem;
	*out = e;
	return 0;
nomem:
	snprintf(err, STORE_ERRMSG_MAX, "out of memory");
	ret = -ENOMEM;
fail:
	etcd_close(e);
	return ret;
}

/* The token is a credential too, for as long as etcd keeps it. */
static void token_free(struct etcd *e)
{
	if (e->token) {
		sodium_memzero(e->token, strlen(e->token));
		free(e->token);
		e->token = NULL;
	}
}

void etcd_close(struct etcd *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		free(e->endpoints[i]);
	if (e->curl)
		curl.easy_cleanup(e->curl);
	free(e->cacert);
	free(e->cert);
	free(e->key);
	free(e->username);
	if (e->password)
		sodium_free(e->password);
	token_free(e);
	free(e);
}

const char *etcd_endpoint(const struct etcd *e)
{
	return e->n ? e->endpoints[e->cur] : "";
}

/* Options every request shares. */
static struct curl_slist *setup(struct etcd *e, CURL *h, const char *url,
				const char *body, bool watch)
{
	struct curl_slist *hdr = curl.slist_append(NULL, "Content-Type: application/json");
	char auth[1024];

	if (watch)
		hdr = curl.slist_append(hdr, "Grpc-Metadata-hasleader: true");
	if (e->token) {
		snprintf(auth, sizeof(auth), "Authorization: %s", e->token);
		hdr = curl.slist_append(hdr, auth);
	}
	curl.easy_reset(h);
	curl.easy_setopt(h, CURLOPT_URL, url);
	curl.easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl.easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 e->timeout_ms < CONNECT_MS ? e->timeout_ms : CONNECT_MS);
	if (!watch)
		curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, e->timeout_ms);
	curl.easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl.easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 5L);
	curl.easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 2L);
	curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (e->cacert)
		curl.easy_setopt(h, CURLOPT_CAINFO, e->cacert);
	if (e->cert)
		curl.easy_setopt(h, CURLOPT_SSLCERT, e->cert);
	if (e->key)
		curl.easy_setopt(h, CURLOPT_SSLKEY, e->key);
	return hdr;
}

/* ELECTION: the member answered, but the cluster is between leaders (or
 * too loaded to commit in etcd's own time): the next endpoint, and if every
 * one says so, another round after a pause (etcd_call). */
enum outcome { OK, NEXT_ENDPOINT, ELECTION, REAUTH, FAIL };

/* What an error object from the gateway means: {"error": "...", "code": N,
 * "message": "..."} for a request, {"error": {"grpc_code": N, "message":
 * "..."}} when a stream breaks. */
static enum outcome gateway_error(json_t *o, const char *endpoint, int *ret, char *err)
{
	json_t *inner = json_object_get(o, "error");
	const char *msg;
	int64_t code;

	if (json_is_object(inner)) {
		o = inner;
		code = etcd_int(o, "grpc_code");
	} else {
		code = etcd_int(o, "code");
	}
	msg = json_string_value(json_object_get(o, "message"));

	if (!msg)
		msg = json_string_value(json_object_get(o, "error"));
	if (!msg)
		msg = "unknown error";
	snprintf(err, STORE_ERRMSG_MAX, "etcd at %s: %s", endpoint, msg);
	if (strstr(msg, "compacted")) {
		*ret = -ESTALE;
		return FAIL;
	}
	if (code == 16 || strstr(msg, "invalid auth token") || strstr(msg, "user name is empty"))
		return REAUTH;
	if (code == 7 || strstr(msg, "permission denied")) {
		*ret = -EACCES;
		return FAIL;
	}
	if (strstr(msg, "no leader") || strstr(msg, "leader changed") ||
	    strstr(msg, "request timed out"))
		return ELECTION;
	/* Unavailable, DeadlineExceeded: stopping, overloaded */
	if (code == 14 || code == 4)
		return NEXT_ENDPOINT;
	*ret = -EIO;
	return FAIL;
}

static int authenticate(struct etcd *e, size_t idx, char *err);

/* One request to one endpoint. */
static enum outcome call_one(struct etcd *e, size_t idx, const char *path,
			     const char *body, json_t **resp, int *ret, char *err)
{
	char url[2048];
	struct buf b = { 0 };
	struct curl_slist *hdr;
	json_t *o;
	CURLcode rc;
	long http = 0;
	enum outcome out;

	snprintf(url, sizeof(url), "%s%s", e->endpoints[idx], path);
	hdr = setup(e, e->curl, url, body, false);
	curl.easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, buf_write);
	curl.easy_setopt(e->curl, CURLOPT_WRITEDATA, &b);
	rc = curl.easy_perform(e->curl);
	curl.slist_free_all(hdr);
	curl.easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &http);
	if (rc != CURLE_OK) {
		snprintf(err, STORE_ERRMSG_MAX, "etcd at %s: %s", e->endpoints[idx],
			 b.overflow ? "reply too large" : curl.easy_strerror(rc));
		free(b.p);
		*ret = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
		return b.overflow ? (*ret = -EIO, FAIL) : NEXT_ENDPOINT;
	}
	o = b.p ? json_loadb(b.p, b.len, 0, NULL) : NULL;
	if (!json_is_object(o)) {
		json_decref(o);
		/* the gateway's own refusals come as text */
		snprintf(err, STORE_ERRMSG_MAX, "etcd at %s: HTTP %ld: %.200s", e->endpoints[idx],
			 http, b.p ? strtok(b.p, "\r\n") ?: "" : "(no answer)");
		free(b.p);
		*ret = -EIO;
		return http >= 500 ? NEXT_ENDPOINT : FAIL;
	}
	free(b.p);
	if (json_object_get(o, "error") || http != 200) {
		out = gateway_error(o, e->endpoints[idx], ret, err);
		json_decref(o);
		if (out == NEXT_ENDPOINT || out == ELECTION)
			*ret = -ECONNREFUSED;
		return out;
	}
	*resp = o;
	return OK;
}

static int authenticate(struct etcd *e, size_t idx, char *err)
{
	json_t *body = json_pack("{s:s, s:s}", "name", e->username, "password", e->password);
	json_t *resp = NULL;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	char *copy = (char *)json_string_value(json_object_get(body, "password"));
	const char *tok;
	int ret = -EIO;

	if (copy) /* jansson's own copy of the password, wiped before it is freed */
		sodium_memzero(copy, strlen(copy));
	json_decref(body);
	if (!text) {
		snprintf(err, STORE_ERRMSG_MAX, "out of memory");
		return -ENOMEM;
	}
	token_free(e);
	if (call_one(e, idx, "/v3/auth/authenticate", text, &resp, &ret, err) == OK) {
		tok = json_string_value(json_object_get(resp, "token"));
		if (tok && (e->token = strdup(tok)))
			ret = 0;
		else
			snprintf(err, STORE_ERRMSG_MAX, "etcd at %s: no token in the answer",
				 e->endpoints[idx]);
	}
	sodium_memzero(text, strlen(text));
	etcd_json_free(text);
	json_decref(resp);
	return ret;
}

/* One round: each endpoint once, from the one that last answered.  Sets
 * *election when a member answered that the cluster is between leaders. */
static int call_round(struct etcd *e, const char *path, const char *text, json_t **resp,
		      char *err, bool *election)
{
	int ret = -ECONNREFUSED;

	*election = false;
	for (size_t i = 0; i < e->n; i++) {
		size_t idx = (e->cur + i) % e->n;
		enum outcome out;

		if (e->username && !e->token && (ret = authenticate(e, idx, err)) &&
		    ret != -EACCES)
			continue;
		if (e->username && !e->token)
			break;
		out = call_one(e, idx, path, text, resp, &ret, err);
		if (out == REAUTH && e->username && authenticate(e, idx, err) == 0)
			out = call_one(e, idx, path, text, resp, &ret, err);
		if (out == OK) {
			e->cur = idx;
			*election = false;
			return 0;
		}
		if (out == FAIL || out == REAUTH) {
			e->cur = idx;
			*election = false;
			return out == REAUTH ? -EACCES : ret;
		}
		if (out == ELECTION)
			*election = true;
	}
	return ret;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* As etcd's own client: while a member says the cluster is electing a
 * leader (or timed out committing), rounds are tried again after a pause
 * growing from 50 ms to 800 ms, for up to ETCD_ELECTION_WAIT_MS; a loaded
 * machine's election once failed a write outright.  A write sent again may
 * have committed the first time: the caller's compares tell (cl_txn). */
int etcd_call(struct etcd *e, const char *path, json_t *body, json_t **resp, char *err)
{
	char *text = json_dumps(body, JSON_COMPACT);
	int64_t until = now_ms() + ETCD_ELECTION_WAIT_MS;
	int pause = 50, ret;
	bool election;

	if (!text) {
		snprintf(err, STORE_ERRMSG_MAX, "out of memory");
		return -ENOMEM;
	}
	while ((ret = call_round(e, path, text, resp, err, &election)) && election &&
	       now_ms() + pause < until) {
		struct timespec ts = { 0, (long)pause * 1000000 };

		nanosleep(&ts, NULL);
		pause = pause < 800 ? pause * 2 : 800;
	}
	etcd_json_free(text);
	return ret;
}

/* --- watch -------------------------------------------------------------- */

struct stream {
	struct buf line;
	int (*fn)(void *ctx, json_t *result);
	void *ctx;
	const atomic_int *stop;
	int ret;          /* fn's nonzero answer, or an error */
	bool got_result;
	const char *endpoint;
	char *err;
};

/* One line of the stream: a response, or the error that ends it.  false:
 * stop reading. */
static bool stream_line(struct stream *s, const char *p, size_t len)
{
	json_t *o = json_loadb(p, len, 0, NULL);
	json_t *result = json_object_get(o, "result");

	if (!json_is_object(o)) {
		json_decref(o);
		return true; /* a keep-alive blank line */
	}
	if (!result) {
		enum outcome out = gateway_error(o, s->endpoint, &s->ret, s->err);

		json_decref(o);
		if (out != FAIL)
			s->ret = -ECONNRESET; /* no leader, or the member is going */
		return false;
	}
	s->got_result = true;
	s->ret = s->fn(s->ctx, result);
	json_decref(o);
	return s->ret == 0;
}

static size_t stream_write(char *data, size_t size, size_t n, void *user)
{
	struct stream *s = user;
	size_t add = size * n;
	char *nl;

	if (buf_write(data, size, n, &s->line) != add)
		return 0;
	while ((nl = memchr(s->line.p, '\n', s->line.len))) {
		size_t len = (size_t)(nl - s->line.p);
		bool go_on = stream_line(s, s->line.p, len);

		memmove(s->line.p, nl + 1, s->line.len - len - 1);
		s->line.len -= len + 1;
		if (!go_on)
			return 0;
	}
	return add;
}

static int stream_progress(void *user, curl_off_t a, curl_off_t b, curl_off_t c,
			   curl_off_t d)
{
	struct stream *s = user;

	(void)a, (void)b, (void)c, (void)d;
	return *s->stop ? 1 : 0;
}

int etcd_watch(struct etcd *e, json_t *create_request,
	       int (*fn)(void *ctx, json_t *result), void *ctx,
	       const atomic_int *stop, char *err)
{
	json_t *body = json_pack("{s:O}", "create_request", create_request);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	CURL *h = curl.easy_init();
	int ret = -ECONNREFUSED;

	json_decref(body);
	if (!text || !h) {
		if (text)
			etcd_json_free(text);
		if (h)
			curl.easy_cleanup(h);
		snprintf(err, STORE_ERRMSG_MAX, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < e->n && !*stop; i++) {
		size_t idx = (e->cur + i) % e->n;
		struct stream s = { .fn = fn, .ctx = ctx, .stop = stop, .err = err,
				    .endpoint = e->endpoints[idx] };
		struct curl_slist *hdr;
		char url[2048];
		CURLcode rc;

		if (e->username && !e->token && authenticate(e, idx, err))
			continue;
		snprintf(url, sizeof(url), "%s/v3/watch", e->endpoints[idx]);
		hdr = setup(e, h, url, text, true);
		curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, stream_write);
		curl.easy_setopt(h, CURLOPT_WRITEDATA, &s);
		curl.easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, stream_progress);
		curl.easy_setopt(h, CURLOPT_XFERINFODATA, &s);
		rc = curl.easy_perform(h);
		curl.slist_free_all(hdr);
		if (rc == CURLE_OK && !s.ret && s.line.len) /* the last line has no newline */
			stream_line(&s, s.line.p, s.line.len);
		free(s.line.p);
		if (*stop) {
			ret = 0;
			break;
		}
		if (s.ret == -ECONNRESET || (!s.ret && (rc == CURLE_OK || s.got_result))) {
			/* the stream ended, broke after it had begun, or its
			 * member lost its leader: let the caller catch up, from
			 * another endpoint next time */
			if (!s.ret)
				snprintf(err, STORE_ERRMSG_MAX, "etcd at %s: the watch ended: %s",
					 e->endpoints[idx], curl.easy_strerror(rc));
			e->cur = (idx + 1) % e->n;
			ret = -ECONNRESET;
			break;
		}
		if (s.ret && s.ret != -ECONNREFUSED) {
			ret = s.ret; /* fn's answer, or the gateway's error */
			e->cur = idx;
			break;
		}
		if (!s.ret) /* else the gateway's error is in err */
			snprintf(err, STORE_ERRMSG_MAX, "etcd at %s: %s", e->endpoints[idx],
				 curl.easy_strerror(rc));
		ret = -ECONNREFUSED;
	}
	curl.easy_cleanup(h);
	etcd_json_free(text);
	return ret;
}
