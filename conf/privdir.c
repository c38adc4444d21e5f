/*
 * privdir.c - a private folder for view mounts (see privdir.h for why).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/privdir.h"

int privdir_make(const char *path, char *err, size_t len)
{
	char buf[PATH_MAX];
	struct stat sb;
	int fd, ret;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf) || !buf[0]) {
		snprintf(err, len, "'%s': not a usable folder path", path);
		return -ENAMETOOLONG;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
			ret = -errno;
			snprintf(err, len, "cannot create '%s': %s", buf, strerror(errno));
			return ret;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		snprintf(err, len, "cannot create '%s': %s", path, strerror(errno));
		return ret;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, len, "'%s' %s", path, errno == ELOOP || errno == ENOTDIR ?
			 "is not a folder (or is a symbolic link)" : strerror(errno));
		return ret;
	}
	if (fstat(fd, &sb) < 0) {
		ret = -errno;
		snprintf(err, len, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (sb.st_uid != geteuid()) {
		ret = -EPERM;
		snprintf(err, len, "'%s' is owned by uid %u, not by this program's (uid %u): its owner could open it to other accounts",
			 path, (unsigned)sb.st_uid, (unsigned)geteuid());
		goto out;
	}
	ret = 0;
	if (sb.st_mode & 077) {
		if (fchmod(fd, 0700) < 0) {
			ret = -errno;
			snprintf(err, len, "cannot make '%s' private: %s", path, strerror(errno));
			goto out;
		}
		snprintf(err, len, "'%s' was mode %04o; made it 0700, so that no other account reaches the view mounts in it",
			 path, (unsigned)(sb.st_mode & 07777));
		ret = 1;
	}
out:
	close(fd);
	return ret;
}
