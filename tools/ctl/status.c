/*
 * status.c - status: the store, its key ring, and every secretfs serving it
 * (from the status files the daemons write), with etcd's revision in
 * cluster mode.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "conf/status.h"

static int count_ns(void *ctx, const char *name, const struct store_stat *st)
{
	uint64_t *n = ctx;

	(void)name;
	n[0]++;
	n[1] += st->count;
	return 0;
}

static int count_keys(void *ctx, const struct store_keyinfo *k)
{
	uint32_t *v = ctx;

	v[0]++;
	if (k->active)
		v[1] = k->id;
	return 0;
}

/* Is pid a live secretfs (and not a process that reused a dead one's pid)? */
static bool is_secretfs(int pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return strcmp(comm, "secretfs\n") == 0;
}

/*
 * status: the store (path, revision, counts, key ring) and every running
 * daemon serving it, from the files daemons keep in STATUS_DIR (conf/status.h):
 * each mount, what it serves, and how far behind the store it is.
 */
/* Cluster mode: how far this node's copy is behind etcd. */
static void print_cluster(struct ctx *c)
{
	int64_t head = 0, have = 0;

	store_etcd_revision(c->st, &have);
	printf("Cluster:     etcd %s, prefix %s\n", c->cfg.cluster.endpoints,
	       c->cfg.cluster.prefix ? c->cfg.cluster.prefix : CLUSTER_DEFAULT_PREFIX);
	if (cluster_head(c->cl, &head) == 0)
		printf("  etcd:      revision %lld (at %s)\n", (long long)head, cluster_endpoint(c->cl));
	else
		printf("  etcd:      unreachable: %s\n", cluster_errmsg(c->cl));
	printf("  this node: revision %lld", (long long)have);
	if (head)
		printf(" (lag: %lld revision%s)", (long long)(head - have),
		       head - have == 1 ? "" : "s");
	putchar('\n');
}

/* What a running daemon says of its watch on etcd. */
static void daemon_etcd(int pid, json_t *e)
{
	printf("  secretfs %d: etcd revision %lld applied, %s %s\n", pid,
	       (long long)json_integer_value(json_object_get(e, STATUS_REVISION)),
	       json_is_true(json_object_get(e, STATUS_ETCD_WATCHING)) ? "watching" : "reconnecting to",
	       json_string_value(json_object_get(e, STATUS_ETCD_ENDPOINT)) ?: "?");
}

/* Append "  secretfs PID: error: MSG\n" to list (malloc'd; NULL at first):
 * printed under the mounts, so that a daemon in trouble is not missed. */
static char *add_daemon_error(char *list, int pid, const char *msg)
{
	size_t have = list ? strlen(list) : 0, more = strlen(msg) + 48;
	char *l = realloc(list, have + more);

	if (!l)
		return list;
	snprintf(l + have, more, "  secretfs %d: error: %s\n", pid, msg);
	return l;
}

/*
 * The status file STATUS_DIR/name of a live secretfs serving c's store, or
 * NULL (not a status file, a daemon that is gone, another store's); its
 * pid in *pid.  The caller drops the reference.
 */
