/* Peer messages sent through CPG. Each node broadcasts its whole state (an
 * announce) whenever it changes, never a delta, so a receiver needs only the last
 * one from each node. Binary, big-endian, versioned; the decoder trusts nothing. */
#ifndef FOMGR_WIRE_H
#define FOMGR_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "fo/checkstate.h"

/* The format's own limits: they are the protocol, whatever config.h allows. */
#define WIRE_MAGIC 0x464f4d47u /* "FOMG" */
#define WIRE_VERSION 1
#define WIRE_MAX_SIZE 65536
#define WIRE_NAME_MAX 64  /* a name (group, node, check) with its NUL; its length is one byte */
#define WIRE_MAX_HELD 64  /* groups in a list, pins */
#define WIRE_MAX_NODES 32 /* standby nodes, reached peers */
#define WIRE_MAX_CHECKS 128
#define WIRE_VERSION_STR_MAX 32
#define WIRE_MAX_FW_LINES 256
/* The history part. Every announce is carried whole, in every node's view (32
 * slots) and copied at each step of the core: its lists stay short. */
#define WIRE_MAX_CHANGES 8      /* the admin state's last changes, with their authors */
#define WIRE_MAX_TRANSITIONS 16 /* the sender's last transitions */
#define WIRE_WORD_MAX 32        /* a reason's or a change's kind, with its NUL */

/* Names travel between config and wire both ways, so their sizes are one; every
 * list the config can fill must fit on the wire; the encoder's fields are bytes. */
_Static_assert(WIRE_NAME_MAX == CONFIG_NAME_MAX, "wire and config names differ in size");
_Static_assert(WIRE_NAME_MAX - 1 <= UINT8_MAX, "a name's length is one byte on the wire");
_Static_assert(CONFIG_MAX_GROUPS <= WIRE_MAX_HELD, "the config's groups do not fit on the wire");
_Static_assert(CONFIG_MAX_NODES <= WIRE_MAX_NODES, "the config's nodes do not fit on the wire");
_Static_assert(WIRE_MAX_HELD <= UINT16_MAX && WIRE_MAX_NODES <= UINT16_MAX && WIRE_MAX_CHECKS <= UINT16_MAX,
	       "a list's count is two bytes on the wire");
_Static_assert(CHECK_STATE_MAX - 1 <= UINT8_MAX, "a check's state is one byte on the wire");
_Static_assert(CHECK_UNKNOWN == 0 && CHECK_PASSING == 1 && CHECK_FAILING == 2, "check states are wire values");

enum wire_type { WIRE_ANNOUNCE = 1, WIRE_TYPE_MAX };

enum wire_flag {
	WIRE_F_LEAVING = 1u << 0,      /* shutting down: holds nothing, take over now */
	WIRE_F_HEALTH_STALE = 1u << 1, /* the agent stopped reporting (alarm) */
	WIRE_F_SPLIT_RISK = 1u << 2,   /* two_node without a tie-breaker */
	WIRE_F_REACH = 1u << 3,        /* reach[] holds what corosync's knet links tell */
	WIRE_F_ADMIN_MORE = 1u << 4,   /* the admin state's maintenance mode and disabled groups follow */
	WIRE_F_HISTORY = 1u << 5,      /* the history part: admin changes, transitions, times */
	WIRE_F_ALL = (1u << 6) - 1,
};


struct wire_check {
	char name[WIRE_NAME_MAX];
	uint8_t state; /* enum check_state */
};

struct wire_pin {
	char group[WIRE_NAME_MAX];
	char node[WIRE_NAME_MAX];
};

/* One change of the admin state, with its author: what (standby, unstandby,
 * pin, clear, disable, enable, maintenance, ...: a name, so that a newer peer's
 * kinds read as they are), its target (a node, a group, or on / off for
 * maintenance), the node a pin names, who asked (uid, user name) on which node,
 * and when (Unix ms on that node). */
struct wire_admin_change {
	uint64_t epoch;
	uint32_t origin; /* nodeid, as the admin state's */
	char what[WIRE_WORD_MAX];
	char target[WIRE_NAME_MAX];
	char to[WIRE_NAME_MAX]; /* "" unless a pin */
	uint32_t uid;
	char user[WIRE_NAME_MAX]; /* printable ASCII; may be empty */
	char node[WIRE_NAME_MAX];
	uint64_t at_ms;
};

/* One finished transition of the sender: its own counter, when (Unix ms) and how
 * long it took, acquire or release, the reason's name, the error (errno, 0 when
 * the addresses went as asked). */
struct wire_transition {
	uint32_t seq;
	uint64_t at_ms;
	uint32_t took_us;
	uint8_t acquired;
	uint16_t error;
	char reason[WIRE_WORD_MAX];
	char group[WIRE_NAME_MAX];
	char from[WIRE_NAME_MAX];
	char to[WIRE_NAME_MAX];
};

