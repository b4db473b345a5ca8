/* Unit tests for mapper/mapfile.c: MAPFILE: map files. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "certmap.h"
#include "mapfile.h"
#include "testlib.h"

/* Parses text (a C string) and fails the test unless it parses. */
static struct cm_mapfile *parse_ok(const char *text)
{
	struct cm_mapfile *mf = NULL;
	char *err = NULL;
	int rc = cm_mapfile_parse(text, strlen(text), "t.map", &mf, &err);

	if (rc != CERTMAP_OK) {
		print_error("unexpected error: %s\n", err != NULL ? err : "(none)");
	}
	assert_int_equal(rc, CERTMAP_OK);
	assert_null(err);
	assert_non_null(mf);
	return mf;
}

/* Looks key (len bytes) up and checks the result is exactly the n names. */
static void check_lookup(const struct cm_mapfile *mf, const char *key, size_t len, size_t n,
			 const char *const *names)
{
	struct cm_strv users = {0};

	assert_int_equal(cm_mapfile_lookup(mf, key, len, &users), CERTMAP_OK);
	assert_int_equal(users.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(users.v[i], names[i]);
	}
	cm_strv_clear(&users);
}

static void check_user(const struct cm_mapfile *mf, const char *key, const char *user)
{
	check_lookup(mf, key, strlen(key), 1, &user);
}

static void check_absent(const struct cm_mapfile *mf, const char *key, size_t len)
{
	check_lookup(mf, key, len, 0, NULL);
}

/* Parses len bytes and checks the exact error code and message. */
static void check_error_n(const char *text, size_t len, int want_rc, const char *want_msg)
{
	struct cm_mapfile *mf = (struct cm_mapfile *)&mf; /* must be cleared */
	char *err = NULL;
	int rc = cm_mapfile_parse(text, len, "t.map", &mf, &err);

	assert_int_equal(rc, want_rc);
	assert_null(mf);
	assert_non_null(err);
	assert_string_equal(err, want_msg);
	free(err);
}

static void check_error(const char *text, const char *want_msg)
{
	check_error_n(text, strlen(text), CERTMAP_ERR_CONFIG, want_msg);
}

static void test_basic(void **state)
{
	struct cm_mapfile *mf;

	(void)state;
	mf = parse_ok("\"/C=US/O=Org/CN=Name\" alice\n"
		      "\"CN=Bob,O=Org\" bob\n");
	check_user(mf, "/C=US/O=Org/CN=Name", "alice");
	check_user(mf, "CN=Bob,O=Org", "bob");
	check_absent(mf, "/C=US/O=Org/CN=Nam", 18);
	check_absent(mf, "/C=US/O=Org/CN=Name ", 20);
	check_absent(mf, "/c=us/o=org/cn=name", 19);
	check_absent(mf, "", 0);
	cm_mapfile_free(mf);
}

static void test_no_final_newline(void **state)
{
	struct cm_mapfile *mf;

	(void)state;
	mf = parse_ok("\"k1\" a\n\"k2\" b");
	check_user(mf, "k1", "a");
	check_user(mf, "k2", "b");
	cm_mapfile_free(mf);
}

static void test_empty_file(void **state)
{
	struct cm_mapfile *mf = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(cm_mapfile_parse("", 0, "t.map", &mf, &err), CERTMAP_OK);
	assert_null(err);
	check_absent(mf, "x", 1);
	cm_mapfile_free(mf);
	cm_mapfile_free(NULL);
}

static void test_multiple_users(void **state)
{
	static const char *const three[] = {"alice", "bob", "carol"};
	static const char *const two[] = {"dave", "erin"};
	struct cm_mapfile *mf;

	(void)state;
	mf = parse_ok("\"k\" alice , bob,carol\n"
		      "\"k2\"\tdave\t,\terin   \n");
	check_lookup(mf, "k", 1, 3, three);
	check_lookup(mf, "k2", 2, 2, two);
	cm_mapfile_free(mf);
}

