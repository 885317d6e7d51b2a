/* The executor: carries out what the core (node_step) decided, in a fixed order:
 * the failover path first (addresses, ARP probes, GARP / NA bursts, announces, the
 * core's timers, the ring's trust, the fence), then logs, audit records, the admin
 * state on disk, events for the listeners and an operator's answer, then the exit
 * of a shutdown. What comes back (netlink completions, probe results, timers,
 * failures to send or to fence) goes to the core through ops->feed.
 *
 * It owns what carrying out needs to keep: each group slot's requests and burst,
 * the core's timers, the recent transitions, the cluster's history (whose new
 * entries it streams to the listeners), the audit-log writer's state. The
 * manager owns the rest and keeps env current. */
#ifndef FOMGR_EXECUTOR_H
#define FOMGR_EXECUTOR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "auditlog.h"
#include "status.h"

struct ev_loop;
struct config;
struct node;
struct vip;
struct membership;
struct audit;
struct ringwatch_sample;
struct node_event;
struct effects;
struct view_node;

/* The manager's parts the executor works with; a pointer may be NULL until the
 * part starts (node, vip, membership, audit, auditlog). */
struct executor_env {
	struct ev_loop *loop;
	struct config *config;
	struct node *node;
	struct vip *vip;
	struct membership *membership;
	struct audit *audit;
	struct auditlog *auditlog;
	const struct ringwatch_sample *sample; /* the newest link states, for the fence */
	const char *admin_path;                /* the admin state's file */
};

struct executor_ops {
	/* An event for the core (the manager queues it if effects are running). */
	int (*feed)(void *arg, const struct node_event *ev);
	/* An event for the listeners (control clients); event is consumed. */
	void (*emit)(void *arg, const char *type, json_t *event);
	/* This node joined its CPG group. */
	void (*joined)(void *arg);
};

typedef void (*executor_reply_fn)(void *arg, int rc);

struct executor;

/* env and ops must outlive the executor. NULL with errno. */
struct executor *executor_new(const struct executor_env *env, const struct executor_ops *ops, void *arg);
/* Carries out fx, in the order above. */
void executor_run(struct executor *x, const struct effects *fx);
/* Stops the bursts and timers; completions that arrive afterwards (vip_free
 * cancelling its requests) change nothing. */
void executor_close(struct executor *x);
void executor_free(struct executor *x);

/* at_us for executor_record(): the record is written before it returns. */
#define EXECUTOR_RECORD_NOW UINT64_MAX
/* One audit record; fields is consumed. The failover path's records (at_us: the
 * monotonic time of their event, 0 for now) are queued, to be written once the
 * event has been handled; start, stop and configuration records
 * (EXECUTOR_RECORD_NOW) are written before the change is carried out. A record
 * that cannot be written or queued is logged (once per streak). 0 or -errno. */
int executor_record(struct executor *x, enum auditlog_type type, json_t *fields, uint64_t at_us);
/* A peer's announce, as the audit compares it with ours (drift, versions). */
void executor_peer_state(struct executor *x, const struct view_node *n);

/* An operator's request: begin before feeding it; saved_rc is what persisting it
 * returned (-EIO when it was not persisted); reply_to names who hears the end. */
void executor_request_begin(struct executor *x);
int executor_request_saved_rc(const struct executor *x);
void executor_reply_to(struct executor *x, executor_reply_fn done, void *arg);

/* For the status document. */
const struct status_transition *executor_transitions(const struct executor *x, size_t *n);
/* The cluster's history (history.h), as the announces delivered so far made it;
 * NULL when it could not be allocated. */
struct history;
const struct history *executor_history(const struct executor *x);
uint64_t executor_withdrawals(const struct executor *x);

#endif
