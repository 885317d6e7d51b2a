/* fomgr's configuration file, read with libinih and validated as a whole.
 *
 *   [fomgr]                      ; optional; every key has a default
 *   cpg_group = fomgr            ; CPG group name                    (fomgr)
 *   runtime_dir = /run/fomgr     ; absolute path                     (/run/fomgr)
 *   state_dir = /var/lib/fomgr   ; absolute path                     (/var/lib/fomgr)
 *   health_socket = /run/fomgr/health.sock ; at most 107 bytes   (<runtime_dir>/health.sock)
 *   health_ttl = 5s              ; 100ms to 10m                      (5s)
 *   health_policy = keep         ; keep | fail                       (keep)
 *   garp_count = 5               ; 3 to 100                          (5)
 *   garp_interval = 200ms        ; 10ms to 10s                       (200ms)
 *   arp_probe = 20ms             ; 0 to 1s: RFC 5227 probe alongside a graceful claim's add (20ms)
 *   require_crypto = no          ; yes | no (also true/false, on/off) (no)
 *   control_socket = /run/fomgr/control.sock ; at most 107 bytes (<runtime_dir>/control.sock)
 *   admin_group = fomgr-admin    ; may change state over the control socket (none: root only)
 *   view_group = fomgr-view      ; may read status and events            (none)
 *   status_listen = 127.0.0.1:9900 ; ADDR:PORT, [ADDR]:PORT or off      (127.0.0.1:9900)
 *   status_tls_cert = /etc/fomgr/status.crt ; all three together, and required
 *   status_tls_key = /etc/fomgr/status.key  ;   for a status_listen beyond loopback
 *   status_tls_client_ca = /etc/fomgr/clients-ca.crt ;                   (none)
 *   notify_hook = /etc/fomgr/notify ; executable run on each transition (none)
 *   notify_timeout = 10s         ; 100ms to 10m                          (10s)
 *
 *   [group web]                  ; name: 1 to 63 of A-Z a-z 0-9 _ . -
 *   interface = eth0             ; required; a valid interface name (1 to 15 bytes)
 *   address = 192.0.2.100/24     ; required, repeatable (at most 16 per group);
 *   address = 2001:db8::100/64   ;   IPv4 or IPv6, prefix length required
 *   prefer = node1 node2 node3   ; corosync node names, space or comma separated
 *                                ;   (default: every node, in nodeid order)
 *   failback = auto              ; auto | manual                     (auto)
 *   failback_delay = 0s          ; 0 to 1440m                        (0s)
 *   checks = web_http db_tcp     ; healthcheck check names, at most 32 (none)
 *
 *   [audit]                      ; optional; without it ports are not audited
 *   allow = tcp/22               ; repeatable (at most 64): PROTO/PORT[@ADDR] [process=NAME]
 *   allow = tcp/7777@192.0.2.100 ;   PROTO tcp or udp; ADDR IPv4 or IPv6 (brackets optional)
 *   allow = udp/5405 process=corosync ; NAME as the kernel's comm (1 to 15 bytes)
 *   must_be_closed = tcp/23      ; repeatable (at most 64): PROTO/PORT[@ADDR]
 *   interval = 60s               ; periodic audit: 0 (off) or 1s to 1440m  (60s)
 *   log = /var/log/fomgr/audit.log ; the hash-chained audit log  (/var/log/fomgr/audit.log)
 *   retention_days = 90          ; rotated audit logs older than this go; 0 keeps (90)
 *   retention_mb = 0             ; and the oldest while they exceed this; 0: no limit (0)
 *   policy = warn                ; exposure checks: warn | refuse    (warn)
 *   probe = yes                  ; reachability probes of peers and VIPs (yes)
 *   probe_rate = 20              ; probe connects per second, 1 to 1000 (20)
 *   probe_timeout = 1s           ; 100ms to 10s                      (1s)
 *
 * Durations are an integer and a unit with no space: ms, s or m ("200ms", "5s",
 * "2m"); a bare number is refused (is "5" seconds or milliseconds?), except 0.
 * Comments: a line starting with ';' or '#', or ';' after whitespace on any line.
 * Leading whitespace is ignored, so there are no continuation lines. Keys, section
 * names and values are case-sensitive. Lines are at most CONFIG_MAX_LINE bytes and
 * the file at most CONFIG_MAX_FILE bytes. At least one [group] section is required;
 * every key except address appears at most once per section.
 *
 * The file runs on lib's engine (fo/cfgfile.h), which counts lines and feeds
 * libinih (Debian's has a 200-byte line buffer and no line numbers); libinih splits
 * "key = value". This file strips comments and handles section headers itself
 * (libinih silently truncates long section names), words every message and checks
 * the whole file. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "fo/cfgvalue.h"
#include "fo/name.h"

#define CONFIG_MAX_FILE (1024 * 1024)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define LIST_SEPARATORS " \t,"

_Static_assert(sizeof(enum config_failback) == sizeof(unsigned), "enums are stored as unsigned");
_Static_assert(sizeof(enum config_health_policy) == sizeof(unsigned), "enums are stored as unsigned");
_Static_assert(sizeof(enum config_audit_policy) == sizeof(unsigned), "enums are stored as unsigned");

enum section_kind { SECTION_FOMGR = CFGFILE_SECTION_FIRST, SECTION_GROUP, SECTION_AUDIT };

#define FOMGR_FIELD(f) .section = SECTION_FOMGR, .offset = offsetof(struct config, f), \
		       .size = sizeof(((struct config *)0)->f)
#define AUDIT_FIELD(f) .section = SECTION_AUDIT, .offset = offsetof(struct config, audit.f), \
		       .size = sizeof(((struct config *)0)->audit.f)
#define GROUP_FIELD(f) .section = SECTION_GROUP, .offset = offsetof(struct config_group, f), \
		       .size = sizeof(((struct config_group *)0)->f)

static int parse_name(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field);
static int parse_path(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field);
static int parse_duration(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field);
static int parse_uint(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field);
static int parse_enum(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field);
static int parse_bool(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field);
static int parse_ifname(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field);
static int parse_address(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field);
static int parse_prefer(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field);
static int parse_checks(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field);
static int parse_allow(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field);
static int parse_closed(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field);
static int parse_audit_interval(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field);
static const char *const audit_policy_names[CONFIG_AUDIT_POLICY_MAX + 1] = {"warn", "refuse", NULL};
static int parse_listen(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field);

static const char *const failback_names[CONFIG_FAILBACK_MAX + 1] = {"auto", "manual", NULL};
static const char *const health_policy_names[CONFIG_HEALTH_MAX + 1] = {"keep", "fail", NULL};

static const struct cfgfile_keyword keywords[] = {
	{"cpg_group", FOMGR_FIELD(cpg_group), .parse = parse_name, .def = "fomgr"},
	{"runtime_dir", FOMGR_FIELD(runtime_dir), .parse = parse_path, .def = "/run/fomgr"},
	{"state_dir", FOMGR_FIELD(state_dir), .parse = parse_path, .def = "/var/lib/fomgr"},
	{"health_socket", FOMGR_FIELD(health_socket), .parse = parse_path,
	 .max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1},
	{"health_ttl", FOMGR_FIELD(health_ttl_ms), .parse = parse_duration, .def = "5s",
	 .min = 100, .max = 10 * 60 * 1000},
	{"health_policy", FOMGR_FIELD(health_policy), .parse = parse_enum, .def = "keep",
	 .names = health_policy_names},
	{"garp_count", FOMGR_FIELD(garp_count), .parse = parse_uint, .def = "5", .min = 3, .max = 100},
	{"garp_interval", FOMGR_FIELD(garp_interval_ms), .parse = parse_duration, .def = "200ms",
	 .min = 10, .max = 10 * 1000},
	{"arp_probe", FOMGR_FIELD(arp_probe_ms), .parse = parse_duration, .def = "20ms", .min = 0, .max = 1000},
	{"require_crypto", FOMGR_FIELD(require_crypto), .parse = parse_bool, .def = "no"},
	{"control_socket", FOMGR_FIELD(control_socket), .parse = parse_path,
	 .max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1},
	{"admin_group", FOMGR_FIELD(admin_group), .parse = parse_name},
	{"view_group", FOMGR_FIELD(view_group), .parse = parse_name},
	{"status_listen", FOMGR_FIELD(status_listen), .parse = parse_listen, .def = "127.0.0.1:9900"},
	{"status_tls_cert", FOMGR_FIELD(status_tls_cert), .parse = parse_path},
	{"status_tls_key", FOMGR_FIELD(status_tls_key), .parse = parse_path},
	{"status_tls_client_ca", FOMGR_FIELD(status_tls_client_ca), .parse = parse_path},
	{"notify_hook", FOMGR_FIELD(notify_hook), .parse = parse_path},
	{"notify_timeout", FOMGR_FIELD(notify_timeout_ms), .parse = parse_duration, .def = "10s",
	 .min = 100, .max = 10 * 60 * 1000},
	{"interface", GROUP_FIELD(interface), .parse = parse_ifname, .flags = CFGFILE_KW_REQUIRED},
	{"address", GROUP_FIELD(addrs), .parse = parse_address, .flags = CFGFILE_KW_REQUIRED | CFGFILE_KW_REPEATABLE},
	{"prefer", GROUP_FIELD(prefer), .parse = parse_prefer},
	{"failback", GROUP_FIELD(failback), .parse = parse_enum, .def = "auto", .names = failback_names},
	{"failback_delay", GROUP_FIELD(failback_delay_ms), .parse = parse_duration, .def = "0s",
	 .min = 0, .max = 24 * 60 * 60 * 1000},
	{"checks", GROUP_FIELD(checks), .parse = parse_checks},
	{"allow", AUDIT_FIELD(allow), .parse = parse_allow, .flags = CFGFILE_KW_REPEATABLE},
	{"must_be_closed", AUDIT_FIELD(closed), .parse = parse_closed, .flags = CFGFILE_KW_REPEATABLE},
	{"interval", AUDIT_FIELD(interval_ms), .parse = parse_audit_interval, .def = "60s",
	 .min = 0, .max = 24 * 60 * 60 * 1000},
	{"log", AUDIT_FIELD(log), .parse = parse_path, .def = "/var/log/fomgr/audit.log"},
	{"retention_days", AUDIT_FIELD(retention_days), .parse = parse_uint, .def = "90", .min = 0, .max = 36500},
	{"retention_mb", AUDIT_FIELD(retention_mb), .parse = parse_uint, .def = "0", .min = 0, .max = 1000000},
	{"policy", AUDIT_FIELD(policy), .parse = parse_enum, .def = "warn", .names = audit_policy_names},
	{"probe", AUDIT_FIELD(probe), .parse = parse_bool, .def = "yes"},
	{"probe_rate", AUDIT_FIELD(probe_rate), .parse = parse_uint, .def = "20", .min = 1, .max = 1000},
	{"probe_timeout", AUDIT_FIELD(probe_timeout_ms), .parse = parse_duration, .def = "1s",
	 .min = 100, .max = 10 * 1000},
};
#define N_KEYWORDS ARRAY_SIZE(keywords)

/* Where each key of a section was first set, for duplicates and missing keys. */
struct section_meta {
	unsigned header_line;
	unsigned key_line[N_KEYWORDS];
};

