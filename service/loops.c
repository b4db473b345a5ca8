/*
 * certmapd's event loops: N threads, each with its own epoll set and its
 * own connections, all watching the one listening socket (EPOLLEXCLUSIVE,
 * so a new peer wakes one loop, not all). A cached answer costs a few
 * microseconds of CPU on a loop, so one loop cannot keep several clients
 * busy; N loops can.
 *
 * What crosses threads goes through here: each loop's mailbox (jobs the
 * workers finished, connections another loop accepted for it), the wake-up
 * eventfd that says "read your mail", and the current configuration
 * generation, which a reload swaps for all loops at once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cache.h"
#include "daemon.h"

/* Tags for a loop's own descriptors; connections use their struct conn. */
static char tag_listen, tag_signal, tag_wake;

static void loop_wake(struct cmd_loop *lp)
{
	uint64_t one = 1;

	/* An eventfd counter cannot overflow here; a failed write only delays. */
	if (write(lp->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
		cmd_log(LOG_ERR, "cannot wake event loop %u: %m", lp->id);
	}
}

void cmd_loop_post_job(struct cmd_loop *lp, struct cmd_job *job)
{
	pthread_mutex_lock(&lp->mail_lock);
	job->next = lp->done;
	lp->done = job;
	pthread_mutex_unlock(&lp->mail_lock);
	loop_wake(lp);
}

bool cmd_loop_hand_over(struct cmd_loop *to, int fd, const struct cmd_peer *peer)
{
	struct cmd_handoff *h = malloc(sizeof(*h));

	if (h == NULL) {
		return false;
	}
	h->fd = fd;
	h->peer = *peer;
	/* Counted now, so that the next accept already sees this loop busier. */
	atomic_fetch_add(&to->n_conns, 1);
	pthread_mutex_lock(&to->mail_lock);
	h->next = to->inbox;
	to->inbox = h;
	pthread_mutex_unlock(&to->mail_lock);
	loop_wake(to);
	return true;
}

/*
 * EPOLLEXCLUSIVE wakes the first idle loop, which is mostly the same one:
 * left alone, two clients connecting one after the other would share a
 * loop while the others sleep. So the accepting loop passes each new
 * connection to the loop that has the fewest.
 */
struct cmd_loop *cmd_loops_pick(struct cmd_loop *lp)
{
	struct cmd_state *st = lp->st;
	struct cmd_loop *best = lp;
	unsigned int least = atomic_load(&lp->n_conns);

	for (unsigned int i = 0; i < st->n_loops; i++) {
		unsigned int n = atomic_load(&st->loops[i]->n_conns);

		if (n < least) {
			least = n;
			best = st->loops[i];
		}
	}
	return best;
}

void cmd_loop_read_mail(struct cmd_loop *lp)
{
	struct cmd_job *jobs;
	struct cmd_handoff *conns;
	uint64_t n;

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
		struct cmd_job *next = jobs->next;

		cmd_conn_job_done(lp, jobs);
		cmd_job_free(jobs);
		jobs = next;
	}
	while (conns != NULL) {
		struct cmd_handoff *next = conns->next;

		cmd_loop_adopt(lp, conns->fd, &conns->peer);
		free(conns);
		conns = next;
	}
}

/* ---------------------------------------------------------------- generations */

void cmd_loops_set_gen(struct cmd_state *st, struct cmd_gen *g)
{
	struct cmd_gen *old;

	pthread_mutex_lock(&st->gen_lock);
	old = st->gen;
	st->gen = g;
	atomic_fetch_add(&st->gen_seq, 1);
	pthread_mutex_unlock(&st->gen_lock);
	/* Loops still using the old one hold their own references. */
	cmd_gen_unref(old);
}

void cmd_loop_refresh_gen(struct cmd_loop *lp)
{
	struct cmd_state *st = lp->st;
	struct cmd_gen *old = lp->gen;

	/* The common case, no reload since the last look, takes no lock. */
	if (old != NULL && atomic_load(&st->gen_seq) == lp->gen_seq) {
		return;
	}
	pthread_mutex_lock(&st->gen_lock);
	lp->gen = cmd_gen_ref(st->gen);
	lp->gen_seq = atomic_load(&st->gen_seq);
	pthread_mutex_unlock(&st->gen_lock);
	cmd_gen_unref(old);
}

void cmd_loops_stats(struct cmd_state *st, struct cmd_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < st->n_loops; i++) {
		for (int c = 0; c < CMD_C_COUNT; c++) {
			cmd_stats_add(sum, c, cmd_stats_get(&st->loops[i]->stats, c));
		}
	}
}

