/* Virtual IP addresses: asynchronous rtnetlink requests (one completion per request,
 * matched by sequence number), gratuitous ARP / unsolicited NA, ARP probes, and the
 * synchronous dumps used only at start-up. See vip.h. */
#include "vip.h"
#include "nlerr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/if_ether.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/socket.h>

#include "fo/sockfilter.h"

#define VIP_NL_RCVBUF (256 * 1024)

enum vip_op { VIP_OP_ADD, VIP_OP_DEL };

/* One rtnetlink request in flight. The timer bounds the wait for the kernel's answer
 * and also delivers completions that are known before anything is sent. */
struct vip_request {
	struct vip_request *next;
	struct vip *vip;
	uint32_t seq;
	enum vip_op op;
	bool sent; /* false: completes from the timer without asking the kernel */
	int error; /* what the timer delivers when it fires */
	vip_done_fn done;
	void *arg;
	ev_timer timer;
};

struct vip_probe {
	struct vip_probe *next;
	struct vip *vip;
	int ifindex;
	struct in_addr target;
	unsigned char mac[ETH_ALEN];
	ev_timer timer;
	vip_probe_fn done;
	void *arg;
};

struct vip {
	struct ev_loop *loop;
	struct nl_sock *sk;
	struct nl_cb *cb;
	ev_io io;
	struct vip_request *pending;   /* sent, not answered yet */
	struct vip_request *completed; /* answered during a read, callbacks not run yet */
	struct vip_probe *probes;
	int arp_fd;    /* AF_PACKET, send only; opened on first use */
	int arp_rx_fd; /* AF_PACKET, ARP in, for probes; opened on first use */
	ev_io arp_rx_io;
	int icmp6_fd;  /* raw ICMPv6, send only; opened on first use */
	bool dispatching;
	bool free_requested;
	struct vip_stats stats;
};

/* An address already there on add, or already gone on delete, is what we wanted. */
static int vip_idempotent(enum vip_op op, int error)
{
	if (op == VIP_OP_ADD && error == -EEXIST)
		return 0;
	if (op == VIP_OP_DEL && (error == -ESRCH || error == -EADDRNOTAVAIL || error == -ENODEV))
		return 0;
	return error;
}

