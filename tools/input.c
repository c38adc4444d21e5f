/*
 * input.c - turning --from-literal, --from-file and --from-env-file into a
 * secret's data, with kubectl's rules and messages.
 *
 * Every byte read here may be secret: files are read into sodium_malloc
 * memory that is wiped when freed, and no message quotes a value.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl.h"

static int add(struct store_secret *s, const char *key, const void *v,
	       size_t len, char *err, size_t errlen)
{
	int ret;

	/* key syntax is checked by the store, which names the secret too;
	 * the number of keys here, before a folder of 100,000 files runs out
	 * of locked memory */
	if (s->nitems >= STORE_MAX_KEYS) {
		snprintf(err, errlen, "data: Too many: more than %d: must have at most %d keys",
			 STORE_MAX_KEYS, STORE_MAX_KEYS);
		return -E2BIG;
	}
	ret = store_secret_add_item(s, key, v, len);
	if (ret == -EEXIST)
		snprintf(err, errlen,
			 "cannot add key \"%s\", another key by that name already exists in Data for Secret \"%s\"",
			 key, s->name);
	else if (ret)
		snprintf(err, errlen, "out of memory");
	return ret;
}

int input_literal(struct store_secret *s, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	char *key;
	int ret;

	if (!eq || eq == arg) {
		/* kubectl's words, naming the argument: without '=' it holds no
		 * value that could be stored, and it is on the command line */
		snprintf(err, errlen, "invalid literal source %s, expected key=value", arg);
		return -EINVAL;
	}
	key = strndup(arg, (size_t)(eq - arg));
	if (!key)
		return -ENOMEM;
	ret = add(s, key, eq + 1, strlen(eq + 1), err, errlen);
	free(key);
	return ret;
}

/*
 * Read a whole file (at most the 1 MiB a secret holds) into secure memory.
 * The buffer is sized from the file's size (grown to the limit only if the
 * file grows while read): locked memory is faulted in whole, and a folder of
 * 4,096 small files must not touch 4 GiB of it.
 */
