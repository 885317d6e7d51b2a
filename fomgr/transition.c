#include "transition.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The simulator's proof that it catches what it is for: built with this flag,
 * the core adds addresses without waiting for its claim to come back through the
 * agreed order or for another claimant's release (tests/sim, ctest sim.broken). */
#ifdef FO_SIM_BROKEN_CLAIM
#define CLAIM_ROUND 0
#else
#define CLAIM_ROUND 1
#endif

static const char *const reason_names[TRANSITION_REASON_MAX] = {
	"initial", "failover", "failback", "quorum", "shutdown", "standby", "health", "adopt", "reconcile",
	"switchover", "ring-stall", "merge", "disabled",
};
static const char *const state_names[TRANSITION_STATE_MAX] = {"idle", "acquiring", "held", "releasing"};

const char *transition_reason_str(enum transition_reason reason)
{
	return reason < TRANSITION_REASON_MAX ? reason_names[reason] : "invalid";
}

const char *transition_state_str(enum transition_state state)
{
	return state < TRANSITION_STATE_MAX ? state_names[state] : "invalid";
}

void transition_group_addr(const struct config_group *g, size_t i, struct vip_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = g->addrs[i].family;
	out->prefixlen = g->addrs[i].prefixlen;
	if (out->family == AF_INET)
		out->addr.v4 = g->addrs[i].addr.v4;
	else
		out->addr.v6 = g->addrs[i].addr.v6;
	snprintf(out->ifname, sizeof(out->ifname), "%s", g->interface);
}

int transition_first_v4(const struct config_group *g, struct vip_addr *out)
{
	for (size_t i = 0; i < g->n_addrs; i++) {
		if (g->addrs[i].family == AF_INET) {
			transition_group_addr(g, i, out);
			return 1;
		}
	}
	return 0;
}

static size_t slot_of(const struct transition *t, const struct transition_group *g)
{
	return (size_t)(g - t->groups);
}

static struct effect *push(struct transition *t, struct effects *fx, enum effect_kind kind,
			   const struct transition_group *g)
{
	struct effect *e = effects_push(fx, kind);

	if (e) {
		e->slot = slot_of(t, g);
		snprintf(e->group, sizeof(e->group), "%s", g->cfg.name);
	}
	return e;
}

static void step(struct transition *t, struct transition_group *g, uint64_t now_us, struct effects *fx);

/* One finished transition: the executor logs it (one line in a fixed format),
 * records it and runs the hooks. */
static void finished(struct transition *t, struct transition_group *g, int acquired, int error, uint64_t now_us,
		     struct effects *fx)
{
	struct effect *e = push(t, fx, EFFECT_TRANSITION, g);

	if (!error)
		t->stats.by_reason[g->reason]++;
	if (!e)
		return;
	e->t = (struct effect_transition){
		.reason = g->reason, .acquired = acquired, .error = error,
		.since_us = g->event_us ? g->event_us : g->started_us, .started_us = g->started_us,
		.done_us = now_us,
	};
	snprintf(e->t.from, sizeof(e->t.from), "%s", g->from);
	snprintf(e->t.to, sizeof(e->t.to), "%s", g->to);
}

static int all_idle(const struct transition *t)
{
	for (size_t i = 0; i < TRANSITION_SLOTS; i++)
		if (t->groups[i].used && t->groups[i].state != TRANSITION_IDLE)
			return 0;
	return 1;
}

/* Returns 1 when a release_all finished here. */
static int released_all(struct transition *t)
{
	if (!t->releasing_all || !all_idle(t))
		return 0;
	t->releasing_all = 0;
	return 1;
}

int transition_done(struct transition *t, size_t slot, int error, uint64_t now_us, struct effects *fx)
{
	struct transition_group *g = slot < TRANSITION_SLOTS ? &t->groups[slot] : NULL;

	if (!g || !g->used || !g->busy)
		return 0;
	g->busy = 0;
	if (g->state == TRANSITION_ACQUIRING) {
		finished(t, g, 1, error, now_us, fx);
		/* A half-added group still counts as held, so that it gets released. */
		g->state = TRANSITION_HELD;
		if (!error)
			push(t, fx, EFFECT_GARP, g);
	} else if (g->state == TRANSITION_RELEASING) {
		finished(t, g, 0, error, now_us, fx);
		g->state = error ? TRANSITION_HELD : TRANSITION_IDLE;
		if (g->removed && g->state == TRANSITION_IDLE)
			g->used = 0;
	}
	t->changed = 1;
	step(t, g, now_us, fx);
	return released_all(t);
}

