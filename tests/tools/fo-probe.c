/* fo-probe: the client's view of a failover. Sends a sequence-numbered UDP datagram
 * to ADDR:PORT every I ms for D ms (fo-echo answers "NAME <payload>"), records
 * which node answered each probe and how fast, and prints one summary line:
 *
 *   sent=500 received=463 lost=37 max_gap_ms=380 gap_start_ms=1210 first_answer_ms=0
 *   last_answer_ms=4990 answered_by=node1:121,node2:342 transitions=node1->node2@1590ms
 *   rtt_min_us=38 rtt_avg_us=95 rtt_max_us=870 late=0 duplicates=0 errors=0 invalid=0
 *   skipped=0 interval_ms=10 duration_ms=5000
 *
 * All times are in ms since the first probe was sent, measured on CLOCK_MONOTONIC.
 * errors counts ICMP errors (nothing listening: the VIP is on a node without the
 * service), invalid counts answers that are not to this run, skipped counts timer
 * ticks missed because the prober was not scheduled in time (no probe is sent for
 * them, so sent can fall short of duration / interval).
 *
 * max_gap_ms is the longest span between the SEND times of two consecutive
 * answered probes (probes answered within the timeout, in sequence order); with no
 * loss it equals the interval. gap_start_ms is the send time of the last probe
 * answered before that span. If the service stopped answering between the sends of
 * probes a and a+1 and answered again from the send of probe b, the true
 * unreachable window lies in [max_gap_ms - 2 * interval, max_gap_ms]: report
 * max_gap_ms as the outage, with the interval as its resolution. Fewer than two
 * answered probes give max_gap_ms=0; an outage at the very start or end of the run
 * shows in first_answer_ms / last_answer_ms instead.
 *
 * A probe counts as answered only if its first reply arrives within --timeout-ms
 * of its send; later replies are counted as late. transitions lists every change
 * of the answering node, in sequence order, at the send time of the first probe
 * the new node answered.
 *
 * --once sends a probe every I ms until one is answered or --timeout-ms has passed
 * and prints "answered_by=NAME rtt_us=N sent=N" (exit 0) or "answered_by= sent=N"
 * (exit 1). The run is always bounded: D + timeout, or the timeout with --once.
 *
 * --epoch (not with --once) prints a second line after the summary, with the same
 * instants on the realtime clock (CLOCK_REALTIME, epoch ms with 3 decimals), so they
 * can be set beside the at_ms= of daemon logs on the same machine:
 *
 *   epoch start_ms=.. gap_last_send_ms=.. gap_first_send_ms=.. gap_first_answer_ms=..
 *   gap_first_answer_by=node2 transitions=node1->node2@<answer epoch ms>/<gap ms>,..
 *
 * gap_last_send_ms is the send of the last probe answered before the max gap
 * (gap_start_ms), gap_first_send_ms the send of the first probe answered after it,
 * and gap_first_answer_ms the moment that probe's answer arrived: the first answer
 * after the outage. transitions gives, for each change of the answering node, the
 * arrival of the first answer from the new node and, after the '/', the time in ms
 * (1 decimal) from the arrival of the answer before it (from the old node) to that
 * arrival: how long the client heard nothing around that move, even when a longer
 * gap happened elsewhere in the run. It is measured on arrivals, not sends, because
 * probes sent while the client resolves the VIP's new MAC wait in its neighbour
 * queue and are answered together once the new owner answers: their sends would
 * make the outage look shorter than it was (by up to --timeout-ms). Fields are -1
 * (by: "-") when there is no gap. Monotonic times are mapped to realtime through one
 * pair of clock reads taken at the start, so a clock step during the run is not
 * followed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define PROBE_NAME_MAX 64
#define PROBE_NAMES_MAX 32
#define PROBE_SLOTS_MAX 1000000
#define PROBE_TRANSITIONS_SHOWN 32
#define PROBE_MSG_MAX 256
#define NS_PER_MS 1000000LL

struct probe_slot {
	int64_t send_ns; /* since start; -1: not sent */
	int64_t rtt_ns;
	int who;         /* index in names, -1: unanswered */
};

struct probe_options {
	struct sockaddr_storage target;
	socklen_t target_len;
	unsigned interval_ms, duration_ms, timeout_ms;
	int once;
	int epoch; /* --epoch: print the realtime line too */
};

