/* libcurl on libev: curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION)
 * and when to call it back (CURLMOPT_TIMERFUNCTION); we tell curl what happened with
 * curl_multi_socket_action() and collect finished transfers with
 * curl_multi_info_read(). Each finished transfer is judged here and reported to the
 * engine's sink. curl's error codes become reasons in this file only. */
#include "check_http.h"

#include "fo/log.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTP_USER_AGENT "fomgr-healthcheck/" FO_VERSION
#define HTTP_MAX_REDIRS 5
#define HTTP_CURL_SLACK_MS 1000 /* curl's own timeouts: backstops behind the engine's */

struct http_sock;

/* One per engine: the multi handle (and with it the connection cache). */
struct http_shared {
	struct engine *engine;
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer timer;
	struct http_sock *socks; /* every socket curl asked us to watch */
};

struct http_sock {
	ev_io io;
	struct http_shared *shared;
	struct http_sock *prev, *next;
};

struct http_state {
	struct hc_check *check;
	struct http_shared *shared;
	CURL *easy;
	bool in_multi;
	struct curl_slist *connect_to;
	char *url; /* with the host override applied */
	char errbuf[CURL_ERROR_SIZE];
	/* of the run in flight */
	size_t header_bytes, body_bytes;
	bool header_over, body_over;
	bool has_socket; /* curl asked us to watch a socket for it */
	char *body; /* max_body + 1 bytes when the body is matched, else NULL */
};

/* ---- multi-socket glue ---- */

static void check_multi_info(struct http_shared *sh);

static void sock_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_sock *hs = w->data;
	struct http_shared *sh = hs->shared;
	int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(sh->multi, w->fd, action, &running);
	check_multi_info(sh);
}

static void sock_remove(struct http_shared *sh, struct http_sock *hs)
{
	ev_io_stop(sh->loop, &hs->io);
	if (hs->prev)
		hs->prev->next = hs->next;
	else
		sh->socks = hs->next;
	if (hs->next)
		hs->next->prev = hs->prev;
	free(hs);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_shared *sh = userp;
	struct http_sock *hs = socketp;
	int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);

	struct http_state *h = NULL;

	if (what == CURL_POLL_REMOVE) {
		if (hs)
			sock_remove(sh, hs);
		return 0;
	}
	if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&h) == CURLE_OK && h)
		h->has_socket = true;
	if (!hs) {
		hs = calloc(1, sizeof(*hs));
		if (!hs)
			return -1; /* curl fails the transfer */
		hs->shared = sh;
		hs->next = sh->socks;
		if (sh->socks)
			sh->socks->prev = hs;
		sh->socks = hs;
		ev_init(&hs->io, sock_io_cb);
		hs->io.data = hs;
		curl_multi_assign(sh->multi, fd, hs);
	} else {
		ev_io_stop(sh->loop, &hs->io);
	}
	ev_io_set(&hs->io, fd, events);
	ev_io_start(sh->loop, &hs->io);
	return 0;
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http_shared *sh = w->data;
	int running;

	curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_multi_info(sh);
}

/* curl must not be called back from here: a 0 ms timeout fires on the next loop turn. */
static int timerfunction(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_shared *sh = userp;

	ev_timer_stop(sh->loop, &sh->timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&sh->timer, timeout_ms / 1000.0, 0);
		ev_timer_start(sh->loop, &sh->timer);
	}
	return 0;
}

