#include "status.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

json_t *status_transition_json(const struct status_transition *t)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:s?, s:f, s:I}", "seq", (json_int_t)t->seq, "group",
			 t->group, "action", t->acquired ? "acquire" : "release", "from", t->from, "to", t->to,
			 "reason", transition_reason_str(t->reason), "ok", !t->error,
			 "error", t->error ? strerror(-t->error) : NULL, "took_ms", t->took_ms, "at_ms",
			 (json_int_t)t->realtime_ms);
}

/* ---- this node's newest transitions ----
 *
 * A transition's JSON never changes once made, and monitoring may ask for the
 * document thousands of times a second: building the list again for each request
 * was what every failover added to /status and /metrics (issue 14). So the objects
 * of the newest transitions are kept from one document to the next and shared,
 * found again by every field their JSON is made of, never by where a transition
 * sits in the executor's list. The table is file-level because it is a cache of a
 * pure function (equal fields, equal JSON), not state: fomgr's documents are all
 * built in its one loop thread. */
static struct recent {
	struct status_transition t;
	json_t *json;
} recent[STATUS_RECENT_TRANSITIONS];

static int same_transition(const struct status_transition *a, const struct status_transition *b)
{
	return a->seq == b->seq && a->realtime_ms == b->realtime_ms && a->acquired == b->acquired &&
	       a->error == b->error && a->reason == b->reason && a->took_ms == b->took_ms &&
	       strcmp(a->group, b->group) == 0 && strcmp(a->from, b->from) == 0 && strcmp(a->to, b->to) == 0;
}

static json_t *recent_json(const struct status_transition *t)
{
	for (size_t i = 0; i < STATUS_RECENT_TRANSITIONS; i++)
		if (recent[i].json && same_transition(&recent[i].t, t))
			return json_incref(recent[i].json);
	return status_transition_json(t);
}

/* The newest STATUS_RECENT_TRANSITIONS, oldest first; the table keeps them for the
 * next document and lets go of the ones that dropped out. */
static json_t *transitions_json(const struct status_input *in)
{
	size_t n = in->n_transitions < STATUS_RECENT_TRANSITIONS ? in->n_transitions : STATUS_RECENT_TRANSITIONS;
	struct recent next[STATUS_RECENT_TRANSITIONS];
	json_t *arr = json_array();

	memset(next, 0, sizeof(next));
	for (size_t i = 0; i < n; i++) {
		next[i].t = in->transitions[in->n_transitions - n + i];
		next[i].json = recent_json(&next[i].t);
		json_array_append(arr, next[i].json);
	}
	for (size_t i = 0; i < STATUS_RECENT_TRANSITIONS; i++)
		json_decref(recent[i].json);
	memcpy(recent, next, sizeof(recent));
	return arr;
}

/* When the node's fomgr joined the group (online since) and started, as its
 * announce says (an older peer's does not). */
static void times_json(json_t *o, const struct view_node *n)
{
	int known = n->member && n->has_state && (n->ann.flags & WIRE_F_HISTORY);

	json_object_set_new(o, "online_since_ms",
			    known && n->ann.joined_ms ? json_integer((json_int_t)n->ann.joined_ms) : json_null());
	json_object_set_new(o, "started_ms",
			    known && n->ann.started_ms ? json_integer((json_int_t)n->ann.started_ms) : json_null());
}

static json_t *node_json(const struct view *view, const struct view_node *n)
{
	json_t *o = json_object(), *checks = json_object(), *holds = json_array(), *up = json_array();
	const struct wire_announce *a = &n->ann;
	char digest[65];

	json_object_set_new(o, "name", json_string(n->name));
	json_object_set_new(o, "nodeid", json_integer(n->nodeid));
	json_object_set_new(o, "online", json_boolean(n->up));
	json_object_set_new(o, "member", json_boolean(n->member));
	json_object_set_new(o, "local", json_boolean(n->nodeid == view->local_nodeid));
	json_object_set_new(o, "standby", json_boolean(wire_admin_standby(view_admin(view), n->name)));
	json_object_set_new(o, "leaving", json_boolean(n->has_state && (a->flags & WIRE_F_LEAVING)));
	json_object_set_new(o, "health_stale", json_boolean(n->has_state && (a->flags & WIRE_F_HEALTH_STALE)));
	for (size_t i = 0; n->has_state && i < a->n_checks; i++)
		json_object_set_new(checks, a->checks[i].name, json_string(check_state_str(a->checks[i].state)));
	for (size_t i = 0; n->has_state && i < a->n_held; i++)
		json_array_append_new(holds, json_string(a->held[i]));
	json_object_set_new(o, "checks", checks);
	for (size_t i = 0; n->has_state && i < a->n_up; i++)
		json_array_append_new(up, json_string(a->up[i]));
	json_object_set_new(o, "holds", holds);
	json_object_set_new(o, "addresses_up", up);
	json_object_set_new(o, "version", n->has_state ? json_string(a->version) : json_null());
	json_object_set_new(o, "corosync_version",
			    n->has_state && a->netstate.corosync_version[0] ? json_string(a->netstate.corosync_version)
									  : json_null());
	json_object_set_new(o, "kernel_version",
			    n->has_state && a->netstate.kernel_version[0] ? json_string(a->netstate.kernel_version)
									: json_null());
	hex(a->config_digest, 32, digest);
	json_object_set_new(o, "config_digest", n->has_state ? json_string(digest) : json_null());
	times_json(o, n);
	return o;
}

