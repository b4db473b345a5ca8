/* Unit tests for mapper/conf.c: schema, defaults and error messages. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "certmap.h"
#include "conf.h"
#include "testlib.h"

#define GOOD_DOMAINS "domains = ( { name = \"local\"; type = \"local\"; } );\n"
#define GOOD_RULES \
	"rules = ( { name = \"upn\"; priority = 10; match = \"<EKU>clientAuth\";\n" \
	"            map = \"LOCAL:{subject_principal.short_name}\"; } );\n"
#define NO_VERIFY "verify = { enabled = false; };\n"

static int parse(const char *text, struct cm_config **cfg, char **err)
{
	return cm_config_parse(text, strlen(text), "/etc/certmap/t.conf", cfg, err);
}

static void test_minimal_defaults(void **state)
{
	struct cm_config *cfg = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(parse(NO_VERIFY GOOD_DOMAINS GOOD_RULES, &cfg, &err), CERTMAP_OK);
	assert_null(err);
	assert_false(cfg->verify.enabled);
	assert_int_equal(cfg->verify.min_rsa_bits, 2048);
	assert_int_equal(cfg->verify.min_ec_bits, 256);
	assert_int_equal(cfg->verify.require_eku.n, 1);
	assert_string_equal(cfg->verify.require_eku.v[0], "clientAuth");
	assert_int_equal(cfg->n_domains, 1);
	assert_int_equal(cfg->domains[0].min_uid, 1000);
	assert_false(cfg->domains[0].allow_uid0);
	assert_int_equal(cfg->n_rules, 1);
	assert_int_equal(cfg->rules[0].n_domains, 1);
	assert_ptr_equal(cfg->rules[0].domains[0], &cfg->domains[0]);
	assert_string_equal(cfg->service.socket, "/run/certmapd/socket");
	assert_string_equal(cfg->service.user, "certmapd");
	assert_int_equal(cfg->service.n_allowed_uids, 1);
	assert_int_equal(cfg->service.allowed_uids[0], 0);
	assert_int_equal(cfg->service.max_connections, 1024);
	assert_int_equal(cfg->service.max_connections_per_uid, 256);
	assert_int_equal(cfg->service.timeout, 5);
	assert_int_equal(cfg->service.cache_ttl, 300);
	assert_int_equal(cfg->service.cache_size, 10000);
	cm_config_free(cfg);
}

static void test_relative_paths_and_service(void **state)
{
	struct cm_config *cfg = NULL;
	char *err = NULL;
	const char *text =
		"verify = { ca_file = \"ca.pem\"; crl_file = \"/abs/crl.pem\";\n"
		"           require_eku = [\"clientAuth\", \"1.2.3.4\"]; min_rsa_bits = 3072; };\n"
		GOOD_DOMAINS GOOD_RULES
		"service = { socket = \"/tmp/s\"; user = \"root\"; allowed_uids = [0, 1000];\n"
		"            allowed_gids = [42]; timeout = 7; cache_ttl = 0; };\n";

	(void)state;
	assert_int_equal(parse(text, &cfg, &err), CERTMAP_OK);
	assert_true(cfg->verify.enabled);
	assert_string_equal(cfg->verify.ca_file, "/etc/certmap/ca.pem");
	assert_string_equal(cfg->verify.crl_file, "/abs/crl.pem");
	assert_int_equal(cfg->verify.require_eku.n, 2);
	assert_int_equal(cfg->verify.min_rsa_bits, 3072);
	assert_int_equal(cfg->service.n_allowed_uids, 2);
	assert_int_equal(cfg->service.allowed_uids[1], 1000);
	assert_int_equal(cfg->service.n_allowed_gids, 1);
	assert_int_equal(cfg->service.allowed_gids[0], 42);
	assert_int_equal(cfg->service.timeout, 7);
	assert_int_equal(cfg->service.cache_ttl, 0);
	cm_config_free(cfg);
}

static void test_priority_order_is_stable(void **state)
{
	struct cm_config *cfg = NULL;
	char *err = NULL;
	const char *text = NO_VERIFY GOOD_DOMAINS
		"rules = (\n"
		" { name = \"c\"; priority = 20; map = \"LOCAL:c\"; },\n"
		" { name = \"a\"; priority = 10; map = \"LOCAL:a\"; },\n"
		" { name = \"d\"; priority = 20; map = \"LOCAL:d\"; },\n"
		" { name = \"b\"; priority = 10; map = \"LOCAL:b\"; },\n"
		" { name = \"z\"; priority = 0; map = \"LOCAL:z\"; }\n"
		");\n";

	(void)state;
	assert_int_equal(parse(text, &cfg, &err), CERTMAP_OK);
	assert_int_equal(cfg->n_rules, 5);
	assert_string_equal(cfg->rules[0].name, "z");
	assert_string_equal(cfg->rules[1].name, "a");
	assert_string_equal(cfg->rules[2].name, "b");
	assert_string_equal(cfg->rules[3].name, "c");
	assert_string_equal(cfg->rules[4].name, "d");
	cm_config_free(cfg);
}

/* Every error is reported, each with file, line and setting. */
static void test_errors_name_file_line_setting(void **state)
{
	struct cm_config *cfg = NULL;
	char *err = NULL;
	const char *text =
		"verify = { enabled = false; colour = \"blue\"; };\n"   /* line 1 */
		"domains = ( { name = \"local\"; type = \"local\"; min_uid = -1; } );\n"
		"rules = (\n"
		" { name = \"x\"; match = \"<NOPE>foo\"; map = \"LOCAL:x\"; },\n" /* line 4 */
		" { name = \"y\"; map = \"LOCAL:y\"; domains = [\"nowhere\"]; },\n"
		" { name = \"x\"; map = 42; }\n"
		");\n"
		"servce = { };\n";

	(void)state;
	assert_int_equal(parse(text, &cfg, &err), CERTMAP_ERR_CONFIG);
	assert_null(cfg);
	assert_non_null(err);
	assert_non_null(strstr(err, "/etc/certmap/t.conf:1: verify.colour: unknown setting"));
	assert_non_null(strstr(err, "/etc/certmap/t.conf:2: domains[0].min_uid: must be between 0 and"));
	assert_non_null(strstr(err, "/etc/certmap/t.conf:4: rules[0].match: "));
	assert_non_null(strstr(err, "rules[1].domains: unknown domain \"nowhere\""));
	assert_non_null(strstr(err, "rules[2].map: must be a string"));
	assert_non_null(strstr(err, "rules[2].name: rule \"x\" is defined twice"));
	assert_non_null(strstr(err, ":8: servce: unknown setting"));
	free(err);
}

