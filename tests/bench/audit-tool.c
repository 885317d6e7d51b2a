/* audit-tool: drives the audit modules from the lab scenarios (tests/lab/3x) and the
 * benchmark (tests/bench/audit-bench.sh), the same code fomgr runs.
 *
 *   audit-tool run CONFIG [LOG]        one periodic audit and one probe round; prints
 *                                      the status JSON (findings, stats, digests)
 *   audit-tool transition CONFIG GROUP [LOG] [ROUNDS]
 *                                      audit_before_release then audit_after_acquire,
 *                                      ROUNDS times; prints the costs in microseconds
 *   audit-tool summary CONFIG          the network summary and digests, as JSON
 *   audit-tool diff A.json B.json      what differs between two summaries' firewalls
 *   audit-tool exposure CONFIG [FILE:ROLE...]  the exposure findings (corosync read
 *                                      through cmap when it runs here)
 *   audit-tool append LOG N [BYTES]    appends N records; exit status = errno on failure
 *   audit-tool verify LOG [PREV]       auditlog_verify; exit 0 intact, 1 not
 *   audit-tool listen PORT [ADDR]      a TCP listener that accepts and holds connections
 *   audit-tool connect ADDR PORT N     opens N TCP connections and holds them
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "audit_exposure.h"
#include "audit_findings.h"
#include "auditlog.h"
#include "config.h"
#include "fo/clock.h"
#include "fo/log.h"
#include "netstate.h"

static struct config *load(const char *path)
{
	struct cfgfile_errors errors;
	struct config *c = config_load(path, NULL, &errors);
	char buf[4096];

	if (!c)
		fprintf(stderr, "%s", cfgfile_errors_format(&errors, path, buf, sizeof(buf)));
	return c;
}

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);

	puts(s ? s : "null");
	free(s);
	json_decref(j);
}

static struct auditlog *log_or_null(const char *path)
{
	struct auditlog *log = path ? auditlog_open(path, "audit-tool", NULL) : NULL;

	if (path && !log)
		fprintf(stderr, "audit-tool: %s: %s\n", path, strerror(errno));
	return log;
}

/* Runs the loop until the probe round is over (or 60 s). */
static void wait_probes(struct audit *a)
{
	struct audit_stats st;
	uint64_t end = clock_mono_ms() + 60000;

	do {
		ev_run(EV_DEFAULT, EVRUN_ONCE);
		audit_get_stats(a, &st);
	} while (st.probes_sent > st.probes_open + st.probes_refused + st.probes_timeout + st.probes_error ||
		 (st.probe_rounds && st.probes_sent == 0 && clock_mono_ms() < end));
	ev_run(EV_DEFAULT, EVRUN_NOWAIT);
}

static int cmd_run(int argc, char **argv)
{
	struct config *c = load(argv[0]);
	struct auditlog *log = log_or_null(argc > 1 ? argv[1] : NULL);
	struct audit *a = c ? audit_new(EV_DEFAULT, c, log) : NULL;

	if (!a)
		return 2;
	audit_run_now(a);
	wait_probes(a);
	print_json(audit_status_json(a));
	audit_free(a);
	auditlog_close(log);
	config_free(c);
	return 0;
}

static int cmd_transition(int argc, char **argv)
{
	struct config *c = load(argv[0]);
	struct auditlog *log = log_or_null(argc > 2 ? argv[2] : NULL);
	struct audit *a = c ? audit_new(EV_DEFAULT, c, log) : NULL;
	int rounds = argc > 3 ? atoi(argv[3]) : 1;
	struct audit_stats st;
	uint64_t br = 0, rc = 0, aa = 0, periodic_us;

	if (!a)
		return 2;
	audit_run_now(a); /* the periodic snapshot the before-release audit relies on */
	audit_periodic_stop(a);
	audit_get_stats(a, &st);
	periodic_us = st.periodic_us_last;
	for (int i = 0; i < rounds; i++) {
		if (audit_before_release(a, argv[1]) < 0 || audit_after_acquire(a, argv[1]) < 0)
			return 2;
		for (int k = 0; k < 4; k++)
			ev_run(EV_DEFAULT, EVRUN_NOWAIT);
		audit_get_stats(a, &st);
		br += st.before_release_us_last;
		rc += st.release_count_us_last;
		aa += st.after_acquire_us_last;
	}
	printf("periodic_us=%llu before_release_us=%llu release_count_us=%llu after_acquire_us=%llu before_release_max_us=%llu "
	       "release_count_max_us=%llu after_acquire_max_us=%llu listeners=%zu vip_connections=%llu rounds=%d\n",
	       (unsigned long long)periodic_us, (unsigned long long)(br / (uint64_t)rounds),
	       (unsigned long long)(rc / (uint64_t)rounds),
	       (unsigned long long)(aa / (uint64_t)rounds), (unsigned long long)st.before_release_us_max,
	       (unsigned long long)st.release_count_us_max, (unsigned long long)st.after_acquire_us_max,
	       st.listeners, (unsigned long long)st.vip_connections_last, rounds);
	audit_free(a);
	auditlog_close(log);
	config_free(c);
	return 0;
}

