/*
 * Differential test: certmap's rule engine against SSSD's libsss_certmap.
 *
 * For every leaf certificate in $CERTMAP_TEST_CERTS and every rule in the
 * tables below, both libraries parse the rule and evaluate it; the test
 * compares rule acceptance, the match result and, when both match, the
 * filter bytes. Differences that are deliberate are listed in known[] with
 * their reason; any other difference is printed and fails the test.
 * Exit 0: no unexpected difference; 1: some; 77: no certificates.
 * Set CERTMAP_DIFF_VERBOSE=1 to also print the known differences.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "identity.h"
#include "rules.h"
#include "testlib.h"

/*
 * libsss_certmap's API, declared here because <sss_certmap.h> needs
 * <talloc.h>, which Debian ships only in libtalloc-dev.
 */
struct sss_certmap_ctx;
int sss_certmap_init(void *mem_ctx, void *debug, void *debug_priv, struct sss_certmap_ctx **ctx);
void sss_certmap_free_ctx(struct sss_certmap_ctx *ctx);
int sss_certmap_add_rule(struct sss_certmap_ctx *ctx, uint32_t priority, const char *match_rule,
			 const char *map_rule, const char **domains);
int sss_certmap_match_cert(struct sss_certmap_ctx *ctx, const uint8_t *der_cert, size_t der_size);
int sss_certmap_get_search_filter(struct sss_certmap_ctx *ctx, const uint8_t *der_cert, size_t der_size,
				  char **filter, char ***domains);
void sss_certmap_free_filter_and_domains(char *filter, char **domains);

#define ALWAYS "<ISSUER>.*"

