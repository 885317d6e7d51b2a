#include "node.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "fo/name.h"
#include "whatif.h"

static const char *const event_names[NODE_EV_KIND_MAX] = {
	"connected", "lost",	"totem",      "join",	     "leave",	    "deliver",	 "quorum",
	"health",    "timer",	"admin",      "admin-saved", "netlink",	    "probe",	 "ring-stall",
	"ring-back", "ring-sample", "pair-tick", "fence-failed", "netstate", "config",	 "adopt",
	"shutdown",  "conflict", "announce-failed",
};
static const char *const timer_names[NODE_TIMER_MAX] = {"failback", "settle", "shutdown", "reach"};

const char *node_event_kind_str(enum node_event_kind kind)
{
	return kind < NODE_EV_KIND_MAX ? event_names[kind] : "invalid";
}

const char *node_timer_str(enum node_timer timer)
{
	return timer < NODE_TIMER_MAX ? timer_names[timer] : "invalid";
}

const char *node_name(const struct node *node, uint32_t nodeid)
{
	const struct view_node *n = view_node_by_id((struct view *)&node->view, nodeid);

	return n ? n->name : "?";
}

void node_init(struct node *node, const struct config *config, const uint8_t cluster_digest[32],
	       const struct config_nodelist *nodes, const struct wire_admin *admin)
{
	memset(node, 0, sizeof(*node));
	node->config = config;
	memcpy(node->cluster_digest, cluster_digest, sizeof(node->cluster_digest));
	view_init(&node->view, nodes, 0);
	transition_init(&node->transition, config);
	if (admin)
		node->admin = *admin;
}

const struct wire_announce *node_announce(const struct node *node)
{
	return &node->last_sent;
}

static struct effect *push(struct effects *fx, enum effect_kind kind)
{
	return effects_push(fx, kind);
}

static void arm(struct effects *fx, enum node_timer timer, uint64_t at_us)
{
	struct effect *e = push(fx, EFFECT_TIMER_ARM);

	if (e) {
		e->value = (int)timer;
		e->at_us = at_us;
	}
}

static void cancel(struct effects *fx, enum node_timer timer)
{
	struct effect *e = push(fx, EFFECT_TIMER_CANCEL);

	if (e)
		e->value = (int)timer;
}

static enum check_state reported_state(const struct node *node, const char *check)
{
	for (size_t i = 0; i < node->n_checks; i++)
		if (strcmp(node->checks[i].name, check) == 0)
			return (enum check_state)node->checks[i].state;
	return CHECK_UNKNOWN;
}

static void add_check(struct wire_announce *a, const struct node *node, const char *check)
{
	for (size_t k = 0; k < a->n_checks; k++)
		if (strcmp(a->checks[k].name, check) == 0)
			return;
	if (a->n_checks >= WIRE_MAX_CHECKS)
		return;
	strcpy(a->checks[a->n_checks].name, check);
	a->checks[a->n_checks++].state = (uint8_t)reported_state(node, check);
}

/* An older peer refuses announces with flags it does not know: while a member
 * announces without the history part, ours goes without it too (the peers then
 * learn transitions and admin changes without their details). */
static int peers_read_history(const struct view *v)
{
	for (size_t i = 0; i < v->n_nodes; i++) {
		const struct view_node *n = &v->nodes[i];
		if (n->member && n->has_state && n->nodeid != v->local_nodeid && !(n->ann.flags & WIRE_F_HISTORY))
			return 0;
	}
	return 1;
}

static void add_history(const struct node *node, struct wire_announce *a)
{
	if (!peers_read_history(&node->view)) {
		a->admin.n_changes = 0;
		memset(a->admin.changes, 0, sizeof(a->admin.changes));
		return;
	}
	a->flags |= WIRE_F_HISTORY;
	a->started_ms = node->started_ms;
	a->joined_ms = node->joined_ms;
	a->n_transitions = node->n_recent;
	memcpy(a->transitions, node->recent, node->n_recent * sizeof(node->recent[0]));
}

/* What this node tells the cluster about itself. */
static void build_announce(const struct node *node, uint64_t now, struct wire_announce *a)
{
	const struct config *c = node->config;

	memset(a, 0, sizeof(*a));
	a->flags = (node->leaving ? WIRE_F_LEAVING : 0) | (node->health_stale ? WIRE_F_HEALTH_STALE : 0) |
		   (node->info.two_node && !node->info.has_qdevice ? WIRE_F_SPLIT_RISK : 0);
	a->admin = node->admin;
	if (wire_admin_more(&a->admin))
		a->flags |= WIRE_F_ADMIN_MORE;
	if (node->reach_known) {
		a->flags |= WIRE_F_REACH;
		a->n_reach = node->n_reach;
		memcpy(a->reach, node->reach, node->n_reach * sizeof(node->reach[0]));
	}
	a->netstate = node->netstate;
	memcpy(a->netstate.corosync_conf, node->corosync_digest, sizeof(a->netstate.corosync_conf));
	snprintf(a->netstate.corosync_version, sizeof(a->netstate.corosync_version), "%s", node->corosync_version);
	memcpy(a->config_digest, node->cluster_digest, sizeof(a->config_digest));
	snprintf(a->version, sizeof(a->version), "%s", FO_VERSION);
	for (size_t i = 0; i < c->n_groups; i++) {
		const struct config_group *g = &c->groups[i];

		if (transition_claims(&node->transition, g->name))
			strcpy(a->held[a->n_held++], g->name);
		if (transition_state_of(&node->transition, g->name) == TRANSITION_HELD)
			strcpy(a->up[a->n_up++], g->name);
		if (node->eligible_since_us[i] &&
		    now - node->eligible_since_us[i] >= (uint64_t)g->failback_delay_ms * 1000u)
			strcpy(a->failback_ready[a->n_ready++], g->name);
		for (size_t k = 0; k < g->n_checks; k++)
			add_check(a, node, g->checks[k]);
	}
	/* Policy "fail": a silent agent's checks count as unknown, so groups move. */
	if (node->health_stale && c->health_policy == CONFIG_HEALTH_FAIL)
		for (size_t k = 0; k < a->n_checks; k++)
			a->checks[k].state = CHECK_UNKNOWN;
	add_history(node, a);
}

/* What the peers' decoders accept: a name, or "none". */
static void copy_name(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", name_valid(src, size) ? src : "none");
}

/* Our finished transitions go into our announce, as the cluster's history has
 * them: the last WIRE_MAX_TRANSITIONS, each with our counter. Before any announce
 * of the step (a shutdown's last one must carry its releases) and at its end. */
static void note_transitions(struct node *node, uint64_t now, struct effects *fx)
{
	for (; node->noted < fx->n; node->noted++) {
		const struct effect *e = &fx->v[node->noted];
		struct wire_transition *t;
		uint64_t took = now > e->t.since_us ? now - e->t.since_us : 0;

		if (e->kind != EFFECT_TRANSITION)
			continue;
		if (node->n_recent == WIRE_MAX_TRANSITIONS) {
			memmove(node->recent, node->recent + 1, (WIRE_MAX_TRANSITIONS - 1) * sizeof(node->recent[0]));
			node->n_recent--;
		}
		t = &node->recent[node->n_recent++];
		memset(t, 0, sizeof(*t));
		t->seq = ++node->transitions_done;
		t->at_ms = node->wall_ms;
		t->took_us = took > UINT32_MAX ? UINT32_MAX : (uint32_t)took;
		t->acquired = (uint8_t)(e->t.acquired != 0);
		t->error = (uint16_t)(e->t.error < 0 ? -e->t.error : 0);
		copy_name(t->reason, sizeof(t->reason), transition_reason_str((enum transition_reason)e->t.reason));
		copy_name(t->group, sizeof(t->group), e->group);
		copy_name(t->from, sizeof(t->from), e->t.from);
		copy_name(t->to, sizeof(t->to), e->t.to);
		node->transition.changed = 1;
	}
}

