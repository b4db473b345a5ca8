/* certmapd: start-up, privileges, sockets and shutdown. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "file.h"
#include "infopipe.h"
#include "x509_libctx.h"

#define DEFAULT_WORKERS 4
#define MAX_WORKERS 64
/* Event sets (serve.c): by default one per CPU, as a cached answer is CPU
 * work. Past 8, the shared cache locks and socket wake-ups gain little. */
#define DEFAULT_MAX_LOOPS 8
#define MAX_LOOPS 64

struct opts {
	const char *config;
	bool foreground;
	unsigned int workers;
	unsigned int loops;
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: certmapd [--config FILE] [--foreground] [--workers N] [--loops N]\n"
		   "  -c, --config FILE   configuration (default %s)\n"
		   "  -f, --foreground    stay in the foreground and log to stderr too\n"
		   "  -w, --workers N     account lookups at once (default %d, 1-%d)\n"
		   "  -l, --loops N       event sets, each with 1 + workers threads (default: online CPUs,\n"
		   "                      at most %d; 1-%d)\n"
		   "  -V, --version       print the version\n"
		   "  -h, --help          print this help\n",
		certmap_default_config(), DEFAULT_WORKERS, MAX_WORKERS, DEFAULT_MAX_LOOPS, MAX_LOOPS);
}

static unsigned int default_loops(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1) {
		return 1;
	}
	return n > DEFAULT_MAX_LOOPS ? DEFAULT_MAX_LOOPS : (unsigned int)n;
}

