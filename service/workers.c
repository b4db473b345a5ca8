/*
 * Worker threads for Map requests that miss the cache. A lookup can block
 * on NSS or a directory server for as long as that backend's timeout; the
 * event loop hands the job here so that it keeps serving every other
 * connection, cache hits and cheap methods meanwhile. A finished job goes
 * back to the loop that owns its connection (cmd_loop_post_job).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

struct cmd_workers {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct cmd_job *todo_head, *todo_tail;
	bool stop;
	unsigned int n;
	pthread_t *threads;
};

static struct cmd_job *todo_pop(struct cmd_workers *w)
{
	struct cmd_job *job = w->todo_head;

	if (job != NULL) {
		w->todo_head = job->next;
		if (w->todo_head == NULL) {
			w->todo_tail = NULL;
		}
		job->next = NULL;
	}
	return job;
}

static void *worker_main(void *arg)
{
	struct cmd_workers *w = arg;

	for (;;) {
		struct cmd_job *job;

		pthread_mutex_lock(&w->lock);
		while (!w->stop && w->todo_head == NULL) {
			pthread_cond_wait(&w->wake, &w->lock);
		}
		if (w->stop) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		job = todo_pop(w);
		pthread_mutex_unlock(&w->lock);

		cmd_job_run(job);
		cmd_loop_post_job(job->loop, job);
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

void cmd_workers_submit(struct cmd_workers *w, struct cmd_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->todo_tail != NULL) {
		w->todo_tail->next = job;
	} else {
		w->todo_head = job;
	}
	w->todo_tail = job;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void cmd_workers_stop(struct cmd_workers *w)
{
	struct cmd_job *job;

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
	/* Never run: the loop frees each with its (closed) connection. */
	while ((job = todo_pop(w)) != NULL) {
		job->verdict = -1;
		cmd_loop_post_job(job->loop, job);
	}
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->threads);
	free(w);
}
