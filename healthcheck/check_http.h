/* The http and https check kinds: libcurl's multi-socket interface driven by libev io
 * and timer watchers (no blocking call anywhere). A run borrows an easy handle from a
 * pool as large as the most runs ever in flight at once; connections stay in the
 * multi handle's cache between runs, so each check reuses its keep-alive connection.
 * What the service answers is untrusted: body and headers are read up to a cap, only
 * http and https are spoken, redirects are off unless configured. */
#ifndef HC_CHECK_HTTP_H
#define HC_CHECK_HTTP_H

#include "engine.h"

#include <stddef.h>
#include <time.h>

extern const struct check_kind check_http_kind;

/* Parses the certificate expiry libcurl reports in CURLINFO_CERTINFO ("Expire date:"
 * as OpenSSL prints it, e.g. "Mar  3 12:00:00 2030 GMT"). 0 or -EINVAL. */
int check_http_parse_cert_date(const char *text, size_t len, time_t *out);

/* Judges a response against a check's expectations (status range, body substring,
 * regex). The body may hold NUL bytes and must be followed by one (body[body_len]).
 * Returns 1 when it passes, else 0 with the reason in buf. */
int check_http_judge(const struct hc_check_conf *conf, long status, const char *body, size_t body_len,
		     char *reason, size_t size);

#endif
