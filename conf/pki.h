/*
 * pki.h - where the API's certificates live, and the check every program
 * makes of a private key file before using it.
 *
 * The contract secretctl (which makes them: tools/pki.c) and
 * secretfs-apiserver (which serves with them) share: a folder pki/ beside
 * the master key file ([store] key_file), mode 0700, owned by root (or the
 * user running the program), holding
 *
 *   ca.crt      the CA: signs the server's certificate and every client's
 *   ca.key      its ECDSA P-256 key
 *   server.crt  the server's certificate (serverAuth)
 *   server.key  its key
 *
 * Key files are mode 0400 and refused when looser; certificates 0644.
 * [api] tls_cert, tls_key and client_ca replace server.crt, server.key and
 * ca.crt for the server only: pki_paths() always names the pki/ files.
 */
#ifndef SECRETFS_CONF_PKI_H
#define SECRETFS_CONF_PKI_H

#include <limits.h>
#include <stddef.h>

#include "conf/conf.h"

#define PKI_DIR_NAME "pki"

struct pki_paths {
	char dir[PATH_MAX];        /* .../pki */
	char ca_crt[PATH_MAX];     /* .../pki/ca.crt */
	char ca_key[PATH_MAX];     /* .../pki/ca.key */
	char server_crt[PATH_MAX]; /* .../pki/server.crt */
	char server_key[PATH_MAX]; /* .../pki/server.key */
};

/*
 * Fill out with the pki/ folder beside c's key file and its four files
 * (nothing is read or created).  0, or -ENAMETOOLONG with err (errlen
 * bytes) naming the key file.
 */
int pki_paths(const struct conf *c, struct pki_paths *out, char *err, size_t errlen);

/*
 * May path be used as a private key?  A regular file (not a symbolic link,
 * not a FIFO: it is opened non-blocking, never read), owned by root or the
 * effective user, mode no looser than 0400.  0, or a negative errno with
 * err (errlen bytes) naming the file and the fix: -ENOENT, -EINVAL (not a
 * regular file, a symbolic link), -EPERM (owner, mode).
 */
int pki_check_key_file(const char *path, char *err, size_t errlen);

/*
 * The same for the pki/ folder: a folder, not a symbolic link, owned by
 * root or the effective user, mode no looser than 0700.
 */
int pki_check_dir(const char *path, char *err, size_t errlen);

#endif
