#include "cluster.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "effect.h"
#include "knetwatch.h"
#include "node.h"
#include "pairwatch.h"
#include "ringwatch.h"

/* corosync's token and consensus, and knet's ping timers: the lab's test profile
 * unless the options name a token (sim_run sets them for each run). */
static uint32_t sim_token_ms = 600u, sim_consensus_ms = 720u;
static uint32_t sim_knet_ping_us = 100000u, sim_knet_down_us = 400000u;
#define T_MS sim_token_ms
#define C_MS sim_consensus_ms
#define TC_US (1000ull * (T_MS + C_MS))
#define DELIVER_US 1000u /* CPG's agreed order: a message reaches every member 1 ms later */
#define VQ_US 2000u      /* votequorum's verdict on a new ring */
/* With --vq-jitter: 1-3 ms, for each node on its own (votequorum's IPC and CPG's
 * are two sockets: announces of the new ring come before or after it, differently
 * on each node). */
#define VQ_JITTER_US(r) (1000u + (r) % 2001u)
/* The bounds the invariants hold the core to (docs/security.md, "Promises and their bounds"). */
#define DUAL_BOUND_US 0ull /* never two holders, for every fault the model makes */
#define ORPHAN_BOUND_US (4 * TC_US + 1000000ull) /* a bridge: 2 (T + C) + T + C, the fence lifted: T + C */
/* While a corosync cannot settle, with more than one fault in place: a node may
 * withdraw for a peer that was only dead (the fault before), and the quorate ring
 * waits for its probe: 2 (T + C) to withdraw, 4 (T + C) to the probe, T + C to
 * form, and a second of slack (docs/security.md, the pair watch's cost) */
#define BRIDGE_ORPHAN_BOUND_US (7 * TC_US + 1000000ull)
#define SETTLED_US (2 * TC_US)
/* The heal (issue 9): a fault ends (a thaw, every link back) while somebody holds
 * the group; the group is not left without a holder for longer than this. */
#define HEAL_BOUND_US 1000000ull
/* knet (the lab's test profile): a ping every 100 ms, a link down 400 ms after its
 * last pong, up again after two pongs. What the ring watch reads lags the wire by that. */
#define KNET_PING_US sim_knet_ping_us
#define KNET_DOWN_US sim_knet_down_us
/* knet called a link down 0.8-2.0 s after a cut in the lab, with a ping timeout
 * of 400 ms (libknet's pong-timeout backoff: 10 x when a link is made or goes
 * down, lowered about once a second), sometimes after totem formed its first ring
 * without the peer; the
 * model draws 0.4-1.4 s half the time (always, a flapping link was never reported
 * down at all: test_node's flap scenario) */
#define KNET_DOWN_LATE_US 1000000u
/* A lossy link as knet shows it: down for a while (only what outlasts the ping
 * timeout is seen), up for a while. A flapping link: both faster than the token. */
#define LOSS_DOWN_US(r) (50000u + (r) % 1450000u)
#define LOSS_UP_US(r) (200000u + (r) % 2300000u)
#define FLAP_US(r) (50000u + (r) % (1000u * T_MS - 100000u))
/* The quorum device: qnetd answers for a new ring 100-400 ms after it formed;
 * qdevice finds the witness gone after 2 s (its heartbeat), and the vote goes. */
#define QD_VOTE_US(r) (100000u + (r) % 300000u)
#define QD_LOST_US 2000000u
/* Bounds of the faults beyond the clean ones (docs/security.md): a lossy, flapping
 * or one-way link on a holder, 1.5 s; a paused fomgr holds on while paused, and
 * once it runs again until its backlog or its corosync shows it the ring that
 * left it out: at once when corosync ran meanwhile, token + consensus after it
 * runs again when corosync was frozen too (a paused VM: the ring watch counts
 * the silence as its own once corosync ran at all). */
#define DEGRADED_DUAL_BOUND_US 1500000ull
#define RESUME_DUAL_BOUND_US (TC_US + 50000ull)
/* two_node without a device: both halves hold (and say so) until they merge again */
#define MERGE_DUAL_BOUND_US 100000ull

enum sev_kind { SEV_OP, SEV_NETLINK, SEV_PROBE, SEV_TIMER, SEV_DELIVER, SEV_REFORM, SEV_VQ, SEV_QUORUM, SEV_TICK,
		SEV_LEAVE, SEV_KNET, SEV_FLAP, SEV_QDEV, SEV_QDEV_LOST, SEV_KIND_MAX };

struct sim_msg {
	uint64_t ring;
	size_t from;
	uint32_t pid;
	unsigned done; /* receivers it was delivered to (bits) */
	unsigned want; /* the members of its ring when it was sent */
	struct wire_announce a;
};

struct sev {
	uint64_t at, seq;
	enum sev_kind kind;
	size_t node;
	size_t slot;
	uint32_t gen; /* timer generation, or the fomgr instance of a netlink/probe answer */
	int value;
	struct sim_msg *msg;
	const struct sim_op *op;
};

/* An event a paused fomgr has not read yet, with what it points to. */
struct backlog_item {
	struct node_event ev;
	uint32_t timer_gen; /* TIMER: fires only if not re-armed or cancelled meanwhile */
	int group, expect;  /* NETLINK: the kernel changed when it answered; the record comes now */
	struct wire_announce announce;
	uint32_t nodeids[SIM_MAX_NODES];
	struct node_links links;
	struct wire_check check;
};

struct snode {
	struct node *core;
	int paused, draining; /* fomgr stopped (SIGSTOP); reading its backlog */
	uint64_t resumed_us;
	struct backlog_item *backlog;
	size_t n_backlog, cap_backlog;
	int crashed, fomgr_up, frozen, healthy;
	uint32_t pid, instance;
	/* corosync */
	uint64_t ring;
	unsigned members; /* bits */
	int gathering;    /* its ring broke: nothing is delivered until a new one forms */
	uint64_t broke_us; /* since when (a freeze: since it stopped) */
	int silent;       /* it cannot settle (a bridge): it does not answer */
	int distrust;
	uint64_t distrust_ring;
	int vq_known, vq_quorate;
	int in_group; /* its fomgr is a member of the CPG group */
	/* the ring watch */
	uint64_t last_answer_us;
	int stalled, links_down_at_answer;
	uint64_t stalled_since_us; /* the last answer before the stall */
	/* its ring's tokens: whether they reach this node now, whether its corosync
	 * has counted any since it started, when the last came, the ring watch's
	 * estimate of that (early: the answer before it), and since when it counts
	 * a silence at all (its fomgr started, or found a pause its own) */
	int tokens_flow, tokens_counted;
	uint64_t token_us, token_est_us, watch_from_us;
	struct node_links links;
	/* the kernel */
	int present[SIM_GROUPS];
	int expect_record[SIM_GROUPS]; /* a kernel change whose record must follow in this step: 1 add, 2 del */
	unsigned releasing;            /* address deletions in flight */
	/* the executor */
	uint32_t timer_gen[NODE_TIMER_MAX];
	int withdrawn;
	size_t keep;
	struct sim_msg *outbox[64];
	size_t n_outbox;
	struct wire_admin disk; /* the admin state persisted in its state directory */
	uint64_t skipped_seen;  /* its core's claims_skipped counted so far */
};

struct world {
	const struct sim_options *opt;
	struct sim_result *res;
	struct config *config;
	struct config_nodelist nodelist;
	uint8_t digest[32];
	size_t n;
	uint64_t now, seq, ring_seq, rng;
	uint64_t token_rng; /* the ring watch's estimates: a stream of their own, so the rest draws as before */
	struct sev *heap;
	size_t n_heap, cap_heap;
	struct sim_msg *held[256];
	size_t n_held;
	int link[SIM_MAX_NODES][SIM_MAX_NODES];
	struct snode nodes[SIM_MAX_NODES];
	struct effects fx;
	uint64_t dual_since[SIM_GROUPS], orphan_since[SIM_GROUPS], last_change_us, calm_since, last_ring_us;
	uint64_t topology; /* what the last change left, to tell a change from none */
	/* The last operation, when it was a heal (thaw, heal), and the groups a
	 * member of a working ring held then. */
	uint64_t heal_us;
	int held_at_heal[SIM_GROUPS];
	/* What corosync has noticed: a node or link change counts token + consensus
	 * after it happened; until then the one before stands. */
	int cur_alive[SIM_MAX_NODES], prev_alive[SIM_MAX_NODES];
	int cur_link[SIM_MAX_NODES][SIM_MAX_NODES], prev_link[SIM_MAX_NODES][SIM_MAX_NODES];
	uint64_t alive_at[SIM_MAX_NODES], link_at[SIM_MAX_NODES][SIM_MAX_NODES];
	uint32_t known_pid[SIM_MAX_NODES][SIM_MAX_NODES]; /* the fomgr of j that node i's CPG reported, 0 none */
	int stopped;
	/* Lossy links: frames dropped now (down for totem and knet alike), and the
	 * process that drops them (SIM_OP_LOSS, SIM_OP_FLAP; 0 none). */
	int dropped[SIM_MAX_NODES][SIM_MAX_NODES], lossy[SIM_MAX_NODES][SIM_MAX_NODES];
	uint32_t lossy_gen[SIM_MAX_NODES][SIM_MAX_NODES];
	int oneway;             /* a one-way loss is in place */
	int lossy_any;          /* a lossy or flapping link, until the heal */
	uint64_t degraded_until; /* lossy, flapping or one-way links until then: the degraded dual bound */
	/* What each end's knet reports of a link (knet[i][j]: node i's reading of its
	 * link to j, what i's ring watch reads), and a change on its way (the time of a
	 * pending down, so that the other end's goes down with it). */
	int knet[SIM_MAX_NODES][SIM_MAX_NODES], knet_want[SIM_MAX_NODES][SIM_MAX_NODES];
	uint64_t knet_down_at[SIM_MAX_NODES][SIM_MAX_NODES];
	/* since when the pair's frames pass again (0 while they do not), and when node i
	 * last had a pong from j while its knet called the link down */
	uint64_t wire_up_us[SIM_MAX_NODES][SIM_MAX_NODES];
	uint64_t ponged_us[SIM_MAX_NODES][SIM_MAX_NODES];
	/* since when no frame of the pair passes (0 while they do): what the knet
	 * watch (fomgr/knetwatch.c) hears */
	uint64_t wire_down_us[SIM_MAX_NODES][SIM_MAX_NODES];
	uint32_t knet_gen[SIM_MAX_NODES][SIM_MAX_NODES];
	/* The quorum device: the witness, and the ring its vote is for (0 none). */
	int witness_up;
	uint64_t vote_ring;
	uint32_t witness_gen;
};

