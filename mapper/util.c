/* Internal helpers: (ptr,len) values, string vectors, bounded buffers. */
#include "config.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int cm_value_set(struct cm_value *v, const void *data, size_t len)
{
	unsigned char *p;

	if (len == SIZE_MAX) {
		return -1;
	}
	p = malloc(len + 1);
	if (p == NULL) {
		return -1;
	}
	if (len > 0) {
		memcpy(p, data, len);
	}
	p[len] = '\0';
	free(v->data);
	v->data = p;
	v->len = len;
	v->unusable = NULL;
	return 0;
}

int cm_value_set_text(struct cm_value *v, const void *data, size_t len)
{
	if (cm_value_set(v, data, len) != 0) {
		return -1;
	}
	if (memchr(v->data, '\0', len) != NULL) {
		v->unusable = "the value contains a NUL byte";
	}
	return 0;
}

void cm_value_clear(struct cm_value *v)
{
	free(v->data);
	v->data = NULL;
	v->len = 0;
	v->unusable = NULL;
}

static int strv_grow(struct cm_strv *sv)
{
	size_t cap;
	char **v;

	if (sv->n + 1 < sv->cap) {
		return 0;
	}
	cap = sv->cap == 0 ? 4 : sv->cap * 2;
	v = realloc(sv->v, cap * sizeof(*v));
	if (v == NULL) {
		return -1;
	}
	sv->v = v;
	sv->cap = cap;
	return 0;
}

int cm_strv_take(struct cm_strv *sv, char *s)
{
	if (s == NULL || strv_grow(sv) != 0) {
		free(s);
		return -1;
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
	return 0;
}

int cm_strv_addn(struct cm_strv *sv, const char *s, size_t len)
{
	return cm_strv_take(sv, strndup(s, len));
}

int cm_strv_add(struct cm_strv *sv, const char *s)
{
	return cm_strv_take(sv, strdup(s));
}

bool cm_strv_contains(const struct cm_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++) {
		if (strcmp(sv->v[i], s) == 0) {
			return true;
		}
	}
	return false;
}

void cm_strv_clear(struct cm_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		free(sv->v[i]);
	}
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
	sv->cap = 0;
}

void cm_buf_init(struct cm_buf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap == 0 ? CM_BUF_DEFAULT_CAP : cap;
}

static bool buf_reserve(struct cm_buf *b, size_t more)
{
	size_t want, alloc;
	char *p;

	if (b->failed) {
		return false;
	}
	if (more > b->cap || b->len > b->cap - more) {
		b->failed = true;
		return false;
	}
	want = b->len + more + 1;
	if (want <= b->alloc) {
		return true;
	}
	alloc = b->alloc == 0 ? 256 : b->alloc;
	while (alloc < want) {
		alloc *= 2;
	}
	p = realloc(b->data, alloc);
	if (p == NULL) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->alloc = alloc;
	return true;
}

void cm_buf_add(struct cm_buf *b, const void *data, size_t len)
{
	if (!buf_reserve(b, len)) {
		return;
	}
	if (len > 0) {
		memcpy(b->data + b->len, data, len);
	}
	b->len += len;
	b->data[b->len] = '\0';
}

char *cm_buf_room(struct cm_buf *b, size_t len)
{
	return buf_reserve(b, len) ? b->data + b->len : NULL;
}

void cm_buf_adds(struct cm_buf *b, const char *s)
{
	cm_buf_add(b, s, strlen(s));
}

void cm_buf_addc(struct cm_buf *b, char c)
{
	cm_buf_add(b, &c, 1);
}

void cm_buf_printf(struct cm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n)) {
		b->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *cm_buf_steal(struct cm_buf *b, size_t *len)
{
	char *p;

	if (b->failed) {
		cm_buf_free(b);
		return NULL;
	}
	if (b->data == NULL) {
		if (!buf_reserve(b, 0)) {
			return NULL;
		}
		b->data[0] = '\0';
	}
	p = b->data;
	if (len != NULL) {
		*len = b->len;
	}
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}

void cm_buf_free(struct cm_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

void cm_buf_hex(struct cm_buf *b, const unsigned char *p, size_t len, bool upper, char sep)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		char two[2] = { digits[p[i] >> 4], digits[p[i] & 0xf] };

		if (i > 0 && sep != '\0') {
			cm_buf_addc(b, sep);
		}
		cm_buf_add(b, two, 2);
	}
}

