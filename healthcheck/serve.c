/* libmicrohttpd runs without a thread of its own (MHD_USE_EPOLL, driven by fo/httpd_ev.h):
 * its epoll descriptor is one ev_io in our loop and MHD_get_timeout() arms one
 * ev_timer, so a slow client costs a connection slot, never the loop. */
#include "serve.h"

#include "feed.h"
#include "fo/clock.h"
#include "fo/httpd_ev.h"
#include "fo/httpd_guard.h"
#include "fo/jsontext.h"
#include "fo/log.h"
#include "fo/promtext.h"
#include "sampler.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERVE_MAX_EXCLUDE 32

struct serve {
	struct httpd_ev *httpd;
	struct httpd_guard *guard; /* outlives httpd: MHD tells it of the last closes */
	uint16_t port;
	uint64_t start_ms;
	const struct engine *engine;
	const struct feed *feed;
	const struct sampler *sampler;
};

/* ---- /readyz ---- */

static bool excluded(const char *name, const char *const *exclude, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(exclude[i], name) == 0)
			return true;
	return false;
}

static void readyz_line(struct promtext *t, const struct hc_check *c)
{
	if (c->state == CHECK_PASSING)
		promtext_add(t, "[+]%s ok\n", c->conf->name);
	else if (c->state == CHECK_UNKNOWN)
		promtext_add(t, "[-]%s failed: unknown, %s\n", c->conf->name,
			 c->last_run_ms ? "no steady result yet" : "not run yet");
	else
		promtext_add(t, "[-]%s failed: %s\n", c->conf->name, c->reason);
}

char *serve_render_readyz(const struct engine *engine, const char *check, bool verbose,
			  const char *const *exclude, size_t n_exclude, unsigned *http_status)
{
	struct promtext t = {0};
	bool ready = true;

	if (check) {
		const struct hc_check *c = engine_find(engine, check);

		if (!c) {
			*http_status = 404;
			promtext_add(&t, "no check named '%s'\n", check);
			return promtext_finish(&t);
		}
		readyz_line(&t, c);
		*http_status = c->state == CHECK_PASSING ? 200 : 503;
		return promtext_finish(&t);
	}
	for (size_t i = 0; i < engine_n_checks(engine); i++) {
		const struct hc_check *c = engine_check(engine, i);

		if (excluded(c->conf->name, exclude, n_exclude)) {
			if (verbose)
				promtext_add(&t, "[+]%s excluded: ok\n", c->conf->name);
			continue;
		}
		if (c->state != CHECK_PASSING)
			ready = false;
		if (verbose)
			readyz_line(&t, c);
	}
	*http_status = ready ? 200 : 503;
	if (verbose)
		promtext_add(&t, "readyz check %s\n", ready ? "passed" : "failed");
	else
		promtext_add(&t, "%s\n", ready ? "ok" : "readyz check failed");
	return promtext_finish(&t);
}

/* ---- /metrics ---- */

/* Prometheus prints NaN and infinities by name; numbers in full (a Unix time in
 * seconds needs 13 digits for its milliseconds), without 17-digit noise. */
static void value(struct promtext *t, double v)
{
	char buf[40];

	if (isnan(v))
		promtext_add(t, " NaN\n");
	else
		promtext_add(t, " %s\n", jsontext_real(v, buf, sizeof(buf)));
}

