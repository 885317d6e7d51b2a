/* Config validation: a good file's values and defaults; every bad file refused with
 * its message and line. */
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

#include "hcconfig.h"

static struct hc_config *load_ok(const char *text)
{
	struct cfgfile_errors errs;
	struct hc_config *cfg;
	int rc = hcconfig_load_buffer("test.conf", text, strlen(text), &cfg, &errs);

	for (size_t i = 0; i < errs.n && i < CFGFILE_MAX_ERRORS; i++)
		print_error("unexpected: %u: %s\n", errs.items[i].line, errs.items[i].message);
	assert_int_equal(rc, 0);
	assert_non_null(cfg);
	return cfg;
}

static void good_file(void **state)
{
	struct hc_config *cfg = load_ok("# comment\n"
					"[agent]\n"
					"listen = [::1]:9902\n"
					"heartbeat = 500ms\n"
					"\n"
					"[check web]\n"
					"type = https\n"
					"url = https://127.0.0.1:8443/health\n"
					"host = www.example.org\n"
					"expect_status = 204\n"
					"expect_regex = ^ok( |$)\n"
					"interval = 1.5s\n"
					"max_body = 1m ; inline comment\n"
					"anomaly_fails = yes\n"
					"[check db]\n"
					"type = tcp\n"
					"address = ::1\n"
					"port = 5432\n"
					"send = PING\\r\\n\\x00\n"
					"expect = +PONG\n"
					"[check drain]\n"
					"type = file\n"
					"path = /etc/fomgr/drain\n"
					"[check sh]\n"
					"type = script\n"
					"path = /bin/sh\n"
					"args = -c \"exit 0\" \"two words\"\n"
					"[resources]\n"
					"cpu_warn_pct = 75.5\n"
					"conn_warn_per_port = 1000\n");
	const struct hc_check_conf *web = hcconfig_find(cfg, "web"), *db = hcconfig_find(cfg, "db");
	const struct hc_check_conf *drain = hcconfig_find(cfg, "drain"), *sh = hcconfig_find(cfg, "sh");

	assert_string_equal(cfg->listen_host, "::1");
	assert_int_equal(cfg->listen_port, 9902);
	assert_string_equal(cfg->manager_socket, "/run/fomgr/health.sock");
	assert_int_equal(cfg->heartbeat_ms, 500);
	assert_int_equal(cfg->n_checks, 4);
	assert_int_equal(web->type, HC_CHECK_HTTPS);
	assert_int_equal(web->line, 6);
	assert_int_equal(web->interval_ms, 1500);
	assert_int_equal(web->jitter_ms, 1500); /* default: the interval */
	assert_int_equal(web->timeout_ms, 1000);
	assert_int_equal(web->rise, 2);
	assert_int_equal(web->fall, 3);
	assert_int_equal(web->status_min, 204);
	assert_int_equal(web->status_max, 204);
	assert_string_equal(web->method, "GET");
	assert_string_equal(web->host, "www.example.org");
	assert_int_equal(web->max_body, 1 << 20);
	assert_int_equal(web->max_header, 16384);
	assert_int_equal(web->cert_expiry_warn_days, 14);
	assert_false(web->follow_redirects);
	assert_true(web->anomaly_fails);
	assert_true(web->has_regex);
	assert_int_equal(db->send.len, 7);
	assert_memory_equal(db->send.data, "PING\r\n\0", 7);
	assert_string_equal(db->expect.data, "+PONG");
	assert_int_equal(drain->file_mode, HC_FILE_EXISTS_FAILS);
	assert_int_equal(sh->n_args, 3);
	assert_string_equal(sh->args[0], "-c");
	assert_string_equal(sh->args[1], "exit 0");
	assert_string_equal(sh->args[2], "two words");
	assert_true(cfg->resources.enabled);
	assert_float_equal(cfg->resources.cpu_pct, 75.5, 1e-9);
	assert_int_equal(cfg->resources.conn_per_port, 1000);
	assert_int_equal(cfg->resources.interval_ms, 10000);
	hcconfig_free(cfg);
}