struct parse {
	struct cfgfile file;
	const struct config_nodelist *nodes; /* NULL: node names are not checked */
	bool seen_group_header;
	struct config *config; /* the draft, returned only when no error was found */
	struct config_group *group;  /* when the section is SECTION_GROUP */
	struct section_meta *meta;   /* of the current section */
	struct section_meta fomgr_meta;
	struct section_meta audit_meta;
	struct section_meta group_meta[CONFIG_MAX_GROUPS];
	unsigned addr_line[CONFIG_MAX_GROUPS][CONFIG_MAX_ADDRS];
};

#define parse_error_at(p, line, ...) cfgfile_error(&(p)->file, (line), __VA_ARGS__)
#define parse_error(p, ...) cfgfile_error(&(p)->file, (p)->file.lineno, __VA_ARGS__)

/* ---- small string helpers ---- */

static char *skip_space(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static void rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* inih's rules: ';' or '#' first on a line, or ';' after whitespace anywhere. */
static void strip_comment(char *s)
{
	if (*s == ';' || *s == '#') {
		*s = '\0';
		return;
	}
	for (size_t i = 1; s[0] && s[i]; i++) {
		if (s[i] == ';' && isspace((unsigned char)s[i - 1])) {
			s[i] = '\0';
			return;
		}
	}
}

static const char *section_name(const struct parse *p, char *buf, size_t size)
{
	if (p->file.section == SECTION_GROUP)
		snprintf(buf, size, "[group %s]", p->group->name);
	else
		snprintf(buf, size, p->file.section == SECTION_AUDIT ? "[audit]" : "[fomgr]");
	return buf;
}

/* ---- value parsers ---- */

static int parse_name(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse *p = f->user;
	if (!name_valid(value, CONFIG_NAME_MAX)) {
		parse_error(p, "bad %s '%s': " NAME_RULE, kw->name, value);
		return -EINVAL;
	}
	snprintf(field, kw->size, "%s", value);
	return 0;
}

/* "/run/fomgr/" is "/run/fomgr", so that paths built from it read well. */
static void trim_slashes(char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
}

static int parse_path(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse *p = f->user;
	size_t max = kw->max ? (size_t)kw->max : kw->size - 1;

	if (value[0] != '/') {
		parse_error(p, "bad %s '%s': not an absolute path", kw->name, value);
		return -EINVAL;
	}
	for (const char *c = value; *c; c++) {
		if (iscntrl((unsigned char)*c)) {
			parse_error(p, "bad %s: control character in path", kw->name);
			return -EINVAL;
		}
	}
	if (strlen(value) > max) {
		parse_error(p, "bad %s: longer than %zu bytes", kw->name, max);
		return -EINVAL;
	}
	snprintf(field, kw->size, "%s", value);
	trim_slashes(field);
	return 0;
}

static const char *format_duration(uint32_t ms, char *buf, size_t size)
{
	if (ms == 0)
		snprintf(buf, size, "0s");
	else if (ms % 60000 == 0)
		snprintf(buf, size, "%" PRIu32 "m", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, size, "%" PRIu32 "s", ms / 1000);
	else
		snprintf(buf, size, "%" PRIu32 "ms", ms);
	return buf;
}

static int parse_duration(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse *p = f->user;
	char lo[16], hi[16];
	double ms;
	uint32_t v;
	int r = cfgvalue_duration_ms(value, CFGVALUE_BARE_ZERO, &ms);

	if (r == -EINVAL) {
		parse_error(p, "bad %s '%s': use an integer and a unit: ms, s or m (e.g. 5s)", kw->name,
			    value);
		return r;
	}
	if (r < 0 || ms < (double)kw->min || ms > (double)kw->max) {
		parse_error(p, "%s '%s' out of range (%s to %s)", kw->name, value,
			    format_duration((uint32_t)kw->min, lo, sizeof(lo)),
			    format_duration((uint32_t)kw->max, hi, sizeof(hi)));
		return -ERANGE;
	}
	v = (uint32_t)ms;
	memcpy(field, &v, sizeof(v));
	return 0;
}

static int parse_uint(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse *p = f->user;
	const char *s = value;
	uint64_t n;
	uint32_t v;
	int r = cfgvalue_digits(&s, &n);

	if (r == -EINVAL || *s != '\0') {
		parse_error(p, "bad %s '%s': not a number", kw->name, value);
		return -EINVAL;
	}
	if (r < 0 || (int64_t)n < kw->min || (int64_t)n > kw->max) {
		parse_error(p, "%s '%s' out of range (%" PRId64 " to %" PRId64 ")", kw->name, value, kw->min,
			    kw->max);
		return -ERANGE;
	}
	v = (uint32_t)n;
	memcpy(field, &v, sizeof(v));
	return 0;
}

static int parse_enum(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse *p = f->user;
	char expected[80];
	int i = cfgvalue_enum(value, kw->names);

	if (i >= 0) {
		unsigned v = (unsigned)i;

		memcpy(field, &v, sizeof(v));
		return 0;
	}
	cfgvalue_join(expected, sizeof(expected), kw->names);
	parse_error(p, "bad %s '%s': expected %s", kw->name, value, expected);
	return -EINVAL;
}

static int parse_bool(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse *p = f->user;
	int v = cfgvalue_bool(value, 0);

	if (v < 0) {
		parse_error(p, "bad %s '%s': expected yes or no", kw->name, value);
		return -EINVAL;
	}
	memcpy(field, &v, sizeof(v));
	return 0;
}

/* The kernel's dev_valid_name(). */
static int parse_ifname(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse *p = f->user;
	size_t n = strlen(value);
	bool ok = n > 0 && n < IF_NAMESIZE && strcmp(value, ".") != 0 && strcmp(value, "..") != 0;

	for (const char *c = value; ok && *c; c++)
		ok = *c != '/' && *c != ':' && !isspace((unsigned char)*c) && isprint((unsigned char)*c);
	if (!ok) {
		parse_error(p, "bad interface name '%s': 1 to %d characters, no '/', ':' or spaces", value,
			    IF_NAMESIZE - 1);
		return -EINVAL;
	}
	snprintf(field, kw->size, "%s", value);
	return 0;
}

/* "127.0.0.1:9900", "[::1]:9900" or "off". IPv6 needs the brackets, so that the
 * port is never taken for the last group of the address. */
static int parse_listen(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse *p = f->user;
	struct config_listen l = {0};
	char host[INET6_ADDRSTRLEN + 2];
	const char *port, *s;
	uint64_t n;
	size_t hlen;

	if (strcmp(value, "off") == 0) {
		memcpy(field, &l, sizeof(l));
		return 0;
	}
	port = strrchr(value, ':');
	hlen = port ? (size_t)(port - value) : 0;
	if (!port || hlen == 0 || hlen >= sizeof(host) || strlen(value) >= sizeof(l.text))
		goto bad;
	memcpy(host, value, hlen);
	host[hlen] = '\0';
	if (host[0] == '[' && host[hlen - 1] == ']') {
		struct in6_addr v6;

		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &v6) != 1)
			goto bad;
		l.family = AF_INET6;
		inet_ntop(AF_INET6, &v6, l.addr, sizeof(l.addr));
		l.loopback = IN6_IS_ADDR_LOOPBACK(&v6);
	} else {
		struct in_addr v4;

		if (inet_pton(AF_INET, host, &v4) != 1)
			goto bad;
		l.family = AF_INET;
		inet_ntop(AF_INET, &v4, l.addr, sizeof(l.addr));
		l.loopback = (ntohl(v4.s_addr) >> 24) == 127;
	}
	s = port + 1;
	if (cfgvalue_digits(&s, &n) < 0 || *s != '\0' || n == 0 || n > 65535) {
		parse_error(p, "bad %s '%s': port must be 1 to 65535", kw->name, value);
		return -EINVAL;
	}
	l.port = (uint16_t)n;
	snprintf(l.text, sizeof(l.text), "%s", value);
	memcpy(field, &l, sizeof(l));
	return 0;
