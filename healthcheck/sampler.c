/* One sample is two reads of /proc and one NETLINK_SOCK_DIAG dump of this namespace,
 * all local and bounded; it runs in the loop every interval (10 s by default). */
#include "sampler.h"

#include "fo/jsontext.h"
#include "fo/clock.h"
#include "fo/log.h"
#include "fo/sockdiag.h"
#include "resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sampler {
	struct ev_loop *loop;
	ev_timer timer;
	struct hc_resources_conf conf;
	struct resources_thresholds thresholds;
	bool have_sample;
	struct resources_sample sample;
	uint64_t sample_ms;
	struct sockdiag_conn_counts *counts; /* of the last sample, NULL if the dump failed */
	int node_error, conn_error;          /* of the last sample, negative errno or 0 */
	struct resources_warnings warnings;
	unsigned warned;                     /* bit per resources_kind currently warned */
};

static void set_thresholds(struct sampler *s, const struct hc_resources_conf *conf)
{
	s->conf = *conf;
	s->thresholds = (struct resources_thresholds){
		.cpu_pct = conf->cpu_pct,
		.mem_pct = conf->mem_pct,
		.load_per_cpu = conf->load_per_cpu,
		.fd_pct = conf->fd_pct,
		.conn_per_port = conf->conn_per_port,
		.half_open = conf->half_open,
		.listen_overflows = conf->listen_overflows,
	};
}

/* The listen overflows since the previous sample, as resources_sample_conns does,
 * with the per-port counts kept for the metrics. */
static int sample_conns(struct sampler *s, const struct resources_sample *prev, struct resources_sample *cur)
{
	struct sockdiag_conn_counts *counts = NULL;
	int rc = sockdiag_conn_counts(&counts);

	cur->valid &= ~(1u << RESOURCES_CONN_PER_PORT | 1u << RESOURCES_HALF_OPEN |
			1u << RESOURCES_LISTEN_OVERFLOWS);
	if (rc == 0)
		resources_set_conns(cur, counts);
	sockdiag_conn_counts_free(s->counts);
	s->counts = counts;
	cur->have_overflows = sockdiag_listen_overflows(&cur->overflows) == 0;
	if (cur->have_overflows && prev && prev->have_overflows) {
		uint64_t was = prev->overflows.listen_overflows, now = cur->overflows.listen_overflows;

		cur->value[RESOURCES_LISTEN_OVERFLOWS] = (double)(now >= was ? now - was : now);
		cur->valid |= 1u << RESOURCES_LISTEN_OVERFLOWS;
	}
	return rc;
}

static void log_warnings(struct sampler *s)
{
	unsigned now = 0;

	for (size_t i = 0; i < s->warnings.n; i++) {
		const struct resources_warning *w = &s->warnings.items[i];

		now |= 1u << w->kind;
		if (s->warned & (1u << w->kind))
			continue;
		if (w->kind == RESOURCES_CONN_PER_PORT)
			log_warn("capacity: %s %.0f on port %u reaches the threshold %.0f", resources_kind_str(w->kind),
				 w->value, w->port, w->limit);
		else
			log_warn("capacity: %s %.2f reaches the threshold %.2f", resources_kind_str(w->kind), w->value,
				 w->limit);
	}
	for (int k = 0; k < RESOURCES_KIND_MAX; k++)
		if ((s->warned & ~now) & (1u << k))
			log_info("capacity: %s back under its threshold", resources_kind_str((enum resources_kind)k));
	s->warned = now;
}

static void sample_now(struct sampler *s)
{
	struct resources_sample prev = s->sample;
	const struct resources_sample *p = s->have_sample ? &prev : NULL;
	int node_error, conn_error;

	node_error = resources_sample_node(p, &s->sample);
	conn_error = sample_conns(s, p, &s->sample);
	if (conn_error && conn_error != s->conn_error)
		log_warn("resources: cannot count connections: %s", strerror(-conn_error));
	if (node_error && node_error != s->node_error)
		log_warn("resources: cannot read /proc: %s", strerror(-node_error));
	s->node_error = node_error;
	s->conn_error = conn_error;
	s->have_sample = true;
	s->sample_ms = clock_real_ms();
	resources_evaluate(&s->sample, &s->thresholds, &s->warnings);
	log_warnings(s);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	sample_now(w->data);
}

struct sampler *sampler_new(struct ev_loop *loop, const struct hc_resources_conf *conf)
{
	struct sampler *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->loop = loop;
	set_thresholds(s, conf);
	ev_timer_init(&s->timer, timer_cb, conf->interval_ms / 1000.0, conf->interval_ms / 1000.0);
	s->timer.data = s;
	sample_now(s);
	ev_timer_start(loop, &s->timer);
	return s;
}

