/* Notify hooks: on every transition of this node, the configured executable runs
 * in a child process, without a shell, with keepalived's notify arguments
 *
 *   HOOK INSTANCE <group> MASTER|BACKUP|FAULT <priority>
 *
 * and FOMGR_* variables in a minimal environment (see hooks_job_build). It never
 * blocks the loop (ev_child), is killed after notify_timeout (SIGTERM, then SIGKILL
 * to its process group), at most HOOKS_MAX_RUNNING run at once and one at a time
 * per group, in the order of the transitions. */
#ifndef FOMGR_HOOKS_H
#define FOMGR_HOOKS_H

#include <ev.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "metrics.h"

#define HOOKS_MAX_RUNNING 4
#define HOOKS_MAX_QUEUED 64
#define HOOKS_KILL_GRACE 2.0 /* seconds between SIGTERM and SIGKILL */
#define HOOKS_ARGC 5
#define HOOKS_ENVC 16

/* One run: what execve gets (args[0] is the path). Plain strings, no pointers,
 * so that a queued job can be copied. */
struct hooks_job {
	char group[CONFIG_NAME_MAX];
	char path[256];
	char args[HOOKS_ARGC][CONFIG_NAME_MAX + 16];
	size_t n_env;
	char env[HOOKS_ENVC][CONFIG_NAME_MAX + 32];
};

/* Pure: the job for a transition event (manager_listen's JSON). node is this
 * node's name. 0, or -EINVAL when the event is not a transition. */
int hooks_job_build(const json_t *event, const char *node, const char *path, struct hooks_job *job);

/* Whether path may run as a hook: a regular executable file that only root (or
 * fomgr's own user) can change, in directories only they can change. 0, or
 * -errno with why filled in. */
int hooks_check_path(const char *path, char *why, size_t size);

struct manager;
struct hooks;

/* path "" or NULL: no hook (events are ignored). Listens to the manager's events. */
struct hooks *hooks_new(struct ev_loop *loop, struct manager *m);
/* Sets the hook (start, reload). An unsafe path is refused (-EPERM, logged) and
 * the previous one is kept. */
int hooks_configure(struct hooks *h, const char *path, uint32_t timeout_ms);
/* Runs one event (what the manager listener calls; tests call it directly). */
void hooks_on_event(struct hooks *h, const json_t *event);
/* Waits up to timeout seconds for running hooks (at exit, outside the loop), then
 * kills what is left; frees. Accepts NULL. */
void hooks_free(struct hooks *h, double timeout);
void hooks_get_counts(const struct hooks *h, uint64_t counts[METRICS_HOOK_MAX]);
unsigned hooks_running(const struct hooks *h);

#endif
