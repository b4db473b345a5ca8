/*
 * A pool of worker threads. certmapd uses it for Maps that miss the cache:
 * a lookup can block on NSS or a directory server for as long as that
 * backend's timeout, and the event loops must keep serving meanwhile. The
 * pool knows nothing of loops or Maps: it runs a job and calls the job's
 * own completion, which is how a result finds its way back.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "daemon.h"

struct cmd_workers {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct cmd_work *todo_head, *todo_tail;
	bool stop;
	unsigned int n;
	pthread_t *threads;
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

static void *worker_main(void *arg)
{
	struct cmd_workers *w = arg;

	for (;;) {
		struct cmd_work *work;

		pthread_mutex_lock(&w->lock);
		while (!w->stop && w->todo_head == NULL) {
			pthread_cond_wait(&w->wake, &w->lock);
		}
		if (w->stop) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		work = todo_pop(w);
		pthread_mutex_unlock(&w->lock);

		work->run(work);
		work->done(work, true);
	}
}

struct cmd_workers *cmd_workers_start(unsigned int n)
{
	struct cmd_workers *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->threads = calloc(n, sizeof(*w->threads));
	if (w->threads == NULL) {
		goto fail;
	}
	for (; w->n < n; w->n++) {
		if (pthread_create(&w->threads[w->n], NULL, worker_main, w) != 0) {
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
	work->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->todo_tail != NULL) {
		w->todo_tail->next = work;
	} else {
		w->todo_head = work;
	}
	w->todo_tail = work;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void cmd_workers_stop(struct cmd_workers *w)
{
	struct cmd_work *work;

	if (w == NULL) {
		return;
	}
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	for (unsigned int i = 0; i < w->n; i++) {
		pthread_join(w->threads[i], NULL);
	}
	/* Never run: their owners still expect them back. */
	while ((work = todo_pop(w)) != NULL) {
		work->done(work, false);
	}
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->threads);
	free(w);
}
