/*
 * kubeconfig.c - pki init and kubeconfig: the certificates operators and
 * secretfs-apiserver use (tools/pki.c makes them; conf/pki.h says where
 * they are kept), and init's share of that.
 *
 * A kubeconfig is printed, never written: the client's key is made in
 * memory, base64-encoded in sodium memory, handed to jansson (whose
 * allocator in secretctl wipes) and the YAML emitter, and goes to stdout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cmd.h"

#define KUBECONFIG_CLUSTER "secretfs"
#define DEFAULT_TTL        "365d"

static int paths_of(struct ctx *c, struct pki_paths *p)
{
	char err[CONF_ERR_MAX];

	if (load_config(c))
		return 1;
	if (pki_paths(&c->cfg, p, err, sizeof(err)))
		return die_msg("%s", err);
	return 0;
}

/* Report what pki_ensure made, on out. */
static void say_made(FILE *out, const struct pki_paths *p, unsigned made)
{
	if (made & PKI_MADE_CA)
		fprintf(out, "CA created: '%s' (key '%s', mode 0400)\n", p->ca_crt, p->ca_key);
	if (made & PKI_MADE_SERVER)
		fprintf(out, "server certificate created: '%s' (key '%s', mode 0400)\n",
			p->server_crt, p->server_key);
}

int cmd_pki_init(struct ctx *c)
{
	struct pki_paths p;
	char err[512];
	unsigned made = 0;

	if (paths_of(c, &p))
		return 1;
	if (pki_ensure(&p, c->sans, c->nsans, &made, err, sizeof(err)))
		return die_msg("%s", err);
	say_made(stdout, &p, made);
	if (!made)
		printf("'%s' is complete: nothing to create\n", p.dir);
	if (c->nsans && !(made & PKI_MADE_SERVER))
		fprintf(stderr, "warning: '%s' was kept: --san names only a new server certificate (remove server.crt and server.key, then run 'secretctl pki init' again)\n",
			p.server_crt);
	return 0;
}

int pki_init_for_store(struct ctx *c)
{
	struct pki_paths p;
	char err[512];
	unsigned made = 0;

	if (paths_of(c, &p))
		return 1;
	if (pki_ensure(&p, c->sans, c->nsans, &made, err, sizeof(err)))
		return die_msg("%s (the store was created; run 'secretctl pki init' once fixed)",
			       err);
	say_made(stdout, &p, made);
	return 0;
}

/* https:// and [api] listen; a wildcard address becomes the loopback one,
 * which the server's certificate always names. */
static int default_server(const struct ctx *c, char *buf, size_t len)
{
	const char *listen = c->cfg.api.listen ? c->cfg.api.listen : CONF_DEFAULT_LISTEN;
	const char *colon = strrchr(listen, ':');
	int hostlen = (int)(colon - listen);

	if (strncmp(listen, "0.0.0.0:", 8) == 0)
		return snprintf(buf, len, "https://127.0.0.1%s", colon) >= (int)len;
	if (strncmp(listen, "[::]:", 5) == 0)
		return snprintf(buf, len, "https://[::1]%s", colon) >= (int)len;
	return snprintf(buf, len, "https://%.*s%s", hostlen, listen, colon) >= (int)len;
}

/* A refused name for a message: pki_name_check refuses control characters
 * so that they cannot make a line lie, which printing one raw would undo. */
static const char *quoted(char *buf, size_t len, const char *name)
{
	return store_quote(buf, len, name, strlen(name));
}

/* text (len bytes) in base64, in sodium memory when secret is set. */
static char *base64_of(const char *text, size_t len, bool secret)
{
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = secret ? sodium_malloc(n) : malloc(n);

	if (b64)
		sodium_bin2base64(b64, n, (const unsigned char *)text, len,
				  sodium_base64_VARIANT_ORIGINAL);
	return b64;
}

