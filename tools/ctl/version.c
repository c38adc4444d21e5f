/*
 * version.c - version: secretctl's version and the store's schema, shaped
 * as kubectl version prints the client's and the server's.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "cmd.h"

#ifndef SECRETFS_VERSION
#define SECRETFS_VERSION "0.0.0"
#endif

/* kubectl's clientVersion: major, minor, gitVersion ("v0.1.0"), platform. */
static json_t *client_version(void)
{
	char major[16] = "0", minor[16] = "0", git[48];
	const char *v = SECRETFS_VERSION, *dot = strchr(v, '.');
	struct utsname u;
	char platform[80];

	snprintf(git, sizeof(git), "v%s", v);
	snprintf(major, sizeof(major), "%.*s", dot ? (int)(dot - v) : (int)strlen(v), v);
	if (dot)
		snprintf(minor, sizeof(minor), "%.*s", (int)strcspn(dot + 1, "."), dot + 1);
	if (uname(&u) == 0)
		snprintf(platform, sizeof(platform), "linux/%s",
			 !strcmp(u.machine, "x86_64") ? "amd64" :
			 !strcmp(u.machine, "aarch64") ? "arm64" : u.machine);
	else
		snprintf(platform, sizeof(platform), "linux");
	return json_pack("{s:s, s:s, s:s, s:s}", "major", major, "minor", minor, "gitVersion", git,
			 "platform", platform);
}

int cmd_version(struct ctx *c)
{
	json_t *out = json_object(), *client = client_version(), *store = NULL;
	int64_t rev = 0;
	int ret = 0;

	if (check_output(c, "json,yaml")) {
		ret = 1;
		goto out;
	}
	if (!out || !client) {
		ret = die_msg("out of memory");
		goto out;
	}
	json_object_set(out, "clientVersion", client);
	if (!c->client_only) {
		/* as kubectl prints its own version before it fails to reach a server */
		if (!c->output)
			printf("Client Version: %s\n", json_string_value(json_object_get(client, "gitVersion")));
		fflush(stdout);
		if (open_store(c)) {
			ret = 1;
			goto out;
		}
		if (store_revision(c->st, &rev)) {
			ret = die_msg("%s", store_errmsg(c->st));
			goto out;
		}
		store = json_pack("{s:i, s:I, s:s}", "schemaVersion", store_schema_version(),
				  "revision", (json_int_t)rev, "path", c->cfg.store_path);
		if (!store) {
			ret = die_msg("out of memory");
			goto out;
		}
		json_object_set(out, "storeVersion", store);
		if (!c->output)
			printf("Store Version: schema %d, revision %lld ('%s')\n", store_schema_version(),
			       (long long)rev, c->cfg.store_path);
	} else if (!c->output) {
		printf("Client Version: %s\n", json_string_value(json_object_get(client, "gitVersion")));
	}
	if (c->output)
		ret = print_object(c, json_incref(out));
out:
	json_decref(store);
	json_decref(client);
	json_decref(out);
	return ret;
}
