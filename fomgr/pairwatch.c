#include "pairwatch.h"

static const char *const action_names[PAIRWATCH_ACTION_MAX] = {
	"none", "withdraw", "return", "probe", "isolated", "reached",
};

const char *pairwatch_action_str(enum pairwatch_action a)
{
	return a < PAIRWATCH_ACTION_MAX ? action_names[a] : "invalid";
}

uint64_t pairwatch_wait_us(uint32_t token_ms, uint32_t consensus_ms)
{
	if (!token_ms)
		token_ms = 1000;
	if (!consensus_ms)
		consensus_ms = token_ms + token_ms / 5;
	return 2000ull * (token_ms + consensus_ms);
}

/* A ring-watch period, (T + C) / 12 (ringwatch.c's full readings; links are
 * read more often). */
static uint64_t ring_period_us(uint32_t token_ms, uint32_t consensus_ms)
{
	return pairwatch_wait_us(token_ms, consensus_ms) / 24;
}

static uint64_t max_us(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

uint64_t pairwatch_lost_link_grace_us(uint32_t token_ms, uint32_t consensus_ms)
{
	uint64_t period = ring_period_us(token_ms, consensus_ms);

	return pairwatch_isolation_wait_us(token_ms) + max_us(3 * period, PAIRWATCH_KNET_TICK_US + 2 * period);
}

uint64_t pairwatch_skip_wait_us(uint32_t token_ms, uint32_t consensus_ms)
{
	uint64_t period = ring_period_us(token_ms, consensus_ms);

	return pairwatch_isolation_wait_us(token_ms) + max_us(2 * period, PAIRWATCH_KNET_TICK_US + period);
}

uint64_t pairwatch_bridge_wait_us(uint32_t token_ms, uint32_t consensus_ms)
{
	uint64_t grace = pairwatch_lost_link_grace_us(token_ms, consensus_ms);

	return max_us(pairwatch_wait_us(token_ms, consensus_ms) / 2,
		      grace + PAIRWATCH_KNET_TICK_US + ring_period_us(token_ms, consensus_ms));
}

uint64_t pairwatch_probe_us(uint32_t token_ms, uint32_t consensus_ms, unsigned probes)
{
	uint64_t us = 2 * pairwatch_wait_us(token_ms, consensus_ms);

	for (unsigned i = 0; i < probes && us < 64000000ull; i++)
		us *= 2;
	return us < 64000000ull ? us : 64000000ull;
}

static struct pairwatch_seen *seen_of(struct pairwatch *pw, uint32_t nodeid)
{
	for (size_t i = 0; i < pw->n; i++)
		if (pw->seen[i].nodeid == nodeid)
			return &pw->seen[i];
	if (pw->n == CONFIG_MAX_NODES)
		return NULL;
	pw->seen[pw->n] = (struct pairwatch_seen){.nodeid = nodeid};
	return &pw->seen[pw->n++];
}

static const struct pairwatch_peer *peer_of(const struct pairwatch_input *in, uint32_t nodeid)
{
	for (size_t i = 0; i < in->n_peers; i++)
		if (in->peers[i].nodeid == nodeid)
			return &in->peers[i];
	return NULL;
}

enum pairwatch_action pairwatch_step(struct pairwatch *pw, const struct pairwatch_input *in, uint64_t now_us,
				     uint32_t *peer)
{
	uint64_t wait = pairwatch_wait_us(in->token_ms, in->consensus_ms), stamp = now_us ? now_us : 1;
	uint64_t bridge_wait = pairwatch_bridge_wait_us(in->token_ms, in->consensus_ms);
	size_t reachable = 0;
	int unsettled = in->silent, calm;

	/* Unsettled: our ring is not the set our links reach, or a member of it
	 * reaches a node it left out. */
	for (size_t i = 0; i < in->n_peers; i++)
		unsettled |= !in->peers[i].link_up != !in->peers[i].in_ring ||
			     (!in->peers[i].in_ring && in->peers[i].vouched);
	if (unsettled)
		pw->settled_since_us = 0;
	else if (!pw->settled_since_us)
		pw->settled_since_us = stamp;
	/* Settled for T + C: whatever links were down went down cleanly. */
	calm = pw->settled_since_us && now_us - pw->settled_since_us >= wait / 2;
	if (calm && !pw->withdrawn_from)
		pw->probes = 0;
	for (size_t i = 0; i < in->n_peers; i++) {
		const struct pairwatch_peer *p = &in->peers[i];
		struct pairwatch_seen *seen = seen_of(pw, p->nodeid);
		if (!seen)
			continue;
		if (p->link_up)
			seen->gone = 0;
		else if (calm && !p->in_ring)
			seen->gone = 1;
		/* The long-down clock counts a stretch of unsettled readings: a ring that
		 * settled, even for less than T + C, shows corosync settling. Kept over
		 * it, a heal restarted nothing: at the return of a node cut for 2.9 s
		 * (settled after 0.9 s, the others' knet reading it back 0.1-0.7 s apart)
		 * node2 read the ring unsettled once more and withdrew at once, and
		 * nobody held the VIP for 2.3 s (the campaign, seed 20261209, round 15). */
		if (p->link_up || calm || !unsettled)
			seen->down_since_us = 0;
		else if (!seen->down_since_us)
			seen->down_since_us = stamp;
		if (p->link_up || p->in_ring || !p->vouched)
			seen->bridge_since_us = 0;
		else if (!seen->bridge_since_us)
			seen->bridge_since_us = stamp;
		reachable += p->link_up != 0;
	}
	if (pw->withdrawn_from) {
		const struct pairwatch_peer *p = peer_of(in, pw->withdrawn_from);
		/* Back once the lost link is up (or its node left the nodelist). */
		int back = !p || p->link_up;

		if (!back && now_us - pw->withdrawn_us < pairwatch_probe_us(in->token_ms, in->consensus_ms, pw->probes))
			return PAIRWATCH_NONE;
		*peer = pw->withdrawn_from;
		pw->withdrawn_from = 0;
		pw->probes = back ? 0 : pw->probes + 1;
		/* What was seen before the withdrawal is stale, and what was seen in it
		 * our own doing (the fence cut the other links, which knet calls up a
		 * ping or two after the return): start afresh. Kept, a link our fence
		 * cut counted as a bridge of its own and the node withdrew again, for
		 * another peer, 110 ms after it came back (simulator seed 20266937). */
		for (size_t i = 0; i < pw->n; i++) {
			pw->seen[i].down_since_us = pw->seen[i].bridge_since_us = 0;
			pw->seen[i].gone = 0; /* alone in our own ring, everyone looked gone */
		}
		/* and that ring was settled: kept, the first tick back (the lost link
		 * down, the others not up yet) was calm at once and marked the lost
		 * peer gone again, and the node never withdrew a second time (lab 12
		 * in CI: nobody held the VIP after the probe) */
		pw->settled_since_us = 0;
		return back ? PAIRWATCH_RETURN : PAIRWATCH_PROBE;
	}
	for (size_t i = 0; i < in->n_peers; i++) {
		const struct pairwatch_peer *p = &in->peers[i];
		const struct pairwatch_seen *seen = seen_of(pw, p->nodeid);
		uint64_t down_for;
		int long_down, bridge;

		/* Only the higher nodeid of a pair withdraws; a peer that corosync has
		 * put out of a ring that then settled is a clean failure, not a bridge;
		 * a node that reaches nobody is isolated, which corosync handles. */
		if (p->nodeid >= in->local_nodeid || p->link_up || !seen || reachable == 0)
			continue;
		/* Still silent T + C after the link went down, while another member
		 * still reaches the peer: corosync would have formed a dead peer's ring
		 * by then (knet's ping timeout earlier) and answered; one that cannot
		 * settle keeps the holder's groups orphaned (its ring watch releases
		 * them) until we withdraw. A peer nobody reaches waits the full
		 * 2 (T + C): it may have withdrawn itself, and its fence cuts it off
		 * from everyone; withdrawing for it too left the lab's node1 alone
		 * (lab 12, node3 after node2, once the knet watch read node2's link
		 * down while corosync was silent). */
		down_for = seen->down_since_us ? now_us - seen->down_since_us : 0;
		long_down = !seen->gone && unsettled && down_for &&
			    down_for >= (in->silent && p->vouched ? wait / 2 : wait);
		bridge = seen->bridge_since_us && now_us - seen->bridge_since_us >= bridge_wait;
		if (!long_down && !bridge)
			continue;
		pw->withdrawn_from = p->nodeid;
		pw->withdrawn_us = stamp;
		*peer = p->nodeid;
		return PAIRWATCH_WITHDRAW;
	}
	return PAIRWATCH_NONE;
}

uint64_t pairwatch_isolation_wait_us(uint32_t token_ms)
{
	return 500ull * (token_ms ? token_ms : 1000);
}

int pairwatch_votes_majority(uint32_t reached, uint32_t expected_votes, int tie_breaker)
{
	return tie_breaker || expected_votes < 3 || 2 * reached > expected_votes;
}

uint32_t pairwatch_reached(const struct pairwatch_input *in)
{
	uint32_t reached = 1;

	for (size_t i = 0; i < in->n_peers; i++)
		reached += in->peers[i].link_up != 0;
	return reached;
}

int pairwatch_majority(const struct pairwatch_input *in)
{
	return pairwatch_votes_majority(pairwatch_reached(in), in->expected_votes, in->tie_breaker);
}

enum pairwatch_action pairwatch_isolation_step(struct pairwatch *pw, const struct pairwatch_input *in,
					       uint64_t now_us)
{
	if (pairwatch_majority(in)) {
		pw->minority_since_us = 0;
		if (!pw->isolated)
			return PAIRWATCH_NONE;
		pw->isolated = 0;
		return PAIRWATCH_REACHED;
	}
	if (!pw->minority_since_us)
		pw->minority_since_us = now_us ? now_us : 1;
	if (pw->isolated || now_us - pw->minority_since_us < pairwatch_isolation_wait_us(in->token_ms))
		return PAIRWATCH_NONE;
	pw->isolated = 1;
	return PAIRWATCH_ISOLATED;
}
