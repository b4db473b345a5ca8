/* The sssd.conf INI reader (see ini.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "file.h"
#include "ini.h"
#include "util.h"

struct ini_parser {
	struct ini *ini;
	const char *file;
	size_t line;
	struct ini_section *cur;
	char *err;
};

static void kv_clear(struct ini_kv *kv)
{
	free(kv->key);
	free(kv->value);
	free(kv->file);
}

void ini_clear(struct ini *ini)
{
	for (size_t i = 0; i < ini->n; i++) {
		for (size_t k = 0; k < ini->s[i].n; k++) {
			kv_clear(&ini->s[i].kv[k]);
		}
		free(ini->s[i].kv);
		free(ini->s[i].name);
		free(ini->s[i].file);
	}
	free(ini->s);
	ini->s = NULL;
	ini->n = 0;
}

const struct ini_section *ini_section(const struct ini *ini, const char *name)
{
	for (size_t i = 0; i < ini->n; i++) {
		if (strcmp(ini->s[i].name, name) == 0) {
			return &ini->s[i];
		}
	}
	return NULL;
}

const struct ini_kv *ini_get_kv(const struct ini_section *s, const char *key)
{
	if (s == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (strcasecmp(s->kv[i].key, key) == 0) {
			return &s->kv[i];
		}
	}
	return NULL;
}

const char *ini_get(const struct ini_section *s, const char *key)
{
	const struct ini_kv *kv = ini_get_kv(s, key);

	return kv != NULL ? kv->value : NULL;
}

static int fail(struct ini_parser *p, const char *what)
{
	if (p->err == NULL) {
		p->err = cm_asprintf("%s:%zu: %s", p->file, p->line, what);
	}
	return -1;
}

/* Trims white space at both ends in place; returns the start. */
static char *trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t')) {
		s++;
	}
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) {
		end--;
	}
	*end = '\0';
	return s;
}

static int open_section(struct ini_parser *p, const char *name)
{
	struct ini *ini = p->ini;
	struct ini_section *s = (struct ini_section *)ini_section(ini, name);
	struct ini_section *grown;

	if (s != NULL) {
		p->cur = s; /* a snippet adds to a section seen before */
		return 0;
	}
	if (ini->n >= INI_MAX_SECTIONS) {
		return fail(p, "too many sections");
	}
	grown = realloc(ini->s, (ini->n + 1) * sizeof(*grown));
	if (grown == NULL) {
		return fail(p, "out of memory");
	}
	ini->s = grown;
	s = &ini->s[ini->n];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	s->file = strdup(p->file);
	s->line = p->line;
	if (s->name == NULL || s->file == NULL) {
		free(s->name);
		free(s->file);
		return fail(p, "out of memory");
	}
	ini->n++;
	p->cur = s;
	return 0;
}

static int set_value(struct ini_parser *p, const char *key, const char *value)
{
	struct ini_section *s = p->cur;
	struct ini_kv *kv = (struct ini_kv *)ini_get_kv(s, key);
	char *v = strdup(value);
	char *f = strdup(p->file);

	if (v == NULL || f == NULL) {
		free(v);
		free(f);
		return fail(p, "out of memory");
	}
	if (kv == NULL) {
		struct ini_kv *grown;

		if (s->n >= INI_MAX_KEYS) {
			free(v);
			free(f);
			return fail(p, "too many keys in one section");
		}
		grown = realloc(s->kv, (s->n + 1) * sizeof(*grown));
		if (grown == NULL || (grown[s->n].key = strdup(key)) == NULL) {
			if (grown != NULL) {
				s->kv = grown;
			}
			free(v);
			free(f);
			return fail(p, "out of memory");
		}
		s->kv = grown;
		kv = &s->kv[s->n++];
		kv->value = NULL;
		kv->file = NULL;
	}
	/* A later value replaces an earlier one, as SSSD's merge does. */
	free(kv->value);
	free(kv->file);
	kv->value = v;
	kv->file = f;
	kv->line = p->line;
	return 0;
}

