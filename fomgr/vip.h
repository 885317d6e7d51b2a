/* Virtual IP addresses on this node's interfaces: add and delete them with
 * asynchronous rtnetlink requests inside the event loop, announce a move with a
 * gratuitous ARP or an unsolicited neighbour advertisement, and read back what the
 * kernel holds. It decides nothing and logs nothing: the caller does both. */
#ifndef FOMGR_VIP_H
#define FOMGR_VIP_H

#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct vip;

struct vip_addr {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	unsigned prefixlen;
	char ifname[IF_NAMESIZE];
};

/* The label suffix that marks fomgr's own IPv4 addresses ("eth0:fo"). */
#define VIP_LABEL_SUFFIX ":fo"
/* A request the kernel has not answered by then completes with -ETIMEDOUT. */
#define VIP_REQUEST_TIMEOUT_MS 5000
/* Enough for "ffff:...:ffff/128 dev <ifname>". */
#define VIP_ADDR_STR_MAX (INET6_ADDRSTRLEN + 5 + 5 + IF_NAMESIZE)

/* Completion of vip_add()/vip_del(): error is 0 or a negative errno. Called from the
 * loop, never from inside vip_add()/vip_del(); -ECANCELED when vip_free() drops the
 * request. The callback may start new requests and may call vip_free(). */
typedef void (*vip_done_fn)(void *arg, int error);
/* Completion of vip_probe_arp(): 1 someone answered for the address, 0 nobody did
 * within the time, or a negative errno. */
typedef void (*vip_probe_fn)(void *arg, int result);

struct vip_stats {
	uint64_t requests;       /* add and delete requests sent */
	uint64_t netlink_errors; /* requests that failed (after the idempotence rules) */
	uint64_t garp_sent;
	uint64_t na_sent;
	uint64_t announce_errors;
	uint64_t probes_sent;
};

/* Opens the rtnetlink socket and watches it on loop. NULL on failure (errno set). */
struct vip *vip_new(struct ev_loop *loop);
/* Cancels pending requests and probes (their callbacks get -ECANCELED). Accepts NULL. */
void vip_free(struct vip *vip);

/* Asynchronous: 0 when the request is sent, then done(arg, error) once. An address
 * already present counts as added (adopted). IPv4 gets the label "<ifname>:fo"
 * (truncated to fit IFNAMSIZ), IPv6 is added without DAD. */
int vip_add(struct vip *vip, const struct vip_addr *a, vip_done_fn done, void *arg);
/* Asynchronous: an address (or interface) already gone counts as deleted. */
int vip_del(struct vip *vip, const struct vip_addr *a, vip_done_fn done, void *arg);

/* Sends one gratuitous ARP (IPv4) or one unsolicited neighbour advertisement to
 * ff02::1 with the override flag (IPv6; the address must be on the interface). Never
 * blocks. The caller schedules the burst. */
int vip_announce(struct vip *vip, const struct vip_addr *a);

/* RFC 5227 probe (IPv4 only): an ARP request from 0.0.0.0 for the address, then
 * listens on the interface for timeout_ms for anyone else answering for it. */
int vip_probe_arp(struct vip *vip, const struct vip_addr *a, unsigned timeout_ms,
		  vip_probe_fn done, void *arg);

/* Synchronous dumps, for start-up reconcile and tests, never for the failover path.
 * vip_present: 1 present, 0 absent, or a negative errno. */
int vip_present(struct vip *vip, const struct vip_addr *a);
/* Fills out with up to max IPv4 addresses labelled as fomgr's; returns how many
 * there are (may exceed max) or a negative errno. */
int vip_list_labelled(struct vip *vip, struct vip_addr *out, size_t max);

void vip_get_stats(const struct vip *vip, struct vip_stats *stats);

/* The interface's Ethernet address (what this node's GARP and NA carry). 0,
 * -ENODEV, or -EOPNOTSUPP for an interface that is not Ethernet. */
int vip_link_mac(struct vip *vip, const char *ifname, unsigned char mac[ETH_ALEN]);

/* "192.0.2.100/24 dev eth0"; returns buf. */
const char *vip_addr_str(const struct vip_addr *a, char *buf, size_t size);
/* Parses "ADDR/PREFIX" and an interface name into a; 0 or -EINVAL. */
int vip_addr_parse(struct vip_addr *a, const char *addr_prefix, const char *ifname);

#endif
