/*
 * Reading the files certmap trusts: the configuration, map files, CA
 * files and CRLs. Each is read whole into memory by one function that
 * refuses what could hang, exhaust memory or be changed by another user:
 * anything but a regular file, a file larger than its cap, and a file (or
 * the directory holding it) that someone other than root or the reader
 * could write. Parsers (libconfig, OpenSSL) then read from memory and never
 * open a path themselves.
 */
#ifndef CERTMAP_FILE_H
#define CERTMAP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Reads path into *data (malloc'd, with a NUL after the *len bytes).
 * The file is opened with O_NONBLOCK (a FIFO or device never blocks) and
 * O_NOFOLLOW (a symbolic link as the last component is refused; links in
 * the directories above are followed), then checked with fstat: a regular
 * file of at most max bytes. The file and the directory holding it must be
 * owned by root or by the effective uid and not writable by group or others
 * (a directory with the sticky bit, such as /tmp, may be). Returns 0, or
 * CERTMAP_ERR_IO (cannot open or read), CERTMAP_ERR_TOO_LARGE,
 * CERTMAP_ERR_CONFIG (wrong file type, unsafe ownership or mode),
 * CERTMAP_ERR_NOMEM, with a malloc'd "path: what is wrong" in *errmsg.
 * what names the file's role in messages ("map file", "CA file").
 */
int cm_file_read(const char *path, const char *what, size_t max, char **data,
		 size_t *len, char **errmsg);

/*
 * Checks that a directory certmap reads from (verify.ca_dir) is a directory
 * that only root or the effective uid can write. Returns 0 or
 * CERTMAP_ERR_IO / _CONFIG with a malloc'd sentence in *errmsg.
 */
int cm_file_check_dir(const char *path, const char *what, char **errmsg);

/*
 * Whether a process running as uid with primary group gid (and the
 * supplementary groups of uid's account, when it has one) could read path:
 * search permission on every directory above it and read permission on the
 * file (read and search for a directory), judged from the mode bits (ACLs
 * are not consulted). Returns true, or false with a malloc'd reason in
 * *reason ("/etc/certmap is not searchable (mode 0700, owner 0)").
 */
bool cm_file_readable_by(uid_t uid, gid_t gid, const char *path, char **reason);

#endif
