/* The hash-chained audit log (see auditlog.h for the record format).
 *
 * A record is the canonical JSON text of one object (compact, keys sorted, ASCII
 * only), so that the verifier can tell an edit that changed the layout of a line as
 * well as one that only changed a value (the next record's "prev" no longer
 * matches). The writer keeps the chain state (seq, hash of the last line) in memory:
 * after a rotation the new file continues from the last record this process wrote;
 * at start it continues from the file's last line, or from the newest rotated file
 * when the live one is new or empty.
 *
 * A record that cannot be written whole is truncated away, so the file never holds
 * half a record; a line left unterminated by a crash (never acknowledged, since an
 * append returns only after fdatasync) is cut off when the log is opened.
 *
 * The queue is a ring of stamped records: their seq and prev are given only when
 * they are written, in queue order, so the chain is the order of the events.
 * Records are written in batches (one write and one fdatasync for up to
 * FLUSH_BATCH records): the records of one event cost one sync, not one each. */
#include "auditlog.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "fo/clock.h"
#include "fo/log.h"

#define HASH_HEX_LEN 64
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"
#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
#define LOAD_FLAGS (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)
#define FLUSH_BATCH 64                /* records per write and fdatasync, at most */
#define FLUSH_BATCH_BYTES (1u << 20)  /* ... and about this many bytes */

/* A record as it will be written, but for its seq and prev. */
struct queued {
	enum auditlog_type type;
	json_t *fields; /* a reference of the queue's (NULL: no fields) */
	uint64_t realtime_ms, mono_ms;
	uint64_t dropped_before;
};

struct auditlog {
	char *path;
	char node[64];
	char boot_id[40];
	struct auditlog_options options;
	int fd;
	uint64_t seq;               /* of the last record written (0: none yet) */
	char prev[HASH_HEX_LEN + 1]; /* hex SHA-256 of the last line */
	struct queued *queue;       /* a ring of AUDITLOG_QUEUE_MAX */
	size_t q_head, q_len;
	uint64_t dropped_pending;   /* refused since the last record queued or written */
	struct auditlog_queue_stats stats;
	struct ev_loop *loop;       /* NULL: the queue is written at once */
	ev_timer flush;             /* zero delay, lowest priority */
	ev_timer retry;             /* every AUDITLOG_RETRY_S while writes fail */
	int failing;                /* logged once per streak */
};

static const char *const type_names[AUDITLOG_TYPE_MAX] = {
	[AUDITLOG_START] = "start",
	[AUDITLOG_STOP] = "stop",
	[AUDITLOG_TRANSITION] = "transition",
	[AUDITLOG_MEMBERSHIP] = "membership",
	[AUDITLOG_QUORUM] = "quorum",
	[AUDITLOG_ADMIN] = "admin",
	[AUDITLOG_ACCESS_DENIED] = "access_denied",
	[AUDITLOG_CONFIG] = "config",
	[AUDITLOG_FINDING] = "finding",
	[AUDITLOG_SNAPSHOT] = "snapshot",
};

const char *auditlog_type_str(enum auditlog_type type)
{
	return (unsigned)type < AUDITLOG_TYPE_MAX ? type_names[type] : "invalid";
}

static bool type_known(const char *name)
{
	for (size_t i = 0; i < AUDITLOG_TYPE_MAX; i++)
		if (strcmp(type_names[i], name) == 0)
			return true;
	return false;
}

/* ---- hashing ---- */

static int sha256_hex(const void *data, size_t len, char out[HASH_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];

	if (EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL) != 1)
		return -EIO;
	for (size_t i = 0; i < sizeof(md); i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[HASH_HEX_LEN] = '\0';
	return 0;
}

static bool hex_hash_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isdigit((unsigned char)s[n]) && !(s[n] >= 'a' && s[n] <= 'f'))
			return false;
	return n == HASH_HEX_LEN;
}

/* ---- small I/O helpers ---- */

