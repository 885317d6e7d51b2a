/* sockdiag against the real kernel. The test moves into a network namespace of its
 * own when it may (root), so counts are exact; without one the tests that count
 * whole-namespace figures are skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fo/sockdiag.h"

#define MAX_FDS 256

static bool isolated;
static bool have_ipv6;
static int fds[MAX_FDS];
static size_t n_fds;

static int track(int fd)
{
	assert_true(fd >= 0);
	assert_true(n_fds < MAX_FDS);
	fds[n_fds++] = fd;
	return fd;
}

static int close_all(void **state)
{
	while (n_fds)
		close(fds[--n_fds]);
	return 0;
}

static struct sockaddr_storage addr_of(const char *text, uint16_t port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	}
	return ss;
}

static socklen_t addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int sock_bound(int type, const char *addr, int v6only)
{
	struct sockaddr_storage ss = addr_of(addr, 0);
	int fd = track(socket(ss.ss_family, type | SOCK_CLOEXEC, 0));

	if (v6only >= 0)
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, addr_len(&ss)), 0);
	return fd;
}

static int tcp_listen(const char *addr, int backlog, uint16_t *port)
{
	int fd = sock_bound(SOCK_STREAM, addr, strchr(addr, ':') ? 1 : -1);

	assert_int_equal(listen(fd, backlog), 0);
	*port = local_port(fd);
	return fd;
}

static int tcp_connect(const char *addr, uint16_t port, int flags)
{
	struct sockaddr_storage ss = addr_of(addr, port);
	int fd = track(socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | flags, 0));
	int rc = connect(fd, (struct sockaddr *)&ss, addr_len(&ss));

	assert_true(rc == 0 || (flags && errno == EINPROGRESS));
	return fd;
}

static void connect_n(const char *addr, uint16_t port, int n)
{
	for (int i = 0; i < n; i++)
		tcp_connect(addr, port, 0);
}

static int lo_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (rc == 0)
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return rc;
}

static int setup(void **state)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int fd;

	isolated = unshare(CLONE_NEWNET) == 0 && lo_up() == 0;
	if (!isolated)
		print_message("no network namespace of our own: whole-namespace counts skipped\n");
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	have_ipv6 = fd >= 0 && bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	if (fd >= 0)
		close(fd);
	return 0;
}

static const struct sockdiag_listener *find(const struct sockdiag_snapshot *snap, int proto, int family,
					    uint16_t port)
{
	for (size_t i = 0; i < snap->n; i++) {
		const struct sockdiag_listener *l = &snap->listeners[i];
		if (l->proto == proto && l->family == family && l->port == port)
			return l;
	}
	return NULL;
}

static uint32_t inode_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return (uint32_t)st.st_ino;
}

static void assert_own(const struct sockdiag_listener *l)
{
	assert_non_null(l);
	assert_int_equal(l->pid, getpid());
	assert_string_equal(l->comm, "test_sockdiag");
}

static void listeners_with_owner(void **state)
{
	struct sockdiag_owners *owners = sockdiag_owners_new();
	struct sockdiag_snapshot *snap;
	const struct sockdiag_listener *l;
	uint16_t tport, uport = 0, cport;
	int tfd = tcp_listen("127.0.0.1", 17, &tport);
	int ufd = sock_bound(SOCK_DGRAM, "127.0.0.1", -1);
	int cfd = sock_bound(SOCK_DGRAM, "127.0.0.1", -1);
	struct sockaddr_storage peer = addr_of("127.0.0.1", 9);

	uport = local_port(ufd);
	cport = local_port(cfd);
	assert_int_equal(connect(cfd, (struct sockaddr *)&peer, addr_len(&peer)), 0);
	assert_non_null(owners);
	assert_int_equal(sockdiag_listeners(owners, &snap), 0);
	l = find(snap, IPPROTO_TCP, AF_INET, tport);
	assert_own(l);
	assert_int_equal(l->inode, inode_of(tfd));
	assert_int_equal(l->backlog, 17);
	assert_int_equal(l->rqueue, 0);
	assert_int_equal(l->addr.v4.s_addr, htonl(INADDR_LOOPBACK));
	assert_int_equal(l->uid, getuid());
	l = find(snap, IPPROTO_UDP, AF_INET, uport);
	assert_own(l);
	assert_int_equal(l->inode, inode_of(ufd));
	assert_null(find(snap, IPPROTO_UDP, AF_INET, cport)); /* connected: not a listener */
	for (size_t i = 1; i < snap->n; i++)
		assert_true(snap->listeners[i - 1].proto < snap->listeners[i].proto ||
			    (snap->listeners[i - 1].proto == snap->listeners[i].proto &&
			     snap->listeners[i - 1].port <= snap->listeners[i].port));
	sockdiag_snapshot_free(snap);

	/* Warm cache: the same answer through the cached owners. */
	assert_int_equal(sockdiag_listeners(owners, &snap), 0);
	assert_own(find(snap, IPPROTO_TCP, AF_INET, tport));
	sockdiag_snapshot_free(snap);

	/* Without a cache: no owner. */
	assert_int_equal(sockdiag_listeners(NULL, &snap), 0);
	l = find(snap, IPPROTO_TCP, AF_INET, tport);
	assert_non_null(l);
	assert_int_equal(l->pid, 0);
	assert_string_equal(l->comm, "");
	sockdiag_snapshot_free(snap);
	sockdiag_owners_free(owners);
}