static uint64_t mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd(struct world *w)
{
	return mix(&w->rng);
}

static void fail(struct world *w, const char *fmt, ...)
{
	va_list ap;

	if (w->res->failed)
		return;
	w->res->failed = 1;
	va_start(ap, fmt);
	vsnprintf(w->res->message, sizeof(w->res->message), fmt, ap);
	va_end(ap);
	w->stopped = 1;
}

/* ---- the event queue: a binary heap by (time, order of scheduling) ---- */

static int sev_before(const struct sev *a, const struct sev *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static struct sev *schedule(struct world *w, uint64_t at, enum sev_kind kind, size_t node)
{
	size_t i;

	if (w->n_heap == w->cap_heap) {
		w->cap_heap = w->cap_heap ? 2 * w->cap_heap : 256;
		w->heap = realloc(w->heap, w->cap_heap * sizeof(*w->heap));
		if (!w->heap)
			abort();
	}
	i = w->n_heap++;
	w->heap[i] = (struct sev){.at = at, .seq = w->seq++, .kind = kind, .node = node};
	while (i && sev_before(&w->heap[i], &w->heap[(i - 1) / 2])) {
		struct sev t = w->heap[i];
		w->heap[i] = w->heap[(i - 1) / 2];
		w->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return &w->heap[i];
}

static struct sev pop(struct world *w)
{
	struct sev top = w->heap[0];
	size_t i = 0;

	w->heap[0] = w->heap[--w->n_heap];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, s = i;
		if (l < w->n_heap && sev_before(&w->heap[l], &w->heap[s]))
			s = l;
		if (r < w->n_heap && sev_before(&w->heap[r], &w->heap[s]))
			s = r;
		if (s == i)
			break;
		struct sev t = w->heap[i];
		w->heap[i] = w->heap[s];
		w->heap[s] = t;
		i = s;
	}
	return top;
}

/* ---- helpers ---- */

static int group_index(const char *name)
{
	return strcmp(name, "vip") == 0 ? 0 : strcmp(name, "db") == 0 ? 1 : -1;
}

static int alive(const struct world *w, size_t i)
{
	return !w->nodes[i].crashed && !w->nodes[i].frozen;
}

static int fence_ok(const struct world *w, size_t i, size_t j)
{
	return !w->nodes[i].withdrawn || w->nodes[i].keep == j;
}

/* corosync's knet link between i and j carries traffic now. */
static int elink(const struct world *w, size_t i, size_t j)
{
	return i != j && w->link[i][j] && !w->dropped[i][j] && fence_ok(w, i, j) && fence_ok(w, j, i) && alive(w, i) &&
	       alive(w, j);
}

static unsigned popcount(unsigned x)
{
	return (unsigned)__builtin_popcount(x);
}

/* two_node holds only in a cluster of two: votequorum turns it off when more
 * nodes join (votequorum(5)), and a majority decides. Before, --quorum two-node
 * on a seed of 4 or 8 nodes kept a node cut off from seven others quorate
 * (seeds 20261339, 20262479: two holders). */
static int two_node(const struct world *w)
{
	return w->opt->quorum == SIM_QUORUM_TWO_NODE && w->n == 2;
}

/* votequorum: the votes a ring has (the device's only once qnetd answered for
 * that very ring: qdevice polls votequorum with the ring id), and its verdict. */
static uint32_t expected_votes(const struct world *w)
{
	return (uint32_t)w->n + (w->opt->quorum == SIM_QUORUM_QDEVICE);
}

static int ring_quorate(const struct world *w, unsigned members, uint64_t ring)
{
	uint32_t votes = popcount(members) + (w->opt->quorum == SIM_QUORUM_QDEVICE && ring && w->vote_ring == ring);

	if (two_node(w))
		return votes >= 1;
	return 2 * votes > expected_votes(w);
}

static struct membership_info sim_info(const struct world *w)
{
	return (struct membership_info){.crypto = 1, .token_ms = T_MS, .consensus_ms = C_MS,
					.knet_ping_timeout_ms = KNET_DOWN_US / 1000u,
					.expected_votes = expected_votes(w), .one_vote_each = 1,
					.two_node = two_node(w),
					.has_qdevice = w->opt->quorum == SIM_QUORUM_QDEVICE};
}

static uint64_t netlink_latency(struct world *w)
{
	return w->opt->netlink_ms ? 1000ull * w->opt->netlink_ms : 1000ull + rnd(w) % 2000ull;
}

static uint64_t vq_latency(struct world *w)
{
	return w->opt->vq_jitter ? VQ_JITTER_US(rnd(w)) : VQ_US;
}

static void step(struct world *w, size_t i, struct node_event *ev);

/* ---- votequorum and membership.c's trust of the ring ---- */

static void report_quorum(struct world *w, size_t i)
{
	struct snode *s = &w->nodes[i];
	int known = !s->distrust && s->vq_known;
	struct node_event ev = {.kind = NODE_EV_QUORUM, .quorum_known = known, .quorate = known && s->vq_quorate};

	if (s->fomgr_up)
		step(w, i, &ev);
}

/* ---- the kernel and the executor ---- */

static int others_answer(const struct world *w, size_t i, int g)
{
	for (size_t j = 0; j < w->n; j++)
		if (j != i && !w->nodes[j].crashed && w->nodes[j].present[g])
			return 1;
	return 0;
}

static void send_announce(struct world *w, size_t i)
{
	struct snode *s = &w->nodes[i];
	struct sim_msg *m = malloc(sizeof(*m));
	struct sev *e;

	if (!m)
		abort();
	m->from = i;
	m->pid = s->pid;
	m->a = *node_announce(s->core);
	m->done = 0;
	/* Totem delivers a sender's messages in the order it sent them: while what
	 * it sent before a ring change waits in its outbox, so does this one (an
	 * announce sent at the change's callbacks came before the older ones). */
	if (s->gathering || s->frozen || s->n_outbox) {
		if (s->n_outbox < 64) {
			s->outbox[s->n_outbox++] = m;
			return;
		}
		free(m);
		return;
	}
	m->ring = s->ring;
	m->want = s->members;
	e = schedule(w, w->now + DELIVER_US, SEV_DELIVER, i);
	e->msg = m;
}

static void arm(struct world *w, size_t i, const struct effect *e)
{
	struct snode *s = &w->nodes[i];
	struct sev *t = schedule(w, e->at_us > w->now ? e->at_us : w->now, SEV_TIMER, i);

	t->value = e->value;
	t->gen = ++s->timer_gen[e->value];
}

static void topology_changed(struct world *w);

static void exit_fomgr(struct world *w, size_t i)
{
	struct snode *s = &w->nodes[i];

	s->fomgr_up = 0;
	s->in_group = 0;
	s->instance++;
	for (size_t j = 0; j < w->n; j++)
		if (j != i && (s->members >> j & 1)) {
			struct sev *e = schedule(w, w->now + DELIVER_US, SEV_LEAVE, j);
			e->slot = i;
			e->gen = s->pid;
			e->value = VIEW_LEAVE_PROC;
		}
}

static void record(struct world *w, size_t i, const struct effect *e)
{
	struct snode *s = &w->nodes[i];
	int g = group_index(e->group);

	if (g < 0 || e->t.error)
		return;
	w->res->transitions++;
	if (s->expect_record[g] != (e->t.acquired ? 1 : 2))
		fail(w, "node%zu: transition record (group=%s %s) without the kernel change it records", i + 1, e->group,
		     e->t.acquired ? "acquired" : "released");
	s->expect_record[g] = 0;
	if (e->t.acquired) {
		uint64_t k = s->core->transition.stats.claims_skipped;
		w->res->acquisitions++;
		w->res->claims_skipped += k - s->skipped_seen;
		if (k != s->skipped_seen)
			w->res->seen |= SIM_SEEN_CLAIM_SKIPPED;
		s->skipped_seen = k;
	}
	if (e->t.acquired)
		snprintf(w->res->last_reason[g], sizeof(w->res->last_reason[g]), "%s",
			 transition_reason_str((enum transition_reason)e->t.reason));
	if (w->opt->verbose)
		printf("%8.3f node%zu transition group=%s from=%s to=%s reason=%s\n", w->now / 1e6, i + 1, e->group,
		       e->t.from, e->t.to, transition_reason_str((enum transition_reason)e->t.reason));
}

static void run_effect(struct world *w, size_t i, const struct effect *e)
{
	struct snode *s = &w->nodes[i];
	struct sev *x;
	int g = group_index(e->group);

	switch (e->kind) {
	case EFFECT_ADDR_ADD:
	case EFFECT_ADDR_DEL:
		x = schedule(w, w->now + netlink_latency(w), SEV_NETLINK, i);
		x->slot = e->slot;
		x->value = e->kind == EFFECT_ADDR_ADD;
		x->gen = s->instance;
		if (e->kind == EFFECT_ADDR_DEL)
			s->releasing++;
		break;
	case EFFECT_PROBE:
		x = schedule(w, w->now + 1000ull * w->config->arp_probe_ms, SEV_PROBE, i);
		x->slot = e->slot;
		x->gen = s->instance;
		break;
	case EFFECT_ANNOUNCE:
		send_announce(w, i);
		break;
	case EFFECT_TIMER_ARM:
		arm(w, i, e);
		break;
	case EFFECT_TIMER_CANCEL:
		s->timer_gen[e->value]++;
		break;
	case EFFECT_RING_DISTRUST:
		if (!s->distrust) {
			s->distrust = 1;
			s->distrust_ring = s->ring;
			schedule(w, w->now, SEV_QUORUM, i);
		}
		break;
	case EFFECT_RING_TRUST:
		if (s->distrust) {
			s->distrust = 0;
			schedule(w, w->now, SEV_QUORUM, i);
		}
		break;
	case EFFECT_FENCE_WITHDRAW:
		s->withdrawn = 1;
		s->keep = e->peer - 1;
		w->res->seen |= SIM_SEEN_WITHDRAWAL;
		if (w->opt->verbose)
			printf("%8.3f node%zu withdraws, keeping node%u\n", w->now / 1e6, i + 1, e->peer);
		topology_changed(w);
		break;
	case EFFECT_FENCE_RETURN:
		if (w->opt->verbose)
			printf("%8.3f node%zu returns (%s)\n", w->now / 1e6, i + 1, e->value ? "probe" : "link up");
		s->withdrawn = 0;
		topology_changed(w);
		break;
	case EFFECT_TRANSITION:
		record(w, i, e);
		break;
	case EFFECT_PERSIST_ADMIN:
		s->disk = e->value ? s->core->request : s->core->admin;
		break;
	case EFFECT_PLACEMENT:
		if (w->opt->verbose > 1)
			printf("%8.3f node%zu placement group=%s owner=%u holder=%d reason=%s\n", w->now / 1e6, i + 1,
			       e->group, e->peer, e->value2, placement_reason_str((enum placement_reason)e->value));
		break;
	case EFFECT_RING_STALL:
		if (e->value2 >= 0)
			w->res->stalls++;
		if (e->value2 >= 0 && s->core->failback_at_us)
			w->res->seen |= SIM_SEEN_STALL_IN_FAILBACK;
		break;
	case EFFECT_GARP:
	case EFFECT_REANNOUNCE:
	case EFFECT_GARP_STOP:
	default:
		(void)g;
		break;
	}
}

/* A paused fomgr reads nothing: what corosync, the kernel, the agent and its
 * timers send waits, in order, with copies of what it points to. */
static struct backlog_item *backlog_push(struct world *w, size_t i, const struct node_event *ev)
{
	struct snode *s = &w->nodes[i];
	struct backlog_item *b;

	if (s->n_backlog == s->cap_backlog) {
		s->cap_backlog = s->cap_backlog ? 2 * s->cap_backlog : 16;
		s->backlog = realloc(s->backlog, s->cap_backlog * sizeof(*s->backlog));
		if (!s->backlog)
			abort();
	}
	b = &s->backlog[s->n_backlog++];
	b->ev = *ev;
	b->group = -1;
	b->expect = 0;
	if (ev->kind == NODE_EV_TIMER)
		b->timer_gen = s->timer_gen[ev->value];
	if (ev->announce)
		b->announce = *ev->announce;
	if (ev->nodeids && ev->n_nodeids)
		memcpy(b->nodeids, ev->nodeids, ev->n_nodeids * sizeof(b->nodeids[0]));
	if (ev->links)
		b->links = *ev->links;
	if (ev->checks && ev->n_checks)
		b->check = ev->checks[0];
	return b;
}

static void step_now(struct world *w, size_t i, struct node_event *ev);

/* One node_step, and its effects in the executor's order (later, if paused). */
static void step(struct world *w, size_t i, struct node_event *ev)
{
	struct snode *s = &w->nodes[i];

	if (!s->fomgr_up || w->stopped)
		return;
	if (s->paused || s->draining) {
		backlog_push(w, i, ev);
		return;
	}
	step_now(w, i, ev);
}

/* It runs again: the ring watch sees its own silence (corosync ran meanwhile),
 * then the backlog is read in order, at once. */
static void drain(struct world *w, size_t i)
{
	struct snode *s = &w->nodes[i];
	struct backlog_item *b = malloc(sizeof(*b));

	if (!b)
		abort();
	if (s->n_backlog)
		w->res->seen |= SIM_SEEN_BACKLOG;
	s->draining = 1;
	for (size_t k = 0; k < s->n_backlog && s->fomgr_up && !w->stopped; k++) {
		*b = s->backlog[k];
		if (b->ev.announce)
			b->ev.announce = &b->announce;
		if (b->ev.nodeids)
			b->ev.nodeids = b->nodeids;
		if (b->ev.links)
			b->ev.links = &b->links;
		if (b->ev.checks)
			b->ev.checks = &b->check;
		if (b->ev.kind == NODE_EV_TIMER && b->timer_gen != s->timer_gen[b->ev.value])
			continue;
		if (b->group >= 0 && b->expect)
			s->expect_record[b->group] = b->expect;
		step_now(w, i, &b->ev);
	}
	s->n_backlog = 0;
	s->draining = 0;
	free(b);
}

static void step_now(struct world *w, size_t i, struct node_event *ev)
{
	struct snode *s = &w->nodes[i];
	const struct effect *exit = NULL;

	ev->ring_distrusted = s->distrust;
	ev->ring_stalled = s->stalled;
	if (w->opt->verbose > 2)
		printf("%8.3f node%zu <- %s nodeid=%u known=%d quorate=%d n=%zu\n", w->now / 1e6, i + 1,
		       node_event_kind_str(ev->kind), ev->nodeid, ev->quorum_known, ev->quorate, ev->n_nodeids);
	node_step(s->core, ev, w->now, &w->fx);
	w->res->steps++;
	if (w->fx.dropped)
		fail(w, "node%zu: %zu effects dropped in one step", i + 1, w->fx.dropped);
	{
		/* effects may step other nodes (a merge's joins): keep ours */
		size_t n = w->fx.n;
		struct effect *v = malloc(n * sizeof(*v) + 1);

		if (!v)
			abort();
		memcpy(v, w->fx.v, n * sizeof(*v));
		for (size_t k = 0; k < n; k++)
			if (v[k].kind == EFFECT_EXIT)
				exit = &v[k];
			else if (effect_is_fast(v[k].kind))
				run_effect(w, i, &v[k]);
		for (size_t k = 0; k < n; k++)
			if (!effect_is_fast(v[k].kind))
				run_effect(w, i, &v[k]);
		if (exit)
			exit_fomgr(w, i);
		free(v);
	}
	for (int g = 0; g < SIM_GROUPS; g++)
		if (s->expect_record[g])
			fail(w, "node%zu: group %s %s in the kernel without its transition record", i + 1,
			     w->config->groups[g].name, s->expect_record[g] == 1 ? "added" : "deleted");
}

/* ---- corosync: rings, agreed order, configuration changes ---- */

/* What corosync on the others has noticed of node i, and of the link i-j. */
static int noticed_alive(const struct world *w, size_t i)
{
	return w->alive_at[i] + TC_US <= w->now ? w->cur_alive[i] : w->prev_alive[i];
}

static int noticed_link(const struct world *w, size_t i, size_t j)
{
	return w->link_at[i][j] + TC_US <= w->now ? w->cur_link[i][j] : w->prev_link[i][j];
}

/* A link as the ring's forming sees it: a node that died since the others last
 * noticed is a member on paper (they evict it token + consensus after it died),
 * whatever its links did meanwhile. */
static int ring_link(const struct world *w, size_t i, size_t j)
{
	if (i == j)
		return 0;
	if (!alive(w, i) || !alive(w, j))
		return noticed_alive(w, i) && noticed_alive(w, j) && (w->link[i][j] || w->prev_link[i][j]);
	return noticed_link(w, i, j);
}

static void snapshot(struct world *w)
{
	for (size_t i = 0; i < w->n; i++) {
		if (alive(w, i) != w->cur_alive[i]) {
			w->prev_alive[i] = noticed_alive(w, i);
			w->cur_alive[i] = alive(w, i);
			w->alive_at[i] = w->now;
		}
		for (size_t j = 0; j < w->n; j++)
			if (elink(w, i, j) != w->cur_link[i][j]) {
				w->prev_link[i][j] = noticed_link(w, i, j);
				w->cur_link[i][j] = elink(w, i, j);
				w->link_at[i][j] = w->now;
			}
	}
}



/* CPG's configuration changes as node x's fomgr sees them. */
static void cpg_join(struct world *w, size_t x, size_t j)
{
	struct node_event ev = {.kind = NODE_EV_JOIN, .nodeid = (uint32_t)j + 1, .pid = w->nodes[j].pid};

	w->known_pid[x][j] = w->nodes[j].pid;
	step(w, x, &ev);
}

static void cpg_leave(struct world *w, size_t x, size_t j, int reason)
{
	struct node_event ev = {.kind = NODE_EV_LEAVE, .nodeid = (uint32_t)j + 1, .pid = w->known_pid[x][j],
				.value = reason};

	if (!w->known_pid[x][j])
		return;
	w->known_pid[x][j] = 0;
	step(w, x, &ev);
}

static void deliver_to(struct world *w, struct sim_msg *m, size_t j)
{
	struct node_event ev = {.kind = NODE_EV_DELIVER, .nodeid = (uint32_t)m->from + 1, .pid = m->pid,
				.announce = &m->a};

	m->done |= 1u << j;
	step(w, j, &ev);
}

static int deliverable(const struct world *w, const struct sim_msg *m, size_t j)
{
	const struct snode *s = &w->nodes[j];

	return (m->want >> j & 1) && !(m->done >> j & 1) && s->ring == m->ring && !s->gathering && !s->frozen &&
	       !s->crashed;
}

static void hold(struct world *w, struct sim_msg *m)
{
	if (w->n_held < 256)
		w->held[w->n_held++] = m;
	else
		free(m);
}

static void on_deliver(struct world *w, struct sim_msg *m)
{
	int pending = 0;

	for (size_t j = 0; j < w->n; j++) {
		if (deliverable(w, m, j))
			deliver_to(w, m, j);
		else if ((m->want >> j & 1) && !(m->done >> j & 1) && w->nodes[j].ring == m->ring)
			pending = 1;
	}
	if (pending)
		hold(w, m);
	else
		free(m);
}

/* Virtual synchrony: what the old ring sent reaches the members that move on
 * together before the configuration change. */
static void flush_held(struct world *w, unsigned component)
{
	size_t k = 0;

	for (size_t i = 0; i < w->n_held; i++) {
		struct sim_msg *m = w->held[i];
		int keep = 0;

		for (size_t j = 0; j < w->n; j++) {
			if (!(m->want >> j & 1) || (m->done >> j & 1) || w->nodes[j].ring != m->ring)
				continue;
			if ((component >> j & 1) && (component >> m->from & 1) && !w->nodes[j].frozen)
				deliver_to(w, m, j);
			else
				keep = 1;
		}
		if (keep)
			w->held[k++] = m;
		else
			free(m);
	}
	w->n_held = k;
}

static int release_in_flight(const struct world *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->nodes[i].releasing)
			return 1;
	return 0;
}

