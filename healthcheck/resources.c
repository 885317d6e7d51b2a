#include "resources.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fo/procfile.h"

/* /proc/stat grows with the CPU count (and its intr line with the IRQ count); the
 * cpu lines come first, so a bounded read keeps all of them up to thousands of CPUs. */
#define STAT_MAX (256 * 1024)
#define SMALL_MAX 8192
/* No CPU time counter reaches this; the bound keeps their sums from wrapping. */
#define COUNTER_MAX (UINT64_MAX >> 8)

static const char *const kind_names[RESOURCES_KIND_MAX] = {
	"cpu", "memory", "load", "fd_system", "fd_process", "conn_per_port", "half_open", "listen_overflows",
};

const char *resources_kind_str(enum resources_kind kind)
{
	return (unsigned)kind < RESOURCES_KIND_MAX ? kind_names[kind] : "invalid";
}

/* ---- parsers ---- */

/* Skips blanks (not newlines), then reads a decimal counter no larger than max. */
static int parse_u64_max(const char **p, uint64_t max, uint64_t *out)
{
	const char *s = *p + strspn(*p, " \t");
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v > max)
		return -EINVAL;
	*out = v;
	*p = end;
	return 0;
}

static int parse_u64(const char **p, uint64_t *out)
{
	return parse_u64_max(p, UINT64_MAX, out);
}

static int parse_double(const char **p, double *out)
{
	const char *s = *p + strspn(*p, " \t");
	char *end;
	double v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || !isfinite(v))
		return -EINVAL;
	*out = v;
	*p = end;
	return 0;
}

/* The end of a line's content: only blanks, then newline or NUL. */
static bool at_line_end(const char *p)
{
	p += strspn(p, " \t");
	return *p == '\n' || *p == '\0';
}

static const char *line_next(const char *line)
{
	line += strcspn(line, "\n");
	return *line ? line + 1 : line;
}

static bool prefix_is(const char *line, const char *prefix)
{
	return strncmp(line, prefix, strlen(prefix)) == 0;
}

/* user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is
 * already inside user and nice, so it is not added again. */
static int parse_cpu_line(const char *p, struct resources_cpu *out)
{
	uint64_t v[8] = {0};
	size_t n = 0;

	while (n < 8 && !at_line_end(p)) {
		if (parse_u64_max(&p, COUNTER_MAX, &v[n++]))
			return -EINVAL;
	}
	if (n < 4)
		return -EINVAL;
	out->busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	out->total = out->busy + v[3] + v[4];
	return 0;
}

int resources_parse_stat(const char *text, struct resources_cpu *out)
{
	struct resources_cpu cpu = {0};

	if (!prefix_is(text, "cpu ") || parse_cpu_line(text + 4, &cpu))
		return -EINVAL;
	for (const char *line = line_next(text); prefix_is(line, "cpu"); line = line_next(line)) {
		if (line[3] < '0' || line[3] > '9')
			return -EINVAL;
		cpu.ncpu++;
	}
	if (!cpu.ncpu || cpu.total == 0)
		return -EINVAL;
	*out = cpu;
	return 0;
}

/* "Key:   value kB" */
static int meminfo_value(const char *line, const char *key, uint64_t *out, bool *seen)
{
	const char *p = line + strlen(key);

	if (!prefix_is(line, key))
		return 0;
	if (*seen || parse_u64(&p, out))
		return -EINVAL;
	*seen = true;
	return 0;
}

int resources_parse_meminfo(const char *text, struct resources_mem *out)
{
	struct resources_mem mem = {0};
	bool have_total = false, have_avail = false;

	for (const char *line = text; *line; line = line_next(line)) {
		if (meminfo_value(line, "MemTotal:", &mem.total_kb, &have_total) ||
		    meminfo_value(line, "MemAvailable:", &mem.available_kb, &have_avail))
			return -EINVAL;
	}
	if (!have_total || !have_avail || mem.total_kb == 0 || mem.available_kb > mem.total_kb)
		return -EINVAL;
	*out = mem;
	return 0;
}

/* "0.52 0.58 0.59 1/1234 5678": only the three averages are used. */
int resources_parse_loadavg(const char *text, struct resources_load *out)
{
	struct resources_load load;
	const char *p = text;

	for (int i = 0; i < 3; i++) {
		if (parse_double(&p, &load.avg[i]) || (*p != ' ' && *p != '\t' && !(i == 2 && at_line_end(p))))
			return -EINVAL;
	}
	*out = load;
	return 0;
}

