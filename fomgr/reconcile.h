/* Start-up's reconciliation of the kernel with the configuration: a group whose
 * addresses the kernel already holds is offered to the core for adoption (a
 * restarted fomgr keeps serving), and an address labelled as fomgr's that no
 * group configures is deleted. Synchronous netlink reads: start only, never on
 * the failover path. */
#ifndef FOMGR_RECONCILE_H
#define FOMGR_RECONCILE_H

#include "config.h"

struct vip;

/* The core's answer to an adoption: 0 when it adopts group's addresses. */
typedef int (*reconcile_adopt_fn)(void *arg, const char *group);

/* Offers each group with an address present in vip's kernel to adopt (logged when
 * adopted), then deletes (asynchronously, logged) every labelled address of no
 * group. 0, or the negative errno of listing the labelled addresses. */
int reconcile_kernel(struct vip *vip, const struct config *config, reconcile_adopt_fn adopt, void *arg);

#endif
