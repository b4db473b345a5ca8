/* The request decoder's fast path: see request_fast.h. */
#include "config.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "request.h"
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
enum { E_METHOD, E_PARAMETERS, E_ONEWAY, E_MORE, E_UPGRADE, E_N };
static const char *const envelope_keys[E_N] = {
    [E_METHOD] = CMP_F_METHOD, [E_PARAMETERS] = CMP_F_PARAMETERS, [E_ONEWAY] = CMP_F_ONEWAY,
    [E_MORE] = CMP_F_MORE,     [E_UPGRADE] = CMP_F_UPGRADE,
};
enum { P_CERTIFICATE, P_CHAIN, P_USER, P_UPN_HINT, P_DOMAIN_HINT, P_HINT_DATA, P_TRACE, P_N };
static const char *const param_keys[P_N] = {
    [P_CERTIFICATE] = CMP_P_CERTIFICATE, [P_CHAIN] = CMP_P_CHAIN,
    [P_USER] = CMP_P_USER,		 [P_UPN_HINT] = CMP_P_UPN_HINT,
    [P_DOMAIN_HINT] = CMP_P_DOMAIN_HINT, [P_HINT_DATA] = CMP_P_USER_MAPPING_DATA,
    [P_TRACE] = CMP_P_TRACE,
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
 * backslash, looked for 16 bytes at a time with SSE2 (every x86-64 has
 * it), then 8 at a time (a certificate is a 1-2 KB string of plain
 * bytes); the bytes of a last short word are left to the caller.
 */
static const char *skip_plain_words(const char *p, const char *end)
{
	uint64_t w;

#ifdef __SSE2__
	/* Signed bytes: below 0x20 is a control byte or one of 0x80-0xff. */
	const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f),
		      quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');

	while (end - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(x, space), _mm_cmpeq_epi8(x, del)),
					   _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)));

		if (_mm_movemask_epi8(bad) != 0) {
			break;
		}
		p += 16;
	}
#endif
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

/* The next key of an object of scope sc and its ':', each key at most
 * once (json-c keeps a repeated key's place and its last value); the
 * cursor ends at the value. Its index in sc, or -1: not fast. */
static int next_key(struct cur *c, const struct scope *sc, unsigned int *seen)
{
	int k;

	skip_ws(c);
	if ((k = key_index(c, sc)) < 0 || (*seen & 1U << k) != 0 || !eat(c, ':')) {
		return -1;
	}
	*seen |= 1U << k;
	skip_ws(c);
	return k;
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
		*v = sc == &envelope && k == E_PARAMETERS ? object(c, &params) : NULL;
		break;
	case '[':
		c->p++;
		*v = sc == &params && k == P_CHAIN ? string_list(c) : NULL;
		break;
	default: break;
	}
	return *v != NULL ? 0 : -1;
}

/* An object of scope sc, the cursor after its '{'. */
static json_object *object(struct cur *c, const struct scope *sc)
{
	json_object *o = json_object_new_object(), *v = NULL;
	unsigned int seen = 0;
	int k;

	if (o == NULL || eat(c, '}')) {
		return o;
	}
	do {
		if ((k = next_key(c, sc, &seen)) < 0) {
			goto fail;
		}
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

/* A string with no escape, the cursor at its quote. */
static bool plain_string(struct cur *c, struct cmp_slice *out)
{
	size_t n_esc;

	return c->p < c->end && *c->p == '"' && scan_string(c, &out->p, &out->len, &n_esc) == 0 &&
	       n_esc == 0;
}

/* The parameters object, the cursor after its '{': certificate, user,
 * upn_hint, domain_hint as plain strings, trace as true or false; any
 * other key or value is for the full decoder. */
static bool key_params(struct cur *c, struct cmp_key_fields *f)
{
	struct cmp_slice *names[P_N] = {
	    [P_USER] = &f->user, [P_UPN_HINT] = &f->upn_hint, [P_DOMAIN_HINT] = &f->domain_hint};
	unsigned int seen = 0;
	int k;

	if (eat(c, '}')) {
		return false; /* no certificate: the full decoder says so */
	}
	do {
		if ((k = next_key(c, &params, &seen)) < 0) {
			return false;
		}
		if (k == P_TRACE) {
			if (!(f->trace = literal(c, "true")) && !literal(c, "false")) {
				return false;
			}
		} else if (k == P_CERTIFICATE) {
			if (!plain_string(c, &f->cert) || f->cert.len == 0) {
				return false;
			}
		} else if (names[k] == NULL || !plain_string(c, names[k]) || names[k]->len == 0 ||
			   names[k]->len > CMP_MAX_NAME) {
			return false; /* chain, user_mapping_data, or a name the decoder refuses */
		}
	} while (eat(c, ','));
	return eat(c, '}') && f->cert.p != NULL;
}

/* The frame {"method":"<Map>","parameters":{...}} (either order). */
static bool key_frame(struct cur *c, struct cmp_key_fields *f)
{
	unsigned int seen = 0;
	struct cmp_slice m;
	int k;

	if (!eat(c, '{')) {
		return false;
	}
	do {
		if ((k = next_key(c, &envelope, &seen)) < 0) {
			return false;
		}
		if (k == E_PARAMETERS) {
			if (!eat(c, '{') || !key_params(c, f)) {
				return false;
			}
		} else if (k != E_METHOD || !plain_string(c, &m) || m.len != strlen(CMP_M_MAP) ||
			   memcmp(m.p, CMP_M_MAP, m.len) != 0) {
			return false; /* oneway, more, upgrade, or another method */
		}
	} while (eat(c, ','));
	if (!eat(c, '}')) {
		return false;
	}
	skip_ws(c);
	return c->p == c->end && seen == (1U << E_METHOD | 1U << E_PARAMETERS);
}

bool cmp_fast_map_fields(const char *frame, size_t len, struct cmp_key_fields *f)
{
	struct cur c = {frame, frame + len};

	memset(f, 0, sizeof(*f));
	return fast_enabled && len + 1 <= CMP_MAX_REQUEST && key_frame(&c, f);
}
