/* Parsed certificates and rule outcomes, cached by SHA-256 (certcache.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "certcache.h"
#include "certmap.h"
#include "rules.h"

#define CACHE_BUCKETS 1024

struct cm_cert_cache {
	pthread_mutex_t lock;
	size_t max;
	size_t n;
	struct cm_cert_entry *buckets[CACHE_BUCKETS];
	struct cm_cert_entry *head, *tail;   /* most recently used first */
};

struct cm_cert_cache *cm_cert_cache_new(size_t max_entries)
{
	struct cm_cert_cache *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		return NULL;
	}
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	c->max = max_entries;
	return c;
}

static void entry_free(struct cm_cert_entry *e)
{
	for (size_t i = 0; i < e->cfg->n_rules; i++) {
		/* Most rules of a large configuration did not match. */
		if (e->results[i].matched) {
			free(e->results[i].note);
			cm_strv_clear(&e->results[i].names);
		}
	}
	/* The results live in the entry's own block (entry_new). */
	cm_identity_free(e->id);
	pthread_mutex_destroy(&e->lock);
	cm_verify_memo_destroy(&e->verify);
	free(e);
}

void cm_cert_entry_put(struct cm_cert_entry *e)
{
	if (e != NULL && atomic_fetch_sub(&e->refs, 1) == 1) {
		entry_free(e);
	}
}

