/* The audit log: appends and the chain, what verify names for each kind of
 * tampering, continuation across reopen and restart, retention, a full
 * filesystem (a 64 KiB tmpfs in a private mount namespace, when run as root), and
 * the queue of the failover path's records: order and stamps, a failed write kept
 * and retried, a full queue counted. fdatasync is wrapped (-Wl,--wrap) so a test
 * can count syncs and make them fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <sys/mount.h>
#include <sys/time.h>

#include "../../fomgr/auditlog.c"

static char dir[64];
static char path[128];

static int syncs;     /* fdatasync calls */
static int fail_sync; /* errno the next fdatasync calls fail with; 0: they work */

int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd)
{
	syncs++;
	if (fail_sync) {
		errno = fail_sync;
		return -1;
	}
	return __real_fdatasync(fd);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_auditlog.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	syncs = fail_sync = 0;
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void append_n(struct auditlog *log, int n)
{
	for (int i = 0; i < n; i++) {
		json_t *f = json_pack("{s:i, s:s}", "i", i, "what", "test record \"quoted\" \xc3\xa9");

		assert_int_equal(auditlog_append(log, AUDITLOG_ADMIN, f), 0);
		json_decref(f);
	}
}

static void write_log(const char *p, int n)
{
	struct auditlog *log = auditlog_open(p, "n1", NULL);

	assert_non_null(log);
	append_n(log, n);
	auditlog_close(log);
}

/* Reads p into lines[] (each without the newline); returns the count. */
static int read_lines(const char *p, char lines[][4096], int max)
{
	FILE *f = fopen(p, "r");
	int n = 0;

	assert_non_null(f);
	while (n < max && fgets(lines[n], 4096, f)) {
		lines[n][strcspn(lines[n], "\n")] = '\0';
		n++;
	}
	fclose(f);
	return n;
}

static void write_lines(const char *p, char lines[][4096], int n, bool last_newline)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%s", lines[i], i + 1 < n || last_newline ? "\n" : "");
	fclose(f);
}

static int verify_path(const char *p, const char *prev, struct auditlog_verify_result *res)
{
	FILE *f = fopen(p, "r");
	int r;

	assert_non_null(f);
	r = auditlog_verify(f, prev, res);
	fclose(f);
	return r;
}

static char lines[40][4096];

static void test_append_verify(void **state)
{
	struct auditlog_verify_result res;
	char hash[HASH_HEX_LEN + 1];
	json_t *rec;
	int n;

	write_log(path, 20);
	assert_int_equal(verify_path(path, NULL, &res), 0);
	assert_int_equal(res.records, 20);
	assert_int_equal(res.bad_line, 0);
	n = read_lines(path, lines, 40);
	assert_int_equal(n, 20);
	sha256_hex(lines[19], strlen(lines[19]), hash);
	assert_string_equal(res.last_hash, hash);
	/* The first record chains to zeros and carries every field. */
	rec = json_loads(lines[0], 0, NULL);
	assert_non_null(rec);
	assert_string_equal(json_string_value(json_object_get(rec, "prev")), ZERO_HASH);
	assert_int_equal(json_integer_value(json_object_get(rec, "seq")), 1);
	assert_string_equal(json_string_value(json_object_get(rec, "type")), "admin");
	assert_string_equal(json_string_value(json_object_get(rec, "node")), "n1");
	assert_int_equal(strlen(json_string_value(json_object_get(rec, "ts"))), strlen("2024-01-02T03:04:05.678Z"));
	assert_true(json_integer_value(json_object_get(rec, "mono_ms")) > 0);
	assert_non_null(json_object_get(rec, "boot_id"));
	assert_null(strchr(lines[0], 0xc3)); /* ASCII only */
	json_decref(rec);
}

