/*
 * apiload.c - load for secretfs-apiserver's benchmarks (tests/bench/run.sh):
 * libcurl over TLS, one kept-alive connection per client, as client-go
 * keeps them.  Prints one JSON object of figures.
 *
 *   apiload -t TOKEN -c CA get URL N            N GETs on one connection:
 *                                               p50_us, p99_us
 *   apiload -t TOKEN -c CA list URL ROUNDS      median_us, bytes
 *   apiload -t TOKEN -c CA create URL N PREFIX  N POSTs of a small secret
 *                                               named PREFIX-I to URL (a
 *                                               collection): p50_us, p99_us
 *   apiload -t TOKEN -c CA watch URL W ROUNDS PID
 *       W watchers on URL (a collection, watch=1), then ROUNDS times one
 *       secret created through another connection: the time from sending
 *       it until every watcher has its ADDED event (p50_us, p99_us over the
 *       rounds; each_p99_us over every watcher and round), the create
 *       alone (create_p50_us), and PID's VmRSS with the watchers on
 *       (rss_kib) and its peak (hwm_kib).
 *   apiload -t TOKEN -c CA start URL W N PID
 *       W watchers started at once on URL (a collection, watch=1, no
 *       resourceVersion), each read until it has its N initial ADDED
 *       events: the time until every one had them (all_us) and PID's
 *       peak RSS (hwm_kib).
 *
 *   -T asks for a meta.k8s.io/v1 Table, as kubectl get does.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

static const char *token, *cafile;
static struct curl_slist *hdrs;

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (nearest rank) of v[0..n), sorted here. */
static int64_t pct(int64_t *v, size_t n, double p)
{
	size_t i;

	qsort(v, n, sizeof(*v), cmp64);
	i = (size_t)(p / 100.0 * (double)n + 0.999999);
	return v[i ? i - 1 : 0];
}

static size_t count_bytes(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	*(size_t *)ctx += size * n;
	return size * n;
}

static CURL *client(const char *url)
{
	CURL *c = curl_easy_init();

	if (!c) {
		fprintf(stderr, "apiload: cannot make a curl handle\n");
		exit(1);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	return c;
}

/* One request on c; its body's size in *bytes; exits unless the status is want. */
static void perform(CURL *c, long want, size_t *bytes)
{
	size_t n = 0;
	long code = 0;
	CURLcode rc;

	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, count_bytes);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &n);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK || code != want) {
		fprintf(stderr, "apiload: %s: HTTP %ld\n", curl_easy_strerror(rc), code);
		exit(1);
	}
	if (bytes)
		*bytes = n;
}

static void post_secret(CURL *c, const char *prefix, int i)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":"
		 "{\"name\":\"%s-%d\"},\"data\":{\"k\":\"dmFsdWU=\"}}", prefix, i);
	curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, body);
	perform(c, 201, NULL);
}

static int cmd_get(const char *url, int n)
{
	CURL *c = client(url);
	int64_t *v = calloc((size_t)n, sizeof(*v));

	perform(c, 200, NULL); /* the TLS handshake, not measured */
	for (int i = 0; i < n; i++) {
		int64_t t = now_us();

		perform(c, 200, NULL);
		v[i] = now_us() - t;
	}
	printf("{\"p50_us\": %lld, \"p99_us\": %lld}\n", (long long)pct(v, (size_t)n, 50),
	       (long long)pct(v, (size_t)n, 99));
	curl_easy_cleanup(c);
	free(v);
	return 0;
}

static int cmd_list(const char *url, int rounds)
{
	CURL *c = client(url);
	int64_t *v = calloc((size_t)rounds, sizeof(*v));
	size_t bytes = 0;

	perform(c, 200, NULL);
	for (int i = 0; i < rounds; i++) {
		int64_t t = now_us();

		perform(c, 200, &bytes);
		v[i] = now_us() - t;
	}
	printf("{\"median_us\": %lld, \"bytes\": %zu}\n", (long long)pct(v, (size_t)rounds, 50),
	       bytes);
	curl_easy_cleanup(c);
	free(v);
	return 0;
}

