/*
 * pam_certmap: certificate login through the PAM stack.
 *
 * The certificate comes from the PAM environment (a web server or VPN
 * exported it there), is mapped in-process by libcertmap or by certmapd,
 * and only a complete, positive mapping returns PAM_SUCCESS. The module
 * never converses with the user.
 *
 * Decisions documented in pam_certmap(8):
 * - auth and account run the same mapping. pam_sm_acct_mgmt does not
 *   trust what authenticate remembered: it maps the certificate again and
 *   requires PAM_USER to be one of its candidates, so an account stack
 *   that uses pam_certmap after another module authenticated still checks
 *   the certificate, and a certificate that expired or an account that
 *   went away since authentication is caught. It never sets PAM_USER.
 * - pam_sm_setcred has no credentials to set. It returns PAM_SUCCESS only
 *   when pam_sm_authenticate succeeded in the same handle for the same
 *   PAM_USER (remembered with pam_set_data), PAM_IGNORE when authenticate
 *   ignored a missing certificate (ignore_no_cert), PAM_CRED_ERR otherwise.
 * - CERTMAP_GROUPS and CERTMAP_RULE are removed from the PAM environment
 *   when a hook starts, and written only on success, so that a value set
 *   by the application or an earlier module is never mistaken for ours.
 * - CERTMAP_GROUPS splits on commas into exactly the exported names: a
 *   group whose name holds a comma (or is empty, or holds a control byte)
 *   is left out and logged.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/evp.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "audit.h"
#include "certmap.h"
#include "pam_certmap.h"
#include "util.h"

#define AUTH_DATA_KEY "pam_certmap_auth"
#define LOG_CAP 128 /* bytes of one certificate-derived string in a log line */
#define ENV_CAP (64 * 1024)

/* What pam_sm_authenticate leaves for pam_sm_setcred. */
struct auth_state {
	int rv;
	char *user;
};

/* The one NOTICE line per decision is built from this. */
struct decision_log {
	const char *verdict;
	const char *reason;
	const char *detail;
	const char *rule;
	const char *domain;
	const char *user;
	const char *requested;
	char sha256[65];
	const unsigned char *cert; /* DER, for the subject and issuer */
	size_t cert_len;
	uint64_t start_us;
};

/* ------------------------------------------------------------ logging */

static const char *pam_code_name(int rv)
{
	switch (rv) {
	case PAM_SUCCESS: return "PAM_SUCCESS";
	case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
	case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
	case PAM_CRED_INSUFFICIENT: return "PAM_CRED_INSUFFICIENT";
	case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
	case PAM_SERVICE_ERR: return "PAM_SERVICE_ERR";
	case PAM_BUF_ERR: return "PAM_BUF_ERR";
	case PAM_IGNORE: return "PAM_IGNORE";
	case PAM_CRED_ERR: return "PAM_CRED_ERR";
	default: return "PAM_other";
	}
}

/* Quoted and escaped: a value can neither leave its field nor forge a
 * line; at most LOG_CAP bytes are shown. */
static void log_add_value(struct cm_buf *b, const char *value)
{
	if (value == NULL || value[0] == '\0') {
		cm_buf_addc(b, '-');
		return;
	}
	cm_buf_add_quoted(b, (const unsigned char *)value, strnlen(value, LOG_CAP + 1), LOG_CAP);
}

static void audit_syslog(void *arg, const char *line)
{
	pam_syslog(arg, LOG_NOTICE, "%s", line);
}

static const char *pam_item_text(pam_handle_t *pamh, int item)
{
	const void *v = NULL;

	if (pam_get_item(pamh, item, &v) != PAM_SUCCESS) {
		return NULL;
	}
	return v;
}

/* One record per decision (mapper/audit.c words it). */
static void decision_log_write(pam_handle_t *pamh, const struct decision_log *d, int rv)
{
	struct cm_audit r = {
	    .ident = "pam_certmap",
	    .prefix = pam_code_name(rv),
	    .verdict = d->verdict != NULL ? d->verdict : "error",
	    .reason = d->reason,
	    .message = d->detail,
	    .user = d->user,
	    .rule = d->rule,
	    .domain = d->domain,
	    .requested = d->requested,
	    .cert_sha256 = d->sha256,
	    .cert = d->cert,
	    .cert_len = d->cert_len,
	    .service = pam_item_text(pamh, PAM_SERVICE),
	    .rhost = pam_item_text(pamh, PAM_RHOST),
	    .time_us = cm_audit_now_us() - d->start_us,
	};

	cm_audit_log(&r, audit_syslog, pamh);
}

