#include "membership.h"

#include <corosync/cmap.h>
#include <corosync/corotypes.h>
#include <corosync/cpg.h>
#include <corosync/votequorum.h>
#include <openssl/evp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fo/log.h"

#define BACKOFF_MIN 0.1
#define BACKOFF_MAX 5.0
#define RESEND_DELAY 0.005

struct membership {
	struct ev_loop *loop;
	struct membership_ops ops;
	void *arg;
	struct cpg_name group;
	cpg_handle_t cpg;
	votequorum_handle_t vq;
	int connected;
	ev_io cpg_io, vq_io;
	ev_timer retry;
	ev_timer resend;
	double backoff;
	/* quorum is trusted only for the ring CPG reports, never a stale one */
	struct cpg_ring_id cpg_ring;
	votequorum_ring_id_t vq_ring;
	int have_cpg_ring, have_vq_ring;
	int vq_quorate;
	int abandoned;         /* leave without asking corosync anything (it does not answer) */
	int distrust;          /* corosync went silent: the ring we know may be gone */
	uint64_t distrust_seq; /* the ring seq we knew then; only a newer ring counts */
	uint32_t local_nodeid, local_pid;
	uint8_t *pending; /* newest announce corosync asked us to retry */
	size_t pending_len;
};

static int quorum_known(const struct membership *m)
{
	return !m->distrust && m->have_cpg_ring && m->have_vq_ring && m->cpg_ring.nodeid == m->vq_ring.nodeid &&
	       m->cpg_ring.seq == m->vq_ring.seq;
}

static void report_quorum(struct membership *m)
{
	int known = quorum_known(m);

	m->ops.quorum(m->arg, known, known && m->vq_quorate);
}

static void on_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid, uint32_t pid, void *msg,
		       size_t len)
{
	struct membership *m;

	if (cpg_context_get(h, (void **)&m) != CS_OK)
		return;
	m->ops.deliver(m->arg, nodeid, pid, msg, len);
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *group, const struct cpg_address *members,
		       size_t n_members, const struct cpg_address *left, size_t n_left,
		       const struct cpg_address *joined, size_t n_joined)
{
	struct membership *m;

	if (cpg_context_get(h, (void **)&m) != CS_OK)
		return;
	/* A node went down: corosync has formed a new ring, and the quorum we know is
	 * the old ring's until votequorum reports on the new one. */
	for (size_t i = 0; i < n_left; i++) {
		if (left[i].reason == CPG_REASON_NODEDOWN && m->have_cpg_ring) {
			m->have_cpg_ring = 0;
			report_quorum(m);
		}
	}
	for (size_t i = 0; i < n_left; i++)
		m->ops.leave(m->arg, left[i].nodeid, left[i].pid,
			     left[i].reason == CPG_REASON_NODEDOWN ? VIEW_LEAVE_NODE : VIEW_LEAVE_PROC);
	for (size_t i = 0; i < n_joined; i++) {
		if (joined[i].nodeid == m->local_nodeid && joined[i].pid == m->local_pid) {
			/* Our own join: the member list tells who was already there. */
			for (size_t j = 0; j < n_members; j++)
				m->ops.join(m->arg, members[j].nodeid, members[j].pid);
			return;
		}
	}
	for (size_t i = 0; i < n_joined; i++)
		m->ops.join(m->arg, joined[i].nodeid, joined[i].pid);
}

static void on_totem(cpg_handle_t h, struct cpg_ring_id ring, uint32_t n, const uint32_t *nodeids)
{
	struct membership *m;

	if (cpg_context_get(h, (void **)&m) != CS_OK)
		return;
	m->cpg_ring = ring;
	m->have_cpg_ring = 1;
	if (m->distrust && ring.seq > m->distrust_seq) {
		m->distrust = 0;
		log_info("ring-stall: corosync reports a new ring (seq %llu): trusting its quorum again",
			 (unsigned long long)ring.seq);
	}
	m->ops.totem(m->arg, nodeids, n, quorum_known(m), m->vq_quorate);
}

