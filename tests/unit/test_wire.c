/* Peer message format: round trip, and every kind of malformed input refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "wire.h"

static struct wire_announce sample(void)
{
	struct wire_announce a;

	memset(&a, 0, sizeof(a));
	a.seq = 0x0102030405060708ull;
	a.flags = WIRE_F_LEAVING | WIRE_F_HEALTH_STALE | WIRE_F_REACH;
	for (int i = 0; i < 32; i++)
		a.config_digest[i] = (uint8_t)i;
	strcpy(a.version, "0.1.0 corosync-3.1.7");
	strcpy(a.held[a.n_held++], "web");
	strcpy(a.held[a.n_held++], "db_1");
	strcpy(a.failback_ready[a.n_ready++], "web");
	strcpy(a.checks[0].name, "http.web");
	a.checks[0].state = CHECK_FAILING;
	a.n_checks = 1;
	a.admin.epoch = 9;
	a.admin.origin = 2;
	strcpy(a.admin.standby[a.admin.n_standby++], "node3");
	strcpy(a.admin.pins[0].group, "web");
	strcpy(a.admin.pins[0].node, "node2");
	a.admin.n_pins = 1;
	memset(a.netstate.firewall, 0xfe, 32);
	memset(a.netstate.routes, 0x0e, 32);
	strcpy(a.netstate.corosync_version, "3.1.7");
	strcpy(a.netstate.kernel_version, "6.1.0-28-amd64");
	a.netstate.n_fw = 2;
	a.netstate.fw[0] = 0xdeadbeef;
	a.netstate.fw[1] = 7;
	strcpy(a.up[a.n_up++], "web");
	a.reach[a.n_reach++] = 2;
	a.reach[a.n_reach++] = 0x01020304u;
	return a;
}

/* Encodes a into buf, decodes it into b: the same announce. Returns the length. */
static int round_trip(const struct wire_announce *a, struct wire_announce *b, uint8_t *buf)
{
	enum wire_type type;
	int len = wire_encode_announce(a, buf, WIRE_MAX_SIZE);

	assert_true(len > 12);
	assert_int_equal(wire_decode(buf, (size_t)len, &type, b), 0);
	assert_int_equal(type, WIRE_ANNOUNCE);
	assert_memory_equal(a, b, sizeof(*a));
	return len;
}

static void roundtrip(void **state)
{
	struct wire_announce a = sample(), b;
	uint8_t buf[WIRE_MAX_SIZE];

	round_trip(&a, &b, buf);
	assert_true(wire_announce_holds(&b, "db_1"));
	assert_false(wire_announce_holds(&b, "db"));
	assert_true(wire_announce_ready(&b, "web"));
	assert_int_equal(wire_announce_check(&b, "http.web"), CHECK_FAILING);
	assert_int_equal(wire_announce_check(&b, "other"), CHECK_UNKNOWN);
	assert_true(wire_announce_reaches(&b, 2));
	assert_true(wire_announce_reaches(&b, 0x01020304u));
	assert_false(wire_announce_reaches(&b, 3));
	b.flags &= ~(uint32_t)WIRE_F_REACH; /* a list without the flag vouches for nobody */
	assert_false(wire_announce_reaches(&b, 2));
}

