/*
 * volume.c - a Pod's secret volumes as one FUSE mount (secretfs --pod, or
 * a view with 'pod = FILE'): MOUNTPOINT/VOLUME/PATH, laid out as the
 * kubelet lays a secret or projected volume out (kube/pod.c reads the
 * manifest and checks its rules).
 *
 * What a volume holds is decided at each request from the store: for each
 * source secret, its listed items (key -> path, mode) or, without items,
 * every key at its own name with the volume's defaultMode; a later source
 * wins a path it shares with an earlier one (the kubelet's projected
 * volumes do the same).  A missing secret or key is simply absent (that a
 * required one exists was checked before the mount came up: a pod view
 * waits until then, see struct pending_view).  Paths may hold folders
 * ("my-group/my-username").
 *
 * Layout kubelet (the view's or [mount]'s layout): each volume's folder
 * holds "..data" -> "..rev-R", where R is the newest revision of its source
 * secrets, the folder "..rev-R" holding the whole volume, and each first
 * path element as a symlink "NAME -> ..data/NAME", as atomic_writer.go
 * leaves it.  Whatever is read through "..rev-R" is of that one state of
 * the volume: once any source changes, "..rev-R" is ENOENT (resolve
 * "..data" again), so a reader never mixes two.
 *
 * This tree is small and read rarely (a pod's few files), so it is served
 * simply: nothing is cached by the kernel (timeouts 0, direct_io: no
 * plaintext in the page cache either), every request asks the store, and
 * an open takes its own copy of the value, wiped at release.  Updates are
 * seen at the next open; nothing needs invalidating.
 *
 * Inodes: one per (volume, revision or 0, path, kind) the kernel looked up,
 * counted and freed by forget, guarded by the tree's own lock.  The store
 * is read through one of the driver's readers (reader.c), as ops.c reads
 * it: fs->lock, which every mount's handlers take, is not held across a
 * store read or a decryption.  The tree's lock is never held across a
 * reply.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "fs.h"
#include "kube/kube.h"

#define VOL_LINK_MAX (16 + 4096)

enum vkind {
	V_ROOT,  /* the mount's root: one folder per volume */
	V_DIR,   /* a volume's folder, or a folder of paths in it */
	V_FILE,
	V_DATA,  /* "..data" (kubelet layout) */
	V_LINK,  /* a first path element, "NAME -> ..data/NAME" */
};

struct vnode {
	enum vkind kind;
	size_t vol;     /* index in pod->volumes (not for V_ROOT) */
	int64_t rev;    /* 0: the live tree; R: under "..rev-R" */
	char *path;     /* in the volume: "" for its folder and "..rev-R" */
	uint64_t nlookup;
	bool used;
};

struct volume_tree {
	pthread_mutex_t lock; /* guards nodes */
	struct vnode *nodes;  /* ino = index + 1; index 0 the root */
	size_t n, cap;
};

/* One file of a volume, as the store holds it now. */
struct vfile {
	char *path;
	const struct kube_source *src;
	const char *key;
	mode_t mode;
};

struct vfiles {
	struct vfile *v;
	size_t n;
	int64_t rev; /* the newest revision of its sources: "..rev-R" */
};