/* What members sent while their ring was forming goes out in the ring now. */
static void send_outboxes(struct world *w, unsigned members, uint64_t ring)
{
	for (size_t i = 0; i < w->n; i++) {
		struct snode *s = &w->nodes[i];
		size_t n = s->n_outbox;

		if (!(members >> i & 1))
			continue;
		s->n_outbox = 0;
		for (size_t k = 0; k < n; k++) {
			struct sim_msg *m = s->outbox[k];
			struct sev *e = schedule(w, w->now + DELIVER_US, SEV_DELIVER, i);
			m->ring = ring;
			m->want = members;
			e->msg = m;
		}
	}
}

/* CPG's view of the group for node i in a ring of members: who left, or came
 * back as another process (it rebooted while the ring could not settle), then
 * who joined; our own join brings the whole member list. */
static void sync_group(struct world *w, size_t i, unsigned members, const uint64_t *old_ring)
{
	const struct snode *s = &w->nodes[i];
	int own = w->known_pid[i][i] != s->pid && s->in_group;

	/* a node that was in another ring meanwhile left and comes back: a merge;
	 * it was not in our transitional membership, so CPG reports its processes
	 * down with the node (CPG_REASON_NODEDOWN), whatever became of them */
	for (size_t j = 0; j < w->n; j++) {
		int merged = old_ring && old_ring[j] != old_ring[i];

		if (j != i && w->known_pid[i][j] &&
		    (!(members >> j & 1) || !w->nodes[j].in_group || w->known_pid[i][j] != w->nodes[j].pid || merged))
			cpg_leave(w, i, j,
				  (members >> j & 1) && !w->nodes[j].in_group && !merged ? VIEW_LEAVE_PROC : VIEW_LEAVE_NODE);
	}
	for (size_t j = 0; j < w->n; j++)
		if ((members >> j & 1) && w->nodes[j].in_group && (own || w->known_pid[i][j] != w->nodes[j].pid))
			cpg_join(w, i, j);
}

