/* Building a Prometheus text-format (0.0.4) exposition in memory: a growing
 * buffer that remembers a failed allocation instead of failing every call, and
 * the HELP/TYPE header and label-value escaping that both programs' /metrics use. */
#ifndef FO_PROMTEXT_H
#define FO_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Zero-initialise; promtext_finish() hands the text over. */
struct promtext {
	char *data;
	size_t len, size;
	bool failed; /* an allocation failed: later adds do nothing, finish returns NULL */
};

void promtext_add(struct promtext *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "# HELP name help" and "# TYPE name type". */
void promtext_family(struct promtext *t, const char *name, const char *type, const char *help);
/* The text, "" when nothing was added, which the caller frees; NULL when an
 * allocation failed (the buffer is freed). */
char *promtext_finish(struct promtext *t);
/* s as a label value (\\, \", \n escaped) in buf, cut to fit size; returns buf. */
const char *promtext_label(const char *s, char *buf, size_t size);

#endif
