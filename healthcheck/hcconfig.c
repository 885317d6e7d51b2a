/* Reading the agent's INI file. libinih splits lines into section, key and value; a
 * line-counting reader in front of it gives every message its line, handles section
 * headers itself (so an empty or repeated section is seen) and refuses what libinih
 * would accept silently (continuation lines, "key: value", over-long lines). Keys are
 * rows in a table; validation runs on the whole file and collects every error. */
#include "fo/name.h"
#include "hcconfig.h"

#include "fo/healthwire.h"
#include "fo/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HC_CONFIG_MAX_SIZE (4u << 20)

static const char *const type_names[HC_CHECK_TYPE_MAX] = {"http", "https", "tcp", "script", "process", "file"};
static const char *const file_mode_names[HC_FILE_MODE_MAX] = {"exists", "exists-fails", "content"};

const char *hc_check_type_str(enum hc_check_type type)
{
	return type < HC_CHECK_TYPE_MAX ? type_names[type] : "invalid";
}

const char *hc_file_mode_str(enum hc_file_mode mode)
{
	return mode < HC_FILE_MODE_MAX ? file_mode_names[mode] : "invalid";
}

enum section_kind { SECTION_NONE, SECTION_AGENT, SECTION_RESOURCES, SECTION_CHECK, SECTION_BAD };

struct keyword;

struct parse_ctx {
	const char *buf;
	size_t len, pos;
	unsigned lineno;
	struct hc_config *cfg;
	struct hc_config_errors *errs;
	enum section_kind section;
	struct hc_check_conf *check; /* current [check NAME], or NULL */
	unsigned *key_lines;         /* per keyword: line where set in this section, 0 if not */
	unsigned *agent_key_lines;   /* n_keywords */
	unsigned agent_line;         /* of the [agent] header */
	unsigned resources_line;     /* of the [resources] header */
	char section_name[HC_LINE_MAX + 1]; /* as written, for messages */
	size_t checks_alloc;
	unsigned *check_key_lines;   /* n_checks x n_keywords */
};

static void add_error(struct parse_ctx *ctx, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_error(struct parse_ctx *ctx, unsigned line, const char *fmt, ...)
{
	struct hc_config_errors *errs = ctx->errs;
	va_list ap;

	if (errs->n < HC_MAX_ERRORS) {
		struct hc_config_error *e = &errs->items[errs->n];

		e->line = line;
		va_start(ap, fmt);
		vsnprintf(e->message, sizeof(e->message), fmt, ap);
		va_end(ap);
	}
	errs->n++;
}

/* ---- value parsers: each returns 0 or -EINVAL after adding its own message ---- */

typedef int (*value_parser)(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field);

struct keyword {
	const char *name;
	enum section_kind where;
	unsigned types; /* check types where allowed (bit per type); 0: every type */
	size_t offset;
	value_parser parse;
	const char *def; /* default, through the same parser; NULL: none */
	long min, max;   /* bounds for numbers and durations (ms) */
};

static int parse_duration(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	char *end;
	double v, scale;

	errno = 0;
	v = strtod(value, &end);
	if (end == value || errno || !isfinite(v) || v < 0)
		goto bad;
	if (strcmp(end, "ms") == 0)
		scale = 1;
	else if (strcmp(end, "s") == 0)
		scale = 1000;
	else if (strcmp(end, "m") == 0)
		scale = 60000;
	else
		goto bad;
	v *= scale;
	if (v < (double)kw->min || v > (double)kw->max) {
		add_error(ctx, ctx->lineno, "%s: %s out of range (%ldms to %lds)", kw->name, value, kw->min,
			  kw->max / 1000);
		return -EINVAL;
	}
	*(uint32_t *)field = (uint32_t)llround(v);
	return 0;
bad:
	add_error(ctx, ctx->lineno, "%s: bad duration '%s' (a number with ms, s or m)", kw->name, value);
	return -EINVAL;
}

static int parse_uint(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (end == value || *end || errno || v < kw->min || v > kw->max) {
		add_error(ctx, ctx->lineno, "%s: '%s' is not an integer from %ld to %ld", kw->name, value, kw->min,
			  kw->max);
		return -EINVAL;
	}
	*(uint32_t *)field = (uint32_t)v;
	return 0;
}

static int parse_port(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	uint32_t v;

	if (parse_uint(ctx, kw, value, &v) < 0)
		return -EINVAL;
	*(uint16_t *)field = (uint16_t)v;
	return 0;
}

static int parse_double(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(value, &end);
	if (end == value || *end || errno || !isfinite(v) || v < (double)kw->min || v > (double)kw->max) {
		add_error(ctx, ctx->lineno, "%s: '%s' is not a number from %ld to %ld", kw->name, value, kw->min,
			  kw->max);
		return -EINVAL;
	}
	*(double *)field = v;
	return 0;
}

static int parse_size(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (end == value || errno || value[0] == '-')
		goto bad;
	if (strcmp(end, "k") == 0 || strcmp(end, "K") == 0)
		v *= 1024;
	else if (strcmp(end, "m") == 0 || strcmp(end, "M") == 0)
		v *= 1024 * 1024;
	else if (*end)
		goto bad;
	if (v < (unsigned long long)kw->min || v > (unsigned long long)kw->max)
		goto bad;
	*(size_t *)field = (size_t)v;
	return 0;
bad:
	add_error(ctx, ctx->lineno, "%s: '%s' is not a size from %ld to %ld bytes (suffix k or m allowed)",
		  kw->name, value, kw->min, kw->max);
	return -EINVAL;
}

static int parse_bool(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*(bool *)field = true;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*(bool *)field = false;
			return 0;
		}
	}
	add_error(ctx, ctx->lineno, "%s: '%s' is not yes or no", kw->name, value);
	return -EINVAL;
}

