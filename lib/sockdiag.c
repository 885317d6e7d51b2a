#include "fo/sockdiag.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fo/procfile.h"

/* The kernel fills one batch of at most 32 KiB per recvmsg() of a dump (about 260
 * sockets), whatever the buffers; twice that never truncates. */
#define DIAG_BUF_SIZE 65536
#define NETSTAT_MAX 65536
#define LINK_MAX 64

#define TCPF(state) (1u << (state))

/* One netlink socket, its receive buffer and its request sequence. */
struct diag_conn {
	int fd;
	uint32_t seq;
	char *buf;
};

struct diag_query {
	uint8_t family;
	uint8_t proto;
	uint32_t states;
	const void *bytecode; /* NULL: no filter */
	size_t bytecode_len;
};

/* Called for each socket of a dump; attrs/attrs_len are the message's attributes. */
typedef int (*diag_fn)(const struct inet_diag_msg *msg, const struct rtattr *attrs, int attrs_len,
		       void *ctx);

static int diag_open(struct diag_conn *c)
{
	c->seq = 0;
	c->buf = malloc(DIAG_BUF_SIZE);
	if (!c->buf)
		return -ENOMEM;
	c->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (c->fd < 0) {
		int rc = -errno;
		free(c->buf);
		c->buf = NULL;
		return rc;
	}
	return 0;
}

static void diag_close(struct diag_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
}

static int diag_send(struct diag_conn *c, const struct diag_query *q)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct nlmsghdr nlh = {0};
	struct inet_diag_req_v2 req = {0};
	struct rtattr rta = {0};
	struct iovec iov[4];
	struct msghdr msg = {.msg_name = &kernel, .msg_namelen = sizeof(kernel), .msg_iov = iov};
	size_t n_iov = 2;

	req.sdiag_family = q->family;
	req.sdiag_protocol = q->proto;
	req.idiag_states = q->states;
	nlh.nlmsg_len = NLMSG_LENGTH(sizeof(req));
	nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh.nlmsg_seq = ++c->seq;
	iov[0] = (struct iovec){&nlh, sizeof(nlh)};
	iov[1] = (struct iovec){&req, sizeof(req)};
	if (q->bytecode) {
		rta.rta_type = INET_DIAG_REQ_BYTECODE;
		rta.rta_len = (unsigned short)RTA_LENGTH(q->bytecode_len);
		nlh.nlmsg_len += RTA_SPACE(q->bytecode_len);
		iov[2] = (struct iovec){&rta, sizeof(rta)};
		iov[3] = (struct iovec){(void *)q->bytecode, q->bytecode_len};
		n_iov = 4;
	}
	msg.msg_iovlen = n_iov;
	if (sendmsg(c->fd, &msg, 0) < 0)
		return -errno;
	return 0;
}

/* Handles one message of a reply: 1 when the dump is complete, 0 to go on, <0 error. */
static int diag_handle(const struct nlmsghdr *nlh, diag_fn fn, void *ctx)
{
	const struct inet_diag_msg *msg;
	int attrs_len;

	if (nlh->nlmsg_type == NLMSG_DONE)
		return 1;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *err = NLMSG_DATA(nlh);
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*err)))
			return -EBADMSG;
		return err->error ? err->error : 1;
	}
	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*msg)))
		return -EBADMSG;
	msg = NLMSG_DATA(nlh);
	attrs_len = (int)(nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
	return fn(msg, (const struct rtattr *)((const char *)msg + NLMSG_ALIGN(sizeof(*msg))), attrs_len,
		  ctx);
}

