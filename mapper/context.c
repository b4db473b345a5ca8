/*
 * The public entry points: a context (configuration + verifier, immutable
 * after creation) and certmap_map(), which runs the pipeline for one
 * request: parse, verify, check request fields, decide.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "answer.h"
#include "certmap.h"
#include "certcache.h"
#include "conf.h"
#include "context.h"
#include "decision.h"
#include "verify.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

struct certmap_ctx {
	struct cm_config *cfg;
	struct cm_verifier *verifier;
	struct cm_cert_cache *certs;   /* the only mutable part; it locks itself */
};

const char *certmap_default_config(void)
{
	return SYSCONFDIR "/certmap/certmap.conf";
}

int certmap_ctx_new(const char *config_path, struct certmap_ctx **ctx, char **errmsg)
{
	struct certmap_ctx *c = NULL;
	int rc;

	if (ctx == NULL) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	*ctx = NULL;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	if (config_path == NULL) {
		config_path = certmap_default_config();
	}
	if ((rc = cm_config_load(config_path, &c->cfg, errmsg)) != CERTMAP_OK) {
		goto out;
	}
	if ((rc = cm_verifier_new(&c->cfg->verify, &c->verifier, errmsg)) != CERTMAP_OK) {
		goto out;
	}
	if ((c->certs = cm_cert_cache_new(CM_CERT_CACHE_SIZE)) == NULL) {
		rc = CERTMAP_ERR_NOMEM;
		goto out;
	}
	*ctx = c;
	c = NULL;
out:
	certmap_ctx_free(c);
	return rc;
}

const struct cm_config *cm_ctx_config(const struct certmap_ctx *ctx)
{
	return ctx->cfg;
}

void certmap_ctx_free(struct certmap_ctx *ctx)
{
	if (ctx == NULL) {
		return;
	}
	cm_cert_cache_free(ctx->certs);
	cm_verifier_free(ctx->verifier);
	cm_config_free(ctx->cfg);
	free(ctx);
}

static void hex_digest(char out[65], const unsigned char d[32])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 0xf];
	}
	out[64] = '\0';
}

/* Checks the caller-supplied strings; refuses (in a) what is malformed. */
static bool request_fields_ok(const struct certmap_request *req, struct certmap_answer *a)
{
	if (req->user != NULL && strnlen(req->user, CM_MAX_USER_LEN + 1) > CM_MAX_USER_LEN) {
		cm_answer_refuse(a, CERTMAP_REASON_NOT_CANDIDATE,
				 "the requested user name is longer than %d bytes", CM_MAX_USER_LEN);
		return false;
	}
	if (req->upn_hint != NULL && req->upn_hint[0] != '\0' &&
	    !cm_hint_valid(req->upn_hint, CM_MAX_UPN_HINT_LEN)) {
		cm_answer_refuse(a, CERTMAP_REASON_HINT_INVALID,
				 "the UPN hint is not printable text of at most %d bytes",
				 CM_MAX_UPN_HINT_LEN);
		return false;
	}
	if (req->domain_hint != NULL && req->domain_hint[0] != '\0' &&
	    !cm_hint_valid(req->domain_hint, CM_MAX_DOMAIN_HINT_LEN)) {
		cm_answer_refuse(a, CERTMAP_REASON_HINT_INVALID,
				 "the domain hint is not printable text of at most %d bytes",
				 CM_MAX_DOMAIN_HINT_LEN);
		return false;
	}
	return true;
}

/*
 * The hint a request carries as raw RFC 4681 bytes (CERTMAP_REQ_HINT_DATA),
 * decoded into *hint. Returns CERTMAP_OK, CERTMAP_ERR_NOMEM, or
 * CERTMAP_ERR_HINT after refusing (in a) a malformed list or one given
 * together with a string hint: two sources for one choice is no choice.
 */
static int request_hint_data(const struct certmap_request *req, struct certmap_hint **hint,
			     struct certmap_answer *a)
{
	char *msg = NULL;
	int rc;

	*hint = NULL;
	if ((req->flags & CERTMAP_REQ_HINT_DATA) == 0) {
		return CERTMAP_OK;
	}
	if (req->user_mapping_data == NULL && req->user_mapping_data_len > 0) {
		rc = CERTMAP_ERR_INVALID_ARG;
		goto out;
	}
	rc = certmap_hint_decode(req->user_mapping_data, req->user_mapping_data_len, hint, &msg);
	if (rc == CERTMAP_ERR_HINT) {
		rc = cm_answer_refuse(a, CERTMAP_REASON_HINT_INVALID,
				      "the user-mapping data (RFC 4681) is malformed: %s",
				      msg != NULL ? msg : "cannot decode it");
		rc = rc == 0 ? CERTMAP_ERR_HINT : CERTMAP_ERR_NOMEM;
		goto out;
	}
	if (rc != CERTMAP_OK) {
		goto out;
	}
	if ((certmap_hint_upn(*hint) != NULL || certmap_hint_domain(*hint) != NULL) &&
	    ((req->upn_hint != NULL && req->upn_hint[0] != '\0') ||
	     (req->domain_hint != NULL && req->domain_hint[0] != '\0'))) {
		rc = cm_answer_refuse(a, CERTMAP_REASON_HINT_INVALID,
				      "both user-mapping data and a UPN or domain hint were given");
		rc = rc == 0 ? CERTMAP_ERR_HINT : CERTMAP_ERR_NOMEM;
	}
out:
	if (rc != CERTMAP_OK) {
		certmap_hint_free(*hint);
		*hint = NULL;
	}
	free(msg);
	return rc;
}