static const char *const match_rules[] = {
	"", "<KU>digitalSignature<EKU>clientAuth",
	"<KU>digitalSignature", "<KU>keyEncipherment", "<KU>nonRepudiation", "<KU>keyCertSign",
	"<KU>cRLSign", "<KU>dataEncipherment", "<KU>keyAgreement", "<KU>encipherOnly",
	"<KU>decipherOnly", "<KU>digitalSignature,keyEncipherment", "<KU>DIGITALSIGNATURE",
	"<KU> digitalSignature , keyEncipherment ", "<KU>,", "<KU>digitalSignature,,",
	"||<KU>nonRepudiation<KU>digitalSignature", "<KU>digitalSignature<KU>nonRepudiation",
	"<EKU>clientAuth", "<EKU>serverAuth", "<EKU>codeSigning", "<EKU>emailProtection",
	"<EKU>timeStamping", "<EKU>OCSPSigning", "<EKU>KPClientAuth", "<EKU>pkinit", "<EKU>msScLogin",
	"<EKU>CLIENTAUTH", "<EKU>1.3.6.1.5.5.7.3.2", "<EKU>clientAuth,serverAuth",
	"||<EKU>clientAuth,serverAuth", "||<EKU>serverAuth,codeSigning", "<EKU>1.2.3", "<EKU>1..2",
	"<EKU>1.3.6.1.5.5.7.3.2,clientAuth", "<EKU> clientAuth ,",
	"<SUBJECT>.*", "<SUBJECT>^CN=Alice Example", "<SUBJECT>CN=alice", "<SUBJECT>,DC=com$",
	"<SUBJECT>^$", "<SUBJECT>UID=alice", "<SUBJECT>M\\\\C3\\\\BCller", "<SUBJECT>O=Example$",
	"<SUBJECT>^CN=[a-z]+,O=Example$", "<SUBJECT>\\\\,", "<SUBJECT>#", "<SUBJECT>^E=eve@",
	"<SUBJECT>emailAddress", "<SUBJECT>UID=carol", "<SUBJECT>CN=carol,UID", "<SUBJECT>\\\\\\+",
	"<SUBJECT>OU=Three,OU=Two", "<SUBJECT>\\\\5c", "<SUBJECT>\\\\09", "<SUBJECT>x=\\\\\"y",
	"<SUBJECT>[[:space:]]", "<SUBJECT>DC=example", "<SUBJECT>J||<ISSUER>Certmap",
	"<ISSUER>^CN=Certmap Test CA,O=Certmap Test,C=US$", "<ISSUER>Rogue", "<ISSUER>Intermediate",
	"<ISSUER>.*", "<ISSUER>^O=", "<ISSUER>CN=Certmap Test CA<SUBJECT>O=Example",
	"||<ISSUER>Rogue<SUBJECT>CN=alice", "<SUBJECT>CN=alice<ISSUER>Rogue",
	"<SAN>alice", "<SAN>^alice@EXAMPLE.COM$", "<SAN>EXAMPLE.COM$", "<SAN>^host/", "<SAN>dave",
	"<SAN>.", "<SAN:Principal>@EXAMPLE", "<SAN:ntPrincipalName>@EXAMPLE.COM$",
	"<SAN:pkinitSAN>@EXAMPLE.COM$", "<SAN:pkinit>dave", "<SAN:P>.", "<SAN:NT>.",
	"<SAN:rfc822Name>@example.com$", "<SAN:rfc822Name>example", "<SAN:rfc>example",
	"<SAN:RFC822NAME>.", "<SAN:rfc822Name>^erin@", "<SAN:dNSName>example.com$", "<SAN:d>example",
	"<SAN:dNSName>^erin", "<SAN:dns>.", "<SAN:uniformResourceIdentifier>^https://",
	"<SAN:u>path", "<SAN:registeredID>^1.2.3.4.5.6$", "<SAN:reg>1", "<SAN:directoryName>CN=dir name",
	"<SAN:directoryName>^CN=dir name,O=Dir Org$", "<SAN:dir>Dir", "<SAN:1.2.3.4.5>generic",
	"<SAN:1.2.3.4.5>^generic", "<SAN:1.2.3.4.5>other$", "<SAN:1.3.6.1.4.1.311.20.2.3>alice",
	"<SAN:1.3.6.1.5.2.2>EXAMPLE", "<SAN:otherName>Z2VuZXJpYw==", "<SAN:otherName>QEVYQU1QTEUuQ09N",
	"<SAN:o>RVhBTVBMRQ==", "<SAN:x400Address>RVhBTVBMRQ==", "<SAN:ediPartyName>ZWRp",
	"<SAN:stringOtherName>x", "<SAN:>alice", "<SAN:iPAddress>.", "||<SAN>nomatch<EKU>clientAuth",
	"&&<SAN>alice<EKU>clientAuth", "KRB5:<EKU>clientAuth", ":<EKU>clientAuth", "KRB5:", "&&", "||",
	"<SAN:rfc822Name>^victim@example.com$", "<SAN:dNSName>victim", "<SAN:ntPrincipalName>bmp",
	"<SAN:rfc822Name>bmp", "<SUBJECT>Müller", "<SUBJECT>^CN=T61 M",
	/* invalid */
	"<FOO>x", "<SUBJECT>", "<SUBJECT>(", "<KU>foo", "<EKU>foo", "<EKU>1.", "<EKU>.1.2", "<EKU>12",
	"<SAN:foo>x", "<SAN:otherName>!!", "KRB6:<SUBJECT>.", "&&||<SUBJECT>x", "<subject>x",
	"x<SUBJECT>y", "<SAN:rfc822Name", "<SAN:1.2.>x", "<SAN>", "<SAN:uri>x", "<KU>", "<SUBJECT>a<",
	"<KU>128", "<KU>0x80", "<EKU>,", "<SUBJECT>a++", "<SAN>x*?",
};

