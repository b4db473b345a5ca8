/*
 * One certmapd event loop: a thread with its own epoll set and its own
 * connections, on non-blocking sockets. It splits each connection's byte
 * stream into NUL-terminated frames and hands each frame to dispatch; a
 * Map that goes to a worker comes back through the completion it lends
 * dispatch. Each connection serves one request at a time (varlink replies
 * come in order); it is dropped when a request is not complete, or a reply
 * not taken, within service.timeout.
 *
 * A connection whose Map is out with a worker belongs to that worker: the
 * loop takes it off its epoll set and its deadline list and does not touch
 * it. The worker answers it itself when it can: it sends the whole reply,
 * puts the connection back in the epoll set and leaves a note in the
 * loop's "returned" list, without waking the loop (that wake-up, and the
 * loop's send, were a fifth of an LDAP lookup's cost in certmapd). The
 * loop reads the notes whenever it wakes, and before it looks at an event
 * of a connection still marked busy. A reply that does not go out at once,
 * a connection with more bytes buffered or at its end, and every job while
 * the service stops, go through the loop's mailbox (other threads also
 * hand it connections there), which wakes it.
 *
 * The loop does not know where connections come from: loops.c watches the
 * listening socket on it (cmd_loop_watch) and gives it what it accepts.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"

struct conn {
	struct cmd_watch watch; /* what epoll hands back: conn_on_event */
	int fd;
	struct cmd_peer peer;
	char *in;
	size_t in_len, in_alloc;
	struct cm_buf out;
	size_t out_off;
	uint64_t deadline_ms;
	struct conn *prev, *next; /* the loop's deadline list, oldest first */
	uint32_t events;	  /* what epoll watches now */
	bool busy;		  /* a Map is out with a worker */
	/* Set once the loop is done with a busy connection (the job was
	 * submitted before): only then may its worker answer it. */
	atomic_bool handed;
	bool eof;		  /* the peer will send no more */
	bool close_after_write;
};

/* A connection accepted by one loop for another. */
struct handoff {
	struct handoff *next;
	int fd;
	struct cmd_peer peer;
};

struct cmd_loop {
	struct cmd_state *st;
	unsigned int id;
	int epfd;
	int wake_fd; /* eventfd: mail arrived, or the service stops */
	struct cmd_watch wake_watch;
	struct cmd_gen *gen; /* this loop's reference to the configuration */
	uint64_t now_us;     /* cmd_now_us() when epoll_wait last returned */
	unsigned int gen_seq;
	atomic_uint n_conns; /* read by other loops to pick the least busy */
	struct cmd_stats stats;
	/* The mailbox other threads write to. */
	pthread_mutex_t mail_lock;
	struct cmd_job *done;
	struct handoff *inbox;
	/* Jobs whose worker answered the connection itself, under mail_lock;
	 * has_returned says there are some without the lock. */
	struct cmd_job *returned;
	atomic_bool has_returned;
	/* Owned by the loop's thread. */
	struct conn *deadline_head, *deadline_tail; /* oldest first */
	struct conn *graveyard; /* closed, freed after the current batch of events */
	uint64_t timer_ms;
	void (*timer_fn)(struct cmd_loop *lp, void *arg);
	void *timer_arg;
	void (*close_fn)(struct cmd_loop *lp, void *arg);
	void *close_arg;
};

#define READ_CHUNK 4096

/* ---------------------------------------------------------------- connections */

static void deadline_unlink(struct cmd_loop *lp, struct conn *c)
{
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else if (lp->deadline_head == c) {
		lp->deadline_head = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	} else if (lp->deadline_tail == c) {
		lp->deadline_tail = c->prev;
	}
	c->prev = c->next = NULL;
}

/* Every connection gets the same timeout, so appending keeps the list sorted. */
static void deadline_reset(struct cmd_loop *lp, struct conn *c)
{
	deadline_unlink(lp, c);
	c->deadline_ms = lp->now_us / 1000u + (uint64_t)lp->gen->cfg->service.timeout * 1000u;
	c->prev = lp->deadline_tail;
	if (lp->deadline_tail != NULL) {
		lp->deadline_tail->next = c;
	} else {
		lp->deadline_head = c;
	}
	lp->deadline_tail = c;
}

