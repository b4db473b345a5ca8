/*
 * Unit tests of the protocol client's connection checks (client/client.c):
 * the error codes and messages for a missing socket, a socket nobody
 * listens on, and a listener that is not trusted (SO_PEERCRED), plus the
 * answer JSON that carries only valid UTF-8 (mapper/answer_json.c).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "answer.h"
#include "answer_parse.h"
#include "certmap_client.h"
#include "map_frame.h"
#include "protocol.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/cm-client-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/sock", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A socket bound at path; listening unless listen_too is false. */
static int bound_socket(const char *path, bool listen_too)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    (listen_too && listen(fd, 4) != 0)) {
		fail_msg("cannot bind %s", path);
	}
	return fd;
}

static void test_no_socket(void **state)
{
	struct fixture *f = *state;
	struct certmap_client_options o = { .path = f->path, .timeout_ms = 1000 };
	struct certmap_client *cl = NULL;
	char *msg = NULL;

	assert_int_equal(certmap_client_open(&o, &cl, &msg), CERTMAP_ERR_NO_SERVICE);
	assert_null(cl);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "no socket at"));
	assert_non_null(strstr(msg, "is certmapd running?"));
	free(msg);
	/* The 0.1.0 call keeps its code. */
	assert_int_equal(certmap_client_connect(f->path, 1000, &cl), CERTMAP_ERR_BACKEND);
	assert_null(cl);
}

static void test_nobody_listens(void **state)
{
	struct fixture *f = *state;
	struct certmap_client_options o = { .path = f->path, .timeout_ms = 1000 };
	struct certmap_client *cl = NULL;
	char *msg = NULL;
	int fd = bound_socket(f->path, false);

	close(fd); /* the file stays, nobody listens */
	assert_int_equal(certmap_client_open(&o, &cl, &msg), CERTMAP_ERR_NO_SERVICE);
	assert_non_null(strstr(msg, "nothing listens on"));
	free(msg);
}

static void test_own_uid_trusted(void **state)
{
	struct fixture *f = *state;
	struct certmap_client_options o = { .path = f->path, .timeout_ms = 1000 };
	struct certmap_client *cl = NULL;
	int fd = bound_socket(f->path, true);

	assert_int_equal(certmap_client_open(&o, &cl, NULL), CERTMAP_OK);
	certmap_client_free(cl);
	close(fd);
}

static void test_unknown_server_user(void **state)
{
	struct fixture *f = *state;
	struct certmap_client_options o = { .path = f->path, .server_user = "no-such-user-xyz" };
	struct certmap_client *cl = NULL;
	char *msg = NULL;

	assert_int_equal(certmap_client_open(&o, &cl, &msg), CERTMAP_ERR_INVALID_ARG);
	assert_non_null(strstr(msg, "no-such-user-xyz"));
	free(msg);
}

/*
 * A listener that is neither root, this uid nor the service user: bound
 * as root, then listening as uid 65534 (SO_PEERCRED reports the uid at
 * listen()). Needs root to change uid; skipped otherwise.
 */
static void test_untrusted_listener(void **state)
{
	struct fixture *f = *state;
	struct certmap_client_options o = { .path = f->path, .timeout_ms = 2000 };
	struct certmap_client *cl = NULL;
	int ready[2], st;
	char *msg = NULL;
	char c;
	pid_t pid;

	if (geteuid() != 0) {
		skip();
	}
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = bound_socket(f->path, false);

		if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0 ||
		    listen(fd, 4) != 0) {
			_exit(1);
		}
		(void)!write(ready[1], "x", 1);
		sleep(10);
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(certmap_client_open(&o, &cl, &msg), CERTMAP_ERR_UNTRUSTED_PEER);
	assert_non_null(strstr(msg, "runs as uid 65534"));
	free(msg);
	msg = NULL;
	assert_int_equal(certmap_client_connect(f->path, 2000, &cl), CERTMAP_ERR_BACKEND);
	/* Named as the service user, the same listener is trusted. */
	o.server_user = "65534";
	assert_int_equal(certmap_client_open(&o, &cl, &msg), CERTMAP_OK);
	certmap_client_free(cl);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(ready[0]);
	close(ready[1]);
}

/* Parses text strictly, UTF-8 checked, and returns the object. */
static json_object *strict_parse(const char *text)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
	json_tokener_free(tok);
	assert_non_null(o);
	return o;
}

static const char *field(json_object *o, const char *key)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_string(v);
}

