#include "health.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "fo/clock.h"
#include "fo/healthwire.h"
#include "fo/log.h"

#define HEALTH_MAX_CLIENTS 4

struct health_client {
	struct health *h;
	ev_io io;
	char *buf;
	size_t len;
	int discarding; /* inside an over-long line: drop until its newline */
};

struct health {
	struct ev_loop *loop;
	char path[108];
	uint32_t ttl_ms;
	health_changed_fn changed;
	void *arg;
	int fd;
	ev_io accept_io;
	ev_timer ttl;
	struct health_client *clients[HEALTH_MAX_CLIENTS];
	struct healthwire_report report;
	int have_report;
	int stale;
};

static void client_close(struct health_client *c)
{
	struct health *h = c->h;

	for (int i = 0; i < HEALTH_MAX_CLIENTS; i++)
		if (h->clients[i] == c)
			h->clients[i] = NULL;
	ev_io_stop(h->loop, &c->io);
	close(c->io.fd);
	free(c->buf);
	free(c);
}

static int same_states(const struct healthwire_report *a, const struct healthwire_report *b)
{
	if (a->n_checks != b->n_checks)
		return 0;
	for (size_t i = 0; i < a->n_checks; i++) {
		const struct healthwire_check *o = healthwire_find(b, a->checks[i].name);
		if (!o || o->state != a->checks[i].state)
			return 0;
	}
	return 1;
}

static void take_line(struct health *h, const char *line, size_t len)
{
	struct healthwire_report r;
	int rc = healthwire_decode(line, len, &r);
	int changed;

	if (rc < 0) {
		log_warn("health: dropped a malformed line from the agent (%s)", strerror(-rc));
		return;
	}
	changed = !h->have_report || h->stale || !same_states(&r, &h->report);
	healthwire_report_clear(&h->report);
	h->report = r;
	h->have_report = 1;
	if (h->stale)
		log_info("health: the agent reports again");
	h->stale = 0;
	ev_timer_stop(h->loop, &h->ttl);
	ev_timer_set(&h->ttl, h->ttl_ms / 1000.0, 0.);
	ev_timer_start(h->loop, &h->ttl);
	if (changed)
		h->changed(h->arg);
}

static void split_lines(struct health_client *c)
{
	char *start = c->buf, *nl;
	size_t left = c->len;

	while ((nl = memchr(start, '\n', left))) {
		size_t n = (size_t)(nl - start) + 1;
		if (!c->discarding)
			take_line(c->h, start, n);
		c->discarding = 0;
		start += n;
		left -= n;
	}
	if (left >= HEALTHWIRE_MAX_LINE) {
		log_warn("health: dropped an over-long line from the agent");
		c->discarding = 1;
		left = 0;
	}
	memmove(c->buf, start, left);
	c->len = left;
}

static void on_client(struct ev_loop *loop, ev_io *w, int revents)
{
	struct health_client *c = w->data;
	ssize_t n = read(w->fd, c->buf + c->len, HEALTHWIRE_MAX_LINE - c->len);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(c);
		return;
	}
	if (n > 0) {
		c->len += (size_t)n;
		split_lines(c);
	}
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct health *h = w->data;
	struct health_client *c;
	int fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), slot = -1;

	if (fd < 0)
		return;
	for (int i = 0; i < HEALTH_MAX_CLIENTS && slot < 0; i++)
		if (!h->clients[i])
			slot = i;
	c = slot >= 0 ? calloc(1, sizeof(*c)) : NULL;
	if (c)
		c->buf = malloc(HEALTHWIRE_MAX_LINE);
	if (!c || !c->buf) {
		log_warn("health: refused an agent connection (%s)", slot < 0 ? "too many" : "no memory");
		free(c);
		close(fd);
		return;
	}
	c->h = h;
	h->clients[slot] = c;
	ev_io_init(&c->io, on_client, fd, EV_READ);
	c->io.data = c;
	ev_io_start(loop, &c->io);
}

static void on_ttl(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct health *h = w->data;

	h->stale = 1;
	log_warn("health: no report from the agent for %u ms: checks are stale", h->ttl_ms);
	h->changed(h->arg);
}

struct health *health_new(struct ev_loop *loop, const char *path, uint32_t ttl_ms, health_changed_fn changed,
			  void *arg)
{
	struct health *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	if (strlen(path) >= sizeof(h->path)) {
		free(h);
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(h->path, path);
	h->loop = loop;
	h->ttl_ms = ttl_ms;
	h->changed = changed;
	h->arg = arg;
	h->fd = -1;
	ev_timer_init(&h->ttl, on_ttl, 0., 0.);
	h->ttl.data = h;
	return h;
}

void health_free(struct health *h)
{
	if (!h)
		return;
	for (int i = 0; i < HEALTH_MAX_CLIENTS; i++)
		if (h->clients[i])
			client_close(h->clients[i]);
	ev_timer_stop(h->loop, &h->ttl);
	if (h->fd >= 0) {
		ev_io_stop(h->loop, &h->accept_io);
		close(h->fd);
		unlink(h->path);
	}
	healthwire_report_clear(&h->report);
	free(h);
}

/* Only a socket may be replaced: anything else at the path is someone else's. */
static int clear_path(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	return unlink(path) < 0 ? -errno : 0;
}

int health_start(struct health *h)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int rc = clear_path(h->path);

	if (rc < 0)
		return rc;
	strcpy(sa.sun_path, h->path);
	h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		return -errno;
	if (bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(h->path, 0666) < 0 ||
	    listen(h->fd, HEALTH_MAX_CLIENTS) < 0) {
		rc = -errno;
		close(h->fd);
		h->fd = -1;
		return rc;
	}
	ev_io_init(&h->accept_io, on_accept, h->fd, EV_READ);
	h->accept_io.data = h;
	ev_io_start(h->loop, &h->accept_io);
	return 0;
}

enum check_state health_check_state(const struct health *h, const char *check)
{
	const struct healthwire_check *c;

	if (!h || !h->have_report)
		return CHECK_UNKNOWN;
	c = healthwire_find(&h->report, check);
	if (!c)
		return CHECK_UNKNOWN;
	return c->state < CHECK_STATE_MAX ? c->state : CHECK_UNKNOWN;
}

int health_stale(const struct health *h)
{
	return h && h->stale;
}

int health_ever_reported(const struct health *h)
{
	return h && h->have_report;
}

size_t health_group_checks(const struct health *h, const struct config *config, struct wire_check *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; config && i < config->n_groups; i++) {
		const struct config_group *g = &config->groups[i];
		for (size_t c = 0; c < g->n_checks && n < max; c++) {
			snprintf(out[n].name, sizeof(out[0].name), "%s", g->checks[c]);
			out[n++].state = (uint8_t)health_check_state(h, g->checks[c]);
		}
	}
	return n;
}
