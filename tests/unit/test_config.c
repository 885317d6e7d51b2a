#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#ifndef FO_CONF_DIR
#error "FO_CONF_DIR must name the source tree's conf/ directory"
#endif

/* A valid group (3 lines), and the same followed by [fomgr] (4 lines): a key
 * appended to G is on line 4, to F on line 5. */
#define G "[group web]\ninterface = eth0\naddress = 192.0.2.100/24\n"
#define F G "[fomgr]\n"

static const struct config_nodelist three_nodes = {
	.n_nodes = 3,
	.nodes = {{1, "node1"}, {2, "node2"}, {3, "node3"}},
};

static struct config *parse(const char *text, const struct config_nodelist *nodes, struct cfgfile_errors *errors)
{
	return config_parse_buffer("test.conf", text, strlen(text), nodes, errors);
}

static void dump_errors(const struct cfgfile_errors *errors)
{
	char buf[16384];

	print_message("%s", cfgfile_errors_format(errors, "test.conf", buf, sizeof(buf)));
}

/* Parses text and asserts it is refused with exactly these errors. */
struct expected_error {
	unsigned line;
	const char *message;
};

static void expect_errors(const char *text, const struct config_nodelist *nodes,
			  const struct expected_error *expected, size_t n)
{
	struct cfgfile_errors errors;
	struct config *c = parse(text, nodes, &errors);

	assert_null(c);
	if (errors.n != n)
		dump_errors(&errors);
	assert_int_equal(errors.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(errors.items[i].message, expected[i].message);
		assert_int_equal(errors.items[i].line, expected[i].line);
	}
}

static void expect_error(const char *text, const struct config_nodelist *nodes, unsigned line, const char *message)
{
	struct expected_error e = {line, message};

	expect_errors(text, nodes, &e, 1);
}

static struct config *expect_ok(const char *text, const struct config_nodelist *nodes)
{
	struct cfgfile_errors errors;
	struct config *c = parse(text, nodes, &errors);

	if (!c)
		dump_errors(&errors);
	assert_non_null(c);
	assert_int_equal(errors.n, 0);
	return c;
}

/* ---- good files ---- */

static void defaults(void **state)
{
	struct config *c = expect_ok(G, NULL);
	const struct config_group *g = &c->groups[0];

	assert_string_equal(c->path, "test.conf");
	assert_string_equal(c->cpg_group, "fomgr");
	assert_string_equal(c->runtime_dir, "/run/fomgr");
	assert_string_equal(c->state_dir, "/var/lib/fomgr");
	assert_string_equal(c->health_socket, "/run/fomgr/health.sock");
	assert_int_equal(c->health_ttl_ms, 5000);
	assert_int_equal(c->health_policy, CONFIG_HEALTH_KEEP);
	assert_int_equal(c->garp_count, 5);
	assert_int_equal(c->garp_interval_ms, 200);
	assert_int_equal(c->arp_probe_ms, 20);
	assert_int_equal(c->require_crypto, 0);
	assert_int_equal(c->n_groups, 1);
	assert_string_equal(g->name, "web");
	assert_string_equal(g->interface, "eth0");
	assert_int_equal(g->n_addrs, 1);
	assert_int_equal(g->addrs[0].family, AF_INET);
	assert_int_equal(g->addrs[0].prefixlen, 24);
	assert_int_equal(g->addrs[0].addr.v4.s_addr, htonl(0xc0000264));
	assert_string_equal(g->addrs[0].text, "192.0.2.100/24");
	assert_int_equal(g->n_prefer, 0);
	assert_int_equal(g->failback, CONFIG_FAILBACK_AUTO);
	assert_int_equal(g->failback_delay_ms, 0);
	assert_int_equal(g->n_checks, 0);
	config_free(c);
}

static void every_key(void **state)
{
	static const char text[] =
		"; a comment\n"
		"# another\n"
		"[fomgr]\n"
		"cpg_group = fomgr-test.1\n"
		"runtime_dir = /tmp/fomgr/\n"
		"state_dir = /tmp/fomgr-state\n"
		"health_ttl = 2m\n"
		"health_policy = fail\n"
		"garp_count = 3\n"
		"garp_interval = 1s\n"
		"require_crypto = yes\n"
		"[group db]\n"
		"interface = bond0.100\n"
		"address = 192.0.2.50/25\n"
		"address = 2001:db8:1::50/64\n"
		"address = 192.0.2.200/32\n"
		"prefer = node3, node1,node2\n"
		"failback = manual\n"
		"failback_delay = 90s\n"
		"checks = db_tcp  db-sql\tdisk.free\n";
	struct config *c = expect_ok(text, &three_nodes);
	const struct config_group *g = config_group_find(c, "db");
	struct in6_addr v6;

	assert_string_equal(c->cpg_group, "fomgr-test.1");
	assert_string_equal(c->runtime_dir, "/tmp/fomgr");
	assert_string_equal(c->state_dir, "/tmp/fomgr-state");
	assert_string_equal(c->health_socket, "/tmp/fomgr/health.sock");
	assert_int_equal(c->health_ttl_ms, 120000);
	assert_int_equal(c->health_policy, CONFIG_HEALTH_FAIL);
	assert_int_equal(c->garp_count, 3);
	assert_int_equal(c->garp_interval_ms, 1000);
	assert_int_equal(c->require_crypto, 1);
	assert_non_null(g);
	assert_string_equal(g->interface, "bond0.100");
	assert_int_equal(g->n_addrs, 3);
	assert_int_equal(g->addrs[1].family, AF_INET6);
	assert_int_equal(g->addrs[1].prefixlen, 64);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1::50", &v6), 1);
	assert_memory_equal(&g->addrs[1].addr.v6, &v6, sizeof(v6));
	assert_string_equal(g->addrs[1].text, "2001:db8:1::50/64");
	assert_int_equal(g->addrs[2].prefixlen, 32);
	assert_int_equal(g->n_prefer, 3);
	assert_string_equal(g->prefer[0], "node3");
	assert_string_equal(g->prefer[1], "node1");
	assert_string_equal(g->prefer[2], "node2");
	assert_int_equal(g->failback, CONFIG_FAILBACK_MANUAL);
	assert_int_equal(g->failback_delay_ms, 90000);
	assert_int_equal(g->n_checks, 3);
	assert_string_equal(g->checks[0], "db_tcp");
	assert_string_equal(g->checks[1], "db-sql");
	assert_string_equal(g->checks[2], "disk.free");
	config_free(c);
}

