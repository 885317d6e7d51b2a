#include "ringwatch.h"

#include <corosync/cmap.h>
#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fo/clock.h"
#include "fo/log.h"
#include "fo/procfile.h"
#include "node.h"
#include "pairwatch.h"

#define RINGWATCH_MIN_PERIOD_MS 20u
#define RINGWATCH_MIN_BOUND_MS 150u
#define RINGWATCH_KNET_LINKS 8 /* knet's limit per node */
#define RINGWATCH_JOIN_WAIT_MS 200

/* What the thread and the loop share, under lock. */
struct shared {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop;
	uint32_t period_ms;
	int have;
	struct ringwatch_sample last;
	pid_t corosync_pid; /* the peer of our cmap connection, 0 until known */
};

struct ringwatch {
	struct ev_loop *loop;
	struct ringwatch_ops ops;
	void *arg;
	pthread_t thread;
	int running;
	ev_async answered;
	ev_timer check;
	struct shared sh;
	int stalled;
	uint64_t started_us; /* silence is counted from here until the first answer */
	uint64_t stalled_since_us;
	uint32_t bound_ms, busy_bound_ms;
	uint64_t stall_token_at_us; /* the sample's token_at_us when the stall was called */
	uint64_t last_check_us;  /* when on_check last ran: a late run means we were paused */
	uint64_t corosync_ctxt;  /* corosync's context switches at that check, 0: unknown */
	uint64_t silence_from_us; /* silence is not counted before this (our own pause) */
	struct ringwatch_sample full; /* the thread's own: its last full answer */
};

uint32_t ringwatch_stall_bound_ms(uint32_t token_ms, uint32_t consensus_ms)
{
	uint32_t bound;

	if (!token_ms)
		token_ms = RINGWATCH_DEFAULT_TOKEN_MS;
	if (!consensus_ms)
		consensus_ms = token_ms + token_ms / 5; /* corosync's default, 1.2 x token */
	bound = (token_ms + consensus_ms) / 3;
	return bound < RINGWATCH_MIN_BOUND_MS ? RINGWATCH_MIN_BOUND_MS : bound;
}

uint32_t ringwatch_token_bound_ms(uint32_t token_ms, uint32_t consensus_ms, uint32_t reached,
				  uint32_t expected_votes, int tie_breaker)
{
	if (!token_ms)
		token_ms = RINGWATCH_DEFAULT_TOKEN_MS;
	if (!consensus_ms)
		consensus_ms = token_ms + token_ms / 5;
	if (reached > 1 && pairwatch_votes_majority(reached, expected_votes, tie_breaker))
		return (token_ms + consensus_ms) * 3 / 2;
	return token_ms + consensus_ms / 2;
}

uint32_t ringwatch_busy_bound_ms(uint32_t token_ms, uint32_t consensus_ms)
{
	if (!token_ms)
		token_ms = RINGWATCH_DEFAULT_TOKEN_MS;
	if (!consensus_ms)
		consensus_ms = token_ms + token_ms / 5;
	return (token_ms + consensus_ms) * 2 / 3;
}

enum ringwatch_verdict ringwatch_judge(uint32_t silent_ms, uint32_t late_ms, int corosync_ran, uint32_t bound_ms,
				       uint32_t busy_bound_ms)
{
	/* We did not run for longer than the bound: the silence may be ours. If
	 * corosync went on running meanwhile, it kept the ring (nobody evicted us):
	 * count the silence from now. If it did not run either (the whole machine
	 * was paused), or we cannot tell, the peers may have evicted us: a stall. */
	if (late_ms >= bound_ms)
		return corosync_ran == 1 ? RINGWATCH_SELF_PAUSED : RINGWATCH_STALL;
	if (silent_ms < bound_ms)
		return RINGWATCH_OK;
	/* Silent but running: busy with a membership change, allowed longer. */
	if (corosync_ran == 1 && silent_ms < busy_bound_ms)
		return RINGWATCH_OK;
	return RINGWATCH_STALL;
}

uint32_t ringwatch_period_ms(uint32_t bound_ms)
{
	uint32_t p = bound_ms / 4;

	return p < RINGWATCH_MIN_PERIOD_MS ? RINGWATCH_MIN_PERIOD_MS : p;
}

/* Whether any knet link to nodeid is connected. CS_OK, or corosync's error when it
 * did not answer (a link whose key does not exist is an answer: not there). */
