/* Ring watch: whether this node's corosync still serves it. A thread asks corosync
 * a local question (cmap reads) every period and the loop sees the answers; when
 * none came for longer than the stall bound, corosync is frozen or stalled and the
 * caller must give up its addresses before the peers, who need token + consensus
 * to evict this node, take them over. The same thread reads what would otherwise
 * block the loop: corosync's timers, votes, each peer's knet link state and the
 * quorum device's state. */
#ifndef FOMGR_RINGWATCH_H
#define FOMGR_RINGWATCH_H

#include <ev.h>
#include <stdint.h>

#include "config.h"
#include "membership.h"
#include "qdevice.h"

#define RINGWATCH_ADDRS 4 /* ring0_addr .. ring3_addr */
#define RINGWATCH_ADDR_MAX 64

struct ringwatch_link {
	uint32_t nodeid;
	int connected; /* any knet link to that node is up */
	/* While no link is up: pongs received on its links (rx_pong_packets), and
	 * pongs_read whether they were read. A pong means our ping reached the peer
	 * and its answer reached us: the peer's knet may call its link up on what it
	 * hears meanwhile, while ours still waits for its count. */
	uint64_t pongs;
	int pongs_read;
	/* The monotonic time the ring watch last saw that count move while no link
	 * was up (the answer's), 0: never. */
	uint64_t ponged_us;
	size_t n_addrs;
	char addrs[RINGWATCH_ADDRS][RINGWATCH_ADDR_MAX]; /* its ringN_addr, as configured */
};

/* One answer from corosync. */
struct ringwatch_sample {
	uint64_t at_us; /* monotonic time the answer arrived */
	struct membership_info info;
	uint32_t local_nodeid;
	uint16_t knet_port; /* totem.interface.0.mcastport, 5405 by default */
	uint32_t knet_ping_ms; /* totem.interface.0.knet_ping_interval, 0: not configured */
	char corosync_version[32]; /* `corosync -v`, read once per connection (WIRE_VERSION_STR_MAX) */
	struct qdevice_info qdevice; /* the quorum device, when one is configured */
	size_t n_links; /* peers of the nodelist (not this node) */
	struct ringwatch_link links[CONFIG_MAX_NODES];
	/* Tokens of the ring this node received (stats.srp.orf_token_rx), 0: unknown;
	 * and the latest time known to be before the last one arrived: the previous
	 * answer's, when the count moved since it (an early estimate, never late). */
	uint64_t tokens;
	uint64_t token_at_us;
};

struct ringwatch_ops {
	/* No answer for silent_ms >= the bound. */
	void (*stalled)(void *arg, uint32_t silent_ms, uint32_t bound_ms);
	/* Answers again after stalled_ms of silence. */
	void (*recovered)(void *arg, uint32_t stalled_ms);
	/* Every answer (may be NULL). */
	void (*sample)(void *arg, const struct ringwatch_sample *s);
};

/* Defaults until corosync has answered once: corosync 3's token and consensus. */
#define RINGWATCH_DEFAULT_TOKEN_MS 1000u
#define RINGWATCH_DEFAULT_CONSENSUS_MS 1200u

/* The silence after which corosync counts as stalled: a third of what its peers
 * need to evict this node (token + consensus), so that with one period of
 * detection lag the release is done well before they can claim. Pure. */
uint32_t ringwatch_stall_bound_ms(uint32_t token_ms, uint32_t consensus_ms);
/* How often corosync is asked everything: a quarter of the bound, at least 20 ms.
 * Pure. */
uint32_t ringwatch_period_ms(uint32_t bound_ms);
/* How often, between, it is asked only the knet link states and the token count
 * (a few reads): a quarter of the period, at least 20 ms (45 ms shipped). A link's
 * going down is seen that much after knet calls it, and the lost-holder grace
 * (node.c) counts from there. Pure. */
uint32_t ringwatch_link_period_ms(uint32_t period_ms);
/* The silence tolerated from a corosync that is seen running (its context switches
 * go on: busy forming a membership, which it does not answer during): two thirds of
 * token + consensus, still before the peers could have formed a ring without it.
 * Pure. */
uint32_t ringwatch_busy_bound_ms(uint32_t token_ms, uint32_t consensus_ms);

/* The token silence after which the ring is lost to this node although corosync
 * answers (random or one-way loss, being left out of a forming ring). corosync gave
 * the ring up at token; the peers cannot form one without this node before token +
 * consensus from their own last token, which is at most a rotation (the idle hold,
 * under token / 5) before ours.
 * - Links that reach no peer, or no majority of the votes (reached counts this
 *   node): token + consensus / 2. Nobody vouches for this node (view.c's lost
 *   holder), so the peers may claim as soon as their ring forms. Not shorter: a
 *   ring re-formed with this node in it takes up to a third of consensus past
 *   token in the lab, and a quarter released the holder at every such change.
 * - Links to a majority (with a tie-breaker: to any peer): 3 (token + consensus)
 *   / 2. A peer that reaches this node vouches for it 2 (T + C) after the node
 *   left its ring, so the groups wait; and a ring that lost a dead peer forms at
 *   T + C, which the short bound would undercut: every survivor would release at
 *   every crash of a peer.
 * Pure. */
uint32_t ringwatch_token_bound_ms(uint32_t token_ms, uint32_t consensus_ms, uint32_t reached,
				  uint32_t expected_votes, int tie_breaker);

/* What the loop decides at each check, from facts it gathers (pure, tested):
 * silent_ms since corosync's last answer, late_ms since the previous check (this
 * process did not run in between when it is large), and whether corosync ran
 * meanwhile (-1: unknown). corosync_ran is only passed as 1 while every knet link
 * was up at the last answer: a corosync busy because it lost a peer may be the one
 * being left out, and gets the short bound. */
enum ringwatch_verdict { RINGWATCH_OK, RINGWATCH_STALL, RINGWATCH_SELF_PAUSED, RINGWATCH_VERDICT_MAX };
enum ringwatch_verdict ringwatch_judge(uint32_t silent_ms, uint32_t late_ms, int corosync_ran, uint32_t bound_ms,
				       uint32_t busy_bound_ms);

struct ringwatch *ringwatch_new(struct ev_loop *loop, const struct ringwatch_ops *ops, void *arg);
/* Stops the thread and frees. A thread stuck in a call corosync never answers is
 * detached and left with its memory (the caller is exiting). NULL ok. */
void ringwatch_free(struct ringwatch *w);
int ringwatch_start(struct ringwatch *w);
int ringwatch_is_stalled(const struct ringwatch *w);
/* How long corosync has not answered, whatever the cause (our own pause included). */
uint32_t ringwatch_silence_ms(const struct ringwatch *w);
uint32_t ringwatch_bound_ms(const struct ringwatch *w);
/* The newest answer; 0, or -EAGAIN when none came yet. */
int ringwatch_last(const struct ringwatch *w, struct ringwatch_sample *out);
/* The links as the core reads them (node.h), from one answer s: corosync's
 * settings and version, each peer's link, and whether corosync has been silent
 * past the bound (it does not answer while it cannot settle a membership). */
struct node_links;
void ringwatch_links(const struct ringwatch *w, const struct ringwatch_sample *s, struct node_links *out);

#endif