static void on_vq_quorum(votequorum_handle_t h, uint64_t context, uint32_t quorate, uint32_t n,
			 votequorum_node_t nodes[])
{
	struct membership *m = (struct membership *)(uintptr_t)context;

	m->vq_quorate = quorate != 0;
	report_quorum(m);
}

static void on_vq_nodelist(votequorum_handle_t h, uint64_t context, votequorum_ring_id_t ring, uint32_t n,
			   uint32_t nodes[])
{
	struct membership *m = (struct membership *)(uintptr_t)context;

	m->vq_ring = ring;
	m->have_vq_ring = 1;
}

static void disconnect(struct membership *m)
{
	ev_io_stop(m->loop, &m->cpg_io);
	ev_io_stop(m->loop, &m->vq_io);
	ev_timer_stop(m->loop, &m->resend);
	/* Finalizing is a request corosync must answer: skipped when it does not. */
	if (m->cpg && !m->abandoned)
		cpg_finalize(m->cpg);
	if (m->vq && !m->abandoned)
		votequorum_finalize(m->vq);
	m->cpg = 0;
	m->vq = 0;
	m->have_cpg_ring = m->have_vq_ring = 0;
	m->vq_quorate = 0;
	m->distrust = 0;
}

static void schedule_retry(struct membership *m)
{
	ev_timer_set(&m->retry, m->backoff, 0.);
	ev_timer_start(m->loop, &m->retry);
	m->backoff = m->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : m->backoff * 2;
}

static void lose(struct membership *m, const char *why)
{
	int was = m->connected;

	disconnect(m);
	m->connected = 0;
	if (was) {
		log_err("lost corosync (%s): holding nothing until it is back", why);
		m->ops.lost(m->arg);
	}
	schedule_retry(m);
}

static void on_cpg_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct membership *m = w->data;
	cs_error_t err = cpg_dispatch(m->cpg, CS_DISPATCH_ALL);

	if (err != CS_OK && err != CS_ERR_TRY_AGAIN)
		lose(m, cs_strerror(err));
}

static void on_vq_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct membership *m = w->data;
	cs_error_t err = votequorum_dispatch(m->vq, CS_DISPATCH_ALL);

	if (err != CS_OK && err != CS_ERR_TRY_AGAIN)
		lose(m, cs_strerror(err));
}

static int connect_cpg(struct membership *m, uint32_t *local)
{
	cpg_model_v1_data_t model = {
		.model = CPG_MODEL_V1,
		.cpg_deliver_fn = on_deliver,
		.cpg_confchg_fn = on_confchg,
		.cpg_totem_confchg_fn = on_totem,
		.flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF,
	};
	int fd, rc;

	rc = membership_cs_errno(cpg_model_initialize(&m->cpg, CPG_MODEL_V1, (cpg_model_data_t *)&model, m));
	if (rc == 0)
		rc = membership_cs_errno(cpg_local_get(m->cpg, local));
	m->local_nodeid = *local;
	m->local_pid = (uint32_t)getpid();
	if (rc == 0)
		rc = membership_cs_errno(cpg_fd_get(m->cpg, &fd));
	if (rc == 0)
		rc = membership_cs_errno(cpg_join(m->cpg, &m->group));
	if (rc < 0)
		return rc;
	ev_io_set(&m->cpg_io, fd, EV_READ);
	ev_io_start(m->loop, &m->cpg_io);
	return 0;
}

static int connect_vq(struct membership *m)
{
	votequorum_callbacks_t cb = {
		.votequorum_quorum_notify_fn = on_vq_quorum,
		.votequorum_nodelist_notify_fn = on_vq_nodelist,
	};
	int fd, rc;

	rc = membership_cs_errno(votequorum_initialize(&m->vq, &cb));
	if (rc == 0)
		rc = membership_cs_errno(votequorum_context_set(m->vq, m));
	if (rc == 0)
		rc = membership_cs_errno(
			votequorum_trackstart(m->vq, (uint64_t)(uintptr_t)m, CS_TRACK_CURRENT | CS_TRACK_CHANGES));
	if (rc == 0)
		rc = membership_cs_errno(votequorum_fd_get(m->vq, &fd));
	if (rc < 0)
		return rc;
	ev_io_set(&m->vq_io, fd, EV_READ);
	ev_io_start(m->loop, &m->vq_io);
	return 0;
}