static void vip_copy_ifname(char dst[IF_NAMESIZE], const char *src)
{
	size_t len = strnlen(src, IF_NAMESIZE - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* "<ifname>:fo", cut to IFNAMSIZ-1 characters: the kernel truncates labels there,
 * and a label must begin with its interface's name. */
static void vip_label(const char *ifname, char label[IF_NAMESIZE])
{
	size_t len = strnlen(ifname, IF_NAMESIZE - 1);
	size_t room = IF_NAMESIZE - 1 - len;
	size_t slen = strlen(VIP_LABEL_SUFFIX);

	memcpy(label, ifname, len);
	memcpy(label + len, VIP_LABEL_SUFFIX, slen < room ? slen : room);
	label[len + (slen < room ? slen : room)] = '\0';
}

/* A label is fomgr's when it is the one vip_label() makes and differs from the
 * kernel's default (the bare interface name, which a 15-character name leaves). */
static bool vip_label_is_ours(const char *label, const char *ifname)
{
	char want[IF_NAMESIZE];

	vip_label(ifname, want);
	return strcmp(label, want) == 0 && strcmp(label, ifname) != 0;
}

static int vip_addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static int vip_addr_check(const struct vip_addr *a)
{
	if (!a || vip_addr_len(a->family) == 0)
		return -EAFNOSUPPORT;
	if (a->prefixlen > (unsigned)vip_addr_len(a->family) * 8)
		return -EINVAL;
	if (a->ifname[0] == '\0' || strnlen(a->ifname, IF_NAMESIZE) == IF_NAMESIZE)
		return -EINVAL;
	return 0;
}

/* ---- completions ---- */

static void vip_unlink_request(struct vip_request **list, struct vip_request *req)
{
	for (; *list; list = &(*list)->next) {
		if (*list == req) {
			*list = req->next;
			req->next = NULL;
			return;
		}
	}
}

static void vip_append_completed(struct vip *vip, struct vip_request *req)
{
	struct vip_request **tail = &vip->completed;

	while (*tail)
		tail = &(*tail)->next;
	req->next = NULL;
	*tail = req;
}

static void vip_finish(struct vip_request *req, int error)
{
	vip_done_fn done = req->done;
	void *arg = req->arg;

	free(req);
	if (done)
		done(arg, error);
}

/* The kernel answered seq: park the request until libnl has returned. */
static void vip_answer(struct vip *vip, uint32_t seq, int error)
{
	struct vip_request *req;

	for (req = vip->pending; req && !(req->sent && req->seq == seq); req = req->next)
		;
	if (!req)
		return; /* answer to a request that already timed out */
	vip_unlink_request(&vip->pending, req);
	ev_timer_stop(vip->loop, &req->timer);
	req->error = vip_idempotent(req->op, error);
	if (req->error < 0)
		vip->stats.netlink_errors++;
	vip_append_completed(vip, req);
}

static void vip_fail_pending(struct vip *vip, int error)
{
	while (vip->pending) {
		struct vip_request *req = vip->pending;

		vip_unlink_request(&vip->pending, req);
		ev_timer_stop(vip->loop, &req->timer);
		req->error = error;
		if (error != -ECANCELED)
			vip->stats.netlink_errors++;
		vip_append_completed(vip, req);
	}
}

static void vip_run_completed(struct vip *vip)
{
	while (vip->completed && !vip->free_requested) {
		struct vip_request *req = vip->completed;

		vip->completed = req->next;
		vip_finish(req, req->error);
	}
}

static void vip_destroy(struct vip *vip);

static void vip_request_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vip_request *req = w->data;
	struct vip *vip = req->vip;

	vip_unlink_request(&vip->pending, req);
	if (req->error < 0)
		vip->stats.netlink_errors++;
	vip_finish(req, req->error);
}

/* ---- the rtnetlink socket ---- */

static int vip_ack_cb(struct nl_msg *msg, void *arg)
{
	vip_answer(arg, nlmsg_hdr(msg)->nlmsg_seq, 0);
	return NL_OK;
}

static int vip_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	vip_answer(arg, e->msg.nlmsg_seq, e->error);
	return NL_SKIP;
}

/* Several requests may be in flight: answers are matched in vip_answer(), so
 * libnl's strict "next expected sequence number" check is replaced by nothing. */
static int vip_seq_cb(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

static int vip_skip_cb(struct nl_msg *msg, void *arg)
{
	return NL_SKIP;
}

static void vip_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vip *vip = w->data;
	int n, err;

	vip->dispatching = true;
	do
		n = nl_recvmsgs_report(vip->sk, vip->cb);
	while (n > 0);
	err = n < 0 ? nlerr_errno(n) : 0;
	if (err < 0 && err != -EAGAIN)
		vip_fail_pending(vip, err); /* answers may be lost (ENOBUFS) */
	vip_run_completed(vip);
	vip->dispatching = false;
	if (vip->free_requested)
		vip_destroy(vip);
}

static struct nl_cb *vip_cb_new(struct vip *vip)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	if (!cb)
		return NULL;
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, vip_seq_cb, vip);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, vip_ack_cb, vip);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, vip_skip_cb, vip);
	nl_cb_err(cb, NL_CB_CUSTOM, vip_err_cb, vip);
	return cb;
}

static int vip_socket_open(struct vip *vip)
{
	int err;

	vip->sk = nl_socket_alloc();
	vip->cb = vip_cb_new(vip);
	if (!vip->sk || !vip->cb)
		return -ENOMEM;
	err = nl_connect(vip->sk, NETLINK_ROUTE);
	if (err == 0)
		err = nl_socket_set_nonblocking(vip->sk);
	if (err == 0) /* room for the answers to a whole transition's requests at once */
		err = nl_socket_set_buffer_size(vip->sk, VIP_NL_RCVBUF, 0);
	return err < 0 ? nlerr_errno(err) : 0;
}