/* A count from 1 to max, or 0 if optarg is not one. */
static unsigned int parse_count(const char *arg, unsigned int max)
{
	char *end = NULL;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || n < 1 || n > max) {
		return 0;
	}
	return (unsigned int)n;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "workers", required_argument, NULL, 'w' },
		{ "loops", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->config = certmap_default_config();
	o->workers = DEFAULT_WORKERS;
	o->loops = default_loops();
	while ((c = getopt_long(argc, argv, "c:fw:l:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'f': o->foreground = true; break;
		case 'w':
			if ((o->workers = parse_count(optarg, MAX_WORKERS)) == 0) {
				fprintf(stderr, "certmapd: --workers must be 1 to %d\n", MAX_WORKERS);
				return -1;
			}
			break;
		case 'l':
			if ((o->loops = parse_count(optarg, MAX_LOOPS)) == 0) {
				fprintf(stderr, "certmapd: --loops must be 1 to %d\n", MAX_LOOPS);
				return -1;
			}
			break;
		case 'V': printf("certmapd %s\n", PACKAGE_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* A socket file left by a dead instance is removed; a live one is an error. */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat sb;
	int fd, rc;

	if (lstat(path, &sb) != 0) {
		return errno == ENOENT ? 0 : -1;
	}
	if (!S_ISSOCK(sb.st_mode)) {
		cmd_log(LOG_ERR, "%s exists and is not a socket", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		cmd_log(LOG_ERR, "another certmapd is serving %s", path);
		return -1;
	}
	return unlink(path);
}

/*
 * A directory certmapd creates while root, for a service.user it will
 * switch to, is given to that user. Removing the socket at stop needs
 * write access to its directory, which the service no longer has as
 * service.user if root owns the directory; the socket file itself may
 * stay root's. The service user gains nothing it did not have: it is the
 * service. The directory is opened without following links and checked
 * to be the one just made before it changes hands.
 */
static void give_dir(const char *dir, const char *user)
{
	struct passwd *pw;
	struct stat sb;
	int fd;

	if (geteuid() != 0 || strcmp(user, "root") == 0 || (pw = getpwnam(user)) == NULL ||
	    pw->pw_uid == 0) {
		return; /* a missing user is reported when privileges are dropped */
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_uid != 0 ||
	    fchown(fd, pw->pw_uid, pw->pw_gid) != 0) {
		cmd_log(LOG_WARNING, "cannot give the socket directory %s to service.user %s: %m; "
			"the socket will stay after certmapd stops", dir, user);
	}
	if (fd >= 0) {
		close(fd);
	}
}

static int make_dir(const char *path, const char *user)
{
	char *copy = strdup(path);
	const char *dir;
	int rc = -1;

	if (copy == NULL) {
		return -1;
	}
	dir = dirname(copy);
	if (mkdir(dir, 0755) == 0) {
		give_dir(dir, user);
		rc = 0;
	} else if (errno == EEXIST) {
		rc = 0;
	} else {
		cmd_log(LOG_ERR, "cannot create the socket directory %s: %m", dir);
	}
	free(copy);
	return rc;
}

/*
 * Creates the listening socket with mode 0666 under a umask, so there is
 * no moment with another mode. Who may talk to the service is decided by
 * SO_PEERCRED against service.allowed_uids/gids, not by the file mode.
 */
int cmd_bind_socket(const char *path, const char *user)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd = -1, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		cmd_log(LOG_ERR, "socket path %s is too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (make_dir(path, user) != 0 || clear_stale(path, &sa) != 0) {
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		cmd_log(LOG_ERR, "cannot create a Unix socket: %m");
		return -1;
	}
	old = umask(0111);
	rc = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0 || listen(fd, SOMAXCONN) != 0) {
		cmd_log(LOG_ERR, "cannot listen on %s: %m", path);
		close(fd);
		return -1;
	}
	return fd;
}

static int get_socket(const struct cm_service_conf *sc, bool *created)
{
	int n = cmd_listen_fds();

	*created = false;
	if (n < 0 || n > 1) {
		cmd_log(LOG_ERR, "systemd passed %d sockets; certmapd.socket must have exactly one "
			"ListenStream", n);
		return -1;
	}
	if (n == 1) {
		int fd = 3; /* SD_LISTEN_FDS_START */
		int fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
			cmd_log(LOG_ERR, "cannot use the socket passed by systemd: %m");
			return -1;
		}
		return fd;
	}
	*created = true;
	return cmd_bind_socket(sc->socket, sc->user);
}

/* After binding: become service.user ("root" keeps root). */
static int drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0) {
		return 0;
	}
	if (strcmp(user, "root") == 0) {
		cmd_log(LOG_WARNING, "service.user is root: keeping root privileges");
		return 0;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		cmd_log(LOG_ERR, "service.user %s does not exist", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		return 0;
	}
	if (initgroups(user, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		cmd_log(LOG_ERR, "cannot switch to service.user %s: %m", user);
		return -1;
	}
	if (setuid(0) != -1 || geteuid() != pw->pw_uid || getegid() != pw->pw_gid) {
		cmd_log(LOG_ERR, "root privileges were not dropped: stopping");
		return -1;
	}
	return 0;
}

/* One warning: the file, why, and a command that fixes it. */
static void warn_one(const char *user, const struct passwd *pw, const char *file,
		     const char *reason)
{
	struct group *gr = getgrgid(pw->pw_gid);
	struct stat sb;
	bool dir = stat(file, &sb) == 0 && S_ISDIR(sb.st_mode);
	char gid[16];

	snprintf(gid, sizeof(gid), "%u", (unsigned)pw->pw_gid);
	cmd_log(LOG_WARNING, "service.user %s (uid %u) cannot read %s (%s): every reload will "
		"fail once certmapd runs as %s; give it access, for example: chgrp %s %s && "
		"chmod %s %s, and g+x on each directory above it that %s cannot search",
		user, (unsigned)pw->pw_uid, file, reason != NULL ? reason : "no reason given", user,
		gr != NULL ? gr->gr_name : gid, file, dir ? "g+rx" : "g+r", file, user);
}

/*
 * Start-up reads the files as root, but every reload reads them again as
 * service.user: say now which of them it will not be able to read, rather
 * than at the first SIGHUP. The judgement (mode bits along each path) and
 * the list of files are the library's, shared with certmapctl check-config.
 */
static void warn_unreadable(const struct cm_config *cfg)
{
	const char *user = cfg->service.user;
	struct cm_strv files = { 0 };
	struct passwd pw, *res = NULL;
	char buf[4096];
	char *reason = NULL;

	if (geteuid() != 0 || strcmp(user, "root") == 0 ||
	    getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL || pw.pw_uid == 0 ||
	    cm_config_files(cfg, &files) != CERTMAP_OK) {
		goto out; /* a missing user is reported when privileges are dropped */
	}
	for (size_t i = 0; i < files.n; i++) {
		if (!cm_file_readable_by(pw.pw_uid, pw.pw_gid, files.v[i], &reason)) {
			warn_one(user, &pw, files.v[i], reason);
		}
		free(reason);
		reason = NULL;
	}
out:
	cm_strv_clear(&files);
}

/* After the switch: a socket whose directory service.user cannot write
 * outlives the service (the next start removes it). Said once, now. */
static void warn_socket_dir(const char *path)
{
	char *copy = strdup(path);

	if (copy != NULL && access(dirname(copy), W_OK | X_OK) != 0) {
		cmd_log(LOG_NOTICE, "%s will stay after certmapd stops: its directory is not "
			"writable by uid %u (the next start removes it); let certmapd create the "
			"directory, or give it to service.user", path, (unsigned)geteuid());
	}
	free(copy);
}

static int setup_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Blocked before the workers start, so only the signalfd sees them. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
		return -1;
	}
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int start(struct cmd_state *st, const struct opts *o, bool *created)
{
	const struct cm_service_conf *sc = &st->gen->cfg->service;

	warn_unreadable(st->gen->cfg);
	if (cmd_http_bind(st) != 0) {
		return -1;
	}
	if ((st->listen_fd = get_socket(sc, created)) < 0 || drop_privileges(sc->user) != 0) {
		return -1;
	}
	if (*created) {
		warn_socket_dir(sc->socket);
	}
	if (!o->foreground && daemon(0, 0) != 0) {
		cmd_log(LOG_ERR, "cannot detach: %m");
		return -1;
	}
	cmd_log_forked();
	if ((st->signal_fd = setup_signals()) < 0) {
		cmd_log(LOG_ERR, "cannot set up signal handling: %m");
		return -1;
	}
	if (cmd_serve_new(st, o->loops, o->workers) != 0 || cmd_http_start(st) != 0) {
		cmd_log(LOG_ERR, "cannot start: out of memory, threads or descriptors");
		return -1;
	}
	st->started_ms = cmd_now_ms();
	return 0;
}

int main(int argc, char **argv)
{
	struct cmd_state st = { .listen_fd = -1, .signal_fd = -1,
				.gen_lock = PTHREAD_MUTEX_INITIALIZER };
	struct opts o = { 0 };
	struct cmd_infopipe *ip = NULL;
	char *err = NULL, *socket_path = NULL;
	bool created = false;
	int rc = 1;

	if (parse_opts(argc, argv, &o) != 0) {
		return 2;
	}
	cmd_log_open("certmapd", o.foreground);
	/* Certificates never seen cost half as much to decode (x509_libctx.c). */
	cm_x509_libctx_enable();
	cmd_journal_use();
	st.config_path = o.config;
	st.cache_shards = o.loops + 1;
	if ((st.gen = cmd_gen_load(o.config, st.cache_shards, &err)) == NULL) {
		cmd_log(LOG_ERR, "cannot load %s: %s", o.config, err != NULL ? err : "unknown error");
		goto out;
	}
	if (start(&st, &o, &created) != 0) {
		goto out;
	}
	cmd_log(LOG_NOTICE, "certmapd %s serving %s as uid %u with %u threads, %u lookups at once",
		PACKAGE_VERSION, created ? st.gen->cfg->service.socket : "an activated socket",
		(unsigned)geteuid(), o.loops * (1 + o.workers), o.workers);
	/* A reload may name another socket; the one to remove is this one. */
	socket_path = created ? strdup(st.gen->cfg->service.socket) : NULL;
	/* service.infopipe is read at start only: a reload does not start or stop it. */
	if (st.gen->cfg->service.infopipe && (ip = cmd_infopipe_start(&st)) == NULL) {
		goto out;
	}
	cmd_notify("READY=1");
	rc = cmd_serve_run(&st) == 0 ? 0 : 1;
	cmd_infopipe_stop(ip);
	cmd_notify("STOPPING=1");
	if (socket_path != NULL && unlink(socket_path) != 0) {
		cmd_log(LOG_NOTICE, "cannot remove the socket %s: %m (the next start removes it)",
			socket_path);
	}
out:
	/* What the rate limit held back is said before the service goes. */
	cmd_peer_log_summaries(true);
	/* No new Map from HTTP; then the lookups that never ran come back to
	 * their connections and HTTP requests, before those go. */
	cmd_http_quiesce(&st);
	cmd_lookups_stop(st.lookups);
	cmd_infopipe_free(ip);
	cmd_http_free(&st);
	cmd_serve_free(&st);
	cmd_gen_unref(st.gen);
	if (st.listen_fd >= 0) {
		close(st.listen_fd);
	}
	if (st.signal_fd >= 0) {
		close(st.signal_fd);
	}
	free(err);
	free(socket_path);

	return rc;
}