/* Operators' cluster-wide state (standby nodes, pinned groups, disabled groups,
 * maintenance mode). Every node carries the copy it knows; the newest epoch wins
 * (ties: the lower origin nodeid), is adopted by everyone and persisted, so it
 * survives restarts of the cluster. */
struct wire_admin {
	uint64_t epoch;
	uint32_t origin; /* nodeid that made this epoch */
	size_t n_standby;
	char standby[WIRE_MAX_NODES][WIRE_NAME_MAX];
	size_t n_pins;
	struct wire_pin pins[WIRE_MAX_HELD];
	int maintenance; /* cluster-wide: fomgr moves nothing */
	size_t n_disabled;
	char disabled[WIRE_MAX_HELD][WIRE_NAME_MAX]; /* groups held by nobody */
	/* With WIRE_F_HISTORY: the last changes, oldest first, this state's own last
	 * (an older peer's changes have none: who made them is not known). */
	size_t n_changes;
	struct wire_admin_change changes[WIRE_MAX_CHANGES];
};

/* What the audit compares across nodes: digests of the firewall ruleset, the
 * routes and corosync.conf (all zeros: not known yet), and versions. */
struct wire_netstate {
	uint8_t firewall[32];
	uint8_t routes[32];
	uint8_t corosync_conf[32];
	char corosync_version[WIRE_VERSION_STR_MAX];
	char kernel_version[64];
	size_t n_fw;
	uint32_t fw[WIRE_MAX_FW_LINES]; /* short hashes of the firewall summary's lines */
};

struct wire_announce {
	uint64_t seq; /* the sender's announce counter, for logs and tests */
	uint32_t flags;
	uint8_t config_digest[32];
	char version[WIRE_VERSION_STR_MAX];
	size_t n_held;
	char held[WIRE_MAX_HELD][WIRE_NAME_MAX];          /* groups whose addresses it holds */
	size_t n_ready;
	char failback_ready[WIRE_MAX_HELD][WIRE_NAME_MAX]; /* groups whose failback delay elapsed here */
	size_t n_checks;
	struct wire_check checks[WIRE_MAX_CHECKS];
	struct wire_admin admin;
	struct wire_netstate netstate;
	size_t n_up;
	char up[WIRE_MAX_HELD][WIRE_NAME_MAX]; /* groups whose addresses are in its kernel now */
	/* With WIRE_F_REACH: the peers its knet links reach and that it vouches may
	 * still be alive (a peer out of its ring for too long is not vouched for). */
	size_t n_reach;
	uint32_t reach[WIRE_MAX_NODES];
	/* With WIRE_F_HISTORY (and admin.changes): when the sender's fomgr started and
	 * joined the group (Unix ms), and its last transitions, oldest first. */
	uint64_t started_ms, joined_ms;
	size_t n_transitions;
	struct wire_transition transitions[WIRE_MAX_TRANSITIONS];
};

/* Encodes into buf; returns the length or -ENOSPC / -EINVAL. */
int wire_encode_announce(const struct wire_announce *a, uint8_t *buf, size_t size);
/* Decodes one message; returns 0 with *type set, or -EBADMSG (malformed),
 * -EPROTONOSUPPORT (other version). */
int wire_decode(const uint8_t *buf, size_t len, enum wire_type *type, struct wire_announce *a);

int wire_announce_holds(const struct wire_announce *a, const char *group);
int wire_announce_ready(const struct wire_announce *a, const char *group);
/* The group's addresses are in the sender's kernel (not only claimed). */
int wire_announce_up(const struct wire_announce *a, const char *group);
/* The sender says (WIRE_F_REACH) that its knet links reach nodeid. */
int wire_announce_reaches(const struct wire_announce *a, uint32_t nodeid);
/* A check's state in the announce; CHECK_UNKNOWN when absent. */
enum check_state wire_announce_check(const struct wire_announce *a, const char *check);
int wire_admin_standby(const struct wire_admin *admin, const char *node);
int wire_admin_disabled(const struct wire_admin *admin, const char *group);
/* Whether the admin state has what only WIRE_F_ADMIN_MORE carries (an older peer
 * refuses such an announce: see docs/operators.md, "Maintenance"). */
int wire_admin_more(const struct wire_admin *admin);
/* The node a group is pinned to, or NULL. */
const char *wire_admin_pin(const struct wire_admin *admin, const char *group);
/* Whether a is newer than b (epoch, then lower origin). */
int wire_admin_newer(const struct wire_admin *a, const struct wire_admin *b);
int wire_admin_equal(const struct wire_admin *a, const struct wire_admin *b);
const char *wire_type_str(enum wire_type type);

#endif
