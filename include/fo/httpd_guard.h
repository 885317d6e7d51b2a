/* Keeps slow clients from blinding a read-only HTTP server (fomgr's status, the
 * agent's probes): a total deadline per request, counted from the connection's
 * first byte or its previous answer (not reset by each byte, as MHD's idle timeout
 * is), and limits per client address and in all that never refuse a newcomer:
 * over a limit, the connection that has waited longest for its answer is closed
 * instead. A scraper, answered within a millisecond of connecting, is never the
 * one that has waited longest; clients that trickle bytes are. libmicrohttpd has
 * no such policy, so the guard watches its connections (MHD_OPTION_NOTIFY_CONNECTION
 * and _COMPLETED) and closes one by shutting its socket down, which MHD then sees
 * as a hang-up. */
#ifndef FO_HTTPD_GUARD_H
#define FO_HTTPD_GUARD_H

#include <ev.h>
#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HTTPD_GUARD_MAX_SLOTS 256 /* connections tracked at once, at most */
/* A connection younger than this is never closed to make room: a scraper is
 * answered well within it. Over a limit with nobody older, the newcomer is let in
 * (MHD's own limit, twice the guard's, is the hard stop). */
#define HTTPD_GUARD_GRACE_MS 250

struct httpd_guard_limits {
	unsigned max_connections; /* in all (MHD's own limit is set above it) */
	unsigned per_address;     /* from one client address */
	double deadline_s;        /* per request, from its first byte (or the last answer) */
};

/* One tracked connection, as the victim choice sees it. */
struct httpd_guard_conn {
	int used, closing;
	int ready; /* its request is in and being answered */
	struct sockaddr_storage addr;
	uint64_t since_ms; /* opened, or last answered */
};

struct httpd_guard_stats {
	uint64_t evicted;       /* closed to make room for a newer connection */
	uint64_t deadline;      /* closed at their deadline */
	unsigned open;
};

struct httpd_guard;

/* NULL with errno on failure. prefix names the server in log lines. */
struct httpd_guard *httpd_guard_new(struct ev_loop *loop, const struct httpd_guard_limits *limits,
				    const char *prefix);
void httpd_guard_free(struct httpd_guard *g);
/* What MHD_start_daemon needs: pass them with MHD_OPTION_ARRAY, g's callbacks and
 * the connection limits (MHD's per-address limit off: the guard evicts instead). */
const struct MHD_OptionItem *httpd_guard_options(struct httpd_guard *g);
void httpd_guard_get_stats(const struct httpd_guard *g, struct httpd_guard_stats *out);

/* Called by the access handler once a request's headers are in (httpd_ev_accept
 * does): the connection is being answered and is not closed to make room. A
 * no-op on a server without a guard. */
void httpd_guard_request_ready(struct MHD_Connection *conn);

/* The policy, pure, for the tests: which of conns[0..n) to close at now_ms, now
 * that conns[newest] arrived: the oldest (smallest since_ms) of the newcomer's
 * address when that address is over per_address, else the oldest of all when over
 * max_connections; -1 for none. Never the newcomer, one closing, one being
 * answered, or one younger than HTTPD_GUARD_GRACE_MS. */
int httpd_guard_victim(const struct httpd_guard_conn *conns, size_t n, size_t newest,
		       const struct httpd_guard_limits *limits, uint64_t now_ms);
/* Whether c is past its deadline at now_ms. */
int httpd_guard_expired(const struct httpd_guard_conn *c, uint64_t now_ms, const struct httpd_guard_limits *limits);

#endif
