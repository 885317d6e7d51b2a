/* The control socket (see control_socket.h). Everything runs in the loop: the listening
 * socket and each client are non-blocking ev_io watchers, a client's requests are
 * handled one at a time in the order they arrive, and a request the cluster must
 * agree on holds that client (not the loop) until the manager calls back.
 *
 * The socket file is mode 0660, group admin_group, with a POSIX ACL entry giving
 * view_group the same access: the kernel keeps everyone else out before fomgr sees
 * them. Whoever gets in is authorized again per command from SO_PEERCRED and
 * SO_PEERGROUPS, which the kernel fills in at connect time. */
#include "control_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <libgen.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "auditlog.h"
#include "fo/clock.h"
#include "fo/jsontext.h"
#include "fo/log.h"
#include "manager.h"
#include "whatif.h"

#define CONTROL_BACKLOG 64
#define CONTROL_MAX_PEER_GROUPS 1024
#define CONTROL_DRAIN_TIME 1.0 /* seconds a hung-up client may take to close its end */
/* Each refusal is an fsync'ed record written from the loop: a caller who keeps
 * asking for what it may not do is cut off, and records beyond a rate are only
 * counted (the next record says how many were left out). */
#define CONTROL_MAX_DENIED_PER_CLIENT 16
#define CONTROL_DENIED_RECORDS_PER_S 10

/* ---- the socket's state ---- */

struct client;

/* A request the cluster is agreeing on; outlives its client if that one leaves. */
struct pending {
	struct pending *next;
	struct control_socket *ctl;
	struct client *client; /* NULL once the client has gone */
	struct control_peer peer; /* without its groups */
	struct control_request req;
	char target[CONFIG_NAME_MAX];
	uint64_t start_us;
};

struct client {
	struct client *next;
	struct control_socket *ctl;
	int fd;
	ev_io rio, wio;
	ev_timer idle;
	struct control_peer peer;
	gid_t groups[64];
	gid_t *groups_heap;
	enum control_role role;
	char *in;
	size_t in_len;
	char *out;
	size_t out_len, out_size;
	int streaming; /* events: every event is written here */
	int closing;   /* hang up once the output is written */
	int draining;  /* hung up: input is read and dropped until EOF (no RST eats the reply) */
	int eof;
	int dead;      /* closed; freed by reap() from a top-level callback */
	unsigned denied;
	struct pending *pending;
};

struct control_socket {
	struct ev_loop *loop;
	struct manager *m;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	int bound;
	ev_io accept_io;
	ev_timer accept_pause;
	struct control_policy policy;
	char admin_group[CONFIG_NAME_MAX], view_group[CONFIG_NAME_MAX];
	control_socket_auditlog_fn auditlog;
	control_socket_reload_fn reload;
	void *arg;
	struct client *clients;
	struct client *dead; /* closed, not yet freed */
	unsigned n_clients;
	int refusing; /* refusing view clients: logged once per streak */
	struct pending *pendings;
	int listening; /* registered with the manager for events */
	ev_tstamp denied_window;          /* start of the current second */
	unsigned denied_in_window;
	uint64_t denied_suppressed;       /* refusals not written since the last record */
	struct control_socket_stats stats;
};

static void client_close(struct client *c);
static void client_process(struct client *c);

/* Closed clients are freed only here, from callbacks the loop calls directly, so
 * that no frame still holding a client pointer sees it freed: anywhere else a
 * closed client is simply one with c->dead set. */
static void reap(struct control_socket *ctl)
{
	while (ctl->dead) {
		struct client *c = ctl->dead;

		ctl->dead = c->next;
		free(c->groups_heap);
		free(c->in);
		free(c->out);
		free(c);
	}
}

/* ---- output ---- */

/* Closing a socket with unread input makes the kernel reset the connection, and
 * the peer may then lose the reply it has not read yet (the error reply to an
 * oversized line, typically). So: our end is shut, and what still arrives is read
 * and dropped until the peer closes, for at most CONTROL_DRAIN_TIME. */
static void client_hang_up(struct client *c)
{
	if (c->eof) {
		client_close(c);
		return;
	}
	if (c->draining)
		return;
	c->draining = 1;
	shutdown(c->fd, SHUT_WR);
	ev_io_start(c->ctl->loop, &c->rio);
	ev_timer_stop(c->ctl->loop, &c->idle);
	ev_timer_set(&c->idle, CONTROL_DRAIN_TIME, 0.);
	ev_timer_start(c->ctl->loop, &c->idle);
}

static void client_flush(struct client *c)
{
	size_t off = 0;

	if (c->dead)
		return;
	while (off < c->out_len) {
		ssize_t n = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) { /* the reader is gone: nothing more to say */
			client_close(c);
			return;
		}
		off += (size_t)n;
	}
	if (off) {
		memmove(c->out, c->out + off, c->out_len - off);
		c->out_len -= off;
	}
	if (c->out_len)
		ev_io_start(c->ctl->loop, &c->wio);
	else
		ev_io_stop(c->ctl->loop, &c->wio);
	if (!c->out_len && c->closing)
		client_hang_up(c);
}

/* Queues text and writes what the socket takes now. The client may be closed on
 * return (a slow or gone reader: c->dead). */
