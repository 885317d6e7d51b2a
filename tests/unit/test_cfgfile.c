/* The configuration engine both programs share: value spellings (with the flags
 * where fomgr.conf and healthcheck.conf differ), the line feeding of libinih
 * (counted lines, refusals, long lines split as libinih splits short ones), the
 * keyword table (duplicates, repeatable keys, defaults) and file:line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "fo/cfgfile.h"
#include "fo/cfgvalue.h"

static void digits(void **state)
{
	const char *s = "123abc";
	uint64_t n;

	assert_int_equal(cfgvalue_digits(&s, &n), 0);
	assert_int_equal(n, 123);
	assert_string_equal(s, "abc");
	s = "x";
	assert_int_equal(cfgvalue_digits(&s, &n), -EINVAL);
	s = "1234567890";
	assert_int_equal(cfgvalue_digits(&s, &n), -ERANGE);
}

static void durations(void **state)
{
	static const struct {
		const char *text;
		unsigned flags;
		int rc;
		double ms;
	} cases[] = {
		{"200ms", 0, 0, 200},          {"5s", 0, 0, 5000},
		{"2m", 0, 0, 120000},          {"0", CFGVALUE_BARE_ZERO, 0, 0},
		{"0", 0, -EINVAL, 0},          {"5", CFGVALUE_BARE_ZERO, -EINVAL, 0},
		{"1.5s", 0, -EINVAL, 0},       {"1.5s", CFGVALUE_FRACTION, 0, 1500},
		{"0.5ms", CFGVALUE_FRACTION, 0, 0.5}, {"-1s", CFGVALUE_FRACTION, -EINVAL, 0},
		{"5h", 0, -EINVAL, 0},         {"5 s", 0, -EINVAL, 0},
		{"1234567890s", 0, -ERANGE, 0}, {"inf", CFGVALUE_FRACTION, -EINVAL, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double ms = -1;

		assert_int_equal(cfgvalue_duration_ms(cases[i].text, cases[i].flags, &ms), cases[i].rc);
		if (cases[i].rc == 0)
			assert_true(ms == cases[i].ms);
	}
}

static void numbers_and_words(void **state)
{
	static const char *const names[] = {"auto", "manual", NULL};
	unsigned long long size;
	char buf[64];
	double d;
	long l;
	int family;
	uint8_t addr[16];

	assert_int_equal(cfgvalue_long("-12", &l), 0);
	assert_int_equal(l, -12);
	assert_int_equal(cfgvalue_long("12x", &l), -EINVAL);
	assert_int_equal(cfgvalue_real("75.5", &d), 0);
	assert_int_equal(cfgvalue_real("nan", &d), -EINVAL);
	assert_int_equal(cfgvalue_size("64k", &size), 0);
	assert_int_equal(size, 65536);
	assert_int_equal(cfgvalue_size("1M", &size), 0);
	assert_int_equal(size, 1 << 20);
	assert_int_equal(cfgvalue_size("-1", &size), -EINVAL);
	assert_int_equal(cfgvalue_size("1g", &size), -EINVAL);
	assert_int_equal(cfgvalue_bool("on", 0), 1);
	assert_int_equal(cfgvalue_bool("false", 0), 0);
	assert_int_equal(cfgvalue_bool("YES", 0), -EINVAL);
	assert_int_equal(cfgvalue_bool("1", 0), -EINVAL);
	assert_int_equal(cfgvalue_bool("YES", CFGVALUE_BOOL_LOOSE), 1);
	assert_int_equal(cfgvalue_bool("0", CFGVALUE_BOOL_LOOSE), 0);
	assert_int_equal(cfgvalue_enum("manual", names), 1);
	assert_int_equal(cfgvalue_enum("Manual", names), -EINVAL);
	cfgvalue_join(buf, sizeof(buf), (const char *const[]){"a", "b", "c", NULL});
	assert_string_equal(buf, "a, b or c");
	assert_int_equal(cfgvalue_ip("192.0.2.1", &family, addr), 0);
	assert_int_equal(family, AF_INET);
	assert_int_equal(addr[0], 192);
	assert_int_equal(cfgvalue_ip("2001:db8::1", &family, addr), 0);
	assert_int_equal(family, AF_INET6);
	assert_int_equal(cfgvalue_ip("192.0.2.1/24", &family, addr), -EINVAL);
}

/* ---- the engine, with a table of two sections ---- */

