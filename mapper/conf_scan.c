/*
 * A lexical pass over the configuration text before libconfig sees it.
 *
 * libconfig 1.5 (Debian 12's) has two behaviours certmap cannot accept and
 * cannot switch off:
 * - It reads an integer without an L suffix into a C int, so 4294967296
 *   becomes 0 and 2147483648 becomes negative before any range check could
 *   see the number that was written. This pass appends an L to every
 *   integer literal, so libconfig reads each one as 64-bit and conf.c
 *   range-checks the real value; a number that does not fit in 64 bits is
 *   an error here.
 * - @include opens the named file itself (relative to the working
 *   directory, with no size, file-type or ownership check, and a FIFO
 *   blocks forever), and 1.5 has no hook to change that
 *   (config_set_include_func came with 1.7). So @include is refused.
 *
 * The pass follows libconfig's lexer (scanner.l) closely enough to tell
 * numbers from names, strings and comments: text inside strings and
 * comments is copied untouched, and line numbers are kept, so libconfig's
 * own line numbers stay right.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

struct scan {
	const char *s;
	size_t len;
	size_t i;
	unsigned int line;
	const char *name;
	struct cm_buf *out;
	struct cm_buf *errs;
	unsigned int n_errs;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || is_digit(c) || c == '-' || c == '_';
}

static char peek(const struct scan *sc, size_t ahead)
{
	return sc->i + ahead < sc->len ? sc->s[sc->i + ahead] : '\0';
}

/* Copies the next n bytes, counting newlines. */
static void copy(struct scan *sc, size_t n)
{
	for (size_t k = 0; k < n && sc->i < sc->len; k++) {
		if (sc->s[sc->i] == '\n') {
			sc->line++;
		}
		cm_buf_addc(sc->out, sc->s[sc->i++]);
	}
}

static void scan_error(struct scan *sc, const char *what, size_t tok_len)
{
	cm_buf_printf(sc->errs, "%s:%u: ", sc->name, sc->line);
	if (tok_len > 0) {
		cm_buf_adds(sc->errs, "the number ");
		cm_buf_add_escaped(sc->errs, (const unsigned char *)sc->s + sc->i, tok_len, 64);
		cm_buf_adds(sc->errs, " ");
	}
	cm_buf_printf(sc->errs, "%s\n", what);
	sc->n_errs++;
}

/* A string: copied as is up to its closing quote (escapes skipped). */
static void scan_string(struct scan *sc)
{
	copy(sc, 1);
	while (sc->i < sc->len && sc->s[sc->i] != '"') {
		copy(sc, sc->s[sc->i] == '\\' ? 2 : 1);
	}
	copy(sc, 1);
}

static void scan_block_comment(struct scan *sc)
{
	copy(sc, 2);
	while (sc->i < sc->len && !(sc->s[sc->i] == '*' && peek(sc, 1) == '/')) {
		copy(sc, 1);
	}
	copy(sc, 2);
}

static void scan_line_comment(struct scan *sc)
{
	while (sc->i < sc->len && sc->s[sc->i] != '\n') {
		copy(sc, 1);
	}
}

/* Length of the float that starts here ([-+]?digits?.digits?exp? or
 * [-+]?digits exp), or 0 when the text is not a float. */
static size_t float_len(const struct scan *sc)
{
	size_t k = 0, digits = 0;
	bool dot = false, exp = false;

	if (peek(sc, k) == '-' || peek(sc, k) == '+') {
		k++;
	}
	while (is_digit(peek(sc, k))) {
		k++;
		digits++;
	}
	if (peek(sc, k) == '.') {
		dot = true;
		k++;
		while (is_digit(peek(sc, k))) {
			k++;
		}
	}
	if (peek(sc, k) == 'e' || peek(sc, k) == 'E') {
		size_t e = k + 1;

		if (peek(sc, e) == '-' || peek(sc, e) == '+') {
			e++;
		}
		if (is_digit(peek(sc, e))) {
			while (is_digit(peek(sc, e))) {
				e++;
			}
			exp = true;
			k = e;
		}
	}
	return dot || (exp && digits > 0) ? k : 0;
}

/* A hex integer (0x...): at most 16 significant digits. */
static void scan_hex(struct scan *sc)
{
	size_t k = 2, significant = 0;

	while (is_xdigit(peek(sc, k))) {
		if (significant > 0 || peek(sc, k) != '0') {
			significant++;
		}
		k++;
	}
	if (significant > 16) {
		scan_error(sc, "does not fit in 64 bits", k);
	}
	copy(sc, k);
	if (peek(sc, 0) != 'L') {
		cm_buf_addc(sc->out, 'L');
	}
}

/* Whether the decimal integer text[0..len) fits in a long long. */
static bool fits_64(const char *text, size_t len)
{
	char digits[24];

	/* Leading zeros do not count toward the length limit. */
	while (len > 1 && text[0] == '0') {
		text++;
		len--;
	}
	if (len >= sizeof(digits)) {
		return false;
	}
	memcpy(digits, text, len);
	digits[len] = '\0';
	errno = 0;
	(void)strtoll(digits, NULL, 10);
	return errno != ERANGE;
}

/* A decimal integer: must fit in a signed 64-bit value. */
static void scan_decimal(struct scan *sc)
{
	size_t k = 0;

	if (peek(sc, 0) == '-' || peek(sc, 0) == '+') {
		k++;
	}
	while (is_digit(peek(sc, k))) {
		k++;
	}
	if (!fits_64(sc->s + sc->i, k)) {
		scan_error(sc, "does not fit in 64 bits", k);
	}
	copy(sc, k);
	if (peek(sc, 0) != 'L') {
		cm_buf_addc(sc->out, 'L');
	}
}

/* Copies one token or character, handling numbers, names, strings,
 * comments and @include. */
static void scan_step(struct scan *sc)
{
	char c = peek(sc, 0);
	size_t n;

	if (c == '"') {
		scan_string(sc);
	} else if (c == '/' && peek(sc, 1) == '*') {
		scan_block_comment(sc);
	} else if (c == '#' || (c == '/' && peek(sc, 1) == '/')) {
		scan_line_comment(sc);
	} else if (is_name_start(c)) {
		n = 1;
		while (is_name_char(peek(sc, n))) {
			n++;
		}
		copy(sc, n);
	} else if (c == '@' && sc->len - sc->i >= 8 && memcmp(sc->s + sc->i, "@include", 8) == 0) {
		scan_error(sc, "@include is not supported: certmap reads exactly one "
			   "configuration file (see certmap.conf(5), INCLUDES)", 0);
		copy(sc, 8);
	} else if ((n = float_len(sc)) > 0) {
		copy(sc, n);
	} else if (c == '0' && (peek(sc, 1) == 'x' || peek(sc, 1) == 'X') && is_xdigit(peek(sc, 2))) {
		scan_hex(sc);
	} else if (is_digit(c) || ((c == '-' || c == '+') && is_digit(peek(sc, 1)))) {
		scan_decimal(sc);
	} else {
		copy(sc, 1);
	}
}

unsigned int cm_conf_scan(const char *text, size_t len, const char *name,
			  struct cm_buf *out, struct cm_buf *errs)
{
	struct scan sc = {
		.s = text, .len = len, .line = 1, .name = name, .out = out, .errs = errs,
	};

	while (sc.i < sc.len) {
		scan_step(&sc);
	}
	return sc.n_errs;
}
