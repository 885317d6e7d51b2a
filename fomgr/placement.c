#include "placement.h"

#include <stdio.h>
#include <string.h>

static const char *const reason_names[PLACEMENT_REASON_MAX] = {
	"keep", "initial", "failover", "failback", "pinned", "no-quorum", "no-eligible", "unsettled", "lost-holder",
	"disabled", "maintenance",
};
static const char *const why_names[PLACEMENT_WHY_MAX] = {
	"owner", "not-eligible", "not-listed", "waiting", "pinned-elsewhere", "failback-delay", "failback-manual",
	"less-preferred", "disabled", "maintenance",
};

const char *placement_why_str(enum placement_why why)
{
	return why < PLACEMENT_WHY_MAX ? why_names[why] : "invalid";
}

const char *placement_reason_str(enum placement_reason reason)
{
	return reason < PLACEMENT_REASON_MAX ? reason_names[reason] : "invalid";
}

/* The one rule, with its reason (a format taking the node's name; with *check
 * set, the check's name and then the node's): eligibility and its explanation
 * cannot drift apart. NULL when eligible. */
static const char *not_eligible(const struct view *view, const struct config_group *group,
				const struct view_node *node, const char **check)
{
	*check = NULL;
	if (!view->quorate)
		return "no quorum (%s cannot take anything)";
	if (!node->up)
		return "%s is offline (not in corosync's membership)";
	if (!node->member)
		return "fomgr on %s is not in the cluster's group";
	if (!node->announced)
		return "%s has not announced its state yet";
	if (node->ann.flags & WIRE_F_LEAVING)
		return "fomgr on %s is shutting down";
	if (wire_admin_standby(view_admin(view), node->name))
		return "%s is in standby";
	for (size_t i = 0; i < group->n_checks; i++) {
		enum check_state st = wire_announce_check(&node->ann, group->checks[i]);

		if (st != CHECK_PASSING) {
			*check = group->checks[i];
			return st == CHECK_FAILING ? "check %s fails on %s" : "check %s has no result on %s";
		}
	}
	return NULL;
}

int placement_eligible(const struct view *view, const struct config_group *group, const struct view_node *node)
{
	const char *check;

	return not_eligible(view, group, node, &check) == NULL;
}

int placement_explain(const struct view *view, const struct config_group *group, const struct view_node *node,
		      char *out, size_t size)
{
	const char *check, *why = not_eligible(view, group, node, &check);

	if (!why)
		snprintf(out, size, "%s is eligible for %s", node->name, group->name);
	else if (check)
		snprintf(out, size, why, check, node->name);
	else
		snprintf(out, size, why, node->name);
	return why == NULL;
}

/* Rank of a node in the group's preference: its position in `prefer`, or its
 * position in nodeid order when the group lists none. Nodes a group does not
 * list may not hold it: CONFIG_MAX_NODES. */
static size_t rank_of(const struct view *view, const struct config_group *group, const struct view_node *node)
{
	if (group->n_prefer == 0)
		return (size_t)(node - view->nodes);
	for (size_t i = 0; i < group->n_prefer; i++)
		if (strcmp(group->prefer[i], node->name) == 0)
			return i;
	return CONFIG_MAX_NODES;
}

/* The holder by the view: a node that is up and whose last (possibly retained)
 * announce holds the group. When a merge leaves two, the most preferred wins. */
static const struct view_node *current_holder(const struct view *view, const struct config_group *group)
{
	const struct view_node *best = NULL;
	size_t best_rank = CONFIG_MAX_NODES + 1;

	for (size_t i = 0; i < view->n_nodes; i++) {
		const struct view_node *n = &view->nodes[i];
		size_t rank;

		if (!n->up || !n->has_state || !wire_announce_holds(&n->ann, group->name))
			continue;
		rank = rank_of(view, group, n);
		if (rank < best_rank) {
			best = n;
			best_rank = rank;
		}
	}
	return best;
}

