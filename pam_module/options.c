/*
 * Module options, in layers: zero, the defaults, then the arguments of the
 * PAM configuration line. A known option with a bad value and an unknown
 * option are both service errors that the administrator must see. Linux-PAM's
 * own modules ignore unknown options, but here a typo such as "sokcet=" for
 * "socket=" would silently change the mode (map in-process with the default
 * configuration instead of asking certmapd): fail closed instead.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "pam_certmap.h"

enum opt_kind {
	OPT_FLAG,    /* no value */
	OPT_PATH,    /* an absolute path */
	OPT_ENV,     /* a PAM environment variable name */
	OPT_SECONDS, /* 1..CM_PAM_MAX_TIMEOUT */
	OPT_USER,    /* an account name or uid: [A-Za-z0-9._-], 1..32, no leading '-' */
};

struct opt_def {
	const char *name;
	enum opt_kind kind;
	size_t offset; /* of the field in struct cm_pam_opts */
};

static const struct opt_def opt_defs[] = {
    {"debug", OPT_FLAG, offsetof(struct cm_pam_opts, debug)},
    {"ignore_no_cert", OPT_FLAG, offsetof(struct cm_pam_opts, ignore_no_cert)},
    {"config", OPT_PATH, offsetof(struct cm_pam_opts, config)},
    {"socket", OPT_PATH, offsetof(struct cm_pam_opts, socket)},
    {"timeout", OPT_SECONDS, offsetof(struct cm_pam_opts, timeout)},
    {"server_user", OPT_USER, offsetof(struct cm_pam_opts, server_user)},
    {"cert_env", OPT_ENV, offsetof(struct cm_pam_opts, cert_env)},
    {"upn_hint_env", OPT_ENV, offsetof(struct cm_pam_opts, upn_hint_env)},
    {"domain_hint_env", OPT_ENV, offsetof(struct cm_pam_opts, domain_hint_env)},
    {"user_mapping_data_env", OPT_ENV, offsetof(struct cm_pam_opts, user_mapping_data_env)},
};

static void opts_defaults(struct cm_pam_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout = CM_PAM_DEFAULT_TIMEOUT;
	o->cert_env = CM_PAM_DEFAULT_CERT_ENV;
	o->upn_hint_env = CM_PAM_DEFAULT_UPN_HINT_ENV;
	o->domain_hint_env = CM_PAM_DEFAULT_DOMAIN_HINT_ENV;
}

static bool path_ok(const char *v)
{
	size_t n = strnlen(v, CM_PAM_MAX_PATH + 1);

	if (v[0] != '/' || n > CM_PAM_MAX_PATH) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (iscntrl((unsigned char)v[i])) {
			return false;
		}
	}
	return true;
}

static bool env_name_ok(const char *v)
{
	size_t n = strnlen(v, CM_PAM_MAX_ENV_NAME + 1);

	if (n == 0 || n > CM_PAM_MAX_ENV_NAME || isdigit((unsigned char)v[0])) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)v[i]) && v[i] != '_') {
			return false;
		}
	}
	return true;
}

static bool user_ok(const char *v)
{
	size_t n = strnlen(v, 33);

	if (n == 0 || n > 32 || v[0] == '-') {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)v[i]) && strchr("._-", v[i]) == NULL) {
			return false;
		}
	}
	return true;
}

/* strtoul accepts signs and leading space; a number here is digits only. */
static bool seconds_parse(const char *v, unsigned long *out)
{
	char *end = NULL;
	unsigned long n;

	if (!isdigit((unsigned char)v[0])) {
		return false;
	}
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 1 || n > CM_PAM_MAX_TIMEOUT) {
		return false;
	}
	*out = n;
	return true;
}

/* Applies one known option; returns false when its value is bad. */
static bool opt_apply(const struct opt_def *d, const char *value, struct cm_pam_opts *o)
{
	char *field = (char *)o + d->offset;

	switch (d->kind) {
	case OPT_FLAG:
		if (value != NULL) {
			return false;
		}
		*(bool *)(void *)field = true;
		return true;
	case OPT_PATH:
		if (value == NULL || !path_ok(value)) {
			return false;
		}
		*(const char **)(void *)field = value;
		return true;
	case OPT_ENV:
		if (value == NULL || !env_name_ok(value)) {
			return false;
		}
		*(const char **)(void *)field = value;
		return true;
	case OPT_SECONDS:
		return value != NULL && seconds_parse(value, (unsigned long *)(void *)field);
	case OPT_USER:
		if (value == NULL || !user_ok(value)) {
			return false;
		}
		*(const char **)(void *)field = value;
		return true;
	default: return false;
	}
}

/* The definition whose name arg starts with (alone or before '='). */
static const struct opt_def *opt_find(const char *arg, const char **value)
{
	for (size_t i = 0; i < sizeof(opt_defs) / sizeof(opt_defs[0]); i++) {
		size_t n = strlen(opt_defs[i].name);

		if (strncmp(arg, opt_defs[i].name, n) != 0) {
			continue;
		}
		if (arg[n] == '\0') {
			*value = NULL;
			return &opt_defs[i];
		}
		if (arg[n] == '=') {
			*value = arg + n + 1;
			return &opt_defs[i];
		}
	}
	return NULL;
}

int cm_pam_opts_parse(pam_handle_t *pamh, int argc, const char **argv, struct cm_pam_opts *o)
{
	int rv = PAM_SERVICE_ERR;

	opts_defaults(o);
	for (int i = 0; i < argc; i++) {
		const char *value = NULL;
		const struct opt_def *d = opt_find(argv[i], &value);

		if (d == NULL) {
			pam_syslog(pamh, LOG_ERR,
				   "unknown option %.64s: every call fails until the PAM "
				   "configuration is fixed (see pam_certmap(8))",
				   argv[i]);
			goto out;
		}
		if (!opt_apply(d, value, o)) {
			pam_syslog(pamh, LOG_ERR, "bad value for option %s: %.64s", d->name,
				   value != NULL ? value : "(none)");
			goto out;
		}
	}
	if (o->config != NULL && o->socket != NULL) {
		pam_syslog(pamh, LOG_ERR, "config= and socket= exclude each other");
		goto out;
	}
	rv = PAM_SUCCESS;
out:
	return rv;
}
