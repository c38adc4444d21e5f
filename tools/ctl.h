/*
 * ctl.h - secretctl's libraries, the files beside this header: kubectl-shaped
 * output, data from the command line, the edit's private folder, what the
 * create secret kinds compute, the API's certificates (the Kubernetes
 * objects, selectors, JSONPath and manifests are kube/'s, shared with the
 * API server).  They know nothing of the command line; the commands
 * (tools/ctl/, declared in tools/ctl/cmd.h) call them.  The fuzzers link some of them alone.
 */
#ifndef SECRETFS_CTL_H
#define SECRETFS_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "conf/pki.h"
#include "kube/kube.h"
#include "store/store.h"

/* --- output.c: kubectl-shaped printing --- */

/* A table printed as kubectl prints one: columns padded to the widest cell
 * plus three spaces. */
struct table {
	char **cells;
	size_t ncols, ncells;
};

void table_init(struct table *t, size_t ncols);
void table_add(struct table *t, const char *cell);
void table_addf(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void table_print(const struct table *t);
void table_release(struct table *t);

/* kubectl's AGE column (HumanDuration): "45s", "3m20s", "5h", "12d". */
/* Print an object as kubectl -o json (4-space indent, sorted keys) or
 * -o yaml.  Return 0, or -EIO on a write or emitter failure. */
int print_json(const json_t *obj);
int print_yaml(const json_t *obj);
int print_yaml_file(FILE *f, const json_t *obj);

/* A progress line for long operations, on stderr and only when stderr is
 * a terminal: drawn once the work is PROGRESS_MIN_ITEMS items or has run
 * half a second, redrawn at most ten times a second, erased at the end so
 * the command's own output follows on a clean line. */
#define PROGRESS_MIN_ITEMS 1000

struct progress {
	const char *label;
	bool tty, shown;
	double start, last;
};

void progress_begin(struct progress *p, const char *label);
void progress_update(struct progress *p, size_t done, size_t total);
void progress_end(struct progress *p);

/* --- input.c: building data from the command line --- */

/* Add --from-literal KEY=VALUE; on failure err says why. */
int input_literal(struct store_secret *s, const char *arg, char *err, size_t errlen);
/* Add --from-file [KEY=]PATH: a file, or every regular file of a folder. */
int input_file(struct store_secret *s, const char *arg, char *err, size_t errlen);
/* Add every KEY=VALUE line of an env file. */
int input_env_file(struct store_secret *s, const char *path, char *err, size_t errlen);
/* The same for text in memory: buf holds len bytes and room for one more. */
int input_env_text(struct store_secret *s, const char *path, uint8_t *buf, size_t len,
		   char *err, size_t errlen);

/* --- scratch.c: the edit's private folder --- */

/* Make the folder for a file that holds values (path to dir, dirlen bytes):
 * a tmpfs in a mount namespace of this process's own where it can (see
 * scratch.c), with every fatal catchable signal wiping it first.  0, or
 * -errno with err saying why.  One at a time. */
int scratch_open(char *dir, size_t dirlen, char *err, size_t errlen);
/* Wipe every file in it, remove it, restore the signals. */
void scratch_close(void);
/* In the editor's child, between fork and exec (parent: our pid). */
void scratch_editor_child(pid_t parent);

/* --- kinds.c: what kubectl's create secret subcommands compute --- */

int docker_config_json(char **out, size_t *len, const char *server, const char *user,
		       const char *password, const char *email);
int tls_check_pair(const uint8_t *cert, size_t certlen, const uint8_t *key, size_t keylen,
		   char *why, size_t whylen);
int secret_hash(char out[11], const struct store_secret *s, const char *type, bool immutable);
json_t *dry_run_object(const struct store_secret *s, bool ns_given, const char *type);

/* --- pki.c: the API's CA, the server's certificate, client certificates --- */

#define PKI_MADE_CA     1u
#define PKI_MADE_SERVER 2u

/*
 * Create what is missing of p's folder (conf/pki.h): the folder (0700),
 * the CA (10 years, CN secretfs-ca), the server's certificate (1 year, CN
 * secretfs-apiserver, SANs localhost, 127.0.0.1, ::1, the host name and
 * sans).  Never replaces a file; checks what exists (modes, owners, each
 * key its certificate's, the server's signed by the CA) and refuses a half
 * pair.  *made says what was created (PKI_MADE_*).  0, or a negative errno
 * with err (errlen bytes) naming the file and the reason; then nothing
 * new is left behind.
 */
int pki_ensure(const struct pki_paths *p, const char *const *sans, size_t nsans,
	       unsigned *made, char *err, size_t errlen);

/* A client's certificate (malloc'd PEM), its key (sodium_malloc'd PEM),
 * and the CA's certificate, each NUL-terminated.  Release with
 * pki_client_free (NULL-safe), which wipes the key. */
struct pki_client {
	char *ca_pem, *cert_pem, *key_pem;
	size_t ca_len, cert_len, key_len;
};

/*
 * Issue a client certificate signed by p's CA: CN user, an O per group,
 * extendedKeyUsage clientAuth, valid ttl seconds (not past the CA's end),
 * with a new key that exists only in memory.  0, or a negative errno with
 * err.
 */
int pki_client_issue(const struct pki_paths *p, const char *user, const char *const *groups,
		     size_t ngroups, int64_t ttl, struct pki_client *out, char *err, size_t errlen);
void pki_client_free(struct pki_client *cl);

/* A Go-style duration, sums of NUMBER and a unit s, m, h or d (24h):
 * "8760h", "90d", "1h30m".  0 (at least 1 s), -EINVAL, -ERANGE (over 100
 * years). */
int pki_duration(const char *text, int64_t *seconds);
/* 0 when name may be a SAN (a DNS name, "*." allowed first, or an IP). */
int pki_san_check(const char *name);
/* 0 when name may be a CN or O: 1 to 64 bytes, no control character. */
int pki_name_check(const char *name);

#endif
