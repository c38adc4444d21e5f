/*
 * match.h - cgroup path patterns: which view a process's cgroup selects.
 *
 * A pattern is an absolute path of one or more components, each a glob:
 * '*' (any run of bytes), '?' (one byte), '[set]' ('!' or '^' negates,
 * 'a-z' ranges, ']' first is literal) and '\x' (x itself).  No wildcard
 * ever matches '/': components match components, and a pattern of N
 * components matches a cgroup path when it matches the path's first N
 * components — the cgroup itself or one of its ancestors.  "/" alone has
 * no component and matches every cgroup.  Bytes compare as bytes,
 * whatever the locale.
 *
 * Why ancestors: a container may create cgroups below its own (systemd
 * delegation, a writable cgroup namespace), so whatever is below the
 * cgroup a view was given to must keep that view.  The caller of
 * match_cgroup picks the shallowest match; config_load makes sure no two
 * views' patterns can match the same cgroup or one below the other
 * (match_overlap), so the shallowest match names one view.
 */
#ifndef SECRETFS_MATCH_H
#define SECRETFS_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One byte of a component ('?', a set, a literal) or a '*'. */
struct match_tok {
	bool star;
	uint8_t set[32]; /* bit b: byte b matches (never 0 or '/') */
};

struct match_pattern {
	char *text;            /* as written, from the leading '/' */
	struct match_tok *tok; /* every component's tokens, in order */
	size_t *start;         /* component i is tok[start[i] .. start[i + 1]) */
	size_t ncomp;          /* components: "/a/b" has 2 */
	int line;              /* where it was configured, for messages */
};

/*
 * Compile text ("/machine.slice/signer.scope").  Returns 0, or -EINVAL
 * with the reason in why (len bytes), or -ENOMEM; m holds nothing on
 * failure.  Release with match_release.
 */
int match_compile(struct match_pattern *m, const char *text, char *why, size_t len);
void match_release(struct match_pattern *m);

/* Does m match cgroup (an absolute path) or one of its ancestors? */
bool match_cgroup(const struct match_pattern *m, const char *cgroup);

/*
 * Can a and b match one cgroup, or one a cgroup the other matches is below
 * (or above)?  Exact: true when some path's first min(a, b) components
 * match both, component by component.
 */
bool match_overlap(const struct match_pattern *a, const struct match_pattern *b);

#endif
