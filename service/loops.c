/*
 * certmapd's event loops: N threads, each running one loop (loop.c), all
 * watching the one listening socket (EPOLLEXCLUSIVE, so a new peer wakes
 * one loop, not all). A cached answer costs a few microseconds of CPU on a
 * loop, so one loop cannot keep several clients busy; N loops can.
 *
 * This file is the accepting side: peer credentials and limits are checked
 * before any byte is read, and the accepting loop passes each connection
 * to the loop that has the fewest. It also keeps each loop's spare
 * descriptor, which lets certmapd answer a peer even when the process is
 * out of descriptors, and it watches the signals on loop 0.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"

/* How long a loop waits before it tries again to accept, or to reopen its
 * spare descriptor, when no connection of its own closes first. */
#define RETRY_MS 1000
/* At most one "out of descriptors" line per this many milliseconds. */
#define SHORTAGE_LOG_MS 10000

/* One loop and its share of the accepting. */
struct lane {
	struct cmd_state *st;
	struct cmd_loop *lp;
	pthread_t thread;
	struct cmd_watch listen_watch;
	struct cmd_watch signal_watch;
	int spare_fd;	/* closed to take one peer off the backlog when out of descriptors */
	bool listening; /* the listener is in this loop's epoll set */
};

struct cmd_loops {
	struct lane *lanes;
	unsigned int n;
};

/* ---------------------------------------------------------------- accept */

/* Says why in one frame, best effort, and closes. */
static void refuse(struct cmd_loop *lp, int fd, const char *error, const char *message)
{
	struct cmp_fail f = {.error = error, .message = message};
	struct cm_buf b;

	cmd_stats_add(cmd_loop_stats(lp), CMD_C_REJECTED_PEERS, 1);
	cm_buf_init(&b, 4096);
	cmp_reply_error(&b, &f);
	if (!b.failed && send(fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		cmd_log(LOG_DEBUG, "cannot tell a refused peer why: %m");
	}
	cm_buf_free(&b);
	close(fd);
}

static int read_peer(int fd, struct cmd_peer *p)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0 || len != sizeof(uc)) {
		return -1;
	}
	p->uid = uc.uid;
	p->gid = uc.gid;
	p->pid = uc.pid;
	p->admin = uc.uid == 0 || uc.uid == geteuid();
	return 0;
}

/*
 * EPOLLEXCLUSIVE wakes the first idle loop, which is mostly the same one:
 * left alone, two clients connecting one after the other would share a
 * loop while the others sleep. So the accepting loop passes each new
 * connection to the loop that has the fewest.
 */
static struct cmd_loop *pick_loop(struct cmd_state *st, struct cmd_loop *lp)
{
	struct cmd_loop *best = lp;
	unsigned int least = cmd_loop_conns(lp);

	for (unsigned int i = 0; i < st->loops->n; i++) {
		unsigned int n = cmd_loop_conns(st->loops->lanes[i].lp);

		if (n < least) {
			least = n;
			best = st->loops->lanes[i].lp;
		}
	}
	return best;
}

static void accept_one(struct lane *ln, int fd)
{
	const struct cm_service_conf *sc = &cmd_loop_gen(ln->lp)->cfg->service;
	struct cmd_peer peer;
	struct cmd_loop *to;

	/* Credentials first: nothing is read from a peer that is not allowed. */
	if (read_peer(fd, &peer) != 0) {
		cmd_log(LOG_WARNING, "cannot read peer credentials: %m");
		close(fd);
		return;
	}
	if (!cmd_peer_allowed(sc, &peer, fd)) {
		if (cmd_peer_refusal_logged(peer.uid)) {
			cmd_log(LOG_WARNING,
				"refused a connection from uid %u (gid %u, pid %d): "
				"add it to service.allowed_uids or a group in service.allowed_gids",
				(unsigned)peer.uid, (unsigned)peer.gid, (int)peer.pid);
		}
		refuse(ln->lp, fd, CMP_E_PERMISSION_DENIED, "this uid may not use certmapd");
		return;
	}
	if (!cmd_limits_admit(peer.uid, sc->max_connections, sc->max_connections_per_uid)) {
		if (cmd_peer_refusal_logged(peer.uid)) {
			cmd_log(LOG_WARNING,
				"refused a connection from uid %u: too many connections "
				"(service.max_connections_per_uid %u, service.max_connections %u)",
				(unsigned)peer.uid, sc->max_connections_per_uid,
				sc->max_connections);
		}
		refuse(ln->lp, fd, CMP_E_TOO_MANY_CONNECTIONS, "too many connections");
		return;
	}
	to = pick_loop(ln->st, ln->lp);
	if (to != ln->lp && cmd_loop_hand_over(to, fd, &peer)) {
		return;
	}
	cmd_loop_adopt(ln->lp, fd, &peer);
}

