/* Admission (admission.c) and start-up (startup.c), the parts of a start and a
 * reload that left the manager: a file refused or accepted, the exposure policy
 * judged with corosync's settings, the records each outcome leaves (the executor's
 * writer and corosync are wrapped with -Wl,--wrap), what a reload changes as an
 * auditor reads it; the start record, the node's name, the admin state read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "admission.h"
#include "auditlog.h"
#include "executor.h"
#include "membership.h"
#include "startup.h"

static char dir[64];
static struct membership_info corosync; /* what the wrapped cmap read answers */
static int corosync_up;

#define MAX_RECORDS 16
static size_t n_records;
static enum auditlog_type record_type[MAX_RECORDS];
static json_t *records[MAX_RECORDS];

int __wrap_executor_record(struct executor *x, enum auditlog_type type, json_t *fields, uint64_t at_us)
{
	(void)x;
	assert_int_equal(at_us, EXECUTOR_RECORD_NOW); /* written before the change */
	assert_true(n_records < MAX_RECORDS);
	record_type[n_records] = type;
	records[n_records++] = fields;
	return 0;
}

int __wrap_membership_read_info(struct membership_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!corosync_up)
		return -ENOTCONN;
	*out = corosync;
	return 0;
}

static const char *path_of(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path_of(name), 0600);
}

static const char *record_str(size_t i, const char *key)
{
	return json_string_value(json_object_get(records[i], key));
}

static size_t array_size(size_t i, const char *key)
{
	return json_array_size(json_object_get(records[i], key));
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_admission.XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_file("good.conf", "[fomgr]\n[group web]\ninterface = eth0\naddress = 192.0.2.100/24\n");
	write_file("two.conf", "[fomgr]\ngarp_count = 7\n[group db]\ninterface = eth0\naddress = 192.0.2.101/24\n"
			       "[group web]\ninterface = eth1\naddress = 192.0.2.100/24\n");
	write_file("bad.conf", "[fomgr]\nno_such_key = 1\n");
	write_file("crypto.conf", "[fomgr]\nrequire_crypto = yes\n[group web]\ninterface = eth0\n"
				  "address = 192.0.2.100/24\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	for (size_t i = 0; i < n_records; i++)
		json_decref(records[i]);
	n_records = 0;
	corosync_up = 0;
	memset(&corosync, 0, sizeof(corosync));
	return 0;
}

static void test_load(void **state)
{
	struct config *c = admission_load(path_of("good.conf"), NULL);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->n_groups, 1);
	config_free(c);
	assert_null(admission_load(path_of("bad.conf"), NULL));
	assert_null(admission_load(path_of("missing.conf"), NULL));
}

/* A reload adds db, changes web, and a fomgr setting: one record says so. */
static void test_reload_accepted(void **state)
{
	struct config *old = admission_load(path_of("good.conf"), NULL), *next = NULL;
	char hex[65];

	(void)state;
	assert_non_null(old);
	corosync_up = 1;
	corosync.crypto = 1;
	assert_int_equal(admission_reload(NULL, path_of("two.conf"), old, NULL, &next), 0);
	assert_non_null(next);
	assert_int_equal(n_records, 1);
	assert_int_equal(record_type[0], AUDITLOG_CONFIG);
	assert_string_equal(record_str(0, "change"), "reload");
	assert_string_equal(record_str(0, "config"), path_of("two.conf"));
	assert_string_equal(record_str(0, "old_digest"), config_digest_hex(old, hex));
	assert_string_equal(record_str(0, "new_digest"), config_digest_hex(next, hex));
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(array_size(0, "groups_added"), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(records[0], "groups_added"), 0)), "db");
	assert_int_equal(array_size(0, "groups_changed"), 1);
	assert_int_equal(array_size(0, "groups_removed"), 0);
	assert_true(json_is_true(json_object_get(records[0], "fomgr_settings_changed")));
	config_free(next);
	config_free(old);
}

static void test_change_json_removed(void **state)
{
	struct config *a = admission_load(path_of("two.conf"), NULL), *b = admission_load(path_of("good.conf"), NULL);
	json_t *j;

	(void)state;
	j = admission_change_json(a, b);
	assert_int_equal(json_array_size(json_object_get(j, "groups_removed")), 1);
	assert_int_equal(json_array_size(json_object_get(j, "groups_added")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "groups_changed")), 1); /* web: eth1 -> eth0 */
	json_decref(j);
	j = admission_change_json(b, b);
	assert_int_equal(json_array_size(json_object_get(j, "groups_changed")), 0);
	assert_true(json_is_false(json_object_get(j, "fomgr_settings_changed")));
	json_decref(j);
	config_free(a);
	config_free(b);
}