/* "allocated unused max" */
int resources_parse_file_nr(const char *text, struct resources_fds *out)
{
	uint64_t allocated, unused, max;
	const char *p = text;

	if (parse_u64(&p, &allocated) || parse_u64(&p, &unused) || parse_u64(&p, &max) || !at_line_end(p))
		return -EINVAL;
	if (unused > allocated || max == 0)
		return -EINVAL;
	out->used = allocated - unused;
	out->max = max;
	return 0;
}

int resources_cpu_pct(const struct resources_cpu *prev, const struct resources_cpu *cur, double *pct)
{
	uint64_t busy, total;

	if (cur->total < prev->total || cur->busy < prev->busy)
		return -EINVAL;
	total = cur->total - prev->total;
	busy = cur->busy - prev->busy;
	if (total == 0)
		return -EAGAIN;
	/* iowait may step back on tickless kernels, so busy can outgrow total. */
	/* The ratio first, and clamped: 100.0 * busy / total rounded to just above 100
	 * for counters near 2^54 (fuzz_resources, busy = total - 1). */
	*pct = busy >= total ? 100.0 : 100.0 * ((double)busy / (double)total);
	if (*pct > 100.0)
		*pct = 100.0;
	return 0;
}

/* ---- readers ---- */

int resources_read_cpu(struct resources_cpu *out)
{
	char *buf = malloc(STAT_MAX);
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = procfile_read("/proc/stat", buf, STAT_MAX);
	if (!rc)
		rc = resources_parse_stat(buf, out);
	free(buf);
	return rc;
}

int resources_read_mem(struct resources_mem *out)
{
	char buf[SMALL_MAX];
	int rc = procfile_read("/proc/meminfo", buf, sizeof(buf));

	return rc ? rc : resources_parse_meminfo(buf, out);
}

int resources_read_load(struct resources_load *out)
{
	char buf[256];
	int rc = procfile_read("/proc/loadavg", buf, sizeof(buf));

	return rc ? rc : resources_parse_loadavg(buf, out);
}

int resources_read_fds_system(struct resources_fds *out)
{
	char buf[256];
	int rc = procfile_read("/proc/sys/fs/file-nr", buf, sizeof(buf));

	return rc ? rc : resources_parse_file_nr(buf, out);
}

int resources_read_fds_process(struct resources_fds *out)
{
	struct rlimit rl;
	uint64_t n = 0;
	DIR *dir;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	dir = opendir("/proc/self/fd");
	if (!dir)
		return -errno;
	while (readdir(dir))
		n++;
	closedir(dir);
	/* Less ".", ".." and the descriptor of the listing itself. */
	out->used = n >= 3 ? n - 3 : 0;
	out->max = rl.rlim_cur == RLIM_INFINITY ? 0 : (uint64_t)rl.rlim_cur;
	return 0;
}

/* ---- samples ---- */

static void set_value(struct resources_sample *s, enum resources_kind kind, double value)
{
	s->value[kind] = value;
	s->valid |= 1u << kind;
}

static double pct_of(uint64_t used, uint64_t max)
{
	return 100.0 * (double)used / (double)max;
}

static void keep_error(int *first, int rc)
{
	if (rc && !*first)
		*first = rc;
}

static void sample_cpu_load(const struct resources_sample *prev, struct resources_sample *out, int *rc)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned ncpu = online > 0 ? (unsigned)online : 1;
	double pct;
	int r = resources_read_cpu(&out->cpu);

	keep_error(rc, r);
	if (!r) {
		ncpu = out->cpu.ncpu;
		if (prev && prev->cpu.total && resources_cpu_pct(&prev->cpu, &out->cpu, &pct) == 0)
			set_value(out, RESOURCES_CPU, pct);
	}
	r = resources_read_load(&out->load);
	keep_error(rc, r);
	if (!r)
		set_value(out, RESOURCES_LOAD, out->load.avg[0] / ncpu);
}

