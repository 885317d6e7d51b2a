/* Reading the agent's INI file on lib's engine (fo/cfgfile.h): it counts lines and
 * feeds libinih, which splits lines into key and value. This file handles section
 * headers itself (so an empty or repeated section is seen), refuses what libinih
 * would accept silently (continuation lines, "key: value") and words every message.
 * Keys are rows in a table; validation runs on the whole file and collects every
 * error. */
#include "hcconfig.h"

#include "fo/cfgvalue.h"
#include "fo/healthwire.h"
#include "fo/log.h"
#include "fo/name.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HC_CONFIG_MAX_SIZE (4u << 20)

static const char *const type_names[HC_CHECK_TYPE_MAX + 1] = {"http", "https", "tcp", "script", "process", "file",
								NULL};
static const char *const file_mode_names[HC_FILE_MODE_MAX + 1] = {"exists", "exists-fails", "content", NULL};

const char *hc_check_type_str(enum hc_check_type type)
{
	return type < HC_CHECK_TYPE_MAX ? type_names[type] : "invalid";
}

const char *hc_file_mode_str(enum hc_file_mode mode)
{
	return mode < HC_FILE_MODE_MAX ? file_mode_names[mode] : "invalid";
}

enum section_kind { SECTION_AGENT = CFGFILE_SECTION_FIRST, SECTION_RESOURCES, SECTION_CHECK };

struct parse_ctx {
	struct cfgfile file;
	struct hc_config *cfg;
	struct hc_check_conf *check; /* current [check NAME], or NULL */
	unsigned *agent_key_lines;   /* n_keywords */
	unsigned agent_line;         /* of the [agent] header */
	unsigned resources_line;     /* of the [resources] header */
	char section_name[HC_LINE_MAX + 1]; /* as written, for messages */
	size_t checks_alloc;
	unsigned *check_key_lines;   /* n_checks x n_keywords */
};

#define add_error(ctx, line, ...) cfgfile_error(&(ctx)->file, (line), __VA_ARGS__)

/* ---- value parsers: each returns 0 or -EINVAL after adding its own message ---- */

static int parse_duration(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse_ctx *ctx = f->user;
	double v;

	if (cfgvalue_duration_ms(value, CFGVALUE_FRACTION, &v) < 0)
		goto bad;
	if (v < (double)kw->min || v > (double)kw->max) {
		add_error(ctx, ctx->file.lineno, "%s: %s out of range (%" PRId64 "ms to %" PRId64 "s)", kw->name,
			  value, kw->min, kw->max / 1000);
		return -EINVAL;
	}
	*(uint32_t *)field = (uint32_t)llround(v);
	return 0;
bad:
	add_error(ctx, ctx->file.lineno, "%s: bad duration '%s' (a number with ms, s or m)", kw->name, value);
	return -EINVAL;
}

static int parse_uint(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse_ctx *ctx = f->user;
	long v;

	if (cfgvalue_long(value, &v) < 0 || v < kw->min || v > kw->max) {
		add_error(ctx, ctx->file.lineno, "%s: '%s' is not an integer from %" PRId64 " to %" PRId64, kw->name,
			  value, kw->min, kw->max);
		return -EINVAL;
	}
	*(uint32_t *)field = (uint32_t)v;
	return 0;
}

static int parse_port(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	uint32_t v;

	if (parse_uint(f, kw, value, &v) < 0)
		return -EINVAL;
	*(uint16_t *)field = (uint16_t)v;
	return 0;
}

static int parse_double(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse_ctx *ctx = f->user;
	double v;

	if (cfgvalue_real(value, &v) < 0 || v < (double)kw->min || v > (double)kw->max) {
		add_error(ctx, ctx->file.lineno, "%s: '%s' is not a number from %" PRId64 " to %" PRId64, kw->name,
			  value, kw->min, kw->max);
		return -EINVAL;
	}
	*(double *)field = v;
	return 0;
}