static void test_syntax_error(void **state)
{
	struct cm_config *cfg = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(parse("verify = { enabled = false; \n domains = (", &cfg, &err),
			 CERTMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "/etc/certmap/t.conf:2: "));
	free(err);
}

static void test_verify_needs_anchor(void **state)
{
	struct cm_config *cfg = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(parse(GOOD_DOMAINS GOOD_RULES, &cfg, &err), CERTMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "no trust anchors"));
	free(err);
	err = NULL;
	assert_int_equal(parse("verify = { enabled = true; };\n" GOOD_DOMAINS GOOD_RULES, &cfg, &err),
			 CERTMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "verify: enabled = true needs ca_file or ca_dir"));
	free(err);
}

static void test_ldap_rule_needs_ldap_domain(void **state)
{
	struct cm_config *cfg = NULL;
	char *err = NULL;
	const char *text = NO_VERIFY GOOD_DOMAINS
		"rules = ( { name = \"dir\"; map = \"LDAP:(userCertificate;binary={cert!bin})\"; } );\n";

	(void)state;
	assert_int_equal(parse(text, &cfg, &err), CERTMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "rules[0].map: an LDAP: mapping rule needs ldap domains"));
	free(err);
}

static void test_limits(void **state)
{
	struct cm_config *cfg = NULL;
	char *err = NULL;
	size_t big = CM_CONFIG_MAX_SIZE + 1;
	char *text = malloc(big + 1);

	(void)state;
	memset(text, ' ', big);
	text[big] = '\0';
	assert_int_equal(cm_config_parse(text, big, "big", &cfg, &err), CERTMAP_ERR_TOO_LARGE);
	free(err);
	err = NULL;
	assert_int_equal(cm_config_parse("a = 1;\0b = 2;", 13, "nul", &cfg, &err), CERTMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "NUL"));
	free(err);
	free(text);
	err = NULL;
	assert_int_equal(cm_config_load("/nonexistent/certmap.conf", &cfg, &err), CERTMAP_ERR_IO);
	assert_string_equal(err, "/nonexistent/certmap.conf: not found "
				 "(the configuration file does not exist)");
	free(err);
}

