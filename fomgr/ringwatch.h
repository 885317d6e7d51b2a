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
	size_t n_addrs;
	char addrs[RINGWATCH_ADDRS][RINGWATCH_ADDR_MAX]; /* its ringN_addr, as configured */
};

/* One answer from corosync. */
struct ringwatch_sample {
	uint64_t at_us; /* monotonic time the answer arrived */
	struct membership_info info;
	uint32_t local_nodeid;
	uint16_t knet_port; /* totem.interface.0.mcastport, 5405 by default */
	char corosync_version[32]; /* `corosync -v`, read once per connection (WIRE_VERSION_STR_MAX) */
	struct qdevice_info qdevice; /* the quorum device, when one is configured */
	size_t n_links; /* peers of the nodelist (not this node) */
	struct ringwatch_link links[CONFIG_MAX_NODES];
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
/* How often corosync is asked: a quarter of the bound, at least 20 ms. Pure. */
uint32_t ringwatch_period_ms(uint32_t bound_ms);
/* The silence tolerated from a corosync that is seen running (its context switches
 * go on: busy forming a membership, which it does not answer during): two thirds of
 * token + consensus, still before the peers could have formed a ring without it.
 * Pure. */
uint32_t ringwatch_busy_bound_ms(uint32_t token_ms, uint32_t consensus_ms);

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

#endif