/* Sent only when it differs from the last one sent (or force). */
static void announce(struct node *node, int force, uint64_t now, struct effects *fx)
{
	static struct wire_announce a; /* large: off the stack; the core runs on one thread */

	note_transitions(node, now, fx);
	if (!node->joined)
		return;
	build_announce(node, now, &a);
	a.seq = node->announce_seq + 1;
	if (!force && node->have_sent) {
		node->last_sent.seq = a.seq;
		if (memcmp(&node->last_sent, &a, sizeof(a)) == 0) {
			node->last_sent.seq = node->announce_seq;
			return;
		}
	}
	node->announce_seq = a.seq;
	node->last_sent = a;
	node->have_sent = 1;
	node->transition.sent_seq = a.seq;
	push(fx, EFFECT_ANNOUNCE);
}

static void schedule_failback_timer(struct node *node, uint64_t now, struct effects *fx)
{
	uint64_t next = 0;

	for (size_t i = 0; i < node->config->n_groups; i++) {
		uint64_t since = node->eligible_since_us[i];
		uint64_t at = since + (uint64_t)node->config->groups[i].failback_delay_ms * 1000u;
		if (since && at > now && (!next || at < next))
			next = at;
	}
	if (next == node->failback_at_us)
		return;
	node->failback_at_us = next;
	if (next)
		arm(fx, NODE_TIMER_FAILBACK, next);
	else
		cancel(fx, NODE_TIMER_FAILBACK);
}

/* Tracks since when this node is eligible for each group, for failback_delay. */
static void track_eligibility(struct node *node, uint64_t now, struct effects *fx)
{
	const struct view_node *me = view_local(&node->view);

	/* A ring change whose quorum is not known yet restarts nothing: votequorum
	 * answers within milliseconds, and an announce sent for it would come after
	 * the membership change (see presume()). */
	if (node->joined && !node->fenced && !node->view.quorum_known) {
		schedule_failback_timer(node, now, fx);
		return;
	}
	for (size_t i = 0; i < node->config->n_groups; i++) {
		int ok = me && placement_eligible(&node->view, &node->config->groups[i], me);
		if (!ok)
			node->eligible_since_us[i] = 0;
		else if (!node->eligible_since_us[i])
			node->eligible_since_us[i] = now;
	}
	schedule_failback_timer(node, now, fx);
}

/* One line whenever a group's decided owner changes: what every node agreed. */
static void note_placement(struct node *node, struct effects *fx)
{
	const struct placement *p = &node->placement;

	for (size_t i = 0; i < p->n_groups; i++) {
		const struct placement_group *g = &p->groups[i];
		struct effect *e;

		if (g->reason == PLACEMENT_UNSETTLED || g->owner == node->last_owner[i])
			continue;
		node->last_owner[i] = g->owner;
		e = push(fx, EFFECT_PLACEMENT);
		if (!e)
			continue;
		e->slot = i;
		snprintf(e->group, sizeof(e->group), "%s", node->config->groups[i].name);
		e->peer = g->owner;
		e->value = (int)g->reason;
		e->value2 = (int)g->holder;
		e->at_us = node->view.epoch;
	}
}

static void reply(struct node *node, int rc, struct effects *fx)
{
	struct effect *e;

	if (!node->pending)
		return;
	node->pending = 0;
	e = push(fx, EFFECT_REPLY);
	if (e)
		e->value = rc;
}

/* The newest admin state any node carries becomes ours; it is persisted once the
 * placement has acted. */
static int follow_admin(struct node *node, struct effects *fx)
{
	const struct wire_admin *winner = view_admin(&node->view);
	struct effect *e;

	if (!wire_admin_newer(winner, &node->admin))
		return 0;
	node->admin = *winner;
	e = push(fx, EFFECT_ADMIN_ADOPTED);
	if (e)
		e->at_us = node->admin.epoch;
	return 1;
}

/* After the address steps: the adopted admin state is persisted, then a pending
 * operator change is acknowledged once it is the cluster's. */
static void settle_admin(struct node *node, int adopted, struct effects *fx)
{
	const struct wire_admin *winner = view_admin(&node->view);

	if (adopted)
		push(fx, EFFECT_PERSIST_ADMIN);
	if (node->pending && winner->epoch >= node->pending_admin.epoch)
		reply(node, wire_admin_equal(winner, &node->pending_admin) ? 0 : -ECANCELED, fx);
}

/* How far apart the peers' presumption and our announces may be: one announce of
 * ours may be on its way when the ring changes (what we sent while corosync
 * formed it: a peer we stopped vouching for) and still be below the threshold. */
#define PRESUME_SLACK 2

/* We were presumed the owner of a group and placement has decided for it here
 * (quorum known), or we give up on it (all): the peers wait until an announce of
 * ours claims it or reaches the threshold. Announce (at most PRESUME_SLACK times)
 * until it does, so they wait for no claim we do not make. */
static void tell_decision(struct node *node, int all, uint64_t now, struct effects *fx)
{
	uint64_t until = 0;

	for (size_t i = 0; i < node->config->n_groups && i < node->placement.n_groups; i++) {
		uint64_t u;
		if (transition_presumed(&node->transition, node->config->groups[i].name, &u) ==
			    node->view.local_nodeid &&
		    (all || node->placement.groups[i].reason != PLACEMENT_UNSETTLED) && u > until)
			until = u;
	}
	for (int k = 0; k < PRESUME_SLACK && node->joined && node->announce_seq < until; k++)
		announce(node, 1, now, fx);
}

/* Before a membership event: for each node in the ring that has not said it is
 * leaving, the groups (bits by config index) whose addresses its last announce
 * has up. Only those count as left holding: a claim not yet acted on may come
 * back to the claimer in its own ring's transitional delivery and be acted on at
 * the very moment ours forms. */
static void had_up(const struct node *node, uint64_t *up)
{
	for (size_t i = 0; i < node->view.n_nodes; i++) {
		const struct view_node *n = &node->view.nodes[i];
		up[i] = 0;
		for (size_t g = 0; g < node->config->n_groups && g < 64; g++)
			if (n->up && n->has_state && !(n->ann.flags & WIRE_F_LEAVING) &&
			    wire_announce_up(&n->ann, node->config->groups[g].name))
				up[i] |= 1ull << g;
	}
}

/* A node that had group g up before the event and is out of the ring now (its
 * nodeid), or 0. */
static uint32_t left_holding(const struct view *v, const uint64_t *before, size_t g)
{
	for (size_t i = 0; i < v->n_nodes; i++)
		if (!v->nodes[i].up && g < 64 && (before[i] >> g & 1))
			return v->nodes[i].nodeid;
	return 0;
}

