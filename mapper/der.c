/*
 * Strict DER reading for the certificate walker. DER is BER with every
 * choice removed; OpenSSL's decoder accepts BER (long-form lengths with
 * leading zeros, indefinite lengths, constructed strings), so everything
 * here is at least as strict as d2i_X509 and usually stricter: see the
 * extra-rejection table in tests/fuzz/fuzz_cert_diff.c.
 */
#include "config.h"

#include "der.h"

bool cm_der_oid_ok(const unsigned char *p, size_t len)
{
	if (len == 0 || (p[len - 1] & 0x80)) {
		return false;
	}
	/* A sub-identifier never starts with 0x80 (a leading zero group). */
	for (size_t i = 0; i < len; i++) {
		if (p[i] == 0x80 && (i == 0 || !(p[i - 1] & 0x80))) {
			return false;
		}
	}
	return true;
}

bool cm_der_bits_ok(const unsigned char *p, size_t len)
{
	if (len == 0 || p[0] > 7) {
		return false;
	}
	if (len == 1) {
		return p[0] == 0;
	}
	return (p[len - 1] & ((1u << p[0]) - 1)) == 0;
}

static bool integer_ok(const unsigned char *p, size_t len)
{
	if (len == 0) {
		return false;
	}
	return len == 1 || !((p[0] == 0x00 && !(p[1] & 0x80)) ||
			     (p[0] == 0xff && (p[1] & 0x80)));
}

/* Checks the contents of one universal primitive type. */
static bool primitive_ok(unsigned char tag, const struct cm_der *v)
{
	switch (tag) {
	case 0x00:
		return false; /* end-of-contents: BER only */
	case 0x10:
	case 0x11:
		return false; /* SEQUENCE and SET are always constructed */
	case 0x01:
		return v->len == 1 && (v->p[0] == 0x00 || v->p[0] == 0xff);
	case 0x02:
	case 0x0a:
		return integer_ok(v->p, v->len);
	case 0x03:
		return cm_der_bits_ok(v->p, v->len);
	case 0x05:
		return v->len == 0;
	case 0x06:
		return cm_der_oid_ok(v->p, v->len);
	case 0x1c:
		return v->len % 4 == 0;
	case 0x1e:
		return v->len % 2 == 0;
	default:
		return true;
	}
}

/* One TLV header at p (avail bytes): tag, contents length, header length.
 * Inline, with the short form first: most of a certificate's TLVs are
 * shorter than 128 bytes, and cm_der_validate reads every one of them. */
static inline bool header(const unsigned char *p, size_t avail, unsigned char *tag, size_t *n,
			  size_t *hdr)
{
	size_t h;

	if (avail < 2 || (p[0] & 0x1f) == 0x1f) {
		return false;
	}
	if (!(p[1] & 0x80)) {
		*n = p[1];
		*tag = p[0];
		*hdr = 2;
		return *n <= avail - 2;
	}
	h = cm_der_length(p + 1, avail - 1, n);
	if (h == 0 || *n > avail - 1 - h) {
		return false;
	}
	*tag = p[0];
	*hdr = h + 1;
	return true;
}

/*
 * One pass over the tree without recursion: ends[] keeps the end of each
 * constructed TLV that encloses cur (level of them), so a certificate's
 * hundred TLVs cost a loop each, not a call.
 */
bool cm_der_validate(const unsigned char *p, size_t len)
{
	const unsigned char *ends[CM_DER_MAX_DEPTH + 1];
	const unsigned char *cur = p, *end = p + len;
	unsigned level = 0;
	unsigned char tag;
	size_t n, hdr;

	/* Exactly one TLV. */
	if (!header(p, len, &tag, &n, &hdr) || hdr + n != len) {
		return false;
	}
	for (;;) {
		struct cm_der v;

		while (cur == end) {
			if (level == 0) {
				return true;
			}
			end = ends[--level];
		}
		if (!header(cur, (size_t)(end - cur), &tag, &n, &hdr)) {
			return false;
		}
		v.p = cur + hdr;
		v.len = n;
		if ((tag & 0x20) == 0) {
			if ((tag & 0xc0) == 0 && !primitive_ok(tag, &v)) {
				return false;
			}
			cur = v.p + n;
			continue;
		}
		/* Only SEQUENCE and SET are constructed among the universal types
		 * certificates use; a constructed string is BER. */
		if (((tag & 0xc0) == 0 && tag != 0x30 && tag != 0x31) || level >= CM_DER_MAX_DEPTH) {
			return false;
		}
		ends[level++] = end;
		end = v.p + n;
		cur = v.p;
	}
}