bad:
	parse_error(p, "bad %s '%s': expected ADDR:PORT, [IPV6]:PORT or off", kw->name, value);
	return -EINVAL;
}

/* ---- addresses ---- */

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static bool host_bits_all(const struct config_addr *a, int bit)
{
	const uint8_t *b = (const uint8_t *)&a->addr;
	size_t nbits = addr_len(a->family) * 8;

	for (size_t i = a->prefixlen; i < nbits; i++)
		if (((b[i / 8] >> (7 - i % 8)) & 1) != bit)
			return false;
	return true;
}

static const char *addr_unusable(const struct config_addr *a)
{
	const uint8_t *b = (const uint8_t *)&a->addr;

	if (a->family == AF_INET) {
		if (b[0] == 0 || b[0] == 127 || b[0] >= 224)
			return "not a unicast address";
		if (a->prefixlen <= 30 && host_bits_all(a, 0))
			return "network address not allowed";
		if (a->prefixlen <= 30 && host_bits_all(a, 1))
			return "broadcast address not allowed";
		return NULL;
	}
	if (b[0] == 0xff || IN6_IS_ADDR_UNSPECIFIED(&a->addr.v6) || IN6_IS_ADDR_LOOPBACK(&a->addr.v6))
		return "not a unicast address";
	if (a->prefixlen <= 126 && host_bits_all(a, 0))
		return "subnet-router anycast address not allowed";
	return NULL;
}

