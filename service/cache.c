/*
 * The answer cache: a chained hash table plus a CLOCK list. A hit only
 * sets the entry's reference bit (no relinking, so hits from several
 * threads do not rewrite shared links); eviction walks from the oldest
 * entry and gives a referenced one a second turn at the new end.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "audit.h"
#include "cache.h"

struct cache_entry {
	uint64_t hash;
	const unsigned char *key; /* in frame[], after the frame */
	size_t key_len;
	struct cache_entry *next_hash;
	struct cache_entry *lru_prev, *lru_next; /* lru_next: inserted later */
	atomic_bool referenced;  /* hit since the clock hand last passed */
	atomic_uint refs;        /* the table's, plus one per hit being served */
	uint64_t expires_ms;     /* monotonic: the TTL */
	int64_t until_ms;        /* wall clock: the answer's own limit */
	struct cm_audit_pre *audit;
	size_t len;
	char frame[];
};

#define CACHE_LINE 64
/* A bucket holds at most this many entries; a new one pushes out the
 * bucket's oldest. Requests are the callers' bytes: however they collide,
 * a lookup compares at most this many keys. */
#define CHAIN_MAX 8

/* One shard: its own lock and entries, on cache lines of its own. */
struct shard {
	_Alignas(CACHE_LINE) pthread_mutex_t lock;    /* every thread looks up and inserts */
	struct cache_entry **buckets;
	size_t n_buckets;       /* a power of two */
	size_t count;
	size_t max_entries;
	uint64_t ttl_ms;
	struct cache_entry *oldest, *newest;
};

/* A key as the callers give it, with its bucket hash. */
struct cm_cache_key {
	const unsigned char *bytes;
	size_t len;
	uint64_t hash;
};