static void client_send(struct client *c, const char *text, size_t len)
{
	if (c->dead)
		return;
	if (c->out_len + len > CONTROL_SOCKET_MAX_OUTPUT) {
		log_warn("control: client pid %d (%s) reads too slowly: dropped", (int)c->peer.pid, c->peer.user);
		client_close(c);
		return;
	}
	if (c->out_len + len > c->out_size) {
		size_t size = c->out_size ? c->out_size : 4096;
		char *out;

		while (size < c->out_len + len)
			size *= 2;
		out = realloc(c->out, size);
		if (!out) {
			client_close(c);
			return;
		}
		c->out = out;
		c->out_size = size;
	}
	memcpy(c->out + c->out_len, text, len);
	c->out_len += len;
	client_flush(c);
}

/* obj as one line of compact JSON, newline included; the caller frees it. */
static char *json_line(const json_t *obj, size_t *len)
{
	char *text = jsontext_dumps(obj, JSON_COMPACT), *line;

	if (!text)
		return NULL;
	*len = strlen(text);
	line = realloc(text, *len + 2);
	if (!line) {
		free(text);
		return NULL;
	}
	line[(*len)++] = '\n';
	line[*len] = '\0';
	return line;
}

/* Sends obj (taken) as one line, with v and id added. */
static void client_reply(struct client *c, const struct control_request *req, json_t *obj)
{
	size_t len;
	char *line;

	if (!obj) {
		client_close(c);
		return;
	}
	json_object_set_new(obj, "v", json_integer(CONTROL_VERSION));
	json_object_set_new(obj, "id", req && req->has_id ? json_string(req->id) : json_null());
	line = json_line(obj, &len);
	json_decref(obj);
	if (!line) {
		client_close(c);
		return;
	}
	client_send(c, line, len);
	free(line);
}

static void count(struct control_socket *ctl, enum control_result result)
{
	ctl->stats.requests[result]++;
}

