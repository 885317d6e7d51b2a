/* Fence: this node's withdrawal from the corosync ring (the pair watch's rule),
 * carried out as nftables rules in a table of fomgr's own: corosync's traffic
 * (its knet port) to and from every address but the kept peer's is dropped, so
 * corosync here sees every other node go away and the rest of the cluster sees
 * a clean partition. The audit's firewall digest leaves this table out. */
#ifndef FOMGR_FENCE_H
#define FOMGR_FENCE_H

#include <stddef.h>
#include <stdint.h>

#define FENCE_TABLE "fomgr_fence"

/* keep: IP literals (never names: nothing here may wait for DNS). -EINVAL when
 * none of them is an address; 0 or -errno. Replaces a fence already in place. */
int fence_withdraw(uint16_t port, const char *const *keep, size_t n_keep);
/* Removes the fence; 0 when there was one, 1 when there was none, or -errno. */
int fence_return(void);
/* The nft commands fence_withdraw runs, written to buf (for tests and logs). */
int fence_commands(uint16_t port, const char *const *keep, size_t n_keep, char *buf, size_t size);

#endif