static void explicit_health_socket_and_bools(void **state)
{
	struct config *c = expect_ok(F "health_socket = /run/h.sock\nrequire_crypto = off\n"
					 "health_ttl = 100ms\ngarp_interval = 10ms\n", NULL);

	assert_string_equal(c->health_socket, "/run/h.sock");
	assert_int_equal(c->require_crypto, 0);
	assert_int_equal(c->health_ttl_ms, 100);
	assert_int_equal(c->garp_interval_ms, 10);
	config_free(c);
	c = expect_ok(F "require_crypto = true\nhealth_ttl = 10m\n", NULL);
	assert_int_equal(c->require_crypto, 1);
	assert_int_equal(c->health_ttl_ms, 600000);
	config_free(c);
}

/* Comments, indentation, CRLF, a BOM, ':' as separator, no final newline. */
static void syntax_variants(void **state)
{
	static const char text[] =
		"\xEF\xBB\xBF[group  web ]   ; trailing comment\r\n"
		"    interface = eth0\r\n"
		"\taddress: 192.0.2.100/24 ; the VIP\r\n"
		"  # indented comment\r\n"
		"  checks = a;b_is_not_a_comment_but_a_bad_name\r\n"
		"\r\n"
		"   \n"
		"[fomgr]\n"
		"garp_count=7";
	struct cfgfile_errors errors;
	struct config *c = parse(text, NULL, &errors);

	/* ';' without whitespace before it is part of the value, as in inih. */
	assert_null(c);
	assert_int_equal(errors.n, 1);
	assert_int_equal(errors.items[0].line, 5);
	assert_string_equal(errors.items[0].message,
			    "bad check name 'a;b_is_not_a_comment_but_a_bad_name': 1 to 63 of A-Z a-z 0-9 _ . -");

	c = expect_ok("\xEF\xBB\xBF[group  web ]   ; trailing comment\r\n"
		      "    interface = eth0\r\n"
		      "\taddress: 192.0.2.100/24 ; the VIP\r\n"
		      "  checks = a ;b\r\n"
		      "[fomgr]\n"
		      "garp_count=7", NULL);
	assert_string_equal(c->groups[0].name, "web");
	assert_string_equal(c->groups[0].interface, "eth0");
	assert_string_equal(c->groups[0].addrs[0].text, "192.0.2.100/24");
	assert_int_equal(c->groups[0].n_checks, 1);
	assert_string_equal(c->groups[0].checks[0], "a");
	assert_int_equal(c->garp_count, 7);
	config_free(c);
}

/* inih would treat an indented line after a key as a continuation of that key's
 * value; here indentation is only indentation. */
static void no_continuation_lines(void **state)
{
	struct config *c = expect_ok("[group web]\n  interface = eth0\n  address = 192.0.2.100/24\n"
				     "  address = 192.0.2.101/24\n  failback = manual\n", NULL);

	assert_int_equal(c->groups[0].n_addrs, 2);
	assert_int_equal(c->groups[0].failback, CONFIG_FAILBACK_MANUAL);
	config_free(c);
}

/* A key line longer than Debian's inih accepts (200 bytes) but within
 * CONFIG_MAX_LINE is split by the reader itself, with the same rules. */
static void long_lines(void **state)
{
	char text[4096] = G "checks =";
	char group[200];
	struct config *c;

	for (int i = 0; i < 30; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), " check_number_%02d", i);
	strcat(text, "   ; and a comment\n");
	/* a group name longer than inih's 50-byte section buffer */
	snprintf(group, sizeof(group), "[group %s]\ninterface = eth1\naddress = 192.0.2.1/24\n",
		 "a23456789012345678901234567890123456789012345678901234567890123");
	strcat(text, group);
	c = expect_ok(text, NULL);
	assert_int_equal(c->groups[0].n_checks, 30);
	assert_string_equal(c->groups[0].checks[29], "check_number_29");
	assert_int_equal(c->n_groups, 2);
	assert_int_equal(strlen(c->groups[1].name), 63);
	config_free(c);
}

static void max_line_is_allowed(void **state)
{
	char text[2048];
	struct config *c;

	memset(text, 0, sizeof(text));
	memcpy(text, G, strlen(G));
	text[strlen(G)] = ';';
	memset(text + strlen(G) + 1, 'x', CONFIG_MAX_LINE - 1); /* a comment of exactly CONFIG_MAX_LINE bytes */
	strcat(text, "\n");
	c = expect_ok(text, NULL);
	config_free(c);
	/* A blank line of exactly CONFIG_MAX_LINE bytes: nothing is read past its end
	 * (the comment stripper did, one byte, unseen while the line buffer sat inside
	 * a larger struct). */
	memset(text + strlen(G), ' ', CONFIG_MAX_LINE);
	text[strlen(G) + CONFIG_MAX_LINE] = '\0';
	c = expect_ok(text, NULL);
	config_free(c);
}

static void digest(void **state)
{
	static const uint8_t want[32] = {
		0xe5, 0x51, 0x6a, 0x2d, 0x05, 0xbf, 0xab, 0x5f, 0x37, 0x54, 0x58, 0xc8, 0xcb, 0xfd, 0x2e, 0x89,
		0x18, 0xf6, 0x47, 0x2c, 0x82, 0x0f, 0xda, 0x2c, 0x24, 0xcf, 0x9d, 0x3f, 0xd7, 0x5f, 0x5c, 0x3d,
	};
	struct config *a = expect_ok(G, NULL), *b = expect_ok(G "; a comment changes the digest\n", NULL);

	assert_memory_equal(a->digest, want, sizeof(want));
	assert_memory_not_equal(a->digest, b->digest, sizeof(want));
	config_free(a);
	config_free(b);
}

/* ---- the example files ---- */

static struct config *load_example(const char *name, const struct config_nodelist *nodes)
{
	char path[4096];
	struct cfgfile_errors errors;
	struct config *c;

	snprintf(path, sizeof(path), "%s/%s", FO_CONF_DIR, name);
	c = config_load(path, nodes, &errors);
	if (!c) {
		char buf[16384];

		print_message("%s", cfgfile_errors_format(&errors, path, buf, sizeof(buf)));
	}
	assert_non_null(c);
	assert_string_equal(c->path, path);
	return c;
}

static void example_reference(void **state)
{
	struct config *c = load_example("fomgr.conf.example", &three_nodes);

	assert_int_equal(c->n_groups, 1);
	assert_int_equal(c->groups[0].n_addrs, 2);
	assert_string_equal(c->health_socket, "/run/fomgr/health.sock");
	config_free(c);
}