/*
 * The first moment after now at which this certificate's answer may change
 * by time alone: its notBefore (if still ahead), its notAfter, or a
 * validity bound of the trust store (CA expiry, CRL nextUpdate). Taken
 * whether or not verification is on, so that no cache outlives a
 * certificate.
 */
static int64_t answer_valid_until(const struct certmap_ctx *ctx, const struct cm_identity *id,
				  int64_t now)
{
	int64_t until = cm_verifier_next_change(ctx->verifier, now);

	if (id->not_before > now && id->not_before < until) {
		until = id->not_before;
	}
	if (id->not_after > now && id->not_after < until) {
		until = id->not_after;
	}
	return until;
}

int certmap_map(const struct certmap_ctx *ctx, const struct certmap_request *req,
		struct certmap_answer **answer)
{
	struct certmap_answer *a = NULL;
	struct cm_cert_entry *cert = NULL;
	struct certmap_hint *hint = NULL;
	struct certmap_request eff;
	enum certmap_reason reason;
	/* Before verification, so that a bound it passed is still ahead. */
	int64_t now = (int64_t)time(NULL);
	char *msg = NULL;
	bool hit;
	int rc;

	if (answer == NULL) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	*answer = NULL;
	if (ctx == NULL || req == NULL || (req->cert == NULL && req->cert_len > 0) ||
	    (req->n_chain > 0 && (req->chain == NULL || req->chain_len == NULL))) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	if ((a = cm_answer_new()) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	rc = CERTMAP_OK;
	if (req->n_chain > CM_MAX_CHAIN) {
		cm_answer_refuse(a, CERTMAP_REASON_INVALID_CERTIFICATE,
				 "more than %d chain certificates", CM_MAX_CHAIN);
		goto done;
	}
	rc = cm_cert_cache_get(ctx->certs, ctx->cfg, req->cert, req->cert_len, &cert, &hit, &msg);
	if (rc == CERTMAP_ERR_NOMEM) {
		goto out;
	}
	if (rc != CERTMAP_OK) {
		rc = CERTMAP_OK;
		cm_answer_refuse(a, CERTMAP_REASON_INVALID_CERTIFICATE, "%s",
				 msg != NULL ? msg : "the certificate cannot be parsed");
		goto done;
	}
	hex_digest(a->cert_sha256, cert->sha256);
	a->valid_until = answer_valid_until(ctx, cert->id, now);
	reason = cm_verify_memo(ctx->verifier, &cert->verify, cert->id, req->chain, req->chain_len,
				req->n_chain, 0, &msg, NULL);
	if (reason != CERTMAP_REASON_NONE) {
		cm_answer_refuse(a, reason, "%s", msg != NULL ? msg : certmap_reason_name(reason));
		goto done;
	}
	/* Field by field: a caller built against an older header has a
	 * shorter struct, whose end is not ours to read. */
	eff = (struct certmap_request){ .user = req->user, .upn_hint = req->upn_hint,
					.domain_hint = req->domain_hint,
					.flags = req->flags & ~CERTMAP_REQ_HINT_DATA };
	rc = request_hint_data(req, &hint, a);
	if (rc == CERTMAP_ERR_HINT) {
		rc = CERTMAP_OK;
		goto done;
	}
	if (rc != CERTMAP_OK) {
		goto out;
	}
	if (certmap_hint_upn(hint) != NULL || certmap_hint_domain(hint) != NULL) {
		eff.upn_hint = certmap_hint_upn(hint);
		eff.domain_hint = certmap_hint_domain(hint);
	}
	if (!request_fields_ok(&eff, a)) {
		goto done;
	}
	rc = cm_decide(cert, &eff, a);
	if (rc != CERTMAP_OK) {
		goto out;
	}
done:
	/* A refusal whose sentence could not be allocated still denies. */
	if (a->message == NULL && a->verdict != CERTMAP_VERDICT_MAPPED) {
		rc = CERTMAP_ERR_NOMEM;
		goto out;
	}
	*answer = a;
	a = NULL;
out:
	certmap_answer_free(a);
	cm_cert_entry_put(cert);
	certmap_hint_free(hint);
	free(msg);
	return rc;
}
