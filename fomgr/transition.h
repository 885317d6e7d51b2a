/* Transition: plans how this node carries out placement. For each VIP group it
 * releases what this node should no longer hold and acquires what it now owns,
 * waiting for a peer's release before claiming and adding addresses only once its
 * claim came back through the agreed order. Pure: the address operations, probes
 * and GARP / NA bursts it decides are effects (effect.h) that an executor carries
 * out and answers (transition_done, transition_probed); no I/O, no clock. */
#ifndef FOMGR_TRANSITION_H
#define FOMGR_TRANSITION_H

#include <stdint.h>

#include "config.h"
#include "effect.h"
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
	TRANSITION_DISABLED,   /* an operator disabled the group */
	TRANSITION_REASON_MAX
};

enum transition_state { TRANSITION_IDLE, TRANSITION_ACQUIRING, TRANSITION_HELD, TRANSITION_RELEASING, TRANSITION_STATE_MAX };

#define TRANSITION_SLOTS (2 * CONFIG_MAX_GROUPS)

struct transition_stats {
	uint64_t by_reason[TRANSITION_REASON_MAX];
	uint64_t announce_sent;
	uint64_t claims_skipped; /* acquisitions without the claim round (a presumed owner) */
};

/* One group's progress on this node. */
struct transition_group {
	int used;
	int removed; /* gone from the config: release, then free the slot */
	struct config_group cfg;
	enum transition_state state;
	int want;
	enum transition_reason reason;
	char from[CONFIG_NAME_MAX], to[CONFIG_NAME_MAX];
	uint32_t last_holder; /* the last holder the view showed, for "from" and reasons */
	int claim_seen;       /* our claim came back through the agreed order */
	uint64_t claim_after; /* the seq of our last announce delivered when we claimed */
	int probing; /* a graceful claim's ARP probe is out (alongside the add) */
	int waiting; /* ours, once the holder has released it */
	enum transition_reason wait_reason;
	uint32_t wait_from;
	int busy; /* an address step or a probe is out */
	uint64_t event_us, started_us;
	/* The node every member presumed the owner at the membership change that took
	 * the group's holder away (node.c), until an announce of that node claims it
	 * or has a seq of at least presumed_until: others wait for it as for a claim;
	 * it may add without the claim round (skip). */
	uint32_t presumed;
	uint64_t presumed_until;
	int skip_ok; /* this node's own evidence allows it (node.c) */
	int skip;
};

struct transition {
	const struct config *config;
	struct transition_group groups[TRANSITION_SLOTS];
	struct transition_stats stats;
	int releasing_all;
	char local_name[CONFIG_NAME_MAX];
	int changed; /* what this node claims or holds changed: announce it */
	uint64_t sent_seq; /* the seq of our last announce sent (node.c keeps it) */
};

/* The config must outlive the transition or be replaced with transition_set_config. */
void transition_init(struct transition *t, const struct config *config);
/* Groups that disappear are released. */
void transition_set_config(struct transition *t, const struct config *config, uint64_t now_us, struct effects *fx);
/* Start-up: the group's addresses are in the kernel already: adopted, held until
 * the cluster says otherwise. 0, or -ENOENT for a group not configured. */
int transition_adopt(struct transition *t, const char *group);

/* Acts on a placement. event_us is the monotonic time of the event that led to it
 * (for took_ms). */
void transition_apply(struct transition *t, const struct placement *p, const struct view *view, uint64_t event_us,
		      uint64_t now_us, struct effects *fx);
/* Releases everything (corosync lost, a stall, shutdown). Returns 1 when nothing
 * is left to release already. */
int transition_release_all(struct transition *t, enum transition_reason reason, uint64_t now_us,
			   struct effects *fx);
/* Whether a release_all is still in progress. */
int transition_releasing_all(const struct transition *t);

/* The executor's answers: every address request of slot's step is done (error: the
 * first failure, or 0); the probe found someone answering (1) or not (0). Both
 * return 1 when a release_all finished with this answer. */
int transition_done(struct transition *t, size_t slot, int error, uint64_t now_us, struct effects *fx);
int transition_probed(struct transition *t, size_t slot, int result, uint64_t now_us, struct effects *fx);

/* The GARP / NA burst again for every group held here (a partition healed, a peer
 * joined). Returns how many groups. */
int transition_reannounce(struct transition *t, const char *why, struct effects *fx);
/* A conflict seen while this node holds the group: its burst starts again. 0, or
 * -ENOENT when the group is not held here. */
int transition_reannounce_group(struct transition *t, const char *group, struct effects *fx);
/* The owner every member presumes for a group whose holder left the ring without
 * announcing it (node.c decides, at an agreed membership event); 0 clears. */
void transition_presume(struct transition *t, const char *group, uint32_t nodeid, uint64_t until_seq);
/* The presumed owner (0: none) and, in until when not NULL, its seq threshold. */
uint32_t transition_presumed(const struct transition *t, const char *group, uint64_t *until);
/* Whether this node may skip the claim round for group when presumed its owner:
 * what it sees itself of the holder that left (node.c). */
void transition_allow_skip(struct transition *t, const char *group, int ok);
/* An announce of nodeid arrived (a NULL: forget every presumption): what it
 * decides is in the view now. */
void transition_unpresume(struct transition *t, uint32_t nodeid, const struct wire_announce *a);
/* Whether this node claims the group: it wants it (the claim is announced before
 * the addresses are added), holds it, or is still releasing it. */
int transition_claims(const struct transition *t, const char *group);
enum transition_state transition_state_of(const struct transition *t, const char *group);
void transition_get_stats(const struct transition *t, struct transition_stats *stats);
/* The executor sent one GARP / NA (the burst is its timing, the count is status'). */
void transition_count_announce(struct transition *t);
/* The slot's group (the config as it was when its step began). */
const struct config_group *transition_group(const struct transition *t, size_t slot);
/* The vip.c form of a group's i-th address. */
void transition_group_addr(const struct config_group *g, size_t i, struct vip_addr *out);
/* The first IPv4 address of the group (what a probe asks for); 0 when it has none. */
int transition_first_v4(const struct config_group *g, struct vip_addr *out);
const char *transition_reason_str(enum transition_reason reason);
const char *transition_state_str(enum transition_state state);

#endif
