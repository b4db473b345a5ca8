/* The request decoder's fast path: see request_fast.h. */
#include "config.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "request_fast.h"
#include "util.h"

static bool fast_enabled = true;

void cmp_fast_set_enabled(bool on)
{
	fast_enabled = on;
}

/* The one cursor over the frame. */
struct cur {
	const char *p, *end;
};

/* The keys an object of the fast shape may hold; the tree points to these
 * constant strings instead of copies. */
enum { KEY_PARAMETERS = 1, KEY_CHAIN = 1 };
static const char *const envelope_keys[] = {
    CMP_F_METHOD, CMP_F_PARAMETERS, CMP_F_ONEWAY, CMP_F_MORE, CMP_F_UPGRADE,
};
static const char *const param_keys[] = {
    CMP_P_CERTIFICATE, CMP_P_CHAIN,		  CMP_P_USER,  CMP_P_UPN_HINT,
    CMP_P_DOMAIN_HINT, CMP_P_USER_MAPPING_DATA, CMP_P_TRACE,
};

struct scope {
	const char *const *keys;
	size_t n_keys;
};

static const struct scope envelope = {envelope_keys, CM_ARRAY_SIZE(envelope_keys)};
static const struct scope params = {param_keys, CM_ARRAY_SIZE(param_keys)};

static void skip_ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) {
		c->p++;
	}
}

/* Consumes ch after white space; false if the next byte is another one. */
static bool eat(struct cur *c, char ch)
{
	skip_ws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return true;
	}
	return false;
}

/* Printable ASCII: the fast path leaves UTF-8 and control bytes (and
 * their exact refusals) to the full decoder. */
static bool plain(unsigned char b)
{
	return b >= 0x20 && b < 0x7f;
}

/* What an escape stands for, or 0 for one the fast path leaves (\u). */
static char unescape(char e)
{
	switch (e) {
	case '"':
	case '\\':
	case '/': return e;
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	default: return 0;
	}
}

/* Bit tricks on 8 bytes at once: ONES * n is n in every byte; the
 * result of has_below is non-zero exactly when some byte is below n
 * (n <= 128). */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

static uint64_t has_below(uint64_t w, uint8_t n)
{
	return (w - ONES * n) & ~w & HIGHS;
}

static uint64_t has_byte(uint64_t w, uint8_t b)
{
	return has_below(w ^ (ONES * b), 1);
}

/*
 * The first byte at or after p that is not plain or is a quote or a
 * backslash, looked for 8 bytes at a time (a certificate is a 1-2 KB
 * string of plain bytes); the bytes of a last short word are left to the
 * caller.
 */
static const char *skip_plain_words(const char *p, const char *end)
{
	uint64_t w;

	while (end - p >= 8) {
		memcpy(&w, p, sizeof(w));
		if ((w & HIGHS) != 0 || has_below(w, 0x20) != 0 || has_byte(w, 0x7f) != 0 ||
		    has_byte(w, '"') != 0 || has_byte(w, '\\') != 0) {
			break;
		}
		p += 8;
	}
	return p;
}

/*
 * Scans a string whose opening quote c->p is at, up to its closing quote.
 * Sets *body and *raw_len to its text as written and *n_esc to its
 * escapes; the cursor ends after the closing quote. -1: not fast.
 */
static int scan_string(struct cur *c, const char **body, size_t *raw_len, size_t *n_esc)
{
	const char *p = c->p + 1;

	*n_esc = 0;
	for (;;) {
		p = skip_plain_words(p, c->end);
		if (p >= c->end || *p == '"') {
			break;
		}
		if (*p == '\\') {
			if (p + 1 >= c->end || unescape(p[1]) == 0) {
				return -1;
			}
			(*n_esc)++;
			p += 2;
		} else if (plain((unsigned char)*p)) {
			p++;
		} else {
			return -1;
		}
	}
	if (p >= c->end) {
		return -1;
	}
	*body = c->p + 1;
	*raw_len = (size_t)(p - *body);
	c->p = p + 1;
	return 0;
}

static json_object *string_value(struct cur *c)
{
	const char *body;
	size_t raw, n_esc, k = 0;
	char *buf;
	json_object *s;

	if (scan_string(c, &body, &raw, &n_esc) != 0) {
		return NULL;
	}
	if (n_esc == 0) {
		return json_object_new_string_len(body, (int)raw);
	}
	if ((buf = malloc(raw - n_esc)) == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < raw; i++) {
		buf[k++] = body[i] == '\\' ? unescape(body[++i]) : body[i];
	}
	s = json_object_new_string_len(buf, (int)k);
	free(buf);
	return s;
}

