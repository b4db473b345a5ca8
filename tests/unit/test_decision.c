/*
 * The whole pipeline through the public API (certmap_ctx_new + certmap_map)
 * with the suite's own CA and certificates, and local accounts from
 * nss_wrapper files written by this test (never the host's).
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

#include "answer.h"
#include "certmap.h"
#include "testlib.h"
#include "util.h"

static char *tmpdir;

static const char passwd_file[] =
	"root:x:0:0:root:/root:/bin/sh\n"
	"alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
	"bob:x:1001:1001:Bob:/home/bob:/bin/sh\n"
	"erin:x:1004:1004:Erin:/home/erin:/bin/sh\n"
	"erin2:x:1005:1004:Erin Two:/home/erin2:/bin/sh\n"
	"frank:x:1006:4242:Frank:/home/frank:/bin/sh\n"
	"ken:x:1007:1007:Ken:/home/ken:/bin/sh\n"
	"svc:x:500:500:Service:/srv:/bin/sh\n"
	"victim:x:1010:1010:Victim:/home/victim:/bin/sh\n";

static const char group_file[] =
	"root:x:0:\n"
	"wheel:x:10:alice\n"
	"alice:x:1000:\n"
	"bob:x:1001:\n"
	"erin:x:1004:\n"
	"ken:x:1007:\n"
	"victim:x:1010:\n"
	"developers:x:2000:alice,frank\n";

/* Accounts many0 .. many299, for test_candidates_over_the_limit. */
#define MANY 300

