/* The knet watch: the datagram parser, the link decision the pair watch gets while
 * corosync is silent, and the packet socket with its kernel filter, on loopback in
 * a network namespace of the test's own (as root, which CI is). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fo/clock.h"
#include "knetwatch.h"

static size_t v4(unsigned char *b, const char *src, uint16_t dport, int ihl, int proto, uint16_t frag)
{
	size_t h = (size_t)ihl * 4;

	memset(b, 0, h + 8);
	b[0] = (unsigned char)(0x40 | ihl);
	b[6] = (unsigned char)(frag >> 8);
	b[7] = (unsigned char)frag;
	b[9] = (unsigned char)proto;
	inet_pton(AF_INET, src, b + 12);
	inet_pton(AF_INET, "198.51.100.12", b + 16);
	b[h] = 5405 >> 8;
	b[h + 1] = 5405 & 0xff;
	b[h + 2] = (unsigned char)(dport >> 8);
	b[h + 3] = (unsigned char)dport;
	return h + 8;
}

static size_t v6(unsigned char *b, const char *src, uint16_t dport, int next)
{
	memset(b, 0, 48);
	b[0] = 0x60;
	b[6] = (unsigned char)next;
	inet_pton(AF_INET6, src, b + 8);
	inet_pton(AF_INET6, "2001:db8::12", b + 24);
	b[42] = (unsigned char)(dport >> 8);
	b[43] = (unsigned char)dport;
	return 48;
}

static void parse_accepts_udp_to_the_port(void **state)
{
	unsigned char b[128];
	struct knetwatch_src s;
	struct in_addr want;
	size_t n;

	(void)state;
	inet_pton(AF_INET, "198.51.100.11", &want);
	n = v4(b, "198.51.100.11", 5405, 5, IPPROTO_UDP, 0);
	assert_int_equal(knetwatch_parse(b, n, 5405, &s), 0);
	assert_int_equal(s.family, AF_INET);
	assert_memory_equal(&s.addr.v4, &want, 4);
	/* with IP options the UDP header moves */
	n = v4(b, "198.51.100.11", 5405, 7, IPPROTO_UDP, 0);
	assert_int_equal(knetwatch_parse(b, n, 5405, &s), 0);
	/* a first fragment (offset 0, more fragments) still has the header */
	n = v4(b, "198.51.100.11", 5405, 5, IPPROTO_UDP, 0x2000);
	assert_int_equal(knetwatch_parse(b, n, 5405, &s), 0);
	n = v6(b, "2001:db8::11", 5405, IPPROTO_UDP);
	assert_int_equal(knetwatch_parse(b, n, 5405, &s), 0);
	assert_int_equal(s.family, AF_INET6);
	assert_int_equal(s.addr.v6.s6_addr[15], 0x11);
}

static void parse_refuses_the_rest(void **state)
{
	unsigned char b[128];
	struct knetwatch_src s;
	size_t n;

	(void)state;
	n = v4(b, "198.51.100.11", 5406, 5, IPPROTO_UDP, 0);
	assert_int_equal(knetwatch_parse(b, n, 5405, &s), -EINVAL); /* another port */
	n = v4(b, "198.51.100.11", 5405, 5, IPPROTO_TCP, 0);
	assert_int_equal(knetwatch_parse(b, n, 5405, &s), -EINVAL);
	n = v4(b, "198.51.100.11", 5405, 5, IPPROTO_UDP, 0x0010);
	assert_int_equal(knetwatch_parse(b, n, 5405, &s), -EINVAL); /* a later fragment */
	n = v4(b, "198.51.100.11", 5405, 4, IPPROTO_UDP, 0);
	assert_int_equal(knetwatch_parse(b, n, 5405, &s), -EINVAL); /* IHL below 5 */
	n = v6(b, "2001:db8::11", 5405, 0);
	assert_int_equal(knetwatch_parse(b, n, 5405, &s), -EINVAL); /* an extension header */
	b[0] = 0x50;
	assert_int_equal(knetwatch_parse(b, n, 5405, &s), -EINVAL);
	/* every truncation short of the UDP ports is refused */
	n = v4(b, "198.51.100.11", 5405, 5, IPPROTO_UDP, 0);
	for (size_t k = 0; k < 24; k++)
		assert_int_equal(knetwatch_parse(b, k, 5405, &s), -EINVAL);
	assert_int_equal(knetwatch_parse(b, 24, 5405, &s), 0);
	n = v6(b, "2001:db8::11", 5405, IPPROTO_UDP);
	for (size_t k = 0; k < 44; k++)
		assert_int_equal(knetwatch_parse(b, k, 5405, &s), -EINVAL);
	assert_int_equal(knetwatch_parse(b, 44, 5405, &s), 0);
}

