/*
 * certmap-hint-server: a TLS 1.2 server (GnuTLS) that takes the RFC 4681
 * user-mapping hint off the wire and asks certmapd who its client is.
 *
 *   certmap-hint-server --port PORT --cert FILE --key FILE --ca FILE --socket PATH
 *
 * It listens on 127.0.0.1:PORT (0: a free port; the port is printed on the
 * first line of standard output), requires a client certificate that
 * chains to --ca, negotiates the user_mapping extension (RFC 4681, number
 * 6) with upn_domain_hint, receives the SupplementalData entry
 * user_mapping_data (RFC 4680, type 0), and hands the certificate, its
 * chain and the hint bytes, untouched, to certmapd through the client
 * library (certmap_client(3)); certmapd decodes them (certmap_hint(3)).
 * It writes one line to the TLS client, "mapped USER" or "refused REASON",
 * closes, and serves the next connection, until SIGTERM.
 *
 * What a GnuTLS server must do, in the order the handshake needs it:
 *   1. gnutls_session_ext_register() for extension 6: its receive function
 *      reads the client's UserMappingTypeList and, when it lists 64, arms
 *      gnutls_supplemental_recv(); its send function answers with the
 *      types the server accepts among the client's (or sends nothing).
 *   2. gnutls_session_supplemental_register() for type 0: its receive
 *      function keeps the UserMappingDataList bytes.
 *   3. After the handshake, pass those bytes with the certificate.
 * TLS 1.3 has no SupplementalData: the session is TLS 1.2 only.
 *
 * GnuTLS 3.7.9 limitation: once the receive function has armed
 * gnutls_supplemental_recv(), GnuTLS requires the SupplementalData message
 * and aborts the handshake (unexpected packet) when a client that offered
 * the extension sends its Certificate instead, which RFC 4681 says a
 * server must tolerate. Such a client gets no answer from this server; a
 * client that does not offer the extension is served without a hint.
 * Keep GnuTLS current: the receive function gets the entry's length as the
 * client declared it, and in the GnuTLS source we read (lib/supplemental.c)
 * that length is checked against the message only after the call.
 *
 * Build it against an installed libcertmap:
 *   cc -o certmap-hint-server certmap-hint-server.c $(pkg-config --cflags --libs libcertmap gnutls)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "certmap.h"
#include "certmap_client.h"

/* Seconds a client may take for its handshake and its reads. */
#define CONN_TIMEOUT_S 5

struct opts {
	const char *port, *cert, *key, *ca, *socket;
};

/* What one connection's handshake learnt about the hint. */
struct conn {
	bool offered;	     /* the ClientHello listed upn_domain_hint */
	unsigned char *data; /* the UserMappingDataList received, or NULL */
	size_t len;
};

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* ClientHello: the client's UserMappingTypeList. */
static int ext_recv(gnutls_session_t s, const unsigned char *data, size_t len)
{
	struct conn *c = gnutls_session_get_ptr(s);
	unsigned char types[CERTMAP_HINT_MAX_TYPES];
	size_t n = 0;
	char *msg = NULL;

	if (certmap_hint_types_decode(data, len, types, &n, &msg) != CERTMAP_OK) {
		fprintf(stderr, "user_mapping extension: %s\n", msg != NULL ? msg : "malformed");
		free(msg);
		return GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
	}
	for (size_t i = 0; i < n; i++) {
		c->offered = c->offered || types[i] == CERTMAP_HINT_TYPE_UPN_DOMAIN;
	}
	if (c->offered) {
		/* The client will send SupplementalData before its Certificate. */
		gnutls_supplemental_recv(s, 1);
	}
	return 0;
}

/* ServerHello: the types we accept among the client's, or no extension. */
static int ext_send(gnutls_session_t s, gnutls_buffer_t buf)
{
	static const unsigned char ours[] = {CERTMAP_HINT_TYPE_UPN_DOMAIN};
	struct conn *c = gnutls_session_get_ptr(s);
	unsigned char *list = NULL;
	size_t len = 0;
	int ret;

	if (!c->offered) {
		return 0; /* RFC 4681: no common type, no extension */
	}
	if (certmap_hint_types_encode(ours, 1, &list, &len) != CERTMAP_OK) {
		return GNUTLS_E_MEMORY_ERROR;
	}
	ret = gnutls_buffer_append_data(buf, list, len);
	free(list);
	return ret < 0 ? ret : (int)len;
}

