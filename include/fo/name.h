/* The one rule for names (nodes, groups, checks, agents): 1 to max - 1 characters
 * of ASCII letters, digits, '-', '_' and '.'. Config files, the control protocol
 * and the agent's wire all check names with it. */
#ifndef FO_NAME_H
#define FO_NAME_H

#include <stddef.h>

/* The rule in words, for messages about names in buffers of 64 bytes (every name
 * fomgr and the agent keep). */
#define NAME_RULE "1 to 63 of A-Z a-z 0-9 _ . -"

/* 1 when s is a valid name shorter than max (a buffer size), else 0. */
int name_valid(const char *s, size_t max);

#endif
