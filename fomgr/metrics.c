#include "metrics.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_findings.h"
#include "warnings.h"
#include "fo/promtext.h"

const double metrics_bucket_bounds[METRICS_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
						       0.5,   1.0,  2.5,   5.0,  10.0};

static const char *const hook_result_names[METRICS_HOOK_MAX] = {"ok", "failed", "timeout", "dropped",
								 "refused"};

const char *metrics_hook_result_str(enum metrics_hook_result r)
{
	return r < METRICS_HOOK_MAX ? hook_result_names[r] : "invalid";
}

void metrics_histogram_observe(struct metrics_histogram *h, double seconds)
{
	size_t i = 0;

	if (!isfinite(seconds) || seconds < 0)
		return;
	while (i < METRICS_BUCKETS && seconds > metrics_bucket_bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += seconds;
}

static int jbool(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long long jint(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* ---- families ---- */

/* The id of a warning: the text before ':' ("split-brain-risk: ..."), label-safe. */
static void warning_id(const char *s, char *id, size_t size)
{
	size_t n = 0;

	for (; s && s[n] && s[n] != ':' && n + 1 < size; n++)
		id[n] = isalnum((unsigned char)s[n]) || s[n] == '-' ? s[n] : '_';
	id[n] = '\0';
}

static int warning_in_force(const json_t *warnings, const char *id)
{
	const json_t *w;
	char have[64];
	size_t i;

	json_array_foreach(warnings, i, w) {
		warning_id(json_string_value(w), have, sizeof(have));
		if (strcmp(have, id) == 0)
			return 1;
	}
	return 0;
}

/* One series per id, every known id included (0 when not in force), each once
 * however many warnings share it; an id fomgr does not know yet is printed too. */
static void warning_metrics(struct promtext *t, const json_t *warnings)
{
	const json_t *w;
	char id[64];
	size_t i, k;

	promtext_family(t, "fomgr_warning", "gauge", "1 while a warning of this kind is in force (no quorum, ...).");
	for (k = 0; k < warnings_n_ids; k++)
		promtext_add(t, "fomgr_warning{warning=\"%s\"} %d\n", warnings_ids[k],
			     warning_in_force(warnings, warnings_ids[k]));
	json_array_foreach(warnings, i, w) {
		int known = 0, earlier = 0;

		warning_id(json_string_value(w), id, sizeof(id));
		for (k = 0; k < warnings_n_ids && !known; k++)
			known = strcmp(id, warnings_ids[k]) == 0;
		for (size_t j = 0; j < i && !earlier; j++) {
			char prev[64];

			warning_id(json_string_value(json_array_get(warnings, j)), prev, sizeof(prev));
			earlier = strcmp(prev, id) == 0;
		}
		if (!known && !earlier)
			promtext_add(t, "fomgr_warning{warning=\"%s\"} 1\n", id);
	}
}

/* The quorum device, once the ring watch has read corosync's settings: whether
 * there is one and it votes here for everyone; the rest only when there is one. */
static void qdevice_metrics(struct promtext *t, const json_t *q)
{
	static const char *const rows[][4] = {
		/* name, type, status key, help */
		{"fomgr_qdevice_configured", "gauge", "configured", "1 when corosync has a quorum device (quorum.device)."},
		{"fomgr_qdevice_connected", "gauge", "connected",
		 "1 while this node's corosync-qdevice is alive and casts the device's vote (votequorum)."},
		{"fomgr_qdevice_votes", "gauge", "votes", "Votes the quorum device carries."},
		{"fomgr_qdevice_losses_total", "counter", "losses",
		 "Times the quorum device stayed disconnected longer than the grace (qdevice-disconnected)."},
	};
	char model[64], algorithm[64], host[128];

	for (size_t i = 0; q && i < sizeof(rows) / sizeof(rows[0]); i++) {
		const json_t *v = json_object_get(q, rows[i][2]);

		if (!v)
			break; /* no device: configured and connected only */
		promtext_family(t, rows[i][0], rows[i][1], rows[i][3]);
		promtext_add(t, "%s %lld\n", rows[i][0], json_is_boolean(v) ? (long long)json_is_true(v) : jint(q, rows[i][2]));
	}
	if (!jbool(q, "configured"))
		return;
	promtext_family(t, "fomgr_qdevice_info", "gauge", "The quorum device's model, algorithm and witness.");
	promtext_add(t, "fomgr_qdevice_info{model=\"%s\",algorithm=\"%s\",host=\"%s\"} 1\n",
		     promtext_label(jstr(q, "model"), model, sizeof(model)),
		     promtext_label(jstr(q, "algorithm"), algorithm, sizeof(algorithm)),
		     promtext_label(jstr(q, "host"), host, sizeof(host)));
}

static void cluster_metrics(struct promtext *t, const json_t *st)
{
	char buf[256];
	const json_t *ring;

	promtext_family(t, "fomgr_build_info", "gauge", "fomgr's version.");
	promtext_add(t, "fomgr_build_info{version=\"%s\"} 1\n", promtext_label(FO_VERSION, buf, sizeof(buf)));
	promtext_family(t, "fomgr_joined", "gauge", "1 when this fomgr is in the cluster's CPG group.");
	promtext_add(t, "fomgr_joined %d\n", jbool(st, "joined"));
	promtext_family(t, "fomgr_quorate", "gauge", "1 when corosync says this node's partition is quorate.");
	promtext_add(t, "fomgr_quorate %d\n", jbool(st, "quorate"));
	promtext_family(t, "fomgr_synced", "gauge", "1 when every member has announced its state since it joined.");
	promtext_add(t, "fomgr_synced %d\n", jbool(st, "synced"));
	promtext_family(t, "fomgr_members", "gauge", "fomgr processes in the CPG group.");
	promtext_add(t, "fomgr_members %lld\n", jint(st, "members"));
	promtext_family(t, "fomgr_expected_votes", "gauge", "corosync's expected votes.");
	promtext_add(t, "fomgr_expected_votes %lld\n", jint(st, "expected_votes"));
	promtext_family(t, "fomgr_admin_epoch", "gauge", "Epoch of the operators' state (standby, pins, disabled groups, maintenance) in force.");
	promtext_add(t, "fomgr_admin_epoch %lld\n", jint(json_object_get(st, "admin"), "epoch"));
	promtext_family(t, "fomgr_maintenance_mode", "gauge",
			"1 while the cluster is in maintenance mode: fomgr moves nothing (fomctl maintenance off).");
	promtext_add(t, "fomgr_maintenance_mode %d\n", jbool(json_object_get(st, "admin"), "maintenance"));
	ring = json_object_get(st, "ring");
	if (ring) {
		promtext_family(t, "fomgr_ring_stalled", "gauge",
				"1 while this node's corosync does not answer (every group released).");
		promtext_add(t, "fomgr_ring_stalled %d\n", jbool(ring, "stalled") || jbool(ring, "fenced"));
		promtext_family(t, "fomgr_ring_stalls_total", "counter", "Times this node's corosync stopped answering.");
		promtext_add(t, "fomgr_ring_stalls_total %lld\n", jint(ring, "stalls"));
		promtext_family(t, "fomgr_ring_withdrawn", "gauge",
				"1 while this node is out of the ring for a bridge partition.");
		promtext_add(t, "fomgr_ring_withdrawn %d\n", json_object_get(ring, "withdrawn_from") != NULL);
		promtext_family(t, "fomgr_ring_withdrawals_total", "counter",
				"Times this node withdrew from the ring for a bridge partition.");
		promtext_add(t, "fomgr_ring_withdrawals_total %lld\n", jint(ring, "withdrawals"));
		promtext_family(t, "fomgr_ring_isolated", "gauge",
				"1 while this node's corosync links reach no majority of the votes (every group released).");
		promtext_add(t, "fomgr_ring_isolated %d\n", jbool(ring, "isolated"));
		promtext_family(t, "fomgr_ring_isolations_total", "counter",
				"Times this node released everything because its links reached no majority.");
		promtext_add(t, "fomgr_ring_isolations_total %lld\n", jint(ring, "isolations"));
	}
	qdevice_metrics(t, json_object_get(st, "qdevice"));
	promtext_family(t, "fomgr_config_reload_refused", "gauge",
			"1 while the latest reload was refused (the running configuration is kept).");
	promtext_add(t, "fomgr_config_reload_refused %d\n", jbool(json_object_get(st, "reload"), "refused"));
	promtext_family(t, "fomgr_config_reload_refusals_total", "counter", "Reloads refused since fomgr started.");
	promtext_add(t, "fomgr_config_reload_refusals_total %lld\n", jint(json_object_get(st, "reload"), "refusals"));
	warning_metrics(t, json_object_get(st, "warnings"));
}

static void node_metrics(struct promtext *t, const json_t *st)
{
	static const char *const flags[][3] = {
		{"fomgr_node_online", "online", "1 when the node is in corosync's membership."},
		{"fomgr_node_member", "member", "1 when the node's fomgr is in the CPG group."},
		{"fomgr_node_standby", "standby", "1 when an operator put the node in standby."},
	};
	const json_t *nodes = json_object_get(st, "nodes"), *n;
	char name[128];
	size_t i;

	for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
		promtext_family(t, flags[f][0], "gauge", flags[f][2]);
		json_array_foreach(nodes, i, n)
			promtext_add(t, "%s{node=\"%s\"} %d\n", flags[f][0], promtext_label(jstr(n, "name"), name, sizeof(name)),
				 jbool(n, flags[f][1]));
	}
}

/* Each node's health as it announces it: checks not passing, a silent agent. */
static void node_health_metrics(struct promtext *t, const json_t *st)
{
	const json_t *nodes = json_object_get(st, "nodes"), *n, *v;
	char name[128];
	const char *key;
	size_t i;

	promtext_family(t, "fomgr_node_checks", "gauge", "Checks the node announces.");
	json_array_foreach(nodes, i, n)
		promtext_add(t, "fomgr_node_checks{node=\"%s\"} %zu\n", promtext_label(jstr(n, "name"), name, sizeof(name)),
			     json_object_size(json_object_get(n, "checks")));
	promtext_family(t, "fomgr_node_checks_failing", "gauge",
			"Checks the node announces as not passing (failing or without a result).");
	json_array_foreach(nodes, i, n) {
		size_t failing = 0;

		json_object_foreach((json_t *)json_object_get(n, "checks"), key, v)
			failing += !json_string_value(v) || strcmp(json_string_value(v), "passing") != 0;
		promtext_add(t, "fomgr_node_checks_failing{node=\"%s\"} %zu\n",
			     promtext_label(jstr(n, "name"), name, sizeof(name)), failing);
	}
	promtext_family(t, "fomgr_node_health_stale", "gauge", "1 when the node's health agent went silent.");
	json_array_foreach(nodes, i, n)
		promtext_add(t, "fomgr_node_health_stale{node=\"%s\"} %d\n",
			     promtext_label(jstr(n, "name"), name, sizeof(name)), jbool(n, "health_stale"));
}

/* The audit's active findings, by severity and by kind (every label, zeros too, so
 * an alert needs no absent()), drift among them, and the findings opened and closed. */
static void audit_metrics(struct promtext *t, const json_t *st)
{
	const json_t *audit = json_object_get(st, "audit"), *f;
	size_t by_severity[AUDIT_SEVERITY_MAX] = {0}, by_kind[AUDIT_KIND_MAX] = {0}, i;

	if (!audit)
		return;
	json_array_foreach(json_object_get(audit, "findings"), i, f) {
		for (int s = 0; s < AUDIT_SEVERITY_MAX; s++)
			by_severity[s] += jstr(f, "severity") && strcmp(jstr(f, "severity"), audit_severity_str(s)) == 0;
		for (int k = 0; k < AUDIT_KIND_MAX; k++)
			by_kind[k] += jstr(f, "kind") && strcmp(jstr(f, "kind"), audit_kind_str(k)) == 0;
	}
	promtext_family(t, "fomgr_audit_findings", "gauge", "Audit findings in force, by severity.");
	for (int s = 0; s < AUDIT_SEVERITY_MAX; s++)
		promtext_add(t, "fomgr_audit_findings{severity=\"%s\"} %zu\n", audit_severity_str(s), by_severity[s]);
	promtext_family(t, "fomgr_audit_findings_by_kind", "gauge", "Audit findings in force, by kind.");
	for (int k = 0; k < AUDIT_KIND_MAX; k++)
		promtext_add(t, "fomgr_audit_findings_by_kind{kind=\"%s\"} %zu\n", audit_kind_str(k), by_kind[k]);
	promtext_family(t, "fomgr_drift", "gauge",
			"1 while a peer's configuration or network state differs from this node's (drift findings).");
	promtext_add(t, "fomgr_drift %d\n", by_kind[AUDIT_DRIFT] > 0);
	promtext_family(t, "fomgr_audit_findings_opened_total", "counter", "Audit findings opened since start.");
	promtext_add(t, "fomgr_audit_findings_opened_total %lld\n", jint(audit, "findings_new"));
	promtext_family(t, "fomgr_audit_findings_resolved_total", "counter", "Audit findings resolved since start.");
	promtext_add(t, "fomgr_audit_findings_resolved_total %lld\n", jint(audit, "findings_resolved"));
}

static void group_metrics(struct promtext *t, const json_t *st)
{
	const json_t *groups = json_object_get(st, "groups"), *nodes = json_object_get(st, "nodes"), *g, *n;
	char gname[128], nname[128];
	size_t i, k;

	promtext_family(t, "fomgr_group_owner", "gauge", "1 for the node placement gives the group to, 0 for the others.");
	json_array_foreach(groups, i, g) {
		const char *owner = jstr(g, "owner");

		promtext_label(jstr(g, "name"), gname, sizeof(gname));
		json_array_foreach(nodes, k, n) {
			const char *node = jstr(n, "name");

			promtext_add(t, "fomgr_group_owner{group=\"%s\",node=\"%s\"} %d\n", gname,
				 promtext_label(node, nname, sizeof(nname)), owner && node && strcmp(owner, node) == 0);
		}
	}
	promtext_family(t, "fomgr_group_held", "gauge", "1 when this node holds the group's addresses.");
	json_array_foreach(groups, i, g) {
		const char *state = jstr(g, "local_state");

		promtext_add(t, "fomgr_group_held{group=\"%s\"} %d\n", promtext_label(jstr(g, "name"), gname, sizeof(gname)),
			 state && strcmp(state, "held") == 0);
	}
	promtext_family(t, "fomgr_group_pinned", "gauge", "1 when an operator pinned the group to a node.");
	json_array_foreach(groups, i, g)
		promtext_add(t, "fomgr_group_pinned{group=\"%s\"} %d\n", promtext_label(jstr(g, "name"), gname, sizeof(gname)),
			 json_is_string(json_object_get(g, "pinned_to")));
	promtext_family(t, "fomgr_group_disabled", "gauge", "1 when an operator disabled the group (held by nobody).");
	json_array_foreach(groups, i, g)
		promtext_add(t, "fomgr_group_disabled{group=\"%s\"} %d\n",
			     promtext_label(jstr(g, "name"), gname, sizeof(gname)), jbool(g, "disabled"));
}

static void histogram(struct promtext *t, const char *name, const char *help, const struct metrics_histogram *h)
{
	uint64_t cumulative = 0;

	promtext_family(t, name, "histogram", help);
	for (size_t i = 0; i < METRICS_BUCKETS; i++) {
		cumulative += h ? h->counts[i] : 0;
		promtext_add(t, "%s_bucket{le=\"%g\"} %llu\n", name, metrics_bucket_bounds[i],
			     (unsigned long long)cumulative);
	}
	promtext_add(t, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)(h ? h->count : 0));
	promtext_add(t, "%s_sum %.6f\n", name, h ? h->sum : 0.0);
	promtext_add(t, "%s_count %llu\n", name, (unsigned long long)(h ? h->count : 0));
}

int metrics_reason_is_switchover(const char *reason)
{
	return reason && (strcmp(reason, "switchover") == 0 || strcmp(reason, "standby") == 0);
}

static void transition_metrics(struct promtext *t, const json_t *st, const struct metrics_histogram *h,
			       const struct metrics_histogram *sw)
{
	const json_t *counters = json_object_get(st, "counters"), *v;
	char buf[128];
	const char *reason;

	promtext_family(t, "fomgr_transitions_total", "counter", "Transitions carried out on this node, by reason.");
	json_object_foreach((json_t *)json_object_get(counters, "transitions_by_reason"), reason, v)
		promtext_add(t, "fomgr_transitions_total{reason=\"%s\"} %lld\n", promtext_label(reason, buf, sizeof(buf)),
			 (long long)json_integer_value(v));
	promtext_family(t, "fomgr_announcements_sent_total", "counter", "Gratuitous ARPs and unsolicited NAs sent.");
	promtext_add(t, "fomgr_announcements_sent_total %lld\n", jint(counters, "announcements_sent"));
	promtext_family(t, "fomgr_vip_conflicts_total", "counter",
			"VIP conflicts seen here: a foreign MAC answering for an address this node holds, or a "
			"group's address in this node's kernel that fomgr does not hold here.");
	promtext_add(t, "fomgr_vip_conflicts_total %lld\n", jint(counters, "vip_conflicts"));
	histogram(t, "fomgr_failover_duration_seconds",
		  "From the event that moved a group here to its addresses being up (failovers, failbacks, "
		  "initial placement; operators' moves excepted).",
		  h);
	histogram(t, "fomgr_switchover_duration_seconds",
		  "From an operator's move (switchover, standby) to the group's addresses being up here.", sw);
}

static void counter(struct promtext *t, const char *name, const char *help, uint64_t value)
{
	promtext_family(t, name, "counter", help);
	promtext_add(t, "%s %llu\n", name, (unsigned long long)value);
}

static void process_metrics(struct promtext *t, const struct metrics_input *in)
{
	if (in->vip) {
		counter(t, "fomgr_garp_sent_total", "Gratuitous ARPs sent.", in->vip->garp_sent);
		counter(t, "fomgr_unsolicited_na_sent_total", "Unsolicited neighbour advertisements sent.",
			in->vip->na_sent);
		counter(t, "fomgr_netlink_requests_total", "Address add and delete requests sent to the kernel.",
			in->vip->requests);
		counter(t, "fomgr_netlink_errors_total", "Address requests the kernel refused.",
			in->vip->netlink_errors);
		counter(t, "fomgr_announce_errors_total", "GARP / NA that could not be sent.",
			in->vip->announce_errors);
	}
	if (in->control) {
		promtext_family(t, "fomgr_control_requests_total", "counter", "Control socket requests, by result.");
		for (int r = 0; r < CONTROL_RESULT_MAX; r++)
			promtext_add(t, "fomgr_control_requests_total{result=\"%s\"} %llu\n",
				 control_result_str((enum control_result)r),
				 (unsigned long long)in->control->requests[r]);
		promtext_family(t, "fomgr_control_clients", "gauge", "Clients connected to the control socket.");
		promtext_add(t, "fomgr_control_clients %u\n", in->control->clients);
	}
	if (in->hooks) {
		promtext_family(t, "fomgr_hooks_total", "counter", "Notify hook runs, by result.");
		for (int r = 0; r < METRICS_HOOK_MAX; r++)
			promtext_add(t, "fomgr_hooks_total{result=\"%s\"} %llu\n",
				 metrics_hook_result_str((enum metrics_hook_result)r), (unsigned long long)in->hooks[r]);
	}
	counter(t, "fomgr_http_requests_total", "Requests to the status server.", in->http_requests);
	if (in->start_time_s > 0) {
		promtext_family(t, "fomgr_start_time_seconds", "gauge", "When fomgr started, Unix time.");
		promtext_add(t, "fomgr_start_time_seconds %.3f\n", in->start_time_s);
	}
	if (in->http_guard) {
		promtext_family(t, "fomgr_http_connections_closed_total", "counter",
				"Status server connections closed by fomgr: at their deadline, or to make room.");
		promtext_add(t, "fomgr_http_connections_closed_total{reason=\"deadline\"} %llu\n",
			     (unsigned long long)in->http_guard->deadline);
		promtext_add(t, "fomgr_http_connections_closed_total{reason=\"evicted\"} %llu\n",
			     (unsigned long long)in->http_guard->evicted);
		promtext_family(t, "fomgr_http_connections", "gauge", "Open status server connections.");
		promtext_add(t, "fomgr_http_connections %u\n", in->http_guard->open);
	}
}

char *metrics_render(const struct metrics_input *in)
{
	struct promtext t = {0};

	cluster_metrics(&t, in->status);
	node_metrics(&t, in->status);
	node_health_metrics(&t, in->status);
	group_metrics(&t, in->status);
	transition_metrics(&t, in->status, in->failover, in->switchover);
	audit_metrics(&t, in->status);
	process_metrics(&t, in);
	return promtext_finish(&t);
}

/* ---- systemd's STATUS= ---- */

/* Appends to buf at *used, keeping it terminated whatever the size. */
static void line_add(char *buf, size_t size, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void line_add(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used = *used + (size_t)n < size ? *used + (size_t)n : size - 1;
}

static const json_t *local_node(const json_t *st)
{
	const json_t *n;
	size_t i;

	json_array_foreach(json_object_get(st, "nodes"), i, n)
		if (jbool(n, "local"))
			return n;
	return NULL;
}

const char *metrics_status_line(const json_t *st, char *buf, size_t size)
{
	const json_t *groups = json_object_get(st, "groups"), *nodes = json_object_get(st, "nodes"), *g, *n, *v;
	const json_t *me = local_node(st);
	size_t used = 0, held = 0, up = 0, checks = 0, passing = 0, i;
	const char *key;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (!jbool(st, "joined")) {
		line_add(buf, size, &used, "%s", jstr(st, "state") ? "starting: waiting for corosync"
								  : "not joined: corosync unreachable");
		return buf;
	}
	json_array_foreach(nodes, i, n)
		up += jbool(n, "online");
	line_add(buf, size, &used, "%s, %zu/%zu nodes up; holds", jbool(st, "quorate") ? "quorate" : "NOT quorate",
		 up, json_array_size(nodes));
	json_array_foreach(groups, i, g) {
		const char *state = jstr(g, "local_state");

		if (state && strcmp(state, "held") == 0)
			line_add(buf, size, &used, "%s%s", held++ ? "," : " ", jstr(g, "name"));
	}
	if (!held)
		line_add(buf, size, &used, " nothing");
	json_object_foreach((json_t *)json_object_get(me, "checks"), key, v) {
		checks++;
		passing += json_string_value(v) && strcmp(json_string_value(v), "passing") == 0;
	}
	if (checks)
		line_add(buf, size, &used, "; checks %zu/%zu passing", passing, checks);
	if (json_array_size(json_object_get(st, "warnings")))
		line_add(buf, size, &used, "; %zu warning(s)", json_array_size(json_object_get(st, "warnings")));
	return buf;
}
