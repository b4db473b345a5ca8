/*
 * Map files for MAPFILE: rules (grid-mapfile style).
 *
 * The whole file is parsed once into an array of (key, users) entries that
 * is sorted by key, so that a lookup is a binary search. Keys are compared
 * byte for byte (memcmp, then length); they never contain NUL or newline.
 * A key listed on several lines gets the union of their user lists, in file
 * order, each user once.
 *
 * Syntax of one line, after leading and trailing white space (space, tab,
 * and a CR before the newline) is dropped:
 *	(empty) | '#' comment | '"' key '"' ws user [ws] {',' [ws] user} [ws '#' comment]
 * In the key, \" and \\ stand for " and \; any other backslash is an error.
 * A '#' that starts a token (after white space or a comma) starts a comment.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "certmap.h"
#include "file.h"
#include "mapfile.h"

#define MAPFILE_MAX_USER 256

struct mapfile_entry {
	char *key;
	size_t key_len;
	size_t line; /* first line, for a stable sort */
	struct cm_strv users;
};

struct cm_mapfile {
	struct mapfile_entry *entries;
	size_t n;
	size_t cap;
};

/* Where the parser is: the file's name and line, and the error it found. */
struct mapfile_parser {
	const char *name;
	size_t line;
	char *errmsg;
};

void cm_mapfile_free(struct cm_mapfile *mf)
{
	if (mf == NULL) {
		return;
	}
	for (size_t i = 0; i < mf->n; i++) {
		free(mf->entries[i].key);
		cm_strv_clear(&mf->entries[i].users);
	}
	free(mf->entries);
	free(mf);
}

/* Records "name:line: what" (what is built by the caller) and returns rc. */
static int parser_fail(struct mapfile_parser *p, int rc, struct cm_buf *what)
{
	char *text = cm_buf_steal(what, NULL);

	free(p->errmsg);
	p->errmsg =
	    cm_asprintf("%s:%zu: %s", p->name, p->line, text != NULL ? text : "invalid line");
	free(text);
	return rc;
}

static int parser_failf(struct mapfile_parser *p, int rc, const char *sentence)
{
	struct cm_buf b;

	cm_buf_init(&b, 0);
	cm_buf_adds(&b, sentence);
	return parser_fail(p, rc, &b);
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Why name (untrusted bytes) is not a valid user name, or NULL if it is. */
static const char *user_name_problem(const unsigned char *s, size_t len)
{
	if (len == 0) {
		return "empty user name";
	}
	if (len > MAPFILE_MAX_USER) {
		return "user name longer than 256 bytes";
	}
	if (s[0] == '-' || s[0] == '+') {
		return "user name starts with '-' or '+'";
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f) {
			return "user name contains a control byte";
		}
		if (s[i] == '/' || s[i] == ':' || s[i] == ',') {
			return "user name contains '/', ':' or ','";
		}
	}
	return NULL;
}

/*
 * Reads the quoted key starting at s[*pos] == '"' into key (unescaped).
 * On success *pos is just after the closing quote.
 */
static int parse_key(struct mapfile_parser *p, const unsigned char *s, size_t len, size_t *pos,
		     struct cm_buf *key)
{
	struct cm_buf what;
	size_t i = *pos + 1;

	cm_buf_init(&what, 0);
	for (; i < len && s[i] != '"'; i++) {
		if (s[i] != '\\') {
			cm_buf_addc(key, (char)s[i]);
			continue;
		}
		if (++i >= len) {
			break;
		}
		if (s[i] != '"' && s[i] != '\\') {
			cm_buf_adds(&what, "unknown escape '\\");
			cm_buf_add_escaped(&what, s + i, 1, 1);
			cm_buf_adds(&what, "' in the key (only \\\" and \\\\ are allowed)");
			return parser_fail(p, CERTMAP_ERR_CONFIG, &what);
		}
		cm_buf_addc(key, (char)s[i]);
	}
	if (i >= len) {
		return parser_failf(p, CERTMAP_ERR_CONFIG, "the key has no closing '\"'");
	}
	if (key->failed) {
		return parser_failf(p, CERTMAP_ERR_NOMEM, "out of memory");
	}
	if (key->len == 0) {
		return parser_failf(p, CERTMAP_ERR_CONFIG, "the key is empty");
	}
	*pos = i + 1;
	return CERTMAP_OK;
}

/* Checks one user name and adds it to users. */
static int add_user(struct mapfile_parser *p, const unsigned char *s, size_t len,
		    struct cm_strv *users)
{
	const char *problem = user_name_problem(s, len);
	struct cm_buf what;