static int cmd_create(const char *url, int n, const char *prefix)
{
	CURL *c = client(url);
	int64_t *v = calloc((size_t)n, sizeof(*v));

	post_secret(c, prefix, -1);
	for (int i = 0; i < n; i++) {
		int64_t t = now_us();

		post_secret(c, prefix, i);
		v[i] = now_us() - t;
	}
	printf("{\"p50_us\": %lld, \"p99_us\": %lld}\n", (long long)pct(v, (size_t)n, 50),
	       (long long)pct(v, (size_t)n, 99));
	curl_easy_cleanup(c);
	free(v);
	return 0;
}

/* --- watch fan-out ---------------------------------------------------------- */

struct watcher {
	CURL *c;
	bool started;          /* its headers came */
	char line[65536];
	size_t len;
	int64_t got;           /* when the awaited name came; 0 before */
	long added;            /* ADDED events read */
};

static char awaited[64];   /* the name this round waits for */

static size_t watch_header(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	((struct watcher *)ctx)->started = true;
	return size * n;
}

static size_t watch_body(char *p, size_t size, size_t n, void *ctx)
{
	struct watcher *w = ctx;
	size_t len = size * n;

	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\n') {
			if (w->len < sizeof(w->line) - 1)
				w->line[w->len++] = p[i];
			continue;
		}
		w->line[w->len] = '\0';
		if (!strncmp(w->line, "{\"type\":\"ADDED\"", 15))
			w->added++;
		if (!w->got && awaited[0] && strstr(w->line, "\"type\":\"ADDED\"") &&
		    strstr(w->line, awaited))
			w->got = now_us();
		w->len = 0;
	}
	return len;
}

static long proc_kib(int pid, const char *field)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = strtol(line + strlen(field) + 1, NULL, 10);
	fclose(f);
	return v;
}

static int cmd_watch(const char *url, int nw, int rounds, int pid)
{
	char wurl[1024];
	CURLM *m = curl_multi_init();
	struct watcher *w = calloc((size_t)nw, sizeof(*w));
	int64_t *all = calloc((size_t)rounds, sizeof(*all));
	int64_t *each = calloc((size_t)(rounds * nw), sizeof(*each));
	int64_t *create = calloc((size_t)rounds, sizeof(*create));
	CURL *writer = client(url);
	long rss = 0;
	int running, started;

	snprintf(wurl, sizeof(wurl), "%s?watch=1", url);
	for (int i = 0; i < nw; i++) {
		w[i].c = client(wurl);
		curl_easy_setopt(w[i].c, CURLOPT_HEADERFUNCTION, watch_header);
		curl_easy_setopt(w[i].c, CURLOPT_HEADERDATA, &w[i]);
		curl_easy_setopt(w[i].c, CURLOPT_WRITEFUNCTION, watch_body);
		curl_easy_setopt(w[i].c, CURLOPT_WRITEDATA, &w[i]);
		curl_multi_add_handle(m, w[i].c);
	}
	post_secret(writer, "fan", -1); /* its connection made */
	/* every watcher streaming before the first write */
	for (int64_t until = now_us() + 20000000; ; ) {
		curl_multi_perform(m, &running);
		started = 0;
		for (int i = 0; i < nw; i++)
			started += w[i].started;
		if (started == nw)
			break;
		if (now_us() > until || running < nw) {
			fprintf(stderr, "apiload: %d of %d watchers started\n", started, nw);
			return 1;
		}
		curl_multi_poll(m, NULL, 0, 10, NULL);
	}
	for (int r = 0; r < rounds; r++) {
		int64_t t0, t1;
		int have = 0;

		for (int i = 0; i < nw; i++)
			w[i].got = 0;
		snprintf(awaited, sizeof(awaited), "\"name\":\"fan-%d\"", r);
		t0 = now_us();
		post_secret(writer, "fan", r); /* the watchers read meanwhile: into the kernel's buffers */
		create[r] = now_us() - t0;
		for (int64_t until = now_us() + 10000000; have < nw; ) {
			curl_multi_perform(m, &running);
			have = 0;
			for (int i = 0; i < nw; i++)
				have += w[i].got != 0;
			if (have == nw)
				break;
			if (now_us() > until) {
				fprintf(stderr, "apiload: round %d: %d of %d watchers had it after 10 s\n",
					r, have, nw);
				return 1;
			}
			curl_multi_poll(m, NULL, 0, 1, NULL);
		}
		t1 = 0;
		for (int i = 0; i < nw; i++) {
			each[r * nw + i] = w[i].got - t0;
			if (w[i].got > t1)
				t1 = w[i].got;
		}
		all[r] = t1 - t0;
		if (r == rounds / 2)
			rss = proc_kib(pid, "VmRSS");
	}
	printf("{\"p50_us\": %lld, \"p99_us\": %lld, \"each_p99_us\": %lld, \"create_p50_us\": %lld,"
	       " \"rss_kib\": %ld, \"hwm_kib\": %ld}\n",
	       (long long)pct(all, (size_t)rounds, 50), (long long)pct(all, (size_t)rounds, 99),
	       (long long)pct(each, (size_t)(rounds * nw), 99),
	       (long long)pct(create, (size_t)rounds, 50), rss, proc_kib(pid, "VmHWM"));
	for (int i = 0; i < nw; i++) {
		curl_multi_remove_handle(m, w[i].c);
		curl_easy_cleanup(w[i].c);
	}
	curl_multi_cleanup(m);
	curl_easy_cleanup(writer);
	free(w);
	free(all);
	free(each);
	free(create);
	return 0;
}

