/* fo-echo: the service the lab fails over. A UDP server on the wildcard address,
 * IPv4 and IPv6 (one socket each), that answers every datagram with
 * "NAME <payload>", so that a client can tell which node served it.
 *
 * The answer leaves from the address the request was sent to (IP_PKTINFO /
 * IPV6_PKTINFO), as a real service bound to a VIP would: without that the kernel
 * would pick the node's own address and a client expecting the VIP would drop it.
 *
 *   fo-echo --port P [--name NAME]      (NAME defaults to the hostname)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ECHO_NAME_MAX 64
#define ECHO_PAYLOAD_MAX 1400
#define ECHO_CMSG_SPACE 256

static volatile sig_atomic_t echo_stop;

static void echo_on_signal(int sig)
{
	(void)sig;
	echo_stop = 1;
}

static void echo_usage(FILE *out)
{
	fprintf(out, "usage: fo-echo --port P [--name NAME]\n"
		     "Answers each UDP datagram on port P (IPv4 and IPv6) with \"NAME <payload>\".\n");
}

/* Returns a bound socket, or -errno. A host without IPv6 gets -EAFNOSUPPORT, which
 * the caller tolerates. */
static int echo_socket(int family, unsigned port)
{
	int fd, one = 1, err;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (family == AF_INET6) {
		struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(port),
					    .sin6_addr = IN6ADDR_ANY_INIT};

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0)
			goto fail;
	} else {
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
					  .sin_addr.s_addr = htonl(INADDR_ANY)};

		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			goto fail;
	}
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

/* Turns the destination address of a received datagram into the source of the
 * answer: a control message for sendmsg() in out, its length returned (0 if the
 * request carried none). */
static size_t echo_reply_source(const struct msghdr *req, char *out, size_t size)
{
	struct msghdr reply = {.msg_control = out, .msg_controllen = size};
	struct cmsghdr *c, *r;

	memset(out, 0, size);
	for (c = CMSG_FIRSTHDR((struct msghdr *)req); c; c = CMSG_NXTHDR((struct msghdr *)req, c)) {
		r = CMSG_FIRSTHDR(&reply);
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo in, src = {0};

			memcpy(&in, CMSG_DATA(c), sizeof(in));
			src.ipi_spec_dst = in.ipi_addr;
			r->cmsg_level = IPPROTO_IP;
			r->cmsg_type = IP_PKTINFO;
			r->cmsg_len = CMSG_LEN(sizeof(src));
			memcpy(CMSG_DATA(r), &src, sizeof(src));
			return CMSG_SPACE(sizeof(src));
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo in6, src6 = {0};

			memcpy(&in6, CMSG_DATA(c), sizeof(in6));
			src6.ipi6_addr = in6.ipi6_addr;
			src6.ipi6_ifindex = in6.ipi6_ifindex; /* needed for link-local senders */
			r->cmsg_level = IPPROTO_IPV6;
			r->cmsg_type = IPV6_PKTINFO;
			r->cmsg_len = CMSG_LEN(sizeof(src6));
			memcpy(CMSG_DATA(r), &src6, sizeof(src6));
			return CMSG_SPACE(sizeof(src6));
		}
	}
	return 0;
}

/* Answers every datagram waiting on fd. A failed send (the VIP was just removed,
 * say) loses that answer only: the client counts it as lost, as it should. */
static void echo_serve(int fd, const char *name, unsigned long *answered, unsigned long *send_errors)
{
	char payload[ECHO_PAYLOAD_MAX + 1];
	char reply[ECHO_NAME_MAX + 1 + ECHO_PAYLOAD_MAX];
	char cmsg_in[ECHO_CMSG_SPACE], cmsg_out[ECHO_CMSG_SPACE];
	struct sockaddr_storage peer;
	struct iovec iov;
	struct msghdr msg;
	size_t control_len;
	ssize_t n;
	int len;

	for (;;) {
		iov = (struct iovec){.iov_base = payload, .iov_len = ECHO_PAYLOAD_MAX};
		msg = (struct msghdr){.msg_name = &peer, .msg_namelen = sizeof(peer), .msg_iov = &iov,
				      .msg_iovlen = 1, .msg_control = cmsg_in,
				      .msg_controllen = sizeof(cmsg_in)};
		n = recvmsg(fd, &msg, 0);
		if (n < 0)
			return; /* EAGAIN: drained; anything else: try again at next poll */
		len = snprintf(reply, sizeof(reply), "%s %.*s", name, (int)n, payload);
		if (len < 0)
			continue;
		if ((size_t)len >= sizeof(reply))
			len = sizeof(reply) - 1;
		iov = (struct iovec){.iov_base = reply, .iov_len = (size_t)len};
		control_len = echo_reply_source(&msg, cmsg_out, sizeof(cmsg_out));
		msg.msg_control = control_len ? cmsg_out : NULL;
		msg.msg_controllen = control_len;
		if (sendmsg(fd, &msg, MSG_DONTWAIT) < 0)
			(*send_errors)++;
		else
			(*answered)++;
	}
}

static int echo_parse_port(const char *text, unsigned *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || end == text || v == 0 || v > 65535)
		return -EINVAL;
	*port = (unsigned)v;
	return 0;
}

static int echo_check_name(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len >= ECHO_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~' || name[i] == ',' || name[i] == ':')
			return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"port", required_argument, NULL, 'p'},
		{"name", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char name[ECHO_NAME_MAX] = "";
	unsigned port = 0;
	unsigned long answered = 0, send_errors = 0;
	struct pollfd pfd[2];
	struct sigaction sa = {.sa_handler = echo_on_signal};
	int opt, nfds = 0, fd, i;

	while ((opt = getopt_long(argc, argv, "p:n:h", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (echo_parse_port(optarg, &port) < 0) {
				fprintf(stderr, "fo-echo: bad port '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n':
			snprintf(name, sizeof(name), "%s", optarg);
			break;
		case 'h':
			echo_usage(stdout);
			return 0;
		default:
			echo_usage(stderr);
			return 2;
		}
	}
	if (port == 0 || optind != argc) {
		echo_usage(stderr);
		return 2;
	}
	if (name[0] == '\0' && gethostname(name, sizeof(name)) < 0) {
		perror("fo-echo: gethostname");
		return 1;
	}
	name[sizeof(name) - 1] = '\0';
	if (echo_check_name(name) < 0) {
		fprintf(stderr, "fo-echo: bad name '%s' (printable, no space, ',' or ':')\n", name);
		return 2;
	}

	for (i = 0; i < 2; i++) {
		int family = i == 0 ? AF_INET : AF_INET6;

		fd = echo_socket(family, port);
		if (fd == -EAFNOSUPPORT)
			continue;
		if (fd < 0) {
			fprintf(stderr, "fo-echo: %s port %u: %s\n", family == AF_INET ? "IPv4" : "IPv6",
				port, strerror(-fd));
			return 1;
		}
		pfd[nfds++] = (struct pollfd){.fd = fd, .events = POLLIN};
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fprintf(stderr, "fo-echo: %s answering on udp port %u\n", name, port);

	while (!echo_stop) {
		if (poll(pfd, (nfds_t)nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("fo-echo: poll");
			return 1;
		}
		for (i = 0; i < nfds; i++)
			if (pfd[i].revents & POLLIN)
				echo_serve(pfd[i].fd, name, &answered, &send_errors);
	}
	fprintf(stderr, "fo-echo: %s stopping: answered=%lu send_errors=%lu\n", name, answered,
		send_errors);
	return 0;
}
