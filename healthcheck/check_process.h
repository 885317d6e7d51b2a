/* The process check kind: a process is alive, found by name (/proc/PID/comm) or by
 * pidfile (kill(pid, 0); with a name too, the pid must still be that program).
 * Synchronous: procfs reads do not block on the network. */
#ifndef HC_CHECK_PROCESS_H
#define HC_CHECK_PROCESS_H

#include "engine.h"

extern const struct check_kind check_process_kind;

#endif
