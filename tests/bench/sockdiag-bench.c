/* Benchmark of sockdiag against `ss -tuna`, driven by sockdiag-bench.sh inside a
 * network namespace of its own.
 *
 *   sockdiag-bench hold SOCKETS      open about SOCKETS sockets on loopback (4 TCP
 *                                    listeners, 8 UDP sockets, established pairs to
 *                                    127.0.0.1-4), print "ready", hold them until killed
 *   sockdiag-bench measure RUNS [SS] run each operation RUNS times, each run in a fresh
 *                                    child process (as ss runs), and print a table
 *   sockdiag-bench op NAME           one operation, in-call time on stdout (internal)
 *
 * Every run is a process so that our figures and ss's count the same things: wall
 * time from fork to exit, and the child's peak RSS from wait4() (what /usr/bin/time
 * %M reports). The in-call column is the library call alone. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fo/sockdiag.h"

#define TCP_PORTS 4
#define UDP_SOCKETS 8
#define DESTS 4 /* 127.0.0.1 .. 127.0.0.4: spreads client ports over 16 tuples */
#define BASE_TCP_PORT 8001
#define BASE_UDP_PORT 9001
#define MAX_RUNS 100
#define VIP "127.0.0.2"

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *what)
{
	fprintf(stderr, "sockdiag-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- hold ---- */

static void no_linger(int fd)
{
	/* Closing sends RST: no TIME_WAIT left behind for the next phase to count. */
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static int open_bound(int type, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	int one = 1, fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("bind");
	if (type == SOCK_STREAM && listen(fd, 4096) < 0)
		die("listen");
	return fd;
}

static void open_pair(int lfd, uint16_t port, int dest)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), afd;

	if (fd < 0)
		die("socket (raise ulimit -n)");
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK + (uint32_t)dest);
	no_linger(fd);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("connect");
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (afd < 0)
		die("accept");
	no_linger(afd);
}

static _Noreturn void wait_forever(void)
{
	for (;;)
		pause();
}

/* Raises the soft descriptor limit to the hard one; returns the pairs one process
 * can hold (two descriptors each, some left for the rest). */
static long pairs_per_process(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit");
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1000000)
		rl.rlim_cur = 1000000;
	return ((long)rl.rlim_cur - 64) / 2;
}

/* A worker opens pairs [first, first + count) and tells the parent over ready_fd.
 * It dies with the parent (PR_SET_PDEATHSIG), so killing the holder ends them all. */
static void worker(const int *lfd, long first, long count, int ready_fd, pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	for (long i = first; i < first + count; i++) {
		int port = (int)(i % TCP_PORTS), dest = (int)((i / TCP_PORTS) % DESTS);
		open_pair(lfd[port], (uint16_t)(BASE_TCP_PORT + port), dest);
	}
	/* The listeners stay the holder's alone, as in a server that accepts and hands off. */
	for (int i = 0; i < TCP_PORTS; i++)
		close(lfd[i]);
	if (write(ready_fd, "1", 1) != 1)
		_exit(1);
	close(ready_fd);
	wait_forever();
}

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	stopping = 1;
}

