/* Unit tests for mapper/rule_map.c and mapper/ldap_escape.c (mapping rules). */
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
#include "rules.h"
#include "testlib.h"

static struct cm_identity *load(const char *name)
{
	char *file = cm_asprintf("%s.pem", name);
	struct cm_identity *id;

	assert_non_null(file);
	id = cmt_load_identity(file);
	free(file);
	return id;
}

/* Expands rule for id; returns the error code, the results joined with '|'
 * in *res and the trace in *why (both malloc'd, may be NULL). */
static int expand(const char *rule, const struct cm_identity *id, char **res, char **why)
{
	struct cm_map *m = NULL;
	struct cm_strv out = { 0 };
	struct cm_buf b, w;
	char *err = NULL;
	int r;

	if (cm_map_parse(rule, &m, &err) != 0) {
		fail_msg("rule '%s' rejected: %s", rule, err);
	}
	cm_buf_init(&w, 0);
	cm_buf_init(&b, 0);
	r = cm_map_expand(m, id, &out, &w);
	for (size_t i = 0; i < out.n; i++) {
		if (i > 0) {
			cm_buf_addc(&b, '|');
		}
		cm_buf_adds(&b, out.v[i]);
	}
	cm_buf_add(&b, "", 0);
	cm_buf_add(&w, "", 0);
	*res = cm_buf_steal(&b, NULL);
	if (why != NULL) {
		*why = cm_buf_steal(&w, NULL);
	}
	cm_buf_free(&w);
	cm_strv_clear(&out);
	cm_map_free(m);
	return r;
}

static void check(const char *cert, const char *rule, const char *want)
{
	struct cm_identity *id = load(cert);
	char *res = NULL, *why = NULL;
	int r = expand(rule, id, &res, &why);

	if (r != 0 || strcmp(res, want) != 0) {
		fail_msg("%s / %s: r=%d got '%s' want '%s' (%s)", cert, rule, r, res, want, why);
	}
	free(res);
	free(why);
	cm_identity_free(id);
}

static void check_fails(const char *cert, const char *rule, const char *why_want)
{
	struct cm_identity *id = load(cert);
	char *res = NULL, *why = NULL;
	int r = expand(rule, id, &res, &why);

	if (r != CERTMAP_ERR_NOT_FOUND || strstr(why, why_want) == NULL) {
		fail_msg("%s / %s: r=%d res '%s' why '%s' want '%s'", cert, rule, r, res, why, why_want);
	}
	free(res);
	free(why);
	cm_identity_free(id);
}

static void check_invalid(const char *rule, const char *msg)
{
	struct cm_map *m = NULL;
	char *err = NULL;

	assert_int_equal(cm_map_parse(rule, &m, &err), CERTMAP_ERR_RULE);
	assert_null(m);
	if (err == NULL || strcmp(err, msg) != 0) {
		fail_msg("rule '%s': got '%s', want '%s'", rule, err, msg);
	}
	free(err);
}

static void test_escape(void **state)
{
	struct cm_buf b;
	char *s;
	unsigned char all[256];

	(void)state;
	cm_buf_init(&b, 0);
	cm_ldap_escape(&b, (const unsigned char *)"a*b(c)d\\e f\tg\rh\ni\0j", 19);
	cm_buf_add(&b, "", 0);
	s = cm_buf_steal(&b, NULL);
	assert_string_equal(s, "a\\2ab\\28c\\29d\\5ce\\20f\\09g\\0dh\\0ai\\00j");
	free(s);
	/* Every other byte, including 0x80-0xff, is copied as is (as SSSD). */
	for (int i = 0; i < 256; i++) {
		all[i] = (unsigned char)i;
	}
	cm_buf_init(&b, 0);
	cm_ldap_escape(&b, all, sizeof(all));
	assert_int_equal(b.len, 256 + 2 * 9);
	assert_memory_equal(b.data + 256 + 18 - 128, all + 128, 128);
	cm_buf_free(&b);
}

