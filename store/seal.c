/*
 * seal.c - encryption at rest: the master key file, the data-key ring, and
 * sealing of values.
 *
 * A sealed value is   format(1) || nonce(24) || XChaCha20-Poly1305(value)
 * with associated data binding the format, the store's UUID, the data-key id,
 * the namespace, the secret's name and uid, its generation and the key name.
 * A blob copied to another key, secret, store, or an older generation of the
 * same secret therefore fails to open.  A data key is wrapped the same way
 * under the master key, bound to the store UUID and its own id.
 *
 * Invariant: no function here returns or leaves behind plaintext that failed
 * authentication; every temporary copy of a key or a value is wiped.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h"

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES   crypto_aead_xchacha20poly1305_ietf_ABYTES
#define AD_MAX      1024

/* A bounded writer for the associated data. */
struct ad {
	unsigned char buf[AD_MAX];
	size_t len;
	bool overflow;
};

static void ad_bytes(struct ad *ad, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (ad->overflow || n > sizeof(ad->buf) - ad->len) {
		ad->overflow = true;
		return;
	}
	memcpy(ad->buf + ad->len, p, n);
	ad->len += n;
}

static void ad_u64(struct ad *ad, uint64_t v)
{
	unsigned char b[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = v & 0xff;
	ad_bytes(ad, b, sizeof(b));
}

/* Length-prefixed, so that ("ab","c") and ("a","bc") differ. */
static void ad_str(struct ad *ad, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	ad_u64(ad, n);
	ad_bytes(ad, s, n);
}

static void ad_value(struct ad *ad, const struct seal_ctx *ctx)
{
	static const char tag[] = "secretfs-value";
	unsigned char format = SEAL_FORMAT;

	ad->len = 0;
	ad->overflow = false;
	ad_bytes(ad, tag, sizeof(tag));
	ad_bytes(ad, &format, 1);
	ad_bytes(ad, ctx->store_uuid, SEAL_UUID_BYTES);
	ad_u64(ad, ctx->key_id);
	ad_str(ad, ctx->namespace);
	ad_str(ad, ctx->name);
	ad_str(ad, ctx->uid);
	ad_u64(ad, (uint64_t)ctx->generation);
	ad_str(ad, ctx->key);
}

/* format is part of what a wrapped key authenticates: a key wrapped as
 * format 2 (its store's secrets carry metadata tags) cannot be passed off
 * as format 1 without the master key. */
static void ad_keyring(struct ad *ad, const unsigned char *uuid, uint32_t id,
		       unsigned char format)
{
	static const char tag[] = "secretfs-keyring";

	ad->len = 0;
	ad->overflow = false;
	ad_bytes(ad, tag, sizeof(tag));
	ad_bytes(ad, &format, 1);
	ad_bytes(ad, uuid, SEAL_UUID_BYTES);
	ad_u64(ad, id);
}

/*
 * Read the 32-byte master key into key.  The file must be a regular file
 * owned by the effective user with no group or other permission bits: a key
 * that others could read, or swap, is refused rather than trusted.
 */
int seal_keyfile_read(const char *path, unsigned char *key, char *err)
{
	struct stat sb;
	size_t got = 0;
	int fd, ret = 0;

	/* O_NONBLOCK: a FIFO put there would block open() until a writer came */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, STORE_ERRMSG_MAX, "cannot open key file '%s': %s",
			 path, errno == ELOOP ? "is a symbolic link" :
			 strerror(errno));
		return ret;
	}
	if (fstat(fd, &sb) < 0) {
		ret = -errno;
		snprintf(err, STORE_ERRMSG_MAX, "cannot stat key file '%s': %s",
			 path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		ret = -EINVAL;
		snprintf(err, STORE_ERRMSG_MAX,
			 "key file '%s' is not a regular file", path);
		goto out;
	}
	if (sb.st_uid != geteuid()) {
		ret = -EPERM;
		snprintf(err, STORE_ERRMSG_MAX,
			 "key file '%s' is owned by uid %u, not by the current user (uid %u)",
			 path, (unsigned)sb.st_uid, (unsigned)geteuid());
		goto out;
	}
	if (sb.st_mode & 077) {
		ret = -EPERM;
		snprintf(err, STORE_ERRMSG_MAX,
			 "key file '%s' is accessible by group or others (mode %04o): run 'chmod 0400 %s'",
			 path, (unsigned)(sb.st_mode & 07777), path);
		goto out;
	}
	if (sb.st_size != SEAL_KEY_BYTES) {
		ret = -EINVAL;
		snprintf(err, STORE_ERRMSG_MAX,
			 "key file '%s' must hold exactly %d bytes, not %lld",
			 path, SEAL_KEY_BYTES, (long long)sb.st_size);
		goto out;
	}
	while (got < SEAL_KEY_BYTES) {
		ssize_t n = read(fd, key + got, SEAL_KEY_BYTES - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			snprintf(err, STORE_ERRMSG_MAX,
				 "cannot read key file '%s': %s", path,
				 n < 0 ? strerror(errno) : "file is short");
			sodium_memzero(key, SEAL_KEY_BYTES);
			goto out;
		}
		got += (size_t)n;
	}
out:
	close(fd);
	return ret;
}

