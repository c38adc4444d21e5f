/*
 * diff.c - diff -f, as kubectl diff: for each Secret of the manifests, the
 * live object and what apply would make of it (checked by the store's
 * rules, nothing written), each written as YAML into a LIVE and a MERGED
 * folder and compared by "diff -u -N" or $KUBECTL_EXTERNAL_DIFF.
 *
 * Values never reach those files: as kubectl's masker (cmd/diff), every
 * value under data is "***", "*** (before)" and "*** (after)" where it
 * changes.  Exit status as kubectl's: 0 no differences, 1 differences,
 * above 1 an error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"

struct diff_dirs {
	char live[PATH_MAX], merged[PATH_MAX];
	bool have_live, have_merged;	/* mkdtemp made them */
};

/* kubectl's Masker: data values of from and to replaced, in place. */
static void mask(json_t *from, json_t *to)
{
	json_t *fd = json_object_get(from, "data"), *td = json_object_get(to, "data"), *v;
	const char *k;

	json_object_foreach(fd, k, v) {
		json_t *w = json_object_get(td, k);

		if (w && !json_equal(v, w)) {
			json_object_set_new(fd, k, json_string("*** (before)"));
			json_object_set_new(td, k, json_string("*** (after)"));
		} else {
			json_object_set_new(fd, k, json_string("***"));
		}
	}
	json_object_foreach(td, k, v)
		if (strncmp(json_string_value(v) ? json_string_value(v) : "", "***", 3))
			json_object_set_new(td, k, json_string("***"));
}

/* dir/v1.Secret.NS.NAME, kubectl's file name, holding obj as YAML. */
static int write_one(const char *dir, const json_t *obj)
{
	const json_t *meta = json_object_get(obj, "metadata");
	char path[PATH_MAX];
	FILE *f;
	int fd, err;

	if (snprintf(path, sizeof(path), "%s/v1.Secret.%s.%s", dir,
		     json_string_value(json_object_get(meta, "namespace")),
		     json_string_value(json_object_get(meta, "name"))) >= (int)sizeof(path))
		return die_msg("%s: path too long", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		return die_msg("cannot write '%s': %s", path, strerror(errno));
	}
	err = print_yaml_file(f, obj);
	if (fclose(f) || err)
		return die_msg("cannot write '%s'", path);
	return 0;
}

static int diff_one(const json_t *live, const json_t *result, void *arg)
{
	struct diff_dirs *d = arg;
	json_t *from = live ? json_deep_copy(live) : NULL, *to = json_deep_copy(result);
	int ret = 1;

	if ((live && !from) || !to) {
		ret = die_msg("out of memory");
		goto out;
	}
	/* a dry run takes no revision: the version shown is the live one */
	if (from)
		json_object_set(json_object_get(to, "metadata"), "resourceVersion",
				json_object_get(json_object_get(from, "metadata"), "resourceVersion"));
	mask(from, to);
	ret = (from && write_one(d->live, from)) || write_one(d->merged, to);
out:
	json_decref(from);
	json_decref(to);
	return ret;
}

/* The folder and the files we wrote in it (v1.Secret.*), nothing else.
 * Whether mkdtemp made it is remembered, not guessed from the name: its
 * random part may itself end in 'X'. */
static void remove_dir(const char *dir, bool made)
{
	struct dirent *e;
	DIR *dp;
	int fd;

	if (!made || !(dp = opendir(dir)))
		return;
	fd = dirfd(dp);
	while ((e = readdir(dp)))
		if (!strncmp(e->d_name, "v1.Secret.", 10))
			unlinkat(fd, e->d_name, 0);
	closedir(dp);
	rmdir(dir);
}

/* $KUBECTL_EXTERNAL_DIFF as kubectl reads it: a program and plain flags,
 * split in buf (buflen bytes); one longer than buf is refused, not cut. */
static int diff_argv(char **argv, size_t max, char *buf, size_t buflen)
{
	const char *env = getenv("KUBECTL_EXTERNAL_DIFF");
	size_t n = 0;
	char *save, *w;

	if (!env || !*env) {
		argv[n++] = "diff";
		argv[n++] = "-u";
		argv[n++] = "-N";
		argv[n] = NULL;
		return 0;
	}
	if (snprintf(buf, buflen, "%s", env) >= (int)buflen)
		return die_msg("KUBECTL_EXTERNAL_DIFF: longer than %zu bytes", buflen - 1);
	for (w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n > 0 && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-=") != strlen(w))
			return die_msg("KUBECTL_EXTERNAL_DIFF: arguments must match ^[a-zA-Z0-9-=]+$, not \"%s\"", w);
		if (n + 3 >= max)
			return die_msg("KUBECTL_EXTERNAL_DIFF: too many arguments");
		argv[n++] = w;
	}
	argv[n] = NULL;
	return n ? 0 : die_msg("KUBECTL_EXTERNAL_DIFF is empty");
}

int cmd_diff(struct ctx *c)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct diff_dirs d = { "", "", false, false };
	char *argv[32], buf[512];
	size_t n;
	int ret = 2, status;
	pid_t pid;

	if (!c->nmanifests)
		return die_msg("must specify -f") + 1;
	if (diff_argv(argv, sizeof(argv) / sizeof(*argv), buf, sizeof(buf)))
		return 2;
	snprintf(d.live, sizeof(d.live), "%s/LIVE-XXXXXX", tmp);
	snprintf(d.merged, sizeof(d.merged), "%s/MERGED-XXXXXX", tmp);
	d.have_live = mkdtemp(d.live) != NULL;
	d.have_merged = d.have_live && mkdtemp(d.merged) != NULL;
	if (!d.have_merged) {
		die_msg("cannot make a folder in '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (apply_each(c, diff_one, &d))
		goto out;
	for (n = 0; argv[n]; n++)
		;
	argv[n++] = d.live;
	argv[n++] = d.merged;
	argv[n] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		die_msg("cannot run %s: %s", argv[0], strerror(errno));
		goto out;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "error: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			die_msg("cannot wait for %s: %s", argv[0], strerror(errno));
			goto out;
		}
	/* diff's own status: 0 same, 1 different, 2 trouble */
	ret = WIFEXITED(status) ? (WEXITSTATUS(status) <= 1 ? WEXITSTATUS(status) : 2) : 2;
out:
	remove_dir(d.live, d.have_live);
	remove_dir(d.merged, d.have_merged);
	return ret;
}
