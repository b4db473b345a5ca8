/* Can another account read a file: see access_check.h. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "access_check.h"
#include "certmap.h"
#include "conf.h"

#define PERM_R 4
#define PERM_X 1
/* getpwnam_r's buffer and getgrouplist's list stop growing here. */
#define PW_BUF_MAX (1024 * 1024)
#define GROUPS_MAX 65536

void cm_ids_clear(struct cm_ids *ids)
{
	if (ids == NULL) {
		return;
	}
	free(ids->groups);
	memset(ids, 0, sizeof(*ids));
}

static int lookup_groups(const char *user, gid_t gid, struct cm_ids *ids)
{
	int n = 32;

	for (;;) {
		gid_t *g = realloc(ids->groups, (size_t)n * sizeof(*g));
		int want = n;

		if (g == NULL) {
			return CERTMAP_ERR_NOMEM;
		}
		ids->groups = g;
		if (getgrouplist(user, gid, g, &want) >= 0) {
			ids->n_groups = (size_t)want;
			return 0;
		}
		if (want <= n || want > GROUPS_MAX) {
			return CERTMAP_ERR_SYSTEM;
		}
		n = want;
	}
}

int cm_ids_lookup(const char *user, struct cm_ids *ids)
{
	struct passwd pw, *res = NULL;
	char *buf = NULL;
	size_t len = 1024;
	int rc, e;

	memset(ids, 0, sizeof(*ids));
	for (;;) {
		char *nb = realloc(buf, len);

		if (nb == NULL) {
			rc = CERTMAP_ERR_NOMEM;
			goto out;
		}
		buf = nb;
		e = getpwnam_r(user, &pw, buf, len, &res);
		if (e != ERANGE || len >= PW_BUF_MAX) {
			break;
		}
		len *= 2;
	}
	if (res == NULL) {
		rc = e == 0 || e == ENOENT ? CERTMAP_ERR_NOT_FOUND : CERTMAP_ERR_SYSTEM;
		errno = e;
		goto out;
	}
	ids->uid = pw.pw_uid;
	ids->gid = pw.pw_gid;
	rc = lookup_groups(user, pw.pw_gid, ids);
out:
	if (rc != 0) {
		cm_ids_clear(ids);
	}
	free(buf);
	return rc;
}

static bool in_groups(const struct cm_ids *ids, gid_t g)
{
	if (g == ids->gid) {
		return true;
	}
	for (size_t i = 0; i < ids->n_groups; i++) {
		if (ids->groups[i] == g) {
			return true;
		}
	}
	return false;
}

/* The kernel's rule: the owner class alone applies to the owner, the group
 * class alone to a member, "other" to everyone else; root reads anything. */
static bool bits_allow(const struct stat *st, const struct cm_ids *ids, unsigned int want)
{
	unsigned int bits;

	if (ids->uid == 0) {
		return true;
	}
	if (st->st_uid == ids->uid) {
		bits = (st->st_mode >> 6) & 7;
	} else if (in_groups(ids, st->st_gid)) {
		bits = (st->st_mode >> 3) & 7;
	} else {
		bits = st->st_mode & 7;
	}
	return (bits & want) == want;
}

static bool has_acl(const char *path)
{
	return getxattr(path, "system.posix_acl_access", NULL, 0) > 0;
}

/* Where a walk stopped: the sentence and, when denied, what to fix. */
struct walk_stop {
	char *why;
	char *blocker;          /* the file or directory that denies */
	bool blocker_is_dir;
	bool dir_step;          /* a directory above the file, which needs x */
};