/* Owned string; an empty value is kept as NULL (not set). */
static int parse_string(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	char **dst = field;

	free(*dst);
	*dst = value[0] ? strdup(value) : NULL;
	return value[0] && !*dst ? -ENOMEM : 0;
}

static int parse_abs_path(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	if (value[0] != '/') {
		add_error(ctx, ctx->lineno, "%s: '%s' is not an absolute path", kw->name, value);
		return -EINVAL;
	}
	return parse_string(ctx, kw, value, field);
}

/* Fixed buffer of kw->max bytes (with the NUL). */
static int parse_text(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	if (strlen(value) >= (size_t)kw->max) {
		add_error(ctx, ctx->lineno, "%s: longer than %ld characters", kw->name, kw->max - 1);
		return -EINVAL;
	}
	strcpy(field, value);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* C-like escapes (\r \n \t \\ \xNN) for tcp send/expect and file content. */
static int parse_bytes(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	struct hc_bytes *b = field;
	size_t n = 0, len = strlen(value);
	char *out = malloc(len + 1);

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (value[i] != '\\') {
			out[n++] = value[i];
			continue;
		}
		switch (value[++i]) {
		case 'r': out[n++] = '\r'; break;
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		case '\\': out[n++] = '\\'; break;
		case 'x': /* the string ends in NUL, which is no hex digit */
			if (hexval(value[i + 1]) >= 0 && hexval(value[i + 2]) >= 0) {
				out[n++] = (char)(hexval(value[i + 1]) * 16 + hexval(value[i + 2]));
				i += 2;
				break;
			}
			/* fall through */
		default:
			add_error(ctx, ctx->lineno, "%s: bad escape at offset %zu (use \\r \\n \\t \\\\ \\xNN)",
				  kw->name, i - 1);
			free(out);
			return -EINVAL;
		}
	}
	out[n] = '\0';
	free(b->data);
	b->data = out;
	b->len = n;
	return 0;
}

static int parse_type(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	for (int i = 0; i < HC_CHECK_TYPE_MAX; i++) {
		if (strcmp(value, type_names[i]) == 0) {
			*(enum hc_check_type *)field = (enum hc_check_type)i;
			return 0;
		}
	}
	add_error(ctx, ctx->lineno, "type: unknown check type '%s' (http, https, tcp, script, process, file)",
		  value);
	return -EINVAL;
}

static int parse_file_mode(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	for (int i = 0; i < HC_FILE_MODE_MAX; i++) {
		if (strcmp(value, file_mode_names[i]) == 0) {
			*(enum hc_file_mode *)field = (enum hc_file_mode)i;
			return 0;
		}
	}
	add_error(ctx, ctx->lineno, "mode: '%s' is not exists, exists-fails or content", value);
	return -EINVAL;
}

static int parse_status_range(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	struct hc_check_conf *c = ctx->check;
	unsigned lo, hi;
	int used = 0;

	if (sscanf(value, "%3u-%3u%n", &lo, &hi, &used) == 2 && value[used] == '\0') {
		/* a range */
	} else if (sscanf(value, "%3u%n", &lo, &used) == 1 && value[used] == '\0') {
		hi = lo;
	} else {
		lo = hi = 0;
	}
	if (lo < 100 || hi > 599 || lo > hi) {
		add_error(ctx, ctx->lineno, "expect_status: '%s' is not a status or range within 100-599", value);
		return -EINVAL;
	}
	c->status_min = (uint16_t)lo;
	c->status_max = (uint16_t)hi;
	return 0;
}

static int parse_method(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	static const char *const methods[] = {"GET", "HEAD", "POST", "OPTIONS"};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(value, methods[i]) == 0)
			return parse_string(ctx, kw, value, field);
	add_error(ctx, ctx->lineno, "method: '%s' is not GET, HEAD, POST or OPTIONS", value);
	return -EINVAL;
}

