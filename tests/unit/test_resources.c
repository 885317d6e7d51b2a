/* resources: /proc parsers on fixed text, CPU % between samples, and which capacity
 * warnings thresholds produce. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "resources.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char stat_a[] = "cpu  100 0 100 800 0 0 0 0 0 0\n"
			     "cpu0 50 0 50 400 0 0 0 0 0 0\n"
			     "cpu1 50 0 50 400 0 0 0 0 0 0\n"
			     "intr 12345 0 1 2\n"
			     "ctxt 999\n";
/* +300 user, +100 system (one of it steal-free), +200 idle, +200 iowait. */
static const char stat_b[] = "cpu  400 0 200 1000 200 0 0 0 0 0\n"
			     "cpu0 200 0 100 500 100 0 0 0 0 0\n"
			     "cpu1 200 0 100 500 100 0 0 0 0 0\n"
			     "intr 12345 0 1 2\n";

static void cpu_between_samples(void **state)
{
	struct resources_cpu a, b;
	double pct;

	assert_int_equal(resources_parse_stat(stat_a, &a), 0);
	assert_int_equal(a.ncpu, 2);
	assert_int_equal(a.busy, 200);
	assert_int_equal(a.total, 1000);
	assert_int_equal(resources_parse_stat(stat_b, &b), 0);
	assert_int_equal(b.busy, 600);
	assert_int_equal(b.total, 1800);
	assert_int_equal(resources_cpu_pct(&a, &b, &pct), 0);
	assert_float_equal(pct, 50.0, 1e-9);
	assert_int_equal(resources_cpu_pct(&a, &a, &pct), -EAGAIN);
	assert_int_equal(resources_cpu_pct(&b, &a, &pct), -EINVAL);
	/* Counters near 2^54, busy one below total: 100 * busy / total rounded above
	 * 100 before the ratio was taken first (fuzz_resources found it). */
	a = (struct resources_cpu){0};
	b = (struct resources_cpu){.ncpu = 1, .busy = 29000000000000008ull, .total = 29000000000000009ull};
	assert_int_equal(resources_cpu_pct(&a, &b, &pct), 0);
	assert_true(pct >= 0.0 && pct <= 100.0);
}

static void cpu_with_steal_and_guest(void **state)
{
	/* guest (9th) and guest_nice are inside user and nice already. */
	struct resources_cpu c;

	assert_int_equal(resources_parse_stat("cpu  10 20 30 40 50 60 70 80 1000 2000\ncpu0 1 1 1 1\n", &c), 0);
	assert_int_equal(c.busy, 10 + 20 + 30 + 60 + 70 + 80);
	assert_int_equal(c.total, c.busy + 40 + 50);
	/* Old kernels print four fields. */
	assert_int_equal(resources_parse_stat("cpu 1 2 3 4\ncpu0 1 2 3 4\n", &c), 0);
	assert_int_equal(c.total, 10);
}

static void memory(void **state)
{
	static const char text[] = "MemTotal:       16000000 kB\n"
				   "MemFree:         1000000 kB\n"
				   "MemAvailable:    4000000 kB\n"
				   "Buffers:          100000 kB\n";
	struct resources_mem m;

	assert_int_equal(resources_parse_meminfo(text, &m), 0);
	assert_int_equal(m.total_kb, 16000000);
	assert_int_equal(m.available_kb, 4000000);
}

static void load_and_files(void **state)
{
	struct resources_load l;
	struct resources_fds f;

	assert_int_equal(resources_parse_loadavg("3.50 2.25 1.00 4/1234 5678\n", &l), 0);
	assert_float_equal(l.avg[0], 3.5, 1e-9);
	assert_float_equal(l.avg[1], 2.25, 1e-9);
	assert_float_equal(l.avg[2], 1.0, 1e-9);
	assert_int_equal(resources_parse_loadavg("0.00 0.00 0.00", &l), 0);
	assert_int_equal(resources_parse_file_nr("2016\t16\t100000\n", &f), 0);
	assert_int_equal(f.used, 2000);
	assert_int_equal(f.max, 100000);
	/* systemd sets fs.file-max to LONG_MAX. */
	assert_int_equal(resources_parse_file_nr("1024\t0\t9223372036854775807\n", &f), 0);
	assert_int_equal(f.max, 9223372036854775807ull);
}

