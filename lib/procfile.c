#include "fo/procfile.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int procfile_read(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int rc = 0, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (len < size - 1) {
		ssize_t r = read(fd, buf + len, size - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = -errno;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return rc;
}
