#include "transition.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fo/clock.h"
#include "fo/log.h"

#define TRANSITION_SLOTS (2 * CONFIG_MAX_GROUPS)

struct tgroup {
	struct transition *t;
	int used;
	int removed; /* gone from the config: release, then free the slot */
	struct config_group cfg;
	enum transition_state state;
	int want;
	enum transition_reason reason;
	char from[CONFIG_NAME_MAX], to[CONFIG_NAME_MAX];
	uint32_t last_holder; /* the last holder the view showed, for "from" and reasons */
	int claim_seen;       /* our claim came back through the agreed order */
	int probe_tries;
	int waiting;          /* ours, once the holder has released it */
	enum transition_reason wait_reason;
	uint32_t wait_from;
	unsigned pending;
	int op_error;
	uint64_t event_us, started_us;
	ev_timer garp;
	uint32_t garp_left;
};

struct transition {
	struct ev_loop *loop;
	struct vip *vip;
	const struct config *config;
	transition_changed_fn changed;
	void *arg;
	struct tgroup groups[TRANSITION_SLOTS];
	struct transition_stats stats;
	transition_released_fn released;
	void *released_arg;
	int releasing_all;
	char local_name[CONFIG_NAME_MAX];
	transition_event_fn event_fn;
	void *event_arg;
	transition_release_fn release_fn;
	void *release_arg;
	int closing; /* being freed: completions from vip.c change nothing */
};

