/* A libmicrohttpd daemon driven by a libev loop, with no thread of its own
 * (MHD_USE_EPOLL, external polling): MHD's epoll descriptor is one ev_io and
 * MHD_get_timeout() arms one ev_timer, so requests are answered in the loop
 * thread and a slow client costs a connection slot, never the loop. */
#ifndef FO_HTTPD_EV_H
#define FO_HTTPD_EV_H

#include <ev.h>
#include <stdint.h>

struct MHD_Daemon;
struct httpd_ev;

/* Takes d (started with MHD_USE_EPOLL) in all cases and drives it from loop.
 * Returns NULL with errno set when d is NULL (errno left as MHD_start_daemon set
 * it) or has no epoll descriptor (d is stopped). httpd_ev_free() stops d. */
struct httpd_ev *httpd_ev_new(struct ev_loop *loop, struct MHD_Daemon *d);
void httpd_ev_free(struct httpd_ev *he);
/* The port the daemon is bound to, 0 when MHD cannot say. */
uint16_t httpd_ev_port(const struct httpd_ev *he);

#endif
