#include "table.h"

#include <string.h>

const struct sim_op_row sim_op_table[SIM_OP_KIND_MAX] = {
	{SIM_OP_CRASH, "crash", 3},	    {SIM_OP_BOOT, "boot", 3},
	{SIM_OP_CUT, "cut", 3},		    {SIM_OP_BLOCK, "block", 2},
	{SIM_OP_PARTITION, "partition", 2}, {SIM_OP_FREEZE, "freeze", 2},
	{SIM_OP_THAW, "thaw", 2},	    {SIM_OP_HEAL, "heal", 3},
	{SIM_OP_HEALTH_FAIL, "health-fail", 2}, {SIM_OP_HEALTH_PASS, "health-pass", 2},
	{SIM_OP_STANDBY, "standby", 2},	    {SIM_OP_UNSTANDBY, "unstandby", 2},
	{SIM_OP_SWITCHOVER, "switchover", 3}, {SIM_OP_UNPIN, "unpin", 1},
	{SIM_OP_STOP, "stop", 1},	    {SIM_OP_START, "start", 2},
	{SIM_OP_LOSS, "loss", 2},	    {SIM_OP_FLAP, "flap", 2},
	{SIM_OP_ONEWAY, "oneway", 2},	    {SIM_OP_PAUSE, "pause", 2},
	{SIM_OP_RESUME, "resume", 2},	    {SIM_OP_WITNESS_DOWN, "witness-down", 1},
	{SIM_OP_WITNESS_UP, "witness-up", 1},
};

static const char *const quorum_names[SIM_QUORUM_MAX] = {"majority", "two-node", "qdevice"};

const char *sim_quorum_str(enum sim_quorum q)
{
	return q < SIM_QUORUM_MAX ? quorum_names[q] : "invalid";
}

int sim_quorum_parse(const char *name)
{
	for (int i = 0; i < SIM_QUORUM_MAX; i++)
		if (strcmp(quorum_names[i], name) == 0)
			return i;
	return -1;
}

const char *sim_op_str(enum sim_op_kind kind)
{
	return kind < SIM_OP_KIND_MAX ? sim_op_table[kind].name : "invalid";
}

int sim_op_parse(const char *name)
{
	for (int i = 0; i < SIM_OP_KIND_MAX; i++)
		if (strcmp(sim_op_table[i].name, name) == 0)
			return i;
	return -1;
}

/* Three nodes; group 0 ("vip") prefers node1, node2, node3 with failback auto
 * after 2 s and depends on check web; group 1 ("db") prefers them the other way
 * round, failback manual. T = 600 ms, C = 720 ms (the lab's test profile). */
