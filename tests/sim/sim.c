/* The cluster simulator's driver: random schedules of faults and operators'
 * commands from seeds, run against N nodes of the real node core; a failing seed
 * is shrunk to a minimal schedule and printed as a command that replays it.
 *
 *   sim [--seeds N] [--first-seed S] [--steps N] [--nodes N] [--seconds S]
 *   sim --seed S [--nodes N] [--quorum majority|two-node|qdevice] [--ops "ms:kind:a:b,..."] [--verbose]
 *   sim --expect-failure ...   (exit 0 only when some seed fails: for a broken core)
 *   sim --keep-going ...       (count the failing seeds instead of stopping at the first)
 *   sim --partial-mesh ...     (an experiment: a component that cannot settle forms a ring
 *                               of the nodes that reach each other, the rest answering)
 *   sim --vq-jitter ...        (an experiment: votequorum answers each node 1-3 ms after a
 *                               ring, not 2 ms for all)
 *   sim --wire-orphans ...     (an experiment: the orphan bound also while a corosync cannot
 *                               settle, whenever the wire would let a quorate ring form)
 *   sim --no-knetwatch ...     (an experiment: the pair watch without the knet watch)
 *   sim --token T ...          (corosync token T ms, consensus 1.2 T, knet pings every
 *                               200 ms and down after max(T, 600) ms: scripts/lab's
 *                               profile tT; the lab's test profile otherwise)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "table.h"

#define MAX_OPS 96
#define SETTLE_MS 12000 /* after the last fault: heal, boot, start, and time to settle */

struct schedule {
	size_t n_nodes;
	enum sim_quorum quorum;
	uint32_t end_ms;
	size_t n_ops;
	struct sim_op ops[MAX_OPS];
};

static uint64_t mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static enum sim_op_kind draw_kind(uint64_t *r)
{
	unsigned total = 0, pick;

	for (int k = 0; k < SIM_OP_KIND_MAX; k++)
		total += sim_op_table[k].weight;
	pick = (unsigned)(mix(r) % total);
	for (int k = 0; k < SIM_OP_KIND_MAX; k++) {
		if (pick < sim_op_table[k].weight)
			return (enum sim_op_kind)k;
		pick -= sim_op_table[k].weight;
	}
	return SIM_OP_HEAL;
}

static int by_time(const void *a, const void *b)
{
	const struct sim_op *x = a, *y = b;

	return x->at_ms < y->at_ms ? -1 : x->at_ms > y->at_ms;
}

/* Every fault ends: links heal, nodes boot, fomgrs start, checks pass. */
static void add_recovery(struct schedule *s, uint32_t at)
{
	s->ops[s->n_ops++] = (struct sim_op){at, SIM_OP_HEAL, 0, 0};
	for (size_t i = 0; i < s->n_nodes && s->n_ops + 4 <= MAX_OPS; i++) {
		s->ops[s->n_ops++] = (struct sim_op){at, SIM_OP_BOOT, (uint32_t)i, 0};
		s->ops[s->n_ops++] = (struct sim_op){at, SIM_OP_RESUME, (uint32_t)i, 0};
		s->ops[s->n_ops++] = (struct sim_op){at, SIM_OP_START, (uint32_t)i, 0};
		s->ops[s->n_ops++] = (struct sim_op){at, SIM_OP_HEALTH_PASS, (uint32_t)i, 0};
	}
	s->end_ms = at + SETTLE_MS;
}

/* The lab's report: the nodes from a on cut off from the others pair by pair,
 * one cluster link after another, 30-800 ms apart. */
static void pair_by_pair(uint64_t *r, struct schedule *s, uint32_t span_ms)
{
	uint32_t a = 1 + (uint32_t)(mix(r) % (s->n_nodes - 1)), at = 300 + (uint32_t)(mix(r) % span_ms);
	struct sim_op pairs[SIM_MAX_NODES * SIM_MAX_NODES];
	size_t n = 0;

	for (uint32_t i = 0; i < a; i++)
		for (uint32_t j = a; j < s->n_nodes; j++)
			pairs[n++] = (struct sim_op){0, SIM_OP_BLOCK, i, j};
	for (size_t k = n; k > 1; k--) {
		size_t x = (size_t)(mix(r) % k);
		struct sim_op t = pairs[k - 1];
		pairs[k - 1] = pairs[x];
		pairs[x] = t;
	}
	for (size_t k = 0; k < n; k++) {
		pairs[k].at_ms = at;
		s->ops[s->n_ops++] = pairs[k];
		at += 30 + (uint32_t)(mix(r) % 770);
	}
}

