/* The security audit (see audit.h). Findings come from four sources, each with its
 * own set of active findings: the port audit (listeners against the allowlist), the
 * reachability probes, the network state, and the exposure checks. A finding is
 * recorded and logged when it appears and when it goes away, not on every run, so a
 * standing problem does not flood the log; the transition records (AUDITLOG_SNAPSHOT)
 * carry the findings active at that moment.
 *
 * Around a transition nothing here delays the move: the hooks only queue the work,
 * which runs from a zero timer in the next loop iteration, after the I/O already
 * pending then (the kernel's acknowledgements, the peers' messages: the timer's
 * priority is below theirs, since libev runs the watchers of one priority last
 * queued first, timers after I/O): the count of the connections on the VIPs, the
 * snapshot, the record. Records are queued in the audit log (auditlog_enqueue),
 * which writes them after that. (Not an idle watcher: a watcher that is always
 * pending would starve it.) */
#include "audit.h"

#include <arpa/inet.h>
#include <corosync/cmap.h>
#include <errno.h>
#include <ev.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "auditlog.h"
#include "fo/clock.h"
#include "fo/log.h"
#include "fo/sockdiag.h"
#include "membership.h"
#include "netstate.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_FINDINGS_PER_RUN 1024 /* one run cannot grow the active set beyond this */
#define MAX_PENDING (2 * CONFIG_MAX_GROUPS)
#define PROBE_CONCURRENCY 16
#define SNAPSHOT_RECORD_LISTENERS 64 /* listeners listed in a snapshot record */
#define SNAPSHOT_RECORD_FINDINGS 64  /* findings listed in a snapshot record */
#ifndef FO_VERSION
#define FO_VERSION "unknown"
#endif

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

static const char *const probe_result_names[AUDIT_PROBE_RESULT_MAX] = {"open", "refused", "timeout", "error"};

const char *audit_kind_str(enum audit_kind kind)
{
	return (unsigned)kind < AUDIT_KIND_MAX ? kind_names[kind] : "invalid";
}

const char *audit_severity_str(enum audit_severity severity)
{
	return (unsigned)severity < AUDIT_SEVERITY_MAX ? severity_names[severity] : "invalid";
}

const char *audit_probe_result_str(enum audit_probe_result r)
{
	return (unsigned)r < AUDIT_PROBE_RESULT_MAX ? probe_result_names[r] : "invalid";
}

/* ---- findings ---- */

static bool findings_has(const struct audit_findings *f, enum audit_kind kind, const char *subject)
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

	if (findings_has(f, kind, subject) || f->n >= MAX_FINDINGS_PER_RUN)
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

/* ---- addresses ---- */

static size_t family_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static const void *ss_addr(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return &((const struct sockaddr_in *)ss)->sin_addr;
	return &((const struct sockaddr_in6 *)ss)->sin6_addr;
}

static void ss_set(struct sockaddr_storage *ss, int family, const void *addr)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	memcpy((void *)ss_addr(ss), addr, family_len(family));
}

