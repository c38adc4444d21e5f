/*
 * node.c - the table of nodes the kernel knows: inode number -> node, and
 * (parent, name) -> node, so that the same path keeps the same inode for as
 * long as the kernel remembers it (a bind-mounted key file stays the same
 * file across updates).
 *
 * Invariants (asserted): a node is in both hash tables exactly while
 * nlookup > 0 or refs > 0; each node holds one ref on its parent; the root
 * is never freed.  Every function here but init and release runs under
 * fs->lock (t->lock).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

#define FIRST_BUCKETS 1024

static size_t hash_ino(fuse_ino_t ino, size_t n)
{
	return (size_t)(ino * 0x9e3779b97f4a7c15ULL) & (n - 1);
}

static size_t hash_name(fuse_ino_t parent, const char *name, size_t n)
{
	uint64_t h = 1469598103934665603ULL ^ parent;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)h & (n - 1);
}

int node_table_init(struct node_table *t, pthread_mutex_t *lock)
{
	memset(t, 0, sizeof(*t));
	t->lock = lock;
	t->nbuckets = FIRST_BUCKETS;
	t->by_ino = calloc(t->nbuckets, sizeof(*t->by_ino));
	t->by_name = calloc(t->nbuckets, sizeof(*t->by_name));
	if (!t->by_ino || !t->by_name) {
		free(t->by_ino);
		free(t->by_name);
		return -1;
	}
	t->root.ino = FUSE_ROOT_ID;
	t->root.kind = NODE_ROOT;
	t->root.name = (char *)"";
	t->root.nlookup = 1;
	t->next_ino = FUSE_ROOT_ID + 1;
	return 0;
}

static void node_free_snaps(struct node *n)
{
	store_secret_free(n->snap);
	for (int i = 0; i < DATA_RECENT; i++)
		store_secret_free(n->recent[i]);
}

void node_keep_recent(struct node *data, struct store_secret *snap)
{
	int oldest = 0;

	assert(data->kind == NODE_DATA);
	for (int i = 0; i < DATA_RECENT; i++) {
		if (data->recent[i] && data->recent[i]->revision == snap->revision) {
			store_secret_free(snap); /* that one is kept already */
			return;
		}
		if (!data->recent[i] || (data->recent[oldest] &&
					 data->recent[i]->revision < data->recent[oldest]->revision))
			oldest = i;
	}
	if (data->recent[oldest] && data->recent[oldest]->revision > snap->revision) {
		store_secret_free(snap); /* older than all kept */
		return;
	}
	store_secret_free(data->recent[oldest]);
	data->recent[oldest] = snap;
}

void node_table_release(struct node_table *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct node *n = t->by_ino[i], *next;

		for (; n; n = next) {
			next = n->next_ino;
			node_free_snaps(n);
			free(n->name);
			free(n);
		}
	}
	free(t->by_ino);
	free(t->by_name);
	memset(t, 0, sizeof(*t));
}

struct node *node_get(struct node_table *t, fuse_ino_t ino)
{
	struct node *n;

	assert(fs_lock_held(t->lock));
	if (ino == FUSE_ROOT_ID)
		return &t->root;
	for (n = t->by_ino[hash_ino(ino, t->nbuckets)]; n; n = n->next_ino) {
		if (n->ino == ino) {
			assert(n->nlookup > 0 || n->refs > 0);
			return n;
		}
	}
	return NULL;
}

static void insert(struct node_table *t, struct node *n)
{
	size_t i = hash_ino(n->ino, t->nbuckets);
	size_t j = hash_name(n->parent->ino, n->name, t->nbuckets);

	n->next_ino = t->by_ino[i];
	t->by_ino[i] = n;
	n->next_name = t->by_name[j];
	t->by_name[j] = n;
}

/* Double the buckets when the table grows past one node per bucket. */
static void grow(struct node_table *t)
{
	struct node **old = t->by_ino, **ino, **name;
	size_t oldn = t->nbuckets;

	ino = calloc(oldn * 2, sizeof(*ino));
	name = calloc(oldn * 2, sizeof(*name));
	if (!ino || !name) { /* keep working with longer chains */
		free(ino);
		free(name);
		return;
	}
	free(t->by_name);
	t->by_ino = ino;
	t->by_name = name;
	t->nbuckets = oldn * 2;
	for (size_t i = 0; i < oldn; i++) {
		struct node *n = old[i], *next;

		for (; n; n = next) {
			next = n->next_ino;
			insert(t, n);
		}
	}
	free(old);
}

