#include "listeners.h"

#include <errno.h>

int listeners_add(struct listeners *l, listeners_fn fn, void *arg)
{
	for (size_t i = 0; i < LISTENERS_MAX; i++) {
		if (!l->v[i].fn) {
			l->v[i].fn = fn;
			l->v[i].arg = arg;
			return 0;
		}
	}
	return -ENOSPC;
}

void listeners_remove(struct listeners *l, listeners_fn fn, void *arg)
{
	for (size_t i = 0; i < LISTENERS_MAX; i++)
		if (l->v[i].fn == fn && l->v[i].arg == arg)
			l->v[i].fn = NULL;
}

void listeners_emit(const struct listeners *l, const char *type, json_t *event)
{
	json_object_set_new(event, "event", json_string(type));
	for (size_t i = 0; i < LISTENERS_MAX; i++)
		if (l->v[i].fn)
			l->v[i].fn(l->v[i].arg, event);
	json_decref(event);
}
