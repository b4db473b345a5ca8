/*
 * certmapd's syslog writer. glibc's syslog() tries to connect to /dev/log
 * again for every line while the socket is not there (socket, connect,
 * close: a third of a cached answer's cost). Here one datagram socket is
 * made once and connected when /dev/log answers; while it does not, a
 * new connect is tried at most every LOG_RETRY_MS, so a syslog daemon
 * that starts (or restarts) later is found without a cost per line. The
 * socket is never closed while the daemon runs, so no thread can send on
 * a descriptor another one has reused; connect() on a datagram socket
 * just points it at the new listener. The line format is glibc's.
 *
 * Standard error (certmapd -f, a regular file in containers) costs a
 * write() per line, and several threads writing queue on the file's inode
 * lock. So the threads of each of serve.c's epoll sets put their lines in
 * the set's buffer (cmd_log_batch_start), in the order they come, written
 * with one write() when the next does not fit, when the oldest is
 * LOG_BATCH_US old (the buffer's timer, which the set's epoll watches,
 * says when: no thread has to stay awake for it, and a thread in a lookup
 * holds nothing back), or when the service stops. A connection stays in
 * its set, so its records keep the order of its requests, whichever thread
 * served each (but for a Map that waited for a lookup turn: the thread
 * that ran it may be another set's). A buffer per set, not one for all:
 * the sets' threads would queue on one buffer's lock. Warnings and worse
 * go at once, after what is buffered. The HTTP threads share a buffer of
 * their own (serve.c's); other threads write each line at once. Syslog
 * datagrams are never held back.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define LOG_RETRY_MS 250
#define LOG_LINE_MAX 8192
/* The buffer for standard error when that is a regular file: one write()
 * for some fifty decision records. */
#define LOG_BATCH_FILE 16384
/* How long a line may wait in the buffer (µs). */
#define LOG_BATCH_US 2000

static struct cmd_dgram syslog_sock = CMD_DGRAM_INIT("/dev/log");
static char log_ident[64] = "certmapd";
static bool log_stderr;
/* "ident[pid]: ", made when the pid is known (getpid() is a system call:
 * cmd_log_forked after a fork), and copied into every line. */
static char log_prefix[96];
static size_t log_prefix_len;
/* A write() to a pipe or a socket is whole only up to PIPE_BUF bytes
 * (other threads and processes write there too): a batch is no larger. */
static size_t log_batch_size = LOG_BATCH_FILE;

/* The lines of one epoll set's threads that are not written yet. */
struct cmd_log_batch {
	pthread_mutex_t lock;
	char *data; /* NULL in a forked child */
	size_t len, cap;
	uint64_t oldest_us; /* cmd_now_us() when the first line of data came */
	int timer_fd;	    /* fires when the oldest line is due */
	struct cmd_log_batch *next;
};
/* Every batch, for a fork. */
static pthread_mutex_t batches_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cmd_log_batch *batches;
/* Where this thread's lines go; NULL: at once. */
static __thread struct cmd_log_batch *my_batch;

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* systemd connects standard error to the journal and says so in
 * JOURNAL_STREAM ("device:inode"): copying there would log every line twice. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (e == NULL || sscanf(e, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0) {
		return false;
	}
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static void make_prefix(void)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s[%d]: ", log_ident, (int)getpid());
	log_prefix_len = strlen(log_prefix);
}

/* Writes len bytes to standard error, the rest too after a short write
 * (a signal, a full pipe); gives up on an error, as a lost line must not
 * stop the service. */
static void stderr_write(const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, p, len);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Under the lock. */
static void batch_flush(struct cmd_log_batch *b)
{
	if (b->data != NULL && b->len > 0) {
		stderr_write(b->data, b->len);
		b->len = 0;
	}
}

/* Under the lock: the timer fires in us microseconds (0: never). */
static void batch_timer(struct cmd_log_batch *b, uint64_t us)
{
	struct itimerspec its = {.it_value = {.tv_sec = (time_t)(us / 1000000u),
					      .tv_nsec = (long)(us % 1000000u) * 1000L}};

	(void)timerfd_settime(b->timer_fd, 0, &its, NULL);
}

/* A fork: what is held is written once, by the parent; the child (which
 * has no serving threads) writes its lines at once. */
static void batch_before_fork(void)
{
	pthread_mutex_lock(&batches_lock);
	for (struct cmd_log_batch *b = batches; b != NULL; b = b->next) {
		pthread_mutex_lock(&b->lock);
		batch_flush(b);
	}
}

