/*
 * The answer cache of certmapd: reply frames keyed by the request as sent
 * (the certificate's text plus the other fields, compared in full; a
 * keyed fast hash only picks the bucket), with a TTL and an entry
 * limit; eviction is CLOCK (an entry hit since the hand last passed gets a
 * second turn). Each entry also keeps its decision's audit words
 * (cm_audit_prepare), so a hit is logged without parsing the reply. An entry also dies at
 * its answer's own limit in wall-clock time (the certificate's notAfter,
 * a CRL's nextUpdate), whichever comes first. The cache is split in
 * shards, one per event set for its varlink connections (serve.c) and
 * one for the other callers (HTTP, D-Bus), each with its
 * own lock, entries and share of max_entries on cache lines of its own:
 * connections on different shards never wait for each other, and an
 * answer is worked out once per shard that is asked for it. A hit holds a
 * reference to its entry until cm_cache_release.
 */
#ifndef CERTMAP_SERVICE_CACHE_H
#define CERTMAP_SERVICE_CACHE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct cm_cache;
struct cm_audit_pre;

/* A hit: valid until cm_cache_release, even if the entry is evicted. */
struct cm_cache_hit {
	const char *frame;
	size_t len;
	const struct cm_audit_pre *audit; /* may be NULL */
	void *entry;
};

/* max_entries 0 or ttl_ms 0 gives a cache that stores nothing; shards 0
 * is 1. Each shard holds max_entries / shards (rounded up). */
struct cm_cache *cm_cache_new(size_t max_entries, uint64_t ttl_ms, unsigned int shards);
void cm_cache_free(struct cm_cache *c);
/* True on a hit, with *hit filled (release it); false and *hit empty. */
/* shard: the caller's (taken modulo the number of shards). */
bool cm_cache_get(struct cm_cache *c, unsigned int shard, const unsigned char *key,
		  size_t key_len, uint64_t now_ms, struct cm_cache_hit *hit);
void cm_cache_release(struct cm_cache_hit *hit);
/*
 * Stores a copy of frame until now_ms + the TTL (monotonic milliseconds),
 * but never at or past valid_until (seconds since the epoch, wall clock;
 * INT64_MAX for no limit): nothing is stored when that time has come.
 * Takes audit (may be NULL) in every case. Returns 0 or -1 (out of
 * memory; the cache is unchanged).
 */
int cm_cache_put(struct cm_cache *c, unsigned int shard, const unsigned char *key,
		 size_t key_len, const char *frame, size_t len, uint64_t now_ms,
		 int64_t valid_until, struct cm_audit_pre *audit);
void cm_cache_flush(struct cm_cache *c);
size_t cm_cache_count(struct cm_cache *c);

#endif
