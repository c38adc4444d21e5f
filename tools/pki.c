/*
 * pki.c - the API's certificates (OpenSSL): the CA and the server's
 * certificate in the pki/ folder (conf/pki.h says where and how they are
 * kept), and client certificates for kubeconfigs.
 *
 * Every key is ECDSA P-256, every signature SHA-256, every serial number
 * 128 random bits, and every notBefore five minutes in the past, so that a
 * server whose clock runs a little behind ours accepts a new certificate.
 *
 * Invariants: a file of pki/ is never overwritten (each appears under its
 * name by link(2) of a finished unnamed file, which fails when the name
 * exists); a key is in plaintext only in OpenSSL's memory (which it wipes
 * when freed), in sodium_malloc buffers, and in its 0400 file, and a client
 * key never in a file at all.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "ctl.h"

#define PKI_CA_DAYS      3650
#define PKI_SERVER_DAYS  365
#define PKI_SKEW_SECONDS 300
#define PKI_FILE_MAX     (64 * 1024)
#define PKI_MAX_SANS     64
#define DAY              (24 * 3600)

/* OpenSSL's reason for the last failure, for a message. */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "unknown OpenSSL error";
}

/* --- durations -------------------------------------------------------- */

int pki_duration(const char *text, int64_t *seconds)
{
	const char *p = text;
	double total = 0;

	if (!*p)
		return -EINVAL;
	/* NUMBER[.FRACTION]UNIT...: no sign, exponent or hex, as Go's */
	while (*p) {
		double n = 0, scale = 1, unit;
		bool digits = false;

		for (; *p >= '0' && *p <= '9'; p++, digits = true)
			n = n * 10 + (*p - '0');
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++, digits = true)
				n += (*p - '0') * (scale /= 10);
		if (!digits)
			return -EINVAL;
		switch (*p++) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = DAY; break;
		default: return -EINVAL; /* Go's "missing unit" too */
		}
		total += n * unit;
		if (total > 100.0 * 365 * DAY)
			return -ERANGE;
	}
	if (total < 1)
		return -EINVAL;
	*seconds = (int64_t)total;
	return 0;
}

/* --- names ------------------------------------------------------------ */

/* A DNS name a certificate may carry: labels of [A-Za-z0-9-] (the first
 * may be "*"), at most 253 bytes. */
static bool dns_name_valid(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (!len || len > 253 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (const char *q = s; *q; q++) {
		if (*q == '.') {
			if (!label)
				return false;
			label = 0;
			continue;
		}
		if (*q == '*' && q == s && q[1] == '.') {
			label++;
			continue;
		}
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '-') || ++label > 63)
			return false;
	}
	return true;
}

static bool ip_valid(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int pki_san_check(const char *name)
{
	return ip_valid(name) || dns_name_valid(name) ? 0 : -EINVAL;
}

int pki_name_check(const char *name)
{
	size_t len = strlen(name);

	/* X.520's upper bound for CN and O; a control character in a user
	 * name would make audit lines and messages lie */
	if (!len || len > 64)
		return -EINVAL;
	for (const unsigned char *q = (const unsigned char *)name; *q; q++)
		if (*q < 0x20 || *q == 0x7f)
			return -EINVAL;
	return 0;
}

/* --- files ------------------------------------------------------------ */

/*
 * Read a whole file of at most PKI_FILE_MAX bytes into sodium memory
 * (free with sodium_free), for a key file as for a certificate.
 */
static int read_small(const char *path, unsigned char **out, size_t *len, char *err,
		      size_t errlen)
{
	unsigned char *buf = NULL;
	struct stat sb;
	size_t got = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open '%s': %s", path,
			 errno == ELOOP ? "is a symbolic link" : strerror(errno));
		return ret;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > PKI_FILE_MAX) {
		snprintf(err, errlen, "'%s' is not a regular file of at most %d bytes", path,
			 PKI_FILE_MAX);
		ret = -EINVAL;
		goto out;
	}
	buf = sodium_malloc((size_t)sb.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			snprintf(err, errlen, "cannot read '%s': %s", path,
				 n < 0 ? strerror(errno) : "file is short");
			goto out;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
	ret = 0;
out:
	sodium_free(buf);
	close(fd);
	return ret;
}