void cm_cert_cache_free(struct cm_cert_cache *c)
{
	struct cm_cert_entry *e, *next;

	if (c == NULL) {
		return;
	}
	for (e = c->head; e != NULL; e = next) {
		next = e->next;
		cm_cert_entry_put(e);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static size_t bucket_of(const unsigned char sha[32])
{
	return ((size_t)sha[0] | (size_t)sha[1] << 8) % CACHE_BUCKETS;
}

static void lru_unlink(struct cm_cert_cache *c, struct cm_cert_entry *e)
{
	if (e->prev != NULL) {
		e->prev->next = e->next;
	} else {
		c->head = e->next;
	}
	if (e->next != NULL) {
		e->next->prev = e->prev;
	} else {
		c->tail = e->prev;
	}
	e->prev = e->next = NULL;
}

static void lru_push(struct cm_cert_cache *c, struct cm_cert_entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head != NULL) {
		c->head->prev = e;
	}
	c->head = e;
	if (c->tail == NULL) {
		c->tail = e;
	}
}

/* Under c->lock: the cached entry for sha, referenced and made most recent. */
static struct cm_cert_entry *lookup_locked(struct cm_cert_cache *c, const unsigned char sha[32])
{
	struct cm_cert_entry *e;

	for (e = c->buckets[bucket_of(sha)]; e != NULL; e = e->hnext) {
		if (memcmp(e->sha256, sha, 32) == 0) {
			lru_unlink(c, e);
			lru_push(c, e);
			atomic_fetch_add(&e->refs, 1);
			return e;
		}
	}
	return NULL;
}

/* Takes the least recently used entry out; the caller drops the cache's
 * reference once the lock is released (freeing an entry is dozens of
 * free() calls on memory no thread has touched for a while). */
static struct cm_cert_entry *evict_locked(struct cm_cert_cache *c)
{
	struct cm_cert_entry *e = c->tail, **pp;

	lru_unlink(c, e);
	for (pp = &c->buckets[bucket_of(e->sha256)]; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	}
	c->n--;
	return e;
}

/* Inserts e (the cache takes one reference), or returns the entry another
 * thread inserted meanwhile. */
static struct cm_cert_entry *insert(struct cm_cert_cache *c, struct cm_cert_entry *e)
{
	struct cm_cert_entry *old, *gone = NULL;

	pthread_mutex_lock(&c->lock);
	old = lookup_locked(c, e->sha256);
	if (old == NULL) {
		if (c->n == c->max) {
			gone = evict_locked(c);
		}
		atomic_fetch_add(&e->refs, 1);
		e->hnext = c->buckets[bucket_of(e->sha256)];
		c->buckets[bucket_of(e->sha256)] = e;
		lru_push(c, e);
		c->n++;
	}
	pthread_mutex_unlock(&c->lock);
	cm_cert_entry_put(gone);
	if (old != NULL) {
		cm_cert_entry_put(e);
		return old;
	}
	return e;
}

/* Takes ownership of der. */
static int entry_new(const struct cm_config *cfg, unsigned char *der, size_t len,
		     const unsigned char sha[32], struct cm_cert_entry **out, char **errmsg)
{
	/* One block for the entry and its results: one allocation and one
	 * free per certificate instead of two. */
	struct cm_cert_entry *e = calloc(1, sizeof(*e) + (cfg->n_rules + 1) * sizeof(*e->results));
	int rc;

	if (e == NULL || pthread_mutex_init(&e->lock, NULL) != 0) {
		free(e);
		free(der);
		return CERTMAP_ERR_NOMEM;
	}
	if (cm_verify_memo_init(&e->verify) != 0) {
		pthread_mutex_destroy(&e->lock);
		free(e);
		free(der);
		return CERTMAP_ERR_NOMEM;
	}
	e->cfg = cfg;
	atomic_init(&e->refs, 1);
	memcpy(e->sha256, sha, 32);
	e->results = (struct cm_rule_result *)(e + 1);
	if ((rc = cm_identity_parse_der(der, len, sha, &e->id, errmsg)) != CERTMAP_OK) {
		entry_free(e);
		return rc;
	}
	*out = e;
	return CERTMAP_OK;
}

int cm_cert_cache_get(struct cm_cert_cache *c, const struct cm_config *cfg,
		      const unsigned char *data, size_t len,
		      struct cm_cert_entry **out, bool *hit, char **errmsg)
{
	unsigned char *der = NULL, sha[32];
	size_t der_len = 0;
	struct cm_cert_entry *e = NULL;
	int rc;

	*out = NULL;
	*hit = false;
	/* cm_cert_to_der enforces CM_CERT_MAX_SIZE. */
	if ((rc = cm_cert_to_der(data, len, &der, &der_len, errmsg)) != CERTMAP_OK) {
		return rc;
	}
	if ((rc = cm_sha256(der, der_len, sha)) != CERTMAP_OK) {
		goto out;
	}
	if (c != NULL && c->max > 0) {
		pthread_mutex_lock(&c->lock);
		e = lookup_locked(c, sha);
		pthread_mutex_unlock(&c->lock);
		if (e != NULL) {
			*hit = true;
			*out = e;
			goto out;
		}
	}
	rc = entry_new(cfg, der, der_len, sha, &e, errmsg);
	der = NULL;
	if (rc != CERTMAP_OK) {
		goto out;
	}
	*out = c != NULL && c->max > 0 ? insert(c, e) : e;
out:
	free(der);
	return rc;
}

static void eval_one(const struct cm_rule *r, const struct cm_identity *id,
		     struct cm_rule_result *res);

const struct cm_rule_result *cm_cert_entry_eval(struct cm_cert_entry *e, size_t from, size_t to)
{
	bool failed = false;
	/* The caller's reference being the only one, no other thread can
	 * reach the entry (the cache holds one of its own): no lock. */
	bool alone = atomic_load_explicit(&e->refs, memory_order_acquire) == 1;

	for (size_t i = from; i < to; i++) {
		if (alone) {
			if (!atomic_load_explicit(&e->results[i].done, memory_order_relaxed)) {
				eval_one(&e->cfg->rules[i], e->id, &e->results[i]);
			}
		} else if (!atomic_load_explicit(&e->results[i].done, memory_order_acquire)) {
			pthread_mutex_lock(&e->lock);
			if (!atomic_load_explicit(&e->results[i].done, memory_order_relaxed)) {
				eval_one(&e->cfg->rules[i], e->id, &e->results[i]);
			}
			pthread_mutex_unlock(&e->lock);
		}
		failed = failed || !atomic_load_explicit(&e->results[i].done, memory_order_acquire);
	}
	return failed ? NULL : e->results;
}

/* --------------------------------------------------------------- one rule */

/* Expands a matched rule into user names (MAPFILE: keys looked up). */
static int rule_names(const struct cm_rule *r, const struct cm_identity *id,
		      struct cm_strv *names, struct cm_buf *why)
{
	struct cm_strv keys = { 0 };
	int rc;

	if (cm_map_kind(r->map) != CM_MAP_MAPFILE) {
		return cm_map_expand(r->map, id, names, why);
	}
	rc = cm_map_expand(r->map, id, &keys, why);
	for (size_t i = 0; rc == CERTMAP_OK && i < keys.n; i++) {
		if (cm_mapfile_lookup(r->mapfile, keys.v[i], strlen(keys.v[i]), names) != 0) {
			rc = CERTMAP_ERR_NOMEM;
		}
	}
	if (rc == CERTMAP_OK && names->n == 0) {
		cm_buf_adds(why, "no map file entry for ");
		for (size_t i = 0; i < keys.n; i++) {
			cm_buf_adds(why, i > 0 ? ", \"" : "\"");
			cm_buf_add_escaped(why, (const unsigned char *)keys.v[i], strlen(keys.v[i]), 256);
			cm_buf_adds(why, "\"");
		}
		rc = CERTMAP_ERR_NOT_FOUND;
	}
	cm_strv_clear(&keys);
	return rc;
}

/* Appends "candidates: a, b" (after "; " when why holds text already). */
static void add_candidates(struct cm_buf *why, const struct cm_strv *names)
{
	if (names->n == 0) {
		return;
	}
	cm_buf_adds(why, why->len > 0 ? "; candidates: " : "candidates: ");
	for (size_t i = 0; i < names->n; i++) {
		cm_buf_adds(why, i > 0 ? ", " : "");
		cm_buf_add_escaped(why, (const unsigned char *)names->v[i], strlen(names->v[i]), 256);
	}
}

static void eval_one(const struct cm_rule *r, const struct cm_identity *id,
		     struct cm_rule_result *res)
{
	struct cm_buf why;

	/* Why a rule did not match is worked out only when a trace asks for
	 * it (cm_rule_note): most rules of a large configuration do not match,
	 * and the sentence costs more than the regular expression. */
	res->matched = cm_match_eval(r->match, id, NULL);
	if (!res->matched) {
		atomic_store_explicit(&res->done, true, memory_order_release);
		return;
	}
	cm_buf_init(&why, 16384);
	switch (rule_names(r, id, &res->names, &why)) {
	case CERTMAP_ERR_NOMEM:
		res->failed = true;
		break;
	case CERTMAP_ERR_TOO_LARGE:
		res->overflow = true;
		break;
	default:
		break;
	}
	/* The usual note is only the list of candidates (escaping a long
	 * LDAP filter again): cm_rule_note builds it when a trace asks.
	 * What the expansion said is kept now, with the candidates. */
	if (why.len > 0 || why.failed) {
		add_candidates(&why, &res->names);
		if (why.failed) {
			cm_buf_free(&why);
			cm_buf_init(&why, 64);
			cm_buf_adds(&why, "(note too long)");
		}
		res->note = cm_buf_steal(&why, NULL);
		res->failed = res->failed || res->note == NULL;
	}
	cm_buf_free(&why);
	if (res->failed) {
		/* Out of memory: leave the result undone so a later call retries. */
		free(res->note);
		res->note = NULL;
		cm_strv_clear(&res->names);
		res->failed = false;
		return;
	}
	atomic_store_explicit(&res->done, true, memory_order_release);
}

char *cm_rule_note(const struct cm_cert_entry *e, size_t i)
{
	const struct cm_rule_result *res = &e->results[i];
	struct cm_buf why;

	if (res->note != NULL) {
		return strdup(res->note);
	}
	cm_buf_init(&why, 16384);
	if (res->matched) {
		add_candidates(&why, &res->names);
		cm_buf_add(&why, "", 0); /* "" when there are none */
		if (why.failed) {
			cm_buf_free(&why);
			return strdup("(note too long)");
		}
		return cm_buf_steal(&why, NULL);
	}
	(void)cm_match_eval(e->cfg->rules[i].match, e->id, &why);
	if (why.failed) {
		cm_buf_free(&why);
		return strdup("(note too long)");
	}
	/* The matcher ends each sentence with ". "; drop the last space. */
	while (why.len > 0 && why.data[why.len - 1] == ' ') {
		why.data[--why.len] = '\0';
	}
	return cm_buf_steal(&why, NULL);
}
