/*
 * Unit tests for mapper/file.c: only regular files, never a hang, size
 * caps, ownership and modes, and the readability check of check-config.
 * Every file lives in a fresh directory made by the test (mode 0700 or
 * set explicitly below).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "certmap.h"
#include "file.h"
#include "testlib.h"
#include "util.h"

/* Reads path; returns the code and leaves the message in *err. */
static int read_one(const char *path, size_t max, char **err)
{
	char *data = (char *)&data;
	size_t len = 1;
	int rc;

	rc = cm_file_read(path, "test file", max, &data, &len, err);
	if (rc == CERTMAP_OK) {
		assert_null(*err);
		free(data);
	} else {
		assert_null(data);
		assert_int_equal(len, 0);
		assert_non_null(*err);
	}
	return rc;
}

static void expect_refused(const char *path, int want_rc, const char *want_part)
{
	char *err = NULL;
	int rc = read_one(path, 1024, &err);

	if (rc != want_rc || strstr(err, want_part) == NULL) {
		fail_msg("%s: rc %d (want %d), message \"%s\" (want \"%s\")", path, rc, want_rc,
			 err != NULL ? err : "", want_part);
	}
	free(err);
}

static void test_regular_file(void **state)
{
	char *dir = cmt_tmpdir("file-ok");
	char *path = cmt_write_file(dir, "ok", "hello\n");
	char *data = NULL, *err = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(cm_file_read(path, "test file", 6, &data, &len, &err), CERTMAP_OK);
	assert_int_equal(len, 6);
	assert_string_equal(data, "hello\n");
	free(data);
	/* One byte over the cap is refused. */
	assert_int_equal(cm_file_read(path, "test file", 5, &data, &len, &err),
			 CERTMAP_ERR_TOO_LARGE);
	assert_non_null(strstr(err, "the test file is larger than 5 bytes"));
	free(err);
	free(path);
	free(dir);
}

static void test_not_found(void **state)
{
	(void)state;
	expect_refused("/nonexistent/certmap/x", CERTMAP_ERR_IO,
		       "/nonexistent/certmap/x: not found (the test file does not exist)");
}

static void on_alarm(int sig)
{
	(void)sig;
	fprintf(stderr, "cm_file_read blocked on a FIFO\n");
	_exit(1);
}

/* A FIFO without a writer would block open(2) forever; certmapd's reload
 * runs on its event loop, so that must never happen. */
static void test_fifo_never_blocks(void **state)
{
	char *dir = cmt_tmpdir("file-fifo");
	char *path = cm_asprintf("%s/fifo", dir);

	(void)state;
	assert_int_equal(mkfifo(path, 0600), 0);
	signal(SIGALRM, on_alarm);
	alarm(10);
	expect_refused(path, CERTMAP_ERR_CONFIG, "is a FIFO (named pipe); it must be a regular file");
	alarm(0);
	free(path);
	free(dir);
}

static void test_device_and_directory(void **state)
{
	char *dir = cmt_tmpdir("file-dir");

	(void)state;
	expect_refused("/dev/zero", CERTMAP_ERR_CONFIG, "is a character device");
	expect_refused(dir, CERTMAP_ERR_CONFIG, "is a directory; it must be a regular file");
	free(dir);
}

static void test_symlink_refused(void **state)
{
	char *dir = cmt_tmpdir("file-link");
	char *target = cmt_write_file(dir, "target", "x\n");
	char *link = cm_asprintf("%s/link", dir);

	(void)state;
	assert_int_equal(symlink(target, link), 0);
	expect_refused(link, CERTMAP_ERR_CONFIG, "is a symbolic link; name the file it points to");
	free(link);
	free(target);
	free(dir);
}

static void test_writable_file_refused(void **state)
{
	char *dir = cmt_tmpdir("file-mode");
	char *path = cmt_write_file(dir, "conf", "x\n");
	char *want = NULL;

	(void)state;
	assert_int_equal(chmod(path, 0646), 0);
	want = cm_asprintf("writable by others (mode 0646), so other users could change it; "
			   "run chmod go-w %s", path);
	expect_refused(path, CERTMAP_ERR_CONFIG, want);
	free(want);
	want = NULL;
	assert_int_equal(chmod(path, 0664), 0);
	expect_refused(path, CERTMAP_ERR_CONFIG, "writable by its group (mode 0664)");
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(read_one(path, 100, &want), CERTMAP_OK);
	free(path);
	free(dir);
}

static void test_writable_directory_refused(void **state)
{
	char *dir = cmt_tmpdir("file-dirmode");
	char *path = cmt_write_file(dir, "conf", "x\n");
	char *data = NULL, *err = NULL, *want;
	size_t len;

	(void)state;
	assert_int_equal(chmod(dir, 0777), 0);
	want = cm_asprintf("%s: the directory holding %s is writable by group and others "
			   "(mode 0777), so other users could change it; run chmod go-w %s",
			   dir, path, dir);
	expect_refused(path, CERTMAP_ERR_CONFIG, want);
	free(want);
	/* A sticky directory (like /tmp): others cannot rename or remove the
	 * entries they do not own. */
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(cm_file_read(path, "test file", 100, &data, &len, &err), CERTMAP_OK);
	free(data);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(cm_file_read(path, "test file", 100, &data, &len, &err), CERTMAP_OK);
	free(data);
	free(path);
	free(dir);
}