static void issue(struct transition *t, struct transition_group *g, struct effects *fx)
{
	push(t, fx, g->state == TRANSITION_ACQUIRING ? EFFECT_ADDR_ADD : EFFECT_ADDR_DEL, g);
	g->busy = 1;
}

/* RFC 5227's probe on a graceful claim, sent as the addresses are added: the old
 * holder has released (it said so through the agreed order, after its kernel
 * acknowledged the delete), so anyone answering ARP for the address is a
 * stranger. Its answer starts our GARP / NA burst again, as a conflict does
 * (conflict.c keeps watching once the group is held), so that clients come back
 * to us; a stranger that holds the address is for the operator to remove. */
int transition_probed(struct transition *t, size_t slot, int result, uint64_t now_us, struct effects *fx)
{
	struct transition_group *g = slot < TRANSITION_SLOTS ? &t->groups[slot] : NULL;
	struct effect *e;

	(void)now_us;
	if (!g || !g->used || !g->probing)
		return 0;
	g->probing = 0;
	if (result == 1 && g->want && g->state != TRANSITION_IDLE) {
		e = push(t, fx, EFFECT_REANNOUNCE, g);
		if (e)
			e->why = "probe-answered";
	}
	return 0;
}

static int graceful(enum transition_reason reason)
{
	return reason == TRANSITION_SWITCHOVER || reason == TRANSITION_FAILBACK || reason == TRANSITION_STANDBY;
}

static void run_op(struct transition *t, struct transition_group *g, enum transition_state state, uint64_t now_us,
		   struct effects *fx)
{
	struct vip_addr a;

	g->state = state;
	g->started_us = now_us;
	if (state == TRANSITION_ACQUIRING && g->skip)
		t->stats.claims_skipped++;
	g->skip = 0;
	if (state == TRANSITION_RELEASING)
		push(t, fx, EFFECT_GARP_STOP, g);
	/* The probe goes out first (effects run in order), then the add. */
	if (state == TRANSITION_ACQUIRING && graceful(g->reason) && t->config && t->config->arp_probe_ms &&
	    transition_first_v4(&g->cfg, &a)) {
		g->probing = 1;
		push(t, fx, EFFECT_PROBE, g);
	}
	issue(t, g, fx);
}

/* Moves a group one step toward what it should be; nothing while a step runs. */
static void step(struct transition *t, struct transition_group *g, uint64_t now_us, struct effects *fx)
{
	if (g->busy)
		return;
	/* Addresses are added only once every node has seen our claim in the same
	 * place of the agreed order, so views never disagree on who holds what. */
	if (g->want && g->state == TRANSITION_IDLE && (g->claim_seen || g->skip || !CLAIM_ROUND))
		run_op(t, g, TRANSITION_ACQUIRING, now_us, fx);
	else if (!g->want && g->state == TRANSITION_HELD)
		run_op(t, g, TRANSITION_RELEASING, now_us, fx);
}

static struct transition_group *find(const struct transition *t, const char *name)
{
	for (size_t i = 0; i < TRANSITION_SLOTS; i++)
		if (t->groups[i].used && !t->groups[i].removed && strcmp(t->groups[i].cfg.name, name) == 0)
			return (struct transition_group *)&t->groups[i];
	return NULL;
}

static struct transition_group *slot_new(struct transition *t)
{
	for (size_t i = 0; i < TRANSITION_SLOTS; i++) {
		struct transition_group *g = &t->groups[i];
		if (!g->used) {
			memset(g, 0, sizeof(*g));
			g->used = 1;
			return g;
		}
	}
	return NULL;
}

static void add_groups(struct transition *t, const struct config *config)
{
	for (size_t i = 0; i < config->n_groups; i++) {
		struct transition_group *g = find(t, config->groups[i].name);
		if (!g)
			g = slot_new(t);
		if (g && !g->busy)
			g->cfg = config->groups[i];
		/* A group whose addresses change while held keeps the old ones until
		 * its next move; the reload path logs that. */
	}
}

