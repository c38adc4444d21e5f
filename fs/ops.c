/*
 * ops.c - the FUSE low-level operations: one small handler per operation,
 * each replying exactly once.
 *
 * Every request is answered for one view: the mount's own, or in the
 * per-caller mount the view the caller's cgroup selects (none: an empty
 * root).  Whatever the view does not grant behaves exactly as a name that
 * does not exist (ENOENT), in lookup, getattr, opendir, open and read alike.
 *
 * The mount is read-only: anything that would change it gets EROFS.  Names
 * that break the Kubernetes rules cannot exist, so they get ENOENT without a
 * trip to the database.  An open reads and authenticates the whole value
 * once and keeps it in the handle (fi->fh), so a reader sees one generation
 * for as long as it holds the file open, whatever changes meanwhile; the
 * handle is wiped and freed by release alone.  A value that fails
 * authentication gives EIO and a log line naming the secret, never a byte.
 *
 * Locking: fs->lock guards the store handle and the node tables; it is held
 * across each handler's store calls and never across a reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fs.h"

#define CGROUP_MAX 4096

/*
 * Handles (fi->fh) are reference-counted: open holds one reference, and
 * read or readdir hold another while they reply.  The kernel sends RELEASE
 * only once the last reply has been taken, but that can be before the
 * replying thread has come back from writev(); whoever drops the last
 * reference frees the handle.
 */

/* An open file: one generation of one value, and who opened it. */
struct open_file {
	atomic_int refs;
	uint8_t *data; /* sodium_malloc'd plaintext */
	size_t len;
	int64_t generation;
	const struct view *view; /* the view it was opened through */
};

/* An open folder: its entries, rendered once at opendir. */
struct dir_buf {
	atomic_int refs;
	char *buf;
	size_t size;
};

/* The view a request is answered for. */
struct req_view {
	const struct view *view; /* NULL and !none: the full tree */
	bool none;               /* per-caller mount, no view matches */
	pid_t pid;
	uid_t uid;
	char cgroup[CGROUP_MAX];
};

static void dir_buf_put(struct dir_buf *db)
{
	if (atomic_fetch_sub(&db->refs, 1) == 1) {
		free(db->buf);
		free(db);
	}
}

static void open_file_put(struct open_file *of)
{
	if (atomic_fetch_sub(&of->refs, 1) == 1) {
		store_value_free(of->data); /* wipes the plaintext */
		free(of);
	}
}

static struct mount *mount_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static bool view_disabled(const struct fs *fs, const struct view *v)
{
	for (size_t i = 0; i < fs->ndisabled; i++)
		if (fs->disabled[i] == v)
			return true;
	return false;
}

static void req_view(fuse_req_t req, const struct mount *m, struct req_view *rv)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	rv->view = m->view;
	rv->none = false;
	rv->pid = ctx->pid;
	rv->uid = ctx->uid;
	rv->cgroup[0] = '\0';
	if (!m->per_caller)
		return;
	if (caller_cgroup(ctx->pid, rv->cgroup, sizeof(rv->cgroup), &rv->pid) != 0) {
		rv->none = true; /* a caller we cannot pin down sees nothing */
		return;
	}
	rv->view = view_for_cgroup(m->fs->cfg, rv->cgroup);
	rv->none = !rv->view || view_disabled(m->fs, rv->view);
}

/* Folders are listable where files are readable: r implies x. */
static mode_t dir_mode(mode_t file_mode)
{
	return file_mode | ((file_mode & 0444) >> 2);
}

static void fill_attr(const struct mount *m, const struct req_view *rv,
		      const struct node *n, mode_t mode,
		      const struct store_stat *s, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_uid = rv->view ? rv->view->uid : m->fs->cfg->uid;
	st->st_gid = rv->view ? rv->view->gid : m->fs->cfg->gid;
	if (n->kind == NODE_KEY) {
		st->st_mode = S_IFREG | mode;
		st->st_nlink = 1;
		st->st_size = (off_t)s->size;
		st->st_blocks = (blkcnt_t)((s->size + 511) / 512);
	} else {
		st->st_mode = S_IFDIR | dir_mode(rv->view ? rv->view->mode :
						 m->fs->cfg->mode);
		st->st_nlink = 2;
	}
	st->st_blksize = 4096;
	st->st_mtime = st->st_ctime = n->kind == NODE_ROOT ? m->fs->started : s->updated;
	st->st_atime = st->st_mtime;
}

