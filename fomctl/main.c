/* fomctl: the operators' command line for fomgr. Arguments, one request per
 * command over the control socket (client.c), and the output (render.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auditlog.h"
#include "client.h"
#include "control.h"
#include "failure.h"
#include "fo/jsontext.h"
#include "logreport.h"
#include "render.h"

#define DEFAULT_TIMEOUT 30.0
#define WAIT_POLL_S 0.02
#define WATCH_MIN_INTERVAL 0.5 /* --watch asks the daemon at most twice a second */

static const char usage_text[] =
	"usage: fomctl [--socket PATH] [--json] [--timeout SECONDS] COMMAND\n"
	"\n"
	"commands:\n"
	"  status [--watch [--interval SECONDS]]   nodes, quorum, groups and why, pins, last transitions;\n"
	"                                          --watch redraws every SECONDS (default 2, at least 0.5)\n"
	"  vip move GROUP [--to NODE] [--wait SECONDS]\n"
	"                                          pin GROUP to NODE (default: the next eligible\n"
	"                                          node); --wait until NODE holds it\n"
	"  vip clear GROUP                         remove GROUP's pin (placement decides again)\n"
	"  node standby NODE [--wait SECONDS]      move every group off NODE; --wait until it holds none and its groups are up elsewhere\n"
	"  node unstandby NODE                     NODE may hold groups again (failback as configured)\n"
	"  group disable GROUP                     release GROUP everywhere; nobody holds it until enabled\n"
	"  group enable GROUP                      GROUP is placed again\n"
	"  maintenance on|off                      cluster-wide: fomgr moves nothing (addresses stay where they are)\n"
	"  simulate standby NODE | move GROUP --to NODE | fail NODE | fail-check NODE CHECK\n"
	"                                          the placement that would follow, per group; changes nothing\n"
	"  reload                                  re-read fomgr's config; a bad one is refused\n"
	"  events                                  stream the cluster's transitions and admin changes\n"
	"                                          (every node's, in the agreed order), one per line\n"
	"  history [--since WHEN]                  the last of them (at most 1000), oldest first;\n"
	"                                          WHEN as for log report\n"
	"  log verify FILE [--prev HASH]           check an audit log's hash chain (FILE - for stdin)\n"
	"  log report FILE [--since WHEN] [--prev HASH]\n"
	"                                          review an audit log: transitions by reason, refused\n"
	"                                          accesses by user, config changes, findings, gaps;\n"
	"                                          WHEN: 30m, 24h, 7d or YYYY-MM-DD[THH:MM[:SS]] (UTC)\n"
	"  log reopen                              reopen the audit log (logrotate's postrotate)\n"
	"\n"
	"options:\n"
	"  --socket PATH    control socket (default $FOMCTL_SOCKET or " CLIENT_DEFAULT_SOCKET ")\n"
	"  --json           machine-readable output (one JSON object; events: one per line)\n"
	"  --timeout S      how long to wait for the daemon's answer (default 30)\n"
	"\n"
	"fomctl talks only to a socket owned by, and served by, root (or the uid in\n"
	"FOMCTL_EXPECT_UID); anything else is refused before a byte is sent.\n"
	"\n"
	"exit status:\n"
	"    0  done (also when there was nothing to change)\n"
	"    1  the daemon refused: target not eligible, no other eligible node, ...;\n"
	"       simulate move: the move itself would be refused\n"
	"   64  usage: bad command line, or a request the daemon did not understand\n"
	"   65  log verify, log report: the audit log's chain is broken or has gaps\n"
	"   66  log verify, log report: the file cannot be read, or is not a log\n"
	"   68  unknown node or group\n"
	"   69  unavailable: no daemon answers on the socket\n"
	"   70  internal error\n"
	"   74  the audit log cannot be written: the command was refused\n"
	"   75  temporary: no quorum, not joined, another change in progress, too many clients\n"
	"   76  the daemon's answer made no sense\n"
	"   77  permission denied, or the socket's owner is not trusted\n"
	"   78  reload: the configuration was refused; the running one is kept\n"
	"  124  --wait ran out before the target held the group\n";

struct opts {
	const char *socket, *to, *prev, *since;
	int json, watch;
	double timeout, wait, interval;
	int has_wait;
	int argc;
	const char *argv[8];
};

