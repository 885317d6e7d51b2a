#include "admin.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fo/name.h"

/* Adds name to (on) or removes it from a list of names of at most max. */
static int set_in_list(char (*list)[WIRE_NAME_MAX], size_t *n, size_t max, const char *name, int on)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(list[i], name) != 0)
			continue;
		if (on)
			return -EEXIST;
		memmove(&list[i], &list[i + 1], (*n - i - 1) * sizeof(list[0]));
		(*n)--;
		return 0;
	}
	if (!on)
		return -EEXIST;
	if (*n >= max || strlen(name) >= WIRE_NAME_MAX)
		return -ENOSPC;
	strcpy(list[(*n)++], name);
	return 0;
}

int admin_set_standby(struct wire_admin *admin, const char *node, int on)
{
	return set_in_list(admin->standby, &admin->n_standby, CONFIG_MAX_NODES, node, on);
}

int admin_set_disabled(struct wire_admin *admin, const char *group, int on)
{
	return set_in_list(admin->disabled, &admin->n_disabled, WIRE_MAX_HELD, group, on);
}

int admin_set_maintenance(struct wire_admin *admin, int on)
{
	if (!admin->maintenance == !on)
		return -EEXIST;
	admin->maintenance = !!on;
	return 0;
}

int admin_set_pin(struct wire_admin *admin, const char *group, const char *node)
{
	for (size_t i = 0; i < admin->n_pins; i++) {
		struct wire_pin *p = &admin->pins[i];
		if (strcmp(p->group, group) != 0)
			continue;
		if (node && strcmp(p->node, node) == 0)
			return -EEXIST;
		if (node) {
			strcpy(p->node, node);
			return 0;
		}
		memmove(p, p + 1, (admin->n_pins - i - 1) * sizeof(*p));
		admin->n_pins--;
		return 0;
	}
	if (!node)
		return -EEXIST;
	if (admin->n_pins >= WIRE_MAX_HELD || strlen(group) >= CONFIG_NAME_MAX || strlen(node) >= CONFIG_NAME_MAX)
		return -ENOSPC;
	strcpy(admin->pins[admin->n_pins].group, group);
	strcpy(admin->pins[admin->n_pins].node, node);
	admin->n_pins++;
	return 0;
}

void admin_log_change(struct wire_admin *admin, const struct wire_admin_change *change)
{
	if (admin->n_changes == WIRE_MAX_CHANGES) {
		memmove(admin->changes, admin->changes + 1, (WIRE_MAX_CHANGES - 1) * sizeof(admin->changes[0]));
		admin->n_changes--;
	}
	admin->changes[admin->n_changes++] = *change;
}

static int copy_name(char *dst, json_t *v)
{
	const char *s = json_string_value(v);

	if (!s || strlen(s) == 0 || strlen(s) >= CONFIG_NAME_MAX)
		return -EINVAL;
	strcpy(dst, s);
	return 0;
}

/* What files written before disabled groups and maintenance existed lack. */
static int more_from_json(json_t *root, struct wire_admin *admin)
{
	json_t *disabled = json_object_get(root, "disabled"), *maintenance = json_object_get(root, "maintenance"), *v;
	size_t i;

	if ((disabled && (!json_is_array(disabled) || json_array_size(disabled) > WIRE_MAX_HELD)) ||
	    (maintenance && !json_is_boolean(maintenance)))
		return -EINVAL;
	admin->maintenance = json_is_true(maintenance);
	json_array_foreach(disabled, i, v) {
		if (copy_name(admin->disabled[admin->n_disabled++], v) < 0)
			return -EINVAL;
	}
	return 0;
}

enum text_kind { TEXT_NAME, TEXT_NAME_OR_EMPTY, TEXT_PRINTABLE };

/* What the wire's decoder would accept from a peer, so that a bad file cannot
 * make this node's announces refused. */
