#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fo/clock.h"
#include "fo/log.h"
#include "manager.h"

/* ---- the job: pure ---- */

static const char *jstr(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : def;
}

int hooks_job_build(const json_t *event, const char *node, const char *path, struct hooks_job *job)
{
	const char *action = jstr(event, "action", ""), *old_state, *new_state;
	int acquired = strcmp(action, "acquire") == 0, ok = json_is_true(json_object_get(event, "ok"));
	size_t n = 0;

	if (strcmp(jstr(event, "event", ""), "transition") != 0 || (!acquired && strcmp(action, "release") != 0))
		return -EINVAL;
	memset(job, 0, sizeof(*job));
	snprintf(job->group, sizeof(job->group), "%s", jstr(event, "group", ""));
	snprintf(job->path, sizeof(job->path), "%s", path);
	/* keepalived's states: holding is MASTER, not holding BACKUP, a failed move FAULT */
	old_state = acquired ? "BACKUP" : "MASTER";
	new_state = !ok ? "FAULT" : acquired ? "MASTER" : "BACKUP";
	snprintf(job->args[0], sizeof(job->args[0]), "%s", path);
	snprintf(job->args[1], sizeof(job->args[1]), "INSTANCE");
	snprintf(job->args[2], sizeof(job->args[2]), "%s", job->group);
	snprintf(job->args[3], sizeof(job->args[3]), "%s", new_state);
	snprintf(job->args[4], sizeof(job->args[4]), "%d", strcmp(new_state, "MASTER") == 0 ? 100 : 0);

#define ENV(...) snprintf(job->env[n++], sizeof(job->env[0]), __VA_ARGS__)
	ENV("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	ENV("FOMGR_EVENT=transition");
	ENV("FOMGR_GROUP=%s", job->group);
	ENV("FOMGR_NODE=%s", node ? node : "");
	ENV("FOMGR_OLD_STATE=%s", old_state);
	ENV("FOMGR_NEW_STATE=%s", new_state);
	ENV("FOMGR_ACTION=%s", action);
	ENV("FOMGR_REASON=%s", jstr(event, "reason", ""));
	ENV("FOMGR_FROM=%s", jstr(event, "from", ""));
	ENV("FOMGR_TO=%s", jstr(event, "to", ""));
	ENV("FOMGR_SEQ=%lld", (long long)json_integer_value(json_object_get(event, "seq")));
	ENV("FOMGR_TIME_MS=%lld", (long long)json_integer_value(json_object_get(event, "at_ms")));
	ENV("FOMGR_TOOK_MS=%.1f", json_number_value(json_object_get(event, "took_ms")));
	if (!ok)
		ENV("FOMGR_ERROR=%s", jstr(event, "error", "failed"));
#undef ENV
	job->n_env = n;
	return 0;
}

/* ---- is the hook safe to run ---- */

/* Owned by root or by us, and writable by nobody else. */
static int trusted(const struct stat *st)
{
	return (st->st_uid == 0 || st->st_uid == geteuid()) && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* Every directory from / down to path's parent. */
static int check_dirs(const char *path, char *why, size_t size)
{
	char dir[PATH_MAX];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
		*slash = '\0';
		if (stat(dir[0] ? dir : "/", &st) < 0) {
			snprintf(why, size, "%s: %s", dir[0] ? dir : "/", strerror(errno));
			return -errno;
		}
		if (!trusted(&st)) {
			snprintf(why, size, "directory %s can be changed by others than root", dir[0] ? dir : "/");
			return -EPERM;
		}
	}
	return 0;
}

int hooks_check_path(const char *path, char *why, size_t size)
{
	char real[PATH_MAX];
	struct stat st;
	int rc;

	if (path[0] != '/') {
		snprintf(why, size, "not an absolute path");
		return -EINVAL;
	}
	if (!realpath(path, real)) {
		snprintf(why, size, "%s", strerror(errno));
		return -errno;
	}
	if (stat(real, &st) < 0) {
		snprintf(why, size, "%s", strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, size, "not a regular file");
		return -EINVAL;
	}
	if (!trusted(&st)) {
		snprintf(why, size, "writable by others than root (owner uid %u, mode %04o)", (unsigned)st.st_uid,
			 (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	if (!(st.st_mode & S_IXUSR)) {
		snprintf(why, size, "not executable");
		return -EACCES;
	}
	/* Both the path as written (its symlinks live there) and where it leads. */
	rc = check_dirs(path, why, size);
	return rc < 0 ? rc : check_dirs(real, why, size);
}

/* ---- running them ---- */

struct run {
	struct hooks *h;
	int used;
	pid_t pid;
	uint64_t start_ms;
	int killed; /* 1 TERM sent, 2 KILL sent */
	ev_child child;
	ev_timer timer;
	char group[CONFIG_NAME_MAX];
	char state[sizeof(((struct hooks_job *)0)->args[3])];
};

struct hooks {
	struct ev_loop *loop;
	struct manager *m;
	char path[256];
	uint32_t timeout_ms;
	int listening;
	char node[CONFIG_NAME_MAX]; /* this node's name, once known */
	ev_idle kick;               /* starts queued runs once the loop is idle */
	struct run runs[HOOKS_MAX_RUNNING];
	struct hooks_job queue[HOOKS_MAX_QUEUED];
	size_t q_head, q_len;
	uint64_t counts[METRICS_HOOK_MAX];
};

static void start_queued(struct hooks *h);

static int group_running(const struct hooks *h, const char *group)
{
	for (size_t i = 0; i < HOOKS_MAX_RUNNING; i++)
		if (h->runs[i].used && strcmp(h->runs[i].group, group) == 0)
			return 1;
	return 0;
}

static void run_done(struct run *r, int status)
{
	struct hooks *h = r->h;
	uint64_t took = clock_mono_ms() - r->start_ms;

	ev_child_stop(h->loop, &r->child);
	ev_timer_stop(h->loop, &r->timer);
	if (r->killed) {
		log_warn("hook %s for group=%s state=%s killed after %llu ms (notify_timeout)", h->path, r->group,
			 r->state, (unsigned long long)took);
		h->counts[METRICS_HOOK_TIMEOUT]++;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		log_info("hook %s for group=%s state=%s exited 0 in %llu ms", h->path, r->group, r->state,
			 (unsigned long long)took);
		h->counts[METRICS_HOOK_OK]++;
	} else {
		if (WIFEXITED(status))
			log_warn("hook %s for group=%s state=%s exited %d in %llu ms", h->path, r->group, r->state,
				 WEXITSTATUS(status), (unsigned long long)took);
		else
			log_warn("hook %s for group=%s state=%s died of signal %d", h->path, r->group, r->state,
				 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		h->counts[METRICS_HOOK_FAILED]++;
	}
	r->used = 0;
	start_queued(h);
}

static void on_child(struct ev_loop *loop, ev_child *w, int revents)
{
	run_done(w->data, w->rstatus);
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct run *r = w->data;

	/* The whole process group: a hook's own children go too. */
	kill(-r->pid, r->killed ? SIGKILL : SIGTERM);
	if (!r->killed) {
		r->killed = 1;
		ev_timer_set(w, HOOKS_KILL_GRACE, 0.);
		ev_timer_start(loop, w);
	}
}

static int spawn(struct hooks_job *job, pid_t *pid)
{
	char *argv[HOOKS_ARGC + 1] = {job->path}, *envp[HOOKS_ENVC + 1] = {0};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	int rc;

	for (size_t i = 1; i < HOOKS_ARGC; i++)
		argv[i] = job->args[i];
	for (size_t i = 0; i < job->n_env; i++)
		envp[i] = job->env[i];
	sigemptyset(&none);
	sigemptyset(&defaults);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaddset(&defaults, s);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	/* stdin from /dev/null, stdout into our stderr (the journal), nothing else. */
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(pid, job->path, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -rc;
}

static void start_job(struct hooks *h, struct run *r, struct hooks_job *job)
{
	char why[300];
	int rc = hooks_check_path(job->path, why, sizeof(why));

	/* Checked again at each run: the file may have changed since the start. */
	if (rc < 0) {
		log_err("hook %s refused: %s", job->path, why);
		h->counts[METRICS_HOOK_REFUSED]++;
		return;
	}
	rc = spawn(job, &r->pid);
	if (rc < 0) {
		log_err("hook %s: cannot run it: %s", job->path, strerror(-rc));
		h->counts[METRICS_HOOK_REFUSED]++;
		return;
	}
	r->used = 1;
	r->killed = 0;
	r->start_ms = clock_mono_ms();
	snprintf(r->group, sizeof(r->group), "%s", job->group);
	snprintf(r->state, sizeof(r->state), "%s", job->args[3]);
	ev_child_set(&r->child, r->pid, 0);
	ev_child_start(h->loop, &r->child);
	ev_timer_set(&r->timer, h->timeout_ms / 1000.0, 0.);
	ev_timer_start(h->loop, &r->timer);
}

/* Starts what may start: a free slot, and no run of the same group (so a group's
 * hooks see its transitions in order). */
static void start_queued(struct hooks *h)
{
	for (size_t k = 0; k < h->q_len;) {
		struct hooks_job *job = &h->queue[(h->q_head + k) % HOOKS_MAX_QUEUED];
		struct run *free_run = NULL;
		int blocked = 0;

		for (size_t i = 0; i < HOOKS_MAX_RUNNING && !free_run; i++)
			if (!h->runs[i].used)
				free_run = &h->runs[i];
		if (!free_run)
			return;
		blocked = group_running(h, job->group);
		/* An earlier queued job of the same group goes first. */
		for (size_t j = 0; j < k && !blocked; j++)
			blocked = strcmp(h->queue[(h->q_head + j) % HOOKS_MAX_QUEUED].group, job->group) == 0;
		if (blocked) {
			k++;
			continue;
		}
		start_job(h, free_run, job);
		/* Remove job k, keeping the order of the rest. */
		for (size_t j = k; j + 1 < h->q_len; j++)
			h->queue[(h->q_head + j) % HOOKS_MAX_QUEUED] = h->queue[(h->q_head + j + 1) % HOOKS_MAX_QUEUED];
		h->q_len--;
	}
}

/* Runs start from an idle watcher, not from the event: the event comes from inside
 * a transition (before its gratuitous ARPs go out), and spawning waits for exec. */
static void on_kick(struct ev_loop *loop, ev_idle *w, int revents)
{
	ev_idle_stop(loop, w);
	start_queued(w->data);
}

static const char *node_name(struct hooks *h)
{
	json_t *status;

	if (h->node[0] || !h->m)
		return h->node;
	status = manager_status(h->m);
	snprintf(h->node, sizeof(h->node), "%s", jstr(status, "node", ""));
	json_decref(status);
	return h->node;
}

void hooks_on_event(struct hooks *h, const json_t *event)
{
	struct hooks_job *job;

	if (!h->path[0] || strcmp(jstr(event, "event", ""), "transition") != 0)
		return;
	if (h->q_len == HOOKS_MAX_QUEUED) {
		log_err("hook %s: %d runs already queued; this transition's run is dropped", h->path,
			HOOKS_MAX_QUEUED);
		h->counts[METRICS_HOOK_DROPPED]++;
		return;
	}
	job = &h->queue[(h->q_head + h->q_len) % HOOKS_MAX_QUEUED];
	if (hooks_job_build(event, node_name(h), h->path, job) == 0) {
		h->q_len++;
		ev_idle_start(h->loop, &h->kick);
	}
}

static void on_manager_event(void *arg, json_t *event)
{
	hooks_on_event(arg, event);
}

struct hooks *hooks_new(struct ev_loop *loop, struct manager *m)
{
	struct hooks *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->loop = loop;
	h->m = m;
	h->timeout_ms = 10000;
	ev_idle_init(&h->kick, on_kick);
	h->kick.data = h;
	for (size_t i = 0; i < HOOKS_MAX_RUNNING; i++) {
		struct run *r = &h->runs[i];

		r->h = h;
		ev_init(&r->child, on_child);
		ev_init(&r->timer, on_timeout);
		r->child.data = r->timer.data = r;
	}
	if (m) {
		int rc = manager_listen(m, on_manager_event, h);

		if (rc < 0) {
			free(h);
			errno = -rc;
			return NULL;
		}
		h->listening = 1;
	}
	return h;
}

int hooks_configure(struct hooks *h, const char *path, uint32_t timeout_ms)
{
	char why[300];
	int rc;

	if (path && path[0]) {
		rc = hooks_check_path(path, why, sizeof(why));
		if (rc < 0) {
			log_err("notify_hook %s refused: %s", path, why);
			return rc;
		}
	}
	snprintf(h->path, sizeof(h->path), "%s", path ? path : "");
	h->timeout_ms = timeout_ms ? timeout_ms : 10000;
	if (h->path[0])
		log_info("notify_hook %s (timeout %u ms)", h->path, h->timeout_ms);
	return 0;
}

unsigned hooks_running(const struct hooks *h)
{
	unsigned n = 0;

	for (size_t i = 0; i < HOOKS_MAX_RUNNING; i++)
		n += (unsigned)h->runs[i].used;
	return n;
}

void hooks_get_counts(const struct hooks *h, uint64_t counts[METRICS_HOOK_MAX])
{
	memcpy(counts, h->counts, sizeof(h->counts));
}

void hooks_free(struct hooks *h, double timeout)
{
	uint64_t deadline;

	if (!h)
		return;
	if (h->listening)
		manager_unlisten(h->m, on_manager_event, h);
	ev_idle_stop(h->loop, &h->kick);
	/* Outside the loop now: reap by hand, bounded. */
	deadline = clock_mono_ms() + (uint64_t)(timeout * 1000);
	for (size_t i = 0; i < HOOKS_MAX_RUNNING; i++) {
		struct run *r = &h->runs[i];
		int status;

		if (!r->used)
			continue;
		ev_child_stop(h->loop, &r->child);
		ev_timer_stop(h->loop, &r->timer);
		while (waitpid(r->pid, &status, WNOHANG) == 0) {
			if (clock_mono_ms() >= deadline) {
				log_warn("hook %s for group=%s still running at exit: killed", h->path, r->group);
				kill(-r->pid, SIGKILL);
				waitpid(r->pid, &status, 0);
				break;
			}
			usleep(10000);
		}
	}
	if (h->q_len)
		log_warn("hook %s: %zu queued run(s) dropped at exit", h->path, h->q_len);
	free(h);
}
