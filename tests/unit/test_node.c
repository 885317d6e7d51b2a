/* node_step as tables. First the scenarios the simulator's table names (tests/sim/
 * table.c), each run through the same model the campaign uses, with its outcome
 * and the interleaving it is named for asserted; then the events the model does
 * not produce, one row each against a one-node cluster. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "node.h"
#include "table.h"

static void test_scenarios(void **state)
{
	(void)state;
	for (size_t k = 0; k < sim_n_scenarios; k++) {
		const struct sim_scenario *sc = &sim_scenarios[k];
		struct sim_options opt = {.n_nodes = sc->n_nodes, .seed = 1, .end_ms = sc->end_ms,
					  .netlink_ms = sc->netlink_ms};
		struct sim_result res;

		sim_run(&opt, sc->ops, sc->n_ops, &res);
		print_message("scenario: %s: %s holder %d reason %s stalls %u seen %#x\n", sc->name,
			      res.failed ? res.message : "ok", res.holder[0], res.last_reason[0], res.stalls, res.seen);
		assert_false(res.failed);
		if (sc->expect.holder == -2)
			assert_true(res.holder[0] >= 0);
		else
			assert_int_equal(res.holder[0], sc->expect.holder);
		if (sc->expect.reason)
			assert_string_equal(res.last_reason[0], sc->expect.reason);
		assert_true(res.stalls >= (unsigned)sc->expect.stalls);
		assert_int_equal(res.seen & sc->expect.seen, sc->expect.seen);
	}
}

/* ---- one node, quorate alone, holding group vip ---- */

static struct config *config;
static struct node *n;
static struct effects fx;

static int count(enum effect_kind kind)
{
	int c = 0;

	for (size_t i = 0; i < fx.n; i++)
		c += fx.v[i].kind == kind;
	return c;
}

static void step(struct node_event ev)
{
	static uint64_t now = 1000;

	now += 1000;
	node_step(n, &ev, now, &fx);
	assert_int_equal(fx.dropped, 0);
}

static void deliver_own(void)
{
	static struct wire_announce a;

	a = *node_announce(n);
	step((struct node_event){.kind = NODE_EV_DELIVER, .nodeid = 1, .pid = 7, .announce = &a});
}

static int setup(void **state)
{
	struct config_nodelist nodes = {.n_nodes = 1, .nodes = {{1, "node1"}}};
	const char *text = "[fomgr]\n[group vip]\ninterface = eth0\naddress = 192.0.2.100/24\n"
			   "[group db]\ninterface = eth0\naddress = 198.51.100.20/24\n";
	struct cfgfile_errors errors;
	uint8_t digest[32] = {0};
	static const uint32_t ring[] = {1};
	size_t slots[2];

	(void)state;
	config = config_parse_buffer("t.conf", text, strlen(text), &nodes, &errors);
	assert_non_null(config);
	n = calloc(1, sizeof(*n));
	node_init(n, config, digest, &nodes, NULL);
	step((struct node_event){.kind = NODE_EV_CONNECTED, .nodeid = 1, .pid = 7});
	step((struct node_event){.kind = NODE_EV_TOTEM, .nodeids = ring, .n_nodeids = 1, .quorum_known = 1,
				 .quorate = 1});
	step((struct node_event){.kind = NODE_EV_JOIN, .nodeid = 1, .pid = 7});
	assert_int_equal(count(EFFECT_ANNOUNCE), 1);
	deliver_own();
	assert_int_equal(count(EFFECT_ANNOUNCE), 1); /* the claims */
	deliver_own();
	assert_int_equal(count(EFFECT_ADDR_ADD), 2);   /* claim seen: the addresses */
	slots[0] = fx.v[0].kind == EFFECT_ADDR_ADD ? fx.v[0].slot : fx.v[1].slot;
	slots[1] = fx.v[fx.n - 1].kind == EFFECT_ADDR_ADD ? fx.v[fx.n - 1].slot : fx.v[fx.n - 2].slot;
	for (size_t i = 0; i < 2; i++) {
		step((struct node_event){.kind = NODE_EV_NETLINK, .slot = slots[i]});
		assert_int_equal(count(EFFECT_TRANSITION), 1);
		assert_int_equal(count(EFFECT_GARP), 1);
	}
	assert_int_equal(transition_state_of(&n->transition, "vip"), TRANSITION_HELD);
	assert_int_equal(transition_state_of(&n->transition, "db"), TRANSITION_HELD);
	deliver_own();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(n);
	config_free(config);
	return 0;
}

