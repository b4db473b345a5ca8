/*
 * The REFERENCE name parser for the differential fuzzers (fuzz_cert_diff.c,
 * fuzz_name_diff.c): certmap's original mapper/name.c, which decodes the
 * Name with d2i_X509_NAME and renders each value with OpenSSL's
 * ASN1_STRING_print_ex (ASN1_STRFLGS_RFC2253), i.e. exactly what
 * libsss_certmap 2.8 does. mapper/name.c now walks the DER itself and is
 * compared against this. OIDs are printed with OBJ_obj2txt only, so
 * name.c's fast OID printer is checked too. The grid rendering is
 * X509_NAME_oneline's output. Never linked into libcertmap.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "certmap.h"
#include "ref_name.h"

/* The OpenSSL short names SSSD renames (its openssl_2_nss_attr_name table). */
static const struct {
	const char *openssl;
	const char *sssd;
} sssd_attr_names[] = {
	{ "GN", "givenName" },
	{ "mail", "MAIL" },
	{ "description", "OID.2.5.4.13" },
	{ "emailAddress", "E" },
	{ "street", "STREET" },
};

/* Flags for the rfc4514 rendering: SSSD's, but UTF-8 kept as it is. */
#define CM_RFC4514_FLAGS (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)

/* OpenSSL's own dotted text. */
static char *ref_oid_text(const ASN1_OBJECT *obj)
{
	int n = OBJ_obj2txt(NULL, 0, obj, 1);
	char *s = n > 0 ? malloc((size_t)n + 1) : NULL;

	if (s != NULL && OBJ_obj2txt(s, n + 1, obj, 1) != n) {
		free(s);
		s = NULL;
	}
	return s;
}

static const char *ava_type_name(int nid)
{
	/* OBJ_nid2sn(NID_undef) is "UNDEF", which is what SSSD prints. */
	const char *sn = OBJ_nid2sn(nid);

	if (sn == NULL) {
		return "UNDEF";
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(sssd_attr_names); i++) {
		if (strcmp(sn, sssd_attr_names[i].openssl) == 0) {
			return sssd_attr_names[i].sssd;
		}
	}
	return sn;
}

/*
 * Renders one value with ASN1_STRING_print_ex into bio (a memory BIO the
 * caller reuses for every value of a name: creating one per value cost
 * more than the printing). Returns 0, 1 when OpenSSL cannot render it
 * (bad encoding), -1 when out of memory.
 */
static int print_value(BIO *bio, const ASN1_STRING *s, unsigned long flags,
		       struct cm_value *out)
{
	char *p = NULL;
	long n;

	if (BIO_reset(bio) != 1) {
		return -1;
	}
	if (ASN1_STRING_print_ex(bio, s, flags) < 0) {
		ERR_clear_error();
		return 1;
	}
	n = BIO_get_mem_data(bio, &p);
	if (n < 0 || cm_value_set_text(out, p, (size_t)n) != 0) {
		return -1;
	}
	return 0;
}

/* The value as UTF-8; unusable when it is no character string. */
static int ava_set_utf8(const ASN1_STRING *s, struct cm_value *v)
{
	unsigned char *utf8 = NULL;
	int n;

	n = ASN1_STRING_to_UTF8(&utf8, s);
	if (n < 0) {
		ERR_clear_error();
		if (cm_value_set(v, ASN1_STRING_get0_data(s),
				 (size_t)ASN1_STRING_length(s)) != 0) {
			return -1;
		}
		v->unusable = "the attribute value is not a character string or is badly encoded";
		return 0;
	}
	n = cm_value_set_text(v, utf8, (size_t)n);
	OPENSSL_free(utf8);
	return n;
}

/*
 * Fills one AVA. *renderable is cleared when OpenSSL cannot print the
 * value (SSSD then refuses the certificate). Returns 0 or -1 (ENOMEM).
 */
