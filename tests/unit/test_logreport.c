/* `fomctl log report` over a crafted log written by the real writer (auditlog.c):
 * transitions by reason (acquisitions; failures apart), refused accesses by user
 * (with the records the rate limit folded in), operators' commands by user,
 * configuration changes, findings opened, resolved and still open; then the same
 * log with a record cut out (a sequence gap, a broken chain) and a line that is no
 * record; --since. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditlog.h"
#include "logreport.h"

static char dir[] = "/tmp/fo-logreport-XXXXXX";
static char path[64], cut[64];

static void add(struct auditlog *log, enum auditlog_type type, json_t *fields)
{
	assert_int_equal(auditlog_append(log, type, fields), 0);
	json_decref(fields);
}

static int write_log(void **state)
{
	struct auditlog_options o = {0};
	struct auditlog *log;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	snprintf(cut, sizeof(cut), "%s/cut.log", dir);
	log = auditlog_open(path, "node1", &o);
	assert_non_null(log);
	add(log, AUDITLOG_START, json_pack("{s:s, s:s}", "version", "0.1.0", "config", "/etc/fomgr/fomgr.conf"));
	add(log, AUDITLOG_TRANSITION, json_pack("{s:s, s:s, s:s, s:b}", "group", "web", "action", "acquire", "reason",
						"initial", "ok", 1));
	add(log, AUDITLOG_TRANSITION, json_pack("{s:s, s:s, s:s, s:b}", "group", "web", "action", "acquire", "reason",
						"failover", "ok", 1));
	add(log, AUDITLOG_TRANSITION, json_pack("{s:s, s:s, s:s, s:b}", "group", "db", "action", "acquire", "reason",
						"failover", "ok", 0));
	add(log, AUDITLOG_TRANSITION, json_pack("{s:s, s:s, s:s, s:b}", "group", "web", "action", "release", "reason",
						"switchover", "ok", 1));
	add(log, AUDITLOG_ACCESS_DENIED, json_pack("{s:s, s:i, s:s}", "user", "alice", "uid", 1001, "command", "vip.move"));
	add(log, AUDITLOG_ACCESS_DENIED, json_pack("{s:s, s:i, s:s, s:i}", "user", "alice", "uid", 1001, "command",
						   "reload", "suppressed_before", 3));
	add(log, AUDITLOG_ACCESS_DENIED, json_pack("{s:s, s:i, s:s}", "user", "bob", "uid", 1002, "command", "reload"));
	add(log, AUDITLOG_ADMIN, json_pack("{s:s, s:s, s:s}", "user", "root", "command", "vip.move", "phase", "request"));
	add(log, AUDITLOG_ADMIN, json_pack("{s:s, s:s, s:s}", "user", "root", "command", "vip.move", "phase", "result"));
	add(log, AUDITLOG_CONFIG, json_pack("{s:s, s:s}", "change", "reload", "config", "/etc/fomgr/fomgr.conf"));
	add(log, AUDITLOG_CONFIG, json_pack("{s:s, s:s, s:i}", "change", "reload refused", "config",
					    "/etc/fomgr/fomgr.conf", "error_count", 2));
	add(log, AUDITLOG_FINDING, json_pack("{s:s, s:s, s:s, s:s}", "kind", "drift", "severity", "warning", "subject",
					     "node3", "state", "new"));
	add(log, AUDITLOG_FINDING, json_pack("{s:s, s:s, s:s, s:s}", "kind", "drift", "severity", "warning", "subject",
					     "node3", "state", "resolved"));
	add(log, AUDITLOG_FINDING, json_pack("{s:s, s:s, s:s, s:s}", "kind", "missing_listener", "severity", "warning",
					     "subject", "udp/7777", "state", "new"));
	auditlog_close(log);
	return 0;
}

static int remove_log(void **state)
{
	unlink(path);
	unlink(cut);
	rmdir(dir);
	return 0;
}

static json_t *report_of(const char *file, uint64_t since_ms)
{
	FILE *f = fopen(file, "r");
	json_t *r;

	assert_non_null(f);
	r = logreport_build(f, file, since_ms, NULL);
	fclose(f);
	assert_non_null(r);
	return r;
}

static json_int_t at(const json_t *r, const char *a, const char *b, const char *c)
{
	const json_t *v = json_object_get(r, a);

	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	return json_integer_value(v);
}

static void intact_log(void **state)
{
	json_t *r = report_of(path, 0), *changes, *open;

	assert_int_equal(at(r, "records", NULL, NULL), 15);
	assert_int_equal(at(r, "records_in_range", NULL, NULL), 15);
	assert_int_equal(at(r, "transitions", "by_reason", "failover"), 2);
	assert_int_equal(at(r, "transitions", "by_reason", "initial"), 1);
	assert_null(json_object_get(json_object_get(json_object_get(r, "transitions"), "by_reason"), "switchover"));
	assert_int_equal(at(r, "transitions", "failed", NULL), 1);
	assert_int_equal(at(r, "access_denied", "total", NULL), 6); /* 1 + (1 + 3 folded in) + 1 */
	assert_int_equal(at(r, "access_denied", "by_user", "alice"), 5);
	assert_int_equal(at(r, "access_denied", "by_user", "bob"), 1);
	assert_int_equal(at(r, "admin", "by_user", "root"), 1);
	changes = json_object_get(r, "config_changes");
	assert_int_equal(json_array_size(changes), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(changes, 0), "change")), "start");
	assert_string_equal(json_string_value(json_object_get(json_array_get(changes, 2), "change")), "reload refused");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(changes, 2), "error_count")), 2);
	assert_int_equal(at(r, "findings", "opened", NULL), 2);
	assert_int_equal(at(r, "findings", "resolved", NULL), 1);
	assert_int_equal(at(r, "findings", "opened_by_kind", "drift"), 1);
	open = json_object_get(json_object_get(r, "findings"), "still_open");
	assert_int_equal(json_array_size(open), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(open, 0), "subject")), "udp/7777");
	assert_int_equal(at(r, "gap_count", NULL, NULL), 0);
	assert_true(json_is_true(json_object_get(json_object_get(r, "chain"), "intact")));
	assert_true(logreport_clean(r));
	json_decref(r);
}

