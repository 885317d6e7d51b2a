/* The agent's HTTP endpoints, served by libmicrohttpd inside the agent's libev loop
 * (MHD's epoll descriptor watched by an ev_io, its timeout by an ev_timer):
 *   /livez               the loop is alive
 *   /readyz, /readyz/C   200 when every check (or check C) passes, else 503;
 *                        ?verbose lists "[+]name ok" / "[-]name failed: reason",
 *                        ?exclude=C leaves a check out
 *   /metrics             Prometheus text format
 *   /status              JSON, "schema_version": 1
 * Answers come from the engine's cached state only: a request never runs a check. */
#ifndef HC_SERVE_H
#define HC_SERVE_H

#include "engine.h"

#include <ev.h>
#include <stdint.h>

#define SERVE_SCHEMA_VERSION 1
#define SERVE_MAX_CONNECTIONS 32
#define SERVE_PER_ADDRESS_CONNECTIONS 8
/* Per request in all; over a limit the connection that waited longest is closed
 * (fo/httpd_guard.h), so a slow client cannot keep a probe out. */
#define SERVE_DEADLINE_S 5.0

struct serve;
struct feed;
struct sampler;

/* Binds host:port (numeric, loopback by config). Returns NULL and logs on failure. */
struct serve *serve_new(struct ev_loop *loop, const char *host, uint16_t port);
void serve_free(struct serve *serve);

/* What the answers describe; both may change on reload. feed may be NULL. */
void serve_set_engine(struct serve *serve, const struct engine *engine);
void serve_set_feed(struct serve *serve, const struct feed *feed);
/* Node resources for /metrics and /status; NULL: none. */
void serve_set_sampler(struct serve *serve, const struct sampler *sampler);

/* The port bound (useful with port 0). */
uint16_t serve_port(const struct serve *serve);

/* Renderers, also for tests. Return a malloc'd NUL-terminated text (the caller frees
 * it), NULL when out of memory. */
char *serve_render_metrics(const struct engine *engine, const struct feed *feed, uint64_t start_ms);
char *serve_render_status(const struct engine *engine, const struct feed *feed, uint64_t start_ms);
/* /readyz and /readyz/<check>: sets *http_status to 200, 503 or 404. exclude: names
 * to leave out (n_exclude of them). */
char *serve_render_readyz(const struct engine *engine, const char *check, bool verbose,
			  const char *const *exclude, size_t n_exclude, unsigned *http_status);

#endif
