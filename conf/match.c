/*
 * match.c - cgroup path patterns (see match.h for the rules and why).
 *
 * A pattern is compiled once, at config load, into tokens per component:
 * a '*' or a set of bytes.  Matching a component is the usual glob walk
 * with one remembered '*'.  Whether two components can match a common
 * string is decided on the product of the two token lists: a state (i, j)
 * is "a has matched its first i tokens and b its first j, on the same
 * bytes"; both patterns only ever move forward, so one pass over the
 * states in order finds every reachable one.  The matcher and the overlap
 * check read the same tokens, so what the check proves holds for matching.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/match.h"

static void set_add(struct match_tok *t, unsigned char c)
{
	if (c != '\0' && c != '/')
		t->set[c / 8] |= (uint8_t)(1u << (c % 8));
}

static bool set_has(const struct match_tok *t, unsigned char c)
{
	return t->set[c / 8] & (1u << (c % 8));
}

static bool set_empty(const struct match_tok *t)
{
	for (size_t i = 0; i < sizeof(t->set); i++)
		if (t->set[i])
			return false;
	return true;
}

/*
 * Parse the set starting at **pp ('['), leaving *pp after its ']'.  A
 * component never holds '/', so a '/' before the closing ']' means there
 * is none.
 */
static int parse_set(struct match_tok *t, const char **pp, char *why, size_t len)
{
	const char *q = *pp + 1;
	bool negate = false, first = true;

	if (*q == '!' || *q == '^') {
		negate = true;
		q++;
	}
	for (;; first = false) {
		unsigned char lo, hi;

		if (*q == '\0' || *q == '/') {
			snprintf(why, len, "'[' without its closing ']'");
			return -EINVAL;
		}
		if (*q == ']' && !first)
			break;
		if (*q == '[' && (q[1] == ':' || q[1] == '=' || q[1] == '.')) {
			snprintf(why, len, "classes such as [:alpha:] are not supported: list the characters or a range");
			return -EINVAL;
		}
		if (*q == '\\' && q[1] && q[1] != '/')
			q++;
		lo = hi = (unsigned char)*q++;
		if (*q == '-' && q[1] != ']' && q[1] != '\0') {
			q++;
			if (*q == '\\' && q[1] && q[1] != '/')
				q++;
			if (*q == '\0' || *q == '/')
				continue; /* reported at the top */
			hi = (unsigned char)*q++;
			if (hi < lo) {
				snprintf(why, len, "the range '%c-%c' is empty", lo, hi);
				return -EINVAL;
			}
		}
		for (unsigned c = lo; c <= hi; c++)
			set_add(t, (unsigned char)c);
	}
	if (negate) {
		for (size_t i = 0; i < sizeof(t->set); i++)
			t->set[i] = (uint8_t)~t->set[i];
		t->set[0] &= (uint8_t)~1u;               /* NUL */
		t->set['/' / 8] &= (uint8_t)~(1u << ('/' % 8));
	}
	if (set_empty(t)) {
		snprintf(why, len, "the set '%.*s' matches no character", (int)(q + 1 - *pp), *pp);
		return -EINVAL;
	}
	*pp = q + 1;
	return 0;
}

int match_compile(struct match_pattern *m, const char *text, char *why, size_t len)
{
	size_t n = strlen(text), ntok = 0, ncomp = 0;
	const char *p = text;
	int ret = -EINVAL;

	*m = (struct match_pattern){ 0 };
	if (text[0] != '/') {
		snprintf(why, len, "a cgroup path starts with '/'");
		return -EINVAL;
	}
	m->text = strdup(text);
	m->tok = calloc(n, sizeof(*m->tok));
	m->start = calloc(n + 1, sizeof(*m->start));
	if (!m->text || !m->tok || !m->start) {
		ret = -ENOMEM;
		goto fail;
	}
	while (*p == '/' && n > 1) { /* "/" alone: no component, every cgroup */
		p++;
		if (*p == '/' || *p == '\0') {
			snprintf(why, len, "an empty component ('//' or a trailing '/')");
			goto fail;
		}
		m->start[ncomp++] = ntok;
		while (*p && *p != '/') {
			struct match_tok *t = &m->tok[ntok++];

			if (*p == '*') {
				t->star = true;
				while (*p == '*') /* '**' is '*': no wildcard crosses '/' */
					p++;
			} else if (*p == '?') {
				memset(t->set, 0xff, sizeof(t->set));
				t->set[0] &= (uint8_t)~1u;
				t->set['/' / 8] &= (uint8_t)~(1u << ('/' % 8));
				p++;
			} else if (*p == '[') {
				if (parse_set(t, &p, why, len))
					goto fail;
			} else {
				if (*p == '\\') {
					p++;
					if (*p == '\0' || *p == '/') {
						snprintf(why, len, "a '\\' that escapes nothing");
						goto fail;
					}
				}
				set_add(t, (unsigned char)*p++);
			}
		}
	}
	m->start[ncomp] = ntok;
	m->ncomp = ncomp;
	return 0;
fail:
	match_release(m);
	return ret;
}

