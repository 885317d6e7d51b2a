#include "fo/name.h"
#include "fo/healthwire.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int healthwire_encode(const struct healthwire_report *report, char *buf, size_t size)
{
	json_t *root, *checks;
	char *text;
	size_t len;
	int rc = -EINVAL;

	root = json_object();
	checks = json_object();
	json_object_set_new(root, "v", json_integer(HEALTHWIRE_VERSION));
	json_object_set_new(root, "seq", json_integer((json_int_t)report->seq));
	json_object_set_new(root, "interval_ms", json_integer(report->interval_ms));
	for (size_t i = 0; i < report->n_checks; i++) {
		if (!name_valid(report->checks[i].name, HEALTHWIRE_NAME_MAX) || report->checks[i].state >= CHECK_STATE_MAX)
			goto out;
		json_object_set_new(checks, report->checks[i].name,
				    json_string(check_state_str(report->checks[i].state)));
	}
	json_object_set(root, "checks", checks);
	text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text) {
		rc = -ENOMEM;
		goto out;
	}
	len = strlen(text);
	if (len + 2 > size || len + 1 > HEALTHWIRE_MAX_LINE) {
		rc = -ENOSPC;
	} else {
		memcpy(buf, text, len);
		buf[len] = '\n';
		buf[len + 1] = '\0';
		rc = (int)len + 1;
	}
	free(text);
out:
	json_decref(checks);
	json_decref(root);
	return rc;
}

void healthwire_report_clear(struct healthwire_report *report)
{
	free(report->checks);
	memset(report, 0, sizeof(*report));
}

int healthwire_decode(const char *line, size_t len, struct healthwire_report *out)
{
	json_t *root, *v, *seq, *interval, *checks, *value;
	const char *key;
	json_error_t error;
	int rc = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len >= HEALTHWIRE_MAX_LINE)
		return -E2BIG;
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &error);
	if (!root)
		return -EINVAL;
	if (!json_is_object(root))
		goto out;
	v = json_object_get(root, "v");
	if (!json_is_integer(v))
		goto out;
	if (json_integer_value(v) != HEALTHWIRE_VERSION) {
		rc = -EPROTONOSUPPORT;
		goto out;
	}
	seq = json_object_get(root, "seq");
	interval = json_object_get(root, "interval_ms");
	checks = json_object_get(root, "checks");
	if (!json_is_integer(seq) || json_integer_value(seq) < 0 || !json_is_integer(interval) ||
	    json_integer_value(interval) <= 0 || json_integer_value(interval) > 3600000 ||
	    !json_is_object(checks))
		goto out;
	if (json_object_size(checks) > HEALTHWIRE_MAX_CHECKS) {
		rc = -E2BIG;
		goto out;
	}
	out->seq = (uint64_t)json_integer_value(seq);
	out->interval_ms = (uint32_t)json_integer_value(interval);
	out->checks = calloc(json_object_size(checks) + 1, sizeof(*out->checks));
	if (!out->checks) {
		rc = -ENOMEM;
		goto out;
	}
	json_object_foreach(checks, key, value) {
		struct healthwire_check *c = &out->checks[out->n_checks];

		if (!name_valid(key, HEALTHWIRE_NAME_MAX) || !json_is_string(value) ||
		    check_state_parse(json_string_value(value), &c->state) < 0) {
			healthwire_report_clear(out);
			goto out;
		}
		strcpy(c->name, key);
		out->n_checks++;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

const struct healthwire_check *healthwire_find(const struct healthwire_report *report, const char *name)
{
	for (size_t i = 0; i < report->n_checks; i++)
		if (strcmp(report->checks[i].name, name) == 0)
			return &report->checks[i];
	return NULL;
}