/* The index in sc of the key at the cursor; -1 for any other key. */
static int key_index(struct cur *c, const struct scope *sc)
{
	const char *body;
	size_t len, n_esc;

	if (c->p >= c->end || *c->p != '"' || scan_string(c, &body, &len, &n_esc) != 0 ||
	    n_esc > 0) {
		return -1;
	}
	for (size_t i = 0; i < sc->n_keys; i++) {
		if (strlen(sc->keys[i]) == len && memcmp(sc->keys[i], body, len) == 0) {
			return (int)i;
		}
	}
	return -1;
}

static bool literal(struct cur *c, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) {
		return false;
	}
	c->p += n;
	return true;
}

/* The chain: a list of strings, the cursor after its '['. */
static json_object *string_list(struct cur *c)
{
	json_object *a = json_object_new_array(), *s = NULL;

	if (a == NULL || eat(c, ']')) {
		return a;
	}
	do {
		skip_ws(c);
		s = NULL;
		if (c->p >= c->end || *c->p != '"' || (s = string_value(c)) == NULL ||
		    json_object_array_add(a, s) != 0) {
			json_object_put(s);
			json_object_put(a);
			return NULL;
		}
	} while (eat(c, ','));
	if (!eat(c, ']')) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

static json_object *object(struct cur *c, const struct scope *sc);

/*
 * One value, the cursor at its first byte: *v is NULL for null, as in
 * json-c's trees. Objects are parameters, lists are chain: other nesting
 * is not fast. Returns 0, or -1: not fast.
 */
static int value(struct cur *c, const struct scope *sc, int k, json_object **v)
{
	*v = NULL;
	if (c->p >= c->end) {
		return -1;
	}
	switch (*c->p) {
	case '"': *v = string_value(c); break;
	case 't': *v = literal(c, "true") ? json_object_new_boolean(1) : NULL; break;
	case 'f': *v = literal(c, "false") ? json_object_new_boolean(0) : NULL; break;
	case 'n': return literal(c, "null") ? 0 : -1;
	case '{':
		c->p++;
		*v = sc == &envelope && k == KEY_PARAMETERS ? object(c, &params) : NULL;
		break;
	case '[':
		c->p++;
		*v = sc == &params && k == KEY_CHAIN ? string_list(c) : NULL;
		break;
	default: break;
	}
	return *v != NULL ? 0 : -1;
}

/* An object of scope sc, the cursor after its '{'. Each key at most once:
 * json-c keeps a repeated key's place and its last value. */
static json_object *object(struct cur *c, const struct scope *sc)
{
	json_object *o = json_object_new_object(), *v = NULL;
	unsigned int seen = 0;
	int k;

	if (o == NULL || eat(c, '}')) {
		return o;
	}
	do {
		skip_ws(c);
		if ((k = key_index(c, sc)) < 0 || (seen & 1U << k) != 0 || !eat(c, ':')) {
			goto fail;
		}
		seen |= 1U << k;
		skip_ws(c);
		if (value(c, sc, k, &v) != 0 ||
		    json_object_object_add_ex(o, sc->keys[k], v,
					      JSON_C_OBJECT_ADD_KEY_IS_NEW |
						  JSON_C_OBJECT_ADD_CONSTANT_KEY) != 0) {
			goto fail;
		}
		v = NULL;
	} while (eat(c, ','));
	if (eat(c, '}')) {
		return o;
	}
fail:
	json_object_put(v);
	json_object_put(o);
	return NULL;
}

struct json_object *cmp_fast_parse(const char *frame, size_t len)
{
	struct cur c = {frame, frame + len};
	json_object *root;

	if (!fast_enabled || len + 1 > CMP_MAX_REQUEST || !eat(&c, '{')) {
		return NULL;
	}
	root = object(&c, &envelope);
	skip_ws(&c);
	if (root != NULL && c.p != c.end) {
		json_object_put(root);
		root = NULL;
	}
	return root;
}

/* ---------------------------------------------------------------- the cache key alone */

/* Map's parameters as the key needs them: slices of the frame. */
struct key_fields {
	const char *val[CM_ARRAY_SIZE(param_keys)];
	size_t len[CM_ARRAY_SIZE(param_keys)];
	bool trace;
};

enum { P_CERTIFICATE, P_CHAIN, P_USER, P_UPN_HINT, P_DOMAIN_HINT, P_HINT_DATA, P_TRACE };

/* A string with no escape, the cursor at its quote. */
static bool plain_string(struct cur *c, const char **body, size_t *len)
{
	size_t n_esc;

	return c->p < c->end && *c->p == '"' && scan_string(c, body, len, &n_esc) == 0 &&
	       n_esc == 0;
}

/* The parameters object, the cursor after its '{': certificate, user,
 * upn_hint, domain_hint as plain strings, trace as true or false; any
 * other key or value is for the full decoder. */
static bool key_params(struct cur *c, struct key_fields *f)
{
	unsigned int seen = 0;
	int k;

	if (eat(c, '}')) {
		return false; /* no certificate: the full decoder says so */
	}
	do {
		skip_ws(c);
		if ((k = key_index(c, &params)) < 0 || (seen & 1U << k) != 0 || !eat(c, ':')) {
			return false;
		}
		seen |= 1U << k;
		skip_ws(c);
		if (k == P_TRACE) {
			if (!(f->trace = literal(c, "true")) && !literal(c, "false")) {
				return false;
			}
		} else if (k == P_CHAIN || k == P_HINT_DATA || !plain_string(c, &f->val[k], &f->len[k]) ||
			   (k != P_CERTIFICATE && (f->len[k] == 0 || f->len[k] > CMP_MAX_NAME))) {
			return false;
		}
	} while (eat(c, ','));
	return eat(c, '}') && f->val[P_CERTIFICATE] != NULL;
}

/* The frame {"method":"<Map>","parameters":{...}} (either order). */
static bool key_frame(struct cur *c, struct key_fields *f)
{
	unsigned int seen = 0;
	const char *m;
	size_t m_len;
	int k;

	if (!eat(c, '{')) {
		return false;
	}
	do {
		skip_ws(c);
		if ((k = key_index(c, &envelope)) < 0 || (seen & 1U << k) != 0 || !eat(c, ':')) {
			return false;
		}
		seen |= 1U << k;
		skip_ws(c);
		if (k == KEY_PARAMETERS) {
			if (!eat(c, '{') || !key_params(c, f)) {
				return false;
			}
		} else if (k != 0 || !plain_string(c, &m, &m_len) || m_len != strlen(CMP_M_MAP) ||
			   memcmp(m, CMP_M_MAP, m_len) != 0) {
			return false; /* oneway, more, upgrade, or another method */
		}
	} while (eat(c, ','));
	if (!eat(c, '}')) {
		return false;
	}
	skip_ws(c);
	return c->p == c->end && seen == (1U | 1U << KEY_PARAMETERS);
}

/* The key being written into the caller's room. */
struct key_out {
	unsigned char *p;
	size_t cap, len;
	bool full;
};

static void key_add(struct key_out *k, const void *p, size_t len)
{
	if (k->full || len > k->cap - k->len) {
		k->full = true;
		return;
	}
	memcpy(k->p + k->len, p, len);
	k->len += len;
}

static void key_put(struct key_out *k, const char *s, size_t len)
{
	uint64_t n = len;

	if (s == NULL) {
		key_add(k, "\xff", 1);
		return;
	}
	key_add(k, &n, sizeof(n));
	key_add(k, s, len);
}

bool cmp_fast_map_key(const char *frame, size_t len, bool admin, unsigned char *key, size_t cap,
		      size_t *key_len)
{
	struct cur c = {frame, frame + len};
	struct key_out k = {key, cap, 0, false};
	struct key_fields f;
	uint64_t no_chain = 0;
	unsigned char flag;

	memset(&f, 0, sizeof(f));
	*key_len = 0;
	if (!fast_enabled || len + 1 > CMP_MAX_REQUEST || !key_frame(&c, &f) ||
	    f.len[P_CERTIFICATE] == 0) {
		return false;
	}
	/* As cmp_map_key() lays it out, trace as do_map() leaves it. */
	flag = f.trace && admin ? 1 : 0;
	key_put(&k, f.val[P_CERTIFICATE], f.len[P_CERTIFICATE]);
	key_add(&k, &no_chain, sizeof(no_chain));
	key_put(&k, f.val[P_USER], f.len[P_USER]);
	key_put(&k, f.val[P_UPN_HINT], f.len[P_UPN_HINT]);
	key_put(&k, f.val[P_DOMAIN_HINT], f.len[P_DOMAIN_HINT]);
	key_put(&k, NULL, 0);
	key_add(&k, &flag, 1);
	*key_len = k.len;
	return !k.full;
}