void transition_init(struct transition *t, const struct config *config)
{
	memset(t, 0, sizeof(*t));
	t->config = config;
	add_groups(t, config);
}

void transition_set_config(struct transition *t, const struct config *config, uint64_t now_us, struct effects *fx)
{
	t->config = config;
	for (size_t i = 0; i < TRANSITION_SLOTS; i++) {
		struct transition_group *g = &t->groups[i];
		if (g->used && !g->removed && !config_group_find(config, g->cfg.name)) {
			g->removed = 1;
			g->want = 0;
			g->reason = TRANSITION_RECONCILE;
			step(t, g, now_us, fx);
			if (g->state == TRANSITION_IDLE && !g->busy)
				g->used = 0;
		}
	}
	add_groups(t, config);
}

int transition_adopt(struct transition *t, const char *group)
{
	struct transition_group *g = find(t, group);

	if (!g)
		return -ENOENT;
	g->state = TRANSITION_HELD;
	g->want = 1; /* until the cluster says otherwise */
	return 0;
}

static const char *node_name(const struct view *view, uint32_t nodeid)
{
	const struct view_node *n = nodeid ? view_node_by_id((struct view *)view, nodeid) : NULL;

	return n ? n->name : "none";
}

/* Someone else claims the group: wait for its release before adding. */
static int other_claims(const struct view *view, const char *group)
{
	for (size_t i = 0; i < view->n_nodes; i++) {
		const struct view_node *n = &view->nodes[i];
		if (n->nodeid != view->local_nodeid && n->up && n->has_state && wire_announce_holds(&n->ann, group))
			return 1;
	}
	return 0;
}

/* Another node every member presumed the owner (it may have added the addresses
 * without a claim round, and its announce saying so is on its way). */
static int presumed_elsewhere(const struct view *view, const struct transition_group *g)
{
	const struct view_node *n = g->presumed ? view_node_by_id((struct view *)view, g->presumed) : NULL;

	return n && n->nodeid != view->local_nodeid && n->up && n->member;
}

static int holder_in_standby(const struct view *view, uint32_t nodeid)
{
	const struct view_node *n = view_node_by_id((struct view *)view, nodeid);

	return n && wire_admin_standby(view_admin(view), n->name);
}

/* Why this node takes a group from `from` (0: nobody). A previous holder that is
 * still alive and eligible gave it up for a better placement, not a failure. */
static enum transition_reason acquire_reason(const struct view *view, const struct placement_group *pg,
					     const struct config_group *cfg, uint32_t from)
{
	const struct view_node *prev = from ? view_node_by_id((struct view *)view, from) : NULL;

	if (pg->reason == PLACEMENT_FAILBACK && from)
		return TRANSITION_FAILBACK;
	if (pg->reason == PLACEMENT_PINNED)
		return TRANSITION_SWITCHOVER;
	if (from && holder_in_standby(view, from))
		return TRANSITION_STANDBY;
	if (!from)
		return TRANSITION_INITIAL; /* nobody had the addresses up */
	if (prev && prev->member && placement_eligible(view, cfg, prev))
		return TRANSITION_FAILBACK;
	return TRANSITION_FAILOVER;
}

/* Another node has the group's addresses up in its kernel (not only claimed). */
static int other_up(const struct view *view, const char *group)
{
	for (size_t i = 0; i < view->n_nodes; i++) {
		const struct view_node *n = &view->nodes[i];
		if (n->nodeid != view->local_nodeid && n->up && n->has_state && wire_announce_up(&n->ann, group))
			return 1;
	}
	return 0;
}

