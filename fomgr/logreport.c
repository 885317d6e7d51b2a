#include "logreport.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auditlog.h"

struct tally {
	json_t *report, *by_type, *by_reason, *denied_by_user, *admin_by_user, *config_changes, *opened_by_kind;
	json_t *open_now; /* "kind subject" -> finding, while open */
	json_t *gaps;
	uint64_t since_ms, records, in_range, denied, failed, opened, resolved, gap_count, last_seq, line;
	char first_ts[40], last_ts[40];
};

static void bump(json_t *counts, const char *key, json_int_t by)
{
	json_t *v = json_object_get(counts, key ? key : "?");

	json_object_set_new(counts, key ? key : "?", json_integer((v ? json_integer_value(v) : 0) + by));
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void gap(struct tally *t, const char *kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void gap(struct tally *t, const char *kind, const char *fmt, ...)
{
	char detail[200];
	va_list ap;

	t->gap_count++;
	if (json_array_size(t->gaps) >= LOGREPORT_MAX_LIST)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_array_append_new(t->gaps, json_pack("{s:I, s:s, s:s}", "line", (json_int_t)t->line, "kind", kind, "detail",
						 detail));
}

/* Sequence jumps and what the writer said it dropped count whatever the range. */
static void check_sequence(struct tally *t, const json_t *rec)
{
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
	json_int_t dropped = json_integer_value(json_object_get(rec, "dropped_before"));

	if (t->last_seq && seq != t->last_seq + 1)
		gap(t, "sequence", "seq %llu after %llu", (unsigned long long)seq, (unsigned long long)t->last_seq);
	if (dropped > 0)
		gap(t, "dropped", "%lld record(s) dropped by the writer before seq %llu", (long long)dropped,
		    (unsigned long long)seq);
	t->last_seq = seq;
}

static void finding(struct tally *t, const json_t *rec)
{
	const char *kind = str(rec, "kind") ? str(rec, "kind") : str(rec, "subject");
	char key[600];

	snprintf(key, sizeof(key), "%s %s", kind ? kind : "?", str(rec, "subject") ? str(rec, "subject") : "");
	if (str(rec, "state") && strcmp(str(rec, "state"), "resolved") == 0) {
		t->resolved++;
		json_object_del(t->open_now, key);
		return;
	}
	t->opened++;
	bump(t->opened_by_kind, kind, 1);
	json_object_set_new(t->open_now, key,
			    json_pack("{s:s, s:s?, s:s?, s:s?}", "kind", kind ? kind : "?", "severity", str(rec, "severity"),
				      "subject", str(rec, "subject"), "since", str(rec, "ts")));
}

/* What a config record says changed: a reload (refused or not), fomgr's start
 * with its config, the network's baseline or a change in it. */
static const char *change_of(const json_t *rec)
{
	if (str(rec, "change"))
		return str(rec, "change");
	if (strcmp(str(rec, "type"), "start") == 0)
		return "start";
	if (str(rec, "what") && strcmp(str(rec, "what"), "network") == 0)
		return json_is_true(json_object_get(rec, "baseline")) ? "network baseline" : "network changed";
	return str(rec, "what") ? str(rec, "what") : "?";
}

static void config_change(struct tally *t, const json_t *rec)
{
	json_t *c;

	if (json_array_size(t->config_changes) >= LOGREPORT_MAX_LIST)
		return;
	c = json_pack("{s:s?, s:I, s:s}", "ts", str(rec, "ts"), "seq", json_integer_value(json_object_get(rec, "seq")),
		      "change", change_of(rec));
	if (str(rec, "config"))
		json_object_set_new(c, "config", json_string(str(rec, "config")));
	if (json_object_get(rec, "error_count"))
		json_object_set(c, "error_count", json_object_get(rec, "error_count"));
	json_array_append_new(t->config_changes, c);
}

static void count(struct tally *t, const json_t *rec)
{
	const char *type = str(rec, "type");

	bump(t->by_type, type, 1);
	if (!type)
		return;
	if (strcmp(type, "transition") == 0) {
		if (str(rec, "action") && strcmp(str(rec, "action"), "acquire") == 0)
			bump(t->by_reason, str(rec, "reason"), 1);
		t->failed += json_is_false(json_object_get(rec, "ok"));
	} else if (strcmp(type, "access_denied") == 0) {
		json_int_t n = 1 + json_integer_value(json_object_get(rec, "suppressed_before"));

		t->denied += (uint64_t)n;
		bump(t->denied_by_user, str(rec, "user"), n);
	} else if (strcmp(type, "admin") == 0) {
		if (!str(rec, "phase") || strcmp(str(rec, "phase"), "request") == 0)
			bump(t->admin_by_user, str(rec, "user"), 1);
	} else if (strcmp(type, "config") == 0 || strcmp(type, "start") == 0) {
		config_change(t, rec);
	} else if (strcmp(type, "finding") == 0) {
		finding(t, rec);
	}
}

static void line_in(struct tally *t, const char *line, size_t len)
{
	json_t *rec = json_loadb(line, len, 0, NULL);
	json_int_t real;

	if (!json_is_object(rec) || !json_is_integer(json_object_get(rec, "seq"))) {
		gap(t, "not-a-record", "line %llu is not an audit record", (unsigned long long)t->line);
		json_decref(rec);
		return;
	}
	t->records++;
	check_sequence(t, rec);
	real = json_integer_value(json_object_get(rec, "realtime_ms"));
	if ((uint64_t)real >= t->since_ms) {
		t->in_range++;
		if (!t->first_ts[0] && str(rec, "ts"))
			snprintf(t->first_ts, sizeof(t->first_ts), "%s", str(rec, "ts"));
		if (str(rec, "ts"))
			snprintf(t->last_ts, sizeof(t->last_ts), "%s", str(rec, "ts"));
		count(t, rec);
	}
	json_decref(rec);
}

static json_t *chain_json(FILE *stream, const char *prev_hex)
{
	struct auditlog_verify_result res;
	int rc;

	rewind(stream);
	rc = auditlog_verify(stream, prev_hex, &res);
	if (rc == 0)
		return json_pack("{s:b, s:I, s:s}", "intact", 1, "records", (json_int_t)res.records, "last_hash",
				 res.last_hash);
	return json_pack("{s:b, s:I, s:I, s:s}", "intact", 0, "records", (json_int_t)res.records, "bad_line",
			 (json_int_t)res.bad_line, "reason", rc == -EBADMSG ? res.reason : strerror(-rc));
}

static json_t *still_open(const struct tally *t)
{
	json_t *a = json_array(), *v;
	const char *key;

	json_object_foreach(t->open_now, key, v)
		json_array_append(a, v);
	return a;
}

json_t *logreport_build(FILE *stream, const char *name, uint64_t since_ms, const char *prev_hex)
{
	struct tally t = {.since_ms = since_ms};
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	json_t *r;

	t.by_type = json_object();
	t.by_reason = json_object();
	t.denied_by_user = json_object();
	t.admin_by_user = json_object();
	t.config_changes = json_array();
	t.opened_by_kind = json_object();
	t.open_now = json_object();
	t.gaps = json_array();
	while ((len = getline(&buf, &cap, stream)) != -1) {
		t.line++;
		if (len > AUDITLOG_MAX_LINE + 1)
			gap(&t, "not-a-record", "line %llu is longer than %d bytes", (unsigned long long)t.line,
			    AUDITLOG_MAX_LINE);
		else
			line_in(&t, buf, (size_t)len);
	}
	free(buf);
	if (ferror(stream)) {
		int err = errno ? errno : EIO;

		json_decref(t.by_type);
		json_decref(t.by_reason);
		json_decref(t.denied_by_user);
		json_decref(t.admin_by_user);
		json_decref(t.config_changes);
		json_decref(t.opened_by_kind);
		json_decref(t.open_now);
		json_decref(t.gaps);
		errno = err;
		return NULL;
	}
	r = json_pack("{s:s, s:I, s:I, s:I, s:s?, s:s?, s:o}", "file", name ? name : "-", "since_ms",
		      (json_int_t)since_ms, "records", (json_int_t)t.records, "records_in_range", (json_int_t)t.in_range,
		      "first_ts", t.first_ts[0] ? t.first_ts : NULL, "last_ts", t.last_ts[0] ? t.last_ts : NULL,
		      "by_type", t.by_type);
	json_object_set_new(r, "transitions",
			    json_pack("{s:o, s:I}", "by_reason", t.by_reason, "failed", (json_int_t)t.failed));
	json_object_set_new(r, "access_denied",
			    json_pack("{s:I, s:o}", "total", (json_int_t)t.denied, "by_user", t.denied_by_user));
	json_object_set_new(r, "admin", json_pack("{s:o}", "by_user", t.admin_by_user));
	json_object_set_new(r, "config_changes", t.config_changes);
	json_object_set_new(r, "findings",
			    json_pack("{s:I, s:I, s:o, s:o}", "opened", (json_int_t)t.opened, "resolved",
				      (json_int_t)t.resolved, "opened_by_kind", t.opened_by_kind, "still_open",
				      still_open(&t)));
	json_decref(t.open_now);
	json_object_set_new(r, "gaps", t.gaps);
	json_object_set_new(r, "gap_count", json_integer((json_int_t)t.gap_count));
	json_object_set_new(r, "chain", chain_json(stream, prev_hex));
	return r;
}

int logreport_clean(const json_t *report)
{
	return json_is_true(json_object_get(json_object_get(report, "chain"), "intact")) &&
	       json_integer_value(json_object_get(report, "gap_count")) == 0;
}

int logreport_parse_since(const char *text, uint64_t now_ms, uint64_t *out)
{
	static const struct {
		char unit;
		uint64_t ms;
	} units[] = {{'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}};
	struct tm tm = {0};
	const char *end;
	char *num_end;
	unsigned long long n;

	if (!text || !*text)
		return -EINVAL;
	if (isdigit((unsigned char)text[0]) && !strchr(text, '-')) {
		errno = 0;
		n = strtoull(text, &num_end, 10);
		for (size_t i = 0; !errno && num_end[0] && !num_end[1] && i < sizeof(units) / sizeof(units[0]); i++)
			if (num_end[0] == units[i].unit && n <= now_ms / units[i].ms) {
				*out = now_ms - n * units[i].ms;
				return 0;
			}
		return -EINVAL;
	}
	end = strptime(text, "%Y-%m-%d", &tm);
	if (end && *end == 'T')
		end = strptime(end + 1, strchr(end, ':') && strchr(strchr(end, ':') + 1, ':') ? "%H:%M:%S" : "%H:%M", &tm);
	if (!end || *end)
		return -EINVAL;
	*out = (uint64_t)timegm(&tm) * 1000;
	return 0;
}
