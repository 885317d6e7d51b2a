/* A review of an audit log, as the security guide asks one to be read regularly:
 * transitions by reason, refused accesses by user, configuration changes, audit
 * findings opened and closed (and those still open at the end), operators'
 * commands by user, and every gap (a sequence jump, a line that is not a record,
 * records the writer dropped), with the chain's verdict (auditlog_verify). Reads
 * the file, decides nothing; `fomctl log report` prints it. */
#ifndef FOMGR_LOGREPORT_H
#define FOMGR_LOGREPORT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#define LOGREPORT_MAX_LIST 200 /* config changes and gaps listed, at most (all are counted) */

/* Reads stream to its end (it must be seekable: it is read twice, once for the
 * chain, which starts from prev_hex as `log verify --prev` does; NULL for a first
 * file). Records before since_ms (Unix ms; 0: all) are left out of the counts,
 * not of the chain. Returns a new JSON report the caller json_decref()s:
 *   {"file","since_ms","records","records_in_range","first_ts","last_ts",
 *    "by_type":{..},"transitions":{"by_reason":{..},"failed":N},
 *    "access_denied":{"total":N,"by_user":{..}},"admin":{"by_user":{..}},
 *    "config_changes":[{"ts","seq","change","config","error_count"}..],
 *    "findings":{"opened":N,"resolved":N,"opened_by_kind":{..},"still_open":[..]},
 *    "gaps":[{"line","kind","detail"}..],"gap_count":N,
 *    "chain":{"intact":bool,"bad_line":N,"reason":".."}}
 * NULL with errno when the stream cannot be read. */
json_t *logreport_build(FILE *stream, const char *name, uint64_t since_ms, const char *prev_hex);
/* Whether the report found the log whole: its chain intact and no gap. */
int logreport_clean(const json_t *report);
/* --since: "30m", "24h", "7d", "90s" before now_ms, or a UTC date "YYYY-MM-DD"
 * with an optional "THH:MM[:SS]". 0 and *out (Unix ms), or -EINVAL. */
int logreport_parse_since(const char *text, uint64_t now_ms, uint64_t *out);

#endif