/* Words separated by blanks; "double quotes" group, \" and \\ escape inside them. */
static int parse_args(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	struct hc_check_conf *c = ctx->check;
	char word[HC_LINE_MAX + 1];
	const char *p = value;

	for (size_t i = 0; i < c->n_args; i++)
		free(c->args[i]);
	c->n_args = 0;
	while (*p) {
		size_t n = 0;
		bool quoted = false;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		while (*p && (quoted || (*p != ' ' && *p != '\t'))) {
			if (*p == '"') {
				quoted = !quoted;
				p++;
				continue;
			}
			if (quoted && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			word[n++] = *p++;
		}
		if (quoted) {
			add_error(ctx, ctx->lineno, "args: unterminated quote");
			return -EINVAL;
		}
		if (c->n_args == HC_MAX_ARGS) {
			add_error(ctx, ctx->lineno, "args: more than %d arguments", HC_MAX_ARGS);
			return -EINVAL;
		}
		word[n] = '\0';
		c->args[c->n_args] = strdup(word);
		if (!c->args[c->n_args])
			return -ENOMEM;
		c->n_args++;
	}
	return 0;
}

/* "127.0.0.1:9901" or "[::1]:9901"; empty: do not serve. Loopback only: the agent
 * serves without TLS or credentials (design: remote status stays on loopback). */
static int parse_listen(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	struct hc_config *cfg = ctx->cfg;
	char host[64];
	const char *colon;
	unsigned char addr[16];
	char *end;
	long port;
	size_t hl;

	if (!value[0]) {
		cfg->listen_host[0] = '\0';
		return 0;
	}
	if (value[0] == '[') {
		const char *close = strchr(value, ']');

		if (!close || close[1] != ':')
			goto bad;
		hl = (size_t)(close - value - 1);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, value + 1, hl);
		colon = close + 1;
	} else {
		colon = strrchr(value, ':');
		if (!colon || (size_t)(colon - value) >= sizeof(host))
			goto bad;
		hl = (size_t)(colon - value);
		memcpy(host, value, hl);
	}
	host[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || errno || port < 0 || port > 65535)
		goto bad;
	if (inet_pton(AF_INET, host, addr) == 1) {
		if (addr[0] != 127)
			goto not_loopback;
	} else if (inet_pton(AF_INET6, host, addr) == 1) {
		static const unsigned char lo6[16] = {[15] = 1};

		if (memcmp(addr, lo6, 16) != 0)
			goto not_loopback;
	} else {
		goto bad;
	}
	strcpy(cfg->listen_host, host);
	cfg->listen_port = (uint16_t)port;
	return 0;
not_loopback:
	add_error(ctx, ctx->lineno, "listen: %s is not a loopback address (the agent serves without TLS)", host);
	return -EINVAL;
bad:
	add_error(ctx, ctx->lineno, "listen: '%s' is not ADDRESS:PORT with a numeric address", value);
	return -EINVAL;
}

static int parse_socket_path(struct parse_ctx *ctx, const struct keyword *kw, const char *value, void *field)
{
	if (value[0] && value[0] != '/') {
		add_error(ctx, ctx->lineno, "manager_socket: '%s' is not an absolute path", value);
		return -EINVAL;
	}
	return parse_text(ctx, kw, value, field);
}

#define TYPE(t) (1u << (t))
#define HTTP_TYPES (TYPE(HC_CHECK_HTTP) | TYPE(HC_CHECK_HTTPS))
#define AGENT(field) SECTION_AGENT, 0, offsetof(struct hc_config, field)
#define RES(field) SECTION_RESOURCES, 0, offsetof(struct hc_config, resources.field)
#define CHECK(types, field) SECTION_CHECK, (types), offsetof(struct hc_check_conf, field)

