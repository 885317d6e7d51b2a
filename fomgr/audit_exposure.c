/* The credential and exposure checks (see audit_exposure.h). */
#include "audit_exposure.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "membership.h"

int audit_exposure_add_file(struct audit_exposure_input *in, const char *path, const char *role)
{
	struct audit_file *f;
	struct stat st;

	if (!path || !path[0])
		return 0;
	if (in->n_files == AUDIT_MAX_FILES)
		return -E2BIG;
	if (strlen(path) >= sizeof(in->files[0].path))
		return -ENAMETOOLONG;
	f = &in->files[in->n_files++];
	memset(f, 0, sizeof(*f));
	memcpy(f->path, path, strlen(path) + 1);
	f->role = role;
	if (stat(path, &st) == 0) {
		f->exists = true;
		f->mode = st.st_mode;
		f->uid = st.st_uid;
	}
	return 0;
}

static int check_file(const struct audit_file *f, struct audit_findings *out)
{
	bool key = strcmp(f->role, "key") == 0;

	if (!f->exists)
		return 0;
	if (f->mode & (S_IWOTH | S_IWGRP))
		return audit_findings_add(out, AUDIT_EXPOSURE, AUDIT_CRITICAL, f->path,
					  "%s file is writable by %s (mode %04o)", f->role,
					  (f->mode & S_IWOTH) ? "others" : "its group", (unsigned)(f->mode & 07777));
	if (key && (f->mode & S_IROTH))
		return audit_findings_add(out, AUDIT_EXPOSURE, AUDIT_CRITICAL, f->path,
					  "key file is readable by others (mode %04o)", (unsigned)(f->mode & 07777));
	if (f->uid != 0 && f->uid != geteuid())
		return audit_findings_add(out, AUDIT_EXPOSURE, AUDIT_WARNING, f->path,
					  "%s file is owned by uid %u, not by root or fomgr", f->role, (unsigned)f->uid);
	return 0;
}

static int check_corosync(const struct config *config, const struct audit_exposure_input *in,
			  struct audit_findings *out)
{
	int r = 0;

	if (!in->corosync_known)
		return 0;
	if (!in->crypto)
		r = audit_findings_add(out, AUDIT_EXPOSURE, config->require_crypto ? AUDIT_CRITICAL : AUDIT_WARNING,
				       "corosync crypto",
				       "corosync runs without crypto: cluster messages are neither encrypted nor "
				       "authenticated");
	if (r == 0 && in->two_node && !in->has_qdevice)
		r = audit_findings_add(out, AUDIT_EXPOSURE, AUDIT_WARNING, "corosync two_node",
				       "two_node without a tie-breaker: a partition can leave both nodes holding "
				       "the VIPs");
	return r;
}

void audit_exposure_gather(const struct config *config, const struct membership_info *info,
			   struct audit_exposure_input *in)
{
	memset(in, 0, sizeof(*in));
	if (info) {
		in->corosync_known = true;
		in->crypto = info->crypto;
		in->two_node = info->two_node;
		in->has_qdevice = info->has_qdevice;
	}
	in->status_enabled = config->status_listen.family != 0;
	in->status_loopback = config->status_listen.loopback;
	in->status_tls = config->status_tls_cert[0] && config->status_tls_key[0] && config->status_tls_client_ca[0];
	audit_exposure_add_file(in, config->notify_hook, "hook");
	audit_exposure_add_file(in, config->status_tls_key, "key");
	audit_exposure_add_file(in, AUDIT_COROSYNC_AUTHKEY, "key");
	audit_exposure_add_file(in, config->path, "config");
}

int audit_exposure_check(const struct config *config, const struct audit_exposure_input *in,
			 struct audit_findings *out)
{
	size_t first = out->n;
	bool refuse = config->audit.policy == CONFIG_AUDIT_REFUSE, crypto_refused = false;
	int r = check_corosync(config, in, out);

	if (r == 0 && in->status_enabled && !in->status_loopback && !in->status_tls)
		r = audit_findings_add(out, AUDIT_EXPOSURE, AUDIT_CRITICAL, "status endpoint",
				       "the status endpoint listens beyond loopback without TLS");
	for (size_t i = 0; r == 0 && i < in->n_files; i++)
		r = check_file(&in->files[i], out);
	if (r < 0)
		return r;
	crypto_refused = config->require_crypto && in->corosync_known && !in->crypto;
	for (size_t i = first; i < out->n && !crypto_refused; i++)
		if (refuse && out->v[i].severity >= AUDIT_WARNING)
			return -EPERM;
	return crypto_refused ? -EPERM : 0;
}
