/* libFuzzer target for the configuration parser: every input is parsed with and
 * without a corosync nodelist, its errors formatted, and everything freed. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

static const struct config_nodelist nodes = {
	.n_nodes = 3,
	.nodes = {{1, "node1"}, {2, "node2"}, {3, "node3"}},
};

static void check(const struct config *c, const struct cfgfile_errors *errors)
{
	static char buf[CFGFILE_MAX_ERRORS * 320];

	if (!c && errors->n == 0)
		__builtin_trap(); /* refused without a reason */
	if (c && errors->n != 0)
		__builtin_trap(); /* accepted with errors */
	cfgfile_errors_format(errors, "fuzz.conf", buf, sizeof(buf));
	for (size_t i = 0; c && i < c->n_groups; i++)
		if (config_group_find(c, c->groups[i].name) != &c->groups[i] ||
		    c->groups[i].n_addrs == 0 || c->groups[i].interface[0] == '\0')
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfgfile_errors errors;
	struct config *c;

	c = config_parse_buffer("fuzz.conf", (const char *)data, size, NULL, &errors);
	check(c, &errors);
	config_free(c);
	c = config_parse_buffer("fuzz.conf", (const char *)data, size, &nodes, &errors);
	check(c, &errors);
	config_free(c);
	return 0;
}