/* Replies and counts; the newline is part of the JSON text sent. */
static void reply_error(struct client *c, const struct control_request *req, enum control_result result,
			int code, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void reply_error(struct client *c, const struct control_request *req, enum control_result result,
			int code, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	count(c->ctl, result);
	client_reply(c, req, json_pack("{s:b, s:s, s:i}", "ok", 0, "error", why, "code", code));
}

static void reply_ok(struct client *c, const struct control_request *req, json_t *extra)
{
	json_t *obj = extra ? extra : json_object();

	json_object_set_new(obj, "ok", json_true());
	count(c->ctl, CONTROL_RESULT_OK);
	client_reply(c, req, obj);
}

/* ---- audit ---- */

static json_t *request_args(const struct control_request *req, const char *target)
{
	json_t *args = json_object();

	if (req->group[0])
		json_object_set_new(args, "group", json_string(req->group));
	if (req->cmd == CONTROL_VIP_MOVE)
		json_object_set_new(args, "to", json_string(target && *target ? target : req->node));
	else if (req->node[0])
		json_object_set_new(args, "node", json_string(req->node));
	if (req->action[0])
		json_object_set_new(args, "action", json_string(req->action));
	if (req->check[0])
		json_object_set_new(args, "check", json_string(req->check));
	return args;
}

static json_t *caller_json(const struct control_peer *peer, enum control_cmd cmd)
{
	return json_pack("{s:I, s:I, s:i, s:s, s:s, s:s}", "uid", (json_int_t)peer->uid, "gid",
			 (json_int_t)peer->gid, "pid", (int)peer->pid, "user", peer->user, "command",
			 control_cmd_str(cmd), "via", "control-socket");
}

static struct auditlog *auditlog_of(struct control_socket *ctl)
{
	return ctl->auditlog ? ctl->auditlog(ctl->arg) : NULL;
}

static int audit(struct control_socket *ctl, enum auditlog_type type, json_t *fields)
{
	struct auditlog *log = auditlog_of(ctl);
	int rc = log ? auditlog_append(log, type, fields) : -EBADF;

	json_decref(fields);
	return rc;
}

static void audit_result(struct control_socket *ctl, const struct control_peer *peer, const struct control_request *req,
			 const char *target, int rc)
{
	json_t *f = caller_json(peer, req->cmd);

	json_object_set_new(f, "args", request_args(req, target));
	json_object_set_new(f, "phase", json_string("result"));
	json_object_set_new(f, "result", json_string(rc == 0 || rc == -EEXIST ? "ok" : "error"));
	if (rc && rc != -EEXIST)
		json_object_set_new(f, "error", json_string(strerror(-rc)));
	if (rc == -EEXIST)
		json_object_set_new(f, "changed", json_false());
	rc = audit(ctl, AUDITLOG_ADMIN, f);
	if (rc < 0)
		log_warn("control: result of %s not written to the audit log: %s", control_cmd_str(req->cmd),
			 strerror(-rc));
}

/* ---- requests ---- */

static void reply_status(struct client *c, const struct control_request *req)
{
	json_t *status = manager_status(c->ctl->m);

	if (!status) {
		reply_error(c, req, CONTROL_RESULT_ERROR, CONTROL_EX_SOFTWARE, "out of memory");
		return;
	}
	reply_ok(c, req, json_pack("{s:o}", "status", status));
}

/* What-if: read-only, answered at once from this node's view. */
static void reply_simulate(struct client *c, const struct control_request *req)
{
	struct whatif w = {.node = req->node[0] ? req->node : NULL, .group = req->group[0] ? req->group : NULL,
			   .check = req->check[0] ? req->check : NULL};
	struct whatif_result *r = malloc(sizeof(*r)); /* large */
	char holder[CONFIG_NAME_MAX];
	int rc = r ? whatif_kind_parse(req->action, &w.kind) : -ENOMEM;

	if (rc == 0)
		rc = manager_simulate(c->ctl->m, &w, r);
	if (rc == 0)
		reply_ok(c, req, whatif_json(&w, r));
	else if (rc == -EHOSTUNREACH)
		reply_error(c, req, CONTROL_RESULT_ERROR, CONTROL_EX_FAILED,
			    "the move would be refused: node '%s' is not eligible for group '%s': %s", req->node,
			    req->group, r->refused);
	else if (rc == -ENOENT && w.group && manager_group_holder(c->ctl->m, w.group, holder) == -ENOENT)
		reply_error(c, req, CONTROL_RESULT_ERROR, CONTROL_EX_NOHOST, "unknown group '%s'", w.group);
	else if (rc == -ENOENT && w.check)
		reply_error(c, req, CONTROL_RESULT_ERROR, CONTROL_EX_NOHOST,
			    "unknown node '%s', or it reports no check '%s'", req->node, w.check);
	else if (rc == -ENOENT)
		reply_error(c, req, CONTROL_RESULT_ERROR, CONTROL_EX_NOHOST, "unknown node '%s'", req->node);
	else
		reply_error(c, req, CONTROL_RESULT_ERROR, control_errno_exit(rc), "simulate failed: %s", strerror(-rc));
	free(r);
}

static void reply_history(struct client *c, const struct control_request *req)
{
	json_t *history = manager_history(c->ctl->m, req->since_ms);

	if (!history) {
		reply_error(c, req, CONTROL_RESULT_ERROR, CONTROL_EX_SOFTWARE, "out of memory");
		return;
	}
	reply_ok(c, req, json_pack("{s:o, s:I}", "history", history, "since_ms", (json_int_t)req->since_ms));
}

static void on_manager_event(void *arg, json_t *event)
{
	struct control_socket *ctl = arg;
	struct client *next;
	char *line = NULL;
	size_t len = 0;

	for (struct client *c = ctl->clients; c; c = next) {
		next = c->next; /* client_send may close c (a slow reader) */
		if (!c->streaming || c->closing)
			continue;
		if (!line && !(line = json_line(event, &len)))
			return;
		client_send(c, line, len);
	}
	free(line);
}

static void start_events(struct client *c, const struct control_request *req)
{
	struct control_socket *ctl = c->ctl;

	if (!ctl->listening) {
		int rc = manager_listen(ctl->m, on_manager_event, ctl);

		if (rc < 0) {
			reply_error(c, req, CONTROL_RESULT_ERROR, CONTROL_EX_SOFTWARE, "cannot listen to events: %s",
				    strerror(-rc));
			return;
		}
		ctl->listening = 1;
	}
	ev_timer_stop(ctl->loop, &c->idle);
	c->streaming = 1;
	reply_ok(c, req, json_pack("{s:b}", "streaming", 1));
}

/* Why the manager refused, in the operator's words. */
static void describe_error(struct control_socket *ctl, const struct control_request *req, const char *target, int rc,
			   char *why, size_t size)
{
	char holder[CONFIG_NAME_MAX];

	switch (rc) {
	case -ENOENT:
		if (req->group[0] && manager_group_holder(ctl->m, req->group, holder) == -ENOENT)
			snprintf(why, size, "unknown group '%s'", req->group);
		else
			snprintf(why, size, "unknown node '%s'", target && *target ? target : req->node);
		break;
	case -ENOTCONN: {
		int joined, quorate;
		size_t members;

		manager_cluster_state(ctl->m, &joined, &quorate, &members);
		if (!joined)
			snprintf(why, size, "not joined: this fomgr is not in the cluster's group (corosync unreachable?); "
					    "the cluster cannot agree on a change now");
		else if (!quorate)
			snprintf(why, size, "no quorum: this node's partition (%zu member(s)) cannot agree on a change",
				 members);
		else
			snprintf(why, size, "the cluster could not agree on the change (quorum or membership changed); retry");
		break;
	}
	case -EAGAIN:
		snprintf(why, size, "fomgr is still starting (waiting for corosync)");
		break;
	case -EBUSY:
		snprintf(why, size, "another change is being agreed; retry");
		break;
	case -ECANCELED:
		snprintf(why, size, "a concurrent change won; check the status and retry");
		break;
	case -EHOSTUNREACH: {
		const char *node = req->cmd == CONTROL_VIP_MOVE && !req->node[0] ? NULL
				   : target && *target                        ? target
									      : req->node;
		char reasons[600] = "";

		manager_explain(ctl->m, req->group, node, reasons, sizeof(reasons));
		if (!node)
			snprintf(why, size, "no other eligible node for group '%s'%s%s", req->group,
				 reasons[0] ? ": " : "", reasons);
		else
			snprintf(why, size, "node '%s' is not eligible for group '%s': %s", node, req->group,
				 reasons[0] ? reasons : "offline, in standby or failing its checks");
		break;
	}
	case -ENOSPC:
		snprintf(why, size, "too many pins or standby nodes");
		break;
	default:
		snprintf(why, size, "%s", strerror(-rc));
	}
}

static json_t *done_json(const struct control_request *req, const char *target, int changed)
{
	json_t *o = json_pack("{s:b}", "changed", changed);

	if (req->group[0])
		json_object_set_new(o, "group", json_string(req->group));
	if (req->cmd == CONTROL_VIP_MOVE)
		json_object_set_new(o, "to", json_string(target));
	if (req->node[0] && req->cmd != CONTROL_VIP_MOVE)
		json_object_set_new(o, "node", json_string(req->node));
	return o;
}

/* The end of a mutating request: reply, audit the outcome, log it. */
static void finish(struct control_socket *ctl, struct client *c, const struct control_peer *peer,
		   const struct control_request *req, const char *target, int rc)
{
	char why[300];

	audit_result(ctl, peer, req, target, rc);
	if (rc == 0 || rc == -EEXIST) {
		const char *node = target && *target ? target : req->node;

		log_event(LOG_LVL_INFO, LOG_MSGID_ADMIN, "control: %s%s%s%s%s by %s (uid %u): %s",
			  control_cmd_str(req->cmd), req->group[0] ? " " : "", req->group, node[0] ? " " : "", node,
			  peer->user, (unsigned)peer->uid, rc ? "nothing to change" : "done");
		if (c)
			reply_ok(c, req, done_json(req, target, rc == 0));
		return;
	}
	describe_error(ctl, req, target, rc, why, sizeof(why));
	log_warn("control: %s by %s (uid %u) failed: %s", control_cmd_str(req->cmd), peer->user, (unsigned)peer->uid,
		 why);
	if (c)
		reply_error(c, req, CONTROL_RESULT_ERROR, control_errno_exit(rc), "%s", why);
	else
		count(ctl, CONTROL_RESULT_ERROR);
}

static void pending_free(struct control_socket *ctl, struct pending *p)
{
	for (struct pending **pp = &ctl->pendings; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	free(p);
}

/* After a request that held the client: read on, or close if the peer is done. */
static void client_resume(struct client *c)
{
	if (c->dead)
		return;
	if (c->eof) {
		c->closing = 1;
		client_flush(c);
		return;
	}
	ev_io_start(c->ctl->loop, &c->rio);
	ev_timer_again(c->ctl->loop, &c->idle);
	client_process(c);
}

static void on_agreed(void *arg, int rc)
{
	struct pending *p = arg;
	struct control_socket *ctl = p->ctl;
	struct client *c = p->client;

	if (c)
		c->pending = NULL;
	finish(ctl, c, &p->peer, &p->req, p->target, rc);
	pending_free(ctl, p);
	if (c)
		client_resume(c);
}

/* Asks the manager; 0 when the request now waits for the cluster. */
static int ask_manager(struct client *c, struct pending *p)
{
	struct control_socket *ctl = c->ctl;
	const struct control_request *req = &p->req;

	manager_set_author(ctl->m, (uint32_t)c->peer.uid, c->peer.user); /* the history names them */
	switch (req->cmd) {
	case CONTROL_VIP_MOVE:
		return manager_request_pin(ctl->m, req->group, p->target, on_agreed, p);
	case CONTROL_VIP_CLEAR:
		return manager_request_pin(ctl->m, req->group, NULL, on_agreed, p);
	case CONTROL_NODE_STANDBY:
	case CONTROL_NODE_UNSTANDBY:
		return manager_request_standby(ctl->m, req->node, req->cmd == CONTROL_NODE_STANDBY, on_agreed, p);
	case CONTROL_GROUP_DISABLE:
	case CONTROL_GROUP_ENABLE:
		return manager_request_disable(ctl->m, req->group, req->cmd == CONTROL_GROUP_DISABLE, on_agreed, p);
	case CONTROL_MAINTENANCE_ON:
	case CONTROL_MAINTENANCE_OFF:
		return manager_request_maintenance(ctl->m, req->cmd == CONTROL_MAINTENANCE_ON, on_agreed, p);
	default:
		return -EINVAL;
	}
}

static void run_agreed(struct client *c, const struct control_request *req)
{
	struct control_socket *ctl = c->ctl;
	struct pending *p = calloc(1, sizeof(*p));
	int rc = 0;

	if (!p) {
		reply_error(c, req, CONTROL_RESULT_ERROR, CONTROL_EX_SOFTWARE, "out of memory");
		return;
	}
	p->ctl = ctl;
	p->req = *req;
	p->start_us = clock_mono_us();
	/* "vip move GROUP" without --to: name the target now, so that the record, the
	 * pin and the reply all say the same node. */
	if (req->cmd == CONTROL_VIP_MOVE && !req->node[0])
		rc = manager_next_owner(ctl->m, req->group, p->target);
	else if (req->cmd == CONTROL_VIP_MOVE)
		snprintf(p->target, sizeof(p->target), "%s", req->node);
	if (rc == 0)
		rc = ask_manager(c, p);
	if (rc < 0) {
		finish(ctl, c, &c->peer, req, p->target, rc);
		free(p);
		return;
	}
	p->client = c;
	p->peer = c->peer;
	p->peer.groups = NULL;
	p->peer.n_groups = 0;
	p->next = ctl->pendings;
	ctl->pendings = p;
	c->pending = p;
	ev_io_stop(ctl->loop, &c->rio);
	ev_timer_stop(ctl->loop, &c->idle);
}

static void run_local(struct client *c, const struct control_request *req)
{
	struct control_socket *ctl = c->ctl;
	char detail[4096] = "";
	int rc;

	if (req->cmd == CONTROL_RELOAD)
		rc = ctl->reload ? ctl->reload(ctl->arg, detail, sizeof(detail)) : -EOPNOTSUPP;
	else
		rc = auditlog_of(ctl) ? auditlog_reopen(auditlog_of(ctl)) : -EBADF;
	audit_result(ctl, &c->peer, req, NULL, rc);
	if (rc == 0) {
		log_event(LOG_LVL_INFO, LOG_MSGID_ADMIN, "control: %s by %s (uid %u): done", control_cmd_str(req->cmd),
			  c->peer.user, (unsigned)c->peer.uid);
		reply_ok(c, req, json_pack("{s:b}", "changed", 1));
	} else if (req->cmd == CONTROL_RELOAD && rc == -EINVAL) {
		reply_error(c, req, CONTROL_RESULT_ERROR, CONTROL_EX_CONFIG,
			    "configuration refused; the running one is kept:\n%s", detail);
	} else {
		reply_error(c, req, CONTROL_RESULT_ERROR, req->cmd == CONTROL_LOG_REOPEN ? CONTROL_EX_IOERR
											 : control_errno_exit(rc),
			    "%s failed: %s", control_cmd_str(req->cmd), strerror(-rc));
	}
}

/* The refusal's record, unless this second already has its share. */
static int audit_denied(struct client *c, const struct control_request *req)
{
	struct control_socket *ctl = c->ctl;
	ev_tstamp now = ev_now(ctl->loop);
	json_t *f;

	if (now - ctl->denied_window >= 1.0) {
		ctl->denied_window = now;
		ctl->denied_in_window = 0;
	}
	if (ctl->denied_in_window >= CONTROL_DENIED_RECORDS_PER_S) {
		ctl->denied_suppressed++;
		return -EAGAIN;
	}
	ctl->denied_in_window++;
	f = caller_json(&c->peer, req->cmd);
	json_object_set_new(f, "role", json_string(control_role_str(c->role)));
	json_object_set_new(f, "args", request_args(req, NULL));
	if (ctl->denied_suppressed)
		json_object_set_new(f, "suppressed_before", json_integer((json_int_t)ctl->denied_suppressed));
	ctl->denied_suppressed = 0;
	return audit(ctl, AUDITLOG_ACCESS_DENIED, f);
}

static void deny(struct client *c, const struct control_request *req)
{
	int rc = audit_denied(c, req);

	log_warn("control: %s refused to uid %u (%s, gid %u, pid %d, role %s)%s", control_cmd_str(req->cmd),
		 (unsigned)c->peer.uid, c->peer.user, (unsigned)c->peer.gid, (int)c->peer.pid,
		 control_role_str(c->role),
		 rc == -EAGAIN ? "; over the record rate, counted" : rc < 0 ? "; not in the audit log" : "");
	reply_error(c, req, CONTROL_RESULT_DENIED, CONTROL_EX_NOPERM, "permission denied: %s needs %s",
		    control_cmd_str(req->cmd),
		    control_cmd_mutates(req->cmd) ? "root or the admin group" : "root, the admin or the view group");
	if (!c->dead && ++c->denied >= CONTROL_MAX_DENIED_PER_CLIENT) {
		log_warn("control: uid %u (%s) pid %d refused %u times: hung up", (unsigned)c->peer.uid, c->peer.user,
			 (int)c->peer.pid, c->denied);
		ev_io_stop(c->ctl->loop, &c->rio);
		c->closing = 1;
		client_flush(c);
	}
}

static void run_request(struct client *c, const struct control_request *req)
{
	struct control_socket *ctl = c->ctl;
	json_t *f;
	int rc;

	if (!control_cmd_allowed(req->cmd, c->role)) {
		deny(c, req);
		return;
	}
	if (req->cmd == CONTROL_STATUS) {
		reply_status(c, req);
		return;
	}
	if (req->cmd == CONTROL_EVENTS) {
		start_events(c, req);
		return;
	}
	if (req->cmd == CONTROL_SIMULATE) {
		reply_simulate(c, req);
		return;
	}
	if (req->cmd == CONTROL_HISTORY) {
		reply_history(c, req);
		return;
	}
	/* Written and fsync'ed before anything is done (after the failover path's queued
	 * records: auditlog_append writes those first): no record, no change. */
	f = caller_json(&c->peer, req->cmd);
	json_object_set_new(f, "args", request_args(req, NULL));
	json_object_set_new(f, "phase", json_string("request"));
	rc = audit(ctl, AUDITLOG_ADMIN, f);
	if (rc < 0) {
		const char *why = rc == -EBADF ? "not open" : strerror(-rc);

		log_err("control: %s by %s refused: the audit log cannot be written (%s)", control_cmd_str(req->cmd),
			c->peer.user, why);
		reply_error(c, req, CONTROL_RESULT_ERROR, CONTROL_EX_IOERR,
			    "refused: the audit log cannot be written (%s)", why);
		return;
	}
	if (req->cmd == CONTROL_RELOAD || req->cmd == CONTROL_LOG_REOPEN)
		run_local(c, req);
	else
		run_agreed(c, req);
}

static void handle_line(struct client *c, char *line, size_t len)
{
	struct control_request req;
	char why[300];

	if (len && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return;
	if (control_parse_request(line, len, &req, why, sizeof(why)) < 0) {
		log_info("control: request from uid %u pid %d refused: %s", (unsigned)c->peer.uid, (int)c->peer.pid,
			 why);
		reply_error(c, &req, CONTROL_RESULT_INVALID, CONTROL_EX_USAGE, "%s", why);
		return;
	}
	run_request(c, &req);
}

/* Handles every complete line in the buffer, one at a time; stops while a
 * request waits for the cluster, and after an event stream started. */
static void client_process(struct client *c)
{
	struct control_socket *ctl = c->ctl;

	for (;;) {
		char *nl;
		size_t len;

		if (c->pending || c->streaming || c->closing)
			return;
		nl = memchr(c->in, '\n', c->in_len);
		if (!nl)
			break;
		len = (size_t)(nl - c->in);
		handle_line(c, c->in, len);
		if (c->dead)
			return;
		memmove(c->in, nl + 1, c->in_len - len - 1);
		c->in_len -= len + 1;
		ev_timer_again(ctl->loop, &c->idle);
	}
	if (c->in_len > CONTROL_MAX_LINE) {
		log_info("control: request from uid %u pid %d refused: longer than %d bytes", (unsigned)c->peer.uid,
			 (int)c->peer.pid, CONTROL_MAX_LINE);
		c->in_len = 0;
		ev_io_stop(ctl->loop, &c->rio);
		reply_error(c, NULL, CONTROL_RESULT_INVALID, CONTROL_EX_USAGE,
			    "request line longer than %d bytes: closing", CONTROL_MAX_LINE);
		if (!c->dead) {
			c->closing = 1;
			client_flush(c);
		}
		return;
	}
	if (c->eof && !c->pending && !c->streaming && !c->out_len)
		client_close(c);
}

/* ---- client I/O ---- */

static void on_client_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;
	ssize_t n;

	reap(c->ctl);
	if (c->draining) {
		char sink[4096];

		n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			client_close(c);
		return;
	}
	/* One byte over the limit is enough to know the line is too long. */
	n = recv(c->fd, c->in + c->in_len, CONTROL_MAX_LINE + 1 - c->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ev_io_stop(loop, w);
		c->eof = 1;
		if (c->streaming || (!c->pending && !c->out_len)) {
			client_close(c);
			return;
		}
		if (!c->pending)
			c->closing = 1;
		return;
	}
	if (c->streaming) { /* nothing more is read from an event stream */
		c->in_len = 0;
		return;
	}
	c->in_len += (size_t)n;
	client_process(c);
}

static void on_client_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;

	reap(c->ctl);
	client_flush(c);
}

static void on_client_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *c = w->data;

	reap(c->ctl);
	if (c->draining) {
		client_close(c);
		return;
	}
	if (c->pending || c->streaming)
		return;
	log_info("control: client uid %u pid %d idle for %.0f s: closing", (unsigned)c->peer.uid, (int)c->peer.pid,
		 CONTROL_SOCKET_IDLE_TIMEOUT);
	ev_io_stop(loop, &c->rio);
	reply_error(c, NULL, CONTROL_RESULT_REFUSED, CONTROL_EX_TEMPFAIL, "idle for %.0f s: closing",
		    CONTROL_SOCKET_IDLE_TIMEOUT);
	if (!c->dead) {
		c->closing = 1;
		client_flush(c);
	}
}

