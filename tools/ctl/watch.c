/*
 * watch.c - watch: each committed change, printed as it lands (inotify on
 * the store's folder, a one-second timer where inotify is not to be had);
 * the loop that follows the change log, shared with get -w.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cmd.h"

static int watch_print(void *arg, const struct store_change *ch)
{
	const struct ctx *c = arg;
	static const char *const events[] = {
		[STORE_OP_NS_CREATE] = "ADDED", [STORE_OP_NS_DELETE] = "DELETED",
		[STORE_OP_CREATE] = "ADDED", [STORE_OP_UPDATE] = "MODIFIED",
		[STORE_OP_DELETE] = "DELETED",
	};

	if (!c->all_ns && strcmp(ch->namespace, ns_of(c)) != 0)
		return 0;
	if (c->nargs && (!ch->name || strcmp(ch->name, c->args[0]) != 0))
		return 0;
	if (ch->op < STORE_OP_NS_CREATE || ch->op > STORE_OP_DELETE)
		return 0;
	if (ch->name)
		printf("%-10lld %-10s %-16s secret/%-24s %lld\n", (long long)ch->revision,
		       events[ch->op], ch->namespace, ch->name, (long long)ch->generation);
	else
		printf("%-10lld %-10s %-16s namespace/%-21s -\n", (long long)ch->revision,
		       events[ch->op], ch->namespace, ch->namespace);
	fflush(stdout);
	return 0;
}

struct follow {
	store_change_fn fn;
	void *arg;
	int64_t last;
};

static int follow_one(void *arg, const struct store_change *ch)
{
	struct follow *f = arg;

	f->last = ch->revision;
	return f->fn(f->arg, ch);
}

/*
 * Call fn for every change after revision since, oldest first, as it is
 * committed, until fn returns nonzero (returned) or the store or the
 * waiting fails (1, after saying why).  inotify on the store's folder wakes us when a commit
 * writes the WAL; as the WAL index may be published a moment after that
 * write, an empty wake-up looks again shortly, and a one-second timer
 * covers file systems without inotify.
 */
int watch_follow(struct ctx *c, int64_t since, store_change_fn fn, void *arg)
{
	struct follow f = { fn, arg, since };
	char *dir;
	int fd, backoff = 0, ret = 0;

	dir = strdup(c->cfg.store_path);
	if (!dir)
		return die_msg("out of memory");
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	fd = inotify_init1(IN_CLOEXEC);
	if (fd >= 0 && inotify_add_watch(fd, *dir ? dir : "/", IN_MODIFY | IN_CLOSE_WRITE) < 0) {
		close(fd);
		fd = -1;
	}
	free(dir);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t before = f.last;
		char buf[4096];
		int n = poll(&p, fd >= 0 ? 1 : 0, backoff ? backoff : 1000);

		if ((n < 0 && errno != EINTR) || (n > 0 && read(fd, buf, sizeof(buf)) < 0)) {
			/* a watch that stops must not look like one that ended well */
			ret = die_msg("cannot wait for changes to '%s': %s", c->cfg.store_path,
				      strerror(errno));
			break;
		}
		ret = store_changes(c->st, f.last, follow_one, &f);
		if (ret < 0) {
			ret = die_msg("%s", store_errmsg(c->st));
			break;
		}
		if (ret)
			break;
		/* look again after 1, 2, 4 ... 64 ms, never longer: other files
		 * of the folder may keep inotify busy while the commit we were
		 * woken for is not visible yet */
		if (f.last != before || (n <= 0 && backoff >= 64))
			backoff = 0;
		else if (n > 0 || backoff)
			backoff = backoff ? (backoff < 64 ? backoff * 2 : 64) : 1;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Print every change as it is committed, one line each. */
int cmd_watch(struct ctx *c)
{
	int64_t now;

	if (c->nargs > 1)
		return die_msg("watch takes at most one secret NAME");
	if (open_store(c))
		return 1;
	if (store_revision(c->st, &now))
		return die_msg("%s", store_errmsg(c->st));
	printf("%-10s %-10s %-16s %-31s %s\n", "REVISION", "EVENT", "NAMESPACE", "OBJECT",
	       "GENERATION");
	fflush(stdout);
	return watch_follow(c, now, watch_print, c);
}
