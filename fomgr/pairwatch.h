/* Pair watch: the rule that turns an asymmetric (bridge) partition into a clean one.
 * When two nodes cannot reach each other while both still reach the rest, corosync
 * keeps forming memberships and never settles: the far side keeps a stale quorate
 * view and CPG delivers nothing, so nobody can claim a group. The rule: of a broken
 * pair, the node with the higher nodeid withdraws from the ring (fence.c drops its
 * cluster traffic to every peer but the one it lost), so that corosync sees a clean
 * partition and the rest forms a stable quorate ring. It comes back as soon as its
 * knet link to that peer is up again. Pure: no I/O, no clock. */
#ifndef FOMGR_PAIRWATCH_H
#define FOMGR_PAIRWATCH_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct pairwatch_peer {
	uint32_t nodeid;
	int link_up;  /* corosync's knet link to it is connected */
	int in_ring;  /* in the last ring corosync delivered to us */
	int vouched;  /* another member of our ring reaches it (its announce says so) */
	/* The ring is settled when it holds exactly the peers whose links are up. */
};

struct pairwatch_input {
	uint32_t local_nodeid;
	uint32_t token_ms, consensus_ms;
	uint32_t expected_votes; /* votequorum's, 0 when not known */
	int tie_breaker;         /* two_node or a quorum device: votes are not nodes */
	int silent; /* our corosync does not answer (it does not while it cannot settle) */
	size_t n_peers;
	struct pairwatch_peer peers[CONFIG_MAX_NODES];
};

/* What the watch remembers of one peer. */
struct pairwatch_seen {
	uint32_t nodeid;
	/* Since when its link is down while corosync is unsettled, without a settled
	 * reading between; 0 while the link is up or the ring settled. */
	uint64_t down_since_us;
	/* Since when it is out of our ring, our link to it down, while another member
	 * of the ring still reaches it: a bridge, not a dead node. */
	uint64_t bridge_since_us;
	/* Out of our ring with its link down while corosync stayed settled for T + C:
	 * a clean failure (a dead node), until its link is up again. Its down link
	 * is no reason to withdraw when a later fault unsettles the ring. */
	int gone;
};

struct pairwatch {
	uint32_t withdrawn_from; /* the peer we withdrew for, 0 when in the ring */
	uint64_t withdrawn_us;   /* when */
	unsigned probes;         /* returns to look again while the link stayed down */
	uint64_t settled_since_us; /* 0 while corosync is unsettled */
	size_t n;
	struct pairwatch_seen seen[CONFIG_MAX_NODES];
	uint64_t minority_since_us; /* since when our links reach no majority, 0 while they do */
	int isolated;               /* released for it, not back yet */
};

enum pairwatch_action {
	PAIRWATCH_NONE,
	PAIRWATCH_WITHDRAW,
	PAIRWATCH_RETURN,
	PAIRWATCH_PROBE,    /* withdrawn long enough: back, to see whether the bridge is still there */
	PAIRWATCH_ISOLATED, /* our links reach no majority: release before the majority claims */
	PAIRWATCH_REACHED,  /* they reach a majority again */
	PAIRWATCH_ACTION_MAX
};

/* How long a link to a peer must stay down, while our corosync has not settled (its
 * ring is not exactly the peers it can reach, or it does not answer), before we
 * withdraw: twice token + consensus, time
 * for corosync to settle a clean failure (a dead peer leaves our ring long before)
 * and for the partition our own withdrawal makes to settle on the others, so that
 * it never cascades. */
uint64_t pairwatch_wait_us(uint32_t token_ms, uint32_t consensus_ms);

/* libknet (1.25, Debian 12) runs the heartbeat thread that sends its pings and
 * calls links down on a fixed 200 ms clock, whatever knet_ping_interval says
 * (corosync 3.1 cannot change it): the two ends of a link that died call it down
 * up to one such tick apart. The margins below that count on the two ends'
 * calls being close allow for it; with the shipped and test profiles (token
 * 1000 and 600) a ring-watch period or two covered it already, with a token of
 * 200-400 it did not (tests/bench/corosync-frontier.sh). */
