/* Scheduling, timeouts and the one sink. A check never overlaps itself: the next run
 * is scheduled only when the current one has ended (by its kind, or by the engine's
 * timeout, which cancels it). Runs keep a fixed rate from their first start, so the
 * start jitter spreads checks once and they stay spread. */
#include "engine.h"

#include "check_file.h"
#include "check_http.h"
#include "check_process.h"
#include "check_script.h"
#include "check_tcp.h"
#include "fo/clock.h"
#include "fo/log.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ENGINE_MAX_OBSERVERS 4
/* Runs start on a grid of ticks, so that runs due close together share one wakeup
 * of the loop: a wakeup costs more than a run's own work (on a 2-core VM, 1000 checks
 * a second spread over the second cost twice the CPU of the same checks in batches of
 * ten). The tick holds about ENGINE_RUNS_PER_TICK runs, within bounds: no run starts
 * more than ENGINE_TICK_MAX after its time. */
#define ENGINE_RUNS_PER_TICK 10.0
#define ENGINE_TICK_MIN 0.001
#define ENGINE_TICK_MAX 0.010
/* At most about this many checks make their first run in a second. Every first run
 * opens a connection; 1000 checks at 100 ms opening theirs within 0.1 s put the agent
 * behind (hundreds of runs timed out and in flight at once, each with a libcurl
 * handle and a 16 KB buffer, and the heap kept that peak: 31.5 MB against 18.5 MB
 * for the same checks at 1 s), 10000 at 1 s as much. */
#define ENGINE_FIRST_RUNS_PER_S 1000.0

static const char *const result_names[HC_RESULT_MAX] = {"pass", "fail", "timeout"};

/* The table of kinds, indexed by the config's check type. */
static const struct check_kind *const kinds[HC_CHECK_TYPE_MAX] = {
	[HC_CHECK_HTTP] = &check_http_kind,       [HC_CHECK_HTTPS] = &check_http_kind,
	[HC_CHECK_TCP] = &check_tcp_kind,         [HC_CHECK_SCRIPT] = &check_script_kind,
	[HC_CHECK_PROCESS] = &check_process_kind, [HC_CHECK_FILE] = &check_file_kind,
};

struct observer {
	engine_observer_fn fn;
	void *arg;
};

struct engine {
	struct ev_loop *loop;
	struct hc_config *cfg;
	size_t n_checks;
	struct hc_check *checks;
	void *shared[HC_CHECK_TYPE_MAX];
	ev_tstamp epoch, tick; /* the grid runs start on */
	size_t n_observers;
	struct observer observers[ENGINE_MAX_OBSERVERS];
};

const char *hc_result_str(enum hc_result result)
{
	return result < HC_RESULT_MAX ? result_names[result] : "invalid";
}

/* ---- the sink ---- */

static void notify(struct hc_check *c, enum check_state old)
{
	struct engine *e = c->engine;

	if (!e)
		return;
	for (size_t i = 0; i < e->n_observers; i++)
		e->observers[i].fn(e->observers[i].arg, c, old);
}

/* The one signed counter: passes push it up, failures down; the state follows when
 * it reaches rise or -fall. Unknown needs the same counts to become either. */
static enum check_state hysteresis(struct hc_check *c, bool pass)
{
	int limit = (int)(c->conf->rise > c->conf->fall ? c->conf->rise : c->conf->fall);

	if (pass)
		c->counter = c->counter > 0 ? c->counter + 1 : 1;
	else
		c->counter = c->counter < 0 ? c->counter - 1 : -1;
	if (c->counter > limit)
		c->counter = limit;
	if (c->counter < -limit)
		c->counter = -limit;
	if (c->counter >= (int)c->conf->rise)
		return CHECK_PASSING;
	if (c->counter <= -(int)c->conf->fall)
		return CHECK_FAILING;
	return c->state;
}

static void log_anomaly(const struct hc_check *c)
{
	const struct stats *st = &c->stats;

	if (st->anomaly)
		log_warn("check %s: latency anomaly raised: %.6fs against a baseline median of %.6fs (%.1f robust "
			 "deviations, threshold %.1f)%s",
			 c->conf->name, st->last, st->baseline_median, st->last_score, st->k,
			 c->conf->anomaly_fails ? "; the check fails while it lasts" : "");
	else
		log_info("check %s: latency anomaly cleared: %.6fs, baseline median %.6fs", c->conf->name, st->last,
			 st->baseline_median);
}