/* Fills *a from "address/prefix"; returns NULL or why it is refused. */
static const char *addr_parse(const char *value, struct config_addr *a)
{
	char text[sizeof(a->text)];
	char *slash;
	const char *s;
	uint64_t prefix;

	if (strlen(value) >= sizeof(text))
		return "not an IPv4 or IPv6 address";
	snprintf(text, sizeof(text), "%s", value);
	slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	if (cfgvalue_ip(text, &a->family, &a->addr) < 0)
		return "not an IPv4 or IPv6 address";
	if (!slash)
		return a->family == AF_INET ? "missing prefix length (e.g. 192.0.2.100/24)"
					    : "missing prefix length (e.g. 2001:db8::100/64)";
	s = slash + 1;
	if (slash[1] == '0' || cfgvalue_digits(&s, &prefix) < 0 || *s != '\0' || prefix == 0 ||
	    prefix > addr_len(a->family) * 8)
		return a->family == AF_INET ? "prefix length must be 1 to 32" : "prefix length must be 1 to 128";
	a->prefixlen = (unsigned)prefix;
	snprintf(a->text, sizeof(a->text), "%s", value);
	return addr_unusable(a);
}

static bool addr_same(const struct config_addr *a, const struct config_addr *b)
{
	return a->family == b->family && memcmp(&a->addr, &b->addr, addr_len(a->family)) == 0;
}

/* Reports an address already configured in any group (the current one included). */
static bool addr_duplicate(struct parse *p, const struct config_addr *a)
{
	for (size_t g = 0; g < p->config->n_groups; g++) {
		const struct config_group *group = &p->config->groups[g];

		for (size_t i = 0; i < group->n_addrs; i++) {
			if (addr_same(a, &group->addrs[i])) {
				parse_error(p, "duplicate address '%s' (already in group '%s' on line %u)", a->text,
					    group->name, p->addr_line[g][i]);
				return true;
			}
		}
	}
	return false;
}

static int parse_address(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse *p = f->user;
	struct config_group *g = p->group;
	size_t gi = (size_t)(g - p->config->groups);
	struct config_addr a = {0};
	const char *why = addr_parse(value, &a);

	if (why) {
		parse_error(p, "bad address '%s': %s", value, why);
		return -EINVAL;
	}
	if (addr_duplicate(p, &a))
		return -EEXIST;
	if (g->n_addrs == CONFIG_MAX_ADDRS) {
		parse_error(p, "too many addresses in group '%s' (at most %d)", g->name, CONFIG_MAX_ADDRS);
		return -E2BIG;
	}
	p->addr_line[gi][g->n_addrs] = p->file.lineno;
	g->addrs[g->n_addrs++] = a;
	return 0;
}

