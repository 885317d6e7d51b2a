/* The script check kind: spawn the configured path with its arguments (no
 * shell), in its own process group, stdout and stderr captured (first 256 bytes) for
 * the reason; exit 0 passes. On timeout the group gets SIGTERM, then SIGKILL after a
 * grace; a run never starts while the previous one's process is still alive. */
#ifndef HC_CHECK_SCRIPT_H
#define HC_CHECK_SCRIPT_H

#include "engine.h"

#define SCRIPT_KILL_GRACE_MS 1000
#define SCRIPT_OUTPUT_MAX 256

extern const struct check_kind check_script_kind;

#endif
