/*
 * pam_certmap internals: options and the certificate taken from the PAM
 * environment. Only the pam_sm_* hooks leave the module (pam_certmap.sym).
 */
#ifndef CM_PAM_CERTMAP_H
#define CM_PAM_CERTMAP_H

#include <stdbool.h>
#include <stddef.h>

#include <security/pam_modules.h>

#define CM_PAM_DEFAULT_CERT_ENV "SSL_CLIENT_CERT"
#define CM_PAM_DEFAULT_UPN_HINT_ENV "SSL_CLIENT_UPN_HINT"
#define CM_PAM_DEFAULT_DOMAIN_HINT_ENV "SSL_CLIENT_DOMAIN_HINT"
#define CM_PAM_DEFAULT_TIMEOUT 5UL /* seconds, socket mode */
#define CM_PAM_MAX_TIMEOUT 300UL
#define CM_PAM_MAX_ENV_NAME 64
#define CM_PAM_MAX_PATH 4096
/* A PEM or base64 text of a 64 KiB DER certificate with line breaks and
 * some slack; longer environment values are refused, not cut. */
#define CM_PAM_MAX_CERT_TEXT (128 * 1024)
#define CM_PAM_MAX_CERT_DER (64 * 1024)
/* The base64 text of the largest RFC 4681 UserMappingDataList (65537
 * bytes) with line breaks and some slack. */
#define CM_PAM_MAX_HINT_TEXT (128 * 1024)

/* The environment variables the module writes, on success only. */
#define CM_PAM_ENV_GROUPS "CERTMAP_GROUPS"
#define CM_PAM_ENV_RULE "CERTMAP_RULE"

struct cm_pam_opts {
	const char *config;    /* in-process mode; NULL: the default file */
	const char *socket;    /* socket mode when not NULL */
	unsigned long timeout; /* seconds, socket mode */
	const char *server_user; /* socket mode: the account certmapd runs as, or NULL */
	const char *cert_env;
	const char *upn_hint_env;
	const char *domain_hint_env;
	const char *user_mapping_data_env; /* raw RFC 4681 bytes, base64; NULL: none */
	bool debug;
	bool ignore_no_cert;
};

/*
 * Fills o with the defaults, then applies argv. Strings in o point into
 * argv (which libpam keeps for the life of the handle). An unknown option,
 * a known option with a bad value, or config= together with socket=, is
 * logged and gives PAM_SERVICE_ERR. Returns PAM_SUCCESS or PAM_SERVICE_ERR.
 */
int cm_pam_opts_parse(pam_handle_t *pamh, int argc, const char **argv, struct cm_pam_opts *o);

enum cm_pam_cert_status {
	CM_PAM_CERT_OK = 0,
	CM_PAM_CERT_NONE,      /* no variable, or only white space */
	CM_PAM_CERT_MALFORMED, /* *why says what is wrong */
	CM_PAM_CERT_NOMEM,
};

/*
 * Decodes a certificate as a PAM environment value holds it: one PEM
 * "CERTIFICATE" block (with real line breaks as mod_ssl exports it, or all
 * on one line, with spaces or tabs in place of the line breaks), or base64
 * DER without the PEM lines. text may be NULL (no variable). On CM_PAM_CERT_OK
 * *der is a malloc'd DER copy of *der_len bytes that the caller frees; on
 * CM_PAM_CERT_MALFORMED *why is a static sentence. Never parses the DER
 * itself: libcertmap does.
 */
enum cm_pam_cert_status cm_pam_cert_decode(const char *text, unsigned char **der, size_t *der_len,
					   const char **why);

/*
 * Decodes RFC 4681 user-mapping data as a PAM environment value holds it:
 * base64 (white space allowed) of at most CERTMAP_HINT_MAX_DATA bytes.
 * text may be NULL (no variable); no text or only white space is
 * CM_PAM_CERT_NONE. On CM_PAM_CERT_OK *data is a malloc'd copy of *len
 * bytes that the caller frees; on CM_PAM_CERT_MALFORMED *why is a static
 * sentence. The bytes themselves are libcertmap's to judge.
 */
enum cm_pam_cert_status cm_pam_hint_decode(const char *text, unsigned char **data, size_t *len,
					   const char **why);

struct certmap_request;
struct certmap_answer;

/*
 * Socket mode: asks certmapd at o->socket within o->timeout seconds. On
 * PAM_SUCCESS *answer is a new answer (any verdict) the caller frees;
 * otherwise the failure is logged and the code says why: the service
 * cannot be reached (PAM_AUTHINFO_UNAVAIL), refused this process
 * (PAM_SERVICE_ERR), out of memory (PAM_BUF_ERR), anything else
 * (a malformed reply, a rejected request) PAM_AUTH_ERR.
 */
int cm_pam_map_socket(pam_handle_t *pamh, const struct cm_pam_opts *o,
		      const struct certmap_request *req, struct certmap_answer **answer);

#endif
