/* The audit log: one JSON object per line, each chained to the one before by the
 * SHA-256 of that line, so an edited, removed or reordered record is detected.
 * Two ways in: auditlog_append() writes and fdatasyncs before it returns (an
 * operator's command is acknowledged only once its record is on disk);
 * auditlog_enqueue() stamps a record of the failover path and queues it, and the
 * queue is written after the event has been handled (see auditlog_attach), so no
 * decision waits for the disk. The chain follows the order records were queued or
 * appended: an append writes the queue first. Rotation is by reopen (logrotate's
 * postrotate), and the chain continues across files.
 *
 * Record fields written by auditlog_append(), besides the caller's:
 *   "seq" (1, 2, ... across files), "type", "ts" (RFC 3339 UTC, ms), "realtime_ms",
 *   "mono_ms", "boot_id", "node", "prev" (hex SHA-256 of the previous line without
 *   its newline; 64 zeros for the very first record). A queued record's ts,
 *   realtime_ms and mono_ms say when it was queued (or when its event happened),
 *   not when it was written; "dropped_before": N when N records just before this
 *   one could not be queued (the queue was full) or encoded. */
#ifndef FOMGR_AUDITLOG_H
#define FOMGR_AUDITLOG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ev_loop;

#define AUDITLOG_MAX_LINE 65536
/* Records waiting to be written, at most. A flush follows every event, so the
 * queue holds more than an event's few records only while writes fail; full, it
 * refuses new records (-ENOBUFS), counts them, and the next record queued says
 * how many are missing before it ("dropped_before"). */
#define AUDITLOG_QUEUE_MAX 1024
/* While writes fail, the queue is retried this often (and before every append). */
#define AUDITLOG_RETRY_S 1.0

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
/* Writes what is queued if it can, then closes; what could not be written is
 * lost (and said so in the log). Accepts NULL. */
void auditlog_close(struct auditlog *log);
/* Adds the chain fields to fields (which it does not take), writes one line and
 * fsyncs. 0 or -errno (-ENOSPC on a full disk): nothing is half-written (a failed
 * write is truncated away). */
int auditlog_append(struct auditlog *log, enum auditlog_type type, json_t *fields);
/* Writes the queue first; a queue that cannot be written fails the append with
 * its error, so an operator's record never overtakes the failover path's. */

/* The failover path: stamps the record with when it happened (at_mono_us, the
 * CLOCK_MONOTONIC time of the event, its realtime derived from it; 0 for now) and
 * queues it (keeping a reference to fields, which the caller must not change
 * afterwards). Without an attached loop the queue is written at once. 0,
 * -EINVAL, or -ENOBUFS when the queue is full (the record is counted as dropped). */
int auditlog_enqueue(struct auditlog *log, enum auditlog_type type, json_t *fields, uint64_t at_mono_us);
/* Writes the queued records in order, a batch per write and fdatasync. A batch
 * that fails is cut away and stays queued. 0 once the queue is empty, or -errno. */
int auditlog_flush(struct auditlog *log);
/* Writes the queue from loop: from a zero timer at the lowest priority, so the
 * I/O pending with it (netlink acknowledgements, corosync's messages) is handled
 * first; on failure every AUDITLOG_RETRY_S. Failures are logged once per streak. */
void auditlog_attach(struct auditlog *log, struct ev_loop *loop);

struct auditlog_queue_stats {
	uint64_t queued;         /* records queued since the log was opened */
	uint64_t written;        /* queued records on disk */
	uint64_t dropped_full;   /* refused: the queue was full */
	uint64_t dropped_bad;    /* could not be encoded (longer than AUDITLOG_MAX_LINE) */
	uint64_t flush_errors;   /* batches that failed (their records were kept) */
	size_t depth, max_depth; /* queued now, and at most */
	uint64_t oldest_mono_ms; /* when the oldest queued record happened; 0 when empty */
	int last_error;          /* of the latest failed flush, -errno; 0 after a success */
};
void auditlog_queue_stats(const struct auditlog *log, struct auditlog_queue_stats *out);
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