static void client_close(struct client *c)
{
	struct control_socket *ctl = c->ctl;

	if (c->dead)
		return;
	for (struct client **pp = &ctl->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ctl->n_clients--;
	ev_io_stop(ctl->loop, &c->rio);
	ev_io_stop(ctl->loop, &c->wio);
	ev_timer_stop(ctl->loop, &c->idle);
	if (c->pending)
		c->pending->client = NULL; /* answered into the void, but still audited */
	close(c->fd);
	c->fd = -1;
	c->dead = 1;
	c->next = ctl->dead;
	ctl->dead = c;
}

static void peer_name(struct control_peer *peer)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	/* The password database may be remote (NSS); it is asked once per connection. */
	if (getpwuid_r(peer->uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(peer->user, sizeof(peer->user), "%s", pw.pw_name);
	else
		snprintf(peer->user, sizeof(peer->user), "%u", (unsigned)peer->uid);
}

static int peer_credentials(struct client *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	c->peer.uid = cred.uid;
	c->peer.gid = cred.gid;
	c->peer.pid = cred.pid;
	len = sizeof(c->groups);
	c->peer.groups = c->groups;
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len) < 0) {
		if (errno != ERANGE || len > CONTROL_MAX_PEER_GROUPS * sizeof(gid_t))
			return -errno;
		c->groups_heap = malloc(len);
		if (!c->groups_heap || getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, c->groups_heap, &len) < 0)
			return c->groups_heap ? -errno : -ENOMEM;
		c->peer.groups = c->groups_heap;
	}
	c->peer.n_groups = len / sizeof(gid_t);
	peer_name(&c->peer);
	return 0;
}

