/* The audit log: one JSON object per line, each chained to the one before by the
 * SHA-256 of that line, so an edited, removed or reordered record is detected.
 * Appends are fsync'ed before they return: a mutating command is acknowledged
 * only once its record is on disk. Rotation is by reopen (logrotate's postrotate),
 * and the chain continues across files.
 *
 * Record fields written by auditlog_append(), besides the caller's:
 *   "seq" (1, 2, ... across files), "type", "ts" (RFC 3339 UTC, ms), "realtime_ms",
 *   "mono_ms", "boot_id", "node", "prev" (hex SHA-256 of the previous line without
 *   its newline; 64 zeros for the very first record). */
#ifndef FOMGR_AUDITLOG_H
#define FOMGR_AUDITLOG_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#define AUDITLOG_MAX_LINE 65536

enum auditlog_type {
	AUDITLOG_START,       /* fomgr started: version, config digest */
	AUDITLOG_STOP,
	AUDITLOG_TRANSITION,  /* a VIP group acquired or released here */
	AUDITLOG_MEMBERSHIP,  /* a node joined or left */
	AUDITLOG_QUORUM,      /* quorum gained or lost */
	AUDITLOG_ADMIN,       /* an operator's command, with the caller's identity */
	AUDITLOG_ACCESS_DENIED, /* a refused control request */
	AUDITLOG_CONFIG,      /* configuration loaded or reloaded, digests, summary */
	AUDITLOG_FINDING,     /* an audit finding (ports, reachability, drift) */
	AUDITLOG_SNAPSHOT,    /* an audit snapshot around a transition */
	AUDITLOG_TYPE_MAX
};

struct auditlog_options {
	uint64_t max_bytes;   /* rotate by size is logrotate's job; this is retention: */
	uint32_t max_age_days; /* remove rotated files (path.N, path-DATE) older than this; 0 keeps */
};

struct auditlog;

const char *auditlog_type_str(enum auditlog_type type);

/* Opens (creates, mode 0640) path for appending and reads its last record to
 * continue the chain (and the sequence). NULL with errno on failure. */
struct auditlog *auditlog_open(const char *path, const char *node, const struct auditlog_options *options);
void auditlog_close(struct auditlog *log);
/* Adds the chain fields to fields (which it does not take), writes one line and
 * fsyncs. 0 or -errno (-ENOSPC on a full disk): nothing is half-written (a failed
 * write is truncated away). */
int auditlog_append(struct auditlog *log, enum auditlog_type type, json_t *fields);
/* After logrotate moved the file: opens path anew, the chain goes on. */
int auditlog_reopen(struct auditlog *log);
uint64_t auditlog_seq(const struct auditlog *log);

/* Verification, for `fomctl log verify`: reads stream and checks every record's
 * syntax, sequence and chain. prev_hex (may be NULL) is the hash the first record
 * must chain to, for a file that continues an earlier one. Returns 0 when intact;
 * otherwise -EBADMSG and *bad_line / *bad_seq / reason name the first bad record. */
struct auditlog_verify_result {
	uint64_t records;
	uint64_t bad_line; /* 1-based line number of the first bad record, 0 if none */
	char reason[200];
	char last_hash[65];
};
int auditlog_verify(FILE *stream, const char *prev_hex, struct auditlog_verify_result *result);

#endif
