/* What the endpoints and the fomgr feed say for a given engine state: /readyz,
 * /metrics, /status and the healthwire line, from an engine that is not running. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "feed.h"
#include "fo/healthwire.h"
#include "fo/log.h"
#include "serve.h"

static const char conf_text[] = "[check web]\ntype = file\npath = /nonexistent/a\n"
				"[check db]\ntype = file\npath = /nonexistent/b\n"
				"[check new]\ntype = file\npath = /nonexistent/c\n";

static int setup(void **state)
{
	struct cfgfile_errors errs;
	struct hc_config *cfg;
	struct engine *e;

	assert_int_equal(hcconfig_load_buffer("r.conf", conf_text, sizeof(conf_text) - 1, &cfg, &errs), 0);
	e = engine_new(EV_DEFAULT, cfg, NULL);
	assert_non_null(e);
	/* web passing with latency samples, db failing, new unknown */
	for (int i = 0; i < 20; i++)
		engine_apply_result(engine_find(e, "web"), HC_RESULT_PASS, "", 0.001 * (i + 1), 1000 + i);
	for (int i = 0; i < 3; i++)
		engine_apply_result(engine_find(e, "db"), HC_RESULT_FAIL, "connect: Connection refused", -1, 2000 + i);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	engine_free(*state);
	return 0;
}

static void readyz(void **state)
{
	struct engine *e = *state;
	const char *exclude[] = {"db", "new"};
	unsigned status;
	char *body;

	body = serve_render_readyz(e, NULL, false, NULL, 0, &status);
	assert_int_equal(status, 503);
	assert_string_equal(body, "readyz check failed\n");
	free(body);
	body = serve_render_readyz(e, NULL, true, NULL, 0, &status);
	assert_string_equal(body, "[+]web ok\n"
				  "[-]db failed: connect: Connection refused\n"
				  "[-]new failed: unknown, not run yet\n"
				  "readyz check failed\n");
	free(body);
	body = serve_render_readyz(e, NULL, false, exclude, 2, &status);
	assert_int_equal(status, 200);
	assert_string_equal(body, "ok\n");
	free(body);
	body = serve_render_readyz(e, "web", false, NULL, 0, &status);
	assert_int_equal(status, 200);
	assert_string_equal(body, "[+]web ok\n");
	free(body);
	body = serve_render_readyz(e, "db", true, NULL, 0, &status);
	assert_int_equal(status, 503);
	free(body);
	body = serve_render_readyz(e, "nope", false, NULL, 0, &status);
	assert_int_equal(status, 404);
	free(body);
}

static void metrics(void **state)
{
	char *text = serve_render_metrics(*state, NULL, 1000);
	static const char *const want[] = {
		"healthcheck_build_info{version=\"" FO_VERSION "\"} 1\n",
		"# TYPE healthcheck_check_up gauge\n",
		"healthcheck_check_up{check=\"web\",type=\"file\"} 1\n",
		"healthcheck_check_up{check=\"db\",type=\"file\"} 0\n",
		"healthcheck_check_state{check=\"new\",state=\"unknown\"} 1\n",
		"# TYPE healthcheck_checks_total counter\n",
		"healthcheck_checks_total{check=\"web\",result=\"pass\"} 20\n",
		"healthcheck_checks_total{check=\"db\",result=\"fail\"} 3\n",
		"healthcheck_check_transitions_total{check=\"db\"} 1\n",
		"# TYPE healthcheck_check_latency_seconds summary\n",
		"healthcheck_check_latency_seconds{check=\"web\",quantile=\"0.5\"} 0.01\n",
		"healthcheck_check_latency_seconds{check=\"web\",quantile=\"0.99\"} 0.02\n",
		"healthcheck_check_latency_seconds_count{check=\"web\"} 20\n",
		"healthcheck_check_latency_seconds{check=\"db\",quantile=\"0.5\"} NaN\n",
		"healthcheck_check_anomaly{check=\"web\"} 0\n",
		"healthcheck_ready 0\n",
	};

	assert_non_null(text);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!strstr(text, want[i]))
			print_error("missing: %s", want[i]);
		assert_non_null(strstr(text, want[i]));
	}
	/* every sample line belongs to a family announced before it */
	for (char *line = text; *line; line = strchr(line, '\n') + 1) {
		char name[128], type_line[160];

		if (*line == '#')
			continue;
		sscanf(line, "%127[a-z_]", name);
		if (strstr(name, "_sum") || strstr(name, "_count"))
			name[strlen(name) - (strstr(name, "_sum") ? 4 : 6)] = '\0';
		snprintf(type_line, sizeof(type_line), "# TYPE %s ", name);
		assert_non_null(strstr(text, type_line));
		assert_true(strstr(text, type_line) < line);
	}
	free(text);
}