/* Handles the messages of one datagram; same returns as diag_handle. */
static int diag_batch(struct diag_conn *c, size_t len, diag_fn fn, void *ctx)
{
	size_t off = 0;

	while (off + sizeof(struct nlmsghdr) <= len) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(c->buf + off);
		int rc;

		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len - off)
			return -EBADMSG;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
		if (nlh->nlmsg_seq != c->seq)
			continue;
		rc = diag_handle(nlh, fn, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

static int diag_recv(struct diag_conn *c, diag_fn fn, void *ctx)
{
	for (;;) {
		struct iovec iov = {c->buf, DIAG_BUF_SIZE};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t len = recvmsg(c->fd, &msg, 0);
		int rc;

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			return -errno;
		if (len == 0 || (msg.msg_flags & MSG_TRUNC))
			return -EBADMSG;
		rc = diag_batch(c, (size_t)len, fn, ctx);
		if (rc)
			return rc < 0 ? rc : 0;
	}
}

static int diag_dump(struct diag_conn *c, const struct diag_query *q, diag_fn fn, void *ctx)
{
	int rc = diag_send(c, q);

	return rc ? rc : diag_recv(c, fn, ctx);
}

/* Runs the same query over AF_INET then AF_INET6. */
static int diag_dump_inet(struct diag_conn *c, struct diag_query q, diag_fn fn, void *ctx)
{
	int rc;

	q.family = AF_INET;
	rc = diag_dump(c, &q, fn, ctx);
	if (rc)
		return rc;
	q.family = AF_INET6;
	return diag_dump(c, &q, fn, ctx);
}

/* ---- listeners ---- */

struct listener_ctx {
	struct sockdiag_snapshot *snap;
	size_t cap;
	int proto;
};

static void listener_fill(struct sockdiag_listener *l, const struct inet_diag_msg *msg, int proto,
			  const struct rtattr *attrs, int attrs_len)
{
	memset(l, 0, sizeof(*l));
	l->proto = proto;
	l->family = msg->idiag_family;
	if (l->family == AF_INET)
		memcpy(&l->addr.v4, msg->id.idiag_src, sizeof(l->addr.v4));
	else
		memcpy(&l->addr.v6, msg->id.idiag_src, sizeof(l->addr.v6));
	l->port = ntohs(msg->id.idiag_sport);
	l->ifindex = msg->id.idiag_if;
	l->inode = msg->idiag_inode;
	l->uid = msg->idiag_uid;
	l->rqueue = msg->idiag_rqueue;
	l->backlog = proto == IPPROTO_TCP ? msg->idiag_wqueue : 0;
	for (const struct rtattr *a = attrs; RTA_OK(a, attrs_len); a = RTA_NEXT(a, attrs_len)) {
		if (a->rta_type == INET_DIAG_SKV6ONLY && RTA_PAYLOAD(a) >= 1)
			l->v6only = *(const uint8_t *)RTA_DATA(a) != 0;
	}
}

static int listener_add(const struct inet_diag_msg *msg, const struct rtattr *attrs, int attrs_len,
			void *opaque)
{
	struct listener_ctx *ctx = opaque;
	struct sockdiag_snapshot *snap = ctx->snap;

	if (msg->idiag_family != AF_INET && msg->idiag_family != AF_INET6)
		return 0;
	if (snap->n == SOCKDIAG_MAX_LISTENERS) {
		snap->truncated = true;
		return 0;
	}
	if (snap->n == ctx->cap) {
		size_t cap = ctx->cap ? ctx->cap * 2 : 64;
		struct sockdiag_listener *grown = realloc(snap->listeners, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		snap->listeners = grown;
		ctx->cap = cap;
	}
	listener_fill(&snap->listeners[snap->n++], msg, ctx->proto, attrs, attrs_len);
	return 0;
}

static int listener_cmp(const void *pa, const void *pb)
{
	const struct sockdiag_listener *a = pa, *b = pb;
	int rc;

	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	rc = memcmp(&a->addr, &b->addr, a->family == AF_INET ? sizeof(a->addr.v4) : sizeof(a->addr.v6));
	if (rc)
		return rc;
	return a->inode < b->inode ? -1 : a->inode > b->inode;
}

static int listeners_collect(struct sockdiag_snapshot *snap)
{
	struct listener_ctx ctx = {.snap = snap};
	struct diag_conn c;
	int rc = diag_open(&c);

	if (rc)
		return rc;
	ctx.proto = IPPROTO_TCP;
	rc = diag_dump_inet(&c, (struct diag_query){.proto = IPPROTO_TCP, .states = TCPF(TCP_LISTEN)},
			    listener_add, &ctx);
	if (!rc) {
		/* Unconnected UDP sockets are in TCP_CLOSE; only bound ones are hashed. */
		ctx.proto = IPPROTO_UDP;
		rc = diag_dump_inet(&c, (struct diag_query){.proto = IPPROTO_UDP, .states = TCPF(TCP_CLOSE)},
				    listener_add, &ctx);
	}
	diag_close(&c);
	return rc;
}

/* ---- owners ---- */

struct owner_entry {
	uint32_t inode;
	pid_t pid;
	int fd;
	char comm[SOCKDIAG_COMM_LEN];
};

struct sockdiag_owners {
	size_t n;
	struct owner_entry *entries; /* sorted by inode */
};

struct sockdiag_owners *sockdiag_owners_new(void)
{
	return calloc(1, sizeof(struct sockdiag_owners));
}

void sockdiag_owners_free(struct sockdiag_owners *owners)
{
	if (!owners)
		return;
	free(owners->entries);
	free(owners);
}

static int owner_cmp(const void *pa, const void *pb)
{
	const struct owner_entry *a = pa, *b = pb;

	return a->inode < b->inode ? -1 : a->inode > b->inode;
}

static struct owner_entry *owner_find(struct owner_entry *entries, size_t n, uint32_t inode)
{
	struct owner_entry key = {.inode = inode};

	return n ? bsearch(&key, entries, n, sizeof(*entries), owner_cmp) : NULL;
}

/* 1 if text is "socket:[N]", with N in *inode. */
static int socket_link_inode(const char *text, uint32_t *inode)
{
	char *end;
	unsigned long v;

	if (strncmp(text, "socket:[", 8) != 0)
		return 0;
	errno = 0;
	v = strtoul(text + 8, &end, 10);
	if (errno || end == text + 8 || strcmp(end, "]") != 0 || v > UINT32_MAX)
		return 0;
	*inode = (uint32_t)v;
	return 1;
}

static void comm_read(pid_t pid, char comm[SOCKDIAG_COMM_LEN])
{
	char path[64];
	ssize_t len;
	int fd;

	comm[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	len = read(fd, comm, SOCKDIAG_COMM_LEN - 1);
	close(fd);
	if (len < 0)
		len = 0;
	comm[len] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

/* The cached owner still holds the socket under the same descriptor. */
static bool owner_valid(struct owner_entry *e)
{
	char path[64], link[LINK_MAX];
	uint32_t inode;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)e->pid, e->fd);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0)
		return false;
	link[len] = '\0';
	if (!socket_link_inode(link, &inode) || inode != e->inode)
		return false;
	comm_read(e->pid, e->comm);
	return true;
}

/* Places the sockets of one process, stopping once nothing is left to place. */
static void scan_process(pid_t pid, struct owner_entry *want, size_t n_want, size_t *left)
{
	char path[64], link[LINK_MAX];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return;
	while (*left && (de = readdir(dir))) {
		struct owner_entry *e;
		uint32_t inode;
		ssize_t len = readlinkat(dirfd(dir), de->d_name, link, sizeof(link) - 1);

		if (len < 0)
			continue;
		link[len] = '\0';
		if (!socket_link_inode(link, &inode))
			continue;
		e = owner_find(want, n_want, inode);
		if (e && e->pid == 0) {
			e->pid = pid;
			e->fd = (int)strtol(de->d_name, NULL, 10);
			comm_read(pid, e->comm);
			(*left)--;
		}
	}
	closedir(dir);
}

/* The sockets sock_diag reports live in our network namespace, and so, nearly
 * always, do their owners: processes in other namespaces (other containers, other
 * lab nodes, a benchmark holding 100,000 sockets) are skipped without reading
 * their descriptor tables. */
static bool same_netns(pid_t pid, ino_t self_ns)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return self_ns == 0 || (stat(path, &st) == 0 && st.st_ino == self_ns);
}

