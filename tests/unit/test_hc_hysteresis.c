/* Rise/fall on the one signed counter, through the engine's sink without a loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "engine.h"
#include "fo/log.h"

static struct hc_check_conf make_conf(unsigned rise, unsigned fall)
{
	struct hc_check_conf conf = {.name = "web", .type = HC_CHECK_TCP, .interval_ms = 1000, .timeout_ms = 500,
				     .rise = rise, .fall = fall, .anomaly_k = 5, .anomaly_m = 3};
	return conf;
}

/* Feeds a sequence ('P' pass, 'F' fail, 'T' timeout) and returns the state string
 * after each result as one letter: u(nknown), p(assing), f(ailing). */
static void run(struct hc_check *c, const char *seq, char *states)
{
	static uint64_t now = 1000;
	size_t i;

	for (i = 0; seq[i]; i++) {
		enum hc_result r = seq[i] == 'P' ? HC_RESULT_PASS : seq[i] == 'F' ? HC_RESULT_FAIL : HC_RESULT_TIMEOUT;

		engine_apply_result(c, r, r == HC_RESULT_PASS ? "" : "boom", 0.001, now += 1000);
		states[i] = check_state_str(c->state)[0];
	}
	states[i] = '\0';
}

static void expect_states(unsigned rise, unsigned fall, const char *seq, const char *want)
{
	struct hc_check_conf conf = make_conf(rise, fall);
	struct hc_check c;
	char got[128];

	engine_check_init_state(&c, &conf);
	run(&c, seq, got);
	if (strcmp(got, want) != 0)
		print_error("rise=%u fall=%u seq=%s: want %s, got %s\n", rise, fall, seq, want, got);
	assert_string_equal(got, want);
}

static void rise_and_fall(void **state)
{
	expect_states(2, 3, "PP", "up");
	expect_states(2, 3, "FFF", "uuf");
	expect_states(2, 3, "PPFFF", "uppp" "f");
	expect_states(2, 3, "PPFFPFFF", "upppppp" "f");   /* a pass resets the failures */
	expect_states(2, 3, "FFFPFP", "uuffff");            /* one pass is not enough to rise */
	expect_states(2, 3, "FFFPP", "uuffp");
	expect_states(1, 1, "PFPF", "pfpf");                /* no hysteresis at all */
	expect_states(3, 2, "TTPPP", "ufffp");              /* a timeout is a failure */
}

static void flapping_never_decides(void **state)
{
	/* faster than the hysteresis: stays where it was */
	expect_states(2, 3, "PFPFPFPFPF", "uuuuuuuuuu");
	expect_states(2, 3, "PPPFPFFPFFPFF", "upppppppppppp");
}

static void counter_is_bounded(void **state)
{
	struct hc_check_conf conf = make_conf(2, 3);
	struct hc_check c;
	char got[1100];
	char seq[1001];

	memset(seq, 'P', 1000);
	seq[1000] = '\0';
	engine_check_init_state(&c, &conf);
	run(&c, seq, got);
	assert_int_equal(c.counter, 3); /* clamped at max(rise, fall) */
	run(&c, "FFF", got);
	assert_string_equal(got, "ppf"); /* three failures still suffice */
	assert_int_equal(c.counter, -3);
	assert_int_equal(c.transitions, 2);
	assert_int_equal(c.results[HC_RESULT_PASS], 1000);
	assert_int_equal(c.results[HC_RESULT_FAIL], 3);
	assert_string_equal(c.reason, "boom");
}

static void anomaly_can_fail_the_check(void **state)
{
	struct hc_check_conf conf = make_conf(1, 2);
	struct hc_check c;
	uint64_t now = 0;

	conf.anomaly_fails = true;
	conf.anomaly_m = 2;
	engine_check_init_state(&c, &conf);
	for (int i = 0; i < 64; i++)
		engine_apply_result(&c, HC_RESULT_PASS, "", 0.010 + (i % 5) * 0.0002, now += 1000);
	assert_int_equal(c.state, CHECK_PASSING);
	assert_false(c.stats.anomaly);
	engine_apply_result(&c, HC_RESULT_PASS, "", 0.200, now += 1000);
	assert_int_equal(c.state, CHECK_PASSING);
	engine_apply_result(&c, HC_RESULT_PASS, "", 0.200, now += 1000); /* flag raised: counts as failure 1 */
	assert_true(c.stats.anomaly);
	engine_apply_result(&c, HC_RESULT_PASS, "", 0.200, now += 1000);
	assert_int_equal(c.state, CHECK_FAILING);
	assert_non_null(strstr(c.reason, "latency anomaly"));
}

static void anomaly_reported_only_by_default(void **state)
{
	struct hc_check_conf conf = make_conf(1, 1);
	struct hc_check c;
	uint64_t now = 0;

	engine_check_init_state(&c, &conf);
	for (int i = 0; i < 64; i++)
		engine_apply_result(&c, HC_RESULT_PASS, "", 0.010 + (i % 5) * 0.0002, now += 1000);
	for (int i = 0; i < 5; i++)
		engine_apply_result(&c, HC_RESULT_PASS, "", 0.200, now += 1000);
	assert_true(c.stats.anomaly);
	assert_int_equal(c.state, CHECK_PASSING);
}

/* First runs: within the jitter while that keeps them under about 1000 a second;
 * over n / 1000 s beyond; at once when the jitter is 0 (the operator's choice). */
static void test_first_window(void **state)
{
	(void)state;
	assert_true(fabs(engine_first_window_s(100, 1000) - 1.0) < 1e-9);
	assert_true(fabs(engine_first_window_s(100, 100) - 0.1) < 1e-9);
	assert_true(fabs(engine_first_window_s(1000, 100) - 1.0) < 1e-9);
	assert_true(fabs(engine_first_window_s(10000, 1000) - 10.0) < 1e-9);
	assert_true(fabs(engine_first_window_s(1000, 5000) - 5.0) < 1e-9);
	assert_true(engine_first_window_s(10000, 0) == 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_window),
		cmocka_unit_test(rise_and_fall),
		cmocka_unit_test(flapping_never_decides),
		cmocka_unit_test(counter_is_bounded),
		cmocka_unit_test(anomaly_can_fail_the_check),
		cmocka_unit_test(anomaly_reported_only_by_default),
	};

	log_init("test", LOG_LVL_ERR, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