static enum sim_quorum draw_quorum(uint64_t *r, size_t n)
{
	uint64_t x = mix(r);

	if (n == 2)
		return (enum sim_quorum)(x % 3);
	return n % 2 == 0 && x % 4 == 0 ? SIM_QUORUM_QDEVICE : SIM_QUORUM_MAJORITY;
}

static void random_schedule(uint64_t seed, size_t nodes, uint32_t span_ms, struct schedule *s)
{
	uint64_t r = seed ^ 0x5eed5eedull;
	size_t n;

	memset(s, 0, sizeof(*s));
	s->n_nodes = nodes ? nodes : 2 + (size_t)(mix(&r) % 8);
	s->quorum = draw_quorum(&r, s->n_nodes);
	if (s->n_nodes >= 5 && mix(&r) % 8 == 0) {
		pair_by_pair(&r, s, span_ms);
		qsort(s->ops, s->n_ops, sizeof(s->ops[0]), by_time);
		add_recovery(s, s->ops[s->n_ops - 1].at_ms + 3000);
		return;
	}
	n = 2 + (size_t)(mix(&r) % 7);
	for (size_t k = 0; k < n; k++)
		s->ops[s->n_ops++] = (struct sim_op){
			.at_ms = 300 + (uint32_t)(mix(&r) % span_ms),
			.kind = draw_kind(&r),
			.a = (uint32_t)(mix(&r) % s->n_nodes),
			.b = (uint32_t)(mix(&r) % s->n_nodes),
		};
	qsort(s->ops, s->n_ops, sizeof(s->ops[0]), by_time);
	add_recovery(s, s->ops[s->n_ops - 1].at_ms + 1000);
}

static int parse_ops(const char *text, struct schedule *s)
{
	char buf[4096], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", text);
	s->n_ops = 0;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char kind[32];
		unsigned at, a, b;
		int k;

		if (sscanf(tok, "%u:%31[a-z-]:%u:%u", &at, kind, &a, &b) != 4 || (k = sim_op_parse(kind)) < 0 ||
		    s->n_ops == MAX_OPS)
			return -EINVAL;
		s->ops[s->n_ops++] = (struct sim_op){at, (enum sim_op_kind)k, a, b};
	}
	qsort(s->ops, s->n_ops, sizeof(s->ops[0]), by_time);
	return 0;
}

static int partial_mesh_experiment, vq_jitter_experiment, wire_orphans_experiment, no_knetwatch_experiment,
	strict_degraded_experiment;
static uint32_t token_ms; /* --token T: scripts/lab's profile tT instead of the test profile */

static void print_replay(uint64_t seed, const struct schedule *s)
{
	char token[32] = "";

	if (token_ms)
		snprintf(token, sizeof(token), " --token %u", token_ms);
	printf("replay: tests/sim/run%s%s%s%s%s%s --seed %llu --nodes %zu --quorum %s --end-ms %u --ops \"",
	       partial_mesh_experiment ? " --partial-mesh" : "", vq_jitter_experiment ? " --vq-jitter" : "",
	       wire_orphans_experiment ? " --wire-orphans" : "", no_knetwatch_experiment ? " --no-knetwatch" : "",
	       strict_degraded_experiment ? " --strict-degraded" : "", token, (unsigned long long)seed, s->n_nodes,
	       sim_quorum_str(s->quorum), s->end_ms);
	for (size_t k = 0; k < s->n_ops; k++)
		printf("%s%u:%s:%u:%u", k ? "," : "", s->ops[k].at_ms, sim_op_str(s->ops[k].kind), s->ops[k].a,
		       s->ops[k].b);
	printf("\" --verbose\n");
}