static const char *const map_rules[] = {
	"", "LDAP:(userCertificate;binary={cert!bin})", "{cert}", "{cert!base64}", "{cert!}",
	"{subject_dn}", "{subject_dn!ad}", "{subject_dn!ad_x500}", "{subject_dn!ad_ldap}",
	"{subject_dn!nss}", "{subject_dn!nss_x500}", "{subject_dn!nss_ldap}", "{issuer_dn}",
	"{issuer_dn!ad_ldap}", "{issuer_dn!nss_x500}", "{subject_dn.}", "{subject_dn.!ad}",
	"(altSecurityIdentities=X509:<I>{issuer_dn!ad}<S>{subject_dn!ad})",
	"{subject_rfc822_name}", "{subject_rfc822_name.short_name}", "{subject_dns_name}",
	"{subject_dns_name.short_name}", "{subject_directory_name}", "{subject_uri}",
	"{subject_registered_id}", "{subject_pkinit_principal}", "{subject_pkinit_principal.short_name}",
	"{subject_nt_principal}", "{subject_nt_principal.short_name}", "{subject_principal}",
	"{subject_principal.short_name}", "(|(mail={subject_rfc822_name})(uid={subject_principal.short_name}))",
	"{{literal}}", "a{{b}}c", "cert}", ":{cert!base64}", "LDAP:", "LDAP:plain text",
	"LDAP:(x=*)(y=\\2a)", "{subject_x400_address}", "{subject_ediparty_name}", "{subject_ip_address}",
	"LDAPU1:{serial_number}", "LDAPU1:{serial_number!hex}", "LDAPU1:{serial_number!HEX}",
	"LDAPU1:{serial_number!hex_u}", "LDAPU1:{serial_number!hex_c}", "LDAPU1:{serial_number!hex_r}",
	"LDAPU1:{serial_number!hex_ucr}", "LDAPU1:{serial_number!HEX_UCR}", "LDAPU1:{serial_number!hex_}",
	"LDAPU1:{serial_number!dec}", "LDAPU1:{serial_number!DEC}", "LDAPU1:{serial_number!hex_rr}",
	"LDAPU1:{subject_key_id}", "LDAPU1:{subject_key_id!hex_uc}", "LDAPU1:{subject_key_id!HEX_r}",
	"LDAPU1:{cert!md5}", "LDAPU1:{cert!sha1}", "LDAPU1:{cert!sha224}", "LDAPU1:{cert!sha256}",
	"LDAPU1:{cert!sha384}", "LDAPU1:{cert!sha512}", "LDAPU1:{cert!SHA256}", "LDAPU1:{cert!sha256_u}",
	"LDAPU1:{cert!sha512_ucr}", "LDAPU1:{cert!sha3-256}", "LDAPU1:{cert!sha512-224}",
	"LDAPU1:{cert!sm3}", "LDAPU1:{cert!ripemd160}", "LDAPU1:{cert!sha384_c}", "LDAPU1:{cert!bin}",
	"LDAPU1:{cert!base64}", "LDAPU1:{cert!sha1_u}", "LDAPU1:{cert!md5_c}", "LDAPU1:{cert!sha_u}",
	"LDAPU1:{cert!x_u}", "LDAPU1:{cert!sha512-_u}",
	"LDAPU1:{subject_dn_component}", "LDAPU1:{subject_dn_component.cn}", "LDAPU1:{subject_dn_component.CN}",
	"LDAPU1:{subject_dn_component.uid}", "LDAPU1:{subject_dn_component.dc}",
	"LDAPU1:{subject_dn_component.dc[-1]}", "LDAPU1:{subject_dn_component.dc[-2]}",
	"LDAPU1:{subject_dn_component.[1]}", "LDAPU1:{subject_dn_component.[2]}",
	"LDAPU1:{subject_dn_component.[-1]}", "LDAPU1:{subject_dn_component.[-2]}",
	"LDAPU1:{subject_dn_component.[3]}", "LDAPU1:{subject_dn_component.[9]}",
	"LDAPU1:{subject_dn_component.o}", "LDAPU1:{subject_dn_component.ou}",
	"LDAPU1:{subject_dn_component.ou[3]}", "LDAPU1:{subject_dn_component.e}",
	"LDAPU1:{subject_dn_component.cn[1]}", "LDAPU1:{subject_dn_component.foo}",
	"LDAPU1:{subject_dn_component.[+1]}", "LDAPU1:{subject_dn_component.[ 1]}",
	"LDAPU1:{subject_dn_component.}", "LDAPU1:{issuer_dn_component}", "LDAPU1:{issuer_dn_component.o}",
	"LDAPU1:{issuer_dn_component.c[-1]}", "LDAPU1:{issuer_dn_component.[2]}",
	"LDAPU1:{sid}", "LDAPU1:{sid.rid}", "LDAPU1:(&(objectSid={sid})(x={serial_number!HEX_uc}))",
	"LDAPU1:{subject_dn!ad_ldap}", "LDAPU1:(|(a={subject_principal})(b={subject_dn_component.cn}))",
	/* invalid */
	"{foo}", "{cert!foo}", "{subject_dn!grid}", "{subject_dn.x}", "{cert.x}",
	"{subject_principal.SHORT_NAME}", "{subject_uri.short_name}", "{cert!bin!base64}",
	"{subject_dn.a.b}", "{.cn}", "{!bin}", "{cert", "{cert{x}}", "{cert}}", "x}}y", "UNKNOWN:{cert}",
	"LDAP:{serial_number}", "LDAP:{sid}", "LDAP:{cert!sha256}", "LDAP:{subject_dn_component.cn}",
	"LDAPU1:{serial_number!dec_u}", "LDAPU1:{serial_number!hexu}", "LDAPU1:{subject_key_id!dec}",
	"LDAPU1:{subject_dn_component[2]}", "LDAPU1:{subject_dn_component.[0]}",
	"LDAPU1:{subject_dn_component.[x]}", "LDAPU1:{subject_dn_component.cn[2]x}",
	"LDAPU1:{subject_dn_component.cn!x}", "LDAPU1:{sid.RID}", "LDAPU1:{cert!sha256_x}", "{}",
	"LDAPU1:{subject_dn!grid}",
};