static int copy_text(char *dst, size_t size, json_t *v, enum text_kind kind)
{
	const char *s = json_string_value(v);

	if (!s || strlen(s) >= size)
		return -EINVAL;
	if (kind == TEXT_PRINTABLE) {
		for (const char *p = s; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				return -EINVAL;
	} else if (!(kind == TEXT_NAME_OR_EMPTY && !*s) && !name_valid(s, size)) {
		return -EINVAL;
	}
	strcpy(dst, s);
	return 0;
}

/* The last changes, with their authors (absent from a file an older fomgr wrote). */
static int changes_from_json(json_t *changes, struct wire_admin *admin)
{
	json_t *c;
	size_t i;

	if (!changes)
		return 0;
	if (!json_is_array(changes) || json_array_size(changes) > WIRE_MAX_CHANGES)
		return -EINVAL;
	json_array_foreach(changes, i, c) {
		struct wire_admin_change *w = &admin->changes[admin->n_changes++];
		json_int_t epoch = json_integer_value(json_object_get(c, "epoch"));
		json_int_t origin = json_integer_value(json_object_get(c, "origin"));
		json_int_t uid = json_integer_value(json_object_get(c, "uid"));
		json_int_t at = json_integer_value(json_object_get(c, "at_ms"));

		if (epoch < 0 || origin < 0 || origin > UINT32_MAX || uid < 0 || uid > UINT32_MAX || at < 0 ||
		    copy_text(w->what, sizeof(w->what), json_object_get(c, "what"), TEXT_NAME) < 0 ||
		    copy_text(w->target, sizeof(w->target), json_object_get(c, "target"), TEXT_NAME) < 0 ||
		    copy_text(w->to, sizeof(w->to), json_object_get(c, "to"), TEXT_NAME_OR_EMPTY) < 0 ||
		    copy_text(w->user, sizeof(w->user), json_object_get(c, "user"), TEXT_PRINTABLE) < 0 ||
		    copy_text(w->node, sizeof(w->node), json_object_get(c, "node"), TEXT_NAME) < 0)
			return -EINVAL;
		w->epoch = (uint64_t)epoch;
		w->origin = (uint32_t)origin;
		w->uid = (uint32_t)uid;
		w->at_ms = (uint64_t)at;
	}
	return 0;
}

static int from_json(json_t *root, struct wire_admin *admin)
{
	json_t *standby = json_object_get(root, "standby"), *pins = json_object_get(root, "pins"), *v;
	json_t *epoch = json_object_get(root, "epoch"), *origin = json_object_get(root, "origin");
	const char *key;
	size_t i;

	if (!json_is_integer(epoch) || !json_is_integer(origin) || !json_is_array(standby) || !json_is_object(pins) ||
	    json_array_size(standby) > CONFIG_MAX_NODES || json_object_size(pins) > WIRE_MAX_HELD ||
	    more_from_json(root, admin) < 0)
		return -EINVAL;
	admin->epoch = (uint64_t)json_integer_value(epoch);
	admin->origin = (uint32_t)json_integer_value(origin);
	json_array_foreach(standby, i, v) {
		if (copy_name(admin->standby[admin->n_standby++], v) < 0)
			return -EINVAL;
	}
	json_object_foreach(pins, key, v) {
		struct wire_pin *p = &admin->pins[admin->n_pins++];
		if (strlen(key) == 0 || strlen(key) >= CONFIG_NAME_MAX || copy_name(p->node, v) < 0)
			return -EINVAL;
		strcpy(p->group, key);
	}
	return changes_from_json(json_object_get(root, "changes"), admin);
}

int admin_load(const char *path, struct wire_admin *admin)
{
	json_error_t error;
	json_t *root;
	int rc;

	memset(admin, 0, sizeof(*admin));
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? 0 : -errno;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
	if (!root)
		return -EINVAL;
	rc = from_json(root, admin);
	json_decref(root);
	if (rc < 0)
		memset(admin, 0, sizeof(*admin));
	return rc;
}

static json_t *to_json(const struct wire_admin *admin)
{
	json_t *root = json_object(), *standby = json_array(), *pins = json_object(), *disabled = json_array(),
	       *changes = json_array();

	for (size_t i = 0; i < admin->n_disabled; i++)
		json_array_append_new(disabled, json_string(admin->disabled[i]));
	json_object_set_new(root, "disabled", disabled);
	json_object_set_new(root, "maintenance", json_boolean(admin->maintenance));
	json_object_set_new(root, "epoch", json_integer((json_int_t)admin->epoch));
	json_object_set_new(root, "origin", json_integer(admin->origin));
	for (size_t i = 0; i < admin->n_standby; i++)
		json_array_append_new(standby, json_string(admin->standby[i]));
	for (size_t i = 0; i < admin->n_pins; i++)
		json_object_set_new(pins, admin->pins[i].group, json_string(admin->pins[i].node));
	for (size_t i = 0; i < admin->n_changes; i++) {
		const struct wire_admin_change *c = &admin->changes[i];
		json_array_append_new(changes, json_pack("{s:I, s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:I}", "epoch",
							 (json_int_t)c->epoch, "origin", (json_int_t)c->origin, "what",
							 c->what, "target", c->target, "to", c->to, "uid",
							 (json_int_t)c->uid, "user", c->user, "node", c->node, "at_ms",
							 (json_int_t)c->at_ms));
	}
	json_object_set_new(root, "standby", standby);
	json_object_set_new(root, "pins", pins);
	json_object_set_new(root, "changes", changes);
	return root;
}

int admin_save(const char *path, const struct wire_admin *admin)
{
	char tmp[4200];
	json_t *root = to_json(admin);
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	int fd, rc = 0;
	size_t len;

	json_decref(root);
	if (!text)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		free(text);
		return -errno;
	}
	len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		rc = -errno ? -errno : -EIO;
	close(fd);
	free(text);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}
