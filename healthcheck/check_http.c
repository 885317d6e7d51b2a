/* libcurl on libev: curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION)
 * and when to call it back (CURLMOPT_TIMERFUNCTION); we tell curl what happened with
 * curl_multi_socket_action() and collect finished transfers with
 * curl_multi_info_read(). Each finished transfer is judged here and reported to the
 * engine's sink. curl's error codes become reasons in this file only. */
#include "check_http.h"

#include "fo/log.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTP_USER_AGENT "fomgr-healthcheck/" FO_VERSION
#define HTTP_MAX_REDIRS 5
#define HTTP_CURL_SLACK_MS 1000 /* curl's own timeouts: backstops behind the engine's */

/* Checks per multi handle. libcurl 7.88 walks every entry of a multi's DNS cache
 * when a transfer ends (Curl_hostcache_prune) and every connection of its cache when
 * a handle is removed (close_connect_only): with one multi for all checks that is
 * O(checks) per run, 20 % of the agent's CPU at 1000 checks. Shards of 64 keep both
 * walks short. */
#define HTTP_CHECKS_PER_MULTI 64

struct http_shared;
struct http_handle;

/* One multi handle with its connection and DNS caches, and what drives it. */
struct http_multi {
	struct http_shared *shared;
	CURLM *multi;
	ev_timer timer;
	/* curl's "call me at once" (a 0 ms timeout: every new transfer asks for one) is
	 * served before the loop next blocks, not by a timer on a later turn */
	ev_prepare now;
	ev_idle now_idle;
	struct http_sock *socks; /* every socket curl asked us to watch */
};

/* One per engine: the multi handles and the pool of easy handles. */
struct http_shared {
	struct engine *engine;
	struct ev_loop *loop;
	size_t n_multis, n_assigned;
	struct http_multi *multis;
	struct http_handle *idle; /* easy handles between runs, most recently used first */
};

/* An easy handle lends itself to one run at a time and goes back to the pool when
 * the run ends: there are as many as runs were ever in flight at once, not one per
 * check (a handle is 5.6 KB). Connections live in the multi handle's cache, so a
 * check reuses its keep-alive connection whichever handle runs it. */
struct http_handle {
	CURL *easy;
	struct http_handle *next;
	char errbuf[CURL_ERROR_SIZE];
};

struct http_sock {
	ev_io io;
	struct http_multi *m;
	struct http_sock *prev, *next;
};

struct http_state {
	struct hc_check *check;
	struct http_shared *shared;
	struct http_multi *m; /* the check's multi handle, for good */
	struct curl_slist *connect_to;
	char *url; /* with the host override applied */
	/* of the run in flight */
	struct http_handle *run; /* lent by the pool; NULL between runs */
	size_t header_bytes, body_bytes;
	bool header_over, body_over;
	bool has_socket; /* curl asked us to watch a socket for it */
	char *body; /* max_body + 1 bytes when the body is matched, else NULL */
};

/* ---- multi-socket glue ---- */

static void check_multi_info(struct http_multi *m);

static void sock_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_sock *hs = w->data;
	struct http_multi *m = hs->m;
	int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(m->multi, w->fd, action, &running);
	check_multi_info(m);
}

static void sock_remove(struct http_multi *m, struct http_sock *hs)
{
	ev_io_stop(m->shared->loop, &hs->io);
	if (hs->prev)
		hs->prev->next = hs->next;
	else
		m->socks = hs->next;
	if (hs->next)
		hs->next->prev = hs->prev;
	free(hs);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_multi *m = userp;
	struct ev_loop *loop = m->shared->loop;
	struct http_sock *hs = socketp;
	int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);

	struct http_state *h = NULL;

	if (what == CURL_POLL_REMOVE) {
		if (hs)
			sock_remove(m, hs);
		return 0;
	}
	if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&h) == CURLE_OK && h)
		h->has_socket = true;
	if (!hs) {
		hs = calloc(1, sizeof(*hs));
		if (!hs)
			return -1; /* curl fails the transfer */
		hs->m = m;
		hs->next = m->socks;
		if (m->socks)
			m->socks->prev = hs;
		m->socks = hs;
		ev_init(&hs->io, sock_io_cb);
		hs->io.data = hs;
		curl_multi_assign(m->multi, fd, hs);
	} else {
		ev_io_stop(loop, &hs->io);
	}
	ev_io_set(&hs->io, fd, events);
	ev_io_start(loop, &hs->io);
	return 0;
}

