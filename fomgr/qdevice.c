#include "qdevice.h"

#include <corosync/cmap.h>
#include <corosync/votequorum.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fo/log.h"
#include "membership.h"

static const char *const event_names[QDEVICE_EVENT_MAX] = {"none", "lost", "back"};

const char *qdevice_event_str(enum qdevice_event ev)
{
	return ev < QDEVICE_EVENT_MAX ? event_names[ev] : "invalid";
}

/* ---- reading (the ring watch's thread) ---- */

static void cmap_string(cmap_handle_t h, const char *key, char *out, size_t size, const char *fallback)
{
	char *v = NULL;

	if (cmap_get_string(h, key, &v) == CS_OK) {
		snprintf(out, size, "%s", v);
		free(v);
	} else {
		snprintf(out, size, "%s", fallback);
	}
}

static void read_settings(cmap_handle_t h, struct qdevice_info *out)
{
	char model[sizeof(out->model)];

	cmap_string(h, "quorum.device.model", model, sizeof(model), "");
	if (!model[0])
		return;
	out->configured = 1;
	memcpy(out->model, model, sizeof(model));
	cmap_string(h, "quorum.device.net.algorithm", out->algorithm, sizeof(out->algorithm), "ffsplit");
	cmap_string(h, "quorum.device.net.host", out->host, sizeof(out->host), "");
}

void qdevice_reader_close(struct qdevice_reader *r)
{
	if (r->votequorum)
		votequorum_finalize(r->votequorum);
	r->votequorum = 0;
}

static int read_state(struct qdevice_reader *r, uint32_t local_nodeid, struct qdevice_info *out)
{
	votequorum_callbacks_t none;
	struct votequorum_info info;
	int rc = 0;

	memset(&none, 0, sizeof(none));
	if (!r->votequorum)
		rc = membership_cs_errno(votequorum_initialize(&r->votequorum, &none));
	if (rc == 0)
		rc = membership_cs_errno(votequorum_getinfo(r->votequorum, local_nodeid, &info));
	if (rc < 0) {
		qdevice_reader_close(r);
		return rc;
	}
	out->known = 1;
	out->alive = (info.flags & VOTEQUORUM_INFO_QDEVICE_ALIVE) != 0;
	out->voting = out->alive && (info.flags & VOTEQUORUM_INFO_QDEVICE_CAST_VOTE) != 0;
	out->votes = info.qdevice_votes;
	return 0;
}

void qdevice_read(struct qdevice_reader *r, uint64_t cmap_handle, uint32_t local_nodeid, uint64_t now_us,
		  struct qdevice_info *out)
{
	memset(out, 0, sizeof(*out));
	read_settings(cmap_handle, out);
	if (!out->configured) {
		qdevice_reader_close(r);
		r->read_us = 0;
		return;
	}
	if (r->read_us && now_us - r->read_us < QDEVICE_READ_INTERVAL_MS * 1000ull) {
		out->known = 1;
		out->alive = r->last.alive;
		out->voting = r->last.voting;
		out->votes = r->last.votes;
		return;
	}
	r->read_us = 0;
	if (read_state(r, local_nodeid, out) == 0) {
		r->read_us = now_us;
		r->last = *out;
	}
}

/* ---- judging (the loop, pure) ---- */

uint32_t qdevice_grace_ms(uint32_t token_ms, uint32_t consensus_ms)
{
	uint32_t grace = 2 * (token_ms + consensus_ms);

	return grace < QDEVICE_MIN_GRACE_MS ? QDEVICE_MIN_GRACE_MS : grace;
}

enum qdevice_event qdevice_watch_update(struct qdevice_watch *w, const struct qdevice_info *in, uint64_t now_us,
					uint32_t grace_ms)
{
	int connected = in->configured && in->known && in->voting;

	if (!w->have || connected != w->connected || in->configured != w->info.configured) {
		w->connected = connected;
		w->since_us = now_us;
	}
	w->have = 1;
	w->info = *in;
	if (!in->configured) {
		w->lost = 0;
		return QDEVICE_EVENT_NONE;
	}
	if (connected && w->lost) {
		w->lost = 0;
		return QDEVICE_EVENT_BACK;
	}
	if (!connected && !w->lost && now_us - w->since_us >= (uint64_t)grace_ms * 1000u) {
		w->lost = 1;
		w->losses++;
		return QDEVICE_EVENT_LOST;
	}
	return QDEVICE_EVENT_NONE;
}

