/* healthcheck: argument parsing, set-up, privilege drop, signals and the loop. */
#include "engine.h"
#include "feed.h"
#include "fo/log.h"
#include "fo/sdnotify.h"
#include "hcconfig.h"
#include "sampler.h"
#include "serve.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct agent {
	struct ev_loop *loop;
	const char *config_path;
	struct engine *engine;
	struct serve *serve;
	struct feed *feed;
	struct sampler *sampler;
	ev_signal sigterm, sigint, sighup;
	struct sdnotify sd;
	/* what the running set-up was made from, to see what a reload changes */
	char listen_host[64];
	uint16_t listen_port;
	char manager_socket[108];
	uint32_t heartbeat_ms;
	char user[64];
};

static void usage(FILE *out)
{
	fprintf(out, "usage: healthcheck --config FILE [-d]\n"
		     "       healthcheck --config-test FILE\n"
		     "  -c, --config FILE       run with this configuration\n"
		     "  -t, --config-test FILE  check a configuration and exit (0: valid, 78: refused, as fomgr)\n"
		     "  -d, --debug             log debug messages\n"
		     "  -V, --version           print the version\n");
}

/* Every capability set must be empty after the switch to an unprivileged user. */
static int capabilities_empty(void)
{
	/* not CapBnd: the bounding set limits what could be gained, it grants nothing */
	static const char *const sets[] = {"CapInh:", "CapPrm:", "CapEff:", "CapAmb:"};
	char line[256];
	int checked = 0, empty = 1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
			if (strncmp(line, sets[i], strlen(sets[i])) != 0)
				continue;
			checked++;
			if (strtoull(line + strlen(sets[i]), NULL, 16) != 0)
				empty = 0;
		}
	}
	fclose(f);
	return checked == 4 && empty ? 0 : -EPERM;
}

static int drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		log_err("user %s: no such user", user);
		return -ENOENT;
	}
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_err("cannot drop privileges to %s: %s", user, strerror(errno));
		return -errno;
	}
	if (setuid(0) == 0 || capabilities_empty() < 0) {
		log_err("privileges still held after switching to %s: refusing to run", user);
		return -EPERM;
	}
	log_info("running as %s (uid %u, gid %u), no capabilities", user, (unsigned)pw->pw_uid,
		 (unsigned)pw->pw_gid);
	return 0;
}

static void remember(struct agent *a, const struct hc_config *cfg)
{
	snprintf(a->listen_host, sizeof(a->listen_host), "%s", cfg->listen_host);
	a->listen_port = cfg->listen_port;
	snprintf(a->manager_socket, sizeof(a->manager_socket), "%s", cfg->manager_socket);
	a->heartbeat_ms = cfg->heartbeat_ms;
	snprintf(a->user, sizeof(a->user), "%s", cfg->user);
}

/* Serving and feeding follow the config; on reload only what changed is remade. */
static void apply_outputs(struct agent *a, const struct hc_config *cfg, bool reload)
{
	if (!reload || strcmp(cfg->listen_host, a->listen_host) || cfg->listen_port != a->listen_port) {
		struct serve *s = cfg->listen_host[0] ? serve_new(a->loop, cfg->listen_host, cfg->listen_port) : NULL;

		if (s || !cfg->listen_host[0]) {
			serve_free(a->serve);
			a->serve = s;
		} else if (reload && a->serve) {
			log_warn("reload: keeping the previous listen address");
		}
	}
	if (!reload || strcmp(cfg->manager_socket, a->manager_socket) || cfg->heartbeat_ms != a->heartbeat_ms) {
		feed_free(a->feed);
		a->feed = cfg->manager_socket[0] ? feed_new(a->loop, cfg->manager_socket, cfg->heartbeat_ms) : NULL;
	}
	if (cfg->resources.enabled && a->sampler)
		sampler_configure(a->sampler, &cfg->resources);
	else if (cfg->resources.enabled)
		a->sampler = sampler_new(a->loop, &cfg->resources);
	else {
		sampler_free(a->sampler);
		a->sampler = NULL;
	}
}

/* Wires a new engine to the outputs and starts it; the previous engine (if any) is
 * freed after its state was handed over. */
static void install_engine(struct agent *a, struct engine *engine)
{
	if (a->feed)
		engine_observe(engine, feed_on_change, a->feed);
	if (a->serve) {
		serve_set_engine(a->serve, engine);
		serve_set_feed(a->serve, a->feed);
		serve_set_sampler(a->serve, a->sampler);
	}
	engine_free(a->engine);
	a->engine = engine;
	if (a->feed)
		feed_set_engine(a->feed, engine);
	engine_start(engine);
}

