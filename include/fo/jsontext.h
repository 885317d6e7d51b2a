/* JSON text for people and scripts: jansson's dump, with every real number in the
 * shortest form that reads back as the same double (7.427, not jansson's
 * 17-digit 7.4269999999999996). Not for the audit log, whose lines must stay
 * byte for byte what earlier versions wrote. */
#ifndef FO_JSONTEXT_H
#define FO_JSONTEXT_H

#include <jansson.h>
#include <stddef.h>

/* As json_dumps(j, flags) (the caller frees the text); NULL on failure. */
char *jsontext_dumps(const json_t *j, size_t flags);
/* The shortest "%.Ng" of d (N from 1 to 17) that strtod reads back as d, in buf;
 * returns buf. */
const char *jsontext_real(double d, char *buf, size_t size);

#endif