static int load_cert(const char *path, X509 **out, char *err, size_t errlen)
{
	unsigned char *text;
	size_t len;
	BIO *b;
	X509 *x;
	int ret = read_small(path, &text, &len, err, errlen);

	if (ret)
		return ret;
	b = BIO_new_mem_buf(text, (int)len);
	x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	sodium_free(text);
	if (!x) {
		snprintf(err, errlen, "'%s' is not a PEM certificate: %s", path, ssl_reason());
		ERR_clear_error();
		return -EINVAL;
	}
	*out = x;
	return 0;
}

/* A private key file, checked first (conf/pki.h's rules). */
static int load_key(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
	unsigned char *text;
	size_t len;
	EVP_PKEY *k;
	BIO *b;
	int ret;

	if ((ret = pki_check_key_file(path, err, errlen)) ||
	    (ret = read_small(path, &text, &len, err, errlen)))
		return ret;
	b = BIO_new_mem_buf(text, (int)len);
	k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	sodium_free(text);
	if (!k) {
		snprintf(err, errlen, "'%s' is not a PEM private key: %s", path, ssl_reason());
		ERR_clear_error();
		return -EINVAL;
	}
	*out = k;
	return 0;
}

/* PEM text of a certificate (malloc) or a private key (sodium_malloc), NUL
 * terminated.  A memory BIO's buffer is wiped when freed (OpenSSL 3). */
static char *pem_text(X509 *x, EVP_PKEY *k, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *text = NULL;
	long n;

	if (!b)
		return NULL;
	if (x ? PEM_write_bio_X509(b, x) != 1 :
		PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	n = BIO_get_mem_data(b, &data);
	if (n <= 0)
		goto out;
	text = k ? sodium_malloc((size_t)n + 1) : malloc((size_t)n + 1);
	if (!text)
		goto out;
	memcpy(text, data, (size_t)n);
	text[n] = '\0';
	*len = (size_t)n;
out:
	BIO_free(b);
	return text;
}

/* All of text to fd: 0 or -errno. */
static int write_all(int fd, const char *text, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return fsync(fd) < 0 ? -errno : 0;
}

/*
 * Put text under path (in folder dir), mode mode, never replacing a file
 * there.  The file is written unnamed (O_TMPFILE) and linked to its name
 * when whole, so that no crash leaves a key under another name or half a
 * file under this one; where the file system has no O_TMPFILE, a named
 * temporary file beside it (mode mode before a byte is written) stands in.
 */
static int write_new(const char *dir, const char *path, const char *text, size_t len,
		     mode_t mode, char *err, size_t errlen)
{
	char tmp[PATH_MAX], proc[64];
	bool named = false;
	int fd, ret;

	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
			snprintf(err, errlen, "cannot create '%s': path too long", path);
			return -ENAMETOOLONG;
		}
		fd = mkostemp(tmp, O_CLOEXEC);
		named = fd >= 0;
		if (named && fchmod(fd, mode) < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
			goto out;
		}
	}
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
		return ret;
	}
	if ((ret = write_all(fd, text, len))) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(-ret));
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((named ? link(tmp, path) : linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW)) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	close(fd);
	if (named)
		unlink(tmp);
	return ret;
}

static int write_pair(const char *dir, const char *crt_path, const char *key_path, X509 *x,
		      EVP_PKEY *k, char *err, size_t errlen)
{
	size_t clen = 0, klen = 0;
	char *crt = pem_text(x, NULL, &clen), *key = pem_text(NULL, k, &klen);
	int ret = -ENOMEM;

	if (!crt || !key) {
		snprintf(err, errlen, "cannot encode '%s': %s", crt_path, ssl_reason());
		goto out;
	}
	if ((ret = write_new(dir, key_path, key, klen, 0400, err, errlen)))
		goto out;
	if ((ret = write_new(dir, crt_path, crt, clen, 0644, err, errlen)))
		unlink(key_path); /* ours: it was made just above */
out:
	free(crt);
	sodium_free(key);
	return ret;
}

/* --- certificates ----------------------------------------------------- */

static EVP_PKEY *key_new(void)
{
	return EVP_EC_gen("P-256");
}

static int add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	int ok = e && X509_add_ext(x, e, -1) == 1;

	X509_EXTENSION_free(e);
	return ok ? 0 : -EINVAL;
}