static void test_conflict(void **state)
{
	(void)state;
	step((struct node_event){.kind = NODE_EV_CONFLICT, .group = "vip"});
	assert_int_equal(fx.rc, 0);
	assert_int_equal(count(EFFECT_GARP), 1);
	step((struct node_event){.kind = NODE_EV_CONFLICT, .group = "nope"});
	assert_int_equal(fx.rc, -ENOENT);
	assert_int_equal(fx.n, 0);
}

static void test_announce_failed_resends(void **state)
{
	static const struct wire_check check = {.name = "x", .state = CHECK_PASSING};

	(void)state;
	step((struct node_event){.kind = NODE_EV_HEALTH});
	assert_int_equal(count(EFFECT_ANNOUNCE), 0); /* nothing changed */
	step((struct node_event){.kind = NODE_EV_ANNOUNCE_FAILED});
	step((struct node_event){.kind = NODE_EV_HEALTH, .n_checks = 1, .checks = &check});
	assert_int_equal(count(EFFECT_ANNOUNCE), 1);
}

static void test_netstate_announces(void **state)
{
	struct wire_netstate ns = {.kernel_version = "6.1"};

	(void)state;
	step((struct node_event){.kind = NODE_EV_NETSTATE, .netstate = &ns});
	assert_int_equal(count(EFFECT_ANNOUNCE), 1);
	assert_string_equal(node_announce(n)->netstate.kernel_version, "6.1");
	step((struct node_event){.kind = NODE_EV_NETSTATE, .netstate = &ns});
	assert_int_equal(count(EFFECT_ANNOUNCE), 0);
}

static void test_reload_releases_removed_group(void **state)
{
	struct config_nodelist nodes = {.n_nodes = 1, .nodes = {{1, "node1"}}};
	const char *text = "[fomgr]\n[group db]\ninterface = eth0\naddress = 198.51.100.20/24\n";
	struct cfgfile_errors errors;
	struct config *next = config_parse_buffer("t.conf", text, strlen(text), &nodes, &errors);

	(void)state;
	assert_non_null(next);
	step((struct node_event){.kind = NODE_EV_CONFIG, .config = next});
	assert_int_equal(count(EFFECT_ADDR_DEL), 1);
	assert_int_equal(count(EFFECT_GARP_STOP), 1);
	config_free(config);
	config = next;
}

static void test_fence_failed_forgets_withdrawal(void **state)
{
	(void)state;
	n->pairs.withdrawn_from = 2;
	step((struct node_event){.kind = NODE_EV_FENCE_FAILED});
	assert_int_equal(n->pairs.withdrawn_from, 0);
}

static void test_admin_persisted_before_announced(void **state)
{
	(void)state;
	step((struct node_event){.kind = NODE_EV_ADMIN, .admin = NODE_ADMIN_PIN, .group = "vip", .node = "node1"});
	assert_int_equal(fx.rc, 0);
	assert_int_equal(count(EFFECT_PERSIST_ADMIN), 1);
	assert_int_equal(count(EFFECT_ANNOUNCE), 0);
	step((struct node_event){.kind = NODE_EV_ADMIN, .admin = NODE_ADMIN_STANDBY, .node = "node1", .on = 1});
	assert_int_equal(fx.rc, -EBUSY);
	step((struct node_event){.kind = NODE_EV_ADMIN_SAVED, .value = 0});
	assert_int_equal(count(EFFECT_ANNOUNCE), 1);
	deliver_own();
	assert_int_equal(count(EFFECT_REPLY), 1);
	step((struct node_event){.kind = NODE_EV_ADMIN, .admin = NODE_ADMIN_STANDBY, .node = "node9", .on = 1});
	assert_int_equal(fx.rc, -ENOENT);
}

/* Quorum lost, released, and our release announce never came back (the ring was
 * gone): the last announce of ours in the view still holds both groups. When
 * quorum returns, that stale announce must not count as our new claim. */
