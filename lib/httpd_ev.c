#include "fo/httpd_ev.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>

struct httpd_ev {
	struct ev_loop *loop;
	struct MHD_Daemon *daemon;
	ev_io epoll_io;
	ev_timer timer;
};

/* MHD may want to run again without any I/O (connection timeouts): ask after every run. */
static void run(struct httpd_ev *he)
{
	MHD_UNSIGNED_LONG_LONG timeout_ms;

	MHD_run(he->daemon);
	ev_timer_stop(he->loop, &he->timer);
	if (MHD_get_timeout(he->daemon, &timeout_ms) == MHD_YES) {
		ev_timer_set(&he->timer, timeout_ms / 1000.0, 0);
		ev_timer_start(he->loop, &he->timer);
	}
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	run(w->data);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	run(w->data);
}

struct httpd_ev *httpd_ev_new(struct ev_loop *loop, struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info;
	struct httpd_ev *he;

	if (!d)
		return NULL;
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	he = info ? calloc(1, sizeof(*he)) : NULL;
	if (!he) {
		int err = info ? ENOMEM : EINVAL;

		MHD_stop_daemon(d);
		errno = err;
		return NULL;
	}
	he->loop = loop;
	he->daemon = d;
	ev_io_init(&he->epoll_io, on_io, info->epoll_fd, EV_READ);
	he->epoll_io.data = he;
	ev_io_start(loop, &he->epoll_io);
	ev_init(&he->timer, on_timer);
	he->timer.data = he;
	return he;
}

void httpd_ev_free(struct httpd_ev *he)
{
	if (!he)
		return;
	ev_io_stop(he->loop, &he->epoll_io);
	ev_timer_stop(he->loop, &he->timer);
	MHD_stop_daemon(he->daemon);
	free(he);
}

uint16_t httpd_ev_port(const struct httpd_ev *he)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(he->daemon, MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : 0;
}