static void status(void **state)
{
	char *text = serve_render_status(*state, NULL, 1000);
	json_error_t err;
	json_t *root = json_loads(text, 0, &err), *checks, *web, *db;

	assert_non_null(root);
	assert_int_equal(json_integer_value(json_object_get(root, "schema_version")), 1);
	assert_true(json_is_false(json_object_get(root, "ready")));
	checks = json_object_get(root, "checks");
	assert_int_equal(json_array_size(checks), 3);
	web = json_array_get(checks, 0);
	db = json_array_get(checks, 1);
	assert_string_equal(json_string_value(json_object_get(web, "state")), "passing");
	assert_true(json_is_null(json_object_get(web, "reason")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(web, "latency"), "samples")), 20);
	assert_float_equal(json_real_value(json_object_get(json_object_get(web, "latency"), "p95_s")), 0.019, 1e-9);
	assert_true(json_is_false(json_object_get(json_object_get(web, "anomaly"), "active")));
	assert_string_equal(json_string_value(json_object_get(db, "state")), "failing");
	assert_string_equal(json_string_value(json_object_get(db, "reason")), "connect: Connection refused");
	assert_int_equal(json_integer_value(json_object_get(db, "counter")), -3);
	json_decref(root);
	free(text);
}

static void feed_line(void **state)
{
	static char buf[HEALTHWIRE_MAX_LINE + 1];
	struct healthwire_report report;
	int n = feed_encode_snapshot(*state, 42, 1000, buf, sizeof(buf));

	assert_true(n > 0);
	assert_string_equal(buf, "{\"checks\":{\"db\":\"failing\",\"new\":\"unknown\",\"web\":\"passing\"},"
				 "\"interval_ms\":1000,\"seq\":42,\"v\":1}\n");
	assert_int_equal(healthwire_decode(buf, (size_t)n, &report), 0);
	assert_int_equal(report.seq, 42);
	assert_int_equal(healthwire_find(&report, "db")->state, CHECK_FAILING);
	assert_int_equal(healthwire_find(&report, "new")->state, CHECK_UNKNOWN);
	healthwire_report_clear(&report);
}

static void reload_keeps_state(void **state)
{
	static const char text[] = "[check web]\ntype = file\npath = /nonexistent/a\nrise = 5\n"
				   "[check db]\ntype = tcp\naddress = 127.0.0.1\nport = 1\n";
	struct engine *old = *state, *e;
	struct cfgfile_errors errs;
	struct hc_config *cfg;

	assert_int_equal(hcconfig_load_buffer("r2.conf", text, sizeof(text) - 1, &cfg, &errs), 0);
	e = engine_new(EV_DEFAULT, cfg, old);
	assert_non_null(e);
	/* same name and type: kept; another type: a new check */
	assert_int_equal(engine_find(e, "web")->state, CHECK_PASSING);
	assert_int_equal(engine_find(e, "web")->counter, 3); /* as it was: bounded by the old max(rise, fall) */
	assert_int_equal(engine_find(e, "web")->stats.count, 20);
	assert_int_equal(engine_find(e, "db")->state, CHECK_UNKNOWN);
	assert_null(engine_find(e, "new"));
	engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(readyz, setup, teardown),
		cmocka_unit_test_setup_teardown(metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(status, setup, teardown),
		cmocka_unit_test_setup_teardown(feed_line, setup, teardown),
		cmocka_unit_test_setup_teardown(reload_keeps_state, setup, teardown),
	};

	log_init("test", LOG_LVL_ERR, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