/* A sender from before the reach list: its announce ends with the up list. */
static void reach_list_is_optional(void **state)
{
	struct wire_announce a = sample(), b;
	uint8_t buf[WIRE_MAX_SIZE];
	enum wire_type type;
	int len = wire_encode_announce(&a, buf, sizeof(buf));
	int old = len - 2 - 4 * (int)a.n_reach;

	for (int i = 0; i < 4; i++)
		buf[8 + i] = (uint8_t)(old >> (8 * (3 - i)));
	buf[23] &= (uint8_t)~WIRE_F_REACH;
	assert_int_equal(wire_decode(buf, (size_t)old, &type, &b), 0);
	assert_int_equal(b.n_reach, 0);
	assert_false(wire_announce_reaches(&b, 2));
	assert_true(wire_announce_up(&b, "web"));
	/* a count past the nodelist's size is refused */
	len = wire_encode_announce(&a, buf, sizeof(buf));
	buf[old] = 0x01;
	assert_int_equal(wire_decode(buf, (size_t)len, &type, &b), -EBADMSG);
	a.n_reach = CONFIG_MAX_NODES + 1;
	assert_int_equal(wire_encode_announce(&a, buf, sizeof(buf)), -EINVAL);
	/* a list without the flag is not sent; the flag without the list is refused */
	a = sample();
	a.flags &= ~(uint32_t)WIRE_F_REACH;
	assert_int_equal(wire_encode_announce(&a, buf, sizeof(buf)), -EINVAL);
	a.n_reach = 0;
	len = wire_encode_announce(&a, buf, sizeof(buf));
	assert_int_equal(len, old);
	buf[23] |= WIRE_F_REACH;
	assert_int_equal(wire_decode(buf, (size_t)len, &type, &b), -EBADMSG);
}

/* Disabled groups and maintenance travel after the reach list, only with
 * WIRE_F_ADMIN_MORE: an announce without them is what an older sender sends. */
