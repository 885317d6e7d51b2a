#include "check_process.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads a small file whole (at most size - 1 bytes), NUL-terminated. */
static int read_small(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

static int comm_of(long pid, char *comm, size_t size)
{
	char path[64];
	int n;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	n = read_small(path, comm, size);
	if (n < 0)
		return n;
	comm[strcspn(comm, "\n")] = '\0';
	return 0;
}

static long count_by_name(const char *name)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	char comm[32];
	long found = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		if (comm_of(pid, comm, sizeof(comm)) == 0 && strcmp(comm, name) == 0)
			found++;
	}
	closedir(dir);
	return found;
}

static void by_pidfile(struct hc_check *c)
{
	const struct hc_check_conf *conf = c->conf;
	char buf[32], comm[32] = "?";
	char *end;
	long pid;
	int rc = read_small(conf->pidfile, buf, sizeof(buf));

	if (rc < 0) {
		engine_check_done(c, HC_RESULT_FAIL, "%s: %s", conf->pidfile, strerror(-rc));
		return;
	}
	errno = 0;
	pid = strtol(buf, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (end == buf || *end || errno || pid <= 0 || pid > 4194304) {
		engine_check_done(c, HC_RESULT_FAIL, "%s holds no pid", conf->pidfile);
		return;
	}
	/* EPERM: alive, but another user's (the agent runs unprivileged) */
	if (kill((pid_t)pid, 0) < 0 && errno != EPERM) {
		engine_check_done(c, HC_RESULT_FAIL, "pid %ld from %s is not running", pid, conf->pidfile);
		return;
	}
	if (conf->process_name && (comm_of(pid, comm, sizeof(comm)) < 0 || strcmp(comm, conf->process_name))) {
		engine_check_done(c, HC_RESULT_FAIL, "pid %ld from %s is '%s', not '%s'", pid, conf->pidfile, comm,
				  conf->process_name);
		return;
	}
	engine_check_pass(c);
}

static void process_start(struct hc_check *c)
{
	long n;

	if (c->conf->pidfile) {
		by_pidfile(c);
		return;
	}
	n = count_by_name(c->conf->process_name);
	if (n < 0)
		engine_check_done(c, HC_RESULT_FAIL, "/proc: %s", strerror((int)-n));
	else if (n == 0)
		engine_check_done(c, HC_RESULT_FAIL, "no process named '%s'", c->conf->process_name);
	else
		engine_check_pass(c);
}

static int process_init(struct hc_check *c)
{
	return 0;
}

static void process_cancel(struct hc_check *c)
{
}

static void process_free(struct hc_check *c)
{
}

const struct check_kind check_process_kind = {
	.name = "process",
	.init = process_init,
	.start = process_start,
	.cancel = process_cancel,
	.free = process_free,
};