static void test_answer_json_refusal_utf8(void **state)
{
	struct certmap_answer *a = cm_answer_new();
	json_object *o;
	char *s;
	long t;

	(void)state;
	assert_non_null(a);
	assert_int_equal(cm_answer_refuse(a, CERTMAP_REASON_NOT_CANDIDATE, "%s is not a candidate",
					  "b\xff\xc0" "b"), 0);
	t = cm_answer_trace_add(a, "r\xe9gle", 1, false, "<SAN> 'MTIz' does not hold for '123\x80'");
	assert_true(t >= 0);
	assert_int_equal(cm_answer_candidate_add(a, t, "u\xfe", "d\xfd", "no_account", "n\xfc"), 0);
	s = certmap_answer_to_json(a, true);
	assert_non_null(s);
	o = strict_parse(s);
	assert_string_equal(field(o, "message"), "b\\xff\\xc0b is not a candidate");
	assert_non_null(strstr(s, "r\\\\xe9gle"));
	assert_non_null(strstr(s, "123\\\\x80"));
	json_object_put(o);
	free(s);
	certmap_answer_free(a);
}

/* A mapped user name JSON cannot carry exactly is not sent \x-quoted. */
static void test_answer_json_mapped_not_utf8(void **state)
{
	struct certmap_answer *a = cm_answer_new();
	struct cm_account acct = { 0 };
	json_object *o, *v = NULL;
	char *s;

	(void)state;
	acct.name = strdup("j\xff" "o");
	acct.home = strdup("/home/jo");
	acct.uid = 1000;
	acct.gid = 1000;
	assert_int_equal(cm_answer_set_mapped(a, &acct, "upn", "local"), 0);
	s = certmap_answer_to_json(a, false);
	assert_non_null(s);
	o = strict_parse(s);
	assert_string_equal(field(o, "verdict"), "refused");
	assert_string_equal(field(o, "reason"), "no_account");
	assert_false(json_object_object_get_ex(o, "user", &v));
	json_object_put(o);
	free(s);
	certmap_answer_free(a);
}


/* A certificate-only identity crosses the wire without uid, gid or home
 * and comes back without an account; a reply with only some of the three
 * is a protocol error. */
static void test_answer_json_certificate_only(void **state)
{
	struct certmap_answer *a = cm_answer_new(), *b = NULL;
	struct cm_account acct = { 0 };
	json_object *o, *v = NULL;
	char *s;

	(void)state;
	acct.name = strdup("mallory");
	acct.no_account = true;
	acct.uid = (uid_t)-1;
	acct.gid = (gid_t)-1;
	assert_int_equal(cm_strv_add(&acct.groups, "team-one"), 0);
	assert_int_equal(cm_answer_set_mapped(a, &acct, "cn", "apps"), 0);
	s = certmap_answer_to_json(a, false);
	assert_non_null(s);
	o = strict_parse(s);
	assert_string_equal(field(o, "verdict"), "mapped");
	assert_false(json_object_object_get_ex(o, "uid", &v));
	assert_false(json_object_object_get_ex(o, "gid", &v));
	assert_false(json_object_object_get_ex(o, "home", &v));
	assert_int_equal(cm_answer_from_json(o, &b), 0);
	assert_string_equal(certmap_answer_user(b), "mallory");
	assert_false(certmap_answer_has_account(b));
	assert_int_equal(certmap_answer_uid(b), (uid_t)-1);
	assert_null(certmap_answer_home(b));
	assert_string_equal(certmap_answer_group(b, 0), "team-one");
	certmap_answer_free(b);
	b = NULL;
	json_object_object_add(o, "uid", json_object_new_int(0));
	assert_int_not_equal(cm_answer_from_json(o, &b), 0);
	certmap_answer_free(b);
	json_object_put(o);
	free(s);
	certmap_answer_free(a);
}