static void test_caller_fields_untouched(void **state)
{
	struct auditlog *log = auditlog_open(path, "n1", NULL);
	json_t *f = json_pack("{s:s, s:i}", "user", "alice", "seq", 99);

	assert_int_equal(auditlog_append(log, AUDITLOG_ADMIN, f), 0);
	assert_int_equal(json_object_size(f), 2);
	assert_int_equal(json_integer_value(json_object_get(f, "seq")), 99);
	assert_int_equal(auditlog_seq(log), 1);
	assert_int_equal(auditlog_append(log, AUDITLOG_TYPE_MAX, f), -EINVAL);
	json_decref(f);
	assert_int_equal(auditlog_append(log, AUDITLOG_STOP, NULL), 0);
	assert_int_equal(auditlog_seq(log), 2);
	auditlog_close(log);
}

static void test_edit_detected(void **state)
{
	struct auditlog_verify_result res;
	char *at;

	write_log(path, 10);
	read_lines(path, lines, 40);
	/* The same layout, another value: the next record's prev gives it away. */
	at = strstr(lines[4], "\"node\":\"n1\"");
	assert_non_null(at);
	at[9] = '2';
	write_lines(path, lines, 10, true);
	assert_int_equal(verify_path(path, NULL, &res), -EBADMSG);
	assert_int_equal(res.bad_line, 5);
	assert_non_null(strstr(res.reason, "edited"));
	assert_int_equal(res.records, 4); /* intact before the bad one */
}

static void test_edit_layout_detected(void **state)
{
	struct auditlog_verify_result res;
	char edited[4096];

	write_log(path, 10);
	read_lines(path, lines, 40);
	snprintf(edited, sizeof(edited), "%s", lines[6]);
	if (snprintf(lines[6], sizeof(lines[6]), "%.*s %s", 1, edited, edited + 1) >= (int)sizeof(lines[6]))
		fail_msg("line too long for the test buffer");
	write_lines(path, lines, 10, true);
	assert_int_equal(verify_path(path, NULL, &res), -EBADMSG);
	assert_int_equal(res.bad_line, 7);
	assert_string_equal(res.reason, "edited (not the canonical form the writer produces)");
	assert_int_equal(res.records, 6);
}

static void test_edit_last_record_detected_by_layout_only(void **state)
{
	struct auditlog_verify_result res;

	write_log(path, 3);
	read_lines(path, lines, 40);
	strcat(lines[2], " ");
	write_lines(path, lines, 3, true);
	assert_int_equal(verify_path(path, NULL, &res), -EBADMSG);
	assert_int_equal(res.bad_line, 3);
}

static void test_removed_detected(void **state)
{
	struct auditlog_verify_result res;

	write_log(path, 10);
	read_lines(path, lines, 40);
	memmove(lines[4], lines[5], sizeof(lines[0]) * 5);
	write_lines(path, lines, 9, true);
	assert_int_equal(verify_path(path, NULL, &res), -EBADMSG);
	assert_int_equal(res.bad_line, 5);
	assert_string_equal(res.reason, "removed or reordered (seq 6 after 4)");
}

static void test_swapped_detected(void **state)
{
	struct auditlog_verify_result res;
	char tmp[4096];

	write_log(path, 10);
	read_lines(path, lines, 40);
	memcpy(tmp, lines[2], sizeof(tmp));
	memcpy(lines[2], lines[3], sizeof(tmp));
	memcpy(lines[3], tmp, sizeof(tmp));
	write_lines(path, lines, 10, true);
	assert_int_equal(verify_path(path, NULL, &res), -EBADMSG);
	assert_int_equal(res.bad_line, 3);
	assert_string_equal(res.reason, "removed or reordered (seq 4 after 2)");
}

static void test_truncated_last_line(void **state)
{
	struct auditlog_verify_result res;

	write_log(path, 5);
	read_lines(path, lines, 40);
	lines[4][strlen(lines[4]) / 2] = '\0';
	write_lines(path, lines, 5, false);
	assert_int_equal(verify_path(path, NULL, &res), -EBADMSG);
	assert_int_equal(res.bad_line, 5);
	assert_string_equal(res.reason, "truncated (no newline at the end)");
	assert_int_equal(res.records, 4);
}

