#include "manager.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "audit.h"
#include "auditlog.h"
#include "config.h"
#include "conflict.h"
#include "fo/clock.h"
#include "fo/log.h"
#include "health.h"
#include "membership.h"
#include "netstate.h"
#include "pairwatch.h"
#include "fence.h"
#include "placement.h"
#include "qdevice.h"
#include "ringwatch.h"
#include "status.h"
#include "transition.h"
#include "vip.h"
#include "view.h"
#include "wire.h"

#define SHUTDOWN_WAIT 1.0 /* at most this long for our last announce to go round */
#define MAX_LISTENERS 16

struct listener {
	manager_event_fn fn;
	void *arg;
};

/* An operator's change of the admin state, acknowledged once the cluster has it. */
struct pending_admin {
	int active;
	struct wire_admin admin;
	manager_done_fn done;
	void *arg;
};

struct manager {
	struct ev_loop *loop;
	char config_path[4096];
	struct config *config;
	struct config_nodelist nodes;
	struct view view;
	struct membership *membership;
	struct health *health;
	struct vip *vip;
	struct transition *transition;
	ev_timer nodelist_retry, failback_timer, shutdown_timer;
	uint64_t announce_seq;
	struct wire_announce last_sent;
	int have_sent;
	int leaving;
	struct wire_admin admin; /* the copy this node carries and persists */
	uint8_t cluster_digest[32]; /* of m->config, computed when it is loaded */
	char admin_path[4200];
	struct pending_admin pending;
	struct listener listeners[MAX_LISTENERS];
	struct status_transition transitions[STATUS_MAX_TRANSITIONS];
	size_t n_transitions;
	uint64_t transition_seq;
	struct membership_info info;
	struct placement placement;
	struct auditlog *auditlog;
	struct audit *audit;
	int audit_started;
	ev_timer reannounce; /* the audit's digests change on its own schedule */
	struct ringwatch *ringwatch; /* is our corosync still serving us? */
	ev_timer settle;             /* after a stall: how long a ring that held is awaited */
	int fenced;                  /* released everything for a ring stall, not back yet */
	struct pairwatch pairs;      /* bridge partitions: whether we withdrew from the ring */
	struct qdevice_watch qdevice; /* the quorum device, as the ring watch reads it */
	int withdraw_failed;         /* logged once */
	ev_timer pair_tick;          /* the pair watch while corosync is silent */
	uint64_t ring_stalls, withdrawals, isolations;
	/* What our knet links reach, as our announce vouches (WIRE_F_REACH), and
	 * since when each node of the view has been out of our ring. */
	int reach_known;
	size_t n_reach;
	uint32_t reach[CONFIG_MAX_NODES];
	uint64_t out_since_us[CONFIG_MAX_NODES];
	uint8_t corosync_digest[32];
	char corosync_version[WIRE_VERSION_STR_MAX];
	ev_timer audit_start;
	int audit_failed; /* logged once per failure streak */
	uint64_t eligible_since_us[CONFIG_MAX_GROUPS];
	uint32_t last_owner[CONFIG_MAX_GROUPS];
	uint64_t event_us;
	uint64_t refused_messages;
	int joined;
	struct conflict *conflict; /* NULL when it could not start (no CAP_NET_RAW) */
	manager_status_fn status_extra; /* the operators' modules add to the document */
	void *status_extra_arg;
};

static void recompute(struct manager *m);

static const char *name_of(struct manager *m, uint32_t nodeid)
{
	struct view_node *n = view_node_by_id(&m->view, nodeid);

	return n ? n->name : "?";
}


/* at_us for audit(): the record is written before audit() returns. */
#define AUDIT_NOW UINT64_MAX

/* One audit record; fields is consumed. The failover path's records (at_us: the
 * monotonic time of their event, 0 for now) are queued, to be written once the
 * event has been handled: nothing on that path waits for the disk. Start, stop
 * and configuration records (AUDIT_NOW) are written before the change is carried
 * out. A record that cannot be written or queued is logged (once per streak):
 * the daemon carries on. */
static int audit(struct manager *m, enum auditlog_type type, json_t *fields, uint64_t at_us)
{
	int rc = !m->auditlog	    ? -ENOTCONN
		 : at_us == AUDIT_NOW ? auditlog_append(m->auditlog, type, fields)
				      : auditlog_enqueue(m->auditlog, type, fields, at_us);

	json_decref(fields);
	if (rc < 0 && !m->audit_failed && m->auditlog)
		log_err("audit log: a %s record could not be %s: %s", auditlog_type_str(type),
			at_us == AUDIT_NOW ? "written" : "queued (so it is not written)", strerror(-rc));
	m->audit_failed = rc < 0;
	return rc;
}

static void hex32(const uint8_t *digest, char *out)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", digest[i]);
}

static void fill_netstate(struct manager *m, struct wire_netstate *n)
{
	struct netstate_peer_state mine;

	memset(n, 0, sizeof(*n));
	memcpy(n->corosync_conf, m->corosync_digest, sizeof(n->corosync_conf));
	snprintf(n->corosync_version, sizeof(n->corosync_version), "%s", m->corosync_version);
	if (!m->audit)
		return;
	audit_local_state(m->audit, &mine);
	memcpy(n->firewall, mine.digests.firewall, sizeof(n->firewall));
	memcpy(n->routes, mine.digests.routes, sizeof(n->routes));
	snprintf(n->kernel_version, sizeof(n->kernel_version), "%s", mine.kernel_version);
	n->n_fw = mine.n_fw < WIRE_MAX_FW_LINES ? mine.n_fw : WIRE_MAX_FW_LINES;
	memcpy(n->fw, mine.fw, n->n_fw * sizeof(n->fw[0]));
}

/* A peer's announce, as the audit compares it with ours (drift, versions). */
static void audit_peer(struct manager *m, const struct view_node *n)
{
	struct netstate_peer_state peer;
	const struct wire_netstate *ns = &n->ann.netstate;

	if (!m->audit || n->nodeid == m->view.local_nodeid)
		return;
	memset(&peer, 0, sizeof(peer));
	snprintf(peer.node, sizeof(peer.node), "%s", n->name);
	memcpy(peer.digests.firewall, ns->firewall, sizeof(peer.digests.firewall));
	memcpy(peer.digests.routes, ns->routes, sizeof(peer.digests.routes));
	memcpy(peer.config_digest, n->ann.config_digest, sizeof(peer.config_digest));
	memcpy(peer.corosync_digest, ns->corosync_conf, sizeof(peer.corosync_digest));
	snprintf(peer.fomgr_version, sizeof(peer.fomgr_version), "%s", n->ann.version);
	snprintf(peer.corosync_version, sizeof(peer.corosync_version), "%s", ns->corosync_version);
	snprintf(peer.kernel_version, sizeof(peer.kernel_version), "%s", ns->kernel_version);
	peer.n_fw = ns->n_fw < NETSTATE_MAX_FW_LINES ? ns->n_fw : NETSTATE_MAX_FW_LINES;
	memcpy(peer.fw, ns->fw, peer.n_fw * sizeof(peer.fw[0]));
	audit_peer_state(m->audit, &peer);
}

