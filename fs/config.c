/*
 * config.c - reading the .ini with inih.
 *
 * inih calls our handler once per name = value; the handler returns nonzero
 * on success (the opposite of our convention) and ini_parse() returns the
 * line of the first error.  We keep only the first error's message, since
 * the line inih reports is that one's, and treat any error as fatal.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"

struct parse {
	struct config *c;
	FILE *f;
	char *dir; /* folder of the file, for relative paths */
	int line;  /* lines read so far */
	int bad_line; /* line of an error found by the reader, not inih */
	char msg[CONFIG_ERR_MAX];
};

static int bad(struct parse *p, const char *fmt, const char *a, const char *b)
{
	if (!p->msg[0])
		snprintf(p->msg, sizeof(p->msg), fmt, a, b);
	return 0; /* inih: failure */
}

/* Parse a decimal id or a user/group name. */
static int parse_id(const char *v, bool group, unsigned *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (*v && *end == '\0' && errno == 0 && n < (unsigned long)INT_MAX &&
	    v[0] != '-') {
		*out = (unsigned)n;
		return 0;
	}
	if (group) {
		struct group *g = getgrnam(v);

		if (!g)
			return -ENOENT;
		*out = g->gr_gid;
	} else {
		struct passwd *pw = getpwnam(v);

		if (!pw)
			return -ENOENT;
		*out = pw->pw_uid;
	}
	return 0;
}

static int parse_mode(const char *v, mode_t *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 8);
	if (!*v || *end || errno || n > 0777 || v[0] == '-')
		return -EINVAL;
	*out = (mode_t)n;
	return 0;
}

int config_parse_level(const char *s, enum log_level *out)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Set *dst to value, made absolute against the config file's folder. */
static int set_path(struct parse *p, char **dst, const char *value)
{
	char *s;

	if (!*value)
		return -EINVAL;
	if (value[0] == '/' || !p->dir)
		s = strdup(value);
	else if (asprintf(&s, "%s/%s", p->dir, value) < 0)
		s = NULL;
	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse *p = user;
	struct config *c = p->c;
	unsigned id;

	if (strcmp(section, "store") == 0) {
		if (strcmp(name, "path") == 0) {
			if (set_path(p, &c->store_path, value))
				return bad(p, "[store] %s: must be a file path%s", name, "");
		} else if (strcmp(name, "key_file") == 0) {
			if (set_path(p, &c->key_file, value))
				return bad(p, "[store] %s: must be a file path%s", name, "");
		} else {
			return bad(p, "unknown key '%s' in section [%s]", name, section);
		}
	} else if (strcmp(section, "mount") == 0) {
		if (strcmp(name, "uid") == 0 || strcmp(name, "gid") == 0) {
			bool group = name[0] == 'g';

			if (parse_id(value, group, &id))
				return bad(p, group ? "[mount] gid: no such group or id '%s'%s" :
					   "[mount] uid: no such user or id '%s'%s", value, "");
			if (group)
				c->gid = id;
			else
				c->uid = id;
		} else if (strcmp(name, "mode") == 0) {
			if (parse_mode(value, &c->mode))
				return bad(p, "[mount] mode: '%s' is not an octal mode from 0 to 0777%s",
					   value, "");
		} else {
			return bad(p, "unknown key '%s' in section [%s]", name, section);
		}
	} else if (strcmp(section, "log") == 0) {
		if (strcmp(name, "level") != 0)
			return bad(p, "unknown key '%s' in section [%s]", name, section);
		if (config_parse_level(value, &c->log_level))
			return bad(p, "[log] level: '%s' is not one of error, warning, info, debug%s",
				   value, "");
	} else {
		return bad(p, "'%s' is outside any section%s", name, "");
	}
	return 1;
}

static bool known_section(const char *name)
{
	return strcmp(name, "store") == 0 || strcmp(name, "mount") == 0 ||
	       strcmp(name, "log") == 0;
}

/*
 * inih's line reader.  inih calls the handler only for name = value lines,
 * and Debian's build cannot call it on a new section, so section headers
 * are checked here: an unknown section is an error even when it is empty.
 */
