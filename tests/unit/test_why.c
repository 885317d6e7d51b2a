/* Why and what-if as tables over placement inputs: each row sets up a view of
 * three nodes (who holds, who is in standby, down or failing check "drain", the
 * pin, disabled, maintenance, quorum, failback) and asserts the owner, the
 * group's reason and why, and where each node stands and why (placement_why_*);
 * then each what-if row asserts the owner before and after and that the view it
 * ran on is unchanged (whatif_run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "placement.h"
#include "whatif.h"

#define N1 1
#define N2 2
#define N3 3

static struct config cfg;
static struct view view;

struct setup_row {
	const char *prefer;
	enum config_failback failback;
	uint32_t delay_ms;
	uint32_t holder;     /* announces it holds web */
	const char *standby; /* node names, blank-separated */
	uint32_t failing;    /* its check drain fails */
	uint32_t down;       /* out of corosync's ring */
	const char *pin;
	int disabled, maintenance, no_quorum, quorum_unknown;
};

static void build(const struct setup_row *r)
{
	struct config_nodelist nodes = {.n_nodes = 3, .nodes = {{N1, "node1"}, {N2, "node2"}, {N3, "node3"}}};
	struct config_group *g = &cfg.groups[0];
	struct wire_admin admin = {.epoch = 1, .origin = N1};
	uint32_t up[3];
	size_t n_up = 0;
	char buf[128], *save = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.n_groups = 1;
	strcpy(g->name, "web");
	strcpy(g->interface, "eth0");
	g->failback = r->failback;
	g->failback_delay_ms = r->delay_ms;
	snprintf(buf, sizeof(buf), "%s", r->prefer ? r->prefer : "node1 node2 node3");
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		strcpy(g->prefer[g->n_prefer++], t);
	strcpy(g->checks[0], "drain");
	g->n_checks = 1;

	snprintf(buf, sizeof(buf), "%s", r->standby ? r->standby : "");
	save = NULL;
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		admin_set_standby(&admin, t, 1);
	if (r->pin)
		admin_set_pin(&admin, "web", r->pin);
	admin_set_disabled(&admin, "web", r->disabled);
	admin_set_maintenance(&admin, r->maintenance);

	view_init(&view, &nodes, N1);
	for (uint32_t id = 1; id <= 3; id++)
		if (id != r->down)
			up[n_up++] = id;
	view_apply_totem(&view, up, n_up);
	for (uint32_t id = 1; id <= 3; id++) {
		struct wire_announce a = {.seq = 1, .admin = admin, .n_checks = 1};

		if (id == r->down)
			continue;
		strcpy(a.checks[0].name, "drain");
		a.checks[0].state = id == r->failing ? CHECK_FAILING : CHECK_PASSING;
		if (id == r->holder) {
			strcpy(a.held[a.n_held++], "web");
			strcpy(a.up[a.n_up++], "web");
		}
		view_apply_join(&view, id, 100 + id);
		view_apply_announce(&view, id, 100 + id, &a);
	}
	view_apply_quorum(&view, !r->quorum_unknown, !r->no_quorum && !r->quorum_unknown);
}

struct why_row {
	const char *name;
	struct setup_row in;
	uint64_t left_ms; /* node1's failback delay still to run, as its core counts it */
	uint32_t owner;
	enum placement_reason reason;
	const char *group_why;
	struct {
		enum placement_why state;
		const char *why;
	} nodes[3];
};