/* What this node tells the cluster about itself. */
static void build_announce(struct manager *m, struct wire_announce *a)
{
	uint64_t now = clock_mono_us();

	memset(a, 0, sizeof(*a));
	a->flags = (m->leaving ? WIRE_F_LEAVING : 0) | (health_stale(m->health) ? WIRE_F_HEALTH_STALE : 0) |
		   (m->info.two_node && !m->info.has_qdevice ? WIRE_F_SPLIT_RISK : 0);
	a->admin = m->admin;
	if (m->reach_known) {
		a->flags |= WIRE_F_REACH;
		a->n_reach = m->n_reach;
		memcpy(a->reach, m->reach, m->n_reach * sizeof(m->reach[0]));
	}
	fill_netstate(m, &a->netstate);
	memcpy(a->config_digest, m->cluster_digest, sizeof(a->config_digest));
	snprintf(a->version, sizeof(a->version), "%s", FO_VERSION);
	for (size_t i = 0; i < m->config->n_groups; i++) {
		const struct config_group *g = &m->config->groups[i];

		if (transition_claims(m->transition, g->name))
			strcpy(a->held[a->n_held++], g->name);
		if (transition_state_of(m->transition, g->name) == TRANSITION_HELD)
			strcpy(a->up[a->n_up++], g->name);
		if (m->eligible_since_us[i] && now - m->eligible_since_us[i] >= (uint64_t)g->failback_delay_ms * 1000u)
			strcpy(a->failback_ready[a->n_ready++], g->name);
		for (size_t c = 0; c < g->n_checks; c++) {
			int dup = 0;
			for (size_t k = 0; k < a->n_checks; k++)
				dup |= strcmp(a->checks[k].name, g->checks[c]) == 0;
			if (dup || a->n_checks >= WIRE_MAX_CHECKS)
				continue;
			strcpy(a->checks[a->n_checks].name, g->checks[c]);
			a->checks[a->n_checks++].state = (uint8_t)health_check_state(m->health, g->checks[c]);
		}
	}
	/* Policy "fail": a silent agent's checks count as unknown, so groups move. */
	if (health_stale(m->health) && m->config->health_policy == CONFIG_HEALTH_FAIL)
		for (size_t k = 0; k < a->n_checks; k++)
			a->checks[k].state = WIRE_CHECK_UNKNOWN;
}

static void announce(struct manager *m, int force)
{
	struct wire_announce a;
	uint8_t buf[WIRE_MAX_SIZE];
	int len, rc;

	if (!m->joined)
		return;
	build_announce(m, &a);
	a.seq = m->announce_seq + 1;
	if (!force && m->have_sent) {
		m->last_sent.seq = a.seq;
		if (memcmp(&m->last_sent, &a, sizeof(a)) == 0)
			return;
	}
	len = wire_encode_announce(&a, buf, sizeof(buf));
	if (len < 0) {
		log_err("announce: cannot encode (%s)", strerror(-len));
		return;
	}
	rc = membership_send(m->membership, buf, (size_t)len);
	if (rc < 0) {
		log_warn("announce: not sent (%s)", strerror(-rc));
		return;
	}
	m->announce_seq = a.seq;
	m->last_sent = a;
	m->have_sent = 1;
}

static void schedule_failback_timer(struct manager *m, uint64_t now)
{
	uint64_t next = 0;

	for (size_t i = 0; i < m->config->n_groups; i++) {
		uint64_t since = m->eligible_since_us[i];
		uint64_t at = since + (uint64_t)m->config->groups[i].failback_delay_ms * 1000u;
		if (since && at > now && (!next || at < next))
			next = at;
	}
	ev_timer_stop(m->loop, &m->failback_timer);
	if (next) {
		ev_timer_set(&m->failback_timer, (double)(next - now) / 1e6 + 0.001, 0.);
		ev_timer_start(m->loop, &m->failback_timer);
	}
}

/* Tracks since when this node is eligible for each group, for failback_delay. */
static void track_eligibility(struct manager *m)
{
	const struct view_node *me = view_local(&m->view);
	uint64_t now = clock_mono_us();

	for (size_t i = 0; i < m->config->n_groups; i++) {
		int ok = me && placement_eligible(&m->view, &m->config->groups[i], me);
		if (!ok)
			m->eligible_since_us[i] = 0;
		else if (!m->eligible_since_us[i])
			m->eligible_since_us[i] = now;
	}
	schedule_failback_timer(m, now);
}

/* One line whenever a group's decided owner changes: what every node agreed. */
static void log_placement(struct manager *m, const struct placement *p)
{
	for (size_t i = 0; i < p->n_groups; i++) {
		const struct placement_group *g = &p->groups[i];
		if (g->reason == PLACEMENT_UNSETTLED || g->owner == m->last_owner[i])
			continue;
		m->last_owner[i] = g->owner;
		log_info("placement group=%s owner=%s holder=%s reason=%s epoch=%llu", m->config->groups[i].name,
			 g->owner ? name_of(m, g->owner) : "none", g->holder ? name_of(m, g->holder) : "none",
			 placement_reason_str(g->reason), (unsigned long long)m->view.epoch);
	}
}

static void emit(struct manager *m, const char *type, json_t *event)
{
	json_object_set_new(event, "event", json_string(type));
	for (size_t i = 0; i < MAX_LISTENERS; i++)
		if (m->listeners[i].fn)
			m->listeners[i].fn(m->listeners[i].arg, event);
	json_decref(event);
}

static void finish_pending(struct manager *m, int rc)
{
	struct pending_admin p = m->pending;

	m->pending.active = 0;
	if (p.active && p.done)
		p.done(p.arg, rc);
}

/* The newest admin state any node carries becomes ours. Returns 1 when it was
 * adopted: it is persisted by settle_admin(), once the placement has acted. */
static int follow_admin(struct manager *m)
{
	const struct wire_admin *winner = view_admin(&m->view);

	if (!wire_admin_newer(winner, &m->admin))
		return 0;
	m->admin = *winner;
	log_info("admin state epoch %llu adopted (standby %zu node(s), %zu pin(s))", (unsigned long long)m->admin.epoch,
		 m->admin.n_standby, m->admin.n_pins);
	emit(m, "admin", json_pack("{s:I}", "epoch", (json_int_t)m->admin.epoch));
	return 1;
}

/* After the netlink requests are out: the adopted admin state is persisted (an
 * fsync), then a pending operator change is acknowledged once it is the cluster's. */
static void settle_admin(struct manager *m, int adopted)
{
	const struct wire_admin *winner = view_admin(&m->view);
	int rc = adopted ? admin_save(m->admin_path, &m->admin) : 0;

	if (rc < 0)
		log_err("admin state epoch %llu not persisted to %s: %s", (unsigned long long)m->admin.epoch,
			m->admin_path, strerror(-rc));
	if (m->pending.active && winner->epoch >= m->pending.admin.epoch)
		finish_pending(m, wire_admin_equal(winner, &m->pending.admin) ? 0 : -ECANCELED);
}

static void recompute(struct manager *m)
{
	int adopted;

	if (!m->config || m->leaving)
		return;
	adopted = follow_admin(m);
	track_eligibility(m);
	placement_compute(&m->view, m->config, &m->placement);
	log_placement(m, &m->placement);
	transition_apply(m->transition, &m->placement, &m->view, m->event_us);
	announce(m, 0);
	settle_admin(m, adopted);
}

static void on_audit_start(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct manager *m = w->data;

	if (m->audit)
		audit_periodic_start(m->audit);
	ev_timer_start(loop, &m->reannounce);
}

static void on_reannounce(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct manager *m = w->data;

	announce(m, 0); /* sent only when something (a digest) changed */
	/* Our own side may have changed too: compare with every peer again (the
	 * audit reports only findings that appear or go away). */
	for (size_t i = 0; i < m->view.n_nodes; i++)
		if (m->view.nodes[i].member && m->view.nodes[i].has_state)
			audit_peer(m, &m->view.nodes[i]);
}

