/* The reachability probes: what the network really exposes. The targets are the
 * peers' ring0 addresses and the VIPs, nothing else; the plan is one TCP connect
 * per (target, TCP rule); the judgement turns an answer (or its absence) into a
 * finding; a round carries the plan out on the loop, paced and bounded. The plan
 * and the judgement are pure. */
#ifndef FOMGR_AUDIT_PROBE_H
#define FOMGR_AUDIT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "audit_addr.h"
#include "audit_findings.h"
#include "config.h"

struct ev_loop;

#define AUDIT_MAX_TARGETS 128
struct audit_target {
	char name[CONFIG_NAME_MAX];   /* node name, or the group of a VIP */
	bool vip;
	struct sockaddr_storage addr; /* port 0 */
};

struct audit_targets {
	size_t n;
	struct audit_target t[AUDIT_MAX_TARGETS];
};

/* Peers from corosync's cmap (nodelist.node.N.ring0_addr, numeric only) plus every
 * configured VIP. Synchronous: start and reload only. 0 or -errno. */
int audit_targets_read(const struct config *config, struct audit_targets *out);
/* The VIPs alone (no corosync), for tests and when cmap is unavailable. */
void audit_targets_add_vips(const struct config *config, struct audit_targets *out);
int audit_targets_add(struct audit_targets *out, const char *name, bool vip, const char *addr);

struct audit_probe {
	size_t target;   /* index in the targets */
	uint16_t port;
	bool must_be_closed;
	const char *rule; /* the rule's text (in the config) */
};

#define AUDIT_MAX_PROBES 4096
/* Pure: one TCP probe per (target, TCP rule) where the rule's address, if any, is
 * that target; targets that are this node's own addresses are left out. *out is
 * the caller's to free. Returns the count (at most AUDIT_MAX_PROBES) or -ENOMEM. */
int audit_probe_plan(const struct config_audit *rules, const struct audit_targets *targets,
		     const struct audit_local_addrs *local, struct audit_probe **out);

enum audit_probe_result { AUDIT_PROBE_OPEN, AUDIT_PROBE_REFUSED, AUDIT_PROBE_TIMEOUT, AUDIT_PROBE_ERROR,
			  AUDIT_PROBE_RESULT_MAX };
const char *audit_probe_result_str(enum audit_probe_result r);
/* Pure: the finding a probe result makes, if any (0 none, 1 added, -ENOMEM). */
int audit_probe_judge(const struct audit_probe *p, const struct audit_target *t, enum audit_probe_result r,
		      struct audit_findings *out);

/* ---- a round on the loop ---- */

#define AUDIT_PROBE_CONCURRENCY 16

struct audit_probe_stats {
	uint64_t rounds, sent, open, refused, timeout, error;
};

/* A round's end, with its findings (cleared after the call). */
typedef void (*audit_probe_done_fn)(void *arg, struct audit_findings *findings);

struct audit_probe_round_options {
	audit_probe_done_fn done;
	void *arg;
	struct audit_probe_stats *stats; /* counted into */
};

struct audit_probe_round;

/* Plans and starts a round: at most rules->probe_rate connects a second and
 * AUDIT_PROBE_CONCURRENCY at once, each given rules->probe_timeout_ms. rules and
 * targets must stay until the round ends (done) or is cancelled. Returns 1 with
 * *out set; 0 when there is nothing to probe (done was called, with no findings);
 * -ENOMEM. */
int audit_probe_round_start(struct ev_loop *loop, const struct config_audit *rules,
			    const struct audit_targets *targets, const struct audit_local_addrs *local,
			    const struct audit_probe_round_options *options, struct audit_probe_round **out);
/* Stops a round that has not ended; done is not called. Accepts NULL. */
void audit_probe_round_cancel(struct audit_probe_round *round);

#endif
