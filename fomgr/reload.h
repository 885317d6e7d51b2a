/* What a refused reload leaves behind, so that `systemctl reload` with a bad file
 * is never silent: every error logged with file:line, one audit record, and a
 * `reload-refused` warning in the status document (so in `fomctl status` and
 * fomgr_warning in /metrics) until a reload is accepted. Owns no I/O but the log
 * and the audit record it is handed. */
#ifndef FOMGR_RELOAD_H
#define FOMGR_RELOAD_H

#include <jansson.h>
#include <stdint.h>

#define RELOAD_MAX_ERRORS 16
#define RELOAD_ERROR_MAX 300

struct auditlog;

struct reload_state {
	int refused;       /* the latest reload was refused */
	uint64_t at_ms;    /* when (Unix ms) */
	uint64_t refusals; /* since start */
	size_t n_errors;   /* kept, at most RELOAD_MAX_ERRORS */
	size_t n_total;    /* reported */
	char errors[RELOAD_MAX_ERRORS][RELOAD_ERROR_MAX];
};

/* errors: the refusal's messages, one per line ("file:line: message"). Logs each
 * line and, when log is not NULL and audit is set, appends a config record
 * {"change":"reload refused","config":path,"errors":[...]}. Returns what the
 * audit append returned (0 when not asked). */
int reload_refused(struct reload_state *s, struct auditlog *log, int audit, const char *path, const char *errors);
/* A reload went through: the warning goes. */
void reload_accepted(struct reload_state *s);
/* Adds the warning and a "reload" object to a running status document (one with a
 * "warnings" array); leaves the short 'starting' form alone. */
void reload_status_json(const struct reload_state *s, json_t *status);

#endif