/* Over the limit: one line saying so, best effort, then the connection is closed. */
static void refuse_client(struct control_socket *ctl, int fd, int limit)
{
	char line[200];
	int n = snprintf(line, sizeof(line),
			 "{\"v\":%d,\"id\":null,\"ok\":false,\"error\":\"too many clients (at most %d)\",\"code\":%d}\n",
			 CONTROL_VERSION, limit, CONTROL_EX_TEMPFAIL);

	if (send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("control: refusal not sent: %s", strerror(errno));
	close(fd);
	count(ctl, CONTROL_RESULT_REFUSED);
}

static void on_accept_pause(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control_socket *ctl = w->data;

	ev_io_start(loop, &ctl->accept_io);
}

static void client_add(struct control_socket *ctl, int fd)
{
	struct client *c = calloc(1, sizeof(*c));
	int rc;

	if (c)
		c->in = malloc(CONTROL_MAX_LINE + 1);
	if (!c || !c->in) {
		if (c)
			free(c);
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	rc = peer_credentials(c);
	if (rc < 0)
		log_warn("control: peer credentials unavailable (%s): connection closed", strerror(-rc));
	else
		c->role = control_peer_role(&c->peer, &ctl->policy);
	if (rc == 0 && c->role != CONTROL_ROLE_ADMIN &&
	    ctl->n_clients >= CONTROL_SOCKET_MAX_CLIENTS - CONTROL_SOCKET_ADMIN_RESERVED) {
		/* One line a streak: a flood of refused clients does not flood the log. */
		if (!ctl->refusing)
			log_warn("control: too many clients (%u): uid %u (%s) refused; %d slots are kept for root and "
				 "admin_group",
				 ctl->n_clients, (unsigned)c->peer.uid, c->peer.user, CONTROL_SOCKET_ADMIN_RESERVED);
		ctl->refusing = 1;
		refuse_client(ctl, fd, CONTROL_SOCKET_MAX_CLIENTS - CONTROL_SOCKET_ADMIN_RESERVED);
		fd = -1;
		rc = -EUSERS;
	}
	if (rc < 0) {
		free(c->groups_heap);
		free(c->in);
		free(c);
		if (fd >= 0)
			close(fd);
		return;
	}
	ctl->refusing = 0;
	ev_io_init(&c->rio, on_client_read, fd, EV_READ);
	ev_io_init(&c->wio, on_client_write, fd, EV_WRITE);
	ev_init(&c->idle, on_client_idle);
	c->idle.repeat = CONTROL_SOCKET_IDLE_TIMEOUT;
	c->rio.data = c->wio.data = c->idle.data = c;
	c->next = ctl->clients;
	ctl->clients = c;
	ctl->n_clients++;
	ev_io_start(ctl->loop, &c->rio);
	ev_timer_again(ctl->loop, &c->idle);
	log_debug("control: client uid %u (%s) pid %d role %s", (unsigned)c->peer.uid, c->peer.user,
		  (int)c->peer.pid, control_role_str(c->role));
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control_socket *ctl = w->data;

	reap(ctl);
	for (int i = 0; i < 16; i++) {
		int fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Level-triggered: wait a little instead of spinning. */
				log_warn("control: accept: %s; pausing for 1 s", strerror(errno));
				ev_io_stop(loop, w);
				ev_timer_set(&ctl->accept_pause, 1., 0.);
				ev_timer_start(loop, &ctl->accept_pause);
			}
			return;
		}
		if (ctl->n_clients >= CONTROL_SOCKET_MAX_CLIENTS) {
			log_warn("control: too many clients (%u): connection refused", ctl->n_clients);
			refuse_client(ctl, fd, CONTROL_SOCKET_MAX_CLIENTS);
			continue;
		}
		client_add(ctl, fd);
	}
}

