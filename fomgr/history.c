#include "history.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct history *history_new(size_t size)
{
	struct history *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->size = size ? size : HISTORY_SIZE;
	h->v = calloc(h->size, sizeof(h->v[0]));
	if (!h->v) {
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	return h;
}

void history_free(struct history *h)
{
	if (!h)
		return;
	free(h->v);
	free(h);
}

void history_set_joined(struct history *h, uint64_t joined_ms)
{
	h->joined_ms = joined_ms;
}

size_t history_count(const struct history *h)
{
	return h->n;
}

const struct history_entry *history_get(const struct history *h, size_t i)
{
	return i < h->n ? &h->v[(h->first + i) % h->size] : NULL;
}

static uint64_t entry_at_ms(const struct history_entry *e)
{
	return e->kind == HISTORY_TRANSITION ? e->t.at_ms : e->a.at_ms;
}

/* A new entry at the end, the oldest dropped when the ring is full. */
static struct history_entry *append(struct history *h, enum history_kind kind, const char *node)
{
	struct history_entry *e;

	if (h->n == h->size) {
		h->first = (h->first + 1) % h->size;
		h->n--;
	}
	e = &h->v[(h->first + h->n++) % h->size];
	memset(e, 0, sizeof(*e));
	e->seq = ++h->next_seq;
	e->kind = kind;
	snprintf(e->node, sizeof(e->node), "%s", node);
	return e;
}

static void mark(const struct history *h, struct history_entry *e)
{
	e->replayed = h->joined_ms && entry_at_ms(e) < h->joined_ms;
}

/* Newer as wire_admin_newer() judges admin states: the epoch, then the lower origin. */
static int admin_newer(const struct history *h, uint64_t epoch, uint32_t origin)
{
	if (!h->have_admin)
		return epoch > 0;
	if (epoch != h->admin_epoch)
		return epoch > h->admin_epoch;
	return origin < h->admin_origin;
}

static void admin_recorded(struct history *h, uint64_t epoch, uint32_t origin)
{
	h->have_admin = 1;
	h->admin_epoch = epoch;
	h->admin_origin = origin;
}

static size_t absorb_admin(struct history *h, const struct wire_admin *admin)
{
	size_t added = 0;

	for (size_t i = 0; i < admin->n_changes; i++) {
		const struct wire_admin_change *c = &admin->changes[i];
		struct history_entry *e;

		if (!admin_newer(h, c->epoch, c->origin))
			continue;
		e = append(h, HISTORY_ADMIN, c->node);
		e->a = *c;
		mark(h, e);
		admin_recorded(h, c->epoch, c->origin);
		added++;
	}
	/* A state whose last change is not among them (an older peer made it). */
	if (admin_newer(h, admin->epoch, admin->origin)) {
		struct history_entry *e = append(h, HISTORY_ADMIN, "");

		e->a.epoch = admin->epoch;
		e->a.origin = admin->origin;
		admin_recorded(h, admin->epoch, admin->origin);
		added++;
	}
	return added;
}

static struct history_source *source_of(struct history *h, uint32_t nodeid, uint32_t pid)
{
	struct history_source *free_slot = NULL;

	for (size_t i = 0; i < CONFIG_MAX_NODES; i++) {
		struct history_source *s = &h->sources[i];
		if (s->nodeid == nodeid) {
			if (s->pid != pid) /* a new process counts from 1 again */
				*s = (struct history_source){.nodeid = nodeid, .pid = pid};
			return s;
		}
		if (!s->nodeid && !free_slot)
			free_slot = s;
	}
	if (!free_slot) /* more nodes than a nodelist holds: not expected; reused */
		free_slot = &h->sources[0];
	*free_slot = (struct history_source){.nodeid = nodeid, .pid = pid};
	return free_slot;
}

size_t history_absorb(struct history *h, const char *name, uint32_t nodeid, uint32_t pid,
		      const struct wire_announce *a)
{
	struct history_source *s = source_of(h, nodeid, pid);
	size_t added = absorb_admin(h, &a->admin);

	for (size_t i = 0; i < a->n_transitions; i++) {
		const struct wire_transition *t = &a->transitions[i];
		struct history_entry *e;

		if (t->seq <= s->last_seq)
			continue;
		e = append(h, HISTORY_TRANSITION, name);
		e->t = *t;
		mark(h, e);
		if (s->last_seq && t->seq > s->last_seq + 1)
			e->missed = t->seq - s->last_seq - 1;
		s->last_seq = t->seq;
		added++;
	}
	return added;
}

static json_t *transition_json(const struct history_entry *e)
{
	const struct wire_transition *t = &e->t;

	return json_pack("{s:s, s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:s?, s:f, s:I}", "event", "transition",
			 "history_seq", (json_int_t)e->seq, "node", e->node, "seq", (json_int_t)t->seq, "group",
			 t->group, "action", t->acquired ? "acquire" : "release", "from", t->from, "to", t->to,
			 "reason", t->reason, "ok", !t->error, "error", t->error ? strerror(t->error) : NULL,
			 "took_ms", t->took_us / 1000.0, "at_ms", (json_int_t)t->at_ms);
}

static json_t *admin_json(const struct history_entry *e)
{
	const struct wire_admin_change *c = &e->a;

	if (!c->what[0]) /* made by an older peer: no author, no details */
		return json_pack("{s:s, s:I, s:I, s:I, s:n}", "event", "admin", "history_seq", (json_int_t)e->seq,
				 "epoch", (json_int_t)c->epoch, "origin", (json_int_t)c->origin, "what");
	return json_pack("{s:s, s:I, s:I, s:s, s:s, s:s*, s:I, s:s, s:s, s:I}", "event", "admin", "history_seq",
			 (json_int_t)e->seq, "epoch", (json_int_t)c->epoch, "what", c->what, "target", c->target, "to",
			 c->to[0] ? c->to : NULL, "uid", (json_int_t)c->uid, "user", c->user, "node", c->node, "at_ms",
			 (json_int_t)c->at_ms);
}

json_t *history_entry_json(const struct history_entry *e)
{
	json_t *o = e->kind == HISTORY_TRANSITION ? transition_json(e) : admin_json(e);

	if (o && e->replayed)
		json_object_set_new(o, "replayed", json_true());
	if (o && e->missed)
		json_object_set_new(o, "missed_before", json_integer(e->missed));
	return o;
}

json_t *history_json(const struct history *h, uint64_t since_ms)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < h->n; i++) {
		const struct history_entry *e = history_get(h, i);

		if (entry_at_ms(e) >= since_ms)
			json_array_append_new(arr, history_entry_json(e));
	}
	return arr;
}
