/* The ring watch: its bound against corosync's timers, and when it calls a
 * stall and a recovery. The module's .c is included to drive its watchers by
 * hand (no thread, no corosync): the shared answer time is set as the thread
 * would set it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../fomgr/ringwatch.c"

static int n_stalled, n_recovered;
static uint32_t last_silent, last_stalled;

static void on_stalled(void *arg, uint32_t silent_ms, uint32_t bound_ms)
{
	n_stalled++;
	last_silent = silent_ms;
}

static void on_recovered(void *arg, uint32_t stalled_ms)
{
	n_recovered++;
	last_stalled = stalled_ms;
}

static const struct ringwatch_ops ops = {.stalled = on_stalled, .recovered = on_recovered};

static void test_bound(void **state)
{
	/* A third of token + consensus: the shipped profile and corosync's default. */
	assert_int_equal(ringwatch_stall_bound_ms(1000, 1200), 733);
	assert_int_equal(ringwatch_stall_bound_ms(600, 720), 440);
	/* Unknown consensus: corosync's 1.2 x token; unknown token: its default. */
	assert_int_equal(ringwatch_stall_bound_ms(3000, 0), 2200);
	assert_int_equal(ringwatch_stall_bound_ms(0, 0), 733);
	/* Never so short that scheduling noise looks like a stall. */
	assert_int_equal(ringwatch_stall_bound_ms(100, 120), 150);
	assert_int_equal(ringwatch_period_ms(733), 183);
	assert_int_equal(ringwatch_period_ms(40), 20);
	/* Detection lag (bound + one period) stays under half of token + consensus. */
	for (uint32_t token = 200; token <= 10000; token += 100) {
		uint32_t b = ringwatch_stall_bound_ms(token, token * 6 / 5);
		assert_true(b + ringwatch_period_ms(b) < (token + token * 6 / 5) / 2 + 1);
	}
}

/* The token bound. Links to no majority: token + consensus / 2, which with a
 * period of detection lag and a rotation of the peers' ahead (the idle hold, under
 * token / 5) still ends before the peers can form a ring without this node (token
 * + consensus). Links to a majority: 3 (T + C) / 2, past the T + C at which a ring
 * that lost a dead peer forms, and before the peers' vouch (2 (T + C) after the
 * node left their ring, which is T + C after its last token at the earliest). */
static void test_token_bound(void **state)
{
	assert_int_equal(ringwatch_token_bound_ms(600, 720, 1, 3, 0), 960);
	assert_int_equal(ringwatch_token_bound_ms(1000, 1200, 1, 3, 0), 1600);
	assert_int_equal(ringwatch_token_bound_ms(0, 0, 1, 0, 0), 1600);
	assert_int_equal(ringwatch_token_bound_ms(600, 720, 2, 3, 0), 1980);
	assert_int_equal(ringwatch_token_bound_ms(1000, 1200, 3, 3, 0), 3300);
	/* 2 of 5 is no majority; a tie-breaker needs only a peer */
	assert_int_equal(ringwatch_token_bound_ms(600, 720, 2, 5, 0), 960);
	assert_int_equal(ringwatch_token_bound_ms(600, 720, 2, 2, 1), 1980);
	assert_int_equal(ringwatch_token_bound_ms(600, 720, 1, 2, 1), 960);
	for (uint32_t token = 200; token <= 10000; token += 100) {
		uint32_t c = token * 6 / 5, b = ringwatch_stall_bound_ms(token, c), p = ringwatch_period_ms(b);
		uint32_t alone = ringwatch_token_bound_ms(token, c, 1, 3, 0);
		uint32_t reached = ringwatch_token_bound_ms(token, c, 2, 3, 0);

		assert_true(alone + p + token / 5 < token + c);
		assert_true(alone > token); /* after corosync itself gave the ring up */
		assert_true(reached > token + c + p);
		assert_true(reached + p + token / 5 < 3 * (token + c));
	}
}

static struct ringwatch *watch_answered_ms_ago(uint32_t ago_ms)
{
	struct ringwatch *w = ringwatch_new(EV_DEFAULT, &ops, NULL);

	assert_non_null(w);
	w->bound_ms = 440;
	w->sh.have = 1;
	w->sh.last.at_us = clock_mono_us() - (uint64_t)ago_ms * 1000u;
	n_stalled = n_recovered = 0;
	return w;
}