static void metrics_checks_state(struct promtext *t, const struct engine *e)
{
	size_t n = engine_n_checks(e);

	promtext_family(t, "healthcheck_check_up", "gauge", "1 when the check is passing (after rise/fall), else 0.");
	for (size_t i = 0; i < n; i++) {
		const struct hc_check *c = engine_check(e, i);

		promtext_add(t, "healthcheck_check_up{check=\"%s\",type=\"%s\"} %d\n", c->conf->name,
			 hc_check_type_str(c->conf->type), c->state == CHECK_PASSING);
	}
	promtext_family(t, "healthcheck_check_state", "gauge", "The check's state: 1 for the current one.");
	for (size_t i = 0; i < n; i++) {
		const struct hc_check *c = engine_check(e, i);

		for (int s = 0; s < CHECK_STATE_MAX; s++)
			promtext_add(t, "healthcheck_check_state{check=\"%s\",state=\"%s\"} %d\n", c->conf->name,
				 check_state_str((enum check_state)s), (int)c->state == s);
	}
	promtext_family(t, "healthcheck_checks_total", "counter", "Check runs by result.");
	for (size_t i = 0; i < n; i++) {
		const struct hc_check *c = engine_check(e, i);

		for (int r = 0; r < HC_RESULT_MAX; r++)
			promtext_add(t, "healthcheck_checks_total{check=\"%s\",result=\"%s\"} %llu\n", c->conf->name,
				 hc_result_str((enum hc_result)r), (unsigned long long)c->results[r]);
	}
	promtext_family(t, "healthcheck_check_transitions_total", "counter", "State changes of the check.");
	for (size_t i = 0; i < n; i++) {
		const struct hc_check *c = engine_check(e, i);

		promtext_add(t, "healthcheck_check_transitions_total{check=\"%s\"} %llu\n", c->conf->name,
			 (unsigned long long)c->transitions);
	}
	promtext_family(t, "healthcheck_check_last_run_timestamp_seconds", "gauge", "When the check last ended.");
	for (size_t i = 0; i < n; i++) {
		const struct hc_check *c = engine_check(e, i);

		promtext_add(t, "healthcheck_check_last_run_timestamp_seconds{check=\"%s\"}", c->conf->name);
		value(t, c->last_run_ms ? c->last_run_ms / 1000.0 : NAN);
	}
}

static void metrics_checks_latency(struct promtext *t, const struct engine *e)
{
	static const double quantiles[] = {0.5, 0.95, 0.99};
	size_t n = engine_n_checks(e);

	promtext_family(t, "healthcheck_check_latency_seconds", "summary",
	       "Latency of passing runs; quantiles over the last 128 samples.");
	for (size_t i = 0; i < n; i++) {
		const struct hc_check *c = engine_check(e, i);

		for (size_t q = 0; q < 3; q++) {
			promtext_add(t, "healthcheck_check_latency_seconds{check=\"%s\",quantile=\"%g\"}", c->conf->name,
				 quantiles[q]);
			value(t, c->stats.n ? stats_quantile(&c->stats, quantiles[q]) : NAN);
		}
		promtext_add(t, "healthcheck_check_latency_seconds_sum{check=\"%s\"}", c->conf->name);
		value(t, c->stats.sum);
		promtext_add(t, "healthcheck_check_latency_seconds_count{check=\"%s\"} %llu\n", c->conf->name,
			 (unsigned long long)c->stats.count);
	}
	promtext_family(t, "healthcheck_check_latency_last_seconds", "gauge", "Latency of the last passing run.");
	for (size_t i = 0; i < n; i++) {
		const struct hc_check *c = engine_check(e, i);

		promtext_add(t, "healthcheck_check_latency_last_seconds{check=\"%s\"}", c->conf->name);
		value(t, c->stats.count ? c->stats.last : NAN);
	}
	promtext_family(t, "healthcheck_check_latency_ewma_seconds", "gauge", "Exponentially weighted mean latency.");
	for (size_t i = 0; i < n; i++) {
		const struct hc_check *c = engine_check(e, i);

		promtext_add(t, "healthcheck_check_latency_ewma_seconds{check=\"%s\"}", c->conf->name);
		value(t, c->stats.count ? c->stats.ewma : NAN);
	}
	promtext_family(t, "healthcheck_check_anomaly", "gauge", "1 while latency is outside its learned baseline.");
	for (size_t i = 0; i < n; i++) {
		const struct hc_check *c = engine_check(e, i);

		promtext_add(t, "healthcheck_check_anomaly{check=\"%s\"} %d\n", c->conf->name, c->stats.anomaly);
	}
	promtext_family(t, "healthcheck_check_cert_expiry_timestamp_seconds", "gauge",
	       "https: the server certificate's notAfter.");
	for (size_t i = 0; i < n; i++) {
		const struct hc_check *c = engine_check(e, i);

		if (c->cert_expiry)
			promtext_add(t, "healthcheck_check_cert_expiry_timestamp_seconds{check=\"%s\"} %.0f\n",
				 c->conf->name, c->cert_expiry);
	}
}

