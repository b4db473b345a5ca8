/* The one error space of libcertmap and its sentences. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "certmap.h"

static const char *const error_text[CERTMAP_ERR__MAX] = {
	[CERTMAP_OK] = "success",
	[CERTMAP_ERR_SYSTEM] = "system error",
	[CERTMAP_ERR_NOMEM] = "out of memory",
	[CERTMAP_ERR_INVALID_ARG] = "invalid argument",
	[CERTMAP_ERR_CONFIG] = "invalid configuration",
	[CERTMAP_ERR_CERT] = "unreadable or malformed certificate",
	[CERTMAP_ERR_RULE] = "invalid rule",
	[CERTMAP_ERR_TOO_LARGE] = "input too large",
	[CERTMAP_ERR_NOT_FOUND] = "not found",
	[CERTMAP_ERR_BACKEND] = "account backend unavailable",
	[CERTMAP_ERR_HINT] = "malformed user-mapping hint",
	[CERTMAP_ERR_IO] = "file could not be read",
	[CERTMAP_ERR_PROTOCOL] = "malformed message from peer",
	[CERTMAP_ERR_NO_SERVICE] = "service not running (no socket, or nothing listens on it)",
	[CERTMAP_ERR_PERMISSION] = "permission denied on the service's socket",
	[CERTMAP_ERR_PEER_REFUSED] = "the service refused this caller",
	[CERTMAP_ERR_UNTRUSTED_PEER] = "the process answering on the socket is not trusted",
};

const char *certmap_strerror(int err)
{
	if (err == CERTMAP_ERR_SYSTEM) {
		return strerror(errno);
	}
	if (err < 0 || err >= CERTMAP_ERR__MAX || error_text[err] == NULL) {
		return "unknown error";
	}
	return error_text[err];
}

const char *certmap_version(void)
{
	return CERTMAP_VERSION_STRING;
}