/* Could a child of a kind-node named name exist at all? */
static int name_check(enum node_kind child, const char *name)
{
	char why[STORE_ERRMSG_MAX];

	if (strlen(name) > STORE_MAX_NAME)
		return -ENAMETOOLONG;
	switch (child) {
	case NODE_NS:
		return store_check_namespace(name, why) ? -ENOENT : 0;
	case NODE_SECRET:
		return store_check_name(name, why) ? -ENOENT : 0;
	case NODE_KEY:
		return store_check_key(name, why) ? -ENOENT : 0;
	default:
		return -ENOTDIR;
	}
}

/* Turn a store error into the errno to reply, logging what is not ENOENT. */
static int store_err(struct fs *fs, int err)
{
	if (err == -ENOENT || err == -ENOTDIR || err == -ENAMETOOLONG)
		return -err;
	if (err == -EBADMSG)
		log_msg(LOG_LEVEL_ERROR, "%s", store_errmsg(fs->st));
	else
		log_msg(LOG_LEVEL_WARNING, "%s", store_errmsg(fs->st));
	return err == -ENOMEM ? ENOMEM : EIO;
}

/*
 * What the path (ns, secret, file) of a node of this kind is for this
 * request: -ENOENT if the view does not grant it or the store lacks it;
 * else the store key the file stands for, its mode, and the store's stat.
 */
static int resolve(const struct mount *m, const struct req_view *rv,
		   enum node_kind kind, const char *ns, const char *secret,
		   const char *file, const char **key, mode_t *mode,
		   struct store_stat *s)
{
	struct store *st = m->fs->st;
	const struct view_grant *g;

	*key = NULL;
	*mode = 0;
	memset(s, 0, sizeof(*s));
	if (kind == NODE_ROOT)
		return 0;
	if (rv->none || !view_ns_visible(rv->view, ns))
		return -ENOENT;
	if (kind == NODE_NS)
		return store_ns_stat(st, ns, s);
	g = view_grant_for(rv->view, ns, secret);
	if (!g)
		return -ENOENT;
	if (kind == NODE_SECRET)
		return store_secret_stat(st, ns, secret, s);
	*key = view_file_key(rv->view, g, file, m->fs->cfg->mode, mode);
	if (!*key)
		return -ENOENT;
	return store_key_stat(st, ns, secret, *key, s);
}

static void audit(const struct mount *m, const struct req_view *rv,
		  const char *ns, const char *secret, const char *key,
		  int64_t generation, bool allowed)
{
	char cgroup[CGROUP_MAX] = "";
	struct audit_event ev = {
		.view = rv->view ? rv->view->name : NULL,
		.mount = m->mountpoint,
		.pid = rv->pid,
		.uid = rv->uid,
		.cgroup = rv->cgroup[0] ? rv->cgroup : NULL,
		.ns = ns,
		.secret = secret,
		.key = key,
		.generation = generation,
		.allowed = allowed,
	};

	if (!(m->audit || (rv->view && rv->view->audit)))
		return;
	/* per-view mounts resolve no cgroup for access; the record wants one */
	if (!ev.cgroup && caller_cgroup(rv->pid, cgroup, sizeof(cgroup), NULL) == 0)
		ev.cgroup = cgroup;
	audit_record(&ev);
}

/* A lookup the view refused: record it if the secret really exists, so an
 * auditor sees probing for secrets without the log filling with typos. */
static void audit_denied(const struct mount *m, const struct req_view *rv,
			 enum node_kind kind, const char *ns, const char *secret,
			 const char *file)
{
	const struct view_grant *g;
	struct store_stat s;
	mode_t mode;

	if (!(m->audit || (rv->view && rv->view->audit)))
		return;
	if (kind == NODE_NS) {
		if ((!rv->none && view_ns_visible(rv->view, ns)) ||
		    store_ns_stat(m->fs->st, ns, &s) != 0)
			return;
		audit(m, rv, ns, NULL, NULL, 0, false);
		return;
	}
	g = rv->none ? NULL : view_grant_for(rv->view, ns, secret);
	if (g && (kind == NODE_SECRET || view_file_key(rv->view, g, file, 0, &mode)))
		return; /* granted, merely missing: not a denial */
	if (store_secret_stat(m->fs->st, ns, secret, &s) != 0)
		return;
	audit(m, rv, ns, secret, kind == NODE_KEY ? file : NULL, s.generation, false);
}

