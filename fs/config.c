/*
 * config.c - reading the .ini with inih.
 *
 * inih calls our handler once per name = value; the handler returns nonzero
 * on success (the opposite of our convention) and ini_parse() returns the
 * line of the first error.  We keep only the first error's message, since
 * the line inih reports is that one's, and treat any error as fatal.
 * Debian's inih cannot call the handler on a new section, so section headers
 * are seen by our line reader instead: that is where unknown sections are
 * refused and where [view NAME] sections come into being, empty or not.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "store/store.h"

struct parse {
	struct config *c;
	const char *text; /* the whole file, read before parsing */
	size_t len, pos;  /* its length, and where the next line starts */
	char *dir;    /* folder of the file, for relative paths */
	int line;     /* lines read so far */
	int bad_line; /* line of an error found by the reader, not inih */
	char msg[CONFIG_ERR_MAX];
};

static int bad(struct parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->msg[0]) {
		va_start(ap, fmt);
		vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
		va_end(ap);
	}
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

/* A byte count with an optional K, M, G or T (powers of 1024): 0, or from
 * 1K to 1T. */
static int parse_size(const char *v, uint64_t *out)
{
	static const char units[] = "KMGT";
	char *end;
	unsigned long long n;
	const char *u;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (!*v || end == v || errno || v[0] == '-')
		return -EINVAL;
	if (*end) {
		unsigned shift;

		if (end[1] || !(u = strchr(units, *end)))
			return -EINVAL;
		shift = 10 * (unsigned)(u - units + 1);
		if (n > (1ULL << 40) >> shift)
			return -EINVAL;
		n <<= shift;
	}
	if (n != 0 && (n < 1024 || n > (1ULL << 40)))
		return -EINVAL;
	*out = n;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int parse_layout(const char *v, enum layout *out)
{
	if (!strcmp(v, "plain"))
		*out = LAYOUT_PLAIN;
	else if (!strcmp(v, "kubelet"))
		*out = LAYOUT_KUBELET;
	else
		return -EINVAL;
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

/* --- views ------------------------------------------------------------- */

const struct view *config_view(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nviews; i++)
		if (strcmp(c->views[i].name, name) == 0)
			return &c->views[i];
	return NULL;
}

static bool view_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VIEW_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!strchr("-_.", *s) && !(*s >= 'a' && *s <= 'z') &&
		    !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9'))
			return false;
	return true;
}

const struct view *config_view_for_cgroup(const struct config *c, const char *cgroup)
{
	const struct view *best = NULL;
	size_t depth = SIZE_MAX;

	for (size_t i = 0; i < c->nviews; i++) {
		for (size_t j = 0; j < c->views[i].nmatches; j++) {
			const struct match_pattern *m = &c->views[i].matches[j];

			if (m->ncomp > depth || !match_cgroup(m, cgroup))
				continue;
			/* check_matches: no two views select one cgroup */
			assert(m->ncomp < depth || best == &c->views[i]);
			best = &c->views[i];
			depth = m->ncomp;
		}
	}
	return best;
}

/*
 * Refuse patterns of two views that can select one cgroup, or one below
 * the other: the shallowest match decides, and a view's cgroup must keep
 * its view whatever is created below it.  One view's own patterns may
 * nest or overlap: they all give that view.
 */