/* SupplementalData entry user_mapping_data: kept as received. */
static int supp_recv(gnutls_session_t s, const unsigned char *data, size_t len)
{
	struct conn *c = gnutls_session_get_ptr(s);

	if (!c->offered || c->data != NULL) {
		return GNUTLS_E_UNEXPECTED_PACKET;
	}
	/* One more byte, so that an empty list is still "received". */
	if ((c->data = malloc(len + 1)) == NULL) {
		return GNUTLS_E_MEMORY_ERROR;
	}
	memcpy(c->data, data, len);
	c->len = len;
	return 0;
}

/* The server sends no SupplementalData of its own. */
static int supp_send(gnutls_session_t s, gnutls_buffer_t buf)
{
	(void)s;
	(void)buf;
	return 0;
}

/* The line for the client: "mapped USER" or "refused REASON". */
static void answer_line(gnutls_session_t s, const struct conn *c, struct certmap_client *cm,
			char *line, size_t size)
{
	struct certmap_request req = {0};
	struct certmap_answer *a = NULL;
	const gnutls_datum_t *peers;
	const unsigned char *chain[8];
	size_t chain_len[8];
	unsigned int n = 0, status = 0;
	int rc;

	peers = gnutls_certificate_get_peers(s, &n);
	if (gnutls_certificate_verify_peers2(s, &status) != 0 || status != 0 || peers == NULL ||
	    n == 0) {
		snprintf(line, size, "refused untrusted\n");
		return;
	}
	req.cert = peers[0].data;
	req.cert_len = peers[0].size;
	for (unsigned int i = 1; i < n && req.n_chain < 8; i++) {
		chain[req.n_chain] = peers[i].data;
		chain_len[req.n_chain++] = peers[i].size;
	}
	req.chain = chain;
	req.chain_len = chain_len;
	if (c->data != NULL) {
		req.flags |= CERTMAP_REQ_HINT_DATA;
		req.user_mapping_data = c->data;
		req.user_mapping_data_len = c->len;
	}
	rc = certmap_client_map(cm, &req, &a);
	if (rc != CERTMAP_OK) {
		fprintf(stderr, "certmapd: %s\n", certmap_client_message(cm));
		snprintf(line, size, "refused backend_unavailable\n");
	} else if (certmap_answer_verdict(a) == CERTMAP_VERDICT_MAPPED) {
		snprintf(line, size, "mapped %s\n", certmap_answer_user(a));
	} else {
		fprintf(stderr, "refused: %s\n", certmap_answer_message(a));
		snprintf(line, size, "refused %s\n", certmap_reason_name(certmap_answer_reason(a)));
	}
	certmap_answer_free(a);
}

static int session_new(gnutls_certificate_credentials_t cred, struct conn *c, int fd,
		       gnutls_session_t *out)
{
	gnutls_session_t s = NULL;
	int ret;

	*out = NULL;
	if ((ret = gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NO_TICKETS)) < 0) {
		return ret;
	}
	/* SupplementalData exists in TLS 1.2 only. */
	if ((ret = gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-TLS1.2", NULL)) < 0 ||
	    (ret = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred)) < 0 ||
	    (ret = gnutls_session_ext_register(s, "user_mapping", CERTMAP_TLS_EXT_USER_MAPPING,
					       GNUTLS_EXT_TLS, ext_recv, ext_send, NULL, NULL, NULL,
					       GNUTLS_EXT_FLAG_TLS | GNUTLS_EXT_FLAG_CLIENT_HELLO |
						   GNUTLS_EXT_FLAG_TLS12_SERVER_HELLO)) < 0 ||
	    (ret = gnutls_session_supplemental_register(
		 s, "user_mapping_data",
		 (gnutls_supplemental_data_format_type_t)CERTMAP_TLS_SUPP_USER_MAPPING, supp_recv,
		 supp_send, 0)) < 0) {
		gnutls_deinit(s);
		return ret;
	}
	gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
	gnutls_session_set_ptr(s, c);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, CONN_TIMEOUT_S * 1000);
	*out = s;
	return 0;
}

