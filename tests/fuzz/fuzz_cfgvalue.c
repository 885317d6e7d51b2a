/* The shared configuration engine on its own (lib/cfgfile.c, lib/cfgvalue.c):
 * the input as one value for every value parser, then as a whole file through the
 * engine with a table that has one key per kind of value. The programs' own
 * targets (fuzz_config, fuzz_hc_config) run it with their tables. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fo/cfgfile.h"
#include "fo/cfgvalue.h"

enum { SEC = CFGFILE_SECTION_FIRST };

static int parse_any(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	static const char *const names[] = {"a", "b", NULL};
	unsigned long long size;
	uint8_t addr[16];
	uint64_t digits;
	double d;
	long l;
	int family;
	const char *s = value;

	switch (kw->name[0]) {
	case 'd':
		return cfgvalue_duration_ms(value, (unsigned)kw->max, &d);
	case 'i':
		return cfgvalue_long(value, &l) < 0 ? cfgvalue_digits(&s, &digits) : 0;
	case 'r':
		return cfgvalue_real(value, &d);
	case 's':
		return cfgvalue_size(value, &size);
	case 'b':
		return cfgvalue_bool(value, (unsigned)kw->max);
	case 'e':
		return cfgvalue_enum(value, names);
	default:
		if (cfgvalue_ip(value, &family, addr) < 0)
			cfgfile_error(f, f->lineno, "bad %s '%s'", kw->name, value);
		return 0;
	}
}

static const struct cfgfile_keyword keywords[] = {
	{"dur", .section = SEC, .parse = parse_any, .max = CFGVALUE_BARE_ZERO, .flags = CFGFILE_KW_REPEATABLE},
	{"dfrac", .section = SEC, .parse = parse_any, .max = CFGVALUE_FRACTION},
	{"int", .section = SEC, .parse = parse_any, .def = "1"},
	{"real", .section = SEC, .parse = parse_any},
	{"size", .section = SEC, .parse = parse_any},
	{"bool", .section = SEC, .parse = parse_any, .max = CFGVALUE_BOOL_LOOSE},
	{"enum", .section = SEC, .parse = parse_any},
	{"ip", .section = SEC, .parse = parse_any},
};

static unsigned key_lines[sizeof(keywords) / sizeof(keywords[0])];
static char fields[1]; /* every keyword's offset is 0; parse_any writes nothing */

static char *screen(struct cfgfile *f, char *line)
{
	if (line[0] == '[') {
		memset(key_lines, 0, sizeof(key_lines));
		cfgfile_defaults(f, SEC, fields);
		cfgfile_section(f, line[1] == 's' ? SEC : CFGFILE_SKIP, fields, key_lines);
		return NULL;
	}
	return line[0] && line[0] != ';' ? line : NULL;
}

static void refuse(struct cfgfile *f, enum cfgfile_refusal what, const char *name, unsigned first)
{
	cfgfile_error(f, f->lineno, "refused %d %s %u", (int)what, name ? name : "", first);
}

static const struct cfgfile_ops ops = {.screen = screen, .refuse = refuse};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[CFGFILE_MAX_ERRORS * 300];
	struct cfgfile_errors errors = {0};
	struct cfgfile f = {.ops = &ops, .keywords = keywords, .n_keywords = sizeof(keywords) / sizeof(keywords[0]),
			    .max_line = 512, .refuse_empty = size & 1, .stop_when_full = size & 2,
			    .errors = &errors};
	char *value = malloc(size + 1);

	if (!value)
		return 0;
	memcpy(value, data, size);
	value[size] = '\0';
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		parse_any(&f, &keywords[i], value, fields);
	free(value);
	cfgfile_run(&f, (const char *)data, size);
	cfgfile_errors_sort(&errors);
	cfgfile_errors_format(&errors, "fuzz.conf", buf, sizeof(buf));
	if (errors.n > CFGFILE_MAX_ERRORS)
		abort();
	return 0;
}
