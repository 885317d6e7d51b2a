/* Notify hooks: the keepalived-style arguments and FOMGR_* environment built from
 * a transition event, which files may run, and real runs in the default loop
 * (arguments and environment seen by the child, the timeout, order per group). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "hooks.h"

static json_t *event(const char *action, int ok)
{
	return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:s?, s:f, s:I}", "event", "transition", "seq",
			 (json_int_t)42, "group", "web", "action", action, "from", "node1", "to", "node2", "reason",
			 "switchover", "ok", ok, "error", ok ? NULL : "File exists", "took_ms", 12.5, "at_ms",
			 (json_int_t)1700000000123);
}

static const char *env_of(const struct hooks_job *job, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < job->n_env; i++)
		if (strncmp(job->env[i], name, n) == 0 && job->env[i][n] == '=')
			return job->env[i] + n + 1;
	return NULL;
}

static void job_from_events(void **state)
{
	struct hooks_job job;
	json_t *ev = event("acquire", 1);

	assert_int_equal(hooks_job_build(ev, "node2", "/etc/fomgr/notify", &job), 0);
	assert_string_equal(job.path, "/etc/fomgr/notify");
	assert_string_equal(job.args[0], "/etc/fomgr/notify");
	assert_string_equal(job.args[1], "INSTANCE");
	assert_string_equal(job.args[2], "web");
	assert_string_equal(job.args[3], "MASTER");
	assert_string_equal(job.args[4], "100");
	assert_string_equal(env_of(&job, "FOMGR_EVENT"), "transition");
	assert_string_equal(env_of(&job, "FOMGR_GROUP"), "web");
	assert_string_equal(env_of(&job, "FOMGR_NODE"), "node2");
	assert_string_equal(env_of(&job, "FOMGR_OLD_STATE"), "BACKUP");
	assert_string_equal(env_of(&job, "FOMGR_NEW_STATE"), "MASTER");
	assert_string_equal(env_of(&job, "FOMGR_REASON"), "switchover");
	assert_string_equal(env_of(&job, "FOMGR_SEQ"), "42");
	assert_string_equal(env_of(&job, "FOMGR_TIME_MS"), "1700000000123");
	assert_string_equal(env_of(&job, "FOMGR_TOOK_MS"), "12.5");
	assert_string_equal(env_of(&job, "FOMGR_FROM"), "node1");
	assert_null(env_of(&job, "FOMGR_ERROR"));
	assert_non_null(env_of(&job, "PATH"));
	assert_null(env_of(&job, "HOME")); /* nothing of fomgr's own environment */
	json_decref(ev);

	ev = event("release", 1);
	assert_int_equal(hooks_job_build(ev, "node1", "/x", &job), 0);
	assert_string_equal(job.args[3], "BACKUP");
	assert_string_equal(job.args[4], "0");
	assert_string_equal(env_of(&job, "FOMGR_OLD_STATE"), "MASTER");
	json_decref(ev);

	ev = event("acquire", 0);
	assert_int_equal(hooks_job_build(ev, NULL, "/x", &job), 0);
	assert_string_equal(job.args[3], "FAULT");
	assert_string_equal(env_of(&job, "FOMGR_ERROR"), "File exists");
	assert_string_equal(env_of(&job, "FOMGR_NODE"), "");
	json_decref(ev);

	ev = json_pack("{s:s, s:I}", "event", "admin", "epoch", (json_int_t)3);
	assert_int_equal(hooks_job_build(ev, "n", "/x", &job), -EINVAL);
	json_decref(ev);
	ev = json_pack("{s:s, s:s}", "event", "transition", "action", "dance");
	assert_int_equal(hooks_job_build(ev, "n", "/x", &job), -EINVAL);
	json_decref(ev);
}

struct dir {
	char path[64];
};

static void write_script(const char *path, const char *body, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static int dir_setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	snprintf(d->path, sizeof(d->path), "/tmp/test_hooks.XXXXXX");
	assert_non_null(mkdtemp(d->path));
	*state = d;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", d->path);
	assert_int_equal(system(cmd), 0);
	free(d);
	return 0;
}