/* Walks /proc in pid order (so a socket shared after fork goes to the parent) until
 * every wanted inode is placed. */
static void scan_proc(struct owner_entry *want, size_t n_want)
{
	size_t left = n_want;
	struct dirent *de;
	struct stat self;
	ino_t self_ns = stat("/proc/self/ns/net", &self) == 0 ? self.st_ino : 0;
	DIR *proc = opendir("/proc");

	if (!proc)
		return;
	while (left && (de = readdir(proc))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || end == de->d_name || !same_netns((pid_t)pid, self_ns))
			continue;
		scan_process((pid_t)pid, want, n_want, &left);
	}
	closedir(proc);
}

static void owners_apply(struct sockdiag_snapshot *snap, struct owner_entry *entries, size_t n)
{
	for (size_t i = 0; i < snap->n; i++) {
		struct owner_entry *e = owner_find(entries, n, snap->listeners[i].inode);
		if (e && e->pid) {
			snap->listeners[i].pid = e->pid;
			memcpy(snap->listeners[i].comm, e->comm, SOCKDIAG_COMM_LEN);
		}
	}
}

/* Rebuilds the cache from a /proc scan for exactly the snapshot's inodes. */
static int owners_rescan(struct sockdiag_owners *owners, struct sockdiag_snapshot *snap)
{
	struct owner_entry *want = calloc(snap->n ? snap->n : 1, sizeof(*want));
	size_t n = 0;

	if (!want)
		return -ENOMEM;
	for (size_t i = 0; i < snap->n; i++)
		want[i].inode = snap->listeners[i].inode;
	qsort(want, snap->n, sizeof(*want), owner_cmp);
	for (size_t i = 0; i < snap->n; i++) {
		if (n == 0 || want[i].inode != want[n - 1].inode)
			want[n++] = want[i];
	}
	scan_proc(want, n);
	owners_apply(snap, want, n);
	free(owners->entries);
	owners->entries = want;
	owners->n = n;
	return 0;
}