enum { SEC_A = CFGFILE_SECTION_FIRST, SEC_B };

struct sample {
	uint32_t n;
	char word[32];
	unsigned n_words;
};

struct fixture {
	struct cfgfile file;
	struct cfgfile_errors errors;
	struct sample a, b;
	unsigned a_lines[3], b_lines[3];
	char refusals[256];
};

static int parse_n(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	long v;

	if (cfgvalue_long(value, &v) < 0 || v < kw->min || v > kw->max) {
		cfgfile_error(f, f->lineno, "bad %s '%s'", kw->name, value);
		return -EINVAL;
	}
	*(uint32_t *)field = (uint32_t)v;
	return 0;
}

static int parse_word(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value, void *field)
{
	struct sample *s = (struct sample *)((char *)field - offsetof(struct sample, word));

	snprintf(field, kw->size, "%s", value);
	s->n_words++;
	return 0;
}

static const struct cfgfile_keyword keywords[] = {
	{"n", .section = SEC_A, .parse = parse_n, .offset = offsetof(struct sample, n), .def = "7", .min = 1, .max = 9},
	{"word", .section = SEC_A, .parse = parse_word, .offset = offsetof(struct sample, word),
	 .size = sizeof(((struct sample *)0)->word), .flags = CFGFILE_KW_REPEATABLE},
	{"n", .section = SEC_B, .parse = parse_n, .offset = offsetof(struct sample, n), .min = 0, .max = 99},
};

static char *screen(struct cfgfile *f, char *line)
{
	struct fixture *fx = f->user;

	while (*line == ' ')
		line++;
	if (strcmp(line, "[a]") == 0) {
		cfgfile_defaults(f, SEC_A, &fx->a);
		cfgfile_section(f, SEC_A, &fx->a, fx->a_lines);
		return NULL;
	}
	if (strcmp(line, "[b]") == 0) {
		cfgfile_section(f, SEC_B, &fx->b, fx->b_lines);
		return NULL;
	}
	if (line[0] == '[') {
		cfgfile_error(f, f->lineno, "bad section");
		cfgfile_section(f, CFGFILE_SKIP, NULL, NULL);
		return NULL;
	}
	return *line ? line : NULL;
}

static void refuse(struct cfgfile *f, enum cfgfile_refusal what, const char *name, unsigned first)
{
	struct fixture *fx = f->user;
	size_t used = strlen(fx->refusals);

	snprintf(fx->refusals + used, sizeof(fx->refusals) - used, "%u:%d:%s:%u ", f->lineno, (int)what,
		 name ? name : "-", first);
}

static const struct cfgfile_ops ops = {.screen = screen, .refuse = refuse};

static void run(struct fixture *fx, const char *text, bool refuse_empty)
{
	memset(fx, 0, sizeof(*fx));
	fx->file = (struct cfgfile){.ops = &ops, .keywords = keywords, .n_keywords = 3, .max_line = 300,
				    .refuse_empty = refuse_empty, .errors = &fx->errors, .user = fx};
	assert_int_equal(cfgfile_run(&fx->file, text, strlen(text)), 0);
}

