/*
 * authn.c - who is asking, as kube-apiserver decides it: an X.509 client
 * certificate verified against the client CA (CN = user, each O = a
 * group), else a bearer token from the token file (kube-apiserver's
 * --token-auth-file: token,user,uid,"group1,group2"), else
 * system:anonymous in group system:unauthenticated.  A certificate or token
 * offered that does not check is 401, never a fall-through to anonymous.
 *
 * Tokens are compared in constant time and never logged; the table lives
 * in sodium memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>

#include "api/api.h"

struct api_token {
	char *token; /* in sodium memory */
	size_t len;
	char name[API_NAME_MAX];
	char *groups; /* "a,b" */
};

struct api_tokens {
	struct api_token *v;
	size_t n;
};

void api_tokens_free(struct api_tokens *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		sodium_free(t->v[i].token);
		free(t->v[i].groups);
	}
	free(t->v);
	free(t);
}

/* One CSV field of line at *p (quoted or not), into out: 0 or -EINVAL. */
static int csv_field(const char **p, char *out, size_t len)
{
	const char *s = *p;
	size_t n = 0;

	if (*s == '"') {
		for (s++; *s && !(*s == '"' && s[1] != '"'); s++) {
			if (*s == '"')
				s++; /* "" is one quote */
			if (n + 1 >= len)
				return -EINVAL;
			out[n++] = *s;
		}
		if (*s != '"')
			return -EINVAL;
		s++;
	} else {
		for (; *s && *s != ','; s++) {
			if (n + 1 >= len)
				return -EINVAL;
			out[n++] = *s;
		}
	}
	out[n] = '\0';
	if (*s == ',')
		s++;
	else if (*s)
		return -EINVAL;
	*p = s;
	return 0;
}

int api_tokens_load(struct api_tokens **out, const char *path, char *err, size_t errlen)
{
	struct api_tokens *t = calloc(1, sizeof(*t));
	unsigned char *text = NULL;
	size_t len = 0, lineno = 0;
	struct stat st;
	char *line, *save = NULL;
	int ret = 0;

	if (!t)
		return -ENOMEM;
	/* tokens are credentials: as a key file, for its owner alone */
	if (stat(path, &st) == 0 && (st.st_mode & 077)) {
		snprintf(err, errlen, "token file '%s' is readable or writable by others (mode %03o): refusing it",
			 path, st.st_mode & 0777);
		ret = -EPERM;
		goto out;
	}
	if ((ret = read_whole(path, &text, &len, err, errlen)))
		goto out;
	for (line = strtok_r((char *)text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tok = sodium_malloc(4096), uid[256], groups[4096], name[API_NAME_MAX];
		const char *p = line;
		struct api_token *v;

		lineno++;
		if (!tok) {
			ret = -ENOMEM;
			goto out;
		}
		if (line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		groups[0] = '\0';
		if (!*line || *line == '#') {
			sodium_free(tok);
			continue;
		}
		if (csv_field(&p, tok, 4096) || csv_field(&p, name, sizeof(name)) ||
		    csv_field(&p, uid, sizeof(uid)) || (*p && csv_field(&p, groups, sizeof(groups))) ||
		    !*tok || !*name) {
			sodium_free(tok);
			/* never the line itself: it holds a token */
			snprintf(err, errlen, "token file '%s': line %zu: not token,user,uid[,\"group1,group2\"]",
				 path, lineno);
			ret = -EINVAL;
			goto out;
		}
		v = realloc(t->v, (t->n + 1) * sizeof(*v));
		if (!v) {
			sodium_free(tok);
			ret = -ENOMEM;
			goto out;
		}
		t->v = v;
		v[t->n] = (struct api_token){ .token = tok, .len = strlen(tok), .groups = strdup(groups) };
		snprintf(v[t->n].name, sizeof(v[t->n].name), "%s", name);
		t->n++;
		if (!v[t->n - 1].groups) {
			ret = -ENOMEM;
			goto out;
		}
	}
	*out = t;
	t = NULL;
out:
	if (text)
		sodium_free(text);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "token file '%s': out of memory", path);
	api_tokens_free(t);
	return ret;
}

void api_user_release(struct api_user *u)
{
	for (size_t i = 0; i < u->ngroups; i++)
		free(u->groups[i]);
	*u = (struct api_user){ 0 };
}

static int add_group(struct api_user *u, const char *g, size_t n)
{
	for (size_t i = 0; i < u->ngroups; i++)
		if (strlen(u->groups[i]) == n && !memcmp(u->groups[i], g, n))
			return 0;
	if (u->ngroups == API_MAX_GROUPS)
		return -E2BIG;
	if (!(u->groups[u->ngroups] = strndup(g, n)))
		return -ENOMEM;
	u->ngroups++;
	return 0;
}

/* The client certificate: 1 if there is none, 0 with u filled, or
 * -EACCES if it does not verify against the client CA (or has no CN). */
static int check_certificate(struct api_req *r, struct api_user *u)
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *peers;
	gnutls_x509_crt_t crt = NULL;
	unsigned npeers = 0, status = 0;
	char buf[API_NAME_MAX];
	size_t size;
	int ret = -EACCES;

	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return 1;
	peers = gnutls_certificate_get_peers(ci->tls_session, &npeers);
	if (!peers || !npeers)
		return 1;
	if (!r->srv->ca_pem)
		return -EACCES; /* no client CA: no certificate can verify */
	if (gnutls_certificate_verify_peers2(ci->tls_session, &status) < 0 || status)
		return -EACCES;
	if (gnutls_x509_crt_init(&crt) < 0)
		return -ENOMEM;
	if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) < 0)
		goto out;
	size = sizeof(buf);
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &size) < 0 ||
	    !*buf)
		goto out;
	snprintf(u->name, sizeof(u->name), "%s", buf);
	for (unsigned i = 0;; i++) {
		size = sizeof(buf);
		if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, i, 0, buf,
						  &size) < 0)
			break;
		if (add_group(u, buf, strlen(buf)))
			goto out;
	}
	ret = 0;