static int check_matches(const struct config *c, const char *path, char *err)
{
	for (size_t i = 0; i < c->nviews; i++) {
		for (size_t j = i + 1; j < c->nviews; j++) {
			const struct view *a = &c->views[i], *b = &c->views[j];

			for (size_t k = 0; k < a->nmatches; k++) {
				for (size_t l = 0; l < b->nmatches; l++) {
					const struct match_pattern *ma = &a->matches[k],
								   *mb = &b->matches[l];

					if (!match_overlap(ma, mb))
						continue;
					if (ma->ncomp == mb->ncomp)
						snprintf(err, CONFIG_ERR_MAX,
							 "%s:%d: [view %s] match = cgroup:%s and [view %s]'s cgroup:%s (line %d) can select the same cgroup: make them differ in a component",
							 path, mb->line, b->name, mb->text, a->name,
							 ma->text, ma->line);
					else
						snprintf(err, CONFIG_ERR_MAX,
							 "%s:%d: [view %s] match = cgroup:%s and [view %s]'s cgroup:%s (line %d) can select a cgroup and one below it, which keeps the view of the one above: make them differ in a component both have",
							 path, mb->line, b->name, mb->text, a->name,
							 ma->text, ma->line);
					return -EINVAL;
				}
			}
		}
	}
	return 0;
}

static int view_add(struct parse *p, const char *name)
{
	struct config *c = p->c;
	struct view *v;

	if (!view_name_ok(name)) {
		bad(p, "[view %s]: a view name is 1 to %d letters, digits, '-', '_' or '.', not starting with '.' or '-'",
		    name, VIEW_NAME_MAX);
		return -EINVAL;
	}
	if (config_view(c, name)) {
		bad(p, "[view %s] is defined twice", name);
		return -EINVAL;
	}
	v = realloc(c->views, (c->nviews + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->views = v;
	v += c->nviews;
	/* owner unset (-1) until the end of the file: it defaults to [mount]'s */
	*v = (struct view){ .name = strdup(name), .uid = (uid_t)-1, .gid = (gid_t)-1,
			    .mode = 0400 };
	if (!v->name)
		return -ENOMEM;
	c->nviews++;
	return 0;
}

/* The grant for ns/name (name NULL for ns/ *) in v, created if absent. */
static struct view_grant *grant_get(struct view *v, const char *ns, const char *name,
				    int line)
{
	struct view_grant *g;

	for (size_t i = 0; i < v->ngrants; i++) {
		g = &v->grants[i];
		if (!strcmp(g->ns, ns) && (name ? g->name && !strcmp(g->name, name) : !g->name))
			return g;
	}
	g = realloc(v->grants, (v->ngrants + 1) * sizeof(*g));
	if (!g)
		return NULL;
	v->grants = g;
	g += v->ngrants;
	*g = (struct view_grant){ .ns = strdup(ns), .name = name ? strdup(name) : NULL,
				  .line = line };
	if (!g->ns || (name && !g->name))
		return NULL;
	v->ngrants++;
	return g;
}

/*
 * Split "NS/NAME" (or "NS/NAME/KEY" when key is not NULL) and check each part
 * against the Kubernetes rules; NAME may be "*" when wildcard is allowed.
 */
static int split_ref(struct parse *p, const char *what, char *ref, char **ns,
		     char **name, char **key, bool wildcard)
{
	char why[STORE_ERRMSG_MAX], *slash;

	*ns = ref;
	slash = strchr(ref, '/');
	if (!slash) {
		bad(p, "%s = %s: expected NAMESPACE/%s", what, ref,
		    key ? "SECRET/KEY" : "SECRET or NAMESPACE/*");
		return -EINVAL;
	}
	*slash = '\0';
	*name = slash + 1;
	if (key) {
		slash = strchr(*name, '/');
		if (!slash) {
			bad(p, "%s: expected NAMESPACE/SECRET/KEY", what);
			return -EINVAL;
		}
		*slash = '\0';
		*key = slash + 1;
		if (store_check_key(*key, why)) {
			bad(p, "%s: key \"%s\": %s", what, *key, why);
			return -EINVAL;
		}
	}
	if (store_check_namespace(*ns, why)) {
		bad(p, "%s: namespace \"%s\": %s", what, *ns, why);
		return -EINVAL;
	}
	if (wildcard && strcmp(*name, "*") == 0) {
		*name = NULL;
		return 0;
	}
	if (store_check_name(*name, why)) {
		bad(p, "%s: secret \"%s\": %s", what, *name, why);
		return -EINVAL;
	}
	return 0;
}

/* item = NS/SECRET/KEY [as FILE] [mode MODE] */
static int parse_item(struct parse *p, struct view *v, const char *value)
{
	char *copy = strdup(value), *save, *ref, *tok, *ns, *name, *key;
	char why[STORE_ERRMSG_MAX];
	struct view_item it = { .line = p->line };
	struct view_grant *g;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	ref = strtok_r(copy, " \t", &save);
	if (!ref || split_ref(p, "item", ref, &ns, &name, &key, false)) {
		if (!ref)
			bad(p, "item: expected NAMESPACE/SECRET/KEY [as FILE] [mode MODE]");
		ret = -EINVAL;
		goto out;
	}
	it.file = key;
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *arg = strtok_r(NULL, " \t", &save);

		if (!strcmp(tok, "as") && arg) {
			if (store_check_key(arg, why)) {
				bad(p, "item %s/%s/%s: file name \"%s\": %s", ns, name,
				    key, arg, why);
				ret = -EINVAL;
				goto out;
			}
			it.file = arg;
		} else if (!strcmp(tok, "mode") && arg) {
			if (parse_mode(arg, &it.mode)) {
				bad(p, "item %s/%s/%s: mode '%s' is not an octal mode from 0 to 0777",
				    ns, name, key, arg);
				ret = -EINVAL;
				goto out;
			}
			it.has_mode = true;
		} else {
			bad(p, "item %s/%s/%s: expected 'as FILE' or 'mode MODE', not '%s'",
			    ns, name, key, tok);
			ret = -EINVAL;
			goto out;
		}
	}
	g = grant_get(v, ns, name, p->line);
	if (!g) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < g->nitems; i++) {
		if (!strcmp(g->items[i].file, it.file) || !strcmp(g->items[i].key, key)) {
			bad(p, "item %s/%s/%s: %s \"%s\" is already projected",
			    ns, name, key, strcmp(g->items[i].key, key) ? "file" : "key",
			    strcmp(g->items[i].key, key) ? it.file : key);
			ret = -EINVAL;
			goto out;
		}
	}
	{
		struct view_item *items = realloc(g->items, (g->nitems + 1) * sizeof(*items));

		if (!items) {
			ret = -ENOMEM;
			goto out;
		}
		g->items = items;
		it.key = strdup(key);
		it.file = strdup(it.file);
		if (!it.key || !it.file) {
			free(it.key);
			free(it.file);
			ret = -ENOMEM;
			goto out;
		}
		items[g->nitems++] = it;
	}
out:
	free(copy);
	return ret;
}

