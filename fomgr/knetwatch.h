/* Knet watch: when each peer's corosync traffic last reached this node, seen by a
 * packet socket (knet's UDP datagrams to our port, matched by source address).
 *
 * Why: corosync turns IPC off for every service but votequorum while it
 * synchronizes a membership, and a bridge partition can keep it synchronizing for
 * ever (each ring it forms is torn down before the sync ends). The ring watch's cmap
 * readings then stop, and the link states it read last may be from before knet
 * called a link down (knet took 0.8-2 s with a 400 ms ping timeout in the lab,
 * totem formed the first ring at 1.1 s): the pair watch saw the lost peer's link up
 * for good and never withdrew (lab 12, 3 runs of 13). This watch is the pair
 * watch's own reading while corosync is silent: a peer not heard from for longer
 * than knetwatch_timeout_ms() has no link. It only ever turns a link down, never up,
 * and only for a peer it has heard at least once (one whose traffic it cannot see,
 * on another port or interface, is left as corosync said).
 *
 * The parser, the filter and the decision are pure; the socket is the loop's. */
#ifndef FOMGR_KNETWATCH_H
#define FOMGR_KNETWATCH_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct ev_loop;
struct sock_filter;
struct knetwatch;

/* Instructions knetwatch_filter_build() needs. */
#define KNETWATCH_FILTER_INSNS 20

/* The source of one datagram. */
struct knetwatch_src {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
};

/* Parses one packet as a SOCK_DGRAM packet socket reads it (from the network
 * header on): an IPv4 datagram that is not a later fragment, or an IPv6 datagram
 * without extension headers, carrying UDP to port (host order). 0 and the source,
 * or -EINVAL. */
int knetwatch_parse(const void *packet, size_t len, uint16_t port, struct knetwatch_src *out);

/* The classic BPF program for that socket: incoming UDP to port over IPv4 or IPv6,
 * the headers only. The number of instructions, or -ENOSPC. */
int knetwatch_filter_build(uint16_t port, struct sock_filter *out, size_t max);

/* How long a peer may go unheard before its link counts as down: knet pings every
 * peer each ping interval, link up or down; the token, and at least three
 * intervals. ping_interval_ms 0: not configured (knet's default is under the
 * token). */
uint32_t knetwatch_timeout_ms(uint32_t token_ms, uint32_t ping_interval_ms);

/* The link state the pair watch gets: corosync's reading, down when the peer was
 * heard once (heard_us != 0) and not since timeout_ms before now. */
int knetwatch_link_up(int corosync_connected, uint64_t heard_us, uint64_t now_us, uint32_t timeout_ms);

/* NULL (errno set) when the socket cannot be made (no CAP_NET_RAW): the pair watch
 * then has corosync's readings alone, as before. */
struct knetwatch *knetwatch_new(struct ev_loop *loop);
void knetwatch_free(struct knetwatch *w);
/* The port and each peer's addresses (text, as corosync's nodelist has them);
 * unchanged input changes nothing, a new port reattaches the filter. */
struct knetwatch_peer {
	uint32_t nodeid;
	size_t n_addrs;
	const char *addrs[4];
};
int knetwatch_set(struct knetwatch *w, uint16_t port, const struct knetwatch_peer *peers, size_t n);
/* When nodeid was last heard (monotonic us), 0: never. */
uint64_t knetwatch_heard_us(const struct knetwatch *w, uint32_t nodeid);

#endif
