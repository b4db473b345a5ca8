/*
 * certmapd's serving threads. There are --loops epoll sets, each served
 * by 1 + --workers threads. A set holds its share of the connections
 * (conns.c) and its log buffer's timer; every set also watches the
 * listening socket, the signalfd, the lookup queue's eventfd (lookups.c),
 * the tick and the HTTP threads' log timer, with EPOLLEXCLUSIVE: an event
 * of those wakes one set that has a thread waiting, so no set is needed
 * for the service's own work. Every watch but the stop eventfd is
 * edge-triggered.
 *
 * Turns. A thread serves what it gets from epoll itself, a Map's lookup
 * included, so a request is served from the read to the reply by the
 * thread that read it. While none of a set's threads is in a lookup, one
 * thread at a time waits on the set's epoll, and the others sleep
 * (followers): a set that answers from the cache is one thread, like an
 * event loop, and the next request of a busy client is there when its
 * thread asks epoll again, with no wake-up. (With every thread waiting on
 * epoll, a request that came while its thread was still finishing woke
 * another: two clients ran at half the speed.) Just before a lookup (which
 * may block), a thread that leaves nobody waiting on the set wakes a
 * follower to wait in its place. While lookups run, threads that end one
 * wait on epoll too, with no sleep as a follower first: under a load of
 * lookups, a request costs no wake-up but its own. At most --workers
 * threads are in a lookup at once, so a set always has a thread to wait
 * (a reload gets a lookup's hooks, not a turn: while every turn is taken
 * in its set, it may leave the set without one until a lookup ends). A
 * connection that keeps sending goes behind the set's other connections
 * after a few reads (conns.c), and the listener after 64 accepts.
 *
 * This file is also the accepting side: peer credentials and limits are
 * checked before any byte is read. A spare descriptor lets certmapd
 * answer a peer even when the process is out of descriptors.
 *
 * The timer ticks while there are connections (their idle deadlines) or
 * while accepting is paused; it stops by itself when neither holds.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon.h"

/* How often idle connections are checked against their deadlines, and
 * accepting is tried again after running out of descriptors. */
#define TICK_MS 250
/* Accepting is tried again at least this often while it is paused. */
#define RETRY_MS 1000
/* At most one "out of descriptors" line per this many milliseconds. */
#define SHORTAGE_LOG_MS 10000
/* Accepts per turn: then the listener goes behind the set's other events. */
#define ACCEPT_TURN 64

/* Tags of the watches that are not connections (those use slot numbers). */
#define TAG_LISTEN (UINT64_MAX - 0)
#define TAG_SIGNAL (UINT64_MAX - 1)
#define TAG_LOOKUPS (UINT64_MAX - 2)
#define TAG_TICK (UINT64_MAX - 3)
#define TAG_STOP (UINT64_MAX - 4)
#define TAG_LOG (UINT64_MAX - 5)
#define TAG_FACE_LOG (UINT64_MAX - 6)

/* The threads that take turns waiting on one epoll set (epfds[i]). */
struct set {
	struct cmd_log_batch *log; /* its threads' lines for standard error */
	pthread_mutex_t lock;
	unsigned int waiting;	 /* threads in epoll_wait, or on their way */
	unsigned int looking_up; /* threads in a lookup */
	struct cmd_thread *idle; /* followers, the last gone idle first */
};

struct cmd_server {
	struct cmd_state *st;
	unsigned int n_sets;
	struct set *sets;
	int *epfds; /* sets[i]'s epoll set; conns.c has a copy */
	int stop_fd;  /* eventfd, level-triggered, written once: every thread wakes */
	/* The HTTP threads' lines for standard error; every set watches its
	 * timer. */
	struct cmd_log_batch *face_log;
	int tick_fd;  /* timerfd */
	atomic_bool ticking;
	unsigned int n;
	struct cmd_thread *threads;
	struct cmd_thread spare_ctx; /* for completions outside the threads (at stop) */
	struct cmd_conns *conns;
	pthread_mutex_t accept_lock; /* the spare descriptor and the pause */
	int spare_fd;
	atomic_bool paused; /* accepting waits for a descriptor */
	uint64_t paused_ms;
};

static _Thread_local struct cmd_thread *self;

struct cmd_log_batch *cmd_serve_face_log(struct cmd_state *st)
{
	return st->server != NULL ? st->server->face_log : NULL;
}

struct cmd_thread *cmd_thread_current(struct cmd_state *st)
{
	return self != NULL ? self : &st->server->spare_ctx;
}

/* ---------------------------------------------------------------- turns */