static void try_connect(struct membership *m)
{
	uint32_t local = 0;
	int rc = connect_vq(m);

	if (rc == 0)
		rc = connect_cpg(m, &local);
	if (rc < 0) {
		disconnect(m);
		log_debug("corosync not available (%s), retrying in %.1fs", strerror(-rc), m->backoff);
		schedule_retry(m);
		return;
	}
	m->connected = 1;
	m->backoff = BACKOFF_MIN;
	log_info("joined CPG group %.*s as nodeid %u", (int)m->group.length, m->group.value, local);
	m->ops.connected(m->arg, local);
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	try_connect(w->data);
}

static void on_resend(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct membership *m = w->data;
	uint8_t *msg = m->pending;
	size_t len = m->pending_len;

	m->pending = NULL;
	if (msg && m->connected)
		membership_send(m, msg, len);
	free(msg);
}

struct membership *membership_new(struct ev_loop *loop, const char *group, const struct membership_ops *ops,
				  void *arg)
{
	struct membership *m = calloc(1, sizeof(*m));
	size_t len = strlen(group);

	if (!m)
		return NULL;
	if (len == 0 || len >= CPG_MAX_NAME_LENGTH) {
		free(m);
		errno = EINVAL;
		return NULL;
	}
	m->loop = loop;
	m->ops = *ops;
	m->arg = arg;
	m->group.length = (uint32_t)len;
	memcpy(m->group.value, group, len);
	m->backoff = BACKOFF_MIN;
	ev_io_init(&m->cpg_io, on_cpg_io, -1, EV_READ);
	ev_io_init(&m->vq_io, on_vq_io, -1, EV_READ);
	ev_timer_init(&m->retry, on_retry, 0., 0.);
	ev_timer_init(&m->resend, on_resend, RESEND_DELAY, 0.);
	m->cpg_io.data = m->vq_io.data = m->retry.data = m->resend.data = m;
	return m;
}

void membership_free(struct membership *m)
{
	if (!m)
		return;
	ev_timer_stop(m->loop, &m->retry);
	disconnect(m);
	free(m->pending);
	free(m);
}

int membership_start(struct membership *m)
{
	try_connect(m);
	return 0;
}

int membership_connected(const struct membership *m)
{
	return m->connected;
}

int membership_send(struct membership *m, const void *msg, size_t len)
{
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	int rc;

	if (!m->connected)
		return -ENOTCONN;
	rc = membership_cs_errno(cpg_mcast_joined(m->cpg, CPG_TYPE_AGREED, &iov, 1));
	if (rc == -EAGAIN) {
		uint8_t *copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, msg, len);
		free(m->pending);
		m->pending = copy;
		m->pending_len = len;
		if (!ev_is_active(&m->resend))
			ev_timer_start(m->loop, &m->resend);
		return 0;
	}
	if (rc == 0 && m->pending) {
		/* Every message is a whole announce: this one supersedes the copy kept
		 * for a retry, which would otherwise follow it and roll the peers' view
		 * of us back to an older state. */
		free(m->pending);
		m->pending = NULL;
		ev_timer_stop(m->loop, &m->resend);
	}
	return rc;
}

int membership_votes(struct membership *m, uint32_t *expected, uint32_t *total, uint32_t *quorum)
{
	struct votequorum_info info;
	int rc;

	if (!m->connected)
		return -ENOTCONN;
	rc = membership_cs_errno(votequorum_getinfo(m->vq, m->local_nodeid, &info));
	if (rc < 0)
		return rc;
	*expected = info.node_expected_votes;
	*total = info.total_votes;
	*quorum = info.quorum;
	return 0;
}

void membership_distrust_ring(struct membership *m)
{
	if (m->distrust)
		return;
	m->distrust = 1;
	m->distrust_seq = m->cpg_ring.seq;
	if (m->connected)
		report_quorum(m);
}

void membership_trust_ring(struct membership *m)
{
	if (!m->distrust)
		return;
	m->distrust = 0;
	if (m->connected)
		report_quorum(m);
}

int membership_ring_distrusted(const struct membership *m)
{
	return m->distrust;
}