static void malformed(void **state)
{
	static const char *const stat_bad[] = {
		"", "cpu", "cpu \n", "cpu  1 2 3\ncpu0 1 1 1 1\n", "cpux 1 2 3 4\ncpu0 1 1 1 1\n",
		"cpu  1 2 3 4\n", "cpu  -1 2 3 4\ncpu0 1 1 1 1\n", "cpu  a b c d\ncpu0 1 1 1 1\n",
		"cpu  99999999999999999999999 1 1 1\ncpu0 1 1 1 1\n", "cpu  0 0 0 0\ncpu0 0 0 0 0\n",
		"cpu  1 2 3 4\ncpuX 1 1 1 1\n", "cpu  1 2 3 4x\ncpu0 1 1 1 1\n", " cpu 1 2 3 4\ncpu0 1\n",
	};
	static const char *const mem_bad[] = {
		"", "MemTotal: 100 kB\n", "MemAvailable: 10 kB\n", "MemTotal: x kB\nMemAvailable: 1 kB\n",
		"MemTotal: 0 kB\nMemAvailable: 0 kB\n", "MemTotal: 10 kB\nMemAvailable: 20 kB\n",
		"MemTotal: 10 kB\nMemTotal: 10 kB\nMemAvailable: 1 kB\n", "MemTotal: -5 kB\nMemAvailable: 1 kB\n",
	};
	static const char *const load_bad[] = {
		"", "1.0 2.0", "nan 1 1", "inf 1 1", "-1 0 0", "1 2 3x", "1e999 1 1", "1,2 3 4", "a b c",
	};
	static const char *const files_bad[] = {
		"", "1 2", "1 0 0", "5 6 100", "1 0 10 x", "-1 0 10", "1 0 99999999999999999999",
	};
	struct resources_cpu c = {0};
	struct resources_mem m = {0};
	struct resources_load l = {{0}};
	struct resources_fds f = {0};

	for (size_t i = 0; i < N_OF(stat_bad); i++)
		assert_int_equal(resources_parse_stat(stat_bad[i], &c), -EINVAL);
	for (size_t i = 0; i < N_OF(mem_bad); i++)
		assert_int_equal(resources_parse_meminfo(mem_bad[i], &m), -EINVAL);
	for (size_t i = 0; i < N_OF(load_bad); i++)
		assert_int_equal(resources_parse_loadavg(load_bad[i], &l), -EINVAL);
	for (size_t i = 0; i < N_OF(files_bad); i++)
		assert_int_equal(resources_parse_file_nr(files_bad[i], &f), -EINVAL);
	assert_int_equal(c.total, 0); /* a refused text leaves the output alone */
	assert_int_equal(m.total_kb, 0);
}

static void set(struct resources_sample *s, enum resources_kind k, double v)
{
	s->value[k] = v;
	s->valid |= 1u << k;
}

static void thresholds_to_warnings(void **state)
{
	struct resources_sample s = {0};
	struct resources_thresholds t = {
		.cpu_pct = 40, .mem_pct = 80, .load_per_cpu = 1.0, .fd_pct = 50,
		.conn_per_port = 500, .half_open = 0, .listen_overflows = 3,
	};
	struct resources_warnings w;

	set(&s, RESOURCES_CPU, 50);		/* over */
	set(&s, RESOURCES_MEM, 75);		/* under */
	set(&s, RESOURCES_LOAD, 1.5);		/* over */
	set(&s, RESOURCES_FD_SYSTEM, 10);	/* under */
	set(&s, RESOURCES_FD_PROCESS, 60);	/* over, same fd_pct */
	set(&s, RESOURCES_CONN_PER_PORT, 1000); /* over */
	s.busiest_port = 443;
	set(&s, RESOURCES_HALF_OPEN, 5000);	/* threshold disabled */
	set(&s, RESOURCES_LISTEN_OVERFLOWS, 3); /* at the threshold: warns */
	assert_int_equal(resources_evaluate(&s, &t, &w), 5);
	assert_int_equal(w.items[0].kind, RESOURCES_CPU);
	assert_float_equal(w.items[0].value, 50, 1e-9);
	assert_float_equal(w.items[0].limit, 40, 1e-9);
	assert_int_equal(w.items[1].kind, RESOURCES_LOAD);
	assert_int_equal(w.items[2].kind, RESOURCES_FD_PROCESS);
	assert_int_equal(w.items[3].kind, RESOURCES_CONN_PER_PORT);
	assert_int_equal(w.items[3].port, 443);
	assert_int_equal(w.items[4].kind, RESOURCES_LISTEN_OVERFLOWS);
	assert_int_equal(w.items[0].port, 0);

	/* A figure that was not sampled never warns, however high its stale value. */
	s.valid &= ~(1u << RESOURCES_CPU);
	assert_int_equal(resources_evaluate(&s, &t, &w), 4);
	assert_int_equal(w.items[0].kind, RESOURCES_LOAD);

	/* All thresholds off: nothing. */
	memset(&t, 0, sizeof(t));
	assert_int_equal(resources_evaluate(&s, &t, &w), 0);
	assert_int_equal(w.n, 0);
}