static const char *addr_str(int family, const void *addr, char *buf, size_t size)
{
	if (!inet_ntop(family, addr, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

int audit_local_addrs_read(struct audit_local_addrs *out)
{
	struct ifaddrs *ifa, *i;

	out->n = 0;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i && out->n < AUDIT_MAX_LOCAL_ADDRS; i = i->ifa_next) {
		int family = i->ifa_addr ? i->ifa_addr->sa_family : AF_UNSPEC;

		if (family != AF_INET && family != AF_INET6)
			continue;
		ss_set(&out->addrs[out->n++], family, ss_addr((const struct sockaddr_storage *)(void *)i->ifa_addr));
	}
	freeifaddrs(ifa);
	return 0;
}

bool audit_local_addrs_has(const struct audit_local_addrs *l, const struct sockaddr_storage *a)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (l->addrs[i].ss_family == a->ss_family &&
		    memcmp(ss_addr(&l->addrs[i]), ss_addr(a), family_len(a->ss_family)) == 0)
			return true;
	return false;
}

/* ---- the port audit (pure) ---- */

static bool v4_mapped_is(const struct in6_addr *v6, const void *v4)
{
	return IN6_IS_ADDR_V4MAPPED(v6) && memcmp(&v6->s6_addr[12], v4, 4) == 0;
}

static bool listener_loopback(const struct sockdiag_listener *l)
{
	if (l->family == AF_INET)
		return (ntohl(l->addr.v4.s_addr) >> 24) == 127;
	if (IN6_IS_ADDR_V4MAPPED(&l->addr.v6))
		return l->addr.v6.s6_addr[12] == 127;
	return IN6_IS_ADDR_LOOPBACK(&l->addr.v6);
}

static bool listener_any(const struct sockdiag_listener *l)
{
	return l->family == AF_INET ? l->addr.v4.s_addr == htonl(INADDR_ANY) : IN6_IS_ADDR_UNSPECIFIED(&l->addr.v6);
}

/* Bound to exactly this address. */
static bool listener_on(const struct sockdiag_listener *l, int family, const void *addr)
{
	if (family == AF_INET && l->family == AF_INET)
		return memcmp(&l->addr.v4, addr, 4) == 0;
	if (family == AF_INET && l->family == AF_INET6)
		return v4_mapped_is(&l->addr.v6, addr);
	return family == AF_INET6 && l->family == AF_INET6 && memcmp(&l->addr.v6, addr, 16) == 0;
}

/* Reachable on this address: bound to it, or to the any-address of its family
 * (an IPv6 one without V6ONLY also takes IPv4). */
static bool listener_covers(const struct sockdiag_listener *l, int family, const void *addr)
{
	if (listener_on(l, family, addr))
		return true;
	if (!listener_any(l))
		return false;
	return l->family == family || (l->family == AF_INET6 && family == AF_INET && !l->v6only);
}

static const char *proto_str(int proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

static void listener_subject(const struct sockdiag_listener *l, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	addr_str(l->family, &l->addr, a, sizeof(a));
	snprintf(buf, size, l->family == AF_INET6 ? "%s/%u on [%s]" : "%s/%u on %s", proto_str(l->proto),
		 l->port, a);
}

static void listener_owner(const struct sockdiag_listener *l, char *buf, size_t size)
{
	if (l->pid)
		snprintf(buf, size, "held by %s (pid %d, uid %u)", l->comm, (int)l->pid, l->uid);
	else
		snprintf(buf, size, "owner unknown (uid %u)", l->uid);
}

static bool rule_port_is(const struct config_port_rule *r, const struct sockdiag_listener *l)
{
	return r->proto == l->proto && r->port == l->port;
}

static bool rule_process_ok(const struct config_port_rule *r, const struct sockdiag_listener *l)
{
	return !r->process[0] || !l->pid || strcmp(r->process, l->comm) == 0;
}

static int judge_listener(const struct sockdiag_listener *l, const struct config_audit *rules,
			  struct audit_findings *out)
{
	const struct config_port_rule *wrong_process = NULL;
	bool elsewhere = false;
	char subject[AUDIT_SUBJECT_MAX], owner[80];

	listener_subject(l, subject, sizeof(subject));
	listener_owner(l, owner, sizeof(owner));
	for (size_t i = 0; i < rules->n_closed; i++) {
		const struct config_port_rule *r = &rules->closed[i];

		if (rule_port_is(r, l) && (!r->family || listener_covers(l, r->family, &r->addr)))
			return audit_findings_add(out, AUDIT_FORBIDDEN_LISTENER, AUDIT_CRITICAL, subject,
						  "must be closed (rule '%s'); %s", r->text, owner);
	}
	for (size_t i = 0; i < rules->n_allow; i++) {
		const struct config_port_rule *r = &rules->allow[i];

		if (!rule_port_is(r, l))
			continue;
		if (r->family && !listener_on(l, r->family, &r->addr))
			elsewhere = true;
		else if (!rule_process_ok(r, l))
			wrong_process = r;
		else
			return 0;
	}
	if (wrong_process)
		return audit_findings_add(out, AUDIT_WRONG_PROCESS, AUDIT_WARNING, subject,
					  "%s; allowed for '%s' (rule '%s')", owner, wrong_process->process,
					  wrong_process->text);
	if (elsewhere)
		return audit_findings_add(out, AUDIT_UNEXPECTED_LISTENER, AUDIT_WARNING, subject,
					  "allowed on another address only; %s", owner);
	return audit_findings_add(out, AUDIT_UNEXPECTED_LISTENER, AUDIT_WARNING, subject, "no allow rule; %s",
				  owner);
}

static bool rule_satisfied(const struct config_port_rule *r, const struct sockdiag_snapshot *snap)
{
	for (size_t i = 0; i < snap->n; i++) {
		const struct sockdiag_listener *l = &snap->listeners[i];

		if (rule_port_is(r, l) && (!r->family || listener_covers(l, r->family, &r->addr)) &&
		    rule_process_ok(r, l))
			return true;
	}
	return false;
}

int audit_compare(const struct sockdiag_snapshot *snap, const struct config_audit *rules,
		  const struct audit_local_addrs *local, struct audit_findings *out)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < snap->n; i++)
		if (!listener_loopback(&snap->listeners[i]))
			r = judge_listener(&snap->listeners[i], rules, out);
	for (size_t i = 0; r == 0 && i < rules->n_allow; i++) {
		const struct config_port_rule *rule = &rules->allow[i];
		struct sockaddr_storage ss;

		if (rule->family) {
			ss_set(&ss, rule->family, &rule->addr);
			if (local && !audit_local_addrs_has(local, &ss))
				continue; /* a VIP held elsewhere */
		}
		if (!rule_satisfied(rule, snap))
			r = audit_findings_add(out, AUDIT_MISSING_LISTENER, AUDIT_WARNING, rule->text,
					       "nothing listens for allow rule '%s'%s", rule->text,
					       snap->truncated ? " (snapshot truncated)" : "");
	}
	return r;
}

/* ---- credential and exposure checks ---- */

int audit_exposure_add_file(struct audit_exposure_input *in, const char *path, const char *role)
{
	struct audit_file *f;
	struct stat st;

	if (!path || !path[0])
		return 0;
	if (in->n_files == AUDIT_MAX_FILES)
		return -E2BIG;
	if (strlen(path) >= sizeof(in->files[0].path))
		return -ENAMETOOLONG;
	f = &in->files[in->n_files++];
	memset(f, 0, sizeof(*f));
	memcpy(f->path, path, strlen(path) + 1);
	f->role = role;
	if (stat(path, &st) == 0) {
		f->exists = true;
		f->mode = st.st_mode;
		f->uid = st.st_uid;
	}
	return 0;
}

static int check_file(const struct audit_file *f, struct audit_findings *out)
{
	bool key = strcmp(f->role, "key") == 0;

	if (!f->exists)
		return 0;
	if (f->mode & (S_IWOTH | S_IWGRP))
		return audit_findings_add(out, AUDIT_EXPOSURE, AUDIT_CRITICAL, f->path,
					  "%s file is writable by %s (mode %04o)", f->role,
					  (f->mode & S_IWOTH) ? "others" : "its group", (unsigned)(f->mode & 07777));
	if (key && (f->mode & S_IROTH))
		return audit_findings_add(out, AUDIT_EXPOSURE, AUDIT_CRITICAL, f->path,
					  "key file is readable by others (mode %04o)", (unsigned)(f->mode & 07777));
	if (f->uid != 0 && f->uid != geteuid())
		return audit_findings_add(out, AUDIT_EXPOSURE, AUDIT_WARNING, f->path,
					  "%s file is owned by uid %u, not by root or fomgr", f->role, (unsigned)f->uid);
	return 0;
}

static int check_corosync(const struct config *config, const struct audit_exposure_input *in,
			  struct audit_findings *out)
{
	int r = 0;

	if (!in->corosync_known)
		return 0;
	if (!in->crypto)
		r = audit_findings_add(out, AUDIT_EXPOSURE, config->require_crypto ? AUDIT_CRITICAL : AUDIT_WARNING,
				       "corosync crypto",
				       "corosync runs without crypto: cluster messages are neither encrypted nor "
				       "authenticated");
	if (r == 0 && in->two_node && !in->has_qdevice)
		r = audit_findings_add(out, AUDIT_EXPOSURE, AUDIT_WARNING, "corosync two_node",
				       "two_node without a tie-breaker: a partition can leave both nodes holding "
				       "the VIPs");
	return r;
}

