#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "fo/healthwire.h"

static void roundtrip(void **state)
{
	struct healthwire_check checks[2] = {{"web", CHECK_PASSING}, {"db-1", CHECK_FAILING}};
	struct healthwire_report in = {.seq = 7, .interval_ms = 500, .n_checks = 2, .checks = checks};
	struct healthwire_report out;
	char buf[256];
	int len = healthwire_encode(&in, buf, sizeof(buf));

	assert_true(len > 0);
	assert_int_equal(buf[len - 1], '\n');
	assert_int_equal(healthwire_decode(buf, (size_t)len, &out), 0);
	assert_int_equal(out.seq, 7);
	assert_int_equal(out.interval_ms, 500);
	assert_int_equal(out.n_checks, 2);
	assert_int_equal(healthwire_find(&out, "db-1")->state, CHECK_FAILING);
	assert_int_equal(healthwire_find(&out, "web")->state, CHECK_PASSING);
	assert_null(healthwire_find(&out, "nope"));
	healthwire_report_clear(&out);
}

static void rejects(void **state)
{
	static const char *const bad[] = {
		"", "{", "[]", "{\"v\":1}", "{\"v\":2,\"seq\":1,\"interval_ms\":1,\"checks\":{}}",
		"{\"v\":1,\"seq\":-1,\"interval_ms\":1,\"checks\":{}}",
		"{\"v\":1,\"seq\":1,\"interval_ms\":0,\"checks\":{}}",
		"{\"v\":1,\"seq\":1,\"interval_ms\":1,\"checks\":{\"a b\":\"passing\"}}",
		"{\"v\":1,\"seq\":1,\"interval_ms\":1,\"checks\":{\"a\":\"maybe\"}}",
		"{\"v\":1,\"seq\":1,\"interval_ms\":1,\"checks\":{\"a\":1}}",
		"{\"v\":1,\"v\":1,\"seq\":1,\"interval_ms\":1,\"checks\":{}}",
	};
	struct healthwire_report out;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(healthwire_decode(bad[i], strlen(bad[i]), &out) < 0);
	assert_int_equal(healthwire_decode(bad[4], strlen(bad[4]), &out), -EPROTONOSUPPORT);
}

static void too_small(void **state)
{
	struct healthwire_check checks[1] = {{"web", CHECK_PASSING}};
	struct healthwire_report in = {.seq = 1, .interval_ms = 1, .n_checks = 1, .checks = checks};
	char buf[16];

	assert_int_equal(healthwire_encode(&in, buf, sizeof(buf)), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(rejects),
		cmocka_unit_test(too_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
