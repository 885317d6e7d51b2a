/* fomctl's side of the control socket: connect only to a server run by the
 * expected user (root, or FOMCTL_EXPECT_UID), send one request, read replies and
 * event lines with a deadline. Failures carry the exit code fomctl returns. */
#ifndef FOMCTL_CLIENT_H
#define FOMCTL_CLIENT_H

#include <jansson.h>
#include <sys/types.h>

#define CLIENT_DEFAULT_SOCKET "/run/fomgr/control.sock"

struct client {
	int fd;
	const char *path;
	uid_t expect_uid;
	unsigned next_id;
	/* A whole status document fits (64 groups, 32 nodes, every node's why for
	 * every group): as much as the daemon queues (CONTROL_SOCKET_MAX_OUTPUT). */
	char buf[4 << 20];
	size_t len;
};

/* Reads FOMCTL_EXPECT_UID (default 0). 0, or CONTROL_EX_USAGE when it is not a uid. */
int client_expected_uid(uid_t *uid);

/* Checks the socket file and the server's credentials before anything is sent.
 * 0, or an exit code (69 no daemon, 77 not allowed / not trusted) after printing
 * why to stderr. */
int client_open(struct client *c, const char *path, uid_t expect_uid);
void client_close(struct client *c);

/* Sends {"v":1,"id":..,"cmd":cmd,"args":args} (args taken, may be NULL) and waits
 * up to timeout seconds for the answer. 0 and *reply (the caller's), or an exit
 * code after printing why. An {"ok":false} answer is returned as 0 too. */
int client_call(struct client *c, const char *cmd, json_t *args, double timeout, json_t **reply);
/* The next line of an event stream; 0 and *event, 1 at the end of the stream, or
 * an exit code. timeout < 0 waits forever. */
int client_next(struct client *c, double timeout, json_t **event);

/* For an {"ok":false} reply: prints the error and returns its code. */
int client_reply_error(const json_t *reply);

#endif