struct vip *vip_new(struct ev_loop *loop)
{
	struct vip *vip = calloc(1, sizeof(*vip));
	int err;

	if (!vip)
		return NULL;
	vip->loop = loop;
	vip->arp_fd = -1;
	vip->arp_rx_fd = -1;
	vip->icmp6_fd = -1;
	err = vip_socket_open(vip);
	if (err < 0) {
		vip->free_requested = true;
		vip_destroy(vip);
		errno = -err;
		return NULL;
	}
	ev_io_init(&vip->io, vip_io_cb, nl_socket_get_fd(vip->sk), EV_READ);
	vip->io.data = vip;
	ev_io_start(loop, &vip->io);
	return vip;
}

static void vip_probe_finish(struct vip_probe *probe, int result);

/* free_requested is set: callbacks run from here cannot start new work. */
static void vip_destroy(struct vip *vip)
{
	vip_fail_pending(vip, -ECANCELED);
	while (vip->completed) {
		struct vip_request *req = vip->completed;

		vip->completed = req->next;
		vip_finish(req, -ECANCELED);
	}
	while (vip->probes)
		vip_probe_finish(vip->probes, -ECANCELED);
	if (vip->sk)
		ev_io_stop(vip->loop, &vip->io);
	nl_socket_free(vip->sk);
	nl_cb_put(vip->cb);
	if (vip->arp_fd >= 0)
		close(vip->arp_fd);
	if (vip->arp_rx_fd >= 0) {
		ev_io_stop(vip->loop, &vip->arp_rx_io);
		close(vip->arp_rx_fd);
	}
	if (vip->icmp6_fd >= 0)
		close(vip->icmp6_fd);
	free(vip);
}

void vip_free(struct vip *vip)
{
	if (!vip || vip->free_requested)
		return;
	vip->free_requested = true;
	if (!vip->dispatching)
		vip_destroy(vip); /* otherwise vip_io_cb() does, once libnl has returned */
}

/* ---- add / delete ---- */

static struct vip_request *vip_request_new(struct vip *vip, enum vip_op op,
					   vip_done_fn done, void *arg)
{
	struct vip_request *req = calloc(1, sizeof(*req));

	if (!req)
		return NULL;
	req->vip = vip;
	req->op = op;
	req->done = done;
	req->arg = arg;
	req->error = -ETIMEDOUT;
	ev_timer_init(&req->timer, vip_request_timer_cb, VIP_REQUEST_TIMEOUT_MS / 1000.0, 0.);
	req->timer.data = req;
	return req;
}

static int vip_rtnl_addr(const struct vip_addr *a, int ifindex, enum vip_op op,
			 struct rtnl_addr **result)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_build(a->family, &a->addr, vip_addr_len(a->family));
	char label[IF_NAMESIZE];
	int err = -NLE_NOMEM;

	if (!ra || !local)
		goto out;
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_family(ra, a->family);
	err = rtnl_addr_set_local(ra, local);
	rtnl_addr_set_prefixlen(ra, a->prefixlen);
	if (err == 0 && op == VIP_OP_ADD && a->family == AF_INET) {
		vip_label(a->ifname, label);
		err = rtnl_addr_set_label(ra, label);
	}
	if (op == VIP_OP_ADD && a->family == AF_INET6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
out:
	nl_addr_put(local);
	if (err < 0) {
		rtnl_addr_put(ra);
		return nlerr_errno(err);
	}
	*result = ra;
	return 0;
}

static int vip_build(const struct vip_addr *a, int ifindex, enum vip_op op, struct nl_msg **msg)
{
	struct rtnl_addr *ra = NULL;
	int err = vip_rtnl_addr(a, ifindex, op, &ra);

	if (err < 0)
		return err;
	if (op == VIP_OP_ADD)
		err = rtnl_addr_build_add_request(ra, NLM_F_EXCL, msg);
	else
		err = rtnl_addr_build_delete_request(ra, 0, msg);
	rtnl_addr_put(ra);
	return err < 0 ? nlerr_errno(err) : 0;
}

