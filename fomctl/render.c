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
}

static void render_groups(FILE *out, const json_t *st)
{
	const json_t *g;
	size_t i;
	char addrs[512];

	fprintf(out, "\n%-16s %-12s %-12s %-12s %-10s %-9s %s\n", "GROUP", "OWNER", "HOLDER", "PINNED", "HERE",
		"FAILBACK", "ADDRESSES");
	json_array_foreach(json_object_get(st, "groups"), i, g) {
		join_strings(json_object_get(g, "addresses"), addrs, sizeof(addrs));
		fprintf(out, "%-16s %-12s %-12s %-12s %-10s %-9s %s\n", s_or(g, "name", "?"), s_or(g, "owner", "-"),
			s_or(g, "holder", "-"), s_or(g, "pinned_to", "-"), s_or(g, "local_state", "?"),
			s_or(g, "failback", "?"), addrs);
	}
}

static void clock_of(long long ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	snprintf(buf, size, "%02d:%02d:%02d.%03lld", tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
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

void render_status(FILE *out, const json_t *st)
{
	const json_t *w, *admin = json_object_get(st, "admin");
	size_t i;

	if (!json_is_true(json_object_get(st, "joined")) && json_object_get(st, "state")) {
		fprintf(out, "fomgr is %s (waiting for corosync)\n", s_or(st, "state", "starting"));
		return;
	}
	fprintf(out, "node %s  fomgr %s  %s  members %lld  expected votes %lld  %s\n", s_or(st, "node", "?"),
		s_or(st, "version", "?"), json_is_true(json_object_get(st, "quorate")) ? "QUORATE" : "NOT QUORATE",
		(long long)json_integer_value(json_object_get(st, "members")),
		(long long)json_integer_value(json_object_get(st, "expected_votes")),
		json_is_true(json_object_get(st, "joined")) ? "" : "NOT JOINED");
	fprintf(out, "admin epoch %lld", (long long)json_integer_value(json_object_get(admin, "epoch")));
	if (json_array_size(json_object_get(admin, "standby"))) {
		char standby[256];

		join_strings(json_object_get(admin, "standby"), standby, sizeof(standby));
		fprintf(out, "  standby: %s", standby);
	}
	fprintf(out, "\n");
	json_array_foreach(json_object_get(st, "warnings"), i, w)
		fprintf(out, "WARNING: %s\n", json_string_value(w));
	render_nodes(out, st);
	render_groups(out, st);
	render_transitions(out, st);
}

void render_event(FILE *out, const json_t *ev)
{
	const char *type = s_or(ev, "event", "?");
	char when[32];

	if (strcmp(type, "transition") == 0) {
		clock_of((long long)json_integer_value(json_object_get(ev, "at_ms")), when, sizeof(when));
		fprintf(out, "%s transition seq=%lld group=%s %s from=%s to=%s reason=%s took_ms=%.1f%s%s\n", when,
			(long long)json_integer_value(json_object_get(ev, "seq")), s_or(ev, "group", "?"),
			s_or(ev, "action", "?"), s_or(ev, "from", "-"), s_or(ev, "to", "-"), s_or(ev, "reason", "?"),
			json_number_value(json_object_get(ev, "took_ms")),
			json_is_true(json_object_get(ev, "ok")) ? "" : " FAILED: ", s_or(ev, "error", ""));
	} else {
		char *text = jsontext_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);

		fprintf(out, "%s %s\n", type, text ? text : "");
		free(text);
	}
	fflush(out);
}
