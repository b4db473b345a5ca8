/* Unit tests for service/workers.c, on its own: a pool knows only cmd_work. */
#include "config.h"

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

struct job {
	struct cmd_work work; /* first, so a cmd_work * is a struct job * */
	atomic_int *runs;
	atomic_int *done_ran, *done_not_ran;
	atomic_bool *gate; /* run waits until it is true, if set */
	pthread_t run_thread;
	bool ran_in_done;
};

static void job_run(struct cmd_work *w)
{
	struct job *j = (struct job *)w;

	while (j->gate != NULL && !atomic_load(j->gate)) {
		usleep(1000);
	}
	j->run_thread = pthread_self();
	atomic_fetch_add(j->runs, 1);
}

static void job_done(struct cmd_work *w, bool ran)
{
	struct job *j = (struct job *)w;

	j->ran_in_done = ran;
	atomic_fetch_add(ran ? j->done_ran : j->done_not_ran, 1);
}

static void test_every_job_runs_then_completes(void **state)
{
	atomic_int runs = 0, ran = 0, not_ran = 0;
	struct job jobs[200];
	struct cmd_workers *w = cmd_workers_start(4);

	(void)state;
	assert_non_null(w);
	for (size_t i = 0; i < CM_ARRAY_SIZE(jobs); i++) {
		jobs[i] =
		    (struct job){{NULL, job_run, job_done}, &runs, &ran, &not_ran, NULL, 0, false};
		cmd_workers_submit(w, &jobs[i].work);
	}
	for (int i = 0; i < 5000 && atomic_load(&ran) < (int)CM_ARRAY_SIZE(jobs); i++) {
		usleep(1000);
	}
	cmd_workers_stop(w);
	assert_int_equal(atomic_load(&runs), CM_ARRAY_SIZE(jobs));
	assert_int_equal(atomic_load(&ran), CM_ARRAY_SIZE(jobs));
	assert_int_equal(atomic_load(&not_ran), 0);
	for (size_t i = 0; i < CM_ARRAY_SIZE(jobs); i++) {
		assert_true(jobs[i].ran_in_done);
		assert_false(pthread_equal(jobs[i].run_thread, pthread_self()));
	}
}

static void *open_gate(void *arg)
{
	usleep(200 * 1000);
	atomic_store((atomic_bool *)arg, true);
	return NULL;
}

/* Jobs still queued when the pool stops come back with done(w, false), so
 * their owners can free them: none is lost. */
static void test_stop_returns_queued_jobs(void **state)
{
	atomic_int runs = 0, ran = 0, not_ran = 0;
	atomic_bool gate = false;
	struct job first, rest[10];
	struct cmd_workers *w = cmd_workers_start(1);
	pthread_t opener;

	(void)state;
	assert_non_null(w);
	first = (struct job){{NULL, job_run, job_done}, &runs, &ran, &not_ran, &gate, 0, false};
	cmd_workers_submit(w, &first.work);
	/* Let the only worker take the first job and wait at its gate. */
	usleep(50 * 1000);
	for (size_t i = 0; i < CM_ARRAY_SIZE(rest); i++) {
		rest[i] =
		    (struct job){{NULL, job_run, job_done}, &runs, &ran, &not_ran, NULL, 0, false};
		cmd_workers_submit(w, &rest[i].work);
	}
	assert_int_equal(pthread_create(&opener, NULL, open_gate, &gate), 0);
	cmd_workers_stop(w);
	pthread_join(opener, NULL);
	assert_int_equal(atomic_load(&ran), 1);
	assert_int_equal(atomic_load(&not_ran), CM_ARRAY_SIZE(rest));
	assert_int_equal(atomic_load(&runs), 1);
}

static void test_stop_null(void **state)
{
	(void)state;
	cmd_workers_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_job_runs_then_completes),
	    cmocka_unit_test(test_stop_returns_queued_jobs),
	    cmocka_unit_test(test_stop_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
