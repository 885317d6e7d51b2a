/* The quorum device as fomgr judges it, from readings a test makes up: a device
 * that stops voting is lost only after the grace, once, and back when it votes
 * again; two_node is a risk unless a device is configured and not lost; the
 * status document and /metrics carry it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "qdevice.h"

#define MS 1000ull

static struct qdevice_info reading(int voting)
{
	struct qdevice_info q = {.configured = 1, .known = 1, .alive = 1, .voting = voting, .votes = 1};

	strcpy(q.model, "net");
	strcpy(q.algorithm, "ffsplit");
	strcpy(q.host, "198.51.100.250");
	return q;
}

static void grace_follows_corosync(void **state)
{
	assert_int_equal(qdevice_grace_ms(600, 720), 2640);
	assert_int_equal(qdevice_grace_ms(1000, 1200), 4400);
	assert_int_equal(qdevice_grace_ms(0, 0), QDEVICE_MIN_GRACE_MS);
}

static void lost_after_grace_once_then_back(void **state)
{
	struct qdevice_watch w = {0};
	struct qdevice_info on = reading(1), off = reading(0);

	assert_int_equal(qdevice_watch_update(&w, &on, 1000 * MS, 2000), QDEVICE_EVENT_NONE);
	assert_true(w.connected);
	/* A membership change withdraws the vote for a moment: not a loss. */
	assert_int_equal(qdevice_watch_update(&w, &off, 2000 * MS, 2000), QDEVICE_EVENT_NONE);
	assert_int_equal(qdevice_watch_update(&w, &off, 3999 * MS, 2000), QDEVICE_EVENT_NONE);
	assert_int_equal(qdevice_watch_update(&w, &on, 4100 * MS, 2000), QDEVICE_EVENT_NONE);
	assert_false(w.lost);
	/* Gone for good: lost once the grace has passed, and only once. */
	assert_int_equal(qdevice_watch_update(&w, &off, 5000 * MS, 2000), QDEVICE_EVENT_NONE);
	assert_int_equal(qdevice_watch_update(&w, &off, 7000 * MS, 2000), QDEVICE_EVENT_LOST);
	assert_int_equal(qdevice_watch_update(&w, &off, 9000 * MS, 2000), QDEVICE_EVENT_NONE);
	assert_true(w.lost);
	assert_int_equal(w.losses, 1);
	assert_int_equal(qdevice_watch_update(&w, &on, 9500 * MS, 2000), QDEVICE_EVENT_BACK);
	assert_false(w.lost);
	assert_int_equal(w.since_us, 9500 * MS);
}

static void dead_daemon_or_silent_votequorum_is_disconnected(void **state)
{
	struct qdevice_watch w = {0};
	struct qdevice_info dead = reading(1), unknown = reading(1);

	dead.alive = 0; /* corosync-qdevice stopped: votequorum forgets its vote */
	dead.voting = 0;
	unknown.known = 0;
	qdevice_watch_update(&w, &dead, 0, 2000);
	assert_false(w.connected);
	assert_int_equal(qdevice_watch_update(&w, &unknown, 2000 * MS, 2000), QDEVICE_EVENT_LOST);
}

static void no_device_no_loss(void **state)
{
	struct qdevice_watch w = {0};
	struct qdevice_info none = {0}, off = reading(0);

	assert_int_equal(qdevice_watch_update(&w, &none, 0, 2000), QDEVICE_EVENT_NONE);
	assert_int_equal(qdevice_watch_update(&w, &none, 60000 * MS, 2000), QDEVICE_EVENT_NONE);
	assert_false(w.lost);
	/* A lost device taken out of corosync.conf ends the loss without a "back". */
	qdevice_watch_update(&w, &off, 61000 * MS, 2000);
	assert_int_equal(qdevice_watch_update(&w, &off, 64000 * MS, 2000), QDEVICE_EVENT_LOST);
	assert_int_equal(qdevice_watch_update(&w, &none, 65000 * MS, 2000), QDEVICE_EVENT_NONE);
	assert_false(w.lost);
}

