/* hc-bench-target: the checked services of the health-check benchmark
 * (tests/bench/hc-bench.sh). One process, one epoll loop, COUNT listening ports
 * (127.0.0.1:BASE .. BASE+COUNT-1), one per check target, and a control port.
 *
 * Every target answers any request with "200 OK" and a 3-byte body, with
 * Content-Length. HTTP/1.1 keeps the connection open unless the request says
 * "Connection: close"; HTTP/1.0 closes unless it says "Connection: keep-alive".
 * Pipelined requests are answered in order. Per target port it counts requests and
 * accepted connections: the benchmark counts checks from these, not from what a
 * checker says it did.
 *
 * The control port answers one request with the counters as JSON and closes:
 *   {"requests":R,"connections":C,"open":O,"cpu_ns":T,"ports":[[req,conn],...]}
 * (cpu_ns: this process's CPU time, CLOCK_PROCESS_CPUTIME_ID). The control port's own
 * requests are not counted.
 *
 *   hc-bench-target BASE COUNT CTL_PORT
 * Prints "ready" on stdout once every port listens. SIGTERM/SIGINT stop it.
 * Build: cc -O2 -o hc-bench-target hc-bench-target.c
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 4096
#define REQ_MAX 4096

enum kind { K_LISTEN, K_CTL_LISTEN, K_CONN, K_CTL_CONN };

struct ep {
	enum kind kind;
	int fd;
	int port;	/* index of the target port; -1 for control */
	size_t len;
	char buf[];	/* K_CONN, K_CTL_CONN: REQ_MAX bytes of request data */
};

struct counter {
	uint64_t requests, connections;
};

static struct counter counters[MAX_PORTS];
static uint64_t total_requests, total_connections, open_connections;
static int nports;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int listen_on(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0) {
		fprintf(stderr, "hc-bench-target: port %d: %s\n", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static struct ep *ep_new(enum kind kind, int fd, int port)
{
	size_t extra = (kind == K_CONN || kind == K_CTL_CONN) ? REQ_MAX : 0;
	struct ep *e = malloc(sizeof(*e) + extra);

	if (!e)
		return NULL;
	e->kind = kind;
	e->fd = fd;
	e->port = port;
	e->len = 0;
	return e;
}

static void conn_close(int epfd, struct ep *e)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, e->fd, NULL);
	close(e->fd);
	if (e->kind == K_CONN)
		open_connections--;
	free(e);
}

/* Case-insensitive search for "Connection: <value>" among the header lines. */
static int header_says(const char *head, size_t n, const char *value)
{
	const char *p = head, *end = head + n;

	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		size_t ll = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (ll > 11 && strncasecmp(p, "connection:", 11) == 0) {
			const char *v = p + 11;
			size_t vl = ll - 11;

			while (vl && (*v == ' ' || *v == '\t'))
				v++, vl--;
			if (vl >= strlen(value) && strncasecmp(v, value, strlen(value)) == 0)
				return 1;
		}
		if (!eol)
			break;
		p = eol + 2;
	}
	return 0;
}