enum aspect { ASP_ACCEPT = 1, ASP_MATCH = 2, ASP_FILTER = 4, ASP_ANY = 7 };

/* Deliberate differences; fnmatch patterns (NULL: any). */
static const struct known {
	const char *cert;
	const char *match;
	const char *map;
	int aspects;
	const char *reason;
} known[] = {
	{ "nul-*", NULL, NULL, ASP_MATCH | ASP_FILTER,
	  "SSSD truncates a SAN at its embedded NUL; certmap treats the value as unusable" },
	{ "allsan", NULL, NULL, ASP_ANY,
	  "libsss_certmap 2.8.2 crashes (SIGSEGV in libcrypto) reading this certificate's SANs" },
	{ "upn-bmp", NULL, NULL, ASP_MATCH | ASP_FILTER,
	  "SSSD refuses the whole certificate (UPN not a UTF8String); certmap only marks the UPN unusable" },
	{ NULL, NULL, "*{subject_ip_address}*", ASP_FILTER, "certmap renders iPAddress as text, SSSD inserts raw bytes" },
	{ NULL, "<SAN:iPAddress>*", NULL, ASP_MATCH, "certmap matches iPAddress as text" },
	{ NULL, NULL, "*{subject_x400_address}*", ASP_FILTER,
	  "x400Address has no text form: certmap fails the expansion, SSSD inserts escaped bytes" },
	{ NULL, NULL, "*{subject_ediparty_name}*", ASP_FILTER,
	  "ediPartyName has no text form: certmap fails the expansion, SSSD inserts escaped bytes" },
	{ NULL, "<SAN:x400Address>*", NULL, ASP_MATCH, "x400Address blob compared with the DER content octets" },
	{ NULL, "<SAN:ediPartyName>*", NULL, ASP_MATCH, "ediPartyName blob compared with the DER content octets" },
	{ NULL, NULL, "*{cert!sha1_u}", ASP_FILTER,
	  "SSSD bug #6802: digest names with a _ suffix are matched loosely (sha1_u gives another digest, x_u is accepted)" },
	{ NULL, NULL, "*{cert!md5_c}", ASP_FILTER,
	  "SSSD bug #6802: digest names with a _ suffix are matched loosely (sha1_u gives another digest, x_u is accepted)" },
	{ NULL, NULL, "*{cert!sha_u}", ASP_ACCEPT,
	  "SSSD bug #6802: digest names with a _ suffix are matched loosely (sha1_u gives another digest, x_u is accepted)" },
	{ NULL, NULL, "*{cert!sha512-_u}", ASP_ACCEPT,
	  "SSSD bug #6802: digest names with a _ suffix are matched loosely (sha1_u gives another digest, x_u is accepted)" },
	{ NULL, NULL, "*{cert!x_u}", ASP_ACCEPT,
	  "SSSD bug #6802: digest names with a _ suffix are matched loosely (sha1_u gives another digest, x_u is accepted)" },
	{ NULL, "<KU>128", NULL, ASP_ACCEPT, "certmap accepts numeric key usage values" },
	{ NULL, "<KU>0x80", NULL, ASP_ACCEPT, "certmap accepts numeric key usage values" },
	{ NULL, "<SUBJECT>a++", NULL, ASP_ACCEPT, "certmap rejects stacked regex repetitions (glibc regcomp memory blow-up)" },
	{ NULL, "<SAN>x*?", NULL, ASP_ACCEPT, "certmap rejects stacked regex repetitions (glibc regcomp memory blow-up)" },
	{ NULL, "<EKU>,", NULL, ASP_ACCEPT, "an empty EKU list crashes SSSD 2.8.2; certmap rejects it" },
	{ NULL, "*<SUBJECT>*M*ller*", NULL, ASP_MATCH, "certmap also matches the UTF-8 (RFC 4514) form of a non-ASCII DN" },
	{ "t61", "<SUBJECT>*", NULL, ASP_MATCH, "certmap also matches the UTF-8 (RFC 4514) form of a non-ASCII DN" },
	{ NULL, NULL, "LDAPU1:*{sid*", ASP_FILTER,
	  "without a SID extension SSSD fails with ENOMEM or crashes ({sid.rid}); certmap reports not found" },
};

