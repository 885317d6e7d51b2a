/* The cluster status as one JSON document (schema in conf/status.schema.json):
 * what fomctl status, the /status endpoint and tests read. Built from the view,
 * the placement and this node's transitions; no I/O. */
#ifndef FOMGR_STATUS_H
#define FOMGR_STATUS_H

#include <jansson.h>

#include "config.h"
#include "history.h"
#include "placement.h"
#include "transition.h"
#include "view.h"

#define STATUS_SCHEMA_VERSION 1
#define STATUS_MAX_TRANSITIONS 32   /* this node's transitions the executor keeps */
/* The newest ones the document carries (fomctl status shows them): a bounded
 * document whatever the executor keeps; every node's are in fomctl history. */
#define STATUS_RECENT_TRANSITIONS 10

struct status_transition {
	char group[CONFIG_NAME_MAX], from[CONFIG_NAME_MAX], to[CONFIG_NAME_MAX];
	enum transition_reason reason;
	int acquired, error;
	double took_ms;
	uint64_t realtime_ms;
	uint64_t seq;
};

/* Whether this node's corosync serves it (ringwatch.c) and whether it withdrew
 * from the ring for a bridge partition (pairwatch.c). */
struct status_ring {
	uint32_t stall_bound_ms;
	int stalled;                /* corosync does not answer now */
	int fenced;                 /* released for a stall; waiting for a ring to trust */
	const char *withdrawn_from; /* the peer of a broken pair, NULL when in the ring */
	int isolated;               /* our links reach no majority: every group released */
	uint64_t stalls, withdrawals, isolations;
};

/* What the manager knows besides view and config. */
struct status_input {
	const struct config *config;
	const struct view *view;
	const struct placement *placement;
	const struct transition *transition;
	int joined;
	int two_node_no_tiebreaker;
	int corosync_crypto;
	int health_stale;
	uint32_t expected_votes;
	const struct status_ring *ring; /* NULL: not known yet */
	/* Per group (config order): how long this node's failback delay still runs
	 * (node_failback_left_ms), for the why of a more preferred node; 0 unknown. */
	uint64_t failback_left_ms[CONFIG_MAX_GROUPS];
	size_t n_transitions; /* newest last */
	const struct status_transition *transitions;
	uint64_t now_ms, started_ms;   /* Unix ms: the document's time, this fomgr's start */
	const struct history *history; /* its newest entry is the last change; NULL: none */
};

/* A new JSON object; the caller json_decref()s it. Its "transitions" are shared
 * with the documents built before and after it (see status.c): read them, do not
 * change them. */
json_t *status_build(const struct status_input *in);
/* The same event as one JSON object, as fomctl events streams it. */
json_t *status_transition_json(const struct status_transition *t);

#endif
