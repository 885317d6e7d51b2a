#include "failure.h"
#include "fo/jsontext.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int json_mode, answered;
static char first[4096];

void failure_json_mode(int on)
{
	json_mode = on;
}

void failure(const char *fmt, ...)
{
	char why[sizeof(first)];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	n = strlen(why);
	while (n && why[n - 1] == '\n')
		why[--n] = '\0';
	fprintf(stderr, "fomctl: %s\n", why);
	if (!first[0])
		snprintf(first, sizeof(first), "%s", why);
}

void failure_answered(void)
{
	answered = 1;
}

int failure_finish(int rc)
{
	json_t *j;
	char *text;

	if (!json_mode || !rc || answered)
		return rc;
	j = json_pack("{s:b, s:s, s:i}", "ok", 0, "error", first[0] ? first : "failed", "code", rc);
	text = j ? jsontext_dumps(j, JSON_COMPACT) : NULL;
	printf("%s\n", text ? text : "{\"ok\":false}");
	fflush(stdout);
	free(text);
	json_decref(j);
	return rc;
}