/* A SAN entry for name (an IP address or a DNS name), or NULL. */
static GENERAL_NAME *san_entry(const char *name)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_OCTET_STRING *ip = ip_valid(name) ? a2i_IPADDRESS(name) : NULL;
	ASN1_IA5STRING *dns = NULL;

	if (!gn)
		goto fail;
	if (ip) {
		GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
		return gn;
	}
	dns = ASN1_IA5STRING_new();
	if (!dns || ASN1_STRING_set(dns, name, (int)strlen(name)) != 1)
		goto fail;
	GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
	return gn;
fail:
	ASN1_IA5STRING_free(dns);
	ASN1_OCTET_STRING_free(ip);
	GENERAL_NAME_free(gn);
	return NULL;
}

/* The server's names: localhost, 127.0.0.1, ::1, the host name, then each
 * of sans, each once. */
static GENERAL_NAMES *server_sans(const char *const *sans, size_t nsans)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	const char *names[4 + PKI_MAX_SANS];
	char host[256] = "";
	size_t n = 0;

	assert(nsans <= PKI_MAX_SANS);
	if (!gens)
		goto fail;
	names[n++] = "localhost";
	names[n++] = "127.0.0.1";
	names[n++] = "::1";
	if (gethostname(host, sizeof(host) - 1) == 0 && dns_name_valid(host))
		names[n++] = host;
	for (size_t i = 0; i < nsans; i++)
		names[n++] = sans[i];
	for (size_t i = 0; i < n; i++) {
		GENERAL_NAME *gn;
		bool dup = false;

		for (size_t j = 0; j < i && !dup; j++)
			dup = strcasecmp(names[i], names[j]) == 0;
		if (dup)
			continue;
		gn = san_entry(names[i]);
		if (!gn || !sk_GENERAL_NAME_push(gens, gn)) {
			GENERAL_NAME_free(gn);
			goto fail;
		}
	}
	return gens;
fail:
	GENERAL_NAMES_free(gens);
	return NULL;
}

enum cert_kind { CERT_CA, CERT_SERVER, CERT_CLIENT };

struct cert_spec {
	enum cert_kind kind;
	const char *cn;
	const char *const *orgs; /* one O each */
	size_t norgs;
	int64_t ttl;             /* seconds from now */
	GENERAL_NAMES *sans;     /* the server's; borrowed */
};

/*
 * A certificate for key's public half, signed by ca_key as ca (or by key
 * itself when ca is NULL: the CA's own).  Returns it, or NULL with err.
 */
static X509 *cert_make(const struct cert_spec *spec, EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key,
		       char *err, size_t errlen)
{
	static const char *const kinds[] = { "the CA", "the server's", "a client" };
	unsigned char serial[16] = { 0 };
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *bn = NULL;
	X509V3_CTX v3;
	time_t now = time(NULL);
	bool ok = false;

	assert(spec->kind == CERT_CA ? !ca : ca && ca_key);
	if (!x || !name)
		goto out;
	/* 128 random bits, positive (DER adds a zero byte when the top bit
	 * is set), never zero */
	while (sodium_is_zero(serial, sizeof(serial)))
		randombytes_buf(serial, sizeof(serial));
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    !ASN1_TIME_set(X509_getm_notBefore(x), now - PKI_SKEW_SECONDS) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), now + (time_t)spec->ttl))
		goto out;
	for (size_t i = 0; i < spec->norgs; i++)
		if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
					       (const unsigned char *)spec->orgs[i], -1, -1, 0) != 1)
			goto out;
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
				       (const unsigned char *)spec->cn, -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : name) != 1 ||
	    X509_set_pubkey(x, key) != 1)
		goto out;
	X509V3_set_ctx(&v3, ca ? ca : x, x, NULL, NULL, 0);
	if (add_ext(x, &v3, NID_subject_key_identifier, "hash"))
		goto out;
	switch (spec->kind) {
	case CERT_CA:
		if (add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE") ||
		    add_ext(x, &v3, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign"))
			goto out;
		break;
	case CERT_SERVER:
	case CERT_CLIENT:
		if (add_ext(x, &v3, NID_authority_key_identifier, "keyid:always") ||
		    add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") ||
		    add_ext(x, &v3, NID_key_usage, "critical,digitalSignature") ||
		    add_ext(x, &v3, NID_ext_key_usage,
			    spec->kind == CERT_SERVER ? "serverAuth" : "clientAuth"))
			goto out;
		if (spec->sans && X509_add1_ext_i2d(x, NID_subject_alt_name, spec->sans, 0,
						    X509V3_ADD_DEFAULT) != 1)
			goto out;
		break;
	}
	if (X509_sign(x, ca_key ? ca_key : key, EVP_sha256()) <= 0)
		goto out;
	ok = true;
out:
	if (!ok) {
		snprintf(err, errlen, "cannot make %s certificate (CN \"%s\"): %s", kinds[spec->kind],
			 spec->cn, ssl_reason());
		ERR_clear_error();
		X509_free(x);
		x = NULL;
	}
	BN_free(bn);
	X509_NAME_free(name);
	return x;
}

/* --- the pki/ folder -------------------------------------------------- */

static bool exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0 || errno != ENOENT;
}

