#include "whatif.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

static const char *const kind_names[WHATIF_KIND_MAX] = {"standby", "move", "fail", "fail-check"};

const char *whatif_kind_str(enum whatif_kind kind)
{
	return kind < WHATIF_KIND_MAX ? kind_names[kind] : "invalid";
}

int whatif_kind_parse(const char *word, enum whatif_kind *kind)
{
	for (int i = 0; i < WHATIF_KIND_MAX; i++) {
		if (strcmp(word, kind_names[i]) == 0) {
			*kind = (enum whatif_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* The operators' state as if the cluster had agreed on admin: every node up
 * carries it, one epoch on, so view_admin() picks it. */
static void agree(struct view *v, struct wire_admin *admin)
{
	admin->epoch = view_admin(v)->epoch + 1;
	for (size_t i = 0; i < v->n_nodes; i++)
		if (v->nodes[i].up && v->nodes[i].has_state)
			v->nodes[i].ann.admin = *admin;
}

/* It leaves the ring, as corosync would tell; the wait for a holder a member
 * still reaches (lost-holder) ends as it ends once that holder released. */
static void fail_node(struct view *v, struct view_node *n, const struct whatif_quorum *q)
{
	uint32_t ids[CONFIG_MAX_NODES], expected = q->expected_votes ? q->expected_votes : (uint32_t)v->n_nodes;
	size_t k = 0;

	for (size_t i = 0; i < v->n_nodes; i++)
		if (v->nodes[i].up && &v->nodes[i] != n)
			ids[k++] = v->nodes[i].nodeid;
	view_apply_totem(v, ids, k);
	view_forget_lost(v, n->nodeid);
	/* This node failing: placement as the survivors make it (it needs a member
	 * as the local node to call the view settled). */
	if (n->nodeid == v->local_nodeid)
		for (size_t i = 0; i < v->n_nodes; i++)
			if (v->nodes[i].member) {
				v->local_nodeid = v->nodes[i].nodeid;
				break;
			}
	view_apply_quorum(v, 1, q->tie_breaker ? v->quorate && k > 0 : 2 * k > expected);
}

static int fail_check(struct view_node *n, const char *check)
{
	struct wire_announce *a = &n->ann;

	for (size_t i = 0; i < a->n_checks; i++) {
		if (strcmp(a->checks[i].name, check) == 0) {
			a->checks[i].state = CHECK_FAILING;
			return 0;
		}
	}
	return -ENOENT;
}

/* Makes the one change on v. */
static int apply(struct view *v, const struct config *config, const struct whatif_quorum *q, const struct whatif *w,
		 struct whatif_result *out)
{
	struct view_node *n = w->node ? (struct view_node *)view_node_by_name(v, w->node) : NULL;
	const struct config_group *g = w->group ? config_group_find(config, w->group) : NULL;
	struct wire_admin admin = *view_admin(v);
	int rc;

	if (!n || (w->kind == WHATIF_MOVE && !g))
		return -ENOENT;
	switch (w->kind) {
	case WHATIF_STANDBY:
		admin_set_standby(&admin, n->name, 1);
		agree(v, &admin);
		return 0;
	case WHATIF_MOVE:
		if (!placement_explain(v, g, n, out->refused, sizeof(out->refused)))
			return -EHOSTUNREACH;
		rc = admin_set_pin(&admin, g->name, n->name);
		if (rc < 0 && rc != -EEXIST)
			return rc;
		agree(v, &admin);
		return 0;
	case WHATIF_FAIL:
		fail_node(v, n, q);
		return 0;
	case WHATIF_FAIL_CHECK:
		return w->check ? fail_check(n, w->check) : -ENOENT;
	default:
		return -EINVAL;
	}
}

static void owner_name(const struct view *v, uint32_t id, char *out)
{
	const struct view_node *n = id ? view_node_by_id((struct view *)v, id) : NULL;

	snprintf(out, CONFIG_NAME_MAX, "%s", n ? n->name : "");
}

int whatif_run(const struct view *view, const struct config *config, const struct placement *now,
	       const struct whatif_quorum *quorum, const struct whatif *w, struct whatif_result *out)
{
	struct view *v = malloc(sizeof(*v)); /* large: never on the loop's stack */
	struct placement *after = malloc(sizeof(*after));
	int rc = v && after ? 0 : -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (rc == 0) {
		*v = *view;
		rc = apply(v, config, quorum, w, out);
	}
	if (rc == 0) {
		placement_compute(v, config, after);
		out->quorate = v->quorate;
		out->n_groups = config->n_groups;
		for (size_t i = 0; i < config->n_groups; i++) {
			struct whatif_group *g = &out->groups[i];

			snprintf(g->name, sizeof(g->name), "%s", config->groups[i].name);
			owner_name(view, i < now->n_groups ? now->groups[i].owner : 0, g->before);
			owner_name(v, after->groups[i].owner, g->after);
			g->reason = after->groups[i].reason;
			placement_why_group(v, &config->groups[i], &after->groups[i], g->why, sizeof(g->why));
		}
	}
	free(v);
	free(after);
	return rc;
}

json_t *whatif_json(const struct whatif *w, const struct whatif_result *r)
{
	json_t *groups = json_array();
	json_t *what = json_pack("{s:s, s:s?, s:s?, s:s?}", "action", whatif_kind_str(w->kind), "node", w->node,
				 "group", w->group, "check", w->check);

	for (size_t i = 0; i < r->n_groups; i++) {
		const struct whatif_group *g = &r->groups[i];

		json_array_append_new(groups, json_pack("{s:s, s:s?, s:s?, s:b, s:s, s:s}", "group", g->name,
							"owner_before", g->before[0] ? g->before : NULL,
							"owner_after", g->after[0] ? g->after : NULL, "changes",
							strcmp(g->before, g->after) != 0, "reason",
							placement_reason_str(g->reason), "why", g->why));
	}
	return json_pack("{s:o, s:b, s:o}", "simulate", what, "quorate", r->quorate, "groups", groups);
}