/* What a presumed owner checks itself before it skips the claim round: its knet
 * link to the holder that left went down after the ring they shared formed (so
 * that ring carried the holder's traffic: it has not acted in a ring it could
 * not talk in) and stayed down long enough for the holder, if alive and cut off,
 * to have released by the isolation rule (T / 2 after its own links went down,
 * the two ends a ping apart, and a period of its ring watch, (T + C) / 12, twice
 * for margin). Anything else: the claim round, as always. */
static int may_skip(const struct node *node, size_t g, uint64_t now)
{
	const struct view_node *h = node->gone_holder[g] ? view_node_by_id((struct view *)&node->view,
									 node->gone_holder[g])
							 : NULL;
	uint64_t down;

	if (!h)
		return 0;
	down = node->link_down_us[h - node->view.nodes];
	return down && down >= node->gone_ring_us[g] &&
	       now - down >= pairwatch_skip_wait_us(node->info.token_ms, node->info.consensus_ms);
}

/* At every agreed event (a membership change or an announce: CPG delivers each
 * to every member at the same place of the order). A group whose holder left the
 * ring by node down (without saying it was leaving) and that nobody claims gets
 * a presumed owner at the first such event where placement gives one once the
 * ring is quorate (the lost-holder wait usually ends at the announce of the last
 * member that stopped vouching for the holder, sent while corosync formed the
 * ring). Every member computes the same one from the same view (quorum, the one
 * local input, is assumed here) and treats it as a claim until an announce of
 * that node claims the group or is numbered PRESUME_SLACK past the last one the
 * view had of it. That node may then add the addresses without the claim round
 * (transition.c, skip) as long as what it sent before deciding is numbered below
 * that. A presumption stands while its node is in the ring and its fomgr in the
 * group. before: had_up() before a membership event, NULL for an announce. */
static void presume(struct node *node, const uint64_t *before)
{
	static struct placement p; /* large: off the stack; the core runs on one thread */
	struct view *v = &node->view;
	int quorate = v->quorate, known = v->quorum_known;

	/* A holder cut off from us but alive has released by the time we form a ring
	 * without it only where the isolation rule runs (T / 2 after its links went
	 * down, we need T + C): with a tie-breaker it learns from its own ring, at
	 * the moment ours forms, and the claim round is the margin its release has. */
	if (node->info.two_node || node->info.has_qdevice || !node->info.expected_votes) {
		memset(node->unowned, 0, sizeof(node->unowned));
		transition_unpresume(&node->transition, 0, NULL);
		return;
	}
	if (!before) { /* an announce: only a group waiting for its owner can change */
		int waiting = 0;
		for (size_t i = 0; i < node->config->n_groups && i < CONFIG_MAX_GROUPS; i++)
			waiting |= node->unowned[i];
		if (!waiting)
			return;
	}
	v->quorate = v->quorum_known = 1;
	placement_compute(v, node->config, &p);
	v->quorate = quorate;
	v->quorum_known = known;
	for (size_t i = 0; i < p.n_groups && i < CONFIG_MAX_GROUPS; i++) {
		const char *name = node->config->groups[i].name;
		uint32_t owner = transition_presumed(&node->transition, name, NULL);
		const struct view_node *o = owner ? view_node_by_id(v, owner) : NULL;
		uint32_t gone;

		if (o && o->up && o->member)
			continue;
		if (before && (gone = left_holding(v, before, i)) != 0) {
			node->unowned[i] = 1;
			node->gone_holder[i] = gone;
			node->gone_ring_us[i] = node->ring_us;
		}
		if (p.groups[i].holder)
			node->unowned[i] = 0; /* claimed: the claim round as always */
		o = node->unowned[i] && p.groups[i].reason == PLACEMENT_INITIAL ? view_node_by_id(v, p.groups[i].owner)
										: NULL;
		if (o && o->has_state) {
			transition_presume(&node->transition, name, o->nodeid, o->ann.seq + PRESUME_SLACK);
			node->unowned[i] = 0;
		} else {
			transition_presume(&node->transition, name, 0, 0);
		}
	}
}

static void recompute(struct node *node, uint64_t now, struct effects *fx)
{
	int adopted;

	if (node->leaving)
		return;
	adopted = follow_admin(node, fx);
	track_eligibility(node, now, fx);
	placement_compute(&node->view, node->config, &node->placement);
	note_placement(node, fx);
	for (size_t i = 0; i < node->config->n_groups && i < CONFIG_MAX_GROUPS; i++)
		transition_allow_skip(&node->transition, node->config->groups[i].name, may_skip(node, i, now));
	/* Maintenance: steps already under way finish; no new one starts. */
	if (!node_maintenance(node))
		transition_apply(&node->transition, &node->placement, &node->view, node->event_us, now, fx);
	announce(node, 0, now, fx);
	tell_decision(node, 0, now, fx);
	settle_admin(node, adopted, fx);
}

static void audit_quorum(struct node *node, int quorate, struct effects *fx)
{
	struct effect *e = push(fx, EFFECT_QUORUM);

	if (e) {
		e->value = quorate;
		e->value2 = (int)view_members(&node->view);
		e->at_us = node->event_us;
	}
}

static int quorum_changes(const struct node *node, int known, int quorate)
{
	return known && (!node->view.quorum_known || quorate != node->view.quorate);
}

static void membership_effect(struct node *node, uint32_t peer, uint32_t pid, int value, int value2,
			      struct effects *fx)
{
	struct effect *e = push(fx, EFFECT_MEMBERSHIP);

	if (e) {
		e->peer = peer;
		e->pid = pid;
		e->value = value;
		e->value2 = value2;
		e->at_us = node->event_us;
	}
}

/* The shutdown's release is done: tell the peers now, so they take over without
 * waiting for corosync to notice; leave once our own announce comes back. */
static void released_for_shutdown(struct node *node, uint64_t now, struct effects *fx)
{
	if (!node->shutdown_wait)
		return;
	node->shutdown_wait = 0;
	if (!node->joined) {
		push(fx, EFFECT_EXIT);
		return;
	}
	announce(node, 1, now, fx);
	arm(fx, NODE_TIMER_SHUTDOWN, now + NODE_SHUTDOWN_WAIT_US);
}

int node_maintenance(const struct node *node)
{
	return node->admin.maintenance;
}

/* Maintenance keeps every address where it is, whatever happens (as Pacemaker's
 * maintenance-mode leaves resources running when the cluster stack stops). */
static void release_all(struct node *node, enum transition_reason reason, uint64_t now, struct effects *fx)
{
	if (node_maintenance(node)) {
		if (node->shutdown_wait) {
			node->shutdown_wait = 0;
			push(fx, EFFECT_EXIT);
		}
		return;
	}
	if (transition_release_all(&node->transition, reason, now, fx))
		released_for_shutdown(node, now, fx);
}

static void on_connected(struct node *node, const struct node_event *ev)
{
	node->view.local_nodeid = ev->nodeid;
	node->local_pid = ev->pid;
	node->have_sent = 0;
	memcpy(node->corosync_digest, ev->digest, sizeof(node->corosync_digest));
	if (ev->value)
		node->info = ev->info;
}

static void on_lost(struct node *node, uint64_t now, struct effects *fx)
{
	node->joined = 0;
	node->event_us = now;
	reply(node, -ENOTCONN, fx);
	view_reset(&node->view);
	node->last_quorate = node->quorum_assumed = 0;
	transition_unpresume(&node->transition, 0, NULL);
	memset(node->unowned, 0, sizeof(node->unowned));
	release_all(node, TRANSITION_QUORUM, now, fx);
}

