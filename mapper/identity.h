/*
 * The identity object: every field certmap extracts from one end-entity
 * certificate, parsed once per request and immutable afterwards.
 *
 * Text values are kept as cm_value (ptr,len). A value with an embedded NUL
 * or an encoding certmap does not accept is kept with unusable set; it never
 * matches a rule and never expands in a template, and it is never truncated.
 */
#ifndef CERTMAP_IDENTITY_H
#define CERTMAP_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Hard cap on certificate input; anything larger is refused. */
#define CM_CERT_MAX_SIZE (64 * 1024)

/* One attribute-value assertion of a distinguished name. */
struct cm_ava {
	/*
	 * The attribute name exactly as libsss_certmap names it in DNs and
	 * compares it for {subject_dn_component.NAME}: OpenSSL's short name
	 * mapped to the NSS spelling ("CN", "O", "DC", "UID", "E" for
	 * emailAddress, "givenName", "MAIL", "STREET", "OID.2.5.4.13" for
	 * description), and "UNDEF" for an OID OpenSSL does not know (then
	 * use oid).
	 */
	char *type;
	char *oid;           /* dotted OID */
	struct cm_value value; /* UTF-8 text of the value (unusable: NUL, not a string type, bad encoding) */
	/* The value as SSSD renders it inside a DN and inserts it for
	 * {subject_dn_component}: RFC 2253 escaping, non-ASCII bytes as \XX. */
	struct cm_value sssd_value;
	size_t rdn;          /* index of the RDN (SET) this AVA belongs to, in DER order */
	/* Why this AVA makes the name's grid rendering ambiguous (a static
	 * sentence), or NULL: see cm_name.grid and name.c. */
	const char *grid_unusable;
};

struct cm_name {
	unsigned char *der;  /* DER of the Name */
	size_t der_len;
	struct cm_ava *avas; /* in DER order (X.500 order: C first, CN last usually) */
	size_t n_avas;
	size_t n_rdns;
	/*
	 * Renderings. sssd: exactly the string libsss_certmap 2.8 matches
	 * <SUBJECT>/<ISSUER> against and inserts for {subject_dn} (RFC 2253
	 * order, non-ASCII bytes as \XX). rfc4514: the same order with UTF-8
	 * kept. x500: "C=..,O=..,CN=.." (DER order).
	 */
	struct cm_value sssd;
	struct cm_value rfc4514;
	struct cm_value x500;
	/*
	 * grid: byte for byte what X509_NAME_oneline() (openssl x509 -subject
	 * -nameopt compat) prints, "/C=US/O=Example/CN=J\xC3\xBCrgen": the
	 * value's stored bytes, those outside ' '..'~' as \xHH, '/' and '+'
	 * after a backslash. Always filled; unusable when an AVA's
	 * grid_unusable is set (a value that would print like another one).
	 */
	struct cm_value grid;
	/* When not NULL, every pointer above points into this chain of
	 * blocks (cm_name_parse: one allocation or a few per name), and
	 * cm_name_clear frees only the chain. */
	void *arena;
};

enum cm_san_type {
	CM_SAN_OTHER_NAME = 0,  /* any otherName, including UPN and Kerberos */
	CM_SAN_RFC822,
	CM_SAN_DNS,
	CM_SAN_X400,
	CM_SAN_DIRNAME,
	CM_SAN_EDIPARTY,
	CM_SAN_URI,
	CM_SAN_IP,
	CM_SAN_RID,
};

/* otherName flavours certmap understands. */
enum cm_other_kind {
	CM_OTHER_GENERIC = 0,
	CM_OTHER_UPN,           /* 1.3.6.1.4.1.311.20.2.3, UTF8String */
	CM_OTHER_KRB5,          /* 1.3.6.1.5.2.2, KRB5PrincipalName */
};

struct cm_san {
	enum cm_san_type type;
	/*
	 * Text form: rfc822/dns/uri as given; IP as text ("192.0.2.1",
	 * "2001:db8::1"); registeredID dotted; directoryName like
	 * cm_name.sssd; UPN and Kerberos principal as "user@REALM".
	 * Unusable for x400Address and ediPartyName (no text form), and for
	 * generic otherNames.
	 */
	struct cm_value text;
	/* Bytes of the value as it appears in the certificate: for an otherName the
	 * DER of the [0] EXPLICIT value's content (what SSSD compares a
	 * <SAN:otherName> blob against); for others the content octets. */
	struct cm_value raw;
	enum cm_other_kind other_kind;
	char *other_oid;        /* otherName type-id, dotted; NULL otherwise */
	/* SSSD's .short_name: for UPN, Kerberos and rfc822 the part before
	 * the FIRST '@', for dNSName the part before the first '.'; the whole
	 * text when there is none. Unusable when text is; empty (data NULL)
	 * for other types. */
	struct cm_value short_name;
	/* For directoryName: its parsed name. */
	struct cm_name *dirname;
};

struct cm_identity {
	unsigned char *der;     /* the certificate, DER */
	size_t der_len;

