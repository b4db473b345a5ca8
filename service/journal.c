/*
 * certmapd's journal writer: journald's native protocol
 * (systemd.io/JOURNAL_NATIVE_PROTOCOL) on one connected datagram socket.
 * sd_journal_sendv names journald's socket in every sendmsg, so the kernel
 * looks its path up again for each entry, and it builds the datagram
 * through an iovec array of its own; certmapd sends a decision record per
 * answer, thousands a second. Here an entry is put together in a buffer
 * and sent on a socket connected once (reconnected after journald
 * restarts, at most every JOURNAL_RETRY_MS). An entry that does not fit
 * the buffer or a datagram, a value with a newline, and every entry while
 * the socket cannot be connected go through sd_journal_sendv, which
 * handles them all (the binary field form, a memfd for large entries).
 *
 * pam_certmap.so keeps sd_journal_sendv (mapper/audit.c's default): a
 * module must not leave a socket behind in the process that unloads it.
 */
#include "config.h"

#ifdef HAVE_SYSTEMD

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "audit.h"
#include "daemon.h"

#define JOURNAL_PATH "/run/systemd/journal/socket"
#define JOURNAL_RETRY_MS 250
#define ENTRY_MAX 16384
/* What sd-journal asks for too: a burst of entries while journald is busy
 * waits in the buffer, not in the sender. */
#define SNDBUF (8 * 1024 * 1024)

static int jfd = -1;
static atomic_bool connected;
static _Atomic int64_t next_try_ms;
static pthread_mutex_t connect_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t socket_once = PTHREAD_ONCE_INIT;

static void make_socket(void)
{
	int sz = SNDBUF;

	jfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (jfd >= 0 && setsockopt(jfd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) != 0) {
		(void)setsockopt(jfd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
}

/* Whether the socket is connected now; tries at most every JOURNAL_RETRY_MS.
 * The socket is never closed, so no thread sends on a reused descriptor;
 * connect() on a datagram socket only points it at the new listener. */
static bool journal_connect(void)
{
	static const struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = JOURNAL_PATH};
	int64_t now = (int64_t)cmd_now_ms();

	pthread_once(&socket_once, make_socket);
	if (jfd < 0 || now < atomic_load(&next_try_ms)) {
		return false;
	}
	pthread_mutex_lock(&connect_lock);
	if (!atomic_load(&connected) && now >= atomic_load(&next_try_ms)) {
		if (connect(jfd, (const struct sockaddr *)&addr, sizeof(addr)) == 0) {
			atomic_store(&connected, true);
		} else {
			atomic_store(&next_try_ms, now + JOURNAL_RETRY_MS);
		}
	}
	pthread_mutex_unlock(&connect_lock);
	return atomic_load(&connected);
}

static bool put(char *buf, size_t *off, const void *data, size_t len)
{
	if (len > ENTRY_MAX - *off) {
		return false;
	}
	memcpy(buf + *off, data, len);
	*off += len;
	return true;
}

/* One "KEY=value" field, when its value has no newline (a record's never
 * has: its values are escaped); false sends the entry through
 * sd_journal_sendv, which writes such a value in the binary form. */
static bool put_field(char *buf, size_t *off, const struct iovec *f)
{
	const char *s = f->iov_base, *eq = memchr(s, '=', f->iov_len);

	if (eq == NULL || memchr(eq + 1, '\n', f->iov_len - (size_t)(eq + 1 - s)) != NULL) {
		return false;
	}
	return put(buf, off, s, f->iov_len) && put(buf, off, "\n", 1);
}

static int send_entry(const char *buf, size_t len)
{
	if (!atomic_load(&connected) && !journal_connect()) {
		return -1;
	}
	while (send(jfd, buf, len, MSG_NOSIGNAL) < 0) {
		if (errno == EINTR) {
			continue;
		}
		if (errno == ECONNREFUSED || errno == ENOTCONN || errno == ENOENT ||
		    errno == ECONNRESET) {
			/* journald restarted: its socket is a new one. */
			atomic_store(&connected, false);
		}
		return -1;
	}
	return 0;
}

/* The cm_audit_journal_fn certmapd gives mapper/audit.c. */
static int journal_sendv(const struct iovec *fields, size_t n)
{
	char buf[ENTRY_MAX];
	size_t off = 0, i;

	for (i = 0; i < n && put_field(buf, &off, &fields[i]); i++) {
	}
	if (i == n && send_entry(buf, off) == 0) {
		return 0;
	}
	return sd_journal_sendv(fields, (int)n) >= 0 ? 0 : -1;
}

void cmd_journal_use(void)
{
	cm_audit_set_journal(journal_sendv);
}

#else

void cmd_journal_use(void)
{
}

#endif