static void timeout_action(struct http_multi *m)
{
	struct ev_loop *loop = m->shared->loop;
	int running;

	ev_prepare_stop(loop, &m->now);
	ev_idle_stop(loop, &m->now_idle);
	ev_timer_stop(loop, &m->timer);
	curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_multi_info(m);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	timeout_action(w->data);
}

static void now_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	timeout_action(w->data);
}

static void now_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	timeout_action(w->data);
}

/* curl must not be called back from here. A 0 ms timeout is served by the prepare
 * watcher before the loop next blocks; the idle watcher beside it keeps the loop
 * from blocking when curl asks again from inside that prepare callback (too late
 * for this turn's prepare watchers). */
static int timerfunction(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_multi *m = userp;
	struct ev_loop *loop = m->shared->loop;

	ev_timer_stop(loop, &m->timer);
	ev_prepare_stop(loop, &m->now);
	ev_idle_stop(loop, &m->now_idle);
	if (timeout_ms == 0) {
		ev_prepare_start(loop, &m->now);
		ev_idle_start(loop, &m->now_idle);
	} else if (timeout_ms > 0) {
		ev_timer_set(&m->timer, timeout_ms / 1000.0, 0);
		ev_timer_start(loop, &m->timer);
	}
	return 0;
}

static int multi_init(struct http_shared *sh, struct http_multi *m)
{
	m->shared = sh;
	m->multi = curl_multi_init();
	if (!m->multi)
		return -ENOMEM;
	ev_init(&m->timer, timer_cb);
	m->timer.data = m;
	ev_prepare_init(&m->now, now_cb);
	m->now.data = m;
	ev_idle_init(&m->now_idle, now_idle_cb);
	m->now_idle.data = m;
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, timerfunction);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
	/* room for one idle connection per check, so keep-alive survives between runs */
	curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long)HTTP_CHECKS_PER_MULTI + 16);
	return 0;
}

static void multi_cleanup(struct http_multi *m)
{
	struct ev_loop *loop = m->shared->loop;

	if (!m->multi)
		return;
	ev_timer_stop(loop, &m->timer);
	ev_prepare_stop(loop, &m->now);
	ev_idle_stop(loop, &m->now_idle);
	curl_multi_cleanup(m->multi); /* may still call socket_cb with CURL_POLL_REMOVE */
	while (m->socks)
		sock_remove(m, m->socks);
}

static void http_teardown(void *shared)
{
	struct http_shared *sh = shared;

	if (!sh)
		return;
	while (sh->idle) {
		struct http_handle *hd = sh->idle;

		sh->idle = hd->next;
		curl_easy_cleanup(hd->easy);
		free(hd);
	}
	for (size_t i = 0; i < sh->n_multis; i++)
		multi_cleanup(&sh->multis[i]);
	free(sh->multis);
	free(sh);
	curl_global_cleanup();
}

static void *http_setup(struct engine *engine)
{
	const struct hc_config *cfg = engine_config(engine);
	struct http_shared *sh;
	size_t n_http = 0;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return NULL;
	sh = calloc(1, sizeof(*sh));
	if (!sh) {
		curl_global_cleanup();
		return NULL;
	}
	sh->engine = engine;
	sh->loop = engine_loop(engine);
	for (size_t i = 0; i < cfg->n_checks; i++)
		n_http += cfg->checks[i].type == HC_CHECK_HTTP || cfg->checks[i].type == HC_CHECK_HTTPS;
	sh->n_multis = n_http ? (n_http + HTTP_CHECKS_PER_MULTI - 1) / HTTP_CHECKS_PER_MULTI : 1;
	sh->multis = calloc(sh->n_multis, sizeof(*sh->multis));
	for (size_t i = 0; sh->multis && i < sh->n_multis; i++) {
		if (multi_init(sh, &sh->multis[i]) < 0) {
			sh->n_multis = i;
			break;
		}
	}
	if (!sh->multis || !sh->n_multis) {
		http_teardown(sh);
		return NULL;
	}
	return sh;
}

/* ---- judging a response ---- */

int check_http_parse_cert_date(const char *text, size_t len, time_t *out)
{
	char buf[64];
	struct tm tm = {0};
	const char *end;
	time_t t;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	end = strptime(buf, "%b %d %H:%M:%S %Y", &tm);
	if (!end)
		return -EINVAL;
	while (*end == ' ')
		end++;
	if (strcmp(end, "GMT") != 0)
		return -EINVAL;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*out = t;
	return 0;
}

