/* Two line buffers: `inflight`, partly written, and `queued`, the newest snapshot
 * waiting behind it. A partly written line is always finished (or the connection
 * dropped), so fomgr never reads half a line followed by another. */
#include "feed.h"

#include "fo/clock.h"
#include "fo/healthwire.h"
#include "fo/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct line {
	char *data; /* HEALTHWIRE_MAX_LINE + 1 bytes */
	size_t len, off;
};

struct feed {
	struct ev_loop *loop;
	const struct engine *engine;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint32_t heartbeat_ms;
	uint32_t stall_ms;
	ev_io io;
	ev_timer heartbeat;
	ev_timer retry;     /* reconnect after backoff */
	ev_timer stall;     /* inflight line not finished in time */
	ev_timer change;    /* 0 s: changes of one loop turn make one report */
	bool connecting, connected;
	uint32_t backoff_ms;
	bool warned;        /* a connection failure was logged; log the recovery */
	uint64_t seq;
	struct line inflight, queued;
	struct feed_stats stats;
};

int feed_encode_snapshot(const struct engine *engine, uint64_t seq, uint32_t interval_ms, char *buf,
			 size_t size)
{
	size_t n = engine ? engine_n_checks(engine) : 0;
	struct healthwire_check *checks = calloc(n ? n : 1, sizeof(*checks));
	struct healthwire_report report = {.seq = seq, .interval_ms = interval_ms, .n_checks = n, .checks = checks};
	int rc;

	if (!checks)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct hc_check *c = engine_check(engine, i);

		snprintf(checks[i].name, sizeof(checks[i].name), "%s", c->conf->name);
		checks[i].state = c->state;
	}
	rc = healthwire_encode(&report, buf, size);
	free(checks);
	return rc;
}

static void feed_watch(struct feed *f)
{
	int events = EV_READ | (f->connecting || f->inflight.len ? EV_WRITE : 0);

	if (f->io.fd < 0 || (ev_is_active(&f->io) && (f->io.events & (EV_READ | EV_WRITE)) == events))
		return;
	ev_io_stop(f->loop, &f->io);
	ev_io_set(&f->io, f->io.fd, events);
	ev_io_start(f->loop, &f->io);
}

static void schedule_retry(struct feed *f)
{
	ev_timer_stop(f->loop, &f->retry);
	ev_timer_set(&f->retry, f->backoff_ms / 1000.0, 0);
	ev_timer_start(f->loop, &f->retry);
	f->backoff_ms = f->backoff_ms * 2 > FEED_BACKOFF_MAX_MS ? FEED_BACKOFF_MAX_MS : f->backoff_ms * 2;
}

static void disconnect(struct feed *f, const char *why)
{
	if (f->connected) {
		f->stats.drops++;
		log_warn("feed: connection to %s dropped: %s", f->path, why);
		f->warned = true;
	} else if (!f->warned) {
		log_warn("feed: cannot connect to %s: %s (retrying with backoff up to %d ms)", f->path, why,
			 FEED_BACKOFF_MAX_MS);
		f->warned = true;
	}
	if (f->io.fd >= 0) {
		ev_io_stop(f->loop, &f->io);
		close(f->io.fd);
		f->io.fd = -1;
	}
	ev_timer_stop(f->loop, &f->stall);
	f->connected = f->connecting = false;
	f->inflight.len = f->inflight.off = 0;
	f->queued.len = 0;
	schedule_retry(f);
}

/* Writes what it can of the inflight line, then promotes the queued one. */
static void flush(struct feed *f)
{
	while (f->connected && f->inflight.len) {
		ssize_t n = send(f->io.fd, f->inflight.data + f->inflight.off, f->inflight.len - f->inflight.off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!ev_is_active(&f->stall)) {
				ev_timer_set(&f->stall, f->stall_ms / 1000.0, 0);
				ev_timer_start(f->loop, &f->stall);
			}
			break;
		}
		if (n < 0) {
			disconnect(f, strerror(errno));
			return;
		}
		f->inflight.off += (size_t)n;
		if (f->inflight.off < f->inflight.len)
			continue;
		f->stats.lines_sent++;
		ev_timer_stop(f->loop, &f->stall);
		f->inflight.len = f->inflight.off = 0;
		if (f->queued.len) { /* swap buffers: the queued line goes next */
			struct line t = f->inflight;

			f->inflight = f->queued;
			f->queued = t;
			f->queued.len = 0;
		}
	}
	feed_watch(f);
}

static void send_snapshot(struct feed *f)
{
	struct line *target;
	int n;

	if (!f->connected || !f->engine)
		return;
	target = f->inflight.len ? &f->queued : &f->inflight;
	if (target == &f->queued && f->queued.len)
		f->stats.lines_replaced++;
	n = feed_encode_snapshot(f->engine, ++f->seq, f->heartbeat_ms, target->data, HEALTHWIRE_MAX_LINE + 1);
	if (n < 0) {
		log_err("feed: cannot encode a health report: %s", strerror(-n));
		return;
	}
	target->len = (size_t)n;
	target->off = 0;
	flush(f);
}

