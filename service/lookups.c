/*
 * How many account lookups run at once (certmapd --workers), and the
 * queue of those that wait for a turn. certmapd has no thread pool of its
 * own for lookups: the serving thread that read a Map runs it (serve.c),
 * so a lookup costs no hand-off to another thread and no wake-up. A
 * lookup may block on NSS or a directory for as long as its timeout; the
 * limit keeps a thread of every event set free for everything else
 * (cache hits, GetInfo, new connections) while the lookups wait.
 *
 * A Map that finds every turn taken or others waiting, and every Map of
 * the HTTP and D-Bus faces (their threads must not block), waits in the
 * queue. The eventfd wakes a serving thread to run what waits there; it
 * is written when a job waits and a turn is free: by the submitter, or
 * by the thread that ends a lookup.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon.h"

struct cmd_lookups {
	pthread_mutex_t lock;
	unsigned int busy, max;
	struct cmd_work *head, *tail; /* waiting for a turn, oldest first */
	bool stopped;		      /* jobs queued from now on are never run */
	int wake_fd;
	/* Called in the serving thread around a lookup it runs. */
	void (*before_run)(void), (*after_run)(void);
};

struct cmd_lookups *cmd_lookups_new(unsigned int max, void (*before_run)(void),
				    void (*after_run)(void))
{
	struct cmd_lookups *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		return NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	l->max = max;
	l->before_run = before_run;
	l->after_run = after_run;
	l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->wake_fd < 0) {
		pthread_mutex_destroy(&l->lock);
		free(l);
		return NULL;
	}
	return l;
}

int cmd_lookups_fd(const struct cmd_lookups *l)
{
	return l->wake_fd;
}

static void wake_one(struct cmd_lookups *l)
{
	uint64_t one = 1;

	/* A failed write only delays the job until a lookup ends. */
	if (write(l->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
		cmd_log(LOG_ERR, "cannot wake a thread for a waiting lookup: %m");
	}
}

/* Under the lock: a waiting job, if a turn is free; the turn is taken. */
static struct cmd_work *take_locked(struct cmd_lookups *l)
{
	struct cmd_work *w = l->head;

	if (w == NULL || l->busy >= l->max || l->stopped) {
		return NULL;
	}
	l->head = w->next;
	if (l->head == NULL) {
		l->tail = NULL;
	}
	w->next = NULL;
	l->busy++;
	return w;
}

void cmd_lookups_blocking(struct cmd_lookups *l, bool starts)
{
	void (*hook)(void) = l == NULL ? NULL : starts ? l->before_run : l->after_run;

	if (hook != NULL) {
		hook();
	}
}

/* Runs a job whose turn is taken, then gives the turn back before its
 * completion, which may serve the connection on and start the next lookup. */
static void run(struct cmd_lookups *l, struct cmd_work *w)
{
	bool waiting;

	cmd_lookups_blocking(l, true);
	w->run(w);
	cmd_lookups_blocking(l, false);
	pthread_mutex_lock(&l->lock);
	l->busy--;
	waiting = l->head != NULL && !l->stopped;
	pthread_mutex_unlock(&l->lock);
	if (waiting) {
		wake_one(l);
	}
	w->done(w, true);
}

void cmd_lookups_submit(struct cmd_lookups *l, struct cmd_work *w, bool here)
{
	bool mine = false, wake = false, never = false;

	w->next = NULL;
	pthread_mutex_lock(&l->lock);
	if (l->stopped) {
		never = true;
	} else if (here && l->head == NULL && l->busy < l->max) {
		/* Nobody waits and a turn is free: this thread takes it. */
		l->busy++;
		mine = true;
	} else {
		if (l->tail != NULL) {
			l->tail->next = w;
		} else {
			l->head = w;
		}
		l->tail = w;
		wake = l->busy < l->max;
	}
	pthread_mutex_unlock(&l->lock);
	if (never) {
		w->done(w, false);
	} else if (mine) {
		run(l, w);
	} else if (wake) {
		wake_one(l);
	}
}

void cmd_lookups_on_wake(struct cmd_lookups *l)
{
	uint64_t n;

	if (read(l->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN) {
		cmd_log(LOG_ERR, "eventfd: %m");
	}
	for (;;) {
		struct cmd_work *w;
		bool more;

		pthread_mutex_lock(&l->lock);
		w = take_locked(l);
		more = w != NULL && l->head != NULL && l->busy < l->max;
		pthread_mutex_unlock(&l->lock);
		if (w == NULL) {
			return;
		}
		/* Another free turn goes to another thread now, not after this job. */
		if (more) {
			wake_one(l);
		}
		run(l, w);
	}
}

void cmd_lookups_stop(struct cmd_lookups *l)
{
	struct cmd_work *w;

	if (l == NULL) {
		return;
	}
	pthread_mutex_lock(&l->lock);
	l->stopped = true;
	w = l->head;
	l->head = l->tail = NULL;
	pthread_mutex_unlock(&l->lock);
	/* Never run: their owners still expect them back. */
	while (w != NULL) {
		struct cmd_work *next = w->next;

		w->done(w, false);
		w = next;
	}
}

void cmd_lookups_free(struct cmd_lookups *l)
{
	if (l == NULL) {
		return;
	}
	cmd_lookups_stop(l);
	close(l->wake_fd);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