static void listeners_ipv6(void **state)
{
	struct sockdiag_snapshot *snap;
	const struct sockdiag_listener *l;
	uint16_t port, dual_port;
	int dual;

	if (!have_ipv6)
		skip();
	tcp_listen("::1", 8, &port);
	dual = sock_bound(SOCK_STREAM, "::", 0);
	assert_int_equal(listen(dual, 8), 0);
	dual_port = local_port(dual);
	assert_int_equal(sockdiag_listeners(NULL, &snap), 0);
	l = find(snap, IPPROTO_TCP, AF_INET6, port);
	assert_non_null(l);
	assert_true(IN6_IS_ADDR_LOOPBACK(&l->addr.v6));
	assert_true(l->v6only);
	l = find(snap, IPPROTO_TCP, AF_INET6, dual_port);
	assert_non_null(l);
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&l->addr.v6));
	assert_false(l->v6only);
	sockdiag_snapshot_free(snap);
}

static int accept_one(int lfd)
{
	return track(accept4(lfd, NULL, NULL, SOCK_CLOEXEC));
}

static void conn_counts_per_port(void **state)
{
	struct sockdiag_conn_counts *cc;
	const struct sockdiag_port_count *p;
	uint16_t port, other;
	int lfd = tcp_listen("127.0.0.1", 64, &port);

	tcp_listen("127.0.0.1", 4, &other);
	connect_n("127.0.0.1", port, 5);
	accept_one(lfd);
	accept_one(lfd);
	assert_int_equal(sockdiag_conn_counts(&cc), 0);
	p = sockdiag_port_find(cc, port);
	assert_non_null(p);
	assert_int_equal(p->established, 5);
	assert_int_equal(p->syn_recv, 0);
	assert_int_equal(p->listeners, 1);
	assert_int_equal(p->accept_queue, 3);
	assert_int_equal(p->backlog, 64);
	p = sockdiag_port_find(cc, other);
	assert_non_null(p);
	assert_int_equal(p->established, 0);
	assert_null(sockdiag_port_find(cc, 1));
	if (isolated) {
		assert_int_equal(cc->established, 10); /* both ends of each connection */
		assert_int_equal(cc->n_ports, 2);
	}
	sockdiag_conn_counts_free(cc);
}

