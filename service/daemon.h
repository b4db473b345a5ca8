/*
 * certmapd internals. The parts depend on each other in one direction:
 *
 *   main.c      start-up, privileges, the listening socket
 *   loops.c     the set of event loops: accepting (peer credentials,
 *               limits, spare descriptors), balancing, signals
 *   loop.c      one event loop: its connections, framing, timeouts and
 *               mailbox; hands each frame to dispatch
 *   dispatch.c  the methods: decodes a frame, answers it or hands a Map to
 *               the workers; the Map job itself
 *   workers.c   a plain thread pool: runs a job, calls its completion
 *   state.c     what every part shares: configuration generations,
 *               counters, the clock
 *
 * plus limits.c (connection counts), peer.c (who may connect), cache.c
 * (answers) and request.c (the wire codec); infopipe.c, the D-Bus face,
 * sits beside the loops and calls dispatch as they do. A lower part never calls a higher one: a finished job
 * comes back to its loop through the completion the loop registered.
 */
#ifndef CERTMAP_SERVICE_DAEMON_H
#define CERTMAP_SERVICE_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

#include "certmap.h"
#include "conf.h"
#include "request.h"
#include "util.h"

/*
 * log.c: syslog lines on /dev/log through one socket (journald reads it
 * too), and on stderr in the foreground. Each message is a whole
 * sentence in an administrator's words (what happened, to which peer or
 * file, and the setting or file to change), with no function names, so
 * that it can be searched for without the source.
 */
/* Before any line; again after fork() is harmless. */
void cmd_log_open(const char *ident, bool to_stderr);
/* After daemon(): the pid the log lines carry is the new process's. */
void cmd_log_forked(void);
void cmd_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One line as it is (no format). */
void cmd_log_line(int prio, const char *msg);
/*
 * An event loop's thread calls cmd_log_batch_start when it starts: from
 * then on its lines for standard error (NOTICE and below) wait in a buffer
 * of its own, written whole and in order with one write() when full, when
 * the oldest line is 2 ms old, or at cmd_log_batch_stop
 * (which the thread calls before it ends). Other threads write at once.
 */
void cmd_log_batch_start(void);
void cmd_log_batch_stop(void);
/* Writes this thread's buffer now (before a reload); nothing elsewhere. */
void cmd_log_flush(void);
/* Writes this thread's buffer if its oldest line is due at now_us
 * (cmd_now_us); returns the milliseconds until it will be (rounded up),
 * or -1 when nothing waits. A loop calls it before it sleeps, and sleeps
 * no longer than that. */
int cmd_log_flush_due(uint64_t now_us);
/* A datagram socket to a Unix path (syslog's, journald's), made once and
 * never closed (no thread can send on a reused descriptor), connected
 * when the listener answers and again after it restarts, a connect tried
 * at most four times a second while it does not. */
struct cmd_dgram {
	const char *path;
	int fd;
	atomic_bool connected;
	_Atomic int64_t next_try_ms;
	pthread_mutex_t lock;
};
#define CMD_DGRAM_INIT(p) { .path = (p), .fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER }
/* Makes the socket (sndbuf > 0: that send buffer) unless it exists, and
 * forgets any connection. */
void cmd_dgram_open(struct cmd_dgram *d, int sndbuf);
/* One datagram; 0 when it was sent. */
int cmd_dgram_send(struct cmd_dgram *d, const void *buf, size_t len);
/* journal.c: decision records go to journald on one connected socket.
 * At start (its socket's large send buffer needs the privileges). */
void cmd_journal_use(void);

/* ---------------------------------------------------------------- state.c */

struct cm_cache;

/* One loaded configuration and the answers made under it. Loops and
 * workers hold a reference while they use it, so a reload never frees a
 * context in use; the cache dies with its rules. */
struct cmd_gen {
	struct certmap_ctx *ctx;
	const struct cm_config *cfg;
	struct cm_cache *cache;
	atomic_int refs;
};

