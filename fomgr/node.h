/* The node core: everything one fomgr decides, as one pure step function,
 * node_step(node, event, now) -> effects. Events are what corosync delivers
 * (membership, announces, quorum), health, timers, operators' requests, the
 * executor's answers (netlink, probes) and the ring and pair watches' readings;
 * effects (effect.h) are what the daemon then does. The cluster view, placement,
 * transition planning, failback timing, the ring's trust and the operators' admin
 * state live here. No I/O, no clock (now is an argument), no allocation: the
 * caller owns struct node and struct effects. The daemon (manager.c) and the
 * simulator (tests/sim) run this very code. */
#ifndef FOMGR_NODE_H
#define FOMGR_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "effect.h"
#include "membership.h"
#include "pairwatch.h"
#include "placement.h"
#include "transition.h"
#include "view.h"
#include "wire.h"

enum node_event_kind {
	NODE_EV_CONNECTED,       /* corosync took us: local nodeid and pid, its settings */
	NODE_EV_LOST,            /* corosync went away */
	NODE_EV_TOTEM,           /* a new ring, with votequorum's verdict when known */
	NODE_EV_JOIN,            /* a process joined the CPG group */
	NODE_EV_LEAVE,           /* one left it (reason: process gone or node down) */
	NODE_EV_DELIVER,         /* an announce, in the agreed order */
	NODE_EV_QUORUM,          /* votequorum's verdict on the ring CPG reported */
	NODE_EV_HEALTH,          /* the checks' states (and whether the agent went silent) */
	NODE_EV_TIMER,           /* a timer the core armed fired */
	NODE_EV_ADMIN,           /* an operator's request: standby, pin, disable, maintenance */
	NODE_EV_ADMIN_SAVED,     /* the request's admin state was persisted (rc) */
	NODE_EV_NETLINK,         /* every address request of a group's step is answered */
	NODE_EV_PROBE,           /* an ARP probe's result */
	NODE_EV_RING_STALL,      /* the ring watch: corosync stopped answering */
	NODE_EV_RING_BACK,       /* it answers again */
	NODE_EV_RING_SAMPLE,     /* one answer: corosync's settings, knet links, version */
	NODE_EV_PAIR_TICK,       /* the pair watch's tick, on the newest link states */
	NODE_EV_FENCE_FAILED,    /* a withdrawal could not be carried out */
	NODE_EV_NETSTATE,        /* the audit's digests of this node changed */
	NODE_EV_CONFIG,          /* a reload: the new config */
	NODE_EV_ADOPT,           /* start-up: a group's addresses are in the kernel already */
	NODE_EV_SHUTDOWN,        /* release everything, tell the peers, leave */
	NODE_EV_CONFLICT,        /* another MAC answers for a group held here: announce again */
	NODE_EV_ANNOUNCE_FAILED, /* the last announce could not be sent */
	NODE_EV_KIND_MAX
};

/* REACH: the moment a grace or vouch of update_reach (node.c) ends, so that our
 * announce stops vouching then and not at the next ring sample. */
enum node_timer { NODE_TIMER_FAILBACK, NODE_TIMER_SETTLE, NODE_TIMER_SHUTDOWN, NODE_TIMER_REACH, NODE_TIMER_MAX };

#define NODE_SHUTDOWN_WAIT_US 1000000u /* at most this long for our last announce to go round */

/* The links as the ring watch read them from corosync. */
struct node_links {
	struct membership_info info;
	int silent; /* corosync's silence is past the ring watch's bound */
	char corosync_version[WIRE_VERSION_STR_MAX];
	size_t n;
	struct {
		uint32_t nodeid;
		int connected;
		/* When a pong last arrived while every link to the node was down
		 * (monotonic, the ring watch's answer), 0: none. */
		uint64_t ponged_us;
	} v[CONFIG_MAX_NODES];
};

