/* The control socket: operators' requests (fomctl, see control.h) on a filesystem
 * Unix socket, authorized per command by the caller's peer credentials, each
 * mutating command written to the audit log before it is carried out. It owns the
 * socket and its clients; every decision about the cluster is the manager's. */
#ifndef FOMGR_CONTROL_SOCKET_H
#define FOMGR_CONTROL_SOCKET_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"

#define CONTROL_SOCKET_MAX_CLIENTS 32
/* Of those, the slots only root and admin_group may take: clients of the view
 * group (idle, or many) never lock an administrator out. */
#define CONTROL_SOCKET_ADMIN_RESERVED 4
#define CONTROL_SOCKET_IDLE_TIMEOUT 30.0     /* seconds without a request (event streams excepted) */
#define CONTROL_SOCKET_MAX_OUTPUT (4u << 20) /* queued output per client; a slower reader is dropped */

struct manager;
struct auditlog;
struct control_socket;

/* reload: re-reads the configuration; fills detail with the errors when refused.
 * Returns 0 or -errno. */
typedef int (*control_socket_reload_fn)(void *arg, char *detail, size_t size);
/* The audit log to write to, asked at each command (the manager opens it once it
 * knows the node's name, and may reopen it). NULL: mutating commands are refused. */
typedef struct auditlog *(*control_socket_auditlog_fn)(void *arg);

struct control_socket_options {
	const char *path;
	const char *admin_group, *view_group; /* "" or NULL: none */
	control_socket_auditlog_fn auditlog;
	control_socket_reload_fn reload;
	void *arg;                            /* for auditlog and reload */
};

struct control_socket_stats {
	uint64_t requests[CONTROL_RESULT_MAX];
	unsigned clients;
};

struct control_socket *control_socket_new(struct ev_loop *loop, struct manager *m,
					  const struct control_socket_options *options);
/* Binds the socket (replacing a stale one; a symlink, a file that is not a socket,
 * a socket owned by someone else or one that answers make it fail) and listens.
 * Logs why it fails. 0 or -errno. */
int control_socket_start(struct control_socket *ctl);
/* Applies new groups (reload): socket group and ACL, and who may do what. */
int control_socket_set_groups(struct control_socket *ctl, const char *admin_group, const char *view_group);
/* Closes every client and removes the socket. Accepts NULL. */
void control_socket_free(struct control_socket *ctl);
void control_socket_get_stats(const struct control_socket *ctl, struct control_socket_stats *stats);

#endif
