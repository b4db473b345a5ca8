/*
 * The answer cache of certmapd: reply frames keyed by the SHA-256 of the
 * request (certificate DER plus request fields), with a TTL and an entry
 * limit; the least recently used entry goes first. An entry also dies at
 * its answer's own limit in wall-clock time (the certificate's notAfter,
 * a CRL's nextUpdate), whichever comes first. Every event loop
 * shares it, so each call takes the cache's mutex; a hit is copied out
 * under it, never pointed to.
 */
#ifndef CERTMAP_SERVICE_CACHE_H
#define CERTMAP_SERVICE_CACHE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct cm_cache;

/* max_entries 0 or ttl_ms 0 gives a cache that stores nothing. */
struct cm_cache *cm_cache_new(size_t max_entries, uint64_t ttl_ms);
void cm_cache_free(struct cm_cache *c);
/* Appends the stored frame for key to out: true on a hit. */
bool cm_cache_get(struct cm_cache *c, const unsigned char key[32], uint64_t now_ms,
		  struct cm_buf *out);
/*
 * Stores a copy of frame until now_ms + the TTL (monotonic milliseconds),
 * but never at or past valid_until (seconds since the epoch, wall clock;
 * INT64_MAX for no limit): nothing is stored when that time has come.
 * Returns 0 or -1 (out of memory; the cache is unchanged).
 */
int cm_cache_put(struct cm_cache *c, const unsigned char key[32],
		 const char *frame, size_t len, uint64_t now_ms, int64_t valid_until);
void cm_cache_flush(struct cm_cache *c);
size_t cm_cache_count(struct cm_cache *c);

#endif
