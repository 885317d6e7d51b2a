/* The audit: the port comparison with fixed snapshots, the exposure checks, the
 * probe plan and its judgement, findings appearing and going away in the audit log,
 * and the transition hooks on a real loop (connections on loopback). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>

#include <arpa/inet.h>

#include "../../fomgr/audit.c"
#include "audit_exposure.h"
#include "membership.h"

static struct sockdiag_listener listener(int proto, const char *addr, uint16_t port, pid_t pid, const char *comm)
{
	struct sockdiag_listener l = {.proto = proto, .port = port, .pid = pid};

	if (inet_pton(AF_INET, addr, &l.addr.v4) == 1)
		l.family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, addr, &l.addr.v6), 1);
		l.family = AF_INET6;
	}
	snprintf(l.comm, sizeof(l.comm), "%s", comm);
	return l;
}

static struct config *parse(const char *text)
{
	struct cfgfile_errors errors;
	struct config *c = config_parse_buffer("t.conf", text, strlen(text), NULL, &errors);

	if (!c)
		print_message("%s: %s\n", text, errors.items[0].message);
	assert_non_null(c);
	return c;
}

#define GROUP "[group web]\ninterface = eth0\naddress = 192.0.2.100/24\n"

struct fixture {
	struct config *config;
	struct sockdiag_listener l[16];
	struct sockdiag_snapshot snap;
	struct audit_findings f;
};

static void fixture_init(struct fixture *fx, const char *audit_section)
{
	char text[2048];

	memset(fx, 0, sizeof(*fx));
	snprintf(text, sizeof(text), GROUP "[audit]\n%s", audit_section);
	fx->config = parse(text);
	fx->snap.listeners = fx->l;
}

static void fixture_add(struct fixture *fx, struct sockdiag_listener l)
{
	fx->l[fx->snap.n++] = l;
}

static void fixture_done(struct fixture *fx)
{
	audit_findings_clear(&fx->f);
	config_free(fx->config);
}

static void compare(struct fixture *fx, const struct audit_local_addrs *local)
{
	audit_findings_clear(&fx->f);
	assert_int_equal(audit_ports_compare(&fx->snap, &fx->config->audit, local, &fx->f), 0);
}

static void local_add(struct audit_local_addrs *l, const char *addr)
{
	unsigned char buf[16];
	int family = inet_pton(AF_INET, addr, buf) == 1 ? AF_INET : AF_INET6;

	assert_int_equal(inet_pton(family, addr, buf), 1);
	audit_addr_set(&l->addrs[l->n++], family, buf);
}

static void test_all_allowed(void **state)
{
	struct fixture fx;

	fixture_init(&fx, "allow = tcp/22\nallow = udp/5405 process=corosync\nallow = tcp/7777\n");
	fixture_add(&fx, listener(IPPROTO_TCP, "0.0.0.0", 22, 10, "sshd"));
	fixture_add(&fx, listener(IPPROTO_TCP, "::", 22, 10, "sshd"));
	fixture_add(&fx, listener(IPPROTO_UDP, "192.0.2.1", 5405, 11, "corosync"));
	fixture_add(&fx, listener(IPPROTO_TCP, "127.0.0.1", 9900, 12, "fomgr"));  /* loopback: skipped */
	fixture_add(&fx, listener(IPPROTO_TCP, "::1", 9901, 12, "fomgr"));
	fixture_add(&fx, listener(IPPROTO_TCP, "::", 7777, 13, "fo-echo"));
	compare(&fx, NULL);
	assert_int_equal(fx.f.n, 0);
	fixture_done(&fx);
}

