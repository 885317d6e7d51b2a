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
	{"failover when the holder crashes", 3, 8000, 0, 1, {{1000, SIM_OP_CRASH, 0, 0}}, {1, "failover", 0, 0}},
	{"switchover to the next node", 3, 4000, 0, 1, {{1000, SIM_OP_SWITCHOVER, 2, 0}}, {1, "switchover", 0, 0}},
	{"a membership change during a switchover", 3, 9000, 0, 2,
	 {{1000, SIM_OP_SWITCHOVER, 0, 0}, {1002, SIM_OP_CRASH, 2, 0}}, {1, "switchover", 0, SIM_SEEN_MOVE_MEMBERSHIP}},
	{"a merge with a release in flight", 3, 12000, 1500, 2,
	 {{1000, SIM_OP_PARTITION, 1, 0}, {2400, SIM_OP_HEAL, 0, 0}}, {0, NULL, 0, SIM_SEEN_RELEASE_AT_RING}},
	{"a stall during a failback delay", 3, 16000, 0, 4,
	 {{1000, SIM_OP_HEALTH_FAIL, 0, 0}, {2000, SIM_OP_HEALTH_PASS, 0, 0}, {2500, SIM_OP_FREEZE, 0, 0},
	  {5000, SIM_OP_THAW, 0, 0}},
	 {0, "failback", 1, SIM_SEEN_STALL_IN_FAILBACK}},
	{"the holder's corosync frozen", 3, 10000, 0, 2, {{1000, SIM_OP_FREEZE, 0, 0}, {6000, SIM_OP_THAW, 0, 0}},
	 {0, "failback", 1, 0}},
	{"a bridge partition: the higher node withdraws", 3, 20000, 0, 1, {{1000, SIM_OP_BLOCK, 0, 1}},
	 {0, NULL, 0, SIM_SEEN_WITHDRAWAL}},
	{"standby drains the holder", 3, 5000, 0, 1, {{1000, SIM_OP_STANDBY, 1, 0}}, {1, "standby", 0, 0}},
	{"the minority side releases", 3, 6000, 0, 1, {{1000, SIM_OP_PARTITION, 1, 0}}, {1, "failover", 0, 0}},
	{"a graceful stop hands over", 3, 5000, 0, 1, {{1000, SIM_OP_STOP, 0, 0}}, {1, "failover", 0, 0}},
	{"a failed check moves the group, failback after the delay", 3, 9000, 0, 2,
	 {{1000, SIM_OP_HEALTH_FAIL, 0, 0}, {3000, SIM_OP_HEALTH_PASS, 0, 0}}, {0, "failback", 0, 0}},
	{"a restarted fomgr adopts its addresses", 3, 6000, 0, 2,
	 {{1000, SIM_OP_STOP, 1, 0}, {2000, SIM_OP_START, 1, 0}}, {0, NULL, 0, 0}},
};
const size_t sim_n_scenarios = sizeof(sim_scenarios) / sizeof(sim_scenarios[0]);
