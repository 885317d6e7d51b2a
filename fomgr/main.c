/* fomgr: argument parsing, signals, the operators' modules (control socket, status
 * server, notify hooks), systemd's notification protocol, and the loop. Everything
 * else is in the library the tests and fuzzers link. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "config.h"
#include "control_socket.h"
#include "fo/log.h"
#include "fo/sdnotify.h"
#include "hooks.h"
#include "manager.h"
#include "metrics.h"
#include "reload.h"
#include "status_http.h"
#include "warnings.h"

#define HOOKS_EXIT_WAIT 5.0 /* seconds hooks started by the last releases may take */

struct daemon {
	struct ev_loop *loop;
	const char *config_path;
	struct manager *m;
	struct config *config; /* as started, or as last reloaded */
	struct control_socket *control;
	struct status_http *http;
	struct hooks *hooks;
	struct reload_state reload;
	ev_signal sigs[3];
	ev_timer notify_timer;
	struct sdnotify sd;
	int ready;
	char status_line[256];
};

static void usage(FILE *out)
{
	fprintf(out, "usage: fomgr [--config FILE] [--debug] [--syslog]\n"
		     "       fomgr --config-test FILE\n"
		     "       fomgr --version\n");
}

/* ---- systemd: READY once joined, STATUS= as it changes, WATCHDOG ---- */

static void notify_status(struct daemon *d, const char *extra)
{
	char line[256];
	json_t *st;

	if (!d->sd.enabled)
		return;
	st = manager_status(d->m);
	metrics_status_line(st, line, sizeof(line));
	json_decref(st);
	if (!extra && strcmp(line, d->status_line) == 0)
		return;
	snprintf(d->status_line, sizeof(d->status_line), "%s", line);
	sdnotify_send(&d->sd, "%s%sSTATUS=%s", extra ? extra : "", extra ? "\n" : "", line);
}

static void on_notify_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;
	json_t *st;

	if (!d->ready) {
		st = manager_status(d->m);
		d->ready = json_is_true(json_object_get(st, "joined"));
		json_decref(st);
		if (!d->ready) {
			notify_status(d, NULL);
			return;
		}
		log_info("ready: joined the cluster");
		notify_status(d, "READY=1");
		/* From now on only STATUS= changes: once a second is enough. */
		w->repeat = 1.0;
		ev_timer_again(loop, w);
		return;
	}
	notify_status(d, NULL);
}

static void start_systemd(struct daemon *d)
{
	sdnotify_start(&d->sd, d->loop);
	ev_timer_init(&d->notify_timer, on_notify_timer, 0., 0.2);
	d->notify_timer.data = d;
	if (d->sd.enabled)
		ev_timer_start(d->loop, &d->notify_timer);
}

/* ---- reload: SIGHUP and the control socket's "reload" ---- */

/* The operators' modules take what can change at once (groups, hook); the
 * socket path and the status listener need a restart. */
static void apply_operator_keys(struct daemon *d, const struct config *next)
{
	const struct config *old = d->config;

	control_socket_set_groups(d->control, next->admin_group, next->view_group);
	if (strcmp(old->control_socket, next->control_socket) != 0)
		log_warn("control_socket changed: takes effect at the next restart");
	if (memcmp(&old->status_listen, &next->status_listen, sizeof(next->status_listen)) != 0 ||
	    strcmp(old->status_tls_cert, next->status_tls_cert) != 0 ||
	    strcmp(old->status_tls_key, next->status_tls_key) != 0 ||
	    strcmp(old->status_tls_client_ca, next->status_tls_client_ca) != 0)
		log_warn("status_listen or its TLS files changed: takes effect at the next restart");
}

/* A refusal found here (the file, the hook) is logged and audited here; one the
 * manager found (node names, exposure policy) it logged and audited itself. Either
 * way the warning stays until a reload goes through. */
static int do_reload(void *arg, char *detail, size_t size)
{
	struct daemon *d = arg;
	struct cfgfile_errors errors;
	struct config *next;
	char why[300];
	int rc, audited = 0;

	sdnotify_reloading(&d->sd);
	/* The hook is checked first: a refused hook refuses the whole reload. */
	next = config_load(d->config_path, NULL, &errors);
	if (!next) {
		cfgfile_errors_format(&errors, d->config_path, detail, size);
		rc = -EINVAL;
	} else if (next->notify_hook[0] && hooks_check_path(next->notify_hook, why, sizeof(why)) < 0) {
		snprintf(detail, size, "%s: notify_hook %s: %s\n", d->config_path, next->notify_hook, why);
		rc = -EINVAL;
	} else {
		rc = manager_reload(d->m);
		audited = rc < 0;
		if (rc < 0)
			snprintf(detail, size, "%s: refused (see fomgr's log for every error)\n", d->config_path);
	}
	if (rc == 0) {
		reload_accepted(&d->reload);
		apply_operator_keys(d, next);
		hooks_configure(d->hooks, next->notify_hook, next->notify_timeout_ms);
		config_free(d->config);
		d->config = next;
	} else {
		reload_refused(&d->reload, manager_auditlog(d->m), !audited, d->config_path, detail);
		config_free(next);
	}
	notify_status(d, "READY=1");
	return rc;
}

