/*
 * Worker threads for Map requests that miss the cache. A lookup can block
 * on NSS or a directory server for as long as that backend's timeout; the
 * event loop hands the job here so that it keeps serving every other
 * connection, cache hits and cheap methods meanwhile.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon.h"

struct cmd_workers {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct cmd_job *todo_head, *todo_tail;
	struct cmd_job *done;
	bool stop;
	int done_fd;
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
	uint64_t one = 1;

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

		pthread_mutex_lock(&w->lock);
		job->next = w->done;
		w->done = job;
		pthread_mutex_unlock(&w->lock);
		/* An eventfd counter cannot overflow here; a failed write only delays. */
		if (write(w->done_fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
			cmd_log(LOG_ERR, "cannot wake the event loop: %m");
		}
	}
}

struct cmd_workers *cmd_workers_start(unsigned int n, int *done_fd)
{
	struct cmd_workers *w = calloc(1, sizeof(*w));

	*done_fd = -1;
	if (w == NULL) {
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->threads = calloc(n, sizeof(*w->threads));
	if (w->done_fd < 0 || w->threads == NULL) {
		goto fail;
	}
	for (; w->n < n; w->n++) {
		if (pthread_create(&w->threads[w->n], NULL, worker_main, w) != 0) {
			goto fail;
		}
	}
	*done_fd = w->done_fd;
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

struct cmd_job *cmd_workers_take_done(struct cmd_workers *w)
{
	struct cmd_job *list;
	uint64_t n;

	if (read(w->done_fd, &n, sizeof(n)) < 0 && errno != EAGAIN) {
		cmd_log(LOG_ERR, "eventfd: %m");
	}
	pthread_mutex_lock(&w->lock);
	list = w->done;
	w->done = NULL;
	pthread_mutex_unlock(&w->lock);
	return list;
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
	while ((job = todo_pop(w)) != NULL) {
		cmd_job_free(job);
	}
	while ((job = w->done) != NULL) {
		w->done = job->next;
		cmd_job_free(job);
	}
	if (w->done_fd >= 0) {
		close(w->done_fd);
	}
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->threads);
	free(w);
}
