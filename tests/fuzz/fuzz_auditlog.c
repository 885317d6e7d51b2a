/* auditlog_verify() over arbitrary bytes: the reader `fomctl log verify` runs on a
 * file anyone may have edited. The first byte chooses whether a previous hash is
 * given (taken from the next 64 bytes), so the continuation path is reached too. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "auditlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auditlog_verify_result res;
	char prev[65];
	const char *prev_arg = NULL;
	FILE *f;

	if (size > 0 && data[0] == 'P' && size >= 65) {
		memcpy(prev, data + 1, 64);
		prev[64] = '\0';
		prev_arg = prev;
		data += 65;
		size -= 65;
	}
	if (size == 0)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	/* Intact means nothing named; a bad record is always named, except a bad --prev. */
	if (auditlog_verify(f, prev_arg, &res) == 0 ? res.bad_line != 0 || res.reason[0] != '\0'
						     : res.reason[0] == '\0')
		__builtin_trap();
	fclose(f);
	return 0;
}
