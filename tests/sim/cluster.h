/* The simulated cluster: N nodes each running the real node core (fomgr/node.c)
 * against a model of corosync (rings, agreed order, configuration changes,
 * votequorum, the ring watch's answers, knet link states), a model kernel per
 * node (addresses, ARP answers, netlink latency), a virtual clock and a client.
 * Deterministic from a seed. After every step the invariants are checked; the
 * first violation stops the run with a message. */
#ifndef SIM_CLUSTER_H
#define SIM_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "table.h"

#define SIM_MAX_NODES 9
#define SIM_GROUPS 2

struct sim_options {
	size_t n_nodes;        /* 2 to 9 */
	uint64_t seed;         /* latencies, reply orders */
	uint32_t end_ms;       /* virtual time to run until (after the last op: heal and settle) */
	uint32_t netlink_ms;   /* 0: random 1-3 ms */
	uint64_t max_steps;    /* stop after this many node steps (0: no limit) */
	int verbose;           /* print every op and transition */
	enum sim_quorum quorum; /* majority, two_node (2 nodes) or a quorum device */
	/* An experiment, not the model: a component that cannot settle forms a ring
	 * of the nodes that all reach each other, the rest answering meanwhile. */
	int partial_mesh;
	/* An experiment: votequorum answers each node 1-3 ms after a ring (2 ms for all
	 * in the model), so quorum and the new ring's first announces interleave
	 * differently on each node. */
	int vq_jitter;
	/* An experiment: while a corosync cannot settle, the orphan bound holds
	 * whenever the wire would let a quorate ring form (wire_could_serve()), not
	 * only once one has. */
	int wire_orphans;
	/* An experiment: the pair watch gets corosync's last readings alone while
	 * it is silent, as before fomgr/knetwatch.c (lab 12's failure). */
	int no_knetwatch;
	/* An experiment: two holders are never allowed, not even the 1.5 s that a
	 * lossy, flapping or one-way link on a holder has (docs/security.md). */
	int strict_degraded;
	/* corosync's token (ms): 0 is the lab's test profile (token 600, consensus
	 * 720, knet pings 100 / 400 ms); T is scripts/lab's profile tT (consensus
	 * 1.2 T, knet pings every 200 ms, down after max(T, 600) ms). */
	uint32_t token_ms;
};

struct sim_result {
	int failed;
	char message[512];
	uint64_t steps;      /* node_step calls */
	uint64_t now_ms;     /* virtual time reached */
	unsigned seen;       /* enum sim_seen */
	int holder[SIM_GROUPS];            /* node index holding each group at the end, -1 none, -3 several */
	char last_reason[SIM_GROUPS][32];  /* the reason of the last acquisition of each group */
	unsigned stalls;
	uint64_t transitions;
	uint64_t acquisitions, claims_skipped; /* how many acquisitions skipped the claim round */
	uint64_t worst_orphan_us; /* the longest stretch a group waited for a holder while a node could serve it */
	uint64_t worst_dual_us; /* the longest two-holder stretch the bounds allowed (a degraded link, a paused fomgr) */
};

/* Runs ops (sorted by time) and returns what happened. */
void sim_run(const struct sim_options *opt, const struct sim_op *ops, size_t n_ops, struct sim_result *out);

#endif