static void test_stall_once_then_recover(void **state)
{
	struct ringwatch *w = watch_answered_ms_ago(500);

	on_check(EV_DEFAULT, &w->check, 0);
	assert_int_equal(n_stalled, 1);
	assert_true(last_silent >= 500);
	assert_true(ringwatch_is_stalled(w));
	on_check(EV_DEFAULT, &w->check, 0); /* still silent: said once */
	assert_int_equal(n_stalled, 1);
	assert_int_equal(n_recovered, 0);
	/* The thread's next answer arrives. */
	w->sh.last.at_us = clock_mono_us();
	on_answered(EV_DEFAULT, &w->answered, 0);
	assert_int_equal(n_recovered, 1);
	assert_true(last_stalled >= 500);
	assert_false(ringwatch_is_stalled(w));
	ringwatch_free(w);
}

static void test_recent_answer_is_no_stall(void **state)
{
	struct ringwatch *w = watch_answered_ms_ago(100);

	on_check(EV_DEFAULT, &w->check, 0);
	assert_int_equal(n_stalled, 0);
	assert_false(ringwatch_is_stalled(w));
	ringwatch_free(w);
}

static void test_no_answer_yet_counts_from_start(void **state)
{
	struct ringwatch *w = watch_answered_ms_ago(0);

	w->sh.have = 0;
	w->started_us = clock_mono_us();
	on_check(EV_DEFAULT, &w->check, 0);
	assert_int_equal(n_stalled, 0);
	w->started_us = clock_mono_us() - 1000000u;
	on_check(EV_DEFAULT, &w->check, 0);
	assert_int_equal(n_stalled, 1);
	ringwatch_free(w);
}

/* A watch that answered 50 ms ago with the lab's timers (token 600, consensus
 * 720), a token count and its last token ago_ms before now. */
static struct ringwatch *watch_token_ms_ago(uint64_t tokens, uint32_t ago_ms)
{
	struct ringwatch *w = watch_answered_ms_ago(50);

	w->sh.last.info.token_ms = 600;
	w->sh.last.info.consensus_ms = 720;
	w->sh.last.tokens = tokens;
	w->sh.last.token_at_us = clock_mono_us() - (uint64_t)ago_ms * 1000u;
	return w;
}

/* corosync answers every period but its ring sends no token: a stall once the
 * token silence passes the token bound, and no recovery until a token comes. */
static void test_token_silence(void **state)
{
	struct ringwatch *w = watch_token_ms_ago(1234, 500);

	on_check(EV_DEFAULT, &w->check, 0);
	assert_int_equal(n_stalled, 0);
	w->sh.last.token_at_us = clock_mono_us() - 1000000u;
	on_check(EV_DEFAULT, &w->check, 0);
	assert_int_equal(n_stalled, 1);
	assert_true(last_silent >= 1000);
	/* Answers with the same count: still stalled. */
	w->sh.last.at_us = clock_mono_us();
	on_answered(EV_DEFAULT, &w->answered, 0);
	assert_int_equal(n_recovered, 0);
	assert_true(ringwatch_is_stalled(w));
	/* A token came. */
	w->sh.last.tokens = 1240;
	w->sh.last.token_at_us = clock_mono_us() - 100000u;
	on_answered(EV_DEFAULT, &w->answered, 0);
	assert_int_equal(n_recovered, 1);
	assert_false(ringwatch_is_stalled(w));
	ringwatch_free(w);
}

/* Links to a majority: the peers vouch for this node, and a ring that lost a dead
 * peer forms at T + C; the token silence may run to 3 (T + C) / 2. */
static void test_token_silence_links_to_majority(void **state)
{
	struct ringwatch *w = watch_token_ms_ago(99, 1400); /* T + C, a peer died */

	w->sh.last.info.expected_votes = 3;
	w->sh.last.n_links = 2;
	w->sh.last.links[0] = (struct ringwatch_link){.nodeid = 2, .connected = 1};
	w->sh.last.links[1] = (struct ringwatch_link){.nodeid = 3, .connected = 0};
	on_check(EV_DEFAULT, &w->check, 0);
	assert_int_equal(n_stalled, 0);
	w->sh.last.token_at_us = clock_mono_us() - 2000000u;
	on_check(EV_DEFAULT, &w->check, 0);
	assert_int_equal(n_stalled, 1);
	ringwatch_free(w);
}