struct outcome {
	bool accepted;
	bool matched;
	bool expanded;
	int err;
	char *filter;
};

static int n_pass, n_fail, n_known;
static bool verbose;

static const struct known *find_known(const char *cert, const char *match, const char *map, int aspect)
{
	for (size_t i = 0; i < CM_ARRAY_SIZE(known); i++) {
		const struct known *k = &known[i];

		if ((k->aspects & aspect) == 0 ||
		    (k->cert != NULL && fnmatch(k->cert, cert, 0) != 0) ||
		    (k->match != NULL && fnmatch(k->match, match, 0) != 0) ||
		    (k->map != NULL && fnmatch(k->map, map, 0) != 0)) {
			continue;
		}
		return k;
	}
	return NULL;
}

/* SSSD 2.8.2 crashes on {sid.rid} without a SID extension and on an empty
 * <EKU> list (certmap rejects that rule): never ask it. */
static bool sss_would_crash(const struct cm_identity *id, const char *match, const char *map)
{
	return (id != NULL && !id->has_sid && strstr(map, "{sid.rid}") != NULL) ||
	       strcmp(match, "<EKU>,") == 0;
}

static void run_sss(const unsigned char *der, size_t len, const char *match, const char *map, struct outcome *o)
{
	struct sss_certmap_ctx *ctx = NULL;
	char *filter = NULL;
	char **domains = NULL;
	int r;

	if (sss_certmap_init(NULL, NULL, NULL, &ctx) != 0) {
		fprintf(stderr, "sss_certmap_init failed\n");
		exit(99);
	}
	r = sss_certmap_add_rule(ctx, 0, *match == '\0' ? NULL : match, *map == '\0' ? NULL : map, NULL);
	o->accepted = r == 0;
	if (o->accepted) {
		o->matched = sss_certmap_match_cert(ctx, der, len) == 0;
		r = sss_certmap_get_search_filter(ctx, der, len, &filter, &domains);
		o->expanded = r == 0;
		o->err = r;
		if (r == 0) {
			o->filter = strdup(filter);
		}
		sss_certmap_free_filter_and_domains(filter, domains);
	}
	sss_certmap_free_ctx(ctx);
}

static void run_cm(const struct cm_identity *id, const char *match, const char *map, struct outcome *o)
{
	struct cm_match *m = NULL;
	struct cm_map *p = NULL;
	struct cm_strv out = { 0 };
	char *err = NULL;

	if (cm_match_parse(match, &m, &err) == 0 && cm_map_parse(map, &p, &err) == 0) {
		o->accepted = true;
		o->matched = id != NULL && cm_match_eval(m, id, NULL);
		if (o->matched) {
			o->err = cm_map_expand(p, id, &out, NULL);
			o->expanded = o->err == 0 && out.n == 1;
			if (o->expanded) {
				o->filter = strdup(out.v[0]);
			}
		}
	}
	free(err);
	cm_strv_clear(&out);
	cm_match_free(m);
	cm_map_free(p);
}

