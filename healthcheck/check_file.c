#include "check_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_READ_MAX 65536

static int file_init(struct hc_check *c)
{
	return 0;
}

static void file_content(struct hc_check *c)
{
	const struct hc_check_conf *conf = c->conf;
	static char buf[FILE_READ_MAX]; /* one loop, one run at a time */
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd;

	/* O_NONBLOCK: a FIFO put in the file's place must not stall the loop */
	fd = open(conf->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		engine_check_done(c, HC_RESULT_FAIL, "%s: %s", conf->path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		engine_check_done(c, HC_RESULT_FAIL, "%s is not a regular file", conf->path);
		return;
	}
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (memmem(buf, len, conf->expect.data, conf->expect.len))
		engine_check_pass(c);
	else
		engine_check_done(c, HC_RESULT_FAIL, "%s does not contain '%.64s' in its first %d bytes", conf->path,
				  conf->expect.data, FILE_READ_MAX);
}

static void file_start(struct hc_check *c)
{
	const struct hc_check_conf *conf = c->conf;
	struct stat st;
	int rc;

	if (conf->file_mode == HC_FILE_CONTENT) {
		file_content(c);
		return;
	}
	rc = lstat(conf->path, &st) < 0 ? -errno : 0;
	if (rc < 0 && rc != -ENOENT) /* cannot tell: fail safe */
		engine_check_done(c, HC_RESULT_FAIL, "%s: %s", conf->path, strerror(-rc));
	else if (conf->file_mode == HC_FILE_EXISTS_FAILS && rc == 0)
		engine_check_done(c, HC_RESULT_FAIL, "drain file %s present", conf->path);
	else if (conf->file_mode == HC_FILE_EXISTS && rc < 0)
		engine_check_done(c, HC_RESULT_FAIL, "%s missing", conf->path);
	else
		engine_check_pass(c);
}

static void file_cancel(struct hc_check *c)
{
}

static void file_free(struct hc_check *c)
{
}

const struct check_kind check_file_kind = {
	.name = "file",
	.init = file_init,
	.start = file_start,
	.cancel = file_cancel,
	.free = file_free,
};
