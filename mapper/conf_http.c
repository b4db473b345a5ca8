/*
 * The settings of certmapd's HTTP forward-auth listener, service.http
 * (certmap.conf(5)): checked when the configuration is loaded, used by
 * service/http.c. conf.c hands the service group to cm_conf_http_load().
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_http.h"
#include "conf_read.h"
#include "util.h"

/* An HTTP header name: a token of letters, digits and '-' (RFC 9110). */
static void http_header_name(struct conf_ctx *c, const config_setting_t *g, const char *name,
			     char *value)
{
	size_t n = value != NULL ? strlen(value) : 0;

	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)value[i]) && value[i] != '-') {
			cm_conf_err(c, g, name,
				    "\"%s\" is not a header name (letters, digits, '-')", value);
			return;
		}
	}
	if (n > 64) {
		cm_conf_err(c, g, name, "a header name is at most 64 bytes");
	}
}

/* "127.0.0.1:PORT", "[::1]:PORT": an address and a port; *loopback says
 * whether only this host can reach it. Returns 0 or -1. */
int cm_http_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			 bool *loopback)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = s;
	size_t hlen;
	char *end = NULL;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	*len = 0;
	*loopback = false;
	if ((colon = strrchr(s, ':')) == NULL) {
		return -1;
	}
	hlen = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hlen < 2 || s[hlen - 1] != ']') {
			return -1;
		}
		h = s + 1;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || port < 1 || port > 65535 ||
	    !isdigit((unsigned char)colon[1])) {
		return -1;
	}
	if (s[0] != '[') {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1) {
			return -1;
		}
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
		*loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	{
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) {
			return -1;
		}
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return 0;
}

static const char *const http_format_names[] = {
	[CM_HTTP_RFC9440] = "rfc9440",	      [CM_HTTP_NGINX] = "nginx",
	[CM_HTTP_BASE64_DER] = "base64-der", [CM_HTTP_TRAEFIK] = "traefik",
	[CM_HTTP_ENVOY] = "envoy",
};

/* The header each format is usually sent in. */
static const char *const http_format_headers[] = {
	[CM_HTTP_RFC9440] = "Client-Cert",
	[CM_HTTP_NGINX] = "X-Client-Cert",
	[CM_HTTP_BASE64_DER] = "X-Client-Cert",
	[CM_HTTP_TRAEFIK] = "X-Forwarded-Tls-Client-Cert",
	[CM_HTTP_ENVOY] = "X-Forwarded-Client-Cert",
};

static void http_format(struct conf_ctx *c, const config_setting_t *g, struct cm_http_conf *h)
{
	char *f = NULL;
	size_t i;

	cm_conf_get_string(c, g, "cert_format", false, &f);
	for (i = 0; f != NULL && i < CM_ARRAY_SIZE(http_format_names); i++) {
		if (strcmp(f, http_format_names[i]) == 0) {
			h->cert_format = (enum cm_http_format)i;
			break;
		}
	}
	if (f != NULL && i == CM_ARRAY_SIZE(http_format_names)) {
		cm_conf_err(c, g, "cert_format",
			    "\"%s\" is not one of rfc9440, nginx, base64-der, traefik, envoy", f);
	}
	free(f);
}

void cm_conf_http_load(struct conf_ctx *c, const config_setting_t *parent, struct cm_http_conf *h)
{
	static const char *const known[] = {
		"socket", "listen", "token_file", "cert_format", "cert_header", "chain_header",
		"verify_header", "verify_success", "user_header", "upn_hint_header",
		"domain_hint_header", "contact_url", "hint_data_header", NULL
	};
	const config_setting_t *g = config_setting_get_member(parent, "http");
	struct sockaddr_storage ss;
	socklen_t sslen;
	bool loopback = false;

	if (g == NULL) {
		return;
	}
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		cm_conf_err(c, g, NULL, "must be a group { ... }");
		return;
	}
	cm_conf_check_members(c, g, known);
	cm_conf_get_string(c, g, "socket", false, &h->socket);
	cm_conf_get_string(c, g, "listen", false, &h->listen);
	cm_conf_get_string(c, g, "token_file", false, &h->token_file);
	http_format(c, g, h);
	cm_conf_get_string(c, g, "cert_header", false, &h->cert_header);
	cm_conf_get_string(c, g, "chain_header", false, &h->chain_header);
	cm_conf_get_string(c, g, "verify_header", false, &h->verify_header);
	cm_conf_get_string(c, g, "verify_success", false, &h->verify_success);
	cm_conf_get_string(c, g, "user_header", false, &h->user_header);
	cm_conf_get_string(c, g, "upn_hint_header", false, &h->upn_hint_header);
	cm_conf_get_string(c, g, "domain_hint_header", false, &h->domain_hint_header);
	cm_conf_get_string(c, g, "hint_data_header", false, &h->hint_data_header);
	cm_conf_get_string(c, g, "contact_url", false, &h->contact_url);
	if (h->socket != NULL && h->socket[0] != '/') {
		cm_conf_err(c, g, "socket", "must be an absolute path");
	}
	if (h->listen != NULL) {
		if (cm_http_parse_listen(h->listen, &ss, &sslen, &loopback) != 0) {
			cm_conf_err(c, g, "listen", "\"%s\" is not 127.0.0.1:PORT or [::1]:PORT",
				    h->listen);
		} else if (!loopback && h->token_file == NULL) {
			cm_conf_err(c, g, "listen",
				    "\"%s\" is not a loopback address: set token_file too, so that "
				    "every request must carry the token", h->listen);
		}
	}
	if (h->contact_url != NULL && strncmp(h->contact_url, "https://", 8) != 0 &&
	    strncmp(h->contact_url, "http://", 7) != 0 && strncmp(h->contact_url, "mailto:", 7) != 0) {
		cm_conf_err(c, g, "contact_url", "must start with https://, http:// or mailto:");
	}
	if (h->cert_header == NULL &&
	    (h->cert_header = strdup(http_format_headers[h->cert_format])) == NULL) {
		c->nomem = true;
	}
	if (h->chain_header != NULL && h->cert_format != CM_HTTP_RFC9440) {
		cm_conf_err(c, g, "chain_header", "is only for cert_format \"rfc9440\"");
	}
	if (h->verify_success == NULL && (h->verify_success = strdup("SUCCESS")) == NULL) {
		c->nomem = true;
	}
	http_header_name(c, g, "cert_header", h->cert_header);
	http_header_name(c, g, "chain_header", h->chain_header);
	http_header_name(c, g, "verify_header", h->verify_header);
	http_header_name(c, g, "user_header", h->user_header);
	http_header_name(c, g, "upn_hint_header", h->upn_hint_header);
	http_header_name(c, g, "domain_hint_header", h->domain_hint_header);
	http_header_name(c, g, "hint_data_header", h->hint_data_header);
}

void cm_conf_http_free(struct cm_http_conf *h)
{
	free(h->socket);
	free(h->listen);
	free(h->token_file);
	free(h->cert_header);
	free(h->chain_header);
	free(h->verify_header);
	free(h->verify_success);
	free(h->user_header);
	free(h->upn_hint_header);
	free(h->domain_hint_header);
	free(h->hint_data_header);
	free(h->contact_url);
}
