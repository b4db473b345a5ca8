/* certmapctl check-config: load and validate a configuration file. */
#include "config.h"

#include <getopt.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certmap.h"
#include "cli.h"
#include "conf.h"
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

int cmd_check_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct certmap_ctx *ctx = NULL;
	struct cm_strv warnings = { 0 };
	char *err = NULL;
	bool json = false;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:j", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'j': json = true; break;
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
	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "config", json_object_new_string(path));
		json_object_object_add(o, "valid", json_object_new_boolean(rc == CERTMAP_OK));
		json_object_object_add(o, "errors", errors_json(rc == CERTMAP_OK ? NULL
						: (err != NULL ? err : certmap_strerror(rc))));
		json_object_object_add(o, "warnings", strv_json(&warnings));
		cli_print_json(o);
	} else if (rc == CERTMAP_OK) {
		printf("%s: valid\n", path);
		for (size_t i = 0; i < warnings.n; i++) {
			fprintf(stderr, "warning: %s\n", warnings.v[i]);
		}
	} else {
		fprintf(stderr, "%s\n", err != NULL ? err : certmap_strerror(rc));
	}
	certmap_ctx_free(ctx);
	cm_strv_clear(&warnings);
	free(err);
	return rc == CERTMAP_OK ? CLI_OK : CLI_USAGE;
}
