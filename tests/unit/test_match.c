/* Unit tests for mapper/rule_match.c (matching rules). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "certmap.h"
#include "rules.h"
#include "testlib.h"

/* ------------------------------------------------ hand-built identity */

static void set_text(struct cm_value *v, const char *s, size_t len)
{
	assert_int_equal(cm_value_set_text(v, s, len), 0);
}

/* A small identity: subject "CN=alice,O=Example", issuer "CN=CA", KU
 * digitalSignature, EKU clientAuth, SANs as given by the test. */
static struct cm_identity *id_new(void)
{
	struct cm_identity *id = calloc(1, sizeof(*id));

	assert_non_null(id);
	set_text(&id->subject.sssd, "CN=alice,O=Example", 18);
	set_text(&id->subject.rfc4514, "CN=alice,O=Example", 18);
	set_text(&id->issuer.sssd, "CN=CA", 5);
	set_text(&id->issuer.rfc4514, "CN=CA", 5);
	id->has_ku = true;
	id->ku = KU_DIGITAL_SIGNATURE;
	id->has_eku = true;
	assert_int_equal(cm_strv_add(&id->eku, "1.3.6.1.5.5.7.3.2"), 0);
	return id;
}

static struct cm_san *id_add_san(struct cm_identity *id, enum cm_san_type type, const char *text, size_t len)
{
	struct cm_san *s;

	id->sans = realloc(id->sans, (id->n_sans + 1) * sizeof(*id->sans));
	assert_non_null(id->sans);
	s = &id->sans[id->n_sans++];
	memset(s, 0, sizeof(*s));
	s->type = type;
	if (text != NULL) {
		set_text(&s->text, text, len);
		assert_int_equal(cm_value_set(&s->raw, text, len), 0);
	}
	return s;
}

static struct cm_san *id_add_other(struct cm_identity *id, enum cm_other_kind kind, const char *oid,
				   const char *text, const char *raw, size_t raw_len)
{
	struct cm_san *s = id_add_san(id, CM_SAN_OTHER_NAME, text, text != NULL ? strlen(text) : 0);

	s->other_kind = kind;
	s->other_oid = strdup(oid);
	assert_int_equal(cm_value_set(&s->raw, raw, raw_len), 0);
	if (kind == CM_OTHER_GENERIC) {
		cm_value_clear(&s->text);
		s->text.unusable = "generic otherName";
	}
	return s;
}

static void id_free(struct cm_identity *id)
{
	cm_value_clear(&id->subject.sssd);
	cm_value_clear(&id->subject.rfc4514);
	cm_value_clear(&id->issuer.sssd);
	cm_value_clear(&id->issuer.rfc4514);
	cm_strv_clear(&id->eku);
	for (size_t i = 0; i < id->n_sans; i++) {
		cm_value_clear(&id->sans[i].text);
		cm_value_clear(&id->sans[i].raw);
		free(id->sans[i].other_oid);
	}
	free(id->sans);
	free(id);
}

/* Parses and evaluates; fails the test on a parse error. */
static bool eval(const char *rule, const struct cm_identity *id, char **why_out)
{
	struct cm_match *m = NULL;
	char *err = NULL;
	struct cm_buf why;
	bool ok;

	cm_buf_init(&why, 0);
	if (cm_match_parse(rule, &m, &err) != 0) {
		fail_msg("rule '%s' rejected: %s", rule, err);
	}
	ok = cm_match_eval(m, id, &why);
	cm_buf_add(&why, "", 0);
	if (why_out != NULL) {
		*why_out = cm_buf_steal(&why, NULL);
	}
	cm_buf_free(&why);
	cm_match_free(m);
	return ok;
}

static char *parse_error(const char *rule)
{
	struct cm_match *m = NULL;
	char *err = NULL;

	assert_int_equal(cm_match_parse(rule, &m, &err), CERTMAP_ERR_RULE);
	assert_null(m);
	assert_non_null(err);
	return err;
}

/* ------------------------------------------------------------- tests */

