#include "client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "failure.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int client_expected_uid(uid_t *uid)
{
	const char *s = getenv("FOMCTL_EXPECT_UID");
	char *end;
	unsigned long v;

	*uid = 0;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 0xfffffffful) {
		failure("FOMCTL_EXPECT_UID='%s' is not a uid\n", s);
		return CONTROL_EX_USAGE;
	}
	*uid = (uid_t)v;
	return 0;
}

/* The file must be a socket owned by the expected user: anything else may be
 * someone waiting for an operator's commands. */
static int check_file(const char *path, uid_t expect)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		failure("%s: %s (is fomgr running?)\n", path, strerror(errno));
		return errno == EACCES ? CONTROL_EX_NOPERM : CONTROL_EX_UNAVAILABLE;
	}
	if (S_ISLNK(st.st_mode)) {
		failure("refusing %s: a symbolic link, not fomgr's socket\n", path);
		return CONTROL_EX_NOPERM;
	}
	if (!S_ISSOCK(st.st_mode)) {
		failure("refusing %s: not a socket\n", path);
		return CONTROL_EX_NOPERM;
	}
	if (st.st_uid != expect) {
		failure("refusing %s: owned by uid %u, expected uid %u (FOMCTL_EXPECT_UID)\n", path,
			(unsigned)st.st_uid, (unsigned)expect);
		return CONTROL_EX_NOPERM;
	}
	return 0;
}

int client_open(struct client *c, const char *path, uid_t expect_uid)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->path = path;
	c->expect_uid = expect_uid;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		failure("socket path too long: %s\n", path);
		return CONTROL_EX_USAGE;
	}
	rc = check_file(path, expect_uid);
	if (rc)
		return rc;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		if (err == EACCES || err == EPERM) {
			failure("%s: permission denied (root, or a member of fomgr's admin or "
					"view group)\n", path);
			rc = CONTROL_EX_NOPERM;
		} else {
			failure("%s: %s (is fomgr running?)\n", path, strerror(err));
			rc = CONTROL_EX_UNAVAILABLE;
		}
		client_close(c);
		return rc;
	}
	/* The file's owner said nothing about who accepted: ask the kernel. */
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != expect_uid) {
		failure("refusing %s: the server runs as uid %d, expected uid %u\n", path,
			len == sizeof(cred) ? (int)cred.uid : -1, (unsigned)expect_uid);
		client_close(c);
		return CONTROL_EX_NOPERM;
	}
	return 0;
}

void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int send_all(struct client *c, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			failure("%s: %s\n", c->path, strerror(errno));
			return CONTROL_EX_UNAVAILABLE;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One line into *line (NUL-terminated in c->buf); 0, 1 at EOF, or an exit code. */
static int read_line(struct client *c, double timeout, char **line, size_t *line_len)
{
	double deadline = timeout < 0 ? 0 : now_s() + timeout;

	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		ssize_t n;
		int wait_ms = -1;

		if (nl) {
			*nl = '\0';
			*line = c->buf;
			*line_len = (size_t)(nl - c->buf);
			return 0;
		}
		if (c->len == sizeof(c->buf) - 1) {
			failure("reply longer than %zu bytes\n", sizeof(c->buf) - 1);
			return CONTROL_EX_PROTOCOL;
		}
		if (timeout >= 0) {
			double left = deadline - now_s();

			if (left <= 0) {
				failure("no answer from %s within %.0f s\n", c->path, timeout);
				return CONTROL_EX_TIMEOUT;
			}
			wait_ms = (int)(left * 1000) + 1;
		}
		if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR)
			return CONTROL_EX_SOFTWARE;
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 1;
		c->len += (size_t)n;
	}
}

/* Drops the line read last (and its newline) from the buffer. */
static void consume(struct client *c, size_t line_len)
{
	memmove(c->buf, c->buf + line_len + 1, c->len - line_len - 1);
	c->len -= line_len + 1;
}

static int parse_line(char *line, size_t len, json_t **out)
{
	json_error_t e;

	*out = json_loadb(line, len, 0, &e);
	if (!*out || !json_is_object(*out)) {
		failure("the daemon's answer is not a JSON object: %s\n", *out ? "" : e.text);
		json_decref(*out);
		*out = NULL;
		return CONTROL_EX_PROTOCOL;
	}
	return 0;
}

int client_call(struct client *c, const char *cmd, json_t *args, double timeout, json_t **reply)
{
	char id[16], *text, *line;
	size_t len;
	json_t *req;
	int rc;

	*reply = NULL;
	snprintf(id, sizeof(id), "%u", ++c->next_id);
	req = json_pack("{s:i, s:s, s:s}", "v", CONTROL_VERSION, "id", id, "cmd", cmd);
	if (args)
		json_object_set_new(req, "args", args);
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!text)
		return CONTROL_EX_SOFTWARE;
	rc = send_all(c, text, strlen(text));
	if (rc == 0)
		rc = send_all(c, "\n", 1);
	free(text);
	/* Lines of an earlier event stream are skipped: the reply carries our id, or
	 * none when the daemon refused the connection itself (too many clients). */
	while (rc == 0) {
		const char *rid;

		rc = read_line(c, timeout, &line, &len);
		if (rc == 1) {
			failure("%s closed the connection without an answer\n", c->path);
			return CONTROL_EX_UNAVAILABLE;
		}
		if (rc)
			return rc;
		rc = parse_line(line, len, reply);
		consume(c, len);
		if (rc)
			return rc;
		rid = json_string_value(json_object_get(*reply, "id"));
		if (json_object_get(*reply, "ok") && (!rid || strcmp(rid, id) == 0))
			return 0;
		json_decref(*reply);
		*reply = NULL;
	}
	return rc;
}

int client_next(struct client *c, double timeout, json_t **event)
{
	char *line;
	size_t len;
	int rc = read_line(c, timeout, &line, &len);

	*event = NULL;
	if (rc)
		return rc;
	rc = parse_line(line, len, event);
	consume(c, len);
	return rc;
}

int client_reply_error(const json_t *reply)
{
	const char *why = json_string_value(json_object_get(reply, "error"));
	json_int_t code = json_integer_value(json_object_get(reply, "code"));

	failure("%s\n", why ? why : "the daemon refused");
	/* Only codes fomctl documents; anything else is the daemon's failure. */
	switch (code) {
	case CONTROL_EX_FAILED:
	case CONTROL_EX_USAGE:
	case CONTROL_EX_NOHOST:
	case CONTROL_EX_UNAVAILABLE:
	case CONTROL_EX_SOFTWARE:
	case CONTROL_EX_IOERR:
	case CONTROL_EX_TEMPFAIL:
	case CONTROL_EX_NOPERM:
	case CONTROL_EX_CONFIG:
		return (int)code;
	default:
		return CONTROL_EX_FAILED;
	}
}
