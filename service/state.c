/*
 * What every part of certmapd shares: the configuration generations and
 * their reload, the counters of every serving thread, the clock. Nothing
 * here calls the serving threads, dispatch or the lookups.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "context.h"
#include "daemon.h"

const unsigned int cmd_lat_bounds_us[CMD_LAT_BUCKETS] = {
    10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000, 1000000,
};

uint64_t cmd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t cmd_now_ms(void)
{
	return cmd_now_us() / 1000u;
}

void cmd_stats_latency(struct cmd_stats *s, uint64_t us)
{
	size_t i = 0;

	while (i < CMD_LAT_BUCKETS && us > cmd_lat_bounds_us[i]) {
		i++;
	}
	cmd_stats_add(s, CMD_C_LATENCY + i, 1);
	cmd_stats_add(s, CMD_C_LATENCY_SUM_US, us);
}

void cmd_state_stats(struct cmd_state *st, struct cmd_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < st->n_stats; i++) {
		for (int c = 0; c < CMD_C_COUNT; c++) {
			cmd_stats_add(sum, c, cmd_stats_get(st->stats[i], c));
		}
	}
}

/* ---------------------------------------------------------------- generations */

struct cmd_gen *cmd_gen_load(const char *path, unsigned int cache_shards, char **errmsg)
{
	struct cmd_gen *g = calloc(1, sizeof(*g));

	*errmsg = NULL;
	if (g == NULL) {
		*errmsg = strdup("out of memory");
		return NULL;
	}
	if (certmap_ctx_new(path, &g->ctx, errmsg) != CERTMAP_OK) {
		free(g);
		return NULL;
	}
	g->cfg = cm_ctx_config(g->ctx);
	g->cache =
	    cm_cache_new(g->cfg->service.cache_size, (uint64_t)g->cfg->service.cache_ttl * 1000u,
			 cache_shards);
	if (g->cache == NULL) {
		certmap_ctx_free(g->ctx);
		free(g);
		*errmsg = strdup("out of memory");
		return NULL;
	}
	atomic_init(&g->refs, 1);
	return g;
}

struct cmd_gen *cmd_gen_ref(struct cmd_gen *g)
{
	atomic_fetch_add(&g->refs, 1);
	return g;
}

void cmd_gen_unref(struct cmd_gen *g)
{
	if (g != NULL && atomic_fetch_sub(&g->refs, 1) == 1) {
		cm_cache_free(g->cache);
		certmap_ctx_free(g->ctx);
		free(g);
	}
}

void cmd_state_refresh_gen(struct cmd_state *st, struct cmd_gen **g, unsigned int *seq)
{
	struct cmd_gen *old = *g;

	/* The common case, no reload since the last look, takes no lock. */
	if (old != NULL && atomic_load(&st->gen_seq) == *seq) {
		return;
	}
	pthread_mutex_lock(&st->gen_lock);
	*g = cmd_gen_ref(st->gen);
	*seq = atomic_load(&st->gen_seq);
	pthread_mutex_unlock(&st->gen_lock);
	cmd_gen_unref(old);
}

/* Swaps in g for every thread (takes the caller's reference); returns the
 * generation it replaced, for the caller to release. */
static struct cmd_gen *state_swap_gen(struct cmd_state *st, struct cmd_gen *g)
{
	struct cmd_gen *old;

	pthread_mutex_lock(&st->gen_lock);
	old = st->gen;
	st->gen = g;
	atomic_fetch_add(&st->gen_seq, 1);
	pthread_mutex_unlock(&st->gen_lock);
	return old;
}

int cmd_reload(struct cmd_state *st, struct cmd_stats *stats, char **errmsg)
{
	struct cmd_gen *g, *old;
	const struct cm_service_conf *was, *now;

	/* Loading may take a while (files, trust anchors): the records of the
	 * answers before it are not held back meanwhile. */
	cmd_log_flush();
	g = cmd_gen_load(st->config_path, st->cache_shards, errmsg);
	if (g == NULL) {
		cmd_stats_add(stats, CMD_C_RELOAD_FAILURES, 1);
		cmd_log(LOG_ERR, "reload of %s failed, keeping the running configuration: %s",
			st->config_path, *errmsg != NULL ? *errmsg : "unknown error");
		return -1;
	}
	/* The new generation brings an empty cache: answers made under the
	 * old rules must not outlive them. Loops still using the old one hold
	 * their own references. */
	old = state_swap_gen(st, g);
	was = &old->cfg->service;
	now = &g->cfg->service;
	if (strcmp(was->socket, now->socket) != 0 || strcmp(was->user, now->user) != 0) {
		cmd_log(LOG_WARNING,
			"service.socket and service.user take effect at the next start");
	}
	cmd_gen_unref(old);
	cmd_stats_add(stats, CMD_C_RELOADS, 1);
	cmd_log(LOG_NOTICE, "configuration %s reloaded", st->config_path);
	return 0;
}
