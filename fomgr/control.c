/* The control protocol (see control.h): the commands, the parsing and validation
 * of a request line, and who may do what. Pure: no socket, no loop, no manager, so
 * fomctl links it as well as the daemon. */
#include "control.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "fo/name.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))


static const char *const cmd_names[CONTROL_CMD_MAX] = {
	"status", "events", "vip.move", "vip.clear", "node.standby", "node.unstandby", "reload", "log.reopen",
	"group.disable", "group.enable", "maintenance.on", "maintenance.off", "simulate", "history",
};
static const char *const role_names[CONTROL_ROLE_MAX] = {"none", "view", "admin"};
static const char *const result_names[CONTROL_RESULT_MAX] = {"ok", "error", "denied", "invalid", "refused"};

/* The arguments each command takes, the required one first: each lands in the
 * request's field of the same name, "to" in node. */
#define MAX_ARGS 4
static const struct {
	const char *required, *optional[MAX_ARGS - 1];
} cmd_args[CONTROL_CMD_MAX] = {
	[CONTROL_VIP_MOVE] = {"group", {"to"}},
	[CONTROL_VIP_CLEAR] = {"group", {NULL}},
	[CONTROL_NODE_STANDBY] = {"node", {NULL}},
	[CONTROL_NODE_UNSTANDBY] = {"node", {NULL}},
	[CONTROL_GROUP_DISABLE] = {"group", {NULL}},
	[CONTROL_GROUP_ENABLE] = {"group", {NULL}},
	[CONTROL_SIMULATE] = {"action", {"node", "group", "check"}},
	[CONTROL_HISTORY] = {NULL, {"since_ms"}},
};

/* simulate's actions and what each needs besides (crm_simulate's, for fomgr). */
static const struct {
	const char *action;
	int group, node, check;
} simulate_actions[] = {
	{"standby", 0, 1, 0},
	{"move", 1, 1, 0},
	{"fail", 0, 1, 0},
	{"fail-check", 0, 1, 1},
};

const char *control_cmd_str(enum control_cmd cmd)
{
	return cmd < CONTROL_CMD_MAX ? cmd_names[cmd] : "invalid";
}

const char *control_role_str(enum control_role role)
{
	return role < CONTROL_ROLE_MAX ? role_names[role] : "invalid";
}

const char *control_result_str(enum control_result result)
{
	return result < CONTROL_RESULT_MAX ? result_names[result] : "invalid";
}

int control_cmd_mutates(enum control_cmd cmd)
{
	return cmd != CONTROL_STATUS && cmd != CONTROL_EVENTS && cmd != CONTROL_SIMULATE && cmd != CONTROL_HISTORY;
}

int control_cmd_allowed(enum control_cmd cmd, enum control_role role)
{
	if (cmd >= CONTROL_CMD_MAX)
		return 0;
	return role == CONTROL_ROLE_ADMIN || (role == CONTROL_ROLE_VIEW && !control_cmd_mutates(cmd));
}

static int peer_in_group(const struct control_peer *peer, gid_t gid)
{
	if (peer->gid == gid)
		return 1;
	for (size_t i = 0; i < peer->n_groups; i++)
		if (peer->groups[i] == gid)
			return 1;
	return 0;
}

enum control_role control_peer_role(const struct control_peer *peer, const struct control_policy *policy)
{
	if (peer->uid == 0)
		return CONTROL_ROLE_ADMIN;
	if (policy->has_admin && peer_in_group(peer, policy->admin_gid))
		return CONTROL_ROLE_ADMIN;
	if (policy->has_view && peer_in_group(peer, policy->view_gid))
		return CONTROL_ROLE_VIEW;
	return CONTROL_ROLE_NONE;
}

enum control_exit control_errno_exit(int err)
{
	switch (err) {
	case 0:
	case -EEXIST:
		return CONTROL_EX_OK;
	case -ENOENT:
		return CONTROL_EX_NOHOST;
	case -ENOTCONN:
	case -EBUSY:
	case -EAGAIN:
	case -ECANCELED:
		return CONTROL_EX_TEMPFAIL;
	case -EINVAL:
		return CONTROL_EX_CONFIG;
	case -EACCES:
	case -EPERM:
		return CONTROL_EX_NOPERM;
	case -EIO:
	case -ENOSPC:
	case -EROFS:
	case -EDQUOT:
		return CONTROL_EX_IOERR;
	case -ENOMEM:
		return CONTROL_EX_SOFTWARE;
	default:
		return CONTROL_EX_FAILED;
	}
}

/* Copies s for a message: printable ASCII only, at most 40 bytes. */
static const char *clean(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s && n + 1 < size && n < 40; s++)
		buf[n++] = isprint((unsigned char)*s) ? *s : '?';
	if (*s && n + 4 < size) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static int parse_id(json_t *id, struct control_request *req, char *why, size_t size)
{
	const char *s = json_string_value(id);
	size_t n = json_string_length(id);

	if (!json_is_string(id) || n == 0 || n > CONTROL_ID_MAX || strlen(s) != n)
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (!isprint((unsigned char)s[i]))
			goto bad;
	memcpy(req->id, s, n + 1);
	req->has_id = 1;
	return 0;
bad:
	snprintf(why, size, "\"id\" must be a string of 1 to %d printable ASCII characters", CONTROL_ID_MAX);
	return -EINVAL;
}