static int vip_send(struct vip *vip, struct vip_request *req, struct nl_msg *msg)
{
	int err = nl_send_auto(vip->sk, msg);

	if (err < 0) {
		vip->stats.netlink_errors++;
		return nlerr_errno(err);
	}
	vip->stats.requests++;
	req->sent = true;
	req->seq = nlmsg_hdr(msg)->nlmsg_seq;
	req->next = vip->pending;
	vip->pending = req;
	ev_timer_start(vip->loop, &req->timer);
	return 0;
}

/* Completes req from the loop with error, without asking the kernel. */
static void vip_complete_soon(struct vip *vip, struct vip_request *req, int error)
{
	req->error = error;
	ev_timer_set(&req->timer, 0., 0.);
	req->next = vip->pending;
	vip->pending = req;
	ev_timer_start(vip->loop, &req->timer);
}

static int vip_request(struct vip *vip, const struct vip_addr *a, enum vip_op op,
		       vip_done_fn done, void *arg)
{
	struct vip_request *req;
	struct nl_msg *msg;
	int ifindex, err = vip_addr_check(a);

	if (err < 0)
		return err;
	if (!vip || vip->free_requested)
		return -ESHUTDOWN;
	ifindex = (int)if_nametoindex(a->ifname);
	if (ifindex == 0 && op == VIP_OP_ADD)
		return -ENODEV;
	req = vip_request_new(vip, op, done, arg);
	if (!req)
		return -ENOMEM;
	if (ifindex == 0) {
		vip_complete_soon(vip, req, 0); /* no interface, no address: deleted */
		return 0;
	}
	err = vip_build(a, ifindex, op, &msg);
	if (err == 0) {
		err = vip_send(vip, req, msg);
		nlmsg_free(msg);
	}
	if (err < 0)
		free(req);
	return err;
}

int vip_add(struct vip *vip, const struct vip_addr *a, vip_done_fn done, void *arg)
{
	return vip_request(vip, a, VIP_OP_ADD, done, arg);
}

int vip_del(struct vip *vip, const struct vip_addr *a, vip_done_fn done, void *arg)
{
	return vip_request(vip, a, VIP_OP_DEL, done, arg);
}

/* ---- announcements and probes ---- */

static int vip_hwaddr(int fd, const char *ifname, unsigned char mac[ETH_ALEN])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	vip_copy_ifname(ifr.ifr_name, ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EOPNOTSUPP;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	return 0;
}

static int vip_lazy_socket(int *fd, int domain, int type, int protocol)
{
	if (*fd >= 0)
		return 0;
	*fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
	return *fd < 0 ? -errno : 0;
}

int vip_link_mac(struct vip *vip, const char *ifname, unsigned char mac[ETH_ALEN])
{
	int err = vip_lazy_socket(&vip->arp_fd, AF_PACKET, SOCK_DGRAM, 0);

	return err < 0 ? err : vip_hwaddr(vip->arp_fd, ifname, mac);
}

/* An ARP request, broadcast: sender sip, target tip. sip == tip is a gratuitous
 * ARP; sip == 0.0.0.0 is an RFC 5227 probe. */