static const struct why_row why_rows[] = {
	{"healthy, nobody holds", {0}, 0, N1, PLACEMENT_INITIAL, "node1 is the most preferred eligible node",
	 {{PLACEMENT_WHY_OWNER, "owner: node1 is the most preferred eligible node"},
	  {PLACEMENT_WHY_LESS_PREFERRED, "node2 is eligible; node1 is preferred"},
	  {PLACEMENT_WHY_LESS_PREFERRED, "node3 is eligible; node1 is preferred"}}},
	{"holder stays", {.holder = N1}, 0, N1, PLACEMENT_KEEP, "held by node1, which is still eligible",
	 {{PLACEMENT_WHY_OWNER, "owner: held by node1, which is still eligible"},
	  {PLACEMENT_WHY_LESS_PREFERRED, "node2 is eligible; node1 is preferred"},
	  {PLACEMENT_WHY_LESS_PREFERRED, "node3 is eligible; node1 is preferred"}}},
	{"failing check on the holder", {.holder = N1, .failing = N1}, 0, N2, PLACEMENT_FAILOVER,
	 "node2 took over from node1: check drain fails on node1",
	 {{PLACEMENT_WHY_INELIGIBLE, "check drain fails on node1"},
	  {PLACEMENT_WHY_OWNER, "owner: node2 took over from node1: check drain fails on node1"},
	  {PLACEMENT_WHY_LESS_PREFERRED, "node3 is eligible; node2 is preferred"}}},
	{"kept after a failover: the first choice still failing", {.holder = N2, .failing = N1}, 0, N2, PLACEMENT_KEEP,
	 "held by node2, which is still eligible; node1 comes first but check drain fails on node1",
	 {{PLACEMENT_WHY_INELIGIBLE, "check drain fails on node1"},
	  {PLACEMENT_WHY_OWNER, "owner: held by node2, which is still eligible; node1 comes first but check drain fails "
				"on node1"},
	  {PLACEMENT_WHY_LESS_PREFERRED, "node3 is eligible; node2 is preferred"}}},
	{"every node in standby", {.holder = N1, .standby = "node1 node2 node3"}, 0, 0, PLACEMENT_NO_ELIGIBLE,
	 "no eligible node: node1 is in standby; node2 is in standby; node3 is in standby",
	 {{PLACEMENT_WHY_INELIGIBLE, "node1 is in standby"},
	  {PLACEMENT_WHY_INELIGIBLE, "node2 is in standby"},
	  {PLACEMENT_WHY_INELIGIBLE, "node3 is in standby"}}},
	{"no quorum", {.holder = N1, .no_quorum = 1}, 0, 0, PLACEMENT_NO_QUORUM, "no quorum: this partition holds nothing",
	 {{PLACEMENT_WHY_INELIGIBLE, "no quorum (node1 cannot take anything)"},
	  {PLACEMENT_WHY_INELIGIBLE, "no quorum (node2 cannot take anything)"},
	  {PLACEMENT_WHY_INELIGIBLE, "no quorum (node3 cannot take anything)"}}},
	{"quorum not known (a new ring, a stall)", {.holder = N1, .quorum_unknown = 1}, 0, 0, PLACEMENT_UNSETTLED,
	 "no quorum known: votequorum has not judged this ring, or the ring is not trusted (after a stall); this node "
	 "holds nothing",
	 {{PLACEMENT_WHY_INELIGIBLE, "no quorum (node1 cannot take anything)"},
	  {PLACEMENT_WHY_INELIGIBLE, "no quorum (node2 cannot take anything)"},
	  {PLACEMENT_WHY_INELIGIBLE, "no quorum (node3 cannot take anything)"}}},
	{"pinned to node3", {.holder = N1, .pin = "node3"}, 0, N3, PLACEMENT_PINNED, "pinned to node3 by an operator",
	 {{PLACEMENT_WHY_PINNED_ELSEWHERE, "group web is pinned to node3"},
	  {PLACEMENT_WHY_PINNED_ELSEWHERE, "group web is pinned to node3"},
	  {PLACEMENT_WHY_OWNER, "owner: pinned to node3 by an operator"}}},
	{"failback manual", {.holder = N2, .failback = CONFIG_FAILBACK_MANUAL}, 0, N2, PLACEMENT_KEEP,
	 "held by node2, which is still eligible",
	 {{PLACEMENT_WHY_FAILBACK_MANUAL, "failback = manual: web stays on node2"},
	  {PLACEMENT_WHY_OWNER, "owner: held by node2, which is still eligible"},
	  {PLACEMENT_WHY_LESS_PREFERRED, "node3 is eligible; node2 is preferred"}}},
	{"failback delay, counted here", {.holder = N2, .delay_ms = 30000}, 11200, N2, PLACEMENT_KEEP,
	 "held by node2, which is still eligible",
	 {{PLACEMENT_WHY_FAILBACK_DELAY, "failback delay: 12 s left on node1"},
	  {PLACEMENT_WHY_OWNER, "owner: held by node2, which is still eligible"},
	  {PLACEMENT_WHY_LESS_PREFERRED, "node3 is eligible; node2 is preferred"}}},
	{"failback delay, counted elsewhere", {.holder = N2, .delay_ms = 30000}, 0, N2, PLACEMENT_KEEP,
	 "held by node2, which is still eligible",
	 {{PLACEMENT_WHY_FAILBACK_DELAY, "failback delay (30 s) not elapsed on node1"},
	  {PLACEMENT_WHY_OWNER, "owner: held by node2, which is still eligible"},
	  {PLACEMENT_WHY_LESS_PREFERRED, "node3 is eligible; node2 is preferred"}}},
	{"disabled", {.holder = N1, .disabled = 1}, 0, 0, PLACEMENT_DISABLED,
	 "disabled by an operator: held by nobody (fomctl group enable web)",
	 {{PLACEMENT_WHY_DISABLED, "group web is disabled"},
	  {PLACEMENT_WHY_DISABLED, "group web is disabled"},
	  {PLACEMENT_WHY_DISABLED, "group web is disabled"}}},
	{"maintenance, holder failing", {.holder = N1, .failing = N1, .maintenance = 1}, 0, N1, PLACEMENT_MAINTENANCE,
	 "maintenance mode: fomgr moves nothing (held by node1)",
	 {{PLACEMENT_WHY_OWNER, "owner: maintenance mode: fomgr moves nothing (held by node1)"},
	  {PLACEMENT_WHY_MAINTENANCE, "maintenance mode: fomgr moves nothing"},
	  {PLACEMENT_WHY_MAINTENANCE, "maintenance mode: fomgr moves nothing"}}},
	{"maintenance without quorum keeps", {.holder = N2, .maintenance = 1, .no_quorum = 1, .disabled = 1}, 0, N2,
	 PLACEMENT_MAINTENANCE, "maintenance mode: fomgr moves nothing (held by node2)",
	 {{PLACEMENT_WHY_MAINTENANCE, "maintenance mode: fomgr moves nothing"},
	  {PLACEMENT_WHY_OWNER, "owner: maintenance mode: fomgr moves nothing (held by node2)"},
	  {PLACEMENT_WHY_MAINTENANCE, "maintenance mode: fomgr moves nothing"}}},
	{"a node down", {.down = N2}, 0, N1, PLACEMENT_INITIAL, "node1 is the most preferred eligible node",
	 {{PLACEMENT_WHY_OWNER, "owner: node1 is the most preferred eligible node"},
	  {PLACEMENT_WHY_INELIGIBLE, "node2 is offline (not in corosync's membership)"},
	  {PLACEMENT_WHY_LESS_PREFERRED, "node3 is eligible; node1 is preferred"}}},
	{"not in prefer", {.prefer = "node2 node1", .holder = N2}, 0, N2, PLACEMENT_KEEP,
	 "held by node2, which is still eligible",
	 {{PLACEMENT_WHY_LESS_PREFERRED, "node1 is eligible; node2 is preferred"},
	  {PLACEMENT_WHY_OWNER, "owner: held by node2, which is still eligible"},
	  {PLACEMENT_WHY_NOT_LISTED, "node3 is not in group web's prefer list"}}},
};