static int parse_cmd(json_t *cmd, struct control_request *req, char *why, size_t size)
{
	char buf[48];

	if (!cmd) {
		snprintf(why, size, "missing \"cmd\"");
		return -EINVAL;
	}
	if (!json_is_string(cmd)) {
		snprintf(why, size, "\"cmd\" must be a string");
		return -EINVAL;
	}
	for (int i = 0; i < CONTROL_CMD_MAX; i++) {
		if (strcmp(json_string_value(cmd), cmd_names[i]) == 0) {
			req->cmd = (enum control_cmd)i;
			return 0;
		}
	}
	snprintf(why, size, "unknown command '%s'", clean(json_string_value(cmd), buf, sizeof(buf)));
	return -EINVAL;
}

/* Where an argument lands; NULL when cmd does not take it. */
static char *arg_field(struct control_request *req, const char *key)
{
	int known = cmd_args[req->cmd].required && strcmp(key, cmd_args[req->cmd].required) == 0;

	for (size_t i = 0; i < MAX_ARGS - 1 && !known; i++)
		known = cmd_args[req->cmd].optional[i] && strcmp(key, cmd_args[req->cmd].optional[i]) == 0;
	if (!known)
		return NULL;
	if (strcmp(key, "group") == 0)
		return req->group;
	if (strcmp(key, "check") == 0)
		return req->check;
	return strcmp(key, "action") == 0 ? req->action : req->node;
}

/* simulate: a known action with what it needs, and nothing it does not. */
static int check_simulate(const struct control_request *req, char *why, size_t size)
{
	for (size_t i = 0; i < ARRAY_SIZE(simulate_actions); i++) {
		if (strcmp(req->action, simulate_actions[i].action) != 0)
			continue;
		if (!simulate_actions[i].group != !req->group[0] || !simulate_actions[i].node != !req->node[0] ||
		    !simulate_actions[i].check != !req->check[0]) {
			snprintf(why, size, "simulate %s takes %s%s%s", req->action, simulate_actions[i].group ? "group, " : "",
				 "node", simulate_actions[i].check ? " and check" : "");
			return -EINVAL;
		}
		return 0;
	}
	snprintf(why, size, "unknown simulate action (standby, move, fail, fail-check)");
	return -EINVAL;
}

static int parse_args(json_t *args, struct control_request *req, char *why, size_t size)
{
	const char *required = cmd_args[req->cmd].required;
	const char *cmd = cmd_names[req->cmd], *key;
	json_t *value;
	char buf[48], *field;

	if (args && !json_is_object(args)) {
		snprintf(why, size, "\"args\" must be an object");
		return -EINVAL;
	}
	json_object_foreach(args, key, value) {
		const char *s = json_string_value(value);

		if (!(field = arg_field(req, key))) {
			snprintf(why, size, "unknown argument '%s' for %s", clean(key, buf, sizeof(buf)), cmd);
			return -EINVAL;
		}
		if (strcmp(key, "since_ms") == 0) { /* the one number: a time, not a name */
			if (!json_is_integer(value) || json_integer_value(value) < 0) {
				snprintf(why, size, "bad argument 'since_ms' for %s: Unix time in ms", cmd);
				return -EINVAL;
			}
			req->since_ms = (uint64_t)json_integer_value(value);
			continue;
		}
		if (!s || strlen(s) != json_string_length(value) || !name_valid(s, CONFIG_NAME_MAX)) {
			snprintf(why, size, "bad argument '%s' for %s: " NAME_RULE, key, cmd);
			return -EINVAL;
		}
		snprintf(field, CONFIG_NAME_MAX, "%s", s);
	}
	if (required && !json_object_get(args, required)) {
		snprintf(why, size, "missing argument '%s' for %s", required, cmd);
		return -EINVAL;
	}
	return req->cmd == CONTROL_SIMULATE ? check_simulate(req, why, size) : 0;
}

static int parse_object(json_t *root, struct control_request *req, char *why, size_t size)
{
	static const char *const known[] = {"v", "id", "cmd", "args"};
	json_t *v = json_object_get(root, "v"), *value;
	const char *key;
	char buf[48];
	int rc;

	/* The id first, so that even a refused request is answered with it. */
	if (json_object_get(root, "id") && (rc = parse_id(json_object_get(root, "id"), req, why, size)) < 0)
		return rc;
	json_object_foreach(root, key, value) {
		size_t i = 0;

		while (i < ARRAY_SIZE(known) && strcmp(key, known[i]) != 0)
			i++;
		if (i == ARRAY_SIZE(known)) {
			snprintf(why, size, "unknown key '%s' in request", clean(key, buf, sizeof(buf)));
			return -EINVAL;
		}
	}
	if (!v) {
		snprintf(why, size, "missing \"v\" (protocol version %d)", CONTROL_VERSION);
		return -EINVAL;
	}
	if (!json_is_integer(v) || json_integer_value(v) != CONTROL_VERSION) {
		snprintf(why, size, "unsupported protocol version (this fomgr speaks %d)", CONTROL_VERSION);
		return -EINVAL;
	}
	rc = parse_cmd(json_object_get(root, "cmd"), req, why, size);
	return rc < 0 ? rc : parse_args(json_object_get(root, "args"), req, why, size);
}

int control_parse_request(const char *line, size_t len, struct control_request *req, char *why, size_t size)
{
	json_error_t error;
	json_t *root;
	int rc;

	memset(req, 0, sizeof(*req));
	if (len > CONTROL_MAX_LINE) {
		snprintf(why, size, "request longer than %d bytes", CONTROL_MAX_LINE);
		return -EINVAL;
	}
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &error);
	if (!root) {
		snprintf(why, size, "malformed JSON at byte %d: %s", error.position, error.text);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		snprintf(why, size, "a request is a JSON object");
		rc = -EINVAL;
	} else {
		rc = parse_object(root, req, why, size);
	}
	json_decref(root);
	return rc;
}
