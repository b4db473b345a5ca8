/*
 * Reading trusted files whole, with every check in one place (file.h).
 *
 * Why each step:
 * - O_NONBLOCK: opening a FIFO for reading blocks until a writer appears,
 *   and a reload that blocks stalls certmapd's event loop for good. With
 *   O_NONBLOCK the open returns at once and fstat then refuses the FIFO.
 * - O_NOFOLLOW: the file itself must not be a symbolic link, so that the
 *   ownership and mode that are checked are those of the file in the
 *   checked directory. It guards only the last component: /etc/certmap may
 *   itself be a symbolic link to a directory, which is legitimate (the
 *   directory check below follows it with realpath).
 * - fstat after open: the checks apply to the file that was opened, not to
 *   a name that may have changed in between.
 * - The size cap is checked on fstat's size and again while reading, so a
 *   file that grows while it is read is refused too.
 * - Ownership and modes, as sshd's StrictModes: anyone who can write the
 *   file, or rename entries of its directory, can add mappings or trust
 *   anchors. Root and the reading process itself are trusted. Only the
 *   file's own directory is checked, not every directory up to /: the
 *   directories above /etc/certmap are the system's, and a test or a user's
 *   trial configuration may sit below directories that other users share.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certmap.h"
#include "file.h"
#include "util.h"

static const char *file_type_name(mode_t mode)
{
	if (S_ISDIR(mode)) {
		return "a directory";
	}
	if (S_ISFIFO(mode)) {
		return "a FIFO (named pipe)";
	}
	if (S_ISCHR(mode)) {
		return "a character device";
	}
	if (S_ISBLK(mode)) {
		return "a block device";
	}
	if (S_ISSOCK(mode)) {
		return "a socket";
	}
	if (S_ISLNK(mode)) {
		return "a symbolic link";
	}
	return "not a regular file";
}

/* Sets *errmsg (when errmsg is not NULL) and returns rc. */
static int file_fail(char **errmsg, int rc, char *msg)
{
	if (errmsg != NULL && *errmsg == NULL) {
		*errmsg = msg;
	} else {
		free(msg);
	}
	return rc;
}

/* The words for a failed open(2) of path. */
static int open_error(const char *path, const char *what, int err, char **errmsg)
{
	struct stat st;

	switch (err) {
	case ENOENT:
		return file_fail(errmsg, CERTMAP_ERR_IO,
				 cm_asprintf("%s: not found (the %s does not exist)", path, what));
	case EACCES:
		return file_fail(errmsg, CERTMAP_ERR_IO,
				 cm_asprintf("%s: permission denied for uid %u (gid %u)", path,
					     (unsigned)geteuid(), (unsigned)getegid()));
	case ELOOP:
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
			return file_fail(errmsg, CERTMAP_ERR_CONFIG,
					 cm_asprintf("%s: the %s is a symbolic link; name the "
						     "file it points to instead", path, what));
		}
		break;
	case ENOTDIR:
		return file_fail(errmsg, CERTMAP_ERR_IO,
				 cm_asprintf("%s: not found (a component of the path is not "
					     "a directory)", path));
	default:
		break;
	}
	return file_fail(errmsg, CERTMAP_ERR_IO, cm_asprintf("%s: cannot open the %s: %s",
							     path, what, strerror(err)));
}

/* Owner root or the reader, and no write permission for group or others. */
static int check_owner_mode(const char *path, const char *what, const struct stat *st,
			    bool is_dir, char **errmsg)
{
	mode_t loose = st->st_mode & (S_IWGRP | S_IWOTH);

	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		return file_fail(errmsg, CERTMAP_ERR_CONFIG,
				 cm_asprintf("%s: the %s is owned by uid %u, who could change it; "
					     "it must belong to root%s (chown root %s)",
					     path, what, (unsigned)st->st_uid,
					     geteuid() != 0 ? " or to the user reading it" : "",
					     path));
	}
	/* In a sticky directory (/tmp) nobody can rename or remove the
	 * entries of another user, so its write bits do not matter. */
	if (loose != 0 && !(is_dir && (st->st_mode & S_ISVTX))) {
		return file_fail(errmsg, CERTMAP_ERR_CONFIG,
				 cm_asprintf("%s: the %s is writable by %s (mode %04o), so other "
					     "users could change it; run chmod go-w %s",
					     path, what,
					     loose == (S_IWGRP | S_IWOTH) ? "group and others"
					     : loose == S_IWGRP ? "its group" : "others",
					     (unsigned)(st->st_mode & 07777), path));
	}
	return CERTMAP_OK;
}

