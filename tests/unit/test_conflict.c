/* conflict's pure parts: the frame parser, the conflict decision, the kernel
 * filter (run through a small classic BPF interpreter here), and the episode
 * bookkeeping with its status warning. The sockets are tested in the lab
 * (tests/lab/32-vip-conflict.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../fomgr/conflict.c"

static const unsigned char MAC_LOCAL[ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x11};
static const unsigned char MAC_OTHER[ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x12};

static size_t arp_frame(unsigned char *buf, uint16_t op, const unsigned char *sha, const char *spa, const char *tpa)
{
	struct ether_header eth = {.ether_type = htons(ETHERTYPE_ARP)};
	struct ether_arp arp = {0};

	memset(eth.ether_dhost, 0xff, ETH_ALEN);
	memcpy(eth.ether_shost, sha, ETH_ALEN);
	arp.arp_hrd = htons(ARPHRD_ETHER);
	arp.arp_pro = htons(ETH_P_IP);
	arp.arp_hln = ETH_ALEN;
	arp.arp_pln = 4;
	arp.arp_op = htons(op);
	memcpy(arp.arp_sha, sha, ETH_ALEN);
	inet_pton(AF_INET, spa, arp.arp_spa);
	inet_pton(AF_INET, tpa, arp.arp_tpa);
	memcpy(buf, &eth, sizeof(eth));
	memcpy(buf + sizeof(eth), &arp, sizeof(arp));
	return sizeof(eth) + sizeof(arp);
}

/* An NA from src with an optional target link-layer address option (opt_mac). */
static size_t na_frame(unsigned char *buf, uint8_t type, const unsigned char *src, const char *target,
		       uint8_t hlim, const unsigned char *opt_mac)
{
	struct ether_header eth = {.ether_type = htons(ETHERTYPE_IPV6)};
	struct ip6_hdr ip6 = {0};
	struct nd_neighbor_advert na = {0};
	size_t plen = sizeof(na) + (opt_mac ? 8 : 0), off = 0;

	memcpy(eth.ether_shost, src, ETH_ALEN);
	ip6.ip6_vfc = 0x60;
	ip6.ip6_plen = htons((uint16_t)plen);
	ip6.ip6_nxt = IPPROTO_ICMPV6;
	ip6.ip6_hlim = hlim;
	inet_pton(AF_INET6, "ff02::1", &ip6.ip6_dst);
	na.nd_na_type = type;
	inet_pton(AF_INET6, target, &na.nd_na_target);
	memcpy(buf + off, &eth, sizeof(eth));
	off += sizeof(eth);
	memcpy(buf + off, &ip6, sizeof(ip6));
	off += sizeof(ip6);
	memcpy(buf + off, &na, sizeof(na));
	off += sizeof(na);
	if (opt_mac) {
		buf[off] = ND_OPT_TARGET_LINKADDR;
		buf[off + 1] = 1;
		memcpy(buf + off + 2, opt_mac, ETH_ALEN);
		off += 8;
	}
	return off;
}

static void parse_arp_frames(void **state)
{
	unsigned char buf[128];
	struct conflict_frame f;
	size_t len;
	char ip[INET_ADDRSTRLEN];

	len = arp_frame(buf, ARPOP_REQUEST, MAC_OTHER, "192.0.2.100", "192.0.2.100"); /* gratuitous */
	assert_int_equal(conflict_parse_frame(buf, len, &f), 0);
	assert_int_equal(f.source, CONFLICT_SRC_ARP);
	assert_int_equal(f.family, AF_INET);
	assert_string_equal(inet_ntop(AF_INET, &f.addr.v4, ip, sizeof(ip)), "192.0.2.100");
	assert_memory_equal(f.mac, MAC_OTHER, ETH_ALEN);
	len = arp_frame(buf, ARPOP_REPLY, MAC_LOCAL, "192.0.2.100", "192.0.2.50");
	assert_int_equal(conflict_parse_frame(buf, len, &f), 0);
	assert_memory_equal(f.mac, MAC_LOCAL, ETH_ALEN);
	/* An RFC 5227 probe claims nothing. */
	len = arp_frame(buf, ARPOP_REQUEST, MAC_OTHER, "0.0.0.0", "192.0.2.100");
	assert_int_equal(conflict_parse_frame(buf, len, &f), -EINVAL);
	/* RARP, a short packet, a wrong hardware length, unknown ethertypes. */
	len = arp_frame(buf, 3, MAC_OTHER, "192.0.2.100", "192.0.2.100");
	assert_int_equal(conflict_parse_frame(buf, len, &f), -EINVAL);
	len = arp_frame(buf, ARPOP_REPLY, MAC_OTHER, "192.0.2.100", "192.0.2.50");
	assert_int_equal(conflict_parse_frame(buf, len - 1, &f), -EINVAL);
	buf[14 + 4] = 8;
	assert_int_equal(conflict_parse_frame(buf, len, &f), -EINVAL);
	buf[12] = 0x08, buf[13] = 0x00;
	assert_int_equal(conflict_parse_frame(buf, len, &f), -EINVAL);
	assert_int_equal(conflict_parse_frame(buf, 13, &f), -EINVAL);
	assert_int_equal(conflict_parse_frame(NULL, 0, &f), -EINVAL);
}