static void test_not_json_and_missing_field(void **state)
{
	struct auditlog_verify_result res;

	write_log(path, 4);
	read_lines(path, lines, 40);
	snprintf(lines[1], sizeof(lines[1]), "hello");
	write_lines(path, lines, 4, true);
	assert_int_equal(verify_path(path, NULL, &res), -EBADMSG);
	assert_int_equal(res.bad_line, 2);
	assert_string_equal(res.reason, "not JSON");

	snprintf(lines[0], sizeof(lines[0]), "{\"seq\":1}");
	write_lines(path, lines, 1, true);
	assert_int_equal(verify_path(path, NULL, &res), -EBADMSG);
	assert_string_equal(res.reason, "missing or bad field 'type'");
}

static void test_first_record_chain(void **state)
{
	struct auditlog_verify_result res;
	char *at;

	write_log(path, 3);
	read_lines(path, lines, 40);
	at = strstr(lines[0], ZERO_HASH);
	assert_non_null(at);
	at[0] = '1';
	write_lines(path, lines, 3, true);
	assert_int_equal(verify_path(path, NULL, &res), -EBADMSG);
	assert_int_equal(res.bad_line, 1);
	assert_non_null(strstr(res.reason, "chain broken"));
}

static void test_empty_is_intact(void **state)
{
	struct auditlog_verify_result res;
	FILE *f = fmemopen((void *)"", 0, "r");

	if (!f) /* glibc refuses size 0 before 2.22 */
		return;
	assert_int_equal(auditlog_verify(f, NULL, &res), 0);
	assert_int_equal(res.records, 0);
	fclose(f);
}

/* logrotate moves the file, then fomgr reopens: the new file continues the chain. */
static void test_reopen_continues_chain(void **state)
{
	struct auditlog_verify_result res1, res2;
	struct auditlog *log = auditlog_open(path, "n1", NULL);
	char rotated[160], wrong[HASH_HEX_LEN + 1];

	append_n(log, 5);
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	assert_int_equal(rename(path, rotated), 0);
	append_n(log, 1); /* still into the moved file, as before postrotate runs */
	assert_int_equal(auditlog_reopen(log), 0);
	append_n(log, 4);
	assert_int_equal(auditlog_seq(log), 10);
	auditlog_close(log);

	assert_int_equal(verify_path(rotated, NULL, &res1), 0);
	assert_int_equal(res1.records, 6);
	assert_int_equal(verify_path(path, res1.last_hash, &res2), 0);
	assert_int_equal(res2.records, 4);
	assert_int_equal(verify_path(path, NULL, &res2), 0); /* starts at seq 7: a continuation */
	memcpy(wrong, res1.last_hash, sizeof(wrong));
	wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
	assert_int_equal(verify_path(path, wrong, &res2), -EBADMSG);
	assert_int_equal(res2.bad_line, 1);
	assert_non_null(strstr(res2.reason, "chain broken"));
}

/* A restart continues from the file's last record; after a rotation while fomgr was
 * stopped, from the newest rotated file. */
static void test_restart_continues_chain(void **state)
{
	struct auditlog_verify_result res1, res2;
	char rotated[160];
	struct auditlog *log;

	write_log(path, 3);
	write_log(path, 2);
	assert_int_equal(verify_path(path, NULL, &res1), 0);
	assert_int_equal(res1.records, 5);

	snprintf(rotated, sizeof(rotated), "%s.1", path);
	assert_int_equal(rename(path, rotated), 0);
	log = auditlog_open(path, "n1", NULL);
	assert_non_null(log);
	assert_int_equal(auditlog_seq(log), 5);
	append_n(log, 2);
	auditlog_close(log);
	assert_int_equal(verify_path(path, res1.last_hash, &res2), 0);
	assert_int_equal(res2.records, 2);
}

/* A crash in the middle of a write leaves an unterminated line: it was never
 * acknowledged, and opening the log cuts it off. */
