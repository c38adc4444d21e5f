/*
 * keys.c - init, rotate-key, get keys, delete key and rekey: the store's
 * birth and its keys (the master key and the ring of data keys).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd.h"
#include "conf/passphrase.h"

/* --- init ------------------------------------------------------------- */

static int init_cluster(struct ctx *c);

int cmd_init(struct ctx *c)
{
	char err[STORE_ERRMSG_MAX];

	if (load_config(c))
		return 1;
	if (c->cfg.cluster.endpoints)
		return init_cluster(c);
	if (store_create(c->cfg.store_path, c->cfg.key_file, err))
		return die_msg("%s", err);
	printf("store '%s' created, master key in '%s' (mode 0400): keep a copy of it somewhere safe\n",
	       c->cfg.store_path, c->cfg.key_file);
	return pki_init_for_store(c);
}

/* Remove a store init just made (and its key, if init made that too). */
static void init_undo(const struct ctx *c, bool made_key)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(suffix) / sizeof(*suffix); i++) {
		snprintf(path, sizeof(path), "%s%s", c->cfg.store_path, suffix[i]);
		unlink(path);
	}
	if (made_key)
		unlink(c->cfg.key_file);
}

/*
 * init with [cluster]: a new store for this node that founds the cluster
 * (etcd holds none under the prefix yet: a new master key) or joins it
 * (with a copy of the cluster's master key already in key_file).
 */
static int init_cluster(struct ctx *c)
{
	char err[STORE_ERRMSG_MAX];
	struct store_unlock u = { .key_file = c->cfg.key_file };
	struct stat sb;
	bool have_key = lstat(c->cfg.key_file, &sb) == 0, founded = false;
	int64_t rev = 0;

	if (store_create_with(c->cfg.store_path, c->cfg.key_file, have_key, err))
		return die_msg("%s", err);
	if (store_open_with(&c->st, c->cfg.store_path, &u, 0, err)) {
		init_undo(c, !have_key);
		return die_msg("%s", err);
	}
	if (store_writer_open(&c->w, c->st, &c->cfg.cluster, err) ||
	    cluster_join(c->cl = store_writer_cluster(c->w), c->st, &founded)) {
		if (c->cl)
			snprintf(err, sizeof(err), "%s", cluster_errmsg(c->cl));
		store_close(c->st);
		c->st = NULL;
		init_undo(c, !have_key);
		return die_msg("%s", err);
	}
	store_etcd_revision(c->st, &rev);
	if (founded)
		printf("store '%s' created; it founded the cluster at %s%s (etcd revision %lld)\n"
		       "master key in '%s' (mode 0400): copy it to every other node before 'secretctl init' there\n",
		       c->cfg.store_path, cluster_endpoint(c->cl),
		       c->cfg.cluster.prefix ? c->cfg.cluster.prefix : CLUSTER_DEFAULT_PREFIX,
		       (long long)rev, c->cfg.key_file);
	else
		printf("store '%s' created and joined the cluster at %s%s (etcd revision %lld)\n",
		       c->cfg.store_path, cluster_endpoint(c->cl),
		       c->cfg.cluster.prefix ? c->cfg.cluster.prefix : CLUSTER_DEFAULT_PREFIX,
		       (long long)rev);
	/* each node its own server certificate; the CA too, unless the
	 * founder's ca.crt and ca.key were copied here first */
	return pki_init_for_store(c);
}
/* --- the key ring ----------------------------------------------------------- */

#define RESEAL_BATCH 500

/*
 * rotate-key: a new data key becomes the active one, then every secret is
 * sealed again under it, RESEAL_BATCH secrets per transaction, so readers
 * (the driver included) keep reading throughout.  A progress line on a
 * terminal, nothing otherwise.
 */