static void example_active_passive(void **state)
{
	struct config *c = load_example("fomgr-3node-active-passive.conf", &three_nodes);
	const struct config_group *g = config_group_find(c, "web");

	assert_int_equal(c->n_groups, 1);
	assert_non_null(g);
	assert_int_equal(g->n_prefer, 3);
	assert_string_equal(g->prefer[0], "node1");
	assert_int_equal(g->failback_delay_ms, 30000);
	assert_int_equal(c->health_policy, CONFIG_HEALTH_FAIL);
	config_free(c);
}

static void example_active_active(void **state)
{
	struct config *c = load_example("fomgr-3node-active-active.conf", &three_nodes);

	assert_int_equal(c->n_groups, 3);
	/* every node is first for exactly one group */
	for (size_t i = 0; i < 3; i++)
		for (size_t j = i + 1; j < 3; j++)
			assert_string_not_equal(c->groups[i].prefer[0], c->groups[j].prefer[0]);
	config_free(c);
}

static void example_two_node(void **state)
{
	static const struct config_nodelist two = {.n_nodes = 2, .nodes = {{1, "node1"}, {2, "node2"}}};
	struct config *c = load_example("fomgr-2node.conf", &two);

	assert_int_equal(c->n_groups, 1);
	assert_int_equal(c->groups[0].failback, CONFIG_FAILBACK_MANUAL);
	config_free(c);
}

/* ---- errors: each message and its line ---- */

struct error_case {
	const char *text;
	unsigned line;
	const char *message;
};

static const struct error_case sections[] = {
	{"[foo]\n" G, 1, "unknown section [foo] (expected [fomgr], [audit] or [group NAME])"},
	{G "[groups web2]\n", 4, "unknown section [groups web2] (expected [fomgr], [audit] or [group NAME])"},
	{G "[group]\n", 4, "missing group name in [group]"},
	{G "[group w b]\n", 4, "bad group name 'w b': 1 to 63 of A-Z a-z 0-9 _ . -"},
	{G "[group w/b]\n", 4, "bad group name 'w/b': 1 to 63 of A-Z a-z 0-9 _ . -"},
	{G "[group a234567890123456789012345678901234567890123456789012345678901234]\n", 4,
	 "bad group name 'a234567890123456789012345678901234567890123456789012345678901234': 1 to 63 of A-Z "
	 "a-z 0-9 _ . -"},
	{G "\n[group web]\n", 5, "duplicate group 'web' (first on line 1)"},
	{"[fomgr]\n" G "[fomgr]\n", 5, "duplicate section [fomgr] (first on line 1)"},
	{G "[fomgr\n", 4, "section header without closing ']'"},
	{G "[fomgr] x\n", 4, "unexpected text after section header"},
	{"interface = eth0\n" G, 1, "key 'interface' outside any section"},
	{"", 0, "no [group NAME] section: nothing to fail over"},
	{"[fomgr]\n", 0, "no [group NAME] section: nothing to fail over"},
};

static const struct error_case keys[] = {
	{F "foo = 1\n", 5, "unknown key 'foo' in [fomgr]"},
	{G "foo = 1\n", 4, "unknown key 'foo' in [group web]"},
	{F "interface = eth0\n", 5, "unknown key 'interface' in [fomgr] (it belongs in [group NAME])"},
	{G "garp_count = 3\n", 4, "unknown key 'garp_count' in [group web] (it belongs in [fomgr])"},
	{G "Interface = eth1\n", 4, "unknown key 'Interface' in [group web]"},
	{G "interface = eth1\n", 4, "duplicate key 'interface' (first set on line 2)"},
	{F "garp_count = 3\ngarp_count = 4\n", 6, "duplicate key 'garp_count' (first set on line 5)"},
	{G "prefer = a\nprefer = b\n", 5, "duplicate key 'prefer' (first set on line 4)"},
	{G "checks =\n", 4, "missing value for 'checks'"},
	{G "garbage\n", 4, "expected 'key = value' or '[section]'"},
	{G "foo ;= bar\n", 4, "expected 'key = value' or '[section]'"},
	{G "= x\n", 4, "unknown key '' in [group web]"},
};

static const struct error_case values[] = {
	{F "cpg_group = a b\n", 5, "bad cpg_group 'a b': 1 to 63 of A-Z a-z 0-9 _ . -"},
	{F "runtime_dir = run/fomgr\n", 5, "bad runtime_dir 'run/fomgr': not an absolute path"},
	{F "state_dir = /var/\x01x\n", 5, "bad state_dir: control character in path"},
	{F "health_socket = /run/fomgr/0123456789012345678901234567890123456789012345678901234567890123456789"
	   "012345678901234567890123456789.sock\n", 5, "bad health_socket: longer than 107 bytes"},
	{F "health_ttl = 5\n", 5, "bad health_ttl '5': use an integer and a unit: ms, s or m (e.g. 5s)"},
	{F "health_ttl = 5h\n", 5, "bad health_ttl '5h': use an integer and a unit: ms, s or m (e.g. 5s)"},
	{F "health_ttl = 1.5s\n", 5, "bad health_ttl '1.5s': use an integer and a unit: ms, s or m (e.g. 5s)"},
	{F "health_ttl = -1s\n", 5, "bad health_ttl '-1s': use an integer and a unit: ms, s or m (e.g. 5s)"},
	{F "health_ttl = 5 s\n", 5, "bad health_ttl '5 s': use an integer and a unit: ms, s or m (e.g. 5s)"},
	{F "health_ttl = 99ms\n", 5, "health_ttl '99ms' out of range (100ms to 10m)"},
	{F "health_ttl = 0\n", 5, "health_ttl '0' out of range (100ms to 10m)"},
	{F "health_ttl = 601s\n", 5, "health_ttl '601s' out of range (100ms to 10m)"},
	{F "health_ttl = 9999999999ms\n", 5, "health_ttl '9999999999ms' out of range (100ms to 10m)"},
	{F "garp_interval = 11s\n", 5, "garp_interval '11s' out of range (10ms to 10s)"},
	{F "arp_probe = 2s\n", 5, "arp_probe '2s' out of range (0s to 1s)"},
	{G "failback_delay = 1441m\n", 4, "failback_delay '1441m' out of range (0s to 1440m)"},
	{F "health_policy = drop\n", 5, "bad health_policy 'drop': expected keep or fail"},
	{G "failback = Auto\n", 4, "bad failback 'Auto': expected auto or manual"},
	{F "require_crypto = maybe\n", 5, "bad require_crypto 'maybe': expected yes or no"},
	{F "garp_count = 2\n", 5, "garp_count '2' out of range (3 to 100)"},
	{F "garp_count = 101\n", 5, "garp_count '101' out of range (3 to 100)"},
	{F "garp_count = 5x\n", 5, "bad garp_count '5x': not a number"},
	{F "garp_count = -3\n", 5, "bad garp_count '-3': not a number"},
};