static int vip_send_arp(int fd, int ifindex, const unsigned char mac[ETH_ALEN],
			struct in_addr sip, struct in_addr tip)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = ifindex,
		.sll_halen = ETH_ALEN,
	};
	struct ether_arp arp;

	memset(&arp, 0, sizeof(arp));
	arp.arp_hrd = htons(ARPHRD_ETHER);
	arp.arp_pro = htons(ETH_P_IP);
	arp.arp_hln = ETH_ALEN;
	arp.arp_pln = sizeof(struct in_addr);
	arp.arp_op = htons(ARPOP_REQUEST);
	memcpy(arp.arp_sha, mac, ETH_ALEN);
	memcpy(arp.arp_spa, &sip, sizeof(sip));
	memcpy(arp.arp_tpa, &tip, sizeof(tip));
	memset(to.sll_addr, 0xff, ETH_ALEN);
	if (sendto(fd, &arp, sizeof(arp), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}

static int vip_garp(struct vip *vip, const struct vip_addr *a, int ifindex)
{
	unsigned char mac[ETH_ALEN];
	int err = vip_lazy_socket(&vip->arp_fd, AF_PACKET, SOCK_DGRAM, 0);

	if (err == 0)
		err = vip_hwaddr(vip->arp_fd, a->ifname, mac);
	if (err == 0)
		err = vip_send_arp(vip->arp_fd, ifindex, mac, a->addr.v4, a->addr.v4);
	if (err == 0)
		vip->stats.garp_sent++;
	return err;
}

/* The socket only sends: block every ICMPv6 type so nothing queues on it, and keep
 * the hop limit at 255, which receivers require of neighbour discovery. */
static int vip_icmp6_setup(int fd)
{
	struct icmp6_filter filter;
	int hops = 255, loop = 0;

	ICMP6_FILTER_SETBLOCKALL(&filter);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop, sizeof(loop)) < 0)
		return -errno;
	return 0;
}

static int vip_icmp6_socket(struct vip *vip)
{
	int err;

	if (vip->icmp6_fd >= 0)
		return 0;
	err = vip_lazy_socket(&vip->icmp6_fd, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	if (err == 0)
		err = vip_icmp6_setup(vip->icmp6_fd);
	if (err < 0 && vip->icmp6_fd >= 0) {
		close(vip->icmp6_fd);
		vip->icmp6_fd = -1;
	}
	return err;
}

/* Neighbour advertisement with the override flag and a target link-layer address
 * option; the kernel fills in the checksum of a raw ICMPv6 socket. */
static size_t vip_na_build(unsigned char *buf, const struct in6_addr *target,
			   const unsigned char mac[ETH_ALEN])
{
	struct nd_neighbor_advert na;
	struct nd_opt_hdr opt = { .nd_opt_type = ND_OPT_TARGET_LINKADDR, .nd_opt_len = 1 };

	memset(&na, 0, sizeof(na));
	na.nd_na_type = ND_NEIGHBOR_ADVERT;
	na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
	na.nd_na_target = *target;
	memcpy(buf, &na, sizeof(na));
	memcpy(buf + sizeof(na), &opt, sizeof(opt));
	memcpy(buf + sizeof(na) + sizeof(opt), mac, ETH_ALEN);
	return sizeof(na) + sizeof(opt) + ETH_ALEN;
}

/* Sent from the VIP itself (IPV6_PKTINFO) to all nodes on the interface. */
static int vip_send_na(int fd, int ifindex, const struct in6_addr *src, const void *pkt,
		       size_t len)
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_scope_id = (uint32_t)ifindex };
	struct iovec iov = { .iov_base = (void *)pkt, .iov_len = len };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} control;
	struct msghdr msg = {
		.msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	struct in6_pktinfo info = { .ipi6_addr = *src, .ipi6_ifindex = (unsigned)ifindex };

	inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
	cmsg->cmsg_level = IPPROTO_IPV6;
	cmsg->cmsg_type = IPV6_PKTINFO;
	cmsg->cmsg_len = CMSG_LEN(sizeof(info));
	memcpy(CMSG_DATA(cmsg), &info, sizeof(info));
	if (sendmsg(fd, &msg, 0) < 0)
		return -errno;
	return 0;
}