static void vfiles_free(struct vfiles *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].path);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static int vfiles_add(struct vfiles *f, const char *path, const struct kube_source *src,
		      const char *key, mode_t mode)
{
	struct vfile *v;

	for (size_t i = 0; i < f->n; i++) { /* a later source wins */
		if (strcmp(f->v[i].path, path) == 0) {
			f->v[i].src = src;
			f->v[i].key = key;
			f->v[i].mode = mode;
			return 0;
		}
	}
	v = realloc(f->v, (f->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	f->v = v;
	v[f->n] = (struct vfile){ .path = strdup(path), .src = src, .key = key, .mode = mode };
	if (!v[f->n].path)
		return -ENOMEM;
	f->n++;
	return 0;
}

struct key_ctx {
	struct vfiles *f;
	const struct kube_source *src;
	mode_t mode;
	int err;
};

/* A source without items: each key a file at its own name (the file's
 * key is then NULL: its path, which the file owns, names it). */
static int key_each(void *ctx, const char *name, const struct store_stat *s)
{
	struct key_ctx *k = ctx;

	(void)s;
	k->err = vfiles_add(k->f, name, k->src, NULL, k->mode);
	return k->err;
}

/* What volume vol holds now, read through db (a reader's handle). */
static int volume_files(struct store *db, const struct kube_pod *pod, size_t vol, struct vfiles *f)
{
	const struct kube_volume *v = &pod->volumes[vol];

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < v->nsources; i++) {
		const struct kube_source *s = &v->sources[i];
		struct store_stat st;
		int err;

		if (store_secret_stat(db, pod->namespace, s->secret, &st) != 0)
			continue; /* missing: absent (required ones were checked) */
		if (st.revision > f->rev)
			f->rev = st.revision;
		if (!s->nitems) {
			struct key_ctx k = { f, s, (mode_t)v->default_mode, 0 };

			err = store_key_each(db, pod->namespace, s->secret, key_each, &k);
			if (k.err || (err && err != -ENOENT)) {
				vfiles_free(f);
				return k.err ? k.err : err;
			}
			continue;
		}
		for (size_t j = 0; j < s->nitems; j++) {
			const struct kube_item *it = &s->items[j];

			if (store_key_stat(db, pod->namespace, s->secret, it->key, &st) != 0)
				continue;
			if ((err = vfiles_add(f, it->path, s, it->key,
					      (mode_t)(it->mode >= 0 ? it->mode : v->default_mode)))) {
				vfiles_free(f);
				return err;
			}
		}
	}
	return 0;
}

/* The file at path, or NULL; *dir whether path is a folder of files. */
static const struct vfile *vfiles_find(const struct vfiles *f, const char *path, bool *dir)
{
	size_t len = strlen(path);

	*dir = len == 0;
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->v[i].path, path) == 0)
			return &f->v[i];
		if (len && strncmp(f->v[i].path, path, len) == 0 && f->v[i].path[len] == '/')
			*dir = true;
	}
	return NULL;
}

static struct volume_tree *tree_of(const struct mount *m)
{
	return m->vtree;
}

static const struct kube_pod *pod_of(const struct mount *m)
{
	return m->view->pod;
}

/* The node for ino, copied out (its path duplicated); -ENOENT if none. */
static int vtree_copy(struct volume_tree *t, fuse_ino_t ino, struct vnode *out)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&t->lock);
	if (ino >= 1 && ino <= t->n && t->nodes[ino - 1].used) {
		*out = t->nodes[ino - 1];
		out->path = strdup(out->path);
		ret = out->path ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

/* Find or add the node, taking one kernel reference; its ino, or 0. */
static fuse_ino_t vtree_ref(struct volume_tree *t, enum vkind kind, size_t vol, int64_t rev,
			   const char *path)
{
	size_t free_slot = SIZE_MAX;
	fuse_ino_t ino = 0;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 1; i < t->n; i++) {
		struct vnode *n = &t->nodes[i];

		if (!n->used) {
			if (free_slot == SIZE_MAX)
				free_slot = i;
			continue;
		}
		if (n->kind == kind && n->vol == vol && n->rev == rev && strcmp(n->path, path) == 0) {
			n->nlookup++;
			ino = i + 1;
			goto out;
		}
	}
	if (free_slot == SIZE_MAX) {
		if (t->n == t->cap) {
			size_t cap = t->cap * 2;
			struct vnode *v = realloc(t->nodes, cap * sizeof(*v));

			if (!v)
				goto out;
			t->nodes = v;
			t->cap = cap;
		}
		free_slot = t->n++;
	}
	t->nodes[free_slot] = (struct vnode){ kind, vol, rev, strdup(path), 1, true };
	if (!t->nodes[free_slot].path) {
		t->nodes[free_slot].used = false;
		goto out;
	}
	ino = free_slot + 1;
out:
	pthread_mutex_unlock(&t->lock);
	return ino;
}