static int read_file(const char *path, uint8_t **out, size_t *len, char *err,
		     size_t errlen)
{
	size_t cap = STORE_MAX_DATA_BYTES + 1, n = 0;
	uint8_t *buf;
	struct stat sb;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size < STORE_MAX_DATA_BYTES)
		cap = (size_t)sb.st_size + 1;
	buf = sodium_malloc(cap);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r;

		if (n == cap && cap < STORE_MAX_DATA_BYTES + 1) { /* it grew */
			uint8_t *nb = sodium_malloc(STORE_MAX_DATA_BYTES + 1);

			if (!nb) {
				ret = -ENOMEM;
				snprintf(err, errlen, "out of memory");
				break;
			}
			memcpy(nb, buf, n);
			sodium_free(buf);
			buf = nb;
			cap = STORE_MAX_DATA_BYTES + 1;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot read '%s': %s", path,
				 strerror(errno));
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == STORE_MAX_DATA_BYTES + 1) {
			ret = -EFBIG;
			snprintf(err, errlen,
				 "'%s' is larger than %d bytes, the most a secret can hold",
				 path, STORE_MAX_DATA_BYTES);
			break;
		}
	}
	close(fd);
	if (ret) {
		sodium_free(buf);
		return ret;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int add_file(struct store_secret *s, const char *key, const char *path,
		    char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	int ret;

	if ((ret = read_file(path, &buf, &len, err, errlen)))
		return ret;
	ret = add(s, key, buf, len, err, errlen);
	sodium_free(buf);
	return ret;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every regular file of a folder, as kubectl does: other entries are
 * passed over, and a file whose name is not a valid key is an error. */
static int add_dir(struct store_secret *s, const char *dir, char *err,
		   size_t errlen)
{
	struct dirent **list;
	char why[STORE_ERRMSG_MAX];
	size_t count = 0;
	int n, ret = 0;

	n = scandir(dir, &list, NULL, name_cmp);
	if (n < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot list '%s': %s", dir, strerror(errno));
		return ret;
	}
	/* which entries count, first: a folder of 100,000 files is refused
	 * by the key limit before any of them is read */
	for (int i = 0; i < n; i++) {
		struct stat sb;
		char *path = NULL;

		if (!ret && asprintf(&path, "%s/%s", dir, list[i]->d_name) < 0)
			ret = -ENOMEM;
		if (ret || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			list[i]->d_name[0] = '\0'; /* passed over */
		} else if (store_check_key(list[i]->d_name, why) != 0) {
			/* kubectl refuses the lot rather than drop a file unseen */
			snprintf(err, errlen, "\"%s\" is not valid key name for a Secret %s",
				 list[i]->d_name, strncmp(why, "must consist", 12) ? why :
				 "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
				 "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
				 "validation is '[-._a-zA-Z0-9]+')");
			ret = -EINVAL;
		} else {
			count++;
		}
		free(path);
	}
	if (!ret && s->nitems + count > STORE_MAX_KEYS) {
		snprintf(err, errlen, "data: Too many: %zu: must have at most %d keys",
			 s->nitems + count, STORE_MAX_KEYS);
		ret = -E2BIG;
	}
	for (int i = 0; i < n; i++) {
		char *path = NULL;

		if (!ret && list[i]->d_name[0] &&
		    asprintf(&path, "%s/%s", dir, list[i]->d_name) < 0)
			ret = -ENOMEM;
		if (!ret && path)
			ret = add_file(s, list[i]->d_name, path, err, errlen);
		free(path);
		free(list[i]);
	}
	free(list);
	return ret;
}

int input_file(struct store_secret *s, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '='), *path = eq ? eq + 1 : arg;
	struct stat sb;
	char *key = NULL;
	int ret;

	if (eq && eq == arg) {
		snprintf(err, errlen, "key name for file path '%s' missing", path);
		return -EINVAL;
	}
	if (!*path) {
		snprintf(err, errlen, "file path for key name '%.*s' missing",
			 (int)(eq - arg), arg);
		return -EINVAL;
	}
	if (stat(path, &sb) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		return ret;
	}
	if (S_ISDIR(sb.st_mode)) {
		if (eq) {
			snprintf(err, errlen, "cannot give a key name for a directory path ('%s')",
				 path);
			return -EINVAL;
		}
		return add_dir(s, path, err, errlen);
	}
	if (eq) {
		key = strndup(arg, (size_t)(eq - arg));
	} else {
		const char *slash = strrchr(path, '/');

		key = strdup(slash ? slash + 1 : path);
	}
	if (!key)
		return -ENOMEM;
	ret = add_file(s, key, path, err, errlen);
	free(key);
	return ret;
}

/* kubectl's IsEnvVarName: [-._a-zA-Z][-._a-zA-Z0-9]*, not '.', '..', '..*' */
static const char *env_name_problem(const char *k)
{
	if (!*k || (k[0] >= '0' && k[0] <= '9'))
		goto bad;
	for (const char *p = k; *p; p++)
		if (!strchr("-._", *p) && !(*p >= 'a' && *p <= 'z') &&
		    !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9'))
			goto bad;
	if (strcmp(k, ".") == 0)
		return "must not be '.'";
	if (strcmp(k, "..") == 0)
		return "must not be '..'";
	if (strncmp(k, "..", 2) == 0)
		return "must not start with '..'";
	return NULL;
bad:
	return "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', "
	       "and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', "
	       "regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";
}

/*
 * kubectl's env-file rules: a UTF-8 BOM on the first line is dropped,
 * leading white space is trimmed, blank lines and lines starting with '#'
 * are skipped, KEY=VALUE takes VALUE verbatim (trailing spaces included),
 * and a line holding only KEY takes the value of $KEY.
 */
int input_env_file(struct store_secret *s, const char *path, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	int ret;

	if ((ret = read_file(path, &buf, &len, err, errlen)))
		return ret;
	ret = input_env_text(s, path, buf, len, err, errlen);
	sodium_free(buf);
	return ret;
}

/* The lines of an env file already in buf (len bytes plus room for a NUL,
 * which it writes); buf is modified. */
int input_env_text(struct store_secret *s, const char *path, uint8_t *buf, size_t len,
		   char *err, size_t errlen)
{
	char *line, *next;
	int ret = 0, lineno = 0;

	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		snprintf(err, errlen, "env file '%s' contains a NUL byte", path);
		ret = -EINVAL;
		goto out;
	}
	for (line = (char *)buf; line && *line; line = next) {
		char *eq, *end;
		const char *problem, *value;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		end = line + strlen(line);
		if (end > line && end[-1] == '\r')
			*--end = '\0';
		if (lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
			line += 3;
		while (*line == ' ' || *line == '\t' || *line == '\v' || *line == '\f' ||
		       *line == '\r')
			line++;
		if (!*line || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (eq)
			*eq = '\0';
		if ((problem = env_name_problem(line))) {
			snprintf(err, errlen, "env file '%s', line %d: \"%s\" is not a valid key name: %s",
				 path, lineno, line, problem);
			ret = -EINVAL;
			goto out;
		}
		value = eq ? eq + 1 : getenv(line);
		if (!value)
			value = "";
		if ((ret = add(s, line, value, strlen(value), err, errlen)))
			goto out;
	}
out:
	return ret;
}