/* As root: a file or directory owned by another user is refused. */
static void test_foreign_owner_refused(void **state)
{
	char *dir = cmt_tmpdir("file-owner");
	char *path = cmt_write_file(dir, "conf", "x\n");
	char *want;

	(void)state;
	if (geteuid() != 0) {
		free(path);
		free(dir);
		skip();
	}
	assert_int_equal(chown(path, 12345, 0), 0);
	want = cm_asprintf("%s: the test file is owned by uid 12345, who could change it; it "
			   "must belong to root (chown root %s)", path, path);
	expect_refused(path, CERTMAP_ERR_CONFIG, want);
	free(want);
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(chown(dir, 12345, 0), 0);
	expect_refused(path, CERTMAP_ERR_CONFIG, "is owned by uid 12345");
	assert_int_equal(chown(dir, 0, 0), 0);
	free(path);
	free(dir);
}

/* A file the reader may not open: the message names the uid that tried. */
static void test_permission_denied_names_uid(void **state)
{
	char *dir = cmt_tmpdir("file-perm");
	char *path = cmt_write_file(dir, "conf", "x\n");
	char *err = NULL;
	int status = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chmod(path, 0600), 0);
	if (geteuid() != 0) {
		assert_int_equal(chmod(path, 0), 0);
		expect_refused(path, CERTMAP_ERR_IO, "permission denied for uid");
		goto out;
	}
	/* Root reads everything: try as uid 65534 in a child. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0) {
			_exit(2);
		}
		if (read_one(path, 100, &err) != CERTMAP_ERR_IO ||
		    strstr(err, ": permission denied for uid 65534 (gid 65534)") == NULL) {
			fprintf(stderr, "got: %s\n", err != NULL ? err : "(none)");
			_exit(1);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
out:
	free(path);
	free(dir);
}

static void test_check_dir(void **state)
{
	char *dir = cmt_tmpdir("file-cadir");
	char *file = cmt_write_file(dir, "f", "x\n");
	char *err = NULL;

	(void)state;
	assert_int_equal(cm_file_check_dir(dir, "CA directory", &err), CERTMAP_OK);
	assert_null(err);
	assert_int_equal(cm_file_check_dir(file, "CA directory", &err), CERTMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "is a regular file; it must be a directory"));
	free(err);
	assert_int_equal(chmod(dir, 0775), 0);
	assert_int_equal(cm_file_check_dir(dir, "CA directory", &err), CERTMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "chmod go-w"));
	free(err);
	free(file);
	free(dir);
}

/* cm_file_readable_by judges from the mode bits, so it needs no second
 * user. Every directory above the file must be searchable by others, which
 * the build tree need not be: the file goes under /tmp. */
static void test_readable_by(void **state)
{
	char tmpl[] = "/tmp/certmap-test-access.XXXXXX";
	char *dir = mkdtemp(tmpl);
	char *path, *reason = NULL, *want;

	(void)state;
	assert_non_null(dir);
	path = cmt_write_file(dir, "conf", "x\n");
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chmod(path, 0644), 0);
	assert_true(cm_file_readable_by(54321, 54321, path, &reason));
	assert_null(reason);
	assert_int_equal(chmod(path, 0600), 0);
	assert_false(cm_file_readable_by(54321, 54321, path, &reason));
	want = cm_asprintf("not readable: mode 0600, owner %u, group %u", (unsigned)geteuid(),
			   (unsigned)getegid());
	assert_string_equal(reason, want);
	free(want);
	free(reason);
	/* Root and the owner can read it. */
	assert_true(cm_file_readable_by(0, 0, path, &reason));
	assert_true(cm_file_readable_by(geteuid(), 54321, path, &reason));
	/* The group bits count for the primary group. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_true(cm_file_readable_by(54321, getegid(), path, &reason));
	assert_false(cm_file_readable_by(54321, 54321, path, &reason));
	free(reason);
	/* A directory on the way that the user cannot search. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_false(cm_file_readable_by(54321, 54321, path, &reason));
	assert_non_null(strstr(reason, "is not searchable: mode 0700"));
	assert_non_null(strstr(reason, dir));
	free(reason);
	assert_false(cm_file_readable_by(54321, 54321, "/nonexistent/x", &reason));
	assert_string_equal(reason, "/nonexistent/x: not found");
	free(reason);
	unlink(path);
	rmdir(dir);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regular_file),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_fifo_never_blocks),
		cmocka_unit_test(test_device_and_directory),
		cmocka_unit_test(test_symlink_refused),
		cmocka_unit_test(test_writable_file_refused),
		cmocka_unit_test(test_writable_directory_refused),
		cmocka_unit_test(test_foreign_owner_refused),
		cmocka_unit_test(test_permission_denied_names_uid),
		cmocka_unit_test(test_check_dir),
		cmocka_unit_test(test_readable_by),
	};

	return cmocka_run_group_tests_name("file", tests, NULL, NULL);
}