static enum transition_reason why_release(const struct view *view, const struct placement_group *pg,
					  const struct config_group *cfg)
{
	const struct view_node *me = view_local(view);

	if (pg->reason == PLACEMENT_DISABLED)
		return TRANSITION_DISABLED;
	/* Two holders at once happen only when partitions merge (or a two-node
	 * cluster without a tie-breaker healed): a graceful move never has the
	 * other side's addresses up before we release. */
	if (pg->reason != PLACEMENT_NO_QUORUM && other_up(view, cfg->name))
		return TRANSITION_MERGE;
	if (pg->reason == PLACEMENT_NO_QUORUM)
		return TRANSITION_QUORUM;
	if (pg->reason == PLACEMENT_PINNED)
		return TRANSITION_SWITCHOVER;
	if (pg->reason == PLACEMENT_FAILBACK)
		return TRANSITION_FAILBACK;
	if (me && (me->ann.flags & WIRE_F_LEAVING))
		return TRANSITION_SHUTDOWN;
	if (me && wire_admin_standby(view_admin(view), me->name))
		return TRANSITION_STANDBY;
	if (me && !placement_eligible(view, cfg, me))
		return TRANSITION_HEALTH;
	return TRANSITION_FAILOVER;
}

/* Ours now: claim it, once whoever else claims it has let go. */
static void claim(struct transition *t, struct transition_group *g, const struct placement_group *pg,
		  const struct view *view, uint64_t event_us)
{
	/* A holder that went down took its announce with it: the one we saw last is
	 * where the group comes from. */
	uint32_t from = g->last_holder;
	enum transition_reason reason = acquire_reason(view, pg, &g->cfg, from);
	const struct view_node *me = view_local(view);

	if (CLAIM_ROUND && (other_claims(view, g->cfg.name) || presumed_elsewhere(view, g))) {
		if (!g->waiting) {
			g->waiting = 1;
			g->wait_reason = reason;
			g->wait_from = from;
			g->event_us = event_us;
		}
		return;
	}
	if (g->waiting) {
		reason = g->wait_reason;
		from = g->wait_from;
		g->waiting = 0;
	} else {
		g->event_us = event_us;
	}
	g->want = 1;
	g->reason = reason;
	/* Our claim is seen only in an announce of ours delivered after this one:
	 * the last one may be from before a partition (our release then never came
	 * back), and would let us add the addresses before the others saw the claim. */
	g->claim_after = me && me->has_state ? me->ann.seq : 0;
	g->claim_seen = 0;
	/* Its holder left the ring by node down and every member presumed us the
	 * owner at that agreed event: nobody else claims before the peers see an
	 * announce of ours claiming it or numbered presumed_until or later, and what
	 * we sent before this claim is numbered below that, so the claim round would
	 * tell us nothing
	 * (node.c, presume(); docs/security.md, "Skipping the claim round"). */
	g->skip = CLAIM_ROUND && g->presumed == view->local_nodeid && g->skip_ok && t->sent_seq < g->presumed_until &&
		  pg->reason == PLACEMENT_INITIAL && !pg->holder && !graceful(reason);
	g->last_holder = 0; /* ours now: whoever holds it next took it from us */
	snprintf(g->from, sizeof(g->from), "%s", node_name(view, from));
	snprintf(g->to, sizeof(g->to), "%s", node_name(view, view->local_nodeid));
	t->changed = 1; /* the claim goes out first */
}

static void apply_group(struct transition *t, struct transition_group *g, const struct placement_group *pg,
			const struct view *view, uint64_t event_us, uint64_t now_us, struct effects *fx)
{
	int mine = pg->owner == view->local_nodeid;
	const struct view_node *me = view_local(view);

	g->claim_seen = me && me->has_state && me->ann.seq > g->claim_after && wire_announce_holds(&me->ann, g->cfg.name);
	/* "from" names a node that had the addresses up, not one that only claimed. */
	if (pg->holder && pg->holder != view->local_nodeid) {
		const struct view_node *h = view_node_by_id((struct view *)view, pg->holder);
		if (h && h->has_state && wire_announce_up(&h->ann, g->cfg.name))
			g->last_holder = pg->holder;
	}
	if (pg->reason == PLACEMENT_UNSETTLED)
		return;
	if (!mine)
		g->waiting = 0;
	if (mine && !g->want) {
		claim(t, g, pg, view, event_us);
		if (!g->want)
			return;
	} else if (!mine && g->want) {
		g->want = 0;
		g->skip = 0;
		g->reason = why_release(view, pg, &g->cfg);
		snprintf(g->from, sizeof(g->from), "%s", node_name(view, view->local_nodeid));
		snprintf(g->to, sizeof(g->to), "%s", node_name(view, pg->owner));
		g->event_us = event_us;
		if (g->state == TRANSITION_IDLE)
			t->changed = 1; /* a claim withdrawn before it was acted on */
	}
	step(t, g, now_us, fx);
}