static const struct error_case interfaces[] = {
	{"[group web]\ninterface = eth0:1\naddress = 192.0.2.1/24\n", 2,
	 "bad interface name 'eth0:1': 1 to 15 characters, no '/', ':' or spaces"},
	{"[group web]\ninterface = abcdefghijklmnop\naddress = 192.0.2.1/24\n", 2,
	 "bad interface name 'abcdefghijklmnop': 1 to 15 characters, no '/', ':' or spaces"},
	{"[group web]\ninterface = ..\naddress = 192.0.2.1/24\n", 2,
	 "bad interface name '..': 1 to 15 characters, no '/', ':' or spaces"},
	{"[group web]\ninterface = a/b\naddress = 192.0.2.1/24\n", 2,
	 "bad interface name 'a/b': 1 to 15 characters, no '/', ':' or spaces"},
	{"[group web]\naddress = 192.0.2.1/24\n", 1, "group 'web' has no interface"},
	{"[group web]\ninterface = eth0\n", 1, "group 'web' has no address"},
};

static const struct error_case addresses[] = {
	{G "address = 192.0.2.300/24\n", 4, "bad address '192.0.2.300/24': not an IPv4 or IPv6 address"},
	{G "address = web.example/24\n", 4, "bad address 'web.example/24': not an IPv4 or IPv6 address"},
	{G "address = 192.0.2.1 /24\n", 4, "bad address '192.0.2.1 /24': not an IPv4 or IPv6 address"},
	{G "address = 192.0.2.1\n", 4, "bad address '192.0.2.1': missing prefix length (e.g. 192.0.2.100/24)"},
	{G "address = 2001:db8::1\n", 4,
	 "bad address '2001:db8::1': missing prefix length (e.g. 2001:db8::100/64)"},
	{G "address = 192.0.2.1/33\n", 4, "bad address '192.0.2.1/33': prefix length must be 1 to 32"},
	{G "address = 192.0.2.1/0\n", 4, "bad address '192.0.2.1/0': prefix length must be 1 to 32"},
	{G "address = 192.0.2.1/024\n", 4, "bad address '192.0.2.1/024': prefix length must be 1 to 32"},
	{G "address = 192.0.2.1/\n", 4, "bad address '192.0.2.1/': prefix length must be 1 to 32"},
	{G "address = 192.0.2.1/2x\n", 4, "bad address '192.0.2.1/2x': prefix length must be 1 to 32"},
	{G "address = 2001:db8::1/129\n", 4, "bad address '2001:db8::1/129': prefix length must be 1 to 128"},
	{G "address = 192.0.2.0/24\n", 4, "bad address '192.0.2.0/24': network address not allowed"},
	{G "address = 192.0.2.255/24\n", 4, "bad address '192.0.2.255/24': broadcast address not allowed"},
	{G "address = 192.0.2.127/25\n", 4, "bad address '192.0.2.127/25': broadcast address not allowed"},
	{G "address = 224.0.0.18/24\n", 4, "bad address '224.0.0.18/24': not a unicast address"},
	{G "address = 127.0.0.2/8\n", 4, "bad address '127.0.0.2/8': not a unicast address"},
	{G "address = 0.0.0.1/8\n", 4, "bad address '0.0.0.1/8': not a unicast address"},
	{G "address = ::1/128\n", 4, "bad address '::1/128': not a unicast address"},
	{G "address = ff02::1/64\n", 4, "bad address 'ff02::1/64': not a unicast address"},
	{G "address = 2001:db8::/64\n", 4, "bad address '2001:db8::/64': subnet-router anycast address not allowed"},
	{G "address = 192.0.2.100/25\n", 4, "duplicate address '192.0.2.100/25' (already in group 'web' on line 3)"},
	{G "[group api]\ninterface = eth0\naddress = 192.0.2.100/24\n", 6,
	 "duplicate address '192.0.2.100/24' (already in group 'web' on line 3)"},
	{"[group web]\ninterface = eth0\naddress = 2001:db8::1/64\n[group api]\ninterface = eth1\n"
	 "address = 2001:DB8:0::1/64\n", 6, "duplicate address '2001:DB8:0::1/64' (already in group 'web' on line 3)"},
};

static const struct error_case names[] = {
	{G "prefer = node1 node4\n", 4, "unknown node 'node4' (corosync nodelist has: node1 node2 node3)"},
	{G "prefer = node1 node2 node1\n", 4, "duplicate node 'node1'"},
	{G "prefer = node1 no*de\n", 4, "bad node name 'no*de': 1 to 63 of A-Z a-z 0-9 _ . -"},
	{G "checks = a b a\n", 4, "duplicate check 'a'"},
	{G "checks = a,b?\n", 4, "bad check name 'b?': 1 to 63 of A-Z a-z 0-9 _ . -"},
};

static void run_cases(const struct error_case *cases, size_t n, const struct config_nodelist *nodes)
{
	for (size_t i = 0; i < n; i++)
		expect_error(cases[i].text, nodes, cases[i].line, cases[i].message);
}

#define RUN_CASES(cases, nodes) run_cases(cases, sizeof(cases) / sizeof(cases[0]), nodes)

static void section_errors(void **state)
{
	RUN_CASES(sections, NULL);
}

static void key_errors(void **state)
{
	RUN_CASES(keys, NULL);
}

static void value_errors(void **state)
{
	RUN_CASES(values, NULL);
}

static void interface_errors(void **state)
{
	RUN_CASES(interfaces, NULL);
}

static void address_errors(void **state)
{
	RUN_CASES(addresses, NULL);
}

static void name_list_errors(void **state)
{
	RUN_CASES(names, &three_nodes);
}

/* Without a nodelist node names are not checked; with an empty one all are unknown. */
static void nodelist_optional(void **state)
{
	static const struct config_nodelist none = {0};
	struct config *c = expect_ok(G "prefer = anything else\n", NULL);

	assert_int_equal(c->groups[0].n_prefer, 2);
	config_free(c);
	expect_error(G "prefer = node1\n", &none, 4, "unknown node 'node1' (corosync nodelist is empty)");
}