static void test_unexpected_listener(void **state)
{
	struct fixture fx;

	fixture_init(&fx, "allow = tcp/22\n");
	fixture_add(&fx, listener(IPPROTO_TCP, "0.0.0.0", 22, 10, "sshd"));
	fixture_add(&fx, listener(IPPROTO_TCP, "0.0.0.0", 8080, 42, "nc"));
	fixture_add(&fx, listener(IPPROTO_TCP, "0.0.0.0", 8080, 43, "nc")); /* SO_REUSEPORT: one finding */
	fixture_add(&fx, listener(IPPROTO_UDP, "2001:db8::1", 53, 0, ""));
	compare(&fx, NULL);
	assert_int_equal(fx.f.n, 2);
	assert_int_equal(fx.f.v[0].kind, AUDIT_UNEXPECTED_LISTENER);
	assert_int_equal(fx.f.v[0].severity, AUDIT_WARNING);
	assert_string_equal(fx.f.v[0].subject, "tcp/8080 on 0.0.0.0");
	assert_string_equal(fx.f.v[0].detail, "no allow rule; held by nc (pid 42, uid 0)");
	assert_string_equal(fx.f.v[1].subject, "udp/53 on [2001:db8::1]");
	assert_string_equal(fx.f.v[1].detail, "no allow rule; owner unknown (uid 0)");
	fixture_done(&fx);
}

static void test_forbidden_listener(void **state)
{
	struct fixture fx;

	fixture_init(&fx, "must_be_closed = tcp/23\nmust_be_closed = tcp/2323@192.0.2.1\n");
	fixture_add(&fx, listener(IPPROTO_TCP, "::", 23, 5, "telnetd"));
	fixture_add(&fx, listener(IPPROTO_TCP, "0.0.0.0", 2323, 6, "nc")); /* covers 192.0.2.1 */
	fixture_add(&fx, listener(IPPROTO_TCP, "192.0.2.9", 2323, 7, "nc")); /* another address */
	compare(&fx, NULL);
	assert_int_equal(fx.f.n, 3);
	assert_int_equal(fx.f.v[0].kind, AUDIT_FORBIDDEN_LISTENER);
	assert_int_equal(fx.f.v[0].severity, AUDIT_CRITICAL);
	assert_string_equal(fx.f.v[0].detail, "must be closed (rule 'tcp/23'); held by telnetd (pid 5, uid 0)");
	assert_int_equal(fx.f.v[1].kind, AUDIT_FORBIDDEN_LISTENER);
	assert_int_equal(fx.f.v[2].kind, AUDIT_UNEXPECTED_LISTENER);
	fixture_done(&fx);
}

static void test_wrong_process(void **state)
{
	struct fixture fx;

	fixture_init(&fx, "allow = udp/5405 process=corosync\n");
	fixture_add(&fx, listener(IPPROTO_UDP, "192.0.2.1", 5405, 66, "nc"));
	compare(&fx, NULL);
	assert_int_equal(fx.f.n, 2); /* the wrong holder, and corosync's socket missing */
	assert_int_equal(fx.f.v[0].kind, AUDIT_WRONG_PROCESS);
	assert_string_equal(fx.f.v[0].detail,
			    "held by nc (pid 66, uid 0); allowed for 'corosync' (rule 'udp/5405 process=corosync')");
	assert_int_equal(fx.f.v[1].kind, AUDIT_MISSING_LISTENER);
	/* An owner that could not be found is not held against the rule. */
	fx.l[0].pid = 0;
	fx.l[0].comm[0] = '\0';
	compare(&fx, NULL);
	assert_int_equal(fx.f.n, 0);
	fixture_done(&fx);
}

static void test_address_rules(void **state)
{
	struct fixture fx;

	fixture_init(&fx, "allow = tcp/7777@192.0.2.100\n");
	fixture_add(&fx, listener(IPPROTO_TCP, "0.0.0.0", 7777, 3, "fo-echo"));
	compare(&fx, NULL);
	assert_int_equal(fx.f.n, 1);
	assert_int_equal(fx.f.v[0].kind, AUDIT_UNEXPECTED_LISTENER);
	assert_string_equal(fx.f.v[0].detail, "allowed on another address only; held by fo-echo (pid 3, uid 0)");
	fx.l[0] = listener(IPPROTO_TCP, "192.0.2.100", 7777, 3, "fo-echo");
	compare(&fx, NULL);
	assert_int_equal(fx.f.n, 0);
	fx.l[0] = listener(IPPROTO_TCP, "::ffff:192.0.2.100", 7777, 3, "fo-echo");
	compare(&fx, NULL);
	assert_int_equal(fx.f.n, 0);
	fixture_done(&fx);
}