/* Lookups append to what the vector already holds. */
static void test_lookup_appends(void **state)
{
	struct cm_mapfile *mf;
	struct cm_strv users = {0};

	(void)state;
	mf = parse_ok("\"k\" bob\n");
	assert_int_equal(cm_strv_add(&users, "first"), 0);
	assert_int_equal(cm_mapfile_lookup(mf, "k", 1, &users), CERTMAP_OK);
	assert_int_equal(cm_mapfile_lookup(mf, "nope", 4, &users), CERTMAP_OK);
	assert_int_equal(users.n, 2);
	assert_string_equal(users.v[0], "first");
	assert_string_equal(users.v[1], "bob");
	assert_null(users.v[2]);
	cm_strv_clear(&users);
	cm_mapfile_free(mf);
}

static void test_duplicate_keys_merge(void **state)
{
	static const char *const merged[] = {"b", "a", "c"};
	struct cm_mapfile *mf;

	(void)state;
	mf = parse_ok("\"k\" b,a\n"
		      "\"other\" x\n"
		      "\"k\" a, c\n"
		      "\"k\" b\n");
	check_lookup(mf, "k", 1, 3, merged);
	check_user(mf, "other", "x");
	cm_mapfile_free(mf);
}

static void test_escapes(void **state)
{
	struct cm_mapfile *mf;

	(void)state;
	mf = parse_ok("\"a\\\"b\" quote\n"
		      "\"back\\\\slash\" bs\n"
		      "\"\\\\\" onlybs\n"
		      "\"CN=x\\\\,y\" dnesc\n"
		      "\"#not a comment\" hash\n"
		      "\"a,b c\" spaces\n");
	check_user(mf, "a\"b", "quote");
	check_user(mf, "back\\slash", "bs");
	check_user(mf, "\\", "onlybs");
	check_user(mf, "CN=x\\,y", "dnesc");
	check_user(mf, "#not a comment", "hash");
	check_user(mf, "a,b c", "spaces");
	check_absent(mf, "a\\\"b", 4);
	cm_mapfile_free(mf);
}

static void test_comments_and_blanks(void **state)
{
	static const char *const two[] = {"a", "b"};
	struct cm_mapfile *mf;

	(void)state;
	mf = parse_ok("# a comment\n"
		      "\n"
		      "   \t\n"
		      "   # indented comment \"k\" nobody\n"
		      "  \"k\"  a,b   # trailing comment, with \"quotes\"\n"
		      "\"crlf\" c\r\n"
		      "\"k3\" d#e\n"
		      "\"k4\" f #\n");
	check_lookup(mf, "k", 1, 2, two);
	check_user(mf, "crlf", "c");
	check_user(mf, "k3", "d#e");
	check_user(mf, "k4", "f");
	check_absent(mf, "# a comment", 11);
	cm_mapfile_free(mf);
}

static void test_utf8_and_dn_keys(void **state)
{
	struct cm_mapfile *mf;

	(void)state;
	mf = parse_ok("\"/DC=com/DC=example/CN=J\xc3\xbcrgen M\xc3\xbcller\" jurgen\n"
		      "\"/C=US/O=Org/CN=Name/emailAddress=n@example.com\" name\n"
		      "\"/O=Ex, Inc./CN=x=\\\"y\\\";<z>#\" special\n"
		      "\"CN=Alice Example,OU=Users,O=Example,DC=example,DC=com\" alice\n"
		      "\"\xe2\x82\xac/CN=\xf0\x9f\x94\x91\" euro\n");
	check_user(mf, "/DC=com/DC=example/CN=J\xc3\xbcrgen M\xc3\xbcller", "jurgen");
	check_user(mf, "/C=US/O=Org/CN=Name/emailAddress=n@example.com", "name");
	check_user(mf, "/O=Ex, Inc./CN=x=\"y\";<z>#", "special");
	check_user(mf, "CN=Alice Example,OU=Users,O=Example,DC=example,DC=com", "alice");
	check_user(mf, "\xe2\x82\xac/CN=\xf0\x9f\x94\x91", "euro");
	/* Latin-1 bytes are not the same key as their UTF-8 form. */
	check_absent(mf, "/DC=com/DC=example/CN=J\xfcrgen M\xfcller", 33);
	cm_mapfile_free(mf);
}