/* What a process that has gone since sent (its last announce) comes before
 * its leave. */
static void deliver_departed(struct world *w, unsigned members)
{
	for (size_t i = 0; i < w->n; i++) {
		struct snode *s = &w->nodes[i];
		if (!(members >> i & 1) || s->fomgr_up)
			continue;
		for (size_t k = 0; k < s->n_outbox; k++) {
			struct sim_msg *m = s->outbox[k];
			for (size_t x = 0; x < w->n; x++)
				if ((members >> x & 1) && w->known_pid[x][i] == m->pid)
					deliver_to(w, m, x);
			free(m);
		}
		s->n_outbox = 0;
	}
}

static void form_ring(struct world *w, unsigned members)
{
	uint64_t ring = ++w->ring_seq, old_ring[SIM_MAX_NODES];
	uint32_t ids[SIM_MAX_NODES];
	size_t n_ids = 0;

	if (release_in_flight(w))
		w->res->seen |= SIM_SEEN_RELEASE_AT_RING;
	w->last_ring_us = w->now;
	for (size_t j = 0; j < w->n; j++)
		if (members >> j & 1)
			ids[n_ids++] = (uint32_t)j + 1;
	for (size_t j = 0; j < w->n; j++)
		old_ring[j] = w->nodes[j].ring;
	flush_held(w, members);
	deliver_departed(w, members);
	for (size_t i = 0; i < w->n; i++) {
		struct snode *s = &w->nodes[i];
		struct node_event tev = {.kind = NODE_EV_TOTEM, .nodeids = ids, .n_nodeids = n_ids};

		/* a node frozen since is a member on paper; it hears of it, if ever, later */
		if (!(members >> i & 1) || !alive(w, i))
			continue;
		s->ring = ring;
		s->members = members;
		s->gathering = s->silent = 0;
		s->vq_known = 0;
		if (s->distrust && ring > s->distrust_ring)
			s->distrust = 0;
		if (!s->fomgr_up)
			continue;
		tev.quorum_known = 0;
		step(w, i, &tev);
		sync_group(w, i, members, old_ring);
		schedule(w, w->now + vq_latency(w), SEV_VQ, i)->gen = (uint32_t)ring;
	}
	send_outboxes(w, members, ring);
	if (w->opt->quorum == SIM_QUORUM_QDEVICE)
		schedule(w, w->now + QD_VOTE_US(rnd(w)), SEV_QDEV, 0);
}

/* Its ring broke now (a link, a peer): nothing is delivered until it is whole. */
static void ring_broke(struct world *w, struct snode *s)
{
	if (!s->gathering)
		s->broke_us = w->now;
	s->gathering = 1;
}

/* A ring broken for longer than the token timeout lost its token: corosync forms
 * a new ring (a new ring id, though its members may be the same), it does not
 * resume the old one. */
static int token_lost(const struct world *w, unsigned comp)
{
	for (size_t a = 0; a < w->n; a++)
		if ((comp >> a & 1) && w->nodes[a].gathering &&
		    w->last_change_us >= w->nodes[a].broke_us + 1000ull * T_MS)
			return 1;
	return 0;
}

/* The rings corosync forms token + consensus after a change: a component of
 * nodes that all reach each other becomes one ring; a component that is not
 * (a bridge) cannot settle: its nodes keep their old ring, deliver nothing and
 * stop answering. */
static void reform(struct world *w)
{
	unsigned seen = 0;

	for (size_t i = 0; i < w->n; i++) {
		unsigned comp = 0, stack = 1u << i;
		int clique = 1;

		if (!noticed_alive(w, i) || (seen >> i & 1))
			continue;
		while (stack) {
			size_t x = (size_t)__builtin_ctz(stack);
			stack &= ~(1u << x);
			if (comp >> x & 1)
				continue;
			comp |= 1u << x;
			for (size_t j = 0; j < w->n; j++)
				if (ring_link(w, x, j) && noticed_alive(w, j) && !(comp >> j & 1))
					stack |= 1u << j;
		}
		seen |= comp;
		for (size_t a = 0; a < w->n; a++)
			for (size_t b = a + 1; b < w->n; b++)
				if ((comp >> a & 1) && (comp >> b & 1) && !ring_link(w, a, b))
					clique = 0;
		if (w->opt->verbose > 2)
			printf("%8.3f reform component %#x%s\n", w->now / 1e6, comp, clique ? "" : " (cannot settle)");
		if (!clique && w->opt->partial_mesh) {
			/* the experiment: the nodes that all reach the lowest nodeid
			 * and each other (taken in nodeid order) settle a ring; the
			 * rest keep trying, answering between attempts */
			unsigned k = 0;
			for (size_t a = 0; a < w->n; a++) {
				int all = comp >> a & 1;
				for (size_t b = 0; all && b < w->n; b++)
					if ((k >> b & 1) && !ring_link(w, a, b))
						all = 0;
				if (all)
					k |= 1u << a;
			}
			for (size_t a = 0; a < w->n; a++)
				if ((comp & ~k) >> a & 1)
					ring_broke(w, &w->nodes[a]);
			comp = k;
		} else if (!clique) {
			for (size_t a = 0; a < w->n; a++)
				if (comp >> a & 1) {
					ring_broke(w, &w->nodes[a]);
					w->nodes[a].silent = 1;
				}
			continue;
		}
		{
			int same = 1;
			for (size_t a = 0; a < w->n; a++)
				if ((comp >> a & 1) && (w->nodes[a].members != comp || w->nodes[a].ring != w->nodes[i].ring))
					same = 0;
			if (!same || token_lost(w, comp)) {
				form_ring(w, comp);
			} else {
				for (size_t a = 0; a < w->n; a++)
					if (comp >> a & 1)
						w->nodes[a].gathering = w->nodes[a].silent = 0;
				flush_held(w, comp);
				deliver_departed(w, comp);
				/* the ring resumes: what was sent meanwhile is delivered */
				for (size_t a = 0; a < w->n; a++)
					if ((comp >> a & 1) && w->nodes[a].fomgr_up)
						sync_group(w, a, comp, NULL);
				send_outboxes(w, comp, w->nodes[i].ring);
			}
		}
	}
}

/* A ring whose members no longer all reach each other stops delivering at once;
 * corosync forms new rings token + consensus later. */
static uint64_t topology(const struct world *w)
{
	uint64_t bits = 0, k = 0;

	for (size_t i = 0; i < w->n; i++) {
		bits |= (uint64_t)alive(w, i) << (k++ % 64);
		for (size_t j = i + 1; j < w->n; j++)
			bits ^= (uint64_t)elink(w, i, j) << (k++ % 64);
	}
	return bits ^ (uint64_t)w->n << 58;
}

/* How long after the wire knet calls a link down: the ping timeout, or (half the
 * time) later, as measured in the lab. */
static uint64_t knet_down_us(struct world *w)
{
	uint64_t r = rnd(w);

	return r & 1 ? KNET_DOWN_US - (r >> 1) % KNET_PING_US : KNET_DOWN_US + (r >> 1) % KNET_DOWN_LATE_US;
}

/* knet follows the wire: a link is reported down the ping timeout after its last
 * pong (at both ends together), up after one or two pongs (each end on its own:
 * a link up for less than that may come up at one end only, as the lab's
 * flapping link did); a change undone before that is never reported. */
static void knet_sync(struct world *w)
{
	for (size_t i = 0; i < w->n; i++)
		for (size_t j = i + 1; j < w->n; j++) {
			if (elink(w, i, j)) {
				if (w->wire_down_us[i][j] || !w->wire_up_us[i][j])
					w->wire_up_us[i][j] = w->wire_up_us[j][i] = w->now ? w->now : 1;
				w->wire_down_us[i][j] = w->wire_down_us[j][i] = 0;
			} else if (!w->wire_down_us[i][j]) {
				w->wire_down_us[i][j] = w->wire_down_us[j][i] = w->now ? w->now : 1;
				w->wire_up_us[i][j] = w->wire_up_us[j][i] = 0;
			}
		}
	for (size_t i = 0; i < w->n; i++)
		for (size_t j = 0; j < w->n; j++) {
			int want = i != j && elink(w, i, j);
			uint64_t at;
			struct sev *e;

			if (i == j)
				continue;
			if (want == w->knet[i][j]) {
				if (w->knet_want[i][j])
					w->knet_gen[i][j]++;
				w->knet_want[i][j] = 0;
				w->knet_down_at[i][j] = 0;
				continue;
			}
			if (w->knet_want[i][j])
				continue;
			if (want)
				at = w->now + KNET_PING_US + rnd(w) % KNET_PING_US;
			else if (w->knet_down_at[j][i]) {
				/* each end's heartbeat runs on its own 200 ms clock (libknet's,
				 * pairwatch.h): the other end calls it down up to a tick
				 * before or after */
				uint64_t r = rnd(w), skew = (r >> 1) % (PAIRWATCH_KNET_TICK_US + 1);

				at = w->knet_down_at[j][i];
				at = r & 1 ? at + skew : (at > w->now + skew ? at - skew : w->now + 1);
			} else
				at = w->now + knet_down_us(w);
			w->knet_want[i][j] = 1;
			w->knet_down_at[i][j] = want ? 0 : at;
			e = schedule(w, at, SEV_KNET, i);
			e->slot = j;
			e->value = want;
			e->gen = ++w->knet_gen[i][j];
		}
}

