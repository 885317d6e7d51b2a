#include "fo/sdnotify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "fo/clock.h"
#include "fo/log.h"

static void on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
	sd_notify(0, "WATCHDOG=1");
}

void sdnotify_start(struct sdnotify *n, struct ev_loop *loop)
{
	uint64_t usec = 0;

	n->loop = loop;
	n->enabled = getenv("NOTIFY_SOCKET") != NULL;
	ev_timer_init(&n->watchdog, on_watchdog, 0., 0.);
	if (sd_watchdog_enabled(0, &usec) > 0 && usec) {
		n->watchdog.repeat = (double)usec / 2e6;
		ev_timer_start(loop, &n->watchdog);
		log_info("systemd watchdog: pinging every %.1f s", (double)usec / 2e6);
	}
}

void sdnotify_stop(struct sdnotify *n)
{
	if (n->loop)
		ev_timer_stop(n->loop, &n->watchdog);
}

void sdnotify_send(const struct sdnotify *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!n->enabled)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sd_notify(0, msg);
}

void sdnotify_reloading(const struct sdnotify *n)
{
	sdnotify_send(n, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)clock_mono_us());
}