/* cache_shards: one per event loop plus one (cache.h). */
struct cmd_gen *cmd_gen_load(const char *path, unsigned int cache_shards, char **errmsg);
struct cmd_gen *cmd_gen_ref(struct cmd_gen *g);
void cmd_gen_unref(struct cmd_gen *g);

/* Latency histogram bounds in microseconds; one more bucket holds the rest. */
#define CMD_LAT_BUCKETS 12
extern const unsigned int cmd_lat_bounds_us[CMD_LAT_BUCKETS];

/* Counters; an array so that GetStats can sum the loops' copies. */
enum cmd_counter {
	CMD_C_REQUESTS,
	CMD_C_HITS,
	CMD_C_MISSES,
	CMD_C_ERRORS, /* error replies */
	CMD_C_MAPPED,
	CMD_C_REFUSED,
	CMD_C_AMBIGUOUS,
	CMD_C_FAILED,	      /* Map verdicts */
	CMD_C_REJECTED_PEERS, /* connections refused by SO_PEERCRED or limits */
	CMD_C_TIMEOUTS,
	CMD_C_RELOADS,
	CMD_C_RELOAD_FAILURES,
	CMD_C_LATENCY_SUM_US, /* the latencies added up, for /metrics */
	CMD_C_LATENCY, /* CMD_LAT_BUCKETS + 1 buckets from here */
	CMD_C_COUNT = CMD_C_LATENCY + CMD_LAT_BUCKETS + 1
};

/* Each loop has its own copy, written by that loop's thread and by the
 * workers that answer its connections themselves (loop.c), and read by
 * GetStats on any loop: relaxed atomic adds, on a line the loop's own
 * thread mostly has. */
struct cmd_stats {
	_Atomic uint64_t c[CMD_C_COUNT];
};

static inline void cmd_stats_add(struct cmd_stats *s, enum cmd_counter i, uint64_t n)
{
	atomic_fetch_add_explicit(&s->c[i], n, memory_order_relaxed);
}

static inline uint64_t cmd_stats_get(const struct cmd_stats *s, enum cmd_counter i)
{
	return atomic_load_explicit(&s->c[i], memory_order_relaxed);
}

/* Records a finished request in the latency histogram. */
void cmd_stats_latency(struct cmd_stats *s, uint64_t us);
uint64_t cmd_now_ms(void);
uint64_t cmd_now_us(void);

/* Peer credentials, read once per connection. */
struct cmd_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool admin; /* may Reload and see traces */
};

struct cmd_workers;
struct cmd_loops;
struct cmd_http;

/* Counter blocks besides the loops' own: the HTTP listeners (http.c). */
#define CMD_EXTRA_STATS 2

/* The whole service. */
struct cmd_state {
	const char *config_path;
	pthread_mutex_t gen_lock; /* guards gen; loops copy it with a reference */
	struct cmd_gen *gen;
	atomic_uint gen_seq; /* bumped by each reload, so loops notice without the lock */
	struct cmd_workers *workers;
	struct cmd_stats **stats; /* one block per loop, summed by GetStats */
	unsigned int n_stats;
	struct cmd_loops *loops; /* loops.c's own */
	struct cmd_http *http;	 /* http.c's own, NULL without service.http */
	int listen_fd;
	int signal_fd; /* watched by loop 0 only */
	atomic_bool stopping;
	uint64_t started_ms;
	unsigned int cache_shards; /* of each generation's answer cache */
};

/* Replaces *g (a reference held by the caller, or NULL) with the current
 * generation if a reload happened since *seq; cheap when none did. */
void cmd_state_refresh_gen(struct cmd_state *st, struct cmd_gen **g, unsigned int *seq);
/* Reloads the configuration for every loop; keeps the old one on failure
 * (counted in stats, *errmsg says why). Returns 0 or -1. */
int cmd_reload(struct cmd_state *st, struct cmd_stats *stats, char **errmsg);
/* Sums every loop's counters into sum. */
void cmd_state_stats(struct cmd_state *st, struct cmd_stats *sum);