static void on_knet(struct world *w, const struct sev *e)
{
	size_t i = e->node, j = e->slot;

	if (e->gen != w->knet_gen[i][j])
		return;
	w->knet_want[i][j] = 0;
	w->knet_down_at[i][j] = 0;
	w->knet[i][j] = e->value;
	if (e->value && w->lossy[i][j])
		w->res->seen |= SIM_SEEN_KNET_FLAP;
}

/* A lossy link: frames dropped for a while, then carried for a while, until
 * the heal. */
static void lossy_next(struct world *w, size_t i, size_t j, uint64_t after)
{
	struct sev *e = schedule(w, w->now + after, SEV_FLAP, i);

	e->slot = j;
	e->gen = w->lossy_gen[i][j];
}

static void lossy_start(struct world *w, size_t i, size_t j, int kind)
{
	if (i == j)
		return;
	if (i > j) {
		size_t t = i;
		i = j;
		j = t;
	}
	w->lossy[i][j] = w->lossy[j][i] = kind;
	w->lossy_any = 1;
	w->lossy_gen[i][j]++;
	w->degraded_until = UINT64_MAX;
	lossy_next(w, i, j, rnd(w) % 300000u);
}

static void on_flap(struct world *w, const struct sev *e)
{
	size_t i = e->node, j = e->slot;
	int down;
	uint64_t r = rnd(w);

	if (e->gen != w->lossy_gen[i][j] || !w->lossy[i][j])
		return;
	down = w->dropped[i][j] = w->dropped[j][i] = !w->dropped[i][j];
	topology_changed(w);
	if (w->lossy[i][j] == SIM_OP_FLAP)
		lossy_next(w, i, j, FLAP_US(r));
	else
		lossy_next(w, i, j, down ? LOSS_DOWN_US(r) : LOSS_UP_US(r));
}

/* ---- the quorum device (net, ffsplit) ---- */

/* Every node whose ring's verdict changed with the vote hears it from votequorum. */
static void votes_changed(struct world *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct snode *s = &w->nodes[i];
		int q;

		if (!s->vq_known || !alive(w, i))
			continue;
		q = ring_quorate(w, s->members, s->ring);
		if (q == s->vq_quorate)
			continue;
		s->vq_quorate = q;
		if (q && 2 * popcount(s->members) <= w->n)
			w->res->seen |= SIM_SEEN_WITNESS_VOTE;
		schedule(w, w->now + vq_latency(w), SEV_QUORUM, i);
	}
}

static int ring_settled(const struct world *w, uint64_t ring, unsigned *members)
{
	int any = 0;

	for (size_t i = 0; i < w->n; i++) {
		const struct snode *s = &w->nodes[i];
		if (s->ring != ring || !alive(w, i))
			continue;
		if (s->gathering || s->silent)
			return 0;
		*members = s->members;
		any = 1;
	}
	return any;
}

/* qnetd's ffsplit: the vote stays with the ring that has it while any node is
 * still in that ring; a new ring gets it when it has settled, the one with the
 * most nodes, the lowest nodeid breaking a tie. */
static void qdevice_decide(struct world *w)
{
	uint64_t best = 0;
	unsigned best_members = 0, members = 0;

	if (w->opt->quorum != SIM_QUORUM_QDEVICE || !w->witness_up)
		return;
	for (size_t i = 0; i < w->n && w->vote_ring; i++)
		if (alive(w, i) && w->nodes[i].ring == w->vote_ring)
			return;
	for (size_t i = 0; i < w->n; i++) {
		const struct snode *s = &w->nodes[i];
		if (!alive(w, i) || !ring_settled(w, s->ring, &members))
			continue;
		if (!best || popcount(members) > popcount(best_members) ||
		    (popcount(members) == popcount(best_members) &&
		     __builtin_ctz(members) < __builtin_ctz(best_members))) {
			best = s->ring;
			best_members = members;
		}
	}
	w->vote_ring = best;
	votes_changed(w);
}

static void topology_changed(struct world *w)
{
	uint64_t now;

	knet_sync(w);
	now = topology(w);

	/* Nothing corosync can see changed (an op that healed what was whole): its
	 * wait goes on undisturbed. */
	if (now == w->topology)
		return;
	w->topology = now;
	snapshot(w);
	for (size_t i = 0; i < w->n; i++) {
		struct snode *s = &w->nodes[i];
		if (!alive(w, i))
			continue;
		for (size_t j = 0; j < w->n; j++)
			if (j != i && (s->members >> j & 1) && (!elink(w, i, j) || w->nodes[j].ring != s->ring))
				ring_broke(w, s);
	}
	w->last_change_us = w->now;
	schedule(w, w->now + TC_US, SEV_REFORM, 0);
}

/* ---- the ring watch: corosync's answers, the links, stalls ---- */

static void read_links(struct world *w, size_t i)
{
	struct snode *s = &w->nodes[i];
	uint32_t reached = 1;

	s->links.info = sim_info(w);
	snprintf(s->links.corosync_version, sizeof(s->links.corosync_version), "3.1.7");
	s->links.n = 0;
	for (size_t j = 0; j < w->n; j++) {
		if (j == i)
			continue;
		/* pongs pass once the frames have for a ping */
		if (!w->knet[i][j] && w->wire_up_us[i][j] && w->now - w->wire_up_us[i][j] >= KNET_PING_US / 2)
			w->ponged_us[i][j] = w->now;
		s->links.v[s->links.n].nodeid = (uint32_t)j + 1;
		s->links.v[s->links.n].ponged_us = w->ponged_us[i][j];
		s->links.v[s->links.n++].connected = w->knet[i][j];
		reached += w->knet[i][j] != 0;
	}
	/* as ringwatch.c judges a silence: links to no majority of the votes count
	 * as a corosync that is not running */
	s->links_down_at_answer = !pairwatch_votes_majority(reached, s->links.info.expected_votes,
							    s->links.info.two_node || s->links.info.has_qdevice);
}

/* The token of node i's ring comes round: its corosync runs in a formed ring
 * whose members all run in it. A ring breaks for every member at once (the token
 * is lost: a member gone, frozen, cut off, or forming another membership), and
 * a node in memberships that do not settle has none. */
static int in_operational_ring(const struct world *w, size_t i)
{
	const struct snode *s = &w->nodes[i];

	if (!alive(w, i) || s->gathering || s->silent)
		return 0;
	for (size_t j = 0; j < w->n; j++) {
		const struct snode *m = &w->nodes[j];
		if ((s->members >> j & 1) && (!alive(w, j) || m->gathering || m->silent || m->ring != s->ring))
			return 0;
	}
	return 1;
}

/* After every event: tokens reached a node that was in an operational ring up
 * to now. When its ring breaks, the ring watch's estimate of the last token is
 * the answer before it (ringwatch.c): up to a link period early (the token count
 * is read with the links), drawn from the seed. */
static void follow_tokens(struct world *w)
{
	uint64_t period_us = 1000ull * ringwatch_link_period_ms(ringwatch_period_ms(ringwatch_stall_bound_ms(T_MS, C_MS)));

	for (size_t i = 0; i < w->n; i++) {
		struct snode *s = &w->nodes[i];
		int flow = in_operational_ring(w, i);

		if (s->tokens_flow || flow)
			s->token_us = w->now;
		if (flow)
			s->tokens_counted = 1;
		if (s->tokens_flow && !flow) {
			uint64_t early = mix(&w->token_rng) % period_us;
			s->token_est_us = s->token_us > early ? s->token_us - early : 0;
		}
		s->tokens_flow = flow;
	}
}

/* The ring watch calls a stall, for either cause: one stall state. */
static void ring_stall(struct world *w, size_t i, uint32_t silent_ms, uint32_t bound_ms, const char *cause)
{
	struct snode *s = &w->nodes[i];
	struct node_event ev = {.kind = NODE_EV_RING_STALL, .ms = silent_ms, .ms2 = bound_ms};

	if (w->opt->verbose > 1)
		printf("%8.3f node%zu ring watch: stall, %s for %u ms (bound %u ms)\n", w->now / 1e6, i + 1, cause,
		       silent_ms, bound_ms);
	s->stalled = 1;
	s->stalled_since_us = s->last_answer_us;
	step(w, i, &ev);
}