/* Printable, bounded quote of an expectation for a reason. */
static const char *quote(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s && n + 4 < size; s++)
		buf[n++] = (unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f ? *s : '?';
	if (*s) {
		buf[n++] = '.';
		buf[n++] = '.';
	}
	buf[n] = '\0';
	return buf;
}

int check_http_judge(const struct hc_check_conf *conf, long status, const char *body, size_t body_len,
		     char *reason, size_t size)
{
	char q[64];

	if (status < conf->status_min || status > conf->status_max) {
		snprintf(reason, size, "HTTP status %ld (expected %u-%u)", status, conf->status_min, conf->status_max);
		return 0;
	}
	if (conf->expect_body && !memmem(body, body_len, conf->expect_body, strlen(conf->expect_body))) {
		snprintf(reason, size, "body (%zu bytes) does not contain '%s'", body_len,
			 quote(conf->expect_body, q, sizeof(q)));
		return 0;
	}
	if (conf->has_regex) {
		regmatch_t range = {.rm_so = 0, .rm_eo = (regoff_t)body_len};

		/* REG_STARTEND: the body may hold NUL bytes and is not NUL-terminated */
		if (regexec(&conf->regex, body_len ? body : "", 1, &range, REG_STARTEND) != 0) {
			snprintf(reason, size, "body (%zu bytes) does not match /%s/", body_len,
				 quote(conf->expect_regex, q, sizeof(q)));
			return 0;
		}
	}
	return 1;
}

static void note_certificate(struct http_state *h, CURL *easy)
{
	struct hc_check *c = h->check;
	struct curl_certinfo *info = NULL;
	time_t expiry;
	double days;

	if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &info) != CURLE_OK || !info || info->num_of_certs < 1)
		return; /* a reused connection has no handshake to report: keep what we know */
	for (struct curl_slist *s = info->certinfo[0]; s; s = s->next) {
		static const char key[] = "Expire date:";

		if (strncmp(s->data, key, sizeof(key) - 1) == 0 &&
		    check_http_parse_cert_date(s->data + sizeof(key) - 1, strlen(s->data + sizeof(key) - 1),
					       &expiry) == 0)
			c->cert_expiry = (double)expiry;
	}
	if (!c->cert_expiry || !c->conf->cert_expiry_warn_days)
		return;
	days = (c->cert_expiry - (double)time(NULL)) / 86400.0;
	if (days < c->conf->cert_expiry_warn_days)
		engine_check_warn(c, "server certificate expires in %.1f days (warning at %u)", days,
				  c->conf->cert_expiry_warn_days);
	else
		engine_check_warn(c, "%s", "");
}

/* Takes the run's handle out of the multi and back into the pool. A handle removed
 * in the middle of a transfer closes that transfer's connection. */
static void handle_release(struct http_state *h)
{
	struct http_handle *hd = h->run;

	if (!hd)
		return;
	curl_multi_remove_handle(h->m->multi, hd->easy);
	h->run = NULL;
	hd->next = h->shared->idle;
	h->shared->idle = hd;
}

/* A reason longer than the buffer is cut, as the sink would cut it. */
__attribute__((format(printf, 3, 4))) static void say(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* Judges a finished transfer: 1 pass, 0 fail (reason in buf), -1 timeout. */
static int judge_transfer(struct http_state *h, CURL *easy, const char *errbuf, CURLcode rc, char *buf,
			  size_t size)
{
	const struct hc_check_conf *conf = h->check->conf;
	long status = 0;

	if (conf->type == HC_CHECK_HTTPS && rc == CURLE_OK)
		note_certificate(h, easy);
	if (h->body_over || rc == CURLE_FILESIZE_EXCEEDED) {
		say(buf, size, "body larger than max_body (%zu bytes)", conf->max_body);
		return 0;
	}
	/* libcurl buffers a header line whole and gives up past 100 KB with "out of
	 * memory", before our header callback sees the line */
	if (rc == CURLE_OUT_OF_MEMORY && h->header_bytes && !h->body_bytes)
		h->header_over = true;
	if (h->header_over) {
		say(buf, size, "response headers too large: %zu bytes read, max_header %zu, one line at most 100 KB",
			 h->header_bytes, conf->max_header);
		return 0;
	}
	if (rc != CURLE_OK) {
		/* curl's detail, and what kind of failure it is when the detail does not say */
		const char *kind = curl_easy_strerror(rc);
		bool said = errbuf[0] && strstr(errbuf, kind);

		say(buf, size, "%s%s%s%s", errbuf, said ? "" : errbuf[0] ? " (" : "", said ? "" : kind,
			 said || !errbuf[0] ? "" : ")");
		return rc == CURLE_OPERATION_TIMEDOUT ? -1 : 0;
	}
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (h->body)
		h->body[h->body_bytes] = '\0'; /* room for it: max_body + 1 */
	return check_http_judge(conf, status, h->body, h->body ? h->body_bytes : 0, buf, size);
}

/* The handle goes back to the pool before the sink hears of the result. */
static void transfer_done(struct http_state *h, CURLcode rc)
{
	char reason[HC_REASON_MAX];
	int verdict = judge_transfer(h, h->run->easy, h->run->errbuf, rc, reason, sizeof(reason));

	handle_release(h);
	if (verdict > 0)
		engine_check_pass(h->check);
	else
		engine_check_done(h->check, verdict < 0 ? HC_RESULT_TIMEOUT : HC_RESULT_FAIL, "%s", reason);
}

static void check_multi_info(struct http_multi *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
		struct http_state *h = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&h);
		if (h && h->run && h->run->easy == msg->easy_handle)
			transfer_done(h, msg->data.result);
	}
}