static int vip_unsolicited_na(struct vip *vip, const struct vip_addr *a, int ifindex)
{
	unsigned char mac[ETH_ALEN], pkt[64];
	size_t len;
	int err = vip_icmp6_socket(vip);

	if (err == 0)
		err = vip_hwaddr(vip->icmp6_fd, a->ifname, mac);
	if (err < 0)
		return err;
	len = vip_na_build(pkt, &a->addr.v6, mac);
	err = vip_send_na(vip->icmp6_fd, ifindex, &a->addr.v6, pkt, len);
	if (err == 0)
		vip->stats.na_sent++;
	return err;
}

int vip_announce(struct vip *vip, const struct vip_addr *a)
{
	int ifindex, err = vip_addr_check(a);

	if (err < 0)
		return err;
	ifindex = (int)if_nametoindex(a->ifname);
	if (ifindex == 0)
		return -ENODEV;
	if (a->family == AF_INET)
		err = vip_garp(vip, a, ifindex);
	else
		err = vip_unsolicited_na(vip, a, ifindex);
	if (err < 0)
		vip->stats.announce_errors++;
	return err;
}

/* The ARP receive socket lives as long as the vip: closing a packet socket that
 * has a protocol hook waits for an RCU grace period (tens of ms), which the loop
 * must not do per probe. Between probes a drop-all filter keeps it silent;
 * swapping a filter does not wait. */
static int vip_arp_rx_filter(int fd, bool accept)
{
	struct sock_filter code[] = { BPF_STMT(BPF_RET | BPF_K, accept ? 0xffffffffu : 0u) };

	return sockfilter_attach(fd, code, 1);
}

static void vip_arp_rx_cb(struct ev_loop *loop, ev_io *w, int revents);

/* Bound after the filter is set (a socket made with protocol 0 has no hook yet,
 * so neither the bind nor anything before it waits or queues). */
static int vip_arp_rx_open(struct vip *vip)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP) };
	int fd, err;

	if (vip->arp_rx_fd >= 0)
		return 0;
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = vip_arp_rx_filter(fd, false);
	if (err == 0 && bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		err = -errno;
	if (err < 0) {
		close(fd);
		return err;
	}
	vip->arp_rx_fd = fd;
	ev_io_init(&vip->arp_rx_io, vip_arp_rx_cb, fd, EV_READ);
	vip->arp_rx_io.data = vip;
	ev_io_start(vip->loop, &vip->arp_rx_io);
	return 0;
}

static void vip_probe_finish(struct vip_probe *probe, int result)
{
	struct vip *vip = probe->vip;
	struct vip_probe **p;

	for (p = &vip->probes; *p && *p != probe; p = &(*p)->next)
		;
	if (*p)
		*p = probe->next;
	ev_timer_stop(vip->loop, &probe->timer);
	if (!vip->probes && vip->arp_rx_fd >= 0)
		vip_arp_rx_filter(vip->arp_rx_fd, false); /* on failure it only stays noisy */
	if (probe->done)
		probe->done(probe->arg, result);
	free(probe);
}

/* RFC 5227 section 2.1.1: a conflict is another host's ARP packet with the address as
 * sender, or another host's probe for the same address. */
static bool vip_probe_conflict(const struct vip_probe *probe, const struct ether_arp *arp)
{
	struct in_addr spa, tpa;

	if (memcmp(arp->arp_sha, probe->mac, ETH_ALEN) == 0)
		return false;
	memcpy(&spa, arp->arp_spa, sizeof(spa));
	memcpy(&tpa, arp->arp_tpa, sizeof(tpa));
	if (spa.s_addr == probe->target.s_addr)
		return true;
	return ntohs(arp->arp_op) == ARPOP_REQUEST && spa.s_addr == INADDR_ANY &&
	       tpa.s_addr == probe->target.s_addr;
}

static bool vip_arp_valid(const struct ether_arp *arp, ssize_t len)
{
	return len >= (ssize_t)sizeof(*arp) && ntohs(arp->arp_hrd) == ARPHRD_ETHER &&
	       ntohs(arp->arp_pro) == ETH_P_IP && arp->arp_hln == ETH_ALEN &&
	       arp->arp_pln == sizeof(struct in_addr);
}