static void parse_na_frames(void **state)
{
	unsigned char buf[256];
	struct conflict_frame f;
	struct in6_addr want;
	size_t len;

	inet_pton(AF_INET6, "2001:db8::100", &want);
	/* The option names who claims the address, whoever relays the frame. */
	len = na_frame(buf, ND_NEIGHBOR_ADVERT, MAC_LOCAL, "2001:db8::100", 255, MAC_OTHER);
	assert_int_equal(conflict_parse_frame(buf, len, &f), 0);
	assert_int_equal(f.source, CONFLICT_SRC_NA);
	assert_int_equal(f.family, AF_INET6);
	assert_memory_equal(&f.addr.v6, &want, sizeof(want));
	assert_memory_equal(f.mac, MAC_OTHER, ETH_ALEN);
	/* Without it, the Ethernet source. */
	len = na_frame(buf, ND_NEIGHBOR_ADVERT, MAC_LOCAL, "2001:db8::100", 255, NULL);
	assert_int_equal(conflict_parse_frame(buf, len, &f), 0);
	assert_memory_equal(f.mac, MAC_LOCAL, ETH_ALEN);
	/* A zero-length option ends the option walk. */
	len = na_frame(buf, ND_NEIGHBOR_ADVERT, MAC_LOCAL, "2001:db8::100", 255, MAC_OTHER);
	buf[len - 7] = 0;
	assert_int_equal(conflict_parse_frame(buf, len, &f), 0);
	assert_memory_equal(f.mac, MAC_LOCAL, ETH_ALEN);
	/* Routed (hop limit below 255), a solicitation, a multicast target, a
	 * payload length beyond the frame, a truncated header. */
	len = na_frame(buf, ND_NEIGHBOR_ADVERT, MAC_OTHER, "2001:db8::100", 254, NULL);
	assert_int_equal(conflict_parse_frame(buf, len, &f), -EINVAL);
	len = na_frame(buf, ND_NEIGHBOR_SOLICIT, MAC_OTHER, "2001:db8::100", 255, NULL);
	assert_int_equal(conflict_parse_frame(buf, len, &f), -EINVAL);
	len = na_frame(buf, ND_NEIGHBOR_ADVERT, MAC_OTHER, "ff02::1", 255, NULL);
	assert_int_equal(conflict_parse_frame(buf, len, &f), -EINVAL);
	len = na_frame(buf, ND_NEIGHBOR_ADVERT, MAC_OTHER, "2001:db8::100", 255, MAC_OTHER);
	assert_int_equal(conflict_parse_frame(buf, len - 1, &f), -EINVAL);
	assert_int_equal(conflict_parse_frame(buf, 14 + 39, &f), -EINVAL);
}