static cs_error_t link_connected(cmap_handle_t stats, uint32_t nodeid, int *connected)
{
	*connected = 0;
	for (unsigned k = 0; k < RINGWATCH_KNET_LINKS && !*connected; k++) {
		char key[128];
		uint8_t c = 0;
		cs_error_t err;

		snprintf(key, sizeof(key), "stats.knet.node%u.link%u.connected", nodeid, k);
		err = cmap_get_uint8(stats, key, &c);
		if (err != CS_OK && err != CS_ERR_NOT_EXIST)
			return err;
		*connected = err == CS_OK && c;
	}
	return CS_OK;
}

/* A peer's link state, and while no link is up its pongs (ringwatch_link). */
static cs_error_t read_link(cmap_handle_t stats, struct ringwatch_link *l)
{
	cs_error_t err = link_connected(stats, l->nodeid, &l->connected);

	l->pongs = 0;
	l->pongs_read = 0;
	if (err != CS_OK || l->connected)
		return err;
	for (unsigned k = 0; k < RINGWATCH_KNET_LINKS; k++) {
		char key[128];
		uint64_t n = 0;

		snprintf(key, sizeof(key), "stats.knet.node%u.link%u.rx_pong_packets", l->nodeid, k);
		err = cmap_get_uint64(stats, key, &n);
		if (err == CS_ERR_NOT_EXIST)
			continue;
		if (err != CS_OK)
			return err;
		l->pongs += n;
		l->pongs_read = 1;
	}
	return CS_OK;
}

/* Each peer's knet link state from the stats map: connected when any link is. */
static void read_links(cmap_handle_t stats, cmap_handle_t icmap, struct ringwatch_sample *s)
{
	s->n_links = 0;
	for (unsigned i = 0; i < 1024 && s->n_links < CONFIG_MAX_NODES; i++) {
		char key[128];
		uint32_t nodeid;
		struct ringwatch_link *l;

		snprintf(key, sizeof(key), "nodelist.node.%u.nodeid", i);
		if (cmap_get_uint32(icmap, key, &nodeid) != CS_OK)
			break;
		if (nodeid == s->local_nodeid)
			continue;
		l = &s->links[s->n_links++];
		memset(l, 0, sizeof(*l));
		l->nodeid = nodeid;
		for (unsigned r = 0; r < RINGWATCH_ADDRS; r++) {
			char *addr = NULL;
			snprintf(key, sizeof(key), "nodelist.node.%u.ring%u_addr", i, r);
			if (cmap_get_string(icmap, key, &addr) != CS_OK)
				continue;
			snprintf(l->addrs[l->n_addrs++], RINGWATCH_ADDR_MAX, "%s", addr);
			free(addr);
		}
		(void)read_link(stats, l); /* not answered: down */
	}
}

/* Between full answers: only the link states and the token count, over the
 * nodelist of the last full answer (base). 0, or -ENOTCONN when corosync did not
 * answer (a key that does not exist is an answer: that link is not there). */
static int ask_links(cmap_handle_t stats, const struct ringwatch_sample *base, struct ringwatch_sample *s)
{
	*s = *base;
	for (size_t i = 0; i < s->n_links; i++)
		if (read_link(stats, &s->links[i]) != CS_OK)
			return -ENOTCONN;
	if (cmap_get_uint64(stats, "stats.srp.orf_token_rx", &s->tokens) != CS_OK)
		return -ENOTCONN;
	s->at_us = clock_mono_us();
	return 0;
}

uint32_t ringwatch_link_period_ms(uint32_t period_ms)
{
	uint32_t p = period_ms / 4;

	return p < RINGWATCH_MIN_PERIOD_MS ? RINGWATCH_MIN_PERIOD_MS : p;
}

static void close_handles(cmap_handle_t *icmap, cmap_handle_t *stats)
{
	if (*icmap)
		cmap_finalize(*icmap);
	if (*stats)
		cmap_finalize(*stats);
	*icmap = *stats = 0;
}

/* corosync's PID, from the peer credentials of our cmap connection's socket. */
static pid_t peer_pid(cmap_handle_t h)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	if (cmap_fd_get(h, &fd) != CS_OK || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return 0;
	return cred.pid;
}