static void stop_workers(const pid_t *pids, long n)
{
	for (long i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (long i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
}

/* Holds until SIGTERM or SIGINT, then ends the workers and reaps them, so that every
 * socket is closed when the holder's exit is seen. */
static int hold_until_stopped(const pid_t *pids, long n)
{
	struct sigaction sa = {.sa_handler = on_term};
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stopping)
		sigsuspend(&old);
	stop_workers(pids, n);
	return 0;
}

/* Pairs are spread over worker processes when the descriptor limit (which this
 * process may not raise) is below the socket count. */
static int hold(long sockets)
{
	int lfd[TCP_PORTS], ready[2];
	long pairs = (sockets - TCP_PORTS - UDP_SOCKETS) / 2, per = pairs_per_process(), workers = 0;
	pid_t parent = getpid(), *pids;
	char c;

	if (pairs < 0)
		pairs = 0;
	pids = calloc((size_t)(pairs / per + 1), sizeof(*pids));
	if (!pids)
		die("calloc");
	for (int i = 0; i < TCP_PORTS; i++)
		lfd[i] = open_bound(SOCK_STREAM, (uint16_t)(BASE_TCP_PORT + i));
	if (pipe(ready) < 0)
		die("pipe");
	for (long first = 0; first < pairs; first += per) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0)
			worker(lfd, first, pairs - first < per ? pairs - first : per, ready[1], parent);
		pids[workers++] = pid;
	}
	close(ready[1]);
	for (int i = 0; i < UDP_SOCKETS; i++)
		open_bound(SOCK_DGRAM, (uint16_t)(BASE_UDP_PORT + i));
	for (long i = 0; i < workers; i++) {
		if (read(ready[0], &c, 1) != 1) {
			fprintf(stderr, "sockdiag-bench: a worker failed\n");
			stop_workers(pids, workers);
			return 1;
		}
	}
	printf("ready listeners=%d udp=%d connections=%ld sockets=%ld processes=%ld\n", TCP_PORTS, UDP_SOCKETS,
	       pairs, TCP_PORTS + UDP_SOCKETS + 2 * pairs, workers + 1);
	fflush(stdout);
	hold_until_stopped(pids, workers);
	free(pids);
	return 0;
}

/* ---- one operation, in a child ---- */

static struct sockaddr_storage vip_addr(void)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	sin->sin_family = AF_INET;
	inet_pton(AF_INET, VIP, &sin->sin_addr);
	return ss;
}

static int op_listeners(struct sockdiag_owners *owners, char *note, size_t size)
{
	struct sockdiag_snapshot *snap;
	size_t owned = 0;
	int rc = sockdiag_listeners(owners, &snap);

	if (rc)
		return rc;
	for (size_t i = 0; i < snap->n; i++)
		owned += snap->listeners[i].pid != 0;
	snprintf(note, size, "%zu listeners, %zu with owner", snap->n, owned);
	sockdiag_snapshot_free(snap);
	return 0;
}

static int op_counts(char *note, size_t size)
{
	struct sockdiag_conn_counts *cc;
	int rc = sockdiag_conn_counts(&cc);

	if (rc)
		return rc;
	snprintf(note, size, "%zu ports, %" PRIu64 " established, %" PRIu64 " syn_recv", cc->n_ports,
		 cc->established, cc->syn_recv);
	sockdiag_conn_counts_free(cc);
	return 0;
}

static int op_local(char *note, size_t size)
{
	struct sockaddr_storage vip = vip_addr();
	uint64_t total;
	int rc = sockdiag_count_established_local(&vip, 1, NULL, &total);

	if (!rc)
		snprintf(note, size, "%" PRIu64 " established on " VIP, total);
	return rc;
}

static int op_run(const char *name, struct sockdiag_owners *owners, char *note, size_t size)
{
	char discard[128];
	int rc;

	if (!strcmp(name, "noop"))
		return 0;
	if (!strcmp(name, "listeners"))
		return op_listeners(NULL, note, size);
	if (!strcmp(name, "owners-cold") || !strcmp(name, "owners-warm"))
		return op_listeners(owners, note, size);
	if (!strcmp(name, "conn-counts"))
		return op_counts(note, size);
	if (!strcmp(name, "count-local"))
		return op_local(note, size);
	if (!strcmp(name, "audit")) {
		/* What a transition runs: listeners with owners, connections on the VIP. */
		rc = op_listeners(owners, note, size);
		return rc ? rc : op_local(discard, sizeof(discard));
	}
	return -EINVAL;
}

/* Runs the named operation once (after the warm-up it needs) and prints
 * "<in-call us> <note>". */
static int op(const char *name)
{
	struct sockdiag_owners *owners = sockdiag_owners_new();
	char note[128] = "", discard[128];
	uint64_t t0;
	int rc = 0;

	if (!owners)
		return 1;
	if (!strcmp(name, "owners-warm") || !strcmp(name, "audit"))
		rc = op_listeners(owners, discard, sizeof(discard));
	t0 = now_us();
	if (!rc)
		rc = op_run(name, owners, note, sizeof(note));
	printf("%" PRIu64 " %s\n", now_us() - t0, note);
	sockdiag_owners_free(owners);
	if (rc)
		fprintf(stderr, "sockdiag-bench: %s: %s\n", name, strerror(-rc));
	return rc ? 1 : 0;
}

