/* Placement tables: each row sets up a view (who is up, a member, announced,
 * standby, healthy, holding) and the expected owner of each group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "placement.h"

#define N1 1
#define N2 2
#define N3 3

static struct config cfg;
static struct view view;

static void add_group(const char *name, const char *prefer, enum config_failback fb, uint32_t delay_ms,
		      const char *check)
{
	struct config_group *g = &cfg.groups[cfg.n_groups++];
	char buf[256], *save = NULL;

	memset(g, 0, sizeof(*g));
	strcpy(g->name, name);
	strcpy(g->interface, "eth0");
	g->failback = fb;
	g->failback_delay_ms = delay_ms;
	snprintf(buf, sizeof(buf), "%s", prefer);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		strcpy(g->prefer[g->n_prefer++], t);
	if (check) {
		strcpy(g->checks[0], check);
		g->n_checks = 1;
	}
}

/* All three nodes up, members, announced, healthy, holding nothing, quorate. */
static int setup(void **state)
{
	struct config_nodelist nodes = {.n_nodes = 3,
					.nodes = {{N3, "node3"}, {N1, "node1"}, {N2, "node2"}}};

	memset(&cfg, 0, sizeof(cfg));
	view_init(&view, &nodes, N1);
	uint32_t up[] = {N1, N2, N3};
	view_apply_totem(&view, up, 3);
	for (uint32_t id = 1; id <= 3; id++) {
		struct wire_announce a = {.seq = 1};
		view_apply_join(&view, id, 100 + id);
		strcpy(a.checks[0].name, "web");
		a.checks[0].state = CHECK_PASSING;
		a.n_checks = 1;
		view_apply_announce(&view, id, 100 + id, &a);
	}
	view_apply_quorum(&view, 1, 1);
	return 0;
}

static struct wire_announce *ann(uint32_t id)
{
	return &view_node_by_id(&view, id)->ann;
}

static void set_holds(uint32_t id, const char *group)
{
	struct wire_announce *a = ann(id);
	strcpy(a->held[a->n_held++], group);
}

static void set_check(uint32_t id, enum check_state st)
{
	ann(id)->checks[0].state = st;
}

static uint32_t owner_of(size_t group)
{
	struct placement p;

	placement_compute(&view, &cfg, &p);
	return p.groups[group].owner;
}

static enum placement_reason reason_of(size_t group)
{
	struct placement p;

	placement_compute(&view, &cfg, &p);
	return p.groups[group].reason;
}

static void preference_order(void **state)
{
	add_group("web", "node2 node1 node3", CONFIG_FAILBACK_AUTO, 0, NULL);
	assert_int_equal(owner_of(0), N2);
	assert_int_equal(reason_of(0), PLACEMENT_INITIAL);
}

static void no_prefer_means_nodeid_order(void **state)
{
	add_group("web", "", CONFIG_FAILBACK_AUTO, 0, NULL);
	assert_int_equal(owner_of(0), N1);
}

static void unlisted_node_never_owns(void **state)
{
	add_group("web", "node3", CONFIG_FAILBACK_AUTO, 0, NULL);
	view_apply_leave(&view, N3, 103, VIEW_LEAVE_NODE);
	assert_int_equal(owner_of(0), 0);
	assert_int_equal(reason_of(0), PLACEMENT_NO_ELIGIBLE);
}

static void holder_left_node_down_fails_over(void **state)
{
	add_group("web", "node1 node2 node3", CONFIG_FAILBACK_AUTO, 0, NULL);
	set_holds(N1, "web");
	view.local_nodeid = N2;
	assert_int_equal(owner_of(0), N1);
	uint32_t up[] = {N2, N3};
	view_apply_totem(&view, up, 2);
	assert_int_equal(owner_of(0), N2);
	assert_int_equal(reason_of(0), PLACEMENT_INITIAL); /* the holder's state went with it */
}

static void holder_process_died_node_up_keeps_claim(void **state)
{
	add_group("web", "node1 node2 node3", CONFIG_FAILBACK_AUTO, 0, NULL);
	set_holds(N1, "web");
	view.local_nodeid = N2;
	view_apply_leave(&view, N1, 101, VIEW_LEAVE_PROC);
	assert_int_equal(owner_of(0), N1);
	assert_int_equal(reason_of(0), PLACEMENT_KEEP);
	/* it comes back: unsettled until it announces again, then keeps it */
	view_apply_join(&view, N1, 201);
	assert_int_equal(reason_of(0), PLACEMENT_UNSETTLED);
	assert_int_equal(owner_of(0), N1);
	struct wire_announce a = view_node_by_id(&view, N1)->ann;
	view_apply_announce(&view, N1, 201, &a);
	assert_int_equal(owner_of(0), N1);
	assert_int_equal(reason_of(0), PLACEMENT_KEEP);
}

