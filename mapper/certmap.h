/*
 * libcertmap: turn a verified TLS client certificate into a system identity.
 *
 * Typical use:
 *
 *	struct certmap_ctx *ctx = NULL;
 *	struct certmap_answer *ans = NULL;
 *	char *err = NULL;
 *	if (certmap_ctx_new("/etc/certmap/certmap.conf", &ctx, &err) != 0) ...
 *	struct certmap_request req = { .cert = der, .cert_len = der_len };
 *	if (certmap_map(ctx, &req, &ans) != 0) ...
 *	if (certmap_answer_verdict(ans) == CERTMAP_VERDICT_MAPPED)
 *		login(certmap_answer_user(ans));
 *	certmap_answer_free(ans);
 *	certmap_ctx_free(ctx);
 *
 * Strings returned by accessors are owned by the object they come from and
 * live as long as it does. Functions that return int return 0 or a
 * certmap_err code. A context is immutable once created and may be used by
 * several threads at once; answers are owned by their caller.
 */
#ifndef CERTMAP_H
#define CERTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CERTMAP_VERSION_MAJOR 0
#define CERTMAP_VERSION_MINOR 1
#define CERTMAP_VERSION_PATCH 0
#define CERTMAP_VERSION_STRING "0.1.0"

#if defined(__GNUC__)
#define CERTMAP_MUST_CHECK __attribute__((warn_unused_result))
#else
#define CERTMAP_MUST_CHECK
#endif

/* The one error space of libcertmap. 0 is success. */
typedef enum certmap_err {
	CERTMAP_OK = 0,
	CERTMAP_ERR_SYSTEM,      /* a system call failed: see errno */
	CERTMAP_ERR_NOMEM,       /* out of memory */
	CERTMAP_ERR_INVALID_ARG, /* a bad argument from the caller */
	CERTMAP_ERR_CONFIG,      /* the configuration is invalid */
	CERTMAP_ERR_CERT,        /* the certificate cannot be read or is malformed */
	CERTMAP_ERR_RULE,        /* a rule is invalid */
	CERTMAP_ERR_TOO_LARGE,   /* an input is over its size limit */
	CERTMAP_ERR_NOT_FOUND,   /* a needed value or entry does not exist */
	CERTMAP_ERR_BACKEND,     /* an account backend could not be reached */
	CERTMAP_ERR_HINT,        /* an RFC 4681 hint is malformed */
	CERTMAP_ERR_IO,          /* a file could not be read */
	CERTMAP_ERR_PROTOCOL,    /* a peer sent a malformed message */
	/* Added in 0.1.1; returned only by certmap_client_open()'s clients. */
	CERTMAP_ERR_NO_SERVICE,     /* nothing listens on the service's socket */
	CERTMAP_ERR_PERMISSION,     /* the caller may not open the service's socket */
	CERTMAP_ERR_PEER_REFUSED,   /* the service refused the caller's uid/gid */
	CERTMAP_ERR_UNTRUSTED_PEER, /* the process behind the socket is not trusted */
	CERTMAP_ERR__MAX
} certmap_err;

/* A sentence for an error code; never NULL. For CERTMAP_ERR_SYSTEM it is
 * strerror(errno) as errno is at the time of the call. */
const char *certmap_strerror(int err);

/* Library version as a string, e.g. "0.1.0". */
const char *certmap_version(void);

/* ---- Context ---- */

struct certmap_ctx;

/*
 * Loads a configuration file (NULL: the built-in default path). On failure
 * returns CERTMAP_ERR_CONFIG (or another code) and, when errmsg is not NULL,
 * a malloc'd text naming file, line and setting of every error, which the
 * caller frees.
 */
CERTMAP_MUST_CHECK int certmap_ctx_new(const char *config_path,
				       struct certmap_ctx **ctx,
				       char **errmsg);
void certmap_ctx_free(struct certmap_ctx *ctx);

/* The default configuration path, e.g. "/etc/certmap/certmap.conf". */
const char *certmap_default_config(void);

/* ---- Requests ---- */

#define CERTMAP_REQ_TRACE 0x1u  /* record a trace in the answer */
/* user_mapping_data is set (added in 0.1.1). Requests built against older
 * headers have no such field: the library reads it only with this flag. */
#define CERTMAP_REQ_HINT_DATA 0x2u