size_t cm_u64_text(char *out, uint64_t v)
{
	char d[CM_U64_TEXT];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	memcpy(out, d + i, sizeof(d) - i);
	return sizeof(d) - i;
}

void cm_buf_add_i64(struct cm_buf *b, int64_t v)
{
	char num[CM_U64_TEXT];

	if (v < 0) {
		cm_buf_addc(b, '-');
	}
	cm_buf_add(b, num, cm_u64_text(num, v < 0 ? 0 - (uint64_t)v : (uint64_t)v));
}

char *cm_vasprintf(const char *fmt, va_list ap)
{
	char *s = NULL;

	/* vasprintf leaves s undefined when it fails. */
	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

char *cm_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = cm_vasprintf(fmt, ap);
	va_end(ap);
	return s;
}

size_t cm_utf8_seq_len(const unsigned char *p, size_t len)
{
	unsigned char c = len > 0 ? p[0] : 0;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (len == 0) {
		return 0;
	}
	if (c < 0x80) {
		return 1;
	}
	/* RFC 3629, section 4: the second byte's range depends on the first. */
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else {
		return 0;
	}
	if (len < n || p[1] < lo || p[1] > hi) {
		return 0;
	}
	for (size_t i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf) {
			return 0;
		}
	}
	return n;
}

bool cm_utf8_valid(const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len;) {
		size_t n = cm_utf8_seq_len(p + i, len - i);

		if (n == 0) {
			return false;
		}
		i += n;
	}
	return true;
}

static void buf_add_hex_escape(struct cm_buf *b, unsigned char c)
{
	char hex[4] = { '\\', 'x', "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 0xf] };

	cm_buf_add(b, hex, sizeof(hex));
}

/* The C1 controls U+0080..U+009F are the two-byte sequences C2 80..C2 9F;
 * a terminal acts on them as on C0 controls. */
static bool is_c1_control(const unsigned char *p, size_t n)
{
	return n == 2 && p[0] == 0xc2 && p[1] <= 0x9f;
}

void cm_buf_add_escaped(struct cm_buf *b, const unsigned char *p, size_t len, size_t max)
{
	size_t n = len < max ? len : max;
	size_t run = 0;

	/* Copies runs of printable text at once; escapes the rest. */
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t seq = cm_utf8_seq_len(p + i, n - i);

		if (c != '\\' && c >= 0x20 && c != 0x7f && seq > 0 && !is_c1_control(p + i, seq)) {
			i += seq;
			continue;
		}
		cm_buf_add(b, p + run, i - run);
		if (c == '\\') {
			cm_buf_adds(b, "\\\\");
			seq = 1;
		} else if (seq == 0) {
			buf_add_hex_escape(b, c);
			seq = 1;
		} else {
			for (size_t k = 0; k < seq; k++) {
				buf_add_hex_escape(b, p[i + k]);
			}
		}
		i += seq;
		run = i;
	}
	cm_buf_add(b, p + run, n - run);
	if (n < len) {
		cm_buf_adds(b, "...");
	}
}

char *cm_utf8_sanitize(const void *data, size_t len)
{
	const unsigned char *p = data;
	struct cm_buf b;
	size_t run = 0;

	cm_buf_init(&b, len > SIZE_MAX / 4 - 1 ? SIZE_MAX : len * 4 + 1);
	for (size_t i = 0; i < len;) {
		size_t seq = cm_utf8_seq_len(p + i, len - i);

		if (seq > 0 && p[i] != '\0') {
			i += seq;
			continue;
		}
		cm_buf_add(&b, p + run, i - run);
		buf_add_hex_escape(&b, p[i]);
		run = ++i;
	}
	cm_buf_add(&b, p + run, len - run);
	return cm_buf_steal(&b, NULL);
}

void cm_buf_add_quoted(struct cm_buf *b, const unsigned char *p, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	cm_buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		size_t run = i;

		/* Plain bytes go in runs: an audit record is mostly names. */
		while (run < n && p[run] >= 0x20 && p[run] <= 0x7e && p[run] != '"' && p[run] != '\\') {
			run++;
		}
		if (run > i) {
			cm_buf_add(b, p + i, run - i);
			i = run - 1;
		} else if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			cm_buf_add(b, esc, 2);
		} else {
			buf_add_hex_escape(b, c);
		}
	}
	if (n < len) {
		cm_buf_adds(b, "...");
	}
	cm_buf_addc(b, '"');
}

