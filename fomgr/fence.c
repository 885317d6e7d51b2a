#include "fence.h"

#include <arpa/inet.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>

/* Runs cmds in one transaction; 0 or -EPERM (libnftables says no more than that). */
static int run(const char *cmds)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	int rc;

	if (!ctx)
		return -ENOMEM;
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	rc = nft_run_cmd_from_buffer(ctx, cmds) == 0 ? 0 : -EPERM;
	nft_ctx_free(ctx);
	return rc;
}

int fence_commands(uint16_t port, const char *const *keep, size_t n_keep, char *buf, size_t size)
{
	size_t used = 0, kept = 0;
	int n;

#define ADD(...)                                                                 \
	do {                                                                     \
		n = snprintf(buf + used, size - used, __VA_ARGS__);              \
		if (n < 0 || (size_t)n >= size - used)                           \
			return -ENOSPC;                                          \
		used += (size_t)n;                                               \
	} while (0)
	ADD("add table inet " FENCE_TABLE "\nflush table inet " FENCE_TABLE "\n");
	ADD("add chain inet " FENCE_TABLE " in { type filter hook input priority -300; policy accept; }\n");
	ADD("add chain inet " FENCE_TABLE " out { type filter hook output priority -300; policy accept; }\n");
	ADD("add rule inet " FENCE_TABLE " in iifname \"lo\" accept\n");
	ADD("add rule inet " FENCE_TABLE " out oifname \"lo\" accept\n");
	for (size_t i = 0; i < n_keep; i++) {
		unsigned char a[16];
		const char *fam = inet_pton(AF_INET, keep[i], a) == 1	 ? "ip"
				  : inet_pton(AF_INET6, keep[i], a) == 1 ? "ip6"
									 : NULL;
		if (!fam)
			continue;
		ADD("add rule inet " FENCE_TABLE " in %s saddr %s udp dport %u accept\n", fam, keep[i], port);
		ADD("add rule inet " FENCE_TABLE " out %s daddr %s udp dport %u accept\n", fam, keep[i], port);
		kept++;
	}
	ADD("add rule inet " FENCE_TABLE " in udp dport %u drop\n", port);
	ADD("add rule inet " FENCE_TABLE " out udp dport %u drop\n", port);
#undef ADD
	return kept ? 0 : -EINVAL;
}

int fence_withdraw(uint16_t port, const char *const *keep, size_t n_keep)
{
	char cmds[4096];
	int rc = fence_commands(port, keep, n_keep, cmds, sizeof(cmds));

	return rc < 0 ? rc : run(cmds);
}

int fence_return(void)
{
	if (run("list table inet " FENCE_TABLE) < 0)
		return 1;
	return run("delete table inet " FENCE_TABLE);
}