static void test_missing_listener(void **state)
{
	struct audit_local_addrs local = {0};
	struct fixture fx;

	fixture_init(&fx, "allow = tcp/22\nallow = tcp/7777@192.0.2.100\n");
	local_add(&local, "192.0.2.1");
	compare(&fx, &local);
	assert_int_equal(fx.f.n, 1); /* the VIP is not here: its rule is not checked */
	assert_int_equal(fx.f.v[0].kind, AUDIT_MISSING_LISTENER);
	assert_string_equal(fx.f.v[0].subject, "tcp/22");
	assert_string_equal(fx.f.v[0].detail, "nothing listens for allow rule 'tcp/22'");
	local_add(&local, "192.0.2.100");
	compare(&fx, &local);
	assert_int_equal(fx.f.n, 2);
	assert_string_equal(fx.f.v[1].subject, "tcp/7777@192.0.2.100");
	fixture_add(&fx, listener(IPPROTO_TCP, "::", 22, 1, "sshd"));
	compare(&fx, &local);
	assert_int_equal(fx.f.n, 1); /* any socket on port 22 serves a rule without address */
	/* A dual-stack wildcard serves an IPv4 address too; a V6ONLY one does not. */
	fixture_add(&fx, listener(IPPROTO_TCP, "::", 7777, 2, "fo-echo"));
	fx.l[1].v6only = true;
	compare(&fx, &local);
	assert_int_equal(fx.f.n, 2);
	assert_int_equal(fx.f.v[0].kind, AUDIT_UNEXPECTED_LISTENER); /* not bound to the VIP alone */
	assert_int_equal(fx.f.v[1].kind, AUDIT_MISSING_LISTENER);
	fx.l[1].v6only = false;
	compare(&fx, &local);
	assert_int_equal(fx.f.n, 1);
	assert_int_equal(fx.f.v[0].kind, AUDIT_UNEXPECTED_LISTENER);
	fixture_done(&fx);
}

static void test_owners_carried(void **state)
{
	struct sockdiag_listener old_l[2] = {listener(IPPROTO_TCP, "0.0.0.0", 22, 10, "sshd"),
					     listener(IPPROTO_UDP, "0.0.0.0", 53, 11, "dnsmasq")};
	struct sockdiag_listener now_l[2] = {listener(IPPROTO_TCP, "0.0.0.0", 22, 0, ""),
					     listener(IPPROTO_TCP, "0.0.0.0", 8080, 0, "")};
	struct sockdiag_snapshot old = {.n = 2, .listeners = old_l}, now = {.n = 2, .listeners = now_l};

	old_l[0].inode = 500;
	old_l[1].inode = 100;
	now_l[0].inode = 500;
	now_l[1].inode = 900; /* opened since: owner unknown until the next periodic audit */
	owners_carry(&old, &now);
	assert_int_equal(now_l[0].pid, 10);
	assert_string_equal(now_l[0].comm, "sshd");
	assert_int_equal(now_l[1].pid, 0);
	owners_carry(NULL, &now);
}

/* ---- exposure ---- */

static void test_exposure_corosync(void **state)
{
	struct config *c = parse(GROUP);
	struct audit_exposure_input in = {.corosync_known = true, .crypto = false, .two_node = true};
	struct audit_findings f = {0};

	assert_int_equal(audit_exposure_check(c, &in, &f), 0); /* policy warn */
	assert_int_equal(f.n, 2);
	assert_int_equal(f.v[0].kind, AUDIT_EXPOSURE);
	assert_string_equal(f.v[0].subject, "corosync crypto");
	assert_int_equal(f.v[0].severity, AUDIT_WARNING);
	assert_string_equal(f.v[1].subject, "corosync two_node");
	audit_findings_clear(&f);
	in.has_qdevice = true;
	in.crypto = true;
	assert_int_equal(audit_exposure_check(c, &in, &f), 0);
	assert_int_equal(f.n, 0);
	config_free(c);

	c = parse("[fomgr]\nrequire_crypto = yes\n" GROUP);
	in.crypto = false;
	assert_int_equal(audit_exposure_check(c, &in, &f), -EPERM);
	assert_int_equal(f.v[0].severity, AUDIT_CRITICAL);
	audit_findings_clear(&f);
	config_free(c);

	c = parse(GROUP "[audit]\npolicy = refuse\n");
	in.crypto = true;
	in.has_qdevice = false;
	assert_int_equal(audit_exposure_check(c, &in, &f), -EPERM);
	assert_int_equal(f.n, 1);
	audit_findings_clear(&f);
	in.corosync_known = false; /* nothing known, nothing found */
	assert_int_equal(audit_exposure_check(c, &in, &f), 0);
	assert_int_equal(f.n, 0);
	config_free(c);
}

