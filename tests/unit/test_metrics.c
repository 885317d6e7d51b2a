/* Metrics rendering: a status document in, exact exposition lines out; the
 * histogram's buckets; the one-line STATUS= for systemd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const char status_text[] =
	"{\"schema_version\":1,\"node\":\"node2\",\"version\":\"0.1.0\",\"joined\":true,\"quorate\":true,"
	"\"synced\":true,\"members\":3,\"expected_votes\":3,"
	"\"warnings\":[\"split-brain-risk: two_node without a tie-breaker\",\"corosync-without-crypto\"],"
	"\"admin\":{\"epoch\":7,\"standby\":[\"node3\"],\"pins\":{\"db\":\"node2\"}},"
	"\"nodes\":["
	"{\"name\":\"node1\",\"nodeid\":1,\"online\":true,\"member\":true,\"local\":false,\"standby\":false,"
	"\"checks\":{},\"holds\":[\"web\"]},"
	"{\"name\":\"node2\",\"nodeid\":2,\"online\":true,\"member\":true,\"local\":true,\"standby\":false,"
	"\"checks\":{\"web_http\":\"passing\",\"db_tcp\":\"failing\"},\"holds\":[\"db\"]},"
	"{\"name\":\"node3\",\"nodeid\":3,\"online\":false,\"member\":false,\"local\":false,\"standby\":true,"
	"\"checks\":{},\"holds\":[]}],"
	"\"groups\":["
	"{\"name\":\"web\",\"owner\":\"node1\",\"holder\":\"node1\",\"pinned_to\":null,\"local_state\":\"idle\"},"
	"{\"name\":\"db\",\"owner\":\"node2\",\"holder\":\"node2\",\"pinned_to\":\"node2\",\"local_state\":\"held\"},"
	"{\"name\":\"q\\\"x\",\"owner\":null,\"holder\":null,\"pinned_to\":null,\"local_state\":\"idle\"}],"
	"\"transitions\":[],"
	"\"counters\":{\"transitions_by_reason\":{\"initial\":1,\"failover\":2,\"switchover\":0},"
	"\"announcements_sent\":10,\"vip_conflicts\":2}}";

static json_t *status(void)
{
	json_error_t e;
	json_t *st = json_loads(status_text, 0, &e);

	if (!st)
		fail_msg("bad fixture: %s at %d", e.text, e.position);
	return st;
}

/* Every expected line is a whole line of text. */
static void has_lines(const char *text, const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(lines[i]);
		const char *p = text;
		int found = 0;

		while (!found && (p = strstr(p, lines[i]))) {
			found = (p == text || p[-1] == '\n') && p[len] == '\n';
			p++;
		}
		if (!found)
			fail_msg("missing line: %s\n---\n%s", lines[i], text);
	}
}

static void cluster_groups_nodes(void **state)
{
	static const char *const lines[] = {
		"# TYPE fomgr_build_info gauge",
		"fomgr_build_info{version=\"" FO_VERSION "\"} 1",
		"fomgr_joined 1",
		"fomgr_quorate 1",
		"fomgr_synced 1",
		"fomgr_members 3",
		"fomgr_expected_votes 3",
		"fomgr_admin_epoch 7",
		"fomgr_warning{warning=\"split-brain-risk\"} 1",
		"fomgr_warning{warning=\"corosync-without-crypto\"} 1",
		"fomgr_node_online{node=\"node3\"} 0",
		"fomgr_node_member{node=\"node1\"} 1",
		"fomgr_node_standby{node=\"node3\"} 1",
		"# TYPE fomgr_group_owner gauge",
		"fomgr_group_owner{group=\"web\",node=\"node1\"} 1",
		"fomgr_group_owner{group=\"web\",node=\"node2\"} 0",
		"fomgr_group_owner{group=\"web\",node=\"node3\"} 0",
		"fomgr_group_owner{group=\"db\",node=\"node2\"} 1",
		"fomgr_group_owner{group=\"q\\\"x\",node=\"node1\"} 0",
		"fomgr_group_held{group=\"web\"} 0",
		"fomgr_group_held{group=\"db\"} 1",
		"fomgr_group_pinned{group=\"db\"} 1",
		"fomgr_group_pinned{group=\"web\"} 0",
		"# TYPE fomgr_transitions_total counter",
		"fomgr_transitions_total{reason=\"failover\"} 2",
		"fomgr_transitions_total{reason=\"switchover\"} 0",
		"fomgr_announcements_sent_total 10",
		"# TYPE fomgr_vip_conflicts_total counter",
		"fomgr_vip_conflicts_total 2",
		"fomgr_http_requests_total 5",
	};
	json_t *st = status();
	struct metrics_input in = {.status = st, .http_requests = 5};
	char *text = metrics_render(&in);
	int owners_of_web = 0;

	assert_non_null(text);
	has_lines(text, lines, sizeof(lines) / sizeof(lines[0]));
	/* one-hot: exactly one owner per owned group, none for an unowned one */
	for (const char *p = text; (p = strstr(p, "fomgr_group_owner{group=\"web\"")); p++)
		owners_of_web += strstr(p, "} 1\n") == strchr(p, '}');
	assert_int_equal(owners_of_web, 1);
	assert_null(strstr(text, "fomgr_group_owner{group=\"q\\\"x\",node=\"node1\"} 1"));
	/* nothing optional without its input */
	assert_null(strstr(text, "fomgr_garp_sent_total"));
	assert_null(strstr(text, "fomgr_control_requests_total"));
	assert_null(strstr(text, "fomgr_hooks_total"));
	free(text);
	json_decref(st);
}