static int in_last_ring(const struct node *node, uint32_t nodeid)
{
	for (size_t k = 0; k < node->n_ring_members; k++)
		if (node->ring_members[k] == nodeid)
			return 1;
	return 0;
}

/* A ring that only lost members and keeps more than half the expected votes, one
 * per node and no tie-breaker, after a quorate one: votequorum's verdict on it is
 * quorate whatever its options (wait_for_all was met by the ring before,
 * last_man_standing only lowers what is expected), and it comes 10-25 ms after
 * the ring in the lab, most of a failover's own share; no need to wait for it. */
static int majority_ring(const struct node *node, const struct node_event *ev)
{
	const struct membership_info *i = &node->info;

	if (!node->last_quorate || node->fenced || ev->ring_distrusted || i->has_qdevice || i->two_node ||
	    !i->one_vote_each || !i->expected_votes || 2 * ev->n_nodeids <= i->expected_votes)
		return 0;
	for (size_t k = 0; k < ev->n_nodeids; k++) {
		const struct view_node *n = view_node_by_id((struct view *)&node->view, ev->nodeids[k]);
		/* A node joins, or comes back: votequorum judges. corosync reports a
		 * ring's leaves and joins before the ring itself, so the view has it up
		 * already; a node that CPG reported down and that is in this ring again
		 * left and came back (a merge: its state, or ours, is from another
		 * ring), whatever the member lists look like. */
		if (!n || !n->up || !in_last_ring(node, ev->nodeids[k]) || node->left_down[n - node->view.nodes])
			return 0;
	}
	/* Each node the last ring had and this one has not: our knet link to it went
	 * down after that ring formed, so that ring carried its traffic and it has
	 * not been quorate on its own since (what it acts on now, a claim of its
	 * coming back to it at this ring change, is then bounded as before). */
	for (size_t k = 0; k < node->n_ring_members; k++) {
		const struct view_node *n = view_node_by_id((struct view *)&node->view, node->ring_members[k]);
		int kept = 0;
		uint64_t down;

		for (size_t j = 0; j < ev->n_nodeids; j++)
			kept |= ev->nodeids[j] == node->ring_members[k];
		if (kept || !n)
			continue;
		down = node->link_down_us[n - node->view.nodes];
		if (!down || down < node->ring_us)
			return 0;
	}
	return 1;
}

static void on_totem(struct node *node, const struct node_event *ev, uint64_t now, struct effects *fx)
{
	int known = ev->quorum_known, quorate = ev->quorate, changed, assumed = 0;
	uint64_t up[CONFIG_MAX_NODES];

	node->event_us = now;
	if (node->fenced && !ev->ring_distrusted) {
		node->fenced = 0;
		cancel(fx, NODE_TIMER_SETTLE);
	}
	/* A ring of fewer than half the expected votes is never quorate (whatever
	 * votequorum's options, a quorum device aside): no need to wait for
	 * votequorum, which lags while corosync is busy, to release. */
	if (!known && !node->info.has_qdevice && node->info.expected_votes &&
	    2 * ev->n_nodeids < node->info.expected_votes) {
		known = 1;
		quorate = 0;
	} else if (!known && majority_ring(node, ev)) {
		known = 1;
		quorate = 1;
		assumed = 1;
	}
	if (known)
		node->last_quorate = quorate;
	node->quorum_assumed = assumed;
	memset(node->left_down, 0, sizeof(node->left_down));
	changed = quorum_changes(node, known, quorate);
	had_up(node, up);
	view_apply_totem(&node->view, ev->nodeids, ev->n_nodeids);
	view_apply_quorum(&node->view, known, quorate);
	presume(node, up);
	node->ring_us = now;
	/* A ring of a majority, with us in it, carried every member's traffic when it
	 * formed: links read as reaching no majority before that were stale (after a
	 * thaw, knet says down until its first pongs) or came back. The isolation
	 * rule counts from the ring: what it guards against, the others' ring without
	 * us, comes T + C after our last token at the earliest. Before, a thawed node
	 * fenced itself 26 ms after its new ring and then waited the settle wait while
	 * its peer had already failed back to it (campaign seed 20261204, round 169:
	 * 1.69 s unheld; CI's chaos.short once, 1.69 s). */
	if (node->pairs.minority_since_us && !node->pairs.isolated &&
	    pairwatch_votes_majority((uint32_t)ev->n_nodeids, node->info.expected_votes,
				     node->info.two_node || node->info.has_qdevice))
		node->pairs.minority_since_us = now;
	node->n_ring_members = ev->n_nodeids < CONFIG_MAX_NODES ? ev->n_nodeids : CONFIG_MAX_NODES;
	memcpy(node->ring_members, ev->nodeids, node->n_ring_members * sizeof(node->ring_members[0]));
	recompute(node, now, fx);
	if (changed)
		audit_quorum(node, quorate, fx);
}

static void on_join(struct node *node, const struct node_event *ev, uint64_t now, struct effects *fx)
{
	int self = ev->nodeid == node->view.local_nodeid && ev->pid == node->local_pid;

	node->event_us = now;
	if (!view_apply_join(&node->view, ev->nodeid, ev->pid)) {
		membership_effect(node, ev->nodeid, ev->pid, 3, 0, fx);
		return;
	}
	if (self) {
		node->joined = 1;
		node->joined_ms = ev->wall_ms;
	} else {
		/* A partition healed or a node came back: whatever it (or the clients
		 * it served) learnt meanwhile, the holder's MAC is the answer now. */
		transition_reannounce(&node->transition, "merge", fx);
	}
	if (self)
		membership_effect(node, ev->nodeid, ev->pid, 2, (int)view_members(&node->view), fx);
	/* Whoever joined needs everyone's state: all of us announce again. It did
	 * not see what we presumed (a merge, a restart): from here on every owner
	 * claims through the round, and the peers stop waiting for our claim. */
	announce(node, 1, now, fx);
	memset(node->unowned, 0, sizeof(node->unowned));
	tell_decision(node, 1, now, fx);
	recompute(node, now, fx);
	if (!self)
		membership_effect(node, ev->nodeid, ev->pid, 1, 0, fx);
}

/* CPG reports a node of the last ring down: noted until the next ring or
 * verdict. corosync reports it before the ring that leaves it out (or takes it
 * back), which majority_ring() then judges; when the ring came first (the
 * simulator's order) and was taken as quorate at once, a node of that very ring
 * reported down left it and came back: the verdict is votequorum's again, as
 * for a ring with a join. */
static void left_down(struct node *node, uint32_t nodeid)
{
	const struct view_node *n = view_node_by_id(&node->view, nodeid);

	if (!n || !in_last_ring(node, nodeid))
		return;
	node->left_down[n - node->view.nodes] = 1;
	if (node->quorum_assumed) {
		node->quorum_assumed = 0;
		view_apply_quorum(&node->view, 0, 0);
	}
}

static void on_leave(struct node *node, const struct node_event *ev, uint64_t now, struct effects *fx)
{
	uint64_t up[CONFIG_MAX_NODES];

	node->event_us = now;
	if (ev->value == VIEW_LEAVE_NODE)
		left_down(node, ev->nodeid);
	had_up(node, up);
	view_apply_leave(&node->view, ev->nodeid, ev->pid, (enum view_leave_reason)ev->value);
	presume(node, up);
	recompute(node, now, fx);
	membership_effect(node, ev->nodeid, ev->pid, 0, ev->value, fx);
}

