/* vip-tool: drives fomgr's vip module from a libev loop for the integration tests,
 * and listens for ARP / neighbour advertisements on a peer to check what went out
 * on the wire.
 *
 *   vip-tool add|del ADDR/PREFIX IFNAME [ADDR/PREFIX IFNAME ...] [--free-in-callback]
 *       all requests in flight at once; --free-in-callback frees the vip from the first
 *       completion (the others must complete with -ECANCELED)
 *   vip-tool announce ADDR/PREFIX IFNAME [--count N] [--interval-ms M]
 *   vip-tool present ADDR/PREFIX IFNAME       exit 0 present, 1 absent
 *   vip-tool list
 *   vip-tool probe ADDR/PREFIX IFNAME [--timeout-ms N]    prints answered|nobody
 *   vip-tool bench ADDR/PREFIX IFNAME [--count N]         add/del round trips
 *   vip-tool listen-arp|listen-na IFNAME [ADDR] [--timeout-ms N] [--count N]
 *       prints ARP packets with ADDR as sender or target / NAs for target ADDR
 *
 * Exit status: 0 success, 1 a negative answer (absent), 2 an error. */
#include "vip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <netinet/icmp6.h>
#include <netinet/if_ether.h>
#include <netinet/ip6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ADDRS 256

struct opts {
	int free_in_callback; /* add/del: vip_free() from the first completion */
	unsigned count;
	unsigned interval_ms;
	unsigned timeout_ms;
};

struct op_state {
	struct vip_addr addr;
	const char *verb;
	uint64_t start_us;
	int *outstanding;
	int *failures;
};

static struct ev_loop *loop;
static struct vip *the_vip;
static int free_in_callback;

static uint64_t clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int parse_uint(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v > 1000000)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* Strips --count/--interval-ms/--timeout-ms from argv; returns remaining argc. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		unsigned *dst = NULL;

		if (strcmp(argv[i], "--free-in-callback") == 0) {
			o->free_in_callback = 1;
			continue;
		}
		if (strcmp(argv[i], "--count") == 0)
			dst = &o->count;
		else if (strcmp(argv[i], "--interval-ms") == 0)
			dst = &o->interval_ms;
		else if (strcmp(argv[i], "--timeout-ms") == 0)
			dst = &o->timeout_ms;
		if (!dst) {
			argv[n++] = argv[i];
			continue;
		}
		if (i + 1 >= argc || parse_uint(argv[++i], dst) < 0) {
			fprintf(stderr, "vip-tool: bad value for %s\n", argv[i - 1]);
			return -1;
		}
	}
	return n;
}

static int parse_addr(struct vip_addr *a, const char *addr, const char *ifname)
{
	if (vip_addr_parse(a, addr, ifname) < 0) {
		fprintf(stderr, "vip-tool: bad address '%s' dev '%s'\n", addr, ifname);
		return -1;
	}
	return 0;
}

/* ---- add / del ---- */

static void op_done(void *arg, int error)
{
	struct op_state *st = arg;
	char buf[VIP_ADDR_STR_MAX];
	uint64_t took = clock_mono_us() - st->start_us;

	if (error < 0) {
		printf("%s %s error=%d (%s) took_us=%llu\n", st->verb,
		       vip_addr_str(&st->addr, buf, sizeof(buf)), error, strerror(-error),
		       (unsigned long long)took);
		(*st->failures)++;
	} else {
		printf("%s %s ok took_us=%llu\n", st->verb, vip_addr_str(&st->addr, buf, sizeof(buf)),
		       (unsigned long long)took);
	}
	if (free_in_callback && the_vip) {
		struct vip *vip = the_vip;

		the_vip = NULL; /* the rest must complete with -ECANCELED */
		vip_free(vip);
	}
	if (--*st->outstanding == 0)
		ev_break(loop, EVBREAK_ALL);
}

static int cmd_addel(struct vip *vip, const char *verb, int argc, char **argv)
{
	struct op_state st[MAX_ADDRS];
	int i, n = argc / 2, outstanding = 0, failures = 0, err;

	if (argc < 2 || argc % 2 || n > MAX_ADDRS)
		return -1;
	for (i = 0; i < n; i++) {
		struct vip_addr a;

		if (parse_addr(&a, argv[2 * i], argv[2 * i + 1]) < 0)
			return 2;
		st[i] = (struct op_state){ a, verb, 0, &outstanding, &failures };
	}
	for (i = 0; i < n; i++) {
		st[i].start_us = clock_mono_us();
		if (strcmp(verb, "add") == 0)
			err = vip_add(vip, &st[i].addr, op_done, &st[i]);
		else
			err = vip_del(vip, &st[i].addr, op_done, &st[i]);
		if (err < 0) {
			printf("%s %s refused error=%d (%s)\n", verb, argv[2 * i], err, strerror(-err));
			failures++;
			continue;
		}
		outstanding++;
	}
	if (outstanding)
		ev_run(loop, 0);
	return failures ? 2 : 0;
}

