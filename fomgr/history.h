/* The cluster's history: every node's transitions and the operators' admin
 * changes (what, on which target, who asked on which node, when), taken from the
 * announces in the order corosync delivers them, so every node keeps the same
 * list in the same order. A bounded ring in memory, the last HISTORY_SIZE
 * entries; the audit log is the durable record. Pure: no I/O, no clock. */
#ifndef FOMGR_HISTORY_H
#define FOMGR_HISTORY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "wire.h"

#define HISTORY_SIZE 1000

enum history_kind { HISTORY_TRANSITION, HISTORY_ADMIN, HISTORY_KIND_MAX };

struct history_entry {
	uint64_t seq; /* its place in this node's history, from 1 */
	enum history_kind kind;
	/* Where the transition ran; where the admin change was asked. */
	char node[WIRE_NAME_MAX];
	/* It happened before this node joined the group, and came with a peer's state. */
	int replayed;
	/* Transitions of the same fomgr before this one that no announce carried
	 * (more than WIRE_MAX_TRANSITIONS between two that went round). */
	uint32_t missed;
	union {
		struct wire_transition t;
		/* what is "" for a change an older peer made: its author is not known */
		struct wire_admin_change a;
	};
};

/* Who sent what the history holds already: transitions are counted per process. */
struct history_source {
	uint32_t nodeid, pid;
	uint32_t last_seq;
};

struct history {
	size_t size, first, n;
	uint64_t next_seq;
	uint64_t joined_ms; /* this node joined the group (Unix ms); 0: not yet */
	int have_admin;
	uint64_t admin_epoch; /* the newest admin state recorded */
	uint32_t admin_origin;
	struct history_source sources[CONFIG_MAX_NODES];
	struct history_entry *v;
};

/* A ring of size entries (HISTORY_SIZE when 0). NULL with errno. */
struct history *history_new(size_t size);
void history_free(struct history *h);
/* This node joined the group at joined_ms: what happened before is "replayed". */
void history_set_joined(struct history *h, uint64_t joined_ms);
/* One announce from node `name` (nodeid, pid), in the agreed order: appends the
 * admin changes newer than every one recorded (an older peer's state without its
 * changes: one entry without an author), then the node's transitions this
 * process has not sent before. Returns how many entries it appended: the
 * newest ones (history_get(h, history_count(h) - n) onwards). */
size_t history_absorb(struct history *h, const char *name, uint32_t nodeid, uint32_t pid,
		      const struct wire_announce *a);
size_t history_count(const struct history *h);
/* The i-th entry kept, from 0, the oldest. */
const struct history_entry *history_get(const struct history *h, size_t i);
/* As `fomctl events` and `fomctl history` print it; the caller json_decref()s. */
json_t *history_entry_json(const struct history_entry *e);
/* The entries at or after since_ms (Unix ms; 0: all), oldest first. */
json_t *history_json(const struct history *h, uint64_t since_ms);

#endif