static void tick(struct world *w, size_t i)
{
	struct snode *s = &w->nodes[i];
	uint32_t bound = ringwatch_stall_bound_ms(T_MS, C_MS);
	uint32_t busy = ringwatch_busy_bound_ms(T_MS, C_MS);
	struct node_event ev = {.links = &s->links};

	/* the ring watch reads the links (and the token count) every link period */
	schedule(w, w->now + 1000ull * ringwatch_link_period_ms(ringwatch_period_ms(bound)), SEV_TICK, i);
	if (s->crashed || !s->fomgr_up || s->paused)
		return; /* a paused fomgr's ring watch thread is stopped too */
	if (!s->frozen && !s->silent) {
		/* an answer ends a stall once it counts a token more (a corosync that
		 * counts none, fresh from a boot, by answering) */
		if (s->stalled && (s->tokens_flow || !s->tokens_counted)) {
			struct node_event back = {.kind = NODE_EV_RING_BACK,
						  .ms = (uint32_t)((w->now - s->stalled_since_us) / 1000)};
			if (w->opt->verbose > 1)
				printf("%8.3f node%zu ring watch: back after %u ms\n", w->now / 1e6, i + 1, back.ms);
			s->stalled = 0;
			step(w, i, &back);
		}
		s->last_answer_us = w->now;
		read_links(w, i);
		s->links.silent = 0;
		ev.kind = NODE_EV_RING_SAMPLE;
		step(w, i, &ev);
	} else {
		uint64_t silence = (w->now - s->last_answer_us) / 1000;
		uint32_t b = s->frozen || s->links_down_at_answer ? bound : busy;

		s->links.silent = silence >= bound;
		if (silence >= b && !s->stalled)
			ring_stall(w, i, (uint32_t)silence, b, "corosync silent");
	}
	/* The ring watch's token rule: corosync answers, but its ring has passed this
	 * node no token for the bound its links (as last read) give. */
	if (!s->stalled && s->tokens_counted && !s->tokens_flow) {
		uint64_t from = s->token_est_us > s->watch_from_us ? s->token_est_us : s->watch_from_us;
		uint64_t quiet = w->now > from ? (w->now - from) / 1000 : 0;
		uint32_t reached = 1, token_bound;

		for (size_t k = 0; k < s->links.n; k++)
			reached += s->links.v[k].connected != 0;
		token_bound = ringwatch_token_bound_ms(T_MS, C_MS, reached, s->links.info.expected_votes,
						       s->links.info.two_node || s->links.info.has_qdevice);
		if (quiet >= token_bound)
			ring_stall(w, i, (uint32_t)quiet, token_bound, "no token");
	}
	ev.kind = NODE_EV_PAIR_TICK;
	if (s->links.silent) {
		/* corosync's readings stopped with its answers; the knet watch still
		 * hears which peers' frames arrive (manager.c, links_now) */
		static struct node_links heard;
		heard = s->links;
		for (size_t k = 0; k < heard.n; k++) {
			size_t j = heard.v[k].nodeid - 1;
			uint64_t at = w->wire_down_us[i][j] ? w->wire_down_us[i][j] : w->now;
			heard.v[k].connected = knetwatch_link_up(heard.v[k].connected, at, w->now,
								 knetwatch_timeout_ms(T_MS, KNET_PING_US / 1000));
		}
		if (!w->opt->no_knetwatch)
			ev.links = &heard;
	}
	step(w, i, &ev);
}

/* ---- fomgr's life on a node ---- */

static void start_fomgr(struct world *w, size_t i)
{
	struct snode *s = &w->nodes[i];
	struct wire_check check = {.name = "web", .state = s->healthy ? CHECK_PASSING : CHECK_FAILING};
	uint32_t ids[SIM_MAX_NODES];
	size_t n_ids = 0;

	if (s->fomgr_up || s->crashed)
		return;
	s->fomgr_up = 1;
	s->paused = 0;
	s->n_backlog = 0;
	s->distrust = s->stalled = 0; /* membership.c's and the ring watch's: the new process's own */
	s->watch_from_us = w->now;
	s->pid = 1000u * ((uint32_t)i + 1) + ++s->instance;
	node_init(s->core, w->config, w->digest, &w->nodelist, &s->disk);
	s->skipped_seen = 0;
	/* what its kernel holds is adopted first, as the daemon's reconcile does */
	for (int g = 0; g < SIM_GROUPS; g++) {
		struct node_event ev = {.kind = NODE_EV_ADOPT, .group = w->config->groups[g].name};
		if (s->present[g])
			step(w, i, &ev);
	}
	{
		struct node_event ev = {.kind = NODE_EV_HEALTH, .n_checks = 1, .checks = &check};
		step(w, i, &ev);
	}
	{
		struct node_event ev = {.kind = NODE_EV_CONNECTED, .nodeid = (uint32_t)i + 1, .pid = s->pid, .value = 1};
		ev.info = sim_info(w);
		step(w, i, &ev);
	}
	for (size_t j = 0; j < w->n; j++)
		if (s->members >> j & 1)
			ids[n_ids++] = (uint32_t)j + 1;
	{
		struct node_event ev = {.kind = NODE_EV_TOTEM, .nodeids = ids, .n_nodeids = n_ids};
		step(w, i, &ev);
	}
	s->in_group = 1;
	s->last_answer_us = w->now;
	/* Its join goes through the agreed order: in a ring that is forming, only
	 * once the ring has formed. */
	memset(w->known_pid[i], 0, sizeof(w->known_pid[i]));
	for (size_t j = 0; j < w->n && !s->gathering; j++)
		if ((s->members >> j & 1) && w->nodes[j].in_group)
			cpg_join(w, i, j);
	for (size_t j = 0; j < w->n && !s->gathering; j++)
		if (j != i && (s->members >> j & 1) && w->nodes[j].in_group && w->nodes[j].ring == s->ring &&
		    !w->nodes[j].gathering)
			cpg_join(w, j, i);
	schedule(w, w->now + vq_latency(w), SEV_VQ, i)->gen = (uint32_t)s->ring;
}

static void crash(struct world *w, size_t i)
{
	struct snode *s = &w->nodes[i];

	if (s->crashed)
		return;
	s->crashed = 1;
	s->fomgr_up = s->in_group = 0;
	s->paused = s->draining = 0;
	s->n_backlog = 0;
	s->instance++;
	s->frozen = s->stalled = s->silent = s->withdrawn = 0;
	s->tokens_counted = 0; /* its corosync counts from 0 after the boot */
	s->releasing = 0;
	memset(s->present, 0, sizeof(s->present));
	for (size_t k = 0; k < s->n_outbox; k++)
		free(s->outbox[k]);
	s->n_outbox = 0;
	topology_changed(w);
}

static void boot(struct world *w, size_t i)
{
	struct snode *s = &w->nodes[i];

	if (!s->crashed)
		return;
	s->crashed = 0;
	s->ring = ++w->ring_seq;
	s->members = 1u << i;
	ring_broke(w, s);
	s->distrust = 0;
	s->vq_known = 0;
	start_fomgr(w, i);
	topology_changed(w);
}

/* An operator's command on node a, as fomctl sends it: the request, then the
 * persisted state (always written here). */
static void operator(struct world *w, size_t a, struct node_event *ev)
{
	struct node_event saved = {.kind = NODE_EV_ADMIN_SAVED};

	if (!w->nodes[a].fomgr_up || w->nodes[a].paused)
		return; /* a paused fomgr does not answer: fomctl times out */
	step(w, a, ev);
	if (w->fx.rc == 0 && w->nodes[a].core->saving)
		step(w, a, &saved);
}

static void set_link(struct world *w, size_t a, size_t b, int up)
{
	w->link[a][b] = w->link[b][a] = up;
}

/* Something a heal would end: a link down or lossy, a corosync frozen. */
static int faulty(const struct world *w)
{
	for (size_t i = 0; i < w->n; i++) {
		if (w->nodes[i].frozen)
			return 1;
		for (size_t j = 0; j < w->n; j++)
			if (i != j && (!w->link[i][j] || w->lossy[i][j] || w->dropped[i][j]))
				return 1;
	}
	return 0;
}

