/*
 * certmap-hint-client: the TLS 1.2 client (GnuTLS) that matches
 * certmap-hint-server. It offers the RFC 4681 user_mapping extension with
 * upn_domain_hint, and when the server accepts it, sends the hint in an
 * RFC 4680 SupplementalData message before its certificate. It prints the
 * server's line ("mapped USER" or "refused REASON").
 *
 *   certmap-hint-client --port PORT --cert FILE --key FILE --upn U [--domain D]
 *                       [--ca FILE] [--no-extension | --offer-only | --data HEX]
 *
 * --ca verifies the server's certificate (recommended; without it the
 * server is not authenticated). For tests and experiments:
 * --no-extension behaves like a client without RFC 4681 support,
 * --offer-only offers the extension but sends no SupplementalData (GnuTLS
 * 3.7.9 servers abort such a handshake, see certmap-hint-server.c), and
 * --data sends HEX as the UserMappingDataList instead of encoding --upn and
 * --domain (certmapctl hint encode prints such bytes).
 *
 * Exit status: 0 the server answered "mapped", 1 it refused, 2 usage, 3
 * the connection or handshake failed.
 *
 * Build it against an installed libcertmap:
 *   cc -o certmap-hint-client certmap-hint-client.c $(pkg-config --cflags --libs libcertmap gnutls)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "certmap.h"

struct opts {
	const char *port, *cert, *key, *ca, *upn, *domain, *hex;
	bool no_extension, offer_only;
};

/* The hint bytes to send, and whether the server asked for them. */
struct hint {
	unsigned char *data;
	size_t len;
	bool offer_only;
};

/* ClientHello: we offer upn_domain_hint only. */
static int ext_send(gnutls_session_t s, gnutls_buffer_t buf)
{
	static const unsigned char ours[] = {CERTMAP_HINT_TYPE_UPN_DOMAIN};
	unsigned char *list = NULL;
	size_t len = 0;
	int ret;

	(void)s;
	if (certmap_hint_types_encode(ours, 1, &list, &len) != CERTMAP_OK) {
		return GNUTLS_E_MEMORY_ERROR;
	}
	ret = gnutls_buffer_append_data(buf, list, len);
	free(list);
	return ret < 0 ? ret : (int)len;
}

/* ServerHello: the server's list must be a subset of ours (RFC 4681). */
static int ext_recv(gnutls_session_t s, const unsigned char *data, size_t len)
{
	struct hint *h = gnutls_session_get_ptr(s);
	unsigned char types[CERTMAP_HINT_MAX_TYPES];
	size_t n = 0;
	char *msg = NULL;

	if (certmap_hint_types_decode(data, len, types, &n, &msg) != CERTMAP_OK) {
		fprintf(stderr, "server's user_mapping extension: %s\n",
			msg != NULL ? msg : "malformed");
		free(msg);
		return GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
	}
	for (size_t i = 0; i < n; i++) {
		if (types[i] != CERTMAP_HINT_TYPE_UPN_DOMAIN) {
			fprintf(stderr, "the server accepted type %u, which was not offered\n",
				types[i]);
			return GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
		}
	}
	if (!h->offer_only) {
		gnutls_supplemental_send(s, 1);
	}
	return 0;
}

/* SupplementalData entry user_mapping_data: the UserMappingDataList. */
static int supp_send(gnutls_session_t s, gnutls_buffer_t buf)
{
	struct hint *h = gnutls_session_get_ptr(s);

	return gnutls_buffer_append_data(buf, h->data, h->len);
}

static int supp_recv(gnutls_session_t s, const unsigned char *data, size_t len)
{
	(void)s;
	(void)data;
	(void)len;
	return GNUTLS_E_UNEXPECTED_PACKET;
}

static int hex_to_bytes(const char *hex, struct hint *h)
{
	size_t n = strlen(hex);

	if (n % 2 != 0 || n / 2 > CERTMAP_HINT_MAX_DATA || (h->data = malloc(n / 2 + 1)) == NULL) {
		return -1;
	}
	for (size_t i = 0; i < n / 2; i++) {
		char pair[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
		char *end = NULL;

		h->data[i] = (unsigned char)strtoul(pair, &end, 16);
		if (end != pair + 2) {
			return -1;
		}
	}
	h->len = n / 2;
	return 0;
}

static int connect_to(const char *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval tv = {.tv_sec = 5};
	char *end = NULL;
	unsigned long p;
	int fd;

	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno != 0 || end == port || *end != '\0' || p == 0 || p > 65535) {
		fprintf(stderr, "--port: not a port number: %s\n", port);
		return -1;
	}
	sa.sin_port = htons((uint16_t)p);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "127.0.0.1:%s: %s\n", port, strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	return fd;
}