static struct vip_probe *vip_probe_match(struct vip *vip, const struct sockaddr_ll *from,
					 const struct ether_arp *arp)
{
	struct vip_probe *probe;

	if (from->sll_pkttype == PACKET_OUTGOING)
		return NULL;
	for (probe = vip->probes; probe; probe = probe->next)
		if (probe->ifindex == from->sll_ifindex && vip_probe_conflict(probe, arp))
			return probe;
	return NULL;
}

/* Finishes at most one probe per call: its callback may free the vip. Anything
 * left in the socket wakes the loop again. */
static void vip_arp_rx_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vip *vip = w->data;
	struct sockaddr_ll from;
	socklen_t fromlen = sizeof(from);
	struct ether_arp arp;
	struct vip_probe *probe;
	ssize_t n;

	while ((n = recvfrom(vip->arp_rx_fd, &arp, sizeof(arp), 0, (struct sockaddr *)&from,
			     &fromlen)) >= 0) {
		fromlen = sizeof(from);
		if (!vip_arp_valid(&arp, n))
			continue;
		probe = vip_probe_match(vip, &from, &arp);
		if (probe) {
			vip_probe_finish(probe, 1);
			return;
		}
	}
}

static void vip_probe_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	vip_probe_finish(w->data, 0);
}

static int vip_probe_send(struct vip *vip, struct vip_probe *probe, const struct vip_addr *a)
{
	struct in_addr any = { .s_addr = INADDR_ANY };
	int err = vip_lazy_socket(&vip->arp_fd, AF_PACKET, SOCK_DGRAM, 0);

	if (err == 0)
		err = vip_hwaddr(vip->arp_fd, a->ifname, probe->mac);
	if (err == 0)
		err = vip_arp_rx_open(vip);
	if (err == 0)
		err = vip_arp_rx_filter(vip->arp_rx_fd, true);
	if (err == 0)
		err = vip_send_arp(vip->arp_fd, probe->ifindex, probe->mac, any, a->addr.v4);
	return err;
}

int vip_probe_arp(struct vip *vip, const struct vip_addr *a, unsigned timeout_ms,
		  vip_probe_fn done, void *arg)
{
	struct vip_probe *probe;
	int ifindex, err = vip_addr_check(a);

	if (err < 0)
		return err;
	if (a->family != AF_INET)
		return -EAFNOSUPPORT;
	if (!vip || vip->free_requested)
		return -ESHUTDOWN;
	ifindex = (int)if_nametoindex(a->ifname);
	if (ifindex == 0)
		return -ENODEV;
	probe = calloc(1, sizeof(*probe));
	if (!probe)
		return -ENOMEM;
	*probe = (struct vip_probe){ .vip = vip, .ifindex = ifindex, .target = a->addr.v4,
				     .done = done, .arg = arg };
	err = vip_probe_send(vip, probe, a);
	if (err < 0) {
		if (!vip->probes && vip->arp_rx_fd >= 0)
			vip_arp_rx_filter(vip->arp_rx_fd, false);
		free(probe);
		return err;
	}
	vip->stats.probes_sent++;
	ev_timer_init(&probe->timer, vip_probe_timer_cb, timeout_ms / 1000.0, 0.);
	probe->timer.data = probe;
	ev_timer_start(vip->loop, &probe->timer);
	probe->next = vip->probes;
	vip->probes = probe;
	return 0;
}

/* ---- synchronous read-back (start-up and tests only) ---- */

static int vip_dump(struct nl_cache **cache)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err == 0)
		err = rtnl_addr_alloc_cache(sk, cache);
	nl_socket_free(sk);
	return err < 0 ? nlerr_errno(err) : 0;
}

static bool vip_matches(struct rtnl_addr *ra, const struct vip_addr *a, int ifindex)
{
	struct nl_addr *local = rtnl_addr_get_local(ra);

	return rtnl_addr_get_ifindex(ra) == ifindex && rtnl_addr_get_family(ra) == a->family &&
	       (unsigned)rtnl_addr_get_prefixlen(ra) == a->prefixlen && local &&
	       nl_addr_get_len(local) == (unsigned)vip_addr_len(a->family) &&
	       memcmp(nl_addr_get_binary_addr(local), &a->addr, vip_addr_len(a->family)) == 0;
}