void audit_exposure_gather(const struct config *config, const struct membership_info *info,
			   struct audit_exposure_input *in)
{
	memset(in, 0, sizeof(*in));
	if (info) {
		in->corosync_known = true;
		in->crypto = info->crypto;
		in->two_node = info->two_node;
		in->has_qdevice = info->has_qdevice;
	}
	in->status_enabled = config->status_listen.family != 0;
	in->status_loopback = config->status_listen.loopback;
	in->status_tls = config->status_tls_cert[0] && config->status_tls_key[0] && config->status_tls_client_ca[0];
	audit_exposure_add_file(in, config->notify_hook, "hook");
	audit_exposure_add_file(in, config->status_tls_key, "key");
	audit_exposure_add_file(in, AUDIT_COROSYNC_AUTHKEY, "key");
	audit_exposure_add_file(in, config->path, "config");
}

int audit_exposure_check(const struct config *config, const struct audit_exposure_input *in,
			 struct audit_findings *out)
{
	size_t first = out->n;
	bool refuse = config->audit.policy == CONFIG_AUDIT_REFUSE, crypto_refused = false;
	int r = check_corosync(config, in, out);

	if (r == 0 && in->status_enabled && !in->status_loopback && !in->status_tls)
		r = audit_findings_add(out, AUDIT_EXPOSURE, AUDIT_CRITICAL, "status endpoint",
				       "the status endpoint listens beyond loopback without TLS");
	for (size_t i = 0; r == 0 && i < in->n_files; i++)
		r = check_file(&in->files[i], out);
	if (r < 0)
		return r;
	crypto_refused = config->require_crypto && in->corosync_known && !in->crypto;
	for (size_t i = first; i < out->n && !crypto_refused; i++)
		if (refuse && out->v[i].severity >= AUDIT_WARNING)
			return -EPERM;
	return crypto_refused ? -EPERM : 0;
}

/* ---- probe targets and plan ---- */

int audit_targets_add(struct audit_targets *out, const char *name, bool vip, const char *addr)
{
	struct audit_target *t;
	unsigned char buf[16];
	int family = inet_pton(AF_INET, addr, buf) == 1 ? AF_INET : inet_pton(AF_INET6, addr, buf) == 1 ? AF_INET6 : 0;

	if (!family)
		return -EINVAL; /* a host name: probes never resolve names */
	if (out->n == AUDIT_MAX_TARGETS)
		return -E2BIG;
	t = &out->t[out->n];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->vip = vip;
	ss_set(&t->addr, family, buf);
	for (size_t i = 0; i < out->n; i++)
		if (out->t[i].addr.ss_family == family && memcmp(ss_addr(&out->t[i].addr), buf, family_len(family)) == 0)
			return 0; /* already a target */
	out->n++;
	return 0;
}

void audit_targets_add_vips(const struct config *config, struct audit_targets *out)
{
	for (size_t g = 0; g < config->n_groups; g++) {
		const struct config_group *grp = &config->groups[g];

		for (size_t i = 0; i < grp->n_addrs; i++) {
			char a[INET6_ADDRSTRLEN];

			addr_str(grp->addrs[i].family, &grp->addrs[i].addr, a, sizeof(a));
			audit_targets_add(out, grp->name, true, a);
		}
	}
}

static void targets_from_cmap(cmap_handle_t h, struct audit_targets *out)
{
	for (unsigned i = 0; i < CONFIG_MAX_NODES; i++) {
		char key[64], *addr = NULL, *name = NULL;

		snprintf(key, sizeof(key), "nodelist.node.%u.ring0_addr", i);
		if (cmap_get_string(h, key, &addr) != CS_OK)
			break;
		snprintf(key, sizeof(key), "nodelist.node.%u.name", i);
		if (cmap_get_string(h, key, &name) != CS_OK)
			name = NULL;
		audit_targets_add(out, name ? name : addr, false, addr);
		free(addr);
		free(name);
	}
}

int audit_targets_read(const struct config *config, struct audit_targets *out)
{
	cmap_handle_t h;
	int r = membership_cs_errno(cmap_initialize(&h));

	out->n = 0;
	if (r == 0) {
		targets_from_cmap(h, out);
		cmap_finalize(h);
	}
	audit_targets_add_vips(config, out);
	return r;
}

static bool rule_targets(const struct config_port_rule *r, const struct audit_target *t)
{
	return r->proto == IPPROTO_TCP &&
	       (!r->family || (r->family == t->addr.ss_family &&
			       memcmp(&r->addr, ss_addr(&t->addr), family_len(r->family)) == 0));
}

static bool plan_has(const struct audit_probe *p, size_t n, size_t target, uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].target == target && p[i].port == port)
			return true;
	return false;
}

static void plan_rules(const struct config_port_rule *rules, size_t n_rules, bool closed, size_t target,
		       const struct audit_target *t, struct audit_probe *plan, size_t *n)
{
	for (size_t i = 0; i < n_rules && *n < AUDIT_MAX_PROBES; i++) {
		if (!rule_targets(&rules[i], t) || plan_has(plan, *n, target, rules[i].port))
			continue;
		plan[(*n)++] = (struct audit_probe){target, rules[i].port, closed, rules[i].text};
	}
}

int audit_probe_plan(const struct config_audit *rules, const struct audit_targets *targets,
		     const struct audit_local_addrs *local, struct audit_probe **out)
{
	struct audit_probe *plan = calloc(AUDIT_MAX_PROBES, sizeof(*plan));
	size_t n = 0;

	if (!plan)
		return -ENOMEM;
	for (size_t t = 0; t < targets->n; t++) {
		if (audit_local_addrs_has(local, &targets->t[t].addr))
			continue; /* ourselves, or a VIP we hold */
		plan_rules(rules->closed, rules->n_closed, true, t, &targets->t[t], plan, &n);
		plan_rules(rules->allow, rules->n_allow, false, t, &targets->t[t], plan, &n);
	}
	*out = plan;
	return (int)n;
}

