#include "manager.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admission.h"
#include "audit.h"
#include "auditlog.h"
#include "config.h"
#include "conflict.h"
#include "conflict_resolve.h"
#include "effect.h"
#include "executor.h"
#include "fence.h"
#include "fo/clock.h"
#include "fo/log.h"
#include "health.h"
#include "knetwatch.h"
#include "history.h"
#include "listeners.h"
#include "membership.h"
#include "netstate.h"
#include "node.h"
#include "qdevice.h"
#include "reconcile.h"
#include "ringwatch.h"
#include "startup.h"
#include "status_gather.h"
#include "vip.h"
#include "view.h"
#include "wire.h"

#define MAX_QUEUED 32 /* events that arrive while effects run (corosync's synchronous callbacks) */

/* The wiring: every source of events (corosync, the ring watch, the agent's
 * health, the operators, the conflict watcher, the audit's schedule) feeds the
 * core (node_step); the executor carries out what it decides. */
struct manager {
	/* loop, config, node, vip, membership, audit, auditlog: the executor's env */
	struct executor_env env;
	char config_path[4096];
	struct config_nodelist nodes;
	struct effects *fx;   /* what the core asked for, carried out by the executor */
	struct executor *executor;
	int stepping;         /* effects are running: events that arrive now wait in queue */
	size_t n_queued;
	struct node_event queued[MAX_QUEUED];
	struct health *health;
	ev_timer nodelist_retry;
	char admin_path[4200];
	struct listeners listeners;
	int audit_started;
	ev_timer reannounce; /* the audit's digests change on its own schedule */
	struct ringwatch *ringwatch; /* is our corosync still serving us? */
	struct ringwatch_sample sample; /* the newest, as the pair watch last read it */
	ev_timer pair_tick; /* the pair watch while corosync is silent */
	struct knetwatch *knetwatch; /* the peers' knet traffic; NULL without CAP_NET_RAW */
	uint32_t unheard[CONFIG_MAX_NODES]; /* peers whose link it turned down (logged once) */
	size_t n_unheard;
	struct wire_netstate netstate; /* the audit's part, as the core last had it */
	struct qdevice_watch qdevice; /* the quorum device, as the ring watch reads it */
	ev_timer audit_start;
	uint64_t refused_messages;
	struct conflict *conflict; /* NULL when it could not start (no CAP_NET_RAW) */
	manager_status_fn status_extra; /* the operators' modules add to the document */
	void *status_extra_arg;
	uint32_t author_uid; /* who asks the next operator's request */
	char author[64];
};

static const char *name_of(const struct manager *m, uint32_t nodeid)
{
	return m->env.node ? node_name(m->env.node, nodeid) : "?";
}

#define AUDIT_NOW EXECUTOR_RECORD_NOW

static int audit(struct manager *m, enum auditlog_type type, json_t *fields, uint64_t at_us)
{
	return executor_record(m->executor, type, fields, at_us);
}

/* Every input goes through here: the core decides, then its effects run. An event
 * that arrives while they run (corosync answers some requests at once) waits its
 * turn, so the core never sees one event inside another. Returns the event's
 * synchronous answer (fx->rc). */
static int feed(struct manager *m, const struct node_event *in)
{
	struct wire_netstate ns;
	struct node_event ev = *in;
	int rc;

	if (!m->env.node)
		return -EAGAIN;
	if (m->stepping) {
		if (m->n_queued < MAX_QUEUED)
			m->queued[m->n_queued++] = ev;
		else
			log_err("executor: event %s dropped (queue full)", node_event_kind_str(ev.kind));
		return 0;
	}
	/* The audit's digests change on its own schedule; an announce carries the newest. */
	audit_local_wire(m->env.audit, &ns);
	if (ev.kind != NODE_EV_NETSTATE && memcmp(&ns, &m->netstate, sizeof(ns)) != 0) {
		struct node_event nev = {.kind = NODE_EV_NETSTATE, .netstate = &ns};
		m->netstate = ns;
		feed(m, &nev);
	}
	ev.ring_distrusted = m->env.membership && membership_ring_distrusted(m->env.membership);
	ev.wall_ms = clock_real_ms();
	ev.ring_stalled = ringwatch_is_stalled(m->ringwatch);
	m->stepping = 1;
	node_step(m->env.node, &ev, clock_mono_us(), m->fx);
	rc = m->fx->rc;
	executor_run(m->executor, m->fx);
	m->stepping = 0;
	while (m->n_queued && !m->stepping) {
		struct node_event next = m->queued[0];
		memmove(m->queued, m->queued + 1, --m->n_queued * sizeof(m->queued[0]));
		feed(m, &next);
	}
	return rc;
}