static void on_failback_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct manager *m = w->data;

	m->event_us = clock_mono_us();
	recompute(m);
}

static void on_transition_event(void *arg, const struct transition_event *ev)
{
	struct manager *m = arg;
	struct status_transition *t;

	if (m->n_transitions == STATUS_MAX_TRANSITIONS) {
		memmove(m->transitions, m->transitions + 1, sizeof(m->transitions[0]) * (STATUS_MAX_TRANSITIONS - 1));
		m->n_transitions--;
	}
	t = &m->transitions[m->n_transitions++];
	memset(t, 0, sizeof(*t));
	snprintf(t->group, sizeof(t->group), "%s", ev->group);
	snprintf(t->from, sizeof(t->from), "%s", ev->from);
	snprintf(t->to, sizeof(t->to), "%s", ev->to);
	t->reason = ev->reason;
	t->acquired = ev->acquired;
	t->error = ev->error;
	t->took_ms = ev->took_ms;
	t->realtime_ms = ev->realtime_ms;
	t->seq = ++m->transition_seq;
	audit(m, AUDITLOG_TRANSITION, status_transition_json(t), 0);
	if (ev->acquired && !ev->error && m->audit)
		audit_after_acquire(m->audit, ev->group);
	emit(m, "transition", status_transition_json(t));
}

static void on_transition_release(void *arg, const char *group)
{
	struct manager *m = arg;

	if (m->audit)
		audit_before_release(m->audit, group);
}

static void on_transition_changed(void *arg)
{
	struct manager *m = arg;

	announce(m, 0);
}

static void on_health_changed(void *arg)
{
	struct manager *m = arg;

	m->event_us = clock_mono_us();
	announce(m, 0); /* our view of ourselves changes when the announce comes back */
}

/* corosync's config digest, for the cross-node audit: start-up and reconnect only
 * (a cmap walk, answered by the corosync that just took us). Its version comes
 * from the ring watch's thread, which runs `corosync -v` off the loop. */
static void read_corosync_identity(struct manager *m)
{
	if (membership_config_digest(m->corosync_digest) < 0)
		memset(m->corosync_digest, 0, sizeof(m->corosync_digest));
	if (m->audit)
		audit_set_corosync(m->audit, m->corosync_digest, m->corosync_version);
}

static void on_connected(void *arg, uint32_t local)
{
	struct manager *m = arg;
	struct membership_info info;

	m->view.local_nodeid = local;
	m->have_sent = 0;
	read_corosync_identity(m);
	if (membership_read_info(&info) == 0) {
		m->info = info;
		if (info.two_node && !info.has_qdevice)
			log_warn("SPLIT-BRAIN RISK: corosync runs two_node without a tie-breaker "
				 "(no quorum device): a partition can leave both nodes holding the VIPs");
		if (!info.crypto)
			log_warn("corosync runs without crypto: cluster messages are neither "
				 "authenticated nor encrypted");
	}
}

static void on_lost(void *arg)
{
	struct manager *m = arg;

	m->joined = 0;
	m->event_us = clock_mono_us();
	finish_pending(m, -ENOTCONN);
	view_reset(&m->view);
	transition_release_all(m->transition, TRANSITION_QUORUM, NULL, NULL);
}

static int quorum_changes(const struct manager *m, int known, int quorate)
{
	return known && (!m->view.quorum_known || quorate != m->view.quorate);
}

/* After the view changed and the placement acted on it: the record is stamped
 * with the event's time. */
static void log_quorum(struct manager *m, int quorate)
{
	log_event(LOG_LVL_INFO, LOG_MSGID_QUORUM, "quorum: %s at_ms=%llu", quorate ? "quorate" : "NOT quorate",
		  (unsigned long long)clock_real_ms());
	audit(m, AUDITLOG_QUORUM, json_pack("{s:b, s:i}", "quorate", quorate, "members", (int)view_members(&m->view)),
	      m->event_us);
}

static void on_totem(void *arg, const uint32_t *nodeids, size_t n, int quorum_known, int quorate)
{
	struct manager *m = arg;
	int quorum_changed;

	m->event_us = clock_mono_us();
	log_info("membership: corosync ring has %zu node(s) at_ms=%llu", n, (unsigned long long)clock_real_ms());
	if (m->fenced && !membership_ring_distrusted(m->membership)) {
		m->fenced = 0;
		ev_timer_stop(m->loop, &m->settle);
	}
	/* A ring of fewer than half the expected votes is never quorate (whatever
	 * votequorum's options, a quorum device aside): no need to wait for
	 * votequorum, which lags while corosync is busy, to release. */
	if (!quorum_known && !m->info.has_qdevice && m->info.expected_votes && 2 * n < m->info.expected_votes) {
		quorum_known = 1;
		quorate = 0;
	}
	quorum_changed = quorum_changes(m, quorum_known, quorate);
	view_apply_totem(&m->view, nodeids, n);
	view_apply_quorum(&m->view, quorum_known, quorate);
	recompute(m);
	if (quorum_changed)
		log_quorum(m, quorate);
}

static void on_join(void *arg, uint32_t nodeid, uint32_t pid)
{
	struct manager *m = arg;
	int self = nodeid == m->view.local_nodeid && pid == (uint32_t)getpid();

	m->event_us = clock_mono_us();
	if (!view_apply_join(&m->view, nodeid, pid)) {
		log_warn("membership: ignored a process that joined the group from %s (pid %u): not in the "
			 "nodelist, or that node's fomgr is already a member",
			 name_of(m, nodeid), pid);
		return;
	}
	if (self) {
		m->joined = 1;
		/* The periodic audit starts once we are in the cluster, so that its
		 * first run never delays joining. */
		if (m->audit && !m->audit_started) {
			m->audit_started = 1;
			ev_feed_event(m->loop, &m->audit_start, EV_TIMER);
		}
		log_info("membership: joined the group with %zu member(s)", view_members(&m->view));
	} else {
		/* A partition healed or a node came back: whatever it (or the clients
		 * it served) learnt meanwhile, the holder's MAC is the answer now. */
		transition_reannounce(m->transition, "merge");
		log_event(LOG_LVL_INFO, LOG_MSGID_MEMBERSHIP, "membership: %s joined (pid %u)", name_of(m, nodeid), pid);
	}
	/* Whoever joined needs everyone's state: all of us announce again. */
	announce(m, 1);
	recompute(m);
	if (!self)
		audit(m, AUDITLOG_MEMBERSHIP, json_pack("{s:s, s:s, s:i}", "change", "joined", "peer",
							 name_of(m, nodeid), "pid", (int)pid), m->event_us);
}

static void on_leave(void *arg, uint32_t nodeid, uint32_t pid, enum view_leave_reason reason)
{
	struct manager *m = arg;

	m->event_us = clock_mono_us();
	log_event(LOG_LVL_INFO, LOG_MSGID_MEMBERSHIP, "membership: %s left (%s) at_ms=%llu", name_of(m, nodeid),
		 reason == VIEW_LEAVE_NODE ? "node down" : "process gone", (unsigned long long)clock_real_ms());
	view_apply_leave(&m->view, nodeid, pid, reason);
	recompute(m);
	audit(m, AUDITLOG_MEMBERSHIP, json_pack("{s:s, s:s, s:i, s:s}", "change", "left", "peer", name_of(m, nodeid),
						 "pid", (int)pid, "why", reason == VIEW_LEAVE_NODE ? "node down" : "process gone"),
	      m->event_us);
	if (m->audit && reason == VIEW_LEAVE_NODE)
		audit_peer_gone(m->audit, name_of(m, nodeid));
}