static int usage_error(const char *fmt, const char *arg)
{
	char why[512];

	snprintf(why, sizeof(why), fmt, arg);
	failure("%s", why);
	fprintf(stderr, "(fomctl --help for usage)\n");
	return CONTROL_EX_USAGE;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = s ? strtod(s, &end) : -1;
	return s && !errno && end != s && !*end && *out >= 0 && *out <= 86400 ? 0 : -1;
}

/* Options anywhere on the line, positional words in order. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	const char *env = getenv("FOMCTL_SOCKET");

	*o = (struct opts){.socket = env && *env ? env : CLIENT_DEFAULT_SOCKET, .timeout = DEFAULT_TIMEOUT,
			   .interval = 2.0};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage_text, stdout);
			exit(0);
		} else if (strcmp(a, "--version") == 0) {
			printf("fomctl %s\n", FO_VERSION);
			exit(0);
		} else if (strcmp(a, "--json") == 0) {
			o->json = 1;
		} else if (strcmp(a, "--watch") == 0) {
			o->watch = 1;
		} else if (strcmp(a, "--socket") == 0 || strcmp(a, "--to") == 0 || strcmp(a, "--prev") == 0 ||
			   strcmp(a, "--since") == 0) {
			if (!v)
				return usage_error("%s needs a value", a);
			*(strcmp(a, "--socket") == 0 ? &o->socket
			  : a[2] == 't'              ? &o->to
			  : a[2] == 'p'              ? &o->prev
						     : &o->since) = v;
			i++;
		} else if (strcmp(a, "--timeout") == 0 || strcmp(a, "--wait") == 0 || strcmp(a, "--interval") == 0) {
			double *dst = a[2] == 't' ? &o->timeout : a[2] == 'w' ? &o->wait : &o->interval;

			if (parse_seconds(v, dst) < 0)
				return usage_error("%s needs a number of seconds", a);
			o->has_wait |= a[2] == 'w';
			i++;
		} else if (a[0] == '-' && a[1]) {
			return usage_error("unknown option %s", a);
		} else if (o->argc == (int)(sizeof(o->argv) / sizeof(o->argv[0]))) {
			return usage_error("too many arguments (%s)", a);
		} else {
			o->argv[o->argc++] = a;
		}
	}
	if (o->watch && o->interval < WATCH_MIN_INTERVAL)
		return usage_error("--interval: at least 0.5 seconds with --watch%s", "");
	return 0;
}

static void print_json(const json_t *j)
{
	char *text = jsontext_dumps(j, JSON_COMPACT);

	printf("%s\n", text ? text : "null");
	free(text);
	fflush(stdout);
	failure_answered();
}

static void sleep_s(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};

	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One request; on {"ok":false} prints the error and returns its code. */
static int call(struct client *c, const struct opts *o, const char *cmd, json_t *args, json_t **reply)
{
	int rc = client_call(c, cmd, args, o->timeout, reply);

	if (rc)
		return rc;
	if (!json_is_true(json_object_get(*reply, "ok"))) {
		rc = client_reply_error(*reply);
		json_decref(*reply);
		*reply = NULL;
	}
	return rc;
}

static int get_status(struct client *c, const struct opts *o, json_t **status)
{
	json_t *reply;
	int rc = call(c, o, "status", NULL, &reply);

	if (rc)
		return rc;
	*status = json_incref(json_object_get(reply, "status"));
	json_decref(reply);
	return *status ? 0 : CONTROL_EX_PROTOCOL;
}

/* ---- commands ---- */

static int cmd_status(struct client *c, const struct opts *o)
{
	int tty = isatty(STDOUT_FILENO);

	for (;;) {
		json_t *st;
		int rc = get_status(c, o, &st);

		if (rc)
			return rc;
		if (o->json) {
			print_json(st);
		} else {
			if (o->watch && tty)
				printf("\033[H\033[2J");
			render_status(stdout, st);
			fflush(stdout);
		}
		json_decref(st);
		if (!o->watch)
			return 0;
		sleep_s(o->interval);
	}
}

static const json_t *find_group(const json_t *st, const char *name)
{
	const json_t *g;
	size_t i;

	json_array_foreach(json_object_get(st, "groups"), i, g)
		if (strcmp(json_string_value(json_object_get(g, "name")) ?: "", name) == 0)
			return g;
	return NULL;
}

static int str_is(const json_t *o, const char *key, const char *value)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && value && strcmp(s, value) == 0;
}