int audit_probe_judge(const struct audit_probe *p, const struct audit_target *t, enum audit_probe_result r,
		      struct audit_findings *out)
{
	char subject[AUDIT_SUBJECT_MAX], a[INET6_ADDRSTRLEN];
	int rc;

	addr_str(t->addr.ss_family, ss_addr(&t->addr), a, sizeof(a));
	if (snprintf(subject, sizeof(subject), "tcp/%u on %s%s (%s)", p->port, t->vip ? "VIP of " : "", t->name,
		     a) >= (int)sizeof(subject))
		subject[sizeof(subject) - 1] = '\0';
	if (p->must_be_closed && r == AUDIT_PROBE_OPEN)
		rc = audit_findings_add(out, AUDIT_CLOSED_PORT_OPEN, AUDIT_CRITICAL, subject,
					"answers from here, but must be closed (rule '%s')", p->rule);
	else if (!p->must_be_closed && r != AUDIT_PROBE_OPEN)
		rc = audit_findings_add(out, AUDIT_ALLOWED_UNREACHABLE, AUDIT_WARNING, subject,
					"allowed (rule '%s') but does not answer from here: %s", p->rule,
					r == AUDIT_PROBE_TIMEOUT ? "no answer (filtered?)"
					: r == AUDIT_PROBE_REFUSED ? "refused" : "unreachable");
	else
		return 0;
	return rc < 0 ? rc : 1;
}

/* ---- the running audit ---- */

enum source { SRC_PORTS, SRC_PROBES, SRC_NETWORK, SRC_DRIFT, SRC_MAX };
static const char *const source_names[SRC_MAX] = {"ports", "probes", "network", "drift"};

struct pending {
	bool after; /* after_acquire, else before_release */
	char group[CONFIG_NAME_MAX];
	uint64_t queued_us;
	int count_error;
	uint64_t connections;
	uint32_t counts[CONFIG_MAX_ADDRS];
};

struct probe_slot {
	struct audit *a;
	int fd;
	size_t index;
	ev_io io;
	ev_timer timeout;
};

struct probe_round {
	struct audit_probe *plan;
	size_t n, next, active;
	struct audit_findings findings;
	ev_timer pace;
	struct probe_slot slots[PROBE_CONCURRENCY];
};

struct audit {
	struct ev_loop *loop;
	const struct config *config;
	struct auditlog *log;
	struct sockdiag_owners *owners;
	struct sockdiag_snapshot *snap; /* the latest one */
	uint64_t snap_us;
	struct audit_findings active[SRC_MAX];
	struct audit_targets targets;
	struct netstate_summary net;     /* the latest network summary */
	bool have_net;
	uint8_t corosync_digest[32]; /* set by the caller, who reads corosync's files */
	char corosync_version[32];
	/* what this node announces, computed when an input changes (config, network
	 * summary, corosync identity), never per announce: announces are on the
	 * failover path */
	struct netstate_peer_state local;
	ev_timer periodic;
	ev_timer deferred; /* the transition and periodic audits run from the next loop iteration */
	bool periodic_due;
	size_t n_pending;
	struct pending pending[MAX_PENDING];
	struct probe_round *probe;
	struct audit_stats stats;
	bool log_failing;
};

static void record(struct audit *a, enum auditlog_type type, json_t *fields)
{
	int r = a->log && fields ? auditlog_enqueue(a->log, type, fields, 0) : 0;

	if (!fields)
		r = -ENOMEM;
	if (r < 0) {
		a->stats.log_errors++;
		if (!a->log_failing)
			log_err("audit record (%s) not written: %s", auditlog_type_str(type), strerror(-r));
	} else if (a->log_failing) {
		log_info("audit records are written again");
	}
	a->log_failing = r < 0;
	json_decref(fields);
}

static void finding_note(struct audit *a, enum source src, const struct audit_finding *f, bool resolved)
{
	json_t *rec = audit_finding_json(f);

	if (resolved)
		log_event(LOG_LVL_INFO, LOG_MSGID_FINDING, "audit finding resolved kind=%s subject=\"%s\"",
			  audit_kind_str(f->kind), f->subject);
	else
		log_event(f->severity == AUDIT_INFO ? LOG_LVL_INFO : LOG_LVL_WARN, LOG_MSGID_FINDING,
			  "audit finding kind=%s severity=%s subject=\"%s\" detail=\"%s\"", audit_kind_str(f->kind),
			  audit_severity_str(f->severity), f->subject, f->detail);
	if (rec) {
		json_object_set_new(rec, "state", json_string(resolved ? "resolved" : "new"));
		json_object_set_new(rec, "source", json_string(source_names[src]));
	}
	record(a, AUDITLOG_FINDING, rec);
	if (resolved)
		a->stats.findings_resolved++;
	else
		a->stats.findings_new++;
}

/* now becomes the active set of src; what appeared and what went away is noted. */
static void reconcile(struct audit *a, enum source src, struct audit_findings *now)
{
	struct audit_findings *old = &a->active[src];

	for (size_t i = 0; i < now->n; i++)
		if (!findings_has(old, now->v[i].kind, now->v[i].subject))
			finding_note(a, src, &now->v[i], false);
	for (size_t i = 0; i < old->n; i++)
		if (!findings_has(now, old->v[i].kind, old->v[i].subject))
			finding_note(a, src, &old->v[i], true);
	audit_findings_clear(old);
	*old = *now;
	memset(now, 0, sizeof(*now));
	a->stats.findings_active = 0;
	for (int s = 0; s < SRC_MAX; s++)
		a->stats.findings_active += a->active[s].n;
}

/* The active findings, at most max of them (a record must fit a log line). */
static json_t *active_json(const struct audit *a, size_t max)
{
	json_t *arr = json_array();

	for (int s = 0; arr && s < SRC_MAX; s++)
		for (size_t i = 0; i < a->active[s].n && json_array_size(arr) < max; i++)
			json_array_append_new(arr, audit_finding_json(&a->active[s].v[i]));
	return arr;
}

/* ---- port snapshots ---- */