/* One step of the walk: path must grant want. */
static enum cm_access check_one(const struct cm_ids *ids, const char *path, unsigned int want,
				bool dir_step, struct walk_stop *stop)
{
	struct stat st;
	const char *what;

	if (stat(path, &st) != 0) {
		stop->why = cm_asprintf("%s cannot be examined: %s", path, strerror(errno));
		return CM_ACCESS_UNKNOWN;
	}
	if (S_ISDIR(st.st_mode) && !dir_step) {
		want |= PERM_X;
	}
	if (bits_allow(&st, ids, want)) {
		return CM_ACCESS_OK;
	}
	if (has_acl(path)) {
		stop->why = cm_asprintf("%s has an access control list; check it with getfacl", path);
		return CM_ACCESS_UNKNOWN;
	}
	what = dir_step ? "cannot be entered" : S_ISDIR(st.st_mode) ? "cannot be listed"
								: "cannot be read";
	stop->why = cm_asprintf("%s %s (mode %04o, owner %u, group %u)", path, what,
				(unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
				(unsigned)st.st_gid);
	stop->blocker = strdup(path);
	stop->blocker_is_dir = S_ISDIR(st.st_mode);
	stop->dir_step = dir_step;
	return CM_ACCESS_DENIED;
}

static enum cm_access walk(const struct cm_ids *ids, const char *path, struct walk_stop *stop)
{
	char *real = NULL;
	enum cm_access r = CM_ACCESS_OK;

	memset(stop, 0, sizeof(*stop));
	if ((real = realpath(path, NULL)) == NULL) {
		stop->why = cm_asprintf("%s cannot be resolved: %s", path, strerror(errno));
		return CM_ACCESS_UNKNOWN;
	}
	/* Every directory above the file, from the root down: the path cut at
	 * each '/' in turn. */
	r = check_one(ids, "/", PERM_X, true, stop);
	for (char *p = strchr(real + 1, '/'); p != NULL && r == CM_ACCESS_OK; p = strchr(p + 1, '/')) {
		*p = '\0';
		r = check_one(ids, real, PERM_X, true, stop);
		*p = '/';
	}
	if (r == CM_ACCESS_OK) {
		r = check_one(ids, real, PERM_R, false, stop);
	}
	free(real);
	/* Out of memory for the sentence: better say nothing than half. */
	if (r != CM_ACCESS_OK && stop->why == NULL) {
		r = CM_ACCESS_UNKNOWN;
	}
	return r;
}

static void walk_stop_clear(struct walk_stop *stop)
{
	free(stop->why);
	free(stop->blocker);
	memset(stop, 0, sizeof(*stop));
}

enum cm_access cm_check_readable_by(const struct cm_ids *ids, const char *path, char **why)
{
	struct walk_stop stop;
	enum cm_access r;

	if (why != NULL) {
		*why = NULL;
	}
	r = walk(ids, path, &stop);
	if (why != NULL && r != CM_ACCESS_OK) {
		*why = stop.why;
		stop.why = NULL;
	}
	walk_stop_clear(&stop);
	return r;
}

/* A fix an administrator can paste: the group route keeps other users out. */
static char *fix_for(const struct walk_stop *stop, const struct cm_ids *ids)
{
	const char *perm = stop->dir_step ? "g+x" : stop->blocker_is_dir ? "g+rx" : "g+r";
	struct group gr, *res = NULL;
	char buf[4096];
	char gid[16];
	const char *group = gid;

	snprintf(gid, sizeof(gid), "%u", (unsigned)ids->gid);
	if (getgrgid_r(ids->gid, &gr, buf, sizeof(buf), &res) == 0 && res != NULL) {
		group = res->gr_name;
	}
	return cm_asprintf("chgrp %s %s && chmod %s %s", group, stop->blocker, perm, stop->blocker);
}

static size_t check_file(const char *setting, const char *path, const struct cm_ids *ids,
			 const char *user, struct cm_strv *warnings)
{
	struct walk_stop stop = { 0 };
	char *fix = NULL, *line = NULL;
	size_t denied = 0;

	if (path == NULL || walk(ids, path, &stop) != CM_ACCESS_DENIED) {
		goto out;
	}
	denied = 1;
	fix = fix_for(&stop, ids);
	line = cm_asprintf("%s %s is not readable by service.user %s (uid %u): %s; every "
			   "reload will fail once certmapd runs as %s; to fix it: %s",
			   setting, path, user, (unsigned)ids->uid, stop.why, user,
			   fix != NULL ? fix : "chgrp and chmod");
	if (line != NULL) {
		(void)cm_strv_take(warnings, line);
		line = NULL;
	}
out:
	free(line);
	free(fix);
	walk_stop_clear(&stop);
	return denied;
}

size_t cm_config_check_readable(const struct cm_config *cfg, const char *config_path,
				const struct cm_ids *ids, const char *user,
				struct cm_strv *warnings)
{
	size_t n = 0;

	n += check_file("the configuration", config_path, ids, user, warnings);
	n += check_file("verify.ca_file", cfg->verify.ca_file, ids, user, warnings);
	n += check_file("verify.ca_dir", cfg->verify.ca_dir, ids, user, warnings);
	n += check_file("verify.crl_file", cfg->verify.crl_file, ids, user, warnings);
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const char *mf = cm_map_file(cfg->rules[i].map);
		bool seen = false;

		/* Several rules may share a map file: one warning is enough. */
		for (size_t j = 0; j < i && mf != NULL && !seen; j++) {
			const char *other = cm_map_file(cfg->rules[j].map);

			seen = other != NULL && strcmp(other, mf) == 0;
		}
		if (!seen) {
			n += check_file("the map file", mf, ids, user, warnings);
		}
	}
	return n;
}