static void on_deliver(void *arg, uint32_t nodeid, uint32_t pid, const void *msg, size_t len)
{
	struct manager *m = arg;
	static struct wire_announce a;
	enum wire_type type;
	int rc = wire_decode(msg, len, &type, &a);

	m->event_us = clock_mono_us();
	if (rc < 0) {
		/* Logged at 1, 2, 4, 8... refusals, so a flood cannot flood the log. */
		m->refused_messages++;
		if ((m->refused_messages & (m->refused_messages - 1)) == 0)
			log_warn("peer message from %s (pid %u) refused: %s (%llu refused so far)", name_of(m, nodeid),
				 pid, strerror(-rc), (unsigned long long)m->refused_messages);
		return;
	}
	if (!view_apply_announce(&m->view, nodeid, pid, &a))
		return;
	audit_peer(m, view_node_by_id(&m->view, nodeid));
	if (m->leaving && nodeid == m->view.local_nodeid && (a.flags & WIRE_F_LEAVING) && a.n_held == 0) {
		ev_break(m->loop, EVBREAK_ALL);
		return;
	}
	recompute(m);
}

static void on_quorum(void *arg, int known, int quorate)
{
	struct manager *m = arg;
	int quorum_changed = quorum_changes(m, known, quorate);

	m->event_us = clock_mono_us();
	view_apply_quorum(&m->view, known, quorate);
	recompute(m);
	if (quorum_changed)
		log_quorum(m, quorate);
}

/* Our corosync has not answered for longer than a third of what the peers need
 * to evict us: it is frozen or stalled, and they may be forming a ring without
 * us. Release everything now, and trust no quorum until corosync shows a newer
 * ring or the old one is seen to hold. */
static void on_ring_stalled(void *arg, uint32_t silent_ms, uint32_t bound_ms)
{
	struct manager *m = arg;

	if (!m->joined || m->leaving) {
		log_warn("ring-stall: corosync has not answered for %u ms (not in the cluster: nothing to release)",
			 silent_ms);
		return;
	}
	m->event_us = clock_mono_us();
	m->fenced = 1;
	m->ring_stalls++;
	ev_timer_stop(m->loop, &m->settle);
	transition_release_all(m->transition, TRANSITION_RING_STALL, NULL, NULL);
	log_event(LOG_LVL_WARN, LOG_MSGID_QUORUM,
		  "ring-stall: corosync has not answered for %u ms (bound %u ms): released every group at_ms=%llu",
		  silent_ms, bound_ms, (unsigned long long)clock_real_ms());
	membership_distrust_ring(m->membership);
	audit(m, AUDITLOG_QUORUM, json_pack("{s:b, s:s, s:i, s:i}", "quorate", 0, "reason", "ring-stall",
					     "silent_ms", (int)silent_ms, "bound_ms", (int)bound_ms),
	      m->event_us);
}

static uint32_t settle_ms(const struct manager *m)
{
	uint32_t token = m->info.token_ms ? m->info.token_ms : RINGWATCH_DEFAULT_TOKEN_MS;
	uint32_t consensus = m->info.consensus_ms ? m->info.consensus_ms : RINGWATCH_DEFAULT_CONSENSUS_MS;

	return token + consensus + 250;
}

static void on_ring_recovered(void *arg, uint32_t stalled_ms)
{
	struct manager *m = arg;

	log_info("ring-stall: corosync answers again after %u ms of silence", stalled_ms);
	if (!m->fenced)
		return;
	if (!membership_ring_distrusted(m->membership)) {
		m->fenced = 0;
		return;
	}
	if (m->pairs.isolated)
		return; /* the links decide: when they reach a majority again */
	/* A corosync that was evicted while frozen finds out within token +
	 * consensus of running again and forms a new ring; until then, wait. */
	ev_timer_set(&m->settle, settle_ms(m) / 1000.0, 0.);
	ev_timer_start(m->loop, &m->settle);
}

static void on_settle(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct manager *m = w->data;

	if (!m->fenced || ringwatch_is_stalled(m->ringwatch) || m->pairs.isolated)
		return;
	m->fenced = 0;
	m->event_us = clock_mono_us();
	if (membership_ring_distrusted(m->membership)) {
		log_info("ring-stall: no new ring within %u ms of corosync answering again: the ring held, "
			 "following placement again",
			 settle_ms(m));
		membership_trust_ring(m->membership);
	}
}

static void withdraw(struct manager *m, const struct ringwatch_sample *s, uint32_t peer)
{
	const char *keep[RINGWATCH_ADDRS];
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < s->n_links; i++)
		for (size_t k = 0; s->links[i].nodeid == peer && k < s->links[i].n_addrs; k++)
			keep[n++] = s->links[i].addrs[k];
	rc = fence_withdraw(s->knet_port, keep, n);
	if (rc < 0) {
		if (!m->withdraw_failed)
			log_err("bridge partition: cannot withdraw from the ring (%s): %s", strerror(-rc),
				rc == -EINVAL ? "the peer's ring addresses are not IP literals" : "nftables refused");
		m->withdraw_failed = 1;
		m->pairs.withdrawn_from = 0; /* tried again at the next answer */
		return;
	}
	m->withdraw_failed = 0;
	m->withdrawals++;
	log_event(LOG_LVL_WARN, LOG_MSGID_MEMBERSHIP,
		  "bridge partition: the link to %s is down while it stays in our ring and other peers are "
		  "reachable: withdrawing from the ring (the higher nodeid of a broken pair withdraws) until it "
		  "is back at_ms=%llu",
		  name_of(m, peer), (unsigned long long)clock_real_ms());
	audit(m, AUDITLOG_FINDING, json_pack("{s:s, s:s, s:s, s:s}", "subject", "bridge-partition", "severity",
					      "warning", "peer", name_of(m, peer), "action", "withdrawn from the ring"),
	      clock_mono_us());
}

/* The pair watch: of a pair of nodes that cannot reach each other while both reach
 * the rest, the higher nodeid leaves the ring so that corosync can settle. */
static void pair_input(struct manager *m, const struct ringwatch_sample *s, struct pairwatch_input *in)
{
	*in = (struct pairwatch_input){
		.local_nodeid = s->local_nodeid,
		.token_ms = s->info.token_ms,
		.consensus_ms = s->info.consensus_ms,
		.expected_votes = s->info.expected_votes,
		.tie_breaker = s->info.two_node || s->info.has_qdevice,
		/* corosync does not answer while it cannot settle a membership */
		.silent = ringwatch_silence_ms(m->ringwatch) >= ringwatch_bound_ms(m->ringwatch),
	};
	for (size_t i = 0; i < s->n_links && in->n_peers < CONFIG_MAX_NODES; i++) {
		const struct view_node *v = view_node_by_id(&m->view, s->links[i].nodeid);
		in->peers[in->n_peers++] = (struct pairwatch_peer){
			.nodeid = s->links[i].nodeid,
			.link_up = s->links[i].connected,
			.in_ring = m->joined && v && v->up,
			.vouched = m->joined && view_vouched(&m->view, s->links[i].nodeid, m->view.local_nodeid),
		};
	}
}

/* Our links reach no majority: the others can form a quorate ring without us
 * after token + consensus, and our corosync may not tell us in time (one-way loss,
 * a flapping link). Release first; trust no quorum until the links reach a
 * majority again and corosync shows a newer ring (or the old one held). */
