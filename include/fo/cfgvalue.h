/* The values of both programs' configuration files: numbers, durations, sizes,
 * booleans, enums and addresses. Pure: each returns 0 (or the value) or a negative
 * errno and says nothing; the caller reports, with its file's line. Where fomgr.conf
 * and healthcheck.conf accept different spellings of the same kind of value, a flag
 * names the difference. On failure, what *out holds means nothing. */
#ifndef FO_CFGVALUE_H
#define FO_CFGVALUE_H

#include <stddef.h>
#include <stdint.h>

/* Decimal digits at *s, at most 9 (so no overflow); advances *s past them.
 * -EINVAL: no digit; -ERANGE: more than 9. */
int cfgvalue_digits(const char **s, uint64_t *out);
/* A whole string that strtol reads as a decimal long (a sign is allowed). */
int cfgvalue_long(const char *s, long *out);
/* A whole string that strtod reads as a finite number. */
int cfgvalue_real(const char *s, double *out);

#define CFGVALUE_FRACTION 1u  /* "1.5s": any finite number strtod reads, not below 0 */
#define CFGVALUE_BARE_ZERO 2u /* "0" alone is 0 ms (any other number needs a unit) */
/* A number and a unit with no space: ms, s or m ("200ms", "5s", "2m"). Without
 * CFGVALUE_FRACTION the number is cfgvalue_digits'. -EINVAL: not a duration;
 * -ERANGE: too many digits. */
int cfgvalue_duration_ms(const char *s, unsigned flags, double *ms);
/* Decimal bytes, or with k/K (KiB) or m/M (MiB); no sign. */
int cfgvalue_size(const char *s, unsigned long long *out);

#define CFGVALUE_BOOL_LOOSE 1u /* also 1 and 0, in any case */
/* yes, true, on: 1; no, false, off: 0; else -EINVAL. */
int cfgvalue_bool(const char *s, unsigned flags);
/* The index of s in names (NULL-terminated), or -EINVAL. */
int cfgvalue_enum(const char *s, const char *const *names);
/* "a, b or c" from names (NULL-terminated) into buf. */
void cfgvalue_join(char *buf, size_t size, const char *const *names);

/* A numeric IPv4 or IPv6 address: *family AF_INET or AF_INET6 and addr (16 bytes
 * room) in network order; -EINVAL otherwise. */
int cfgvalue_ip(const char *s, int *family, void *addr);

#endif