int cmd_rotate_key(struct ctx *c)
{
	uint64_t left = 0, total = 0;
	size_t done = 0, sum = 0;
	struct progress bar;
	uint32_t id;

	if (open_store(c))
		return 1;
	if (store_writer_key_rotate(c->w, &id))
		return die_msg("%s", write_errmsg(c));
	progress_begin(&bar, "re-sealing");
	do {
		/* in cluster mode, CLUSTER_MAX_BATCH to an etcd transaction; one
		 * that met a concurrent write is tried again */
		int err = 0;

		for (int tries = 0; tries < 10; tries++) {
			err = store_writer_reseal(c->w, RESEAL_BATCH, &done, &left);
			if (err != -EAGAIN)
				break;
		}
		if (err) {
			progress_end(&bar);
			return die_msg("%s (data key %u is active; run rotate-key again to finish)",
				       write_errmsg(c), id);
		}
		sum += done;
		if (!total)
			total = sum + left;
		progress_update(&bar, sum, (size_t)total);
	} while (left > 0 && done > 0);
	progress_end(&bar);
	printf("data key %u is active; %zu secrets re-sealed under it\n", id, sum);
	printf("retire the old keys with 'secretctl delete key ID' (see 'secretctl get keys')\n");
	return 0;
}

struct key_rows {
	struct table t;
	int64_t now;
};

static int key_row(void *arg, const struct store_keyinfo *k)
{
	struct key_rows *r = arg;
	char age[32];

	human_age(age, sizeof(age), k->created, r->now);
	table_addf(&r->t, "%u", k->id);
	table_add(&r->t, k->active ? "active" : "retiring");
	table_addf(&r->t, "%llu", (unsigned long long)k->secrets);
	table_add(&r->t, age);
	return 0;
}

int cmd_get_keys(struct ctx *c)
{
	struct key_rows r = { .now = time(NULL) };

	if (open_store(c))
		return 1;
	table_init(&r.t, 4);
	table_add(&r.t, "ID");
	table_add(&r.t, "STATE");
	table_add(&r.t, "SECRETS");
	table_add(&r.t, "AGE");
	if (store_keyring_each(c->st, key_row, &r)) {
		table_release(&r.t);
		return die_msg("%s", store_errmsg(c->st));
	}
	table_print(&r.t);
	table_release(&r.t);
	return 0;
}

int cmd_delete_key(struct ctx *c)
{
	char *end;
	unsigned long id;

	if (c->nargs != 1)
		return die_msg("exactly one key ID is required");
	errno = 0;
	id = strtoul(c->args[0], &end, 10);
	if (!*c->args[0] || *end || errno || id > UINT32_MAX)
		return die_msg("'%s' is not a key ID (see 'secretctl get keys')", c->args[0]);
	if (open_store(c))
		return 1;
	if (store_writer_key_retire(c->w, (uint32_t)id))
		return die_msg("%s", write_errmsg(c));
	printf("data key %lu deleted\n", id);
	return 0;
}

int cmd_rekey(struct ctx *c)
{
	char err[STORE_ERRMSG_MAX], *pass = NULL, *again = NULL;
	size_t len = 0, len2 = 0;
	int ret;

	if (open_store(c) || not_in_cluster(c, "rekey"))
		return 1;
	if (c->to_passphrase) {
		if (passphrase_read(&pass, &len, c->new_passphrase_fd, "New passphrase: ", err,
				    sizeof(err)))
			return die_msg("%s", err);
		if (c->new_passphrase_fd < 0 &&
		    passphrase_read(&again, &len2, -1, "The same again: ", err, sizeof(err))) {
			passphrase_free(pass);
			return die_msg("%s", err);
		}
		if (again && (len != len2 || sodium_memcmp(pass, again, len) != 0)) {
			passphrase_free(pass);
			passphrase_free(again);
			return die_msg("the passphrases differ; nothing was changed");
		}
		ret = store_rekey_passphrase(c->st, pass, len);
		passphrase_free(pass);
		passphrase_free(again);
		if (ret)
			return die_msg("%s", store_errmsg(c->st));
		printf("master key replaced: the store now opens with its passphrase (Argon2id);\n"
		       "the key file '%s' no longer opens it and can be removed\n", c->cfg.key_file);
		return 0;
	}
	if (store_rekey(c->st))
		return die_msg("%s", store_errmsg(c->st));
	printf("master key replaced: '%s' holds the new key (mode 0400); keep a copy of it,\n"
	       "the old key no longer opens the store\n", c->cfg.key_file);
	return 0;
}