/* ---------------------------------------------------------------- set-up */

static int watch_fd(struct cmd_loop *lp, int fd, uint32_t events, void *tag)
{
	struct epoll_event ev = { .events = events, .data.ptr = tag };

	return epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* *out is set even when the set-up fails, so that cmd_loops_free frees it. */
static int loop_new(struct cmd_state *st, unsigned int id, struct cmd_loop **out)
{
	struct cmd_loop *lp = calloc(1, sizeof(*lp));

	*out = lp;
	if (lp == NULL) {
		return -1;
	}
	lp->st = st;
	lp->id = id;
	pthread_mutex_init(&lp->mail_lock, NULL);
	lp->epfd = epoll_create1(EPOLL_CLOEXEC);
	lp->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	lp->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cmd_loop_refresh_gen(lp);
	if (lp->epfd < 0 || lp->wake_fd < 0 ||
	    watch_fd(lp, st->listen_fd, EPOLLIN | EPOLLEXCLUSIVE, &tag_listen) != 0 ||
	    watch_fd(lp, lp->wake_fd, EPOLLIN, &tag_wake) != 0 ||
	    (id == 0 && watch_fd(lp, st->signal_fd, EPOLLIN, &tag_signal) != 0)) {
		cmd_log(LOG_ERR, "event loop %u: %m", id);
		return -1;
	}
	return 0;
}

int cmd_loops_new(struct cmd_state *st, unsigned int n)
{
	st->loops = calloc(n, sizeof(*st->loops));
	if (st->loops == NULL) {
		return -1;
	}
	while (st->n_loops < n) {
		int r = loop_new(st, st->n_loops, &st->loops[st->n_loops]);

		if (st->loops[st->n_loops] != NULL) {
			st->n_loops++;
		}
		if (r != 0) {
			return -1;
		}
	}
	return 0;
}

static void *loop_thread(void *arg)
{
	struct cmd_loop *lp = arg;

	if (cmd_loop_run(lp) != 0) {
		cmd_loops_stop(lp->st);
	}
	return NULL;
}

void cmd_loops_stop(struct cmd_state *st)
{
	atomic_store(&st->stopping, true);
	for (unsigned int i = 0; i < st->n_loops; i++) {
		loop_wake(st->loops[i]);
	}
}

int cmd_loops_run(struct cmd_state *st)
{
	unsigned int started = 1;
	int rc = 0;

	for (; started < st->n_loops; started++) {
		struct cmd_loop *lp = st->loops[started];

		if (pthread_create(&lp->thread, NULL, loop_thread, lp) != 0) {
			cmd_log(LOG_ERR, "cannot start event loop %u", started);
			cmd_loops_stop(st);
			rc = -1;
			break;
		}
	}
	/* Loop 0 runs here: it also watches the signalfd. */
	if (rc == 0 && cmd_loop_run(st->loops[0]) != 0) {
		rc = -1;
	}
	cmd_loops_stop(st);
	for (unsigned int i = 1; i < started; i++) {
		pthread_join(st->loops[i]->thread, NULL);
	}
	return rc;
}

/* After the workers stopped: what is left in the mailbox is for closed
 * connections (cmd_loop_run closes all when it stops) and is freed. */
static void loop_free(struct cmd_loop *lp)
{
	if (lp->wake_fd >= 0) {
		cmd_loop_read_mail(lp);
	}
	cmd_loop_close_all(lp);
	cmd_loop_bury(lp);
	if (lp->epfd >= 0) {
		close(lp->epfd);
	}
	if (lp->wake_fd >= 0) {
		close(lp->wake_fd);
	}
	if (lp->spare_fd >= 0) {
		close(lp->spare_fd);
	}
	cmd_gen_unref(lp->gen);
	pthread_mutex_destroy(&lp->mail_lock);
	free(lp);
}

void cmd_loops_free(struct cmd_state *st)
{
	for (unsigned int i = 0; i < st->n_loops; i++) {
		loop_free(st->loops[i]);
	}
	free(st->loops);
	st->loops = NULL;
	st->n_loops = 0;
	cmd_limits_free();
}

/* Which of the loop's own descriptors a tag names, for loop.c. */
enum cmd_tag cmd_loop_tag(const void *tag)
{
	if (tag == &tag_listen) {
		return CMD_TAG_LISTEN;
	}
	if (tag == &tag_signal) {
		return CMD_TAG_SIGNAL;
	}
	if (tag == &tag_wake) {
		return CMD_TAG_WAKE;
	}
	return CMD_TAG_CONN;
}