/* Every key the file may hold: where, for which check types, parser, default, bounds. */
static const struct keyword keywords[] = {
	{"listen", AGENT(listen_host), parse_listen, "127.0.0.1:9901", 0, 0},
	{"manager_socket", AGENT(manager_socket), parse_socket_path, "/run/fomgr/health.sock", 0, 108},
	{"heartbeat", AGENT(heartbeat_ms), parse_duration, "1s", 100, 60000},
	{"user", AGENT(user), parse_text, NULL, 0, 64},

	{"enabled", RES(enabled), parse_bool, "yes", 0, 0},
	{"interval", RES(interval_ms), parse_duration, "10s", 1000, 3600000},
	{"cpu_warn_pct", RES(cpu_pct), parse_double, "90", 0, 100},
	{"mem_warn_pct", RES(mem_pct), parse_double, "90", 0, 100},
	{"load_warn_per_cpu", RES(load_per_cpu), parse_double, "2", 0, 1000},
	{"fd_warn_pct", RES(fd_pct), parse_double, "80", 0, 100},
	{"conn_warn_per_port", RES(conn_per_port), parse_uint, "0", 0, 100000000},
	{"half_open_warn", RES(half_open), parse_uint, "0", 0, 100000000},
	{"listen_overflows_warn", RES(listen_overflows), parse_uint, "1", 0, 100000000},

	{"type", CHECK(0, type), parse_type, NULL, 0, 0},
	{"interval", CHECK(0, interval_ms), parse_duration, "2s", 10, 3600000},
	{"timeout", CHECK(0, timeout_ms), parse_duration, "1s", 10, 3600000},
	{"jitter", CHECK(0, jitter_ms), parse_duration, NULL, 0, 3600000},
	{"rise", CHECK(0, rise), parse_uint, "2", 1, 100},
	{"fall", CHECK(0, fall), parse_uint, "3", 1, 100},
	{"url", CHECK(HTTP_TYPES, url), parse_string, NULL, 0, 0},
	{"method", CHECK(HTTP_TYPES, method), parse_method, "GET", 0, 0},
	{"expect_status", CHECK(HTTP_TYPES, status_min), parse_status_range, "200-399", 0, 0},
	{"expect_body", CHECK(HTTP_TYPES, expect_body), parse_string, NULL, 0, 0},
	{"expect_regex", CHECK(HTTP_TYPES, expect_regex), parse_string, NULL, 0, 0},
	{"ca_file", CHECK(TYPE(HC_CHECK_HTTPS), ca_file), parse_abs_path, NULL, 0, 0},
	{"client_cert", CHECK(TYPE(HC_CHECK_HTTPS), client_cert), parse_abs_path, NULL, 0, 0},
	{"client_key", CHECK(TYPE(HC_CHECK_HTTPS), client_key), parse_abs_path, NULL, 0, 0},
	{"host", CHECK(HTTP_TYPES, host), parse_string, NULL, 0, 0},
	{"follow_redirects", CHECK(HTTP_TYPES, follow_redirects), parse_bool, "no", 0, 0},
	{"max_body", CHECK(HTTP_TYPES, max_body), parse_size, "64k", 0, 16 << 20},
	{"max_header", CHECK(HTTP_TYPES, max_header), parse_size, "16k", 1024, 1 << 20},
	{"cert_expiry_warn_days", CHECK(TYPE(HC_CHECK_HTTPS), cert_expiry_warn_days), parse_uint, "14", 0, 3650},
	{"address", CHECK(TYPE(HC_CHECK_TCP), address), parse_string, NULL, 0, 0},
	{"port", CHECK(TYPE(HC_CHECK_TCP), port), parse_port, NULL, 1, 65535},
	{"send", CHECK(TYPE(HC_CHECK_TCP), send), parse_bytes, NULL, 0, 0},
	{"expect", CHECK(TYPE(HC_CHECK_TCP) | TYPE(HC_CHECK_FILE), expect), parse_bytes, NULL, 0, 0},
	{"path", CHECK(TYPE(HC_CHECK_SCRIPT) | TYPE(HC_CHECK_FILE), path), parse_abs_path, NULL, 0, 0},
	{"args", CHECK(TYPE(HC_CHECK_SCRIPT), args), parse_args, NULL, 0, 0},
	{"name", CHECK(TYPE(HC_CHECK_PROCESS), process_name), parse_string, NULL, 0, 0},
	{"pidfile", CHECK(TYPE(HC_CHECK_PROCESS), pidfile), parse_abs_path, NULL, 0, 0},
	{"mode", CHECK(TYPE(HC_CHECK_FILE), file_mode), parse_file_mode, "exists-fails", 0, 0},
	{"anomaly_k", CHECK(0, anomaly_k), parse_double, "5", 1, 100},
	{"anomaly_m", CHECK(0, anomaly_m), parse_uint, "3", 1, 64},
	{"anomaly_fails", CHECK(0, anomaly_fails), parse_bool, "no", 0, 0},
};

#define N_KEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

static const struct keyword *keyword_find(enum section_kind where, const char *name, size_t *index)
{
	for (size_t i = 0; i < N_KEYWORDS; i++) {
		if (keywords[i].where == where && strcmp(keywords[i].name, name) == 0) {
			*index = i;
			return &keywords[i];
		}
	}
	return NULL;
}

static void *keyword_field(struct parse_ctx *ctx, const struct keyword *kw)
{
	char *base = kw->where == SECTION_CHECK ? (char *)ctx->check : (char *)ctx->cfg;

	return base + kw->offset;
}

static void apply_defaults(struct parse_ctx *ctx, enum section_kind where)
{
	for (size_t i = 0; i < N_KEYWORDS; i++)
		if (keywords[i].where == where && keywords[i].def)
			keywords[i].parse(ctx, &keywords[i], keywords[i].def, keyword_field(ctx, &keywords[i]));
}

/* ---- sections: seen by the reader, so empty and repeated ones count too ---- */

