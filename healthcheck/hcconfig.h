/* The agent's configuration: an INI file read with libinih, validated as a whole
 * into an immutable struct hc_config. Every error is collected with file:line before
 * the file is refused; a reload builds a new struct and swaps it, or keeps the old. */
#ifndef HC_HCCONFIG_H
#define HC_HCCONFIG_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fo/cfgfile.h"
#include "fo/healthwire.h"

#define HC_NAME_MAX 64     /* check names, with the NUL (as healthwire) */
#define HC_MAX_CHECKS 16384 /* a probe and metrics source; feeding fomgr: HC_MAX_FED_CHECKS */
#define HC_MAX_FED_CHECKS 1024 /* healthwire's limit per report */
#define HC_MAX_ARGS 32     /* script arguments */
#define HC_EX_CONFIG 78    /* exit status for a refused config (EX_CONFIG), as fomgr's */
#define HC_LINE_MAX 4096   /* bytes of one line, without the newline (long URLs) */

/* Every check of an agent that feeds fomgr goes into one report of its stream. */
_Static_assert(HC_NAME_MAX == HEALTHWIRE_NAME_MAX, "check names differ in size from healthwire's");
_Static_assert(HC_MAX_FED_CHECKS <= HEALTHWIRE_MAX_CHECKS, "more checks than one healthwire report holds");

enum hc_check_type {
	HC_CHECK_HTTP,
	HC_CHECK_HTTPS,
	HC_CHECK_TCP,
	HC_CHECK_SCRIPT,
	HC_CHECK_PROCESS,
	HC_CHECK_FILE,
	HC_CHECK_TYPE_MAX
};

/* file checks: the operator's drain switch (exists-fails, as keepalived's
 * track_file), a flag file that must exist, or a file whose content must match. */
enum hc_file_mode { HC_FILE_EXISTS, HC_FILE_EXISTS_FAILS, HC_FILE_CONTENT, HC_FILE_MODE_MAX };

const char *hc_check_type_str(enum hc_check_type type);
const char *hc_file_mode_str(enum hc_file_mode mode);

/* Bytes with an explicit length: tcp send/expect may hold \0 or \r\n. */
struct hc_bytes {
	char *data; /* NUL-terminated as well, for logs */
	size_t len;
};

struct hc_check_conf {
	char name[HC_NAME_MAX];
	enum hc_check_type type;
	unsigned line; /* of the [check NAME] header */
	uint32_t interval_ms;
	uint32_t timeout_ms;
	uint32_t jitter_ms; /* random delay before the first run, 0..jitter */
	uint32_t rise, fall;

	/* http, https */
	char *url;
	char *method;                  /* default GET; HEAD reads no body */
	uint16_t status_min, status_max; /* expect_status, default 200-399 */
	char *expect_body;             /* substring of the body */
	char *expect_regex;            /* POSIX extended regex over the body */
	regex_t regex;                 /* compiled expect_regex */
	bool has_regex;
	char *ca_file, *client_cert, *client_key;
	char *host;                    /* SNI, Host header and certificate name */
	bool follow_redirects;
	size_t max_body;               /* default 64k */
	size_t max_header;             /* default 16k, all header lines together */
	uint32_t cert_expiry_warn_days; /* https, default 14, 0 = off */

	/* tcp */
	char *address;                 /* numeric IPv4 or IPv6 */
	uint16_t port;
	struct hc_bytes send, expect;  /* expect: also file content */

	/* script, file */
	char *path;
	size_t n_args;
	char *args[HC_MAX_ARGS];       /* after argv[0] */

	/* process */
	char *process_name;            /* as /proc/PID/comm, at most 15 characters */
	char *pidfile;

	/* file */
	enum hc_file_mode file_mode;

	/* response-time anomaly */
	double anomaly_k;
	uint32_t anomaly_m;
	bool anomaly_fails;
};

/* [resources]: node resources and connection volume, sampled every interval; a
 * figure at or above its threshold is a capacity warning (0 disables one). */
struct hc_resources_conf {
	bool enabled;
	uint32_t interval_ms;
	double cpu_pct, mem_pct, load_per_cpu, fd_pct;
	uint32_t conn_per_port, half_open, listen_overflows;
};

struct hc_config {
	/* [agent] */
	char listen_host[64];    /* numeric, loopback; empty: do not serve */
	uint16_t listen_port;    /* 0: any free port (tests) */
	char manager_socket[108]; /* empty: do not feed fomgr */
	uint32_t heartbeat_ms;
	char user[64];           /* drop to this user when started as root */
	struct hc_resources_conf resources;
	/* [check NAME] sections, in file order */
	size_t n_checks;
	struct hc_check_conf *checks;
};

/* Parses and validates; on success *out is a new config the caller frees with
 * hcconfig_free(). Returns 0, -EINVAL with errs filled, or -errno (file unreadable,
 * also in errs). `name` is what messages call the buffer. */
int hcconfig_load_buffer(const char *name, const char *buf, size_t len, struct hc_config **out,
			 struct cfgfile_errors *errs);
int hcconfig_load_file(const char *path, struct hc_config **out, struct cfgfile_errors *errs);
void hcconfig_free(struct hc_config *cfg);

/* Logs every error as "file:line: message" (the daemon and --config-test). */
void hcconfig_log_errors(const struct cfgfile_errors *errs);

/* Finds a check by name; NULL when absent. */
const struct hc_check_conf *hcconfig_find(const struct hc_config *cfg, const char *name);

/* Returns 1 when two check configs would run the same check (a reload keeps state). */
int hcconfig_check_same_kind(const struct hc_check_conf *a, const struct hc_check_conf *b);

/* Refuses a script a non-root user could change: the file and every directory above
 * it must be owned by root (or be sticky) and not writable by group or others unless
 * that owner is root. Returns 0 or -EPERM with a reason in buf. */
int hcconfig_script_safe(const char *path, char *reason, size_t size);

#endif
