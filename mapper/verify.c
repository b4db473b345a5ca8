/*
 * The verification policy. The trust store is built once and never
 * changed afterwards, so one verifier serves any number of threads: each
 * cm_verify call has its own X509 and X509_STORE_CTX.
 *
 * OpenSSL checks the chain, the validity times and (with a CRL) the
 * leaf's revocation; no purpose or trust setting is given to it because
 * the EKU policy is ours (an OpenSSL purpose would also accept a missing
 * EKU extension).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "verify.h"

struct cm_verifier {
	struct cm_verify_policy p;
	X509_STORE *store;          /* NULL unless p.enabled */
	struct cm_strv eku_oids;    /* p.require_eku resolved, same order */
};

static int vfail(char **errmsg, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int vfail(char **errmsg, int code, const char *fmt, ...)
{
	va_list ap;

	if (errmsg != NULL && *errmsg == NULL) {
		va_start(ap, fmt);
		if (vasprintf(errmsg, fmt, ap) < 0) {
			*errmsg = NULL;
		}
		va_end(ap);
	}
	ERR_clear_error();
	return code;
}

/* OpenSSL's last error reason, for messages about files. */
static const char *ossl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r != NULL ? r : "no usable content";
}

static bool is_dotted_oid(const char *s)
{
	ASN1_OBJECT *o;
	bool dots = false;

	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '.') {
			dots = true;
		} else if (*p < '0' || *p > '9') {
			return false;
		}
	}
	if (!dots) {
		return false;
	}
	o = OBJ_txt2obj(s, 1);
	ERR_clear_error();
	ASN1_OBJECT_free(o);
	return o != NULL;
}

static int resolve_ekus(struct cm_verifier *v, char **errmsg)
{
	for (size_t i = 0; i < v->p.require_eku.n; i++) {
		const char *name = v->p.require_eku.v[i];
		const char *oid = cm_eku_oid(name);

		if (oid == NULL && is_dotted_oid(name)) {
			oid = name;
		}
		if (oid == NULL) {
			return vfail(errmsg, CERTMAP_ERR_CONFIG,
				     "verify.require_eku: unknown extended key usage \"%s\" "
				     "(use an sss-certmap(5) name such as clientAuth, or a dotted OID)",
				     name);
		}
		if (cm_strv_add(&v->eku_oids, oid) != 0) {
			return vfail(errmsg, CERTMAP_ERR_NOMEM, "out of memory");
		}
	}
	return 0;
}

static int copy_policy(struct cm_verify_policy *dst, const struct cm_verify_policy *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->enabled = src->enabled;
	dst->min_rsa_bits = src->min_rsa_bits;
	dst->min_ec_bits = src->min_ec_bits;
	if ((src->ca_file != NULL && (dst->ca_file = strdup(src->ca_file)) == NULL) ||
	    (src->ca_dir != NULL && (dst->ca_dir = strdup(src->ca_dir)) == NULL) ||
	    (src->crl_file != NULL && (dst->crl_file = strdup(src->crl_file)) == NULL)) {
		return -1;
	}
	for (size_t i = 0; i < src->require_eku.n; i++) {
		if (cm_strv_add(&dst->require_eku, src->require_eku.v[i]) != 0) {
			return -1;
		}
	}
	return 0;
}

static int load_ca_file(X509_STORE *store, const char *path, char **errmsg)
{
	STACK_OF(X509_OBJECT) *objs;

	if (X509_STORE_load_file(store, path) != 1) {
		return vfail(errmsg, CERTMAP_ERR_CONFIG,
			     "verify.ca_file: cannot load %s: %s", path, ossl_reason());
	}
	objs = X509_STORE_get0_objects(store);
	if (objs == NULL || sk_X509_OBJECT_num(objs) == 0) {
		return vfail(errmsg, CERTMAP_ERR_CONFIG,
			     "verify.ca_file: %s holds no certificate", path);
	}
	return 0;
}

static int load_ca_dir(X509_STORE *store, const char *path, char **errmsg)
{
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		return vfail(errmsg, CERTMAP_ERR_CONFIG,
			     "verify.ca_dir: %s is not a readable directory", path);
	}
	if (X509_STORE_load_path(store, path) != 1) {
		return vfail(errmsg, CERTMAP_ERR_CONFIG,
			     "verify.ca_dir: cannot use %s: %s", path, ossl_reason());
	}
	return 0;
}

