/* The slow-client guard's policy: over the per-address limit the oldest of that
 * address goes, over the total limit the oldest of all; the newcomer and
 * connections already closing are never chosen; a deadline counts from the first
 * byte or the last answer. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fo/httpd_guard.h"

#define NOW 10000

static const struct httpd_guard_limits limits = {.max_connections = 4, .per_address = 2, .deadline_s = 5.0};

static void conn(struct httpd_guard_conn *c, const char *ip, uint64_t since_ms)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)&c->addr;

	memset(c, 0, sizeof(*c));
	c->used = 1;
	c->since_ms = since_ms;
	v4->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &v4->sin_addr);
}

static void under_limits_nobody(void **state)
{
	struct httpd_guard_conn c[8] = {0};

	conn(&c[0], "127.0.0.1", 100);
	conn(&c[1], "127.0.0.1", 200);
	conn(&c[2], "192.0.2.7", 50);
	assert_int_equal(httpd_guard_victim(c, 8, 1, &limits, NOW), -1);
	assert_int_equal(httpd_guard_victim(c, 8, 2, &limits, NOW), -1);
}

static void same_address_oldest_of_it(void **state)
{
	struct httpd_guard_conn c[8] = {0};

	conn(&c[0], "192.0.2.7", 10);  /* older, but another address */
	conn(&c[1], "127.0.0.1", 300);
	conn(&c[2], "127.0.0.1", 200); /* the slow one */
	conn(&c[3], "127.0.0.1", 400); /* the newcomer */
	assert_int_equal(httpd_guard_victim(c, 8, 3, &limits, NOW), 2);
	/* already closing: the next oldest of the address */
	c[2].closing = 1;
	assert_int_equal(httpd_guard_victim(c, 8, 3, &limits, NOW), -1);
	conn(&c[4], "127.0.0.1", 500);
	assert_int_equal(httpd_guard_victim(c, 8, 4, &limits, NOW), 1);
}

static void total_oldest_of_all(void **state)
{
	struct httpd_guard_conn c[8] = {0};

	conn(&c[0], "192.0.2.1", 300);
	conn(&c[1], "192.0.2.2", 100);
	conn(&c[2], "192.0.2.3", 200);
	conn(&c[3], "192.0.2.4", 400);
	conn(&c[5], "192.0.2.5", 50); /* the newcomer, with an older clock value: still not chosen */
	assert_int_equal(httpd_guard_victim(c, 8, 5, &limits, NOW), 1);
	/* a slot that is not in use is no newcomer */
	assert_int_equal(httpd_guard_victim(c, 8, 6, &limits, NOW), -1);
}

static void never_young_or_answering(void **state)
{
	struct httpd_guard_conn c[8] = {0};

	conn(&c[0], "127.0.0.1", NOW - 100); /* younger than the grace */
	conn(&c[1], "127.0.0.1", NOW - 5000);
	conn(&c[2], "127.0.0.1", NOW);
	c[1].ready = 1;                       /* being answered */
	assert_int_equal(httpd_guard_victim(c, 8, 2, &limits, NOW), -1);
	c[1].ready = 0;
	assert_int_equal(httpd_guard_victim(c, 8, 2, &limits, NOW), 1);
	c[1].since_ms = NOW - HTTPD_GUARD_GRACE_MS + 1;
	assert_int_equal(httpd_guard_victim(c, 8, 2, &limits, NOW), -1);
	c[1].since_ms = NOW - HTTPD_GUARD_GRACE_MS;
	assert_int_equal(httpd_guard_victim(c, 8, 2, &limits, NOW), 1);
}

static void deadline_from_last_answer(void **state)
{
	struct httpd_guard_conn c;

	conn(&c, "127.0.0.1", 1000);
	assert_false(httpd_guard_expired(&c, 6000, &limits));
	assert_true(httpd_guard_expired(&c, 6001, &limits));
	c.since_ms = 5000; /* answered at 5 s: a new deadline */
	assert_false(httpd_guard_expired(&c, 6001, &limits));
	c.closing = 1;
	assert_false(httpd_guard_expired(&c, 60000, &limits));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(under_limits_nobody),
		cmocka_unit_test(same_address_oldest_of_it),
		cmocka_unit_test(total_oldest_of_all),
		cmocka_unit_test(never_young_or_answering),
		cmocka_unit_test(deadline_from_last_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