static void feed_simple(struct manager *m, enum node_event_kind kind)
{
	struct node_event ev = {.kind = kind};

	feed(m, &ev);
}

/* ---- wiring: every source of events feeds the core ---- */

static void on_audit_start(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct manager *m = w->data;

	if (m->env.audit)
		audit_periodic_start(m->env.audit);
	ev_timer_start(loop, &m->reannounce);
}

static void on_reannounce(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct manager *m = w->data;
	struct wire_netstate ns;
	struct node_event ev = {.kind = NODE_EV_NETSTATE, .netstate = &ns};

	/* Sent only when something (a digest) changed. */
	audit_local_wire(m->env.audit, &ns);
	m->netstate = ns;
	feed(m, &ev);
	/* Our own side may have changed too: compare with every peer again (the
	 * audit reports only findings that appear or go away). */
	for (size_t i = 0; i < m->env.node->view.n_nodes; i++)
		if (m->env.node->view.nodes[i].member && m->env.node->view.nodes[i].has_state)
			executor_peer_state(m->executor, &m->env.node->view.nodes[i]);
}

/* The checks this node's groups depend on, as the agent last reported them. */
static void on_health_changed(void *arg)
{
	struct manager *m = arg;
	static struct wire_check checks[WIRE_MAX_CHECKS];
	struct node_event ev = {.kind = NODE_EV_HEALTH, .checks = checks, .value = health_stale(m->health)};

	ev.n_checks = health_group_checks(m->health, m->env.config, checks, WIRE_MAX_CHECKS);
	feed(m, &ev);
}

static void on_connected(void *arg, uint32_t local)
{
	struct manager *m = arg;
	struct node_event ev = {.kind = NODE_EV_CONNECTED, .nodeid = local, .pid = (uint32_t)getpid()};

	/* corosync's config digest, for the cross-node audit: start-up and reconnect
	 * only (a cmap walk, answered by the corosync that just took us). Its version
	 * comes from the ring watch's thread, which runs `corosync -v` off the loop. */
	if (membership_config_digest(ev.digest) < 0)
		memset(ev.digest, 0, sizeof(ev.digest));
	if (m->env.audit)
		audit_set_corosync(m->env.audit, ev.digest, m->env.node->corosync_version);
	ev.value = membership_read_info_warned(&ev.info) == 0;
	feed(m, &ev);
}

static void on_lost(void *arg)
{
	feed_simple(arg, NODE_EV_LOST);
}

static void on_totem(void *arg, const uint32_t *nodeids, size_t n, int quorum_known, int quorate)
{
	struct node_event ev = {.kind = NODE_EV_TOTEM, .nodeids = nodeids, .n_nodeids = n,
				.quorum_known = quorum_known, .quorate = quorate};

	log_info("membership: corosync ring has %zu node(s) at_ms=%llu", n, (unsigned long long)clock_real_ms());
	feed(arg, &ev);
}

static void on_join(void *arg, uint32_t nodeid, uint32_t pid)
{
	struct node_event ev = {.kind = NODE_EV_JOIN, .nodeid = nodeid, .pid = pid};

	feed(arg, &ev);
}

