/* The security audit as it runs (see audit.h). Findings come from four sources, each
 * with its own set of active findings: the port judge (audit_ports.c), the probe
 * rounds (audit_probe.c), the network state (netstate.c) and the drift between
 * nodes (audit_drift.c). A finding is
 * recorded and logged when it appears and when it goes away, not on every run, so a
 * standing problem does not flood the log; the transition records (AUDITLOG_SNAPSHOT)
 * carry the findings active at that moment.
 *
 * Around a transition nothing here delays the move: the hooks only queue the work,
 * which runs from a zero timer in the next loop iteration, after the I/O already
 * pending then (the kernel's acknowledgements, the peers' messages: the timer's
 * priority is below theirs, since libev runs the watchers of one priority last
 * queued first, timers after I/O): the count of the connections on the VIPs, the
 * snapshot, the record. Records are queued in the audit log (auditlog_enqueue),
 * which writes them after that. (Not an idle watcher: a watcher that is always
 * pending would starve it.) */
#include "audit.h"

#include <errno.h>
#include <ev.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_addr.h"
#include "audit_drift.h"
#include "audit_findings.h"
#include "audit_ports.h"
#include "audit_probe.h"
#include "auditlog.h"
#include "fo/clock.h"
#include "fo/log.h"
#include "fo/sockdiag.h"
#include "netstate.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_PENDING (2 * CONFIG_MAX_GROUPS)
#define SNAPSHOT_RECORD_LISTENERS 64 /* listeners listed in a snapshot record */
#define SNAPSHOT_RECORD_FINDINGS 64  /* findings listed in a snapshot record */

/* ---- the running audit ---- */

enum source { SRC_PORTS, SRC_PROBES, SRC_NETWORK, SRC_DRIFT, SRC_MAX };
static const char *const source_names[SRC_MAX] = {"ports", "probes", "network", "drift"};

struct pending {
	bool after; /* after_acquire, else before_release */
	char group[CONFIG_NAME_MAX];
	uint64_t queued_us;
	int count_error;
	uint64_t connections;
	uint32_t counts[CONFIG_MAX_ADDRS];
};

struct audit {
	struct ev_loop *loop;
	const struct config *config;
	struct auditlog *log;
	struct sockdiag_owners *owners;
	struct sockdiag_snapshot *snap; /* the latest one */
	uint64_t snap_us;
	struct audit_findings active[SRC_MAX];
	struct audit_targets targets;
	struct netstate_summary net;     /* the latest network summary */
	bool have_net;
	uint8_t corosync_digest[32]; /* set by the caller, who reads corosync's files */
	char corosync_version[32];
	/* what this node announces, computed when an input changes (config, network
	 * summary, corosync identity), never per announce: announces are on the
	 * failover path */
	struct netstate_peer_state local;
	ev_timer periodic;
	ev_timer deferred; /* the transition and periodic audits run from the next loop iteration */
	bool periodic_due;
	size_t n_pending;
	struct pending pending[MAX_PENDING];
	struct audit_probe_round *probe;
	struct audit_probe_stats probe_stats;
	struct audit_stats stats; /* but for the probes' */
	bool log_failing;
};

static void record(struct audit *a, enum auditlog_type type, json_t *fields)
{
	int r = a->log && fields ? auditlog_enqueue(a->log, type, fields, 0) : 0;

	if (!fields)
		r = -ENOMEM;
	if (r < 0) {
		a->stats.log_errors++;
		if (!a->log_failing)
			log_err("audit record (%s) not written: %s", auditlog_type_str(type), strerror(-r));
	} else if (a->log_failing) {
		log_info("audit records are written again");
	}
	a->log_failing = r < 0;
	json_decref(fields);
}