static void metrics_agent(struct promtext *t, const struct engine *e, const struct feed *feed, uint64_t start_ms)
{
	promtext_family(t, "healthcheck_build_info", "gauge", "The agent's version.");
	promtext_add(t, "healthcheck_build_info{version=\"%s\"} 1\n", FO_VERSION);
	promtext_family(t, "healthcheck_start_time_seconds", "gauge", "When the agent started, unix time.");
	promtext_add(t, "healthcheck_start_time_seconds %.3f\n", start_ms / 1000.0);
	promtext_family(t, "healthcheck_ready", "gauge", "1 when every check passes.");
	promtext_add(t, "healthcheck_ready %d\n", engine_ready(e));
	if (feed) {
		struct feed_stats fs;

		feed_get_stats(feed, &fs);
		promtext_family(t, "healthcheck_feed_connected", "gauge", "1 while connected to fomgr's health socket.");
		promtext_add(t, "healthcheck_feed_connected %d\n", fs.connected);
		promtext_family(t, "healthcheck_feed_lines_total", "counter", "Health reports written to fomgr.");
		promtext_add(t, "healthcheck_feed_lines_total %llu\n", (unsigned long long)fs.lines_sent);
		promtext_family(t, "healthcheck_feed_connects_total", "counter", "Connections made to fomgr.");
		promtext_add(t, "healthcheck_feed_connects_total %llu\n", (unsigned long long)fs.connects);
		promtext_family(t, "healthcheck_feed_drops_total", "counter",
		       "Connections to fomgr dropped (peer gone, error, stall).");
		promtext_add(t, "healthcheck_feed_drops_total %llu\n", (unsigned long long)fs.drops);
	}
}

char *serve_render_metrics(const struct engine *engine, const struct feed *feed, uint64_t start_ms)
{
	struct promtext t = {0};

	metrics_agent(&t, engine, feed, start_ms);
	metrics_checks_state(&t, engine);
	metrics_checks_latency(&t, engine);
	return promtext_finish(&t);
}

static char *render_metrics_all(const struct serve *s)
{
	struct promtext t = {0};
	char *base = serve_render_metrics(s->engine, s->feed, s->start_ms);

	if (!base)
		return NULL;
	promtext_add(&t, "%s", base);
	free(base);
	if (s->sampler) {
		char *node = sampler_render_metrics(s->sampler);

		if (!node)
			t.failed = true;
		else
			promtext_add(&t, "%s", node);
		free(node);
	}
	return promtext_finish(&t);
}

/* ---- /status ---- */

static json_t *json_seconds(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *status_latency(const struct hc_check *c)
{
	const struct stats *st = &c->stats;

	if (!st->count)
		return json_pack("{s:I}", "samples", (json_int_t)0);
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:I}", "last_s", json_seconds(st->last), "ewma_s",
			 json_seconds(st->ewma), "p50_s", json_seconds(stats_quantile(st, 0.5)), "p95_s",
			 json_seconds(stats_quantile(st, 0.95)), "p99_s", json_seconds(stats_quantile(st, 0.99)),
			 "samples", (json_int_t)st->count);
}

