/* certmapd built without libmicrohttpd: service.http cannot be served. */
#include "config.h"

#include "daemon.h"

int cmd_http_bind(struct cmd_state *st)
{
	const struct cm_http_conf *hc = &st->gen->cfg->service.http;

	if (hc->socket != NULL || hc->listen != NULL) {
		cmd_log(LOG_ERR, "service.http is set, but this certmapd was built without "
			"libmicrohttpd (rebuild with libmicrohttpd-dev installed)");
		return -1;
	}
	return 0;
}

int cmd_http_start(struct cmd_state *st)
{
	(void)st;
	return 0;
}

void cmd_http_quiesce(struct cmd_state *st)
{
	(void)st;
}

void cmd_http_free(struct cmd_state *st)
{
	(void)st;
}
