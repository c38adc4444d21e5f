/*
 * printer.c - kubectl get's printers, for every resource secretctl lists:
 * -o json|yaml|name|wide, jsonpath=, jsonpath-as-json=, jsonpath-file=,
 * custom-columns=, custom-columns-file=, --sort-by and --no-headers, and
 * the table writer that keeps a watch's rows aligned with its listing.
 *
 * The JSONPath engine is kube/jsonpath.c; these are kubectl's rules around
 * it (printers/customcolumn.go, get/sorter.go): custom-columns headers as
 * given, a column with no result is <none>, several are joined by commas
 * and printed as Go's %v; --sort-by sorts by the first result, objects
 * without one first, numbers numerically, strings bytewise (kubectl's
 * objects are unstructured: "s10" < "s9"), and refuses a path that no
 * object has.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

void printer_release(struct printer *p)
{
	jsonpath_free(p->jp);
	jsonpath_free(p->sort);
	for (size_t i = 0; i < p->ncols; i++) {
		free(p->heads[i]);
		jsonpath_free(p->cols[i]);
	}
	free(p->heads);
	free(p->cols);
	*p = (struct printer){ 0 };
}

/* A whole small file (jsonpath-file=, custom-columns-file=), or NULL after
 * saying why. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f) {
		die_msg("cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	if (!buf)
		die_msg("out of memory");
	return buf;
}

static int add_column(struct printer *p, const char *head, size_t hlen, const char *spec)
{
	char err[512], *tmpl = NULL;
	char **h = realloc(p->heads, (p->ncols + 1) * sizeof(*h));
	struct jsonpath **c;

	if (!h)
		return die_msg("out of memory");
	p->heads = h;
	c = realloc(p->cols, (p->ncols + 1) * sizeof(*c));
	if (!c)
		return die_msg("out of memory");
	p->cols = c;
	if (jsonpath_relaxed(&tmpl, spec, err, sizeof(err)))
		return die_msg("%s", err);
	h[p->ncols] = strndup(head, hlen);
	c[p->ncols] = NULL;
	if (!h[p->ncols] || jsonpath_parse(&c[p->ncols], tmpl, err, sizeof(err))) {
		free(h[p->ncols]);
		free(tmpl);
		return die_msg("%s", h[p->ncols] ? err : "out of memory");
	}
	free(tmpl);
	p->ncols++;
	return 0;
}

/* custom-columns=HEADER:PATH,... */
static int parse_columns(struct printer *p, const char *spec)
{
	if (!*spec)
		return die_msg("custom-columns format specified but no custom columns given");
	for (const char *s = spec;;) {
		const char *comma = strchr(s, ','), *end = comma ? comma : s + strlen(s);
		const char *colon = memchr(s, ':', (size_t)(end - s));
		char *path;
		int ret;

		if (!colon)
			return die_msg("unexpected custom-columns spec: %.*s, expected <header>:<json-path-expr>",
				       (int)(end - s), s);
		path = strndup(colon + 1, (size_t)(end - colon - 1));
		if (!path)
			return die_msg("out of memory");
		ret = add_column(p, s, (size_t)(colon - s), path);
		free(path);
		if (ret)
			return ret;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

/* custom-columns-file: a line of headers and a line of paths, split at
 * white space (kubectl reads these two lines and no more). */
static int parse_columns_file(struct printer *p, const char *path)
{
	char *text = slurp(path), *line2, *end, *save1, *save2, *h, *f;
	size_t nh = 0, nf = 0;
	int ret = 0;

	if (!text)
		return 1;
	line2 = strchr(text, '\n');
	if (!line2) {
		free(text);
		return die_msg("invalid template, missing spec line. Expected format is one line of space separated headers, one line of space separated column specs.");
	}
	*line2++ = '\0';
	if ((end = strchr(line2, '\n')))
		*end = '\0';
	for (h = strtok_r(text, " \t\r", &save1); h; h = strtok_r(NULL, " \t\r", &save1))
		nh++;
	for (f = strtok_r(line2, " \t\r", &save2); f; f = strtok_r(NULL, " \t\r", &save2))
		nf++;
	if (nh != nf) {
		free(text);
		return die_msg("number of headers (%zu) and field specifications (%zu) don't match", nh, nf);
	}
	/* strtok_r left a NUL after each word: walk them again */
	h = text;
	f = line2;
	for (size_t i = 0; i < nh && !ret; i++) {
		h += strspn(h, " \t\r");
		f += strspn(f, " \t\r");
		ret = add_column(p, h, strlen(h), f);
		h += strlen(h) + 1;
		f += strlen(f) + 1;
	}
	free(text);
	return ret;
}

int printer_init(struct printer *p, const struct ctx *c)
{
	static const struct { const char *prefix; enum printer_kind kind; } forms[] = {
		{ "jsonpath=", PRINT_JSONPATH }, { "jsonpath-as-json=", PRINT_JSONPATH_JSON },
		{ "jsonpath-file=", PRINT_JSONPATH }, { "custom-columns=", PRINT_COLUMNS },
		{ "custom-columns-file=", PRINT_COLUMNS },
	};
	const char *o = c->output ? c->output : "";
	char err[512];
	int ret = 0;

	*p = (struct printer){ .kind = PRINT_TABLE };
	if (!strcmp(o, "") || !strcmp(o, "wide")) {
		p->kind = *o ? PRINT_WIDE : PRINT_TABLE;
	} else if (!strcmp(o, "json") || !strcmp(o, "yaml")) {
		p->kind = o[0] == 'j' ? PRINT_JSON : PRINT_YAML;
	} else if (!strcmp(o, "name")) {
		p->kind = PRINT_NAME;
	} else {
		size_t i, n = sizeof(forms) / sizeof(*forms);

		for (i = 0; i < n && strncmp(o, forms[i].prefix, strlen(forms[i].prefix)); i++)
			;
		if (i == n)
			return die_msg("unable to match a printer suitable for the output format \"%s\", allowed formats are: custom-columns,custom-columns-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,wide,yaml",
				       o);
		const char *arg = o + strlen(forms[i].prefix);
		char *file = NULL;

		p->kind = forms[i].kind;
		if (strstr(forms[i].prefix, "-file=") && p->kind == PRINT_JSONPATH) {
			if (!(file = slurp(arg)))
				return 1;
			arg = file;
		}
		if (p->kind == PRINT_COLUMNS)
			ret = strstr(forms[i].prefix, "-file=") ? parse_columns_file(p, arg) :
								  parse_columns(p, arg);
		else if (jsonpath_parse(&p->jp, arg, err, sizeof(err)))
			ret = die_msg("%s", err);
		free(file);
	}
	if (!ret && c->sort_by) {
		char *tmpl = NULL;

		p->sort_spec = c->sort_by;
		if (jsonpath_relaxed(&tmpl, c->sort_by, err, sizeof(err)) ||
		    jsonpath_parse(&p->sort, tmpl, err, sizeof(err)))
			ret = die_msg("%s", err);
		free(tmpl);
	}
	if (ret)
		printer_release(p);
	return ret;
}

bool printer_needs_objects(const struct printer *p)
{
	return p->sort || (p->kind != PRINT_TABLE && p->kind != PRINT_WIDE && p->kind != PRINT_NAME);
}

/* --- --sort-by ------------------------------------------------------------------- */

struct sort_key {
	json_t *v;   /* the first result, or NULL */
	size_t at;   /* the object's place before sorting */
};

static const char *sort_err;

/*
 * kubectl's RuntimeSort.Less is true whenever its left object lacks the
 * field, so Go's insertion sort (what sort.Sort runs on up to 12 objects)
 * moves each such object in front of all before it: they come first, in
 * reverse order.  We keep that order for any number; the others are
 * sorted stably by isLess.
 */
static int sort_cmp(const void *x, const void *y)
{
	const struct sort_key *a = x, *b = y;
	const json_t *u = a->v, *v = b->v;
	bool lt = false, gt = false;

	if (!u && !v)
		return a->at > b->at ? -1 : a->at < b->at;
	if (!u || !v) {
		lt = !u && v;
		gt = u && !v;
	} else if (json_is_null(u) || json_is_null(v)) {
		lt = json_is_null(u) && !json_is_null(v);
		gt = !json_is_null(u) && json_is_null(v);
	} else if (json_is_integer(u) && json_is_integer(v)) {
		lt = json_integer_value(u) < json_integer_value(v);
		gt = json_integer_value(u) > json_integer_value(v);
	} else if (json_is_real(u) && json_is_real(v)) {
		lt = json_real_value(u) < json_real_value(v);
		gt = json_real_value(u) > json_real_value(v);
	} else if (json_is_string(u) && json_is_string(v)) {
		/* kubectl's objects are unstructured: their strings compare as
		 * Go's <, bytewise (not sortorder's natural order of typed ones) */
		size_t lu = json_string_length(u), lv = json_string_length(v);
		int c = memcmp(json_string_value(u), json_string_value(v), lu < lv ? lu : lv);

		lt = c < 0 || (c == 0 && lu < lv);
		gt = c > 0 || (c == 0 && lu > lv);
	} else if (json_is_boolean(u) && json_is_boolean(v)) {
		lt = !json_is_true(u) && json_is_true(v);
		gt = json_is_true(u) && !json_is_true(v);
	} else if (!sort_err) {
		sort_err = json_is_object(u) || json_is_object(v) ? "a map is not sortable" :
			   json_is_array(u) || json_is_array(v) ? "a list is not sortable" :
			   "its values are of different types";
	}
	/* ties keep the store's order (kubectl's, up to 12 objects) */
	return lt ? -1 : gt ? 1 : a->at < b->at ? -1 : a->at > b->at;
}

int printer_sort(const struct printer *p, json_t *const *objs, size_t n, size_t *order)
{
	struct sort_key *keys = calloc(n ? n : 1, sizeof(*keys));
	bool found = false;
	char err[512];
	int ret = 0;

	if (!keys)
		return die_msg("out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *groups = NULL, *first;

		keys[i].at = i;
		if (jsonpath_find(p->sort, objs[i], &groups, err, sizeof(err))) {
			ret = die_msg("%s", err);
			goto out;
		}
		first = json_array_get(json_array_get(groups, 0), 0);
		keys[i].v = json_incref(first);
		found |= first != NULL;
		json_decref(groups);
	}
	if (n && !found) {
		char *tmpl = NULL;

		jsonpath_relaxed(&tmpl, p->sort_spec, err, sizeof(err));
		ret = die_msg("couldn't find any field with path \"%s\" in the list of objects",
			      tmpl ? tmpl : "");
		free(tmpl);
		goto out;
	}
	sort_err = NULL;
	qsort(keys, n, sizeof(*keys), sort_cmp);
	if (sort_err) {
		ret = die_msg("cannot sort by %s: %s", p->sort_spec, sort_err);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = keys[i].at;
out:
	for (size_t i = 0; i < n; i++)
		json_decref(keys[i].v);
	free(keys);
	return ret;
}

/* --- custom-columns ---------------------------------------------------------------- */

void printer_columns_head(const struct printer *p, struct table *t)
{
	for (size_t i = 0; i < p->ncols; i++)
		table_add(t, p->heads[i]);
}

int printer_columns_row(const struct printer *p, const json_t *obj, struct table *t)
{
	char err[512];

	for (size_t i = 0; i < p->ncols; i++) {
		json_t *groups = NULL;
		char *buf = NULL;
		size_t len = 0, k = 0;
		FILE *f;

		if (jsonpath_find(p->cols[i], obj, &groups, err, sizeof(err)))
			return die_msg("%s", err);
		f = open_memstream(&buf, &len);
		if (!f) {
			json_decref(groups);
			return die_msg("out of memory");
		}
		for (size_t g = 0; g < json_array_size(groups); g++)
			for (size_t j = 0; j < json_array_size(json_array_get(groups, g)); j++) {
				if (k++)
					fputc(',', f);
				jsonpath_value_print(f, json_array_get(json_array_get(groups, g), j), true);
			}
		if (!k)
			fputs("<none>", f);
		fclose(f);
		table_add(t, buf ? buf : "?");
		free(buf);
		json_decref(groups);
	}
	return 0;
}

/* --- a table writer that remembers its widths -------------------------------------- */

/* Go's tabwriter counts runes, not bytes. */
static size_t runes(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/*
 * Print t's rows from row `from` on (row 0 is the header) as kubectl's
 * tabwriter does (minimum width 6, padding 3, the last column unpadded),
 * each column at least as wide as any printed before through tw: a watch's
 * later rows line up with its listing.
 */
void tw_print(struct tw *tw, const struct table *t, size_t from)
{
	size_t ncols = t->ncols < TW_MAX_COLS ? t->ncols : TW_MAX_COLS;

	for (size_t i = from * t->ncols; i < t->ncells; i++) {
		size_t col = i % t->ncols, w = runes(t->cells[i]) + 3;

		if (col < ncols && w > tw->width[col])
			tw->width[col] = w < 6 ? 6 : w;
	}
	for (size_t i = from * t->ncols; i < t->ncells; i++) {
		size_t col = i % t->ncols;

		fputs(t->cells[i], stdout);
		if (col + 1 == t->ncols) {
			putchar('\n');
			continue;
		}
		for (size_t pad = runes(t->cells[i]); col < ncols && pad < tw->width[col]; pad++)
			putchar(' ');
		if (col >= ncols)
			fputs("   ", stdout);
	}
	fflush(stdout);
}

/* --- one object, or a list ------------------------------------------------------- */

int printer_object(const struct printer *p, const json_t *obj)
{
	char err[512];

	switch (p->kind) {
	case PRINT_JSON:
		return print_json(obj) ? die_msg("cannot write the output") : 0;
	case PRINT_YAML:
		return print_yaml(obj) ? die_msg("cannot write the output") : 0;
	case PRINT_JSONPATH:
	case PRINT_JSONPATH_JSON:
		if (jsonpath_exec(p->jp, obj, stdout, p->kind == PRINT_JSONPATH_JSON, err, sizeof(err)))
			return die_msg("%s", err);
		return 0;
	default:
		return die_msg("no printer for this output");
	}
}