int resources_sample_node(const struct resources_sample *prev, struct resources_sample *out)
{
	const unsigned node = 1u << RESOURCES_CPU | 1u << RESOURCES_MEM | 1u << RESOURCES_LOAD |
			      1u << RESOURCES_FD_SYSTEM | 1u << RESOURCES_FD_PROCESS;
	int rc = 0, r;

	out->valid &= ~node;
	memset(&out->cpu, 0, sizeof(out->cpu));
	sample_cpu_load(prev, out, &rc);
	r = resources_read_mem(&out->mem);
	keep_error(&rc, r);
	if (!r)
		set_value(out, RESOURCES_MEM, pct_of(out->mem.total_kb - out->mem.available_kb, out->mem.total_kb));
	r = resources_read_fds_system(&out->fd_system);
	keep_error(&rc, r);
	if (!r)
		set_value(out, RESOURCES_FD_SYSTEM, pct_of(out->fd_system.used, out->fd_system.max));
	r = resources_read_fds_process(&out->fd_process);
	keep_error(&rc, r);
	if (!r && out->fd_process.max)
		set_value(out, RESOURCES_FD_PROCESS, pct_of(out->fd_process.used, out->fd_process.max));
	return rc;
}

void resources_set_conns(struct resources_sample *out, const struct sockdiag_conn_counts *counts)
{
	uint32_t busiest = 0;

	out->busiest_port = 0;
	for (size_t i = 0; i < counts->n_ports; i++) {
		if (i == 0 || counts->ports[i].established > busiest) {
			busiest = counts->ports[i].established;
			out->busiest_port = counts->ports[i].port;
		}
	}
	set_value(out, RESOURCES_CONN_PER_PORT, busiest);
	set_value(out, RESOURCES_HALF_OPEN, (double)counts->syn_recv);
}

void resources_set_overflows(struct resources_sample *out, const struct resources_sample *prev,
			     const struct sockdiag_overflows *now)
{
	out->valid &= ~(1u << RESOURCES_LISTEN_OVERFLOWS);
	out->have_overflows = now != NULL;
	if (!now)
		return;
	out->overflows = *now;
	if (prev && prev->have_overflows) {
		uint64_t was = prev->overflows.listen_overflows, cur = now->listen_overflows;
		/* Lower than before only if the namespace was replaced: count from zero. */
		set_value(out, RESOURCES_LISTEN_OVERFLOWS, (double)(cur >= was ? cur - was : cur));
	}
}

static int sample_overflows(const struct resources_sample *prev, struct resources_sample *out)
{
	struct sockdiag_overflows now;
	int rc = sockdiag_listen_overflows(&now);

	resources_set_overflows(out, prev, rc ? NULL : &now);
	return rc;
}

int resources_sample_conns(const struct resources_sample *prev, struct resources_sample *out)
{
	const unsigned conns = 1u << RESOURCES_CONN_PER_PORT | 1u << RESOURCES_HALF_OPEN |
			       1u << RESOURCES_LISTEN_OVERFLOWS;
	struct sockdiag_conn_counts *counts;
	int rc;

	out->valid &= ~conns;
	rc = sockdiag_conn_counts(&counts);
	if (!rc) {
		resources_set_conns(out, counts);
		sockdiag_conn_counts_free(counts);
	}
	keep_error(&rc, sample_overflows(prev, out));
	return rc;
}

/* ---- evaluation ---- */

static double limit_of(const struct resources_thresholds *t, enum resources_kind kind)
{
	switch (kind) {
	case RESOURCES_CPU:
		return t->cpu_pct;
	case RESOURCES_MEM:
		return t->mem_pct;
	case RESOURCES_LOAD:
		return t->load_per_cpu;
	case RESOURCES_FD_SYSTEM:
	case RESOURCES_FD_PROCESS:
		return t->fd_pct;
	case RESOURCES_CONN_PER_PORT:
		return (double)t->conn_per_port;
	case RESOURCES_HALF_OPEN:
		return (double)t->half_open;
	case RESOURCES_LISTEN_OVERFLOWS:
		return (double)t->listen_overflows;
	default:
		return 0;
	}
}

int resources_evaluate(const struct resources_sample *sample, const struct resources_thresholds *thresholds,
		       struct resources_warnings *w)
{
	w->n = 0;
	for (int k = 0; k < RESOURCES_KIND_MAX; k++) {
		double limit = limit_of(thresholds, (enum resources_kind)k);

		if (!(sample->valid & (1u << k)) || !(limit > 0) || !(sample->value[k] >= limit))
			continue;
		w->items[w->n++] = (struct resources_warning){
			.kind = (enum resources_kind)k,
			.value = sample->value[k],
			.limit = limit,
			.port = k == RESOURCES_CONN_PER_PORT ? sample->busiest_port : 0,
		};
	}
	return (int)w->n;
}