/* The smallest valid file: one check (an empty file is refused). */
#define ONE_CHECK "[check f]\ntype = file\npath = /x\n"
#define NO_CHECK_ERROR "no [check NAME] section: an agent with nothing to check reports nothing"

static void defaults(void **state)
{
	struct hc_config *cfg = load_ok(ONE_CHECK);

	assert_string_equal(cfg->listen_host, "127.0.0.1");
	assert_int_equal(cfg->listen_port, 9901);
	assert_int_equal(cfg->heartbeat_ms, 1000);
	assert_string_equal(cfg->user, "");
	assert_int_equal(cfg->n_checks, 1);
	hcconfig_free(cfg);
	cfg = load_ok("[agent]\nlisten =\nmanager_socket =\n" ONE_CHECK);
	assert_string_equal(cfg->listen_host, "");
	assert_string_equal(cfg->manager_socket, "");
	hcconfig_free(cfg);
}

struct bad_case {
	const char *text;
	unsigned line;
	const char *message; /* the whole message */
};

static const struct bad_case bad_cases[] = {
	{"[agent]\nlisten = 0.0.0.0:9901\n", 2,
	 "listen: 0.0.0.0 is not a loopback address (the agent serves without TLS)"},
	{"[agent]\nlisten = localhost:80\n", 2, "listen: 'localhost:80' is not ADDRESS:PORT with a numeric address"},
	{"[agent]\nlisten = 127.0.0.1:70000\n", 2,
	 "listen: '127.0.0.1:70000' is not ADDRESS:PORT with a numeric address"},
	{"[agent]\nheartbeat = 1\n", 2, "heartbeat: bad duration '1' (a number with ms, s or m)"},
	{"[agent]\nheartbeat = 10ms\n", 2, "heartbeat: 10ms out of range (100ms to 60s)"},
	{"[agent]\nmanager_socket = run/x.sock\n", 2, "manager_socket: 'run/x.sock' is not an absolute path"},
	{"[agent]\nuser = no-such-user-hc\n", 2, "user: no such user 'no-such-user-hc'"},
	{"[agent]\ncolour = blue\n", 2, "unknown key 'colour' in [agent]"},
	{"[agent]\n[agent]\n", 2, "duplicate section [agent] (first at line 1)"},
	{"[agent]\nheartbeat = 1s\nheartbeat = 2s\n", 3, "duplicate key 'heartbeat' (first at line 2)"},
	{"listen = 127.0.0.1:1\n", 1, "key 'listen' outside a section"},
	{"[agnet]\nx = 1\n", 1, "unknown section [agnet] (agent, resources, check NAME)"},
	{"[check]\n", 1, "section [check] needs a name: [check NAME]"},
	{"[check a b]\n", 1, "check name 'a b' must be 1 to 63 of A-Z a-z 0-9 . _ -"},
	{"[check web\n", 1, "section header must be [NAME] alone on its line"},
	{"[agent]\nthis line has no equals\n", 2, "expected 'key = value'"},
	{"[agent]\nlisten: 127.0.0.1:1\n", 2, "expected 'key = value'"},
	{"[agent]\nheartbeat ;x = 5\n", 2, "expected 'key = value' before the comment (';' after a blank starts one)"},
	{"[check w]\ntype = http\nurl = http://x/\n[check w]\ntype = tcp\n", 4,
	 "duplicate check 'w' (first at line 1)"},
	{"[check w]\ninterval = 1s\n", 1, "check w: missing type"},
	{"[check w]\ntype = ftp\n", 2, "type: unknown check type 'ftp' (http, https, tcp, script, process, file)"},
	{"[check w]\ntype = http\n", 1, "check w: type http needs url"},
	{"[check w]\ntype = http\nurl = ftp://x/\n", 3, "url: 'ftp://x/' is not a http:// URL"},
	{"[check w]\ntype = https\nurl = http://x/\n", 3, "url: 'http://x/' is not a https:// URL"},
	{"[check w]\ntype = http\nurl = http://x/\nca_file = /etc/ca.pem\n", 4,
	 "key 'ca_file' does not apply to type http"},
	{"[check w]\ntype = tcp\naddress = 127.0.0.1\nport = 1\nurl = http://x/\n", 5,
	 "key 'url' does not apply to type tcp"},
	{"[check w]\ntype = http\nurl = http://x/\nexpect_status = 99\n", 4,
	 "expect_status: '99' is not a status or range within 100-599"},
	{"[check w]\ntype = http\nurl = http://x/\nexpect_status = 400-300\n", 4,
	 "expect_status: '400-300' is not a status or range within 100-599"},
	{"[check w]\ntype = http\nurl = http://x/\nexpect_regex = ([a-\n", 4,
	 "expect_regex: Unmatched [, [^, [:, [., or [="},
	{"[check w]\ntype = http\nurl = http://x/\nmethod = DELETE\n", 4,
	 "method: 'DELETE' is not GET, HEAD, POST or OPTIONS"},
	{"[check w]\ntype = http\nurl = http://x/\nmethod = HEAD\nexpect_body = ok\n", 1,
	 "check w: method HEAD reads no body to match"},
	{"[check w]\ntype = http\nurl = http://x/\nmax_body = 64q\n", 4,
	 "max_body: '64q' is not a size from 0 to 16777216 bytes (suffix k or m allowed)"},
	{"[check w]\ntype = http\nurl = http://x/\nfollow_redirects = maybe\n", 4,
	 "follow_redirects: 'maybe' is not yes or no"},
	{"[check w]\ntype = https\nurl = https://x/\nclient_key = /k.pem\n", 4, "client_key needs client_cert"},
	{"[check w]\ntype = https\nurl = https://x/\nhost = bad host\n", 4, "host: 'bad host' is not a host name"},
	{"[check w]\ntype = tcp\naddress = db.local\nport = 5432\n", 3,
	 "address: 'db.local' is not a numeric IPv4 or IPv6 address"},
	{"[check w]\ntype = tcp\naddress = 127.0.0.1\n", 1, "check w: type tcp needs port"},
	{"[check w]\ntype = tcp\naddress = 127.0.0.1\nport = 0\n", 4, "port: '0' is not an integer from 1 to 65535"},
	{"[check w]\ntype = tcp\naddress = 127.0.0.1\nport = 1\nsend = a\\qb\n", 5,
	 "send: bad escape at offset 1 (use \\r \\n \\t \\\\ \\xNN)"},
	{"[check w]\ntype = tcp\naddress = 127.0.0.1\nport = 1\nrise = 0\n", 5,
	 "rise: '0' is not an integer from 1 to 100"},
	{"[check w]\ntype = tcp\naddress = 127.0.0.1\nport = 1\nanomaly_k = 0.5\n", 5,
	 "anomaly_k: '0.5' is not a number from 1 to 100"},
	{"[check w]\ntype = script\npath = bin/true\n", 3, "path: 'bin/true' is not an absolute path"},
	{"[check w]\ntype = script\npath = /nonexistent/hc-script\n", 3,
	 "path: /nonexistent/hc-script: No such file or directory"},
	{"[check w]\ntype = script\npath = /bin/true\nargs = \"open\n", 4, "args: unterminated quote"},
	{"[check w]\ntype = process\n", 1, "check w: type process needs name or pidfile"},
	{"[check w]\ntype = process\nname = a-very-long-process-name\n", 3,
	 "name: 'a-very-long-process-name' cannot match /proc/PID/comm (at most 15 characters, no '/')"},
	{"[check w]\ntype = file\npath = /x\nmode = gone\n", 4, "mode: 'gone' is not exists, exists-fails or content"},
	{"[check w]\ntype = file\npath = /x\nmode = content\n", 4, "mode content needs expect"},
	{"[check w]\ntype = file\npath = /x\nexpect = y\n", 4, "expect needs mode = content"},
	{"[resources]\ncpu_warn_pct = 101\n", 2, "cpu_warn_pct: '101' is not a number from 0 to 100"},
	{"[resources]\ninterval = 100ms\n", 2, "interval: 100ms out of range (1000ms to 3600s)"},
	{"[agent]\nlisten = 127.0.0.1:1\x00x\n", 2, "NUL byte in line"},
};