static void counters_and_histogram(void **state)
{
	static const char *const lines[] = {
		"fomgr_garp_sent_total 12",
		"fomgr_unsolicited_na_sent_total 4",
		"fomgr_netlink_errors_total 1",
		"fomgr_netlink_requests_total 30",
		"fomgr_control_requests_total{result=\"ok\"} 9",
		"fomgr_control_requests_total{result=\"denied\"} 2",
		"fomgr_control_requests_total{result=\"invalid\"} 3",
		"fomgr_control_clients 1",
		"fomgr_hooks_total{result=\"ok\"} 6",
		"fomgr_hooks_total{result=\"timeout\"} 1",
		"# TYPE fomgr_failover_duration_seconds histogram",
		"fomgr_failover_duration_seconds_bucket{le=\"0.005\"} 1",
		"fomgr_failover_duration_seconds_bucket{le=\"0.01\"} 2",
		"fomgr_failover_duration_seconds_bucket{le=\"0.025\"} 2",
		"fomgr_failover_duration_seconds_bucket{le=\"0.05\"} 3",
		"fomgr_failover_duration_seconds_bucket{le=\"10\"} 3",
		"fomgr_failover_duration_seconds_bucket{le=\"+Inf\"} 4",
		"fomgr_failover_duration_seconds_sum 30.065000",
		"fomgr_failover_duration_seconds_count 4",
	};
	struct vip_stats vip = {.garp_sent = 12, .na_sent = 4, .netlink_errors = 1, .requests = 30};
	struct control_socket_stats ctl = {.requests = {[CONTROL_RESULT_OK] = 9, [CONTROL_RESULT_DENIED] = 2,
						 [CONTROL_RESULT_INVALID] = 3},
				    .clients = 1};
	uint64_t hooks[METRICS_HOOK_MAX] = {[METRICS_HOOK_OK] = 6, [METRICS_HOOK_TIMEOUT] = 1};
	struct metrics_histogram h = {0};
	json_t *st = status();
	struct metrics_input in = {.status = st, .vip = &vip, .control = &ctl, .hooks = hooks, .failover = &h};
	char *text;

	metrics_histogram_observe(&h, 0.005); /* on a bound: in that bucket (le) */
	metrics_histogram_observe(&h, 0.010);
	metrics_histogram_observe(&h, 0.050);
	metrics_histogram_observe(&h, 30.0);  /* above every bound: +Inf only */
	metrics_histogram_observe(&h, -1.0);  /* ignored */
	assert_int_equal(h.count, 4);
	text = metrics_render(&in);
	has_lines(text, lines, sizeof(lines) / sizeof(lines[0]));
	free(text);
	json_decref(st);
}