static int by_inode(const void *x, const void *y)
{
	const struct sockdiag_listener *a = x, *b = y;

	return a->inode < b->inode ? -1 : a->inode > b->inode;
}

/* Owners from the previous snapshot, matched by socket inode: a listener that is
 * new since then stays "owner unknown" until the next periodic audit. */
static void owners_carry(const struct sockdiag_snapshot *old, struct sockdiag_snapshot *now)
{
	struct sockdiag_listener *sorted;

	if (!old || old->n == 0 || !(sorted = malloc(old->n * sizeof(*sorted))))
		return;
	memcpy(sorted, old->listeners, old->n * sizeof(*sorted));
	qsort(sorted, old->n, sizeof(*sorted), by_inode);
	for (size_t i = 0; i < now->n; i++) {
		const struct sockdiag_listener *o = bsearch(&now->listeners[i], sorted, old->n, sizeof(*sorted), by_inode);

		if (o) {
			now->listeners[i].pid = o->pid;
			memcpy(now->listeners[i].comm, o->comm, sizeof(o->comm));
		}
	}
	free(sorted);
}

/* with_owners: the periodic audit looks owners up (reading /proc, the slow part);
 * the one after an acquire carries them over from it, so that its cost does not
 * grow with every process's descriptors. */
static int take_snapshot(struct audit *a, bool with_owners)
{
	struct sockdiag_snapshot *snap;
	int r = sockdiag_listeners(with_owners ? a->owners : NULL, &snap);

	if (r < 0) {
		a->stats.snapshot_errors++;
		return r;
	}
	if (!with_owners)
		owners_carry(a->snap, snap);
	sockdiag_snapshot_free(a->snap);
	a->snap = snap;
	a->snap_us = clock_mono_us();
	a->stats.listeners = snap->n;
	return 0;
}

static void audit_ports(struct audit *a)
{
	struct audit_findings now = {0};
	struct audit_local_addrs *local = malloc(sizeof(*local));

	if (!local || audit_local_addrs_read(local) < 0) {
		free(local);
		local = NULL;
	}
	if (a->snap && audit_compare(a->snap, &a->config->audit, local, &now) == 0)
		reconcile(a, SRC_PORTS, &now);
	audit_findings_clear(&now);
	free(local);
}

/* ---- this node's state, as announced ---- */

static void refresh_local(struct audit *a)
{
	struct netstate_peer_state *out = &a->local;
	struct utsname u;

	memset(out, 0, sizeof(*out));
	config_cluster_digest(a->config, out->config_digest);
	memcpy(out->corosync_digest, a->corosync_digest, sizeof(out->corosync_digest));
	snprintf(out->corosync_version, sizeof(out->corosync_version), "%s", a->corosync_version);
	snprintf(out->fomgr_version, sizeof(out->fomgr_version), "%s", FO_VERSION);
	if (uname(&u) == 0 && strlen(u.release) < sizeof(out->kernel_version))
		memcpy(out->kernel_version, u.release, strlen(u.release) + 1);
	if (a->have_net) {
		netstate_summary_digest(&a->net, &out->digests);
		out->fw_lines = a->net.firewall;
		out->n_fw = netstate_firewall_hashes(a->net.firewall, out->fw, NETSTATE_MAX_FW_LINES);
	}
}

/* ---- network state ---- */

static void note_network_change(struct audit *a, const struct netstate_summary *old,
				const struct netstate_summary *now)
{
	static const char *const parts[] = {"routes", "firewall"};
	const json_t *o[] = {old->routes, old->firewall}, *n[] = {now->routes, now->firewall};
	json_t *diff = json_array(), *changed = json_array();
	struct netstate_digests d;

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		if (json_equal((json_t *)o[i], (json_t *)n[i]))
			continue;
		json_array_append_new(changed, json_string(parts[i]));
		netstate_list_diff(n[i], o[i], diff, 8); /* a record must fit a line */
		log_warn("audit network change: %s differ from the previous audit", parts[i]);
	}
	if (json_array_size(changed) == 0) {
		json_decref(diff);
		json_decref(changed);
		return;
	}
	netstate_summary_digest(now, &d);
	record(a, AUDITLOG_CONFIG, json_pack("{s:s, s:o, s:o, s:o}", "what", "network", "changed", changed,
					     "diff", diff, "digests", netstate_digests_json(&d)));
}

/* The first audit's digests, so that later changes have something to refer to. */
static void note_network_baseline(struct audit *a, const struct netstate_summary *now)
{
	struct netstate_digests d;

	if (netstate_summary_digest(now, &d) < 0)
		return;
	record(a, AUDITLOG_CONFIG, json_pack("{s:s, s:b, s:o, s:i, s:i, s:i}", "what", "network", "baseline", 1,
					     "digests", netstate_digests_json(&d), "routes",
					     (int)json_array_size(now->routes), "firewall_objects",
					     (int)json_array_size(now->firewall), "firewall_error", now->firewall_error));
}

static void audit_network(struct audit *a)
{
	struct audit_findings now = {0};
	struct netstate_summary sum = {0};

	for (size_t g = 0; g < a->config->n_groups; g++)
		netstate_validate_group(&a->config->groups[g], &now);
	netstate_check_default_route(&now);
	reconcile(a, SRC_NETWORK, &now);
	if (netstate_summary_read(a->config, &sum) < 0)
		return;
	if (a->have_net)
		note_network_change(a, &a->net, &sum);
	else
		note_network_baseline(a, &sum);
	netstate_summary_clear(&a->net);
	a->net = sum;
	a->have_net = true;
	refresh_local(a);
}

/* ---- probes ---- */

static void probe_round_finish(struct audit *a)
{
	struct probe_round *p = a->probe;

	ev_timer_stop(a->loop, &p->pace);
	reconcile(a, SRC_PROBES, &p->findings);
	audit_findings_clear(&p->findings);
	free(p->plan);
	free(p);
	a->probe = NULL;
}