/* The target node announced that the group's addresses are in its kernel. */
static int node_has_up(const json_t *st, const char *node, const char *group)
{
	const json_t *n, *g;
	size_t i, k;

	json_array_foreach(json_object_get(st, "nodes"), i, n) {
		if (!str_is(n, "name", node))
			continue;
		json_array_foreach(json_object_get(n, "addresses_up"), k, g)
			if (json_is_string(g) && strcmp(json_string_value(g), group) == 0)
				return 1;
	}
	return 0;
}

/* Until the target holds the group: placement gives it the group, and the
 * addresses are in its kernel (this node: its own state; another: its announce). */
static int target_holds(const json_t *st, const char *group, const char *target)
{
	const json_t *g = find_group(st, group);

	if (!g || !str_is(g, "owner", target) || !str_is(g, "holder", target))
		return 0;
	if (str_is(st, "node", target))
		return str_is(g, "local_state", "held");
	return node_has_up(st, target, group);
}

/* Until no group is owned or held by node, and every group that has a new owner
 * has its addresses up there: the handover is over, the node may go down. */
static int node_drained(const json_t *st, const char *node)
{
	const json_t *g, *owner;
	size_t i;

	json_array_foreach(json_object_get(st, "groups"), i, g) {
		if (str_is(g, "owner", node) || str_is(g, "holder", node))
			return 0;
		owner = json_object_get(g, "owner");
		if (json_is_string(owner) &&
		    !target_holds(st, json_string_value(json_object_get(g, "name")), json_string_value(owner)))
			return 0;
	}
	return 1;
}

static int wait_until(struct client *c, const struct opts *o, int (*done)(const json_t *, const char *, const char *),
		      const char *a, const char *b, double *waited)
{
	double start = now_s(), deadline = start + o->wait;

	for (;;) {
		json_t *st;
		int rc = get_status(c, o, &st), ok;

		if (rc)
			return rc;
		ok = done(st, a, b);
		json_decref(st);
		*waited = now_s() - start;
		if (ok)
			return 0;
		if (now_s() >= deadline)
			return CONTROL_EX_TIMEOUT;
		sleep_s(WAIT_POLL_S);
	}
}

static int holds_fn(const json_t *st, const char *group, const char *target)
{
	return target_holds(st, group, target);
}

static int drained_fn(const json_t *st, const char *node, const char *unused)
{
	return node_drained(st, node);
}

static int report(const struct opts *o, json_t *reply, const char *human)
{
	if (o->json)
		print_json(reply);
	else
		printf("%s\n", human);
	json_decref(reply);
	return 0;
}

static int cmd_vip(struct client *c, const struct opts *o)
{
	const char *verb = o->argv[1], *group = o->argv[2];
	json_t *args, *reply;
	char line[300], target[128];
	double waited;
	int rc;

	if (o->argc != 3 || (strcmp(verb, "move") != 0 && strcmp(verb, "clear") != 0))
		return usage_error("usage: vip move GROUP [--to NODE] [--wait S] | vip clear GROUP%s", "");
	args = json_pack("{s:s}", "group", group);
	if (strcmp(verb, "clear") == 0) {
		rc = call(c, o, "vip.clear", args, &reply);
		if (rc)
			return rc;
		snprintf(line, sizeof(line), "%s: pin %s", group,
			 json_is_true(json_object_get(reply, "changed")) ? "cleared" : "was not set");
		return report(o, reply, line);
	}
	if (o->to)
		json_object_set_new(args, "to", json_string(o->to));
	rc = call(c, o, "vip.move", args, &reply);
	if (rc)
		return rc;
	snprintf(target, sizeof(target), "%s", json_string_value(json_object_get(reply, "to")) ?: "?");
	if (!o->has_wait) {
		snprintf(line, sizeof(line), "%s: pinned to %s%s", group, target,
			 json_is_true(json_object_get(reply, "changed")) ? " (agreed by the cluster)" : " (already)");
		return report(o, reply, line);
	}
	rc = wait_until(c, o, holds_fn, group, target, &waited);
	json_object_set_new(reply, "held", json_boolean(rc == 0));
	json_object_set_new(reply, "waited_ms", json_integer((json_int_t)(waited * 1000)));
	if (rc == CONTROL_EX_TIMEOUT) {
		failure("%s is not held by %s after %.1f s\n", group, target, o->wait);
		if (o->json)
			print_json(reply);
		json_decref(reply);
		return rc;
	}
	if (rc) {
		json_decref(reply);
		return rc;
	}
	snprintf(line, sizeof(line), "%s: held by %s (%.0f ms)", group, target, waited * 1000);
	return report(o, reply, line);
}