static void on_deliver(struct node *node, const struct node_event *ev, uint64_t now, struct effects *fx)
{
	const struct wire_announce *a = ev->announce;
	struct effect *e;

	node->event_us = now;
	if (!view_apply_announce(&node->view, ev->nodeid, ev->pid, a))
		return;
	transition_unpresume(&node->transition, ev->nodeid, a); /* what it decided is in the view now */
	presume(node, NULL);
	e = push(fx, EFFECT_PEER_STATE);
	if (e)
		e->peer = ev->nodeid;
	if (node->leaving && ev->nodeid == node->view.local_nodeid && (a->flags & WIRE_F_LEAVING) && a->n_held == 0) {
		cancel(fx, NODE_TIMER_SHUTDOWN);
		push(fx, EFFECT_EXIT);
		return;
	}
	recompute(node, now, fx);
}

static void on_quorum(struct node *node, const struct node_event *ev, uint64_t now, struct effects *fx)
{
	int changed = quorum_changes(node, ev->quorum_known, ev->quorate);

	if (ev->quorum_known) {
		node->last_quorate = ev->quorate;
		node->quorum_assumed = 0;
		memset(node->left_down, 0, sizeof(node->left_down));
	}
	node->event_us = now;
	view_apply_quorum(&node->view, ev->quorum_known, ev->quorate);
	recompute(node, now, fx);
	if (changed)
		audit_quorum(node, ev->quorate, fx);
}

static void on_health(struct node *node, const struct node_event *ev, uint64_t now, struct effects *fx)
{
	node->event_us = now;
	node->health_stale = ev->value;
	node->n_checks = ev->n_checks < WIRE_MAX_CHECKS ? ev->n_checks : WIRE_MAX_CHECKS;
	if (node->n_checks)
		memcpy(node->checks, ev->checks, node->n_checks * sizeof(node->checks[0]));
	announce(node, 0, now, fx); /* our view of ourselves changes when the announce comes back */
}

static uint32_t settle_ms(const struct node *node)
{
	uint32_t token = node->info.token_ms ? node->info.token_ms : 1000u;
	uint32_t consensus = node->info.consensus_ms ? node->info.consensus_ms : 1200u;

	return token + consensus + 250;
}

/* Two of the ring watch's periods ((T + C) / 12 each): longer without an answer
 * and corosync was busy (forming memberships), not serving the old ring. */
static uint64_t quiet_limit_us(const struct node *node)
{
	uint32_t token = node->info.token_ms ? node->info.token_ms : 1000u;
	uint32_t consensus = node->info.consensus_ms ? node->info.consensus_ms : 1200u;

	return 1000ull * (token + consensus) / 6;
}

static void arm_settle(struct node *node, uint64_t now, struct effects *fx)
{
	node->settle_from_us = now;
	node->settle_quiet_us = 0;
	arm(fx, NODE_TIMER_SETTLE, now + 1000ull * settle_ms(node));
}

/* The longest corosync went without answering since the settle wait began. */
static uint64_t settle_quiet(const struct node *node, uint64_t now)
{
	uint64_t since = node->last_sample_us > node->settle_from_us ? node->last_sample_us : node->settle_from_us;

	return now - since > node->settle_quiet_us ? now - since : node->settle_quiet_us;
}

/* Release everything and trust no quorum until corosync shows a newer ring (or
 * the old one is seen to hold): a stall or isolation. Returns the effect that
 * says why (kind), pushed before the distrust so it is logged first. */
static struct effect *fence(struct node *node, enum transition_reason reason, enum effect_kind kind, uint64_t now,
			    struct effects *fx)
{
	struct effect *e;

	node->event_us = now;
	node->fenced = 1;
	node->last_quorate = node->quorum_assumed = 0;
	cancel(fx, NODE_TIMER_SETTLE);
	release_all(node, reason, now, fx);
	tell_decision(node, 1, now, fx); /* the peers wait for no claim of ours */
	e = push(fx, kind);
	push(fx, EFFECT_RING_DISTRUST);
	return e;
}

/* Our corosync has not answered for longer than a third of what the peers need
 * to evict us: it is frozen or stalled, and they may be forming a ring without
 * us. Release everything now, and trust no quorum until corosync shows a newer
 * ring or the old one is seen to hold. */
static void on_ring_stall(struct node *node, const struct node_event *ev, uint64_t now, struct effects *fx)
{
	struct effect *e;

	if (!node->joined || node->leaving) {
		e = push(fx, EFFECT_RING_STALL);
		if (e) {
			e->value = (int)ev->ms;
			e->value2 = -1; /* nothing to release */
		}
		return;
	}
	node->ring_stalls++;
	e = fence(node, TRANSITION_RING_STALL, EFFECT_RING_STALL, now, fx);
	if (e) {
		e->value = (int)ev->ms;
		e->value2 = (int)ev->ms2;
		e->at_us = now;
	}
}

static void on_ring_back(struct node *node, const struct node_event *ev, uint64_t now, struct effects *fx)
{
	if (!node->fenced)
		return;
	if (!ev->ring_distrusted) {
		node->fenced = 0;
		return;
	}
	if (node->pairs.isolated)
		return; /* the links decide: when they reach a majority again */
	/* A corosync that was evicted while frozen finds out within token +
	 * consensus of running again and forms a new ring; until then, wait. */
	arm_settle(node, now, fx);
}

static void on_settle(struct node *node, const struct node_event *ev, uint64_t now, struct effects *fx)
{
	struct effect *e;

	if (!node->fenced || ev->ring_stalled || node->pairs.isolated)
		return;
	/* corosync went quiet in the wait, short of a stall: it was forming
	 * memberships (one that cannot settle, after a thaw), so the old ring did
	 * not hold; its quorum is stale. Wait again. */
	if (ev->ring_distrusted && settle_quiet(node, now) > quiet_limit_us(node)) {
		arm_settle(node, now, fx);
		return;
	}
	node->fenced = 0;
	node->event_us = now;
	if (!ev->ring_distrusted)
		return;
	e = push(fx, EFFECT_SETTLED);
	if (e)
		e->value = (int)settle_ms(node);
	push(fx, EFFECT_RING_TRUST);
}

/* The pair watch's input: the links, and what our ring and the members' announces
 * say of each peer. */
static void pair_input(const struct node *node, const struct node_links *l, struct pairwatch_input *in)
{
	*in = (struct pairwatch_input){
		.local_nodeid = node->view.local_nodeid,
		.token_ms = l->info.token_ms,
		.consensus_ms = l->info.consensus_ms,
		.expected_votes = l->info.expected_votes,
		.tie_breaker = l->info.two_node || l->info.has_qdevice,
		.silent = l->silent,
	};
	for (size_t i = 0; i < l->n && in->n_peers < CONFIG_MAX_NODES; i++) {
		const struct view_node *v = view_node_by_id((struct view *)&node->view, l->v[i].nodeid);
		in->peers[in->n_peers++] = (struct pairwatch_peer){
			.nodeid = l->v[i].nodeid,
			.link_up = l->v[i].connected,
			.in_ring = node->joined && v && v->up,
			.vouched = node->joined && view_vouched(&node->view, l->v[i].nodeid, node->view.local_nodeid),
		};
	}
}

