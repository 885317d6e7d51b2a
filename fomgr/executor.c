/* The executor (see executor.h). */
#include "executor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "admin.h"
#include "audit.h"
#include "audit_drift.h"
#include "effect.h"
#include "fence.h"
#include "fo/clock.h"
#include "fo/log.h"
#include "history.h"
#include "membership.h"
#include "node.h"
#include "placement.h"
#include "ringwatch.h"
#include "transition.h"
#include "vip.h"
#include "view.h"
#include "wire.h"

/* One group slot's work in the kernel: its address requests and its GARP burst. */
struct slot_work {
	struct executor *x;
	size_t slot;
	unsigned pending;
	int error;
	ev_timer garp;
	uint32_t garp_left;
};

struct executor {
	const struct executor_env *env;
	const struct executor_ops *ops;
	void *arg;
	struct slot_work slots[TRANSITION_SLOTS];
	ev_timer timers[NODE_TIMER_MAX];
	int closing; /* completions from vip.c change nothing */
	int record_failed; /* logged once per failure streak */
	int request_rc;    /* admin_save of an operator's request */
	executor_reply_fn done;
	void *done_arg;
	struct status_transition transitions[STATUS_MAX_TRANSITIONS];
	size_t n_transitions;
	uint64_t transition_seq;
	int withdraw_failed; /* logged once */
	uint64_t withdrawals;
	struct history *history; /* the cluster's, from the announces; NULL when out of memory */
};

static const char *name_of(const struct executor *x, uint32_t nodeid)
{
	return x->env->node ? node_name(x->env->node, nodeid) : "?";
}

static void feed_simple(struct executor *x, enum node_event_kind kind)
{
	struct node_event ev = {.kind = kind};

	x->ops->feed(x->arg, &ev);
}

int executor_record(struct executor *x, enum auditlog_type type, json_t *fields, uint64_t at_us)
{
	struct auditlog *log = x->env->auditlog;
	int rc = !log			 ? -ENOTCONN
		 : at_us == EXECUTOR_RECORD_NOW ? auditlog_append(log, type, fields)
						: auditlog_enqueue(log, type, fields, at_us);

	json_decref(fields);
	if (rc < 0 && !x->record_failed && log)
		log_err("audit log: a %s record could not be %s: %s", auditlog_type_str(type),
			at_us == EXECUTOR_RECORD_NOW ? "written" : "queued (so it is not written)", strerror(-rc));
	x->record_failed = rc < 0;
	return rc;
}

void executor_peer_state(struct executor *x, const struct view_node *n)
{
	struct netstate_peer_state peer;

	if (!x->env->audit || n->nodeid == x->env->node->view.local_nodeid)
		return;
	audit_drift_from_wire(n->name, &n->ann, &peer);
	audit_peer_state(x->env->audit, &peer);
}

/* ---- the executor: effects on the failover path ---- */

static void on_vip_done(void *arg, int error)
{
	struct slot_work *w = arg;
	struct node_event ev = {.kind = NODE_EV_NETLINK, .slot = w->slot};

	if (w->x->closing)
		return;
	if (error && !w->error)
		w->error = error;
	if (--w->pending)
		return;
	ev.value = w->error;
	w->x->ops->feed(w->x->arg, &ev);
}

static void run_addresses(struct executor *x, const struct effect *e)
{
	const struct config_group *g = transition_group(&x->env->node->transition, e->slot);
	struct slot_work *w = &x->slots[e->slot];
	int add = e->kind == EFFECT_ADDR_ADD;
	struct vip_addr a;

	if (!g)
		return;
	if (!add && x->env->audit)
		audit_before_release(x->env->audit, g->name);
	w->pending = 1; /* held until every request is out, so no early finish */
	w->error = 0;
	for (size_t i = 0; i < g->n_addrs; i++) {
		int rc;

		transition_group_addr(g, i, &a);
		w->pending++;
		rc = add ? vip_add(x->env->vip, &a, on_vip_done, w) : vip_del(x->env->vip, &a, on_vip_done, w);
		if (rc < 0)
			on_vip_done(w, rc);
	}
	on_vip_done(w, 0);
}

