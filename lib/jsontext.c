#include "fo/jsontext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *jsontext_real(double d, char *buf, size_t size)
{
	for (int digits = 1; digits <= 17; digits++) {
		snprintf(buf, size, "%.*g", digits, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return buf;
}

/* A number token that jansson wrote as a real (it always has '.' or an exponent). */
static int is_real(const char *s, size_t n)
{
	return memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n);
}

char *jsontext_dumps(const json_t *j, size_t flags)
{
	char *in = json_dumps(j, flags), *out;
	size_t len, o = 0;
	int in_string = 0;

	if (!in)
		return NULL;
	len = strlen(in);
	/* A shorter form plus ".0" is never longer than jansson's %.17g plus 2. */
	out = malloc(len * 2 + 1);
	if (!out) {
		free(in);
		return NULL;
	}
	for (size_t i = 0; i < len;) {
		char c = in[i];

		if (in_string) {
			out[o++] = in[i++];
			if (c == '\\' && i < len)
				out[o++] = in[i++];
			else if (c == '"')
				in_string = 0;
			continue;
		}
		if (c == '"') {
			in_string = 1;
			out[o++] = in[i++];
			continue;
		}
		if (c == '-' || (c >= '0' && c <= '9')) {
			size_t n = strspn(in + i, "-+.eE0123456789");
			char token[64], shortest[40];

			if (n < sizeof(token) && is_real(in + i, n)) {
				memcpy(token, in + i, n);
				token[n] = '\0';
				jsontext_real(strtod(token, NULL), shortest, sizeof(shortest));
				if (!strpbrk(shortest, ".eE"))
					strcat(shortest, ".0"); /* still a real to a reader */
				memcpy(out + o, shortest, strlen(shortest));
				o += strlen(shortest);
			} else {
				memcpy(out + o, in + i, n);
				o += n;
			}
			i += n;
			continue;
		}
		out[o++] = in[i++];
	}
	out[o] = '\0';
	free(in);
	return out;
}