static void batch_after_fork(void)
{
	for (struct cmd_log_batch *b = batches; b != NULL; b = b->next) {
		pthread_mutex_unlock(&b->lock);
	}
	pthread_mutex_unlock(&batches_lock);
}

static void batch_in_child(void)
{
	for (struct cmd_log_batch *b = batches; b != NULL; b = b->next) {
		b->data = NULL;
		b->len = 0;
	}
	batch_after_fork();
	my_batch = NULL;
}

static void register_fork_handlers(void)
{
	(void)pthread_atfork(batch_before_fork, batch_after_fork, batch_in_child);
}

void cmd_log_open(const char *ident, bool to_stderr)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct stat st;

	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_stderr = to_stderr && !stderr_is_journal();
	log_batch_size =
	    fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode) ? LOG_BATCH_FILE : PIPE_BUF;
	make_prefix();
	cmd_dgram_open(&syslog_sock, 0);
	(void)pthread_once(&once, register_fork_handlers);
}

void cmd_log_forked(void)
{
	make_prefix();
}

void cmd_dgram_open(struct cmd_dgram *d, int sndbuf)
{
	if (d->fd < 0) {
		d->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		/* FORCE needs CAP_NET_ADMIN; without it, up to the system's limit. */
		if (d->fd >= 0 && sndbuf > 0 &&
		    setsockopt(d->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) != 0) {
			(void)setsockopt(d->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		}
	}
	atomic_store(&d->connected, false);
	atomic_store(&d->next_try_ms, 0);
}

/* Whether the socket is connected now: tries at most every LOG_RETRY_MS. */
static bool dgram_connect(struct cmd_dgram *d)
{
	int64_t now = mono_ms();
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (d->fd < 0 || now < atomic_load(&d->next_try_ms)) {
		return false;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->path);
	pthread_mutex_lock(&d->lock);
	if (!atomic_load(&d->connected) && now >= atomic_load(&d->next_try_ms)) {
		if (connect(d->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			atomic_store(&d->connected, true);
		} else {
			atomic_store(&d->next_try_ms, now + LOG_RETRY_MS);
		}
	}
	pthread_mutex_unlock(&d->lock);
	return atomic_load(&d->connected);
}

int cmd_dgram_send(struct cmd_dgram *d, const void *buf, size_t len)
{
	if (!atomic_load(&d->connected) && !dgram_connect(d)) {
		return -1;
	}
	if (send(d->fd, buf, len, MSG_NOSIGNAL) >= 0) {
		return 0;
	}
	if (errno == ECONNREFUSED || errno == ENOTCONN || errno == ENOENT ||
	    errno == ECONNRESET) {
		/* The listener went away (a restarted daemon): once more. */
		atomic_store(&d->connected, false);
		if (dgram_connect(d) && send(d->fd, buf, len, MSG_NOSIGNAL) >= 0) {
			return 0;
		}
	}
	return -1;
}

struct cmd_log_batch *cmd_log_batch_new(void)
{
	struct cmd_log_batch *b;

	if (!log_stderr || (b = calloc(1, sizeof(*b))) == NULL) {
		return NULL;
	}
	pthread_mutex_init(&b->lock, NULL);
	b->cap = log_batch_size;
	b->data = malloc(b->cap);
	b->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (b->data == NULL || b->timer_fd < 0) {
		/* Without them, lines are written at once: no harm. */
		cmd_log_batch_free(b);
		return NULL;
	}
	pthread_mutex_lock(&batches_lock);
	b->next = batches;
	batches = b;
	pthread_mutex_unlock(&batches_lock);
	return b;
}

void cmd_log_batch_free(struct cmd_log_batch *b)
{
	if (b == NULL) {
		return;
	}
	pthread_mutex_lock(&batches_lock);
	for (struct cmd_log_batch **p = &batches; *p != NULL; p = &(*p)->next) {
		if (*p == b) {
			*p = b->next;
			break;
		}
	}
	pthread_mutex_unlock(&batches_lock);
	batch_flush(b);
	if (b->timer_fd >= 0) {
		close(b->timer_fd);
	}
	pthread_mutex_destroy(&b->lock);
	free(b->data);
	free(b);
}

int cmd_log_batch_fd(const struct cmd_log_batch *b)
{
	return b->timer_fd;
}

void cmd_log_batch_start(struct cmd_log_batch *b)
{
	my_batch = b;
}

void cmd_log_batch_stop(void)
{
	cmd_log_flush();
	my_batch = NULL;
}

void cmd_log_flush(void)
{
	struct cmd_log_batch *b = my_batch;

	if (b != NULL) {
		pthread_mutex_lock(&b->lock);
		batch_flush(b);
		batch_timer(b, 0);
		pthread_mutex_unlock(&b->lock);
	}
}

/* Under the lock: writes the batch if its oldest line is due; else the
 * milliseconds until it will be, and the timer is set for then. */
static int batch_due(struct cmd_log_batch *b, uint64_t now)
{
	if (b->data == NULL || b->len == 0) {
		return -1;
	}
	if (now >= b->oldest_us + LOG_BATCH_US) {
		batch_flush(b);
		return -1;
	}
	batch_timer(b, b->oldest_us + LOG_BATCH_US - now);
	/* Rounded up: a caller that wakes up early would only sleep again. */
	return (int)((b->oldest_us + LOG_BATCH_US - now + 999) / 1000);
}

int cmd_log_flush_due(uint64_t now)
{
	struct cmd_log_batch *b = my_batch;
	int ms;

	if (b == NULL) {
		return -1;
	}
	pthread_mutex_lock(&b->lock);
	ms = batch_due(b, now);
	pthread_mutex_unlock(&b->lock);
	return ms;
}

void cmd_log_batch_on_timer(struct cmd_log_batch *b)
{
	uint64_t n;

	if (read(b->timer_fd, &n, sizeof(n)) < 0 && errno != EAGAIN) {
		return;
	}
	pthread_mutex_lock(&b->lock);
	(void)batch_due(b, cmd_now_us());
	pthread_mutex_unlock(&b->lock);
}

/* One line (newline included) for standard error: into this thread's
 * batch when it has one, else written now. */
static void stderr_line(int prio, const char *line, size_t len)
{
	struct cmd_log_batch *b = my_batch;

	if (b == NULL) {
		stderr_write(line, len);
		return;
	}
	pthread_mutex_lock(&b->lock);
	if (LOG_PRI(prio) <= LOG_WARNING || len > b->cap || b->data == NULL) {
		/* Not held back; what is held goes first, to keep the order. */
		batch_flush(b);
		stderr_write(line, len);
	} else {
		/* A line is never split: when it does not fit, the batch goes first. */
		if (len > b->cap - b->len) {
			batch_flush(b);
		}
		if (b->len == 0) {
			b->oldest_us = cmd_now_us();
			batch_timer(b, LOG_BATCH_US);
		}
		memcpy(b->data + b->len, line, len);
		b->len += len;
	}
	pthread_mutex_unlock(&b->lock);
}

void cmd_log_line(int prio, const char *msg)
{
	/* "<prio>time " changes once a second (or with the priority): each
	 * thread keeps its own, printed when it changes. */
	static __thread time_t stamp_time = -1;
	static __thread int stamp_prio = -1;
	static __thread char stamp[48];
	static __thread int stamp_len;
	char buf[LOG_LINE_MAX], when[32];
	struct tm tm;
	time_t now = time(NULL);
	size_t msg_len = strlen(msg), n;
	int head;

	if ((prio & LOG_FACMASK) == 0) {
		prio |= LOG_DAEMON;
	}
	if (now != stamp_time || prio != stamp_prio) {
		if (localtime_r(&now, &tm) == NULL ||
		    strftime(when, sizeof(when), "%h %e %T", &tm) == 0) {
			when[0] = '\0';
		}
		stamp_len = snprintf(stamp, sizeof(stamp), "<%d>%s ", prio, when);
		stamp_time = now;
		stamp_prio = prio;
	}
	head = stamp_len;
	if (head < 0 || (size_t)head + log_prefix_len >= sizeof(buf)) {
		return;
	}
	memcpy(buf, stamp, (size_t)head);
	/* Copied, not printed: the message is most of the line. */
	memcpy(buf + head, log_prefix, log_prefix_len);
	n = log_prefix_len;
	if (msg_len > sizeof(buf) - 1 - (size_t)head - n) {
		msg_len = sizeof(buf) - 1 - (size_t)head - n;
	}
	memcpy(buf + head + n, msg, msg_len);
	n += msg_len;
	/* The room for it was kept above; syslog gets the line without it. */
	buf[head + n] = '\n';
	if (log_stderr) {
		stderr_line(prio, buf + head, n + 1);
	}
	(void)cmd_dgram_send(&syslog_sock, buf, (size_t)head + n);
}

void cmd_log(int prio, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cmd_log_line(prio, msg);
}
