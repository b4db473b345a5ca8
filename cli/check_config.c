/* certmapctl check-config: load and validate a configuration file. */
#include "config.h"

#include <getopt.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_ldap.h"
#include "certmap.h"
#include "cli.h"
#include "conf.h"
#include "conf_ldap.h"
#include "context.h"
#include "file.h"

static json_object *errors_json(const char *errs)
{
	json_object *list = json_object_new_array();
	const char *p = errs;

	while (list != NULL && p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		json_object_array_add(list, json_object_new_string_len(p, (int)len));
		p = nl != NULL ? nl + 1 : NULL;
	}
	return list;
}

/*
 * certmapd reads the configuration as root but reloads it (SIGHUP) after
 * switching to service.user: a file only root can read passes check-config
 * and then makes every reload fail. Warn about each such file.
 */
static int service_access_warnings(const struct cm_config *cfg, struct cm_strv *warnings)
{
	const char *user = cfg->service.user;
	struct cm_strv files = { 0 };
	struct passwd pw, *res = NULL;
	char buf[4096];
	char *reason = NULL;
	int rc = CERTMAP_OK;

	if (user == NULL || strcmp(user, "root") == 0) {
		goto out;
	}
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		if (cm_strv_take(warnings, cm_asprintf("service.user %s does not exist: certmapd "
						       "will not start until the account is created "
						       "(or service.user names another)", user)) != 0) {
			rc = CERTMAP_ERR_NOMEM;
		}
		goto out;
	}
	if ((rc = cm_config_files(cfg, &files)) != CERTMAP_OK) {
		goto out;
	}
	for (size_t i = 0; i < files.n; i++) {
		if (cm_file_readable_by(pw.pw_uid, pw.pw_gid, files.v[i], &reason)) {
			continue;
		}
		if (cm_strv_take(warnings, cm_asprintf("service.user %s (uid %u) cannot read %s (%s): "
						       "certmapd re-reads it on reload after dropping "
						       "privileges, so reloads would fail",
						       user, (unsigned)pw.pw_uid, files.v[i],
						       reason != NULL ? reason : "?")) != 0) {
			rc = CERTMAP_ERR_NOMEM;
		}
		free(reason);
		reason = NULL;
	}
out:
	free(reason);
	cm_strv_clear(&files);
	return rc;
}

static json_object *strv_json(const struct cm_strv *sv)
{
	json_object *list = json_object_new_array();

	for (size_t i = 0; list != NULL && i < sv->n; i++) {
		json_object_array_add(list, json_object_new_string(sv->v[i]));
	}
	return list;
}

/*
 * --online: binds to each URI of every ldap domain and reads its base.
 * Adds one line (text) or object (JSON) per URI; returns whether all passed.
 */
static bool online_check(const struct cm_config *cfg, json_object *list)
{
	struct cm_ldap_check_result r[CM_LDAP_MAX_URIS];
	bool all_ok = true;

	for (size_t i = 0; i < cfg->n_domains; i++) {
		const struct cm_domain *d = &cfg->domains[i];
		size_t n = 0;

		if (d->type != CM_DOMAIN_LDAP || d->ldap == NULL) {
			continue;
		}
		all_ok = cm_ldap_check(d, r, CM_ARRAY_SIZE(r), &n) == CERTMAP_OK && all_ok;
		for (size_t k = 0; k < n; k++) {
			if (list != NULL) {
				json_object *o = json_object_new_object();

				json_object_object_add(o, "domain", json_object_new_string(d->name));
				json_object_object_add(o, "uri", json_object_new_string(r[k].uri));
				json_object_object_add(o, "ok", json_object_new_boolean(r[k].stage == NULL));
				json_object_object_add(o, "failed", r[k].stage != NULL
						       ? json_object_new_string(r[k].stage) : NULL);
				json_object_object_add(o, "error", r[k].msg != NULL
						       ? json_object_new_string(r[k].msg) : NULL);
				json_object_object_add(o, "ms", json_object_new_int64(r[k].ms));
				json_object_array_add(list, o);
			} else if (r[k].stage == NULL) {
				printf("domain %s: %s: bound, base read (%ld ms)\n", d->name, r[k].uri,
				       r[k].ms);
			} else {
				printf("domain %s: %s: %s failed: %s\n", d->name, r[k].uri, r[k].stage,
				       r[k].msg != NULL ? r[k].msg : "");
			}
			free(r[k].msg);
		}
	}
	return all_ok;
}

int cmd_check_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "online", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct certmap_ctx *ctx = NULL;
	struct cm_strv warnings = { 0 };
	char *err = NULL;
	json_object *online = NULL;
	bool json = false, want_online = false, online_ok = true;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:j", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'j': json = true; break;
		case 'o': want_online = true; break;
		case 'h':
			return cli_usage(true);
		default:
			return cli_usage(false);
		}
	}
	cli_json = json;
	if (optind != argc) {
		return cli_usage(false);
	}
	if (path == NULL) {
		path = certmap_default_config();
	}
	rc = certmap_ctx_new(path, &ctx, &err);
	if (rc == CERTMAP_OK) {
		rc = service_access_warnings(cm_ctx_config(ctx), &warnings);
	}
	if (rc == CERTMAP_OK && want_online) {
		if (json) {
			online = json_object_new_array();
		} else {
			printf("%s: valid\n", path);
		}
		online_ok = online_check(cm_ctx_config(ctx), online);
	}
	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "config", json_object_new_string(path));
		json_object_object_add(o, "valid", json_object_new_boolean(rc == CERTMAP_OK));
		json_object_object_add(o, "errors", errors_json(rc == CERTMAP_OK ? NULL
						: (err != NULL ? err : certmap_strerror(rc))));
		json_object_object_add(o, "warnings", strv_json(&warnings));
		if (online != NULL) {
			json_object_object_add(o, "online", online);
		}
		cli_print_json(o);
	} else if (rc == CERTMAP_OK) {
		if (!want_online) {
			printf("%s: valid\n", path);
		}
		for (size_t i = 0; i < warnings.n; i++) {
			fprintf(stderr, "warning: %s\n", warnings.v[i]);
		}
	} else {
		fprintf(stderr, "%s\n", err != NULL ? err : certmap_strerror(rc));
	}
	certmap_ctx_free(ctx);
	cm_strv_clear(&warnings);
	free(err);
	return rc == CERTMAP_OK && online_ok ? CLI_OK : CLI_USAGE;
}