static int setup(void **state)
{
	struct cm_buf pw;
	char *p;

	(void)state;
	tmpdir = cmt_tmpdir("decision");
	cm_buf_init(&pw, 0);
	cm_buf_adds(&pw, passwd_file);
	for (int i = 0; i < MANY; i++) {
		cm_buf_printf(&pw, "many%d:x:%d:1001:Many:/home/many:/bin/sh\n", i, 3000 + i);
	}
	cm_buf_addc(&pw, '\0');
	p = cmt_write_file(tmpdir, "passwd", pw.data);
	cm_buf_free(&pw);
	setenv("NSS_WRAPPER_PASSWD", p, 1);
	free(p);
	p = cmt_write_file(tmpdir, "group", group_file);
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

/* Writes a configuration with the test CA and the given extra text. */
static struct certmap_ctx *ctx_with(const char *verify_extra, const char *domain_extra,
				    const char *rules)
{
	struct certmap_ctx *ctx = NULL;
	char *ca = cmt_cert_path("ca.pem");
	char *text = cm_asprintf(
		"verify = { ca_file = \"%s\"; %s };\n"
		"domains = ( { name = \"local\"; type = \"local\"; %s } );\n"
		"rules = ( %s );\n",
		ca, verify_extra, domain_extra, rules);
	char *path = cmt_write_file(tmpdir, "certmap.conf", text);
	char *err = NULL;
	int rc = certmap_ctx_new(path, &ctx, &err);

	if (rc != CERTMAP_OK) {
		fail_msg("config: %s", err != NULL ? err : certmap_strerror(rc));
	}
	free(ca);
	free(text);
	free(path);
	return ctx;
}

#define UPN_RULE \
	"{ name = \"upn\"; priority = 10; match = \"<EKU>clientAuth\";" \
	"  map = \"LOCAL:{subject_principal.short_name}\"; }"

static struct certmap_answer *map_req(const struct certmap_ctx *ctx, const char *cert,
				      struct certmap_request *req)
{
	struct certmap_answer *a = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	char *path = cmt_cert_path(cert);

	assert_int_equal(cmt_read_file(path, &data, &len), 0);
	req->cert = data;
	req->cert_len = len;
	req->flags = CERTMAP_REQ_TRACE;
	assert_int_equal(certmap_map(ctx, req, &a), CERTMAP_OK);
	assert_non_null(a);
	free(data);
	free(path);
	return a;
}

static struct certmap_answer *map_cert(const struct certmap_ctx *ctx, const char *cert)
{
	struct certmap_request req = { 0 };

	return map_req(ctx, cert, &req);
}

static void assert_refused(struct certmap_answer *a, enum certmap_reason reason)
{
	if (certmap_answer_reason(a) != reason) {
		fail_msg("expected %s, got %s: %s", certmap_reason_name(reason),
			 certmap_reason_name(certmap_answer_reason(a)), certmap_answer_message(a));
	}
	assert_int_not_equal(certmap_answer_verdict(a), CERTMAP_VERDICT_MAPPED);
	assert_null(certmap_answer_user(a));
	assert_int_equal(certmap_answer_n_groups(a), 0);
}

static void test_maps_alice_with_groups(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", "", UPN_RULE);
	struct certmap_answer *a = map_cert(ctx, "alice.pem");

	(void)state;
	assert_int_equal(certmap_answer_verdict(a), CERTMAP_VERDICT_MAPPED);
	assert_string_equal(certmap_answer_user(a), "alice");
	assert_int_equal(certmap_answer_uid(a), 1000);
	assert_int_equal(certmap_answer_gid(a), 1000);
	assert_string_equal(certmap_answer_home(a), "/home/alice");
	assert_string_equal(certmap_answer_rule(a), "upn");
	assert_string_equal(certmap_answer_domain(a), "local");
	assert_int_equal(certmap_answer_n_groups(a), 3);
	assert_string_equal(certmap_answer_group(a, 0), "alice");
	assert_string_equal(certmap_answer_group(a, 1), "wheel");
	assert_string_equal(certmap_answer_group(a, 2), "developers");
	assert_int_equal(certmap_answer_n_trace(a), 1);
	assert_true(certmap_answer_trace(a, 0)->matched);
	assert_int_equal(strlen(certmap_answer_cert_sha256(a)), 64);
	certmap_answer_free(a);
	/* The same through DER and an EC key. */
	a = map_cert(ctx, "alice.der");
	assert_string_equal(certmap_answer_user(a), "alice");
	certmap_answer_free(a);
	a = map_cert(ctx, "bob-ec.pem");
	assert_string_equal(certmap_answer_user(a), "bob");
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
}

/* Without CERTMAP_REQ_TRACE the answer carries no trace. */
static void test_trace_only_when_asked(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", "",
		"{ name = \"no\"; priority = 1; match = \"<ISSUER>^CN=nobody$\"; map = \"LOCAL:bob\"; }," UPN_RULE);
	struct certmap_request req = { 0 };
	unsigned char *data = NULL;
	size_t len = 0;
	char *path = cmt_cert_path("alice.pem");
	struct certmap_answer *a = NULL;
	const struct certmap_trace_entry *t;

	(void)state;
	assert_int_equal(cmt_read_file(path, &data, &len), 0);
	req.cert = data;
	req.cert_len = len;
	assert_int_equal(certmap_map(ctx, &req, &a), CERTMAP_OK);
	assert_string_equal(certmap_answer_user(a), "alice");
	assert_int_equal(certmap_answer_n_trace(a), 0);
	certmap_answer_free(a);
	/* The same certificate again, now cached, with a trace. */
	req.flags = CERTMAP_REQ_TRACE;
	assert_int_equal(certmap_map(ctx, &req, &a), CERTMAP_OK);
	assert_int_equal(certmap_answer_n_trace(a), 2);
	t = certmap_answer_trace(a, 0);
	assert_false(t->matched);
	assert_non_null(strstr(t->note, "<ISSUER> '^CN=nobody$' does not match 'CN=Certmap Test CA,O=Certmap Test,C=US'"));
	t = certmap_answer_trace(a, 1);
	assert_true(t->matched);
	assert_string_equal(t->note, "candidates: alice");
	assert_int_equal(t->n_candidates, 1);
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
	free(data);
	free(path);
}