static int begin_check(struct parse_ctx *ctx, const char *name)
{
	struct hc_config *cfg = ctx->cfg;

	if (!name_valid(name, HC_NAME_MAX)) {
		add_error(ctx, ctx->lineno, "check name '%s' must be 1 to %d of A-Z a-z 0-9 . _ -", name,
			  HC_NAME_MAX - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->n_checks; i++) {
		if (strcmp(cfg->checks[i].name, name) == 0) {
			add_error(ctx, ctx->lineno, "duplicate check '%s' (first at line %u)", name,
				  cfg->checks[i].line);
			return -EINVAL;
		}
	}
	if (cfg->n_checks == HC_MAX_CHECKS) {
		add_error(ctx, ctx->lineno, "more than %d checks", HC_MAX_CHECKS);
		return -EINVAL;
	}
	if (cfg->n_checks == ctx->checks_alloc) {
		size_t n = ctx->checks_alloc ? ctx->checks_alloc * 2 : 8;
		struct hc_check_conf *checks = realloc(cfg->checks, n * sizeof(*checks));
		unsigned *lines = realloc(ctx->check_key_lines, n * N_KEYWORDS * sizeof(*lines));

		if (checks)
			cfg->checks = checks;
		if (lines)
			ctx->check_key_lines = lines;
		if (!checks || !lines)
			return -ENOMEM;
		ctx->checks_alloc = n;
	}
	ctx->check = &cfg->checks[cfg->n_checks];
	memset(ctx->check, 0, sizeof(*ctx->check));
	ctx->key_lines = &ctx->check_key_lines[cfg->n_checks * N_KEYWORDS];
	memset(ctx->key_lines, 0, N_KEYWORDS * sizeof(*ctx->key_lines));
	cfg->n_checks++;
	strcpy(ctx->check->name, name);
	ctx->check->line = ctx->lineno;
	ctx->check->jitter_ms = UINT32_MAX; /* default: the interval */
	apply_defaults(ctx, SECTION_CHECK);
	ctx->check->type = HC_CHECK_TYPE_MAX;
	ctx->section = SECTION_CHECK;
	return 0;
}

/* Header text between the brackets, already trimmed. */
static void begin_section(struct parse_ctx *ctx, char *header)
{
	char *space;

	ctx->check = NULL;
	ctx->section = SECTION_BAD;
	snprintf(ctx->section_name, sizeof(ctx->section_name), "%s", header);
	if (strcmp(header, "agent") == 0) {
		if (ctx->agent_line) {
			add_error(ctx, ctx->lineno, "duplicate section [agent] (first at line %u)", ctx->agent_line);
			return;
		}
		ctx->agent_line = ctx->lineno;
		ctx->section = SECTION_AGENT;
		ctx->key_lines = ctx->agent_key_lines;
		return;
	}
	if (strcmp(header, "resources") == 0) {
		if (ctx->resources_line) {
			add_error(ctx, ctx->lineno, "duplicate section [resources] (first at line %u)",
				  ctx->resources_line);
			return;
		}
		ctx->resources_line = ctx->lineno;
		ctx->section = SECTION_RESOURCES;
		ctx->key_lines = ctx->agent_key_lines; /* rows differ from [agent]'s: one array serves both */
		return;
	}
	space = strpbrk(header, " \t");
	if (space && (size_t)(space - header) == 5 && strncmp(header, "check", 5) == 0) {
		while (*space == ' ' || *space == '\t')
			space++;
		if (begin_check(ctx, space) == -ENOMEM)
			add_error(ctx, ctx->lineno, "out of memory");
		return;
	}
	if (strcmp(header, "check") == 0)
		add_error(ctx, ctx->lineno, "section [check] needs a name: [check NAME]");
	else
		add_error(ctx, ctx->lineno, "unknown section [%s] (agent, resources, check NAME)", header);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *ctx = user;
	const struct keyword *kw;
	size_t index;

	if (ctx->section == SECTION_BAD)
		return 1; /* already reported at the header */
	if (ctx->section == SECTION_NONE) {
		add_error(ctx, ctx->lineno, "key '%s' outside a section", name);
		return 1;
	}
	kw = keyword_find(ctx->section, name, &index);
	if (!kw) {
		add_error(ctx, ctx->lineno, "unknown key '%s' in [%s]", name, ctx->section_name);
		return 1;
	}
	if (ctx->key_lines[index]) {
		add_error(ctx, ctx->lineno, "duplicate key '%s' (first at line %u)", name, ctx->key_lines[index]);
		return 1;
	}
	ctx->key_lines[index] = ctx->lineno;
	if (kw->parse(ctx, kw, value, keyword_field(ctx, kw)) == -ENOMEM)
		add_error(ctx, ctx->lineno, "out of memory");
	return 1;
}

/* ---- the reader: one line per call, counted; syntax checked before libinih ---- */

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Checks one raw line (without its newline); returns what libinih should see. */
static const char *screen_line(struct parse_ctx *ctx, char *line, size_t len)
{
	char *s, *eq, *colon;

	if (len > HC_LINE_MAX) {
		add_error(ctx, ctx->lineno, "line longer than %d characters", HC_LINE_MAX);
		return "";
	}
	if (memchr(line, '\0', len)) {
		add_error(ctx, ctx->lineno, "NUL byte in line");
		return "";
	}
	line[len] = '\0';
	if (ctx->lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
		line += 3; /* UTF-8 byte order mark */
	s = trim(line);
	if (!*s || *s == ';' || *s == '#')
		return "";
	if (*s == '[') {
		char *close = strchr(s, ']');

		if (!close || *trim(close + 1) != '\0') {
			add_error(ctx, ctx->lineno, "section header must be [NAME] alone on its line");
			ctx->section = SECTION_BAD;
			return "";
		}
		*close = '\0';
		begin_section(ctx, trim(s + 1));
		return "";
	}
	eq = strchr(s, '=');
	colon = strchr(s, ':');
	if (!eq || (colon && colon < eq) || eq == s) {
		add_error(ctx, ctx->lineno, "expected 'key = value'");
		return "";
	}
	return s; /* leading blanks removed: no continuation lines */
}

/* "key = value ; comment", as inih splits it: at the first '=', a ';' after a
 * blank starts a comment, blanks around key and value go. */
static void split_long_line(struct parse_ctx *ctx, char *s)
{
	char *eq = strchr(s, '='), *value, *c;

	*eq = '\0';
	value = eq + 1;
	for (c = value; (c = strchr(c, ';')) != NULL; c++)
		if (c > value && (c[-1] == ' ' || c[-1] == '\t')) {
			*c = '\0';
			break;
		}
	handler(ctx, ctx->section_name, trim(s), trim(value));
}

static char *reader(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	char line[HC_LINE_MAX + 1];
	const char *start, *nl, *screened;
	size_t len;

	if (ctx->pos >= ctx->len)
		return NULL;
	start = ctx->buf + ctx->pos;
	nl = memchr(start, '\n', ctx->len - ctx->pos);
	len = nl ? (size_t)(nl - start) : ctx->len - ctx->pos;
	ctx->pos += len + (nl ? 1 : 0);
	ctx->lineno++;
	if (len <= HC_LINE_MAX)
		memcpy(line, start, len);
	screened = screen_line(ctx, line, len);
	if (strlen(screened) + 2 > (size_t)num) {
		/* Longer than libinih's buffer (a long URL): split it here as inih would. */
		split_long_line(ctx, (char *)screened);
		screened = "";
	}
	snprintf(str, (size_t)num, "%s\n", screened);
	return str;
}

/* ---- validation of the whole file ---- */

static unsigned key_line_in(const unsigned *lines, enum section_kind where, const char *name)
{
	for (size_t i = 0; i < N_KEYWORDS; i++)
		if (keywords[i].where == where && strcmp(keywords[i].name, name) == 0)
			return lines[i];
	return 0;
}

static unsigned key_line(const unsigned *lines, const char *name)
{
	return key_line_in(lines, SECTION_CHECK, name);
}

/* A key the type needs; when it was given but refused, that error was enough. */
static void require(struct parse_ctx *ctx, const struct hc_check_conf *c, const unsigned *lines, bool present,
		    const char *key)
{
	if (!present && !key_line(lines, key))
		add_error(ctx, c->line, "check %s: type %s needs %s", c->name, hc_check_type_str(c->type), key);
}

static void validate_http(struct parse_ctx *ctx, struct hc_check_conf *c, const unsigned *lines)
{
	const char *scheme = c->type == HC_CHECK_HTTPS ? "https://" : "http://";

	require(ctx, c, lines, c->url != NULL, "url");
	if (c->url && (strncasecmp(c->url, scheme, strlen(scheme)) != 0 || !c->url[strlen(scheme)] ||
		       strpbrk(c->url, " \t\r\n")))
		add_error(ctx, key_line(lines, "url"), "url: '%s' is not a %s URL", c->url, scheme);
	if (c->client_key && !c->client_cert)
		add_error(ctx, key_line(lines, "client_key"), "client_key needs client_cert");
	if (c->host && (!name_valid(c->host, HC_NAME_MAX) || strchr(c->host, '_')))
		add_error(ctx, key_line(lines, "host"), "host: '%s' is not a host name", c->host);
	if (c->expect_regex) {
		int rc = regcomp(&c->regex, c->expect_regex, REG_EXTENDED | REG_NOSUB);

		if (rc) {
			char msg[128];

			regerror(rc, &c->regex, msg, sizeof(msg));
			add_error(ctx, key_line(lines, "expect_regex"), "expect_regex: %s", msg);
		} else {
			c->has_regex = true;
		}
	}
	if ((c->expect_body || c->expect_regex) && c->method && strcmp(c->method, "HEAD") == 0)
		add_error(ctx, c->line, "check %s: method HEAD reads no body to match", c->name);
}

static void validate_tcp(struct parse_ctx *ctx, struct hc_check_conf *c, const unsigned *lines)
{
	unsigned char addr[16];

	require(ctx, c, lines, c->address != NULL, "address");
	require(ctx, c, lines, c->port != 0, "port");
	if (c->address && inet_pton(AF_INET, c->address, addr) != 1 && inet_pton(AF_INET6, c->address, addr) != 1)
		add_error(ctx, key_line(lines, "address"), "address: '%s' is not a numeric IPv4 or IPv6 address",
			  c->address);
	if (c->expect.data && c->expect.len == 0)
		add_error(ctx, key_line(lines, "expect"), "expect: empty");
}

static void validate_kind(struct parse_ctx *ctx, struct hc_check_conf *c, const unsigned *lines)
{
	char reason[200];

	switch (c->type) {
	case HC_CHECK_HTTP:
	case HC_CHECK_HTTPS:
		validate_http(ctx, c, lines);
		break;
	case HC_CHECK_TCP:
		validate_tcp(ctx, c, lines);
		break;
	case HC_CHECK_SCRIPT:
		require(ctx, c, lines, c->path != NULL, "path");
		if (c->path && hcconfig_script_safe(c->path, reason, sizeof(reason)) < 0)
			add_error(ctx, key_line(lines, "path"), "path: %s", reason);
		break;
	case HC_CHECK_PROCESS:
		if (!c->process_name && !c->pidfile && !key_line(lines, "name") && !key_line(lines, "pidfile"))
			add_error(ctx, c->line, "check %s: type process needs name or pidfile", c->name);
		if (c->process_name && (strlen(c->process_name) > 15 || strchr(c->process_name, '/')))
			add_error(ctx, key_line(lines, "name"),
				  "name: '%s' cannot match /proc/PID/comm (at most 15 characters, no '/')",
				  c->process_name);
		break;
	case HC_CHECK_FILE:
		require(ctx, c, lines, c->path != NULL, "path");
		if (c->file_mode == HC_FILE_CONTENT && !c->expect.data)
			add_error(ctx, key_line(lines, "mode"), "mode content needs expect");
		if (c->file_mode != HC_FILE_CONTENT && c->expect.data)
			add_error(ctx, key_line(lines, "expect"), "expect needs mode = content");
		break;
	default:
		break;
	}
}

static void validate_check(struct parse_ctx *ctx, struct hc_check_conf *c, const unsigned *lines)
{
	if (c->type == HC_CHECK_TYPE_MAX) {
		if (!key_line(lines, "type")) /* else its value was refused, and said so */
			add_error(ctx, c->line, "check %s: missing type", c->name);
		return;
	}
	for (size_t i = 0; i < N_KEYWORDS; i++) {
		const struct keyword *kw = &keywords[i];

		if (kw->where == SECTION_CHECK && lines[i] && kw->types && !(kw->types & TYPE(c->type)))
			add_error(ctx, lines[i], "key '%s' does not apply to type %s", kw->name,
				  hc_check_type_str(c->type));
	}
	if (c->jitter_ms == UINT32_MAX)
		c->jitter_ms = c->interval_ms;
	validate_kind(ctx, c, lines);
}

/* Every check's name must fit one healthwire line with the others. */
static void validate_report_size(struct parse_ctx *ctx)
{
	size_t total = 64;

	for (size_t i = 0; i < ctx->cfg->n_checks; i++)
		total += strlen(ctx->cfg->checks[i].name) + sizeof("\"\":\"unknown\",");
	if (total >= HEALTHWIRE_MAX_LINE)
		add_error(ctx, 0, "check names too long in total: one health report would exceed %d bytes",
			  HEALTHWIRE_MAX_LINE);
}

static void validate(struct parse_ctx *ctx)
{
	struct hc_config *cfg = ctx->cfg;

	for (size_t i = 0; i < cfg->n_checks; i++)
		validate_check(ctx, &cfg->checks[i], &ctx->check_key_lines[i * N_KEYWORDS]);
	validate_report_size(ctx);
	if (cfg->user[0] && !getpwnam(cfg->user))
		add_error(ctx, key_line_in(ctx->agent_key_lines, SECTION_AGENT, "user"), "user: no such user '%s'",
			  cfg->user);
	if (!cfg->n_checks && !ctx->errs->n) /* after another error it is only noise */
		add_error(ctx, 0, "no [check NAME] section: an agent with nothing to check reports nothing");
}

int hcconfig_load_buffer(const char *name, const char *buf, size_t len, struct hc_config **out,
			 struct hc_config_errors *errs)
{
	unsigned agent_key_lines[N_KEYWORDS] = {0};
	struct parse_ctx ctx = {.buf = buf, .len = len, .errs = errs, .agent_key_lines = agent_key_lines};
	int rc;

	*out = NULL;
	memset(errs, 0, sizeof(*errs));
	snprintf(errs->file, sizeof(errs->file), "%s", name);
	ctx.cfg = calloc(1, sizeof(*ctx.cfg));
	if (!ctx.cfg)
		return -ENOMEM;
	apply_defaults(&ctx, SECTION_AGENT);
	apply_defaults(&ctx, SECTION_RESOURCES);
	rc = ini_parse_stream(reader, &ctx, handler, &ctx);
	if (rc == -2)
		add_error(&ctx, 0, "out of memory");
	validate(&ctx);
	free(ctx.check_key_lines);
	if (errs->n) {
		hcconfig_free(ctx.cfg);
		return -EINVAL;
	}
	*out = ctx.cfg;
	return 0;
}

static int read_whole(const char *path, char **out, size_t *out_len)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = -EFBIG;
	if (!S_ISREG(st.st_mode) || st.st_size > HC_CONFIG_MAX_SIZE)
		goto fail;
	rc = -ENOMEM;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto fail;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	*out = buf;
	*out_len = len;
	return 0;
fail:
	close(fd);
	free(buf);
	return rc;
}

int hcconfig_load_file(const char *path, struct hc_config **out, struct hc_config_errors *errs)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = read_whole(path, &buf, &len);
	if (rc < 0) {
		memset(errs, 0, sizeof(*errs));
		snprintf(errs->file, sizeof(errs->file), "%s", path);
		errs->n = 1;
		snprintf(errs->items[0].message, sizeof(errs->items[0].message), "cannot read: %s",
			 rc == -EFBIG ? "not a regular file of at most 4 MiB" : strerror(-rc));
		return rc;
	}
	rc = hcconfig_load_buffer(path, buf, len, out, errs);
	free(buf);
	return rc;
}

