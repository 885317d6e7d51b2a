/* Whether a configuration may run, as a start and a reload decide it: the file
 * loaded with every error at file:line (node names against corosync's nodelist),
 * then the exposure policy judged (audit_exposure.h), each finding logged and
 * audited; a reload refused with its record, or accepted with a record of what it
 * changes in the terms an auditor reads: digests and groups. Records go through
 * the executor's audit-log writer, written before the change is carried out. */
#ifndef FOMGR_ADMISSION_H
#define FOMGR_ADMISSION_H

#include <jansson.h>

#include "config.h"

struct executor;

/* config_load() with its errors logged. nodes may be NULL (names not checked).
 * The caller frees the result; NULL when refused. */
struct config *admission_load(const char *path, const struct config_nodelist *nodes);
/* The exposure checks of c, with corosync's settings when it answers
 * (membership_read_info): each finding logged and recorded through x. -EPERM
 * (logged) when the policy says such a configuration must not run, else 0. */
int admission_exposure(struct executor *x, const struct config *c);
/* A reload of path against the running config old: loaded, judged, and recorded
 * (refused, or what it changes). 0 with the
 * new config in *next (the caller's), -EINVAL (the file refused) or -EPERM (the
 * exposure policy refused it). */
int admission_reload(struct executor *x, const char *path, const struct config *old,
		     const struct config_nodelist *nodes, struct config **next);
/* --config-test: exactly the loading a start or reload runs, with corosync's
 * nodelist when it answers (a note on stderr when not); errors logged, a line on
 * stdout when valid. 0, or -EINVAL. */
int admission_config_test(const char *path);
/* What a reload from old to next changes, as its AUDITLOG_CONFIG record: a new
 * object. */
json_t *admission_change_json(const struct config *old, const struct config *next);

#endif