static void starting_document(void **state)
{
	json_t *st = json_pack("{s:i, s:b, s:s}", "schema_version", 1, "joined", 0, "state", "starting");
	struct metrics_input in = {.status = st};
	static const char *const lines[] = {"fomgr_joined 0", "fomgr_quorate 0", "fomgr_members 0",
					    "fomgr_failover_duration_seconds_count 0"};
	char *text = metrics_render(&in), buf[200];

	has_lines(text, lines, 4);
	assert_null(strstr(text, "fomgr_group_owner{"));
	free(text);
	assert_string_equal(metrics_status_line(st, buf, sizeof(buf)), "starting: waiting for corosync");
	json_object_del(st, "state");
	assert_string_equal(metrics_status_line(st, buf, sizeof(buf)), "not joined: corosync unreachable");
	json_decref(st);
}

/* Per-node health, the audit's findings (by severity, by kind, drift), the
 * failover and switchover histograms apart, the start time. */
static void health_audit_switchover(void **state)
{
	json_t *st = status(), *audit = json_pack(
		"{s:[{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}], s:I, s:I}", "findings", "kind", "drift", "severity",
		"warning", "subject", "node3", "detail", "config differs", "kind", "missing_listener", "severity",
		"warning", "subject", "udp/7777", "detail", "nothing listens", "findings_new", (json_int_t)5,
		"findings_resolved", (json_int_t)3);
	struct metrics_histogram failover = {0}, switchover = {0};
	struct metrics_input in = {.status = st, .failover = &failover, .switchover = &switchover,
				   .start_time_s = 1795610801.25};
	static const char *const lines[] = {
		"fomgr_node_checks{node=\"node2\"} 2",
		"fomgr_node_checks_failing{node=\"node2\"} 1",
		"fomgr_node_checks_failing{node=\"node1\"} 0",
		"fomgr_node_health_stale{node=\"node3\"} 0",
		"fomgr_audit_findings{severity=\"warning\"} 2",
		"fomgr_audit_findings{severity=\"critical\"} 0",
		"fomgr_audit_findings_by_kind{kind=\"drift\"} 1",
		"fomgr_audit_findings_by_kind{kind=\"exposure\"} 0",
		"fomgr_drift 1",
		"fomgr_audit_findings_opened_total 5",
		"fomgr_audit_findings_resolved_total 3",
		"fomgr_failover_duration_seconds_count 1",
		"fomgr_switchover_duration_seconds_count 2",
		"fomgr_switchover_duration_seconds_bucket{le=\"0.005\"} 1",
		"fomgr_start_time_seconds 1795610801.250",
	};
	char *text;

	json_object_set_new(st, "audit", audit);
	assert_true(metrics_reason_is_switchover("switchover"));
	assert_true(metrics_reason_is_switchover("standby"));
	assert_false(metrics_reason_is_switchover("failover"));
	assert_false(metrics_reason_is_switchover("failback"));
	metrics_histogram_observe(&failover, 0.02);
	metrics_histogram_observe(&switchover, 0.004);
	metrics_histogram_observe(&switchover, 0.03);
	text = metrics_render(&in);
	has_lines(text, lines, sizeof(lines) / sizeof(lines[0]));
	free(text);
	json_decref(st);
}

static void status_line(void **state)
{
	json_t *st = status();
	char buf[200], small[16];

	assert_string_equal(metrics_status_line(st, buf, sizeof(buf)),
			    "quorate, 2/3 nodes up; holds db; checks 1/2 passing; 2 warning(s)");
	json_object_set_new(st, "quorate", json_false());
	json_object_set_new(json_array_get(json_object_get(st, "groups"), 1), "local_state", json_string("idle"));
	json_object_set_new(st, "warnings", json_array());
	assert_string_equal(metrics_status_line(st, buf, sizeof(buf)),
			    "NOT quorate, 2/3 nodes up; holds nothing; checks 1/2 passing");
	assert_string_equal(metrics_status_line(st, small, sizeof(small)), "NOT quorate, 2/");
	json_decref(st);
	assert_string_equal(metrics_hook_result_str(METRICS_HOOK_MAX), "invalid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cluster_groups_nodes),
		cmocka_unit_test(counters_and_histogram),
		cmocka_unit_test(starting_document),
		cmocka_unit_test(health_audit_switchover),
		cmocka_unit_test(status_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
