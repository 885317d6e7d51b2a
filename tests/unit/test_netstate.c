/* netstate: the firewall normalisation and list diff (pure), the cross-node
 * comparison (pure), and, as root in a network namespace of its own, the group
 * checks, the default route check and the digests against the real kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <unistd.h>

#include "../../fomgr/netstate.c"

/* The same ruleset on two nodes: other handles, other counters. */
static const char nft_a[] =
	"{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", \"json_schema_version\": 1}},"
	"{\"table\": {\"family\": \"inet\", \"name\": \"filter\", \"handle\": 1}},"
	"{\"chain\": {\"family\": \"inet\", \"table\": \"filter\", \"name\": \"input\", \"handle\": 1, \"type\": "
	"\"filter\", \"hook\": \"input\", \"prio\": 0, \"policy\": \"accept\"}},"
	"{\"rule\": {\"family\": \"inet\", \"table\": \"filter\", \"chain\": \"input\", \"handle\": 2, \"expr\": "
	"[{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"tcp\", \"field\": \"dport\"}}, "
	"\"right\": 23}}, {\"counter\": null}, {\"drop\": null}]}}]}";
static const char nft_b[] =
	"{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.7\", \"json_schema_version\": 1}},"
	"{\"table\": {\"handle\": 7, \"family\": \"inet\", \"name\": \"filter\"}},"
	"{\"chain\": {\"family\": \"inet\", \"table\": \"filter\", \"name\": \"input\", \"handle\": 9, \"type\": "
	"\"filter\", \"hook\": \"input\", \"prio\": 0, \"policy\": \"accept\"}},"
	"{\"rule\": {\"family\": \"inet\", \"table\": \"filter\", \"chain\": \"input\", \"handle\": 31, \"expr\": "
	"[{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"tcp\", \"field\": \"dport\"}}, "
	"\"right\": 23}}, {\"counter\": null}, {\"drop\": null}]}}]}";

static void test_firewall_normalise(void **state)
{
	json_t *a = netstate_firewall_normalise(nft_a), *b = netstate_firewall_normalise(nft_b);
	uint8_t da[32], db[32];

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(json_array_size(a), 3); /* metainfo left out */
	assert_string_equal(json_string_value(json_array_get(a, 0)), "table {\"family\":\"inet\",\"name\":\"filter\"}");
	assert_null(strstr(json_string_value(json_array_get(a, 2)), "handle"));
	assert_true(json_equal(a, b));
	assert_int_equal(list_digest(a, da), 0);
	assert_int_equal(list_digest(b, db), 0);
	assert_memory_equal(da, db, 32);
	assert_null(netstate_firewall_normalise("{\"foo\": 1}"));
	assert_null(netstate_firewall_normalise("not json"));
	json_decref(a);
	json_decref(b);
}

static void test_list_diff(void **state)
{
	json_t *a = json_pack("[s, s, s]", "x", "y", "z"), *b = json_pack("[s, s]", "y", "w");
	json_t *out = json_array();

	assert_int_equal(netstate_list_diff(a, b, out, 10), 3);
	assert_int_equal(json_array_size(out), 3);
	assert_string_equal(json_string_value(json_array_get(out, 0)), "+ x");
	assert_string_equal(json_string_value(json_array_get(out, 1)), "+ z");
	assert_string_equal(json_string_value(json_array_get(out, 2)), "- w");
	json_array_clear(out);
	assert_int_equal(netstate_list_diff(a, b, out, 1), 3); /* counted, not all listed */
	assert_int_equal(json_array_size(out), 1);
	json_array_clear(out);
	assert_int_equal(netstate_list_diff(a, a, out, 10), 0);
	json_decref(a);
	json_decref(b);
	json_decref(out);
}

static void peer_init(struct netstate_peer_state *p, const char *node)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->node, sizeof(p->node), "%s", node);
	memset(p->digests.firewall, 0x11, 32);
	memset(p->digests.routes, 0x22, 32);
	memset(p->config_digest, 0x33, 32);
	memset(p->corosync_digest, 0x44, 32);
	snprintf(p->fomgr_version, sizeof(p->fomgr_version), "0.1.0");
	snprintf(p->corosync_version, sizeof(p->corosync_version), "3.1.7");
	snprintf(p->kernel_version, sizeof(p->kernel_version), "6.1.0");
}

