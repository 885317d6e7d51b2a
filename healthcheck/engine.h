/* The check engine: one libev loop runs every check on its own schedule through a
 * table of check kinds that share one small interface. Every result, whatever its
 * kind, ends in engine_check_done(), the one sink that applies rise/fall, logs the
 * change with its reason, updates statistics and tells the observers (the feeder).
 * The engine owns its config and each check's cached state, which the server reads. */
#ifndef HC_ENGINE_H
#define HC_ENGINE_H

#include "fo/checkstate.h"
#include "hcconfig.h"
#include "stats.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#define HC_REASON_MAX 256

enum hc_result { HC_RESULT_PASS, HC_RESULT_FAIL, HC_RESULT_TIMEOUT, HC_RESULT_MAX };

const char *hc_result_str(enum hc_result result);

struct engine;

struct hc_check {
	const struct hc_check_conf *conf; /* owned by the engine's config */
	struct engine *engine;            /* NULL in unit tests of the sink */
	void *kind_state;                 /* the kind's per-check state */
	ev_timer run_timer;               /* next run */
	ev_timer timeout_timer;           /* the run in flight */
	bool running;
	uint64_t started_us;              /* monotonic, of the run in flight */
	ev_tstamp scheduled;              /* loop time the run in flight was due */

	/* Cached state, read by serve and feed; written only by the sink. */
	enum check_state state;
	int counter;                      /* >0: passes in a row, <0: failures in a row */
	char reason[HC_REASON_MAX];       /* of the last failure ("" if none yet) */
	char warning[HC_REASON_MAX];      /* e.g. certificate expiry; "" if none */
	enum hc_result last_result;
	uint64_t last_run_ms;             /* wall clock, 0: never */
	uint64_t state_since_ms;          /* wall clock of the last state change */
	uint64_t results[HC_RESULT_MAX];  /* counts since start (kept over reloads) */
	uint64_t transitions;
	double cert_expiry;               /* https: server certificate notAfter (unix), 0: unknown */
	struct stats stats;
};

/* The interface every check kind implements (one file each: check_http.c, ...). */
struct check_kind {
	const char *name;
	/* Optional state shared by every check of this kind in one engine (curl's multi
	 * handle); setup returns NULL on failure. */
	void *(*setup)(struct engine *engine);
	void (*teardown)(void *shared);
	int (*init)(struct hc_check *check);   /* per-check state; 0 or -errno */
	/* Begins one run, which ends with exactly one engine_check_done(), possibly
	 * before start returns. */
	void (*start)(struct hc_check *check);
	/* Abandons the run in flight without reporting it (the engine reports). */
	void (*cancel)(struct hc_check *check);
	/* Optional: what the run in flight got so far, for a timeout's reason. */
	void (*progress)(struct hc_check *check, char *buf, size_t size);
	void (*free)(struct hc_check *check);
};

typedef void (*engine_observer_fn)(void *arg, const struct hc_check *check, enum check_state old_state);

/* Takes ownership of cfg. A check of `previous` with the same name and type hands
 * its state, counters and statistics to the new one (a reload does not reset health).
 * Returns NULL on allocation failure or when a kind cannot set up. */
struct engine *engine_new(struct ev_loop *loop, struct hc_config *cfg, const struct engine *previous);
void engine_free(struct engine *engine);

/* Schedules every check, each after a random delay within its jitter. */
void engine_start(struct engine *engine);
/* The window a check's first run starts in, at random: its jitter (0: at once), or
 * when that would have more than about 1000 checks start a second, n_checks / 1000
 * seconds (10000 checks: 10 s). Runs keep their rate from the first. Pure. */
double engine_first_window_s(size_t n_checks, uint32_t jitter_ms);

/* Called on every state change (at most 4 observers). */
int engine_observe(struct engine *engine, engine_observer_fn fn, void *arg);

struct ev_loop *engine_loop(const struct engine *engine);
const struct hc_config *engine_config(const struct engine *engine);
size_t engine_n_checks(const struct engine *engine);
struct hc_check *engine_check(const struct engine *engine, size_t index);
struct hc_check *engine_find(const struct engine *engine, const char *name);
void *engine_kind_shared(const struct engine *engine, enum hc_check_type type);
/* Every check passing: the node may hold what depends on them. */
bool engine_ready(const struct engine *engine);

/* The sink: the run in flight ended. The reason is printf-style, "" for a pass. A
 * call for a check not running (late, after a timeout) is ignored. */
void engine_check_done(struct hc_check *check, enum hc_result result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The sink for a pass. */
void engine_check_pass(struct hc_check *check);

/* Sets (or with "" clears) a check's warning; logged when it changes. */
void engine_check_warn(struct hc_check *check, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The decision part of the sink, without timers: rise/fall on the one signed
 * counter, statistics, anomaly, log and observers. latency_s < 0: no sample.
 * Returns 1 when the state changed. Unit tests drive it with a simulated clock. */
int engine_apply_result(struct hc_check *check, enum hc_result result, const char *reason, double latency_s,
			uint64_t now_ms);

/* Initialises a check's cached state for conf (also used by unit tests). */
void engine_check_init_state(struct hc_check *check, const struct hc_check_conf *conf);

#endif