void sampler_configure(struct sampler *s, const struct hc_resources_conf *conf)
{
	set_thresholds(s, conf);
	ev_timer_stop(s->loop, &s->timer);
	ev_timer_set(&s->timer, conf->interval_ms / 1000.0, conf->interval_ms / 1000.0);
	ev_timer_start(s->loop, &s->timer);
	resources_evaluate(&s->sample, &s->thresholds, &s->warnings);
	log_warnings(s);
}

void sampler_free(struct sampler *s)
{
	if (!s)
		return;
	ev_timer_stop(s->loop, &s->timer);
	sockdiag_conn_counts_free(s->counts);
	free(s);
}

/* ---- rendering ---- */

static bool valid(const struct sampler *s, enum resources_kind kind)
{
	return s->have_sample && (s->sample.valid & (1u << kind));
}

static void gauge(FILE *f, const char *name, const char *help, bool have, double v)
{
	if (!have)
		return;
	char buf[40];

	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", name, help, name, name, jsontext_real(v, buf, sizeof(buf)));
}

static void render_node(const struct sampler *s, FILE *f)
{
	const struct resources_sample *r = &s->sample;
	bool mem = valid(s, RESOURCES_MEM), load = valid(s, RESOURCES_LOAD);

	/* Ratios from 0 to 1, as Prometheus names them; the status document keeps percents. */
	gauge(f, "healthcheck_node_cpu_busy_ratio", "Busy CPU time between the last two samples, all CPUs (0 to 1).",
	      valid(s, RESOURCES_CPU), r->value[RESOURCES_CPU] / 100);
	gauge(f, "healthcheck_node_memory_used_ratio", "(MemTotal - MemAvailable) / MemTotal (0 to 1).", mem,
	      r->value[RESOURCES_MEM] / 100);
	gauge(f, "healthcheck_node_memory_total_bytes", "MemTotal.", mem, (double)r->mem.total_kb * 1024);
	gauge(f, "healthcheck_node_memory_available_bytes", "MemAvailable.", mem, (double)r->mem.available_kb * 1024);
	if (load) {
		static const char *const periods[] = {"1m", "5m", "15m"};

		fprintf(f, "# HELP healthcheck_node_load_average Load average.\n"
			   "# TYPE healthcheck_node_load_average gauge\n");
		for (int i = 0; i < 3; i++)
			fprintf(f, "healthcheck_node_load_average{period=\"%s\"} %.2f\n", periods[i], r->load.avg[i]);
	}
	gauge(f, "healthcheck_node_open_files", "Open files, whole system.", valid(s, RESOURCES_FD_SYSTEM),
	      (double)r->fd_system.used);
	gauge(f, "healthcheck_node_open_files_limit", "fs.file-max.", valid(s, RESOURCES_FD_SYSTEM),
	      (double)r->fd_system.max);
	gauge(f, "healthcheck_process_open_fds", "The agent's open descriptors.", valid(s, RESOURCES_FD_PROCESS),
	      (double)r->fd_process.used);
	gauge(f, "healthcheck_process_max_fds", "The agent's RLIMIT_NOFILE.", valid(s, RESOURCES_FD_PROCESS),
	      (double)r->fd_process.max);
}

static void render_conns(const struct sampler *s, FILE *f)
{
	const struct sockdiag_conn_counts *c = s->counts;
	const struct resources_sample *r = &s->sample;

	if (c) {
		gauge(f, "healthcheck_node_tcp_established", "ESTABLISHED TCP sockets, all ports.", true,
		      (double)c->established);
		gauge(f, "healthcheck_node_tcp_half_open", "SYN_RECV TCP sockets, all ports.", true, (double)c->syn_recv);
		fprintf(f, "# HELP healthcheck_port_connections TCP connections per listening port.\n"
			   "# TYPE healthcheck_port_connections gauge\n");
		for (size_t i = 0; i < c->n_ports; i++)
			fprintf(f, "healthcheck_port_connections{port=\"%u\",state=\"established\"} %u\n"
				   "healthcheck_port_connections{port=\"%u\",state=\"syn_recv\"} %u\n",
				c->ports[i].port, c->ports[i].established, c->ports[i].port, c->ports[i].syn_recv);
		fprintf(f, "# HELP healthcheck_port_accept_queue Accept queue of the port's listeners.\n"
			   "# TYPE healthcheck_port_accept_queue gauge\n");
		for (size_t i = 0; i < c->n_ports; i++)
			fprintf(f, "healthcheck_port_accept_queue{port=\"%u\"} %u\n", c->ports[i].port,
				c->ports[i].accept_queue);
		fprintf(f, "# HELP healthcheck_port_accept_queue_max Backlog of the port's listeners.\n"
			   "# TYPE healthcheck_port_accept_queue_max gauge\n");
		for (size_t i = 0; i < c->n_ports; i++)
			fprintf(f, "healthcheck_port_accept_queue_max{port=\"%u\"} %u\n", c->ports[i].port,
				c->ports[i].backlog);
	}
	if (r->have_overflows)
		fprintf(f, "# HELP healthcheck_node_listen_overflows_total TcpExt ListenOverflows since boot.\n"
			   "# TYPE healthcheck_node_listen_overflows_total counter\n"
			   "healthcheck_node_listen_overflows_total %llu\n"
			   "# HELP healthcheck_node_listen_drops_total TcpExt ListenDrops since boot.\n"
			   "# TYPE healthcheck_node_listen_drops_total counter\n"
			   "healthcheck_node_listen_drops_total %llu\n",
			(unsigned long long)r->overflows.listen_overflows, (unsigned long long)r->overflows.listen_drops);
}