static int send_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1; /* a short loopback answer that does not fit: give up */
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static void ctl_answer(int fd)
{
	size_t cap = 256 + (size_t)nports * 48, n = 0;
	char *body = malloc(cap), head[128];
	struct timespec t;
	int i, hl;

	if (!body)
		return;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	n += (size_t)snprintf(body + n, cap - n,
			      "{\"requests\":%llu,\"connections\":%llu,\"open\":%llu,\"cpu_ns\":%llu,\"ports\":[",
			      (unsigned long long)total_requests, (unsigned long long)total_connections,
			      (unsigned long long)open_connections,
			      (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec);
	for (i = 0; i < nports; i++)
		n += (size_t)snprintf(body + n, cap - n, "%s[%llu,%llu]", i ? "," : "",
				      (unsigned long long)counters[i].requests,
				      (unsigned long long)counters[i].connections);
	n += (size_t)snprintf(body + n, cap - n, "]}\n");
	hl = snprintf(head, sizeof(head),
		      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		      "Connection: close\r\n\r\n", n);
	/* Blocking (bounded by a send timeout) for this one answer: it is larger than a
	 * target's. */
	{
		struct timeval tv = {.tv_sec = 2};

		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	send_all(fd, head, (size_t)hl);
	send_all(fd, body, n);
	free(body);
}

static const char OK_KEEP[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";
static const char OK_CLOSE[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
			       "Connection: close\r\n\r\nok\n";

/* Reads what is there and answers every complete request. Returns 0 to keep the
 * connection, -1 to close it. */
static int conn_read(struct ep *e)
{
	for (;;) {
		ssize_t r = recv(e->fd, e->buf + e->len, REQ_MAX - e->len, 0);

		if (r == 0)
			return -1;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		e->len += (size_t)r;
		for (;;) {
			char *end = memmem(e->buf, e->len, "\r\n\r\n", 4);
			size_t hlen;
			int http10, keep;

			if (!end)
				break;
			hlen = (size_t)(end - e->buf) + 4;
			if (e->kind == K_CTL_CONN) {
				ctl_answer(e->fd);
				return -1;
			}
			{
				char *eol = memmem(e->buf, hlen, "\r\n", 2);
				size_t ll = (size_t)(eol - e->buf);

				http10 = ll >= 8 && memcmp(eol - 8, "HTTP/1.0", 8) == 0;
			}
			keep = http10 ? header_says(e->buf, hlen, "keep-alive")
				      : !header_says(e->buf, hlen, "close");
			counters[e->port].requests++;
			total_requests++;
			if (keep) {
				if (send_all(e->fd, OK_KEEP, sizeof(OK_KEEP) - 1) < 0)
					return -1;
			} else {
				send_all(e->fd, OK_CLOSE, sizeof(OK_CLOSE) - 1);
				return -1;
			}
			memmove(e->buf, e->buf + hlen, e->len - hlen);
			e->len -= hlen;
		}
		if (e->len == REQ_MAX)
			return -1; /* a request head this large is not a health check */
	}
	return 0;
}

static void do_accept(int epfd, struct ep *l)
{
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = {.events = EPOLLIN};
		struct ep *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN, or EMFILE: the next event retries */
		}
		c = ep_new(l->kind == K_LISTEN ? K_CONN : K_CTL_CONN, fd, l->port);
		if (!c) {
			close(fd);
			continue;
		}
		if (l->kind == K_LISTEN) {
			int one = 1;

			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			counters[l->port].connections++;
			total_connections++;
			open_connections++;
		}
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			if (c->kind == K_CONN)
				open_connections--;
			free(c);
		}
	}
}

int main(int argc, char **argv)
{
	struct epoll_event evs[256];
	struct sigaction sa = {.sa_handler = on_signal};
	int base, ctl, epfd, i;

	if (argc != 4) {
		fprintf(stderr, "usage: hc-bench-target BASE_PORT COUNT CTL_PORT\n");
		return 2;
	}
	base = atoi(argv[1]);
	nports = atoi(argv[2]);
	ctl = atoi(argv[3]);
	if (base < 1 || nports < 1 || nports > MAX_PORTS || base + nports > 65536 || ctl < 1 || ctl > 65535 ||
	    (ctl >= base && ctl < base + nports)) {
		fprintf(stderr, "hc-bench-target: bad ports\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return 1;
	for (i = -1; i < nports; i++) {
		int fd = listen_on(i < 0 ? ctl : base + i);
		struct epoll_event ev = {.events = EPOLLIN};
		struct ep *l;

		if (fd < 0)
			return 1;
		l = ep_new(i < 0 ? K_CTL_LISTEN : K_LISTEN, fd, i);
		if (!l)
			return 1;
		ev.data.ptr = l;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		int n = epoll_wait(epfd, evs, 256, 500);

		for (i = 0; i < n; i++) {
			struct ep *e = evs[i].data.ptr;

			if (e->kind == K_LISTEN || e->kind == K_CTL_LISTEN)
				do_accept(epfd, e);
			else if (conn_read(e) < 0)
				conn_close(epfd, e);
		}
	}
	return 0;
}