static void sha256_hex(const unsigned char *der, size_t len, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = '\0';
	if (EVP_Digest(der, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32) {
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 0xf];
	}
	out[64] = '\0';
}

/* ------------------------------------------------------------ verdicts */

static int reason_to_pam(pam_handle_t *pamh, enum certmap_reason reason)
{
	switch (reason) {
	case CERTMAP_REASON_NO_RULE_MATCHED:
	case CERTMAP_REASON_NO_ACCOUNT: return PAM_USER_UNKNOWN;
	case CERTMAP_REASON_BACKEND_UNAVAILABLE: return PAM_AUTHINFO_UNAVAIL;
	case CERTMAP_REASON_CONFIG_ERROR: return PAM_SERVICE_ERR;
	case CERTMAP_REASON_AMBIGUOUS:
	case CERTMAP_REASON_NOT_CANDIDATE:
	case CERTMAP_REASON_UNTRUSTED:
	case CERTMAP_REASON_EXPIRED:
	case CERTMAP_REASON_NOT_YET_VALID:
	case CERTMAP_REASON_REVOKED:
	case CERTMAP_REASON_EKU_MISSING:
	case CERTMAP_REASON_KEY_TOO_SMALL:
	case CERTMAP_REASON_UID_REFUSED:
	case CERTMAP_REASON_SID_MISMATCH:
	case CERTMAP_REASON_INVALID_CERTIFICATE:
	case CERTMAP_REASON_HINT_INVALID: return PAM_AUTH_ERR;
	case CERTMAP_REASON_NONE:
	case CERTMAP_REASON__MAX:
	default:
		pam_syslog(pamh, LOG_ERR, "refusal without a known reason (%d): denied",
			   (int)reason);
		return PAM_AUTH_ERR;
	}
}

/* Maps an answer to a PAM code; only "mapped" is PAM_SUCCESS. */
static int answer_to_pam(pam_handle_t *pamh, const struct certmap_answer *ans)
{
	enum certmap_verdict v = certmap_answer_verdict(ans);

	switch (v) {
	case CERTMAP_VERDICT_MAPPED: return PAM_SUCCESS;
	case CERTMAP_VERDICT_AMBIGUOUS: return PAM_AUTH_ERR;
	case CERTMAP_VERDICT_REFUSED:
	case CERTMAP_VERDICT_ERROR: return reason_to_pam(pamh, certmap_answer_reason(ans));
	default:
		pam_syslog(pamh, LOG_ERR, "unknown verdict %d: denied", (int)v);
		return PAM_AUTH_ERR;
	}
}

/* ------------------------------------------------------------ mapping */

static int map_in_process(pam_handle_t *pamh, const struct cm_pam_opts *o,
			  const struct certmap_request *req, struct certmap_answer **ans,
			  struct decision_log *d)
{
	struct certmap_ctx *ctx = NULL;
	char *err = NULL;
	int rv = PAM_AUTH_ERR;
	int rc;

	rc = certmap_ctx_new(o->config, &ctx, &err);
	if (rc == CERTMAP_ERR_NOMEM) {
		rv = PAM_BUF_ERR;
		goto out;
	}
	if (rc != CERTMAP_OK) {
		/* The configuration is the administrator's: log it in full. */
		pam_syslog(pamh, LOG_ERR, "cannot load %s: %s",
			   o->config != NULL ? o->config : certmap_default_config(),
			   err != NULL ? err : certmap_strerror(rc));
		d->detail = "configuration cannot be loaded";
		rv = PAM_SERVICE_ERR;
		goto out;
	}
	rc = certmap_map(ctx, req, ans);
	switch (rc) {
	case CERTMAP_OK: rv = PAM_SUCCESS; break;
	case CERTMAP_ERR_NOMEM: rv = PAM_BUF_ERR; break;
	default:
		pam_syslog(pamh, LOG_ERR, "mapping failed: %s", certmap_strerror(rc));
		rv = PAM_AUTH_ERR;
		break;
	}
out:
	certmap_ctx_free(ctx);
	free(err);
	return rv;
}

/* ------------------------------------------------------------ results */