/* libconfig 1.5 reads 4294967296 into an int as 0: every integer is read as
 * 64-bit and range-checked, so a uid 0 never appears by wrap-around. */
static void test_integers_do_not_wrap(void **state)
{
	struct cm_config *cfg = NULL;
	char *err = NULL;
	const char *text = NO_VERIFY
		"domains = ( { name = \"local\"; type = \"local\"; min_uid = 4294967296; } );\n"
		"rules = ( { name = \"upn\"; priority = 4294967296;\n"
		"            map = \"LOCAL:{subject_principal.short_name}\"; } );\n"
		"service = { allowed_uids = [4294967296]; allowed_gids = [5, 0x100000000];\n"
		"            cache_ttl = -4294967296; timeout = 99999999999999999999; };\n";

	(void)state;
	assert_int_equal(parse(text, &cfg, &err), CERTMAP_ERR_CONFIG);
	assert_null(cfg);
	/* The number that does not fit in 64 bits stops before libconfig. */
	assert_string_equal(err, "/etc/certmap/t.conf:6: the number 99999999999999999999 "
				 "does not fit in 64 bits");
	free(err);
	err = NULL;
	text = NO_VERIFY
		"domains = ( { name = \"local\"; type = \"local\"; min_uid = 4294967296; } );\n"
		"rules = ( { name = \"upn\"; priority = 4294967296;\n"
		"            map = \"LOCAL:{subject_principal.short_name}\"; } );\n"
		"service = { allowed_uids = [4294967296]; allowed_gids = [5, 0x100000000];\n"
		"            cache_ttl = -4294967296; timeout = 2147483648; };\n";
	assert_int_equal(parse(text, &cfg, &err), CERTMAP_ERR_CONFIG);
	assert_string_equal(err,
		"/etc/certmap/t.conf:2: domains[0].min_uid: must be between 0 and 4294967294\n"
		"/etc/certmap/t.conf:3: rules[0].priority: must be between 0 and 2147483647\n"
		"/etc/certmap/t.conf:5: service.allowed_uids[0]: must be between 0 and 4294967294\n"
		"/etc/certmap/t.conf:5: service.allowed_gids[1]: must be between 0 and 4294967294\n"
		"/etc/certmap/t.conf:6: service.timeout: must be between 1 and 3600\n"
		"/etc/certmap/t.conf:6: service.cache_ttl: must be between 0 and 86400");
	free(err);
	err = NULL;
	/* Large values that fit are read exactly, in decimal and hex. */
	text = NO_VERIFY
		"domains = ( { name = \"local\"; type = \"local\"; min_uid = 0xFFFFFFFE; },\n"
		"            { name = \"other\"; type = \"local\"; min_uid = 2147483648; } );\n"
		"rules = ( { name = \"upn\"; priority = 7L;\n"
		"            map = \"LOCAL:{subject_principal.short_name}\"; } );\n"
		"service = { allowed_uids = [0, 3000000000]; cache_ttl = 1.5e3; };\n";
	assert_int_equal(parse(text, &cfg, &err), CERTMAP_ERR_CONFIG);
	/* ... and a float is still not an integer. */
	assert_string_equal(err, "/etc/certmap/t.conf:6: service.cache_ttl: must be an integer");
	free(err);
	err = NULL;
	text = NO_VERIFY
		"domains = ( { name = \"local\"; type = \"local\"; min_uid = 0xFFFFFFFE; },\n"
		"            { name = \"other\"; type = \"local\"; min_uid = 2147483648; } );\n"
		"rules = ( { name = \"upn\"; priority = 7L;\n"
		"            map = \"LOCAL:{subject_principal.short_name}\"; } );\n"
		"service = { allowed_uids = [0, 3000000000]; /* 42 */ user = \"u1234567890123\"; };\n";
	assert_int_equal(parse(text, &cfg, &err), CERTMAP_OK);
	assert_int_equal(cfg->domains[0].min_uid, 4294967294u);
	assert_int_equal(cfg->domains[1].min_uid, 2147483648u);
	assert_int_equal(cfg->rules[0].priority, 7);
	assert_int_equal(cfg->service.n_allowed_uids, 2);
	assert_int_equal(cfg->service.allowed_uids[1], 3000000000u);
	assert_string_equal(cfg->service.user, "u1234567890123");
	cm_config_free(cfg);
}