static void fs_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct mount *m = mount_of(req);
	struct fs *fs = m->fs;
	struct fuse_entry_param e = { 0 };
	const char *ns, *secret, *file, *key;
	struct req_view rv;
	struct store_stat s;
	struct node *p, *n = NULL;
	enum node_kind kind;
	mode_t mode;
	int err;

	req_view(req, m, &rv);
	pthread_mutex_lock(&fs->lock);
	p = node_get(&m->nodes, parent);
	if (!p) {
		err = ENOENT;
		goto out;
	}
	kind = p->kind + 1;
	if ((err = -name_check(kind, name)))
		goto out;
	node_path(p, &ns, &secret, &file);
	if (kind == NODE_NS)
		ns = name;
	else if (kind == NODE_SECRET)
		secret = name;
	else
		file = name;
	err = resolve(m, &rv, kind, ns, secret, file, &key, &mode, &s);
	if (err == -ENOENT)
		audit_denied(m, &rv, kind, ns, secret, file);
	if (err) {
		err = store_err(fs, err);
		goto out;
	}
	n = node_lookup(&m->nodes, p, name, kind);
	if (!n) {
		err = ENOMEM;
		goto out;
	}
	e.ino = n->ino;
	e.attr_timeout = m->timeout;
	e.entry_timeout = m->timeout;
	fill_attr(m, &rv, n, mode, &s, &e.attr);
out:
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

static void fs_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct mount *m = mount_of(req);
	struct node *n;

	pthread_mutex_lock(&m->fs->lock);
	n = node_get(&m->nodes, ino);
	if (n)
		node_forget(&m->nodes, n, nlookup);
	pthread_mutex_unlock(&m->fs->lock);
	fuse_reply_none(req);
}

static void fs_op_forget_multi(fuse_req_t req, size_t count,
			       struct fuse_forget_data *forgets)
{
	struct mount *m = mount_of(req);

	pthread_mutex_lock(&m->fs->lock);
	for (size_t i = 0; i < count; i++) {
		struct node *n = node_get(&m->nodes, forgets[i].ino);

		if (n)
			node_forget(&m->nodes, n, forgets[i].nlookup);
	}
	pthread_mutex_unlock(&m->fs->lock);
	fuse_reply_none(req);
}

static void fs_op_getattr(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	const char *ns, *secret, *file, *key;
	struct req_view rv;
	struct store_stat s;
	struct stat st;
	struct node *n;
	mode_t mode;
	int err;

	(void)fi;
	req_view(req, m, &rv);
	pthread_mutex_lock(&m->fs->lock);
	n = node_get(&m->nodes, ino);
	if (!n) {
		err = ENOENT;
		goto out;
	}
	node_path(n, &ns, &secret, &file);
	err = resolve(m, &rv, n->kind, ns, secret, file, &key, &mode, &s);
	if (err)
		err = store_err(m->fs, err);
	else
		fill_attr(m, &rv, n, mode, &s, &st);
out:
	pthread_mutex_unlock(&m->fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, m->timeout);
}

/* --- folders ----------------------------------------------------------- */

struct dir_fill {
	fuse_req_t req;
	const struct mount *m;
	const struct req_view *rv;
	const struct node *dir;
	const char *ns;          /* of the folder listed, or NULL */
	const char *secret;
	const struct view_grant *grant; /* for a secret's folder */
	struct dir_buf *db;
};

static int dir_add(struct dir_buf *db, fuse_req_t req, const char *name,
		   mode_t type, fuse_ino_t ino)
{
	struct stat st = { .st_mode = type, .st_ino = ino };
	size_t need = fuse_add_direntry(req, NULL, 0, name, NULL, 0);
	char *nb;

	nb = realloc(db->buf, db->size + need);
	if (!nb)
		return -ENOMEM;
	db->buf = nb;
	fuse_add_direntry(req, db->buf + db->size, need, name, &st,
			  (off_t)(db->size + need));
	db->size += need;
	return 0;
}

static int dir_each(void *ctx, const char *name, const struct store_stat *s)
{
	struct dir_fill *f = ctx;
	const struct view *v = f->rv->view;
	struct node_table *nodes = (struct node_table *)&f->m->nodes;

	(void)s;
	switch (f->dir->kind) {
	case NODE_ROOT:
		if (!view_ns_visible(v, name))
			return 0;
		break;
	case NODE_NS:
		if (!view_grant_for(v, f->ns, name))
			return 0;
		break;
	case NODE_SECRET:
		name = view_key_file(v, f->grant, name);
		if (!name)
			return 0;
		return dir_add(f->db, f->req, name, S_IFREG,
			       node_dirent_ino(nodes, f->dir, name));
	case NODE_KEY:
		return -ENOTDIR;
	}
	return dir_add(f->db, f->req, name, S_IFDIR,
		       node_dirent_ino(nodes, f->dir, name));
}

