/*
 * The configuration: one libconfig file read by the library, the PAM
 * module, the CLI and the service. Loading validates everything (unknown
 * settings, types, ranges, rule syntax, map files) and collects every
 * error with file, line and setting.
 */
#ifndef CERTMAP_CONF_H
#define CERTMAP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>

#include "mapfile.h"
#include "rules.h"
#include "util.h"
#include "verify.h"

#define CM_CONFIG_MAX_SIZE (1024 * 1024)
#define CM_DEFAULT_MIN_UID 1000

struct cm_ldap_conf;
struct cm_certdom_conf;

enum cm_domain_type {
	CM_DOMAIN_LOCAL = 0,
	CM_DOMAIN_LDAP,
	CM_DOMAIN_CERT, /* certificate-only identities, no account (backend_cert.c) */
};

struct cm_domain {
	char *name;
	enum cm_domain_type type;
	uid_t min_uid;
	bool allow_uid0;
	/* ldap settings (conf_ldap.c checks them; NULL ldap for local domains). */
	struct cm_strv uri;
	char *base;
	char *groups;
	struct cm_ldap_conf *ldap;
	/* certificate domains: group_from, group_map (conf_certdom.c). */
	struct cm_certdom_conf *cert;
};

struct cm_rule {
	char *name;
	int priority;           /* 0 is the highest */
	struct cm_match *match;
	struct cm_map *map;
	struct cm_mapfile *mapfile;       /* MAPFILE: rules only */
	const struct cm_domain **domains; /* the domains this rule applies to */
	size_t n_domains;
};

/* How service.http finds the client certificate in a request header. */
enum cm_http_format {
	CM_HTTP_RFC9440 = 0, /* Client-Cert: :<base64 DER>: (the default) */
	CM_HTTP_NGINX,	     /* $ssl_client_escaped_cert: URL-encoded PEM */
	CM_HTTP_BASE64_DER,  /* Caddy certificate_der_base64, HAProxy ssl_c_der,base64 */
	CM_HTTP_TRAEFIK,     /* PEM bodies without armour, joined by ',' */
	CM_HTTP_ENVOY,	     /* x-forwarded-client-cert: Cert="<URL-encoded PEM>" */
};

/* certmapd's HTTP forward-auth listener (service.http); off when neither
 * socket nor listen is set. */
struct cm_http_conf {
	char *socket;		 /* a Unix socket, checked like the varlink one */
	char *listen;		 /* 127.0.0.1:PORT or [::1]:PORT (any address with a token) */
	char *token_file;	 /* bearer token required on listen */
	enum cm_http_format cert_format;
	char *cert_header;	 /* default from cert_format */
	char *chain_header;	 /* rfc9440 only: Client-Cert-Chain */
	char *verify_header;	 /* when set, must hold verify_success */
	char *verify_success;	 /* default "SUCCESS" */
	char *user_header;	 /* the requested user, optional */
	char *upn_hint_header;	 /* RFC 4681 hints, optional */
	char *domain_hint_header;
	char *hint_data_header;	 /* RFC 4681 UserMappingDataList, base64 (user_mapping_data) */
	char *contact_url;	 /* shown on the denial page */
};

/* Parses service.http.listen ("127.0.0.1:PORT", "[::1]:PORT"); *loopback
 * says whether only this host can reach it. Returns 0 or -1. */
int cm_http_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			 bool *loopback);

struct cm_service_conf {
	char *socket;
	char *user;
	uid_t *allowed_uids;
	size_t n_allowed_uids;
	gid_t *allowed_gids;
	size_t n_allowed_gids;
	unsigned int max_connections;
	unsigned int max_connections_per_uid;
	unsigned int timeout;    /* seconds */
	unsigned int cache_ttl;  /* seconds */
	unsigned int cache_size; /* entries */
	bool infopipe;           /* the D-Bus InfoPipe face (service/infopipe.c) */
	struct cm_http_conf http;
};

struct cm_config {
	char *path;
	struct cm_verify_policy verify;
	struct cm_domain *domains;
	size_t n_domains;
	struct cm_rule *rules;   /* sorted by priority, config order within one */
	size_t n_rules;
	struct cm_service_conf service;
};

/*
 * Reads (with cm_file_read: a regular file of at most CM_CONFIG_MAX_SIZE
 * bytes that only root or the reader can change) and validates a
 * configuration file. Returns 0 and *out, or CERTMAP_ERR_CONFIG
 * (CERTMAP_ERR_IO, _TOO_LARGE) with every error found, one per line,
 * "file:line: setting: what is wrong" ("file: setting: ..." when the
 * setting is missing altogether), in *errmsg.
 */
int cm_config_load(const char *path, struct cm_config **out, char **errmsg);
/* The same from a buffer; name stands for the file in messages. */
int cm_config_parse(const char *text, size_t len, const char *name,
		    struct cm_config **out, char **errmsg);
void cm_config_free(struct cm_config *cfg);

/*
 * The lexical pass run before libconfig (conf_scan.c): copies len bytes of
 * text to out with an L suffix on every integer literal (so that libconfig
 * 1.5 reads each as 64-bit instead of truncating it to an int), and
 * appends "name:line: problem" lines to errs for @include and for numbers
 * that do not fit in 64 bits. Returns the number of problems.
 */
unsigned int cm_conf_scan(const char *text, size_t len, const char *name,
			  struct cm_buf *out, struct cm_buf *errs);

/*
 * Appends to files every file and directory that loading cfg reads (the
 * configuration itself, verify.ca_file, verify.ca_dir, verify.crl_file and
 * the map files), each once: what a service must still be able to read
 * to reload. Returns 0 or CERTMAP_ERR_NOMEM.
 */
int cm_config_files(const struct cm_config *cfg, struct cm_strv *files);

const struct cm_domain *cm_config_domain(const struct cm_config *cfg,
					 const char *name);

#endif