static void on_leave(void *arg, uint32_t nodeid, uint32_t pid, enum view_leave_reason reason)
{
	struct manager *m = arg;
	struct node_event ev = {.kind = NODE_EV_LEAVE, .nodeid = nodeid, .pid = pid, .value = (int)reason};

	log_event(LOG_LVL_INFO, LOG_MSGID_MEMBERSHIP, "membership: %s left (%s) at_ms=%llu", name_of(m, nodeid),
		  reason == VIEW_LEAVE_NODE ? "node down" : "process gone", (unsigned long long)clock_real_ms());
	feed(m, &ev);
}

static void on_deliver(void *arg, uint32_t nodeid, uint32_t pid, const void *msg, size_t len)
{
	struct manager *m = arg;
	static struct wire_announce a;
	struct node_event ev = {.kind = NODE_EV_DELIVER, .nodeid = nodeid, .pid = pid, .announce = &a};
	enum wire_type type;
	int rc = wire_decode(msg, len, &type, &a);

	if (rc < 0) {
		/* Logged at 1, 2, 4, 8... refusals, so a flood cannot flood the log. */
		m->refused_messages++;
		if ((m->refused_messages & (m->refused_messages - 1)) == 0)
			log_warn("peer message from %s (pid %u) refused: %s (%llu refused so far)", name_of(m, nodeid),
				 pid, strerror(-rc), (unsigned long long)m->refused_messages);
		return;
	}
	feed(m, &ev);
}

static void on_quorum(void *arg, int known, int quorate)
{
	struct node_event ev = {.kind = NODE_EV_QUORUM, .quorum_known = known, .quorate = quorate};

	feed(arg, &ev);
}

static void on_ring_stalled(void *arg, uint32_t silent_ms, uint32_t bound_ms)
{
	struct node_event ev = {.kind = NODE_EV_RING_STALL, .ms = silent_ms, .ms2 = bound_ms};

	feed(arg, &ev);
}

static void on_ring_recovered(void *arg, uint32_t stalled_ms)
{
	struct node_event ev = {.kind = NODE_EV_RING_BACK, .ms = stalled_ms};

	log_info("ring-stall: corosync answers again after %u ms of silence", stalled_ms);
	feed(arg, &ev);
}

/* The knet watch follows the nodelist and port of corosync's newest answer. */
static void watch_knet(struct manager *m, const struct ringwatch_sample *s)
{
	struct knetwatch_peer peers[CONFIG_MAX_NODES];
	size_t n = 0;

	if (!m->knetwatch)
		return;
	for (size_t i = 0; i < s->n_links && n < CONFIG_MAX_NODES; i++, n++) {
		peers[n] = (struct knetwatch_peer){.nodeid = s->links[i].nodeid};
		for (size_t k = 0; k < s->links[i].n_addrs && k < 4; k++)
			peers[n].addrs[peers[n].n_addrs++] = s->links[i].addrs[k];
	}
	if (knetwatch_set(m->knetwatch, s->knet_port, peers, n) < 0)
		log_warn("knet watch: filter for port %u refused: %s", s->knet_port, strerror(errno));
}

/* The links as the core reads them: corosync's answer s; while corosync is silent
 * (its readings then stop, possibly before knet called a link down), a peer whose
 * traffic stopped reaching us is down (knetwatch.h). */
static void links_now(struct manager *m, const struct ringwatch_sample *s, struct node_links *l)
{
	uint64_t now = clock_mono_us();
	uint32_t timeout = knetwatch_timeout_ms(s->info.token_ms, s->knet_ping_ms);
	uint32_t unheard[CONFIG_MAX_NODES];
	size_t n = 0;

	ringwatch_links(m->ringwatch, s, l);
	for (size_t i = 0; i < l->n && l->silent && m->knetwatch; i++) {
		uint32_t id = l->v[i].nodeid;
		uint64_t heard = knetwatch_heard_us(m->knetwatch, id);
		int was = 0;

		if (!l->v[i].connected || knetwatch_link_up(1, heard, now, timeout))
			continue;
		l->v[i].connected = 0;
		unheard[n++] = id;
		for (size_t k = 0; k < m->n_unheard; k++)
			was |= m->unheard[k] == id;
		if (!was)
			log_warn("knet watch: no frame from %s for %llu ms while corosync is silent: its link "
				 "counts as down (corosync's last answer said up)",
				 name_of(m, id), (unsigned long long)((now - heard) / 1000u));
	}
	memcpy(m->unheard, unheard, n * sizeof(unheard[0]));
	m->n_unheard = n;
}