static void fs_op_opendir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct fs *fs = m->fs;
	struct dir_fill f = { .req = req, .m = m };
	const char *file, *key;
	struct req_view rv;
	struct store_stat s;
	struct dir_buf *db;
	struct node *n;
	mode_t mode;
	int err = 0;

	db = calloc(1, sizeof(*db));
	if (!db) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	atomic_init(&db->refs, 1);
	req_view(req, m, &rv);
	f.db = db;
	f.rv = &rv;
	pthread_mutex_lock(&fs->lock);
	n = node_get(&m->nodes, ino);
	if (!n) {
		err = -ENOENT;
		goto unlock;
	}
	f.dir = n;
	node_path(n, &f.ns, &f.secret, &file);
	/* a folder that is gone, or not granted, lists as gone, not as empty */
	if ((err = resolve(m, &rv, n->kind, f.ns, f.secret, file, &key, &mode, &s)))
		goto unlock;
	if (n->kind == NODE_SECRET)
		f.grant = view_grant_for(rv.view, f.ns, f.secret);
	if (dir_add(db, req, ".", S_IFDIR, n->ino) ||
	    dir_add(db, req, "..", S_IFDIR, n->parent ? n->parent->ino : n->ino)) {
		err = -ENOMEM;
		goto unlock;
	}
	if (rv.none)
		goto unlock; /* an empty root */
	/* each listing is one statement, so one snapshot of the store */
	switch (n->kind) {
	case NODE_ROOT:
		err = store_ns_each(fs->st, dir_each, &f);
		break;
	case NODE_NS:
		err = store_secret_each(fs->st, f.ns, dir_each, &f);
		break;
	case NODE_SECRET:
		err = store_key_each(fs->st, f.ns, f.secret, dir_each, &f);
		break;
	case NODE_KEY:
		err = -ENOTDIR;
		break;
	}
unlock:
	if (err)
		err = err == -ENOMEM ? ENOMEM : store_err(fs, err);
	pthread_mutex_unlock(&fs->lock);
	if (err)
		goto fail;
	fi->fh = (uint64_t)(uintptr_t)db;
	fi->cache_readdir = 0;
	if (fuse_reply_open(req, fi) == -ENOENT) { /* interrupted */
		free(db->buf);
		free(db);
	}
	return;
fail:
	free(db->buf);
	free(db);
	fuse_reply_err(req, err);
}

static void fs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			  off_t off, struct fuse_file_info *fi)
{
	struct dir_buf *db = (struct dir_buf *)(uintptr_t)fi->fh;

	(void)ino;
	atomic_fetch_add(&db->refs, 1);
	if (off < 0 || (size_t)off >= db->size)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, db->buf + off,
			       db->size - (size_t)off < size ? db->size - (size_t)off : size);
	dir_buf_put(db);
}

