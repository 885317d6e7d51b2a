/* Every /proc text parser the agent runs (resources.c) and lib's netstat parser, on
 * the same input: none may crash, read out of bounds, or accept nonsense figures. */
#include "../../healthcheck/resources.c"

#include <assert.h>

#define FUZZ_MAX 65536

static void check_cpu(const char *text)
{
	struct resources_cpu c, prev = {0};
	double pct;

	if (resources_parse_stat(text, &c) == 0) {
		assert(c.ncpu > 0 && c.total >= c.busy);
		if (resources_cpu_pct(&prev, &c, &pct) == 0)
			assert(pct >= 0.0 && pct <= 100.0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resources_mem m;
	struct resources_load l;
	struct resources_fds f;
	struct sockdiag_overflows o;
	char *text;

	if (size > FUZZ_MAX)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_cpu(text);
	if (resources_parse_meminfo(text, &m) == 0)
		assert(m.total_kb > 0 && m.available_kb <= m.total_kb);
	if (resources_parse_loadavg(text, &l) == 0)
		assert(l.avg[0] >= 0 && isfinite(l.avg[0]) && isfinite(l.avg[2]));
	if (resources_parse_file_nr(text, &f) == 0)
		assert(f.max > 0);
	(void)sockdiag_parse_netstat(text, &o);
	free(text);
	return 0;
}