static void test_json_answer(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", "", UPN_RULE);
	struct certmap_answer *a = map_cert(ctx, "alice.pem");
	char *json = certmap_answer_to_json(a, false);

	(void)state;
	assert_non_null(strstr(json, "\"verdict\":\"mapped\""));
	assert_non_null(strstr(json, "\"user\":\"alice\""));
	assert_non_null(strstr(json, "\"uid\":1000"));
	assert_non_null(strstr(json, "\"groups\":[\"alice\",\"wheel\",\"developers\"]"));
	assert_null(strstr(json, "\"trace\""));
	free(json);
	json = certmap_answer_to_json(a, true);
	assert_non_null(strstr(json, "\"trace\":[{\"rule\":\"upn\""));
	free(json);
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
}

/* A random string for test_json_plain: short, with quotes, backslashes,
 * slashes, control bytes, UTF-8 and bytes that are not UTF-8; or NULL. */
static char *json_rand_string(unsigned int *seed)
{
	static const char *const bits[] = { "a", "Z", "0", "\"", "\\", "/", "\b", "\f", "\n",
					    "\r", "\t", "\x01", "\x1f", "\x7f", " ", "\xc3\xa9",
					    "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc3", "\xff",
					    "\xed\xa0\x80", "\xc0\xaf" };
	size_t n = (size_t)(rand_r(seed) % 12);
	char *s;

	if (rand_r(seed) % 9 == 0) {
		return NULL;
	}
	s = calloc(1, 4 * n + 1);
	for (size_t i = 0; s != NULL && i < n; i++) {
		strcat(s, bits[(size_t)rand_r(seed) % CM_ARRAY_SIZE(bits)]);
	}
	return s;
}

/* certmap_answer_to_json without a trace writes the answer itself: the
 * text must be json-c's for every verdict, reason and string. */
static void test_json_plain(void **state)
{
	unsigned int seed = 20261130;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		struct certmap_answer *a = cm_answer_new();
		char *mine, *theirs;
		size_t groups = (size_t)(rand_r(&seed) % 4);

		assert_non_null(a);
		a->verdict = (enum certmap_verdict)(rand_r(&seed) % 4);
		a->reason = (enum certmap_reason)(rand_r(&seed) % CERTMAP_REASON__MAX);
		a->message = json_rand_string(&seed);
		a->account.name = json_rand_string(&seed);
		a->account.home = json_rand_string(&seed);
		a->account.uid = (uid_t)rand_r(&seed) * 3u;
		a->account.gid = (gid_t)rand_r(&seed) * 5u;
		a->account.no_account = rand_r(&seed) % 4 == 0;
		for (size_t i = 0; i < groups; i++) {
			char *g = json_rand_string(&seed);

			assert_int_equal(cm_strv_add(&a->account.groups, g != NULL ? g : "g"), 0);
			free(g);
		}
		a->rule = json_rand_string(&seed);
		a->domain = json_rand_string(&seed);
		snprintf(a->cert_sha256, sizeof(a->cert_sha256), "%064x", (unsigned)round);
		mine = certmap_answer_to_json(a, false);
		theirs = cm_answer_to_json_c(a, false);
		assert_non_null(mine);
		assert_non_null(theirs);
		assert_string_equal(mine, theirs);
		free(mine);
		free(theirs);
		certmap_answer_free(a);
	}
}

/* An rfc822Name "victim@example.com\0.evil" never maps to victim. */
static void test_embedded_nul_never_maps(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", "",
		"{ name = \"mail\"; priority = 1; match = \"<EKU>clientAuth\";"
		"  map = \"LOCAL:{subject_rfc822_name.short_name}\"; },"
		"{ name = \"mail2\"; priority = 2; match = \"<SAN:rfc822Name>victim\";"
		"  map = \"LOCAL:victim\"; }");
	struct certmap_answer *a = map_cert(ctx, "nul-email.pem");

	(void)state;
	assert_refused(a, CERTMAP_REASON_NO_RULE_MATCHED);
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
}

