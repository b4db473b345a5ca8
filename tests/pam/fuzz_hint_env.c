/*
 * Fuzz target for pam_certmap's user-mapping data decoder
 * (pam_module/hint_env.c), checked against the contract of
 * tests/pam/fuzz_env.h: decoded bytes are within CERTMAP_HINT_MAX_DATA.
 */
#include "config.h"

#include "certmap.h"
#include "fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_env_target hint = { cm_pam_hint_decode, 0, CERTMAP_HINT_MAX_DATA };

	return fuzz_env_one(&hint, data, size);
}
