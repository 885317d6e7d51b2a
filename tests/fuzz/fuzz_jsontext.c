/* The shortest-real rewriter: whatever JSON jansson accepts, the rewritten text
 * parses again to an equal document (reals compared as doubles, exactly). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "fo/jsontext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL), *again;
	char *text;

	if (!in)
		return 0;
	text = jsontext_dumps(in, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		abort();
	again = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!again || !json_equal(in, again))
		abort();
	free(text);
	json_decref(again);
	json_decref(in);
	return 0;
}
