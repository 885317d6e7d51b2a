/* VIP conflict detection: watches ARP and IPv6 neighbour advertisements for the
 * configured addresses (packet sockets with classic BPF filters, so only frames
 * about those addresses wake the loop) and the kernel's address notifications
 * (a group's address in this node's kernel that fomgr does not claim here).
 * Whether a frame is a conflict is conflict_judge(), a pure function; the owner
 * of the watcher (the manager) logs, counts, audits and resolves. */
#ifndef FOMGR_CONFLICT_H
#define FOMGR_CONFLICT_H

#include <jansson.h>
#include <net/ethernet.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "vip.h"

struct ev_loop;
struct sock_filter;
struct conflict;

/* Addresses per family the kernel filter names one by one; with more, every ARP
 * packet (or every NA) wakes the loop and the address is matched here. */
#define CONFLICT_FILTER_MAX 256
/* Instructions conflict_filter_build() may need for CONFLICT_FILTER_MAX addresses. */
#define CONFLICT_FILTER_INSNS (9 + 9 * CONFLICT_FILTER_MAX + 1)
/* A conflict stays one episode (one log line, one audit record, one count) while
 * conflicting frames keep coming at most this long apart; the status warning
 * lasts as long. */
#define CONFLICT_QUIET_MS 30000

enum conflict_source { CONFLICT_SRC_ARP, CONFLICT_SRC_NA, CONFLICT_SRC_KERNEL, CONFLICT_SRC_MAX };

/* Who claims which address, as one frame (or one kernel notification) says. */
struct conflict_frame {
	enum conflict_source source;
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;                      /* ARP sender address, NA target address */
	unsigned char mac[ETH_ALEN]; /* ARP sender hardware address, NA target link-layer
				      * address option (else the Ethernet source) */
};

/* Parses one Ethernet frame as a SOCK_RAW packet socket reads it: an ARP packet
 * (IPv4 over Ethernet, request or reply) with a sender address, or an ICMPv6
 * neighbour advertisement. 0, or -EINVAL for anything else or anything malformed.
 * An ARP probe (sender 0.0.0.0) claims no address: -EINVAL. */
int conflict_parse_frame(const void *frame, size_t len, struct conflict_frame *out);

/* What this node is for one group when a frame about its address arrives. */
struct conflict_role {
	int owner;  /* placement gives the group to this node */
	int held;   /* its addresses are up here (transition state held) */
	int claims; /* fomgr wants, holds or still releases them here */
	char owner_name[CONFIG_NAME_MAX]; /* "none" when placement gives it to nobody */
};

enum conflict_verdict {
	CONFLICT_NONE,
	CONFLICT_FOREIGN, /* another MAC claims an address this node owns and holds: re-announce */
	CONFLICT_LOCAL,   /* this node has (or answers for) an address fomgr does not claim here: delete */
	CONFLICT_VERDICT_MAX
};
const char *conflict_verdict_str(enum conflict_verdict v);
const char *conflict_source_str(enum conflict_source s);

/* The decision, for a frame already known to be about the group's address on its
 * interface. local_mac is that interface's MAC. Only the owner that holds the
 * group judges other MACs (it alone knows the rightful MAC: its own), so the old
 * owner's last answers during a switchover, before the new one has the addresses
 * up, are no conflict; our own MAC for an address we claim is none either. */
enum conflict_verdict conflict_judge(const struct conflict_frame *f, const unsigned char local_mac[ETH_ALEN],
				     const struct conflict_role *role);

/* The classic BPF program for one packet socket: family AF_INET accepts ARP
 * packets whose sender is one of addrs, AF_INET6 ICMPv6 neighbour advertisements
 * whose target is one of addrs (addrs of other families are skipped). Beyond
 * CONFLICT_FILTER_MAX addresses it accepts every ARP packet / every NA. Returns
 * the number of instructions written to out (max >= CONFLICT_FILTER_INSNS), or
 * -ENOSPC. Pure. */
int conflict_filter_build(int family, const struct vip_addr *addrs, size_t n, struct sock_filter *out, size_t max);

/* One judged frame that is a conflict, as the watcher reports it. */
struct conflict_event {
	const char *group;
	struct vip_addr addr; /* what to delete for CONFLICT_LOCAL (the kernel's prefix length) */
	unsigned char mac[ETH_ALEN];
	enum conflict_verdict verdict;
	enum conflict_source source;
	const char *owner;
	int first; /* the first of its episode: log, count and audit it; resolve every one */
};

/* The role of this node for a group; 0, or -ENOENT for an unknown group. */
typedef int (*conflict_role_fn)(void *arg, const char *group, struct conflict_role *out);
typedef void (*conflict_event_fn)(void *arg, const struct conflict_event *ev);

struct conflict_stats {
	uint64_t conflicts; /* episodes */
	uint64_t frames;    /* frames the kernel filter let through */
	uint64_t conflicting_frames;
	uint64_t removals;        /* stray addresses deleted here */
	uint64_t removal_errors;
};

/* Opens the packet sockets (CAP_NET_RAW) and the address-notification socket and
 * watches them on loop; nothing is watched before conflict_set_config(). NULL with
 * errno on failure. */
struct conflict *conflict_new(struct ev_loop *loop, struct vip *vip, conflict_role_fn role, conflict_event_fn event,
			      void *arg);
void conflict_free(struct conflict *c);
/* The groups' addresses to watch; the config must outlive the watcher or be
 * replaced with this call. Swaps the kernel filters. 0 or -errno. */
int conflict_set_config(struct conflict *c, const struct config *config);

/* Deletes a stray address (CONFLICT_LOCAL) asynchronously and logs the outcome
 * with the time from detection. 0 or -errno (not sent). */
int conflict_remove(struct conflict *c, const struct conflict_event *ev);

/* The record the audit log keeps for an event; the caller owns it. */
json_t *conflict_event_json(const struct conflict_event *ev, const char *action);
/* "02:00:00:00:00:01" into buf (at least 18 bytes); returns buf. */
const char *conflict_mac_str(const unsigned char mac[ETH_ALEN], char *buf, size_t size);

/* Adds a "vip-conflict: ..." warning per episode still in force to the status
 * document's "warnings" and counters.vip_conflicts. */
void conflict_status_json(const struct conflict *c, json_t *status);
void conflict_get_stats(const struct conflict *c, struct conflict_stats *stats);

#endif
