/*
 * fs.h - what the files of the driver share.
 *
 * The tree is /<namespace>/<secret>/<key>.  A node is the driver's record of
 * a name the kernel holds a reference to (a lookup it has not forgotten);
 * nodes are created by lookup and freed by forget, and the store, not the
 * node table, is the truth about what exists.
 */
#ifndef SECRETFS_FS_H
#define SECRETFS_FS_H

#define FUSE_USE_VERSION 314

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include <fuse_lowlevel.h>

#include "config.h"
#include "store/store.h"

enum node_kind { NODE_ROOT, NODE_NS, NODE_SECRET, NODE_KEY };

struct node {
	fuse_ino_t ino;
	enum node_kind kind;
	char *name;            /* "" for the root */
	struct node *parent;   /* holds one ref on the parent */
	uint64_t nlookup;      /* the kernel's references */
	uint64_t refs;         /* children pointing here */
	struct node *next_ino; /* hash chains */
	struct node *next_name;
};

struct node_table {
	struct node **by_ino;
	struct node **by_name;
	size_t nbuckets;
	size_t count;
	fuse_ino_t next_ino;
	struct node root;
};

struct fs {
	const struct config *cfg;
	struct store *st;        /* protected by lock */
	struct node_table nodes; /* protected by lock */
	pthread_mutex_t lock;
	double timeout;          /* entry and attribute cache time, seconds */
	time_t mounted;
};

/* node.c - all callers hold fs->lock */
int node_table_init(struct node_table *t);
void node_table_release(struct node_table *t);
struct node *node_get(struct node_table *t, fuse_ino_t ino);
/* Find or create the child of parent named name, taking one kernel
 * reference on it.  NULL on allocation failure. */
struct node *node_lookup(struct node_table *t, struct node *parent,
			 const char *name, enum node_kind kind);
/* The child of parent named name, or NULL; takes no reference. */
struct node *node_find(struct node_table *t, const struct node *parent,
		       const char *name);
/* The d_ino to list for a name (readers skip entries whose d_ino is 0). */
fuse_ino_t node_dirent_ino(struct node_table *t, const struct node *parent,
			   const char *name);
/* Drop n kernel references; frees the node (and unreferenced ancestors)
 * once nothing holds it. */
void node_forget(struct node_table *t, struct node *n, uint64_t count);
/* The namespace, secret and key names along n's path (NULL where absent). */
void node_path(const struct node *n, const char **ns, const char **secret,
	       const char **key);

/* ops.c */
extern const struct fuse_lowlevel_ops fs_ops;

/* log.c - never pass a secret value */
void log_init(enum log_level level, bool to_syslog);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
