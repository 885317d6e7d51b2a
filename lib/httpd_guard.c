#include "fo/httpd_guard.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "fo/clock.h"
#include "fo/log.h"

struct httpd_guard {
	struct ev_loop *loop;
	struct httpd_guard_limits limits;
	const char *prefix;
	ev_timer sweep;
	struct httpd_guard_conn conns[HTTPD_GUARD_MAX_SLOTS];
	int fds[HTTPD_GUARD_MAX_SLOTS];
	struct httpd_guard_stats stats;
	struct MHD_OptionItem options[6];
	int logged; /* one log line per streak of closes */
};

static int same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr,
			      sizeof(struct in6_addr)) == 0;
	return 1; /* unknown families count as one address */
}

static int oldest(const struct httpd_guard_conn *conns, size_t n, size_t newest, const struct sockaddr_storage *addr,
		  uint64_t now_ms)
{
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		if (!conns[i].used || conns[i].closing || conns[i].ready || i == newest ||
		    now_ms - conns[i].since_ms < HTTPD_GUARD_GRACE_MS || (addr && !same_address(&conns[i].addr, addr)))
			continue;
		if (best < 0 || conns[i].since_ms < conns[best].since_ms)
			best = (int)i;
	}
	return best;
}

int httpd_guard_victim(const struct httpd_guard_conn *conns, size_t n, size_t newest,
		       const struct httpd_guard_limits *limits, uint64_t now_ms)
{
	unsigned total = 0, same = 0;

	if (newest >= n || !conns[newest].used)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!conns[i].used || conns[i].closing)
			continue;
		total++;
		same += same_address(&conns[i].addr, &conns[newest].addr);
	}
	if (same > limits->per_address)
		return oldest(conns, n, newest, &conns[newest].addr, now_ms);
	if (total > limits->max_connections)
		return oldest(conns, n, newest, NULL, now_ms);
	return -1;
}

int httpd_guard_expired(const struct httpd_guard_conn *c, uint64_t now_ms, const struct httpd_guard_limits *limits)
{
	return c->used && !c->closing && now_ms - c->since_ms > (uint64_t)(limits->deadline_s * 1000);
}

/* MHD sees the hang-up at its next look at the socket and closes the connection. */
static void close_slot(struct httpd_guard *g, int i, const char *why)
{
	g->conns[i].closing = 1;
	shutdown(g->fds[i], SHUT_RDWR);
	if (!g->logged)
		log_warn("%s: closing a connection %s (more may follow; see the metrics)", g->prefix, why);
	g->logged = 1;
}

static void on_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct httpd_guard *g = w->data;
	uint64_t now = clock_mono_ms();
	int closed = 0;

	for (int i = 0; i < HTTPD_GUARD_MAX_SLOTS; i++) {
		if (httpd_guard_expired(&g->conns[i], now, &g->limits)) {
			close_slot(g, i, "past its deadline");
			g->stats.deadline++;
			closed = 1;
		}
	}
	if (!closed)
		g->logged = 0;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct httpd_guard *g = cls;
	const union MHD_ConnectionInfo *fd, *addr;
	int slot = -1, victim;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct httpd_guard_conn *c = *socket_context;

		if (c) {
			c->used = 0;
			g->stats.open--;
		}
		return;
	}
	fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	addr = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	for (int i = 0; i < HTTPD_GUARD_MAX_SLOTS && slot < 0; i++)
		if (!g->conns[i].used)
			slot = i;
	if (slot < 0 || !fd) { /* cannot track it: MHD's own limit and timeout still apply */
		*socket_context = NULL;
		return;
	}
	memset(&g->conns[slot], 0, sizeof(g->conns[slot]));
	g->conns[slot].used = 1;
	g->conns[slot].since_ms = clock_mono_ms();
	if (addr && addr->client_addr) {
		size_t len = addr->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								      : sizeof(struct sockaddr_in);
		memcpy(&g->conns[slot].addr, addr->client_addr, len);
	}
	g->fds[slot] = fd->connect_fd;
	*socket_context = &g->conns[slot];
	g->stats.open++;
	victim = httpd_guard_victim(g->conns, HTTPD_GUARD_MAX_SLOTS, (size_t)slot, &g->limits, g->conns[slot].since_ms);
	if (victim >= 0) {
		close_slot(g, victim, "to make room (the one that waited longest)");
		g->stats.evicted++;
	}
}

static struct httpd_guard_conn *conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct httpd_guard_conn *c = ci ? ci->socket_context : NULL;

	return c && c->used ? c : NULL;
}

void httpd_guard_request_ready(struct MHD_Connection *conn)
{
	struct httpd_guard_conn *c = conn_of(conn);

	if (c)
		c->ready = 1;
}

/* An answer went out: the connection's next request has a deadline of its own. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct httpd_guard_conn *c = conn_of(conn);

	if (c) {
		c->since_ms = clock_mono_ms();
		c->ready = 0;
	}
}

struct httpd_guard *httpd_guard_new(struct ev_loop *loop, const struct httpd_guard_limits *limits,
				    const char *prefix)
{
	struct httpd_guard *g;
	unsigned hard;

	if (!limits->max_connections || limits->max_connections >= HTTPD_GUARD_MAX_SLOTS / 2 ||
	    !limits->per_address || !(limits->deadline_s > 0)) {
		errno = EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->loop = loop;
	g->limits = *limits;
	g->prefix = prefix;
	/* MHD refuses beyond this; the guard evicts long before it is reached. */
	hard = limits->max_connections * 2;
	g->options[0] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, g};
	g->options[1] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, g};
	g->options[2] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, (intptr_t)hard, NULL};
	g->options[3] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)(limits->deadline_s + 0.999), NULL};
	g->options[4] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	ev_timer_init(&g->sweep, on_sweep, limits->deadline_s / 4, limits->deadline_s / 4);
	g->sweep.data = g;
	ev_timer_start(loop, &g->sweep);
	return g;
}

void httpd_guard_free(struct httpd_guard *g)
{
	if (!g)
		return;
	ev_timer_stop(g->loop, &g->sweep);
	free(g);
}

const struct MHD_OptionItem *httpd_guard_options(struct httpd_guard *g)
{
	return g->options;
}

void httpd_guard_get_stats(const struct httpd_guard *g, struct httpd_guard_stats *out)
{
	*out = g->stats;
}
