/*
 * Unit tests for mapper/hint.c, the RFC 4681 codec, from hand-built byte
 * strings (written in hex, spaces for reading), and for the raw hint bytes
 * of a certmap_request through certmap_map().
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "certmap.h"
#include "testlib.h"
#include "util.h"

/* Bytes from hex digits; spaces are skipped. */
static unsigned char *hex(const char *s, size_t *len)
{
	unsigned char *out = malloc(strlen(s) / 2 + 1);
	size_t n = 0;
	int hi = -1;

	assert_non_null(out);
	for (; *s != '\0'; s++) {
		int v;

		if (*s == ' ') {
			continue;
		}
		v = *s >= 'a' ? *s - 'a' + 10 : *s - '0';
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	assert_int_equal(hi, -1);
	*len = n;
	return out;
}

/* Decodes hex; returns the error code, the hint in *h when asked. */
static int decode_hex(const char *s, struct certmap_hint **h, char **msg)
{
	size_t len;
	unsigned char *b = hex(s, &len);
	struct certmap_hint *tmp = NULL;
	int rc = certmap_hint_decode(b, len, h != NULL ? h : &tmp, msg);

	certmap_hint_free(tmp);
	free(b);
	return rc;
}

/* The decode of s fails with CERTMAP_ERR_HINT and a message containing want. */
static void refused(const char *s, const char *want)
{
	struct certmap_hint *h = (struct certmap_hint *)1;
	char *msg = NULL;

	if (decode_hex(s, &h, &msg) != CERTMAP_ERR_HINT) {
		fail_msg("accepted: %s", s);
	}
	assert_null(h);
	assert_non_null(msg);
	if (strstr(msg, want) == NULL) {
		fail_msg("%s: message \"%s\" lacks \"%s\"", s, msg, want);
	}
	free(msg);
}

static void decoded(const char *s, const char *upn, const char *domain)
{
	struct certmap_hint *h = NULL;
	char *msg = NULL;

	if (decode_hex(s, &h, &msg) != CERTMAP_OK) {
		fail_msg("%s refused: %s", s, msg != NULL ? msg : "?");
	}
	assert_null(msg);
	if (upn == NULL) {
		assert_null(certmap_hint_upn(h));
	} else {
		assert_string_equal(certmap_hint_upn(h), upn);
	}
	if (domain == NULL) {
		assert_null(certmap_hint_domain(h));
	} else {
		assert_string_equal(certmap_hint_domain(h), domain);
	}
	certmap_hint_free(h);
}

/* "a@b.c" = 61 40 62 2e 63; "EX" = 45 58. */
static void test_decode_ok(void **state)
{
	(void)state;
	decoded("000e 40 000b 0005 6140622e63 0002 4558", "a@b.c", "EX");
	decoded("000c 40 0009 0005 6140622e63 0000", "a@b.c", NULL);
	decoded("0009 40 0006 0000 0002 4558", NULL, "EX");
	/* UTF-8 in the user part: "é@b" = c3 a9 40 62. */
	decoded("000b 40 0008 0004 c3a94062 0000", "\xc3\xa9@b", NULL);
	/* Entries of other types are skipped, before and after. */
	decoded("0012 01 0002 ffff 40 0007 0000 0003 612d62 e0 0000", NULL, "a-b");
	/* A well-formed list without a upn_domain_hint carries no hint. */
	decoded("0003 01 0000", NULL, NULL);
	decoded("0009 02 0001 00 e0 0002 0000", NULL, NULL);
}

/* Every length of the list, its entries and the UpnDomainHint, wrong. */
static void test_decode_lengths(void **state)
{
	(void)state;
	refused("", "too short for its 2-byte length");
	refused("00", "too short for its 2-byte length");
	refused("0009 40 0005 0001 61 0000", "length 9 runs past its end (8 bytes follow)");
	refused("000a 40 0006 0000 0002 4558", "length 10 runs past its end (9 bytes follow)");
	refused("0008 40 0006 0000 0002 4558", "1 bytes after the UserMappingDataList");
	refused("0009 40 0006 0000 0002 4558 0000", "2 bytes after the UserMappingDataList");
	refused("0000", "is empty");
	/* An entry cut before its header ends. */
	refused("0001 40", "entry 1 at byte 2: 1 bytes left");
	refused("0002 40 00", "entry 1 at byte 2: 2 bytes left");
	refused("000b 40 0006 0000 0002 4558 01 00", "entry 2 at byte 11: 2 bytes left");
	/* user_mapping_length past the list. */
	refused("0003 40 0001", "user_mapping_length 1 runs past the list's end (0 bytes left)");
	refused("0009 40 0007 0000 0002 4558",
		"user_mapping_length 7 runs past the list's end (6 bytes left)");
	refused("0004 01 0002 ff", "entry 1 (type 1) at byte 2: user_mapping_length 2");
	/* The UpnDomainHint inside its entry. */
	refused("0003 40 0000", "0 bytes, too short for a UpnDomainHint");
	refused("0004 40 0001 00", "1 bytes, too short for a UpnDomainHint");
	refused("0005 40 0002 0001", "user_principal_name length 1 runs past the entry's end");
	refused("0006 40 0003 0000 00", "no domain_name length");
	refused("0005 40 0002 0000", "no domain_name length");
	refused("0007 40 0004 0000 0001", "domain_name length 1 runs past the entry's end");
	refused("0008 40 0005 0000 0002 45", "domain_name length 2 runs past");
	/* user_mapping_length longer than the UpnDomainHint, inside the list. */
	refused("0009 40 0006 0000 0001 45 00", "1 bytes after the domain_name");
	/* A user_principal_name length that swallows the domain_name length. */
	refused("0007 40 0004 0002 0000", "no domain_name length");
}

static void test_decode_content(void **state)
{
	(void)state;
	refused("0007 40 0004 0000 0000", "neither a user_principal_name nor a domain_name");
	refused("000e 40 0004 0000 0000 40 0004 0000 0000", "neither");
	/* A second upn_domain_hint, even a valid one. */
	refused("0017 40 0007 0000 0003 616263 01 0000 40 0007 0000 0003 616263",
		"entry 3 is a second upn_domain_hint (the first is entry 1)");
	/* UPN form. */
	refused("0009 40 0006 0002 6162 0000", "has no '@'");
	refused("000a 40 0007 0003 406263 0000", "user part (before '@') is empty");
	refused("0009 40 0006 0002 6140 0000", "after '@' is not an LDH");
	refused("000b 40 0008 0004 61405f62 0000", "after '@' is not an LDH");
	refused("000c 40 0009 0005 6140624062 0000", "after '@' is not an LDH");
	refused("000b 40 0008 0004 ff614062 0000", "not valid UTF-8");
	refused("000b 40 0008 0004 c0af4062 0000", "not valid UTF-8");	 /* overlong '/' */
	refused("000b 40 0008 0004 61004062 0000", "control character"); /* NUL */
	refused("000b 40 0008 0004 610a4062 0000", "control character");
	refused("000b 40 0008 0004 617f4062 0000", "control character");
	refused("000c 40 0009 0005 61c2854062 0000", "control character"); /* U+0085 */
	/* Domain: LDH. */
	refused("0008 40 0005 0000 0001 5f", "only letters, digits");
	refused("0008 40 0005 0000 0001 2d", "starts or ends with '-'");
	refused("0009 40 0006 0000 0002 612d", "starts or ends with '-'");
	refused("000a 40 0007 0000 0003 612e2e", "empty label");
	refused("0009 40 0006 0000 0002 612e", "empty label");
	refused("0008 40 0005 0000 0001 2e", "empty label");
	refused("0008 40 0005 0000 0001 00", "only letters");
	refused("0009 40 0006 0000 0002 c3a9", "only letters");
}

/* A list with one upn_domain_hint of the given field sizes, made of 'a'. */
static unsigned char *sized(size_t ulen, size_t dlen, size_t *len)
{
	size_t total = 2 + 3 + 4 + ulen + dlen;
	unsigned char *b = malloc(total), *p = b;

	assert_non_null(b);
	*p++ = (unsigned char)((total - 2) >> 8);
	*p++ = (unsigned char)(total - 2);
	*p++ = 64;
	*p++ = (unsigned char)((total - 5) >> 8);
	*p++ = (unsigned char)(total - 5);
	*p++ = (unsigned char)(ulen >> 8);
	*p++ = (unsigned char)ulen;
	if (ulen > 0) {
		memset(p, 'a', ulen - 4);
		memcpy(p + ulen - 4, "@b.c", 4);
	}
	p += ulen;
	*p++ = (unsigned char)(dlen >> 8);
	*p++ = (unsigned char)dlen;
	for (size_t i = 0; i < dlen; i++) {
		/* Labels of 50 letters: a valid name of any length. */
		p[i] = i % 51 == 50 ? '.' : 'a';
	}
	if (dlen > 0 && p[dlen - 1] == '.') {
		p[dlen - 1] = 'a';
	}
	*len = total;
	return b;
}

static int decode_sized(size_t ulen, size_t dlen, char **msg)
{
	size_t len;
	unsigned char *b = sized(ulen, dlen, &len);
	struct certmap_hint *h = NULL;
	int rc = certmap_hint_decode(b, len, &h, msg);

	certmap_hint_free(h);
	free(b);
	return rc;
}

static void test_decode_limits(void **state)
{
	char *msg = NULL;

	(void)state;
	assert_int_equal(decode_sized(CERTMAP_HINT_MAX_UPN, CERTMAP_HINT_MAX_DOMAIN, &msg), 0);
	assert_int_equal(decode_sized(CERTMAP_HINT_MAX_UPN + 1, 0, &msg), CERTMAP_ERR_HINT);
	assert_non_null(strstr(msg, "user_principal_name is 1025 bytes, more than 1024"));
	free(msg);
	assert_int_equal(decode_sized(0, CERTMAP_HINT_MAX_DOMAIN + 1, &msg), CERTMAP_ERR_HINT);
	assert_non_null(strstr(msg, "domain_name is 256 bytes, more than 255"));
	free(msg);
	/* The largest list the format allows still decodes to a refusal, not a crash. */
	assert_int_equal(decode_sized(60000, 0, &msg), CERTMAP_ERR_HINT);
	free(msg);
}

static void test_decode_args(void **state)
{
	struct certmap_hint *h = NULL;
	char *msg = (char *)1;

	(void)state;
	assert_int_equal(certmap_hint_decode(NULL, 1, &h, &msg), CERTMAP_ERR_INVALID_ARG);
	assert_null(msg);
	assert_int_equal(certmap_hint_decode("", 0, NULL, NULL), CERTMAP_ERR_INVALID_ARG);
	/* errmsg may be NULL. */
	assert_int_equal(certmap_hint_decode("\0\0", 2, &h, NULL), CERTMAP_ERR_HINT);
	assert_null(h);
	assert_null(certmap_hint_upn(NULL));
	certmap_hint_free(NULL);
}

static void test_encode(void **state)
{
	size_t wlen, len;
	unsigned char *want = hex("000e 40 000b 0005 6140622e63 0002 4558", &wlen);
	unsigned char *b = NULL;
	struct certmap_hint *h = NULL;
	char *msg = NULL;

	(void)state;
	assert_int_equal(certmap_hint_encode("a@b.c", "EX", &b, &len, &msg), 0);
	assert_int_equal(len, wlen);
	assert_memory_equal(b, want, len);
	free(b);
	free(want);
	assert_int_equal(certmap_hint_encode(NULL, "EX", &b, &len, NULL), 0);
	want = hex("0009 40 0006 0000 0002 4558", &wlen);
	assert_int_equal(len, wlen);
	assert_memory_equal(b, want, len);
	assert_int_equal(certmap_hint_decode(b, len, &h, NULL), 0);
	assert_string_equal(certmap_hint_domain(h), "EX");
	certmap_hint_free(h);
	free(b);
	free(want);
	/* Encode refuses what decode would refuse. */
	assert_int_equal(certmap_hint_encode("", NULL, &b, &len, &msg), CERTMAP_ERR_HINT);
	assert_null(b);
	assert_int_equal(len, 0);
	assert_non_null(strstr(msg, "neither"));
	free(msg);
	assert_int_equal(certmap_hint_encode("alice", NULL, &b, &len, &msg), CERTMAP_ERR_HINT);
	assert_non_null(strstr(msg, "user_principal_name: it has no '@'"));
	free(msg);
	assert_int_equal(certmap_hint_encode(NULL, "bad_name", &b, &len, &msg), CERTMAP_ERR_HINT);
	assert_non_null(strstr(msg, "domain_name is not an LDH domain name"));
	free(msg);
	assert_int_equal(certmap_hint_encode("a@b", NULL, NULL, &len, NULL),
			 CERTMAP_ERR_INVALID_ARG);
}

static void types_refused(const char *s, const char *want)
{
	unsigned char types[CERTMAP_HINT_MAX_TYPES];
	size_t len, n = 99;
	unsigned char *b = hex(s, &len);
	char *msg = NULL;

	assert_int_equal(certmap_hint_types_decode(b, len, types, &n, &msg), CERTMAP_ERR_HINT);
	assert_int_equal(n, 0);
	assert_non_null(msg);
	if (strstr(msg, want) == NULL) {
		fail_msg("%s: message \"%s\" lacks \"%s\"", s, msg, want);
	}
	free(msg);
	free(b);
}

static void test_types(void **state)
{
	unsigned char types[CERTMAP_HINT_MAX_TYPES], all[255];
	unsigned char *b = NULL, *enc = NULL;
	size_t len, elen, n = 0;

	(void)state;
	types_refused("", "without its 1-byte length");
	types_refused("00", "is empty");
	types_refused("02 40", "length 2 runs past its end (1 bytes follow)");
	types_refused("01 40 41", "1 bytes after the UserMappingTypeList");
	types_refused("03 40 01 40", "type 64 is listed twice");
	b = hex("03 01 40 e0", &len);
	assert_int_equal(certmap_hint_types_decode(b, len, types, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_int_equal(types[1], CERTMAP_HINT_TYPE_UPN_DOMAIN);
	assert_int_equal(certmap_hint_types_encode(types, n, &enc, &elen), 0);
	assert_int_equal(elen, len);
	assert_memory_equal(enc, b, len);
	free(enc);
	free(b);
	/* 255 distinct types: the longest list. */
	for (size_t i = 0; i < 255; i++) {
		all[i] = (unsigned char)(i + 1);
	}
	assert_int_equal(certmap_hint_types_encode(all, 255, &enc, &elen), 0);
	assert_int_equal(elen, 256);
	assert_int_equal(enc[0], 255);
	assert_int_equal(certmap_hint_types_decode(enc, elen, types, &n, NULL), 0);
	assert_int_equal(n, 255);
	free(enc);
	assert_int_equal(certmap_hint_types_encode(all, 0, &enc, &elen), CERTMAP_ERR_INVALID_ARG);
	assert_int_equal(certmap_hint_types_encode(all, 256, &enc, &elen), CERTMAP_ERR_INVALID_ARG);
	all[1] = all[0];
	assert_int_equal(certmap_hint_types_encode(all, 2, &enc, &elen), CERTMAP_ERR_INVALID_ARG);
	assert_null(enc);
}

/* ---- certmap_map() with raw hint bytes ---- */

static char *tmpdir;

static int setup(void **state)
{
	char *p;

	(void)state;
	tmpdir = cmt_tmpdir("hint");
	p = cmt_write_file(tmpdir, "passwd",
			   "erin:x:1004:1004:Erin:/home/erin:/bin/sh\n"
			   "erin2:x:1005:1004:Erin Two:/home/erin2:/bin/sh\n");
	setenv("NSS_WRAPPER_PASSWD", p, 1);
	free(p);
	p = cmt_write_file(tmpdir, "group", "erin:x:1004:\n");
	setenv("NSS_WRAPPER_GROUP", p, 1);
	free(p);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(tmpdir);
	return 0;
}

static struct certmap_ctx *multisan_ctx(void)
{
	struct certmap_ctx *ctx = NULL;
	char *ca = cmt_cert_path("ca.pem");
	char *text = cm_asprintf("verify = { ca_file = \"%s\"; };\n"
				 "domains = ( { name = \"local\"; type = \"local\"; } );\n"
				 "rules = ( { name = \"upn\"; priority = 10;"
				 " map = \"LOCAL:{subject_nt_principal.short_name}\"; } );\n",
				 ca);
	char *path = cmt_write_file(tmpdir, "certmap.conf", text);
	char *err = NULL;

	if (certmap_ctx_new(path, &ctx, &err) != CERTMAP_OK) {
		fail_msg("config: %s", err != NULL ? err : "?");
	}
	free(ca);
	free(text);
	free(path);
	return ctx;
}

/* Maps multisan.pem (UPNs erin@ and erin2@EXAMPLE.COM) with hint bytes. */
static struct certmap_answer *map_with(const struct certmap_ctx *ctx, const char *hexdata,
				       unsigned flags, const char *upn_hint)
{
	struct certmap_request req = {0};
	struct certmap_answer *a = NULL;
	unsigned char *cert = NULL, *data = NULL;
	size_t cert_len, len = 0;
	char *path = cmt_cert_path("multisan.pem");

	assert_int_equal(cmt_read_file(path, &cert, &cert_len), 0);
	if (hexdata != NULL) {
		data = hex(hexdata, &len);
	}
	req.cert = cert;
	req.cert_len = cert_len;
	req.upn_hint = upn_hint;
	req.flags = flags;
	req.user_mapping_data = data;
	req.user_mapping_data_len = len;
	assert_int_equal(certmap_map(ctx, &req, &a), CERTMAP_OK);
	free(cert);
	free(data);
	free(path);
	return a;
}

static void assert_answer(struct certmap_answer *a, const char *user, enum certmap_reason r)
{
	if (certmap_answer_reason(a) != r) {
		fail_msg("expected %s, got %s: %s", certmap_reason_name(r),
			 certmap_reason_name(certmap_answer_reason(a)), certmap_answer_message(a));
	}
	if (user != NULL) {
		assert_int_equal(certmap_answer_verdict(a), CERTMAP_VERDICT_MAPPED);
		assert_string_equal(certmap_answer_user(a), user);
	} else {
		assert_int_not_equal(certmap_answer_verdict(a), CERTMAP_VERDICT_MAPPED);
		assert_null(certmap_answer_user(a));
	}
	certmap_answer_free(a);
}

/* "erin2@EXAMPLE.COM" */
#define ERIN2 "0018 40 0015 0011 6572696e32404558414d504c452e434f4d 0000"

static void test_map_hint_data(void **state)
{
	struct certmap_ctx *ctx = multisan_ctx();

	(void)state;
	assert_answer(map_with(ctx, NULL, 0, NULL), NULL, CERTMAP_REASON_AMBIGUOUS);
	assert_answer(map_with(ctx, ERIN2, CERTMAP_REQ_HINT_DATA, NULL), "erin2",
		      CERTMAP_REASON_NONE);
	/* Without the flag the field is not read (older callers have none). */
	assert_answer(map_with(ctx, ERIN2, 0, NULL), NULL, CERTMAP_REASON_AMBIGUOUS);
	/* A hint naming no candidate; the domain "OTHER" names no domain. */
	assert_answer(map_with(ctx, "0017 40 0014 0010 616c696365404578616d706c652e636f 0000",
			       CERTMAP_REQ_HINT_DATA, NULL),
		      NULL, CERTMAP_REASON_NOT_CANDIDATE);
	assert_answer(map_with(ctx, "000a 40 0007 0000 0003 4f5448", CERTMAP_REQ_HINT_DATA, NULL),
		      NULL, CERTMAP_REASON_NOT_CANDIDATE);
	/* Malformed bytes never map, whatever else the request says. */
	assert_answer(map_with(ctx, "0019 40 0015 0011 6572696e32404558414d504c452e434f4d 0000",
			       CERTMAP_REQ_HINT_DATA, NULL),
		      NULL, CERTMAP_REASON_HINT_INVALID);
	assert_answer(map_with(ctx, "", CERTMAP_REQ_HINT_DATA, NULL), NULL,
		      CERTMAP_REASON_HINT_INVALID);
	/* Two sources for one choice. */
	assert_answer(map_with(ctx, ERIN2, CERTMAP_REQ_HINT_DATA, "erin@EXAMPLE.COM"), NULL,
		      CERTMAP_REASON_HINT_INVALID);
	/* A list without a upn_domain_hint leaves the string hint alone. */
	assert_answer(map_with(ctx, "0003 01 0000", CERTMAP_REQ_HINT_DATA, "erin@EXAMPLE.COM"),
		      "erin", CERTMAP_REASON_NONE);
	assert_answer(map_with(ctx, "0003 01 0000", CERTMAP_REQ_HINT_DATA, NULL), NULL,
		      CERTMAP_REASON_AMBIGUOUS);
	certmap_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_ok),	   cmocka_unit_test(test_decode_lengths),
	    cmocka_unit_test(test_decode_content), cmocka_unit_test(test_decode_limits),
	    cmocka_unit_test(test_decode_args),	   cmocka_unit_test(test_encode),
	    cmocka_unit_test(test_types),	   cmocka_unit_test(test_map_hint_data),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