static int owners_resolve(struct sockdiag_owners *owners, struct sockdiag_snapshot *snap)
{
	for (size_t i = 0; i < snap->n; i++) {
		struct owner_entry *e = owner_find(owners->entries, owners->n, snap->listeners[i].inode);
		/* pid 0: looked for and not found (a kernel socket, or a process we may not
		 * inspect); not looked for again while the socket lives. */
		if (!e || (e->pid && !owner_valid(e)))
			return owners_rescan(owners, snap);
	}
	owners_apply(snap, owners->entries, owners->n);
	return 0;
}

int sockdiag_listeners(struct sockdiag_owners *owners, struct sockdiag_snapshot **out)
{
	struct sockdiag_snapshot *snap = calloc(1, sizeof(*snap));
	int rc;

	*out = NULL;
	if (!snap)
		return -ENOMEM;
	rc = listeners_collect(snap);
	if (!rc && snap->n)
		qsort(snap->listeners, snap->n, sizeof(*snap->listeners), listener_cmp);
	if (!rc && owners)
		rc = owners_resolve(owners, snap);
	if (rc) {
		sockdiag_snapshot_free(snap);
		return rc;
	}
	*out = snap;
	return 0;
}

void sockdiag_snapshot_free(struct sockdiag_snapshot *snap)
{
	if (!snap)
		return;
	free(snap->listeners);
	free(snap);
}

/* ---- connection counts ---- */

struct counts_ctx {
	struct sockdiag_conn_counts *counts;
	size_t cap;
};