void transition_apply(struct transition *t, const struct placement *p, const struct view *view, uint64_t event_us,
		      uint64_t now_us, struct effects *fx)
{
	if (t->releasing_all || !t->config)
		return;
	snprintf(t->local_name, sizeof(t->local_name), "%s", node_name(view, view->local_nodeid));
	for (size_t i = 0; i < p->n_groups && i < t->config->n_groups; i++) {
		struct transition_group *g = find(t, t->config->groups[i].name);
		if (g)
			apply_group(t, g, &p->groups[i], view, event_us, now_us, fx);
	}
}

int transition_release_all(struct transition *t, enum transition_reason reason, uint64_t now_us,
			   struct effects *fx)
{
	t->releasing_all = 1;
	for (size_t i = 0; i < TRANSITION_SLOTS; i++) {
		struct transition_group *g = &t->groups[i];
		if (!g->used)
			continue;
		if (g->want) {
			g->want = 0;
			g->reason = reason;
			snprintf(g->from, sizeof(g->from), "%s", t->local_name[0] ? t->local_name : "local");
			snprintf(g->to, sizeof(g->to), "none");
			g->event_us = now_us;
		}
		step(t, g, now_us, fx);
	}
	return released_all(t);
}

int transition_releasing_all(const struct transition *t)
{
	return t->releasing_all;
}

int transition_reannounce(struct transition *t, const char *why, struct effects *fx)
{
	int n = 0;

	for (size_t i = 0; i < TRANSITION_SLOTS; i++) {
		struct transition_group *g = &t->groups[i];
		struct effect *e;

		if (!g->used || g->removed || g->state != TRANSITION_HELD || !g->want)
			continue;
		e = push(t, fx, EFFECT_REANNOUNCE, g);
		if (e)
			e->why = why;
		n++;
	}
	return n;
}

int transition_reannounce_group(struct transition *t, const char *group, struct effects *fx)
{
	struct transition_group *g = find(t, group);

	if (!g || g->state != TRANSITION_HELD)
		return -ENOENT;
	push(t, fx, EFFECT_GARP, g);
	return 0;
}

void transition_presume(struct transition *t, const char *group, uint32_t nodeid, uint64_t until_seq)
{
	struct transition_group *g = find(t, group);

	if (g) {
		g->presumed = nodeid;
		g->presumed_until = until_seq;
	}
}

void transition_allow_skip(struct transition *t, const char *group, int ok)
{
	struct transition_group *g = find(t, group);

	if (g)
		g->skip_ok = ok;
}

uint32_t transition_presumed(const struct transition *t, const char *group, uint64_t *until)
{
	const struct transition_group *g = find(t, group);

	if (until)
		*until = g ? g->presumed_until : 0;
	return g ? g->presumed : 0;
}

void transition_unpresume(struct transition *t, uint32_t nodeid, const struct wire_announce *a)
{
	for (size_t i = 0; i < TRANSITION_SLOTS; i++) {
		struct transition_group *g = &t->groups[i];
		if (!a || (g->presumed == nodeid &&
			   (a->seq >= g->presumed_until || wire_announce_holds(a, g->cfg.name))))
			g->presumed = 0;
	}
}

int transition_claims(const struct transition *t, const char *group)
{
	const struct transition_group *g = find(t, group);

	return g && (g->want || g->state != TRANSITION_IDLE);
}

enum transition_state transition_state_of(const struct transition *t, const char *group)
{
	const struct transition_group *g = find(t, group);

	return g ? g->state : TRANSITION_IDLE;
}

void transition_get_stats(const struct transition *t, struct transition_stats *stats)
{
	*stats = t->stats;
}

void transition_count_announce(struct transition *t)
{
	t->stats.announce_sent++;
}

const struct config_group *transition_group(const struct transition *t, size_t slot)
{
	return slot < TRANSITION_SLOTS && t->groups[slot].used ? &t->groups[slot].cfg : NULL;
}