static void test_parse_errors(void **state)
{
	static const struct {
		const char *rule;
		const char *msg;
	} cases[] = {
		{ "<SUBJECT>x<FOO>y", "unknown component <FOO> at offset 10" },
		{ "<SUBJECT>(", "invalid regex in <SUBJECT> at offset 9: " },
		{ "<KU>digitalSignature,x", "unknown KU value 'x' at offset 4" },
		{ "<EKU>clientAuth,foo", "unknown EKU value 'foo' at offset 5" },
		{ "<EKU>,", "empty EKU list at offset 5" },
		{ "<EKU>1.", "unknown EKU value '1.' at offset 5" },
		{ "<SUBJECT>", "missing value for <SUBJECT> at offset 9" },
		{ "<SAN:foo>x", "unknown SAN type 'foo' at offset 5" },
		{ "<SAN:rfc822Name", "missing '>' after <SAN: at offset 5" },
		{ "<SAN:otherName>!!", "invalid base64 value '!!' in <SAN:otherName> at offset 15" },
		{ "KRB6:<SUBJECT>x", "unsupported matching rule type 'KRB6' at offset 0" },
		{ "&&||<SUBJECT>x", "expected '<' to start a component at offset 2" },
		{ "<subject>x", "unknown component <subject> at offset 0" },
		{ "<SUBJECT>a<", "unknown component <> at offset 10" },
		{ "<SAN>a+++", "invalid regex in <SAN>: stacked repetition operators at offset 5" },
		{ "<SUBJECT>a{2}*", "invalid regex in <SUBJECT>: stacked repetition operators at offset 9" },
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		char *err = parse_error(cases[i].rule);

		if (strncmp(err, cases[i].msg, strlen(cases[i].msg)) != 0) {
			fail_msg("rule '%s': got '%s', want '%s'", cases[i].rule, err, cases[i].msg);
		}
		free(err);
	}
}

static void test_parse_limits(void **state)
{
	char *big = malloc(CM_RULE_MAX_LEN + 2);
	struct cm_match *m = NULL;
	char *err = NULL;

	(void)state;
	assert_non_null(big);
	memcpy(big, "<SUBJECT>", 9);
	memset(big + 9, 'a', CM_RULE_MAX_LEN + 1 - 9);
	big[CM_RULE_MAX_LEN + 1] = '\0';
	assert_int_equal(cm_match_parse(big, &m, &err), CERTMAP_ERR_RULE);
	assert_string_equal(err, "matching rule longer than 4096 bytes");
	free(err);
	big[CM_RULE_MAX_LEN] = '\0';
	assert_int_equal(cm_match_parse(big, &m, &err), 0);
	cm_match_free(m);
	free(big);
	cm_match_free(NULL);
}

/* Seconds since an arbitrary point. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Issue 14: nested bounded repetitions are refused before regcomp() (the
 * first one took 1.2 GB and 1.2 s, x{0,32767} 8 GB and 22 s), quickly and
 * naming the part; ordinary and SSSD-style expressions still compile. */