static void failback_auto_returns(void **state)
{
	add_group("web", "node1 node2 node3", CONFIG_FAILBACK_AUTO, 0, NULL);
	set_holds(N2, "web");
	assert_int_equal(owner_of(0), N1);
	assert_int_equal(reason_of(0), PLACEMENT_FAILBACK);
}

static void failback_manual_stays(void **state)
{
	add_group("web", "node1 node2 node3", CONFIG_FAILBACK_MANUAL, 0, NULL);
	set_holds(N2, "web");
	assert_int_equal(owner_of(0), N2);
	assert_int_equal(reason_of(0), PLACEMENT_KEEP);
}

static void failback_delay_waits_for_ready(void **state)
{
	add_group("web", "node1 node2 node3", CONFIG_FAILBACK_AUTO, 30000, NULL);
	set_holds(N2, "web");
	assert_int_equal(owner_of(0), N2);
	strcpy(ann(N1)->failback_ready[ann(N1)->n_ready++], "web");
	assert_int_equal(owner_of(0), N1);
}

static void failback_never_to_less_preferred(void **state)
{
	add_group("web", "node2 node1 node3", CONFIG_FAILBACK_AUTO, 0, NULL);
	set_holds(N2, "web");
	assert_int_equal(owner_of(0), N2);
	assert_int_equal(reason_of(0), PLACEMENT_KEEP);
}

static void no_quorum_holds_nothing(void **state)
{
	add_group("web", "node1 node2 node3", CONFIG_FAILBACK_AUTO, 0, NULL);
	set_holds(N1, "web");
	view_apply_quorum(&view, 1, 0);
	assert_int_equal(owner_of(0), 0);
	assert_int_equal(reason_of(0), PLACEMENT_NO_QUORUM);
}

static void quorum_unknown_is_unsettled(void **state)
{
	add_group("web", "node1 node2 node3", CONFIG_FAILBACK_AUTO, 0, NULL);
	view_apply_quorum(&view, 0, 0);
	assert_int_equal(reason_of(0), PLACEMENT_UNSETTLED);
}

static void standby_and_leaving_not_eligible(void **state)
{
	add_group("web", "node1 node2 node3", CONFIG_FAILBACK_AUTO, 0, NULL);
	set_holds(N1, "web");
	ann(N3)->admin = (struct wire_admin){.epoch = 2, .origin = N3, .n_standby = 1, .standby = {"node1"}};
	assert_int_equal(owner_of(0), N2);
	assert_int_equal(reason_of(0), PLACEMENT_FAILOVER);
	ann(N2)->flags = WIRE_F_LEAVING;
	assert_int_equal(owner_of(0), N3);
}

static void failing_or_unknown_check_not_eligible(void **state)
{
	add_group("web", "node1 node2 node3", CONFIG_FAILBACK_AUTO, 0, "web");
	set_holds(N1, "web");
	set_check(N1, CHECK_FAILING);
	assert_int_equal(owner_of(0), N2);
	set_check(N2, CHECK_UNKNOWN);
	assert_int_equal(owner_of(0), N3);
	set_check(N3, CHECK_FAILING);
	assert_int_equal(owner_of(0), 0);
	assert_int_equal(reason_of(0), PLACEMENT_NO_ELIGIBLE);
}

static void unsynced_view_changes_nothing(void **state)
{
	add_group("web", "node1 node2 node3", CONFIG_FAILBACK_AUTO, 0, NULL);
	set_holds(N2, "web");
	view_apply_leave(&view, N3, 103, VIEW_LEAVE_PROC);
	view_apply_join(&view, N3, 300); /* N3 restarted, has not announced */
	assert_int_equal(owner_of(0), N2);
	assert_int_equal(reason_of(0), PLACEMENT_UNSETTLED);
}

static void active_active_spreads(void **state)
{
	add_group("a", "node1 node2 node3", CONFIG_FAILBACK_AUTO, 0, NULL);
	add_group("b", "node2 node3 node1", CONFIG_FAILBACK_AUTO, 0, NULL);
	add_group("c", "node3 node1 node2", CONFIG_FAILBACK_AUTO, 0, NULL);
	assert_int_equal(owner_of(0), N1);
	assert_int_equal(owner_of(1), N2);
	assert_int_equal(owner_of(2), N3);
	uint32_t up[] = {N1, N3};
	view_apply_totem(&view, up, 2);
	assert_int_equal(owner_of(0), N1);
	assert_int_equal(owner_of(1), N3);
	assert_int_equal(owner_of(2), N3);
}

