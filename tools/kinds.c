/*
 * kinds.c - what kubectl's create secret subcommands compute: the
 * .dockerconfigjson document of a docker-registry secret, the check that a
 * TLS certificate and key are PEM and belong together (OpenSSL), the
 * --append-hash suffix, and the object --dry-run=client prints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "ctl.h"

/* A value as compact JSON in memory we own (free with free()): jansson's
 * own strings come from the allocator secretctl gives it. */
static char *json_text(const json_t *v, size_t flags)
{
	size_t n = json_dumpb(v, NULL, 0, flags);
	char *buf = n ? malloc(n + 1) : NULL;

	if (!buf)
		return NULL;
	if (json_dumpb(v, buf, n, flags) != n) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* kubectl's .dockerconfigjson: {"auths":{SERVER:{username,password,email,auth}}},
 * email left out when empty; auth is base64("user:password"). */
int docker_config_json(char **out, size_t *len, const char *server, const char *user,
		       const char *password, const char *email)
{
	size_t n = strlen(user) + 1 + strlen(password);
	char *pair = sodium_malloc(n + 1);
	char *auth = sodium_malloc(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL));
	json_t *entry, *doc = NULL;
	char *text = NULL;

	if (!pair || !auth)
		goto out;
	snprintf(pair, n + 1, "%s:%s", user, password);
	sodium_bin2base64(auth, sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL),
			  (const unsigned char *)pair, n, sodium_base64_VARIANT_ORIGINAL);
	entry = json_pack("{s:s, s:s}", "username", user, "password", password);
	if (entry && email && *email)
		json_object_set_new(entry, "email", json_string(email));
	if (entry)
		json_object_set_new(entry, "auth", json_string(auth));
	doc = entry ? json_pack("{s:{s:o}}", "auths", server, entry) : NULL;
	text = doc ? json_text(doc, JSON_COMPACT) : NULL; /* insertion order, as Go */
out:
	if (pair)
		sodium_free(pair);
	if (auth)
		sodium_free(auth);
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	*out = text;
	*len = strlen(text);
	return 0;
}

/* Both PEM, and the key the certificate's: 0, or -EINVAL with why. */
int tls_check_pair(const uint8_t *cert, size_t certlen, const uint8_t *key, size_t keylen,
		   char *why, size_t whylen)
{
	BIO *cb = BIO_new_mem_buf(cert, (int)certlen), *kb = BIO_new_mem_buf(key, (int)keylen);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pk = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	int ret = 0;

	const char *problem = !x ? "the certificate is not a PEM certificate" :
			      !pk ? "the key is not a PEM private key" :
			      X509_check_private_key(x, pk) != 1 ?
				      "private key does not match public key" : NULL;

	if (problem) {
		snprintf(why, whylen, "%s", problem);
		ret = -EINVAL;
	}
	ERR_clear_error();
	EVP_PKEY_free(pk);
	X509_free(x);
	BIO_free(cb);
	BIO_free(kb);
	return ret;
}

/*
 * kubectl's --append-hash suffix: the SHA-256 of the JSON encoding of
 * {data (base64), immutable (when set), kind, name, type} with sorted keys,
 * its first ten hex digits with 0 1 3 a e written g h k m t.
 */
int secret_hash(char out[11], const struct store_secret *s, const char *type, bool immutable)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	json_t *obj = json_object(), *data = secret_data_json(s);
	char *text;

	if (!obj || !data) {
		json_decref(obj);
		json_decref(data);
		return -ENOMEM;
	}
	json_object_set_new(obj, "data", data);
	if (immutable)
		json_object_set_new(obj, "immutable", json_true());
	json_object_set_new(obj, "kind", json_string("Secret"));
	json_object_set_new(obj, "name", json_string(s->name));
	json_object_set_new(obj, "type", json_string(type));
	text = json_text(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	if (!text)
		return -ENOMEM;
	crypto_hash_sha256(digest, (const unsigned char *)text, strlen(text));
	sodium_memzero(text, strlen(text));
	free(text);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	for (int i = 0; i < 10; i++) {
		switch (hex[i]) {
		case '0': hex[i] = 'g'; break;
		case '1': hex[i] = 'h'; break;
		case '3': hex[i] = 'k'; break;
		case 'a': hex[i] = 'm'; break;
		case 'e': hex[i] = 't'; break;
		}
	}
	memcpy(out, hex, 10);
	out[10] = '\0';
	return 0;
}

/* The object kubectl create ... --dry-run=client prints, in its order:
 * kind, apiVersion, metadata, immutable, data, type (when given). */
json_t *dry_run_object(const struct store_secret *s, bool ns_given, const char *type)
{
	json_t *meta = json_object(), *obj = json_object(), *data = secret_data_json(s);

	if (!meta || !obj || !data) {
		json_decref(meta);
		json_decref(obj);
		json_decref(data);
		return NULL;
	}
	json_object_set_new(meta, "name", json_string(s->name));
	if (ns_given)
		json_object_set_new(meta, "namespace", json_string(s->namespace));
	json_object_set_new(meta, "creationTimestamp", json_null());
	json_object_set_new(obj, "kind", json_string("Secret"));
	json_object_set_new(obj, "apiVersion", json_string("v1"));
	json_object_set_new(obj, "metadata", meta);
	if (s->immutable)
		json_object_set_new(obj, "immutable", json_true());
	json_object_set_new(obj, "data", data);
	if (type && *type)
		json_object_set_new(obj, "type", json_string(type));
	return obj;
}