static void probe_done(struct probe_slot *s, enum audit_probe_result r)
{
	struct audit *a = s->a;
	struct probe_round *p = a->probe;
	const struct audit_probe *pr = &p->plan[s->index];

	ev_io_stop(a->loop, &s->io);
	ev_timer_stop(a->loop, &s->timeout);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	p->active--;
	a->stats.probes_open += r == AUDIT_PROBE_OPEN;
	a->stats.probes_refused += r == AUDIT_PROBE_REFUSED;
	a->stats.probes_timeout += r == AUDIT_PROBE_TIMEOUT;
	a->stats.probes_error += r == AUDIT_PROBE_ERROR;
	audit_probe_judge(pr, &a->targets.t[pr->target], r, &p->findings);
	if (p->next == p->n && p->active == 0)
		probe_round_finish(a);
}

static void on_probe_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct probe_slot *s = w->data;
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	probe_done(s, err == 0 ? AUDIT_PROBE_OPEN : err == ECONNREFUSED ? AUDIT_PROBE_REFUSED : AUDIT_PROBE_ERROR);
}

static void on_probe_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	probe_done(w->data, AUDIT_PROBE_TIMEOUT);
}

/* A connection a probe opened is reset, not closed, so no TIME_WAIT is left. */
static int probe_socket(int family)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	return fd;
}

static void probe_start(struct audit *a, struct probe_slot *s, size_t index)
{
	const struct audit_probe *pr = &a->probe->plan[index];
	struct sockaddr_storage dst = a->targets.t[pr->target].addr;
	socklen_t len = dst.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);

	((struct sockaddr_in *)&dst)->sin_port = htons(pr->port); /* same offset in sockaddr_in6 */
	s->a = a;
	s->index = index;
	s->fd = probe_socket(dst.ss_family);
	a->probe->active++;
	a->stats.probes_sent++;
	if (s->fd < 0) {
		probe_done(s, AUDIT_PROBE_ERROR);
		return;
	}
	ev_io_init(&s->io, on_probe_io, s->fd, EV_WRITE);
	s->io.data = s;
	ev_timer_init(&s->timeout, on_probe_timeout, a->config->audit.probe_timeout_ms / 1000.0, 0);
	s->timeout.data = s;
	if (connect(s->fd, (struct sockaddr *)&dst, len) == 0 || errno == EINPROGRESS) {
		ev_io_start(a->loop, &s->io);
		ev_timer_start(a->loop, &s->timeout);
		return;
	}
	probe_done(s, errno == ECONNREFUSED ? AUDIT_PROBE_REFUSED : AUDIT_PROBE_ERROR);
}

/* One probe per tick, at most probe_rate a second and PROBE_CONCURRENCY at once. */
static void on_probe_pace(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct audit *a = w->data;
	struct probe_round *p = a->probe;

	if (p->next == p->n || p->active == PROBE_CONCURRENCY)
		return;
	for (size_t i = 0; i < PROBE_CONCURRENCY; i++) {
		if (p->slots[i].fd < 0) {
			probe_start(a, &p->slots[i], p->next++);
			return;
		}
	}
}

static void probe_round_start(struct audit *a)
{
	struct audit_local_addrs *local = malloc(sizeof(*local));
	struct probe_round *p;
	int n;

	if (a->probe || !a->config->audit.probe || !local || audit_local_addrs_read(local) < 0) {
		free(local);
		return;
	}
	p = calloc(1, sizeof(*p));
	n = p ? audit_probe_plan(&a->config->audit, &a->targets, local, &p->plan) : -ENOMEM;
	free(local);
	if (n <= 0) {
		if (p && n == 0)
			reconcile(a, SRC_PROBES, &p->findings);
		if (p)
			free(p->plan);
		free(p);
		return;
	}
	p->n = (size_t)n;
	for (size_t i = 0; i < PROBE_CONCURRENCY; i++)
		p->slots[i].fd = -1;
	a->probe = p;
	a->stats.probe_rounds++;
	ev_timer_init(&p->pace, on_probe_pace, 0, 1.0 / a->config->audit.probe_rate);
	p->pace.data = a;
	ev_timer_start(a->loop, &p->pace);
}

static void probe_round_cancel(struct audit *a)
{
	struct probe_round *p = a->probe;

	if (!p)
		return;
	for (size_t i = 0; i < PROBE_CONCURRENCY; i++) {
		if (p->slots[i].fd < 0)
			continue;
		ev_io_stop(a->loop, &p->slots[i].io);
		ev_timer_stop(a->loop, &p->slots[i].timeout);
		close(p->slots[i].fd);
	}
	ev_timer_stop(a->loop, &p->pace);
	audit_findings_clear(&p->findings);
	free(p->plan);
	free(p);
	a->probe = NULL;
}

/* ---- periodic ---- */

static void stat_time(uint64_t us, uint64_t *last, uint64_t *max)
{
	*last = us;
	if (us > *max)
		*max = us;
}

int audit_run_now(struct audit *a)
{
	uint64_t t0 = clock_mono_us();
	int r = 0;

	a->stats.periodic_runs++;
	if (a->config->audit.present) {
		r = take_snapshot(a, true);
		if (r == 0)
			audit_ports(a);
		else
			log_warn("audit: socket snapshot failed: %s", strerror(-r));
	}
	audit_network(a);
	stat_time(clock_mono_us() - t0, &a->stats.periodic_us_last, &a->stats.periodic_us_max);
	if (a->config->audit.present)
		probe_round_start(a);
	return r;
}

/* The periodic audit, too, runs from the zero timer: the transition audits queued
 * meanwhile go first. */
static void on_periodic(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct audit *a = w->data;

	a->periodic_due = true;
	ev_timer_start(loop, &a->deferred);
}

int audit_periodic_start(struct audit *a)
{
	uint32_t ms = a->config->audit.interval_ms;

	audit_run_now(a);
	ev_timer_stop(a->loop, &a->periodic);
	if (!a->config->audit.present || ms == 0)
		return 0;
	ev_timer_set(&a->periodic, ms / 1000.0, ms / 1000.0);
	ev_timer_start(a->loop, &a->periodic);
	return 0;
}

void audit_periodic_stop(struct audit *a)
{
	ev_timer_stop(a->loop, &a->periodic);
	a->periodic_due = false;
	probe_round_cancel(a);
}

/* ---- around transitions ---- */