struct certmap_request {
	const unsigned char *cert;   /* DER or PEM */
	size_t cert_len;
	const unsigned char *const *chain; /* optional intermediates, DER or PEM each */
	const size_t *chain_len;
	size_t n_chain;
	const char *user;            /* requested login name, or NULL */
	const char *upn_hint;        /* RFC 4681 user_principal_name, or NULL */
	const char *domain_hint;     /* RFC 4681 domain_name, or NULL */
	unsigned int flags;          /* CERTMAP_REQ_* */
	/*
	 * Added in 0.1.1, read only with CERTMAP_REQ_HINT_DATA: the raw RFC
	 * 4681 UserMappingDataList a TLS server received in SupplementalData,
	 * decoded by certmap_map() (certmap_hint(3)). A malformed list is the
	 * refusal hint_invalid; it cannot be combined with upn_hint/domain_hint.
	 */
	const unsigned char *user_mapping_data;
	size_t user_mapping_data_len;
};

/* ---- Answers ---- */

enum certmap_verdict {
	CERTMAP_VERDICT_MAPPED = 0,
	CERTMAP_VERDICT_REFUSED,
	CERTMAP_VERDICT_AMBIGUOUS,
	CERTMAP_VERDICT_ERROR,
};

/* Stable reason codes; certmap_reason_name() gives their documented names. */
enum certmap_reason {
	CERTMAP_REASON_NONE = 0,
	CERTMAP_REASON_NO_RULE_MATCHED,
	CERTMAP_REASON_NO_ACCOUNT,
	CERTMAP_REASON_AMBIGUOUS,
	CERTMAP_REASON_NOT_CANDIDATE,
	CERTMAP_REASON_UNTRUSTED,
	CERTMAP_REASON_EXPIRED,
	CERTMAP_REASON_NOT_YET_VALID,
	CERTMAP_REASON_REVOKED,
	CERTMAP_REASON_EKU_MISSING,
	CERTMAP_REASON_KEY_TOO_SMALL,
	CERTMAP_REASON_UID_REFUSED,
	CERTMAP_REASON_INVALID_CERTIFICATE,
	CERTMAP_REASON_HINT_INVALID,
	CERTMAP_REASON_BACKEND_UNAVAILABLE,
	CERTMAP_REASON_CONFIG_ERROR,
	CERTMAP_REASON_SID_MISMATCH, /* the certificate's SID is not the entry's objectSid */
	CERTMAP_REASON__MAX
};

struct certmap_answer;

/* One candidate a rule produced, and what became of it. */
struct certmap_candidate {
	const char *user;
	const char *domain;
	const char *status;  /* "kept", "no_account", "uid_refused", "duplicate", "dropped" (over the
			      * limits), "sid_mismatch" */
	const char *note;    /* a sentence, may be NULL */
};

/* One rule considered for the decision. */
struct certmap_trace_entry {
	const char *rule;
	int priority;
	bool matched;
	const char *note;    /* why it did not match, or what it expanded to */
	const struct certmap_candidate *candidates;
	size_t n_candidates;
};

/*
 * Maps one certificate. Returns 0 with a new answer in *answer (whatever the
 * verdict: refusals are answers), or an error code when no answer could be
 * built (out of memory, bad arguments).
 */
CERTMAP_MUST_CHECK int certmap_map(const struct certmap_ctx *ctx,
				   const struct certmap_request *req,
				   struct certmap_answer **answer);
void certmap_answer_free(struct certmap_answer *a);

enum certmap_verdict certmap_answer_verdict(const struct certmap_answer *a);
enum certmap_reason certmap_answer_reason(const struct certmap_answer *a);
/* A human sentence (for refusals and errors; "" when mapped). Never NULL. */
const char *certmap_answer_message(const struct certmap_answer *a);
/* NULL unless mapped. */
const char *certmap_answer_user(const struct certmap_answer *a);
/*
 * Whether a mapped answer is a system account. A domain of type
 * "certificate" maps to a certificate-only identity (a user name and
 * groups, added in 0.1.1): mapped, but without an account, so uid and gid
 * are (uid_t)-1 / (gid_t)-1 and home is NULL. false unless mapped.
 */
bool certmap_answer_has_account(const struct certmap_answer *a);
uid_t certmap_answer_uid(const struct certmap_answer *a);
gid_t certmap_answer_gid(const struct certmap_answer *a);
const char *certmap_answer_home(const struct certmap_answer *a);
const char *certmap_answer_rule(const struct certmap_answer *a);
const char *certmap_answer_domain(const struct certmap_answer *a);
/* Group names, primary group first; n_groups may be 0. */
size_t certmap_answer_n_groups(const struct certmap_answer *a);
const char *certmap_answer_group(const struct certmap_answer *a, size_t i);
/* Hex SHA-256 of the certificate ("" if it could not be parsed). */
const char *certmap_answer_cert_sha256(const struct certmap_answer *a);
size_t certmap_answer_n_trace(const struct certmap_answer *a);
const struct certmap_trace_entry *
certmap_answer_trace(const struct certmap_answer *a, size_t i);