/* ---- a run: the check's options on a pooled easy handle ---- */

static size_t header_cb(char *data, size_t size, size_t n, void *userp)
{
	struct http_state *h = userp;
	size_t len = size * n;

	h->header_bytes += len;
	if (h->header_bytes > h->check->conf->max_header) {
		h->header_over = true;
		return 0; /* short count: curl aborts the transfer */
	}
	return len;
}

static size_t write_cb(char *data, size_t size, size_t n, void *userp)
{
	struct http_state *h = userp;
	size_t len = size * n, max = h->check->conf->max_body;

	if (h->body_bytes + len > max) {
		h->body_over = true;
		return 0;
	}
	if (h->body)
		memcpy(h->body + h->body_bytes, data, len);
	h->body_bytes += len;
	return len;
}

/* host = NAME: ask for NAME (SNI, Host header, certificate name) but connect to the
 * address the url names, through CURLOPT_CONNECT_TO. */
static int apply_host_override(struct http_state *h)
{
	const struct hc_check_conf *conf = h->check->conf;
	CURLU *u = curl_url();
	char *orig_host = NULL, *port = NULL, *url = NULL;
	char entry[512];
	int rc = -EINVAL;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, conf->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &orig_host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_HOST, conf->host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		goto out;
	snprintf(entry, sizeof(entry), "%s:%s:%s:%s", conf->host, port, orig_host, port);
	h->connect_to = curl_slist_append(NULL, entry);
	h->url = strdup(url);
	rc = h->connect_to && h->url ? 0 : -ENOMEM;
out:
	curl_free(orig_host);
	curl_free(port);
	curl_free(url);
	curl_url_cleanup(u);
	return rc;
}

static void set_method(CURL *easy, const char *method)
{
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(easy, CURLOPT_POST, 1L);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
	}
}

static void set_tls(CURL *easy, const struct hc_check_conf *conf)
{
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (conf->ca_file)
		curl_easy_setopt(easy, CURLOPT_CAINFO, conf->ca_file);
	if (conf->client_cert)
		curl_easy_setopt(easy, CURLOPT_SSLCERT, conf->client_cert);
	if (conf->client_key)
		curl_easy_setopt(easy, CURLOPT_SSLKEY, conf->client_key);
	if (conf->cert_expiry_warn_days)
		curl_easy_setopt(easy, CURLOPT_CERTINFO, 1L);
}

/* Every option a run needs, on a handle that may have run another check before. */
static void configure(struct http_state *h, struct http_handle *hd)
{
	const struct hc_check_conf *conf = h->check->conf;
	CURL *easy = hd->easy;

	curl_easy_reset(easy);
	curl_easy_setopt(easy, CURLOPT_URL, h->url ? h->url : conf->url);
	if (h->connect_to)
		curl_easy_setopt(easy, CURLOPT_CONNECT_TO, h->connect_to);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, h);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, hd->errbuf);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, conf->follow_redirects ? 1L : 0L);
	curl_easy_setopt(easy, CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRS);
	curl_easy_setopt(easy, CURLOPT_PROXY, ""); /* never an http_proxy from the environment */
	curl_easy_setopt(easy, CURLOPT_HTTP09_ALLOWED, 0L);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, HTTP_USER_AGENT);
	/* nothing asks for HTTP/2: no ALPN h2, no nghttp2 session per https connection */
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)conf->timeout_ms + HTTP_CURL_SLACK_MS);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)conf->timeout_ms + HTTP_CURL_SLACK_MS);
	curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)conf->max_body);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, h);
	set_method(easy, conf->method ? conf->method : "GET");
	if (conf->type == HC_CHECK_HTTPS)
		set_tls(easy, conf);
}

