#include "check_script.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct script_state {
	struct hc_check *check;
	pid_t pid;          /* 0: no process */
	bool abandoned;     /* timed out: reap it, report nothing */
	ev_child child;
	ev_io out;          /* read end of the output pipe */
	ev_timer kill_timer;
	size_t out_len;
	char output[SCRIPT_OUTPUT_MAX + 1];
};

static struct ev_loop *loop_of(struct script_state *s)
{
	return engine_loop(s->check->engine);
}

static void close_output(struct script_state *s)
{
	if (s->out.fd < 0)
		return;
	ev_io_stop(loop_of(s), &s->out);
	close(s->out.fd);
	s->out.fd = -1;
}

/* Keeps the first bytes, drains the rest so the script never blocks on a full pipe. */
static void drain_output(struct script_state *s)
{
	char sink[4096];
	ssize_t n;

	while (s->out.fd >= 0) {
		size_t room = SCRIPT_OUTPUT_MAX - s->out_len;

		n = room ? read(s->out.fd, s->output + s->out_len, room) : read(s->out.fd, sink, sizeof(sink));
		if (n > 0 && room) {
			s->out_len += (size_t)n;
			continue;
		}
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			close_output(s);
		break;
	}
}

static void out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	drain_output(w->data);
}

/* The first line of the output, printable, for the reason. */
static const char *first_line(struct script_state *s)
{
	s->output[s->out_len] = '\0';
	s->output[strcspn(s->output, "\r\n")] = '\0';
	for (char *p = s->output; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	return s->output;
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct script_state *s = w->data;
	int status = w->rstatus;
	const char *line;

	ev_child_stop(loop, w);
	ev_timer_stop(loop, &s->kill_timer);
	drain_output(s);
	close_output(s);
	s->pid = 0;
	if (s->abandoned) {
		s->abandoned = false;
		return;
	}
	line = first_line(s);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		engine_check_pass(s->check);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !line[0])
		engine_check_done(s->check, HC_RESULT_FAIL, "exit status 127 (cannot execute %s)", s->check->conf->path);
	else if (WIFEXITED(status))
		engine_check_done(s->check, HC_RESULT_FAIL, "exit status %d%s%s", WEXITSTATUS(status),
				  line[0] ? ": " : "", line);
	else
		engine_check_done(s->check, HC_RESULT_FAIL, "killed by signal %s%s%s", sigabbrev_np(WTERMSIG(status))
				  ? sigabbrev_np(WTERMSIG(status)) : "?", line[0] ? ": " : "", line);
}

static void kill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct script_state *s = w->data;

	if (s->pid > 0)
		kill(-s->pid, SIGKILL);
}

static int script_init(struct hc_check *c)
{
	struct script_state *s;

	if (!ev_is_default_loop(engine_loop(c->engine)))
		return -EINVAL; /* ev_child needs the default loop */
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->check = c;
	ev_init(&s->child, child_cb);
	ev_init(&s->out, out_cb);
	ev_init(&s->kill_timer, kill_cb);
	s->child.data = s->out.data = s->kill_timer.data = s;
	s->out.fd = -1;
	c->kind_state = s;
	return 0;
}

/* posix_spawn (clone with CLONE_VFORK in glibc): no code of ours runs in the child,
 * so no inherited libev handler or lock can act there before the exec. */
static int spawn(const struct hc_check_conf *conf, int out_fd, char **argv, pid_t *pid)
{
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int rc;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&actions);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
	posix_spawn_file_actions_adddup2(&actions, out_fd, 2);
	posix_spawn_file_actions_addclosefrom_np(&actions, 3);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&attr, 0); /* its own group, so a timeout reaches its children */
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	rc = posix_spawn(pid, conf->path, &actions, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&actions);
	return -rc;
}

static void script_start(struct hc_check *c)
{
	const struct hc_check_conf *conf = c->conf;
	struct script_state *s = c->kind_state;
	char *argv[HC_MAX_ARGS + 2];
	char reason[200];
	int pipefd[2], rc;
	pid_t pid;

	if (s->pid > 0) {
		engine_check_done(c, HC_RESULT_FAIL, "previous run (pid %d) still running", (int)s->pid);
		return;
	}
	/* checked at load too; again here, since the file may have changed since */
	if (hcconfig_script_safe(conf->path, reason, sizeof(reason)) < 0) {
		engine_check_done(c, HC_RESULT_FAIL, "%s", reason);
		return;
	}
	argv[0] = conf->path;
	for (size_t i = 0; i < conf->n_args; i++)
		argv[i + 1] = conf->args[i];
	argv[conf->n_args + 1] = NULL;
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
		engine_check_done(c, HC_RESULT_FAIL, "pipe: %s", strerror(errno));
		return;
	}
	rc = spawn(conf, pipefd[1], argv, &pid);
	close(pipefd[1]);
	if (rc < 0) {
		close(pipefd[0]);
		engine_check_done(c, HC_RESULT_FAIL, "cannot execute %s: %s", conf->path, strerror(-rc));
		return;
	}
	s->pid = pid;
	s->abandoned = false;
	s->out_len = 0;
	ev_child_set(&s->child, pid, 0);
	ev_child_start(engine_loop(c->engine), &s->child);
	ev_io_set(&s->out, pipefd[0], EV_READ);
	ev_io_start(engine_loop(c->engine), &s->out);
}

static void script_progress(struct hc_check *c, char *buf, size_t size)
{
	struct script_state *s = c->kind_state;

	if (s->pid > 0)
		snprintf(buf, size, "pid %d still running, sent SIGTERM, SIGKILL after %d ms", (int)s->pid,
			 SCRIPT_KILL_GRACE_MS);
}

static void script_cancel(struct hc_check *c)
{
	struct script_state *s = c->kind_state;

	if (s->pid <= 0)
		return;
	s->abandoned = true;
	kill(-s->pid, SIGTERM);
	ev_timer_set(&s->kill_timer, SCRIPT_KILL_GRACE_MS / 1000.0, 0);
	ev_timer_start(engine_loop(c->engine), &s->kill_timer);
}

static void script_free(struct hc_check *c)
{
	struct script_state *s = c->kind_state;

	if (!s)
		return;
	if (s->pid > 0) {
		/* libev's SIGCHLD handler reaps it once the watcher is gone */
		kill(-s->pid, SIGKILL);
		ev_child_stop(loop_of(s), &s->child);
	}
	ev_timer_stop(loop_of(s), &s->kill_timer);
	close_output(s);
	free(s);
	c->kind_state = NULL;
}

const struct check_kind check_script_kind = {
	.name = "script",
	.init = script_init,
	.start = script_start,
	.cancel = script_cancel,
	.progress = script_progress,
	.free = script_free,
};