int volume_tree_init(struct mount *m)
{
	struct volume_tree *t = calloc(1, sizeof(*t));

	if (!t || pthread_mutex_init(&t->lock, NULL)) {
		free(t);
		return -ENOMEM;
	}
	t->cap = 16;
	t->nodes = calloc(t->cap, sizeof(*t->nodes));
	if (!t->nodes) {
		pthread_mutex_destroy(&t->lock);
		free(t);
		return -ENOMEM;
	}
	t->nodes[0] = (struct vnode){ .kind = V_ROOT, .path = strdup(""), .nlookup = 1,
				      .used = true };
	t->n = 1;
	m->vtree = t;
	return t->nodes[0].path ? 0 : -ENOMEM;
}

void volume_tree_free(struct mount *m)
{
	struct volume_tree *t = m->vtree;

	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		if (t->nodes[i].used)
			free(t->nodes[i].path);
	free(t->nodes);
	pthread_mutex_destroy(&t->lock);
	free(t);
	m->vtree = NULL;
}

/* What a node is now, read through db: its attributes, or -ENOENT.  link
 * (VOL_LINK_MAX) gets a symlink's target. */
static int vnode_stat(struct mount *m, struct store *db, const struct vnode *n, struct stat *st,
		      char *link)
{
	const struct kube_pod *pod = pod_of(m);
	struct vfiles f;
	const struct vfile *file;
	bool dir;
	int err;

	memset(st, 0, sizeof(*st));
	st->st_uid = m->view->uid;
	st->st_gid = m->view->gid;
	st->st_mtime = st->st_ctime = st->st_atime = m->fs->started;
	if (n->kind == V_ROOT) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if ((err = volume_files(db, pod, n->vol, &f)))
		return err;
	err = -ENOENT;
	if (n->rev && n->rev != f.rev)
		goto out; /* that state of the volume is gone: resolve ..data again */
	switch (n->kind) {
	case V_DIR:
		vfiles_find(&f, n->path, &dir);
		if (!dir)
			goto out;
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		err = 0;
		break;
	case V_DATA:
		snprintf(link, VOL_LINK_MAX, GEN_PREFIX "%" PRId64, f.rev);
		st->st_mode = S_IFLNK | 0777;
		st->st_size = (off_t)strlen(link);
		st->st_nlink = 1;
		err = 0;
		break;
	case V_LINK:
		if (!vfiles_find(&f, n->path, &dir) && !dir)
			goto out;
		snprintf(link, VOL_LINK_MAX, DATA_NAME "/%s", n->path);
		st->st_mode = S_IFLNK | 0777;
		st->st_size = (off_t)strlen(link);
		st->st_nlink = 1;
		err = 0;
		break;
	case V_FILE: {
		struct store_stat s;

		file = vfiles_find(&f, n->path, &dir);
		if (!file || store_key_stat(db, pod->namespace, file->src->secret,
					    file->key ? file->key : file->path, &s) != 0)
			goto out;
		st->st_mode = S_IFREG | file->mode;
		st->st_size = (off_t)s.size;
		st->st_blocks = (blkcnt_t)((s.size + 511) / 512);
		st->st_nlink = 1;
		st->st_mtime = st->st_ctime = st->st_atime = s.updated;
		err = 0;
		break;
	}
	default:
		break;
	}
out:
	vfiles_free(&f);
	return err;
}

static bool kubelet(const struct mount *m)
{
	return m->layout == LAYOUT_KUBELET;
}

/* The child name of parent: its kind and path, or -ENOENT. */
static int vnode_child(struct mount *m, const struct vnode *parent, const char *name,
		       struct vnode *child)
{
	const struct kube_pod *pod = pod_of(m);
	char *path;

