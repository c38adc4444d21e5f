/*
 * output.c - printing the way kubectl prints: aligned tables, human ages,
 * and objects as JSON (jansson) or YAML (libyaml's emitter).
 *
 * Objects are built once as jansson values and printed by either printer,
 * so -o json and -o yaml can never disagree.  Keys are sorted, as kubectl
 * prints unstructured objects.  A YAML string that would read back as
 * another type (a number, a boolean, null, a timestamp) is double-quoted.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <yaml.h>

#include "ctl.h"

/* --- progress ---------------------------------------------------------- */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_begin(struct progress *p, const char *label)
{
	*p = (struct progress){ .label = label, .tty = isatty(STDERR_FILENO) };
	if (p->tty)
		p->start = now_seconds();
}

void progress_update(struct progress *p, size_t done, size_t total)
{
	static const char bar[] = "########################################";
	const int width = (int)sizeof(bar) - 1;
	double now;
	int filled;

	if (!p->tty || !total)
		return;
	now = now_seconds();
	if (!p->shown && total < PROGRESS_MIN_ITEMS && now - p->start < 0.5)
		return;
	if (p->shown && now - p->last < 0.1 && done < total)
		return;
	if (done > total)
		done = total;
	filled = (int)((double)width * (double)done / (double)total);
	fprintf(stderr, "\r%s [%.*s%*s] %zu/%zu", p->label, filled, bar, width - filled, "",
		done, total);
	fflush(stderr);
	p->shown = true;
	p->last = now;
}

void progress_end(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = false;
}

/* --- tables ------------------------------------------------------------ */

void table_init(struct table *t, size_t ncols)
{
	*t = (struct table){ .ncols = ncols };
}

void table_add(struct table *t, const char *cell)
{
	char **v = realloc(t->cells, (t->ncells + 1) * sizeof(*v));
	char *c = strdup(cell);

	if (!v || !c) {
		fputs("error: out of memory\n", stderr);
		exit(1);
	}
	t->cells = v;
	v[t->ncells++] = c;
}

void table_addf(struct table *t, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	table_add(t, buf);
}

void table_print(const struct table *t)
{
	size_t width[16] = { 0 };

	for (size_t i = 0; i < t->ncells; i++) {
		size_t n = strlen(t->cells[i]);

		if (n > width[i % t->ncols])
			width[i % t->ncols] = n;
	}
	for (size_t i = 0; i < t->ncells; i++) {
		size_t col = i % t->ncols;

		if (col + 1 == t->ncols)
			printf("%s\n", t->cells[i]);
		else
			printf("%-*s", (int)(width[col] + 3), t->cells[i]);
	}
}

void table_release(struct table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->ncells = 0;
}

int print_json(const json_t *obj)
{
	if (json_dumpf(obj, stdout, JSON_INDENT(4) | JSON_SORT_KEYS) < 0)
		return -EIO;
	putchar('\n');
	return 0;
}

/* --- YAML -------------------------------------------------------------- */

/*
 * Would this string, unquoted, read back as something else: null, a
 * boolean, a number (the reader's own rules, manifest.c), or a timestamp
 * (which Kubernetes' YAML writer quotes too)?
 */
static bool yaml_needs_quotes(const char *s)
{
	json_t *v = yaml_plain_scalar(s);
	bool other = !json_is_string(v);
	const char *p = s;

	json_decref(v);
	if (other || !*s)
		return true;
	for (int i = 0; i < 4; i++, p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return *p == '-'; /* 2026-11-29... */
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev, int ok)
{
	if (!ok || !yaml_emitter_emit(e, ev))
		return -EIO;
	return 0;
}

static int emit_scalar(yaml_emitter_t *e, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	return emit(e, &ev, yaml_scalar_event_initialize(
				    &ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s),
				    1, 1, style));
}

static int emit_value(yaml_emitter_t *e, const json_t *v)
{
	yaml_event_t ev;
	char buf[64];
	int err;

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char **keys;
		size_t n = json_object_size(v), i = 0;
		const char *k;
		json_t *item;

		keys = calloc(n ? n : 1, sizeof(*keys));
		if (!keys)
			return -ENOMEM;
		json_object_foreach((json_t *)v, k, item)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), strcmp_ptr);
		err = emit(e, &ev, yaml_mapping_start_event_initialize(
					   &ev, NULL, NULL, 1,
					   n ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE));
		for (i = 0; !err && i < n; i++) {
			err = emit_scalar(e, keys[i], yaml_needs_quotes(keys[i]) ?
					  YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
			if (!err)
				err = emit_value(e, json_object_get(v, keys[i]));
		}
		free(keys);
		if (!err)
			err = emit(e, &ev, yaml_mapping_end_event_initialize(&ev));
		return err;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *item;

		err = emit(e, &ev, yaml_sequence_start_event_initialize(
					   &ev, NULL, NULL, 1,
					   json_array_size(v) ? YAML_BLOCK_SEQUENCE_STYLE :
					   YAML_FLOW_SEQUENCE_STYLE));
		json_array_foreach(v, i, item) {
			if (err)
				break;
			err = emit_value(e, item);
		}
		if (!err)
			err = emit(e, &ev, yaml_sequence_end_event_initialize(&ev));
		return err;
	}
	case JSON_STRING: {
		const char *s = json_string_value(v);

		return emit_scalar(e, s, yaml_needs_quotes(s) ?
				   YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
	}
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return emit_scalar(e, buf, YAML_PLAIN_SCALAR_STYLE);
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%g", json_real_value(v));
		return emit_scalar(e, buf, YAML_PLAIN_SCALAR_STYLE);
	case JSON_TRUE:
		return emit_scalar(e, "true", YAML_PLAIN_SCALAR_STYLE);
	case JSON_FALSE:
		return emit_scalar(e, "false", YAML_PLAIN_SCALAR_STYLE);
	case JSON_NULL:
		return emit_scalar(e, "null", YAML_PLAIN_SCALAR_STYLE);
	}
	return -EINVAL;
}

static int yaml_write(void *data, unsigned char *buf, size_t size)
{
	return fwrite(buf, 1, size, data) == size;
}

int print_yaml(const json_t *obj)
{
	return print_yaml_file(stdout, obj);
}

int print_yaml_file(FILE *f, const json_t *obj)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	int err;

	if (!yaml_emitter_initialize(&e))
		return -ENOMEM;
	yaml_emitter_set_output(&e, yaml_write, f);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	err = emit(&e, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	if (!err)
		err = emit(&e, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	if (!err)
		err = emit_value(&e, obj);
	if (!err)
		err = emit(&e, &ev, yaml_document_end_event_initialize(&ev, 1));
	if (!err)
		err = emit(&e, &ev, yaml_stream_end_event_initialize(&ev));
	yaml_emitter_delete(&e);
	return err;
}
