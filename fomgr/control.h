/* The control protocol that fomctl and the daemon's control socket
 * (control_socket.h) speak: newline-delimited JSON, one request and one reply per
 * line, the commands, their parsing and validation, and who may run which.
 *
 *   request  {"v":1,"id":"42","cmd":"vip.move","args":{"group":"web","to":"node2"}}
 *   reply    {"v":1,"id":"42","ok":true,...}
 *            {"v":1,"id":"42","ok":false,"error":"why","code":77}
 *
 * "code" is the exit status fomctl returns (CONTROL_EX_*, sysexits). */
#ifndef FOMGR_CONTROL_H
#define FOMGR_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

#define CONTROL_VERSION 1
#define CONTROL_MAX_LINE 65536 /* bytes of one request, without its newline */
#define CONTROL_ID_MAX 128

enum control_cmd {
	CONTROL_STATUS,
	CONTROL_EVENTS,
	CONTROL_VIP_MOVE,
	CONTROL_VIP_CLEAR,
	CONTROL_NODE_STANDBY,
	CONTROL_NODE_UNSTANDBY,
	CONTROL_RELOAD,
	CONTROL_LOG_REOPEN,
	CONTROL_GROUP_DISABLE,
	CONTROL_GROUP_ENABLE,
	CONTROL_MAINTENANCE_ON,
	CONTROL_MAINTENANCE_OFF,
	CONTROL_SIMULATE, /* read-only: what placement would follow a change or a fault */
	CONTROL_HISTORY,
	CONTROL_CMD_MAX
};

/* Exit codes: sysexits, plus 124 as timeout(1). Shared with fomctl. */
enum control_exit {
	CONTROL_EX_OK = 0,
	CONTROL_EX_FAILED = 1,       /* the daemon refused: target not eligible, ... */
	CONTROL_EX_USAGE = 64,       /* bad command line, malformed or unknown request */
	CONTROL_EX_DATAERR = 65,     /* log verify: the chain is broken */
	CONTROL_EX_NOINPUT = 66,     /* log verify: cannot read the file */
	CONTROL_EX_NOHOST = 68,      /* unknown node or group */
	CONTROL_EX_UNAVAILABLE = 69, /* no daemon answers on the socket */
	CONTROL_EX_SOFTWARE = 70,    /* internal error */
	CONTROL_EX_IOERR = 74,       /* the audit log cannot be written: command refused */
	CONTROL_EX_TEMPFAIL = 75,    /* no quorum, not joined, busy, too many clients: retry */
	CONTROL_EX_PROTOCOL = 76,    /* the daemon's answer makes no sense */
	CONTROL_EX_NOPERM = 77,      /* not allowed; or the socket's owner is not trusted */
	CONTROL_EX_CONFIG = 78,      /* reload: the configuration is refused, the old one runs */
	CONTROL_EX_TIMEOUT = 124,    /* --wait ran out */
};

/* Who may do what: read (status, events, simulate, history) or change state (everything else). */
enum control_role { CONTROL_ROLE_NONE, CONTROL_ROLE_VIEW, CONTROL_ROLE_ADMIN, CONTROL_ROLE_MAX };

/* What became of requests, for metrics (fomgr_control_requests_total{result}). */
enum control_result {
	CONTROL_RESULT_OK,
	CONTROL_RESULT_ERROR,   /* understood and allowed, but failed */
	CONTROL_RESULT_DENIED,  /* not allowed for this caller */
	CONTROL_RESULT_INVALID, /* malformed, unknown command, oversized */
	CONTROL_RESULT_REFUSED, /* too many clients */
	CONTROL_RESULT_MAX
};

struct control_request {
	int has_id;
	char id[CONTROL_ID_MAX + 1];
	enum control_cmd cmd;
	char group[CONFIG_NAME_MAX]; /* vip.*, group.*, simulate */
	char node[CONFIG_NAME_MAX];  /* vip.move "to" (may be empty), node.* and simulate "node" */
	char check[CONFIG_NAME_MAX]; /* simulate fail-check */
	char action[CONFIG_NAME_MAX]; /* simulate: standby, move, fail, fail-check */
	uint64_t since_ms;           /* history: "since_ms" (Unix ms), 0 when absent */
};

/* The caller, from SO_PEERCRED and SO_PEERGROUPS. */
struct control_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	size_t n_groups;
	const gid_t *groups; /* supplementary groups */
	char user[64];       /* from the password database, or the uid in decimal */
};

/* Groups trusted on the socket; a group that is not set (or does not exist) trusts
 * nobody. uid 0 is always an admin. */
struct control_policy {
	int has_admin, has_view;
	gid_t admin_gid, view_gid;
};

/* Parses one request line (without its newline). 0, or -EINVAL with why filled in
 * (req->id and has_id are set whenever the id could be read, for the reply). */
int control_parse_request(const char *line, size_t len, struct control_request *req, char *why, size_t size);
enum control_role control_peer_role(const struct control_peer *peer, const struct control_policy *policy);
int control_cmd_allowed(enum control_cmd cmd, enum control_role role);
int control_cmd_mutates(enum control_cmd cmd);
/* The exit code for a manager error (negative errno). */
enum control_exit control_errno_exit(int err);
const char *control_cmd_str(enum control_cmd cmd);
const char *control_role_str(enum control_role role);
const char *control_result_str(enum control_result result);

#endif
