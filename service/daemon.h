/*
 * certmapd internals. The parts depend on each other in one direction:
 *
 *   main.c      start-up, privileges, the listening socket
 *   serve.c     the serving threads: --loops epoll sets, each with
 *               threads taking turns; accepting (peer credentials,
 *               limits, the spare descriptor), signals, the tick
 *   conns.c     the connections: ownership, framing, timeouts; hands each
 *               frame to dispatch, in the thread that read it
 *   dispatch.c  the methods: decodes a frame, answers it or starts a Map's
 *               lookup; the Map job itself
 *   lookups.c   how many lookups run at once, and the queue of the others
 *   state.c     what every part shares: configuration generations,
 *               counters, the clock
 *
 * plus limits.c (connection counts), peer.c (who may connect), cache.c
 * (answers) and request.c (the wire codec); infopipe.c and http.c, the
 * D-Bus and HTTP faces, sit beside conns.c and call dispatch as it does.
 * A lower part never calls a higher one: a finished lookup comes back to
 * its connection through the completion the caller lent dispatch.
 */
#ifndef CERTMAP_SERVICE_DAEMON_H
#define CERTMAP_SERVICE_DAEMON_H

#include <pthread.h>
#include <semaphore.h>
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
 * A buffer for the lines of some threads (an epoll set's) for standard
 * error: a serving thread calls cmd_log_batch_start with its set's when
 * it starts, and from then on its lines (NOTICE and below) wait there,
 * written whole and in order with one write() when full, when the oldest
 * line is 2 ms old (the buffer's timer, cmd_log_batch_fd, fires then:
 * call cmd_log_batch_on_timer), or at cmd_log_batch_free. Other threads
 * write at once. cmd_log_batch_new returns NULL without standard error.
 */
struct cmd_log_batch;
struct cmd_log_batch *cmd_log_batch_new(void);
void cmd_log_batch_free(struct cmd_log_batch *b);
int cmd_log_batch_fd(const struct cmd_log_batch *b);
void cmd_log_batch_on_timer(struct cmd_log_batch *b);
void cmd_log_batch_start(struct cmd_log_batch *b);
/* Writes this thread's buffer; its lines go at once from now on. */
void cmd_log_batch_stop(void);
/* Writes this thread's buffer now (before a reload). */
void cmd_log_flush(void);
/* Writes this thread's buffer if its oldest line is due at now_us
 * (cmd_now_us); returns the milliseconds until it will be (rounded up;
 * the timer is set for then), or -1 when nothing waits. */
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

/* One loaded configuration and the answers made under it. Serving
 * threads and jobs hold a reference while they use it, so a reload never
 * frees a context in use; the cache dies with its rules. */
struct cmd_gen {
	struct certmap_ctx *ctx;
	const struct cm_config *cfg;
	struct cm_cache *cache;
	atomic_int refs;
};

/* cache_shards: --loops for the connections, plus one (cache.h). */
struct cmd_gen *cmd_gen_load(const char *path, unsigned int cache_shards, char **errmsg);
struct cmd_gen *cmd_gen_ref(struct cmd_gen *g);
void cmd_gen_unref(struct cmd_gen *g);

/* Latency histogram bounds in microseconds; one more bucket holds the rest. */
#define CMD_LAT_BUCKETS 12
extern const unsigned int cmd_lat_bounds_us[CMD_LAT_BUCKETS];

/* Counters; an array so that GetStats can sum the threads' copies. */
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

/* Each serving thread has its own copy, written by that thread and
 * read by GetStats on any: relaxed atomic adds, on a line the thread
 * mostly has to itself. */
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

struct cmd_lookups;
struct cmd_server;
struct cmd_http;

/* Counter blocks besides the serving threads' own: the HTTP listeners (http.c). */
#define CMD_EXTRA_STATS 2

/* The whole service. */
struct cmd_state {
	const char *config_path;
	pthread_mutex_t gen_lock; /* guards gen; threads copy it with a reference */
	struct cmd_gen *gen;
	atomic_uint gen_seq; /* bumped by each reload, so threads notice without the lock */
	struct cmd_lookups *lookups;
	struct cmd_stats **stats; /* one block per thread, summed by GetStats */
	unsigned int n_stats;
	struct cmd_server *server; /* serve.c's own */
	struct cmd_http *http;	 /* http.c's own, NULL without service.http */
	int listen_fd;
	int signal_fd; /* on the serving threads' epoll set */
	atomic_bool stopping;
	uint64_t started_ms;
	unsigned int cache_shards; /* of each generation's answer cache */
};

/* Replaces *g (a reference held by the caller, or NULL) with the current
 * generation if a reload happened since *seq; cheap when none did. */
void cmd_state_refresh_gen(struct cmd_state *st, struct cmd_gen **g, unsigned int *seq);
/* Reloads the configuration for every thread; keeps the old one on failure
 * (counted in stats, *errmsg says why). Returns 0 or -1. */
int cmd_reload(struct cmd_state *st, struct cmd_stats *stats, char **errmsg);
/* Sums every thread's counters into sum. */
void cmd_state_stats(struct cmd_state *st, struct cmd_stats *sum);

/* ---------------------------------------------------------------- lookups.c */

/* A Map's lookup. run, then done, are called in a serving thread; a job
 * never run because the service stops gets done(work, false), in the
 * thread that stops it or that submits it. */
struct cmd_work {
	struct cmd_work *next;
	void (*run)(struct cmd_work *w);
	void (*done)(struct cmd_work *w, bool ran);
};

/* At most max lookups at once; before_run and after_run (if not NULL) are
 * called in the thread that runs one, around it. */
struct cmd_lookups *cmd_lookups_new(unsigned int max, void (*before_run)(void),
				    void (*after_run)(void));
/* Around a lookup, and other work that may block its thread for long (a
 * reload): the hooks, so that another thread of the set waits for events
 * meanwhile. Takes no turn. */
void cmd_lookups_blocking(struct cmd_lookups *l, bool starts);
/* The eventfd serve.c watches: a job waits and a turn is free. */
int cmd_lookups_fd(const struct cmd_lookups *l);
/* Runs w now, in this thread, when here is true (a serving thread), no
 * job waits and a turn is free; else queues it for a serving thread. */
void cmd_lookups_submit(struct cmd_lookups *l, struct cmd_work *w, bool here);
/* In a serving thread, on the eventfd: runs waiting jobs while turns are free. */
void cmd_lookups_on_wake(struct cmd_lookups *l);
/* No job runs from now on: those waiting, and any submitted later, get
 * done(work, false) in the caller's thread. */
void cmd_lookups_stop(struct cmd_lookups *l);
void cmd_lookups_free(struct cmd_lookups *l);

/* ---------------------------------------------------------------- dispatch.c */

/* A Map that missed the cache: its lookup. */
struct cmd_job;

/* What a caller (a serving thread, HTTP, D-Bus) lends dispatch for one frame. */
struct cmd_caller {
	struct cmd_state *st;
	struct cmd_gen *gen;	 /* the caller's current generation */
	struct cmd_stats *stats; /* the caller's counters */
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
	/* Where a job goes when its lookup is done, called in the thread
	 * that ran it (or in the stopping one, for a job never run). */
	void (*post)(struct cmd_job *job, void *post_arg);
	void *post_arg;
	void *owner; /* given back by cmd_job_owner() */
	/* The answer-cache shard: 1 to --loops for connections, 0 for the rest. */
	unsigned int shard;
	/* When the frame was read (cmd_now_us), or 0 for now: a serving
	 * thread reads the clock once per wake-up, not once per use. */
	uint64_t now_us;
	/* The caller may block: the lookup runs in its thread when a turn is
	 * free (serving threads; HTTP and D-Bus must not block). */
	bool run_here;
};

enum cmd_outcome {
	CMD_REPLIED,	   /* the reply (if any: oneway) is in out */
	CMD_REPLIED_CLOSE, /* an error is in out; close after sending it */
	CMD_PENDING,	   /* a job is out (or done: post was called already) */
};

/* Decodes and answers one frame (len bytes, the NUL not included). */
enum cmd_outcome cmd_dispatch_frame(const struct cmd_caller *cl, const char *frame, size_t len,
				    struct cm_buf *out);
/* Counts the job, caches its answer and, if out is not NULL (the
 * connection is still open), appends its reply, in whichever thread
 * serves the connection. Once per job: a second call does nothing. */
void cmd_job_finish(struct cmd_job *job, struct cmd_stats *stats, struct cm_buf *out);
void *cmd_job_owner(const struct cmd_job *job);
/* The link a mailbox may use while it holds a job posted to it (D-Bus). */
struct cmd_job **cmd_job_link(struct cmd_job *job);
void cmd_job_free(struct cmd_job *job);

/* ---------------------------------------------------------------- serve.c */

/* A serving thread's own: what the connections it serves use. */
struct cmd_thread {
	struct cmd_state *st;
	/* serve.c's: the set it serves, and its turn at waiting on it */
	unsigned int set;
	sem_t wake;
	struct cmd_thread *next_idle;
	pthread_t tid;
	struct cmd_stats stats;
	struct cmd_gen *gen; /* its reference to the configuration */
	unsigned int gen_seq;
	uint64_t now_us; /* cmd_now_us() when epoll_wait last returned */
};

/* The calling serving thread's; on any other thread (a completion at
 * stop), one kept for that. */
struct cmd_thread *cmd_thread_current(struct cmd_state *st);
/* loops epoll sets, each with 1 + workers threads, on st->listen_fd and
 * st->signal_fd; makes st->lookups (workers turns). */
int cmd_serve_new(struct cmd_state *st, unsigned int loops, unsigned int workers);
/* Runs thread 0 here and the others in threads, until SIGTERM. */
int cmd_serve_run(struct cmd_state *st);
/* Any thread: every serving thread ends after what it is doing. */
void cmd_serve_stop(struct cmd_state *st);
/* The buffer for the HTTP threads' lines for standard error (NULL
 * without): cmd_log_batch_start it in each; serve.c watches its timer. */
struct cmd_log_batch *cmd_serve_face_log(struct cmd_state *st);
/* After cmd_serve_run and the other faces ended: lookups that never
 * ran come back, every connection closes, everything is freed. */
void cmd_serve_free(struct cmd_state *st);

/* ---------------------------------------------------------------- conns.c */

struct cmd_conns;

/* Connections go to the n_sets epoll sets (set i uses answer-cache shard
 * i + 1); on_close is called after each close, in the closing thread. */
struct cmd_conns *cmd_conns_new(struct cmd_state *st, const int *epfds, unsigned int n_sets,
				void (*on_close)(struct cmd_thread *t));
/* Takes an accepted connection, already counted in the limits. */
void cmd_conns_add(struct cmd_thread *t, struct cmd_conns *cs, int fd,
		   const struct cmd_peer *peer);
/* An epoll event of a connection (its tag, as conns.c set it). */
void cmd_conns_event(struct cmd_thread *t, struct cmd_conns *cs, uint64_t tag, uint32_t events);
/* Closes idle connections past their deadline; returns how many are open. */
unsigned int cmd_conns_expire(struct cmd_thread *t, struct cmd_conns *cs);
unsigned int cmd_conns_open(struct cmd_conns *cs);
/* When no thread serves any more: closes every connection. */
void cmd_conns_free(struct cmd_thread *t, struct cmd_conns *cs);

/* ---------------------------------------------------------------- limits.c */

/* Connection counts, global and per uid, shared by the serving threads. */
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
 * after the serving threads; quiesced (no new Map) before the lookups
 * stop, freed after. Each returns 0 or -1 (logged); nothing happens without
 * service.http. */
int cmd_http_bind(struct cmd_state *st);
int cmd_http_start(struct cmd_state *st);
void cmd_http_quiesce(struct cmd_state *st);
void cmd_http_free(struct cmd_state *st);

/* systemd shim (sd_shim.c): activated sockets and readiness. */
int cmd_listen_fds(void);
void cmd_notify(const char *state);

#endif