static void test_open_cuts_partial_tail(void **state)
{
	struct auditlog_verify_result res;
	struct auditlog *log;
	FILE *f;

	write_log(path, 3);
	f = fopen(path, "a");
	fputs("{\"seq\":4,\"ty", f);
	fclose(f);
	log = auditlog_open(path, "n1", NULL);
	assert_non_null(log);
	assert_int_equal(auditlog_seq(log), 3);
	append_n(log, 1);
	auditlog_close(log);
	assert_int_equal(verify_path(path, NULL, &res), 0);
	assert_int_equal(res.records, 4);
}

static void test_open_refuses_garbage_tail(void **state)
{
	FILE *f = fopen(path, "w");

	fputs("not a record\n", f);
	fclose(f);
	assert_null(auditlog_open(path, "n1", NULL));
	assert_int_equal(errno, EBADMSG);
}

static void make_file(const char *name, size_t size, time_t age_days)
{
	char p[192];
	struct timeval tv[2];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	for (size_t i = 0; i < size; i++)
		fputc('x', f);
	fclose(f);
	tv[0].tv_sec = tv[1].tv_sec = time(NULL) - age_days * 86400 - 60;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	assert_int_equal(utimes(p, tv), 0);
}

static bool exists(const char *name)
{
	char p[192];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static void test_retention_by_age(void **state)
{
	struct auditlog_options o = {.max_age_days = 7};
	struct auditlog *log;

	make_file("audit.log.1", 10, 1);
	make_file("audit.log.2.gz", 10, 8);
	make_file("audit.log-20200101", 10, 30);
	make_file("audit.log-20200102.gz", 10, 29);
	make_file("audit.logger", 10, 30);   /* not a rotation of ours */
	make_file("other.log.1", 10, 30);
	log = auditlog_open(path, "n1", &o);
	assert_non_null(log);
	auditlog_close(log);
	assert_true(exists("audit.log.1"));
	assert_false(exists("audit.log.2.gz"));
	assert_false(exists("audit.log-20200101"));
	assert_false(exists("audit.log-20200102.gz"));
	assert_true(exists("audit.logger"));
	assert_true(exists("other.log.1"));
	assert_true(exists("audit.log"));
}

static void test_retention_by_size(void **state)
{
	struct auditlog_options o = {.max_bytes = 2500};
	struct auditlog *log;

	make_file("audit.log.1", 1000, 1);
	make_file("audit.log.2", 1000, 2);
	make_file("audit.log.3", 1000, 3);
	log = auditlog_open(path, "n1", &o);
	assert_non_null(log);
	assert_int_equal(retention_apply(path, &o, time(NULL)), 0);
	auditlog_close(log);
	assert_true(exists("audit.log.1"));
	assert_true(exists("audit.log.2"));
	assert_false(exists("audit.log.3"));
}

static void test_oversized_record_refused(void **state)
{
	struct auditlog *log = auditlog_open(path, "n1", NULL);
	char *big = malloc(AUDITLOG_MAX_LINE);
	json_t *f;

	memset(big, 'a', AUDITLOG_MAX_LINE - 1);
	big[AUDITLOG_MAX_LINE - 1] = '\0';
	f = json_pack("{s:s}", "big", big);
	assert_int_equal(auditlog_append(log, AUDITLOG_ADMIN, f), -EMSGSIZE);
	assert_int_equal(auditlog_seq(log), 0);
	json_decref(f);
	free(big);
	auditlog_close(log);
}

/* ---- a full filesystem ---- */

static bool private_tmpfs(const char *where, const char *size)
{
	char opts[32];

	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0)
		return false;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return false;
	snprintf(opts, sizeof(opts), "size=%s,mode=0700", size);
	return mount("tmpfs", where, "tmpfs", 0, opts) == 0;
}

