/* A libmicrohttpd daemon driven by a libev loop, with no thread of its own
 * (MHD_USE_EPOLL, external polling): MHD's epoll descriptor is one ev_io and
 * MHD_get_timeout() arms one ev_timer, so requests are answered in the loop
 * thread and a slow client costs a connection slot, never the loop. */
#ifndef FO_HTTPD_EV_H
#define FO_HTTPD_EV_H

#include <ev.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdint.h>

struct httpd_ev;

/* Takes d (started with MHD_USE_EPOLL) in all cases and drives it from loop.
 * Returns NULL with errno set when d is NULL (errno left as MHD_start_daemon set
 * it) or has no epoll descriptor (d is stopped). httpd_ev_free() stops d. */
struct httpd_ev *httpd_ev_new(struct ev_loop *loop, struct MHD_Daemon *d);
void httpd_ev_free(struct httpd_ev *he);
/* The port the daemon is bound to, 0 when MHD cannot say. */
uint16_t httpd_ev_port(const struct httpd_ev *he);

/* What both read-only servers do first in their access handler: answer only once
 * the headers are in, drop any body, refuse every method but GET and HEAD.
 * Returns 1 when the request is ready to be routed; 0 with *result set to what
 * the handler must return. */
int httpd_ev_accept(struct MHD_Connection *conn, const char *method, size_t *upload_data_size, void **req_cls,
		    enum MHD_Result *result);
/* A query flag: 1 when key is given without a value (?pretty), or with one
 * other than "0", "no" or "false"; 0 when absent or off. */
int httpd_ev_query_flag(struct MHD_Connection *conn, const char *key);
/* Queues body (taken: freed by MHD; NULL answers 500 "out of memory") with
 * Content-Type type, no-store, nosniff, and Allow on a 405. */
enum MHD_Result httpd_ev_reply(struct MHD_Connection *conn, unsigned status, const char *type, char *body);
/* For MHD_OPTION_EXTERNAL_LOGGER, with the log prefix (a string) as its closure. */
void httpd_ev_log(void *prefix, const char *fmt, va_list ap);

#endif
