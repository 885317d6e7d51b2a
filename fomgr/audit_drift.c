/* Drift between nodes (see audit_drift.h). */
#include "audit_drift.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#ifndef FO_VERSION
#define FO_VERSION "unknown"
#endif

void audit_drift_local(const struct config *config, const uint8_t corosync_digest[32], const char *corosync_version,
		       const struct netstate_summary *net, struct netstate_peer_state *out)
{
	struct utsname u;

	memset(out, 0, sizeof(*out));
	config_cluster_digest(config, out->config_digest);
	memcpy(out->corosync_digest, corosync_digest, sizeof(out->corosync_digest));
	snprintf(out->corosync_version, sizeof(out->corosync_version), "%s", corosync_version);
	snprintf(out->fomgr_version, sizeof(out->fomgr_version), "%s", FO_VERSION);
	if (uname(&u) == 0 && strlen(u.release) < sizeof(out->kernel_version))
		memcpy(out->kernel_version, u.release, strlen(u.release) + 1);
	if (net) {
		netstate_summary_digest(net, &out->digests);
		out->fw_lines = net->firewall;
		out->n_fw = netstate_firewall_hashes(net->firewall, out->fw, NETSTATE_MAX_FW_LINES);
	}
}

/* A finding of netstate_compare about node: its subject ends in " on NODE". */
static bool about_node(const struct audit_finding *f, const char *node)
{
	size_t n = strlen(f->subject), k = strlen(node);

	return n > k + 4 && strcmp(f->subject + n - k, node) == 0 && memcmp(f->subject + n - k - 4, " on ", 4) == 0;
}

int audit_drift_others(const struct audit_findings *active, const char *node, struct audit_findings *out)
{
	for (size_t i = 0; i < active->n; i++) {
		const struct audit_finding *f = &active->v[i];
		int r = about_node(f, node) ? 0
			: audit_findings_add(out, f->kind, f->severity, f->subject, "%s", f->detail);

		if (r < 0)
			return r;
	}
	return 0;
}

int audit_drift_compare(const struct audit_findings *active, const struct netstate_peer_state *mine,
			const struct netstate_peer_state *peer, struct audit_findings *out)
{
	int r = audit_drift_others(active, peer->node, out);

	if (r == 0)
		r = netstate_compare(mine, peer, out);
	return r < 0 ? r : 0;
}

void audit_drift_to_wire(const struct netstate_peer_state *mine, struct wire_netstate *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->firewall, mine->digests.firewall, sizeof(out->firewall));
	memcpy(out->routes, mine->digests.routes, sizeof(out->routes));
	snprintf(out->kernel_version, sizeof(out->kernel_version), "%s", mine->kernel_version);
	out->n_fw = mine->n_fw < WIRE_MAX_FW_LINES ? mine->n_fw : WIRE_MAX_FW_LINES;
	memcpy(out->fw, mine->fw, out->n_fw * sizeof(out->fw[0]));
}

void audit_drift_from_wire(const char *node, const struct wire_announce *a, struct netstate_peer_state *out)
{
	const struct wire_netstate *ns = &a->netstate;

	memset(out, 0, sizeof(*out));
	snprintf(out->node, sizeof(out->node), "%s", node);
	memcpy(out->digests.firewall, ns->firewall, sizeof(out->digests.firewall));
	memcpy(out->digests.routes, ns->routes, sizeof(out->digests.routes));
	memcpy(out->config_digest, a->config_digest, sizeof(out->config_digest));
	memcpy(out->corosync_digest, ns->corosync_conf, sizeof(out->corosync_digest));
	snprintf(out->fomgr_version, sizeof(out->fomgr_version), "%s", a->version);
	snprintf(out->corosync_version, sizeof(out->corosync_version), "%s", ns->corosync_version);
	snprintf(out->kernel_version, sizeof(out->kernel_version), "%s", ns->kernel_version);
	out->n_fw = ns->n_fw < NETSTATE_MAX_FW_LINES ? ns->n_fw : NETSTATE_MAX_FW_LINES;
	memcpy(out->fw, ns->fw, out->n_fw * sizeof(out->fw[0]));
}
