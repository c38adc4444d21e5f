/*
 * conf.c - reading the .ini with inih, and its shared sections.
 *
 * inih calls our handler once per name = value; the handler returns nonzero
 * on success (the opposite of our convention) and ini_parse() returns the
 * line of the first error.  We keep only the first error's message, since
 * the line inih reports is that one's, and treat any error as fatal.
 * Debian's inih cannot call the handler on a new section, so section headers
 * are seen by our line reader instead: that is where unknown sections are
 * refused and where a program's sections come into being ([view NAME],
 * empty or not).  The callbacks of struct conf_sections use our convention
 * (0 or a negative errno); only this file speaks inih's.
 */
#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "conf/conf.h"

struct conf_parse {
	struct conf *c;
	const struct conf_sections *s; /* the program's sections, or NULL */
	const char *text; /* the whole file, read before parsing */
	size_t len, pos;  /* its length, and where the next line starts */
	char *dir;    /* folder of the file, for relative paths */
	int line;     /* lines read so far */
	int bad_line; /* line of an error found by the reader, not inih */
	bool dropin;  /* a views.d file: [view NAME] sections only */
	char msg[CONF_ERR_MAX];
};

/*
 * The daemon's sections (fs/config.c), which a program reading only the
 * shared ones skips: secretctl must not refuse a file the daemon reads.
 */
static bool daemon_section(const char *name)
{
	return strcmp(name, "mount") == 0 || strcmp(name, "log") == 0 ||
	       strcmp(name, "audit") == 0 || strcmp(name, "updates") == 0 ||
	       strcmp(name, "view") == 0 || strncmp(name, "view ", 5) == 0;
}

static bool shared_section(const char *name)
{
	return strcmp(name, "store") == 0 || strcmp(name, "limits") == 0 ||
	       strcmp(name, "cluster") == 0 || strcmp(name, "api") == 0;
}