static void judge_table(void **state)
{
	static const struct {
		enum conflict_source source;
		const unsigned char *mac;
		int owner, held, claims;
		enum conflict_verdict want;
		const char *why;
	} rows[] = {
		{CONFLICT_SRC_ARP, MAC_OTHER, 1, 1, 1, CONFLICT_FOREIGN, "another MAC, we own and hold it"},
		{CONFLICT_SRC_NA, MAC_OTHER, 1, 1, 1, CONFLICT_FOREIGN, "the same over IPv6"},
		{CONFLICT_SRC_ARP, MAC_OTHER, 1, 0, 1, CONFLICT_NONE, "we own it, addresses not up yet (switchover)"},
		{CONFLICT_SRC_ARP, MAC_OTHER, 0, 0, 0, CONFLICT_NONE, "the owner answering, seen by a bystander"},
		{CONFLICT_SRC_ARP, MAC_OTHER, 0, 1, 1, CONFLICT_NONE, "we still release it: the new owner's claim"},
		{CONFLICT_SRC_ARP, MAC_LOCAL, 1, 1, 1, CONFLICT_NONE, "our own announcement or reply"},
		{CONFLICT_SRC_ARP, MAC_LOCAL, 0, 0, 1, CONFLICT_NONE, "ours, while we acquire or release"},
		{CONFLICT_SRC_ARP, MAC_LOCAL, 0, 0, 0, CONFLICT_LOCAL, "our MAC for an address we do not claim"},
		{CONFLICT_SRC_KERNEL, MAC_LOCAL, 0, 0, 0, CONFLICT_LOCAL, "in our kernel, not claimed"},
		{CONFLICT_SRC_KERNEL, MAC_LOCAL, 1, 0, 0, CONFLICT_LOCAL, "ours by placement, claim not made yet"},
		{CONFLICT_SRC_KERNEL, MAC_LOCAL, 1, 1, 1, CONFLICT_NONE, "our own add"},
		{CONFLICT_SRC_KERNEL, MAC_LOCAL, 0, 1, 1, CONFLICT_NONE, "our add, released since"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct conflict_frame f = {.source = rows[i].source, .family = AF_INET};
		struct conflict_role role = {.owner = rows[i].owner, .held = rows[i].held, .claims = rows[i].claims};

		memcpy(f.mac, rows[i].mac, ETH_ALEN);
		if (conflict_judge(&f, MAC_LOCAL, &role) != rows[i].want)
			fail_msg("row %zu (%s): %s, expected %s", i, rows[i].why,
				 conflict_verdict_str(conflict_judge(&f, MAC_LOCAL, &role)),
				 conflict_verdict_str(rows[i].want));
	}
	assert_string_equal(conflict_verdict_str(CONFLICT_VERDICT_MAX), "invalid");
	assert_string_equal(conflict_source_str(CONFLICT_SRC_KERNEL), "kernel");
}

/* Classic BPF, the subset conflict_filter_build() emits: absolute loads, jeq, ret. */
static uint32_t bpf_run(const struct sock_filter *code, int n, const unsigned char *pkt, size_t len)
{
	uint32_t a = 0;

	for (int pc = 0; pc < n; pc++) {
		const struct sock_filter *in = &code[pc];

		switch (in->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (in->k + 4 > len)
				return 0;
			a = (uint32_t)pkt[in->k] << 24 | (uint32_t)pkt[in->k + 1] << 16 | pkt[in->k + 2] << 8 | pkt[in->k + 3];
			break;
		case BPF_LD | BPF_H | BPF_ABS:
			if (in->k + 2 > len)
				return 0;
			a = (uint32_t)pkt[in->k] << 8 | pkt[in->k + 1];
			break;
		case BPF_LD | BPF_B | BPF_ABS:
			if (in->k + 1 > len)
				return 0;
			a = pkt[in->k];
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == in->k ? in->jt : in->jf;
			break;
		case BPF_RET | BPF_K:
			return in->k;
		default:
			fail_msg("unexpected instruction %#x at %d", in->code, pc);
		}
		assert_true(pc + 1 <= n);
	}
	fail_msg("fell off the end of the program");
	return 0;
}

static void filter_programs(void **state)
{
	static struct sock_filter v4[CONFLICT_FILTER_INSNS], v6[CONFLICT_FILTER_INSNS];
	struct vip_addr addrs[3];
	unsigned char buf[256];
	size_t len;
	int n4, n6;

	vip_addr_parse(&addrs[0], "192.0.2.100/24", "eth0");
	vip_addr_parse(&addrs[1], "2001:db8::100/64", "eth0");
	vip_addr_parse(&addrs[2], "198.51.100.7/24", "eth1");
	n4 = conflict_filter_build(AF_INET, addrs, 3, v4, CONFLICT_FILTER_INSNS);
	n6 = conflict_filter_build(AF_INET6, addrs, 3, v6, CONFLICT_FILTER_INSNS);
	assert_int_equal(n4, 4 + 2 * 2 + 1);
	assert_int_equal(n6, 9 + 9 + 1);
	len = arp_frame(buf, ARPOP_REQUEST, MAC_OTHER, "192.0.2.100", "192.0.2.100");
	assert_int_equal(bpf_run(v4, n4, buf, len), CONFLICT_SNAPLEN);
	assert_int_equal(bpf_run(v6, n6, buf, len), 0);
	len = arp_frame(buf, ARPOP_REPLY, MAC_OTHER, "198.51.100.7", "198.51.100.1");
	assert_int_equal(bpf_run(v4, n4, buf, len), CONFLICT_SNAPLEN);
	len = arp_frame(buf, ARPOP_REPLY, MAC_OTHER, "192.0.2.101", "192.0.2.50");
	assert_int_equal(bpf_run(v4, n4, buf, len), 0);
	len = arp_frame(buf, ARPOP_REQUEST, MAC_OTHER, "0.0.0.0", "192.0.2.100");
	assert_int_equal(bpf_run(v4, n4, buf, len), 0);
	len = na_frame(buf, ND_NEIGHBOR_ADVERT, MAC_OTHER, "2001:db8::100", 255, MAC_OTHER);
	assert_int_equal(bpf_run(v6, n6, buf, len), CONFLICT_SNAPLEN);
	assert_int_equal(bpf_run(v4, n4, buf, len), 0);
	len = na_frame(buf, ND_NEIGHBOR_ADVERT, MAC_OTHER, "2001:db8::101", 255, MAC_OTHER);
	assert_int_equal(bpf_run(v6, n6, buf, len), 0);
	len = na_frame(buf, ND_NEIGHBOR_ADVERT, MAC_OTHER, "2001:db9::100", 255, MAC_OTHER);
	assert_int_equal(bpf_run(v6, n6, buf, len), 0);
	len = na_frame(buf, ND_NEIGHBOR_SOLICIT, MAC_OTHER, "2001:db8::100", 255, NULL);
	assert_int_equal(bpf_run(v6, n6, buf, len), 0);
	assert_int_equal(conflict_filter_build(AF_INET, addrs, 3, v4, 10), -ENOSPC);
	assert_int_equal(conflict_filter_build(AF_PACKET, addrs, 3, v4, CONFLICT_FILTER_INSNS), -ENOSPC);
	/* Nothing to watch: nothing wakes the loop. */
	n4 = conflict_filter_build(AF_INET, addrs, 0, v4, CONFLICT_FILTER_INSNS);
	len = arp_frame(buf, ARPOP_REQUEST, MAC_OTHER, "192.0.2.100", "192.0.2.100");
	assert_int_equal(bpf_run(v4, n4, buf, len), 0);
}

/* The largest filter: the last address's block is reached through every other's
 * jumps; one more address and every frame of the kind is let through. */
static void filter_limits(void **state)
{
	static struct sock_filter code[CONFLICT_FILTER_INSNS];
	static struct vip_addr addrs[CONFLICT_FILTER_MAX + 1];
	unsigned char buf[256];
	char text[64];
	size_t len;
	int n;

	for (int i = 0; i <= CONFLICT_FILTER_MAX; i++) {
		snprintf(text, sizeof(text), "2001:db8::%x:%x/64", i, i);
		assert_int_equal(vip_addr_parse(&addrs[i], text, "eth0"), 0);
	}
	n = conflict_filter_build(AF_INET6, addrs, CONFLICT_FILTER_MAX, code, CONFLICT_FILTER_INSNS);
	assert_int_equal(n, CONFLICT_FILTER_INSNS);
	len = na_frame(buf, ND_NEIGHBOR_ADVERT, MAC_OTHER, "2001:db8::ff:ff", 255, NULL);
	assert_int_equal(bpf_run(code, n, buf, len), CONFLICT_SNAPLEN);
	len = na_frame(buf, ND_NEIGHBOR_ADVERT, MAC_OTHER, "2001:db8::ff:fe", 255, NULL);
	assert_int_equal(bpf_run(code, n, buf, len), 0);
	n = conflict_filter_build(AF_INET6, addrs, CONFLICT_FILTER_MAX + 1, code, CONFLICT_FILTER_INSNS);
	assert_int_equal(n, 9 + 1);
	assert_int_equal(bpf_run(code, n, buf, len), CONFLICT_SNAPLEN);
	len = na_frame(buf, ND_NEIGHBOR_SOLICIT, MAC_OTHER, "2001:db8::ff:fe", 255, NULL);
	assert_int_equal(bpf_run(code, n, buf, len), 0);
}

/* ---- episodes ---- */

static struct conflict_event last_event;
static int events;

static void on_event(void *arg, const struct conflict_event *ev)
{
	last_event = *ev;
	events++;
}

static void episodes(void **state)
{
	struct conflict c = {.event = on_event};
	struct conflict_target t = {.group = "web"};
	struct conflict_role role = {.owner = 1, .held = 1, .claims = 1, .owner_name = "node1"};
	struct conflict_frame f = {.source = CONFLICT_SRC_ARP, .family = AF_INET};
	json_t *st = json_pack("{s:[s], s:{s:i}}", "warnings", "corosync-without-crypto", "counters", "announcements_sent", 3);
	const char *w;

	vip_addr_parse(&t.addr, "192.0.2.100/24", "eth0");
	c.targets = &t;
	c.n_targets = 1;
	memcpy(f.mac, MAC_OTHER, ETH_ALEN);
	events = 0;
	report(&c, &t, &f, CONFLICT_FOREIGN, &role);
	assert_int_equal(events, 1);
	assert_true(last_event.first);
	assert_string_equal(last_event.owner, "node1");
	assert_memory_equal(last_event.mac, MAC_OTHER, ETH_ALEN);
	/* A flood of the same frame: counted, resolved at most every garp interval. */
	for (int i = 0; i < 100; i++)
		report(&c, &t, &f, CONFLICT_FOREIGN, &role);
	assert_int_equal(events, 1);
	assert_int_equal(c.stats.conflicts, 1);
	assert_int_equal(c.stats.conflicting_frames, 101);
	/* Another MAC is another conflict. */
	f.mac[5] = 0x13;
	report(&c, &t, &f, CONFLICT_FOREIGN, &role);
	assert_int_equal(events, 2);
	assert_true(last_event.first);
	assert_int_equal(c.stats.conflicts, 2);
	/* Every stray add in our kernel is removed, with the kernel's prefix. */
	f.source = CONFLICT_SRC_KERNEL;
	memcpy(f.mac, MAC_LOCAL, ETH_ALEN);
	t.kernel_prefixlen = 32;
	report(&c, &t, &f, CONFLICT_LOCAL, &role);
	report(&c, &t, &f, CONFLICT_LOCAL, &role);
	assert_int_equal(events, 4);
	assert_false(last_event.first);
	assert_int_equal(last_event.addr.prefixlen, 32);
	assert_int_equal(last_event.verdict, CONFLICT_LOCAL);

	conflict_status_json(&c, st);
	assert_int_equal(json_array_size(json_object_get(st, "warnings")), 2);
	w = json_string_value(json_array_get(json_object_get(st, "warnings"), 1));
	assert_string_equal(w, "vip-conflict: group=web address=192.0.2.100 mac=02:00:00:00:00:11 owner=node1 "
			       "kind=local frames=2");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "counters"), "vip_conflicts")), 3);
	json_decref(st);
	/* No watcher (no CAP_NET_RAW): the counter is there, no warning. */
	st = json_pack("{s:[], s:{}}", "warnings", "counters");
	conflict_status_json(NULL, st);
	assert_int_equal(json_array_size(json_object_get(st, "warnings")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "counters"), "vip_conflicts")), 0);
	json_decref(st);
}

static void audit_record(void **state)
{
	struct conflict_event ev = {.group = "web", .verdict = CONFLICT_FOREIGN, .source = CONFLICT_SRC_NA,
				    .owner = "node1"};
	json_t *j;

	vip_addr_parse(&ev.addr, "2001:db8::100/64", "eth0");
	memcpy(ev.mac, MAC_OTHER, ETH_ALEN);
	j = conflict_event_json(&ev, "reannounce");
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "vip_conflict");
	assert_string_equal(json_string_value(json_object_get(j, "subject")), "2001:db8::100");
	assert_string_equal(json_string_value(json_object_get(j, "mac")), "02:00:00:00:00:12");
	assert_string_equal(json_string_value(json_object_get(j, "owner")), "node1");
	assert_string_equal(json_string_value(json_object_get(j, "source")), "na");
	assert_string_equal(json_string_value(json_object_get(j, "action")), "reannounce");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_arp_frames), cmocka_unit_test(parse_na_frames), cmocka_unit_test(judge_table),
		cmocka_unit_test(filter_programs),  cmocka_unit_test(filter_limits),   cmocka_unit_test(episodes),
		cmocka_unit_test(audit_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
