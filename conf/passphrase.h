/*
 * passphrase.h - a passphrase from a file descriptor, or the terminal.
 */
#ifndef SECRETFS_PASSPHRASE_H
#define SECRETFS_PASSPHRASE_H

#include <stddef.h>

/* Read one line from fd, or (fd < 0) from the terminal after prompt with
 * echo off.  *out is sodium_malloc'd; free with passphrase_free. */
int passphrase_read(char **out, size_t *len, int fd, const char *prompt, char *err,
		    size_t errlen);
void passphrase_free(char *p);

#endif
