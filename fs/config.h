/*
 * config.h - the daemon's configuration: the shared sections (struct conf,
 * conf/conf.h, which also says where the file comes from and its rules)
 * and the daemon's own, [mount], [view NAME], [updates], [audit] and [log].
 * Only secretfs and what looks at its views (the OCI hook) include this.
 */
#ifndef SECRETFS_CONFIG_H
#define SECRETFS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf/conf.h"
#include "conf/match.h"

#define CONFIG_DEFAULT_AUDIT SECRETFS_LOCALSTATEDIR "/log/secretfs/audit.log"
#define CONFIG_DEFAULT_AUDIT_SIZE  (100ULL << 20) /* rotated at 100 MiB, */
#define CONFIG_DEFAULT_AUDIT_FILES 5              /* 5 old files kept */
#define VIEW_NAME_MAX        63

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* How the driver notices changes: the kubelet's
 * configMapAndSecretChangeDetectionStrategy. */
enum update_strategy {
	UPDATE_WATCH, /* notice each commit at once (inotify + change log) */
	UPDATE_TTL,   /* re-validate every ttl seconds */
	UPDATE_POLL,  /* cache nothing: every open reads the store */
};

/* How a secret's folder is laid out. */
enum layout {
	LAYOUT_PLAIN,   /* <key> files, live in place */
	LAYOUT_KUBELET, /* ..data -> ..rev-N/<key>, <key> -> ..data/<key> */
};

/* One projected key of a granted secret, as a secret volume's items[]. */
struct view_item {
	char *key;     /* the key in the secret */
	char *file;    /* the file name it appears as */
	mode_t mode;   /* its mode, or the view's when !has_mode */
	bool has_mode;
	int line;      /* where it was configured, for messages */
};

/* A grant: one secret (name) or every secret of a namespace (name NULL). */
struct view_grant {
	char *ns;
	char *name;    /* NULL for NS/ * */
	bool optional;
	struct view_item *items; /* none: every key, under its own name */
	size_t nitems;
	int line;
};

struct kube_pod;

/* A [view NAME] section: what one container may see. */
struct view {
	char *name;
	/* pod = FILE (or secretfs --pod): the pod's secret volumes, served as
	 * MOUNTPOINT/VOLUME/PATH (fs/volume.c); grants then lists each source
	 * secret (optional, items) so that what it requires is checked as for
	 * any view, and no secret/optional/item line may be given */
	struct kube_pod *pod;
	char *pod_path;
	struct view_grant *grants;
	size_t ngrants;
	struct match_pattern *matches; /* match = cgroup:/..., see match.h */
	size_t nmatches;
	uid_t uid;
	gid_t gid;
	mode_t mode;     /* default file mode, 0400 unless set */
	bool audit;      /* record every open (they then reach the daemon) */
	bool audit_fail_closed; /* refuse an open whose record cannot be written */
	enum layout layout;
	bool has_layout; /* set in the section; else [mount]'s */
	bool direct_io;  /* keep plaintext out of the page cache */
	bool has_direct_io;
};

struct config {
	struct conf conf; /* [store], [limits], [cluster]; the file's path */
	uid_t uid;        /* [mount] uid: owner of every file and folder */
	gid_t gid;        /* [mount] gid */
	mode_t mode;      /* [mount] mode of files (folders get x where r) */
	enum layout layout; /* [mount] layout */
	bool direct_io;   /* [mount] direct_io: no plaintext in the page cache */
	enum update_strategy strategy; /* [updates] strategy */
	unsigned ttl;     /* [updates] ttl, seconds */
	enum log_level log_level; /* [log] level */
	char *audit_path; /* [audit] path: JSON lines, one per recorded open */
	uint64_t audit_max_size;   /* [audit] max_size: rotate past it (0: never) */
	unsigned audit_max_files;  /* [audit] max_files: rotated files kept */
	struct view *views; /* [view NAME] sections, in file order */
	size_t nviews;
};

/*
 * Load the configuration from path, or from $SECRETFS_CONFIG or the default
 * when path is NULL (see conf_load).  On success c holds it (release with
 * config_release); on failure err (CONF_ERR_MAX bytes) says which file,
 * line and rule, and c holds nothing.
 */
int config_load(struct config *c, const char *path, char *err);
void config_release(struct config *c);

/* The view of that name, or NULL. */
const struct view *config_view(const struct config *c, const char *name);

/*
 * The view a process in cgroup (an absolute path) gets, or NULL: the one
 * whose match selects the shallowest of the cgroup and its ancestors, so
 * nothing created below a view's cgroup selects another view.  config_load
 * refuses patterns of two views that could select one cgroup, or one below
 * the other, so the answer never depends on the order of the file.
 */
const struct view *config_view_for_cgroup(const struct config *c, const char *cgroup);

/*
 * A view serving the Pod of the manifest at path (secretfs --pod, and
 * 'pod = FILE' in a view): v->pod, and a grant per source secret in the
 * pod's namespace.  v's other fields are left as they are.  0, or -EINVAL
 * with err saying why (file and field), -ENOMEM.
 */
int config_pod_view(struct view *v, const char *path, char *err, size_t len);
/* Free what a view holds (not v itself): for a view made outside
 * config_load, e.g. by config_pod_view. */
void config_view_release(struct view *v);

/*
 * Do a and b serve the same thing?  A deep compare of what was parsed
 * (grants, items, modes, owners, match rules, layout, audit, pod file),
 * not of where it was written (line numbers).  A pod view compares by its
 * manifest's path: its content is read again only when the path changes.
 */
bool config_view_equal(const struct view *a, const struct view *b);

/* Parse "error", "warning", "info" or "debug". */
int config_parse_level(const char *s, enum log_level *out);

#endif
