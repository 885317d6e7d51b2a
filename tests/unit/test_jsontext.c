/* Reals print in their shortest round-trip form; integers, strings (digits in
 * them included) and the document's shape are untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fo/jsontext.h"

static void dumps(json_t *j, size_t flags, const char *want)
{
	char *text = jsontext_dumps(j, flags);

	assert_non_null(text);
	assert_string_equal(text, want);
	free(text);
	json_decref(j);
}

static void shortest_reals(void **state)
{
	char buf[40];

	assert_string_equal(jsontext_real(7.427, buf, sizeof(buf)), "7.427");
	assert_string_equal(jsontext_real(0.1, buf, sizeof(buf)), "0.1");
	assert_string_equal(jsontext_real(1.0 / 3, buf, sizeof(buf)), "0.3333333333333333");
	assert_string_equal(jsontext_real(1795610801.224, buf, sizeof(buf)), "1795610801.224");
	assert_string_equal(jsontext_real(1e300, buf, sizeof(buf)), "1e+300");
	assert_true(strtod(jsontext_real(0.1 + 0.2, buf, sizeof(buf)), NULL) == 0.1 + 0.2);
	assert_string_equal(buf, "0.30000000000000004");
}

static void documents(void **state)
{
	dumps(json_pack("{s:f, s:i, s:s, s:[f, f, f]}", "took_ms", 7.427, "n", 12, "s", "7.4269999999999996 \"1.5\"",
			"a", 1.0, -0.5, 2.5e-7),
	      JSON_COMPACT | JSON_PRESERVE_ORDER,
	      "{\"took_ms\":7.427,\"n\":12,\"s\":\"7.4269999999999996 \\\"1.5\\\"\",\"a\":[1.0,-0.5,2.5e-07]}");
	dumps(json_pack("{s:f}", "x", 0.1), JSON_INDENT(2), "{\n  \"x\": 0.1\n}");
	dumps(json_pack("[i, I]", -3, (json_int_t)1795610801224), JSON_COMPACT, "[-3,1795610801224]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shortest_reals),
		cmocka_unit_test(documents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