static void finding_note(struct audit *a, enum source src, const struct audit_finding *f, bool resolved)
{
	json_t *rec = audit_finding_json(f);

	if (resolved)
		log_event(LOG_LVL_INFO, LOG_MSGID_FINDING, "audit finding resolved kind=%s subject=\"%s\"",
			  audit_kind_str(f->kind), f->subject);
	else
		log_event(f->severity == AUDIT_INFO ? LOG_LVL_INFO : LOG_LVL_WARN, LOG_MSGID_FINDING,
			  "audit finding kind=%s severity=%s subject=\"%s\" detail=\"%s\"", audit_kind_str(f->kind),
			  audit_severity_str(f->severity), f->subject, f->detail);
	if (rec) {
		json_object_set_new(rec, "state", json_string(resolved ? "resolved" : "new"));
		json_object_set_new(rec, "source", json_string(source_names[src]));
	}
	record(a, AUDITLOG_FINDING, rec);
	if (resolved)
		a->stats.findings_resolved++;
	else
		a->stats.findings_new++;
}

/* now becomes the active set of src; what appeared and what went away is noted. */
static void reconcile(struct audit *a, enum source src, struct audit_findings *now)
{
	struct audit_findings *old = &a->active[src];

	for (size_t i = 0; i < now->n; i++)
		if (!audit_findings_has(old, now->v[i].kind, now->v[i].subject))
			finding_note(a, src, &now->v[i], false);
	for (size_t i = 0; i < old->n; i++)
		if (!audit_findings_has(now, old->v[i].kind, old->v[i].subject))
			finding_note(a, src, &old->v[i], true);
	audit_findings_clear(old);
	*old = *now;
	memset(now, 0, sizeof(*now));
	a->stats.findings_active = 0;
	for (int s = 0; s < SRC_MAX; s++)
		a->stats.findings_active += a->active[s].n;
}

/* The active findings, at most max of them (a record must fit a log line). */
static json_t *active_json(const struct audit *a, size_t max)
{
	json_t *arr = json_array();

	for (int s = 0; arr && s < SRC_MAX; s++)
		for (size_t i = 0; i < a->active[s].n && json_array_size(arr) < max; i++)
			json_array_append_new(arr, audit_finding_json(&a->active[s].v[i]));
	return arr;
}

/* ---- port snapshots ---- */

static int by_inode(const void *x, const void *y)
{
	const struct sockdiag_listener *a = x, *b = y;

	return a->inode < b->inode ? -1 : a->inode > b->inode;
}

/* Owners from the previous snapshot, matched by socket inode: a listener that is
 * new since then stays "owner unknown" until the next periodic audit. */
static void owners_carry(const struct sockdiag_snapshot *old, struct sockdiag_snapshot *now)
{
	struct sockdiag_listener *sorted;

	if (!old || old->n == 0 || !(sorted = malloc(old->n * sizeof(*sorted))))
		return;
	memcpy(sorted, old->listeners, old->n * sizeof(*sorted));
	qsort(sorted, old->n, sizeof(*sorted), by_inode);
	for (size_t i = 0; i < now->n; i++) {
		const struct sockdiag_listener *o = bsearch(&now->listeners[i], sorted, old->n, sizeof(*sorted), by_inode);

		if (o) {
			now->listeners[i].pid = o->pid;
			memcpy(now->listeners[i].comm, o->comm, sizeof(o->comm));
		}
	}
	free(sorted);
}

/* with_owners: the periodic audit looks owners up (reading /proc, the slow part);
 * the one after an acquire carries them over from it, so that its cost does not
 * grow with every process's descriptors. */
static int take_snapshot(struct audit *a, bool with_owners)
{
	struct sockdiag_snapshot *snap;
	int r = sockdiag_listeners(with_owners ? a->owners : NULL, &snap);

	if (r < 0) {
		a->stats.snapshot_errors++;
		return r;
	}
	if (!with_owners)
		owners_carry(a->snap, snap);
	sockdiag_snapshot_free(a->snap);
	a->snap = snap;
	a->snap_us = clock_mono_us();
	a->stats.listeners = snap->n;
	return 0;
}

static void audit_ports(struct audit *a)
{
	struct audit_findings now = {0};
	struct audit_local_addrs *local = malloc(sizeof(*local));

	if (!local || audit_local_addrs_read(local) < 0) {
		free(local);
		local = NULL;
	}
	if (a->snap && audit_ports_compare(a->snap, &a->config->audit, local, &now) == 0)
		reconcile(a, SRC_PORTS, &now);
	audit_findings_clear(&now);
	free(local);
}

/* ---- this node's state, as announced ---- */