static int shard_init(struct shard *c, size_t max_entries, uint64_t ttl_ms)
{
	size_t n = 16;

	while (n < max_entries && n < ((size_t)1 << 24)) {
		n <<= 1;
	}
	c->buckets = calloc(n, sizeof(*c->buckets));
	if (c->buckets == NULL) {
		return -1;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->n_buckets = n;
	c->max_entries = ttl_ms > 0 ? max_entries : 0;
	c->ttl_ms = ttl_ms;
	return 0;
}

/*
 * The answer's own limit is a calendar time, so it is compared with the
 * wall clock on every hit: a clock set forward must not keep an answer
 * for a certificate that has expired by the new time.
 */
static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t limit_ms(int64_t valid_until)
{
	if (valid_until <= 0) {
		return 0;
	}
	return valid_until >= INT64_MAX / 1000 ? INT64_MAX : valid_until * 1000;
}

static size_t bucket_of(const struct shard *c, uint64_t hash)
{
	return (size_t)hash & (c->n_buckets - 1);
}

static void lru_unlink(struct shard *c, struct cache_entry *e)
{
	if (e->lru_prev != NULL) {
		e->lru_prev->lru_next = e->lru_next;
	} else {
		c->oldest = e->lru_next;
	}
	if (e->lru_next != NULL) {
		e->lru_next->lru_prev = e->lru_prev;
	} else {
		c->newest = e->lru_prev;
	}
	e->lru_prev = e->lru_next = NULL;
}

static void lru_push(struct shard *c, struct cache_entry *e)
{
	e->lru_prev = c->newest;
	e->lru_next = NULL;
	if (c->newest != NULL) {
		c->newest->lru_next = e;
	} else {
		c->oldest = e;
	}
	c->newest = e;
}

static void entry_unref(struct cache_entry *e)
{
	if (atomic_fetch_sub(&e->refs, 1) == 1) {
		cm_audit_pre_free(e->audit);
		free(e);
	}
}

static void entry_remove(struct shard *c, struct cache_entry *e)
{
	struct cache_entry **pp = &c->buckets[bucket_of(c, e->hash)];

	while (*pp != e) {
		pp = &(*pp)->next_hash;
	}
	*pp = e->next_hash;
	lru_unlink(c, e);
	c->count--;
	entry_unref(e);
}

/* The clock hand: the oldest entry not hit since its last turn. */
static void evict_one(struct shard *c)
{
	struct cache_entry *e;

	for (size_t turns = 0; (e = c->oldest) != NULL && turns < c->count; turns++) {
		if (!atomic_exchange(&e->referenced, false)) {
			break;
		}
		lru_unlink(c, e);
		lru_push(c, e);
	}
	if (c->oldest != NULL) {
		entry_remove(c, c->oldest);
	}
}

/* The whole key is compared: the hash only picks the bucket. */
static struct cache_entry *lookup(struct shard *c, const struct cm_cache_key *k)
{
	struct cache_entry *e = c->buckets[bucket_of(c, k->hash)];

	while (e != NULL && !(e->hash == k->hash && e->key_len == k->len &&
			      memcmp(e->key, k->bytes, k->len) == 0)) {
		e = e->next_hash;
	}
	return e;
}

static bool shard_get(struct shard *c, const struct cm_cache_key *k, uint64_t now_ms,
		  struct cm_cache_hit *hit)
{
	struct cache_entry *e;

	memset(hit, 0, sizeof(*hit));
	pthread_mutex_lock(&c->lock);
	e = lookup(c, k);
	if (e != NULL && (now_ms >= e->expires_ms ||
			  (e->until_ms != INT64_MAX && wall_ms() >= e->until_ms))) {
		entry_remove(c, e);
		e = NULL;
	} else if (e != NULL) {
		/* Written only when it changes: hits keep the line shared. */
		if (!atomic_load_explicit(&e->referenced, memory_order_relaxed)) {
			atomic_store(&e->referenced, true);
		}
		/* Held past the lock: another thread may evict it meanwhile. */
		atomic_fetch_add(&e->refs, 1);
	}
	pthread_mutex_unlock(&c->lock);
	if (e == NULL) {
		return false;
	}
	hit->frame = e->frame;
	hit->len = e->len;
	hit->audit = e->audit;
	hit->entry = e;
	return true;
}

void cm_cache_release(struct cm_cache_hit *hit)
{
	if (hit->entry != NULL) {
		entry_unref(hit->entry);
	}
	memset(hit, 0, sizeof(*hit));
}

/* The last (oldest) entry of a bucket that is full, or NULL. */
static struct cache_entry *bucket_full(struct shard *c, size_t b)
{
	struct cache_entry *e = c->buckets[b];
	size_t n = 1;

	for (; e != NULL && e->next_hash != NULL; e = e->next_hash) {
		n++;
	}
	return n >= CHAIN_MAX ? e : NULL;
}

/* With the lock held: replaces any entry for the key, evicting the
 * oldest (of the bucket when it is full, else of the shard). */
static void insert(struct shard *c, struct cache_entry *e)
{
	struct cm_cache_key k = {e->key, e->key_len, e->hash};
	struct cache_entry *old = lookup(c, &k);
	size_t b = bucket_of(c, e->hash);

	if (old != NULL) {
		entry_remove(c, old);
	}
	if ((old = bucket_full(c, b)) != NULL) {
		entry_remove(c, old);
	}
	while (c->count >= c->max_entries && c->oldest != NULL) {
		evict_one(c);
	}
	e->next_hash = c->buckets[b];
	c->buckets[b] = e;
	lru_push(c, e);
	c->count++;
}

/* A new entry holding frame and then the key's bytes. */
static struct cache_entry *entry_new(const struct cm_cache_key *k, const char *frame, size_t len)
{
	struct cache_entry *e;

	if (len > SIZE_MAX / 2 - sizeof(*e) || k->len > SIZE_MAX / 2 ||
	    (e = malloc(sizeof(*e) + len + k->len)) == NULL) {
		return NULL;
	}
	memcpy(e->frame, frame, len);
	memcpy(e->frame + len, k->bytes, k->len);
	e->len = len;
	e->key = (const unsigned char *)e->frame + len;
	e->key_len = k->len;
	e->hash = k->hash;
	e->next_hash = NULL;
	e->lru_prev = e->lru_next = NULL;
	atomic_init(&e->referenced, false);
	atomic_init(&e->refs, 1);
	return e;
}

static int shard_put(struct shard *c, const struct cm_cache_key *k,
		 const char *frame, size_t len, uint64_t now_ms, int64_t valid_until,
		 struct cm_audit_pre *audit)
{
	struct cache_entry *e;
	int64_t until = limit_ms(valid_until);

	if (c->max_entries == 0 || (until != INT64_MAX && wall_ms() >= until)) {
		cm_audit_pre_free(audit);
		return 0;
	}
	/* Built outside the lock, so the other threads wait only for the links. */
	if ((e = entry_new(k, frame, len)) == NULL) {
		cm_audit_pre_free(audit);
		return -1;
	}
	e->audit = audit;
	e->expires_ms = now_ms + c->ttl_ms;
	e->until_ms = until;
	pthread_mutex_lock(&c->lock);
	insert(c, e);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static void shard_flush(struct shard *c)
{
	if (c == NULL) {
		return;
	}
	pthread_mutex_lock(&c->lock);
	while (c->oldest != NULL) {
		entry_remove(c, c->oldest);
	}
	pthread_mutex_unlock(&c->lock);
}

static size_t shard_count(struct shard *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

struct cm_cache {
	uint64_t seed[2]; /* the bucket hash's secret */
	size_t n_shards;
	struct shard shard[];
};

/* Two words folded through one wide multiply (as wyhash does). */
static uint64_t fold(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
	unsigned __int128 m = (unsigned __int128)a * b;

	return (uint64_t)m ^ (uint64_t)(m >> 64);
#else
	uint64_t m = a * (b | 1);

	return m ^ (m >> 29) ^ b;
#endif
}

/*
 * The bucket hash: fast rather than cryptographic, keyed with a secret
 * drawn at start so that callers cannot aim at one bucket, which
 * CHAIN_MAX bounds anyway. Equality is always decided on all the bytes.
 */
static uint64_t key_hash(const struct cm_cache *c, const unsigned char *p, size_t len)
{
	uint64_t h = c->seed[0] ^ len, a, b;

	/* A request is 1-2 KB: four lanes of 16 bytes, whose multiplies do
	 * not wait for each other, then one. */
	if (len >= 64) {
		uint64_t lane[4] = { h, h ^ UINT64_C(0x9e3779b97f4a7c15), h ^ UINT64_C(0xbf58476d1ce4e5b9),
				     h ^ UINT64_C(0x94d049bb133111eb) };

		for (; len >= 64; p += 64, len -= 64) {
			for (size_t i = 0; i < 4; i++) {
				memcpy(&a, p + 16 * i, 8);
				memcpy(&b, p + 16 * i + 8, 8);
				lane[i] = fold(a ^ c->seed[1], b ^ lane[i]);
			}
		}
		h = fold(lane[0] ^ c->seed[1], lane[1]) ^ fold(lane[2] ^ c->seed[0], lane[3]);
	}
	for (; len >= 16; p += 16, len -= 16) {
		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		h = fold(a ^ c->seed[1], b ^ h);
	}
	a = b = 0;
	memcpy(&a, p, len > 8 ? 8 : len);
	if (len > 8) {
		memcpy(&b, p + 8, len - 8);
	}
	h = fold(a ^ c->seed[1], b ^ h);
	return fold(h ^ c->seed[0], UINT64_C(0x9e3779b97f4a7c15));
}

static void seed_init(struct cm_cache *c)
{
	if (getrandom(c->seed, sizeof(c->seed), GRND_NONBLOCK) != (ssize_t)sizeof(c->seed)) {
		struct timespec ts;

		/* Still a key per process: CHAIN_MAX keeps lookups short regardless. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		c->seed[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uintptr_t)c;
		c->seed[1] = fold(c->seed[0], UINT64_C(0x2545f4914f6cdd1d));
	}
}

struct cm_cache *cm_cache_new(size_t max_entries, uint64_t ttl_ms, unsigned int shards)
{
	struct cm_cache *c;
	size_t per;

	if (shards == 0) {
		shards = 1;
	}
	per = (max_entries + shards - 1) / shards;
	if (posix_memalign((void **)&c, CACHE_LINE, sizeof(*c) + shards * sizeof(c->shard[0])) != 0) {
		return NULL;
	}
	memset(c, 0, sizeof(*c) + shards * sizeof(c->shard[0]));
	seed_init(c);
	for (c->n_shards = 0; c->n_shards < shards; c->n_shards++) {
		if (shard_init(&c->shard[c->n_shards], per, ttl_ms) != 0) {
			cm_cache_free(c);
			return NULL;
		}
	}
	return c;
}

static struct shard *shard_of(struct cm_cache *c, unsigned int shard)
{
	return &c->shard[shard % c->n_shards];
}

/* A copy of e for another shard: the same frame and limits, the audit
 * words shared. */
static struct cache_entry *entry_copy(const struct cache_entry *e)
{
	struct cm_cache_key k = {e->key, e->key_len, e->hash};
	struct cache_entry *n = entry_new(&k, e->frame, e->len);

	if (n == NULL) {
		return NULL;
	}
	n->expires_ms = e->expires_ms;
	n->until_ms = e->until_ms;
	n->audit = cm_audit_pre_ref(e->audit);
	return n;
}

/*
 * The caller's own shard first; a miss there asks the others (their
 * locks, once), and an answer found elsewhere is copied into the own
 * shard with its original limits, so that the next hit stays local.
 */
bool cm_cache_get(struct cm_cache *c, unsigned int shard, const unsigned char *key,
		  size_t key_len, uint64_t now_ms, struct cm_cache_hit *hit)
{
	struct shard *own = shard_of(c, shard);
	struct cm_cache_key k = {key, key_len, key_hash(c, key, key_len)};
	struct cache_entry *copy;

	if (shard_get(own, &k, now_ms, hit)) {
		return true;
	}
	for (size_t i = 0; i < c->n_shards; i++) {
		if (&c->shard[i] == own || !shard_get(&c->shard[i], &k, now_ms, hit)) {
			continue;
		}
		if (own->max_entries > 0 && (copy = entry_copy(hit->entry)) != NULL) {
			pthread_mutex_lock(&own->lock);
			insert(own, copy);
			pthread_mutex_unlock(&own->lock);
		}
		return true;
	}
	return false;
}

int cm_cache_put(struct cm_cache *c, unsigned int shard, const unsigned char *key,
		 size_t key_len, const char *frame, size_t len, uint64_t now_ms,
		 int64_t valid_until, struct cm_audit_pre *audit)
{
	struct cm_cache_key k = {key, key_len, key_hash(c, key, key_len)};

	return shard_put(shard_of(c, shard), &k, frame, len, now_ms, valid_until, audit);
}

void cm_cache_flush(struct cm_cache *c)
{
	for (size_t i = 0; c != NULL && i < c->n_shards; i++) {
		shard_flush(&c->shard[i]);
	}
}

size_t cm_cache_count(struct cm_cache *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_shards; i++) {
		n += shard_count(&c->shard[i]);
	}
	return n;
}

void cm_cache_free(struct cm_cache *c)
{
	if (c == NULL) {
		return;
	}
	for (size_t i = 0; i < c->n_shards; i++) {
		shard_flush(&c->shard[i]);
		pthread_mutex_destroy(&c->shard[i].lock);
		free(c->shard[i].buckets);
	}
	free(c);
}
