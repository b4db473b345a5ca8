/*
 * The OpenSSL library context certificates are decoded and verified in
 * (x509_libctx.c says why a program may want its own).
 */
#ifndef CERTMAP_X509_LIBCTX_H
#define CERTMAP_X509_LIBCTX_H

#include <openssl/types.h>

/* Opts the program in: call once at start, before any configuration is
 * loaded. Does nothing where the process's OpenSSL context does not run
 * the default provider alone (a FIPS configuration). */
void cm_x509_libctx_enable(void);
/* The context to decode and verify certificates in: NULL (the process's
 * own) unless the program opted in. */
OSSL_LIB_CTX *cm_x509_libctx(void);

#endif
