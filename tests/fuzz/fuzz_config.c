/* fuzz_config - the .ini reader and its [view NAME] rules on any text. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/config.h" /* the daemon's sections and [view NAME] rules */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	char err[CONF_ERR_MAX];
	struct config c;
	int fd;

	if (!path[0])
		snprintf(path, sizeof(path), "/dev/shm/secretfs-fuzz-%d.ini", (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (config_load(&c, path, err) == 0)
		config_release(&c);
	unlink(path);
	return 0;
}