/* ---- the socket file ---- */

/* A group by name; 0 and *gid, or -ENOENT. The group database may be remote:
 * asked at start and reload only. */
static int group_gid(const char *name, gid_t *gid)
{
	struct group gr, *res = NULL;
	char buf[16384];

	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || !res)
		return -ENOENT;
	*gid = gr.gr_gid;
	return 0;
}

/* The POSIX ACL "user::rw- group::rw- group:view:rw- mask::rw- other::---" in the
 * kernel's xattr format (linux/posix_acl_xattr.h), so no libacl is needed. */
static int set_view_acl(const char *path, gid_t view_gid)
{
	struct __attribute__((packed)) {
		uint32_t version;
		struct __attribute__((packed)) {
			uint16_t tag, perm;
			uint32_t id;
		} e[5];
	} acl = {
		.version = 2,
		.e = {{0x01, 6, UINT32_MAX}, {0x04, 6, UINT32_MAX}, {0x08, 6, (uint32_t)view_gid},
		      {0x10, 6, UINT32_MAX}, {0x20, 0, UINT32_MAX}},
	};

	/* The format is little-endian; every platform fomgr targets is too. */
	_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ACL xattr is little-endian");
	return setxattr(path, "system.posix_acl_access", &acl, sizeof(acl), 0) < 0 ? -errno : 0;
}