/* libconfig 1.5 would open an @include itself, with no checks. */
static void test_include_refused(void **state)
{
	struct cm_config *cfg = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(parse(NO_VERIFY GOOD_DOMAINS "@include \"/dev/zero\"\n" GOOD_RULES,
			       &cfg, &err), CERTMAP_ERR_CONFIG);
	assert_string_equal(err, "/etc/certmap/t.conf:3: @include is not supported: certmap "
				 "reads exactly one configuration file (see certmap.conf(5), "
				 "INCLUDES)");
	free(err);
	err = NULL;
	/* In a comment or a string it is text. */
	assert_int_equal(parse(NO_VERIFY GOOD_DOMAINS "# @include \"x\"\n/* @include \"y\" */\n"
			       "rules = ( { name = \"@include \\\" @include\"; match = \"<SUBJECT>x\";\n"
			       "  map = \"LOCAL:a\"; } );\n", &cfg, &err), CERTMAP_OK);
	assert_string_equal(cfg->rules[0].name, "@include \" @include");
	cm_config_free(cfg);
}

/* Errors about a missing top-level setting have no line (not ":0:"). */
static void test_missing_setting_has_no_line_zero(void **state)
{
	struct cm_config *cfg = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(parse("", &cfg, &err), CERTMAP_ERR_CONFIG);
	assert_null(strstr(err, ":0:"));
	assert_non_null(strstr(err, "/etc/certmap/t.conf: verify: no trust anchors"));
	assert_non_null(strstr(err, "/etc/certmap/t.conf: domains: is required"));
	assert_non_null(strstr(err, "/etc/certmap/t.conf: rules: is required"));
	free(err);
}

/* The configuration file itself goes through cm_file_read. */
static void test_config_file_checks(void **state)
{
	char *dir = cmt_tmpdir("conf-file");
	char *path = cmt_write_file(dir, "certmap.conf", NO_VERIFY GOOD_DOMAINS GOOD_RULES);
	char *fifo = cm_asprintf("%s/fifo.conf", dir);
	struct cm_config *cfg = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(cm_config_load(path, &cfg, &err), CERTMAP_OK);
	cm_config_free(cfg);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(cm_config_load(path, &cfg, &err), CERTMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "the configuration file is writable by group and others"));
	assert_non_null(strstr(err, "chmod go-w"));
	free(err);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10); /* the old code blocked here forever */
	assert_int_equal(cm_config_load(fifo, &cfg, &err), CERTMAP_ERR_CONFIG);
	alarm(0);
	assert_non_null(strstr(err, "is a FIFO (named pipe); it must be a regular file"));
	free(err);
	free(fifo);
	free(path);
	free(dir);
}

/* Errors of the verifier carry the file:line: of their setting. */
static void test_verify_errors_name_file_and_line(void **state)
{
	char *dir = cmt_tmpdir("conf-verify");
	char *crl = cmt_cert_path("ca.pem");
	char *text = cm_asprintf("# comment\nverify = {\n  crl_file = \"%s\";\n"
				 "  ca_file = \"/nonexistent/ca.pem\"; };\n" GOOD_DOMAINS GOOD_RULES,
				 crl);
	char *path = cmt_write_file(dir, "certmap.conf", text);
	struct certmap_ctx *ctx = NULL;
	char *err = NULL, *want;

	(void)state;
	assert_int_equal(certmap_ctx_new(path, &ctx, &err), CERTMAP_ERR_CONFIG);
	want = cm_asprintf("%s:4: verify.ca_file: /nonexistent/ca.pem: not found (the CA file "
			   "does not exist)", path);
	assert_string_equal(err, want);
	free(want);
	free(err);
	free(text);
	free(path);
	/* A certificate given as the CRL file. */
	text = cm_asprintf("verify = { ca_file = \"%s\";\n crl_file = \"%s\"; };\n"
			   GOOD_DOMAINS GOOD_RULES, crl, crl);
	path = cmt_write_file(dir, "certmap2.conf", text);
	assert_int_equal(certmap_ctx_new(path, &ctx, &err), CERTMAP_ERR_CONFIG);
	want = cm_asprintf("%s:2: verify.crl_file: %s: not a PEM CRL file: it holds a "
			   "CERTIFICATE and no X509 CRL", path, crl);
	assert_string_equal(err, want);
	free(want);
	free(err);
	free(text);
	free(path);
	free(crl);
	free(dir);
}