static void refresh_local(struct audit *a)
{
	audit_drift_local(a->config, a->corosync_digest, a->corosync_version, a->have_net ? &a->net : NULL,
			  &a->local);
}

/* ---- network state ---- */

static void note_network_change(struct audit *a, const struct netstate_summary *old,
				const struct netstate_summary *now)
{
	static const char *const parts[] = {"routes", "firewall"};
	const json_t *o[] = {old->routes, old->firewall}, *n[] = {now->routes, now->firewall};
	json_t *diff = json_array(), *changed = json_array();
	struct netstate_digests d;

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		if (json_equal((json_t *)o[i], (json_t *)n[i]))
			continue;
		json_array_append_new(changed, json_string(parts[i]));
		netstate_list_diff(n[i], o[i], diff, 8); /* a record must fit a line */
		log_warn("audit network change: %s differ from the previous audit", parts[i]);
	}
	if (json_array_size(changed) == 0) {
		json_decref(diff);
		json_decref(changed);
		return;
	}
	netstate_summary_digest(now, &d);
	record(a, AUDITLOG_CONFIG, json_pack("{s:s, s:o, s:o, s:o}", "what", "network", "changed", changed,
					     "diff", diff, "digests", netstate_digests_json(&d)));
}

/* The first audit's digests, so that later changes have something to refer to. */
static void note_network_baseline(struct audit *a, const struct netstate_summary *now)
{
	struct netstate_digests d;

	if (netstate_summary_digest(now, &d) < 0)
		return;
	record(a, AUDITLOG_CONFIG, json_pack("{s:s, s:b, s:o, s:i, s:i, s:i}", "what", "network", "baseline", 1,
					     "digests", netstate_digests_json(&d), "routes",
					     (int)json_array_size(now->routes), "firewall_objects",
					     (int)json_array_size(now->firewall), "firewall_error", now->firewall_error));
}

static void audit_network(struct audit *a)
{
	struct audit_findings now = {0};
	struct netstate_summary sum = {0};

	for (size_t g = 0; g < a->config->n_groups; g++)
		netstate_validate_group(&a->config->groups[g], &now);
	netstate_check_default_route(&now);
	reconcile(a, SRC_NETWORK, &now);
	if (netstate_summary_read(a->config, &sum) < 0)
		return;
	if (a->have_net)
		note_network_change(a, &a->net, &sum);
	else
		note_network_baseline(a, &sum);
	netstate_summary_clear(&a->net);
	a->net = sum;
	a->have_net = true;
	refresh_local(a);
}

/* ---- probes ---- */

static void on_probe_round(void *arg, struct audit_findings *findings)
{
	struct audit *a = arg;

	a->probe = NULL;
	reconcile(a, SRC_PROBES, findings);
}

static void probe_round_start(struct audit *a)
{
	const struct audit_probe_round_options o = {.done = on_probe_round, .arg = a, .stats = &a->probe_stats};
	struct audit_local_addrs *local = malloc(sizeof(*local));

	if (!a->probe && a->config->audit.probe && local && audit_local_addrs_read(local) == 0)
		audit_probe_round_start(a->loop, &a->config->audit, &a->targets, local, &o, &a->probe);
	free(local);
}

static void probe_round_cancel(struct audit *a)
{
	audit_probe_round_cancel(a->probe);
	a->probe = NULL;
}

/* ---- periodic ---- */

static void stat_time(uint64_t us, uint64_t *last, uint64_t *max)
{
	*last = us;
	if (us > *max)
		*max = us;
}

int audit_run_now(struct audit *a)
{
	uint64_t t0 = clock_mono_us();
	int r = 0;

	a->stats.periodic_runs++;
	if (a->config->audit.present) {
		r = take_snapshot(a, true);
		if (r == 0)
			audit_ports(a);
		else
			log_warn("audit: socket snapshot failed: %s", strerror(-r));
	}
	audit_network(a);
	stat_time(clock_mono_us() - t0, &a->stats.periodic_us_last, &a->stats.periodic_us_max);
	if (a->config->audit.present)
		probe_round_start(a);
	return r;
}

/* The periodic audit, too, runs from the zero timer: the transition audits queued
 * meanwhile go first. */