/* Record 9 cut out and a line of garbage at the end: two gaps, a broken chain;
 * the rest is still counted. */
static void cut_log(void **state)
{
	FILE *in = fopen(path, "r"), *out = fopen(cut, "w");
	char line[AUDITLOG_MAX_LINE];
	json_t *r, *gaps;
	int n = 0;

	assert_non_null(in);
	assert_non_null(out);
	while (fgets(line, sizeof(line), in))
		if (++n != 9)
			fputs(line, out);
	fputs("this is not a record\n", out);
	fclose(in);
	fclose(out);
	r = report_of(cut, 0);
	assert_int_equal(at(r, "records", NULL, NULL), 14);
	assert_int_equal(at(r, "gap_count", NULL, NULL), 2);
	gaps = json_object_get(r, "gaps");
	assert_string_equal(json_string_value(json_object_get(json_array_get(gaps, 0), "kind")), "sequence");
	assert_string_equal(json_string_value(json_object_get(json_array_get(gaps, 0), "detail")), "seq 10 after 8");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(gaps, 0), "line")), 9);
	assert_string_equal(json_string_value(json_object_get(json_array_get(gaps, 1), "kind")), "not-a-record");
	assert_false(json_is_true(json_object_get(json_object_get(r, "chain"), "intact")));
	assert_int_equal(at(r, "chain", "bad_line", NULL), 9);
	assert_null(json_object_get(json_object_get(json_object_get(r, "admin"), "by_user"), "root"));
	assert_false(logreport_clean(r));
	json_decref(r);
}

static void since(void **state)
{
	uint64_t now = 1795610801224ull, t;
	json_t *r = report_of(path, now * 2); /* after every record: nothing in range, the chain still read */

	assert_int_equal(at(r, "records", NULL, NULL), 15);
	assert_int_equal(at(r, "records_in_range", NULL, NULL), 0);
	assert_int_equal(at(r, "access_denied", "total", NULL), 0);
	assert_true(logreport_clean(r));
	json_decref(r);
	assert_int_equal(logreport_parse_since("24h", now, &t), 0);
	assert_int_equal(t, now - 86400000ull);
	assert_int_equal(logreport_parse_since("30m", now, &t), 0);
	assert_int_equal(t, now - 1800000ull);
	assert_int_equal(logreport_parse_since("7d", now, &t), 0);
	assert_int_equal(logreport_parse_since("2026-12-01", now, &t), 0);
	assert_int_equal(t, 1796083200000ull);
	assert_int_equal(logreport_parse_since("2026-12-01T10:30", now, &t), 0);
	assert_int_equal(t, 1796083200000ull + 37800000ull);
	assert_int_equal(logreport_parse_since("2026-12-01T10:30:15", now, &t), 0);
	assert_int_equal(t, 1796083200000ull + 37815000ull);
	assert_int_equal(logreport_parse_since("yesterday", now, &t), -EINVAL);
	assert_int_equal(logreport_parse_since("24", now, &t), -EINVAL);
	assert_int_equal(logreport_parse_since("24hh", now, &t), -EINVAL);
	assert_int_equal(logreport_parse_since("2026-12-01x", now, &t), -EINVAL);
	assert_int_equal(logreport_parse_since("", now, &t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(intact_log),
		cmocka_unit_test(cut_log),
		cmocka_unit_test(since),
	};

	return cmocka_run_group_tests(tests, write_log, remove_log);
}
