/*
 * config.h - the one configuration file both programs read (inih .ini).
 *
 * Where it comes from: -c/--config FILE, else $SECRETFS_CONFIG, else
 * /etc/secretfs/secretfs.ini.  A file named explicitly must exist; the
 * default one may be absent, and then the built-in defaults hold.  Unknown
 * sections or keys and bad values are errors naming the file and line.
 * Relative paths in the file are taken relative to the file's folder.
 */
#ifndef SECRETFS_CONFIG_H
#define SECRETFS_CONFIG_H

#include <stdbool.h>
#include <sys/types.h>

#define CONFIG_DEFAULT_PATH  "/etc/secretfs/secretfs.ini"
#define CONFIG_DEFAULT_STORE "/var/lib/secretfs/store.db"
#define CONFIG_DEFAULT_KEY   "/etc/secretfs/master.key"
#define CONFIG_ERR_MAX       512

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

struct config {
	char *path;       /* the file read, or NULL if none was */
	char *store_path; /* [store] path */
	char *key_file;   /* [store] key_file */
	uid_t uid;        /* [mount] uid: owner of every file and folder */
	gid_t gid;        /* [mount] gid */
	mode_t mode;      /* [mount] mode of files (folders get x where r) */
	enum log_level log_level; /* [log] level */
};

/*
 * Load the configuration from path, or from $SECRETFS_CONFIG or the default
 * when path is NULL.  On success c holds it (release with config_release);
 * on failure err says which file, line and rule, and c holds nothing.
 */
int config_load(struct config *c, const char *path, char *err);
void config_release(struct config *c);

/* Parse "error", "warning", "info" or "debug". */
int config_parse_level(const char *s, enum log_level *out);

#endif