static void test_reload_refused_file(void **state)
{
	struct config *old = admission_load(path_of("good.conf"), NULL), *next = old;

	(void)state;
	assert_int_equal(admission_reload(NULL, path_of("bad.conf"), old, NULL, &next), -EINVAL);
	assert_null(next);
	assert_int_equal(n_records, 1);
	assert_int_equal(record_type[0], AUDITLOG_CONFIG);
	assert_string_equal(record_str(0, "change"), "reload refused");
	assert_string_equal(record_str(0, "config"), path_of("bad.conf"));
	config_free(old);
}

/* require_crypto and corosync without it: the finding, then the refusal. */
static void test_reload_refused_exposure(void **state)
{
	struct config *old = admission_load(path_of("good.conf"), NULL), *next = old;

	(void)state;
	corosync_up = 1;
	assert_int_equal(admission_reload(NULL, path_of("crypto.conf"), old, NULL, &next), -EPERM);
	assert_null(next);
	assert_true(n_records >= 2);
	assert_int_equal(record_type[0], AUDITLOG_FINDING);
	assert_int_equal(record_type[n_records - 1], AUDITLOG_CONFIG);
	assert_string_equal(record_str(n_records - 1, "change"), "reload refused (exposure policy)");
	config_free(old);
}

/* corosync not answering: its settings are unknown, nothing is refused for them. */
static void test_exposure_unknown(void **state)
{
	struct config *c = admission_load(path_of("crypto.conf"), NULL);

	(void)state;
	assert_int_equal(admission_exposure(NULL, c), 0);
	for (size_t i = 0; i < n_records; i++)
		assert_int_equal(record_type[i], AUDITLOG_FINDING);
	corosync_up = 1;
	corosync.crypto = 1;
	assert_int_equal(admission_exposure(NULL, c), 0);
	corosync.crypto = 0;
	assert_int_equal(admission_exposure(NULL, c), -EPERM);
	config_free(c);
}

static void test_startup(void **state)
{
	struct config_nodelist nodes = {.n_nodes = 2, .nodes = {{1, "node1"}, {2, "node2"}}};
	struct config *c = admission_load(path_of("good.conf"), NULL);
	struct wire_admin admin = {.epoch = 9}, back;
	char admin_path[256], hex[65];
	json_t *j;

	(void)state;
	assert_string_equal(startup_node_name(&nodes, 2), "node2");
	assert_string_equal(startup_node_name(&nodes, 3), "unknown");
	j = startup_record_json(c);
	assert_string_equal(json_string_value(json_object_get(j, "version")), FO_VERSION);
	assert_string_equal(json_string_value(json_object_get(j, "config")), path_of("good.conf"));
	assert_string_equal(json_string_value(json_object_get(j, "config_digest")), config_digest_hex(c, hex));
	json_decref(j);
	assert_int_equal(startup_dir(path_of("made"), 0750), 0);
	assert_int_equal(startup_dir(path_of("made"), 0750), 0); /* already there */
	assert_int_equal(startup_dir(path_of("no/such/parent"), 0750), -ENOENT);
	/* the state directory made, the admin state read back from it */
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", path_of("state"));
	snprintf(c->runtime_dir, sizeof(c->runtime_dir), "%s", path_of("run"));
	startup_admin_state(c, admin_path, sizeof(admin_path), &back);
	assert_int_equal(back.epoch, 0);
	assert_int_equal(access(path_of("run"), F_OK), 0);
	assert_int_equal(admin_save(admin_path, &admin), 0);
	startup_admin_state(c, admin_path, sizeof(admin_path), &back);
	assert_string_equal(admin_path, path_of("state/admin.json"));
	assert_int_equal(back.epoch, 9);
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load, reset, reset),
		cmocka_unit_test_setup_teardown(test_reload_accepted, reset, reset),
		cmocka_unit_test_setup_teardown(test_change_json_removed, reset, reset),
		cmocka_unit_test_setup_teardown(test_reload_refused_file, reset, reset),
		cmocka_unit_test_setup_teardown(test_reload_refused_exposure, reset, reset),
		cmocka_unit_test_setup_teardown(test_exposure_unknown, reset, reset),
		cmocka_unit_test_setup_teardown(test_startup, reset, reset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
