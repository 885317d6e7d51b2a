/* Placement: which node should hold each VIP group, as a pure function of the
 * cluster view and the configuration. Every node computes the same answer from
 * the same view, so there is no leader to elect. No I/O here. */
#ifndef FOMGR_PLACEMENT_H
#define FOMGR_PLACEMENT_H

#include <stdint.h>

#include "config.h"
#include "view.h"

enum placement_reason {
	PLACEMENT_KEEP,        /* the holder stays */
	PLACEMENT_INITIAL,     /* nobody held it */
	PLACEMENT_FAILOVER,    /* the holder left or became ineligible */
	PLACEMENT_FAILBACK,    /* back to a more preferred node */
	PLACEMENT_PINNED,      /* an operator pinned it to this node (switchover) */
	PLACEMENT_NO_QUORUM,   /* this partition has no quorum: nobody here holds it */
	PLACEMENT_NO_ELIGIBLE, /* no eligible node */
	PLACEMENT_UNSETTLED,   /* the view is not synced yet: change nothing */
	PLACEMENT_LOST_HOLDER, /* its holder left the ring but a member still reaches it: it may still hold it */
	PLACEMENT_DISABLED,    /* an operator disabled the group: nobody holds it */
	PLACEMENT_MAINTENANCE, /* maintenance mode: whoever holds it keeps it, nothing moves */
	PLACEMENT_REASON_MAX
};

/* Where a node stands for a group, as placement decided it (crm_resource --why). */
enum placement_why {
	PLACEMENT_WHY_OWNER,            /* it is the owner */
	PLACEMENT_WHY_INELIGIBLE,       /* offline, not joined, standby, a check not passing, no quorum */
	PLACEMENT_WHY_NOT_LISTED,       /* not in the group's prefer list */
	PLACEMENT_WHY_WAITING,          /* placement waits (unsettled view, a lost holder, a holder without fomgr) */
	PLACEMENT_WHY_PINNED_ELSEWHERE, /* eligible, but the group is pinned to another node */
	PLACEMENT_WHY_FAILBACK_DELAY,   /* more preferred, its failback delay has not elapsed */
	PLACEMENT_WHY_FAILBACK_MANUAL,  /* more preferred, but failback = manual keeps the holder */
	PLACEMENT_WHY_LESS_PREFERRED,   /* eligible, a more preferred node owns it */
	PLACEMENT_WHY_DISABLED,         /* the group is disabled */
	PLACEMENT_WHY_MAINTENANCE,      /* maintenance mode: nothing moves */
	PLACEMENT_WHY_MAX
};

struct placement_group {
	uint32_t owner;  /* nodeid, 0 for none */
	uint32_t holder; /* the node that holds it now, per the view (0 for none) */
	enum placement_reason reason;
};

struct placement {
	size_t n_groups; /* same order as config->groups */
	struct placement_group groups[CONFIG_MAX_GROUPS];
};

void placement_compute(const struct view *view, const struct config *config, struct placement *out);
/* Whether node may hold group (member, up, quorate view, not in standby, not leaving,
 * every check the group depends on passing). */
int placement_eligible(const struct view *view, const struct config_group *group, const struct view_node *node);
/* The same rule, explained for an operator: 1 when eligible, else 0 with the first
 * reason in out ("check drain fails on node2", "node3 is in standby", "no quorum",
 * "node2 is offline (not in corosync's membership)"). */
int placement_explain(const struct view *view, const struct config_group *group, const struct view_node *node,
		      char *out, size_t size);
const char *placement_reason_str(enum placement_reason reason);
const char *placement_why_str(enum placement_why why);
/* Why node does or does not own group, given pg (what placement_compute decided
 * from this view): the category, and one sentence in out ("node2 is in standby",
 * "failback delay: 12 s left on node1", "group web is pinned to node3").
 * failback_left_ms: how long node's failback delay for the group still runs when
 * known (the local node counts it), 0 otherwise. */
enum placement_why placement_why_node(const struct view *view, const struct config_group *group,
				      const struct placement_group *pg, const struct view_node *node,
				      uint64_t failback_left_ms, char *out, size_t size);
/* Why the group is where it is, one sentence in out ("node2 took over from node1:
 * check drain fails on node1"); for no-eligible, every listed node's reason. */
void placement_why_group(const struct view *view, const struct config_group *group, const struct placement_group *pg,
			 char *out, size_t size);
/* Where a switchover without a target goes: the first eligible node after owner
 * (0: none) in the group's preference (nodeid order without one), wrapping round.
 * Its nodeid, or 0 when no other node is eligible. */
uint32_t placement_next_owner(const struct view *view, const struct config_group *group, uint32_t owner);

#endif
