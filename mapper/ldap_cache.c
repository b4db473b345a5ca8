/* The answer cache of ldap domains (see ldap_cache.h). */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certmap.h"
#include "ldap_cache.h"

#define CACHE_BUCKETS 4096

struct entry {
	char *key;
	time_t expires;
	bool is_groups;
	struct cm_account_list list;
	struct cm_strv groups;
	struct entry *next;
};

struct cm_ldap_cache {
	pthread_mutex_t lock;
	size_t max, n;
	struct entry *bucket[CACHE_BUCKETS];
};

static time_t now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static size_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	}
	return (size_t)(h % CACHE_BUCKETS);
}

static void entry_free(struct entry *e)
{
	free(e->key);
	cm_account_list_clear(&e->list);
	cm_strv_clear(&e->groups);
	free(e);
}

struct cm_ldap_cache *cm_ldap_cache_new(size_t max_entries)
{
	struct cm_ldap_cache *c = calloc(1, sizeof(*c));

	if (c != NULL && pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	if (c != NULL) {
		c->max = max_entries;
	}
	return c;
}

void cm_ldap_cache_free(struct cm_ldap_cache *c)
{
	if (c == NULL) {
		return;
	}
	for (size_t i = 0; i < CACHE_BUCKETS; i++) {
		while (c->bucket[i] != NULL) {
			struct entry *e = c->bucket[i];

			c->bucket[i] = e->next;
			entry_free(e);
		}
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static int strv_copy(struct cm_strv *dst, const struct cm_strv *src)
{
	for (size_t i = 0; i < src->n; i++) {
		if (cm_strv_add(dst, src->v[i]) != 0) {
			return CERTMAP_ERR_NOMEM;
		}
	}
	return CERTMAP_OK;
}

static char *dup_or_null(const char *s, bool *failed)
{
	char *d = s != NULL ? strdup(s) : NULL;

	*failed = *failed || (s != NULL && d == NULL);
	return d;
}

static int account_copy(struct cm_account *dst, const struct cm_account *src)
{
	bool failed = false;

	dst->uid = src->uid;
	dst->gid = src->gid;
	dst->name = dup_or_null(src->name, &failed);
	dst->home = dup_or_null(src->home, &failed);
	dst->dn = dup_or_null(src->dn, &failed);
	dst->sid = dup_or_null(src->sid, &failed);
	if (failed || strv_copy(&dst->groups, &src->groups) != CERTMAP_OK ||
	    strv_copy(&dst->member_of, &src->member_of) != CERTMAP_OK) {
		return CERTMAP_ERR_NOMEM;
	}
	return CERTMAP_OK;
}

static int list_copy(struct cm_account_list *dst, const struct cm_account_list *src)
{
	bool failed = false;

	memset(dst, 0, sizeof(*dst));
	dst->truncated = src->truncated;
	dst->trace = dup_or_null(src->trace, &failed);
	dst->v = calloc(src->n > 0 ? src->n : 1, sizeof(*dst->v));
	if (failed || dst->v == NULL || strv_copy(&dst->skipped, &src->skipped) != CERTMAP_OK) {
		return CERTMAP_ERR_NOMEM;
	}
	for (size_t i = 0; i < src->n; i++) {
		dst->n++;
		if (account_copy(&dst->v[i], &src->v[i]) != CERTMAP_OK) {
			return CERTMAP_ERR_NOMEM;
		}
	}
	return CERTMAP_OK;
}

/* The live entry for key (expired ones are removed on the way). */
static struct entry *find(struct cm_ldap_cache *c, const char *key, bool is_groups)
{
	struct entry **pp = &c->bucket[hash(key)];
	time_t now = now_sec();

	while (*pp != NULL) {
		struct entry *e = *pp;

		if (e->expires <= now) {
			*pp = e->next;
			entry_free(e);
			c->n--;
			continue;
		}
		if (e->is_groups == is_groups && strcmp(e->key, key) == 0) {
			return e;
		}
		pp = &e->next;
	}
	return NULL;
}

static void drop_expired(struct cm_ldap_cache *c)
{
	time_t now = now_sec();

	for (size_t i = 0; i < CACHE_BUCKETS; i++) {
		struct entry **pp = &c->bucket[i];

		while (*pp != NULL) {
			struct entry *e = *pp;

			if (e->expires > now) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			entry_free(e);
			c->n--;
		}
	}
}

int cm_ldap_cache_get_list(struct cm_ldap_cache *c, const char *key,
			   struct cm_account_list *out, bool *hit)
{
	struct entry *e;
	int rc = CERTMAP_OK;

	memset(out, 0, sizeof(*out));
	*hit = false;
	pthread_mutex_lock(&c->lock);
	if ((e = find(c, key, false)) != NULL) {
		rc = list_copy(out, &e->list);
		*hit = rc == CERTMAP_OK;
	}
	pthread_mutex_unlock(&c->lock);
	if (rc != CERTMAP_OK) {
		cm_account_list_clear(out);
	}
	return rc;
}

int cm_ldap_cache_get_groups(struct cm_ldap_cache *c, const char *key,
			     struct cm_strv *groups, bool *hit)
{
	struct entry *e;
	int rc = CERTMAP_OK;

	cm_strv_clear(groups);
	*hit = false;
	pthread_mutex_lock(&c->lock);
	if ((e = find(c, key, true)) != NULL) {
		rc = strv_copy(groups, &e->groups);
		*hit = rc == CERTMAP_OK;
	}
	pthread_mutex_unlock(&c->lock);
	if (rc != CERTMAP_OK) {
		cm_strv_clear(groups);
	}
	return rc;
}

/* Inserts e (replacing an entry with its key), or frees it when full. */
static void insert(struct cm_ldap_cache *c, struct entry *e)
{
	struct entry *old;

	pthread_mutex_lock(&c->lock);
	if ((old = find(c, e->key, e->is_groups)) != NULL) {
		old->expires = 0;
		(void)find(c, e->key, e->is_groups);
	}
	if (c->n >= c->max) {
		drop_expired(c);
	}
	if (c->n < c->max) {
		size_t h = hash(e->key);

		e->next = c->bucket[h];
		c->bucket[h] = e;
		c->n++;
		e = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (e != NULL) {
		entry_free(e);
	}
}

static struct entry *entry_new(const char *key, unsigned int ttl, bool is_groups)
{
	struct entry *e = calloc(1, sizeof(*e));

	if (e == NULL || (e->key = strdup(key)) == NULL) {
		free(e);
		return NULL;
	}
	e->expires = now_sec() + (time_t)ttl;
	e->is_groups = is_groups;
	return e;
}

int cm_ldap_cache_put_list(struct cm_ldap_cache *c, const char *key,
			   const struct cm_account_list *l, unsigned int ttl)
{
	struct entry *e;

	if (ttl == 0 || c->max == 0) {
		return CERTMAP_OK;
	}
	if ((e = entry_new(key, ttl, false)) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	if (list_copy(&e->list, l) != CERTMAP_OK) {
		entry_free(e);
		return CERTMAP_ERR_NOMEM;
	}
	insert(c, e);
	return CERTMAP_OK;
}

int cm_ldap_cache_put_groups(struct cm_ldap_cache *c, const char *key,
			     const struct cm_strv *groups, unsigned int ttl)
{
	struct entry *e;

	if (ttl == 0 || c->max == 0) {
		return CERTMAP_OK;
	}
	if ((e = entry_new(key, ttl, true)) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	if (strv_copy(&e->groups, groups) != CERTMAP_OK) {
		entry_free(e);
		return CERTMAP_ERR_NOMEM;
	}
	insert(c, e);
	return CERTMAP_OK;
}
