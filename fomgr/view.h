/* The cluster view: what corosync has delivered, applied in the order it was
 * delivered, so every node holds the same view. Inputs are membership (CPG and
 * totem), quorum and peers' announces; nothing else writes here. */
#ifndef FOMGR_VIEW_H
#define FOMGR_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "wire.h"

struct view_node {
	uint32_t nodeid;
	char name[CONFIG_NAME_MAX];
	int up;        /* in corosync's (totem) membership */
	int member;    /* its fomgr is in the CPG group */
	uint32_t pid;  /* of that fomgr */
	int announced; /* an announce arrived since it joined the group */
	int has_state; /* ann holds a (possibly retained) announce */
	struct wire_announce ann;
	/* Groups it held (claimed or had up) when it left corosync's ring without
	 * saying it was leaving: it may still hold them, on the far side of a
	 * partition, until it finds out. Cleared when it is back in the ring. */
	size_t n_lost;
	char lost[WIRE_MAX_HELD][CONFIG_NAME_MAX];
};

struct view {
	uint32_t local_nodeid;
	int quorate;       /* votequorum's verdict for the current ring */
	int quorum_known;  /* votequorum has reported on the current ring */
	uint64_t epoch;    /* events applied, for logs */
	size_t n_nodes;
	struct view_node nodes[CONFIG_MAX_NODES]; /* corosync's nodelist, by nodeid */
};

enum view_leave_reason { VIEW_LEAVE_PROC, VIEW_LEAVE_NODE, VIEW_LEAVE_MAX };

void view_init(struct view *view, const struct config_nodelist *nodes, uint32_t local_nodeid);
struct view_node *view_node_by_id(struct view *view, uint32_t nodeid);
const struct view_node *view_node_by_name(const struct view *view, const char *name);
const struct view_node *view_local(const struct view *view);

/* Totem membership: the nodes whose corosync is up. */
void view_apply_totem(struct view *view, const uint32_t *nodeids, size_t n);
/* Returns 0 (ignored) for a node outside the nodelist or a second process of a
 * node whose fomgr is already a member. */
int view_apply_join(struct view *view, uint32_t nodeid, uint32_t pid);
void view_apply_leave(struct view *view, uint32_t nodeid, uint32_t pid, enum view_leave_reason reason);
/* Returns 1 when applied, 0 when ignored (sender not a member of the group). */
int view_apply_announce(struct view *view, uint32_t nodeid, uint32_t pid, const struct wire_announce *a);
void view_apply_quorum(struct view *view, int known, int quorate);
/* Losing corosync: nothing is known any more. */
void view_reset(struct view *view);

/* The operators' state that wins: the newest any node up carries; an empty one
 * (epoch 0) when none carries any. */
const struct wire_admin *view_admin(const struct view *view);

/* The node that left the ring holding group and that a member of the ring still
 * reaches (its announce vouches for it): it may still hold the addresses. NULL
 * when there is none. */
const struct view_node *view_lost_holder(const struct view *view, const char *group);
/* Stops waiting for what nodeid held when it left the ring (a voucher that went
 * silent must not keep its groups orphaned). Returns 1 when there was anything. */
int view_forget_lost(struct view *view, uint32_t nodeid);
/* Whether a member of the ring other than `except` reaches nodeid (its announce
 * vouches for it, WIRE_F_REACH). */
int view_vouched(const struct view *view, uint32_t nodeid, uint32_t except);

/* Every member of the group has announced since it joined. */
int view_synced(const struct view *view);
size_t view_members(const struct view *view);

#endif