static void merge_with_two_holders_picks_preferred(void **state)
{
	add_group("web", "node1 node2 node3", CONFIG_FAILBACK_MANUAL, 0, NULL);
	set_holds(N3, "web");
	set_holds(N2, "web");
	struct placement p;
	placement_compute(&view, &cfg, &p);
	assert_int_equal(p.groups[0].holder, N2);
	assert_int_equal(p.groups[0].owner, N2);
}

static void same_answer_on_every_node(void **state)
{
	/* The local node id must not change the answer. */
	add_group("web", "node2 node3 node1", CONFIG_FAILBACK_AUTO, 0, NULL);
	set_holds(N3, "web");
	uint32_t owners[3];
	for (uint32_t id = 1; id <= 3; id++) {
		view.local_nodeid = id;
		owners[id - 1] = owner_of(0);
	}
	assert_int_equal(owners[0], N2);
	assert_int_equal(owners[1], N2);
	assert_int_equal(owners[2], N2);
}

static void announce_from_stale_pid_ignored(void **state)
{
	struct wire_announce a = {.seq = 9, .flags = WIRE_F_LEAVING};
	assert_int_equal(view_apply_announce(&view, N1, 999, &a), 0);
	assert_int_equal(view_apply_announce(&view, 7, 107, &a), 0);
	assert_int_equal(view_apply_announce(&view, N1, 101, &a), 1);
}

static void pin_overrides_preference_while_eligible(void **state)
{
	add_group("web", "node1 node2 node3", CONFIG_FAILBACK_AUTO, 0, NULL);
	set_holds(N1, "web");
	ann(N2)->admin = (struct wire_admin){.epoch = 1, .origin = N2, .n_pins = 1, .pins = {{"web", "node3"}}};
	assert_int_equal(owner_of(0), N3);
	assert_int_equal(reason_of(0), PLACEMENT_PINNED);
	set_holds(N3, "web");
	ann(N1)->n_held = 0;
	assert_int_equal(reason_of(0), PLACEMENT_KEEP);
	/* the pinned node leaves: usual placement, and failback to node1 */
	uint32_t up[] = {N1, N2};
	view_apply_totem(&view, up, 2);
	assert_int_equal(owner_of(0), N1);
}

static void newest_admin_wins(void **state)
{
	add_group("web", "node1 node2 node3", CONFIG_FAILBACK_AUTO, 0, NULL);
	ann(N1)->admin = (struct wire_admin){.epoch = 3, .origin = N1, .n_standby = 1, .standby = {"node2"}};
	ann(N2)->admin = (struct wire_admin){.epoch = 4, .origin = N2, .n_standby = 1, .standby = {"node1"}};
	assert_int_equal(owner_of(0), N2);
	/* same epoch: the lower origin wins */
	ann(N3)->admin = (struct wire_admin){.epoch = 4, .origin = 1, .n_standby = 0};
	assert_int_equal(view_admin(&view)->origin, 1);
	assert_int_equal(owner_of(0), N1);
}

static void second_process_of_a_node_ignored(void **state)
{
	struct wire_announce a = {.seq = 9, .flags = WIRE_F_LEAVING};

	assert_int_equal(view_apply_join(&view, N2, 999), 0);
	assert_int_equal(view_node_by_id(&view, N2)->pid, 102);
	assert_int_equal(view_apply_announce(&view, N2, 999, &a), 0);
	assert_int_equal(view_apply_join(&view, 9, 900), 0);
	/* once the first is gone, a new process is welcome */
	view_apply_leave(&view, N2, 102, VIEW_LEAVE_PROC);
	assert_int_equal(view_apply_join(&view, N2, 999), 1);
}

/* A switchover without a target: the next eligible node after the owner, in
 * preference order, wrapping round; none when nobody else is eligible. */