static void bad_files(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		size_t len = strlen(bc->text);
		struct cfgfile_errors errs;
		struct hc_config *cfg = (struct hc_config *)1;

		if (strstr(bc->message, "NUL"))
			len += strlen(bc->text + len + 1) + 1; /* past the embedded NUL */
		assert_int_equal(hcconfig_load_buffer("bad.conf", bc->text, len, &cfg, &errs), -EINVAL);
		assert_null(cfg);
		if (errs.n != 1 || errs.items[0].line != bc->line || strcmp(errs.items[0].message, bc->message)) {
			print_error("case %zu: want %u: %s\n", i, bc->line, bc->message);
			for (size_t j = 0; j < errs.n && j < CFGFILE_MAX_ERRORS; j++)
				print_error("        got %u: %s\n", errs.items[j].line, errs.items[j].message);
		}
		assert_int_equal(errs.n, 1);
		assert_int_equal(errs.items[0].line, bc->line);
		assert_string_equal(errs.items[0].message, bc->message);
		assert_string_equal(errs.file, "bad.conf");
	}
}

static void every_error_collected(void **state)
{
	static const char text[] = "[agent]\n"
				   "listen = 10.0.0.1:1\n"       /* 2 */
				   "bogus = 1\n"                 /* 3 */
				   "[check a]\n"                 /* 4: missing url */
				   "type = http\n"
				   "interval = fast\n"           /* 6 */
				   "[check b]\n"
				   "type = tcp\n"
				   "address = 127.0.0.1\n"
				   "port = 99999\n";             /* 10 */
	static const unsigned lines[] = {2, 3, 6, 10, 4};
	struct cfgfile_errors errs;
	struct hc_config *cfg;

	assert_int_equal(hcconfig_load_buffer("many.conf", text, sizeof(text) - 1, &cfg, &errs), -EINVAL);
	assert_int_equal(errs.n, 5); /* b's refused port is not also reported missing */
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(errs.items[i].line, lines[i]);
	assert_string_equal(errs.items[4].message, "check a: type http needs url");
}