/* The frame json-c writes for req (the client's other path). */
static char *json_c_frame(const struct certmap_request *req)
{
	json_object *f = json_object_new_object(), *p = json_object_new_object(), *chain;
	char b64[4096];
	char *s;

	json_object_object_add(f, CMP_F_METHOD, json_object_new_string(CMP_M_MAP));
	json_object_object_add(f, CMP_F_PARAMETERS, p);
	EVP_EncodeBlock((unsigned char *)b64, req->cert, (int)req->cert_len);
	json_object_object_add(p, CMP_P_CERTIFICATE, json_object_new_string(b64));
	if (req->n_chain > 0) {
		chain = json_object_new_array();
		for (size_t i = 0; i < req->n_chain; i++) {
			EVP_EncodeBlock((unsigned char *)b64, req->chain[i], (int)req->chain_len[i]);
			json_object_array_add(chain, json_object_new_string(b64));
		}
		json_object_object_add(p, CMP_P_CHAIN, chain);
	}
	if (req->user != NULL) {
		json_object_object_add(p, CMP_P_USER, json_object_new_string(req->user));
	}
	if (req->upn_hint != NULL) {
		json_object_object_add(p, CMP_P_UPN_HINT, json_object_new_string(req->upn_hint));
	}
	if (req->domain_hint != NULL) {
		json_object_object_add(p, CMP_P_DOMAIN_HINT, json_object_new_string(req->domain_hint));
	}
	if (req->flags & CERTMAP_REQ_HINT_DATA) {
		EVP_EncodeBlock((unsigned char *)b64, req->user_mapping_data,
				(int)req->user_mapping_data_len);
		json_object_object_add(p, CMP_P_USER_MAPPING_DATA, json_object_new_string(b64));
	}
	if (req->flags & CERTMAP_REQ_TRACE) {
		json_object_object_add(p, CMP_P_TRACE, json_object_new_boolean(true));
	}
	s = strdup(json_object_to_json_string_ext(f, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(f);
	return s;
}

/* cmp_map_frame() writes byte for byte what json-c would, and declines
 * every request that would need a JSON escape. */
static void test_map_frame(void **state)
{
	static const unsigned char der[] = { 0x30, 0x03, 0x02, 0x01, 0x05, 0xff, 0xfe };
	static const unsigned char pem[] = "-----BEGIN CERTIFICATE-----\nMAMCAQU=\n"
					   "-----END CERTIFICATE-----\n";
	const unsigned char *chain[] = { der, der + 1 };
	size_t chain_len[] = { 7, 5 };
	struct certmap_request r = { .cert = der, .cert_len = sizeof(der) };
	const char *bad[] = { "a\"b", "a\\b", "a\nb", "a\x7f", "\x01" };
	size_t len;
	char *got, *want;

	(void)state;
	for (int step = 0; step < 6; step++) {
		switch (step) {
		case 1: r.chain = chain, r.chain_len = chain_len, r.n_chain = 2; break;
		case 2: r.user = "j\xc3\xbcrgen"; break;
		case 3: r.upn_hint = "jurgen@EXAMPLE.COM", r.domain_hint = "example.com/'x'"; break;
		case 4:
			r.flags |= CERTMAP_REQ_HINT_DATA;
			r.user_mapping_data = der, r.user_mapping_data_len = 4;
			break;
		case 5: r.flags |= CERTMAP_REQ_TRACE; break;
		}
		got = cmp_map_frame(&r, &len);
		want = json_c_frame(&r);
		assert_non_null(got);
		assert_string_equal(got, want);
		assert_int_equal(len, strlen(want) + 1);
		free(got);
		free(want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct certmap_request b = { .cert = der, .cert_len = sizeof(der), .user = bad[i] };

		assert_null(cmp_map_frame(&b, &len));
		b.user = NULL;
		b.domain_hint = bad[i];
		assert_null(cmp_map_frame(&b, &len));
	}
	r.cert = pem;
	r.cert_len = sizeof(pem) - 1;
	assert_null(cmp_map_frame(&r, &len));
	r.cert = der;
	r.cert_len = sizeof(der);
	chain[1] = pem;
	chain_len[1] = sizeof(pem) - 1;
	assert_null(cmp_map_frame(&r, &len));
}

/* Every candidate status the decision writes crosses the wire as it is
 * (InfoPipe's ListByCertificate refuses a list with a "dropped" one); one
 * the client does not know reads as "unknown". */
static void test_answer_json_candidate_statuses(void **state)
{
	static const char *const statuses[] = { "kept", "no_account", "uid_refused", "duplicate",
						 "dropped", "sid_mismatch", "something_new" };
	struct certmap_answer *a = cm_answer_new(), *b = NULL;
	json_object *o;
	char *s;
	long t;

	(void)state;
	assert_int_equal(cm_answer_refuse(a, CERTMAP_REASON_AMBIGUOUS, "several"), 0);
	t = cm_answer_trace_add(a, "grid", 10, true, "");
	for (size_t i = 0; i < CM_ARRAY_SIZE(statuses); i++) {
		assert_int_equal(cm_answer_candidate_add(a, t, "u", "local", statuses[i], NULL), 0);
	}
	s = certmap_answer_to_json(a, true);
	o = strict_parse(s);
	assert_int_equal(cm_answer_from_json(o, &b), 0);
	assert_int_equal(certmap_answer_trace(b, 0)->n_candidates, CM_ARRAY_SIZE(statuses));
	for (size_t i = 0; i + 1 < CM_ARRAY_SIZE(statuses); i++) {
		assert_string_equal(certmap_answer_trace(b, 0)->candidates[i].status, statuses[i]);
	}
	assert_string_equal(certmap_answer_trace(b, 0)->candidates[6].status, "unknown");
	certmap_answer_free(b);
	json_object_put(o);
	free(s);
	certmap_answer_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nobody_listens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_uid_trusted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_server_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untrusted_listener, setup, teardown),
		cmocka_unit_test(test_answer_json_refusal_utf8),
		cmocka_unit_test(test_answer_json_mapped_not_utf8),
		cmocka_unit_test(test_answer_json_certificate_only),
		cmocka_unit_test(test_answer_json_candidate_statuses),
		cmocka_unit_test(test_map_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
