/* vip's pure helpers: formatting, parsing, the fomgr label, the idempotence rules and
 * the libnl error translation. The kernel side is tested in
 * tests/integration/10-vip-netns.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../fomgr/vip.c"

static void format(void **state)
{
	struct vip_addr a;
	char buf[VIP_ADDR_STR_MAX];

	assert_int_equal(vip_addr_parse(&a, "192.0.2.100/24", "eth0"), 0);
	assert_string_equal(vip_addr_str(&a, buf, sizeof(buf)), "192.0.2.100/24 dev eth0");
	assert_int_equal(vip_addr_parse(&a, "2001:db8::100/64", "veth-a"), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_string_equal(vip_addr_str(&a, buf, sizeof(buf)), "2001:db8::100/64 dev veth-a");
	assert_int_equal(vip_addr_parse(&a, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128",
					"abcdefghijklmno"), 0);
	assert_string_equal(vip_addr_str(&a, buf, sizeof(buf)),
			    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128 dev abcdefghijklmno");
	assert_string_equal(vip_addr_str(&a, buf, 8), "2001:db");
}

static void parse_rejects(void **state)
{
	struct vip_addr a;

	assert_int_equal(vip_addr_parse(&a, "192.0.2.100", "eth0"), -EINVAL);
	assert_int_equal(vip_addr_parse(&a, "192.0.2.100/33", "eth0"), -EINVAL);
	assert_int_equal(vip_addr_parse(&a, "192.0.2.100/", "eth0"), -EINVAL);
	assert_int_equal(vip_addr_parse(&a, "192.0.2.100/-1", "eth0"), -EINVAL);
	assert_int_equal(vip_addr_parse(&a, "192.0.2.300/24", "eth0"), -EINVAL);
	assert_int_equal(vip_addr_parse(&a, "2001:db8::1/129", "eth0"), -EINVAL);
	assert_int_equal(vip_addr_parse(&a, "192.0.2.1/24", ""), -EINVAL);
	assert_int_equal(vip_addr_parse(&a, "192.0.2.1/24", "abcdefghijklmnop"), -EINVAL);
}

static void label(void **state)
{
	char l[IF_NAMESIZE];

	vip_label("eth0", l);
	assert_string_equal(l, "eth0:fo");
	vip_label("abcdefghijkl", l); /* 12 + 3 = 15: fits exactly */
	assert_string_equal(l, "abcdefghijkl:fo");
	vip_label("abcdefghijklm", l);
	assert_string_equal(l, "abcdefghijklm:f");
	vip_label("abcdefghijklmno", l);
	assert_string_equal(l, "abcdefghijklmno");

	assert_true(vip_label_is_ours("eth0:fo", "eth0"));
	assert_false(vip_label_is_ours("eth0", "eth0"));
	assert_false(vip_label_is_ours("eth0:web", "eth0"));
	assert_false(vip_label_is_ours("eth1:fo", "eth0"));
	assert_true(vip_label_is_ours("abcdefghijklm:f", "abcdefghijklm"));
	/* A 15-character name leaves no room: indistinguishable from the default. */
	assert_false(vip_label_is_ours("abcdefghijklmno", "abcdefghijklmno"));
}

static void idempotence(void **state)
{
	assert_int_equal(vip_idempotent(VIP_OP_ADD, -EEXIST), 0);
	assert_int_equal(vip_idempotent(VIP_OP_ADD, -EADDRNOTAVAIL), -EADDRNOTAVAIL);
	assert_int_equal(vip_idempotent(VIP_OP_DEL, -EADDRNOTAVAIL), 0);
	assert_int_equal(vip_idempotent(VIP_OP_DEL, -ESRCH), 0);
	assert_int_equal(vip_idempotent(VIP_OP_DEL, -ENODEV), 0);
	assert_int_equal(vip_idempotent(VIP_OP_DEL, -EEXIST), -EEXIST);
	assert_int_equal(vip_idempotent(VIP_OP_ADD, -EPERM), -EPERM);
}

static void errors(void **state)
{
	int i;

	assert_int_equal(nlerr_errno(0), 0);
	assert_int_equal(nlerr_errno(-NLE_NOMEM), -ENOMEM);
	assert_int_equal(nlerr_errno(-NLE_EXIST), -EEXIST);
	assert_int_equal(nlerr_errno(-NLE_NODEV), -ENODEV);
	assert_int_equal(nlerr_errno(-NLE_PERM), -EPERM);
	assert_int_equal(nlerr_errno(-NLE_OBJ_NOTFOUND), -ENOENT); /* netstate's dumps, as before */
	assert_int_equal(nlerr_errno(NLE_NOADDR), -EADDRNOTAVAIL);  /* positive, as some callers hold it */
	assert_int_equal(nlerr_errno(-NLE_MAX - 1), -EIO);
	for (i = 1; i <= NLE_MAX; i++)
		assert_true(nlerr_errno(-i) < 0); /* every libnl failure stays a failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format),
		cmocka_unit_test(parse_rejects),
		cmocka_unit_test(label),
		cmocka_unit_test(idempotence),
		cmocka_unit_test(errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
