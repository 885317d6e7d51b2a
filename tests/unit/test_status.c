/* The status document's transitions: bounded to the newest STATUS_RECENT_TRANSITIONS,
 * oldest first, their objects shared from one document to the next and made anew
 * only for a new transition (status.c); and GET /status's text (status_http.c,
 * included, with manager_status behind -Wl,--wrap): the transitions member is
 * dumped once per list and added at the end, and the text reads back as the
 * document, compact and indented. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fomgr/status_http.c"
#include "status.h"

static struct config cfg;
static struct view view;
static struct placement placement;
static struct transition transition;
static struct status_transition log_[STATUS_MAX_TRANSITIONS];
static size_t n_log;
static uint64_t next_seq;

static void record(const char *group, int acquired)
{
	struct status_transition *t;

	if (n_log == STATUS_MAX_TRANSITIONS) { /* as the executor keeps them */
		memmove(log_, log_ + 1, sizeof(log_[0]) * (STATUS_MAX_TRANSITIONS - 1));
		n_log--;
	}
	t = &log_[n_log++];
	memset(t, 0, sizeof(*t));
	snprintf(t->group, sizeof(t->group), "%s", group);
	strcpy(t->from, acquired ? "node1" : "node2");
	strcpy(t->to, acquired ? "node2" : "node1");
	t->reason = TRANSITION_SWITCHOVER;
	t->acquired = acquired;
	t->took_ms = 2.5 + (double)next_seq / 8;
	t->seq = ++next_seq;
	t->realtime_ms = 1764730000000ull + t->seq;
}

static int setup(void **state)
{
	struct config_nodelist nodes = {.n_nodes = 3, .nodes = {{1, "node1"}, {2, "node2"}, {3, "node3"}}};
	uint32_t up[3] = {1, 2, 3};

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.n_groups = 1;
	strcpy(cfg.groups[0].name, "vip");
	strcpy(cfg.groups[0].interface, "eth0");
	cfg.groups[0].n_addrs = 1;
	strcpy(cfg.groups[0].addrs[0].text, "192.0.2.100/24");
	view_init(&view, &nodes, 2);
	view_apply_totem(&view, up, 3);
	for (uint32_t id = 1; id <= 3; id++) {
		struct wire_announce a = {.seq = 1};

		view_apply_join(&view, id, 100 + id);
		view_apply_announce(&view, id, 100 + id, &a);
	}
	view_apply_quorum(&view, 1, 1);
	placement_compute(&view, &cfg, &placement);
	transition_init(&transition, &cfg);
	n_log = 0;
	next_seq = 0;
	return 0;
}

static json_t *build(void)
{
	struct status_input in = {.config = &cfg,
				  .view = &view,
				  .placement = &placement,
				  .transition = &transition,
				  .joined = 1,
				  .corosync_crypto = 1,
				  .expected_votes = 3,
				  .n_transitions = n_log,
				  .transitions = n_log ? log_ : NULL,
				  .now_ms = 1764730000000ull};

	return status_build(&in);
}

static json_int_t seq_at(const json_t *list, size_t i)
{
	return json_integer_value(json_object_get(json_array_get(list, i), "seq"));
}

static void test_newest_bounded_and_shared(void **state)
{
	json_t *a, *b, *list_a, *list_b, *fresh;

	(void)state;
	a = build();
	assert_int_equal(json_array_size(json_object_get(a, "transitions")), 0);
	json_decref(a);

	for (int i = 0; i < 40; i++)
		record("vip", i & 1);
	a = build();
	b = build();
	list_a = json_object_get(a, "transitions");
	list_b = json_object_get(b, "transitions");
	assert_int_equal(json_array_size(list_a), STATUS_RECENT_TRANSITIONS);
	assert_int_equal(seq_at(list_a, 0), 40 - STATUS_RECENT_TRANSITIONS + 1);
	assert_int_equal(seq_at(list_a, STATUS_RECENT_TRANSITIONS - 1), 40);
	for (size_t i = 0; i < STATUS_RECENT_TRANSITIONS; i++)
		assert_ptr_equal(json_array_get(list_a, i), json_array_get(list_b, i));
	json_decref(b);

	/* One more: it is made, the others are the same objects one place earlier. */
	record("vip", 1);
	b = build();
	list_b = json_object_get(b, "transitions");
	assert_int_equal(json_array_size(list_b), STATUS_RECENT_TRANSITIONS);
	for (size_t i = 1; i < STATUS_RECENT_TRANSITIONS; i++)
		assert_ptr_equal(json_array_get(list_a, i), json_array_get(list_b, i - 1));
	assert_int_equal(seq_at(list_b, STATUS_RECENT_TRANSITIONS - 1), 41);
	fresh = status_transition_json(&log_[n_log - 1]);
	assert_true(json_equal(json_array_get(list_b, STATUS_RECENT_TRANSITIONS - 1), fresh));
	json_decref(fresh);
	json_decref(a);
	json_decref(b);
}

/* ---- GET /status's text ---- */

static json_t *served;

json_t *__wrap_manager_status(const struct manager *m);
json_t *__wrap_manager_status(const struct manager *m)
{
	(void)m;
	return json_deep_copy(served); /* a new document each time, as the manager's */
}

static void assert_reads_back(struct status_http *h, int pretty)
{
	char *text = render_status(h, pretty);
	json_error_t e;
	json_t *back;

	assert_non_null(text);
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_int_equal(strncmp(text, pretty ? "{\n  \"schema_version\": 1," : "{\"schema_version\":1,", pretty ? 24 : 20),
			 0);
	back = json_loads(text, 0, &e);
	if (!back)
		fail_msg("not JSON: %s: %s", e.text, text);
	assert_true(json_equal(back, served));
	json_decref(back);
	free(text);
}

static void test_status_text(void **state)
{
	struct status_http h = {0};
	const char *member;

	(void)state;
	served = build(); /* no transition yet: dumped as it is */
	assert_reads_back(&h, 0);
	assert_reads_back(&h, 1);
	assert_null(h.transitions.list);
	json_decref(served);

	for (int i = 0; i < 3; i++)
		record("vip", i & 1);
	served = build();
	assert_reads_back(&h, 0);
	assert_reads_back(&h, 1);
	member = h.transitions.member[0];
	assert_non_null(member);
	assert_int_equal(strncmp(member, "\"transitions\":[{", 16), 0);
	assert_int_equal(strncmp(h.transitions.member[1], "  \"transitions\": [\n    {", 24), 0);
	json_decref(served);

	/* The same list in a new document: the text is reused. */
	served = build();
	assert_reads_back(&h, 0);
	assert_ptr_equal(h.transitions.member[0], member);
	json_decref(served);

	/* A new transition: made again. */
	record("vip", 1);
	served = build();
	assert_reads_back(&h, 0);
	assert_reads_back(&h, 1);
	assert_int_equal(json_array_size(h.transitions.list), 4);
	json_decref(served);
	transitions_text_clear(&h.transitions);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_newest_bounded_and_shared, setup),
		cmocka_unit_test_setup(test_status_text, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