static void test_compare(void **state)
{
	struct netstate_peer_state mine, peer;
	struct audit_findings f = {0};

	peer_init(&mine, "node1");
	peer_init(&peer, "node2");
	memset(peer.digests.addresses, 0x99, 32); /* addresses are per node: not compared */
	assert_int_equal(netstate_compare(&mine, &peer, &f), 0);
	assert_int_equal(f.n, 0);

	peer.digests.firewall[0] = 0xab;
	peer.config_digest[31] = 0;
	snprintf(peer.fomgr_version, sizeof(peer.fomgr_version), "0.2.0");
	assert_int_equal(netstate_compare(&mine, &peer, &f), 3);
	assert_int_equal(f.v[0].kind, AUDIT_DRIFT);
	assert_string_equal(f.v[0].subject, "firewall on node2");
	assert_int_equal(f.v[0].severity, AUDIT_WARNING);
	assert_string_equal(f.v[0].detail, "firewall digest ab1111111111 on node2 differs from ours 111111111111");
	assert_string_equal(f.v[1].subject, "fomgr config on node2");
	assert_string_equal(f.v[2].subject, "fomgr version on node2");
	assert_int_equal(f.v[2].severity, AUDIT_INFO);
	assert_string_equal(f.v[2].detail, "fomgr 0.2.0 on node2, 0.1.0 here (mixed versions: a rolling update in progress?)");
	audit_findings_clear(&f);

	/* An unknown digest (an older peer that does not send it) is not a difference. */
	peer_init(&peer, "node2");
	memset(peer.digests.routes, 0, 32);
	peer.kernel_version[0] = '\0';
	assert_int_equal(netstate_compare(&mine, &peer, &f), 0);
}

static void test_compare_names_rules(void **state)
{
	struct netstate_peer_state mine, peer;
	struct audit_findings f = {0};
	json_t *lines = json_pack("[s, s, s]", "table inet filter", "chain inet filter input {}",
				  "rule inet filter input tcp dport 7001 drop");

	peer_init(&mine, "node3");
	peer_init(&peer, "node1");
	mine.fw_lines = lines;
	mine.n_fw = netstate_firewall_hashes(lines, mine.fw, NETSTATE_MAX_FW_LINES);
	assert_int_equal(mine.n_fw, 3);
	/* the peer has the table and chain, not the rule, and one line of its own */
	peer.n_fw = 3;
	peer.fw[0] = mine.fw[0];
	peer.fw[1] = mine.fw[1];
	peer.fw[2] = mine.fw[2] ^ 1;
	peer.digests.firewall[0] = 0xab;
	assert_int_equal(netstate_compare(&mine, &peer, &f), 1);
	assert_int_equal(f.n, 3);
	assert_true(strncmp(f.v[0].subject, "firewall line ", 14) == 0);
	assert_non_null(strstr(f.v[0].subject, " here, not on node1"));
	assert_string_equal(f.v[0].detail, "rule inet filter input tcp dport 7001 drop");
	assert_string_equal(f.v[1].subject, "firewall lines on node1, not here");
	assert_string_equal(f.v[2].subject, "firewall on node1");
	audit_findings_clear(&f);
	json_decref(lines);
}

static void test_prefix_contains(void **state)
{
	struct in_addr net, a;

	inet_pton(AF_INET, "192.0.2.0", &net);
	inet_pton(AF_INET, "192.0.2.100", &a);
	assert_true(prefix_contains(AF_INET, &net, 24, &a, 24));
	assert_true(prefix_contains(AF_INET, &net, 16, &a, 24));
	assert_false(prefix_contains(AF_INET, &net, 25, &a, 24)); /* narrower than the VIP's subnet */
	inet_pton(AF_INET, "198.51.100.0", &net);
	assert_false(prefix_contains(AF_INET, &net, 24, &a, 24));
}

/* ---- against the kernel, in a namespace of our own ---- */

static bool in_netns;

static int netns_setup(void **state)
{
	in_netns = geteuid() == 0 && unshare(CLONE_NEWNET) == 0 &&
		   system("ip link set lo up && ip link add d0 type veth peer name d1 && ip link set d1 up && "
			  "ip addr add 192.0.2.1/24 dev d0 && ip -6 addr add 2001:db8::1/64 dev d0 nodad && "
			  "ip link set d0 up") == 0;
	return 0;
}

static struct config *group_config(const char *ifname, const char *addr)
{
	char text[256];
	struct cfgfile_errors errors;

	snprintf(text, sizeof(text), "[group g]\ninterface = %s\naddress = %s\n", ifname, addr);
	return config_parse_buffer("t", text, strlen(text), NULL, &errors);
}