enum node_admin_kind {
	NODE_ADMIN_STANDBY,     /* node in (on) or out of standby */
	NODE_ADMIN_PIN,         /* group pinned to node */
	NODE_ADMIN_DISABLE,     /* group disabled (on) or enabled */
	NODE_ADMIN_MAINTENANCE, /* maintenance mode on or off */
	NODE_ADMIN_KIND_MAX
};

struct node_event {
	enum node_event_kind kind;
	/* Facts the adapters hold, read at every event: membership.c's distrust of the
	 * ring (quorum is unknown until a newer ring) and the ring watch's verdict. */
	int ring_distrusted;
	int ring_stalled;
	uint32_t nodeid, pid;
	size_t slot; /* NETLINK, PROBE */
	int value;   /* CONNECTED: whether info is known; LEAVE: view_leave_reason; NETLINK: error;
		      * PROBE: result; ADMIN_SAVED: rc; HEALTH: stale; TIMER: enum node_timer */
	int quorum_known, quorate;
	uint32_t ms, ms2; /* RING_STALL: silent, bound; RING_BACK: stalled */
	const uint32_t *nodeids; /* TOTEM */
	size_t n_nodeids;
	const struct wire_announce *announce; /* DELIVER */
	const struct node_links *links;       /* RING_SAMPLE, PAIR_TICK */
	struct membership_info info;          /* CONNECTED */
	uint8_t digest[32];                   /* CONNECTED: corosync's; CONFIG: the cluster's */
	const struct config *config;          /* CONFIG */
	const struct wire_netstate *netstate; /* NETSTATE */
	size_t n_checks;                      /* HEALTH */
	const struct wire_check *checks;
	const char *group; /* ADOPT, CONFLICT, ADMIN (pin) */
	/* ADMIN: standby of node (on), pin group to node (NULL clears, "" the next
	 * eligible node after the owner), disable group (on), maintenance (on). */
	enum node_admin_kind admin;
	const char *node;
	int on;
	uint32_t uid;     /* ADMIN: who asked (the history names them) */
	const char *user; /* ADMIN: their name; NULL: none */
	uint64_t wall_ms; /* the wall clock at the event (Unix ms), for the history; 0: not known */
};

