/* The agent-to-manager stream: healthcheck sends fomgr one JSON object per line,
 * each a full snapshot of every check's state (on every change and as a periodic
 * heartbeat), so a lost or reordered line never leaves fomgr with a stale delta.
 *
 *   {"v":1,"seq":42,"interval_ms":1000,"checks":{"web":"passing","db":"failing"}}
 *
 * Lines are at most HEALTHWIRE_MAX_LINE bytes including the newline. */
#ifndef FO_HEALTHWIRE_H
#define FO_HEALTHWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "fo/checkstate.h"

#define HEALTHWIRE_VERSION 1
#define HEALTHWIRE_MAX_LINE 65536
#define HEALTHWIRE_MAX_CHECKS 1024
#define HEALTHWIRE_NAME_MAX 64 /* including the terminating NUL */

struct healthwire_check {
	char name[HEALTHWIRE_NAME_MAX];
	enum check_state state;
};

struct healthwire_report {
	uint64_t seq;
	uint32_t interval_ms; /* heartbeat period the sender promises */
	size_t n_checks;
	struct healthwire_check *checks; /* owned by the report */
};

/* Encodes a report as one line (with '\n') into buf. Returns its length, or
 * -ENOSPC if it does not fit, -EINVAL for a bad name. */
int healthwire_encode(const struct healthwire_report *report, char *buf, size_t size);

/* Decodes one line (with or without '\n', not necessarily NUL-terminated). On
 * success fills *out, whose checks the caller frees with healthwire_report_clear().
 * Returns 0, or -EINVAL (malformed), -EPROTONOSUPPORT (other version), -E2BIG. */
int healthwire_decode(const char *line, size_t len, struct healthwire_report *out);
void healthwire_report_clear(struct healthwire_report *report);

/* Finds a check by name; NULL when absent. */
const struct healthwire_check *healthwire_find(const struct healthwire_report *report, const char *name);

#endif
