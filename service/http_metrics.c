/*
 * certmapd's GET /metrics: the counters of every loop and listener, a
 * latency histogram, the cache size and each domain's backend state, in
 * the Prometheus text exposition format 0.0.4.
 */
#include "config.h"

#include <stdio.h>

#include "backend.h"
#include "cache.h"
#include "http_int.h"

static void metric(struct cm_buf *b, const char *name, const char *type, const char *help,
		   uint64_t v)
{
	cm_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
		      (unsigned long long)v);
}

/* A label value: backslash, double quote and newline escaped. */
static void label(struct cm_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"') {
			cm_buf_addc(b, '\\');
			cm_buf_addc(b, *s);
		} else if (*s == '\n') {
			cm_buf_adds(b, "\\n");
		} else {
			cm_buf_addc(b, *s);
		}
	}
}

/* 1 when the domain's backend answered its last lookup (ldap), or has
 * nothing remote to lose (local, certificate). */
static void backends(struct cm_buf *b, const struct cm_config *cfg)
{
	static const char *const types[] = {
	    [CM_DOMAIN_LOCAL] = "local", [CM_DOMAIN_LDAP] = "ldap", [CM_DOMAIN_CERT] = "certificate"};

	cm_buf_adds(b, "# HELP certmapd_backend_up Whether the domain's backend answered its last "
		       "lookup (1) or not (0).\n# TYPE certmapd_backend_up gauge\n");
	for (size_t i = 0; i < cfg->n_domains; i++) {
		const struct cm_domain *d = &cfg->domains[i];

		cm_buf_adds(b, "certmapd_backend_up{domain=\"");
		label(b, d->name);
		cm_buf_printf(b, "\",type=\"%s\"} %d\n",
			      (size_t)d->type < CM_ARRAY_SIZE(types) && types[d->type] != NULL
				  ? types[d->type]
				  : "other",
			      cm_backend_up(d) ? 1 : 0);
	}
}

void cmd_http_metrics(struct cmd_state *st, struct cmd_gen *gen, struct cmd_hans *a)
{
	static const struct {
		const char *name, *help;
		enum cmd_counter c;
	} counters[] = {
	    {"certmapd_requests_total", "Requests (varlink frames and HTTP /auth).",
	     CMD_C_REQUESTS},
	    {"certmapd_cache_hits_total", "Map answers served from the cache.", CMD_C_HITS},
	    {"certmapd_cache_misses_total", "Map requests that missed the cache.", CMD_C_MISSES},
	    {"certmapd_errors_total", "Error replies.", CMD_C_ERRORS},
	    {"certmapd_rejected_peers_total",
	     "Connections refused by peer credentials or connection limits.",
	     CMD_C_REJECTED_PEERS},
	    {"certmapd_timeouts_total", "Connections closed for a timeout.", CMD_C_TIMEOUTS},
	    {"certmapd_reloads_total", "Configuration reloads.", CMD_C_RELOADS},
	    {"certmapd_reload_failures_total", "Configuration reloads that failed.",
	     CMD_C_RELOAD_FAILURES},
	};
	static const struct {
		const char *verdict;
		enum cmd_counter c;
	} verdicts[] = {
	    {"mapped", CMD_C_MAPPED},
	    {"refused", CMD_C_REFUSED},
	    {"ambiguous", CMD_C_AMBIGUOUS},
	    {"error", CMD_C_FAILED},
	};
	struct cmd_stats sum;
	struct cm_buf *b = &a->body;
	uint64_t cum = 0;

	cmd_state_stats(st, &sum);
	a->code = 200;
	a->type = "text/plain; version=0.0.4; charset=utf-8";
	for (size_t i = 0; i < CM_ARRAY_SIZE(counters); i++) {
		metric(b, counters[i].name, "counter", counters[i].help,
		       cmd_stats_get(&sum, counters[i].c));
	}
	cm_buf_adds(b, "# HELP certmapd_decisions_total Map decisions by verdict (computed, "
			"not from the cache).\n# TYPE certmapd_decisions_total counter\n");
	for (size_t i = 0; i < CM_ARRAY_SIZE(verdicts); i++) {
		cm_buf_printf(b, "certmapd_decisions_total{verdict=\"%s\"} %llu\n",
			      verdicts[i].verdict,
			      (unsigned long long)cmd_stats_get(&sum, verdicts[i].c));
	}
	metric(b, "certmapd_connections", "gauge", "Open varlink and HTTP Unix connections.",
	       cmd_limits_count());
	metric(b, "certmapd_cache_entries", "gauge", "Answers in the cache.",
	       cm_cache_count(gen->cache));
	cm_buf_printf(b,
		      "# HELP certmapd_uptime_seconds Seconds since certmapd started.\n"
		      "# TYPE certmapd_uptime_seconds gauge\ncertmapd_uptime_seconds %.3f\n",
		      (double)(cmd_now_ms() - st->started_ms) / 1000.0);
	cm_buf_adds(b, "# HELP certmapd_request_duration_seconds Time to answer a request.\n"
			"# TYPE certmapd_request_duration_seconds histogram\n");
	for (size_t i = 0; i <= CMD_LAT_BUCKETS; i++) {
		cum += cmd_stats_get(&sum, CMD_C_LATENCY + i);
		if (i < CMD_LAT_BUCKETS) {
			cm_buf_printf(b, "certmapd_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
				      (double)cmd_lat_bounds_us[i] / 1e6, (unsigned long long)cum);
		} else {
			cm_buf_printf(b,
				      "certmapd_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
				      (unsigned long long)cum);
		}
	}
	cm_buf_printf(b, "certmapd_request_duration_seconds_sum %.6f\n",
		      (double)cmd_stats_get(&sum, CMD_C_LATENCY_SUM_US) / 1e6);
	cm_buf_printf(b, "certmapd_request_duration_seconds_count %llu\n", (unsigned long long)cum);
	backends(b, gen->cfg);
	if (b->failed) {
		cmd_hans_text(a, 500, "");
	}
}