/* ---- name lists: prefer and checks ---- */

static bool node_known(const struct config_nodelist *nodes, const char *name)
{
	for (size_t i = 0; i < nodes->n_nodes; i++)
		if (strcmp(nodes->nodes[i].name, name) == 0)
			return true;
	return false;
}

/* "unknown node 'x' (corosync nodelist has: a b c)", the list cut to fit. */
static void report_unknown_node(struct parse *p, const char *name)
{
	char list[120] = "";
	size_t used = 0;

	if (p->nodes->n_nodes == 0) {
		parse_error(p, "unknown node '%s' (corosync nodelist is empty)", name);
		return;
	}
	for (size_t i = 0; i < p->nodes->n_nodes; i++) {
		const char *node = p->nodes->nodes[i].name;
		size_t need = strlen(node) + (i ? 1 : 0);

		if (used + need + sizeof(" ...") > sizeof(list)) {
			memcpy(list + used, " ...", sizeof(" ..."));
			break;
		}
		snprintf(list + used, sizeof(list) - used, "%s%s", i ? " " : "", node);
		used += need;
	}
	parse_error(p, "unknown node '%s' (corosync nodelist has: %s)", name, list);
}

struct name_list {
	const char *what;  /* "node", "check" */
	size_t max;
	size_t *n;
	char (*names)[CONFIG_NAME_MAX];
};

/* Adds each word of value to list; what may be refused: bad names, duplicates, too
 * many, and (for nodes, with a nodelist) unknown nodes. */
static int parse_name_list(struct parse *p, const struct name_list *list, const char *value, bool is_node)
{
	char buf[CONFIG_MAX_LINE + 1], *save = NULL;
	int ret = 0;

	snprintf(buf, sizeof(buf), "%s", value);
	for (char *w = strtok_r(buf, LIST_SEPARATORS, &save); w; w = strtok_r(NULL, LIST_SEPARATORS, &save)) {
		bool dup = false;

		for (size_t i = 0; i < *list->n && !dup; i++)
			dup = strcmp(list->names[i], w) == 0;
		if (!name_valid(w, CONFIG_NAME_MAX))
			parse_error(p, "bad %s name '%s': " NAME_RULE, list->what, w);
		else if (dup)
			parse_error(p, "duplicate %s '%s'", list->what, w);
		else if (is_node && p->nodes && !node_known(p->nodes, w))
			report_unknown_node(p, w);
		else if (*list->n == list->max)
			parse_error(p, "too many %ss in group '%s' (at most %zu)", list->what, p->group->name,
				    list->max);
		else {
			snprintf(list->names[(*list->n)++], CONFIG_NAME_MAX, "%s", w);
			continue;
		}
		ret = -EINVAL;
	}
	return ret;
}

static int parse_prefer(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse *p = f->user;
	struct name_list list = {"node", CONFIG_MAX_NODES, &p->group->n_prefer, p->group->prefer};

	return parse_name_list(p, &list, value, true);
}

static int parse_checks(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse *p = f->user;
	struct name_list list = {"check", CONFIG_MAX_CHECKS, &p->group->n_checks, p->group->checks};

	return parse_name_list(p, &list, value, false);
}

/* ---- [audit]: port rules ---- */

/* "ADDR" or "[ADDR]" after the '@' of a rule. */
static bool rule_addr_parse(const char *text, struct config_port_rule *r)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(text);

	if (n >= sizeof(buf))
		return false;
	if (text[0] == '[' && n > 2 && text[n - 1] == ']') {
		text++;
		n -= 2;
	}
	memcpy(buf, text, n);
	buf[n] = '\0';
	return cfgvalue_ip(buf, &r->family, &r->addr) == 0;
}

/* "PROTO/PORT[@ADDR]"; NULL when valid, else why not. */
static const char *rule_spec_parse(const char *spec, struct config_port_rule *r)
{
	const char *s, *at = strchr(spec, '@');
	uint64_t port;

	if (strncmp(spec, "tcp/", 4) == 0)
		r->proto = IPPROTO_TCP;
	else if (strncmp(spec, "udp/", 4) == 0)
		r->proto = IPPROTO_UDP;
	else
		return "expected tcp/PORT or udp/PORT";
	s = spec + 4;
	if (cfgvalue_digits(&s, &port) < 0 || (*s != '\0' && *s != '@') || port == 0 || port > 65535)
		return "port must be 1 to 65535";
	r->port = (uint16_t)port;
	if (at && !rule_addr_parse(at + 1, r))
		return "bad address after '@'";
	return NULL;
}

/* The options after the spec: only process=NAME, and only where allowed. */
static const char *rule_options_parse(char *opts, struct config_port_rule *r, bool allow_process)
{
	char *save = NULL;

	for (char *w = strtok_r(opts, LIST_SEPARATORS, &save); w; w = strtok_r(NULL, LIST_SEPARATORS, &save)) {
		size_t n;

		if (strncmp(w, "process=", 8) != 0)
			return "unknown option (expected process=NAME)";
		if (!allow_process)
			return "process= only applies to allow";
		if (r->process[0])
			return "process= given twice";
		n = strlen(w + 8);
		if (n == 0 || n >= CONFIG_COMM_LEN)
			return "process name must be 1 to 15 bytes";
		memcpy(r->process, w + 8, n + 1);
	}
	return NULL;
}

static bool rule_same_socket(const struct config_port_rule *a, const struct config_port_rule *b)
{
	return a->proto == b->proto && a->port == b->port && a->family == b->family &&
	       (a->family == 0 || memcmp(&a->addr, &b->addr, a->family == AF_INET ? 4 : 16) == 0);
}

