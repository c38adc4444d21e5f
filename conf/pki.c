/*
 * pki.c - the pki/ folder's paths and the checks of its private parts (see
 * pki.h).  No OpenSSL here: every program links conf/, and only the ones
 * that make or serve certificates need a TLS library.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/pki.h"

int pki_paths(const struct conf *c, struct pki_paths *out, char *err, size_t errlen)
{
	/* conf_load makes key_file absolute; "/master.key" gives "/pki" */
	const char *slash = strrchr(c->key_file, '/');
	int dirlen = slash ? (int)(slash - c->key_file) : 0;
	struct pki_paths p;

	if (snprintf(p.dir, sizeof(p.dir), "%.*s%s" PKI_DIR_NAME, dirlen, c->key_file,
		     slash ? "/" : "") >= (int)sizeof(p.dir) ||
	    snprintf(p.ca_crt, sizeof(p.ca_crt), "%s/ca.crt", p.dir) >= (int)sizeof(p.ca_crt) ||
	    snprintf(p.ca_key, sizeof(p.ca_key), "%s/ca.key", p.dir) >= (int)sizeof(p.ca_key) ||
	    snprintf(p.server_crt, sizeof(p.server_crt), "%s/server.crt", p.dir) >=
		    (int)sizeof(p.server_crt) ||
	    snprintf(p.server_key, sizeof(p.server_key), "%s/server.key", p.dir) >=
		    (int)sizeof(p.server_key)) {
		snprintf(err, errlen, "key file '%s': its folder's path is too long for pki/",
			 c->key_file);
		return -ENAMETOOLONG;
	}
	*out = p;
	return 0;
}

/* Open path without following a symbolic link or blocking on a FIFO, and
 * stat it: the fd (closed by the caller), or a negative errno with err. */
static int open_stat(const char *path, const char *what, int flags, struct stat *sb,
		     char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | flags), ret;

	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s '%s': %s", what, path,
			 errno == ELOOP ? "is a symbolic link" :
			 errno == ENOTDIR && (flags & O_DIRECTORY) ? "is not a folder" :
			 strerror(errno));
		return ret == -ELOOP ? -EINVAL : ret;
	}
	if (fstat(fd, sb) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot stat %s '%s': %s", what, path, strerror(errno));
		close(fd);
		return ret;
	}
	return fd;
}

static int check_owner(const char *path, const char *what, const struct stat *sb, char *err,
		       size_t errlen)
{
	if (sb->st_uid == 0 || sb->st_uid == geteuid())
		return 0;
	snprintf(err, errlen, "%s '%s' is owned by uid %u, neither root nor the current user (uid %u)",
		 what, path, (unsigned)sb->st_uid, (unsigned)geteuid());
	return -EPERM;
}

int pki_check_key_file(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	int fd, ret;

	fd = open_stat(path, "key file", 0, &sb, err, errlen);
	if (fd < 0)
		return fd;
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "key file '%s' is not a regular file", path);
		ret = -EINVAL;
		goto out;
	}
	if ((ret = check_owner(path, "key file", &sb, err, errlen)))
		goto out;
	/* owner read only: a key that can be written can be swapped, and
	 * group or others must never read it */
	if (sb.st_mode & 07377) {
		snprintf(err, errlen, "key file '%s' is mode %04o, looser than 0400: run 'chmod 0400 %s'",
			 path, (unsigned)(sb.st_mode & 07777), path);
		ret = -EPERM;
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

int pki_check_dir(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	int fd, ret;

	fd = open_stat(path, "folder", O_DIRECTORY, &sb, err, errlen);
	if (fd < 0)
		return fd;
	if ((ret = check_owner(path, "folder", &sb, err, errlen)))
		goto out;
	if (sb.st_mode & 077) {
		snprintf(err, errlen, "folder '%s' is mode %04o, open to group or others: run 'chmod 0700 %s'",
			 path, (unsigned)(sb.st_mode & 07777), path);
		ret = -EPERM;
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}