static const char *node_name(const struct view *view, uint32_t nodeid)
{
	const struct view_node *n = view_node_by_id((struct view *)view, nodeid);

	return n ? n->name : NULL;
}

/* crm_resource --why: for every node, where it stands for the group and why. */
static json_t *group_why_json(const struct status_input *in, const struct config_group *g,
			      const struct placement_group *p, size_t i)
{
	json_t *nodes = json_array();

	for (size_t k = 0; k < in->view->n_nodes; k++) {
		const struct view_node *n = &in->view->nodes[k];
		uint64_t left = n->nodeid == in->view->local_nodeid ? in->failback_left_ms[i] : 0;
		char why[300];
		enum placement_why w = placement_why_node(in->view, g, p, n, left, why, sizeof(why));

		json_array_append_new(nodes, json_pack("{s:s, s:s, s:s}", "name", n->name, "state",
						       placement_why_str(w), "why", why));
	}
	return nodes;
}

static json_t *group_json(const struct status_input *in, size_t i)
{
	const struct config_group *g = &in->config->groups[i];
	const struct placement_group *p = i < in->placement->n_groups ? &in->placement->groups[i] : NULL;
	const char *pin = wire_admin_pin(view_admin(in->view), g->name);
	json_t *o = json_object(), *addrs = json_array(), *checks = json_array();

	for (size_t k = 0; k < g->n_addrs; k++)
		json_array_append_new(addrs, json_string(g->addrs[k].text));
	for (size_t k = 0; k < g->n_checks; k++)
		json_array_append_new(checks, json_string(g->checks[k]));
	json_object_set_new(o, "name", json_string(g->name));
	json_object_set_new(o, "interface", json_string(g->interface));
	json_object_set_new(o, "addresses", addrs);
	json_object_set_new(o, "checks", checks);
	json_object_set_new(o, "failback", json_string(config_failback_str(g->failback)));
	json_object_set_new(o, "owner", p && p->owner ? json_string(node_name(in->view, p->owner)) : json_null());
	json_object_set_new(o, "holder", p && p->holder ? json_string(node_name(in->view, p->holder)) : json_null());
	json_object_set_new(o, "reason", json_string(p ? placement_reason_str(p->reason) : "unsettled"));
	json_object_set_new(o, "pinned_to", pin ? json_string(pin) : json_null());
	json_object_set_new(o, "disabled", json_boolean(wire_admin_disabled(view_admin(in->view), g->name)));
	if (p) {
		char why[400];

		placement_why_group(in->view, g, p, why, sizeof(why));
		json_object_set_new(o, "why", json_string(why));
		json_object_set_new(o, "nodes", group_why_json(in, g, p, i));
	}
	json_object_set_new(o, "local_state",
			    json_string(transition_state_str(transition_state_of(in->transition, g->name))));
	return o;
}

/* A rolling update in progress shows as mixed versions among the members. */
static int mixed_versions(const struct view *v)
{
	const struct view_node *first = NULL;

	for (size_t i = 0; i < v->n_nodes; i++) {
		const struct view_node *n = &v->nodes[i];
		if (!n->member || !n->has_state)
			continue;
		if (!first)
			first = n;
		else if (strcmp(first->ann.version, n->ann.version) != 0 ||
			 strcmp(first->ann.netstate.corosync_version, n->ann.netstate.corosync_version) != 0 ||
			 strcmp(first->ann.netstate.kernel_version, n->ann.netstate.kernel_version) != 0)
			return 1;
	}
	return 0;
}

static json_t *warnings_json(const struct status_input *in)
{
	json_t *w = json_array();

	if (in->two_node_no_tiebreaker)
		json_array_append_new(w, json_string("split-brain-risk: two_node without a tie-breaker"));
	if (!in->corosync_crypto)
		json_array_append_new(w, json_string("corosync-without-crypto"));
	if (in->health_stale)
		json_array_append_new(w, json_string("health-agent-stale"));
	if (!in->joined)
		json_array_append_new(w, json_string("not-joined: corosync unreachable"));
	if (in->ring && (in->ring->stalled || in->ring->fenced))
		json_array_append_new(w, json_string("ring-stall: corosync stopped serving this node; every group "
						     "released until a ring can be trusted"));
	if (in->ring && in->ring->isolated)
		json_array_append_new(w, json_string("isolated: corosync's links reach no majority of the votes; every "
						     "group released until they do"));
	if (in->ring && in->ring->withdrawn_from) {
		char text[160];
		snprintf(text, sizeof(text),
			 "withdrawn: bridge partition, no link to %s; out of the ring until it is back",
			 in->ring->withdrawn_from);
		json_array_append_new(w, json_string(text));
	}
	if (view_admin(in->view)->maintenance)
		json_array_append_new(w, json_string("maintenance: maintenance mode: fomgr moves nothing "
						     "(fomctl maintenance off)"));
	if (mixed_versions(in->view))
		json_array_append_new(w, json_string("mixed-versions: fomgr, corosync or kernel versions differ"));
	return w;
}