static void path_rules(void **state)
{
	struct dir *d = *state;
	char p[200], sub[128], link[200], why[300];

	snprintf(p, sizeof(p), "%s/ok.sh", d->path);
	write_script(p, "exit 0", 0755);
	/* /tmp itself is world-writable (sticky): a hook may not live under it */
	assert_int_equal(hooks_check_path(p, why, sizeof(why)), -EPERM);
	assert_string_equal(why, "directory /tmp can be changed by others than root");
	assert_int_equal(hooks_check_path("relative", why, sizeof(why)), -EINVAL);
	assert_int_equal(hooks_check_path("/nonexistent/hook", why, sizeof(why)), -ENOENT);
	/* Under a directory of our own, the file's own rules: */
	if (geteuid() != 0)
		return; /* the rest needs a directory only root may write: /run */
	snprintf(sub, sizeof(sub), "/run/test_hooks.%d", (int)getpid());
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(p, sizeof(p), "%s/ok.sh", sub);
	write_script(p, "exit 0", 0755);
	{
		struct stat st;

		assert_int_equal(stat("/run", &st), 0);
		if (!(st.st_mode & 022)) {
			assert_int_equal(hooks_check_path(p, why, sizeof(why)), 0);
			chmod(p, 0775);
			assert_int_equal(hooks_check_path(p, why, sizeof(why)), -EPERM);
			assert_string_equal(why, "writable by others than root (owner uid 0, mode 0775)");
			chmod(p, 0644);
			assert_int_equal(hooks_check_path(p, why, sizeof(why)), -EACCES);
			assert_string_equal(why, "not executable");
			chmod(p, 0755);
			assert_int_equal(chown(p, 65534, 0), 0);
			assert_int_equal(hooks_check_path(p, why, sizeof(why)), -EPERM);
			assert_int_equal(chown(p, 0, 0), 0);
			snprintf(link, sizeof(link), "%s/link", sub);
			assert_int_equal(symlink(p, link), 0);
			assert_int_equal(hooks_check_path(link, why, sizeof(why)), 0);
			assert_int_equal(hooks_check_path(sub, why, sizeof(why)), -EINVAL);
			assert_string_equal(why, "not a regular file");
			unlink(link);
		}
	}
	unlink(p);
	rmdir(sub);
}

/* ---- real runs: needs a directory only root can write, so root only ---- */

struct runfix {
	char dir[128];
	struct hooks *h;
	struct ev_loop *loop;
};

static int run_setup(void **state)
{
	struct runfix *f = calloc(1, sizeof(*f));

	if (geteuid() != 0) {
		free(f);
		*state = NULL;
		return 0;
	}
	snprintf(f->dir, sizeof(f->dir), "/run/test_hooks_run.%d", (int)getpid());
	assert_int_equal(mkdir(f->dir, 0755), 0);
	f->loop = ev_default_loop(0);
	f->h = hooks_new(f->loop, NULL);
	assert_non_null(f->h);
	*state = f;
	return 0;
}