static void next_owner_table(void **state)
{
	static const struct {
		const char *prefer;
		uint32_t owner;
		uint32_t standby; /* 0: none */
		uint32_t want;
	} t[] = {
		{"node1 node2 node3", N1, 0, N2},
		{"node1 node2 node3", N2, 0, N3},
		{"node1 node2 node3", N3, 0, N1},  /* wraps round */
		{"node1 node2 node3", N1, N2, N3}, /* skips a node in standby */
		{"node3 node1", N3, 0, N1},
		{"node3 node1", N1, N3, 0},        /* the only other node is in standby */
		{"node1 node2", N3, 0, 0},         /* owner not in the preference: nothing to move */
		{"node1 node2 node3", 0, 0, 0},    /* no owner */
		{"", N2, 0, N3},                   /* no preference: nodeid order */
		{"", N3, 0, N1},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t got;

		setup(NULL);
		add_group("web", t[i].prefer, CONFIG_FAILBACK_AUTO, 0, NULL);
		if (t[i].standby) {
			struct wire_admin a = {.epoch = 2, .origin = N1, .n_standby = 1};
			snprintf(a.standby[0], sizeof(a.standby[0]), "node%u", t[i].standby);
			ann(N1)->admin = a;
		}
		got = placement_next_owner(&view, &cfg.groups[0], t[i].owner);
		if (got != t[i].want)
			fail_msg("row %zu (prefer '%s', owner %u, standby %u): next %u, want %u", i, t[i].prefer,
				 t[i].owner, t[i].standby, got, t[i].want);
	}
}

static void set_reach(uint32_t id, int known, uint32_t a, uint32_t b)
{
	struct wire_announce *x = ann(id);

	x->flags = known ? x->flags | WIRE_F_REACH : x->flags & ~(uint32_t)WIRE_F_REACH;
	x->n_reach = 0;
	if (a)
		x->reach[x->n_reach++] = a;
	if (b)
		x->reach[x->n_reach++] = b;
}

/* A bridge partition: the ring {2, 3} leaves node1 out while node3 still reaches
 * it. Rows: what node2 and node3 vouch for, whether node1 had said it was leaving,
 * whether it held (claimed) or only had the addresses up, and the owner expected
 * in the ring {2, 3}. */
static void lost_holder_table(void **state)
{
	static const struct {
		int known2, known3;
		uint32_t reach2, reach3;
		int leaving, up_only;
		uint32_t want;
		enum placement_reason reason;
	} t[] = {
		{1, 1, N3, N1, 0, 0, 0, PLACEMENT_LOST_HOLDER},   /* node3 reaches node1: wait */
		{1, 1, N1, N1, 0, 0, 0, PLACEMENT_LOST_HOLDER},   /* both reach it */
		{1, 1, N1, 0, 0, 1, 0, PLACEMENT_LOST_HOLDER},    /* it only had them up */
		{1, 1, N3, N2, 0, 0, N2, PLACEMENT_INITIAL},      /* nobody reaches it: it is gone */
		{0, 0, N1, N1, 0, 0, N2, PLACEMENT_INITIAL},      /* nobody says what it reaches */
		{1, 0, N3, N1, 0, 0, N2, PLACEMENT_INITIAL},      /* node3's list without the flag */
		{1, 1, N3, N1, 1, 0, N2, PLACEMENT_INITIAL},      /* it said it was leaving: released */
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct placement p;

		setup(NULL);
		add_group("web", "node1 node2 node3", CONFIG_FAILBACK_AUTO, 0, NULL);
		view.local_nodeid = N2;
		if (t[i].up_only)
			strcpy(ann(N1)->up[ann(N1)->n_up++], "web");
		else
			set_holds(N1, "web");
		if (t[i].leaving)
			ann(N1)->flags |= WIRE_F_LEAVING;
		set_reach(N2, t[i].known2, t[i].reach2, 0);
		set_reach(N3, t[i].known3, t[i].reach3, 0);
		uint32_t up[] = {N2, N3};
		view_apply_totem(&view, up, 2);
		view_apply_leave(&view, N1, 101, VIEW_LEAVE_NODE);
		placement_compute(&view, &cfg, &p);
		if (p.groups[0].owner != t[i].want || p.groups[0].reason != t[i].reason)
			fail_msg("row %zu: owner %u (%s), want %u (%s)", i, p.groups[0].owner,
				 placement_reason_str(p.groups[0].reason), t[i].want, placement_reason_str(t[i].reason));
	}
}

/* node1 held web and left the ring {2, 3}; node3 still reaches it: nobody claims. */
static void left_out_while_reached(void)
{
	uint32_t up[] = {N2, N3};

	add_group("web", "node1 node2 node3", CONFIG_FAILBACK_AUTO, 0, NULL);
	view.local_nodeid = N2;
	set_holds(N1, "web");
	set_reach(N3, 1, N1, N2);
	view_apply_totem(&view, up, 2);
	assert_int_equal(owner_of(0), 0);
	assert_int_equal(reason_of(0), PLACEMENT_LOST_HOLDER);
}