static void apply_socket_access(struct control_socket *ctl)
{
	gid_t group = ctl->policy.has_admin ? ctl->policy.admin_gid : getegid();
	int rc;

	if (!ctl->bound)
		return;
	if (chown(ctl->path, (uid_t)-1, group) < 0 || chmod(ctl->path, 0660) < 0) {
		log_err("control socket %s: cannot set owner and mode: %s", ctl->path, strerror(errno));
		return;
	}
	if (ctl->policy.has_view) {
		rc = set_view_acl(ctl->path, ctl->policy.view_gid);
		if (rc < 0)
			log_warn("control socket %s: no ACL for view_group '%s' (%s): its members cannot connect",
				 ctl->path, ctl->view_group, strerror(-rc));
	} else if (removexattr(ctl->path, "system.posix_acl_access") < 0 && errno != ENODATA &&
		   errno != EOPNOTSUPP) {
		log_warn("control socket %s: cannot remove the view ACL: %s", ctl->path, strerror(errno));
	}
}

int control_socket_set_groups(struct control_socket *ctl, const char *admin_group, const char *view_group)
{
	struct control_policy policy = {0};

	snprintf(ctl->admin_group, sizeof(ctl->admin_group), "%s", admin_group ? admin_group : "");
	snprintf(ctl->view_group, sizeof(ctl->view_group), "%s", view_group ? view_group : "");
	if (ctl->admin_group[0]) {
		policy.has_admin = group_gid(ctl->admin_group, &policy.admin_gid) == 0;
		if (!policy.has_admin)
			log_warn("admin_group '%s' does not exist: only root may change state", ctl->admin_group);
	}
	if (ctl->view_group[0]) {
		policy.has_view = group_gid(ctl->view_group, &policy.view_gid) == 0;
		if (!policy.has_view)
			log_warn("view_group '%s' does not exist: nobody else may read the status", ctl->view_group);
	}
	ctl->policy = policy;
	apply_socket_access(ctl);
	/* Connected clients keep the role they had: a demoted operator reconnects. */
	return 0;
}