/* Create a new key file exclusively, mode 0400, holding a random key. */
int seal_keyfile_create(const char *path, unsigned char *key, char *err)
{
	size_t done = 0;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0400);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, STORE_ERRMSG_MAX, "cannot create key file '%s': %s",
			 path, strerror(errno));
		return ret;
	}
	randombytes_buf(key, SEAL_KEY_BYTES);
	while (done < SEAL_KEY_BYTES) {
		ssize_t n = write(fd, key + done, SEAL_KEY_BYTES - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, STORE_ERRMSG_MAX,
				 "cannot write key file '%s': %s", path,
				 strerror(errno));
			break;
		}
		done += (size_t)n;
	}
	if (ret == 0 && fsync(fd) < 0) {
		ret = -errno;
		snprintf(err, STORE_ERRMSG_MAX, "cannot sync key file '%s': %s",
			 path, strerror(errno));
	}
	close(fd);
	if (ret < 0) {
		unlink(path);
		sodium_memzero(key, SEAL_KEY_BYTES);
	}
	return ret;
}

/* Wrap data key dk under master.  *out is malloc'd (not secret). */
int seal_wrap_key(unsigned char **out, size_t *outlen,
		  const unsigned char *master, const unsigned char *uuid,
		  uint32_t id, const unsigned char *dk)
{
	size_t len = 1 + NONCE_BYTES + SEAL_KEY_BYTES + TAG_BYTES;
	unsigned char *blob;
	struct ad ad;

	blob = malloc(len);
	if (!blob)
		return -ENOMEM;
	ad_keyring(&ad, uuid, id, SEAL_RING_FORMAT);
	blob[0] = SEAL_RING_FORMAT;
	randombytes_buf(blob + 1, NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(blob + 1 + NONCE_BYTES, NULL,
						   dk, SEAL_KEY_BYTES, ad.buf,
						   ad.len, NULL, blob + 1,
						   master);
	*out = blob;
	*outlen = len;
	return 0;
}

/* Unwrap a data key into dk (SEAL_KEY_BYTES) and say its format (1 or
 * SEAL_RING_FORMAT).  -EBADMSG on a wrong master key or a tampered blob; dk
 * is then wiped. */
int seal_unwrap_key(unsigned char *dk, int *format, const unsigned char *master,
		    const unsigned char *uuid, uint32_t id,
		    const unsigned char *wrapped, size_t wrappedlen)
{
	struct ad ad;

	if (wrappedlen != 1 + NONCE_BYTES + SEAL_KEY_BYTES + TAG_BYTES ||
	    (wrapped[0] != 1 && wrapped[0] != SEAL_RING_FORMAT))
		return -EBADMSG;
	ad_keyring(&ad, uuid, id, wrapped[0]);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    dk, NULL, NULL, wrapped + 1 + NONCE_BYTES,
		    wrappedlen - 1 - NONCE_BYTES, ad.buf, ad.len,
		    wrapped + 1, master) != 0) {
		sodium_memzero(dk, SEAL_KEY_BYTES);
		return -EBADMSG;
	}
	*format = wrapped[0];
	return 0;
}