int cmd_kubeconfig(struct ctx *c)
{
	const char *user = c->args[0];
	struct pki_client cl = { 0 };
	struct pki_paths p;
	char err[512], server[320], context[160], q[96];
	char *ca64 = NULL, *cert64 = NULL, *key64 = NULL;
	json_t *doc = NULL;
	unsigned made = 0;
	int64_t ttl;
	int ret = 1, e;

	if (paths_of(c, &p))
		return 1;
	if (pki_name_check(user))
		return die_msg("user %s: must be 1 to 64 bytes without control characters (it is the certificate's CN)",
			       quoted(q, sizeof(q), user));
	for (size_t i = 0; i < c->ngroups; i++)
		if (pki_name_check(c->groups[i]))
			return die_msg("--group %s: must be 1 to 64 bytes without control characters (it is an O of the certificate)",
				       quoted(q, sizeof(q), c->groups[i]));
	if (!c->ttl)
		c->ttl = DEFAULT_TTL;
	e = pki_duration(c->ttl, &ttl);
	if (e)
		return die_msg("--ttl '%s': %s", c->ttl,
			       e == -ERANGE ? "longer than 100 years" :
			       "not a duration (e.g. 8760h, 90d, 1h30m; units s, m, h, d)");
	if (c->server) {
		if (strncmp(c->server, "https://", 8) != 0 || !c->server[8])
			return die_msg("--server '%s': must be an https:// URL (the API takes client certificates over TLS only)",
				       c->server);
		snprintf(server, sizeof(server), "%s", c->server);
	} else if (default_server(c, server, sizeof(server))) {
		return die_msg("[api] listen '%s': too long for a URL", c->cfg.api.listen);
	}
	/* the server checks client certificates against client_ca: one of
	 * another CA's would be refused there */
	if (c->cfg.api.client_ca && strcmp(c->cfg.api.client_ca, p.ca_crt) != 0)
		return die_msg("[api] client_ca is '%s', not secretctl's CA '%s': secretfs-apiserver would refuse the certificates secretctl issues",
			       c->cfg.api.client_ca, p.ca_crt);
	if (c->cfg.api.tls_cert && strcmp(c->cfg.api.tls_cert, p.server_crt) != 0)
		fprintf(stderr, "warning: [api] tls_cert is '%s': the kubeconfig trusts only secretctl's CA '%s', which may not have signed it\n",
			c->cfg.api.tls_cert, p.ca_crt);
	if (c->context_name && pki_name_check(c->context_name))
		return die_msg("--context %s: must be 1 to 64 bytes without control characters",
			       quoted(q, sizeof(q), c->context_name));
	snprintf(context, sizeof(context), "%s@" KUBECONFIG_CLUSTER, user);
	if (pki_ensure(&p, NULL, 0, &made, err, sizeof(err)))
		return die_msg("%s", err);
	say_made(stderr, &p, made);
	if (pki_client_issue(&p, user, c->groups, c->ngroups, ttl, &cl, err, sizeof(err)))
		return die_msg("%s", err);
	ca64 = base64_of(cl.ca_pem, cl.ca_len, false);
	cert64 = base64_of(cl.cert_pem, cl.cert_len, false);
	key64 = base64_of(cl.key_pem, cl.key_len, true);
	if (!ca64 || !cert64 || !key64) {
		die_msg("out of memory");
		goto out;
	}
	/* as kubeadm's: one cluster, one user, one context, current */
	doc = json_pack("{s:s, s:s, s:[{s:s, s:{s:s, s:s}}], s:[{s:s, s:{s:s, s:s}}], s:s,"
			" s:{}, s:[{s:s, s:{s:s, s:s}}]}",
			"apiVersion", "v1", "kind", "Config",
			"clusters", "name", KUBECONFIG_CLUSTER, "cluster",
			"certificate-authority-data", ca64, "server", server,
			"contexts", "name", c->context_name ? c->context_name : context, "context",
			"cluster", KUBECONFIG_CLUSTER, "user", user,
			"current-context", c->context_name ? c->context_name : context,
			"preferences",
			"users", "name", user, "user", "client-certificate-data", cert64,
			"client-key-data", key64);
	if (!doc) {
		die_msg("out of memory");
		goto out;
	}
	if (print_yaml(doc) || fflush(stdout) != 0) {
		die_msg("cannot write the kubeconfig for user \"%s\" to stdout", user);
		goto out;
	}
	ret = 0;
out:
	json_decref(doc); /* wiped by secretctl's allocator */
	free(ca64);
	free(cert64);
	sodium_free(key64);
	pki_client_free(&cl);
	return ret;
}
