#include "fo/cfgvalue.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int cfgvalue_digits(const char **s, uint64_t *out)
{
	uint64_t n = 0;
	size_t digits = 0;

	for (; isdigit((unsigned char)**s); (*s)++) {
		if (++digits > 9)
			return -ERANGE;
		n = n * 10 + (uint64_t)(**s - '0');
	}
	if (digits == 0)
		return -EINVAL;
	*out = n;
	return 0;
}

/* strto*() read all of s (something, and nothing after) and did not overflow. */
static int read_whole(const char *s, const char *end)
{
	return end != s && *end == '\0' && errno == 0;
}

int cfgvalue_long(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return read_whole(s, end) ? 0 : -EINVAL;
}

int cfgvalue_real(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return read_whole(s, end) && isfinite(*out) ? 0 : -EINVAL;
}

static const struct {
	const char *suffix;
	double ms;
} duration_units[] = {{"ms", 1}, {"s", 1000}, {"m", 60 * 1000}};

int cfgvalue_duration_ms(const char *s, unsigned flags, double *ms)
{
	const char *unit;
	double n;

	if (flags & CFGVALUE_FRACTION) {
		char *end;

		errno = 0;
		n = strtod(s, &end);
		if (end == s || errno || !isfinite(n) || n < 0)
			return -EINVAL;
		unit = end;
	} else {
		uint64_t digits;
		int r = cfgvalue_digits(&s, &digits);

		if (r < 0)
			return r;
		n = (double)digits;
		unit = s;
	}
	if ((flags & CFGVALUE_BARE_ZERO) && *unit == '\0' && n == 0) {
		*ms = 0;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(duration_units); i++) {
		if (strcmp(unit, duration_units[i].suffix) == 0) {
			*ms = n * duration_units[i].ms;
			return 0;
		}
	}
	return -EINVAL;
}

int cfgvalue_size(const char *s, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno || s[0] == '-')
		return -EINVAL;
	if (strcmp(end, "k") == 0 || strcmp(end, "K") == 0)
		v *= 1024;
	else if (strcmp(end, "m") == 0 || strcmp(end, "M") == 0)
		v *= 1024 * 1024;
	else if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int cfgvalue_bool(const char *s, unsigned flags)
{
	static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};
	size_t n = flags & CFGVALUE_BOOL_LOOSE ? ARRAY_SIZE(yes) : ARRAY_SIZE(yes) - 1;
	int (*cmp)(const char *, const char *) = flags & CFGVALUE_BOOL_LOOSE ? strcasecmp : strcmp;

	for (size_t i = 0; i < n; i++) {
		if (cmp(s, yes[i]) == 0)
			return 1;
		if (cmp(s, no[i]) == 0)
			return 0;
	}
	return -EINVAL;
}

int cfgvalue_enum(const char *s, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -EINVAL;
}

void cfgvalue_join(char *buf, size_t size, const char *const *names)
{
	size_t n = 0, used = 0;

	while (names[n])
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int r = snprintf(buf + used, size - used, "%s%s", sep, names[i]);

		used += r > 0 ? (size_t)r : 0;
	}
}

int cfgvalue_ip(const char *s, int *family, void *addr)
{
	if (inet_pton(AF_INET, s, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, s, addr) == 1)
		*family = AF_INET6;
	else
		return -EINVAL;
	return 0;
}