/* ---------------------------------------------------------------- workers.c */

/* A unit of work. run is called in a worker thread, then done (also in the
 * worker thread); a job never run because the pool stopped gets
 * done(work, false) from cmd_workers_stop. */
struct cmd_work {
	struct cmd_work *next;
	void (*run)(struct cmd_work *w);
	void (*done)(struct cmd_work *w, bool ran);
};

struct cmd_workers *cmd_workers_start(unsigned int n);
void cmd_workers_submit(struct cmd_workers *w, struct cmd_work *work);
/* Joins the threads; jobs never run get done(work, false). */
void cmd_workers_stop(struct cmd_workers *w);

/* ---------------------------------------------------------------- dispatch.c */

/* A Map that missed the cache, out with a worker. */
struct cmd_job;

/* What a loop lends dispatch for one frame. */
struct cmd_caller {
	struct cmd_state *st;
	struct cmd_gen *gen;	 /* the loop's current generation */
	struct cmd_stats *stats; /* the loop's counters */
	const struct cmd_peer *peer;
	/* The peer's socket, for its supplementary groups; -1 for a peer
	 * without credentials that its listener admitted (HTTP over TCP:
	 * loopback or the bearer token), which skips the peer check. */
	int fd;
	/* Set when the groups come from elsewhere (a D-Bus caller's, as the
	 * bus reports them): then fd is not asked. */
	bool groups_given;
	const gid_t *groups;
	size_t n_groups;
	/* Where a job goes when its worker is done, called in the worker's
	 * thread (or at shutdown): the loop's mailbox. */
	void (*post)(struct cmd_job *job, void *post_arg);
	void *post_arg;
	void *owner; /* given back by cmd_job_owner() */
	/* The answer-cache shard: loop i uses i + 1, everyone else 0. */
	unsigned int shard;
	/* When the frame was read (cmd_now_us), or 0 for now: a loop reads the
	 * clock once per wake-up, not once per use. */
	uint64_t now_us;
};

enum cmd_outcome {
	CMD_REPLIED,	   /* the reply (if any: oneway) is in out */
	CMD_REPLIED_CLOSE, /* an error is in out; close after sending it */
	CMD_PENDING,	   /* a job is out; the reply comes through post */
};

/* Decodes and answers one frame (len bytes, the NUL not included). */
enum cmd_outcome cmd_dispatch_frame(const struct cmd_caller *cl, const char *frame, size_t len,
				    struct cm_buf *out);
/* Counts the job, caches its answer and, if out is not NULL (the
 * connection is still open), appends its reply: in the owning loop's
 * thread, or in the worker's when it answers the connection itself. Once
 * per job: a second call does nothing. */
void cmd_job_finish(struct cmd_job *job, struct cmd_stats *stats, struct cm_buf *out);
void *cmd_job_owner(const struct cmd_job *job);
/* The link a mailbox may use while it holds a job posted to it. */
struct cmd_job **cmd_job_link(struct cmd_job *job);
void cmd_job_free(struct cmd_job *job);

/* ---------------------------------------------------------------- loop.c */

struct cmd_loop;

/* A descriptor of the caller's on a loop (the listener, the signalfd). */
struct cmd_watch {
	void (*fn)(struct cmd_loop *lp, void *arg, uint32_t events);
	void *arg;
};

struct cmd_loop *cmd_loop_new(struct cmd_state *st, unsigned int id);
/* After the loop stopped and the workers too: drains the mailbox, closes
 * every connection and frees the loop. */
void cmd_loop_free(struct cmd_loop *lp);
unsigned int cmd_loop_id(const struct cmd_loop *lp);
struct cmd_stats *cmd_loop_stats(struct cmd_loop *lp);
/* The loop's current configuration (valid until its next wake-up). */
struct cmd_gen *cmd_loop_gen(struct cmd_loop *lp);
/* Adds fd to the loop's epoll set; w must outlive the watch. Removes it
 * (EPOLLEXCLUSIVE watches cannot be modified, only removed and added).
 * Return 0 or -1. */