static void why_table(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(why_rows) / sizeof(why_rows[0]); r++) {
		const struct why_row *row = &why_rows[r];
		struct placement p;
		char why[400];

		print_message("row: %s\n", row->name);
		build(&row->in);
		placement_compute(&view, &cfg, &p);
		assert_int_equal(p.groups[0].owner, row->owner);
		assert_string_equal(placement_reason_str(p.groups[0].reason), placement_reason_str(row->reason));
		placement_why_group(&view, &cfg.groups[0], &p.groups[0], why, sizeof(why));
		assert_string_equal(why, row->group_why);
		for (uint32_t id = 1; id <= 3; id++) {
			const struct view_node *n = view_node_by_id(&view, id);
			enum placement_why w = placement_why_node(&view, &cfg.groups[0], &p.groups[0], n,
								  id == N1 ? row->left_ms : 0, why, sizeof(why));

			assert_string_equal(placement_why_str(w), placement_why_str(row->nodes[id - 1].state));
			assert_string_equal(why, row->nodes[id - 1].why);
		}
	}
	assert_string_equal(placement_why_str(PLACEMENT_WHY_MAX), "invalid");
	for (int w = 0; w < PLACEMENT_WHY_MAX; w++)
		assert_string_not_equal(placement_why_str((enum placement_why)w), "invalid");
}