static int ava_fill(BIO *bio, const X509_NAME_ENTRY *e, struct cm_ava *ava,
		    struct cm_value *rfc4514_value, bool *renderable)
{
	const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
	const ASN1_STRING *data = X509_NAME_ENTRY_get_data(e);
	int r;

	ava->oid = ref_oid_text(obj);
	ava->type = strdup(ava_type_name(OBJ_obj2nid(obj)));
	if (ava->oid == NULL || ava->type == NULL) {
		return -1;
	}
	ava->rdn = (size_t)X509_NAME_ENTRY_set(e);
	if (ava_set_utf8(data, &ava->value) != 0) {
		return -1;
	}
	r = print_value(bio, data, ASN1_STRFLGS_RFC2253, &ava->sssd_value);
	if (r == 0) {
		r = print_value(bio, data, CM_RFC4514_FLAGS, rfc4514_value);
	}
	if (r < 0) {
		return -1;
	}
	if (r > 0) {
		*renderable = false;
	}
	return 0;
}

/* Appends "TYPE=value" for every AVA, forward or in reverse order. */
static int render(const struct cm_name *n, const struct cm_value *values,
		  bool reverse, bool oid_for_undef, struct cm_value *out)
{
	struct cm_buf b;
	char *s;
	size_t len = 0;

	cm_buf_init(&b, 0);
	for (size_t k = 0; k < n->n_avas; k++) {
		size_t i = reverse ? n->n_avas - 1 - k : k;
		const struct cm_ava *a = &n->avas[i];
		bool undef = strcmp(a->type, "UNDEF") == 0;

		if (k > 0) {
			cm_buf_addc(&b, ',');
		}
		cm_buf_adds(&b, oid_for_undef && undef ? a->oid : a->type);
		cm_buf_addc(&b, '=');
		cm_buf_add(&b, values[i].data, values[i].len);
	}
	s = cm_buf_steal(&b, &len);
	if (s == NULL) {
		return -1;
	}
	free(out->data);
	out->data = (unsigned char *)s;
	out->len = len;
	out->unusable = NULL;
	return 0;
}

static int name_render_all(struct cm_name *n, const struct cm_value *rfc_values)
{
	struct cm_value *sssd_values = NULL;
	int rv = -1;

	sssd_values = calloc(n->n_avas + 1, sizeof(*sssd_values));
	if (sssd_values == NULL) {
		goto out;
	}
	for (size_t i = 0; i < n->n_avas; i++) {
		sssd_values[i] = n->avas[i].sssd_value;
	}
	if (render(n, sssd_values, true, false, &n->sssd) != 0 ||
	    render(n, sssd_values, false, false, &n->x500) != 0 ||
	    render(n, rfc_values, true, true, &n->rfc4514) != 0) {
		goto out;
	}
	rv = 0;
out:
	/* The values are borrowed from the AVAs: free only the array. */
	free(sssd_values);
	return rv;
}

static void name_mark_unrenderable(struct cm_name *n)
{
	static const char why[] = "the name holds a value that cannot be decoded";
	struct cm_value *all[] = { &n->sssd, &n->rfc4514, &n->x500 };

	for (size_t i = 0; i < CM_ARRAY_SIZE(all); i++) {
		if (all[i]->data == NULL) {
			cm_value_set(all[i], "", 0);
		}
		all[i]->unusable = why;
	}
}