static const struct view_node *best_eligible(const struct view *view, const struct config_group *group)
{
	const struct view_node *best = NULL;
	size_t best_rank = CONFIG_MAX_NODES;

	for (size_t i = 0; i < view->n_nodes; i++) {
		const struct view_node *n = &view->nodes[i];
		size_t rank = rank_of(view, group, n);

		if (rank < best_rank && placement_eligible(view, group, n)) {
			best = n;
			best_rank = rank;
		}
	}
	return best;
}

/* A pin holds while its node is eligible; otherwise the group is placed as usual. */
static const struct view_node *pinned_node(const struct view *view, const struct config_group *group)
{
	const char *name = wire_admin_pin(view_admin(view), group->name);
	const struct view_node *n = name ? view_node_by_name(view, name) : NULL;

	return n && placement_eligible(view, group, n) ? n : NULL;
}

static void place_group(const struct view *view, const struct config_group *group, struct placement_group *out)
{
	const struct view_node *holder = current_holder(view, group);
	const struct view_node *best, *pinned;

	out->holder = holder ? holder->nodeid : 0;
	/* As Pacemaker's maintenance-mode: nothing is started, stopped or moved, even
	 * without quorum; the core does not act on it either (node.c). */
	if (view_admin(view)->maintenance) {
		out->owner = out->holder;
		out->reason = PLACEMENT_MAINTENANCE;
		return;
	}
	if (!view->quorate) {
		out->owner = 0;
		out->reason = view->quorum_known ? PLACEMENT_NO_QUORUM : PLACEMENT_UNSETTLED;
		return;
	}
	if (!view_synced(view)) {
		out->owner = out->holder;
		out->reason = PLACEMENT_UNSETTLED;
		return;
	}
	if (wire_admin_disabled(view_admin(view), group->name)) {
		out->owner = 0;
		out->reason = PLACEMENT_DISABLED;
		return;
	}
	/* A holder whose fomgr is gone while its node stays up keeps the addresses in
	 * its kernel: moving them would make two holders, so the claim stands. */
	if (holder && !holder->member) {
		out->owner = holder->nodeid;
		out->reason = PLACEMENT_KEEP;
		return;
	}
	/* An asymmetric partition: the ring left its holder out while some member's
	 * knet link still reaches it, so it may be alive and holding on the far side
	 * until its own corosync tells it. Nobody claims before it is unreachable
	 * (it died, or withdrew: pairwatch.c) or back in the ring. */
	if (!holder && view_lost_holder(view, group->name)) {
		out->owner = 0;
		out->reason = PLACEMENT_LOST_HOLDER;
		return;
	}
	pinned = pinned_node(view, group);
	if (pinned) {
		out->owner = pinned->nodeid;
		out->reason = holder == pinned ? PLACEMENT_KEEP : PLACEMENT_PINNED;
		return;
	}
	best = best_eligible(view, group);
	if (holder && placement_eligible(view, group, holder)) {
		int failback = best && best != holder && group->failback == CONFIG_FAILBACK_AUTO &&
			       rank_of(view, group, best) < rank_of(view, group, holder) &&
			       (group->failback_delay_ms == 0 || wire_announce_ready(&best->ann, group->name));
		out->owner = failback ? best->nodeid : holder->nodeid;
		out->reason = failback ? PLACEMENT_FAILBACK : PLACEMENT_KEEP;
		return;
	}
	out->owner = best ? best->nodeid : 0;
	if (!best)
		out->reason = PLACEMENT_NO_ELIGIBLE;
	else
		out->reason = holder ? PLACEMENT_FAILOVER : PLACEMENT_INITIAL;
}

/* The i-th candidate of the group: its preference, or every node in nodeid order. */
static const struct view_node *candidate(const struct view *view, const struct config_group *group, size_t i)
{
	return group->n_prefer ? view_node_by_name(view, group->prefer[i]) : &view->nodes[i];
}

uint32_t placement_next_owner(const struct view *view, const struct config_group *group, uint32_t owner)
{
	size_t n = group->n_prefer ? group->n_prefer : view->n_nodes, start = n;

	for (size_t i = 0; i < n; i++) {
		const struct view_node *c = candidate(view, group, i);
		if (c && c->nodeid == owner)
			start = i;
	}
	if (start == n)
		return 0; /* the owner is none, or not a candidate: nothing to move from */
	for (size_t k = 1; k < n; k++) {
		const struct view_node *c = candidate(view, group, (start + k) % n);
		if (c && placement_eligible(view, group, c))
			return c->nodeid;
	}
	return 0;
}