static void expect_group(const char *ifname, const char *addr, size_t n, enum audit_kind kind)
{
	struct config *c = group_config(ifname, addr);
	struct audit_findings f = {0};

	assert_non_null(c);
	assert_int_equal(netstate_validate_group(&c->groups[0], &f), 0);
	if (f.n != n)
		print_message("%s %s: %zu findings: %s\n", ifname, addr, f.n, f.n ? f.v[0].detail : "");
	assert_int_equal(f.n, n);
	if (n)
		assert_int_equal(f.v[0].kind, kind);
	audit_findings_clear(&f);
	config_free(c);
}

static void test_validate_group(void **state)
{
	if (!in_netns)
		skip();
	expect_group("d0", "192.0.2.100/24", 0, 0);
	expect_group("d0", "2001:db8::100/64", 0, 0);
	expect_group("d0", "198.51.100.10/24", 1, AUDIT_ROUTE);
	expect_group("d9", "192.0.2.100/24", 1, AUDIT_INTERFACE);
	assert_int_equal(system("ip link set d1 down"), 0);
	expect_group("d0", "192.0.2.100/24", 1, AUDIT_INTERFACE); /* no carrier */
	assert_int_equal(system("ip link set d0 down"), 0);
	expect_group("d0", "192.0.2.100/24", 1, AUDIT_INTERFACE);
	assert_int_equal(system("ip link set d0 up && ip link set d1 up"), 0);
}

static void test_default_route(void **state)
{
	struct audit_findings f = {0};

	if (!in_netns)
		skip();
	assert_int_equal(netstate_check_default_route(&f), 0);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].kind, AUDIT_DEFAULT_ROUTE);
	assert_int_equal(f.v[0].severity, AUDIT_INFO);
	audit_findings_clear(&f);
	assert_int_equal(system("ip route add default via 192.0.2.254 dev d0"), 0);
	assert_int_equal(netstate_check_default_route(&f), 0);
	assert_int_equal(f.n, 0);
	assert_int_equal(system("ip route del default"), 0);
}

static void test_summary_and_digests(void **state)
{
	struct config *c = group_config("d0", "192.0.2.100/24");
	struct netstate_summary s1, s2;
	struct netstate_digests d1, d2;
	json_t *diff = json_array();
	char *text;

	if (!in_netns) {
		config_free(c);
		json_decref(diff);
		skip();
	}
	assert_int_equal(netstate_summary_read(c, &s1), 0);
	assert_int_equal(s1.firewall_error, 0);
	text = json_dumps(s1.routes, 0);
	if (!strstr(text, "table 254 inet 192.0.2.0/24 type unicast proto kernel scope link dev d0"))
		print_message("%s\n", text);
	assert_non_null(strstr(text, "table 254 inet 192.0.2.0/24 type unicast proto kernel scope link dev d0"));
	free(text);
	text = json_dumps(s1.addresses, 0);
	assert_non_null(strstr(text, "d0 inet 192.0.2.1/24"));
	free(text);
	assert_int_equal(netstate_summary_digest(&s1, &d1), 0);

	/* The VIP coming up changes neither the addresses nor the routes digest. */
	assert_int_equal(system("ip addr add 192.0.2.100/24 dev d0"), 0);
	assert_int_equal(netstate_summary_read(c, &s2), 0);
	assert_int_equal(netstate_summary_digest(&s2, &d2), 0);
	assert_memory_equal(&d1, &d2, sizeof(d1));
	netstate_summary_clear(&s2);

	/* A rule added: the firewall digest changes and the diff names the rule. */
	assert_int_equal(system("nft add table inet fo_test && nft add chain inet fo_test input "
				"'{ type filter hook input priority 0; }' && "
				"nft add rule inet fo_test input tcp dport 7777 counter drop"), 0);
	assert_int_equal(netstate_summary_read(c, &s2), 0);
	assert_int_equal(netstate_summary_digest(&s2, &d2), 0);
	assert_memory_not_equal(d1.firewall, d2.firewall, 32);
	assert_memory_equal(d1.routes, d2.routes, 32);
	assert_int_equal(netstate_list_diff(s2.firewall, s1.firewall, diff, 10), 3);
	text = json_dumps(diff, 0);
	assert_non_null(strstr(text, "+ rule"));
	assert_non_null(strstr(text, "7777"));
	free(text);
	assert_int_equal(system("nft delete table inet fo_test"), 0);
	netstate_summary_clear(&s2);
	netstate_summary_clear(&s1);
	json_decref(diff);
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_firewall_normalise),
		cmocka_unit_test(test_list_diff),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_compare_names_rules),
		cmocka_unit_test(test_prefix_contains),
		cmocka_unit_test(test_validate_group),
		cmocka_unit_test(test_default_route),
		cmocka_unit_test(test_summary_and_digests),
	};

	return cmocka_run_group_tests(tests, netns_setup, NULL);
}
