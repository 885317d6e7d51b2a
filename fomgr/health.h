/* Health as fomgr sees it: the latest snapshot the healthcheck agent streamed over
 * the local socket, and whether it is fresh. The agent's lines are parsed by
 * lib/healthwire; a bad line is logged and dropped, a silent agent goes stale. */
#ifndef FOMGR_HEALTH_H
#define FOMGR_HEALTH_H

#include <ev.h>
#include <stdint.h>

#include "wire.h"

typedef void (*health_changed_fn)(void *arg);

struct health *health_new(struct ev_loop *loop, const char *path, uint32_t ttl_ms, health_changed_fn changed,
			  void *arg);
void health_free(struct health *h);
/* Binds the socket: a stale socket is replaced; a symlink or any other file at
 * the path is refused (-EEXIST). */
int health_start(struct health *h);
/* The state the agent last reported for a check; UNKNOWN if it never did. */
enum check_state health_check_state(const struct health *h, const char *check);
/* No report within the TTL (or none yet from an agent that was connected). */
int health_stale(const struct health *h);
int health_ever_reported(const struct health *h);
/* The checks config's groups depend on, group by group, each with the state the
 * agent last reported (health_check_state): at most max into out; returns how
 * many. config may be NULL (none). */
struct config;
size_t health_group_checks(const struct health *h, const struct config *config, struct wire_check *out, size_t max);

#endif
