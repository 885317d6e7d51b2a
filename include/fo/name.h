/* The one rule for names (nodes, groups, checks, agents): 1 to max - 1 characters
 * of ASCII letters, digits, '-', '_' and '.'. Config files, the control protocol
 * and the agent's wire all check names with it. */
#ifndef FO_NAME_H
#define FO_NAME_H

#include <stddef.h>

/* 1 when s is a valid name shorter than max (a buffer size), else 0. */
int name_valid(const char *s, size_t max);

#endif