static void test_exposure_status(void **state)
{
	struct config *c = parse(GROUP);
	struct audit_exposure_input in = {.status_enabled = true, .status_loopback = false};
	struct audit_findings f = {0};

	assert_int_equal(audit_exposure_check(c, &in, &f), 0);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.v[0].subject, "status endpoint");
	assert_int_equal(f.v[0].severity, AUDIT_CRITICAL);
	audit_findings_clear(&f);
	in.status_tls = true;
	assert_int_equal(audit_exposure_check(c, &in, &f), 0);
	assert_int_equal(f.n, 0);
	in.status_tls = false;
	in.status_loopback = true;
	assert_int_equal(audit_exposure_check(c, &in, &f), 0);
	assert_int_equal(f.n, 0);
	config_free(c);
}

static void test_exposure_files(void **state)
{
	char dir[] = "/tmp/test_audit.XXXXXX", hook[64], key[64], okkey[64];
	struct config *c = parse(GROUP);
	struct audit_exposure_input in = {0};
	struct audit_findings f = {0};
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(hook, sizeof(hook), "%s/hook", dir);
	snprintf(key, sizeof(key), "%s/key", dir);
	snprintf(okkey, sizeof(okkey), "%s/okkey", dir);
	fclose(fopen(hook, "w"));
	fclose(fopen(key, "w"));
	fp = fopen(okkey, "w");
	fclose(fp);
	assert_int_equal(chmod(hook, 0777), 0);
	assert_int_equal(chmod(key, 0644), 0);
	assert_int_equal(chmod(okkey, 0600), 0);
	assert_int_equal(audit_exposure_add_file(&in, hook, "hook"), 0);
	assert_int_equal(audit_exposure_add_file(&in, key, "key"), 0);
	assert_int_equal(audit_exposure_add_file(&in, okkey, "key"), 0);
	assert_int_equal(audit_exposure_add_file(&in, "/nonexistent/x", "hook"), 0);
	assert_int_equal(audit_exposure_add_file(&in, "", "hook"), 0); /* not configured */
	assert_int_equal(in.n_files, 4);
	assert_int_equal(audit_exposure_check(c, &in, &f), 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.v[0].subject, hook);
	assert_string_equal(f.v[0].detail, "hook file is writable by others (mode 0777)");
	assert_string_equal(f.v[1].detail, "key file is readable by others (mode 0644)");
	audit_findings_clear(&f);
	/* A file mode is pure input: the check itself reads nothing. */
	in.files[0].mode = S_IFREG | 0775;
	assert_int_equal(audit_exposure_check(c, &in, &f), 0);
	assert_string_equal(f.v[0].detail, "hook file is writable by its group (mode 0775)");
	audit_findings_clear(&f);
	config_free(c);
	unlink(hook);
	unlink(key);
	unlink(okkey);
	rmdir(dir);
}

static void test_exposure_gather(void **state)
{
	char dir[] = "/tmp/test_audit.XXXXXX", hook[64], text[512];
	struct membership_info info = {.two_node = 1, .crypto = 1};
	struct audit_exposure_input in;
	struct audit_findings f = {0};
	struct config *c;

	assert_non_null(mkdtemp(dir));
	snprintf(hook, sizeof(hook), "%s/notify", dir);
	fclose(fopen(hook, "w"));
	assert_int_equal(chmod(hook, 0757), 0);
	snprintf(text, sizeof(text), "[fomgr]\nnotify_hook = %s\n" GROUP, hook);
	c = parse(text);
	audit_exposure_gather(c, &info, &in);
	assert_true(in.corosync_known);
	assert_true(in.two_node);
	assert_true(in.status_enabled); /* the default: 127.0.0.1:9900 */
	assert_true(in.status_loopback);
	assert_false(in.status_tls);
	assert_string_equal(in.files[0].path, hook);
	assert_int_equal(audit_exposure_check(c, &in, &f), 0);
	assert_int_equal(f.n, 2); /* two_node without qdevice, the hook writable by others */
	assert_string_equal(f.v[0].subject, "corosync two_node");
	assert_string_equal(f.v[1].subject, hook);
	audit_findings_clear(&f);
	audit_exposure_gather(c, NULL, &in);
	assert_false(in.corosync_known);
	config_free(c);
	unlink(hook);
	rmdir(dir);
}