int engine_apply_result(struct hc_check *c, enum hc_result result, const char *reason, double latency_s,
			uint64_t now_ms)
{
	const struct hc_check_conf *conf = c->conf;
	enum check_state old = c->state, next;
	char anomaly_reason[HC_REASON_MAX];

	if (result == HC_RESULT_PASS && latency_s >= 0 && stats_add(&c->stats, latency_s, now_ms))
		log_anomaly(c);
	if (result == HC_RESULT_PASS && conf->anomaly_fails && c->stats.anomaly) {
		snprintf(anomaly_reason, sizeof(anomaly_reason), "latency anomaly: %.6fs against a baseline of %.6fs",
			 c->stats.last, c->stats.baseline_median);
		result = HC_RESULT_FAIL;
		reason = anomaly_reason;
	}
	c->results[result]++;
	c->last_result = result;
	c->last_run_ms = now_ms;
	if (result != HC_RESULT_PASS) {
		/* the failures that lead to a decision at info, the rest at debug */
		enum log_level level = c->state == CHECK_FAILING ? LOG_LVL_DEBUG : LOG_LVL_INFO;

		log_msg(level, "check %s: %s (%d/%u): %s", conf->name, result_names[result],
			c->counter < 0 ? -c->counter + 1 : 1, conf->fall, reason);
		snprintf(c->reason, sizeof(c->reason), "%s", reason);
	}
	next = hysteresis(c, result == HC_RESULT_PASS);
	if (next == old)
		return 0;
	c->state = next;
	c->state_since_ms = now_ms;
	c->transitions++;
	if (next == CHECK_PASSING)
		log_info("check %s: %s -> passing after %d passes", conf->name, check_state_str(old), c->counter);
	else
		log_warn("check %s: %s -> failing after %d failures: %s", conf->name, check_state_str(old), -c->counter,
			 c->reason);
	notify(c, old);
	return 1;
}

/* The first tick at or after t. */
static ev_tstamp on_tick(const struct engine *e, ev_tstamp t)
{
	if (e->tick <= 0 || t <= e->epoch)
		return t;
	return e->epoch + ceil((t - e->epoch) / e->tick - 1e-6) * e->tick;
}

/* Starts the run timer for the run due at c->scheduled (which stays off the grid, so
 * the rate is exactly the interval). */
static void arm_run(struct hc_check *c, ev_tstamp now)
{
	ev_tstamp delay = on_tick(c->engine, c->scheduled) - now;

	ev_timer_set(&c->run_timer, delay > 0 ? delay : 0, 0);
	ev_timer_start(c->engine->loop, &c->run_timer);
}

static void schedule_next(struct hc_check *c)
{
	ev_tstamp interval = c->conf->interval_ms / 1000.0;
	ev_tstamp next = c->scheduled + interval;
	ev_tstamp now = ev_now(c->engine->loop);

	/* fixed rate; when a run took longer than the interval, start again at once
	 * but keep the phase */
	if (next < now)
		next += ceil((now - next) / interval) * interval;
	c->scheduled = next;
	arm_run(c, now);
}

/* About ENGINE_RUNS_PER_TICK runs per tick at the configured rate, within bounds. */
static ev_tstamp tick_for(const struct hc_config *cfg)
{
	double runs_per_s = 0, tick;

	for (size_t i = 0; i < cfg->n_checks; i++)
		runs_per_s += 1000.0 / (cfg->checks[i].interval_ms ? cfg->checks[i].interval_ms : 1);
	tick = runs_per_s > 0 ? ENGINE_RUNS_PER_TICK / runs_per_s : ENGINE_TICK_MAX;
	return fmin(fmax(tick, ENGINE_TICK_MIN), ENGINE_TICK_MAX);
}

void engine_check_done(struct hc_check *c, enum hc_result result, const char *fmt, ...)
{
	char reason[HC_REASON_MAX];
	double latency_s;
	va_list ap;

	if (!c->running)
		return;
	c->running = false;
	latency_s = (double)(clock_mono_us() - c->started_us) / 1e6;
	ev_timer_stop(c->engine->loop, &c->timeout_timer);
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (result != HC_RESULT_PASS && !reason[0])
		snprintf(reason, sizeof(reason), "failed");
	engine_apply_result(c, result, reason, latency_s, clock_real_ms());
	schedule_next(c);
}