static int session_new(const struct opts *o, gnutls_certificate_credentials_t cred, struct hint *h,
		       int fd, gnutls_session_t *out)
{
	gnutls_session_t s = NULL;
	int ret;

	*out = NULL;
	if ((ret = gnutls_init(&s, GNUTLS_CLIENT)) < 0) {
		return ret;
	}
	if ((ret = gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-TLS1.2", NULL)) < 0 ||
	    (ret = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred)) < 0) {
		goto fail;
	}
	if (!o->no_extension &&
	    ((ret =
		  gnutls_session_ext_register(s, "user_mapping", CERTMAP_TLS_EXT_USER_MAPPING,
					      GNUTLS_EXT_TLS, ext_recv, ext_send, NULL, NULL, NULL,
					      GNUTLS_EXT_FLAG_TLS | GNUTLS_EXT_FLAG_CLIENT_HELLO |
						  GNUTLS_EXT_FLAG_TLS12_SERVER_HELLO)) < 0 ||
	     (ret = gnutls_session_supplemental_register(
		  s, "user_mapping_data",
		  (gnutls_supplemental_data_format_type_t)CERTMAP_TLS_SUPP_USER_MAPPING, supp_recv,
		  supp_send, 0)) < 0)) {
		goto fail;
	}
	if (o->ca != NULL) {
		gnutls_session_set_verify_cert(s, NULL, 0);
	}
	gnutls_session_set_ptr(s, h);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 5000);
	*out = s;
	return 0;
fail:
	gnutls_deinit(s);
	return ret;
}

/* Handshake, then the server's one line to stdout. Returns the exit status. */
static int talk(gnutls_session_t s)
{
	char line[512];
	size_t got = 0;
	ssize_t n;
	int ret;

	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
	if (ret < 0) {
		fprintf(stderr, "handshake failed: %s\n", gnutls_strerror(ret));
		return 3;
	}
	while (got < sizeof(line) - 1 &&
	       ((n = gnutls_record_recv(s, line + got, sizeof(line) - 1 - got)) > 0 ||
		n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)) {
		got += n > 0 ? (size_t)n : 0;
	}
	line[got] = '\0';
	if (got == 0) {
		fprintf(stderr, "no answer from the server\n");
		return 3;
	}
	fputs(line, stdout);
	gnutls_bye(s, GNUTLS_SHUT_RDWR);
	return strncmp(line, "mapped ", 7) == 0 ? 0 : 1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"port", required_argument, NULL, 'p'}, {"cert", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},  {"ca", required_argument, NULL, 'a'},
	    {"upn", required_argument, NULL, 'u'},  {"domain", required_argument, NULL, 'd'},
	    {"data", required_argument, NULL, 'x'}, {"no-extension", no_argument, NULL, 'n'},
	    {"offer-only", no_argument, NULL, 'o'}, {NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': o->port = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'k': o->key = optarg; break;
		case 'a': o->ca = optarg; break;
		case 'u': o->upn = optarg; break;
		case 'd': o->domain = optarg; break;
		case 'x': o->hex = optarg; break;
		case 'n': o->no_extension = true; break;
		case 'o': o->offer_only = true; break;
		default: return -1;
		}
	}
	if (optind != argc || o->port == NULL || o->cert == NULL || o->key == NULL) {
		return -1;
	}
	/* Something to send, unless nothing is sent. */
	return o->no_extension || o->offer_only || o->hex != NULL || o->upn != NULL ||
		       o->domain != NULL
		   ? 0
		   : -1;
}

int main(int argc, char **argv)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t s = NULL;
	struct hint h = {0};
	struct opts o = {0};
	char *msg = NULL;
	int fd = -1, rv = 3, ret;

	if (parse_opts(argc, argv, &o) != 0) {
		fprintf(stderr, "usage: certmap-hint-client --port PORT --cert FILE --key FILE "
				"--upn U [--domain D] [--ca FILE] [--no-extension | --offer-only | "
				"--data HEX]\n");
		return 2;
	}
	h.offer_only = o.offer_only;
	if (o.hex != NULL
		? hex_to_bytes(o.hex, &h) != 0
		: (!o.no_extension && !o.offer_only &&
		   certmap_hint_encode(o.upn, o.domain, &h.data, &h.len, &msg) != CERTMAP_OK)) {
		fprintf(stderr, "hint: %s\n", msg != NULL ? msg : "cannot encode it");
		rv = 2;
		goto out;
	}
	if ((ret = gnutls_certificate_allocate_credentials(&cred)) < 0 ||
	    (ret = gnutls_certificate_set_x509_key_file(cred, o.cert, o.key, GNUTLS_X509_FMT_PEM)) <
		0 ||
	    (o.ca != NULL &&
	     (ret = gnutls_certificate_set_x509_trust_file(cred, o.ca, GNUTLS_X509_FMT_PEM)) < 0)) {
		fprintf(stderr, "credentials: %s\n", gnutls_strerror(ret));
		goto out;
	}
	if ((fd = connect_to(o.port)) < 0) {
		goto out;
	}
	if ((ret = session_new(&o, cred, &h, fd, &s)) < 0) {
		fprintf(stderr, "session: %s\n", gnutls_strerror(ret));
		goto out;
	}
	rv = talk(s);
out:
	gnutls_deinit(s);
	if (fd >= 0) {
		close(fd);
	}
	gnutls_certificate_free_credentials(cred);
	free(h.data);
	free(msg);
	return rv;
}