static void on_probe(void *arg, int result)
{
	struct slot_work *w = arg;
	struct node_event ev = {.kind = NODE_EV_PROBE, .slot = w->slot, .value = result};

	if (!w->x->closing)
		w->x->ops->feed(w->x->arg, &ev);
}

static void run_probe(struct executor *x, const struct effect *e)
{
	const struct config_group *g = transition_group(&x->env->node->transition, e->slot);
	struct vip_addr a;

	if (!g || !transition_first_v4(g, &a) ||
	    vip_probe_arp(x->env->vip, &a, x->env->config->arp_probe_ms, on_probe, &x->slots[e->slot]) < 0)
		on_probe(&x->slots[e->slot], -EIO);
}

static void on_garp(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct slot_work *w = t->data;
	struct executor *x = w->x;
	const struct config_group *g = transition_group(&x->env->node->transition, w->slot);
	struct vip_addr a;

	for (size_t i = 0; g && i < g->n_addrs; i++) {
		transition_group_addr(g, i, &a);
		if (vip_announce(x->env->vip, &a) == 0)
			transition_count_announce(&x->env->node->transition);
	}
	if (!g || --w->garp_left == 0)
		ev_timer_stop(loop, t);
}

static void start_garp(struct executor *x, size_t slot)
{
	struct slot_work *w = &x->slots[slot];
	double interval = x->env->config->garp_interval_ms / 1000.0;

	w->garp_left = x->env->config->garp_count;
	ev_timer_stop(x->env->loop, &w->garp);
	/* The first announcement goes out now, before the loop runs anything else
	 * (an audit, a hook): the client's neighbour cache is what the outage is. */
	on_garp(x->env->loop, &w->garp, 0);
	if (w->garp_left == 0)
		return;
	ev_timer_set(&w->garp, interval, interval);
	ev_timer_start(x->env->loop, &w->garp);
}

static void send_announce(struct executor *x)
{
	uint8_t buf[WIRE_MAX_SIZE];
	int len = wire_encode_announce(node_announce(x->env->node), buf, sizeof(buf)), rc;

	if (len < 0) {
		log_err("announce: cannot encode (%s)", strerror(-len));
		feed_simple(x, NODE_EV_ANNOUNCE_FAILED);
		return;
	}
	rc = membership_send(x->env->membership, buf, (size_t)len);
	if (rc < 0) {
		log_warn("announce: not sent (%s)", strerror(-rc));
		feed_simple(x, NODE_EV_ANNOUNCE_FAILED);
	}
}

static void arm_timer(struct executor *x, const struct effect *e)
{
	ev_timer *t = &x->timers[e->value];
	uint64_t now = clock_mono_us();
	double after = e->at_us > now ? (double)(e->at_us - now) / 1e6 : 0.;

	ev_timer_stop(x->env->loop, t);
	/* A failback timer fires just after the delay, so that it has elapsed. */
	ev_timer_set(t, after + (e->value == NODE_TIMER_FAILBACK ? 0.001 : 0.), 0.);
	ev_timer_start(x->env->loop, t);
}