static int parse_size(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse_ctx *ctx = f->user;
	unsigned long long v;

	if (cfgvalue_size(value, &v) < 0 || v < (unsigned long long)kw->min || v > (unsigned long long)kw->max) {
		add_error(ctx, ctx->file.lineno,
			  "%s: '%s' is not a size from %" PRId64 " to %" PRId64 " bytes (suffix k or m allowed)",
			  kw->name, value, kw->min, kw->max);
		return -EINVAL;
	}
	*(size_t *)field = (size_t)v;
	return 0;
	return -EINVAL;
}

static int parse_bool(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse_ctx *ctx = f->user;
	int v = cfgvalue_bool(value, CFGVALUE_BOOL_LOOSE);

	if (v >= 0) {
		*(bool *)field = v;
		return 0;
	}
	add_error(ctx, ctx->file.lineno, "%s: '%s' is not yes or no", kw->name, value);
	return -EINVAL;
}

/* Owned string; an empty value is kept as NULL (not set). */
static int parse_string(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	char **dst = field;

	free(*dst);
	*dst = value[0] ? strdup(value) : NULL;
	return value[0] && !*dst ? -ENOMEM : 0;
}

static int parse_abs_path(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse_ctx *ctx = f->user;
	if (value[0] != '/') {
		add_error(ctx, ctx->file.lineno, "%s: '%s' is not an absolute path", kw->name, value);
		return -EINVAL;
	}
	return parse_string(f, kw, value, field);
}