	if (problem != NULL) {
		cm_buf_init(&what, 0);
		cm_buf_printf(&what, "%s: \"", problem);
		cm_buf_add_escaped(&what, s, len, 64);
		cm_buf_adds(&what, "\"");
		return parser_fail(p, CERTMAP_ERR_CONFIG, &what);
	}
	if (cm_strv_addn(users, (const char *)s, len) != 0) {
		return parser_failf(p, CERTMAP_ERR_NOMEM, "out of memory");
	}
	return CERTMAP_OK;
}

/* Parses the user list that starts at s[pos] (after the key's white space). */
static int parse_users(struct mapfile_parser *p, const unsigned char *s, size_t len, size_t pos,
		       struct cm_strv *users)
{
	int rc;

	if (pos >= len || s[pos] == '#') {
		return parser_failf(p, CERTMAP_ERR_CONFIG, "no user names after the key");
	}
	for (;;) {
		size_t start = pos;

		while (pos < len && s[pos] != ',' && !is_space(s[pos])) {
			pos++;
		}
		if ((rc = add_user(p, s + start, pos - start, users)) != CERTMAP_OK) {
			return rc;
		}
		while (pos < len && is_space(s[pos])) {
			pos++;
		}
		if (pos >= len || s[pos] == '#') {
			return CERTMAP_OK;
		}
		if (s[pos] != ',') {
			return parser_failf(p, CERTMAP_ERR_CONFIG,
					    "expected ',' between user names");
		}
		pos++;
		while (pos < len && is_space(s[pos])) {
			pos++;
		}
		if (pos >= len || s[pos] == '#') {
			return parser_failf(p, CERTMAP_ERR_CONFIG,
					    "a user name is missing after ','");
		}
	}
}

static int mapfile_append(struct cm_mapfile *mf, struct mapfile_entry *e)
{
	if (mf->n == mf->cap) {
		size_t cap = mf->cap == 0 ? 16 : mf->cap * 2;
		struct mapfile_entry *v = realloc(mf->entries, cap * sizeof(*v));

		if (v == NULL) {
			return CERTMAP_ERR_NOMEM;
		}
		mf->entries = v;
		mf->cap = cap;
	}
	mf->entries[mf->n++] = *e;
	memset(e, 0, sizeof(*e));
	return CERTMAP_OK;
}

/* Parses one line (without its newline) and adds its entry to mf. */
static int parse_line(struct mapfile_parser *p, const unsigned char *s, size_t len,
		      struct cm_mapfile *mf)
{
	struct mapfile_entry e = {.line = p->line};
	struct cm_buf key;
	size_t pos = 0;
	int rc;

	cm_buf_init(&key, CM_MAPFILE_MAX_LINE);
	while (len > 0 && (is_space(s[len - 1]) || s[len - 1] == '\r')) {
		len--;
	}
	while (pos < len && is_space(s[pos])) {
		pos++;
	}
	if (pos == len || s[pos] == '#') {
		rc = CERTMAP_OK;
		goto out;
	}
	if (s[pos] != '"') {
		rc = parser_failf(p, CERTMAP_ERR_CONFIG, "expected a key in double quotes");
		goto out;
	}
	if ((rc = parse_key(p, s, len, &pos, &key)) != CERTMAP_OK) {
		goto out;
	}
	if (pos < len && !is_space(s[pos])) {
		rc = parser_failf(p, CERTMAP_ERR_CONFIG, "expected white space after the key");
		goto out;
	}
	while (pos < len && is_space(s[pos])) {
		pos++;
	}
	if ((rc = parse_users(p, s, len, pos, &e.users)) != CERTMAP_OK) {
		goto out;
	}
	e.key = cm_buf_steal(&key, &e.key_len);
	if (e.key == NULL || mapfile_append(mf, &e) != CERTMAP_OK) {
		rc = parser_failf(p, CERTMAP_ERR_NOMEM, "out of memory");
		goto out;
	}
out:
	cm_buf_free(&key);
	free(e.key);
	cm_strv_clear(&e.users);
	return rc;
}

static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0) {
		return c;
	}
	return alen < blen ? -1 : alen > blen;
}

static int entry_cmp(const void *va, const void *vb)
{
	const struct mapfile_entry *a = va;
	const struct mapfile_entry *b = vb;
	int c = key_cmp(a->key, a->key_len, b->key, b->key_len);

	if (c != 0) {
		return c;
	}
	return a->line < b->line ? -1 : a->line > b->line;
}

/* Moves the users of src into dst, each user once. */
static int entry_merge(struct mapfile_entry *dst, struct mapfile_entry *src)
{
	for (size_t i = 0; i < src->users.n; i++) {
		if (cm_strv_contains(&dst->users, src->users.v[i])) {
			continue;
		}
		if (cm_strv_take(&dst->users, src->users.v[i]) != 0) {
			src->users.v[i] = NULL;
			return CERTMAP_ERR_NOMEM;
		}
		src->users.v[i] = NULL;
	}
	return CERTMAP_OK;
}

