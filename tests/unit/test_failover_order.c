/* Nothing on the failover path waits for the disk: the manager (its .c included,
 * so the test drives its corosync callbacks) with a fake kernel behind vip.h and
 * an audit log whose syncs are recorded, loses quorum while holding a group. The
 * order of what happens must be: the netlink delete requested, its
 * acknowledgement handled, the release announced to the peers, the connections
 * counted, and only then any write to the disk.
 *
 * The kernel is faked with -Wl,--wrap: vip_del answers through a pipe watched by
 * the loop, as rtnetlink answers through its socket (the acknowledgement is
 * readable as soon as the request is sent). corosync is membership_send, the
 * disk is fdatasync and fsync, the connection count is sockdiag's. A second case:
 * an admin state adopted from a peer (standby) is persisted after the delete.
 *
 * To measure rather than test: FO_SLOW_SYNC_MS=N makes every sync take N ms (a
 * slow disk; off by default, unit tests never sleep) and the quorum case prints
 * how long after the event the delete and the release announce went out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../fomgr/manager.c"

#include <sys/stat.h>

#include "admin.h"
#include "fo/sockdiag.h"

enum step { STEP_DEL, STEP_ACK, STEP_ANNOUNCE_HELD, STEP_ANNOUNCE_RELEASED, STEP_COUNT, STEP_DISK, STEP_MAX };
static const char *const step_names[STEP_MAX] = {"vip_del", "ack", "announce(held)", "announce(released)",
						  "count", "disk"};

#define MAX_STEPS 64
static enum step steps[MAX_STEPS];
static size_t n_steps;

static uint64_t step_us[MAX_STEPS];

static void note(enum step s)
{
	if (n_steps < MAX_STEPS) {
		step_us[n_steps] = clock_mono_us();
		steps[n_steps++] = s;
	}
}

/* A slow disk, when asked for. */
static void slow_disk(void)
{
	const char *ms = getenv("FO_SLOW_SYNC_MS");
	struct timespec ts;

	if (!ms || atoi(ms) <= 0)
		return;
	ts.tv_sec = atoi(ms) / 1000;
	ts.tv_nsec = (long)(atoi(ms) % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* The index of the first s, or MAX_STEPS when it never happened. */
static size_t first(enum step s)
{
	for (size_t i = 0; i < n_steps; i++)
		if (steps[i] == s)
			return i;
	return MAX_STEPS;
}

static void print_steps(void)
{
	for (size_t i = 0; i < n_steps; i++)
		print_message("  %zu %s\n", i, step_names[steps[i]]);
}

/* ---- the fake kernel (vip.h) ---- */

struct answer {
	vip_done_fn done;
	void *arg;
};
static struct answer answers[16];
static size_t n_answers;
static int nl_pipe[2];
static ev_io nl_watcher;
static uint64_t del_us;

static void on_nl(struct ev_loop *loop, ev_io *w, int revents)
{
	char byte;
	size_t n = n_answers;
	struct answer now[16];

	if (read(w->fd, &byte, 1) != 1)
		return;
	memcpy(now, answers, n * sizeof(now[0]));
	n_answers = 0;
	note(STEP_ACK);
	for (size_t i = 0; i < n; i++)
		if (now[i].done)
			now[i].done(now[i].arg, 0);
}

static int answer_later(vip_done_fn done, void *arg)
{
	assert_true(n_answers < 16);
	answers[n_answers++] = (struct answer){done, arg};
	assert_int_equal(write(nl_pipe[1], "a", 1), 1);
	return 0;
}

int __wrap_vip_del(struct vip *vip, const struct vip_addr *a, vip_done_fn done, void *arg)
{
	note(STEP_DEL);
	del_us = clock_mono_us();
	return answer_later(done, arg);
}

int __wrap_vip_add(struct vip *vip, const struct vip_addr *a, vip_done_fn done, void *arg)
{
	return answer_later(done, arg);
}

int __wrap_vip_announce(struct vip *vip, const struct vip_addr *a)
{
	return 0;
}

int __wrap_vip_probe_arp(struct vip *vip, const struct vip_addr *a, unsigned timeout_ms, vip_probe_fn done, void *arg)
{
	return -EOPNOTSUPP;
}

int __wrap_vip_present(struct vip *vip, const struct vip_addr *a)
{
	return 1; /* at start the group's address is up here: adopted */
}

int __wrap_vip_list_labelled(struct vip *vip, struct vip_addr *out, size_t max)
{
	return 0;
}

/* ---- the fake corosync, disk and socket count ---- */

static uint8_t sent[WIRE_MAX_SIZE];
static size_t sent_len;

int __wrap_membership_send(struct membership *mb, const void *msg, size_t len)
{
	enum wire_type type;
	struct wire_announce a;

	assert_true(len <= sizeof(sent));
	memcpy(sent, msg, len);
	sent_len = len;
	assert_int_equal(wire_decode(msg, len, &type, &a), 0);
	note(a.n_held ? STEP_ANNOUNCE_HELD : STEP_ANNOUNCE_RELEASED);
	return 0;
}

int __wrap_membership_local_nodeid(uint32_t *nodeid)
{
	*nodeid = 1;
	return 0;
}

int __wrap_membership_read_info(struct membership_info *out)
{
	return -ENOTCONN;
}

int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd)
{
	note(STEP_DISK); /* a slow disk blocks here */
	slow_disk();
	return __real_fdatasync(fd);
}

int __real_fsync(int fd);
int __wrap_fsync(int fd)
{
	note(STEP_DISK);
	slow_disk();
	return __real_fsync(fd);
}

int __wrap_sockdiag_count_established_local(const struct sockaddr_storage *addrs, size_t n, uint32_t *counts,
					    uint64_t *total)
{
	note(STEP_COUNT);
	for (size_t i = 0; i < n; i++)
		counts[i] = 2;
	*total = 2 * n;
	return 0;
}

/* ---- the cluster around the manager ---- */

static char dir[64], logpath[128];
static struct ev_loop *loop;
static struct manager *m;

static void deliver_peer(uint32_t nodeid, const struct wire_admin *admin)
{
	static uint64_t seq;
	struct wire_announce a;
	uint8_t buf[WIRE_MAX_SIZE];
	int len;

	memset(&a, 0, sizeof(a));
	a.seq = ++seq;
	if (admin)
		a.admin = *admin;
	snprintf(a.version, sizeof(a.version), "%s", FO_VERSION);
	memcpy(a.config_digest, m->env.node->cluster_digest, sizeof(a.config_digest));
	len = wire_encode_announce(&a, buf, sizeof(buf));
	assert_true(len > 0);
	on_deliver(m, nodeid, 1000 + nodeid, buf, (size_t)len);
}

static void deliver_own(void)
{
	on_deliver(m, 1, (uint32_t)getpid(), sent, sent_len);
}

static void run_loop(void)
{
	for (int i = 0; i < 5; i++)
		ev_run(loop, EVRUN_NOWAIT);
}

/* Three nodes, quorate, node1 (this one) holding group web. */
static int setup(void **state)
{
	struct config_nodelist nodes = {.n_nodes = 3, .nodes = {{1, "node1"}, {2, "node2"}, {3, "node3"}}};
	struct cfgfile_errors errors;
	const uint32_t ring[] = {1, 2, 3};
	char text[1024];

	snprintf(dir, sizeof(dir), "/tmp/test_failover_order.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(logpath, sizeof(logpath), "%s/audit.log", dir);
	snprintf(text, sizeof(text),
		 "[fomgr]\nstate_dir = %s\nruntime_dir = %s\n[audit]\nlog = %s\nprobe = no\n"
		 "[group web]\ninterface = eth0\naddress = 192.0.2.100/24\nprefer = node1 node2 node3\n",
		 dir, dir, logpath);
	loop = ev_loop_new(EVFLAG_AUTO);
	assert_int_equal(pipe(nl_pipe), 0);
	ev_io_init(&nl_watcher, on_nl, nl_pipe[0], EV_READ);
	ev_io_start(loop, &nl_watcher);

	m = manager_new(loop, "t.conf");
	m->nodes = nodes;
	m->env.config = config_parse_buffer("t.conf", text, strlen(text), &nodes, &errors);
	if (!m->env.config)
		print_message("%s\n", errors.items[0].message);
	assert_non_null(m->env.config);
	open_auditlog(m);
	assert_non_null(m->env.auditlog);
	snprintf(m->admin_path, sizeof(m->admin_path), "%s/admin.json", dir);
	assert_int_equal(start_node(m, NULL), 0);
	m->env.node->view.local_nodeid = 1;
	m->env.node->local_pid = (uint32_t)getpid();
	m->env.audit = audit_new(loop, m->env.config, m->env.auditlog);
	assert_non_null(m->env.audit);
	m->audit_started = 1; /* no periodic audit (it would probe the network) */
	reconcile_kernel(m->env.vip, m->env.config, adopt, m);
	assert_int_equal(transition_state_of(&m->env.node->transition, "web"), TRANSITION_HELD);

	on_totem(m, ring, 3, 1, 1);
	on_join(m, 1, (uint32_t)getpid());
	on_join(m, 2, 1002);
	on_join(m, 3, 1003);
	deliver_own();
	deliver_peer(2, NULL);
	deliver_peer(3, NULL);
	run_loop();
	assert_int_equal(m->env.node->placement.groups[0].owner, 1);
	assert_int_equal(transition_state_of(&m->env.node->transition, "web"), TRANSITION_HELD);
	n_steps = 0;
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	manager_free(m);
	ev_io_stop(loop, &nl_watcher);
	close(nl_pipe[0]);
	close(nl_pipe[1]);
	ev_loop_destroy(loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static json_t *last_records(const char *type, json_t **out, size_t max, size_t *n)
{
	FILE *f = fopen(logpath, "r");
	char line[8192];

	assert_non_null(f);
	*n = 0;
	while (fgets(line, sizeof(line), f)) {
		json_t *rec = json_loads(line, 0, NULL);
		const char *t = json_string_value(json_object_get(rec, "type"));

		if (t && strcmp(t, type) == 0 && *n < max)
			out[(*n)++] = rec;
		else
			json_decref(rec);
	}
	fclose(f);
	return *n ? out[*n - 1] : NULL;
}

static void free_records(json_t **recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(recs[i]);
}

/* Quorum lost while holding web: the release goes out before any disk write. */
static void test_release_before_disk(void **state)
{
	uint64_t event_us = clock_mono_us();
	struct auditlog_verify_result res;
	json_t *recs[16], *q, *t, *s;
	size_t n;
	FILE *f;

	on_quorum(m, 1, 0);
	/* From inside the event: the delete is requested, nothing is written. */
	assert_int_equal(first(STEP_DEL), 0);
	assert_int_equal(first(STEP_DISK), MAX_STEPS);
	run_loop();
	print_steps();
	if (getenv("FO_SLOW_SYNC_MS"))
		print_message("slow disk %s ms: delete %.3f ms, release announced %.3f ms after the event\n",
			      getenv("FO_SLOW_SYNC_MS"), (double)(step_us[first(STEP_DEL)] - event_us) / 1000,
			      (double)(step_us[first(STEP_ANNOUNCE_RELEASED)] - event_us) / 1000);
	assert_int_equal(transition_state_of(&m->env.node->transition, "web"), TRANSITION_IDLE);
	assert_true(first(STEP_DEL) < first(STEP_DISK));
	assert_true(first(STEP_ACK) < first(STEP_DISK));
	/* The peers hear of the release (what they wait for to claim) before the disk. */
	assert_true(first(STEP_ACK) < first(STEP_ANNOUNCE_RELEASED));
	assert_true(first(STEP_ANNOUNCE_RELEASED) < first(STEP_DISK));
	/* The connections the release cuts are counted after the delete went out and
	 * the release was announced: the count (milliseconds, with many sockets)
	 * delays neither. */
	assert_true(first(STEP_ANNOUNCE_RELEASED) < first(STEP_COUNT));
	assert_true(first(STEP_COUNT) < first(STEP_DISK));
	assert_int_not_equal(first(STEP_DISK), MAX_STEPS);

	/* Everything is in the log, in order, stamped when it happened. */
	f = fopen(logpath, "r");
	assert_non_null(f);
	assert_int_equal(auditlog_verify(f, NULL, &res), 0);
	fclose(f);
	q = last_records("quorum", recs, 16, &n);
	assert_non_null(q);
	assert_false(json_is_true(json_object_get(q, "quorate")));
	assert_true(json_integer_value(json_object_get(q, "mono_ms")) <= (json_int_t)(del_us / 1000));
	assert_true(json_integer_value(json_object_get(q, "mono_ms")) >= (json_int_t)(event_us / 1000));
	free_records(recs, n);
	t = last_records("transition", recs, 16, &n);
	assert_non_null(t);
	assert_string_equal(json_string_value(json_object_get(t, "action")), "release");
	free_records(recs, n);
	s = last_records("snapshot", recs, 16, &n);
	assert_non_null(s);
	assert_string_equal(json_string_value(json_object_get(s, "phase")), "before_release");
	assert_int_equal(json_integer_value(json_object_get(s, "vip_connections")), 2);
	free_records(recs, n);
}

/* An operator put node1 in standby on node2: node1 adopts the admin state from
 * node2's announce, releases, and persists the admin state (an fsync) only once
 * the delete is out. */
static void test_standby_release_before_admin_save(void **state)
{
	struct wire_admin admin = {.epoch = 1, .origin = 2};
	struct stat st;

	assert_int_equal(admin_set_standby(&admin, "node1", 1), 0);
	deliver_peer(2, &admin);
	assert_int_equal(first(STEP_DEL), 0);
	assert_true(first(STEP_DEL) < first(STEP_DISK)); /* admin_save, after the delete */
	assert_int_equal(stat(m->admin_path, &st), 0);
	run_loop();
	print_steps();
	assert_int_equal(transition_state_of(&m->env.node->transition, "web"), TRANSITION_IDLE);
	assert_true(first(STEP_ANNOUNCE_RELEASED) < first(STEP_COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_release_before_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standby_release_before_admin_save, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