/* ---- announce ---- */

struct announce_state {
	struct vip *vip;
	struct vip_addr addr;
	unsigned left;
	int failures;
	ev_timer timer;
};

static void announce_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	struct announce_state *st = w->data;
	int err = vip_announce(st->vip, &st->addr);

	if (err < 0) {
		fprintf(stderr, "vip-tool: announce: %s\n", strerror(-err));
		st->failures++;
	}
	if (--st->left == 0) {
		ev_timer_stop(l, w);
		ev_break(l, EVBREAK_ALL); /* the vip's netlink watcher keeps the loop alive */
	}
}

static int cmd_announce(struct vip *vip, int argc, char **argv, const struct opts *o)
{
	struct announce_state st = { .vip = vip, .left = o->count ? o->count : 1 };
	struct vip_stats stats;
	double interval = (o->interval_ms ? o->interval_ms : 100) / 1000.0;

	if (argc != 2)
		return -1;
	if (parse_addr(&st.addr, argv[0], argv[1]) < 0)
		return 2;
	ev_timer_init(&st.timer, announce_cb, 0., interval);
	st.timer.data = &st;
	ev_timer_start(loop, &st.timer);
	ev_run(loop, 0);
	vip_get_stats(vip, &stats);
	printf("announce garp_sent=%llu na_sent=%llu errors=%llu\n",
	       (unsigned long long)stats.garp_sent, (unsigned long long)stats.na_sent,
	       (unsigned long long)stats.announce_errors);
	return st.failures ? 2 : 0;
}

/* ---- present / list ---- */

static int cmd_present(struct vip *vip, int argc, char **argv)
{
	struct vip_addr a;
	int r;

	if (argc != 2)
		return -1;
	if (parse_addr(&a, argv[0], argv[1]) < 0)
		return 2;
	r = vip_present(vip, &a);
	if (r < 0) {
		fprintf(stderr, "vip-tool: present: %s\n", strerror(-r));
		return 2;
	}
	printf("%s\n", r ? "present" : "absent");
	return r ? 0 : 1;
}

static int cmd_list(struct vip *vip, int argc)
{
	struct vip_addr out[64];
	char buf[VIP_ADDR_STR_MAX];
	int i, n;

	if (argc != 0)
		return -1;
	n = vip_list_labelled(vip, out, 64);
	if (n < 0) {
		fprintf(stderr, "vip-tool: list: %s\n", strerror(-n));
		return 2;
	}
	for (i = 0; i < n && i < 64; i++)
		printf("%s\n", vip_addr_str(&out[i], buf, sizeof(buf)));
	return 0;
}

/* ---- probe ---- */

static void probe_done(void *arg, int result)
{
	int *out = arg;

	*out = result;
	ev_break(loop, EVBREAK_ALL);
}

static int cmd_probe(struct vip *vip, int argc, char **argv, const struct opts *o)
{
	struct vip_addr a;
	int result = -EINPROGRESS, err;
	uint64_t start = clock_mono_us();

	if (argc != 2)
		return -1;
	if (parse_addr(&a, argv[0], argv[1]) < 0)
		return 2;
	err = vip_probe_arp(vip, &a, o->timeout_ms ? o->timeout_ms : 1000, probe_done, &result);
	if (err == 0)
		ev_run(loop, 0);
	else
		result = err;
	if (result < 0) {
		fprintf(stderr, "vip-tool: probe: %s\n", strerror(-result));
		return 2;
	}
	printf("%s took_us=%llu\n", result ? "answered" : "nobody",
	       (unsigned long long)(clock_mono_us() - start));
	return 0;
}

/* ---- bench: add/del round trips, call to completion ---- */

struct bench_state {
	struct vip *vip;
	struct vip_addr addr;
	unsigned left;
	int adding, error;
	uint64_t start, *samples;
	unsigned nsamples;
};

static void bench_step(struct bench_state *st);