static void on_ring_sample(void *arg, const struct ringwatch_sample *s)
{
	struct manager *m = arg;
	static struct node_links l;
	struct node_event ev = {.kind = NODE_EV_RING_SAMPLE, .links = &l};
	int version = s->corosync_version[0] && strcmp(s->corosync_version, m->env.node->corosync_version) != 0;
	enum qdevice_event qe;

	watch_knet(m, s);
	links_now(m, s, &l);
	feed(m, &ev);
	qe = qdevice_watch_sample(&m->qdevice, &s->qdevice, s->at_us,
				  qdevice_grace_ms(s->info.token_ms, s->info.consensus_ms));
	if (qe != QDEVICE_EVENT_NONE)
		audit(m, AUDITLOG_FINDING, qdevice_event_json(&m->qdevice, qe, s->at_us), s->at_us);
	if (version && m->env.audit)
		audit_set_corosync(m->env.audit, m->env.node->corosync_digest, m->env.node->corosync_version);
}

/* The pair watch, every tick, on the newest link states corosync gave: while it
 * does not answer (it does not while it cannot settle a membership), the last. */
static void on_pair_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct manager *m = w->data;
	static struct node_links l;
	struct node_event ev = {.kind = NODE_EV_PAIR_TICK, .links = &l};

	if (ringwatch_last(m->ringwatch, &m->sample) < 0)
		return;
	links_now(m, &m->sample, &l);
	feed(m, &ev);
}

static const struct ringwatch_ops ringwatch_ops = {
	.stalled = on_ring_stalled,
	.recovered = on_ring_recovered,
	.sample = on_ring_sample,
};

static int on_effect_event(void *arg, const struct node_event *ev)
{
	return feed(arg, ev);
}

static void on_effect_emit(void *arg, const char *type, json_t *event)
{
	struct manager *m = arg;

	listeners_emit(&m->listeners, type, event);
}

/* The periodic audit starts once we are in the cluster, so that its first run
 * never delays joining. */
static void on_joined(void *arg)
{
	struct manager *m = arg;

	if (m->env.audit && !m->audit_started) {
		m->audit_started = 1;
		ev_feed_event(m->env.loop, &m->audit_start, EV_TIMER);
	}
}