static void conns_from_counts(void **state)
{
	struct sockdiag_port_count ports[] = {
		{.port = 22, .established = 3}, {.port = 80, .established = 900, .syn_recv = 2},
		{.port = 443, .established = 120, .syn_recv = 5},
	};
	struct sockdiag_conn_counts cc = {.established = 1100, .syn_recv = 7, .n_ports = 3, .ports = ports};
	struct sockdiag_conn_counts none = {0};
	struct resources_sample s = {0};

	resources_set_conns(&s, &cc);
	assert_int_equal(s.busiest_port, 80);
	assert_float_equal(s.value[RESOURCES_CONN_PER_PORT], 900, 1e-9);
	assert_float_equal(s.value[RESOURCES_HALF_OPEN], 7, 1e-9);
	assert_true(s.valid & (1u << RESOURCES_CONN_PER_PORT));
	resources_set_conns(&s, &none);
	assert_int_equal(s.busiest_port, 0);
	assert_float_equal(s.value[RESOURCES_CONN_PER_PORT], 0, 1e-9);
}

static void overflows_between_samples(void **state)
{
	struct sockdiag_overflows o1 = {.listen_overflows = 100, .listen_drops = 120};
	struct sockdiag_overflows o2 = {.listen_overflows = 130, .listen_drops = 150};
	struct resources_sample a = {0}, b = {0};

	resources_set_overflows(&a, NULL, &o1);
	assert_true(a.have_overflows);
	assert_false(a.valid & (1u << RESOURCES_LISTEN_OVERFLOWS)); /* no baseline yet */
	resources_set_overflows(&b, &a, &o2);
	assert_true(b.valid & (1u << RESOURCES_LISTEN_OVERFLOWS));
	assert_float_equal(b.value[RESOURCES_LISTEN_OVERFLOWS], 30, 1e-9);
	resources_set_overflows(&b, &a, NULL);
	assert_false(b.have_overflows);
	assert_false(b.valid & (1u << RESOURCES_LISTEN_OVERFLOWS));
}

static void names(void **state)
{
	for (int k = 0; k < RESOURCES_KIND_MAX; k++)
		assert_true(strlen(resources_kind_str((enum resources_kind)k)) > 0);
	assert_string_equal(resources_kind_str(RESOURCES_LISTEN_OVERFLOWS), "listen_overflows");
	assert_string_equal(resources_kind_str(RESOURCES_KIND_MAX), "invalid");
}

/* The readers on this machine's /proc: every node figure but CPU % (which needs a
 * previous sample) is there. */
static void real_proc(void **state)
{
	struct resources_sample a = {0}, b = {0};
	const unsigned want = 1u << RESOURCES_MEM | 1u << RESOURCES_LOAD | 1u << RESOURCES_FD_SYSTEM |
			      1u << RESOURCES_FD_PROCESS;

	assert_int_equal(resources_sample_node(NULL, &a), 0);
	assert_int_equal(a.valid & want, want);
	assert_false(a.valid & (1u << RESOURCES_CPU));
	assert_true(a.cpu.ncpu >= 1);
	assert_true(a.fd_process.used >= 3);
	assert_int_equal(resources_sample_node(&a, &b), 0);
	assert_true(b.cpu.total >= a.cpu.total);
	assert_int_equal(resources_sample_conns(NULL, &b), 0);
	assert_true(b.have_overflows);
	assert_true(b.valid & (1u << RESOURCES_CONN_PER_PORT));
	assert_int_equal(resources_sample_conns(&b, &a), 0);
	assert_true(a.valid & (1u << RESOURCES_LISTEN_OVERFLOWS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cpu_between_samples), cmocka_unit_test(cpu_with_steal_and_guest),
		cmocka_unit_test(memory),	       cmocka_unit_test(load_and_files),
		cmocka_unit_test(malformed),	       cmocka_unit_test(thresholds_to_warnings),
		cmocka_unit_test(conns_from_counts),   cmocka_unit_test(overflows_between_samples),
		cmocka_unit_test(names),
		cmocka_unit_test(real_proc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
