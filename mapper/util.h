/*
 * Small internal helpers shared by every stage of libcertmap:
 * (ptr,len) values, a growable string vector and a bounded byte buffer.
 */
#ifndef CERTMAP_UTIL_H
#define CERTMAP_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A value taken from a certificate. data is heap memory owned by whoever
 * owns the value; it always has one extra NUL byte after len so that a
 * usable text value can be handed to C string functions. A value with an
 * embedded NUL, a bad encoding or an unsupported type has unusable set to a
 * static sentence saying why: such a value never matches and never expands.
 */
struct cm_value {
	unsigned char *data;
	size_t len;
	const char *unusable;
};

/* Copies len bytes into v (adds the trailing NUL). Returns 0 or -1 (ENOMEM). */
int cm_value_set(struct cm_value *v, const void *data, size_t len);
/* Like cm_value_set, then marks the value unusable if it holds a NUL byte. */
int cm_value_set_text(struct cm_value *v, const void *data, size_t len);
void cm_value_clear(struct cm_value *v);
static inline bool cm_value_usable(const struct cm_value *v)
{
	return v->data != NULL && v->unusable == NULL;
}

/* A NULL-terminated vector of owned C strings. */
struct cm_strv {
	char **v;
	size_t n;
	size_t cap;
};

int cm_strv_add(struct cm_strv *sv, const char *s);
int cm_strv_addn(struct cm_strv *sv, const char *s, size_t len);
/* Takes ownership of s (frees it on failure). */
int cm_strv_take(struct cm_strv *sv, char *s);
bool cm_strv_contains(const struct cm_strv *sv, const char *s);
void cm_strv_clear(struct cm_strv *sv);

/*
 * A growable byte buffer with a hard cap; appends fail (and set failed)
 * rather than exceed it, so callers may append freely and check once.
 */
#define CM_BUF_DEFAULT_CAP (1024 * 1024)
struct cm_buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap;
	bool failed;
};

void cm_buf_init(struct cm_buf *b, size_t cap);
void cm_buf_add(struct cm_buf *b, const void *data, size_t len);
/* Room for len more bytes (and the NUL) at b->data + b->len, which the
 * caller fills and then counts in b->len; NULL when over the cap or out
 * of memory (b fails as cm_buf_add would). */
char *cm_buf_room(struct cm_buf *b, size_t len);
void cm_buf_adds(struct cm_buf *b, const char *s);
void cm_buf_addc(struct cm_buf *b, char c);
void cm_buf_printf(struct cm_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Returns the NUL-terminated contents and resets b, or NULL if any append failed. */
char *cm_buf_steal(struct cm_buf *b, size_t *len);
void cm_buf_free(struct cm_buf *b);

/* Lower-case hex of len bytes, with sep between bytes when sep != 0. */
void cm_buf_hex(struct cm_buf *b, const unsigned char *p, size_t len, bool upper, char sep);

/* malloc-or-NULL printf. */
char *cm_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *cm_vasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* v in decimal at out (room for CM_U64_TEXT bytes, no NUL); returns the
 * length. By hand: printf costs more than the divisions. */
#define CM_U64_TEXT 20
size_t cm_u64_text(char *out, uint64_t v);
/* v in decimal, "-" first when negative. */
void cm_buf_add_i64(struct cm_buf *b, int64_t v);

/* Appends untrusted bytes as a double-quoted log value: '"', '\\', control
 * bytes and bytes above 0x7e escaped, at most max bytes of input. A log
 * line built from such values cannot be made to show a forged field. */
void cm_buf_add_quoted(struct cm_buf *b, const unsigned char *p, size_t len, size_t max);

/*
 * Appends a printable, escaped copy of untrusted bytes (for logs, traces and
 * the JSON texts that carry them): a backslash is doubled; control bytes
 * (C0, DEL, and the C1 controls U+0080..U+009F) and every byte that is not
 * part of a well-formed UTF-8 sequence become \xHH; well-formed UTF-8 text
 * is kept. The result is always valid UTF-8.
 */
void cm_buf_add_escaped(struct cm_buf *b, const unsigned char *p, size_t len, size_t max);

/*
 * UTF-8 as RFC 3629 defines it (no overlong forms, no surrogates, nothing
 * above U+10FFFF), the only text a JSON document (RFC 8259) may carry.
 * cm_utf8_seq_len: the length (1..4) of the well-formed sequence at p, or 0
 * when none starts there.
 */
size_t cm_utf8_seq_len(const unsigned char *p, size_t len);
bool cm_utf8_valid(const void *p, size_t len);
/*
 * A malloc'd NUL-terminated copy of len bytes at p that is valid UTF-8
 * without NUL: well-formed sequences are copied, every other byte (and NUL)
 * becomes the four characters \xHH. Text that is valid already comes back
 * unchanged. NULL when out of memory.
 */
char *cm_utf8_sanitize(const void *p, size_t len);

/*
 * Strict base64 (RFC 4648 standard alphabet), decoded by OpenSSL. What is
 * refused: any byte outside the alphabet (white space too unless a flag
 * allows it), '=' anywhere but at the end or more than two of them, a
 * length that is not whole quanta (unless CM_B64_UNPADDED), no data.
 */
#define CM_B64_SPACE 0x1u     /* ' ', '\t', '\r', '\n' anywhere are dropped */
#define CM_B64_UNPADDED 0x4u  /* the final '=' may be left out */
#define CM_B64_CANONICAL 0x8u /* the unused bits of the last digit must be zero */

enum cm_b64_error {
	CM_B64_OK,
	CM_B64_EMPTY,	   /* no digits */
	CM_B64_BAD_CHAR,   /* a byte outside the alphabet, or after the padding */
	CM_B64_BAD_LENGTH, /* not whole quanta, a lone digit, more than two '=' */
	CM_B64_STRAY_BITS, /* CM_B64_CANONICAL: non-zero bits past the data */
	CM_B64_TOO_LARGE,  /* more than max_out bytes */
	CM_B64_NOMEM,
};

/* Decodes s[0..len) into a malloc'd *out of *out_len (> 0) bytes. */
enum cm_b64_error cm_base64_decode(const char *s, size_t len, unsigned int flags, size_t max_out,
				   unsigned char **out, size_t *out_len);

#endif
