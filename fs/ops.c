/*
 * ops.c - the FUSE low-level operations: one small handler per operation,
 * each replying exactly once.
 *
 * The mount is read-only: anything that would change it gets EROFS.  Names
 * that break the Kubernetes rules cannot exist, so they get ENOENT without a
 * trip to the database.  An open reads and authenticates the whole value
 * once and keeps it in the handle (fi->fh), so a reader sees one generation
 * for as long as it holds the file open, whatever changes meanwhile; the
 * handle is wiped and freed by release alone.  A value that fails
 * authentication gives EIO and a log line naming the secret, never a byte.
 *
 * Locking: fs->lock guards the store handle and the node table; it is held
 * across each handler's store calls and never across a reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fs.h"

/* An open file: one generation of one value. */
struct open_file {
	uint8_t *data; /* sodium_malloc'd plaintext */
	size_t len;
	int64_t generation;
};

/* An open folder: its entries, rendered once at opendir. */
struct dir_buf {
	char *buf;
	size_t size;
};

static struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* Folders are listable where files are readable: r implies x. */
static mode_t dir_mode(mode_t file_mode)
{
	return file_mode | ((file_mode & 0444) >> 2);
}

static void fill_attr(const struct fs *fs, const struct node *n,
		      const struct store_stat *s, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_uid = fs->cfg->uid;
	st->st_gid = fs->cfg->gid;
	if (n->kind == NODE_KEY) {
		st->st_mode = S_IFREG | fs->cfg->mode;
		st->st_nlink = 1;
		st->st_size = (off_t)s->size;
		st->st_blocks = (blkcnt_t)((s->size + 511) / 512);
	} else {
		st->st_mode = S_IFDIR | dir_mode(fs->cfg->mode);
		st->st_nlink = 2;
	}
	st->st_blksize = 4096;
	st->st_mtime = st->st_ctime = s ? s->updated : fs->mounted;
	st->st_atime = st->st_mtime;
}

/* Does the store hold what node n (or parent + name) names?  Fills *s. */
static int stat_path(struct fs *fs, enum node_kind kind, const char *ns,
		     const char *secret, const char *key, struct store_stat *s)
{
	switch (kind) {
	case NODE_ROOT:
		memset(s, 0, sizeof(*s));
		s->updated = fs->mounted;
		return 0;
	case NODE_NS:
		return store_ns_stat(fs->st, ns, s);
	case NODE_SECRET:
		return store_secret_stat(fs->st, ns, secret, s);
	case NODE_KEY:
		return store_key_stat(fs->st, ns, secret, key, s);
	}
	return -ENOENT;
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

static int store_err(struct fs *fs, int err)
{
	if (err == -ENOENT)
		return ENOENT;
	if (err == -EBADMSG)
		log_msg(LOG_LEVEL_ERROR, "%s", store_errmsg(fs->st));
	else
		log_msg(LOG_LEVEL_WARNING, "%s", store_errmsg(fs->st));
	return err == -ENOMEM ? ENOMEM : EIO;
}

static void fs_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	struct fuse_entry_param e = { 0 };
	const char *ns, *secret, *key;
	struct store_stat s;
	struct node *p, *n = NULL;
	enum node_kind kind;
	int err;

	pthread_mutex_lock(&fs->lock);
	p = node_get(&fs->nodes, parent);
	if (!p) {
		err = ENOENT;
		goto out;
	}
	kind = p->kind + 1;
	if ((err = -name_check(kind, name)))
		goto out;
	node_path(p, &ns, &secret, &key);
	switch (kind) {
	case NODE_NS:
		ns = name;
		break;
	case NODE_SECRET:
		secret = name;
		break;
	default:
		key = name;
		break;
	}
	err = stat_path(fs, kind, ns, secret, key, &s);
	if (err) {
		err = store_err(fs, err);
		goto out;
	}
	n = node_lookup(&fs->nodes, p, name, kind);
	if (!n) {
		err = ENOMEM;
		goto out;
	}
	e.ino = n->ino;
	e.attr_timeout = fs->timeout;
	e.entry_timeout = fs->timeout;
	fill_attr(fs, n, &s, &e.attr);
out:
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

static void fs_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct fs *fs = fs_of(req);
	struct node *n;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	if (n)
		node_forget(&fs->nodes, n, nlookup);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_none(req);
}

static void fs_op_forget_multi(fuse_req_t req, size_t count,
			       struct fuse_forget_data *forgets)
{
	struct fs *fs = fs_of(req);

	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; i < count; i++) {
		struct node *n = node_get(&fs->nodes, forgets[i].ino);

		if (n)
			node_forget(&fs->nodes, n, forgets[i].nlookup);
	}
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_none(req);
}

