/*
 * Unit tests for service/log.c's batches of standard-error lines, on a
 * clock of the test's own (cmd_now_us): a serving thread's lines wait in
 * its set's buffer until they are due (the buffer's timer fires), the
 * buffer is full, a warning comes, or the thread stops; they are written
 * whole and in order, the lines of two threads of one set too; other
 * threads write at once.
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"

static uint64_t fake_now = 1000000;

uint64_t cmd_now_us(void)
{
	return fake_now;
}

/* Standard error goes to out_fd (a file or a pipe) during a test. */
static int saved_stderr = -1, out_fd = -1;
static char prefix[64];
/* The buffer of the test's "set". */
static struct cmd_log_batch *batch;

static void use_stderr(int fd)
{
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr >= 0);
	assert_true(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
	unsetenv("JOURNAL_STREAM");
	cmd_log_open("t", true);
	snprintf(prefix, sizeof(prefix), "t[%d]: ", (int)getpid());
	batch = cmd_log_batch_new();
	assert_non_null(batch);
}

static int setup_file(void **state)
{
	char path[] = "/tmp/certmap-test-log.XXXXXX";

	(void)state;
	out_fd = mkstemp(path);
	if (out_fd < 0) {
		return -1;
	}
	unlink(path);
	use_stderr(out_fd);
	fake_now = 1000000;
	return 0;
}

static int setup_pipe(void **state)
{
	int p[2];

	(void)state;
	if (pipe2(p, O_CLOEXEC) != 0 || fcntl(p[0], F_SETFL, O_NONBLOCK) != 0) {
		return -1;
	}
	use_stderr(p[1]);
	close(p[1]);
	out_fd = p[0];
	fake_now = 1000000;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cmd_log_batch_stop();
	cmd_log_batch_free(batch);
	batch = NULL;
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	close(out_fd);
	return 0;
}

/* What the file holds now (the caller frees it). */
static char *file_text(void)
{
	off_t len = lseek(out_fd, 0, SEEK_END);
	char *s = calloc(1, (size_t)len + 1);

	assert_non_null(s);
	assert_int_equal(pread(out_fd, s, (size_t)len, 0), len);
	return s;
}

/* The lines of msgs as the file should hold them, each with the prefix. */
static void assert_file_is(const char *const *msgs, size_t n)
{
	char want[65536] = "", *got = file_text();

	for (size_t i = 0; i < n; i++) {
		strcat(want, prefix);
		strcat(want, msgs[i]);
		strcat(want, "\n");
	}
	assert_string_equal(got, want);
	free(got);
}

static void test_held_until_due(void **state)
{
	const char *const msgs[] = {"one", "two"};

	(void)state;
	cmd_log_batch_start(batch);
	cmd_log_line(LOG_NOTICE, "one");
	assert_file_is(NULL, 0);
	fake_now += 1000;
	cmd_log_line(LOG_INFO, "two");
	/* Due when the oldest line is 2 ms old, not the newest. */
	assert_int_equal(cmd_log_flush_due(cmd_now_us()), 1);
	fake_now += 500;
	/* Rounded up: 500 µs to wait is 1 ms. */
	assert_int_equal(cmd_log_flush_due(cmd_now_us()), 1);
	assert_file_is(NULL, 0);
	fake_now += 500;
	assert_int_equal(cmd_log_flush_due(cmd_now_us()), -1);
	assert_file_is(msgs, 2);
	/* Nothing held: no deadline. */
	fake_now += 5000000;
	assert_int_equal(cmd_log_flush_due(cmd_now_us()), -1);
}

static void test_warning_not_held(void **state)
{
	const char *const msgs[] = {"a", "b", "c", "d"};

	(void)state;
	cmd_log_batch_start(batch);
	cmd_log_line(LOG_NOTICE, "a");
	cmd_log_line(LOG_DEBUG, "b");
	cmd_log_line(LOG_WARNING, "c");
	assert_file_is(msgs, 3);
	assert_int_equal(cmd_log_flush_due(cmd_now_us()), -1);
	cmd_log_line(LOG_ERR | LOG_DAEMON, "d");
	assert_file_is(msgs, 4);
}

/* Lines of 1000 bytes: a full batch is written before the line that does
 * not fit, and ends with a whole line. */
static void test_full_batch_whole_lines(void **state)
{
	char line[1000 - 8], *got;
	size_t len = strlen(prefix) + sizeof(line) - 1 + 1, fit = 16384 / len, i;

	(void)state;
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	cmd_log_batch_start(batch);
	for (i = 0; i < fit; i++) {
		cmd_log_line(LOG_NOTICE, line);
	}
	got = file_text();
	assert_int_equal(strlen(got), 0);
	free(got);
	cmd_log_line(LOG_NOTICE, line);
	got = file_text();
	assert_int_equal(strlen(got), fit * len);
	assert_int_equal(got[strlen(got) - 1], '\n');
	free(got);
	cmd_log_batch_stop();
	got = file_text();
	assert_int_equal(strlen(got), (fit + 1) * len);
	free(got);
}