struct whatif_row {
	const char *name;
	struct setup_row in;
	struct whatif w;
	int rc;
	const char *before, *after; /* owners of web */
	enum placement_reason reason;
	int quorate;
	const char *why; /* the group's why after, or the refusal */
};

static const struct whatif_row whatif_rows[] = {
	{"standby of the holder", {.holder = N1}, {WHATIF_STANDBY, "node1", NULL, NULL}, 0, "node1", "node2",
	 PLACEMENT_FAILOVER, 1, "node2 took over from node1: node1 is in standby"},
	{"standby of another node", {.holder = N1}, {WHATIF_STANDBY, "node3", NULL, NULL}, 0, "node1", "node1",
	 PLACEMENT_KEEP, 1, "held by node1, which is still eligible"},
	{"move", {.holder = N1}, {WHATIF_MOVE, "node3", "web", NULL}, 0, "node1", "node3", PLACEMENT_PINNED, 1,
	 "pinned to node3 by an operator"},
	{"move to a failing node is refused", {.holder = N1, .failing = N2}, {WHATIF_MOVE, "node2", "web", NULL},
	 -EHOSTUNREACH, "", "", 0, 0, "check drain fails on node2"},
	{"move of an unknown group", {.holder = N1}, {WHATIF_MOVE, "node2", "db", NULL}, -ENOENT, "", "", 0, 0, ""},
	{"fail the holder", {.holder = N1}, {WHATIF_FAIL, "node1", NULL, NULL}, 0, "node1", "node2", PLACEMENT_INITIAL,
	 1, "node2 is the most preferred eligible node"},
	{"fail the last peer: no quorum", {.holder = N1, .down = N3}, {WHATIF_FAIL, "node2", NULL, NULL}, 0, "node1", "",
	 PLACEMENT_NO_QUORUM, 0, "no quorum: this partition holds nothing"},
	{"fail a check on the holder", {.holder = N1}, {WHATIF_FAIL_CHECK, "node1", NULL, "drain"}, 0, "node1", "node2",
	 PLACEMENT_FAILOVER, 1, "node2 took over from node1: check drain fails on node1"},
	{"fail a check it does not run", {.holder = N1}, {WHATIF_FAIL_CHECK, "node1", NULL, "nope"}, -ENOENT, "", "", 0,
	 0, ""},
	{"unknown node", {.holder = N1}, {WHATIF_STANDBY, "node9", NULL, NULL}, -ENOENT, "", "", 0, 0, ""},
	{"standby in maintenance", {.holder = N1, .maintenance = 1}, {WHATIF_STANDBY, "node1", NULL, NULL}, 0, "node1",
	 "node1", PLACEMENT_MAINTENANCE, 1, "maintenance mode: fomgr moves nothing (held by node1)"},
	{"a disabled group stays down", {.disabled = 1}, {WHATIF_FAIL, "node3", NULL, NULL}, 0, "", "",
	 PLACEMENT_DISABLED, 1, "disabled by an operator: held by nobody (fomctl group enable web)"},
};

static void whatif_table(void **state)
{
	static struct view before;
	static struct whatif_result res;
	const struct whatif_quorum q = {.expected_votes = 3};

	(void)state;
	for (size_t r = 0; r < sizeof(whatif_rows) / sizeof(whatif_rows[0]); r++) {
		const struct whatif_row *row = &whatif_rows[r];
		struct placement now;
		int rc;

		print_message("row: %s\n", row->name);
		build(&row->in);
		placement_compute(&view, &cfg, &now);
		before = view;
		rc = whatif_run(&view, &cfg, &now, &q, &row->w, &res);
		assert_int_equal(rc, row->rc);
		assert_memory_equal(&before, &view, sizeof(view)); /* nothing changed */
		if (rc == -EHOSTUNREACH)
			assert_string_equal(res.refused, row->why);
		if (rc)
			continue;
		assert_int_equal(res.n_groups, 1);
		assert_string_equal(res.groups[0].before, row->before);
		assert_string_equal(res.groups[0].after, row->after);
		assert_string_equal(placement_reason_str(res.groups[0].reason), placement_reason_str(row->reason));
		assert_int_equal(res.quorate, row->quorate);
		assert_string_equal(res.groups[0].why, row->why);
	}
}

