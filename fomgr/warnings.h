/* The warnings an operator must see first (crm_mon's "failed actions" block),
 * derived from the whole status document once the audit and the conflict watch
 * have added theirs: no quorum, a group without a holder, every node in standby,
 * a peer's silent health agent, drift (which node, what differs), audit findings
 * of warning or critical severity. Each is "id: details", as status.c's, and
 * each id is a metric (fomgr_warning{warning=id}). Pure: JSON in, JSON out. */
#ifndef FOMGR_WARNINGS_H
#define FOMGR_WARNINGS_H

#include <jansson.h>
#include <stddef.h>

/* Every warning id fomgr may raise, here and in status.c, conflict.c, reload.c,
 * qdevice.c:
 * /metrics prints each, 0 when not in force, so an alert needs no absent(). */
extern const char *const warnings_ids[];
extern const size_t warnings_n_ids;

/* Appends the derived warnings to status["warnings"]; leaves the short
 * 'starting' document alone. */
void warnings_derive(json_t *status);

#endif