int vip_present(struct vip *vip, const struct vip_addr *a)
{
	struct nl_cache *cache;
	struct nl_object *obj;
	int ifindex, found = 0, err = vip_addr_check(a);

	if (err < 0)
		return err;
	ifindex = (int)if_nametoindex(a->ifname);
	if (ifindex == 0)
		return 0; /* no interface, no address */
	err = vip_dump(&cache);
	if (err < 0)
		return err;
	for (obj = nl_cache_get_first(cache); obj && !found; obj = nl_cache_get_next(obj))
		found = vip_matches((struct rtnl_addr *)obj, a, ifindex);
	nl_cache_free(cache);
	return found;
}

/* Fills out from an IPv4 address when its label says it is fomgr's. */
static bool vip_from_labelled(struct rtnl_addr *ra, struct vip_addr *out)
{
	struct nl_addr *local = rtnl_addr_get_local(ra);
	const char *label = rtnl_addr_get_label(ra);
	char ifname[IF_NAMESIZE];

	if (rtnl_addr_get_family(ra) != AF_INET || !label || !local ||
	    nl_addr_get_len(local) != sizeof(struct in_addr))
		return false;
	if (!if_indextoname((unsigned)rtnl_addr_get_ifindex(ra), ifname) ||
	    !vip_label_is_ours(label, ifname))
		return false;
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	memcpy(&out->addr.v4, nl_addr_get_binary_addr(local), sizeof(out->addr.v4));
	out->prefixlen = (unsigned)rtnl_addr_get_prefixlen(ra);
	vip_copy_ifname(out->ifname, ifname);
	return true;
}

int vip_list_labelled(struct vip *vip, struct vip_addr *out, size_t max)
{
	struct nl_cache *cache;
	struct nl_object *obj;
	struct vip_addr one;
	size_t count = 0;
	int err = vip_dump(&cache);

	if (err < 0)
		return err;
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		if (!vip_from_labelled((struct rtnl_addr *)obj, &one))
			continue;
		if (count < max)
			out[count] = one;
		count++;
	}
	nl_cache_free(cache);
	return (int)count;
}

/* ---- small helpers ---- */

void vip_get_stats(const struct vip *vip, struct vip_stats *stats)
{
	*stats = vip->stats;
}

const char *vip_addr_str(const struct vip_addr *a, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (size == 0)
		return buf;
	if (vip_addr_len(a->family) == 0 || !inet_ntop(a->family, &a->addr, ip, sizeof(ip))) {
		snprintf(buf, size, "(bad address)");
		return buf;
	}
	snprintf(buf, size, "%s/%u dev %.*s", ip, a->prefixlen, IF_NAMESIZE - 1, a->ifname);
	return buf;
}

static int vip_parse_prefixlen(const char *s, unsigned max, unsigned *prefixlen)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*prefixlen = (unsigned)v;
	return 0;
}

int vip_addr_parse(struct vip_addr *a, const char *addr_prefix, const char *ifname)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(addr_prefix, '/');
	size_t len = slash ? (size_t)(slash - addr_prefix) : 0;

	memset(a, 0, sizeof(*a));
	if (!slash || len == 0 || len >= sizeof(ip) || !ifname || !*ifname ||
	    strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	memcpy(ip, addr_prefix, len);
	ip[len] = '\0';
	if (inet_pton(AF_INET, ip, &a->addr.v4) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, &a->addr.v6) == 1)
		a->family = AF_INET6;
	else
		return -EINVAL;
	vip_copy_ifname(a->ifname, ifname);
	return vip_parse_prefixlen(slash + 1, (unsigned)vip_addr_len(a->family) * 8, &a->prefixlen);
}