static const char *const reason_names[TRANSITION_REASON_MAX] = {
	"initial", "failover", "failback", "quorum", "shutdown", "standby", "health", "adopt", "reconcile",
	"switchover", "ring-stall", "merge",
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

static void to_vip_addr(const struct config_group *g, size_t i, struct vip_addr *out)
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

static void step(struct tgroup *g);

static void on_garp(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct tgroup *g = w->data;
	struct vip_addr a;

	for (size_t i = 0; i < g->cfg.n_addrs; i++) {
		to_vip_addr(&g->cfg, i, &a);
		if (vip_announce(g->t->vip, &a) == 0)
			g->t->stats.announce_sent++;
	}
	if (--g->garp_left == 0)
		ev_timer_stop(loop, w);
}

static void start_garp(struct tgroup *g)
{
	const struct config *c = g->t->config;
	double interval = (c ? c->garp_interval_ms : 200) / 1000.0;

	g->garp_left = c ? c->garp_count : 5;
	ev_timer_stop(g->t->loop, &g->garp);
	/* The first announcement goes out now, before the loop runs anything else
	 * (an audit, a hook): the client's neighbour cache is what the outage is. */
	on_garp(g->t->loop, &g->garp, 0);
	if (g->garp_left == 0)
		return;
	ev_timer_set(&g->garp, interval, interval);
	ev_timer_start(g->t->loop, &g->garp);
}

static void log_transition(struct tgroup *g, int acquired)
{
	uint64_t now = clock_mono_us();
	uint64_t since = g->event_us ? g->event_us : g->started_us;

	if (g->op_error)
		log_event(LOG_LVL_ERR, LOG_MSGID_TRANSITION, "transition group=%s from=%s to=%s reason=%s failed: %s",
			  g->cfg.name, g->from, g->to,
			transition_reason_str(g->reason), strerror(-g->op_error));
	else
		log_event(LOG_LVL_INFO, LOG_MSGID_TRANSITION,
			  "transition group=%s from=%s to=%s reason=%s took_ms=%.1f netlink_ms=%.1f at_ms=%llu",
			 g->cfg.name, g->from, g->to, transition_reason_str(g->reason), (now - since) / 1000.0,
			 (now - g->started_us) / 1000.0, (unsigned long long)clock_real_ms());
	if (!g->op_error)
		g->t->stats.by_reason[g->reason]++;
	if (g->t->event_fn) {
		struct transition_event ev = {
			.group = g->cfg.name, .from = g->from, .to = g->to, .reason = g->reason,
			.acquired = acquired, .error = g->op_error, .took_ms = (now - since) / 1000.0,
			.realtime_ms = clock_real_ms(),
		};
		g->t->event_fn(g->t->event_arg, &ev);
	}
}

void transition_on_event(struct transition *t, transition_event_fn fn, void *arg)
{
	t->event_fn = fn;
	t->event_arg = arg;
}

void transition_on_release(struct transition *t, transition_release_fn fn, void *arg)
{
	t->release_fn = fn;
	t->release_arg = arg;
}

static void finish_op(struct tgroup *g)
{
	struct transition *t = g->t;

	if (g->state == TRANSITION_ACQUIRING) {
		log_transition(g, 1);
		/* A half-added group still counts as held, so that it gets released. */
		g->state = TRANSITION_HELD;
		if (!g->op_error)
			start_garp(g);
	} else if (g->state == TRANSITION_RELEASING) {
		log_transition(g, 0);
		g->state = g->op_error ? TRANSITION_HELD : TRANSITION_IDLE;
		if (g->removed && g->state == TRANSITION_IDLE)
			g->used = 0;
	}
	t->changed(t->arg);
	step(g);
	if (t->releasing_all) {
		for (size_t i = 0; i < TRANSITION_SLOTS; i++)
			if (t->groups[i].used && t->groups[i].state != TRANSITION_IDLE)
				return;
		t->releasing_all = 0;
		if (t->released)
			t->released(t->released_arg);
	}
}

static void on_vip_done(void *arg, int error)
{
	struct tgroup *g = arg;

	if (g->t->closing)
		return;
	if (error && !g->op_error)
		g->op_error = error;
	if (--g->pending == 0)
		finish_op(g);
}

static void issue_requests(struct tgroup *g, enum transition_state state)
{
	struct vip_addr a;

	g->pending = 1; /* held until every request is out, so no early finish */
	for (size_t i = 0; i < g->cfg.n_addrs; i++) {
		int rc;

		to_vip_addr(&g->cfg, i, &a);
		g->pending++;
		rc = state == TRANSITION_ACQUIRING ? vip_add(g->t->vip, &a, on_vip_done, g)
						   : vip_del(g->t->vip, &a, on_vip_done, g);
		if (rc < 0)
			on_vip_done(g, rc);
	}
	on_vip_done(g, 0);
}

#define PROBE_TRIES 3

static int first_v4(const struct config_group *cfg, struct vip_addr *out)
{
	for (size_t i = 0; i < cfg->n_addrs; i++) {
		if (cfg->addrs[i].family == AF_INET) {
			to_vip_addr(cfg, i, out);
			return 1;
		}
	}
	return 0;
}

static void start_probe(struct tgroup *g);

/* RFC 5227 before a graceful claim: the old holder has released (it said so
 * through the agreed order), so anyone still answering ARP for the address is
 * a stray; wait for it a little, then claim anyway and say so. */
static void on_probe(void *arg, int result)
{
	struct tgroup *g = arg;

	if (g->t->closing)
		return;
	if (result == 1 && ++g->probe_tries < PROBE_TRIES) {
		start_probe(g);
		return;
	}
	if (result == 1)
		log_warn("transition group=%s: someone still answers ARP for its address after %d probes: "
			 "claiming it anyway",
			 g->cfg.name, PROBE_TRIES);
	issue_requests(g, TRANSITION_ACQUIRING);
}

static void start_probe(struct tgroup *g)
{
	struct vip_addr a;

	first_v4(&g->cfg, &a);
	if (vip_probe_arp(g->t->vip, &a, g->t->config->arp_probe_ms, on_probe, g) < 0)
		issue_requests(g, TRANSITION_ACQUIRING);
}

static int graceful(enum transition_reason reason)
{
	return reason == TRANSITION_SWITCHOVER || reason == TRANSITION_FAILBACK || reason == TRANSITION_STANDBY;
}

static void run_op(struct tgroup *g, enum transition_state state)
{
	struct vip_addr a;

	g->state = state;
	g->op_error = 0;
	g->started_us = clock_mono_us();
	if (state == TRANSITION_RELEASING) {
		ev_timer_stop(g->t->loop, &g->garp);
		if (g->t->release_fn)
			g->t->release_fn(g->t->release_arg, g->cfg.name);
	}
	if (state == TRANSITION_ACQUIRING && graceful(g->reason) && g->t->config && g->t->config->arp_probe_ms &&
	    first_v4(&g->cfg, &a)) {
		g->pending = 1; /* the probe is a step in progress */
		g->probe_tries = 0;
		start_probe(g);
		return;
	}
	issue_requests(g, state);
}

/* Moves a group one step toward what it should be; nothing while a step runs. */
static void step(struct tgroup *g)
{
	if (g->pending)
		return;
	/* Addresses are added only once every node has seen our claim in the same
	 * place of the agreed order, so views never disagree on who holds what. */
	if (g->want && g->state == TRANSITION_IDLE && g->claim_seen)
		run_op(g, TRANSITION_ACQUIRING);
	else if (!g->want && g->state == TRANSITION_HELD)
		run_op(g, TRANSITION_RELEASING);
}

static struct tgroup *find(const struct transition *t, const char *name)
{
	for (size_t i = 0; i < TRANSITION_SLOTS; i++)
		if (t->groups[i].used && !t->groups[i].removed && strcmp(t->groups[i].cfg.name, name) == 0)
			return (struct tgroup *)&t->groups[i];
	return NULL;
}

static struct tgroup *slot_new(struct transition *t)
{
	for (size_t i = 0; i < TRANSITION_SLOTS; i++) {
		struct tgroup *g = &t->groups[i];
		if (!g->used) {
			ev_timer_stop(t->loop, &g->garp);
			memset(g, 0, sizeof(*g));
			g->t = t;
			g->used = 1;
			ev_timer_init(&g->garp, on_garp, 0., 0.);
			g->garp.data = g;
			return g;
		}
	}
	return NULL;
}

void transition_set_config(struct transition *t, const struct config *config)
{
	t->config = config;
	for (size_t i = 0; i < TRANSITION_SLOTS; i++) {
		struct tgroup *g = &t->groups[i];
		if (g->used && !g->removed && !config_group_find(config, g->cfg.name)) {
			g->removed = 1;
			g->want = 0;
			g->reason = TRANSITION_RECONCILE;
			step(g);
			if (g->state == TRANSITION_IDLE && !g->pending)
				g->used = 0;
		}
	}
	for (size_t i = 0; i < config->n_groups; i++) {
		struct tgroup *g = find(t, config->groups[i].name);
		if (!g)
			g = slot_new(t);
		if (g && !g->pending)
			g->cfg = config->groups[i];
		/* A group whose addresses change while held keeps the old ones until
		 * its next move; the reload path logs that. */
	}
}

struct transition *transition_new(struct ev_loop *loop, struct vip *vip, const struct config *config,
				  transition_changed_fn changed, void *arg)
{
	struct transition *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->loop = loop;
	t->vip = vip;
	t->changed = changed;
	t->arg = arg;
	transition_set_config(t, config);
	return t;
}

void transition_close(struct transition *t)
{
	if (t)
		t->closing = 1;
}

void transition_free(struct transition *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < TRANSITION_SLOTS; i++)
		ev_timer_stop(t->loop, &t->groups[i].garp);
	free(t);
}