void match_release(struct match_pattern *m)
{
	if (!m)
		return;
	free(m->text);
	free(m->tok);
	free(m->start);
	*m = (struct match_pattern){ 0 };
}

/* Does the component s (slen bytes, no '/') match tokens t[0..n)? */
static bool comp_match(const struct match_tok *t, size_t n, const char *s, size_t slen)
{
	size_t ti = 0, si = 0, star = SIZE_MAX, star_si = 0;

	while (si < slen) {
		if (ti < n && t[ti].star) {
			star = ti++;
			star_si = si;
		} else if (ti < n && set_has(&t[ti], (unsigned char)s[si])) {
			ti++;
			si++;
		} else if (star != SIZE_MAX) { /* let the last '*' take one byte more */
			ti = star + 1;
			si = ++star_si;
		} else {
			return false;
		}
	}
	while (ti < n && t[ti].star)
		ti++;
	return ti == n;
}

bool match_cgroup(const struct match_pattern *m, const char *cgroup)
{
	const char *p = cgroup;

	if (*p != '/')
		return false;
	for (size_t i = 0; i < m->ncomp; i++) {
		const char *end;

		while (*p == '/')
			p++;
		if (!*p)
			return false; /* the cgroup is above the pattern's depth */
		end = strchrnul(p, '/');
		if (!comp_match(m->tok + m->start[i], m->start[i + 1] - m->start[i], p,
				(size_t)(end - p)))
			return false;
		p = end;
	}
	return true;
}

/* Is there a string both a[0..na) and b[0..nb) match?  See the top. */
static bool comp_overlap(const struct match_tok *a, size_t na, const struct match_tok *b,
			 size_t nb)
{
	size_t w = nb + 1;
	bool *reach = calloc((na + 1) * w, sizeof(*reach)), found;

	if (!reach)
		return true; /* cannot tell: say they may, and the config is refused */
	reach[0] = true;
	for (size_t i = 0; i <= na; i++) {
		for (size_t j = 0; j <= nb; j++) {
			if (!reach[i * w + j])
				continue;
			if (i < na && a[i].star) /* a '*' may take nothing */
				reach[(i + 1) * w + j] = true;
			if (j < nb && b[j].star)
				reach[i * w + j + 1] = true;
			if (i == na || j == nb)
				continue;
			/* one byte both accept: a '*' stays, a set moves on; a
			 * set is never empty (match_compile refuses that) */
			if (a[i].star && !b[j].star) {
				reach[i * w + j + 1] = true;
			} else if (!a[i].star && b[j].star) {
				reach[(i + 1) * w + j] = true;
			} else if (!a[i].star && !b[j].star) {
				for (size_t k = 0; k < sizeof(a[i].set); k++) {
					if (a[i].set[k] & b[j].set[k]) {
						reach[(i + 1) * w + j + 1] = true;
						break;
					}
				}
			}
		}
	}
	found = reach[na * w + nb];
	free(reach);
	return found;
}

bool match_overlap(const struct match_pattern *a, const struct match_pattern *b)
{
	size_t n = a->ncomp < b->ncomp ? a->ncomp : b->ncomp;

	for (size_t i = 0; i < n; i++)
		if (!comp_overlap(a->tok + a->start[i], a->start[i + 1] - a->start[i],
				  b->tok + b->start[i], b->start[i + 1] - b->start[i]))
			return false;
	return true;
}
