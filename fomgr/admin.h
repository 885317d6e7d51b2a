/* Operators' cluster-wide state: which nodes are in standby, which groups are
 * pinned to a node or disabled, and whether the cluster is in maintenance mode. Changes are made here as pure edits of a struct wire_admin
 * (a new epoch each), travel in every node's announce, and are persisted in the
 * state directory so that a restart of one node or of the whole cluster keeps them. */
#ifndef FOMGR_ADMIN_H
#define FOMGR_ADMIN_H

#include "wire.h"

/* Edits: return 0, -EEXIST when already so (nothing changes), -ENOSPC. */
int admin_set_standby(struct wire_admin *admin, const char *node, int on);
/* node NULL clears the pin. */
int admin_set_pin(struct wire_admin *admin, const char *group, const char *node);
/* A disabled group is held by nobody (on: disable it). */
int admin_set_disabled(struct wire_admin *admin, const char *group, int on);
/* Maintenance mode: fomgr moves nothing anywhere. */
int admin_set_maintenance(struct wire_admin *admin, int on);

/* Appends one change to the state's last changes (admin->changes), dropping the
 * oldest when they are WIRE_MAX_CHANGES already. */
void admin_log_change(struct wire_admin *admin, const struct wire_admin_change *change);

/* Reads path (JSON); a missing file is an empty state (0). */
int admin_load(const char *path, struct wire_admin *admin);
/* Writes path atomically (temporary file, fsync, rename). */
int admin_save(const char *path, const struct wire_admin *admin);

#endif
