/* Unit tests for service/lookups.c, on its own: it knows only cmd_work. */
#include "config.h"

#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"

void cmd_log(int prio, const char *fmt, ...)
{
	(void)prio, (void)fmt;
}

struct job {
	struct cmd_work work; /* first, so a cmd_work * is a struct job * */
	atomic_int *running, *most; /* at once, and the most seen */
	atomic_bool *gate;	    /* run waits until it is true, if set */
	pthread_t run_thread, done_thread;
	int done_calls;
	bool ran;
};

static void job_run(struct cmd_work *w)
{
	struct job *j = (struct job *)w;
	int now = atomic_fetch_add(j->running, 1) + 1, most = atomic_load(j->most);

	while (now > most && !atomic_compare_exchange_weak(j->most, &most, now)) {
	}
	while (j->gate != NULL && !atomic_load(j->gate)) {
		usleep(1000);
	}
	j->run_thread = pthread_self();
	atomic_fetch_sub(j->running, 1);
}

static void job_done(struct cmd_work *w, bool ran)
{
	struct job *j = (struct job *)w;

	j->ran = ran;
	j->done_thread = pthread_self();
	j->done_calls++;
}

static struct job make_job(atomic_int *running, atomic_int *most, atomic_bool *gate)
{
	return (struct job){{NULL, job_run, job_done}, running, most, gate, 0, 0, 0, false};
}

static bool fd_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

/* A serving thread's caller runs its lookup itself. */
static void test_here_runs_in_this_thread(void **state)
{
	atomic_int running = 0, most = 0;
	struct cmd_lookups *l = cmd_lookups_new(2, NULL, NULL);
	struct job j = make_job(&running, &most, NULL);

	(void)state;
	assert_non_null(l);
	cmd_lookups_submit(l, &j.work, true);
	assert_int_equal(j.done_calls, 1);
	assert_true(j.ran);
	assert_true(pthread_equal(j.run_thread, pthread_self()));
	assert_true(pthread_equal(j.done_thread, pthread_self()));
	assert_false(fd_readable(cmd_lookups_fd(l)));
	cmd_lookups_free(l);
}

/* HTTP and D-Bus never block: their job waits, and the eventfd says so. */
static void test_not_here_waits_for_a_thread(void **state)
{
	atomic_int running = 0, most = 0;
	struct cmd_lookups *l = cmd_lookups_new(2, NULL, NULL);
	struct job j = make_job(&running, &most, NULL);

	(void)state;
	cmd_lookups_submit(l, &j.work, false);
	assert_int_equal(j.done_calls, 0);
	assert_true(fd_readable(cmd_lookups_fd(l)));
	cmd_lookups_on_wake(l);
	assert_int_equal(j.done_calls, 1);
	assert_true(j.ran);
	assert_false(fd_readable(cmd_lookups_fd(l)));
	cmd_lookups_free(l);
}

struct submitter {
	struct cmd_lookups *l;
	struct job *j;
};

static void *submit_here(void *arg)
{
	struct submitter *s = arg;

	cmd_lookups_submit(s->l, &s->j->work, true);
	return NULL;
}

/* A serving thread that waits on the eventfd, as serve.c's do. */
static void *serve_wakes(void *arg)
{
	struct cmd_lookups *l = arg;
	struct pollfd p = {.fd = cmd_lookups_fd(l), .events = POLLIN};

	for (int i = 0; i < 400; i++) {
		if (poll(&p, 1, 10) == 1) {
			cmd_lookups_on_wake(l);
		}
	}
	return NULL;
}

/* No more than max lookups at once; the others wait and all run. */
static void test_at_most_max_at_once(void **state)
{
	enum { N = 12, MAX = 3 };
	atomic_int running = 0, most = 0;
	atomic_bool gate = false;
	struct cmd_lookups *l = cmd_lookups_new(MAX, NULL, NULL);
	struct job jobs[N];
	struct submitter subs[N];
	pthread_t th[N], server;

	(void)state;
	for (int i = 0; i < N; i++) {
		jobs[i] = make_job(&running, &most, &gate);
		subs[i] = (struct submitter){l, &jobs[i]};
		assert_int_equal(pthread_create(&th[i], NULL, submit_here, &subs[i]), 0);
	}
	usleep(100 * 1000);
	assert_int_equal(atomic_load(&running), MAX);
	assert_int_equal(pthread_create(&server, NULL, serve_wakes, l), 0);
	atomic_store(&gate, true);
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
	}
	pthread_join(server, NULL);
	assert_int_equal(atomic_load(&most), MAX);
	for (int i = 0; i < N; i++) {
		assert_int_equal(jobs[i].done_calls, 1);
		assert_true(jobs[i].ran);
	}
	cmd_lookups_free(l);
}

/* A job that finds others waiting queues behind them, even with a turn free. */
static void test_no_jumping_the_queue(void **state)
{
	atomic_int running = 0, most = 0;
	struct cmd_lookups *l = cmd_lookups_new(1, NULL, NULL);
	struct job first = make_job(&running, &most, NULL), second = make_job(&running, &most, NULL);

	(void)state;
	cmd_lookups_submit(l, &first.work, false);
	cmd_lookups_submit(l, &second.work, true);
	assert_int_equal(first.done_calls, 0);
	assert_int_equal(second.done_calls, 0);
	cmd_lookups_on_wake(l);
	assert_int_equal(first.done_calls, 1);
	assert_int_equal(second.done_calls, 1);
	cmd_lookups_free(l);
}

/* Jobs waiting when the service stops, and any submitted after, come back
 * with done(w, false), so their owners can free them: none is lost. */
static void test_stop_returns_waiting_jobs(void **state)
{
	atomic_int running = 0, most = 0;
	struct cmd_lookups *l = cmd_lookups_new(1, NULL, NULL);
	struct job waiting[5], late = make_job(&running, &most, NULL);

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(waiting); i++) {
		waiting[i] = make_job(&running, &most, NULL);
		cmd_lookups_submit(l, &waiting[i].work, false);
	}
	cmd_lookups_stop(l);
	for (size_t i = 0; i < CM_ARRAY_SIZE(waiting); i++) {
		assert_int_equal(waiting[i].done_calls, 1);
		assert_false(waiting[i].ran);
	}
	cmd_lookups_submit(l, &late.work, true);
	assert_int_equal(late.done_calls, 1);
	assert_false(late.ran);
	cmd_lookups_on_wake(l);
	cmd_lookups_free(l);
	cmd_lookups_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_here_runs_in_this_thread),
	    cmocka_unit_test(test_not_here_waits_for_a_thread),
	    cmocka_unit_test(test_at_most_max_at_once),
	    cmocka_unit_test(test_no_jumping_the_queue),
	    cmocka_unit_test(test_stop_returns_waiting_jobs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