static void test_regex_size(void **state)
{
	static const struct {
		const char *rule;
		const char *msg;
	} bombs[] = {
		{ "<SUBJECT>((a{1,100}){1,100}){1,100}",
		  "regex in <SUBJECT> too large for regcomp(): the repetition '{1,100}' expands it "
		  "over 10000 positions or 1000 optional ones (nested or large repetition counts) "
		  "at offset 20" },
		{ "<ISSUER>x{0,32767}", "the repetition '{0,32767}'" },
		{ "<SAN:rfc822Name>[a-z]{1,1002}", "the repetition '{1,1002}'" },
		{ "<SUBJECT>(x?){0,1000}", "the repetition '{0,1000}'" },
		{ "<SUBJECT>((x?){0,45}){0,45}", "the repetition '{0,45}' expands it" },
		{ "<SUBJECT>(^|x){0,2000}", "the repetition '{0,2000}'" },
		{ "<SUBJECT>a{10001}", "the repetition '{10001}'" },
		{ "<SUBJECT>a{,5000}", "the repetition '{,5000}'" },
		{ "<SUBJECT>(a{600}b{600}){9}", "the repetition '{9}'" },
		{ "<SUBJECT>a{0,600}b{0,600}", "over 10000 positions or 1000 optional ones at offset 9" },
		{ "<SUBJECT>[]{}]{1,2000}", "the repetition '{1,2000}'" },
		{ "<SUBJECT>[[:alpha:]]{0,2000}", "the repetition '{0,2000}'" },
	};
	static const char *const fine[] = {
		"<SUBJECT>^CN=[^,]{1,64},O=Example$",
		"<SUBJECT>^CN=[a-z]{1,32}[0-9]{0,8},OU=(Users|Admins),DC=example,DC=com$",
		"<SAN:ntPrincipalName>.*@EXAMPLE\\.TEST$",
		"||<ISSUER>^CN=Example CA,DC=example,DC=com$<SAN:rfc822Name>^[a-z.+-]+@example\\.com$",
		"&&<SUBJECT>.*,DC=ad,DC=example$<KU>digitalSignature<EKU>clientAuth",
		"<SUBJECT>x{0,1000}",
		"<SUBJECT>a{10000}",
		"<SUBJECT>((x?){0,15}){0,15}",
		"<SUBJECT>(abcdefgh){1000}x{0,999}",
		"<SUBJECT>\\{1,99999\\}", /* escaped braces are characters */
	};
	struct cm_match *m = NULL;

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(bombs); i++) {
		double t0 = now();
		char *err = parse_error(bombs[i].rule);

		/* Refused before regcomp() runs: no time to speak of. */
		assert_true(now() - t0 < 0.05);
		if (strstr(err, bombs[i].msg) == NULL) {
			fail_msg("rule '%s': got '%s', want '%s'", bombs[i].rule, err, bombs[i].msg);
		}
		free(err);
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(fine); i++) {
		char *err = NULL;

		if (cm_match_parse(fine[i], &m, &err) != 0) {
			fail_msg("rule '%s' refused: %s", fine[i], err);
		}
		cm_match_free(m);
	}
}

static void test_default_and_prefix(void **state)
{
	struct cm_identity *id = id_new();

	(void)state;
	assert_true(eval(NULL, id, NULL));
	assert_true(eval("", id, NULL));
	assert_true(eval("KRB5:<EKU>clientAuth", id, NULL));
	assert_true(eval(":<EKU>clientAuth", id, NULL));
	/* A rule without components never matches, as in SSSD. */
	assert_false(eval("KRB5:", id, NULL));
	assert_false(eval("&&", id, NULL));
	id->ku = KU_KEY_ENCIPHERMENT;
	assert_false(eval(NULL, id, NULL));
	id_free(id);
}

static void test_ku(void **state)
{
	struct cm_identity *id = id_new();
	char *why = NULL;

	(void)state;
	id->ku = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
	assert_true(eval("<KU>digitalSignature", id, NULL));
	assert_true(eval("<KU>DIGITALSIGNATURE", id, NULL));
	assert_true(eval("<KU> digitalSignature , keyEncipherment ", id, NULL));
	assert_true(eval("<KU>,", id, NULL));
	assert_true(eval("<KU>128", id, NULL));
	assert_true(eval("<KU>0xa0", id, NULL));
	assert_false(eval("<KU>0x8000", id, NULL));
	assert_false(eval("<KU>digitalSignature,nonRepudiation", id, &why));
	assert_string_equal(why, "<KU> 'digitalSignature,nonRepudiation': the certificate's key usage 0x00a0 lacks 0x0040. ");
	free(why);
	assert_true(eval("||<KU>nonRepudiation<KU>keyEncipherment", id, NULL));
	assert_false(eval("<KU>keyEncipherment<KU>cRLSign", id, NULL));
	/* No KU extension: every key usage holds. */
	id->has_ku = false;
	id->ku = 0;
	assert_true(eval("<KU>decipherOnly,keyCertSign", id, NULL));
	id_free(id);
}

