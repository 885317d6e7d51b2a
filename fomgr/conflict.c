/* VIP conflict detection: two packet sockets (ARP, IPv6) whose classic BPF filters
 * let through only frames about the configured addresses, an rtnetlink socket
 * subscribed to address notifications, and the pure parse / judge / filter
 * functions they feed. See conflict.h. */
#include "conflict.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/if_ether.h>
#include <netinet/ip6.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "fo/clock.h"
#include "fo/log.h"
#include "fo/sockfilter.h"
#include "nlerr.h"
#include "transition.h"

#define CONFLICT_SNAPLEN 512      /* what the filter keeps of an accepted frame */
#define CONFLICT_READ_BATCH 64    /* frames read per wake-up; the rest wake the loop again */
#define CONFLICT_NL_RCVBUF (256 * 1024)
#define CONFLICT_MIN_REPEAT_MS 100 /* a repeated conflict is resolved at most this often */

/* One watched address of one group, and its conflict episode. */
struct conflict_target {
	char group[CONFIG_NAME_MAX];
	struct vip_addr addr;
	int ifindex; /* resolved from addr.ifname; 0 while the interface is missing */
	/* the kernel's address notifications, folded until the socket is drained */
	bool kernel_dirty, kernel_present;
	unsigned kernel_prefixlen;
	/* the episode */
	bool active;
	enum conflict_verdict verdict;
	enum conflict_source source;
	unsigned char mac[ETH_ALEN];
	char owner[CONFIG_NAME_MAX];
	uint64_t last_us, last_event_us;
	uint64_t frames;
};

/* A stray address being deleted; outlives the watcher if vip.c still holds it. */
struct conflict_removal {
	struct conflict_removal *next;
	struct conflict *c; /* NULL once the watcher is freed */
	char group[CONFIG_NAME_MAX];
	struct vip_addr addr;
	uint64_t start_us;
};

struct conflict {
	struct ev_loop *loop;
	struct vip *vip;
	const struct config *config;
	conflict_role_fn role;
	conflict_event_fn event;
	void *arg;
	int arp_fd, na_fd;
	ev_io arp_io, na_io;
	struct nl_sock *nl;
	struct nl_cb *nl_cb; /* the socket's, with our valid-message handler */
	ev_io nl_io;
	struct conflict_target *targets;
	size_t n_targets;
	struct conflict_removal *removals;
	struct conflict_stats stats;
};

static const char *const verdict_names[CONFLICT_VERDICT_MAX] = {"none", "foreign", "local"};
static const char *const source_names[CONFLICT_SRC_MAX] = {"arp", "na", "kernel"};

const char *conflict_verdict_str(enum conflict_verdict v)
{
	return (unsigned)v < CONFLICT_VERDICT_MAX ? verdict_names[v] : "invalid";
}

const char *conflict_source_str(enum conflict_source s)
{
	return (unsigned)s < CONFLICT_SRC_MAX ? source_names[s] : "invalid";
}

/* ---- the pure part: parse, judge, filter ---- */

static int parse_arp(const unsigned char *p, size_t len, struct conflict_frame *out)
{
	struct ether_arp arp;

	if (len < sizeof(arp))
		return -EINVAL;
	memcpy(&arp, p, sizeof(arp));
	if (ntohs(arp.arp_hrd) != ARPHRD_ETHER || ntohs(arp.arp_pro) != ETH_P_IP || arp.arp_hln != ETH_ALEN ||
	    arp.arp_pln != sizeof(struct in_addr))
		return -EINVAL;
	if (ntohs(arp.arp_op) != ARPOP_REQUEST && ntohs(arp.arp_op) != ARPOP_REPLY)
		return -EINVAL;
	out->source = CONFLICT_SRC_ARP;
	out->family = AF_INET;
	memcpy(&out->addr.v4, arp.arp_spa, sizeof(out->addr.v4));
	memcpy(out->mac, arp.arp_sha, ETH_ALEN);
	return out->addr.v4.s_addr == INADDR_ANY ? -EINVAL : 0; /* a probe claims nothing */
}

