#include "view.h"

#include <string.h>

void view_init(struct view *view, const struct config_nodelist *nodes, uint32_t local_nodeid)
{
	memset(view, 0, sizeof(*view));
	view->local_nodeid = local_nodeid;
	for (size_t i = 0; i < nodes->n_nodes && i < CONFIG_MAX_NODES; i++) {
		struct view_node *n = &view->nodes[view->n_nodes++];
		n->nodeid = nodes->nodes[i].nodeid;
		strcpy(n->name, nodes->nodes[i].name);
	}
	/* Sorted by nodeid: the order placement falls back on, the same everywhere. */
	for (size_t i = 1; i < view->n_nodes; i++)
		for (size_t j = i; j > 0 && view->nodes[j - 1].nodeid > view->nodes[j].nodeid; j--) {
			struct view_node tmp = view->nodes[j];
			view->nodes[j] = view->nodes[j - 1];
			view->nodes[j - 1] = tmp;
		}
}

struct view_node *view_node_by_id(struct view *view, uint32_t nodeid)
{
	for (size_t i = 0; i < view->n_nodes; i++)
		if (view->nodes[i].nodeid == nodeid)
			return &view->nodes[i];
	return NULL;
}

const struct view_node *view_node_by_name(const struct view *view, const char *name)
{
	for (size_t i = 0; i < view->n_nodes; i++)
		if (strcmp(view->nodes[i].name, name) == 0)
			return &view->nodes[i];
	return NULL;
}

const struct view_node *view_local(const struct view *view)
{
	return view_node_by_id((struct view *)view, view->local_nodeid);
}

static void node_forget(struct view_node *n)
{
	n->member = 0;
	n->pid = 0;
	n->announced = 0;
	n->has_state = 0;
	memset(&n->ann, 0, sizeof(n->ann));
}

static void list_add(char (*names)[CONFIG_NAME_MAX], size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(names[i], name) == 0)
			return;
	if (*n < WIRE_MAX_HELD)
		strcpy(names[(*n)++], name);
}

/* It left the ring: what it held may still be in its kernel, unless it said it
 * was leaving (it released first). */
static void node_lose(struct view_node *n)
{
	if (n->has_state && !(n->ann.flags & WIRE_F_LEAVING)) {
		for (size_t i = 0; i < n->ann.n_held; i++)
			list_add(n->lost, &n->n_lost, n->ann.held[i]);
		for (size_t i = 0; i < n->ann.n_up; i++)
			list_add(n->lost, &n->n_lost, n->ann.up[i]);
	}
	node_forget(n);
	n->up = 0;
}

static void node_back(struct view_node *n)
{
	n->up = 1;
	n->n_lost = 0;
}

void view_apply_totem(struct view *view, const uint32_t *nodeids, size_t n)
{
	view->epoch++;
	for (size_t i = 0; i < view->n_nodes; i++) {
		struct view_node *node = &view->nodes[i];
		int up = 0;

		for (size_t j = 0; j < n; j++)
			up |= nodeids[j] == node->nodeid;
		/* A node that left corosync's membership took its addresses with it, or
		 * will drop them when it finds itself without quorum. */
		if (!up && node->up) {
			/* Its state goes (its holdings become lost), but whether its fomgr
			 * is in the CPG group is CPG's to say. CPG once reported a node
			 * leaving and joining again in the confchg of a one-node ring, then
			 * nothing when the node came back to the ring: cleared here, the
			 * node stayed out of the group for good, its announces refused,
			 * and the other node took its pinned group: two holders for 30 s
			 * (fault campaign, seed 20261205, round 62). */
			uint32_t pid = node->pid;
			int member = node->member;
			node_lose(node);
			node->member = member;
			node->pid = pid;
		} else if (up && !node->up) {
			node_back(node);
		}
	}
}

