/* systemd's notification protocol for both daemons: whether a service manager
 * listens (NOTIFY_SOCKET), WATCHDOG=1 pinged from the event loop at half of
 * WATCHDOG_USEC (a loop stuck in a callback stops the pings, so systemd restarts
 * it), and the state messages around start, reload and stop. Without systemd
 * every call does nothing. */
#ifndef FO_SDNOTIFY_H
#define FO_SDNOTIFY_H

#include <ev.h>

struct sdnotify {
	struct ev_loop *loop;
	ev_timer watchdog;
	int enabled; /* NOTIFY_SOCKET is set */
};

/* Reads the environment; starts the watchdog pings when WATCHDOG_USEC asks for them. */
void sdnotify_start(struct sdnotify *n, struct ev_loop *loop);
void sdnotify_stop(struct sdnotify *n);
/* One message ("READY=1\nSTATUS=..."), when a service manager listens. */
void sdnotify_send(const struct sdnotify *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* RELOADING=1 with the MONOTONIC_USEC systemd wants beside it; READY=1 ends it. */
void sdnotify_reloading(const struct sdnotify *n);

#endif
