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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "file.h"
#include "verify.h"
#include "x509_libctx.h"

struct cm_verifier {
	struct cm_verify_policy p;
	uint64_t gen;               /* unique per cm_verifier_new: keys cm_verify_memo */
	OSSL_LIB_CTX *libctx;       /* of every certificate and CRL it decodes */
	X509_STORE *store;          /* NULL unless p.enabled */
	struct cm_strv eku_oids;    /* p.require_eku resolved, same order */
	/* When the store's verdicts change by time alone: the notBefore and
	 * notAfter of each certificate and the lastUpdate and nextUpdate of
	 * each CRL loaded from ca_file and crl_file, sorted. */
	int64_t *bounds;
	size_t n_bounds;
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

/* "file:line: setting: " before a message about one verify setting. */
static int vfail_at(const struct cm_verify_policy *p, char **errmsg, int code, int line,
		    const char *setting, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static int vfail_at(const struct cm_verify_policy *p, char **errmsg, int code, int line,
		    const char *setting, const char *fmt, ...)
{
	struct cm_buf b;
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0) {
		msg = NULL;
	}
	va_end(ap);
	cm_buf_init(&b, 0);
	if (p->conf_file != NULL && line > 0) {
		cm_buf_printf(&b, "%s:%d: ", p->conf_file, line);
	} else if (p->conf_file != NULL) {
		cm_buf_printf(&b, "%s: ", p->conf_file);
	}
	cm_buf_printf(&b, "%s: %s", setting, msg != NULL ? msg : "out of memory");
	free(msg);
	if (errmsg != NULL && *errmsg == NULL) {
		*errmsg = cm_buf_steal(&b, NULL);
	}
	cm_buf_free(&b);
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
			return vfail_at(&v->p, errmsg, CERTMAP_ERR_CONFIG, v->p.require_eku_line,
				     "verify.require_eku", "unknown extended key usage \"%s\" "
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
	dst->ca_file_line = src->ca_file_line;
	dst->ca_dir_line = src->ca_dir_line;
	dst->crl_file_line = src->crl_file_line;
	dst->require_eku_line = src->require_eku_line;
	if (src->conf_file != NULL && (dst->conf_file = strdup(src->conf_file)) == NULL) {
		return -1;
	}
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

/* Appends a DN as RFC 2253 text, escaped and capped: it may come from an
 * attacker's certificate. */
static void buf_add_dn(struct cm_buf *b, const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	if (bio == NULL || X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0) {
		cm_buf_adds(b, "(unprintable name)");
	} else {
		n = BIO_get_mem_data(bio, &p);
		cm_buf_addc(b, '"');
		cm_buf_add_escaped(b, (const unsigned char *)p, n > 0 ? (size_t)n : 0, 256);
		cm_buf_addc(b, '"');
	}
	BIO_free(bio);
}

/* Appends a certificate time as "2026-01-31 12:00:00 UTC". */
static void buf_add_time(struct cm_buf *b, const ASN1_TIME *t)
{
	struct tm tm;
	char text[64];

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
		cm_buf_adds(b, "(an unreadable date)");
		return;
	}
	cm_buf_adds(b, text);
}

/* The PEM block type words: "a CERTIFICATE", "an X509 CRL". */
static const char *pem_article(const char *type)
{
	return strchr("AEIOUaeiou", type[0]) != NULL || strncmp(type, "X509", 4) == 0 ? "an" : "a";
}

/* What one PEM file holds, for messages: how many blocks of the wanted
 * type, and the type of the first other block. */
struct pem_walk {
	const struct cm_verify_policy *p;
	OSSL_LIB_CTX *libctx;
	const char *setting;
	const char *path;
	int line;
	unsigned int n_wanted;
	char other[64];
};

/* A certificate decoded in libctx (the documented way: a new X509 of that
 * context, filled by d2i), with its trust settings when aux; NULL when
 * the bytes are not one. */
static X509 *d2i_cert(OSSL_LIB_CTX *libctx, const unsigned char **p, long len, bool aux)
{
	X509 *x = X509_new_ex(libctx, NULL);
	X509 *r;

	if (x == NULL) {
		return NULL;
	}
	/* A failed d2i frees *a and clears it, but a failed AUX part does not. */
	r = aux ? d2i_X509_AUX(&x, p, len) : d2i_X509(&x, p, len);
	if (r == NULL) {
		X509_free(x);
	}
	return r;
}

/* Adds one CA certificate (DER) from the CA file to the store. */
static int add_ca_cert(X509_STORE *store, struct pem_walk *w, bool trusted_form,
		       const unsigned char *der, long der_len, char **errmsg)
{
	const unsigned char *q = der;
	X509 *x = d2i_cert(w->libctx, &q, der_len, trusted_form);
	struct cm_buf b;
	int rc = 0;

	if (x == NULL || q != der + der_len) {
		rc = vfail_at(w->p, errmsg, CERTMAP_ERR_CONFIG, w->line, w->setting,
			      "%s: certificate %u is not a valid X.509 certificate", w->path,
			      w->n_wanted + 1);
		goto out;
	}
	/* A client certificate given as the trust anchor would make every
	 * certificate it "issued" (none) trusted and, worse, say nothing
	 * about the real CA: that is a deployment mistake, refused here. */
	if (X509_check_ca(x) == 0) {
		cm_buf_init(&b, 0);
		buf_add_dn(&b, X509_get_subject_name(x));
		rc = vfail_at(w->p, errmsg, CERTMAP_ERR_CONFIG, w->line, w->setting,
			      "%s: certificate %u, %s, is not a CA certificate (it has no "
			      "basicConstraints CA:TRUE); give the CA certificate that issued "
			      "the client certificates", w->path, w->n_wanted + 1,
			      b.data != NULL ? b.data : "");
		cm_buf_free(&b);
		goto out;
	}
	if (X509_STORE_add_cert(store, x) != 1) {
		rc = vfail_at(w->p, errmsg, CERTMAP_ERR_CONFIG, w->line, w->setting,
			      "%s: certificate %u cannot be added: %s", w->path, w->n_wanted + 1,
			      ossl_reason());
		goto out;
	}
	w->n_wanted++;
out:
	X509_free(x);
	return rc;
}

/* Adds one CRL (DER) to the store. */
static int add_crl(X509_STORE *store, struct pem_walk *w, const unsigned char *der,
		   long der_len, char **errmsg)
{
	const unsigned char *q = der;
	X509_CRL *crl = X509_CRL_new_ex(w->libctx, NULL);
	int rc = 0;

	if (crl != NULL && d2i_X509_CRL(&crl, &q, der_len) == NULL) {
		X509_CRL_free(crl); /* NULL unless d2i kept it */
		crl = NULL;
	}

	if (crl == NULL || q != der + der_len) {
		rc = vfail_at(w->p, errmsg, CERTMAP_ERR_CONFIG, w->line, w->setting,
			      "%s: CRL %u is not a valid X.509 CRL", w->path, w->n_wanted + 1);
	} else if (X509_STORE_add_crl(store, crl) != 1) {
		rc = vfail_at(w->p, errmsg, CERTMAP_ERR_CONFIG, w->line, w->setting,
			      "%s: CRL %u cannot be added: %s", w->path, w->n_wanted + 1,
			      ossl_reason());
	} else {
		w->n_wanted++;
	}
	X509_CRL_free(crl);
	return rc;
}

/* Feeds every PEM block of data to the store: certificates (want_crl
 * false) or CRLs (want_crl true); other block types are skipped. */
static int walk_pem(X509_STORE *store, struct pem_walk *w, bool want_crl,
		    const char *data, size_t len, char **errmsg)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	char *type = NULL, *header = NULL;
	unsigned char *der = NULL;
	long der_len = 0;
	int rc = 0;

	if (bio == NULL) {
		return vfail_at(w->p, errmsg, CERTMAP_ERR_NOMEM, w->line, w->setting, "out of memory");
	}
	while (rc == 0 && PEM_read_bio(bio, &type, &header, &der, &der_len) == 1) {
		if (want_crl && strcmp(type, PEM_STRING_X509_CRL) == 0) {
			rc = add_crl(store, w, der, der_len, errmsg);
		} else if (!want_crl && (strcmp(type, PEM_STRING_X509) == 0 ||
					 strcmp(type, PEM_STRING_X509_OLD) == 0)) {
			rc = add_ca_cert(store, w, false, der, der_len, errmsg);
		} else if (!want_crl && strcmp(type, PEM_STRING_X509_TRUSTED) == 0) {
			rc = add_ca_cert(store, w, true, der, der_len, errmsg);
		} else if (!want_crl && strcmp(type, PEM_STRING_X509_CRL) == 0) {
			/* Revocation is checked only with verify.crl_file; a CRL
			 * in the CA file would be silently ignored. */
			rc = vfail_at(w->p, errmsg, CERTMAP_ERR_CONFIG, w->line, w->setting,
				      "%s: holds a CRL; put CRLs in verify.crl_file", w->path);
		} else if (w->other[0] == '\0') {
			snprintf(w->other, sizeof(w->other), "%s", type);
		}
		OPENSSL_free(type);
		OPENSSL_free(header);
		OPENSSL_free(der);
		type = header = NULL;
		der = NULL;
	}
	/* PEM_read_bio ends with "no start line" at the end of the data; any
	 * other error is a broken block. */
	if (rc == 0 && (ERR_GET_LIB(ERR_peek_last_error()) != ERR_LIB_PEM ||
			ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE)) {
		rc = vfail_at(w->p, errmsg, CERTMAP_ERR_CONFIG, w->line, w->setting,
			      "%s: a PEM block is malformed (bad base64 or no END line)", w->path);
	}
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

/* The error for a file without one block of the wanted type. */
static int no_blocks(const struct pem_walk *w, char **errmsg, const char *what, const char *type)
{
	if (w->other[0] != '\0') {
		return vfail_at(w->p, errmsg, CERTMAP_ERR_CONFIG, w->line, w->setting,
				"%s: not a PEM %s file: it holds %s %s and no %s", w->path, what,
				pem_article(w->other), w->other, type);
	}
	return vfail_at(w->p, errmsg, CERTMAP_ERR_CONFIG, w->line, w->setting,
			"%s: not a PEM %s file: no \"-----BEGIN %s-----\" line", w->path, what,
			type);
}

/* Reads a whole file with cm_file_read, with the setting's prefix on errors. */
static int read_setting_file(const struct cm_verify_policy *p, const char *setting, int line,
			     const char *path, const char *what, size_t max, char **data,
			     size_t *len, char **errmsg)
{
	char *ferr = NULL;
	int rc = cm_file_read(path, what, max, data, len, &ferr);

	if (rc != 0) {
		rc = vfail_at(p, errmsg, rc == CERTMAP_ERR_NOMEM ? rc : CERTMAP_ERR_CONFIG, line,
			      setting, "%s", ferr != NULL ? ferr : certmap_strerror(rc));
	}
	free(ferr);
	return rc;
}

static int load_ca_file(struct cm_verifier *v, char **errmsg)
{
	struct pem_walk w = {
		.p = &v->p, .libctx = v->libctx, .setting = "verify.ca_file", .path = v->p.ca_file,
		.line = v->p.ca_file_line,
	};
	char *data = NULL;
	size_t len = 0;
	int rc;

	if ((rc = read_setting_file(&v->p, w.setting, w.line, w.path, "CA file",
				    CM_CA_FILE_MAX_SIZE, &data, &len, errmsg)) != 0 ||
	    (rc = walk_pem(v->store, &w, false, data, len, errmsg)) != 0) {
		goto out;
	}
	if (w.n_wanted == 0) {
		rc = no_blocks(&w, errmsg, "certificate", PEM_STRING_X509);
	}
out:
	free(data);
	return rc;
}

static int load_ca_dir(struct cm_verifier *v, char **errmsg)
{
	const char *path = v->p.ca_dir;
	char *ferr = NULL;
	int rc;

	/* OpenSSL opens the hashed files of a CA directory itself, by name,
	 * when it needs them (they are symbolic links by design, see
	 * openssl-rehash(1)); certmap can only check the directory. */
	if ((rc = cm_file_check_dir(path, "CA directory", &ferr)) != 0) {
		rc = vfail_at(&v->p, errmsg, CERTMAP_ERR_CONFIG, v->p.ca_dir_line, "verify.ca_dir",
			      "%s", ferr != NULL ? ferr : certmap_strerror(rc));
		free(ferr);
		return rc;
	}
	if (X509_STORE_load_path(v->store, path) != 1) {
		return vfail_at(&v->p, errmsg, CERTMAP_ERR_CONFIG, v->p.ca_dir_line, "verify.ca_dir",
				"cannot use %s: %s", path, ossl_reason());
	}
	return 0;
}

static int load_crl(struct cm_verifier *v, char **errmsg)
{
	struct pem_walk w = {
		.p = &v->p, .libctx = v->libctx, .setting = "verify.crl_file", .path = v->p.crl_file,
		.line = v->p.crl_file_line,
	};
	char *data = NULL;
	size_t len = 0;
	int rc;

	if ((rc = read_setting_file(&v->p, w.setting, w.line, w.path, "CRL file",
				    CM_CRL_FILE_MAX_SIZE, &data, &len, errmsg)) != 0 ||
	    (rc = walk_pem(v->store, &w, true, data, len, errmsg)) != 0) {
		goto out;
	}
	if (w.n_wanted == 0) {
		rc = no_blocks(&w, errmsg, "CRL", PEM_STRING_X509_CRL);
	}
out:
	free(data);
	return rc;
}

/* ---------------------------------------------------------------- time bounds */

static int add_bound(struct cm_verifier *v, const ASN1_TIME *t)
{
	struct tm tm;
	int64_t *nb;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		return 0;
	}
	nb = realloc(v->bounds, (v->n_bounds + 1) * sizeof(*nb));
	if (nb == NULL) {
		return -1;
	}
	v->bounds = nb;
	v->bounds[v->n_bounds++] = (int64_t)timegm(&tm);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Once, after loading: the store does not change afterwards except for
 * what ca_dir's lookup adds on demand, which is not counted. */
static int collect_bounds(struct cm_verifier *v, char **errmsg)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(v->store);
	int rv = 0;

	for (int i = 0; objs != NULL && i < sk_X509_OBJECT_num(objs) && rv == 0; i++) {
		X509_OBJECT *o = sk_X509_OBJECT_value(objs, i);
		X509 *x = X509_OBJECT_get0_X509(o);
		X509_CRL *crl = X509_OBJECT_get0_X509_CRL(o);

		if (x != NULL) {
			rv = add_bound(v, X509_get0_notBefore(x)) | add_bound(v, X509_get0_notAfter(x));
		} else if (crl != NULL) {
			rv = add_bound(v, X509_CRL_get0_lastUpdate(crl)) |
			     add_bound(v, X509_CRL_get0_nextUpdate(crl));
		}
	}
	if (rv != 0) {
		return vfail(errmsg, CERTMAP_ERR_NOMEM, "out of memory");
	}
	if (v->n_bounds > 1) {
		qsort(v->bounds, v->n_bounds, sizeof(*v->bounds), cmp_i64);
	}
	return 0;
}

int64_t cm_verifier_next_change(const struct cm_verifier *v, int64_t now)
{
	for (size_t i = 0; v != NULL && i < v->n_bounds; i++) {
		if (v->bounds[i] > now) {
			return v->bounds[i];
		}
	}
	return INT64_MAX;
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
	if ((p->ca_file != NULL && (rv = load_ca_file(v, errmsg)) != 0) ||
	    (p->ca_dir != NULL && (rv = load_ca_dir(v, errmsg)) != 0)) {
		return rv;
	}
	if (p->crl_file != NULL) {
		if ((rv = load_crl(v, errmsg)) != 0) {
			return rv;
		}
		flags |= X509_V_FLAG_CRL_CHECK;
	}
	X509_STORE_set_flags(v->store, flags);
	return collect_bounds(v, errmsg);
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
	static atomic_uint_fast64_t generations;

	v = calloc(1, sizeof(*v));
	if (v != NULL) {
		v->gen = atomic_fetch_add(&generations, 1) + 1;
		v->libctx = cm_x509_libctx();
	}
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
	free(v->bounds);
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
	free(p->conf_file);
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

/* Exactly one DER certificate, nothing after it. */
static X509 *x509_from_der(OSSL_LIB_CTX *libctx, const unsigned char *der, size_t der_len)
{
	const unsigned char *p = der;
	X509 *x = d2i_cert(libctx, &p, (long)der_len, false);

	if (x != NULL && p != der + der_len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

static X509 *x509_from(OSSL_LIB_CTX *libctx, const unsigned char *data, size_t len)
{
	unsigned char *der = NULL;
	size_t der_len = 0;
	X509 *x = NULL;

	if (cm_cert_to_der(data, len, &der, &der_len, NULL) != 0) {
		return NULL;
	}
	x = x509_from_der(libctx, der, der_len);
	free(der);
	return x;
}

/* The sentence for a chain that does not verify: the missing issuer's
 * name, the date that was missed. */
static void describe_verify_error(struct cm_buf *b, X509_STORE_CTX *ctx, int err, int depth)
{
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	const char *text = X509_verify_cert_error_string(err);

	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		cm_buf_adds(b, "the certificate does not chain to a trusted CA: no trusted CA "
			       "certificate for the issuer ");
		if (cur != NULL) {
			buf_add_dn(b, X509_get_issuer_name(cur));
		}
		cm_buf_printf(b, " (of the certificate at depth %d)", depth);
		return;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		cm_buf_adds(b, "the certificate does not chain to a trusted CA: it ends in the "
			       "self-signed certificate ");
		if (cur != NULL) {
			buf_add_dn(b, X509_get_subject_name(cur));
		}
		cm_buf_printf(b, ", which is not a trusted CA (at depth %d)", depth);
		return;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		cm_buf_adds(b, depth == 0 ? "the certificate expired on "
					  : "the certificate does not chain to a trusted CA: "
					    "a CA certificate expired on ");
		buf_add_time(b, cur != NULL ? X509_get0_notAfter(cur) : NULL);
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		cm_buf_adds(b, depth == 0 ? "the certificate is not yet valid: it is valid from "
					  : "the certificate does not chain to a trusted CA: "
					    "a CA certificate is not yet valid: it is valid from ");
		buf_add_time(b, cur != NULL ? X509_get0_notBefore(cur) : NULL);
		break;
	case X509_V_ERR_CERT_REVOKED:
		if (depth == 0) {
			cm_buf_adds(b, "the certificate has been revoked");
			return;
		}
		/* fall through */
	default:
		cm_buf_printf(b, "the certificate does not chain to a trusted CA: %s",
			      text != NULL ? text : "unknown error");
		break;
	}
	if (depth > 0) {
		cm_buf_printf(b, " (at depth %d)", depth);
	}
}

static enum certmap_reason map_verify_error(X509_STORE_CTX *ctx, char **msg)
{
	int err = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	enum certmap_reason r = CERTMAP_REASON_UNTRUSTED;
	struct cm_buf b;

	if (depth == 0) {
		switch (err) {
		case X509_V_ERR_CERT_HAS_EXPIRED:
			r = CERTMAP_REASON_EXPIRED;
			break;
		case X509_V_ERR_CERT_NOT_YET_VALID:
			r = CERTMAP_REASON_NOT_YET_VALID;
			break;
		case X509_V_ERR_CERT_REVOKED:
			r = CERTMAP_REASON_REVOKED;
			break;
		default:
			break;
		}
	}
	cm_buf_init(&b, 0);
	describe_verify_error(&b, ctx, err, depth);
	r = reason_msg(msg, r, "%s", b.data != NULL && !b.failed ? b.data : "the certificate is not trusted");
	cm_buf_free(&b);
	return r;
}

/* The earliest notAfter of the chain OpenSSL built (leaf to anchor), as
 * seconds since the epoch; 0 when one cannot be read. */
static int64_t chain_not_after(X509_STORE_CTX *ctx)
{
	STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
	int64_t until = INT64_MAX;

	if (built == NULL || sk_X509_num(built) < 1) {
		return 0;
	}
	for (int i = 0; i < sk_X509_num(built); i++) {
		struct tm tm;
		const ASN1_TIME *t = X509_get0_notAfter(sk_X509_value(built, i));
		int64_t s;

		if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
			return 0;
		}
		s = (int64_t)timegm(&tm);
		if (s < until) {
			until = s;
		}
	}
	return until;
}

/* *until (may be NULL) gets, on success, the earliest notAfter of the
 * built chain. */
static enum certmap_reason check_chain(const struct cm_verifier *v,
				       const struct cm_identity *id,
				       const unsigned char *const *chain,
				       const size_t *chain_len, size_t n_chain,
				       time_t now, char **msg, int64_t *until)
{
	X509 *leaf = NULL;
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	enum certmap_reason r;

	/* The identity holds DER already: decoded straight, no copy. */
	leaf = x509_from_der(v->libctx, id->der, id->der_len);
	untrusted = sk_X509_new_null();
	ctx = X509_STORE_CTX_new_ex(v->libctx, NULL);
	if (leaf == NULL || untrusted == NULL || ctx == NULL) {
		r = reason_msg(msg, CERTMAP_REASON_INVALID_CERTIFICATE,
			       "the certificate cannot be prepared for verification");
		goto out;
	}
	for (size_t i = 0; i < n_chain; i++) {
		X509 *x = x509_from(v->libctx, chain[i], chain_len[i]);

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
		if (until != NULL) {
			*until = chain_not_after(ctx);
		}
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
		r = check_chain(v, id, chain, chain_len, n_chain, now, msg, NULL);
	}
	if (r == CERTMAP_REASON_NONE) {
		r = check_eku(v, id, msg);
	}
	if (r == CERTMAP_REASON_NONE) {
		r = check_key(v, id, msg);
	}
	return r;
}

/* ---------------------------------------------------------------- the memo */

#define MEMO_MAX_CHAIN 16 /* longer chains (refused by certmap_map anyway) are not kept */

int cm_verify_memo_init(struct cm_verify_memo *m)
{
	memset(m, 0, sizeof(*m));
	return pthread_mutex_init(&m->lock, NULL) == 0 ? 0 : -1;
}

void cm_verify_memo_destroy(struct cm_verify_memo *m)
{
	pthread_mutex_destroy(&m->lock);
}

/* SHA-256 over the count and each chain certificate's SHA-256, as sent. */
static int chain_digest(const unsigned char *const *chain, const size_t *chain_len,
			size_t n_chain, unsigned char out[32])
{
	unsigned char all[8 + 32 * MEMO_MAX_CHAIN];
	uint64_t n = n_chain;

	if (n_chain > MEMO_MAX_CHAIN) {
		return -1;
	}
	memcpy(all, &n, sizeof(n));
	for (size_t i = 0; i < n_chain; i++) {
		if (cm_sha256(chain[i], chain_len[i], all + 8 + 32 * i) != 0) {
			return -1;
		}
	}
	return cm_sha256(all, 8 + 32 * n_chain, out);
}

static bool memo_find(struct cm_verify_memo *m, const struct cm_verify_memo_slot *want,
		      int64_t now)
{
	bool found = false;

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < CM_VERIFY_MEMO_SLOTS && !found; i++) {
		const struct cm_verify_memo_slot *s = &m->slot[i];

		found = s->used && s->verifier_gen == want->verifier_gen &&
			memcmp(s->leaf_sha256, want->leaf_sha256, 32) == 0 &&
			memcmp(s->chain_sha256, want->chain_sha256, 32) == 0 && now >= s->from &&
			now < s->until;
	}
	pthread_mutex_unlock(&m->lock);
	return found;
}

static void memo_store(struct cm_verify_memo *m, const struct cm_verify_memo_slot *s)
{
	pthread_mutex_lock(&m->lock);
	m->slot[m->next] = *s;
	m->next = (m->next + 1) % CM_VERIFY_MEMO_SLOTS;
	pthread_mutex_unlock(&m->lock);
}

enum certmap_reason cm_verify_memo(const struct cm_verifier *v, struct cm_verify_memo *m,
				   const struct cm_identity *id,
				   const unsigned char *const *chain,
				   const size_t *chain_len, size_t n_chain,
				   time_t now, char **msg, bool *hit)
{
	struct cm_verify_memo_slot s = {.used = true, .verifier_gen = v->gen};
	enum certmap_reason r = CERTMAP_REASON_NONE;
	/* Taken before the check: a bound it passed is still ahead. */
	int64_t t = now != 0 ? (int64_t)now : (int64_t)time(NULL);
	int64_t chain_until = 0, next;
	bool keyed;

	if (msg != NULL) {
		*msg = NULL;
	}
	if (hit != NULL) {
		*hit = false;
	}
	if (!v->p.enabled) {
		return cm_verify(v, id, chain, chain_len, n_chain, now, msg);
	}
	memcpy(s.leaf_sha256, id->sha256, 32);
	keyed = chain_digest(chain, chain_len, n_chain, s.chain_sha256) == 0;
	if (keyed && memo_find(m, &s, t)) {
		if (hit != NULL) {
			*hit = true;
		}
	} else {
		r = check_chain(v, id, chain, chain_len, n_chain, now, msg, &chain_until);
		next = cm_verifier_next_change(v, t);
		s.from = t;
		s.until = chain_until < next ? chain_until : next;
		if (r == CERTMAP_REASON_NONE && keyed && s.until > t) {
			memo_store(m, &s);
		}
	}
	if (r == CERTMAP_REASON_NONE) {
		r = check_eku(v, id, msg);
	}
	if (r == CERTMAP_REASON_NONE) {
		r = check_key(v, id, msg);
	}
	return r;
}
