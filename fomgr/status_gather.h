/* The status document of this running node, gathered from the modules that each
 * know a part of it: the core (view, placement, transitions, failback delays,
 * corosync's settings), the ring watch, the executor (recent transitions, the
 * history, withdrawals), the quorum device's watch, the audit and the conflict
 * watcher. status.c builds the document; this only collects its input. */
#ifndef FOMGR_STATUS_GATHER_H
#define FOMGR_STATUS_GATHER_H

#include <jansson.h>
#include <stdint.h>

struct config;
struct node;
struct ringwatch;
struct executor;
struct qdevice_watch;
struct audit;
struct conflict;

/* Each may be NULL until its module starts, except executor and qdevice. */
struct status_sources {
	const struct config *config;
	const struct node *node;
	const struct ringwatch *ringwatch;
	const struct executor *executor;
	const struct qdevice_watch *qdevice;
	const struct audit *audit;
	const struct conflict *conflict;
	int health_stale; /* health_stale() of the agent's stream */
	/* What the modules around the manager add to a running node's document (a
	 * refused reload, ...); NULL: nothing. */
	void (*extra)(void *arg, json_t *status);
	void *extra_arg;
};

/* A new document (the caller json_decref()s it): the short 'starting' form until
 * config and node are there. now_us: monotonic; now_ms: Unix. */
json_t *status_gather(const struct status_sources *s, uint64_t now_us, uint64_t now_ms);

#endif
