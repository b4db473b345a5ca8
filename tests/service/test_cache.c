/* Unit tests for service/cache.c: shards, CLOCK eviction, limits. */
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

#include "audit.h"
#include "cache.h"

static void key_of(unsigned char key[32], int n)
{
	memset(key, 0, 32);
	memcpy(key, &n, sizeof(n));
	key[31] = (unsigned char)n;
}

static void put(struct cm_cache *c, unsigned int shard, int n, uint64_t now_ms)
{
	unsigned char key[32];
	char frame[16];

	key_of(key, n);
	snprintf(frame, sizeof(frame), "answer %d", n);
	assert_int_equal(cm_cache_put(c, shard, key, 32, frame, strlen(frame) + 1, now_ms, INT64_MAX,
				      NULL),
			 0);
}

/* Whether shard finds n at now_ms, and with the right frame. */
static bool has(struct cm_cache *c, unsigned int shard, int n, uint64_t now_ms)
{
	unsigned char key[32];
	char want[16];
	struct cm_cache_hit hit;
	bool found;

	key_of(key, n);
	snprintf(want, sizeof(want), "answer %d", n);
	found = cm_cache_get(c, shard, key, 32, now_ms, &hit);
	if (found) {
		assert_string_equal(hit.frame, want);
		cm_cache_release(&hit);
	} else {
		assert_null(hit.entry);
	}
	return found;
}

static void test_shards(void **state)
{
	struct cm_cache *c = cm_cache_new(30, 1000, 3);

	(void)state;
	put(c, 1, 7, 0);
	assert_int_equal(cm_cache_count(c), 1);
	/* Another loop finds it, and keeps a copy of its own. */
	assert_true(has(c, 2, 7, 10));
	assert_int_equal(cm_cache_count(c), 2);
	assert_true(has(c, 2, 7, 20));
	assert_int_equal(cm_cache_count(c), 2);
	/* The copy keeps the original TTL: both die at 1000 ms. */
	assert_true(has(c, 2, 7, 999));
	assert_false(has(c, 2, 7, 1000));
	assert_false(has(c, 1, 7, 1000));
	assert_false(has(c, 0, 7, 1000));
	assert_int_equal(cm_cache_count(c), 0);
	/* Shard numbers wrap around. */
	put(c, 4, 8, 0);
	assert_true(has(c, 1, 8, 1));
	assert_int_equal(cm_cache_count(c), 1);
	cm_cache_flush(c);
	assert_int_equal(cm_cache_count(c), 0);
	assert_false(has(c, 1, 8, 1));
	cm_cache_free(c);
}

/* The answer's own limit (wall clock) holds in every shard. */
static void test_valid_until(void **state)
{
	struct cm_cache *c = cm_cache_new(10, 60000, 2);
	unsigned char key[32];

	(void)state;
	key_of(key, 1);
	/* Already past: not stored. */
	assert_int_equal(cm_cache_put(c, 0, key, 32, "x", 2, 0, (int64_t)time(NULL) - 1, NULL), 0);
	assert_int_equal(cm_cache_count(c), 0);
	assert_false(has(c, 1, 1, 0));
	cm_cache_free(c);
}

/* CLOCK: an entry hit since the hand last passed stays; the oldest
 * one not hit goes. */
static void test_clock(void **state)
{
	struct cm_cache *c = cm_cache_new(3, 100000, 1);

	(void)state;
	put(c, 0, 1, 0);
	put(c, 0, 2, 0);
	put(c, 0, 3, 0);
	assert_true(has(c, 0, 1, 1));
	put(c, 0, 4, 0); /* 1 was hit: 2 goes */
	assert_int_equal(cm_cache_count(c), 3);
	assert_false(has(c, 0, 2, 2));
	assert_true(has(c, 0, 3, 2));
	assert_true(has(c, 0, 4, 2));
	assert_true(has(c, 0, 1, 2));
	/* All hit: the hand goes round once and takes the oldest. */
	put(c, 0, 5, 0);
	assert_int_equal(cm_cache_count(c), 3);
	assert_true(has(c, 0, 5, 3));
	cm_cache_free(c);
}

