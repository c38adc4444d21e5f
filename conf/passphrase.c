/*
 * passphrase.c - reading a passphrase from a file descriptor or, failing
 * that, from the terminal with echo off.  Never from argv: a command line
 * is visible to every user in the process list.  The passphrase is kept in
 * sodium_malloc memory; free it with passphrase_free().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "conf/passphrase.h"

#define PASS_MAX 1024

static int read_line(int fd, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;

	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0 || ch == '\n')
			break;
		if (n + 1 >= cap)
			return -E2BIG;
		buf[n++] = ch;
	}
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return 0;
}

int passphrase_read(char **out, size_t *len, int fd, const char *prompt, char *err, size_t errlen)
{
	char *buf = sodium_malloc(PASS_MAX);
	struct termios old, quiet;
	int tty = -1, ret;

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (fd < 0) {
		tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (tty < 0) {
			sodium_free(buf);
			snprintf(err, errlen, "no terminal to ask for the passphrase: give it with --passphrase-fd N");
			return -ENOTTY;
		}
		if (write(tty, prompt, strlen(prompt)) < 0)
			(void)0;
		tcgetattr(tty, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(tty, TCSAFLUSH, &quiet);
		fd = tty;
	}
	ret = read_line(fd, buf, PASS_MAX, len);
	if (tty >= 0) {
		tcsetattr(tty, TCSAFLUSH, &old);
		if (write(tty, "\n", 1) < 0)
			(void)0;
		close(tty);
	}
	if (ret) {
		sodium_free(buf);
		snprintf(err, errlen, "cannot read the passphrase: %s",
			 ret == -E2BIG ? "longer than 1023 characters" : strerror(-ret));
		return ret;
	}
	*out = buf;
	return 0;
}

void passphrase_free(char *p)
{
	if (p)
		sodium_free(p);
}
