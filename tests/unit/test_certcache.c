/* Unit tests for mapper/certcache.c: hits, eviction, lazy rule results, threads. */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "certcache.h"
#include "certmap.h"
#include "conf.h"
#include "testlib.h"

static const char conf_text[] =
	"verify = { enabled = false; };\n"
	"domains = ( { name = \"local\"; type = \"local\"; } );\n"
	"rules = (\n"
	" { name = \"upn\"; priority = 1; map = \"LOCAL:{subject_principal.short_name}\"; },\n"
	" { name = \"cn\"; priority = 2; match = \"<SUBJECT>CN=bob\"; map = \"LOCAL:{subject_dn_component.cn}\"; }\n"
	");\n";

static struct cm_config *load_config(void)
{
	struct cm_config *cfg = NULL;
	char *err = NULL;

	assert_int_equal(cm_config_parse(conf_text, strlen(conf_text), "t.conf", &cfg, &err), 0);
	return cfg;
}

static void read_cert(const char *name, unsigned char **data, size_t *len)
{
	char *path = cmt_cert_path(name);

	assert_int_equal(cmt_read_file(path, data, len), 0);
	free(path);
}

static void test_hit_after_miss(void **state)
{
	struct cm_config *cfg = load_config();
	struct cm_cert_cache *c = cm_cert_cache_new(4);
	struct cm_cert_entry *e1 = NULL, *e2 = NULL, *e3 = NULL;
	unsigned char *pem, *der;
	size_t pem_len, der_len;
	char *err = NULL;
	bool hit;

	(void)state;
	read_cert("alice.pem", &pem, &pem_len);
	read_cert("alice.der", &der, &der_len);
	assert_int_equal(cm_cert_cache_get(c, cfg, pem, pem_len, &e1, &hit, &err), 0);
	assert_false(hit);
	/* The key is the DER's digest, so PEM and DER of one certificate meet. */
	assert_int_equal(cm_cert_cache_get(c, cfg, der, der_len, &e2, &hit, &err), 0);
	assert_true(hit);
	assert_ptr_equal(e1, e2);
	assert_int_equal(cm_cert_cache_get(c, cfg, (const unsigned char *)"junk", 4, &e3, &hit, &err),
			 CERTMAP_ERR_CERT);
	assert_null(e3);
	free(err);
	cm_cert_entry_put(e1);
	cm_cert_entry_put(e2);
	cm_cert_cache_free(c);
	cm_config_free(cfg);
	free(pem);
	free(der);
}

static void test_eviction_and_disabled(void **state)
{
	static const char *const names[] = { "alice.pem", "bob-ec.pem", "utf8.pem" };
	struct cm_config *cfg = load_config();
	struct cm_cert_cache *c = cm_cert_cache_new(2), *off = cm_cert_cache_new(0);
	struct cm_cert_entry *e = NULL;
	char *err = NULL;
	bool hit;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		unsigned char *data;
		size_t len;

		read_cert(names[i], &data, &len);
		assert_int_equal(cm_cert_cache_get(c, cfg, data, len, &e, &hit, &err), 0);
		assert_false(hit);
		cm_cert_entry_put(e);
		assert_int_equal(cm_cert_cache_get(off, cfg, data, len, &e, &hit, &err), 0);
		cm_cert_entry_put(e);
		assert_int_equal(cm_cert_cache_get(off, cfg, data, len, &e, &hit, &err), 0);
		assert_false(hit);
		cm_cert_entry_put(e);
		free(data);
	}
	/* alice was least recently used and is gone; utf8 is still there. */
	for (size_t i = 0; i < 3; i += 2) {
		unsigned char *data;
		size_t len;

		read_cert(names[i], &data, &len);
		assert_int_equal(cm_cert_cache_get(c, cfg, data, len, &e, &hit, &err), 0);
		assert_int_equal(hit, i == 2);
		cm_cert_entry_put(e);
		free(data);
	}
	cm_cert_cache_free(c);
	cm_cert_cache_free(off);
	cm_config_free(cfg);
}

static void test_results_are_lazy(void **state)
{
	struct cm_config *cfg = load_config();
	struct cm_cert_cache *c = cm_cert_cache_new(4);
	struct cm_cert_entry *e = NULL;
	const struct cm_rule_result *res;
	unsigned char *data;
	size_t len;
	char *err = NULL;
	bool hit;

	(void)state;
	read_cert("bob-ec.pem", &data, &len);
	assert_int_equal(cm_cert_cache_get(c, cfg, data, len, &e, &hit, &err), 0);
	res = cm_cert_entry_eval(e, 0, 1);
	assert_non_null(res);
	assert_true(res[0].done);
	assert_false(res[1].done);
	assert_true(res[0].matched);
	assert_int_equal(res[0].names.n, 1);
	assert_string_equal(res[0].names.v[0], "bob");
	res = cm_cert_entry_eval(e, 1, 2);
	assert_true(res[1].done);
	assert_true(res[1].matched);
	assert_string_equal(res[1].names.v[0], "bob");
	cm_cert_entry_put(e);
	cm_cert_cache_free(c);
	cm_config_free(cfg);
	free(data);
}

struct worker {
	struct cm_cert_cache *c;
	const struct cm_config *cfg;
	unsigned char *data[3];
	size_t len[3];
	int ok;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 300; i++) {
		struct cm_cert_entry *e = NULL;
		const struct cm_rule_result *res;
		char *err = NULL;
		bool hit;
		size_t k = (size_t)i % 3;

		if (cm_cert_cache_get(w->c, w->cfg, w->data[k], w->len[k], &e, &hit, &err) != 0) {
			free(err);
			continue;
		}
		res = cm_cert_entry_eval(e, 0, 2);
		if (res != NULL && res[0].done && res[1].done) {
			w->ok++;
		}
		cm_cert_entry_put(e);
	}
	return NULL;
}

/* Several threads share entries, evict each other and evaluate lazily. */
static void test_threads(void **state)
{
	static const char *const names[] = { "alice.pem", "bob-ec.pem", "utf8.pem" };
	struct cm_config *cfg = load_config();
	struct worker w[4];
	pthread_t t[4];

	struct cm_cert_cache *c = cm_cert_cache_new(2);

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		w[i].c = c;
		w[i].cfg = cfg;
		w[i].ok = 0;
		for (size_t k = 0; k < 3; k++) {
			read_cert(names[k], &w[i].data[k], &w[i].len[k]);
		}
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (size_t i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].ok, 300);
		for (size_t k = 0; k < 3; k++) {
			free(w[i].data[k]);
		}
	}
	cm_cert_cache_free(c);
	cm_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_after_miss),
		cmocka_unit_test(test_eviction_and_disabled),
		cmocka_unit_test(test_results_are_lazy),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests_name("certcache", tests, NULL, NULL);
}