/* voluntary + nonvoluntary context switches of pid: they go on while it runs
 * (corosync wakes for every token), not while it is stopped. 0 when unknown. */
static uint64_t ctxt_switches(pid_t pid)
{
	char path[64], buf[4096], *p;
	uint64_t total = 0;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (procfile_read(path, buf, sizeof(buf)) < 0)
		return 0;
	for (p = buf; (p = strstr(p, "ctxt_switches:")) != NULL; p += 14)
		total += strtoull(p + 14, NULL, 10);
	return total;
}

/* One round: 0 and a filled sample when corosync answered. */
static int ask(cmap_handle_t *icmap, cmap_handle_t *stats, struct qdevice_reader *qdev, struct ringwatch_sample *s)
{
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (!*icmap && cmap_initialize_map(icmap, CMAP_MAP_ICMAP) != CS_OK)
		rc = -ENOTCONN;
	if (rc == 0 && !*stats && cmap_initialize_map(stats, CMAP_MAP_STATS) != CS_OK)
		rc = -ENOTCONN;
	if (rc == 0)
		rc = membership_info_from_cmap(*icmap, &s->info);
	if (rc == 0 && cmap_get_uint32(*icmap, "runtime.votequorum.this_node_id", &s->local_nodeid) != CS_OK)
		rc = -ENOTCONN;
	if (rc < 0) {
		close_handles(icmap, stats);
		qdevice_reader_close(qdev);
		return rc;
	}
	if (cmap_get_uint16(*icmap, "totem.interface.0.mcastport", &s->knet_port) != CS_OK)
		s->knet_port = 5405;
	if (cmap_get_uint32(*icmap, "totem.interface.0.knet_ping_interval", &s->knet_ping_ms) != CS_OK)
		s->knet_ping_ms = 0;
	read_links(*stats, *icmap, s);
	if (cmap_get_uint64(*stats, "stats.srp.orf_token_rx", &s->tokens) != CS_OK)
		s->tokens = 0;
	qdevice_read(qdev, *icmap, s->local_nodeid, clock_mono_us(), &s->qdevice);
	s->at_us = clock_mono_us();
	return 0;
}

/* `corosync -v` says "Corosync Cluster Engine, version '3.1.7'": the quoted part.
 * A child process, so only ever from this thread, once per connection. */
static void read_version(char *out, size_t size)
{
	char line[256], *q1, *q2;
	FILE *f = popen("corosync -v 2>/dev/null", "r");

	out[0] = '\0';
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && (q1 = strchr(line, '\'')) && (q2 = strchr(q1 + 1, '\''))) {
		*q2 = '\0';
		snprintf(out, size, "%s", q1 + 1);
	}
	pclose(f);
}

static void note_pid(struct ringwatch *w, cmap_handle_t icmap)
{
	pid_t pid = icmap ? peer_pid(icmap) : 0;

	pthread_mutex_lock(&w->sh.lock);
	w->sh.corosync_pid = pid;
	pthread_mutex_unlock(&w->sh.lock);
}

/* A peer's pongs while its links are down, from one answer to the next. */
struct pong_track {
	uint32_t nodeid; /* 0: free */
	int known;       /* count is from an answer with every link down */
	uint64_t count;
	uint64_t at_us;  /* the answer that saw it move */
};

/* Dates each link's pongs: a count that moved since the previous answer that
 * read it (every link down in both) dates ponged_us to this answer. A link that
 * is up forgets the count, so the first answer after knet calls it down only
 * sets the base: pongs before the call are what kept it up. */
static void note_pongs(struct pong_track *t, struct ringwatch_sample *s)
{
	for (size_t i = 0; i < s->n_links; i++) {
		struct ringwatch_link *l = &s->links[i];
		struct pong_track *p = NULL;

		for (size_t k = 0; k < CONFIG_MAX_NODES && !p; k++)
			if (t[k].nodeid == l->nodeid)
				p = &t[k];
		for (size_t k = 0; k < CONFIG_MAX_NODES && !p; k++)
			if (!t[k].nodeid) {
				p = &t[k];
				p->nodeid = l->nodeid;
			}
		if (!p)
			continue;
		if (!l->pongs_read) {
			p->known = 0;
		} else {
			if (p->known && l->pongs > p->count)
				p->at_us = s->at_us;
			p->count = l->pongs;
			p->known = 1;
		}
		l->ponged_us = p->at_us;
	}
}

