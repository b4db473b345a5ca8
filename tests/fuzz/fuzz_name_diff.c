/*
 * Differential fuzz target for distinguished names alone: mapper/name.c
 * (its own DER walk, string decoding and RFC 2253 escaping) against
 * tests/fuzz/ref_name.c (d2i_X509_NAME + ASN1_STRING_print_ex, what
 * libsss_certmap does). It aborts when
 * - certmap accepts a Name the reference rejects (never allowed);
 * - certmap rejects one the reference accepts and the input is DER (the
 *   one deliberate extra rejection, row not_der of fuzz_cert_diff.c's
 *   table, checked independently with ref_der.c);
 * - both accept and any AVA field or rendering differs, the grid rendering
 *   ({subject_dn!grid}) included, which must be X509_NAME_oneline's byte
 *   for byte (ref_cmp.c);
 * - cm_name_print_rfc2253 (the audit record's text) answers and OpenSSL's
 *   X509_NAME_print_ex (ref_name_print) rejects the name or prints other
 *   bytes, whole or cut after a few lengths.
 *
 * Input: a Name's DER when the first byte is 0x30. When it is 0x31, the
 * rest builds a Name of several AVAs (build_name below), which keeps
 * mutations on multi-valued RDNs, their order and the attribute types.
 * Otherwise the first byte is a value's tag and the rest its contents,
 * wrapped as the single AVA of a Name (the attribute from the second
 * byte: CN, O, DC, an unknown OID ...), which keeps mutations on the
 * value decoding and escaping.
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I$SRC/mapper -I. \
 *       $SRC/tests/fuzz/fuzz_name_diff.c $SRC/tests/fuzz/ref_name.c \
 *       $SRC/tests/fuzz/ref_der.c $SRC/tests/fuzz/ref_cmp.c $SRC/mapper/name.c $SRC/mapper/der.c \
 *       $SRC/mapper/util.c -lcrypto -o fuzz_name_diff
 *   ./fuzz_name_diff -max_total_time=300 CORPUS $SRC/tests/fuzz/corpus/name_diff
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "name.h"
#include "ref_cmp.h"
#include "ref_der.h"
#include "ref_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Appends a DER header (tag, minimal length) at out; returns its size. */
static size_t put_header(unsigned char *out, unsigned char tag, size_t len)
{
	size_t n = 0;

	out[n++] = tag;
	if (len < 0x80) {
		out[n++] = (unsigned char)len;
	} else if (len < 0x100) {
		out[n++] = 0x81;
		out[n++] = (unsigned char)len;
	} else {
		out[n++] = 0x82;
		out[n++] = (unsigned char)(len >> 8);
		out[n++] = (unsigned char)len;
	}
	return n;
}

/* The attribute OIDs (DER contents) a wrapped value gets. */
static const struct {
	unsigned char len;
	unsigned char der[50];
} wrap_oids[] = {
	{ 3, { 0x55, 0x04, 0x03 } },                   /* CN */
	{ 3, { 0x55, 0x04, 0x0a } },                   /* O */
	{ 3, { 0x55, 0x04, 0x0d } },                   /* description */
	{ 3, { 0x55, 0x04, 0x2a } },                   /* GN */
	{ 3, { 0x55, 0x04, 0x7f } },                   /* 2.5.4.127, unknown */
	{ 10, { 0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19 } }, /* DC */
	{ 9, { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01 } },       /* emailAddress */
	{ 4, { 0x2b, 0x06, 0x01, 0x04 } },             /* 1.3.6.1.4, unknown */
	/* 1.2 and 49 arcs 1, unknown: 101 characters, which X509_NAME_oneline
	 * (the grid rendering) cuts at 79. */
	{ 50, { 0x2a, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 } },
};

/* Size of a DER header for contents of len bytes. */
static size_t header_size(size_t len)
{
	return len < 0x80 ? 2 : len < 0x100 ? 3 : 4;
}

/* Wraps tag + value as SEQUENCE { SET { SEQUENCE { OID, value } } }. */
static unsigned char *wrap_value(const uint8_t *data, size_t size, size_t *out_len)
{
	size_t k = size > 1 ? data[1] % (sizeof(wrap_oids) / sizeof(wrap_oids[0])) : 0;
	size_t skip = size > 1 ? 2 : 1, vlen = size - skip;
	size_t ava_len = 2 + wrap_oids[k].len + header_size(vlen) + vlen;
	size_t set_len = header_size(ava_len) + ava_len;
	size_t seq_len = header_size(set_len) + set_len;
	unsigned char *out = NULL;
	size_t n = 0;

	if (seq_len > 0xffff || (out = malloc(header_size(seq_len) + seq_len)) == NULL) {
		return NULL;
	}
	n += put_header(out + n, 0x30, seq_len);
	n += put_header(out + n, 0x31, set_len);
	n += put_header(out + n, 0x30, ava_len);
	n += put_header(out + n, 0x06, wrap_oids[k].len);
	memcpy(out + n, wrap_oids[k].der, wrap_oids[k].len);
	n += wrap_oids[k].len;
	n += put_header(out + n, data[0], vlen);
	if (vlen > 0) {
		memcpy(out + n, data + skip, vlen);
	}
	*out_len = n + vlen;
	return out;
}

/* More attribute OIDs for built names (wrap_oids keeps its order for the
 * corpus): one OpenSSL knows but name.c has no cache entry for, 0.0
 * (NID_undef itself), an arc over 2^63 (left to OpenSSL). */