static int cmd_node(struct client *c, const struct opts *o)
{
	const char *verb = o->argv[1], *node = o->argv[2];
	int on = verb && strcmp(verb, "standby") == 0, rc;
	json_t *reply;
	char line[300];
	double waited;

	if (o->argc != 3 || (!on && strcmp(verb, "unstandby") != 0))
		return usage_error("usage: node standby NODE [--wait S] | node unstandby NODE%s", "");
	rc = call(c, o, on ? "node.standby" : "node.unstandby", json_pack("{s:s}", "node", node), &reply);
	if (rc)
		return rc;
	snprintf(line, sizeof(line), "%s: %s%s", node, on ? "in standby" : "out of standby",
		 json_is_true(json_object_get(reply, "changed")) ? "" : " (already)");
	if (on && o->has_wait) {
		rc = wait_until(c, o, drained_fn, node, NULL, &waited);
		json_object_set_new(reply, "drained", json_boolean(rc == 0));
		json_object_set_new(reply, "waited_ms", json_integer((json_int_t)(waited * 1000)));
		if (rc == CONTROL_EX_TIMEOUT)
			failure("%s still holds groups after %.1f s\n", node, o->wait);
		if (rc) {
			if (o->json && rc == CONTROL_EX_TIMEOUT)
				print_json(reply);
			json_decref(reply);
			return rc;
		}
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "; holds nothing (%.0f ms)", waited * 1000);
	}
	return report(o, reply, line);
}

/* A command with an on and an off verb: group disable|enable GROUP,
 * maintenance on|off. */
struct toggle {
	const char *on_verb, *off_verb; /* argv[1] */
	const char *on_cmd, *off_cmd;   /* the requests */
	const char *arg;                /* the request's one argument, argv[2]; NULL: none */
	const char *on_done, *off_done, *usage;
};

static int cmd_toggle(struct client *c, const struct opts *o, const struct toggle *t)
{
	const char *verb = o->argv[1];
	int on = verb && strcmp(verb, t->on_verb) == 0, rc;
	json_t *reply;
	char line[300];

	if (o->argc != (t->arg ? 3 : 2) || (!on && strcmp(verb, t->off_verb) != 0))
		return usage_error("usage: %s", t->usage);
	rc = call(c, o, on ? t->on_cmd : t->off_cmd, t->arg ? json_pack("{s:s}", t->arg, o->argv[2]) : NULL, &reply);
	if (rc)
		return rc;
	snprintf(line, sizeof(line), "%s%s%s%s", t->arg ? o->argv[2] : "", t->arg ? ": " : "",
		 on ? t->on_done : t->off_done, json_is_true(json_object_get(reply, "changed")) ? "" : " (already)");
	return report(o, reply, line);
}

static const struct toggle group_toggle = {
	"disable", "enable", "group.disable", "group.enable", "group",
	"disabled (held by nobody)", "enabled", "group disable GROUP | group enable GROUP",
};
static const struct toggle maintenance_toggle = {
	"on", "off", "maintenance.on", "maintenance.off", NULL,
	"maintenance mode on: fomgr moves nothing", "maintenance mode off: placement resumes",
	"maintenance on | maintenance off",
};

/* simulate ACTION ARGS: the arguments each action takes, in order. */
static json_t *simulate_args(const struct opts *o)
{
	const char *action = o->argv[1];

	if (o->argc == 3 && (strcmp(action, "standby") == 0 || strcmp(action, "fail") == 0))
		return json_pack("{s:s, s:s}", "action", action, "node", o->argv[2]);
	if (o->argc == 3 && strcmp(action, "move") == 0 && o->to)
		return json_pack("{s:s, s:s, s:s}", "action", action, "group", o->argv[2], "node", o->to);
	if (o->argc == 4 && strcmp(action, "fail-check") == 0)
		return json_pack("{s:s, s:s, s:s}", "action", action, "node", o->argv[2], "check", o->argv[3]);
	return NULL;
}

