/* The security audit as it runs: periodically and around every transition it
 * snapshots the listening sockets and judges them (audit_ports.h), reads the
 * network state (netstate.h), probes the peers and the VIPs (audit_probe.h) and
 * compares this node's state with each peer's (audit_drift.h). Each source keeps its
 * set of active findings (audit_findings.h); a finding is written to the audit log
 * (AUDITLOG_FINDING) when it appears and when it goes away, with one warning line,
 * and the transition records (AUDITLOG_SNAPSHOT) carry the findings active then.
 * The exposure checks (audit_exposure.h) run at start and on reload. */
#ifndef FOMGR_AUDIT_H
#define FOMGR_AUDIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct ev_loop;
struct auditlog;
struct audit_targets;

/* ---- the running audit ---- */

struct audit;

struct audit_stats {
	uint64_t periodic_runs;
	uint64_t snapshot_errors;
	size_t listeners;               /* in the latest snapshot */
	uint64_t findings_new;          /* findings that appeared */
	uint64_t findings_resolved;     /* and went away */
	size_t findings_active;
	uint64_t before_release_runs, after_acquire_runs;
	uint64_t before_release_us_last, before_release_us_max; /* in the caller's path */
	uint64_t release_count_us_last, release_count_us_max;   /* deferred: the count after a release */
	uint64_t after_acquire_us_last, after_acquire_us_max;   /* deferred, after the move */
	uint64_t periodic_us_last, periodic_us_max;
	uint64_t vip_connections_last;  /* established on the VIPs, latest count */
	uint64_t probe_rounds, probes_sent, probes_open, probes_refused, probes_timeout, probes_error;
	uint64_t log_errors;            /* records that could not be queued (the log's queue is full) */
	uint64_t deferred_dropped;      /* after-acquire audits dropped (queue full) */
};

/* config and log must outlive the audit or be replaced with audit_set_config();
 * log may be NULL (findings are then only logged and counted). NULL with errno. */
struct audit *audit_new(struct ev_loop *loop, const struct config *config, struct auditlog *log);
void audit_free(struct audit *a);
/* On reload. Re-reads the probe targets (cmap) too. */
void audit_set_config(struct audit *a, const struct config *config);
/* Replaces the probe targets (tests, or a caller that read them itself). */
void audit_set_targets(struct audit *a, const struct audit_targets *targets);

/* Runs one audit now, then every [audit] interval (nothing when it is 0 or there is
 * no [audit] section). Each run: snapshot and compare, network state, a probe round. */
int audit_periodic_start(struct audit *a);
void audit_periodic_stop(struct audit *a);
/* One periodic run now (also what the timer calls). 0 or -errno. */
int audit_run_now(struct audit *a);

/* Call just before releasing a group's addresses. It only queues: the count of
 * the connections the move cuts and the record, with the latest periodic
 * snapshot's findings, run from the loop's next iteration, after the delete has
 * been sent and its acknowledgement handled. Counting then is deliberate: a
 * deleted address does not close its connections, so they are still there to be
 * counted (only those that ended in that millisecond or two are missed), and the
 * delete waits for nothing. */
int audit_before_release(struct audit *a, const char *group);
/* Call once a group's addresses are up. The snapshot, the counts and the record
 * run from the loop afterwards (a zero timer: the next iteration). */
int audit_after_acquire(struct audit *a, const char *group);

/* Cross-node consistency (audit_drift.h). On each announce from a peer: its state
 * against ours (netstate_compare), the drift findings recorded when they appear or
 * go away.
 * Unknown (zero) digests and empty versions are never a difference, so the caller
 * fills what the announce carries. 0 or -ENOMEM. */
struct netstate_peer_state;
int audit_peer_state(struct audit *a, const struct netstate_peer_state *peer);
/* The peer left the membership: its drift findings are resolved. */
void audit_peer_gone(struct audit *a, const char *node);
/* What this node would announce: config digest, version, kernel, and the digests of
 * the latest periodic audit (zero before the first). */
void audit_local_state(const struct audit *a, struct netstate_peer_state *out);
/* The audit's part of what this node's announce carries (the core adds corosync's):
 * audit_drift_to_wire() of the local state; all zeros when a is NULL (no audit). */
struct wire_netstate;
void audit_local_wire(const struct audit *a, struct wire_netstate *out);
/* corosync.conf's digest and corosync's version, as this node's manager read them. */
void audit_set_corosync(struct audit *a, const uint8_t digest[32], const char *version);

void audit_get_stats(const struct audit *a, struct audit_stats *stats);
/* The active findings and the stats, for the status document; the caller owns it. */
json_t *audit_status_json(const struct audit *a);

#endif