/* The folder: made 0700 if missing, else checked. */
static int pki_dir(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST) {
		int ret = -errno;

		snprintf(err, errlen, "cannot create folder '%s': %s%s", dir, strerror(errno),
			 errno == ENOENT ? " (no store there yet? run 'secretctl init')" : "");
		return ret;
	}
	return pki_check_dir(dir, err, errlen);
}

/* A pair of files that exist together or not at all. */
static int pair_state(const char *crt, const char *key, bool *have, char *err, size_t errlen)
{
	bool c = exists(crt), k = exists(key);

	if (c != k) {
		snprintf(err, errlen, "'%s' exists without '%s': put it back, or remove both to make a new pair",
			 c ? crt : key, c ? key : crt);
		return -EINVAL;
	}
	*have = c;
	return 0;
}

/* A pair from disk: the key checked, and the certificate its. */
static int load_pair(const char *crt_path, const char *key_path, X509 **crt, EVP_PKEY **key,
		     char *err, size_t errlen)
{
	int ret;

	if ((ret = load_key(key_path, key, err, errlen)))
		return ret;
	if ((ret = load_cert(crt_path, crt, err, errlen))) {
		EVP_PKEY_free(*key);
		*key = NULL;
		return ret;
	}
	if (X509_check_private_key(*crt, *key) != 1) {
		snprintf(err, errlen, "'%s' is not the key of '%s'", key_path, crt_path);
		ERR_clear_error();
		X509_free(*crt);
		EVP_PKEY_free(*key);
		*crt = NULL;
		*key = NULL;
		return -EINVAL;
	}
	return 0;
}