/* The target link-layer address option, if any, within the NA's options. */
static void parse_na_options(const unsigned char *p, size_t len, unsigned char mac[ETH_ALEN])
{
	while (len >= 8) {
		size_t optlen = (size_t)p[1] * 8;

		if (optlen == 0 || optlen > len)
			return; /* RFC 4861 7.1.2: a zero-length option invalidates the rest */
		if (p[0] == ND_OPT_TARGET_LINKADDR && optlen >= 2 + ETH_ALEN) {
			memcpy(mac, p + 2, ETH_ALEN);
			return;
		}
		p += optlen;
		len -= optlen;
	}
}

/* RFC 4861 7.1.2 validity as far as a bystander can check it: hop limit 255,
 * ICMPv6 type 136 code 0, at least 24 bytes; the checksum is not verified (the
 * frame only makes us look, it never changes what we hold). */
static int parse_na(const unsigned char *src_mac, const unsigned char *p, size_t len, struct conflict_frame *out)
{
	struct ip6_hdr ip6;
	struct nd_neighbor_advert na;
	size_t plen;

	if (len < sizeof(ip6))
		return -EINVAL;
	memcpy(&ip6, p, sizeof(ip6));
	plen = ntohs(ip6.ip6_plen);
	if ((ip6.ip6_vfc >> 4) != 6 || ip6.ip6_nxt != IPPROTO_ICMPV6 || ip6.ip6_hlim != 255 ||
	    plen > len - sizeof(ip6) || plen < sizeof(na))
		return -EINVAL;
	p += sizeof(ip6);
	memcpy(&na, p, sizeof(na));
	if (na.nd_na_type != ND_NEIGHBOR_ADVERT || na.nd_na_code != 0 || IN6_IS_ADDR_MULTICAST(&na.nd_na_target))
		return -EINVAL;
	out->source = CONFLICT_SRC_NA;
	out->family = AF_INET6;
	out->addr.v6 = na.nd_na_target;
	memcpy(out->mac, src_mac, ETH_ALEN);
	parse_na_options(p + sizeof(na), plen - sizeof(na), out->mac);
	return 0;
}

int conflict_parse_frame(const void *frame, size_t len, struct conflict_frame *out)
{
	const unsigned char *p = frame;
	struct ether_header eth;

	memset(out, 0, sizeof(*out));
	if (!p || len < sizeof(eth))
		return -EINVAL;
	memcpy(&eth, p, sizeof(eth));
	if (ntohs(eth.ether_type) == ETHERTYPE_ARP)
		return parse_arp(p + sizeof(eth), len - sizeof(eth), out);
	if (ntohs(eth.ether_type) == ETHERTYPE_IPV6)
		return parse_na(eth.ether_shost, p + sizeof(eth), len - sizeof(eth), out);
	return -EINVAL;
}

enum conflict_verdict conflict_judge(const struct conflict_frame *f, const unsigned char local_mac[ETH_ALEN],
				     const struct conflict_role *role)
{
	bool ours = memcmp(f->mac, local_mac, ETH_ALEN) == 0;

	if (f->source == CONFLICT_SRC_KERNEL || ours)
		return role->claims ? CONFLICT_NONE : CONFLICT_LOCAL;
	/* Another MAC: wrong only where we know the right one, i.e. it is ours. */
	return role->owner && role->held ? CONFLICT_FOREIGN : CONFLICT_NONE;
}

