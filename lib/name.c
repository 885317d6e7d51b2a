#include "fo/name.h"

#include <string.h>

int name_valid(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len == 0 || len >= max)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z')))
			return 0;
	}
	return 1;
}