	struct cm_name subject;
	struct cm_name issuer;

	/* Big-endian magnitude bytes without the DER sign byte, at least one
	 * byte: what SSSD prints for {serial_number} (DER 02 03 00 ff 01 gives
	 * "ff01"). serial_dec is decimal. A serial of 0 or below fails the
	 * parse (RFC 5280; SSSD refuses them too), so serial_negative is
	 * always false in a parsed identity. */
	unsigned char *serial;
	size_t serial_len;
	char *serial_dec;
	bool serial_negative;

	bool has_ski;
	unsigned char *ski;
	size_t ski_len;

	bool has_ku;
	uint32_t ku;            /* X509v3_KU_* bits as OpenSSL defines them */

	bool has_eku;
	struct cm_strv eku;     /* dotted OIDs */

	struct cm_san *sans;
	size_t n_sans;

	bool has_sid;
	struct cm_value sid;    /* "S-1-5-21-..." text from 1.3.6.1.4.1.311.25.2 */

	unsigned char sha256[32];
	/* Where the SubjectPublicKeyInfo lies in der; its digests and the
	 * certificate's SHA-1 are computed on demand (cm_identity_digests):
	 * only certmapctl show needs them. */
	size_t spki_off;
	size_t spki_len;

	/* Validity, seconds since the epoch. */
	int64_t not_before;
	int64_t not_after;

	/* Public key: "RSA", "EC", "ED25519" ...; bits. */
	char *key_type;
	int key_bits;
};

/*
 * Parses one certificate given as DER or PEM (exactly one CERTIFICATE
 * block with nothing but white space around it; see cm_cert_to_der).
 * On success stores a new identity in *out and returns 0. On failure
 * returns a certmap_err code and, if errmsg is not NULL, a malloc'd
 * sentence in *errmsg. The input is not referenced afterwards.
 */
int cm_identity_parse(const unsigned char *data, size_t len,
		      struct cm_identity **out, char **errmsg);
/*
 * The same for a certificate already in DER whose SHA-256 the caller has
 * computed (sha256 may be NULL). Takes ownership of der (malloc'd), also
 * on failure. The DER must not be larger than CM_CERT_MAX_SIZE.
 */
int cm_identity_parse_der(unsigned char *der, size_t len, const unsigned char sha256[32],
			  struct cm_identity **out, char **errmsg);
void cm_identity_free(struct cm_identity *id);

/* The certificate's SHA-1 and its public key's SHA-1 and SHA-256.
 * Returns 0 or CERTMAP_ERR_NOMEM. */
int cm_identity_digests(const struct cm_identity *id, unsigned char sha1[20],
			unsigned char spki_sha1[20], unsigned char spki_sha256[32]);

/* SHA-256 of len bytes with a digest fetched once. Returns 0 or an error. */
int cm_sha256(const void *p, size_t len, unsigned char out[32]);

/*
 * Decodes PEM or passes DER through: *der is malloc'd. One rule for both:
 * exactly one certificate. DER must be one TLV with no trailing bytes; PEM
 * one CERTIFICATE block with nothing but white space (space, TAB, CR, LF)
 * before or after it (no second certificate, no other block, no NUL).
 */
int cm_cert_to_der(const unsigned char *data, size_t len,
		   unsigned char **der, size_t *der_len, char **errmsg);

/*
 * Field names for certmapctl show, in display order: subject, subject_x500,
 * subject_rdn.<TYPE> (one per AVA; <TYPE> is the dotted OID when type is
 * "UNDEF"), issuer, issuer_x500, serial (lower-case hex, no separator),
 * serial_dec, not_before, not_after (ISO 8601 UTC), key ("RSA 2048"), sha1,
 * sha256, spki_sha1, spki_sha256, ski (hex), ku (one call per bit, names
 * as sss-certmap(5) spells them), eku (name if known, else the OID),
 * san.rfc822, san.dns, san.uri, san.ip, san.rid, san.dirname, san.x400,
 * san.ediparty (hex of raw), san.upn, san.krb5, san.other.<oid> (hex of raw),
 * sid. The callback gets one call per value, in certificate order; values
 * are always text (binary is always false; binary values are rendered as
 * hex), and unusable values are passed with their reason set. The value is
 * only valid during the call.
 */
typedef void (*cm_field_cb)(void *arg, const char *field,
			    const struct cm_value *value, bool binary);
void cm_identity_foreach_field(const struct cm_identity *id,
			       cm_field_cb cb, void *arg);

/* The EKU names of sss-certmap(5) ("clientAuth", "pkinit", "msScLogin" ...):
 * the dotted OID for a name, or NULL when the name is unknown. */
const char *cm_eku_oid(const char *name);
const char *cm_eku_oid_icase(const char *name);
/* The first sss-certmap(5) name for a dotted EKU OID, or NULL. */
const char *cm_eku_name(const char *oid);
/* The X509v3_KU_* bit for a key-usage name ("digitalSignature"), or 0. */
uint32_t cm_ku_bit(const char *name);
uint32_t cm_ku_bit_icase(const char *name);

#endif
