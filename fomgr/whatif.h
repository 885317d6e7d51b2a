/* What-if (Pacemaker's crm_simulate): the placement that would follow an
 * operator's change or a fault, computed by placement_compute on a copy of the
 * view with that one change made. Nothing is changed, sent or persisted. */
#ifndef FOMGR_WHATIF_H
#define FOMGR_WHATIF_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "placement.h"
#include "view.h"

enum whatif_kind {
	WHATIF_STANDBY,    /* node goes to standby */
	WHATIF_MOVE,       /* group is pinned to node (vip move --to) */
	WHATIF_FAIL,       /* node leaves corosync's membership (a cut, a crash) */
	WHATIF_FAIL_CHECK, /* check fails on node */
	WHATIF_KIND_MAX
};

struct whatif {
	enum whatif_kind kind;
	const char *node, *group, *check;
};

/* How the quorum of what is left is judged when a node fails. */
struct whatif_quorum {
	uint32_t expected_votes; /* 0: the nodelist's size */
	int tie_breaker;         /* two_node or a quorum device: quorum is kept */
};

struct whatif_group {
	char name[CONFIG_NAME_MAX];
	char before[CONFIG_NAME_MAX], after[CONFIG_NAME_MAX]; /* owners, "" for none */
	enum placement_reason reason;                       /* after */
	char why[400];                                      /* after */
};

struct whatif_result {
	int quorate; /* after */
	size_t n_groups;
	struct whatif_group groups[CONFIG_MAX_GROUPS];
	char refused[300]; /* why the change itself would be refused (-EHOSTUNREACH) */
};

/* now: the placement in force (placement_compute of view). 0; -ENOENT unknown
 * node, group or check; -EHOSTUNREACH a move to a node that may not hold the
 * group (refused says why, as the real move would); -ENOMEM. */
int whatif_run(const struct view *view, const struct config *config, const struct placement *now,
	       const struct whatif_quorum *quorum, const struct whatif *w, struct whatif_result *out);
/* kind from its word ("standby", "move", "fail", "fail-check"); -EINVAL. */
int whatif_kind_parse(const char *word, enum whatif_kind *kind);
const char *whatif_kind_str(enum whatif_kind kind);
/* The result for fomctl: {"simulate":..., "quorate":..., "groups":[{"group",
 * "owner_before","owner_after","changes","reason","why"}]}. New reference. */
json_t *whatif_json(const struct whatif *w, const struct whatif_result *r);

#endif
