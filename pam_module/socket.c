/*
 * Socket mode: the mapping is certmapd's, through its client library. The
 * client's error codes map through one switch whose default denies; only
 * "cannot reach the service" is PAM_AUTHINFO_UNAVAIL, so that a stack may
 * treat a stopped service differently from a broken or hostile one.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "certmap.h"
#include "certmap_client.h"
#include "pam_certmap.h"

static int client_err_to_pam(pam_handle_t *pamh, const char *path, int rc)
{
	switch (rc) {
	case CERTMAP_OK: return PAM_SUCCESS;
	case CERTMAP_ERR_NOMEM: return PAM_BUF_ERR;
	case CERTMAP_ERR_BACKEND:
	case CERTMAP_ERR_NO_SERVICE:
	case CERTMAP_ERR_PERMISSION:
		pam_syslog(pamh, LOG_ERR, "certmapd at %s cannot be reached: %s", path, certmap_strerror(rc));
		return PAM_AUTHINFO_UNAVAIL;
	case CERTMAP_ERR_PEER_REFUSED:
		pam_syslog(pamh, LOG_ERR, "certmapd at %s refused this process: %s", path, certmap_strerror(rc));
		return PAM_SERVICE_ERR;
	case CERTMAP_ERR_UNTRUSTED_PEER:
		pam_syslog(pamh, LOG_ERR, "%s is held by a process that is not root or the service user "
			   "(option server_user=): denied", path);
		return PAM_AUTH_ERR;
	case CERTMAP_ERR_SYSTEM:
		/* The client reports the service's PermissionDenied as EACCES. */
		pam_syslog(pamh, LOG_ERR, "certmapd at %s refused this process: %s", path,
			   strerror(errno));
		return PAM_SERVICE_ERR;
	case CERTMAP_ERR_PROTOCOL:
		pam_syslog(pamh, LOG_ERR, "certmapd at %s sent a malformed reply: denied", path);
		return PAM_AUTH_ERR;
	case CERTMAP_ERR_INVALID_ARG:
	case CERTMAP_ERR_TOO_LARGE:
	case CERTMAP_ERR_CONFIG:
	case CERTMAP_ERR_CERT:
	case CERTMAP_ERR_RULE:
	case CERTMAP_ERR_NOT_FOUND:
	case CERTMAP_ERR_HINT:
	case CERTMAP_ERR_IO:
	case CERTMAP_ERR__MAX:
	default:
		pam_syslog(pamh, LOG_ERR, "certmapd at %s: %s: denied", path, certmap_strerror(rc));
		return PAM_AUTH_ERR;
	}
}

int cm_pam_map_socket(pam_handle_t *pamh, const struct cm_pam_opts *o,
		      const struct certmap_request *req, struct certmap_answer **answer)
{
	struct certmap_client *cl = NULL;
	int rv = PAM_AUTH_ERR;
	int rc;

	*answer = NULL;
	/* timeout is at most CM_PAM_MAX_TIMEOUT seconds: no overflow. */
	rc = certmap_client_open(&(struct certmap_client_options){ .path = o->socket, .timeout_ms = (int)(o->timeout * 1000), .server_user = o->server_user }, &cl, NULL);
	if (rc == CERTMAP_OK) {
		rc = certmap_client_map(cl, req, answer);
	}
	rv = client_err_to_pam(pamh, o->socket, rc);
	if (rv == PAM_SUCCESS && *answer == NULL) {
		rv = PAM_AUTH_ERR;
	}
	certmap_client_free(cl);
	return rv;
}