static void unknown_node_long_nodelist(void **state)
{
	struct config_nodelist many = {.n_nodes = CONFIG_MAX_NODES};
	struct cfgfile_errors errors;

	for (size_t i = 0; i < CONFIG_MAX_NODES; i++) {
		many.nodes[i].nodeid = (uint32_t)i + 1;
		snprintf(many.nodes[i].name, sizeof(many.nodes[i].name), "node-with-a-long-name-%02zu", i);
	}
	assert_null(parse(G "prefer = x\n", &many, &errors));
	assert_int_equal(errors.n, 1);
	assert_int_equal(errors.items[0].line, 4);
	assert_string_equal(errors.items[0].message,
			    "unknown node 'x' (corosync nodelist has: node-with-a-long-name-00 node-with-a-long-name-01 "
			    "node-with-a-long-name-02 node-with-a-long-name-03 ...)");
}

static void line_errors(void **state)
{
	char text[4096];
	static const char nul[] = G "checks = a\0b\n";
	struct cfgfile_errors errors;

	snprintf(text, sizeof(text), G ";%0*d\n", CONFIG_MAX_LINE, 0); /* CONFIG_MAX_LINE + 1 bytes */
	expect_error(text, NULL, 4, "line too long (more than 1024 bytes)");
	/* the line after an over-long one is still parsed */
	snprintf(text, sizeof(text), G ";%0*d\nfoo = 1\n", 2000, 0);
	{
		const struct expected_error e[] = {{4, "line too long (more than 1024 bytes)"},
						   {5, "unknown key 'foo' in [group web]"}};

		expect_errors(text, NULL, e, 2);
	}
	assert_null(config_parse_buffer("nul", nul, sizeof(nul) - 1, NULL, &errors));
	assert_int_equal(errors.n, 1);
	assert_int_equal(errors.items[0].line, 4);
	assert_string_equal(errors.items[0].message, "NUL byte in line");
}

/* Messages are kept up to CFGFILE_MESSAGE_MAX - 1 bytes (200 before the engine was
 * shared with the agent), so a long refused value is quoted whole. */
static void long_value_quoted_whole(void **state)
{
	char text[1024], value[161], message[CFGFILE_MESSAGE_MAX];

	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	snprintf(text, sizeof(text), G "failback_delay = %s\n", value);
	snprintf(message, sizeof(message), "bad failback_delay '%s': use an integer and a unit: ms, s or m (e.g. 5s)",
		 value);
	assert_true(strlen(message) > 200);
	expect_error(text, NULL, 4, message);
}

static void path_errors(void **state)
{
	char text[1024];

	/* 100 bytes: fine as runtime_dir, too long with "/health.sock" for sun_path */
	static const struct expected_error both[] = {
		{5, "runtime_dir too long for the default health_socket; set health_socket"},
		{5, "runtime_dir too long for the default control_socket; set control_socket"},
	};

	snprintf(text, sizeof(text), F "runtime_dir = /%099d\n", 0);
	expect_errors(text, NULL, both, 2);
	snprintf(text, sizeof(text), F "runtime_dir = /%099d\nhealth_socket = /run/h.sock\n"
				       "control_socket = /run/c.sock\n", 0);
	config_free(expect_ok(text, NULL));
}

static void limits(void **state)
{
	char text[32768] = "[group web]\ninterface = eth0\n";
	size_t n;

	for (int i = 1; i <= CONFIG_MAX_ADDRS + 1; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "address = 2001:db8::%x/64\n", i);
	expect_error(text, NULL, 3 + CONFIG_MAX_ADDRS, "too many addresses in group 'web' (at most 256)");

	snprintf(text, sizeof(text), G "checks =");
	for (int i = 0; i <= CONFIG_MAX_CHECKS; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), " c%d", i);
	strcat(text, "\n");
	expect_error(text, NULL, 4, "too many checks in group 'web' (at most 32)");

	snprintf(text, sizeof(text), G "prefer =");
	for (int i = 0; i <= CONFIG_MAX_NODES; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), " n%d", i);
	strcat(text, "\n");
	expect_error(text, NULL, 4, "too many nodes in group 'web' (at most 32)");

	text[0] = '\0';
	for (int i = 0; i <= CONFIG_MAX_GROUPS; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "[group g%d]\ninterface = eth0\naddress = 192.0.2.%d/32\n", i, i + 1);
	n = 3 * CONFIG_MAX_GROUPS + 1;
	expect_error(text, NULL, (unsigned)n, "too many groups (at most 64)");
}

/* Every error is collected, in line order, including the ones found at the end. */
static void many_errors_at_once(void **state)
{
	static const char text[] =
		"garp_count = 1\n"                 /* 1 */
		"[group web]\n"                    /* 2: no interface */
		"address = 192.0.2.1\n"            /* 3 */
		"failback = sometimes\n"           /* 4 */
		"[fomgr]\n"                        /* 5 */
		"health_ttl = 5\n"                 /* 6 */
		"health_ttl = 5s\n"                /* 7 */
		"[group web]\n"                    /* 8 */
		"interface = eth0\n"               /* 9: skipped with its section */
		"[group db]\n"                     /* 10: no address */
		"interface = eth1\n"               /* 11 */
		"prefer = node1 nodeX\n";          /* 12 */
	static const struct expected_error e[] = {
		{1, "key 'garp_count' outside any section"},
		{2, "group 'web' has no interface"},
		{3, "bad address '192.0.2.1': missing prefix length (e.g. 192.0.2.100/24)"},
		{4, "bad failback 'sometimes': expected auto or manual"},
		{6, "bad health_ttl '5': use an integer and a unit: ms, s or m (e.g. 5s)"},
		{7, "duplicate key 'health_ttl' (first set on line 6)"},
		{8, "duplicate group 'web' (first on line 2)"},
		{10, "group 'db' has no address"},
		{12, "unknown node 'nodeX' (corosync nodelist has: node1 node2 node3)"},
	};

	expect_errors(text, &three_nodes, e, sizeof(e) / sizeof(e[0]));
}

static void too_many_errors(void **state)
{
	char text[8192] = G;
	struct cfgfile_errors errors;

	for (int i = 0; i < 100; i++)
		strcat(text, "bad\n");
	assert_null(parse(text, NULL, &errors));
	assert_int_equal(errors.n, CFGFILE_MAX_ERRORS);
	assert_int_equal(errors.items[0].line, 4);
	assert_int_equal(errors.items[CFGFILE_MAX_ERRORS - 2].line, 4 + CFGFILE_MAX_ERRORS - 2);
	assert_int_equal(errors.items[CFGFILE_MAX_ERRORS - 1].line, 0);
	assert_string_equal(errors.items[CFGFILE_MAX_ERRORS - 1].message,
			    "too many errors; only the first 63 are shown");
}

/* ---- the rest of the API ---- */

