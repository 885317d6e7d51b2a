#include "fo/log.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
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

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s: %s\n", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
		log_ident, (int)getpid(), level_names[level], line);
	fflush(stderr);
	if (log_syslog)
		syslog(level_syslog[level], "%s", line);
}