const struct sim_scenario sim_scenarios[] = {
	{"failover when the holder crashes", 3, 8000, 0, 1, {{1000, SIM_OP_CRASH, 0, 0}}, {1, "failover", 0, SIM_SEEN_CLAIM_SKIPPED}, SIM_QUORUM_MAJORITY},
	{"switchover to the next node", 3, 4000, 0, 1, {{1000, SIM_OP_SWITCHOVER, 2, 0}}, {1, "switchover", 0, 0}, SIM_QUORUM_MAJORITY},
	{"a membership change during a switchover", 3, 9000, 0, 2,
	 {{1000, SIM_OP_SWITCHOVER, 0, 0}, {1002, SIM_OP_CRASH, 2, 0}}, {1, "switchover", 0, SIM_SEEN_MOVE_MEMBERSHIP}, SIM_QUORUM_MAJORITY},
	{"a merge with a release in flight", 3, 12000, 1500, 2,
	 {{1000, SIM_OP_PARTITION, 1, 0}, {2400, SIM_OP_HEAL, 0, 0}}, {0, NULL, 0, SIM_SEEN_RELEASE_AT_RING}, SIM_QUORUM_MAJORITY},
	{"a stall during a failback delay", 3, 16000, 0, 4,
	 {{1000, SIM_OP_HEALTH_FAIL, 0, 0}, {2000, SIM_OP_HEALTH_PASS, 0, 0}, {2500, SIM_OP_FREEZE, 0, 0},
	  {5000, SIM_OP_THAW, 0, 0}},
	 {0, "failback", 1, SIM_SEEN_STALL_IN_FAILBACK}, SIM_QUORUM_MAJORITY},
	{"the holder's corosync frozen", 3, 10000, 0, 2, {{1000, SIM_OP_FREEZE, 0, 0}, {6000, SIM_OP_THAW, 0, 0}},
	 {0, "failback", 1, 0}, SIM_QUORUM_MAJORITY},
	{"a bridge partition: the higher node withdraws", 3, 20000, 0, 1, {{1000, SIM_OP_BLOCK, 0, 1}},
	 {0, NULL, 0, SIM_SEEN_WITHDRAWAL}, SIM_QUORUM_MAJORITY},
	{"standby drains the holder", 3, 5000, 0, 1, {{1000, SIM_OP_STANDBY, 1, 0}}, {1, "standby", 0, 0}, SIM_QUORUM_MAJORITY},
	{"the minority side releases", 3, 6000, 0, 1, {{1000, SIM_OP_PARTITION, 1, 0}}, {1, "failover", 0, 0}, SIM_QUORUM_MAJORITY},
	{"a graceful stop hands over", 3, 5000, 0, 1, {{1000, SIM_OP_STOP, 0, 0}}, {1, "failover", 0, 0}, SIM_QUORUM_MAJORITY},
	{"a failed check moves the group, failback after the delay", 3, 9000, 0, 2,
	 {{1000, SIM_OP_HEALTH_FAIL, 0, 0}, {3000, SIM_OP_HEALTH_PASS, 0, 0}}, {0, "failback", 0, 0}, SIM_QUORUM_MAJORITY},
	{"a restarted fomgr adopts its addresses", 3, 6000, 0, 2,
	 {{1000, SIM_OP_STOP, 1, 0}, {2000, SIM_OP_START, 1, 0}}, {0, NULL, 0, 0}, SIM_QUORUM_MAJORITY},
	{"a paused fomgr keeps its addresses and reads its backlog", 3, 8000, 0, 3,
	 {{1000, SIM_OP_PAUSE, 0, 0}, {1500, SIM_OP_HEALTH_FAIL, 2, 0}, {4000, SIM_OP_RESUME, 0, 0}},
	 {0, "initial", 0, SIM_SEEN_BACKLOG}, SIM_QUORUM_MAJORITY},
	{"a paused holder cut off releases once it runs again", 3, 16000, 0, 4,
	 {{1000, SIM_OP_PAUSE, 0, 0}, {1500, SIM_OP_CUT, 0, 0}, {5000, SIM_OP_RESUME, 0, 0}, {6000, SIM_OP_HEAL, 0, 0}},
	 {0, "failback", 0, SIM_SEEN_BACKLOG}, SIM_QUORUM_MAJORITY},
	{"a flapping link on the holder", 3, 16000, 0, 2, {{1000, SIM_OP_FLAP, 0, 0}, {6000, SIM_OP_HEAL, 0, 0}},
	 {-2, NULL, 0, SIM_SEEN_KNET_FLAP}, SIM_QUORUM_MAJORITY},
	{"random loss on the holder's links", 5, 18000, 0, 2, {{1000, SIM_OP_LOSS, 0, 0}, {8000, SIM_OP_HEAL, 0, 0}},
	 {-2, NULL, 0, SIM_SEEN_KNET_FLAP}, SIM_QUORUM_MAJORITY},
	{"two nodes and a quorum device: the witness keeps one side", 2, 8000, 0, 1, {{1000, SIM_OP_PARTITION, 1, 0}},
	 {0, NULL, 0, SIM_SEEN_WITNESS_VOTE}, SIM_QUORUM_QDEVICE},
	{"two_node without a device: both halves hold, and say so", 2, 12000, 0, 2,
	 {{1000, SIM_OP_PARTITION, 1, 0}, {5000, SIM_OP_HEAL, 0, 0}}, {0, NULL, 0, SIM_SEEN_SPLIT_RISK},
	 SIM_QUORUM_TWO_NODE},
	{"two_node on four nodes: votequorum turns it off, the minority releases", 4, 6000, 0, 1,
	 {{1000, SIM_OP_PARTITION, 1, 0}}, {1, "failover", 0, 0}, SIM_QUORUM_TWO_NODE},
};
const size_t sim_n_scenarios = sizeof(sim_scenarios) / sizeof(sim_scenarios[0]);
