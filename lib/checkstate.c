#include "fo/checkstate.h"

#include <errno.h>
#include <string.h>

static const char *const state_names[CHECK_STATE_MAX] = {"unknown", "passing", "failing"};

const char *check_state_str(enum check_state state)
{
	return state < CHECK_STATE_MAX ? state_names[state] : "invalid";
}

int check_state_parse(const char *s, enum check_state *out)
{
	for (int i = 0; i < CHECK_STATE_MAX; i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum check_state)i;
			return 0;
		}
	}
	return -EINVAL;
}