static void *thread_main(void *arg)
{
	struct ringwatch *w = arg;
	cmap_handle_t icmap = 0, stats = 0;
	struct qdevice_reader qdev = {0};
	char version[sizeof(((struct ringwatch_sample *)0)->corosync_version)] = "";
	uint64_t tokens = 0, token_at = 0, answered_at = 0;
	uint64_t full_at = 0; /* when w->full was read, 0: read it next */
	struct pong_track pongs[CONFIG_MAX_NODES];

	memset(pongs, 0, sizeof(pongs));

	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	for (;;) {
		struct ringwatch_sample s;
		struct timespec until;
		cmap_handle_t before = icmap;
		uint32_t period;
		int ok;

		pthread_mutex_lock(&w->sh.lock);
		period = w->sh.period_ms;
		pthread_mutex_unlock(&w->sh.lock);
		/* The full answer every period; between, the links every link period,
		 * so that a link's going down is seen within 45 ms (shipped), not 183. */
		if (full_at && icmap && stats && clock_mono_us() - full_at < (uint64_t)period * 1000u) {
			ok = ask_links(stats, &w->full, &s) == 0;
			if (!ok) {
				close_handles(&icmap, &stats);
				qdevice_reader_close(&qdev);
			}
		} else {
			ok = ask(&icmap, &stats, &qdev, &s) == 0;
			if (ok) {
				full_at = s.at_us;
				w->full = s;
			}
		}
		if (!ok)
			full_at = 0;

		if (icmap != before) {
			answered_at = 0; /* a new corosync counts its tokens from 0 */
			memset(pongs, 0, sizeof(pongs)); /* and its pongs */
			note_pid(w, icmap);
			if (icmap)
				read_version(version, sizeof(version));
		}
		snprintf(s.corosync_version, sizeof(s.corosync_version), "%s", version);
		if (ok)
			note_pongs(pongs, &s);

		pthread_mutex_lock(&w->sh.lock);
		if (ok) {
			/* The count moved since the previous answer: a token came after it.
			 * After a silence (corosync busy, judged by the answers' own rule),
			 * no earlier than a period ago. */
			if (s.tokens != tokens || !answered_at) {
				uint64_t recent = s.at_us - (uint64_t)w->sh.period_ms * 1000u;
				token_at = answered_at > recent ? answered_at : recent;
			}
			tokens = s.tokens;
			answered_at = s.at_us;
			s.token_at_us = token_at;
			w->sh.last = s;
			w->sh.have = 1;
		}
		pthread_mutex_unlock(&w->sh.lock);
		if (ok)
			ev_async_send(w->loop, &w->answered);
		pthread_mutex_lock(&w->sh.lock);
		period = ringwatch_link_period_ms(w->sh.period_ms);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)(period % 1000u) * 1000000L;
		until.tv_sec += period / 1000u + until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (!w->sh.stop && pthread_cond_timedwait(&w->sh.wake, &w->sh.lock, &until) != ETIMEDOUT)
			;
		if (w->sh.stop) {
			pthread_mutex_unlock(&w->sh.lock);
			break;
		}
		pthread_mutex_unlock(&w->sh.lock);
	}
	close_handles(&icmap, &stats);
	qdevice_reader_close(&qdev);
	return NULL;
}

static uint64_t last_answer_us(struct ringwatch *w, struct ringwatch_sample *copy)
{
	uint64_t at;

	pthread_mutex_lock(&w->sh.lock);
	at = w->sh.have ? w->sh.last.at_us : 0;
	if (copy && w->sh.have)
		*copy = w->sh.last;
	pthread_mutex_unlock(&w->sh.lock);
	return at;
}