static json_t *status_check(const struct hc_check *c)
{
	const struct hc_check_conf *conf = c->conf;
	json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:i,s:i,s:I,s:I,s:I}", "name", conf->name, "type",
			      hc_check_type_str(conf->type), "state", check_state_str(c->state), "counter", c->counter,
			      "rise", (int)conf->rise, "fall", (int)conf->fall, "interval_ms",
			      (json_int_t)conf->interval_ms, "timeout_ms", (json_int_t)conf->timeout_ms,
			      "since_ms", (json_int_t)c->state_since_ms);

	if (!o)
		return NULL;
	json_object_set_new(o, "reason", c->state == CHECK_PASSING || !c->reason[0] ? json_null()
										 : json_string(c->reason));
	json_object_set_new(o, "last_failure", c->reason[0] ? json_string(c->reason) : json_null());
	json_object_set_new(o, "warning", c->warning[0] ? json_string(c->warning) : json_null());
	json_object_set_new(o, "last_result", c->last_run_ms ? json_string(hc_result_str(c->last_result))
							   : json_null());
	json_object_set_new(o, "last_run_ms", c->last_run_ms ? json_integer((json_int_t)c->last_run_ms)
							     : json_null());
	json_object_set_new(o, "results", json_pack("{s:I,s:I,s:I}", "pass", (json_int_t)c->results[HC_RESULT_PASS],
						    "fail", (json_int_t)c->results[HC_RESULT_FAIL], "timeout",
						    (json_int_t)c->results[HC_RESULT_TIMEOUT]));
	json_object_set_new(o, "transitions", json_integer((json_int_t)c->transitions));
	json_object_set_new(o, "latency", status_latency(c));
	json_object_set_new(o, "anomaly",
			    json_pack("{s:b,s:I,s:f,s:o,s:f,s:i,s:b}", "active", c->stats.anomaly, "since_ms",
				      (json_int_t)c->stats.anomaly_since_ms, "score", c->stats.last_score,
				      "baseline_median_s", json_seconds(c->stats.baseline_median), "k",
				      c->stats.k, "m", (int)c->stats.m, "fails_check", conf->anomaly_fails));
	if (conf->type == HC_CHECK_HTTPS)
		json_object_set_new(o, "cert_expiry", c->cert_expiry ? json_integer((json_int_t)c->cert_expiry)
								      : json_null());
	return o;
}

static json_t *status_feed(const struct feed *feed)
{
	struct feed_stats fs;

	if (!feed)
		return json_null();
	feed_get_stats(feed, &fs);
	return json_pack("{s:s,s:b,s:I,s:I,s:I,s:I}", "socket", feed_path(feed), "connected", fs.connected,
			 "lines_sent", (json_int_t)fs.lines_sent, "lines_replaced", (json_int_t)fs.lines_replaced,
			 "connects", (json_int_t)fs.connects, "drops", (json_int_t)fs.drops);
}

static json_t *status_root(const struct engine *engine, const struct feed *feed, uint64_t start_ms)
{
	json_t *root, *checks = json_array();
	uint64_t now = clock_real_ms();

	for (size_t i = 0; i < engine_n_checks(engine); i++)
		json_array_append_new(checks, status_check(engine_check(engine, i)));
	root = json_pack("{s:i,s:{s:s,s:i,s:I,s:I},s:b,s:I,s:o,s:o}", "schema_version", SERVE_SCHEMA_VERSION,
			 "agent", "version", FO_VERSION, "pid", (int)getpid(), "start_ms", (json_int_t)start_ms,
			 "uptime_ms", (json_int_t)(now - start_ms), "ready", engine_ready(engine), "time_ms",
			 (json_int_t)now, "feed", status_feed(feed), "checks", checks);
	return root;
}

static char *dump(json_t *root)
{
	char *text = root ? jsontext_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
	char *with_nl = NULL;

	json_decref(root);
	if (text && asprintf(&with_nl, "%s\n", text) < 0)
		with_nl = NULL;
	free(text);
	return with_nl;
}

char *serve_render_status(const struct engine *engine, const struct feed *feed, uint64_t start_ms)
{
	return dump(status_root(engine, feed, start_ms));
}

static char *render_status_all(const struct serve *s)
{
	json_t *root = status_root(s->engine, s->feed, s->start_ms);

	if (root)
		json_object_set_new(root, "resources", s->sampler ? sampler_status_json(s->sampler) : json_null());
	return dump(root);
}

/* ---- requests ---- */

