/* Latency statistics and the anomaly detector on synthetic series, simulated clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* Deterministic noise in [-1, 1). */
static double noise(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return ((*seed >> 8) & 0xffff) / 32768.0 - 1.0;
}

static void quantiles_and_ewma(void **state)
{
	struct stats st;

	stats_init(&st, 5, 3);
	assert_true(stats_quantile(&st, 0.5) == 0);
	for (int i = 1; i <= 100; i++)
		stats_add(&st, i / 1000.0, (uint64_t)i);
	assert_float_equal(stats_quantile(&st, 0.5), 0.050, 1e-12);
	assert_float_equal(stats_quantile(&st, 0.95), 0.095, 1e-12);
	assert_float_equal(stats_quantile(&st, 0.99), 0.099, 1e-12);
	assert_float_equal(stats_quantile(&st, 1.0), 0.100, 1e-12);
	assert_float_equal(st.last, 0.100, 1e-12);
	assert_int_equal(st.count, 100);
	assert_float_equal(st.sum, 5.050, 1e-9);
	/* EWMA of a ramp lags behind the last value, above the mean */
	assert_true(st.ewma < 0.100 && st.ewma > 0.0505);
}

static void window_slides(void **state)
{
	struct stats st;

	stats_init(&st, 5, 3);
	for (int i = 0; i < STATS_WINDOW; i++)
		stats_add(&st, 1.0, (uint64_t)i);
	for (int i = 0; i < STATS_WINDOW; i++)
		stats_add(&st, 2.0, (uint64_t)i);
	assert_int_equal(st.n, STATS_WINDOW);
	assert_float_equal(stats_quantile(&st, 0.01), 2.0, 1e-12); /* the 1.0 samples are gone */
	assert_int_equal(st.count, 2 * STATS_WINDOW);
}

static void noise_is_not_flagged(void **state)
{
	struct stats st;
	uint32_t seed = 42;

	stats_init(&st, 5, 3);
	for (uint64_t t = 0; t < 5000; t++) {
		/* 10 ms +- 2 ms, with an isolated 3x spike every 97 samples */
		double x = 0.010 + 0.002 * noise(&seed);

		if (t % 97 == 0)
			x *= 3;
		assert_int_equal(stats_add(&st, x, t), 0);
		assert_false(st.anomaly);
	}
}

static void constant_baseline_uses_mad_floor(void **state)
{
	struct stats st;

	stats_init(&st, 5, 3);
	for (uint64_t t = 0; t < 200; t++)
		stats_add(&st, 0.001 + (t % 2) * 1e-7, t); /* MAD ~ 0: the floor decides */
	for (uint64_t t = 200; t < 210; t++)
		stats_add(&st, 0.00125, t);            /* +250 us: within 5 x 1.4826 x 100 us */
	assert_false(st.anomaly);
}

static void step_is_flagged_then_learned(void **state)
{
	struct stats st;
	uint32_t seed = 7;
	uint64_t t = 0, raised_at = 0, cleared_at = 0;

	stats_init(&st, 5, 3);
	for (; t < 300; t++)
		stats_add(&st, 0.010 + 0.001 * noise(&seed), t * 1000);
	assert_false(st.anomaly);
	/* the service slows down for good: 10 ms -> 40 ms */
	for (; t < 700; t++) {
		if (stats_add(&st, 0.040 + 0.001 * noise(&seed), t * 1000)) {
			if (st.anomaly)
				raised_at = t;
			else
				cleared_at = t;
		}
	}
	assert_int_equal(raised_at, 302);              /* the third anomalous sample */
	assert_true(cleared_at > raised_at);           /* the new level became the baseline */
	assert_true(cleared_at - raised_at < STATS_WINDOW);
	assert_false(st.anomaly);
	assert_int_equal(st.anomaly_since_ms, cleared_at * 1000);
}

static void short_burst_raises_and_clears(void **state)
{
	struct stats st;
	uint32_t seed = 9;
	uint64_t t = 0;

	stats_init(&st, 5, 3);
	for (; t < 200; t++)
		stats_add(&st, 0.010 + 0.001 * noise(&seed), t);
	for (int i = 0; i < 2; i++, t++)
		stats_add(&st, 0.080, t);
	assert_false(st.anomaly); /* two in a row: below m = 3 */
	for (int i = 0; i < 4; i++, t++)
		stats_add(&st, 0.080, t);
	assert_true(st.anomaly);
	assert_true(st.last_score > 5);
	stats_add(&st, 0.010, t++);
	stats_add(&st, 0.010, t++);
	assert_true(st.anomaly); /* clearing takes m normal samples too */
	assert_int_equal(stats_add(&st, 0.010, t++), 1);
	assert_false(st.anomaly);
}

static void learning_period_judges_nothing(void **state)
{
	struct stats st;

	stats_init(&st, 5, 1);
	for (uint64_t t = 0; t < STATS_MIN_BASELINE; t++)
		assert_int_equal(stats_add(&st, t % 2 ? 1.0 : 0.001, t), 0);
	assert_false(st.anomaly);
	assert_int_equal(stats_add(&st, NAN, 99), 0); /* ignored */
	assert_int_equal(stats_add(&st, -1, 99), 0);
	assert_int_equal(st.count, STATS_MIN_BASELINE);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The window is kept sorted as samples come and go: its quantiles, median and MAD
 * are exactly those of the last STATS_WINDOW samples sorted from scratch, ties and
 * repeated values included, at every size of the window. */
static void sorted_window_matches_sorting_from_scratch(void **state)
{
	double ring[STATS_WINDOW], v[STATS_WINDOW];
	unsigned n = 0, head = 0;
	uint32_t seed = 1234;
	struct stats st;

	stats_init(&st, 5, 3);
	for (int i = 0; i < 2000; i++) {
		/* a coarse grid makes many equal values; a step now and then moves the level */
		double x = 0.001 * (double)(int)(10 + 5 * noise(&seed)) + (i / 700) * 0.003;
		double median, mad, want_median, want_mad;

		stats_add(&st, x, (uint64_t)i);
		ring[head] = x;
		head = (head + 1) % STATS_WINDOW;
		n += n < STATS_WINDOW;
		assert_int_equal(st.n, n);
		memcpy(v, ring, n * sizeof(double));
		qsort(v, n, sizeof(double), cmp_double);
		assert_memory_equal(st.sorted, v, n * sizeof(double));
		want_median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
		for (unsigned j = 0; j < n; j++)
			v[j] = fabs(v[j] - want_median);
		qsort(v, n, sizeof(double), cmp_double);
		want_mad = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
		stats_baseline(&st, &median, &mad);
		assert_true(median == want_median);
		assert_true(mad == want_mad);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(quantiles_and_ewma),
		cmocka_unit_test(window_slides),
		cmocka_unit_test(noise_is_not_flagged),
		cmocka_unit_test(constant_baseline_uses_mad_floor),
		cmocka_unit_test(step_is_flagged_then_learned),
		cmocka_unit_test(short_burst_raises_and_clears),
		cmocka_unit_test(learning_period_judges_nothing),
		cmocka_unit_test(sorted_window_matches_sorting_from_scratch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
