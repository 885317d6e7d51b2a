#include "warnings.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const warnings_ids[] = {
	"no-quorum",       "no-holder",   "all-standby",   "split-brain-risk", "drift",
	"audit-findings",  "health-agent-stale", "vip-conflict", "not-joined", "ring-stall",
	"isolated",        "withdrawn",   "mixed-versions", "corosync-without-crypto", "reload-refused",
	"qdevice-disconnected", "maintenance",
};
const size_t warnings_n_ids = sizeof(warnings_ids) / sizeof(warnings_ids[0]);

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void add(json_t *warnings, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(json_t *warnings, const char *fmt, ...)
{
	char text[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_array_append_new(warnings, json_string(text));
}

static void cluster(json_t *w, const json_t *st)
{
	const json_t *nodes = json_object_get(st, "nodes"), *n, *g;
	size_t i, standby = 0;

	if (json_is_true(json_object_get(st, "joined")) && !json_is_true(json_object_get(st, "quorate")))
		add(w, "no-quorum: this node's partition (%lld member(s)) has no quorum and holds nothing",
		    (long long)json_integer_value(json_object_get(st, "members")));
	json_array_foreach(nodes, i, n)
		standby += json_is_true(json_object_get(n, "standby"));
	if (json_array_size(nodes) && standby == json_array_size(nodes))
		add(w, "all-standby: every node is in standby: no group can be held (fomctl node unstandby NODE)");
	/* A disabled group has no holder by an operator's choice: status says "disabled". */
	json_array_foreach(json_object_get(st, "groups"), i, g)
		if ((json_is_null(json_object_get(g, "holder")) || !json_object_get(g, "holder")) &&
		    !json_is_true(json_object_get(g, "disabled")))
			add(w, "no-holder: group %s has no holder (%s)", str(g, "name") ? str(g, "name") : "?",
			    str(g, "reason") ? str(g, "reason") : "unsettled");
	/* This node's own agent is status.c's "health-agent-stale"; the peers' are here. */
	json_array_foreach(nodes, i, n)
		if (json_is_true(json_object_get(n, "health_stale")) && !json_is_true(json_object_get(n, "local")) &&
		    json_is_true(json_object_get(n, "member")))
			add(w, "health-agent-stale: %s's health agent went silent", str(n, "name") ? str(n, "name") : "?");
}

static void audit(json_t *w, const json_t *st)
{
	const json_t *f;
	size_t i, serious = 0, critical = 0;
	char first[200] = "";

	json_array_foreach(json_object_get(json_object_get(st, "audit"), "findings"), i, f) {
		const char *kind = str(f, "kind") ? str(f, "kind") : "?", *sev = str(f, "severity") ? str(f, "severity") : "";

		if (strcmp(kind, "drift") == 0) {
			add(w, "drift: %s: %s", str(f, "subject") ? str(f, "subject") : "?", str(f, "detail") ? str(f, "detail") : "");
			continue;
		}
		if (strcmp(sev, "warning") != 0 && strcmp(sev, "critical") != 0)
			continue;
		critical += strcmp(sev, "critical") == 0;
		if (!serious++)
			snprintf(first, sizeof(first), "%s %s", kind, str(f, "subject") ? str(f, "subject") : "");
	}
	if (serious)
		add(w, "audit-findings: %zu in force (%zu critical), first: %s (fomctl status --json: audit.findings)",
		    serious, critical, first);
}

void warnings_derive(json_t *status)
{
	json_t *w = json_object_get(status, "warnings");

	if (!json_is_array(w))
		return;
	cluster(w, status);
	audit(w, status);
}
