/*
 * Fuzz target for pam_certmap's certificate decoder (pam_module/cert_env.c),
 * checked against the contract of tests/pam/fuzz_env.h: a decoded
 * certificate is non-empty and within the DER limit.
 */
#include "config.h"

#include "fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_env_target cert = { cm_pam_cert_decode, 1, CM_PAM_MAX_CERT_DER };

	return fuzz_env_one(&cert, data, size);
}