static int run_schedule(uint64_t seed, const struct schedule *s, int verbose, struct sim_result *res)
{
	struct sim_options opt = {.n_nodes = s->n_nodes, .seed = seed, .end_ms = s->end_ms, .verbose = verbose,
				  .quorum = s->quorum, .partial_mesh = partial_mesh_experiment,
				  .vq_jitter = vq_jitter_experiment, .wire_orphans = wire_orphans_experiment,
				  .no_knetwatch = no_knetwatch_experiment, .strict_degraded = strict_degraded_experiment,
				  .token_ms = token_ms};

	sim_run(&opt, s->ops, s->n_ops, res);
	return res->failed;
}

/* Drops ops one at a time while the run still fails: a minimal schedule. */
static void shrink(uint64_t seed, struct schedule *s)
{
	struct sim_result res;
	int progress = 1;

	while (progress) {
		progress = 0;
		for (size_t k = 0; k < s->n_ops; k++) {
			struct schedule t = *s;
			memmove(&t.ops[k], &t.ops[k + 1], (t.n_ops - k - 1) * sizeof(t.ops[0]));
			t.n_ops--;
			if (run_schedule(seed, &t, 0, &res)) {
				*s = t;
				progress = 1;
				k--;
			}
		}
	}
	run_schedule(seed, s, 0, &res);
	printf("minimal schedule (%zu ops): %s\n", s->n_ops, res.message);
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t seeds = 1000, first = 1, steps_goal = 0, seed = 0, total_steps = 0, failures = 0, ran = 0;
	size_t nodes = 0;
	const char *ops = NULL;
	int quorum = -1, partial_mesh = 0;
	uint64_t worst_dual_us = 0, worst_orphan_us = 0, acquisitions = 0, stalls = 0;
	int verbose = 0, expect_failure = 0, one = 0, keep_going = 0;
	uint32_t span_ms = 8000, end_ms = 0;
	unsigned seen = 0;
	uint64_t skipped = 0;
	double t0 = seconds(), max_seconds = 0;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";
		if (!strcmp(argv[i], "--seeds"))
			seeds = strtoull(v, NULL, 10), i++;
		else if (!strcmp(argv[i], "--first-seed"))
			first = strtoull(v, NULL, 10), i++;
		else if (!strcmp(argv[i], "--steps"))
			steps_goal = strtoull(v, NULL, 10), i++;
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(v, NULL, 10), one = 1, i++;
		else if (!strcmp(argv[i], "--nodes"))
			nodes = strtoul(v, NULL, 10), i++;
		else if (!strcmp(argv[i], "--ops"))
			ops = v, i++;
		else if (!strcmp(argv[i], "--quorum")) {
			if ((quorum = sim_quorum_parse(v)) < 0) {
				fprintf(stderr, "sim: --quorum is majority, two-node or qdevice\n");
				return 2;
			}
			i++;
		}
		else if (!strcmp(argv[i], "--end-ms"))
			end_ms = (uint32_t)strtoul(v, NULL, 10), i++;
		else if (!strcmp(argv[i], "--span-ms"))
			span_ms = (uint32_t)strtoul(v, NULL, 10), i++;
		else if (!strcmp(argv[i], "--seconds"))
			max_seconds = strtod(v, NULL), i++;
		else if (!strcmp(argv[i], "--partial-mesh"))
			partial_mesh = 1;
		else if (!strcmp(argv[i], "--vq-jitter"))
			vq_jitter_experiment = 1;
		else if (!strcmp(argv[i], "--wire-orphans"))
			wire_orphans_experiment = 1;
		else if (!strcmp(argv[i], "--no-knetwatch"))
			no_knetwatch_experiment = 1;
		else if (!strcmp(argv[i], "--token"))
			token_ms = (uint32_t)strtoul(v, NULL, 10), i++;
		else if (!strcmp(argv[i], "--strict-degraded"))
			strict_degraded_experiment = 1;
		else if (!strcmp(argv[i], "--verbose"))
			verbose++;
		else if (!strcmp(argv[i], "--expect-failure"))
			expect_failure = 1;
		else if (!strcmp(argv[i], "--keep-going"))
			keep_going = 1;
		else {
			fprintf(stderr, "usage: sim [--seeds N] [--first-seed S] [--steps N] [--nodes N] [--span-ms MS] "
					"[--seconds S] [--seed S [--ops LIST] [--end-ms MS] [--verbose]] [--expect-failure] "
					"[--keep-going] [--quorum majority|two-node|qdevice] [--partial-mesh] [--vq-jitter] "
					"[--wire-orphans] [--no-knetwatch] [--strict-degraded] [--token T]\n");
			return 2;
		}
	}
	partial_mesh_experiment = partial_mesh;
	if (nodes && (nodes < 2 || nodes > SIM_MAX_NODES)) {
		fprintf(stderr, "sim: --nodes is 2 to %d\n", SIM_MAX_NODES);
		return 2;
	}
	for (uint64_t k = 0; one ? k < 1 : (k < seeds || (steps_goal && total_steps < steps_goal)); k++) {
		uint64_t s = one ? seed : first + k;
		struct schedule sch;
		struct sim_result res;

		random_schedule(s, nodes, span_ms, &sch);
		if (ops && parse_ops(ops, &sch) < 0) {
			fprintf(stderr, "sim: bad --ops (ms:kind:a:b,...)\n");
			return 2;
		}
		if (end_ms)
			sch.end_ms = end_ms;
		if (quorum >= 0)
			sch.quorum = (enum sim_quorum)quorum;
		run_schedule(s, &sch, verbose, &res);
		total_steps += res.steps;
		skipped += res.claims_skipped;
		seen |= res.seen;
		if (res.worst_dual_us > worst_dual_us)
			worst_dual_us = res.worst_dual_us;
		if (res.worst_orphan_us > worst_orphan_us)
			worst_orphan_us = res.worst_orphan_us;
		acquisitions += res.acquisitions;
		stalls += res.stalls;
		ran++;
		if (res.failed) {
			failures++;
			printf("seed %llu (%zu nodes) FAILED at %.3f s: %s\n", (unsigned long long)s, sch.n_nodes,
			       res.now_ms / 1000.0, res.message);
			if (keep_going)
				continue;
			if (!expect_failure) {
				shrink(s, &sch);
				print_replay(s, &sch);
			}
			break;
		}
		if (max_seconds && seconds() - t0 > max_seconds)
			break;
	}
	{
		double dt = seconds() - t0;
		printf("sim: %llu seed(s), %llu steps in %.2f s (%.0f steps/s), %llu failure(s); worst two-holder stretch "
		       "allowed %.3f s; interleavings seen:%s%s%s%s%s%s%s%s%s%s\n",
		       (unsigned long long)ran, (unsigned long long)total_steps, dt, dt > 0 ? total_steps / dt : 0.,
		       (unsigned long long)failures, worst_dual_us / 1e6,
		       seen & SIM_SEEN_MOVE_MEMBERSHIP ? " move+membership" : "",
		       seen & SIM_SEEN_RELEASE_AT_RING ? " release+ring" : "",
		       seen & SIM_SEEN_STALL_IN_FAILBACK ? " stall+failback" : "",
		       seen & SIM_SEEN_WITHDRAWAL ? " withdrawal" : "", seen & SIM_SEEN_DUAL_AVOIDED ? " probe-answered" : "",
		       seen & SIM_SEEN_KNET_FLAP ? " knet-flap" : "", seen & SIM_SEEN_BACKLOG ? " backlog" : "",
		       seen & SIM_SEEN_WITNESS_VOTE ? " witness-vote" : "",
		       seen & SIM_SEEN_SPLIT_RISK ? " split-risk" : "", seen & SIM_SEEN_CLAIM_SKIPPED ? " claim-skipped" : "");
		printf("sim: %llu acquisitions, %llu ring stalls that released; longest orphan stretch %.3f s\n",
		       (unsigned long long)acquisitions, (unsigned long long)stalls, worst_orphan_us / 1e6);
		printf("sim: %llu acquisition(s) without the claim round (a presumed owner after a node down)\n",
		       (unsigned long long)skipped);
	}
	if (expect_failure)
		return failures ? 0 : 1;
	return failures ? 1 : 0;
}