static void split_brain_risk(void **state)
{
	struct qdevice_watch w = {0};
	struct qdevice_info on = reading(1), off = reading(0), none = {0};

	assert_false(qdevice_split_brain_risk(0, 0, &w)); /* no two_node: votes decide */
	assert_true(qdevice_split_brain_risk(1, 0, &w));  /* two_node, no device (cmap at start) */
	assert_false(qdevice_split_brain_risk(1, 1, &w)); /* a device, not read yet */
	qdevice_watch_update(&w, &on, 0, 2000);
	assert_false(qdevice_split_brain_risk(1, 1, &w));
	qdevice_watch_update(&w, &off, 1000 * MS, 2000);
	assert_false(qdevice_split_brain_risk(1, 1, &w)); /* within the grace */
	qdevice_watch_update(&w, &off, 3000 * MS, 2000);
	assert_true(qdevice_split_brain_risk(1, 1, &w));  /* lost: two_node alone again */
	assert_false(qdevice_split_brain_risk(0, 1, &w)); /* without two_node a lost device is no split */
	qdevice_watch_update(&w, &none, 4000 * MS, 2000);
	assert_true(qdevice_split_brain_risk(1, 1, &w));  /* the reading wins over the start-up cmap */
}

static json_t *document(void)
{
	return json_pack("{s:i, s:b, s:b, s:i, s:[]}", "schema_version", 1, "joined", 1, "quorate", 1, "members", 2,
			 "warnings");
}

static void status_and_metrics(void **state)
{
	static const char *const series[] = {
		"\nfomgr_qdevice_configured 1\n",
		"\nfomgr_qdevice_connected 0\n",
		"\nfomgr_qdevice_votes 1\n",
		"\nfomgr_qdevice_losses_total 1\n",
		"\nfomgr_qdevice_info{model=\"net\",algorithm=\"ffsplit\",host=\"198.51.100.250\"} 1\n",
		"\nfomgr_warning{warning=\"qdevice-disconnected\"} 1\n",
	};
	struct qdevice_watch w = {0};
	struct qdevice_info off = reading(0);
	struct metrics_input in = {0};
	json_t *st = document(), *q;
	char *text;

	qdevice_status_json(&w, 0, st); /* nothing read yet: nothing said */
	assert_null(json_object_get(st, "qdevice"));
	qdevice_watch_update(&w, &off, 1000 * MS, 2000);
	qdevice_watch_update(&w, &off, 3500 * MS, 2000);
	qdevice_status_json(&w, 4000 * MS, st);
	q = json_object_get(st, "qdevice");
	assert_true(json_is_true(json_object_get(q, "configured")));
	assert_true(json_is_false(json_object_get(q, "connected")));
	assert_true(json_is_true(json_object_get(q, "alive")));
	assert_string_equal(json_string_value(json_object_get(q, "algorithm")), "ffsplit");
	assert_int_equal(json_integer_value(json_object_get(q, "since_ms")), 3000);
	assert_string_equal(json_string_value(json_array_get(json_object_get(st, "warnings"), 0)),
			    "qdevice-disconnected: the quorum device (net ffsplit, witness 198.51.100.250) has not voted "
			    "on this node for 3000 ms (not voting): no tie-breaker, a partition now leaves no side with "
			    "quorum");
	in.status = st;
	text = metrics_render(&in);
	for (size_t i = 0; i < sizeof(series) / sizeof(series[0]); i++)
		if (!strstr(text, series[i]))
			fail_msg("no line '%s' in:\n%s", series[i], text);
	free(text);
	json_decref(st);
}

static void audit_record(void **state)
{
	struct qdevice_watch w = {0};
	struct qdevice_info off = reading(0);
	json_t *r;

	qdevice_watch_update(&w, &off, 0, 2000);
	qdevice_watch_update(&w, &off, 2000 * MS, 2000);
	r = qdevice_event_json(&w, QDEVICE_EVENT_LOST, 2000 * MS);
	assert_string_equal(json_string_value(json_object_get(r, "subject")), "qdevice");
	assert_string_equal(json_string_value(json_object_get(r, "severity")), "warning");
	assert_string_equal(json_string_value(json_object_get(r, "action")), "lost");
	json_decref(r);
	r = qdevice_event_json(&w, QDEVICE_EVENT_BACK, 2000 * MS);
	assert_string_equal(json_string_value(json_object_get(r, "severity")), "info");
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grace_follows_corosync),
		cmocka_unit_test(lost_after_grace_once_then_back),
		cmocka_unit_test(dead_daemon_or_silent_votequorum_is_disconnected),
		cmocka_unit_test(no_device_no_loss),
		cmocka_unit_test(split_brain_risk),
		cmocka_unit_test(status_and_metrics),
		cmocka_unit_test(audit_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