static void test_username_valid(void **state)
{
	static const char *const good[] = { "alice", "a.b-c_d", "user@EXAMPLE.COM", "J\xc3\xbcrgen", "x" };
	static const char *const bad[] = { "", "-x", "+x", "a/b", "a:b", "a,b", "a b", "a\tb", "a\x7f", "\x01" };
	char big[258];

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(good); i++) {
		assert_true(cm_username_valid(good[i], strlen(good[i])));
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(bad); i++) {
		assert_false(cm_username_valid(bad[i], strlen(bad[i])));
	}
	assert_false(cm_username_valid("a\0b", 3));
	memset(big, 'a', sizeof(big));
	assert_true(cm_username_valid(big, 256));
	assert_false(cm_username_valid(big, 257));
}

static void test_parse_errors(void **state)
{
	(void)state;
	check_invalid("{foo}", "unknown template {foo}");
	check_invalid("{cert!foo}", "invalid conversion '!foo' in template {cert!foo}");
	check_invalid("{subject_dn!grid}", "invalid conversion '!grid' in template {subject_dn!grid}");
	check_invalid("LDAPU1:{subject_dn!grid}", "invalid conversion '!grid' in template {subject_dn!grid}");
	check_invalid("{subject_uri.short_name}", "invalid attribute '.short_name' in template {subject_uri.short_name}");
	check_invalid("{subject_principal.SHORT_NAME}",
		      "invalid attribute '.SHORT_NAME' in template {subject_principal.SHORT_NAME}");
	check_invalid("{subject_dn.a.b}", "invalid template {subject_dn.a.b}: a name, at most one '.' and one '!' expected");
	check_invalid("{cert!bin!base64}",
		      "invalid template {cert!bin!base64}: a name, at most one '.' and one '!' expected");
	check_invalid("{cert", "the rule ends inside a template");
	check_invalid("{cert{x}}", "'{' inside a template at offset 5");
	check_invalid("{cert}}", "'}}' inside a template at offset 5");
	check_invalid("UNKNOWN:{cert}", "unsupported mapping rule type 'UNKNOWN'");
	check_invalid("LDAP:{serial_number}", "template {serial_number} needs an LDAPU1: rule");
	check_invalid("LDAP:{cert!sha256}", "invalid conversion '!sha256' in template {cert!sha256}");
	check_invalid("LDAPU1:{serial_number!dec_u}",
		      "invalid conversion '!dec_u' in template {serial_number!dec_u}");
	check_invalid("LDAPU1:{subject_key_id!dec}", "invalid conversion '!dec' in template {subject_key_id!dec}");
	check_invalid("LDAPU1:{subject_dn_component.[0]}",
		      "invalid attribute '.[0]' in template {subject_dn_component.[0]}");
	check_invalid("LDAPU1:{subject_dn_component.cn[2]x}",
		      "invalid attribute '.cn[2]x' in template {subject_dn_component.cn[2]x}");
	check_invalid("LDAPU1:{subject_dn_component[2]}", "unknown template {subject_dn_component[2]}");
	/* Digest names are compared exactly (SSSD bug #6802 accepts these). */
	check_invalid("LDAPU1:{cert!sha_u}", "invalid conversion '!sha_u' in template {cert!sha_u}");
	check_invalid("LDAPU1:{cert!x_u}", "invalid conversion '!x_u' in template {cert!x_u}");
	check_invalid("LOCAL:", "LOCAL: needs a template");
	check_invalid("MAPFILE:relative:{cert}", "MAPFILE: needs an absolute path and a template: MAPFILE:/path:{template}");
	check_invalid("MAPFILE:/etc/x", "MAPFILE: needs an absolute path and a template: MAPFILE:/path:{template}");
	check_invalid("MAPFILE:/etc/x:", "MAPFILE: needs a template");
	check_invalid("{}", "unknown template {}");
}

static void test_kinds(void **state)
{
	struct cm_map *m = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(cm_map_parse(NULL, &m, &err), 0);
	assert_int_equal(cm_map_kind(m), CM_MAP_LDAP);
	assert_null(cm_map_file(m));
	cm_map_free(m);
	assert_int_equal(cm_map_parse("LDAPU1:{sid}", &m, &err), 0);
	assert_int_equal(cm_map_kind(m), CM_MAP_LDAPU1);
	cm_map_free(m);
	assert_int_equal(cm_map_parse("LOCAL:svc-backup", &m, &err), 0);
	assert_int_equal(cm_map_kind(m), CM_MAP_LOCAL);
	cm_map_free(m);
	assert_int_equal(cm_map_parse("MAPFILE:/etc/certmap/users.map:{subject_dn!grid}", &m, &err), 0);
	assert_int_equal(cm_map_kind(m), CM_MAP_MAPFILE);
	assert_string_equal(cm_map_file(m), "/etc/certmap/users.map");
	cm_map_free(m);
	cm_map_free(NULL);
}