static void test_full_filesystem(void **state)
{
	struct auditlog_verify_result res;
	char mnt[96], logp[128], filler[128];
	struct auditlog *log;
	char payload[3000];
	uint64_t before;
	int r = 0, ok = 0;
	json_t *f;
	FILE *ff;

	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (!private_tmpfs(mnt, "64k"))
		skip();
	snprintf(logp, sizeof(logp), "%s/audit.log", mnt);
	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	ff = fopen(filler, "w");
	for (int i = 0; i < 16384; i++)
		fputc('f', ff);
	fclose(ff);

	memset(payload, 'p', sizeof(payload) - 1);
	payload[sizeof(payload) - 1] = '\0';
	f = json_pack("{s:s}", "payload", payload);
	log = auditlog_open(logp, "n1", NULL);
	assert_non_null(log);
	while ((r = auditlog_append(log, AUDITLOG_ADMIN, f)) == 0 && ok < 1000)
		ok++;
	assert_int_equal(r, -ENOSPC);
	assert_true(ok > 3);
	before = auditlog_seq(log);
	assert_int_equal(before, (uint64_t)ok);
	assert_int_equal(auditlog_append(log, AUDITLOG_ADMIN, f), -ENOSPC);
	assert_int_equal(auditlog_seq(log), before);
	/* Nothing half-written: every line whole, the chain intact. */
	assert_int_equal(verify_path(logp, NULL, &res), 0);
	assert_int_equal(res.records, before);

	assert_int_equal(unlink(filler), 0);
	assert_int_equal(auditlog_append(log, AUDITLOG_ADMIN, f), 0);
	assert_int_equal(auditlog_seq(log), before + 1);
	assert_int_equal(verify_path(logp, NULL, &res), 0);
	assert_int_equal(res.records, before + 1);
	auditlog_close(log);
	json_decref(f);
	assert_int_equal(umount(mnt), 0);
}

/* ---- the queue ---- */

static json_t *rec_of(const char *line)
{
	json_t *rec = json_loads(line, 0, NULL);

	assert_non_null(rec);
	return rec;
}

static json_int_t int_of(const char *line, const char *key)
{
	json_t *rec = rec_of(line);
	json_int_t v = json_integer_value(json_object_get(rec, key));

	json_decref(rec);
	return v;
}

static const char *type_of(const char *line)
{
	static char type[32];
	json_t *rec = rec_of(line);

	snprintf(type, sizeof(type), "%s", json_string_value(json_object_get(rec, "type")));
	json_decref(rec);
	return type;
}

static int enqueue_i(struct auditlog *log, enum auditlog_type type, int i, uint64_t at_us)
{
	json_t *f = json_pack("{s:i}", "i", i);
	int r = auditlog_enqueue(log, type, f, at_us);

	json_decref(f);
	return r;
}

/* Queued records wait for the loop, then go out in order, in one sync, stamped
 * with when they were queued (or when their event happened). */
static void test_queue_order_and_stamps(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct auditlog *log = auditlog_open(path, "n1", NULL);
	struct auditlog_verify_result res;
	struct auditlog_queue_stats st;
	uint64_t event_us = clock_mono_us() - 250000; /* the event, a quarter second ago */
	uint64_t real_before = clock_real_ms();

	auditlog_attach(log, loop);
	assert_int_equal(enqueue_i(log, AUDITLOG_MEMBERSHIP, 1, event_us), 0);
	assert_int_equal(enqueue_i(log, AUDITLOG_QUORUM, 2, event_us), 0);
	assert_int_equal(enqueue_i(log, AUDITLOG_TRANSITION, 3, 0), 0);
	assert_int_equal(syncs, 0); /* nothing written from inside the event */
	assert_int_equal(read_lines(path, lines, 40), 0);
	auditlog_queue_stats(log, &st);
	assert_int_equal(st.depth, 3);
	assert_int_equal(st.oldest_mono_ms, event_us / 1000);

	ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(syncs, 1);
	assert_int_equal(read_lines(path, lines, 40), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(int_of(lines[i], "seq"), i + 1);
		assert_int_equal(int_of(lines[i], "i"), i + 1);
	}
	assert_string_equal(type_of(lines[0]), "membership");
	assert_string_equal(type_of(lines[2]), "transition");
	assert_int_equal(int_of(lines[0], "mono_ms"), (json_int_t)(event_us / 1000));
	assert_true(int_of(lines[0], "realtime_ms") <= (json_int_t)real_before - 240);
	assert_true(int_of(lines[2], "realtime_ms") >= (json_int_t)real_before);
	assert_int_equal(verify_path(path, NULL, &res), 0);
	auditlog_queue_stats(log, &st);
	assert_int_equal(st.depth, 0);
	assert_int_equal(st.queued, 3);
	assert_int_equal(st.written, 3);
	auditlog_close(log);
	ev_loop_destroy(loop);
}

