/* Membership: fomgr's connection to corosync. Joins the CPG group and tracks
 * votequorum, with both file descriptors in the libev loop (never a blocking
 * dispatch), and hands every delivered event to the caller in corosync's order.
 * Losing corosync is reported, then the connection is retried with backoff. */
#ifndef FOMGR_MEMBERSHIP_H
#define FOMGR_MEMBERSHIP_H

#include <corosync/corotypes.h>
#include <errno.h>
#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "view.h"

struct membership_ops {
	void (*connected)(void *arg, uint32_t local_nodeid);
	void (*lost)(void *arg); /* corosync went away: treat as quorum lost */
	/* A new ring, with votequorum's verdict on it when already known. */
	void (*totem)(void *arg, const uint32_t *nodeids, size_t n, int quorum_known, int quorate);
	void (*join)(void *arg, uint32_t nodeid, uint32_t pid);
	void (*leave)(void *arg, uint32_t nodeid, uint32_t pid, enum view_leave_reason reason);
	void (*deliver)(void *arg, uint32_t nodeid, uint32_t pid, const void *msg, size_t len);
	void (*quorum)(void *arg, int known, int quorate);
};

struct membership_info {
	int two_node;        /* quorum.two_node */
	int has_qdevice;     /* quorum.device.model is set */
	int crypto;          /* totem crypto_cipher and crypto_hash are not none */
	uint32_t token_ms;   /* runtime.config.totem.token */
	uint32_t consensus_ms;
	/* knet's path MTU discovery: runtime.config.totem.knet_pmtud_interval (s)
	 * and knet_mtu (0: discovered). A discovery that fails leaves the peer
	 * without a usable link until the interval has passed since the last one
	 * that succeeded (libknet), and a withdrawal from the ring fails every one
	 * that runs meanwhile. */
	uint32_t pmtud_interval_s;
	uint32_t knet_mtu;
	/* knet calls a link down this long after its last pong:
	 * totem.interface.0.knet_ping_timeout, else token / knet_pong_count
	 * (corosync's default); 0: not known. */
	uint32_t knet_ping_timeout_ms;
	uint32_t expected_votes;
	/* Every node of the nodelist has one vote and expected_votes is not set
	 * below their number: a ring of more than half the nodes has quorum. */
	int one_vote_each;
};

struct membership *membership_new(struct ev_loop *loop, const char *group, const struct membership_ops *ops,
				  void *arg);
void membership_free(struct membership *m);
/* Connects now, or keeps retrying with backoff; 0 or -errno for a bad group name. */
int membership_start(struct membership *m);
int membership_connected(const struct membership *m);
/* Multicasts in agreed order. Announces are whole states, so when corosync asks
 * to try again only the newest is kept and resent shortly. */
int membership_send(struct membership *m, const void *msg, size_t len);
/* votequorum's figures for this node (a synchronous local call: never in the
 * path of a membership change). 0 or -errno. */
int membership_votes(struct membership *m, uint32_t *expected, uint32_t *total, uint32_t *quorum);
/* corosync stopped answering (ring watch): the ring we know may have been replaced
 * behind our back, so quorum counts as unknown until corosync reports a newer
 * ring, or until membership_trust_ring() says the old one still holds. */
void membership_distrust_ring(struct membership *m);
void membership_trust_ring(struct membership *m);
int membership_ring_distrusted(const struct membership *m);
/* From now on nothing asks corosync anything (leave, finalize): for a shutdown
 * while it does not answer, which would otherwise hang the exit. */
void membership_abandon(struct membership *m);
/* Leaves the group (used at shutdown, after the last announce was delivered). */
void membership_leave(struct membership *m);

/* Synchronous cmap reads, for start-up and reload only (never in the failover path). */
int membership_read_nodelist(struct config_nodelist *out);
int membership_read_info(struct membership_info *out);
/* The same, with what an operator must hear at every connection logged: two_node
 * without a tie-breaker (the split-brain risk), cluster messages without crypto,
 * and a path MTU discovery interval above MEMBERSHIP_PMTUD_INTERVAL_MAX_S. */
int membership_read_info_warned(struct membership_info *out);
/* The longest knet_pmtud_interval under which a withdrawal's failed discovery
 * costs a peer's link for seconds, not half a minute (corosync's default is 30). */
#define MEMBERSHIP_PMTUD_INTERVAL_MAX_S 5u
/* PMTUD is on (knet_mtu 0) and runs less often than that. */
int membership_pmtud_too_slow(const struct membership_info *info);
/* The same from an open cmap handle (the ring watch keeps one). */
int membership_info_from_cmap(uint64_t cmap_handle, struct membership_info *out);
int membership_local_nodeid(uint32_t *nodeid);
/* SHA-256 of corosync's cluster-wide settings as cmap holds them (totem.*,
 * nodelist.node.*, quorum.*), without node-local keys: equal on every node of a
 * consistently configured cluster, whatever comments or log paths differ. */
int membership_config_digest(uint8_t out[32]);

/* corosync's cs_error_t as 0 or a negative errno: the one place those codes are
 * translated, for every user of corosync's libraries (cpg, votequorum, cmap).
 * Inline so that code built without membership.c (audit's tests and tool) has it. */
static inline int membership_cs_errno(cs_error_t err)
{
	switch (err) {
	case CS_OK:
		return 0;
	case CS_ERR_TRY_AGAIN:
		return -EAGAIN;
	case CS_ERR_NOT_EXIST:
		return -ENOENT;
	case CS_ERR_NO_MEMORY:
		return -ENOMEM;
	case CS_ERR_ACCESS:
		return -EACCES;
	case CS_ERR_INVALID_PARAM:
		return -EINVAL;
	case CS_ERR_TOO_BIG:
		return -EMSGSIZE;
	default:
		return -ENOTCONN;
	}
}

#endif