static void apply_op(struct world *w, const struct sim_op *op)
{
	size_t a = op->a % w->n, b = op->b % w->n;
	struct snode *s = &w->nodes[a];
	struct node_event ev = {0};
	struct wire_check check = {.name = "web"};

	if (w->opt->verbose)
		printf("%8.3f op %s %zu %u\n", w->now / 1e6, sim_op_str(op->kind), a + 1, op->b);
	w->calm_since = w->now;
	w->heal_us = (op->kind == SIM_OP_THAW && s->frozen) || (op->kind == SIM_OP_HEAL && faulty(w)) ? w->now : 0;
	for (int g = 0; g < SIM_GROUPS; g++) {
		w->held_at_heal[g] = 0;
		for (size_t i = 0; i < w->n; i++) {
			const struct snode *h = &w->nodes[i];
			/* held by a member of a working quorate ring (one left out
			 * and still holding lets go because of the fault, whenever it
			 * ends) */
			w->held_at_heal[g] |= !h->crashed && !h->frozen && !h->gathering && !h->silent && h->present[g] &&
					      ring_quorate(w, h->members, h->ring);
		}
	}
	switch (op->kind) {
	case SIM_OP_CRASH:
		crash(w, a);
		break;
	case SIM_OP_BOOT:
		boot(w, a);
		break;
	case SIM_OP_CUT:
		for (size_t j = 0; j < w->n; j++)
			if (j != a)
				set_link(w, a, j, 0);
		topology_changed(w);
		break;
	case SIM_OP_BLOCK:
		if (a != b)
			set_link(w, a, b, 0);
		topology_changed(w);
		break;
	case SIM_OP_PARTITION:
		for (size_t i = 0; i < w->n; i++)
			for (size_t j = 0; j < w->n; j++)
				if ((i < a) != (j < a))
					w->link[i][j] = 0;
		topology_changed(w);
		break;
	case SIM_OP_FREEZE:
		if (!s->crashed && !s->frozen) {
			s->frozen = 1;
			if (!s->gathering)
				s->broke_us = w->now;
		}
		topology_changed(w);
		break;
	case SIM_OP_THAW:
		if (s->frozen) {
			s->frozen = 0;
			s->gathering = 1; /* its token is long gone: it forms a new membership */
		}
		topology_changed(w);
		break;
	case SIM_OP_LOSS:
	case SIM_OP_FLAP:
		for (size_t j = 0; j < w->n; j++)
			if (a == b ? j != a : j == b)
				lossy_start(w, a, j, op->kind);
		break;
	case SIM_OP_ONEWAY:
		/* knet's pings and pongs both fail, so both ends call the link down
		 * (measured); totem cannot agree with a node it does not hear: for
		 * both, a broken link */
		for (size_t j = 0; j < w->n; j++)
			if (a == b ? j != a : j == b)
				set_link(w, a, j, 0);
		w->oneway = 1;
		w->degraded_until = UINT64_MAX;
		topology_changed(w);
		break;
	case SIM_OP_PAUSE:
		if (s->fomgr_up && !s->crashed)
			s->paused = 1;
		break;
	case SIM_OP_RESUME:
		if (!s->paused)
			break;
		s->paused = 0;
		s->resumed_us = w->now;
		/* ringwatch_judge at the overdue check, before the backlog (libev runs
		 * the timers it queued last first): its own pause if corosync ran
		 * meanwhile, else a stall */
		if (!s->frozen) {
			s->last_answer_us = s->watch_from_us = w->now;
		} else if (!s->stalled) {
			ring_stall(w, a, (uint32_t)((w->now - s->last_answer_us) / 1000), ringwatch_stall_bound_ms(T_MS, C_MS),
				   "corosync silent, fomgr paused");
		}
		drain(w, a);
		break;
	case SIM_OP_WITNESS_DOWN:
		if (w->opt->quorum == SIM_QUORUM_QDEVICE && w->witness_up) {
			w->witness_up = 0;
			schedule(w, w->now + QD_LOST_US, SEV_QDEV_LOST, 0)->gen = ++w->witness_gen;
		}
		break;
	case SIM_OP_WITNESS_UP:
		if (w->opt->quorum == SIM_QUORUM_QDEVICE && !w->witness_up) {
			w->witness_up = 1;
			w->witness_gen++;
			schedule(w, w->now + QD_VOTE_US(rnd(w)), SEV_QDEV, 0);
		}
		break;
	case SIM_OP_HEAL:
		if (w->degraded_until)
			w->degraded_until = w->now + 2 * TC_US;
		w->oneway = w->lossy_any = 0;
		if (w->opt->quorum == SIM_QUORUM_QDEVICE && !w->witness_up) {
			w->witness_up = 1;
			w->witness_gen++;
			schedule(w, w->now + QD_VOTE_US(rnd(w)), SEV_QDEV, 0);
		}
		for (size_t i = 0; i < w->n; i++) {
			for (size_t j = 0; j < w->n; j++) {
				w->link[i][j] = i != j;
				w->dropped[i][j] = w->lossy[i][j] = 0;
				w->lossy_gen[i][j]++;
			}
			if (w->nodes[i].frozen) {
				w->nodes[i].frozen = 0;
				w->nodes[i].gathering = 1;
			}
		}
		topology_changed(w);
		break;
	case SIM_OP_HEALTH_FAIL:
	case SIM_OP_HEALTH_PASS:
		s->healthy = op->kind == SIM_OP_HEALTH_PASS;
		check.state = s->healthy ? CHECK_PASSING : CHECK_FAILING;
		ev = (struct node_event){.kind = NODE_EV_HEALTH, .n_checks = 1, .checks = &check};
		step(w, a, &ev);
		break;
	case SIM_OP_STANDBY:
	case SIM_OP_UNSTANDBY:
		ev = (struct node_event){.kind = NODE_EV_ADMIN, .admin = NODE_ADMIN_STANDBY,
					 .node = w->nodelist.nodes[b].name, .on = op->kind == SIM_OP_STANDBY};
		operator(w, a, &ev);
		break;
	case SIM_OP_SWITCHOVER:
	case SIM_OP_UNPIN:
		ev = (struct node_event){.kind = NODE_EV_ADMIN, .admin = NODE_ADMIN_PIN,
					 .group = w->config->groups[op->b % SIM_GROUPS].name,
					 .node = op->kind == SIM_OP_SWITCHOVER ? "" : NULL};
		operator(w, a, &ev);
		break;
	case SIM_OP_STOP:
		ev.kind = NODE_EV_SHUTDOWN;
		step(w, a, &ev);
		break;
	case SIM_OP_START:
		start_fomgr(w, a);
		break;
	default:
		break;
	}
}

/* ---- the invariants, after every event ---- */

static int moving(const struct world *w)
{
	for (size_t i = 0; i < w->n; i++) {
		const struct snode *s = &w->nodes[i];
		if (!s->fomgr_up)
			continue;
		for (size_t k = 0; k < TRANSITION_SLOTS; k++)
			if (s->core->transition.groups[k].used && s->core->transition.groups[k].busy)
				return 1;
	}
	return 0;
}

/* A quorate ring of nodes that reach each other, settled, with a node eligible
 * for group g by what the operators and health say. */
static int could_serve(const struct world *w, int g)
{
	for (size_t i = 0; i < w->n; i++) {
		const struct snode *s = &w->nodes[i];
		const struct view_node *me;

		if (!s->fomgr_up || !s->in_group || s->gathering || s->silent || s->frozen || s->withdrawn ||
		    s->paused || !ring_quorate(w, s->members, s->ring))
			continue;
		me = view_local(&s->core->view);
		if (!me || wire_admin_standby(&s->core->admin, me->name))
			continue;
		if (g == 0 && !s->healthy)
			continue;
		return 1;
	}
	return 0;
}

/* While some node's corosync cannot settle (a bridge: could_serve() finds no
 * quorate ring), whether the wire would let one form: a majority of the nodes that
 * all reach each other (fences aside: lifting or keeping them is fomgr's part),
 * each alive, with fomgr in the group, not paused, not in standby and healthy for
 * group 0. The pair watch must then make that ring (docs/security.md: a bridge's
 * bound). Without it (the model's default) a bridge that never settles excuses
 * every orphan. An experiment (--wire-orphans) until the multi-fault cases it
 * finds in 4-9 nodes are solved. Majority quorum only. */
static int wire_could_serve(const struct world *w, int g)
{
	unsigned ok = 0, best = 0;

	if (w->opt->quorum != SIM_QUORUM_MAJORITY)
		return 0;
	for (size_t i = 0; i < w->n; i++) {
		const struct snode *s = &w->nodes[i];
		const struct view_node *me = s->core ? view_local(&s->core->view) : NULL;
		if (!alive(w, i) || !s->fomgr_up || !s->in_group || s->paused || (g == 0 && !s->healthy) ||
		    (me && wire_admin_standby(&s->core->admin, me->name)))
			continue;
		ok |= 1u << i;
	}
	for (unsigned set = ok; set; set = (set - 1) & ok) {
		int clique = 1;
		if ((unsigned)popcount(set) <= (unsigned)popcount(best))
			continue;
		for (size_t a = 0; a < w->n && clique; a++)
			for (size_t b = a + 1; b < w->n && clique; b++)
				if ((set >> a & 1) && (set >> b & 1))
					clique = w->link[a][b] && !w->dropped[a][b] && !w->dropped[b][a];
		if (clique)
			best = set;
	}
	return 2 * (unsigned)popcount(best) > (unsigned)w->n;
}

static int settled_one_ring(const struct world *w)
{
	uint64_t ring = 0;

	for (size_t i = 0; i < w->n; i++) {
		const struct snode *s = &w->nodes[i];
		if (!s->fomgr_up)
			continue;
		if (s->gathering || s->silent || s->frozen || s->distrust || s->paused || (ring && s->ring != ring))
			return 0;
		ring = s->ring;
	}
	return ring != 0;
}

/* Two holders the bounds allow: one whose fomgr is paused (it cannot release;
 * its own corosync keeps it in the ring, so only another fault makes a second
 * holder) until it has read its backlog; the two halves of a two_node cluster
 * without a device, when both say so (WIRE_F_SPLIT_RISK). */
static int dual_excused(struct world *w, unsigned holders)
{
	int split = two_node(w);
	uint64_t ring = 0;

	for (size_t i = 0; i < w->n; i++) {
		const struct snode *s = &w->nodes[i];
		if (!(holders >> i & 1))
			continue;
		if (s->paused || (s->resumed_us && w->now - s->resumed_us <= RESUME_DUAL_BOUND_US))
			return 1;
		if (!s->fomgr_up || !s->core->have_sent || !(s->core->last_sent.flags & WIRE_F_SPLIT_RISK) ||
		    (s->ring == ring && w->now - w->last_ring_us > MERGE_DUAL_BOUND_US))
			split = 0;
		ring = s->ring;
	}
	if (split)
		w->res->seen |= SIM_SEEN_SPLIT_RISK;
	return split;
}

static void check(struct world *w)
{
	int clean = 1, paused = 0;
	uint64_t bound = w->degraded_until > w->now && !w->opt->strict_degraded ? DEGRADED_DUAL_BOUND_US : DUAL_BOUND_US;

	for (size_t i = 0; i < w->n; i++) {
		clean &= !w->nodes[i].silent;
		paused |= w->nodes[i].paused;
	}
	for (int g = 0; g < SIM_GROUPS; g++) {
		unsigned holders = 0;

		for (size_t i = 0; i < w->n; i++)
			if (!w->nodes[i].crashed && w->nodes[i].present[g])
				holders |= 1u << i;
		if (popcount(holders) < 2 || dual_excused(w, holders))
			w->dual_since[g] = 0;
		else if (!w->dual_since[g])
			w->dual_since[g] = w->now + 1;
		if (w->dual_since[g] && w->now + 1 - w->dual_since[g] > w->res->worst_dual_us)
			w->res->worst_dual_us = w->now + 1 - w->dual_since[g];
		if (w->dual_since[g] && w->now + 1 - w->dual_since[g] > bound)
			fail(w, "two holders of group %s for %.3f s", w->config->groups[g].name,
			     (w->now + 1 - w->dual_since[g]) / 1e6);
		/* a paused fomgr that placement picks keeps the group waiting; no
		 * bound while a link is lossy or flapping (docs/security.md) */
		if (holders || paused || w->lossy_any ||
		    !(clean ? could_serve(w, g) : w->opt->wire_orphans && wire_could_serve(w, g)))
			w->orphan_since[g] = 0;
		else if (!w->orphan_since[g])
			w->orphan_since[g] = w->now + 1;
		if (w->orphan_since[g] && w->now + 1 - w->orphan_since[g] > w->res->worst_orphan_us)
			w->res->worst_orphan_us = w->now + 1 - w->orphan_since[g];
		if (w->orphan_since[g] && w->now + 1 - w->orphan_since[g] > (clean ? ORPHAN_BOUND_US : BRIDGE_ORPHAN_BOUND_US) &&
		    w->now - w->calm_since > ORPHAN_BOUND_US)
			fail(w, "group %s without a holder for %.3f s while a quorate healthy node could serve it",
			     w->config->groups[g].name, (w->now + 1 - w->orphan_since[g]) / 1e6);
		if (w->heal_us && w->held_at_heal[g] && w->orphan_since[g] && w->orphan_since[g] > w->heal_us &&
		    w->now + 1 - w->orphan_since[g] > HEAL_BOUND_US)
			fail(w, "group %s without a holder for %.3f s after the heal at %.3f s (it was held then)",
			     w->config->groups[g].name, (w->now + 1 - w->orphan_since[g]) / 1e6, w->heal_us / 1e6);
	}
	/* After the ring settled, every node carries the same operators' state. */
	if (settled_one_ring(w) && !moving(w) && !w->n_held && w->now - w->calm_since > SETTLED_US &&
	    w->now - w->last_ring_us > TC_US) {
		const struct wire_admin *first = NULL;
		for (size_t i = 0; i < w->n; i++) {
			if (!w->nodes[i].fomgr_up)
				continue;
			if (!first)
				first = &w->nodes[i].core->admin;
			else if (!wire_admin_equal(first, &w->nodes[i].core->admin))
				fail(w, "node%zu's admin state (epoch %llu) differs from the others' (epoch %llu) in a settled ring",
				     i + 1, (unsigned long long)w->nodes[i].core->admin.epoch,
				     (unsigned long long)first->epoch);
		}
	}
}