static const char *rule_conflict(const struct config_audit *a, const struct config_port_rule *r, bool closed)
{
	const struct config_port_rule *same = closed ? a->closed : a->allow;
	const struct config_port_rule *other = closed ? a->allow : a->closed;
	size_t n_same = closed ? a->n_closed : a->n_allow, n_other = closed ? a->n_allow : a->n_closed;

	for (size_t i = 0; i < n_same; i++)
		if (rule_same_socket(&same[i], r) && strcmp(same[i].process, r->process) == 0)
			return "duplicate";
	for (size_t i = 0; i < n_other; i++)
		if (rule_same_socket(&other[i], r))
			return closed ? "also allowed" : "also in must_be_closed";
	return NULL;
}

static int parse_port_rule(struct parse *p, const struct cfgfile_keyword *kw, const char *value, bool closed)
{
	struct config_audit *a = &p->config->audit;
	struct config_port_rule r = {0};
	char buf[CONFIG_MAX_LINE + 1], *opts;
	const char *why;

	snprintf(buf, sizeof(buf), "%s", value);
	opts = buf + strcspn(buf, LIST_SEPARATORS);
	if (*opts)
		*opts++ = '\0';
	why = rule_spec_parse(buf, &r);
	if (!why)
		why = rule_options_parse(opts, &r, !closed);
	if (!why && strlen(value) >= sizeof(r.text))
		why = "too long";
	if (!why)
		why = rule_conflict(a, &r, closed);
	if (!why && (closed ? a->n_closed : a->n_allow) == CONFIG_MAX_AUDIT_RULES)
		why = "too many rules (at most 64)";
	if (why) {
		parse_error(p, "bad %s '%s': %s", kw->name, value, why);
		return -EINVAL;
	}
	snprintf(r.text, sizeof(r.text), "%s", value);
	if (closed)
		a->closed[a->n_closed++] = r;
	else
		a->allow[a->n_allow++] = r;
	return 0;
}

static int parse_allow(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	return parse_port_rule(f->user, kw, value, false);
}

static int parse_closed(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	return parse_port_rule(f->user, kw, value, true);
}

/* 0 turns the periodic audit off; otherwise at least a second. */
static int parse_audit_interval(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct parse *p = f->user;
	uint32_t ms;
	int r = parse_duration(f, kw, value, &ms);

	if (r < 0)
		return r;
	if (ms > 0 && ms < 1000) {
		parse_error(p, "%s '%s' out of range (0 or 1s to 1440m)", kw->name, value);
		return -ERANGE;
	}
	memcpy(field, &ms, sizeof(ms));
	return 0;
}

/* ---- keys and sections ---- */

static void report_unknown_key(struct parse *p, const char *name)
{
	const struct cfgfile_keyword *elsewhere = cfgfile_keyword(&p->file, CFGFILE_NONE, name);
	char where[CONFIG_NAME_MAX + 16];

	section_name(p, where, sizeof(where));
	if (elsewhere)
		parse_error(p, "unknown key '%s' in %s (it belongs in %s)", name, where,
			    elsewhere->section == SECTION_FOMGR   ? "[fomgr]"
			    : elsewhere->section == SECTION_AUDIT ? "[audit]"
								  : "[group NAME]");
	else
		parse_error(p, "unknown key '%s' in %s", name, where);
}

/* What the engine refuses, in this file's words. */
static void refuse(struct cfgfile *f, enum cfgfile_refusal what, const char *name, unsigned first)
{
	struct parse *p = f->user;

	switch (what) {
	case CFGFILE_LINE_TOO_LONG:
		parse_error(p, "line too long (more than %d bytes)", CONFIG_MAX_LINE);
		break;
	case CFGFILE_LINE_NUL:
		parse_error(p, "NUL byte in line");
		break;
	case CFGFILE_KEY_OUTSIDE:
		parse_error(p, "key '%s' outside any section", name);
		break;
	case CFGFILE_KEY_UNKNOWN:
		report_unknown_key(p, name);
		break;
	case CFGFILE_KEY_DUPLICATE:
		parse_error(p, "duplicate key '%s' (first set on line %u)", name, first);
		break;
	case CFGFILE_KEY_EMPTY:
		parse_error(p, "missing value for '%s'", name);
		break;
	case CFGFILE_NO_MEMORY:
		parse_error(p, "out of memory");
		break;
	}
}

/* Ends the current section: a group must have every required key. */
static void section_close(struct parse *p)
{
	if (p->file.section == SECTION_GROUP) {
		for (size_t i = 0; i < N_KEYWORDS; i++)
			if (keywords[i].section == SECTION_GROUP && (keywords[i].flags & CFGFILE_KW_REQUIRED) &&
			    !p->meta->key_line[i])
				parse_error_at(p, p->meta->header_line, "group '%s' has no %s", p->group->name,
					       keywords[i].name);
	}
	cfgfile_section(&p->file, CFGFILE_SKIP, NULL, NULL);
}

static void section_begin(struct parse *p, enum section_kind kind, struct section_meta *meta, void *base)
{
	p->meta = meta;
	meta->header_line = p->file.lineno;
	cfgfile_section(&p->file, kind, base, meta->key_line);
}

static void section_fomgr(struct parse *p)
{
	if (p->fomgr_meta.header_line) {
		parse_error(p, "duplicate section [fomgr] (first on line %u)", p->fomgr_meta.header_line);
		return;
	}
	section_begin(p, SECTION_FOMGR, &p->fomgr_meta, p->config);
}

static void section_audit(struct parse *p)
{
	if (p->audit_meta.header_line) {
		parse_error(p, "duplicate section [audit] (first on line %u)", p->audit_meta.header_line);
		return;
	}
	section_begin(p, SECTION_AUDIT, &p->audit_meta, p->config);
	p->config->audit.present = 1;
}

