/* The warnings block: each condition raises its warning with the details an
 * operator needs (which group, which node, what differs), a healthy cluster
 * raises none, and /metrics carries every id once, 0 or 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "warnings.h"

/* Two nodes, one group; the test edits what it needs. */
static json_t *healthy(void)
{
	return json_pack("{s:i, s:b, s:b, s:i, s:[], s:[{s:s, s:b, s:b, s:b, s:b}, {s:s, s:b, s:b, s:b, s:b}],"
			 " s:[{s:s, s:s, s:s, s:s}], s:{s:[]}}",
			 "schema_version", 1, "joined", 1, "quorate", 1, "members", 2, "warnings", "nodes", "name", "node1",
			 "local", 1, "member", 1, "standby", 0, "health_stale", 0, "name", "node2", "local", 0, "member",
			 1, "standby", 0, "health_stale", 0, "groups", "name", "web", "owner", "node1", "holder", "node1",
			 "reason", "keep", "audit", "findings");
}

static const char *warning(const json_t *st, size_t i)
{
	return json_string_value(json_array_get(json_object_get(st, "warnings"), i));
}

static void none_when_healthy(void **state)
{
	json_t *st = healthy();

	warnings_derive(st);
	assert_int_equal(json_array_size(json_object_get(st, "warnings")), 0);
	json_decref(st);
	st = json_pack("{s:i, s:b, s:s}", "schema_version", 1, "joined", 0, "state", "starting");
	warnings_derive(st); /* the short form gets no warnings array */
	assert_null(json_object_get(st, "warnings"));
	json_decref(st);
}

static void no_quorum_and_no_holder(void **state)
{
	json_t *st = healthy(), *g = json_array_get(json_object_get(st, "groups"), 0);

	json_object_set_new(st, "quorate", json_false());
	json_object_set_new(st, "members", json_integer(1));
	json_object_set_new(g, "holder", json_null());
	json_object_set_new(g, "reason", json_string("no-quorum"));
	warnings_derive(st);
	assert_int_equal(json_array_size(json_object_get(st, "warnings")), 2);
	assert_string_equal(warning(st, 0), "no-quorum: this node's partition (1 member(s)) has no quorum and holds nothing");
	assert_string_equal(warning(st, 1), "no-holder: group web has no holder (no-quorum)");
	json_decref(st);
}

static void every_node_in_standby(void **state)
{
	json_t *st = healthy(), *n;
	size_t i;

	json_array_foreach(json_object_get(st, "nodes"), i, n)
		json_object_set_new(n, "standby", json_true());
	warnings_derive(st);
	assert_int_equal(json_array_size(json_object_get(st, "warnings")), 1);
	assert_string_equal(warning(st, 0),
			    "all-standby: every node is in standby: no group can be held (fomctl node unstandby NODE)");
	json_decref(st);
	st = healthy();
	json_object_set_new(json_array_get(json_object_get(st, "nodes"), 1), "standby", json_true());
	warnings_derive(st); /* one node of two: no warning */
	assert_int_equal(json_array_size(json_object_get(st, "warnings")), 0);
	json_decref(st);
}

static void drift_findings_stale_peer(void **state)
{
	json_t *st = healthy(), *findings = json_object_get(json_object_get(st, "audit"), "findings");

	json_array_append_new(findings, json_pack("{s:s, s:s, s:s, s:s}", "kind", "drift", "severity", "warning",
						  "subject", "fomgr config on node2", "detail", "digest 1b07 here, 9c2e there"));
	json_array_append_new(findings, json_pack("{s:s, s:s, s:s, s:s}", "kind", "default_route", "severity", "info",
						  "subject", "default route", "detail", "none"));
	json_array_append_new(findings, json_pack("{s:s, s:s, s:s, s:s}", "kind", "forbidden_listener", "severity",
						  "critical", "subject", "tcp/23", "detail", "telnetd"));
	json_object_set_new(json_array_get(json_object_get(st, "nodes"), 1), "health_stale", json_true());
	warnings_derive(st);
	assert_int_equal(json_array_size(json_object_get(st, "warnings")), 3);
	assert_string_equal(warning(st, 0), "health-agent-stale: node2's health agent went silent");
	assert_string_equal(warning(st, 1), "drift: fomgr config on node2: digest 1b07 here, 9c2e there");
	assert_string_equal(warning(st, 2), "audit-findings: 1 in force (1 critical), first: forbidden_listener tcp/23 "
					    "(fomctl status --json: audit.findings)");
	json_decref(st);
}

/* Every id once: two groups without a holder are one series. */
static void metrics_every_id_once(void **state)
{
	json_t *st = healthy(), *groups = json_object_get(st, "groups");
	struct metrics_input in = {0};
	char *text;

	json_array_append_new(groups, json_pack("{s:s, s:n, s:n, s:s}", "name", "db", "owner", "holder", "reason",
						"no-eligible"));
	json_object_set_new(json_array_get(groups, 0), "holder", json_null());
	json_array_append_new(json_object_get(st, "warnings"), json_string("brand-new: something"));
	warnings_derive(st);
	in.status = st;
	text = metrics_render(&in);
	assert_non_null(strstr(text, "\nfomgr_warning{warning=\"no-holder\"} 1\n"));
	assert_null(strstr(strstr(text, "fomgr_warning{warning=\"no-holder\"}") + 1, "fomgr_warning{warning=\"no-holder\"}"));
	assert_non_null(strstr(text, "\nfomgr_warning{warning=\"no-quorum\"} 0\n"));
	assert_non_null(strstr(text, "\nfomgr_warning{warning=\"all-standby\"} 0\n"));
	assert_non_null(strstr(text, "\nfomgr_warning{warning=\"brand-new\"} 1\n"));
	free(text);
	json_decref(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(none_when_healthy),
		cmocka_unit_test(no_quorum_and_no_holder),
		cmocka_unit_test(every_node_in_standby),
		cmocka_unit_test(drift_findings_stale_peer),
		cmocka_unit_test(metrics_every_id_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