static void withdraw(struct executor *x, uint32_t peer)
{
	const struct ringwatch_sample *s = x->env->sample;
	const char *keep[RINGWATCH_ADDRS];
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < s->n_links; i++)
		for (size_t k = 0; s->links[i].nodeid == peer && k < s->links[i].n_addrs && n < RINGWATCH_ADDRS; k++)
			keep[n++] = s->links[i].addrs[k];
	rc = fence_withdraw(s->knet_port, keep, n);
	if (rc < 0) {
		if (!x->withdraw_failed)
			log_err("bridge partition: cannot withdraw from the ring (%s): %s", strerror(-rc),
				rc == -EINVAL ? "the peer's ring addresses are not IP literals" : "nftables refused");
		x->withdraw_failed = 1;
		feed_simple(x, NODE_EV_FENCE_FAILED); /* tried again at the next tick */
		return;
	}
	x->withdraw_failed = 0;
	x->withdrawals++;
	log_event(LOG_LVL_WARN, LOG_MSGID_MEMBERSHIP,
		  "bridge partition: the link to %s is down while it stays in our ring and other peers are "
		  "reachable: withdrawing from the ring (the higher nodeid of a broken pair withdraws) until it "
		  "is back at_ms=%llu",
		  name_of(x, peer), (unsigned long long)clock_real_ms());
	executor_record(x, AUDITLOG_FINDING,
			json_pack("{s:s, s:s, s:s, s:s}", "subject", "bridge-partition", "severity", "warning", "peer",
				  name_of(x, peer), "action", "withdrawn from the ring"),
			clock_mono_us());
}

static void come_back(struct executor *x, uint32_t peer, int probe)
{
	int rc = fence_return();

	if (!probe)
		log_event(LOG_LVL_INFO, LOG_MSGID_MEMBERSHIP,
			  "bridge partition: the link to %s is up again: back in the ring%s at_ms=%llu",
			  name_of(x, peer), rc < 0 ? " (the fence could not be removed)" : "",
			  (unsigned long long)clock_real_ms());
	else
		log_event(LOG_LVL_WARN, LOG_MSGID_MEMBERSHIP,
			  "bridge partition: still no link to %s: back in the ring to look again (it may have "
			  "died meanwhile)%s at_ms=%llu",
			  name_of(x, peer), rc < 0 ? " (the fence could not be removed)" : "",
			  (unsigned long long)clock_real_ms());
	executor_record(x, AUDITLOG_FINDING,
			json_pack("{s:s, s:s, s:s, s:s}", "subject", "bridge-partition", "severity", "info", "peer",
				  name_of(x, peer), "action", "back in the ring"),
			clock_mono_us());
}

static void run_fast(struct executor *x, const struct effect *e)
{
	switch (e->kind) {
	case EFFECT_ADDR_ADD:
	case EFFECT_ADDR_DEL:
		run_addresses(x, e);
		break;
	case EFFECT_PROBE:
		run_probe(x, e);
		break;
	case EFFECT_GARP:
		start_garp(x, e->slot);
		break;
	case EFFECT_GARP_STOP:
		ev_timer_stop(x->env->loop, &x->slots[e->slot].garp);
		break;
	case EFFECT_REANNOUNCE:
		log_info("reannounce group=%s reason=%s", e->group, e->why);
		start_garp(x, e->slot);
		break;
	case EFFECT_ANNOUNCE:
		send_announce(x);
		break;
	case EFFECT_TIMER_ARM:
		arm_timer(x, e);
		break;
	case EFFECT_TIMER_CANCEL:
		ev_timer_stop(x->env->loop, &x->timers[e->value]);
		break;
	case EFFECT_RING_DISTRUST:
		membership_distrust_ring(x->env->membership);
		break;
	case EFFECT_RING_TRUST:
		membership_trust_ring(x->env->membership);
		break;
	case EFFECT_FENCE_WITHDRAW:
		withdraw(x, e->peer);
		break;
	case EFFECT_FENCE_RETURN:
		come_back(x, e->peer, e->value);
		break;
	default:
		break;
	}
}

/* ---- the executor: logs, records, disk and hooks, after the failover path ---- */