int cmd_loop_watch(struct cmd_loop *lp, int fd, uint32_t events, struct cmd_watch *w);
int cmd_loop_unwatch(struct cmd_loop *lp, int fd);
/* One timer per loop: fn(lp, arg) is called once at_ms has passed
 * (cmd_now_ms clock); at_ms 0 cancels. */
void cmd_loop_set_timer(struct cmd_loop *lp, uint64_t at_ms,
			void (*fn)(struct cmd_loop *lp, void *arg), void *arg);
/* fn(lp, arg) is called in the loop's thread after each connection closes. */
void cmd_loop_on_close(struct cmd_loop *lp, void (*fn)(struct cmd_loop *lp, void *arg), void *arg);
/* The loop's thread body; returns 0 once st->stopping is set, -1 on error. */
int cmd_loop_run(struct cmd_loop *lp);
/* Any thread: makes the loop look at st->stopping and its mailbox. */
void cmd_loop_wake(struct cmd_loop *lp);
/* Connections, read by other loops to pick the least busy. */
unsigned int cmd_loop_conns(struct cmd_loop *lp);
/* In lp's thread: takes a connection already counted in the limits. */
void cmd_loop_adopt(struct cmd_loop *lp, int fd, const struct cmd_peer *peer);
/* Any thread: gives a connection (counted in the limits) to lp through its
 * mailbox; false if it could not (fd is still the caller's). */
bool cmd_loop_hand_over(struct cmd_loop *lp, int fd, const struct cmd_peer *peer);

/* ---------------------------------------------------------------- loops.c */

/* Creates n loops on st->listen_fd (loop 0 also gets st->signal_fd). */
int cmd_loops_new(struct cmd_state *st, unsigned int n);
/* Runs loop 0 here and the others in threads, until SIGTERM. */
int cmd_loops_run(struct cmd_state *st);
void cmd_loops_stop(struct cmd_state *st);
/* After cmd_workers_stop: drains the mailboxes and frees everything. */
void cmd_loops_free(struct cmd_state *st);

/* ---------------------------------------------------------------- limits.c */

/* Connection counts, global and per uid, shared by the loops. */
bool cmd_limits_admit(uid_t uid, unsigned int max, unsigned int max_per_uid);
void cmd_limits_release(uid_t uid);
unsigned int cmd_limits_count(void);
void cmd_limits_free(void);

/* peer.c: whether a peer may connect (uid, primary gid, or a supplementary
 * group read from fd with SO_PEERGROUPS, in service.allowed_uids/gids). */
bool cmd_peer_allowed(const struct cm_service_conf *sc, const struct cmd_peer *p, int fd);
/* The same with the supplementary groups given (n of them). */
bool cmd_peer_allowed_groups(const struct cm_service_conf *sc, const struct cmd_peer *p,
			     const gid_t *groups, size_t n);
/* Counts a refused connection of uid: true when it may have its own log
 * line (at most a few per uid per minute), false when it is only counted
 * for a later "suppressed N" line. */
bool cmd_peer_refusal_logged(uid_t uid);
/* Logs the "suppressed N" lines that are due (all of them with force). */
void cmd_peer_log_summaries(bool force);

/* main.c: a listening Unix socket at path (mode 0666, its directory made
 * for user), or -1 (logged). */
int cmd_bind_socket(const char *path, const char *user);

/* http.c (http_off.c without libmicrohttpd): the HTTP forward-auth
 * listeners of service.http. Bound before privileges are dropped, started
 * after the loops; quiesced (no new Map) before the workers stop, freed
 * after. Each returns 0 or -1 (logged); nothing happens without
 * service.http. */
int cmd_http_bind(struct cmd_state *st);
int cmd_http_start(struct cmd_state *st);
void cmd_http_quiesce(struct cmd_state *st);
void cmd_http_free(struct cmd_state *st);

/* systemd shim (sd_shim.c): activated sockets and readiness. */
int cmd_listen_fds(void);
void cmd_notify(const char *state);

#endif