void engine_check_pass(struct hc_check *c)
{
	engine_check_done(c, HC_RESULT_PASS, "%s", "");
}

void engine_check_warn(struct hc_check *c, const char *fmt, ...)
{
	char warning[HC_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(warning, sizeof(warning), fmt, ap);
	va_end(ap);
	if (strcmp(warning, c->warning) == 0)
		return;
	if (warning[0])
		log_warn("check %s: %s", c->conf->name, warning);
	else
		log_info("check %s: warning cleared (was: %s)", c->conf->name, c->warning);
	snprintf(c->warning, sizeof(c->warning), "%s", warning);
}

/* ---- runs and timeouts ---- */

static void run_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hc_check *c = w->data;

	if (c->running) /* cannot happen: the next run is scheduled by the end of this one */
		return;
	c->running = true;
	c->started_us = clock_mono_us();
	ev_timer_set(&c->timeout_timer, c->conf->timeout_ms / 1000.0, 0);
	ev_timer_start(loop, &c->timeout_timer);
	kinds[c->conf->type]->start(c);
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hc_check *c = w->data;
	const struct check_kind *kind = kinds[c->conf->type];
	char progress[160] = "";

	if (!c->running)
		return;
	if (kind->progress)
		kind->progress(c, progress, sizeof(progress));
	kind->cancel(c);
	engine_check_done(c, HC_RESULT_TIMEOUT, "timeout after %u ms%s%s%s", c->conf->timeout_ms,
			  progress[0] ? " (" : "", progress, progress[0] ? ")" : "");
}

void engine_check_init_state(struct hc_check *c, const struct hc_check_conf *conf)
{
	memset(c, 0, sizeof(*c));
	c->conf = conf;
	c->state = CHECK_UNKNOWN;
	c->state_since_ms = clock_real_ms();
	stats_init(&c->stats, conf->anomaly_k, conf->anomaly_m);
}

/* A reload keeps what was learned about a check that is still the same check. */
static void carry_over(struct hc_check *c, const struct hc_check *old)
{
	c->state = old->state;
	c->counter = old->counter;
	memcpy(c->reason, old->reason, sizeof(c->reason));
	memcpy(c->warning, old->warning, sizeof(c->warning));
	c->last_result = old->last_result;
	c->last_run_ms = old->last_run_ms;
	c->state_since_ms = old->state_since_ms;
	memcpy(c->results, old->results, sizeof(c->results));
	c->transitions = old->transitions;
	c->stats = old->stats;
	c->stats.k = c->conf->anomaly_k;
	c->stats.m = c->conf->anomaly_m;
	c->cert_expiry = old->cert_expiry;
	/* the counter must stay within the new rise/fall */
	if (c->counter > (int)c->conf->rise && c->counter > (int)c->conf->fall)
		c->counter = (int)(c->conf->rise > c->conf->fall ? c->conf->rise : c->conf->fall);
	if (-c->counter > (int)c->conf->rise && -c->counter > (int)c->conf->fall)
		c->counter = -(int)(c->conf->rise > c->conf->fall ? c->conf->rise : c->conf->fall);
}

static int setup_kinds(struct engine *e)
{
	for (size_t i = 0; i < e->cfg->n_checks; i++) {
		enum hc_check_type t = e->cfg->checks[i].type;
		const struct check_kind *kind = kinds[t];

		if (!kind->setup || e->shared[t])
			continue;
		/* http and https share one state: one multi handle, one connection cache */
		for (int j = 0; j < HC_CHECK_TYPE_MAX; j++)
			if (kinds[j] == kind && e->shared[j])
				e->shared[t] = e->shared[j];
		if (e->shared[t])
			continue;
		e->shared[t] = kind->setup(e);
		if (!e->shared[t])
			return -ENOMEM;
	}
	return 0;
}