/* Keys are compared on every byte, including after a control byte or NUL. */
static void test_embedded_bytes(void **state)
{
	struct cm_mapfile *mf;

	(void)state;
	mf = parse_ok("\"abc\x01x\" one\n"
		      "\"abc\x01y\" two\n"
		      "\"tab\there\" tab\n"
		      "\"cr\rkey\" cr\n"
		      "\"victim@example.com\" victim\n");
	check_user(mf, "abc\x01x", "one");
	check_user(mf, "abc\x01y", "two");
	check_user(mf, "tab\there", "tab");
	check_user(mf, "cr\rkey", "cr");
	check_absent(mf, "abc\x01", 4);
	check_absent(mf, "abc\x01xy", 6);
	/* A key with a NUL never matches the text before the NUL. */
	check_absent(mf, "victim@example.com\0.evil", 24);
	check_absent(mf, "victim@example.com\0", 19);
	check_user(mf, "victim@example.com", "victim");
	cm_mapfile_free(mf);
}

static void test_bad_lines(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
	    {"\"ok\" a\nnoquote alice\n", "t.map:2: expected a key in double quotes"},
	    {"\"ok\" a\n\n\"open alice\n", "t.map:3: the key has no closing '\"'"},
	    {"\"end\\\" a\n", "t.map:1: the key has no closing '\"'"},
	    {"\"trail\\", "t.map:1: the key has no closing '\"'"},
	    {"#\n#\n#\n\"a\\nb\" x\n",
	     "t.map:4: unknown escape '\\n' in the key (only \\\" and \\\\ are allowed)"},
	    {"\"a\\\x01\" x\n",
	     "t.map:1: unknown escape '\\\\x01' in the key (only \\\" and \\\\ are allowed)"},
	    {"\"\" x\n", "t.map:1: the key is empty"},
	    {"\"k\"alice\n", "t.map:1: expected white space after the key"},
	    {"\"k\"\n", "t.map:1: no user names after the key"},
	    {"\"k\"   \n", "t.map:1: no user names after the key"},
	    {"\"k\" # only a comment\n", "t.map:1: no user names after the key"},
	    {"\"k\" a,\n", "t.map:1: a user name is missing after ','"},
	    {"\"k\" a, # c\n", "t.map:1: a user name is missing after ','"},
	    {"\"k\" ,a\n", "t.map:1: empty user name: \"\""},
	    {"\"k\" a,,b\n", "t.map:1: empty user name: \"\""},
	    {"\"k\" a b\n", "t.map:1: expected ',' between user names"},
	    {"\n\"k\" a/b\n", "t.map:2: user name contains '/', ':' or ',': \"a/b\""},
	    {"\"k\" a:b\n", "t.map:1: user name contains '/', ':' or ',': \"a:b\""},
	    {"\"k\" -rf\n", "t.map:1: user name starts with '-' or '+': \"-rf\""},
	    {"\"k\" ok,+nis\n", "t.map:1: user name starts with '-' or '+': \"+nis\""},
	    {"\"k\" a\x01"
	     "b\n",
	     "t.map:1: user name contains a control byte: \"a\\x01b\""},
	    {"\"k\" a\x7f\n", "t.map:1: user name contains a control byte: \"a\\x7f\""},
	    {"\"k\" a\rb\n", "t.map:1: user name contains a control byte: \"a\\x0db\""},
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		check_error(cases[i].text, cases[i].msg);
	}
}

static void test_quoted_user_is_plain_bytes(void **state)
{
	struct cm_mapfile *mf;

	(void)state;
	/* A quote in a user name is not special: it is checked like any byte. */
	mf = parse_ok("\"k\" o\"brien\n");
	check_user(mf, "k", "o\"brien");
	cm_mapfile_free(mf);
}

static void test_nul_byte(void **state)
{
	static const char text[] = "\"ok\" a\n\"k\0x\" b\n";

	(void)state;
	check_error_n(text, sizeof(text) - 1, CERTMAP_ERR_CONFIG,
		      "t.map:2: the line contains a NUL byte");
}