static void test_ldap_templates(void **state)
{
	(void)state;
	check("alice", "{subject_dn}", "CN=Alice\\20Example,UID=alice,OU=Users,O=Example,DC=example,DC=com");
	check("alice", "{subject_dn!nss_x500}", "DC=com,DC=example,O=Example,OU=Users,UID=alice,CN=Alice\\20Example");
	check("alice", "{subject_dn!ad}",
	      "DC=com,DC=example,O=Example,OU=Users,OID.0.9.2342.19200300.100.1.1=alice,CN=Alice\\20Example");
	check("alice", "{subject_dn!ad_ldap}",
	      "CN=Alice\\20Example,OID.0.9.2342.19200300.100.1.1=alice,OU=Users,O=Example,DC=example,DC=com");
	check("alice", "{issuer_dn!ad_x500}", "C=US,O=Certmap\\20Test,CN=Certmap\\20Test\\20CA");
	check("alice", "(|(mail={subject_rfc822_name})(uid={subject_principal.short_name}))",
	      "(|(mail=alice@example.com)(uid=alice))");
	check("alice", "{subject_rfc822_name.short_name}", "alice");
	check("alice", "{subject_nt_principal}", "alice@EXAMPLE.COM");
	check("alice", "a{{b}}c{{", "a{b}c{");
	check("krb5-multi", "{subject_pkinit_principal.short_name}", "host/server.example.com");
	check("special-cn", "(cn={subject_dn})", "(cn=CN=a\\2ab\\28c\\29d\\5c\\5ce,O=Example)");
	/* Several values of a type: SSSD uses the last one. */
	check("multisan", "{subject_rfc822_name}", "erin.alt@example.org");
	check("multisan", "{subject_dns_name.short_name}", "erin2");
	check("multisan", "{subject_principal}", "erin2@EXAMPLE.COM");
	check("sid", "LDAPU1:(objectSid={sid})", "(objectSid=S-1-5-21-2084710061-1330166313-3217380000-1105)");
	check("sid", "LDAPU1:{sid.rid}", "1105");
	check("smallserial", "LDAPU1:{serial_number}|{serial_number!dec}", "01|1");
	check("bigserial", "LDAPU1:{serial_number!HEX_c}", "80:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11");
	check("bigserial", "LDAPU1:{serial_number!hex_uc}", "80:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11");
	check("bigserial", "LDAPU1:{serial_number!hex_r}", "1100ffeeddccbbaa998877665544332211" "80");
	check("multi-ou", "LDAPU1:{subject_dn_component.ou}|{subject_dn_component.ou[3]}|{subject_dn_component.dc[-1]}",
	      "Three|Two|org");
	check("multi-ou", "LDAPU1:{subject_dn_component.[1]}|{subject_dn_component.[-2]}|{subject_dn_component}",
	      "mallory|example|mallory");
	check("multi-ou", "LDAPU1:{issuer_dn_component.o}", "Certmap\\20Test");
}

static void test_ldap_failures(void **state)
{
	(void)state;
	check_fails("alice", "{subject_dns_name}", "{subject_dns_name}: the certificate has no such SAN.");
	check_fails("alice", "LDAPU1:{sid}", "{sid}: the certificate has no usable SID extension.");
	check_fails("noski", "LDAPU1:{subject_key_id}", "{subject_key_id}: the certificate has no subject key identifier.");
	check_fails("multi-ou", "LDAPU1:{subject_dn_component.cn[2]}", "no such DN component");
	check_fails("multi-ou", "LDAPU1:{subject_dn_component.[9]}", "the DN has 8 components");
	/* Values with an embedded NUL never expand, not even truncated. */
	check_fails("nul-email", "{subject_rfc822_name}", "the value is unusable (the value contains a NUL byte)");
	check_fails("nul-dns", "LOCAL:{subject_dns_name.short_name}", "the value is unusable");
	check_fails("upn-bmp", "{subject_nt_principal}", "the value is unusable");
}