static char *reader(char *buf, int size, void *user)
{
	struct parse *p = user;
	char *s, *end;

	if (p->bad_line || !fgets(buf, size, p->f))
		return NULL;
	p->line++;
	for (s = buf; *s == ' ' || *s == '\t'; s++)
		;
	if (*s != '[')
		return buf;
	end = strchr(s, ']');
	if (!end)
		return buf; /* inih reports the syntax error */
	*end = '\0';
	if (!known_section(s + 1)) {
		snprintf(p->msg, sizeof(p->msg), "unknown section [%s]", s + 1);
		p->bad_line = p->line;
	}
	*end = ']';
	return buf;
}

/* Refuse a file that someone other than its owner (or root) could change. */
static int check_file(const char *path, FILE *f, char *err)
{
	struct stat sb;

	if (fstat(fileno(f), &sb) < 0) {
		snprintf(err, CONFIG_ERR_MAX, "cannot stat config file '%s': %s",
			 path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, CONFIG_ERR_MAX, "config file '%s' is not a regular file", path);
		return -EINVAL;
	}
	if (sb.st_uid != geteuid() && sb.st_uid != 0) {
		snprintf(err, CONFIG_ERR_MAX,
			 "config file '%s' is owned by uid %u, neither the current user nor root",
			 path, (unsigned)sb.st_uid);
		return -EPERM;
	}
	if (sb.st_mode & 022) {
		snprintf(err, CONFIG_ERR_MAX,
			 "config file '%s' is writable by group or others (mode %04o): run 'chmod go-w %s'",
			 path, (unsigned)(sb.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

static int config_defaults(struct config *c)
{
	*c = (struct config){
		.store_path = strdup(CONFIG_DEFAULT_STORE),
		.key_file = strdup(CONFIG_DEFAULT_KEY),
		.uid = getuid(),
		.gid = getgid(),
		.mode = 0400,
		.log_level = LOG_LEVEL_INFO,
	};
	return c->store_path && c->key_file ? 0 : -ENOMEM;
}

int config_load(struct config *c, const char *path, char *err)
{
	struct parse p = { .c = c };
	bool must_exist = true;
	FILE *f = NULL;
	int ret, line;

	if (!path)
		path = getenv("SECRETFS_CONFIG");
	if (!path || !*path) {
		path = CONFIG_DEFAULT_PATH;
		must_exist = false;
	}
	if ((ret = config_defaults(c))) {
		snprintf(err, CONFIG_ERR_MAX, "out of memory");
		goto fail;
	}
	{
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

		if (fd >= 0)
			f = fdopen(fd, "r");
		if (!f) {
			ret = -errno;
			if (fd >= 0)
				close(fd);
			if (errno == ENOENT && !must_exist)
				return 0;
			snprintf(err, CONFIG_ERR_MAX, "cannot open config file '%s': %s",
				 path, errno == ELOOP ? "is a symbolic link" : strerror(errno));
			goto fail;
		}
	}
	if ((ret = check_file(path, f, err)))
		goto fail;
	c->path = strdup(path);
	p.dir = strdup(path);
	if (!c->path || !p.dir) {
		ret = -ENOMEM;
		snprintf(err, CONFIG_ERR_MAX, "out of memory");
		goto fail;
	}
	{
		char *slash = strrchr(p.dir, '/');

		if (!slash) {
			free(p.dir);
			p.dir = NULL;
		} else {
			slash[slash == p.dir ? 1 : 0] = '\0';
		}
	}
	p.f = f;
	ini_allow_multiline = false; /* an indented line is not a continuation */
	line = ini_parse_stream(reader, &p, handler, &p);
	if (p.bad_line && (line == 0 || line > p.bad_line))
		line = p.bad_line;
	if (line != 0) {
		ret = -EINVAL;
		if (line < 0)
			snprintf(err, CONFIG_ERR_MAX, "cannot read config file '%s'", path);
		else if (p.msg[0])
			snprintf(err, CONFIG_ERR_MAX, "%s:%d: %s", path, line, p.msg);
		else
			snprintf(err, CONFIG_ERR_MAX,
				 "%s:%d: syntax error (expected [section] or name = value, at most 200 characters a line)",
				 path, line);
		goto fail;
	}
	fclose(f);
	free(p.dir);
	return 0;
fail:
	if (f)
		fclose(f);
	free(p.dir);
	config_release(c);
	return ret;
}

void config_release(struct config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->store_path);
	free(c->key_file);
	*c = (struct config){ 0 };
}
