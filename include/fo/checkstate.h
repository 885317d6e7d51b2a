/* The state of one health check: one enum for the agent's engine, the
 * agent-to-manager stream (healthwire.h, by name) and the CPG wire (wire.h, by
 * value, one byte), so no layer translates another's. */
#ifndef FO_CHECKSTATE_H
#define FO_CHECKSTATE_H

/* The values are on the CPG wire: append only. */
enum check_state { CHECK_UNKNOWN = 0, CHECK_PASSING = 1, CHECK_FAILING = 2, CHECK_STATE_MAX };

/* "unknown", "passing", "failing" (the names healthwire and the metrics carry);
 * "invalid" out of range. */
const char *check_state_str(enum check_state state);
/* 0 with *out set, or -EINVAL for a name that is not a state. */
int check_state_parse(const char *s, enum check_state *out);

#endif