static void fs_op_getattr(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	const char *ns, *secret, *key;
	struct store_stat s;
	struct stat st;
	struct node *n;
	int err;

	(void)fi;
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	if (!n) {
		err = ENOENT;
		goto out;
	}
	node_path(n, &ns, &secret, &key);
	err = stat_path(fs, n->kind, ns, secret, key, &s);
	if (err)
		err = store_err(fs, err);
	else
		fill_attr(fs, n, &s, &st);
out:
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, fs->timeout);
}

/* --- folders ----------------------------------------------------------- */

struct dir_fill {
	fuse_req_t req;
	struct node_table *nodes;
	const struct node *dir;
	struct dir_buf *db;
	bool dirs; /* entries are folders */
	int err;
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

	(void)s;
	return dir_add(f->db, f->req, name, f->dirs ? S_IFDIR : S_IFREG,
		       node_dirent_ino(f->nodes, f->dir, name));
}

static void fs_op_opendir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct dir_fill f = { .req = req };
	const char *ns, *secret, *key;
	struct dir_buf *db;
	struct node *n;
	int err = 0;

	db = calloc(1, sizeof(*db));
	if (!db) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	f.db = db;
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	if (!n) {
		err = ENOENT;
		goto unlock;
	}
	f.nodes = &fs->nodes;
	f.dir = n;
	if (dir_add(db, req, ".", S_IFDIR, n->ino) ||
	    dir_add(db, req, "..", S_IFDIR, n->parent ? n->parent->ino : n->ino)) {
		err = ENOMEM;
		goto unlock;
	}
	node_path(n, &ns, &secret, &key);
	f.dirs = n->kind != NODE_SECRET;
	/* a folder that is gone lists as gone, not as empty */
	err = stat_path(fs, n->kind, ns, secret, key, &(struct store_stat){ 0 });
	if (err)
		goto unlock_err;
	/* each listing is one statement, so one snapshot of the store */
	switch (n->kind) {
	case NODE_ROOT:
		err = store_ns_each(fs->st, dir_each, &f);
		break;
	case NODE_NS:
		err = store_secret_each(fs->st, ns, dir_each, &f);
		break;
	case NODE_SECRET:
		err = store_key_each(fs->st, ns, secret, dir_each, &f);
		break;
	case NODE_KEY:
		err = -ENOTDIR;
		break;
	}
unlock_err:
	if (err == -ENOTDIR)
		err = ENOTDIR;
	else if (err == -ENOMEM)
		err = ENOMEM;
	else if (err)
		err = store_err(fs, err);
unlock:
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
	if (off < 0 || (size_t)off >= db->size)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, db->buf + off,
			       db->size - (size_t)off < size ? db->size - (size_t)off : size);
}

static void fs_op_releasedir(fuse_req_t req, fuse_ino_t ino,
			     struct fuse_file_info *fi)
{
	struct dir_buf *db = (struct dir_buf *)(uintptr_t)fi->fh;

	(void)ino;
	free(db->buf);
	free(db);
	fuse_reply_err(req, 0);
}

/* --- files ------------------------------------------------------------- */

static void fs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	const char *ns, *secret, *key;
	struct open_file *of = NULL;
	struct store_stat s;
	struct node *n;
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
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	if (!n)
		err = ENOENT;
	else if (n->kind != NODE_KEY)
		err = EISDIR;
	if (!err) {
		node_path(n, &ns, &secret, &key);
		err = store_value_get(fs->st, ns, secret, key, &of->data,
				      &of->len, &s);
		if (err)
			err = store_err(fs, err);
		else
			of->generation = s.generation;
	}
	pthread_mutex_unlock(&fs->lock);
	if (err) {
		free(of);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)of;
	fi->keep_cache = 0; /* each open re-reads: updates show on the next open */
	fi->noflush = 1;
	if (fuse_reply_open(req, fi) == -ENOENT) { /* interrupted */
		store_value_free(of->data);
		free(of);
	}
}

static void fs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	const struct open_file *of = (const struct open_file *)(uintptr_t)fi->fh;

	(void)ino;
	if (off < 0 || (size_t)off >= of->len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, (const char *)of->data + off,
			       of->len - (size_t)off < size ? of->len - (size_t)off : size);
}

static void fs_op_release(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;

	(void)ino;
	store_value_free(of->data);
	free(of);
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
