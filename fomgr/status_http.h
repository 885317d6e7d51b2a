/* The status endpoint for monitoring: GET /status (the status document as JSON)
 * and GET /metrics (Prometheus text), read-only, served by libmicrohttpd inside
 * fomgr's loop. Loopback by default; beyond loopback only over TLS with a client
 * certificate signed by the operator's CA. No credential is built in. */
#ifndef FOMGR_STATUS_HTTP_H
#define FOMGR_STATUS_HTTP_H

#include <ev.h>
#include <stdint.h>

#include "config.h"

#define STATUS_HTTP_MAX_CONNECTIONS 64
#define STATUS_HTTP_PER_IP_CONNECTIONS 8
/* A request (its first byte, or the previous answer on a kept-alive connection,
 * to its answer) gets this long in all; over a limit, the connection that waited
 * longest is closed, never the newcomer (fo/httpd_guard.h). */
#define STATUS_HTTP_DEADLINE_S 5.0

struct manager;
struct control_socket;
struct hooks;
struct status_http;

struct status_http_options {
	const struct config_listen *listen;
	const char *tls_cert, *tls_key, *tls_client_ca; /* PEM files; "" or NULL: no TLS */
};

/* Starts serving. NULL with errno, after logging why (beyond loopback without TLS
 * is -EPERM; an unreadable certificate, a port in use, ...). */
struct status_http *status_http_new(struct ev_loop *loop, struct manager *m, const struct status_http_options *o);
void status_http_free(struct status_http *h);
/* Where the other counters of /metrics come from; each may be NULL. */
void status_http_set_sources(struct status_http *h, const struct control_socket *control, const struct hooks *hooks);
uint16_t status_http_port(const struct status_http *h);

/* /metrics for the running daemon (also used by tests); the caller frees it. */
char *status_http_render_metrics(const struct status_http *h);

#endif
