/* Network state validation and digests (see netstate.h).
 *
 * Normalisation, so that the same state hashes the same on every node:
 * - addresses: "IFNAME FAMILY ADDR/LEN", sorted, without the configured VIPs
 *   (they move) and without IPv6 link-local ones (they derive from the MAC);
 * - routes: every table but local, "table T FAMILY DST/LEN type proto scope dev IF
 *   via GW metric M", sorted; the preferred source is left out (each node's own
 *   address), and so are connected routes whose source is a VIP: they exist only
 *   where the VIP is;
 * - firewall: `list ruleset` in libnftables' stateless JSON (no counters), one
 *   string per object with its "handle" removed (handles are per node), in nft's
 *   order (rule order matters). */
#include "fence.h"
#include "netstate.h"
#include "nlerr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <nftables/libnftables.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* <linux/if.h>, which clashes with <net/if.h> */
#endif
#define LIST_DUMP_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII)
#define OBJ_DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)

struct nlcaches {
	struct nl_sock *sock;
	struct nl_cache *links, *routes, *addrs;
};

static void caches_free(struct nlcaches *c)
{
	nl_cache_free(c->links);
	nl_cache_free(c->routes);
	nl_cache_free(c->addrs);
	nl_socket_free(c->sock);
	memset(c, 0, sizeof(*c));
}

/* Dumps links, and routes and addresses when asked. 0 or -errno. */
static int caches_read(struct nlcaches *c, bool routes, bool addrs)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->sock = nl_socket_alloc();
	if (!c->sock)
		return -ENOMEM;
	r = nl_connect(c->sock, NETLINK_ROUTE);
	if (r == 0)
		r = rtnl_link_alloc_cache(c->sock, AF_UNSPEC, &c->links);
	if (r == 0 && routes)
		r = rtnl_route_alloc_cache(c->sock, AF_UNSPEC, 0, &c->routes);
	if (r == 0 && addrs)
		r = rtnl_addr_alloc_cache(c->sock, &c->addrs);
	if (r < 0) {
		caches_free(c);
		return nlerr_errno(r);
	}
	return 0;
}

/* ---- prefixes ---- */

static bool prefix_contains(int family, const void *net, unsigned net_len, const void *addr, unsigned addr_len)
{
	const uint8_t *a = net, *b = addr;

	if (net_len > addr_len)
		return false;
	for (unsigned i = 0; i < net_len; i++)
		if (((a[i / 8] >> (7 - i % 8)) & 1) != ((b[i / 8] >> (7 - i % 8)) & 1))
			return false;
	return true;
}

static bool route_is_main_unicast(struct rtnl_route *rt)
{
	return rtnl_route_get_table(rt) == RT_TABLE_MAIN && rtnl_route_get_type(rt) == RTN_UNICAST;
}

static bool route_via_ifindex(struct rtnl_route *rt, int ifindex)
{
	for (int i = 0; i < rtnl_route_get_nnexthops(rt); i++)
		if (rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(rt, i)) == ifindex)
			return true;
	return false;
}

/* A non-default route of the main table on ifindex whose prefix holds a's subnet. */
static bool route_covers(struct nl_cache *routes, int ifindex, const struct config_addr *a)
{
	for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct nl_addr *dst = rtnl_route_get_dst(rt);

		if (!dst || nl_addr_get_family(dst) != a->family || !route_is_main_unicast(rt))
			continue;
		if (nl_addr_get_prefixlen(dst) == 0 || !route_via_ifindex(rt, ifindex))
			continue;
		if (prefix_contains(a->family, nl_addr_get_binary_addr(dst), nl_addr_get_prefixlen(dst), &a->addr,
				    a->prefixlen))
			return true;
	}
	return false;
}

/* ---- validation ---- */