static void serve(int fd, gnutls_certificate_credentials_t cred, struct certmap_client *cm)
{
	struct timeval tv = {.tv_sec = CONN_TIMEOUT_S};
	struct conn c = {0};
	gnutls_session_t s = NULL;
	char line[512];
	int ret;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((ret = session_new(cred, &c, fd, &s)) < 0) {
		fprintf(stderr, "session: %s\n", gnutls_strerror(ret));
		return;
	}
	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
	if (ret < 0) {
		fprintf(stderr, "handshake failed: %s\n", gnutls_strerror(ret));
		goto out;
	}
	answer_line(s, &c, cm, line, sizeof(line));
	fprintf(stderr, "client %s hint, %s", c.data != NULL ? "sent a" : "sent no", line);
	gnutls_record_send(s, line, strlen(line));
	gnutls_bye(s, GNUTLS_SHUT_WR);
out:
	gnutls_deinit(s);
	free(c.data);
}

static int listen_on(const char *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t salen = sizeof(sa);
	char *end = NULL;
	unsigned long p;
	int fd, one = 1;

	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno != 0 || end == port || *end != '\0' || p > 65535) {
		fprintf(stderr, "--port: not a port number: %s\n", port);
		return -1;
	}
	sa.sin_port = htons((uint16_t)p);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) != 0) {
		fprintf(stderr, "127.0.0.1:%s: %s\n", port, strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	printf("listening on 127.0.0.1:%u\n", (unsigned)ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"port", required_argument, NULL, 'p'},   {"cert", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},    {"ca", required_argument, NULL, 'a'},
	    {"socket", required_argument, NULL, 's'}, {NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': o->port = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'k': o->key = optarg; break;
		case 'a': o->ca = optarg; break;
		case 's': o->socket = optarg; break;
		default: return -1;
		}
	}
	if (optind != argc || o->port == NULL || o->cert == NULL || o->key == NULL ||
	    o->ca == NULL) {
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct certmap_client_options copt = {0};
	struct certmap_client *cm = NULL;
	gnutls_certificate_credentials_t cred = NULL;
	struct sigaction sa = {.sa_handler = on_term};
	struct opts o = {0};
	char *err = NULL;
	int lfd = -1, rv = 1, ret;

	if (parse_opts(argc, argv, &o) != 0) {
		fprintf(stderr, "usage: certmap-hint-server --port PORT --cert FILE --key FILE "
				"--ca FILE [--socket PATH]\n");
		return 2;
	}
	/* No SA_RESTART: SIGTERM interrupts accept(). */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((ret = gnutls_certificate_allocate_credentials(&cred)) < 0 ||
	    (ret = gnutls_certificate_set_x509_key_file(cred, o.cert, o.key, GNUTLS_X509_FMT_PEM)) <
		0 ||
	    (ret = gnutls_certificate_set_x509_trust_file(cred, o.ca, GNUTLS_X509_FMT_PEM)) < 0) {
		fprintf(stderr, "credentials: %s\n", gnutls_strerror(ret));
		goto out;
	}
	copt.path = o.socket;
	if (certmap_client_open(&copt, &cm, &err) != CERTMAP_OK) {
		fprintf(stderr, "certmapd: %s\n", err != NULL ? err : "cannot connect");
		goto out;
	}
	if ((lfd = listen_on(o.port)) < 0) {
		goto out;
	}
	while (!stopping) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			continue; /* EINTR on SIGTERM, or a client that left */
		}
		serve(fd, cred, cm);
		close(fd);
	}
	rv = 0;
out:
	if (lfd >= 0) {
		close(lfd);
	}
	certmap_client_free(cm);
	gnutls_certificate_free_credentials(cred);
	free(err);
	return rv;
}