/* The group's VIPs as socket addresses; returns how many. */
static size_t group_vips(const struct config_group *g, struct sockaddr_storage *out)
{
	for (size_t i = 0; i < g->n_addrs; i++)
		ss_set(&out[i], g->addrs[i].family, &g->addrs[i].addr);
	return g->n_addrs;
}

static void count_connections(const struct config_group *g, struct pending *p)
{
	struct sockaddr_storage addrs[CONFIG_MAX_ADDRS];
	size_t n = group_vips(g, addrs);

	p->count_error = sockdiag_count_established_local(addrs, n, p->counts, &p->connections);
}

static struct pending *pending_add(struct audit *a, const char *group, bool after)
{
	struct pending *p;

	if (a->n_pending == MAX_PENDING) {
		a->stats.deferred_dropped++;
		return NULL;
	}
	p = &a->pending[a->n_pending++];
	memset(p, 0, sizeof(*p));
	snprintf(p->group, sizeof(p->group), "%s", group);
	p->after = after;
	p->queued_us = clock_mono_us();
	ev_timer_start(a->loop, &a->deferred);
	return p;
}

/* The count runs from the loop too: a deleted address does not close its
 * connections, so right after the release they are still there to be counted. */
int audit_before_release(struct audit *a, const char *group)
{
	uint64_t t0 = clock_mono_us();
	struct pending *p;

	if (!config_group_find(a->config, group))
		return -ENOENT;
	p = pending_add(a, group, false);
	if (!p)
		return -ENOBUFS;
	a->stats.before_release_runs++;
	stat_time(clock_mono_us() - t0, &a->stats.before_release_us_last, &a->stats.before_release_us_max);
	return 0;
}

int audit_after_acquire(struct audit *a, const char *group)
{
	if (!config_group_find(a->config, group))
		return -ENOENT;
	return pending_add(a, group, true) ? 0 : -ENOBUFS;
}

static json_t *listeners_json(const struct sockdiag_snapshot *snap)
{
	json_t *arr = json_array();
	char s[AUDIT_SUBJECT_MAX];

	for (size_t i = 0; snap && arr && i < snap->n && i < SNAPSHOT_RECORD_LISTENERS; i++) {
		listener_subject(&snap->listeners[i], s, sizeof(s));
		json_array_append_new(arr, json_pack("{s:s, s:i, s:s}", "socket", s, "pid", (int)snap->listeners[i].pid,
						     "comm", snap->listeners[i].comm));
	}
	return arr;
}

static json_t *vip_counts_json(const struct config_group *g, const struct pending *p)
{
	json_t *obj = json_object();

	for (size_t i = 0; obj && g && i < g->n_addrs && p->count_error == 0; i++)
		json_object_set_new(obj, g->addrs[i].text, json_integer(p->counts[i]));
	return obj;
}

static void record_snapshot(struct audit *a, const struct pending *p, uint64_t took_us)
{
	const struct config_group *g = config_group_find(a->config, p->group);
	double age_ms = a->snap ? (double)(clock_mono_us() - a->snap_us) / 1000.0 : -1;
	json_t *rec = json_pack("{s:s, s:s, s:I, s:o, s:f, s:f, s:I, s:b, s:o, s:o}", "phase",
				p->after ? "after_acquire" : "before_release", "group", p->group, "vip_connections",
				(json_int_t)p->connections, "vip_connections_by_address", vip_counts_json(g, p),
				"took_ms", (double)took_us / 1000.0, "snapshot_age_ms", age_ms, "listeners",
				(json_int_t)(a->snap ? a->snap->n : 0), "listeners_truncated",
				a->snap && a->snap->n > SNAPSHOT_RECORD_LISTENERS, "listener_list",
				listeners_json(a->snap), "findings", active_json(a, SNAPSHOT_RECORD_FINDINGS));

	if (rec)
		json_object_set_new(rec, "findings_active", json_integer((json_int_t)a->stats.findings_active));
	if (rec && p->count_error)
		json_object_set_new(rec, "count_error", json_string(strerror(-p->count_error)));
	log_info("audit %s group=%s vip_connections=%" PRIu64 " listeners=%zu findings=%zu took_ms=%.3f",
		 p->after ? "after_acquire" : "before_release", p->group, p->connections,
		 a->snap ? a->snap->n : 0, a->stats.findings_active, (double)took_us / 1000.0);
	record(a, AUDITLOG_SNAPSHOT, rec);
}

/* After an acquire: a fresh snapshot (the address is up now), the counts, the
 * group's network state. */
static void run_after(struct audit *a, struct pending *p)
{
	const struct config_group *g = config_group_find(a->config, p->group);
	uint64_t t0 = clock_mono_us();
	struct audit_findings net = {0};

	if (!g)
		return;
	if (a->config->audit.present && take_snapshot(a, false) == 0)
		audit_ports(a);
	count_connections(g, p);
	netstate_validate_group(g, &net);
	for (size_t i = 0; i < net.n; i++)
		log_warn("audit after_acquire group=%s %s: %s", p->group, net.v[i].subject, net.v[i].detail);
	audit_findings_clear(&net);
	a->stats.after_acquire_runs++;
	a->stats.vip_connections_last = p->connections;
	stat_time(clock_mono_us() - t0, &a->stats.after_acquire_us_last, &a->stats.after_acquire_us_max);
	record_snapshot(a, p, a->stats.after_acquire_us_last);
}

/* After a release: the connections it cuts, with the latest periodic snapshot. */
static void run_before(struct audit *a, struct pending *p)
{
	const struct config_group *g = config_group_find(a->config, p->group);
	uint64_t t0 = clock_mono_us();

	if (!g)
		return;
	count_connections(g, p);
	a->stats.vip_connections_last = p->connections;
	stat_time(clock_mono_us() - t0, &a->stats.release_count_us_last, &a->stats.release_count_us_max);
	record_snapshot(a, p, a->stats.release_count_us_last);
}

static void on_deferred(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct audit *a = w->data;
	size_t n = a->n_pending;
	struct pending batch[MAX_PENDING];

	ev_timer_stop(loop, w);
	memcpy(batch, a->pending, n * sizeof(batch[0]));
	a->n_pending = 0;
	for (size_t i = 0; i < n; i++) {
		if (batch[i].after)
			run_after(a, &batch[i]);
		else
			run_before(a, &batch[i]);
	}
	if (a->periodic_due) {
		a->periodic_due = false;
		audit_run_now(a);
	}
}

