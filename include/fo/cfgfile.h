/* The engine of both programs' INI files (fomgr.conf, healthcheck.conf). It feeds
 * libinih one line at a time from its own buffer (Debian's libinih has a 200-byte
 * line buffer and no line numbers): it counts lines, refuses over-long lines and
 * NUL bytes, drops a UTF-8 byte order mark, and splits a key line too long for
 * libinih exactly as libinih would. Keys are rows of a table (section, parser,
 * field, default, bounds); the engine finds a key's row, refuses it out of place or
 * twice, and calls its parser. Errors carry the line they are about.
 *
 * What each section means, the wording of every message and the checks of the
 * whole file stay with each program; values are read with cfgvalue.h. */
#ifndef FO_CFGFILE_H
#define FO_CFGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFGFILE_MAX_ERRORS 64
#define CFGFILE_MESSAGE_MAX 240

struct cfgfile_error {
	unsigned line; /* 0 when the error is about the whole file */
	char message[CFGFILE_MESSAGE_MAX];
};

struct cfgfile_errors {
	char file[256]; /* what messages call the file */
	size_t n;       /* kept, at most CFGFILE_MAX_ERRORS */
	size_t dropped; /* found beyond those */
	struct cfgfile_error items[CFGFILE_MAX_ERRORS];
};

struct cfgfile;
struct cfgfile_keyword;

/* Parses value into field (the keyword's offset into the section's struct).
 * Reports its own errors with cfgfile_error() and returns 0 or a negative errno;
 * the engine reports -ENOMEM. */
typedef int (*cfgfile_parser)(struct cfgfile *f, const struct cfgfile_keyword *kw, const char *value,
			      void *field);

#define CFGFILE_KW_REPEATABLE 1u /* may be set more than once in a section */
#define CFGFILE_KW_REQUIRED 2u   /* the program checks for it when a section ends */

struct cfgfile_keyword {
	const char *name;
	int section;              /* the program's section kind, from CFGFILE_SECTION_FIRST */
	unsigned types;           /* the program's: kinds of section where it applies; 0: all */
	cfgfile_parser parse;
	size_t offset, size;      /* of the field in the section's struct */
	const char *def;          /* default, through parse(); NULL: none */
	int64_t min, max;         /* bounds of numbers and durations (ms); lengths */
	const char *const *names; /* NULL-terminated values of an enum */
	unsigned flags;
};

/* No section yet (a key is refused), or one whose header was refused (its keys are
 * skipped: the header's error said it). Programs number theirs from
 * CFGFILE_SECTION_FIRST. */
enum { CFGFILE_NONE, CFGFILE_SKIP, CFGFILE_SECTION_FIRST };

/* What the engine refuses by itself; the program words it. */
enum cfgfile_refusal {
	CFGFILE_LINE_TOO_LONG, /* longer than max_line bytes */
	CFGFILE_LINE_NUL,      /* a NUL byte in the line */
	CFGFILE_KEY_OUTSIDE,   /* a key before any section */
	CFGFILE_KEY_UNKNOWN,   /* no row for it in this section */
	CFGFILE_KEY_DUPLICATE, /* set before in this section, on line first */
	CFGFILE_KEY_EMPTY,     /* no value, with refuse_empty */
	CFGFILE_NO_MEMORY,
};

struct cfgfile_ops {
	/* One line without its newline (nor, on line 1, its byte order mark), free of
	 * NUL bytes and at most max_line long: the program strips its comments, handles
	 * a section header (cfgfile_section()) and refuses what it does not read.
	 * Returns the "key = value" text for libinih (within line), or NULL. */
	char *(*screen)(struct cfgfile *f, char *line);
	/* A refusal: name is the key's where there is one, first the line where the
	 * key was set before (CFGFILE_KEY_DUPLICATE). */
	void (*refuse)(struct cfgfile *f, enum cfgfile_refusal what, const char *name, unsigned first);
};

struct cfgfile {
	/* Set by the program. */
	const struct cfgfile_ops *ops;
	const struct cfgfile_keyword *keywords;
	size_t n_keywords;
	size_t max_line;              /* bytes of a line, without its newline */
	bool refuse_empty;            /* an empty value is refused rather than parsed */
	bool stop_when_full;          /* reading stops once an error was dropped */
	struct cfgfile_errors *errors;
	void *user;                   /* the program's parse state, for its parsers */
	/* The engine's. */
	unsigned lineno;              /* of the line being read */
	int section;                  /* CFGFILE_NONE, CFGFILE_SKIP or the program's */
	void *base;                   /* the struct the section's keys fill */
	unsigned *key_lines;          /* per keyword: line where first set in the section, 0: not */
	const char *data;
	size_t len, pos;
	char *line;
};

/* Reads data through libinih. Returns libinih's result: 0, the line of a syntax
 * error libinih found (each program screens lines so that it finds none), or a
 * negative value (-ENOMEM: no line buffer). */
int cfgfile_run(struct cfgfile *f, const char *data, size_t len);

/* Starts a section: its kind (or CFGFILE_SKIP), the struct its keys fill and the
 * array (n_keywords, zeroed) where the lines of its keys go. */
void cfgfile_section(struct cfgfile *f, int section, void *base, unsigned *key_lines);
/* Parses every default of a section's keywords into base. */
void cfgfile_defaults(struct cfgfile *f, int section, void *base);
/* The row for name in section (CFGFILE_NONE: in any section), or NULL. */
const struct cfgfile_keyword *cfgfile_keyword(const struct cfgfile *f, int section, const char *name);
/* The line where a section's key was first set (from its key_lines), 0 if not. */
unsigned cfgfile_key_line(const struct cfgfile *f, const unsigned *key_lines, int section, const char *name);

/* Adds an error about line (0: the whole file); beyond CFGFILE_MAX_ERRORS only
 * counts it in errors->dropped. */
__attribute__((format(printf, 3, 4)))
void cfgfile_error(struct cfgfile *f, unsigned line, const char *fmt, ...);
/* Orders the kept errors by line (stable), so they read in file order. */
void cfgfile_errors_sort(struct cfgfile_errors *errors);
/* "path:line: message" (or "path: message") one per line into buf; returns buf. */
const char *cfgfile_errors_format(const struct cfgfile_errors *errors, const char *path, char *buf, size_t size);

#endif