static void test_digests(void **state)
{
	struct cm_identity *id = load("alice");
	char *res = NULL, *sha1 = NULL;
	unsigned char digest1[20], spki1[20], spki256[32];
	struct cm_buf b;

	(void)state;
	cm_buf_init(&b, 0);
	cm_buf_hex(&b, id->sha256, 32, true, ':');
	cm_buf_add(&b, "", 0);
	sha1 = cm_buf_steal(&b, NULL);
	assert_int_equal(expand("LDAPU1:{cert!sha256_uc}", id, &res, NULL), 0);
	assert_string_equal(res, sha1);
	free(res);
	free(sha1);
	assert_int_equal(cm_identity_digests(id, digest1, spki1, spki256), 0);
	cm_buf_init(&b, 0);
	cm_buf_hex(&b, digest1, 20, false, '\0');
	cm_buf_add(&b, "", 0);
	sha1 = cm_buf_steal(&b, NULL);
	assert_int_equal(expand("LDAPU1:{cert!SHA1}", id, &res, NULL), 0);
	assert_string_equal(res, sha1);
	free(res);
	assert_int_equal(expand("LOCAL:{cert!sha1_u}", id, &res, NULL), 0);
	assert_int_equal(strlen(res), 40);
	assert_int_equal(strncasecmp(res, sha1, 40), 0);
	assert_true(res[0] < 'a');
	free(res);
	free(sha1);
	cm_identity_free(id);
}

/* An identity with n rfc822Names and n dNSNames. */
static struct cm_identity *many_sans(size_t n)
{
	struct cm_identity *id = load("alice");

	for (size_t i = 0; i < id->n_sans; i++) {
		cm_value_clear(&id->sans[i].text);
		cm_value_clear(&id->sans[i].raw);
		cm_value_clear(&id->sans[i].short_name);
		free(id->sans[i].other_oid);
	}
	free(id->sans);
	id->sans = calloc(2 * n, sizeof(*id->sans));
	assert_non_null(id->sans);
	id->n_sans = 2 * n;
	for (size_t i = 0; i < 2 * n; i++) {
		char *v = cm_asprintf(i < n ? "u%zu@example.com" : "h%zu.example.com", i % n);

		id->sans[i].type = i < n ? CM_SAN_RFC822 : CM_SAN_DNS;
		assert_int_equal(cm_value_set_text(&id->sans[i].text, v, strlen(v)), 0);
		assert_int_equal(cm_value_set(&id->sans[i].raw, v, strlen(v)), 0);
		free(v);
	}
	return id;
}

/* Several multi-valued fields multiply; past 64 names the rule gives none
 * (CERTMAP_ERR_TOO_LARGE), so that no decision rests on a cut list. */
static void test_local_combinations_cap(void **state)
{
	const char *rule = "LOCAL:{subject_rfc822_name.short_name}-{subject_dns_name.short_name}";
	struct cm_identity *id = many_sans(8);
	char *res = NULL, *why = NULL;

	(void)state;
	assert_int_equal(expand(rule, id, &res, &why), 0);
	assert_non_null(strstr(res, "u0-h0|u0-h1|"));
	assert_non_null(strstr(res, "|u7-h7"));
	free(res);
	free(why);
	cm_identity_free(id);
	id = many_sans(9);
	res = why = NULL;
	assert_int_equal(expand(rule, id, &res, &why), CERTMAP_ERR_TOO_LARGE);
	assert_non_null(strstr(why, "more than 64 combinations"));
	free(res);
	free(why);
	cm_identity_free(id);
}