static void section_group(struct parse *p, const char *name)
{
	struct config *c = p->config;
	const struct config_group *old = config_group_find(c, name);

	p->seen_group_header = true;
	if (*name == '\0')
		parse_error(p, "missing group name in [group]");
	else if (!name_valid(name, CONFIG_NAME_MAX))
		parse_error(p, "bad group name '%s': " NAME_RULE, name);
	else if (old)
		parse_error(p, "duplicate group '%s' (first on line %u)", name,
			    p->group_meta[old - c->groups].header_line);
	else if (c->n_groups == CONFIG_MAX_GROUPS)
		parse_error(p, "too many groups (at most %d)", CONFIG_MAX_GROUPS);
	else {
		p->group = &c->groups[c->n_groups];
		snprintf(p->group->name, sizeof(p->group->name), "%s", name);
		cfgfile_defaults(&p->file, SECTION_GROUP, p->group);
		section_begin(p, SECTION_GROUP, &p->group_meta[c->n_groups++], p->group);
	}
}

/* s starts with '['; comments are already stripped. */
static void section_header(struct parse *p, char *s)
{
	char *end = strchr(s, ']');

	section_close(p);
	if (!end) {
		parse_error(p, "section header without closing ']'");
		return;
	}
	if (end[1] != '\0') {
		parse_error(p, "unexpected text after section header");
		return;
	}
	*end = '\0';
	s = skip_space(s + 1);
	rstrip(s);
	if (strcmp(s, "fomgr") == 0)
		section_fomgr(p);
	else if (strncmp(s, "group", 5) == 0 && (s[5] == '\0' || isspace((unsigned char)s[5])))
		section_group(p, skip_space(s + 5));
	else if (strcmp(s, "audit") == 0)
		section_audit(p);
	else
		parse_error(p, "unknown section [%s] (expected [fomgr], [audit] or [group NAME])", s);
}

/* One line for the engine: returns the key line to split, or NULL when the line
 * was blank, a comment, a section header or refused. */
static char *screen(struct cfgfile *f, char *s)
{
	struct parse *p = f->user;

	s = skip_space(s);
	strip_comment(s);
	rstrip(s);
	if (*s == '\0')
		return NULL;
	if (*s == '[') {
		section_header(p, s);
		return NULL;
	}
	if (!strpbrk(s, "=:")) {
		parse_error(p, "expected 'key = value' or '[section]'");
		return NULL;
	}
	return s;
}

static const struct cfgfile_ops file_ops = {.screen = screen, .refuse = refuse};

/* ---- whole-file checks and the result ---- */

/* The line where a [fomgr] key was set, 0 if it was not. */
static unsigned key_line(const struct parse *p, const char *name)
{
	return cfgfile_key_line(&p->file, p->fomgr_meta.key_line, SECTION_FOMGR, name);
}

static void default_health_socket(struct parse *p)
{
	const struct cfgfile_keyword *kw = cfgfile_keyword(&p->file, SECTION_FOMGR, "health_socket");
	struct config *c = p->config;
	size_t len = strlen(c->runtime_dir) + strlen("/health.sock");

	if (len > (size_t)kw->max) {
		parse_error_at(p, key_line(p, "runtime_dir"),
			       "runtime_dir too long for the default health_socket; set health_socket");
		return;
	}
	/* Built by hand: the length is checked above, and snprintf would make gcc warn. */
	memcpy(c->health_socket, c->runtime_dir, strlen(c->runtime_dir));
	memcpy(c->health_socket + strlen(c->runtime_dir), "/health.sock", sizeof("/health.sock"));
}

static void default_control_socket(struct parse *p)
{
	const struct cfgfile_keyword *kw = cfgfile_keyword(&p->file, SECTION_FOMGR, "control_socket");
	struct config *c = p->config;
	size_t len = strlen(c->runtime_dir);

	if (len + strlen("/control.sock") > (size_t)kw->max) {
		parse_error_at(p, key_line(p, "runtime_dir"),
			       "runtime_dir too long for the default control_socket; set control_socket");
		return;
	}
	memcpy(c->control_socket, c->runtime_dir, len);
	memcpy(c->control_socket + len, "/control.sock", sizeof("/control.sock"));
}

/* Remote status is read-only, but still only for clients holding a certificate
 * the operator's CA signed: no listener beyond loopback without all three. */
static void check_status_tls(struct parse *p)
{
	static const char *const keys[] = {"status_tls_cert", "status_tls_key", "status_tls_client_ca"};
	const struct config *c = p->config;
	const char *values[] = {c->status_tls_cert, c->status_tls_key, c->status_tls_client_ca};
	unsigned first = 0;
	size_t set = 0;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!values[i][0])
			continue;
		set++;
		if (!first || key_line(p, keys[i]) < first)
			first = key_line(p, keys[i]);
	}
	if (set && set < ARRAY_SIZE(keys))
		parse_error_at(p, first, "status_tls_cert, status_tls_key and status_tls_client_ca go together");
	else if (!set && c->status_listen.family && !c->status_listen.loopback)
		parse_error_at(p, key_line(p, "status_listen"),
			       "status_listen '%s' is beyond loopback: set status_tls_cert, status_tls_key "
			       "and status_tls_client_ca",
			       c->status_listen.text);
}

static void check_whole(struct parse *p)
{
	section_close(p);
	if (!key_line(p, "health_socket"))
		default_health_socket(p);
	if (!key_line(p, "control_socket"))
		default_control_socket(p);
	check_status_tls(p);
	if (!p->seen_group_header)
		parse_error_at(p, 0, "no [group NAME] section: nothing to fail over");
}

static void errors_finish(struct parse *p)
{
	struct cfgfile_errors *e = p->file.errors;

	cfgfile_errors_sort(e);
	if (e->dropped) {
		e->items[e->n - 1].line = 0;
		snprintf(e->items[e->n - 1].message, sizeof(e->items[0].message),
			 "too many errors; only the first %d are shown", CFGFILE_MAX_ERRORS - 1);
	}
}