static void test_eku(void **state)
{
	struct cm_identity *id = id_new();
	char *why = NULL;

	(void)state;
	assert_true(eval("<EKU>clientAuth", id, NULL));
	assert_true(eval("<EKU>CLIENTAUTH", id, NULL));
	assert_true(eval("<EKU>1.3.6.1.5.5.7.3.2", id, NULL));
	assert_false(eval("<EKU>clientAuth,serverAuth", id, &why));
	assert_string_equal(why, "<EKU> 'clientAuth,serverAuth': the certificate has no extended key usage 1.3.6.1.5.5.7.3.1. ");
	free(why);
	/* In an || rule each EKU counts on its own, as in SSSD. */
	assert_true(eval("||<EKU>serverAuth,clientAuth", id, NULL));
	assert_false(eval("||<EKU>serverAuth,codeSigning", id, NULL));
	assert_int_equal(cm_strv_add(&id->eku, "1.3.6.1.4.1.311.20.2.2"), 0);
	assert_int_equal(cm_strv_add(&id->eku, "1.3.6.1.5.2.3.4"), 0);
	assert_true(eval("<EKU>msScLogin,pkinit,KPClientAuth", id, NULL));
	id->has_eku = false;
	cm_strv_clear(&id->eku);
	assert_false(eval("<EKU>clientAuth", id, NULL));
	id_free(id);
}

static void test_subject_issuer(void **state)
{
	struct cm_identity *id = id_new();
	char *why = NULL;

	(void)state;
	assert_true(eval("<SUBJECT>^CN=alice,O=Example$", id, NULL));
	assert_true(eval("<SUBJECT>^[*+?]*CN=a\\+*l", id, NULL));
	assert_true(eval("<ISSUER>^CN=CA$<SUBJECT>alice", id, NULL));
	assert_false(eval("<SUBJECT>bob", id, &why));
	assert_string_equal(why, "<SUBJECT> 'bob' does not match 'CN=alice,O=Example'. ");
	free(why);
	assert_true(eval("||<SUBJECT>bob<ISSUER>CA", id, NULL));
	assert_false(eval("<SUBJECT>alice<ISSUER>bob", id, NULL));
	/* Non-ASCII: the SSSD form (\XX) and the UTF-8 form both match. */
	set_text(&id->subject.sssd, "CN=J\\C3\\BCrgen", 14);
	set_text(&id->subject.rfc4514, "CN=J\xc3\xbcrgen", 10);
	assert_true(eval("<SUBJECT>J\\\\C3\\\\BCrgen", id, NULL));
	assert_true(eval("<SUBJECT>J\xc3\xbcrgen$", id, NULL));
	/* An unusable DN never matches. */
	id->subject.sssd.unusable = "broken";
	assert_false(eval("<SUBJECT>.*", id, &why));
	assert_string_equal(why, "<SUBJECT>: the DN is unusable (broken). ");
	free(why);
	id_free(id);
}

/* Anchored expressions are first checked against their literal prefix;
 * quantifiers, alternation and escapes must not make that check lie. */
static void test_literal_prefix(void **state)
{
	struct cm_identity *id = id_new();

	(void)state;
	assert_true(eval("<SUBJECT>^CN=alice", id, NULL));
	assert_false(eval("<SUBJECT>^CN=alicf", id, NULL));
	assert_false(eval("<SUBJECT>^CN=alice,O=Example,", id, NULL));
	assert_true(eval("<SUBJECT>^CN=alicex*,O", id, NULL));
	assert_true(eval("<SUBJECT>^CN=alicx?e", id, NULL));
	assert_true(eval("<SUBJECT>^CN=alicx{0}e", id, NULL));
	assert_false(eval("<SUBJECT>^CN=alicx+e", id, NULL));
	assert_true(eval("<SUBJECT>^CN=bob|alice", id, NULL));
	assert_true(eval("<SUBJECT>^CN=(bob|alice)", id, NULL));
	assert_true(eval("<SUBJECT>^CN\\=alice", id, NULL));
	assert_true(eval("<SUBJECT>^C.=alice", id, NULL));
	assert_true(eval("<SUBJECT>^[C]N=alice", id, NULL));
	assert_false(eval("<SUBJECT>^O=Example", id, NULL));
	/* Longer than the value. */
	assert_false(eval("<ISSUER>^CN=CA,O=Something longer than the DN", id, NULL));
	/* The UTF-8 rendering is checked too. */
	set_text(&id->subject.sssd, "CN=J\\C3\\BCrgen", 14);
	set_text(&id->subject.rfc4514, "CN=J\xc3\xbcrgen", 10);
	assert_true(eval("<SUBJECT>^CN=J\xc3\xbcrgen$", id, NULL));
	assert_true(eval("<SUBJECT>^CN=J\\\\C3", id, NULL));
	id_free(id);
}

