#include "fo/promtext.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void promtext_add(struct promtext *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	while (!t->failed) {
		size_t room = t->size - t->len;

		va_start(ap, fmt);
		n = vsnprintf(t->data ? t->data + t->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		}
		size_t size = t->size ? t->size * 2 : 4096;
		while (size - t->len <= (size_t)n)
			size *= 2;
		char *data = realloc(t->data, size);
		if (!data) {
			t->failed = true;
			return;
		}
		t->data = data;
		t->size = size;
	}
}

void promtext_family(struct promtext *t, const char *name, const char *type, const char *help)
{
	promtext_add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *promtext_finish(struct promtext *t)
{
	if (t->failed) {
		free(t->data);
		return NULL;
	}
	return t->data ? t->data : strdup("");
}

const char *promtext_label(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; s && *s && n + 3 < size; s++) {
		if (*s == '\\' || *s == '"') {
			buf[n++] = '\\';
			buf[n++] = *s;
		} else if (*s == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else {
			buf[n++] = *s;
		}
	}
	buf[n] = '\0';
	return buf;
}
