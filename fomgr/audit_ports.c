/* The port judge (see audit_ports.h): every listener against the [audit] rules,
 * and every allow rule against the listeners. Pure. */
#include "audit_ports.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "fo/sockdiag.h"

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

	audit_addr_str(l->family, &l->addr, a, sizeof(a));
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

int audit_ports_compare(const struct sockdiag_snapshot *snap, const struct config_audit *rules,
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
			audit_addr_set(&ss, rule->family, &rule->addr);
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

json_t *audit_ports_listeners_json(const struct sockdiag_snapshot *snap, size_t max)
{
	json_t *arr = json_array();
	char s[AUDIT_SUBJECT_MAX];

	for (size_t i = 0; snap && arr && i < snap->n && i < max; i++) {
		listener_subject(&snap->listeners[i], s, sizeof(s));
		json_array_append_new(arr, json_pack("{s:s, s:i, s:s}", "socket", s, "pid", (int)snap->listeners[i].pid,
						     "comm", snap->listeners[i].comm));
	}
	return arr;
}
