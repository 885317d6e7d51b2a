/* Drift: cross-node consistency. What this node announces of its state (config
 * digest, versions, the network summary's digests and firewall lines), and the
 * drift findings against a peer's (netstate_compare), kept per peer: a peer's
 * findings are replaced when it announces again and resolved when it leaves. */
#ifndef FOMGR_AUDIT_DRIFT_H
#define FOMGR_AUDIT_DRIFT_H

#include <stdint.h>

#include "audit_findings.h"
#include "config.h"
#include "netstate.h"
#include "wire.h"

/* This node's state: net is the latest network summary, NULL before the first
 * (its digests are then zero, which is never a difference). */
void audit_drift_local(const struct config *config, const uint8_t corosync_digest[32], const char *corosync_version,
		       const struct netstate_summary *net, struct netstate_peer_state *out);
/* The drift findings of active that are not about node. 0 or -ENOMEM. */
int audit_drift_others(const struct audit_findings *active, const char *node, struct audit_findings *out);
/* The drift findings once peer's state is compared with mine: active's about the
 * other peers, and peer's new ones. 0 or -ENOMEM. */
int audit_drift_compare(const struct audit_findings *active, const struct netstate_peer_state *mine,
			const struct netstate_peer_state *peer, struct audit_findings *out);

/* What of mine an announce carries (the core adds corosync's part). */
void audit_drift_to_wire(const struct netstate_peer_state *mine, struct wire_netstate *out);
/* A peer's state from its announce. */
void audit_drift_from_wire(const char *node, const struct wire_announce *a, struct netstate_peer_state *out);

#endif