static void filter_put(struct sock_filter *out, size_t *n, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	out[(*n)++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

/* Loads the 16 bits at off and drops the frame unless they are value. */
static void filter_require_h(struct sock_filter *out, size_t *n, uint16_t size, uint32_t off, uint32_t value)
{
	filter_put(out, n, BPF_LD | size | BPF_ABS, 0, 0, off);
	filter_put(out, n, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, value);
	filter_put(out, n, BPF_RET | BPF_K, 0, 0, 0);
}

static size_t filter_count(int family, const struct vip_addr *addrs, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		count += addrs[i].family == family;
	return count;
}

/* Offsets from the Ethernet header (SOCK_RAW): the ARP sender address, the IPv6
 * next header, the ICMPv6 type and the NA's target address. */
#define OFF_ARP_SPA (14 + 14)
#define OFF_IP6_NXT (14 + 6)
#define OFF_ICMP6_TYPE (14 + 40)
#define OFF_NA_TARGET (14 + 40 + 8)

int conflict_filter_build(int family, const struct vip_addr *addrs, size_t n, struct sock_filter *out, size_t max)
{
	size_t count = filter_count(family, addrs, n), len = 0;
	bool all = count > CONFLICT_FILTER_MAX;

	if (max < CONFLICT_FILTER_INSNS || (family != AF_INET && family != AF_INET6))
		return -ENOSPC;
	if (family == AF_INET) {
		filter_require_h(out, &len, BPF_H, 12, ETHERTYPE_ARP);
		filter_put(out, &len, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_ARP_SPA);
	} else {
		filter_require_h(out, &len, BPF_H, 12, ETHERTYPE_IPV6);
		filter_require_h(out, &len, BPF_B, OFF_IP6_NXT, IPPROTO_ICMPV6);
		filter_require_h(out, &len, BPF_B, OFF_ICMP6_TYPE, ND_NEIGHBOR_ADVERT);
	}
	for (size_t i = 0; i < n && !all; i++) {
		if (addrs[i].family != family)
			continue;
		if (family == AF_INET) {
			filter_put(out, &len, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, ntohl(addrs[i].addr.v4.s_addr));
		} else {
			/* Four words; a mismatch skips to the next address's block. */
			for (uint8_t w = 0; w < 4; w++) {
				uint32_t word;

				memcpy(&word, addrs[i].addr.v6.s6_addr + 4 * w, sizeof(word));
				filter_put(out, &len, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_NA_TARGET + 4u * w);
				filter_put(out, &len, BPF_JMP | BPF_JEQ | BPF_K, 0, (uint8_t)(7 - 2 * w), ntohl(word));
			}
		}
		filter_put(out, &len, BPF_RET | BPF_K, 0, 0, CONFLICT_SNAPLEN);
	}
	filter_put(out, &len, BPF_RET | BPF_K, 0, 0, all ? CONFLICT_SNAPLEN : 0);
	return (int)len;
}

/* ---- formatting ---- */

const char *conflict_mac_str(const unsigned char mac[ETH_ALEN], char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

static const char *ip_str(const struct vip_addr *a, char *buf, size_t size)
{
	if (!inet_ntop(a->family, &a->addr, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

json_t *conflict_event_json(const struct conflict_event *ev, const char *action)
{
	char ip[INET6_ADDRSTRLEN], mac[18];

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "vip_conflict", "severity",
			 "critical", "subject", ip_str(&ev->addr, ip, sizeof(ip)), "detail",
			 ev->verdict == CONFLICT_LOCAL ? "a group's address is on this node, which does not hold the group"
						       : "another MAC answers for an address this node holds",
			 "group", ev->group, "interface", ev->addr.ifname, "mac", conflict_mac_str(ev->mac, mac, sizeof(mac)),
			 "owner", ev->owner, "source", conflict_source_str(ev->source), "action", action);
}

/* ---- the watcher ---- */

static bool same_addr(const struct vip_addr *a, int family, const void *addr)
{
	return a->family == family &&
	       memcmp(&a->addr, addr, family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr)) == 0;
}

/* The target's interface, looked up again when a frame or notification names
 * another ifindex (an interface that appeared or was recreated). */
static bool target_on(struct conflict_target *t, int ifindex)
{
	if (t->ifindex != ifindex)
		t->ifindex = (int)if_nametoindex(t->addr.ifname);
	return t->ifindex != 0 && t->ifindex == ifindex;
}

/* A conflict: opens or continues the target's episode and reports it; repeats of
 * a frame-borne conflict are reported at most every garp_interval. */
static void report(struct conflict *c, struct conflict_target *t, const struct conflict_frame *f,
		   enum conflict_verdict v, const struct conflict_role *role)
{
	uint64_t now = clock_mono_us();
	uint64_t repeat_us = (uint64_t)CONFLICT_MIN_REPEAT_MS * 1000u;
	bool first = !t->active || now - t->last_us > (uint64_t)CONFLICT_QUIET_MS * 1000u || t->verdict != v ||
		     memcmp(t->mac, f->mac, ETH_ALEN) != 0;
	struct conflict_event ev = {.group = t->group, .addr = t->addr, .verdict = v, .source = f->source,
				    .owner = role->owner_name, .first = first};

	if (c->config && c->config->garp_interval_ms > CONFLICT_MIN_REPEAT_MS)
		repeat_us = (uint64_t)c->config->garp_interval_ms * 1000u;
	c->stats.conflicting_frames++;
	t->last_us = now;
	t->frames++;
	if (!first && f->source != CONFLICT_SRC_KERNEL && now - t->last_event_us < repeat_us)
		return;
	if (first) {
		c->stats.conflicts++;
		t->active = true;
		t->verdict = v;
		t->frames = 1;
		memcpy(t->mac, f->mac, ETH_ALEN);
		snprintf(t->owner, sizeof(t->owner), "%s", role->owner_name);
	}
	t->source = f->source;
	t->last_event_us = now;
	if (f->source == CONFLICT_SRC_KERNEL)
		ev.addr.prefixlen = t->kernel_prefixlen;
	memcpy(ev.mac, f->mac, ETH_ALEN);
	c->event(c->arg, &ev);
}

/* Judges f against one target; f may carry the local MAC already (kernel). */
static void judge_target(struct conflict *c, struct conflict_target *t, struct conflict_frame *f)
{
	struct conflict_role role;
	unsigned char mac[ETH_ALEN];
	enum conflict_verdict v;

	memset(&role, 0, sizeof(role));
	if (c->role(c->arg, t->group, &role) < 0 || vip_link_mac(c->vip, t->addr.ifname, mac) < 0)
		return; /* a group being removed, an interface gone: nothing to judge */
	if (f->source == CONFLICT_SRC_KERNEL)
		memcpy(f->mac, mac, ETH_ALEN);
	v = conflict_judge(f, mac, &role);
	if (v != CONFLICT_NONE)
		report(c, t, f, v, &role);
}

/* Targets are judged by index: an event callback may swap the config. */
static void on_frame(struct conflict *c, struct conflict_frame *f, int ifindex)
{
	for (size_t i = 0; i < c->n_targets; i++) {
		struct conflict_target *t = &c->targets[i];

		if (same_addr(&t->addr, f->family, &f->addr) && target_on(t, ifindex))
			judge_target(c, t, f);
	}
}

static void packet_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conflict *c = w->data;
	unsigned char buf[CONFLICT_SNAPLEN];
	struct conflict_frame f;

	for (int i = 0; i < CONFLICT_READ_BATCH; i++) {
		struct sockaddr_ll from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(w->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);

		if (n < 0)
			return; /* EAGAIN; errors of a packet socket are not sticky */
		c->stats.frames++;
		if (from.sll_pkttype == PACKET_OUTGOING || conflict_parse_frame(buf, (size_t)n, &f) < 0)
			continue;
		on_frame(c, &f, from.sll_ifindex);
	}
}

/* ---- address notifications ---- */

static int nl_valid_cb(struct nl_msg *msg, void *arg)
{
	struct conflict *c = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[IFA_MAX + 1], *local;
	struct ifaddrmsg *ifa;

	if ((h->nlmsg_type != RTM_NEWADDR && h->nlmsg_type != RTM_DELADDR) ||
	    nlmsg_parse(h, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
		return NL_SKIP;
	ifa = nlmsg_data(h);
	local = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!local || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    nla_len(local) != (ifa->ifa_family == AF_INET ? 4 : 16))
		return NL_SKIP;
	for (size_t i = 0; i < c->n_targets; i++) {
		struct conflict_target *t = &c->targets[i];

		if (!same_addr(&t->addr, ifa->ifa_family, nla_data(local)) || !target_on(t, (int)ifa->ifa_index))
			continue;
		t->kernel_dirty = true;
		t->kernel_present = h->nlmsg_type == RTM_NEWADDR;
		t->kernel_prefixlen = ifa->ifa_prefixlen;
	}
	return NL_SKIP;
}

/* Judged once the socket is drained, when the folded state is the kernel's: an
 * address added and deleted again in between (our own release) is no conflict.
 * A full batch leaves the rest (and the judging) to the next wake-up. */
static void nl_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conflict *c = w->data;
	int n = 0, err;

	for (int reads = 0; reads < CONFLICT_READ_BATCH; reads++) {
		n = nl_recvmsgs_report(c->nl, c->nl_cb);
		if (n <= 0)
			break;
	}
	if (n > 0)
		return;
	err = n < 0 ? nlerr_errno(n) : 0;
	if (err < 0 && err != -EAGAIN)
		log_warn("conflict: address notifications lost (%s): a stray address may go unnoticed",
			 strerror(-err));
	for (size_t i = 0; i < c->n_targets; i++) {
		struct conflict_target *t = &c->targets[i];
		struct conflict_frame f = {.source = CONFLICT_SRC_KERNEL, .family = t->addr.family};

		if (!t->kernel_dirty)
			continue;
		memcpy(&f.addr, &t->addr.addr, sizeof(f.addr));
		t->kernel_dirty = false;
		if (t->kernel_present)
			judge_target(c, t, &f);
	}
}

static int nl_open(struct conflict *c)
{
	int err;

	c->nl = nl_socket_alloc();
	if (!c->nl)
		return -ENOMEM;
	nl_socket_disable_seq_check(c->nl);
	nl_socket_modify_cb(c->nl, NL_CB_VALID, NL_CB_CUSTOM, nl_valid_cb, c);
	c->nl_cb = nl_socket_get_cb(c->nl);
	err = nl_connect(c->nl, NETLINK_ROUTE);
	if (err == 0)
		err = nl_socket_add_memberships(c->nl, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, 0);
	if (err == 0)
		err = nl_socket_set_nonblocking(c->nl);
	if (err == 0)
		err = nl_socket_set_buffer_size(c->nl, CONFLICT_NL_RCVBUF, 0);
	return err < 0 ? nlerr_errno(err) : 0;
}

/* ---- sockets and filters ---- */

/* Made with protocol 0 (no hook, nothing queues), given a drop-all filter, then
 * bound to its protocol, as vip.c does for its probes. */
static int packet_open(uint16_t protocol)
{
	static const struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(protocol)};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = fd < 0 ? -errno : sockfilter_attach(fd, &drop, 1);

	if (err == 0 && bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		err = -errno;
	if (err < 0 && fd >= 0)
		close(fd);
	return err < 0 ? err : fd;
}

static int set_filters(struct conflict *c, const struct vip_addr *addrs, size_t n)
{
	static struct sock_filter code[CONFLICT_FILTER_INSNS];
	int len = conflict_filter_build(AF_INET, addrs, n, code, CONFLICT_FILTER_INSNS);
	int err = len < 0 ? len : sockfilter_attach(c->arp_fd, code, (size_t)len);

	if (err == 0)
		len = conflict_filter_build(AF_INET6, addrs, n, code, CONFLICT_FILTER_INSNS);
	if (err == 0)
		err = len < 0 ? len : sockfilter_attach(c->na_fd, code, (size_t)len);
	return err;
}

static void watch(struct conflict *c, ev_io *io, int fd, void (*cb)(struct ev_loop *, ev_io *, int))
{
	ev_io_init(io, cb, fd, EV_READ);
	io->data = c;
	ev_io_start(c->loop, io);
}

struct conflict *conflict_new(struct ev_loop *loop, struct vip *vip, conflict_role_fn role, conflict_event_fn event,
			      void *arg)
{
	struct conflict *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return NULL;
	*c = (struct conflict){.loop = loop, .vip = vip, .role = role, .event = event, .arg = arg, .arp_fd = -1,
			       .na_fd = -1};
	c->arp_fd = packet_open(ETH_P_ARP);
	c->na_fd = packet_open(ETH_P_IPV6);
	err = c->arp_fd < 0 ? c->arp_fd : c->na_fd < 0 ? c->na_fd : nl_open(c);
	if (err < 0) {
		conflict_free(c);
		errno = -err;
		return NULL;
	}
	watch(c, &c->arp_io, c->arp_fd, packet_cb);
	watch(c, &c->na_io, c->na_fd, packet_cb);
	watch(c, &c->nl_io, nl_socket_get_fd(c->nl), nl_io_cb);
	return c;
}

void conflict_free(struct conflict *c)
{
	if (!c)
		return;
	for (struct conflict_removal *r = c->removals; r; r = r->next)
		r->c = NULL; /* vip.c completes them later (cancelled) */
	if (c->arp_fd >= 0) {
		ev_io_stop(c->loop, &c->arp_io);
		close(c->arp_fd);
	}
	if (c->na_fd >= 0) {
		ev_io_stop(c->loop, &c->na_io);
		close(c->na_fd);
	}
	if (c->nl) {
		ev_io_stop(c->loop, &c->nl_io);
		nl_socket_free(c->nl);
	}
	nl_cb_put(c->nl_cb);
	free(c->targets);
	free(c);
}

/* The episode an address had under the previous config carries over a reload. */
static void carry_episode(const struct conflict *c, struct conflict_target *t)
{
	for (size_t i = 0; i < c->n_targets; i++) {
		const struct conflict_target *o = &c->targets[i];

		if (strcmp(o->group, t->group) == 0 && same_addr(&o->addr, t->addr.family, &t->addr.addr)) {
			*t = *o;
			return;
		}
	}
}

int conflict_set_config(struct conflict *c, const struct config *config)
{
	size_t n = 0, k = 0;
	struct conflict_target *targets;
	struct vip_addr *addrs;
	int err;

	for (size_t g = 0; g < config->n_groups; g++)
		n += config->groups[g].n_addrs;
	targets = calloc(n ? n : 1, sizeof(*targets));
	addrs = calloc(n ? n : 1, sizeof(*addrs));
	if (!targets || !addrs) {
		free(targets);
		free(addrs);
		return -ENOMEM;
	}
	for (size_t g = 0; g < config->n_groups; g++) {
		for (size_t i = 0; i < config->groups[g].n_addrs; i++, k++) {
			struct conflict_target *t = &targets[k];

			snprintf(t->group, sizeof(t->group), "%s", config->groups[g].name);
			transition_group_addr(&config->groups[g], i, &addrs[k]);
			t->addr = addrs[k];
			carry_episode(c, t);
			t->addr = addrs[k]; /* the interface or prefix may have changed */
			t->ifindex = (int)if_nametoindex(t->addr.ifname);
		}
	}
	err = set_filters(c, addrs, n);
	free(addrs);
	free(c->targets);
	c->targets = targets;
	c->n_targets = n;
	c->config = config;
	return err;
}

/* ---- resolution ---- */

static void on_removed(void *arg, int error)
{
	struct conflict_removal *r = arg, **p;
	struct conflict *c = r->c;
	char ip[INET6_ADDRSTRLEN];

	if (c) {
		for (p = &c->removals; *p && *p != r; p = &(*p)->next)
			;
		if (*p)
			*p = r->next;
		ip_str(&r->addr, ip, sizeof(ip));
		if (error < 0) {
			c->stats.removal_errors++;
			log_err("conflict group=%s address=%s interface=%s not removed: %s", r->group, ip, r->addr.ifname,
				strerror(-error));
		} else {
			c->stats.removals++;
			log_info("conflict group=%s address=%s interface=%s removed took_ms=%.1f", r->group, ip,
				 r->addr.ifname, (double)(clock_mono_us() - r->start_us) / 1000.0);
		}
	}
	free(r);
}

int conflict_remove(struct conflict *c, const struct conflict_event *ev)
{
	struct conflict_removal *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->c = c;
	r->addr = ev->addr;
	r->start_us = clock_mono_us();
	snprintf(r->group, sizeof(r->group), "%s", ev->group);
	r->next = c->removals;
	c->removals = r;
	err = vip_del(c->vip, &ev->addr, on_removed, r);
	if (err < 0) {
		c->removals = r->next;
		free(r);
	}
	return err;
}

/* ---- status ---- */

void conflict_status_json(const struct conflict *c, json_t *status)
{
	json_t *warnings = json_object_get(status, "warnings"), *counters = json_object_get(status, "counters");
	uint64_t now = clock_mono_us();
	char ip[INET6_ADDRSTRLEN], mac[18], line[256];

	for (size_t i = 0; c && json_is_array(warnings) && i < c->n_targets; i++) {
		const struct conflict_target *t = &c->targets[i];

		if (!t->active || now - t->last_us > (uint64_t)CONFLICT_QUIET_MS * 1000u)
			continue;
		snprintf(line, sizeof(line), "vip-conflict: group=%s address=%s mac=%s owner=%s kind=%s frames=%llu",
			 t->group, ip_str(&t->addr, ip, sizeof(ip)), conflict_mac_str(t->mac, mac, sizeof(mac)), t->owner,
			 conflict_verdict_str(t->verdict), (unsigned long long)t->frames);
		json_array_append_new(warnings, json_string(line));
	}
	if (json_is_object(counters))
		json_object_set_new(counters, "vip_conflicts", json_integer(c ? (json_int_t)c->stats.conflicts : 0));
}

void conflict_get_stats(const struct conflict *c, struct conflict_stats *stats)
{
	*stats = c->stats;
}