struct node {
	const struct config *config;
	uint8_t cluster_digest[32];
	struct view view;
	struct placement placement;
	struct transition transition;
	struct pairwatch pairs;
	struct membership_info info;
	uint32_t local_pid;
	int joined, leaving;
	int fenced; /* released everything for a stall or isolation, not back yet */
	/* The settle wait: since when, and the longest corosync went without
	 * answering in it (the old ring holds only if corosync kept answering). */
	uint64_t settle_from_us, settle_quiet_us, last_sample_us;
	uint64_t ring_stalls, isolations;
	struct wire_admin admin; /* the copy this node carries and persists */
	int pending;             /* an operator's change, acknowledged once the cluster has it */
	struct wire_admin pending_admin;
	int saving; /* an operator's change being persisted before it is announced */
	struct wire_admin request;
	/* What our knet links reach, as our announce vouches (WIRE_F_REACH), and
	 * since when each node of the view has been out of our ring. */
	int reach_known;
	size_t n_reach;
	uint32_t reach[CONFIG_MAX_NODES];
	uint64_t out_since_us[CONFIG_MAX_NODES];
	uint64_t link_down_us[CONFIG_MAX_NODES]; /* since when our knet link to it is down, 0 while up */
	struct node_links reach_links;           /* the ring sample the reach was computed from */
	uint64_t reach_timer_us;                 /* NODE_TIMER_REACH armed for then, 0: not armed */
	uint8_t corosync_digest[32];
	char corosync_version[WIRE_VERSION_STR_MAX];
	struct wire_netstate netstate; /* the audit's part */
	int health_stale;
	size_t n_checks;
	struct wire_check checks[WIRE_MAX_CHECKS];
	uint64_t eligible_since_us[CONFIG_MAX_GROUPS];
	uint64_t failback_at_us; /* the failback timer, 0 when not armed */
	uint32_t last_owner[CONFIG_MAX_GROUPS];
	/* Groups whose holder left the ring by node down at an agreed event and
	 * that nobody claims yet: their owner is presumed at the next agreed event
	 * where placement gives one (node.c, presume()). */
	int unowned[CONFIG_MAX_GROUPS];
	/* The last node that left the ring with the group's addresses up, and when
	 * the ring it left had formed (for the presumed owner's own check). */
	uint32_t gone_holder[CONFIG_MAX_GROUPS];
	uint64_t gone_ring_us[CONFIG_MAX_GROUPS];
	uint64_t ring_us; /* when the last ring formed (its totem event) */
	int last_quorate; /* the last verdict known was quorate (unknown ones aside) */
	/* The ring was taken as quorate at once (majority_ring) and votequorum has
	 * not spoken on it yet; and the nodes of the last ring that CPG reported
	 * down since (by view index), before the next ring or verdict. */
	int quorum_assumed;
	uint8_t left_down[CONFIG_MAX_NODES];
	uint32_t ring_members[CONFIG_MAX_NODES]; /* the last ring's nodeids */
	size_t n_ring_members;
	uint64_t event_us;
	uint64_t announce_seq;
	int have_sent;
	struct wire_announce last_sent; /* what node_announce() returns */
	int shutdown_wait;              /* released for shutdown; waiting for our last announce */
	/* The history our announce carries: when we started and joined the group
	 * (Unix ms), our last finished transitions, oldest first, and their counter. */
	uint64_t started_ms, joined_ms;
	uint32_t transitions_done;
	uint64_t wall_ms; /* the event's */
	size_t noted;     /* effects of the step already looked at for transitions */
	size_t n_recent;
	struct wire_transition recent[WIRE_MAX_TRANSITIONS];
};

/* node is the caller's (large: keep it off small stacks). nodes is corosync's
 * nodelist; admin the state persisted by an earlier run (NULL: none). */
void node_init(struct node *node, const struct config *config, const uint8_t cluster_digest[32],
	       const struct config_nodelist *nodes, const struct wire_admin *admin);
/* One event at now_us (monotonic). fx is cleared first. */
void node_step(struct node *node, const struct node_event *ev, uint64_t now_us, struct effects *fx);
/* The announce an EFFECT_ANNOUNCE sends. */
const struct wire_announce *node_announce(const struct node *node);
/* The next eligible node after the group's owner, in preference order: 0 and its
 * name in out, -ENOENT unknown group, -EHOSTUNREACH none. */
int node_next_owner(const struct node *node, const char *group, char *out);
/* Why node may not hold group (placement_explain); with node NULL, why no node
 * but the owner may, each reason after the other. 1 when node is eligible, 0 with
 * the reasons in out, -ENOENT unknown group or node. */
int node_explain(const struct node *node, const char *group, const char *name, char *out, size_t size);
/* Who holds the group now (this node: its own address steps; others: their
 * announces). 1 and the name in out, 0 none, -ENOENT unknown group. */
int node_group_holder(const struct node *node, const char *group, char *out);
/* How long this node's failback delay for the group (index in the config) still
 * runs at now_us; 0 when it is not counting or has elapsed. */
uint64_t node_failback_left_ms(const struct node *node, size_t group, uint64_t now_us);
/* Maintenance mode is in force here: the core moves nothing (no acquire, no
 * release, not even for a lost quorum, a stalled ring or a shutdown). */
int node_maintenance(const struct node *node);
/* What-if (whatif.h) on this node's view and placement; nothing changes. */
struct whatif;
struct whatif_result;
int node_simulate(const struct node *node, const struct whatif *w, struct whatif_result *out);
const char *node_name(const struct node *node, uint32_t nodeid);
const char *node_event_kind_str(enum node_event_kind kind);
const char *node_timer_str(enum node_timer timer);

#endif