/* The bound follows corosync's timers as it reports them. */
static void set_bound(struct ringwatch *w, const struct membership_info *info)
{
	uint32_t bound = ringwatch_stall_bound_ms(info ? info->token_ms : 0, info ? info->consensus_ms : 0);

	w->busy_bound_ms = ringwatch_busy_bound_ms(info ? info->token_ms : 0, info ? info->consensus_ms : 0);
	if (bound == w->bound_ms)
		return;
	w->bound_ms = bound;
	pthread_mutex_lock(&w->sh.lock);
	w->sh.period_ms = ringwatch_period_ms(bound);
	pthread_mutex_unlock(&w->sh.lock);
	ev_timer_stop(w->loop, &w->check);
	ev_timer_set(&w->check, ringwatch_period_ms(bound) / 1000.0, ringwatch_period_ms(bound) / 1000.0);
	ev_timer_start(w->loop, &w->check);
	if (info && info->token_ms)
		log_info("ring watch: corosync asked every %u ms, stalled after %u ms of silence (token %u ms, "
			 "consensus %u ms)",
			 ringwatch_period_ms(bound), bound, info->token_ms, info->consensus_ms);
	else
		log_info("ring watch: corosync asked every %u ms, stalled after %u ms of silence (corosync's "
			 "default timers until it answers)",
			 ringwatch_period_ms(bound), bound);
}

static void on_answered(struct ev_loop *loop, ev_async *a, int revents)
{
	struct ringwatch *w = a->data;
	struct ringwatch_sample s;

	if (!last_answer_us(w, &s))
		return;
	set_bound(w, &s.info);
	/* A stall ends when corosync answers and, if it counts tokens, one more came:
	 * answering alone may be a corosync that lost its ring and forms no new one. */
	if (w->stalled && (!s.tokens || s.token_at_us != w->stall_token_at_us)) {
		uint32_t ms = (uint32_t)((s.at_us - w->stalled_since_us) / 1000u);
		w->stalled = 0;
		if (w->ops.recovered)
			w->ops.recovered(w->arg, ms);
	}
	if (w->ops.sample)
		w->ops.sample(w->arg, &s);
}

static pid_t corosync_pid(struct ringwatch *w)
{
	pid_t pid;

	pthread_mutex_lock(&w->sh.lock);
	pid = w->sh.corosync_pid;
	pthread_mutex_unlock(&w->sh.lock);
	return pid;
}

/* Reads the shared time itself, so a loop that was busy does not mistake an
 * answer still waiting in the async watcher for silence. */
static void on_check(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ringwatch *w = t->data;
	uint64_t at = last_answer_us(w, NULL), now = clock_mono_us();
	uint64_t since = at ? at : w->started_us;
	uint64_t ctxt = ctxt_switches(corosync_pid(w));
	uint32_t late = w->last_check_us && now > w->last_check_us ? (uint32_t)((now - w->last_check_us) / 1000u) : 0;
	int ran = !ctxt || !w->corosync_ctxt ? -1 : ctxt != w->corosync_ctxt;
	int links_up = 1;
	struct ringwatch_sample s = {0};
	uint32_t reached = 1;
	uint32_t silent, token_silent = 0, token_bound, bound = w->bound_ms;
	enum ringwatch_verdict v;

	w->last_check_us = now;
	w->corosync_ctxt = ctxt;
	if (last_answer_us(w, &s)) {
		for (size_t i = 0; i < s.n_links; i++)
			reached += s.links[i].connected != 0;
		links_up = pairwatch_votes_majority(reached, s.info.expected_votes,
						    s.info.two_node || s.info.has_qdevice);
	}
	if (w->silence_from_us > since)
		since = w->silence_from_us;
	silent = now > since ? (uint32_t)((now - since) / 1000u) : 0;
	if (at && s.tokens) {
		uint64_t from = s.token_at_us > w->silence_from_us ? s.token_at_us : w->silence_from_us;
		token_silent = now > from ? (uint32_t)((now - from) / 1000u) : 0;
	}
	/* The period between checks is not our pause: only what exceeds it. */
	late = late > ringwatch_period_ms(w->bound_ms) ? late - ringwatch_period_ms(w->bound_ms) : 0;
	/* A pause of our own is judged by whether corosync ran at all; a silence by
	 * whether it ran with links to a majority (busy, not being left out: a peer
	 * that still reaches us does not let the ring claim our groups, view.c). */
	v = ringwatch_judge(silent, late, late >= w->bound_ms || links_up ? ran : (ran == 1 ? 0 : ran), w->bound_ms,
			    w->busy_bound_ms);
	if (v == RINGWATCH_SELF_PAUSED) {
		log_warn("ring watch: this process did not run for %u ms while corosync did: its silence is ours", late);
		w->silence_from_us = now;
		return;
	}
	if (w->stalled)
		return;
	token_bound = ringwatch_token_bound_ms(s.info.token_ms, s.info.consensus_ms, reached, s.info.expected_votes,
					       s.info.two_node || s.info.has_qdevice);
	if (v == RINGWATCH_OK && s.tokens && token_silent >= token_bound) {
		/* corosync answers, but its ring sends this node no token: the peers are
		 * forming one without it (loss, one-way loss), or it forms one alone. */
		bound = token_bound;
		log_warn("ring watch: no token of corosync's ring for %u ms (bound %u ms; links reach %u of %u votes)",
			 token_silent, bound, reached, s.info.expected_votes);
		v = RINGWATCH_STALL;
		silent = token_silent;
	} else if (v != RINGWATCH_STALL) {
		return;
	}
	w->stalled = 1;
	w->stalled_since_us = since;
	w->stall_token_at_us = at ? s.token_at_us : 0;
	if (w->ops.stalled)
		w->ops.stalled(w->arg, silent, bound);
}

