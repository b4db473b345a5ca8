/*
 * Drives the real libpam for the PAM module tests.
 *
 *	pam_driver -d CONFDIR -s SERVICE [-u USER] [-r RHOST] [-e NAME=VALUE] [-f NAME=FILE] HOOK...
 *	pam_driver --dlopen MODULE
 *
 * Starts SERVICE from CONFDIR with pam_start_confdir (USER as PAM_USER, or
 * none), puts the -e/-f variables into the PAM environment (-f: the file's
 * bytes as the value, as a web server would export a PEM), runs each HOOK
 * (auth, setcred, acct) in order on the same handle and prints
 *	auth: PAM_SUCCESS
 * per hook, then PAM_USER, CERTMAP_GROUPS, CERTMAP_RULE ("(unset)" when
 * absent) and how often the module tried to talk to the user. The
 * module's log lines are copied to stderr. Exit 0 when every hook ran, 2 on
 * a usage or setup error.
 *
 * --dlopen loads MODULE with RTLD_NOW, so that an undefined symbol fails
 * here instead of at someone's login, and looks up the hooks.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_appl.h>

#define MAX_ENV_FILE (1024 * 1024)

static int conversations;

static int conv_refuse(int n, const struct pam_message **msg, struct pam_response **resp,
		       void *data)
{
	conversations++;
	*resp = NULL;
	return PAM_CONV_ERR;
}

static const char *code_name(int rv)
{
	static const struct {
		int rv;
		const char *name;
	} names[] = {
	    {PAM_SUCCESS, "PAM_SUCCESS"},
	    {PAM_AUTH_ERR, "PAM_AUTH_ERR"},
	    {PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN"},
	    {PAM_CRED_INSUFFICIENT, "PAM_CRED_INSUFFICIENT"},
	    {PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL"},
	    {PAM_SERVICE_ERR, "PAM_SERVICE_ERR"},
	    {PAM_BUF_ERR, "PAM_BUF_ERR"},
	    {PAM_IGNORE, "PAM_IGNORE"},
	    {PAM_CRED_ERR, "PAM_CRED_ERR"},
	    {PAM_PERM_DENIED, "PAM_PERM_DENIED"},
	    {PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR"},
	    {PAM_ABORT, "PAM_ABORT"},
	    {PAM_CONV_ERR, "PAM_CONV_ERR"},
	    {PAM_ACCT_EXPIRED, "PAM_ACCT_EXPIRED"},
	    {PAM_NEW_AUTHTOK_REQD, "PAM_NEW_AUTHTOK_REQD"},
	    {PAM_MODULE_UNKNOWN, "PAM_MODULE_UNKNOWN"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].rv == rv) {
			return names[i].name;
		}
	}
	return "PAM_other";
}

static int dlopen_check(const char *path)
{
	static const char *const hooks[] = {"pam_sm_authenticate", "pam_sm_setcred",
					    "pam_sm_acct_mgmt"};
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	int rc = 0;

	if (h == NULL) {
		printf("dlopen failed: %s\n", dlerror());
		return 1;
	}
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		if (dlsym(h, hooks[i]) == NULL) {
			printf("missing %s\n", hooks[i]);
			rc = 1;
		}
	}
	dlclose(h);
	if (rc == 0) {
		printf("dlopen ok\n");
	}
	return rc;
}

/* "NAME=FILE" -> "NAME=<contents of FILE>", malloc'd. */
static char *env_from_file(const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *s = NULL;
	size_t nlen, n;
	FILE *f = NULL;

	if (eq == NULL || (f = fopen(eq + 1, "rb")) == NULL) {
		return NULL;
	}
	nlen = (size_t)(eq - arg) + 1;
	if ((s = malloc(nlen + MAX_ENV_FILE + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	memcpy(s, arg, nlen);
	n = fread(s + nlen, 1, MAX_ENV_FILE, f);
	s[nlen + n] = '\0';
	fclose(f);
	return s;
}

static int run_hook(pam_handle_t *pamh, const char *hook, int *last)
{
	int rv;

	if (strcmp(hook, "auth") == 0) {
		rv = pam_authenticate(pamh, 0);
	} else if (strcmp(hook, "setcred") == 0) {
		rv = pam_setcred(pamh, PAM_ESTABLISH_CRED);
	} else if (strcmp(hook, "acct") == 0) {
		rv = pam_acct_mgmt(pamh, 0);
	} else {
		fprintf(stderr, "unknown hook %s\n", hook);
		return 2;
	}
	printf("%s: %s\n", hook, code_name(rv));
	*last = rv;
	return 0;
}

static void print_state(pam_handle_t *pamh)
{
	static const char *const vars[] = {"CERTMAP_GROUPS", "CERTMAP_RULE"};
	const void *user = NULL;

	if (pam_get_item(pamh, PAM_USER, &user) != PAM_SUCCESS || user == NULL) {
		printf("PAM_USER=(unset)\n");
	} else {
		printf("PAM_USER=%s\n", (const char *)user);
	}
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = pam_getenv(pamh, vars[i]);

		printf("%s=%s\n", vars[i], v != NULL ? v : "(unset)");
	}
	printf("conversations=%d\n", conversations);
}

/* Applies the -e/-f options; returns the index of the first hook. */
static int env_apply(pam_handle_t *pamh, int argc, char **argv, int i)
{
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		char *file_env = NULL;
		int r;

		if (strcmp(argv[i], "-e") == 0) {
			r = pam_putenv(pamh, argv[i + 1]);
		} else if (strcmp(argv[i], "-f") == 0) {
			file_env = env_from_file(argv[i + 1]);
			r = file_env != NULL ? pam_putenv(pamh, file_env) : PAM_BUF_ERR;
			free(file_env);
		} else {
			return -1;
		}
		if (r != PAM_SUCCESS) {
			fprintf(stderr, "cannot set %s\n", argv[i + 1]);
			return -1;
		}
	}
	return i;
}

int main(int argc, char **argv)
{
	const char *confdir = NULL, *service = NULL, *user = NULL, *rhost = NULL;
	struct pam_conv conv = {conv_refuse, NULL};
	pam_handle_t *pamh = NULL;
	int i = 1, last = PAM_SUCCESS, rc = 0;

	if (argc == 3 && strcmp(argv[1], "--dlopen") == 0) {
		return dlopen_check(argv[2]);
	}
	for (; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-d") == 0) {
			confdir = argv[i + 1];
		} else if (strcmp(argv[i], "-s") == 0) {
			service = argv[i + 1];
		} else if (strcmp(argv[i], "-u") == 0) {
			user = argv[i + 1];
		} else if (strcmp(argv[i], "-r") == 0) {
			rhost = argv[i + 1];
		} else {
			break;
		}
	}
	/* The module's log lines (pam_syslog) are copied to stderr, where the
	 * tests read them. */
	openlog("pam_driver", LOG_PERROR, LOG_AUTHPRIV);
	if (confdir == NULL || service == NULL) {
		fprintf(stderr, "usage: pam_driver -d CONFDIR -s SERVICE [-u USER] [-r RHOST] "
				"[-e NAME=VALUE] [-f NAME=FILE] HOOK...\n");
		return 2;
	}
	if (pam_start_confdir(service, user, &conv, confdir, &pamh) != PAM_SUCCESS) {
		fprintf(stderr, "pam_start_confdir failed\n");
		return 2;
	}
	if (rhost != NULL && pam_set_item(pamh, PAM_RHOST, rhost) != PAM_SUCCESS) {
		fprintf(stderr, "cannot set PAM_RHOST\n");
		rc = 2;
		goto out;
	}
	if ((i = env_apply(pamh, argc, argv, i)) < 0 || i >= argc) {
		fprintf(stderr, "bad environment option or no hook\n");
		rc = 2;
		goto out;
	}
	for (; i < argc && rc == 0; i++) {
		rc = run_hook(pamh, argv[i], &last);
	}
	print_state(pamh);
out:
	pam_end(pamh, last);
	return rc;
}