static void test_verification_refusals(void **state)
{
	static const struct {
		const char *cert;
		enum certmap_reason reason;
	} cases[] = {
		{ "expired.pem", CERTMAP_REASON_EXPIRED },
		{ "notyet.pem", CERTMAP_REASON_NOT_YET_VALID },
		{ "untrusted.pem", CERTMAP_REASON_UNTRUSTED },
		{ "serverauth.pem", CERTMAP_REASON_EKU_MISSING },
		{ "noeku.pem", CERTMAP_REASON_EKU_MISSING },
		{ "rsa1024.pem", CERTMAP_REASON_KEY_TOO_SMALL },
		{ "via-inter.pem", CERTMAP_REASON_UNTRUSTED },
	};
	struct certmap_ctx *ctx = ctx_with("", "", UPN_RULE);

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		struct certmap_answer *a = map_cert(ctx, cases[i].cert);

		assert_refused(a, cases[i].reason);
		assert_int_equal(certmap_answer_verdict(a), CERTMAP_VERDICT_REFUSED);
		certmap_answer_free(a);
	}
	certmap_ctx_free(ctx);
}

static void test_revoked_with_crl(void **state)
{
	char *crl = cmt_cert_path("crl.pem");
	char *extra = cm_asprintf("crl_file = \"%s\";", crl);
	struct certmap_ctx *ctx = ctx_with(extra, "", UPN_RULE);
	struct certmap_answer *a = map_cert(ctx, "revoked.pem");

	(void)state;
	assert_refused(a, CERTMAP_REASON_REVOKED);
	certmap_answer_free(a);
	a = map_cert(ctx, "alice.pem");
	assert_string_equal(certmap_answer_user(a), "alice");
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
	free(crl);
	free(extra);
}

static void test_chain(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", "", UPN_RULE);
	struct certmap_request req = { 0 };
	unsigned char *inter = NULL;
	size_t inter_len = 0;
	char *path = cmt_cert_path("inter-ca.pem");
	const unsigned char *chain[1];
	struct certmap_answer *a;

	(void)state;
	assert_int_equal(cmt_read_file(path, &inter, &inter_len), 0);
	chain[0] = inter;
	req.chain = chain;
	req.chain_len = &inter_len;
	req.n_chain = 1;
	a = map_req(ctx, "via-inter.pem", &req);
	assert_string_equal(certmap_answer_user(a), "ken");
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
	free(inter);
	free(path);
}

static void test_caller_verified(void **state)
{
	struct certmap_ctx *ctx = NULL;
	char *path = cmt_write_file(tmpdir, "nv.conf",
		"verify = { enabled = false; };\n"
		"domains = ( { name = \"local\"; type = \"local\"; } );\n"
		"rules = ( " UPN_RULE " );\n");
	char *err = NULL;
	struct certmap_answer *a;

	(void)state;
	assert_int_equal(certmap_ctx_new(path, &ctx, &err), CERTMAP_OK);
	/* The chain is the caller's business, EKU and key size are not. */
	a = map_cert(ctx, "untrusted.pem");
	assert_string_equal(certmap_answer_user(a), "alice");
	certmap_answer_free(a);
	a = map_cert(ctx, "serverauth.pem");
	assert_refused(a, CERTMAP_REASON_EKU_MISSING);
	certmap_answer_free(a);
	a = map_cert(ctx, "rsa1024.pem");
	assert_refused(a, CERTMAP_REASON_KEY_TOO_SMALL);
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
	free(path);
}

static void test_ambiguous_at_one_level(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", "",
		UPN_RULE ", { name = \"const\"; priority = 10; map = \"LOCAL:bob\"; }");
	struct certmap_answer *a = map_cert(ctx, "alice.pem");

	(void)state;
	assert_refused(a, CERTMAP_REASON_AMBIGUOUS);
	assert_int_equal(certmap_answer_verdict(a), CERTMAP_VERDICT_AMBIGUOUS);
	assert_non_null(strstr(certmap_answer_message(a), "alice"));
	assert_non_null(strstr(certmap_answer_message(a), "bob"));
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
}

