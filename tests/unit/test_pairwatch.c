/* The pair watch's rule, as a table of timelines: which node of a broken pair
 * withdraws, when, and when it comes back; what is not a bridge (a dead peer, an
 * isolated node, a link that comes back in time). Token 600 + consensus 720: the
 * wait is 2640 ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pairwatch.h"

#define MS 1000ull
#define WAIT (2640 * MS)

/* One observation: links and ring membership of peers 1..3 as seen from local. */
struct obs {
	uint64_t at_ms;
	int up[4];      /* link_up by nodeid (index 0 unused) */
	int ring[4];    /* in_ring by nodeid */
	int unsettled;
	enum pairwatch_action want;
	uint32_t want_peer;
};

/* Which peers another member of the ring vouches for (by nodeid), for the
 * bridge-evidence timelines; all zero otherwise. */
static int vouch[4];
/* ... and node1 from this step's time on, to that one (ms, 0 0: never) */
static uint64_t vouch1_from, vouch1_until;
/* corosync's timers the timelines run with */
static uint32_t token_ms = 600, consensus_ms = 720;

static void run(uint32_t local, const struct obs *obs, size_t n)
{
	struct pairwatch pw;

	memset(&pw, 0, sizeof(pw));
	for (size_t i = 0; i < n; i++) {
		struct pairwatch_input in = {.local_nodeid = local, .token_ms = token_ms,
					     .consensus_ms = consensus_ms, .silent = obs[i].unsettled};
		uint32_t peer = 0;
		enum pairwatch_action a;

		for (uint32_t id = 1; id <= 3; id++) {
			if (id == local)
				continue;
			in.peers[in.n_peers++] = (struct pairwatch_peer){
				id, obs[i].up[id], obs[i].ring[id],
				vouch[id] || (id == 1 && obs[i].at_ms >= vouch1_from && obs[i].at_ms < vouch1_until)};
		}
		a = pairwatch_step(&pw, &in, obs[i].at_ms * MS + 1, &peer);
		if (a != obs[i].want)
			fail_msg("local %u, step %zu at %llu ms: %s, expected %s", local, i,
				 (unsigned long long)obs[i].at_ms, pairwatch_action_str(a),
				 pairwatch_action_str(obs[i].want));
		if (a != PAIRWATCH_NONE)
			assert_int_equal(peer, obs[i].want_peer);
	}
}

static void test_wait(void **state)
{
	assert_int_equal(pairwatch_wait_us(600, 720), WAIT);
	assert_int_equal(pairwatch_wait_us(1000, 0), 2 * (1000 + 1200) * MS);
}

/* node2 lost node1, still hears node3, and its ring still shows node1 (corosync
 * cannot settle): after the wait node2 withdraws; it comes back when the link is. */
