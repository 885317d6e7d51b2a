/* Who hears the manager's events (transitions, admin changes, history entries):
 * the control socket's event streams, the notify hooks, the status endpoint's
 * stream. A fixed table; an event goes to every listener in the order they came. */
#ifndef FOMGR_LISTENERS_H
#define FOMGR_LISTENERS_H

#include <jansson.h>

#define LISTENERS_MAX 16

typedef void (*listeners_fn)(void *arg, json_t *event);

struct listeners {
	struct {
		listeners_fn fn;
		void *arg;
	} v[LISTENERS_MAX];
};

/* 0, or -ENOSPC when LISTENERS_MAX listen already. */
int listeners_add(struct listeners *l, listeners_fn fn, void *arg);
/* Removes every (fn, arg) entry. */
void listeners_remove(struct listeners *l, listeners_fn fn, void *arg);
/* Sets event["event"] = type, hands event to each listener (valid during the
 * call only), then releases it. */
void listeners_emit(const struct listeners *l, const char *type, json_t *event);

#endif