	memset(child, 0, sizeof(*child));
	if (strlen(name) > 255)
		return -ENAMETOOLONG;
	if (parent->kind == V_ROOT) {
		for (size_t i = 0; i < pod->nvolumes; i++) {
			if (strcmp(pod->volumes[i].name, name) == 0) {
				child->kind = V_DIR;
				child->vol = i;
				child->path = strdup("");
				return child->path ? 0 : -ENOMEM;
			}
		}
		return -ENOENT;
	}
	if (parent->kind != V_DIR)
		return -ENOTDIR;
	child->vol = parent->vol;
	child->rev = parent->rev;
	if (kubelet(m) && !parent->rev && !parent->path[0]) {
		/* a volume's folder: ..data, ..rev-R and the links */
		if (strcmp(name, DATA_NAME) == 0) {
			child->kind = V_DATA;
			child->path = strdup("");
			return child->path ? 0 : -ENOMEM;
		}
		if (strncmp(name, GEN_PREFIX, strlen(GEN_PREFIX)) == 0) {
			char *end;
			long long r = strtoll(name + strlen(GEN_PREFIX), &end, 10);

			if (*end || r <= 0)
				return -ENOENT;
			child->kind = V_DIR;
			child->rev = r;
			child->path = strdup("");
			return child->path ? 0 : -ENOMEM;
		}
		child->kind = V_LINK;
		child->path = strdup(name);
		return child->path ? 0 : -ENOMEM;
	}
	if (asprintf(&path, "%s%s%s", parent->path, parent->path[0] ? "/" : "", name) < 0)
		return -ENOMEM;
	child->path = path;
	child->kind = V_FILE; /* or V_DIR: vol_lookup decides */
	return 0;
}

static struct mount *mount_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* A reader for a request's store reads (reader_put it); 0, -ENOMEM or
 * -EIO, said in the log at most once a second. */
static int vol_reader(struct fs *fs, struct fs_reader **r)
{
	static _Atomic time_t said;
	char err[STORE_ERRMSG_MAX];
	time_t now;
	int ret = reader_get(fs, r, err);

	if (!ret)
		return 0;
	now = time(NULL);
	if (atomic_exchange(&said, now) != now)
		log_msg(LOG_LEVEL_ERROR, "pod view: %s", err);
	return ret == -ENOMEM ? ret : -EIO;
}

static void vol_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct mount *m = mount_of(req);
	struct fuse_entry_param e = { 0 };
	struct vnode p = { 0 }, c = { 0 };
	struct fs_reader *r;
	char link[VOL_LINK_MAX];
	int err;

	if ((err = vtree_copy(tree_of(m), parent, &p)) || (err = vnode_child(m, &p, name, &c)))
		goto out;
	if ((err = vol_reader(m->fs, &r)))
		goto out;
	err = vnode_stat(m, r->st, &c, &e.attr, link);
	if (err == -ENOENT && c.kind == V_FILE) {
		c.kind = V_DIR; /* a folder of paths, not a file */
		err = vnode_stat(m, r->st, &c, &e.attr, link);
	}
	reader_put(r);
	if (err)
		goto out;
	e.ino = vtree_ref(tree_of(m), c.kind, c.vol, c.rev, c.path);
	if (!e.ino) {
		err = -ENOMEM;
		goto out;
	}
	e.attr.st_ino = e.ino;
out:
	free(p.path);
	free(c.path);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_entry(req, &e);
}

static void vol_forget_one(struct volume_tree *t, fuse_ino_t ino, uint64_t nlookup)
{
	pthread_mutex_lock(&t->lock);
	if (ino > 1 && ino <= t->n && t->nodes[ino - 1].used) {
		struct vnode *n = &t->nodes[ino - 1];

		assert(n->nlookup >= nlookup);
		n->nlookup -= nlookup;
		if (n->nlookup == 0) {
			free(n->path);
			n->path = NULL;
			n->used = false;
		}
	}
	pthread_mutex_unlock(&t->lock);
}

static void vol_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	vol_forget_one(tree_of(mount_of(req)), ino, nlookup);
	fuse_reply_none(req);
}

static void vol_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		vol_forget_one(tree_of(mount_of(req)), forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void vol_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct fs_reader *r;
	struct vnode n;
	struct stat st;
	char link[VOL_LINK_MAX];
	int err;

	(void)fi;
	if ((err = vtree_copy(tree_of(m), ino, &n))) {
		fuse_reply_err(req, -err);
		return;
	}
	if (!(err = vol_reader(m->fs, &r))) {
		err = vnode_stat(m, r->st, &n, &st, link);
		reader_put(r);
	}
	free(n.path);
	st.st_ino = ino;
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_attr(req, &st, 0.0);
}

