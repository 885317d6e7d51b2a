/* libmicrohttpd without a thread of its own (MHD_USE_EPOLL, fo/httpd_ev.h): its
 * epoll descriptor is one ev_io in fomgr's loop and MHD_get_timeout() arms one
 * ev_timer. So a request reads the manager's state in the loop thread, with no
 * lock and no snapshot to keep in step; the price is that rendering runs between
 * two events of the failover path. It is bounded: a request costs about 0.1 ms of
 * CPU with one group and 0.8 ms with 64 (tests/bench/status-bench.sh), however
 * many transitions there were, requests have no body, connections are limited in
 * number and time, and a slow client costs a connection slot, never the loop (MHD
 * writes non-blocking). A thread would add a second copy of the state and a lock on the
 * failover path for no gain at this size.
 *
 * TLS: GnuTLS, through MHD (Debian's libmicrohttpd is built with it). MHD asks
 * for a client certificate when a trust CA is given but leaves the verdict to the
 * application: each request checks the peer's chain against the CA. */
#include "status_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control_socket.h"
#include "fo/clock.h"
#include "fo/httpd_ev.h"
#include "fo/httpd_guard.h"
#include "fo/jsontext.h"
#include "fo/log.h"
#include "hooks.h"
#include "manager.h"
#include "metrics.h"

#define PEM_MAX (1024 * 1024)

/* The text of the status document's "transitions" member, kept while the list is
 * the same (json_equal: the same objects, which status.c shares from one document
 * to the next, so the test is a few pointer compares): dumping it again for every
 * request was most of what a failover added to one (issue 14). */
struct transitions_text {
	json_t *list;
	char *member[2]; /* compact, indented: "transitions":[...], without braces */
};

struct status_http {
	struct ev_loop *loop;
	struct manager *m;
	struct httpd_ev *httpd;
	struct httpd_guard *guard; /* outlives httpd: MHD tells it of the last closes */
	uint16_t port;
	int tls;
	char *cert, *key, *ca;
	int listening;
	const struct control_socket *control;
	const struct hooks *hooks;
	struct metrics_histogram failover, switchover;
	double start_time_s;
	uint64_t requests;
	uint64_t tls_refused;
	struct transitions_text transitions;
};

/* ---- content ---- */

static void on_event(void *arg, json_t *event)
{
	struct status_http *h = arg;
	const char *type = json_string_value(json_object_get(event, "event"));
	const char *action = json_string_value(json_object_get(event, "action"));

	if (type && strcmp(type, "transition") == 0 && action && strcmp(action, "acquire") == 0 &&
	    json_is_true(json_object_get(event, "ok")))
		metrics_histogram_observe(
			metrics_reason_is_switchover(json_string_value(json_object_get(event, "reason"))) ? &h->switchover
													  : &h->failover,
			json_number_value(json_object_get(event, "took_ms")) / 1000.0);
}

char *status_http_render_metrics(const struct status_http *h)
{
	struct control_socket_stats cs;
	struct vip_stats vs;
	uint64_t hooks[METRICS_HOOK_MAX];
	json_t *st = manager_status(h->m);
	struct metrics_input in = {.status = st,
				   .failover = &h->failover,
				   .switchover = &h->switchover,
				   .start_time_s = h->start_time_s,
				   .http_requests = h->requests};
	struct httpd_guard_stats gs;
	char *text;

	if (!st)
		return NULL;
	manager_vip_stats(h->m, &vs);
	in.vip = &vs;
	if (h->guard) {
		httpd_guard_get_stats(h->guard, &gs);
		in.http_guard = &gs;
	}
	if (h->control) {
		control_socket_get_stats(h->control, &cs);
		in.control = &cs;
	}
	if (h->hooks) {
		hooks_get_counts(h->hooks, hooks);
		in.hooks = hooks;
	}
	text = metrics_render(&in);
	json_decref(st);
	return text;
}

static void transitions_text_clear(struct transitions_text *c)
{
	json_decref(c->list);
	free(c->member[0]);
	free(c->member[1]);
	memset(c, 0, sizeof(*c));
}

/* `"transitions":[...]` as it reads inside the document, compact or indented at
 * the document's first level; NULL when out of memory. Kept in c. */