struct node *node_find(struct node_table *t, const struct node *parent,
		       const char *name, const struct view *view)
{
	struct node *n;

	assert(fs_lock_held(t->lock));
	for (n = t->by_name[hash_name(parent->ino, name, t->nbuckets)]; n;
	     n = n->next_name)
		if (n->parent == parent && n->view == view && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

fuse_ino_t node_dirent_ino(struct node_table *t, const struct node *parent,
			   const char *name, const struct view *view)
{
	const struct node *n = node_find(t, parent, name, view);

	/* a name the kernel has not looked up yet: any stable nonzero number
	 * outside the range of real inode numbers will do */
	return n ? n->ino : (fuse_ino_t)(hash_name(parent->ino, name, 1ULL << 62) |
					  (1ULL << 62));
}

struct node *node_lookup(struct node_table *t, struct node *parent,
			 const char *name, const struct view *view,
			 enum node_kind kind)
{
	struct node *n = node_find(t, parent, name, view);

	/* a parent the kernel holds, or that holds a child */
	assert(parent == &t->root || parent->nlookup > 0 || parent->refs > 0);
	if (n) {
		assert(n->nlookup > 0 || n->refs > 0); /* else it would be gone */
		n->nlookup++;
		return n;
	}
	n = calloc(1, sizeof(*n));
	if (!n || !(n->name = strdup(name))) {
		free(n);
		return NULL;
	}
	n->ino = t->next_ino++;
	n->kind = kind;
	n->view = view;
	n->parent = parent;
	n->nlookup = 1;
	parent->refs++;
	n->next_sibling = parent->children;
	if (parent->children)
		parent->children->prev_sibling = n;
	parent->children = n;
	insert(t, n);
	if (++t->count > t->nbuckets)
		grow(t);
	return n;
}

static void unlink_chain(struct node **head, struct node *n, bool by_ino)
{
	for (; *head; head = by_ino ? &(*head)->next_ino : &(*head)->next_name) {
		if (*head == n) {
			*head = by_ino ? n->next_ino : n->next_name;
			return;
		}
	}
}

void node_forget(struct node_table *t, struct node *n, uint64_t count)
{
	assert(fs_lock_held(t->lock));
	n->nlookup = count > n->nlookup ? 0 : n->nlookup - count;
	while (n && n != &t->root && n->nlookup == 0 && n->refs == 0) {
		struct node *parent = n->parent;

		assert(parent && parent->refs > 0 && t->count > 0);
		assert(!n->children); /* each would hold a ref on n */
		unlink_chain(&t->by_ino[hash_ino(n->ino, t->nbuckets)], n, true);
		unlink_chain(&t->by_name[hash_name(parent->ino, n->name, t->nbuckets)],
			     n, false);
		t->count--;
		if (n->prev_sibling)
			n->prev_sibling->next_sibling = n->next_sibling;
		else
			parent->children = n->next_sibling;
		if (n->next_sibling)
			n->next_sibling->prev_sibling = n->prev_sibling;
		if (n->kind == NODE_GEN && n->snap) {
			/* a reader may have resolved ..data to this folder
			 * just before the kernel let it go: keep its
			 * generation by ..data for a few more lookups */
			struct node *data = node_find(t, parent, DATA_NAME, n->view);

			if (data)
				node_keep_recent(data, n->snap);
			else
				store_secret_free(n->snap);
			n->snap = NULL;
		}
		node_free_snaps(n);
		free(n->name);
		free(n);
		parent->refs--;
		n = parent;
	}
}

void node_table_each(struct node_table *t, void (*fn)(struct node *n, void *ctx),
		     void *ctx)
{
	fn(&t->root, ctx);
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct node *n = t->by_ino[i]; n; n = n->next_ino)
			fn(n, ctx);
}

void node_path(const struct node *n, const char **ns, const char **secret,
	       const char **key)
{
	*ns = *secret = *key = NULL;
	switch (n->kind) {
	case NODE_GEN_KEY:
		*key = n->name;
		*secret = n->parent->parent->name;
		*ns = n->parent->parent->parent->name;
		break;
	case NODE_KEY:
	case NODE_DATA:
	case NODE_GEN:
		*key = n->name;
		*secret = n->parent->name;
		*ns = n->parent->parent->name;
		break;
	case NODE_SECRET:
		*secret = n->name;
		*ns = n->parent->name;
		break;
	case NODE_NS:
		*ns = n->name;
		break;
	case NODE_ROOT:
		break;
	}
}