struct ringwatch *ringwatch_new(struct ev_loop *loop, const struct ringwatch_ops *ops, void *arg)
{
	struct ringwatch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->loop = loop;
	w->ops = *ops;
	w->arg = arg;
	pthread_mutex_init(&w->sh.lock, NULL);
	pthread_cond_init(&w->sh.wake, NULL);
	ev_async_init(&w->answered, on_answered);
	ev_timer_init(&w->check, on_check, 0., 0.);
	w->answered.data = w->check.data = w;
	return w;
}

int ringwatch_start(struct ringwatch *w)
{
	int rc;

	w->started_us = clock_mono_us();
	ev_async_start(w->loop, &w->answered);
	set_bound(w, NULL);
	rc = pthread_create(&w->thread, NULL, thread_main, w);
	if (rc != 0)
		return -rc;
	w->running = 1;
	return 0;
}

void ringwatch_free(struct ringwatch *w)
{
	if (!w)
		return;
	if (w->running) {
		struct timespec until;

		pthread_mutex_lock(&w->sh.lock);
		w->sh.stop = 1;
		pthread_cond_signal(&w->sh.wake);
		pthread_mutex_unlock(&w->sh.lock);
		/* A corosync that never answers keeps the thread in a blocking call:
		 * give it a moment, then cancel it (the calls wait in poll/recv). */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += RINGWATCH_JOIN_WAIT_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		if (pthread_timedjoin_np(w->thread, NULL, &until) != 0) {
			/* Still inside a call corosync does not answer: leave it there (the
			 * process is on its way out), and leave it what it uses. Cancelling
			 * would unwind libcmap mid-call and leak what that call allocated. */
			pthread_detach(w->thread);
			ev_async_stop(w->loop, &w->answered);
			ev_timer_stop(w->loop, &w->check);
			return;
		}
	}
	ev_async_stop(w->loop, &w->answered);
	ev_timer_stop(w->loop, &w->check);
	pthread_cond_destroy(&w->sh.wake);
	pthread_mutex_destroy(&w->sh.lock);
	free(w);
}

int ringwatch_is_stalled(const struct ringwatch *w)
{
	return w && w->stalled;
}

uint32_t ringwatch_silence_ms(const struct ringwatch *w)
{
	uint64_t at = w ? last_answer_us((struct ringwatch *)w, NULL) : 0, now = clock_mono_us();
	uint64_t since = at ? at : (w ? w->started_us : now);

	return now > since ? (uint32_t)((now - since) / 1000u) : 0;
}

uint32_t ringwatch_bound_ms(const struct ringwatch *w)
{
	return w ? w->bound_ms : 0;
}

int ringwatch_last(const struct ringwatch *w, struct ringwatch_sample *out)
{
	return last_answer_us((struct ringwatch *)w, out) ? 0 : -EAGAIN;
}

void ringwatch_links(const struct ringwatch *w, const struct ringwatch_sample *s, struct node_links *l)
{
	memset(l, 0, sizeof(*l));
	l->info = s->info;
	l->silent = ringwatch_silence_ms(w) >= ringwatch_bound_ms(w);
	snprintf(l->corosync_version, sizeof(l->corosync_version), "%s", s->corosync_version);
	for (size_t i = 0; i < s->n_links && l->n < CONFIG_MAX_NODES; i++) {
		l->v[l->n].nodeid = s->links[i].nodeid;
		l->v[l->n].connected = s->links[i].connected;
		l->v[l->n++].ponged_us = s->links[i].ponged_us;
	}
}