/* Our links reach no majority: the others can form a quorate ring without us
 * after token + consensus, and our corosync may not tell us in time (one-way loss,
 * a flapping link). Release first; trust no quorum until the links reach a
 * majority again and corosync shows a newer ring (or the old one held). */
static void watch_isolation(struct node *node, const struct node_event *ev, const struct pairwatch_input *in,
			    uint64_t now, struct effects *fx)
{
	enum pairwatch_action a = pairwatch_isolation_step(&node->pairs, in, now);
	uint32_t reached = pairwatch_reached(in);
	struct effect *e;

	if (a == PAIRWATCH_ISOLATED && node->joined && !node->leaving) {
		node->isolations++;
		e = fence(node, TRANSITION_QUORUM, EFFECT_ISOLATED, now, fx);
		if (e) {
			e->value = (int)reached;
			e->value2 = (int)in->expected_votes;
			e->at_us = node->pairs.minority_since_us;
		}
	} else if (a == PAIRWATCH_REACHED) {
		e = push(fx, EFFECT_REACHED);
		if (e) {
			e->value = (int)reached;
			e->value2 = (int)in->expected_votes;
		}
		if (node->fenced && !ev->ring_stalled) {
			if (!ev->ring_distrusted)
				node->fenced = 0;
			else
				arm_settle(node, now, fx);
		}
	}
}

/* A member vouches for a node out of its ring for 2 (T + C) at most; one whose
 * fomgr froze (or runs an older version that never says) would keep the groups of
 * a dead holder orphaned: after 3 (T + C) nobody waits any more. */
static void expire_lost(struct node *node, const struct node_links *l, uint64_t now, struct effects *fx)
{
	uint64_t limit = 3 * pairwatch_wait_us(l->info.token_ms, l->info.consensus_ms) / 2;

	for (size_t i = 0; i < node->view.n_nodes; i++) {
		uint32_t id = node->view.nodes[i].nodeid;
		uint64_t out = node->out_since_us[i];
		struct effect *e;
		int vouched;

		if (!out || now - out < limit)
			continue;
		vouched = view_vouched(&node->view, id, 0);
		if (!view_forget_lost(&node->view, id) || !vouched)
			continue;
		e = push(fx, EFFECT_LOST_FORGOTTEN);
		if (e) {
			e->peer = id;
			e->value = (int)((now - out) / 1000u);
		}
		node->event_us = now;
		recompute(node, now, fx);
	}
}

static void on_pair_tick(struct node *node, const struct node_event *ev, uint64_t now, struct effects *fx)
{
	struct pairwatch_input in;
	enum pairwatch_action a;
	uint32_t peer = 0;
	struct effect *e;

	pair_input(node, ev->links, &in);
	watch_isolation(node, ev, &in, now, fx);
	a = pairwatch_step(&node->pairs, &in, now, &peer);
	if (a == PAIRWATCH_WITHDRAW) {
		/* Withdrawing cuts us off: the peers' knet calls our links down within
		 * its ping timeout and the lost-holder wait ends there, while we would
		 * find out by isolation T / 2 later (the lab's five nodes cut off pair
		 * by pair: two holders for 0.3-0.6 s). A withdrawn node serves
		 * nothing: release first, and trust no quorum until a newer ring. */
		if (node->joined && !node->leaving)
			e = fence(node, TRANSITION_QUORUM, EFFECT_FENCE_WITHDRAW, now, fx);
		else
			e = push(fx, EFFECT_FENCE_WITHDRAW);
		if (e)
			e->peer = peer;
	} else if (a == PAIRWATCH_RETURN || a == PAIRWATCH_PROBE) {
		e = push(fx, EFFECT_FENCE_RETURN);
		if (e) {
			e->peer = peer;
			e->value = a == PAIRWATCH_PROBE;
		}
		/* Back in the ring: a withdrawal shorter than token + consensus leaves
		 * corosync's ring as it was, and no newer ring will end the distrust.
		 * The old ring's quorum, once it held (the settle wait), as after a
		 * stall; without it the node stayed fenced for good (simulator seeds
		 * 20266439, 20266937: its groups orphaned). */
		if (node->fenced && !node->pairs.isolated && !ev->ring_stalled)
			arm_settle(node, now, fx);
	}
	expire_lost(node, ev->links, now, fx);
}

/* How long we still vouch for a node after our link to it went down
 * (pairwatch_lost_link_grace_us): it finds itself isolated T / 2 after its own
 * knet called its links down and releases within a ring-watch period; the two
 * ends of a link may call it down a knet tick apart. Counted from the link, not
 * from the ring's leaving the node out: the last link may go down just before
 * that. Without it, the lost-holder wait ended as the last link to the holder
 * went down, T / 2 before the holder let go (the lab's five nodes cut off pair by
 * pair, and the simulator's --partial-mesh: two holders for 0.3-0.6 s). A dead
 * node's links go down token + consensus before the ring leaves it out, less
 * knet's ping timeout, and with the test and shipped profiles the grace ends
 * before that (720 of 920 ms, 1066 of 1200 ms), so its failover does not wait;
 * with a token below 600 and knet's 600 ms ping timeout it ends after the ring,
 * which the pair watch's bridge wait allows for. */
static uint64_t lost_link_grace_us(const struct membership_info *info)
{
	return pairwatch_lost_link_grace_us(info->token_ms, info->consensus_ms);
}

/* What our announce vouches for: the peers our knet links reach now or reached
 * within the grace above, less those out of our ring for 2 (T + C) (by then a
 * holder among them has found out and released: ring-stall, quorum, isolation),
 * so that a link that stays up to a node whose corosync went astray cannot keep
 * its groups orphaned for ever. The grace must stay shorter than T + C less the
 * ping timeout: a vouch that outlives a dead node's link past the ring's leaving
 * it out delays its failover (lab 02 in CI with a grace of one token, commit
 * 1271420, when the pair watch's bridge evidence also needed only one token and
 * read it as a bridge; it needs T + C now). */
