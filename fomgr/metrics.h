/* Prometheus text exposition (format 0.0.4) of the status document, plus the
 * counters it does not carry (netlink, control socket, hooks, the failover
 * duration histogram), and the one-line summary systemd shows as STATUS=.
 * Pure: rendering reads its inputs and does no I/O. */
#ifndef FOMGR_METRICS_H
#define FOMGR_METRICS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "control_socket.h"
#include "fo/httpd_guard.h"
#include "vip.h"

#define METRICS_BUCKETS 11 /* finite upper bounds; +Inf is implied */

/* Upper bounds in seconds, increasing. */
extern const double metrics_bucket_bounds[METRICS_BUCKETS];

struct metrics_histogram {
	uint64_t counts[METRICS_BUCKETS + 1]; /* per bucket, not cumulative; last: above every bound */
	uint64_t count;
	double sum;
};

void metrics_histogram_observe(struct metrics_histogram *h, double seconds);
/* Whether an acquisition for this transition reason is an operator's move
 * (switchover, standby) rather than a failover. */
int metrics_reason_is_switchover(const char *reason);

enum metrics_hook_result { METRICS_HOOK_OK, METRICS_HOOK_FAILED, METRICS_HOOK_TIMEOUT, METRICS_HOOK_DROPPED,
			   METRICS_HOOK_REFUSED, METRICS_HOOK_MAX };
const char *metrics_hook_result_str(enum metrics_hook_result r);

struct metrics_input {
	const json_t *status;                     /* manager_status(); required */
	const struct metrics_histogram *failover; /* acquisitions' took_ms, operators' moves excepted; NULL: none */
	const struct metrics_histogram *switchover; /* acquisitions for switchover and standby; NULL: none */
	double start_time_s;                      /* Unix time fomgr started; 0: unknown */
	const struct vip_stats *vip;              /* NULL: not known yet */
	const struct control_socket_stats *control;      /* NULL: no control socket */
	const uint64_t *hooks;                    /* [METRICS_HOOK_MAX]; NULL: no hook */
	uint64_t http_requests;
	const struct httpd_guard_stats *http_guard; /* NULL: no status server */
};

/* The whole exposition; the caller frees it. NULL when out of memory. */
char *metrics_render(const struct metrics_input *in);

/* "quorate, 3/3 nodes up; holds web; checks 2/2 passing" into buf (truncated to
 * fit); returns buf. */
const char *metrics_status_line(const json_t *status, char *buf, size_t size);

#endif