static const struct executor_ops executor_ops = {
	.feed = on_effect_event,
	.emit = on_effect_emit,
	.joined = on_joined,
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

/* What this node is for a group, as the conflict watcher judges a frame. */
static int conflict_role(void *arg, const char *group, struct conflict_role *out)
{
	struct manager *m = arg;

	return conflict_resolve_role(m->env.node, group, out);
}

static int conflict_reannounce(void *arg, const char *group)
{
	struct node_event ev = {.kind = NODE_EV_CONFLICT, .group = group};

	return feed(arg, &ev);
}

static void on_conflict(void *arg, const struct conflict_event *ev)
{
	struct manager *m = arg;

	conflict_resolve(m->conflict, m->executor, ev, conflict_reannounce, m);
}

static void start_conflict(struct manager *m)
{
	int rc;

	m->knetwatch = knetwatch_new(m->env.loop);
	if (!m->knetwatch)
		log_warn("knet watch: not started (%s): while corosync is silent the pair watch has "
			 "only the link states it read last", strerror(errno));
	m->conflict = conflict_new(m->env.loop, m->env.vip, conflict_role, on_conflict, m);
	rc = m->conflict ? conflict_set_config(m->conflict, m->env.config) : -errno;
	if (rc < 0)
		log_err("conflict detection: not started: %s", strerror(-rc));
}

static int adopt(void *arg, const char *group)
{
	struct node_event ev = {.kind = NODE_EV_ADOPT, .group = group};

	return feed(arg, &ev);
}

static void open_auditlog(struct manager *m)
{
	m->env.auditlog = startup_auditlog(m->env.loop, m->env.config, &m->nodes);
	if (m->env.auditlog)
		audit(m, AUDITLOG_START, startup_record_json(m->env.config), AUDIT_NOW);
}

/* The core, with the state an earlier run persisted and the agent's first word. */
static int start_node(struct manager *m, const struct wire_admin *admin)
{
	uint8_t digest[32];

	m->env.node = calloc(1, sizeof(*m->env.node));
	m->fx = calloc(1, sizeof(*m->fx));
	if (!m->env.node || !m->fx)
		return -ENOMEM;
	config_cluster_digest(m->env.config, digest);
	node_init(m->env.node, m->env.config, digest, &m->nodes, admin);
	on_health_changed(m);
	return 0;
}

static int start_services(struct manager *m)
{
	struct wire_admin admin;
	int rc;

	open_auditlog(m);
	rc = admission_exposure(m->executor, m->env.config);
	if (rc < 0)
		return rc;
	startup_admin_state(m->env.config, m->admin_path, sizeof(m->admin_path), &admin);
	m->health = health_new(m->env.loop, m->env.config->health_socket, m->env.config->health_ttl_ms,
			       on_health_changed, m);
	if (!m->health)
		return -errno;
	rc = health_start(m->health);
	if (rc < 0) {
		log_err("health socket %s: %s", m->env.config->health_socket, strerror(-rc));
		return rc;
	}
	rc = start_node(m, &admin);
	if (rc < 0)
		return rc;
	m->env.audit = audit_new(m->env.loop, m->env.config, m->env.auditlog);
	if (!m->env.audit)
		log_err("audit: not started: %s", strerror(errno));
	reconcile_kernel(m->env.vip, m->env.config, adopt, m);
	start_conflict(m);
	m->env.membership = membership_new(m->env.loop, m->env.config->cpg_group, &membership_ops, m);
	if (!m->env.membership)
		return -errno;
	rc = membership_start(m->env.membership);
	if (rc < 0)
		return rc;
	/* A fence left by a fomgr that died withdrawn would keep this node out. */
	if (fence_return() == 0)
		log_warn("bridge partition: removed a withdrawal left by an earlier run");
	m->ringwatch = ringwatch_new(m->env.loop, &ringwatch_ops, m);
	if (!m->ringwatch)
		return -ENOMEM;
	ev_timer_start(m->env.loop, &m->pair_tick);
	return ringwatch_start(m->ringwatch);
}

static void on_nodelist_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct manager *m = w->data;
	int rc = membership_read_nodelist(&m->nodes);

	if (rc < 0)
		return; /* the timer repeats */
	ev_timer_stop(loop, w);
	m->env.config = admission_load(m->config_path, &m->nodes);
	if (!m->env.config || start_services(m) < 0) {
		log_err("cannot start; exiting");
		ev_break(loop, EVBREAK_ALL);
	}
}

struct manager *manager_new(struct ev_loop *loop, const char *config_path)
{
	struct manager *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->env.loop = loop;
	m->env.sample = &m->sample;
	m->env.admin_path = m->admin_path;
	m->executor = executor_new(&m->env, &executor_ops, m);
	if (!m->executor) {
		free(m);
		return NULL;
	}
	snprintf(m->config_path, sizeof(m->config_path), "%s", config_path);
	ev_timer_init(&m->nodelist_retry, on_nodelist_retry, 0., 1.);
	m->nodelist_retry.data = m;
	ev_timer_init(&m->audit_start, on_audit_start, 0., 0.);
	m->audit_start.data = m;
	ev_timer_init(&m->reannounce, on_reannounce, 5., 5.);
	m->reannounce.data = m;
	ev_timer_init(&m->pair_tick, on_pair_tick, 0.1, 0.1);
	m->pair_tick.data = m;
	return m;
}

