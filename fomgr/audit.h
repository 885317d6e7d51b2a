/* The security audit: which sockets listen here against the [audit] allowlist, what
 * the network really exposes (TCP probes of the peers and the VIPs), the network
 * state (netstate.c), and the credential and exposure checks. It runs periodically
 * and around every transition, turns what it finds into findings, and writes them
 * to the audit log (AUDITLOG_FINDING when a finding appears or goes away,
 * AUDITLOG_SNAPSHOT around a transition), one warning line each, and counters.
 *
 * The comparison functions are pure (audit_compare, audit_exposure_check,
 * audit_probe_plan): the tests drive them with fixed snapshots. */
#ifndef FOMGR_AUDIT_H
#define FOMGR_AUDIT_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "config.h"

struct ev_loop;
struct auditlog;
struct sockdiag_snapshot;

enum audit_severity { AUDIT_INFO, AUDIT_WARNING, AUDIT_CRITICAL, AUDIT_SEVERITY_MAX };

enum audit_kind {
	AUDIT_UNEXPECTED_LISTENER, /* listens, and no allow rule says it may */
	AUDIT_FORBIDDEN_LISTENER,  /* listens on a must_be_closed port */
	AUDIT_WRONG_PROCESS,       /* an allowed port, held by another process */
	AUDIT_MISSING_LISTENER,    /* an allow rule nothing here listens for */
	AUDIT_CLOSED_PORT_OPEN,    /* probe: a must_be_closed port answered */
	AUDIT_ALLOWED_UNREACHABLE, /* probe: an allowed port did not answer */
	AUDIT_INTERFACE,           /* a group's interface is missing or down */
	AUDIT_ROUTE,               /* no route covers a VIP's subnet on its interface */
	AUDIT_DEFAULT_ROUTE,       /* no default route */
	AUDIT_DRIFT,               /* firewall, routes, config or versions differ from a peer */
	AUDIT_EXPOSURE,            /* credentials and exposure (crypto, status, files, two_node) */
	AUDIT_KIND_MAX
};

#define AUDIT_SUBJECT_MAX 128
#define AUDIT_DETAIL_MAX 256

struct audit_finding {
	enum audit_kind kind;
	enum audit_severity severity;
	char subject[AUDIT_SUBJECT_MAX]; /* what, stable across runs: "tcp/8080 on 0.0.0.0" */
	char detail[AUDIT_DETAIL_MAX];   /* why, with what changes from run to run (pids) */
};

/* A growing list; zero-initialise, release with audit_findings_clear(). */
struct audit_findings {
	size_t n, cap;
	struct audit_finding *v;
};

const char *audit_kind_str(enum audit_kind kind);
const char *audit_severity_str(enum audit_severity severity);
/* Appends one finding (printf-style detail). 0 or -ENOMEM. */
int audit_findings_add(struct audit_findings *f, enum audit_kind kind, enum audit_severity severity,
		       const char *subject, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void audit_findings_clear(struct audit_findings *f);
/* {"kind":..,"severity":..,"subject":..,"detail":..}; the caller owns the result. */
json_t *audit_finding_json(const struct audit_finding *f);
json_t *audit_findings_json(const struct audit_findings *f);

/* This node's addresses, for rules bound to an address (a VIP is only local on its
 * holder) and to tell peers from ourselves. */
#define AUDIT_MAX_LOCAL_ADDRS 256
struct audit_local_addrs {
	size_t n;
	struct sockaddr_storage addrs[AUDIT_MAX_LOCAL_ADDRS]; /* port 0 */
};
/* From getifaddrs(). 0 or -errno. */
int audit_local_addrs_read(struct audit_local_addrs *out);
bool audit_local_addrs_has(const struct audit_local_addrs *l, const struct sockaddr_storage *a);

/* Listeners against the allowlist: unexpected, forbidden, wrong process, missing.
 * Sockets bound to loopback only are not exposed and are skipped. Pure. 0 or
 * -ENOMEM. */
int audit_compare(const struct sockdiag_snapshot *snap, const struct config_audit *rules,
		  const struct audit_local_addrs *local, struct audit_findings *out);

/* ---- credential and exposure checks (start and reload) ---- */

#define AUDIT_MAX_FILES 16
struct audit_file {
	char path[256];
	const char *role; /* "hook", "key", "config": keys must not be readable by others */
	bool exists;
	mode_t mode;
	uid_t uid;
};

struct audit_exposure_input {
	bool corosync_known;  /* the next three were read (membership_read_info) */
	bool crypto;
	bool two_node;
	bool has_qdevice;
	bool status_enabled;  /* the status endpoint listens */
	bool status_loopback; /* ... on loopback only */
	bool status_tls;      /* ... with TLS and a client CA */
	size_t n_files;
	struct audit_file files[AUDIT_MAX_FILES];
};

/* Stats path into in->files (a missing file is recorded as such). 0, -E2BIG,
 * -ENAMETOOLONG. */
int audit_exposure_add_file(struct audit_exposure_input *in, const char *path, const char *role);
/* Fills in from config (status endpoint, notify hook, TLS key, the config file
 * itself) and from corosync's settings when info is non-NULL (membership_read_info),
 * plus corosync's authkey (COROSYNC_AUTHKEY). Reads file modes, nothing else. */
#define AUDIT_COROSYNC_AUTHKEY "/etc/corosync/authkey"
struct membership_info;
void audit_exposure_gather(const struct config *config, const struct membership_info *info,
			   struct audit_exposure_input *in);
/* Pure: the findings for in, under config's require_crypto and [audit] policy.
 * Returns 0, or -EPERM when the policy is refuse (or require_crypto is set and
 * corosync runs without crypto) and a warning or critical finding was made: the
 * caller then refuses the start or reload. */
int audit_exposure_check(const struct config *config, const struct audit_exposure_input *in,
			 struct audit_findings *out);

/* ---- reachability probes ---- */

/* Where probes may go: the peers' ring0 addresses and the VIPs. Nothing else. */
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

/* Cross-node consistency. On each announce from a peer: its state against ours
 * (netstate_compare), the drift findings recorded when they appear or go away.
 * Unknown (zero) digests and empty versions are never a difference, so the caller
 * fills what the announce carries. 0 or -ENOMEM. */
struct netstate_peer_state;
int audit_peer_state(struct audit *a, const struct netstate_peer_state *peer);
/* The peer left the membership: its drift findings are resolved. */
void audit_peer_gone(struct audit *a, const char *node);
/* What this node would announce: config digest, version, kernel, and the digests of
 * the latest periodic audit (zero before the first). */
void audit_local_state(const struct audit *a, struct netstate_peer_state *out);
/* corosync.conf's digest and corosync's version, as this node's manager read them. */
void audit_set_corosync(struct audit *a, const uint8_t digest[32], const char *version);

void audit_get_stats(const struct audit *a, struct audit_stats *stats);
/* The active findings and the stats, for the status document; the caller owns it. */
json_t *audit_status_json(const struct audit *a);

#endif