static void update_reach(struct node *node, const struct node_links *l, uint64_t now, struct effects *fx)
{
	uint64_t vouch = pairwatch_wait_us(l->info.token_ms, l->info.consensus_ms), grace = lost_link_grace_us(&l->info);
	uint64_t ping = 1000ull * (l->info.knet_ping_timeout_ms ? l->info.knet_ping_timeout_ms
							       : (l->info.token_ms ? l->info.token_ms : 1000u) / 2);
	uint64_t next = 0; /* the first moment the answer changes with time alone */
	uint32_t reach[CONFIG_MAX_NODES];
	size_t n = 0;

	for (size_t i = 0; i < node->view.n_nodes; i++) {
		const struct view_node *v = &node->view.nodes[i];
		if (node->joined && v->up)
			node->out_since_us[i] = 0;
		else if (!node->out_since_us[i])
			node->out_since_us[i] = now ? now : 1;
	}
	for (size_t i = 0; i < l->n && n < CONFIG_MAX_NODES; i++) {
		struct view_node *v = view_node_by_id(&node->view, l->v[i].nodeid);
		uint64_t out, *down, ends = 0, ponged = 0;
		int reached;

		if (!v)
			continue;
		out = node->out_since_us[v - node->view.nodes];
		down = &node->link_down_us[v - node->view.nodes];
		if (l->v[i].connected)
			*down = 0;
		else if (!*down)
			*down = now ? now : 1;
		/* A pong while our knet calls the link down (a flapping link): the
		 * node heard us too and its knet may call its link up on it, though
		 * ours never did; it finds itself isolated only a ping timeout after
		 * its last pong. Without this the holder of a link down and up every
		 * ~450 ms kept its groups 631 ms after the others' wait had ended (the
		 * 200-round campaign, round 183, README). */
		if (!l->v[i].connected && l->v[i].ponged_us)
			ponged = l->v[i].ponged_us + ping + grace;
		reached = l->v[i].connected || (*down && now - *down < grace) || ponged > now;
		if (!reached || (out && now - out >= vouch))
			continue;
		reach[n++] = l->v[i].nodeid;
		if (!l->v[i].connected)
			ends = *down + grace > ponged ? *down + grace : ponged;
		if (out && (!ends || out + vouch < ends))
			ends = out + vouch;
		if (ends && (!next || ends < next))
			next = ends;
	}
	if (l != &node->reach_links)
		node->reach_links = *l;
	if (next != node->reach_timer_us) {
		if (next)
			arm(fx, NODE_TIMER_REACH, next);
		else
			cancel(fx, NODE_TIMER_REACH);
		node->reach_timer_us = next;
	}
	if (node->reach_known && n == node->n_reach && memcmp(reach, node->reach, n * sizeof(reach[0])) == 0)
		return;
	node->reach_known = 1;
	node->n_reach = n;
	memcpy(node->reach, reach, n * sizeof(reach[0]));
	announce(node, 0, now, fx);
}

static void on_ring_sample(struct node *node, const struct node_event *ev, uint64_t now, struct effects *fx)
{
	const struct node_links *l = ev->links;

	if (node->fenced)
		node->settle_quiet_us = settle_quiet(node, now);
	node->last_sample_us = now;
	node->info = l->info;
	update_reach(node, l, now, fx);
	if (l->corosync_version[0] && strcmp(l->corosync_version, node->corosync_version) != 0) {
		snprintf(node->corosync_version, sizeof(node->corosync_version), "%s", l->corosync_version);
		announce(node, 0, now, fx); /* the peers compare versions */
	}
}

/* A new admin state: the newest the cluster has, edited, one epoch on. It is
 * persisted before it is announced (NODE_EV_ADMIN_SAVED): the record of the
 * command survives us. */
static int request_admin(struct node *node, struct wire_admin *next, struct wire_admin_change *change,
			 struct effects *fx)
{
	struct effect *e;

	if (!node->joined || !node->view.quorate)
		return -ENOTCONN;
	if (node->pending || node->saving)
		return -EBUSY;
	next->epoch = view_admin(&node->view)->epoch + 1;
	if (next->epoch <= node->admin.epoch)
		next->epoch = node->admin.epoch + 1;
	next->origin = node->view.local_nodeid;
	change->epoch = next->epoch;
	change->origin = next->origin;
	copy_name(change->node, sizeof(change->node), node_name(node, next->origin));
	admin_log_change(next, change);
	node->saving = 1;
	node->request = *next;
	e = push(fx, EFFECT_PERSIST_ADMIN);
	if (e)
		e->value = 1;
	return 0;
}

static int group_index(const struct node *node, const char *group, const struct config_group **g)
{
	*g = config_group_find(node->config, group);
	return *g ? (int)(*g - node->config->groups) : -ENOENT;
}

int node_next_owner(const struct node *node, const char *group, char *out)
{
	const struct config_group *g;
	int idx = group_index(node, group, &g);
	uint32_t next;

	if (idx < 0)
		return idx;
	next = placement_next_owner(&node->view, g,
				    (size_t)idx < node->placement.n_groups ? node->placement.groups[idx].owner : 0);
	if (!next)
		return -EHOSTUNREACH;
	snprintf(out, CONFIG_NAME_MAX, "%s", node_name(node, next));
	return 0;
}

/* What an operator asks, and who, for the admin state's last changes. */
static void describe_change(const struct node_event *ev, const char *what, const char *target, const char *to,
			    struct wire_admin_change *c)
{
	size_t n = 0;

	memset(c, 0, sizeof(*c));
	snprintf(c->what, sizeof(c->what), "%s", what);
	snprintf(c->target, sizeof(c->target), "%s", target);
	snprintf(c->to, sizeof(c->to), "%s", to ? to : "");
	c->uid = ev->uid;
	for (const char *p = ev->user ? ev->user : ""; *p && n + 1 < sizeof(c->user); p++)
		c->user[n++] = *p >= 0x20 && *p <= 0x7e ? *p : '?';
	c->at_ms = ev->wall_ms;
}

static int on_admin(struct node *node, const struct node_event *ev, struct effects *fx)
{
	static struct wire_admin next;
	struct wire_admin_change change;
	const struct config_group *g;
	char target[CONFIG_NAME_MAX];
	const char *to = ev->node;
	int rc;

	next = *view_admin(&node->view);
	if (ev->admin == NODE_ADMIN_STANDBY) {
		if (!view_node_by_name(&node->view, ev->node))
			return -ENOENT;
		rc = admin_set_standby(&next, ev->node, ev->on);
		describe_change(ev, ev->on ? "standby" : "unstandby", ev->node, NULL, &change);
		return rc < 0 ? rc : request_admin(node, &next, &change, fx);
	}
	if (ev->admin == NODE_ADMIN_MAINTENANCE) {
		rc = admin_set_maintenance(&next, ev->on);
		/* the history's target is a name: on or off */
		describe_change(ev, "maintenance", ev->on ? "on" : "off", NULL, &change);
		return rc < 0 ? rc : request_admin(node, &next, &change, fx);
	}
	if (group_index(node, ev->group, &g) < 0)
		return -ENOENT;
	if (ev->admin == NODE_ADMIN_DISABLE) {
		rc = admin_set_disabled(&next, ev->group, ev->on);
		describe_change(ev, ev->on ? "disable" : "enable", ev->group, NULL, &change);
		return rc < 0 ? rc : request_admin(node, &next, &change, fx);
	}
	if (to && !*to) {
		rc = node_next_owner(node, ev->group, target);
		if (rc < 0)
			return rc;
		to = target;
	}
	if (to) {
		const struct view_node *n = view_node_by_name(&node->view, to);
		if (!n)
			return -ENOENT;
		if (!placement_eligible(&node->view, g, n) || wire_admin_disabled(&next, g->name))
			return -EHOSTUNREACH;
	}
	rc = admin_set_pin(&next, ev->group, to);
	describe_change(ev, to ? "pin" : "clear", ev->group, to, &change);
	return rc < 0 ? rc : request_admin(node, &next, &change, fx);
}

static void on_admin_saved(struct node *node, const struct node_event *ev, uint64_t now, struct effects *fx)
{
	if (!node->saving)
		return;
	node->saving = 0;
	fx->rc = ev->value;
	if (ev->value < 0)
		return;
	node->admin = node->request;
	node->pending = 1;
	node->pending_admin = node->request;
	announce(node, 0, now, fx);
}

static void on_config(struct node *node, const struct node_event *ev, uint64_t now, struct effects *fx)
{
	transition_set_config(&node->transition, ev->config, now, fx);
	tell_decision(node, 1, now, fx); /* no skip across a reload */
	memset(node->unowned, 0, sizeof(node->unowned));
	node->config = ev->config;
	memcpy(node->cluster_digest, ev->digest, sizeof(node->cluster_digest));
	node->event_us = now;
	recompute(node, now, fx);
}