static void read_boot_id(char *out, size_t size)
{
	FILE *f = fopen(BOOT_ID_PATH, "re");

	snprintf(out, size, "unknown");
	if (!f)
		return;
	if (fgets(out, (int)size, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t r = write(fd, buf, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ENOSPC;
		buf += r;
		len -= (size_t)r;
	}
	return 0;
}

static int pread_all(int fd, char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t r = pread(fd, buf, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		buf += r;
		len -= (size_t)r;
		off += r;
	}
	return 0;
}

/* After creating a file, its directory entry must reach the disk too. */
static void fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

/* ---- continuing the chain from a file's last record ---- */

/* Sets seq and prev from one complete line (no newline). */
static int chain_from_line(const char *line, size_t len, uint64_t *seq, char prev[HASH_HEX_LEN + 1])
{
	json_t *obj = json_loadb(line, len, LOAD_FLAGS, NULL);
	json_t *s = obj ? json_object_get(obj, "seq") : NULL;
	int r = 0;

	if (!json_is_integer(s) || json_integer_value(s) < 1)
		r = -EBADMSG;
	else
		*seq = (uint64_t)json_integer_value(s);
	json_decref(obj);
	return r < 0 ? r : sha256_hex(line, len, prev);
}

/* Reads the last complete line of fd (of size bytes). With repair, an unterminated
 * tail is cut off (it was never acknowledged); without, it is ignored. 0 with *seq 0
 * when the file holds no complete record. */
static int chain_from_fd(int fd, off_t size, bool repair, uint64_t *seq, char prev[HASH_HEX_LEN + 1])
{
	size_t want = size > AUDITLOG_MAX_LINE + 1 ? AUDITLOG_MAX_LINE + 1 : (size_t)size;
	off_t start = size - (off_t)want;
	char *buf, *end, *line;
	int r;

	*seq = 0;
	if (size == 0)
		return 0;
	buf = malloc(want);
	if (!buf)
		return -ENOMEM;
	r = pread_all(fd, buf, want, start);
	end = r == 0 ? memrchr(buf, '\n', want) : NULL;
	if (r == 0 && !end && start > 0)
		r = -EBADMSG; /* a last line longer than any record */
	if (r == 0 && repair && (end ? start + (end - buf) + 1 : 0) < size &&
	    ftruncate(fd, end ? start + (end - buf) + 1 : 0) < 0)
		r = -errno;
	if (r == 0 && end) {
		*end = '\0';
		line = memrchr(buf, '\n', (size_t)(end - buf));
		if (!line && start > 0)
			r = -EBADMSG;
		line = line ? line + 1 : buf;
		if (r == 0)
			r = chain_from_line(line, (size_t)(end - line), seq, prev);
	}
	free(buf);
	return r;
}

static int chain_from_path(const char *path, uint64_t *seq, char prev[HASH_HEX_LEN + 1])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int r;

	if (fd < 0)
		return -errno;
	r = fstat(fd, &st) < 0 ? -errno : chain_from_fd(fd, st.st_size, false, seq, prev);
	close(fd);
	return r;
}

/* ---- rotated files: path.N[.gz], path-YYYYMMDD[...] ---- */

struct rotated_file {
	char *path;
	time_t mtime;
	off_t size;
};

static bool is_rotated_name(const char *name, const char *base)
{
	size_t n = strlen(base);

	if (strncmp(name, base, n) != 0)
		return false;
	name += n;
	if (name[0] == '.' && isdigit((unsigned char)name[1]))
		return true;
	if (name[0] != '-')
		return false;
	for (int i = 1; i <= 8; i++)
		if (!isdigit((unsigned char)name[i]))
			return false;
	return true;
}

static int rotated_cmp_age(const void *a, const void *b)
{
	const struct rotated_file *x = a, *y = b;

	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

static void rotated_free(struct rotated_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(files[i].path);
	free(files);
}

/* Lists the rotated siblings of path, oldest first. */
static int rotated_list(const char *path, struct rotated_file **out, size_t *n_out)
{
	char *dcopy = strdup(path), *bcopy = strdup(path);
	const char *dir = dcopy ? dirname(dcopy) : NULL, *base = bcopy ? basename(bcopy) : NULL;
	DIR *d = dir ? opendir(dir) : NULL;
	struct rotated_file *files = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int r = d ? 0 : (dir ? -errno : -ENOMEM);

	while (r == 0 && (e = readdir(d))) {
		struct rotated_file f = {0};
		struct stat st;

		if (!is_rotated_name(e->d_name, base))
			continue;
		if (asprintf(&f.path, "%s/%s", dir, e->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		if (stat(f.path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(f.path);
			continue;
		}
		f.mtime = st.st_mtime;
		f.size = st.st_size;
		if (n == cap) {
			struct rotated_file *grown = realloc(files, (cap = cap ? 2 * cap : 8) * sizeof(*files));

			if (!grown) {
				free(f.path);
				r = -ENOMEM;
				break;
			}
			files = grown;
		}
		files[n++] = f;
	}
	if (d)
		closedir(d);
	free(dcopy);
	free(bcopy);
	if (r < 0) {
		rotated_free(files, n);
		return r;
	}
	if (n)
		qsort(files, n, sizeof(*files), rotated_cmp_age);
	*out = files;
	*n_out = n;
	return 0;
}

/* Retention: rotated files older than max_age_days go, then the oldest while the
 * rotated files together exceed max_bytes. The live file is never touched.
 * Returns how many files were removed, or -errno. */
static int retention_apply(const char *path, const struct auditlog_options *o, time_t now)
{
	struct rotated_file *files;
	uint64_t total = 0;
	size_t n;
	int removed = 0, r = rotated_list(path, &files, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		total += (uint64_t)files[i].size;
	for (size_t i = 0; i < n; i++) {
		bool old = o->max_age_days && now - files[i].mtime > (time_t)o->max_age_days * 86400;
		bool over = o->max_bytes && total > o->max_bytes;

		if (!old && !over)
			continue;
		if (unlink(files[i].path) == 0) {
			removed++;
			total -= (uint64_t)files[i].size;
		}
	}
	rotated_free(files, n);
	return removed;
}

/* The chain of a new or empty live file continues from the newest rotated file
 * (uncompressed ones only). */
static void chain_from_rotated(const char *path, uint64_t *seq, char prev[HASH_HEX_LEN + 1])
{
	struct rotated_file *files;
	size_t n;

	if (rotated_list(path, &files, &n) < 0)
		return;
	for (size_t i = n; i-- > 0;) {
		size_t len = strlen(files[i].path);

		if (len > 3 && strcmp(files[i].path + len - 3, ".gz") == 0)
			continue;
		if (chain_from_path(files[i].path, seq, prev) == 0 && *seq)
			break;
	}
	rotated_free(files, n);
}

/* ---- the writer ---- */

static int open_fd(const char *path, bool *created)
{
	struct stat st;
	int fd;

	*created = stat(path, &st) < 0 && errno == ENOENT;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd < 0)
		return -errno;
	if (*created)
		fsync_dir_of(path);
	return fd;
}

/* The log is opened read-write only to read its tail: appends go through fd. */
static int load_chain(struct auditlog *log)
{
	int rfd = open(log->path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	int r;

	if (rfd < 0)
		return -errno;
	r = fstat(rfd, &st) < 0 ? -errno : chain_from_fd(rfd, st.st_size, true, &log->seq, log->prev);
	close(rfd);
	if (r == 0 && log->seq == 0)
		chain_from_rotated(log->path, &log->seq, log->prev);
	return r;
}

struct auditlog *auditlog_open(const char *path, const char *node, const struct auditlog_options *options)
{
	struct auditlog *log = calloc(1, sizeof(*log));
	bool created;
	int r = log ? 0 : -ENOMEM;

	if (r == 0 && (!(log->path = strdup(path)) || !(log->queue = calloc(AUDITLOG_QUEUE_MAX, sizeof(*log->queue)))))
		r = -ENOMEM;
	if (r == 0) {
		snprintf(log->node, sizeof(log->node), "%s", node ? node : "");
		if (options)
			log->options = *options;
		memcpy(log->prev, ZERO_HASH, sizeof(log->prev));
		read_boot_id(log->boot_id, sizeof(log->boot_id));
		log->fd = open_fd(path, &created);
		r = log->fd < 0 ? log->fd : load_chain(log);
	}
	if (r < 0) {
		if (log && log->fd > 0)
			close(log->fd);
		if (log) {
			free(log->path);
			free(log->queue);
		}
		free(log);
		errno = -r;
		return NULL;
	}
	retention_apply(path, &log->options, time(NULL));
	return log;
}

static void queue_pop(struct auditlog *log)
{
	json_decref(log->queue[log->q_head].fields);
	log->queue[log->q_head].fields = NULL;
	log->q_head = (log->q_head + 1) % AUDITLOG_QUEUE_MAX;
	log->q_len--;
}

void auditlog_close(struct auditlog *log)
{
	int r;

	if (!log)
		return;
	if (log->loop) {
		ev_timer_stop(log->loop, &log->flush);
		ev_timer_stop(log->loop, &log->retry);
	}
	if (log->q_len && (r = auditlog_flush(log)) < 0)
		log_err("audit log %s: %zu queued record(s) lost at close: %s", log->path, log->q_len, strerror(-r));
	while (log->q_len)
		queue_pop(log);
	if (log->fd >= 0)
		close(log->fd);
	free(log->queue);
	free(log->path);
	free(log);
}

int auditlog_reopen(struct auditlog *log)
{
	bool created;
	int fd = open_fd(log->path, &created);

	if (fd < 0)
		return fd;
	close(log->fd);
	log->fd = fd;
	retention_apply(log->path, &log->options, time(NULL));
	return 0;
}

uint64_t auditlog_seq(const struct auditlog *log)
{
	return log->seq;
}

static void format_ts(uint64_t realtime_ms, char *buf, size_t size)
{
	time_t secs = (time_t)(realtime_ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	if (snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(realtime_ms % 1000)) >= (int)size)
		buf[size - 1] = '\0';
}

/* A record of type with fields (not taken), stamped at at_mono_us (0: now); its
 * realtime is now's less the time since. */
static struct queued stamp(enum auditlog_type type, json_t *fields, uint64_t at_mono_us)
{
	uint64_t now_us = clock_mono_us(), real = clock_real_ms();
	uint64_t at = at_mono_us && at_mono_us <= now_us ? at_mono_us : now_us;

	return (struct queued){.type = type, .fields = fields, .mono_ms = at / 1000u,
			       .realtime_ms = real - (now_us - at) / 1000u};
}

/* The caller's fields with the chain fields set over them; NULL on ENOMEM. */
static json_t *record_build(const struct auditlog *log, const struct queued *q, uint64_t seq, const char *prev)
{
	json_t *rec = q->fields ? json_copy(q->fields) : json_object();
	char ts[40];

	if (!rec || !json_is_object(rec)) {
		json_decref(rec);
		return NULL;
	}
	format_ts(q->realtime_ms, ts, sizeof(ts));
	if (json_object_set_new(rec, "seq", json_integer((json_int_t)seq)) ||
	    json_object_set_new(rec, "type", json_string(auditlog_type_str(q->type))) ||
	    json_object_set_new(rec, "ts", json_string(ts)) ||
	    json_object_set_new(rec, "realtime_ms", json_integer((json_int_t)q->realtime_ms)) ||
	    json_object_set_new(rec, "mono_ms", json_integer((json_int_t)q->mono_ms)) ||
	    json_object_set_new(rec, "boot_id", json_string(log->boot_id)) ||
	    json_object_set_new(rec, "node", json_string(log->node)) ||
	    json_object_set_new(rec, "prev", json_string(prev)) ||
	    (q->dropped_before &&
	     json_object_set_new(rec, "dropped_before", json_integer((json_int_t)q->dropped_before)))) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

/* The line of q as record seq after prev, with its newline (*len counts it), and
 * its hash. *text is the caller's to free. 0, -ENOMEM or -EMSGSIZE. */
static int record_encode(const struct auditlog *log, const struct queued *q, uint64_t seq, const char *prev,
			 char **text, size_t *len, char hash[HASH_HEX_LEN + 1])
{
	json_t *rec = record_build(log, q, seq, prev);
	int r;

	*text = rec ? json_dumps(rec, DUMP_FLAGS) : NULL;
	json_decref(rec);
	if (!*text)
		return -ENOMEM;
	*len = strlen(*text);
	r = *len + 1 > AUDITLOG_MAX_LINE ? -EMSGSIZE : sha256_hex(*text, *len, hash);
	if (r < 0) {
		free(*text);
		*text = NULL;
		return r;
	}
	(*text)[(*len)++] = '\n'; /* json_dumps leaves room: the NUL becomes the newline */
	return 0;
}

/* Writes line (with its newline) and syncs; on any failure the file is cut back to
 * its size before. */
static int write_record(struct auditlog *log, const char *line, size_t len)
{
	struct stat st;
	int r;

	if (fstat(log->fd, &st) < 0)
		return -errno;
	r = write_all(log->fd, line, len);
	if (r == 0 && fdatasync(log->fd) < 0)
		r = -errno;
	if (r < 0 && ftruncate(log->fd, st.st_size) == 0)
		fdatasync(log->fd);
	return r;
}

/* ---- the queue ---- */

/* A record that can never be written (too long) leaves the queue; the next one
 * says it is missing. */
static void drop_unwritable(struct auditlog *log)
{
	uint64_t missing = log->queue[log->q_head].dropped_before + 1;

	queue_pop(log);
	log->stats.dropped_bad++;
	if (log->q_len)
		log->queue[log->q_head].dropped_before += missing;
	else
		log->dropped_pending += missing;
}

/* Writes up to FLUSH_BATCH records from the head with one write and one sync;
 * the chain moves on only once they are on disk. */
static int flush_batch(struct auditlog *log)
{
	char prev[HASH_HEX_LEN + 1], hash[HASH_HEX_LEN + 1], *buf = NULL, *text, *grown;
	uint64_t seq = log->seq;
	size_t n = 0, len = 0, tlen;
	int r = 0;

	memcpy(prev, log->prev, sizeof(prev));
	while (n < log->q_len && n < FLUSH_BATCH && len < FLUSH_BATCH_BYTES) {
		r = record_encode(log, &log->queue[(log->q_head + n) % AUDITLOG_QUEUE_MAX], seq + 1, prev, &text, &tlen,
				  hash);
		if (r == -EMSGSIZE && n == 0) {
			drop_unwritable(log);
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		grown = realloc(buf, len + tlen);
		if (!grown) {
			free(text);
			r = -ENOMEM;
			break;
		}
		buf = grown;
		memcpy(buf + len, text, tlen);
		free(text);
		len += tlen;
		seq++;
		memcpy(prev, hash, sizeof(prev));
		n++;
	}
	if (r == -EMSGSIZE)
		r = 0; /* written with the batch before it, dropped by the next one */
	if (n && (r == 0 || r == -ENOMEM))
		r = write_record(log, buf, len);
	free(buf);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		queue_pop(log);
	log->seq = seq;
	memcpy(log->prev, prev, sizeof(log->prev));
	log->stats.written += n;
	return 0;
}

int auditlog_flush(struct auditlog *log)
{
	int r = 0;

	while (r == 0 && log->q_len)
		r = flush_batch(log);
	if (r < 0)
		log->stats.flush_errors++;
	log->stats.last_error = r;
	return r;
}

/* Flushes, says when a failing streak begins and ends, and keeps the retry timer
 * running while it lasts. */
static int flush_noted(struct auditlog *log)
{
	size_t depth = log->q_len;
	int r = auditlog_flush(log);

	if (r < 0 && !log->failing)
		log_err("audit log %s: %zu record(s) not written yet: %s; kept in memory (at most %d) and retried "
			"every %.0f s",
			log->path, log->q_len, strerror(-r), AUDITLOG_QUEUE_MAX, AUDITLOG_RETRY_S);
	else if (r == 0 && log->failing)
		log_info("audit log %s: written again, %zu queued record(s) caught up", log->path, depth);
	log->failing = r < 0;
	if (log->loop && r < 0)
		ev_timer_start(log->loop, &log->retry);
	else if (log->loop)
		ev_timer_stop(log->loop, &log->retry);
	return r;
}

static void on_flush(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	flush_noted(w->data);
}

void auditlog_attach(struct auditlog *log, struct ev_loop *loop)
{
	log->loop = loop;
	ev_timer_init(&log->flush, on_flush, 0., 0.);
	/* Below every other watcher: a callback that queued records runs to its end,
	 * then what else is pending in that iteration (the kernel's acknowledgement
	 * of an address delete, the peers' messages), then the write. */
	ev_set_priority(&log->flush, EV_MINPRI);
	log->flush.data = log;
	ev_timer_init(&log->retry, on_flush, AUDITLOG_RETRY_S, AUDITLOG_RETRY_S);
	log->retry.data = log;
}

int auditlog_enqueue(struct auditlog *log, enum auditlog_type type, json_t *fields, uint64_t at_mono_us)
{
	struct queued *q;

	if ((unsigned)type >= AUDITLOG_TYPE_MAX || (fields && !json_is_object(fields)))
		return -EINVAL;
	if (log->q_len == AUDITLOG_QUEUE_MAX) {
		log->stats.dropped_full++;
		log->dropped_pending++;
		return -ENOBUFS;
	}
	q = &log->queue[(log->q_head + log->q_len) % AUDITLOG_QUEUE_MAX];
	*q = stamp(type, fields ? json_incref(fields) : NULL, at_mono_us);
	q->dropped_before = log->dropped_pending;
	log->dropped_pending = 0;
	log->q_len++;
	log->stats.queued++;
	if (log->q_len > log->stats.max_depth)
		log->stats.max_depth = log->q_len;
	if (!log->loop)
		flush_noted(log); /* a failure keeps it queued: the next call retries */
	else if (!ev_is_active(&log->retry)) /* failing: the retry timer's turn */
		ev_timer_start(log->loop, &log->flush);
	return 0;
}

void auditlog_queue_stats(const struct auditlog *log, struct auditlog_queue_stats *out)
{
	*out = log->stats;
	out->depth = log->q_len;
	out->oldest_mono_ms = log->q_len ? log->queue[log->q_head].mono_ms : 0;
}

int auditlog_append(struct auditlog *log, enum auditlog_type type, json_t *fields)
{
	struct queued q;
	char *text, hash[HASH_HEX_LEN + 1];
	size_t len;
	int r;

	if ((unsigned)type >= AUDITLOG_TYPE_MAX || (fields && !json_is_object(fields)))
		return -EINVAL;
	if (log->q_len && (r = flush_noted(log)) < 0)
		return r;
	q = stamp(type, fields, 0);
	q.dropped_before = log->dropped_pending;
	r = record_encode(log, &q, log->seq + 1, log->prev, &text, &len, hash);
	if (r < 0)
		return r;
	r = write_record(log, text, len);
	free(text);
	if (r < 0)
		return r;
	log->seq++;
	log->dropped_pending = 0;
	memcpy(log->prev, hash, sizeof(log->prev));
	return 0;
}

/* ---- the verifier ---- */

struct verifier {
	const char *prev_hex;
	struct auditlog_verify_result *res;
	uint64_t line_no;
	uint64_t last_seq;  /* 0 before the first record */
	char last_hash[HASH_HEX_LEN + 1];
};

__attribute__((format(printf, 3, 4)))
static int verify_fail(struct verifier *v, uint64_t line, const char *fmt, ...)
{
	va_list ap;

	v->res->bad_line = line;
	va_start(ap, fmt);
	vsnprintf(v->res->reason, sizeof(v->res->reason), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* Every chain field present with the right type. NULL when all are, else the name
 * of the first missing or malformed one. */
static const char *record_fields_check(json_t *obj)
{
	static const struct { const char *name; json_type type; } fields[] = {
		{"seq", JSON_INTEGER}, {"type", JSON_STRING}, {"ts", JSON_STRING},
		{"realtime_ms", JSON_INTEGER}, {"mono_ms", JSON_INTEGER}, {"boot_id", JSON_STRING},
		{"node", JSON_STRING}, {"prev", JSON_STRING},
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *f = json_object_get(obj, fields[i].name);

		if (!f || json_typeof(f) != fields[i].type)
			return fields[i].name;
	}
	if (json_integer_value(json_object_get(obj, "seq")) < 1)
		return "seq";
	if (!hex_hash_valid(json_string_value(json_object_get(obj, "prev"))))
		return "prev";
	if (!type_known(json_string_value(json_object_get(obj, "type"))))
		return "type";
	return NULL;
}

/* A line whose bytes are not the canonical dump of what it parses to was edited
 * (the writer only writes canonical lines). */
static bool is_canonical(json_t *obj, const char *line, size_t len)
{
	char *again = json_dumps(obj, DUMP_FLAGS);
	bool same = again && strlen(again) == len && memcmp(again, line, len) == 0;

	free(again);
	return same;
}

static int verify_chain(struct verifier *v, uint64_t seq, const char *prev)
{
	uint64_t line = v->line_no;

	if (v->last_seq == 0) {
		const char *want = v->prev_hex ? v->prev_hex : seq == 1 ? ZERO_HASH : NULL;

		if (want && strcmp(prev, want) != 0)
			return verify_fail(v, line, "chain broken (prev %.12s... is not %.12s...)", prev, want);
		return 0;
	}
	if (seq != v->last_seq + 1)
		return verify_fail(v, line, "removed or reordered (seq %" PRIu64 " after %" PRIu64 ")", seq,
				   v->last_seq);
	if (strcmp(prev, v->last_hash) != 0) {
		v->res->records--; /* the previous record, counted as intact, is the bad one */
		return verify_fail(v, line - 1, "edited (its SHA-256 is not the prev of seq %" PRIu64 ")", seq);
	}
	return 0;
}

static int verify_line(struct verifier *v, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *obj = json_loadb(line, len, LOAD_FLAGS, &jerr);
	const char *bad;
	int r;

	if (!obj || !json_is_object(obj)) {
		json_decref(obj);
		return verify_fail(v, v->line_no, "not JSON");
	}
	bad = record_fields_check(obj);
	if (bad)
		r = verify_fail(v, v->line_no, "missing or bad field '%s'", bad);
	else if (!is_canonical(obj, line, len))
		r = verify_fail(v, v->line_no, "edited (not the canonical form the writer produces)");
	else
		r = verify_chain(v, (uint64_t)json_integer_value(json_object_get(obj, "seq")),
				 json_string_value(json_object_get(obj, "prev")));
	if (r == 0) {
		v->last_seq = (uint64_t)json_integer_value(json_object_get(obj, "seq"));
		r = sha256_hex(line, len, v->last_hash);
	}
	json_decref(obj);
	return r;
}

/* Reads one line of at most AUDITLOG_MAX_LINE bytes into buf (size MAX + 2).
 * Returns its length without the newline, -1 at the end, -2 when too long;
 * *terminated says whether it ended with a newline. */
static long read_line(FILE *stream, char *buf, bool *terminated)
{
	long n = 0;
	int c;

	while ((c = getc(stream)) != EOF) {
		if (c == '\n') {
			*terminated = true;
			return n;
		}
		if (n == AUDITLOG_MAX_LINE)
			return -2;
		buf[n++] = (char)c;
	}
	*terminated = false;
	return n ? n : -1;
}

int auditlog_verify(FILE *stream, const char *prev_hex, struct auditlog_verify_result *result)
{
	struct verifier v = {.prev_hex = prev_hex, .res = result};
	char *buf = malloc(AUDITLOG_MAX_LINE + 2);
	bool terminated;
	long len;
	int r = 0;

	memset(result, 0, sizeof(*result));
	if (!buf)
		return -ENOMEM;
	if (prev_hex && !hex_hash_valid(prev_hex))
		r = verify_fail(&v, 0, "the given previous hash is not 64 lowercase hex digits");
	while (r == 0 && (len = read_line(stream, buf, &terminated)) != -1) {
		v.line_no++;
		if (len == -2)
			r = verify_fail(&v, v.line_no, "line longer than %d bytes", AUDITLOG_MAX_LINE);
		else if (!terminated)
			r = verify_fail(&v, v.line_no, "truncated (no newline at the end)");
		else if ((r = verify_line(&v, buf, (size_t)len)) == 0)
			result->records++;
	}
	if (r == 0 && ferror(stream))
		r = -EIO;
	if (v.last_seq)
		memcpy(result->last_hash, v.last_hash, sizeof(result->last_hash));
	free(buf);
	return r;
}