static void record_transition(struct executor *x, const struct effect *e)
{
	const struct effect_transition *et = &e->t;
	uint64_t now = clock_mono_us();
	/* Times are those of the kernel's answer: the record is written after the
	 * announce went out, and a peer may already be acting on it. */
	uint64_t done = et->done_us && et->done_us <= now ? et->done_us : now;
	uint64_t at_ms = clock_real_ms() - (now - done) / 1000;
	struct status_transition *t;

	if (et->error)
		log_event(LOG_LVL_ERR, LOG_MSGID_TRANSITION, "transition group=%s from=%s to=%s reason=%s failed: %s",
			  e->group, et->from, et->to, transition_reason_str(et->reason), strerror(-et->error));
	else
		log_event(LOG_LVL_INFO, LOG_MSGID_TRANSITION,
			  "transition group=%s from=%s to=%s reason=%s took_ms=%.1f netlink_ms=%.1f at_ms=%llu",
			  e->group, et->from, et->to, transition_reason_str(et->reason),
			  (done - et->since_us) / 1000.0, (done - et->started_us) / 1000.0, (unsigned long long)at_ms);
	if (x->n_transitions == STATUS_MAX_TRANSITIONS) {
		memmove(x->transitions, x->transitions + 1, sizeof(x->transitions[0]) * (STATUS_MAX_TRANSITIONS - 1));
		x->n_transitions--;
	}
	t = &x->transitions[x->n_transitions++];
	memset(t, 0, sizeof(*t));
	snprintf(t->group, sizeof(t->group), "%s", e->group);
	snprintf(t->from, sizeof(t->from), "%s", et->from);
	snprintf(t->to, sizeof(t->to), "%s", et->to);
	t->reason = (enum transition_reason)et->reason;
	t->acquired = et->acquired;
	t->error = et->error;
	t->took_ms = (done - et->since_us) / 1000.0;
	t->realtime_ms = at_ms;
	t->seq = ++x->transition_seq;
	executor_record(x, AUDITLOG_TRANSITION, status_transition_json(t), 0);
	if (et->acquired && !et->error && x->env->audit)
		audit_after_acquire(x->env->audit, e->group);
}

/* An announce was applied: what it brings to the cluster's history goes to the
 * listeners, in the agreed order (our own transitions too, once our announce
 * came back), so every node streams the same events. */
static void absorb_history(struct executor *x, const struct view_node *n)
{
	size_t added, count;

	if (!x->history)
		return;
	history_set_joined(x->history, x->env->node->joined_ms);
	added = history_absorb(x->history, n->name, n->nodeid, n->pid, &n->ann);
	count = history_count(x->history);
	for (size_t i = count - (added < count ? added : count); i < count; i++) {
		const struct history_entry *h = history_get(x->history, i);

		x->ops->emit(x->arg, h->kind == HISTORY_ADMIN ? "admin" : "transition", history_entry_json(h));
	}
}

static void record_quorum(struct executor *x, const struct effect *e)
{
	log_event(LOG_LVL_INFO, LOG_MSGID_QUORUM, "quorum: %s at_ms=%llu", e->value ? "quorate" : "NOT quorate",
		  (unsigned long long)clock_real_ms());
	executor_record(x, AUDITLOG_QUORUM, json_pack("{s:b, s:i}", "quorate", e->value, "members", e->value2),
			e->at_us);
}

static void record_ring_stall(struct executor *x, const struct effect *e)
{
	if (e->value2 < 0) {
		log_warn("ring-stall: corosync has not served this node for %u ms (not in the cluster: nothing to release)",
			 (unsigned)e->value);
		return;
	}
	log_event(LOG_LVL_WARN, LOG_MSGID_QUORUM,
		  "ring-stall: corosync has not served this node for %u ms (bound %u ms): released every group at_ms=%llu",
		  (unsigned)e->value, (unsigned)e->value2, (unsigned long long)clock_real_ms());
	executor_record(x, AUDITLOG_QUORUM, json_pack("{s:b, s:s, s:i, s:i}", "quorate", 0, "reason", "ring-stall",
					     "silent_ms", e->value, "bound_ms", e->value2),
	      e->at_us);
}

