/*
 * What certmap knows about one certificate under one configuration: the
 * parsed identity and the outcome of each rule (matched, note, names).
 * Both are pure functions of the certificate bytes and the configuration,
 * so a context keeps them in a bounded cache keyed by the certificate's
 * SHA-256: a certificate seen before costs no parsing and no rule
 * evaluation. An entry also keeps the chains that verified for it
 * (cm_verify_memo, verify.h: keyed by the verifier, the leaf and chain
 * digests, bounded in time); account lookups are never cached here.
 */
#ifndef CERTMAP_CERTCACHE_H
#define CERTMAP_CERTCACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "identity.h"
#include "util.h"
#include "verify.h"

#define CM_CERT_CACHE_SIZE 512

/* The outcome of one rule on one certificate. */
struct cm_rule_result {
	atomic_bool done;      /* set (release) once the fields below are final */
	bool matched;
	bool failed;           /* out of memory while evaluating (transient) */
	bool overflow;         /* matched, but gives more names than certmap takes */
	char *note;            /* a matched rule's note when its expansion said something;
	                        * else NULL (cm_rule_note builds the candidates list) */
	struct cm_strv names;  /* user names (MAPFILE: keys already looked up) */
};

struct cm_cert_entry {
	unsigned char sha256[32];
	struct cm_identity *id;
	const struct cm_config *cfg;
	struct cm_rule_result *results;  /* one per cfg->rules[i] */
	pthread_mutex_t lock;            /* serialises evaluation of results */
	struct cm_verify_memo verify;    /* chains that verified, see verify.h */
	atomic_uint refs;
	/* Cache bookkeeping, under the cache's lock. */
	struct cm_cert_entry *hnext;
	struct cm_cert_entry *prev, *next;
};

struct cm_cert_cache;

/* max_entries 0 disables caching (every lookup parses). */
struct cm_cert_cache *cm_cert_cache_new(size_t max_entries);
void cm_cert_cache_free(struct cm_cert_cache *c);

/*
 * Returns a referenced entry for the certificate (DER or PEM): from the
 * cache, or parsed and inserted. Returns 0 and *out, or the parser's error
 * with a malloc'd sentence in *errmsg. *hit says whether it was cached.
 */
int cm_cert_cache_get(struct cm_cert_cache *c, const struct cm_config *cfg,
		      const unsigned char *data, size_t len,
		      struct cm_cert_entry **out, bool *hit, char **errmsg);
void cm_cert_entry_put(struct cm_cert_entry *e);

/*
 * The results of rules [from, to) of the entry's configuration, evaluated
 * on first use. Returns the entry's results array (valid while the entry
 * is referenced), or NULL when out of memory.
 */
const struct cm_rule_result *cm_cert_entry_eval(struct cm_cert_entry *e,
						size_t from, size_t to);

/* The trace sentence for rule i of an evaluated entry: what it expanded to,
 * or why it did not match (worked out now). malloc'd; NULL if out of memory. */
char *cm_rule_note(const struct cm_cert_entry *e, size_t i);

#endif