static int cmd_summary(int argc, char **argv)
{
	struct config *c = load(argv[0]);
	struct netstate_summary s;
	struct netstate_digests d;
	int r = c ? netstate_summary_read(c, &s) : -EINVAL;

	if (r < 0) {
		fprintf(stderr, "audit-tool: %s\n", strerror(-r));
		return 2;
	}
	netstate_summary_digest(&s, &d);
	print_json(json_pack("{s:O, s:O, s:O, s:i, s:o}", "addresses", s.addresses, "routes", s.routes, "firewall",
			     s.firewall, "firewall_error", s.firewall_error, "digests", netstate_digests_json(&d)));
	netstate_summary_clear(&s);
	config_free(c);
	return 0;
}

static int cmd_diff(int argc, char **argv)
{
	json_t *a = json_load_file(argv[0], 0, NULL), *b = json_load_file(argv[1], 0, NULL);
	json_t *out = json_array();
	size_t n;

	if (!a || !b)
		return 2;
	n = netstate_list_diff(json_object_get(a, "firewall"), json_object_get(b, "firewall"), out, 50);
	for (size_t i = 0; i < json_array_size(out); i++)
		printf("firewall %s\n", json_string_value(json_array_get(out, i)));
	json_array_clear(out);
	n += netstate_list_diff(json_object_get(a, "routes"), json_object_get(b, "routes"), out, 50);
	for (size_t i = 0; i < json_array_size(out); i++)
		printf("routes %s\n", json_string_value(json_array_get(out, i)));
	json_decref(a);
	json_decref(b);
	json_decref(out);
	return n ? 1 : 0;
}

static int cmd_exposure(int argc, char **argv)
{
	struct config *c = load(argv[0]);
	struct audit_exposure_input in = {0};
	struct audit_findings f = {0};
	int r;

	if (!c)
		return 2;
	for (int i = 1; i < argc; i++) {
		char *role = strrchr(argv[i], ':');

		if (role)
			*role++ = '\0';
		audit_exposure_add_file(&in, argv[i], role ? role : "config");
	}
	r = audit_exposure_check(c, &in, &f);
	print_json(json_pack("{s:i, s:o}", "result", r, "findings", audit_findings_json(&f)));
	audit_findings_clear(&f);
	config_free(c);
	return r < 0 ? 1 : 0;
}

static int cmd_append(int argc, char **argv)
{
	struct auditlog *log = auditlog_open(argv[0], "audit-tool", NULL);
	int n = atoi(argv[1]), size = argc > 2 ? atoi(argv[2]) : 100;
	char *payload = calloc(1, (size_t)size + 1);

	if (!log || !payload)
		return errno ? errno : 1;
	memset(payload, 'x', (size_t)size);
	for (int i = 0; i < n; i++) {
		json_t *f = json_pack("{s:s, s:i}", "payload", payload, "i", i);
		int r = auditlog_append(log, AUDITLOG_ADMIN, f);

		json_decref(f);
		if (r < 0) {
			fprintf(stderr, "audit-tool: record %d: %s (seq %llu)\n", i, strerror(-r),
				(unsigned long long)auditlog_seq(log));
			auditlog_close(log);
			free(payload);
			return -r;
		}
	}
	printf("seq=%llu\n", (unsigned long long)auditlog_seq(log));
	auditlog_close(log);
	free(payload);
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	struct auditlog_verify_result res;
	FILE *f = fopen(argv[0], "r");
	int r;

	if (!f)
		return 2;
	r = auditlog_verify(f, argc > 1 ? argv[1] : NULL, &res);
	fclose(f);
	if (r == 0)
		printf("intact records=%llu last=%s\n", (unsigned long long)res.records, res.last_hash);
	else
		printf("line %llu: %s\n", (unsigned long long)res.bad_line, res.reason);
	return r == 0 ? 0 : 1;
}

static int tcp_socket(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
	} else {
		return -1;
	}
	return socket(ss->ss_family, SOCK_STREAM, 0);
}

static int cmd_listen(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd = tcp_socket(argc > 1 ? argv[1] : "::", atoi(argv[0]), &ss, &len);

	if (fd < 0)
		return 2;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 4096) < 0) {
		perror("audit-tool listen");
		return 2;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL); /* held open until we exit */

		if (c < 0 && errno != EINTR && errno != ECONNABORTED && errno != EMFILE)
			return 2;
		if (c < 0 && errno == EMFILE)
			sleep(1);
	}
}

static int cmd_connect(int argc, char **argv)
{
	int n = atoi(argv[2]), ok = 0;

	for (int i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		int fd = tcp_socket(argv[0], atoi(argv[1]), &ss, &len);

		if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, len) == 0)
			ok++;
	}
	printf("connected=%d\n", ok);
	fflush(stdout);
	pause();
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int min_args;
		int (*fn)(int, char **);
	} cmds[] = {
		{"run", 1, cmd_run}, {"transition", 2, cmd_transition}, {"summary", 1, cmd_summary},
		{"diff", 2, cmd_diff}, {"exposure", 1, cmd_exposure}, {"append", 2, cmd_append},
		{"verify", 1, cmd_verify}, {"listen", 1, cmd_listen}, {"connect", 3, cmd_connect},
	};

	log_init("audit-tool", getenv("AUDIT_TOOL_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_WARN, 0);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0 && argc - 2 >= cmds[i].min_args)
			return cmds[i].fn(argc - 2, argv + 2);
	fprintf(stderr, "usage: audit-tool run|transition|summary|diff|exposure|append|verify|listen|connect ... "
			"(see the comment in tests/bench/audit-tool.c)\n");
	return 2;
}