static int port_add(const struct inet_diag_msg *msg, const struct rtattr *attrs, int attrs_len,
		    void *opaque)
{
	struct counts_ctx *ctx = opaque;
	struct sockdiag_conn_counts *cc = ctx->counts;
	struct sockdiag_port_count *p;

	if (cc->n_ports == SOCKDIAG_MAX_LISTENERS) {
		cc->truncated = true;
		return 0;
	}
	if (cc->n_ports == ctx->cap) {
		size_t cap = ctx->cap ? ctx->cap * 2 : 32;
		struct sockdiag_port_count *grown = realloc(cc->ports, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		cc->ports = grown;
		ctx->cap = cap;
	}
	p = &cc->ports[cc->n_ports++];
	*p = (struct sockdiag_port_count){.port = ntohs(msg->id.idiag_sport),
					  .listeners = 1,
					  .accept_queue = msg->idiag_rqueue,
					  .backlog = msg->idiag_wqueue};
	return 0;
}

static int port_cmp(const void *pa, const void *pb)
{
	const struct sockdiag_port_count *a = pa, *b = pb;

	return a->port < b->port ? -1 : a->port > b->port;
}

/* Sorts the per-listener rows and merges those of one port. */
static void ports_merge(struct sockdiag_conn_counts *cc)
{
	size_t n = 0;

	if (!cc->n_ports)
		return;
	qsort(cc->ports, cc->n_ports, sizeof(*cc->ports), port_cmp);
	for (size_t i = 0; i < cc->n_ports; i++) {
		struct sockdiag_port_count *p = &cc->ports[i];
		if (n && cc->ports[n - 1].port == p->port) {
			cc->ports[n - 1].listeners += p->listeners;
			cc->ports[n - 1].accept_queue += p->accept_queue;
			cc->ports[n - 1].backlog += p->backlog;
		} else {
			cc->ports[n++] = *p;
		}
	}
	cc->n_ports = n;
}

static struct sockdiag_port_count *port_lookup(const struct sockdiag_conn_counts *counts, uint16_t port)
{
	struct sockdiag_port_count key = {.port = port};

	if (!counts || !counts->n_ports)
		return NULL;
	return bsearch(&key, counts->ports, counts->n_ports, sizeof(key), port_cmp);
}

const struct sockdiag_port_count *sockdiag_port_find(const struct sockdiag_conn_counts *counts,
						       uint16_t port)
{
	return port_lookup(counts, port);
}

static int conn_count(const struct inet_diag_msg *msg, const struct rtattr *attrs, int attrs_len,
		      void *opaque)
{
	struct sockdiag_conn_counts *cc = opaque;
	struct sockdiag_port_count *p = port_lookup(cc, ntohs(msg->id.idiag_sport));
	bool syn = msg->idiag_state == TCP_SYN_RECV;

	if (syn)
		cc->syn_recv++;
	else
		cc->established++;
	if (p && syn)
		p->syn_recv++;
	else if (p)
		p->established++;
	return 0;
}

static int counts_collect(struct sockdiag_conn_counts *cc)
{
	struct counts_ctx ctx = {.counts = cc};
	struct diag_conn c;
	int rc = diag_open(&c);

	if (rc)
		return rc;
	/* Listeners first, so that each connection finds its port in one pass. */
	rc = diag_dump_inet(&c, (struct diag_query){.proto = IPPROTO_TCP, .states = TCPF(TCP_LISTEN)},
			    port_add, &ctx);
	if (!rc) {
		ports_merge(cc);
		rc = diag_dump_inet(&c,
				    (struct diag_query){.proto = IPPROTO_TCP,
							.states = TCPF(TCP_ESTABLISHED) | TCPF(TCP_SYN_RECV)},
				    conn_count, cc);
	}
	diag_close(&c);
	return rc;
}

int sockdiag_conn_counts(struct sockdiag_conn_counts **out)
{
	struct sockdiag_conn_counts *cc = calloc(1, sizeof(*cc));
	int rc;

	*out = NULL;
	if (!cc)
		return -ENOMEM;
	rc = counts_collect(cc);
	if (rc) {
		sockdiag_conn_counts_free(cc);
		return rc;
	}
	*out = cc;
	return 0;
}

void sockdiag_conn_counts_free(struct sockdiag_conn_counts *counts)
{
	if (!counts)
		return;
	free(counts->ports);
	free(counts);
}

/* ---- established connections on local addresses ---- */

/* One S_COND op with its address; the largest is IPv6's. */
#define BC_COND_MAX (sizeof(struct inet_diag_bc_op) + sizeof(struct inet_diag_hostcond) + 16)
#define BC_MAX (SOCKDIAG_MAX_LOCAL_ADDRS * (BC_COND_MAX + sizeof(struct inet_diag_bc_op)))

struct local_ctx {
	const struct sockaddr_storage *addrs;
	size_t n;
	uint32_t *counts;
	uint64_t total;
};

static const void *addr_bytes(const struct sockaddr_storage *ss, size_t *len)
{
	if (ss->ss_family == AF_INET) {
		*len = 4;
		return &((const struct sockaddr_in *)ss)->sin_addr;
	}
	*len = 16;
	return &((const struct sockaddr_in6 *)ss)->sin6_addr;
}

static size_t bc_cond_size(const struct sockaddr_storage *ss)
{
	size_t alen;

	(void)addr_bytes(ss, &alen);
	return sizeof(struct inet_diag_bc_op) + sizeof(struct inet_diag_hostcond) + alen;
}

static size_t bc_put(uint8_t *bc, size_t off, uint8_t code, size_t yes, size_t no)
{
	struct inet_diag_bc_op op = {.code = code, .yes = (unsigned char)yes, .no = (unsigned short)no};

	memcpy(bc + off, &op, sizeof(op));
	return off + sizeof(op);
}

/* "local address == ss" at bc[off], then "yes" falls through and "no" skips the
 * JMP that follows it. Returns the offset after the condition. */
static size_t bc_put_cond(uint8_t *bc, size_t off, const struct sockaddr_storage *ss)
{
	struct inet_diag_hostcond cond = {.family = (uint8_t)ss->ss_family, .port = -1};
	size_t size = bc_cond_size(ss), alen;
	const void *addr = addr_bytes(ss, &alen);

	cond.prefix_len = (uint8_t)(alen * 8);
	off = bc_put(bc, off, INET_DIAG_BC_S_COND, size, size + sizeof(struct inet_diag_bc_op));
	memcpy(bc + off, &cond, sizeof(cond));
	memcpy(bc + off + sizeof(cond), addr, alen);
	return off + sizeof(cond) + alen;
}

/* Whether the dump of family holds sockets that ss can match: the AF_INET6 dump
 * also holds v4-mapped sockets, which AF_INET conditions match. */
static bool bc_wanted(const struct sockaddr_storage *ss, int family)
{
	return family == AF_INET6 || ss->ss_family == AF_INET;
}

/* An OR of conditions, laid out C1 J1 C2 J2 ... Cn: a condition that holds falls
 * through to its JMP to the end (accept); one that fails skips its JMP to the next
 * condition; the last one failing lands past the end (reject). Each op's "yes" is
 * one byte, so only a JMP's "no" jumps far. Returns the length, 0 for no condition. */
static size_t bc_build(uint8_t *bc, const struct sockaddr_storage *addrs, size_t n, int family)
{
	size_t len = 0, off = 0, left = 0;

	for (size_t i = 0; i < n; i++) {
		if (bc_wanted(&addrs[i], family)) {
			len += (left ? sizeof(struct inet_diag_bc_op) : 0) + bc_cond_size(&addrs[i]);
			left++;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!bc_wanted(&addrs[i], family))
			continue;
		off = bc_put_cond(bc, off, &addrs[i]);
		if (--left)
			off = bc_put(bc, off, INET_DIAG_BC_JMP, sizeof(struct inet_diag_bc_op), len - off);
	}
	return len;
}

static bool addr_match(const struct inet_diag_msg *msg, const struct sockaddr_storage *ss)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *src = (const uint8_t *)msg->id.idiag_src;
	size_t alen;
	const void *addr = addr_bytes(ss, &alen);

	if (ss->ss_family == AF_INET && msg->idiag_family == AF_INET6)
		return memcmp(src, mapped, sizeof(mapped)) == 0 && memcmp(src + 12, addr, 4) == 0;
	return ss->ss_family == msg->idiag_family && memcmp(src, addr, alen) == 0;
}

