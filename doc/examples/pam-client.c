/*
 * pam-client: how an application hands a TLS client certificate to
 * pam_certmap.so. The certificate must be in the PAM environment before
 * pam_authenticate() runs, and only the application can put it there:
 * a web server's SSL_CLIENT_CERT lives in the CGI environment, not in
 * PAM's, and pam_env runs too late (in the session phase) and would let
 * users set it. So the application calls pam_putenv().
 *
 *   pam-client SERVICE CERT.pem [USER]
 *
 * CERT.pem stands for the client certificate your TLS library has verified
 * in the handshake (with OpenSSL: PEM_write_bio_X509() of
 * SSL_get0_peer_certificate() into a memory BIO). Without USER the module
 * sets PAM_USER to the mapped account; with USER that account must be one
 * of the certificate's candidates. Prints the account and its groups and
 * exits 0 when the login is allowed, 1 when it is refused, 2 on a usage
 * error.
 *
 * Build it (make installcheck runs this very line):
 *   cc -o pam-client pam-client.c -lpam
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#define CERT_VAR "SSL_CLIENT_CERT="
#define MAX_PEM (128 * 1024) /* pam_certmap's own limit for the text */

/* pam_certmap never prompts; a stack that does is not this example's. */
static int no_conversation(int n, const struct pam_message **msg, struct pam_response **resp,
			   void *data)
{
	(void)n;
	(void)msg;
	(void)data;
	*resp = NULL;
	return PAM_CONV_ERR;
}

/* "SSL_CLIENT_CERT=<PEM text of path>", malloc'd; NULL on error. */
static char *cert_variable(const char *path)
{
	size_t prefix = strlen(CERT_VAR), n = 0;
	char *s = NULL;
	FILE *f = NULL;

	if ((f = fopen(path, "r")) == NULL || (s = malloc(prefix + MAX_PEM + 1)) == NULL) {
		perror(path);
		goto out;
	}
	memcpy(s, CERT_VAR, prefix);
	n = fread(s + prefix, 1, MAX_PEM + 1, f);
	if (ferror(f) || n > MAX_PEM) {
		fprintf(stderr, "%s: unreadable or larger than %d bytes\n", path, MAX_PEM);
		free(s);
		s = NULL;
		goto out;
	}
	s[prefix + n] = '\0';
out:
	if (f != NULL) {
		fclose(f);
	}
	return s;
}

int main(int argc, char **argv)
{
	struct pam_conv conv = {no_conversation, NULL};
	pam_handle_t *pamh = NULL;
	const void *user = NULL;
	const char *groups = NULL;
	char *cert = NULL;
	int rv = PAM_AUTH_ERR;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: pam-client SERVICE CERT.pem [USER]\n");
		return 2;
	}
	if ((cert = cert_variable(argv[2])) == NULL) {
		return 2;
	}
	/* The certificate goes in first: the auth and account hooks read it. */
	if ((rv = pam_start(argv[1], argc == 4 ? argv[3] : NULL, &conv, &pamh)) != PAM_SUCCESS ||
	    (rv = pam_putenv(pamh, cert)) != PAM_SUCCESS ||
	    (rv = pam_authenticate(pamh, PAM_SILENT)) != PAM_SUCCESS ||
	    (rv = pam_acct_mgmt(pamh, PAM_SILENT)) != PAM_SUCCESS ||
	    (rv = pam_get_item(pamh, PAM_USER, &user)) != PAM_SUCCESS) {
		fprintf(stderr, "login refused: %s\n", pam_strerror(pamh, rv));
		goto out;
	}
	if (user == NULL) {
		rv = PAM_USER_UNKNOWN;
		fprintf(stderr, "login refused: no user\n");
		goto out;
	}
	/* pam_certmap exports the groups on success only. */
	groups = pam_getenv(pamh, "CERTMAP_GROUPS");
	printf("user %s, groups %s\n", (const char *)user, groups != NULL ? groups : "(none)");
out:
	if (pamh != NULL) {
		pam_end(pamh, rv);
	}
	free(cert);
	return rv == PAM_SUCCESS ? 0 : 1;
}
