#include "render.h"
#include "fo/jsontext.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *s_or(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : def;
}

static const char *yes_no(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key)) ? "yes" : "no";
}

/* "ok", "2 failing", "stale", "-" for a node's checks. */
static void node_health(const json_t *n, char *buf, size_t size)
{
	const json_t *checks = json_object_get(n, "checks"), *v;
	const char *key;
	size_t failing = 0, unknown = 0;

	if (json_is_true(json_object_get(n, "health_stale"))) {
		snprintf(buf, size, "stale");
		return;
	}
	if (!json_object_size(checks)) {
		snprintf(buf, size, "-");
		return;
	}
	json_object_foreach((json_t *)checks, key, v) {
		failing += strcmp(json_string_value(v) ? json_string_value(v) : "", "failing") == 0;
		unknown += strcmp(json_string_value(v) ? json_string_value(v) : "", "unknown") == 0;
	}
	if (failing)
		snprintf(buf, size, "%zu failing", failing);
	else if (unknown)
		snprintf(buf, size, "%zu unknown", unknown);
	else
		snprintf(buf, size, "ok");
}

static void join_strings(const json_t *arr, char *buf, size_t size)
{
	const json_t *v;
	size_t i, used = 0;

	buf[0] = '\0';
	json_array_foreach((json_t *)arr, i, v) {
		int n = snprintf(buf + used, size - used, "%s%s", i ? "," : "", json_string_value(v));

		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	if (!used)
		snprintf(buf, size, "-");
}

static void render_nodes(FILE *out, const json_t *st)
{
	const json_t *n;
	size_t i;
	char health[32], holds[256];

	fprintf(out, "\n%-16s %4s %-6s %-6s %-7s %-10s %s\n", "NODE", "ID", "ONLINE", "FOMGR", "STANDBY", "HEALTH",
		"HOLDS");
	json_array_foreach(json_object_get(st, "nodes"), i, n) {
		node_health(n, health, sizeof(health));
		join_strings(json_object_get(n, "holds"), holds, sizeof(holds));
		fprintf(out, "%-16s %4lld %-6s %-6s %-7s %-10s %s%s\n", s_or(n, "name", "?"),
			(long long)json_integer_value(json_object_get(n, "nodeid")), yes_no(n, "online"),
			json_is_true(json_object_get(n, "leaving")) ? "leave" : yes_no(n, "member"), yes_no(n, "standby"),
			health, holds, json_is_true(json_object_get(n, "local")) ? "   (this node)" : "");
	}
	/* Which checks: the table says how many. */
	json_array_foreach(json_object_get(st, "nodes"), i, n) {
		const json_t *v;
		const char *check;
		int shown = 0;

		json_object_foreach((json_t *)json_object_get(n, "checks"), check, v) {
			const char *state = json_string_value(v) ? json_string_value(v) : "?";

			if (strcmp(state, "passing") == 0)
				continue;
			if (!shown++)
				fprintf(out, "  %s: checks not passing:", s_or(n, "name", "?"));
			fprintf(out, " %s (%s)", check, state);
		}
		if (shown)
			fputc('\n', out);
	}
}

static void render_groups(FILE *out, const json_t *st)
{
	const json_t *g;
	size_t i;
	char addrs[512];

	fprintf(out, "\n%-16s %-12s %-12s %-12s %-10s %-9s %-12s %s\n", "GROUP", "OWNER", "HOLDER", "PINNED", "HERE",
		"FAILBACK", "REASON", "ADDRESSES");
	json_array_foreach(json_object_get(st, "groups"), i, g) {
		join_strings(json_object_get(g, "addresses"), addrs, sizeof(addrs));
		fprintf(out, "%-16s %-12s %-12s %-12s %-10s %-9s %-12s %s\n", s_or(g, "name", "?"), s_or(g, "owner", "-"),
			s_or(g, "holder", "-"), s_or(g, "pinned_to", "-"), s_or(g, "local_state", "?"),
			s_or(g, "failback", "?"), s_or(g, "reason", "-"), addrs);
	}
}

/* crm_resource --why: each group's reason, then why each other node does not
 * hold it. */
static void render_why(FILE *out, const json_t *st)
{
	const json_t *g, *n;
	size_t i, k;

	fprintf(out, "\nWHY\n");
	json_array_foreach(json_object_get(st, "groups"), i, g) {
		fprintf(out, "  %s: %s\n", s_or(g, "name", "?"), s_or(g, "why", "-"));
		json_array_foreach(json_object_get(g, "nodes"), k, n)
			if (strcmp(s_or(n, "state", ""), "owner") != 0)
				fprintf(out, "    %-14s %-16s %s\n", s_or(n, "name", "?"), s_or(n, "state", "?"),
					s_or(n, "why", ""));
	}
}

void render_simulate(FILE *out, const json_t *r)
{
	const json_t *what = json_object_get(r, "simulate"), *g;
	const char *action = s_or(what, "action", "?");
	size_t i;

	if (strcmp(action, "move") == 0)
		fprintf(out, "simulate move %s --to %s", s_or(what, "group", "?"), s_or(what, "node", "?"));
	else
		fprintf(out, "simulate %s %s%s%s", action, s_or(what, "node", "?"), json_object_get(what, "check") ? " " : "",
			s_or(what, "check", ""));
	fprintf(out, " (nothing is changed)\n");
	if (!json_is_true(json_object_get(r, "quorate")))
		fprintf(out, "  ! no quorum afterwards: nothing would be held\n");
	fprintf(out, "\n%-16s %-12s    %-12s %-12s %s\n", "GROUP", "NOW", "AFTER", "REASON", "WHY");
	json_array_foreach(json_object_get(r, "groups"), i, g)
		fprintf(out, "%-16s %-12s %s %-12s %-12s %s\n", s_or(g, "group", "?"), s_or(g, "owner_before", "-"),
			json_is_true(json_object_get(g, "changes")) ? "->" : "  ", s_or(g, "owner_after", "-"),
			s_or(g, "reason", "?"), s_or(g, "why", ""));
}

static void clock_of(long long ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	snprintf(buf, size, "%02d:%02d:%02d.%03lld", tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

/* Dates too: the history spans days. */
static void date_of(long long ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d.%03lld", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

static void render_transitions(FILE *out, const json_t *st)
{
	const json_t *trans = json_object_get(st, "transitions"), *t;
	size_t n = json_array_size(trans), i;
	char when[32];

	if (!n)
		return;
	fprintf(out, "\nLAST TRANSITIONS (this node)\n%-12s %5s %-16s %-8s %-12s %-12s %-10s %s\n", "TIME", "SEQ",
		"GROUP", "ACTION", "FROM", "TO", "REASON", "TOOK");
	/* The last ten, oldest first. */
	for (i = n > 10 ? n - 10 : 0; i < n; i++) {
		t = json_array_get(trans, i);
		clock_of((long long)json_integer_value(json_object_get(t, "at_ms")), when, sizeof(when));
		fprintf(out, "%-12s %5lld %-16s %-8s %-12s %-12s %-10s %.1f ms%s%s\n", when,
			(long long)json_integer_value(json_object_get(t, "seq")), s_or(t, "group", "?"),
			s_or(t, "action", "?"), s_or(t, "from", "-"), s_or(t, "to", "-"), s_or(t, "reason", "?"),
			json_number_value(json_object_get(t, "took_ms")),
			json_is_true(json_object_get(t, "ok")) ? "" : "  FAILED: ", s_or(t, "error", ""));
	}
}

/* One line under the header when corosync has a quorum device:
 *   qdevice net ffsplit  witness 198.51.100.250  CONNECTED  votes 1 */
static void render_qdevice(FILE *out, const json_t *q)
{
	if (!json_is_true(json_object_get(q, "configured")))
		return;
	fprintf(out, "qdevice %s %s  witness %s  %s  votes %lld  (alive %s, voting %s, for %llds)\n", s_or(q, "model", "?"),
		s_or(q, "algorithm", "?"), s_or(q, "host", "?"),
		json_is_true(json_object_get(q, "connected")) ? "CONNECTED" : "NOT CONNECTED",
		(long long)json_integer_value(json_object_get(q, "votes")), yes_no(q, "alive"), yes_no(q, "voting"),
		(long long)json_integer_value(json_object_get(q, "since_ms")) / 1000);
}

/* "2h03m", "9m12s", "3d04h" */
static void duration_of(long long s, char *buf, size_t size)
{
	if (s >= 86400)
		snprintf(buf, size, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, size, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
}

/* crm_mon's "last updated" and "last change", and this fomgr's uptime. */
static void render_times(FILE *out, const json_t *st)
{
	const json_t *last = json_object_get(st, "last_change");
	char updated[48], up[32];

	if (!json_object_get(st, "updated_ms"))
		return;
	date_of((long long)json_integer_value(json_object_get(st, "updated_ms")), updated, sizeof(updated));
	duration_of((long long)json_integer_value(json_object_get(st, "uptime_s")), up, sizeof(up));
	fprintf(out, "last updated %s  fomgr up %s\n", updated, up);
	if (json_is_object(last)) {
		fprintf(out, "last change ");
		render_event(out, last);
	}
}

/* When each member's fomgr joined the group, and how long it has run. */
static void render_online_since(FILE *out, const json_t *st)
{
	long long now = (long long)json_integer_value(json_object_get(st, "updated_ms"));
	const json_t *n;
	size_t i;
	int shown = 0;

	json_array_foreach(json_object_get(st, "nodes"), i, n) {
		const json_t *since = json_object_get(n, "online_since_ms"), *started = json_object_get(n, "started_ms");
		char when[48], up[32];

		if (!json_is_integer(since))
			continue;
		date_of(json_integer_value(since), when, sizeof(when));
		duration_of(json_is_integer(started) && now > json_integer_value(started)
				    ? (now - json_integer_value(started)) / 1000 : 0, up, sizeof(up));
		/* after a blank line: the NODE table ends there (bash completion reads it) */
		fprintf(out, "%s %s %.19s (fomgr up %s)", shown++ ? "," : "\nonline since:", s_or(n, "name", "?"), when,
			up);
	}
	if (shown)
		fputc('\n', out);
}

void render_status(FILE *out, const json_t *st)
{
	const json_t *w, *admin = json_object_get(st, "admin");
	size_t i;

	if (!json_is_true(json_object_get(st, "joined")) && json_object_get(st, "state")) {
		fprintf(out, "fomgr is %s (waiting for corosync)\n", s_or(st, "state", "starting"));
		return;
	}
	/* What needs attention comes first, as crm_mon does. */
	if (json_array_size(json_object_get(st, "warnings"))) {
		fprintf(out, "WARNINGS (%zu)\n", json_array_size(json_object_get(st, "warnings")));
		json_array_foreach(json_object_get(st, "warnings"), i, w)
			fprintf(out, "  ! %s\n", json_string_value(w));
		fputc('\n', out);
	}
	fprintf(out, "node %s  fomgr %s  %s  members %lld  expected votes %lld%s\n", s_or(st, "node", "?"),
		s_or(st, "version", "?"), json_is_true(json_object_get(st, "quorate")) ? "QUORATE" : "NOT QUORATE",
		(long long)json_integer_value(json_object_get(st, "members")),
		(long long)json_integer_value(json_object_get(st, "expected_votes")),
		json_is_true(json_object_get(st, "joined")) ? "" : "  NOT JOINED");
	fprintf(out, "admin epoch %lld", (long long)json_integer_value(json_object_get(admin, "epoch")));
	if (json_is_true(json_object_get(admin, "maintenance")))
		fprintf(out, "  MAINTENANCE MODE");
	if (json_array_size(json_object_get(admin, "disabled"))) {
		char disabled[256];

		join_strings(json_object_get(admin, "disabled"), disabled, sizeof(disabled));
		fprintf(out, "  disabled: %s", disabled);
	}
	if (json_array_size(json_object_get(admin, "standby"))) {
		char standby[256];

		join_strings(json_object_get(admin, "standby"), standby, sizeof(standby));
		fprintf(out, "  standby: %s", standby);
	}
	fprintf(out, "\n");
	render_times(out, st);
	render_qdevice(out, json_object_get(st, "qdevice"));
	render_nodes(out, st);
	render_online_since(out, st);
	render_groups(out, st);
	render_why(out, st);
	render_transitions(out, st);
}

/* An event after its time: a transition at a node, or an admin change and its author. */
static void event_text(FILE *out, const json_t *ev)
{
	const char *type = s_or(ev, "event", "?");

	if (strcmp(type, "transition") == 0) {
		fprintf(out, "transition node=%s seq=%lld group=%s %s from=%s to=%s reason=%s took_ms=%.1f%s%s",
			s_or(ev, "node", "?"), (long long)json_integer_value(json_object_get(ev, "seq")),
			s_or(ev, "group", "?"), s_or(ev, "action", "?"), s_or(ev, "from", "-"), s_or(ev, "to", "-"),
			s_or(ev, "reason", "?"), json_number_value(json_object_get(ev, "took_ms")),
			json_is_true(json_object_get(ev, "ok")) ? "" : " FAILED: ", s_or(ev, "error", ""));
	} else if (strcmp(type, "admin") == 0 && json_is_string(json_object_get(ev, "what"))) {
		fprintf(out, "admin epoch=%lld %s %s%s%s by %s (uid %lld) on %s",
			(long long)json_integer_value(json_object_get(ev, "epoch")), s_or(ev, "what", "?"),
			s_or(ev, "target", "?"), json_object_get(ev, "to") ? " to=" : "", s_or(ev, "to", ""),
			*s_or(ev, "user", "") ? s_or(ev, "user", "") : "?",
			(long long)json_integer_value(json_object_get(ev, "uid")), s_or(ev, "node", "?"));
	} else if (strcmp(type, "admin") == 0) {
		fprintf(out, "admin epoch=%lld (made by an older fomgr: no details)",
			(long long)json_integer_value(json_object_get(ev, "epoch")));
	} else {
		char *text = jsontext_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);

		fprintf(out, "%s %s", type, text ? text : "");
		free(text);
	}
	if (json_integer_value(json_object_get(ev, "missed_before")))
		fprintf(out, " (%lld earlier transition(s) of %s not received)",
			(long long)json_integer_value(json_object_get(ev, "missed_before")), s_or(ev, "node", "?"));
	fprintf(out, "%s\n", json_is_true(json_object_get(ev, "replayed")) ? " (before this node joined)" : "");
}

static long long at_ms(const json_t *ev)
{
	return (long long)json_integer_value(json_object_get(ev, "at_ms"));
}

void render_event(FILE *out, const json_t *ev)
{
	char when[32];

	clock_of(at_ms(ev), when, sizeof(when));
	fprintf(out, "%s ", json_object_get(ev, "at_ms") ? when : "-");
	event_text(out, ev);
	fflush(out);
}

void render_history(FILE *out, const json_t *entries)
{
	const json_t *ev;
	size_t i;
	char when[48];

	if (!json_array_size(entries))
		fprintf(out, "no transition or admin change in the history\n");
	json_array_foreach(entries, i, ev) {
		if (at_ms(ev))
			date_of(at_ms(ev), when, sizeof(when));
		fprintf(out, "%-23s ", at_ms(ev) ? when : "-");
		event_text(out, ev);
	}
}

/* "  key  N" lines of a {key: count} object, largest first (ties by name). */
static int by_count(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t cx = json_integer_value(json_array_get(x, 1)), cy = json_integer_value(json_array_get(y, 1));

	if (cx != cy)
		return cx < cy ? 1 : -1;
	return strcmp(json_string_value(json_array_get(x, 0)), json_string_value(json_array_get(y, 0)));
}

static void counts(FILE *out, const char *title, const json_t *obj)
{
	json_t *rows = json_array(), *v;
	const char *key;
	size_t n = json_object_size(obj), i = 0;
	json_t **sorted = calloc(n ? n : 1, sizeof(*sorted));

	fprintf(out, "%s%s\n", title, n ? "" : " none");
	json_object_foreach((json_t *)obj, key, v) {
		json_t *row = json_pack("[s, O]", key, v);

		json_array_append_new(rows, row);
		if (sorted)
			sorted[i++] = row;
	}
	if (sorted) {
		qsort(sorted, i, sizeof(*sorted), by_count);
		for (size_t k = 0; k < i; k++)
			fprintf(out, "  %-24s %lld\n", json_string_value(json_array_get(sorted[k], 0)),
				(long long)json_integer_value(json_array_get(sorted[k], 1)));
	}
	free(sorted);
	json_decref(rows);
}

void render_log_report(FILE *out, const json_t *r)
{
	const json_t *chain = json_object_get(r, "chain"), *findings = json_object_get(r, "findings"), *v;
	size_t i;

	fprintf(out, "%s: %lld record(s), %lld in range, %s to %s\n", s_or(r, "file", "-"),
		(long long)json_integer_value(json_object_get(r, "records")),
		(long long)json_integer_value(json_object_get(r, "records_in_range")), s_or(r, "first_ts", "-"),
		s_or(r, "last_ts", "-"));
	if (json_is_true(json_object_get(chain, "intact")))
		fprintf(out, "chain: intact, last hash %s\n", s_or(chain, "last_hash", "?"));
	else
		fprintf(out, "chain: BROKEN at line %lld: %s\n", (long long)json_integer_value(json_object_get(chain, "bad_line")),
			s_or(chain, "reason", "?"));
	fprintf(out, "gaps: %lld\n", (long long)json_integer_value(json_object_get(r, "gap_count")));
	json_array_foreach(json_object_get(r, "gaps"), i, v)
		fprintf(out, "  line %-6lld %-13s %s\n", (long long)json_integer_value(json_object_get(v, "line")),
			s_or(v, "kind", "?"), s_or(v, "detail", ""));
	fputc('\n', out);
	counts(out, "transitions (acquisitions) by reason:",
	       json_object_get(json_object_get(r, "transitions"), "by_reason"));
	fprintf(out, "  failed                   %lld\n",
		(long long)json_integer_value(json_object_get(json_object_get(r, "transitions"), "failed")));
	counts(out, "refused accesses by user:", json_object_get(json_object_get(r, "access_denied"), "by_user"));
	counts(out, "operators' commands by user:", json_object_get(json_object_get(r, "admin"), "by_user"));
	fprintf(out, "configuration changes:%s\n", json_array_size(json_object_get(r, "config_changes")) ? "" : " none");
	json_array_foreach(json_object_get(r, "config_changes"), i, v) {
		fprintf(out, "  %-24s seq %-6lld %s", s_or(v, "ts", "-"), (long long)json_integer_value(json_object_get(v, "seq")),
			s_or(v, "change", "?"));
		if (json_object_get(v, "error_count"))
			fprintf(out, " (%lld error(s))", (long long)json_integer_value(json_object_get(v, "error_count")));
		fprintf(out, "%s%s\n", json_object_get(v, "config") ? " " : "", s_or(v, "config", ""));
	}
	fprintf(out, "findings: %lld opened, %lld resolved\n",
		(long long)json_integer_value(json_object_get(findings, "opened")),
		(long long)json_integer_value(json_object_get(findings, "resolved")));
	counts(out, "findings opened by kind:", json_object_get(findings, "opened_by_kind"));
	fprintf(out, "still open at the end:%s\n", json_array_size(json_object_get(findings, "still_open")) ? "" : " none");
	json_array_foreach(json_object_get(findings, "still_open"), i, v)
		fprintf(out, "  %-20s %-9s %s (since %s)\n", s_or(v, "kind", "?"), s_or(v, "severity", "-"),
			s_or(v, "subject", "-"), s_or(v, "since", "?"));
}
