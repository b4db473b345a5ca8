/*
 * A pool of worker threads. certmapd uses it for Maps that miss the cache:
 * a lookup can block on NSS or a directory server for as long as that
 * backend's timeout, and the event loops must keep serving meanwhile. The
 * pool knows nothing of loops or Maps: it runs a job and calls the job's
 * own completion, which is how a result finds its way back.
 *
 * Hand-off. A job is given straight to an idle worker, the one that went
 * idle last (its stack and caches are the warmest, and under a light load
 * the same few threads do all the work), and only that worker is woken,
 * through its own semaphore, after the lock is released. With one shared
 * condition variable every submit woke a thread that first had to take the
 * lock the submitter still held, and 16 workers queued on that one lock
 * for each job. A job that finds no idle worker waits in the queue, which
 * a worker empties before it goes idle again.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>

#include "daemon.h"

struct worker {
	struct cmd_workers *pool;
	pthread_t thread;
	sem_t wake;             /* posted when job is set or the pool stops */
	struct cmd_work *job;   /* given by cmd_workers_submit, under the lock */
	struct worker *next_idle;
};

struct cmd_workers {
	pthread_mutex_t lock;
	struct cmd_work *todo_head, *todo_tail;
	struct worker *idle;    /* waiting for a job, last gone idle first */
	bool stop;
	unsigned int n;
	struct worker *workers;
};

static struct cmd_work *todo_pop(struct cmd_workers *w)
{
	struct cmd_work *work = w->todo_head;

	if (work != NULL) {
		w->todo_head = work->next;
		if (w->todo_head == NULL) {
			w->todo_tail = NULL;
		}
		work->next = NULL;
	}
	return work;
}

static void sem_wait_retry(sem_t *s)
{
	while (sem_wait(s) != 0 && errno == EINTR) {
	}
}

/* The next job for me: a queued one, or one handed to me while I wait
 * idle. NULL when the pool stops. */
static struct cmd_work *next_job(struct worker *me)
{
	struct cmd_workers *w = me->pool;
	struct cmd_work *work;

	pthread_mutex_lock(&w->lock);
	work = w->stop ? NULL : todo_pop(w);
	if (work != NULL || w->stop) {
		pthread_mutex_unlock(&w->lock);
		return work;
	}
	me->job = NULL;
	me->next_idle = w->idle;
	w->idle = me;
	pthread_mutex_unlock(&w->lock);
	sem_wait_retry(&me->wake);
	/* Whoever posted took me off the idle list and set job first (or left
	 * it NULL: the pool stops); the semaphore orders the two. */
	return me->job;
}

static void *worker_main(void *arg)
{
	struct worker *me = arg;
	struct cmd_work *work;

	while ((work = next_job(me)) != NULL) {
		work->run(work);
		work->done(work, true);
	}
	return NULL;
}

struct cmd_workers *cmd_workers_start(unsigned int n)
{
	struct cmd_workers *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	w->workers = calloc(n, sizeof(*w->workers));
	if (w->workers == NULL) {
		goto fail;
	}
	for (; w->n < n; w->n++) {
		struct worker *k = &w->workers[w->n];

		k->pool = w;
		if (sem_init(&k->wake, 0, 0) != 0) {
			goto fail;
		}
		if (pthread_create(&k->thread, NULL, worker_main, k) != 0) {
			sem_destroy(&k->wake);
			goto fail;
		}
	}
	return w;
fail:
	cmd_workers_stop(w);
	return NULL;
}

void cmd_workers_submit(struct cmd_workers *w, struct cmd_work *work)
{
	struct worker *k;

	work->next = NULL;
	pthread_mutex_lock(&w->lock);
	k = w->idle;
	if (k != NULL) {
		w->idle = k->next_idle;
		k->job = work;
	} else if (w->todo_tail != NULL) {
		w->todo_tail->next = work;
		w->todo_tail = work;
	} else {
		w->todo_head = w->todo_tail = work;
	}
	pthread_mutex_unlock(&w->lock);
	if (k != NULL) {
		sem_post(&k->wake);
	}
}

void cmd_workers_stop(struct cmd_workers *w)
{
	struct cmd_work *work;
	struct worker *idle;

	if (w == NULL) {
		return;
	}
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	idle = w->idle;
	w->idle = NULL;
	pthread_mutex_unlock(&w->lock);
	/* Busy workers see stop when they come back for a job. */
	while (idle != NULL) {
		struct worker *next = idle->next_idle;

		sem_post(&idle->wake);
		idle = next;
	}
	for (unsigned int i = 0; i < w->n; i++) {
		pthread_join(w->workers[i].thread, NULL);
		sem_destroy(&w->workers[i].wake);
	}
	/* Never run: their owners still expect them back. */
	while ((work = todo_pop(w)) != NULL) {
		work->done(work, false);
	}
	pthread_mutex_destroy(&w->lock);
	free(w->workers);
	free(w);
}