static void conn_free(struct cmd_loop *lp, struct conn *c)
{
	c->next = lp->graveyard;
	lp->graveyard = c;
}

static void loop_bury(struct cmd_loop *lp)
{
	while (lp->graveyard != NULL) {
		struct conn *c = lp->graveyard;

		lp->graveyard = c->next;
		free(c->in);
		cm_buf_free(&c->out);
		free(c);
	}
}

static void conn_close(struct cmd_loop *lp, struct conn *c)
{
	if (c->fd < 0) {
		return;
	}
	deadline_unlink(lp, c);
	epoll_ctl(lp->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	atomic_fetch_sub(&lp->n_conns, 1);
	cmd_limits_release(c->peer.uid);
	/* Never a busy one: it is on no list and gets no event until its
	 * job comes back. */
	conn_free(lp, c);
	/* A descriptor is free again: whoever accepts may want to know. */
	if (lp->close_fn != NULL) {
		lp->close_fn(lp, lp->close_arg);
	}
}

static void loop_close_all(struct cmd_loop *lp)
{
	while (lp->deadline_head != NULL) {
		conn_close(lp, lp->deadline_head);
	}
}

/* A connection out with a worker is not in the epoll set at all (events
 * 0): even with no events asked, epoll would report its hang-up. */
static int conn_watch(struct cmd_loop *lp, struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = &c->watch};
	int op = c->events == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;

	if (events == c->events) {
		return 0;
	}
	if (epoll_ctl(lp->epfd, op, c->fd, &ev) != 0) {
		cmd_log(LOG_ERR, "epoll_ctl: %m");
		return -1;
	}
	c->events = events;
	return 0;
}

/* Writes what it can; 0 when all is out, 1 when the socket is full, -1 to close. */
static int conn_flush(struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 1;
		}
		if (n <= 0) {
			return -1;
		}
		c->out_off += (size_t)n;
	}
	c->out.len = 0;
	c->out_off = 0;
	return 0;
}

/* Sends what is queued: 0 when all is out (the connection goes on), 1 when
 * it waits for EPOLLOUT, -1 when it was closed. */
static int conn_send(struct cmd_loop *lp, struct conn *c)
{
	int r;

	if (c->out.failed) {
		cmd_log(LOG_ERR, "reply to uid %u over the size limit or out of memory",
			(unsigned)c->peer.uid);
		conn_close(lp, c);
		return -1;
	}
	r = conn_flush(c);
	if (r < 0 || (r == 0 && c->close_after_write)) {
		conn_close(lp, c);
		return -1;
	}
	if (r == 1) {
		conn_watch(lp, c, EPOLLOUT);
		return 1;
	}
	deadline_reset(lp, c);
	return 0;
}

static void conn_process(struct cmd_loop *lp, struct conn *c);

/* Sends what is queued, then goes on with buffered requests. */
static void conn_resume(struct cmd_loop *lp, struct conn *c)
{
	if (conn_send(lp, c) == 0) {
		conn_process(lp, c);
	}
}

/* A frame the loop itself refuses (too large, cut short): say why, then close. */
static void refuse_frame(struct cmd_loop *lp, struct conn *c, const char *error,
			 const char *parameter, const char *message)
{
	struct cmp_fail f = {.error = error, .parameter = parameter, .message = message};

	cmd_stats_add(&lp->stats, CMD_C_REQUESTS, 1);
	cmd_stats_add(&lp->stats, CMD_C_ERRORS, 1);
	cmp_reply_error(&c->out, &f);
	c->close_after_write = true;
}

static void loop_post_job(struct cmd_job *job, void *arg);