static void errors_format(void **state)
{
	struct cfgfile_errors errors = {.n = 2, .items = {{3, "bad thing"}, {0, "whole file"}}};
	char buf[256], small[12];

	assert_string_equal(cfgfile_errors_format(&errors, "/etc/fomgr.conf", buf, sizeof(buf)),
			    "/etc/fomgr.conf:3: bad thing\n/etc/fomgr.conf: whole file\n");
	assert_string_equal(cfgfile_errors_format(&errors, "/etc/fomgr.conf", small, sizeof(small)), "/etc/fomgr.");
	errors.n = 0;
	assert_string_equal(cfgfile_errors_format(&errors, "x", buf, sizeof(buf)), "");
}

static void load_errors(void **state)
{
	char path[] = "/tmp/test_config_XXXXXX";
	struct cfgfile_errors errors;
	int fd = mkstemp(path);
	char *big = calloc(1, 1024 * 1024 + 1);

	assert_null(config_load("/nonexistent/fomgr.conf", NULL, &errors));
	assert_int_equal(errors.n, 1);
	assert_int_equal(errors.items[0].line, 0);
	assert_string_equal(errors.items[0].message, "cannot read: No such file or directory");

	assert_true(fd >= 0);
	assert_non_null(big);
	memset(big, '\n', 1024 * 1024 + 1);
	assert_int_equal(write(fd, big, 1024 * 1024 + 1), 1024 * 1024 + 1);
	assert_null(config_load(path, NULL, &errors));
	assert_int_equal(errors.n, 1);
	assert_string_equal(errors.items[0].message, "file too large (more than 1048576 bytes)");

	/* exactly the limit is read (and refused only for having no group) */
	assert_int_equal(ftruncate(fd, 1024 * 1024), 0);
	assert_null(config_load(path, NULL, &errors));
	assert_int_equal(errors.n, 1);
	assert_string_equal(errors.items[0].message, "no [group NAME] section: nothing to fail over");
	close(fd);
	unlink(path);
	free(big);
}

/* ---- operators' keys: control socket, status server, hooks ---- */

static void operator_defaults(void **state)
{
	struct config *c = expect_ok(G, NULL);

	assert_string_equal(c->control_socket, "/run/fomgr/control.sock");
	assert_string_equal(c->admin_group, "");
	assert_string_equal(c->view_group, "");
	assert_int_equal(c->status_listen.family, AF_INET);
	assert_string_equal(c->status_listen.addr, "127.0.0.1");
	assert_int_equal(c->status_listen.port, 9900);
	assert_int_equal(c->status_listen.loopback, 1);
	assert_string_equal(c->status_listen.text, "127.0.0.1:9900");
	assert_string_equal(c->status_tls_cert, "");
	assert_string_equal(c->notify_hook, "");
	assert_int_equal(c->notify_timeout_ms, 10000);
	config_free(c);
	/* the default socket follows runtime_dir */
	c = expect_ok(F "runtime_dir = /tmp/fo/\n", NULL);
	assert_string_equal(c->control_socket, "/tmp/fo/control.sock");
	config_free(c);
}

static void operator_every_key(void **state)
{
	struct config *c = expect_ok(F "control_socket = /run/x/ctl.sock\n"
				       "admin_group = fomgr-admin\n"
				       "view_group = wheel.view\n"
				       "status_listen = [2001:db8::1]:8443\n"
				       "status_tls_cert = /etc/fomgr/s.crt\n"
				       "status_tls_key = /etc/fomgr/s.key\n"
				       "status_tls_client_ca = /etc/fomgr/ca.crt\n"
				       "notify_hook = /usr/local/lib/fomgr/notify\n"
				       "notify_timeout = 250ms\n",
				     NULL);

	assert_string_equal(c->control_socket, "/run/x/ctl.sock");
	assert_string_equal(c->admin_group, "fomgr-admin");
	assert_string_equal(c->view_group, "wheel.view");
	assert_int_equal(c->status_listen.family, AF_INET6);
	assert_string_equal(c->status_listen.addr, "2001:db8::1");
	assert_int_equal(c->status_listen.port, 8443);
	assert_int_equal(c->status_listen.loopback, 0);
	assert_string_equal(c->status_listen.text, "[2001:db8::1]:8443");
	assert_string_equal(c->status_tls_cert, "/etc/fomgr/s.crt");
	assert_string_equal(c->status_tls_key, "/etc/fomgr/s.key");
	assert_string_equal(c->status_tls_client_ca, "/etc/fomgr/ca.crt");
	assert_string_equal(c->notify_hook, "/usr/local/lib/fomgr/notify");
	assert_int_equal(c->notify_timeout_ms, 250);
	config_free(c);

	c = expect_ok(F "status_listen = off\nnotify_timeout = 10m\n", NULL);
	assert_int_equal(c->status_listen.family, 0);
	assert_int_equal(c->notify_timeout_ms, 600000);
	config_free(c);
	c = expect_ok(F "status_listen = [::1]:1\n", NULL);
	assert_int_equal(c->status_listen.loopback, 1);
	assert_int_equal(c->status_listen.port, 1);
	config_free(c);
	c = expect_ok(F "status_listen = 127.1.2.3:65535\n", NULL);
	assert_int_equal(c->status_listen.loopback, 1);
	config_free(c);
}