static void sem_wait_retry(sem_t *sem)
{
	while (sem_wait(sem) != 0 && errno == EINTR) {
	}
}

static struct set *set_of(const struct cmd_thread *t)
{
	return &t->st->server->sets[t->set];
}

/* A follower holds no configuration while it sleeps: a reload frees the
 * old one without waiting for every thread to wake. */
static void drop_gen(struct cmd_thread *t)
{
	cmd_gen_unref(t->gen);
	t->gen = NULL;
}

/* Before epoll_wait: waits on the set if nobody does, or while lookups
 * run; else sleeps as a follower until it is woken to wait. False when
 * woken because the service stops. */
static bool take_turn(struct cmd_thread *t)
{
	struct set *s = set_of(t);

	pthread_mutex_lock(&s->lock);
	/* cmd_serve_stop sets stopping before wake_followers takes the lock. */
	if (atomic_load(&t->st->stopping)) {
		pthread_mutex_unlock(&s->lock);
		return false;
	}
	if (s->waiting == 0 || s->looking_up > 0) {
		s->waiting++;
		pthread_mutex_unlock(&s->lock);
		return true;
	}
	t->next_idle = s->idle;
	s->idle = t;
	pthread_mutex_unlock(&s->lock);
	drop_gen(t);
	sem_wait_retry(&t->wake);
	/* Woken to wait (counted by the waker), or because the service stops. */
	return !atomic_load(&t->st->stopping);
}

static void end_turn(struct cmd_thread *t)
{
	struct set *s = set_of(t);

	pthread_mutex_lock(&s->lock);
	s->waiting--;
	pthread_mutex_unlock(&s->lock);
}

/* Before work that may block (lookups.c calls it before a lookup): a set
 * nobody waits on any more gets a follower to wait. */
static void blocking_starts(void)
{
	struct cmd_thread *t = self, *f = NULL;
	struct set *s;

	if (t == NULL) {
		return;
	}
	s = set_of(t);
	pthread_mutex_lock(&s->lock);
	s->looking_up++;
	if (s->waiting == 0 && (f = s->idle) != NULL) {
		s->idle = f->next_idle;
		s->waiting++;
	}
	pthread_mutex_unlock(&s->lock);
	if (f != NULL) {
		sem_post(&f->wake);
	}
}

static void blocking_ends(void)
{
	struct cmd_thread *t = self;
	struct set *s;

	if (t == NULL) {
		return;
	}
	s = set_of(t);
	pthread_mutex_lock(&s->lock);
	s->looking_up--;
	pthread_mutex_unlock(&s->lock);
}

/* Wakes the followers of every set: the service stops. */
static void wake_followers(struct cmd_server *sv)
{
	for (unsigned int i = 0; i < sv->n_sets; i++) {
		struct set *s = &sv->sets[i];
		struct cmd_thread *f;

		pthread_mutex_lock(&s->lock);
		f = s->idle;
		s->idle = NULL;
		pthread_mutex_unlock(&s->lock);
		while (f != NULL) {
			struct cmd_thread *next = f->next_idle;

			sem_post(&f->wake);
			f = next;
		}
	}
}

/* ---------------------------------------------------------------- tick */

static void tick_set(struct cmd_server *sv, unsigned int ms)
{
	struct itimerspec its = {
	    .it_value = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L},
	    .it_interval = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L},
	};

	if (timerfd_settime(sv->tick_fd, 0, &its, NULL) != 0) {
		cmd_log(LOG_ERR, "timerfd_settime: %m");
	}
}

static void tick_on(struct cmd_server *sv)
{
	if (!atomic_exchange(&sv->ticking, true)) {
		tick_set(sv, TICK_MS);
	}
}

/* Stopped first, then marked: a connection added meanwhile sees the mark
 * and starts it again, or is counted by the second look. */
static void tick_off(struct cmd_server *sv)
{
	tick_set(sv, 0);
	atomic_store(&sv->ticking, false);
	if (cmd_conns_open(sv->conns) > 0 || atomic_load(&sv->paused)) {
		tick_on(sv);
	}
}

/* ---------------------------------------------------------------- accept */

/* Says why in one frame, best effort, and closes. */
static void refuse(struct cmd_thread *t, int fd, const char *error, const char *message)
{
	struct cmp_fail f = {.error = error, .message = message};
	struct cm_buf b;

	cmd_stats_add(&t->stats, CMD_C_REJECTED_PEERS, 1);
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

static void accept_one(struct cmd_thread *t, int fd)
{
	const struct cm_service_conf *sc = &t->gen->cfg->service;
	struct cmd_peer peer;

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
		refuse(t, fd, CMP_E_PERMISSION_DENIED, "this uid may not use certmapd");
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
		refuse(t, fd, CMP_E_TOO_MANY_CONNECTIONS, "too many connections");
		return;
	}
	cmd_conns_add(t, t->st->server->conns, fd, &peer);
	tick_on(t->st->server);
}

