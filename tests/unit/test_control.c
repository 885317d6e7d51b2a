/* The control socket: request parsing and authorization as tables of pure
 * decisions, then the socket itself in this process's own loop (limits, refusals,
 * the audit record before acting, what may sit at the socket's path). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>
#include <jansson.h>

#include "auditlog.h"
#include "control_socket.h"
#include "manager.h"

/* ---- parsing ---- */

static struct control_request parse_ok(const char *line)
{
	struct control_request req;
	char why[300] = "";
	int rc = control_parse_request(line, strlen(line), &req, why, sizeof(why));

	if (rc != 0)
		print_message("refused: %s: %s\n", line, why);
	assert_int_equal(rc, 0);
	return req;
}

static void parse_bad(const char *line, const char *expected)
{
	struct control_request req;
	char why[300] = "";

	assert_int_equal(control_parse_request(line, strlen(line), &req, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, expected);
}

/* The commands of issue 13: each request line, and where its arguments land. */
static void parse_new_commands(void)
{
	static const struct {
		const char *line;
		enum control_cmd cmd;
		const char *group, *node, *check, *action;
	} rows[] = {
		{"{\"v\":1,\"cmd\":\"group.disable\",\"args\":{\"group\":\"web\"}}", CONTROL_GROUP_DISABLE, "web", "", "", ""},
		{"{\"v\":1,\"cmd\":\"group.enable\",\"args\":{\"group\":\"web\"}}", CONTROL_GROUP_ENABLE, "web", "", "", ""},
		{"{\"v\":1,\"cmd\":\"maintenance.on\"}", CONTROL_MAINTENANCE_ON, "", "", "", ""},
		{"{\"v\":1,\"cmd\":\"maintenance.off\",\"args\":{}}", CONTROL_MAINTENANCE_OFF, "", "", "", ""},
		{"{\"v\":1,\"cmd\":\"simulate\",\"args\":{\"action\":\"move\",\"group\":\"web\",\"node\":\"n2\"}}",
		 CONTROL_SIMULATE, "web", "n2", "", "move"},
		{"{\"v\":1,\"cmd\":\"simulate\",\"args\":{\"action\":\"fail-check\",\"node\":\"n2\",\"check\":\"drain\"}}",
		 CONTROL_SIMULATE, "", "n2", "drain", "fail-check"},
		{"{\"v\":1,\"cmd\":\"simulate\",\"args\":{\"node\":\"n3\",\"action\":\"fail\"}}", CONTROL_SIMULATE, "", "n3", "",
		 "fail"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct control_request r = parse_ok(rows[i].line);

		assert_int_equal(r.cmd, rows[i].cmd);
		assert_string_equal(r.group, rows[i].group);
		assert_string_equal(r.node, rows[i].node);
		assert_string_equal(r.check, rows[i].check);
		assert_string_equal(r.action, rows[i].action);
	}
}

static void parse_commands(void **state)
{
	struct control_request r;

	r = parse_ok("{\"v\":1,\"id\":\"a-1\",\"cmd\":\"status\"}");
	assert_int_equal(r.cmd, CONTROL_STATUS);
	assert_true(r.has_id);
	assert_string_equal(r.id, "a-1");
	r = parse_ok("{\"cmd\":\"events\",\"v\":1}");
	assert_int_equal(r.cmd, CONTROL_EVENTS);
	assert_false(r.has_id);
	r = parse_ok("{\"v\":1,\"id\":\"7\",\"cmd\":\"vip.move\",\"args\":{\"group\":\"web\",\"to\":\"node2\"}}");
	assert_int_equal(r.cmd, CONTROL_VIP_MOVE);
	assert_string_equal(r.group, "web");
	assert_string_equal(r.node, "node2");
	r = parse_ok("{\"v\":1,\"cmd\":\"vip.move\",\"args\":{\"group\":\"web\"}}");
	assert_string_equal(r.node, "");
	r = parse_ok("{\"v\":1,\"cmd\":\"vip.clear\",\"args\":{\"group\":\"db.1\"}}");
	assert_int_equal(r.cmd, CONTROL_VIP_CLEAR);
	assert_string_equal(r.group, "db.1");
	r = parse_ok("{\"v\":1,\"cmd\":\"node.standby\",\"args\":{\"node\":\"node-3\"}}");
	assert_int_equal(r.cmd, CONTROL_NODE_STANDBY);
	assert_string_equal(r.node, "node-3");
	r = parse_ok("{\"v\":1,\"cmd\":\"node.unstandby\",\"args\":{\"node\":\"n_3\"}}");
	assert_int_equal(r.cmd, CONTROL_NODE_UNSTANDBY);
	r = parse_ok("{\"v\":1,\"cmd\":\"reload\",\"args\":{}}");
	assert_int_equal(r.cmd, CONTROL_RELOAD);
	r = parse_ok("  {\"v\":1,\"cmd\":\"log.reopen\"}  ");
	assert_int_equal(r.cmd, CONTROL_LOG_REOPEN);
	parse_new_commands();
	r = parse_ok("{\"v\":1,\"cmd\":\"history\"}");
	assert_int_equal(r.cmd, CONTROL_HISTORY);
	assert_int_equal(r.since_ms, 0);
	r = parse_ok("{\"v\":1,\"cmd\":\"history\",\"args\":{\"since_ms\":1764720000000}}");
	assert_int_equal(r.since_ms, 1764720000000ull);
	for (int i = 0; i < CONTROL_CMD_MAX; i++)
		assert_string_not_equal(control_cmd_str((enum control_cmd)i), "invalid");
	assert_string_equal(control_cmd_str(CONTROL_CMD_MAX), "invalid");
}

static void parse_errors(void **state)
{
	char big[CONTROL_MAX_LINE + 2];
	struct control_request req;
	char why[300];

	parse_bad("", "malformed JSON at byte 0: '[' or '{' expected near end of file");
	parse_bad("{\"v\":1,", "malformed JSON at byte 7: string or '}' expected near end of file");
	parse_bad("{\"v\":1}}", "malformed JSON at byte 8: end of file expected near '}'");
	parse_bad("[1]", "a request is a JSON object");
	parse_bad("\"status\"", "malformed JSON at byte 8: '[' or '{' expected near '\"status\"'");
	parse_bad("{\"cmd\":\"status\"}", "missing \"v\" (protocol version 1)");
	parse_bad("{\"v\":2,\"cmd\":\"status\"}", "unsupported protocol version (this fomgr speaks 1)");
	parse_bad("{\"v\":\"1\",\"cmd\":\"status\"}", "unsupported protocol version (this fomgr speaks 1)");
	parse_bad("{\"v\":1}", "missing \"cmd\"");
	parse_bad("{\"v\":1,\"cmd\":7}", "\"cmd\" must be a string");
	parse_bad("{\"v\":1,\"cmd\":\"shutdown\"}", "unknown command 'shutdown'");
	parse_bad("{\"v\":1,\"cmd\":\"simulate\",\"args\":{\"action\":\"reboot\",\"node\":\"n2\"}}",
		  "unknown simulate action (standby, move, fail, fail-check)");
	parse_bad("{\"v\":1,\"cmd\":\"simulate\",\"args\":{\"action\":\"move\",\"node\":\"n2\"}}",
		  "simulate move takes group, node");
	parse_bad("{\"v\":1,\"cmd\":\"simulate\",\"args\":{\"action\":\"standby\",\"node\":\"n2\",\"check\":\"c\"}}",
		  "simulate standby takes node");
	parse_bad("{\"v\":1,\"cmd\":\"simulate\",\"args\":{\"node\":\"n2\"}}", "missing argument 'action' for simulate");
	parse_bad("{\"v\":1,\"cmd\":\"group.enable\",\"args\":{\"group\":\"w\",\"node\":\"n\"}}",
		  "unknown argument 'node' for group.enable");
	parse_bad("{\"v\":1,\"cmd\":\"\\u0007bell\"}", "unknown command '?bell'");
	parse_bad("{\"v\":1,\"cmd\":\"status\",\"sudo\":true}", "unknown key 'sudo' in request");
	parse_bad("{\"v\":1,\"cmd\":\"status\",\"args\":[]}", "\"args\" must be an object");
	parse_bad("{\"v\":1,\"cmd\":\"status\",\"args\":{\"x\":1}}", "unknown argument 'x' for status");
	parse_bad("{\"v\":1,\"cmd\":\"history\",\"args\":{\"since_ms\":\"1h\"}}",
		  "bad argument 'since_ms' for history: Unix time in ms");
	parse_bad("{\"v\":1,\"cmd\":\"history\",\"args\":{\"since_ms\":-1}}",
		  "bad argument 'since_ms' for history: Unix time in ms");
	parse_bad("{\"v\":1,\"cmd\":\"status\",\"args\":{\"since_ms\":1}}", "unknown argument 'since_ms' for status");
	parse_bad("{\"v\":1,\"cmd\":\"vip.move\"}", "missing argument 'group' for vip.move");
	parse_bad("{\"v\":1,\"cmd\":\"vip.move\",\"args\":{\"to\":\"n2\"}}", "missing argument 'group' for vip.move");
	parse_bad("{\"v\":1,\"cmd\":\"vip.move\",\"args\":{\"group\":\"web\",\"node\":\"n2\"}}",
		  "unknown argument 'node' for vip.move");
	parse_bad("{\"v\":1,\"cmd\":\"vip.clear\",\"args\":{\"group\":1}}",
		  "bad argument 'group' for vip.clear: 1 to 63 of A-Z a-z 0-9 _ . -");
	parse_bad("{\"v\":1,\"cmd\":\"vip.clear\",\"args\":{\"group\":\"\"}}",
		  "bad argument 'group' for vip.clear: 1 to 63 of A-Z a-z 0-9 _ . -");
	parse_bad("{\"v\":1,\"cmd\":\"vip.clear\",\"args\":{\"group\":\"a/b\"}}",
		  "bad argument 'group' for vip.clear: 1 to 63 of A-Z a-z 0-9 _ . -");
	parse_bad("{\"v\":1,\"cmd\":\"node.standby\",\"args\":{\"node\":\"a\\u0000b\"}}",
		  "malformed JSON at byte 53: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"a\\u0000b\"'");
	parse_bad("{\"v\":1,\"cmd\":\"node.standby\",\"args\":{\"node\":"
		  "\"0123456789012345678901234567890123456789012345678901234567890123\"}}",
		  "bad argument 'node' for node.standby: 1 to 63 of A-Z a-z 0-9 _ . -");
	parse_bad("{\"v\":1,\"cmd\":\"status\",\"cmd\":\"reload\"}",
		  "malformed JSON at byte 27: duplicate object key near '\"cmd\"'");
	parse_bad("{\"v\":1,\"id\":7,\"cmd\":\"status\"}", "\"id\" must be a string of 1 to 128 printable ASCII characters");
	parse_bad("{\"v\":1,\"id\":\"\",\"cmd\":\"status\"}",
		  "\"id\" must be a string of 1 to 128 printable ASCII characters");
	parse_bad("{\"v\":1,\"id\":\"a\\nb\",\"cmd\":\"status\"}",
		  "\"id\" must be a string of 1 to 128 printable ASCII characters");

	/* The id is kept even when the rest is refused, for the reply. */
	{
		static const char line[] = "{\"v\":1,\"id\":\"x9\",\"cmd\":\"nope\"}";

		assert_int_equal(control_parse_request(line, strlen(line), &req, why, sizeof(why)), -EINVAL);
	}
	assert_true(req.has_id);
	assert_string_equal(req.id, "x9");

	memset(big, ' ', sizeof(big));
	assert_int_equal(control_parse_request(big, CONTROL_MAX_LINE + 1, &req, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "request longer than 65536 bytes");
}

/* ---- authorization ---- */

static void roles(void **state)
{
	const gid_t extra[] = {10, 2001, 30};
	const struct control_policy both = {.has_admin = 1, .has_view = 1, .admin_gid = 2000, .view_gid = 2001};
	const struct control_policy none = {0};
	struct control_peer root = {.uid = 0, .gid = 0}, admin = {.uid = 1000, .gid = 2000},
			    viewer = {.uid = 1001, .gid = 100, .n_groups = 3, .groups = extra},
			    other = {.uid = 1002, .gid = 100};
	struct control_peer both_groups = {.uid = 1003, .gid = 2001, .n_groups = 1, .groups = (gid_t[]){2000}};

	assert_int_equal(control_peer_role(&root, &both), CONTROL_ROLE_ADMIN);
	assert_int_equal(control_peer_role(&root, &none), CONTROL_ROLE_ADMIN);
	assert_int_equal(control_peer_role(&admin, &both), CONTROL_ROLE_ADMIN);
	assert_int_equal(control_peer_role(&admin, &none), CONTROL_ROLE_NONE);
	assert_int_equal(control_peer_role(&viewer, &both), CONTROL_ROLE_VIEW);
	assert_int_equal(control_peer_role(&other, &both), CONTROL_ROLE_NONE);
	assert_int_equal(control_peer_role(&both_groups, &both), CONTROL_ROLE_ADMIN);
	/* a group that is not set trusts nobody, even with gid 0 as its value */
	assert_int_equal(control_peer_role(&(struct control_peer){.uid = 5, .gid = 0}, &none), CONTROL_ROLE_NONE);
	assert_string_equal(control_role_str(CONTROL_ROLE_VIEW), "view");
}

static void permission_matrix(void **state)
{
	/* rows: command; columns: none, view, admin */
	static const int expected[CONTROL_CMD_MAX][CONTROL_ROLE_MAX] = {
		[CONTROL_STATUS] = {0, 1, 1},        [CONTROL_EVENTS] = {0, 1, 1},
		[CONTROL_VIP_MOVE] = {0, 0, 1},      [CONTROL_VIP_CLEAR] = {0, 0, 1},
		[CONTROL_NODE_STANDBY] = {0, 0, 1},  [CONTROL_NODE_UNSTANDBY] = {0, 0, 1},
		[CONTROL_RELOAD] = {0, 0, 1},        [CONTROL_LOG_REOPEN] = {0, 0, 1},
		[CONTROL_GROUP_DISABLE] = {0, 0, 1}, [CONTROL_GROUP_ENABLE] = {0, 0, 1},
		[CONTROL_MAINTENANCE_ON] = {0, 0, 1}, [CONTROL_MAINTENANCE_OFF] = {0, 0, 1},
		[CONTROL_SIMULATE] = {0, 1, 1}, /* read-only, as status */
		[CONTROL_HISTORY] = {0, 1, 1}, /* read-only */
	};

	for (int c = 0; c < CONTROL_CMD_MAX; c++) {
		assert_int_equal(control_cmd_mutates((enum control_cmd)c), !expected[c][CONTROL_ROLE_VIEW]);
		for (int r = 0; r < CONTROL_ROLE_MAX; r++)
			assert_int_equal(control_cmd_allowed((enum control_cmd)c, (enum control_role)r), expected[c][r]);
	}
	assert_false(control_cmd_allowed(CONTROL_CMD_MAX, CONTROL_ROLE_ADMIN));
}

static void exit_codes(void **state)
{
	assert_int_equal(control_errno_exit(0), 0);
	assert_int_equal(control_errno_exit(-EEXIST), 0);
	assert_int_equal(control_errno_exit(-ENOENT), 68);
	assert_int_equal(control_errno_exit(-ENOTCONN), 75);
	assert_int_equal(control_errno_exit(-EBUSY), 75);
	assert_int_equal(control_errno_exit(-ECANCELED), 75);
	assert_int_equal(control_errno_exit(-EAGAIN), 75);
	assert_int_equal(control_errno_exit(-EHOSTUNREACH), 1);
	assert_int_equal(control_errno_exit(-EINVAL), 78);
	assert_int_equal(control_errno_exit(-ENOSPC), 74);
	assert_int_equal(control_errno_exit(-EPERM), 77);
	assert_string_equal(control_result_str(CONTROL_RESULT_DENIED), "denied");
}

/* ---- the socket, in this process's loop ---- */

struct fixture {
	char dir[64], path[128], audit[128];
	struct ev_loop *loop;
	struct manager *m;
	struct auditlog *log;
	struct control_socket *ctl;
	int reloads;
	int no_log; /* the provider answers NULL */
};

static struct auditlog *provide_log(void *arg)
{
	struct fixture *f = arg;

	return f->no_log ? NULL : f->log;
}

static int fake_reload(void *arg, char *detail, size_t size)
{
	struct fixture *f = arg;

	f->reloads++;
	snprintf(detail, size, "test.conf:3: bad thing");
	return -EINVAL;
}

static const char *own_group(void)
{
	struct group *g = getgrgid(getegid());

	return g ? g->gr_name : "root";
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct control_socket_options o = {0};

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_control.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/control.sock", f->dir);
	snprintf(f->audit, sizeof(f->audit), "%s/audit.log", f->dir);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	f->m = manager_new(f->loop, "/nonexistent/fomgr.conf"); /* never started: "starting" */
	f->log = auditlog_open(f->audit, "test", NULL);
	assert_non_null(f->log);
	o.path = f->path;
	o.admin_group = own_group(); /* we are an admin whoever runs the test */
	o.auditlog = provide_log;
	o.reload = fake_reload;
	o.arg = f;
	f->ctl = control_socket_new(f->loop, f->m, &o);
	assert_non_null(f->ctl);
	assert_int_equal(control_socket_start(f->ctl), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	control_socket_free(f->ctl);
	auditlog_close(f->log);
	manager_free(f->m);
	ev_loop_destroy(f->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int client_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Runs the loop until one line arrives on fd (or the peer closes: NULL). */
static char *read_line(struct fixture *f, int fd)
{
	static char buf[1 << 20];
	size_t len = 0;

	for (int spins = 0; spins < 20000; spins++) {
		ssize_t n;

		ev_run(f->loop, EVRUN_NOWAIT);
		n = recv(fd, buf + len, 1, MSG_DONTWAIT); /* byte by byte: never past the line */
		if (n == 0)
			return NULL;
		if (n < 0) {
			usleep(100);
			continue;
		}
		if (buf[len] == '\n') {
			buf[len] = '\0';
			return buf;
		}
		if (++len == sizeof(buf) - 1)
			break;
	}
	fail_msg("no line");
	return NULL;
}

static json_t *request(struct fixture *f, int fd, const char *line)
{
	json_t *reply;
	char *text;

	assert_int_equal(send(fd, line, strlen(line), 0), (ssize_t)strlen(line));
	text = read_line(f, fd);
	assert_non_null(text);
	reply = json_loads(text, 0, NULL);
	assert_non_null(reply);
	assert_int_equal(json_integer_value(json_object_get(reply, "v")), 1);
	return reply;
}

static void expect_error_reply(json_t *reply, int code, const char *error)
{
	assert_true(json_is_false(json_object_get(reply, "ok")));
	assert_int_equal(json_integer_value(json_object_get(reply, "code")), code);
	if (error)
		assert_string_equal(json_string_value(json_object_get(reply, "error")), error);
	json_decref(reply);
}

static void socket_file(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, getegid());
}

static void status_and_bad_requests(void **state)
{
	struct fixture *f = *state;
	int fd = client_connect(f->path);
	json_t *r;

	r = request(f, fd, "{\"v\":1,\"id\":\"s1\",\"cmd\":\"status\"}\n");
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r, "id")), "s1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "status"), "state")), "starting");
	json_decref(r);
	/* refused with a reason, and the connection goes on */
	expect_error_reply(request(f, fd, "{nope\n"), 64, "malformed JSON at byte 5: string or '}' expected near 'nope'");
	expect_error_reply(request(f, fd, "{\"v\":1,\"id\":\"u\",\"cmd\":\"format-disk\"}\r\n"), 64,
			   "unknown command 'format-disk'");
	r = request(f, fd, "\n\n{\"v\":1,\"cmd\":\"status\"}\n");
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	close(fd);
}

static void oversized_line(void **state)
{
	struct fixture *f = *state;
	int fd = client_connect(f->path);
	size_t n = CONTROL_MAX_LINE + 100;
	char *big = malloc(n);
	size_t sent = 0;
	char *line = NULL;

	memset(big, 'x', n);
	while (sent < n) { /* the server reads as we write */
		ssize_t k = send(fd, big + sent, n - sent, MSG_DONTWAIT);

		if (k > 0)
			sent += (size_t)k;
		ev_run(f->loop, EVRUN_NOWAIT);
		if (k <= 0 && sent > CONTROL_MAX_LINE)
			break;
	}
	line = read_line(f, fd);
	assert_non_null(line);
	expect_error_reply(json_loads(line, 0, NULL), 64, "request line longer than 65536 bytes: closing");
	assert_null(read_line(f, fd)); /* closed */
	close(fd);
	free(big);
	/* still serving */
	fd = client_connect(f->path);
	json_decref(request(f, fd, "{\"v\":1,\"cmd\":\"status\"}\n"));
	close(fd);
}

static void too_many_clients(void **state)
{
	struct fixture *f = *state;
	int fds[CONTROL_SOCKET_MAX_CLIENTS + 1];
	struct control_socket_stats st;
	char *line;

	for (int i = 0; i < CONTROL_SOCKET_MAX_CLIENTS; i++) {
		fds[i] = client_connect(f->path);
		ev_run(f->loop, EVRUN_NOWAIT);
	}
	control_socket_get_stats(f->ctl, &st);
	assert_int_equal(st.clients, CONTROL_SOCKET_MAX_CLIENTS);
	fds[CONTROL_SOCKET_MAX_CLIENTS] = client_connect(f->path);
	line = read_line(f, fds[CONTROL_SOCKET_MAX_CLIENTS]);
	assert_non_null(line);
	expect_error_reply(json_loads(line, 0, NULL), 75, "too many clients (at most 32)");
	assert_null(read_line(f, fds[CONTROL_SOCKET_MAX_CLIENTS]));
	control_socket_get_stats(f->ctl, &st);
	assert_int_equal(st.requests[CONTROL_RESULT_REFUSED], 1);
	/* the ones in still get answers */
	json_decref(request(f, fds[0], "{\"v\":1,\"cmd\":\"status\"}\n"));
	for (int i = 0; i <= CONTROL_SOCKET_MAX_CLIENTS; i++)
		close(fds[i]);
	for (int i = 0; i < 10; i++)
		ev_run(f->loop, EVRUN_NOWAIT);
	control_socket_get_stats(f->ctl, &st);
	assert_int_equal(st.clients, 0);
}

static int audit_has(const char *path, const char *needle)
{
	char line[4096];
	FILE *fp = fopen(path, "r");
	int found = 0;

	assert_non_null(fp);
	while (!found && fgets(line, sizeof(line), fp))
		found = strstr(line, needle) != NULL;
	fclose(fp);
	return found;
}

static void mutating_is_audited_first(void **state)
{
	struct fixture *f = *state;
	int fd = client_connect(f->path);
	FILE *fp;
	struct auditlog_verify_result res;

	/* The manager is still starting: the command fails, but its record is there. */
	expect_error_reply(request(f, fd, "{\"v\":1,\"id\":\"m\",\"cmd\":\"vip.move\",\"args\":{\"group\":\"web\","
					  "\"to\":\"node2\"}}\n"),
			   75, "fomgr is still starting (waiting for corosync)");
	assert_true(audit_has(f->audit, "\"command\":\"vip.move\""));
	assert_true(audit_has(f->audit, "\"phase\":\"request\""));
	assert_true(audit_has(f->audit, "\"phase\":\"result\""));
	assert_true(audit_has(f->audit, "\"to\":\"node2\""));
	/* reload refused: 78 with the errors */
	expect_error_reply(request(f, fd, "{\"v\":1,\"cmd\":\"reload\"}\n"), 78,
			   "configuration refused; the running one is kept:\ntest.conf:3: bad thing");
	assert_int_equal(f->reloads, 1);
	/* log reopen works */
	json_decref(request(f, fd, "{\"v\":1,\"cmd\":\"log.reopen\"}\n"));
	fp = fopen(f->audit, "r");
	assert_int_equal(auditlog_verify(fp, NULL, &res), 0);
	fclose(fp);
	assert_int_equal(res.records, 6);

	/* No audit log: every mutating command is refused, reading still works. */
	f->no_log = 1;
	expect_error_reply(request(f, fd, "{\"v\":1,\"cmd\":\"node.standby\",\"args\":{\"node\":\"n1\"}}\n"), 74,
			   "refused: the audit log cannot be written (not open)");
	assert_int_equal(f->reloads, 1);
	json_decref(request(f, fd, "{\"v\":1,\"cmd\":\"status\"}\n"));
	f->no_log = 0;
	close(fd);
}

static void denied_without_group(void **state)
{
	struct fixture *f = *state;
	int fd;

	if (geteuid() == 0)
		skip(); /* root is always an admin; the lab test runs the matrix with real users */
	control_socket_set_groups(f->ctl, NULL, NULL);
	fd = client_connect(f->path);
	expect_error_reply(request(f, fd, "{\"v\":1,\"cmd\":\"status\"}\n"), 77,
			   "permission denied: status needs root, the admin or the view group");
	assert_true(audit_has(f->audit, "\"type\":\"access_denied\""));
	close(fd);
}

static void events_stream(void **state)
{
	struct fixture *f = *state;
	int fd = client_connect(f->path);
	json_t *r = request(f, fd, "{\"v\":1,\"id\":\"e\",\"cmd\":\"events\"}\n");

	assert_true(json_is_true(json_object_get(r, "streaming")));
	json_decref(r);
	/* input after the stream started is ignored; closing ends it */
	assert_int_equal(send(fd, "garbage\n", 8, 0), 8);
	for (int i = 0; i < 10; i++)
		ev_run(f->loop, EVRUN_NOWAIT);
	close(fd);
	for (int i = 0; i < 10; i++)
		ev_run(f->loop, EVRUN_NOWAIT);
}

/* ---- what may be at the path ---- */

static int start_at(struct fixture *f, const char *path)
{
	struct control_socket_options o = {.path = path, .auditlog = provide_log, .arg = f};
	struct control_socket *c = control_socket_new(f->loop, f->m, &o);
	int rc = control_socket_start(c);

	control_socket_free(c);
	return rc;
}

static void path_checks(void **state)
{
	struct fixture *f = *state;
	char p[100]; /* fits sun_path */
	int fd;

	/* the live socket of another control: refused */
	assert_int_equal(start_at(f, f->path), -EADDRINUSE);
	/* a stale socket: replaced */
	snprintf(p, sizeof(p), "%s/stale.sock", f->dir);
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd); /* bound, never listened, file left behind */
	}
	assert_int_equal(start_at(f, p), 0);
	assert_int_equal(access(p, F_OK), -1); /* and removed again by control_socket_free */
	/* a symlink: refused, even to a good place */
	snprintf(p, sizeof(p), "%s/link.sock", f->dir);
	assert_int_equal(symlink(f->path, p), 0);
	assert_int_equal(start_at(f, p), -ELOOP);
	/* a regular file: refused and left alone */
	snprintf(p, sizeof(p), "%s/file.sock", f->dir);
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(start_at(f, p), -EEXIST);
	assert_int_equal(access(p, F_OK), 0);
	/* someone else's socket: refused (needs root to make one) */
	if (geteuid() == 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		snprintf(p, sizeof(p), "%s/foreign.sock", f->dir);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd);
		assert_int_equal(chown(p, 65534, 65534), 0);
		assert_int_equal(start_at(f, p), -EPERM);
	}
	/* relative and too long */
	assert_int_equal(start_at(f, "relative.sock"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_commands),
		cmocka_unit_test(parse_errors),
		cmocka_unit_test(roles),
		cmocka_unit_test(permission_matrix),
		cmocka_unit_test(exit_codes),
		cmocka_unit_test_setup_teardown(socket_file, setup, teardown),
		cmocka_unit_test_setup_teardown(status_and_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(oversized_line, setup, teardown),
		cmocka_unit_test_setup_teardown(too_many_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(mutating_is_audited_first, setup, teardown),
		cmocka_unit_test_setup_teardown(denied_without_group, setup, teardown),
		cmocka_unit_test_setup_teardown(events_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(path_checks, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