static int run_teardown(void **state)
{
	struct runfix *f = *state;
	char cmd[200];

	if (!f)
		return 0;
	hooks_free(f->h, 1.0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void run_until_idle(struct runfix *f, double max_s)
{
	ev_tstamp end = ev_time() + max_s;

	do {
		ev_run(f->loop, EVRUN_ONCE | EVRUN_NOWAIT);
		usleep(2000);
	} while ((hooks_running(f->h) || ev_time() < end - max_s + 0.05) && ev_time() < end);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (!fp)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void runs_with_args_and_env(void **state)
{
	struct runfix *f = *state;
	char hook[200], out[200], body[512];
	uint64_t counts[METRICS_HOOK_MAX];
	json_t *ev;

	if (!f)
		skip();
	snprintf(hook, sizeof(hook), "%s/notify", f->dir);
	snprintf(out, sizeof(out), "%s/out", f->dir);
	snprintf(body, sizeof(body),
		 "echo \"$# $1 $2 $3 $4 $FOMGR_GROUP $FOMGR_OLD_STATE>$FOMGR_NEW_STATE $FOMGR_REASON $FOMGR_SEQ "
		 "fd3=$(test -e /proc/self/fd/3 && echo open || echo closed)\" >> %s",
		 out);
	write_script(hook, body, 0755);
	assert_int_equal(hooks_configure(f->h, hook, 5000), 0);
	ev = event("acquire", 1);
	hooks_on_event(f->h, ev);
	json_decref(ev);
	run_until_idle(f, 5);
	assert_string_equal(slurp(out), "4 INSTANCE web MASTER 100 web BACKUP>MASTER switchover 42 fd3=closed\n");
	hooks_get_counts(f->h, counts);
	assert_int_equal(counts[METRICS_HOOK_OK], 1);
}

static void timeout_kills(void **state)
{
	struct runfix *f = *state;
	char hook[200];
	uint64_t counts[METRICS_HOOK_MAX];
	json_t *ev;
	ev_tstamp start;

	if (!f)
		skip();
	snprintf(hook, sizeof(hook), "%s/slow", f->dir);
	write_script(hook, "trap '' TERM; sleep 30", 0755); /* ignores TERM: KILL follows */
	assert_int_equal(hooks_configure(f->h, hook, 200), 0);
	ev = event("release", 1);
	start = ev_time();
	hooks_on_event(f->h, ev);
	json_decref(ev);
	run_until_idle(f, 10);
	hooks_get_counts(f->h, counts);
	assert_int_equal(counts[METRICS_HOOK_TIMEOUT], 1);
	assert_int_equal(hooks_running(f->h), 0);
	assert_true(ev_time() - start < 0.2 + HOOKS_KILL_GRACE + 1.0);
}

static void one_at_a_time_per_group(void **state)
{
	struct runfix *f = *state;
	char hook[200], out[200], body[512];
	json_t *ev;

	if (!f)
		skip();
	snprintf(hook, sizeof(hook), "%s/order", f->dir);
	snprintf(out, sizeof(out), "%s/order.out", f->dir);
	/* The first run is slow: the second must still come after it. */
	snprintf(body, sizeof(body), "[ \"$FOMGR_SEQ\" = 1 ] && sleep 0.3; echo \"$FOMGR_SEQ $3\" >> %s", out);
	write_script(hook, body, 0755);
	assert_int_equal(hooks_configure(f->h, hook, 5000), 0);
	for (int i = 1; i <= 3; i++) {
		ev = event(i % 2 ? "acquire" : "release", 1);
		json_object_set_new(ev, "seq", json_integer(i));
		hooks_on_event(f->h, ev);
		json_decref(ev);
	}
	run_until_idle(f, 5);
	run_until_idle(f, 5);
	assert_string_equal(slurp(out), "1 MASTER\n2 BACKUP\n3 MASTER\n");
}

static void unsafe_hook_refused(void **state)
{
	struct runfix *f = *state;
	char hook[200];

	if (!f)
		skip();
	snprintf(hook, sizeof(hook), "%s/bad", f->dir);
	write_script(hook, "exit 0", 0777);
	assert_int_equal(hooks_configure(f->h, hook, 1000), -EPERM);
	/* The running hook changed since it was configured: refused at run time. */
	write_script(hook, "exit 0", 0755);
	assert_int_equal(hooks_configure(f->h, hook, 1000), 0);
	chmod(hook, 0757);
	{
		uint64_t counts[METRICS_HOOK_MAX];
		json_t *ev = event("acquire", 1);

		hooks_on_event(f->h, ev);
		json_decref(ev);
		run_until_idle(f, 1);
		hooks_get_counts(f->h, counts);
		assert_int_equal(counts[METRICS_HOOK_REFUSED], 1);
		assert_int_equal(counts[METRICS_HOOK_OK], 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(job_from_events),
		cmocka_unit_test_setup_teardown(path_rules, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(runs_with_args_and_env, run_setup, run_teardown),
		cmocka_unit_test_setup_teardown(timeout_kills, run_setup, run_teardown),
		cmocka_unit_test_setup_teardown(one_at_a_time_per_group, run_setup, run_teardown),
		cmocka_unit_test_setup_teardown(unsafe_hook_refused, run_setup, run_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