/* An operator's record never overtakes the queue. */
static void test_queue_append_writes_queue_first(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct auditlog *log = auditlog_open(path, "n1", NULL);
	struct auditlog_verify_result res;

	auditlog_attach(log, loop);
	assert_int_equal(enqueue_i(log, AUDITLOG_QUORUM, 1, 0), 0);
	assert_int_equal(enqueue_i(log, AUDITLOG_TRANSITION, 2, 0), 0);
	append_n(log, 1);
	assert_int_equal(read_lines(path, lines, 40), 3);
	assert_string_equal(type_of(lines[0]), "quorum");
	assert_string_equal(type_of(lines[1]), "transition");
	assert_string_equal(type_of(lines[2]), "admin");
	assert_int_equal(verify_path(path, NULL, &res), 0);
	ev_run(loop, EVRUN_NOWAIT); /* the flush timer finds nothing left */
	assert_int_equal(read_lines(path, lines, 40), 3);
	auditlog_close(log);
	ev_loop_destroy(loop);
}

/* A write that fails leaves nothing in the file and everything in the queue; an
 * append is refused meanwhile; the retry timer writes it all once the disk works. */
static void test_queue_failed_write_retried(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct auditlog *log = auditlog_open(path, "n1", NULL);
	struct auditlog_verify_result res;
	struct auditlog_queue_stats st;
	json_t *f = json_object();

	auditlog_attach(log, loop);
	fail_sync = EIO;
	for (int i = 1; i <= 3; i++)
		assert_int_equal(enqueue_i(log, AUDITLOG_MEMBERSHIP, i, 0), 0);
	ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(read_lines(path, lines, 40), 0); /* the failed batch was cut away */
	auditlog_queue_stats(log, &st);
	assert_int_equal(st.depth, 3);
	assert_int_equal(st.flush_errors, 1);
	assert_int_equal(st.last_error, -EIO);
	assert_true(ev_is_active(&log->retry));
	assert_int_equal(auditlog_append(log, AUDITLOG_ADMIN, f), -EIO);
	/* Queued meanwhile: waits for the retry, behind the others. */
	assert_int_equal(enqueue_i(log, AUDITLOG_QUORUM, 4, 0), 0);
	assert_false(ev_is_active(&log->flush));

	fail_sync = 0;
	ev_feed_event(loop, &log->retry, EV_TIMER); /* a second later */
	ev_invoke_pending(loop);
	assert_false(ev_is_active(&log->retry));
	assert_int_equal(read_lines(path, lines, 40), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(int_of(lines[i], "i"), i + 1);
	assert_int_equal(auditlog_append(log, AUDITLOG_ADMIN, f), 0);
	assert_int_equal(verify_path(path, NULL, &res), 0);
	assert_int_equal(res.records, 5);
	auditlog_queue_stats(log, &st);
	assert_int_equal(st.depth, 0);
	assert_int_equal(st.written, 4);
	assert_int_equal(st.last_error, 0);
	json_decref(f);
	auditlog_close(log);
	ev_loop_destroy(loop);
}

static int count_lines(const char *p, char *last, size_t size)
{
	FILE *f = fopen(p, "r");
	static char buf[AUDITLOG_MAX_LINE + 2];
	int n = 0;

	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		n++;
		memcpy(last, buf, size - 1);
		last[size - 1] = '\0';
	}
	fclose(f);
	return n;
}