static void render_warnings(const struct sampler *s, FILE *f)
{
	fprintf(f, "# HELP healthcheck_node_capacity_warning 1 while the figure is at or above its threshold.\n"
		   "# TYPE healthcheck_node_capacity_warning gauge\n");
	for (int k = 0; k < RESOURCES_KIND_MAX; k++)
		fprintf(f, "healthcheck_node_capacity_warning{kind=\"%s\"} %d\n",
			resources_kind_str((enum resources_kind)k), !!(s->warned & (1u << k)));
}

char *sampler_render_metrics(const struct sampler *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	render_node(s, f);
	render_conns(s, f);
	render_warnings(s, f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static json_t *json_figure(const struct sampler *s, enum resources_kind kind)
{
	return valid(s, kind) ? json_real(s->sample.value[kind]) : json_null();
}

static json_t *status_ports(const struct sampler *s)
{
	json_t *ports = json_array();

	for (size_t i = 0; s->counts && i < s->counts->n_ports; i++) {
		const struct sockdiag_port_count *p = &s->counts->ports[i];

		json_array_append_new(ports, json_pack("{s:i,s:i,s:i,s:i,s:i}", "port", p->port, "established",
						       (int)p->established, "syn_recv", (int)p->syn_recv,
						       "accept_queue", (int)p->accept_queue, "backlog", (int)p->backlog));
	}
	return ports;
}

static json_t *status_warnings(const struct sampler *s)
{
	json_t *list = json_array();

	for (size_t i = 0; i < s->warnings.n; i++) {
		const struct resources_warning *w = &s->warnings.items[i];
		json_t *o = json_pack("{s:s,s:f,s:f}", "kind", resources_kind_str(w->kind), "value", w->value,
				      "threshold", w->limit);

		if (o && w->kind == RESOURCES_CONN_PER_PORT)
			json_object_set_new(o, "port", json_integer(w->port));
		json_array_append_new(list, o);
	}
	return list;
}

json_t *sampler_status_json(const struct sampler *s)
{
	const struct resources_sample *r = &s->sample;
	json_t *o;

	if (!s->have_sample)
		return json_null();
	o = json_pack("{s:I,s:o,s:o,s:o,s:o,s:o}", "sample_ms", (json_int_t)s->sample_ms, "cpu_busy_pct",
		      json_figure(s, RESOURCES_CPU), "memory_used_pct", json_figure(s, RESOURCES_MEM),
		      "load_per_cpu", json_figure(s, RESOURCES_LOAD), "open_files_pct",
		      json_figure(s, RESOURCES_FD_SYSTEM), "process_fds_pct", json_figure(s, RESOURCES_FD_PROCESS));
	if (!o)
		return json_null();
	if (valid(s, RESOURCES_LOAD))
		json_object_set_new(o, "load", json_pack("[f,f,f]", r->load.avg[0], r->load.avg[1], r->load.avg[2]));
	json_object_set_new(o, "connections",
			    s->counts ? json_pack("{s:I,s:I,s:o}", "established", (json_int_t)s->counts->established,
						  "half_open", (json_int_t)s->counts->syn_recv, "ports",
						  status_ports(s))
				      : json_null());
	json_object_set_new(o, "listen_overflows_last_interval", json_figure(s, RESOURCES_LISTEN_OVERFLOWS));
	json_object_set_new(o, "warnings", status_warnings(s));
	return o;
}
