/* fomgr: argument parsing, signals, and the loop. Everything else is in the
 * library the tests and fuzzers link. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "fo/log.h"
#include "manager.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: fomgr [--config FILE] [--debug] [--syslog]\n"
		     "       fomgr --config-test FILE\n"
		     "       fomgr --version\n");
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct manager *m = w->data;

	if (w->signum == SIGHUP)
		manager_reload(m);
	else
		manager_shutdown(m);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"config-test", required_argument, NULL, 't'},
		{"debug", no_argument, NULL, 'd'},        {"syslog", no_argument, NULL, 's'},
		{"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = "/etc/fomgr/fomgr.conf";
	enum log_level level = LOG_LVL_INFO;
	int use_syslog = 0, opt;
	struct ev_loop *loop;
	struct manager *m;
	ev_signal sigs[3];
	const int signums[3] = {SIGTERM, SIGINT, SIGHUP};

	while ((opt = getopt_long(argc, argv, "c:t:dsVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 't':
			log_init("fomgr", LOG_LVL_INFO, 0);
			return manager_config_test(optarg) == 0 ? 0 : 78;
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
	loop = ev_default_loop(0);
	m = manager_new(loop, config);
	if (!m || manager_start(m) < 0)
		return 78;
	for (int i = 0; i < 3; i++) {
		ev_signal_init(&sigs[i], on_signal, signums[i]);
		sigs[i].data = m;
		ev_signal_start(loop, &sigs[i]);
	}
	ev_run(loop, 0);
	manager_free(m);
	log_info("stopped");
	return 0;
}