static void on_shutdown(struct node *node, uint64_t now, struct effects *fx)
{
	if (node->leaving)
		return;
	node->leaving = 1;
	node->shutdown_wait = 1;
	release_all(node, TRANSITION_SHUTDOWN, now, fx);
}

static void on_timer(struct node *node, const struct node_event *ev, uint64_t now, struct effects *fx)
{
	struct effect *e;

	switch ((enum node_timer)ev->value) {
	case NODE_TIMER_FAILBACK:
		node->failback_at_us = 0;
		node->event_us = now;
		recompute(node, now, fx);
		break;
	case NODE_TIMER_SETTLE:
		on_settle(node, ev, now, fx);
		break;
	case NODE_TIMER_SHUTDOWN:
		e = push(fx, EFFECT_EXIT);
		if (e)
			e->value = 1;
		break;
	case NODE_TIMER_REACH:
		node->reach_timer_us = 0; /* armed only by update_reach, after a sample */
		update_reach(node, &node->reach_links, now, fx);
		break;
	default:
		break;
	}
}

/* The transition asked for announces as what we claim or hold changed. */
static void flush_changes(struct node *node, uint64_t now, struct effects *fx)
{
	while (node->transition.changed) {
		node->transition.changed = 0;
		announce(node, 0, now, fx);
	}
}

void node_step(struct node *node, const struct node_event *ev, uint64_t now, struct effects *fx)
{
	effects_clear(fx);
	node->noted = 0;
	node->wall_ms = ev->wall_ms;
	if (!node->started_ms)
		node->started_ms = ev->wall_ms;
	switch (ev->kind) {
	case NODE_EV_CONNECTED:
		on_connected(node, ev);
		break;
	case NODE_EV_LOST:
		on_lost(node, now, fx);
		break;
	case NODE_EV_TOTEM:
		on_totem(node, ev, now, fx);
		break;
	case NODE_EV_JOIN:
		on_join(node, ev, now, fx);
		break;
	case NODE_EV_LEAVE:
		on_leave(node, ev, now, fx);
		break;
	case NODE_EV_DELIVER:
		on_deliver(node, ev, now, fx);
		break;
	case NODE_EV_QUORUM:
		on_quorum(node, ev, now, fx);
		break;
	case NODE_EV_HEALTH:
		on_health(node, ev, now, fx);
		break;
	case NODE_EV_TIMER:
		on_timer(node, ev, now, fx);
		break;
	case NODE_EV_ADMIN:
		fx->rc = on_admin(node, ev, fx);
		break;
	case NODE_EV_ADMIN_SAVED:
		on_admin_saved(node, ev, now, fx);
		break;
	case NODE_EV_NETLINK:
		if (transition_done(&node->transition, ev->slot, ev->value, now, fx))
			released_for_shutdown(node, now, fx);
		break;
	case NODE_EV_PROBE:
		transition_probed(&node->transition, ev->slot, ev->value, now, fx);
		break;
	case NODE_EV_RING_STALL:
		on_ring_stall(node, ev, now, fx);
		break;
	case NODE_EV_RING_BACK:
		on_ring_back(node, ev, now, fx);
		break;
	case NODE_EV_RING_SAMPLE:
		on_ring_sample(node, ev, now, fx);
		break;
	case NODE_EV_PAIR_TICK:
		on_pair_tick(node, ev, now, fx);
		break;
	case NODE_EV_FENCE_FAILED:
		node->pairs.withdrawn_from = 0; /* tried again at the next tick */
		if (node->fenced && !node->pairs.isolated)
			arm_settle(node, now, fx); /* still in the ring: its quorum, once it held */
		break;
	case NODE_EV_NETSTATE:
		node->netstate = *ev->netstate;
		announce(node, 0, now, fx);
		break;
	case NODE_EV_CONFIG:
		on_config(node, ev, now, fx);
		break;
	case NODE_EV_ADOPT:
		fx->rc = transition_adopt(&node->transition, ev->group);
		break;
	case NODE_EV_SHUTDOWN:
		on_shutdown(node, now, fx);
		break;
	case NODE_EV_CONFLICT:
		fx->rc = transition_reannounce_group(&node->transition, ev->group, fx);
		break;
	case NODE_EV_ANNOUNCE_FAILED:
		node->have_sent = 0;
		node->announce_seq--;
		break;
	default:
		break;
	}
	note_transitions(node, now, fx);
	flush_changes(node, now, fx);
}

int node_explain(const struct node *node, const char *group, const char *name, char *out, size_t size)
{
	const struct config_group *g = node->config ? config_group_find(node->config, group) : NULL;
	size_t idx, used = 0;
	uint32_t owner;

	if (!g || (name && !view_node_by_name(&node->view, name)))
		return -ENOENT;
	if (wire_admin_disabled(view_admin(&node->view), g->name)) {
		snprintf(out, size, "group %s is disabled (fomctl group enable %s)", g->name, g->name);
		return 0;
	}
	if (name)
		return placement_explain(&node->view, g, view_node_by_name(&node->view, name), out, size);
	idx = (size_t)(g - node->config->groups);
	owner = idx < node->placement.n_groups ? node->placement.groups[idx].owner : 0;
	out[0] = '\0';
	for (size_t i = 0; i < node->view.n_nodes && used < size; i++) {
		const struct view_node *n = &node->view.nodes[i];
		char why[160];
		int r;

		if (n->nodeid == owner || placement_explain(&node->view, g, n, why, sizeof(why)))
			continue;
		r = snprintf(out + used, size - used, "%s%s", used ? "; " : "", why);
		used += r > 0 ? (size_t)r : 0;
	}
	return 0;
}

int node_group_holder(const struct node *node, const char *group, char *out)
{
	const struct view_node *me = view_local(&node->view);

	if (!config_group_find(node->config, group))
		return -ENOENT;
	out[0] = '\0';
	/* The kernel's truth for this node, the agreed view for the others. */
	if (me && transition_state_of(&node->transition, group) == TRANSITION_HELD) {
		snprintf(out, CONFIG_NAME_MAX, "%s", me->name);
		return 1;
	}
	for (size_t i = 0; i < node->view.n_nodes; i++) {
		const struct view_node *n = &node->view.nodes[i];
		if (n != me && n->up && n->has_state && wire_announce_up(&n->ann, group)) {
			snprintf(out, CONFIG_NAME_MAX, "%s", n->name);
			return 1;
		}
	}
	return 0;
}

uint64_t node_failback_left_ms(const struct node *node, size_t group, uint64_t now_us)
{
	uint64_t since, at;

	if (group >= node->config->n_groups || !(since = node->eligible_since_us[group]))
		return 0;
	at = since + (uint64_t)node->config->groups[group].failback_delay_ms * 1000u;
	return at > now_us ? (at - now_us + 999) / 1000 : 0;
}

int node_simulate(const struct node *node, const struct whatif *w, struct whatif_result *out)
{
	struct whatif_quorum q = {
		.expected_votes = node->info.expected_votes,
		.tie_breaker = node->info.two_node || node->info.has_qdevice,
	};

	if (!node->config)
		return -EAGAIN;
	return whatif_run(&node->view, node->config, &node->placement, &q, w, out);
}
