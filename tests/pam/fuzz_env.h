/*
 * The contract shared by pam_certmap's environment decoders
 * (pam_module/cert_env.c, pam_module/hint_env.c), checked by their fuzz
 * targets: the bytes are a PAM environment value (up to the first NUL, as
 * libpam stores it); decoded bytes are within the decoder's limits and
 * come back from their one-line base64; a refusal says why and returns
 * nothing.
 */
#ifndef CERTMAP_FUZZ_ENV_H
#define CERTMAP_FUZZ_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "pam_certmap.h"

typedef enum cm_pam_cert_status (*fuzz_env_decoder)(const char *text, unsigned char **out,
						     size_t *len, const char **why);

struct fuzz_env_target {
	fuzz_env_decoder decode;
	size_t min_len; /* of what CM_PAM_CERT_OK returns */
	size_t max_len;
};

/* One fuzz input; aborts where the decoder breaks its contract. */
int fuzz_env_one(const struct fuzz_env_target *t, const uint8_t *data, size_t size);

#endif