static const char *transitions_member(struct transitions_text *c, json_t *list, int pretty)
{
	size_t skip = pretty ? 2 : 1, len; /* "{\n" and "\n}", or "{" and "}" */
	json_t *wrap;
	char *text;

	if (!c->list || !json_equal(c->list, list)) {
		transitions_text_clear(c);
		c->list = json_incref(list);
	}
	if (c->member[pretty])
		return c->member[pretty];
	wrap = json_pack("{s:O}", "transitions", list);
	text = wrap ? jsontext_dumps(wrap, pretty ? JSON_INDENT(2) : JSON_COMPACT) : NULL;
	json_decref(wrap);
	if (!text || (len = strlen(text)) < 2 * skip) {
		free(text);
		return NULL;
	}
	memmove(text, text + skip, len - 2 * skip);
	text[len - 2 * skip] = '\0';
	return c->member[pretty] = text;
}

/* text, an object's dump ending in "}" (compact) or "\n}" (indented), with member
 * added as its last member, and a newline; NULL when out of memory. */
static char *add_member(const char *text, const char *member, int pretty)
{
	size_t len = strlen(text), tail = pretty ? 2 : 1;
	char *out = NULL;

	if (len < tail + 2 || text[len - 1] != '}' || (pretty && text[len - 2] != '\n'))
		return NULL; /* not an object with members: jansson does not write that */
	if (asprintf(&out, "%.*s,%s%s%s\n", (int)(len - tail), text, pretty ? "\n" : "", member, text + len - tail) < 0)
		return NULL;
	return out;
}

/* The document with its transitions at the end, their text from the cache: JSON
 * does not order an object's members. */
static char *render_status(struct status_http *h, int pretty)
{
	json_t *st = manager_status(h->m), *list = json_object_get(st, "transitions");
	const char *member = json_array_size(list) ? transitions_member(&h->transitions, list, pretty) : NULL;
	char *text, *line = NULL;

	if (member)
		json_object_del(st, "transitions");
	text = st ? jsontext_dumps(st, pretty ? JSON_INDENT(2) : JSON_COMPACT) : NULL;
	json_decref(st);
	if (text && member)
		line = add_member(text, member, pretty);
	else if (text && asprintf(&line, "%s\n", text) < 0)
		line = NULL;
	free(text);
	return line;
}

/* ---- requests ---- */

/* The client's certificate chains to the operator's CA; 0 or why not. */
static const char *client_refused(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	unsigned verdict = 0;
	int rc;

	if (!ci || !ci->tls_session)
		return "no TLS session";
	rc = gnutls_certificate_verify_peers2((gnutls_session_t)ci->tls_session, &verdict);
	if (rc == GNUTLS_E_NO_CERTIFICATE_FOUND)
		return "no client certificate";
	if (rc < 0)
		return gnutls_strerror(rc);
	return verdict ? "client certificate not trusted" : NULL;
}

static enum MHD_Result route(struct status_http *h, struct MHD_Connection *conn, const char *url)
{
	static const char text_type[] = "text/plain; charset=utf-8";

	h->requests++;
	if (h->tls) {
		const char *why = client_refused(conn);

		if (why) {
			h->tls_refused++;
			log_warn("status: request refused: %s", why);
			return httpd_ev_reply(conn, MHD_HTTP_FORBIDDEN, text_type, strdup("client certificate required\n"));
		}
	}
	if (strcmp(url, "/status") == 0)
		return httpd_ev_reply(conn, 200, "application/json", render_status(h, httpd_ev_query_flag(conn, "pretty")));
	if (strcmp(url, "/metrics") == 0)
		return httpd_ev_reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", status_http_render_metrics(h));
	if (strcmp(url, "/") == 0)
		return httpd_ev_reply(conn, 200, text_type, strdup("fomgr: /status (JSON), /metrics (Prometheus)\n"));
	return httpd_ev_reply(conn, MHD_HTTP_NOT_FOUND, text_type, strdup("not found: /status /metrics\n"));
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			       const char *version, const char *upload_data, size_t *upload_data_size,
			       void **req_cls)
{
	enum MHD_Result result;

	if (!httpd_ev_accept(conn, method, upload_data_size, req_cls, &result))
		return result;
	return route(cls, conn, url);
}

/* ---- MHD ---- */

/* A PEM file, whole, at most PEM_MAX bytes; the caller frees it. */
static char *read_pem(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *buf = NULL;
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size <= PEM_MAX &&
	    (buf = calloc(1, (size_t)st.st_size + 1))) {
		n = read(fd, buf, (size_t)st.st_size);
		if (n != st.st_size) {
			free(buf);
			buf = NULL;
			errno = EIO;
		}
	} else if (!buf) {
		errno = errno ? errno : EINVAL;
	}
	close(fd);
	return buf;
}