static int check_interface(struct nlcaches *c, const struct config_group *g, struct audit_findings *out,
			   int *ifindex)
{
	struct rtnl_link *link = rtnl_link_get_by_name(c->links, g->interface);
	unsigned flags;
	int r = 0;

	*ifindex = 0;
	if (!link)
		return audit_findings_add(out, AUDIT_INTERFACE, AUDIT_CRITICAL, g->interface,
					  "group %s: interface %s does not exist", g->name, g->interface);
	*ifindex = rtnl_link_get_ifindex(link);
	flags = rtnl_link_get_flags(link);
	if (!(flags & IFF_UP))
		r = audit_findings_add(out, AUDIT_INTERFACE, AUDIT_CRITICAL, g->interface,
				       "group %s: interface %s is administratively down", g->name, g->interface);
	else if (!(flags & IFF_LOWER_UP))
		r = audit_findings_add(out, AUDIT_INTERFACE, AUDIT_CRITICAL, g->interface,
				       "group %s: interface %s has no carrier", g->name, g->interface);
	rtnl_link_put(link);
	return r;
}

int netstate_validate_group(const struct config_group *g, struct audit_findings *out)
{
	struct nlcaches c;
	int ifindex, r = caches_read(&c, true, false);
	size_t n_before;

	if (r < 0)
		return r;
	n_before = out->n;
	r = check_interface(&c, g, out, &ifindex);
	/* A link that is down has lost its routes: one finding says it all. */
	for (size_t i = 0; r == 0 && ifindex && out->n == n_before && i < g->n_addrs; i++) {
		char subject[AUDIT_SUBJECT_MAX];

		if (route_covers(c.routes, ifindex, &g->addrs[i]))
			continue;
		snprintf(subject, sizeof(subject), "%s dev %s", g->addrs[i].text, g->interface);
		r = audit_findings_add(out, AUDIT_ROUTE, AUDIT_WARNING, subject,
				       "group %s: no route covers %s on %s (the VIP would not be reachable "
				       "through it)",
				       g->name, g->addrs[i].text, g->interface);
	}
	caches_free(&c);
	return r;
}

int netstate_check_default_route(struct audit_findings *out)
{
	struct nlcaches c;
	bool found = false;
	int r = caches_read(&c, true, false);

	if (r < 0)
		return r;
	for (struct nl_object *o = nl_cache_get_first(c.routes); o && !found; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct nl_addr *dst = rtnl_route_get_dst(rt);

		found = route_is_main_unicast(rt) && (!dst || nl_addr_get_prefixlen(dst) == 0);
	}
	caches_free(&c);
	if (found)
		return 0;
	return audit_findings_add(out, AUDIT_DEFAULT_ROUTE, AUDIT_INFO, "default route",
				  "no default route (IPv4 or IPv6): only directly connected networks are reachable");
}

/* ---- summaries ---- */

static int string_cmp(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* Sorts an array of strings in place. */
static void list_sort(json_t *list)
{
	size_t n = json_array_size(list);
	json_t **v = n ? malloc(n * sizeof(*v)) : NULL;

	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(list, i));
	qsort(v, n, sizeof(*v), string_cmp);
	json_array_clear(list);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, v[i]);
	free(v);
}

static bool is_vip(const struct config *config, int family, const void *addr)
{
	for (size_t g = 0; config && g < config->n_groups; g++) {
		for (size_t i = 0; i < config->groups[g].n_addrs; i++) {
			const struct config_addr *a = &config->groups[g].addrs[i];

			if (a->family == family && memcmp(&a->addr, addr, family == AF_INET ? 4 : 16) == 0)
				return true;
		}
	}
	return false;
}

static const char *family_str(int family)
{
	return family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : "other";
}

static void addr_line(struct nlcaches *c, struct rtnl_addr *ad, const struct config *config, json_t *out)
{
	struct nl_addr *local = rtnl_addr_get_local(ad);
	int family = rtnl_addr_get_family(ad);
	char ifname[IF_NAMESIZE] = "?", a[INET6_ADDRSTRLEN], line[128];
	const void *bin;

	if (!local || (family != AF_INET && family != AF_INET6))
		return;
	bin = nl_addr_get_binary_addr(local);
	if (is_vip(config, family, bin) || (family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(bin)))
		return;
	rtnl_link_i2name(c->links, rtnl_addr_get_ifindex(ad), ifname, sizeof(ifname));
	inet_ntop(family, bin, a, sizeof(a));
	snprintf(line, sizeof(line), "%s %s %s/%d", ifname, family_str(family), a, rtnl_addr_get_prefixlen(ad));
	json_array_append_new(out, json_string(line));
}

