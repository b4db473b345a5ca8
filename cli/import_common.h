/*
 * certmapctl import: what the importers share. An importer writes the
 * three parts of certmap.conf (verify, domains, rules) into buffers, notes
 * what it could not express (a comment in the output and a warning on
 * stderr), and the command writes the file at the end, whole or not at all.
 */
#ifndef CERTMAP_CLI_IMPORT_COMMON_H
#define CERTMAP_CLI_IMPORT_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* The largest priority certmap.conf accepts (certmap.conf(5)). */
#define IMP_MAX_PRIORITY (UINT32_MAX >> 1)

struct imp {
	const char *source;    /* the file imported, for the header */
	const char *kind;      /* "sssd" or "pam_pkcs11" */
	struct cm_buf head;    /* comments at the top */
	struct cm_buf verify;  /* settings inside verify = { } */
	struct cm_buf domains; /* groups inside domains = ( ) */
	struct cm_buf rules;   /* groups inside rules = ( ) */
	size_t n_domains;
	size_t n_rules;
	size_t domain_end; /* offset just after the last domain's '}' */
	size_t rule_end;
	unsigned n_warnings;
	unsigned n_notes;
	bool lost; /* something that affects a mapping decision was left out */
};

void imp_init(struct imp *im, const char *kind, const char *source);
void imp_clear(struct imp *im);

/*
 * Something could not be expressed: prints "certmapctl: import: warning:
 * <msg>" to stderr and appends "# NOT IMPORTED: <msg>" to b (the part of
 * the output it concerns). affects: it changes who is mapped, so the
 * command exits 1.
 */
void imp_warn(struct imp *im, struct cm_buf *b, bool affects, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Like imp_warn for what was imported but deserves a look: stderr and a
 * comment, no "NOT IMPORTED", no exit 1. */
void imp_note(struct imp *im, struct cm_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * List elements: imp_next() before an element's first byte puts the comma
 * after the previous element (comments may come between); imp_end() after
 * its closing '}'.
 */
void imp_next(struct cm_buf *b, size_t n, size_t end);
void imp_end(struct cm_buf *b, size_t *n, size_t *end);
/* Appends "<indent># <text>\n", one comment line per line of text. */
void imp_comment(struct cm_buf *b, const char *indent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends s as a libconfig string literal, quotes included. */
void imp_quote(struct cm_buf *b, const char *s);
/* Appends "<indent>key = "value";\n". */
void imp_set_str(struct cm_buf *b, const char *indent, const char *key, const char *value);
/* Appends a list of strings: key = ["a", "b"]; */
void imp_set_list(struct cm_buf *b, const char *indent, const char *key, const struct cm_strv *v);

/* Splits a comma-separated list (white space around items trimmed, empty
 * items dropped) into v. Returns 0 or -1 (out of memory). */
int imp_split(const char *s, char sep, struct cm_strv *v);

/*
 * Writes the configuration to path ("-" or NULL: stdout), through a
 * temporary file renamed into place, mode 0644. Returns 0 or -1 (printed).
 */
int imp_write(struct imp *im, const char *path);
/* A file next to the output (path NULL: the working directory). */
char *imp_sibling(const char *output, const char *name);
/* Writes data to path (a new file, 0644), through a rename. 0 or -1. */
int imp_write_file(const char *path, const char *data, size_t len);

/* certmapctl import sssd / pam_pkcs11 (argv[0] is the format). */
int imp_sssd(int argc, char **argv);
int imp_pkcs11(int argc, char **argv);

#endif
