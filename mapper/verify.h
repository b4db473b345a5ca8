/*
 * The verification policy: chain to trust anchors, validity time,
 * revocation (only with a CRL), required EKU, minimum key sizes.
 */
#ifndef CERTMAP_VERIFY_H
#define CERTMAP_VERIFY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "certmap.h"
#include "identity.h"
#include "util.h"

#define CM_DEFAULT_MIN_RSA_BITS 2048
#define CM_DEFAULT_MIN_EC_BITS 256

struct cm_verify_policy {
	/* false: the caller (a TLS server) already verified the chain, so only
	 * the EKU and key-size checks run. */
	bool enabled;
	char *ca_file;
	char *ca_dir;
	char *crl_file;
	/* EKU names as sss-certmap(5) spells them ("clientAuth") or dotted
	 * OIDs. The certificate's EKU extension must list every one;
	 * anyExtendedKeyUsage and a missing extension do not satisfy it. */
	struct cm_strv require_eku;
	int min_rsa_bits;
	int min_ec_bits;
	/* Where the settings were written, for "file:line: setting: ..."
	 * messages; NULL and 0 when the policy does not come from a file. */
	char *conf_file;
	int ca_file_line;
	int ca_dir_line;
	int crl_file_line;
	int require_eku_line;
};

#define CM_CA_FILE_MAX_SIZE (8 * 1024 * 1024)
#define CM_CRL_FILE_MAX_SIZE (64 * 1024 * 1024)

struct cm_verifier;

/*
 * Loads the trust anchors and CRL once. With enabled set, ca_file or
 * ca_dir is required. ca_file and crl_file are read with cm_file_read
 * (regular files of at most CM_CA_FILE_MAX_SIZE / CM_CRL_FILE_MAX_SIZE
 * bytes that only root or the reader can change) and parsed from memory:
 * ca_file must hold PEM CA certificates (a certificate that is not a CA is
 * refused), crl_file PEM CRLs. Returns 0, or CERTMAP_ERR_CONFIG (_IO,
 * _TOO_LARGE) with a malloc'd "file:line: setting: what is wrong" in
 * *errmsg (not found, permission denied, not PEM, unknown EKU name ...).
 * The policy is copied.
 */
int cm_verifier_new(const struct cm_verify_policy *p, struct cm_verifier **out,
		    char **errmsg);
void cm_verifier_free(struct cm_verifier *v);

/*
 * Checks one certificate against the policy, with optional untrusted
 * intermediates (each DER or PEM). now == 0 means the current time.
 * Returns CERTMAP_REASON_NONE when it passes, otherwise the reason
 * (UNTRUSTED, EXPIRED, NOT_YET_VALID, REVOKED, EKU_MISSING, KEY_TOO_SMALL,
 * INVALID_CERTIFICATE) and a malloc'd sentence in *msg. Safe to call from
 * several threads on one verifier.
 */
enum certmap_reason cm_verify(const struct cm_verifier *v,
			      const struct cm_identity *id,
			      const unsigned char *const *chain,
			      const size_t *chain_len, size_t n_chain,
			      time_t now, char **msg);

/*
 * The chain verdicts of one certificate, kept with it in the certificate
 * cache (certcache.h) so that a certificate seen before is not decoded
 * and verified again. Only a chain that verified is kept, in a slot keyed
 * by the verifier's generation (each cm_verifier_new is a new one: trust
 * store, CRL and policy), the leaf's SHA-256 and the SHA-256 of the
 * request's chain certificates (each one's digest, in order); it holds
 * from the time of the check until the earliest notAfter in the built
 * chain or the store's next change (a CRL's nextUpdate, an anchor's
 * validity), whichever comes first. A clock set back before the check
 * verifies again. The EKU and key checks run every time.
 */
#define CM_VERIFY_MEMO_SLOTS 4

struct cm_verify_memo_slot {
	bool used;
	uint64_t verifier_gen;
	unsigned char leaf_sha256[32];
	unsigned char chain_sha256[32];
	int64_t from, until; /* seconds since the epoch: valid for from <= now < until */
};

struct cm_verify_memo {
	pthread_mutex_t lock;
	struct cm_verify_memo_slot slot[CM_VERIFY_MEMO_SLOTS];
	unsigned int next; /* the slot to replace next */
};

int cm_verify_memo_init(struct cm_verify_memo *m);
void cm_verify_memo_destroy(struct cm_verify_memo *m);

/*
 * cm_verify through the memo m (which must only ever see the certificate
 * id). *hit (may be NULL) says whether the chain verdict came from m.
 */
enum certmap_reason cm_verify_memo(const struct cm_verifier *v, struct cm_verify_memo *m,
				   const struct cm_identity *id,
				   const unsigned char *const *chain,
				   const size_t *chain_len, size_t n_chain,
				   time_t now, char **msg, bool *hit);

/*
 * The earliest time after now (seconds since the epoch) at which a
 * verdict of v may change by time alone: a trust anchor or CRL from
 * ca_file or crl_file becoming valid or expiring (a CRL's nextUpdate).
 * INT64_MAX when there is none, or verification is off.
 */
int64_t cm_verifier_next_change(const struct cm_verifier *v, int64_t now);

void cm_verify_policy_clear(struct cm_verify_policy *p);

#endif