/*
 * Out of descriptors, every thread may log, many times a second: one line
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

/*
 * accept4 failed with peers still in the backlog: with edge triggering no
 * new event comes for them. The spare descriptor takes one peer off the
 * backlog and tells it why; the others wait there until a connection
 * closes (conn_closed) or the tick tries again.
 */
static void pause_accepting(struct cmd_thread *t, int err)
{
	struct cmd_server *sv = t->st->server;

	log_shortage(err);
	pthread_mutex_lock(&sv->accept_lock);
	if ((err == EMFILE || err == ENFILE) && sv->spare_fd >= 0) {
		int fd;

		close(sv->spare_fd);
		fd = accept4(t->st->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			refuse(t, fd, CMP_E_TOO_MANY_CONNECTIONS, "out of file descriptors");
		}
		/* Another thread may take the number first: the tick retries. */
		sv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	sv->paused_ms = cmd_now_ms();
	atomic_store(&sv->paused, true);
	pthread_mutex_unlock(&sv->accept_lock);
	tick_on(sv);
}

static int watch(int epfd, int fd, uint32_t events, uint64_t tag);

#define SERVICE_EVENTS (EPOLLIN | EPOLLET | EPOLLEXCLUSIVE)

/* The backlog may still hold peers: watched again (an EPOLLEXCLUSIVE
 * watch cannot be modified), the listener is at the end of the ready list. */
static void listener_yield(struct cmd_thread *t)
{
	int epfd = t->st->server->epfds[t->set];

	if (epoll_ctl(epfd, EPOLL_CTL_DEL, t->st->listen_fd, NULL) != 0 ||
	    watch(epfd, t->st->listen_fd, SERVICE_EVENTS, TAG_LISTEN) != 0) {
		cmd_log(LOG_ERR, "cannot watch the socket again: %m");
	}
}

static void accept_all(struct cmd_thread *t)
{
	for (unsigned int n = 0;; n++) {
		int fd;

		if (n == ACCEPT_TURN) {
			listener_yield(t);
			return;
		}
		fd = accept4(t->st->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			accept_one(t, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED) {
			continue;
		}
		/* EAGAIN is normal: the backlog is empty, or another thread took
		 * the peer. Anything else (EMFILE, ENFILE, ENOBUFS, ENOMEM) leaves
		 * the peer in the backlog. */
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			pause_accepting(t, errno);
		}
		return;
	}
}

/* Accepting after a pause: when a descriptor came free, or RETRY_MS on. */
static void resume_accepting(struct cmd_thread *t, bool closed)
{
	struct cmd_server *sv = t->st->server;

	if (!atomic_load(&sv->paused) || atomic_load(&t->st->stopping)) {
		return;
	}
	pthread_mutex_lock(&sv->accept_lock);
	if (!closed && cmd_now_ms() - sv->paused_ms < RETRY_MS) {
		pthread_mutex_unlock(&sv->accept_lock);
		return;
	}
	if (sv->spare_fd < 0) {
		sv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	atomic_store(&sv->paused, false);
	pthread_mutex_unlock(&sv->accept_lock);
	accept_all(t);
}

/* conns.c calls this after each close. */
static void conn_closed(struct cmd_thread *t)
{
	resume_accepting(t, true);
}

/* ---------------------------------------------------------------- events */

static void on_signal(struct cmd_thread *t)
{
	struct cmd_state *st = t->st;
	struct signalfd_siginfo si;
	char *err = NULL;

	while (read(st->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			cmd_notify("RELOADING=1");
			/* Loading may take a while: another thread waits meanwhile. */
			blocking_starts();
			if (cmd_reload(st, &t->stats, &err) != 0) {
				free(err);
				err = NULL;
			}
			blocking_ends();
			cmd_notify("READY=1");
			break;
		case SIGTERM:
		case SIGINT:
			cmd_log(LOG_NOTICE, "stopping on signal %u", si.ssi_signo);
			cmd_serve_stop(st);
			break;
		default: break;
		}
	}
}

static void on_tick(struct cmd_thread *t)
{
	struct cmd_server *sv = t->st->server;
	uint64_t n;

	if (read(sv->tick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN) {
		cmd_log(LOG_ERR, "timerfd: %m");
	}
	resume_accepting(t, false);
	if (cmd_conns_expire(t, sv->conns) == 0 && !atomic_load(&sv->paused)) {
		tick_off(sv);
	}
}

static void on_event(struct cmd_thread *t, uint64_t tag, uint32_t events)
{
	struct cmd_server *sv = t->st->server;

	switch (tag) {
	case TAG_LISTEN: accept_all(t); break;
	case TAG_SIGNAL: on_signal(t); break;
	case TAG_LOOKUPS: cmd_lookups_on_wake(t->st->lookups); break;
	case TAG_TICK: on_tick(t); break;
	case TAG_LOG: cmd_log_batch_on_timer(sv->sets[t->set].log); break;
	case TAG_FACE_LOG: cmd_log_batch_on_timer(sv->face_log); break;
	case TAG_STOP: break;
	default: cmd_conns_event(t, sv->conns, tag, events); break;
	}
}

static void *thread_main(void *arg)
{
	struct cmd_thread *t = arg;
	struct cmd_state *st = t->st;

	self = t;
	cmd_log_batch_start(st->server->sets[t->set].log);
	while (!atomic_load(&st->stopping)) {
		struct epoll_event ev;
		int n;

		if (!take_turn(t)) {
			continue;
		}
		n = epoll_wait(st->server->epfds[t->set], &ev, 1, -1);
		end_turn(t);
		t->now_us = cmd_now_us();
		if (n < 0 && errno != EINTR) {
			cmd_log(LOG_ERR, "epoll_wait: %m");
			cmd_serve_stop(st);
			break;
		}
		cmd_state_refresh_gen(st, &t->gen, &t->gen_seq);
		if (n == 1) {
			on_event(t, ev.data.u64, ev.events);
		}
	}
	cmd_log_batch_stop();
	return NULL;
}

/* ---------------------------------------------------------------- set-up */

static int watch(int epfd, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = {.events = events, .data.u64 = tag};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void thread_init(struct cmd_state *st, struct cmd_thread *t)
{
	t->st = st;
	t->now_us = cmd_now_us();
	cmd_state_refresh_gen(st, &t->gen, &t->gen_seq);
}

static int server_watch_all(struct cmd_server *sv)
{
	struct cmd_state *st = sv->st;

	for (unsigned int i = 0; i < sv->n_sets; i++) {
		struct set *s = &sv->sets[i];
		int epfd = sv->epfds[i];

		if (watch(epfd, st->listen_fd, SERVICE_EVENTS, TAG_LISTEN) != 0 ||
		    watch(epfd, st->signal_fd, SERVICE_EVENTS, TAG_SIGNAL) != 0 ||
		    watch(epfd, cmd_lookups_fd(st->lookups), SERVICE_EVENTS, TAG_LOOKUPS) != 0 ||
		    watch(epfd, sv->tick_fd, SERVICE_EVENTS, TAG_TICK) != 0 ||
		    (sv->face_log != NULL &&
		     watch(epfd, cmd_log_batch_fd(sv->face_log), SERVICE_EVENTS, TAG_FACE_LOG) !=
			 0) ||
		    /* Never read: level-triggered, it wakes every thread in turn. */
		    watch(epfd, sv->stop_fd, EPOLLIN, TAG_STOP) != 0 ||
		    (s->log != NULL &&
		     watch(epfd, cmd_log_batch_fd(s->log), EPOLLIN | EPOLLET, TAG_LOG) != 0)) {
			return -1;
		}
	}
	return 0;
}

/* The sets, and 1 + workers threads for each: the lookups at once are at
 * most workers in all, so each set keeps a thread for its other clients. */
static int make_sets(struct cmd_server *sv, unsigned int loops, unsigned int workers)
{
	struct cmd_state *st = sv->st;
	unsigned int per_set = 1 + workers, n = loops * per_set;

	if ((sv->sets = calloc(loops, sizeof(*sv->sets))) == NULL ||
	    (sv->epfds = calloc(loops, sizeof(*sv->epfds))) == NULL ||
	    (sv->threads = calloc(n, sizeof(*sv->threads))) == NULL ||
	    (st->stats = calloc(n + 1 + CMD_EXTRA_STATS, sizeof(*st->stats))) == NULL) {
		return -1;
	}
	for (; sv->n_sets < loops; sv->n_sets++) {
		struct set *s = &sv->sets[sv->n_sets];

		pthread_mutex_init(&s->lock, NULL);
		s->log = cmd_log_batch_new();
		if ((sv->epfds[sv->n_sets] = epoll_create1(EPOLL_CLOEXEC)) < 0) {
			sv->n_sets++;
			return -1;
		}
	}
	for (; sv->n < n; sv->n++) {
		struct cmd_thread *t = &sv->threads[sv->n];

		if (sem_init(&t->wake, 0, 0) != 0) {
			return -1;
		}
		thread_init(st, t);
		t->set = sv->n / per_set;
		st->stats[sv->n] = &t->stats;
	}
	st->stats[n] = &sv->spare_ctx.stats;
	st->n_stats = n + 1;
	return 0;
}

int cmd_serve_new(struct cmd_state *st, unsigned int loops, unsigned int workers)
{
	struct cmd_server *sv = calloc(1, sizeof(*sv));

	if (sv == NULL) {
		return -1;
	}
	st->server = sv;
	sv->st = st;
	sv->spare_fd = -1;
	sv->stop_fd = sv->tick_fd = -1;
	pthread_mutex_init(&sv->accept_lock, NULL);
	/* Its configuration is taken when it is used (conns.c). */
	sv->spare_ctx.st = st;
	if (make_sets(sv, loops, workers) != 0 ||
	    (st->lookups = cmd_lookups_new(workers, blocking_starts, blocking_ends)) == NULL) {
		cmd_log(LOG_ERR, "cannot set up the serving threads: %m");
		return -1;
	}
	sv->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	sv->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	sv->face_log = cmd_log_batch_new();
	/* Without a spare the service still works; it is opened again when
	 * accepting resumes after a shortage. */
	sv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (sv->stop_fd < 0 || sv->tick_fd < 0 ||
	    (sv->conns = cmd_conns_new(st, sv->epfds, sv->n_sets, conn_closed)) == NULL ||
	    server_watch_all(sv) != 0) {
		cmd_log(LOG_ERR, "cannot set up the serving threads: %m");
		return -1;
	}
	return 0;
}

void cmd_serve_stop(struct cmd_state *st)
{
	uint64_t one = 1;

	atomic_store(&st->stopping, true);
	if (st->server == NULL) {
		return;
	}
	if (st->server->stop_fd >= 0 && write(st->server->stop_fd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN) {
		cmd_log(LOG_ERR, "cannot stop the serving threads: %m");
	}
	wake_followers(st->server);
	/* Waiting lookups never run now: they answer "the service is
	 * stopping" here, and any submitted later at once. */
	cmd_lookups_stop(st->lookups);
}

int cmd_serve_run(struct cmd_state *st)
{
	struct cmd_server *sv = st->server;
	unsigned int started = 1;
	int rc = 0;

	for (; started < sv->n; started++) {
		if (pthread_create(&sv->threads[started].tid, NULL, thread_main,
				   &sv->threads[started]) != 0) {
			cmd_log(LOG_ERR, "cannot start serving thread %u", started);
			cmd_serve_stop(st);
			rc = -1;
			break;
		}
	}
	/* Thread 0 is this one. */
	if (rc == 0) {
		thread_main(&sv->threads[0]);
	}
	cmd_serve_stop(st);
	for (unsigned int i = 1; i < started; i++) {
		pthread_join(sv->threads[i].tid, NULL);
	}
	self = NULL;
	return rc;
}

static void close_fd(int fd)
{
	if (fd >= 0) {
		close(fd);
	}
}

/* After cmd_serve_run, the HTTP and D-Bus faces quiesced: lookups that
 * never ran come back, then every connection closes. */
void cmd_serve_free(struct cmd_state *st)
{
	struct cmd_server *sv = st->server;

	if (sv == NULL) {
		return;
	}
	cmd_lookups_stop(st->lookups);
	cmd_conns_free(&sv->spare_ctx, sv->conns);
	cmd_lookups_free(st->lookups);
	st->lookups = NULL;
	for (unsigned int i = 0; i < sv->n; i++) {
		cmd_gen_unref(sv->threads[i].gen);
		sem_destroy(&sv->threads[i].wake);
	}
	cmd_gen_unref(sv->spare_ctx.gen);
	for (unsigned int i = 0; i < sv->n_sets; i++) {
		close_fd(sv->epfds[i]);
		pthread_mutex_destroy(&sv->sets[i].lock);
		cmd_log_batch_free(sv->sets[i].log);
	}
	free(sv->sets);
	free(sv->epfds);
	/* After the HTTP threads ended (cmd_http_free): what they left goes now. */
	cmd_log_batch_free(sv->face_log);
	close_fd(sv->stop_fd);
	close_fd(sv->tick_fd);
	close_fd(sv->spare_fd);
	pthread_mutex_destroy(&sv->accept_lock);
	free(sv->threads);
	free(sv);
	free(st->stats);
	st->server = NULL;
	st->stats = NULL;
	st->n_stats = 0;
	cmd_limits_free();
}