static void test_requested_user(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", "",
		UPN_RULE ", { name = \"const\"; priority = 10; map = \"LOCAL:bob\"; }");
	struct certmap_request req = { .user = "bob" };
	struct certmap_answer *a = map_req(ctx, "alice.pem", &req);

	(void)state;
	assert_string_equal(certmap_answer_user(a), "bob");
	assert_string_equal(certmap_answer_rule(a), "const");
	certmap_answer_free(a);
	req = (struct certmap_request){ .user = "erin" };
	a = map_req(ctx, "alice.pem", &req);
	assert_refused(a, CERTMAP_REASON_NOT_CANDIDATE);
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
}

static void test_uid0_and_min_uid(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", "", UPN_RULE
		", { name = \"svc\"; priority = 10; match = \"<SUBJECT>CN=bob\"; map = \"LOCAL:svc\"; }");
	struct certmap_answer *a = map_cert(ctx, "root.pem");

	(void)state;
	assert_refused(a, CERTMAP_REASON_UID_REFUSED);
	assert_non_null(strstr(certmap_answer_message(a), "uid 0"));
	certmap_answer_free(a);
	/* bob's certificate yields bob (kept) and svc (uid 500 < min_uid). */
	a = map_cert(ctx, "bob-ec.pem");
	assert_string_equal(certmap_answer_user(a), "bob");
	certmap_answer_free(a);
	certmap_ctx_free(ctx);

	ctx = ctx_with("", "allow_uid0 = true;", UPN_RULE);
	a = map_cert(ctx, "root.pem");
	assert_string_equal(certmap_answer_user(a), "root");
	assert_int_equal(certmap_answer_uid(a), 0);
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
}

static void test_unnamed_primary_group(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", "", UPN_RULE);
	struct certmap_answer *a = map_cert(ctx, "sid.pem");

	(void)state;
	assert_string_equal(certmap_answer_user(a), "frank");
	assert_int_equal(certmap_answer_gid(a), 4242);
	assert_int_equal(certmap_answer_n_groups(a), 1);
	assert_string_equal(certmap_answer_group(a, 0), "developers");
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
}

static void test_fall_through_levels(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", "",
		"{ name = \"ghost\"; priority = 5; map = \"LOCAL:ghost\"; },"
		"{ name = \"root\"; priority = 7; map = \"LOCAL:root\"; }," UPN_RULE);
	struct certmap_answer *a = map_cert(ctx, "alice.pem");
	const struct certmap_trace_entry *t;

	(void)state;
	assert_string_equal(certmap_answer_user(a), "alice");
	assert_string_equal(certmap_answer_rule(a), "upn");
	assert_int_equal(certmap_answer_n_trace(a), 3);
	t = certmap_answer_trace(a, 0);
	assert_string_equal(t->rule, "ghost");
	assert_int_equal(t->n_candidates, 1);
	assert_string_equal(t->candidates[0].status, "no_account");
	t = certmap_answer_trace(a, 1);
	assert_string_equal(t->candidates[0].status, "uid_refused");
	certmap_answer_free(a);
	certmap_ctx_free(ctx);

	/* Every candidate dropped: the best-ranked one's reason. */
	ctx = ctx_with("", "",
		"{ name = \"ghost\"; priority = 5; map = \"LOCAL:ghost\"; },"
		"{ name = \"root\"; priority = 7; map = \"LOCAL:root\"; }");
	a = map_cert(ctx, "alice.pem");
	assert_refused(a, CERTMAP_REASON_NO_ACCOUNT);
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
}

/* A rule that would give more names than certmap weighs does not let a
 * decision rest on part of them, even when another rule of its level
 * gives one account. */
static void test_too_many_names(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", "",
		"{ name = \"many\"; priority = 1; "
		"  map = \"LOCAL:{subject_rfc822_name.short_name}{subject_dns_name.short_name}\"; },"
		"{ name = \"one\"; priority = 1; map = \"LOCAL:bob\"; }");
	struct certmap_answer *a = map_cert(ctx, "manysan.pem");

	(void)state;
	assert_refused(a, CERTMAP_REASON_AMBIGUOUS);
	assert_non_null(strstr(certmap_answer_message(a), "more candidates than certmap weighs"));
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
}