static void on_periodic(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct audit *a = w->data;

	a->periodic_due = true;
	ev_timer_start(loop, &a->deferred);
}

int audit_periodic_start(struct audit *a)
{
	uint32_t ms = a->config->audit.interval_ms;

	audit_run_now(a);
	ev_timer_stop(a->loop, &a->periodic);
	if (!a->config->audit.present || ms == 0)
		return 0;
	ev_timer_set(&a->periodic, ms / 1000.0, ms / 1000.0);
	ev_timer_start(a->loop, &a->periodic);
	return 0;
}

void audit_periodic_stop(struct audit *a)
{
	ev_timer_stop(a->loop, &a->periodic);
	a->periodic_due = false;
	probe_round_cancel(a);
}

/* ---- around transitions ---- */

/* The group's VIPs as socket addresses; returns how many. */
static size_t group_vips(const struct config_group *g, struct sockaddr_storage *out)
{
	for (size_t i = 0; i < g->n_addrs; i++)
		audit_addr_set(&out[i], g->addrs[i].family, &g->addrs[i].addr);
	return g->n_addrs;
}

static void count_connections(const struct config_group *g, struct pending *p)
{
	struct sockaddr_storage addrs[CONFIG_MAX_ADDRS];
	size_t n = group_vips(g, addrs);

	p->count_error = sockdiag_count_established_local(addrs, n, p->counts, &p->connections);
}

static struct pending *pending_add(struct audit *a, const char *group, bool after)
{
	struct pending *p;

	if (a->n_pending == MAX_PENDING) {
		a->stats.deferred_dropped++;
		return NULL;
	}
	p = &a->pending[a->n_pending++];
	memset(p, 0, sizeof(*p));
	snprintf(p->group, sizeof(p->group), "%s", group);
	p->after = after;
	p->queued_us = clock_mono_us();
	ev_timer_start(a->loop, &a->deferred);
	return p;
}

/* The count runs from the loop too: a deleted address does not close its
 * connections, so right after the release they are still there to be counted. */
int audit_before_release(struct audit *a, const char *group)
{
	uint64_t t0 = clock_mono_us();
	struct pending *p;

	if (!config_group_find(a->config, group))
		return -ENOENT;
	p = pending_add(a, group, false);
	if (!p)
		return -ENOBUFS;
	a->stats.before_release_runs++;
	stat_time(clock_mono_us() - t0, &a->stats.before_release_us_last, &a->stats.before_release_us_max);
	return 0;
}

int audit_after_acquire(struct audit *a, const char *group)
{
	if (!config_group_find(a->config, group))
		return -ENOENT;
	return pending_add(a, group, true) ? 0 : -ENOBUFS;
}

static json_t *vip_counts_json(const struct config_group *g, const struct pending *p)
{
	json_t *obj = json_object();

	for (size_t i = 0; obj && g && i < g->n_addrs && p->count_error == 0; i++)
		json_object_set_new(obj, g->addrs[i].text, json_integer(p->counts[i]));
	return obj;
}

static void record_snapshot(struct audit *a, const struct pending *p, uint64_t took_us)
{
	const struct config_group *g = config_group_find(a->config, p->group);
	double age_ms = a->snap ? (double)(clock_mono_us() - a->snap_us) / 1000.0 : -1;
	json_t *rec = json_pack("{s:s, s:s, s:I, s:o, s:f, s:f, s:I, s:b, s:o, s:o}", "phase",
				p->after ? "after_acquire" : "before_release", "group", p->group, "vip_connections",
				(json_int_t)p->connections, "vip_connections_by_address", vip_counts_json(g, p),
				"took_ms", (double)took_us / 1000.0, "snapshot_age_ms", age_ms, "listeners",
				(json_int_t)(a->snap ? a->snap->n : 0), "listeners_truncated",
				a->snap && a->snap->n > SNAPSHOT_RECORD_LISTENERS, "listener_list",
				audit_ports_listeners_json(a->snap, SNAPSHOT_RECORD_LISTENERS), "findings",
				active_json(a, SNAPSHOT_RECORD_FINDINGS));

	if (rec)
		json_object_set_new(rec, "findings_active", json_integer((json_int_t)a->stats.findings_active));
	if (rec && p->count_error)
		json_object_set_new(rec, "count_error", json_string(strerror(-p->count_error)));
	log_info("audit %s group=%s vip_connections=%" PRIu64 " listeners=%zu findings=%zu took_ms=%.3f",
		 p->after ? "after_acquire" : "before_release", p->group, p->connections,
		 a->snap ? a->snap->n : 0, a->stats.findings_active, (double)took_us / 1000.0);
	record(a, AUDITLOG_SNAPSHOT, rec);
}

