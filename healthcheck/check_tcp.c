#include "check_tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_READ_MAX 4096

enum tcp_phase { TCP_IDLE, TCP_CONNECTING, TCP_SENDING, TCP_READING };

struct tcp_state {
	struct hc_check *check;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	ev_io io;
	enum tcp_phase phase;
	size_t sent, got;
	char buf[TCP_READ_MAX];
};

static int tcp_init(struct hc_check *c)
{
	const struct hc_check_conf *conf = c->conf;
	struct tcp_state *t = calloc(1, sizeof(*t));
	struct sockaddr_in *v4 = (struct sockaddr_in *)&t->addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&t->addr;

	if (!t)
		return -ENOMEM;
	t->check = c;
	if (inet_pton(AF_INET, conf->address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(conf->port);
		t->addr_len = sizeof(*v4);
	} else {
		inet_pton(AF_INET6, conf->address, &v6->sin6_addr); /* validated by hcconfig */
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(conf->port);
		t->addr_len = sizeof(*v6);
	}
	ev_init(&t->io, NULL);
	t->io.fd = -1;
	t->io.data = t;
	c->kind_state = t;
	return 0;
}

static void tcp_close(struct tcp_state *t)
{
	if (t->io.fd >= 0) {
		ev_io_stop(engine_loop(t->check->engine), &t->io);
		close(t->io.fd);
		t->io.fd = -1;
	}
	t->phase = TCP_IDLE;
}

static void tcp_end(struct tcp_state *t, enum hc_result result, const char *reason)
{
	tcp_close(t);
	engine_check_done(t->check, result, "%s", reason);
}

static void tcp_watch(struct tcp_state *t, int events)
{
	struct ev_loop *loop = engine_loop(t->check->engine);

	ev_io_stop(loop, &t->io);
	ev_io_set(&t->io, t->io.fd, events);
	ev_io_start(loop, &t->io);
}

/* After the connection or the send: what is left to do. */
static void tcp_next(struct tcp_state *t)
{
	const struct hc_check_conf *conf = t->check->conf;

	if (t->phase == TCP_CONNECTING && conf->send.data && conf->send.len) {
		t->phase = TCP_SENDING;
		tcp_watch(t, EV_WRITE);
	} else if (t->phase != TCP_READING && conf->expect.data) {
		t->phase = TCP_READING;
		tcp_watch(t, EV_READ);
	} else if (t->phase != TCP_READING) {
		tcp_end(t, HC_RESULT_PASS, "");
	}
}

static void tcp_send(struct tcp_state *t)
{
	const struct hc_bytes *send_bytes = &t->check->conf->send;
	char reason[128];
	ssize_t n = send(t->io.fd, send_bytes->data + t->sent, send_bytes->len - t->sent, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		snprintf(reason, sizeof(reason), "send: %s", strerror(errno));
		tcp_end(t, HC_RESULT_FAIL, reason);
		return;
	}
	t->sent += (size_t)n;
	if (t->sent == send_bytes->len)
		tcp_next(t);
}

/* A printable preview of what the service answered, for the reason. */
static void preview(const char *buf, size_t len, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 5 < size; i++) {
		unsigned char ch = (unsigned char)buf[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			out[n++] = (char)ch;
		else
			n += (size_t)snprintf(out + n, size - n, "\\x%02x", ch);
	}
	out[n] = '\0';
}

static void tcp_read(struct tcp_state *t)
{
	const struct hc_bytes *expect = &t->check->conf->expect;
	char reason[HC_REASON_MAX], got[96];
	ssize_t n = recv(t->io.fd, t->buf + t->got, sizeof(t->buf) - t->got, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		t->got += (size_t)n;
	if (memmem(t->buf, t->got, expect->data, expect->len)) {
		tcp_end(t, HC_RESULT_PASS, "");
		return;
	}
	if (n > 0 && t->got < sizeof(t->buf))
		return;
	preview(t->buf, t->got < 32 ? t->got : 32, got, sizeof(got));
	if (n < 0)
		snprintf(reason, sizeof(reason), "recv: %s after %zu bytes", strerror(errno), t->got);
	else if (n == 0)
		snprintf(reason, sizeof(reason), "connection closed after %zu bytes without the expected bytes: '%s'",
			 t->got, got);
	else
		snprintf(reason, sizeof(reason), "expected bytes not within the first %d bytes: '%s'", TCP_READ_MAX,
			 got);
	tcp_end(t, HC_RESULT_FAIL, reason);
}

static void tcp_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct tcp_state *t = w->data;
	char reason[128];
	int err = 0;
	socklen_t len = sizeof(err);

	switch (t->phase) {
	case TCP_CONNECTING:
		if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			snprintf(reason, sizeof(reason), "connect: %s", strerror(err));
			tcp_end(t, HC_RESULT_FAIL, reason);
			return;
		}
		tcp_next(t);
		break;
	case TCP_SENDING:
		tcp_send(t);
		break;
	case TCP_READING:
		tcp_read(t);
		break;
	default:
		break;
	}
}

static void tcp_start(struct hc_check *c)
{
	struct tcp_state *t = c->kind_state;
	char reason[128];
	int fd;

	fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		engine_check_done(c, HC_RESULT_FAIL, "socket: %s", strerror(errno));
		return;
	}
	t->sent = t->got = 0;
	t->phase = TCP_CONNECTING;
	ev_io_init(&t->io, tcp_io_cb, fd, EV_WRITE);
	t->io.data = t;
	if (connect(fd, (struct sockaddr *)&t->addr, t->addr_len) < 0 && errno != EINPROGRESS) {
		snprintf(reason, sizeof(reason), "connect: %s", strerror(errno));
		tcp_end(t, HC_RESULT_FAIL, reason);
		return;
	}
	ev_io_start(engine_loop(c->engine), &t->io);
}

static void tcp_progress(struct hc_check *c, char *buf, size_t size)
{
	struct tcp_state *t = c->kind_state;

	switch (t->phase) {
	case TCP_CONNECTING:
		snprintf(buf, size, "connecting");
		break;
	case TCP_SENDING:
		snprintf(buf, size, "connected, %zu of %zu bytes sent", t->sent, c->conf->send.len);
		break;
	case TCP_READING:
		snprintf(buf, size, "connected, %zu bytes received without the expected bytes", t->got);
		break;
	default:
		break;
	}
}

static void tcp_cancel(struct hc_check *c)
{
	tcp_close(c->kind_state);
}

static void tcp_free(struct hc_check *c)
{
	struct tcp_state *t = c->kind_state;

	if (!t)
		return;
	tcp_close(t);
	free(t);
	c->kind_state = NULL;
}

const struct check_kind check_tcp_kind = {
	.name = "tcp",
	.init = tcp_init,
	.start = tcp_start,
	.cancel = tcp_cancel,
	.progress = tcp_progress,
	.free = tcp_free,
};