static void nexthops_str(struct nlcaches *c, struct rtnl_route *rt, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < rtnl_route_get_nnexthops(rt) && used < size; i++) {
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, i);
		struct nl_addr *gw = rtnl_route_nh_get_gateway(nh);
		char ifname[IF_NAMESIZE] = "?", g[64] = "";
		int r;

		rtnl_link_i2name(c->links, rtnl_route_nh_get_ifindex(nh), ifname, sizeof(ifname));
		if (gw)
			nl_addr2str(gw, g, sizeof(g));
		r = snprintf(buf + used, size - used, " dev %s%s%s", ifname, gw ? " via " : "", g);
		used += r > 0 ? (size_t)r : 0;
	}
}

static void route_line(struct nlcaches *c, struct rtnl_route *rt, const struct config *config, json_t *out)
{
	struct nl_addr *dst = rtnl_route_get_dst(rt);
	int family = rtnl_route_get_family(rt);
	char d[64] = "default", type[32], proto[32], scope[32], hops[256], line[512];

	if (rtnl_route_get_table(rt) == RT_TABLE_LOCAL || (family != AF_INET && family != AF_INET6))
		return;
	if (dst && nl_addr_get_prefixlen(dst) > 0) {
		struct nl_addr *src = rtnl_route_get_pref_src(rt);

		if (rtnl_route_get_protocol(rt) == RTPROT_KERNEL && src &&
		    is_vip(config, family, nl_addr_get_binary_addr(src)))
			return; /* there because a VIP is: only on its holder */
		nl_addr2str(dst, d, sizeof(d));
	}
	nexthops_str(c, rt, hops, sizeof(hops));
	snprintf(line, sizeof(line), "table %u %s %s type %s proto %s scope %s%s metric %u", rtnl_route_get_table(rt),
		 family_str(family), d, nl_rtntype2str(rtnl_route_get_type(rt), type, sizeof(type)),
		 rtnl_route_proto2str(rtnl_route_get_protocol(rt), proto, sizeof(proto)),
		 rtnl_scope2str(rtnl_route_get_scope(rt), scope, sizeof(scope)), hops, rtnl_route_get_priority(rt));
	json_array_append_new(out, json_string(line));
}

/* ---- the firewall ---- */

/* One string per nftables object, its handle removed; NULL for metainfo. */
static json_t *firewall_line(json_t *item)
{
	const char *kind;
	json_t *body, *copy, *line;
	char *text;

	if (!json_is_object(item) || json_object_size(item) != 1)
		return NULL;
	kind = json_object_iter_key(json_object_iter(item));
	body = json_object_iter_value(json_object_iter(item));
	if (strcmp(kind, "metainfo") == 0 || !json_is_object(body))
		return NULL;
	/* fomgr's own fence (a withdrawal from the ring) is state, not configuration. */
	if (json_is_string(json_object_get(body, "table")) &&
	    strcmp(json_string_value(json_object_get(body, "table")), FENCE_TABLE) == 0)
		return NULL;
	if (strcmp(kind, "table") == 0 && json_is_string(json_object_get(body, "name")) &&
	    strcmp(json_string_value(json_object_get(body, "name")), FENCE_TABLE) == 0)
		return NULL;
	copy = json_deep_copy(body);
	json_object_del(copy, "handle");
	text = json_dumps(copy, OBJ_DUMP_FLAGS);
	json_decref(copy);
	if (!text)
		return NULL;
	line = json_sprintf("%s %s", kind, text);
	free(text);
	return line;
}

json_t *netstate_firewall_normalise(const char *nft_json)
{
	json_t *root = json_loads(nft_json, 0, NULL);
	json_t *items = json_object_get(root, "nftables"), *out;
	size_t i;
	json_t *item;

	if (!json_is_array(items)) {
		json_decref(root);
		return NULL;
	}
	out = json_array();
	json_array_foreach(items, i, item) {
		json_t *line = firewall_line(item);

		if (line)
			json_array_append_new(out, line);
	}
	json_decref(root);
	return out;
}