static void test_san_types(void **state)
{
	struct cm_identity *id = id_new();

	(void)state;
	id_add_san(id, CM_SAN_RFC822, "alice@example.com", 17);
	id_add_san(id, CM_SAN_DNS, "host.example.com", 16);
	id_add_san(id, CM_SAN_URI, "https://example.com/x", 21);
	id_add_san(id, CM_SAN_IP, "192.0.2.1", 9);
	id_add_san(id, CM_SAN_RID, "1.2.3.4", 7);
	id_add_san(id, CM_SAN_DIRNAME, "CN=dir,O=Org", 12);
	id_add_other(id, CM_OTHER_UPN, "1.3.6.1.4.1.311.20.2.3", "alice@EXAMPLE.COM", "\x0c\x11" "alice@EXAMPLE.COM", 19);
	id_add_other(id, CM_OTHER_KRB5, "1.3.6.1.5.2.2", "alice/admin@EXAMPLE.COM", "\x30\x00", 2);
	id_add_other(id, CM_OTHER_GENERIC, "1.2.3.4.5", NULL, "\x0c\x05hello", 7);
	assert_true(eval("<SAN:rfc822Name>^alice@example.com$", id, NULL));
	assert_true(eval("<SAN:RFC822NAME>example", id, NULL));
	assert_true(eval("<SAN:rfc>example", id, NULL));
	assert_true(eval("<SAN:dNSName>^host\\.", id, NULL));
	assert_true(eval("<SAN:d>host", id, NULL));
	assert_true(eval("<SAN:uniformResourceIdentifier>^https://", id, NULL));
	assert_true(eval("<SAN:iPAddress>^192\\.0\\.2\\.1$", id, NULL));
	assert_true(eval("<SAN:registeredID>^1\\.2\\.3\\.4$", id, NULL));
	assert_true(eval("<SAN:directoryName>^CN=dir,O=Org$", id, NULL));
	assert_true(eval("<SAN:ntPrincipalName>^alice@EXAMPLE.COM$", id, NULL));
	assert_true(eval("<SAN:pkinitSAN>^alice/admin@", id, NULL));
	assert_true(eval("<SAN:pkinit>admin", id, NULL));
	/* <SAN> and <SAN:Principal>: every UPN and Kerberos principal. */
	assert_true(eval("<SAN>@EXAMPLE.COM$", id, NULL));
	assert_false(eval("<SAN>^alice@", id, NULL));
	assert_true(eval("<SAN:>alice", id, NULL));
	assert_true(eval("<SAN:Principal>alice", id, NULL));
	/* An OID selects otherNames and matches their DER bytes, as SSSD. */
	assert_true(eval("<SAN:1.2.3.4.5>hello$", id, NULL));
	assert_false(eval("<SAN:1.2.3.4.5>^hello", id, NULL));
	assert_false(eval("<SAN:9.9>.", id, NULL));
	assert_false(eval("<SAN:stringOtherName>.", id, NULL));
	/* otherName: base64 bytes contained in every otherName value. */
	assert_false(eval("<SAN:otherName>aGVsbG8=", id, NULL));
	assert_true(eval("<SAN:otherName>DA==", id, NULL) == false);
	id_free(id);
}