static void test_missing_mapfile(void **state)
{
	struct cm_config *cfg = NULL;
	char *err = NULL;
	const char *text = NO_VERIFY GOOD_DOMAINS
		"rules = ( { name = \"mf\"; map = \"MAPFILE:/nonexistent/users.map:{subject_dn}\"; } );\n";

	(void)state;
	assert_int_equal(parse(text, &cfg, &err), CERTMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "rules[0].map: "));
	assert_non_null(strstr(err, "/nonexistent/users.map"));
	free(err);
}


/* Certificate domains: the allow-list is checked when loading. */
static void test_certdom_errors(void **state)
{
	struct cm_config *cfg = NULL;
	char *err = NULL;
	const char *text = NO_VERIFY
		"domains = ( { name = \"apps\"; type = \"certificate\"; min_uid = 5;"
		"  group_from = [ \"{subject_dn_component.OU}\", \"no template\", \"{nonsense}\" ];"
		"  group_map = ( { value = \"A\"; group = \"a\"; }, { value = \"A\"; group = \"b\"; },"
		"                { value = \"B\"; group = \"bad:name\"; },"
		"                { value = \"C\"; prefix = \"C\"; group = \"c\"; }, { group = \"d\"; } ); },"
		"  { name = \"apps2\"; type = \"certificate\"; group_from = [ \"{subject_dn_component.O}\" ]; } );\n"
		"rules = ( { name = \"dir\"; map = \"LDAP:(userCertificate;binary={cert!bin})\"; domains = [\"apps\"]; } );\n";

	(void)state;
	assert_int_equal(parse(text, &cfg, &err), CERTMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "min_uid: certificate domains have no accounts"));
	assert_non_null(strstr(err, "group_from[1]: must be a template"));
	assert_non_null(strstr(err, "group_from[2]: unknown template"));
	assert_non_null(strstr(err, "\"A\" is mapped twice"));
	assert_non_null(strstr(err, "\"bad:name\" is not a valid group name"));
	assert_non_null(strstr(err, "set value or prefix, not both"));
	assert_non_null(strstr(err, "value: missing"));
	assert_non_null(strstr(err, "group_from needs group_map"));
	assert_non_null(strstr(err, "\"apps\" is a certificate domain; use LOCAL: or MAPFILE:"));
	free(err);
	/* and a good one loads */
	assert_int_equal(parse(NO_VERIFY
			       "domains = ( { name = \"apps\"; type = \"certificate\";"
			       "  group_from = [ \"{subject_dn_component.OU}\", \"{subject_uri}\" ];"
			       "  group_map = ( { value = \"A\"; group = \"a\"; },"
			       "                { prefix = \"spiffe://x/\"; group = \"x\"; } ); } );\n"
			       "rules = ( { name = \"cn\"; map = \"LOCAL:{subject_dn_component.CN}\";"
			       "  domains = [\"apps\"]; } );\n", &cfg, &err), CERTMAP_OK);
	assert_int_equal(cfg->domains[0].type, CM_DOMAIN_CERT);
	cm_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_relative_paths_and_service),
		cmocka_unit_test(test_priority_order_is_stable),
		cmocka_unit_test(test_errors_name_file_line_setting),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_verify_needs_anchor),
		cmocka_unit_test(test_ldap_rule_needs_ldap_domain),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_missing_mapfile),
		cmocka_unit_test(test_integers_do_not_wrap),
		cmocka_unit_test(test_include_refused),
		cmocka_unit_test(test_missing_setting_has_no_line_zero),
		cmocka_unit_test(test_config_file_checks),
		cmocka_unit_test(test_verify_errors_name_file_and_line),
		cmocka_unit_test(test_certdom_errors),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
