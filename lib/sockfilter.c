#include "fo/sockfilter.h"

#include <errno.h>
#include <sys/socket.h>

int sockfilter_attach(int fd, const struct sock_filter *code, size_t n)
{
	struct sock_fprog prog = {.len = (unsigned short)n, .filter = (struct sock_filter *)code};

	if (n == 0 || n > BPF_MAXINSNS)
		return -EINVAL;
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ? -errno : 0;
}