/* Hands one frame to dispatch; false when the connection waits for a job. */
static bool conn_frame(struct cmd_loop *lp, struct conn *c, size_t len)
{
	struct cmd_caller cl = {
	    .st = lp->st,
	    .stats = &lp->stats,
	    .peer = &c->peer,
	    .fd = c->fd,
	    .post = loop_post_job,
	    .post_arg = lp,
	    .owner = c,
	    .shard = lp->id + 1,
	    .now_us = lp->now_us,
	};
	enum cmd_outcome r;

	/* A reload on any loop applies to every request read from here on. */
	cmd_state_refresh_gen(lp->st, &lp->gen, &lp->gen_seq);
	cl.gen = lp->gen;
	r = cmd_dispatch_frame(&cl, c->in, len, &c->out);
	/* The call owns copies of its strings: the frame can go now. */
	c->in_len -= len + 1;
	memmove(c->in, c->in + len + 1, c->in_len);
	if (r == CMD_PENDING) {
		/* The worker's until it gives the connection back. */
		c->busy = true;
		deadline_unlink(lp, c);
		conn_watch(lp, c, 0);
		atomic_store_explicit(&c->handed, true, memory_order_release);
		return false;
	}
	if (r == CMD_REPLIED_CLOSE) {
		c->close_after_write = true;
	}
	return true;
}

/* Serves the complete frames in the buffer, one after the other (a loop,
 * not recursion: a read may bring thousands of small pipelined frames). */
static void conn_process(struct cmd_loop *lp, struct conn *c)
{
	while (c->fd >= 0 && !c->busy) {
		char *nul = c->in_len > 0 ? memchr(c->in, '\0', c->in_len) : NULL;

		if (nul != NULL) {
			if (!conn_frame(lp, c, (size_t)(nul - c->in)) || conn_send(lp, c) != 0) {
				return;
			}
			continue;
		}
		if (c->in_len >= CMP_MAX_REQUEST) {
			refuse_frame(lp, c, CMP_E_TOO_LARGE, NULL,
				     "the request is over the size limit");
		} else if (c->eof && c->in_len > 0) {
			refuse_frame(lp, c, CMP_E_INVALID_PARAMETER, "",
				     "the request is truncated");
		} else if (c->eof) {
			conn_close(lp, c);
			return;
		} else {
			conn_watch(lp, c, EPOLLIN);
			return;
		}
		conn_send(lp, c);
		return;
	}
}

static void conn_read(struct cmd_loop *lp, struct conn *c)
{
	ssize_t n;

	if (c->in_alloc - c->in_len < READ_CHUNK && c->in_alloc < CMP_MAX_REQUEST) {
		size_t na = c->in_alloc * 2 < CMP_MAX_REQUEST ? c->in_alloc * 2 : CMP_MAX_REQUEST;
		char *p = realloc(c->in, na);

		if (p == NULL) {
			conn_close(lp, c);
			return;
		}
		c->in = p;
		c->in_alloc = na;
	}
	n = recv(c->fd, c->in + c->in_len, c->in_alloc - c->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n < 0) {
		conn_close(lp, c);
		return;
	}
	if (n == 0) {
		c->eof = true;
	}
	c->in_len += (size_t)n;
	conn_process(lp, c);
}

static void loop_take_returned(struct cmd_loop *lp);

static void conn_on_event(struct cmd_loop *lp, void *arg, uint32_t events)
{
	struct conn *c = arg;

	/* A worker that gave the connection back left its note first. */
	if (c->busy) {
		loop_take_returned(lp);
	}
	if (c->fd < 0 || c->busy) {
		return;
	}
	if (events & EPOLLOUT) {
		conn_resume(lp, c);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		conn_read(lp, c);
	}
}

