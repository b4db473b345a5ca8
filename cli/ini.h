/*
 * A small reader for the INI dialect of sssd.conf (ding-libs' ini_config as
 * SSSD uses it): "[section]" headers, "key = value" lines, '#' and ';'
 * comment lines; no folded lines (SSSD parses with INI_PARSE_NOWRAP, so an
 * indented line is a line of its own). Several files are merged as SSSD merges conf.d snippets: a
 * section seen again gets its keys added, a key seen again is replaced.
 */
#ifndef CERTMAP_CLI_INI_H
#define CERTMAP_CLI_INI_H

#include <stddef.h>

#include "util.h"

/* Limits: a larger file or more entries are refused, never cut. */
#define INI_MAX_FILE (1024 * 1024)
#define INI_MAX_SECTIONS 4096
#define INI_MAX_KEYS 4096
#define INI_MAX_SNIPPETS 256

struct ini_kv {
	char *key;
	char *value;
	char *file; /* where the value that counts was set */
	size_t line;
};

struct ini_section {
	char *name;
	struct ini_kv *kv;
	size_t n;
	char *file;
	size_t line;
};

struct ini {
	struct ini_section *s;
	size_t n;
};

/*
 * Reads path into ini (merged with what it already holds). Returns 0, or
 * -1 with a malloc'd "file:line: problem" in *err.
 */
int ini_load(struct ini *ini, const char *path, char **err);
/*
 * Reads the snippets of dir (files named *.conf not starting with '.', in
 * byte order of their names) as SSSD does after sssd.conf. Like SSSD, it
 * skips a snippet whose mode is not 0600 or 0400 (its name is added to
 * skipped). A missing directory is not an error. Returns 0 or -1 with *err.
 */
int ini_load_dir(struct ini *ini, const char *dir, struct cm_strv *skipped, char **err);
void ini_clear(struct ini *ini);

/* The section of that exact name, or NULL. */
const struct ini_section *ini_section(const struct ini *ini, const char *name);
/* The value of key (compared without regard to case), or NULL. */
const struct ini_kv *ini_get_kv(const struct ini_section *s, const char *key);
const char *ini_get(const struct ini_section *s, const char *key);

#endif
