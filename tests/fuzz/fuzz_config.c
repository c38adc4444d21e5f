/* fuzz_config - the .ini reader and its [view NAME] rules on any text, as
 * the daemon reads it (config_load) and as secretctl does (conf_load). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf/conf.h"
#include "fs/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	char err[CONF_ERR_MAX];
	struct config c;
	struct conf shared;
	int fd;

	if (!path[0] && sodium_init() < 0) /* a 'pod = FILE' is read into sodium memory */
		abort();
	if (!path[0])
		snprintf(path, sizeof(path), "/dev/shm/secretfs-fuzz-%d.ini", (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (config_load(&c, path, err) == 0)
		config_release(&c);
	if (conf_load(&shared, path, NULL, err) == 0)
		conf_release(&shared);
	unlink(path);
	return 0;
}
