/* The manager ties one node's pieces together in one libev loop: corosync
 * membership feeds the view, the view and config feed placement, placement feeds
 * transition, and this node's own state goes back out as an announce. */
#ifndef FOMGR_MANAGER_H
#define FOMGR_MANAGER_H

#include <ev.h>

struct manager;

struct manager *manager_new(struct ev_loop *loop, const char *config_path);
void manager_free(struct manager *m);
/* Loads the config (waiting for corosync's nodelist), reconciles the kernel and
 * joins the cluster. 0 or -errno (config refused). */
int manager_start(struct manager *m);
/* Re-reads the config; on error keeps the old one. 0 or -errno. */
int manager_reload(struct manager *m);
/* Releases everything, tells the peers, leaves the group, then breaks the loop. */
void manager_shutdown(struct manager *m);

/* --config-test: exactly the validation a start or reload runs. Prints errors.
 * Returns 0 when valid. */
int manager_config_test(const char *path);

#endif