static int parse_line(struct ini_parser *p, char *line, char *end)
{
	char *s = trim(line, end);
	char *eq;

	if (*s == '\0' || *s == '#' || *s == ';') {
		return 0;
	}
	if (*s == '[') {
		char *close = strrchr(s, ']');

		if (close == NULL || close[1] != '\0') {
			return fail(p, "section header without a closing ']'");
		}
		*close = '\0';
		s = trim(s + 1, close);
		if (*s == '\0') {
			return fail(p, "empty section name");
		}
		return open_section(p, s);
	}
	eq = strchr(s, '=');
	if (eq == NULL) {
		return fail(p, "expected 'key = value'");
	}
	if (p->cur == NULL) {
		return fail(p, "value outside of a section");
	}
	*eq = '\0';
	s = trim(s, eq);
	if (*s == '\0') {
		return fail(p, "empty key");
	}
	return set_value(p, s, trim(eq + 1, eq + 1 + strlen(eq + 1)));
}

static int parse_text(struct ini_parser *p, char *text, size_t len)
{
	char *pos = text;
	char *end = text + len;

	if (memchr(text, '\0', len) != NULL) {
		p->line = 0;
		return fail(p, "contains a NUL byte");
	}
	while (pos < end) {
		char *nl = memchr(pos, '\n', (size_t)(end - pos));
		char *stop = nl != NULL ? nl : end;

		p->line++;
		*stop = '\0';
		if (parse_line(p, pos, stop) != 0) {
			return -1;
		}
		pos = stop + 1;
	}
	return 0;
}

int ini_load(struct ini *ini, const char *path, char **err)
{
	struct ini_parser p = {.ini = ini, .file = path};
	unsigned char *data = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int rc = -1;

	*err = NULL;
	f = fopen(path, "rb");
	if (f == NULL) {
		p.err = cm_asprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	data = malloc(INI_MAX_FILE + 1);
	if (data == NULL) {
		p.err = cm_asprintf("%s: out of memory", path);
		goto out;
	}
	len = fread(data, 1, INI_MAX_FILE + 1, f);
	if (ferror(f)) {
		p.err = cm_asprintf("%s: read error", path);
		goto out;
	}
	if (len > INI_MAX_FILE) {
		p.err = cm_asprintf("%s: larger than %d bytes", path, INI_MAX_FILE);
		goto out;
	}
	rc = parse_text(&p, (char *)data, len);
out:
	if (f != NULL) {
		fclose(f);
	}
	free(data);
	if (rc != 0) {
		*err = p.err != NULL ? p.err : strdup("out of memory");
	}
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_snippet(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/* SSSD's snippet check (sss_ini_add_snippets): the mode, less the owner's
 * write and execute bits, must be exactly r--------. */
static bool mode_ok(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       (st.st_mode & (ALLPERMS & ~(S_IWUSR | S_IXUSR))) == S_IRUSR;
}

int ini_load_dir(struct ini *ini, const char *dir, struct cm_strv *skipped, char **err)
{
	struct cm_strv names = {0};
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = -1;

	*err = NULL;
	if (d == NULL) {
		if (errno == ENOENT) {
			return 0;
		}
		*err = cm_asprintf("%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!is_snippet(e->d_name)) {
			continue;
		}
		if (names.n >= INI_MAX_SNIPPETS) {
			*err = cm_asprintf("%s: more than %d snippets", dir, INI_MAX_SNIPPETS);
			goto out;
		}
		if (cm_strv_take(&names, cm_asprintf("%s/%s", dir, e->d_name)) != 0) {
			*err = strdup("out of memory");
			goto out;
		}
	}
	if (names.n > 0) {
		qsort(names.v, names.n, sizeof(names.v[0]), name_cmp);
	}
	for (size_t i = 0; i < names.n; i++) {
		if (!mode_ok(names.v[i])) {
			if (cm_strv_add(skipped, names.v[i]) != 0) {
				*err = strdup("out of memory");
				goto out;
			}
			continue;
		}
		if (ini_load(ini, names.v[i], err) != 0) {
			goto out;
		}
	}
	rc = 0;
out:
	closedir(d);
	cm_strv_clear(&names);
	return rc;
}