/* After an acquire: a fresh snapshot (the address is up now), the counts, the
 * group's network state. */
static void run_after(struct audit *a, struct pending *p)
{
	const struct config_group *g = config_group_find(a->config, p->group);
	uint64_t t0 = clock_mono_us();
	struct audit_findings net = {0};

	if (!g)
		return;
	if (a->config->audit.present && take_snapshot(a, false) == 0)
		audit_ports(a);
	count_connections(g, p);
	netstate_validate_group(g, &net);
	for (size_t i = 0; i < net.n; i++)
		log_warn("audit after_acquire group=%s %s: %s", p->group, net.v[i].subject, net.v[i].detail);
	audit_findings_clear(&net);
	a->stats.after_acquire_runs++;
	a->stats.vip_connections_last = p->connections;
	stat_time(clock_mono_us() - t0, &a->stats.after_acquire_us_last, &a->stats.after_acquire_us_max);
	record_snapshot(a, p, a->stats.after_acquire_us_last);
}

/* After a release: the connections it cuts, with the latest periodic snapshot. */
static void run_before(struct audit *a, struct pending *p)
{
	const struct config_group *g = config_group_find(a->config, p->group);
	uint64_t t0 = clock_mono_us();

	if (!g)
		return;
	count_connections(g, p);
	a->stats.vip_connections_last = p->connections;
	stat_time(clock_mono_us() - t0, &a->stats.release_count_us_last, &a->stats.release_count_us_max);
	record_snapshot(a, p, a->stats.release_count_us_last);
}

static void on_deferred(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct audit *a = w->data;
	size_t n = a->n_pending;
	struct pending batch[MAX_PENDING];

	ev_timer_stop(loop, w);
	memcpy(batch, a->pending, n * sizeof(batch[0]));
	a->n_pending = 0;
	for (size_t i = 0; i < n; i++) {
		if (batch[i].after)
			run_after(a, &batch[i]);
		else
			run_before(a, &batch[i]);
	}
	if (a->periodic_due) {
		a->periodic_due = false;
		audit_run_now(a);
	}
}

/* ---- cross-node consistency ---- */

void audit_local_state(const struct audit *a, struct netstate_peer_state *out)
{
	*out = a->local;
}

void audit_local_wire(const struct audit *a, struct wire_netstate *out)
{
	struct netstate_peer_state mine;

	memset(out, 0, sizeof(*out));
	if (!a)
		return;
	audit_local_state(a, &mine);
	audit_drift_to_wire(&mine, out);
}

void audit_set_corosync(struct audit *a, const uint8_t digest[32], const char *version)
{
	memcpy(a->corosync_digest, digest, sizeof(a->corosync_digest));
	snprintf(a->corosync_version, sizeof(a->corosync_version), "%s", version);
	refresh_local(a);
}

int audit_peer_state(struct audit *a, const struct netstate_peer_state *peer)
{
	struct audit_findings now = {0};
	int r = audit_drift_compare(&a->active[SRC_DRIFT], &a->local, peer, &now);

	if (r == 0)
		reconcile(a, SRC_DRIFT, &now);
	audit_findings_clear(&now);
	return r;
}

void audit_peer_gone(struct audit *a, const char *node)
{
	struct audit_findings now = {0};

	if (audit_drift_others(&a->active[SRC_DRIFT], node, &now) == 0)
		reconcile(a, SRC_DRIFT, &now);
	audit_findings_clear(&now);
}

/* ---- life cycle ---- */

