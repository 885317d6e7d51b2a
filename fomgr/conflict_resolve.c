#include "conflict_resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auditlog.h"
#include "executor.h"
#include "fo/log.h"
#include "node.h"

int conflict_resolve_role(const struct node *node, const char *group, struct conflict_role *out)
{
	const struct config_group *g = node ? config_group_find(node->config, group) : NULL;
	size_t i = g ? (size_t)(g - node->config->groups) : 0;
	uint32_t owner = g && i < node->placement.n_groups ? node->placement.groups[i].owner : 0;

	if (!g)
		return -ENOENT;
	out->owner = owner && owner == node->view.local_nodeid;
	out->held = transition_state_of(&node->transition, group) == TRANSITION_HELD;
	out->claims = transition_claims(&node->transition, group);
	snprintf(out->owner_name, sizeof(out->owner_name), "%s", owner ? node_name(node, owner) : "none");
	return 0;
}

void conflict_resolve(struct conflict *c, struct executor *x, const struct conflict_event *ev,
		      conflict_resolve_reannounce_fn reannounce, void *arg)
{
	const char *action = ev->verdict == CONFLICT_LOCAL ? "remove" : "reannounce";
	char ip[INET6_ADDRSTRLEN], mac[18];
	int rc = ev->verdict == CONFLICT_LOCAL ? conflict_remove(c, ev) : reannounce(arg, ev->group);

	if (!ev->first && rc == 0)
		return;
	inet_ntop(ev->addr.family, &ev->addr.addr, ip, sizeof(ip));
	log_event(LOG_LVL_WARN, LOG_MSGID_FINDING,
		  "conflict group=%s address=%s mac=%s owner=%s interface=%s source=%s action=%s%s%s", ev->group, ip,
		  conflict_mac_str(ev->mac, mac, sizeof(mac)), ev->owner, ev->addr.ifname,
		  conflict_source_str(ev->source), action, rc < 0 ? " failed: " : "", rc < 0 ? strerror(-rc) : "");
	if (ev->first)
		executor_record(x, AUDITLOG_FINDING, conflict_event_json(ev, action), 0);
}
