/*
 * logsink: a test's own stand-in for journald and syslogd.
 *
 *   logsink OUT JOURNAL_SOCKET SYSLOG_SOCKET
 *
 * Binds two datagram sockets and appends what arrives to OUT, then exits
 * on SIGTERM. A journal datagram (sd_journal_send's native protocol:
 * KEY=VALUE lines, or KEY\n<64-bit little-endian length><data>\n for a
 * value with a newline) becomes one "KEY=VALUE" line per field (newlines
 * in a value shown as \n) and an "--" line after the entry; a syslog
 * datagram becomes one "SYSLOG <datagram>" line. OUT is flushed after
 * every datagram, and "ready" is printed on stdout once both sockets are
 * bound.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DGRAM_MAX (256 * 1024)

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int bind_dgram(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		return -1;
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror(path);
		return -1;
	}
	return fd;
}

static void put_value(FILE *out, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n') {
			fputs("\\n", out);
		} else {
			fputc(p[i], out);
		}
	}
	fputc('\n', out);
}

/* One native-protocol entry: fields are KEY=VALUE\n or KEY\n len64 data \n. */
static void journal_entry(FILE *out, const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const unsigned char *nl = memchr(p + i, '\n', len - i);
		const unsigned char *eq;
		size_t line = nl != NULL ? (size_t)(nl - (p + i)) : len - i;
		uint64_t n = 0;

		eq = memchr(p + i, '=', line);
		if (eq != NULL) {
			fwrite(p + i, 1, line, out);
			fputc('\n', out);
			i += line + 1;
			continue;
		}
		/* Binary form: the key, its newline, then the length. */
		if (nl == NULL || len - i - line - 1 < 8) {
			fputs("BAD-ENTRY\n", out);
			break;
		}
		fwrite(p + i, 1, line, out);
		fputc('=', out);
		i += line + 1;
		for (int b = 7; b >= 0; b--) {
			n = (n << 8) | p[i + (size_t)b];
		}
		i += 8;
		if (n > len - i) {
			fputs("BAD-LENGTH\n", out);
			break;
		}
		put_value(out, p + i, (size_t)n);
		i += (size_t)n + 1;
	}
	fputs("--\n", out);
}

int main(int argc, char **argv)
{
	static unsigned char buf[DGRAM_MAX];
	struct pollfd pfd[2];
	FILE *out;

	if (argc != 4) {
		fprintf(stderr, "usage: logsink OUT JOURNAL_SOCKET SYSLOG_SOCKET\n");
		return 2;
	}
	if ((out = fopen(argv[1], "a")) == NULL) {
		perror(argv[1]);
		return 2;
	}
	pfd[0].fd = bind_dgram(argv[2]);
	pfd[1].fd = bind_dgram(argv[3]);
	if (pfd[0].fd < 0 || pfd[1].fd < 0) {
		return 2;
	}
	pfd[0].events = pfd[1].events = POLLIN;
	signal(SIGTERM, on_term);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		if (poll(pfd, 2, 200) < 0) {
			if (errno == EINTR) {
				continue;
			}
			return 1;
		}
		for (int k = 0; k < 2; k++) {
			ssize_t n;

			if (!(pfd[k].revents & POLLIN)) {
				continue;
			}
			if ((n = recv(pfd[k].fd, buf, sizeof(buf), 0)) < 0) {
				continue;
			}
			if (k == 0) {
				journal_entry(out, buf, (size_t)n);
			} else {
				fputs("SYSLOG ", out);
				put_value(out, buf, (size_t)n);
			}
			fflush(out);
		}
	}
	fclose(out);
	return 0;
}
