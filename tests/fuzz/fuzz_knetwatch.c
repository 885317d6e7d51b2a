/* The knet watch's parser: any bytes parse or are refused, never read past the
 * end, and what parses names a family and came to the port asked for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "knetwatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct knetwatch_src src;
	uint8_t *copy = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (knetwatch_parse(copy, size, 5405, &src) == 0) {
		size_t udp = src.family == AF_INET ? (size_t)(copy[0] & 0x0f) * 4 : 40;
		if ((src.family != AF_INET && src.family != AF_INET6) || size < udp + 4 ||
		    (copy[udp + 2] << 8 | copy[udp + 3]) != 5405)
			abort();
	}
	free(copy);
	return 0;
}