/* Checks the directory that holds path (followed through symbolic links). */
static int check_parent(const char *path, char **errmsg)
{
	const char *slash = strrchr(path, '/');
	char *dir = NULL, *real = NULL, *what = NULL;
	struct stat st;
	int rc;

	if (slash == NULL) {
		dir = strdup(".");
	} else if (slash == path) {
		dir = strdup("/");
	} else {
		dir = cm_asprintf("%.*s", (int)(slash - path), path);
	}
	if (dir == NULL) {
		rc = CERTMAP_ERR_NOMEM;
		goto out;
	}
	if ((real = realpath(dir, NULL)) == NULL || stat(real, &st) != 0) {
		rc = file_fail(errmsg, CERTMAP_ERR_IO,
			       cm_asprintf("%s: cannot check the directory %s: %s", path, dir,
					   strerror(errno)));
		goto out;
	}
	what = cm_asprintf("directory holding %s", path);
	rc = check_owner_mode(real, what != NULL ? what : "directory", &st, true, errmsg);
out:
	free(what);
	free(real);
	free(dir);
	return rc;
}

/* Reads at most max + 1 bytes: one more than allowed tells "too large". */
static int read_bounded(int fd, size_t max, char **data, size_t *len)
{
	size_t alloc = 4096, n = 0;
	char *buf = NULL, *nbuf;
	ssize_t r;

	if ((buf = malloc(alloc)) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	while (n <= max) {
		/* alloc never exceeds max + 2, so a full buffer holds at most
		 * max + 1 bytes and the NUL. */
		if (n + 1 == alloc) {
			alloc = alloc <= (max + 2) / 2 ? alloc * 2 : max + 2;
			if ((nbuf = realloc(buf, alloc)) == NULL) {
				free(buf);
				return CERTMAP_ERR_NOMEM;
			}
			buf = nbuf;
		}
		r = read(fd, buf + n, alloc - 1 - n);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			int saved = errno;

			free(buf);
			errno = saved;
			return CERTMAP_ERR_IO;
		}
		if (r == 0) {
			break;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return CERTMAP_OK;
}

int cm_file_read(const char *path, const char *what, size_t max, char **data,
		 size_t *len, char **errmsg)
{
	char *buf = NULL;
	size_t n = 0;
	struct stat st;
	int fd = -1;
	int rc;

	*data = NULL;
	*len = 0;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		rc = open_error(path, what, errno, errmsg);
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = file_fail(errmsg, CERTMAP_ERR_IO, cm_asprintf("%s: cannot stat the %s: %s",
								   path, what, strerror(errno)));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = file_fail(errmsg, CERTMAP_ERR_CONFIG,
			       cm_asprintf("%s: the %s is %s; it must be a regular file", path,
					   what, file_type_name(st.st_mode)));
		goto out;
	}
	if ((rc = check_owner_mode(path, what, &st, false, errmsg)) != CERTMAP_OK ||
	    (rc = check_parent(path, errmsg)) != CERTMAP_OK) {
		goto out;
	}
	if ((unsigned long long)st.st_size > max) {
		rc = file_fail(errmsg, CERTMAP_ERR_TOO_LARGE,
			       cm_asprintf("%s: the %s is larger than %zu bytes", path, what, max));
		goto out;
	}
	if ((rc = read_bounded(fd, max, &buf, &n)) != CERTMAP_OK) {
		rc = file_fail(errmsg, rc, cm_asprintf("%s: cannot read the %s: %s", path, what,
						       rc == CERTMAP_ERR_IO ? strerror(errno)
									    : certmap_strerror(rc)));
		goto out;
	}
	if (n > max) {
		rc = file_fail(errmsg, CERTMAP_ERR_TOO_LARGE,
			       cm_asprintf("%s: the %s is larger than %zu bytes", path, what, max));
		goto out;
	}
	*data = buf;
	*len = n;
	buf = NULL;
	rc = CERTMAP_OK;
out:
	if (rc == CERTMAP_ERR_NOMEM && errmsg != NULL && *errmsg == NULL) {
		*errmsg = cm_asprintf("%s: out of memory", path);
	}
	if (fd >= 0) {
		close(fd);
	}
	free(buf);
	return rc;
}

int cm_file_check_dir(const char *path, const char *what, char **errmsg)
{
	struct stat st;

	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	if (stat(path, &st) != 0) {
		return open_error(path, what, errno, errmsg);
	}
	if (!S_ISDIR(st.st_mode)) {
		return file_fail(errmsg, CERTMAP_ERR_CONFIG,
				 cm_asprintf("%s: the %s is %s; it must be a directory", path, what,
					     S_ISREG(st.st_mode) ? "a regular file"
								 : file_type_name(st.st_mode)));
	}
	return check_owner_mode(path, what, &st, true, errmsg);
}

/* ---------------------------------------------------------------- access */

/* The groups of uid's account (primary gid included), or just gid. */
static size_t groups_of(uid_t uid, gid_t gid, gid_t *groups, size_t max)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int n = (int)max;

	groups[0] = gid;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		return 1;
	}
	if (getgrouplist(pw.pw_name, gid, groups, &n) < 0) {
		/* More groups than max: the first max are enough to judge. */
		return max;
	}
	return (size_t)n;
}