/* "mapped", "refused", "ambiguous", "error". */
const char *certmap_verdict_name(enum certmap_verdict v);
/* "no_rule_matched", ... ; "" for CERTMAP_REASON_NONE. */
const char *certmap_reason_name(enum certmap_reason r);

/*
 * The answer as one JSON object, as certmapctl test --json prints it:
 * "verdict"; when mapped "user", "uid", "gid", "groups", "home", "rule",
 * "domain"; otherwise "reason" and "message"; "trace" when with_trace.
 * Returns a malloc'd NUL-terminated string, or NULL when out of memory.
 */
char *certmap_answer_to_json(const struct certmap_answer *a, bool with_trace);

/* ---- RFC 4681 user-mapping hints (certmap_hint(3); added in 0.1.1) ---- */

#define CERTMAP_TLS_EXT_USER_MAPPING 6      /* ExtensionType user_mapping */
#define CERTMAP_TLS_SUPP_USER_MAPPING 0     /* SupplementalDataType user_mapping_data */
#define CERTMAP_HINT_TYPE_UPN_DOMAIN 64     /* UserMappingType upn_domain_hint */
#define CERTMAP_HINT_MAX_TYPES 255          /* entries of a UserMappingTypeList */
/* The same limits as for the upn_hint and domain_hint strings, in bytes. */
#define CERTMAP_HINT_MAX_UPN 1024
#define CERTMAP_HINT_MAX_DOMAIN 255
/* The largest UserMappingDataList: a 2-byte length and 2^16-1 bytes. */
#define CERTMAP_HINT_MAX_DATA 65537

/* A decoded UserMappingDataList (its upn_domain_hint entry, if any). */
struct certmap_hint;

/*
 * Decodes a UserMappingDataList, strictly: every length exact, no trailing
 * bytes, at least one entry, entries of other types skipped, at most one
 * upn_domain_hint, whose UPN is user@domain (UTF-8, no control characters,
 * at most CERTMAP_HINT_MAX_UPN bytes) and whose domain is an LDH name (at
 * most CERTMAP_HINT_MAX_DOMAIN bytes), at least one of them non-empty.
 * Returns 0 with a new hint in *hint (free with certmap_hint_free()), or
 * CERTMAP_ERR_HINT with, when errmsg is not NULL, a malloc'd sentence
 * saying what is wrong and where in *errmsg (the caller frees it; it may be
 * NULL when out of memory), or CERTMAP_ERR_NOMEM / CERTMAP_ERR_INVALID_ARG.
 */
CERTMAP_MUST_CHECK int certmap_hint_decode(const void *data, size_t len,
					   struct certmap_hint **hint, char **errmsg);
/* The hint's UPN or domain name, NUL-terminated, owned by the hint; NULL
 * when the list carried none (an empty field, or no upn_domain_hint). */
const char *certmap_hint_upn(const struct certmap_hint *h);
const char *certmap_hint_domain(const struct certmap_hint *h);
void certmap_hint_free(struct certmap_hint *h);

/*
 * Encodes a UserMappingDataList of one upn_domain_hint entry. upn or
 * domain may be NULL or "", not both; they are checked as by
 * certmap_hint_decode(). Returns 0 with malloc'd bytes in *data and their
 * length in *len, or CERTMAP_ERR_HINT (and *errmsg as above),
 * CERTMAP_ERR_NOMEM, CERTMAP_ERR_INVALID_ARG.
 */
CERTMAP_MUST_CHECK int certmap_hint_encode(const char *upn, const char *domain,
					   unsigned char **data, size_t *len, char **errmsg);

/*
 * Decodes the user_mapping extension's UserMappingTypeList: a 1-byte
 * length, then 1..255 distinct types. Returns 0 with the types in
 * types[0..*n_types), or CERTMAP_ERR_HINT (and *errmsg as above),
 * CERTMAP_ERR_NOMEM, CERTMAP_ERR_INVALID_ARG.
 */
CERTMAP_MUST_CHECK int certmap_hint_types_decode(const void *data, size_t len,
						 unsigned char types[CERTMAP_HINT_MAX_TYPES],
						 size_t *n_types, char **errmsg);
/* Encodes 1..255 distinct types as a UserMappingTypeList into malloc'd
 * *data (*len bytes). Returns 0, CERTMAP_ERR_INVALID_ARG or NOMEM. */
CERTMAP_MUST_CHECK int certmap_hint_types_encode(const unsigned char *types, size_t n_types,
						 unsigned char **data, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