struct probe_run {
	struct probe_options opt;
	int fd;
	uint32_t nonce;
	int64_t start_ns; /* CLOCK_MONOTONIC of the first send */
	int64_t real_start_ns; /* CLOCK_REALTIME at start_ns */
	struct probe_slot *slots;
	size_t n_slots, sent;
	char names[PROBE_NAMES_MAX][PROBE_NAME_MAX];
	unsigned long name_count[PROBE_NAMES_MAX];
	int n_names;
	unsigned long received, late, duplicates, invalid, errors;
	unsigned long skipped; /* timer ticks missed (not scheduled in time) */
};

static int64_t probe_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t probe_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long probe_ms(int64_t ns)
{
	return (long)((ns + NS_PER_MS / 2) / NS_PER_MS);
}

static void probe_usage(FILE *out)
{
	fprintf(out, "usage: fo-probe --target ADDR --port P --interval-ms I --duration-ms D\n"
		     "                [--timeout-ms T] [--once] [--epoch]\n"
		     "Sends a numbered UDP probe every I ms for D ms and prints one summary line\n"
		     "(see the comment at the top of fo-probe.c for its fields).\n");
}

static int probe_parse_uint(const char *text, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || end == text || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int probe_parse_target(const char *text, unsigned port, struct probe_options *opt)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&opt->target;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&opt->target;

	memset(&opt->target, 0, sizeof(opt->target));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		opt->target_len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		opt->target_len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

/* Returns 0, 1 for --help, or -EINVAL after printing what is wrong. */
static int probe_parse_args(int argc, char **argv, struct probe_options *opt)
{
	static const struct option options[] = {
		{"target", required_argument, NULL, 't'},
		{"port", required_argument, NULL, 'p'},
		{"interval-ms", required_argument, NULL, 'i'},
		{"duration-ms", required_argument, NULL, 'd'},
		{"timeout-ms", required_argument, NULL, 'T'},
		{"once", no_argument, NULL, 'o'},
		{"epoch", no_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *target = NULL;
	unsigned port = 0;
	int o, bad = 0;

	*opt = (struct probe_options){.interval_ms = 0, .duration_ms = 0, .timeout_ms = 1000};
	while ((o = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (o) {
		case 't':
			target = optarg;
			break;
		case 'p':
			bad |= probe_parse_uint(optarg, 1, 65535, &port) < 0;
			break;
		case 'i':
			bad |= probe_parse_uint(optarg, 1, 60000, &opt->interval_ms) < 0;
			break;
		case 'd':
			bad |= probe_parse_uint(optarg, 1, 3600000, &opt->duration_ms) < 0;
			break;
		case 'T':
			bad |= probe_parse_uint(optarg, 1, 600000, &opt->timeout_ms) < 0;
			break;
		case 'o':
			opt->once = 1;
			break;
		case 'e':
			opt->epoch = 1;
			break;
		case 'h':
			probe_usage(stdout);
			return 1;
		default:
			bad = 1;
		}
	}
	if (opt->once && opt->interval_ms == 0)
		opt->interval_ms = 100;
	if (bad || optind != argc || !target || !port || !opt->interval_ms ||
	    (!opt->once && !opt->duration_ms) || (opt->once && opt->epoch)) {
		probe_usage(stderr);
		return -EINVAL;
	}
	if (probe_parse_target(target, port, opt) < 0) {
		fprintf(stderr, "fo-probe: bad target address '%s' (an IPv4 or IPv6 literal)\n", target);
		return -EINVAL;
	}
	return 0;
}

static int probe_open(struct probe_run *run)
{
	run->fd = socket(run->opt.target.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (run->fd < 0)
		return -errno;
	/* Connected: only answers from the target address itself count, as for a real
	 * client of the VIP, and ICMP errors are reported (counted as errors). */
	if (connect(run->fd, (struct sockaddr *)&run->opt.target, run->opt.target_len) < 0)
		return -errno;
	return 0;
}

static void probe_send(struct probe_run *run)
{
	char msg[PROBE_MSG_MAX];
	size_t seq = run->sent;
	int len, tries;

	len = snprintf(msg, sizeof(msg), "fo-probe %08" PRIx32 " %zu", run->nonce, seq);
	run->slots[seq].send_ns = probe_now_ns() - run->start_ns;
	run->sent++;
	/* A pending ICMP error is returned by the next send instead of sending: retry
	 * once so that the probe still leaves. */
	for (tries = 0; tries < 2; tries++) {
		if (send(run->fd, msg, (size_t)len, 0) == len)
			return;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		run->errors++;
	}
}

static int probe_name_index(struct probe_run *run, const char *name, size_t len)
{
	int i;

	for (i = 0; i < run->n_names; i++)
		if (strlen(run->names[i]) == len && memcmp(run->names[i], name, len) == 0)
			return i;
	if (run->n_names == PROBE_NAMES_MAX)
		return -1;
	memcpy(run->names[run->n_names], name, len);
	run->names[run->n_names][len] = '\0';
	return run->n_names++;
}

/* "NAME fo-probe NONCE SEQ" -> the answering node's index and seq; -EINVAL for
 * anything else, including answers to another run. */
static int probe_parse_reply(struct probe_run *run, char *msg, size_t len, int *who, size_t *seq)
{
	char *space, *end;
	size_t name_len, i;
	unsigned long nonce;
	unsigned long long s;

	msg[len] = '\0';
	space = memchr(msg, ' ', len);
	if (!space)
		return -EINVAL;
	name_len = (size_t)(space - msg);
	if (name_len == 0 || name_len >= PROBE_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < name_len; i++)
		if (msg[i] <= ' ' || msg[i] > '~' || msg[i] == ',' || msg[i] == ':')
			return -EINVAL;
	if (strncmp(space + 1, "fo-probe ", 9) != 0)
		return -EINVAL;
	errno = 0;
	nonce = strtoul(space + 10, &end, 16);
	if (errno || *end != ' ' || nonce != run->nonce)
		return -EINVAL;
	s = strtoull(end + 1, &end, 10);
	if (errno || *end || s >= run->sent)
		return -EINVAL;
	*who = probe_name_index(run, msg, name_len);
	if (*who < 0)
		return -EINVAL;
	*seq = (size_t)s;
	return 0;
}

static void probe_receive(struct probe_run *run)
{
	char msg[PROBE_MSG_MAX + 1];
	ssize_t n;
	int64_t now;
	size_t seq;
	int who;

	for (;;) {
		n = recv(run->fd, msg, PROBE_MSG_MAX, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			run->errors++; /* ECONNREFUSED: nothing listens on the target now */
			continue;
		}
		now = probe_now_ns() - run->start_ns;
		if (probe_parse_reply(run, msg, (size_t)n, &who, &seq) < 0) {
			run->invalid++;
			continue;
		}
		if (run->slots[seq].who >= 0) {
			run->duplicates++;
			continue;
		}
		if (now - run->slots[seq].send_ns > (int64_t)run->opt.timeout_ms * NS_PER_MS) {
			run->late++;
			continue;
		}
		run->slots[seq].who = who;
		run->slots[seq].rtt_ns = now - run->slots[seq].send_ns;
		run->name_count[who]++;
		run->received++;
	}
}

/* The first probe leaves at once, then one every interval on an absolute
 * schedule (timerfd), so a slow iteration does not shift the ones after it. */
static int probe_timer(const struct probe_run *run)
{
	struct itimerspec its = {0};
	int64_t first = run->start_ns + (int64_t)run->opt.interval_ms * NS_PER_MS;
	int tfd;

	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0)
		return -errno;
	its.it_value.tv_sec = first / 1000000000LL;
	its.it_value.tv_nsec = first % 1000000000LL;
	its.it_interval.tv_sec = run->opt.interval_ms / 1000;
	its.it_interval.tv_nsec = (long)(run->opt.interval_ms % 1000) * NS_PER_MS;
	if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
		int err = -errno;

		close(tfd);
		return err;
	}
	return tfd;
}

/* Sends one probe per timer tick until the duration is over (or, with --once, an
 * answer came or the timeout passed), then waits for answers until the last
 * probe's timeout. Ticks missed because the process was not scheduled are skipped
 * and counted, never sent in a burst, so the run never outlasts its bound.
 * Returns 0 or -errno. */
static int probe_loop(struct probe_run *run)
{
	const int64_t duration = (int64_t)run->opt.duration_ms * NS_PER_MS;
	const int64_t timeout_ns = (int64_t)run->opt.timeout_ms * NS_PER_MS;
	struct pollfd pfd[2];
	int64_t now, deadline;
	uint64_t ticks;
	int tfd, timeout, r, sending = 1;

	run->start_ns = probe_now_ns();
	run->real_start_ns = probe_real_ns();
	tfd = probe_timer(run);
	if (tfd < 0)
		return tfd;
	probe_send(run);
	pfd[0] = (struct pollfd){.fd = run->fd, .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = tfd, .events = POLLIN};
	for (;;) {
		now = probe_now_ns() - run->start_ns;
		if (sending && (run->sent == run->n_slots || (!run->opt.once && now >= duration)))
			sending = 0;
		if (run->opt.once) {
			deadline = timeout_ns;
			if (run->received > 0 || now >= deadline)
				break;
		} else {
			deadline = run->slots[run->sent - 1].send_ns + timeout_ns;
			if (!sending && (run->received == run->sent || now >= deadline))
				break;
		}
		timeout = (int)((deadline - now) / NS_PER_MS) + 1;
		if (sending && !run->opt.once)
			timeout = -1; /* the timer wakes us */
		r = poll(pfd, sending ? 2 : 1, timeout);
		if (r < 0 && errno != EINTR) {
			r = -errno;
			close(tfd);
			return r;
		}
		if (r <= 0)
			continue;
		if (pfd[0].revents & (POLLIN | POLLERR))
			probe_receive(run);
		if (sending && (pfd[1].revents & POLLIN) &&
		    read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
			run->skipped += ticks - 1;
			now = probe_now_ns() - run->start_ns;
			if (run->opt.once ? run->received == 0 : now < duration)
				probe_send(run);
		}
	}
	close(tfd);
	return 0;
}

static void probe_print_once(const struct probe_run *run)
{
	size_t i;

	for (i = 0; i < run->sent; i++) {
		if (run->slots[i].who >= 0) {
			printf("answered_by=%s rtt_us=%" PRId64 " sent=%zu\n", run->names[run->slots[i].who],
			       run->slots[i].rtt_ns / 1000, run->sent);
			return;
		}
	}
	printf("answered_by= sent=%zu\n", run->sent);
}

static void probe_print_summary(const struct probe_run *run)
{
	const struct probe_slot *s = run->slots, *prev = NULL;
	int64_t max_gap = 0, gap_start = 0, rtt_min = 0, rtt_max = 0, rtt_sum = 0;
	int64_t first = -1, last = -1;
	char transitions[PROBE_TRANSITIONS_SHOWN * (2 * PROBE_NAME_MAX + 16)] = "";
	size_t i, n_transitions = 0, used = 0;
	int k;

	for (i = 0; i < run->sent; i++) {
		if (s[i].who < 0)
			continue;
		if (first < 0)
			first = s[i].send_ns;
		last = s[i].send_ns;
		if (!prev || s[i].rtt_ns < rtt_min)
			rtt_min = s[i].rtt_ns;
		if (s[i].rtt_ns > rtt_max)
			rtt_max = s[i].rtt_ns;
		rtt_sum += s[i].rtt_ns;
		if (prev && s[i].send_ns - prev->send_ns > max_gap) {
			max_gap = s[i].send_ns - prev->send_ns;
			gap_start = prev->send_ns;
		}
		if (prev && prev->who != s[i].who) {
			if (n_transitions < PROBE_TRANSITIONS_SHOWN && used < sizeof(transitions))
				used += (size_t)snprintf(transitions + used, sizeof(transitions) - used,
							 "%s%s->%s@%ldms", used ? "," : "",
							 run->names[prev->who], run->names[s[i].who],
							 probe_ms(s[i].send_ns));
			n_transitions++;
		}
		prev = &s[i];
	}
	if (used >= sizeof(transitions))
		used = sizeof(transitions) - 1;
	if (n_transitions > PROBE_TRANSITIONS_SHOWN)
		snprintf(transitions + used, sizeof(transitions) - used, ",+%zu",
			 n_transitions - PROBE_TRANSITIONS_SHOWN);

	printf("sent=%zu received=%lu lost=%lu max_gap_ms=%ld gap_start_ms=%ld first_answer_ms=%ld "
	       "last_answer_ms=%ld answered_by=",
	       run->sent, run->received, (unsigned long)run->sent - run->received, probe_ms(max_gap),
	       probe_ms(gap_start), first < 0 ? -1L : probe_ms(first), last < 0 ? -1L : probe_ms(last));
	for (k = 0; k < run->n_names; k++)
		printf("%s%s:%lu", k ? "," : "", run->names[k], run->name_count[k]);
	printf(" transitions=%s rtt_min_us=%" PRId64 " rtt_avg_us=%" PRId64 " rtt_max_us=%" PRId64
	       " late=%lu duplicates=%lu errors=%lu invalid=%lu skipped=%lu interval_ms=%u"
	       " duration_ms=%u\n",
	       transitions, rtt_min / 1000, run->received ? rtt_sum / (int64_t)run->received / 1000 : 0,
	       rtt_max / 1000, run->late, run->duplicates, run->errors, run->invalid, run->skipped,
	       run->opt.interval_ms, run->opt.duration_ms);
}

/* Prints epoch ms with 3 decimals for a time since start (ns), or -1. */
static void probe_print_epoch_ms(const struct probe_run *run, const char *key, int64_t since_ns)
{
	int64_t us;

	if (since_ns < 0) {
		printf(" %s=-1", key);
		return;
	}
	us = (run->real_start_ns + since_ns) / 1000;
	printf(" %s=%" PRId64 ".%03" PRId64, key, us / 1000, us % 1000);
}

/* The --epoch line: see the comment at the top. */
static void probe_print_epoch(const struct probe_run *run)
{
	const struct probe_slot *s = run->slots, *prev = NULL, *before = NULL, *after = NULL;
	int64_t max_gap = 0;
	size_t i, n_transitions = 0;

	for (i = 0; i < run->sent; i++) {
		if (s[i].who < 0)
			continue;
		if (prev && s[i].send_ns - prev->send_ns > max_gap) {
			max_gap = s[i].send_ns - prev->send_ns;
			before = prev;
			after = &s[i];
		}
		prev = &s[i];
	}
	printf("epoch");
	probe_print_epoch_ms(run, "start_ms", 0);
	probe_print_epoch_ms(run, "gap_last_send_ms", before ? before->send_ns : -1);
	probe_print_epoch_ms(run, "gap_first_send_ms", after ? after->send_ns : -1);
	probe_print_epoch_ms(run, "gap_first_answer_ms", after ? after->send_ns + after->rtt_ns : -1);
	printf(" gap_first_answer_by=%s transitions=", after ? run->names[after->who] : "-");
	prev = NULL;
	for (i = 0; i < run->sent; i++) {
		if (s[i].who < 0)
			continue;
		if (prev && prev->who != s[i].who && n_transitions++ < PROBE_TRANSITIONS_SHOWN) {
			int64_t arrival = s[i].send_ns + s[i].rtt_ns;
			int64_t us = (run->real_start_ns + arrival) / 1000;
			int64_t silent_us = (arrival - (prev->send_ns + prev->rtt_ns)) / 1000;

			if (silent_us < 0) /* answers crossed: no silence at all */
				silent_us = 0;
			printf("%s%s->%s@%" PRId64 ".%03" PRId64 "/%" PRId64 ".%" PRId64,
			       n_transitions > 1 ? "," : "", run->names[prev->who], run->names[s[i].who],
			       us / 1000, us % 1000, silent_us / 1000, (silent_us % 1000) / 100);
		}
		prev = &s[i];
	}
	if (n_transitions > PROBE_TRANSITIONS_SHOWN)
		printf(",+%zu", n_transitions - PROBE_TRANSITIONS_SHOWN);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct probe_run run = {.fd = -1};
	unsigned span;
	size_t i;
	int r;

	r = probe_parse_args(argc, argv, &run.opt);
	if (r)
		return r > 0 ? 0 : 2;
	span = run.opt.once ? run.opt.timeout_ms : run.opt.duration_ms;
	run.n_slots = (span + run.opt.interval_ms - 1) / run.opt.interval_ms;
	if (run.opt.once)
		run.n_slots++; /* one at 0 and one per interval up to the timeout */
	if (run.n_slots > PROBE_SLOTS_MAX) {
		fprintf(stderr, "fo-probe: more than %d probes; raise the interval\n", PROBE_SLOTS_MAX);
		return 2;
	}
	run.slots = calloc(run.n_slots, sizeof(*run.slots));
	if (!run.slots) {
		perror("fo-probe: calloc");
		return 1;
	}
	for (i = 0; i < run.n_slots; i++)
		run.slots[i] = (struct probe_slot){.send_ns = -1, .who = -1};
	if (getrandom(&run.nonce, sizeof(run.nonce), 0) != sizeof(run.nonce))
		run.nonce = (uint32_t)getpid() ^ (uint32_t)probe_now_ns();

	r = probe_open(&run);
	if (r == 0)
		r = probe_loop(&run);
	if (r < 0) {
		fprintf(stderr, "fo-probe: %s\n", strerror(-r));
		free(run.slots);
		return 1;
	}
	if (run.opt.once)
		probe_print_once(&run);
	else
		probe_print_summary(&run);
	if (run.opt.epoch)
		probe_print_epoch(&run);
	fflush(stdout);
	close(run.fd);
	free(run.slots);
	return run.opt.once && run.received == 0 ? 1 : 0;
}
