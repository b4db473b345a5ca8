/*
 * libFuzzer target: the certificate header decoders of certmapd's HTTP
 * listener (service/http_cert.c). The first byte picks the format (and,
 * for rfc9440, whether the rest after the first '\n' is a
 * Client-Cert-Chain); the rest is the header value. Besides memory errors
 * it checks the decoders' promises and aborts when one is broken:
 * - CMH_OK gives 1 to 9 certificates, each non-empty and at most 64 KiB;
 * - CMH_BAD says why and leaves nothing behind; CMH_ABSENT leaves nothing;
 * - the same value decoded again (then from the thread's memo of the last
 *   value that decoded) gives the same result and the same bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(enum cmh_result r, const struct cmh_certs *c, const char *why)
{
	switch (r) {
	case CMH_OK:
		if (c->n < 1 || c->n > 1 + CMP_MAX_CHAIN) {
			abort();
		}
		for (size_t i = 0; i < c->n; i++) {
			if (c->der[i] == NULL || c->len[i] == 0 || c->len[i] > CMP_MAX_CERT) {
				abort();
			}
		}
		break;
	case CMH_BAD:
		if (why == NULL || c->n != 0) {
			abort();
		}
		break;
	case CMH_ABSENT:
		if (c->n != 0) {
			abort();
		}
		break;
	default: abort();
	}
}

static void same_again(enum cm_http_format f, const char *v, size_t len, enum cmh_result r,
		       const struct cmh_certs *c)
{
	struct cmh_certs again;
	const char *why = NULL;

	if (cmh_decode(f, v, len, &again, &why) != r || again.n != c->n) {
		abort();
	}
	for (size_t i = 0; i < c->n; i++) {
		if (again.len[i] != c->len[i] || memcmp(again.der[i], c->der[i], c->len[i]) != 0) {
			abort();
		}
	}
	cmh_certs_clear(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmh_certs c;
	const char *v = (const char *)data + 1, *why = NULL;
	size_t len;
	enum cm_http_format f;
	enum cmh_result r;
	const char *nl;

	if (size < 1) {
		return 0;
	}
	f = (enum cm_http_format)(data[0] % 5);
	len = size - 1;
	nl = f == CM_HTTP_RFC9440 ? memchr(v, '\n', len) : NULL;
	r = cmh_decode(f, v, nl != NULL ? (size_t)(nl - v) : len, &c, &why);
	check(r, &c, why);
	same_again(f, v, nl != NULL ? (size_t)(nl - v) : len, r, &c);
	if (r == CMH_OK && nl != NULL) {
		size_t rest = len - (size_t)(nl - v) - 1;
		size_t n0 = c.n;

		why = NULL;
		r = cmh_decode_chain(nl + 1, rest, &c, &why);
		if ((r != CMH_OK && r != CMH_BAD) || (r == CMH_BAD && why == NULL) || c.n < n0 ||
		    c.n > 1 + CMP_MAX_CHAIN) {
			abort();
		}
	}
	cmh_certs_clear(&c);
	return 0;
}