static void operator_errors(void **state)
{
	char text[1024];

	expect_error(F "admin_group = bad/name\n", NULL, 5,
		     "bad admin_group 'bad/name': 1 to 63 of A-Z a-z 0-9 _ . -");
	expect_error(F "view_group = \n", NULL, 5, "missing value for 'view_group'");
	expect_error(F "control_socket = run/ctl.sock\n", NULL, 5,
		     "bad control_socket 'run/ctl.sock': not an absolute path");
	snprintf(text, sizeof(text), F "control_socket = /%0107d\n", 0);
	expect_error(text, NULL, 5, "bad control_socket: longer than 107 bytes");
	/* 100 bytes with a health_socket set: too long for the default control_socket */
	snprintf(text, sizeof(text), F "runtime_dir = /%099d\nhealth_socket = /run/h.sock\n", 0);
	expect_error(text, NULL, 5, "runtime_dir too long for the default control_socket; set control_socket");
	snprintf(text, sizeof(text), F "runtime_dir = /%099d\nhealth_socket = /h\ncontrol_socket = /c\n", 0);
	config_free(expect_ok(text, NULL));
	expect_error(F "status_listen = 9900\n", NULL, 5,
		     "bad status_listen '9900': expected ADDR:PORT, [IPV6]:PORT or off");
	expect_error(F "status_listen = localhost:9900\n", NULL, 5,
		     "bad status_listen 'localhost:9900': expected ADDR:PORT, [IPV6]:PORT or off");
	expect_error(F "status_listen = ::1:9900\n", NULL, 5,
		     "bad status_listen '::1:9900': expected ADDR:PORT, [IPV6]:PORT or off");
	expect_error(F "status_listen = [::1]\n", NULL, 5,
		     "bad status_listen '[::1]': expected ADDR:PORT, [IPV6]:PORT or off");
	expect_error(F "status_listen = 127.0.0.1:0\n", NULL, 5,
		     "bad status_listen '127.0.0.1:0': port must be 1 to 65535");
	expect_error(F "status_listen = 127.0.0.1:65536\n", NULL, 5,
		     "bad status_listen '127.0.0.1:65536': port must be 1 to 65535");
	expect_error(F "status_listen = 127.0.0.1:\n", NULL, 5,
		     "bad status_listen '127.0.0.1:': port must be 1 to 65535");
	expect_error(F "notify_timeout = 50ms\n", NULL, 5, "notify_timeout '50ms' out of range (100ms to 10m)");
	expect_error(F "notify_hook = notify.sh\n", NULL, 5, "bad notify_hook 'notify.sh': not an absolute path");
	expect_error(G "admin_group = x\n", NULL, 4,
		     "unknown key 'admin_group' in [group web] (it belongs in [fomgr])");
}

/* Beyond loopback only with TLS and a client CA; the three TLS keys go together. */
static void operator_status_tls(void **state)
{
	expect_error(F "\nstatus_listen = 192.0.2.11:9900\n", NULL, 6,
		     "status_listen '192.0.2.11:9900' is beyond loopback: set status_tls_cert, status_tls_key "
		     "and status_tls_client_ca");
	expect_error(F "status_listen = [::]:9900\n", NULL, 5,
		     "status_listen '[::]:9900' is beyond loopback: set status_tls_cert, status_tls_key "
		     "and status_tls_client_ca");
	expect_error(F "status_tls_key = /k\nstatus_tls_cert = /c\n", NULL, 5,
		     "status_tls_cert, status_tls_key and status_tls_client_ca go together");
	expect_error(F "status_listen = 0.0.0.0:9900\nstatus_tls_client_ca = /ca\n", NULL, 6,
		     "status_tls_cert, status_tls_key and status_tls_client_ca go together");
	config_free(expect_ok(F "status_listen = 0.0.0.0:9900\nstatus_tls_client_ca = /ca\n"
				"status_tls_cert = /c\nstatus_tls_key = /k\n", NULL));
	/* TLS on loopback is allowed too */
	config_free(expect_ok(F "status_tls_client_ca = /ca\nstatus_tls_cert = /c\nstatus_tls_key = /k\n", NULL));
}

static void misc_api(void **state)
{
	struct config *c = expect_ok(G "[group db]\ninterface = eth0\naddress = 192.0.2.101/24\n", NULL);

	assert_ptr_equal(config_group_find(c, "db"), &c->groups[1]);
	assert_null(config_group_find(c, "nope"));
	assert_null(config_group_find(NULL, "db"));
	assert_string_equal(config_failback_str(CONFIG_FAILBACK_AUTO), "auto");
	assert_string_equal(config_failback_str(CONFIG_FAILBACK_MANUAL), "manual");
	assert_string_equal(config_failback_str(CONFIG_FAILBACK_MAX), "invalid");
	config_free(c);
	config_free(NULL);
	/* errors may be NULL; data may be NULL when len is 0 */
	assert_null(config_parse_buffer("x", NULL, 0, NULL, NULL));
	c = config_parse_buffer(NULL, G, strlen(G), NULL, NULL);
	assert_non_null(c);
	assert_string_equal(c->path, "");
	config_free(c);
}

/* ---- [audit] ---- */

#define A G "[audit]\n" /* a key appended to A is on line 5 */

static void audit_defaults(void **state)
{
	struct config *c = expect_ok(G, NULL);

	assert_int_equal(c->audit.present, 0);
	assert_int_equal(c->audit.n_allow, 0);
	assert_int_equal(c->audit.n_closed, 0);
	assert_int_equal(c->audit.interval_ms, 60000);
	assert_string_equal(c->audit.log, "/var/log/fomgr/audit.log");
	assert_int_equal(c->audit.retention_days, 90);
	assert_int_equal(c->audit.retention_mb, 0);
	assert_int_equal(c->audit.policy, CONFIG_AUDIT_WARN);
	assert_int_equal(c->audit.probe, 1);
	assert_int_equal(c->audit.probe_rate, 20);
	assert_int_equal(c->audit.probe_timeout_ms, 1000);
	assert_string_equal(config_audit_policy_str(CONFIG_AUDIT_REFUSE), "refuse");
	assert_string_equal(config_audit_policy_str(CONFIG_AUDIT_POLICY_MAX), "invalid");
	config_free(c);
	c = expect_ok(A, NULL);
	assert_int_equal(c->audit.present, 1);
	config_free(c);
}

static void audit_every_key(void **state)
{
	static const char text[] = A
		"allow = tcp/22\n"
		"allow = tcp/7777@192.0.2.100\n"
		"allow = udp/5405 process=corosync\n"
		"allow = tcp/443@[2001:db8::100]  process=nginx\n"
		"allow = tcp/9900@::1\n"
		"must_be_closed = tcp/23\n"
		"must_be_closed = tcp/7777@192.0.2.1\n"
		"interval = 5m\n"
		"log = /tmp/fomgr/audit.log\n"
		"retention_days = 0\n"
		"retention_mb = 512\n"
		"policy = refuse\n"
		"probe = no\n"
		"probe_rate = 100\n"
		"probe_timeout = 250ms\n";
	struct config *c = expect_ok(text, NULL);
	const struct config_audit *a = &c->audit;
	struct in6_addr v6;

	assert_int_equal(a->n_allow, 5);
	assert_int_equal(a->allow[0].proto, IPPROTO_TCP);
	assert_int_equal(a->allow[0].port, 22);
	assert_int_equal(a->allow[0].family, 0);
	assert_string_equal(a->allow[0].process, "");
	assert_int_equal(a->allow[1].family, AF_INET);
	assert_int_equal(a->allow[1].addr.v4.s_addr, htonl(0xc0000264));
	assert_int_equal(a->allow[2].proto, IPPROTO_UDP);
	assert_int_equal(a->allow[2].port, 5405);
	assert_string_equal(a->allow[2].process, "corosync");
	assert_string_equal(a->allow[2].text, "udp/5405 process=corosync");
	assert_int_equal(a->allow[3].family, AF_INET6);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::100", &v6), 1);
	assert_memory_equal(&a->allow[3].addr.v6, &v6, sizeof(v6));
	assert_string_equal(a->allow[3].process, "nginx");
	assert_int_equal(a->allow[4].family, AF_INET6);
	assert_int_equal(a->n_closed, 2);
	assert_int_equal(a->closed[0].port, 23);
	assert_int_equal(a->closed[1].family, AF_INET);
	assert_int_equal(a->interval_ms, 300000);
	assert_string_equal(a->log, "/tmp/fomgr/audit.log");
	assert_int_equal(a->retention_days, 0);
	assert_int_equal(a->retention_mb, 512);
	assert_int_equal(a->policy, CONFIG_AUDIT_REFUSE);
	assert_int_equal(a->probe, 0);
	assert_int_equal(a->probe_rate, 100);
	assert_int_equal(a->probe_timeout_ms, 250);
	config_free(c);
	c = expect_ok(A "interval = 0\n", NULL);
	assert_int_equal(c->audit.interval_ms, 0);
	config_free(c);
}