static void vol_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct mount *m = mount_of(req);
	struct fs_reader *r;
	struct vnode n;
	struct stat st;
	char link[VOL_LINK_MAX];
	int err;

	if ((err = vtree_copy(tree_of(m), ino, &n))) {
		fuse_reply_err(req, -err);
		return;
	}
	if (n.kind != V_DATA && n.kind != V_LINK)
		err = -EINVAL;
	else if (!(err = vol_reader(m->fs, &r))) {
		err = vnode_stat(m, r->st, &n, &st, link);
		reader_put(r);
	}
	free(n.path);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_readlink(req, link);
}

/* An open folder's entries, rendered at opendir (fi->fh). */
struct vdir {
	char *buf;
	size_t size;
};

static int vdir_add(struct vdir *d, fuse_req_t req, const char *name, mode_t type)
{
	struct stat st = { .st_mode = type, .st_ino = 0xffffffff };
	size_t need = fuse_add_direntry(req, NULL, 0, name, NULL, 0);
	char *nb = realloc(d->buf, d->size + need);

	if (!nb)
		return -ENOMEM;
	d->buf = nb;
	fuse_add_direntry(req, d->buf + d->size, need, name, &st, (off_t)(d->size + need));
	d->size += need;
	return 0;
}

/* The entries of folder n, the children of its path. */
static int vdir_fill(struct mount *m, fuse_req_t req, const struct vnode *n, struct vdir *d)
{
	const struct kube_pod *pod = pod_of(m);
	struct fs_reader *r;
	struct vfiles f;
	size_t len = strlen(n->path);
	bool dir, top = kubelet(m) && !n->rev && !n->path[0];
	char gen[40];
	int err;

	if (vdir_add(d, req, ".", S_IFDIR) || vdir_add(d, req, "..", S_IFDIR))
		return -ENOMEM;
	if (n->kind == V_ROOT) {
		for (size_t i = 0; i < pod->nvolumes; i++)
			if (vdir_add(d, req, pod->volumes[i].name, S_IFDIR))
				return -ENOMEM;
		return 0;
	}
	if ((err = vol_reader(m->fs, &r)))
		return err;
	err = volume_files(r->st, pod, n->vol, &f);
	reader_put(r);
	if (err)
		return err;
	vfiles_find(&f, n->path, &dir);
	if ((n->rev && n->rev != f.rev) || !dir) {
		vfiles_free(&f);
		return -ENOENT;
	}
	if (top) {
		snprintf(gen, sizeof(gen), GEN_PREFIX "%" PRId64, f.rev);
		if (vdir_add(d, req, DATA_NAME, S_IFLNK) || vdir_add(d, req, gen, S_IFDIR))
			err = -ENOMEM;
	}
	for (size_t i = 0; !err && i < f.n; i++) {
		const char *rest = f.v[i].path + len + (len ? 1 : 0), *slash;
		char name[256];
		bool seen = false;

		if (len && (strncmp(f.v[i].path, n->path, len) != 0 || f.v[i].path[len] != '/'))
			continue;
		slash = strchr(rest, '/');
		snprintf(name, sizeof(name), "%.*s", slash ? (int)(slash - rest) : (int)strlen(rest), rest);
		/* one entry per folder, however many files below it */
		for (size_t j = 0; j < i && !seen; j++) {
			const char *r2 = f.v[j].path + len + (len ? 1 : 0);

			seen = (!len || (strncmp(f.v[j].path, n->path, len) == 0 && f.v[j].path[len] == '/')) &&
			       strncmp(r2, name, strlen(name)) == 0 &&
			       (r2[strlen(name)] == '/' || !r2[strlen(name)]);
		}
		if (!seen)
			err = vdir_add(d, req, name, top ? S_IFLNK : slash ? S_IFDIR : S_IFREG);
	}
	vfiles_free(&f);
	return err;
}

