/* Socket snapshots of this network namespace through NETLINK_SOCK_DIAG (inet_diag):
 * listening sockets and their owners (fomgr's port audit), connection counts per
 * listening port and on given local addresses (the agent's connection volume, the
 * connections a VIP move cuts), and the kernel's listen-queue overflow counters.
 *
 * Raw NETLINK_SOCK_DIAG with inet_diag_req_v2 rather than libnl-idiag: libnl builds a
 * heap object per socket and cannot send a bytecode filter, while here each reply is
 * read in place from one 64 KiB buffer, so a pass over 100,000 sockets allocates
 * nothing per socket (memory stays flat), and counting on an address runs the
 * kernel's own filter. A bigger socket buffer does not help: the kernel hands a dump
 * over in batches of at most 32 KiB, one per recvmsg().
 * Every call opens and closes its own netlink socket and keeps no state, except the
 * owner cache the caller holds. Returns are 0 or a negative errno. */
#ifndef FO_SOCKDIAG_H
#define FO_SOCKDIAG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define SOCKDIAG_MAX_LISTENERS 65536	/* listeners kept in one snapshot */
#define SOCKDIAG_MAX_LOCAL_ADDRS 256	/* addresses in one count_established_local (a group's, CONFIG_MAX_ADDRS) */
#define SOCKDIAG_COMM_LEN 16		/* as the kernel's TASK_COMM_LEN */

union sockdiag_addr {
	struct in_addr v4;
	struct in6_addr v6;
};

/* A TCP socket in LISTEN, or a bound unconnected UDP socket. */
struct sockdiag_listener {
	int proto;			/* IPPROTO_TCP or IPPROTO_UDP */
	int family;			/* AF_INET or AF_INET6 */
	union sockdiag_addr addr;	/* local address; any-address when unbound */
	uint16_t port;			/* host order */
	bool v6only;			/* AF_INET6 only: IPV6_V6ONLY set */
	uint32_t ifindex;		/* SO_BINDTODEVICE, 0 when none */
	uint32_t inode;
	uint32_t uid;
	uint32_t rqueue;		/* TCP: accept queue now; UDP: bytes queued */
	uint32_t backlog;		/* TCP: accept queue max; UDP: 0 */
	pid_t pid;			/* owner, 0 when not looked up or not found */
	char comm[SOCKDIAG_COMM_LEN];	/* owner's name, "" with pid 0 */
};

struct sockdiag_snapshot {
	size_t n;
	bool truncated;			/* more than SOCKDIAG_MAX_LISTENERS; the rest left out */
	struct sockdiag_listener *listeners; /* sorted by proto, port, family, address */
};

/* Cache of socket inode -> owning process. Finding owners means reading every
 * /proc/PID/fd link, the slow part of a snapshot (and only complete for processes
 * the caller may inspect: root, or CAP_SYS_PTRACE). A cached owner is re-checked with
 * one readlink; /proc is scanned again only when a listener's owner is unknown or
 * stale, and the scan stops once every listener is placed. */
struct sockdiag_owners;

/* Returns a new, empty cache the caller frees with sockdiag_owners_free(), or NULL. */
struct sockdiag_owners *sockdiag_owners_new(void);
void sockdiag_owners_free(struct sockdiag_owners *owners);

/* Snapshots TCP listeners and bound UDP sockets, IPv4 and IPv6. With owners non-NULL
 * also finds each socket's process (through and into that cache); with NULL, pid is
 * 0. On success *out is the caller's, freed with sockdiag_snapshot_free(). */
int sockdiag_listeners(struct sockdiag_owners *owners, struct sockdiag_snapshot **out);
void sockdiag_snapshot_free(struct sockdiag_snapshot *snap);

struct sockdiag_port_count {
	uint16_t port;			/* a TCP listening port, host order */
	uint32_t listeners;		/* sockets listening on it (addresses, families) */
	uint32_t accept_queue;		/* sum of the listeners' accept queues now */
	uint32_t backlog;		/* sum of their maximums */
	uint32_t established;		/* ESTABLISHED with this local port */
	uint32_t syn_recv;		/* half-open: SYN_RECV with this local port */
};

struct sockdiag_conn_counts {
	uint64_t established;		/* every ESTABLISHED TCP socket, outgoing ones too */
	uint64_t syn_recv;
	bool truncated;			/* listeners beyond SOCKDIAG_MAX_LISTENERS not counted */
	size_t n_ports;
	struct sockdiag_port_count *ports; /* sorted by port */
};

/* Counts TCP connections per local listening port (any address, both families) and
 * in total. On success *out is the caller's, freed with sockdiag_conn_counts_free(). */
int sockdiag_conn_counts(struct sockdiag_conn_counts **out);
void sockdiag_conn_counts_free(struct sockdiag_conn_counts *counts);

/* Finds a port's entry in counts; NULL when the port does not listen. */
const struct sockdiag_port_count *sockdiag_port_find(const struct sockdiag_conn_counts *counts,
						       uint16_t port);

/* Counts ESTABLISHED TCP sockets whose local address is one of addrs (AF_INET or
 * AF_INET6; ports ignored), through the kernel's bytecode filter. An IPv4 address
 * also matches IPv4-mapped IPv6 sockets (connections accepted by a dual-stack
 * listener). counts, if non-NULL, has n entries and gets each address's count; total,
 * if non-NULL, gets the number of matching sockets. -E2BIG beyond
 * SOCKDIAG_MAX_LOCAL_ADDRS, -EAFNOSUPPORT for another family. */
int sockdiag_count_established_local(const struct sockaddr_storage *addrs, size_t n,
				     uint32_t *counts, uint64_t *total);

/* Listen-queue overflow counters of /proc/net/netstat (TcpExt), since boot. */
struct sockdiag_overflows {
	uint64_t listen_overflows;	/* accept queue full */
	uint64_t listen_drops;		/* every SYN or ACK dropped at a listener */
};

/* Parses /proc/net/netstat text (NUL-terminated). -EINVAL if either counter is
 * missing or malformed. */
int sockdiag_parse_netstat(const char *text, struct sockdiag_overflows *out);
/* Reads /proc/net/netstat of this namespace and parses it. */
int sockdiag_listen_overflows(struct sockdiag_overflows *out);

#endif