/* Full: refused and counted, and the log itself says how many are missing. */
static void test_queue_full_counted(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct auditlog *log = auditlog_open(path, "n1", NULL);
	struct auditlog_verify_result res;
	struct auditlog_queue_stats st;
	char last[4096];

	auditlog_attach(log, loop);
	for (int i = 0; i < AUDITLOG_QUEUE_MAX; i++)
		assert_int_equal(enqueue_i(log, AUDITLOG_FINDING, i, 0), 0);
	assert_int_equal(enqueue_i(log, AUDITLOG_FINDING, -1, 0), -ENOBUFS);
	assert_int_equal(enqueue_i(log, AUDITLOG_FINDING, -2, 0), -ENOBUFS);
	auditlog_queue_stats(log, &st);
	assert_int_equal(st.depth, AUDITLOG_QUEUE_MAX);
	assert_int_equal(st.max_depth, AUDITLOG_QUEUE_MAX);
	assert_int_equal(st.dropped_full, 2);

	ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(count_lines(path, last, sizeof(last)), AUDITLOG_QUEUE_MAX);
	assert_int_equal(syncs, (AUDITLOG_QUEUE_MAX + FLUSH_BATCH - 1) / FLUSH_BATCH);
	assert_int_equal(enqueue_i(log, AUDITLOG_QUORUM, 7, 0), 0);
	ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(count_lines(path, last, sizeof(last)), AUDITLOG_QUEUE_MAX + 1);
	assert_int_equal(int_of(last, "i"), 7);
	assert_int_equal(int_of(last, "dropped_before"), 2);
	assert_int_equal(verify_path(path, NULL, &res), 0);
	auditlog_close(log);
	ev_loop_destroy(loop);
}

/* A record too long to write leaves the queue (it would block it for ever); the
 * next one says so. */
static void test_queue_oversized_dropped(void **state)
{
	struct auditlog *log = auditlog_open(path, "n1", NULL);
	struct auditlog_queue_stats st;
	char *big = malloc(AUDITLOG_MAX_LINE);
	json_t *f;

	memset(big, 'a', AUDITLOG_MAX_LINE - 1);
	big[AUDITLOG_MAX_LINE - 1] = '\0';
	f = json_pack("{s:s}", "big", big);
	/* No loop attached: written at once (the tools' way). */
	assert_int_equal(auditlog_enqueue(log, AUDITLOG_SNAPSHOT, f, 0), 0);
	assert_int_equal(enqueue_i(log, AUDITLOG_QUORUM, 1, 0), 0);
	assert_int_equal(read_lines(path, lines, 40), 1);
	assert_int_equal(int_of(lines[0], "dropped_before"), 1);
	assert_int_equal(int_of(lines[0], "seq"), 1);
	auditlog_queue_stats(log, &st);
	assert_int_equal(st.dropped_bad, 1);
	assert_int_equal(st.depth, 0);
	json_decref(f);
	free(big);
	auditlog_close(log);
}

static void test_type_names(void **state)
{
	for (int t = 0; t < AUDITLOG_TYPE_MAX; t++)
		assert_non_null(type_names[t]);
	assert_string_equal(auditlog_type_str(AUDITLOG_ACCESS_DENIED), "access_denied");
	assert_string_equal(auditlog_type_str(AUDITLOG_TYPE_MAX), "invalid");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_append_verify),
		T(test_caller_fields_untouched),
		T(test_edit_detected),
		T(test_edit_layout_detected),
		T(test_edit_last_record_detected_by_layout_only),
		T(test_removed_detected),
		T(test_swapped_detected),
		T(test_truncated_last_line),
		T(test_not_json_and_missing_field),
		T(test_first_record_chain),
		T(test_empty_is_intact),
		T(test_reopen_continues_chain),
		T(test_restart_continues_chain),
		T(test_open_cuts_partial_tail),
		T(test_open_refuses_garbage_tail),
		T(test_retention_by_age),
		T(test_retention_by_size),
		T(test_queue_order_and_stamps),
		T(test_queue_append_writes_queue_first),
		T(test_queue_failed_write_retried),
		T(test_queue_full_counted),
		T(test_queue_oversized_dropped),
		T(test_oversized_record_refused),
		T(test_type_names),
		T(test_full_filesystem), /* last: it leaves the mount namespace */
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
