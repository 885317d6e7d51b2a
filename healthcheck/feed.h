/* Feeding fomgr: a non-blocking connection to fomgr's unix stream socket carrying
 * healthwire lines (include/fo/healthwire.h), a full snapshot of every check on each
 * state change and every heartbeat. The loop never waits on fomgr: at most one line is
 * in flight and one queued (the newest snapshot replaces an older queued one); when
 * fomgr stops reading for longer than the stall bound, the connection is dropped and
 * made again, with backoff. */
#ifndef HC_FEED_H
#define HC_FEED_H

#include "engine.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#define FEED_BACKOFF_MIN_MS 100
#define FEED_BACKOFF_MAX_MS 5000
#define FEED_STALL_MIN_MS 1000 /* stall bound: the larger of this and 2 heartbeats */

struct feed;

struct feed_stats {
	bool connected;
	uint64_t lines_sent;   /* complete lines written */
	uint64_t lines_replaced; /* queued snapshots superseded before they were sent */
	uint64_t connects;     /* successful connections */
	uint64_t drops;        /* connections closed: peer gone, error or stall */
};

/* Starts connecting to path; returns NULL when out of memory. */
struct feed *feed_new(struct ev_loop *loop, const char *path, uint32_t heartbeat_ms);
void feed_free(struct feed *feed);

/* The engine whose checks are reported; on reload, the new one (a snapshot is sent). */
void feed_set_engine(struct feed *feed, const struct engine *engine);

/* A check changed state: a snapshot goes out before the loop next waits (changes
 * made in the same loop turn share one). Signature of engine_observer_fn. */
void feed_on_change(void *feed, const struct hc_check *check, enum check_state old_state);

void feed_get_stats(const struct feed *feed, struct feed_stats *out);
const char *feed_path(const struct feed *feed);

/* Encodes the engine's snapshot as one healthwire line into buf (size at least
 * HEALTHWIRE_MAX_LINE + 1). Returns its length or a negative errno. */
int feed_encode_snapshot(const struct engine *engine, uint64_t seq, uint32_t interval_ms, char *buf,
			 size_t size);

#endif