/* W watchers start at once, each until it has read n ADDED events. */
static int cmd_start(const char *url, int nw, long n, int pid)
{
	char wurl[1024];
	CURLM *m = curl_multi_init();
	struct watcher *w = calloc((size_t)nw, sizeof(*w));
	int64_t t0 = now_us();
	int running, done = 0;

	snprintf(wurl, sizeof(wurl), "%s?watch=1", url);
	for (int i = 0; i < nw; i++) {
		w[i].c = client(wurl);
		curl_easy_setopt(w[i].c, CURLOPT_WRITEFUNCTION, watch_body);
		curl_easy_setopt(w[i].c, CURLOPT_WRITEDATA, &w[i]);
		curl_multi_add_handle(m, w[i].c);
	}
	for (int64_t until = now_us() + 600000000; done < nw; ) {
		curl_multi_perform(m, &running);
		done = 0;
		for (int i = 0; i < nw; i++)
			done += w[i].added >= n;
		if (done < nw && (now_us() > until || running < nw)) {
			fprintf(stderr, "apiload: %d of %d watchers had their %ld events\n", done, nw, n);
			return 1;
		}
		curl_multi_poll(m, NULL, 0, 10, NULL);
	}
	printf("{\"all_us\": %lld, \"hwm_kib\": %ld}\n", (long long)(now_us() - t0),
	       proc_kib(pid, "VmHWM"));
	for (int i = 0; i < nw; i++) {
		curl_multi_remove_handle(m, w[i].c);
		curl_easy_cleanup(w[i].c);
	}
	curl_multi_cleanup(m);
	free(w);
	return 0;
}

int main(int argc, char **argv)
{
	char auth[512];
	bool table = false;
	int opt;

	while ((opt = getopt(argc, argv, "t:c:T")) != -1) {
		if (opt == 'T')
			table = true;
		else if (opt == 't')
			token = optarg;
		else if (opt == 'c')
			cafile = optarg;
		else
			return 2;
	}
	argc -= optind;
	argv += optind;
	if (!token || !cafile || argc < 2) {
		fprintf(stderr, "usage: apiload -t TOKEN -c CA get|list|create|watch|start URL ...\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	hdrs = curl_slist_append(NULL, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, table ? "Accept: application/json;as=Table;v=v1;g=meta.k8s.io" :
				 "Accept: application/json");
	if (!strcmp(argv[0], "get") && argc == 3)
		return cmd_get(argv[1], atoi(argv[2]));
	if (!strcmp(argv[0], "list") && argc == 3)
		return cmd_list(argv[1], atoi(argv[2]));
	if (!strcmp(argv[0], "create") && argc == 4)
		return cmd_create(argv[1], atoi(argv[2]), argv[3]);
	if (!strcmp(argv[0], "watch") && argc == 5)
		return cmd_watch(argv[1], atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(argv[0], "start") && argc == 5)
		return cmd_start(argv[1], atoi(argv[2]), atol(argv[3]), atoi(argv[4]));
	fprintf(stderr, "apiload: unknown command or arguments\n");
	return 2;
}