/* Frees a merged-away entry whose user strings may have been moved. */
static void entry_clear(struct mapfile_entry *e)
{
	for (size_t i = 0; i < e->users.n; i++) {
		free(e->users.v[i]);
	}
	e->users.n = 0;
	cm_strv_clear(&e->users);
	free(e->key);
	e->key = NULL;
}

/* Sorts the entries and folds entries with the same key into the first. */
static int mapfile_finish(struct cm_mapfile *mf)
{
	size_t out = 0;
	int rc = CERTMAP_OK;

	if (mf->n == 0) {
		return CERTMAP_OK;
	}
	qsort(mf->entries, mf->n, sizeof(mf->entries[0]), entry_cmp);
	for (size_t i = 1; i < mf->n; i++) {
		struct mapfile_entry *last = &mf->entries[out];
		struct mapfile_entry *e = &mf->entries[i];

		if (rc == CERTMAP_OK &&
		    key_cmp(last->key, last->key_len, e->key, e->key_len) == 0) {
			rc = entry_merge(last, e);
			entry_clear(e);
			continue;
		}
		mf->entries[++out] = *e;
	}
	mf->n = out + 1;
	return rc;
}

/* Splits data into lines and parses each one. */
static int parse_lines(struct mapfile_parser *p, const unsigned char *data, size_t len,
		       struct cm_mapfile *mf)
{
	size_t pos = 0;
	int rc;

	while (pos < len) {
		const unsigned char *nl = memchr(data + pos, '\n', len - pos);
		size_t line_len = nl != NULL ? (size_t)(nl - (data + pos)) : len - pos;

		p->line++;
		if (line_len > CM_MAPFILE_MAX_LINE) {
			return parser_failf(p, CERTMAP_ERR_TOO_LARGE,
					    "the line is longer than 8192 bytes");
		}
		if (memchr(data + pos, '\0', line_len) != NULL) {
			return parser_failf(p, CERTMAP_ERR_CONFIG, "the line contains a NUL byte");
		}
		if ((rc = parse_line(p, data + pos, line_len, mf)) != CERTMAP_OK) {
			return rc;
		}
		pos += line_len + 1;
	}
	return CERTMAP_OK;
}

int cm_mapfile_parse(const char *data, size_t len, const char *name, struct cm_mapfile **out,
		     char **errmsg)
{
	struct mapfile_parser p = {.name = name != NULL ? name : "(map file)"};
	struct cm_mapfile *mf = NULL;
	int rc;

	*out = NULL;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	if (len > CM_MAPFILE_MAX_SIZE) {
		p.errmsg = cm_asprintf("%s: the file is larger than %d bytes", p.name,
				       CM_MAPFILE_MAX_SIZE);
		rc = CERTMAP_ERR_TOO_LARGE;
		goto out;
	}
	mf = calloc(1, sizeof(*mf));
	if (mf == NULL) {
		rc = CERTMAP_ERR_NOMEM;
		goto out;
	}
	if ((rc = parse_lines(&p, (const unsigned char *)data, len, mf)) != CERTMAP_OK) {
		goto out;
	}
	if ((rc = mapfile_finish(mf)) != CERTMAP_OK) {
		goto out;
	}
	*out = mf;
	mf = NULL;
out:
	if (rc != CERTMAP_OK && errmsg != NULL) {
		*errmsg = p.errmsg != NULL ? p.errmsg
					   : cm_asprintf("%s: %s", p.name, certmap_strerror(rc));
		p.errmsg = NULL;
	}
	free(p.errmsg);
	cm_mapfile_free(mf);
	return rc;
}

int cm_mapfile_load(const char *path, struct cm_mapfile **out, char **errmsg)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	rc = cm_file_read(path, "map file", CM_MAPFILE_MAX_SIZE, &data, &len, errmsg);
	if (rc == CERTMAP_OK) {
		rc = cm_mapfile_parse(data, len, path, out, errmsg);
	}
	free(data);
	return rc;
}

int cm_mapfile_lookup(const struct cm_mapfile *mf, const char *key, size_t key_len,
		      struct cm_strv *out)
{
	size_t lo = 0, hi = mf != NULL ? mf->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct mapfile_entry *e = &mf->entries[mid];
		int c = key_cmp(key, key_len, e->key, e->key_len);

		if (c == 0) {
			for (size_t i = 0; i < e->users.n; i++) {
				if (cm_strv_add(out, e->users.v[i]) != 0) {
					return CERTMAP_ERR_NOMEM;
				}
			}
			return CERTMAP_OK;
		}
		if (c < 0) {
			hi = mid;
		} else {
			lo = mid + 1;
		}
	}
	return CERTMAP_OK;
}
