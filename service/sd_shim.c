/*
 * The only place that knows whether libsystemd is there: socket
 * activation and readiness notification. Without it, certmapd binds its
 * own socket and notifies nobody.
 */
#include "config.h"

#include "daemon.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

int cmd_listen_fds(void)
{
	return sd_listen_fds(1);
}

void cmd_notify(const char *state)
{
	(void)sd_notify(0, state);
}

#else

int cmd_listen_fds(void)
{
	return 0;
}

void cmd_notify(const char *state)
{
	(void)state;
}

#endif