/* A name without '=' removes a variable (libpam logs an error when it
 * does not exist, so look first). */
static void env_unset(pam_handle_t *pamh, const char *name)
{
	if (pam_getenv(pamh, name) != NULL) {
		(void)pam_putenv(pamh, name);
	}
}

static void env_clear(pam_handle_t *pamh)
{
	env_unset(pamh, CM_PAM_ENV_GROUPS);
	env_unset(pamh, CM_PAM_ENV_RULE);
}

/*
 * CERTMAP_GROUPS is a comma-separated list, so a group name that holds a
 * comma would read as several groups ("x,wheel" as membership of wheel).
 * Such names, empty ones and ones with control bytes cannot be written
 * unambiguously: they are left out, not escaped, because an application
 * that splits on commas would not unescape. Leaving a group out only ever
 * takes a membership away.
 */
static bool group_exportable(const char *name)
{
	if (name == NULL || name[0] == '\0') {
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p == ',' || *p < 0x20 || *p == 0x7f) {
			return false;
		}
	}
	return true;
}

static void group_left_out_log(pam_handle_t *pamh, const char *user, const char *group)
{
	struct cm_buf b;
	char *line = NULL;

	cm_buf_init(&b, 1024);
	cm_buf_adds(&b, "group ");
	log_add_value(&b, group);
	cm_buf_adds(&b, " of user ");
	log_add_value(&b, user);
	cm_buf_adds(&b, " left out of " CM_PAM_ENV_GROUPS
			": its name is empty or holds a comma or a control character");
	line = cm_buf_steal(&b, NULL);
	pam_syslog(pamh, LOG_WARNING, "%s",
		   line != NULL ? line : "a group left out of " CM_PAM_ENV_GROUPS);
	free(line);
	cm_buf_free(&b);
}

static char *groups_env(pam_handle_t *pamh, const struct certmap_answer *ans)
{
	struct cm_buf b;
	size_t n = certmap_answer_n_groups(ans);
	bool first = true;
	char *s;

	cm_buf_init(&b, ENV_CAP);
	cm_buf_adds(&b, CM_PAM_ENV_GROUPS "=");
	for (size_t i = 0; i < n; i++) {
		const char *g = certmap_answer_group(ans, i);

		if (!group_exportable(g)) {
			group_left_out_log(pamh, certmap_answer_user(ans), g);
			continue;
		}
		cm_buf_adds(&b, first ? "" : ",");
		cm_buf_adds(&b, g);
		first = false;
	}
	s = cm_buf_steal(&b, NULL);
	cm_buf_free(&b);
	return s;
}

/* Writes the environment, then PAM_USER when it was empty. */
static int result_export(pam_handle_t *pamh, const struct certmap_answer *ans, bool set_user)
{
	char *groups = NULL;
	char *rule = NULL;
	int rv = PAM_BUF_ERR;

	if ((groups = groups_env(pamh, ans)) == NULL ||
	    (rule = cm_asprintf(CM_PAM_ENV_RULE "=%s", certmap_answer_rule(ans))) == NULL) {
		goto out;
	}
	if ((rv = pam_putenv(pamh, groups)) != PAM_SUCCESS ||
	    (rv = pam_putenv(pamh, rule)) != PAM_SUCCESS) {
		goto out;
	}
	if (set_user) {
		rv = pam_set_item(pamh, PAM_USER, certmap_answer_user(ans));
	}
out:
	if (rv != PAM_SUCCESS) {
		env_clear(pamh);
	}
	free(groups);
	free(rule);
	return rv;
}

/*
 * Accepts a "mapped" answer: it must name a user, and the requested user
 * when there was one (libcertmap and certmapd already ensure this; a
 * misbehaving service must still not log anyone in as someone else).
 */
static int result_accept(pam_handle_t *pamh, const struct certmap_answer *ans,
			 const char *requested)
{
	const char *user = certmap_answer_user(ans);

	if (user == NULL || user[0] == '\0' ||
	    (requested != NULL && strcmp(user, requested) != 0) ||
	    certmap_answer_rule(ans) == NULL) {
		pam_syslog(pamh, LOG_ERR,
			   "a mapped answer without a user and rule, "
			   "or for another user than PAM_USER: denied");
		return PAM_AUTH_ERR;
	}
	return result_export(pamh, ans, requested == NULL);
}