static void record_isolation(struct executor *x, const struct effect *e)
{
	uint64_t now = clock_mono_us();

	if (e->kind == EFFECT_REACHED) {
		log_info("isolated: corosync's links reach %d of %d expected votes again", e->value, e->value2);
		return;
	}
	log_event(LOG_LVL_WARN, LOG_MSGID_QUORUM,
		  "isolated: corosync's links reach %d of %d expected votes for %llu ms: released every "
		  "group before the others can form a ring without us at_ms=%llu",
		  e->value, e->value2, (unsigned long long)(now - e->at_us) / 1000u,
		  (unsigned long long)clock_real_ms());
	executor_record(x, AUDITLOG_QUORUM,
			json_pack("{s:b, s:s, s:i, s:i}", "quorate", 0, "reason", "isolated", "reached", e->value,
				  "expected_votes", e->value2),
			now);
}

static void record_membership(struct executor *x, const struct effect *e)
{
	const char *peer = name_of(x, e->peer);

	switch (e->value) {
	case 3:
		log_warn("membership: ignored a process that joined the group from %s (pid %u): not in the "
			 "nodelist, or that node's fomgr is already a member",
			 peer, (unsigned)e->pid);
		break;
	case 2:
		x->ops->joined(x->arg);
		log_info("membership: joined the group with %d member(s)", e->value2);
		break;
	case 1:
		log_event(LOG_LVL_INFO, LOG_MSGID_MEMBERSHIP, "membership: %s joined (pid %u)", peer, (unsigned)e->pid);
		executor_record(x, AUDITLOG_MEMBERSHIP,
		      json_pack("{s:s, s:s, s:i}", "change", "joined", "peer", peer, "pid", (int)e->pid), e->at_us);
		break;
	default:
		executor_record(x, AUDITLOG_MEMBERSHIP,
		      json_pack("{s:s, s:s, s:i, s:s}", "change", "left", "peer", peer, "pid", (int)e->pid,
				"why", e->value2 == VIEW_LEAVE_NODE ? "node down" : "process gone"),
		      e->at_us);
		if (x->env->audit && e->value2 == VIEW_LEAVE_NODE)
			audit_peer_gone(x->env->audit, peer);
		break;
	}
}

static void persist_admin(struct executor *x, const struct effect *e)
{
	const struct wire_admin *admin = e->value ? &x->env->node->request : &x->env->node->admin;
	int rc = admin_save(x->env->admin_path, admin);

	if (e->value) {
		x->request_rc = rc; /* answered to the operator at once */
		return;
	}
	if (rc < 0)
		log_err("admin state epoch %llu not persisted to %s: %s", (unsigned long long)admin->epoch,
			x->env->admin_path, strerror(-rc));
}

static void reply(struct executor *x, int rc)
{
	executor_reply_fn done = x->done;

	x->done = NULL;
	if (done)
		done(x->done_arg, rc);
}

static void run_slow(struct executor *x, const struct effect *e)
{
	const struct wire_admin *admin = &x->env->node->admin;

	switch (e->kind) {
	case EFFECT_TRANSITION:
		record_transition(x, e);
		break;
	case EFFECT_PLACEMENT:
		log_info("placement group=%s owner=%s holder=%s reason=%s epoch=%llu", e->group,
			 e->peer ? name_of(x, e->peer) : "none", e->value2 ? name_of(x, (uint32_t)e->value2) : "none",
			 placement_reason_str((enum placement_reason)e->value), (unsigned long long)e->at_us);
		break;
	case EFFECT_QUORUM:
		record_quorum(x, e);
		break;
	case EFFECT_RING_STALL:
		record_ring_stall(x, e);
		break;
	case EFFECT_ISOLATED:
	case EFFECT_REACHED:
		record_isolation(x, e);
		break;
	case EFFECT_LOST_FORGOTTEN:
		log_warn("lost-holder: %s has been out of the ring for %d ms while a member still vouched for "
			 "it: no longer waiting for it",
			 name_of(x, e->peer), e->value);
		break;
	case EFFECT_SETTLED:
		log_info("ring-stall: no new ring within %d ms of corosync answering again: the ring held, "
			 "following placement again",
			 e->value);
		break;
	case EFFECT_MEMBERSHIP:
		record_membership(x, e);
		break;
	case EFFECT_PEER_STATE: {
		const struct view_node *n = view_node_by_id(&x->env->node->view, e->peer);
		if (n) {
			executor_peer_state(x, n);
			absorb_history(x, n);
		}
		break;
	}
	case EFFECT_ADMIN_ADOPTED:
		log_info("admin state epoch %llu adopted (standby %zu node(s), %zu pin(s), %zu disabled group(s), "
			 "maintenance %s)",
			 (unsigned long long)admin->epoch, admin->n_standby, admin->n_pins, admin->n_disabled,
			 admin->maintenance ? "on" : "off");
		break;
	case EFFECT_PERSIST_ADMIN:
		persist_admin(x, e);
		break;
	case EFFECT_REPLY:
		reply(x, e->value);
		break;
	default:
		break;
	}
}