struct query {
	bool verbose;
	size_t n_exclude;
	const char *exclude[SERVE_MAX_EXCLUDE];
};

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query *q = cls;

	if (strcmp(key, "verbose") == 0)
		q->verbose = !value || strcmp(value, "0") != 0;
	else if (strcmp(key, "exclude") == 0 && value && q->n_exclude < SERVE_MAX_EXCLUDE)
		q->exclude[q->n_exclude++] = value;
	return MHD_YES;
}

static enum MHD_Result route(struct serve *s, struct MHD_Connection *conn, const char *url)
{
	static const char text_type[] = "text/plain; charset=utf-8";
	struct query q = {0};
	unsigned status = 200;
	char *body;

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_arg, &q);
	if (strcmp(url, "/livez") == 0 || strcmp(url, "/healthz") == 0)
		return httpd_ev_reply(conn, 200, text_type, strdup("ok\n"));
	if (strcmp(url, "/readyz") == 0 || strncmp(url, "/readyz/", 8) == 0) {
		body = serve_render_readyz(s->engine, url[7] ? url + 8 : NULL, q.verbose, q.exclude, q.n_exclude,
					   &status);
		return httpd_ev_reply(conn, status, text_type, body);
	}
	if (strcmp(url, "/metrics") == 0)
		return httpd_ev_reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", render_metrics_all(s));
	if (strcmp(url, "/status") == 0)
		return httpd_ev_reply(conn, 200, "application/json", render_status_all(s));
	return httpd_ev_reply(conn, 404, text_type, strdup("not found: /livez /readyz /readyz/<check> /metrics /status\n"));
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			       const char *version, const char *upload_data, size_t *upload_data_size,
			       void **req_cls)
{
	enum MHD_Result result;

	if (!httpd_ev_accept(conn, method, upload_data_size, req_cls, &result))
		return result;
	return route(cls, conn, url);
}

/* ---- MHD ---- */

struct serve *serve_new(struct ev_loop *loop, const char *host, uint16_t port)
{
	struct serve *s = calloc(1, sizeof(*s));
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	const struct httpd_guard_limits limits = {
		.max_connections = SERVE_MAX_CONNECTIONS,
		.per_address = SERVE_PER_ADDRESS_CONNECTIONS,
		.deadline_s = SERVE_DEADLINE_S,
	};
	struct MHD_Daemon *d;

	if (!s)
		return NULL;
	s->guard = httpd_guard_new(loop, &limits, "http server");
	if (!s->guard) {
		free(s);
		return NULL;
	}
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		flags |= MHD_USE_IPv6;
	} else {
		serve_free(s);
		return NULL;
	}
	s->start_ms = clock_real_ms();
	d = MHD_start_daemon(flags, port, NULL, NULL, handler, s, MHD_OPTION_EXTERNAL_LOGGER, httpd_ev_log, (void *)"http server",
			     MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_ARRAY, httpd_guard_options(s->guard), MHD_OPTION_END);
	s->httpd = httpd_ev_new(loop, d);
	if (!s->httpd) {
		log_err("cannot serve on %s:%u: %s", host, port, strerror(errno));
		serve_free(s);
		return NULL;
	}
	s->port = httpd_ev_port(s->httpd);
	if (!s->port)
		s->port = port;
	log_info("serving /livez /readyz /metrics /status on %s%s%s:%u", strchr(host, ':') ? "[" : "", host,
		 strchr(host, ':') ? "]" : "", s->port);
	return s;
}

void serve_free(struct serve *s)
{
	if (!s)
		return;
	httpd_ev_free(s->httpd);
	httpd_guard_free(s->guard);
	free(s);
}

void serve_set_engine(struct serve *s, const struct engine *engine)
{
	s->engine = engine;
}

void serve_set_feed(struct serve *s, const struct feed *feed)
{
	s->feed = feed;
}

void serve_set_sampler(struct serve *s, const struct sampler *sampler)
{
	s->sampler = sampler;
}

uint16_t serve_port(const struct serve *s)
{
	return s->port;
}
