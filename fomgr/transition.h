/* Transition: carries out placement on this node. For each VIP group it releases
 * what this node should no longer hold and acquires what it now owns (addresses
 * through vip.c, then a burst of gratuitous ARP / unsolicited NA), waiting for a
 * peer's release before claiming. It logs one line per transition. */
#ifndef FOMGR_TRANSITION_H
#define FOMGR_TRANSITION_H

#include <ev.h>
#include <stdint.h>

#include "config.h"
#include "placement.h"
#include "vip.h"
#include "view.h"

enum transition_reason {
	TRANSITION_INITIAL,
	TRANSITION_FAILOVER,
	TRANSITION_FAILBACK,
	TRANSITION_QUORUM,
	TRANSITION_SHUTDOWN,
	TRANSITION_STANDBY,
	TRANSITION_HEALTH,
	TRANSITION_ADOPT,
	TRANSITION_RECONCILE,
	TRANSITION_SWITCHOVER,
	TRANSITION_RING_STALL, /* our own corosync stopped serving us: released before the peers take over */
	TRANSITION_MERGE,      /* two partitions merged and another node holds it */
	TRANSITION_REASON_MAX
};

enum transition_state { TRANSITION_IDLE, TRANSITION_ACQUIRING, TRANSITION_HELD, TRANSITION_RELEASING, TRANSITION_STATE_MAX };

/* One finished transition on this node, for status, hooks, events and the audit. */
struct transition_event {
	const char *group;
	const char *from, *to;
	enum transition_reason reason;
	int acquired; /* 1 acquired, 0 released */
	int error;    /* 0 or -errno */
	double took_ms;
	uint64_t realtime_ms;
};
typedef void (*transition_event_fn)(void *arg, const struct transition_event *ev);

/* Called whenever the set of groups this node holds changes (to announce it). */
typedef void (*transition_changed_fn)(void *arg);
/* Called once release_all has finished. */
typedef void (*transition_released_fn)(void *arg);

struct transition_stats {
	uint64_t by_reason[TRANSITION_REASON_MAX];
	uint64_t announce_sent;
};

struct transition *transition_new(struct ev_loop *loop, struct vip *vip, const struct config *config,
				  transition_changed_fn changed, void *arg);
/* Before vip_free(): completions it delivers (cancelled requests) are ignored. */
void transition_close(struct transition *t);
void transition_free(struct transition *t);
void transition_on_event(struct transition *t, transition_event_fn fn, void *arg);
/* Called just before a group's addresses are deleted (the audit counts the
 * connections the move will cut); it must not block. */
typedef void (*transition_release_fn)(void *arg, const char *group);
void transition_on_release(struct transition *t, transition_release_fn fn, void *arg);
/* The config must outlive the transition or be replaced with this call. Groups
 * that disappear are released. */
void transition_set_config(struct transition *t, const struct config *config);

/* Start-up: adopts the configured addresses the kernel already holds, removes
 * fomgr-labelled addresses that no group configures. Synchronous (start only). */
int transition_reconcile(struct transition *t);

/* Acts on a placement. event_us is the monotonic time of the event that led to it
 * (for took_ms). */
void transition_apply(struct transition *t, const struct placement *p, const struct view *view, uint64_t event_us);
/* Releases everything (corosync lost, shutdown); done is called when finished. */
void transition_release_all(struct transition *t, enum transition_reason reason, transition_released_fn done,
			    void *arg);

/* Sends the gratuitous ARP / unsolicited NA burst again for every group held here
 * (a partition healed, a peer joined, a conflict was seen), so that neighbour
 * caches that learnt another MAC meanwhile come back. Returns how many groups. */
int transition_reannounce(struct transition *t, const char *why);
/* Whether this node claims the group: it wants it (the claim is announced before
 * the addresses are added), holds it, or is still releasing it. */
int transition_claims(const struct transition *t, const char *group);
enum transition_state transition_state_of(const struct transition *t, const char *group);
void transition_get_stats(const struct transition *t, struct transition_stats *stats);
/* A conflict seen by this node while it holds the group: that one group's GARP /
 * NA burst starts again at once, silently (the caller logs the conflict). 0, or
 * -ENOENT when the group is not held here. */
int transition_reannounce_group(struct transition *t, const char *group);
/* The vip.c form of a group's i-th address. */
void transition_group_addr(const struct config_group *g, size_t i, struct vip_addr *out);
const char *transition_reason_str(enum transition_reason reason);
const char *transition_state_str(enum transition_state state);

#endif