static int local_count(const struct inet_diag_msg *msg, const struct rtattr *attrs, int attrs_len,
		       void *opaque)
{
	struct local_ctx *ctx = opaque;
	bool any = false;

	for (size_t i = 0; i < ctx->n; i++) {
		if (addr_match(msg, &ctx->addrs[i])) {
			any = true;
			if (ctx->counts)
				ctx->counts[i]++;
		}
	}
	ctx->total += any;
	return 0;
}

static int local_dump(struct diag_conn *c, struct local_ctx *ctx, int family, uint8_t *bc)
{
	struct diag_query q = {.family = (uint8_t)family,
			       .proto = IPPROTO_TCP,
			       .states = TCPF(TCP_ESTABLISHED),
			       .bytecode = bc};

	q.bytecode_len = bc_build(bc, ctx->addrs, ctx->n, family);
	if (!q.bytecode_len)
		return 0;
	return diag_dump(c, &q, local_count, ctx);
}

static int local_check(const struct sockaddr_storage *addrs, size_t n, bool *any_v4)
{
	if (n > SOCKDIAG_MAX_LOCAL_ADDRS)
		return -E2BIG;
	*any_v4 = false;
	for (size_t i = 0; i < n; i++) {
		if (addrs[i].ss_family == AF_INET)
			*any_v4 = true;
		else if (addrs[i].ss_family != AF_INET6)
			return -EAFNOSUPPORT;
	}
	return 0;
}