static void link_decision(void **state)
{
	uint64_t now = 100000000;

	(void)state;
	assert_int_equal(knetwatch_timeout_ms(600, 100), 600);
	assert_int_equal(knetwatch_timeout_ms(600, 300), 900); /* three pings at least */
	assert_int_equal(knetwatch_timeout_ms(0, 0), 1000);
	/* never heard: corosync's reading stands, up or down */
	assert_int_equal(knetwatch_link_up(1, 0, now, 600), 1);
	assert_int_equal(knetwatch_link_up(0, 0, now, 600), 0);
	/* heard within the timeout: up; beyond it: down */
	assert_int_equal(knetwatch_link_up(1, now - 600000, now, 600), 1);
	assert_int_equal(knetwatch_link_up(1, now - 601000, now, 600), 0);
	/* it never turns a link up that corosync calls down */
	assert_int_equal(knetwatch_link_up(0, now, now, 600), 0);
}

/* One UDP datagram from src to dst:port. */
static void send_to(int family, const char *src, const char *dst, uint16_t port)
{
	int fd = socket(family, SOCK_DGRAM, 0);
	struct sockaddr_storage a = {0}, b = {0};
	socklen_t len;

	assert_true(fd >= 0);
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&a, *d = (struct sockaddr_in *)&b;
		s->sin_family = d->sin_family = AF_INET;
		inet_pton(AF_INET, src, &s->sin_addr);
		inet_pton(AF_INET, dst, &d->sin_addr);
		d->sin_port = htons(port);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a, *d = (struct sockaddr_in6 *)&b;
		s->sin6_family = d->sin6_family = AF_INET6;
		inet_pton(AF_INET6, src, &s->sin6_addr);
		inet_pton(AF_INET6, dst, &d->sin6_addr);
		d->sin6_port = htons(port);
		len = sizeof(*s);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&a, len), 0);
	assert_int_equal(sendto(fd, "x", 1, 0, (struct sockaddr *)&b, len), 1);
	close(fd);
}

static void settle(struct ev_loop *loop)
{
	for (int i = 0; i < 5; i++) {
		usleep(20000);
		ev_run(loop, EVRUN_NOWAIT);
	}
}

/* On loopback every datagram passes twice (outgoing, then incoming): the filter
 * keeps the incoming copy of those to the port, and the source names the peer. */
static void socket_hears_peers_on_the_port(void **state)
{
	struct ev_loop *loop;
	struct knetwatch *w;
	struct ifreq ifr = {0};
	int fd;
	const struct knetwatch_peer peers[] = {
		{.nodeid = 2, .n_addrs = 1, .addrs = {"127.0.0.2"}},
		{.nodeid = 3, .n_addrs = 2, .addrs = {"node3.example", "::1"}},
		{.nodeid = 4, .n_addrs = 1, .addrs = {"127.0.0.4"}},
	};

	(void)state;
	if (geteuid() != 0)
		skip(); /* CI runs as root */
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	assert_int_equal(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
	close(fd);
	usleep(50000); /* ::1 is usable once lo is up (no DAD on loopback) */

	loop = ev_loop_new(EVFLAG_AUTO);
	w = knetwatch_new(loop);
	assert_non_null(w);
	/* before the port is known nothing is heard */
	send_to(AF_INET, "127.0.0.2", "127.0.0.1", 5405);
	settle(loop);
	assert_int_equal(knetwatch_set(w, 5405, peers, 3), 0);
	assert_int_equal(knetwatch_heard_us(w, 2), 0);
	/* another port, another source: not heard */
	send_to(AF_INET, "127.0.0.2", "127.0.0.1", 5406);
	send_to(AF_INET, "127.0.0.9", "127.0.0.1", 5405);
	settle(loop);
	assert_int_equal(knetwatch_heard_us(w, 2), 0);
	/* the peer's datagram to the port: heard, now */
	send_to(AF_INET, "127.0.0.2", "127.0.0.1", 5405);
	settle(loop);
	assert_true(knetwatch_heard_us(w, 2) > 0);
	assert_true(clock_mono_us() - knetwatch_heard_us(w, 2) < 1000000);
	assert_int_equal(knetwatch_heard_us(w, 4), 0);
	/* IPv6; a host name among the addresses is skipped, not fatal */
	send_to(AF_INET6, "::1", "::1", 5405);
	settle(loop);
	assert_true(knetwatch_heard_us(w, 3) > 0);
	/* the same peers again keep what was heard */
	assert_int_equal(knetwatch_set(w, 5405, peers, 3), 0);
	assert_true(knetwatch_heard_us(w, 2) > 0);
	/* a new port: the filter follows */
	assert_int_equal(knetwatch_set(w, 5407, peers, 1), 0);
	assert_int_equal(knetwatch_heard_us(w, 3), 0); /* no longer a peer */
	{
		uint64_t before = knetwatch_heard_us(w, 2);
		send_to(AF_INET, "127.0.0.2", "127.0.0.1", 5405);
		settle(loop);
		assert_int_equal(knetwatch_heard_us(w, 2), before);
		send_to(AF_INET, "127.0.0.2", "127.0.0.1", 5407);
		settle(loop);
		assert_true(knetwatch_heard_us(w, 2) > before);
	}
	knetwatch_free(w);
	ev_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_accepts_udp_to_the_port),
		cmocka_unit_test(parse_refuses_the_rest),
		cmocka_unit_test(link_decision),
		cmocka_unit_test(socket_hears_peers_on_the_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