static void test_higher_of_pair_withdraws_and_returns(void **state)
{
	const struct obs t[] = {
		{0, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{100, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{2000, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{2739, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{2741, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_WITHDRAW, 1},
		{5000, {0, 0, 0, 0}, {0, 0, 1, 0}, 0, PAIRWATCH_NONE, 0}, /* alone now, by our own hand */
		{9000, {0, 1, 0, 0}, {0, 0, 1, 0}, 0, PAIRWATCH_RETURN, 1},
		{9100, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
	};
	run(2, t, sizeof(t) / sizeof(t[0]));
}

/* The same fault seen from node1: the lower nodeid never withdraws. */
static void test_lower_of_pair_stays(void **state)
{
	const struct obs t[] = {
		{0, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{100, {0, 1, 0, 1}, {0, 1, 1, 1}, 1, PAIRWATCH_NONE, 0},
		{10000, {0, 1, 0, 1}, {0, 1, 1, 1}, 1, PAIRWATCH_NONE, 0},
	};
	run(1, t, sizeof(t) / sizeof(t[0]));
}

/* node1 died: corosync puts it out of node3's ring and settles; no withdrawal. */
static void test_dead_peer_is_no_bridge(void **state)
{
	const struct obs t[] = {
		{0, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{400, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{1400, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{60000, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
	};
	run(3, t, sizeof(t) / sizeof(t[0]));
}

/* node1 died and the ring settled without it; later another fault (a one-way
 * loss between node2 and node3, say) unsettles the ring and corosync here goes
 * silent: node1's link is still down, but it is a dead node's, no bridge. Before,
 * node3 withdrew for it, and with the real bridge's own withdrawal no quorate ring
 * was left until the probe (simulator --wire-orphans, seed 20261484). Once node1's
 * link is up again, it counts as before. */
static void test_dead_peer_stays_dead_when_unsettled(void **state)
{
	const struct obs t[] = {
		{0, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{400, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{1400, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{3000, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{5000, {0, 0, 1, 1}, {0, 0, 1, 1}, 1, PAIRWATCH_NONE, 0},
		{20000, {0, 0, 1, 1}, {0, 0, 1, 1}, 1, PAIRWATCH_NONE, 0},
		/* back: its link up once, in the ring, then cut again while corosync
		 * is silent: a bridge again */
		{21000, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{21100, {0, 0, 1, 1}, {0, 1, 1, 1}, 1, PAIRWATCH_NONE, 0},
		{22421, {0, 0, 1, 1}, {0, 1, 1, 1}, 1, PAIRWATCH_WITHDRAW, 1},
	};
	vouch1_from = 21100; /* alive again, cut from us: node2 reaches it */
	vouch1_until = 22422;
	run(3, t, sizeof(t) / sizeof(t[0]));
	vouch1_from = vouch1_until = 0;
}

/* node3 withdraws for node1 and, alone in its own ring, looks settled; at its
 * probe the link to node1 is still down and node2's is not up yet for a few
 * ticks: what it saw alone is no clean failure of node1, and when node2's link
 * is up and the ring unsettled again, it withdraws again. Before, the old settled
 * time carried over, node1 was marked gone at the first tick back, and node3
 * never withdrew again (lab 12 in CI). */
static void test_probe_forgets_its_own_calm(void **state)
{
	const struct obs t[] = {
		{0, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{2641, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_WITHDRAW, 1},
		{3000, {0, 0, 0, 1}, {0, 0, 0, 1}, 0, PAIRWATCH_NONE, 0},  /* alone, settled */
		{7000, {0, 0, 0, 1}, {0, 0, 0, 1}, 0, PAIRWATCH_NONE, 0},  /* calm */
		{7922, {0, 0, 0, 1}, {0, 0, 0, 1}, 0, PAIRWATCH_PROBE, 1}, /* 4 (T + C) */
		{8022, {0, 0, 0, 1}, {0, 0, 0, 1}, 0, PAIRWATCH_NONE, 0},
		{8422, {0, 0, 1, 1}, {0, 0, 0, 1}, 1, PAIRWATCH_NONE, 0},  /* node2 up, churn */
		{9700, {0, 0, 1, 1}, {0, 0, 0, 1}, 1, PAIRWATCH_NONE, 0},
		{9743, {0, 0, 1, 1}, {0, 0, 0, 1}, 1, PAIRWATCH_NONE, 0},  /* nobody reaches node1 */
		{11061, {0, 0, 1, 1}, {0, 0, 0, 1}, 1, PAIRWATCH_NONE, 0},
		{11062, {0, 0, 1, 1}, {0, 0, 0, 1}, 1, PAIRWATCH_WITHDRAW, 1}, /* 2 (T + C) */
	};
	run(3, t, sizeof(t) / sizeof(t[0]));
}

/* node2 withdrew for node1 (their link broke): its fence cuts it off from node3
 * too, and node3's corosync, churning, does not answer; node3's link to node2 is
 * down (the knet watch says so) while node2 is still in its stale ring. Nobody
 * reaches node2: that may be a withdrawal, and node3 waits the full 2 (T + C), by
 * which time corosync has formed {1, 3}, rather than T + C. Before, node3 withdrew
 * too and left node1 alone (lab 12, run 4 of 6). */
static void test_no_cascade_after_a_withdrawal(void **state)
{
	const struct obs t[] = {
		{0, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{100, {0, 1, 0, 1}, {0, 1, 1, 1}, 1, PAIRWATCH_NONE, 0},
		{1421, {0, 1, 0, 1}, {0, 1, 1, 1}, 1, PAIRWATCH_NONE, 0},
		{2000, {0, 1, 0, 1}, {0, 1, 0, 1}, 0, PAIRWATCH_NONE, 0}, /* ring {1, 3} */
		{9000, {0, 1, 0, 1}, {0, 1, 0, 1}, 0, PAIRWATCH_NONE, 0},
	};
	run(3, t, sizeof(t) / sizeof(t[0]));
}

/* corosync put node1 out of the ring once, then stopped answering (it does while
 * it cannot settle): that is a bridge too, 2 (T + C) after it went silent. */
static void test_unsettled_counts(void **state)
{
	const struct obs t[] = {
		{0, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{1000, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{1100, {0, 0, 1, 1}, {0, 0, 1, 1}, 1, PAIRWATCH_NONE, 0},
		{3739, {0, 0, 1, 1}, {0, 0, 1, 1}, 1, PAIRWATCH_NONE, 0},
		{3741, {0, 0, 1, 1}, {0, 0, 1, 1}, 1, PAIRWATCH_WITHDRAW, 1},
	};
	run(2, t, sizeof(t) / sizeof(t[0]));
}

/* node1 cut for 2.9 s: corosync here left it out late, the ring settled for less
 * than T + C, and at the heal node3 reached node1 0.65 s before our knet called
 * our link up. That short unsettled stretch is no bridge: the long-down clock
 * starts again after a settled reading. Before, it ran from the cut, and node2
 * withdrew the moment node3 reached node1 (the campaign, seed 20261209, round 15:
 * nobody held the VIP for 2.3 s after the heal). */
static void test_heal_after_a_short_settle(void **state)
{
	const struct obs t[] = {
		{0, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{1000, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{1900, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0}, /* settled */
		{2300, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{2750, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0}, /* node3 reaches node1 */
		{3000, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{3400, {0, 1, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0}, /* our link up */
		{4000, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
	};
	vouch1_from = 2750;
	vouch1_until = 3400;
	run(2, t, sizeof(t) / sizeof(t[0]));
	vouch1_from = vouch1_until = 0;
}

/* corosync gave node2 a ring of its own although node3 is reachable: that ring is
 * not settled either (node3 keeps trying to merge with both halves). */
static void test_ring_smaller_than_reachable(void **state)
{
	const struct obs t[] = {
		{0, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{1000, {0, 0, 1, 1}, {0, 0, 1, 0}, 0, PAIRWATCH_NONE, 0},
		{2641, {0, 0, 1, 1}, {0, 0, 1, 0}, 0, PAIRWATCH_WITHDRAW, 1},
	};
	run(2, t, sizeof(t) / sizeof(t[0]));
}

/* node2 withdrew (from node1) and cut itself off from node3 too: node3's ring settled
 * without node2. When node2 comes back the ring is unsettled for a moment while
 * node3's link to node2 is still down: that is no new bridge. */
static void test_return_of_a_withdrawn_peer(void **state)
{
	const struct obs t[] = {
		{0, {0, 1, 0, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{1300, {0, 1, 0, 1}, {0, 1, 0, 1}, 0, PAIRWATCH_NONE, 0},
		{12000, {0, 1, 0, 1}, {0, 1, 0, 1}, 0, PAIRWATCH_NONE, 0},
		{12100, {0, 1, 0, 1}, {0, 1, 1, 1}, 1, PAIRWATCH_NONE, 0}, /* merging, link not up yet */
		{12200, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
	};
	run(3, t, sizeof(t) / sizeof(t[0]));
}

/* node3 withdrew for node1 while corosync could not settle (silent); its fence cut
 * the link to node2 too. Back when the link to node1 is up, the link to node2 is
 * still down for a ping or two: that is our own doing, no bridge to withdraw for
 * (before: the down-time counted from inside the withdrawal, and node3 withdrew
 * again, for node2; simulator seed 20266937). */
static void test_own_fence_is_no_bridge(void **state)
{
	const struct obs t[] = {
		{0, {0, 0, 1, 1}, {0, 1, 1, 1}, 1, PAIRWATCH_NONE, 0},
		{2641, {0, 0, 1, 1}, {0, 1, 1, 1}, 1, PAIRWATCH_WITHDRAW, 1},
		{2700, {0, 0, 0, 1}, {0, 1, 1, 1}, 1, PAIRWATCH_NONE, 0}, /* our fence */
		{5500, {0, 1, 0, 1}, {0, 1, 1, 1}, 1, PAIRWATCH_RETURN, 1},
		{5600, {0, 1, 0, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{5700, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
	};
	run(3, t, sizeof(t) / sizeof(t[0]));
}

/* A node that reaches nobody is isolated: corosync handles it (no quorum). */
static void test_isolated_node_stays(void **state)
{
	const struct obs t[] = {
		{0, {0, 0, 1, 0}, {0, 1, 1, 1}, 1, PAIRWATCH_NONE, 0},
		{10000, {0, 0, 1, 0}, {0, 1, 1, 1}, 1, PAIRWATCH_NONE, 0},
	};
	run(2, t, sizeof(t) / sizeof(t[0]));
}

/* A link that comes back before the wait restarts it from zero. */
static void test_flap_restarts_wait(void **state)
{
	const struct obs t[] = {
		{0, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{2000, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{2100, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{4000, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{4741, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_WITHDRAW, 1},
	};
	run(2, t, sizeof(t) / sizeof(t[0]));
}

/* The ring {2, 3} left node1 out and looks settled from node2 (its link to node1
 * is down), but node3 still reaches node1 and says so: a bridge. node2 withdraws
 * T + C (1320 ms) after the ring left node1 out, not 2 (T + C) after its link went
 * down. */
static void test_vouched_peer_is_a_bridge(void **state)
{
	const struct obs t[] = {
		{0, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{300, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{1400, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{2719, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{2721, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_WITHDRAW, 1},
	};
	vouch[1] = 1;
	run(2, t, sizeof(t) / sizeof(t[0]));
	/* node1, the lower, never withdraws for it, vouched or not */
	const struct obs u[] = {
		{0, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{300, {0, 1, 0, 1}, {0, 1, 0, 1}, 0, PAIRWATCH_NONE, 0},
		{10000, {0, 1, 0, 1}, {0, 1, 0, 1}, 0, PAIRWATCH_NONE, 0},
	};
	vouch[1] = 0;
	vouch[2] = 1;
	run(1, u, sizeof(u) / sizeof(u[0]));
	/* the voucher's word goes (its link went down too: node1 died) before the
	 * token is out: no withdrawal, then the settled ring clears the timers */
	const struct obs v[] = {
		{0, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{300, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{500, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{60000, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
	};
	vouch[2] = 0;
	vouch[1] = 1;
	run(2, v, 2);
	vouch[1] = 0;
	run(2, v, sizeof(v) / sizeof(v[0]));
}

/* The margins that allow for knet's 200 ms heartbeat tick (the two ends of a
 * dead link call it down up to a tick apart): with the test and shipped profiles
 * the ring-watch periods already covered most of it; with token 200 they did not. */
static void test_knet_tick_margins(void **state)
{
	/* test profile: grace T/2 + tick + 2 periods (110 ms) = 720 ms (630 before) */
	assert_int_equal(pairwatch_lost_link_grace_us(600, 720), 300000 + 200000 + 2 * 110000);
	assert_int_equal(pairwatch_skip_wait_us(600, 720), 300000 + 200000 + 110000);
	assert_int_equal(pairwatch_bridge_wait_us(600, 720), 1320 * MS);
	/* shipped: T + C still decides the bridge wait */
	assert_int_equal(pairwatch_bridge_wait_us(1000, 1200), 2200 * MS);
	assert_true(pairwatch_lost_link_grace_us(1000, 1200) >= 500000 + 550000);
	/* token 200: the tick dominates every margin */
	assert_int_equal(pairwatch_lost_link_grace_us(200, 240), 100000 + 200000 + 2 * 36666);
	assert_int_equal(pairwatch_bridge_wait_us(200, 240), 373332 + 200000 + 36666);
	assert_true(pairwatch_bridge_wait_us(200, 240) > 440 * MS);
}

/* Token 200, consensus 240. node1 dies at 0; the ring {2, 3} leaves it out at
 * 440 ms; node2's knet calls its link down at 600 ms, node3's a tick later, at
 * 800 ms, and node3 vouches for node1 for its grace after that (373 ms): 573 ms
 * of a dead node vouched for while out of node2's ring and its link down. That is
 * no bridge: with the old wait (T + C, 440 ms) node2 withdrew at 1040 ms and left
 * node3 alone without quorum. A voucher that goes on past the margin (610 ms) is
 * a bridge. */
static void test_dead_peer_vouched_a_tick_longer(void **state)
{
	const struct obs t[] = {
		{0, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{440, {0, 1, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{600, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{1100, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{1172, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{1174, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{5000, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
	};
	const struct obs u[] = {
		{0, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{440, {0, 1, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{600, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{1209, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{1210, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_WITHDRAW, 1},
	};

	token_ms = 200;
	consensus_ms = 240;
	vouch1_from = 0;
	vouch1_until = 1173;
	run(2, t, sizeof(t) / sizeof(t[0]));
	vouch1_until = 0;
	vouch[1] = 1;
	run(2, u, sizeof(u) / sizeof(u[0]));
	vouch[1] = 0;
	token_ms = 600;
	consensus_ms = 720;
}

/* node2 withdrew for node1, whose link stays down: node1 may have died meanwhile,
 * and node2 kept out would leave node3 without quorum. It comes back to look after
 * 4 (T + C) (5280 ms), withdraws again if the bridge is still there, and waits twice
 * as long the next time. */
static void test_withdrawn_node_probes(void **state)
{
	const struct obs t[] = {
		{0, {0, 1, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{100, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{2741, {0, 0, 1, 1}, {0, 1, 1, 1}, 0, PAIRWATCH_WITHDRAW, 1},
		{8020, {0, 0, 0, 0}, {0, 0, 1, 0}, 0, PAIRWATCH_NONE, 0},
		{8022, {0, 0, 0, 0}, {0, 0, 1, 0}, 0, PAIRWATCH_PROBE, 1},
		/* back: the bridge is still there, the wait starts afresh; corosync
		 * here does not answer (it cannot settle): T + C is enough */
		{8100, {0, 0, 1, 1}, {0, 1, 1, 1}, 1, PAIRWATCH_NONE, 0},
		{9419, {0, 0, 1, 1}, {0, 1, 1, 1}, 1, PAIRWATCH_NONE, 0},
		{9421, {0, 0, 1, 1}, {0, 1, 1, 1}, 1, PAIRWATCH_WITHDRAW, 1},
		{19980, {0, 0, 0, 0}, {0, 0, 1, 0}, 0, PAIRWATCH_NONE, 0},
		{19982, {0, 0, 0, 0}, {0, 0, 1, 0}, 0, PAIRWATCH_PROBE, 1},
		/* node1 died: the ring {2, 3} settles, no withdrawal */
		{21400, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
		{90000, {0, 0, 1, 1}, {0, 0, 1, 1}, 0, PAIRWATCH_NONE, 0},
	};
	assert_int_equal(pairwatch_probe_us(600, 720, 0), 5280 * MS);
	assert_int_equal(pairwatch_probe_us(600, 720, 1), 10560 * MS);
	assert_int_equal(pairwatch_probe_us(600, 720, 9), 64000 * MS);
	vouch1_from = 8100; /* the bridge still there: node3 reaches node1 */
	vouch1_until = 9422;
	run(2, t, sizeof(t) / sizeof(t[0]));
	vouch1_from = vouch1_until = 0;
}

/* Isolation, from node1 of three (expected votes 3, token 600: the wait is 300 ms).
 * Each step: the links up to node2 and node3, and the action expected. */
struct iso {
	uint64_t at_ms;
	int up2, up3;
	enum pairwatch_action want;
};

static void run_isolation(const struct iso *steps, size_t n, uint32_t expected, int tie_breaker)
{
	struct pairwatch pw;

	memset(&pw, 0, sizeof(pw));
	for (size_t i = 0; i < n; i++) {
		struct pairwatch_input in = {.local_nodeid = 1, .token_ms = 600, .consensus_ms = 720,
					     .expected_votes = expected, .tie_breaker = tie_breaker};
		enum pairwatch_action a;

		in.peers[in.n_peers++] = (struct pairwatch_peer){2, steps[i].up2, 1, 0};
		in.peers[in.n_peers++] = (struct pairwatch_peer){3, steps[i].up3, 1, 0};
		a = pairwatch_isolation_step(&pw, &in, steps[i].at_ms * MS + 1);
		if (a != steps[i].want)
			fail_msg("step %zu at %llu ms: %s, expected %s", i, (unsigned long long)steps[i].at_ms,
				 pairwatch_action_str(a), pairwatch_action_str(steps[i].want));
	}
}

static void test_isolation_wait(void **state)
{
	assert_int_equal(pairwatch_isolation_wait_us(600), 300 * MS);
	assert_int_equal(pairwatch_isolation_wait_us(0), 500 * MS);
}

/* Both links down (one-way loss, cut cables): isolated after the wait, reached
 * again when one comes back (2 of 3 is a majority). */
static void test_isolated_after_wait(void **state)
{
	static const struct iso t[] = {
		{0, 1, 1, PAIRWATCH_NONE},    {100, 0, 0, PAIRWATCH_NONE},     {399, 0, 0, PAIRWATCH_NONE},
		{400, 0, 0, PAIRWATCH_ISOLATED}, {500, 0, 0, PAIRWATCH_NONE}, {600, 1, 0, PAIRWATCH_REACHED},
		{700, 1, 0, PAIRWATCH_NONE},
	};
	run_isolation(t, sizeof(t) / sizeof(t[0]), 3, 0);
}

/* One link down (a bridge, a dead peer) keeps a majority: nothing. A minority
 * that breaks before the wait starts again. */
static void test_majority_or_short_minority(void **state)
{
	static const struct iso t[] = {
		{0, 0, 1, PAIRWATCH_NONE},   {1000, 1, 0, PAIRWATCH_NONE}, {1100, 0, 0, PAIRWATCH_NONE},
		{1350, 1, 0, PAIRWATCH_NONE}, {1400, 0, 0, PAIRWATCH_NONE}, {1650, 0, 0, PAIRWATCH_NONE},
		{1700, 0, 0, PAIRWATCH_ISOLATED},
	};
	run_isolation(t, sizeof(t) / sizeof(t[0]), 3, 0);
}

/* Votes are not nodes with a tie-breaker, and nothing is judged before the
 * expected votes are known (or in a cluster of two). */
static void test_isolation_not_applied(void **state)
{
	static const struct iso t[] = {
		{0, 0, 0, PAIRWATCH_NONE}, {1000, 0, 0, PAIRWATCH_NONE}, {5000, 0, 0, PAIRWATCH_NONE}};
	struct pairwatch_input in = {.expected_votes = 5};

	run_isolation(t, 3, 3, 1);
	run_isolation(t, 3, 0, 0);
	run_isolation(t, 3, 2, 0);
	/* 5 votes: this node and two peers reach a majority, one peer does not */
	in.peers[in.n_peers++] = (struct pairwatch_peer){2, 1, 1, 0};
	in.peers[in.n_peers++] = (struct pairwatch_peer){3, 1, 1, 0};
	in.peers[in.n_peers++] = (struct pairwatch_peer){4, 0, 1, 0};
	in.peers[in.n_peers++] = (struct pairwatch_peer){5, 0, 1, 0};
	assert_true(pairwatch_majority(&in));
	in.peers[1].link_up = 0;
	assert_false(pairwatch_majority(&in));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_higher_of_pair_withdraws_and_returns),
		cmocka_unit_test(test_lower_of_pair_stays),
		cmocka_unit_test(test_dead_peer_is_no_bridge),
		cmocka_unit_test(test_unsettled_counts),
		cmocka_unit_test(test_heal_after_a_short_settle),
		cmocka_unit_test(test_dead_peer_stays_dead_when_unsettled),
		cmocka_unit_test(test_probe_forgets_its_own_calm),
		cmocka_unit_test(test_no_cascade_after_a_withdrawal),
		cmocka_unit_test(test_ring_smaller_than_reachable),
		cmocka_unit_test(test_return_of_a_withdrawn_peer),
		cmocka_unit_test(test_own_fence_is_no_bridge),
		cmocka_unit_test(test_isolated_node_stays),
		cmocka_unit_test(test_flap_restarts_wait),
		cmocka_unit_test(test_vouched_peer_is_a_bridge),
		cmocka_unit_test(test_knet_tick_margins),
		cmocka_unit_test(test_dead_peer_vouched_a_tick_longer),
		cmocka_unit_test(test_withdrawn_node_probes),
		cmocka_unit_test(test_isolation_wait),
		cmocka_unit_test(test_isolated_after_wait),
		cmocka_unit_test(test_majority_or_short_minority),
		cmocka_unit_test(test_isolation_not_applied),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