static uint64_t ms_since(const struct qdevice_watch *w, uint64_t now_us)
{
	return now_us > w->since_us ? (now_us - w->since_us) / 1000u : 0;
}

/* What a partition does without the device's vote, for the warning and the log. */
static void describe(const struct qdevice_watch *w, uint64_t now_us, char *out, size_t size)
{
	const struct qdevice_info *q = &w->info;

	snprintf(out, size,
		 "the quorum device (%s %s, witness %s) has not voted on this node for %llu ms (%s): no tie-breaker, "
		 "a partition now leaves no side with quorum",
		 q->model, q->algorithm, q->host[0] ? q->host : "?", (unsigned long long)ms_since(w, now_us),
		 !q->known ? "votequorum does not answer" : !q->alive ? "corosync-qdevice not running" : "not voting");
}

enum qdevice_event qdevice_watch_sample(struct qdevice_watch *w, const struct qdevice_info *in, uint64_t now_us,
					uint32_t grace_ms)
{
	uint64_t was_lost_ms = w->lost ? ms_since(w, now_us) : 0;
	enum qdevice_event ev = qdevice_watch_update(w, in, now_us, grace_ms);
	char text[300];

	if (ev == QDEVICE_EVENT_LOST) {
		describe(w, now_us, text, sizeof(text));
		log_event(LOG_LVL_WARN, LOG_MSGID_QUORUM, "qdevice lost: %s", text);
	} else if (ev == QDEVICE_EVENT_BACK) {
		log_event(LOG_LVL_INFO, LOG_MSGID_QUORUM,
			  "qdevice back: the quorum device (%s %s, witness %s) votes again after %llu ms", w->info.model,
			  w->info.algorithm, w->info.host, (unsigned long long)was_lost_ms);
	}
	return ev;
}

json_t *qdevice_event_json(const struct qdevice_watch *w, enum qdevice_event ev, uint64_t now_us)
{
	char text[300];

	if (ev == QDEVICE_EVENT_LOST)
		describe(w, now_us, text, sizeof(text));
	else
		snprintf(text, sizeof(text), "the quorum device votes again");
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "subject", "qdevice", "severity",
			 ev == QDEVICE_EVENT_LOST ? "warning" : "info", "action", qdevice_event_str(ev), "algorithm",
			 w->info.algorithm, "host", w->info.host, "detail", text);
}

void qdevice_status_json(const struct qdevice_watch *w, uint64_t now_us, json_t *status)
{
	const struct qdevice_info *q = &w->info;
	json_t *o, *warnings = json_object_get(status, "warnings");
	char text[360];

	if (!w->have)
		return;
	o = json_pack("{s:b, s:b}", "configured", q->configured, "connected", w->connected);
	if (q->configured) {
		json_object_set_new(o, "model", json_string(q->model));
		json_object_set_new(o, "algorithm", json_string(q->algorithm));
		json_object_set_new(o, "host", json_string(q->host));
		json_object_set_new(o, "alive", json_boolean(q->known && q->alive));
		json_object_set_new(o, "voting", json_boolean(q->known && q->voting));
		json_object_set_new(o, "votes", json_integer(q->votes));
		json_object_set_new(o, "since_ms", json_integer((json_int_t)ms_since(w, now_us)));
		json_object_set_new(o, "lost", json_boolean(w->lost));
		json_object_set_new(o, "losses", json_integer((json_int_t)w->losses));
	}
	json_object_set_new(status, "qdevice", o);
	if (w->lost && json_is_array(warnings)) {
		char detail[300];

		describe(w, now_us, detail, sizeof(detail));
		snprintf(text, sizeof(text), "qdevice-disconnected: %s", detail);
		json_array_append_new(warnings, json_string(text));
	}
}

int qdevice_split_brain_risk(int two_node, int has_qdevice, const struct qdevice_watch *w)
{
	if (!two_node)
		return 0;
	if (!w->have)
		return !has_qdevice;
	return !w->info.configured || w->lost;
}