static void test_san_every_value(void **state)
{
	struct cm_identity *id = id_new();
	char *why = NULL;

	(void)state;
	assert_false(eval("<SAN:rfc822Name>.", id, &why));
	assert_string_equal(why, "<SAN:rfc822Name> '.': the certificate has no SAN of that type. ");
	free(why);
	id_add_san(id, CM_SAN_RFC822, "a@example.com", 13);
	id_add_san(id, CM_SAN_RFC822, "b@example.org", 13);
	assert_true(eval("<SAN:rfc822Name>@example\\.", id, NULL));
	assert_false(eval("<SAN:rfc822Name>@example\\.com$", id, &why));
	/* Issue 15: the regex as used (one backslash), the full SAN type. */
	assert_string_equal(why, "<SAN:rfc822Name> '@example\\.com$' does not hold for 'b@example.org'. ");
	free(why);
	id_free(id);
}

/* Issue 15: traces print expressions exactly as used and name the SAN type
 * in full, even when the rule abbreviates it. */
static void test_trace_names(void **state)
{
	static const struct {
		const char *rule;
		const char *why;
	} cases[] = {
		{ "<SAN:ntPrincipalName>.*@EXAMPLE\\.TEST$",
		  "<SAN:ntPrincipalName> '.*@EXAMPLE\\.TEST$' does not hold for 'alice@EXAMPLE.COM'. " },
		{ "<SAN:ntPrin>^bob@",
		  "<SAN:ntPrincipalName> '^bob@' does not hold for 'alice@EXAMPLE.COM'. " },
		{ "<SAN>^bob@", "<SAN> '^bob@' does not hold for 'alice@EXAMPLE.COM'. " },
		{ "<SAN:>^bob@", "<SAN> '^bob@' does not hold for 'alice@EXAMPLE.COM'. " },
		{ "<SAN:rfc822>x", "<SAN:rfc822Name> 'x': the certificate has no SAN of that type. " },
		{ "<SAN:1.2.3.4>x", "<SAN:1.2.3.4> 'x': the certificate has no SAN of that type. " },
		{ "<SUBJECT>^CN=J\\\\C3\\\\BC",
		  "<SUBJECT> '^CN=J\\\\C3\\\\BC' does not match 'CN=alice,O=Example'. " },
		{ "<SUBJECT>a\tb\\\\", "<SUBJECT> 'a\\x09b\\\\' does not match 'CN=alice,O=Example'. " },
	};
	struct cm_identity *id = id_new();
	char *err = NULL;

	(void)state;
	id_add_other(id, CM_OTHER_UPN, "1.3.6.1.4.1.311.20.2.3", "alice@EXAMPLE.COM", "x", 1);
	for (size_t i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		char *why = NULL;

		assert_false(eval(cases[i].rule, id, &why));
		if (strcmp(why, cases[i].why) != 0) {
			fail_msg("rule '%s': trace '%s', want '%s'", cases[i].rule, why, cases[i].why);
		}
		free(why);
	}
	/* Parse errors name the full type too. */
	err = parse_error("<SAN:rfc822>a+++");
	assert_string_equal(err, "invalid regex in <SAN:rfc822Name>: stacked repetition operators at offset 12");
	free(err);
	id_free(id);
}

static void test_san_unusable(void **state)
{
	struct cm_identity *id = id_new();
	char *why = NULL;

	(void)state;
	/* "victim@example.com\0.evil": never matches, never truncated. */
	id_add_san(id, CM_SAN_RFC822, "victim@example.com\0.evil", 24);
	assert_false(eval("<SAN:rfc822Name>^victim@example.com$", id, &why));
	assert_string_equal(why, "<SAN:rfc822Name> '^victim@example.com$' does not hold for 'victim@example.com\\x00.evil' "
				 "(unusable: the value contains a NUL byte). ");
	free(why);
	assert_false(eval("<SAN:rfc822Name>.*", id, NULL));
	assert_true(eval("||<SAN:rfc822Name>.*<EKU>clientAuth", id, NULL));
	/* One unusable value fails a component that must hold for all. */
	id_add_san(id, CM_SAN_RFC822, "ok@example.com", 14);
	assert_false(eval("<SAN:rfc822Name>.*", id, NULL));
	/* A UPN that is not a UTF8String is unusable. */
	id_add_other(id, CM_OTHER_UPN, "1.3.6.1.4.1.311.20.2.3", NULL, "\x1e\x02\x00x", 4);
	id->sans[id->n_sans - 1].text.unusable = "not a UTF8String";
	assert_false(eval("<SAN:ntPrincipalName>.*", id, NULL));
	id_free(id);
}