/* ---- probes ---- */

static void test_probe_plan(void **state)
{
	struct config *c = parse(GROUP "[audit]\nallow = tcp/22\nallow = tcp/7777@192.0.2.100\n"
				       "allow = udp/5405\nmust_be_closed = tcp/23\n");
	struct audit_targets t = {0};
	struct audit_local_addrs local = {0};
	struct audit_probe *plan;
	int n;

	assert_int_equal(audit_targets_add(&t, "node1", false, "192.0.2.1"), 0);
	assert_int_equal(audit_targets_add(&t, "node2", false, "192.0.2.2"), 0);
	assert_int_equal(audit_targets_add(&t, "node3", false, "2001:db8::3"), 0);
	assert_int_equal(audit_targets_add(&t, "node4", false, "node4.example"), -EINVAL);
	audit_targets_add_vips(c, &t);
	assert_int_equal(audit_targets_add(&t, "again", false, "192.0.2.2"), 0); /* no duplicate */
	assert_int_equal(t.n, 4);
	assert_true(t.t[3].vip);
	assert_string_equal(t.t[3].name, "web");
	local_add(&local, "192.0.2.1");

	n = audit_probe_plan(&c->audit, &t, &local, &plan);
	assert_int_equal(n, 7);
	/* node2: 23 then 22; node3: 23, 22; the VIP: 23, 22, 7777. No UDP, not ourselves. */
	assert_int_equal(plan[0].target, 1);
	assert_int_equal(plan[0].port, 23);
	assert_true(plan[0].must_be_closed);
	assert_int_equal(plan[1].port, 22);
	assert_false(plan[1].must_be_closed);
	assert_string_equal(plan[1].rule, "tcp/22");
	assert_int_equal(plan[2].target, 2);
	assert_int_equal(plan[6].target, 3);
	assert_int_equal(plan[6].port, 7777);
	free(plan);

	local_add(&local, "192.0.2.100"); /* we hold the VIP: it is not probed from here */
	n = audit_probe_plan(&c->audit, &t, &local, &plan);
	assert_int_equal(n, 4);
	free(plan);
	config_free(c);
}

static void test_probe_judge(void **state)
{
	struct audit_targets t = {0};
	struct audit_probe closed = {0, 23, true, "tcp/23"}, allowed = {0, 22, false, "tcp/22"};
	struct audit_findings f = {0};

	audit_targets_add(&t, "node2", false, "192.0.2.2");
	assert_int_equal(audit_probe_judge(&closed, &t.t[0], AUDIT_PROBE_REFUSED, &f), 0);
	assert_int_equal(audit_probe_judge(&closed, &t.t[0], AUDIT_PROBE_TIMEOUT, &f), 0);
	assert_int_equal(audit_probe_judge(&allowed, &t.t[0], AUDIT_PROBE_OPEN, &f), 0);
	assert_int_equal(f.n, 0);
	assert_int_equal(audit_probe_judge(&closed, &t.t[0], AUDIT_PROBE_OPEN, &f), 1);
	assert_int_equal(f.v[0].kind, AUDIT_CLOSED_PORT_OPEN);
	assert_int_equal(f.v[0].severity, AUDIT_CRITICAL);
	assert_string_equal(f.v[0].subject, "tcp/23 on node2 (192.0.2.2)");
	assert_int_equal(audit_probe_judge(&allowed, &t.t[0], AUDIT_PROBE_TIMEOUT, &f), 1);
	assert_int_equal(f.v[1].kind, AUDIT_ALLOWED_UNREACHABLE);
	assert_string_equal(f.v[1].detail, "allowed (rule 'tcp/22') but does not answer from here: no answer (filtered?)");
	audit_findings_clear(&f);
}

/* ---- the running audit ---- */

static char logpath[64];

static struct auditlog *log_open(void)
{
	char dir[] = "/tmp/test_audit.XXXXXX";
	struct auditlog *log;

