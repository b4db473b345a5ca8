/*
 * A UTF-8 check for the tests (tests/service/frames.c, the request fuzz
 * target), written apart from certmapd's own so that each checks the
 * other. RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF.
 */
#ifndef CERTMAP_TEST_UTF8_REF_H
#define CERTMAP_TEST_UTF8_REF_H

#include <stdbool.h>
#include <stddef.h>

static inline bool ref_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned int cp, n;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			n = 1, cp = p[i] & 0x1f;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 2, cp = p[i] & 0x0f;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 3, cp = p[i] & 0x07;
		} else {
			return false;
		}
		for (unsigned int k = 1; k <= n; k++) {
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80) {
				return false;
			}
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			return false;
		}
		i += n + 1;
	}
	return true;
}

#endif
