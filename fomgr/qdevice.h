/* The quorum device: corosync-qdevice on each node giving the vote of a witness
 * (corosync-qnetd) to one partition. What this node's corosync says of it — cmap:
 * whether one is configured and how; votequorum: whether this node's qdevice is
 * alive and casts its vote — is read on the ring watch's thread (qdevice_read),
 * never on the loop. What fomgr makes of it is decided on the loop, pure: the
 * device is connected or not, a warning (and an audit record) once it stays
 * disconnected, and whether a two_node cluster is left without a tie-breaker. */
#ifndef FOMGR_QDEVICE_H
#define FOMGR_QDEVICE_H

#include <jansson.h>
#include <stdint.h>

#define QDEVICE_STR_MAX 64
/* At least this long disconnected before it is a warning: a membership change
 * withdraws the vote until the device votes again for the new ring. */
#define QDEVICE_MIN_GRACE_MS 2000u
/* votequorum is asked at most this often (cmap's settings at every reading). */
#define QDEVICE_READ_INTERVAL_MS 500u

/* One reading. */
struct qdevice_info {
	int configured;               /* quorum.device.model is set */
	char model[16];               /* "net" */
	char algorithm[16];           /* quorum.device.net.algorithm; "ffsplit" when unset, as qdevice does */
	char host[QDEVICE_STR_MAX];   /* quorum.device.net.host: the witness */
	int known;                    /* votequorum answered: the three below are meaningful */
	int alive;                    /* this node's corosync-qdevice is registered and polls in time */
	int voting;                   /* and casts the device's vote for this node's partition */
	uint32_t votes;               /* the votes the device carries */
};

/* The reading side: a votequorum connection kept between readings, and the last
 * answer, reused until QDEVICE_READ_INTERVAL_MS has passed. */
struct qdevice_reader {
	uint64_t votequorum; /* votequorum_handle_t, 0 until opened */
	uint64_t read_us;
	struct qdevice_info last;
};

/* Fills out: the settings from the open cmap handle, the state from votequorum
 * (asked only when a device is configured; opened on first use, closed after an
 * error, which leaves out->known 0, and opened again at the next reading). */
void qdevice_read(struct qdevice_reader *r, uint64_t cmap_handle, uint32_t local_nodeid, uint64_t now_us,
		  struct qdevice_info *out);
void qdevice_reader_close(struct qdevice_reader *r);

/* What the loop keeps. connected: votequorum says this node's device is alive and
 * casts its vote. ffsplit gives the vote only while qdevice is connected to qnetd
 * (and, in a partition, only to the side qnetd picked); lms keeps it for a while
 * after losing qnetd when the cluster was quorate (wait_for_all). */
struct qdevice_watch {
	int have;                 /* a reading came */
	struct qdevice_info info; /* the newest */
	int connected;
	uint64_t since_us;        /* monotonic time connected last changed */
	int lost;                 /* disconnected for longer than the grace: warned and recorded */
	uint64_t losses;          /* times it was lost */
};

enum qdevice_event { QDEVICE_EVENT_NONE, QDEVICE_EVENT_LOST, QDEVICE_EVENT_BACK, QDEVICE_EVENT_MAX };
const char *qdevice_event_str(enum qdevice_event ev);

/* How long disconnected before it counts: two rounds of token + consensus (a new
 * ring and the device's vote on it), at least QDEVICE_MIN_GRACE_MS. Pure. */
uint32_t qdevice_grace_ms(uint32_t token_ms, uint32_t consensus_ms);
/* Takes a reading made at now_us: LOST once a configured device has been
 * disconnected for grace_ms, BACK when a lost one is connected again, NONE
 * otherwise (a device taken out of the configuration ends a loss quietly). Pure. */
enum qdevice_event qdevice_watch_update(struct qdevice_watch *w, const struct qdevice_info *in, uint64_t now_us,
					uint32_t grace_ms);
/* The same, with the one log line of a LOST or BACK. */
enum qdevice_event qdevice_watch_sample(struct qdevice_watch *w, const struct qdevice_info *in, uint64_t now_us,
					uint32_t grace_ms);
/* The audit record of an event (AUDITLOG_FINDING): a new object. */
json_t *qdevice_event_json(const struct qdevice_watch *w, enum qdevice_event ev, uint64_t now_us);
/* Adds status["qdevice"] once a reading came, and the qdevice-disconnected
 * warning to status["warnings"] while lost. */
void qdevice_status_json(const struct qdevice_watch *w, uint64_t now_us, json_t *status);
/* two_node keeps both halves of a partition quorate: the split-brain risk, unless
 * a device is configured (has_qdevice, cmap at start; the watch's reading once
 * one came) and not lost. corosync 3.1 refuses two_node together with a device,
 * so in practice this is two_node without one. */
int qdevice_split_brain_risk(int two_node, int has_qdevice, const struct qdevice_watch *w);

#endif