void manager_free(struct manager *m)
{
	if (!m)
		return;
	ev_timer_stop(m->env.loop, &m->nodelist_retry);
	executor_close(m->executor);
	ev_timer_stop(m->env.loop, &m->reannounce);
	ev_timer_stop(m->env.loop, &m->pair_tick);
	if (ringwatch_is_stalled(m->ringwatch))
		membership_abandon(m->env.membership);
	ringwatch_free(m->ringwatch);
	if (m->env.node && m->env.node->pairs.withdrawn_from && fence_return() == 0)
		log_info("bridge partition: withdrawal lifted on the way out");
	audit_free(m->env.audit);
	if (m->env.auditlog) {
		audit(m, AUDITLOG_STOP, json_pack("{s:s}", "version", FO_VERSION), AUDIT_NOW);
		auditlog_close(m->env.auditlog);
	}
	membership_free(m->env.membership);
	conflict_free(m->conflict);
	knetwatch_free(m->knetwatch);
	vip_free(m->env.vip); /* its cancelled requests complete into a closed executor */
	executor_free(m->executor);
	health_free(m->health);
	config_free(m->env.config);
	free(m->env.node);
	free(m->fx);
	free(m);
}

int manager_start(struct manager *m)
{
	struct config *probe = admission_load(m->config_path, NULL);

	/* Refuse a bad file at once; node names are checked once corosync answers. */
	if (!probe)
		return -EINVAL;
	config_free(probe);
	m->env.vip = vip_new(m->env.loop);
	if (!m->env.vip)
		return -errno;
	if (membership_read_nodelist(&m->nodes) < 0)
		log_info("waiting for corosync to read its nodelist");
	ev_timer_start(m->env.loop, &m->nodelist_retry);
	ev_feed_event(m->env.loop, &m->nodelist_retry, EV_TIMER);
	return 0;
}

/* A reload that admission accepted: every module takes the new config. */
int manager_reload(struct manager *m)
{
	struct node_event ev = {.kind = NODE_EV_CONFIG};
	struct config *next;
	int rc;

	if (!m->env.config || !m->env.node)
		return -EAGAIN;
	membership_read_nodelist(&m->nodes);
	rc = admission_reload(m->executor, m->config_path, m->env.config, &m->nodes, &next);
	if (rc < 0)
		return rc;
	if (m->conflict && conflict_set_config(m->conflict, next) < 0)
		log_err("conflict detection: the new addresses are not watched");
	if (m->env.audit)
		audit_set_config(m->env.audit, next);
	ev.config = next;
	config_cluster_digest(next, ev.digest);
	feed(m, &ev);
	config_free(m->env.config);
	m->env.config = next;
	log_event(LOG_LVL_INFO, LOG_MSGID_CONFIG, "configuration reloaded from %s", m->config_path);
	on_health_changed(m); /* the checks the groups depend on may have changed */
	return 0;
}

void manager_shutdown(struct manager *m)
{
	if (m->env.node && m->env.node->leaving)
		return;
	log_info("shutting down: releasing every group");
	if (!m->env.node) {
		ev_break(m->env.loop, EVBREAK_ALL);
		return;
	}
	feed_simple(m, NODE_EV_SHUTDOWN);
}

int manager_config_test(const char *path)
{
	return admission_config_test(path);
}

int manager_listen(struct manager *m, manager_event_fn fn, void *arg)
{
	return listeners_add(&m->listeners, fn, arg);
}

void manager_unlisten(struct manager *m, manager_event_fn fn, void *arg)
{
	listeners_remove(&m->listeners, fn, arg);
}

