/* What left the manager for the modules around the core, on one node brought to
 * hold its groups: the conflict watcher's owner side (conflict_resolve.c: the role
 * read from the core, each verdict's resolution, its log and record), the status
 * document gathered from the core and the executor (status_gather.c), the
 * listeners' table (listeners.c), and the translations into the core's events
 * (ringwatch_links, health_group_checks, audit_local_wire). The watcher's deletion
 * and the executor's record writer are wrapped (-Wl,--wrap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "conflict_resolve.h"
#include "executor.h"
#include "health.h"
#include "listeners.h"
#include "node.h"
#include "qdevice.h"
#include "ringwatch.h"
#include "status_gather.h"

static struct config *config;
static struct node *n;
static struct effects fx;

static size_t n_removed, n_records;
static int remove_rc;
static enum auditlog_type last_type;
static uint64_t last_at;

int __wrap_conflict_remove(struct conflict *c, const struct conflict_event *ev)
{
	(void)c;
	(void)ev;
	n_removed++;
	return remove_rc;
}

int __wrap_executor_record(struct executor *x, enum auditlog_type type, json_t *fields, uint64_t at_us)
{
	(void)x;
	last_type = type;
	last_at = at_us;
	json_decref(fields);
	n_records++;
	return 0;
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

/* One node, quorate, holding web (its claim seen, the address added). */
static int setup(void **state)
{
	struct config_nodelist nodes = {.n_nodes = 2, .nodes = {{1, "node1"}, {2, "node2"}}};
	const char *text = "[fomgr]\n[group web]\ninterface = eth0\naddress = 192.0.2.100/24\n"
			   "[group db]\ninterface = eth0\naddress = 198.51.100.20/24\nprefer = node2\n";
	struct cfgfile_errors errors;
	uint8_t digest[32] = {0};
	static const uint32_t ring[] = {1};

	(void)state;
	config = config_parse_buffer("t.conf", text, strlen(text), &nodes, &errors);
	assert_non_null(config);
	n = calloc(1, sizeof(*n));
	assert_non_null(n);
	node_init(n, config, digest, &nodes, NULL);
	step((struct node_event){.kind = NODE_EV_CONNECTED, .nodeid = 1, .pid = 7});
	step((struct node_event){.kind = NODE_EV_TOTEM, .nodeids = ring, .n_nodeids = 1, .quorum_known = 1,
				 .quorate = 1});
	step((struct node_event){.kind = NODE_EV_JOIN, .nodeid = 1, .pid = 7});
	deliver_own();
	deliver_own();
	for (size_t i = 0; i < fx.n; i++)
		if (fx.v[i].kind == EFFECT_ADDR_ADD)
			step((struct node_event){.kind = NODE_EV_NETLINK, .slot = fx.v[i].slot});
	assert_int_equal(transition_state_of(&n->transition, "web"), TRANSITION_HELD);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(n);
	config_free(config);
	return 0;
}

static void test_role(void **state)
{
	struct conflict_role r;

	(void)state;
	assert_int_equal(conflict_resolve_role(n, "web", &r), 0);
	assert_true(r.owner);
	assert_true(r.held);
	assert_true(r.claims);
	assert_string_equal(r.owner_name, "node1");
	/* db prefers node2 only, which is not up: nobody owns it */
	assert_int_equal(conflict_resolve_role(n, "db", &r), 0);
	assert_false(r.owner);
	assert_false(r.held);
	assert_false(r.claims);
	assert_string_equal(r.owner_name, "none");
	assert_int_equal(conflict_resolve_role(n, "nope", &r), -ENOENT);
	assert_int_equal(conflict_resolve_role(NULL, "web", &r), -ENOENT);
}

static size_t n_reannounced;
static int reannounce_rc;

static int reannounce(void *arg, const char *group)
{
	assert_ptr_equal(arg, &n_reannounced);
	assert_string_equal(group, "web");
	n_reannounced++;
	return reannounce_rc;
}

static void resolve(enum conflict_verdict verdict, int first)
{
	struct conflict_event ev = {.group = "web", .verdict = verdict, .source = CONFLICT_SRC_ARP,
				    .owner = "node1", .first = first};

	ev.addr.family = AF_INET;
	snprintf(ev.addr.ifname, sizeof(ev.addr.ifname), "eth0");
	conflict_resolve(NULL, NULL, &ev, reannounce, &n_reannounced);
}

static void test_resolve(void **state)
{
	(void)state;
	n_removed = n_records = n_reannounced = 0;
	remove_rc = reannounce_rc = 0;
	/* a stray address here: deleted; the first of its episode recorded, queued */
	resolve(CONFLICT_LOCAL, 1);
	assert_int_equal(n_removed, 1);
	assert_int_equal(n_reannounced, 0);
	assert_int_equal(n_records, 1);
	assert_int_equal(last_type, AUDITLOG_FINDING);
	assert_int_equal(last_at, 0);
	/* the rest of the episode: resolved, not recorded */
	resolve(CONFLICT_LOCAL, 0);
	assert_int_equal(n_removed, 2);
	assert_int_equal(n_records, 1);
	/* a foreign claim: the core re-announces */
	resolve(CONFLICT_FOREIGN, 1);
	assert_int_equal(n_reannounced, 1);
	assert_int_equal(n_removed, 2);
	assert_int_equal(n_records, 2);
	/* a failure is logged, never recorded after the first */
	reannounce_rc = -ENOTCONN;
	resolve(CONFLICT_FOREIGN, 0);
	assert_int_equal(n_reannounced, 2);
	assert_int_equal(n_records, 2);
}