static int view_handler(struct parse *p, struct view *v, const char *name,
			const char *value)
{
	unsigned id;

	if (!strcmp(name, "secret") || !strcmp(name, "optional")) {
		char *copy = strdup(value), *ns, *sname;
		struct view_grant *g = NULL;

		if (copy && !split_ref(p, name, copy, &ns, &sname, NULL, true)) {
			g = grant_get(v, ns, sname, p->line);
			if (g && !strcmp(name, "optional"))
				g->optional = true;
		}
		free(copy);
		return g != NULL;
	}
	if (!strcmp(name, "item"))
		return parse_item(p, v, value) == 0;
	if (!strcmp(name, "match")) {
		struct match_pattern *m;
		char why[160];
		int ret;

		if (strncmp(value, "cgroup:", 7) != 0 || value[7] != '/')
			return bad(p, "[view %s] match: expected cgroup:/PATH, e.g. cgroup:/machine.slice/machine-signer.slice",
				   v->name);
		m = realloc(v->matches, (v->nmatches + 1) * sizeof(*m));
		if (!m)
			return bad(p, "out of memory");
		v->matches = m;
		ret = match_compile(&m[v->nmatches], value + 7, why, sizeof(why));
		if (ret == -ENOMEM)
			return bad(p, "out of memory");
		if (ret)
			return bad(p, "[view %s] match = %s: %s", v->name, value, why);
		m[v->nmatches++].line = p->line;
		return 1;
	}
	if (!strcmp(name, "uid") || !strcmp(name, "gid")) {
		bool group = name[0] == 'g';

		if (parse_id(value, group, &id))
			return bad(p, "[view %s] %s: no such %s or id '%s'", v->name, name,
				   group ? "group" : "user", value);
		if (group)
			v->gid = id;
		else
			v->uid = id;
		return 1;
	}
	if (!strcmp(name, "mode")) {
		if (parse_mode(value, &v->mode))
			return bad(p, "[view %s] mode: '%s' is not an octal mode from 0 to 0777",
				   v->name, value);
		return 1;
	}
	if (!strcmp(name, "audit")) {
		if (parse_bool(value, &v->audit))
			return bad(p, "[view %s] audit: '%s' is not on or off", v->name, value);
		return 1;
	}
	if (!strcmp(name, "audit_failure")) {
		if (strcmp(value, "open") && strcmp(value, "closed"))
			return bad(p, "[view %s] audit_failure: '%s' is not open or closed", v->name,
				   value);
		v->audit_fail_closed = value[0] == 'c';
		return 1;
	}
	if (!strcmp(name, "direct_io")) {
		if (parse_bool(value, &v->direct_io))
			return bad(p, "[view %s] direct_io: '%s' is not on or off", v->name, value);
		v->has_direct_io = true;
		return 1;
	}
	if (!strcmp(name, "layout")) {
		if (parse_layout(value, &v->layout))
			return bad(p, "[view %s] layout: '%s' is not plain or kubelet", v->name, value);
		v->has_layout = true;
		return 1;
	}
	return bad(p, "unknown key '%s' in section [view %s]", name, v->name);
}