static void fs_op_releasedir(fuse_req_t req, fuse_ino_t ino,
			     struct fuse_file_info *fi)
{
	(void)ino;
	dir_buf_put((struct dir_buf *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* --- files ------------------------------------------------------------- */

static void fs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct fs *fs = m->fs;
	const char *ns = NULL, *secret = NULL, *file, *key;
	struct open_file *of = NULL;
	struct req_view rv;
	struct store_stat s;
	struct node *n;
	mode_t mode;
	int err = 0;

	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	of = calloc(1, sizeof(*of));
	if (!of) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	atomic_init(&of->refs, 1);
	req_view(req, m, &rv);
	pthread_mutex_lock(&fs->lock);
	n = node_get(&m->nodes, ino);
	if (!n)
		err = -ENOENT;
	else if (n->kind != NODE_KEY)
		err = -EISDIR;
	if (!err) {
		node_path(n, &ns, &secret, &file);
		err = resolve(m, &rv, n->kind, ns, secret, file, &key, &mode, &s);
		if (err == -ENOENT)
			audit_denied(m, &rv, NODE_KEY, ns, secret, file);
	}
	if (!err) {
		err = store_value_get(fs->st, ns, secret, key, &of->data, &of->len, &s);
		if (!err) {
			of->generation = s.generation;
			of->view = rv.view;
			audit(m, &rv, ns, secret, key, s.generation, true);
		}
	}
	if (err)
		err = err == -EISDIR ? EISDIR : store_err(fs, err);
	pthread_mutex_unlock(&fs->lock);
	if (err) {
		free(of);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)of;
	fi->keep_cache = 0; /* each open re-reads: updates show on the next open */
	fi->direct_io = m->per_caller; /* no page cache shared between callers */
	fi->noflush = 1;
	if (fuse_reply_open(req, fi) == -ENOENT) { /* interrupted */
		store_value_free(of->data);
		free(of);
	}
}

static void fs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
	struct mount *m = mount_of(req);

	(void)ino;
	if (m->per_caller) {
		/* a handle passed to another process reads only for the view
		 * that opened it */
		struct req_view rv;

		req_view(req, m, &rv);
		if (rv.none || rv.view != of->view) {
			fuse_reply_err(req, EACCES);
			return;
		}
	}
	atomic_fetch_add(&of->refs, 1);
	if (off < 0 || (size_t)off >= of->len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, (const char *)of->data + off,
			       of->len - (size_t)off < size ? of->len - (size_t)off : size);
	open_file_put(of);
}

static void fs_op_release(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	(void)ino;
	open_file_put((struct open_file *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void fs_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv = { .f_bsize = 4096, .f_frsize = 4096,
			      .f_namemax = STORE_MAX_NAME };

	(void)ino;
	fuse_reply_statfs(req, &sv);
}

/* --- everything that would write: EROFS ------------------------------- */

static void fs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			  int to_set, struct fuse_file_info *fi)
{
	(void)ino; (void)attr; (void)to_set; (void)fi;
	fuse_reply_err(req, EROFS);
}

static void fs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode, dev_t rdev)
{
	(void)parent; (void)name; (void)mode; (void)rdev;
	fuse_reply_err(req, EROFS);
}

static void fs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode)
{
	(void)parent; (void)name; (void)mode;
	fuse_reply_err(req, EROFS);
}

static void fs_op_remove(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent; (void)name;
	fuse_reply_err(req, EROFS);
}

static void fs_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
			  const char *name)
{
	(void)link; (void)parent; (void)name;
	fuse_reply_err(req, EROFS);
}

static void fs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			 fuse_ino_t newparent, const char *newname,
			 unsigned int flags)
{
	(void)parent; (void)name; (void)newparent; (void)newname; (void)flags;
	fuse_reply_err(req, EROFS);
}

static void fs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		       const char *newname)
{
	(void)ino; (void)newparent; (void)newname;
	fuse_reply_err(req, EROFS);
}

static void fs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
			size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino; (void)buf; (void)size; (void)off; (void)fi;
	fuse_reply_err(req, EROFS);
}

static void fs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
			 mode_t mode, struct fuse_file_info *fi)
{
	(void)parent; (void)name; (void)mode; (void)fi;
	fuse_reply_err(req, EROFS);
}

static void fs_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			   const char *value, size_t size, int flags)
{
	(void)ino; (void)name; (void)value; (void)size; (void)flags;
	fuse_reply_err(req, EROFS);
}

static void fs_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino; (void)name;
	fuse_reply_err(req, EROFS);
}

static void fs_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			    off_t offset, off_t length, struct fuse_file_info *fi)
{
	(void)ino; (void)mode; (void)offset; (void)length; (void)fi;
	fuse_reply_err(req, EROFS);
}

const struct fuse_lowlevel_ops fs_ops = {
	.lookup = fs_op_lookup,
	.forget = fs_op_forget,
	.forget_multi = fs_op_forget_multi,
	.getattr = fs_op_getattr,
	.opendir = fs_op_opendir,
	.readdir = fs_op_readdir,
	.releasedir = fs_op_releasedir,
	.open = fs_op_open,
	.read = fs_op_read,
	.release = fs_op_release,
	.statfs = fs_op_statfs,
	.setattr = fs_op_setattr,
	.mknod = fs_op_mknod,
	.mkdir = fs_op_mkdir,
	.unlink = fs_op_remove,
	.rmdir = fs_op_remove,
	.symlink = fs_op_symlink,
	.rename = fs_op_rename,
	.link = fs_op_link,
	.write = fs_op_write,
	.create = fs_op_create,
	.setxattr = fs_op_setxattr,
	.removexattr = fs_op_removexattr,
	.fallocate = fs_op_fallocate,
};
