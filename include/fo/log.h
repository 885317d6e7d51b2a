/* Logging for both programs: one line per event to stderr (the journal when run
 * by systemd), optionally mirrored to syslog. Log once, where the decision is
 * taken; callees return negative errno and stay silent. */
#ifndef FO_LOG_H
#define FO_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG, LOG_LVL_MAX };

void log_init(const char *ident, enum log_level max_level, int use_syslog);
void log_set_level(enum log_level max_level);
const char *log_level_str(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Operational events with a stable message id (a 128-bit id in hex, as systemd's
 * catalog uses), so that a journal or syslog reader can select them without
 * parsing text: `journalctl MESSAGE_ID=...`, or "msgid=..." at the end of a syslog
 * line. Under systemd (JOURNAL_STREAM) the line goes to the journal with its id. */
#define LOG_MSGID_TRANSITION "5c1f0e2a8d9b4f3c9a7e6d5b4c3a2f10"
#define LOG_MSGID_MEMBERSHIP "5c1f0e2a8d9b4f3c9a7e6d5b4c3a2f11"
#define LOG_MSGID_QUORUM "5c1f0e2a8d9b4f3c9a7e6d5b4c3a2f12"
#define LOG_MSGID_FINDING "5c1f0e2a8d9b4f3c9a7e6d5b4c3a2f13"
#define LOG_MSGID_ADMIN "5c1f0e2a8d9b4f3c9a7e6d5b4c3a2f14"
#define LOG_MSGID_CONFIG "5c1f0e2a8d9b4f3c9a7e6d5b4c3a2f15"
void log_event(enum log_level level, const char *msgid, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
