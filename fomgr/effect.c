#include "effect.h"

#include <string.h>

static const char *const kind_names[EFFECT_KIND_MAX] = {
	"addr-add",	 "addr-del",	 "probe",	 "garp",       "garp-stop",    "reannounce", "announce",
	"timer-arm",	 "timer-cancel", "ring-distrust", "ring-trust", "fence-withdraw", "fence-return",
	"exit",		 "transition",	 "placement",	 "quorum",     "ring-stall",   "isolated",   "reached",
	"settled",	 "lost-forgotten", "membership",	 "peer-state",	 "admin-adopted", "persist-admin", "reply",
};

void effects_clear(struct effects *fx)
{
	fx->rc = 0;
	fx->n = 0;
	fx->dropped = 0;
}

struct effect *effects_push(struct effects *fx, enum effect_kind kind)
{
	struct effect *e;

	if (fx->n == EFFECT_MAX) {
		fx->dropped++;
		return NULL;
	}
	e = &fx->v[fx->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

int effect_is_fast(enum effect_kind kind)
{
	return kind <= EFFECT_EXIT;
}

const char *effect_kind_str(enum effect_kind kind)
{
	return kind < EFFECT_KIND_MAX ? kind_names[kind] : "invalid";
}
