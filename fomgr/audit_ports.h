/* The port judge: the sockets that listen here (a sockdiag snapshot) against the
 * [audit] allowlist: unexpected, forbidden, held by the wrong process, or an
 * allowed port nothing listens on. Sockets bound to loopback only are not exposed
 * and are skipped. Pure: the tests drive it with fixed snapshots. */
#ifndef FOMGR_AUDIT_PORTS_H
#define FOMGR_AUDIT_PORTS_H

#include <jansson.h>
#include <stddef.h>

#include "audit_addr.h"
#include "audit_findings.h"
#include "config.h"

struct sockdiag_snapshot;

/* Listeners against the allowlist; local (may be NULL: every rule applies) tells
 * which rule addresses are this node's. 0 or -ENOMEM. */
int audit_ports_compare(const struct sockdiag_snapshot *snap, const struct config_audit *rules,
		  const struct audit_local_addrs *local, struct audit_findings *out);
/* The first max listeners of snap as [{"socket":..,"pid":..,"comm":..}]; the
 * caller owns it. */
json_t *audit_ports_listeners_json(const struct sockdiag_snapshot *snap, size_t max);

#endif
