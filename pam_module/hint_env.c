/*
 * The RFC 4681 user-mapping data a PAM-using server received itself (the
 * UserMappingDataList of a SupplementalData message) and put into the PAM
 * environment as base64 (option user_mapping_data_env=). Only the base64
 * is read here: libcertmap, in-process or in certmapd, decodes the list,
 * and a malformed one is the refusal hint_invalid.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "certmap.h"
#include "pam_certmap.h"
#include "util.h"

enum cm_pam_cert_status cm_pam_hint_decode(const char *text, unsigned char **data, size_t *len,
					   const char **why)
{
	size_t tlen;

	*data = NULL;
	*len = 0;
	*why = NULL;
	if (text == NULL) {
		return CM_PAM_CERT_NONE;
	}
	tlen = strnlen(text, CM_PAM_MAX_HINT_TEXT + 1);
	if (tlen > CM_PAM_MAX_HINT_TEXT) {
		*why = "the user-mapping data text is over the size limit";
		return CM_PAM_CERT_MALFORMED;
	}
	switch (cm_base64_decode(text, tlen, CM_B64_SPACE, CERTMAP_HINT_MAX_DATA, data, len)) {
	case CM_B64_OK: return CM_PAM_CERT_OK;
	case CM_B64_EMPTY: return CM_PAM_CERT_NONE; /* nothing but white space */
	case CM_B64_NOMEM: return CM_PAM_CERT_NOMEM;
	case CM_B64_BAD_CHAR:
		*why = "the user-mapping data holds a character that is not base64";
		return CM_PAM_CERT_MALFORMED;
	case CM_B64_TOO_LARGE:
		*why = "the user-mapping data is over the size limit (65537 bytes)";
		return CM_PAM_CERT_MALFORMED;
	case CM_B64_BAD_LENGTH:
	case CM_B64_STRAY_BITS:
	default:
		*why = "the base64 text of the user-mapping data has a wrong length or padding";
		return CM_PAM_CERT_MALFORMED;
	}
}