static void watch_isolation(struct manager *m, const struct pairwatch_input *in, uint64_t now_us)
{
	enum pairwatch_action a = pairwatch_isolation_step(&m->pairs, in, now_us);
	uint32_t reached = pairwatch_reached(in);

	if (a == PAIRWATCH_ISOLATED && m->joined && !m->leaving) {
		m->event_us = now_us;
		m->fenced = 1;
		m->isolations++;
		ev_timer_stop(m->loop, &m->settle);
		transition_release_all(m->transition, TRANSITION_QUORUM, NULL, NULL);
		log_event(LOG_LVL_WARN, LOG_MSGID_QUORUM,
			  "isolated: corosync's links reach %u of %u expected votes for %llu ms: released every "
			  "group before the others can form a ring without us at_ms=%llu",
			  reached, in->expected_votes, (unsigned long long)(now_us - m->pairs.minority_since_us) / 1000u,
			  (unsigned long long)clock_real_ms());
		membership_distrust_ring(m->membership);
		audit(m, AUDITLOG_QUORUM, json_pack("{s:b, s:s, s:i, s:i}", "quorate", 0, "reason", "isolated",
						     "reached", (int)reached, "expected_votes", (int)in->expected_votes),
		      now_us);
	} else if (a == PAIRWATCH_REACHED) {
		log_info("isolated: corosync's links reach %u of %u expected votes again", reached, in->expected_votes);
		if (m->fenced && !ringwatch_is_stalled(m->ringwatch)) {
			if (!membership_ring_distrusted(m->membership)) {
				m->fenced = 0;
			} else {
				ev_timer_set(&m->settle, settle_ms(m) / 1000.0, 0.);
				ev_timer_start(m->loop, &m->settle);
			}
		}
	}
}

static void watch_pairs(struct manager *m, const struct ringwatch_sample *s, uint64_t now_us)
{
	struct pairwatch_input in;
	enum pairwatch_action a;
	uint32_t peer = 0;

	pair_input(m, s, &in);
	watch_isolation(m, &in, now_us);
	a = pairwatch_step(&m->pairs, &in, now_us, &peer);
	if (a == PAIRWATCH_WITHDRAW) {
		withdraw(m, s, peer);
	} else if (a == PAIRWATCH_RETURN || a == PAIRWATCH_PROBE) {
		int rc = fence_return();
		if (a == PAIRWATCH_RETURN)
			log_event(LOG_LVL_INFO, LOG_MSGID_MEMBERSHIP,
				  "bridge partition: the link to %s is up again: back in the ring%s at_ms=%llu",
				  name_of(m, peer), rc < 0 ? " (the fence could not be removed)" : "",
				  (unsigned long long)clock_real_ms());
		else
			log_event(LOG_LVL_WARN, LOG_MSGID_MEMBERSHIP,
				  "bridge partition: still no link to %s: back in the ring to look again (it may have "
				  "died meanwhile)%s at_ms=%llu",
				  name_of(m, peer), rc < 0 ? " (the fence could not be removed)" : "",
				  (unsigned long long)clock_real_ms());
		audit(m, AUDITLOG_FINDING, json_pack("{s:s, s:s, s:s, s:s}", "subject", "bridge-partition", "severity",
						      "info", "peer", name_of(m, peer), "action", "back in the ring"),
		      clock_mono_us());
	}
}

/* What our announce vouches for: the peers our knet links reach now, less those
 * out of our ring for 2 (T + C) (by then a holder among them has found out and
 * released: ring-stall, quorum, isolation), so that a link that stays up to a node
 * whose corosync went astray cannot keep its groups orphaned for ever. No grace
 * for a link that just went down: a vouch that outlives a dead node's link
 * delays its failover and reads as a bridge to the pair watch (lab 02 in CI). */
static void update_reach(struct manager *m, const struct ringwatch_sample *s)
{
	uint64_t now = s->at_us, vouch = pairwatch_wait_us(s->info.token_ms, s->info.consensus_ms);
	uint32_t reach[CONFIG_MAX_NODES];
	size_t n = 0;

	for (size_t i = 0; i < m->view.n_nodes; i++) {
		const struct view_node *v = &m->view.nodes[i];
		if (m->joined && v->up)
			m->out_since_us[i] = 0;
		else if (!m->out_since_us[i])
			m->out_since_us[i] = now ? now : 1;
	}
	for (size_t i = 0; i < s->n_links && n < CONFIG_MAX_NODES; i++) {
		struct view_node *v = view_node_by_id(&m->view, s->links[i].nodeid);
		size_t k = v ? (size_t)(v - m->view.nodes) : 0;
		if (!v)
			continue;
		if (s->links[i].connected && (!m->out_since_us[k] || now - m->out_since_us[k] < vouch))
			reach[n++] = s->links[i].nodeid;
	}
	if (m->reach_known && n == m->n_reach && memcmp(reach, m->reach, n * sizeof(reach[0])) == 0)
		return;
	m->reach_known = 1;
	m->n_reach = n;
	memcpy(m->reach, reach, n * sizeof(reach[0]));
	announce(m, 0);
}

static void on_ring_sample(void *arg, const struct ringwatch_sample *s)
{
	struct manager *m = arg;
	enum qdevice_event qe;

	m->info = s->info;
	update_reach(m, s);
	qe = qdevice_watch_sample(&m->qdevice, &s->qdevice, s->at_us,
				  qdevice_grace_ms(s->info.token_ms, s->info.consensus_ms));
	if (qe != QDEVICE_EVENT_NONE)
		audit(m, AUDITLOG_FINDING, qdevice_event_json(&m->qdevice, qe, s->at_us), s->at_us);
	if (s->corosync_version[0] && strcmp(s->corosync_version, m->corosync_version) != 0) {
		snprintf(m->corosync_version, sizeof(m->corosync_version), "%s", s->corosync_version);
		if (m->audit)
			audit_set_corosync(m->audit, m->corosync_digest, m->corosync_version);
		announce(m, 0); /* the peers compare versions */
	}
}

/* A member vouches for a node out of its ring for 2 (T + C) at most; one whose
 * fomgr froze (or runs an older version that never says) would keep the groups of
 * a dead holder orphaned: after 3 (T + C) nobody waits any more. */
static void expire_lost(struct manager *m, const struct ringwatch_sample *s, uint64_t now_us)
{
	uint64_t limit = 3 * pairwatch_wait_us(s->info.token_ms, s->info.consensus_ms) / 2;

	for (size_t i = 0; i < m->view.n_nodes; i++) {
		uint32_t id = m->view.nodes[i].nodeid;
		uint64_t out = m->out_since_us[i];
		int vouched;

		if (!out || now_us - out < limit)
			continue;
		vouched = view_vouched(&m->view, id, 0);
		if (!view_forget_lost(&m->view, id) || !vouched)
			continue;
		log_warn("lost-holder: %s has been out of the ring for %llu ms while a member still vouched for "
			 "it: no longer waiting for it",
			 m->view.nodes[i].name, (unsigned long long)(now_us - out) / 1000u);
		m->event_us = now_us;
		recompute(m);
	}
}

/* The pair watch, every tick, on the newest link states corosync gave: while it
 * does not answer (it does not while it cannot settle a membership), the last. */
static void on_pair_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct manager *m = w->data;
	struct ringwatch_sample s;

	if (ringwatch_last(m->ringwatch, &s) == 0) {
		watch_pairs(m, &s, clock_mono_us());
		expire_lost(m, &s, clock_mono_us());
	}
}

static const struct ringwatch_ops ringwatch_ops = {
	.stalled = on_ring_stalled,
	.recovered = on_ring_recovered,
	.sample = on_ring_sample,
};