static int firewall_read(json_t **out)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *text;
	int r = -ENOMEM;

	*out = NULL;
	if (!ctx)
		return r;
	nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_STATELESS);
	if (nft_ctx_buffer_output(ctx) == 0 && nft_ctx_buffer_error(ctx) == 0) {
		r = nft_run_cmd_from_buffer(ctx, "list ruleset") == 0 ? 0 : -EPERM;
		text = nft_ctx_get_output_buffer(ctx);
		if (r == 0)
			*out = netstate_firewall_normalise(text && *text ? text : "{\"nftables\":[]}");
		if (r == 0 && !*out)
			r = -EBADMSG;
	}
	nft_ctx_free(ctx);
	return r;
}

int netstate_summary_read(const struct config *config, struct netstate_summary *out)
{
	struct nlcaches c;
	int r = caches_read(&c, true, true);

	memset(out, 0, sizeof(*out));
	if (r < 0)
		return r;
	out->addresses = json_array();
	out->routes = json_array();
	for (struct nl_object *o = nl_cache_get_first(c.addrs); o; o = nl_cache_get_next(o))
		addr_line(&c, (struct rtnl_addr *)o, config, out->addresses);
	for (struct nl_object *o = nl_cache_get_first(c.routes); o; o = nl_cache_get_next(o))
		route_line(&c, (struct rtnl_route *)o, config, out->routes);
	caches_free(&c);
	list_sort(out->addresses);
	list_sort(out->routes);
	out->firewall_error = firewall_read(&out->firewall);
	if (!out->firewall)
		out->firewall = json_array();
	if (!out->addresses || !out->routes || !out->firewall) {
		netstate_summary_clear(out);
		return -ENOMEM;
	}
	return 0;
}

void netstate_summary_clear(struct netstate_summary *s)
{
	json_decref(s->addresses);
	json_decref(s->routes);
	json_decref(s->firewall);
	memset(s, 0, sizeof(*s));
}

static int list_digest(const json_t *list, uint8_t out[32])
{
	char *text = json_dumps(list, LIST_DUMP_FLAGS);
	int r = text && EVP_Digest(text, strlen(text), out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -EIO;

	free(text);
	return r;
}

int netstate_summary_digest(const struct netstate_summary *s, struct netstate_digests *out)
{
	int r = list_digest(s->addresses, out->addresses);

	if (r == 0)
		r = list_digest(s->routes, out->routes);
	if (r == 0)
		r = list_digest(s->firewall, out->firewall);
	return r;
}

static json_t *hex(const uint8_t d[32])
{
	char buf[65];

	for (int i = 0; i < 32; i++)
		snprintf(buf + 2 * i, 3, "%02x", d[i]);
	return json_string(buf);
}

json_t *netstate_digests_json(const struct netstate_digests *d)
{
	return json_pack("{s:o, s:o, s:o}", "addresses", hex(d->addresses), "routes", hex(d->routes), "firewall",
			 hex(d->firewall));
}

static bool list_has(const json_t *list, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v) if (strcmp(json_string_value(v), s) == 0) return true;
	return false;
}

static size_t diff_one_way(const json_t *a, const json_t *b, const char *mark, json_t *out, size_t max, size_t n)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || list_has(b, json_string_value(v)))
			continue;
		if (n < max)
			json_array_append_new(out, json_sprintf("%s %s", mark, json_string_value(v)));
		n++;
	}
	return n;
}

size_t netstate_list_diff(const json_t *a, const json_t *b, json_t *out, size_t max)
{
	size_t n = diff_one_way(a, b, "+", out, max, 0);

	return diff_one_way(b, a, "-", out, max, n);
}

/* ---- cross-node comparison ---- */

static bool digest_known(const uint8_t d[32])
{
	for (int i = 0; i < 32; i++)
		if (d[i])
			return true;
	return false;
}

static int compare_digest(const char *what, const uint8_t mine[32], const uint8_t peer[32], const char *node,
			  struct audit_findings *out)
{
	char subject[AUDIT_SUBJECT_MAX];
	int r;

	if (!digest_known(mine) || !digest_known(peer) || memcmp(mine, peer, 32) == 0)
		return 0;
	snprintf(subject, sizeof(subject), "%s on %s", what, node);
	r = audit_findings_add(out, AUDIT_DRIFT, AUDIT_WARNING, subject,
			       "%s digest %02x%02x%02x%02x%02x%02x on %s differs from ours %02x%02x%02x%02x%02x%02x",
			       what, peer[0], peer[1], peer[2], peer[3], peer[4], peer[5], node, mine[0], mine[1],
			       mine[2], mine[3], mine[4], mine[5]);
	return r < 0 ? r : 1;
}