int sockdiag_count_established_local(const struct sockaddr_storage *addrs, size_t n,
				     uint32_t *counts, uint64_t *total)
{
	struct local_ctx ctx = {.addrs = addrs, .n = n, .counts = counts};
	uint8_t *bc;
	struct diag_conn c;
	bool any_v4;
	int rc = local_check(addrs, n, &any_v4);

	if (rc)
		return rc;
	if (counts)
		memset(counts, 0, n * sizeof(*counts));
	if (total)
		*total = 0;
	if (!n)
		return 0;
	bc = malloc(BC_MAX);
	if (!bc)
		return -ENOMEM;
	rc = diag_open(&c);
	if (!rc) {
		rc = any_v4 ? local_dump(&c, &ctx, AF_INET, bc) : 0;
		if (!rc)
			rc = local_dump(&c, &ctx, AF_INET6, bc);
		diag_close(&c);
	}
	free(bc);
	if (!rc && total)
		*total = ctx.total;
	if (rc && counts)
		memset(counts, 0, n * sizeof(*counts));
	return rc;
}

/* ---- listen-queue overflows ---- */

/* Finds name in the header line and returns the same column of the value line. */
static int netstat_field(const char *names, const char *values, const char *name, uint64_t *out)
{
	size_t name_len = strlen(name);
	const char *n = names, *v = values;

	for (;;) {
		size_t nl = strcspn(n, " \n"), vl = strcspn(v, " \n");
		if (nl == 0 || vl == 0)
			return -EINVAL;
		if (nl == name_len && strncmp(n, name, nl) == 0) {
			char *end;
			if (*v < '0' || *v > '9')
				return -EINVAL;
			errno = 0;
			*out = strtoull(v, &end, 10);
			return errno || end != v + vl ? -EINVAL : 0;
		}
		if (n[nl] != ' ' || v[vl] != ' ')
			return -EINVAL;
		n += nl + 1;
		v += vl + 1;
	}
}

static const char *line_next(const char *line)
{
	line += strcspn(line, "\n");
	return *line ? line + 1 : line;
}

int sockdiag_parse_netstat(const char *text, struct sockdiag_overflows *out)
{
	static const char prefix[] = "TcpExt: ";
	const size_t plen = sizeof(prefix) - 1;
	const char *names = NULL, *values = NULL;

	for (const char *line = text; *line && !values; line = line_next(line)) {
		if (strncmp(line, prefix, plen) != 0)
			continue;
		if (!names)
			names = line + plen;
		else
			values = line + plen;
	}
	if (!values)
		return -EINVAL;
	if (netstat_field(names, values, "ListenOverflows", &out->listen_overflows) ||
	    netstat_field(names, values, "ListenDrops", &out->listen_drops))
		return -EINVAL;
	return 0;
}

int sockdiag_listen_overflows(struct sockdiag_overflows *out)
{
	char *buf = malloc(NETSTAT_MAX);
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = procfile_read("/proc/net/netstat", buf, NETSTAT_MAX);
	if (!rc)
		rc = sockdiag_parse_netstat(buf, out);
	free(buf);
	return rc;
}