static void bench_done(void *arg, int error)
{
	struct bench_state *st = arg;

	st->samples[st->nsamples++] = clock_mono_us() - st->start;
	if (error < 0 || --st->left == 0) {
		st->error = error;
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	bench_step(st);
}

static void bench_step(struct bench_state *st)
{
	int err;

	st->adding = !st->adding;
	st->start = clock_mono_us();
	err = st->adding ? vip_add(st->vip, &st->addr, bench_done, st)
			 : vip_del(st->vip, &st->addr, bench_done, st);
	if (err < 0) {
		st->error = err;
		ev_break(loop, EVBREAK_ALL);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmd_bench(struct vip *vip, int argc, char **argv, const struct opts *o)
{
	struct bench_state st = { .vip = vip, .left = o->count ? o->count * 2 : 200 };
	uint64_t samples[2 * 1000];

	if (argc != 2 || st.left > 2 * 1000)
		return -1;
	if (parse_addr(&st.addr, argv[0], argv[1]) < 0)
		return 2;
	st.samples = samples;
	bench_step(&st);
	ev_run(loop, 0);
	if (st.error < 0 || st.nsamples == 0) {
		fprintf(stderr, "vip-tool: bench: %s\n", strerror(-st.error));
		return 2;
	}
	qsort(samples, st.nsamples, sizeof(samples[0]), cmp_u64);
	printf("bench ops=%u min_us=%llu median_us=%llu p99_us=%llu max_us=%llu\n", st.nsamples,
	       (unsigned long long)samples[0], (unsigned long long)samples[st.nsamples / 2],
	       (unsigned long long)samples[st.nsamples * 99 / 100],
	       (unsigned long long)samples[st.nsamples - 1]);
	return 0;
}

/* ---- listeners (run on the peer) ---- */

struct listen_state {
	int fd;
	int ipv6;
	int filter; /* only packets about addr */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	unsigned left;
	unsigned seen;
	ev_io io;
	ev_timer timer;
};

static const char *mac_str(const unsigned char *m, char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static int print_arp(const struct listen_state *st, const unsigned char *pkt, ssize_t len)
{
	struct ether_arp arp;
	char sha[18], tha[18], spa[INET_ADDRSTRLEN], tpa[INET_ADDRSTRLEN];

	if (len < (ssize_t)sizeof(arp))
		return 0;
	memcpy(&arp, pkt, sizeof(arp));
	if (st->filter && memcmp(arp.arp_spa, &st->addr.v4, 4) != 0 &&
	    memcmp(arp.arp_tpa, &st->addr.v4, 4) != 0)
		return 0;
	inet_ntop(AF_INET, arp.arp_spa, spa, sizeof(spa));
	inet_ntop(AF_INET, arp.arp_tpa, tpa, sizeof(tpa));
	printf("arp op=%s sha=%s spa=%s tha=%s tpa=%s\n",
	       ntohs(arp.arp_op) == ARPOP_REQUEST ? "request" : "reply",
	       mac_str(arp.arp_sha, sha, sizeof(sha)), spa,
	       mac_str(arp.arp_tha, tha, sizeof(tha)), tpa);
	return 1;
}

static void na_flags(uint32_t flags, char *buf)
{
	buf[0] = '\0';
	if (flags & ND_NA_FLAG_ROUTER)
		strcat(buf, "R");
	if (flags & ND_NA_FLAG_SOLICITED)
		strcat(buf, "S");
	if (flags & ND_NA_FLAG_OVERRIDE)
		strcat(buf, "O");
	if (!buf[0])
		strcat(buf, "-");
}

/* Prints a neighbour advertisement carried directly by IPv6 (no extension headers). */
static int print_na(const struct listen_state *st, const unsigned char *pkt, ssize_t len)
{
	struct ip6_hdr ip6;
	struct nd_neighbor_advert na;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], tgt[INET6_ADDRSTRLEN], mac[18],
		flags[4];
	const unsigned char *opt = pkt + sizeof(ip6) + sizeof(na);

	if (len < (ssize_t)(sizeof(ip6) + sizeof(na)))
		return 0;
	memcpy(&ip6, pkt, sizeof(ip6));
	memcpy(&na, pkt + sizeof(ip6), sizeof(na));
	if (ip6.ip6_nxt != IPPROTO_ICMPV6 || na.nd_na_type != ND_NEIGHBOR_ADVERT)
		return 0;
	if (st->filter && memcmp(&na.nd_na_target, &st->addr.v6, 16) != 0)
		return 0;
	na_flags(na.nd_na_flags_reserved, flags);
	strcpy(mac, "none");
	if (len >= (ssize_t)(sizeof(ip6) + sizeof(na) + 8) && opt[0] == ND_OPT_TARGET_LINKADDR &&
	    opt[1] == 1)
		mac_str(opt + 2, mac, sizeof(mac));
	printf("na src=%s dst=%s hlim=%u target=%s flags=%s tlla=%s\n",
	       inet_ntop(AF_INET6, &ip6.ip6_src, src, sizeof(src)),
	       inet_ntop(AF_INET6, &ip6.ip6_dst, dst, sizeof(dst)), ip6.ip6_hlim,
	       inet_ntop(AF_INET6, &na.nd_na_target, tgt, sizeof(tgt)), flags, mac);
	return 1;
}

static void listen_io_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct listen_state *st = w->data;
	unsigned char pkt[2048];
	struct sockaddr_ll from;
	socklen_t fromlen = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(st->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &fromlen)) >= 0) {
		fromlen = sizeof(from);
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (!(st->ipv6 ? print_na(st, pkt, n) : print_arp(st, pkt, n)))
			continue;
		fflush(stdout);
		st->seen++;
		if (st->left && --st->left == 0) {
			ev_break(l, EVBREAK_ALL);
			return;
		}
	}
}