static void test_san_blobs(void **state)
{
	struct cm_identity *id = id_new();

	(void)state;
	id_add_other(id, CM_OTHER_GENERIC, "1.2.3.4.5", NULL, "\x0c\x05hello", 7);
	id_add_other(id, CM_OTHER_GENERIC, "1.2.3.4.6", NULL, "\x0c\x07hello!!", 9);
	assert_true(eval("<SAN:otherName>aGVsbG8=", id, NULL));
	assert_true(eval("<SAN:o>aGVs", id, NULL));
	assert_false(eval("<SAN:otherName>IQ==", id, NULL));
	assert_false(eval("<SAN:x400Address>aGVsbG8=", id, NULL));
	id_add_san(id, CM_SAN_EDIPARTY, NULL, 0);
	assert_int_equal(cm_value_set(&id->sans[id->n_sans - 1].raw, "\xa1\x05party", 7), 0);
	assert_true(eval("<SAN:ediPartyName>cGFydHk=", id, NULL));
	id_free(id);
}

static void test_real_certs(void **state)
{
	static const struct {
		const char *cert;
		const char *rule;
		bool want;
	} cases[] = {
		{ "alice", NULL, true },
		{ "alice", "<SUBJECT>^CN=Alice Example,UID=alice,OU=Users,O=Example,DC=example,DC=com$", true },
		{ "alice", "<ISSUER>^CN=Certmap Test CA,O=Certmap Test,C=US$", true },
		{ "alice", "<SAN>^alice@EXAMPLE.COM$", true },
		{ "alice", "<SAN:rfc822Name>^alice@example.com$", true },
		{ "serverauth", NULL, false },
		{ "serverauth", "<EKU>serverAuth", true },
		{ "noku", "<KU>keyCertSign", true },
		{ "keycert-only", "<KU>digitalSignature", false },
		{ "krb5", "<SAN:pkinitSAN>^dave@EXAMPLE.COM$", true },
		{ "krb5", "<SAN:ntPrincipalName>.", false },
		{ "krb5-multi", "<SAN>^host/server.example.com@EXAMPLE.COM$", true },
		{ "multisan", "<SAN:rfc822Name>@example.com$", false },
		{ "multisan", "<SAN:rfc822Name>^erin", true },
		{ "multisan", "<SAN:dNSName>^erin2?\\.example\\.com$", true },
		{ "utf8", "<SUBJECT>M\\\\C3\\\\BCller", true },
		{ "utf8", "<SUBJECT>Müller", true },
		{ "nul-email", "<SAN:rfc822Name>victim", false },
		{ "nul-dns", "<SAN:dNSName>victim", false },
		{ "upn-bmp", "<SAN:ntPrincipalName>bmp", false },
		{ "multirdn", "<SUBJECT>^UID=carol,CN=carol,O=Example$", true },
		{ "empty-subject", "<SAN:rfc822Name>^empty@", true },
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		char *file = cm_asprintf("%s.pem", cases[i].cert);
		struct cm_identity *id = cmt_load_identity(file);
		char *why = NULL;
		bool got = eval(cases[i].rule, id, &why);

		if (got != cases[i].want) {
			fail_msg("%s / %s: got %d (%s)", cases[i].cert, cases[i].rule ? cases[i].rule : "(default)",
				 got, why);
		}
		free(why);
		free(file);
		cm_identity_free(id);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_default_and_prefix),
		cmocka_unit_test(test_ku),
		cmocka_unit_test(test_eku),
		cmocka_unit_test(test_subject_issuer),
		cmocka_unit_test(test_literal_prefix),
		cmocka_unit_test(test_san_types),
		cmocka_unit_test(test_san_every_value),
		cmocka_unit_test(test_san_unusable),
		cmocka_unit_test(test_san_blobs),
		cmocka_unit_test(test_real_certs),
		cmocka_unit_test(test_regex_size),
		cmocka_unit_test(test_trace_names),
	};

	return cmocka_run_group_tests_name("match", tests, NULL, NULL);
}