/* The rwx bits (as 4/2/1) that apply to uid/groups for st. */
static unsigned int perm_bits(const struct stat *st, uid_t uid, const gid_t *groups, size_t n)
{
	if (st->st_uid == uid) {
		return (st->st_mode >> 6) & 7;
	}
	for (size_t i = 0; i < n; i++) {
		if (st->st_gid == groups[i]) {
			return (st->st_mode >> 3) & 7;
		}
	}
	return st->st_mode & 7;
}

/* Whether uid may search (or, for the last component, read) dir. */
static bool component_ok(const char *dir, bool last, uid_t uid, const gid_t *groups,
			 size_t n_groups, char **reason)
{
	struct stat st;
	unsigned int need;

	if (stat(dir, &st) != 0) {
		*reason = cm_asprintf("%s: %s", dir, strerror(errno));
		return false;
	}
	need = last ? (S_ISDIR(st.st_mode) ? 5 : 4) : 1;
	if (uid != 0 && (perm_bits(&st, uid, groups, n_groups) & need) != need) {
		*reason = last ? cm_asprintf("not readable: mode %04o, owner %u, group %u",
					     (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
					     (unsigned)st.st_gid)
			       : cm_asprintf("the directory %s is not searchable: mode %04o, "
					     "owner %u, group %u", dir, (unsigned)(st.st_mode & 07777),
					     (unsigned)st.st_uid, (unsigned)st.st_gid);
		return false;
	}
	return true;
}

bool cm_file_readable_by(uid_t uid, gid_t gid, const char *path, char **reason)
{
	gid_t groups[256];
	size_t n_groups = groups_of(uid, gid, groups, CM_ARRAY_SIZE(groups));
	char *real = NULL;
	bool ok = false;

	*reason = NULL;
	if ((real = realpath(path, NULL)) == NULL) {
		*reason = cm_asprintf("%s: %s", path, errno == ENOENT ? "not found" : strerror(errno));
		goto out;
	}
	if (!component_ok("/", real[1] == '\0', uid, groups, n_groups, reason)) {
		goto out;
	}
	/* Then "/etc", "/etc/certmap" and the file itself. */
	for (char *p = real + 1; real[1] != '\0'; p++) {
		bool last = *p == '\0';
		char saved = *p;

		if (*p != '/' && !last) {
			continue;
		}
		*p = '\0';
		if (!component_ok(real, last, uid, groups, n_groups, reason)) {
			goto out;
		}
		*p = saved;
		if (last) {
			break;
		}
	}
	ok = true;
out:
	free(real);
	return ok;
}
