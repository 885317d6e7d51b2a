/* What the audit finds: a finding is a kind, a severity, a subject that stays the
 * same from run to run ("tcp/8080 on 0.0.0.0") and a detail that may not (pids).
 * Every part of the audit (the port judge, the probes, the exposure checks, the
 * network state, the drift between nodes) adds to a list of them; the running
 * audit (audit.c) notes which appear and which go away. */
#ifndef FOMGR_AUDIT_FINDINGS_H
#define FOMGR_AUDIT_FINDINGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum audit_severity { AUDIT_INFO, AUDIT_WARNING, AUDIT_CRITICAL, AUDIT_SEVERITY_MAX };

enum audit_kind {
	AUDIT_UNEXPECTED_LISTENER, /* listens, and no allow rule says it may */
	AUDIT_FORBIDDEN_LISTENER,  /* listens on a must_be_closed port */
	AUDIT_WRONG_PROCESS,       /* an allowed port, held by another process */
	AUDIT_MISSING_LISTENER,    /* an allow rule nothing here listens for */
	AUDIT_CLOSED_PORT_OPEN,    /* probe: a must_be_closed port answered */
	AUDIT_ALLOWED_UNREACHABLE, /* probe: an allowed port did not answer */
	AUDIT_INTERFACE,           /* a group's interface is missing or down */
	AUDIT_ROUTE,               /* no route covers a VIP's subnet on its interface */
	AUDIT_DEFAULT_ROUTE,       /* no default route */
	AUDIT_DRIFT,               /* firewall, routes, config or versions differ from a peer */
	AUDIT_EXPOSURE,            /* credentials and exposure (crypto, status, files, two_node) */
	AUDIT_KIND_MAX
};

#define AUDIT_SUBJECT_MAX 128
#define AUDIT_DETAIL_MAX 256

struct audit_finding {
	enum audit_kind kind;
	enum audit_severity severity;
	char subject[AUDIT_SUBJECT_MAX]; /* what, stable across runs: "tcp/8080 on 0.0.0.0" */
	char detail[AUDIT_DETAIL_MAX];   /* why, with what changes from run to run (pids) */
};

/* A growing list; zero-initialise, release with audit_findings_clear(). */
struct audit_findings {
	size_t n, cap;
	struct audit_finding *v;
};

const char *audit_kind_str(enum audit_kind kind);
const char *audit_severity_str(enum audit_severity severity);
/* Appends one finding (printf-style detail), unless one of that kind and subject
 * is already there. 0 or -ENOMEM. */
int audit_findings_add(struct audit_findings *f, enum audit_kind kind, enum audit_severity severity,
		       const char *subject, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
bool audit_findings_has(const struct audit_findings *f, enum audit_kind kind, const char *subject);
void audit_findings_clear(struct audit_findings *f);
/* {"kind":..,"severity":..,"subject":..,"detail":..}; the caller owns the result. */
json_t *audit_finding_json(const struct audit_finding *f);
json_t *audit_findings_json(const struct audit_findings *f);

#endif
