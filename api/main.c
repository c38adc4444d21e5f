/*
 * main.c - secretfs-apiserver [-c CONFIG] [-f]: read the configuration,
 * load the certificates and the token file, listen, then (unless -f)
 * daemonize once listening, so that a start script knows the port is open
 * when it returns.  SIGTERM and SIGINT stop it cleanly: watches end, the
 * listener closes, the store handles are wiped and closed.
 *
 * Certificates: [api] tls_cert, tls_key and client_ca, or, when not set,
 * the ones secretctl keeps beside the master key file (conf/pki.h:
 * pki/server.crt, server.key, ca.crt).  Key files must pass
 * pki_check_key_file(): mode 0400, refused when looser.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <sodium.h>

#include "api/api.h"
#include "conf/pki.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void usage(FILE *f)
{
	fputs("usage: secretfs-apiserver [-c CONFIG] [-f]\n"
	      "Serve the Kubernetes API for Secrets and Namespaces over HTTPS.\n\n"
	      "  -c, --config FILE  the configuration (default: $SECRETFS_CONFIG, else\n"
	      "                     /etc/secretfs/secretfs.ini); its [api] section\n"
	      "  -f, --foreground   stay in the foreground, logging to stderr\n"
	      "  -h, --help         this help\n", f);
}

/* The PEM file at path, NUL-terminated, in sodium memory; a key must
 * pass pki_check_key_file() (0400, ours, a regular file). */
static int read_pem(const char *path, bool key, char **out, char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	size_t len;
	int ret;

	if (key && (ret = pki_check_key_file(path, err, errlen)))
		return ret;
	if ((ret = read_whole(path, &buf, &len, err, errlen)))
		return ret;
	*out = (char *)buf;
	return 0;
}

static int resolve(const char *listen, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char host[256], *colon;
	struct addrinfo hints = { .ai_flags = AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM }, *ai;
	int rc;

	snprintf(host, sizeof(host), "%s", listen);
	colon = strrchr(host, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (host[0] == '[' && colon[-1] == ']') { /* [::1]:6443 */
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "[api] listen: cannot resolve '%s': %s", listen, gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}

/* The parent waits for the child to say it listens (one byte on a pipe). */
static int daemonize(int *notify)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 1 ? 0 : 1);
	}
	close(fds[0]);
	if (setsid() < 0)
		return -errno;
	*notify = fds[1];
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct api_server srv = { 0 };
	struct sockaddr_storage ss;
	char err[CONF_ERR_MAX + STORE_ERRMSG_MAX], *cert = NULL, *key = NULL;
	const char *cert_path, *key_path, *ca_path;
	struct pki_paths pki;
	const char *config = NULL;
	bool foreground = false;
	int opt, notify = -1, status = 1;
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t stop_set, wait_set;

	while ((opt = getopt_long(argc, argv, "c:fh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'f': foreground = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0 || gnutls_global_init() < 0) {
		fprintf(stderr, "secretfs-apiserver: cannot initialise the crypto libraries\n");
		return 1;
	}
	if (conf_load(&srv.cfg, config, NULL, err)) {
		fprintf(stderr, "secretfs-apiserver: %s\n", err);
		return 1;
	}
	/* conf_load sets the default; this holds if a merge leaves it unset */
	if (!srv.cfg.api.listen && !(srv.cfg.api.listen = strdup(CONF_DEFAULT_LISTEN))) {
		fprintf(stderr, "secretfs-apiserver: out of memory\n");
		goto out;
	}
	/* [api]'s files, else the pki/ ones beside the master key */
	if (pki_paths(&srv.cfg, &pki, err, sizeof(err))) {
		fprintf(stderr, "secretfs-apiserver: %s\n", err);
		goto out;
	}
	cert_path = srv.cfg.api.tls_cert ? srv.cfg.api.tls_cert : pki.server_crt;
	key_path = srv.cfg.api.tls_key ? srv.cfg.api.tls_key : pki.server_key;
	ca_path = srv.cfg.api.client_ca ? srv.cfg.api.client_ca : pki.ca_crt;
	if (read_pem(cert_path, false, &cert, err, sizeof(err)) ||
	    read_pem(key_path, true, &key, err, sizeof(err)) ||
	    read_pem(ca_path, false, &srv.ca_pem, err, sizeof(err)) ||
	    (srv.cfg.api.token_file &&
	     api_tokens_load(&srv.tokens, srv.cfg.api.token_file, err, sizeof(err))) ||
	    (srv.cfg.api.audit_path &&
	     api_audit_open(&srv.audit, srv.cfg.api.audit_path, err, sizeof(err))) ||
	    resolve(srv.cfg.api.listen, &ss, err, sizeof(err))) {
		fprintf(stderr, "secretfs-apiserver: %s\n", err);
		goto out;
	}
	{
		/* the store must open now, not at the first request */
		struct store *st;

		if (store_open(&st, srv.cfg.store_path, srv.cfg.key_file, STORE_RDONLY, err)) {
			fprintf(stderr, "secretfs-apiserver: %s\n", err);
			goto out;
		}
		store_close(st);
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* blocked in every thread but while main waits in sigsuspend: no
	 * signal lost between the check and the wait */
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_set, &wait_set);
	if (!foreground && daemonize(&notify)) {
		fprintf(stderr, "secretfs-apiserver: cannot daemonize: %s\n", strerror(errno));
		goto out;
	}
	/* in cluster mode, this node's mirror caught up (and followed) before
	 * the bootstrap reads it */
	if (api_follow_start(&srv, err, sizeof(err))) {
		fprintf(stderr, "secretfs-apiserver: %s\n", err);
		goto out;
	}
	{
		/* the defaults (cluster-admin for system:masters, basic-user,
		 * discovery...) before the first request, as kube-apiserver's
		 * post-start hook; this thread's handle is closed with the rest */
		struct api_db *db;

		if (api_db_get(&srv, &db, err, sizeof(err)) ||
		    api_authz_bootstrap(db, err, sizeof(err))) {
			fprintf(stderr, "secretfs-apiserver: %s\n", err);
			api_follow_stop(&srv);
			api_db_close_all();
			goto out;
		}
	}
	if (api_hub_start(&srv, err, sizeof(err)) ||
	    api_http_start(&srv, (struct sockaddr *)&ss, cert, key, 4, err, sizeof(err))) {
		fprintf(stderr, "secretfs-apiserver: %s\n", err);
		api_hub_stop(&srv);
		api_hub_free(&srv);
		api_follow_stop(&srv);
		goto out;
	}
	fprintf(stderr, "secretfs-apiserver: listening on https://%s\n", srv.cfg.api.listen);
	if (notify >= 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			close(null);
		}
		if (write(notify, "", 1) != 1)
			goto stop;
		close(notify);
		notify = -1;
		if (chdir("/"))
			goto stop;
	}
	while (!stopping)
		sigsuspend(&wait_set);
	status = 0;
stop:
	api_hub_stop(&srv);
	MHD_stop_daemon(srv.daemon);
	api_hub_free(&srv);
	api_follow_stop(&srv);
	api_db_close_all();
	fprintf(stderr, "secretfs-apiserver: stopped\n");
out:
	if (notify >= 0)
		close(notify);
	if (cert)
		sodium_free(cert);
	if (key)
		sodium_free(key);
	if (srv.ca_pem)
		sodium_free(srv.ca_pem);
	api_tokens_free(srv.tokens);
	api_audit_free(srv.audit);
	conf_release(&srv.cfg);
	gnutls_global_deinit();
	return status;
}