/* --- the rest of the file ------------------------------------------------ */

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse *p = user;
	struct config *c = p->c;
	unsigned id;

	if (strncmp(section, "view ", 5) == 0) {
		struct view *v = (struct view *)config_view(c, section + 5);

		return v ? view_handler(p, v, name, value) : 0;
	}
	if (strcmp(section, "store") == 0) {
		if (strcmp(name, "path") == 0) {
			if (set_path(p, &c->store_path, value))
				return bad(p, "[store] path: must be a file path");
		} else if (strcmp(name, "key_file") == 0) {
			if (set_path(p, &c->key_file, value))
				return bad(p, "[store] key_file: must be a file path");
		} else {
			return bad(p, "unknown key '%s' in section [%s]", name, section);
		}
	} else if (strcmp(section, "mount") == 0) {
		if (strcmp(name, "uid") == 0 || strcmp(name, "gid") == 0) {
			bool group = name[0] == 'g';

			if (parse_id(value, group, &id))
				return bad(p, "[mount] %s: no such %s or id '%s'", name,
					   group ? "group" : "user", value);
			if (group)
				c->gid = id;
			else
				c->uid = id;
		} else if (strcmp(name, "mode") == 0) {
			if (parse_mode(value, &c->mode))
				return bad(p, "[mount] mode: '%s' is not an octal mode from 0 to 0777",
					   value);
		} else if (strcmp(name, "layout") == 0) {
			if (parse_layout(value, &c->layout))
				return bad(p, "[mount] layout: '%s' is not plain or kubelet", value);
		} else if (strcmp(name, "direct_io") == 0) {
			if (parse_bool(value, &c->direct_io))
				return bad(p, "[mount] direct_io: '%s' is not on or off", value);
		} else {
			return bad(p, "unknown key '%s' in section [%s]", name, section);
		}
	} else if (strcmp(section, "log") == 0) {
		if (strcmp(name, "level") != 0)
			return bad(p, "unknown key '%s' in section [%s]", name, section);
		if (config_parse_level(value, &c->log_level))
			return bad(p, "[log] level: '%s' is not one of error, warning, info, debug",
				   value);
	} else if (strcmp(section, "updates") == 0) {
		if (strcmp(name, "strategy") == 0) {
			if (!strcmp(value, "watch"))
				c->strategy = UPDATE_WATCH;
			else if (!strcmp(value, "ttl"))
				c->strategy = UPDATE_TTL;
			else if (!strcmp(value, "poll"))
				c->strategy = UPDATE_POLL;
			else
				return bad(p, "[updates] strategy: '%s' is not watch, ttl or poll", value);
		} else if (strcmp(name, "ttl") == 0) {
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(value, &end, 10);
			if (!*value || *end || errno || n < 1 || n > 86400 || value[0] == '-')
				return bad(p, "[updates] ttl: '%s' is not a number of seconds from 1 to 86400",
					   value);
			c->ttl = (unsigned)n;
		} else {
			return bad(p, "unknown key '%s' in section [%s]", name, section);
		}
	} else if (strcmp(section, "limits") == 0) {
		char *end;

		if (strcmp(name, "max_secrets_per_namespace") != 0)
			return bad(p, "unknown key '%s' in section [%s]", name, section);
		errno = 0;
		c->max_secrets_per_namespace = strtoul(value, &end, 10);
		if (!*value || *end || errno || value[0] == '-' || c->max_secrets_per_namespace > 100000000)
			return bad(p, "[limits] max_secrets_per_namespace: '%s' is not a number from 0 to 100000000",
				   value);
	} else if (strcmp(section, "cluster") == 0) {
		struct cluster_opts *o = &c->cluster;
		char **paths[] = { &o->cacert, &o->cert, &o->key, &o->password_file };
		static const char *const path_names[] = { "cacert", "cert", "key", "password_file" };

		for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
			if (strcmp(name, path_names[i]) != 0)
				continue;
			if (set_path(p, paths[i], value))
				return bad(p, "[cluster] %s: must be a file path", name);
			return 1;
		}
		if (strcmp(name, "endpoints") == 0 || strcmp(name, "prefix") == 0 ||
		    strcmp(name, "username") == 0) {
			char **dst = name[0] == 'e' ? &o->endpoints : name[0] == 'p' ? &o->prefix :
				     &o->username;

			if (!*value)
				return bad(p, "[cluster] %s: must not be empty", name);
			if (name[0] == 'p' && (value[0] != '/' || value[strlen(value) - 1] != '/'))
				return bad(p, "[cluster] prefix: '%s' must begin and end with '/'", value);
			free(*dst);
			if (!(*dst = strdup(value)))
				return bad(p, "out of memory");
		} else if (strcmp(name, "timeout") == 0) {
			char *end;
			double s;

			errno = 0;
			s = strtod(value, &end);
			if (!*value || *end || errno || !(s >= 0.1 && s <= 600))
				return bad(p, "[cluster] timeout: '%s' is not a number of seconds from 0.1 to 600",
					   value);
			o->timeout_ms = (unsigned)(s * 1000);
		} else {
			return bad(p, "unknown key '%s' in section [%s]", name, section);
		}
	} else if (strcmp(section, "audit") == 0) {
		if (strcmp(name, "path") == 0) {
			if (set_path(p, &c->audit_path, value))
				return bad(p, "[audit] path: must be a file path");
		} else if (strcmp(name, "max_size") == 0) {
			if (parse_size(value, &c->audit_max_size))
				return bad(p, "[audit] max_size: '%s' is not a size from 0 (no rotation) or 1K to 1T, such as 100M",
					   value);
		} else if (strcmp(name, "max_files") == 0) {
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(value, &end, 10);
			if (!*value || *end || errno || n < 1 || n > 100 || value[0] == '-')
				return bad(p, "[audit] max_files: '%s' is not a number from 1 to 100", value);
			c->audit_max_files = (unsigned)n;
		} else {
			return bad(p, "unknown key '%s' in section [%s]", name, section);
		}
	} else {
		return bad(p, "'%s' is outside any section", name);
	}
	return 1;
}