static void reload(struct agent *a)
{
	struct cfgfile_errors errs;
	struct hc_config *cfg;
	struct engine *engine;
	size_t n;

	log_info("reloading %s", a->config_path);
	if (hcconfig_load_file(a->config_path, &cfg, &errs) < 0) {
		hcconfig_log_errors(&errs);
		log_event(LOG_LVL_ERR, LOG_MSGID_CONFIG, "reload refused: keeping the running configuration");
		return;
	}
	if (strcmp(cfg->user, a->user) != 0)
		log_warn("reload: a change of user takes a restart");
	n = cfg->n_checks;
	engine = engine_new(a->loop, cfg, a->engine); /* takes cfg */
	if (!engine) {
		log_err("reload failed: keeping the running checks");
		return;
	}
	apply_outputs(a, engine_config(engine), true);
	remember(a, engine_config(engine));
	install_engine(a, engine);
	log_info("reloaded: %zu checks", n);
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct agent *a = w->data;

	if (w->signum == SIGHUP) {
		sdnotify_reloading(&a->sd);
		reload(a);
		sdnotify_send(&a->sd, "READY=1\nSTATUS=%zu checks", engine_config(a->engine)->n_checks);
		return;
	}
	log_info("stopping on %s", strsignal(w->signum));
	sdnotify_send(&a->sd, "STOPPING=1");
	ev_break(loop, EVBREAK_ALL);
}

static void watch_signals(struct agent *a)
{
	ev_signal *watchers[] = {&a->sigterm, &a->sigint, &a->sighup};
	int signums[] = {SIGTERM, SIGINT, SIGHUP};

	for (size_t i = 0; i < 3; i++) {
		ev_signal_init(watchers[i], signal_cb, signums[i]);
		watchers[i]->data = a;
		ev_signal_start(a->loop, watchers[i]);
	}
}

static int config_test(const char *path)
{
	struct cfgfile_errors errs;
	struct hc_config *cfg;

	if (hcconfig_load_file(path, &cfg, &errs) < 0) {
		hcconfig_log_errors(&errs);
		return HC_EX_CONFIG;
	}
	printf("%s: ok, %zu checks\n", path, cfg->n_checks);
	hcconfig_free(cfg);
	return 0;
}

static int run(struct agent *a)
{
	struct cfgfile_errors errs;
	struct hc_config *cfg;
	struct engine *engine;

	if (hcconfig_load_file(a->config_path, &cfg, &errs) < 0) {
		hcconfig_log_errors(&errs);
		return HC_EX_CONFIG;
	}
	a->loop = EV_DEFAULT;
	signal(SIGPIPE, SIG_IGN);
	apply_outputs(a, cfg, false);
	if (cfg->listen_host[0] && !a->serve) {
		hcconfig_free(cfg);
		return 1;
	}
	if (getuid() == 0 && cfg->user[0] && drop_privileges(cfg->user) < 0) {
		hcconfig_free(cfg);
		return 1;
	}
	if (getuid() == 0 && !cfg->user[0])
		log_warn("running as root: set user in [agent] so the checks run unprivileged");
	remember(a, cfg);
	engine = engine_new(a->loop, cfg, NULL);
	if (!engine)
		return 1;
	install_engine(a, engine);
	watch_signals(a);
	/* Ready once the checks run as the unprivileged user and the outputs are up. */
	sdnotify_start(&a->sd, a->loop);
	sdnotify_send(&a->sd, "READY=1\nSTATUS=%zu checks", engine_config(a->engine)->n_checks);
	ev_run(a->loop, 0);
	sdnotify_stop(&a->sd);
	engine_free(a->engine);
	feed_free(a->feed);
	serve_free(a->serve);
	sampler_free(a->sampler);
	ev_loop_destroy(a->loop);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'}, {"config-test", required_argument, NULL, 't'},
		{"debug", no_argument, NULL, 'd'},        {"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	struct agent agent = {0};
	const char *test_path = NULL;
	enum log_level level = LOG_LVL_INFO;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:t:dVh", options, NULL)) != -1) {
		switch (opt) {
		case 'c': agent.config_path = optarg; break;
		case 't': test_path = optarg; break;
		case 'd': level = LOG_LVL_DEBUG; break;
		case 'V': printf("healthcheck %s\n", FO_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (!agent.config_path && !test_path)) {
		usage(stderr);
		return 2;
	}
	log_init("healthcheck", level, 0);
	if (test_path)
		return config_test(test_path);
	return run(&agent);
}