int view_apply_join(struct view *view, uint32_t nodeid, uint32_t pid)
{
	struct view_node *node = view_node_by_id(view, nodeid);

	view->epoch++;
	/* One fomgr per node: a second process in the group (a stray second
	 * instance, or anything else that joined it) must not take the first one's
	 * place. A member that lost its state with the ring and has not announced
	 * since is no such first one: the node came back, its fomgr may have
	 * restarted meanwhile. */
	if (!node || (node->member && node->up && node->announced && node->pid != pid))
		return 0;
	if (!node->up)
		node_back(node);
	node->member = 1;
	node->pid = pid;
	node->announced = 0; /* its retained state stands until it announces anew */
	return 1;
}

void view_apply_leave(struct view *view, uint32_t nodeid, uint32_t pid, enum view_leave_reason reason)
{
	struct view_node *node = view_node_by_id(view, nodeid);

	view->epoch++;
	if (!node || (node->pid != pid && node->member))
		return;
	if (reason == VIEW_LEAVE_NODE) {
		node_lose(node);
		return;
	}
	/* Its fomgr went away but the node is up: whatever it held is still in its
	 * kernel, so its last announce is kept as a claim until it comes back or the
	 * node leaves the membership. */
	node->member = 0;
	node->pid = 0;
	node->announced = 0;
}

int view_apply_announce(struct view *view, uint32_t nodeid, uint32_t pid, const struct wire_announce *a)
{
	struct view_node *node = view_node_by_id(view, nodeid);

	if (!node || !node->member || node->pid != pid)
		return 0;
	view->epoch++;
	node->ann = *a;
	node->announced = 1;
	node->has_state = 1;
	return 1;
}

void view_apply_quorum(struct view *view, int known, int quorate)
{
	view->epoch++;
	view->quorum_known = known;
	view->quorate = known && quorate;
}

void view_reset(struct view *view)
{
	view->epoch++;
	view->quorate = 0;
	view->quorum_known = 0;
	for (size_t i = 0; i < view->n_nodes; i++) {
		node_forget(&view->nodes[i]);
		view->nodes[i].up = 0;
		view->nodes[i].n_lost = 0;
	}
}

const struct view_node *view_lost_holder(const struct view *view, const char *group)
{
	for (size_t i = 0; i < view->n_nodes; i++) {
		const struct view_node *x = &view->nodes[i];
		int lost = 0;

		for (size_t k = 0; !x->up && k < x->n_lost; k++)
			lost |= strcmp(x->lost[k], group) == 0;
		if (lost && view_vouched(view, x->nodeid, 0))
			return x;
	}
	return NULL;
}

int view_forget_lost(struct view *view, uint32_t nodeid)
{
	struct view_node *n = view_node_by_id(view, nodeid);

	if (!n || n->up || !n->n_lost)
		return 0;
	view->epoch++;
	n->n_lost = 0;
	return 1;
}

int view_vouched(const struct view *view, uint32_t nodeid, uint32_t except)
{
	for (size_t j = 0; j < view->n_nodes; j++) {
		const struct view_node *m = &view->nodes[j];
		if (m->nodeid != except && m->nodeid != nodeid && m->up && m->member && m->announced &&
		    wire_announce_reaches(&m->ann, nodeid))
			return 1;
	}
	return 0;
}

int view_synced(const struct view *view)
{
	const struct view_node *local = view_local(view);

	if (!local || !local->member)
		return 0;
	for (size_t i = 0; i < view->n_nodes; i++)
		if (view->nodes[i].member && view->nodes[i].up && !view->nodes[i].announced)
			return 0;
	return 1;
}

size_t view_members(const struct view *view)
{
	size_t n = 0;

	for (size_t i = 0; i < view->n_nodes; i++)
		n += view->nodes[i].member && view->nodes[i].up;
	return n;
}

const struct wire_admin *view_admin(const struct view *view)
{
	static const struct wire_admin none;
	const struct wire_admin *best = &none;

	for (size_t i = 0; i < view->n_nodes; i++) {
		const struct view_node *n = &view->nodes[i];
		if (n->up && n->has_state && wire_admin_newer(&n->ann.admin, best))
			best = &n->ann.admin;
	}
	return best;
}
