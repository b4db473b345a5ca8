/*
 * DER checks for the differential fuzzers' extra-rejection tables, written
 * with OpenSSL's ASN1_get_object so that they are independent of
 * mapper/der.c. Never linked into libcertmap.
 */
#include "config.h"

#include <openssl/asn1.h>

#include "ref_der.h"

/*
 * DER's rules, written again with OpenSSL's ASN1_get_object (independent
 * of mapper/der.c): minimal definite lengths, low tag numbers (certmap
 * refuses the legal but unused high-tag form too), constructed only for
 * SEQUENCE/SET and non-universal tags, and the universal primitives'
 * contents. It looks inside what OpenSSL stores verbatim (a SEQUENCE in
 * an ANY), which re-encoding cannot show. Depth over 32 counts as bad.
 */
static bool integer_bad(const unsigned char *p, long n)
{
	return n == 0 || (n > 1 && ((p[0] == 0 && !(p[1] & 0x80)) ||
				    (p[0] == 0xff && (p[1] & 0x80))));
}

static bool oid_bad(const unsigned char *p, long n)
{
	if (n == 0 || (p[n - 1] & 0x80)) {
		return true;
	}
	for (long i = 0; i < n; i++) {
		if (p[i] == 0x80 && (i == 0 || !(p[i - 1] & 0x80))) {
			return true;
		}
	}
	return false;
}

static bool prim_bad(int tag, const unsigned char *p, long n)
{
	switch (tag) {
	case V_ASN1_EOC:
	case V_ASN1_SEQUENCE:
	case V_ASN1_SET:
		return true;
	case V_ASN1_BOOLEAN:
		return n != 1 || (p[0] != 0 && p[0] != 0xff);
	case V_ASN1_INTEGER:
	case V_ASN1_ENUMERATED:
		return integer_bad(p, n);
	case V_ASN1_BIT_STRING:
		return n == 0 || p[0] > 7 || (n == 1 && p[0] != 0) ||
		       (n > 1 && (p[n - 1] & ((1 << p[0]) - 1)) != 0);
	case V_ASN1_NULL:
		return n != 0;
	case V_ASN1_OBJECT:
		return oid_bad(p, n);
	case V_ASN1_UNIVERSALSTRING:
		return n % 4 != 0;
	case V_ASN1_BMPSTRING:
		return n % 2 != 0;
	default:
		return false;
	}
}

bool ref_der_tree_bad(const unsigned char *p, long len, int depth)
{
	while (len > 0) {
		const unsigned char *start = p;
		long n = 0;
		int tag = 0, cls = 0;
		int r = ASN1_get_object(&p, &n, &tag, &cls, len);
		long hl = (long)(p - start);

		if ((r & 0x80) || (r & 0x01) || tag >= 31 ||
		    ASN1_object_size((r & 0x20) ? 1 : 0, (int)n, tag) != hl + n) {
			return true;
		}
		if (r & 0x20) {
			if ((cls == V_ASN1_UNIVERSAL && tag != V_ASN1_SEQUENCE &&
			     tag != V_ASN1_SET) || depth >= 32 || ref_der_tree_bad(p, n, depth + 1)) {
				return true;
			}
		} else if (cls == V_ASN1_UNIVERSAL && prim_bad(tag, p, n)) {
			return true;
		}
		p += n;
		len -= hl + n;
	}
	return false;
}

/* p..len is exactly one TLV (nothing after it). */
bool ref_der_single_tlv(const unsigned char *p, long len)
{
	const unsigned char *q = p;
	long n = 0;
	int tag, cls, r = ASN1_get_object(&q, &n, &tag, &cls, len);

	return !(r & 0x80) && !(r & 0x01) && (q - p) + n == len;
}
