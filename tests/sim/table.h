/* The simulator's vocabulary: the faults and operators' commands a schedule is
 * made of, with the weight a random schedule draws each by, and the scenarios
 * the node_step table tests replay (tests/unit/test_node.c). One table, so that
 * what the unit tests pin down is what the campaign explores. */
#ifndef SIM_TABLE_H
#define SIM_TABLE_H

#include <stddef.h>
#include <stdint.h>

enum sim_op_kind {
	SIM_OP_CRASH,       /* a node goes down (corosync, fomgr and its kernel's addresses) */
	SIM_OP_BOOT,        /* it comes back */
	SIM_OP_CUT,         /* all of a node's cluster links down (its service link stays) */
	SIM_OP_BLOCK,       /* the cluster link between a and b down: a bridge when others see both */
	SIM_OP_PARTITION,   /* nodes below a (in nodeid order) apart from the rest */
	SIM_OP_FREEZE,      /* a's corosync stops (SIGSTOP) */
	SIM_OP_THAW,        /* it runs again */
	SIM_OP_HEAL,        /* every link up, every corosync running */
	SIM_OP_HEALTH_FAIL, /* a's check fails */
	SIM_OP_HEALTH_PASS, /* it passes again */
	SIM_OP_STANDBY,     /* an operator on a puts b in standby */
	SIM_OP_UNSTANDBY,   /* ... and out of it */
	SIM_OP_SWITCHOVER,  /* an operator on a pins group b % groups to the next eligible node */
	SIM_OP_UNPIN,       /* ... clears that pin */
	SIM_OP_STOP,        /* a's fomgr shuts down (SIGTERM): releases, tells the peers, leaves */
	SIM_OP_START,       /* it starts again, adopting what its kernel holds */
	SIM_OP_LOSS,        /* random loss on the link a-b (a == b: on all of a's links): knet sees it flap */
	SIM_OP_FLAP,        /* the link a-b (a == b: all of a's) goes down and up faster than the token timeout */
	SIM_OP_ONEWAY,      /* a's frames to b dropped (a == b: all of a's frames), b's to a not */
	SIM_OP_PAUSE,       /* a's fomgr stops (SIGSTOP): no timer fires, nothing is read; its kernel keeps going */
	SIM_OP_RESUME,      /* it runs again, with the backlog */
	SIM_OP_WITNESS_DOWN, /* the quorum device's witness (qnetd) stops */
	SIM_OP_WITNESS_UP,  /* it runs again */
	SIM_OP_KIND_MAX
};

/* How the cluster decides quorum. */
enum sim_quorum {
	SIM_QUORUM_MAJORITY, /* a majority of the nodes' votes */
	SIM_QUORUM_TWO_NODE, /* two nodes, two_node: 1 (each half of a partition stays quorate);
			      * with more nodes votequorum turns it off: a majority */
	SIM_QUORUM_QDEVICE,  /* a quorum device (net, ffsplit): a witness's vote for one partition */
	SIM_QUORUM_MAX
};
const char *sim_quorum_str(enum sim_quorum q);
int sim_quorum_parse(const char *name);

struct sim_op {
	uint32_t at_ms; /* virtual time of the fault */
	enum sim_op_kind kind;
	uint32_t a, b; /* node indexes from 0 (a group index for SWITCHOVER/UNPIN's b) */
};

struct sim_op_row {
	enum sim_op_kind kind;
	const char *name;
	unsigned weight; /* how often a random schedule draws it */
};

extern const struct sim_op_row sim_op_table[SIM_OP_KIND_MAX];
const char *sim_op_str(enum sim_op_kind kind);
/* -1 when name is no kind. */
int sim_op_parse(const char *name);

/* What a scenario expects at its end (and the invariants, checked throughout). */
/* Interleavings the model notes when they happen, so that a scenario shows it
 * reached the one it is named for. */
enum sim_seen {
	SIM_SEEN_MOVE_MEMBERSHIP = 1u << 0,  /* a membership change while a switchover's move was under way */
	SIM_SEEN_RELEASE_AT_RING = 1u << 1,  /* a ring formed while a node's release was in flight */
	SIM_SEEN_STALL_IN_FAILBACK = 1u << 2, /* a ring stall while a failback delay ran */
	SIM_SEEN_WITHDRAWAL = 1u << 3,       /* a node withdrew from the ring (bridge) */
	SIM_SEEN_DUAL_AVOIDED = 1u << 4,     /* a claim waited for another node's release */
	SIM_SEEN_KNET_FLAP = 1u << 5,        /* knet called a lossy or flapping link down, then up */
	SIM_SEEN_BACKLOG = 1u << 6,          /* a paused fomgr resumed with events waiting */
	SIM_SEEN_WITNESS_VOTE = 1u << 7,     /* the quorum device's vote made a partition quorate */
	SIM_SEEN_SPLIT_RISK = 1u << 8,       /* two_node without a device: both halves held, and said so */
	SIM_SEEN_CLAIM_SKIPPED = 1u << 9,    /* a presumed owner added without the claim round */
};

struct sim_expect {
	int holder;         /* node index that must hold group 0 at the end, -1 none, -2 any one */
	const char *reason; /* the reason of the last acquisition of group 0 anywhere, or NULL */
	int stalls;         /* ring stalls seen, at least */
	unsigned seen;      /* enum sim_seen bits that must have happened */
};

#define SIM_SCENARIO_OPS 8

/* A named interleaving the issue asks to pin down (3 nodes unless it says). */
struct sim_scenario {
	const char *name;
	size_t n_nodes;
	uint32_t end_ms;
	uint32_t netlink_ms; /* how long the kernel takes to answer; 0: the campaign's random 1-3 ms */
	size_t n_ops;
	struct sim_op ops[SIM_SCENARIO_OPS];
	struct sim_expect expect;
	enum sim_quorum quorum;
};

extern const struct sim_scenario sim_scenarios[];
extern const size_t sim_n_scenarios;

#endif