/* One rule giving MANY (300) accounts: the level grows to the 256 it weighs
 * and the decision refuses rather than pick among part of them. */
static void test_candidates_over_the_limit(void **state)
{
	struct cm_buf map;
	char *map_path, *rules;
	struct certmap_ctx *ctx;
	struct certmap_answer *a;

	(void)state;
	cm_buf_init(&map, 0);
	for (int i = 0; i < MANY; i++) {
		cm_buf_printf(&map, "\"/DC=com/DC=example/O=Example/CN=bob\" many%d\n", i);
	}
	cm_buf_addc(&map, '\0');
	map_path = cmt_write_file(tmpdir, "many.map", map.data);
	rules = cm_asprintf("{ name = \"grid\"; map = \"MAPFILE:%s:{subject_dn!grid}\"; }", map_path);
	ctx = ctx_with("", "", rules);
	a = map_cert(ctx, "bob-ec.pem");
	assert_refused(a, CERTMAP_REASON_AMBIGUOUS);
	assert_non_null(strstr(certmap_answer_message(a), "more candidates than certmap weighs"));
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
	free(rules);
	free(map_path);
	cm_buf_free(&map);
}

static void test_no_rule_matched(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", "",
		"{ name = \"other\"; match = \"<ISSUER>^CN=Somebody Else$\"; map = \"LOCAL:alice\"; }");
	struct certmap_answer *a = map_cert(ctx, "alice.pem");

	(void)state;
	assert_refused(a, CERTMAP_REASON_NO_RULE_MATCHED);
	assert_false(certmap_answer_trace(a, 0)->matched);
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
}

static void test_hints_narrow(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", "",
		"{ name = \"upn\"; priority = 10; map = \"LOCAL:{subject_nt_principal.short_name}\"; }");
	struct certmap_request req = { 0 };
	struct certmap_answer *a = map_req(ctx, "multisan.pem", &req);

	(void)state;
	assert_refused(a, CERTMAP_REASON_AMBIGUOUS);
	certmap_answer_free(a);
	req = (struct certmap_request){ .upn_hint = "erin2@EXAMPLE.COM" };
	a = map_req(ctx, "multisan.pem", &req);
	assert_string_equal(certmap_answer_user(a), "erin2");
	certmap_answer_free(a);
	req = (struct certmap_request){ .upn_hint = "erin@EXAMPLE.COM", .domain_hint = "LOCAL" };
	a = map_req(ctx, "multisan.pem", &req);
	assert_string_equal(certmap_answer_user(a), "erin");
	certmap_answer_free(a);
	/* A requested name is decided without the hint (DESIGN.md step 6). */
	req = (struct certmap_request){ .user = "erin", .upn_hint = "erin2@EXAMPLE.COM" };
	a = map_req(ctx, "multisan.pem", &req);
	assert_string_equal(certmap_answer_user(a), "erin");
	certmap_answer_free(a);
	/* A hint never adds a candidate. */
	req = (struct certmap_request){ .upn_hint = "alice@EXAMPLE.COM" };
	a = map_req(ctx, "multisan.pem", &req);
	assert_refused(a, CERTMAP_REASON_NOT_CANDIDATE);
	certmap_answer_free(a);
	req = (struct certmap_request){ .upn_hint = "erin2@EXAMPLE.COM", .domain_hint = "OTHER" };
	a = map_req(ctx, "multisan.pem", &req);
	assert_refused(a, CERTMAP_REASON_NOT_CANDIDATE);
	certmap_answer_free(a);
	req = (struct certmap_request){ .upn_hint = "erin\n@EXAMPLE.COM" };
	a = map_req(ctx, "multisan.pem", &req);
	assert_refused(a, CERTMAP_REASON_HINT_INVALID);
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
}