/* Is something listening on path? 1 yes, 0 no (stale), or -errno. */
static int socket_answers(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), rc;

	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS)
		rc = 1;
	else
		rc = errno == ECONNREFUSED ? 0 : -errno;
	close(fd);
	return rc;
}

/* What is at path may be replaced only if it is our own socket that nobody serves. */
static int clear_path(const char *path)
{
	struct stat st;
	int rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode)) {
		log_err("control socket %s is a symbolic link: refusing to start", path);
		return -ELOOP;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_err("control socket %s exists and is not a socket: refusing to start", path);
		return -EEXIST;
	}
	if (st.st_uid != geteuid()) {
		log_err("control socket %s belongs to uid %u, not to fomgr (uid %u): refusing to start", path,
			(unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	rc = socket_answers(path);
	if (rc == 1) {
		log_err("control socket %s: another process answers there (another fomgr?): refusing to start",
			path);
		return -EADDRINUSE;
	}
	if (rc < 0) {
		log_err("control socket %s: %s", path, strerror(-rc));
		return rc;
	}
	if (unlink(path) < 0) {
		log_err("control socket %s: stale, but cannot remove it: %s", path, strerror(errno));
		return -errno;
	}
	log_info("control socket %s: replaced a stale socket", path);
	return 0;
}

/* The directory must exist (it is made, 0755, if its parent does) and must not
 * let others swap the socket under us. */
static int check_dir(const char *path)
{
	char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *dir;
	struct stat st;

	snprintf(buf, sizeof(buf), "%s", path);
	dir = dirname(buf);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		log_err("control socket directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_err("control socket directory %s: not a directory", dir);
		return -ENOTDIR;
	}
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
		log_err("control socket directory %s is writable by everyone: refusing to start", dir);
		return -EPERM;
	}
	return 0;
}

int control_socket_start(struct control_socket *ctl)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old_umask;
	int rc;

	if (strlen(ctl->path) == 0 || strlen(ctl->path) >= sizeof(sa.sun_path) || ctl->path[0] != '/') {
		log_err("control socket '%s': not an absolute path of at most %zu bytes", ctl->path,
			sizeof(sa.sun_path) - 1);
		return -EINVAL;
	}
	rc = check_dir(ctl->path);
	if (rc == 0)
		rc = clear_path(ctl->path);
	if (rc < 0)
		return rc;
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0)
		return -errno;
	memcpy(sa.sun_path, ctl->path, strlen(ctl->path) + 1);
	/* Born 0600: nobody gets in before the group and mode are set. */
	old_umask = umask(0177);
	rc = bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_umask);
	if (rc < 0 || listen(ctl->fd, CONTROL_BACKLOG) < 0) {
		rc = -errno;
		log_err("control socket %s: %s", ctl->path, strerror(-rc));
		close(ctl->fd);
		ctl->fd = -1;
		return rc;
	}
	ctl->bound = 1;
	apply_socket_access(ctl);
	ev_io_init(&ctl->accept_io, on_accept, ctl->fd, EV_READ);
	ctl->accept_io.data = ctl;
	ev_io_start(ctl->loop, &ctl->accept_io);
	log_info("control socket %s (group %s%s%s)", ctl->path, ctl->policy.has_admin ? ctl->admin_group : "root",
		 ctl->policy.has_view ? ", view " : "", ctl->policy.has_view ? ctl->view_group : "");
	return 0;
}

struct control_socket *control_socket_new(struct ev_loop *loop, struct manager *m,
					  const struct control_socket_options *o)
{
	struct control_socket *ctl = calloc(1, sizeof(*ctl));

	if (!ctl)
		return NULL;
	ctl->loop = loop;
	ctl->m = m;
	ctl->fd = -1;
	snprintf(ctl->path, sizeof(ctl->path), "%s", o->path ? o->path : "");
	ctl->auditlog = o->auditlog;
	ctl->reload = o->reload;
	ctl->arg = o->arg;
	ev_init(&ctl->accept_pause, on_accept_pause);
	ctl->accept_pause.data = ctl;
	control_socket_set_groups(ctl, o->admin_group, o->view_group);
	return ctl;
}

void control_socket_free(struct control_socket *ctl)
{
	if (!ctl)
		return;
	while (ctl->clients)
		client_close(ctl->clients);
	reap(ctl);
	while (ctl->pendings) {
		struct pending *p = ctl->pendings;

		ctl->pendings = p->next;
		free(p);
	}
	if (ctl->listening)
		manager_unlisten(ctl->m, on_manager_event, ctl);
	ev_timer_stop(ctl->loop, &ctl->accept_pause);
	if (ctl->fd >= 0) {
		ev_io_stop(ctl->loop, &ctl->accept_io);
		close(ctl->fd);
		unlink(ctl->path);
	}
	free(ctl);
}

void control_socket_get_stats(const struct control_socket *ctl, struct control_socket_stats *stats)
{
	*stats = ctl->stats;
	stats->clients = ctl->n_clients;
}
