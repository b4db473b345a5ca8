/*
 * Can another account read a file? certmapd reads its configuration as
 * root at start, but every reload (SIGHUP, Reload) runs after it has
 * switched to service.user; a file only root can read passes the first and
 * fails every later one. certmapd (at start) and certmapctl check-config
 * ask these functions, so the problem shows before the first reload.
 *
 * The answer comes from the permission bits of the file and of every
 * directory above it, for the account's uid, primary gid and
 * supplementary groups, as the kernel would apply them; no process
 * changes identity, so a non-root administrator can ask too. Where a POSIX
 * ACL could grant what the bits deny, the answer is "unknown", never a
 * false warning.
 */
#ifndef CERTMAP_ACCESS_CHECK_H
#define CERTMAP_ACCESS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"

struct cm_config;

/* Who is asking: an account's uid, primary gid and supplementary groups
 * (the list initgroups() would set; it may include gid). */
struct cm_ids {
	uid_t uid;
	gid_t gid;
	gid_t *groups;          /* owned; free with cm_ids_clear() */
	size_t n_groups;
};

enum cm_access {
	CM_ACCESS_OK = 0,       /* the account can read it */
	CM_ACCESS_DENIED,       /* it cannot: *why names the file or directory in the way */
	CM_ACCESS_UNKNOWN,      /* cannot tell (missing file, ACL, stat error): *why says why */
};

/*
 * Fills *ids for the account named user through NSS (getpwnam_r,
 * getgrouplist). Returns 0, CERTMAP_ERR_NOT_FOUND for an unknown user, or
 * CERTMAP_ERR_NOMEM / CERTMAP_ERR_SYSTEM. *ids is cleared on entry.
 */
int cm_ids_lookup(const char *user, struct cm_ids *ids);
void cm_ids_clear(struct cm_ids *ids);

/*
 * Whether ids can open path for reading (a directory: list and enter it).
 * Symbolic links are resolved first; every directory on the resolved path
 * needs search permission. On DENIED and UNKNOWN, *why (if not NULL) gets a
 * malloc'd sentence without the account's name, such as "the directory
 * /etc/certmap (mode 0700, owner 0, group 0) cannot be entered"; the
 * caller frees it. *why is cleared on entry.
 */
enum cm_access cm_check_readable_by(const struct cm_ids *ids, const char *path, char **why);

/*
 * Checks every file a reload of cfg reads: config_path itself,
 * verify.ca_file, verify.ca_dir, verify.crl_file and each MAPFILE: map
 * file. Appends one warning line per file the account cannot read to
 * warnings (each "FILE: WHY; reloads as USER will fail: FIX"), where user
 * is the account's name for the messages. Returns the number of files
 * that cannot be read; files whose answer is UNKNOWN are not counted.
 */
size_t cm_config_check_readable(const struct cm_config *cfg, const char *config_path,
				const struct cm_ids *ids, const char *user,
				struct cm_strv *warnings);

#endif