static const struct error_case audits[] = {
	{A "allow = 22\n", 5, "bad allow '22': expected tcp/PORT or udp/PORT"},
	{A "allow = sctp/22\n", 5, "bad allow 'sctp/22': expected tcp/PORT or udp/PORT"},
	{A "allow = tcp/0\n", 5, "bad allow 'tcp/0': port must be 1 to 65535"},
	{A "allow = tcp/65536\n", 5, "bad allow 'tcp/65536': port must be 1 to 65535"},
	{A "allow = tcp/22x\n", 5, "bad allow 'tcp/22x': port must be 1 to 65535"},
	{A "allow = tcp/22@host\n", 5, "bad allow 'tcp/22@host': bad address after '@'"},
	{A "allow = tcp/22@192.0.2.0/24\n", 5, "bad allow 'tcp/22@192.0.2.0/24': bad address after '@'"},
	{A "allow = tcp/22 user=root\n", 5, "bad allow 'tcp/22 user=root': unknown option (expected process=NAME)"},
	{A "allow = tcp/22 process=\n", 5, "bad allow 'tcp/22 process=': process name must be 1 to 15 bytes"},
	{A "allow = tcp/22 process=a234567890123456\n", 5,
	 "bad allow 'tcp/22 process=a234567890123456': process name must be 1 to 15 bytes"},
	{A "allow = tcp/22 process=a process=b\n", 5, "bad allow 'tcp/22 process=a process=b': process= given twice"},
	{A "must_be_closed = tcp/23 process=telnetd\n", 5,
	 "bad must_be_closed 'tcp/23 process=telnetd': process= only applies to allow"},
	{A "allow = tcp/22\nallow = tcp/22\n", 6, "bad allow 'tcp/22': duplicate"},
	{A "allow = tcp/22\nmust_be_closed = tcp/22\n", 6, "bad must_be_closed 'tcp/22': also allowed"},
	{A "must_be_closed = tcp/22@192.0.2.1\nallow = tcp/22@192.0.2.1\n", 6,
	 "bad allow 'tcp/22@192.0.2.1': also in must_be_closed"},
	{A "interval = 500ms\n", 5, "interval '500ms' out of range (0 or 1s to 1440m)"},
	{A "interval = 25h\n", 5, "bad interval '25h': use an integer and a unit: ms, s or m (e.g. 5s)"},
	{A "log = audit.log\n", 5, "bad log 'audit.log': not an absolute path"},
	{A "policy = ignore\n", 5, "bad policy 'ignore': expected warn or refuse"},
	{A "probe_rate = 0\n", 5, "probe_rate '0' out of range (1 to 1000)"},
	{A "probe_timeout = 50ms\n", 5, "probe_timeout '50ms' out of range (100ms to 10s)"},
	{A "[audit]\n", 5, "duplicate section [audit] (first on line 4)"},
	{A "garp_count = 3\n", 5, "unknown key 'garp_count' in [audit] (it belongs in [fomgr])"},
	{A "address = 192.0.2.1/24\n", 5, "unknown key 'address' in [audit] (it belongs in [group NAME])"},
	{F "allow = tcp/22\n", 5, "unknown key 'allow' in [fomgr] (it belongs in [audit])"},
	{A "interval = 1m\ninterval = 2m\n", 6, "duplicate key 'interval' (first set on line 5)"},
};

static void audit_errors(void **state)
{
	RUN_CASES(audits, NULL);
}

static void audit_rule_limit(void **state)
{
	char text[8192];
	size_t used = (size_t)snprintf(text, sizeof(text), A);

	for (int i = 1; i <= CONFIG_MAX_AUDIT_RULES + 1; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "allow = tcp/%d\n", i);
	expect_error(text, NULL, 5 + CONFIG_MAX_AUDIT_RULES, "bad allow 'tcp/65': too many rules (at most 64)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(every_key),
		cmocka_unit_test(explicit_health_socket_and_bools),
		cmocka_unit_test(syntax_variants),
		cmocka_unit_test(no_continuation_lines),
		cmocka_unit_test(long_lines),
		cmocka_unit_test(max_line_is_allowed),
		cmocka_unit_test(digest),
		cmocka_unit_test(example_reference),
		cmocka_unit_test(example_active_passive),
		cmocka_unit_test(example_active_active),
		cmocka_unit_test(example_two_node),
		cmocka_unit_test(section_errors),
		cmocka_unit_test(key_errors),
		cmocka_unit_test(value_errors),
		cmocka_unit_test(interface_errors),
		cmocka_unit_test(address_errors),
		cmocka_unit_test(name_list_errors),
		cmocka_unit_test(nodelist_optional),
		cmocka_unit_test(unknown_node_long_nodelist),
		cmocka_unit_test(line_errors),
		cmocka_unit_test(long_value_quoted_whole),
		cmocka_unit_test(path_errors),
		cmocka_unit_test(limits),
		cmocka_unit_test(many_errors_at_once),
		cmocka_unit_test(too_many_errors),
		cmocka_unit_test(errors_format),
		cmocka_unit_test(load_errors),
		cmocka_unit_test(misc_api),
		cmocka_unit_test(operator_defaults),
		cmocka_unit_test(operator_every_key),
		cmocka_unit_test(operator_errors),
		cmocka_unit_test(operator_status_tls),
		cmocka_unit_test(audit_defaults),
		cmocka_unit_test(audit_every_key),
		cmocka_unit_test(audit_errors),
		cmocka_unit_test(audit_rule_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
