/* Test tool: joins a CPG group as a stray process and multicasts hostile
 * messages, to show that fomgr refuses and logs them and carries on.
 *   cpg-inject GROUP garbage N   N messages of random bytes and broken headers
 *   cpg-inject GROUP announce    a well-formed announce claiming every group "vip"
 * Bounded: it sends what it was asked, waits a second for delivery and leaves. */
#include <corosync/cpg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wire.h"

static void on_deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid, void *msg,
		       size_t len)
{
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *g, const struct cpg_address *m, size_t nm,
		       const struct cpg_address *l, size_t nl, const struct cpg_address *j, size_t nj)
{
}

static int send_buf(cpg_handle_t h, const void *buf, size_t len)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};

	for (int tries = 0; tries < 100; tries++) {
		cs_error_t err = cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1);
		if (err == CS_OK)
			return 0;
		if (err != CS_ERR_TRY_AGAIN)
			return -1;
		usleep(10000);
	}
	return -1;
}

static int send_garbage(cpg_handle_t h, int n)
{
	uint8_t buf[512];

	srand(42);
	for (int i = 0; i < n; i++) {
		size_t len = 1 + (size_t)(rand() % (int)sizeof(buf));
		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)rand();
		if (i % 2) /* a valid magic and version in front of the noise */
			memcpy(buf, "FOMG\x01\x01\x00\x00", len < 8 ? len : 8);
		if (send_buf(h, buf, len) < 0)
			return -1;
	}
	return 0;
}

static int send_announce(cpg_handle_t h)
{
	static struct wire_announce a;
	static uint8_t buf[WIRE_MAX_SIZE];
	int len;

	a.seq = 1;
	strcpy(a.version, "intruder");
	strcpy(a.held[a.n_held++], "vip");
	a.admin.epoch = 1000000;
	strcpy(a.admin.standby[a.admin.n_standby++], "node1");
	len = wire_encode_announce(&a, buf, sizeof(buf));
	return len < 0 ? -1 : send_buf(h, buf, (size_t)len);
}

int main(int argc, char **argv)
{
	cpg_callbacks_t cb = {.cpg_deliver_fn = on_deliver, .cpg_confchg_fn = on_confchg};
	struct cpg_name group;
	cpg_handle_t h;
	int rc;

	if (argc < 3 || strlen(argv[1]) >= CPG_MAX_NAME_LENGTH) {
		fprintf(stderr, "usage: cpg-inject GROUP garbage N | announce\n");
		return 64;
	}
	group.length = (uint32_t)strlen(argv[1]);
	memcpy(group.value, argv[1], group.length);
	if (cpg_initialize(&h, &cb) != CS_OK || cpg_join(h, &group) != CS_OK) {
		fprintf(stderr, "cpg-inject: cannot join %s\n", argv[1]);
		return 69;
	}
	if (strcmp(argv[2], "garbage") == 0)
		rc = send_garbage(h, argc > 3 ? atoi(argv[3]) : 10);
	else
		rc = send_announce(h);
	sleep(1);
	cpg_leave(h, &group);
	cpg_finalize(h);
	printf("cpg-inject: %s\n", rc == 0 ? "sent" : "failed");
	return rc == 0 ? 0 : 1;
}
