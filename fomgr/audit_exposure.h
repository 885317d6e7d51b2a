/* The credential and exposure checks, at start and on reload: corosync without
 * crypto, two_node without a tie-breaker, a status endpoint beyond loopback
 * without TLS, and the modes and owners of the files that hold hooks, keys and the
 * configuration. Gathering reads file modes; the judgement is pure. */
#ifndef FOMGR_AUDIT_EXPOSURE_H
#define FOMGR_AUDIT_EXPOSURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "audit_findings.h"
#include "config.h"

#define AUDIT_MAX_FILES 16
struct audit_file {
	char path[256];
	const char *role; /* "hook", "key", "config": keys must not be readable by others */
	bool exists;
	mode_t mode;
	uid_t uid;
};

struct audit_exposure_input {
	bool corosync_known;  /* the next three were read (membership_read_info) */
	bool crypto;
	bool two_node;
	bool has_qdevice;
	bool status_enabled;  /* the status endpoint listens */
	bool status_loopback; /* ... on loopback only */
	bool status_tls;      /* ... with TLS and a client CA */
	size_t n_files;
	struct audit_file files[AUDIT_MAX_FILES];
};

/* Stats path into in->files (a missing file is recorded as such). 0, -E2BIG,
 * -ENAMETOOLONG. */
int audit_exposure_add_file(struct audit_exposure_input *in, const char *path, const char *role);
/* Fills in from config (status endpoint, notify hook, TLS key, the config file
 * itself) and from corosync's settings when info is non-NULL (membership_read_info),
 * plus corosync's authkey (COROSYNC_AUTHKEY). Reads file modes, nothing else. */
#define AUDIT_COROSYNC_AUTHKEY "/etc/corosync/authkey"
struct membership_info;
void audit_exposure_gather(const struct config *config, const struct membership_info *info,
			   struct audit_exposure_input *in);
/* Pure: the findings for in, under config's require_crypto and [audit] policy.
 * Returns 0, or -EPERM when the policy is refuse (or require_crypto is set and
 * corosync runs without crypto) and a warning or critical finding was made: the
 * caller then refuses the start or reload. */
int audit_exposure_check(const struct config *config, const struct audit_exposure_input *in,
			 struct audit_findings *out);

#endif
