/* The owner's side of the conflict watcher (conflict.h): what this node is for a
 * group, read from the core's placement and transitions, and how a conflict is
 * resolved: a stray address here deleted, a foreign claim on an address this node
 * holds answered by the core's re-announce; the first of an episode (or a failure)
 * logged and its record queued, the failover path's way (written after the event). */
#ifndef FOMGR_CONFLICT_RESOLVE_H
#define FOMGR_CONFLICT_RESOLVE_H

#include "conflict.h"

struct node;
struct executor;

/* This node's role for group as node (the core) has it. 0, or -ENOENT for a
 * group it does not configure (or no node yet). Pure. */
int conflict_resolve_role(const struct node *node, const char *group, struct conflict_role *out);

/* The core announces this node's claim on group again: 0 or -errno. */
typedef int (*conflict_resolve_reannounce_fn)(void *arg, const char *group);
/* Resolves ev (CONFLICT_LOCAL through c, the watcher; else through reannounce),
 * then logs it and records it through x when it is the first of its episode or
 * its resolution failed (the record for the first only). */
void conflict_resolve(struct conflict *c, struct executor *x, const struct conflict_event *ev,
		      conflict_resolve_reannounce_fn reannounce, void *arg);

#endif