static void engine(void **state)
{
	struct fixture fx;
	char buf[512];

	run(&fx, "\xEF\xBB\xBFn = 1\n[a]\nword = x\nword : y ; comment\n\n[b]\nn = 12\nn = 13\nm = 1\n[c]\nn = 1\n"
		 "[a]\nn = 0\n",
	    false);
	/* n before any section, m unknown in [b], the second n of [b], then the second
	 * [a] (a fresh section: its lines start again) refuses its value. */
	assert_string_equal(fx.refusals, "1:2:n:0 8:4:n:7 9:3:m:0 ");
	assert_string_equal(fx.a.word, "y");
	assert_int_equal(fx.a.n_words, 2);
	assert_int_equal(fx.a.n, 7); /* the default; the later "n = 0" is refused */
	assert_int_equal(fx.b.n, 12);
	assert_int_equal(fx.errors.n, 2);
	assert_string_equal(cfgfile_errors_format(&fx.errors, "t.conf", buf, sizeof(buf)),
			    "t.conf:10: bad section\nt.conf:13: bad n '0'\n");
	assert_int_equal(cfgfile_key_line(&fx.file, fx.b_lines, SEC_B, "n"), 7);
	assert_ptr_equal(cfgfile_keyword(&fx.file, CFGFILE_NONE, "word"), &keywords[1]);
	assert_null(cfgfile_keyword(&fx.file, SEC_B, "word"));

	run(&fx, "[a]\nword =\n", true);
	assert_string_equal(fx.refusals, "2:5:word:0 ");
	run(&fx, "[a]\nword =\n", false);
	assert_string_equal(fx.refusals, "");
	assert_int_equal(fx.a.n_words, 1);
}

static void line_refusals(void **state)
{
	char text[700];
	struct fixture fx;

	memset(text, 'x', sizeof(text));
	memcpy(text, "[a]\nword = ", 11);
	memcpy(text + 400, "\nword = a\0b\nword = ok\n", 22);
	run(&fx, "", false);
	fx.file.max_line = 300;
	assert_int_equal(cfgfile_run(&fx.file, text, 422), 0);
	assert_string_equal(fx.refusals, "2:0:-:0 3:1:-:0 ");
	assert_string_equal(fx.a.word, "ok");
}

/* A line too long for libinih's buffer is split as libinih splits a short one:
 * blanks of any kind around the key and the value, an inline comment, a ':'. */
static void long_lines_split_as_libinih(void **state)
{
	static const char *const seps[] = {" = ", "\f=\v", "\t: ", " =\t"};
	char pad[260];
	struct fixture shorter, longer;

	memset(pad, 'w', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (size_t i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
		char a[128], b[700];

		snprintf(a, sizeof(a), "[b]\nn%s5 ; five\n[a]\nword%sshort ; c\n", seps[i], seps[i]);
		snprintf(b, sizeof(b), "[b]\nn%s5 ; five %s\n[a]\nword%s%.20s ; c %s\n", seps[i], pad, seps[i], pad,
			 pad);
		run(&shorter, a, false);
		run(&longer, b, false);
		assert_string_equal(shorter.refusals, "");
		assert_string_equal(longer.refusals, "");
		assert_int_equal(shorter.b.n, 5);
		assert_int_equal(longer.b.n, 5);
		assert_string_equal(shorter.a.word, "short");
		assert_int_equal(strlen(longer.a.word), 20);
	}
}

static void errors_kept_and_counted(void **state)
{
	struct cfgfile_errors errors = {0};
	struct cfgfile f = {.errors = &errors};

	for (unsigned i = CFGFILE_MAX_ERRORS + 3; i > 0; i--)
		cfgfile_error(&f, i, "e%u", i);
	assert_int_equal(errors.n, CFGFILE_MAX_ERRORS);
	assert_int_equal(errors.dropped, 3);
	cfgfile_errors_sort(&errors);
	assert_int_equal(errors.items[0].line, 4);
	assert_string_equal(errors.items[0].message, "e4");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(digits),
		cmocka_unit_test(durations),
		cmocka_unit_test(numbers_and_words),
		cmocka_unit_test(engine),
		cmocka_unit_test(line_refusals),
		cmocka_unit_test(long_lines_split_as_libinih),
		cmocka_unit_test(errors_kept_and_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