/* With TCP_DEFER_ACCEPT the listener ignores a bare handshake ACK, so each client is
 * established on its side and half-open (SYN_RECV) on the listener's. */
static void conn_counts_half_open(void **state)
{
	struct sockdiag_conn_counts *cc;
	const struct sockdiag_port_count *p;
	uint16_t port;
	int defer = 30;
	int lfd = tcp_listen("127.0.0.1", 16, &port);

	assert_int_equal(setsockopt(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)), 0);
	connect_n("127.0.0.1", port, 3);
	assert_int_equal(sockdiag_conn_counts(&cc), 0);
	p = sockdiag_port_find(cc, port);
	assert_non_null(p);
	assert_int_equal(p->syn_recv, 3);
	assert_int_equal(p->established, 0);
	if (isolated)
		assert_int_equal(cc->syn_recv, 3);
	sockdiag_conn_counts_free(cc);
}

static void count_local(void **state)
{
	struct sockaddr_storage addrs[2] = {addr_of("127.0.0.1", 0), addr_of("127.0.0.2", 0)};
	uint32_t counts[2];
	uint64_t total;
	uint16_t p1, p2;

	if (!isolated)
		skip();
	tcp_listen("127.0.0.1", 16, &p1);
	tcp_listen("127.0.0.2", 16, &p2);
	connect_n("127.0.0.1", p1, 4);
	assert_int_equal(sockdiag_count_established_local(&addrs[0], 1, NULL, &total), 0);
	assert_int_equal(total, 8);
	assert_int_equal(sockdiag_count_established_local(&addrs[1], 1, counts, &total), 0);
	assert_int_equal(total, 0);
	assert_int_equal(counts[0], 0);
	/* To 127.0.0.2 the client's source is 127.0.0.1: one end on each address. */
	connect_n("127.0.0.2", p2, 3);
	assert_int_equal(sockdiag_count_established_local(addrs, 2, counts, &total), 0);
	assert_int_equal(counts[0], 11);
	assert_int_equal(counts[1], 3);
	assert_int_equal(total, 14);
}

static void count_local_ipv6_and_mapped(void **state)
{
	struct sockaddr_storage v6 = addr_of("::1", 0), v4 = addr_of("127.0.0.1", 0);
	uint64_t total;
	uint16_t port, dual_port;
	int dual;

	if (!isolated || !have_ipv6)
		skip();
	tcp_listen("::1", 8, &port);
	connect_n("::1", port, 2);
	assert_int_equal(sockdiag_count_established_local(&v6, 1, NULL, &total), 0);
	assert_int_equal(total, 4);
	assert_int_equal(sockdiag_count_established_local(&v4, 1, NULL, &total), 0);
	assert_int_equal(total, 0);
	/* An IPv4 client of a dual-stack listener: its accepted end is ::ffff:127.0.0.1. */
	dual = sock_bound(SOCK_STREAM, "::", 0);
	assert_int_equal(listen(dual, 8), 0);
	dual_port = local_port(dual);
	connect_n("127.0.0.1", dual_port, 1);
	assert_int_equal(sockdiag_count_established_local(&v4, 1, NULL, &total), 0);
	assert_int_equal(total, 2);
}