static const struct membership_ops membership_ops = {
	.connected = on_connected,
	.lost = on_lost,
	.totem = on_totem,
	.join = on_join,
	.leave = on_leave,
	.deliver = on_deliver,
	.quorum = on_quorum,
};

static struct config *load_config(const char *path, const struct config_nodelist *nodes)
{
	struct config_errors errors;
	char buf[8192];
	struct config *c = config_load(path, nodes, &errors);

	if (!c)
		log_err("configuration refused:\n%s", config_errors_format(&errors, path, buf, sizeof(buf)));
	return c;
}

static int ensure_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void open_auditlog(struct manager *m)
{
	struct auditlog_options opts = {.max_age_days = m->config->audit.retention_days};
	char dir[256], digest[65], *slash;
	const char *node = "unknown";
	uint32_t local = 0;

	snprintf(dir, sizeof(dir), "%s", m->config->audit.log);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		ensure_dir(dir, 0750);
	}
	if (membership_local_nodeid(&local) == 0)
		for (size_t i = 0; i < m->nodes.n_nodes; i++)
			if (m->nodes.nodes[i].nodeid == local)
				node = m->nodes.nodes[i].name;
	m->auditlog = auditlog_open(m->config->audit.log, node, &opts);
	if (!m->auditlog) {
		log_err("audit log %s: %s: operators' commands will be refused", m->config->audit.log, strerror(errno));
		return;
	}
	hex32(m->config->digest, digest);
	auditlog_attach(m->auditlog, m->loop);
	audit(m, AUDITLOG_START,
	      json_pack("{s:s, s:s, s:s}", "version", FO_VERSION, "config", m->config->path, "config_digest", digest),
	      AUDIT_NOW);
}

/* Credentials and exposure (corosync crypto, two_node, the status endpoint, file
 * modes), at start and on reload: each finding is logged and audited; -EPERM
 * when the policy says such a configuration must not run. */
static int check_exposure(struct manager *m, const struct config *c)
{
	struct audit_exposure_input in;
	struct audit_findings found = {0};
	struct membership_info info;
	int have_info = membership_read_info(&info) == 0;
	int rc;

	audit_exposure_gather(c, have_info ? &info : NULL, &in);
	rc = audit_exposure_check(c, &in, &found);
	for (size_t i = 0; i < found.n; i++) {
		const struct audit_finding *f = &found.v[i];
		log_msg(f->severity == AUDIT_INFO ? LOG_LVL_INFO : LOG_LVL_WARN, "exposure %s: %s", f->subject,
			f->detail);
		audit(m, AUDITLOG_FINDING, audit_finding_json(f), AUDIT_NOW);
	}
	audit_findings_clear(&found);
	if (rc == -EPERM)
		log_err("refused by the exposure policy (require_crypto or [audit] policy = refuse)");
	return rc == -EPERM ? rc : 0;
}

/* What this node is for a group, as the conflict watcher judges a frame. */
static int conflict_role(void *arg, const char *group, struct conflict_role *out)
{
	struct manager *m = arg;
	const struct config_group *g = m->config ? config_group_find(m->config, group) : NULL;
	size_t i = g ? (size_t)(g - m->config->groups) : 0;
	uint32_t owner = g && i < m->placement.n_groups ? m->placement.groups[i].owner : 0;

	if (!g || !m->transition)
		return -ENOENT;
	out->owner = owner && owner == m->view.local_nodeid;
	out->held = transition_state_of(m->transition, group) == TRANSITION_HELD;
	out->claims = transition_claims(m->transition, group);
	snprintf(out->owner_name, sizeof(out->owner_name), "%s", owner ? name_of(m, owner) : "none");
	return 0;
}

/* Resolved by placement, before anything touches the disk: a stray address here
 * is deleted, the owner announces itself again; then the first of an episode is
 * logged and its record queued (the failover path's way: written after the event). */
static void on_conflict(void *arg, const struct conflict_event *ev)
{
	struct manager *m = arg;
	const char *action = ev->verdict == CONFLICT_LOCAL ? "remove" : "reannounce";
	char ip[INET6_ADDRSTRLEN], mac[18];
	int rc = ev->verdict == CONFLICT_LOCAL ? conflict_remove(m->conflict, ev)
					      : transition_reannounce_group(m->transition, ev->group);

	if (!ev->first && rc == 0)
		return;
	inet_ntop(ev->addr.family, &ev->addr.addr, ip, sizeof(ip));
	log_event(LOG_LVL_WARN, LOG_MSGID_FINDING,
		  "conflict group=%s address=%s mac=%s owner=%s interface=%s source=%s action=%s%s%s", ev->group, ip,
		  conflict_mac_str(ev->mac, mac, sizeof(mac)), ev->owner, ev->addr.ifname,
		  conflict_source_str(ev->source), action, rc < 0 ? " failed: " : "", rc < 0 ? strerror(-rc) : "");
	if (ev->first)
		audit(m, AUDITLOG_FINDING, conflict_event_json(ev, action), 0);
}

static void start_conflict(struct manager *m)
{
	int rc;

	m->conflict = conflict_new(m->loop, m->vip, conflict_role, on_conflict, m);
	rc = m->conflict ? conflict_set_config(m->conflict, m->config) : -errno;
	if (rc < 0)
		log_err("conflict detection: not started: %s", strerror(-rc));
}

static int start_services(struct manager *m)
{
	int rc;

	view_init(&m->view, &m->nodes, 0);
	open_auditlog(m);
	rc = check_exposure(m, m->config);
	if (rc < 0)
		return rc;
	ensure_dir(m->config->runtime_dir, 0755);
	ensure_dir(m->config->state_dir, 0750);
	snprintf(m->admin_path, sizeof(m->admin_path), "%s/admin.json", m->config->state_dir);
	rc = admin_load(m->admin_path, &m->admin);
	if (rc < 0)
		log_err("admin state %s unreadable (%s): starting without standby or pins", m->admin_path,
			strerror(-rc));
	else if (m->admin.epoch)
		log_info("admin state epoch %llu loaded from %s", (unsigned long long)m->admin.epoch, m->admin_path);
	m->health = health_new(m->loop, m->config->health_socket, m->config->health_ttl_ms, on_health_changed, m);
	if (!m->health)
		return -errno;
	rc = health_start(m->health);
	if (rc < 0) {
		log_err("health socket %s: %s", m->config->health_socket, strerror(-rc));
		return rc;
	}
	m->transition = transition_new(m->loop, m->vip, m->config, on_transition_changed, m);
	if (!m->transition)
		return -ENOMEM;
	transition_on_event(m->transition, on_transition_event, m);
	transition_on_release(m->transition, on_transition_release, m);
	m->audit = audit_new(m->loop, m->config, m->auditlog);
	if (!m->audit)
		log_err("audit: not started: %s", strerror(errno));
	transition_reconcile(m->transition);
	start_conflict(m);
	m->membership = membership_new(m->loop, m->config->cpg_group, &membership_ops, m);
	if (!m->membership)
		return -errno;
	rc = membership_start(m->membership);
	if (rc < 0)
		return rc;
	/* A fence left by a fomgr that died withdrawn would keep this node out. */
	if (fence_return() == 0)
		log_warn("bridge partition: removed a withdrawal left by an earlier run");
	m->ringwatch = ringwatch_new(m->loop, &ringwatch_ops, m);
	if (!m->ringwatch)
		return -ENOMEM;
	ev_timer_start(m->loop, &m->pair_tick);
	return ringwatch_start(m->ringwatch);
}

