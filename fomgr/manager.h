/* The manager wires one node's modules together in one libev loop: it creates
 * them, feeds what corosync, the ring watch, the agent's health, the operators and
 * the conflict watcher report to the core (node.h), whose effects the executor
 * carries out, and forwards the operators' API below. It decides nothing itself. */
#ifndef FOMGR_MANAGER_H
#define FOMGR_MANAGER_H

#include <ev.h>
#include <jansson.h>
#include <stdint.h>

struct manager;

struct manager *manager_new(struct ev_loop *loop, const char *config_path);
void manager_free(struct manager *m);
/* Loads the config (waiting for corosync's nodelist), reconciles the kernel and
 * joins the cluster. 0 or -errno (config refused). */
int manager_start(struct manager *m);
/* Re-reads the config; on error keeps the old one. 0 or -errno. */
int manager_reload(struct manager *m);
/* Releases everything, tells the peers, leaves the group, then breaks the loop. */
void manager_shutdown(struct manager *m);

/* Events (transitions, admin changes) as JSON objects with an "event" key; the
 * object is only valid during the call. */
typedef void (*manager_event_fn)(void *arg, json_t *event);
int manager_listen(struct manager *m, manager_event_fn fn, void *arg);
void manager_unlisten(struct manager *m, manager_event_fn fn, void *arg);

/* The cluster's history (history.h) from since_ms (Unix ms; 0: all kept), oldest
 * first, as a JSON array the caller json_decref()s. */
json_t *manager_history(const struct manager *m, uint64_t since_ms);

/* The status document (see status.h); the caller json_decref()s it. */
json_t *manager_status(const struct manager *m);
/* fn(arg, status) is called on every status document before it is returned, for
 * what the modules around the manager know (a refused reload, ...). */
typedef void (*manager_status_fn)(void *arg, json_t *status);
void manager_set_status_extra(struct manager *m, manager_status_fn fn, void *arg);

/* Operators' requests. They return at once with 0 (then done(arg, rc) is called
 * once the whole cluster has the change: rc 0, or -ECANCELED if a concurrent
 * change won, -ENOTCONN if corosync was lost) or a negative errno: -ENOENT
 * unknown node or group, -EEXIST nothing to change, -ENOTCONN not joined or no
 * quorum, -EBUSY another request is pending, -EHOSTUNREACH target not eligible. */
typedef void (*manager_done_fn)(void *arg, int rc);
/* Who asks the requests that follow (the history and every node's events name
 * them); the control socket sets it before each request. */
void manager_set_author(struct manager *m, uint32_t uid, const char *user);
int manager_request_standby(struct manager *m, const char *node, int on, manager_done_fn done, void *arg);
/* node NULL clears the pin; "" pins to the next eligible node after the owner. */
int manager_request_pin(struct manager *m, const char *group, const char *node, manager_done_fn done, void *arg);
/* on: the group is held by nobody until it is enabled again. */
int manager_request_disable(struct manager *m, const char *group, int on, manager_done_fn done, void *arg);
/* on: maintenance mode, fomgr moves nothing anywhere until it is off. */
int manager_request_maintenance(struct manager *m, int on, manager_done_fn done, void *arg);
/* What-if on this node's view (whatif.h): 0 with out filled, or a negative errno. */
struct whatif;
struct whatif_result;
int manager_simulate(const struct manager *m, const struct whatif *w, struct whatif_result *out);
/* The next eligible node after the group's owner, in preference order. */
int manager_next_owner(const struct manager *m, const char *group, char *out);
/* Why node may not hold group, for a refusal ("check drain fails on node2"); with
 * node NULL, why no node but the owner may, each reason after the other. 1 when
 * node is eligible, 0 with the reasons in out, -ENOENT unknown group or node. */
int manager_explain(const struct manager *m, const char *group, const char *node, char *out, size_t size);
/* Who holds the group now (this node: from the kernel operations; others: their
 * announces). 1 and the name in out, 0 none, -ENOENT unknown group. */
int manager_group_holder(const struct manager *m, const char *group, char *out);

/* Whether this node is in the cluster's group and its partition quorate, and how
 * many members it has: the exact reason a change cannot be agreed now. */
void manager_cluster_state(const struct manager *m, int *joined, int *quorate, size_t *members);

/* The audit log this node writes (NULL when it could not be opened): operators'
 * commands are recorded there before they are carried out. */
struct auditlog *manager_auditlog(const struct manager *m);

/* The address operations' counters (vip.c: GARP / NA sent, netlink requests and
 * errors), for /metrics; zeros before the start. */
struct vip_stats;
void manager_vip_stats(const struct manager *m, struct vip_stats *out);

/* --config-test: exactly the validation a start or reload runs. Prints errors.
 * Returns 0 when valid. */
int manager_config_test(const char *path);

#endif
