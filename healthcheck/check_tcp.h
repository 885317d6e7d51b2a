/* The tcp check kind: a non-blocking connect watched by an ev_io, then optionally
 * `send` bytes and wait until `expect` bytes arrive (within the first 4 KiB read). */
#ifndef HC_CHECK_TCP_H
#define HC_CHECK_TCP_H

#include "engine.h"

extern const struct check_kind check_tcp_kind;

#endif