static void test_claim_waits_for_a_new_announce(void **state)
{
	size_t slots[2], k = 0;

	(void)state;
	step((struct node_event){.kind = NODE_EV_QUORUM, .quorum_known = 1, .quorate = 0});
	assert_int_equal(count(EFFECT_ADDR_DEL), 2);
	for (size_t i = 0; i < fx.n; i++)
		if (fx.v[i].kind == EFFECT_ADDR_DEL)
			slots[k++] = fx.v[i].slot;
	for (size_t i = 0; i < 2; i++)
		step((struct node_event){.kind = NODE_EV_NETLINK, .slot = slots[i]});
	assert_int_equal(transition_state_of(&n->transition, "vip"), TRANSITION_IDLE);
	step((struct node_event){.kind = NODE_EV_QUORUM, .quorum_known = 1, .quorate = 1});
	assert_int_equal(count(EFFECT_ANNOUNCE), 1); /* the claims */
	assert_int_equal(count(EFFECT_ADDR_ADD), 0); /* not seen yet */
	deliver_own();
	assert_int_equal(count(EFFECT_ADDR_ADD), 2);
}

static void test_shutdown_releases_then_exits(void **state)
{
	(void)state;
	step((struct node_event){.kind = NODE_EV_SHUTDOWN});
	assert_int_equal(count(EFFECT_ADDR_DEL), 2);
	for (size_t k = 0; k < TRANSITION_SLOTS; k++)
		if (n->transition.groups[k].used && n->transition.groups[k].busy)
			step((struct node_event){.kind = NODE_EV_NETLINK, .slot = k});
	assert_int_equal(count(EFFECT_TIMER_ARM), 1); /* our last announce is awaited */
	deliver_own();
	assert_int_equal(count(EFFECT_EXIT), 1);
}

/* An operator's admin change, through its whole agreement: requested, persisted,
 * announced, our announce back. Returns the request's rc. */
static int agree(enum node_admin_kind kind, const char *group, const char *node, int on)
{
	step((struct node_event){.kind = NODE_EV_ADMIN, .admin = kind, .group = group, .node = node, .on = on});
	if (fx.rc < 0)
		return fx.rc;
	assert_int_equal(count(EFFECT_PERSIST_ADMIN), 1);
	step((struct node_event){.kind = NODE_EV_ADMIN_SAVED, .value = 0});
	assert_int_equal(count(EFFECT_ANNOUNCE), 1);
	deliver_own();
	assert_int_equal(count(EFFECT_REPLY), 1);
	return 0;
}

static void finish_netlink(void)
{
	for (size_t k = 0; k < TRANSITION_SLOTS; k++)
		if (n->transition.groups[k].used && n->transition.groups[k].busy)
			step((struct node_event){.kind = NODE_EV_NETLINK, .slot = k});
}

static void test_disable_releases_enable_returns(void **state)
{
	(void)state;
	assert_int_equal(agree(NODE_ADMIN_DISABLE, "vip", NULL, 1), 0);
	assert_int_equal(count(EFFECT_ADDR_DEL), 1); /* vip's one address, not db's */
	assert_int_equal(n->placement.groups[0].reason, PLACEMENT_DISABLED);
	assert_int_equal(n->placement.groups[0].owner, 0);
	assert_true(wire_admin_disabled(&n->admin, "vip"));
	assert_true(node_announce(n)->flags & WIRE_F_ADMIN_MORE);
	finish_netlink();
	assert_int_equal(transition_state_of(&n->transition, "vip"), TRANSITION_IDLE);
	assert_int_equal(transition_state_of(&n->transition, "db"), TRANSITION_HELD);
	assert_int_equal(agree(NODE_ADMIN_DISABLE, "vip", NULL, 1), -EEXIST);
	assert_int_equal(agree(NODE_ADMIN_DISABLE, "nope", NULL, 1), -ENOENT);
	/* a pin to a disabled group is refused (the operator enables it first) */
	assert_int_equal(agree(NODE_ADMIN_PIN, "vip", "node1", 1), -EHOSTUNREACH);
	assert_int_equal(agree(NODE_ADMIN_DISABLE, "vip", NULL, 0), 0);
	assert_false(node_announce(n)->flags & WIRE_F_ADMIN_MORE);
	assert_int_equal(count(EFFECT_ADDR_ADD), 0); /* the claim goes out first */
	deliver_own();
	assert_int_equal(count(EFFECT_ADDR_ADD), 1);
}