static void decision_from_answer(struct decision_log *d, const struct certmap_answer *ans)
{
	d->verdict = certmap_verdict_name(certmap_answer_verdict(ans));
	d->reason = certmap_reason_name(certmap_answer_reason(ans));
	d->rule = certmap_answer_rule(ans);
	d->domain = certmap_answer_domain(ans);
	d->user = certmap_answer_user(ans);
	d->detail = certmap_answer_message(ans);
}

/*
 * A certificate-only identity (a domain of type certificate) is mapped but
 * is no account: PAM's callers (login, sshd, su) need a real one, so it is
 * refused and fails closed, PAM_USER and the environment untouched.
 */
static bool has_account(struct decision_log *d, const struct certmap_answer *ans)
{
	if (certmap_answer_has_account(ans)) {
		return true;
	}
	d->verdict = "refused";
	d->reason = "no_account";
	d->detail = "a certificate-only identity (domain of type certificate) "
		    "has no system account, which PAM needs";
	return false;
}

/* ------------------------------------------------------------ the hooks */

/* PAM_USER, or NULL when it is not set or empty. */
static int requested_user(pam_handle_t *pamh, const char **user)
{
	const void *item = NULL;
	int rv;

	*user = NULL;
	if ((rv = pam_get_item(pamh, PAM_USER, &item)) != PAM_SUCCESS) {
		return rv;
	}
	if (item != NULL && ((const char *)item)[0] != '\0') {
		*user = item;
	}
	return PAM_SUCCESS;
}

static int cert_from_env(pam_handle_t *pamh, const struct cm_pam_opts *o, unsigned char **der,
			 size_t *der_len, struct decision_log *d)
{
	const char *why = NULL;

	switch (cm_pam_cert_decode(pam_getenv(pamh, o->cert_env), der, der_len, &why)) {
	case CM_PAM_CERT_OK: sha256_hex(*der, *der_len, d->sha256); return PAM_SUCCESS;
	case CM_PAM_CERT_NONE:
		d->verdict = "refused";
		d->detail = "no certificate in the PAM environment";
		return o->ignore_no_cert ? PAM_IGNORE : PAM_CRED_INSUFFICIENT;
	case CM_PAM_CERT_MALFORMED:
		d->verdict = "refused";
		d->reason = "invalid_certificate";
		d->detail = why;
		return PAM_AUTH_ERR;
	case CM_PAM_CERT_NOMEM: return PAM_BUF_ERR;
	default: return PAM_AUTH_ERR;
	}
}

/* The raw RFC 4681 bytes named by user_mapping_data_env=, into req. */
static int hint_from_env(pam_handle_t *pamh, const struct cm_pam_opts *o,
			 struct certmap_request *req, unsigned char **data, struct decision_log *d)
{
	const char *why = NULL;
	size_t len = 0;

	if (o->user_mapping_data_env == NULL) {
		return PAM_SUCCESS;
	}
	switch (cm_pam_hint_decode(pam_getenv(pamh, o->user_mapping_data_env), data, &len, &why)) {
	case CM_PAM_CERT_OK:
		req->flags |= CERTMAP_REQ_HINT_DATA;
		req->user_mapping_data = *data;
		req->user_mapping_data_len = len;
		return PAM_SUCCESS;
	case CM_PAM_CERT_NONE: return PAM_SUCCESS;
	case CM_PAM_CERT_MALFORMED:
		d->verdict = "refused";
		d->reason = "hint_invalid";
		d->detail = why;
		return PAM_AUTH_ERR;
	case CM_PAM_CERT_NOMEM: return PAM_BUF_ERR;
	default: return PAM_AUTH_ERR;
	}
}

