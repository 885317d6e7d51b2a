/* Frame parser of the conflict watcher: any bytes a neighbour sends parse or are
 * refused, never crash, and what parses names a family, an address that is not
 * 0.0.0.0 (a probe) and a multicast NA target, and the judge gives a verdict. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conflict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char local[ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x11};
	struct conflict_role role = {.owner = 1, .held = 1, .claims = 1};
	struct conflict_frame f;

	if (conflict_parse_frame(data, size, &f) != 0)
		return 0;
	if (f.family == AF_INET ? f.addr.v4.s_addr == 0 || f.source != CONFLICT_SRC_ARP
				: f.family != AF_INET6 || f.source != CONFLICT_SRC_NA || IN6_IS_ADDR_MULTICAST(&f.addr.v6))
		abort();
	if (conflict_judge(&f, local, &role) >= CONFLICT_VERDICT_MAX)
		abort();
	return 0;
}
