/* The reachability probes (see audit_probe.h): targets, the plan, the judgement,
 * and the round that carries the plan out on the loop. */
#include "audit_probe.h"

#include <arpa/inet.h>
#include <corosync/cmap.h>
#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "membership.h"

static const char *const probe_result_names[AUDIT_PROBE_RESULT_MAX] = {"open", "refused", "timeout", "error"};

const char *audit_probe_result_str(enum audit_probe_result r)
{
	return (unsigned)r < AUDIT_PROBE_RESULT_MAX ? probe_result_names[r] : "invalid";
}

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
	audit_addr_set(&t->addr, family, buf);
	for (size_t i = 0; i < out->n; i++)
		if (out->t[i].addr.ss_family == family && memcmp(audit_addr_bytes(&out->t[i].addr), buf, audit_addr_len(family)) == 0)
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

			audit_addr_str(grp->addrs[i].family, &grp->addrs[i].addr, a, sizeof(a));
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
			       memcmp(&r->addr, audit_addr_bytes(&t->addr), audit_addr_len(r->family)) == 0));
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

	audit_addr_str(t->addr.ss_family, audit_addr_bytes(&t->addr), a, sizeof(a));
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

struct probe_slot {
	struct audit_probe_round *round;
	int fd;
	size_t index;
	ev_io io;
	ev_timer timeout;
};

struct audit_probe_round {
	struct ev_loop *loop;
	const struct config_audit *rules;
	const struct audit_targets *targets;
	struct audit_probe_stats *stats;
	audit_probe_done_fn done;
	void *arg;
	struct audit_probe *plan;
	size_t n, next, active;
	struct audit_findings findings;
	ev_timer pace;
	struct probe_slot slots[AUDIT_PROBE_CONCURRENCY];
};

/* ---- the scheduler: one round of probes on the loop ---- */

static void round_free(struct audit_probe_round *p)
{
	ev_timer_stop(p->loop, &p->pace);
	audit_findings_clear(&p->findings);
	free(p->plan);
	free(p);
}

static void probe_done(struct probe_slot *s, enum audit_probe_result r)
{
	struct audit_probe_round *p = s->round;
	const struct audit_probe *pr = &p->plan[s->index];

	ev_io_stop(p->loop, &s->io);
	ev_timer_stop(p->loop, &s->timeout);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	p->active--;
	p->stats->open += r == AUDIT_PROBE_OPEN;
	p->stats->refused += r == AUDIT_PROBE_REFUSED;
	p->stats->timeout += r == AUDIT_PROBE_TIMEOUT;
	p->stats->error += r == AUDIT_PROBE_ERROR;
	audit_probe_judge(pr, &p->targets->t[pr->target], r, &p->findings);
	if (p->next == p->n && p->active == 0) {
		ev_timer_stop(p->loop, &p->pace);
		p->done(p->arg, &p->findings);
		round_free(p);
	}
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

static void probe_start(struct audit_probe_round *p, struct probe_slot *s, size_t index)
{
	const struct audit_probe *pr = &p->plan[index];
	struct sockaddr_storage dst = p->targets->t[pr->target].addr;
	socklen_t len = dst.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);

	((struct sockaddr_in *)&dst)->sin_port = htons(pr->port); /* same offset in sockaddr_in6 */
	s->round = p;
	s->index = index;
	s->fd = probe_socket(dst.ss_family);
	p->active++;
	p->stats->sent++;
	if (s->fd < 0) {
		probe_done(s, AUDIT_PROBE_ERROR);
		return;
	}
	ev_io_init(&s->io, on_probe_io, s->fd, EV_WRITE);
	s->io.data = s;
	ev_timer_init(&s->timeout, on_probe_timeout, p->rules->probe_timeout_ms / 1000.0, 0);
	s->timeout.data = s;
	if (connect(s->fd, (struct sockaddr *)&dst, len) == 0 || errno == EINPROGRESS) {
		ev_io_start(p->loop, &s->io);
		ev_timer_start(p->loop, &s->timeout);
		return;
	}
	probe_done(s, errno == ECONNREFUSED ? AUDIT_PROBE_REFUSED : AUDIT_PROBE_ERROR);
}

/* One probe per tick, at most probe_rate a second and AUDIT_PROBE_CONCURRENCY at once. */
static void on_probe_pace(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct audit_probe_round *p = w->data;

	if (p->next == p->n || p->active == AUDIT_PROBE_CONCURRENCY)
		return;
	for (size_t i = 0; i < AUDIT_PROBE_CONCURRENCY; i++) {
		if (p->slots[i].fd < 0) {
			probe_start(p, &p->slots[i], p->next++);
			return;
		}
	}
}

int audit_probe_round_start(struct ev_loop *loop, const struct config_audit *rules,
			    const struct audit_targets *targets, const struct audit_local_addrs *local,
			    const struct audit_probe_round_options *o, struct audit_probe_round **out)
{
	struct audit_probe_round *p = calloc(1, sizeof(*p));
	int n = p ? audit_probe_plan(rules, targets, local, &p->plan) : -ENOMEM;

	if (n <= 0) {
		if (n == 0)
			o->done(o->arg, &p->findings);
		if (p)
			free(p->plan);
		free(p);
		return n;
	}
	*p = (struct audit_probe_round){.loop = loop, .rules = rules, .targets = targets, .stats = o->stats,
					.done = o->done, .arg = o->arg, .plan = p->plan, .n = (size_t)n};
	for (size_t i = 0; i < AUDIT_PROBE_CONCURRENCY; i++)
		p->slots[i].fd = -1;
	p->stats->rounds++;
	ev_timer_init(&p->pace, on_probe_pace, 0, 1.0 / rules->probe_rate);
	p->pace.data = p;
	ev_timer_start(loop, &p->pace);
	*out = p;
	return 1;
}

void audit_probe_round_cancel(struct audit_probe_round *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < AUDIT_PROBE_CONCURRENCY; i++) {
		if (p->slots[i].fd < 0)
			continue;
		ev_io_stop(p->loop, &p->slots[i].io);
		ev_timer_stop(p->loop, &p->slots[i].timeout);
		close(p->slots[i].fd);
	}
	round_free(p);
}