/* A long URL (beyond libinih's 200-byte buffer) is read whole, with inih's
 * comment rule; a line beyond HC_LINE_MAX is refused with its line. */
static void long_line_accepted_up_to_max(void **state)
{
	static char text[HC_LINE_MAX + 100];
	struct cfgfile_errors errs;
	struct hc_config *cfg;

	snprintf(text, sizeof(text), "[check w]\ntype = http\nurl =  http://x/%0300d ; a comment\n", 0);
	cfg = load_ok(text);
	assert_int_equal(strlen(cfg->checks[0].url), strlen("http://x/") + 300);
	assert_int_equal(cfg->checks[0].url[strlen(cfg->checks[0].url) - 1], '0');
	hcconfig_free(cfg);
	snprintf(text, sizeof(text), "[check w]\ntype = http\nurl = http://x/%0*d\n", HC_LINE_MAX, 0);
	assert_int_equal(hcconfig_load_buffer("long.conf", text, strlen(text), &cfg, &errs), -EINVAL);
	assert_int_equal(errs.items[0].line, 3);
	assert_string_equal(errs.items[0].message, "line longer than 4096 characters");
}

static void empty_file_refused(void **state)
{
	struct cfgfile_errors errs;
	struct hc_config *cfg;

	assert_int_equal(hcconfig_load_buffer("empty.conf", "", 0, &cfg, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.items[0].message, NO_CHECK_ERROR);
	assert_int_equal(hcconfig_load_buffer("agent.conf", "[agent]\n", 8, &cfg, &errs), -EINVAL);
	assert_string_equal(errs.items[0].message, NO_CHECK_ERROR);
}

/* COUNT file checks after an [agent] section holding AGENT. */
static char *many_checks(const char *agent, size_t count)
{
	size_t size = 64 + strlen(agent) + count * 64, n;
	char *text = malloc(size);

	assert_non_null(text);
	n = (size_t)snprintf(text, size, "[agent]\n%s\n", agent);
	for (size_t i = 0; i < count; i++)
		n += (size_t)snprintf(text + n, size - n, "[check c%zu]\ntype = file\npath = /nonexistent\n", i);
	return text;
}

/* One report to fomgr holds at most HC_MAX_FED_CHECKS checks; an agent that feeds
 * nobody (a probe and metrics source) may run up to HC_MAX_CHECKS. */
static void check_count_limits(void **state)
{
	struct cfgfile_errors errs;
	struct hc_config *cfg;
	char *fed = many_checks("manager_socket = /run/x.sock", HC_MAX_FED_CHECKS + 1);
	char *unfed = many_checks("manager_socket =", HC_MAX_FED_CHECKS + 1);
	char *too_many = many_checks("manager_socket =", HC_MAX_CHECKS + 1);

	assert_int_equal(hcconfig_load_buffer("fed.conf", fed, strlen(fed), &cfg, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.items[0].line, 2);
	assert_string_equal(errs.items[0].message, "1025 checks: one health report to fomgr (manager_socket) holds at most 1024");
	cfg = load_ok(unfed);
	assert_int_equal(cfg->n_checks, HC_MAX_FED_CHECKS + 1);
	hcconfig_free(cfg);
	assert_int_equal(hcconfig_load_buffer("many.conf", too_many, strlen(too_many), &cfg, &errs), -EINVAL);
	assert_non_null(strstr(errs.items[0].message, "more than 16384 checks"));
	free(fed);
	free(unfed);
	free(too_many);
}

static void unsafe_script_refused(void **state)
{
	char dir[] = "/tmp/hc-test-XXXXXX", path[64], reason[200];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/probe", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\nexit 0\n", f);
	fclose(f);
	chmod(dir, 0755);
	chmod(path, 0755);
	if (geteuid() == 0) {
		assert_int_equal(hcconfig_script_safe(path, reason, sizeof(reason)), 0);
		chmod(path, 0757); /* world-writable */
		assert_int_equal(hcconfig_script_safe(path, reason, sizeof(reason)), -EPERM);
		assert_non_null(strstr(reason, "is writable by a non-root user"));
		chmod(path, 0755);
		chmod(dir, 0777); /* its directory world-writable, not sticky */
		assert_int_equal(hcconfig_script_safe(path, reason, sizeof(reason)), -EPERM);
		assert_non_null(strstr(reason, dir));
		chmod(dir, 0755);
		assert_int_equal(chown(path, 65534, 65534), 0); /* owned by nobody */
		assert_int_equal(hcconfig_script_safe(path, reason, sizeof(reason)), -EPERM);
	} else {
		/* owned by us, not root */
		assert_int_equal(hcconfig_script_safe(path, reason, sizeof(reason)), -EPERM);
	}
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_file),
		cmocka_unit_test(defaults),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(every_error_collected),
		cmocka_unit_test(long_line_accepted_up_to_max),
		cmocka_unit_test(empty_file_refused),
		cmocka_unit_test(unsafe_script_refused),
		cmocka_unit_test(check_count_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