/* Takes a connection already counted in lp->n_conns and in the limits. */
static void conn_add(struct cmd_loop *lp, int fd, const struct cmd_peer *peer)
{
	struct conn *c = NULL;
	struct epoll_event ev = {.events = EPOLLIN};

	/* Handed over while the service stops: nobody will serve it. */
	if (atomic_load(&lp->st->stopping) || (c = calloc(1, sizeof(*c))) == NULL ||
	    (c->in = malloc(READ_CHUNK)) == NULL) {
		goto fail;
	}
	c->watch.fn = conn_on_event;
	c->watch.arg = c;
	c->in_alloc = READ_CHUNK;
	c->fd = fd;
	c->peer = *peer;
	c->events = EPOLLIN;
	cm_buf_init(&c->out, CMP_MAX_REPLY);
	ev.data.ptr = &c->watch;
	if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		cmd_log(LOG_ERR, "epoll_ctl: %m");
		cm_buf_free(&c->out);
		goto fail;
	}
	deadline_reset(lp, c);
	return;
fail:
	if (c != NULL) {
		free(c->in);
		free(c);
	}
	close(fd);
	atomic_fetch_sub(&lp->n_conns, 1);
	cmd_limits_release(peer->uid);
}

void cmd_loop_adopt(struct cmd_loop *lp, int fd, const struct cmd_peer *peer)
{
	atomic_fetch_add(&lp->n_conns, 1);
	conn_add(lp, fd, peer);
}

/* ---------------------------------------------------------------- mailbox */

