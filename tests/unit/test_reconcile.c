/* Start-up's reconciliation (reconcile.c) against a fake kernel behind vip.h
 * (-Wl,--wrap): a group with any address present is offered for adoption, an
 * address labelled as fomgr's that no group configures is deleted, a configured
 * one is kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "reconcile.h"
#include "transition.h"
#include "vip.h"

static struct vip_addr present[8], labelled[8];
static size_t n_present, n_labelled, n_deleted;
static struct vip_addr deleted[8];
static int list_rc;

int __wrap_vip_present(struct vip *vip, const struct vip_addr *a)
{
	(void)vip;
	for (size_t i = 0; i < n_present; i++)
		if (present[i].addr.v4.s_addr == a->addr.v4.s_addr && strcmp(present[i].ifname, a->ifname) == 0)
			return 1;
	return 0;
}

int __wrap_vip_list_labelled(struct vip *vip, struct vip_addr *out, size_t max)
{
	(void)vip;
	if (list_rc < 0)
		return list_rc;
	for (size_t i = 0; i < n_labelled && i < max; i++)
		out[i] = labelled[i];
	return (int)n_labelled;
}

int __wrap_vip_del(struct vip *vip, const struct vip_addr *a, vip_done_fn done, void *arg)
{
	(void)vip;
	assert_null(done);
	assert_null(arg);
	deleted[n_deleted++] = *a;
	return 0;
}

static char adopted[4][CONFIG_NAME_MAX];
static size_t n_adopted;
static int adopt_rc;

static int adopt(void *arg, const char *group)
{
	assert_ptr_equal(arg, &n_adopted);
	snprintf(adopted[n_adopted++], CONFIG_NAME_MAX, "%s", group);
	return adopt_rc;
}

static struct config *config;

static struct vip_addr v4(const char *ip, const char *ifname)
{
	struct vip_addr a = {.family = AF_INET, .prefixlen = 24};

	inet_pton(AF_INET, ip, &a.addr.v4);
	snprintf(a.ifname, sizeof(a.ifname), "%s", ifname);
	return a;
}

static int setup(void **state)
{
	const char *text = "[fomgr]\n[group web]\ninterface = eth0\naddress = 192.0.2.100/24\naddress = 192.0.2.101/24\n"
			   "[group db]\ninterface = eth0\naddress = 192.0.2.110/24\n";
	struct cfgfile_errors errors;

	(void)state;
	config = config_parse_buffer("t.conf", text, strlen(text), NULL, &errors);
	assert_non_null(config);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_free(config);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	n_present = n_labelled = n_deleted = n_adopted = 0;
	list_rc = adopt_rc = 0;
	return 0;
}

static void test_adopt_and_remove(void **state)
{
	(void)state;
	present[n_present++] = v4("192.0.2.101", "eth0"); /* one of web's two */
	labelled[n_labelled++] = v4("192.0.2.101", "eth0");
	labelled[n_labelled++] = v4("192.0.2.200", "eth0"); /* no group's */
	labelled[n_labelled++] = v4("192.0.2.110", "eth1"); /* db's address, another interface */
	assert_int_equal(reconcile_kernel(NULL, config, adopt, &n_adopted), 0);
	assert_int_equal(n_adopted, 1);
	assert_string_equal(adopted[0], "web");
	assert_int_equal(n_deleted, 2);
	assert_int_equal(deleted[0].addr.v4.s_addr, v4("192.0.2.200", "eth0").addr.v4.s_addr);
	assert_string_equal(deleted[1].ifname, "eth1");
}

/* The core may refuse an adoption; a failed listing deletes nothing. */
static void test_refused_and_list_error(void **state)
{
	(void)state;
	present[n_present++] = v4("192.0.2.110", "eth0");
	adopt_rc = -EEXIST;
	list_rc = -EIO;
	assert_int_equal(reconcile_kernel(NULL, config, adopt, &n_adopted), -EIO);
	assert_int_equal(n_adopted, 1);
	assert_string_equal(adopted[0], "db");
	assert_int_equal(n_deleted, 0);
}

static void test_nothing(void **state)
{
	(void)state;
	assert_int_equal(reconcile_kernel(NULL, config, adopt, &n_adopted), 0);
	assert_int_equal(n_adopted, 0);
	assert_int_equal(n_deleted, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_adopt_and_remove, reset),
		cmocka_unit_test_setup(test_refused_and_list_error, reset),
		cmocka_unit_test_setup(test_nothing, reset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