struct engine *engine_new(struct ev_loop *loop, struct hc_config *cfg, const struct engine *previous)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (!e) {
		hcconfig_free(cfg);
		return NULL;
	}
	e->loop = loop;
	e->cfg = cfg;
	e->tick = tick_for(cfg);
	e->checks = calloc(cfg->n_checks ? cfg->n_checks : 1, sizeof(*e->checks));
	if (!e->checks || setup_kinds(e) < 0)
		goto fail;
	for (size_t i = 0; i < cfg->n_checks; i++) {
		struct hc_check *c = &e->checks[i];
		const struct hc_check *old = previous ? engine_find(previous, cfg->checks[i].name) : NULL;

		engine_check_init_state(c, &cfg->checks[i]);
		c->engine = e;
		if (old && hcconfig_check_same_kind(old->conf, c->conf))
			carry_over(c, old);
		ev_timer_init(&c->run_timer, run_cb, 0, 0);
		ev_timer_init(&c->timeout_timer, timeout_cb, 0, 0);
		/* Work in flight before new work: when the loop falls behind (every check
		 * opening its connection in the first interval), answers that arrived are
		 * read before more runs start or runs are timed out, so runs in flight
		 * do not pile up. libev invokes a turn's higher priorities first. */
		ev_set_priority(&c->run_timer, -1);
		ev_set_priority(&c->timeout_timer, -1);
		c->run_timer.data = c;
		c->timeout_timer.data = c;
		if (kinds[c->conf->type]->init(c) < 0)
			goto fail;
		e->n_checks++;
	}
	return e;
fail:
	log_err("cannot set up the checks: out of memory or resources");
	engine_free(e);
	return NULL;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n_checks; i++) {
		struct hc_check *c = &e->checks[i];
		const struct check_kind *kind = kinds[c->conf->type];

		if (c->running)
			kind->cancel(c);
		ev_timer_stop(e->loop, &c->run_timer);
		ev_timer_stop(e->loop, &c->timeout_timer);
		kind->free(c);
	}
	for (int t = 0; t < HC_CHECK_TYPE_MAX; t++) {
		if (!e->shared[t])
			continue;
		kinds[t]->teardown(e->shared[t]);
		for (int j = t + 1; j < HC_CHECK_TYPE_MAX; j++)
			if (e->shared[j] == e->shared[t])
				e->shared[j] = NULL;
		e->shared[t] = NULL;
	}
	free(e->checks);
	hcconfig_free(e->cfg);
	free(e);
}

double engine_first_window_s(size_t n_checks, uint32_t jitter_ms)
{
	double jitter = jitter_ms / 1000.0, spread = (double)n_checks / ENGINE_FIRST_RUNS_PER_S;

	return jitter_ms && spread > jitter ? spread : jitter;
}

void engine_start(struct engine *e)
{
	ev_tstamp now = ev_now(e->loop);

	srandom((unsigned)(getpid() ^ clock_mono_us()));
	e->epoch = now;
	for (size_t i = 0; i < e->n_checks; i++) {
		struct hc_check *c = &e->checks[i];
		long window_ms = lround(1000.0 * engine_first_window_s(e->n_checks, c->conf->jitter_ms));
		ev_tstamp delay = window_ms ? (random() % (window_ms + 1)) / 1000.0 : 0;

		c->scheduled = now + delay;
		arm_run(c, now);
	}
	if (e->n_checks && e->n_checks > ENGINE_FIRST_RUNS_PER_S)
		log_info("started %zu checks; the first runs of those with a jitter spread over %.1f s at least "
			 "(about %.0f new connections a second)",
			 e->n_checks, e->n_checks / ENGINE_FIRST_RUNS_PER_S, ENGINE_FIRST_RUNS_PER_S);
	else
		log_info("started %zu checks", e->n_checks);
}

int engine_observe(struct engine *e, engine_observer_fn fn, void *arg)
{
	if (e->n_observers == ENGINE_MAX_OBSERVERS)
		return -ENOSPC;
	e->observers[e->n_observers++] = (struct observer){fn, arg};
	return 0;
}

struct ev_loop *engine_loop(const struct engine *e)
{
	return e->loop;
}

const struct hc_config *engine_config(const struct engine *e)
{
	return e->cfg;
}

size_t engine_n_checks(const struct engine *e)
{
	return e->n_checks;
}

struct hc_check *engine_check(const struct engine *e, size_t index)
{
	return index < e->n_checks ? &e->checks[index] : NULL;
}

struct hc_check *engine_find(const struct engine *e, const char *name)
{
	for (size_t i = 0; i < e->n_checks; i++)
		if (strcmp(e->checks[i].conf->name, name) == 0)
			return &e->checks[i];
	return NULL;
}

void *engine_kind_shared(const struct engine *e, enum hc_check_type type)
{
	return type < HC_CHECK_TYPE_MAX ? e->shared[type] : NULL;
}

bool engine_ready(const struct engine *e)
{
	for (size_t i = 0; i < e->n_checks; i++)
		if (e->checks[i].state != CHECK_PASSING)
			return false;
	return true;
}