/*
 * Out of descriptors, every loop may log, many times a second: one line
 * per SHORTAGE_LOG_MS for the whole service, with how many it held back.
 */
static void log_shortage(int err)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static uint64_t last_ms;
	static unsigned long held_back;
	uint64_t now = cmd_now_ms();
	unsigned long n = 0;
	bool say = false;

	pthread_mutex_lock(&lock);
	if (last_ms == 0 || now - last_ms >= SHORTAGE_LOG_MS) {
		say = true;
		n = held_back;
		held_back = 0;
		last_ms = now;
	} else {
		held_back++;
	}
	pthread_mutex_unlock(&lock);
	if (!say) {
		return;
	}
	errno = err;
	cmd_log(LOG_ERR,
		"cannot accept connections: %m; waiting for connections to close "
		"(raise LimitNOFILE or ulimit -n if this lasts; %lu such messages suppressed)",
		n);
}

static void spare_open(struct lane *ln)
{
	if (ln->spare_fd < 0) {
		ln->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
}

static void on_listen(struct cmd_loop *lp, void *arg, uint32_t events);

static void listen_on(struct lane *ln)
{
	if (ln->listening || atomic_load(&ln->st->stopping)) {
		return;
	}
	if (cmd_loop_watch(ln->lp, ln->st->listen_fd, EPOLLIN | EPOLLEXCLUSIVE,
			   &ln->listen_watch) != 0) {
		cmd_log(LOG_ERR, "event loop %u cannot watch the socket: %m", cmd_loop_id(ln->lp));
		return;
	}
	ln->listening = true;
}

/* Called when a connection of this loop closes, or after RETRY_MS. */
static void resume(struct cmd_loop *lp, void *arg)
{
	struct lane *ln = arg;

	(void)lp;
	spare_open(ln);
	listen_on(ln);
	if (ln->spare_fd < 0 || !ln->listening) {
		cmd_loop_set_timer(ln->lp, cmd_now_ms() + RETRY_MS, resume, ln);
	} else {
		cmd_loop_set_timer(ln->lp, 0, NULL, NULL);
	}
}

/*
 * accept4 failed with the listener still readable: polling it again would
 * spin. The spare descriptor takes one peer off the backlog and tells it
 * why; then the loop stops polling the listener until one of its
 * connections closes (or RETRY_MS passes, for descriptors freed elsewhere).
 * Peers that connect meanwhile wait in the backlog and are served then.
 */
static void pause_accepting(struct lane *ln, int err)
{
	log_shortage(err);
	if ((err == EMFILE || err == ENFILE) && ln->spare_fd >= 0) {
		int fd;

		close(ln->spare_fd);
		ln->spare_fd = -1;
		fd = accept4(ln->st->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			refuse(ln->lp, fd, CMP_E_TOO_MANY_CONNECTIONS, "out of file descriptors");
		}
		/* Another loop may take the number first: then resume() retries. */
		spare_open(ln);
	}
	if (ln->listening && cmd_loop_unwatch(ln->lp, ln->st->listen_fd) == 0) {
		ln->listening = false;
	}
	cmd_loop_set_timer(ln->lp, cmd_now_ms() + RETRY_MS, resume, ln);
}

static void on_listen(struct cmd_loop *lp, void *arg, uint32_t events)
{
	struct lane *ln = arg;

	(void)lp, (void)events;
	for (int i = 0; i < 64; i++) {
		int fd = accept4(ln->st->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			accept_one(ln, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED) {
			continue;
		}
		/* EAGAIN is normal: another loop took the peer first. Anything else
		 * (EMFILE, ENFILE, ENOBUFS, ENOMEM) leaves the peer in the backlog. */
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			pause_accepting(ln, errno);
		}
		return;
	}
}

/* A closed connection frees a descriptor: a paused loop takes up accepting. */
static void on_close(struct cmd_loop *lp, void *arg)
{
	struct lane *ln = arg;

	if (!ln->listening || ln->spare_fd < 0) {
		resume(lp, ln);
	}
}

/* ---------------------------------------------------------------- signals */

/* Only loop 0 watches the signalfd. */
static void on_signal(struct cmd_loop *lp, void *arg, uint32_t events)
{
	struct cmd_state *st = arg;
	struct signalfd_siginfo si;
	char *err = NULL;

	(void)events;
	while (read(st->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			cmd_notify("RELOADING=1");
			if (cmd_reload(st, cmd_loop_stats(lp), &err) != 0) {
				free(err);
				err = NULL;
			}
			cmd_notify("READY=1");
			break;
		case SIGTERM:
		case SIGINT:
			cmd_log(LOG_NOTICE, "stopping on signal %u", si.ssi_signo);
			cmd_loops_stop(st);
			break;
		default: break;
		}
	}
}

/* ---------------------------------------------------------------- set-up */

static int lane_init(struct cmd_state *st, struct lane *ln, unsigned int id)
{
	ln->st = st;
	ln->spare_fd = -1;
	ln->listen_watch.fn = on_listen;
	ln->listen_watch.arg = ln;
	ln->signal_watch.fn = on_signal;
	ln->signal_watch.arg = st;
	if ((ln->lp = cmd_loop_new(st, id)) == NULL) {
		return -1;
	}
	st->stats[id] = cmd_loop_stats(ln->lp);
	cmd_loop_on_close(ln->lp, on_close, ln);
	/* Without a spare the loop still works; resume() tries again. */
	spare_open(ln);
	if (ln->spare_fd < 0) {
		cmd_loop_set_timer(ln->lp, cmd_now_ms() + RETRY_MS, resume, ln);
	}
	listen_on(ln);
	if (!ln->listening ||
	    (id == 0 && cmd_loop_watch(ln->lp, st->signal_fd, EPOLLIN, &ln->signal_watch) != 0)) {
		cmd_log(LOG_ERR, "event loop %u: %m", id);
		return -1;
	}
	return 0;
}

int cmd_loops_new(struct cmd_state *st, unsigned int n)
{
	if ((st->loops = calloc(1, sizeof(*st->loops))) == NULL ||
	    (st->loops->lanes = calloc(n, sizeof(*st->loops->lanes))) == NULL ||
	    (st->stats = calloc(n + CMD_EXTRA_STATS, sizeof(*st->stats))) == NULL) {
		return -1;
	}
	while (st->loops->n < n) {
		struct lane *ln = &st->loops->lanes[st->loops->n];
		int r = lane_init(st, ln, st->loops->n);

		if (ln->lp != NULL) {
			st->loops->n++;
			st->n_stats = st->loops->n;
		}
		if (r != 0) {
			return -1;
		}
	}
	return 0;
}

static void *loop_thread(void *arg)
{
	struct lane *ln = arg;

	if (cmd_loop_run(ln->lp) != 0) {
		cmd_loops_stop(ln->st);
	}
	return NULL;
}

void cmd_loops_stop(struct cmd_state *st)
{
	atomic_store(&st->stopping, true);
	for (unsigned int i = 0; st->loops != NULL && i < st->loops->n; i++) {
		cmd_loop_wake(st->loops->lanes[i].lp);
	}
}

int cmd_loops_run(struct cmd_state *st)
{
	struct cmd_loops *ls = st->loops;
	unsigned int started = 1;
	int rc = 0;

	for (; started < ls->n; started++) {
		if (pthread_create(&ls->lanes[started].thread, NULL, loop_thread,
				   &ls->lanes[started]) != 0) {
			cmd_log(LOG_ERR, "cannot start event loop %u", started);
			cmd_loops_stop(st);
			rc = -1;
			break;
		}
	}
	/* Loop 0 runs here: it also watches the signalfd. */
	if (rc == 0 && cmd_loop_run(ls->lanes[0].lp) != 0) {
		rc = -1;
	}
	cmd_loops_stop(st);
	for (unsigned int i = 1; i < started; i++) {
		pthread_join(ls->lanes[i].thread, NULL);
	}
	return rc;
}

void cmd_loops_free(struct cmd_state *st)
{
	struct cmd_loops *ls = st->loops;

	if (ls != NULL) {
		for (unsigned int i = 0; i < ls->n; i++) {
			cmd_loop_free(ls->lanes[i].lp);
			if (ls->lanes[i].spare_fd >= 0) {
				close(ls->lanes[i].spare_fd);
			}
		}
		free(ls->lanes);
		free(ls);
	}
	free(st->stats);
	st->loops = NULL;
	st->stats = NULL;
	st->n_stats = 0;
	cmd_limits_free();
}
