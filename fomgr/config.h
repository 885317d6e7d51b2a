/* fomgr's configuration: an INI file (read with libinih) validated as a whole into an
 * immutable struct config. A reload builds a new struct and swaps it, or keeps the
 * old one. Node names and ids are not repeated here: they come from corosync's own
 * nodelist (cmap) and are passed in as a struct config_nodelist for validation. */
#ifndef FOMGR_CONFIG_H
#define FOMGR_CONFIG_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "fo/cfgfile.h"

#define CONFIG_NAME_MAX 64     /* group, check and node names, with the NUL */
#define CONFIG_MAX_GROUPS 64
#define CONFIG_MAX_ADDRS 256   /* per group */
#define CONFIG_MAX_NODES 32
#define CONFIG_MAX_CHECKS 32   /* per group */
#define CONFIG_MAX_LINE 1024   /* longer lines are an error */
#define CONFIG_MAX_AUDIT_RULES 64 /* allow and must_be_closed, each */
#define CONFIG_COMM_LEN 16       /* a process name, as the kernel's TASK_COMM_LEN */

enum config_failback { CONFIG_FAILBACK_AUTO, CONFIG_FAILBACK_MANUAL, CONFIG_FAILBACK_MAX };
/* What to do with a group's checks when the agent stops reporting. */
enum config_health_policy { CONFIG_HEALTH_KEEP, CONFIG_HEALTH_FAIL, CONFIG_HEALTH_MAX };

struct config_addr {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	unsigned prefixlen;
	char text[64]; /* as written, e.g. "192.0.2.100/24" */
};

/* status_listen: where the status HTTP server listens; family 0 when "off". */
struct config_listen {
	int family;                   /* AF_INET, AF_INET6 or 0 (off) */
	char addr[INET6_ADDRSTRLEN];  /* the literal, without brackets */
	uint16_t port;
	int loopback;                 /* 127.0.0.0/8 or ::1 */
	char text[INET6_ADDRSTRLEN + 8]; /* as written */
};

/* [audit] allow / must_be_closed: "tcp/22", "tcp/7777@192.0.2.100",
 * "udp/5405 process=corosync". */
struct config_port_rule {
	int proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;
	int family; /* 0: any address; AF_INET or AF_INET6: only addr */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	char process[CONFIG_COMM_LEN]; /* "" any process */
	char text[96];                 /* as written */
};

enum config_audit_policy { CONFIG_AUDIT_WARN, CONFIG_AUDIT_REFUSE, CONFIG_AUDIT_POLICY_MAX };

/* [audit]: the port and exposure audit (audit.c) and the audit log (auditlog.c). */
struct config_audit {
	int present;                /* an [audit] section exists: ports are audited */
	size_t n_allow;
	struct config_port_rule allow[CONFIG_MAX_AUDIT_RULES];
	size_t n_closed;
	struct config_port_rule closed[CONFIG_MAX_AUDIT_RULES]; /* must_be_closed */
	uint32_t interval_ms;       /* interval, default 60s; 0: no periodic audit */
	char log[256];              /* log, default /var/log/fomgr/audit.log */
	uint32_t retention_days;    /* retention_days, default 90; 0 keeps every file */
	uint32_t retention_mb;      /* retention_mb: rotated files in all, default 0 (no limit) */
	enum config_audit_policy policy; /* policy = warn|refuse (exposure checks), default warn */
	int probe;                  /* probe = yes|no: reachability probes, default yes */
	uint32_t probe_rate;        /* probe_rate: connects per second, default 20 */
	uint32_t probe_timeout_ms;  /* probe_timeout, default 1s */
};

struct config_group {
	char name[CONFIG_NAME_MAX];
	char interface[IF_NAMESIZE];
	size_t n_addrs;
	struct config_addr addrs[CONFIG_MAX_ADDRS];
	size_t n_prefer; /* 0: every node, in nodeid order */
	char prefer[CONFIG_MAX_NODES][CONFIG_NAME_MAX];
	enum config_failback failback;
	uint32_t failback_delay_ms;
	size_t n_checks;
	char checks[CONFIG_MAX_CHECKS][CONFIG_NAME_MAX];
};

struct config {
	char path[4096];
	/* [fomgr] */
	char cpg_group[CONFIG_NAME_MAX];  /* cpg_group, default "fomgr" */
	char runtime_dir[256];            /* runtime_dir, default /run/fomgr */
	char state_dir[256];              /* state_dir, default /var/lib/fomgr */
	char health_socket[256];          /* health_socket, default <runtime_dir>/health.sock */
	uint32_t health_ttl_ms;           /* health_ttl, default 5000 */
	enum config_health_policy health_policy; /* health_policy = keep|fail, default keep */
	uint32_t garp_count;              /* garp_count, default 5, at least 3 */
	uint32_t garp_interval_ms;        /* garp_interval, default 200 */
	uint32_t arp_probe_ms;            /* arp_probe: before a graceful IPv4 claim, default 20; 0 off */
	int require_crypto;               /* require_crypto = yes|no (default no: warn only) */
	/* operators and monitoring: control_socket.c, status_http.c, hooks.c */
	char control_socket[108];         /* control_socket, default <runtime_dir>/control.sock */
	char admin_group[CONFIG_NAME_MAX]; /* admin_group: may change state; "" none (root only) */
	char view_group[CONFIG_NAME_MAX]; /* view_group: may read status and events; "" none */
	struct config_listen status_listen; /* status_listen = ADDR:PORT | off (127.0.0.1:9900) */
	char status_tls_cert[256];        /* status_tls_cert, _key, _client_ca: all three or none; */
	char status_tls_key[256];         /*   required for a status_listen beyond loopback */
	char status_tls_client_ca[256];
	char notify_hook[256];            /* notify_hook: run on each transition; "" none */
	uint32_t notify_timeout_ms;       /* notify_timeout, default 10s */
	struct config_audit audit;        /* [audit] */
	/* [group NAME] sections, in file order */
	size_t n_groups;
	struct config_group groups[CONFIG_MAX_GROUPS];
	uint8_t digest[32]; /* SHA-256 of the file's bytes */
};

struct config_node {
	uint32_t nodeid;
	char name[CONFIG_NAME_MAX];
};

/* corosync's nodelist, read through cmap by membership.c (or given by tests). */
struct config_nodelist {
	size_t n_nodes;
	struct config_node nodes[CONFIG_MAX_NODES];
};

/* Parses and validates path. nodes may be NULL (node names are then not checked).
 * Returns a new config the caller frees with config_free(), or NULL with every
 * problem in *errors (file:line is cfgfile_errors_format's job). */
struct config *config_load(const char *path, const struct config_nodelist *nodes, struct cfgfile_errors *errors);
/* Same, from a buffer; name is used in messages. Used by the fuzz target and tests. */
struct config *config_parse_buffer(const char *name, const char *data, size_t len,
				   const struct config_nodelist *nodes, struct cfgfile_errors *errors);
void config_free(struct config *config);

/* SHA-256 of what every node must agree on (cpg_group, health_policy and every
 * group: addresses, interface, preference, failback, checks), leaving out what is
 * node-local (paths, comments): the digest compared across nodes. */
void config_cluster_digest(const struct config *config, uint8_t out[32]);
/* The file's digest (config->digest) as 64 lowercase hex digits and a NUL, as the
 * audit records carry it; returns out. */
const char *config_digest_hex(const struct config *config, char out[65]);

const struct config_group *config_group_find(const struct config *config, const char *name);
const char *config_failback_str(enum config_failback failback);
const char *config_audit_policy_str(enum config_audit_policy policy);

#endif
