/* Peer messages sent through CPG. Each node broadcasts its whole state (an
 * announce) whenever it changes, never a delta, so a receiver needs only the last
 * one from each node. Binary, big-endian, versioned; the decoder trusts nothing. */
#ifndef FOMGR_WIRE_H
#define FOMGR_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define WIRE_MAGIC 0x464f4d47u /* "FOMG" */
#define WIRE_VERSION 1
#define WIRE_MAX_SIZE 65536
#define WIRE_MAX_HELD CONFIG_MAX_GROUPS
#define WIRE_MAX_CHECKS 128
#define WIRE_VERSION_STR_MAX 32
#define WIRE_MAX_FW_LINES 256

enum wire_type { WIRE_ANNOUNCE = 1, WIRE_TYPE_MAX };

enum wire_flag {
	WIRE_F_LEAVING = 1u << 0,      /* shutting down: holds nothing, take over now */
	WIRE_F_HEALTH_STALE = 1u << 1, /* the agent stopped reporting (alarm) */
	WIRE_F_SPLIT_RISK = 1u << 2,   /* two_node without a tie-breaker */
	WIRE_F_REACH = 1u << 3,        /* reach[] holds what corosync's knet links tell */
	WIRE_F_ALL = (1u << 4) - 1,
};

enum wire_check_state { WIRE_CHECK_UNKNOWN, WIRE_CHECK_PASSING, WIRE_CHECK_FAILING, WIRE_CHECK_STATE_MAX };

struct wire_check {
	char name[CONFIG_NAME_MAX];
	uint8_t state; /* enum wire_check_state */
};

struct wire_pin {
	char group[CONFIG_NAME_MAX];
	char node[CONFIG_NAME_MAX];
};

/* Operators' cluster-wide state (standby nodes, pinned groups). Every node carries
 * the copy it knows; the newest epoch wins (ties: the lower origin nodeid), is
 * adopted by everyone and persisted, so it survives restarts of the cluster. */
struct wire_admin {
	uint64_t epoch;
	uint32_t origin; /* nodeid that made this epoch */
	size_t n_standby;
	char standby[CONFIG_MAX_NODES][CONFIG_NAME_MAX];
	size_t n_pins;
	struct wire_pin pins[WIRE_MAX_HELD];
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
	char held[WIRE_MAX_HELD][CONFIG_NAME_MAX];          /* groups whose addresses it holds */
	size_t n_ready;
	char failback_ready[WIRE_MAX_HELD][CONFIG_NAME_MAX]; /* groups whose failback delay elapsed here */
	size_t n_checks;
	struct wire_check checks[WIRE_MAX_CHECKS];
	struct wire_admin admin;
	struct wire_netstate netstate;
	size_t n_up;
	char up[WIRE_MAX_HELD][CONFIG_NAME_MAX]; /* groups whose addresses are in its kernel now */
	/* With WIRE_F_REACH: the peers its knet links reach and that it vouches may
	 * still be alive (a peer out of its ring for too long is not vouched for). */
	size_t n_reach;
	uint32_t reach[CONFIG_MAX_NODES];
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
/* A check's state in the announce; WIRE_CHECK_UNKNOWN when absent. */
enum wire_check_state wire_announce_check(const struct wire_announce *a, const char *check);
const char *wire_check_state_str(enum wire_check_state state);
int wire_admin_standby(const struct wire_admin *admin, const char *node);
/* The node a group is pinned to, or NULL. */
const char *wire_admin_pin(const struct wire_admin *admin, const char *group);
/* Whether a is newer than b (epoch, then lower origin). */
int wire_admin_newer(const struct wire_admin *a, const struct wire_admin *b);
int wire_admin_equal(const struct wire_admin *a, const struct wire_admin *b);
const char *wire_type_str(enum wire_type type);

#endif
