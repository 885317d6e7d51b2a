/* Control-socket request parser: whatever a local client writes, parsing never
 * crashes, never reads past the line, and what it accepts is a known command
 * with well-formed names and a printable id. The input is split into lines as
 * the socket splits it. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

static int printable(const char *s)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			return 0;
	return 1;
}

static void one_line(const uint8_t *data, size_t len)
{
	struct control_request req;
	char why[300];
	/* An exact-size heap copy, so that ASan sees any read past the line. */
	char *copy = malloc(len ? len : 1);

	memcpy(copy, data, len);
	if (control_parse_request(copy, len, &req, why, sizeof(why)) == 0) {
		if (req.cmd >= CONTROL_CMD_MAX || !printable(req.group) || !printable(req.node) ||
		    !printable(req.check) || !printable(req.action))
			abort();
		/* Only simulate takes an action and a check, and it always has an action. */
		if ((req.cmd == CONTROL_SIMULATE) != (req.action[0] != 0) || (req.check[0] && req.cmd != CONTROL_SIMULATE))
			abort();
		if (req.has_id && (!req.id[0] || !printable(req.id)))
			abort();
		if (control_cmd_mutates(req.cmd) == control_cmd_allowed(req.cmd, CONTROL_ROLE_VIEW))
			abort();
	} else if (!why[0] || strlen(why) >= sizeof(why)) {
		abort();
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size;

	while (data < end) {
		const uint8_t *nl = memchr(data, '\n', (size_t)(end - data));
		size_t len = nl ? (size_t)(nl - data) : (size_t)(end - data);

		one_line(data, len);
		data += len + (nl != NULL);
	}
	return 0;
}
