/* Node resources for the health-check agent: CPU, memory, load and file descriptors
 * sampled from /proc, connection volume from sockdiag, and the capacity warnings that
 * configured thresholds make of them. The parsers take /proc text as a string (so
 * tests and the fuzzer feed them fixed input); resources_read_* read the real files.
 * The module keeps no state: the caller holds the previous sample. */
#ifndef FO_RESOURCES_H
#define FO_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fo/sockdiag.h"

/* What a figure, a threshold and a warning are about. */
enum resources_kind {
	RESOURCES_CPU,			/* busy % of all CPUs between two samples */
	RESOURCES_MEM,			/* (MemTotal - MemAvailable) / MemTotal % */
	RESOURCES_LOAD,			/* 1-minute load average per CPU */
	RESOURCES_FD_SYSTEM,		/* open files / fs.file-max % */
	RESOURCES_FD_PROCESS,		/* this process's descriptors / RLIMIT_NOFILE % */
	RESOURCES_CONN_PER_PORT,	/* established on the busiest listening port */
	RESOURCES_HALF_OPEN,		/* SYN_RECV connections, all ports */
	RESOURCES_LISTEN_OVERFLOWS,	/* TcpExt ListenOverflows since the previous sample */
	RESOURCES_KIND_MAX
};

const char *resources_kind_str(enum resources_kind kind);

struct resources_cpu {
	uint64_t busy;			/* jiffies, all CPUs, since boot */
	uint64_t total;
	unsigned ncpu;			/* cpuN lines */
};

struct resources_mem {
	uint64_t total_kb;
	uint64_t available_kb;
};

struct resources_load {
	double avg[3];			/* 1, 5 and 15 minutes */
};

struct resources_fds {
	uint64_t used;
	uint64_t max;
};

/* Parsers of NUL-terminated /proc text: 0, or -EINVAL when malformed. */
int resources_parse_stat(const char *text, struct resources_cpu *out);	  /* /proc/stat */
int resources_parse_meminfo(const char *text, struct resources_mem *out); /* /proc/meminfo */
int resources_parse_loadavg(const char *text, struct resources_load *out); /* /proc/loadavg */
int resources_parse_file_nr(const char *text, struct resources_fds *out); /* /proc/sys/fs/file-nr */

/* Busy % between two /proc/stat samples (prev older), in [0, 100]. -EAGAIN when no
 * time passed, -EINVAL when the counters went backwards. */
int resources_cpu_pct(const struct resources_cpu *prev, const struct resources_cpu *cur, double *pct);

/* Read and parse the files above; resources_read_fds_process counts /proc/self/fd
 * against the soft RLIMIT_NOFILE. */
int resources_read_cpu(struct resources_cpu *out);
int resources_read_mem(struct resources_mem *out);
int resources_read_load(struct resources_load *out);
int resources_read_fds_system(struct resources_fds *out);
int resources_read_fds_process(struct resources_fds *out);

struct resources_sample {
	unsigned valid;			/* bit (1u << kind): that figure below was sampled */
	double value[RESOURCES_KIND_MAX]; /* the figure each threshold is compared with */
	uint16_t busiest_port;		/* the port of RESOURCES_CONN_PER_PORT */
	/* Raw readings, kept as the next sample's baseline and for metrics. */
	struct resources_cpu cpu;
	struct resources_mem mem;
	struct resources_load load;
	struct resources_fds fd_system;
	struct resources_fds fd_process;
	bool have_overflows;
	struct sockdiag_overflows overflows; /* cumulative since boot */
};

/* Samples CPU, memory, load and descriptors into out, replacing those figures and
 * leaving the connection ones. CPU % needs prev (NULL on the first call). Fills every
 * figure it can and returns 0, or the first error met; valid says which are there.
 * prev and out are different samples. */
int resources_sample_node(const struct resources_sample *prev, struct resources_sample *out);

/* Samples connection volume through sockdiag into out, leaving the node figures: the
 * busiest listening port, half-open connections, and listen overflows since prev
 * (NULL on the first call). Same return convention as resources_sample_node. */
int resources_sample_conns(const struct resources_sample *prev, struct resources_sample *out);

/* Set out's connection figures from readings already taken: what
 * resources_sample_conns does after its netlink dump and its /proc read, for a
 * caller that keeps the counts (per-port metrics). now NULL: the read failed. */
void resources_set_conns(struct resources_sample *out, const struct sockdiag_conn_counts *counts);
void resources_set_overflows(struct resources_sample *out, const struct resources_sample *prev,
			     const struct sockdiag_overflows *now);

/* Thresholds from config; 0 disables one. A figure at or above its threshold warns.
 * fd_pct applies to the system's and to this process's descriptors. */
struct resources_thresholds {
	double cpu_pct;
	double mem_pct;
	double load_per_cpu;
	double fd_pct;
	uint64_t conn_per_port;
	uint64_t half_open;
	uint64_t listen_overflows;		/* per sampling period */
};

struct resources_warning {
	enum resources_kind kind;
	double value;
	double limit;
	uint16_t port;			/* RESOURCES_CONN_PER_PORT only */
};

struct resources_warnings {
	size_t n;
	struct resources_warning items[RESOURCES_KIND_MAX]; /* in enum order */
};

/* Compares each sampled figure with its threshold. Returns the number of warnings,
 * which are in w. Pure: no I/O. */
int resources_evaluate(const struct resources_sample *sample, const struct resources_thresholds *thresholds,
		       struct resources_warnings *w);

#endif
