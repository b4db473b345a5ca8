/*
 * tls-server: a minimal OpenSSL TLS server that asks certmapd who its
 * client is. Copy it into your server: after the handshake has verified
 * the client certificate against your CA, hand the certificate to
 * certmapd and use the account it answers.
 *
 *   tls-server PORT SERVER-CERT SERVER-KEY CLIENT-CA [CERTMAPD-SOCKET]
 *
 * Build it against an installed libcertmap (make installcheck runs this
 * very line):
 *   cc -o tls-server tls-server.c $(pkg-config --cflags --libs libcertmap) -lssl -lcrypto
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "certmap.h"
#include "certmap_client.h"

static SSL_CTX *make_ctx(const char *cert, const char *key, const char *ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		ERR_print_errors_fp(stderr);
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* TLS verifies the chain; certmapd maps the verified certificate. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	return ctx;
}

static int listen_on(const char *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char *end = NULL;
	unsigned long p = strtoul(port, &end, 10);
	int fd, one = 1;

	if (end == port || *end != '\0' || p == 0 || p > 65535) {
		fprintf(stderr, "bad port %s\n", port);
		return -1;
	}
	sa.sin_port = htons((uint16_t)p);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0) {
		perror("listen");
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	return fd;
}

/* Asks certmapd about the peer; prints and returns the user, or NULL. */
static void serve(SSL *ssl, struct certmap_client *cm)
{
	struct certmap_answer *a = NULL;
	char line[512];
	int rc, n;

	rc = certmap_client_map_x509(cm, SSL_get0_peer_certificate(ssl), NULL, &a);
	if (rc != CERTMAP_OK) {
		n = snprintf(line, sizeof(line), "certmapd: %s\n", certmap_strerror(rc));
	} else if (certmap_answer_verdict(a) != CERTMAP_VERDICT_MAPPED) {
		n = snprintf(line, sizeof(line), "denied: %s (%s)\n",
			     certmap_reason_name(certmap_answer_reason(a)),
			     certmap_answer_message(a));
	} else if (!certmap_answer_has_account(a)) {
		/* A certificate-only identity: a name and groups, no uid. */
		n = snprintf(line, sizeof(line), "user %s (no account) groups", certmap_answer_user(a));
	} else {
		n = snprintf(line, sizeof(line), "user %s uid %u groups", certmap_answer_user(a),
			     (unsigned)certmap_answer_uid(a));
	}
	{
		for (size_t i = 0;
		     i < certmap_answer_n_groups(a) && n > 0 && (size_t)n < sizeof(line); i++) {
			n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%s", i > 0 ? "," : " ",
				      certmap_answer_group(a, i));
		}
		if (n > 0 && (size_t)n < sizeof(line) - 1) {
			line[n++] = '\n';
			line[n] = '\0';
		}
	}
	if (n > 0 && (size_t)n < sizeof(line)) {
		fputs(line, stdout);
		fflush(stdout);
		SSL_write(ssl, line, n);
	}
	certmap_answer_free(a);
}

int main(int argc, char **argv)
{
	struct certmap_client *cm = NULL;
	SSL_CTX *ctx = NULL;
	int lfd = -1, rc;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: tls-server PORT CERT KEY CLIENT-CA [SOCKET]\n");
		return 2;
	}
	if ((ctx = make_ctx(argv[2], argv[3], argv[4])) == NULL || (lfd = listen_on(argv[1])) < 0) {
		SSL_CTX_free(ctx);
		return 1;
	}
	/* One client object for the whole server; it reconnects when needed. */
	if ((rc = certmap_client_connect(argc == 6 ? argv[5] : NULL, 2000, &cm)) != CERTMAP_OK) {
		fprintf(stderr, "cannot reach certmapd: %s\n", certmap_strerror(rc));
		close(lfd);
		SSL_CTX_free(ctx);
		return 1;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		SSL *ssl;

		if (fd < 0) {
			continue;
		}
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1) {
			serve(ssl, cm);
			SSL_shutdown(ssl);
		} else {
			ERR_print_errors_fp(stderr);
		}
		SSL_free(ssl);
		close(fd);
	}
}