static void check_conf_clear(struct hc_check_conf *c)
{
	char **strings[] = {&c->url, &c->method, &c->expect_body, &c->expect_regex, &c->ca_file,
			    &c->client_cert, &c->client_key, &c->host, &c->address, &c->path,
			    &c->process_name, &c->pidfile};

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		free(*strings[i]);
	free(c->send.data);
	free(c->expect.data);
	for (size_t i = 0; i < c->n_args; i++)
		free(c->args[i]);
	if (c->has_regex)
		regfree(&c->regex);
}

void hcconfig_free(struct hc_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_checks; i++)
		check_conf_clear(&cfg->checks[i]);
	free(cfg->checks);
	free(cfg);
}

void hcconfig_log_errors(const struct hc_config_errors *errs)
{
	size_t n = errs->n < HC_MAX_ERRORS ? errs->n : HC_MAX_ERRORS;

	for (size_t i = 0; i < n; i++) {
		if (errs->items[i].line)
			log_err("%s:%u: %s", errs->file, errs->items[i].line, errs->items[i].message);
		else
			log_err("%s: %s", errs->file, errs->items[i].message);
	}
	if (errs->n > n)
		log_err("%s: %zu more errors", errs->file, errs->n - n);
}

const struct hc_check_conf *hcconfig_find(const struct hc_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_checks; i++)
		if (strcmp(cfg->checks[i].name, name) == 0)
			return &cfg->checks[i];
	return NULL;
}