out:
	gnutls_x509_crt_deinit(crt);
	return ret;
}

void api_conn_free(struct api_conn *c)
{
	if (!c)
		return;
	api_user_release(&c->cert_user);
	free(c);
}

/* check_certificate() once per connection; r->user filled on 0. */
static int from_certificate(struct api_req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct api_conn *c = ci ? ci->socket_context : NULL;
	struct api_user u = { 0 };
	int ret;

	if (!c) {
		ret = check_certificate(r, &r->user);
		return ret;
	}
	if (!c->checked) {
		c->cert_ret = check_certificate(r, &c->cert_user);
		if (c->cert_ret < 0)
			api_user_release(&c->cert_user);
		c->checked = c->cert_ret != -ENOMEM;
		if (!c->checked)
			return -ENOMEM;
	}
	if (c->cert_ret)
		return c->cert_ret;
	snprintf(u.name, sizeof(u.name), "%s", c->cert_user.name);
	for (size_t i = 0; i < c->cert_user.ngroups; i++)
		if (add_group(&u, c->cert_user.groups[i], strlen(c->cert_user.groups[i]))) {
			api_user_release(&u);
			return -ENOMEM;
		}
	r->user = u;
	return 0;
}

/* Authorization: Bearer TOKEN: 1 if none, 0 with r->user, -EACCES. */
static int from_token(struct api_req *r)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	const struct api_tokens *t = r->srv->tokens;
	const struct api_token *found = NULL;
	size_t len;

	if (!h)
		return 1;
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return 1; /* not ours (Basic): the apiserver ignores it too */
	h += 7;
	len = strlen(h);
	/* every entry compared, in constant time for its length */
	for (size_t i = 0; t && i < t->n; i++)
		if (t->v[i].len == len && sodium_memcmp(t->v[i].token, h, len) == 0)
			found = &t->v[i];
	if (!found)
		return -EACCES;
	snprintf(r->user.name, sizeof(r->user.name), "%s", found->name);
	for (const char *g = found->groups; *g;) {
		size_t n = strcspn(g, ",");

		if (n && add_group(&r->user, g, n))
			return -EACCES;
		g += n + (g[n] == ',');
	}
	return 0;
}

int api_authenticate(struct api_req *r)
{
	int ret = from_certificate(r);

	if (ret == 1)
		ret = from_token(r);
	if (ret < 0) {
		api_user_release(&r->user);
		return -EACCES;
	}
	if (ret == 1) {
		snprintf(r->user.name, sizeof(r->user.name), "system:anonymous");
		return add_group(&r->user, "system:unauthenticated", 22) ? -EACCES : 0;
	}
	r->user.authenticated = true;
	return add_group(&r->user, "system:authenticated", 20) ? -EACCES : 0;
}