static void test_maintenance_moves_nothing(void **state)
{
	(void)state;
	assert_int_equal(agree(NODE_ADMIN_MAINTENANCE, NULL, NULL, 1), 0);
	assert_true(node_maintenance(n));
	assert_true(node_announce(n)->admin.maintenance);
	assert_int_equal(agree(NODE_ADMIN_MAINTENANCE, NULL, NULL, 1), -EEXIST);
	/* standby of the holder, a failing check: nothing is released */
	assert_int_equal(agree(NODE_ADMIN_STANDBY, NULL, "node1", 1), 0);
	assert_int_equal(count(EFFECT_ADDR_DEL), 0);
	assert_int_equal(n->placement.groups[0].reason, PLACEMENT_MAINTENANCE);
	assert_int_equal(n->placement.groups[0].owner, 1);
	/* a disabled group is not released either while in maintenance */
	assert_int_equal(agree(NODE_ADMIN_DISABLE, "db", NULL, 1), 0);
	assert_int_equal(count(EFFECT_ADDR_DEL), 0);
	/* no quorum, a stalled ring, a shutdown: the addresses stay */
	step((struct node_event){.kind = NODE_EV_QUORUM, .quorum_known = 1, .quorate = 0});
	assert_int_equal(count(EFFECT_ADDR_DEL), 0);
	step((struct node_event){.kind = NODE_EV_RING_STALL, .ms = 900, .ms2 = 700});
	assert_int_equal(count(EFFECT_ADDR_DEL), 0);
	step((struct node_event){.kind = NODE_EV_SHUTDOWN});
	assert_int_equal(count(EFFECT_ADDR_DEL), 0);
	assert_int_equal(count(EFFECT_EXIT), 1);
	assert_int_equal(transition_state_of(&n->transition, "vip"), TRANSITION_HELD);
	assert_int_equal(transition_state_of(&n->transition, "db"), TRANSITION_HELD);
}

static void test_maintenance_off_resumes(void **state)
{
	(void)state;
	assert_int_equal(agree(NODE_ADMIN_MAINTENANCE, NULL, NULL, 1), 0);
	assert_int_equal(agree(NODE_ADMIN_STANDBY, NULL, "node1", 1), 0);
	assert_int_equal(count(EFFECT_ADDR_DEL), 0);
	assert_int_equal(agree(NODE_ADMIN_MAINTENANCE, NULL, NULL, 0), 0);
	assert_false(node_maintenance(n));
	assert_int_equal(count(EFFECT_ADDR_DEL), 2); /* standby applies now: both groups go */
	assert_int_equal(n->placement.groups[0].reason, PLACEMENT_NO_ELIGIBLE);
}

/* Persisted by an earlier run: a restart starts in maintenance. */
static void test_maintenance_survives_restart(void **state)
{
	struct config_nodelist nodes = {.n_nodes = 1, .nodes = {{1, "node1"}}};
	struct wire_admin saved = {.epoch = 5, .origin = 1, .maintenance = 1};
	struct node *again = calloc(1, sizeof(*again));
	uint8_t digest[32] = {0};

	(void)state;
	node_init(again, config, digest, &nodes, &saved);
	assert_true(node_maintenance(again));
	free(again);
}

static void test_failback_left(void **state)
{
	(void)state;
	n->eligible_since_us[0] = 1000000;
	config->groups[0].failback_delay_ms = 30000;
	assert_int_equal(node_failback_left_ms(n, 0, 1000000 + 18000000), 12000);
	assert_int_equal(node_failback_left_ms(n, 0, 1000000 + 30000000), 0);
	assert_int_equal(node_failback_left_ms(n, 9, 0), 0);
	config->groups[0].failback_delay_ms = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test_setup_teardown(test_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_announce_failed_resends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_netstate_announces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_releases_removed_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fence_failed_forgets_withdrawal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_persisted_before_announced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_releases_then_exits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_waits_for_a_new_announce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disable_releases_enable_returns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maintenance_moves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maintenance_off_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maintenance_survives_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failback_left, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
