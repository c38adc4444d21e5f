/*
 * exec.c - exec and env: secrets as environment variables, for a command
 * run in their presence or for a shell to eval.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd.h"

/* Kubernetes' IsEnvVarName: [-._a-zA-Z][-._a-zA-Z0-9]*, not '.', '..' or
 * starting with '..' (what exec passes on, as the kubelet would) */
static bool env_name_ok(const char *k)
{
	if (!*k || (*k >= '0' && *k <= '9') || !strcmp(k, ".") || !strncmp(k, "..", 2))
		return false;
	for (; *k; k++)
		if (!strchr("-._", *k) && !(*k >= 'a' && *k <= 'z') &&
		    !(*k >= 'A' && *k <= 'Z') && !(*k >= '0' && *k <= '9'))
			return false;
	return true;
}

/* POSIX's shell variable names, [A-Za-z_][A-Za-z0-9_]*: what env may print,
 * since 'export api-url=...' is an error in bash and aborts dash, and an
 * eval that stops half-way leaves a script with half of its variables. */
static bool shell_name_ok(const char *k)
{
	if (!*k || (*k >= '0' && *k <= '9'))
		return false;
	for (; *k; k++)
		if (*k != '_' && !(*k >= 'a' && *k <= 'z') && !(*k >= 'A' && *k <= 'Z') &&
		    !(*k >= '0' && *k <= '9'))
			return false;
	return true;
}

typedef int env_fn(struct ctx *c, const char *name, const uint8_t *v, size_t len);

/*
 * Visit the variables the --from secrets give, in order (a later secret
 * wins on a shared name, as with envFrom).  Keys that are not valid
 * variable names are skipped with a warning and an event, as the kubelet
 * does; values holding a NUL byte cannot be variables and are skipped too.
 * name_ok says which names are variables: the kubelet's for exec, the
 * shell's for env (one warning and event for both).
 */
static int env_each(struct ctx *c, bool (*name_ok)(const char *), env_fn *fn)
{
	if (!c->nfrom)
		return die_msg("at least one --from SECRET is required");
	if (open_store(c))
		return 1;
	for (size_t i = 0; i < c->nfrom; i++) {
		struct store_secret *s;
		char skipped[STORE_ERRMSG_MAX] = "", object[300];
		size_t used = 0;

		if (store_secret_get(c->st, ns_of(c), c->from[i], STORE_WITH_VALUES, &s))
			return die_msg("%s", store_errmsg(c->st));
		for (size_t j = 0; j < s->nitems; j++) {
			char *name = NULL;
			int ret = 0;

			if (asprintf(&name, "%s%s", c->prefix ? c->prefix : "", s->items[j].key) < 0) {
				store_secret_free(s);
				return die_msg("out of memory");
			}
			if (!name_ok(name)) {
				/* once the list is full, it stays cut where it was */
				if (used < sizeof(skipped))
					used += (size_t)snprintf(skipped + used, sizeof(skipped) - used,
								 "%s%s", used ? ", " : "", name);
			} else if (memchr(s->items[j].value, '\0', s->items[j].len)) {
				fprintf(stderr, "warning: secret \"%s\": key \"%s\" holds a NUL byte: not a variable\n",
					s->name, s->items[j].key);
			} else {
				ret = fn(c, name, s->items[j].value, s->items[j].len);
			}
			free(name);
			if (ret) {
				store_secret_free(s);
				return ret;
			}
		}
		if (used) {
			char msg[STORE_ERRMSG_MAX + 200];

			snprintf(msg, sizeof(msg),
				 "Keys [%s] from the EnvFrom secret %s/%s were skipped since they are considered invalid environment variable names.",
				 skipped, s->namespace, s->name);
			fprintf(stderr, "warning: %s\n", msg);
			snprintf(object, sizeof(object), "secret/%s", s->name);
			if (store_event_add(c->st, "Warning", "InvalidEnvironmentVariableNames",
					    s->namespace, object, msg))
				fprintf(stderr, "warning: %s\n", store_errmsg(c->st));
		}
		store_secret_free(s);
	}
	return 0;
}

static int env_set(struct ctx *c, const char *name, const uint8_t *v, size_t len)
{
	(void)c;
	(void)len;
	return setenv(name, (const char *)v, 1) ? die_msg("cannot set %s: %s", name, strerror(errno)) : 0;
}

/* One 'export NAME='VALUE'' line.  Inside single quotes every byte but the
 * quote itself stands for itself in bash and dash alike (newlines, $, `,
 * backslashes, non-UTF-8), so the value round-trips through eval; a quote
 * closes, is escaped and reopens: '\''. */
static int env_print(struct ctx *c, const char *name, const uint8_t *v, size_t len)
{
	(void)c;
	printf("export %s='", name);
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\'')
			fputs("'\\''", stdout);
		else
			putchar(v[i]);
	}
	puts("'");
	return 0;
}

int cmd_exec(struct ctx *c)
{
	int ret;

	if (c->nargs < 1)
		return die_msg("a command is required: secretctl exec --from SECRET -- COMMAND [ARGS...]");
	if ((ret = env_each(c, env_name_ok, env_set)))
		return ret;
	store_close(c->st);
	c->st = NULL;
	execvp(c->args[0], c->args);
	return die_msg("cannot run '%s': %s", c->args[0], strerror(errno));
}

int cmd_env(struct ctx *c)
{
	int ret = env_each(c, shell_name_ok, env_print);

	/* a cut-off output would eval to fewer variables without a word */
	if (!ret && (fflush(stdout) || ferror(stdout)))
		return die_msg("cannot write the variables: %s", strerror(errno));
	return ret;
}
