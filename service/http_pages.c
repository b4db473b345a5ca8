/*
 * certmapd's HTTP pages besides /auth: GET /metrics (Prometheus text
 * exposition 0.0.4) and GET /denied, the page a person sees when a proxy
 * refuses them. The page is plain HTML with no script and no external
 * resource, says what happened in words and what to do next, and shows
 * nothing of the configuration (no rule, filter or account name).
 */
#include "config.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "http_cert.h"
#include "http_int.h"

static enum MHD_Result send_buf(struct MHD_Connection *mc, unsigned int code, const char *type,
				struct cm_buf *b)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	if (b->failed) {
		return MHD_NO;
	}
	r = MHD_create_response_from_buffer(b->len, b->data, MHD_RESPMEM_MUST_COPY);
	if (r == NULL) {
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	rc = MHD_queue_response(mc, code, r);
	MHD_destroy_response(r);
	return rc;
}

/* ---------------------------------------------------------------- /metrics */

static void metric(struct cm_buf *b, const char *name, const char *type, const char *help,
		   uint64_t v)
{
	cm_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
		      (unsigned long long)v);
}

enum MHD_Result cmd_http_metrics(struct cmd_state *st, struct cmd_gen *gen,
				 struct MHD_Connection *mc)
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
	struct cm_buf b;
	uint64_t cum = 0;
	enum MHD_Result rc;

	cmd_state_stats(st, &sum);
	cm_buf_init(&b, 64 * 1024);
	for (size_t i = 0; i < CM_ARRAY_SIZE(counters); i++) {
		metric(&b, counters[i].name, "counter", counters[i].help,
		       cmd_stats_get(&sum, counters[i].c));
	}
	cm_buf_adds(&b, "# HELP certmapd_decisions_total Map decisions by verdict (computed, "
			"not from the cache).\n# TYPE certmapd_decisions_total counter\n");
	for (size_t i = 0; i < CM_ARRAY_SIZE(verdicts); i++) {
		cm_buf_printf(&b, "certmapd_decisions_total{verdict=\"%s\"} %llu\n",
			      verdicts[i].verdict,
			      (unsigned long long)cmd_stats_get(&sum, verdicts[i].c));
	}
	metric(&b, "certmapd_connections", "gauge", "Open varlink and HTTP Unix connections.",
	       cmd_limits_count());
	metric(&b, "certmapd_cache_entries", "gauge", "Answers in the cache.",
	       cm_cache_count(gen->cache));
	cm_buf_printf(&b,
		      "# HELP certmapd_uptime_seconds Seconds since certmapd started.\n"
		      "# TYPE certmapd_uptime_seconds gauge\ncertmapd_uptime_seconds %.3f\n",
		      (double)(cmd_now_ms() - st->started_ms) / 1000.0);
	cm_buf_adds(&b, "# HELP certmapd_request_duration_seconds Time to answer a request.\n"
			"# TYPE certmapd_request_duration_seconds histogram\n");
	for (size_t i = 0; i <= CMD_LAT_BUCKETS; i++) {
		cum += cmd_stats_get(&sum, CMD_C_LATENCY + i);
		if (i < CMD_LAT_BUCKETS) {
			cm_buf_printf(&b, "certmapd_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
				      (double)cmd_lat_bounds_us[i] / 1e6, (unsigned long long)cum);
		} else {
			cm_buf_printf(&b,
				      "certmapd_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
				      (unsigned long long)cum);
		}
	}
	cm_buf_printf(&b, "certmapd_request_duration_seconds_sum %.6f\n",
		      (double)cmd_stats_get(&sum, CMD_C_LATENCY_SUM_US) / 1e6);
	cm_buf_printf(&b, "certmapd_request_duration_seconds_count %llu\n", (unsigned long long)cum);
	rc = send_buf(mc, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", &b);
	cm_buf_free(&b);
	return rc;
}

/* ---------------------------------------------------------------- /denied */

struct denial {
	const char *code;  /* the X-Certmap-Reason code, or the page's own */
	const char *title; /* what happened */
	const char *next;  /* what to do */
};

static const struct denial denials[] = {
    {"no_certificate", "Your browser did not send a certificate.",
     "Make sure your certificate or smart card is available, then reload this page and "
     "choose your certificate when the browser asks for one."},
    {"expired", "Your certificate has expired.",
     "Ask for a new certificate, then try again with it."},
    {"not_yet_valid", "Your certificate is not valid yet.",
     "Check that the date and time of your computer are right, or wait until the "
     "certificate becomes valid."},
    {"untrusted", "Your certificate is not from an authority this site trusts.",
     "Use the certificate this organisation gave you."},
    {"revoked", "Your certificate has been revoked.",
     "Ask for a new certificate."},
    {"no_account", "No account here belongs to your certificate.",
     "If you should have access, ask for an account to be set up for this certificate."},
    {"no_rule_matched", "No account here belongs to your certificate.",
     "If you should have access, ask for an account to be set up for this certificate."},
    {"not_candidate", "Your certificate does not belong to the account you asked for.",
     "Sign in with the account your certificate belongs to."},
    {"uid_refused", "The account of your certificate may not sign in here.",
     "If you should have access, contact the administrators."},
    {"ambiguous", "Your certificate names several accounts, so this site cannot tell which "
		  "one is yours.",
     "Ask the administrators to make your certificate name only one account."},
    {"eku_missing", "Your certificate is not meant for signing in to websites.",
     "Use a certificate made for client authentication."},
    {"key_too_small", "Your certificate uses a key that is too weak.",
     "Ask for a new certificate."},
    {"invalid_certificate", "Your certificate could not be read.",
     "Ask for a new certificate."},
    {"backend_unavailable", "The sign-in service is unavailable at the moment.",
     "Try again in a few minutes."},
};