static int compare_version(const char *what, const char *mine, const char *peer, const char *node,
			   struct audit_findings *out)
{
	char subject[AUDIT_SUBJECT_MAX];
	int r;

	if (!mine[0] || !peer[0] || strcmp(mine, peer) == 0)
		return 0;
	snprintf(subject, sizeof(subject), "%s version on %s", what, node);
	r = audit_findings_add(out, AUDIT_DRIFT, AUDIT_INFO, subject,
			       "%s %s on %s, %s here (mixed versions: a rolling update in progress?)", what, peer, node,
			       mine);
	return r < 0 ? r : 1;
}

static uint32_t line_hash(const char *line)
{
	uint8_t d[32];
	unsigned int len = 0;

	EVP_Digest(line, strlen(line), d, &len, EVP_sha256(), NULL);
	return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

size_t netstate_firewall_hashes(const json_t *lines, uint32_t *out, size_t max)
{
	size_t n = 0, i;
	json_t *v;

	json_array_foreach(lines, i, v) {
		if (n < max && json_is_string(v))
			out[n++] = line_hash(json_string_value(v));
	}
	return n;
}

static bool hash_in(uint32_t h, const uint32_t *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == h)
			return true;
	return false;
}

/* Which firewall lines differ: ours that the peer lacks, by their text, and how
 * many of the peer's we lack (their text stays on the peer, which names them in
 * its own finding). */
static int compare_firewall_lines(const struct netstate_peer_state *mine, const struct netstate_peer_state *peer,
				  struct audit_findings *out)
{
	char subject[AUDIT_SUBJECT_MAX];
	size_t theirs = 0, i;
	json_t *v;
	int r = 0;

	if (!mine->fw_lines || !digest_known(mine->digests.firewall) || !digest_known(peer->digests.firewall) ||
	    memcmp(mine->digests.firewall, peer->digests.firewall, 32) == 0)
		return 0;
	for (i = 0; i < peer->n_fw; i++)
		theirs += !hash_in(peer->fw[i], mine->fw, mine->n_fw);
	json_array_foreach(mine->fw_lines, i, v) {
		uint32_t h = json_is_string(v) ? line_hash(json_string_value(v)) : 0;

		if (r < 0 || !json_is_string(v) || hash_in(h, peer->fw, peer->n_fw))
			continue;
		snprintf(subject, sizeof(subject), "firewall line %08x here, not on %s", h, peer->node);
		r = audit_findings_add(out, AUDIT_DRIFT, AUDIT_WARNING, subject, "%.200s", json_string_value(v));
	}
	if (r >= 0 && theirs) {
		snprintf(subject, sizeof(subject), "firewall lines on %s, not here", peer->node);
		r = audit_findings_add(out, AUDIT_DRIFT, AUDIT_WARNING, subject,
				       "%zu line(s) of %s's ruleset are not in ours (its own audit names them)", theirs,
				       peer->node);
	}
	return r < 0 ? r : 0;
}

int netstate_compare(const struct netstate_peer_state *mine, const struct netstate_peer_state *peer,
		     struct audit_findings *out)
{
	const char *node = peer->node;
	int results[] = {
		compare_firewall_lines(mine, peer, out),
		compare_digest("firewall", mine->digests.firewall, peer->digests.firewall, node, out),
		compare_digest("routes", mine->digests.routes, peer->digests.routes, node, out),
		compare_digest("fomgr config", mine->config_digest, peer->config_digest, node, out),
		compare_digest("corosync config", mine->corosync_digest, peer->corosync_digest, node, out),
		compare_version("fomgr", mine->fomgr_version, peer->fomgr_version, node, out),
		compare_version("corosync", mine->corosync_version, peer->corosync_version, node, out),
		compare_version("kernel", mine->kernel_version, peer->kernel_version, node, out),
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
		if (results[i] < 0)
			return results[i];
		n += results[i];
	}
	return n;
}