static void status_extra(void *arg, json_t *status)
{
	struct daemon *d = arg;

	reload_status_json(&d->reload, status);
	warnings_derive(status);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;
	char detail[4096];

	if (w->signum == SIGHUP) {
		do_reload(d, detail, sizeof(detail));
		return;
	}
	sdnotify_send(&d->sd, "STOPPING=1\nSTATUS=releasing every group");
	manager_shutdown(d->m);
}

/* ---- set-up ---- */

static struct auditlog *auditlog_of(void *arg)
{
	struct daemon *d = arg;

	return manager_auditlog(d->m);
}

static int start_operators(struct daemon *d)
{
	const struct config *c = d->config;
	struct control_socket_options co = {
		.path = c->control_socket,
		.admin_group = c->admin_group,
		.view_group = c->view_group,
		.auditlog = auditlog_of,
		.reload = do_reload,
		.arg = d,
	};
	struct status_http_options ho = {
		.listen = &c->status_listen,
		.tls_cert = c->status_tls_cert,
		.tls_key = c->status_tls_key,
		.tls_client_ca = c->status_tls_client_ca,
	};

	d->hooks = hooks_new(d->loop, d->m);
	if (!d->hooks || hooks_configure(d->hooks, c->notify_hook, c->notify_timeout_ms) < 0)
		return -EPERM;
	d->control = control_socket_new(d->loop, d->m, &co);
	if (!d->control || control_socket_start(d->control) < 0)
		return -EINVAL;
	if (c->status_listen.family) {
		d->http = status_http_new(d->loop, d->m, &ho);
		if (!d->http)
			return -errno;
		status_http_set_sources(d->http, d->control, d->hooks);
	}
	return 0;
}

static int config_test(const char *path)
{
	struct config *c;
	char why[300];
	int rc = manager_config_test(path);

	if (rc < 0)
		return 78;
	c = config_load(path, NULL, NULL);
	if (c && c->notify_hook[0] && hooks_check_path(c->notify_hook, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s: notify_hook %s: %s\n", path, c->notify_hook, why);
		rc = -EPERM;
	}
	config_free(c);
	return rc < 0 ? 78 : 0;
}

static void run(struct daemon *d)
{
	const int signums[3] = {SIGTERM, SIGINT, SIGHUP};

	for (int i = 0; i < 3; i++) {
		ev_signal_init(&d->sigs[i], on_signal, signums[i]);
		d->sigs[i].data = d;
		ev_signal_start(d->loop, &d->sigs[i]);
	}
	start_systemd(d);
	ev_run(d->loop, 0);
	control_socket_free(d->control);
	status_http_free(d->http);
	hooks_free(d->hooks, HOOKS_EXIT_WAIT);
	manager_free(d->m);
	config_free(d->config);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"config-test", required_argument, NULL, 't'},
		{"debug", no_argument, NULL, 'd'},        {"syslog", no_argument, NULL, 's'},
		{"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct daemon d = {.config_path = "/etc/fomgr/fomgr.conf"};
	enum log_level level = LOG_LVL_INFO;
	int use_syslog = 0, opt;

	while ((opt = getopt_long(argc, argv, "c:t:dsVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d.config_path = optarg;
			break;
		case 't':
			log_init("fomgr", LOG_LVL_INFO, 0);
			return config_test(optarg);
		case 'd':
			level = LOG_LVL_DEBUG;
			break;
		case 's':
			use_syslog = 1;
			break;
		case 'V':
			printf("fomgr %s\n", FO_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 64;
	}
	log_init("fomgr", level, use_syslog);
	signal(SIGPIPE, SIG_IGN);
	d.loop = ev_default_loop(0);
	d.m = manager_new(d.loop, d.config_path);
	if (!d.m || manager_start(d.m) < 0)
		return 78;
	manager_set_status_extra(d.m, status_extra, &d);
	/* The manager refused a bad file already; this reads the same one. */
	d.config = config_load(d.config_path, NULL, NULL);
	if (!d.config || start_operators(&d) < 0) {
		log_err("cannot start; exiting");
		control_socket_free(d.control);
		status_http_free(d.http);
		hooks_free(d.hooks, 0);
		manager_free(d.m);
		config_free(d.config);
		return 78;
	}
	run(&d);
	log_info("stopped");
	return 0;
}
