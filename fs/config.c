/*
 * config.c - the daemon's sections of the .ini: [mount], [view NAME],
 * [updates], [audit] and [log].  conf/conf.c reads the file, checks it and
 * parses the sections every program shares; it hands these to us through
 * struct conf_sections (0 or a negative errno, with conf_bad's message).
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

#include "fs/config.h"
#include "kube/kube.h"
#include "store/store.h"

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
						snprintf(err, CONF_ERR_MAX,
							 "%s:%d: [view %s] match = cgroup:%s and [view %s]'s cgroup:%s (line %d) can select the same cgroup: make them differ in a component",
							 path, mb->line, b->name, mb->text, a->name,
							 ma->text, ma->line);
					else
						snprintf(err, CONF_ERR_MAX,
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

static int view_add(struct conf_parse *p, struct config *c, const char *name)
{
	struct view *v;

	if (!view_name_ok(name)) {
		conf_bad(p, "[view %s]: a view name is 1 to %d letters, digits, '-', '_' or '.', not starting with '.' or '-'",
		    name, VIEW_NAME_MAX);
		return -EINVAL;
	}
	if (config_view(c, name)) {
		conf_bad(p, "[view %s] is defined twice", name);
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
static int split_ref(struct conf_parse *p, const char *what, char *ref, char **ns,
		     char **name, char **key, bool wildcard)
{
	char why[STORE_ERRMSG_MAX], *slash;

	*ns = ref;
	slash = strchr(ref, '/');
	if (!slash) {
		conf_bad(p, "%s = %s: expected NAMESPACE/%s", what, ref,
		    key ? "SECRET/KEY" : "SECRET or NAMESPACE/*");
		return -EINVAL;
	}
	*slash = '\0';
	*name = slash + 1;
	if (key) {
		slash = strchr(*name, '/');
		if (!slash) {
			conf_bad(p, "%s: expected NAMESPACE/SECRET/KEY", what);
			return -EINVAL;
		}
		*slash = '\0';
		*key = slash + 1;
		if (store_check_key(*key, why)) {
			conf_bad(p, "%s: key \"%s\": %s", what, *key, why);
			return -EINVAL;
		}
	}
	if (store_check_namespace(*ns, why)) {
		conf_bad(p, "%s: namespace \"%s\": %s", what, *ns, why);
		return -EINVAL;
	}
	if (wildcard && strcmp(*name, "*") == 0) {
		*name = NULL;
		return 0;
	}
	if (store_check_name(*name, why)) {
		conf_bad(p, "%s: secret \"%s\": %s", what, *name, why);
		return -EINVAL;
	}
	return 0;
}

/* item = NS/SECRET/KEY [as FILE] [mode MODE] */
static int parse_item(struct conf_parse *p, struct view *v, const char *value)
{
	char *copy = strdup(value), *save, *ref, *tok, *ns, *name, *key;
	char why[STORE_ERRMSG_MAX];
	struct view_item it = { .line = conf_line(p) };
	struct view_grant *g;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	ref = strtok_r(copy, " \t", &save);
	if (!ref || split_ref(p, "item", ref, &ns, &name, &key, false)) {
		if (!ref)
			conf_bad(p, "item: expected NAMESPACE/SECRET/KEY [as FILE] [mode MODE]");
		ret = -EINVAL;
		goto out;
	}
	it.file = key;
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *arg = strtok_r(NULL, " \t", &save);

		if (!strcmp(tok, "as") && arg) {
			if (store_check_key(arg, why)) {
				conf_bad(p, "item %s/%s/%s: file name \"%s\": %s", ns, name,
				    key, arg, why);
				ret = -EINVAL;
				goto out;
			}
			it.file = arg;
		} else if (!strcmp(tok, "mode") && arg) {
			if (parse_mode(arg, &it.mode)) {
				conf_bad(p, "item %s/%s/%s: mode '%s' is not an octal mode from 0 to 0777",
				    ns, name, key, arg);
				ret = -EINVAL;
				goto out;
			}
			it.has_mode = true;
		} else {
			conf_bad(p, "item %s/%s/%s: expected 'as FILE' or 'mode MODE', not '%s'",
			    ns, name, key, tok);
			ret = -EINVAL;
			goto out;
		}
	}
	g = grant_get(v, ns, name, conf_line(p));
	if (!g) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < g->nitems; i++) {
		if (!strcmp(g->items[i].file, it.file) || !strcmp(g->items[i].key, key)) {
			conf_bad(p, "item %s/%s/%s: %s \"%s\" is already projected",
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

int config_pod_view(struct view *v, const char *path, char *err, size_t len)
{
	struct kube_pod *pod = NULL;
	int ret;

	if ((ret = kube_pod_load(path, &pod, err, len)))
		return ret;
	v->pod = pod;
	v->pod_path = strdup(path);
	if (!v->pod_path)
		goto nomem;
	for (size_t i = 0; i < pod->nvolumes; i++) {
		const struct kube_volume *vol = &pod->volumes[i];

		for (size_t j = 0; j < vol->nsources; j++) {
			const struct kube_source *src = &vol->sources[j];
			struct view_grant *g = realloc(v->grants, (v->ngrants + 1) * sizeof(*g));

			if (!g)
				goto nomem;
			v->grants = g;
			g += v->ngrants;
			*g = (struct view_grant){ .ns = strdup(pod->namespace), .name = strdup(src->secret),
						  .optional = src->optional };
			v->ngrants++;
			if (!g->ns || !g->name)
				goto nomem;
			/* an optional secret's listed keys may be missing too
			 * (the kubelet skips them); a required one's may not */
			if (!src->nitems)
				continue;
			g->items = calloc(src->nitems, sizeof(*g->items));
			if (!g->items)
				goto nomem;
			for (size_t k = 0; k < src->nitems; k++) {
				const struct kube_item *it = &src->items[k];
				struct view_item *vi = &g->items[g->nitems];

				*vi = (struct view_item){ .key = strdup(it->key), .file = strdup(it->path),
							  .mode = (mode_t)(it->mode >= 0 ? it->mode :
									   vol->default_mode),
							  .has_mode = true };
				g->nitems++;
				if (!vi->key || !vi->file)
					goto nomem;
			}
		}
	}
	return 0;
nomem:
	snprintf(err, len, "out of memory");
	return -ENOMEM;
}

static int view_handler(struct conf_parse *p, struct view *v, const char *name,
			const char *value)
{
	unsigned id;

	if (!strcmp(name, "pod")) {
		char *path = NULL, err[CONF_ERR_MAX];
		int ret;

		if (v->pod || v->ngrants)
			return conf_bad(p, "[view %s] pod: a view is one pod's volumes, or secret, optional and item lines, not both",
				   v->name);
		if (conf_set_path(p, &path, value))
			return conf_bad(p, "[view %s] pod: must be a file path", v->name);
		ret = config_pod_view(v, path, err, sizeof(err));
		free(path);
		if (ret)
			return conf_bad(p, "[view %s] pod = %s: %s", v->name, value, err);
		return 0;
	}
	if (v->pod && (!strcmp(name, "secret") || !strcmp(name, "optional") || !strcmp(name, "item") ||
		       !strcmp(name, "audit")))
		return conf_bad(p, "[view %s] %s: not with pod = (the pod's volumes say what it sees%s)",
			   v->name, name, !strcmp(name, "audit") ? "; a pod view is not audited" : "");

	if (!strcmp(name, "secret") || !strcmp(name, "optional")) {
		char *copy = strdup(value), *ns, *sname;
		struct view_grant *g = NULL;

		if (copy && !split_ref(p, name, copy, &ns, &sname, NULL, true)) {
			g = grant_get(v, ns, sname, conf_line(p));
			if (g && !strcmp(name, "optional"))
				g->optional = true;
		}
		free(copy);
		return g ? 0 : -EINVAL;
	}
	if (!strcmp(name, "item"))
		return parse_item(p, v, value);
	if (!strcmp(name, "match")) {
		struct match_pattern *m;
		char why[160];
		int ret;

		if (strncmp(value, "cgroup:", 7) != 0 || value[7] != '/')
			return conf_bad(p, "[view %s] match: expected cgroup:/PATH, e.g. cgroup:/machine.slice/machine-signer.slice",
				   v->name);
		m = realloc(v->matches, (v->nmatches + 1) * sizeof(*m));
		if (!m)
			return conf_bad(p, "out of memory");
		v->matches = m;
		ret = match_compile(&m[v->nmatches], value + 7, why, sizeof(why));
		if (ret == -ENOMEM)
			return conf_bad(p, "out of memory");
		if (ret)
			return conf_bad(p, "[view %s] match = %s: %s", v->name, value, why);
		m[v->nmatches++].line = conf_line(p);
		return 0;
	}
	if (!strcmp(name, "uid") || !strcmp(name, "gid")) {
		bool group = name[0] == 'g';

		if (parse_id(value, group, &id))
			return conf_bad(p, "[view %s] %s: no such %s or id '%s'", v->name, name,
				   group ? "group" : "user", value);
		if (group)
			v->gid = id;
		else
			v->uid = id;
		return 0;
	}
	if (!strcmp(name, "mode")) {
		if (parse_mode(value, &v->mode))
			return conf_bad(p, "[view %s] mode: '%s' is not an octal mode from 0 to 0777",
				   v->name, value);
		return 0;
	}
	if (!strcmp(name, "audit")) {
		if (parse_bool(value, &v->audit))
			return conf_bad(p, "[view %s] audit: '%s' is not on or off", v->name, value);
		return 0;
	}
	if (!strcmp(name, "audit_failure")) {
		if (strcmp(value, "open") && strcmp(value, "closed"))
			return conf_bad(p, "[view %s] audit_failure: '%s' is not open or closed", v->name,
				   value);
		v->audit_fail_closed = value[0] == 'c';
		return 0;
	}
	if (!strcmp(name, "direct_io")) {
		if (parse_bool(value, &v->direct_io))
			return conf_bad(p, "[view %s] direct_io: '%s' is not on or off", v->name, value);
		v->has_direct_io = true;
		return 0;
	}
	if (!strcmp(name, "layout")) {
		if (parse_layout(value, &v->layout))
			return conf_bad(p, "[view %s] layout: '%s' is not plain or kubelet", v->name, value);
		v->has_layout = true;
		return 0;
	}
	return conf_bad(p, "unknown key '%s' in section [view %s]", name, v->name);
}

/* --- the daemon's other sections ---------------------------------------- */

static int mount_value(struct conf_parse *p, struct config *c, const char *name,
		       const char *value)
{
	unsigned id;

	if (strcmp(name, "uid") == 0 || strcmp(name, "gid") == 0) {
		bool group = name[0] == 'g';

		if (parse_id(value, group, &id))
			return conf_bad(p, "[mount] %s: no such %s or id '%s'", name,
					group ? "group" : "user", value);
		if (group)
			c->gid = id;
		else
			c->uid = id;
	} else if (strcmp(name, "mode") == 0) {
		if (parse_mode(value, &c->mode))
			return conf_bad(p, "[mount] mode: '%s' is not an octal mode from 0 to 0777",
					value);
	} else if (strcmp(name, "layout") == 0) {
		if (parse_layout(value, &c->layout))
			return conf_bad(p, "[mount] layout: '%s' is not plain or kubelet", value);
	} else if (strcmp(name, "direct_io") == 0) {
		if (parse_bool(value, &c->direct_io))
			return conf_bad(p, "[mount] direct_io: '%s' is not on or off", value);
	} else {
		return conf_bad(p, "unknown key '%s' in section [mount]", name);
	}
	return 0;
}

static int updates_value(struct conf_parse *p, struct config *c, const char *name,
			 const char *value)
{
	if (strcmp(name, "strategy") == 0) {
		if (!strcmp(value, "watch"))
			c->strategy = UPDATE_WATCH;
		else if (!strcmp(value, "ttl"))
			c->strategy = UPDATE_TTL;
		else if (!strcmp(value, "poll"))
			c->strategy = UPDATE_POLL;
		else
			return conf_bad(p, "[updates] strategy: '%s' is not watch, ttl or poll", value);
	} else if (strcmp(name, "ttl") == 0) {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(value, &end, 10);
		if (!*value || *end || errno || n < 1 || n > 86400 || value[0] == '-')
			return conf_bad(p, "[updates] ttl: '%s' is not a number of seconds from 1 to 86400",
					value);
		c->ttl = (unsigned)n;
	} else {
		return conf_bad(p, "unknown key '%s' in section [updates]", name);
	}
	return 0;
}

static int audit_value(struct conf_parse *p, struct config *c, const char *name,
		       const char *value)
{
	if (strcmp(name, "path") == 0) {
		if (conf_set_path(p, &c->audit_path, value))
			return conf_bad(p, "[audit] path: must be a file path");
	} else if (strcmp(name, "max_size") == 0) {
		if (parse_size(value, &c->audit_max_size))
			return conf_bad(p, "[audit] max_size: '%s' is not a size from 0 (no rotation) or 1K to 1T, such as 100M",
					value);
	} else if (strcmp(name, "max_files") == 0) {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(value, &end, 10);
		if (!*value || *end || errno || n < 1 || n > 100 || value[0] == '-')
			return conf_bad(p, "[audit] max_files: '%s' is not a number from 1 to 100", value);
		c->audit_max_files = (unsigned)n;
	} else {
		return conf_bad(p, "unknown key '%s' in section [audit]", name);
	}
	return 0;
}

/* conf_sections.value: name = value in one of our sections. */
static int section_value(struct conf_parse *p, void *ctx, const char *section,
			 const char *name, const char *value)
{
	struct config *c = ctx;

	if (strncmp(section, "view ", 5) == 0) {
		struct view *v = (struct view *)config_view(c, section + 5);

		/* a header refused (its error kept, the first one wins) still
		 * gets its lines: fuzz_config's crash-view-lines-after-a-refused-header */
		if (!v)
			return conf_bad(p, "[%s]: refused", section);
		return view_handler(p, v, name, value);
	}
	if (strcmp(section, "mount") == 0)
		return mount_value(p, c, name, value);
	if (strcmp(section, "updates") == 0)
		return updates_value(p, c, name, value);
	if (strcmp(section, "audit") == 0)
		return audit_value(p, c, name, value);
	/* section_header let nothing else through */
	assert(strcmp(section, "log") == 0);
	if (strcmp(name, "level") != 0)
		return conf_bad(p, "unknown key '%s' in section [log]", name);
	if (config_parse_level(value, &c->log_level))
		return conf_bad(p, "[log] level: '%s' is not one of error, warning, info, debug",
				value);
	return 0;
}

/* conf_sections.header: 0 for one of ours ([view NAME] made here), 1 for
 * one we do not know. */
static int section_header(struct conf_parse *p, void *ctx, const char *name)
{
	if (strcmp(name, "view") == 0)
		return conf_bad(p, "[view] needs a name: [view NAME]");
	if (strncmp(name, "view ", 5) == 0) {
		if (!name[5])
			return conf_bad(p, "[view] needs a name: [view NAME]");
		return view_add(p, ctx, name + 5);
	}
	return strcmp(name, "mount") == 0 || strcmp(name, "log") == 0 ||
	       strcmp(name, "audit") == 0 || strcmp(name, "updates") == 0 ? 0 : 1;
}

/* conf_sections.finish: rules across views, and what views take from
 * [mount]. */
static int sections_finish(void *ctx, const char *path, char *err)
{
	struct config *c = ctx;
	int ret;

	if ((ret = check_matches(c, path, err)))
		return ret;
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
	return 0;
}

int config_load(struct config *c, const char *path, char *err)
{
	const struct conf_sections sections = {
		.header = section_header,
		.value = section_value,
		.finish = sections_finish,
		.ctx = c,
	};
	int ret;

	*c = (struct config){
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
	if (!c->audit_path) {
		snprintf(err, CONF_ERR_MAX, "out of memory");
		return -ENOMEM;
	}
	ret = conf_load(&c->conf, path, &sections, err);
	if (ret)
		config_release(c);
	return ret;
}

void config_view_release(struct view *v)
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
	kube_pod_free(v->pod);
	free(v->pod_path);
}

static bool str_equal(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool grant_equal(const struct view_grant *a, const struct view_grant *b)
{
	if (!str_equal(a->ns, b->ns) || !str_equal(a->name, b->name) ||
	    a->optional != b->optional || a->nitems != b->nitems)
		return false;
	for (size_t i = 0; i < a->nitems; i++) {
		const struct view_item *x = &a->items[i], *y = &b->items[i];

		if (!str_equal(x->key, y->key) || !str_equal(x->file, y->file) ||
		    x->has_mode != y->has_mode || (x->has_mode && x->mode != y->mode))
			return false;
	}
	return true;
}

static bool source_equal(const struct kube_source *a, const struct kube_source *b)
{
	if (!str_equal(a->secret, b->secret) || a->optional != b->optional ||
	    a->nitems != b->nitems)
		return false;
	for (size_t i = 0; i < a->nitems; i++)
		if (!str_equal(a->items[i].key, b->items[i].key) ||
		    !str_equal(a->items[i].path, b->items[i].path) ||
		    a->items[i].mode != b->items[i].mode)
			return false;
	return true;
}

/* What volume.c serves of a pod: its namespace and its volumes (the other
 * volumes and the containers are the runtime's and the OCI hook's). */
static bool pod_equal(const struct kube_pod *a, const struct kube_pod *b)
{
	if (!a || !b)
		return a == b;
	if (!str_equal(a->namespace, b->namespace) || a->nvolumes != b->nvolumes)
		return false;
	for (size_t i = 0; i < a->nvolumes; i++) {
		const struct kube_volume *x = &a->volumes[i], *y = &b->volumes[i];

		if (!str_equal(x->name, y->name) || x->default_mode != y->default_mode ||
		    x->nsources != y->nsources)
			return false;
		for (size_t j = 0; j < x->nsources; j++)
			if (!source_equal(&x->sources[j], &y->sources[j]))
				return false;
	}
	return true;
}

bool config_view_equal(const struct view *a, const struct view *b)
{
	if (!str_equal(a->name, b->name) || !str_equal(a->pod_path, b->pod_path) ||
	    a->uid != b->uid || a->gid != b->gid || a->mode != b->mode ||
	    a->audit != b->audit || a->audit_fail_closed != b->audit_fail_closed ||
	    a->layout != b->layout || a->direct_io != b->direct_io ||
	    a->ngrants != b->ngrants || a->nmatches != b->nmatches)
		return false;
	/* a pod view's grants are made from its manifest, read again at
	 * each reload: an edited manifest at the same path is a change */
	if (!pod_equal(a->pod, b->pod))
		return false;
	for (size_t i = 0; i < a->ngrants; i++)
		if (!grant_equal(&a->grants[i], &b->grants[i]))
			return false;
	for (size_t i = 0; i < a->nmatches; i++)
		if (!str_equal(a->matches[i].text, b->matches[i].text))
			return false;
	return true;
}

void config_release(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nviews; i++)
		config_view_release(&c->views[i]);
	free(c->views);
	conf_release(&c->conf);
	free(c->audit_path);
	*c = (struct config){ 0 };
}