	assert_non_null(mkdtemp(dir));
	snprintf(logpath, sizeof(logpath), "%s/audit.log", dir);
	log = auditlog_open(logpath, "n1", NULL);
	assert_non_null(log);
	return log;
}

static void log_remove(void)
{
	char dir[64];

	unlink(logpath);
	snprintf(dir, sizeof(dir), "%s", logpath);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
}

static int log_verify(void)
{
	struct auditlog_verify_result res;
	FILE *f = fopen(logpath, "r");
	int r = auditlog_verify(f, NULL, &res);

	fclose(f);
	return r;
}

static bool log_contains(const char *s)
{
	char buf[65536];
	FILE *f = fopen(logpath, "r");
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);

	fclose(f);
	buf[n] = '\0';
	return strstr(buf, s) != NULL;
}

static void test_findings_new_and_resolved(void **state)
{
	struct config *c = parse(GROUP "[audit]\nprobe = no\n");
	struct auditlog *log = log_open();
	struct audit *a = audit_new(EV_DEFAULT, c, log);
	struct audit_findings now = {0};
	struct audit_stats st;

	assert_non_null(a);
	audit_findings_add(&now, AUDIT_UNEXPECTED_LISTENER, AUDIT_WARNING, "tcp/8080 on 0.0.0.0", "x");
	audit_findings_add(&now, AUDIT_MISSING_LISTENER, AUDIT_WARNING, "tcp/22", "y");
	reconcile(a, SRC_PORTS, &now);
	assert_int_equal(auditlog_seq(log), 2);
	audit_findings_add(&now, AUDIT_MISSING_LISTENER, AUDIT_WARNING, "tcp/22", "y again");
	reconcile(a, SRC_PORTS, &now); /* the same finding again: nothing recorded */
	assert_int_equal(auditlog_seq(log), 3); /* 8080 resolved */
	audit_get_stats(a, &st);
	assert_int_equal(st.findings_new, 2);
	assert_int_equal(st.findings_resolved, 1);
	assert_int_equal(st.findings_active, 1);
	assert_true(log_contains("\"state\":\"resolved\""));
	assert_true(log_contains("\"subject\":\"tcp/8080 on 0.0.0.0\""));
	assert_int_equal(log_verify(), 0);
	audit_free(a);
	auditlog_close(log);
	log_remove();
	config_free(c);
}

static void test_peer_drift(void **state)
{
	struct config *c = parse(GROUP "[audit]\nprobe = no\n");
	struct auditlog *log = log_open();
	struct audit *a = audit_new(EV_DEFAULT, c, log);
	struct netstate_peer_state peer2, peer3;
	struct audit_stats st;

	audit_local_state(a, &peer2);
	snprintf(peer2.node, sizeof(peer2.node), "node2");
	peer3 = peer2;
	snprintf(peer3.node, sizeof(peer3.node), "node3");
	assert_int_equal(audit_peer_state(a, &peer2), 0);
	assert_int_equal(auditlog_seq(log), 0); /* the same state: nothing to say */

	peer2.config_digest[0] ^= 1;     /* node2's config was edited and reloaded */
	memset(peer3.digests.firewall, 7, 32); /* no firewall digest of ours yet: unknown */
	snprintf(peer3.fomgr_version, sizeof(peer3.fomgr_version), "9.9.9");
	assert_int_equal(audit_peer_state(a, &peer2), 0);
	assert_int_equal(audit_peer_state(a, &peer3), 0);
	audit_get_stats(a, &st);
	assert_int_equal(st.findings_active, 2);
	assert_true(log_contains("\"subject\":\"fomgr config on node2\""));
	assert_true(log_contains("\"subject\":\"fomgr version on node3\""));
	assert_int_equal(auditlog_seq(log), 2);
	assert_int_equal(audit_peer_state(a, &peer2), 0); /* again: nothing new */
	assert_int_equal(auditlog_seq(log), 2);

	peer2.config_digest[0] ^= 1; /* node2 back in line: resolved, node3's stays */
	assert_int_equal(audit_peer_state(a, &peer2), 0);
	audit_get_stats(a, &st);
	assert_int_equal(st.findings_active, 1);
	assert_int_equal(st.findings_resolved, 1);
	audit_peer_gone(a, "node3");
	audit_get_stats(a, &st);
	assert_int_equal(st.findings_active, 0);
	assert_int_equal(log_verify(), 0);
	audit_free(a);
	auditlog_close(log);
	log_remove();
	config_free(c);
}

