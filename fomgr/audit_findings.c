/* The audit's findings (see audit_findings.h). */
#include "audit_findings.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FINDINGS_PER_RUN 1024 /* one run cannot grow the active set beyond this */

static const char *const kind_names[AUDIT_KIND_MAX] = {
	[AUDIT_UNEXPECTED_LISTENER] = "unexpected_listener",
	[AUDIT_FORBIDDEN_LISTENER] = "forbidden_listener",
	[AUDIT_WRONG_PROCESS] = "wrong_process",
	[AUDIT_MISSING_LISTENER] = "missing_listener",
	[AUDIT_CLOSED_PORT_OPEN] = "closed_port_open",
	[AUDIT_ALLOWED_UNREACHABLE] = "allowed_unreachable",
	[AUDIT_INTERFACE] = "interface",
	[AUDIT_ROUTE] = "route",
	[AUDIT_DEFAULT_ROUTE] = "default_route",
	[AUDIT_DRIFT] = "drift",
	[AUDIT_EXPOSURE] = "exposure",
};

static const char *const severity_names[AUDIT_SEVERITY_MAX] = {"info", "warning", "critical"};

const char *audit_kind_str(enum audit_kind kind)
{
	return (unsigned)kind < AUDIT_KIND_MAX ? kind_names[kind] : "invalid";
}

const char *audit_severity_str(enum audit_severity severity)
{
	return (unsigned)severity < AUDIT_SEVERITY_MAX ? severity_names[severity] : "invalid";
}

bool audit_findings_has(const struct audit_findings *f, enum audit_kind kind, const char *subject)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].kind == kind && strcmp(f->v[i].subject, subject) == 0)
			return true;
	return false;
}

int audit_findings_add(struct audit_findings *f, enum audit_kind kind, enum audit_severity severity,
		       const char *subject, const char *fmt, ...)
{
	struct audit_finding *x;
	va_list ap;

	if (audit_findings_has(f, kind, subject) || f->n >= MAX_FINDINGS_PER_RUN)
		return 0;
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 8;
		struct audit_finding *v = realloc(f->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	x = &f->v[f->n++];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->severity = severity;
	snprintf(x->subject, sizeof(x->subject), "%s", subject);
	va_start(ap, fmt);
	vsnprintf(x->detail, sizeof(x->detail), fmt, ap);
	va_end(ap);
	return 0;
}

void audit_findings_clear(struct audit_findings *f)
{
	free(f->v);
	memset(f, 0, sizeof(*f));
}

json_t *audit_finding_json(const struct audit_finding *f)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "kind", audit_kind_str(f->kind), "severity",
			 audit_severity_str(f->severity), "subject", f->subject, "detail", f->detail);
}

json_t *audit_findings_json(const struct audit_findings *f)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < f->n; i++)
		json_array_append_new(arr, audit_finding_json(&f->v[i]));
	return arr;
}