int pki_ensure(const struct pki_paths *p, const char *const *sans, size_t nsans, unsigned *made,
	       char *err, size_t errlen)
{
	X509 *ca = NULL, *srv = NULL;
	EVP_PKEY *ca_key = NULL, *srv_key = NULL;
	GENERAL_NAMES *gens = NULL;
	bool have_ca, have_srv;
	unsigned done = 0;
	int ret;

	if (nsans > PKI_MAX_SANS) {
		snprintf(err, errlen, "%zu --san names: at most %d", nsans, PKI_MAX_SANS);
		return -EINVAL;
	}
	for (size_t i = 0; i < nsans; i++)
		if (pki_san_check(sans[i])) {
			snprintf(err, errlen, "--san '%s': not a host name or an IP address", sans[i]);
			return -EINVAL;
		}
	if ((ret = pki_dir(p->dir, err, errlen)) ||
	    (ret = pair_state(p->ca_crt, p->ca_key, &have_ca, err, errlen)) ||
	    (ret = pair_state(p->server_crt, p->server_key, &have_srv, err, errlen)))
		return ret;
	if (have_srv && !have_ca) {
		snprintf(err, errlen, "'%s' exists without the CA that signed it ('%s'): put the CA back, or remove the server's pair too",
			 p->server_crt, p->ca_crt);
		return -EINVAL;
	}
	if (have_ca) {
		if ((ret = load_pair(p->ca_crt, p->ca_key, &ca, &ca_key, err, errlen)))
			goto out;
	} else {
		struct cert_spec spec = { CERT_CA, "secretfs-ca", NULL, 0,
					  (int64_t)PKI_CA_DAYS * DAY, NULL };

		ret = -ENOMEM;
		if (!(ca_key = key_new())) {
			snprintf(err, errlen, "cannot make a key for the CA: %s", ssl_reason());
			goto out;
		}
		if (!(ca = cert_make(&spec, ca_key, NULL, NULL, err, errlen)))
			goto out;
		if ((ret = write_pair(p->dir, p->ca_crt, p->ca_key, ca, ca_key, err, errlen)))
			goto out;
		done |= PKI_MADE_CA;
	}
	if (have_srv) {
		if ((ret = load_pair(p->server_crt, p->server_key, &srv, &srv_key, err, errlen)))
			goto out;
		if (X509_verify(srv, ca_key) != 1) {
			snprintf(err, errlen, "'%s' is not signed by the CA '%s'", p->server_crt,
				 p->ca_crt);
			ERR_clear_error();
			ret = -EINVAL;
			goto out;
		}
	} else {
		struct cert_spec spec = { CERT_SERVER, "secretfs-apiserver", NULL, 0,
					  (int64_t)PKI_SERVER_DAYS * DAY, NULL };

		ret = -ENOMEM;
		if (!(gens = server_sans(sans, nsans)) || !(srv_key = key_new())) {
			snprintf(err, errlen, "cannot make a key for the server: %s", ssl_reason());
			goto out;
		}
		spec.sans = gens;
		if (!(srv = cert_make(&spec, srv_key, ca, ca_key, err, errlen)))
			goto out;
		if ((ret = write_pair(p->dir, p->server_crt, p->server_key, srv, srv_key, err, errlen)))
			goto out;
		done |= PKI_MADE_SERVER;
	}
	ret = 0;
out:
	if (ret && (done & PKI_MADE_CA)) {
		/* a CA that signed nothing yet: no half-made PKI left behind */
		unlink(p->ca_crt);
		unlink(p->ca_key);
		done = 0;
	}
	*made = done;
	GENERAL_NAMES_free(gens);
	X509_free(ca);
	X509_free(srv);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(srv_key);
	return ret;
}

/* --- client certificates ---------------------------------------------- */

void pki_client_free(struct pki_client *cl)
{
	if (!cl)
		return;
	free(cl->ca_pem);
	free(cl->cert_pem);
	sodium_free(cl->key_pem);
	*cl = (struct pki_client){ 0 };
}

int pki_client_issue(const struct pki_paths *p, const char *user, const char *const *groups,
		     size_t ngroups, int64_t ttl, struct pki_client *out, char *err, size_t errlen)
{
	struct cert_spec spec = { CERT_CLIENT, user, groups, ngroups, ttl, NULL };
	struct pki_client cl = { 0 };
	X509 *ca = NULL, *x = NULL;
	EVP_PKEY *ca_key = NULL, *key = NULL;
	time_t end = time(NULL) + (time_t)ttl;
	int ret;

	if ((ret = load_pair(p->ca_crt, p->ca_key, &ca, &ca_key, err, errlen)))
		goto out;
	/* a certificate outliving its CA would stop working early anyway */
	if (X509_cmp_time(X509_get0_notAfter(ca), &end) < 0) {
		struct tm tm = { 0 };
		char when[32] = "?";

		if (ASN1_TIME_to_tm(X509_get0_notAfter(ca), &tm) == 1)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		snprintf(err, errlen, "a certificate valid that long would outlive the CA '%s' (valid until %s): give a shorter --ttl",
			 p->ca_crt, when);
		ret = -EINVAL;
		goto out;
	}
	ret = -ENOMEM;
	if (!(key = key_new())) {
		snprintf(err, errlen, "cannot make a key for user \"%s\": %s", user, ssl_reason());
		goto out;
	}
	if (!(x = cert_make(&spec, key, ca, ca_key, err, errlen)))
		goto out;
	cl.ca_pem = pem_text(ca, NULL, &cl.ca_len);
	cl.cert_pem = pem_text(x, NULL, &cl.cert_len);
	cl.key_pem = pem_text(NULL, key, &cl.key_len);
	if (!cl.ca_pem || !cl.cert_pem || !cl.key_pem) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	*out = cl;
	cl = (struct pki_client){ 0 };
	ret = 0;
out:
	ERR_clear_error();
	pki_client_free(&cl);
	X509_free(ca);
	X509_free(x);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	return ret;
}