/* As root: a network namespace of our own with a dummy interface holding
 * 192.0.2.1/24 and the VIP 192.0.2.100/24. */
static bool lab_netns(void)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0)
		return false;
	return system("ip link set lo up && ip link add d0 type veth peer name d1 && ip link set d1 up && ip addr add 192.0.2.1/24 dev d0 && "
		      "ip addr add 192.0.2.100/24 dev d0 && ip link set d0 up") == 0;
}

static int connect_vip(int *server, int *accepted)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0xc0000264)};
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	*accepted = accept(l, NULL, NULL);
	*server = l;
	return c;
}

/* The transition audits run from an idle watcher: a few turns of the loop. */
static void run_loop(void)
{
	for (int i = 0; i < 4; i++)
		ev_run(EV_DEFAULT, EVRUN_NOWAIT);
}

static void test_transition_hooks(void **state)
{
	struct config *c = parse("[group vip]\ninterface = d0\naddress = 192.0.2.100/24\n[audit]\nprobe = no\n");
	struct auditlog *log;
	struct audit *a;
	struct audit_stats st;
	int server, accepted, client;
	json_t *status;

	if (!lab_netns()) {
		config_free(c);
		skip();
	}
	log = log_open();
	a = audit_new(EV_DEFAULT, c, log);
	client = connect_vip(&server, &accepted);

	assert_int_equal(audit_before_release(a, "vip"), 0);
	assert_int_equal(audit_before_release(a, "nope"), -ENOENT);
	audit_get_stats(a, &st);
	assert_int_equal(st.before_release_runs, 1);
	assert_int_equal(auditlog_seq(log), 0); /* counted and written from the loop, not here */
	run_loop();
	audit_get_stats(a, &st);
	assert_int_equal(st.vip_connections_last, 1); /* the accepted end (the client speaks from 192.0.2.1) */
	assert_true(log_contains("\"phase\":\"before_release\""));

	assert_int_equal(audit_after_acquire(a, "vip"), 0);
	audit_get_stats(a, &st);
	assert_int_equal(st.after_acquire_runs, 0);
	run_loop();
	audit_get_stats(a, &st);
	assert_int_equal(st.after_acquire_runs, 1);
	assert_true(st.listeners >= 1);
	assert_true(log_contains("\"phase\":\"after_acquire\""));
	assert_true(log_contains("\"192.0.2.100/24\":1"));
	assert_true(log_contains("tcp/")); /* the listener is in the snapshot */
	assert_int_equal(log_verify(), 0);
	status = audit_status_json(a);
	assert_non_null(json_object_get(status, "findings"));
	json_decref(status);

	close(client);
	close(accepted);
	close(server);
	audit_free(a);
	auditlog_close(log);
	log_remove();
	config_free(c);
}

static void test_names(void **state)
{
	for (int k = 0; k < AUDIT_KIND_MAX; k++)
		assert_non_null(audit_kind_str((enum audit_kind)k));
	assert_string_equal(audit_kind_str(AUDIT_KIND_MAX), "invalid");
	assert_string_equal(audit_severity_str(AUDIT_CRITICAL), "critical");
	assert_string_equal(audit_probe_result_str(AUDIT_PROBE_TIMEOUT), "timeout");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_allowed),
		cmocka_unit_test(test_unexpected_listener),
		cmocka_unit_test(test_forbidden_listener),
		cmocka_unit_test(test_wrong_process),
		cmocka_unit_test(test_address_rules),
		cmocka_unit_test(test_missing_listener),
		cmocka_unit_test(test_owners_carried),
		cmocka_unit_test(test_exposure_corosync),
		cmocka_unit_test(test_exposure_status),
		cmocka_unit_test(test_exposure_files),
		cmocka_unit_test(test_exposure_gather),
		cmocka_unit_test(test_probe_plan),
		cmocka_unit_test(test_probe_judge),
		cmocka_unit_test(test_findings_new_and_resolved),
		cmocka_unit_test(test_peer_drift),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_transition_hooks), /* last: it moves to a namespace of its own */
	};

	log_init("test_audit", LOG_LVL_ERR, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