static void *http_setup(struct engine *engine)
{
	const struct hc_config *cfg = engine_config(engine);
	struct http_shared *sh;
	long n_http = 0;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return NULL;
	sh = calloc(1, sizeof(*sh));
	if (!sh)
		return NULL;
	sh->engine = engine;
	sh->loop = engine_loop(engine);
	sh->multi = curl_multi_init();
	if (!sh->multi) {
		free(sh);
		return NULL;
	}
	for (size_t i = 0; i < cfg->n_checks; i++)
		n_http += cfg->checks[i].type == HC_CHECK_HTTP || cfg->checks[i].type == HC_CHECK_HTTPS;
	ev_init(&sh->timer, timer_cb);
	sh->timer.data = sh;
	curl_multi_setopt(sh->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(sh->multi, CURLMOPT_SOCKETDATA, sh);
	curl_multi_setopt(sh->multi, CURLMOPT_TIMERFUNCTION, timerfunction);
	curl_multi_setopt(sh->multi, CURLMOPT_TIMERDATA, sh);
	/* room for one idle connection per check, so keep-alive survives between runs */
	curl_multi_setopt(sh->multi, CURLMOPT_MAXCONNECTS, n_http + 16);
	return sh;
}

static void http_teardown(void *shared)
{
	struct http_shared *sh = shared;

	if (!sh)
		return;
	ev_timer_stop(sh->loop, &sh->timer);
	curl_multi_cleanup(sh->multi); /* may still call socket_cb with CURL_POLL_REMOVE */
	while (sh->socks)
		sock_remove(sh, sh->socks);
	free(sh);
	curl_global_cleanup();
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

static void note_certificate(struct http_state *h)
{
	struct hc_check *c = h->check;
	struct curl_certinfo *info = NULL;
	time_t expiry;
	double days;

	if (curl_easy_getinfo(h->easy, CURLINFO_CERTINFO, &info) != CURLE_OK || !info || info->num_of_certs < 1)
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

static void transfer_done(struct http_state *h, CURLcode rc)
{
	const struct hc_check_conf *conf = h->check->conf;
	char reason[HC_REASON_MAX];
	long status = 0;

	curl_multi_remove_handle(h->shared->multi, h->easy);
	h->in_multi = false;
	if (conf->type == HC_CHECK_HTTPS && rc == CURLE_OK)
		note_certificate(h);
	if (h->body_over || rc == CURLE_FILESIZE_EXCEEDED) {
		engine_check_done(h->check, HC_RESULT_FAIL, "body larger than max_body (%zu bytes)", conf->max_body);
		return;
	}
	/* libcurl buffers a header line whole and gives up past 100 KB with "out of
	 * memory", before our header callback sees the line */
	if (rc == CURLE_OUT_OF_MEMORY && h->header_bytes && !h->body_bytes)
		h->header_over = true;
	if (h->header_over) {
		engine_check_done(h->check, HC_RESULT_FAIL,
				  "response headers too large: %zu bytes read, max_header %zu, one line at most 100 KB",
				  h->header_bytes, conf->max_header);
		return;
	}
	if (rc != CURLE_OK) {
		/* curl's detail, and what kind of failure it is when the detail does not say */
		const char *kind = curl_easy_strerror(rc);
		bool said = h->errbuf[0] && strstr(h->errbuf, kind);

		engine_check_done(h->check, rc == CURLE_OPERATION_TIMEDOUT ? HC_RESULT_TIMEOUT : HC_RESULT_FAIL,
				  "%s%s%s%s", h->errbuf, said ? "" : h->errbuf[0] ? " (" : "", said ? "" : kind,
				  said || !h->errbuf[0] ? "" : ")");
		return;
	}
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
	if (h->body)
		h->body[h->body_bytes] = '\0'; /* room for it: max_body + 1 */
	if (check_http_judge(conf, status, h->body, h->body ? h->body_bytes : 0, reason, sizeof(reason)))
		engine_check_pass(h->check);
	else
		engine_check_done(h->check, HC_RESULT_FAIL, "%s", reason);
}

static void check_multi_info(struct http_shared *sh)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(sh->multi, &left)) != NULL) {
		struct http_state *h = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&h);
		if (h)
			transfer_done(h, msg->data.result);
	}
}

/* ---- per-check easy handle ---- */

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

static int configure(struct http_state *h)
{
	const struct hc_check_conf *conf = h->check->conf;
	CURL *easy = h->easy;

	if (conf->host && apply_host_override(h) < 0)
		return -EINVAL;
	curl_easy_setopt(easy, CURLOPT_URL, h->url ? h->url : conf->url);
	if (h->connect_to)
		curl_easy_setopt(easy, CURLOPT_CONNECT_TO, h->connect_to);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, h);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, conf->follow_redirects ? 1L : 0L);
	curl_easy_setopt(easy, CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRS);
	curl_easy_setopt(easy, CURLOPT_PROXY, ""); /* never an http_proxy from the environment */
	curl_easy_setopt(easy, CURLOPT_HTTP09_ALLOWED, 0L);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, HTTP_USER_AGENT);
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
	return 0;
}

static void http_state_free(struct http_state *h)
{
	if (!h)
		return;
	if (h->in_multi)
		curl_multi_remove_handle(h->shared->multi, h->easy);
	if (h->easy)
		curl_easy_cleanup(h->easy);
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
	h->easy = curl_easy_init();
	if ((conf->expect_body || conf->has_regex) && !(h->body = malloc(conf->max_body + 1)))
		goto fail;
	if (!h->easy || configure(h) < 0)
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
	CURLMcode rc;

	h->header_bytes = h->body_bytes = 0;
	h->header_over = h->body_over = h->has_socket = false;
	h->errbuf[0] = '\0';
	rc = curl_multi_add_handle(h->shared->multi, h->easy);
	if (rc != CURLM_OK) {
		engine_check_done(c, HC_RESULT_FAIL, "curl: %s", curl_multi_strerror(rc));
		return;
	}
	h->in_multi = true; /* curl's timer callback starts the transfer */
}

static void http_progress(struct hc_check *c, char *buf, size_t size)
{
	struct http_state *h = c->kind_state;
	curl_off_t sent_us = 0;
	long status = 0;

	curl_easy_getinfo(h->easy, CURLINFO_PRETRANSFER_TIME_T, &sent_us);
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
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
	struct http_state *h = c->kind_state;

	if (h->in_multi) {
		curl_multi_remove_handle(h->shared->multi, h->easy); /* closes the connection */
		h->in_multi = false;
	}
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