static void on_connected(struct feed *f)
{
	f->connecting = false;
	f->connected = true;
	f->backoff_ms = FEED_BACKOFF_MIN_MS;
	f->stats.connects++;
	if (f->warned)
		log_info("feed: connected to %s", f->path);
	else
		log_debug("feed: connected to %s", f->path);
	f->warned = false;
	send_snapshot(f);
}

static void try_connect(struct feed *f)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		disconnect(f, strerror(errno));
		return;
	}
	memcpy(sa.sun_path, f->path, strlen(f->path));
	f->io.fd = fd;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		on_connected(f);
		return;
	}
	if (errno == EINPROGRESS) { /* unix sockets rarely say so, but may */
		f->connecting = true;
		feed_watch(f);
		return;
	}
	disconnect(f, strerror(errno)); /* ENOENT, ECONNREFUSED, EAGAIN (backlog full) */
}

/* fomgr sends nothing on this stream: reading tells us when it has gone. */
static void read_side(struct feed *f)
{
	char sink[512];

	for (;;) {
		ssize_t n = recv(f->io.fd, sink, sizeof(sink), MSG_DONTWAIT);

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		disconnect(f, n == 0 ? "closed by fomgr" : strerror(errno));
		return;
	}
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct feed *f = w->data;

	if (f->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);

		getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			disconnect(f, strerror(err));
			return;
		}
		on_connected(f);
		return;
	}
	if (revents & EV_READ) {
		read_side(f);
		if (!f->connected)
			return;
	}
	if (revents & EV_WRITE)
		flush(f);
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	try_connect(w->data);
}

static void heartbeat_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	send_snapshot(w->data);
}

static void change_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	send_snapshot(w->data);
}

static void stall_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct feed *f = w->data;
	char why[96];

	snprintf(why, sizeof(why), "fomgr has not read a report for %u ms", f->stall_ms);
	disconnect(f, why);
}

struct feed *feed_new(struct ev_loop *loop, const char *path, uint32_t heartbeat_ms)
{
	struct feed *f = calloc(1, sizeof(*f));

	if (!f || strlen(path) >= sizeof(f->path))
		goto fail;
	f->inflight.data = malloc(HEALTHWIRE_MAX_LINE + 1);
	f->queued.data = malloc(HEALTHWIRE_MAX_LINE + 1);
	if (!f->inflight.data || !f->queued.data)
		goto fail;
	f->loop = loop;
	strcpy(f->path, path);
	f->heartbeat_ms = heartbeat_ms;
	f->stall_ms = 2 * heartbeat_ms > FEED_STALL_MIN_MS ? 2 * heartbeat_ms : FEED_STALL_MIN_MS;
	f->backoff_ms = FEED_BACKOFF_MIN_MS;
	ev_init(&f->io, io_cb);
	f->io.fd = -1;
	ev_init(&f->retry, retry_cb);
	ev_init(&f->stall, stall_cb);
	ev_timer_init(&f->change, change_cb, 0, 0);
	ev_timer_init(&f->heartbeat, heartbeat_cb, heartbeat_ms / 1000.0, heartbeat_ms / 1000.0);
	f->io.data = f->retry.data = f->stall.data = f->heartbeat.data = f->change.data = f;
	ev_timer_start(loop, &f->heartbeat);
	ev_timer_set(&f->retry, 0, 0); /* connect from the loop, once the engine is set */
	ev_timer_start(loop, &f->retry);
	return f;
fail:
	if (f) {
		free(f->inflight.data);
		free(f->queued.data);
	}
	free(f);
	return NULL;
}

void feed_free(struct feed *f)
{
	if (!f)
		return;
	if (f->io.fd >= 0) {
		ev_io_stop(f->loop, &f->io);
		close(f->io.fd);
	}
	ev_timer_stop(f->loop, &f->heartbeat);
	ev_timer_stop(f->loop, &f->retry);
	ev_timer_stop(f->loop, &f->stall);
	ev_timer_stop(f->loop, &f->change);
	free(f->inflight.data);
	free(f->queued.data);
	free(f);
}

void feed_set_engine(struct feed *f, const struct engine *engine)
{
	f->engine = engine;
	send_snapshot(f);
}

void feed_on_change(void *arg, const struct hc_check *check, enum check_state old_state)
{
	struct feed *f = arg;

	/* sent on this loop turn's way out, once for every change made in it */
	if (!ev_is_active(&f->change))
		ev_timer_start(f->loop, &f->change);
}

void feed_get_stats(const struct feed *f, struct feed_stats *out)
{
	*out = f->stats;
	out->connected = f->connected;
}

const char *feed_path(const struct feed *f)
{
	return f->path;
}