/* In a fixed order: the failover path (addresses, probes, bursts, announces,
 * timers, the ring's trust, the fence), then logs, records, disk and hooks, then
 * the exit of a shutdown. */
void executor_run(struct executor *x, const struct effects *fx)
{
	const struct effect *exit = NULL;

	if (fx->dropped)
		log_err("executor: %zu effect(s) dropped (too many in one step)", fx->dropped);
	for (size_t i = 0; i < fx->n; i++) {
		if (fx->v[i].kind == EFFECT_EXIT)
			exit = &fx->v[i];
		else if (effect_is_fast(fx->v[i].kind))
			run_fast(x, &fx->v[i]);
	}
	for (size_t i = 0; i < fx->n; i++)
		if (!effect_is_fast(fx->v[i].kind))
			run_slow(x, &fx->v[i]);
	if (!exit)
		return;
	if (exit->value)
		log_warn("shutdown: our last announce did not come back in time; leaving anyway");
	ev_break(x->env->loop, EVBREAK_ALL);
}

/* ---- life cycle and what the manager reads ---- */

static void on_node_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct executor *x = w->data;
	struct node_event ev = {.kind = NODE_EV_TIMER, .value = (int)(w - x->timers)};

	x->ops->feed(x->arg, &ev);
}

struct executor *executor_new(const struct executor_env *env, const struct executor_ops *ops, void *arg)
{
	struct executor *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->env = env;
	x->ops = ops;
	x->arg = arg;
	x->history = history_new(HISTORY_SIZE);
	if (!x->history)
		log_err("history: out of memory: events and fomctl history stay empty");
	for (size_t i = 0; i < NODE_TIMER_MAX; i++) {
		ev_timer_init(&x->timers[i], on_node_timer, 0., 0.);
		x->timers[i].data = x;
	}
	for (size_t i = 0; i < TRANSITION_SLOTS; i++) {
		x->slots[i] = (struct slot_work){.x = x, .slot = i};
		ev_timer_init(&x->slots[i].garp, on_garp, 0., 0.);
		x->slots[i].garp.data = &x->slots[i];
	}
	return x;
}

void executor_close(struct executor *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < NODE_TIMER_MAX; i++)
		ev_timer_stop(x->env->loop, &x->timers[i]);
	for (size_t i = 0; i < TRANSITION_SLOTS; i++)
		ev_timer_stop(x->env->loop, &x->slots[i].garp);
	x->closing = 1;
}

void executor_free(struct executor *x)
{
	executor_close(x);
	history_free(x->history);
	free(x);
}

void executor_request_begin(struct executor *x)
{
	x->request_rc = -EIO;
}

int executor_request_saved_rc(const struct executor *x)
{
	return x->request_rc;
}

void executor_reply_to(struct executor *x, executor_reply_fn done, void *arg)
{
	x->done = done;
	x->done_arg = arg;
}

const struct history *executor_history(const struct executor *x)
{
	return x->history;
}

const struct status_transition *executor_transitions(const struct executor *x, size_t *n)
{
	*n = x->n_transitions;
	return x->transitions;
}

uint64_t executor_withdrawals(const struct executor *x)
{
	return x->withdrawals;
}