static void test_user_name_length(void **state)
{
	char line[400];
	char want[400];
	struct cm_mapfile *mf;

	(void)state;
	/* 256 bytes is the longest user name accepted. */
	snprintf(line, sizeof(line), "\"k\" %0256d\n", 0);
	mf = parse_ok(line);
	snprintf(want, sizeof(want), "%0256d", 0);
	check_user(mf, "k", want);
	cm_mapfile_free(mf);

	snprintf(line, sizeof(line), "\"k\" %0257d\n", 0);
	snprintf(want, sizeof(want), "t.map:1: user name longer than 256 bytes: \"%064d...\"", 0);
	check_error(line, want);
}

static void test_oversized_line(void **state)
{
	size_t len = CM_MAPFILE_MAX_LINE;
	char *text = malloc(len + 32);
	struct cm_mapfile *mf = NULL;
	char *err = NULL;
	size_t n;

	(void)state;
	assert_non_null(text);
	/* A line of exactly CM_MAPFILE_MAX_LINE bytes is fine. */
	n = (size_t)sprintf(text, "\"k\" a\n\"");
	memset(text + n, 'x', len - 4);
	n += len - 4;
	n += (size_t)sprintf(text + n, "\" b\n");
	assert_int_equal(cm_mapfile_parse(text, n, "t.map", &mf, &err), CERTMAP_OK);
	assert_null(err);
	check_user(mf, "k", "a");
	cm_mapfile_free(mf);

	/* One byte more is not, even inside a comment. */
	text[n - 1] = ' ';
	text[n] = '\n';
	check_error_n(text, n + 1, CERTMAP_ERR_TOO_LARGE,
		      "t.map:2: the line is longer than 8192 bytes");
	memset(text, '#', n);
	check_error_n(text, n, CERTMAP_ERR_TOO_LARGE,
		      "t.map:1: the line is longer than 8192 bytes");
	free(text);
}

static void test_oversized_file(void **state)
{
	size_t len = (size_t)CM_MAPFILE_MAX_SIZE + 1;
	char *text = malloc(len);

	(void)state;
	assert_non_null(text);
	memset(text, '\n', len);
	check_error_n(text, len, CERTMAP_ERR_TOO_LARGE,
		      "t.map: the file is larger than 16777216 bytes");
	free(text);
}

static void test_load_file(void **state)
{
	static const char *const two[] = {"alice", "admin"};
	char *dir = cmt_tmpdir("mapfile");
	char *path = cmt_write_file(dir, "users.map",
				    "# grid-mapfile style\n"
				    "\"/C=US/O=Org/CN=Alice\" alice,admin\n");
	struct cm_mapfile *mf = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(cm_mapfile_load(path, &mf, &err), CERTMAP_OK);
	assert_null(err);
	check_lookup(mf, "/C=US/O=Org/CN=Alice", 20, 2, two);
	cm_mapfile_free(mf);
	free(path);

	/* Errors from a file name the file's path and the line. */
	path = cmt_write_file(dir, "bad.map", "\"k\" ok\n\"k\" -bad\n");
	mf = (struct cm_mapfile *)&mf;
	assert_int_equal(cm_mapfile_load(path, &mf, &err), CERTMAP_ERR_CONFIG);
	assert_null(mf);
	assert_non_null(err);
	{
		char *want = cm_asprintf("%s:2: user name starts with '-' or '+': \"-bad\"", path);

		assert_string_equal(err, want);
		free(want);
	}
	free(err);
	free(path);
	free(dir);
}

static void test_missing_file(void **state)
{
	struct cm_mapfile *mf = (struct cm_mapfile *)&mf;
	char *err = NULL;

	(void)state;
	assert_int_equal(cm_mapfile_load("/nonexistent/certmap/users.map", &mf, &err),
			 CERTMAP_ERR_IO);
	assert_null(mf);
	assert_non_null(err);
	assert_string_equal(err, "/nonexistent/certmap/users.map: not found "
				 "(the map file does not exist)");
	free(err);

	/* errmsg may be NULL. */
	assert_int_equal(cm_mapfile_load("/nonexistent/certmap/users.map", &mf, NULL),
			 CERTMAP_ERR_IO);
	assert_null(mf);
}