/* ---- the run ---- */

static void handle(struct world *w, const struct sev *e)
{
	struct snode *s = &w->nodes[e->node];
	struct node_event ev = {0};
	int g;

	switch (e->kind) {
	case SEV_OP:
		apply_op(w, e->op);
		break;
	case SEV_NETLINK: {
		const struct config_group *cg = transition_group(&s->core->transition, e->slot);
		if (!e->value && s->releasing)
			s->releasing--;
		if (s->crashed)
			break;
		g = cg ? group_index(cg->name) : -1;
		ev = (struct node_event){.kind = NODE_EV_NETLINK, .slot = e->slot};
		if (g >= 0 && s->present[g] != e->value) {
			s->present[g] = e->value;
			if (s->paused && e->gen == s->instance && s->fomgr_up) {
				/* the kernel changed; the record comes when fomgr reads the answer */
				struct backlog_item *b = backlog_push(w, e->node, &ev);
				b->group = g;
				b->expect = e->value ? 1 : 2;
				break;
			}
			s->expect_record[g] = e->value ? 1 : 2;
		}
		if (e->gen != s->instance)
			break;
		step(w, e->node, &ev);
		break;
	}
	case SEV_PROBE: {
		const struct config_group *cg = transition_group(&s->core->transition, e->slot);
		g = cg ? group_index(cg->name) : -1;
		if (e->gen != s->instance || g < 0)
			break;
		ev = (struct node_event){.kind = NODE_EV_PROBE, .slot = e->slot, .value = others_answer(w, e->node, g)};
		if (ev.value)
			w->res->seen |= SIM_SEEN_DUAL_AVOIDED;
		step(w, e->node, &ev);
		break;
	}
	case SEV_TIMER:
		if (e->gen != s->timer_gen[e->value])
			break;
		ev = (struct node_event){.kind = NODE_EV_TIMER, .value = e->value};
		step(w, e->node, &ev);
		break;
	case SEV_DELIVER:
		on_deliver(w, e->msg);
		break;
	case SEV_REFORM:
		reform(w);
		break;
	case SEV_VQ:
		if (s->ring != e->gen || s->crashed || s->frozen)
			break;
		s->vq_known = 1;
		s->vq_quorate = ring_quorate(w, s->members, s->ring);
		report_quorum(w, e->node);
		break;
	case SEV_QUORUM:
		report_quorum(w, e->node);
		break;
	case SEV_TICK:
		tick(w, e->node);
		break;
	case SEV_KNET:
		on_knet(w, e);
		break;
	case SEV_FLAP:
		on_flap(w, e);
		break;
	case SEV_QDEV:
		qdevice_decide(w);
		break;
	case SEV_QDEV_LOST:
		if (e->gen == w->witness_gen && !w->witness_up && w->vote_ring) {
			w->vote_ring = 0;
			votes_changed(w);
		}
		break;
	case SEV_LEAVE:
		if (s->gathering || s->frozen)
			break;
		if (w->known_pid[e->node][e->slot] == e->gen)
			cpg_leave(w, e->node, e->slot, e->value);
		break;
	default:
		break;
	}
}

/* The switchover a membership change lands in. */
static void note_interleavings(struct world *w, const struct sev *e)
{
	if (e->kind != SEV_OP || (e->op->kind != SIM_OP_CRASH && e->op->kind != SIM_OP_CUT))
		return;
	for (size_t i = 0; i < w->n; i++) {
		const struct snode *s = &w->nodes[i];
		for (size_t k = 0; s->fomgr_up && k < TRANSITION_SLOTS; k++) {
			const struct transition_group *tg = &s->core->transition.groups[k];
			if (tg->used && (tg->busy || tg->waiting || (tg->want && tg->state == TRANSITION_IDLE)) &&
			    tg->reason == TRANSITION_SWITCHOVER)
				w->res->seen |= SIM_SEEN_MOVE_MEMBERSHIP;
		}
	}
}

static struct config *sim_config(size_t n, struct config_nodelist *nodes)
{
	char text[2048], prefer[256] = "", reverse[256] = "";
	struct cfgfile_errors errors;
	struct config *c;

	nodes->n_nodes = n;
	for (size_t i = 0; i < n; i++) {
		nodes->nodes[i].nodeid = (uint32_t)i + 1;
		snprintf(nodes->nodes[i].name, sizeof(nodes->nodes[i].name), "node%zu", i + 1);
		snprintf(prefer + strlen(prefer), sizeof(prefer) - strlen(prefer), " node%zu", i + 1);
		snprintf(reverse + strlen(reverse), sizeof(reverse) - strlen(reverse), " node%zu", n - i);
	}
	snprintf(text, sizeof(text),
		 "[fomgr]\n[group vip]\ninterface = eth0\naddress = 192.0.2.100/24\nprefer =%s\n"
		 "failback = auto\nfailback_delay = 2s\nchecks = web\n"
		 "[group db]\ninterface = eth0\naddress = 198.51.100.20/24\naddress = 2001:db8::20/64\nprefer =%s\n"
		 "failback = manual\n",
		 prefer, reverse);
	c = config_parse_buffer("sim.conf", text, strlen(text), nodes, &errors);
	if (!c)
		fprintf(stderr, "sim: config refused: %s\n", errors.n ? errors.items[0].message : "?");
	return c;
}

static void world_free(struct world *w)
{
	for (size_t i = 0; i < w->n_heap; i++)
		free(w->heap[i].kind == SEV_DELIVER ? w->heap[i].msg : NULL);
	for (size_t i = 0; i < w->n_held; i++)
		free(w->held[i]);
	for (size_t i = 0; i < w->n; i++) {
		for (size_t k = 0; k < w->nodes[i].n_outbox; k++)
			free(w->nodes[i].outbox[k]);
		free(w->nodes[i].backlog);
	}
	free(w->heap);
	config_free(w->config);
}

void sim_run(const struct sim_options *opt, const struct sim_op *ops, size_t n_ops, struct sim_result *out)
{
	static struct world world;
	static struct node *cores[SIM_MAX_NODES];
	struct world *w = &world;

	/* The cores are large (the view holds every node's last announce): kept from
	 * one run to the next; node_init starts each afresh. */
	for (size_t i = 0; i < SIM_MAX_NODES; i++)
		if (!cores[i] && !(cores[i] = calloc(1, sizeof(*cores[i]))))
			abort();
	memset(w, 0, sizeof(*w));
	memset(out, 0, sizeof(*out));
	sim_token_ms = opt->token_ms ? opt->token_ms : 600u;
	sim_consensus_ms = opt->token_ms ? opt->token_ms * 6u / 5u : 720u;
	sim_knet_ping_us = opt->token_ms ? 200000u : 100000u;
	sim_knet_down_us = opt->token_ms ? 1000u * (opt->token_ms > 600u ? opt->token_ms : 600u) : 400000u;
	w->opt = opt;
	w->res = out;
	w->n = opt->n_nodes < 2 ? 2 : opt->n_nodes > SIM_MAX_NODES ? SIM_MAX_NODES : opt->n_nodes;
	w->rng = opt->seed * 2654435761u + 1;
	w->token_rng = opt->seed ^ 0x70ce70ce70ceull;
	w->config = sim_config(w->n, &w->nodelist);
	if (!w->config) {
		fail(w, "config refused");
		return;
	}
	config_cluster_digest(w->config, w->digest);
	w->ring_seq = 1;
	for (size_t i = 0; i < w->n; i++) {
		struct snode *s = &w->nodes[i];
		s->core = cores[i];
		s->healthy = 1;
		s->ring = 1;
		s->members = (1u << w->n) - 1;
		s->tokens_flow = s->tokens_counted = 1;
		for (size_t j = 0; j < w->n; j++)
			w->link[i][j] = i != j;
	}
	w->topology = topology(w);
	for (size_t i = 0; i < w->n; i++) {
		w->cur_alive[i] = w->prev_alive[i] = 1;
		for (size_t j = 0; j < w->n; j++)
			w->cur_link[i][j] = w->prev_link[i][j] = w->knet[i][j] = i != j;
	}
	w->witness_up = 1;
	w->vote_ring = w->opt->quorum == SIM_QUORUM_QDEVICE ? 1 : 0;
	for (size_t i = 0; i < w->n; i++)
		start_fomgr(w, i);
	for (size_t i = 0; i < w->n; i++)
		schedule(w, 1000ull * (1 + rnd(w) % 100), SEV_TICK, i);
	for (size_t k = 0; k < n_ops; k++)
		schedule(w, 1000ull * ops[k].at_ms, SEV_OP, 0)->op = &ops[k];
	while (w->n_heap && !w->stopped) {
		struct sev e = pop(w);

		if (e.at > 1000ull * opt->end_ms) {
			if (e.kind == SEV_DELIVER)
				free(e.msg);
			break;
		}
		if (opt->max_steps && out->steps >= opt->max_steps)
			break;
		w->now = e.at;
		note_interleavings(w, &e);
		handle(w, &e);
		follow_tokens(w);
		if (!w->stopped)
			check(w);
	}
	out->now_ms = w->now / 1000;
	for (int g = 0; g < SIM_GROUPS; g++) {
		out->holder[g] = -1;
		for (size_t i = 0; i < w->n; i++)
			if (!w->nodes[i].crashed && w->nodes[i].present[g])
				out->holder[g] = out->holder[g] == -1 ? (int)i : -3;
	}
	world_free(w);
}