static int certmap_run(pam_handle_t *pamh, struct decision_log *d, const struct cm_pam_opts *o,
		       bool may_set_user)
{
	struct certmap_request req = {0};
	struct certmap_answer *ans = NULL;
	unsigned char *der = NULL, *hint = NULL;
	size_t der_len = 0;
	int rv = PAM_AUTH_ERR;

	if ((rv = requested_user(pamh, &req.user)) != PAM_SUCCESS) {
		goto out;
	}
	d->requested = req.user;
	if (!may_set_user && req.user == NULL) {
		d->detail = "no PAM_USER to check";
		rv = PAM_USER_UNKNOWN;
		goto out;
	}
	if ((rv = cert_from_env(pamh, o, &der, &der_len, d)) != PAM_SUCCESS) {
		goto out;
	}
	req.cert = der;
	req.cert_len = der_len;
	d->cert = der;
	d->cert_len = der_len;
	req.upn_hint = pam_getenv(pamh, o->upn_hint_env);
	req.domain_hint = pam_getenv(pamh, o->domain_hint_env);
	if ((rv = hint_from_env(pamh, o, &req, &hint, d)) != PAM_SUCCESS) {
		goto out;
	}
	if (o->debug) {
		pam_syslog(pamh, LOG_DEBUG, "%zu-byte certificate from %s, mapping via %s", der_len,
			   o->cert_env, o->socket != NULL ? o->socket : "libcertmap");
	}
	if (o->socket != NULL) {
		rv = cm_pam_map_socket(pamh, o, &req, &ans);
	} else {
		rv = map_in_process(pamh, o, &req, &ans, d);
	}
	if (rv != PAM_SUCCESS) {
		goto out;
	}
	decision_from_answer(d, ans);
	if ((rv = answer_to_pam(pamh, ans)) == PAM_SUCCESS) {
		rv = has_account(d, ans) ? result_accept(pamh, ans, req.user) : PAM_AUTH_ERR;
	}
out:
	decision_log_write(pamh, d, rv);
	certmap_answer_free(ans);
	free(der);
	free(hint);
	return rv;
}

/* Runs one hook: options, then the mapping; one NOTICE line either way. */
static int certmap_hook(pam_handle_t *pamh, int argc, const char **argv, bool may_set_user)
{
	struct decision_log d = {.start_us = cm_audit_now_us()};
	struct cm_pam_opts o;
	int rv = PAM_AUTH_ERR;

	env_clear(pamh);
	if ((rv = cm_pam_opts_parse(pamh, argc, argv, &o)) != PAM_SUCCESS) {
		d.detail = "bad module options";
		decision_log_write(pamh, &d, rv);
		goto out;
	}
	rv = certmap_run(pamh, &d, &o, may_set_user);
out:
	return rv;
}

static void auth_state_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
	struct auth_state *st = data;

	if (st != NULL) {
		free(st->user);
		free(st);
	}
}

/* Remembers authenticate's result for setcred; failing to is a failure. */
static int auth_state_save(pam_handle_t *pamh, int rv)
{
	struct auth_state *st = NULL;
	const char *user = NULL;
	int r;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		return PAM_BUF_ERR;
	}
	st->rv = rv;
	if (rv == PAM_SUCCESS && (r = requested_user(pamh, &user)) == PAM_SUCCESS && user != NULL &&
	    (st->user = strdup(user)) == NULL) {
		free(st);
		return PAM_BUF_ERR;
	}
	if ((r = pam_set_data(pamh, AUTH_DATA_KEY, st, auth_state_cleanup)) != PAM_SUCCESS) {
		auth_state_cleanup(pamh, st, 0);
		return r;
	}
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const char *user = NULL;
	bool had_user;
	int rv = PAM_AUTH_ERR;
	int r;

	had_user = requested_user(pamh, &user) == PAM_SUCCESS && user != NULL;
	rv = certmap_hook(pamh, argc, argv, true);
	if ((r = auth_state_save(pamh, rv)) != PAM_SUCCESS && rv == PAM_SUCCESS) {
		/* setcred could not tell this success from a failure: undo it. */
		env_clear(pamh);
		if (!had_user) {
			(void)pam_set_item(pamh, PAM_USER, NULL);
		}
		rv = r;
	}
	return rv;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const struct auth_state *st = NULL;
	const void *data = NULL;
	const char *user = NULL;
	int rv = PAM_CRED_ERR;

	if (pam_get_data(pamh, AUTH_DATA_KEY, &data) != PAM_SUCCESS || data == NULL) {
		goto out;
	}
	st = data;
	switch (st->rv) {
	case PAM_SUCCESS:
		if (requested_user(pamh, &user) == PAM_SUCCESS && user != NULL &&
		    st->user != NULL && strcmp(user, st->user) == 0) {
			rv = PAM_SUCCESS;
		}
		break;
	case PAM_IGNORE: rv = PAM_IGNORE; break;
	default: rv = PAM_CRED_ERR; break;
	}
out:
	return rv;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	int rv = PAM_AUTH_ERR;

	rv = certmap_hook(pamh, argc, argv, false);
	return rv;
}