/* ---- measure ---- */

struct run {
	uint64_t wall_us;
	uint64_t call_us; /* 0 for ss */
	long maxrss_kb;
	char note[128];
};

/* Runs argv as a child; its stdout goes to a pipe (read into r) or to /dev/null. */
static int spawn(char *const argv[], bool capture, struct run *r)
{
	struct rusage ru;
	int pfd[2], status;
	uint64_t t0 = now_us();
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int out = capture ? pfd[1] : open("/dev/null", O_WRONLY);
		dup2(out, STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	if (capture) {
		char buf[256] = "";
		ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		r->note[0] = '\0';
		sscanf(buf, "%" SCNu64 " %127[^\n]", &r->call_us, r->note);
	}
	close(pfd[0]);
	if (wait4(pid, &status, 0, &ru) < 0)
		return -errno;
	r->wall_us = now_us() - t0;
	r->maxrss_kb = ru.ru_maxrss;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	uint64_t min, median;
};

static struct stats stats_of(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return (struct stats){v[0], n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2};
}

static int measure_one(const char *label, char *const argv[], bool ours, int runs, long base_rss)
{
	uint64_t wall[MAX_RUNS], call[MAX_RUNS];
	long rss = 0;
	struct run r = {0};
	struct stats w, c;

	for (int i = 0; i < runs; i++) {
		int rc = spawn(argv, ours, &r);
		if (rc) {
			fprintf(stderr, "sockdiag-bench: %s failed: %s\n", label, strerror(-rc));
			return rc;
		}
		wall[i] = r.wall_us;
		call[i] = r.call_us;
		rss = r.maxrss_kb > rss ? r.maxrss_kb : rss;
	}
	w = stats_of(wall, runs);
	c = stats_of(call, runs);
	if (ours)
		printf("%-22s %9.2f %9.2f %9.2f %9.2f %9ld %9ld   %s\n", label, c.min / 1e3, c.median / 1e3,
		       w.min / 1e3, w.median / 1e3, rss, rss - base_rss, r.note);
	else
		printf("%-22s %9s %9s %9.2f %9.2f %9ld %9s   %s\n", label, "-", "-", w.min / 1e3, w.median / 1e3,
		       rss, "-", argv[0]);
	return 0;
}

static int measure(int runs, const char *ss)
{
	static const char *const ops[] = {"listeners", "owners-cold", "owners-warm", "conn-counts",
					  "count-local", "audit"};
	char self[] = "/proc/self/exe";
	char *noop[] = {self, "op", "noop", NULL};
	char *ss_argv[] = {(char *)ss, "-tuna", NULL};
	struct run base;
	int rc = 0;

	if (runs < 1 || runs > MAX_RUNS)
		return 1;
	if (spawn(noop, true, &base))
		return 1;
	printf("%-22s %9s %9s %9s %9s %9s %9s   %s\n", "operation", "call.min", "call.med", "proc.min",
	       "proc.med", "maxrssKB", "deltaKB", "result");
	printf("%-22s %9s %9s %9s %9s %9ld %9s\n", "(empty process)", "", "", "", "", base.maxrss_kb, "0");
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && !rc; i++) {
		char *argv[] = {self, "op", (char *)ops[i], NULL};
		rc = measure_one(ops[i], argv, true, runs, base.maxrss_kb);
	}
	if (!rc)
		rc = measure_one("ss -tuna", ss_argv, false, runs, 0);
	printf("(times in ms; call = the library call alone, proc = fork to exit of the whole process)\n");
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 3 && !strcmp(argv[1], "hold"))
		return hold(strtol(argv[2], NULL, 10));
	if (argc >= 3 && !strcmp(argv[1], "op"))
		return op(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "measure"))
		return measure(atoi(argv[2]), argc >= 4 ? argv[3] : "/usr/bin/ss");
	fprintf(stderr, "usage: sockdiag-bench hold SOCKETS | measure RUNS [SS] | op NAME\n");
	return 2;
}
