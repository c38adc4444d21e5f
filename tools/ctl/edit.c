/*
 * edit.c - edit secret: the object in $VISUAL or $EDITOR, in a private
 * tmpfs (scratch.c), checked on save and reopened with the error on top.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd.h"

static const char edit_header[] =
	"# Please edit the object below. Lines beginning with a '#' will be ignored,\n"
	"# and an empty file will abort the edit. If an error occurs while saving this file will be\n"
	"# reopened with the relevant failures.\n"
	"#\n";

/* Write header, an error block (or none) and body to path, mode 0600. */
static int edit_write(const char *path, const char *error, const json_t *obj, const char *body)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ret = 0;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	fputs(edit_header, f);
	if (error)
		fprintf(f, "# %s\n#\n", error);
	if (obj)
		ret = print_yaml_file(f, obj);
	else
		fputs(body, f);
	if (fclose(f) != 0 && !ret)
		ret = -EIO;
	return ret;
}

static int run_editor(const char *path)
{
	const char *ed = getenv("VISUAL");
	pid_t pid, self = getpid();
	int status;

	if (!ed || !*ed)
		ed = getenv("EDITOR");
	if (!ed || !*ed)
		ed = "vi";
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		scratch_editor_child(self);
		/* like kubectl: the editor variable may hold arguments */
		execl("/bin/sh", "sh", "-c", "exec $0 \"$1\"", ed, path, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

/* The file without its comment lines, as a new string. */
static char *strip_comments(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;

	if (!out)
		return NULL;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
		const char *q = p;

		while (q < p + n && (*q == ' ' || *q == '\t'))
			q++;
		if (*q != '#') {
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	*o = '\0';
	return out;
}

/*
 * edit secret NAME: the object, values in base64, in $VISUAL or $EDITOR; on
 * save it is checked and stored; on an error the file reopens with the error
 * on top, as kubectl does; nothing changes unless the edit is valid.  The
 * file lives in a private folder (scratch.c: a tmpfs only this process and
 * its editor see), mode 0600, and is overwritten with zeros before it is
 * removed, on a fatal signal too.
 */
int cmd_edit_secret(struct ctx *c)
{
	char dir[128], path[512], err[STORE_ERRMSG_MAX], msg[STORE_ERRMSG_MAX + 64];
	struct store_secret *old = NULL, *s = NULL;
	char *last = NULL, *now = NULL;
	json_t *obj = NULL, *docs = NULL;
	bool had_error = false;
	int ret = 1;

	/* the folder before the store: its namespace is made before any key
	 * is in memory (see own_mount_namespace() in scratch.c); the configuration before
	 * the folder: in a user namespace root's files are nobody's, and the
	 * configuration's owner is checked */
	if (load_config(c))
		return 1;
	if (scratch_open(dir, sizeof(dir), err, sizeof(err)))
		return die_msg("%s", err);
	if (open_store(c)) {
		scratch_close();
		return 1;
	}
	if (store_secret_get(c->st, ns_of(c), c->args[0], STORE_WITH_VALUES, &old)) {
		scratch_close();
		return die_msg("%s", store_errmsg(c->st));
	}
	snprintf(path, sizeof(path), "%s/%s.yaml", dir, old->name);
	obj = secret_to_json(old);
	if (!obj || edit_write(path, NULL, obj, NULL)) {
		die_msg("cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		unsigned char *buf;
		size_t len;

		free(last);
		last = NULL;
		if (read_whole(path, &buf, &len, err, sizeof(err)) == 0) {
			last = strip_comments((char *)buf);
			sodium_free(buf);
		}
		if (run_editor(path)) {
			die_msg("the editor failed; nothing was changed");
			goto out;
		}
		if (read_whole(path, &buf, &len, err, sizeof(err))) {
			die_msg("%s", err);
			goto out;
		}
		free(now);
		now = strip_comments((char *)buf);
		sodium_free(buf);
		if (!now || !last) {
			die_msg("out of memory");
			goto out;
		}
		if (strspn(now, " \t\n") == strlen(now)) {
			die_msg("Edit cancelled, saved file was empty.");
			goto out;
		}
		if (strcmp(now, last) == 0) {
			if (had_error) {
				die_msg("Edit cancelled, no valid changes were saved.");
				goto out;
			}
			printf("Edit cancelled, no changes made.\n");
			ret = 0;
			goto out;
		}
		json_decref(docs);
		docs = json_array();
		err[0] = '\0';
		if (!docs || manifest_load(path, docs, err, sizeof(err)) ||
		    json_array_size(docs) != 1 ||
		    manifest_secret(json_array_get(docs, 0), ns_of(c), true, &s, err, sizeof(err))) {
			if (!err[0])
				snprintf(err, sizeof(err), "the file must hold exactly one Secret");
		} else if (strcmp(s->name, old->name) != 0) {
			snprintf(err, sizeof(err), "the name of a secret cannot be changed in an edit");
			store_secret_free(s);
		} else {
			int werr;

			/* in cluster mode, as kubectl's resourceVersion: someone
			 * else's change since the edit began is not overwritten */
			s->etcd_rev = old->etcd_rev;
			werr = write_secret(c, s, STORE_PUT_REPLACE, NULL);
			store_secret_free(s);
			if (!werr) {
				printf("secret/%s edited\n", old->name);
				ret = 0;
				goto out;
			}
			if (werr == -EAGAIN) { /* editing again would not help */
				/* kubectl keeps a copy in /tmp; ours holds every
				 * value in clear, so it goes with the tmpfs */
				die_msg("%s", write_errmsg(c));
				fprintf(stderr, "your edited copy was discarded: it held the secret's values, which "
					"secretctl never leaves on disk; run 'secretctl edit secret %s -n %s' "
					"again to edit the latest version\n", old->name, old->namespace);
				goto out;
			}
			snprintf(err, sizeof(err), "%s", write_errmsg(c));
		}
		/* reopen with the error on top, as kubectl does */
		snprintf(msg, sizeof(msg), "secrets \"%s\" was not valid:\n# * %s", old->name, err);
		if (edit_write(path, msg, NULL, now)) {
			die_msg("cannot write '%s': %s", path, strerror(errno));
			goto out;
		}
		fprintf(stderr, "error: %s\n", err);
		had_error = true;
	}
out:
	scratch_close();
	if (last)
		sodium_memzero(last, strlen(last));
	if (now)
		sodium_memzero(now, strlen(now));
	free(last);
	free(now);
	json_decref(obj);
	json_decref(docs);
	store_secret_free(old);
	return ret;
}
