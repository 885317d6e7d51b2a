#include "fo/log.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "fomgr";
static enum log_level log_max = LOG_LVL_INFO;
static int log_syslog;

static const char *const level_names[LOG_LVL_MAX] = {"error", "warning", "info", "debug"};
static const int level_syslog[LOG_LVL_MAX] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

void log_init(const char *ident, enum log_level max_level, int use_syslog)
{
	log_ident = ident;
	log_max = max_level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(enum log_level max_level)
{
	log_max = max_level;
}

const char *log_level_str(enum log_level level)
{
	return level < LOG_LVL_MAX ? level_names[level] : "?";
}

static void emit(enum log_level level, const char *msgid, const char *line);

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(level, NULL, line);
}

void log_event(enum log_level level, const char *msgid, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(level, msgid, line);
}

/* Under systemd, stderr is the journal already: an event with an id goes there
 * through sd_journal_send instead, so that it carries MESSAGE_ID. */
static int journal_event(enum log_level level, const char *msgid, const char *line)
{
	return msgid && getenv("JOURNAL_STREAM") &&
	       sd_journal_send("MESSAGE=%s", line, "MESSAGE_ID=%s", msgid, "PRIORITY=%d", level_syslog[level],
			       "SYSLOG_IDENTIFIER=%s", log_ident, NULL) == 0;
}

static void emit(enum log_level level, const char *msgid, const char *line)
{
	struct timespec ts;
	struct tm tm;

	if (journal_event(level, msgid, line)) {
		if (log_syslog)
			syslog(level_syslog[level], "%s msgid=%s", line, msgid);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s: %s\n", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
		log_ident, (int)getpid(), level_names[level], line);
	fflush(stderr);
	if (log_syslog)
		syslog(level_syslog[level], "%s%s%s", line, msgid ? " msgid=" : "", msgid ? msgid : "");
}
