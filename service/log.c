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
 * write() per line, and with several event loops the loops queue on the
 * file's inode lock. So an event loop's thread keeps its lines in a
 * buffer of its own (cmd_log_batch_start) and writes them with one
 * write() when the next does not fit, or when the oldest is LOG_BATCH_US
 * old (the loop asks cmd_log_flush_due before it sleeps), or when the loop
 * stops. Warnings and worse go at once, after what is buffered. Other
 * threads write each line at once. Syslog datagrams are never held back.
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
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define LOG_RETRY_MS 250
#define LOG_LINE_MAX 8192
/* A loop's buffer for standard error when that is a regular file: one
 * write() for some fifty decision records. */
#define LOG_BATCH_FILE 16384
/* How long a line may wait in a loop's buffer (µs): the loop wakes up
 * within a millisecond after, so a line is out 2 to 3 ms after it came. */
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

/* The lines an event loop's thread has not written yet; data is NULL on
 * every other thread. */
struct log_batch {
	char *data;
	size_t len, cap;
	uint64_t oldest_us; /* cmd_now_us() when the first line of data came */
};
static __thread struct log_batch log_batch;

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

static void batch_flush(struct log_batch *b)
{
	if (b->len > 0) {
		stderr_write(b->data, b->len);
		b->len = 0;
	}
}

/* The child of a fork has no loop to write its lines: at once, then. */
static void batch_in_child(void)
{
	log_batch.data = NULL;
	log_batch.len = 0;
}

/* A fork in a loop's thread: what it holds is written once, by the parent. */
static void register_fork_handlers(void)
{
	(void)pthread_atfork(cmd_log_flush, NULL, batch_in_child);
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

void cmd_log_batch_start(void)
{
	if (log_stderr && log_batch.data == NULL) {
		/* Without the memory, lines are written at once: no harm. */
		log_batch.data = malloc(log_batch_size);
		log_batch.len = 0;
		log_batch.cap = log_batch_size;
	}
}

void cmd_log_batch_stop(void)
{
	if (log_batch.data != NULL) {
		batch_flush(&log_batch);
		free(log_batch.data);
		log_batch.data = NULL;
	}
}

void cmd_log_flush(void)
{
	if (log_batch.data != NULL) {
		batch_flush(&log_batch);
	}
}

int cmd_log_flush_due(uint64_t now)
{
	struct log_batch *b = &log_batch;

	if (b->data == NULL || b->len == 0) {
		return -1;
	}
	if (now >= b->oldest_us + LOG_BATCH_US) {
		batch_flush(b);
		return -1;
	}
	/* Rounded up: a loop that wakes up early would only sleep again. */
	return (int)((b->oldest_us + LOG_BATCH_US - now + 999) / 1000);
}

/* One line (newline included) for standard error: into this thread's
 * batch when it has one, else written now. */
static void stderr_line(int prio, const char *line, size_t len)
{
	struct log_batch *b = &log_batch;

	if (b->data == NULL) {
		stderr_write(line, len);
		return;
	}
	if (LOG_PRI(prio) <= LOG_WARNING || len > b->cap) {
		/* Not held back; what is held goes first, to keep the order. */
		batch_flush(b);
		stderr_write(line, len);
		return;
	}
	/* A line is never split: when it does not fit, the batch goes first. */
	if (len > b->cap - b->len) {
		batch_flush(b);
	}
	if (b->len == 0) {
		b->oldest_us = cmd_now_us();
	}
	memcpy(b->data + b->len, line, len);
	b->len += len;
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