/* No count (an older corosync): the answers alone decide; a pause of our own
 * (silence_from) is not a token silence either. */
static void test_token_unknown_or_self_paused(void **state)
{
	struct ringwatch *w = watch_token_ms_ago(0, 5000);

	on_check(EV_DEFAULT, &w->check, 0);
	assert_int_equal(n_stalled, 0);
	w->sh.last.tokens = 77;
	w->silence_from_us = clock_mono_us() - 100000u;
	on_check(EV_DEFAULT, &w->check, 0);
	assert_int_equal(n_stalled, 0);
	w->silence_from_us = 0;
	on_check(EV_DEFAULT, &w->check, 0);
	assert_int_equal(n_stalled, 1);
	ringwatch_free(w);
}

/* The verdict at a check: (silent, late, corosync ran, bound 440, busy bound 880). */
static void test_judge(void **state)
{
	static const struct {
		uint32_t silent, late;
		int ran;
		enum ringwatch_verdict want;
	} t[] = {
		{100, 0, 1, RINGWATCH_OK},            /* answering */
		{500, 0, 0, RINGWATCH_STALL},         /* silent and not running: frozen */
		{500, 0, -1, RINGWATCH_STALL},        /* silent, cannot tell: assume frozen */
		{500, 0, 1, RINGWATCH_OK},            /* silent but running: a membership change */
		{900, 0, 1, RINGWATCH_STALL},         /* running, silent past the busy bound */
		{5000, 4500, 1, RINGWATCH_SELF_PAUSED}, /* we were paused, corosync was not */
		{5000, 4500, 0, RINGWATCH_STALL},     /* both paused (a VM pause): peers may have moved on */
		{5000, 4500, -1, RINGWATCH_STALL},
		{300, 200, 0, RINGWATCH_OK},          /* a little late: not a pause */
	};

	assert_int_equal(ringwatch_busy_bound_ms(600, 720), 880);
	assert_int_equal(ringwatch_busy_bound_ms(1000, 1200), 1466);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (ringwatch_judge(t[i].silent, t[i].late, t[i].ran, 440, 880) != t[i].want)
			fail_msg("row %zu: silent %u late %u ran %d: got %d, want %d", i, t[i].silent, t[i].late,
				 t[i].ran, ringwatch_judge(t[i].silent, t[i].late, t[i].ran, 440, 880), t[i].want);
}

/* The links are read four times a period, never more often than every 20 ms. */
static void test_link_period(void **state)
{
	(void)state;
	assert_int_equal(ringwatch_period_ms(ringwatch_stall_bound_ms(1000, 1200)), 183);
	assert_int_equal(ringwatch_link_period_ms(183), 45);
	assert_int_equal(ringwatch_link_period_ms(60), 20);
	assert_int_equal(ringwatch_link_period_ms(20), 20);
}

/* corosync's default discovery interval (30 s) is warned of; 2 s or a fixed MTU is not. */
static void test_pmtud_interval_warning(void **state)
{
	(void)state;
	struct membership_info info = { .pmtud_interval_s = 30 };

	assert_true(membership_pmtud_too_slow(&info));
	info.pmtud_interval_s = MEMBERSHIP_PMTUD_INTERVAL_MAX_S + 1;
	assert_true(membership_pmtud_too_slow(&info));
	info.pmtud_interval_s = MEMBERSHIP_PMTUD_INTERVAL_MAX_S;
	assert_false(membership_pmtud_too_slow(&info));
	info.pmtud_interval_s = 2;
	assert_false(membership_pmtud_too_slow(&info));
	info.pmtud_interval_s = 30;
	info.knet_mtu = 1400; /* no discovery runs */
	assert_false(membership_pmtud_too_slow(&info));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_pmtud_interval_warning),
		cmocka_unit_test(test_link_period),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_token_bound),
		cmocka_unit_test(test_token_silence),
		cmocka_unit_test(test_token_silence_links_to_majority),
		cmocka_unit_test(test_token_unknown_or_self_paused),
		cmocka_unit_test(test_stall_once_then_recover),
		cmocka_unit_test(test_recent_answer_is_no_stall),
		cmocka_unit_test(test_no_answer_yet_counts_from_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
