/* Effects: what the node core (node.c) asks the daemon to do after an event. The
 * core decides and does no I/O; an executor (executor.c in the daemon, the
 * simulator in tests/sim) carries each effect out, in a fixed order: addresses,
 * probes, GARP / NA bursts, announces, timers and the ring's trust first (the
 * failover path), then logs, disk (audit records, persisted admin state) and hooks. */
#ifndef FOMGR_EFFECT_H
#define FOMGR_EFFECT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum effect_kind {
	EFFECT_ADDR_ADD,       /* slot: add every address of the group; then NODE_EV_NETLINK */
	EFFECT_ADDR_DEL,       /* slot: delete them (the audit counts the connections first) */
	EFFECT_PROBE,          /* slot: RFC 5227 probe of its first IPv4 address; then NODE_EV_PROBE */
	EFFECT_GARP,           /* slot: the GARP / NA burst, from its first frame now */
	EFFECT_GARP_STOP,      /* slot: stop a burst in progress */
	EFFECT_REANNOUNCE,     /* slot: the burst again, logged with `why` (merge) */
	EFFECT_ANNOUNCE,       /* send node_announce() through CPG */
	EFFECT_TIMER_ARM,      /* timer at at_us (monotonic) */
	EFFECT_TIMER_CANCEL,   /* timer */
	EFFECT_RING_DISTRUST,  /* trust no quorum of the ring corosync reported last */
	EFFECT_RING_TRUST,     /* the old ring held: trust it again */
	EFFECT_FENCE_WITHDRAW, /* peer: withdraw from the ring, keeping only the link to peer */
	EFFECT_FENCE_RETURN,   /* peer: back in the ring; value 1 when only to look again (probe) */
	EFFECT_EXIT,           /* shutdown finished; value: 0 our last announce came back, 1 it did not in time */
	/* Below: after the failover path. */
	EFFECT_TRANSITION,     /* a finished transition: log line, audit record, hook */
	EFFECT_PLACEMENT,      /* the decided owner of group changed: log line */
	EFFECT_QUORUM,         /* value: quorate; value2: members (log line, audit record) */
	EFFECT_RING_STALL,     /* value: silent ms, value2: bound ms (log line, audit record) */
	EFFECT_ISOLATED,       /* value: reached, value2: expected votes, at_us: since (log, audit) */
	EFFECT_REACHED,        /* value: reached, value2: expected votes (log line) */
	EFFECT_SETTLED,        /* value: the settle wait in ms: no new ring came, the old one held (log) */
	EFFECT_LOST_FORGOTTEN, /* peer: out of the ring value ms while vouched for: no longer waited for (log) */
	EFFECT_MEMBERSHIP,     /* peer joined (value 1) or left (value 0, value2 view_leave_reason), or
				* value 2: we joined (value2: members), 3: a join ignored */
	EFFECT_PEER_STATE,     /* peer's announce was applied (the audit compares it with ours) */
	EFFECT_ADMIN_ADOPTED,  /* a newer admin state was adopted (log line, event) */
	EFFECT_PERSIST_ADMIN,  /* write node's admin state; value 1: an operator's request, before it is announced */
	EFFECT_REPLY,          /* the pending operator request is done: value is its rc */
	EFFECT_KIND_MAX
};

/* One finished transition on this node. */
struct effect_transition {
	char from[CONFIG_NAME_MAX], to[CONFIG_NAME_MAX];
	int reason; /* enum transition_reason */
	int acquired;
	int error;
	uint64_t since_us, started_us; /* the event that led to it, the start of its netlink step */
	uint64_t done_us;             /* the kernel's answer was handled (records are written later) */
};

struct effect {
	enum effect_kind kind;
	size_t slot; /* a group slot of the transition (node_group()) */
	char group[CONFIG_NAME_MAX];
	uint32_t peer, pid;
	int value, value2;
	uint64_t at_us;
	const char *why;
	struct effect_transition t; /* EFFECT_TRANSITION */
};

#define EFFECT_MAX (4 * CONFIG_MAX_GROUPS + 32)

struct effects {
	int rc; /* the synchronous answer of the event (admin request, conflict) */
	size_t n;
	size_t dropped; /* effects that did not fit (a bug: tests assert 0) */
	struct effect v[EFFECT_MAX];
};

void effects_clear(struct effects *fx);
/* A new effect of kind at the end of fx (zeroed but for kind), or NULL when full. */
struct effect *effects_push(struct effects *fx, enum effect_kind kind);
/* Whether an effect belongs to the failover path (run first). */
int effect_is_fast(enum effect_kind kind);
const char *effect_kind_str(enum effect_kind kind);

#endif
