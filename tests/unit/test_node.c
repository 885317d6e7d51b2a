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
	ev.wall_ms = 1764720000000ull + now / 1000;
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
	/* it says we leave, and carries the releases (the history's last word from us) */
	assert_true(node_announce(n)->flags & WIRE_F_LEAVING);
	assert_int_equal(node_announce(n)->n_transitions, 4);
	assert_string_equal(node_announce(n)->transitions[3].reason, "shutdown");
	assert_int_equal(node_announce(n)->transitions[3].acquired, 0);
	deliver_own();
	assert_int_equal(count(EFFECT_EXIT), 1);
}

/* The announce carries our transitions (counted from 1, with the event's wall
 * clock), when we started and joined: the cluster's history is made of them. */
static void test_announce_carries_history(void **state)
{
	const struct wire_announce *a = node_announce(n);

	(void)state;
	assert_true(a->flags & WIRE_F_HISTORY);
	assert_int_equal(a->n_transitions, 2);
	assert_int_equal(a->transitions[0].seq, 1);
	assert_int_equal(a->transitions[1].seq, 2);
	assert_int_equal(a->transitions[0].acquired, 1);
	assert_string_equal(a->transitions[0].reason, "initial");
	assert_string_equal(a->transitions[0].to, "node1");
	assert_true(a->transitions[0].at_ms > 1764720000000ull);
	assert_true(a->started_ms > 1764720000000ull);
	assert_true(a->joined_ms >= a->started_ms);
	assert_true(a->transitions[0].at_ms >= a->joined_ms);
}

/* An operator's change names what, its target and who asked, in the admin
 * state that is persisted and announced. */
static void test_admin_change_names_author(void **state)
{
	const struct wire_admin_change *c;

	(void)state;
	step((struct node_event){.kind = NODE_EV_ADMIN, .admin = NODE_ADMIN_PIN, .group = "vip", .node = "node1",
				 .uid = 1001, .user = "alice"});
	assert_int_equal(fx.rc, 0);
	assert_int_equal(n->request.n_changes, 1);
	step((struct node_event){.kind = NODE_EV_ADMIN_SAVED, .value = 0});
	c = &node_announce(n)->admin.changes[0];
	assert_int_equal(node_announce(n)->admin.n_changes, 1);
	assert_string_equal(c->what, "pin");
	assert_string_equal(c->target, "vip");
	assert_string_equal(c->to, "node1");
	assert_int_equal(c->uid, 1001);
	assert_string_equal(c->user, "alice");
	assert_string_equal(c->node, "node1");
	assert_int_equal(c->epoch, node_announce(n)->admin.epoch);
	assert_true(c->at_ms > 1764720000000ull);
	deliver_own();
	step((struct node_event){.kind = NODE_EV_ADMIN, .admin = NODE_ADMIN_STANDBY, .node = "node1", .on = 1,
				 .user = "bad\nname"});
	step((struct node_event){.kind = NODE_EV_ADMIN_SAVED, .value = 0});
	c = &node_announce(n)->admin.changes[1];
	assert_string_equal(c->what, "standby");
	assert_string_equal(c->target, "node1");
	assert_string_equal(c->to, "");
	assert_string_equal(c->user, "bad?name"); /* printable only: it goes into logs */
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
		cmocka_unit_test_setup_teardown(test_announce_carries_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_change_names_author, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