static int cmd_simulate(struct client *c, const struct opts *o)
{
	json_t *args = o->argc >= 2 ? simulate_args(o) : NULL, *reply;
	int rc;

	if (!args)
		return usage_error("usage: simulate standby NODE | move GROUP --to NODE | fail NODE | "
				   "fail-check NODE CHECK%s", "");
	rc = call(c, o, "simulate", args, &reply);
	if (rc)
		return rc;
	if (!json_is_array(json_object_get(reply, "groups"))) {
		json_decref(reply);
		return CONTROL_EX_PROTOCOL;
	}
	if (o->json)
		print_json(reply);
	else
		render_simulate(stdout, reply);
	json_decref(reply);
	return 0;
}

static int cmd_simple(struct client *c, const struct opts *o, const char *cmd, const char *done)
{
	json_t *reply;
	int rc = call(c, o, cmd, NULL, &reply);

	return rc ? rc : report(o, reply, done);
}

static int cmd_events(struct client *c, const struct opts *o)
{
	json_t *reply, *ev;
	int rc = call(c, o, "events", NULL, &reply);

	if (rc)
		return rc;
	json_decref(reply);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((rc = client_next(c, -1, &ev)) == 0) {
		if (o->json)
			print_json(ev);
		else
			render_event(stdout, ev);
		json_decref(ev);
	}
	if (rc == 1) {
		failure("the daemon ended the event stream\n");
		return CONTROL_EX_UNAVAILABLE;
	}
	return rc;
}

/* --since WHEN, as `log report` reads it: 0 and *since_ms (0 without it), or the
 * usage error's exit code. */
static int parse_since(const struct opts *o, uint64_t *since_ms)
{
	*since_ms = 0;
	if (o->since && logreport_parse_since(o->since, (uint64_t)time(NULL) * 1000, since_ms) < 0)
		return usage_error("--since '%s': expected 30m, 24h, 7d or YYYY-MM-DD[THH:MM[:SS]]", o->since);
	return 0;
}

/* The cluster's history as this node keeps it; --json: one entry per line, as
 * `events --json` streams them. */
static int cmd_history(struct client *c, const struct opts *o)
{
	json_t *reply, *entries, *ev;
	uint64_t since;
	size_t i;
	int rc = parse_since(o, &since);

	if (rc)
		return rc;
	rc = call(c, o, "history", since ? json_pack("{s:I}", "since_ms", (json_int_t)since) : NULL, &reply);
	if (rc)
		return rc;
	entries = json_object_get(reply, "history");
	if (!json_is_array(entries)) {
		json_decref(reply);
		failure("the daemon's answer has no history\n");
		return CONTROL_EX_PROTOCOL;
	}
	if (o->json)
		json_array_foreach(entries, i, ev)
			print_json(ev);
	else
		render_history(stdout, entries);
	failure_answered();
	json_decref(reply);
	return 0;
}

/* The log to read ("-": stdin); NULL after saying why. A directory opens but is
 * no log: that is "cannot read" (66), not "broken". */