/* A hit stays readable after its entry is evicted; its audit words are
 * shared by the copies and freed once (ASan checks both). */
static void test_hit_outlives_eviction(void **state)
{
	struct cm_cache *c = cm_cache_new(2, 100000, 2);
	struct cm_audit a = {.ident = "test", .verdict = "mapped", .user = "alice"};
	unsigned char key[32];
	struct cm_cache_hit hit;

	(void)state;
	key_of(key, 1);
	assert_int_equal(cm_cache_put(c, 0, key, 32, "one", 4, 0, INT64_MAX, cm_audit_prepare(&a)), 0);
	assert_true(cm_cache_get(c, 1, key, 32, 1, &hit)); /* copied into shard 1 */
	assert_non_null(hit.audit);
	cm_cache_flush(c);
	assert_string_equal(hit.frame, "one");
	cm_cache_release(&hit);
	cm_cache_free(c);
}

/* ttl 0 or no entries: nothing is stored, nothing copied. */
static void test_disabled(void **state)
{
	struct cm_cache *c = cm_cache_new(10, 0, 2);

	(void)state;
	put(c, 0, 1, 0);
	assert_int_equal(cm_cache_count(c), 0);
	assert_false(has(c, 1, 1, 0));
	cm_cache_free(c);
}


/* Keys are compared in full: keys that differ in one byte, or only in
 * length, or are prefixes of each other, never share an answer. */
static void test_full_key(void **state)
{
	struct cm_cache *c = cm_cache_new(100, 100000, 1);
	unsigned char key[2048];
	struct cm_cache_hit hit;

	(void)state;
	memset(key, 'A', sizeof(key));
	assert_int_equal(cm_cache_put(c, 0, key, sizeof(key), "long", 5, 0, INT64_MAX, NULL), 0);
	assert_int_equal(cm_cache_put(c, 0, key, 100, "short", 6, 0, INT64_MAX, NULL), 0);
	assert_false(cm_cache_get(c, 0, key, sizeof(key) - 1, 1, &hit));
	assert_false(cm_cache_get(c, 0, key, 0, 1, &hit));
	key[1500] = 'B';
	assert_false(cm_cache_get(c, 0, key, sizeof(key), 1, &hit));
	key[1500] = 'A';
	assert_true(cm_cache_get(c, 0, key, sizeof(key), 1, &hit));
	assert_string_equal(hit.frame, "long");
	cm_cache_release(&hit);
	assert_true(cm_cache_get(c, 0, key, 100, 1, &hit));
	assert_string_equal(hit.frame, "short");
	cm_cache_release(&hit);
	cm_cache_free(c);
}

/* However many keys share a bucket (16 buckets here, 200 keys), the
 * cache stays consistent: each key finds its own answer or none, and the
 * count never passes the limit. */
static void test_crowded_buckets(void **state)
{
	struct cm_cache *c = cm_cache_new(16, 100000, 1);
	int found = 0;

	(void)state;
	for (int n = 0; n < 200; n++) {
		put(c, 0, n, 0);
		assert_true(cm_cache_count(c) <= 16);
		assert_true(has(c, 0, n, 1));
	}
	for (int n = 0; n < 200; n++) {
		found += has(c, 0, n, 1);
	}
	assert_int_equal(found, (int)cm_cache_count(c));
	cm_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shards),	    cmocka_unit_test(test_valid_until),
	    cmocka_unit_test(test_clock),	    cmocka_unit_test(test_hit_outlives_eviction),
	    cmocka_unit_test(test_full_key),	    cmocka_unit_test(test_crowded_buckets),
	    cmocka_unit_test(test_disabled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