json_t *manager_status(const struct manager *m)
{
	struct status_sources src = {
		.config = m->env.config,
		.node = m->env.node,
		.ringwatch = m->ringwatch,
		.executor = m->executor,
		.qdevice = &m->qdevice,
		.audit = m->env.audit,
		.conflict = m->conflict,
		.health_stale = health_stale(m->health),
		.extra = m->status_extra,
		.extra_arg = m->status_extra_arg,
	};

	return status_gather(&src, clock_mono_us(), clock_real_ms());
}

void manager_set_status_extra(struct manager *m, manager_status_fn fn, void *arg)
{
	m->status_extra = fn;
	m->status_extra_arg = arg;
}

/* An operator's request: the core checks it and edits the admin state; it is
 * persisted here before the core announces it. */
static int request(struct manager *m, struct node_event *ev, manager_done_fn done, void *arg)
{
	struct node_event saved = {.kind = NODE_EV_ADMIN_SAVED};
	int rc;

	if (!m->env.config || !m->env.node)
		return -EAGAIN;
	ev->kind = NODE_EV_ADMIN;
	ev->uid = m->author_uid;
	ev->user = m->author;
	executor_request_begin(m->executor);
	rc = feed(m, ev);
	if (rc < 0)
		return rc;
	saved.value = executor_request_saved_rc(m->executor);
	rc = feed(m, &saved);
	if (rc == 0)
		executor_reply_to(m->executor, done, arg);
	return rc;
}

int manager_request_standby(struct manager *m, const char *node, int on, manager_done_fn done, void *arg)
{
	struct node_event ev = {.admin = NODE_ADMIN_STANDBY, .node = node, .on = on};

	return request(m, &ev, done, arg);
}

/* node NULL: clear the pin. node "" : move to the next eligible node after the
 * current owner, in the group's preference. */
int manager_request_pin(struct manager *m, const char *group, const char *node, manager_done_fn done, void *arg)
{
	struct node_event ev = {.admin = NODE_ADMIN_PIN, .group = group, .node = node};

	return request(m, &ev, done, arg);
}

int manager_request_disable(struct manager *m, const char *group, int on, manager_done_fn done, void *arg)
{
	struct node_event ev = {.admin = NODE_ADMIN_DISABLE, .group = group, .on = on};

	return request(m, &ev, done, arg);
}

int manager_request_maintenance(struct manager *m, int on, manager_done_fn done, void *arg)
{
	struct node_event ev = {.admin = NODE_ADMIN_MAINTENANCE, .on = on};

	return request(m, &ev, done, arg);
}

int manager_simulate(const struct manager *m, const struct whatif *w, struct whatif_result *out)
{
	return m->env.node ? node_simulate(m->env.node, w, out) : -EAGAIN;
}

void manager_set_author(struct manager *m, uint32_t uid, const char *user)
{
	m->author_uid = uid;
	snprintf(m->author, sizeof(m->author), "%s", user ? user : "");
}

json_t *manager_history(const struct manager *m, uint64_t since_ms)
{
	const struct history *h = executor_history(m->executor);

	return h ? history_json(h, since_ms) : json_array();
}

int manager_next_owner(const struct manager *m, const char *group, char *out)
{
	return m->env.node ? node_next_owner(m->env.node, group, out) : -ENOENT;
}

int manager_explain(const struct manager *m, const char *group, const char *node, char *out, size_t size)
{
	return m->env.node ? node_explain(m->env.node, group, node, out, size) : -ENOENT;
}

int manager_group_holder(const struct manager *m, const char *group, char *out)
{
	return m->env.node ? node_group_holder(m->env.node, group, out) : -ENOENT;
}

void manager_cluster_state(const struct manager *m, int *joined, int *quorate, size_t *members)
{
	const struct node *node = m->env.node;

	*joined = node && node->joined;
	*quorate = node && node->view.quorate;
	*members = node ? view_members(&node->view) : 0;
}

struct auditlog *manager_auditlog(const struct manager *m)
{
	return m->env.auditlog;
}

void manager_vip_stats(const struct manager *m, struct vip_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (m->env.vip)
		vip_get_stats(m->env.vip, out);
}