#define PAIRWATCH_KNET_TICK_US 200000ull

/* How long a member still vouches for a node after its own link to it went down:
 * the node, cut off, finds itself isolated T / 2 after its own knet called its
 * links down (up to a knet tick after ours) and releases within a ring-watch
 * period, (T + C) / 12, read up to a period late: T / 2 + (T + C) / 4, or
 * T / 2 + the tick + two periods when that is longer. */
uint64_t pairwatch_lost_link_grace_us(uint32_t token_ms, uint32_t consensus_ms);

/* How long after our link to a holder that left went down a presumed owner
 * waits before it may skip the claim round (node.c): the holder's isolation
 * wait, the two ends' skew (a knet tick) and a ring-watch period, at least
 * T / 2 + (T + C) / 6. */
uint64_t pairwatch_skip_wait_us(uint32_t token_ms, uint32_t consensus_ms);

/* How long a peer out of our ring, our link to it down, must stay vouched for by
 * another member before it counts as a bridge: T + C, or, when longer, a
 * voucher's grace after its own link went down (a knet tick after ours at most)
 * and a ring-watch period for its word to reach us: a dead peer is vouched for
 * no longer than that. */
uint64_t pairwatch_bridge_wait_us(uint32_t token_ms, uint32_t consensus_ms);

/* How long a withdrawal lasts while the link stays down before the node comes back
 * to look (PROBE): the peer may have died meanwhile, and a node kept out for a dead
 * peer would cost the cluster its quorum. 4 (T + C), doubled at each probe that
 * finds the bridge again, at most 64 s. */
uint64_t pairwatch_probe_us(uint32_t token_ms, uint32_t consensus_ms, unsigned probes);

/* Feeds one observation at now_us. WITHDRAW: withdraw from the ring, keeping only
 * the link to *peer; RETURN: that link is up again, come back; PROBE: come back
 * although it is not (pairwatch_probe_us). The wait is
 * shorter, T + C, when the ring has already left the peer out while another
 * member still reaches it: that is a bridge, and a dead peer is not vouched for
 * (every member's link to it goes down together); and T + C when our corosync
 * does not answer at the end of it: a dead peer's ring forms T + C after its
 * last token, less knet's ping timeout after its link went down, and corosync
 * answers again once it has. */
enum pairwatch_action pairwatch_step(struct pairwatch *pw, const struct pairwatch_input *in, uint64_t now_us,
				     uint32_t *peer);
/* Isolation: the knet links of this node reach (itself counted) at most half the
 * expected votes. corosync on the other side can then form a quorate ring without
 * us after token + consensus, while ours may not tell us so in time (a one-way
 * loss, a flapping link: it keeps trying to re-form). A holder gives its addresses
 * up first: after pairwatch_isolation_wait_us() (token / 2) without a break, well
 * before the others' T + C. Not applied with a tie-breaker (two_node, a quorum
 * device), where votes are not nodes, nor before the expected votes are known. */
uint64_t pairwatch_isolation_wait_us(uint32_t token_ms);
int pairwatch_majority(const struct pairwatch_input *in);
/* How many nodes the links reach, this one included. */
uint32_t pairwatch_reached(const struct pairwatch_input *in);
/* The same from a count of nodes reached, this one included. */
int pairwatch_votes_majority(uint32_t reached, uint32_t expected_votes, int tie_breaker);
/* ISOLATED once the minority lasted the wait, REACHED when it ends; else NONE. */
enum pairwatch_action pairwatch_isolation_step(struct pairwatch *pw, const struct pairwatch_input *in,
					       uint64_t now_us);
const char *pairwatch_action_str(enum pairwatch_action a);

#endif