static void whatif_json_names_both_owners(void **state)
{
	static struct whatif_result res;
	const struct whatif_quorum q = {.expected_votes = 3};
	const struct whatif w = {WHATIF_STANDBY, "node1", NULL, NULL};
	struct placement now;
	enum whatif_kind kind;
	json_t *j, *g;

	(void)state;
	build(&(struct setup_row){.holder = N1});
	placement_compute(&view, &cfg, &now);
	assert_int_equal(whatif_run(&view, &cfg, &now, &q, &w, &res), 0);
	j = whatif_json(&w, &res);
	g = json_array_get(json_object_get(j, "groups"), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "simulate"), "action")), "standby");
	assert_string_equal(json_string_value(json_object_get(g, "owner_before")), "node1");
	assert_string_equal(json_string_value(json_object_get(g, "owner_after")), "node2");
	assert_true(json_is_true(json_object_get(g, "changes")));
	assert_string_equal(json_string_value(json_object_get(g, "reason")), "failover");
	json_decref(j);
	assert_int_equal(whatif_kind_parse("fail-check", &kind), 0);
	assert_int_equal(kind, WHATIF_FAIL_CHECK);
	assert_int_equal(whatif_kind_parse("reboot", &kind), -EINVAL);
	assert_string_equal(whatif_kind_str(WHATIF_KIND_MAX), "invalid");
}

/* The admin edits: each change once, -EEXIST when already so. */
static void admin_edits(void **state)
{
	struct wire_admin a = {0};

	(void)state;
	assert_int_equal(admin_set_disabled(&a, "web", 1), 0);
	assert_int_equal(admin_set_disabled(&a, "web", 1), -EEXIST);
	assert_int_equal(admin_set_disabled(&a, "db", 1), 0);
	assert_true(wire_admin_disabled(&a, "db"));
	assert_int_equal(admin_set_disabled(&a, "web", 0), 0);
	assert_int_equal(admin_set_disabled(&a, "web", 0), -EEXIST);
	assert_int_equal(a.n_disabled, 1);
	assert_int_equal(admin_set_maintenance(&a, 0), -EEXIST);
	assert_int_equal(admin_set_maintenance(&a, 1), 0);
	assert_int_equal(admin_set_maintenance(&a, 1), -EEXIST);
	assert_true(wire_admin_more(&a));
}

/* Persisted as the other admin state; a file from before has neither key. */
static void admin_file_roundtrip(void **state)
{
	char dir[] = "/tmp/test_why.XXXXXX", path[64];
	struct wire_admin a = {.epoch = 7, .origin = 2}, b;
	struct wire_admin_change change;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/admin.json", dir);
	admin_set_disabled(&a, "web", 1);
	admin_set_maintenance(&a, 1);
	admin_set_standby(&a, "node2", 1);
	/* with the history's last changes, of the new kinds too */
	memset(&change, 0, sizeof(change));
	change.epoch = 7;
	change.origin = 2;
	change.uid = 1001;
	change.at_ms = 1764720000000ull;
	strcpy(change.what, "maintenance");
	strcpy(change.target, "on");
	strcpy(change.user, "alice");
	strcpy(change.node, "node2");
	admin_log_change(&a, &change);
	assert_int_equal(admin_save(path, &a), 0);
	assert_int_equal(admin_load(path, &b), 0);
	assert_true(wire_admin_equal(&a, &b));
	assert_int_equal(b.n_changes, 1);
	assert_memory_equal(&b.changes[0], &change, sizeof(change));
	f = fopen(path, "w");
	fputs("{\"epoch\":3,\"origin\":1,\"standby\":[],\"pins\":{}}", f);
	fclose(f);
	assert_int_equal(admin_load(path, &b), 0);
	assert_false(b.maintenance);
	assert_int_equal(b.n_disabled, 0);
	f = fopen(path, "w");
	fputs("{\"epoch\":3,\"origin\":1,\"standby\":[],\"pins\":{},\"maintenance\":1}", f);
	fclose(f);
	assert_int_equal(admin_load(path, &b), -EINVAL);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(why_table),
		cmocka_unit_test(whatif_table),
		cmocka_unit_test(whatif_json_names_both_owners),
		cmocka_unit_test(admin_edits),
		cmocka_unit_test(admin_file_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