static int name_fill(const X509_NAME *xn, struct cm_name *n)
{
	struct cm_value *rfc_values = NULL;
	BIO *bio = NULL;
	bool renderable = true;
	int count = X509_NAME_entry_count(xn);
	int rv = -1;

	n->avas = calloc((size_t)count + 1, sizeof(*n->avas));
	rfc_values = calloc((size_t)count + 1, sizeof(*rfc_values));
	bio = BIO_new(BIO_s_mem());
	if (n->avas == NULL || rfc_values == NULL || bio == NULL) {
		goto out;
	}
	for (int i = 0; i < count; i++) {
		n->n_avas++;
		if (ava_fill(bio, X509_NAME_get_entry(xn, i), &n->avas[i],
			     &rfc_values[i], &renderable) != 0) {
			goto out;
		}
		n->n_rdns = n->avas[i].rdn + 1;
	}
	if (name_render_all(n, rfc_values) != 0) {
		goto out;
	}
	if (!renderable) {
		name_mark_unrenderable(n);
	}
	rv = 0;
out:
	for (int i = 0; rfc_values != NULL && i < count; i++) {
		cm_value_clear(&rfc_values[i]);
	}
	free(rfc_values);
	BIO_free(bio);
	return rv;
}

/* The grid rendering: X509_NAME_oneline itself (certmap's policy on
 * ambiguous values, unusable, is not the reference's business). */
static int grid_fill(const X509_NAME *xn, struct cm_name *n)
{
	char *s = X509_NAME_oneline(xn, NULL, 0);
	int rv;

	if (s == NULL) {
		ERR_clear_error();
		return -1;
	}
	rv = cm_value_set(&n->grid, s, strlen(s));
	OPENSSL_free(s);
	return rv;
}

int ref_name_parse(const unsigned char *der, size_t len, struct cm_name *out,
		   char **errmsg)
{
	X509_NAME *xn = NULL;
	const unsigned char *p = der;
	int rv = CERTMAP_ERR_NOMEM;

	memset(out, 0, sizeof(*out));
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	if (len == 0 || len > CM_CERT_MAX_SIZE) {
		rv = CERTMAP_ERR_CERT;
		if (errmsg != NULL) {
			*errmsg = strdup("the distinguished name is empty or too long");
		}
		goto out;
	}
	xn = d2i_X509_NAME(NULL, &p, (long)len);
	if (xn == NULL || p != der + len) {
		ERR_clear_error();
		rv = CERTMAP_ERR_CERT;
		if (errmsg != NULL) {
			*errmsg = strdup("the distinguished name is not valid DER");
		}
		goto out;
	}
	out->der = malloc(len);
	if (out->der == NULL) {
		goto out;
	}
	memcpy(out->der, der, len);
	out->der_len = len;
	if (name_fill(xn, out) != 0 || grid_fill(xn, out) != 0) {
		goto out;
	}
	rv = 0;
out:
	X509_NAME_free(xn);
	if (rv != 0) {
		cm_name_clear(out);
	}
	if (rv == CERTMAP_ERR_NOMEM && errmsg != NULL && *errmsg == NULL) {
		*errmsg = strdup("out of memory");
	}
	return rv;
}

/* audit.c's text of a name before name.c printed it: d2i_X509_NAME and
 * X509_NAME_print_ex through a memory BIO, cut after cap bytes. */
char *ref_name_print(const unsigned char *der, size_t len, size_t cap, size_t *out_len)
{
	const unsigned char *p = der;
	X509_NAME *xn = NULL;
	BIO *bio = NULL;
	char *data = NULL, *out = NULL;
	long n;

	*out_len = 0;
	if (len == 0 || len > CM_CERT_MAX_SIZE) {
		return NULL;
	}
	xn = d2i_X509_NAME(NULL, &p, (long)len);
	if (xn == NULL || p != der + len || (bio = BIO_new(BIO_s_mem())) == NULL ||
	    X509_NAME_print_ex(bio, xn, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0 ||
	    (n = BIO_get_mem_data(bio, &data)) < 0) {
		goto out;
	}
	/* An empty BIO has no data at all: audit.c had no text then, which its
	 * record shows as "-", like the empty text name.c prints. */
	if (n == 0) {
		data = (char *)"";
	}
	if ((size_t)n > cap) {
		n = (long)cap;
	}
	if ((out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
		*out_len = (size_t)n;
	}
out:
	ERR_clear_error();
	BIO_free(bio);
	X509_NAME_free(xn);
	return out;
}