static void listen_timer_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	ev_break(l, EVBREAK_ALL);
}

static int listen_socket(const char *ifname, int proto)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(proto) };
	int fd;

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (sll.sll_ifindex == 0)
		return -1;
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(proto));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int cmd_listen(int ipv6, int argc, char **argv, const struct opts *o)
{
	struct listen_state st = { .ipv6 = ipv6, .left = o->count, .filter = argc == 2 };

	if (argc != 1 && argc != 2)
		return -1;
	if (st.filter && inet_pton(ipv6 ? AF_INET6 : AF_INET, argv[1], &st.addr) != 1) {
		fprintf(stderr, "vip-tool: bad address '%s'\n", argv[1]);
		return 2;
	}
	st.fd = listen_socket(argv[0], ipv6 ? ETH_P_IPV6 : ETH_P_ARP);
	if (st.fd < 0) {
		fprintf(stderr, "vip-tool: listen on %s: %s\n", argv[0], strerror(errno));
		return 2;
	}
	ev_io_init(&st.io, listen_io_cb, st.fd, EV_READ);
	st.io.data = &st;
	ev_io_start(loop, &st.io);
	ev_timer_init(&st.timer, listen_timer_cb, (o->timeout_ms ? o->timeout_ms : 3000) / 1000.0, 0.);
	ev_timer_start(loop, &st.timer);
	printf("listening %s\n", argv[0]);
	fflush(stdout);
	ev_run(loop, 0);
	close(st.fd);
	printf("seen=%u\n", st.seen);
	return 0;
}

/* ---- main ---- */

static int usage(void)
{
	fprintf(stderr, "usage: vip-tool add|del|announce|present|list|probe|bench|listen-arp|"
			"listen-na ARGS (see the source's header)\n");
	return 2;
}

static int run(struct vip *vip, const char *cmd, int argc, char **argv, const struct opts *o)
{
	if (strcmp(cmd, "add") == 0 || strcmp(cmd, "del") == 0)
		return cmd_addel(vip, cmd, argc, argv);
	if (strcmp(cmd, "announce") == 0)
		return cmd_announce(vip, argc, argv, o);
	if (strcmp(cmd, "present") == 0)
		return cmd_present(vip, argc, argv);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(vip, argc);
	if (strcmp(cmd, "probe") == 0)
		return cmd_probe(vip, argc, argv, o);
	if (strcmp(cmd, "bench") == 0)
		return cmd_bench(vip, argc, argv, o);
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct vip *vip;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	argc = parse_opts(argc - 1, argv + 1, &o);
	if (argc < 1)
		return usage();
	loop = ev_default_loop(0);
	if (strcmp(argv[1], "listen-arp") == 0 || strcmp(argv[1], "listen-na") == 0) {
		rc = cmd_listen(strcmp(argv[1], "listen-na") == 0, argc - 1, argv + 2, &o);
		return rc < 0 ? usage() : rc;
	}
	vip = the_vip = vip_new(loop);
	if (!vip) {
		fprintf(stderr, "vip-tool: vip_new: %s\n", strerror(errno));
		return 2;
	}
	free_in_callback = o.free_in_callback;
	rc = run(vip, argv[1], argc - 1, argv + 2, &o);
	vip_free(the_vip);
	ev_loop_destroy(loop);
	return rc < 0 ? usage() : rc;
}