static FILE *open_log(const char *path)
{
	struct stat st;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");

	if (!f) {
		failure("%s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		failure("%s: %s: not an audit log\n", path, strerror(EISDIR));
		if (f != stdin)
			fclose(f);
		return NULL;
	}
	return f;
}

/* Local: no daemon needed. */
static int cmd_log_verify(const struct opts *o)
{
	const char *path = o->argv[2];
	struct auditlog_verify_result res = {0};
	FILE *f;
	int rc;

	if (o->argc != 3)
		return usage_error("usage: log verify FILE [--prev HASH]%s", "");
	f = open_log(path);
	if (!f)
		return CONTROL_EX_NOINPUT;
	rc = auditlog_verify(f, o->prev, &res);
	if (f != stdin)
		fclose(f);
	if (o->json) {
		json_t *j = json_pack("{s:s, s:b, s:I, s:s}", "file", path, "intact", rc == 0, "records",
				      (json_int_t)res.records, "last_hash", res.last_hash);

		if (rc)
			json_object_update(j, json_pack("{s:I, s:s}", "bad_line", (json_int_t)res.bad_line, "reason",
							res.reason));
		print_json(j);
		json_decref(j);
	} else if (rc == 0) {
		printf("%s: intact, %llu record(s), last hash %s\n", path, (unsigned long long)res.records,
		       res.last_hash);
	} else {
		printf("%s: BROKEN at line %llu: %s (%llu record(s) intact before it)\n", path,
		       (unsigned long long)res.bad_line, res.reason, (unsigned long long)res.records);
	}
	return rc == 0 ? 0 : CONTROL_EX_DATAERR;
}

/* Local too. Exit 65 when the chain is broken or has gaps (the report is printed
 * all the same), so a cron job can alert on it. */
static int cmd_log_report(const struct opts *o)
{
	const char *path = o->argv[2];
	uint64_t since;
	json_t *report;
	FILE *f;
	int clean;

	if (o->argc != 3)
		return usage_error("usage: log report FILE [--since WHEN] [--prev HASH]%s", "");
	if (parse_since(o, &since))
		return CONTROL_EX_USAGE;
	f = open_log(path);
	if (!f)
		return CONTROL_EX_NOINPUT;
	report = logreport_build(f, path, since, o->prev);
	if (f != stdin)
		fclose(f);
	if (!report) {
		failure("%s: %s\n", path, strerror(errno));
		return CONTROL_EX_NOINPUT;
	}
	if (!json_integer_value(json_object_get(report, "records")) &&
	    json_integer_value(json_object_get(report, "gap_count"))) {
		failure("%s: not an audit log (no record in it)\n", path);
		json_decref(report);
		return CONTROL_EX_NOINPUT;
	}
	clean = logreport_clean(report);
	if (o->json)
		print_json(report);
	else
		render_log_report(stdout, report);
	json_decref(report);
	return clean ? 0 : CONTROL_EX_DATAERR;
}

static int dispatch(struct client *c, const struct opts *o)
{
	const char *cmd = o->argv[0];

	if (strcmp(cmd, "status") == 0 && o->argc == 1)
		return cmd_status(c, o);
	if (strcmp(cmd, "vip") == 0)
		return cmd_vip(c, o);
	if (strcmp(cmd, "node") == 0)
		return cmd_node(c, o);
	if (strcmp(cmd, "group") == 0)
		return cmd_toggle(c, o, &group_toggle);
	if (strcmp(cmd, "maintenance") == 0)
		return cmd_toggle(c, o, &maintenance_toggle);
	if (strcmp(cmd, "simulate") == 0)
		return cmd_simulate(c, o);
	if (strcmp(cmd, "reload") == 0 && o->argc == 1)
		return cmd_simple(c, o, "reload", "configuration reloaded");
	if (strcmp(cmd, "events") == 0 && o->argc == 1)
		return cmd_events(c, o);
	if (strcmp(cmd, "history") == 0 && o->argc == 1)
		return cmd_history(c, o);
	if (strcmp(cmd, "log") == 0 && o->argc == 2 && strcmp(o->argv[1], "reopen") == 0)
		return cmd_simple(c, o, "log.reopen", "audit log reopened");
	return usage_error("unknown command: %s", cmd);
}

/* Checked before connecting: a typo is a usage error whether a daemon runs or not. */
static int known_command(const char *cmd)
{
	static const char *const names[] = {"status",   "vip",    "node",   "group",   "maintenance",
					    "simulate", "reload", "events", "history", "log"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(cmd, names[i]) == 0)
			return 1;
	return 0;
}

static int run(int argc, char **argv)
{
	static struct client c; /* its buffer is large */
	struct opts o;
	uint64_t since;
	uid_t expect;
	int rc = parse_args(argc, argv, &o);

	if (rc)
		return rc;
	if (o.argc == 0) {
		fputs(usage_text, stderr);
		return CONTROL_EX_USAGE;
	}
	if (strcmp(o.argv[0], "log") == 0 && o.argc >= 2 && strcmp(o.argv[1], "verify") == 0)
		return cmd_log_verify(&o);
	if (strcmp(o.argv[0], "log") == 0 && o.argc >= 2 && strcmp(o.argv[1], "report") == 0)
		return cmd_log_report(&o);
	if (!known_command(o.argv[0]))
		return usage_error("unknown command: %s", o.argv[0]);
	if (strcmp(o.argv[0], "history") == 0 && parse_since(&o, &since)) /* before any daemon is asked */
		return CONTROL_EX_USAGE;
	rc = client_expected_uid(&expect);
	if (rc == 0)
		rc = client_open(&c, o.socket, expect);
	if (rc)
		return rc;
	rc = dispatch(&c, &o);
	client_close(&c);
	return rc;
}

int main(int argc, char **argv)
{
	/* Known before the arguments are parsed, so a usage error is JSON too. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0)
			failure_json_mode(1);
	return failure_finish(run(argc, argv));
}