static int load_crl(X509_STORE *store, const char *path, char **errmsg)
{
	X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());

	if (lookup == NULL) {
		return vfail(errmsg, CERTMAP_ERR_NOMEM, "out of memory");
	}
	if (X509_load_crl_file(lookup, path, X509_FILETYPE_PEM) <= 0) {
		return vfail(errmsg, CERTMAP_ERR_CONFIG,
			     "verify.crl_file: cannot load a CRL from %s: %s", path, ossl_reason());
	}
	return 0;
}

static int build_store(struct cm_verifier *v, char **errmsg)
{
	const struct cm_verify_policy *p = &v->p;
	unsigned long flags = X509_V_FLAG_X509_STRICT;
	int rv;

	if (p->ca_file == NULL && p->ca_dir == NULL) {
		return vfail(errmsg, CERTMAP_ERR_CONFIG,
			     "verify: verification is enabled but neither verify.ca_file "
			     "nor verify.ca_dir is set");
	}
	v->store = X509_STORE_new();
	if (v->store == NULL) {
		return vfail(errmsg, CERTMAP_ERR_NOMEM, "out of memory");
	}
	if ((p->ca_file != NULL && (rv = load_ca_file(v->store, p->ca_file, errmsg)) != 0) ||
	    (p->ca_dir != NULL && (rv = load_ca_dir(v->store, p->ca_dir, errmsg)) != 0)) {
		return rv;
	}
	if (p->crl_file != NULL) {
		if ((rv = load_crl(v->store, p->crl_file, errmsg)) != 0) {
			return rv;
		}
		flags |= X509_V_FLAG_CRL_CHECK;
	}
	X509_STORE_set_flags(v->store, flags);
	return 0;
}

