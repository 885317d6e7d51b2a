/* The cluster's history: entries in the order the announces came, bounded,
 * filtered by time; each node's transitions once per process, admin changes once
 * whoever carries them, the newest epoch winning as in the admin state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "history.h"

/* An announce carrying the sender's transitions first..last (seq), at_ms 1000 * seq. */
static const struct wire_announce *with_transitions(uint32_t first, uint32_t last, const char *group)
{
	static struct wire_announce a;

	memset(&a, 0, sizeof(a));
	a.flags = WIRE_F_HISTORY;
	assert_true(last - first < WIRE_MAX_TRANSITIONS);
	for (uint32_t s = first; s <= last; s++) {
		struct wire_transition *t = &a.transitions[a.n_transitions++];
		t->seq = s;
		t->at_ms = 1000ull * s;
		t->took_us = 1500;
		t->acquired = s % 2;
		strcpy(t->reason, "failover");
		strcpy(t->group, group);
		strcpy(t->from, "node1");
		strcpy(t->to, "node2");
	}
	return &a;
}

static void add_change(struct wire_announce *a, uint64_t epoch, uint32_t origin, const char *what, const char *user)
{
	struct wire_admin_change *c = &a->admin.changes[a->admin.n_changes++];

	memset(c, 0, sizeof(*c));
	c->epoch = epoch;
	c->origin = origin;
	c->at_ms = 100000 + epoch;
	c->uid = 0;
	snprintf(c->what, sizeof(c->what), "%s", what);
	snprintf(c->target, sizeof(c->target), "web");
	snprintf(c->user, sizeof(c->user), "%s", user);
	snprintf(c->node, sizeof(c->node), "node%u", origin);
	a->admin.epoch = epoch;
	a->admin.origin = origin;
}

static void assert_str(const json_t *j, const char *key, const char *want)
{
	assert_string_equal(json_string_value(json_object_get(j, key)), want);
}

static void order_and_once_per_process(void **state)
{
	struct history *h = history_new(0);

	assert_non_null(h);
	assert_int_equal(h->size, HISTORY_SIZE);
	assert_int_equal(history_absorb(h, "node2", 2, 100, with_transitions(1, 3, "web")), 3);
	/* the same announce again (re-sent on a join): nothing new */
	assert_int_equal(history_absorb(h, "node2", 2, 100, with_transitions(1, 3, "web")), 0);
	/* the next carries the tail: only what is new */
	assert_int_equal(history_absorb(h, "node2", 2, 100, with_transitions(2, 4, "web")), 1);
	assert_int_equal(history_absorb(h, "node1", 1, 7, with_transitions(1, 1, "db")), 1);
	assert_int_equal(history_get(h, 3)->missed, 0);
	/* node2's fomgr restarted: a new process counts from 1 again */
	assert_int_equal(history_absorb(h, "node2", 2, 101, with_transitions(1, 1, "web")), 1);
	assert_int_equal(history_count(h), 6);
	{
		static const char *const nodes[] = {"node2", "node2", "node2", "node2", "node1", "node2"};
		static const uint32_t seqs[] = {1, 2, 3, 4, 1, 1};
		for (size_t i = 0; i < 6; i++) {
			const struct history_entry *e = history_get(h, i);
			assert_int_equal(e->seq, i + 1);
			assert_int_equal(e->kind, HISTORY_TRANSITION);
			assert_string_equal(e->node, nodes[i]);
			assert_int_equal(e->t.seq, seqs[i]);
		}
	}
	assert_null(history_get(h, 6));
	/* more transitions between two announces than one carries: the gap is said */
	assert_int_equal(history_absorb(h, "node1", 1, 7, with_transitions(5, 6, "db")), 2);
	assert_int_equal(history_get(h, 6)->missed, 3);
	assert_int_equal(history_get(h, 7)->missed, 0);
	{
		json_t *j = history_entry_json(history_get(h, 6));
		assert_int_equal(json_integer_value(json_object_get(j, "missed_before")), 3);
		json_decref(j);
	}
	history_free(h);
}

static void bounded(void **state)
{
	struct history *h = history_new(5);

	for (uint32_t s = 1; s <= 12; s++)
		history_absorb(h, "node3", 3, 9, with_transitions(s, s, "web"));
	assert_int_equal(history_count(h), 5);
	for (size_t i = 0; i < 5; i++) { /* the newest five, oldest first */
		assert_int_equal(history_get(h, i)->t.seq, 8 + i);
		assert_int_equal(history_get(h, i)->seq, 8 + i);
	}
	/* a tail longer than the ring: the newest stay */
	assert_int_equal(history_absorb(h, "node1", 1, 5, with_transitions(21 - WIRE_MAX_TRANSITIONS, 20, "db")),
			 WIRE_MAX_TRANSITIONS);
	assert_int_equal(history_count(h), 5);
	assert_int_equal(history_get(h, 0)->t.seq, 16);
	assert_int_equal(history_get(h, 4)->t.seq, 20);
	assert_string_equal(history_get(h, 4)->node, "node1");
	history_free(h);
}

