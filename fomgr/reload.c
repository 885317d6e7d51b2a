#include "reload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auditlog.h"
#include "fo/clock.h"
#include "fo/log.h"

/* Splits errors into lines, keeps the first RELOAD_MAX_ERRORS. */
static void keep_errors(struct reload_state *s, const char *errors)
{
	const char *p = errors ? errors : "";

	s->n_errors = s->n_total = 0;
	while (*p) {
		size_t len = strcspn(p, "\n");

		if (len) {
			if (s->n_errors < RELOAD_MAX_ERRORS)
				snprintf(s->errors[s->n_errors++], RELOAD_ERROR_MAX, "%.*s", (int)len, p);
			s->n_total++;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	if (!s->n_total) {
		snprintf(s->errors[0], RELOAD_ERROR_MAX, "refused (no reason given)");
		s->n_errors = s->n_total = 1;
	}
}

static json_t *errors_json(const struct reload_state *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->n_errors; i++)
		json_array_append_new(a, json_string(s->errors[i]));
	return a;
}

int reload_refused(struct reload_state *s, struct auditlog *log, int audit, const char *path, const char *errors)
{
	json_t *rec;
	int rc = 0;

	keep_errors(s, errors);
	s->refused = 1;
	s->at_ms = clock_real_ms();
	s->refusals++;
	for (size_t i = 0; i < s->n_errors; i++)
		log_event(LOG_LVL_ERR, LOG_MSGID_CONFIG, "reload refused: %s", s->errors[i]);
	if (s->n_total > s->n_errors)
		log_err("reload refused: %zu more error(s) not shown", s->n_total - s->n_errors);
	log_event(LOG_LVL_ERR, LOG_MSGID_CONFIG, "reload refused: keeping the running configuration");
	if (!audit)
		return 0;
	if (!log) {
		log_err("reload refused: no audit log to record it in");
		return -EBADF;
	}
	rec = json_pack("{s:s, s:s, s:o, s:I}", "change", "reload refused", "config", path ? path : "", "errors",
			errors_json(s), "error_count", (json_int_t)s->n_total);
	rc = rec ? auditlog_append(log, AUDITLOG_CONFIG, rec) : -ENOMEM;
	json_decref(rec);
	if (rc < 0)
		log_err("reload refused: the audit record could not be written: %s", strerror(-rc));
	return rc;
}

void reload_accepted(struct reload_state *s)
{
	s->refused = 0;
}

void reload_status_json(const struct reload_state *s, json_t *status)
{
	json_t *warnings = json_object_get(status, "warnings");
	char text[RELOAD_ERROR_MAX + 100];

	if (!json_is_array(warnings))
		return;
	if (s->refused) {
		snprintf(text, sizeof(text), "reload-refused: %zu error(s), the running configuration is kept; %s",
			 s->n_total, s->errors[0]);
		json_array_append_new(warnings, json_string(text));
	}
	if (s->refusals)
		json_object_set_new(status, "reload",
				    json_pack("{s:b, s:I, s:I, s:o}", "refused", s->refused, "at_ms", (json_int_t)s->at_ms,
					      "refusals", (json_int_t)s->refusals, "errors",
					      s->refused ? errors_json(s) : json_array()));
}