static void on_nodelist_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct manager *m = w->data;
	int rc = membership_read_nodelist(&m->nodes);

	if (rc < 0)
		return; /* the timer repeats */
	ev_timer_stop(loop, w);
	m->config = load_config(m->config_path, &m->nodes);
	if (m->config)
		config_cluster_digest(m->config, m->cluster_digest);
	if (!m->config || start_services(m) < 0) {
		log_err("cannot start; exiting");
		ev_break(loop, EVBREAK_ALL);
	}
}

struct manager *manager_new(struct ev_loop *loop, const char *config_path)
{
	struct manager *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->loop = loop;
	snprintf(m->config_path, sizeof(m->config_path), "%s", config_path);
	ev_timer_init(&m->nodelist_retry, on_nodelist_retry, 0., 1.);
	ev_timer_init(&m->failback_timer, on_failback_timer, 0., 0.);
	ev_timer_init(&m->audit_start, on_audit_start, 0., 0.);
	m->audit_start.data = m;
	ev_timer_init(&m->reannounce, on_reannounce, 5., 5.);
	m->reannounce.data = m;
	ev_timer_init(&m->settle, on_settle, 0., 0.);
	m->settle.data = m;
	ev_timer_init(&m->pair_tick, on_pair_tick, 0.1, 0.1);
	m->pair_tick.data = m;
	m->nodelist_retry.data = m->failback_timer.data = m->shutdown_timer.data = m;
	return m;
}

void manager_free(struct manager *m)
{
	if (!m)
		return;
	ev_timer_stop(m->loop, &m->nodelist_retry);
	ev_timer_stop(m->loop, &m->failback_timer);
	ev_timer_stop(m->loop, &m->shutdown_timer);
	ev_timer_stop(m->loop, &m->reannounce);
	ev_timer_stop(m->loop, &m->settle);
	ev_timer_stop(m->loop, &m->pair_tick);
	if (ringwatch_is_stalled(m->ringwatch))
		membership_abandon(m->membership);
	ringwatch_free(m->ringwatch);
	if (m->pairs.withdrawn_from && fence_return() == 0)
		log_info("bridge partition: withdrawal lifted on the way out");
	audit_free(m->audit);
	if (m->auditlog) {
		audit(m, AUDITLOG_STOP, json_pack("{s:s}", "version", FO_VERSION), AUDIT_NOW);
		auditlog_close(m->auditlog);
	}
	membership_free(m->membership);
	conflict_free(m->conflict);
	transition_close(m->transition);
	vip_free(m->vip); /* its cancelled requests complete into a closed transition */
	transition_free(m->transition);
	health_free(m->health);
	config_free(m->config);
	free(m);
}

int manager_start(struct manager *m)
{
	struct config *probe = load_config(m->config_path, NULL);

	/* Refuse a bad file at once; node names are checked once corosync answers. */
	if (!probe)
		return -EINVAL;
	config_free(probe);
	m->vip = vip_new(m->loop);
	if (!m->vip)
		return -errno;
	if (membership_read_nodelist(&m->nodes) < 0)
		log_info("waiting for corosync to read its nodelist");
	ev_timer_start(m->loop, &m->nodelist_retry);
	ev_feed_event(m->loop, &m->nodelist_retry, EV_TIMER);
	return 0;
}

/* What a reload changes, in the terms an auditor reads: digests and groups. */
static json_t *config_change_json(const struct config *old, const struct config *next)
{
	json_t *added = json_array(), *removed = json_array(), *changed = json_array();
	char a[65], b[65];

	for (size_t i = 0; i < next->n_groups; i++) {
		const struct config_group *o = config_group_find(old, next->groups[i].name);
		if (!o)
			json_array_append_new(added, json_string(next->groups[i].name));
		else if (memcmp(o, &next->groups[i], sizeof(*o)) != 0)
			json_array_append_new(changed, json_string(next->groups[i].name));
	}
	for (size_t i = 0; i < old->n_groups; i++)
		if (!config_group_find(next, old->groups[i].name))
			json_array_append_new(removed, json_string(old->groups[i].name));
	hex32(old->digest, a);
	hex32(next->digest, b);
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:b}", "change", "reload", "config", next->path,
			 "old_digest", a, "new_digest", b, "groups_added", added, "groups_removed", removed,
			 "groups_changed", changed, "fomgr_settings_changed",
			 memcmp(old->cpg_group, next->cpg_group, sizeof(old->cpg_group)) ||
				 old->garp_count != next->garp_count || old->health_ttl_ms != next->health_ttl_ms ||
				 old->health_policy != next->health_policy);
}

int manager_reload(struct manager *m)
{
	struct config *next;

	if (!m->config)
		return -EAGAIN;
	membership_read_nodelist(&m->nodes);
	next = load_config(m->config_path, &m->nodes);
	if (!next) {
		log_event(LOG_LVL_ERR, LOG_MSGID_CONFIG, "reload refused: keeping the running configuration");
		audit(m, AUDITLOG_CONFIG, json_pack("{s:s, s:s}", "change", "reload refused", "config", m->config_path),
		      AUDIT_NOW);
		return -EINVAL;
	}
	if (check_exposure(m, next) < 0) {
		log_event(LOG_LVL_ERR, LOG_MSGID_CONFIG, "reload refused: keeping the running configuration");
		audit(m, AUDITLOG_CONFIG, json_pack("{s:s, s:s}", "change", "reload refused (exposure policy)",
						     "config", m->config_path), AUDIT_NOW);
		config_free(next);
		return -EPERM;
	}
	audit(m, AUDITLOG_CONFIG, config_change_json(m->config, next), AUDIT_NOW);
	transition_set_config(m->transition, next);
	if (m->conflict && conflict_set_config(m->conflict, next) < 0)
		log_err("conflict detection: the new addresses are not watched");
	if (m->audit)
		audit_set_config(m->audit, next);
	config_free(m->config);
	m->config = next;
	config_cluster_digest(m->config, m->cluster_digest);
	log_event(LOG_LVL_INFO, LOG_MSGID_CONFIG, "configuration reloaded from %s", m->config_path);
	m->event_us = clock_mono_us();
	recompute(m);
	return 0;
}

static void on_shutdown_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	log_warn("shutdown: our last announce did not come back in time; leaving anyway");
	ev_break(loop, EVBREAK_ALL);
}

static void on_released_for_shutdown(void *arg)
{
	struct manager *m = arg;

	if (!m->joined) {
		ev_break(m->loop, EVBREAK_ALL);
		return;
	}
	/* Tell the peers now, so they take over without waiting for corosync to
	 * notice; we leave once our own announce comes back in the agreed order. */
	announce(m, 1);
	ev_timer_init(&m->shutdown_timer, on_shutdown_timeout, SHUTDOWN_WAIT, 0.);
	m->shutdown_timer.data = m;
	ev_timer_start(m->loop, &m->shutdown_timer);
}

void manager_shutdown(struct manager *m)
{
	if (m->leaving)
		return;
	m->leaving = 1;
	log_info("shutting down: releasing every group");
	if (!m->transition) {
		ev_break(m->loop, EVBREAK_ALL);
		return;
	}
	transition_release_all(m->transition, TRANSITION_SHUTDOWN, on_released_for_shutdown, m);
}

int manager_config_test(const char *path)
{
	struct config_nodelist nodes;
	struct config *c;
	int have_nodes = membership_read_nodelist(&nodes) == 0;

	if (!have_nodes)
		fprintf(stderr, "%s: note: corosync is not running here; node names were not checked\n", path);
	c = load_config(path, have_nodes ? &nodes : NULL);
	if (!c)
		return -EINVAL;
	printf("%s: configuration OK (%zu group(s))\n", path, c->n_groups);
	config_free(c);
	return 0;
}

