/* The fence's commands: only IP literals are kept (nothing may wait for DNS), the
 * corosync port is dropped both ways, loopback stays open, and a fence that would
 * keep nobody is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>

#include <cmocka.h>

#include "fence.h"

static void test_commands(void **state)
{
	const char *keep[] = {"198.51.100.11", "node1.example", "2001:db8::11"};
	char buf[4096];

	assert_int_equal(fence_commands(5405, keep, 3, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "add table inet " FENCE_TABLE "\n"));
	assert_non_null(strstr(buf, "in ip saddr 198.51.100.11 udp dport 5405 accept"));
	assert_non_null(strstr(buf, "out ip daddr 198.51.100.11 udp dport 5405 accept"));
	assert_non_null(strstr(buf, "in ip6 saddr 2001:db8::11 udp dport 5405 accept"));
	assert_non_null(strstr(buf, "in udp dport 5405 drop"));
	assert_non_null(strstr(buf, "out udp dport 5405 drop"));
	assert_non_null(strstr(buf, "iifname \"lo\" accept"));
	assert_null(strstr(buf, "node1.example"));
	/* The accepts come before the drops. */
	assert_true(strstr(buf, "saddr 198.51.100.11") < strstr(buf, "in udp dport 5405 drop"));
}

static void test_refuses_to_keep_nobody(void **state)
{
	const char *names[] = {"node1.example"};
	char buf[4096];

	assert_int_equal(fence_commands(5405, names, 1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(fence_commands(5405, NULL, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(fence_withdraw(5405, names, 1), -EINVAL); /* refused before nftables */
}

static void test_small_buffer(void **state)
{
	const char *keep[] = {"198.51.100.11"};
	char buf[64];

	assert_int_equal(fence_commands(5405, keep, 1, buf, sizeof(buf)), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_refuses_to_keep_nobody),
		cmocka_unit_test(test_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
