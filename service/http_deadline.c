/*
 * The request header deadline of certmapd's HTTP listeners (see
 * http_deadline.h). The sockets belong to libmicrohttpd: they are only
 * shut down, under the lock, and an entry leaves the list (under the same
 * lock) before libmicrohttpd closes its socket, so a number reused by
 * another file is never touched.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "daemon.h"
#include "http_deadline.h"

struct cmd_hdl {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct cmd_hdl_entry head; /* a ring: head.next is the first entry */
	bool stop;
	pthread_t thread;
};

static uint64_t due(unsigned int timeout_s)
{
	return timeout_s == 0 ? 0 : cmd_now_ms() + (uint64_t)timeout_s * 1000;
}

/* Shuts down the late ones; returns how many. Called with the lock held. */
static unsigned int sweep(struct cmd_hdl *h)
{
	uint64_t now = cmd_now_ms();
	unsigned int n = 0;

	for (struct cmd_hdl_entry *e = h->head.next; e != &h->head; e = e->next) {
		if (e->deadline_ms != 0 && e->deadline_ms <= now) {
			shutdown(e->sock, SHUT_RDWR);
			e->deadline_ms = 0;
			n++;
		}
	}
	return n;
}

static void *run(void *arg)
{
	struct cmd_hdl *h = arg;

	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		struct timespec ts;
		unsigned int n;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&h->wake, &h->lock, &ts);
		if ((n = sweep(h)) > 0) {
			cmd_log(LOG_INFO,
				"HTTP: cut off %u connection(s) that did not send a request's "
				"headers within service.timeout",
				n);
		}
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

struct cmd_hdl *cmd_hdl_start(void)
{
	struct cmd_hdl *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->wake, NULL);
	h->head.next = h->head.prev = &h->head;
	if (pthread_create(&h->thread, NULL, run, h) != 0) {
		pthread_cond_destroy(&h->wake);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
	return h;
}

void cmd_hdl_stop(struct cmd_hdl *h)
{
	if (h == NULL) {
		return;
	}
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

void cmd_hdl_add(struct cmd_hdl *h, struct cmd_hdl_entry *e, int sock, unsigned int timeout_s)
{
	pthread_mutex_lock(&h->lock);
	e->sock = sock;
	e->deadline_ms = due(timeout_s);
	e->next = &h->head;
	e->prev = h->head.prev;
	h->head.prev->next = e;
	h->head.prev = e;
	e->listed = true;
	pthread_mutex_unlock(&h->lock);
}

void cmd_hdl_set(struct cmd_hdl *h, struct cmd_hdl_entry *e, unsigned int timeout_s)
{
	pthread_mutex_lock(&h->lock);
	e->deadline_ms = due(timeout_s);
	pthread_mutex_unlock(&h->lock);
}

void cmd_hdl_remove(struct cmd_hdl *h, struct cmd_hdl_entry *e)
{
	pthread_mutex_lock(&h->lock);
	if (e->listed) {
		e->prev->next = e->next;
		e->next->prev = e->prev;
		e->listed = false;
	}
	pthread_mutex_unlock(&h->lock);
}