static void test_directory_is_refused(void **state)
{
	struct cm_mapfile *mf = NULL;
	char *dir = cmt_tmpdir("mapfile-dir");
	char *err = NULL;
	char *want = NULL;

	(void)state;
	assert_int_equal(cm_mapfile_load(dir, &mf, &err), CERTMAP_ERR_CONFIG);
	assert_null(mf);
	want = cm_asprintf("%s: the map file is a directory; it must be a regular file", dir);
	assert_string_equal(err, want);
	free(want);
	free(err);
	free(dir);
}

/* Many keys: each one is found (the table is sorted and searched). */
/* A FIFO as a map file hung certmapd's reload and check-config. */
static void test_fifo_and_device_refused(void **state)
{
	struct cm_mapfile *mf = NULL;
	char *dir = cmt_tmpdir("mapfile-fifo");
	char *fifo = cm_asprintf("%s/users.map", dir);
	char *err = NULL;

	(void)state;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10); /* a hang fails the test instead of stalling the suite */
	assert_int_equal(cm_mapfile_load(fifo, &mf, &err), CERTMAP_ERR_CONFIG);
	alarm(0);
	assert_null(mf);
	assert_non_null(strstr(err, "the map file is a FIFO (named pipe); it must be a regular file"));
	free(err);
	assert_int_equal(cm_mapfile_load("/dev/zero", &mf, &err), CERTMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "/dev/zero: the map file is a character device"));
	free(err);
	free(fifo);
	free(dir);
}

/* A map file others can write would let them add mappings. */
static void test_writable_mapfile_refused(void **state)
{
	struct cm_mapfile *mf = NULL;
	char *dir = cmt_tmpdir("mapfile-mode");
	char *path = cmt_write_file(dir, "users.map", "\"k\" alice\n");
	char *err = NULL, *want;

	(void)state;
	assert_int_equal(cm_mapfile_load(path, &mf, &err), CERTMAP_OK);
	cm_mapfile_free(mf);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(cm_mapfile_load(path, &mf, &err), CERTMAP_ERR_CONFIG);
	want = cm_asprintf("%s: the map file is writable by group and others (mode 0666), so "
			   "other users could change it; run chmod go-w %s", path, path);
	assert_string_equal(err, want);
	free(want);
	free(err);
	free(path);
	free(dir);
}

static void test_many_keys(void **state)
{
	const int n = 20000;
	struct cm_buf b;
	struct cm_mapfile *mf = NULL;
	char *err = NULL;
	char *text;
	size_t len;

	(void)state;
	cm_buf_init(&b, CM_MAPFILE_MAX_SIZE);
	for (int i = n - 1; i >= 0; i--) {
		cm_buf_printf(&b, "\"/O=Org/CN=user %d\" u%d\n", i, i);
	}
	text = cm_buf_steal(&b, &len);
	assert_non_null(text);
	assert_int_equal(cm_mapfile_parse(text, len, "t.map", &mf, &err), CERTMAP_OK);
	for (int i = 0; i < n; i++) {
		char key[64], user[32];

		snprintf(key, sizeof(key), "/O=Org/CN=user %d", i);
		snprintf(user, sizeof(user), "u%d", i);
		check_user(mf, key, user);
	}
	check_absent(mf, "/O=Org/CN=user ", 15);
	check_absent(mf, "/O=Org/CN=user 20000", 20);
	cm_mapfile_free(mf);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic),
	    cmocka_unit_test(test_no_final_newline),
	    cmocka_unit_test(test_empty_file),
	    cmocka_unit_test(test_multiple_users),
	    cmocka_unit_test(test_lookup_appends),
	    cmocka_unit_test(test_duplicate_keys_merge),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_comments_and_blanks),
	    cmocka_unit_test(test_utf8_and_dn_keys),
	    cmocka_unit_test(test_embedded_bytes),
	    cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_quoted_user_is_plain_bytes),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_user_name_length),
	    cmocka_unit_test(test_oversized_line),
	    cmocka_unit_test(test_oversized_file),
	    cmocka_unit_test(test_load_file),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_directory_is_refused),
	    cmocka_unit_test(test_many_keys),
	    cmocka_unit_test(test_fifo_and_device_refused),
	    cmocka_unit_test(test_writable_mapfile_refused),
	};

	return cmocka_run_group_tests_name("mapfile", tests, NULL, NULL);
}
