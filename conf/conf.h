/*
 * conf.h - the configuration file every program reads (inih .ini), and the
 * sections they share: [store], [limits], [cluster] and [api].
 *
 * Where it comes from: -c/--config FILE, else $SECRETFS_CONFIG, else
 * SYSCONFDIR/secretfs/secretfs.ini (/etc unless built otherwise).  A file named explicitly must exist; the
 * default one may be absent, and then the built-in defaults hold.  The file
 * must be a regular file, not a symbolic link, owned by the current user or
 * root and writable by nobody else; it holds text (no NUL byte) in lines of
 * at most 199 characters.  Unknown sections or keys and bad values are
 * errors naming the file and line.  Relative paths in the file are taken
 * relative to the file's folder.
 *
 * The daemon's own sections ([mount], [view NAME], [updates], [audit],
 * [log]) are read by fs/config.c through struct conf_sections; a program
 * that passes none (secretctl, the test tools) skips them unread.
 */
#ifndef SECRETFS_CONF_H
#define SECRETFS_CONF_H

#include "store/cluster.h"

/* make install's SYSCONFDIR and LOCALSTATEDIR, compiled in by the Makefile
 * (which rebuilds what uses them when they change) */
#ifndef SECRETFS_SYSCONFDIR
#define SECRETFS_SYSCONFDIR "/etc"
#endif
#ifndef SECRETFS_LOCALSTATEDIR
#define SECRETFS_LOCALSTATEDIR "/var"
#endif
#define CONF_DEFAULT_PATH  SECRETFS_SYSCONFDIR "/secretfs/secretfs.ini"
#define CONF_DEFAULT_STORE SECRETFS_LOCALSTATEDIR "/lib/secretfs/store.db"
#define CONF_DEFAULT_KEY   SECRETFS_SYSCONFDIR "/secretfs/master.key"
#define CONF_ERR_MAX       512
#define CONF_DEFAULT_LISTEN "127.0.0.1:6443"

/*
 * [api]: secretfs-apiserver's, shared because secretctl reads listen (the
 * server a kubeconfig names) and the certificate paths (conf/pki.h).
 * Paths are NULL when not set: the server then uses the pki/ folder beside
 * the key file.
 */
struct conf_api {
	char *listen;     /* HOST:PORT or [IPV6]:PORT; CONF_DEFAULT_LISTEN unset */
	char *tls_cert;   /* the server's certificate (default pki/server.crt) */
	char *tls_key;    /* its key (default pki/server.key) */
	char *client_ca;  /* CA for client certificates (default pki/ca.crt) */
	char *token_file; /* kube-apiserver's --token-auth-file format, or NULL */
	char *audit_path; /* one JSON line per request, or NULL */
};

struct conf {
	char *path;       /* the file read (absolute), or NULL if none was */
	char *store_path; /* [store] path */
	char *key_file;   /* [store] key_file */
	unsigned long max_secrets_per_namespace; /* [limits], 0: none */
	struct cluster_opts cluster; /* [cluster]: endpoints NULL without one */
	struct conf_api api;         /* [api] */
};

/* The parse in progress, handed to a program's own sections. */
struct conf_parse;

/*
 * A program's own sections.  Each callback returns 0, or -EINVAL after
 * conf_bad() said why (or -ENOMEM); the first error ends the parse and is
 * reported with its file and line.
 */
/* The drop-in folder beside the configuration file: views.d/ *.ini, read
 * after the file in name order, [view NAME] sections only. */
#define CONF_DROPIN_DIR "views.d"

struct conf_sections {
	/* A section header [name] that is not a shared one: 0 when it is one
	 * of the program's (it may make state for it: a [view NAME]), 1 when
	 * it is unknown. */
	int (*header)(struct conf_parse *p, void *ctx, const char *name);
	/* name = value in one of the program's sections. */
	int (*value)(struct conf_parse *p, void *ctx, const char *section, const char *name,
		     const char *value);
	/* After the whole file, for checks across lines: path is the file's
	 * name as given; the message goes in err (CONF_ERR_MAX bytes). */
	int (*finish)(void *ctx, const char *path, char *err);
	void *ctx;
};

/*
 * Load the configuration from path, or from $SECRETFS_CONFIG or the default
 * when path is NULL, handing the sections that are not shared to s (NULL:
 * skip the daemon's, refuse any other).  On success c holds it (release
 * with conf_release); on failure err (CONF_ERR_MAX bytes) names the file,
 * line and rule, and c holds nothing.  Returns 0 or a negative errno.
 */
int conf_load(struct conf *c, const char *path, const struct conf_sections *s, char *err);
void conf_release(struct conf *c);

/* Record why the current line is refused (the first reason is kept);
 * returns -EINVAL. */
int conf_bad(struct conf_parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set *dst to value, made absolute against the file's folder: 0, -EINVAL
 * for an empty value, -ENOMEM. */
int conf_set_path(struct conf_parse *p, char **dst, const char *value);

/* The line being parsed (1 for the first). */
int conf_line(const struct conf_parse *p);

#endif
