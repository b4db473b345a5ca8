/* Unit tests for mapper/conf.c: schema, defaults and error messages. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
