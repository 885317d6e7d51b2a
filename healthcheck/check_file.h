/* The file check kind: an operator's switch on the node. exists-fails is the drain
 * file (present: fail, as keepalived's track_file), exists wants a flag file, content
 * wants the file to contain `expect`. Synchronous: a stat or a bounded read. */
#ifndef HC_CHECK_FILE_H
#define HC_CHECK_FILE_H

#include "engine.h"

extern const struct check_kind check_file_kind;

#endif