int cm_verifier_new(const struct cm_verify_policy *p, struct cm_verifier **out,
		    char **errmsg)
{
	struct cm_verifier *v = NULL;
	int rv;

	*out = NULL;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL || copy_policy(&v->p, p) != 0) {
		rv = vfail(errmsg, CERTMAP_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (p->min_rsa_bits < 0 || p->min_ec_bits < 0) {
		rv = vfail(errmsg, CERTMAP_ERR_CONFIG,
			   "verify.min_rsa_bits and verify.min_ec_bits must not be negative");
		goto out;
	}
	if ((rv = resolve_ekus(v, errmsg)) != 0 ||
	    (p->enabled && (rv = build_store(v, errmsg)) != 0)) {
		goto out;
	}
	*out = v;
	v = NULL;
	rv = 0;
out:
	cm_verifier_free(v);
	return rv;
}

void cm_verifier_free(struct cm_verifier *v)
{
	if (v == NULL) {
		return;
	}
	X509_STORE_free(v->store);
	cm_strv_clear(&v->eku_oids);
	cm_verify_policy_clear(&v->p);
	free(v);
}

void cm_verify_policy_clear(struct cm_verify_policy *p)
{
	if (p == NULL) {
		return;
	}
	free(p->ca_file);
	free(p->ca_dir);
	free(p->crl_file);
	cm_strv_clear(&p->require_eku);
	memset(p, 0, sizeof(*p));
}

/* ---------------------------------------------------------------- checks */

static enum certmap_reason reason_msg(char **msg, enum certmap_reason r,
				      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum certmap_reason reason_msg(char **msg, enum certmap_reason r,
				      const char *fmt, ...)
{
	va_list ap;

	if (msg != NULL && *msg == NULL) {
		va_start(ap, fmt);
		if (vasprintf(msg, fmt, ap) < 0) {
			*msg = NULL;
		}
		va_end(ap);
	}
	ERR_clear_error();
	return r;
}

static X509 *x509_from(const unsigned char *data, size_t len)
{
	unsigned char *der = NULL;
	size_t der_len = 0;
	const unsigned char *p;
	X509 *x = NULL;

	if (cm_cert_to_der(data, len, &der, &der_len, NULL) != 0) {
		return NULL;
	}
	p = der;
	x = d2i_X509(NULL, &p, (long)der_len);
	if (x != NULL && p != der + der_len) {
		X509_free(x);
		x = NULL;
	}
	free(der);
	return x;
}

static enum certmap_reason map_verify_error(X509_STORE_CTX *ctx, char **msg)
{
	int err = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	const char *text = X509_verify_cert_error_string(err);

	if (depth == 0) {
		switch (err) {
		case X509_V_ERR_CERT_HAS_EXPIRED:
			return reason_msg(msg, CERTMAP_REASON_EXPIRED, "the certificate has expired");
		case X509_V_ERR_CERT_NOT_YET_VALID:
			return reason_msg(msg, CERTMAP_REASON_NOT_YET_VALID,
					  "the certificate is not yet valid");
		case X509_V_ERR_CERT_REVOKED:
			return reason_msg(msg, CERTMAP_REASON_REVOKED,
					  "the certificate has been revoked");
		default:
			break;
		}
	}
	return reason_msg(msg, CERTMAP_REASON_UNTRUSTED,
			  "the certificate does not chain to a trusted CA: %s (at depth %d)",
			  text != NULL ? text : "unknown error", depth);
}

static enum certmap_reason check_chain(const struct cm_verifier *v,
				       const struct cm_identity *id,
				       const unsigned char *const *chain,
				       const size_t *chain_len, size_t n_chain,
				       time_t now, char **msg)
{
	X509 *leaf = NULL;
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	enum certmap_reason r;

	leaf = x509_from(id->der, id->der_len);
	untrusted = sk_X509_new_null();
	ctx = X509_STORE_CTX_new();
	if (leaf == NULL || untrusted == NULL || ctx == NULL) {
		r = reason_msg(msg, CERTMAP_REASON_INVALID_CERTIFICATE,
			       "the certificate cannot be prepared for verification");
		goto out;
	}
	for (size_t i = 0; i < n_chain; i++) {
		X509 *x = x509_from(chain[i], chain_len[i]);

		if (x == NULL || !sk_X509_push(untrusted, x)) {
			X509_free(x);
			r = reason_msg(msg, CERTMAP_REASON_INVALID_CERTIFICATE,
				       "chain certificate %zu cannot be read", i + 1);
			goto out;
		}
	}
	if (X509_STORE_CTX_init(ctx, v->store, leaf, untrusted) != 1) {
		r = reason_msg(msg, CERTMAP_REASON_UNTRUSTED, "the verification cannot start");
		goto out;
	}
	if (now != 0) {
		X509_STORE_CTX_set_time(ctx, 0, now);
	}
	if (X509_verify_cert(ctx) == 1) {
		r = CERTMAP_REASON_NONE;
	} else {
		r = map_verify_error(ctx, msg);
	}
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	ERR_clear_error();
	return r;
}

static enum certmap_reason check_eku(const struct cm_verifier *v,
				     const struct cm_identity *id, char **msg)
{
	for (size_t i = 0; i < v->eku_oids.n; i++) {
		const char *name = v->p.require_eku.v[i];

		if (!id->has_eku) {
			return reason_msg(msg, CERTMAP_REASON_EKU_MISSING,
					  "the certificate has no extendedKeyUsage extension, "
					  "and %s is required", name);
		}
		if (!cm_strv_contains(&id->eku, v->eku_oids.v[i])) {
			return reason_msg(msg, CERTMAP_REASON_EKU_MISSING,
					  "the certificate's extendedKeyUsage lacks %s (%s)",
					  name, v->eku_oids.v[i]);
		}
	}
	return CERTMAP_REASON_NONE;
}

static enum certmap_reason check_key(const struct cm_verifier *v,
				     const struct cm_identity *id, char **msg)
{
	int min;

	/* DSA's strength follows its modulus like RSA's; Ed25519 and Ed448
	 * have one size each. Any other key is refused, not waved through. */
	if (strcmp(id->key_type, "RSA") == 0 || strcmp(id->key_type, "DSA") == 0) {
		min = v->p.min_rsa_bits;
	} else if (strcmp(id->key_type, "EC") == 0) {
		min = v->p.min_ec_bits;
	} else if (strcmp(id->key_type, "ED25519") == 0 || strcmp(id->key_type, "ED448") == 0) {
		min = 1;
	} else {
		return reason_msg(msg, CERTMAP_REASON_KEY_TOO_SMALL,
				  "the key type %s is not one certmap can weigh (RSA, DSA, EC, "
				  "Ed25519, Ed448)", id->key_type);
	}
	if (id->key_bits < min) {
		return reason_msg(msg, CERTMAP_REASON_KEY_TOO_SMALL,
				  "the %s key has %d bits; at least %d are required",
				  id->key_type, id->key_bits, min);
	}
	return CERTMAP_REASON_NONE;
}

enum certmap_reason cm_verify(const struct cm_verifier *v,
			      const struct cm_identity *id,
			      const unsigned char *const *chain,
			      const size_t *chain_len, size_t n_chain,
			      time_t now, char **msg)
{
	enum certmap_reason r = CERTMAP_REASON_NONE;

	if (msg != NULL) {
		*msg = NULL;
	}
	if (v->p.enabled) {
		r = check_chain(v, id, chain, chain_len, n_chain, now, msg);
	}
	if (r == CERTMAP_REASON_NONE) {
		r = check_eku(v, id, msg);
	}
	if (r == CERTMAP_REASON_NONE) {
		r = check_key(v, id, msg);
	}
	return r;
}