static bool known_section(const char *name)
{
	return strcmp(name, "store") == 0 || strcmp(name, "mount") == 0 ||
	       strcmp(name, "log") == 0 || strcmp(name, "audit") == 0 ||
	       strcmp(name, "updates") == 0 || strcmp(name, "limits") == 0 ||
	       strcmp(name, "cluster") == 0;
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
	struct parse *p = user;
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
		bad(p, "the line is longer than %d characters", size - 1);
		p->bad_line = p->line;
		buf[0] = '\0';
		return buf;
	}
	memcpy(buf, start, n);
	buf[n] = '\0';
	for (s = buf; *s == ' ' || *s == '\t'; s++)
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
		bad(p, "section header '%s' lacks its closing ']'", s);
		p->bad_line = p->line;
		return buf;
	}
	*end = '\0';
	if (strncmp(s + 1, "view", 4) == 0 && (s[5] == ' ' || s[5] == '\0')) {
		if (s[5] == '\0' || !s[6])
			bad(p, "[view] needs a name: [view NAME]");
		else if (view_add(p, s + 6) == -ENOMEM)
			bad(p, "out of memory");
		if (p->msg[0])
			p->bad_line = p->line;
	} else if (!known_section(s + 1)) {
		bad(p, "unknown section [%s]", s + 1);
		p->bad_line = p->line;
	}
	*end = ']';
	return buf;
}