static const struct denial unknown_denial = {
    NULL, "You could not be signed in with your certificate.",
    "Try again; if it keeps happening, contact the administrators."};

static void add_html(struct cm_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': cm_buf_adds(b, "&amp;"); break;
		case '<': cm_buf_adds(b, "&lt;"); break;
		case '>': cm_buf_adds(b, "&gt;"); break;
		case '"': cm_buf_adds(b, "&quot;"); break;
		case '\'': cm_buf_adds(b, "&#39;"); break;
		default: cm_buf_addc(b, *s); break;
		}
	}
}

/*
 * The proxy's own verdict when it refused the certificate before asking
 * (nginx's 495 and $ssl_client_verify "FAILED:certificate has expired").
 * Only a few words are looked for; the text itself is never shown.
 */
static const char *reason_of_verify(const char *v)
{
	if (v == NULL || strncmp(v, "FAILED", 6) != 0) {
		return v != NULL && strcmp(v, "NONE") == 0 ? "no_certificate" : NULL;
	}
	if (strstr(v, "expired") != NULL) {
		return "expired";
	}
	if (strstr(v, "not yet valid") != NULL) {
		return "not_yet_valid";
	}
	return strstr(v, "revoked") != NULL ? "revoked" : "untrusted";
}

static const struct denial *denial_of(const char *r)
{
	for (size_t i = 0; r != NULL && i < CM_ARRAY_SIZE(denials); i++) {
		if (strcmp(r, denials[i].code) == 0) {
			return &denials[i];
		}
	}
	return &unknown_denial;
}

static const struct denial *find_denial(struct MHD_Connection *mc)
{
	const char *r = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "reason");

	if (r == NULL || r[0] == '\0') {
		r = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "X-Certmap-Reason");
	}
	if (r == NULL || r[0] == '\0') {
		r = reason_of_verify(MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
								 "X-Certmap-Verify"));
	}
	return denial_of(r);
}

/* "on 1 March 2026" from the certificate the proxy passed, if any. */
static void expiry_date(const struct cm_http_conf *hc, struct MHD_Connection *mc,
			struct cm_buf *b)
{
	static const char *const months[] = {"January", "February", "March",	 "April",
					     "May",	"June",	    "July",	 "August",
					     "September", "October", "November", "December"};
	const char *v = NULL, *why = NULL;
	size_t len = 0;
	struct cmh_certs certs;
	const unsigned char *p;
	X509 *x = NULL;
	struct tm tm;

	if (MHD_lookup_connection_value_n(mc, MHD_HEADER_KIND, hc->cert_header,
					  strlen(hc->cert_header), &v, &len) != MHD_YES ||
	    cmh_decode(hc->cert_format, v, len, &certs, &why) != CMH_OK) {
		return;
	}
	p = certs.der[0];
	if ((x = d2i_X509(NULL, &p, (long)certs.len[0])) != NULL &&
	    ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1 && tm.tm_mon >= 0 && tm.tm_mon < 12) {
		cm_buf_printf(b, " It expired on %d %s %d.", tm.tm_mday, months[tm.tm_mon],
			      tm.tm_year + 1900);
	}
	X509_free(x);
	cmh_certs_clear(&certs);
}

static void denial_page(const struct cm_http_conf *hc, struct MHD_Connection *mc,
			const struct denial *d, struct cm_buf *b)
{
	cm_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		       "<title>Access denied</title>\n</head>\n<body>\n<main>\n"
		       "<h1>Access denied</h1>\n<p id=\"reason\">");
	add_html(b, d->title);
	if (d->code != NULL && strcmp(d->code, "expired") == 0) {
		expiry_date(hc, mc, b);
	}
	cm_buf_adds(b, "</p>\n<p id=\"next\">");
	add_html(b, d->next);
	cm_buf_adds(b, "</p>\n");
	if (hc->contact_url != NULL) {
		cm_buf_adds(b, "<p id=\"contact\">For help, <a href=\"");
		add_html(b, hc->contact_url);
		cm_buf_adds(b, "\">contact the administrators</a>.</p>\n");
	}
	cm_buf_adds(b, "</main>\n</body>\n</html>\n");
}

void cmd_http_denial_body(const struct cm_http_conf *hc, struct MHD_Connection *mc,
			  const char *reason, struct cm_buf *b)
{
	denial_page(hc, mc, denial_of(reason), b);
}

enum MHD_Result cmd_http_denied(const struct cm_http_conf *hc, struct MHD_Connection *mc)
{
	struct cm_buf b;
	enum MHD_Result rc;

	cm_buf_init(&b, 64 * 1024);
	denial_page(hc, mc, find_denial(mc), &b);
	rc = send_buf(mc, MHD_HTTP_FORBIDDEN, "text/html; charset=utf-8", &b);
	cm_buf_free(&b);
	return rc;
}
