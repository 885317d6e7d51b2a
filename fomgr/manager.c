#include "manager.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fo/clock.h"
#include "fo/log.h"
#include "health.h"
#include "membership.h"
#include "placement.h"
#include "transition.h"
#include "vip.h"
#include "view.h"
#include "wire.h"

#define SHUTDOWN_WAIT 1.0 /* at most this long for our last announce to go round */

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
	int leaving, standby;
	uint64_t eligible_since_us[CONFIG_MAX_GROUPS];
	uint32_t last_owner[CONFIG_MAX_GROUPS];
	uint64_t event_us;
	int joined;
};

static void recompute(struct manager *m);

static const char *name_of(struct manager *m, uint32_t nodeid)
{
	struct view_node *n = view_node_by_id(&m->view, nodeid);

	return n ? n->name : "?";
}


/* What this node tells the cluster about itself. */
static void build_announce(struct manager *m, struct wire_announce *a)
{
	uint64_t now = clock_mono_us();

	memset(a, 0, sizeof(*a));
	a->flags = (m->standby ? WIRE_F_STANDBY : 0) | (m->leaving ? WIRE_F_LEAVING : 0) |
		   (health_stale(m->health) ? WIRE_F_HEALTH_STALE : 0);
	memcpy(a->config_digest, m->config->digest, sizeof(a->config_digest));
	snprintf(a->version, sizeof(a->version), "fomgr-%s", FO_VERSION);
	for (size_t i = 0; i < m->config->n_groups; i++) {
		const struct config_group *g = &m->config->groups[i];

		if (transition_claims(m->transition, g->name))
			strcpy(a->held[a->n_held++], g->name);
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

static void recompute(struct manager *m)
{
	struct placement p;

	if (!m->config || m->leaving)
		return;
	track_eligibility(m);
	placement_compute(&m->view, m->config, &p);
	log_placement(m, &p);
	transition_apply(m->transition, &p, &m->view, m->event_us);
	announce(m, 0);
}

static void on_failback_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct manager *m = w->data;

	m->event_us = clock_mono_us();
	recompute(m);
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

static void on_connected(void *arg, uint32_t local)
{
	struct manager *m = arg;
	struct membership_info info;

	m->view.local_nodeid = local;
	m->have_sent = 0;
	if (membership_read_info(&info) == 0) {
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
	view_reset(&m->view);
	transition_release_all(m->transition, TRANSITION_QUORUM, NULL, NULL);
}

static void log_quorum(struct manager *m, int known, int quorate)
{
	if (known && (!m->view.quorum_known || quorate != m->view.quorate))
		log_info("quorum: %s at_ms=%llu", quorate ? "quorate" : "NOT quorate",
			 (unsigned long long)clock_real_ms());
}

static void on_totem(void *arg, const uint32_t *nodeids, size_t n, int quorum_known, int quorate)
{
	struct manager *m = arg;

	m->event_us = clock_mono_us();
	log_info("membership: corosync ring has %zu node(s) at_ms=%llu", n, (unsigned long long)clock_real_ms());
	log_quorum(m, quorum_known, quorate);
	view_apply_totem(&m->view, nodeids, n);
	view_apply_quorum(&m->view, quorum_known, quorate);
	recompute(m);
}

static void on_join(void *arg, uint32_t nodeid, uint32_t pid)
{
	struct manager *m = arg;

	m->event_us = clock_mono_us();
	view_apply_join(&m->view, nodeid, pid);
	if (nodeid == m->view.local_nodeid && pid == (uint32_t)getpid()) {
		m->joined = 1;
		log_info("membership: joined the group with %zu member(s)", view_members(&m->view));
	} else {
		log_info("membership: %s joined (pid %u)", name_of(m, nodeid), pid);
	}
	/* Whoever joined needs everyone's state: all of us announce again. */
	announce(m, 1);
	recompute(m);
}

static void on_leave(void *arg, uint32_t nodeid, uint32_t pid, enum view_leave_reason reason)
{
	struct manager *m = arg;

	m->event_us = clock_mono_us();
	log_info("membership: %s left (%s) at_ms=%llu", name_of(m, nodeid),
		 reason == VIEW_LEAVE_NODE ? "node down" : "process gone", (unsigned long long)clock_real_ms());
	view_apply_leave(&m->view, nodeid, pid, reason);
	recompute(m);
}

static void on_deliver(void *arg, uint32_t nodeid, uint32_t pid, const void *msg, size_t len)
{
	struct manager *m = arg;
	static struct wire_announce a;
	enum wire_type type;
	int rc = wire_decode(msg, len, &type, &a);

	m->event_us = clock_mono_us();
	if (rc < 0) {
		log_warn("peer message from %s refused: %s", name_of(m, nodeid), strerror(-rc));
		return;
	}
	if (!view_apply_announce(&m->view, nodeid, pid, &a))
		return;
	if (memcmp(a.config_digest, m->config->digest, sizeof(a.config_digest)) != 0 &&
	    nodeid != m->view.local_nodeid)
		log_debug("%s runs a different configuration", name_of(m, nodeid));
	if (m->leaving && nodeid == m->view.local_nodeid && (a.flags & WIRE_F_LEAVING) && a.n_held == 0) {
		ev_break(m->loop, EVBREAK_ALL);
		return;
	}
	recompute(m);
}

static void on_quorum(void *arg, int known, int quorate)
{
	struct manager *m = arg;

	log_quorum(m, known, quorate);
	m->event_us = clock_mono_us();
	view_apply_quorum(&m->view, known, quorate);
	recompute(m);
}

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

static int start_services(struct manager *m)
{
	int rc;

	view_init(&m->view, &m->nodes, 0);
	ensure_dir(m->config->runtime_dir, 0755);
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
	transition_reconcile(m->transition);
	m->membership = membership_new(m->loop, m->config->cpg_group, &membership_ops, m);
	if (!m->membership)
		return -errno;
	return membership_start(m->membership);
}

static void on_nodelist_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct manager *m = w->data;
	int rc = membership_read_nodelist(&m->nodes);

	if (rc < 0)
		return; /* the timer repeats */
	ev_timer_stop(loop, w);
	m->config = load_config(m->config_path, &m->nodes);
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
	membership_free(m->membership);
	transition_free(m->transition);
	health_free(m->health);
	vip_free(m->vip);
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

int manager_reload(struct manager *m)
{
	struct config *next;

	if (!m->config)
		return -EAGAIN;
	membership_read_nodelist(&m->nodes);
	next = load_config(m->config_path, &m->nodes);
	if (!next) {
		log_err("reload refused: keeping the running configuration");
		return -EINVAL;
	}
	transition_set_config(m->transition, next);
	config_free(m->config);
	m->config = next;
	log_info("configuration reloaded from %s", m->config_path);
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
