/* The agent's config parser from a buffer: any bytes are refused with messages or
 * accepted into a config, never a crash or a leak; an accepted config is sane. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fo/log.h"
#include "hcconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	struct cfgfile_errors errs;
	struct hc_config *cfg;

	if (!initialised) {
		log_init("fuzz", LOG_LVL_ERR, 0);
		initialised = 1;
	}
	if (hcconfig_load_buffer("fuzz.conf", (const char *)data, size, &cfg, &errs) == 0) {
		if (errs.n || cfg->n_checks > HC_MAX_CHECKS)
			abort();
		for (size_t i = 0; i < cfg->n_checks; i++) {
			const struct hc_check_conf *c = &cfg->checks[i];

			if (c->type >= HC_CHECK_TYPE_MAX || !c->rise || !c->fall || !c->interval_ms || !c->timeout_ms ||
			    c->status_min > c->status_max || !c->name[0] || hcconfig_find(cfg, c->name) != c)
				abort();
		}
		hcconfig_free(cfg);
	} else if (errs.n == 0 || cfg) {
		abort();
	}
	return 0;
}