static void report(const char *cert, const char *match, const char *map, int aspect, const char *what)
{
	const struct known *k = find_known(cert, match, map, aspect);

	if (k != NULL) {
		n_known++;
		if (verbose) {
			printf("known: %s match='%s' map='%s': %s (%s)\n", cert, match, map, what, k->reason);
		}
		return;
	}
	n_fail++;
	printf("MISMATCH: %s match='%s' map='%s': %s\n", cert, match, map, what);
}

static void compare(const char *cert, const struct cm_identity *id, const char *match, const char *map,
		    struct outcome *sp)
{
	struct outcome s = *sp, c = { 0 };
	char what[512];

	if (sss_would_crash(id, match, map)) {
		n_known++;
		return;
	}
	run_cm(id, match, map, &c);
	if (s.err == -999) {
		report(cert, match, map, ASP_ANY, "libsss_certmap crashed");
	} else if (s.accepted != c.accepted) {
		snprintf(what, sizeof(what), "rule accepted by %s only", s.accepted ? "SSSD" : "certmap");
		report(cert, match, map, ASP_ACCEPT, what);
	} else if (s.accepted && s.matched != c.matched) {
		snprintf(what, sizeof(what), "matched by %s only", s.matched ? "SSSD" : "certmap");
		report(cert, match, map, ASP_MATCH, what);
	} else if (s.matched && s.expanded != c.expanded) {
		snprintf(what, sizeof(what), "expanded by %s only (sssd err %d, certmap err %d): sssd '%.200s' certmap '%.200s'",
			 s.expanded ? "SSSD" : "certmap", s.err, c.err, s.filter ? s.filter : "",
			 c.filter ? c.filter : "");
		report(cert, match, map, ASP_FILTER, what);
	} else if (s.expanded && strcmp(s.filter, c.filter) != 0) {
		snprintf(what, sizeof(what), "filters differ: sssd '%.200s' certmap '%.200s'", s.filter, c.filter);
		report(cert, match, map, ASP_FILTER, what);
	} else {
		n_pass++;
	}
	free(c.filter);
}

/* The (match, map) pairs run for every certificate. */
struct pair {
	const char *match;
	const char *map;
};

static struct pair *pairs;
static size_t n_pairs;

static void make_pairs(void)
{
	size_t n = CM_ARRAY_SIZE(match_rules) + 2 * CM_ARRAY_SIZE(map_rules);

	pairs = calloc(n, sizeof(*pairs));
	if (pairs == NULL) {
		exit(99);
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(match_rules); i++) {
		pairs[n_pairs++] = (struct pair){ match_rules[i], "" };
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(map_rules); i++) {
		pairs[n_pairs++] = (struct pair){ ALWAYS, map_rules[i] };
		pairs[n_pairs++] = (struct pair){ "", map_rules[i] };
	}
}

static bool write_all(int fd, const void *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w <= 0) {
			return false;
		}
		p = (const char *)p + w;
		len -= (size_t)w;
	}
	return true;
}

static bool read_all(FILE *f, void *p, size_t len)
{
	return fread(p, 1, len, f) == len;
}

/*
 * libsss_certmap calls CRYPTO_cleanup_all_ex_data() after each certificate,
 * which breaks OpenSSL for the rest of a process that also uses it: SSSD
 * runs in a child, one per certificate, and sends its outcomes back.
 */
static void sss_child(int fd, const struct cm_identity *id, const unsigned char *der, size_t len)
{
	for (size_t i = 0; i < n_pairs; i++) {
		struct outcome o = { 0 };
		uint32_t flen;
		unsigned char hdr[3];

		if (!sss_would_crash(id, pairs[i].match, pairs[i].map)) {
			run_sss(der, len, pairs[i].match, pairs[i].map, &o);
		}
		hdr[0] = o.accepted;
		hdr[1] = o.matched;
		hdr[2] = o.expanded;
		flen = o.filter != NULL ? (uint32_t)strlen(o.filter) : 0;
		if (!write_all(fd, hdr, 3) || !write_all(fd, &o.err, sizeof(o.err)) ||
		    !write_all(fd, &flen, sizeof(flen)) || !write_all(fd, o.filter != NULL ? o.filter : "", flen)) {
			_exit(2);
		}
		free(o.filter);
	}
	_exit(0);
}