static void test_invalid_certificate(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", "", UPN_RULE);
	struct certmap_request req = { .cert = (const unsigned char *)"garbage", .cert_len = 7 };
	struct certmap_answer *a = NULL;

	(void)state;
	assert_int_equal(certmap_map(ctx, &req, &a), CERTMAP_OK);
	assert_refused(a, CERTMAP_REASON_INVALID_CERTIFICATE);
	certmap_answer_free(a);
	assert_int_equal(certmap_map(ctx, NULL, &a), CERTMAP_ERR_INVALID_ARG);
	assert_null(a);
	certmap_ctx_free(ctx);
}

static void test_mapfile_rule(void **state)
{
	char *map = cmt_write_file(tmpdir, "users.map",
		"# grid-mapfile style keys\n"
		"\"/O=Example/CN=ken\" ken\n"
		"\"/DC=com/DC=example/O=Example/CN=bob\" bob\n");
	char *rules = cm_asprintf("{ name = \"grid\"; map = \"MAPFILE:%s:{subject_dn!grid}\"; }", map);
	struct certmap_ctx *ctx = ctx_with("", "", rules);
	struct certmap_answer *a = map_cert(ctx, "bob-ec.pem");

	(void)state;
	assert_string_equal(certmap_answer_user(a), "bob");
	assert_string_equal(certmap_answer_rule(a), "grid");
	certmap_answer_free(a);
	a = map_cert(ctx, "alice.pem");
	assert_refused(a, CERTMAP_REASON_NO_RULE_MATCHED);
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
	free(rules);
	free(map);
}

static void test_config_errors(void **state)
{
	struct certmap_ctx *ctx = NULL;
	char *err = NULL;
	char *path = cmt_write_file(tmpdir, "bad.conf", "verify = { ca_file = \"/nonexistent/ca.pem\"; };\n"
		"domains = ( { name = \"local\"; type = \"local\"; } );\n"
		"rules = ( " UPN_RULE " );\n");

	(void)state;
	assert_int_not_equal(certmap_ctx_new(path, &ctx, &err), CERTMAP_OK);
	assert_null(ctx);
	assert_non_null(err);
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));
	free(err);
	free(path);
}


/* A domain of type certificate, next to the local one (ctx_with closes
 * the local domain's group early and opens this one). */
#define CERT_DOMAIN \
	"}, { name = \"apps\"; type = \"certificate\";" \
	"  group_from = [ \"{subject_dn_component.O}\", \"{subject_dn_component.OU}\"," \
	"                 \"{subject_uri}\" ];" \
	"  group_map = ( { value = \"Example\"; group = \"example\"; }," \
	"                { value = \"One\"; group = \"team-one\"; }," \
	"                { value = \"Two\"; group = \"team-two\"; }," \
	"                { prefix = \"https://all.example.com/\"; group = \"all\"; } );"
#define CN_TO_APPS \
	"{ name = \"cn\"; priority = 10; match = \"<SUBJECT>.*\";" \
	"  map = \"LOCAL:{subject_dn_component.CN}\"; domains = [\"apps\"]; }"

static bool has_group(const struct certmap_answer *a, const char *g)
{
	for (size_t i = 0; i < certmap_answer_n_groups(a); i++) {
		if (strcmp(certmap_answer_group(a, i), g) == 0) {
			return true;
		}
	}
	return false;
}