/* ---------------------------------------------------------------- base64 */

/* A digit's value plus one, 0 for any other byte: a table, since every
 * certificate a request carries goes through it. */
static const unsigned char b64_plus1[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15,
    ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
    ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29,
    ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
    ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43,
    ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50,
    ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
    ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

/* A digit's value, or -1. */
static int b64_digit(unsigned char c)
{
	return (int)b64_plus1[c] - 1;
}

static bool b64_space(unsigned char c, unsigned int flags)
{
	return (flags & CM_B64_SPACE) && (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

/* The digits and padding of s, white space dropped, into packed (room for
 * len + 3 bytes): their count, or an error. */
static enum cm_b64_error b64_pack(const char *s, size_t len, unsigned int flags, char *packed,
				  size_t *n, size_t *pad)
{
	size_t i = 0;

	/* The run of digits (all of a certificate's text but the padding)
	 * is copied in one go. */
	while (i < len && b64_plus1[(unsigned char)s[i]] != 0) {
		i++;
	}
	memcpy(packed, s, i);
	*n = i;
	*pad = 0;
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (b64_space(c, flags)) {
			continue;
		}
		if (c == '=') {
			(*pad)++;
		} else if (*pad > 0 || b64_digit(c) < 0) {
			return CM_B64_BAD_CHAR;
		}
		packed[(*n)++] = (char)c;
	}
	return CM_B64_OK;
}

enum cm_b64_error cm_base64_decode(const char *s, size_t len, unsigned int flags, size_t max_out,
				   unsigned char **out, size_t *out_len)
{
	/* A certificate's text fits on the stack: no heap block of 1 KB or
	 * more, whose allocation makes glibc consolidate its small free
	 * blocks first. */
	char small[4096];
	char *packed = len < sizeof(small) - 4 ? small : malloc(len + 4);
	unsigned char *buf = NULL;
	size_t n, pad, data;
	enum cm_b64_error e;
	int dec;

	*out = NULL;
	*out_len = 0;
	if (packed == NULL) {
		return CM_B64_NOMEM;
	}
	if ((e = b64_pack(s, len, flags, packed, &n, &pad)) != CM_B64_OK) {
		goto out;
	}
	data = n - pad;
	e = CM_B64_BAD_LENGTH;
	if (data == 0) {
		e = pad == 0 ? CM_B64_EMPTY : CM_B64_BAD_LENGTH;
		goto out;
	}
	if (pad > 2 || data % 4 == 1 || ((pad > 0 || !(flags & CM_B64_UNPADDED)) && n % 4 != 0)) {
		goto out;
	}
	/* Two digits carry 4 unused bits, three carry 2. */
	if ((flags & CM_B64_CANONICAL) && data % 4 != 0 &&
	    (b64_digit((unsigned char)packed[data - 1]) & (data % 4 == 2 ? 0x0f : 0x03)) != 0) {
		e = CM_B64_STRAY_BITS;
		goto out;
	}
	if (data / 4 * 3 + (data % 4 == 0 ? 0 : data % 4 - 1) > max_out) {
		e = CM_B64_TOO_LARGE;
		goto out;
	}
	/* OpenSSL decodes whole quanta: complete an unpadded one. */
	while (n % 4 != 0) {
		packed[n++] = '=';
		pad++;
	}
	if (n > INT32_MAX || (buf = malloc(n / 4 * 3)) == NULL) {
		e = CM_B64_NOMEM;
		goto out;
	}
	/* EVP_DecodeBlock counts each '=' as a zero byte: they come off. */
	dec = EVP_DecodeBlock(buf, (const unsigned char *)packed, (int)n);
	if (dec < 0 || (size_t)dec != n / 4 * 3) {
		e = CM_B64_BAD_CHAR;
		goto out;
	}
	*out_len = (size_t)dec - pad;
	*out = buf;
	buf = NULL;
	e = CM_B64_OK;
out:
	if (packed != small) {
		free(packed);
	}
	free(buf);
	return e;
}
