#include "fo/cfgfile.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UTF8_BOM "\xEF\xBB\xBF"

/* ---- errors ---- */

void cfgfile_error(struct cfgfile *f, unsigned line, const char *fmt, ...)
{
	struct cfgfile_errors *e = f->errors;
	va_list ap;

	if (e->n >= CFGFILE_MAX_ERRORS) {
		e->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(e->items[e->n].message, sizeof(e->items[e->n].message), fmt, ap);
	va_end(ap);
	e->items[e->n++].line = line;
}

void cfgfile_errors_sort(struct cfgfile_errors *e)
{
	for (size_t i = 1; i < e->n; i++) {
		struct cfgfile_error tmp = e->items[i];
		size_t j = i;

		for (; j > 0 && e->items[j - 1].line > tmp.line; j--)
			e->items[j] = e->items[j - 1];
		e->items[j] = tmp;
	}
}

const char *cfgfile_errors_format(const struct cfgfile_errors *e, const char *path, char *buf, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return buf;
	if (!path)
		path = "";
	buf[0] = '\0';
	for (size_t i = 0; i < e->n && used < size; i++) {
		const struct cfgfile_error *err = &e->items[i];
		int r;

		if (err->line)
			r = snprintf(buf + used, size - used, "%s:%u: %s\n", path, err->line, err->message);
		else
			r = snprintf(buf + used, size - used, "%s: %s\n", path, err->message);
		used += r > 0 ? (size_t)r : 0;
	}
	return buf;
}

/* ---- keywords ---- */

const struct cfgfile_keyword *cfgfile_keyword(const struct cfgfile *f, int section, const char *name)
{
	for (size_t i = 0; i < f->n_keywords; i++)
		if (strcmp(f->keywords[i].name, name) == 0 &&
		    (section == CFGFILE_NONE || f->keywords[i].section == section))
			return &f->keywords[i];
	return NULL;
}

unsigned cfgfile_key_line(const struct cfgfile *f, const unsigned *key_lines, int section, const char *name)
{
	const struct cfgfile_keyword *kw = cfgfile_keyword(f, section, name);

	return kw ? key_lines[kw - f->keywords] : 0;
}

void cfgfile_section(struct cfgfile *f, int section, void *base, unsigned *key_lines)
{
	f->section = section;
	f->base = base;
	f->key_lines = key_lines;
}

void cfgfile_defaults(struct cfgfile *f, int section, void *base)
{
	for (size_t i = 0; i < f->n_keywords; i++) {
		const struct cfgfile_keyword *kw = &f->keywords[i];

		if (kw->section == section && kw->def)
			kw->parse(f, kw, kw->def, (char *)base + kw->offset);
	}
}

/* libinih's handler, also called for lines too long for libinih. section is
 * ignored: libinih truncates it, and the programs track sections themselves. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct cfgfile *f = user;
	const struct cfgfile_keyword *kw;
	unsigned *first;

	if (f->section == CFGFILE_SKIP)
		return 1;
	if (f->section == CFGFILE_NONE) {
		f->ops->refuse(f, CFGFILE_KEY_OUTSIDE, name, 0);
		return 1;
	}
	kw = cfgfile_keyword(f, f->section, name);
	if (!kw) {
		f->ops->refuse(f, CFGFILE_KEY_UNKNOWN, name, 0);
		return 1;
	}
	first = &f->key_lines[kw - f->keywords];
	if (*first && !(kw->flags & CFGFILE_KW_REPEATABLE)) {
		f->ops->refuse(f, CFGFILE_KEY_DUPLICATE, name, *first);
		return 1;
	}
	if (!*first)
		*first = f->lineno;
	if (*value == '\0' && f->refuse_empty) {
		f->ops->refuse(f, CFGFILE_KEY_EMPTY, name, 0);
		return 1;
	}
	if (kw->parse(f, kw, value, (char *)f->base + kw->offset) == -ENOMEM)
		f->ops->refuse(f, CFGFILE_NO_MEMORY, name, 0);
	return 1;
}

/* ---- the reader libinih pulls lines from ---- */

/* libinih's own rules, for the lines too long for its buffer. */
static char *rstrip(char *s)
{
	char *p = s + strlen(s);

	while (p > s && isspace((unsigned char)p[-1]))
		*--p = '\0';
	return s;
}

static char *lskip(char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

/* The first of chars, or of an inline comment (';' after whitespace), or the end. */
static char *find_chars_or_comment(char *s, const char *chars)
{
	int was_space = 0;

	while (*s && (!chars || !strchr(chars, *s)) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/* A key line longer than libinih's buffer, split as libinih splits the others:
 * at the first '=' or ':' before any inline comment, the value up to its inline
 * comment, blanks around both removed. libinih ignores a line without either. */
static void split_long_line(struct cfgfile *f, char *s)
{
	char *end = find_chars_or_comment(s, "=:"), *value;

	if (*end != '=' && *end != ':')
		return;
	*end = '\0';
	value = end + 1;
	end = find_chars_or_comment(value, NULL);
	*end = '\0';
	on_key(f, "", rstrip(s), rstrip(lskip(value)));
}

/* Takes the next line and lets the program screen it; returns the key line to
 * split, or NULL. */
static char *take_line(struct cfgfile *f)
{
	const char *start = f->data + f->pos;
	const char *nl = memchr(start, '\n', f->len - f->pos);
	size_t n = nl ? (size_t)(nl - start) : f->len - f->pos;
	char *s = f->line;

	f->pos += n + (nl != NULL);
	f->lineno++;
	if (n > f->max_line) {
		f->ops->refuse(f, CFGFILE_LINE_TOO_LONG, NULL, 0);
		return NULL;
	}
	if (memchr(start, '\0', n)) {
		f->ops->refuse(f, CFGFILE_LINE_NUL, NULL, 0);
		return NULL;
	}
	memcpy(s, start, n);
	s[n] = '\0';
	if (f->lineno == 1 && strncmp(s, UTF8_BOM, 3) == 0)
		s += 3;
	return f->ops->screen(f, s);
}

/* fgets-like: one line per call, or NULL at the end. */
static char *read_line(char *str, int num, void *stream)
{
	struct cfgfile *f = stream;
	char *kv;

	if (f->pos >= f->len || num < 2 || (f->stop_when_full && f->errors->dropped))
		return NULL;
	kv = take_line(f);
	if (kv) {
		const char *sep = find_chars_or_comment(kv, "=:");

		/* libinih would drop the line with only its first error line to show. */
		if (*sep != '=' && *sep != ':') {
			cfgfile_error(f, f->lineno, "expected 'key = value' before the comment (';' after a blank starts one)");
			kv = NULL;
		}
	}
	if (kv && strlen(kv) + 2 > (size_t)num) {
		split_long_line(f, kv);
		kv = NULL;
	}
	snprintf(str, (size_t)num, "%s\n", kv ? kv : "");
	return str;
}

int cfgfile_run(struct cfgfile *f, const char *data, size_t len)
{
	int r;

	f->data = data ? data : "";
	f->len = data ? len : 0;
	f->pos = 0;
	f->lineno = 0;
	f->line = malloc(f->max_line + 1);
	if (!f->line)
		return -ENOMEM;
	r = ini_parse_stream(read_line, f, on_key, f);
	free(f->line);
	f->line = NULL;
	return r;
}