int conf_bad(struct conf_parse *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->msg[0]) {
		va_start(ap, fmt);
		vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int conf_line(const struct conf_parse *p)
{
	return p->line;
}

int conf_set_path(struct conf_parse *p, char **dst, const char *value)
{
	char *s;

	if (!*value)
		return -EINVAL;
	if (value[0] == '/')
		s = strdup(value);
	else if (asprintf(&s, "%s/%s", p->dir, value) < 0)
		s = NULL;
	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int store_value(struct conf_parse *p, const char *name, const char *value)
{
	struct conf *c = p->c;

	if (strcmp(name, "path") == 0) {
		if (conf_set_path(p, &c->store_path, value))
			return conf_bad(p, "[store] path: must be a file path");
	} else if (strcmp(name, "key_file") == 0) {
		if (conf_set_path(p, &c->key_file, value))
			return conf_bad(p, "[store] key_file: must be a file path");
	} else {
		return conf_bad(p, "unknown key '%s' in section [store]", name);
	}
	return 0;
}

static int limits_value(struct conf_parse *p, const char *name, const char *value)
{
	struct conf *c = p->c;
	char *end;

	if (strcmp(name, "max_secrets_per_namespace") != 0)
		return conf_bad(p, "unknown key '%s' in section [limits]", name);
	errno = 0;
	c->max_secrets_per_namespace = strtoul(value, &end, 10);
	if (!*value || *end || errno || value[0] == '-' || c->max_secrets_per_namespace > 100000000)
		return conf_bad(p, "[limits] max_secrets_per_namespace: '%s' is not a number from 0 to 100000000",
				value);
	return 0;
}

static int cluster_value(struct conf_parse *p, const char *name, const char *value)
{
	struct cluster_opts *o = &p->c->cluster;
	char **paths[] = { &o->cacert, &o->cert, &o->key, &o->password_file };
	static const char *const path_names[] = { "cacert", "cert", "key", "password_file" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		if (strcmp(name, path_names[i]) != 0)
			continue;
		if (conf_set_path(p, paths[i], value))
			return conf_bad(p, "[cluster] %s: must be a file path", name);
		return 0;
	}
	if (strcmp(name, "endpoints") == 0 || strcmp(name, "prefix") == 0 ||
	    strcmp(name, "username") == 0) {
		char **dst = name[0] == 'e' ? &o->endpoints : name[0] == 'p' ? &o->prefix :
			     &o->username;

		if (!*value)
			return conf_bad(p, "[cluster] %s: must not be empty", name);
		if (name[0] == 'p' && (value[0] != '/' || value[strlen(value) - 1] != '/'))
			return conf_bad(p, "[cluster] prefix: '%s' must begin and end with '/'", value);
		free(*dst);
		if (!(*dst = strdup(value)))
			return conf_bad(p, "out of memory");
	} else if (strcmp(name, "timeout") == 0) {
		char *end;
		double s;

		errno = 0;
		s = strtod(value, &end);
		if (!*value || *end || errno || !(s >= 0.1 && s <= 600))
			return conf_bad(p, "[cluster] timeout: '%s' is not a number of seconds from 0.1 to 600",
					value);
		o->timeout_ms = (unsigned)(s * 1000);
	} else {
		return conf_bad(p, "unknown key '%s' in section [cluster]", name);
	}
	return 0;
}

/*
 * Is text HOST:PORT?  HOST a name or IPv4 address, or an IPv6 address in
 * brackets; PORT 1 to 65535.  Checked here so that every program (the
 * server listening, secretctl naming it in a kubeconfig) reads it alike.
 */
static bool listen_valid(const char *text)
{
	const char *colon, *host_end;
	char *end;
	long port;

	if (text[0] == '[') {
		host_end = strchr(text, ']');
		if (!host_end || host_end == text + 1 || host_end[1] != ':')
			return false;
		colon = host_end + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || colon == text || memchr(text, ':', (size_t)(colon - text)))
			return false;
		for (const char *q = text; q < colon; q++)
			if (!(*q == '-' || *q == '.' || (*q >= '0' && *q <= '9') ||
			      (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')))
				return false;
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return colon[1] >= '0' && colon[1] <= '9' && !*end && !errno && port >= 1 &&
	       port <= 65535;
}

static int api_value(struct conf_parse *p, const char *name, const char *value)
{
	struct conf_api *a = &p->c->api;
	char **paths[] = { &a->tls_cert, &a->tls_key, &a->client_ca, &a->token_file,
			   &a->audit_path };
	static const char *const path_names[] = { "tls_cert", "tls_key", "client_ca",
						  "token_file", "audit_path" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		if (strcmp(name, path_names[i]) != 0)
			continue;
		if (conf_set_path(p, paths[i], value))
			return conf_bad(p, "[api] %s: must be a file path", name);
		return 0;
	}
	if (strcmp(name, "listen") != 0)
		return conf_bad(p, "unknown key '%s' in section [api]", name);
	if (!listen_valid(value))
		return conf_bad(p, "[api] listen: '%s' is not ADDRESS:PORT (e.g. 127.0.0.1:6443, [::1]:6443, 0.0.0.0:6443)",
				value);
	free(a->listen);
	if (!(a->listen = strdup(value)))
		return conf_bad(p, "out of memory");
	return 0;
}

/* inih's handler: nonzero on success. */
static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_parse *p = user;

	if (strcmp(section, "store") == 0)
		return store_value(p, name, value) == 0;
	if (strcmp(section, "limits") == 0)
		return limits_value(p, name, value) == 0;
	if (strcmp(section, "cluster") == 0)
		return cluster_value(p, name, value) == 0;
	if (strcmp(section, "api") == 0)
		return api_value(p, name, value) == 0;
	if (!section[0])
		return conf_bad(p, "'%s' is outside any section", name), 0;
	/* the reader let only the program's sections (or, without any, the
	 * daemon's) through */
	if (!p->s)
		return 1;
	return p->s->value(p, p->s->ctx, section, name, value) == 0;
}

/* A section header's name, seen by the reader: 0, or -EINVAL with why. */
static int section_header(struct conf_parse *p, const char *name)
{
	int ret;

	if (p->dropin && strncmp(name, "view ", 5) != 0)
		return conf_bad(p, "[%s] in views.d: a drop-in file holds [view NAME] sections only", name);
	if (shared_section(name))
		return 0;
	if (!p->s)
		return daemon_section(name) ? 0 : conf_bad(p, "unknown section [%s]", name);
	ret = p->s->header(p, p->s->ctx, name);
	if (ret == 1)
		return conf_bad(p, "unknown section [%s]", name);
	if (ret == -ENOMEM)
		conf_bad(p, "out of memory");
	return ret;
}

/*
 * inih's line reader, over the file read whole: counts lines, refuses a
 * line longer than inih's buffer (it would come back as two lines, the
 * rest read as a line of its own), and checks each section header (see
 * the top of the file).  Returning NULL ends the parse at the first such
 * error.
 */
static char *reader(char *buf, int size, void *user)
{
	struct conf_parse *p = user;
	const char *start = p->text + p->pos, *nl;
	char *s, *end;
	size_t n;

	if (p->bad_line || p->pos >= p->len)
		return NULL;
	nl = memchr(start, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - start) : p->len - p->pos;
	p->pos += n + (nl != NULL);
	p->line++;
	if (n > (size_t)size - 1) {
		conf_bad(p, "the line is longer than %d characters", size - 1);
		p->bad_line = p->line;
		buf[0] = '\0';
		return buf;
	}
	memcpy(buf, start, n);
	buf[n] = '\0';
	/* as inih's own lskip() (isspace: a vertical tab or form feed too),
	 * or a header inih reads would pass unchecked */
	for (s = buf; isspace((unsigned char)*s); s++)
		;
	if (*s != '[')
		return buf;
	end = strchr(s, ']');
	if (!end) {
		/* else inih reads on in the section before, and the next line's
		 * key would take the blame */
		s[strcspn(s, ";#\r")] = '\0';
		for (n = strlen(s); n && (s[n - 1] == ' ' || s[n - 1] == '\t'); n--)
			s[n - 1] = '\0';
		conf_bad(p, "section header '%s' lacks its closing ']'", s);
		p->bad_line = p->line;
		return buf;
	}
	*end = '\0';
	if (section_header(p, s + 1))
		p->bad_line = p->line;
	*end = ']';
	return buf;
}

/*
 * Read the whole file (at most CONF_FILE_MAX bytes) into *out, NUL
 * terminated, refusing a NUL byte inside: inih reads lines as C strings,
 * so a value would silently end at it.
 */
#define CONF_FILE_MAX (1 << 20)

static int read_text(const char *path, FILE *f, char **out, size_t *len, char *err)
{
	const char *nul;
	struct stat sb;
	char *text;
	size_t n;

	if (fstat(fileno(f), &sb) < 0) {
		snprintf(err, CONF_ERR_MAX, "cannot stat config file '%s': %s", path,
			 strerror(errno));
		return -EIO;
	}
	if (sb.st_size > CONF_FILE_MAX) {
		snprintf(err, CONF_ERR_MAX, "config file '%s' is larger than %d bytes", path,
			 CONF_FILE_MAX);
		return -EFBIG;
	}
	/* its size as it was checked, and the terminating NUL (a file growing
	 * meanwhile is cut at that size) */
	text = malloc((size_t)sb.st_size + 1);
	if (!text) {
		snprintf(err, CONF_ERR_MAX, "out of memory");
		return -ENOMEM;
	}
	n = fread(text, 1, (size_t)sb.st_size, f);
	if (ferror(f)) {
		snprintf(err, CONF_ERR_MAX, "cannot read config file '%s': %s", path,
			 strerror(errno));
		free(text);
		return -EIO;
	}
	nul = memchr(text, '\0', n);
	if (nul) {
		int line = 1;

		for (const char *q = text; q < nul; q++)
			line += *q == '\n';
		snprintf(err, CONF_ERR_MAX, "%s:%d: a NUL byte in the line (the file must be text)",
			 path, line);
		free(text);
		return -EINVAL;
	}
	text[n] = '\0';
	*out = text;
	*len = n;
	return 0;
}

/* Refuse a file that someone other than its owner (or root) could change. */
static int check_file(const char *path, FILE *f, char *err)
{
	struct stat sb;

	if (fstat(fileno(f), &sb) < 0) {
		snprintf(err, CONF_ERR_MAX, "cannot stat config file '%s': %s",
			 path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, CONF_ERR_MAX, "config file '%s' is not a regular file", path);
		return -EINVAL;
	}
	if (sb.st_uid != geteuid() && sb.st_uid != 0) {
		snprintf(err, CONF_ERR_MAX,
			 "config file '%s' is owned by uid %u, neither the current user nor root",
			 path, (unsigned)sb.st_uid);
		return -EPERM;
	}
	if (sb.st_mode & 022) {
		snprintf(err, CONF_ERR_MAX,
			 "config file '%s' is writable by group or others (mode %04o): run 'chmod go-w %s'",
			 path, (unsigned)(sb.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

/* [cluster]'s keys that only make sense together. */
static int check_cluster(const struct cluster_opts *o, const char *path, char *err)
{
	if (!o->endpoints &&
	    (o->prefix || o->cacert || o->cert || o->key || o->username || o->password_file)) {
		snprintf(err, CONF_ERR_MAX, "%s: [cluster] needs endpoints", path);
		return -EINVAL;
	}
	if (!o->cert != !o->key) {
		snprintf(err, CONF_ERR_MAX, "%s: [cluster] cert and key go together", path);
		return -EINVAL;
	}
	if (!o->username != !o->password_file) {
		snprintf(err, CONF_ERR_MAX, "%s: [cluster] username and password_file go together",
			 path);
		return -EINVAL;
	}
	return 0;
}

/* Parse text, the file at path read whole, through p: 0, or -EINVAL with
 * err naming the file and line. */
static int parse_text(struct conf_parse *p, const char *path, const char *text, char *err)
{
	int line;

	p->text = text;
	p->len = strlen(text);
	p->pos = 0;
	p->line = 0;
	p->bad_line = 0;
	p->msg[0] = '\0';
	ini_allow_multiline = false; /* an indented line is not a continuation */
	line = ini_parse_stream(reader, p, handler, p);
	if (p->bad_line && (line == 0 || line > p->bad_line))
		line = p->bad_line;
	if (line == 0)
		return 0;
	if (line < 0)
		snprintf(err, CONF_ERR_MAX, "cannot read config file '%s'", path);
	else if (p->msg[0])
		snprintf(err, CONF_ERR_MAX, "%s:%d: %s", path, line, p->msg);
	else
		snprintf(err, CONF_ERR_MAX,
			 "%s:%d: syntax error (expected [section] or name = value)", path, line);
	return -EINVAL;
}

static int dropin_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".ini") == 0;
}

/* Byte order, whatever the locale: 10-x.ini before 9-y.ini, as ls -v does not. */
static int dropin_order(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/*
 * views.d/ *.ini beside the file, in name order, each with the main file's
 * rules (owner, mode, regular file, NUL bytes, line length) and holding
 * [view NAME] sections only: so that a tool adds a view by writing one
 * file.  The folder is optional; when there it must be a real folder that
 * only its owner (root or the current user) can change.
 */
static int load_dropins(struct conf_parse *p, char *err)
{
	struct dirent **names = NULL;
	char dir[4096], path[4096 + 256], *text = NULL;
	int n = 0, ret = 0;
	struct stat sb;

	snprintf(dir, sizeof(dir), "%s/" CONF_DROPIN_DIR, p->dir);
	if (lstat(dir, &sb) < 0)
		return errno == ENOENT ? 0 : (snprintf(err, CONF_ERR_MAX, "cannot read '%s': %s",
						       dir, strerror(errno)), -errno);
	if (!S_ISDIR(sb.st_mode) || (sb.st_uid != geteuid() && sb.st_uid != 0) ||
	    (sb.st_mode & 022)) {
		snprintf(err, CONF_ERR_MAX,
			 "'%s' is not a folder owned by root or the current user and closed to writes by group and others",
			 dir);
		return -EPERM;
	}
	n = scandir(dir, &names, dropin_name, dropin_order);
	if (n < 0) {
		snprintf(err, CONF_ERR_MAX, "cannot read '%s': %s", dir, strerror(errno));
		return -errno;
	}
	/* relative paths in a drop-in are relative to views.d */
	p->dropin = true;
	for (int i = 0; !ret && i < n; i++) {
		FILE *f = NULL;
		int fd;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && !(f = fdopen(fd, "r")))
			close(fd);
		if (!f) {
			ret = -errno;
			snprintf(err, CONF_ERR_MAX, "cannot open config file '%s': %s", path,
				 ret == -ELOOP ? "is a symbolic link" : strerror(-ret));
			break;
		}
		ret = check_file(path, f, err);
		if (!ret)
			ret = read_text(path, f, &text, &len, err);
		fclose(f);
		if (!ret) {
			char *main_dir = p->dir;

			p->dir = dir;
			ret = parse_text(p, path, text, err);
			p->dir = main_dir;
		}
		free(text);
		text = NULL;
	}
	p->dropin = false;
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

int conf_load(struct conf *c, const char *path, const struct conf_sections *s, char *err)
{
	struct conf_parse p = { .c = c, .s = s };
	bool must_exist = true;
	char *text = NULL;
	FILE *f = NULL;
	int fd, ret;

	if (!path)
		path = getenv("SECRETFS_CONFIG");
	if (!path || !*path) {
		path = CONF_DEFAULT_PATH;
		must_exist = false;
	}
	*c = (struct conf){
		.store_path = strdup(CONF_DEFAULT_STORE),
		.key_file = strdup(CONF_DEFAULT_KEY),
		.api.listen = strdup(CONF_DEFAULT_LISTEN),
	};
	if (!c->store_path || !c->key_file || !c->api.listen) {
		ret = -ENOMEM;
		snprintf(err, CONF_ERR_MAX, "out of memory");
		goto fail;
	}
	/* O_NONBLOCK: a FIFO would block open(); check_file refuses it */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		f = fdopen(fd, "r");
	if (!f) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		if (ret == -ENOENT && !must_exist)
			goto done; /* the built-in defaults */
		snprintf(err, CONF_ERR_MAX, "cannot open config file '%s': %s", path,
			 ret == -ELOOP ? "is a symbolic link" : strerror(-ret));
		goto fail;
	}
	if ((ret = check_file(path, f, err)))
		goto fail;
	/* resolve the folder now: daemons chdir("/") before using the paths */
	c->path = realpath(path, NULL);
	if (!c->path) {
		ret = -errno;
		snprintf(err, CONF_ERR_MAX, "cannot resolve config file '%s': %s", path,
			 strerror(errno));
		goto fail;
	}
	p.dir = strdup(c->path);
	if (!p.dir) {
		ret = -ENOMEM;
		snprintf(err, CONF_ERR_MAX, "out of memory");
		goto fail;
	}
	*strrchr(p.dir, '/') = '\0'; /* "" for a file in "/": then "/x" below */
	if ((ret = read_text(path, f, &text, &p.len, err)))
		goto fail;
	if ((ret = parse_text(&p, path, text, err)))
		goto fail;
	if ((ret = load_dropins(&p, err)))
		goto fail;
	if ((ret = check_cluster(&c->cluster, path, err)))
		goto fail;
	if (!c->api.tls_cert != !c->api.tls_key) {
		snprintf(err, CONF_ERR_MAX, "%s: [api] tls_cert and tls_key go together", path);
		ret = -EINVAL;
		goto fail;
	}
done:
	if (s && s->finish && (ret = s->finish(s->ctx, path, err)))
		goto fail;
	ret = 0;
	goto out;
fail:
	conf_release(c);
out:
	if (f)
		fclose(f);
	free(text);
	free(p.dir);
	return ret;
}

void conf_release(struct conf *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->store_path);
	free(c->key_file);
	free(c->cluster.endpoints);
	free(c->cluster.prefix);
	free(c->cluster.cacert);
	free(c->cluster.cert);
	free(c->cluster.key);
	free(c->cluster.username);
	free(c->cluster.password_file);
	free(c->api.listen);
	free(c->api.tls_cert);
	free(c->api.tls_key);
	free(c->api.client_ca);
	free(c->api.token_file);
	free(c->api.audit_path);
	*c = (struct conf){ 0 };
}