/* Enough addresses that the filter is longer than a one-byte jump. */
static void count_local_many(void **state)
{
	struct sockaddr_storage addrs[SOCKDIAG_MAX_LOCAL_ADDRS + 1];
	uint32_t counts[SOCKDIAG_MAX_LOCAL_ADDRS + 1];
	uint64_t total;
	uint16_t port;
	char text[32];

	if (!isolated)
		skip();
	for (int i = 0; i <= SOCKDIAG_MAX_LOCAL_ADDRS; i++) {
		snprintf(text, sizeof(text), i % 2 ? "127.0.1.%d" : "2001:db8::%d", i);
		addrs[i] = addr_of(text, 0);
	}
	addrs[SOCKDIAG_MAX_LOCAL_ADDRS - 1] = addr_of("127.0.0.1", 0);
	tcp_listen("127.0.0.1", 8, &port);
	connect_n("127.0.0.1", port, 2);
	assert_int_equal(sockdiag_count_established_local(addrs, SOCKDIAG_MAX_LOCAL_ADDRS, counts, &total), 0);
	assert_int_equal(total, 4);
	assert_int_equal(counts[SOCKDIAG_MAX_LOCAL_ADDRS - 1], 4);
	for (int i = 0; i < SOCKDIAG_MAX_LOCAL_ADDRS - 1; i++)
		assert_int_equal(counts[i], 0);
	assert_int_equal(sockdiag_count_established_local(addrs, SOCKDIAG_MAX_LOCAL_ADDRS + 1, counts, &total),
			 -E2BIG);
	addrs[0].ss_family = AF_UNIX;
	assert_int_equal(sockdiag_count_established_local(addrs, 1, counts, &total), -EAFNOSUPPORT);
	assert_int_equal(sockdiag_count_established_local(addrs, 0, NULL, &total), 0);
	assert_int_equal(total, 0);
}

static const char netstat_text[] =
	"TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops TCPHPHits\n"
	"TcpExt: 1 2 37 41 999\n"
	"IpExt: InNoRoutes ListenOverflows\n"
	"IpExt: 5 6\n";

static void netstat_parse(void **state)
{
	static const char *const bad[] = {
		"",
		"TcpExt: ListenOverflows ListenDrops\n",
		"TcpExt: ListenOverflows ListenDrops\nTcpExt: 1\n",
		"TcpExt: ListenOverflows ListenDrops\nTcpExt: 1 x\n",
		"TcpExt: ListenOverflows\nTcpExt: 1\n",
		"TcpExt: ListenOverflows ListenDrops\nTcpExt: 1 -2\n",
		"TcpExt: ListenOverflows ListenDrops\nTcpExt: 1 99999999999999999999999\n",
		"IpExt: ListenOverflows ListenDrops\nIpExt: 1 2\n",
	};
	struct sockdiag_overflows o;

	assert_int_equal(sockdiag_parse_netstat(netstat_text, &o), 0);
	assert_int_equal(o.listen_overflows, 37);
	assert_int_equal(o.listen_drops, 41);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sockdiag_parse_netstat(bad[i], &o), -EINVAL);
}

/* A full accept queue drops the next SYN and counts it. */
static void listen_overflow(void **state)
{
	struct sockdiag_overflows before, after;
	uint16_t port;

	if (!isolated)
		skip();
	tcp_listen("127.0.0.1", 1, &port);
	assert_int_equal(sockdiag_listen_overflows(&before), 0);
	for (int i = 0; i < 4; i++)
		tcp_connect("127.0.0.1", port, SOCK_NONBLOCK);
	assert_int_equal(sockdiag_listen_overflows(&after), 0);
	assert_true(after.listen_overflows > before.listen_overflows);
	assert_true(after.listen_drops > before.listen_drops);
}

static void free_null(void **state)
{
	sockdiag_snapshot_free(NULL);
	sockdiag_conn_counts_free(NULL);
	sockdiag_owners_free(NULL);
	assert_null(sockdiag_port_find(NULL, 80));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(listeners_with_owner, close_all),
		cmocka_unit_test_teardown(listeners_ipv6, close_all),
		cmocka_unit_test_teardown(conn_counts_per_port, close_all),
		cmocka_unit_test_teardown(conn_counts_half_open, close_all),
		cmocka_unit_test_teardown(count_local, close_all),
		cmocka_unit_test_teardown(count_local_ipv6_and_mapped, close_all),
		cmocka_unit_test_teardown(count_local_many, close_all),
		cmocka_unit_test(netstat_parse),
		cmocka_unit_test_teardown(listen_overflow, close_all),
		cmocka_unit_test(free_null),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