/* The wait ends when the vouching member stops reaching it, or it comes back. */
static void lost_holder_wait_ends(void **state)
{
	left_out_while_reached();
	/* node3's knet link to node1 goes down: its next announce says so */
	struct wire_announce a = *ann(N3);
	a.seq++;
	a.n_reach = 0;
	a.reach[a.n_reach++] = N2;
	view_apply_announce(&view, N3, 103, &a);
	assert_int_equal(owner_of(0), N2);
	assert_int_equal(reason_of(0), PLACEMENT_INITIAL);
	/* again, with a voucher that never changes its word: the caller stops waiting */
	setup(NULL);
	left_out_while_reached();
	assert_int_equal(view_forget_lost(&view, N1), 1);
	assert_int_equal(view_forget_lost(&view, N1), 0);
	assert_int_equal(view_forget_lost(&view, N2), 0); /* up: nothing to forget */
	assert_int_equal(owner_of(0), N2);
	/* again, but node1 comes back into the ring instead, still holding */
	setup(NULL);
	left_out_while_reached();
	uint32_t all[] = {N1, N2, N3};
	view_apply_totem(&view, all, 3);
	assert_int_equal(view_node_by_id(&view, N1)->n_lost, 0);
	view_apply_join(&view, N1, 201);
	a = (struct wire_announce){.seq = 1};
	strcpy(a.held[a.n_held++], "web");
	strcpy(a.checks[0].name, "web");
	a.checks[0].state = CHECK_PASSING;
	a.n_checks = 1;
	view_apply_announce(&view, N1, 201, &a);
	assert_int_equal(owner_of(0), N1);
	assert_int_equal(reason_of(0), PLACEMENT_KEEP);
}

/* A refusal names the first reason, the same rule placement_eligible applies. */
static void explain_names_the_reason(void **state)
{
	const struct config_group *g;
	char why[160];
	struct wire_admin a = {.epoch = 2, .origin = N1, .n_standby = 1};

	add_group("web", "node1 node2 node3", CONFIG_FAILBACK_AUTO, 0, "web");
	g = &cfg.groups[0];
	set_check(N2, CHECK_FAILING);
	set_check(N3, CHECK_UNKNOWN);
	assert_int_equal(placement_explain(&view, g, view_node_by_id(&view, N1), why, sizeof(why)), 1);
	assert_string_equal(why, "node1 is eligible for web");
	assert_int_equal(placement_explain(&view, g, view_node_by_id(&view, N2), why, sizeof(why)), 0);
	assert_string_equal(why, "check web fails on node2");
	assert_false(placement_eligible(&view, g, view_node_by_id(&view, N2)));
	assert_int_equal(placement_explain(&view, g, view_node_by_id(&view, N3), why, sizeof(why)), 0);
	assert_string_equal(why, "check web has no result on node3");
	snprintf(a.standby[0], sizeof(a.standby[0]), "node3");
	ann(N1)->admin = a;
	assert_int_equal(placement_explain(&view, g, view_node_by_id(&view, N3), why, sizeof(why)), 0);
	assert_string_equal(why, "node3 is in standby");
	view_apply_quorum(&view, 1, 0);
	assert_int_equal(placement_explain(&view, g, view_node_by_id(&view, N1), why, sizeof(why)), 0);
	assert_string_equal(why, "no quorum (node1 cannot take anything)");
}

#define T(f) cmocka_unit_test_setup(f, setup)
int main(void)
{
	const struct CMUnitTest tests[] = {
		T(preference_order),
		T(no_prefer_means_nodeid_order),
		T(unlisted_node_never_owns),
		T(holder_left_node_down_fails_over),
		T(holder_process_died_node_up_keeps_claim),
		T(failback_auto_returns),
		T(failback_manual_stays),
		T(failback_delay_waits_for_ready),
		T(failback_never_to_less_preferred),
		T(no_quorum_holds_nothing),
		T(quorum_unknown_is_unsettled),
		T(standby_and_leaving_not_eligible),
		T(failing_or_unknown_check_not_eligible),
		T(unsynced_view_changes_nothing),
		T(active_active_spreads),
		T(merge_with_two_holders_picks_preferred),
		T(same_answer_on_every_node),
		T(announce_from_stale_pid_ignored),
		T(pin_overrides_preference_while_eligible),
		T(newest_admin_wins),
		T(second_process_of_a_node_ignored),
		T(explain_names_the_reason),
		T(next_owner_table),
		T(lost_holder_table),
		T(lost_holder_wait_ends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