/* Fixed buffer of kw->max bytes (with the NUL). */
static int parse_text(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse_ctx *ctx = f->user;
	if (strlen(value) >= (size_t)kw->max) {
		add_error(ctx, ctx->file.lineno, "%s: longer than %" PRId64 " characters", kw->name, kw->max - 1);
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
static int parse_bytes(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse_ctx *ctx = f->user;
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
			add_error(ctx, ctx->file.lineno, "%s: bad escape at offset %zu (use \\r \\n \\t \\\\ \\xNN)",
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

static int parse_type(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse_ctx *ctx = f->user;
	int i = cfgvalue_enum(value, type_names);

	if (i >= 0) {
		*(enum hc_check_type *)field = (enum hc_check_type)i;
		return 0;
	}
	add_error(ctx, ctx->file.lineno, "type: unknown check type '%s' (http, https, tcp, script, process, file)",
		  value);
	return -EINVAL;
}

static int parse_file_mode(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse_ctx *ctx = f->user;
	int i = cfgvalue_enum(value, file_mode_names);

	if (i >= 0) {
		*(enum hc_file_mode *)field = (enum hc_file_mode)i;
		return 0;
	}
	add_error(ctx, ctx->file.lineno, "mode: '%s' is not exists, exists-fails or content", value);
	return -EINVAL;
}

static int parse_status_range(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse_ctx *ctx = f->user;
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
		add_error(ctx, ctx->file.lineno, "expect_status: '%s' is not a status or range within 100-599", value);
		return -EINVAL;
	}
	c->status_min = (uint16_t)lo;
	c->status_max = (uint16_t)hi;
	return 0;
}

static int parse_method(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse_ctx *ctx = f->user;
	static const char *const methods[] = {"GET", "HEAD", "POST", "OPTIONS"};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(value, methods[i]) == 0)
			return parse_string(f, kw, value, field);
	add_error(ctx, ctx->file.lineno, "method: '%s' is not GET, HEAD, POST or OPTIONS", value);
	return -EINVAL;
}

/* Words separated by blanks; "double quotes" group, \" and \\ escape inside them. */
static int parse_args(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse_ctx *ctx = f->user;
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
			add_error(ctx, ctx->file.lineno, "args: unterminated quote");
			return -EINVAL;
		}
		if (c->n_args == HC_MAX_ARGS) {
			add_error(ctx, ctx->file.lineno, "args: more than %d arguments", HC_MAX_ARGS);
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
static int parse_listen(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse_ctx *ctx = f->user;
	struct hc_config *cfg = ctx->cfg;
	char host[64];
	const char *colon;
	unsigned char addr[16];
	char *end;
	long port;
	size_t hl;
	int family;

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
	if (cfgvalue_ip(host, &family, addr) < 0)
		goto bad;
	if (family == AF_INET ? addr[0] != 127 : memcmp(addr, (unsigned char[16]){[15] = 1}, 16) != 0)
		goto not_loopback;
	strcpy(cfg->listen_host, host);
	cfg->listen_port = (uint16_t)port;
	return 0;
not_loopback:
	add_error(ctx, ctx->file.lineno, "listen: %s is not a loopback address (the agent serves without TLS)", host);
	return -EINVAL;
bad:
	add_error(ctx, ctx->file.lineno, "listen: '%s' is not ADDRESS:PORT with a numeric address", value);
	return -EINVAL;
}

static int parse_socket_path(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse_ctx *ctx = f->user;
	if (value[0] && value[0] != '/') {
		add_error(ctx, ctx->file.lineno, "manager_socket: '%s' is not an absolute path", value);
		return -EINVAL;
	}
	return parse_text(f, kw, value, field);
}

#define TYPE(t) (1u << (t))
#define HTTP_TYPES (TYPE(HC_CHECK_HTTP) | TYPE(HC_CHECK_HTTPS))
#define AGENT(field) .section = SECTION_AGENT, .offset = offsetof(struct hc_config, field)
#define RES(field) .section = SECTION_RESOURCES, .offset = offsetof(struct hc_config, resources.field)
#define CHECK(kinds, field) .section = SECTION_CHECK, .types = (kinds), .offset = offsetof(struct hc_check_conf, field)

/* Every key the file may hold: where, for which check types, parser, default, bounds. */
static const struct cfgfile_keyword keywords[] = {
	{"listen", AGENT(listen_host), .parse = parse_listen, .def = "127.0.0.1:9901"},
	{"manager_socket", AGENT(manager_socket), .parse = parse_socket_path, .def = "/run/fomgr/health.sock",
	 .max = 108},
	{"heartbeat", AGENT(heartbeat_ms), .parse = parse_duration, .def = "1s", .min = 100, .max = 60000},
	{"user", AGENT(user), .parse = parse_text, .max = 64},

	{"enabled", RES(enabled), .parse = parse_bool, .def = "yes"},
	{"interval", RES(interval_ms), .parse = parse_duration, .def = "10s", .min = 1000, .max = 3600000},
	{"cpu_warn_pct", RES(cpu_pct), .parse = parse_double, .def = "90", .max = 100},
	{"mem_warn_pct", RES(mem_pct), .parse = parse_double, .def = "90", .max = 100},
	{"load_warn_per_cpu", RES(load_per_cpu), .parse = parse_double, .def = "2", .max = 1000},
	{"fd_warn_pct", RES(fd_pct), .parse = parse_double, .def = "80", .max = 100},
	{"conn_warn_per_port", RES(conn_per_port), .parse = parse_uint, .def = "0", .max = 100000000},
	{"half_open_warn", RES(half_open), .parse = parse_uint, .def = "0", .max = 100000000},
	{"listen_overflows_warn", RES(listen_overflows), .parse = parse_uint, .def = "1", .max = 100000000},

	{"type", CHECK(0, type), .parse = parse_type},
	{"interval", CHECK(0, interval_ms), .parse = parse_duration, .def = "2s", .min = 10, .max = 3600000},
	{"timeout", CHECK(0, timeout_ms), .parse = parse_duration, .def = "1s", .min = 10, .max = 3600000},
	{"jitter", CHECK(0, jitter_ms), .parse = parse_duration, .max = 3600000},
	{"rise", CHECK(0, rise), .parse = parse_uint, .def = "2", .min = 1, .max = 100},
	{"fall", CHECK(0, fall), .parse = parse_uint, .def = "3", .min = 1, .max = 100},
	{"url", CHECK(HTTP_TYPES, url), .parse = parse_string},
	{"method", CHECK(HTTP_TYPES, method), .parse = parse_method, .def = "GET"},
	{"expect_status", CHECK(HTTP_TYPES, status_min), .parse = parse_status_range, .def = "200-399"},
	{"expect_body", CHECK(HTTP_TYPES, expect_body), .parse = parse_string},
	{"expect_regex", CHECK(HTTP_TYPES, expect_regex), .parse = parse_string},
	{"ca_file", CHECK(TYPE(HC_CHECK_HTTPS), ca_file), .parse = parse_abs_path},
	{"client_cert", CHECK(TYPE(HC_CHECK_HTTPS), client_cert), .parse = parse_abs_path},
	{"client_key", CHECK(TYPE(HC_CHECK_HTTPS), client_key), .parse = parse_abs_path},
	{"host", CHECK(HTTP_TYPES, host), .parse = parse_string},
	{"follow_redirects", CHECK(HTTP_TYPES, follow_redirects), .parse = parse_bool, .def = "no"},
	{"max_body", CHECK(HTTP_TYPES, max_body), .parse = parse_size, .def = "64k", .max = 16 << 20},
	{"max_header", CHECK(HTTP_TYPES, max_header), .parse = parse_size, .def = "16k", .min = 1024, .max = 1 << 20},
	{"cert_expiry_warn_days", CHECK(TYPE(HC_CHECK_HTTPS), cert_expiry_warn_days), .parse = parse_uint, .def = "14",
	 .max = 3650},
	{"address", CHECK(TYPE(HC_CHECK_TCP), address), .parse = parse_string},
	{"port", CHECK(TYPE(HC_CHECK_TCP), port), .parse = parse_port, .min = 1, .max = 65535},
	{"send", CHECK(TYPE(HC_CHECK_TCP), send), .parse = parse_bytes},
	{"expect", CHECK(TYPE(HC_CHECK_TCP) | TYPE(HC_CHECK_FILE), expect), .parse = parse_bytes},
	{"path", CHECK(TYPE(HC_CHECK_SCRIPT) | TYPE(HC_CHECK_FILE), path), .parse = parse_abs_path},
	{"args", CHECK(TYPE(HC_CHECK_SCRIPT), args), .parse = parse_args},
	{"name", CHECK(TYPE(HC_CHECK_PROCESS), process_name), .parse = parse_string},
	{"pidfile", CHECK(TYPE(HC_CHECK_PROCESS), pidfile), .parse = parse_abs_path},
	{"mode", CHECK(TYPE(HC_CHECK_FILE), file_mode), .parse = parse_file_mode, .def = "exists-fails"},
	{"anomaly_k", CHECK(0, anomaly_k), .parse = parse_double, .def = "5", .min = 1, .max = 100},
	{"anomaly_m", CHECK(0, anomaly_m), .parse = parse_uint, .def = "3", .min = 1, .max = 64},
	{"anomaly_fails", CHECK(0, anomaly_fails), .parse = parse_bool, .def = "no"},
};

#define N_KEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

/* ---- sections: seen by the reader, so empty and repeated ones count too ---- */

static int begin_check(struct parse_ctx *ctx, const char *name)
{
	struct hc_config *cfg = ctx->cfg;
	unsigned *lines;

	if (!name_valid(name, HC_NAME_MAX)) {
		add_error(ctx, ctx->file.lineno, "check name '%s' must be 1 to %d of A-Z a-z 0-9 . _ -", name,
			  HC_NAME_MAX - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->n_checks; i++) {
		if (strcmp(cfg->checks[i].name, name) == 0) {
			add_error(ctx, ctx->file.lineno, "duplicate check '%s' (first at line %u)", name,
				  cfg->checks[i].line);
			return -EINVAL;
		}
	}
	if (cfg->n_checks == HC_MAX_CHECKS) {
		add_error(ctx, ctx->file.lineno, "more than %d checks", HC_MAX_CHECKS);
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
	lines = &ctx->check_key_lines[cfg->n_checks * N_KEYWORDS];
	memset(lines, 0, N_KEYWORDS * sizeof(*lines));
	cfg->n_checks++;
	strcpy(ctx->check->name, name);
	ctx->check->line = ctx->file.lineno;
	ctx->check->jitter_ms = UINT32_MAX; /* default: the interval */
	cfgfile_defaults(&ctx->file, SECTION_CHECK, ctx->check);
	ctx->check->type = HC_CHECK_TYPE_MAX;
	cfgfile_section(&ctx->file, SECTION_CHECK, ctx->check, lines);
	return 0;
}

/* Header text between the brackets, already trimmed. */
static void begin_section(struct parse_ctx *ctx, char *header)
{
	char *space;

	ctx->check = NULL;
	cfgfile_section(&ctx->file, CFGFILE_SKIP, NULL, NULL);
	snprintf(ctx->section_name, sizeof(ctx->section_name), "%s", header);
	if (strcmp(header, "agent") == 0) {
		if (ctx->agent_line) {
			add_error(ctx, ctx->file.lineno, "duplicate section [agent] (first at line %u)",
				  ctx->agent_line);
			return;
		}
		ctx->agent_line = ctx->file.lineno;
		cfgfile_section(&ctx->file, SECTION_AGENT, ctx->cfg, ctx->agent_key_lines);
		return;
	}
	if (strcmp(header, "resources") == 0) {
		if (ctx->resources_line) {
			add_error(ctx, ctx->file.lineno, "duplicate section [resources] (first at line %u)",
				  ctx->resources_line);
			return;
		}
		ctx->resources_line = ctx->file.lineno;
		/* rows differ from [agent]'s: one array serves both */
		cfgfile_section(&ctx->file, SECTION_RESOURCES, ctx->cfg, ctx->agent_key_lines);
		return;
	}
	space = strpbrk(header, " \t");
	if (space && (size_t)(space - header) == 5 && strncmp(header, "check", 5) == 0) {
		while (*space == ' ' || *space == '\t')
			space++;
		if (begin_check(ctx, space) == -ENOMEM)
			add_error(ctx, ctx->file.lineno, "out of memory");
		return;
	}
	if (strcmp(header, "check") == 0)
		add_error(ctx, ctx->file.lineno, "section [check] needs a name: [check NAME]");
	else
		add_error(ctx, ctx->file.lineno, "unknown section [%s] (agent, resources, check NAME)", header);
}

/* What the engine refuses, in this file's words. */
static void refuse(struct cfgfile *f, enum cfgfile_refusal what, const char *name, unsigned first)
{
	struct parse_ctx *ctx = f->user;

	switch (what) {
	case CFGFILE_LINE_TOO_LONG:
		add_error(ctx, f->lineno, "line longer than %d characters", HC_LINE_MAX);
		break;
	case CFGFILE_LINE_NUL:
		add_error(ctx, f->lineno, "NUL byte in line");
		break;
	case CFGFILE_KEY_OUTSIDE:
		add_error(ctx, f->lineno, "key '%s' outside a section", name);
		break;
	case CFGFILE_KEY_UNKNOWN:
		add_error(ctx, f->lineno, "unknown key '%s' in [%s]", name, ctx->section_name);
		break;
	case CFGFILE_KEY_DUPLICATE:
		add_error(ctx, f->lineno, "duplicate key '%s' (first at line %u)", name, first);
		break;
	case CFGFILE_KEY_EMPTY: /* empty values are parsed: not set */
		break;
	case CFGFILE_NO_MEMORY:
		add_error(ctx, f->lineno, "out of memory");
		break;
	}
}

/* ---- the reader: syntax checked before libinih ---- */

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

/* Checks one line for the engine; returns what libinih should split, or NULL. */
static char *screen(struct cfgfile *f, char *line)
{
	struct parse_ctx *ctx = f->user;
	char *s, *eq, *colon;

	s = trim(line);
	if (!*s || *s == ';' || *s == '#')
		return NULL;
	if (*s == '[') {
		char *close = strchr(s, ']');

		if (!close || *trim(close + 1) != '\0') {
			add_error(ctx, f->lineno, "section header must be [NAME] alone on its line");
			cfgfile_section(f, CFGFILE_SKIP, NULL, NULL);
			return NULL;
		}
		*close = '\0';
		begin_section(ctx, trim(s + 1));
		return NULL;
	}
	eq = strchr(s, '=');
	colon = strchr(s, ':');
	if (!eq || (colon && colon < eq) || eq == s) {
		add_error(ctx, f->lineno, "expected 'key = value'");
		return NULL;
	}
	return s; /* leading blanks removed: no continuation lines */
}

static const struct cfgfile_ops file_ops = {.screen = screen, .refuse = refuse};

/* ---- validation of the whole file ---- */

static unsigned key_line(struct parse_ctx *ctx, const unsigned *lines, const char *name)
{
	return cfgfile_key_line(&ctx->file, lines, SECTION_CHECK, name);
}

/* A key the type needs; when it was given but refused, that error was enough. */
static void require(struct parse_ctx *ctx, const struct hc_check_conf *c, const unsigned *lines, bool present,
		    const char *key)
{
	if (!present && !key_line(ctx, lines, key))
		add_error(ctx, c->line, "check %s: type %s needs %s", c->name, hc_check_type_str(c->type), key);
}

static void validate_http(struct parse_ctx *ctx, struct hc_check_conf *c, const unsigned *lines)
{
	const char *scheme = c->type == HC_CHECK_HTTPS ? "https://" : "http://";

	require(ctx, c, lines, c->url != NULL, "url");
	if (c->url && (strncasecmp(c->url, scheme, strlen(scheme)) != 0 || !c->url[strlen(scheme)] ||
		       strpbrk(c->url, " \t\r\n")))
		add_error(ctx, key_line(ctx, lines, "url"), "url: '%s' is not a %s URL", c->url, scheme);
	if (c->client_key && !c->client_cert)
		add_error(ctx, key_line(ctx, lines, "client_key"), "client_key needs client_cert");
	if (c->host && (!name_valid(c->host, HC_NAME_MAX) || strchr(c->host, '_')))
		add_error(ctx, key_line(ctx, lines, "host"), "host: '%s' is not a host name", c->host);
	if (c->expect_regex) {
		int rc = regcomp(&c->regex, c->expect_regex, REG_EXTENDED | REG_NOSUB);

		if (rc) {
			char msg[128];

			regerror(rc, &c->regex, msg, sizeof(msg));
			add_error(ctx, key_line(ctx, lines, "expect_regex"), "expect_regex: %s", msg);
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
		add_error(ctx, key_line(ctx, lines, "address"), "address: '%s' is not a numeric IPv4 or IPv6 address",
			  c->address);
	if (c->expect.data && c->expect.len == 0)
		add_error(ctx, key_line(ctx, lines, "expect"), "expect: empty");
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
			add_error(ctx, key_line(ctx, lines, "path"), "path: %s", reason);
		break;
	case HC_CHECK_PROCESS:
		if (!c->process_name && !c->pidfile && !key_line(ctx, lines, "name") &&
		    !key_line(ctx, lines, "pidfile"))
			add_error(ctx, c->line, "check %s: type process needs name or pidfile", c->name);
		if (c->process_name && (strlen(c->process_name) > 15 || strchr(c->process_name, '/')))
			add_error(ctx, key_line(ctx, lines, "name"),
				  "name: '%s' cannot match /proc/PID/comm (at most 15 characters, no '/')",
				  c->process_name);
		break;
	case HC_CHECK_FILE:
		require(ctx, c, lines, c->path != NULL, "path");
		if (c->file_mode == HC_FILE_CONTENT && !c->expect.data)
			add_error(ctx, key_line(ctx, lines, "mode"), "mode content needs expect");
		if (c->file_mode != HC_FILE_CONTENT && c->expect.data)
			add_error(ctx, key_line(ctx, lines, "expect"), "expect needs mode = content");
		break;
	default:
		break;
	}
}

static void validate_check(struct parse_ctx *ctx, struct hc_check_conf *c, const unsigned *lines)
{
	if (c->type == HC_CHECK_TYPE_MAX) {
		if (!key_line(ctx, lines, "type")) /* else its value was refused, and said so */
			add_error(ctx, c->line, "check %s: missing type", c->name);
		return;
	}
	for (size_t i = 0; i < N_KEYWORDS; i++) {
		const struct cfgfile_keyword *kw = &keywords[i];

		if (kw->section == SECTION_CHECK && lines[i] && kw->types && !(kw->types & TYPE(c->type)))
			add_error(ctx, lines[i], "key '%s' does not apply to type %s", kw->name,
				  hc_check_type_str(c->type));
	}
	if (c->jitter_ms == UINT32_MAX)
		c->jitter_ms = c->interval_ms;
	validate_kind(ctx, c, lines);
}

/* An agent that feeds fomgr sends every check in one healthwire line: at most
 * HC_MAX_FED_CHECKS, and every name must fit the line with the others. */
static void validate_report_size(struct parse_ctx *ctx)
{
	size_t total = 64;

	if (!ctx->cfg->manager_socket[0])
		return;
	if (ctx->cfg->n_checks > HC_MAX_FED_CHECKS) {
		add_error(ctx, cfgfile_key_line(&ctx->file, ctx->agent_key_lines, SECTION_AGENT, "manager_socket"),
			  "%zu checks: one health report to fomgr (manager_socket) holds at most %d", ctx->cfg->n_checks,
			  HC_MAX_FED_CHECKS);
		return;
	}
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
		add_error(ctx, cfgfile_key_line(&ctx->file, ctx->agent_key_lines, SECTION_AGENT, "user"),
			  "user: no such user '%s'", cfg->user);
	if (!cfg->n_checks && !ctx->file.errors->n) /* after another error it is only noise */
		add_error(ctx, 0, "no [check NAME] section: an agent with nothing to check reports nothing");
}

int hcconfig_load_buffer(const char *name, const char *buf, size_t len, struct hc_config **out,
			 struct cfgfile_errors *errs)
{
	unsigned agent_key_lines[N_KEYWORDS] = {0};
	struct parse_ctx ctx = {.agent_key_lines = agent_key_lines};
	int rc;

	*out = NULL;
	memset(errs, 0, sizeof(*errs));
	snprintf(errs->file, sizeof(errs->file), "%s", name);
	ctx.file = (struct cfgfile){.ops = &file_ops, .keywords = keywords, .n_keywords = N_KEYWORDS,
				    .max_line = HC_LINE_MAX, .errors = errs, .user = &ctx};
	ctx.cfg = calloc(1, sizeof(*ctx.cfg));
	if (!ctx.cfg)
		return -ENOMEM;
	cfgfile_defaults(&ctx.file, SECTION_AGENT, ctx.cfg);
	cfgfile_defaults(&ctx.file, SECTION_RESOURCES, ctx.cfg);
	rc = cfgfile_run(&ctx.file, buf, len);
	if (rc == -2 || rc == -ENOMEM)
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

int hcconfig_load_file(const char *path, struct hc_config **out, struct cfgfile_errors *errs)
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

void hcconfig_log_errors(const struct cfgfile_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++) {
		if (errs->items[i].line)
			log_err("%s:%u: %s", errs->file, errs->items[i].line, errs->items[i].message);
		else
			log_err("%s: %s", errs->file, errs->items[i].message);
	}
	if (errs->dropped)
		log_err("%s: %zu more errors", errs->file, errs->dropped);
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