int manager_listen(struct manager *m, manager_event_fn fn, void *arg)
{
	for (size_t i = 0; i < MAX_LISTENERS; i++) {
		if (!m->listeners[i].fn) {
			m->listeners[i].fn = fn;
			m->listeners[i].arg = arg;
			return 0;
		}
	}
	return -ENOSPC;
}

void manager_unlisten(struct manager *m, manager_event_fn fn, void *arg)
{
	for (size_t i = 0; i < MAX_LISTENERS; i++)
		if (m->listeners[i].fn == fn && m->listeners[i].arg == arg)
			m->listeners[i].fn = NULL;
}

json_t *manager_status(const struct manager *m)
{
	struct status_input in = {
		.config = m->config,
		.view = &m->view,
		.placement = &m->placement,
		.transition = m->transition,
		.joined = m->joined,
		.two_node_no_tiebreaker = qdevice_split_brain_risk(m->info.two_node, m->info.has_qdevice, &m->qdevice),
		.corosync_crypto = m->info.crypto,
		.health_stale = health_stale(m->health),
		.expected_votes = m->info.expected_votes,
		.n_transitions = m->n_transitions,
		.transitions = m->transitions,
	};

	struct status_ring ring = {
		.stall_bound_ms = ringwatch_bound_ms(m->ringwatch),
		.stalled = ringwatch_is_stalled(m->ringwatch),
		.fenced = m->fenced,
		.withdrawn_from = m->pairs.withdrawn_from ? name_of((struct manager *)m, m->pairs.withdrawn_from) : NULL,
		.isolated = m->pairs.isolated,
		.stalls = m->ring_stalls,
		.withdrawals = m->withdrawals,
		.isolations = m->isolations,
	};
	json_t *root;

	in.ring = m->ringwatch ? &ring : NULL;
	if (!m->config || !m->transition)
		return json_pack("{s:i, s:b, s:s}", "schema_version", STATUS_SCHEMA_VERSION, "joined", 0, "state",
				 "starting");
	root = status_build(&in);
	qdevice_status_json(&m->qdevice, clock_mono_us(), root);
	if (m->audit)
		json_object_set_new(root, "audit", audit_status_json(m->audit));
	conflict_status_json(m->conflict, root);
	if (m->status_extra)
		m->status_extra(m->status_extra_arg, root);
	return root;
}

void manager_set_status_extra(struct manager *m, manager_status_fn fn, void *arg)
{
	m->status_extra = fn;
	m->status_extra_arg = arg;
}

/* A new admin state: the newest the cluster has, edited, one epoch on. */
static int request_admin(struct manager *m, struct wire_admin *next, manager_done_fn done, void *arg)
{
	int rc;

	if (!m->joined || !m->view.quorate)
		return -ENOTCONN;
	if (m->pending.active)
		return -EBUSY;
	next->epoch = view_admin(&m->view)->epoch + 1;
	if (next->epoch <= m->admin.epoch)
		next->epoch = m->admin.epoch + 1;
	next->origin = m->view.local_nodeid;
	/* Persisted before it is announced: the record of the command survives us. */
	rc = admin_save(m->admin_path, next);
	if (rc < 0)
		return rc;
	m->admin = *next;
	m->pending = (struct pending_admin){.active = 1, .admin = *next, .done = done, .arg = arg};
	announce(m, 0);
	return 0;
}

int manager_request_standby(struct manager *m, const char *node, int on, manager_done_fn done, void *arg)
{
	struct wire_admin next;
	int rc;

	if (!m->config)
		return -EAGAIN;
	if (!view_node_by_name(&m->view, node))
		return -ENOENT;
	next = *view_admin(&m->view);
	rc = admin_set_standby(&next, node, on);
	return rc < 0 ? rc : request_admin(m, &next, done, arg);
}

/* node NULL: clear the pin. node "" : move to the next eligible node after the
 * current owner, in the group's preference. */
int manager_request_pin(struct manager *m, const char *group, const char *node, manager_done_fn done, void *arg)
{
	const struct config_group *g;
	struct wire_admin next;
	char target[CONFIG_NAME_MAX];
	int rc;

	if (!m->config)
		return -EAGAIN;
	g = config_group_find(m->config, group);
	if (!g)
		return -ENOENT;
	if (node && !*node) {
		rc = manager_next_owner(m, group, target);
		if (rc < 0)
			return rc;
		node = target;
	}
	if (node) {
		const struct view_node *n = view_node_by_name(&m->view, node);
		if (!n)
			return -ENOENT;
		if (!placement_eligible(&m->view, g, n))
			return -EHOSTUNREACH;
	}
	next = *view_admin(&m->view);
	rc = admin_set_pin(&next, group, node);
	return rc < 0 ? rc : request_admin(m, &next, done, arg);
}

int manager_next_owner(const struct manager *m, const char *group, char *out)
{
	const struct config_group *g = m->config ? config_group_find(m->config, group) : NULL;
	size_t idx;
	uint32_t next;

	if (!g)
		return -ENOENT;
	idx = (size_t)(g - m->config->groups);
	next = placement_next_owner(&m->view, g, idx < m->placement.n_groups ? m->placement.groups[idx].owner : 0);
	if (!next)
		return -EHOSTUNREACH;
	snprintf(out, CONFIG_NAME_MAX, "%s", name_of((struct manager *)m, next));
	return 0;
}

int manager_explain(const struct manager *m, const char *group, const char *node, char *out, size_t size)
{
	const struct config_group *g = m->config ? config_group_find(m->config, group) : NULL;
	size_t idx, used = 0;
	uint32_t owner;

	if (!g)
		return -ENOENT;
	if (node) {
		const struct view_node *n = view_node_by_name(&m->view, node);

		if (!n)
			return -ENOENT;
		return placement_explain(&m->view, g, n, out, size);
	}
	idx = (size_t)(g - m->config->groups);
	owner = idx < m->placement.n_groups ? m->placement.groups[idx].owner : 0;
	out[0] = '\0';
	for (size_t i = 0; i < m->view.n_nodes && used < size; i++) {
		const struct view_node *n = &m->view.nodes[i];
		char why[160];
		int r;

		if (n->nodeid == owner || placement_explain(&m->view, g, n, why, sizeof(why)))
			continue;
		r = snprintf(out + used, size - used, "%s%s", used ? "; " : "", why);
		used += r > 0 ? (size_t)r : 0;
	}
	return 0;
}

int manager_group_holder(const struct manager *m, const char *group, char *out)
{
	const struct config_group *g = m->config ? config_group_find(m->config, group) : NULL;
	const struct view_node *me = view_local(&m->view);

	if (!g)
		return -ENOENT;
	out[0] = '\0';
	/* The kernel's truth for this node, the agreed view for the others. */
	if (me && transition_state_of(m->transition, group) == TRANSITION_HELD) {
		snprintf(out, CONFIG_NAME_MAX, "%s", me->name);
		return 1;
	}
	for (size_t i = 0; i < m->view.n_nodes; i++) {
		const struct view_node *n = &m->view.nodes[i];
		if (n != me && n->up && n->has_state && wire_announce_up(&n->ann, group)) {
			snprintf(out, CONFIG_NAME_MAX, "%s", n->name);
			return 1;
		}
	}
	return 0;
}

struct auditlog *manager_auditlog(const struct manager *m)
{
	return m->auditlog;
}

void manager_vip_stats(const struct manager *m, struct vip_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (m->vip)
		vip_get_stats(m->vip, out);
}