static int load_tls(struct status_http *h, const struct status_http_options *o)
{
	const char *paths[3] = {o->tls_cert, o->tls_key, o->tls_client_ca};
	char **bufs[3] = {&h->cert, &h->key, &h->ca};

	for (int i = 0; i < 3; i++) {
		*bufs[i] = read_pem(paths[i]);
		if (!*bufs[i]) {
			log_err("status http: cannot read %s: %s", paths[i], strerror(errno));
			return -errno;
		}
	}
	h->tls = 1;
	return 0;
}

static int start_daemon(struct status_http *h, const struct config_listen *l)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (h->tls ? MHD_USE_TLS : 0);
	const struct httpd_guard_limits limits = {
		.max_connections = STATUS_HTTP_MAX_CONNECTIONS,
		.per_address = STATUS_HTTP_PER_IP_CONNECTIONS,
		.deadline_s = STATUS_HTTP_DEADLINE_S,
	};
	struct MHD_Daemon *d;

	h->guard = httpd_guard_new(h->loop, &limits, "status http");
	if (!h->guard)
		return -errno;
	if (l->family == AF_INET6) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(l->port);
		inet_pton(AF_INET6, l->addr, &v6->sin6_addr);
		flags |= MHD_USE_IPv6;
	} else {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(l->port);
		inet_pton(AF_INET, l->addr, &v4->sin_addr);
	}
	if (h->tls)
		d = MHD_start_daemon(flags, l->port, NULL, NULL, handler, h, MHD_OPTION_EXTERNAL_LOGGER, httpd_ev_log,
				     (void *)"status http", MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_ARRAY,
				     httpd_guard_options(h->guard), MHD_OPTION_HTTPS_MEM_CERT, h->cert,
				     MHD_OPTION_HTTPS_MEM_KEY, h->key, MHD_OPTION_HTTPS_MEM_TRUST, h->ca, MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, l->port, NULL, NULL, handler, h, MHD_OPTION_EXTERNAL_LOGGER, httpd_ev_log,
				     (void *)"status http", MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_ARRAY,
				     httpd_guard_options(h->guard), MHD_OPTION_END);
	h->httpd = httpd_ev_new(h->loop, d);
	if (!h->httpd) {
		int err = errno ? errno : EADDRNOTAVAIL;

		log_err("status http: cannot listen on %s: %s", l->text, strerror(err));
		return -err;
	}
	h->port = httpd_ev_port(h->httpd);
	if (!h->port)
		h->port = l->port;
	return 0;
}

struct status_http *status_http_new(struct ev_loop *loop, struct manager *m, const struct status_http_options *o)
{
	const struct config_listen *l = o->listen;
	int tls = o->tls_cert && o->tls_cert[0] && o->tls_key && o->tls_key[0] && o->tls_client_ca &&
		  o->tls_client_ca[0];
	struct status_http *h;
	int rc;

	/* The config refuses this too; the server does not trust its caller on it. */
	if (!l->loopback && !tls) {
		log_err("status http: %s is beyond loopback: it needs TLS with a client CA "
			"(status_tls_cert, status_tls_key, status_tls_client_ca); refusing to start",
			l->text);
		errno = EPERM;
		return NULL;
	}
	if (tls && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		log_err("status http: this libmicrohttpd has no TLS support; refusing to start");
		errno = ENOTSUP;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->loop = loop;
	h->m = m;
	h->start_time_s = clock_real_ms() / 1000.0; /* the status server starts with fomgr */
	rc = tls ? load_tls(h, o) : 0;
	if (rc == 0)
		rc = start_daemon(h, l);
	if (rc == 0 && (rc = manager_listen(m, on_event, h)) == 0)
		h->listening = 1;
	if (rc < 0) {
		status_http_free(h);
		errno = -rc;
		return NULL;
	}
	log_info("status http on %s%s: /status /metrics", l->text, h->tls ? " (TLS, client certificates)" : "");
	return h;
}

void status_http_free(struct status_http *h)
{
	if (!h)
		return;
	if (h->listening)
		manager_unlisten(h->m, on_event, h);
	httpd_ev_free(h->httpd);
	httpd_guard_free(h->guard);
	transitions_text_clear(&h->transitions);
	if (h->key) /* key material does not linger in freed memory */
		explicit_bzero(h->key, strlen(h->key));
	free(h->cert);
	free(h->key);
	free(h->ca);
	free(h);
}

void status_http_set_sources(struct status_http *h, const struct control_socket *control, const struct hooks *hooks)
{
	h->control = control;
	h->hooks = hooks;
}

uint16_t status_http_port(const struct status_http *h)
{
	return h->port;
}