static json_t *admin_json(const struct wire_admin *a)
{
	json_t *standby = json_array(), *pins = json_object(), *disabled = json_array();

	for (size_t i = 0; i < a->n_standby; i++)
		json_array_append_new(standby, json_string(a->standby[i]));
	for (size_t i = 0; i < a->n_pins; i++)
		json_object_set_new(pins, a->pins[i].group, json_string(a->pins[i].node));
	for (size_t i = 0; i < a->n_disabled; i++)
		json_array_append_new(disabled, json_string(a->disabled[i]));
	return json_pack("{s:I, s:o, s:o, s:o, s:b}", "epoch", (json_int_t)a->epoch, "standby", standby, "pins", pins,
			 "disabled", disabled, "maintenance", a->maintenance);
}

static json_t *counters_json(const struct status_input *in)
{
	struct transition_stats st;
	json_t *by_reason = json_object();

	transition_get_stats(in->transition, &st);
	for (int r = 0; r < TRANSITION_REASON_MAX; r++)
		json_object_set_new(by_reason, transition_reason_str((enum transition_reason)r),
				    json_integer((json_int_t)st.by_reason[r]));
	return json_pack("{s:o, s:I}", "transitions_by_reason", by_reason, "announcements_sent",
			 (json_int_t)st.announce_sent);
}

/* crm_mon's "last updated" and "last change", and this fomgr's uptime. */
static void add_times(json_t *root, const struct status_input *in)
{
	size_t n = in->history ? history_count(in->history) : 0;

	json_object_set_new(root, "updated_ms", json_integer((json_int_t)in->now_ms));
	json_object_set_new(root, "started_ms", json_integer((json_int_t)in->started_ms));
	json_object_set_new(root, "uptime_s", json_integer(in->now_ms > in->started_ms && in->started_ms
								  ? (json_int_t)((in->now_ms - in->started_ms) / 1000)
								  : 0));
	json_object_set_new(root, "last_change", n ? history_entry_json(history_get(in->history, n - 1)) : json_null());
}

json_t *status_build(const struct status_input *in)
{
	const struct view *v = in->view;
	const struct view_node *me = view_local(v);
	json_t *root = json_object(), *nodes = json_array(), *groups = json_array();

	for (size_t i = 0; i < v->n_nodes; i++)
		json_array_append_new(nodes, node_json(v, &v->nodes[i]));
	for (size_t i = 0; i < in->config->n_groups; i++)
		json_array_append_new(groups, group_json(in, i));
	json_object_set_new(root, "schema_version", json_integer(STATUS_SCHEMA_VERSION));
	json_object_set_new(root, "node", me ? json_string(me->name) : json_null());
	json_object_set_new(root, "version", json_string(FO_VERSION));
	json_object_set_new(root, "joined", json_boolean(in->joined));
	json_object_set_new(root, "quorate", json_boolean(v->quorate));
	json_object_set_new(root, "synced", json_boolean(view_synced(v)));
	json_object_set_new(root, "members", json_integer((json_int_t)view_members(v)));
	json_object_set_new(root, "expected_votes", json_integer(in->expected_votes));
	json_object_set_new(root, "warnings", warnings_json(in));
	json_object_set_new(root, "admin", admin_json(view_admin(v)));
	json_object_set_new(root, "nodes", nodes);
	json_object_set_new(root, "groups", groups);
	json_object_set_new(root, "transitions", transitions_json(in));
	json_object_set_new(root, "counters", counters_json(in));
	add_times(root, in);
	if (in->ring) {
		json_t *ring = json_pack("{s:i, s:b, s:b, s:b, s:I, s:I, s:I}", "stall_bound_ms",
					 (int)in->ring->stall_bound_ms, "stalled", in->ring->stalled, "fenced",
					 in->ring->fenced, "isolated", in->ring->isolated, "stalls",
					 (json_int_t)in->ring->stalls, "withdrawals", (json_int_t)in->ring->withdrawals,
					 "isolations", (json_int_t)in->ring->isolations);
		if (in->ring->withdrawn_from)
			json_object_set_new(ring, "withdrawn_from", json_string(in->ring->withdrawn_from));
		json_object_set_new(root, "ring", ring);
	}
	return root;
}
