/* What a start does once corosync has given its nodelist, before the core runs,
 * each step logged where it is decided: the audit log opened (its directory made,
 * named for this node) with the fields of its start record, the runtime and state
 * directories made, and the admin state an earlier run persisted read back. */
#ifndef FOMGR_STARTUP_H
#define FOMGR_STARTUP_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "wire.h"

struct ev_loop;

/* mkdir(path, mode); a directory already there is success. 0 or -errno. */
int startup_dir(const char *path, mode_t mode);
/* The name of nodeid in nodes; "unknown" when it is not there. */
const char *startup_node_name(const struct config_nodelist *nodes, uint32_t nodeid);
/* Opens config's audit log (its directory made first, mode 0750), names it for
 * this node (membership_local_nodeid in nodes) and attaches it to loop. NULL, logged
 * (operators' commands will be refused), when it cannot be opened. */
struct auditlog *startup_auditlog(struct ev_loop *loop, const struct config *config,
				  const struct config_nodelist *nodes);
/* The start record's fields (AUDITLOG_START): version, config, config_digest. A new
 * object. */
json_t *startup_record_json(const struct config *config);
/* Makes the runtime and state directories, names the admin state's file in path
 * and reads it into admin (empty when missing or unreadable, which is logged). */
void startup_admin_state(const struct config *config, char *path, size_t size, struct wire_admin *admin);

#endif