/* Name from the rule, groups only through group_map, no uid/gid/home. */
static void test_certdom_identity(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", CERT_DOMAIN, CN_TO_APPS);
	struct certmap_answer *a = map_cert(ctx, "multi-ou.pem");
	const struct certmap_trace_entry *t;
	char *json;

	(void)state;
	assert_int_equal(certmap_answer_verdict(a), CERTMAP_VERDICT_MAPPED);
	assert_string_equal(certmap_answer_user(a), "mallory");
	assert_string_equal(certmap_answer_domain(a), "apps");
	assert_false(certmap_answer_has_account(a));
	assert_int_equal(certmap_answer_uid(a), (uid_t)-1);
	assert_int_equal(certmap_answer_gid(a), (gid_t)-1);
	assert_null(certmap_answer_home(a));
	assert_int_equal(certmap_answer_n_groups(a), 3);
	assert_true(has_group(a, "example") && has_group(a, "team-one") && has_group(a, "team-two"));
	assert_false(has_group(a, "Three"));
	/* OU=Three is not in group_map: dropped, and the trace says so. */
	t = certmap_answer_trace(a, 0);
	assert_non_null(t);
	assert_int_equal(t->n_candidates, 1);
	assert_non_null(strstr(t->candidates[0].note, "\"Three\""));
	json = certmap_answer_to_json(a, false);
	assert_non_null(json);
	assert_non_null(strstr(json, "mallory"));
	assert_null(strstr(json, "\"uid\""));
	assert_null(strstr(json, "\"gid\""));
	assert_null(strstr(json, "\"home\""));
	free(json);
	certmap_answer_free(a);
	/* A SAN URI by prefix. */
	a = map_cert(ctx, "allsan.pem");
	assert_int_equal(certmap_answer_verdict(a), CERTMAP_VERDICT_MAPPED);
	assert_true(has_group(a, "all") && has_group(a, "example"));
	assert_int_equal(certmap_answer_n_groups(a), 2);
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
}

/* A rule without domains never reaches a certificate domain (it would
 * accept any name); a local account keeps its uid. */
static void test_certdom_needs_naming(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", CERT_DOMAIN, UPN_RULE);
	struct certmap_answer *a = map_cert(ctx, "alice.pem");

	(void)state;
	assert_int_equal(certmap_answer_verdict(a), CERTMAP_VERDICT_MAPPED);
	assert_string_equal(certmap_answer_domain(a), "local");
	assert_true(certmap_answer_has_account(a));
	assert_int_equal(certmap_answer_uid(a), 1000);
	certmap_answer_free(a);
	/* multi-ou.pem's UPN names mallory: no local account, and apps,
	 * which would take any name, is not asked. */
	a = map_cert(ctx, "multi-ou.pem");
	assert_int_not_equal(certmap_answer_verdict(a), CERTMAP_VERDICT_MAPPED);
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
}

/* Names go through the LOCAL: checks: a URI (':' and '/') is no user
 * name, so it gives no identity in a certificate domain either. */
static void test_certdom_name_checked(void **state)
{
	struct certmap_ctx *ctx = ctx_with("", CERT_DOMAIN,
					   "{ name = \"uri\"; map = \"LOCAL:{subject_uri}\";"
					   "  domains = [\"apps\"]; }");
	struct certmap_answer *a = map_cert(ctx, "allsan.pem");

	(void)state;
	assert_refused(a, CERTMAP_REASON_NO_RULE_MATCHED);
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_alice_with_groups),
		cmocka_unit_test(test_trace_only_when_asked),
		cmocka_unit_test(test_json_answer),
		cmocka_unit_test(test_embedded_nul_never_maps),
		cmocka_unit_test(test_verification_refusals),
		cmocka_unit_test(test_revoked_with_crl),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_caller_verified),
		cmocka_unit_test(test_ambiguous_at_one_level),
		cmocka_unit_test(test_requested_user),
		cmocka_unit_test(test_uid0_and_min_uid),
		cmocka_unit_test(test_unnamed_primary_group),
		cmocka_unit_test(test_fall_through_levels),
		cmocka_unit_test(test_candidates_over_the_limit),
	    cmocka_unit_test(test_too_many_names),
		cmocka_unit_test(test_no_rule_matched),
		cmocka_unit_test(test_hints_narrow),
		cmocka_unit_test(test_invalid_certificate),
		cmocka_unit_test(test_mapfile_rule),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_certdom_identity),
		cmocka_unit_test(test_certdom_needs_naming),
		cmocka_unit_test(test_certdom_name_checked),
		cmocka_unit_test(test_json_plain),
	};

	return cmocka_run_group_tests_name("decision", tests, setup, teardown);
}