static void vol_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct vdir *d = calloc(1, sizeof(*d));
	struct vnode n = { 0 };
	int err;

	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	err = vtree_copy(tree_of(m), ino, &n);
	if (!err && n.kind != V_ROOT && n.kind != V_DIR)
		err = -ENOTDIR;
	if (!err)
		err = vdir_fill(m, req, &n, d);
	free(n.path);
	if (err) {
		free(d->buf);
		free(d);
		fuse_reply_err(req, -err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	if (fuse_reply_open(req, fi) != 0) {
		free(d->buf);
		free(d);
	}
}

static void vol_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct vdir *d = (struct vdir *)(uintptr_t)fi->fh;

	size_t n;
	char *copy;

	(void)ino;
	if ((size_t)off >= d->size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	/* replied from a copy: the RELEASEDIR may come (and free d) as soon
	 * as the kernel has the reply, before writev() returns here (ASan's
	 * writev check read the freed buffer after the call) */
	n = d->size - (size_t)off < size ? d->size - (size_t)off : size;
	if (!(copy = malloc(n))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memcpy(copy, d->buf + off, n);
	fuse_reply_buf(req, copy, n);
	free(copy);
}

static void vol_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vdir *d = (struct vdir *)(uintptr_t)fi->fh;

	(void)ino;
	free(d->buf);
	free(d);
	fuse_reply_err(req, 0);
}

/* An open file: its own copy of the value (store_value_alloc'd). */
struct vopen {
	uint8_t *data;
	size_t len;
};

static void vol_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	const struct kube_pod *pod = pod_of(m);
	struct vopen *o = NULL;
	struct fs_reader *r;
	struct vnode n = { 0 };
	struct vfiles f = { 0 };
	struct store_stat s;
	const struct vfile *file;
	bool dir;
	int err;

	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if ((err = vtree_copy(tree_of(m), ino, &n)))
		goto out;
	if (n.kind != V_FILE) {
		err = -EISDIR;
		goto out;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		err = -ENOMEM;
		goto out;
	}
	if ((err = vol_reader(m->fs, &r)))
		goto out;
	err = volume_files(r->st, pod, n.vol, &f);
	file = err ? NULL : vfiles_find(&f, n.path, &dir);
	if (!err && (!file || (n.rev && n.rev != f.rev)))
		err = -ENOENT;
	if (!err)
		err = store_value_get(r->st, pod->namespace, file->src->secret,
				      file->key ? file->key : file->path, &o->data, &o->len, &s);
	/* through ..rev-R: that state only, never a newer value */
	if (!err && n.rev && s.revision > n.rev) {
		store_value_free(o->data);
		err = -ENOENT;
	}
	if (err == -EBADMSG)
		fs_tamper_event(m->fs, pod->namespace, file->src->secret);
	reader_put(r);
	if (err == -EBADMSG) {
		log_msg(LOG_LEVEL_ERROR, "pod \"%s\": secret \"%s\" in namespace \"%s\" failed authentication: not served",
			pod->name, file->src->secret, pod->namespace);
		err = -EIO;
	} else if (err && err != -ENOENT && err != -ENOMEM) {
		err = -EIO;
	}
out:
	vfiles_free(&f);
	free(n.path);
	if (err) {
		free(o);
		fuse_reply_err(req, -err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)o;
	fi->direct_io = 1; /* no plaintext in the page cache; sizes never stale */
	if (fuse_reply_open(req, fi) != 0) {
		store_value_free(o->data);
		free(o);
	}
}

static void vol_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct vopen *o = (struct vopen *)(uintptr_t)fi->fh;

	(void)ino;
	if (off < 0 || (size_t)off >= o->len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, (const char *)o->data + off,
			       o->len - (size_t)off < size ? o->len - (size_t)off : size);
}

static void vol_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vopen *o = (struct vopen *)(uintptr_t)fi->fh;

	(void)ino;
	store_value_free(o->data); /* wipes */
	free(o);
	fuse_reply_err(req, 0);
}

static void vol_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st = { .f_bsize = 4096, .f_namemax = 255 };

	(void)ino;
	fuse_reply_statfs(req, &st);
}

const struct fuse_lowlevel_ops volume_ops = {
	.lookup = vol_lookup,
	.forget = vol_forget,
	.forget_multi = vol_forget_multi,
	.getattr = vol_getattr,
	.readlink = vol_readlink,
	.opendir = vol_opendir,
	.readdir = vol_readdir,
	.releasedir = vol_releasedir,
	.open = vol_open,
	.read = vol_read,
	.release = vol_release,
	.statfs = vol_statfs,
};