static const struct {
	unsigned char len;
	unsigned char der[12];
} more_oids[] = {
	{ 9, { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x07 } }, /* challengePassword */
	{ 1, { 0x00 } },                                                   /* 0.0 */
	{ 12, { 0x2a, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 } }, /* 1.2.2^70+1 */
	{ 3, { 0x55, 0x04, 0x09 } },                                       /* street */
	{ 10, { 0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x03 } }, /* mail */
};

#define N_WRAP_OIDS (sizeof(wrap_oids) / sizeof(wrap_oids[0]))
#define N_MORE_OIDS (sizeof(more_oids) / sizeof(more_oids[0]))

/* Appends TLV tag + len bytes of p (which may be out itself) at out;
 * returns its size. */
static size_t put_tlv(unsigned char *out, unsigned char tag, const unsigned char *p, size_t len)
{
	memmove(out + header_size(len), p, len);
	return put_header(out, tag, len) + len;
}

/* An AVA takes at most this much more than its value (headers, OID). */
#define AVA_OVERHEAD 72
/* Room build_name needs for size input bytes. */
#define BUILD_ROOM(size) (3 * (AVA_OVERHEAD * (size) + 64))

/*
 * Builds a Name from records: ctl, len, len value bytes (cut at the end
 * of the input). ctl bit 7: the AVA joins the previous one's RDN; bits
 * 6-4: the value's tag (UTF8, Printable, Teletex, IA5, BMP, Universal,
 * Numeric, or the next input byte); bits 3-0: the attribute, from
 * wrap_oids then more_oids. out has BUILD_ROOM(size) bytes: the Name,
 * then room for one AVA and one RDN.
 */
static size_t build_name(const uint8_t *data, size_t size, unsigned char *out)
{
	static const unsigned char tags[] = { 0x0c, 0x13, 0x14, 0x16, 0x1e, 0x1c, 0x12 };
	unsigned char *ava = out + AVA_OVERHEAD * size + 64, *rdn = ava + AVA_OVERHEAD * size + 64;
	size_t i = 0, o = 0, r = 0;

	while (i + 2 <= size) {
		unsigned ctl = data[i++], sel = (ctl >> 4) & 7;
		size_t k = (ctl & 0x0f) % (N_WRAP_OIDS + N_MORE_OIDS), vlen, a = 0, h;
		const unsigned char *oid = k < N_WRAP_OIDS ? wrap_oids[k].der :
				                    more_oids[k - N_WRAP_OIDS].der;
		size_t olen = k < N_WRAP_OIDS ? wrap_oids[k].len : more_oids[k - N_WRAP_OIDS].len;
		unsigned char tag = sel < sizeof(tags) ? tags[sel] : 0x0c;

		if (sel == sizeof(tags)) {
			tag = data[i++];
		}
		vlen = i < size ? data[i++] : 0;
		vlen = vlen < size - i ? vlen : size - i;
		if (!(ctl & 0x80) && r > 0) {
			o += put_tlv(out + o, 0x31, rdn, r);
			r = 0;
		}
		a += put_tlv(ava + a, 0x06, oid, olen);
		h = put_header(ava + a, tag, vlen);
		memcpy(ava + a + h, data + i, vlen);
		a += h + vlen;
		r += put_tlv(rdn + r, 0x30, ava, a);
		i += vlen;
	}
	if (r > 0) {
		o += put_tlv(out + o, 0x31, rdn, r);
	}
	return put_tlv(out, 0x30, out, o);
}

/* The audit text of the name, compared with OpenSSL's when name.c answers. */
static void check_print(const unsigned char *der, size_t len, size_t cap)
{
	size_t mine_len, ref_len = 0;
	char *mine = cm_name_print_rfc2253(der, len, cap), *ref;

	if (mine == NULL) {
		return;
	}
	mine_len = strlen(mine);
	ref = ref_name_print(der, len, cap, &ref_len);
	if (ref == NULL) {
		ref_differ("cm_name_print_rfc2253 prints a name OpenSSL does not");
	}
	ref_cmp_bytes(mine, mine_len, ref, ref_len, "cm_name_print_rfc2253");
	free(mine);
	free(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_name mine = { 0 }, ref = { 0 };
	unsigned char *wrapped = NULL;
	const unsigned char *der = data;
	size_t len = size;
	char *err = NULL;
	int rm, rr;

	if (size == 0 || size > CM_CERT_MAX_SIZE) {
		return 0;
	}
	if (data[0] == 0x31) {
		if (size > 1024 || (wrapped = malloc(BUILD_ROOM(size))) == NULL) {
			return 0;
		}
		len = build_name(data + 1, size - 1, wrapped);
		der = wrapped;
	} else if (data[0] != 0x30) {
		wrapped = wrap_value(data, size, &len);
		if (wrapped == NULL) {
			return 0;
		}
		der = wrapped;
	}
	rm = cm_name_parse(der, len, &mine, &err);
	rr = ref_name_parse(der, len, &ref, NULL);
	if (rm == 0 && rr != 0) {
		ref_differ("certmap accepts a name the reference rejects");
	}
	if (rm != 0 && rr == 0 && !ref_der_tree_bad(der, (long)len, 0) &&
	    ref_der_single_tlv(der, (long)len)) {
		fprintf(stderr, "certmap: %s\n", err != NULL ? err : "(no message)");
		ref_differ("certmap rejects a DER name the reference accepts");
	}
	if (rm == 0 && rr == 0) {
		ref_cmp_name(&mine, &ref);
	}
	/* Whole, at audit.c's cap, and cut somewhere in the text. */
	check_print(der, len, SIZE_MAX);
	check_print(der, len, 1024);
	check_print(der, len, data[size - 1] % 97);
	free(err);
	free(wrapped);
	cm_name_clear(&mine);
	cm_name_clear(&ref);
	return 0;
}