void membership_abandon(struct membership *m)
{
	if (m)
		m->abandoned = 1;
}

void membership_leave(struct membership *m)
{
	if (m->connected && !m->abandoned)
		cpg_leave(m->cpg, &m->group);
}

static int cmap_open(cmap_handle_t *h)
{
	return membership_cs_errno(cmap_initialize(h));
}

int membership_read_nodelist(struct config_nodelist *out)
{
	cmap_handle_t h;
	int rc = cmap_open(&h);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < 1024 && out->n_nodes < CONFIG_MAX_NODES; i++) {
		char key[128], *name = NULL;
		uint32_t nodeid;

		snprintf(key, sizeof(key), "nodelist.node.%u.nodeid", i);
		if (cmap_get_uint32(h, key, &nodeid) != CS_OK)
			break;
		snprintf(key, sizeof(key), "nodelist.node.%u.name", i);
		if (cmap_get_string(h, key, &name) != CS_OK) {
			snprintf(key, sizeof(key), "nodelist.node.%u.ring0_addr", i);
			if (cmap_get_string(h, key, &name) != CS_OK)
				continue;
		}
		out->nodes[out->n_nodes].nodeid = nodeid;
		snprintf(out->nodes[out->n_nodes].name, CONFIG_NAME_MAX, "%s", name);
		out->n_nodes++;
		free(name);
	}
	cmap_finalize(h);
	return out->n_nodes ? 0 : -ENOENT;
}

static int cmap_is_none(cmap_handle_t h, const char *key)
{
	char *v = NULL;
	int none;

	if (cmap_get_string(h, key, &v) != CS_OK)
		return 1;
	none = strcmp(v, "none") == 0;
	free(v);
	return none;
}

/* The votes a quorate ring needs half of: quorum.expected_votes when set, else the
 * nodelist's votes (quorum_votes, 1 by default). corosync 3.1.7 publishes no
 * runtime.votequorum.expected_votes key: read from there, it was always 0, and the
 * rules that count votes (isolation, a minority ring) never ran. */
static uint32_t expected_votes(cmap_handle_t h, int *one_vote_each)
{
	uint32_t votes = 0, nodes = 0, v, set = 0;

	if (cmap_get_uint32(h, "quorum.expected_votes", &v) == CS_OK && v)
		set = v;
	*one_vote_each = 1;
	/* the nodelist's entries, as membership_read_nodelist() walks them */
	for (unsigned i = 0; i < 1024; i++) {
		char key[64], *addr = NULL;

		snprintf(key, sizeof(key), "nodelist.node.%u.ring0_addr", i);
		if (cmap_get_string(h, key, &addr) != CS_OK)
			break;
		free(addr);
		snprintf(key, sizeof(key), "nodelist.node.%u.quorum_votes", i);
		if (cmap_get_uint32(h, key, &v) != CS_OK)
			v = 1;
		*one_vote_each &= v == 1;
		votes += v;
		nodes++;
	}
	if (!nodes || (set && set < nodes))
		*one_vote_each = 0;
	return set ? set : votes;
}

int membership_info_from_cmap(uint64_t handle, struct membership_info *out)
{
	cmap_handle_t h = handle;
	uint8_t u8;
	char *model = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	/* The one key that always exists: tells a live corosync from a failed call. */
	rc = membership_cs_errno(cmap_get_uint32(h, "runtime.config.totem.token", &out->token_ms));
	if (rc < 0)
		return rc;
	if (cmap_get_uint8(h, "quorum.two_node", &u8) == CS_OK)
		out->two_node = u8 != 0;
	if (cmap_get_string(h, "quorum.device.model", &model) == CS_OK) {
		out->has_qdevice = 1;
		free(model);
	}
	out->crypto = !cmap_is_none(h, "totem.crypto_cipher") && !cmap_is_none(h, "totem.crypto_hash");
	cmap_get_uint32(h, "runtime.config.totem.consensus", &out->consensus_ms);
	cmap_get_uint32(h, "runtime.config.totem.knet_pmtud_interval", &out->pmtud_interval_s);
	cmap_get_uint32(h, "runtime.config.totem.knet_mtu", &out->knet_mtu);
	if (cmap_get_uint32(h, "totem.interface.0.knet_ping_timeout", &out->knet_ping_timeout_ms) != CS_OK) {
		uint32_t pongs = 2; /* knet_pong_count's default */
		cmap_get_uint32(h, "totem.interface.0.knet_pong_count", &pongs);
		out->knet_ping_timeout_ms = out->token_ms / (pongs ? pongs : 1u);
	}
	out->expected_votes = expected_votes(h, &out->one_vote_each);
	return 0;
}

