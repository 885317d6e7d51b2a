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

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