/* The most recently used idle handle (its memory is the warmest), or a new one. */
static struct http_handle *handle_get(struct http_shared *sh)
{
	struct http_handle *hd = sh->idle;

	if (hd) {
		sh->idle = hd->next;
		return hd;
	}
	hd = calloc(1, sizeof(*hd));
	if (hd && !(hd->easy = curl_easy_init())) {
		free(hd);
		hd = NULL;
	}
	return hd;
}

static void http_state_free(struct http_state *h)
{
	if (!h)
		return;
	handle_release(h);
	curl_slist_free_all(h->connect_to);
	free(h->url);
	free(h->body);
	free(h);
}

static int http_init(struct hc_check *c)
{
	const struct hc_check_conf *conf = c->conf;
	struct http_state *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->check = c;
	h->shared = engine_kind_shared(c->engine, conf->type);
	/* consecutive checks share a multi handle */
	h->m = &h->shared->multis[h->shared->n_assigned++ / HTTP_CHECKS_PER_MULTI % h->shared->n_multis];
	if ((conf->expect_body || conf->has_regex) && !(h->body = malloc(conf->max_body + 1)))
		goto fail;
	if (conf->host && apply_host_override(h) < 0)
		goto fail;
	c->kind_state = h;
	return 0;
fail:
	http_state_free(h);
	return -ENOMEM;
}

static void http_start(struct hc_check *c)
{
	struct http_state *h = c->kind_state;
	struct http_handle *hd = handle_get(h->shared);
	CURLMcode rc;

	if (!hd) {
		engine_check_done(c, HC_RESULT_FAIL, "curl: %s", curl_easy_strerror(CURLE_OUT_OF_MEMORY));
		return;
	}
	h->header_bytes = h->body_bytes = 0;
	h->header_over = h->body_over = h->has_socket = false;
	hd->errbuf[0] = '\0';
	configure(h, hd);
	rc = curl_multi_add_handle(h->m->multi, hd->easy);
	if (rc != CURLM_OK) {
		hd->next = h->shared->idle;
		h->shared->idle = hd;
		engine_check_done(c, HC_RESULT_FAIL, "curl: %s", curl_multi_strerror(rc));
		return;
	}
	h->run = hd; /* curl's timer callback starts the transfer */
}

static void http_progress(struct hc_check *c, char *buf, size_t size)
{
	struct http_state *h = c->kind_state;
	curl_off_t sent_us = 0;
	long status = 0;

	if (h->run) {
		curl_easy_getinfo(h->run->easy, CURLINFO_PRETRANSFER_TIME_T, &sent_us);
		curl_easy_getinfo(h->run->easy, CURLINFO_RESPONSE_CODE, &status);
	}
	if (!h->header_bytes && sent_us)
		snprintf(buf, size, "request sent, no complete response line");
	else if (!h->header_bytes && h->has_socket)
		snprintf(buf, size, "%s", c->conf->type == HC_CHECK_HTTPS ? "TCP connect or TLS handshake not finished"
									 : "TCP connect not finished");
	else if (!h->header_bytes)
		snprintf(buf, size, "no connection attempt yet");
	else if (!status)
		snprintf(buf, size, "connected, %zu bytes of response headers", h->header_bytes);
	else
		snprintf(buf, size, "status %ld, %zu bytes of headers, %zu bytes of body", status, h->header_bytes,
			 h->body_bytes);
}

static void http_cancel(struct hc_check *c)
{
	handle_release(c->kind_state); /* closes the connection of a transfer in flight */
}

static void http_free(struct hc_check *c)
{
	http_state_free(c->kind_state);
	c->kind_state = NULL;
}

const struct check_kind check_http_kind = {
	.name = "http",
	.setup = http_setup,
	.teardown = http_teardown,
	.init = http_init,
	.start = http_start,
	.cancel = http_cancel,
	.progress = http_progress,
	.free = http_free,
};
