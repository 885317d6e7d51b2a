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

static void roundtrip(void **state)
{
	struct wire_announce a = sample(), b;
	uint8_t buf[WIRE_MAX_SIZE];
	enum wire_type type;
	int len = wire_encode_announce(&a, buf, sizeof(buf));

	assert_true(len > 12);
	assert_int_equal(wire_decode(buf, (size_t)len, &type, &b), 0);
	assert_int_equal(type, WIRE_ANNOUNCE);
	assert_memory_equal(&a, &b, sizeof(a));
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

static void every_truncation_refused(void **state)
{
	struct wire_announce a = sample(), b;
	uint8_t buf[WIRE_MAX_SIZE];
	enum wire_type type;
	int len = wire_encode_announce(&a, buf, sizeof(buf));

	for (int cut = 0; cut < len; cut++)
		assert_int_equal(wire_decode(buf, (size_t)cut, &type, &b), -EBADMSG);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