static int extra_calls;

static void extra(void *arg, json_t *status)
{
	assert_ptr_equal(arg, &extra_calls);
	json_object_set_new(status, "extra", json_true());
	extra_calls++;
}

static void test_status(void **state)
{
	struct executor_env env = {.node = n, .config = config};
	static const struct executor_ops ops;
	struct executor *x = executor_new(&env, &ops, NULL);
	struct qdevice_watch qdevice = {0};
	struct status_sources src = {.executor = x, .qdevice = &qdevice, .extra = extra, .extra_arg = &extra_calls};
	json_t *st;

	(void)state;
	assert_non_null(x);
	/* before the config and the core: the short form, nothing added */
	st = status_gather(&src, 5000000, 1764720000000ull);
	assert_string_equal(json_string_value(json_object_get(st, "state")), "starting");
	assert_int_equal(extra_calls, 0);
	json_decref(st);
	src.config = config;
	src.node = n;
	st = status_gather(&src, 5000000, 1764720000000ull);
	assert_null(json_object_get(st, "state"));
	assert_true(json_is_true(json_object_get(st, "joined")));
	assert_true(json_is_true(json_object_get(st, "extra")));
	assert_null(json_object_get(st, "audit")); /* no audit running */
	assert_int_equal(extra_calls, 1);
	json_decref(st);
	executor_free(x);
}

static int heard[3];

static void hear(void *arg, json_t *event)
{
	int *h = arg;

	assert_string_equal(json_string_value(json_object_get(event, "event")), "transition");
	(*h)++;
}

static void test_listeners(void **state)
{
	struct listeners l = {0};

	(void)state;
	for (int i = 0; i < LISTENERS_MAX; i++)
		assert_int_equal(listeners_add(&l, hear, &heard[i % 2]), 0);
	assert_int_equal(listeners_add(&l, hear, &heard[2]), -ENOSPC);
	listeners_emit(&l, "transition", json_object());
	assert_int_equal(heard[0], LISTENERS_MAX / 2);
	assert_int_equal(heard[1], LISTENERS_MAX / 2);
	listeners_remove(&l, hear, &heard[0]);
	assert_int_equal(listeners_add(&l, hear, &heard[2]), 0);
	listeners_emit(&l, "transition", json_object());
	assert_int_equal(heard[0], LISTENERS_MAX / 2);
	assert_int_equal(heard[1], LISTENERS_MAX);
	assert_int_equal(heard[2], 1);
}

static void test_translations(void **state)
{
	struct ringwatch_sample s = {.n_links = 2, .corosync_version = "3.1.7"};
	struct node_links l;
	struct wire_check checks[WIRE_MAX_CHECKS];
	struct wire_netstate ns;
	static const struct wire_netstate zero;

	(void)state;
	s.info.token_ms = 3000;
	s.links[0].nodeid = 2;
	s.links[0].connected = 1;
	s.links[1].nodeid = 3;
	ringwatch_links(NULL, &s, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].nodeid, 2);
	assert_true(l.v[0].connected);
	assert_int_equal(l.v[1].nodeid, 3);
	assert_false(l.v[1].connected);
	assert_int_equal(l.info.token_ms, 3000);
	assert_string_equal(l.corosync_version, "3.1.7");
	/* no agent report yet: the groups' checks (none here), unknown */
	assert_int_equal(health_group_checks(NULL, config, checks, WIRE_MAX_CHECKS), 0);
	assert_int_equal(health_group_checks(NULL, NULL, checks, WIRE_MAX_CHECKS), 0);
	memset(&ns, 0xff, sizeof(ns));
	audit_local_wire(NULL, &ns);
	assert_memory_equal(&ns, &zero, sizeof(ns));
}

static void test_group_checks(void **state)
{
	const char *text = "[fomgr]\n[group web]\ninterface = eth0\naddress = 192.0.2.100/24\nchecks = http tcp\n"
			   "[group db]\ninterface = eth0\naddress = 192.0.2.101/24\nchecks = pg\n";
	struct cfgfile_errors errors;
	struct config *c = config_parse_buffer("t.conf", text, strlen(text), NULL, &errors);
	struct wire_check checks[WIRE_MAX_CHECKS];

	(void)state;
	assert_non_null(c);
	assert_int_equal(health_group_checks(NULL, c, checks, WIRE_MAX_CHECKS), 3);
	assert_string_equal(checks[0].name, "http");
	assert_string_equal(checks[2].name, "pg");
	assert_int_equal(checks[2].state, CHECK_UNKNOWN);
	assert_int_equal(health_group_checks(NULL, c, checks, 2), 2);
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_role),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_listeners),
		cmocka_unit_test(test_translations),
		cmocka_unit_test(test_group_checks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
