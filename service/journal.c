/*
 * certmapd's journal writer: journald's native protocol
 * (systemd.io/JOURNAL_NATIVE_PROTOCOL) on one connected datagram socket.
 * sd_journal_sendv names journald's socket in every sendmsg, so the kernel
 * looks its path up again for each entry, and it builds the datagram
 * through an iovec array of its own; certmapd sends a decision record per
 * answer, thousands a second. Here an entry is put together in a buffer
 * and sent on a socket connected once (log.c's cmd_dgram, reconnected
 * after journald restarts). An entry that does not fit
 * the buffer or a datagram, a value with a newline, and every entry while
 * the socket cannot be connected go through sd_journal_sendv, which
 * handles them all (the binary field form, a memfd for large entries).
 *
 * pam_certmap.so keeps sd_journal_sendv (mapper/audit.c's default): a
 * module must not leave a socket behind in the process that unloads it.
 */
#include "config.h"

#ifdef HAVE_SYSTEMD

#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "audit.h"
#include "daemon.h"

#define ENTRY_MAX 16384
/* What sd-journal asks for too: a burst of entries while journald is busy
 * waits in the buffer, not in the sender. */
#define SNDBUF (8 * 1024 * 1024)

static struct cmd_dgram journal_sock = CMD_DGRAM_INIT("/run/systemd/journal/socket");

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

/* The cm_audit_journal_fn certmapd gives mapper/audit.c. */
static int journal_sendv(const struct iovec *fields, size_t n)
{
	char buf[ENTRY_MAX];
	size_t off = 0, i;

	for (i = 0; i < n && put_field(buf, &off, &fields[i]); i++) {
	}
	if (i == n && cmd_dgram_send(&journal_sock, buf, off) == 0) {
		return 0;
	}
	return sd_journal_sendv(fields, (int)n) >= 0 ? 0 : -1;
}

void cmd_journal_use(void)
{
	cmd_dgram_open(&journal_sock, SNDBUF);
	cm_audit_set_journal(journal_sendv);
}

#else

void cmd_journal_use(void)
{
}

#endif