int membership_read_info(struct membership_info *out)
{
	cmap_handle_t h;
	int rc = cmap_open(&h);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	rc = membership_info_from_cmap(h, out);
	cmap_finalize(h);
	return rc;
}

int membership_pmtud_too_slow(const struct membership_info *info)
{
	return info->knet_mtu == 0 && info->pmtud_interval_s > MEMBERSHIP_PMTUD_INTERVAL_MAX_S;
}

int membership_read_info_warned(struct membership_info *out)
{
	int rc = membership_read_info(out);

	if (rc < 0)
		return rc;
	if (out->two_node && !out->has_qdevice)
		log_warn("SPLIT-BRAIN RISK: corosync runs two_node without a tie-breaker "
			 "(no quorum device): a partition can leave both nodes holding the VIPs");
	if (!out->crypto)
		log_warn("corosync runs without crypto: cluster messages are neither "
			 "authenticated nor encrypted");
	if (membership_pmtud_too_slow(out))
		log_warn("corosync's knet_pmtud_interval is %u s: a path MTU discovery that runs while this "
			 "node is withdrawn from the ring (a bridge partition) fails, and knet then sends "
			 "nothing to that peer for up to %u s after the node is back; set "
			 "knet_pmtud_interval: %u in totem {} (conf/corosync-3node.conf does)",
			 out->pmtud_interval_s, out->pmtud_interval_s, MEMBERSHIP_PMTUD_INTERVAL_MAX_S);
	return 0;
}

int membership_local_nodeid(uint32_t *nodeid)
{
	cmap_handle_t h;
	int rc = cmap_open(&h);

	if (rc < 0)
		return rc;
	rc = membership_cs_errno(cmap_get_uint32(h, "runtime.votequorum.this_node_id", nodeid));
	cmap_finalize(h);
	return rc;
}

static int cluster_wide_key(const char *key)
{
	/* bindnetaddr is derived from each node's own address */
	return strcmp(key, "totem.nodeid") != 0 && !strstr(key, "local") && !strstr(key, "bindnetaddr") &&
	       (strncmp(key, "totem.", 6) == 0 || strncmp(key, "nodelist.node.", 14) == 0 ||
		strncmp(key, "quorum.", 7) == 0);
}

static void digest_prefix(cmap_handle_t h, EVP_MD_CTX *ctx, const char *prefix)
{
	cmap_iter_handle_t iter;
	char key[CMAP_KEYNAME_MAXLEN + 1];
	size_t len;
	cmap_value_types_t type;

	if (cmap_iter_init(h, prefix, &iter) != CS_OK)
		return;
	while (cmap_iter_next(h, iter, key, &len, &type) == CS_OK) {
		char value[1024];
		size_t vlen = sizeof(value);

		if (!cluster_wide_key(key) || len > sizeof(value) || cmap_get(h, key, value, &vlen, &type) != CS_OK)
			continue;
		EVP_DigestUpdate(ctx, key, strlen(key) + 1);
		EVP_DigestUpdate(ctx, &type, sizeof(type));
		EVP_DigestUpdate(ctx, value, vlen);
	}
	cmap_iter_finalize(h, iter);
}

int membership_config_digest(uint8_t out[32])
{
	static const char *const prefixes[] = {"totem.", "nodelist.", "quorum."};
	cmap_handle_t h;
	EVP_MD_CTX *ctx;
	int rc = cmap_open(&h);

	if (rc < 0)
		return rc;
	ctx = EVP_MD_CTX_new();
	if (!ctx) {
		cmap_finalize(h);
		return -ENOMEM;
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		digest_prefix(h, ctx, prefixes[i]);
	EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	cmap_finalize(h);
	return 0;
}
