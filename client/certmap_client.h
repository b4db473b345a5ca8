/*
 * certmap_client: ask the running certmapd over its Unix socket.
 *
 * A TLS server that has finished a handshake with a client certificate
 * sends the certificate to certmapd and receives the same answer object
 * that certmap_map() gives in-process, read with the certmap_answer_*
 * accessors of <certmap/certmap.h>:
 *
 *	struct certmap_client *cl = NULL;
 *	struct certmap_answer *ans = NULL;
 *	if (certmap_client_connect(NULL, 2000, &cl) != 0) ... service down
 *	struct certmap_request req = { .cert = der, .cert_len = der_len };
 *	if (certmap_client_map(cl, &req, &ans) != 0) ... service down or bad reply
 *	if (certmap_answer_verdict(ans) == CERTMAP_VERDICT_MAPPED)
 *		use(certmap_answer_user(ans));
 *	certmap_answer_free(ans);
 *	certmap_client_free(cl);
 *
 * One client holds one connection and may be shared by several threads:
 * calls are serialised by a mutex inside the client. When the service has
 * closed an idle connection, a call reconnects once by itself.
 *
 * Who answers: the process listening on the socket (SO_PEERCRED) must be
 * root, the caller's own uid, or the service user (the account named
 * CERTMAP_CLIENT_DEFAULT_SERVER_USER, or certmap_client_options.server_user);
 * anyone else could only be an impostor who created the socket path while
 * certmapd was down, and the connection fails.
 *
 * Return codes of a client made by certmap_client_connect() (those of
 * certmap_client_open() are finer, see there) are enum certmap_err:
 *   CERTMAP_OK                 *answer (or *json) is set;
 *   CERTMAP_ERR_INVALID_ARG    a bad argument, or the service rejected the
 *                              request (org.varlink.service.InvalidParameter,
 *                              MethodNotFound);
 *   CERTMAP_ERR_BACKEND        the service cannot be reached: connect
 *                              failed, timed out, or the connection broke,
 *                              or an untrusted process holds the socket;
 *   CERTMAP_ERR_SYSTEM         errno EACCES: the service refused this
 *                              process (org.certmap.Mapper.PermissionDenied);
 *   CERTMAP_ERR_TOO_LARGE      the request is over the protocol's limit;
 *   CERTMAP_ERR_PROTOCOL       the reply is malformed or unexpected;
 *   CERTMAP_ERR_NOMEM          out of memory.
 * A failure of the service's own account backend (LDAP down) is not an
 * error code: it is an answer with verdict "error" and reason
 * CERTMAP_REASON_BACKEND_UNAVAILABLE, exactly as certmap_map() reports it.
 */
#ifndef CERTMAP_CLIENT_H
#define CERTMAP_CLIENT_H

#include "certmap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The socket certmapd listens on unless service.socket says otherwise. */
#define CERTMAP_CLIENT_DEFAULT_SOCKET "/run/certmapd/socket"
/* The account certmapd runs as unless service.user says otherwise. */
#define CERTMAP_CLIENT_DEFAULT_SERVER_USER "certmapd"

struct certmap_client;
struct x509_st; /* OpenSSL's X509 */

/*
 * Connects to certmapd at path (NULL: CERTMAP_CLIENT_DEFAULT_SOCKET).
 * timeout_ms bounds the connect and, later, each call (send and reply
 * together); 0 or less means 5000. On success *client is a new client
 * that the caller frees with certmap_client_free().
 */
CERTMAP_MUST_CHECK int certmap_client_connect(const char *path, int timeout_ms,
					      struct certmap_client **client);
void certmap_client_free(struct certmap_client *client);

/* Options of certmap_client_open(); zero-initialise, then set what you need. */
struct certmap_client_options {
	const char *path;        /* NULL: CERTMAP_CLIENT_DEFAULT_SOCKET */
	int timeout_ms;          /* 0 or less: 5000 */
	/* The account (name, or uid in decimal) certmapd runs as, which may
	 * answer besides root and the caller's own uid. NULL: the account
	 * CERTMAP_CLIENT_DEFAULT_SERVER_USER if it exists. A given name that
	 * does not exist is CERTMAP_ERR_INVALID_ARG. */
	const char *server_user;
};

/*
 * Like certmap_client_connect(), with options (NULL: all defaults) and
 * finer return codes, here and from every later call on this client:
 *   CERTMAP_ERR_NO_SERVICE      no socket at the path, or nothing listens
 *                               on it (certmapd is not running);
 *   CERTMAP_ERR_PERMISSION      this process may not open the socket;
 *   CERTMAP_ERR_PEER_REFUSED    certmapd refused this process's uid/gid
 *                               (org.certmap.Mapper.PermissionDenied);
 *   CERTMAP_ERR_UNTRUSTED_PEER  the socket is held by a process that is not
 *                               root, the caller's uid or the service user;
 *   CERTMAP_ERR_BACKEND         timeouts and broken connections;
 * and the other codes as above. On failure *errmsg (may be NULL) gets a
 * malloc'd sentence for an administrator ("no socket at P: is certmapd
 * running?"), which the caller frees.
 */
CERTMAP_MUST_CHECK int certmap_client_open(const struct certmap_client_options *options,
					   struct certmap_client **client, char **errmsg);

/*
 * A sentence about the last failed call on client (the service's own
 * message included), "" when there is none. Valid until the next call on
 * client; with several threads sharing client, it may be another
 * thread's.
 */
const char *certmap_client_message(const struct certmap_client *client);

/*
 * Maps one certificate through the service. req is the same request
 * certmap_map() takes: cert (DER or PEM), optional chain, user, upn_hint,
 * domain_hint; CERTMAP_REQ_TRACE in flags asks for the trace (the service
 * gives it only to an administrator allowed to see it). With
 * CERTMAP_REQ_HINT_DATA (since 0.1.1) the raw RFC 4681 bytes in
 * user_mapping_data are sent too, for the service to decode (at most
 * 65537 bytes, else CERTMAP_ERR_TOO_LARGE). On success *answer
 * is a new answer owned by the caller (certmap_answer_free()).
 */
CERTMAP_MUST_CHECK int certmap_client_map(struct certmap_client *client,
					  const struct certmap_request *req,
					  struct certmap_answer **answer);

/*
 * The same with an OpenSSL certificate (for example from
 * SSL_get0_peer_certificate()). req may be NULL; its cert fields are
 * ignored, its other fields are used.
 */
CERTMAP_MUST_CHECK int certmap_client_map_x509(struct certmap_client *client,
					       const struct x509_st *cert,
					       const struct certmap_request *req,
					       struct certmap_answer **answer);

/* The service's counters (org.certmap.Mapper.GetStats) as a malloc'd JSON
 * object text in *json, which the caller frees. */
CERTMAP_MUST_CHECK int certmap_client_stats(struct certmap_client *client,
					    char **json);

/* Asks the service to reload its configuration (org.certmap.Mapper.Reload,
 * privileged). CERTMAP_ERR_CONFIG when the new file is broken (the service
 * keeps the old one); *errmsg (may be NULL) gets the service's message. */
CERTMAP_MUST_CHECK int certmap_client_reload(struct certmap_client *client,
					     char **errmsg);

#ifdef __cplusplus
}
#endif

#endif