static struct outcome *sss_outcomes(const struct cm_identity *id, const unsigned char *der, size_t len)
{
	struct outcome *res = calloc(n_pairs, sizeof(*res));
	int fds[2];
	pid_t pid;
	FILE *f;
	size_t i;

	if (res == NULL || pipe(fds) != 0) {
		exit(99);
	}
	fflush(stdout);
	if ((pid = fork()) < 0) {
		exit(99);
	}
	if (pid == 0) {
		close(fds[0]);
		sss_child(fds[1], id, der, len);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	for (i = 0; f != NULL && i < n_pairs; i++) {
		unsigned char hdr[3];
		uint32_t flen;

		if (!read_all(f, hdr, 3) || !read_all(f, &res[i].err, sizeof(res[i].err)) ||
		    !read_all(f, &flen, sizeof(flen))) {
			break;
		}
		res[i].accepted = hdr[0];
		res[i].matched = hdr[1];
		res[i].expanded = hdr[2];
		if (hdr[2]) {
			res[i].filter = calloc(1, (size_t)flen + 1);
			if (res[i].filter == NULL || !read_all(f, res[i].filter, flen)) {
				break;
			}
		}
	}
	for (; i < n_pairs; i++) {
		res[i].err = -999;
	}
	if (f != NULL) {
		fclose(f);
	}
	waitpid(pid, NULL, 0);
	return res;
}

static bool is_leaf(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".pem") == 0 && fnmatch("*ca.pem", name, 0) != 0 &&
	       fnmatch("crl*.pem", name, 0) != 0 && strcmp(name, "chain.pem") != 0;
}

static void run_cert(const char *dir, const char *name)
{
	char *path = cm_asprintf("%s/%s", dir, name);
	char *base = strndup(name, strlen(name) - 4);
	unsigned char *pem = NULL, *der = NULL;
	size_t pem_len = 0, der_len = 0;
	struct cm_identity *id = NULL;
	struct outcome *sss = NULL;
	char *err = NULL;

	if (path == NULL || base == NULL || cmt_read_file(path, &pem, &pem_len) != 0 ||
	    cm_cert_to_der(pem, pem_len, &der, &der_len, &err) != 0) {
		printf("MISMATCH: %s: cannot read the certificate\n", name);
		n_fail++;
		goto out;
	}
	if (cm_identity_parse(der, der_len, &id, &err) != 0) {
		printf("note: %s: certmap cannot parse it: %s\n", base, err ? err : "?");
	}
	sss = sss_outcomes(id, der, der_len);
	for (size_t i = 0; i < n_pairs; i++) {
		compare(base, id, pairs[i].match, pairs[i].map, &sss[i]);
		free(sss[i].filter);
	}
	free(sss);
out:
	cm_identity_free(id);
	free(err);
	free(pem);
	free(der);
	free(path);
	free(base);
}

int main(void)
{
	const char *dir = getenv("CERTMAP_TEST_CERTS");
	struct dirent **ents = NULL;
	int n, certs = 0;

	verbose = getenv("CERTMAP_DIFF_VERBOSE") != NULL;
	make_pairs();
	if (dir == NULL || (n = scandir(dir, &ents, NULL, alphasort)) < 0) {
		printf("CERTMAP_TEST_CERTS is not set or not readable: skipped\n");
		return 77;
	}
	for (int i = 0; i < n; i++) {
		if (is_leaf(ents[i]->d_name)) {
			run_cert(dir, ents[i]->d_name);
			certs++;
		}
		free(ents[i]);
	}
	free(ents);
	free(pairs);
	if (certs == 0) {
		printf("no certificates in %s: skipped\n", dir);
		return 77;
	}
	if (n_known > 0) {
		printf("%d passed, %d failed, %d skipped\n", n_pass, n_fail, n_known);
	} else {
		printf("%d passed, %d failed\n", n_pass, n_fail);
	}
	return n_fail == 0 ? 0 : 1;
}
