#include "status_gather.h"

#include "audit.h"
#include "conflict.h"
#include "executor.h"
#include "node.h"
#include "qdevice.h"
#include "ringwatch.h"
#include "status.h"

static void ring_of(const struct status_sources *s, struct status_ring *ring)
{
	const struct node *node = s->node;

	*ring = (struct status_ring){
		.stall_bound_ms = ringwatch_bound_ms(s->ringwatch),
		.stalled = ringwatch_is_stalled(s->ringwatch),
		.fenced = node->fenced,
		.withdrawn_from = node->pairs.withdrawn_from ? node_name(node, node->pairs.withdrawn_from) : NULL,
		.isolated = node->pairs.isolated,
		.stalls = node->ring_stalls,
		.withdrawals = executor_withdrawals(s->executor),
		.isolations = node->isolations,
	};
}

json_t *status_gather(const struct status_sources *s, uint64_t now_us, uint64_t now_ms)
{
	const struct node *node = s->node;
	struct status_input in;
	struct status_ring ring;
	json_t *root;

	if (!s->config || !node)
		return json_pack("{s:i, s:b, s:s}", "schema_version", STATUS_SCHEMA_VERSION, "joined", 0, "state",
				 "starting");
	in = (struct status_input){
		.config = s->config,
		.view = &node->view,
		.placement = &node->placement,
		.transition = &node->transition,
		.joined = node->joined,
		.two_node_no_tiebreaker = qdevice_split_brain_risk(node->info.two_node, node->info.has_qdevice, s->qdevice),
		.corosync_crypto = node->info.crypto,
		.health_stale = s->health_stale,
		.expected_votes = node->info.expected_votes,
	};
	ring_of(s, &ring);
	for (size_t i = 0; i < s->config->n_groups && i < CONFIG_MAX_GROUPS; i++)
		in.failback_left_ms[i] = node_failback_left_ms(node, i, now_us);
	in.transitions = executor_transitions(s->executor, &in.n_transitions);
	in.ring = s->ringwatch ? &ring : NULL;
	in.now_ms = now_ms;
	in.started_ms = node->started_ms;
	in.history = executor_history(s->executor);
	root = status_build(&in);
	qdevice_status_json(s->qdevice, now_us, root);
	if (s->audit)
		json_object_set_new(root, "audit", audit_status_json(s->audit));
	conflict_status_json(s->conflict, root);
	if (s->extra)
		s->extra(s->extra_arg, root);
	return root;
}