int hcconfig_check_same_kind(const struct hc_check_conf *a, const struct hc_check_conf *b)
{
	return strcmp(a->name, b->name) == 0 && a->type == b->type;
}

/* One path element: root-owned, or not writable by anyone but root. A sticky
 * directory (as /tmp) lets others create files but not replace root's. */
static int element_safe(const char *path, bool is_dir, char *reason, size_t size)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(reason, size, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!is_dir && !S_ISREG(st.st_mode)) {
		snprintf(reason, size, "%s is not a regular file", path);
		return -EPERM;
	}
	if (is_dir && (st.st_mode & S_ISVTX))
		return 0;
	if (st.st_uid != 0 || (st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid != 0)) {
		snprintf(reason, size, "%s is writable by a non-root user (owner %u, mode %04o): refused", path,
			 (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

static int dirs_safe(const char *path, char *reason, size_t size)
{
	char dir[PATH_MAX];
	char *slash;
	int rc;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	while ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir) {
			return element_safe("/", true, reason, size);
		}
		*slash = '\0';
		rc = element_safe(dir, true, reason, size);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int hcconfig_script_safe(const char *path, char *reason, size_t size)
{
	char resolved[PATH_MAX];
	int rc;

	rc = element_safe(path, false, reason, size);
	if (rc < 0)
		return rc;
	rc = dirs_safe(path, reason, size);
	if (rc < 0)
		return rc;
	if (!realpath(path, resolved)) {
		snprintf(reason, size, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (strcmp(resolved, path) != 0) {
		rc = element_safe(resolved, false, reason, size);
		if (rc == 0)
			rc = dirs_safe(resolved, reason, size);
	}
	if (rc == 0 && access(path, X_OK) < 0) {
		snprintf(reason, size, "%s is not executable", path);
		rc = -EACCES;
	}
	return rc;
}