static void test_local(void **state)
{
	(void)state;
	check("alice", "LOCAL:{subject_principal.short_name}", "alice");
	check("alice", "LOCAL:svc-backup", "svc-backup");
	check("alice", "LOCAL:{subject_dn_component.uid}", "alice");
	/* Not LDAP-escaped. */
	check("alice", "LOCAL:{subject_rfc822_name}", "alice@example.com");
	/* One candidate per value, in certificate order. */
	check("multisan", "LOCAL:{subject_nt_principal.short_name}", "erin|erin2");
	check("multisan", "LOCAL:{subject_dns_name.short_name}-{subject_principal.short_name}",
	      "erin-erin|erin-erin2|erin2-erin|erin2-erin2");
	/* Exactly X509_NAME_oneline's form (openssl x509 -subject -nameopt compat). */
	check("utf8", "MAPFILE:/m:{subject_dn!grid}", "/O=Example/CN=J\\xC3\\xBCrgen M\\xC3\\xBCller");
	check("grid-real", "MAPFILE:/m:{subject_dn!grid}", "/O=Example/CN=J\\xC3\\xBCrgen");
	check("grid-ctrl", "MAPFILE:/m:{subject_dn!grid}", "/O=Example/CN=a\\x01b\\x09c\\x7Fd");
	check("grid-eq", "MAPFILE:/m:{subject_dn!grid}", "/O=Example/OU=a=b/CN=x=y");
	/* Issue 14: the 13 ASCII characters J\xC3\xBCrgen print like the real
	 * Jurgen, so a value with a backslash never expands. */
	check_fails("grid-forged", "MAPFILE:/m:{subject_dn!grid}", "unusable in the grid form");
	check_fails("grid-t61", "MAPFILE:/m:{subject_dn!grid}", "one-byte string type");
	check_fails("grid-bmp", "MAPFILE:/m:{subject_dn!grid}", "over U+00FF");
	check_fails("grid-slash", "MAPFILE:/m:{subject_dn!grid}", "cannot show unambiguously");
	check("multirdn", "MAPFILE:/etc/m:{subject_dn!grid}", "/O=Example/CN=carol+UID=carol");
	check("alice", "MAPFILE:/etc/m:{issuer_dn!grid}", "/C=US/O=Certmap Test/CN=Certmap Test CA");
	/* No escapes in the grid form: '/' and '+' in a value refuse it. */
	check_fails("special-dn", "MAPFILE:/etc/m:{subject_dn!grid}", "cannot show unambiguously");
	/* OpenSSL's attribute names, as openssl x509 -subject prints them. */
	check("email-dn", "MAPFILE:/etc/m:{subject_dn!grid}", "/O=Example/CN=eve/emailAddress=eve@example.com");
	check("alice", "MAPFILE:/etc/m:{subject_dn!grid}",
	      "/DC=com/DC=example/O=Example/OU=Users/UID=alice/CN=Alice Example");
	check("alice", "MAPFILE:/etc/m:{subject_rfc822_name}", "alice@example.com");
	check("krb5-multi", "MAPFILE:/etc/m:{subject_principal}", "host/server.example.com@EXAMPLE.COM");
}

static void test_local_invalid_names(void **state)
{
	struct cm_identity *id = load("krb5-multi");
	char *res = NULL, *why = NULL;

	(void)state;
	assert_int_equal(expand("LOCAL:{subject_principal}", id, &res, &why), CERTMAP_ERR_NOT_FOUND);
	assert_string_equal(why, "dropped 'host/server.example.com@EXAMPLE.COM': not a valid user name. "
				 "the mapping rule gives no usable value. ");
	free(res);
	free(why);
	assert_int_equal(expand("LOCAL:-{subject_dn_component.cn}", id, &res, &why), CERTMAP_ERR_NOT_FOUND);
	free(res);
	free(why);
	cm_identity_free(id);
	id = load("alice");
	assert_int_equal(expand("LOCAL:{subject_dn}", id, &res, &why), CERTMAP_ERR_NOT_FOUND);
	assert_string_equal(why, "dropped 'CN=Alice Example,UID=alice,OU=Users,O=Example,DC=example,DC=com': "
				 "not a valid user name. the mapping rule gives no usable value. ");
	free(res);
	free(why);
	cm_identity_free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_username_valid),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_ldap_templates),
		cmocka_unit_test(test_ldap_failures),
		cmocka_unit_test(test_digests),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_local_combinations_cap),
		cmocka_unit_test(test_local_invalid_names),
	};

	return cmocka_run_group_tests_name("map", tests, NULL, NULL);
}