void placement_compute(const struct view *view, const struct config *config, struct placement *out)
{
	memset(out, 0, sizeof(*out));
	out->n_groups = config->n_groups;
	for (size_t i = 0; i < config->n_groups; i++)
		place_group(view, &config->groups[i], &out->groups[i]);
}

/* ---- why (crm_resource --why): the rules above, read back for an operator ---- */

static const char *name_of(const struct view *view, uint32_t nodeid)
{
	const struct view_node *n = nodeid ? view_node_by_id((struct view *)view, nodeid) : NULL;

	return n ? n->name : "nobody";
}

/* A more preferred eligible node that does not own the group: why not. */
static enum placement_why why_not_back(const struct config_group *group, const struct view_node *node,
				       const char *owner, uint64_t left_ms, char *out, size_t size)
{
	if (group->failback == CONFIG_FAILBACK_MANUAL) {
		snprintf(out, size, "failback = manual: %s stays on %s", group->name, owner);
		return PLACEMENT_WHY_FAILBACK_MANUAL;
	}
	if (left_ms)
		snprintf(out, size, "failback delay: %llu s left on %s", (unsigned long long)((left_ms + 999) / 1000),
			 node->name);
	else
		snprintf(out, size, "failback delay (%u s) not elapsed on %s", (unsigned)(group->failback_delay_ms / 1000),
			 node->name);
	return PLACEMENT_WHY_FAILBACK_DELAY;
}

enum placement_why placement_why_node(const struct view *view, const struct config_group *group,
				      const struct placement_group *pg, const struct view_node *node,
				      uint64_t failback_left_ms, char *out, size_t size)
{
	const struct view_node *owner = pg->owner ? view_node_by_id((struct view *)view, pg->owner) : NULL;
	const char *pin = wire_admin_pin(view_admin(view), group->name), *check, *why;
	const struct view_node *pinned = pin ? view_node_by_name(view, pin) : NULL;
	char text[400];

	if (owner == node) {
		placement_why_group(view, group, pg, text, sizeof(text));
		snprintf(out, size, "owner: %s", text);
		return PLACEMENT_WHY_OWNER;
	}
	if (pg->reason == PLACEMENT_MAINTENANCE) {
		snprintf(out, size, "maintenance mode: fomgr moves nothing");
		return PLACEMENT_WHY_MAINTENANCE;
	}
	if (pg->reason == PLACEMENT_DISABLED) {
		snprintf(out, size, "group %s is disabled", group->name);
		return PLACEMENT_WHY_DISABLED;
	}
	why = not_eligible(view, group, node, &check);
	if (why) {
		if (check)
			snprintf(out, size, why, check, node->name);
		else
			snprintf(out, size, why, node->name);
		return PLACEMENT_WHY_INELIGIBLE;
	}
	if (rank_of(view, group, node) == CONFIG_MAX_NODES) {
		snprintf(out, size, "%s is not in group %s's prefer list", node->name, group->name);
		return PLACEMENT_WHY_NOT_LISTED;
	}
	if (!owner || pg->reason == PLACEMENT_UNSETTLED || pg->reason == PLACEMENT_LOST_HOLDER || !owner->member) {
		placement_why_group(view, group, pg, text, sizeof(text));
		snprintf(out, size, "%s is eligible; %s", node->name, text);
		return PLACEMENT_WHY_WAITING;
	}
	if (pinned && pinned == owner) {
		snprintf(out, size, "group %s is pinned to %s", group->name, pinned->name);
		return PLACEMENT_WHY_PINNED_ELSEWHERE;
	}
	if (rank_of(view, group, node) < rank_of(view, group, owner))
		return why_not_back(group, node, owner->name, failback_left_ms, out, size);
	snprintf(out, size, "%s is eligible; %s is preferred", node->name, owner->name);
	return PLACEMENT_WHY_LESS_PREFERRED;
}