static void since_filter(void **state)
{
	struct history *h = history_new(0);
	json_t *all, *some, *none;

	history_absorb(h, "node2", 2, 100, with_transitions(1, 5, "web")); /* at 1000 .. 5000 ms */
	all = history_json(h, 0);
	some = history_json(h, 3000);
	none = history_json(h, 6000);
	assert_int_equal(json_array_size(all), 5);
	assert_int_equal(json_array_size(some), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(some, 0), "at_ms")), 3000);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(some, 2), "at_ms")), 5000);
	assert_int_equal(json_array_size(none), 0);
	json_decref(all);
	json_decref(some);
	json_decref(none);
	history_free(h);
}

static void admin_changes_once_newest_wins(void **state)
{
	struct history *h = history_new(0);
	struct wire_announce a;
	json_t *j;

	memset(&a, 0, sizeof(a));
	a.flags = WIRE_F_HISTORY;
	add_change(&a, 4, 2, "standby", "root");
	add_change(&a, 5, 3, "pin", "alice");
	strcpy(a.admin.changes[1].to, "node2");
	assert_int_equal(history_absorb(h, "node3", 3, 1, &a), 2);
	/* every other node carries the same state: nothing new */
	assert_int_equal(history_absorb(h, "node1", 1, 1, &a), 0);
	assert_int_equal(history_absorb(h, "node2", 2, 1, &a), 0);
	/* a concurrent change of the same epoch from a lower nodeid wins: recorded */
	memset(&a, 0, sizeof(a));
	a.flags = WIRE_F_HISTORY;
	add_change(&a, 5, 1, "clear", "bob");
	assert_int_equal(history_absorb(h, "node1", 1, 1, &a), 1);
	/* ... one from a higher nodeid lost: not recorded; nor an older epoch */
	memset(&a, 0, sizeof(a));
	a.flags = WIRE_F_HISTORY;
	add_change(&a, 5, 2, "standby", "carol");
	assert_int_equal(history_absorb(h, "node2", 2, 1, &a), 0);
	memset(&a, 0, sizeof(a));
	a.flags = WIRE_F_HISTORY;
	add_change(&a, 3, 1, "standby", "dave");
	assert_int_equal(history_absorb(h, "node1", 1, 1, &a), 0);
	assert_int_equal(history_count(h), 3);
	j = history_entry_json(history_get(h, 1));
	assert_str(j, "event", "admin");
	assert_str(j, "what", "pin");
	assert_str(j, "target", "web");
	assert_str(j, "to", "node2");
	assert_str(j, "user", "alice");
	assert_str(j, "node", "node3");
	assert_int_equal(json_integer_value(json_object_get(j, "uid")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "epoch")), 5);
	json_decref(j);
	j = history_entry_json(history_get(h, 0)); /* standby names no "to" */
	assert_null(json_object_get(j, "to"));
	json_decref(j);
	/* an older peer's state (no history part, so no changes): one entry, no author */
	memset(&a, 0, sizeof(a));
	a.admin.epoch = 6;
	a.admin.origin = 2;
	assert_int_equal(history_absorb(h, "node2", 2, 1, &a), 1);
	j = history_entry_json(history_get(h, 3));
	assert_true(json_is_null(json_object_get(j, "what")));
	assert_int_equal(json_integer_value(json_object_get(j, "epoch")), 6);
	json_decref(j);
	/* a state with changes newer than it says of itself: both */
	memset(&a, 0, sizeof(a));
	a.flags = WIRE_F_HISTORY;
	add_change(&a, 7, 1, "unstandby", "root");
	a.admin.epoch = 8; /* made by an older peer after this change */
	assert_int_equal(history_absorb(h, "node1", 1, 1, &a), 2);
	history_free(h);
}

static void replayed_before_join(void **state)
{
	struct history *h = history_new(0);
	json_t *j;

	history_set_joined(h, 2500);
	history_absorb(h, "node2", 2, 100, with_transitions(1, 3, "web"));
	assert_true(history_get(h, 0)->replayed);
	assert_true(history_get(h, 1)->replayed);
	assert_false(history_get(h, 2)->replayed);
	j = history_entry_json(history_get(h, 0));
	assert_true(json_is_true(json_object_get(j, "replayed")));
	assert_str(j, "event", "transition");
	assert_str(j, "node", "node2");
	assert_str(j, "action", "acquire");
	assert_str(j, "reason", "failover");
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_true(json_number_value(json_object_get(j, "took_ms")) == 1.5);
	json_decref(j);
	j = history_entry_json(history_get(h, 2));
	assert_null(json_object_get(j, "replayed"));
	json_decref(j);
	history_free(h);
}

static void failed_transition_names_error(void **state)
{
	struct history *h = history_new(0);
	struct wire_announce a = *with_transitions(1, 1, "web");
	json_t *j;

	a.transitions[0].error = EADDRNOTAVAIL;
	history_absorb(h, "node1", 1, 1, &a);
	j = history_entry_json(history_get(h, 0));
	assert_true(json_is_false(json_object_get(j, "ok")));
	assert_str(j, "error", strerror(EADDRNOTAVAIL));
	json_decref(j);
	history_free(h);
	history_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(order_and_once_per_process),
		cmocka_unit_test(bounded),
		cmocka_unit_test(since_filter),
		cmocka_unit_test(admin_changes_once_newest_wins),
		cmocka_unit_test(replayed_before_join),
		cmocka_unit_test(failed_transition_names_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