void cmd_loop_wake(struct cmd_loop *lp)
{
	uint64_t one = 1;

	/* An eventfd counter cannot overflow here; a failed write only delays. */
	if (write(lp->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
		cmd_log(LOG_ERR, "cannot wake event loop %u: %m", lp->id);
	}
}

/*
 * In the worker's thread: answers the job's connection and gives it back
 * to the loop without waking it; false when the loop must do it (the
 * reply did not all go out, or the connection has more to do). The
 * connection is re-armed under mail_lock after the note is left, so the
 * loop finds the note before it can see an event of the connection, and
 * the worker touches nothing once it lets the lock go.
 */
static bool answer_directly(struct cmd_loop *lp, struct cmd_job *job)
{
	struct conn *c = cmd_job_owner(job);
	bool armed;

	/* The job may finish before the loop has let go of the connection. */
	if (!atomic_load_explicit(&c->handed, memory_order_acquire) ||
	    atomic_load(&lp->st->stopping) || c->in_len != 0 || c->eof || c->close_after_write) {
		return false;
	}
	cmd_job_finish(job, &lp->stats, &c->out);
	if (c->out.failed || conn_flush(c) != 0) {
		return false;
	}
	pthread_mutex_lock(&lp->mail_lock);
	*cmd_job_link(job) = lp->returned;
	lp->returned = job;
	atomic_store(&lp->has_returned, true);
	armed = conn_watch(lp, c, EPOLLIN) == 0;
	pthread_mutex_unlock(&lp->mail_lock);
	if (!armed) {
		/* Not expected; the loop re-arms it when it reads the note. */
		cmd_loop_wake(lp);
	}
	return true;
}

/* The completion lent to dispatch: runs in a worker thread. */
static void loop_post_job(struct cmd_job *job, void *arg)
{
	struct cmd_loop *lp = arg;

	if (answer_directly(lp, job)) {
		return;
	}
	pthread_mutex_lock(&lp->mail_lock);
	*cmd_job_link(job) = lp->done;
	lp->done = job;
	pthread_mutex_unlock(&lp->mail_lock);
	cmd_loop_wake(lp);
}

bool cmd_loop_hand_over(struct cmd_loop *lp, int fd, const struct cmd_peer *peer)
{
	struct handoff *h = malloc(sizeof(*h));

	if (h == NULL) {
		return false;
	}
	h->fd = fd;
	h->peer = *peer;
	/* Counted now, so that the next accept already sees this loop busier. */
	atomic_fetch_add(&lp->n_conns, 1);
	pthread_mutex_lock(&lp->mail_lock);
	h->next = lp->inbox;
	lp->inbox = h;
	pthread_mutex_unlock(&lp->mail_lock);
	cmd_loop_wake(lp);
	return true;
}

/* Answers one finished job (its worker may have answered part of it:
 * cmd_job_finish then does nothing, and what it queued is still to send).
 * While the service stops, the connection closes after the reply: a frame
 * it holds must not go to workers that are gone. */
static void job_returned(struct cmd_loop *lp, struct cmd_job *job)
{
	struct conn *c = cmd_job_owner(job);

	c->busy = false;
	atomic_store(&c->handed, false);
	if (atomic_load(&lp->st->stopping)) {
		c->close_after_write = true;
	}
	deadline_reset(lp, c);
	cmd_job_finish(job, &lp->stats, &c->out);
	conn_resume(lp, c);
}

/* The notes of workers that answered connections themselves: each
 * connection is the loop's again, with a new deadline. */
static void loop_take_returned(struct cmd_loop *lp)
{
	struct cmd_job *jobs;

	if (!atomic_load(&lp->has_returned)) {
		return;
	}
	pthread_mutex_lock(&lp->mail_lock);
	jobs = lp->returned;
	lp->returned = NULL;
	atomic_store(&lp->has_returned, false);
	pthread_mutex_unlock(&lp->mail_lock);
	while (jobs != NULL) {
		struct cmd_job *next = *cmd_job_link(jobs);
		struct conn *c = cmd_job_owner(jobs);

		c->busy = false;
		atomic_store(&c->handed, false);
		deadline_reset(lp, c);
		conn_watch(lp, c, EPOLLIN); /* done unless the worker's epoll_ctl failed */
		cmd_job_free(jobs);
		jobs = next;
	}
}

static void loop_read_mail(struct cmd_loop *lp, void *arg, uint32_t events)
{
	struct cmd_job *jobs;
	struct handoff *conns;
	uint64_t n;

	(void)arg, (void)events;
	if (read(lp->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN) {
		cmd_log(LOG_ERR, "eventfd: %m");
	}
	pthread_mutex_lock(&lp->mail_lock);
	jobs = lp->done;
	conns = lp->inbox;
	lp->done = NULL;
	lp->inbox = NULL;
	pthread_mutex_unlock(&lp->mail_lock);
	while (jobs != NULL) {
		struct cmd_job *next = *cmd_job_link(jobs);

		job_returned(lp, jobs);
		cmd_job_free(jobs);
		jobs = next;
	}
	while (conns != NULL) {
		struct handoff *next = conns->next;

		conn_add(lp, conns->fd, &conns->peer);
		free(conns);
		conns = next;
	}
}

/* ---------------------------------------------------------------- the loop */

int cmd_loop_watch(struct cmd_loop *lp, int fd, uint32_t events, struct cmd_watch *w)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	return epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int cmd_loop_unwatch(struct cmd_loop *lp, int fd)
{
	return epoll_ctl(lp->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void cmd_loop_set_timer(struct cmd_loop *lp, uint64_t at_ms,
			void (*fn)(struct cmd_loop *lp, void *arg), void *arg)
{
	lp->timer_ms = at_ms;
	lp->timer_fn = fn;
	lp->timer_arg = arg;
}

void cmd_loop_on_close(struct cmd_loop *lp, void (*fn)(struct cmd_loop *lp, void *arg), void *arg)
{
	lp->close_fn = fn;
	lp->close_arg = arg;
}

unsigned int cmd_loop_id(const struct cmd_loop *lp)
{
	return lp->id;
}

struct cmd_stats *cmd_loop_stats(struct cmd_loop *lp)
{
	return &lp->stats;
}

struct cmd_gen *cmd_loop_gen(struct cmd_loop *lp)
{
	cmd_state_refresh_gen(lp->st, &lp->gen, &lp->gen_seq);
	return lp->gen;
}

unsigned int cmd_loop_conns(struct cmd_loop *lp)
{
	return atomic_load(&lp->n_conns);
}

static void expire(struct cmd_loop *lp)
{
	uint64_t now = lp->now_us / 1000u;

	while (lp->deadline_head != NULL && lp->deadline_head->deadline_ms <= now) {
		struct conn *c = lp->deadline_head;

		cmd_stats_add(&lp->stats, CMD_C_TIMEOUTS, 1);
		cmd_log(LOG_INFO, "dropping a connection of uid %u after the timeout",
			(unsigned)c->peer.uid);
		conn_close(lp, c);
	}
}

static void run_timer(struct cmd_loop *lp)
{
	void (*fn)(struct cmd_loop *, void *) = lp->timer_fn;

	if (lp->timer_ms == 0 || lp->timer_ms > cmd_now_ms()) {
		return;
	}
	lp->timer_ms = 0;
	lp->timer_fn = NULL;
	fn(lp, lp->timer_arg);
}

static int next_timeout(const struct cmd_loop *lp, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	if (lp->deadline_head != NULL) {
		next = lp->deadline_head->deadline_ms;
	}
	if (lp->timer_ms != 0 && lp->timer_ms < next) {
		next = lp->timer_ms;
	}
	if (next == UINT64_MAX) {
		return -1;
	}
	return next <= now ? 0 : (int)(next - now) + 1;
}

/* The loop is about to sleep: its log lines that are due go now, and it
 * wakes up in time for the others. */
static int sleep_ms(const struct cmd_loop *lp)
{
	uint64_t now_us = cmd_now_us();
	int ms = next_timeout(lp, now_us / 1000u), log_ms = cmd_log_flush_due(now_us);

	return log_ms >= 0 && (ms < 0 || log_ms < ms) ? log_ms : ms;
}

int cmd_loop_run(struct cmd_loop *lp)
{
	struct epoll_event evs[64];
	int rc = 0;

	cmd_log_batch_start();
	while (!atomic_load(&lp->st->stopping)) {
		int n = epoll_wait(lp->epfd, evs, CM_ARRAY_SIZE(evs), sleep_ms(lp));

		lp->now_us = cmd_now_us();
		if (n < 0 && errno != EINTR) {
			cmd_log(LOG_ERR, "epoll_wait: %m");
			rc = -1;
			break;
		}
		cmd_state_refresh_gen(lp->st, &lp->gen, &lp->gen_seq);
		loop_take_returned(lp);
		for (int i = 0; i < n; i++) {
			struct cmd_watch *w = evs[i].data.ptr;

			w->fn(lp, w->arg, evs[i].events);
		}
		run_timer(lp);
		expire(lp);
		loop_bury(lp);
	}
	/* A busy connection is on no list: its job comes back through the
	 * mailbox, which cmd_loop_free drains before it closes the rest. */
	loop_close_all(lp);
	loop_bury(lp);
	cmd_log_batch_stop();
	return rc;
}

/* ---------------------------------------------------------------- set-up */

struct cmd_loop *cmd_loop_new(struct cmd_state *st, unsigned int id)
{
	struct cmd_loop *lp = calloc(1, sizeof(*lp));

	if (lp == NULL) {
		return NULL;
	}
	lp->st = st;
	lp->id = id;
	lp->now_us = cmd_now_us();
	pthread_mutex_init(&lp->mail_lock, NULL);
	lp->epfd = epoll_create1(EPOLL_CLOEXEC);
	lp->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	lp->wake_watch.fn = loop_read_mail;
	cmd_state_refresh_gen(st, &lp->gen, &lp->gen_seq);
	if (lp->epfd < 0 || lp->wake_fd < 0 ||
	    cmd_loop_watch(lp, lp->wake_fd, EPOLLIN, &lp->wake_watch) != 0) {
		cmd_log(LOG_ERR, "event loop %u: %m", id);
		cmd_loop_free(lp);
		return NULL;
	}
	return lp;
}

void cmd_loop_free(struct cmd_loop *lp)
{
	if (lp == NULL) {
		return;
	}
	/* What is left in the mailbox is for connections that are closed now. */
	if (lp->wake_fd >= 0) {
		loop_take_returned(lp);
		loop_read_mail(lp, NULL, 0);
	}
	loop_close_all(lp);
	loop_bury(lp);
	if (lp->epfd >= 0) {
		close(lp->epfd);
	}
	if (lp->wake_fd >= 0) {
		close(lp->wake_fd);
	}
	cmd_gen_unref(lp->gen);
	pthread_mutex_destroy(&lp->mail_lock);
	free(lp);
}