/* ---- cross-node consistency ---- */

void audit_local_state(const struct audit *a, struct netstate_peer_state *out)
{
	*out = a->local;
}

/* A finding of netstate_compare about node: its subject ends in " on NODE". */
static bool about_node(const struct audit_finding *f, const char *node)
{
	size_t n = strlen(f->subject), k = strlen(node);

	return n > k + 4 && strcmp(f->subject + n - k, node) == 0 && memcmp(f->subject + n - k - 4, " on ", 4) == 0;
}

/* The active drift findings, without node's. */
static int drift_others(const struct audit *a, const char *node, struct audit_findings *out)
{
	const struct audit_findings *d = &a->active[SRC_DRIFT];

	for (size_t i = 0; i < d->n; i++) {
		int r = about_node(&d->v[i], node) ? 0
			: audit_findings_add(out, d->v[i].kind, d->v[i].severity, d->v[i].subject, "%s",
					     d->v[i].detail);

		if (r < 0)
			return r;
	}
	return 0;
}

void audit_set_corosync(struct audit *a, const uint8_t digest[32], const char *version)
{
	memcpy(a->corosync_digest, digest, sizeof(a->corosync_digest));
	snprintf(a->corosync_version, sizeof(a->corosync_version), "%s", version);
	refresh_local(a);
}

int audit_peer_state(struct audit *a, const struct netstate_peer_state *peer)
{
	struct netstate_peer_state mine;
	struct audit_findings now = {0};
	int r = drift_others(a, peer->node, &now);

	audit_local_state(a, &mine);
	if (r == 0)
		r = netstate_compare(&mine, peer, &now);
	if (r >= 0)
		reconcile(a, SRC_DRIFT, &now);
	audit_findings_clear(&now);
	return r < 0 ? r : 0;
}

void audit_peer_gone(struct audit *a, const char *node)
{
	struct audit_findings now = {0};

	if (drift_others(a, node, &now) == 0)
		reconcile(a, SRC_DRIFT, &now);
	audit_findings_clear(&now);
}

/* ---- life cycle ---- */

struct audit *audit_new(struct ev_loop *loop, const struct config *config, struct auditlog *log)
{
	struct audit *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->owners = sockdiag_owners_new();
	if (!a->owners) {
		free(a);
		errno = ENOMEM;
		return NULL;
	}
	a->loop = loop;
	a->log = log;
	ev_timer_init(&a->periodic, on_periodic, 0, 0);
	a->periodic.data = a;
	ev_timer_init(&a->deferred, on_deferred, 0, 0);
	ev_set_priority(&a->deferred, EV_MINPRI + 1); /* after I/O, before the log's writes */
	a->deferred.data = a;
	audit_set_config(a, config);
	return a;
}

void audit_set_config(struct audit *a, const struct config *config)
{
	bool running = ev_is_active(&a->periodic);

	probe_round_cancel(a);
	a->config = config;
	refresh_local(a);
	if (audit_targets_read(config, &a->targets) < 0)
		log_info("audit: corosync nodelist not readable; probes go to the VIPs only");
	if (running)
		audit_periodic_start(a);
}

void audit_set_targets(struct audit *a, const struct audit_targets *targets)
{
	probe_round_cancel(a);
	a->targets = *targets;
}

void audit_free(struct audit *a)
{
	if (!a)
		return;
	audit_periodic_stop(a);
	ev_timer_stop(a->loop, &a->deferred);
	for (int s = 0; s < SRC_MAX; s++)
		audit_findings_clear(&a->active[s]);
	netstate_summary_clear(&a->net);
	sockdiag_snapshot_free(a->snap);
	sockdiag_owners_free(a->owners);
	free(a);
}

void audit_get_stats(const struct audit *a, struct audit_stats *stats)
{
	*stats = a->stats;
}

/* The audit log's queue: what waits to be written, and what was lost. */
static json_t *log_queue_json(const struct auditlog *log)
{
	struct auditlog_queue_stats q;
	uint64_t now = clock_mono_ms();

	auditlog_queue_stats(log, &q);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s?}", "depth", (json_int_t)q.depth, "max_depth",
			 (json_int_t)q.max_depth, "oldest_age_ms",
			 (json_int_t)(q.depth && now > q.oldest_mono_ms ? now - q.oldest_mono_ms : 0), "queued",
			 (json_int_t)q.queued, "written", (json_int_t)q.written, "dropped_full",
			 (json_int_t)q.dropped_full, "dropped_bad", (json_int_t)q.dropped_bad, "flush_errors",
			 (json_int_t)q.flush_errors, "last_error", q.last_error ? strerror(-q.last_error) : NULL);
}

json_t *audit_status_json(const struct audit *a)
{
	const struct audit_stats *s = &a->stats;
	struct netstate_digests d;
	json_t *st = json_pack("{s:o, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I}", "findings",
			       active_json(a, SIZE_MAX), "listeners", (json_int_t)s->listeners, "findings_new",
			       (json_int_t)s->findings_new, "findings_resolved", (json_int_t)s->findings_resolved,
			       "release_count_ms_last", s->release_count_us_last / 1000.0, "release_count_ms_max",
			       s->release_count_us_max / 1000.0, "after_acquire_ms_last",
			       s->after_acquire_us_last / 1000.0, "after_acquire_ms_max",
			       s->after_acquire_us_max / 1000.0, "probes_sent", (json_int_t)s->probes_sent,
			       "probes_open", (json_int_t)s->probes_open, "probes_refused",
			       (json_int_t)s->probes_refused, "probes_timeout", (json_int_t)s->probes_timeout,
			       "log_errors", (json_int_t)s->log_errors);

	if (st && a->have_net && netstate_summary_digest(&a->net, &d) == 0)
		json_object_set_new(st, "digests", netstate_digests_json(&d));
	if (st && a->log)
		json_object_set_new(st, "log_queue", log_queue_json(a->log));
	return st;
}
