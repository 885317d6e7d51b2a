/* Network state validation: for each VIP group, its interface exists and is up and a
 * route covers each VIP's subnet on it; a default route exists; and digests of this
 * node's addresses, routes and nftables ruleset, so that a change over time or a
 * difference between nodes is seen, with a summary that says what differs.
 *
 * Routes and addresses come from libnl-route dumps, the ruleset from libnftables'
 * JSON output (stateless, handles stripped), each normalised and sorted before it
 * is hashed, so identical state hashes the same on every node. The dumps are
 * synchronous: periodic audits and after a transition, never in its path. */
#ifndef FOMGR_NETSTATE_H
#define FOMGR_NETSTATE_H

#include <jansson.h>
#include <stdint.h>

#include "audit_findings.h"
#include "config.h"

/* Findings for one group: AUDIT_INTERFACE, AUDIT_ROUTE. 0 or -errno (netlink). */
int netstate_validate_group(const struct config_group *g, struct audit_findings *out);
/* AUDIT_DEFAULT_ROUTE when neither an IPv4 nor an IPv6 default route exists, with
 * severity info (the lab has none by design; a node without one may still serve
 * its own subnet). 0 or -errno. */
int netstate_check_default_route(struct audit_findings *out);

/* What netstate hashes: sorted lists of canonical one-line strings. */
struct netstate_summary {
	json_t *addresses; /* ["eth0 inet 192.0.2.1/24", ...], VIPs of config left out */
	json_t *routes;    /* ["main inet 192.0.2.0/24 dev eth0 proto kernel scope link", ...] */
	json_t *firewall;  /* ["table inet filter", "chain inet filter input {...}", "rule inet filter input [...]"] */
	int firewall_error; /* 0, or -errno when the ruleset could not be read */
};

struct netstate_digests {
	uint8_t addresses[32];
	uint8_t routes[32];
	uint8_t firewall[32];
};

/* Reads all three; config (may be NULL) names the VIPs to leave out of the
 * addresses, since they move. 0 or -errno; on success release with
 * netstate_summary_clear(). A firewall that cannot be read is not an error here:
 * firewall_error says so and the list is empty. */
int netstate_summary_read(const struct config *config, struct netstate_summary *out);
void netstate_summary_clear(struct netstate_summary *s);
/* SHA-256 of each list's canonical JSON text. 0 or -EIO. */
int netstate_summary_digest(const struct netstate_summary *s, struct netstate_digests *out);
/* {"addresses": hex, "routes": hex, "firewall": hex}. */
json_t *netstate_digests_json(const struct netstate_digests *d);

/* Pure: the normalised firewall list from `nft -j list ruleset` output (text).
 * NULL when it is not nftables JSON. */
json_t *netstate_firewall_normalise(const char *nft_json);
/* Pure: appends to out the strings of a not in b ("+ ...") and of b not in a
 * ("- ..."), at most max of them; returns how many differ in all. */
size_t netstate_list_diff(const json_t *a, const json_t *b, json_t *out, size_t max);

/* What a node announces for cross-node consistency (docs/security.md): it travels
 * in the announce as wire.h's struct wire_netstate, and executor.c turns a peer's
 * into this for the drift comparison. */
#define NETSTATE_MAX_FW_LINES 256

struct netstate_peer_state {
	char node[CONFIG_NAME_MAX];
	/* a short hash of each line of the firewall summary, so that drift can say
	 * which rules differ; the text of the lines is known for our own side only */
	size_t n_fw;
	uint32_t fw[NETSTATE_MAX_FW_LINES];
	const json_t *fw_lines; /* mine only: the summary's lines; NULL for a peer */
	struct netstate_digests digests; /* addresses are per node, not compared */
	uint8_t config_digest[32];
	uint8_t corosync_digest[32];
	char fomgr_version[32];
	char corosync_version[32];
	char kernel_version[64];
};

/* The short hashes of the firewall summary's lines into out (at most max);
 * returns how many. */
size_t netstate_firewall_hashes(const json_t *lines, uint32_t *out, size_t max);

/* Pure: findings (AUDIT_DRIFT) for every way peer differs from mine: firewall,
 * routes, fomgr config, corosync config (warnings), versions (info: a rolling
 * update in progress). Returns the number of differences, or -ENOMEM. */
int netstate_compare(const struct netstate_peer_state *mine, const struct netstate_peer_state *peer,
		     struct audit_findings *out);

#endif
