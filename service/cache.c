/*
 * The answer cache: a chained hash table plus a CLOCK list. A hit only
 * sets the entry's reference bit (no relinking, so hits from several
 * loops do not rewrite shared links); eviction walks from the oldest
 * entry and gives a referenced one a second turn at the new end.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "cache.h"

struct cache_entry {
	unsigned char key[32];
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

/* One loop's part: its own lock and entries, on cache lines of its own. */
struct shard {
	_Alignas(CACHE_LINE) pthread_mutex_t lock;    /* every loop looks up and inserts */
	struct cache_entry **buckets;
	size_t n_buckets;       /* a power of two */
	size_t count;
	size_t max_entries;
	uint64_t ttl_ms;
	struct cache_entry *oldest, *newest;
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

static size_t bucket_of(const struct shard *c, const unsigned char key[32])
{
	size_t h;

	/* The key is a SHA-256: its bytes are already uniform. */
	memcpy(&h, key, sizeof(h));
	return h & (c->n_buckets - 1);
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
	struct cache_entry **pp = &c->buckets[bucket_of(c, e->key)];

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

static struct cache_entry *lookup(struct shard *c, const unsigned char key[32])
{
	struct cache_entry *e = c->buckets[bucket_of(c, key)];

	while (e != NULL && memcmp(e->key, key, 32) != 0) {
		e = e->next_hash;
	}
	return e;
}

static bool shard_get(struct shard *c, const unsigned char key[32], uint64_t now_ms,
		  struct cm_cache_hit *hit)
{
	struct cache_entry *e;

	memset(hit, 0, sizeof(*hit));
	pthread_mutex_lock(&c->lock);
	e = lookup(c, key);
	if (e != NULL && (now_ms >= e->expires_ms ||
			  (e->until_ms != INT64_MAX && wall_ms() >= e->until_ms))) {
		entry_remove(c, e);
		e = NULL;
	} else if (e != NULL) {
		/* Written only when it changes: hits keep the line shared. */
		if (!atomic_load_explicit(&e->referenced, memory_order_relaxed)) {
			atomic_store(&e->referenced, true);
		}
		/* Held past the lock: another loop may evict it meanwhile. */
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

/* With the lock held: replaces any entry for key, evicting the oldest. */
static void insert(struct shard *c, struct cache_entry *e)
{
	struct cache_entry *old = lookup(c, e->key);
	size_t b;

	if (old != NULL) {
		entry_remove(c, old);
	}
	while (c->count >= c->max_entries && c->oldest != NULL) {
		evict_one(c);
	}
	b = bucket_of(c, e->key);
	e->next_hash = c->buckets[b];
	c->buckets[b] = e;
	lru_push(c, e);
	c->count++;
}

static int shard_put(struct shard *c, const unsigned char key[32],
		 const char *frame, size_t len, uint64_t now_ms, int64_t valid_until,
		 struct cm_audit_pre *audit)
{
	struct cache_entry *e;
	int64_t until = limit_ms(valid_until);

	if (c->max_entries == 0 || (until != INT64_MAX && wall_ms() >= until)) {
		cm_audit_pre_free(audit);
		return 0;
	}
	/* Built outside the lock, so the other loops wait only for the links. */
	e = malloc(sizeof(*e) + len);
	if (e == NULL) {
		cm_audit_pre_free(audit);
		return -1;
	}
	atomic_init(&e->referenced, false);
	atomic_init(&e->refs, 1);
	e->audit = audit;
	memcpy(e->key, key, 32);
	memcpy(e->frame, frame, len);
	e->len = len;
	e->expires_ms = now_ms + c->ttl_ms;
	e->until_ms = until;
	e->lru_prev = e->lru_next = NULL;
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
	size_t n_shards;
	struct shard shard[];
};

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
	struct cache_entry *n = malloc(sizeof(*n) + e->len);

	if (n == NULL) {
		return NULL;
	}
	memcpy(n->key, e->key, 32);
	memcpy(n->frame, e->frame, e->len);
	n->len = e->len;
	n->expires_ms = e->expires_ms;
	n->until_ms = e->until_ms;
	n->audit = cm_audit_pre_ref(e->audit);
	n->next_hash = NULL;
	n->lru_prev = n->lru_next = NULL;
	atomic_init(&n->referenced, false);
	atomic_init(&n->refs, 1);
	return n;
}

/*
 * The caller's own shard first; a miss there asks the others (their
 * locks, once), and an answer found elsewhere is copied into the own
 * shard with its original limits, so that the next hit stays local.
 */
bool cm_cache_get(struct cm_cache *c, unsigned int shard, const unsigned char key[32],
		  uint64_t now_ms, struct cm_cache_hit *hit)
{
	struct shard *own = shard_of(c, shard);
	struct cache_entry *copy;

	if (shard_get(own, key, now_ms, hit)) {
		return true;
	}
	for (size_t i = 0; i < c->n_shards; i++) {
		if (&c->shard[i] == own || !shard_get(&c->shard[i], key, now_ms, hit)) {
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

int cm_cache_put(struct cm_cache *c, unsigned int shard, const unsigned char key[32],
		 const char *frame, size_t len, uint64_t now_ms, int64_t valid_until,
		 struct cm_audit_pre *audit)
{
	return shard_put(shard_of(c, shard), key, frame, len, now_ms, valid_until, audit);
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