static void parse_run(struct parse *p, const char *data, size_t len)
{
	int r;

	cfgfile_defaults(&p->file, SECTION_FOMGR, p->config);
	cfgfile_defaults(&p->file, SECTION_AUDIT, p->config);
	r = cfgfile_run(&p->file, data, len);
	if (r < 0)
		parse_error_at(p, 0, "INI parser failed (%d)", r);
	check_whole(p);
	if (EVP_Digest(p->file.data, p->file.len, p->config->digest, NULL, EVP_sha256(), NULL) != 1)
		parse_error_at(p, 0, "cannot compute the SHA-256 digest");
}

struct config *config_parse_buffer(const char *name, const char *data, size_t len,
				   const struct config_nodelist *nodes, struct cfgfile_errors *errors)
{
	struct cfgfile_errors scratch;
	struct parse *p = calloc(1, sizeof(*p));
	struct config *c = calloc(1, sizeof(*c));

	if (!errors)
		errors = &scratch;
	errors->n = 0;
	errors->dropped = 0;
	snprintf(errors->file, sizeof(errors->file), "%s", name ? name : "");
	if (!p || !c) {
		errors->items[errors->n].line = 0;
		snprintf(errors->items[errors->n++].message, sizeof(errors->items[0].message), "out of memory");
		free(p);
		free(c);
		return NULL;
	}
	p->file = (struct cfgfile){.ops = &file_ops, .keywords = keywords, .n_keywords = N_KEYWORDS,
				   .max_line = CONFIG_MAX_LINE, .refuse_empty = true, .stop_when_full = true,
				   .errors = errors, .user = p};
	p->nodes = nodes;
	p->config = c;
	snprintf(c->path, sizeof(c->path), "%s", name ? name : "");
	parse_run(p, data, len);
	errors_finish(p);
	free(p);
	if (errors->n) {
		free(c);
		return NULL;
	}
	return c;
}

/* Reads at most CONFIG_MAX_FILE bytes into buf (of CONFIG_MAX_FILE + 1, so that a
 * longer file is told apart). Returns the length or a negative errno. */
static ssize_t read_bounded(int fd, char *buf)
{
	size_t n = 0;

	while (n <= CONFIG_MAX_FILE) {
		ssize_t r = read(fd, buf + n, CONFIG_MAX_FILE + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return (ssize_t)n;
		n += (size_t)r;
	}
	return -EFBIG;
}

/* On success *data is the caller's to free. */
static int read_file(const char *path, char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *buf;
	ssize_t r;

	if (fd < 0)
		return -errno;
	buf = malloc(CONFIG_MAX_FILE + 1);
	r = buf ? read_bounded(fd, buf) : -ENOMEM;
	close(fd);
	if (r < 0) {
		free(buf);
		return (int)r;
	}
	*data = buf;
	*len = (size_t)r;
	return 0;
}

static void load_error(struct cfgfile_errors *errors, const char *path, const char *fmt, int err)
{
	snprintf(errors->file, sizeof(errors->file), "%s", path);
	errors->n = 1;
	errors->dropped = 0;
	errors->items[0].line = 0;
	if (err == -EFBIG)
		snprintf(errors->items[0].message, sizeof(errors->items[0].message),
			 "file too large (more than %d bytes)", CONFIG_MAX_FILE);
	else
		snprintf(errors->items[0].message, sizeof(errors->items[0].message), "%s: %s", fmt,
			 strerror(-err));
}

struct config *config_load(const char *path, const struct config_nodelist *nodes, struct cfgfile_errors *errors)
{
	struct cfgfile_errors scratch;
	struct config *c;
	char *data = NULL;
	size_t len = 0;
	int r = read_file(path, &data, &len);

	if (!errors)
		errors = &scratch;
	if (r < 0) {
		load_error(errors, path, "cannot read", r);
		return NULL;
	}
	c = config_parse_buffer(path, data, len, nodes, errors);
	free(data);
	return c;
}

void config_free(struct config *config)
{
	free(config);
}

const struct config_group *config_group_find(const struct config *config, const char *name)
{
	for (size_t i = 0; config && i < config->n_groups; i++)
		if (strcmp(config->groups[i].name, name) == 0)
			return &config->groups[i];
	return NULL;
}

const char *config_failback_str(enum config_failback failback)
{
	return failback < CONFIG_FAILBACK_MAX ? failback_names[failback] : "invalid";
}

const char *config_audit_policy_str(enum config_audit_policy policy)
{
	return policy < CONFIG_AUDIT_POLICY_MAX ? audit_policy_names[policy] : "invalid";
}

static void digest_str(EVP_MD_CTX *ctx, const char *s)
{
	EVP_DigestUpdate(ctx, s, strlen(s) + 1);
}

static void digest_group(EVP_MD_CTX *ctx, const struct config_group *g)
{
	char num[32];

	digest_str(ctx, g->name);
	digest_str(ctx, g->interface);
	for (size_t i = 0; i < g->n_addrs; i++)
		digest_str(ctx, g->addrs[i].text);
	digest_str(ctx, "prefer");
	for (size_t i = 0; i < g->n_prefer; i++)
		digest_str(ctx, g->prefer[i]);
	snprintf(num, sizeof(num), "%d/%u", (int)g->failback, g->failback_delay_ms);
	digest_str(ctx, num);
	digest_str(ctx, "checks");
	for (size_t i = 0; i < g->n_checks; i++)
		digest_str(ctx, g->checks[i]);
}

void config_cluster_digest(const struct config *config, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char num[16];

	memset(out, 0, 32);
	if (!ctx)
		return;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	digest_str(ctx, config->cpg_group);
	snprintf(num, sizeof(num), "%d", (int)config->health_policy);
	digest_str(ctx, num);
	for (size_t i = 0; i < config->n_groups; i++)
		digest_group(ctx, &config->groups[i]);
	EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
}

const char *config_digest_hex(const struct config *config, char out[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", config->digest[i]);
	return out;
}
