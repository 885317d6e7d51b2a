/* Peer-message decoder: whatever arrives through CPG, decode never crashes, and
 * what it accepts encodes back to the same bytes, which decode to the same
 * announce (its history part too: admin changes with authors, transitions). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wire_announce a, b;
	static uint8_t out[WIRE_MAX_SIZE];
	enum wire_type type;

	if (wire_decode(data, size, &type, &a) == 0) {
		int len = wire_encode_announce(&a, out, sizeof(out));
		if (len != (int)size || memcmp(out, data, size) != 0)
			abort();
		if (wire_decode(out, (size_t)len, &type, &b) != 0 || memcmp(&a, &b, sizeof(a)) != 0)
			abort();
	}
	return 0;
}