struct audit *audit_new(struct ev_loop *loop, const struct config *config, struct auditlog *log)
{
	struct audit *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->owners = sockdiag_owners_new();
	if (!a->owners) {
		free(a);
		errno = ENOMEM;
		return NULL;
	}
	a->loop = loop;
	a->log = log;
	ev_timer_init(&a->periodic, on_periodic, 0, 0);
	a->periodic.data = a;
	ev_timer_init(&a->deferred, on_deferred, 0, 0);
	ev_set_priority(&a->deferred, EV_MINPRI + 1); /* after I/O, before the log's writes */
	a->deferred.data = a;
	audit_set_config(a, config);
	return a;
}

void audit_set_config(struct audit *a, const struct config *config)
{
	bool running = ev_is_active(&a->periodic);

	probe_round_cancel(a);
	a->config = config;
	refresh_local(a);
	if (audit_targets_read(config, &a->targets) < 0)
		log_info("audit: corosync nodelist not readable; probes go to the VIPs only");
	if (running)
		audit_periodic_start(a);
}

void audit_set_targets(struct audit *a, const struct audit_targets *targets)
{
	probe_round_cancel(a);
	a->targets = *targets;
}

void audit_free(struct audit *a)
{
	if (!a)
		return;
	audit_periodic_stop(a);
	ev_timer_stop(a->loop, &a->deferred);
	for (int s = 0; s < SRC_MAX; s++)
		audit_findings_clear(&a->active[s]);
	netstate_summary_clear(&a->net);
	sockdiag_snapshot_free(a->snap);
	sockdiag_owners_free(a->owners);
	free(a);
}

void audit_get_stats(const struct audit *a, struct audit_stats *stats)
{
	*stats = a->stats;
	stats->probe_rounds = a->probe_stats.rounds;
	stats->probes_sent = a->probe_stats.sent;
	stats->probes_open = a->probe_stats.open;
	stats->probes_refused = a->probe_stats.refused;
	stats->probes_timeout = a->probe_stats.timeout;
	stats->probes_error = a->probe_stats.error;
}

/* The audit log's queue: what waits to be written, and what was lost. */
static json_t *log_queue_json(const struct auditlog *log)
{
	struct auditlog_queue_stats q;
	uint64_t now = clock_mono_ms();

	auditlog_queue_stats(log, &q);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s?}", "depth", (json_int_t)q.depth, "max_depth",
			 (json_int_t)q.max_depth, "oldest_age_ms",
			 (json_int_t)(q.depth && now > q.oldest_mono_ms ? now - q.oldest_mono_ms : 0), "queued",
			 (json_int_t)q.queued, "written", (json_int_t)q.written, "dropped_full",
			 (json_int_t)q.dropped_full, "dropped_bad", (json_int_t)q.dropped_bad, "flush_errors",
			 (json_int_t)q.flush_errors, "last_error", q.last_error ? strerror(-q.last_error) : NULL);
}

json_t *audit_status_json(const struct audit *a)
{
	struct audit_stats stats, *s = &stats;
	struct netstate_digests d;
	json_t *st;

	audit_get_stats(a, &stats);
	st = json_pack("{s:o, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I}", "findings",
			       active_json(a, SIZE_MAX), "listeners", (json_int_t)s->listeners, "findings_new",
			       (json_int_t)s->findings_new, "findings_resolved", (json_int_t)s->findings_resolved,
			       "release_count_ms_last", s->release_count_us_last / 1000.0, "release_count_ms_max",
			       s->release_count_us_max / 1000.0, "after_acquire_ms_last",
			       s->after_acquire_us_last / 1000.0, "after_acquire_ms_max",
			       s->after_acquire_us_max / 1000.0, "probes_sent", (json_int_t)s->probes_sent,
			       "probes_open", (json_int_t)s->probes_open, "probes_refused",
			       (json_int_t)s->probes_refused, "probes_timeout", (json_int_t)s->probes_timeout,
			       "log_errors", (json_int_t)s->log_errors);

	if (st && a->have_net && netstate_summary_digest(&a->net, &d) == 0)
		json_object_set_new(st, "digests", netstate_digests_json(&d));
	if (st && a->log)
		json_object_set_new(st, "log_queue", log_queue_json(a->log));
	return st;
}