/* Every listed node's reason, "; " between them. */
static void why_nobody(const struct view *view, const struct config_group *group, char *out, size_t size)
{
	size_t used = strlen(out);

	for (size_t i = 0; i < view->n_nodes && used + 3 < size; i++) {
		const struct view_node *n = &view->nodes[i];
		char why[160];
		int r;

		if (rank_of(view, group, n) == CONFIG_MAX_NODES || placement_explain(view, group, n, why, sizeof(why)))
			continue;
		r = snprintf(out + used, size - used, "%s%s", out[used - 1] == ':' ? " " : "; ", why);
		used += r > 0 ? (size_t)r : 0;
	}
	if (used >= size)
		out[size - 1] = '\0';
}

/* A group kept below its first choice: why that one cannot have it (a holder
 * that took over stays, and says so, once the failover is done). */
static void why_not_first(const struct view *view, const struct config_group *group, const struct placement_group *pg,
			  char *out, size_t size)
{
	const struct view_node *owner = view_node_by_id((struct view *)view, pg->owner), *first = NULL;
	size_t used = strlen(out);
	char why[160];

	for (size_t i = 0; owner && i < view->n_nodes; i++)
		if (rank_of(view, group, &view->nodes[i]) < rank_of(view, group, first ? first : owner))
			first = &view->nodes[i];
	if (first && !placement_explain(view, group, first, why, sizeof(why)) && used < size)
		snprintf(out + used, size - used, "; %s comes first but %s", first->name, why);
}

void placement_why_group(const struct view *view, const struct config_group *group, const struct placement_group *pg,
			 char *out, size_t size)
{
	const char *owner = name_of(view, pg->owner), *holder = name_of(view, pg->holder);
	const struct view_node *h = pg->holder ? view_node_by_id((struct view *)view, pg->holder) : NULL;
	char why[160];

	switch (pg->reason) {
	case PLACEMENT_MAINTENANCE:
		snprintf(out, size, "maintenance mode: fomgr moves nothing (held by %s)", holder);
		break;
	case PLACEMENT_DISABLED:
		snprintf(out, size, "disabled by an operator: held by nobody (fomctl group enable %s)", group->name);
		break;
	case PLACEMENT_NO_QUORUM:
		snprintf(out, size, "no quorum: this partition holds nothing");
		break;
	case PLACEMENT_UNSETTLED:
		if (!view->quorate)
			snprintf(out, size, "no quorum known: votequorum has not judged this ring, or the ring is not "
					    "trusted (after a stall); this node holds nothing");
		else
			snprintf(out, size, "waiting for every member's state (the view is not settled)");
		break;
	case PLACEMENT_LOST_HOLDER:
		snprintf(out, size, "waiting: its holder left the ring while a member still reaches it");
		break;
	case PLACEMENT_KEEP:
		if (h && !h->member)
			snprintf(out, size, "%s keeps it: its fomgr is gone while its node is up", owner);
		else if (wire_admin_pin(view_admin(view), group->name))
			snprintf(out, size, "pinned to %s by an operator", owner);
		else
			snprintf(out, size, "held by %s, which is still eligible", owner);
		why_not_first(view, group, pg, out, size);
		break;
	case PLACEMENT_INITIAL:
		snprintf(out, size, "%s is the most preferred eligible node", owner);
		break;
	case PLACEMENT_FAILOVER:
		if (h && !placement_explain(view, group, h, why, sizeof(why)))
			snprintf(out, size, "%s took over from %s: %s", owner, holder, why);
		else
			snprintf(out, size, "%s took over: the holder left", owner);
		break;
	case PLACEMENT_FAILBACK:
		snprintf(out, size, "back to the more preferred %s (failback = auto)", owner);
		break;
	case PLACEMENT_PINNED:
		snprintf(out, size, "pinned to %s by an operator", owner);
		break;
	case PLACEMENT_NO_ELIGIBLE:
	default:
		snprintf(out, size, "no eligible node:");
		why_nobody(view, group, out, size);
		break;
	}
}