static void test_stop_writes_then_at_once(void **state)
{
	const char *const msgs[] = {"held", "after"};

	(void)state;
	cmd_log_batch_start(batch);
	cmd_log_line(LOG_NOTICE, "held");
	cmd_log_batch_stop();
	assert_file_is(msgs, 1);
	cmd_log_line(LOG_NOTICE, "after");
	assert_file_is(msgs, 2);
	fake_now += 9000000;
	assert_int_equal(cmd_log_flush_due(cmd_now_us()), -1);
}

static void test_flush_now(void **state)
{
	const char *const msgs[] = {"before a reload"};

	(void)state;
	cmd_log_batch_start(batch);
	cmd_log_line(LOG_NOTICE, "before a reload");
	cmd_log_flush();
	assert_file_is(msgs, 1);
}

static void *other_thread(void *arg)
{
	(void)arg;
	cmd_log_line(LOG_NOTICE, "worker");
	return NULL;
}

static void test_other_threads_at_once(void **state)
{
	const char *const msgs[] = {"worker", "loop"};
	pthread_t t;

	(void)state;
	cmd_log_batch_start(batch);
	cmd_log_line(LOG_NOTICE, "loop");
	assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
	pthread_join(t, NULL);
	assert_file_is(msgs, 1);
	cmd_log_flush();
	assert_file_is(msgs, 2);
}

static void *set_thread(void *arg)
{
	cmd_log_batch_start(arg);
	cmd_log_line(LOG_NOTICE, "second thread");
	cmd_log_batch_start(NULL);
	return NULL;
}

/* Two threads of one set share its buffer: their lines keep the order in
 * which they came, and the buffer's timer says when they are due. */
static void test_set_shares_one_buffer(void **state)
{
	const char *const msgs[] = {"first thread", "second thread", "first again"};
	struct pollfd p = {.fd = cmd_log_batch_fd(batch), .events = POLLIN};
	pthread_t t;

	(void)state;
	cmd_log_batch_start(batch);
	cmd_log_line(LOG_NOTICE, "first thread");
	assert_int_equal(pthread_create(&t, NULL, set_thread, batch), 0);
	pthread_join(t, NULL);
	cmd_log_line(LOG_NOTICE, "first again");
	assert_file_is(NULL, 0);
	/* Set for 2 ms of the real clock; on the test's clock, not due yet. */
	assert_int_equal(poll(&p, 1, 1000), 1);
	fake_now += 1000;
	cmd_log_batch_on_timer(batch);
	assert_file_is(NULL, 0);
	assert_int_equal(poll(&p, 1, 1000), 1);
	fake_now += 1000;
	cmd_log_batch_on_timer(batch);
	assert_file_is(msgs, 3);
}

/* Without standard error (certmapd in the background) nothing is held. */
static void test_no_batch_without_stderr(void **state)
{
	(void)state;
	cmd_log_open("t", false);
	assert_null(cmd_log_batch_new());
	cmd_log_batch_start(NULL);
	cmd_log_line(LOG_NOTICE, "syslog only");
	assert_int_equal(cmd_log_flush_due(cmd_now_us()), -1);
	cmd_log_batch_stop();
	assert_file_is(NULL, 0);
}

/* Reads one write's worth from the pipe: what is there now. */
static size_t pipe_read(char *buf, size_t size)
{
	ssize_t n = read(out_fd, buf, size);

	return n > 0 ? (size_t)n : 0;
}

/* A pipe's write is whole only up to PIPE_BUF: no batch is larger, and a
 * longer line goes alone, after what is held. */
static void test_pipe_batches(void **state)
{
	static char buf[65536], big[5000];
	char line[1000];
	size_t len = strlen(prefix) + sizeof(line), n;

	(void)state;
	memset(line, 'y', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	cmd_log_batch_start(batch);
	for (int i = 0; i < 5; i++) {
		cmd_log_line(LOG_NOTICE, line);
	}
	n = pipe_read(buf, sizeof(buf));
	assert_int_equal(n, (PIPE_BUF / len) * len);
	assert_int_equal(buf[n - 1], '\n');
	memset(big, 'z', sizeof(big) - 1);
	cmd_log_line(LOG_NOTICE, big);
	n = pipe_read(buf, sizeof(buf));
	assert_int_equal(n, (5 - PIPE_BUF / len) * len + strlen(prefix) + sizeof(big));
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal(buf[n - 2], 'z');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_held_until_due, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(test_warning_not_held, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(test_full_batch_whole_lines, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_writes_then_at_once, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(test_flush_now, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(test_set_shares_one_buffer, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(test_other_threads_at_once, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(test_no_batch_without_stderr, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(test_pipe_batches, setup_pipe, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
