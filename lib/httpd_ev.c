#include "fo/httpd_ev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fo/httpd_guard.h"
#include "fo/log.h"

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

int httpd_ev_accept(struct MHD_Connection *conn, const char *method, size_t *upload_data_size, void **req_cls,
		    enum MHD_Result *result)
{
	static int first_call_marker;

	*result = MHD_YES;
	if (*req_cls == NULL) { /* headers only so far: answer on the next call */
		*req_cls = &first_call_marker;
		httpd_guard_request_ready(conn);
		return 0;
	}
	if (*upload_data_size) { /* a body we do not want: drop it */
		*upload_data_size = 0;
		return 0;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		*result = httpd_ev_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
					 strdup("method not allowed\n"));
		return 0;
	}
	return 1;
}

int httpd_ev_query_flag(struct MHD_Connection *conn, const char *key)
{
	const char *value = NULL;
	size_t len = 0;

	if (MHD_lookup_connection_value_n(conn, MHD_GET_ARGUMENT_KIND, key, strlen(key), &value, &len) != MHD_YES)
		return 0;
	return !value || !len ||
	       (strcmp(value, "0") != 0 && strcasecmp(value, "no") != 0 && strcasecmp(value, "false") != 0);
}

enum MHD_Result httpd_ev_reply(struct MHD_Connection *conn, unsigned status, const char *type, char *body)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	if (!body) {
		static char oom[] = "out of memory\n";

		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		type = "text/plain; charset=utf-8";
		resp = MHD_create_response_from_buffer(sizeof(oom) - 1, oom, MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	}
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

void httpd_ev_log(void *prefix, const char *fmt, va_list ap)
{
	char line[256];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("%s: %s", (const char *)prefix, line);
}