static json_t *status_load(const struct ctx *c, const char *name, int *pid)
{
	char path[512];
	json_error_t jerr;
	json_t *doc;

	if (!strstr(name, STATUS_SUFFIX) || strstr(name, ".tmp"))
		return NULL;
	snprintf(path, sizeof(path), STATUS_DIR "/%s", name);
	doc = json_load_file(path, 0, &jerr);
	*pid = (int)json_integer_value(json_object_get(doc, STATUS_PID));
	if (!doc || *pid <= 0 || !is_secretfs(*pid) ||
	    strcmp(json_string_value(json_object_get(doc, STATUS_STORE)) ?: "", c->cfg.store_path) != 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

char *status_views_requiring(const struct ctx *c, const char *ns, const char *name)
{
	char ref[STORE_MAX_NAMESPACE + STORE_MAX_NAME + 2], *list = NULL;
	size_t used = 0;
	struct dirent **files;
	int n = scandir(STATUS_DIR, &files, NULL, alphasort);

	snprintf(ref, sizeof(ref), "%s/%s", ns, name);
	for (int i = 0; i < n; i++) {
		json_t *doc, *v, *r;
		size_t j, k;
		int pid;

		doc = status_load(c, files[i]->d_name, &pid);
		free(files[i]);
		json_array_foreach(json_object_get(doc, STATUS_VIEWS), j, v) {
			json_array_foreach(json_object_get(v, STATUS_VIEW_REQUIRES), k, r) {
				const char *view = json_string_value(json_object_get(v, STATUS_VIEW_NAME));
				size_t more = (view ? strlen(view) : 1) + 48;
				char *l;

				if (strcmp(json_string_value(r) ?: "", ref) != 0)
					continue;
				l = realloc(list, used + more);
				if (!l)
					break;
				list = l;
				used += (size_t)snprintf(list + used, more, "%s\"%s\" (secretfs %d)",
							 used ? ", " : "", view ? view : "?", pid);
			}
		}
		json_decref(doc);
	}
	if (n > 0)
		free(files);
	return list;
}

int cmd_status(struct ctx *c)
{
	uint64_t counts[2] = { 0, 0 };
	uint32_t ring[2] = { 0, 0 };
	struct dirent **list;
	struct table t, pending;
	size_t npending = 0;
	char uuid[37], *errors = NULL;
	const char *served_uuid;
	bool broken = false;
	int64_t rev;
	int n, rows = 0;

	if (c->nargs)
		return die_msg("status takes no arguments");
	c->no_sync = true; /* how far behind this node is, not etcd */
	/* a store that will not open (replaced by one our key does not
	 * open, say) still has daemons to show: the error, then them */
	if (open_store(c)) {
		if (!c->have_cfg || c->st)
			return 1;
		broken = true;
		rev = 0;
		uuid[0] = '\0';
		printf("Store:       %s (cannot be opened, see above)\n", c->cfg.store_path);
	} else {
		if (store_revision(c->st, &rev) || store_ns_each(c->st, count_ns, counts) ||
		    store_keyring_each(c->st, count_keys, ring))
			return die_msg("%s", store_errmsg(c->st));
		store_uuid(c->st, uuid);
		printf("Store:       %s\n", c->cfg.store_path);
		printf("Revision:    %lld\n", (long long)rev);
		printf("Namespaces:  %llu\n", (unsigned long long)counts[0]);
		printf("Secrets:     %llu\n", (unsigned long long)counts[1]);
		printf("Key ring:    %u data key%s, key %u seals new values\n", ring[0],
		       ring[0] == 1 ? "" : "s", ring[1]);
	}
	if (c->cl)
		print_cluster(c);
	printf("\nMounts:\n");
	table_init(&t, 6);
	table_add(&t, "  MOUNTPOINT");
	table_add(&t, "VIEW");
	table_add(&t, "MODE");
	table_add(&t, "PID");
	table_add(&t, "REVISION");
	table_add(&t, "LAG");
	n = scandir(STATUS_DIR, &list, NULL, alphasort);
	table_init(&pending, 3);
	table_add(&pending, "  VIEW");
	table_add(&pending, "PID");
	table_add(&pending, "MISSING");
	for (int i = 0; i < n; i++) {
		json_t *doc, *m, *audit;
		size_t j;
		int pid;

		doc = status_load(c, list[i]->d_name, &pid);
		free(list[i]);
		if (!doc)
			continue;
		json_array_foreach(json_object_get(doc, STATUS_VIEWS), j, m) {
			if (!json_is_true(json_object_get(m, STATUS_VIEW_PENDING)))
				continue;
			table_addf(&pending, "  %s", json_string_value(json_object_get(m, STATUS_VIEW_NAME)) ?: "?");
			table_addf(&pending, "%d", pid);
			table_add(&pending, json_string_value(json_object_get(m, STATUS_VIEW_MISSING)) ?: "?");
			npending++;
		}
		if (json_object_get(doc, STATUS_ETCD))
			daemon_etcd(pid, json_object_get(doc, STATUS_ETCD));
		served_uuid = json_string_value(json_object_get(doc, STATUS_UUID));
		if (json_string_value(json_object_get(doc, STATUS_ERROR)))
			errors = add_daemon_error(errors, pid,
						  json_string_value(json_object_get(doc, STATUS_ERROR)));
		if (json_string_value(json_object_get(doc, STATUS_CONFIG_ERROR))) {
			char msg[700];

			snprintf(msg, sizeof(msg), "configuration not reloaded, the running views are unchanged: %s",
				 json_string_value(json_object_get(doc, STATUS_CONFIG_ERROR)));
			errors = add_daemon_error(errors, pid, msg);
		}
		audit = json_object_get(doc, STATUS_AUDIT);
		if (json_integer_value(json_object_get(audit, STATUS_AUDIT_LOST))) {
			char msg[128];

			snprintf(msg, sizeof(msg), "%lld audit records could not be written, %lld opens refused for it",
				 (long long)json_integer_value(json_object_get(audit, STATUS_AUDIT_LOST)),
				 (long long)json_integer_value(json_object_get(audit, STATUS_AUDIT_REFUSED)));
			errors = add_daemon_error(errors, pid, msg);
		}
		json_array_foreach(json_object_get(doc, STATUS_MOUNTS), j, m) {
			json_int_t served = json_integer_value(json_object_get(doc, STATUS_REVISION));
			const char *view = json_string_value(json_object_get(m, STATUS_VIEW));

			table_addf(&t, "  %s", json_string_value(json_object_get(m, STATUS_MOUNTPOINT)) ?: "?");
			table_add(&t, view ? view : "-");
			table_add(&t, json_string_value(json_object_get(m, STATUS_MODE)) ?: "?");
			table_addf(&t, "%d", pid);
			table_addf(&t, "%lld", (long long)served);
			/* a daemon still on a store replaced under it has no lag
			 * to speak of: it serves another store */
			if (broken)
				table_add(&t, "?");
			else if (served_uuid && strcmp(served_uuid, uuid) != 0)
				table_add(&t, "other store");
			else
				table_addf(&t, "%lld", (long long)(rev - served));
			rows++;
		}
		json_decref(doc);
	}
	if (n > 0)
		free(list);
	if (rows)
		table_print(&t);
	else
		printf("  none running\n");
	table_release(&t);
	if (npending) {
		/* as a pod waits for its secrets: mounted once they exist */
		printf("\nPending views (waiting for the secrets they require):\n");
		table_print(&pending);
	}
	table_release(&pending);
	if (errors) {
		fputs(errors, stdout);
		free(errors);
	}
	return broken ? 1 : 0;
}
