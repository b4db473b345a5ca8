/*
 * The OpenSSL library context certificates are decoded and verified in.
 *
 * d2i_X509 decodes the subject's public key through the providers'
 * decoders, and OpenSSL 3.0 builds a decoder chain for every key it
 * decodes: it weighs each of the default provider's 40 decoders (PEM,
 * MSBLOB, PVK, private-key forms...) against each key manager, to keep
 * the dozen that read a DER SubjectPublicKeyInfo. That search is about
 * 60 of the 130 us that d2i_X509 + X509_verify_cert take for a client
 * certificate never seen before.
 *
 * A process that opts in gets a library context whose one provider is the
 * default provider itself, offered again with only those dozen decoders:
 * every algorithm it runs (key managers, signatures, digests, decoders) is
 * the default provider's own code, with the default provider's own
 * context, so nothing about the checks changes; the search is shorter.
 * The process's own context must run the default provider and not the
 * FIPS one: a system configured otherwise keeps its context as it is.
 *
 * The context is made once and never freed (it is reachable to the end).
 * Its provider's functions live in the program, which is why libcertmap
 * does not opt in by itself: pam_certmap.so is unloaded by pam_end, and a
 * context outliving its code would be a trap. certmapd and certmapctl,
 * programs, opt in.
 */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "x509_libctx.h"

#define PROVIDER_NAME "certmap-x509"
/* The decoders d2i_X509 uses for a certificate's key (x509_pubkey_ex_d2i_ex
 * asks for input "DER", structure "SubjectPublicKeyInfo"). */
#define WANTED_DECODERS "input=der,structure=SubjectPublicKeyInfo"
#define MAX_DECODERS 32

static OSSL_PROVIDER *inner; /* the default provider, in the process's context */
static OSSL_ALGORITHM decoders[MAX_DECODERS + 1]; /* ends with a zeroed entry */
static OSSL_LIB_CTX *libctx;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool wanted;

static const OSSL_ALGORITHM *query(void *provctx, int operation, int *no_cache)
{
	(void)provctx;
	if (operation == OSSL_OP_DECODER) {
		*no_cache = 0;
		return decoders;
	}
	return OSSL_PROVIDER_query_operation(inner, operation, no_cache);
}

static void unquery(void *provctx, int operation, const OSSL_ALGORITHM *algs)
{
	(void)provctx;
	if (operation != OSSL_OP_DECODER) {
		OSSL_PROVIDER_unquery_operation(inner, operation, algs);
	}
}

static const OSSL_DISPATCH dispatch[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))query },
	{ OSSL_FUNC_PROVIDER_UNQUERY_OPERATION, (void (*)(void))unquery },
	{ 0, NULL },
};

/* Keeps the inner provider's SubjectPublicKeyInfo decoders; 0 when it has
 * none or more than expected (a different OpenSSL: then no filtering). */
static int pick_decoders(void)
{
	const OSSL_ALGORITHM *a;
	size_t n = 0;
	int no_cache = 0;

	a = OSSL_PROVIDER_query_operation(inner, OSSL_OP_DECODER, &no_cache);
	for (; a != NULL && a->algorithm_names != NULL; a++) {
		if (a->property_definition == NULL ||
		    strstr(a->property_definition, WANTED_DECODERS) == NULL) {
			continue;
		}
		if (n == MAX_DECODERS) {
			return 0;
		}
		decoders[n++] = *a;
	}
	/* Static tables (no_cache 0) only: the copies must stay valid. */
	return n > 0 && no_cache == 0;
}

static int provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
			 const OSSL_DISPATCH **out, void **provctx)
{
	(void)handle, (void)in;
	if (!pick_decoders()) {
		return 0;
	}
	/* The default provider's algorithms get the context they expect. */
	*provctx = OSSL_PROVIDER_get0_provider_ctx(inner);
	*out = dispatch;
	return 1;
}

static bool process_runs_default_alone(void)
{
	return OSSL_PROVIDER_available(NULL, "default") &&
	       !OSSL_PROVIDER_available(NULL, "fips") &&
	       !EVP_default_properties_is_fips_enabled(NULL);
}

static void make_libctx(void)
{
	OSSL_LIB_CTX *c;

	ERR_set_mark();
	if (!wanted || !process_runs_default_alone() ||
	    (inner = OSSL_PROVIDER_load(NULL, "default")) == NULL) {
		goto out;
	}
	c = OSSL_LIB_CTX_new();
	if (c != NULL && OSSL_PROVIDER_add_builtin(c, PROVIDER_NAME, provider_init) == 1 &&
	    OSSL_PROVIDER_load(c, PROVIDER_NAME) != NULL) {
		libctx = c;
	} else {
		OSSL_LIB_CTX_free(c);
	}
out:
	ERR_pop_to_mark();
}

void cm_x509_libctx_enable(void)
{
	wanted = true;
	pthread_once(&once, make_libctx);
}

OSSL_LIB_CTX *cm_x509_libctx(void)
{
	pthread_once(&once, make_libctx);
	return libctx;
}