size_t seal_blob_len(size_t plainlen)
{
	return 1 + NONCE_BYTES + plainlen + TAG_BYTES;
}

/* Seal len bytes of plain into blob (seal_blob_len(len) bytes). */
int seal_value(unsigned char *blob, const unsigned char *key,
	       const struct seal_ctx *ctx, const uint8_t *plain, size_t len)
{
	struct ad ad;

	ad_value(&ad, ctx);
	if (ad.overflow)
		return -EINVAL;
	blob[0] = SEAL_FORMAT;
	randombytes_buf(blob + 1, NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(blob + 1 + NONCE_BYTES, NULL,
						   plain, len, ad.buf, ad.len,
						   NULL, blob + 1, key);
	return 0;
}

/*
 * Open a sealed blob.  On success *plain is sodium_malloc'd (one extra NUL
 * byte after the value, for callers that print text) and the caller frees it
 * with sodium_free; the _pooled variant's with secbuf_free.  On failure nothing is returned: -EBADMSG for a blob
 * that does not authenticate or is malformed.
 */
static int seal_open(uint8_t **plain, size_t *len, const unsigned char *key,
		     const struct seal_ctx *ctx, const unsigned char *blob,
		     size_t bloblen, bool pooled)
{
	unsigned long long outlen = 0;
	struct ad ad;
	uint8_t *buf;
	size_t n;

	if (!key || bloblen < 1 + NONCE_BYTES + TAG_BYTES ||
	    blob[0] != SEAL_FORMAT ||
	    bloblen - 1 - NONCE_BYTES - TAG_BYTES > STORE_MAX_DATA_BYTES)
		return -EBADMSG;
	ad_value(&ad, ctx);
	if (ad.overflow)
		return -EBADMSG;
	n = bloblen - 1 - NONCE_BYTES - TAG_BYTES;
	buf = pooled ? secbuf_alloc(n + 1) : sodium_malloc(n + 1);
	if (!buf)
		return -ENOMEM;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    buf, &outlen, NULL, blob + 1 + NONCE_BYTES,
		    bloblen - 1 - NONCE_BYTES, ad.buf, ad.len, blob + 1,
		    key) != 0) {
		if (pooled)
			secbuf_free(buf); /* both wipe */
		else
			sodium_free(buf);
		return -EBADMSG;
	}
	buf[n] = '\0';
	*plain = buf;
	*len = (size_t)outlen;
	return 0;
}

int seal_open_value(uint8_t **plain, size_t *len, const unsigned char *key,
		    const struct seal_ctx *ctx, const unsigned char *blob,
		    size_t bloblen)
{
	return seal_open(plain, len, key, ctx, blob, bloblen, false);
}

int seal_open_value_pooled(uint8_t **plain, size_t *len, const unsigned char *key,
			   const struct seal_ctx *ctx, const unsigned char *blob,
			   size_t bloblen)
{
	return seal_open(plain, len, key, ctx, blob, bloblen, true);
}

/* The unwrapped data key with this id, or NULL if the ring lacks it. */
const unsigned char *seal_key_find(const struct store *st, uint32_t id)
{
	for (size_t i = 0; i < st->nkeys; i++)
		if (st->keys[i].id == id)
			return st->keys[i].key;
	return NULL;
}

uint8_t *store_value_alloc(size_t n)
{
	return secbuf_alloc(n);
}

void store_value_free(uint8_t *value)
{
	secbuf_free(value);
}