/*
 * Read the whole file (at most CONFIG_FILE_MAX bytes) into *out, NUL
 * terminated, refusing a NUL byte inside: inih reads lines as C strings,
 * so a value would silently end at it.
 */
#define CONFIG_FILE_MAX (1 << 20)

static int read_text(const char *path, FILE *f, char **out, size_t *len, char *err)
{
	const char *nul;
	struct stat sb;
	char *text;
	size_t n;

	if (fstat(fileno(f), &sb) < 0) {
		snprintf(err, CONFIG_ERR_MAX, "cannot stat config file '%s': %s", path,
			 strerror(errno));
		return -EIO;
	}
	if (sb.st_size > CONFIG_FILE_MAX) {
		snprintf(err, CONFIG_ERR_MAX, "config file '%s' is larger than %d bytes", path,
			 CONFIG_FILE_MAX);
		return -EFBIG;
	}
	/* its size as it was checked, and the terminating NUL (a file growing
	 * meanwhile is cut at that size) */
	text = malloc((size_t)sb.st_size + 1);
	if (!text) {
		snprintf(err, CONFIG_ERR_MAX, "out of memory");
		return -ENOMEM;
	}
	n = fread(text, 1, (size_t)sb.st_size, f);
	if (ferror(f)) {
		snprintf(err, CONFIG_ERR_MAX, "cannot read config file '%s': %s", path,
			 strerror(errno));
		free(text);
		return -EIO;
	}
	nul = memchr(text, '\0', n);
	if (nul) {
		int line = 1;

		for (const char *q = text; q < nul; q++)
			line += *q == '\n';
		snprintf(err, CONFIG_ERR_MAX, "%s:%d: a NUL byte in the line (the file must be text)",
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
		.audit_path = strdup(CONFIG_DEFAULT_AUDIT),
		.audit_max_size = CONFIG_DEFAULT_AUDIT_SIZE,
		.audit_max_files = CONFIG_DEFAULT_AUDIT_FILES,
		.uid = getuid(),
		.gid = getgid(),
		.mode = 0400,
		.log_level = LOG_LEVEL_INFO,
		.strategy = UPDATE_WATCH,
		.ttl = 60,
	};
	return c->store_path && c->key_file && c->audit_path ? 0 : -ENOMEM;
}

int config_load(struct config *c, const char *path, char *err)
{
	struct parse p = { .c = c };
	bool must_exist = true;
	char *text = NULL;
	FILE *f = NULL;
	int fd, ret, line;

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
	/* O_NONBLOCK: a FIFO would block open(); check_file refuses it */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		f = fdopen(fd, "r");
	if (!f) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		if (ret == -ENOENT && !must_exist)
			return 0;
		snprintf(err, CONFIG_ERR_MAX, "cannot open config file '%s': %s", path,
			 ret == -ELOOP ? "is a symbolic link" : strerror(-ret));
		goto fail;
	}
	if ((ret = check_file(path, f, err)))
		goto fail;
	/* resolve the folder now: daemons chdir("/") before using the paths */
	c->path = realpath(path, NULL);
	if (!c->path) {
		ret = -errno;
		snprintf(err, CONFIG_ERR_MAX, "cannot resolve config file '%s': %s", path,
			 strerror(errno));
		goto fail;
	}
	p.dir = strdup(c->path);
	if (!p.dir) {
		ret = -ENOMEM;
		snprintf(err, CONFIG_ERR_MAX, "out of memory");
		goto fail;
	}
	*strrchr(p.dir, '/') = '\0'; /* "" for a file in "/": then "/x" below */
	if ((ret = read_text(path, f, &text, &p.len, err)))
		goto fail;
	p.text = text;
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
				 "%s:%d: syntax error (expected [section] or name = value)",
				 path, line);
		goto fail;
	}
	if (!c->cluster.endpoints &&
	    (c->cluster.prefix || c->cluster.cacert || c->cluster.cert || c->cluster.key ||
	     c->cluster.username || c->cluster.password_file)) {
		ret = -EINVAL;
		snprintf(err, CONFIG_ERR_MAX, "%s: [cluster] needs endpoints", path);
		goto fail;
	}
	if (!c->cluster.cert != !c->cluster.key) {
		ret = -EINVAL;
		snprintf(err, CONFIG_ERR_MAX, "%s: [cluster] cert and key go together", path);
		goto fail;
	}
	if (!c->cluster.username != !c->cluster.password_file) {
		ret = -EINVAL;
		snprintf(err, CONFIG_ERR_MAX, "%s: [cluster] username and password_file go together",
			 path);
		goto fail;
	}
	if ((ret = check_matches(c, path, err)))
		goto fail;
	for (size_t i = 0; i < c->nviews; i++) {
		if (c->views[i].uid == (uid_t)-1)
			c->views[i].uid = c->uid;
		if (c->views[i].gid == (gid_t)-1)
			c->views[i].gid = c->gid;
		if (!c->views[i].has_layout)
			c->views[i].layout = c->layout;
		if (!c->views[i].has_direct_io)
			c->views[i].direct_io = c->direct_io;
	}
	fclose(f);
	free(text);
	free(p.dir);
	return 0;
fail:
	if (f)
		fclose(f);
	free(text);
	free(p.dir);
	config_release(c);
	return ret;
}

static void view_release(struct view *v)
{
	for (size_t i = 0; i < v->ngrants; i++) {
		struct view_grant *g = &v->grants[i];

		for (size_t j = 0; j < g->nitems; j++) {
			free(g->items[j].key);
			free(g->items[j].file);
		}
		free(g->items);
		free(g->ns);
		free(g->name);
	}
	free(v->grants);
	for (size_t i = 0; i < v->nmatches; i++)
		match_release(&v->matches[i]);
	free(v->matches);
	free(v->name);
}

void config_release(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nviews; i++)
		view_release(&c->views[i]);
	free(c->views);
	free(c->path);
	free(c->store_path);
	free(c->key_file);
	free(c->audit_path);
	free(c->cluster.endpoints);
	free(c->cluster.prefix);
	free(c->cluster.cacert);
	free(c->cluster.cert);
	free(c->cluster.key);
	free(c->cluster.username);
	free(c->cluster.password_file);
	*c = (struct config){ 0 };
}
