#include "knetwatch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fo/clock.h"
#include "fo/sockfilter.h"

#define SNAP_BYTES 128u  /* IPv4 with options (60) or IPv6 (40), and UDP's 8 */
#define BATCH_MAX 256    /* datagrams read per wake-up */

int knetwatch_parse(const void *packet, size_t len, uint16_t port, struct knetwatch_src *out)
{
	const unsigned char *p = packet;

	if (len < 1)
		return -EINVAL;
	if (p[0] >> 4 == 4) {
		size_t ihl = (size_t)(p[0] & 0x0f) * 4;
		if (ihl < 20 || len < ihl + 4 || p[9] != IPPROTO_UDP || ((p[6] << 8 | p[7]) & 0x1fff))
			return -EINVAL;
		if ((p[ihl + 2] << 8 | p[ihl + 3]) != port)
			return -EINVAL;
		out->family = AF_INET;
		memcpy(&out->addr.v4, p + 12, 4);
		return 0;
	}
	if (p[0] >> 4 == 6) {
		if (len < 40 + 4 || p[6] != IPPROTO_UDP || (p[42] << 8 | p[43]) != port)
			return -EINVAL;
		out->family = AF_INET6;
		memcpy(&out->addr.v6, p + 8, 16);
		return 0;
	}
	return -EINVAL;
}

int knetwatch_filter_build(uint16_t port, struct sock_filter *out, size_t max)
{
	/* Offsets are from the network header (a SOCK_DGRAM packet socket); the jump
	 * targets are the indexes in the comments. */
	const struct sock_filter prog[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 15, 0),     /* -> 17 */
		/* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL)),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 1, 0),             /* -> 5 */
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 7, 12),          /* -> 12, 17 */
		/* 5 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 10),         /* -> 17 */
		/* 7 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		/* 8 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 8, 0),              /* later fragment -> 17 */
		/* 9 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		/* 10 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
		/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 4, 5),                /* -> 16, 17 */
		/* 12 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),
		/* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 3),         /* -> 17 */
		/* 14 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 42),
		/* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),                /* -> 16, 17 */
		/* 16 */ BPF_STMT(BPF_RET | BPF_K, SNAP_BYTES),
		/* 17 */ BPF_STMT(BPF_RET | BPF_K, 0),
	};
	size_t n = sizeof(prog) / sizeof(prog[0]);

	if (n > max)
		return -ENOSPC;
	memcpy(out, prog, sizeof(prog));
	return (int)n;
}

uint32_t knetwatch_timeout_ms(uint32_t token_ms, uint32_t ping_interval_ms)
{
	uint32_t t = token_ms ? token_ms : 1000u;

	return ping_interval_ms && 3 * ping_interval_ms > t ? 3 * ping_interval_ms : t;
}

int knetwatch_link_up(int corosync_connected, uint64_t heard_us, uint64_t now_us, uint32_t timeout_ms)
{
	if (!corosync_connected || !heard_us)
		return corosync_connected;
	return now_us < heard_us || now_us - heard_us <= 1000ull * timeout_ms;
}

/* ---- the socket ---- */

struct watched {
	uint32_t nodeid;
	size_t n;
	struct knetwatch_src addrs[4];
	uint64_t heard_us;
};

struct knetwatch {
	struct ev_loop *loop;
	ev_io io;
	int fd;
	uint16_t port; /* 0 until set: the drop-all filter */
	size_t n;
	struct watched peers[CONFIG_MAX_NODES];
};

static int same_src(const struct knetwatch_src *a, const struct knetwatch_src *b)
{
	if (a->family != b->family)
		return 0;
	return a->family == AF_INET ? a->addr.v4.s_addr == b->addr.v4.s_addr
				    : memcmp(&a->addr.v6, &b->addr.v6, sizeof(a->addr.v6)) == 0;
}

static void heard(struct knetwatch *w, const struct knetwatch_src *src, uint64_t now)
{
	for (size_t i = 0; i < w->n; i++)
		for (size_t k = 0; k < w->peers[i].n; k++)
			if (same_src(&w->peers[i].addrs[k], src)) {
				w->peers[i].heard_us = now;
				return;
			}
}

static void on_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct knetwatch *w = io->data;
	unsigned char buf[SNAP_BYTES];
	uint64_t now = clock_mono_us();

	(void)loop;
	(void)revents;
	for (int i = 0; i < BATCH_MAX; i++) {
		struct knetwatch_src src;
		ssize_t n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0)
			break;
		if (w->port && knetwatch_parse(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf), w->port, &src) == 0)
			heard(w, &src, now);
	}
}

struct knetwatch *knetwatch_new(struct ev_loop *loop)
{
	static const struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	struct knetwatch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return NULL;
	/* protocol 0 (nothing queues) until the drop-all filter is on, then bound */
	w->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	err = w->fd < 0 ? -errno : sockfilter_attach(w->fd, &drop, 1);
	if (err == 0 && bind(w->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		err = -errno;
	if (err < 0) {
		if (w->fd >= 0)
			close(w->fd);
		free(w);
		errno = -err;
		return NULL;
	}
	w->loop = loop;
	ev_io_init(&w->io, on_readable, w->fd, EV_READ);
	w->io.data = w;
	ev_io_start(loop, &w->io);
	return w;
}

void knetwatch_free(struct knetwatch *w)
{
	if (!w)
		return;
	ev_io_stop(w->loop, &w->io);
	close(w->fd);
	free(w);
}

int knetwatch_set(struct knetwatch *w, uint16_t port, const struct knetwatch_peer *peers, size_t n)
{
	struct watched next[CONFIG_MAX_NODES];
	size_t m = 0;

	if (!w)
		return -EINVAL;
	for (size_t i = 0; i < n && m < CONFIG_MAX_NODES; i++) {
		struct watched *p = &next[m++];
		*p = (struct watched){.nodeid = peers[i].nodeid};
		for (size_t k = 0; k < peers[i].n_addrs && k < 4 && p->n < 4; k++) {
			struct knetwatch_src *s = &p->addrs[p->n];
			const char *a = peers[i].addrs[k];
			if (inet_pton(AF_INET, a, &s->addr.v4) == 1)
				s->family = AF_INET;
			else if (inet_pton(AF_INET6, a, &s->addr.v6) == 1)
				s->family = AF_INET6;
			else
				continue; /* a host name: not resolved here (no lookup on the loop) */
			p->n++;
		}
		/* what was heard of it stays: the same node at the same addresses */
		for (size_t j = 0; j < w->n; j++)
			if (w->peers[j].nodeid == p->nodeid && w->peers[j].n == p->n &&
			    memcmp(w->peers[j].addrs, p->addrs, p->n * sizeof(p->addrs[0])) == 0)
				p->heard_us = w->peers[j].heard_us;
	}
	memcpy(w->peers, next, m * sizeof(next[0]));
	w->n = m;
	if (port && port != w->port) {
		struct sock_filter code[KNETWATCH_FILTER_INSNS];
		int len = knetwatch_filter_build(port, code, KNETWATCH_FILTER_INSNS);
		int err = len < 0 ? len : sockfilter_attach(w->fd, code, (size_t)len);
		if (err < 0)
			return err;
		w->port = port;
	}
	return 0;
}

uint64_t knetwatch_heard_us(const struct knetwatch *w, uint32_t nodeid)
{
	for (size_t i = 0; w && i < w->n; i++)
		if (w->peers[i].nodeid == nodeid)
			return w->peers[i].heard_us;
	return 0;
}
