/* Reading small text files whole (/proc, /sys), bounded by the caller's buffer:
 * one open and a few read()s, no stdio, nothing allocated. */
#ifndef FO_PROCFILE_H
#define FO_PROCFILE_H

#include <stddef.h>

/* Reads at most size - 1 bytes of path into buf, NUL-terminated (size > 0); a
 * longer file is cut. 0 or -errno (buf holds what was read before an error). */
int procfile_read(const char *path, char *buf, size_t size);

#endif
