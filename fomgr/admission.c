#include "admission.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "audit_exposure.h"
#include "audit_findings.h"
#include "auditlog.h"
#include "executor.h"
#include "fo/cfgfile.h"
#include "fo/log.h"
#include "membership.h"

struct config *admission_load(const char *path, const struct config_nodelist *nodes)
{
	struct cfgfile_errors errors;
	char buf[8192];
	struct config *c = config_load(path, nodes, &errors);

	if (!c)
		log_err("configuration refused:\n%s", cfgfile_errors_format(&errors, path, buf, sizeof(buf)));
	return c;
}

int admission_exposure(struct executor *x, const struct config *c)
{
	struct audit_exposure_input in;
	struct audit_findings found = {0};
	struct membership_info info;
	int have_info = membership_read_info(&info) == 0;
	int rc;

	audit_exposure_gather(c, have_info ? &info : NULL, &in);
	rc = audit_exposure_check(c, &in, &found);
	for (size_t i = 0; i < found.n; i++) {
		const struct audit_finding *f = &found.v[i];
		log_msg(f->severity == AUDIT_INFO ? LOG_LVL_INFO : LOG_LVL_WARN, "exposure %s: %s", f->subject,
			f->detail);
		executor_record(x, AUDITLOG_FINDING, audit_finding_json(f), EXECUTOR_RECORD_NOW);
	}
	audit_findings_clear(&found);
	if (rc == -EPERM)
		log_err("refused by the exposure policy (require_crypto or [audit] policy = refuse)");
	return rc == -EPERM ? rc : 0;
}

static void refused(struct executor *x, const char *change, const char *path)
{
	log_event(LOG_LVL_ERR, LOG_MSGID_CONFIG, "reload refused: keeping the running configuration");
	executor_record(x, AUDITLOG_CONFIG, json_pack("{s:s, s:s}", "change", change, "config", path),
			EXECUTOR_RECORD_NOW);
}

int admission_reload(struct executor *x, const char *path, const struct config *old,
		     const struct config_nodelist *nodes, struct config **next)
{
	struct config *c = admission_load(path, nodes);

	*next = NULL;
	if (!c) {
		refused(x, "reload refused", path);
		return -EINVAL;
	}
	if (admission_exposure(x, c) < 0) {
		refused(x, "reload refused (exposure policy)", path);
		config_free(c);
		return -EPERM;
	}
	executor_record(x, AUDITLOG_CONFIG, admission_change_json(old, c), EXECUTOR_RECORD_NOW);
	*next = c;
	return 0;
}

int admission_config_test(const char *path)
{
	struct config_nodelist nodes;
	struct config *c;
	int have_nodes = membership_read_nodelist(&nodes) == 0;

	if (!have_nodes)
		fprintf(stderr, "%s: note: corosync is not running here; node names were not checked\n", path);
	c = admission_load(path, have_nodes ? &nodes : NULL);
	if (!c)
		return -EINVAL;
	printf("%s: configuration OK (%zu group(s))\n", path, c->n_groups);
	config_free(c);
	return 0;
}

json_t *admission_change_json(const struct config *old, const struct config *next)
{
	json_t *added = json_array(), *removed = json_array(), *changed = json_array();
	char a[65], b[65];

	for (size_t i = 0; i < next->n_groups; i++) {
		const struct config_group *o = config_group_find(old, next->groups[i].name);
		if (!o)
			json_array_append_new(added, json_string(next->groups[i].name));
		else if (memcmp(o, &next->groups[i], sizeof(*o)) != 0)
			json_array_append_new(changed, json_string(next->groups[i].name));
	}
	for (size_t i = 0; i < old->n_groups; i++)
		if (!config_group_find(next, old->groups[i].name))
			json_array_append_new(removed, json_string(old->groups[i].name));
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:b}", "change", "reload", "config", next->path,
			 "old_digest", config_digest_hex(old, a), "new_digest", config_digest_hex(next, b),
			 "groups_added", added, "groups_removed", removed, "groups_changed", changed,
			 "fomgr_settings_changed",
			 memcmp(old->cpg_group, next->cpg_group, sizeof(old->cpg_group)) ||
				 old->garp_count != next->garp_count || old->health_ttl_ms != next->health_ttl_ms ||
				 old->health_policy != next->health_policy);
}