static void admin_more_roundtrip(void **state)
{
	struct wire_announce a = sample(), b;
	uint8_t buf[WIRE_MAX_SIZE];
	enum wire_type type;
	int plain = wire_encode_announce(&a, buf, sizeof(buf)), len;

	a.admin.maintenance = 1;
	strcpy(a.admin.disabled[a.admin.n_disabled++], "web");
	strcpy(a.admin.disabled[a.admin.n_disabled++], "db_1");
	assert_int_equal(wire_encode_announce(&a, buf, sizeof(buf)), -EINVAL); /* content without the flag */
	a.flags |= WIRE_F_ADMIN_MORE;
	len = wire_encode_announce(&a, buf, sizeof(buf));
	assert_int_equal(len, plain + 1 + 2 + 1 + 3 + 1 + 4);
	assert_int_equal(wire_decode(buf, (size_t)len, &type, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_true(wire_admin_more(&b.admin));
	assert_true(b.admin.maintenance);
	assert_true(wire_admin_disabled(&b.admin, "db_1"));
	assert_false(wire_admin_disabled(&b.admin, "db"));
	assert_true(wire_admin_equal(&a.admin, &b.admin));
	b.admin.maintenance = 0;
	assert_false(wire_admin_equal(&a.admin, &b.admin));
	/* maintenance is 0 or 1 */
	buf[plain] = 2;
	assert_int_equal(wire_decode(buf, (size_t)len, &type, &b), -EBADMSG);
	/* the flag with an empty section round-trips (maintenance off, nothing disabled) */
	a.admin.maintenance = 0;
	a.admin.n_disabled = 0;
	len = wire_encode_announce(&a, buf, sizeof(buf));
	assert_int_equal(len, plain + 3);
	assert_int_equal(wire_decode(buf, (size_t)len, &type, &b), 0);
	assert_false(wire_admin_more(&b.admin));
}

static void header_fields_are_big_endian(void **state)
{
	struct wire_announce a = sample();
	uint8_t buf[WIRE_MAX_SIZE];
	int len = wire_encode_announce(&a, buf, sizeof(buf));

	assert_memory_equal(buf, "FOMG\x01\x01\x00\x00", 8);
	assert_int_equal((buf[8] << 24) | (buf[9] << 16) | (buf[10] << 8) | buf[11], len);
	assert_int_equal(buf[12], 0x01);
	assert_int_equal(buf[19], 0x08);
}

static struct wire_announce history_sample(void);

static void every_truncation_refused(void **state)
{
	struct wire_announce samples[3] = {sample(), history_sample(), history_sample()}, b;
	uint8_t buf[WIRE_MAX_SIZE];
	enum wire_type type;

	samples[2].flags |= WIRE_F_ADMIN_MORE; /* both optional parts */
	samples[2].admin.maintenance = 1;
	strcpy(samples[2].admin.disabled[samples[2].admin.n_disabled++], "web");
	for (size_t i = 0; i < 3; i++) {
		int len = wire_encode_announce(&samples[i], buf, sizeof(buf));

		for (int cut = 0; cut < len; cut++)
			assert_int_equal(wire_decode(buf, (size_t)cut, &type, &b), -EBADMSG);
	}
}

static void corruptions_refused(void **state)
{
	struct wire_announce a = sample(), b;
	uint8_t buf[WIRE_MAX_SIZE], bad[WIRE_MAX_SIZE];
	enum wire_type type;
	int len = wire_encode_announce(&a, buf, sizeof(buf));
	int end = len - 2 - 4 * (int)a.n_reach; /* where the reach list starts */
	/* the netstate at the end: 3 digests, "3.1.7" and "6.1.0-28-amd64" */
	const size_t netstate_len = 3 * 32 + 1 + 5 + 1 + 14 + 2 + 2 * 4 + 2 + 1 + 3; /* + the up list */
	size_t name_off = (size_t)end - netstate_len - 2; /* inside the last pin's node name */

	memcpy(bad, buf, (size_t)len);
	bad[0] = 'X';
	assert_int_equal(wire_decode(bad, (size_t)len, &type, &b), -EBADMSG);
	memcpy(bad, buf, (size_t)len);
	bad[4] = 2;
	assert_int_equal(wire_decode(bad, (size_t)len, &type, &b), -EPROTONOSUPPORT);
	memcpy(bad, buf, (size_t)len);
	bad[5] = 9;
	assert_int_equal(wire_decode(bad, (size_t)len, &type, &b), -EBADMSG);
	memcpy(bad, buf, (size_t)len);
	bad[23] = 0x80; /* unknown flag */
	assert_int_equal(wire_decode(bad, (size_t)len, &type, &b), -EBADMSG);
	memcpy(bad, buf, (size_t)len);
	bad[name_off] = '\n'; /* control character in a name */
	assert_int_equal(wire_decode(bad, (size_t)len, &type, &b), -EBADMSG);
	memcpy(bad, buf, (size_t)len);
	bad[(size_t)end - netstate_len - 6 - 4 - 2 - 6 - 2 - 12 - 1] = 7; /* the check's state, out of range */
	assert_int_equal(wire_decode(bad, (size_t)len, &type, &b), -EBADMSG);
	memcpy(bad, buf, (size_t)len);
	bad[end - 6 - 2 - 2 * 4 - 2] = 0x1b; /* an escape character in the kernel version */
	assert_int_equal(wire_decode(bad, (size_t)len, &type, &b), -EBADMSG);
	memcpy(bad, buf, (size_t)len);
	bad[len] = 0; /* trailing garbage with a matching length field */
	bad[11] = (uint8_t)(len + 1);
	assert_int_equal(wire_decode(bad, (size_t)len + 1, &type, &b), -EBADMSG);
}

static void encode_refuses_bad_input(void **state)
{
	struct wire_announce a = sample();
	uint8_t buf[WIRE_MAX_SIZE];

	assert_int_equal(wire_encode_announce(&a, buf, 20), -ENOSPC);
	a.flags = 0x100;
	assert_int_equal(wire_encode_announce(&a, buf, sizeof(buf)), -EINVAL);
	a = sample();
	a.checks[0].state = 3;
	assert_int_equal(wire_encode_announce(&a, buf, sizeof(buf)), -EINVAL);
}

/* The history part: the admin state's last changes with their authors, the
 * sender's last transitions, its start and join times. */
static struct wire_announce history_sample(void)
{
	struct wire_announce a = sample();
	struct wire_admin_change *c = &a.admin.changes[0];
	struct wire_transition *t = &a.transitions[0];

	a.flags |= WIRE_F_HISTORY;
	a.started_ms = 1764720000123ull;
	a.joined_ms = 1764720001456ull;
	*c = (struct wire_admin_change){.epoch = 8, .origin = 3, .uid = 0, .at_ms = 1764720100000ull};
	strcpy(c->what, "standby");
	strcpy(c->target, "node3");
	strcpy(c->user, "root");
	strcpy(c->node, "node3");
	c = &a.admin.changes[1];
	*c = (struct wire_admin_change){.epoch = 9, .origin = 2, .uid = 1001, .at_ms = 1764720200000ull};
	strcpy(c->what, "pin");
	strcpy(c->target, "web");
	strcpy(c->to, "node2");
	strcpy(c->user, "Jane Doe (ops)"); /* printable, not a name */
	strcpy(c->node, "node2");
	a.admin.n_changes = 2;
	*t = (struct wire_transition){.seq = 41, .at_ms = 1764720200100ull, .took_us = 1500, .acquired = 0};
	strcpy(t->reason, "switchover");
	strcpy(t->group, "web");
	strcpy(t->from, "node1");
	strcpy(t->to, "node2");
	t = &a.transitions[1];
	*t = (struct wire_transition){.seq = 42, .at_ms = 1764720300000ull, .took_us = 250000, .acquired = 1,
				      .error = EEXIST};
	strcpy(t->reason, "ring-stall");
	strcpy(t->group, "db_1");
	strcpy(t->from, "none");
	strcpy(t->to, "node1");
	a.n_transitions = 2;
	return a;
}

static void history_roundtrip(void **state)
{
	struct wire_announce a = history_sample(), b;
	uint8_t buf[WIRE_MAX_SIZE];

	round_trip(&a, &b, buf);

	assert_string_equal(b.admin.changes[1].user, "Jane Doe (ops)");
	assert_string_equal(b.admin.changes[0].to, "");
	assert_int_equal(b.transitions[1].error, EEXIST);
	assert_int_equal(b.joined_ms, 1764720001456ull);
}

/* An older sender has no history part: its announce decodes with none. Ours has
 * it exactly when the flag says so. */
static void history_part_is_optional(void **state)
{
	struct wire_announce a = history_sample(), b;
	uint8_t buf[WIRE_MAX_SIZE], old[WIRE_MAX_SIZE];
	enum wire_type type;
	struct wire_announce plain = sample();
	int len = wire_encode_announce(&plain, old, sizeof(old));

	assert_int_equal(wire_decode(old, (size_t)len, &type, &b), 0);
	assert_false(b.flags & WIRE_F_HISTORY);
	assert_int_equal(b.admin.n_changes, 0);
	assert_int_equal(b.n_transitions, 0);
	assert_int_equal(b.started_ms, 0);
	/* the flag on an announce without the part: truncated, refused */
	old[23] |= WIRE_F_HISTORY;
	assert_int_equal(wire_decode(old, (size_t)len, &type, &b), -EBADMSG);
	/* the part's fields without the flag are refused by the encoder */
	a.flags &= ~(uint32_t)WIRE_F_HISTORY;
	assert_int_equal(wire_encode_announce(&a, buf, sizeof(buf)), -EINVAL);
	a = history_sample();
	a.n_transitions = 0;
	a.admin.n_changes = 0;
	a.started_ms = a.joined_ms = 0;
	len = wire_encode_announce(&a, buf, sizeof(buf)); /* the flag with an empty part */
	assert_int_equal(len, wire_encode_announce(&plain, old, sizeof(old)) + 8 + 8 + 2 + 2);
	assert_int_equal(wire_decode(buf, (size_t)len, &type, &b), 0);
}

/* Both optional parts, each with its own flag: the admin state's rest (disabled
 * groups, maintenance) first, then the history part, whose last changes may be
 * the new kinds (disable, enable, maintenance). Either part goes without the
 * other, and an announce with content for one but not its flag is refused. */
static void admin_more_and_history_together(void **state)
{
	struct wire_announce a = history_sample(), b;
	uint8_t buf[WIRE_MAX_SIZE];
	struct wire_admin_change *c = &a.admin.changes[a.admin.n_changes++];
	int len;

	(void)state;
	assert_int_equal(WIRE_F_ADMIN_MORE & WIRE_F_HISTORY, 0);
	*c = (struct wire_admin_change){.epoch = 10, .origin = 1, .uid = 1001, .at_ms = 1764720300000ull};
	strcpy(c->what, "maintenance");
	strcpy(c->target, "on");
	strcpy(c->user, "alice");
	strcpy(c->node, "node1");
	c = &a.admin.changes[a.admin.n_changes++];
	*c = (struct wire_admin_change){.epoch = 11, .origin = 1, .uid = 1001, .at_ms = 1764720400000ull};
	strcpy(c->what, "disable");
	strcpy(c->target, "web");
	strcpy(c->user, "alice");
	strcpy(c->node, "node1");
	a.admin.maintenance = 1;
	strcpy(a.admin.disabled[a.admin.n_disabled++], "web");
	assert_int_equal(wire_encode_announce(&a, buf, sizeof(buf)), -EINVAL); /* disabled without its flag */
	a.flags |= WIRE_F_ADMIN_MORE;
	len = round_trip(&a, &b, buf);
	assert_true(len > 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_true(b.admin.maintenance);
	assert_true(wire_admin_disabled(&b.admin, "web"));
	assert_string_equal(b.admin.changes[3].what, "disable");
	/* the history part alone is refused while the admin state has more */
	a.flags &= ~(uint32_t)WIRE_F_ADMIN_MORE;
	assert_int_equal(wire_encode_announce(&a, buf, sizeof(buf)), -EINVAL);
	/* the admin part alone: no history content, no history flag */
	a = sample();
	a.flags |= WIRE_F_ADMIN_MORE;
	a.admin.maintenance = 1;
	len = round_trip(&a, &b, buf);
	assert_true(len > 0);
	assert_false(b.flags & WIRE_F_HISTORY);
	assert_true(b.admin.maintenance);
}

static void history_corruptions_refused(void **state)
{
	struct wire_announce a = history_sample(), b;
	const struct wire_transition *t = &a.transitions[1];
	uint8_t buf[WIRE_MAX_SIZE], bad[WIRE_MAX_SIZE];
	enum wire_type type;
	int len = wire_encode_announce(&a, buf, sizeof(buf)), shorter;
	/* the last transition: ... acquired u8, error u16, then four strings */
	size_t strings = 4 + strlen(t->reason) + strlen(t->group) + strlen(t->from) + strlen(t->to);
	size_t acquired = (size_t)len - strings - 2 - 1;

	assert_int_equal(buf[acquired], 1);
	memcpy(bad, buf, (size_t)len);
	bad[acquired] = 2;
	assert_int_equal(wire_decode(bad, (size_t)len, &type, &b), -EBADMSG);
	memcpy(bad, buf, (size_t)len);
	bad[len - 1] = ' '; /* "node1" -> "node " : not a name */
	assert_int_equal(wire_decode(bad, (size_t)len, &type, &b), -EBADMSG);
	memcpy(bad, buf, (size_t)len);
	bad[(size_t)len - strlen(t->to) - 1] = 0; /* an empty "to" in a transition */
	shorter = len - (int)strlen(t->to);
	for (int i = 0; i < 4; i++)
		bad[8 + i] = (uint8_t)(shorter >> (8 * (3 - i)));
	assert_int_equal(wire_decode(bad, (size_t)shorter, &type, &b), -EBADMSG);
	/* counts past the limits */
	a = history_sample();
	a.n_transitions = WIRE_MAX_TRANSITIONS + 1;
	assert_int_equal(wire_encode_announce(&a, buf, sizeof(buf)), -EINVAL);
	a = history_sample();
	a.admin.n_changes = WIRE_MAX_CHANGES + 1;
	assert_int_equal(wire_encode_announce(&a, buf, sizeof(buf)), -EINVAL);
	a = history_sample();
	a.n_transitions = 0;
	len = wire_encode_announce(&a, buf, sizeof(buf));
	buf[len - 2] = 0;
	buf[len - 1] = WIRE_MAX_TRANSITIONS + 1;
	assert_int_equal(wire_decode(buf, (size_t)len, &type, &b), -EBADMSG);
}

#define fill_name(dst, c)                              \
	do {                                           \
		memset((dst), (c), sizeof(dst) - 1);   \
		(dst)[sizeof(dst) - 1] = '\0';         \
	} while (0)

/* Every list full, every name 63 bytes: the announce still fits one message. */
static void worst_case_fits(void **state)
{
	static struct wire_announce a, b;
	static uint8_t buf[WIRE_MAX_SIZE];

	memset(&a, 0, sizeof(a));
	a.flags = WIRE_F_REACH | WIRE_F_ADMIN_MORE | WIRE_F_HISTORY;
	memset(a.version, 'v', sizeof(a.version) - 1);
	a.admin.maintenance = 1;
	a.admin.n_disabled = WIRE_MAX_HELD;
	a.n_held = a.n_ready = a.n_up = WIRE_MAX_HELD;
	for (size_t i = 0; i < WIRE_MAX_HELD; i++) {
		fill_name(a.held[i], 'h');
		fill_name(a.failback_ready[i], 'r');
		fill_name(a.up[i], 'u');
		fill_name(a.admin.pins[i].group, 'g');
		fill_name(a.admin.pins[i].node, 'n');
		fill_name(a.admin.disabled[i], 'd');
	}
	a.admin.n_pins = WIRE_MAX_HELD;
	a.n_checks = WIRE_MAX_CHECKS;
	for (size_t i = 0; i < WIRE_MAX_CHECKS; i++)
		fill_name(a.checks[i].name, 'c');
	a.admin.n_standby = a.n_reach = WIRE_MAX_NODES;
	for (size_t i = 0; i < WIRE_MAX_NODES; i++) {
		fill_name(a.admin.standby[i], 's');
		a.reach[i] = (uint32_t)i + 1;
	}
	memset(a.netstate.corosync_version, 'c', sizeof(a.netstate.corosync_version) - 1);
	memset(a.netstate.kernel_version, 'k', sizeof(a.netstate.kernel_version) - 1);
	a.netstate.n_fw = WIRE_MAX_FW_LINES;
	a.admin.n_changes = WIRE_MAX_CHANGES;
	for (size_t i = 0; i < WIRE_MAX_CHANGES; i++) {
		struct wire_admin_change *c = &a.admin.changes[i];
		fill_name(c->what, 'w');
		fill_name(c->target, 't');
		fill_name(c->to, 'o');
		fill_name(c->user, 'U');
		fill_name(c->node, 'N');
	}
	a.n_transitions = WIRE_MAX_TRANSITIONS;
	for (size_t i = 0; i < WIRE_MAX_TRANSITIONS; i++) {
		struct wire_transition *t = &a.transitions[i];
		fill_name(t->reason, 'R');
		fill_name(t->group, 'G');
		fill_name(t->from, 'F');
		fill_name(t->to, 'T');
	}
	assert_true(round_trip(&a, &b, buf) <= WIRE_MAX_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(header_fields_are_big_endian),
		cmocka_unit_test(reach_list_is_optional),
		cmocka_unit_test(admin_more_roundtrip),
		cmocka_unit_test(every_truncation_refused),
		cmocka_unit_test(corruptions_refused),
		cmocka_unit_test(encode_refuses_bad_input),
		cmocka_unit_test(history_roundtrip),
		cmocka_unit_test(history_part_is_optional),
		cmocka_unit_test(history_corruptions_refused),
		cmocka_unit_test(admin_more_and_history_together),
		cmocka_unit_test(worst_case_fits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
