/* logreport_build() over arbitrary bytes, as `fomctl log report` reads a file anyone
 * may have edited: never a crash, always a report whose counts add up. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "logreport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	json_t *r;

	if (!f)
		return 0;
	r = logreport_build(f, "fuzz", 0, NULL);
	fclose(f);
	if (!r || json_integer_value(json_object_get(r, "records_in_range")) >
			  json_integer_value(json_object_get(r, "records")))
		abort();
	json_decref(r);
	return 0;
}