int transition_reconcile(struct transition *t)
{
	struct vip_addr labelled[64], a;
	int n = vip_list_labelled(t->vip, labelled, 64);

	for (size_t i = 0; i < TRANSITION_SLOTS; i++) {
		struct tgroup *g = &t->groups[i];
		int present = 0;

		if (!g->used)
			continue;
		for (size_t j = 0; j < g->cfg.n_addrs; j++) {
			to_vip_addr(&g->cfg, j, &a);
			present |= vip_present(t->vip, &a) == 1;
		}
		if (present) {
			g->state = TRANSITION_HELD;
			g->want = 1; /* until the cluster says otherwise */
			log_info("reconcile group=%s: addresses found in the kernel, adopted", g->cfg.name);
		}
	}
	for (int i = 0; i < n && i < 64; i++) {
		int known = 0;
		char buf[VIP_ADDR_STR_MAX];

		for (size_t k = 0; k < TRANSITION_SLOTS && !known; k++) {
			struct tgroup *g = &t->groups[k];
			for (size_t j = 0; g->used && j < g->cfg.n_addrs && !known; j++) {
				to_vip_addr(&g->cfg, j, &a);
				known = a.addr.v4.s_addr == labelled[i].addr.v4.s_addr &&
					strcmp(a.ifname, labelled[i].ifname) == 0;
			}
		}
		if (!known) {
			log_info("reconcile: removing %s, labelled as fomgr's but in no group",
				 vip_addr_str(&labelled[i], buf, sizeof(buf)));
			vip_del(t->vip, &labelled[i], NULL, NULL);
		}
	}
	return n < 0 ? n : 0;
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

static void apply_group(struct tgroup *g, const struct placement_group *pg, const struct view *view,
			uint64_t event_us)
{
	int mine = pg->owner == view->local_nodeid;

	const struct view_node *me = view_local(view);
	uint32_t from;

	g->claim_seen = me && me->has_state && wire_announce_holds(&me->ann, g->cfg.name);
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
		enum transition_reason reason;

		/* A holder that went down took its announce with it: the one we saw last
		 * is where the group comes from. */
		from = g->last_holder;
		reason = acquire_reason(view, pg, &g->cfg, from);
		if (other_claims(view, g->cfg.name)) {
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
		g->last_holder = 0; /* ours now: whoever holds it next took it from us */
		snprintf(g->from, sizeof(g->from), "%s", node_name(view, from));
		snprintf(g->to, sizeof(g->to), "%s", node_name(view, view->local_nodeid));
		g->t->changed(g->t->arg); /* the claim goes out first */
	} else if (!mine && g->want) {
		g->want = 0;
		g->reason = why_release(view, pg, &g->cfg);
		snprintf(g->from, sizeof(g->from), "%s", node_name(view, view->local_nodeid));
		snprintf(g->to, sizeof(g->to), "%s", node_name(view, pg->owner));
		g->event_us = event_us;
		if (g->state == TRANSITION_IDLE)
			g->t->changed(g->t->arg); /* a claim withdrawn before it was acted on */
	}
	step(g);
}

void transition_apply(struct transition *t, const struct placement *p, const struct view *view, uint64_t event_us)
{
	if (t->releasing_all || !t->config)
		return;
	snprintf(t->local_name, sizeof(t->local_name), "%s", node_name(view, view->local_nodeid));
	for (size_t i = 0; i < p->n_groups && i < t->config->n_groups; i++) {
		struct tgroup *g = find(t, t->config->groups[i].name);
		if (g)
			apply_group(g, &p->groups[i], view, event_us);
	}
}

void transition_release_all(struct transition *t, enum transition_reason reason, transition_released_fn done,
			    void *arg)
{
	int busy = 0;

	t->releasing_all = 1;
	t->released = done;
	t->released_arg = arg;
	for (size_t i = 0; i < TRANSITION_SLOTS; i++) {
		struct tgroup *g = &t->groups[i];
		if (!g->used)
			continue;
		if (g->want) {
			g->want = 0;
			g->reason = reason;
			snprintf(g->from, sizeof(g->from), "%s", t->local_name[0] ? t->local_name : "local");
			snprintf(g->to, sizeof(g->to), "none");
			g->event_us = clock_mono_us();
		}
		step(g);
		busy |= g->state != TRANSITION_IDLE;
	}
	if (!busy) {
		t->releasing_all = 0;
		if (done)
			done(arg);
	}
}

int transition_reannounce(struct transition *t, const char *why)
{
	int n = 0;

	for (size_t i = 0; i < TRANSITION_SLOTS; i++) {
		struct tgroup *g = &t->groups[i];
		if (!g->used || g->removed || g->state != TRANSITION_HELD || !g->want)
			continue;
		log_info("reannounce group=%s reason=%s", g->cfg.name, why);
		start_garp(g);
		n++;
	}
	return n;
}

int transition_claims(const struct transition *t, const char *group)
{
	const struct tgroup *g = find(t, group);

	return g && (g->want || g->state != TRANSITION_IDLE);
}

enum transition_state transition_state_of(const struct transition *t, const char *group)
{
	const struct tgroup *g = find(t, group);

	return g ? g->state : TRANSITION_IDLE;
}

void transition_get_stats(const struct transition *t, struct transition_stats *stats)
{
	*stats = t->stats;
}

int transition_reannounce_group(struct transition *t, const char *group)
{
	struct tgroup *g = find(t, group);

	if (!g || g->state != TRANSITION_HELD)
		return -ENOENT;
	start_garp(g);
	return 0;
}

void transition_group_addr(const struct config_group *g, size_t i, struct vip_addr *out)
{
	to_vip_addr(g, i, out);
}
