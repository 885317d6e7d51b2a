#include "startup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "auditlog.h"
#include "fo/log.h"
#include "membership.h"

int startup_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

const char *startup_node_name(const struct config_nodelist *nodes, uint32_t nodeid)
{
	const char *name = "unknown";

	for (size_t i = 0; i < nodes->n_nodes; i++)
		if (nodes->nodes[i].nodeid == nodeid)
			name = nodes->nodes[i].name;
	return name;
}

struct auditlog *startup_auditlog(struct ev_loop *loop, const struct config *config,
				  const struct config_nodelist *nodes)
{
	struct auditlog_options opts = {.max_age_days = config->audit.retention_days};
	char dir[256], *slash;
	const char *node = "unknown";
	uint32_t local = 0;
	struct auditlog *log;

	snprintf(dir, sizeof(dir), "%s", config->audit.log);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		startup_dir(dir, 0750);
	}
	if (membership_local_nodeid(&local) == 0)
		node = startup_node_name(nodes, local);
	log = auditlog_open(config->audit.log, node, &opts);
	if (!log) {
		log_err("audit log %s: %s: operators' commands will be refused", config->audit.log, strerror(errno));
		return NULL;
	}
	auditlog_attach(log, loop);
	return log;
}

json_t *startup_record_json(const struct config *config)
{
	char digest[65];

	return json_pack("{s:s, s:s, s:s}", "version", FO_VERSION, "config", config->path, "config_digest",
			 config_digest_hex(config, digest));
}

void startup_admin_state(const struct config *config, char *path, size_t size, struct wire_admin *admin)
{
	int rc;

	startup_dir(config->runtime_dir, 0755);
	startup_dir(config->state_dir, 0750);
	snprintf(path, size, "%s/admin.json", config->state_dir);
	rc = admin_load(path, admin);
	if (rc < 0)
		log_err("admin state %s unreadable (%s): starting without standby or pins", path, strerror(-rc));
	else if (admin->epoch)
		log_info("admin state epoch %llu loaded from %s", (unsigned long long)admin->epoch, path);
}
